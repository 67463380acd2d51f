/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the leak reader (lib/leak.c), with no hit
 * callback.  The first input byte, xor '0', holds the options and the
 * rest is the file, so the seeds in fuzz/corpus/leak/ start with '0'
 * (everything sniffed, whole reads) or another digit:
 *
 *	bits 0-2  size of the second reader's reads: whole, 1, 2, 3, 7,
 *	          64, 4096, 65536 bytes
 *	bits 3-4  opts.header: -1, 0, 1, -1
 *	bits 5-7  0-1 sniff everything, 2-5 delimiter ',' tab ';' '|',
 *	          6-7 sniffed delimiter and forced columns
 *
 * The file is read twice, whole and in reads of the chosen size, and
 * both readers must agree on the open's result, the layout, every row
 * and the final error.  The harness aborts unless the layout and rows
 * hold the reader's invariants: a known separator, at most
 * VG_LEAK_COLS_MAX columns, "unused" exactly for untyped columns,
 * header cells printable UTF-8 within VG_LEAK_HEADER_MAX bytes, counts
 * that add up, rows in increasing line and record order, and canonical
 * values of the column's type that normalise to themselves.  Open
 * errors must be one printable ASCII line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/crypto.h"
#include "vigil/leak.h"
#include "vigil/normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_leak: %s:%d: check failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

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

static void
check_layout(const struct vg_leak_layout *y)
{
	const struct vg_leak_column *c;
	size_t i, n, j;

	CHECK(y->delimiter == ',' || y->delimiter == '\t' ||
	    y->delimiter == ';' || y->delimiter == '|');
	CHECK(y->ncolumns <= VG_LEAK_COLS_MAX);
	for (i = 0; i < VG_LEAK_COLS_MAX; i++) {
		c = &y->col[i];
		CHECK(c->how != NULL);
		CHECK(strcmp(c->how, "header") == 0 ||
		    strcmp(c->how, "values") == 0 ||
		    strcmp(c->how, "vault") == 0 ||
		    strcmp(c->how, "forced") == 0 ||
		    strcmp(c->how, "unused") == 0);
		CHECK((c->type == 0) == (strcmp(c->how, "unused") == 0));
		CHECK(c->type == 0 || c->type == VG_FT_NAME ||
		    c->type == VG_FT_PHONE || c->type == VG_FT_EMAIL ||
		    c->type == VG_FT_ACCOUNT || c->type == VG_LEAK_PSEUDONYM);
		CHECK(strcmp(c->how, "vault") != 0);	/* no callback */
		CHECK(c->hits == 0);
		CHECK(c->parsed <= c->sampled);
		CHECK(c->sampled <= VG_LEAK_SNIFF_ROWS);
		n = strnlen(c->header, VG_LEAK_HEADER_MAX + 1);
		CHECK(n <= VG_LEAK_HEADER_MAX);
		CHECK(vg_utf8_valid(c->header, n));
		for (j = 0; j < n; j++)
			CHECK((unsigned char)c->header[j] >= 0x20 &&
			    c->header[j] != 0x7f);
		if (i >= y->ncolumns)
			CHECK(c->type == 0 && n == 0 && c->sampled == 0);
		if (!y->header)
			CHECK(n == 0);
	}
}

static void
check_row(const struct vg_leak_layout *y, const struct vg_leak_row *r)
{
	char back[VG_NORM_MAX + 1];
	size_t i, used = 0, n;
	int last = -1;

	for (i = 0; i < y->ncolumns; i++)
		used += y->col[i].type != 0;
	CHECK(r->nvalues + r->nbad + r->nempty == used);
	CHECK(r->line >= 1 && r->record >= 1 && r->record <= r->line);
	for (i = 0; i < r->nvalues; i++) {
		const struct vg_leak_value *v = &r->value[i];

		CHECK(v->column > last && (size_t)v->column < y->ncolumns);
		last = v->column;
		CHECK(v->type == y->col[v->column].type);
		CHECK(v->len > 0 && v->canon[v->len] == '\0');
		CHECK(strlen(v->canon) == v->len);
		if (v->type == VG_LEAK_PSEUDONYM) {
			unsigned char psn[VG_PSNBYTES];
			size_t k;

			/* A pseudonym, in lower case. */
			CHECK(vg_psn_parse(psn, v->canon) == 0);
			for (k = 0; k < v->len; k++)
				CHECK(v->canon[k] < 'A' || v->canon[k] > 'Z');
			continue;
		}
		CHECK(vg_normalize(v->type, v->canon, v->len, back,
		    sizeof(back), &n, NULL) == 0);
		CHECK(n == v->len && memcmp(back, v->canon, n) == 0);
	}
}

static int
same_row(const struct vg_leak_row *a, const struct vg_leak_row *b)
{
	size_t i;

	if (a->line != b->line || a->record != b->record ||
	    a->nvalues != b->nvalues || a->nbad != b->nbad ||
	    a->nempty != b->nempty)
		return 0;
	for (i = 0; i < a->nvalues; i++)
		if (a->value[i].type != b->value[i].type ||
		    a->value[i].column != b->value[i].column ||
		    a->value[i].len != b->value[i].len ||
		    memcmp(a->value[i].canon, b->value[i].canon,
		    a->value[i].len) != 0)
			return 0;
	return 1;
}

static void
check_err(const char *err, size_t cap)
{
	size_t n = strnlen(err, cap), i;

	CHECK(n > 0 && n < cap);
	for (i = 0; i < n; i++)
		CHECK(err[i] >= 0x20 && err[i] < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[] = {
		SIZE_MAX, 1, 2, 3, 7, 64, 4096, 65536
	};
	static const char delims[] = { ',', '\t', ';', '|' };
	static struct vg_leak_row ra, rb;
	struct vg_leak_opts o = { NULL, NULL, 0, -1, NULL };
	struct vg_leak *a = NULL, *b = NULL;
	struct mem ma, mb;
	char erra[512], errb[512];
	uint64_t last = 0, la, lb;
	unsigned int opt;
	int rca, rcb, mode;

	if (size == 0)
		return 0;
	opt = (unsigned int)(data[0] ^ '0');
	o.header = (int)((opt >> 3) & 3) - 1;
	if (o.header == 2)
		o.header = -1;
	mode = (int)(opt >> 5);
	if (mode >= 2 && mode <= 5)
		o.delimiter = delims[mode - 2];
	else if (mode == 6)
		o.columns = "-,phone,name";
	else if (mode == 7)
		o.columns = "email,account,-,phone";

	ma.buf = mb.buf = data + 1;
	ma.len = mb.len = size - 1;
	ma.pos = mb.pos = 0;
	ma.chunk = SIZE_MAX;
	mb.chunk = chunks[opt & 7];
	rca = vg_leak_open(mem_read, &ma, &o, &a, erra, sizeof(erra));
	rcb = vg_leak_open(mem_read, &mb, &o, &b, errb, sizeof(errb));
	CHECK(rca == rcb);
	if (rca != 0) {
		CHECK(a == NULL && b == NULL);
		CHECK(rca == VG_EINVAL || rca == VG_EFORMAT ||
		    rca == VG_ETOOBIG);
		check_err(erra, sizeof(erra));
		CHECK(strcmp(erra, errb) == 0);
		return 0;
	}
	CHECK(a != NULL && b != NULL);
	check_layout(vg_leak_layout(a));
	{
		const struct vg_leak_layout *ya = vg_leak_layout(a);
		const struct vg_leak_layout *yb = vg_leak_layout(b);
		size_t i;

		CHECK(ya->delimiter == yb->delimiter);
		CHECK(ya->header == yb->header);
		CHECK(ya->ncolumns == yb->ncolumns);
		for (i = 0; i < VG_LEAK_COLS_MAX; i++) {
			CHECK(ya->col[i].type == yb->col[i].type);
			CHECK(strcmp(ya->col[i].how, yb->col[i].how) == 0);
			CHECK(strcmp(ya->col[i].header,
			    yb->col[i].header) == 0);
			CHECK(ya->col[i].sampled == yb->col[i].sampled);
			CHECK(ya->col[i].parsed == yb->col[i].parsed);
		}
	}
	for (;;) {
		rca = vg_leak_next(a, &ra);
		rcb = vg_leak_next(b, &rb);
		CHECK(rca == rcb);
		if (rca != 1)
			break;
		check_row(vg_leak_layout(a), &ra);
		CHECK(same_row(&ra, &rb));
		CHECK(ra.line > last);
		last = ra.line;
	}
	if (rca == 0) {
		CHECK(*vg_leak_error(a, &la) == '\0' && la == 0);
		CHECK(vg_leak_next(a, &ra) == 0);
	} else {
		CHECK(rca == VG_EFORMAT || rca == VG_ETOOBIG);
		CHECK(*vg_leak_error(a, &la) != '\0');
		CHECK(strcmp(vg_leak_error(a, &la), vg_leak_error(b, &lb)) ==
		    0 && la == lb);
		CHECK(la >= last);
		CHECK(vg_leak_next(a, &ra) == rca && ra.nvalues == 0);
	}
	vg_leak_free(a);
	vg_leak_free(b);
	return 0;
}
