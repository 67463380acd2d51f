/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the access policy (lib/policy.c, lib/policy_parse.c,
 * lib/policy_mask.c): every parse error with its exact
 * "name:line:column: what", every reason code of vg_policy_decide() in
 * the documented order, step-up with and without approval, break-glass,
 * quota windows and retry_after, the decision trace with policy lines,
 * the mask styles (phones, e-mail, account ids, Chinese and Latin names,
 * compound surnames, addresses), the digest, and the default policy
 * etc/policy.yaml.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tap.h"
#include "vigil/policy.h"

static struct vg_schema schema;

/* ---------------------------------------------------------------------
 * Parsing.
 */

static struct vg_policy *
parse_ok(const char *what, const char *text)
{
	struct vg_policy *p = NULL;
	char err[VG_POLICY_ERR_MAX];
	int rc;

	rc = vg_policy_parse(text, strlen(text), "p.yaml", &schema, &p, err,
	    sizeof(err));
	is_int(rc, 0, "%s: parses", what);
	if (rc != 0)
		printf("#   %s\n", err);
	return p;
}

static void
check_error_len(const char *what, const char *text, size_t len,
    const char *want)
{
	struct vg_policy *p = (struct vg_policy *)&p;	/* not NULL */
	char err[VG_POLICY_ERR_MAX];
	int rc;

	memset(err, 'Z', sizeof(err));
	rc = vg_policy_parse(text, len, "p.yaml", &schema, &p, err,
	    sizeof(err));
	is_int(rc, VG_EINVAL, "%s: VG_EINVAL", what);
	ok(p == NULL, "%s: no policy", what);
	is_str(err, want, "%s: message", what);
}

#define CHECK_ERROR(what, text, want) \
	check_error_len((what), (text), strlen(text), (want))

/* A role head that the error tests below build on. */
#define HEAD "version: 1\nroles:\n  agent:\n"

static void
test_parse_errors(void)
{
	static char big[VG_POLICY_FILE_MAX + 2];
	char buf[2048];
	size_t i, n;

	CHECK_ERROR("empty text", "",
	    "p.yaml:1:1: empty policy (expected version: 1 and roles)");
	CHECK_ERROR("only a comment", "# nothing\n",
	    "p.yaml:1:1: empty policy (expected version: 1 and roles)");
	CHECK_ERROR("a scalar document", "hello\n",
	    "p.yaml:1:1: expected a mapping (key: value), found a single "
	    "value");
	CHECK_ERROR("unknown top-level key", "version: 1\nverison: 1\n",
	    "p.yaml:2:1: unknown key \"verison\" (expected version, "
	    "settings, masks, roles or consumers)");
	CHECK_ERROR("consumers as a list", "version: 1\nroles: {}\n"
	    "consumers: [a]\n", "p.yaml:3:12: consumers: expected a mapping "
	    "(key: value), found a list");
	CHECK_ERROR("a bad consumer name", "version: 1\nroles: {}\n"
	    "consumers:\n  Dm Vendor: {purposes: [m], max_rows: 1}\n",
	    "p.yaml:4:3: consumers: consumer name \"Dm Vendor\" must match "
	    "[a-z0-9][a-z0-9_.-]{0,63}");
	CHECK_ERROR("a consumer's unknown key", "version: 1\nroles: {}\n"
	    "consumers:\n  dm:\n    purposes: [m]\n    max_rows: 1\n"
	    "    clearr: [phone]\n", "p.yaml:7:5: consumers.dm: unknown key "
	    "\"clearr\" (expected purposes, clear or max_rows)");
	CHECK_ERROR("a consumer without purposes", "version: 1\nroles: {}\n"
	    "consumers:\n  dm:\n    max_rows: 1\n",
	    "p.yaml:5:5: consumers.dm: missing key \"purposes\"");
	CHECK_ERROR("a consumer without max_rows", "version: 1\nroles: {}\n"
	    "consumers:\n  dm:\n    purposes: [m]\n",
	    "p.yaml:5:5: consumers.dm: missing key \"max_rows\"");
	CHECK_ERROR("an empty purposes list", "version: 1\nroles: {}\n"
	    "consumers:\n  dm: {purposes: [], max_rows: 1}\n",
	    "p.yaml:4:18: consumers.dm.purposes: no purpose: a consumer needs "
	    "at least one");
	CHECK_ERROR("a purpose twice", "version: 1\nroles: {}\n"
	    "consumers:\n  dm: {purposes: [m, m], max_rows: 1}\n",
	    "p.yaml:4:22: consumers.dm.purposes: purpose \"m\" listed twice");
	CHECK_ERROR("a bad purpose name", "version: 1\nroles: {}\n"
	    "consumers:\n  dm: {purposes: [Mkt], max_rows: 1}\n",
	    "p.yaml:4:19: consumers.dm.purposes: purpose name \"Mkt\" must "
	    "match [a-z][a-z0-9_]{0,31}");
	CHECK_ERROR("an unknown clear field", "version: 1\nroles: {}\n"
	    "consumers:\n  dm:\n    purposes: [m]\n    clear: [phne]\n"
	    "    max_rows: 1\n", "p.yaml:6:13: consumers.dm.clear: unknown "
	    "field \"phne\"");
	CHECK_ERROR("max_rows 0", "version: 1\nroles: {}\n"
	    "consumers:\n  dm: {purposes: [m], max_rows: 0}\n",
	    "p.yaml:4:33: consumers.dm.max_rows: expected a whole number from "
	    "1 to 1000000");
	CHECK_ERROR("max_rows over the cap", "version: 1\nroles: {}\n"
	    "consumers:\n  dm: {purposes: [m], max_rows: 1000001}\n",
	    "p.yaml:4:33: consumers.dm.max_rows: expected a whole number from "
	    "1 to 1000000");
	CHECK_ERROR("a duplicate consumer", "version: 1\nroles: {}\n"
	    "consumers:\n  dm: {purposes: [m], max_rows: 1}\n"
	    "  dm: {purposes: [m], max_rows: 1}\n",
	    "p.yaml:5:3: consumers: duplicate key \"dm\"");
	CHECK_ERROR("missing version", "roles: {}\n",
	    "p.yaml:1:1: missing key \"version\"");
	CHECK_ERROR("missing roles", "version: 1\n",
	    "p.yaml:1:1: missing key \"roles\"");
	CHECK_ERROR("version 2", "version: 2\nroles: {}\n",
	    "p.yaml:1:10: version: unsupported version \"2\" (this vigil "
	    "reads 1)");
	CHECK_ERROR("quoted version", "version: \"1\"\nroles: {}\n",
	    "p.yaml:1:10: version: unsupported version \"1\" (this vigil "
	    "reads 1)");
	CHECK_ERROR("duplicate top-level key",
	    "version: 1\nroles: {}\nversion: 1\n",
	    "p.yaml:3:1: duplicate key \"version\"");

	/* The YAML subset. */
	CHECK_ERROR("anchor", "version: 1\nroles: &r {}\n",
	    "p.yaml:2:8: anchors (&name) are not allowed in a policy");
	CHECK_ERROR("alias", "version: 1\nroles: *r\n",
	    "p.yaml:2:8: aliases (*name) are not allowed in a policy");
	CHECK_ERROR("tag", "version: !!int 1\nroles: {}\n",
	    "p.yaml:1:10: tags (!name) are not allowed in a policy");
	CHECK_ERROR("second document", "version: 1\nroles: {}\n---\nx: 1\n",
	    "p.yaml:3:1: a policy is one YAML document; found a second");
	CHECK_ERROR("directive", "%YAML 1.1\n---\nversion: 1\nroles: {}\n",
	    "p.yaml:1:1: directives (%YAML, %TAG) are not allowed in a "
	    "policy");
	CHECK_ERROR("block scalar", "version: |\n  1\nroles: {}\n",
	    "p.yaml:1:10: block scalars (| and >) are not allowed in a "
	    "policy");
	CHECK_ERROR("complex key", "version: 1\n? [a]\n: b\nroles: {}\n",
	    "p.yaml:2:3: a key must be a plain word, not a list");
	CHECK_ERROR("syntax error", HEAD "    actions: [lookup\n",
	    "p.yaml:5:1: did not find expected ',' or ']' (while parsing a "
	    "flow sequence from 4:14)");
	CHECK_ERROR("tab indentation", "version: 1\nroles:\n\tagent: {}\n",
	    "p.yaml:3:1: found character that cannot start any token (while "
	    "scanning for the next token from 3:1)");
	CHECK_ERROR("control character by escape",
	    "version: 1\nroles: {}\nsettings: {case_ttl: \"1\\x01\"}\n",
	    "p.yaml:3:22: control character in a value");
	check_error_len("NUL byte", "version: 1\nro\0les: {}\n", 22,
	    "p.yaml:2:3: NUL byte in the policy");
	CHECK_ERROR("invalid UTF-8", "version: 1\nroles: {}\n# caf\xc3(\n",
	    "p.yaml:3:6: not valid UTF-8");
	CHECK_ERROR("raw control character",
	    "version: 1\nroles: {}\n# \x01\n",
	    "p.yaml:3:3: control characters are not allowed");
	CHECK_ERROR("UTF-8 surrogate", "version: 1\n# \xed\xa0\x80\n",
	    "p.yaml:2:3: not valid UTF-8");

	/* Limits. */
	memset(big, '#', sizeof(big));
	big[0] = '\n';
	check_error_len("larger than VG_POLICY_FILE_MAX", big,
	    VG_POLICY_FILE_MAX + 1,
	    "p.yaml:1:1: policy larger than 1048576 bytes");
	n = (size_t)snprintf(buf, sizeof(buf), "version: 1\nroles: {}\nx: ");
	for (i = 0; i < 17; i++)
		buf[n++] = '[';
	buf[n] = '\0';
	CHECK_ERROR("nesting deeper than 16", buf,
	    "p.yaml:3:19: nested deeper than 16 levels");
	n = (size_t)snprintf(buf, sizeof(buf), "version: 1\nroles: {}\n"
	    "settings: {case_ttl: ");
	for (i = 0; i < 257; i++)
		buf[n++] = 'x';
	memcpy(buf + n, "}\n", 3);
	CHECK_ERROR("a value longer than 256 bytes", buf,
	    "p.yaml:3:22: value longer than 256 bytes");
	n = (size_t)snprintf(buf, sizeof(buf), HEAD "    actions: [");
	for (i = 0; i < 257; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "a,");
	memcpy(buf + n, "]\n", 3);
	CHECK_ERROR("more than 256 entries in a list", buf,
	    "p.yaml:4:527: more than 256 entries in one list");

	/* Settings. */
	CHECK_ERROR("settings empty", "version: 1\nroles: {}\nsettings:\n",
	    "p.yaml:3:10: settings: expected a mapping (key: value), found "
	    "nothing");
	CHECK_ERROR("settings unknown key",
	    "version: 1\nroles: {}\nsettings:\n  case_tll: 1h\n",
	    "p.yaml:4:3: settings: unknown key \"case_tll\" (expected "
	    "case_ttl, approval_ttl or justification_min)");
	CHECK_ERROR("duration without unit",
	    "version: 1\nroles: {}\nsettings: {case_ttl: 72}\n",
	    "p.yaml:3:22: settings.case_ttl: expected a duration like 30s, "
	    "15m, 72h or 30d (0: never)");
	CHECK_ERROR("duration unknown unit",
	    "version: 1\nroles: {}\nsettings: {case_ttl: 3w}\n",
	    "p.yaml:3:22: settings.case_ttl: expected a duration like 30s, "
	    "15m, 72h or 30d (0: never)");
	CHECK_ERROR("duration leading zero",
	    "version: 1\nroles: {}\nsettings: {case_ttl: 07h}\n",
	    "p.yaml:3:22: settings.case_ttl: expected a duration like 30s, "
	    "15m, 72h or 30d (0: never)");
	CHECK_ERROR("duration out of range",
	    "version: 1\nroles: {}\nsettings: {case_ttl: 3651d}\n",
	    "p.yaml:3:22: settings.case_ttl: duration out of range (3650 "
	    "days at most)");
	CHECK_ERROR("huge duration",
	    "version: 1\nroles: {}\nsettings: {case_ttl: 99999999999s}\n",
	    "p.yaml:3:22: settings.case_ttl: duration out of range (3650 "
	    "days at most)");
	CHECK_ERROR("approval_ttl 0",
	    "version: 1\nroles: {}\nsettings: {approval_ttl: 0}\n",
	    "p.yaml:3:26: settings.approval_ttl: duration out of range (more "
	    "than 0 and 7 days at most)");
	CHECK_ERROR("justification_min negative",
	    "version: 1\nroles: {}\nsettings: {justification_min: -1}\n",
	    "p.yaml:3:31: settings.justification_min: expected a whole number "
	    "from 0 to 4096");
	CHECK_ERROR("justification_min too big",
	    "version: 1\nroles: {}\nsettings: {justification_min: 4097}\n",
	    "p.yaml:3:31: settings.justification_min: expected a whole number "
	    "from 0 to 4096");

	/* Masks. */
	CHECK_ERROR("mask of an unknown type",
	    "version: 1\nroles: {}\nmasks: {account: full}\n",
	    "p.yaml:3:9: masks: unknown field type \"account\" (expected "
	    "name, phone, email, account_id, address, region or text)");
	CHECK_ERROR("unknown mask style",
	    "version: 1\nroles: {}\nmasks: {phone: last5}\n",
	    "p.yaml:3:16: masks.phone: unknown mask style \"last5\" (expected "
	    "default, full, country_last4 or last4)");
	CHECK_ERROR("mask style of another type",
	    "version: 1\nroles: {}\nmasks:\n  name: city\n",
	    "p.yaml:4:9: masks.name: mask style \"city\" does not apply to "
	    "name (expected default, full or surname)");
	CHECK_ERROR("mask as a list",
	    "version: 1\nroles: {}\nmasks: {email: [full]}\n",
	    "p.yaml:3:16: masks.email: expected a single value, found a "
	    "list");

	/* Roles. */
	CHECK_ERROR("roles as a list", "version: 1\nroles: [agent]\n",
	    "p.yaml:2:8: roles: expected a mapping (key: value), found a "
	    "list");
	CHECK_ERROR("unknown role", "version: 1\nroles:\n  agnet: {}\n",
	    "p.yaml:3:3: roles: unknown role \"agnet\" (expected agent, "
	    "supervisor, security, admin, ingest, ticketing, exporter or "
	    "marketing_ops)");
	CHECK_ERROR("duplicate role",
	    HEAD "    actions: [lookup]\n  agent:\n    actions: []\n",
	    "p.yaml:5:3: roles: duplicate key \"agent\"");
	CHECK_ERROR("missing actions", HEAD "    shift: deny\n",
	    "p.yaml:4:5: roles.agent: missing key \"actions\"");
	CHECK_ERROR("unknown role key", HEAD "    actoins: [lookup]\n",
	    "p.yaml:4:5: roles.agent: unknown key \"actoins\" (expected "
	    "actions, reveal, shift, break_glass or quota)");
	CHECK_ERROR("unknown action", HEAD "    actions: [lookup, reveel]\n",
	    "p.yaml:4:23: roles.agent.actions: unknown action \"reveel\" "
	    "(expected lookup, view, reveal, customer_create, case_open, "
	    "case_self_open, case_assign, case_close, case_read, approve, "
	    "principal_read, principal_admin, audit_read, alerts, export or "
	    "leak_trace)");
	CHECK_ERROR("action twice", HEAD "    actions:\n      - view\n"
	    "      - view\n",
	    "p.yaml:6:9: roles.agent.actions: action \"view\" listed twice");
	CHECK_ERROR("actions as a word", HEAD "    actions: lookup\n",
	    "p.yaml:4:14: roles.agent.actions: expected a list ([a, b] or - "
	    "lines), found a single value");
	CHECK_ERROR("reveal without a reveal section",
	    HEAD "    actions: [lookup, reveal]\n",
	    "p.yaml:4:23: roles.agent: action reveal needs a reveal: section "
	    "with purposes");
	CHECK_ERROR("reveal section without the action",
	    HEAD "    actions: [lookup]\n    reveal:\n      purposes: "
	    "{a: [name]}\n",
	    "p.yaml:5:5: roles.agent: reveal applies to reveals, but the role "
	    "lacks the reveal action");
	CHECK_ERROR("quota without the reveal action",
	    HEAD "    actions: [lookup]\n    quota: {reveals: {day: 1}}\n",
	    "p.yaml:5:5: roles.agent: quota applies to reveals, but the role "
	    "lacks the reveal action");
	CHECK_ERROR("shift value", HEAD "    actions: [lookup, reveal]\n"
	    "    reveal: {purposes: {a: [name]}}\n    shift: maybe\n",
	    "p.yaml:6:12: roles.agent.shift: expected deny, step_up or "
	    "ignore");

	/* Reveal rules. */
#define RV HEAD "    actions: [reveal]\n    reveal:\n"
	CHECK_ERROR("missing purposes", RV "      require_case: true\n",
	    "p.yaml:6:7: roles.agent.reveal: missing key \"purposes\"");
	CHECK_ERROR("unknown field", RV "      purposes:\n"
	    "        support: [name, phne]\n",
	    "p.yaml:7:25: roles.agent.reveal.purposes.support: unknown field "
	    "\"phne\"");
	CHECK_ERROR("field twice", RV "      purposes:\n"
	    "        support: [name, name]\n",
	    "p.yaml:7:25: roles.agent.reveal.purposes.support: field \"name\" "
	    "listed twice");
	CHECK_ERROR("purpose with no field", RV "      purposes:\n"
	    "        support: []\n",
	    "p.yaml:7:18: roles.agent.reveal.purposes.support: lists no "
	    "field");
	CHECK_ERROR("no purpose", RV "      purposes: {}\n",
	    "p.yaml:6:17: roles.agent.reveal.purposes: no purpose: a role that "
	    "may reveal needs at least one");
	CHECK_ERROR("bad purpose name", RV "      purposes:\n"
	    "        Support: [name]\n",
	    "p.yaml:7:9: roles.agent.reveal.purposes: purpose name \"Support\" "
	    "must match [a-z][a-z0-9_]{0,31}");
	CHECK_ERROR("require_case yes", RV "      purposes: {a: [name]}\n"
	    "      require_case: yes\n",
	    "p.yaml:7:21: roles.agent.reveal.require_case: expected true or "
	    "false");
	CHECK_ERROR("self_opened_cases", RV "      purposes: {a: [name]}\n"
	    "      self_opened_cases: ok\n",
	    "p.yaml:7:26: roles.agent.reveal.self_opened_cases: expected "
	    "allow, step_up or deny");
	CHECK_ERROR("step_up_fields unknown", RV
	    "      purposes: {a: [name]}\n      step_up_fields: [acount_id]\n",
	    "p.yaml:7:24: roles.agent.reveal.step_up_fields: unknown field "
	    "\"acount_id\"");
	CHECK_ERROR("unknown reveal key", RV "      purposes: {a: [name]}\n"
	    "      require: true\n",
	    "p.yaml:7:7: roles.agent.reveal: unknown key \"require\" (expected "
	    "purposes, require_case, self_opened_cases or step_up_fields)");
	n = (size_t)snprintf(buf, sizeof(buf), RV "      purposes:\n");
	for (i = 0; i < 33; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "        p%zu: [name]\n", i);
	CHECK_ERROR("33 purposes", buf,
	    "p.yaml:39:9: roles.agent.reveal.purposes: more than 32 purposes");

	/* Break-glass and quotas. */
#define RQ RV "      purposes: {a: [name]}\n"
	CHECK_ERROR("break_glass allow", RQ "    break_glass: {allow: 1}\n",
	    "p.yaml:7:26: roles.agent.break_glass.allow: expected true or "
	    "false");
	CHECK_ERROR("break_glass unknown key", RQ
	    "    break_glass: {allow: true, notfy: true}\n",
	    "p.yaml:7:32: roles.agent.break_glass: unknown key \"notfy\" "
	    "(expected allow, notify or quota)");
	CHECK_ERROR("unknown quota kind", RQ
	    "    quota:\n      reveal: {day: 1}\n",
	    "p.yaml:8:7: roles.agent.quota: unknown key \"reveal\" (expected "
	    "reveals, customers or per_case)");
	CHECK_ERROR("unknown window", RQ
	    "    quota:\n      reveals: {minute: 1, year: 2}\n",
	    "p.yaml:8:28: roles.agent.quota.reveals: unknown key \"year\" "
	    "(expected minute, hour, day, week or month)");
	CHECK_ERROR("limit not a number", RQ
	    "    quota:\n      reveals: {day: ten}\n",
	    "p.yaml:8:22: roles.agent.quota.reveals.day: expected a whole "
	    "number from 0 to 1000000000");
	CHECK_ERROR("limit quoted", RQ
	    "    quota:\n      reveals: {day: \"10\"}\n",
	    "p.yaml:8:22: roles.agent.quota.reveals.day: expected a whole "
	    "number from 0 to 1000000000");
	CHECK_ERROR("limit too big", RQ
	    "    quota:\n      customers: {day: 1000000001}\n",
	    "p.yaml:8:24: roles.agent.quota.customers.day: expected a whole "
	    "number from 0 to 1000000000");
	CHECK_ERROR("window twice", RQ
	    "    quota:\n      per_case: {day: 1, day: 2}\n",
	    "p.yaml:8:26: roles.agent.quota.per_case: duplicate key \"day\"");
	CHECK_ERROR("break-glass window", RQ
	    "    break_glass:\n      quota: {days: 2}\n",
	    "p.yaml:8:15: roles.agent.break_glass.quota: unknown key \"days\" "
	    "(expected minute, hour, day, week or month)");
#undef RQ
#undef RV
}

static void
test_parse_api(void)
{
	static const char text[] = "version: 1\nroles: {}\n";
	struct vg_policy *p = NULL;
	char err[VG_POLICY_ERR_MAX], tiny[12];
	int rc;

	/* A small buffer gets a cut, terminated message. */
	memset(tiny, 'Z', sizeof(tiny));
	rc = vg_policy_parse("verison: 1\n", 11, "p.yaml", &schema, &p, tiny,
	    8);
	is_int(rc, VG_EINVAL, "small error buffer: VG_EINVAL");
	is_str(tiny, "p.yaml:", "small error buffer: cut message");
	ok(tiny[8] == 'Z', "small error buffer: nothing written past it");
	rc = vg_policy_parse("verison: 1\n", 11, "p.yaml", &schema, &p, NULL,
	    0);
	is_int(rc, VG_EINVAL, "NULL error buffer: VG_EINVAL, no crash");
	rc = vg_policy_parse(text, strlen(text), NULL, &schema, &p, err,
	    sizeof(err));
	is_int(rc, 0, "NULL name parses");
	vg_policy_free(p);
	p = NULL;
	rc = vg_policy_parse(text, strlen(text), "p", NULL, &p, err,
	    sizeof(err));
	is_int(rc, VG_EINVAL, "NULL schema: VG_EINVAL");
	rc = vg_policy_parse(NULL, 3, "p", &schema, &p, err, sizeof(err));
	is_int(rc, VG_EINVAL, "NULL text with a length: VG_EINVAL");
	vg_policy_free(NULL);
	ok(1, "vg_policy_free(NULL) is a no-op");

	/* Flow and block styles, comments, quoted keys and a BOM. */
	p = parse_ok("flow, block, comments, quotes, BOM",
	    "\xef\xbb\xbf# top\n---\nversion: 1   # v\n'settings': "
	    "{\"case_ttl\": 0, approval_ttl: 30s}\nroles:\n  ingest:\n"
	    "    actions:\n    - customer_create   # comment\n"
	    "    - 'lookup'\n...\n");
	if (p != NULL) {
		is_int(vg_policy_case_ttl(p), 0, "case_ttl 0 (never)");
		is_int(vg_policy_approval_ttl(p), 30, "approval_ttl 30s");
		is_int(vg_policy_nroles(p), 1, "one role");
	}
	vg_policy_free(p);

	p = parse_ok("quoted words", "version: 1\nroles:\n  exporter:\n"
	    "    actions: ['reveal']\n    reveal:\n      purposes:\n"
	    "        \"delivery\": [\"name\"]\n    shift: \"ignore\"\n"
	    "masks: {phone: 'last4'}\n");
	vg_policy_free(p);
	p = parse_ok("durations", "version: 1\nroles: {}\nsettings:\n"
	    "  case_ttl: 30d\n  approval_ttl: 2h\n  justification_min: 0\n");
	if (p != NULL) {
		is_int(vg_policy_case_ttl(p), 30 * 86400, "case_ttl 30d");
		is_int(vg_policy_approval_ttl(p), 7200, "approval_ttl 2h");
	}
	vg_policy_free(p);
	p = parse_ok("defaults", "version: 1\nroles: {}\n");
	if (p != NULL) {
		is_int(vg_policy_case_ttl(p), 72 * 3600,
		    "default case_ttl 72h");
		is_int(vg_policy_approval_ttl(p), 900,
		    "default approval_ttl 15m");
		is_int(vg_policy_nroles(p), 0, "no role");
	}
	vg_policy_free(p);
	is_int(vg_policy_case_ttl(NULL), 72 * 3600, "case_ttl of NULL");
}

static void
test_names(void)
{
	int a, good = 1;

	for (a = 0; a < VG_ACT_COUNT; a++)
		if (vg_action_from_name(vg_action_name((enum vg_action)a)) !=
		    a)
			good = 0;
	ok(good, "action names round-trip");
	is_str(vg_action_name(VG_ACT_CASE_SELF_OPEN), "case_self_open",
	    "case_self_open name");
	is_int(vg_action_from_name("reveals"), -1, "unknown action: -1");
	is_int(vg_action_from_name(NULL), -1, "NULL action name: -1");
	is_str(vg_action_name(VG_ACT_COUNT), "?", "out-of-range action");
	is_str(vg_mask_style_name(VG_MASK_COUNTRY_LAST4), "country_last4",
	    "mask style name");
	is_str(vg_mask_style_name((enum vg_mask_style)99), "?",
	    "unknown mask style name");
}

static void
test_digest(void)
{
	static const char a[] = "version: 1\nroles: {}\n";
	static const char b[] = "version: 1\nroles: {} \n";
	struct vg_policy *p, *q;
	unsigned char h[8];
	char want[17];
	size_t i;

	p = parse_ok("digest a", a);
	q = parse_ok("digest b", b);
	if (p == NULL || q == NULL)
		goto out;
	crypto_generichash(h, sizeof(h), (const unsigned char *)a,
	    sizeof(a) - 1, NULL, 0);
	for (i = 0; i < 8; i++)
		snprintf(want + 2 * i, 3, "%02x", h[i]);
	is_str(vg_policy_digest(p), want,
	    "digest: BLAKE2b-64 of the text, in hex");
	ok(strcmp(vg_policy_digest(p), vg_policy_digest(q)) != 0,
	    "digest: one more space, another digest");
out:
	vg_policy_free(p);
	vg_policy_free(q);
}

/* ---------------------------------------------------------------------
 * Decisions.  The line numbers in the comments are the ones checked.
 */

static const char decide_text[] =
    "version: 1\n"					/* 1 */
    "settings:\n"					/* 2 */
    "  justification_min: 10\n"				/* 3 */
    "roles:\n"						/* 4 */
    "  agent:\n"					/* 5 */
    "    actions: [lookup, view, reveal, case_close]\n"	/* 6 */
    "    reveal:\n"					/* 7 */
    "      purposes:\n"					/* 8 */
    "        support: [name, phone, email]\n"		/* 9 */
    "        fraud: [name, phone, account_id]\n"		/* 10 */
    "      require_case: true\n"				/* 11 */
    "      self_opened_cases: step_up\n"			/* 12 */
    "      step_up_fields: [account_id]\n"		/* 13 */
    "    shift: deny\n"					/* 14 */
    "    break_glass:\n"					/* 15 */
    "      allow: true\n"					/* 16 */
    "      notify: true\n"				/* 17 */
    "      quota: {day: 2, month: 10}\n"			/* 18 */
    "    quota:\n"					/* 19 */
    "      reveals: {minute: 10, hour: 120, day: 600}\n"	/* 20 */
    "      customers: {hour: 60}\n"			/* 21 */
    "      per_case: {day: 6}\n"				/* 22 */
    "  supervisor:\n"					/* 23 */
    "    actions: [lookup, view, reveal, approve]\n"	/* 24 */
    "    reveal:\n"					/* 25 */
    "      purposes:\n"					/* 26 */
    "        support: [name, phone, email, account_id, address]\n"
    "      self_opened_cases: deny\n"			/* 28 */
    "    shift: step_up\n"				/* 29 */
    "  exporter:\n"					/* 30 */
    "    actions: [reveal]\n"				/* 31 */
    "    reveal:\n"					/* 32 */
    "      purposes:\n"					/* 33 */
    "        delivery: [name, address]\n"			/* 34 */
    "      require_case: false\n"			/* 35 */
    "    shift: ignore\n"				/* 36 */
    "  security:\n"					/* 37 */
    "    actions: [reveal]\n"				/* 38 */
    "    reveal:\n"					/* 39 */
    "      purposes:\n"					/* 40 */
    "        investigation: [name]\n"			/* 41 */
    "      self_opened_cases: allow\n"			/* 42 */
    "    break_glass: {allow: true, notify: false}\n";	/* 43 */

#define NOW 1000000
#define F(name) (UINT32_C(1) << vg_schema_find(&schema, (name)))

static struct vg_policy *dp;
static struct vg_principal who;
static struct vg_quota_usage usage;

/* A reveal by an agent in shift, of name and phone for support, under a
 * good case, with no usage. */
static void
base_input(struct vg_policy_input *in, const char *role)
{
	memset(in, 0, sizeof(*in));
	memset(&who, 0, sizeof(who));
	memset(&usage, 0, sizeof(usage));
	snprintf(who.id, sizeof(who.id), "alice");
	snprintf(who.role, sizeof(who.role), "%s", role);
	snprintf(who.state, sizeof(who.state), "active");
	in->who = &who;
	in->action = VG_ACT_REVEAL;
	in->fields = F("name") | F("phone");
	in->purpose = "support";
	in->kase.given = in->kase.found = in->kase.open = true;
	in->kase.assigned_to_caller = in->kase.same_customer = true;
	in->shift = 1;
	in->usage = &usage;
	in->now = NOW;
}

/* True when some step's text contains s (and, if line > 0, has line). */
static int
has_step(const struct vg_decision *d, const char *s, int line)
{
	size_t i;

	for (i = 0; i < d->nsteps; i++)
		if (strstr(d->step[i].text, s) != NULL &&
		    (line <= 0 || d->step[i].line == line))
			return 1;
	printf("#   no step \"%s\" (line %d) in:\n", s, line);
	for (i = 0; i < d->nsteps; i++)
		printf("#     %d: %s\n", d->step[i].line, d->step[i].text);
	return 0;
}

static void
expect(const char *what, const struct vg_policy_input *in,
    enum vg_verdict v, const char *reason, struct vg_decision *d)
{
	vg_policy_decide(dp, in, d);
	is_int(d->verdict, v, "%s: verdict", what);
	is_str(d->reason, reason, "%s: reason %s", what, reason);
}

/* An export by role of name and phone for consumer. */
static void
export_input(struct vg_policy_input *in, const char *role,
    const char *consumer, const char *purpose, uint64_t rows)
{
	base_input(in, role);
	in->action = VG_ACT_EXPORT;
	in->consumer = consumer;
	in->purpose = purpose;
	in->rows = rows;
	in->kase.given = false;
	in->usage = NULL;
}

static const char export_text[] =
    "version: 1\n"					/* 1 */
    "roles:\n"						/* 2 */
    "  marketing_ops:\n"				/* 3 */
    "    actions: [export]\n"				/* 4 */
    "  agent:\n"					/* 5 */
    "    actions: [lookup]\n"				/* 6 */
    "consumers:\n"					/* 7 */
    "  dm-vendor:\n"					/* 8 */
    "    purposes: [marketing, survey]\n"		/* 9 */
    "    max_rows: 1000\n"				/* 10 */
    "  courier.sf:\n"					/* 11 */
    "    purposes: [delivery]\n"				/* 12 */
    "    clear: [name, phone, address]\n"		/* 13 */
    "    max_rows: 50\n";				/* 14 */

static void
test_decide_export(void)
{
	struct vg_policy *save = dp, *p;
	struct vg_policy_consumer co;
	struct vg_policy_input in;
	struct vg_decision d;

	if ((p = parse_ok("the export policy", export_text)) == NULL)
		return;
	dp = p;
	is_str(vg_action_name(VG_ACT_EXPORT), "export", "action name export");
	is_int(vg_action_from_name("export"), VG_ACT_EXPORT, "and back");
	is_int(vg_policy_nconsumers(p), 2, "two consumers");
	ok(vg_policy_role_has(p, "marketing_ops", VG_ACT_EXPORT) &&
	    !vg_policy_role_has(p, "agent", VG_ACT_EXPORT) &&
	    !vg_policy_role_has(p, "marketing_ops", VG_ACT_LOOKUP) &&
	    !vg_policy_role_has(p, "admin", VG_ACT_EXPORT) &&
	    !vg_policy_role_has(NULL, "agent", VG_ACT_LOOKUP),
	    "vg_policy_role_has");
	ok(vg_policy_consumer(p, "courier.sf", &co) && co.max_rows == 50 &&
	    co.clear == (F("name") | F("phone") | F("address")) &&
	    strcmp(co.purposes, "delivery") == 0 && co.line == 11,
	    "vg_policy_consumer: purposes, clear, max_rows, line");
	ok(vg_policy_consumer(p, "dm-vendor", &co) && co.clear == 0 &&
	    strcmp(co.purposes, "marketing,survey") == 0,
	    "a consumer without clear: nothing in clear");
	ok(!vg_policy_consumer(p, "nobody", &co), "an unlisted consumer");

	export_input(&in, "marketing_ops", "dm-vendor", "marketing", 1000);
	expect("export within max_rows", &in, VG_ALLOW, VG_R_OK, &d);
	is_int(d.clear, 0, "  pseudonymised: nothing in clear");
	is_int(d.max_rows, 1000, "  max_rows reported");
	ok(has_step(&d, "consumer dm-vendor may receive exports for purpose "
	    "marketing (p.yaml:9)", 9), "  trace: the purposes line");
	ok(has_step(&d, "masked (pseudonymised export): name, phone "
	    "(built-in default)", 0), "  trace: what is masked, by default");
	in.rows = 1001;
	expect("one row over max_rows", &in, VG_DENY, VG_R_TOO_MANY_ROWS, &d);
	ok(has_step(&d, "1001 rows asked for; consumer dm-vendor takes at "
	    "most 1000 (p.yaml:10)", 10), "  trace: the max_rows line");
	in.rows = 10;
	in.purpose = "delivery";
	expect("a purpose of another consumer", &in, VG_DENY, VG_R_PURPOSE,
	    &d);
	in.purpose = NULL;
	expect("no purpose", &in, VG_DENY, VG_R_PURPOSE, &d);
	in.purpose = "marketing";
	in.consumer = "courier";
	expect("an unlisted consumer", &in, VG_DENY, VG_R_CONSUMER, &d);
	ok(has_step(&d, "consumer courier is not listed under consumers "
	    "(p.yaml:7)", 7), "  trace: the consumers line");
	in.consumer = NULL;
	expect("no consumer", &in, VG_DENY, VG_R_CONSUMER, &d);
	in.consumer = "Bad Name";
	expect("a malformed consumer", &in, VG_DENY, VG_R_CONSUMER, &d);
	ok(has_step(&d, "consumer (malformed) is not listed", 0),
	    "  not quoted");
	export_input(&in, "marketing_ops", "courier.sf", "delivery", 50);
	in.fields = F("name") | F("phone") | F("email");
	expect("courier: name, phone, email", &in, VG_ALLOW, VG_R_OK, &d);
	is_int(d.clear, F("name") | F("phone"), "  name and phone in clear, "
	    "email masked");
	ok(d.clear != 0 && has_step(&d, "in clear: name, phone (p.yaml:13)",
	    13), "  trace: the clear line");
	in.fields = 0;
	expect("no field", &in, VG_DENY, VG_R_FIELD, &d);
	in.fields = F("phone");
	in.containment = 1;
	expect("a contained principal (step-up)", &in, VG_DENY,
	    VG_R_SUSPENDED, &d);
	in.containment = 2;
	expect("a contained principal (suspend)", &in, VG_DENY,
	    VG_R_SUSPENDED, &d);
	export_input(&in, "agent", "dm-vendor", "marketing", 1);
	expect("a role without the export action", &in, VG_DENY, VG_R_ROLE,
	    &d);
	export_input(&in, "marketing_ops", "dm-vendor", "marketing", 1);
	snprintf(who.state, sizeof(who.state), "suspended");
	expect("a suspended principal", &in, VG_DENY, VG_R_SUSPENDED, &d);
	base_input(&in, "marketing_ops");
	expect("marketing_ops reveals nothing", &in, VG_DENY, VG_R_ROLE, &d);
	in.action = VG_ACT_LOOKUP;
	expect("nor looks up", &in, VG_DENY, VG_R_ROLE, &d);
	/* A policy without consumers exports to nobody. */
	vg_policy_free(p);
	p = parse_ok("no consumers", "version: 1\nroles:\n  marketing_ops:\n"
	    "    actions: [export]\n");
	dp = p;
	export_input(&in, "marketing_ops", "dm-vendor", "marketing", 1);
	if (p != NULL)
		expect("no consumers section: default deny", &in, VG_DENY,
		    VG_R_CONSUMER, &d);
	vg_policy_free(p);
	dp = save;
}

static void
test_decide_basics(void)
{
	struct vg_policy_input in;
	struct vg_decision d;

	base_input(&in, "agent");
	expect("agent reveal in a good case", &in, VG_ALLOW, VG_R_OK, &d);
	ok(has_step(&d, "role agent may reveal for purpose support: name, "
	    "phone, email (p.yaml:9)", 9), "trace: the purpose rule and line");
	ok(has_step(&d, "role agent may reveal (p.yaml:6)", 6),
	    "trace: the action rule and line");
	ok(has_step(&d, "within every quota", 0), "trace: quotas");
	is_str(d.step[d.nsteps - 1].text, "verdict: allow (ok)",
	    "trace: the verdict last");
	ok(!d.break_glass && !d.notify && d.step_up_why == NULL,
	    "no break-glass, no notify, no step-up");
	is_int(d.quota_window, -1, "no quota window");

	in.action = VG_ACT_LOOKUP;
	expect("agent lookup", &in, VG_ALLOW, VG_R_OK, &d);
	in.action = VG_ACT_APPROVE;
	expect("agent approve", &in, VG_DENY, VG_R_ROLE, &d);
	ok(has_step(&d, "role agent may not approve (p.yaml:5)", 5),
	    "trace: the role's line");
	in.action = VG_ACT_COUNT;
	expect("an out-of-range action", &in, VG_DENY, VG_R_ROLE, &d);

	base_input(&in, "admin");
	in.action = VG_ACT_LOOKUP;
	expect("a role not in the policy", &in, VG_DENY, VG_R_ROLE, &d);
	ok(has_step(&d, "role admin is not in the policy", 0),
	    "trace: role not in the policy");

	base_input(&in, "agent");
	snprintf(who.state, sizeof(who.state), "suspended");
	expect("suspended principal, reveal", &in, VG_DENY, VG_R_SUSPENDED,
	    &d);
	in.action = VG_ACT_LOOKUP;
	expect("suspended principal, lookup", &in, VG_DENY, VG_R_SUSPENDED,
	    &d);
	who.state[0] = '\0';
	expect("principal with no state", &in, VG_DENY, VG_R_SUSPENDED, &d);

	vg_policy_decide(NULL, &in, &d);
	ok(d.verdict == VG_DENY && d.nsteps >= 1, "no policy: deny");
	vg_policy_decide(dp, NULL, &d);
	ok(d.verdict == VG_DENY, "no input: deny");
	base_input(&in, "agent");
	in.who = NULL;
	vg_policy_decide(dp, &in, &d);
	ok(d.verdict == VG_DENY, "no principal: deny");
}

static void
test_decide_reveal_order(void)
{
	struct vg_policy_input in;
	struct vg_decision d;

	base_input(&in, "agent");
	in.containment = 2;
	expect("containment 2", &in, VG_DENY, VG_R_SUSPENDED, &d);
	in.containment = 1;
	expect("containment 1", &in, VG_STEP_UP, VG_R_STEP_UP, &d);
	is_str(d.step_up_why, "contained", "containment 1: why contained");
	in.approved = true;
	expect("containment 1, approved", &in, VG_ALLOW, VG_R_APPROVED, &d);
	in.approved = false;
	in.purpose = "marketing";
	expect("containment 1 then a purpose refused: deny wins", &in,
	    VG_DENY, VG_R_PURPOSE, &d);

	base_input(&in, "agent");
	in.purpose = "marketing";
	expect("unknown purpose", &in, VG_DENY, VG_R_PURPOSE, &d);
	ok(has_step(&d, "purpose marketing is not granted to role agent "
	    "(p.yaml:8)", 8), "trace: purposes line");
	in.purpose = "Support\xff";
	expect("malformed purpose", &in, VG_DENY, VG_R_PURPOSE, &d);
	ok(has_step(&d, "purpose (malformed) is not granted", 8),
	    "trace: a malformed purpose is not quoted");
	in.purpose = NULL;
	expect("no purpose", &in, VG_DENY, VG_R_PURPOSE, &d);
	in.purpose = "support";
	in.fields = F("name") | F("address");
	expect("a field outside the purpose", &in, VG_DENY, VG_R_FIELD, &d);
	ok(has_step(&d, "address is not allowed for purpose support", 9),
	    "trace: the field named");
	in.fields = 0;
	expect("no field", &in, VG_DENY, VG_R_FIELD, &d);
	in.fields = UINT32_C(1) << 31;
	expect("a field beyond the schema", &in, VG_DENY, VG_R_FIELD, &d);

	/* The case rules, in order. */
	base_input(&in, "agent");
	in.kase.given = false;
	expect("no case, no justification", &in, VG_DENY, VG_R_NO_CASE, &d);
	in.justification_len = 9;
	expect("no case, short justification", &in, VG_DENY,
	    VG_R_JUSTIFICATION, &d);
	ok(has_step(&d, "9 bytes of the 10 needed (p.yaml:3)", 3),
	    "trace: justification_min line");
	in.justification_len = 10;
	expect("break-glass", &in, VG_ALLOW, VG_R_BREAK_GLASS, &d);
	ok(d.break_glass && d.notify, "break-glass: flagged, notify");
	ok(has_step(&d, "break-glass with a justification of 10 bytes", 16),
	    "trace: break-glass allow line");

	base_input(&in, "supervisor");
	in.kase.given = false;
	in.justification_len = 100;
	expect("supervisor may not break glass", &in, VG_DENY, VG_R_NO_CASE,
	    &d);
	ok(has_step(&d, "role supervisor may not break glass (built-in "
	    "default)", 0), "trace: built-in default cited");

	base_input(&in, "security");
	in.purpose = "investigation";
	in.fields = F("name");
	in.kase.given = false;
	in.justification_len = 10;
	expect("break-glass without notify", &in, VG_ALLOW, VG_R_BREAK_GLASS,
	    &d);
	ok(d.break_glass && !d.notify, "notify: false is kept");

	base_input(&in, "agent");
	in.kase.found = false;
	expect("case not found", &in, VG_DENY, VG_R_CASE_NOT_FOUND, &d);
	in.justification_len = 100;
	expect("a bad case is no break-glass", &in, VG_DENY,
	    VG_R_CASE_NOT_FOUND, &d);
	base_input(&in, "agent");
	in.kase.open = false;
	in.kase.expired = true;
	expect("case closed (before expired)", &in, VG_DENY, VG_R_CASE_CLOSED,
	    &d);
	in.kase.open = true;
	in.kase.assigned_to_caller = false;
	expect("case expired (before assignment)", &in, VG_DENY,
	    VG_R_CASE_EXPIRED, &d);
	in.kase.expired = false;
	in.kase.same_customer = false;
	expect("case not assigned (before customer)", &in, VG_DENY,
	    VG_R_CASE_NOT_ASSIGNED, &d);
	in.kase.assigned_to_caller = true;
	expect("case of another customer", &in, VG_DENY, VG_R_CASE_OTHER, &d);

	/* Self-opened cases: step_up, deny, allow. */
	base_input(&in, "agent");
	in.kase.self_opened = true;
	expect("self-opened, step_up", &in, VG_STEP_UP, VG_R_STEP_UP, &d);
	is_str(d.step_up_why, VG_R_SELF_OPENED, "why: self-opened");
	ok(has_step(&d, "opened the case for themselves: needs a "
	    "supervisor's approval (p.yaml:12)", 12), "trace: line 12");
	in.approved = true;
	expect("self-opened, step_up, approved", &in, VG_ALLOW, VG_R_APPROVED,
	    &d);
	base_input(&in, "supervisor");
	in.kase.self_opened = true;
	expect("self-opened, deny", &in, VG_DENY, VG_R_SELF_OPENED, &d);
	in.approved = true;
	expect("self-opened, deny, approval does not help", &in, VG_DENY,
	    VG_R_SELF_OPENED, &d);
	base_input(&in, "security");
	in.purpose = "investigation";
	in.fields = F("name");
	in.kase.self_opened = true;
	expect("self-opened, allow", &in, VG_ALLOW, VG_R_OK, &d);

	/* Shifts. */
	base_input(&in, "agent");
	in.shift = 0;
	expect("off shift, deny", &in, VG_DENY, VG_R_OFF_SHIFT, &d);
	ok(has_step(&d, "outside the principal's shift: refused (p.yaml:14)",
	    14), "trace: shift line");
	in.shift = -1;
	expect("no shift set", &in, VG_ALLOW, VG_R_OK, &d);
	base_input(&in, "supervisor");
	in.shift = 0;
	expect("off shift, step_up", &in, VG_STEP_UP, VG_R_STEP_UP, &d);
	is_str(d.step_up_why, VG_R_OFF_SHIFT, "why: off shift");
	in.approved = true;
	expect("off shift, step_up, approved", &in, VG_ALLOW, VG_R_APPROVED,
	    &d);
	base_input(&in, "exporter");
	in.purpose = "delivery";
	in.fields = F("name") | F("address");
	in.kase.given = false;
	in.shift = 0;
	expect("off shift, ignore; no case needed", &in, VG_ALLOW, VG_R_OK,
	    &d);
	ok(has_step(&d, "role exporter reveals without a case (p.yaml:35)",
	    35), "trace: require_case false line");
	ok(has_step(&d, "role exporter has no reveal quota", 30),
	    "trace: no quota");
	in.usage = NULL;
	expect("no usage and no quota", &in, VG_ALLOW, VG_R_OK, &d);

	/* Step-up fields. */
	base_input(&in, "agent");
	in.purpose = "fraud";
	in.fields = F("name") | F("account_id");
	expect("step-up field", &in, VG_STEP_UP, VG_R_STEP_UP, &d);
	is_str(d.step_up_why, VG_R_FIELD, "why: a step-up field");
	ok(has_step(&d, "account_id: needs a supervisor's approval "
	    "(p.yaml:13)", 13), "trace: step_up_fields line");
	in.approved = true;
	expect("step-up field, approved", &in, VG_ALLOW, VG_R_APPROVED, &d);
	in.approved = false;
	in.kase.given = false;
	in.justification_len = 50;
	expect("break-glass with a step-up field", &in, VG_STEP_UP,
	    VG_R_STEP_UP, &d);
	ok(!d.break_glass && !d.notify, "step-up: not yet break-glass");
	in.approved = true;
	expect("break-glass with a step-up field, approved", &in, VG_ALLOW,
	    VG_R_BREAK_GLASS, &d);
	ok(d.break_glass && d.notify, "approved break-glass: flagged");

	/* The first step-up cause is the one reported. */
	base_input(&in, "supervisor");
	in.containment = 1;
	in.shift = 0;
	expect("contained and off shift", &in, VG_STEP_UP, VG_R_STEP_UP, &d);
	is_str(d.step_up_why, "contained", "why: the first cause");
}

static void
test_decide_quotas(void)
{
	struct vg_policy_input in;
	struct vg_decision d;

	base_input(&in, "agent");
	usage.reveals[VG_QW_MINUTE] = 9;
	expect("9 of 10 a minute", &in, VG_ALLOW, VG_R_OK, &d);
	usage.reveals[VG_QW_MINUTE] = 10;
	usage.reveal_expiry[VG_QW_MINUTE] = NOW + 17;
	expect("10 of 10 a minute", &in, VG_DENY, VG_R_QUOTA, &d);
	is_int(d.quota_window, VG_QW_MINUTE, "window minute");
	is_str(d.quota_kind, "reveals", "kind reveals");
	is_int(d.quota_limit, 10, "limit 10");
	is_int(d.retry_after, 17, "retry_after = expiry - now");
	ok(has_step(&d, "quota reveals per minute: 10 used, limit 10; retry "
	    "in 17 s (p.yaml:20)", 20), "trace: quota line");
	usage.reveal_expiry[VG_QW_MINUTE] = NOW - 5;
	expect("expiry in the past", &in, VG_DENY, VG_R_QUOTA, &d);
	is_int(d.retry_after, 1, "retry_after at least 1");
	usage.reveal_expiry[VG_QW_MINUTE] = 0;
	expect("no expiry known", &in, VG_DENY, VG_R_QUOTA, &d);
	is_int(d.retry_after, 60, "retry_after: the window's length");

	/* Two windows over: the longer wait is reported. */
	usage.reveal_expiry[VG_QW_MINUTE] = NOW + 30;
	usage.reveals[VG_QW_HOUR] = 120;
	usage.reveal_expiry[VG_QW_HOUR] = NOW + 1800;
	expect("minute and hour over", &in, VG_DENY, VG_R_QUOTA, &d);
	is_int(d.quota_window, VG_QW_HOUR, "the hour is reported");
	is_int(d.retry_after, 1800, "retry_after of the hour");
	is_int(d.quota_limit, 120, "limit 120");

	base_input(&in, "agent");
	usage.reveals[VG_QW_DAY] = 600;
	usage.reveal_expiry[VG_QW_DAY] = NOW + 40000;
	expect("day over", &in, VG_DENY, VG_R_QUOTA, &d);
	is_int(d.quota_window, VG_QW_DAY, "window day");

	/* Distinct customers: a customer already seen costs nothing. */
	base_input(&in, "agent");
	usage.customers[VG_QW_HOUR] = 60;
	usage.reveal_expiry[VG_QW_HOUR] = NOW + 100;
	expect("60 of 60 customers, a new one", &in, VG_DENY, VG_R_QUOTA, &d);
	is_str(d.quota_kind, "customers", "kind customers");
	is_int(d.quota_window, VG_QW_HOUR, "customers: window hour");
	is_int(d.quota_limit, 60, "customers: limit 60");
	usage.seen[VG_QW_HOUR] = true;
	expect("60 of 60 customers, one already seen", &in, VG_ALLOW, VG_R_OK,
	    &d);

	/* Per case: 6 a day per case handled, one case's worth at least. */
	base_input(&in, "agent");
	usage.reveals[VG_QW_DAY] = 5;
	expect("per_case: 6th reveal, no case counted", &in, VG_ALLOW,
	    VG_R_OK, &d);
	usage.reveals[VG_QW_DAY] = 6;
	usage.reveal_expiry[VG_QW_DAY] = NOW + 500;
	expect("per_case: 7th reveal, no case counted", &in, VG_DENY,
	    VG_R_QUOTA, &d);
	is_str(d.quota_kind, "per_case", "kind per_case");
	is_int(d.quota_limit, 6, "per_case: limit 6");
	usage.cases[VG_QW_DAY] = 2;
	usage.reveals[VG_QW_DAY] = 11;
	expect("per_case: 12th reveal, two cases", &in, VG_ALLOW, VG_R_OK, &d);
	usage.reveals[VG_QW_DAY] = 12;
	expect("per_case: 13th reveal, two cases", &in, VG_DENY, VG_R_QUOTA,
	    &d);
	is_int(d.quota_limit, 12, "per_case: limit 6 x 2");
	is_int(d.retry_after, 500, "per_case: retry_after");

	/* Break-glass limits count only break-glass reveals. */
	base_input(&in, "agent");
	usage.break_glass[VG_QW_DAY] = 2;
	usage.break_glass_expiry[VG_QW_DAY] = NOW + 3000;
	expect("break-glass quota does not limit case reveals", &in,
	    VG_ALLOW, VG_R_OK, &d);
	in.kase.given = false;
	in.justification_len = 20;
	expect("break-glass quota", &in, VG_DENY, VG_R_QUOTA, &d);
	is_str(d.quota_kind, "break_glass", "kind break_glass");
	is_int(d.quota_limit, 2, "break_glass: limit 2");
	is_int(d.retry_after, 3000, "break_glass: its own expiry");
	ok(d.break_glass, "the decision says break-glass was tried");

	/* Saturated or missing usage fails closed. */
	base_input(&in, "agent");
	usage.saturated = true;
	usage.reveal_expiry[VG_QW_MONTH] = NOW + 99;
	expect("saturated usage", &in, VG_DENY, VG_R_QUOTA, &d);
	is_int(d.quota_window, VG_QW_MONTH, "saturated: window month");
	is_int(d.retry_after, 99, "saturated: retry_after");
	base_input(&in, "agent");
	in.usage = NULL;
	expect("no usage given", &in, VG_DENY, VG_R_QUOTA, &d);

	/* A refusal beats a pending step-up. */
	base_input(&in, "agent");
	in.purpose = "fraud";
	in.fields = F("account_id");
	usage.reveals[VG_QW_MINUTE] = 10;
	expect("step-up field and quota over", &in, VG_DENY, VG_R_QUOTA, &d);
}

/* The trace never overflows, and keeps its verdict. */
static void
test_decide_trace(void)
{
	struct vg_policy_input in;
	struct vg_decision d;
	size_t i;
	int good = 1;

	base_input(&in, "agent");
	in.containment = 1;
	in.kase.self_opened = true;
	in.purpose = "fraud";
	in.fields = F("account_id");
	in.approved = true;
	expect("every step-up cause approved", &in, VG_ALLOW, VG_R_APPROVED,
	    &d);
	ok(d.nsteps <= VG_POLICY_STEPS_MAX, "nsteps within bounds");
	for (i = 0; i < d.nsteps; i++)
		if (strnlen(d.step[i].text, VG_POLICY_STEP_MAX) >=
		    VG_POLICY_STEP_MAX || d.step[i].line < 0)
			good = 0;
	ok(good, "every step terminated, lines >= 0");
	is_str(d.step[d.nsteps - 1].text, "verdict: allow (approved)",
	    "the verdict is last");
}

/* ---------------------------------------------------------------------
 * Masks.
 */

static void
check_mask(const struct vg_policy *p, enum vg_ftype t, const char *in,
    const char *want)
{
	char out[VG_NORM_MAX + 1];
	int rc;

	memset(out, 'Z', sizeof(out));
	rc = vg_policy_mask(p, t, in, strlen(in), out, sizeof(out));
	is_int(rc, 0, "mask %s \"%s\": 0", vg_ftype_name(t), in);
	is_str(out, want, "mask %s \"%s\"", vg_ftype_name(t), in);
}

static void
test_masks(void)
{
	struct vg_policy *p;
	char out[VG_NORM_MAX + 1], want[VG_NORM_MAX + 1];
	int rc;

	/* The built-in defaults (no policy, or no masks section). */
	check_mask(NULL, VG_FT_PHONE, "+8613800138000", "+86 *******8000");
	check_mask(NULL, VG_FT_PHONE, "+8675588889999", "+86 *******9999");
	check_mask(NULL, VG_FT_PHONE, "+14155550123", "+1 ******0123");
	check_mask(NULL, VG_FT_PHONE, "+442071234567", "+44 ******4567");
	check_mask(NULL, VG_FT_PHONE, "+85291234567", "+852 ****4567");
	check_mask(NULL, VG_FT_PHONE, "+8612", "+86 **");
	check_mask(NULL, VG_FT_PHONE, "13800138000", "****");
	check_mask(NULL, VG_FT_PHONE, "+86 138", "****");
	check_mask(NULL, VG_FT_EMAIL, "zhang.san@example.com",
	    "z***@example.com");
	check_mask(NULL, VG_FT_EMAIL, "a@b.cn", "*@b.cn");
	check_mask(NULL, VG_FT_EMAIL, "no-at-sign", "****");
	check_mask(NULL, VG_FT_EMAIL, "@x.cn", "****");
	check_mask(NULL, VG_FT_ACCOUNT, "zhangsan88", "z***88");
	check_mask(NULL, VG_FT_ACCOUNT, "li@qq.com", "l***@qq.com");
	check_mask(NULL, VG_FT_ACCOUNT, "bob42", "****");
	check_mask(NULL, VG_FT_NAME, "张三丰", "张**");
	check_mask(NULL, VG_FT_NAME, "张三", "张*");
	check_mask(NULL, VG_FT_NAME, "王", "*");
	check_mask(NULL, VG_FT_NAME, "欧阳修", "欧阳*");
	check_mask(NULL, VG_FT_NAME, "欧阳", "欧*");
	check_mask(NULL, VG_FT_NAME, "诸葛孔明", "诸葛**");
	check_mask(NULL, VG_FT_NAME, "司马相如", "司马**");
	check_mask(NULL, VG_FT_NAME, "上官婉儿", "上官**");
	check_mask(NULL, VG_FT_NAME, "歐陽修", "歐陽*");
	check_mask(NULL, VG_FT_NAME, "John Smith", "J. S.");
	check_mask(NULL, VG_FT_NAME, "Anne-Marie de la Cruz", "A. d. l. C.");
	check_mask(NULL, VG_FT_NAME, "Ólafur", "Ó.");
	check_mask(NULL, VG_FT_ADDRESS, "广东省深圳市南山区科技园路1号",
	    "广东省深圳市****");
	check_mask(NULL, VG_FT_ADDRESS, "广东省广州市天河区体育西路",
	    "广东省广州市****");
	check_mask(NULL, VG_FT_ADDRESS, "北京市朝阳区建国路88号",
	    "北京市****");
	check_mask(NULL, VG_FT_ADDRESS, "云南省大理白族自治州大理市下关镇",
	    "云南省大理白族自治州****");
	check_mask(NULL, VG_FT_ADDRESS,
	    "内蒙古自治区锡林郭勒盟锡林浩特市", "内蒙古自治区锡林郭勒盟****");
	check_mask(NULL, VG_FT_ADDRESS,
	    "新疆维吾尔自治区阿克苏地区阿克苏市", "新疆维吾尔自治区阿克苏地区****");
	check_mask(NULL, VG_FT_ADDRESS, "香港特别行政区中西区皇后大道中1号",
	    "香港特别行政区****");
	check_mask(NULL, VG_FT_ADDRESS, "浙江省某县某镇某村", "浙江省****");
	check_mask(NULL, VG_FT_ADDRESS, "某地某处", "****");
	check_mask(NULL, VG_FT_ADDRESS, "221B Baker Street, London, NW1 6XE, UK",
	    "****, London, UK");
	check_mask(NULL, VG_FT_ADDRESS, "1 Main St", "****");
	check_mask(NULL, VG_FT_REGION, "CN-GD", "CN-GD");
	check_mask(NULL, VG_FT_TEXT, "anything at all", "****");
	check_mask(NULL, (enum vg_ftype)99, "x", "****");

	/* Not UTF-8, empty: nothing shown. */
	check_mask(NULL, VG_FT_NAME, "\xff\xfe", "****");
	rc = vg_policy_mask(NULL, VG_FT_NAME, NULL, 0, out, sizeof(out));
	ok(rc == 0 && strcmp(out, "****") == 0, "NULL value: ****");

	/* A buffer too small: VG_ETOOBIG and an empty string. */
	memset(out, 'Z', sizeof(out));
	rc = vg_policy_mask(NULL, VG_FT_PHONE, "+8613800138000", 14, out, 8);
	is_int(rc, VG_ETOOBIG, "small buffer: VG_ETOOBIG");
	ok(out[0] == '\0' && out[8] == 'Z', "small buffer: empty, no overrun");
	is_int(vg_policy_mask(NULL, VG_FT_PHONE, "+86", 3, NULL, 0),
	    VG_ETOOBIG, "NULL buffer: VG_ETOOBIG");

	/* A policy's masks section. */
	p = parse_ok("masks section", "version: 1\nroles: {}\nmasks:\n"
	    "  phone: last4\n  name: full\n  email: default\n"
	    "  address: full\n  region: full\n  text: full\n");
	if (p == NULL)
		return;
	check_mask(p, VG_FT_PHONE, "+8613800138000", "*******8000");
	check_mask(p, VG_FT_NAME, "欧阳修", "***");
	check_mask(p, VG_FT_NAME, "John Smith", "**********");
	check_mask(p, VG_FT_REGION, "CN-GD", "*****");
	check_mask(p, VG_FT_TEXT, "ab c", "****");
	rc = vg_mask(VG_FT_EMAIL, "zhang@example.com", 17, want, sizeof(want));
	is_int(rc, 0, "vg_mask email");
	check_mask(p, VG_FT_EMAIL, "zhang@example.com", want);
	check_mask(p, VG_FT_ACCOUNT, "zhangsan88", "z***88");
	is_int(vg_policy_mask_style(p, VG_FT_PHONE), VG_MASK_LAST4,
	    "mask_style: the policy's");
	is_int(vg_policy_mask_style(p, VG_FT_ACCOUNT), VG_MASK_FIRST_DOMAIN,
	    "mask_style: a type not in the section keeps its default");
	is_int(vg_policy_mask_style(NULL, VG_FT_ADDRESS), VG_MASK_CITY,
	    "mask_style: built-in");
	vg_policy_free(p);
}

/* ---------------------------------------------------------------------
 * The default policy, etc/policy.yaml.
 */

static const char *argv0;

static int
find_default(char *path, size_t cap)
{
	const char *root = getenv("ROOT");
	static const char *const rel[] = { "etc/policy.yaml",
	    "/../../etc/policy.yaml", "/../../../etc/policy.yaml" };
	char dir[PATH_MAX], *slash;
	FILE *f;
	size_t i;

	if (root != NULL) {
		snprintf(path, cap, "%s/etc/policy.yaml", root);
		if ((f = fopen(path, "r")) != NULL)
			goto found;
	}
	snprintf(path, cap, "%s", rel[0]);
	if ((f = fopen(path, "r")) != NULL)
		goto found;
	snprintf(dir, sizeof(dir), "%s", argv0 != NULL ? argv0 : ".");
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	for (i = 1; i < 3; i++) {
		if ((size_t)snprintf(path, cap, "%s%s", dir, rel[i]) >= cap)
			continue;
		if ((f = fopen(path, "r")) != NULL)
			goto found;
	}
	return -1;
found:
	fclose(f);
	return 0;
}

static void
test_default_policy(void)
{
	struct vg_policy *p = NULL;
	struct vg_policy_input in;
	struct vg_decision d;
	char path[PATH_MAX], err[VG_POLICY_ERR_MAX];
	struct vg_policy *save = dp;
	int rc;

	if (find_default(path, sizeof(path)) != 0) {
		ok(0, "etc/policy.yaml found (set ROOT)");
		return;
	}
	rc = vg_policy_load(path, &schema, &p, err, sizeof(err));
	is_int(rc, 0, "etc/policy.yaml loads");
	if (rc != 0) {
		printf("#   %s\n", err);
		return;
	}
	is_int(vg_policy_nroles(p), 8, "eight roles");
	is_int(vg_policy_case_ttl(p), 72 * 3600, "case_ttl 72h");
	is_int(vg_policy_approval_ttl(p), 15 * 60, "approval_ttl 15m");
	is_int(strlen(vg_policy_digest(p)), 16, "digest: 16 hex");
	check_mask(p, VG_FT_PHONE, "+8613800138000", "+86 *******8000");

	dp = p;
	base_input(&in, "agent");
	expect("default: agent reveal for support", &in, VG_ALLOW, VG_R_OK,
	    &d);
	in.purpose = "account_recovery";
	in.fields = F("account_id");
	expect("default: agent account_id steps up", &in, VG_STEP_UP,
	    VG_R_STEP_UP, &d);
	base_input(&in, "admin");
	expect("default: admins reveal nothing", &in, VG_DENY, VG_R_ROLE, &d);
	in.action = VG_ACT_PRINCIPAL_ADMIN;
	expect("default: admins manage principals", &in, VG_ALLOW, VG_R_OK,
	    &d);
	base_input(&in, "ingest");
	in.action = VG_ACT_CUSTOMER_CREATE;
	expect("default: ingest creates customers", &in, VG_ALLOW, VG_R_OK,
	    &d);
	/* Exports: marketing_ops only, pseudonymised for the dm vendor. */
	export_input(&in, "marketing_ops", "dm-vendor", "marketing", 1000);
	expect("default: marketing_ops exports to dm-vendor", &in, VG_ALLOW,
	    VG_R_OK, &d);
	is_int(d.clear, 0, "default: dm-vendor gets nothing in clear");
	export_input(&in, "marketing_ops", "courier", "delivery", 1000);
	in.fields = F("name") | F("phone") | F("email");
	expect("default: marketing_ops exports to the courier", &in,
	    VG_ALLOW, VG_R_OK, &d);
	is_int(d.clear, F("name") | F("phone"), "default: the courier gets "
	    "name and phone in clear, not email");
	{
		static const char *const roles[] = { "agent", "supervisor",
		    "security", "admin", "ingest", "ticketing", "exporter" };
		size_t i, refused = 0;

		for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
			export_input(&in, roles[i], "dm-vendor", "marketing",
			    10);
			vg_policy_decide(p, &in, &d);
			refused += d.verdict == VG_DENY &&
			    strcmp(d.reason, VG_R_ROLE) == 0;
		}
		is_int(refused, 7, "default: no other role may export");
	}
	ok(vg_policy_nconsumers(p) == 2, "default: two consumers");
	dp = save;
	vg_policy_free(p);

	rc = vg_policy_load("/nonexistent/policy.yaml", &schema, &p, err,
	    sizeof(err));
	is_int(rc, VG_EIO, "load: a missing file is VG_EIO");
	is_str(err, "/nonexistent/policy.yaml: No such file or directory",
	    "load: message");
	rc = vg_policy_load("/", &schema, &p, err, sizeof(err));
	is_int(rc, VG_EIO, "load: a directory is VG_EIO");
}

int
main(int argc, char **argv)
{
	(void)argc;
	argv0 = argv[0];
	if (sodium_init() < 0)
		return 1;
	vg_schema_default(&schema);
	test_parse_errors();
	test_parse_api();
	test_names();
	test_digest();
	dp = parse_ok("the decision policy", decide_text);
	if (dp != NULL) {
		test_decide_basics();
		test_decide_reveal_order();
		test_decide_quotas();
		test_decide_trace();
		test_decide_export();
	}
	test_masks();
	test_default_policy();
	vg_policy_free(dp);
	return done_testing();
}
