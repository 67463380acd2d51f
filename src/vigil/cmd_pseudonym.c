/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil pseudonym DIR --consumer NAME (cus_... | --resolve psn_...).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vigil/audit.h"
#include "vigil/vault.h"
#include "cli.h"

int
cmd_pseudonym(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "consumer", required_argument, NULL, 'c' },
		{ "resolve", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *consumer = NULL, *resolve = NULL;
	unsigned char id[VG_IDBYTES], psn[VG_PSNBYTES];
	char text[VG_PSN_STRLEN], purpose[80];
	struct vg_audit_entry e = { 0 };
	struct vg_audit *a = NULL;
	struct vg_vault *v;
	int status;
	int c, rc, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			consumer = optarg;
			break;
		case 'r':
			resolve = optarg;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (consumer == NULL)
		return cli_usage(cli, "--consumer is required");
	if (argc - optind < 1 || (resolve == NULL && argc - optind < 2) ||
	    (resolve != NULL && argc - optind != 1))
		return cli_usage(cli, "expected a vault directory and "
		    "customer ids, or --resolve");
	if (resolve != NULL && vg_psn_parse(psn, resolve) != 0)
		return cli_fail(cli, EXIT_USAGE, "the --resolve argument is "
		    "not a pseudonym (psn_ and 39 base32 characters)");
	if (!vg_consumer_name_ok(consumer))
		return cli_fail(cli, EXIT_USAGE, "consumer names are "
		    "[a-z0-9][a-z0-9_.-]{0,63}");
	snprintf(purpose, sizeof(purpose), "consumer:%s", consumer);
	rc = cli_open(cli, argv[optind], &v);
	if (rc != EXIT_OK)
		return rc;
	rc = cli_audit_open(cli, argv[optind], v, &a);
	if (rc != EXIT_OK) {
		vg_vault_close(v);
		return rc;
	}
	if (resolve != NULL) {
		rc = vg_vault_resolve(v, consumer, psn, id);
		e.action = "pseudonym.resolve";
		e.purpose = purpose;
		e.customer = rc == 0 ? id : NULL;
		e.decision = rc == 0 ? "allow" : "deny";
		e.reason = rc == 0 ? NULL : "not_this_consumer";
		status = cli_audit(cli, a, &e);
		status = cli_audit_close(cli, a, status);
		vg_vault_close(v);
		if (status != EXIT_OK)
			return status;
		if (rc != 0)
			return cli_fail(cli, EXIT_DATA, "not a pseudonym this "
			    "vault made for consumer '%s'", consumer);
		vg_id_format(text, id);
		printf("%s\n", text);
		return EXIT_OK;
	}
	for (i = optind + 1; i < argc && rc == 0; i++) {
		if (vg_id_parse(id, argv[i]) != 0) {
			rc = cli_fail(cli, EXIT_USAGE, "argument %d is not a "
			    "customer id (cus_ and 26 base32 characters)",
			    i - optind + 1);
			break;
		}
		rc = vg_vault_pseudonym(v, consumer, id, psn);
		memset(&e, 0, sizeof(e));
		e.action = "pseudonym";
		e.purpose = purpose;
		e.customer = id;
		e.decision = rc == 0 ? "allow" : rc == VG_ENOTFOUND ? "miss" :
		    "deny";
		e.reason = rc == 0 ? NULL : rc == VG_ENOTFOUND ?
		    "no_such_customer" : "failed";
		if (cli_audit(cli, a, &e) != EXIT_OK) {
			rc = EXIT_DATA;
			break;
		}
		if (rc == VG_ENOTFOUND) {
			rc = cli_fail(cli, EXIT_DATA, "no customer %s", argv[i]);
		} else if (rc != 0) {
			rc = cli_fail(cli, EXIT_DATA, "%s", vg_strerror(rc));
		} else {
			vg_psn_format(text, psn);
			printf("%s\n", text);
		}
	}
	rc = cli_audit_close(cli, a, rc);
	vg_vault_close(v);
	return rc;
}
