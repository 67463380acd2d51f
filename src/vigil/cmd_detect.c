/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil detect replay DIR [--from T] [--to T] [--json]: the audit log
 * through the detector, offline.  The same code and the same entries as
 * vigild's online detector, so the same alerts: with --json each alert
 * prints as the one line of JSON that vigild stores and sends to its
 * sinks (vg_alert_json), byte for byte.  A summary (entries, alerts,
 * principals, state memory, rate) goes to stderr.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/detect.h"
#include "vigil/honey.h"
#include "vigil/vault.h"
#include "cli.h"



struct out {
	bool json;
	uint64_t n;
	char buf[VG_ALERT_JSON_MAX];
};

static int
directory(void *ctx, const char *id, struct vg_principal *out)
{
	return vg_principal_get(ctx, id, out);
}

static void
print_alert(void *ctx, const struct vg_alert *a)
{
	struct out *o = ctx;
	char ts[CLI_TIME_STRLEN];

	o->n++;
	if (o->json) {
		if (vg_alert_json(a, o->buf, sizeof(o->buf)) >= 0)
			printf("%s\n", o->buf);
		return;
	}
	cli_format_time(ts, a->time_ns, 0);
	printf("%s  %-8s  %-24s  %-16s  %s\n", ts, vg_severity_name(a->severity),
	    a->principal, a->rule, a->summary);
}

/* "medium=step_up,high=suspend,critical=suspend" (any subset) into t:
 * the levels vigild's `detect:` configuration gives, so the replay's
 * alerts say what vigild did.  0 or -1. */
static int
parse_levels(const char *s, struct vg_detect_tuning *t)
{
	char buf[128], *save = NULL, *kv;

	if (strlen(s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	for (kv = strtok_r(buf, ",", &save); kv != NULL;
	    kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');
		int lv;

		if (v == NULL)
			return -1;
		*v++ = '\0';
		if ((lv = (int)vg_contain_from_name(v)) < 0)
			return -1;
		if (strcmp(kv, "medium") == 0)
			t->on_medium = (enum vg_contain)lv;
		else if (strcmp(kv, "high") == 0)
			t->on_high = (enum vg_contain)lv;
		else if (strcmp(kv, "critical") == 0)
			t->on_critical = (enum vg_contain)lv;
		else
			return -1;
	}
	return 0;
}

static int
replay(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "containment", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct out o;
	struct vg_detect_opts dopts;
	struct vg_detect_tuning tu;
	struct vg_detect_stats st;
	struct vg_vault *v = NULL;
	unsigned char (*honey)[VG_IDBYTES] = NULL;
	size_t nhoney = 0;
	int64_t from = INT64_MIN, to = INT64_MAX;
	char err[512] = "";
	double t0;
	int c, rc, status;

	o.json = cli->json;
	vg_detect_tuning_default(&tu);
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (cli_parse_time(optarg, &from) != 0)
				return cli_usage(cli, "--from: not a time "
				    "(RFC 3339 or unix seconds): %s", optarg);
			break;
		case 't':
			if (cli_parse_time(optarg, &to) != 0)
				return cli_usage(cli, "--to: not a time "
				    "(RFC 3339 or unix seconds): %s", optarg);
			break;
		case 'j':
			o.json = true;
			break;
		case 'c':
			if (parse_levels(optarg, &tu) != 0)
				return cli_usage(cli, "--containment: expected "
				    "LEVEL=ACTION[,...] with LEVEL medium, high "
				    "or critical and ACTION none, step_up or "
				    "suspend: %s", optarg);
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (optind != argc - 1)
		return cli_usage(cli, "expected one vault directory");
	if (from >= to)
		return cli_usage(cli, "--from must be before --to");
	status = cli_open(cli, argv[optind], &v);
	if (status != EXIT_OK)
		return status;
	if (vg_honey_load(v, argv[optind], &honey, &nhoney, err,
	    sizeof(err)) != 0) {
		vg_vault_close(v);
		return cli_fail(cli, EXIT_DATA, "honeytoken set: %s", err);
	}
	memset(&dopts, 0, sizeof(dopts));
	dopts.directory = directory;
	dopts.directory_ctx = v;
	dopts.honey = (const unsigned char (*)[VG_IDBYTES])honey;
	dopts.nhoney = nhoney;
	dopts.tuning = &tu;
	t0 = cli_seconds();
	rc = vg_detect_replay(argv[optind], &dopts, from, to, print_alert, &o,
	    &st, err, sizeof(err));
	fflush(stdout);
	vg_honey_free(honey);
	vg_vault_close(v);
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "%s (%s)", err[0] != '\0' ? err :
		    "the audit log cannot be read", vg_strerror(rc));
	{
		double secs = cli_seconds() - t0;

		fprintf(stderr, "vigil detect: %llu entries, %llu alerts, %llu "
		    "principals, %.1f MB of state, %.2f s (%.0f entries/s)\n",
		    (unsigned long long)st.entries,
		    (unsigned long long)o.n, (unsigned long long)st.principals,
		    st.bytes / 1048576.0, secs, secs > 0 ? st.entries / secs :
		    0.0);
	}
	return EXIT_OK;
}

int
cmd_detect(int argc, char **argv, struct vg_cli *cli)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		return argc < 2 ? cli_usage(cli, "expected a subcommand: "
		    "replay") : cli_help(cli);
	if (strcmp(argv[1], "replay") == 0)
		return replay(argc - 1, argv + 1, cli);
	return cli_usage(cli, "unknown subcommand %s (expected replay)",
	    argv[1]);
}
