/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/leak.c, the reader of leaked files.  Every file is
 * built from the generator's customers (vigil/gen.h) through a row
 * template whose $-tokens write a value in one of the dirty forms leaks
 * come in ("0086 138 0013 8000", full-width digits, mixed case...) or a
 * junk value (row numbers, dates, prices, order numbers, free text), and
 * record the canonical value each row must give back.  Each file is read
 * twice, whole and one byte per read, and its layout (separator, header,
 * each column's type and how it was decided) is compared as a short
 * string: ",H -u nh ph eh" is comma, header, then per column the type
 * (n p e a, or - unused) and the first letter of how.  The last test
 * streams 300,000 generated rows through a read callback and checks
 * every phone and that the reader's memory does not grow.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/gen.h"
#include "vigil/crypto.h"
#include "vigil/leak.h"
#include "vigil/normalize.h"

#include "leak_int.h"
#include "tap.h"

#define WHOLE		SIZE_MAX
#define NCUST		2000
#define MAXVALS		8

/* The customers the small files are made of (seed 7). */
struct cust {
	char name[64];
	char digits[12];	/* the mobile's 11 digits */
	char email[128];
	char account[128];
};

static struct cust *cust;

/* Generic Latin names for "First Last" columns. */
static const char *const latin[] = {
	"Zhang Wei", "Li Na", "Wang Fang", "Liu Yang", "Chen Jing",
	"Yang Min", "Huang Lei", "Zhao Qiang",
};

#define W10	"wwwwwwwwww"
#define W100	W10 W10 W10 W10 W10 W10 W10 W10 W10 W10

static const char *const notes[] = {
	"已发货", "call after 6pm", "VIP", "退货", "paid", "",
};

/* Keeps the last 11 digits of a generated phone ("+86 138-0013-8000"). */
static void
digits_of(const char *phone, char *out)
{
	char d[32];
	size_t n = 0;

	for (; *phone != '\0' && n < sizeof(d) - 1; phone++)
		if (*phone >= '0' && *phone <= '9')
			d[n++] = *phone;
	d[n] = '\0';
	if (n < 11)
		abort();
	memcpy(out, d + n - 11, 12);
}

static void
load_customers(void)
{
	struct vg_gen_customer c;
	struct vg_gen *g;
	size_t i;

	if ((cust = calloc(NCUST, sizeof(*cust))) == NULL ||
	    (g = vg_gen_new(7)) == NULL)
		abort();
	for (i = 0; i < NCUST; i++) {
		vg_gen_next(g, &c);
		memcpy(cust[i].name, c.name, sizeof(cust[i].name));
		digits_of(c.phone, cust[i].digits);
		memcpy(cust[i].email, c.email, sizeof(cust[i].email));
		memcpy(cust[i].account, c.account_id, sizeof(cust[i].account));
	}
	vg_gen_free(g);
}

/* A growing string. */
struct out {
	char *s;
	size_t len;
	size_t cap;
};

static void
out_add(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		while (o->len + n + 1 > o->cap)
			o->cap = o->cap ? o->cap * 2 : 256;
		if ((o->s = realloc(o->s, o->cap)) == NULL)
			abort();
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void
out_str(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

static void out_fmt(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_fmt(struct out *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		abort();
	out_add(o, tmp, (size_t)n);
}

/* What one data row must give back. */
struct exp_val {
	enum vg_ftype t;
	char canon[160];
};

struct exp_row {
	uint64_t line;
	size_t n;
	struct exp_val v[MAXVALS];
	size_t nbad;
};

/* A built file and what reading it must give. */
struct file {
	struct out text;
	struct exp_row *row;
	size_t nrows;
};

#define F_CRLF	1	/* CRLF line ends */
#define F_BOM	2	/* a UTF-8 byte-order mark */

static void
expect(struct exp_row *r, enum vg_ftype t, const char *canon)
{
	if (r->n == MAXVALS)
		abort();
	r->v[r->n].t = t;
	snprintf(r->v[r->n].canon, sizeof(r->v[r->n].canon), "%s", canon);
	r->n++;
}

/* Writes the phone digits d in the dirty form named by code. */
static void
put_phone(struct out *o, char code, const char *d)
{
	size_t i;

	switch (code) {
	case 'P':
		out_str(o, d);
		break;
	case 'Q':
		out_fmt(o, "0086 %.3s %.4s %.4s", d, d + 3, d + 7);
		break;
	case 'R':
		out_fmt(o, "(+86)%s", d);
		break;
	case 'S':
		out_fmt(o, "+86-%.3s-%.4s-%.4s", d, d + 3, d + 7);
		break;
	case 'T':
		out_fmt(o, "%.3s %.4s %.4s", d, d + 3, d + 7);
		break;
	default:
		/* Full-width digits, U+FF10.. */
		for (i = 0; d[i] != '\0'; i++) {
			char fw[3] = { (char)0xef, (char)0xbc,
			    (char)(0x90 + d[i] - '0') };

			out_add(o, fw, 3);
		}
	}
}

/* "ZhAnGwEi88@163.CoM": every other letter upper-cased. */
static void
put_mixed(struct out *o, const char *s)
{
	char c;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		c = s[i];
		if (i % 2 == 0 && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		out_add(o, &c, 1);
	}
}

/*
 * Expands one row template for customer ci (row number k, 0-based) into
 * o and records what the row must give in *r.
 */
static void
expand(struct out *o, const char *tpl, size_t ci, size_t k,
    struct exp_row *r)
{
	const struct cust *c = &cust[ci % NCUST];
	char canon[160];
	const char *p;
	size_t i;

	for (p = tpl; *p != '\0'; p++) {
		if (*p != '$') {
			out_add(o, p, 1);
			continue;
		}
		switch (*++p) {
		case 'N':
			out_str(o, c->name);
			expect(r, VG_FT_NAME, c->name);
			break;
		case 'L':
			out_str(o, latin[ci % 8]);
			expect(r, VG_FT_NAME, latin[ci % 8]);
			break;
		case 'P': case 'Q': case 'R': case 'S': case 'T': case 'F':
			put_phone(o, *p, c->digits);
			snprintf(canon, sizeof(canon), "+86%s", c->digits);
			expect(r, VG_FT_PHONE, canon);
			break;
		case 'E':
			out_str(o, c->email);
			expect(r, VG_FT_EMAIL, c->email);
			break;
		case 'M':
			put_mixed(o, c->email);
			expect(r, VG_FT_EMAIL, c->email);
			break;
		case 'A':
			out_str(o, c->account);
			expect(r, VG_FT_ACCOUNT, c->account);
			break;
		case 'B':
			put_mixed(o, c->account);
			expect(r, VG_FT_ACCOUNT, c->account);
			break;
		case 'Z':
			/* A phone too short to be one. */
			out_str(o, "138 0013");
			r->nbad++;
			break;
		case '#':
			out_fmt(o, "%zu", k + 1);
			break;
		case 'D':
			out_fmt(o, "2023-%02zu-%02zu", 1 + k % 12, 1 + k % 28);
			break;
		case '$':
			out_fmt(o, "%zu.%02zu", 10 + k * 7 % 990, k % 100);
			break;
		case 'O':
			out_fmt(o, "2023110512%04zu", k % 10000);
			break;
		case 'X':
			out_str(o, notes[k % 6]);
			break;
		case 'W':
			/* 4,000 bytes of junk: rows that fill the sample. */
			for (i = 0; i < 40; i++)
				out_str(o, W100);
			break;
		default:
			abort();
		}
	}
}

/*
 * Builds a file: the header line (NULL: none), then nrows rows, row k
 * from template tpl[k % ntpl].  A template starting with '=' repeats the
 * previous row's customer: a duplicate.
 */
static void
build(struct file *f, const char *header, const char *const *tpl,
    size_t ntpl, size_t nrows, unsigned int flags)
{
	const char *eol = flags & F_CRLF ? "\r\n" : "\n", *t;
	uint64_t line = 1;
	size_t k, ci = 0;

	memset(f, 0, sizeof(*f));
	if ((f->row = calloc(nrows > 0 ? nrows : 1, sizeof(*f->row))) ==
	    NULL)
		abort();
	out_str(&f->text, flags & F_BOM ? "\xef\xbb\xbf" : "");
	if (header != NULL) {
		out_str(&f->text, header);
		out_str(&f->text, eol);
		line++;
	}
	for (k = 0; k < nrows; k++) {
		t = tpl[k % ntpl];
		if (*t == '=')
			t++;
		else if (k > 0)
			ci++;
		f->row[k].line = line++;
		expand(&f->text, t, ci, k, &f->row[k]);
		out_str(&f->text, eol);
	}
	f->nrows = nrows;
}

static void
file_free(struct file *f)
{
	free(f->text.s);
	free(f->row);
}

/* An in-memory input; chunk caps each read, failat fails reads. */
struct mem {
	const char *buf;
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
	memcpy(buf, m->buf + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/* The layout as a short string (see the file comment). */
static void
layout_str(const struct vg_leak *l, char *buf, size_t cap)
{
	const struct vg_leak_layout *y = vg_leak_layout(l);
	size_t c, n;
	char t;

	n = (size_t)snprintf(buf, cap, "%c%c", y->delimiter == '\t' ? 'T' :
	    y->delimiter, y->header ? 'H' : 'N');
	for (c = 0; c < y->ncolumns && n + 4 < cap; c++) {
		switch (y->col[c].type) {
		case VG_FT_NAME:
			t = 'n';
			break;
		case VG_FT_PHONE:
			t = 'p';
			break;
		case VG_FT_EMAIL:
			t = 'e';
			break;
		case VG_FT_ACCOUNT:
			t = 'a';
			break;
		default:
			t = '-';
		}
		n += (size_t)snprintf(buf + n, cap - n, " %c%c", t,
		    y->col[c].how[0]);
	}
}

/* Reads every row of l and counts those that differ from f's. */
static size_t
mismatches(struct vg_leak *l, const struct file *f, int *rcp)
{
	struct vg_leak_row row;
	const struct exp_row *e;
	size_t k = 0, bad = 0, i;
	int rc;

	while ((rc = vg_leak_next(l, &row)) == 1) {
		if (k >= f->nrows) {
			bad++;
			continue;
		}
		e = &f->row[k++];
		if (row.line != e->line || row.nvalues != e->n ||
		    row.nbad != e->nbad) {
			bad++;
			continue;
		}
		for (i = 0; i < e->n; i++) {
			if (row.value[i].type != e->v[i].t ||
			    row.value[i].len != strlen(e->v[i].canon) ||
			    strcmp(row.value[i].canon, e->v[i].canon) != 0) {
				bad++;
				break;
			}
		}
	}
	*rcp = rc;
	return bad + (f->nrows - k);
}

/*
 * Opens f with opts o, whole and then in 1-byte reads, and checks the
 * layout string and every row.
 */
static void
check_file(const char *name, const struct file *f,
    const struct vg_leak_opts *o, const char *want)
{
	struct vg_leak *l;
	struct mem m;
	char err[512], lay[256];
	size_t pass, bad;
	int rc;

	for (pass = 0; pass < 2; pass++) {
		const char *how = pass == 0 ? "whole" : "1-byte reads";

		m.buf = f->text.s;
		m.len = f->text.len;
		m.pos = 0;
		m.chunk = pass == 0 ? WHOLE : 1;
		rc = vg_leak_open(mem_read, &m, o, &l, err, sizeof(err));
		if (!ok(rc == 0, "%s (%s): opens", name, how)) {
			printf("#   rc %d: %s\n", rc, err);
			ok(0, "%s (%s): layout", name, how);
			ok(0, "%s (%s): rows", name, how);
			continue;
		}
		layout_str(l, lay, sizeof(lay));
		is_str(lay, want, "%s (%s): layout", name, how);
		bad = mismatches(l, f, &rc);
		ok(bad == 0 && rc == 0, "%s (%s): all %zu rows right", name,
		    how, f->nrows);
		if (bad != 0 || rc != 0)
			printf("#   %zu rows wrong, rc %d\n", bad, rc);
		vg_leak_free(l);
	}
}

/* Only checks the layout f gets with opts o (whole reads). */
static void
check_layout(const char *name, const struct file *f,
    const struct vg_leak_opts *o, const char *want)
{
	struct mem m = { f->text.s, f->text.len, 0, WHOLE };
	struct vg_leak *l;
	char err[512], lay[256];
	int rc;

	rc = vg_leak_open(mem_read, &m, o, &l, err, sizeof(err));
	if (!ok(rc == 0, "%s: opens", name)) {
		printf("#   rc %d: %s\n", rc, err);
		return;
	}
	layout_str(l, lay, sizeof(lay));
	is_str(lay, want, "%s: layout", name);
	vg_leak_free(l);
}

/* Builds and checks in one go, with default options. */
static void
case_file(const char *name, const char *header, const char *const *tpl,
    size_t ntpl, size_t nrows, unsigned int flags, const char *want)
{
	struct file f;

	build(&f, header, tpl, ntpl, nrows, flags);
	check_file(name, &f, NULL, want);
	file_free(&f);
}

#define TPL(...)	(const char *const[]){ __VA_ARGS__ }
#define NTPL(...)	(sizeof((const char *const[]){ __VA_ARGS__ }) / \
			    sizeof(const char *))
#define CASE(name, hdr, n, flags, want, ...)				\
	case_file(name, hdr, TPL(__VA_ARGS__), NTPL(__VA_ARGS__), n,	\
	    flags, want)

static void
test_layouts(void)
{
	/* Headers in Chinese and English. */
	CASE("chinese header, junk columns",
	    "序号,姓名,手机号,邮箱,下单日期,金额", 30, 0, ",H -u nh ph eh -u -u", "$#,$N,$Q,$M,$D,$$");
	CASE("chinese header, 电话 and 账号", "电话,姓名,账号", 20, 0,
	    ",H ph nh ah", "$S,$N,$A");
	CASE("english header, tabs", "Name\tMobile\tE-mail\tApple ID", 25, 0,
	    "TH nh ph eh ah", "$N\t$R\t$E\t$A");
	CASE("english header words, squeezed and spaced",
	    "Customer Name;Phone No.;Email Address;Account ID;Order Date", 12,
	    0, ";H nh ph eh ah -u", "$L;$T;$M;$B;$D");
	CASE("header of unknown words", "c1|c2|c3", 15, 0, "|H pv nv ev",
	    "$P|$N|$E");
	CASE("full-width header", "ＮＡＭＥ,手机：", 10, 0, ",H nh ph",
	    "$N,$F");

	/* No header. */
	CASE("no header, semicolons", NULL, 20, 0, ";N pv nv ev",
	    "$P;$N;$E");
	CASE("no header, bars, junk", NULL, 40, 0, "|N -u -u nv pv -u -u",
	    "$#|$O|$N|$R|$X|$D");
	CASE("no header, latin names", NULL, 16, 0, ",N nv pv", "$L,$T");
	CASE("no header, one column of phones", NULL, 30, 0, ",N pv", "$S");
	CASE("no header, two e-mail columns, no vault", NULL, 20, 0,
	    "TN nv ev av", "$N\t$E\t$A");
	CASE("no header, single row", NULL, 1, 0, ",N nv pv ev", "$N,$Q,$E");

	/* Every dirty phone form in one column. */
	CASE("dirty phones", "手机", 60, 0, ",H ph", "$P", "$Q", "$R", "$S",
	    "$T", "$F");
	CASE("mixed-case e-mails, full-width phones", NULL, 20, 0,
	    ",N pv ev", "$F,$M");
	CASE("quoted fields holding separators", "name,phone,address", 20,
	    0, ",H nh ph -u", "\"$N\",\"$S\",\"Road $#, Unit 3\"");
	CASE("partial rows", "姓名,手机,邮箱", 30, 0, ",H nh ph eh",
	    "$N,$T,$E", "$N,$T", "$N");
	CASE("duplicate rows", NULL, 30, 0, ",N nv pv", "$N,$P", "=$N,$P",
	    "=$N,$P");
	CASE("bad values counted", "name,phone", 30, 0, ",H nh ph",
	    "$N,$P", "$N,$Z");
	CASE("CRLF", "姓名,手机号", 20, F_CRLF, ",H nh ph", "$N,$Q");
	CASE("BOM and CRLF, tabs", NULL, 20, F_BOM | F_CRLF, "TN pv ev",
	    "$R\t$M");
	CASE("BOM, header", "邮箱|手机", 20, F_BOM, "|H eh ph", "$E|$P");
	CASE("order numbers are not phones", NULL, 50, 0, ",N -u pv",
	    "$O,$T");
	CASE("more rows than the sample", "name,phone,email", 1000, 0,
	    ",H nh ph eh", "$N,$S,$E");
	/* 12 KB rows: the sample and the prefix are full before 200 rows. */
	CASE("rows too big for the whole sample", NULL, 150, 0,
	    ",N nv pv -u -u -u", "$N,$P,$W,$W,$W");
}

static void
test_forced(void)
{
	struct vg_leak_opts o = { NULL, NULL, 0, -1, NULL };
	struct file f;

	build(&f, NULL, TPL("$O,$T,$N"), 1, 20, 0);
	o.columns = "-,phone,name";
	check_file("forced columns", &f, &o, ",N -u pf nf");
	file_free(&f);
	build(&f, NULL, TPL("$O,$T,x"), 1, 20, 0);
	o.columns = "junk, phone";
	check_file("forced, fewer than the file's", &f, &o, ",N -u pf -u");
	file_free(&f);

	/* Forced columns show the header sniffer what to expect. */
	build(&f, "x,y", TPL("$P,$A"), 1, 20, 0);
	o.columns = "phone,account";
	check_file("forced columns, header sniffed", &f, &o, ",H pf af");
	file_free(&f);
	build(&f, "x,yy", TPL("$P,$N"), 1, 20, 0);
	o.columns = "phone,name";
	check_file("forced name column, header sniffed", &f, &o, ",H pf nf");
	file_free(&f);
	o.header = 0;
	o.delimiter = ',';
	o.columns = "phone,account_id";
	build(&f, NULL, TPL("$P,$A"), 1, 20, 0);
	check_file("forced columns, header and delimiter", &f, &o,
	    ",N pf af");
	file_free(&f);

	o.columns = NULL;
	o.header = 1;
	o.delimiter = 0;
	build(&f, "a,b", TPL("$N,$P"), 1, 20, 0);
	check_file("forced header", &f, &o, ",H nv pv");
	file_free(&f);
}

/* A vault of the first NCUST customers' e-mails and account ids. */
struct vault {
	size_t calls[VG_FT_ACCOUNT + 1];
	int fail;
};

static int
vault_hit(void *ctx, enum vg_ftype t, const char *canon, size_t len)
{
	struct vault *v = ctx;
	size_t i;

	if ((size_t)t <= VG_FT_ACCOUNT)
		v->calls[t]++;
	if (v->fail)
		return VG_ESTORE;
	if (strlen(canon) != len)
		return VG_EINVAL;
	for (i = 0; i < NCUST; i++) {
		if (t == VG_FT_EMAIL && strcmp(canon, cust[i].email) == 0)
			return 1;
		if (t == VG_FT_ACCOUNT && strcmp(canon, cust[i].account) == 0)
			return 1;
		if (t == VG_FT_NAME && strcmp(canon, cust[i].name) == 0)
			return 1;
	}
	return 0;
}

static void
test_vault(void)
{
	struct vg_leak_opts o = { NULL, NULL, 0, -1, NULL };
	const struct vg_leak_layout *y;
	struct vault v;
	struct vg_leak *l;
	struct file f;
	struct mem m;
	char err[256];
	size_t t;
	int rc;

	memset(&v, 0, sizeof(v));
	o.hit = vault_hit;
	o.hit_ctx = &v;

	/* Account ids first: without the vault they pass for e-mails. */
	build(&f, NULL, TPL("$A,$N,$E"), 1, 30, 0);
	check_file("vault tells account from e-mail", &f, &o,
	    ",N av nv ev");
	for (t = VG_FT_NAME; t <= VG_FT_ACCOUNT; t++)
		ok(v.calls[t] <= 2 * 3 * VG_LEAK_SNIFF_ROWS,
		    "vault: type %zu asked at most once per value and column",
		    t);
	check_layout("the same without the vault", &f, NULL, ",N ev nv av");
	file_free(&f);

	/* A header word loses to the vault. */
	build(&f, "email,phone", TPL("$A,$P"), 1, 30, 0);
	check_file("vault over a header word", &f, &o, ",H av ph");
	check_layout("header word without the vault", &f, NULL, ",H eh ph");
	file_free(&f);

	/* Names no shape test knows, found in the vault. */
	build(&f, NULL, TPL("$#,$N"), 1, 30, 0);
	m.buf = f.text.s;
	m.len = f.text.len;
	m.pos = 0;
	m.chunk = WHOLE;
	rc = vg_leak_open(mem_read, &m, &o, &l, err, sizeof(err));
	ok(rc == 0, "vault: hits counted");
	if (rc == 0) {
		y = vg_leak_layout(l);
		is_int(y->col[1].hits, 30, "vault: every name hits");
		is_int(y->col[1].parsed, 30, "vault: every name parsed");
		is_int(y->col[1].sampled, 30, "vault: every name sampled");
		vg_leak_free(l);
	}

	/* The callback's error fails the open. */
	v.fail = 1;
	m.pos = 0;
	rc = vg_leak_open(mem_read, &m, &o, &l, err, sizeof(err));
	is_int(rc, VG_ESTORE, "vault: the callback's error is returned");
	ok(l == NULL, "vault: no reader on error");
	ok(strstr(err, "hit callback") != NULL, "vault: err says so");
	file_free(&f);
}

/* Opens text and expects an error: its code and words in err. */
static void
check_fails(const char *name, const char *text, size_t len,
    const struct vg_leak_opts *o, int want, const char *words,
    const char *never)
{
	struct vg_leak *l = (struct vg_leak *)&l;
	struct mem m = { text, len, 0, WHOLE };
	char err[1024];
	int rc;

	rc = vg_leak_open(mem_read, &m, o, &l, err, sizeof(err));
	is_int(rc, want, "%s: fails", name);
	ok(l == NULL, "%s: no reader", name);
	if (!ok(strstr(err, words) != NULL, "%s: err says \"%s\"", name,
	    words))
		printf("#   err: %s\n", err);
	if (never != NULL)
		ok(strstr(err, never) == NULL, "%s: err quotes no value", name);
}

/* Reads in 100-byte steps, then fails from byte failat on. */
struct failing {
	struct mem m;
	size_t failat;
};

static ssize_t
failing_read(void *ctx, void *buf, size_t n)
{
	struct failing *f = ctx;

	if (f->m.pos >= f->failat)
		return -1;
	if (n > f->failat - f->m.pos)
		n = f->failat - f->m.pos;
	return mem_read(&f->m, buf, n);
}

static void
test_read_errors(void)
{
	struct vg_leak_row row;
	struct failing fr;
	struct vg_leak *l;
	struct file f;
	uint64_t line;
	char err[256];
	int rc, i;

	build(&f, NULL, TPL("$N,$P"), 1, 2000, 0);
	fr.m.buf = f.text.s;
	fr.m.len = f.text.len;
	fr.m.pos = 0;
	fr.m.chunk = 100;
	fr.failat = 500;
	rc = vg_leak_open(failing_read, &fr, NULL, &l, err, sizeof(err));
	is_int(rc, VG_EIO, "read error in the prefix");
	ok(strstr(err, "read error") != NULL, "read error: err says so");

	fr.m.pos = 0;
	fr.failat = f.text.len / 2;
	rc = vg_leak_open(failing_read, &fr, NULL, &l, err, sizeof(err));
	ok(rc == 0, "read error later: opens");
	if (rc == 0) {
		for (i = 0; (rc = vg_leak_next(l, &row)) == 1; i++)
			continue;
		is_int(rc, VG_EIO, "read error later: next fails");
		ok(i > 200 && i < 2000, "read error later: rows before it");
		is_str(vg_leak_error(l, &line), "read error",
		    "read error later: reason");
		ok(line > 200, "read error later: line");
		vg_leak_free(l);
	}
	file_free(&f);
}

static void
test_errors(void)
{
	struct vg_leak_opts o = { NULL, NULL, 0, -1, NULL };
	struct vg_leak_row row;
	struct vg_leak *l;
	struct file f;
	struct mem m;
	uint64_t line;
	char err[1024];
	int rc, i;

	build(&f, "date,price,note", TPL("$D,$$,$X"), 1, 30, 0);
	check_fails("no usable column", f.text.s, f.text.len, NULL,
	    VG_EINVAL, "no column holds", "2023-");
	check_fails("no usable column, per column", f.text.s, f.text.len,
	    NULL, VG_EINVAL, "column 2: phone 0%, e-mail 0%, name 0%", NULL);
	file_free(&f);
	build(&f, NULL, TPL("$D,$O"), 1, 30, 0);
	check_fails("no usable column, no header", f.text.s, f.text.len, NULL,
	    VG_EINVAL, "(30 data rows sampled, 2 columns)", "202311");
	file_free(&f);
	check_fails("header says phone, values do not", "手机\nabc\ndef\n",
	    13, NULL, VG_EINVAL, "column 1 (header says phone)", "abc");
	check_fails("empty file", "", 0, NULL, VG_EINVAL, "no data rows",
	    NULL);
	check_fails("header only", "姓名,手机号\n", 17, NULL, VG_EINVAL,
	    "only a header", NULL);

	/* A malformed line inside the sample. */
	build(&f, NULL, TPL("$N,$P"), 1, 4, 0);
	out_str(&f.text, "x,13800\"138000\n");
	check_fails("malformed in the sample", f.text.s, f.text.len, NULL,
	    VG_EFORMAT, "line 5, column 2: quote inside unquoted field",
	    "13800");
	file_free(&f);
	check_fails("invalid UTF-8", "a,b\n\xff\n", 6, NULL, VG_EFORMAT,
	    "line 2, column 1: invalid UTF-8", NULL);

	/* And one far after it: rows up to it, then the error, sticky. */
	build(&f, NULL, TPL("$N,$P"), 1, 400, 0);
	out_str(&f.text, "x,13800\"138000\n");
	m.buf = f.text.s;
	m.len = f.text.len;
	m.pos = 0;
	m.chunk = 1000;
	rc = vg_leak_open(mem_read, &m, NULL, &l, err, sizeof(err));
	ok(rc == 0, "malformed after the sample: opens");
	if (rc == 0) {
		for (i = 0; (rc = vg_leak_next(l, &row)) == 1; i++)
			continue;
		is_int(i, 400, "malformed after the sample: rows before it");
		is_int(rc, VG_EFORMAT, "malformed after the sample: error");
		is_str(vg_leak_error(l, &line), "quote inside unquoted field",
		    "malformed after the sample: reason");
		is_int(line, 401, "malformed after the sample: line");
		is_int(vg_leak_next(l, &row), VG_EFORMAT,
		    "malformed after the sample: sticky");
		is_int(row.nvalues, 0, "malformed after the sample: no values");
		vg_leak_free(l);
	}
	file_free(&f);

	/* Options. */
	o.delimiter = ':';
	check_fails("delimiter ':'", "a\n", 2, &o, VG_EINVAL, "delimiter",
	    NULL);
	o.delimiter = 0;
	o.header = 2;
	check_fails("header 2", "a\n", 2, &o, VG_EINVAL, "header", NULL);
	o.header = -1;
	o.columns = "phone,fone";
	check_fails("columns: unknown type", "a\n", 2, &o, VG_EINVAL,
	    "position 2", NULL);
	o.columns = "-,junk,";
	check_fails("columns: none used", "a\n", 2, &o, VG_EINVAL,
	    "no column is", NULL);
	o.columns = NULL;
	is_int(vg_leak_open(NULL, NULL, NULL, &l, err, sizeof(err)),
	    VG_EINVAL, "no read callback");
	is_int(vg_leak_open(mem_read, &m, NULL, NULL, NULL, 0), VG_EINVAL,
	    "no out pointer, no err buffer");
	is_int(vg_leak_next(NULL, &row), VG_EINVAL, "next on NULL");
	ok(vg_leak_layout(NULL) == NULL, "layout of NULL");
	is_str(vg_leak_error(NULL, &line), "", "error of NULL");
	vg_leak_free(NULL);
	ok(1, "vg_leak_free(NULL) is a no-op");

	/* Forced columns read an empty file: no rows, no error. */
	o.columns = "phone";
	m.buf = "";
	m.len = m.pos = 0;
	rc = vg_leak_open(mem_read, &m, &o, &l, err, sizeof(err));
	ok(rc == 0, "forced columns, empty file: opens");
	if (rc == 0) {
		is_int(vg_leak_next(l, &row), 0, "forced, empty file: no rows");
		vg_leak_free(l);
	}
}

/* Header cells: kept printable, cut at a character boundary. */
static void
test_header_cells(void)
{
	static const char text[] =
	    "手机号码手机号码手机号码手机号码手机号码手机号码手机号码,"
	    "na\x01me\n13800138000,x\n13900139000,y\n";
	struct mem m = { text, sizeof(text) - 1, 0, WHOLE };
	const struct vg_leak_layout *y;
	struct vg_leak *l;
	char err[256];
	int rc;

	rc = vg_leak_open(mem_read, &m, NULL, &l, err, sizeof(err));
	ok(rc == 0, "header cells: opens");
	if (rc != 0)
		return;
	y = vg_leak_layout(l);
	ok(y->header, "header cells: a header");
	is_int(strlen(y->col[0].header), 63, "long header cut at 63 bytes");
	ok(vg_utf8_valid(y->col[0].header, strlen(y->col[0].header)),
	    "long header still UTF-8");
	is_str(y->col[1].header, "na?me", "control character shown as ?");
	is_int(y->col[0].type, VG_FT_PHONE, "long header still a phone");
	vg_leak_free(l);
}

/* More columns than VG_LEAK_COLS_MAX: the extra ones are junk. */
static void
test_wide(void)
{
	struct out o = { NULL, 0, 0 };
	struct vg_leak_row row;
	struct vg_leak *l;
	struct mem m;
	char err[256];
	size_t r, c;
	int rc;

	for (r = 0; r < 10; r++) {
		out_str(&o, cust[r].digits);
		for (c = 1; c < 70; c++)
			out_fmt(&o, ",%s", c == 66 ? cust[r].email : "x");
		out_str(&o, "\n");
	}
	m.buf = o.s;
	m.len = o.len;
	m.pos = 0;
	m.chunk = WHOLE;
	rc = vg_leak_open(mem_read, &m, NULL, &l, err, sizeof(err));
	ok(rc == 0, "70 columns: opens");
	if (rc == 0) {
		is_int(vg_leak_layout(l)->ncolumns, VG_LEAK_COLS_MAX,
		    "70 columns: 64 read");
		ok(vg_leak_next(l, &row) == 1 && row.nvalues == 1 &&
		    row.value[0].type == VG_FT_PHONE, "70 columns: the phone");
		vg_leak_free(l);
	}
	free(o.s);
}

/*
 * The streaming test: STREAM_ROWS generated customers, written by the
 * read callback one row at a time in rotating dirty forms with junk
 * columns, so the file (about 30 MB) exists only as it is read.
 */
#define STREAM_ROWS	300000
#define STREAM_BOUND	(3 * 1024 * 1024)	/* held by the reader */
#define RSS_BOUND	(16L * 1024 * 1024)	/* growth of the process */

struct stream {
	char *pool;		/* name, NUL, digits, NUL, email, NUL ... */
	size_t *off;		/* per customer */
	size_t next;		/* next row to write */
	struct out row;		/* reused: no allocation per row */
	size_t rowpos;
	long rssmax;
};

/* Resident set size now, in bytes (Linux), or -1. */
/* A pseudonymised export's leak: a column of psn_ tokens (any case)
 * beside masked values; the canonical form is lower case. */
static void
test_pseudonyms(void)
{
	struct vg_leak_opts o = { NULL, NULL, 0, -1, NULL };
	unsigned char psn[VG_PSNBYTES];
	char text[8192], p[VG_PSN_STRLEN], want[VG_PSN_STRLEN];
	struct vg_leak_row row;
	struct vg_leak *l = NULL;
	struct mem m;
	size_t n = 0, i, good = 0;
	int rc;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "id,name\n");
	for (i = 0; i < 30; i++) {
		memset(psn, (int)i + 1, sizeof(psn));
		vg_psn_format(p, psn);
		if (i % 2)
			for (size_t k = 0; p[k] != '\0'; k++)
				if (p[k] >= 'a' && p[k] <= 'z')
					p[k] = (char)(p[k] - 32);
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s,王**\n",
		    p);
	}
	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "psn_notone,王**\n");
	memset(&m, 0, sizeof(m));
	m.buf = text;
	m.len = n;
	m.chunk = 7;
	rc = vg_leak_open(mem_read, &m, &o, &l, NULL, 0);
	is_int(rc, 0, "pseudonyms: open");
	if (rc != 0)
		return;
	ok(vg_leak_layout(l)->col[0].type == VG_LEAK_PSEUDONYM &&
	    strcmp(vg_leak_layout(l)->col[0].how, "values") == 0,
	    "pseudonyms: the column is sniffed as pseudonyms");
	for (i = 0; (rc = vg_leak_next(l, &row)) == 1; i++) {
		if (i < 30) {
			memset(psn, (int)i + 1, sizeof(psn));
			vg_psn_format(want, psn);
			good += row.nvalues >= 1 &&
			    row.value[0].type == VG_LEAK_PSEUDONYM &&
			    strcmp(row.value[0].canon, want) == 0;
		} else {
			ok(row.nbad == 1, "pseudonyms: a malformed one is bad");
		}
	}
	is_int(good, 30, "pseudonyms: every one canonical, lower case");
	vg_leak_free(l);
	o.columns = "psn,-";
	m.pos = 0;
	is_int(vg_leak_open(mem_read, &m, &o, &l, NULL, 0), 0,
	    "pseudonyms: forced as psn");
	vg_leak_free(l);
}

static long
rss_now(void)
{
	long pages = -1, rss = -1;
	FILE *fp;

	if ((fp = fopen("/proc/self/statm", "r")) == NULL)
		return -1;
	if (fscanf(fp, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(fp);
	return rss < 0 ? -1 : rss * 4096;
}

static ssize_t
stream_read(void *ctx, void *buf, size_t n)
{
	static const char forms[] = "PQRSTF";
	struct stream *s = ctx;
	struct out *o = &s->row;
	const char *name, *digits, *email;
	size_t k;

	if (s->rowpos == o->len) {
		if (s->next == STREAM_ROWS)
			return 0;
		k = s->next++;
		name = s->pool + s->off[k];
		digits = name + strlen(name) + 1;
		email = digits + strlen(digits) + 1;
		o->len = 0;
		out_fmt(o, "%zu,%s,", k + 1, name);
		put_phone(o, forms[k % 6], digits);
		out_fmt(o, ",%s,2023-%02zu-%02zu,%zu.%02zu,%s\n",
		    k % 3 == 0 ? "" : email, 1 + k % 12, 1 + k % 28,
		    k % 1000, k % 100, notes[k % 6]);
		s->rowpos = 0;
		if (k % 10000 == 0) {
			long r = rss_now();

			if (r > s->rssmax)
				s->rssmax = r;
		}
	}
	if (n > o->len - s->rowpos)
		n = o->len - s->rowpos;
	memcpy(buf, o->s + s->rowpos, n);
	s->rowpos += n;
	return (ssize_t)n;
}

static void
test_stream(void)
{
	struct vg_gen_customer c;
	struct vg_leak_row row;
	struct stream s;
	struct vg_leak *l;
	struct vg_gen *g;
	char err[256], lay[64], want[16], d[12];
	size_t k, used = 0, cap = 0, bad = 0, emails = 0;
	long before;
	int rc;

	memset(&s, 0, sizeof(s));
	if ((s.off = calloc(STREAM_ROWS, sizeof(*s.off))) == NULL ||
	    (g = vg_gen_new(11)) == NULL)
		abort();
	for (k = 0; k < STREAM_ROWS; k++) {
		size_t nl, el;

		vg_gen_next(g, &c);
		digits_of(c.phone, d);
		nl = strlen(c.name);
		el = strlen(c.email);
		if (used + nl + el + 15 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			if ((s.pool = realloc(s.pool, cap)) == NULL)
				abort();
		}
		s.off[k] = used;
		memcpy(s.pool + used, c.name, nl + 1);
		used += nl + 1;
		memcpy(s.pool + used, d, 12);
		used += 12;
		memcpy(s.pool + used, c.email, el + 1);
		used += el + 1;
	}
	vg_gen_free(g);

	before = rss_now();
	s.rssmax = before;
	rc = vg_leak_open(stream_read, &s, NULL, &l, err, sizeof(err));
	ok(rc == 0, "stream: opens");
	if (rc != 0) {
		printf("#   %s\n", err);
		goto out;
	}
	layout_str(l, lay, sizeof(lay));
	is_str(lay, ",N -u nv pv ev -u -u -u", "stream: layout");
	for (k = 0; (rc = vg_leak_next(l, &row)) == 1; k++) {
		const char *name = s.pool + s.off[k % STREAM_ROWS];

		snprintf(want, sizeof(want), "+86%s", name + strlen(name) + 1);
		if (k >= STREAM_ROWS || row.nvalues < 2 ||
		    row.value[1].type != VG_FT_PHONE ||
		    strcmp(row.value[1].canon, want) != 0 ||
		    row.line != k + 1 || row.record != k + 1)
			bad++;
		emails += row.nvalues == 3;
	}
	is_int(rc, 0, "stream: reads to the end");
	is_int(k, STREAM_ROWS, "stream: every row");
	is_int(bad, 0, "stream: every phone canonical, lines right");
	is_int(emails, STREAM_ROWS - (STREAM_ROWS + 2) / 3,
	    "stream: e-mails where given");
	ok(vg__leak_held_max(l) <= STREAM_BOUND,
	    "stream: the reader held at most %d bytes (%zu)", STREAM_BOUND,
	    vg__leak_held_max(l));
	if (before > 0)
		ok(s.rssmax - before < RSS_BOUND,
		    "stream: RSS grew by %ld KiB over %d rows (bound %ld)",
		    (s.rssmax - before) / 1024, STREAM_ROWS,
		    RSS_BOUND / 1024);
	else
		ok(1, "stream: RSS not measurable here # SKIP no /proc");
	vg_leak_free(l);
out:
	free(s.row.s);
	free(s.pool);
	free(s.off);
}

int
main(void)
{
	load_customers();
	test_layouts();
	test_forced();
	test_vault();
	test_errors();
	test_read_errors();
	test_header_cells();
	test_wide();
	test_pseudonyms();
	test_stream();
	free(cust);
	return done_testing();
}
