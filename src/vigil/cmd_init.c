/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil init DIR [--schema FILE]: create a vault.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/audit.h"
#include "vigil/vault.h"
#include "cli.h"

static int
read_schema(struct vg_cli *cli, const char *path, struct vg_schema *s)
{
	char text[VG_SCHEMA_TEXT_MAX + 1], err[160];
	size_t n;
	FILE *fp;

	fp = fopen(path, "r");
	if (fp == NULL)
		return cli_fail(cli, EXIT_DATA, "cannot open schema '%s'", path);
	n = fread(text, 1, sizeof(text), fp);
	if (ferror(fp)) {
		fclose(fp);
		return cli_fail(cli, EXIT_DATA, "cannot read schema '%s'", path);
	}
	fclose(fp);
	if (n > VG_SCHEMA_TEXT_MAX)
		return cli_fail(cli, EXIT_DATA, "%s: schema longer than %d "
		    "bytes", path, VG_SCHEMA_TEXT_MAX);
	if (vg_schema_parse(s, text, n, err, sizeof(err)) != 0)
		return cli_fail(cli, EXIT_DATA, "%s: %s", path, err);
	return EXIT_OK;
}

int
cmd_init(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "schema", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct vg_schema schema, *sp = NULL;
	const char *schema_path = NULL;
	char err[VG_ERRMSG_MAX] = "";
	struct vg_audit_entry e = { 0 };
	struct vg_audit *a = NULL;
	struct vg_vault *v;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			schema_path = optarg;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one vault directory");
	if (schema_path != NULL) {
		rc = read_schema(cli, schema_path, &schema);
		if (rc != EXIT_OK)
			return rc;
		sp = &schema;
	}
	rc = vg_vault_create(argv[optind], sp, err, sizeof(err));
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "%s",
		    err[0] != '\0' ? err : vg_strerror(rc));
	/* The audit chain starts with the vault. */
	rc = cli_open(cli, argv[optind], &v);
	if (rc != EXIT_OK)
		return rc;
	rc = cli_audit_open(cli, argv[optind], v, &a);
	if (rc == EXIT_OK) {
		e.action = "vault.init";
		e.decision = "allow";
		rc = cli_audit(cli, a, &e);
	}
	rc = cli_audit_close(cli, a, rc);
	vg_vault_close(v);
	if (rc != EXIT_OK)
		return rc;
	if (getenv(VG_MASTER_ENV) != NULL && *getenv(VG_MASTER_ENV) != '\0')
		printf("created vault %s (master key from %s; no key file "
		    "written)\n", argv[optind], VG_MASTER_ENV);
	else
		printf("created vault %s (master key in %s/master.key, mode "
		    "0600: back it up offline)\n", argv[optind], argv[optind]);
	printf("audit log in %s/audit; initial MAC key in "
	    "%s/audit-offline/cli.mac0: move it off this machine\n",
	    argv[optind], argv[optind]);
	return EXIT_OK;
}
