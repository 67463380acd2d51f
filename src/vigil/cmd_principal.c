/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil principal add|list|show|revoke-key|suspend|reinstate: principals
 * and their API keys, offline on a vault directory.  Changes are audited
 * on the "cli" chain before anything is shown; no key material ever goes
 * into an audit entry or a message.  See include/vigil/principal.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "vigil/audit.h"
#include "vigil/principal.h"
#include "vigil/shift.h"
#include "vigil/region.h"
#include "vigil/vault.h"
#include "cli.h"

static json_t *
principal_json(const struct vg_principal *p)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "id", json_string(p->id));
	json_object_set_new(o, "org", json_string(p->org));
	json_object_set_new(o, "kind", json_string(p->kind));
	json_object_set_new(o, "role", json_string(p->role));
	json_object_set_new(o, "region", p->region[0] != '\0' ?
	    json_string(p->region) : json_null());
	json_object_set_new(o, "shift", p->shift[0] != '\0' ?
	    json_string(p->shift) : json_null());
	json_object_set_new(o, "state", json_string(p->state));
	json_object_set_new(o, "created", json_integer(p->created));
	return o;
}

/* Opens the vault in dir and its audit chain; EXIT_OK or a status. */
static int
open_both(struct vg_cli *cli, const char *dir, struct vg_vault **v,
    struct vg_audit **a)
{
	int rc;

	rc = cli_open(cli, dir, v);
	if (rc != EXIT_OK)
		return rc;
	rc = cli_audit_open(cli, dir, *v, a);
	if (rc != EXIT_OK) {
		vg_vault_close(*v);
		*v = NULL;
	}
	return rc;
}

static int
do_add(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "org", required_argument, NULL, 'o' },
		{ "kind", required_argument, NULL, 'k' },
		{ "role", required_argument, NULL, 'r' },
		{ "region", required_argument, NULL, 'g' },
		{ "shift", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct vg_principal_spec spec = { 0 };
	struct vg_audit_entry e = { 0 };
	struct vg_audit *a = NULL;
	struct vg_vault *v = NULL;
	char detail[160];
	const char *why = NULL;
	char *key = NULL;
	int c, rc, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			spec.id = optarg;
			break;
		case 'o':
			spec.org = optarg;
			break;
		case 'k':
			spec.kind = optarg;
			break;
		case 'r':
			spec.role = optarg;
			break;
		case 'g':
			spec.region = optarg;
			break;
		case 's':
			spec.shift = optarg;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one vault directory");
	if (spec.id == NULL || spec.org == NULL || spec.kind == NULL ||
	    spec.role == NULL)
		return cli_usage(cli, "--id, --org, --kind and --role are "
		    "required");
	if (!vg_principal_id_ok(spec.id))
		return cli_fail(cli, EXIT_USAGE, "--id must be "
		    "[a-z0-9][a-z0-9_.-]{0,63}");
	if (!vg_principal_id_ok(spec.org))
		return cli_fail(cli, EXIT_USAGE, "--org must be "
		    "[a-z0-9][a-z0-9_.-]{0,63}");
	if (!vg_principal_kind_ok(spec.kind))
		return cli_fail(cli, EXIT_USAGE, "--kind must be employee, "
		    "vendor or system");
	if (!vg_principal_role_ok(spec.role))
		return cli_fail(cli, EXIT_USAGE, "--role must be agent, "
		    "supervisor, security, admin, ingest, ticketing, "
		    "exporter or marketing_ops");
	if (spec.region != NULL && (spec.region[0] == '\0' ||
	    vg_province_find(spec.region, strlen(spec.region)) == NULL))
		return cli_fail(cli, EXIT_USAGE, "--region must name a "
		    "province of China (CN-GD, GD or its name)");
	if (spec.shift != NULL && !vg_principal_shift_ok(spec.shift)) {
		struct vg_shift sh;
		const char *swhy = NULL;

		if (strlen(spec.shift) <= VG_PRINCIPAL_SHIFT_MAX &&
		    vg_shift_parse(spec.shift, &sh, &swhy) != 0 && swhy != NULL)
			return cli_fail(cli, EXIT_USAGE, "--shift: %s (the form "
			    "is \"TZ Days HH:MM-HH:MM\", e.g. \"Asia/Shanghai "
			    "Mon-Fri 09:00-18:00\")", swhy);
		return cli_fail(cli, EXIT_USAGE, "--shift must be \"TZ Days "
		    "HH:MM-HH:MM\" in printable ASCII, at most 64 bytes");
	}

	key = sodium_malloc(VG_APIKEY_STRLEN);
	if (key == NULL)
		return cli_fail(cli, EXIT_DATA, "out of memory");
	status = open_both(cli, argv[optind], &v, &a);
	if (status != EXIT_OK)
		goto out;
	rc = vg_principal_add(v, &spec, key, &why);
	snprintf(detail, sizeof(detail), "principal=%s role=%s", spec.id,
	    spec.role);
	e.action = "principal.add";
	e.detail = detail;
	e.decision = rc == 0 ? "allow" : "deny";
	e.reason = rc == 0 ? NULL : rc == VG_EEXIST ? "exists" : "failed";
	status = cli_audit(cli, a, &e);
	status = cli_audit_close(cli, a, status);
	vg_vault_close(v);
	if (status != EXIT_OK)
		goto out;
	if (rc == VG_EEXIST) {
		status = cli_fail(cli, EXIT_DATA, "principal '%s' already "
		    "exists", spec.id);
	} else if (rc == VG_EINVAL) {
		status = cli_fail(cli, EXIT_USAGE, "%s",
		    why != NULL ? why : "invalid principal");
	} else if (rc != 0) {
		status = cli_fail(cli, EXIT_DATA, "%s", vg_strerror(rc));
	} else {
		printf("%s\n", key);
		fflush(stdout);
		fprintf(stderr, "vigil principal: this API key is shown only "
		    "once and cannot be recovered; store it now\n");
	}
out:
	sodium_free(key);
	return status;
}

struct list_ctx {
	json_t *arr;
	size_t n;
};

static int
list_one(void *ctx, const struct vg_principal *p)
{
	struct list_ctx *lc = ctx;

	lc->n++;
	if (lc->arr != NULL)
		return json_array_append_new(lc->arr, principal_json(p)) == 0 ?
		    0 : VG_ENOMEM;
	printf("%-24s %-16s %-8s %-10s %-6s %-9s %s\n", p->id, p->org,
	    p->kind, p->role, p->region[0] != '\0' ? p->region : "-",
	    p->state, p->shift[0] != '\0' ? p->shift : "-");
	return 0;
}

static int
key_one(void *ctx, const struct vg_apikey_info *k)
{
	struct list_ctx *lc = ctx;
	json_t *o;

	lc->n++;
	if (lc->arr == NULL) {
		printf("key       %s %s created %lld\n", k->key_id, k->state,
		    (long long)k->created);
		return 0;
	}
	o = json_object();
	if (o == NULL)
		return VG_ENOMEM;
	json_object_set_new(o, "key_id", json_string(k->key_id));
	json_object_set_new(o, "state", json_string(k->state));
	json_object_set_new(o, "created", json_integer(k->created));
	return json_array_append_new(lc->arr, o) == 0 ? 0 : VG_ENOMEM;
}

static int
do_list_show(int argc, char **argv, struct vg_cli *cli, int show)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_ctx lc = { NULL, 0 };
	struct vg_principal p;
	struct vg_vault *v;
	json_t *o = NULL;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_optfail(cli, c, argv);
		cli->json = true;
	}
	if (argc - optind != (show ? 2 : 1))
		return cli_usage(cli, show ? "expected a vault directory and "
		    "a principal id" : "expected one vault directory");
	if (show && !vg_principal_id_ok(argv[optind + 1]))
		return cli_fail(cli, EXIT_USAGE, "principal ids are "
		    "[a-z0-9][a-z0-9_.-]{0,63}");
	rc = cli_open(cli, argv[optind], &v);
	if (rc != EXIT_OK)
		return rc;
	if (!show) {
		if (cli->json && (lc.arr = json_array()) == NULL)
			rc = VG_ENOMEM;
		else
			rc = vg_principal_list(v, list_one, &lc);
		vg_vault_close(v);
		if (rc != 0) {
			json_decref(lc.arr);
			return cli_fail(cli, EXIT_DATA, "%s", vg_strerror(rc));
		}
		return cli->json ? cli_print_json(lc.arr) : EXIT_OK;
	}
	rc = vg_principal_get(v, argv[optind + 1], &p);
	if (rc == 0 && cli->json) {
		o = principal_json(&p);
		lc.arr = json_array();
		if (o == NULL || lc.arr == NULL)
			rc = VG_ENOMEM;
	} else if (rc == 0) {
		printf("id        %s\norg       %s\nkind      %s\n"
		    "role      %s\nregion    %s\nshift     %s\nstate     %s\n"
		    "created   %lld\n", p.id, p.org, p.kind, p.role,
		    p.region[0] != '\0' ? p.region : "-",
		    p.shift[0] != '\0' ? p.shift : "-", p.state,
		    (long long)p.created);
	}
	if (rc == 0)
		rc = vg_principal_keys(v, p.id, key_one, &lc);
	vg_vault_close(v);
	if (rc != 0) {
		json_decref(o);
		json_decref(lc.arr);
		if (rc == VG_ENOTFOUND)
			return cli_fail(cli, EXIT_DATA, "no principal '%s'",
			    argv[optind + 1]);
		return cli_fail(cli, EXIT_DATA, "%s", vg_strerror(rc));
	}
	if (o == NULL)
		return EXIT_OK;
	json_object_set_new(o, "keys", lc.arr);
	return cli_print_json(o);
}

/* suspend, reinstate and revoke-key. */
static int
do_change(int argc, char **argv, struct vg_cli *cli, const char *sub)
{
	struct vg_audit_entry e = { 0 };
	struct vg_principal owner;
	struct vg_audit *a = NULL;
	struct vg_vault *v = NULL;
	int revoke = strcmp(sub, "revoke-key") == 0;
	const char *arg, *state = NULL;
	char detail[160];
	int rc, status;

	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return cli_usage(cli, revoke ? "expected a vault directory "
		    "and a key id" : "expected a vault directory and a "
		    "principal id");
	arg = argv[2];
	if (revoke) {
		if (strlen(arg) != VG_APIKEY_IDLEN || strspn(arg,
		    "0123456789abcdef") != VG_APIKEY_IDLEN)
			return cli_fail(cli, EXIT_USAGE, "key ids are 16 "
			    "lower-case hex characters (the part after vk_)");
		e.action = "principal.revoke_key";
		snprintf(detail, sizeof(detail), "key_id=%s", arg);
	} else {
		if (!vg_principal_id_ok(arg))
			return cli_fail(cli, EXIT_USAGE, "principal ids are "
			    "[a-z0-9][a-z0-9_.-]{0,63}");
		state = strcmp(sub, "suspend") == 0 ? "suspended" : "active";
		e.action = strcmp(sub, "suspend") == 0 ?
		    "principal.suspend" : "principal.reinstate";
		snprintf(detail, sizeof(detail), "principal=%s", arg);
	}
	status = open_both(cli, argv[1], &v, &a);
	if (status != EXIT_OK)
		return status;
	if (revoke)
		rc = vg_principal_revoke_key(v, arg, &owner);
	else
		rc = vg_principal_set_state(v, arg, state);
	if (revoke && rc == 0)
		snprintf(detail, sizeof(detail), "key_id=%s principal=%s",
		    arg, owner.id);
	e.detail = detail;
	e.decision = rc == 0 ? "allow" : "deny";
	e.reason = rc == 0 ? NULL : rc == VG_ENOTFOUND ? "not_found" :
	    "failed";
	status = cli_audit(cli, a, &e);
	status = cli_audit_close(cli, a, status);
	vg_vault_close(v);
	if (status != EXIT_OK)
		return status;
	if (rc == VG_ENOTFOUND)
		return cli_fail(cli, EXIT_DATA, revoke ? "no API key '%s'" :
		    "no principal '%s'", arg);
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "%s", vg_strerror(rc));
	if (revoke)
		printf("revoked key %s of principal %s\n", arg, owner.id);
	else
		printf("principal %s is %s\n", arg, state);
	return EXIT_OK;
}

int
cmd_principal(int argc, char **argv, struct vg_cli *cli)
{
	const char *sub;

	if (argc < 2)
		return cli_usage(cli, "expected add, list, show, revoke-key, "
		    "suspend or reinstate");
	sub = argv[1];
	if (strcmp(sub, "add") == 0)
		return do_add(argc - 1, argv + 1, cli);
	if (strcmp(sub, "list") == 0)
		return do_list_show(argc - 1, argv + 1, cli, 0);
	if (strcmp(sub, "show") == 0)
		return do_list_show(argc - 1, argv + 1, cli, 1);
	if (strcmp(sub, "revoke-key") == 0 || strcmp(sub, "suspend") == 0 ||
	    strcmp(sub, "reinstate") == 0)
		return do_change(argc - 1, argv + 1, cli, sub);
	return cli_usage(cli, "unknown subcommand '%s'", sub);
}
