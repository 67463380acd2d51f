/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request body parsing (body.h).  Errors name the field but never repeat
 * a value: a body is where personal data arrives, and error messages end
 * up in client logs.  An unknown key is named only when it looks like an
 * identifier, for the same reason.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "body.h"

static int
fail(struct body_err *e, int status, const char *code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fail(struct body_err *e, int status, const char *code, const char *field,
    const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field != NULL ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* A key safe to repeat in an error: [a-z][a-z0-9_]*, at most 40 bytes
 * (a leading letter: a number used as a key may be a phone number). */
static const char *
safe_key(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > 40 || k[0] < 'a' || k[0] > 'z' ||
	    strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return "(not shown)";
	return k;
}

/* "application/json", optionally with parameters (charset=utf-8). */
static int
is_json_type(const char *ct, size_t len)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1, i;

	if (len < n || strncasecmp(ct, want, n) != 0)
		return 0;
	for (i = n; i < len && (ct[i] == ' ' || ct[i] == '\t'); i++)
		;
	return i == len || ct[i] == ';';
}

json_t *
body_parse(const char *buf, size_t len, const char *content_type,
    size_t ctlen, int allow_empty, struct body_err *e)
{
	json_error_t je;
	json_t *o;

	memset(e, 0, sizeof(*e));
	if (len == 0 && allow_empty)
		return json_object();
	if (content_type == NULL || !is_json_type(content_type, ctlen)) {
		fail(e, 415, "unsupported_media_type", NULL,
		    "the body must be application/json");
		return NULL;
	}
	if (len == 0) {
		fail(e, 400, "bad_json", NULL, "the body is empty; a JSON "
		    "object is required");
		return NULL;
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		/* jansson's text names the problem, not the data, except
		 * for a few messages that quote a token: keep only the
		 * position and a fixed description then. */
		if (strstr(je.text, "'") != NULL || strstr(je.text, "\"") !=
		    NULL)
			fail(e, 400, "bad_json", NULL, "malformed JSON at "
			    "line %d, column %d", je.line, je.column);
		else
			fail(e, 400, "bad_json", NULL, "malformed JSON at line "
			    "%d, column %d: %s", je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		fail(e, 400, "bad_json", NULL, "the body must be a JSON "
		    "object");
		return NULL;
	}
	return o;
}

/* Refuses keys outside allowed (NULL-terminated). */
static int
only_keys(json_t *o, const char *const *allowed, struct body_err *e)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return fail(e, 400, "unknown_field", safe_key(k),
			    "unknown field \"%s\"", safe_key(k));
	}
	return 0;
}

/* A string member: required or not, 1..max bytes, no NUL (jansson
 * allows \u0000 inside strings; nothing of ours wants it). */
static int
get_str(json_t *o, const char *key, int required, size_t max,
    const char **out, size_t *outlen, struct body_err *e)
{
	json_t *v = json_object_get(o, key);
	size_t n;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return fail(e, 400, "missing_field", key,
			    "\"%s\" is required", key);
		return 0;
	}
	if (!json_is_string(v))
		return fail(e, 400, "invalid_field", key,
		    "\"%s\" must be a string", key);
	n = json_string_length(v);
	if (n == 0)
		return fail(e, 400, "invalid_field", key,
		    "\"%s\" must not be empty", key);
	if (n > max)
		return fail(e, 400, "invalid_field", key,
		    "\"%s\" is longer than %zu bytes", key, max);
	if (memchr(json_string_value(v), '\0', n) != NULL)
		return fail(e, 400, "invalid_field", key,
		    "\"%s\" contains a NUL character", key);
	*out = json_string_value(v);
	if (outlen != NULL)
		*outlen = n;
	return 0;
}

int
body_reveal(json_t *o, struct reveal_req *r, struct body_err *e)
{
	static const char *const keys[] = { "fields", "purpose", "case_id",
	    "justification", "approval_id", NULL };
	json_t *f, *v;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (only_keys(o, keys, e) != 0)
		return -1;
	f = json_object_get(o, "fields");
	if (f == NULL)
		return fail(e, 400, "missing_field", "fields",
		    "\"fields\" is required: the fields to reveal");
	if (!json_is_array(f) || json_array_size(f) == 0)
		return fail(e, 400, "invalid_field", "fields",
		    "\"fields\" must be a non-empty array of field names");
	if (json_array_size(f) > VG_FIELDS_MAX)
		return fail(e, 400, "invalid_field", "fields",
		    "\"fields\" names at most %d fields", VG_FIELDS_MAX);
	json_array_foreach(f, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > 32)
			return fail(e, 400, "invalid_field", "fields",
			    "\"fields\"[%zu] must be a field name", i);
		r->field[r->nfields++] = json_string_value(v);
	}
	if (get_str(o, "purpose", 1, 32, &r->purpose, NULL, e) != 0 ||
	    get_str(o, "case_id", 0, 64, &r->case_id, NULL, e) != 0 ||
	    get_str(o, "justification", 0, BODY_TEXT_MAX, &r->justification,
	    NULL, e) != 0 ||
	    get_str(o, "approval_id", 0, 64, &r->approval_id, NULL, e) != 0)
		return -1;
	return 0;
}

int
body_lookup(json_t *o, struct lookup_req *r, struct body_err *e)
{
	static const char *const keys[] = { "phone", "email", "account_id",
	    "case_id", NULL };
	static const char *const by[] = { "phone", "email", "account_id" };
	const char *val;
	size_t i, len;

	memset(r, 0, sizeof(*r));
	if (only_keys(o, keys, e) != 0)
		return -1;
	for (i = 0; i < sizeof(by) / sizeof(by[0]); i++) {
		if (get_str(o, by[i], 0, BODY_TEXT_MAX, &val, &len, e) != 0)
			return -1;
		if (val == NULL)
			continue;
		if (r->key != NULL)
			return fail(e, 400, "invalid_field", by[i],
			    "look up by exactly one of phone, email, "
			    "account_id");
		r->key = by[i];
		r->value = val;
		r->len = len;
	}
	if (r->key == NULL)
		return fail(e, 400, "missing_field", "phone",
		    "one of phone, email, account_id is required");
	return get_str(o, "case_id", 0, 64, &r->case_id, NULL, e);
}

int
body_case(json_t *o, struct case_req *r, struct body_err *e)
{
	static const char *const keys[] = { "customer_id", "assignee",
	    "channel", NULL };

	memset(r, 0, sizeof(*r));
	if (only_keys(o, keys, e) != 0 ||
	    get_str(o, "customer_id", 1, 64, &r->customer_id, NULL, e) != 0 ||
	    get_str(o, "assignee", 1, 64, &r->assignee, NULL, e) != 0 ||
	    get_str(o, "channel", 1, 16, &r->channel, NULL, e) != 0)
		return -1;
	return 0;
}

int
body_assign(json_t *o, const char **assignee, struct body_err *e)
{
	static const char *const keys[] = { "assignee", NULL };

	if (only_keys(o, keys, e) != 0)
		return -1;
	return get_str(o, "assignee", 1, 64, assignee, NULL, e);
}

int
body_reason(json_t *o, const char **reason, struct body_err *e)
{
	static const char *const keys[] = { "reason", NULL };
	size_t n;

	if (only_keys(o, keys, e) != 0 ||
	    get_str(o, "reason", 0, 64, reason, &n, e) != 0)
		return -1;
	if (*reason != NULL && strspn(*reason,
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
		return fail(e, 400, "invalid_field", "reason",
		    "\"reason\" is a short code: [a-z0-9_-], at most 64");
	return 0;
}

int
body_create(json_t *o, const struct vg_schema *s, struct create_req *r,
    struct body_err *e)
{
	const char *k;
	json_t *v;
	int i;

	memset(r, 0, sizeof(*r));
	json_object_foreach(o, k, v) {
		if ((i = vg_schema_find(s, k)) < 0)
			return fail(e, 400, "unknown_field", safe_key(k),
			    "unknown field \"%s\"", safe_key(k));
		if (get_str(o, k, 0, VG_NORM_MAX, &r->value[i], &r->len[i],
		    e) != 0)
			return -1;
	}
	return 0;
}

int
body_export(json_t *o, struct export_req *r, struct body_err *e)
{
	static const char *const keys[] = { "consumer", "recipient",
	    "purpose", "fields", "region", "limit", NULL };
	json_t *f, *v;
	json_int_t lim;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (only_keys(o, keys, e) != 0 ||
	    get_str(o, "consumer", 1, 64, &r->consumer, NULL, e) != 0 ||
	    get_str(o, "recipient", 1, 64, &r->recipient, NULL, e) != 0 ||
	    get_str(o, "purpose", 1, 32, &r->purpose, NULL, e) != 0 ||
	    get_str(o, "region", 0, 64, &r->region, NULL, e) != 0)
		return -1;
	f = json_object_get(o, "fields");
	if (f == NULL)
		return fail(e, 400, "missing_field", "fields",
		    "\"fields\" is required: the fields to export");
	if (!json_is_array(f) || json_array_size(f) == 0)
		return fail(e, 400, "invalid_field", "fields",
		    "\"fields\" must be a non-empty array of field names");
	if (json_array_size(f) > VG_FIELDS_MAX)
		return fail(e, 400, "invalid_field", "fields",
		    "\"fields\" names at most %d fields", VG_FIELDS_MAX);
	json_array_foreach(f, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > 32 ||
		    memchr(json_string_value(v), '\0',
		    json_string_length(v)) != NULL)
			return fail(e, 400, "invalid_field", "fields",
			    "\"fields\"[%zu] must be a field name", i);
		r->field[r->nfields++] = json_string_value(v);
	}
	v = json_object_get(o, "limit");
	if (v == NULL || json_is_null(v))
		return fail(e, 400, "missing_field", "limit",
		    "\"limit\" is required: the number of customers");
	if (!json_is_integer(v) || (lim = json_integer_value(v)) < 1)
		return fail(e, 400, "invalid_field", "limit",
		    "\"limit\" must be a whole number, at least 1");
	r->limit = (unsigned long long)lim;
	return 0;
}
