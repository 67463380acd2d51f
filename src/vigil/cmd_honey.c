/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil honey plant DIR --count N [--seed S] | vigil honey status DIR:
 * honeytoken records (include/vigil/honey.h).  A plant is audited on the
 * "cli" chain with the count only, before it commits, as an import is:
 * no honey id ever goes into an entry, a message or the output.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "vigil/audit.h"
#include "vigil/honey.h"
#include "vigil/vault.h"
#include "cli.h"

static int
do_plant(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long count = 0, seed = 0;
	struct vg_audit_entry e = { 0 };
	struct vg_audit *a = NULL;
	struct vg_vault *v = NULL;
	char err[VG_ERRMSG_MAX] = "", detail[48];
	const char *dir;
	size_t planted = 0;
	bool have_count = false;
	int c, rc, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_u64(optarg, &count) != 0 || count == 0 ||
			    count > VG_HONEY_MAX)
				return cli_usage(cli, "--count takes 1 to %d",
				    VG_HONEY_MAX);
			have_count = true;
			break;
		case 's':
			if (cli_parse_u64(optarg, &seed) != 0)
				return cli_usage(cli, "--seed takes an unsigned "
				    "64-bit integer");
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one vault directory");
	if (!have_count)
		return cli_usage(cli, "--count is required");
	dir = argv[optind];
	status = cli_open(cli, dir, &v);
	if (status != EXIT_OK)
		return status;
	status = cli_audit_open(cli, dir, v, &a);
	if (status != EXIT_OK) {
		vg_vault_close(v);
		return status;
	}
	/* The plant joins this transaction, so that its entry is durable
	 * before the honey records are: if it cannot be written, nothing
	 * is planted. */
	if ((rc = vg_vault_begin(v)) == 0)
		rc = vg_honey_plant(v, dir, (size_t)count, seed, &planted, err,
		    sizeof(err));
	else
		snprintf(err, sizeof(err), "cannot start a transaction: %s",
		    vg_strerror(rc));
	snprintf(detail, sizeof(detail), "count=%llu", count);
	e.action = "honey.plant";
	e.detail = detail;
	e.decision = rc == 0 ? "allow" : "deny";
	e.reason = rc == 0 ? NULL : rc == VG_EINVAL ? "refused" : "failed";
	if (rc != 0) {
		vg_vault_rollback(v);
		status = cli_audit(cli, a, &e);
		status = cli_audit_close(cli, a, status);
		vg_vault_close(v);
		if (status != EXIT_OK)
			return status;
		return cli_fail(cli, EXIT_DATA, "%s; nothing was planted",
		    err[0] != '\0' ? err : vg_strerror(rc));
	}
	if ((status = cli_audit(cli, a, &e)) != EXIT_OK) {
		vg_vault_rollback(v);
		fprintf(stderr, "vigil honey: nothing was planted\n");
	} else if ((rc = vg_vault_commit(v)) != 0) {
		e.decision = "deny";
		e.reason = "commit_failed";
		(void)cli_audit(cli, a, &e);
		status = cli_fail(cli, EXIT_DATA, "commit failed (%s); nothing "
		    "was planted", vg_strerror(rc));
	}
	/* The log holds the table as it was next to what it is now, which
	 * tells the honey records apart: empty it. */
	if (status == EXIT_OK && (rc = vg_vault_checkpoint(v)) != 0)
		fprintf(stderr, "vigil honey: warning: the write-ahead log "
		    "could not be emptied (%s); it still holds the pages from "
		    "before the plant until SQLite checkpoints it\n",
		    vg_strerror(rc));
	status = cli_audit_close(cli, a, status);
	vg_vault_close(v);
	if (status != EXIT_OK)
		return status;
	printf("planted %zu honey record%s\n", planted,
	    planted == 1 ? "" : "s");
	return EXIT_OK;
}

static int
do_status(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char (*ids)[VG_IDBYTES] = NULL;
	struct vg_vault *v = NULL;
	char err[VG_ERRMSG_MAX] = "";
	size_t n = 0;
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
	rc = vg_honey_load(v, argv[optind], &ids, &n, err, sizeof(err));
	vg_honey_free(ids);
	vg_vault_close(v);
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "%s",
		    err[0] != '\0' ? err : vg_strerror(rc));
	if (cli->json) {
		json_t *o = json_object();

		json_object_set_new(o, "honey_records",
		    json_integer((json_int_t)n));
		return cli_print_json(o);
	}
	printf("%zu honey record%s\n", n, n == 1 ? "" : "s");
	return EXIT_OK;
}

int
cmd_honey(int argc, char **argv, struct vg_cli *cli)
{
	const char *sub;

	if (argc < 2)
		return cli_usage(cli, "expected 'plant' or 'status'");
	sub = argv[1];
	if (strcmp(sub, "plant") == 0)
		return do_plant(argc - 1, argv + 1, cli);
	if (strcmp(sub, "status") == 0)
		return do_status(argc - 1, argv + 1, cli);
	return cli_usage(cli, "unknown subcommand '%s'", sub);
}
