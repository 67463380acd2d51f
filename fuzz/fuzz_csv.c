/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the CSV reader and writer (lib/csv.c).  Each
 * input is parsed twice in lockstep: once handed over whole and once in
 * small reads whose size comes from the first byte, and both readers
 * must agree on every record and on the final error.  Every record must
 * hold the reader's invariants (valid UTF-8, NUL-terminated fields,
 * limits, increasing lines and record numbers), and must survive a
 * round trip through vg_csv_write_field() unchanged.  Any violation
 * aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	size_t chunk;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n)
{
	struct mem *m = ctx;

	if (n > m->chunk)
		n = m->chunk;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	if (n > 0)
		memcpy(buf, m->buf + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_csv: %s:%d: check failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/*
 * A strict UTF-8 validator written independently of the one in csv.c:
 * it decodes each code point and rejects overlongs, surrogates and
 * values above U+10FFFF.
 */
static int
utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	uint32_t cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Checks the invariants every returned record must hold. */
static void
check_row(const struct vg_csv_row *row)
{
	size_t i, total = 0;

	CHECK(row->nfields >= 1 && row->nfields <= VG_CSV_FIELDS_MAX);
	for (i = 0; i < row->nfields; i++) {
		CHECK(row->len[i] <= VG_CSV_FIELD_MAX);
		CHECK(row->field[i][row->len[i]] == '\0');
		CHECK(memchr(row->field[i], '\0', row->len[i]) == NULL);
		CHECK(utf8_ok((const unsigned char *)row->field[i],
		    row->len[i]));
		total += row->len[i];
	}
	CHECK(total + row->nfields - 1 <= VG_CSV_RECORD_MAX);
	CHECK(row->line >= 1 && row->record >= 1);
}

static int
same_row(const struct vg_csv_row *a, const struct vg_csv_row *b)
{
	size_t i;

	if (a->nfields != b->nfields)
		return 0;
	for (i = 0; i < a->nfields; i++) {
		if (a->len[i] != b->len[i] ||
		    memcmp(a->field[i], b->field[i], a->len[i]) != 0)
			return 0;
	}
	return 1;
}

/* Writes row with vg_csv_write_field(), reads it back, and compares. */
static void
round_trip(const struct vg_csv_row *row)
{
	struct vg_csv_row back;
	struct vg_csv *r;
	struct mem m;
	char *buf = NULL;
	size_t n = 0, i;
	FILE *fp;

	CHECK((fp = open_memstream(&buf, &n)) != NULL);
	for (i = 0; i < row->nfields; i++) {
		if (i > 0)
			CHECK(fputc(',', fp) != EOF);
		if (row->nfields == 1 && row->len[0] == 0)
			CHECK(fputs("\"\"", fp) != EOF);
		else
			CHECK(vg_csv_write_field(fp, row->field[i],
			    row->len[i]) == 0);
	}
	CHECK(fputc('\n', fp) != EOF);
	CHECK(fclose(fp) == 0);

	m.buf = (const uint8_t *)buf;
	m.len = n;
	m.pos = 0;
	m.chunk = SIZE_MAX;
	CHECK((r = vg_csv_new(mem_read, &m)) != NULL);
	CHECK(vg_csv_next(r, &back) == 1);
	CHECK(back.line == 1 && back.record == 1);
	CHECK(same_row(row, &back));
	CHECK(vg_csv_next(r, &back) == 0);
	vg_csv_free(r);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_csv_row ra, rb;
	struct vg_csv *a, *b;
	struct mem ma, mb;
	uint64_t last = 0, nrec = 0, la, lb;
	size_t ca, cb;
	const char *why;
	int rca, rcb, i;

	ma.buf = mb.buf = data;
	ma.len = mb.len = size;
	ma.pos = mb.pos = 0;
	ma.chunk = SIZE_MAX;
	mb.chunk = size > 0 ? 1 + data[0] % 7 : 1;
	CHECK((a = vg_csv_new(mem_read, &ma)) != NULL);
	CHECK((b = vg_csv_new(mem_read, &mb)) != NULL);
	for (;;) {
		rca = vg_csv_next(a, &ra);
		rcb = vg_csv_next(b, &rb);
		CHECK(rca == rcb);
		if (rca != 1)
			break;
		check_row(&ra);
		CHECK(same_row(&ra, &rb));
		CHECK(ra.line == rb.line && ra.record == rb.record);
		CHECK(ra.line > last);
		CHECK(ra.record == ++nrec);
		last = ra.line;
		round_trip(&ra);
	}
	if (rca == 0) {
		CHECK(*vg_csv_error(a, NULL, NULL) == '\0');
		CHECK(vg_csv_next(a, &ra) == 0);
	} else {
		CHECK(rca == VG_EFORMAT || rca == VG_ETOOBIG);
		why = vg_csv_error(a, &la, &ca);
		CHECK(*why != '\0');
		CHECK(strcmp(why, vg_csv_error(b, &lb, &cb)) == 0);
		CHECK(la == lb && ca == cb);
		CHECK(la >= 1 && la >= last);
		CHECK(ca >= 1 && ca <= VG_CSV_FIELDS_MAX + 1);
		for (i = 0; i < 2; i++) {
			CHECK(vg_csv_next(a, &ra) == rca);
			CHECK(ra.nfields == 0);
			CHECK(strcmp(vg_csv_error(a, &lb, &cb), why) == 0);
			CHECK(la == lb && ca == cb);
		}
	}
	vg_csv_free(a);
	vg_csv_free(b);
	return 0;
}
