/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil stats DIR [--json]: counts, key epochs and sizes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "vigil/vault.h"
#include "cli.h"

int
cmd_stats(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct vg_vault_stats st;
	struct vg_vault *v;
	size_t i;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_optfail(cli, c, argv);
		cli->json = true;
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one vault directory");
	rc = cli_open(cli, argv[optind], &v);
	if (rc != EXIT_OK)
		return rc;
	rc = vg_vault_stats(v, &st);
	vg_vault_close(v);
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "cannot read statistics: %s",
		    vg_strerror(rc));
	if (cli->json) {
		json_t *o = json_object(), *ep = json_array();

		json_object_set_new(o, "customers",
		    json_integer((json_int_t)st.customers));
		json_object_set_new(o, "index_entries",
		    json_integer((json_int_t)st.index_entries));
		json_object_set_new(o, "db_bytes",
		    json_integer((json_int_t)st.db_bytes));
		json_object_set_new(o, "wal_bytes",
		    json_integer((json_int_t)st.wal_bytes));
		json_object_set_new(o, "current_epoch",
		    json_integer(st.current_epoch));
		json_object_set_new(o, "master_key_source",
		    json_string(st.key_source));
		for (i = 0; i < st.nepochs; i++) {
			json_t *e = json_object();

			json_object_set_new(e, "epoch",
			    json_integer(st.epoch[i].epoch));
			json_object_set_new(e, "state",
			    json_string(st.epoch[i].state));
			json_object_set_new(e, "customers", json_integer(
			    (json_int_t)st.epoch[i].customers));
			json_array_append_new(ep, e);
		}
		json_object_set_new(o, "key_epochs", ep);
		return cli_print_json(o);
	}
	printf("customers       %llu\n", (unsigned long long)st.customers);
	printf("index entries   %llu\n", (unsigned long long)st.index_entries);
	printf("database        %.1f MiB (+ %.1f MiB write-ahead log)\n",
	    (double)st.db_bytes / 1048576.0, (double)st.wal_bytes / 1048576.0);
	printf("master key      from %s\n", st.key_source);
	printf("current epoch   %u\n", st.current_epoch);
	printf("key epochs\n");
	for (i = 0; i < st.nepochs; i++)
		printf("  %-6u %-8s %llu customers\n", st.epoch[i].epoch,
		    st.epoch[i].state,
		    (unsigned long long)st.epoch[i].customers);
	return EXIT_OK;
}
