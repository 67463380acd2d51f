/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil policy SUBCOMMAND: the access policy, offline.  `check` parses a
 * policy file against a vault's schema (or the default schema) and says
 * either "FILE: ok (N roles, digest D)" or the first error as
 * FILE:LINE:COLUMN.  Subcommands are rows of the table at the end of
 * this file.  The format is docs/POLICY.md; the library side is
 * include/vigil/policy.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vigil/policy.h"
#include "vigil/schema.h"
#include "vigil/vault.h"
#include "cli.h"

/*
 * The schema the policy's field names are checked against: the vault's
 * in dir, or the default schema when dir is NULL.  EXIT_OK or a status
 * (already reported).
 */
static int
load_schema(struct vg_cli *cli, const char *dir, struct vg_schema *s)
{
	struct vg_vault *v = NULL;
	int status;

	if (dir == NULL) {
		vg_schema_default(s);
		return EXIT_OK;
	}
	if ((status = cli_open(cli, dir, &v)) != EXIT_OK)
		return status;
	*s = *vg_vault_schema(v);
	vg_vault_close(v);
	return EXIT_OK;
}

static int
do_check(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct vg_policy *p = NULL;
	struct vg_schema schema;
	char err[VG_POLICY_ERR_MAX];
	const char *dir = NULL, *path;
	int c, rc, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one policy file");
	path = argv[optind];
	if ((status = load_schema(cli, dir, &schema)) != EXIT_OK)
		return status;
	rc = vg_policy_load(path, &schema, &p, err, sizeof(err));
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "%s",
		    err[0] != '\0' ? err : vg_strerror(rc));
	printf("%s: ok (%zu role%s, digest %s)\n", path, vg_policy_nroles(p),
	    vg_policy_nroles(p) == 1 ? "" : "s", vg_policy_digest(p));
	vg_policy_free(p);
	return EXIT_OK;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, struct vg_cli *cli);
} subs[] = {
	{ "check", do_check },
};

int
cmd_policy(int argc, char **argv, struct vg_cli *cli)
{
	size_t i;

	if (argc < 2)
		return cli_usage(cli, "expected a subcommand (check)");
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1, cli);
	return cli_usage(cli, "unknown subcommand '%s'", argv[1]);
}
