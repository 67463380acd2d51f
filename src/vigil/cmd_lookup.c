/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil lookup and vigil show: exact lookup through blind indexes and the
 * masked view of a customer.  Clear values are never printed by these
 * commands; reveals go through vigild with a purpose.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vigil/audit.h"
#include "vigil/vault.h"
#include "cli.h"

static void
print_record(const struct vg_schema *sc, const struct vg_record *r,
    json_t *arr)
{
	char id[VG_ID_STRLEN];
	size_t i;

	vg_id_format(id, r->id);
	if (arr != NULL) {
		json_t *o = json_object(), *f = json_object();

		json_object_set_new(o, "id", json_string(id));
		json_object_set_new(o, "view", json_string(
		    r->view == VG_VIEW_CLEAR ? "clear" : "masked"));
		json_object_set_new(o, "key_epoch", json_integer(r->epoch));
		for (i = 0; i < sc->nfields; i++)
			if (r->present[i])
				json_object_set_new(f, sc->field[i].name,
				    json_stringn(r->value[i], r->len[i]));
		json_object_set_new(o, "fields", f);
		json_array_append_new(arr, o);
		return;
	}
	printf("%s\n", id);
	for (i = 0; i < sc->nfields; i++)
		if (r->present[i])
			printf("  %-12s %s\n", sc->field[i].name, r->value[i]);
}


/* Shows the masked records of ids, each after its audit entry (action)
 * is durable. */
static int
show_ids(struct vg_cli *cli, struct vg_vault *v, struct vg_audit *a,
    const char *action, unsigned char (*ids)[VG_IDBYTES], size_t n)
{
	const struct vg_schema *sc = vg_vault_schema(v);
	struct vg_record *r;
	json_t *arr = cli->json ? json_array() : NULL;
	size_t i;
	int rc = 0;

	r = vg_record_new();
	if (r == NULL)
		return cli_fail(cli, EXIT_DATA, "out of memory");
	for (i = 0; i < n && rc == 0; i++) {
		struct vg_audit_entry e = { 0 };

		rc = vg_vault_get(v, ids[i], 0, VG_VIEW_MASKED, r);
		e.action = action;
		e.customer = ids[i];
		e.decision = rc == 0 ? "allow" : rc == VG_ENOTFOUND ? "miss" :
		    "deny";
		e.reason = rc == 0 ? NULL : rc == VG_ENOTFOUND ?
		    "no_such_customer" : "record_unreadable";
		e.detail = "view=masked";
		if (cli_audit(cli, a, &e) != EXIT_OK) {
			vg_record_free(r);
			json_decref(arr);
			return EXIT_DATA;
		}
		if (rc == 0)
			print_record(sc, r, arr);
	}
	vg_record_free(r);
	if (rc != 0) {
		json_decref(arr);
		return cli_fail(cli, EXIT_DATA, "cannot read customer: %s",
		    vg_strerror(rc));
	}
	if (arr != NULL) {
		json_t *root = json_object();

		json_object_set_new(root, "matches", arr);
		return cli_print_json(root);
	}
	return EXIT_OK;
}

int
cmd_lookup(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "phone", required_argument, NULL, 'p' },
		{ "email", required_argument, NULL, 'e' },
		{ "account-id", required_argument, NULL, 'a' },
		{ "field", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char ids[VG_LOOKUP_MAX][VG_IDBYTES];
	const char *value = NULL, *fname = NULL, *why = NULL;
	char namebuf[VG_FIELDNAME_MAX + 1], stdin_value[VG_NORM_MAX * 4];
	enum vg_ftype type = 0;
	struct vg_audit *a = NULL;
	struct vg_vault *v;
	size_t n;
	int c, rc, field, given = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			type = VG_FT_PHONE;
			value = optarg;
			given++;
			break;
		case 'e':
			type = VG_FT_EMAIL;
			value = optarg;
			given++;
			break;
		case 'a':
			type = VG_FT_ACCOUNT;
			value = optarg;
			given++;
			break;
		case 'f': {
			const char *eq = strchr(optarg, '=');

			if (eq == NULL || eq == optarg ||
			    (size_t)(eq - optarg) > VG_FIELDNAME_MAX)
				return cli_usage(cli, "--field takes NAME=VALUE");
			memcpy(namebuf, optarg, (size_t)(eq - optarg));
			namebuf[eq - optarg] = '\0';
			fname = namebuf;
			value = eq + 1;
			given++;
			break;
		}
		case 'j':
			cli->json = true;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one vault directory");
	if (given != 1)
		return cli_usage(cli, "give exactly one of --phone, --email, "
		    "--account-id, --field");
	if (strcmp(value, "-") == 0) {
		/* The value from standard input: unlike an argument, it is
		 * not visible in ps, /proc or the shell's history. */
		if (fgets(stdin_value, sizeof(stdin_value), stdin) == NULL)
			return cli_usage(cli, "no value on standard input");
		stdin_value[strcspn(stdin_value, "\r\n")] = '\0';
		value = stdin_value;
	}
	rc = cli_open(cli, argv[optind], &v);
	if (rc != EXIT_OK)
		return rc;
	if (fname != NULL)
		field = vg_schema_find(vg_vault_schema(v), fname);
	else
		field = vg_schema_find_type(vg_vault_schema(v), type);
	if (field < 0 || !vg_vault_schema(v)->field[field].indexed) {
		vg_vault_close(v);
		return cli_fail(cli, EXIT_USAGE, "this vault has no indexed "
		    "field %s%s", fname != NULL ? "named " : "of that type",
		    fname != NULL ? fname : "");
	}
	rc = cli_audit_open(cli, argv[optind], v, &a);
	if (rc != EXIT_OK) {
		vg_vault_close(v);
		return rc;
	}
	rc = vg_vault_lookup(v, field, value, strlen(value), ids,
	    VG_LOOKUP_MAX, &n, &why);
	if (rc == VG_EINVAL || rc == VG_ENOTFOUND) {
		/* Misses and malformed values are audited too: checking a
		 * bought phone list shows up as a run of misses.  A miss is
		 * named by a keyed hash of the value, never the value. */
		struct vg_audit_entry e = { 0 };
		unsigned char probe[VG_PROBEBYTES];
		int lrc = rc;

		e.action = "lookup";
		e.fields = vg_vault_schema(v)->field[field].name;
		e.decision = lrc == VG_ENOTFOUND ? "miss" : "deny";
		e.reason = lrc == VG_ENOTFOUND ? "no_match" : "malformed_value";
		if (lrc == VG_ENOTFOUND && vg_vault_probe(v, field, value,
		    strlen(value), probe, NULL) == 0)
			e.probe = probe;
		rc = cli_audit(cli, a, &e);
		if (rc == EXIT_OK && lrc == VG_EINVAL) {
			rc = cli_fail(cli, EXIT_DATA, "%s: %s",
			    vg_vault_schema(v)->field[field].name, why);
		} else if (rc == EXIT_OK) {
			if (cli->json)
				printf("{\"matches\": []}\n");
			rc = cli_fail(cli, EXIT_DATA, "no customer matches");
		}
	} else if (rc != 0) {
		rc = cli_fail(cli, EXIT_DATA, "lookup failed: %s",
		    vg_strerror(rc));
	} else {
		rc = show_ids(cli, v, a, "lookup", ids, n);
		if (rc == EXIT_OK && n == VG_LOOKUP_MAX)
			fprintf(stderr, "vigil lookup: showing the first %d "
			    "matches; more customers may share this value\n",
			    VG_LOOKUP_MAX);
	}
	rc = cli_audit_close(cli, a, rc);
	vg_vault_close(v);
	return rc;
}

int
cmd_show(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char id[1][VG_IDBYTES];
	struct vg_audit *a = NULL;
	struct vg_vault *v;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_optfail(cli, c, argv);
		cli->json = true;
	}
	if (argc - optind != 2)
		return cli_usage(cli, "expected a vault directory and an id");
	if (vg_id_parse(id[0], argv[optind + 1]) != 0)
		return cli_fail(cli, EXIT_USAGE, "the second argument is not "
		    "a customer id (cus_ and 26 base32 characters)");
	rc = cli_open(cli, argv[optind], &v);
	if (rc != EXIT_OK)
		return rc;
	rc = cli_audit_open(cli, argv[optind], v, &a);
	if (rc == EXIT_OK)
		rc = show_ids(cli, v, a, "view", id, 1);
	rc = cli_audit_close(cli, a, rc);
	vg_vault_close(v);
	return rc;
}
