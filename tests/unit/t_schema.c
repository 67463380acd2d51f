/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/schema.c: the default schema, parsing (comments,
 * blank lines, CRLF, options), every rule with the exact "line N: reason"
 * it reports, the size limits, and format -> parse round trips.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vigil/schema.h"

/* Parses text (NUL-terminated) and returns the code; err gets the reason. */
static int
parse(struct vg_schema *s, const char *text, char *err, size_t errcap)
{
	err[0] = '\0';
	return vg_schema_parse(s, text, strlen(text), err, errcap);
}

/* Expects text to fail with exactly want as the message. */
static void
check_error(const char *what, const char *text, size_t len, const char *want)
{
	struct vg_schema s;
	char err[256];
	int rc;

	memset(err, 0, sizeof(err));
	rc = vg_schema_parse(&s, text, len, err, sizeof(err));
	is_int(rc, VG_EINVAL, "%s: VG_EINVAL", what);
	is_str(err, want, "%s: message", what);
}

#define CHECK_ERROR(what, text, want) \
	check_error((what), (text), sizeof(text) - 1, (want))

static void
test_default(void)
{
	static const struct {
		const char *name;
		enum vg_ftype type;
		int indexed;
	} want[] = {
		{ "name", VG_FT_NAME, 0 },
		{ "phone", VG_FT_PHONE, 1 },
		{ "email", VG_FT_EMAIL, 1 },
		{ "account_id", VG_FT_ACCOUNT, 1 },
		{ "address", VG_FT_ADDRESS, 0 },
		{ "region", VG_FT_REGION, 0 },
	};
	struct vg_schema s;
	size_t i;
	int good = 1;

	memset(&s, 0xa5, sizeof(s));
	vg_schema_default(&s);
	is_int(s.nfields, 6, "default schema: six fields");
	for (i = 0; i < 6 && i < s.nfields; i++) {
		const struct vg_field *f = &s.field[i];

		if (strcmp(f->name, want[i].name) != 0 ||
		    f->type != want[i].type ||
		    f->indexed != (want[i].indexed != 0) || f->required ||
		    f->sealed != (want[i].type != VG_FT_REGION)) {
			printf("# field %zu: %s\n", i, f->name);
			good = 0;
		}
	}
	ok(good, "default schema: names, types, index flags, sealing");
	is_int(s.region, 5, "default schema: region is field 5");
	is_int(vg_schema_find(&s, "phone"), 1, "find phone");
	is_int(vg_schema_find(&s, "region"), 5, "find region");
	is_int(vg_schema_find(&s, "phon"), -1, "find: no prefix match");
	is_int(vg_schema_find(&s, "nosuch"), -1, "find: unknown name");
	is_int(vg_schema_find_type(&s, VG_FT_EMAIL), 2, "find_type email");
	is_int(vg_schema_find_type(&s, VG_FT_NAME), -1,
	    "find_type: name is not indexed");
	is_int(vg_schema_find_type(&s, VG_FT_TEXT), -1,
	    "find_type: no text field");
}

static void
test_parse_good(void)
{
	static const char text[] =
	    "# customer fields\r\n"
	    "\r\n"
	    "name\tname\trequired   # shown masked\r\n"
	    "   phone   phone\r\n"
	    "work_phone phone noindex\r\n"
	    "\t\r\n"
	    "email email required index\r\n"
	    "#region region\r\n"
	    "note        text index\r\n"
	    "addr2 address\n"
	    "prov region # clear\r\n"
	    "x_9 account_id";	/* no final newline */
	struct vg_schema s;
	char err[256];
	int rc;

	rc = parse(&s, text, err, sizeof(err));
	is_int(rc, 0, "comments, blank lines, tabs, CRLF and no final "
	    "newline parse");
	if (rc != 0) {
		printf("# %s\n", err);
		return;
	}
	is_int(s.nfields, 8, "eight fields");
	is_str(s.field[0].name, "name", "field 0 name");
	ok(s.field[0].type == VG_FT_NAME && s.field[0].required &&
	    !s.field[0].indexed, "name: type name, required, not indexed");
	is_str(s.field[1].name, "phone", "leading blanks skipped");
	ok(s.field[1].type == VG_FT_PHONE && s.field[1].indexed &&
	    !s.field[1].required, "phone: indexed by default");
	ok(s.field[2].type == VG_FT_PHONE && !s.field[2].indexed,
	    "noindex turns the default index off");
	ok(s.field[3].type == VG_FT_EMAIL && s.field[3].indexed &&
	    s.field[3].required, "options in any order");
	is_str(s.field[4].name, "note", "commented-out line skipped");
	ok(s.field[4].type == VG_FT_TEXT && s.field[4].indexed,
	    "text field with index");
	ok(s.field[5].type == VG_FT_ADDRESS && !s.field[5].indexed &&
	    s.field[5].sealed, "address: sealed, not indexed");
	ok(s.field[6].type == VG_FT_REGION && !s.field[6].sealed,
	    "region: kept in clear");
	is_int(s.region, 6, "region index");
	is_str(s.field[7].name, "x_9", "last line without newline");
	ok(s.field[7].type == VG_FT_ACCOUNT && s.field[7].indexed,
	    "account_id: indexed by default");

	/* The smallest schema. */
	is_int(parse(&s, "p phone", err, sizeof(err)), 0,
	    "one indexed field is enough");
	is_int(s.region, -1, "no region field: -1");
	/* A 32-byte name is the longest. */
	is_int(parse(&s, "abcdefghijklmnopqrstuvwxyz012345 phone\n", err,
	    sizeof(err)), 0, "32-byte field name accepted");
}

static void
test_parse_errors(void)
{
	char big[VG_SCHEMA_TEXT_MAX + 64];
	char many[64 * 40];
	size_t i, used;
	struct vg_schema s;
	char err[256];

	CHECK_ERROR("upper-case name", "phone phone\nName name\n",
	    "line 2: field name must match [a-z][a-z0-9_]{0,31}");
	CHECK_ERROR("name starting with a digit", "# x\n1st text\n",
	    "line 2: field name must match [a-z][a-z0-9_]{0,31}");
	CHECK_ERROR("name with a dash", "a-b phone\n",
	    "line 1: field name must match [a-z][a-z0-9_]{0,31}");
	CHECK_ERROR("33-byte name",
	    "p phone\n\nabcdefghijklmnopqrstuvwxyz0123456 phone\n",
	    "line 3: field name must match [a-z][a-z0-9_]{0,31}");
	CHECK_ERROR("non-ASCII name", "t\xc3\xa9l phone\n",
	    "line 1: field name must match [a-z][a-z0-9_]{0,31}");
	CHECK_ERROR("duplicate name", "phone phone\nemail email\nphone text\n",
	    "line 3: duplicate field name");
	CHECK_ERROR("missing type", "phone phone\nnote   # comment\n",
	    "line 2: missing field type");
	CHECK_ERROR("unknown type", "phone phone\nx blob\n",
	    "line 2: unknown field type (name, phone, email, account_id, "
	    "address, region, text)");
	memset(err, 0, sizeof(err));
	is_int(parse(&s, "x averyveryverylongtypename\n", err, sizeof(err)),
	    VG_EINVAL, "long unknown type: VG_EINVAL");
	ok(strncmp(err, "line 1: unknown field type", 26) == 0,
	    "long unknown type: message");
	CHECK_ERROR("type is case-sensitive", "x Phone\n",
	    "line 1: unknown field type (name, phone, email, account_id, "
	    "address, region, text)");
	CHECK_ERROR("unknown option", "phone phone indexed\n",
	    "line 1: unknown option (index, noindex, required)");
	CHECK_ERROR("option after a good one", "p phone\n\ne email required "
	    "unique\n", "line 3: unknown option (index, noindex, required)");
	CHECK_ERROR("index on address", "p phone\na address index\n",
	    "line 2: address and region fields cannot be indexed");
	CHECK_ERROR("index on region", "p phone\n# r\nr region index\n",
	    "line 3: address and region fields cannot be indexed");
	CHECK_ERROR("two region fields", "p phone\nr1 region\nr2 region\n",
	    "line 3: at most one region field");
	CHECK_ERROR("no field (comments only)", "# a\n\n# b\n",
	    "line 3: schema defines no field");
	CHECK_ERROR("no indexed field", "n name\nt text\n",
	    "line 2: no indexed field: customers could never be looked up");
	CHECK_ERROR("all indexes turned off", "p phone noindex\n",
	    "line 1: no indexed field: customers could never be looked up");
	check_error("NUL byte", "p phone\ne email\nx\0y text\n", 22,
	    "line 3: schema contains a NUL byte");
	check_error("NUL byte in a comment", "# \0\np phone\n", 11,
	    "line 1: schema contains a NUL byte");

	/* 32 fields are fine, a 33rd is refused on its line. */
	used = 0;
	for (i = 0; i < VG_FIELDS_MAX + 1; i++)
		used += (size_t)snprintf(many + used, sizeof(many) - used,
		    "f%zu %s\n", i, i == 0 ? "phone" : "text");
	{
		size_t len32 = 0, nl = 0;

		while (nl < VG_FIELDS_MAX)
			if (many[len32++] == '\n')
				nl++;
		is_int(vg_schema_parse(&s, many, len32, err, sizeof(err)), 0,
		    "32 fields accepted");
		is_int(s.nfields, VG_FIELDS_MAX, "... all 32 parsed");
	}
	check_error("33 fields", many, used,
	    "line 33: too many fields (at most 32)");

	/* Exactly 4096 bytes are accepted, 4097 refused. */
	memset(big, '#', sizeof(big));
	memcpy(big, "p phone\n", 8);
	for (i = 8 + 99; i < sizeof(big); i += 100)
		big[i] = '\n';	/* comment lines of 100 bytes */
	big[VG_SCHEMA_TEXT_MAX - 1] = '\n';
	is_int(vg_schema_parse(&s, big, VG_SCHEMA_TEXT_MAX, err, sizeof(err)),
	    0, "4096 bytes accepted");
	/* Byte 4097 is on line 1 + (newlines in the first 4096 bytes). */
	{
		size_t line = 1;
		char want[64];

		for (i = 0; i < VG_SCHEMA_TEXT_MAX; i++)
			line += big[i] == '\n';
		snprintf(want, sizeof(want), "line %zu: schema longer than "
		    "4096 bytes", line);
		check_error("4097 bytes", big, VG_SCHEMA_TEXT_MAX + 1, want);
	}

	/* A small err buffer is truncated, NUL-terminated, not overrun. */
	{
		char tiny[12];

		memset(tiny, 'Z', sizeof(tiny));
		is_int(vg_schema_parse(&s, "x blob", 6, tiny, 8), VG_EINVAL,
		    "tiny err buffer: VG_EINVAL");
		is_str(tiny, "line 1:", "tiny err buffer: truncated message");
		ok(tiny[8] == 'Z', "tiny err buffer: nothing written past it");
	}
}

static void
roundtrip(const char *what, const struct vg_schema *s)
{
	struct vg_schema back;
	char text[VG_SCHEMA_TEXT_MAX], text2[VG_SCHEMA_TEXT_MAX], err[256];
	int rc;

	rc = vg_schema_format(s, text, sizeof(text));
	is_int(rc, 0, "%s: format", what);
	err[0] = '\0';
	rc = vg_schema_parse(&back, text, strlen(text), err, sizeof(err));
	is_int(rc, 0, "%s: formatted text parses", what);
	if (rc != 0)
		printf("# %s\n", err);
	ok(vg_schema_equal(s, &back), "%s: parse(format(s)) == s", what);
	(void)vg_schema_format(&back, text2, sizeof(text2));
	is_str(text2, text, "%s: format is stable", what);
}

static void
test_roundtrip(void)
{
	struct vg_schema s;
	char text[4096], err[256];
	size_t i, used = 0;

	vg_schema_default(&s);
	roundtrip("default schema", &s);

	is_int(parse(&s, "name name required\nwork phone noindex\nhome phone\n"
	    "note text index required\nzone region\naddr address required\n"
	    "login account_id noindex\n", err, sizeof(err)), 0,
	    "custom schema parses");
	roundtrip("custom schema", &s);

	/* 32 fields with 32-byte names and every option: the largest. */
	for (i = 0; i < VG_FIELDS_MAX; i++) {
		static const char *const types[] = { "name", "phone", "email",
		    "account_id", "address", "text" };
		const char *t = i == 31 ? "region" : types[i % 6];
		const char *opt = (i % 6 == 4 || i == 31) ? "required" :
		    (i % 2 ? "index required" : "noindex");

		char name[VG_FIELDNAME_MAX + 1];

		memset(name, 'x', VG_FIELDNAME_MAX);
		name[VG_FIELDNAME_MAX] = '\0';
		name[0] = 'f';
		name[1] = (char)('0' + i / 10);
		name[2] = (char)('0' + i % 10);
		used += (size_t)snprintf(text + used, sizeof(text) - used,
		    "%s %s %s\n", name, t, opt);
	}
	is_int(vg_schema_parse(&s, text, used, err, sizeof(err)), 0,
	    "largest schema parses");
	if (s.nfields > 0)
		is_int(strlen(s.field[0].name), VG_FIELDNAME_MAX,
		    "largest schema: 32-byte names");
	roundtrip("largest schema", &s);
	{
		char out[VG_SCHEMA_TEXT_MAX];

		is_int(vg_schema_format(&s, out, 100), VG_ETOOBIG,
		    "format into a small buffer: VG_ETOOBIG");
		ok(vg_schema_format(&s, out, sizeof(out)) == 0 &&
		    strlen(out) < VG_SCHEMA_TEXT_MAX,
		    "largest schema formats within the parse limit");
	}
}

int
main(void)
{
	test_default();
	test_parse_good();
	test_parse_errors();
	test_roundtrip();
	return done_testing();
}
