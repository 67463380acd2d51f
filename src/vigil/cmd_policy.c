/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil policy SUBCOMMAND: the access policy.
 *
 *   check FILE [--dir DIR]   parses a policy file against a vault's schema
 *       (or the default schema): "FILE: ok (N roles, digest D)" or the
 *       first error as FILE:LINE:COLUMN.
 *   explain DIR --principal P --customer C --fields F[,F] [--case K]
 *       [--purpose P] [--action A] [--policy FILE] [--at UNIXTIME]
 *       [--justification-bytes N] [--approved]: the decision vigild would
 *       make, with every rule that led to it, from the vault's principal,
 *       case and shift, and quota usage folded from the audit log.
 *   reload DIR: checks the file the running vigild uses, then asks it to
 *       reload (SIGHUP) and reports what it did.
 *
 * Subcommands are rows of the table at the end of this file.  The format
 * is docs/POLICY.md; the library side is include/vigil/policy.h.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "vigil/cases.h"
#include "vigil/policy.h"
#include "vigil/principal.h"
#include "vigil/quota.h"
#include "vigil/schema.h"
#include "vigil/shift.h"
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


/* Reads "key value" lines of vigild's status file. */
static int
status_get(const char *path, const char *key, char *out, size_t cap)
{
	char line[1024];
	size_t n = strlen(key);
	FILE *fp = fopen(path, "r");
	int found = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, key, n) == 0 && line[n] == ' ') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, cap, "%s", line + n + 1);
			found = 0;
			break;
		}
	}
	fclose(fp);
	return found;
}

/* Field names "a,b" to a schema bit mask; -1 for an unknown name. */
static int
parse_fields(const struct vg_schema *s, const char *list, uint32_t *mask)
{
	char buf[512], *tok, *save = NULL;
	int f;

	*mask = 0;
	if (strlen(list) >= sizeof(buf))
		return -1;
	memcpy(buf, list, strlen(list) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((f = vg_schema_find(s, tok)) < 0)
			return -1;
		*mask |= 1u << f;
	}
	return *mask != 0 ? 0 : -1;
}

static const char *
verdict_name(enum vg_verdict v)
{
	return v == VG_ALLOW ? "allow" : v == VG_STEP_UP ? "step_up" : "deny";
}

static int
do_explain(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "principal", required_argument, NULL, 'p' },
		{ "customer", required_argument, NULL, 'c' },
		{ "fields", required_argument, NULL, 'f' },
		{ "case", required_argument, NULL, 'k' },
		{ "purpose", required_argument, NULL, 'u' },
		{ "action", required_argument, NULL, 'a' },
		{ "consumer", required_argument, NULL, 'C' },
		{ "rows", required_argument, NULL, 'R' },
		{ "policy", required_argument, NULL, 'P' },
		{ "at", required_argument, NULL, 't' },
		{ "justification-bytes", required_argument, NULL, 'j' },
		{ "approved", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'J' },
		{ NULL, 0, NULL, 0 },
	};
	const char *who_id = NULL, *cus_s = NULL, *fields = NULL, *case_id =
	    NULL, *purpose = "support", *action = "reveal", *ppath = NULL;
	char path[4200], polpath[4200], err[VG_POLICY_ERR_MAX];
	unsigned long long at = 0, jb = 0, rows = 0;
	const char *consumer = NULL;
	struct vg_policy_input in;
	struct vg_quota_usage u;
	struct vg_decision d;
	struct vg_principal who;
	struct vg_case kase;
	struct vg_shift shift;
	struct vg_policy *pol = NULL;
	struct vg_quota *q = NULL;
	struct vg_vault *v = NULL;
	unsigned char cus[VG_IDBYTES];
	const char *dir, *why = "";
	bool approved = false, have_case = false;
	uint64_t folded = 0;
	int c, rc, act, status = EXIT_OK;
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'p': who_id = optarg; break;
		case 'c': cus_s = optarg; break;
		case 'f': fields = optarg; break;
		case 'k': case_id = optarg; break;
		case 'u': purpose = optarg; break;
		case 'a': action = optarg; break;
		case 'P': ppath = optarg; break;
		case 'C': consumer = optarg; break;
		case 'R':
			if (cli_parse_u64(optarg, &rows) != 0)
				return cli_usage(cli, "--rows takes a number");
			break;
		case 'A': approved = true; break;
		case 'J': cli->json = true; break;
		case 't':
			if (cli_parse_u64(optarg, &at) != 0)
				return cli_usage(cli, "--at takes unix seconds");
			break;
		case 'j':
			if (cli_parse_u64(optarg, &jb) != 0)
				return cli_usage(cli, "--justification-bytes "
				    "takes a number");
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 1 || who_id == NULL)
		return cli_usage(cli, "expected a vault directory and "
		    "--principal ID");
	dir = argv[optind];
	if ((act = vg_action_from_name(action)) < 0)
		return cli_usage(cli, "--action: unknown action");
	if (act == VG_ACT_REVEAL && (cus_s == NULL || fields == NULL))
		return cli_usage(cli, "a reveal needs --customer and --fields");
	if (cus_s != NULL && vg_id_parse(cus, cus_s) != 0)
		return cli_usage(cli, "--customer takes a customer id "
		    "(cus_...)");
	if (at == 0)
		at = (unsigned long long)time(NULL);
	if ((status = cli_open(cli, dir, &v)) != EXIT_OK)
		return status;
	memset(&in, 0, sizeof(in));
	in.action = (enum vg_action)act;
	in.now = (int64_t)at;
	in.purpose = purpose;
	in.justification_len = (size_t)jb;
	in.consumer = consumer;
	in.rows = rows;
	in.approved = approved;
	if (fields != NULL &&
	    parse_fields(vg_vault_schema(v), fields, &in.fields) != 0) {
		status = cli_usage(cli, "--fields: unknown field name");
		goto out;
	}
	rc = vg_principal_get(v, who_id, &who);
	if (rc != 0) {
		status = cli_fail(cli, EXIT_DATA, "principal %s: %s", who_id,
		    rc == VG_ENOTFOUND ? "no such principal" : vg_strerror(rc));
		goto out;
	}
	in.who = &who;
	if (case_id != NULL) {
		rc = vg_case_get(v, case_id, &kase);
		if (rc != 0 && rc != VG_ENOTFOUND && rc != VG_EINVAL) {
			status = cli_fail(cli, EXIT_DATA, "cases: %s",
			    vg_strerror(rc));
			goto out;
		}
		have_case = rc == 0;
	}
	vg_case_facts(have_case ? &kase : NULL, case_id != NULL, who.id,
	    cus_s != NULL ? cus : NULL, in.now, &in.kase);
	in.shift = -1;
	if (who.shift[0] != '\0')
		in.shift = vg_shift_parse(who.shift, &shift, &why) == 0 ?
		    vg_shift_contains(&shift, in.now) : 0;
	/* The policy the running vigild uses, else DIR/policy.yaml. */
	if (ppath == NULL) {
		snprintf(path, sizeof(path), "%s/vigild.policy", dir);
		if (status_get(path, "path", polpath, sizeof(polpath)) != 0)
			snprintf(polpath, sizeof(polpath), "%s/policy.yaml",
			    dir);
		ppath = polpath;
	}
	rc = vg_policy_load(ppath, vg_vault_schema(v), &pol, err, sizeof(err));
	if (rc != 0) {
		status = cli_fail(cli, EXIT_DATA, "%s", err);
		goto out;
	}
	/* Quota usage as vigild would have it: folded from the log. */
	snprintf(path, sizeof(path), "%s/audit", dir);
	rc = vg_quota_new(&q);
	if (rc == 0) {
		rc = vg_quota_rebuild_all(q, path, in.now, &folded);
		if (rc == VG_ENOTFOUND)
			rc = 0;
	}
	if (rc == 0)
		rc = vg_quota_usage(q, who.id, cus_s != NULL ? cus : NULL,
		    in.now, &u);
	if (rc != 0) {
		status = cli_fail(cli, EXIT_DATA, "quota state from the audit "
		    "log: %s", vg_strerror(rc));
		goto out;
	}
	in.usage = &u;
	vg_policy_decide(pol, &in, &d);
	if (cli->json) {
		json_t *o = json_object(), *steps = json_array();

		json_object_set_new(o, "decision",
		    json_string(verdict_name(d.verdict)));
		json_object_set_new(o, "reason", json_string(d.reason));
		if (d.step_up_why != NULL)
			json_object_set_new(o, "step_up_why",
			    json_string(d.step_up_why));
		json_object_set_new(o, "break_glass",
		    json_boolean(d.break_glass));
		if (d.quota_window >= 0) {
			json_object_set_new(o, "quota_window",
			    json_string(vg_qwin_name(d.quota_window)));
			json_object_set_new(o, "retry_after",
			    json_integer(d.retry_after));
		}
		for (i = 0; i < d.nsteps; i++) {
			json_t *st = json_object();

			json_object_set_new(st, "line",
			    json_integer(d.step[i].line));
			json_object_set_new(st, "rule",
			    json_string(d.step[i].text));
			json_array_append_new(steps, st);
		}
		json_object_set_new(o, "steps", steps);
		json_object_set_new(o, "policy",
		    json_string(vg_policy_digest(pol)));
		json_object_set_new(o, "audit_entries_folded",
		    json_integer((json_int_t)folded));
		status = cli_print_json(o);	/* takes o */
	} else {
		printf("decision: %s (%s)%s%s\n", verdict_name(d.verdict),
		    d.reason, d.step_up_why != NULL ? ", step-up because " :
		    "", d.step_up_why != NULL ? d.step_up_why : "");
		if (d.break_glass)
			printf("break-glass: yes%s\n", d.notify ?
			    ", supervisor notified" : "");
		if (d.quota_window >= 0)
			printf("quota: %s %s limit %u, retry after %lld s\n",
			    vg_qwin_name(d.quota_window), d.quota_kind != NULL ?
			    d.quota_kind : "", d.quota_limit,
			    (long long)d.retry_after);
		printf("policy: %s (%s); quota usage from %llu audit "
		    "entries\n", ppath, vg_policy_digest(pol),
		    (unsigned long long)folded);
		/* Each step names its policy line itself. */
		for (i = 0; i < d.nsteps; i++)
			printf("  - %s\n", d.step[i].text);
	}
out:
	vg_quota_free(q);
	vg_policy_free(pol);
	vg_vault_close(v);
	return status;
}

static int
do_reload(int argc, char **argv, struct vg_cli *cli)
{
	char pidpath[4200], stpath[4200], buf[1100], ppath[4200], comm[64],
	    gen0[32] = "", gen[32] = "", result[32] = "", detail[1024] = "",
	    err[VG_POLICY_ERR_MAX];
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	struct vg_schema schema;
	struct vg_policy *pol = NULL;
	const char *dir;
	long pid;
	char *end;
	FILE *fp;
	int i, status;

	if (argc != 2)
		return cli_usage(cli, "expected a vault directory");
	dir = argv[1];
	snprintf(pidpath, sizeof(pidpath), "%s/vigild.pid", dir);
	snprintf(stpath, sizeof(stpath), "%s/vigild.policy", dir);
	if ((fp = fopen(pidpath, "r")) == NULL)
		return cli_fail(cli, EXIT_DATA, "no vigild runs on %s (no "
		    "vigild.pid)", dir);
	buf[0] = '\0';
	if (fgets(buf, sizeof(buf), fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	pid = strtol(buf, &end, 10);
	if (pid <= 1 || (*end != '\n' && *end != '\0') ||
	    kill((pid_t)pid, 0) != 0)
		return cli_fail(cli, EXIT_DATA, "no vigild runs on %s (stale "
		    "vigild.pid)", dir);
	/* A stale pid file may name a reused pid: SIGHUP would end some
	 * other program.  The process must be a vigild. */
	snprintf(buf, sizeof(buf), "/proc/%ld/comm", pid);
	if ((fp = fopen(buf, "r")) != NULL) {
		if (fgets(comm, sizeof(comm), fp) == NULL)
			comm[0] = '\0';
		fclose(fp);
		comm[strcspn(comm, "\n")] = '\0';
		if (strcmp(comm, "vigild") != 0)
			return cli_fail(cli, EXIT_DATA, "no vigild runs on %s "
			    "(vigild.pid names process %ld, a %s)", dir, pid,
			    comm);
	}
	if (status_get(stpath, "path", ppath, sizeof(ppath)) != 0)
		return cli_fail(cli, EXIT_DATA, "vigild's status file %s is "
		    "missing", stpath);
	(void)status_get(stpath, "generation", gen0, sizeof(gen0));
	/* Refuse here, with the file's own error, before touching vigild
	 * (which would refuse it too and keep the old policy). */
	if ((status = load_schema(cli, dir, &schema)) != EXIT_OK)
		return status;
	if (vg_policy_load(ppath, &schema, &pol, err, sizeof(err)) != 0)
		return cli_fail(cli, EXIT_DATA, "%s (vigild keeps its current "
		    "policy)", err);
	vg_policy_free(pol);
	if (kill((pid_t)pid, SIGHUP) != 0)
		return cli_fail(cli, EXIT_DATA, "cannot signal vigild (pid "
		    "%ld): %s", pid, strerror(errno));
	for (i = 0; i < 100; i++) {
		nanosleep(&ts, NULL);
		if (status_get(stpath, "generation", gen, sizeof(gen)) == 0 &&
		    strcmp(gen, gen0) != 0)
			break;
	}
	if (strcmp(gen, gen0) == 0)
		return cli_fail(cli, EXIT_DATA, "vigild (pid %ld) did not "
		    "answer within 5 s", pid);
	(void)status_get(stpath, "result", result, sizeof(result));
	(void)status_get(stpath, "detail", detail, sizeof(detail));
	if (strcmp(result, "ok") != 0)
		return cli_fail(cli, EXIT_DATA, "vigild refused %s: %s; it "
		    "keeps its current policy", ppath, detail);
	printf("vigild (pid %ld) reloaded %s: digest %s, generation %s\n",
	    pid, ppath, detail, gen);
	return EXIT_OK;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, struct vg_cli *cli);
} subs[] = {
	{ "check", do_check },
	{ "explain", do_explain },
	{ "reload", do_reload },
};

int
cmd_policy(int argc, char **argv, struct vg_cli *cli)
{
	size_t i;

	if (argc < 2)
		return cli_usage(cli, "expected a subcommand (check, explain, reload)");
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1, cli);
	return cli_usage(cli, "unknown subcommand '%s'", argv[1]);
}
