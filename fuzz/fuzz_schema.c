/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for vg_schema_parse() and vg_schema_format()
 * (lib/schema.c).  The input is schema text.  When parsing succeeds the
 * harness aborts unless the schema keeps every documented rule (1 to
 * VG_FIELDS_MAX fields, valid unique names, at least one indexed field,
 * no index on address or region, at most one region field, recorded in
 * s.region, and only that one kept in clear) and survives format ->
 * parse unchanged, with format stable on the second pass.  When it fails,
 * the reason must be a NUL-terminated "line N: ..." message within the
 * buffer, and a too-small buffer must never be overrun.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_schema: %s:%d: check failed: %s\n",\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

static int
name_ok(const char *n)
{
	size_t i, len = strlen(n);

	if (len == 0 || len > VG_FIELDNAME_MAX || !(n[0] >= 'a' && n[0] <= 'z'))
		return 0;
	for (i = 1; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') ||
		    (n[i] >= '0' && n[i] <= '9') || n[i] == '_'))
			return 0;
	return 1;
}

static void
check_rules(const struct vg_schema *s)
{
	size_t i, j;
	int indexed = 0, region = -1;

	CHECK(s->nfields >= 1 && s->nfields <= VG_FIELDS_MAX);
	for (i = 0; i < s->nfields; i++) {
		const struct vg_field *f = &s->field[i];

		CHECK(name_ok(f->name));
		CHECK(f->type >= VG_FT_NAME && f->type <= VG_FT_TEXT);
		CHECK(f->sealed == (f->type != VG_FT_REGION));
		if (f->type == VG_FT_ADDRESS || f->type == VG_FT_REGION)
			CHECK(!f->indexed);
		if (f->type == VG_FT_REGION) {
			CHECK(region == -1);
			region = (int)i;
		}
		indexed |= f->indexed;
		for (j = 0; j < i; j++)
			CHECK(strcmp(s->field[j].name, f->name) != 0);
		CHECK(vg_schema_find(s, f->name) == (int)i);
	}
	CHECK(indexed);
	CHECK(s->region == region);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_schema s, back;
	static char text[VG_SCHEMA_TEXT_MAX + 1], text2[VG_SCHEMA_TEXT_MAX + 1];
	char err[128], tiny[16];
	const char *txt = (const char *)data;
	size_t elen;
	int rc;

	memset(err, 'Z', sizeof(err));
	rc = vg_schema_parse(&s, txt, size, err, sizeof(err));
	if (rc != 0) {
		CHECK(rc == VG_EINVAL);
		elen = strnlen(err, sizeof(err));
		CHECK(elen < sizeof(err));
		CHECK(strncmp(err, "line ", 5) == 0);
		CHECK(err[5] >= '0' && err[5] <= '9');
		CHECK(strstr(err, ": ") != NULL);
		/* A small buffer gets a truncated, terminated message. */
		memset(tiny, 'Z', sizeof(tiny));
		CHECK(vg_schema_parse(&back, txt, size, tiny, 8) == VG_EINVAL);
		CHECK(strnlen(tiny, 8) == 7);
		CHECK(memcmp(tiny, err, 7) == 0);
		CHECK(tiny[8] == 'Z');
		return 0;
	}
	CHECK(size <= VG_SCHEMA_TEXT_MAX);
	check_rules(&s);

	CHECK(vg_schema_format(&s, text, sizeof(text)) == 0);
	CHECK(strlen(text) <= VG_SCHEMA_TEXT_MAX);
	rc = vg_schema_parse(&back, text, strlen(text), err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "fuzz_schema: reparse: %s\n", err);
	CHECK(rc == 0);
	CHECK(vg_schema_equal(&s, &back));
	CHECK(vg_schema_format(&back, text2, sizeof(text2)) == 0);
	CHECK(strcmp(text, text2) == 0);
	return 0;
}
