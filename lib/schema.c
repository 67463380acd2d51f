/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema parsing and formatting; see include/vigil/schema.h for the text
 * format and its rules.
 */
#include <stdio.h>
#include <string.h>

#include "vigil/schema.h"

static const struct {
	const char *name;
	enum vg_ftype type;
	bool indexed, required;
} default_fields[] = {
	{ "name", VG_FT_NAME, false, false },
	{ "phone", VG_FT_PHONE, true, false },
	{ "email", VG_FT_EMAIL, true, false },
	{ "account_id", VG_FT_ACCOUNT, true, false },
	{ "address", VG_FT_ADDRESS, false, false },
	{ "region", VG_FT_REGION, false, false },
};

void
vg_schema_default(struct vg_schema *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->region = -1;
	for (i = 0; i < sizeof(default_fields) / sizeof(default_fields[0]);
	    i++) {
		struct vg_field *f = &s->field[i];

		snprintf(f->name, sizeof(f->name), "%s", default_fields[i].name);
		f->type = default_fields[i].type;
		f->indexed = default_fields[i].indexed;
		f->required = default_fields[i].required;
		f->sealed = f->type != VG_FT_REGION;
		if (f->type == VG_FT_REGION)
			s->region = (int)i;
	}
	s->nfields = i;
}

static bool
valid_name(const char *w, size_t n)
{
	size_t i;

	if (n == 0 || n > VG_FIELDNAME_MAX || !(w[0] >= 'a' && w[0] <= 'z'))
		return false;
	for (i = 1; i < n; i++) {
		char c = w[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_'))
			return false;
	}
	return true;
}

static bool
word_is(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

/* Splits the next whitespace-separated word of line[*pos..len). */
static bool
next_word(const char *line, size_t len, size_t *pos, const char **w,
    size_t *n)
{
	size_t i = *pos;

	while (i < len && (line[i] == ' ' || line[i] == '\t' ||
	    line[i] == '\r'))
		i++;
	if (i >= len)
		return false;
	*w = line + i;
	while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
		i++;
	*n = (size_t)(line + i - *w);
	*pos = i;
	return true;
}

static int
fail(char *err, size_t errcap, size_t lineno, const char *why)
{
	snprintf(err, errcap, "line %zu: %s", lineno, why);
	return VG_EINVAL;
}

static int
parse_line(struct vg_schema *s, const char *line, size_t len, size_t lineno,
    char *err, size_t errcap)
{
	struct vg_field *f;
	const char *w;
	size_t n, pos = 0, i;
	bool explicit_index = false;
	char tname[16];

	if (memchr(line, '#', len) != NULL)
		len = (size_t)((const char *)memchr(line, '#', len) - line);
	if (!next_word(line, len, &pos, &w, &n))
		return 0;	/* blank or comment */
	if (s->nfields == VG_FIELDS_MAX)
		return fail(err, errcap, lineno, "too many fields (at most 32)");
	if (!valid_name(w, n))
		return fail(err, errcap, lineno,
		    "field name must match [a-z][a-z0-9_]{0,31}");
	f = &s->field[s->nfields];
	memset(f, 0, sizeof(*f));
	memcpy(f->name, w, n);
	f->name[n] = '\0';
	for (i = 0; i < s->nfields; i++)
		if (strcmp(s->field[i].name, f->name) == 0)
			return fail(err, errcap, lineno, "duplicate field name");
	if (!next_word(line, len, &pos, &w, &n))
		return fail(err, errcap, lineno, "missing field type");
	if (n >= sizeof(tname))
		return fail(err, errcap, lineno, "unknown field type");
	memcpy(tname, w, n);
	tname[n] = '\0';
	f->type = vg_ftype_from_name(tname);
	if (f->type == 0)
		return fail(err, errcap, lineno, "unknown field type (name, "
		    "phone, email, account_id, address, region, text)");
	f->indexed = f->type == VG_FT_PHONE || f->type == VG_FT_EMAIL ||
	    f->type == VG_FT_ACCOUNT;
	f->sealed = f->type != VG_FT_REGION;
	while (next_word(line, len, &pos, &w, &n)) {
		if (word_is(w, n, "index")) {
			f->indexed = true;
			explicit_index = true;
		} else if (word_is(w, n, "noindex")) {
			f->indexed = false;
			explicit_index = false;
		} else if (word_is(w, n, "required")) {
			f->required = true;
		} else {
			return fail(err, errcap, lineno, "unknown option "
			    "(index, noindex, required)");
		}
	}
	if (explicit_index && (f->type == VG_FT_ADDRESS ||
	    f->type == VG_FT_REGION))
		return fail(err, errcap, lineno,
		    "address and region fields cannot be indexed");
	if (f->type == VG_FT_REGION) {
		if (s->region >= 0)
			return fail(err, errcap, lineno,
			    "at most one region field");
		s->region = (int)s->nfields;
	}
	s->nfields++;
	return 0;
}

/* The 1-based number of the line holding byte off of text. */
static size_t
line_of(const char *text, size_t off)
{
	size_t i, n = 1;

	for (i = 0; i < off; i++)
		if (text[i] == '\n')
			n++;
	return n;
}

int
vg_schema_parse(struct vg_schema *s, const char *text, size_t len, char *err,
    size_t errcap)
{
	size_t start = 0, lineno = 0, i;
	const char *nul;
	bool any_index = false;
	int rc;

	memset(s, 0, sizeof(*s));
	s->region = -1;
	if (len > VG_SCHEMA_TEXT_MAX)
		return fail(err, errcap, line_of(text, VG_SCHEMA_TEXT_MAX),
		    "schema longer than 4096 bytes");
	if ((nul = memchr(text, '\0', len)) != NULL)
		return fail(err, errcap, line_of(text, (size_t)(nul - text)),
		    "schema contains a NUL byte");
	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;

		lineno++;
		rc = parse_line(s, text + start, end - start, lineno, err,
		    errcap);
		if (rc != 0)
			return rc;
		start = end + 1;
	}
	if (s->nfields == 0)
		return fail(err, errcap, lineno, "schema defines no field");
	for (i = 0; i < s->nfields; i++)
		any_index |= s->field[i].indexed;
	if (!any_index)
		return fail(err, errcap, lineno, "no indexed field: customers "
		    "could never be looked up");
	return 0;
}

int
vg_schema_format(const struct vg_schema *s, char *out, size_t outcap)
{
	size_t i, used = 0;

	for (i = 0; i < s->nfields; i++) {
		const struct vg_field *f = &s->field[i];
		int n;

		n = snprintf(out + used, outcap - used, "%-16s %-12s%s%s\n",
		    f->name, vg_ftype_name(f->type),
		    f->indexed ? " index" : " noindex",
		    f->required ? " required" : "");
		if (n < 0 || (size_t)n >= outcap - used)
			return VG_ETOOBIG;
		used += (size_t)n;
	}
	return 0;
}

int
vg_schema_find(const struct vg_schema *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nfields; i++)
		if (strcmp(s->field[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
vg_schema_find_type(const struct vg_schema *s, enum vg_ftype t)
{
	size_t i;

	for (i = 0; i < s->nfields; i++)
		if (s->field[i].type == t && s->field[i].indexed)
			return (int)i;
	return -1;
}

bool
vg_schema_equal(const struct vg_schema *a, const struct vg_schema *b)
{
	size_t i;

	if (a->nfields != b->nfields || a->region != b->region)
		return false;
	for (i = 0; i < a->nfields; i++) {
		const struct vg_field *x = &a->field[i], *y = &b->field[i];

		if (strcmp(x->name, y->name) != 0 || x->type != y->type ||
		    x->indexed != y->indexed || x->required != y->required ||
		    x->sealed != y->sealed)
			return false;
	}
	return true;
}
