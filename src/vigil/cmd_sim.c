/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil sim run: one simulated world (vigil/sim.h) through the
 * in-process driver, and what happened to each insider: detected or
 * not, when it was first alerted and contained, what it took before
 * containment against what it would have taken with no vigil, and the
 * false alerts on everybody else per 1,000 principal-days.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vigil/sim.h"
#include "cli.h"

#define POLICY_MAX (1024 * 1024)

int
cli_sim_insiders(const char *list, struct vg_sim_opts *o, char *err,
    size_t cap)
{
	const char *s = list;

	while (*s != '\0') {
		char name[32];
		size_t n = strcspn(s, "=,");
		unsigned long long k = 1;
		int st;

		if (n == 0 || n >= sizeof(name)) {
			snprintf(err, cap, "--insiders: expected NAME=COUNT,"
			    "...");
			return -1;
		}
		memcpy(name, s, n);
		name[n] = '\0';
		s += n;
		if (*s == '=') {
			char num[24];
			size_t m = strcspn(++s, ",");

			if (m == 0 || m >= sizeof(num)) {
				snprintf(err, cap, "--insiders: %s needs a "
				    "count", name);
				return -1;
			}
			memcpy(num, s, m);
			num[m] = '\0';
			if (cli_parse_u64(num, &k) != 0 || k > 100) {
				snprintf(err, cap, "--insiders: %s: a count "
				    "from 0 to 100", name);
				return -1;
			}
			s += m;
		}
		st = vg_strategy_from_name(name);
		if (st <= VG_STRAT_NONE) {
			snprintf(err, cap, "--insiders: unknown strategy '%s' "
			    "(bulk, low_slow, off_shift, launder, validate, "
			    "enumerate, ring, mimic)", name);
			return -1;
		}
		o->insiders[st] = (uint32_t)k;
		if (*s == ',')
			s++;
	}
	return 0;
}

int
cli_sim_policy(const char *path, char **text, size_t *len, char *err,
    size_t cap)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;

	*text = NULL;
	if (fp == NULL) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(POLICY_MAX + 1)) == NULL) {
		fclose(fp);
		snprintf(err, cap, "out of memory");
		return -1;
	}
	n = fread(buf, 1, POLICY_MAX + 1, fp);
	if (ferror(fp) || n > POLICY_MAX) {
		snprintf(err, cap, "%s: %s", path, n > POLICY_MAX ?
		    "larger than 1048576 bytes" : "cannot be read");
		fclose(fp);
		free(buf);
		return -1;
	}
	fclose(fp);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* Hours from a to b, or -1 when b is 0. */
double
cli_sim_hours(int64_t a, int64_t b)
{
	return b == 0 ? -1.0 : (double)(b - a) / 3.6e12;
}

struct live {
	bool print;
	json_t *alerts;			/* --json: every alert */
	const struct vg_sim_principal *pt;
};

static void
on_alert(void *ctx, const struct vg_alert *a, int32_t p, bool truth)
{
	struct live *l = ctx;
	char ts[CLI_TIME_STRLEN];

	(void)p;
	cli_format_time(ts, a->time_ns, 0);
	if (l->alerts != NULL)
		json_array_append_new(l->alerts, json_pack("{s:s,s:s,s:s,s:s,"
		    "s:s,s:f,s:s,s:b}", "time", ts, "principal", a->principal,
		    "rule", a->rule, "severity", vg_severity_name(a->severity),
		    "containment", vg_contain_name(a->action), "score",
		    a->score, "summary", a->summary, "true", truth));
	else if (l->print)
		printf("%s  %-8s  %-5s  %-18s  %-14s  %s\n", ts,
		    vg_severity_name(a->severity), truth ? "true" : "false",
		    a->principal, a->rule, a->summary);
}

static double
per_1000(uint64_t n, uint64_t days)
{
	return days > 0 ? 1000.0 * (double)n / (double)days : 0.0;
}

static void
print_text(const struct vg_sim *w, const struct vg_sim_report *rep)
{
	const struct vg_sim_opts *so = vg_sim_options(w);
	const struct vg_sim_principal *pt;
	char ts[CLI_TIME_STRLEN];
	size_t np, i;

	pt = vg_sim_principals(w, &np);
	cli_format_time(ts, so->start * 1000000000ll, 0);
	printf("world: seed %llu, %u days from %s, %u customers, %zu "
	    "principals\n", (unsigned long long)so->seed, so->days, ts,
	    so->customers, np);
	printf("traffic: %llu contacts, %llu actions, %llu audit entries\n",
	    (unsigned long long)rep->contacts,
	    (unsigned long long)rep->actions,
	    (unsigned long long)rep->entries);
	printf("outcomes: %llu ok, %llu miss, %llu denied, %llu step-up, "
	    "%llu contained\n", (unsigned long long)rep->results[VG_SIM_OK],
	    (unsigned long long)rep->results[VG_SIM_MISS],
	    (unsigned long long)rep->results[VG_SIM_DENIED],
	    (unsigned long long)rep->results[VG_SIM_STEP_UP],
	    (unsigned long long)rep->results[VG_SIM_CONTAINED]);
	printf("legitimate reveals: %llu, %.1f%% under a case (people: "
	    "%.1f%%)\n", (unsigned long long)rep->legit_reveals,
	    rep->legit_reveals ? 100.0 * rep->legit_case_reveals /
	    rep->legit_reveals : 0.0, rep->legit_staff_reveals ? 100.0 *
	    rep->legit_staff_case_reveals / rep->legit_staff_reveals : 0.0);
	printf("exports: %llu made, %llu customers in them (not reveals)\n",
	    (unsigned long long)rep->exports,
	    (unsigned long long)rep->export_rows);
	printf("alerts: %llu (%llu true, %llu false), %llu containments\n",
	    (unsigned long long)rep->alerts,
	    (unsigned long long)rep->true_alerts,
	    (unsigned long long)rep->false_alerts,
	    (unsigned long long)rep->contained);
	printf("false alerts: %.2f per 1,000 principal-days (%llu on %llu "
	    "principals, %llu principal-days; people alone %.2f)\n",
	    per_1000(rep->false_alerts, rep->principal_days),
	    (unsigned long long)rep->false_alerts,
	    (unsigned long long)rep->false_principals,
	    (unsigned long long)rep->principal_days,
	    per_1000(rep->staff_false_alerts, rep->staff_principal_days));
	printf("legitimate actions refused by a containment: %llu; "
	    "containments lifted by the review: %llu\n",
	    (unsigned long long)rep->legit_contained,
	    (unsigned long long)rep->reinstated);
	if (rep->ninsiders == 0)
		return;
	printf("\n%-18s %-10s %-8s %11s %11s %7s %10s  %s\n", "insider",
	    "strategy", "detected", "first alert", "contained", "taken",
	    "would take", "first rule / signal");
	for (i = 0; i < rep->ninsiders; i++) {
		const struct vg_sim_insider_report *ir = &rep->insider[i];
		double fa = cli_sim_hours(ir->truth.first_action_ns,
		    ir->first_alert_ns);
		double ct = cli_sim_hours(ir->truth.first_action_ns,
		    ir->contained_ns);
		char a[16] = "-", c[16] = "-", who[VG_PRINCIPAL_ID_MAX + 2];

		if (fa >= 0)
			snprintf(a, sizeof(a), "%.1f h", fa);
		if (ct >= 0)
			snprintf(c, sizeof(c), "%.1f h", ct);
		snprintf(who, sizeof(who), "%s%s", pt[ir->principal].id,
		    pt[ir->principal].dismissed ? "*" : "");
		printf("%-18s %-10s %-8s %11s %11s %7llu %10llu  %s%s%s\n",
		    who, vg_strategy_name(ir->strategy),
		    ir->first_alert_ns != 0 ? "yes" : "no", a, c,
		    (unsigned long long)ir->truth.taken,
		    (unsigned long long)ir->truth.would_take, ir->rule,
		    ir->signal[0] != '\0' ? " / " : "", ir->signal);
	}
	for (i = 0; i < rep->ninsiders; i++)
		if (pt[rep->insider[i].principal].dismissed) {
			printf("* dismissed: works through %s's key\n",
			    pt[rep->insider[i].actor].id);
			break;
		}
}

static json_t *
report_json(const struct vg_sim *w, const struct vg_sim_report *rep,
    json_t *alerts)
{
	const struct vg_sim_opts *so = vg_sim_options(w);
	const struct vg_sim_principal *pt;
	json_t *o, *ins;
	size_t np, i;

	pt = vg_sim_principals(w, &np);
	ins = json_array();
	for (i = 0; i < rep->ninsiders; i++) {
		const struct vg_sim_insider_report *ir = &rep->insider[i];

		json_array_append_new(ins, json_pack("{s:s,s:s,s:s,s:i,s:b,"
		    "s:b,s:f,s:f,s:I,s:I,s:I,s:s,s:s,s:s}", "principal",
		    pt[ir->principal].id, "actor", pt[ir->actor].id,
		    "strategy", vg_strategy_name(ir->strategy), "ring",
		    (int)ir->ring, "dismissed", pt[ir->principal].dismissed,
		    "detected", ir->first_alert_ns != 0,
		    "hours_to_first_alert", cli_sim_hours(
		    ir->truth.first_action_ns, ir->first_alert_ns),
		    "hours_to_containment", cli_sim_hours(
		    ir->truth.first_action_ns, ir->contained_ns),
		    "taken", (json_int_t)ir->truth.taken, "attempted",
		    (json_int_t)ir->truth.attempted, "would_take",
		    (json_int_t)ir->truth.would_take, "rule", ir->rule,
		    "signal", ir->signal, "severity", ir->severity ?
		    vg_severity_name(ir->severity) : "none"));
	}
	o = json_pack("{s:I,s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
	    "s:I,s:f,s:I,s:I,s:o}", "seed", (json_int_t)so->seed, "days",
	    (int)so->days, "customers", (int)so->customers, "principals",
	    (int)np, "contacts", (json_int_t)rep->contacts, "actions",
	    (json_int_t)rep->actions, "entries", (json_int_t)rep->entries,
	    "alerts", (json_int_t)rep->alerts, "true_alerts",
	    (json_int_t)rep->true_alerts, "false_alerts",
	    (json_int_t)rep->false_alerts, "false_principals",
	    (json_int_t)rep->false_principals, "principal_days",
	    (json_int_t)rep->principal_days, "containments",
	    (json_int_t)rep->contained, "legit_reveals",
	    (json_int_t)rep->legit_reveals, "false_per_1000_principal_days",
	    per_1000(rep->false_alerts, rep->principal_days),
	    "legit_case_reveals", (json_int_t)rep->legit_case_reveals,
	    "legit_contained", (json_int_t)rep->legit_contained, "insiders",
	    ins);
	if (o != NULL) {
		json_object_set_new(o, "staff_false_alerts",
		    json_integer((json_int_t)rep->staff_false_alerts));
		json_object_set_new(o, "staff_principal_days",
		    json_integer((json_int_t)rep->staff_principal_days));
		json_object_set_new(o, "reinstated",
		    json_integer((json_int_t)rep->reinstated));
		json_object_set_new(o, "exports",
		    json_integer((json_int_t)rep->exports));
		json_object_set_new(o, "export_rows",
		    json_integer((json_int_t)rep->export_rows));
	}
	if (o != NULL && alerts != NULL)
		json_object_set_new(o, "alert_list", alerts);
	return o;
}

static int
run(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "days", required_argument, NULL, 'd' },
		{ "customers", required_argument, NULL, 'c' },
		{ "principals", required_argument, NULL, 'p' },
		{ "insiders", required_argument, NULL, 'i' },
		{ "ring", required_argument, NULL, 'r' },
		{ "surge-day", required_argument, NULL, 'u' },
		{ "honey", required_argument, NULL, 'y' },
		{ "policy", required_argument, NULL, 'P' },
		{ "alerts", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct vg_sim_opts so;
	struct vg_sim_run_opts ro;
	struct vg_sim_report rep;
	struct vg_sim *w = NULL;
	struct live live;
	unsigned long long v;
	char err[512] = "", *policy = NULL;
	size_t policy_len = 0;
	const char *policy_path = NULL;
	bool json = cli->json;
	int c, rc, status = EXIT_OK;

	memset(&so, 0, sizeof(so));
	memset(&live, 0, sizeof(live));
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (cli_parse_u64(optarg, &v) != 0 || v == 0)
				return cli_usage(cli, "--seed takes a positive "
				    "64-bit integer");
			so.seed = v;
			break;
		case 'd':
			if (cli_parse_u64(optarg, &v) != 0 || v < 1 ||
			    v > VG_SIM_DAYS_MAX)
				return cli_usage(cli, "--days takes 1 to %d",
				    VG_SIM_DAYS_MAX);
			so.days = (uint32_t)v;
			break;
		case 'c':
			if (cli_parse_u64(optarg, &v) != 0 || v < 1000 ||
			    v > VG_SIM_CUSTOMERS_MAX)
				return cli_usage(cli, "--customers takes 1000 "
				    "to %d", VG_SIM_CUSTOMERS_MAX);
			so.customers = (uint32_t)v;
			break;
		case 'p':
			if (cli_parse_u64(optarg, &v) != 0 ||
			    v < VG_SIM_PRINCIPALS_MIN ||
			    v > VG_SIM_PRINCIPALS_MAX)
				return cli_usage(cli, "--principals takes %d to "
				    "%d", VG_SIM_PRINCIPALS_MIN,
				    VG_SIM_PRINCIPALS_MAX);
			so.principals = (uint32_t)v;
			break;
		case 'i':
			if (cli_sim_insiders(optarg, &so, err,
			    sizeof(err)) != 0)
				return cli_usage(cli, "%s", err);
			break;
		case 'r':
			if (cli_parse_u64(optarg, &v) != 0 || v < 3 || v > 100)
				return cli_usage(cli, "--ring takes 3 to 100 "
				    "members");
			so.ring_size = (uint32_t)v;
			if (so.insiders[VG_STRAT_RING] == 0)
				so.insiders[VG_STRAT_RING] = 1;
			break;
		case 'u':
			if (cli_parse_u64(optarg, &v) != 0 ||
			    v >= VG_SIM_DAYS_MAX)
				return cli_usage(cli, "--surge-day takes a day "
				    "of the run, from 0");
			so.surge_day = (int)v;
			so.surge = 3.0;
			break;
		case 'y':
			if (cli_parse_u64(optarg, &v) != 0 || v > 1000000)
				return cli_usage(cli, "--honey takes 0 to "
				    "1000000");
			so.honey = (uint32_t)v;
			break;
		case 'P':
			policy_path = optarg;
			break;
		case 'a':
			live.print = true;
			break;
		case 'j':
			json = true;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (optind != argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (policy_path != NULL && cli_sim_policy(policy_path, &policy,
	    &policy_len, err, sizeof(err)) != 0)
		return cli_fail(cli, EXIT_DATA, "policy %s", err);
	rc = vg_sim_new(&so, &w, err, sizeof(err));
	if (rc != 0) {
		free(policy);
		return cli_fail(cli, rc == VG_EINVAL ? EXIT_USAGE : EXIT_DATA,
		    "%s", err[0] != '\0' ? err : vg_strerror(rc));
	}
	memset(&ro, 0, sizeof(ro));
	ro.policy = policy;
	ro.policy_len = policy_len;
	ro.policy_name = policy_path;
	ro.alert = on_alert;
	ro.alert_ctx = &live;
	if (json)
		live.alerts = json_array();
	rc = vg_sim_run(w, &ro, &rep, err, sizeof(err));
	free(policy);
	if (rc != 0) {
		json_decref(live.alerts);
		vg_sim_free(w);
		return cli_fail(cli, EXIT_DATA, "%s", err);
	}
	if (json) {
		status = cli_print_json(report_json(w, &rep, live.alerts));
	} else {
		if (live.print)
			printf("\n");
		print_text(w, &rep);
	}
	vg_sim_report_release(&rep);
	vg_sim_free(w);
	return status;
}

int
cmd_sim(int argc, char **argv, struct vg_cli *cli)
{
	if (argc < 2)
		return cli_usage(cli, "expected a subcommand: run");
	if (strcmp(argv[1], "run") == 0)
		return run(argc - 1, argv + 1, cli);
	return cli_usage(cli, "unknown subcommand '%s' (expected run)",
	    argv[1]);
}
