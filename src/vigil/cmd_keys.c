/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil keys rotate DIR | vigil keys rewrap DIR [--batch N].
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vigil/audit.h"
#include "vigil/vault.h"
#include "cli.h"

static void
rewrap_progress(void *ctx, const struct vg_rewrap_stats *st)
{
	(void)ctx;
	fprintf(stderr, "\rrewrap: %llu scanned, %llu re-sealed",
	    (unsigned long long)st->scanned,
	    (unsigned long long)st->rewrapped);
}

int
cmd_keys(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "batch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long batch = 1000;
	struct vg_rewrap_stats st = { 0, 0, 0 };
	struct vg_audit_entry e = { 0 };
	struct vg_audit *a = NULL;
	struct vg_vault *v;
	char detail[96];
	int status;
	const char *sub;
	uint32_t epoch = 0;
	int c, rc;

	if (argc < 2)
		return cli_usage(cli, "expected 'rotate' or 'rewrap'");
	sub = argv[1];
	if (strcmp(sub, "rotate") != 0 && strcmp(sub, "rewrap") != 0)
		return cli_usage(cli, "unknown subcommand '%s'", sub);
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, ":", opts, NULL)) != -1) {
		if (c != 'b' || strcmp(sub, "rewrap") != 0)
			return cli_optfail(cli, c, argv + 1);
		if (cli_parse_u64(optarg, &batch) != 0 || batch == 0 ||
		    batch > 100000)
			return cli_usage(cli, "--batch takes 1 to 100000");
	}
	if (argc - 1 - optind != 1)
		return cli_usage(cli, "expected one vault directory");
	rc = cli_open(cli, argv[1 + optind], &v);
	if (rc != EXIT_OK)
		return rc;
	rc = cli_audit_open(cli, argv[1 + optind], v, &a);
	if (rc != EXIT_OK) {
		vg_vault_close(v);
		return rc;
	}
	if (strcmp(sub, "rotate") == 0) {
		rc = vg_vault_rotate(v, &epoch);
		snprintf(detail, sizeof(detail), "epoch=%u", epoch);
		e.action = "key.rotate";
	} else {
		rc = vg_vault_rewrap(v, (size_t)batch, cli_tty() ?
		    rewrap_progress : NULL, NULL, &st);
		if (cli_tty())
			fputc('\n', stderr);
		snprintf(detail, sizeof(detail), "rewrapped=%llu retired=%u",
		    (unsigned long long)st.rewrapped, st.retired);
		e.action = "key.rewrap";
	}
	e.decision = rc == 0 ? "allow" : "deny";
	e.reason = rc == 0 ? NULL : "failed";
	e.detail = rc == 0 ? detail : NULL;
	status = cli_audit(cli, a, &e);
	status = cli_audit_close(cli, a, status);
	vg_vault_close(v);
	if (rc != 0 && strcmp(sub, "rotate") == 0)
		return cli_fail(cli, EXIT_DATA, "rotation failed: %s%s",
		    vg_strerror(rc), rc == VG_ETOOBIG ?
		    " (too many live epochs: run 'vigil keys rewrap')" : "");
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "rewrap stopped after %llu "
		    "customers: %s", (unsigned long long)st.rewrapped,
		    vg_strerror(rc));
	if (status != EXIT_OK)
		return status;
	if (strcmp(sub, "rotate") == 0)
		printf("key epoch %u is now current; run 'vigil keys rewrap' "
		    "to re-seal older rows\n", epoch);
	else
		printf("re-sealed %llu of %llu customers; retired %u old key "
		    "epoch%s\n", (unsigned long long)st.rewrapped,
		    (unsigned long long)st.scanned, st.retired,
		    st.retired == 1 ? "" : "s");
	return EXIT_OK;
}
