/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil export: bulk exports with canaries (include/vigil/export.h),
 * offline, and the manifests of the exports made (export list, export
 * show).  An export is decided by the access policy (DIR/policy.yaml, or
 * --policy) for a principal of the vault named with --as, whose role
 * needs the action "export"; the command line has no role of its own.
 * The detector's containment of that principal is folded from the audit
 * log, as vigild would have it.  Every row and the manifest are audited
 * on the "cli" chain, durable, before the first byte of the file is
 * written; the entries name the --as principal, and their client
 * "cli:local:USER" who ran the command.
 *
 * The file goes to -o FILE (created, mode 0600; it must not exist) or to
 * standard output.  A refused or failed export leaves no file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "vigil/audit.h"
#include "vigil/contain.h"
#include "vigil/export.h"
#include "vigil/policy.h"
#include "vigil/principal.h"
#include "vigil/vault.h"
#include "cli.h"

#define FIELDS_TEXT_MAX 1024

/*-----------------------------------------------------------------------------
 * make
 */

struct out {
	int fd;
	int failed;
};

static int
out_write(void *ctx, const void *buf, size_t len)
{
	struct out *o = ctx;
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(o->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->failed = errno != 0 ? errno : EIO;
			return VG_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
all_chains(void *ctx, const char *chain)
{
	(void)ctx;
	(void)chain;
	return 1;
}

/* The detector's containment of principal, folded from every chain. */
static int
containment(const char *dir, const char *principal, int *level, char *err,
    size_t cap)
{
	const struct vg_audit_record *rec;
	struct vg_contain_map *m = NULL;
	struct vg_audit_merge *mg = NULL;
	struct vg_contain_state cs;
	char path[4200];
	int rc;

	*level = 0;
	snprintf(path, sizeof(path), "%s/audit", dir);
	if ((rc = vg_contain_new(&m)) != 0)
		return rc;
	rc = vg_audit_merge_open(path, all_chains, NULL, &mg, err, cap);
	if (rc == VG_ENOTFOUND) {
		vg_contain_free(m);
		return 0;		/* no log yet: nobody contained */
	}
	while (rc == 0 && (rc = vg_audit_merge_next(mg, &rec)) == 1)
		rc = vg_contain_fold(m, rec);
	if (rc < 0 && rc != VG_ENOMEM && mg != NULL)
		snprintf(err, cap, "%s", vg_audit_merge_error(mg));
	vg_audit_merge_close(mg);
	if (rc >= 0) {
		vg_contain_get(m, principal, &cs);
		*level = (int)cs.level;
		rc = 0;
	}
	vg_contain_free(m);
	return rc;
}

/* Splits "phone,name" into names[] (pointers into buf). */
static int
split_fields(const char *list, char *buf, size_t cap, const char **names,
    size_t *n)
{
	char *tok, *save = NULL;

	*n = 0;
	if (strlen(list) >= cap)
		return -1;
	memcpy(buf, list, strlen(list) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (*n == VG_FIELDS_MAX)
			return -1;
		names[(*n)++] = tok;
	}
	return *n > 0 ? 0 : -1;
}

/* The request member vg_export_make named, as this command's option. */
static const char *
option_of(const char *field)
{
	if (strcmp(field, "consumer") == 0)
		return "--consumer";
	if (strcmp(field, "recipient") == 0)
		return "--recipient";
	if (strcmp(field, "purpose") == 0)
		return "--purpose";
	if (strcmp(field, "fields") == 0)
		return "--fields";
	if (strcmp(field, "region") == 0)
		return "--region";
	if (strcmp(field, "limit") == 0)
		return "--limit";
	return "the request";
}

static int
do_make(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "consumer", required_argument, NULL, 'c' },
		{ "recipient", required_argument, NULL, 'r' },
		{ "purpose", required_argument, NULL, 'p' },
		{ "fields", required_argument, NULL, 'f' },
		{ "region", required_argument, NULL, 'g' },
		{ "limit", required_argument, NULL, 'n' },
		{ "as", required_argument, NULL, 'a' },
		{ "policy", required_argument, NULL, 'P' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *names[VG_FIELDS_MAX], *as = NULL, *ppath = NULL,
	    *opath = NULL, *dir, *fields = NULL;
	char fbuf[FIELDS_TEXT_MAX], polpath[4200], err[VG_POLICY_ERR_MAX] = "";
	char client[128];
	struct vg_export_request rq;
	struct vg_export_result res;
	struct vg_export_ctx ec;
	struct vg_principal who;
	struct vg_policy *pol = NULL;
	struct vg_audit *a = NULL;
	struct vg_vault *v = NULL;
	struct out o = { 1, 0 };
	unsigned long long n;
	int c, rc, status = EXIT_OK, level = 0, made_file = 0;

	memset(&rq, 0, sizeof(rq));
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': rq.consumer = optarg; break;
		case 'r': rq.recipient = optarg; break;
		case 'p': rq.purpose = optarg; break;
		case 'f': fields = optarg; break;
		case 'g': rq.region = optarg; break;
		case 'a': as = optarg; break;
		case 'P': ppath = optarg; break;
		case 'o': opath = optarg; break;
		case 'n':
			if (cli_parse_u64(optarg, &n) != 0 || n < 1)
				return cli_usage(cli, "--limit takes the number "
				    "of customers, at least 1");
			rq.limit = n;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one vault directory");
	dir = argv[optind];
	if (rq.consumer == NULL || rq.recipient == NULL || rq.purpose == NULL ||
	    fields == NULL || rq.limit == 0 || as == NULL)
		return cli_usage(cli, "--consumer, --recipient, --purpose, "
		    "--fields, --limit and --as are required");
	if (split_fields(fields, fbuf, sizeof(fbuf), names, &rq.nfields) != 0)
		return cli_usage(cli, "--fields takes 1 to %d field names, "
		    "comma-separated", VG_FIELDS_MAX);
	rq.fields = names;
	/* The CLI shows no clear value on a screen: a file goes to a
	 * file or a pipe. */
	if (opath == NULL && isatty(STDOUT_FILENO))
		return cli_usage(cli, "an export goes to a file (-o FILE) or "
		    "a pipe, not a terminal");
	if (!vg_principal_id_ok(as))
		return cli_usage(cli, "--as takes a principal id "
		    "([a-z0-9][a-z0-9_.-]{0,63})");
	if ((status = cli_open(cli, dir, &v)) != EXIT_OK)
		return status;
	rc = vg_principal_get(v, as, &who);
	if (rc != 0) {
		status = cli_fail(cli, EXIT_DATA, "principal %s: %s", as,
		    rc == VG_ENOTFOUND ? "no such principal" : vg_strerror(rc));
		goto out;
	}
	if (ppath == NULL) {
		snprintf(polpath, sizeof(polpath), "%s/policy.yaml", dir);
		ppath = polpath;
	}
	if ((rc = vg_policy_load(ppath, vg_vault_schema(v), &pol, err,
	    sizeof(err))) != 0) {
		status = cli_fail(cli, EXIT_DATA, "%s", err);
		goto out;
	}
	if ((rc = containment(dir, who.id, &level, err, sizeof(err))) != 0) {
		status = cli_fail(cli, EXIT_DATA, "containment from the audit "
		    "log: %s", err[0] != '\0' ? err : vg_strerror(rc));
		goto out;
	}
	if (opath != NULL) {
		o.fd = open(opath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (o.fd < 0) {
			status = cli_fail(cli, EXIT_DATA, "cannot create '%s': "
			    "%s", opath, errno == EEXIST ? "it exists (an "
			    "export never overwrites a file)" :
			    strerror(errno));
			goto out;
		}
		made_file = 1;
	}
	if ((status = cli_audit_open(cli, dir, v, &a)) != EXIT_OK)
		goto out;
	snprintf(client, sizeof(client), "cli:%s", cli_audit_principal());
	memset(&ec, 0, sizeof(ec));
	ec.vault = v;
	ec.vault_dir = dir;
	ec.policy = pol;
	ec.audit = a;
	ec.chain = "cli";
	ec.who = &who;
	ec.containment = level;
	ec.now = (int64_t)time(NULL);
	ec.request_id = cli_audit_request_id();
	ec.client = client;
	rc = vg_export_make(&ec, &rq, out_write, &o, &res);
	if (rc == VG_EINVAL) {
		status = cli_fail(cli, EXIT_USAGE, "%s: %s",
		    option_of(res.field), res.message);
	} else if (rc == VG_EIO && !res.audited) {
		status = cli_fail(cli, EXIT_DATA, "audit log unavailable; "
		    "nothing was exported");
	} else if (rc != 0) {
		status = cli_fail(cli, EXIT_DATA, "export%s%s failed: %s%s",
		    res.info.id[0] != '\0' ? " " : "", res.info.id,
		    o.failed != 0 ? "cannot write the file: " : "",
		    o.failed != 0 ? strerror(o.failed) : res.message[0] !=
		    '\0' ? res.message : vg_strerror(rc));
	} else if (!res.allowed) {
		status = cli_fail(cli, EXIT_DATA, "refused: %s%s%s%s",
		    res.reason, res.message[0] != '\0' ? " (" : "",
		    res.message, res.message[0] != '\0' ? ")" : "");
	} else {
		if (o.fd > 2 && (fsync(o.fd) != 0)) {
			status = cli_fail(cli, EXIT_DATA, "cannot write '%s': "
			    "%s", opath, strerror(errno));
		} else {
			made_file = 0;	/* keep it */
			fprintf(stderr, "vigil export: %s: %llu customers and "
			    "%llu canaries for %s (consumer %s)%s%s\n",
			    res.info.id, (unsigned long long)res.info.rows,
			    (unsigned long long)res.info.canaries,
			    res.info.recipient, res.info.consumer,
			    opath != NULL ? " in " : "",
			    opath != NULL ? opath : "");
		}
	}
	status = cli_audit_close(cli, a, status);
out:
	if (o.fd > 2 && close(o.fd) != 0 && status == EXIT_OK)
		status = cli_fail(cli, EXIT_DATA, "cannot write '%s'", opath);
	if (made_file && unlink(opath) != 0)
		fprintf(stderr, "vigil export: warning: cannot remove '%s'\n",
		    opath);
	vg_policy_free(pol);
	vg_vault_close(v);
	return status;
}

/*-----------------------------------------------------------------------------
 * list and show
 */

static json_t *
info_json(const struct vg_export_info *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(e->id));
	json_object_set_new(o, "principal", json_string(e->principal));
	json_object_set_new(o, "consumer", json_string(e->consumer));
	json_object_set_new(o, "recipient", json_string(e->recipient));
	json_object_set_new(o, "purpose", json_string(e->purpose));
	json_object_set_new(o, "created", json_integer(e->created));
	json_object_set_new(o, "rows", json_integer((json_int_t)e->rows));
	json_object_set_new(o, "canaries",
	    json_integer((json_int_t)e->canaries));
	json_object_set_new(o, "fields", json_string(e->fields));
	json_object_set_new(o, "clear", json_string(e->clear));
	json_object_set_new(o, "region", e->region[0] != '\0' ?
	    json_string(e->region) : json_null());
	json_object_set_new(o, "canary_set", json_string(e->canary_set));
	json_object_set_new(o, "chain", json_string(e->chain));
	json_object_set_new(o, "manifest_seq",
	    json_integer((json_int_t)e->manifest_seq));
	return o;
}

struct list_ctx {
	bool json;
	size_t n;
};

static int
list_one(void *ctx, const struct vg_export_info *e)
{
	struct list_ctx *lc = ctx;
	char ts[CLI_TIME_STRLEN];

	lc->n++;
	if (lc->json) {
		json_t *o = info_json(e);
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

		json_decref(o);
		if (s == NULL)
			return VG_ENOMEM;
		printf("%s\n", s);
		free(s);
		return 0;
	}
	cli_format_time(ts, e->created * 1000000000LL, 0);
	printf("%s  %s  %-16s  %-16s  %-12s  %8llu rows  %6llu canaries  %s\n",
	    ts, e->id, e->consumer, e->recipient, e->purpose,
	    (unsigned long long)e->rows, (unsigned long long)e->canaries,
	    e->principal);
	return 0;
}

static int
do_list(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_ctx lc = { false, 0 };
	struct vg_vault *v;
	unsigned long long n;
	size_t limit = 100;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_u64(optarg, &n) != 0 || n < 1 ||
			    n > 100000)
				return cli_usage(cli, "--limit must be 1 to "
				    "100000");
			limit = (size_t)n;
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
	rc = vg_export_list(v, limit, list_one, &lc);
	vg_vault_close(v);
	fflush(stdout);
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "exports cannot be read (%s)",
		    vg_strerror(rc));
	if (lc.n == limit)
		fprintf(stderr, "vigil export: %zu exports shown, the limit; "
		    "older ones may exist (--limit)\n", lc.n);
	return EXIT_OK;
}

static int
do_show(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct vg_export_info e;
	struct vg_vault *v;
	char ts[CLI_TIME_STRLEN];
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_optfail(cli, c, argv);
		cli->json = true;
	}
	if (argc - optind != 2)
		return cli_usage(cli, "expected a vault directory and an "
		    "export id");
	rc = cli_open(cli, argv[optind], &v);
	if (rc != EXIT_OK)
		return rc;
	rc = vg_export_get(v, argv[optind + 1], &e);
	vg_vault_close(v);
	if (rc == VG_EINVAL)
		return cli_fail(cli, EXIT_USAGE, "the second argument is not an "
		    "export id (ex_ and 26 base32 characters)");
	if (rc == VG_ENOTFOUND)
		return cli_fail(cli, EXIT_DATA, "no such export");
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "exports cannot be read (%s)",
		    vg_strerror(rc));
	if (cli->json)
		return cli_print_json(info_json(&e));
	cli_format_time(ts, e.created * 1000000000LL, 0);
	printf("id            %s\ncreated       %s\nprincipal     %s\n"
	    "consumer      %s\nrecipient     %s\npurpose       %s\n"
	    "rows          %llu\ncanaries      %llu\nfields        %s\n"
	    "clear         %s\nregion        %s\ncanary_set    %s\n"
	    "manifest      %s #%llu\n", e.id, ts, e.principal, e.consumer,
	    e.recipient, e.purpose, (unsigned long long)e.rows,
	    (unsigned long long)e.canaries, e.fields,
	    e.clear[0] != '\0' ? e.clear : "(none: pseudonymised)",
	    e.region[0] != '\0' ? e.region : "(all)", e.canary_set, e.chain,
	    (unsigned long long)e.manifest_seq);
	return EXIT_OK;
}

int
cmd_export(int argc, char **argv, struct vg_cli *cli)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return do_list(argc - 1, argv + 1, cli);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return do_show(argc - 1, argv + 1, cli);
	return do_make(argc, argv, cli);
}
