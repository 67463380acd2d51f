/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil alerts list|show|ack: the detector's alerts as vigild stored them
 * in the vault's database (include/vigil/alertdb.h), offline.  The same
 * rows GET /v1/alerts serves: --json prints each row in the API's shape,
 * with the alert exactly as vg_alert_json() wrote it (the bytes of the
 * alerts file sink).  An acknowledgement is audited on the "cli" chain,
 * durable, before the row is changed.  Alerts hold ids, codes and numbers
 * only (vigil/alert.h), so nothing printed here is personal data.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "vigil/alertdb.h"
#include "vigil/audit.h"
#include "vigil/principal.h"
#include "vigil/vault.h"
#include "cli.h"

#define REASON_MAX 64

/* Prints s as a JSON string.  Stored ids and states are plain ASCII; the
 * escapes are for safety, not for any value expected. */
static void
put_quoted(FILE *fp, const char *s)
{
	const unsigned char *p;

	fputc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

/* One row as vigild's API shows it: {"id","state","acked_by","acked_at",
 * "alert"}, the alert verbatim. */
static void
put_row_json(FILE *fp, const struct vg_alert_row *r)
{
	fputs("{\"id\":", fp);
	put_quoted(fp, r->id);
	fputs(",\"state\":", fp);
	put_quoted(fp, r->state);
	fputs(",\"acked_by\":", fp);
	put_quoted(fp, r->acked_by);
	fprintf(fp, ",\"acked_at\":%lld,\"alert\":", (long long)r->acked_at);
	fputs(r->json[0] != '\0' ? r->json : "null", fp);
	fputs("}\n", fp);
}

static const char *
sev_name(int s)
{
	const char *n = vg_severity_name((enum vg_severity)s);

	return n != NULL ? n : "?";
}

static bool
reason_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= REASON_MAX && strspn(s,
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/*-----------------------------------------------------------------------------
 * list
 */

struct list_ctx {
	bool json;
	size_t n;
};

static int
list_one(void *ctx, const struct vg_alert_row *r)
{
	struct list_ctx *lc = ctx;
	char ts[CLI_TIME_STRLEN];

	lc->n++;
	if (lc->json) {
		put_row_json(stdout, r);
		return 0;
	}
	cli_format_time(ts, r->time_ns, 0);
	printf("%s  %s  %-5s  %-8s  %-24s  %-16s  %s\n", ts, r->id, r->state,
	    sev_name(r->severity), r->principal, r->rule,
	    r->acked_by[0] != '\0' ? r->acked_by : "-");
	return 0;
}

static int
do_list(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "principal", required_argument, NULL, 'p' },
		{ "state", required_argument, NULL, 's' },
		{ "severity", required_argument, NULL, 'v' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct vg_alert_query q;
	struct list_ctx lc = { false, 0 };
	struct vg_vault *v;
	unsigned long long n;
	int c, rc;

	memset(&q, 0, sizeof(q));
	q.limit = 100;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!vg_principal_id_ok(optarg))
				return cli_usage(cli, "--principal: principal "
				    "ids are [a-z0-9][a-z0-9_.-]{0,63}");
			q.principal = optarg;
			break;
		case 's':
			if (strcmp(optarg, "open") != 0 &&
			    strcmp(optarg, "acked") != 0)
				return cli_usage(cli, "--state must be open or "
				    "acked");
			q.state = optarg;
			break;
		case 'v':
			q.min_severity = (int)vg_severity_from_name(optarg);
			if (q.min_severity == 0)
				return cli_usage(cli, "--severity must be low, "
				    "medium, high or critical");
			break;
		case 'n':
			if (cli_parse_u64(optarg, &n) != 0 || n < 1 ||
			    n > VG_ALERT_LIST_MAX)
				return cli_usage(cli, "--limit must be 1 to %d",
				    VG_ALERT_LIST_MAX);
			q.limit = (size_t)n;
			break;
		case 'j':
			lc.json = true;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one vault directory");
	rc = cli_open(cli, argv[optind], &v);
	if (rc != EXIT_OK)
		return rc;
	rc = vg_alert_list(v, &q, list_one, &lc);
	vg_vault_close(v);
	fflush(stdout);
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "alerts cannot be read (%s)",
		    vg_strerror(rc));
	if (lc.n == q.limit)
		fprintf(stderr, "vigil alerts: %zu alerts shown, the limit; "
		    "older ones may exist (--limit up to %d)\n", lc.n,
		    VG_ALERT_LIST_MAX);
	return EXIT_OK;
}

/*-----------------------------------------------------------------------------
 * show
 */

/* The readable form: the row, then what the alert says. */
static void
show_text(const struct vg_alert_row *r)
{
	char ts[CLI_TIME_STRLEN];
	json_t *a, *x;
	size_t i;

	cli_format_time(ts, r->time_ns, 1);
	printf("id           %s\nstate        %s\ntime         %s\n"
	    "severity     %s\nprincipal    %s\nrule         %s\n", r->id,
	    r->state, ts, sev_name(r->severity), r->principal, r->rule);
	if (r->acked_by[0] != '\0') {
		cli_format_time(ts, r->acked_at * 1000000000LL, 0);
		printf("acked by     %s\nacked at     %s\n", r->acked_by, ts);
	}
	a = json_loads(r->json, 0, NULL);
	if (a == NULL) {
		printf("alert        (the stored JSON does not parse)\n");
		return;
	}
	x = json_object_get(json_object_get(a, "organization"), "name");
	if (json_is_string(x))
		printf("org          %s\n", json_string_value(x));
	x = json_object_get(json_object_get(a, "vigil"), "role");
	if (json_is_string(x))
		printf("role         %s\n", json_string_value(x));
	x = json_object_get(json_object_get(a, "event"), "risk_score");
	if (json_is_number(x))
		printf("score        %.2f\n", json_number_value(x));
	x = json_object_get(json_object_get(a, "vigil"), "containment");
	if (json_is_string(x))
		printf("containment  %s\n", json_string_value(x));
	x = json_object_get(a, "message");
	if (json_is_string(x))
		printf("message      %s\n", json_string_value(x));
	x = json_object_get(json_object_get(a, "vigil"), "signals");
	for (i = 0; json_is_array(x) && i < json_array_size(x); i++) {
		json_t *s = json_array_get(x, i);
		json_t *nm = json_object_get(s, "name");
		json_t *w = json_object_get(s, "window");
		json_t *val = json_object_get(s, "value");
		json_t *z = json_object_get(s, "z");

		printf("signal       %s %s value %g z %.2f\n",
		    json_is_string(nm) ? json_string_value(nm) : "?",
		    json_is_string(w) && json_string_value(w)[0] != '\0' ?
		    json_string_value(w) : "-",
		    json_is_number(val) ? json_number_value(val) : 0.0,
		    json_is_number(z) ? json_number_value(z) : 0.0);
	}
	x = json_object_get(json_object_get(a, "vigil"), "audit_seqs");
	if (json_is_array(x) && json_array_size(x) > 0) {
		printf("audit seqs  ");
		for (i = 0; i < json_array_size(x); i++)
			printf(" %lld", (long long)json_integer_value(
			    json_array_get(x, i)));
		printf("\n");
	}
	json_decref(a);
}

static int
do_show(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct vg_alert_row *r;
	struct vg_vault *v;
	bool json = false;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_optfail(cli, c, argv);
		json = true;
	}
	if (argc - optind != 2)
		return cli_usage(cli, "expected a vault directory and an "
		    "alert id");
	if (!vg_alert_id_ok(argv[optind + 1]))
		return cli_usage(cli, "alert ids are al_ and 16 lower-case hex "
		    "digits");
	if ((r = malloc(sizeof(*r))) == NULL)
		return cli_fail(cli, EXIT_DATA, "out of memory");
	rc = cli_open(cli, argv[optind], &v);
	if (rc != EXIT_OK) {
		free(r);
		return rc;
	}
	rc = vg_alert_get(v, argv[optind + 1], r);
	vg_vault_close(v);
	if (rc == 0) {
		if (json)
			put_row_json(stdout, r);
		else
			show_text(r);
	}
	free(r);
	if (rc == VG_ENOTFOUND)
		return cli_fail(cli, EXIT_DATA, "no alert '%s'",
		    argv[optind + 1]);
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "alerts cannot be read (%s)",
		    vg_strerror(rc));
	return EXIT_OK;
}

/*-----------------------------------------------------------------------------
 * ack
 */

static int
do_ack(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct vg_audit_entry e = { 0 };
	struct vg_alert_row *r = NULL;
	struct vg_audit *a = NULL;
	struct vg_vault *v = NULL;
	const char *by = NULL, *reason = NULL, *id;
	char detail[VG_AUDIT_STR_MAX + 1], ts[CLI_TIME_STRLEN];
	int c, rc, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			by = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage(cli, "expected a vault directory and an "
		    "alert id");
	id = argv[optind + 1];
	if (!vg_alert_id_ok(id))
		return cli_usage(cli, "alert ids are al_ and 16 lower-case hex "
		    "digits");
	if (by == NULL)
		return cli_usage(cli, "--by WHO is required (who looked at "
		    "the alert)");
	if (!vg_principal_id_ok(by))
		return cli_usage(cli, "--by must be [a-z0-9][a-z0-9_.-]{0,63}");
	if (reason != NULL && !reason_ok(reason))
		return cli_usage(cli, "--reason must be a code, "
		    "[a-z0-9_-]{1,%d}", REASON_MAX);

	if ((r = malloc(sizeof(*r))) == NULL)
		return cli_fail(cli, EXIT_DATA, "out of memory");
	status = cli_open(cli, argv[optind], &v);
	if (status != EXIT_OK)
		goto out;
	status = cli_audit_open(cli, argv[optind], v, &a);
	if (status != EXIT_OK)
		goto out;
	snprintf(detail, sizeof(detail), "alert=%s,by=%s%s%s", id, by,
	    reason != NULL ? ",reason=" : "", reason != NULL ? reason : "");
	e.action = "alert.ack";
	e.detail = detail;
	/* Decided from the row as it is; the entry is durable before the
	 * row changes, as vigild does it. */
	rc = vg_alert_get(v, id, r);
	if (rc == 0 && strcmp(r->state, "open") != 0)
		rc = VG_EEXIST;
	e.decision = rc == 0 ? "allow" : "deny";
	e.reason = rc == 0 ? NULL : rc == VG_ENOTFOUND ? "not_found" :
	    rc == VG_EEXIST ? "conflict" : "failed";
	status = cli_audit(cli, a, &e);
	if (status == EXIT_OK && rc == 0) {
		rc = vg_alert_ack(v, id, by, (int64_t)time(NULL));
		if (rc != 0) {
			/* Acknowledged by someone else since it was read (a
			 * running vigild), or a storage error: the log says
			 * the change was not made. */
			e.decision = "deny";
			e.reason = rc == VG_EEXIST ? "conflict" : "failed";
			status = cli_audit(cli, a, &e);
			if (rc == VG_EEXIST && vg_alert_get(v, id, r) != 0)
				rc = VG_ESTORE;
		}
	}
	status = cli_audit_close(cli, a, status);
	a = NULL;
	if (status != EXIT_OK)
		goto out;
	if (rc == VG_ENOTFOUND) {
		status = cli_fail(cli, EXIT_DATA, "no alert '%s'", id);
	} else if (rc == VG_EEXIST) {
		cli_format_time(ts, r->acked_at * 1000000000LL, 0);
		status = cli_fail(cli, EXIT_DATA, "alert %s was already "
		    "acknowledged by %s at %s; nothing changed", id,
		    r->acked_by, ts);
	} else if (rc != 0) {
		status = cli_fail(cli, EXIT_DATA, "the alert could not be "
		    "acknowledged (%s)", vg_strerror(rc));
	} else {
		printf("alert %s acknowledged by %s\n", id, by);
	}
out:
	if (a != NULL)
		(void)cli_audit_close(cli, a, status);
	vg_vault_close(v);
	free(r);
	return status;
}

int
cmd_alerts(int argc, char **argv, struct vg_cli *cli)
{
	const char *sub;

	if (argc < 2)
		return cli_usage(cli, "expected list, show or ack");
	sub = argv[1];
	if (strcmp(sub, "list") == 0)
		return do_list(argc - 1, argv + 1, cli);
	if (strcmp(sub, "show") == 0)
		return do_show(argc - 1, argv + 1, cli);
	if (strcmp(sub, "ack") == 0)
		return do_ack(argc - 1, argv + 1, cli);
	return cli_usage(cli, "unknown subcommand '%s' (expected list, show "
	    "or ack)", sub);
}
