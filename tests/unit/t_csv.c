/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/csv.c.  Every parsing case runs twice: once with a
 * reader that hands over the whole input at once and once with a reader
 * that returns a single byte per call, so that every token, UTF-8
 * sequence and BOM also straddles a buffer boundary.  Results are
 * rendered to a compact string ("LINE:[f1|f2] ... EOF" or
 * "!CODE@LINE:COLUMN reason") and compared with the expected text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vigil/csv.h"

#define WHOLE	SIZE_MAX

/* An in-memory input.  chunk caps each read; failat makes reads fail. */
struct mem {
	const char *buf;
	size_t len;
	size_t pos;
	size_t chunk;
	size_t failat;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n)
{
	struct mem *m = ctx;

	if (m->pos >= m->failat)
		return -1;
	if (n > m->chunk)
		n = m->chunk;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	if (n > m->failat - m->pos)
		n = m->failat - m->pos;
	memcpy(buf, m->buf + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/* A growing output string for render(). */
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

static void
out_fmt(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_fmt(struct out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		abort();
	out_add(o, tmp, (size_t)n);
}

static void
out_field(struct out *o, const char *f, size_t len)
{
	size_t i;

	if (len > 32) {
		out_fmt(o, "<%zu>", len);
		return;
	}
	for (i = 0; i < len; i++) {
		switch (f[i]) {
		case '\n':
			out_str(o, "\\n");
			break;
		case '\r':
			out_str(o, "\\r");
			break;
		case '|':
			out_str(o, "\\|");
			break;
		case '\\':
			out_str(o, "\\\\");
			break;
		default:
			out_add(o, f + i, 1);
		}
	}
}

/*
 * Parses in[0..len) with reads of at most chunk bytes (failing from
 * offset failat on) and renders every record and the final status.
 * Also checks what every case must satisfy and appends a "#..." marker
 * when it does not: record numbers, NUL termination, and that EOF and
 * errors repeat on later calls.
 */
static char *
render_fail(const char *in, size_t len, size_t chunk, size_t failat,
    char delim)
{
	struct mem m = { in, len, 0, chunk, failat };
	struct out o = { NULL, 0, 0 };
	struct vg_csv *r;
	struct vg_csv_row row;
	uint64_t n = 0, line, line2;
	size_t i, col, col2;
	const char *why;
	int rc, rc2;

	if ((r = vg_csv_new(mem_read, &m)) == NULL)
		abort();
	if (delim != ',' && vg_csv_set_delimiter(r, delim) != 0)
		abort();
	out_str(&o, "");
	while ((rc = vg_csv_next(r, &row)) == 1) {
		if (row.record != ++n)
			out_str(&o, "#badrec");
		if (o.len > 0)
			out_str(&o, " ");
		out_fmt(&o, "%llu:", (unsigned long long)row.line);
		if (row.nfields > 8) {
			out_fmt(&o, "{%zu fields}", row.nfields);
		} else {
			out_str(&o, "[");
			for (i = 0; i < row.nfields; i++) {
				if (i > 0)
					out_str(&o, "|");
				out_field(&o, row.field[i], row.len[i]);
			}
			out_str(&o, "]");
		}
		for (i = 0; i < row.nfields; i++) {
			if (row.field[i][row.len[i]] != '\0')
				out_str(&o, "#nonul");
			if (strlen(row.field[i]) != row.len[i])
				out_str(&o, "#embnul");
		}
	}
	if (o.len > 0)
		out_str(&o, " ");
	if (rc == 0) {
		out_str(&o, "EOF");
		if (vg_csv_next(r, &row) != 0 || vg_csv_next(r, &row) != 0)
			out_str(&o, "#eofagain");
		if (*vg_csv_error(r, NULL, NULL) != '\0')
			out_str(&o, "#reason");
	} else {
		why = vg_csv_error(r, &line, &col);
		out_fmt(&o, "!%d@%llu:%zu %s", rc, (unsigned long long)line,
		    col, why);
		for (i = 0; i < 2; i++) {
			rc2 = vg_csv_next(r, &row);
			if (rc2 != rc || row.nfields != 0 ||
			    strcmp(vg_csv_error(r, &line2, &col2), why) != 0 ||
			    line2 != line || col2 != col)
				out_str(&o, "#notsticky");
		}
	}
	vg_csv_free(r);
	return o.s;
}

static char *
render(const char *in, size_t len, size_t chunk)
{
	return render_fail(in, len, chunk, SIZE_MAX, ',');
}

/* Checks one case with both readers. */
static void
check(const char *name, const char *in, size_t len, const char *want)
{
	char *got;

	got = render(in, len, WHOLE);
	is_str(got, want, "%s (whole buffer)", name);
	free(got);
	got = render(in, len, 1);
	is_str(got, want, "%s (1-byte reads)", name);
	free(got);
}

struct tcase {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
};

#define T(name, lit, want)	{ name, lit, sizeof(lit) - 1, want }

static const struct tcase cases[] = {
	/* Accepted input. */
	T("empty input", "", "EOF"),
	T("simple", "a,b,c\nd,e,f\n", "1:[a|b|c] 2:[d|e|f] EOF"),
	T("header and rows", "id,name\n1,x\n2,y\n",
	    "1:[id|name] 2:[1|x] 3:[2|y] EOF"),
	T("quoted with commas", "\"a,b\",c\n\"x,,y\"\n",
	    "1:[a,b|c] 2:[x,,y] EOF"),
	T("doubled quotes", "\"he said \"\"hi\"\"\",x\n",
	    "1:[he said \"hi\"|x] EOF"),
	T("only a quote", "\"\"\"\"\n", "1:[\"] EOF"),
	T("quoted empty field is a record", "\"\"\n", "1:[] EOF"),
	T("quoted empty fields", "\"\",\"\"\n", "1:[|] EOF"),
	T("embedded LF", "\"a\nb\",c\nd\n", "1:[a\\nb|c] 3:[d] EOF"),
	T("embedded CRLF", "\"a\r\nb\r\n\",c\r\nd\r\n",
	    "1:[a\\r\\nb\\r\\n|c] 4:[d] EOF"),
	T("embedded lone CR", "\"a\rb\"\nc\n", "1:[a\\rb] 2:[c] EOF"),
	T("many LF in quotes", "x\n\"\n\n\n\",y\nz\n",
	    "1:[x] 2:[\\n\\n\\n|y] 6:[z] EOF"),
	T("CRLF records", "a,b\r\nc,d\r\n", "1:[a|b] 2:[c|d] EOF"),
	T("mixed line ends", "a\r\nb\nc\r\n", "1:[a] 2:[b] 3:[c] EOF"),
	T("no trailing newline", "a,b\nc", "1:[a|b] 2:[c] EOF"),
	T("quoted at EOF", "a,\"b\"", "1:[a|b] EOF"),
	T("BOM", "\xef\xbb\xbf" "a,b\n", "1:[a|b] EOF"),
	T("BOM only", "\xef\xbb\xbf", "EOF"),
	T("BOM then quote", "\xef\xbb\xbf\"a\"\n", "1:[a] EOF"),
	T("BOM then blank line", "\xef\xbb\xbf\na\n", "2:[a] EOF"),
	T("BOM in second field is data", "a,\xef\xbb\xbf" "b\n",
	    "1:[a|\xef\xbb\xbf" "b] EOF"),
	T("BOM on line 2 is data", "a\n\xef\xbb\xbf" "b\n",
	    "1:[a] 2:[\xef\xbb\xbf" "b] EOF"),
	T("second BOM is data", "\xef\xbb\xbf\xef\xbb\xbf" "a\n",
	    "1:[\xef\xbb\xbf" "a] EOF"),
	T("empty fields", ",,\na,,b\n", "1:[||] 2:[a||b] EOF"),
	T("trailing comma", "a,\nb,\r\n", "1:[a|] 2:[b|] EOF"),
	T("trailing comma at EOF", "a,", "1:[a|] EOF"),
	T("lone comma", ",", "1:[|] EOF"),
	T("blank lines", "\na\n\n\nb\n\n", "2:[a] 5:[b] EOF"),
	T("blank CRLF lines", "\r\na\r\n\r\nb", "2:[a] 4:[b] EOF"),
	T("only blank lines", "\n\r\n\n", "EOF"),
	T("space is not blank", " \n", "1:[ ] EOF"),
	T("spaces kept", " a , b \n", "1:[ a | b ] EOF"),
	T("valid UTF-8", "\xe5\xbc\xa0\xe4\xb8\x89,\xf0\x9f\x98\x80,"
	    "\xf4\x8f\xbf\xbf,\xed\x9f\xbf,\xee\x80\x80,\xc2\x80\n",
	    "1:[\xe5\xbc\xa0\xe4\xb8\x89|\xf0\x9f\x98\x80|\xf4\x8f\xbf\xbf|"
	    "\xed\x9f\xbf|\xee\x80\x80|\xc2\x80] EOF"),
	T("UTF-8 in quotes", "\"\xc3\xa9,\xe4\xb8\xad\"\n",
	    "1:[\xc3\xa9,\xe4\xb8\xad] EOF"),
	T("tab and other controls kept", "a\tb,\x01\n", "1:[a\tb|\x01] EOF"),

	/* Structural errors. */
	T("quote inside unquoted field", "a\"b\n",
	    "!-10@1:1 quote inside unquoted field"),
	T("quote inside unquoted, line 2 col 2", "x\ny,a\"\n",
	    "1:[x] !-10@2:2 quote inside unquoted field"),
	T("text after closing quote", "\"a\"b\n",
	    "!-10@1:1 unexpected character after closing quote"),
	T("space after closing quote", "a,\"b\" ,c\n",
	    "!-10@1:2 unexpected character after closing quote"),
	T("UTF-8 after closing quote", "\"a\"\xc3\xa9\n",
	    "!-10@1:1 unexpected character after closing quote"),
	T("unterminated quote", "a,\"b\nc\n",
	    "!-10@1:2 unterminated quoted field"),
	T("unterminated quote on line 2", "a\n\"b\nc\nd",
	    "1:[a] !-10@2:1 unterminated quoted field"),
	T("unterminated empty quote", "\"",
	    "!-10@1:1 unterminated quoted field"),
	T("bare CR", "a\rb\n", "!-10@1:1 bare carriage return"),
	T("bare CR at EOF", "a,b\r", "!-10@1:2 bare carriage return"),
	T("bare CR after quote", "x\n\"a\"\rb",
	    "1:[x] !-10@2:1 bare carriage return"),
	T("double CR", "\r\r\n", "!-10@1:1 bare carriage return"),
	T("CR then comma", "a\r,b\n", "!-10@1:1 bare carriage return"),

	/* NUL bytes. */
	T("NUL in unquoted field", "a\0b\n", "!-10@1:1 NUL byte"),
	T("NUL alone", "\0", "!-10@1:1 NUL byte"),
	T("NUL in quoted field", "a,\"b\nc\0\"\n", "!-10@2:2 NUL byte"),
	T("NUL after closing quote", "\"a\"\0", "!-10@1:1 NUL byte"),

	/* Invalid UTF-8. */
	T("lone continuation", "\x80\n", "!-10@1:1 invalid UTF-8"),
	T("overlong 2-byte C0", "a,\xc0\x80\n", "!-10@1:2 invalid UTF-8"),
	T("overlong 2-byte C1", "\xc1\xbf", "!-10@1:1 invalid UTF-8"),
	T("overlong 3-byte", "\xe0\x80\xaf", "!-10@1:1 invalid UTF-8"),
	T("overlong 3-byte max", "\xe0\x9f\xbf", "!-10@1:1 invalid UTF-8"),
	T("overlong 4-byte", "\xf0\x8f\xbf\xbf", "!-10@1:1 invalid UTF-8"),
	T("surrogate D800", "\xed\xa0\x80", "!-10@1:1 invalid UTF-8"),
	T("surrogate DFFF", "\"\xed\xbf\xbf\"", "!-10@1:1 invalid UTF-8"),
	T("above U+10FFFF", "\xf4\x90\x80\x80", "!-10@1:1 invalid UTF-8"),
	T("F5 lead", "\xf5\x80\x80\x80", "!-10@1:1 invalid UTF-8"),
	T("FE byte", "a\nb,\xfe\n", "1:[a] !-10@2:2 invalid UTF-8"),
	T("FF byte", "\xff", "!-10@1:1 invalid UTF-8"),
	T("truncated at EOF", "\xc3", "!-10@1:1 invalid UTF-8"),
	T("truncated before comma", "\xc3,b\n", "!-10@1:1 invalid UTF-8"),
	T("truncated before LF", "\xe4\xb8\n", "!-10@1:1 invalid UTF-8"),
	T("truncated before quote", "\"\xe4\xb8\"\n", "!-10@1:1 invalid UTF-8"),
	T("truncated in quotes at EOF", "\"\xf0\x9f\x98",
	    "!-10@1:1 invalid UTF-8"),
	T("ASCII inside sequence", "\xe4\xb8" "a", "!-10@1:1 invalid UTF-8"),
	T("extra continuation", "\xc3\xa9\xa9", "!-10@1:1 invalid UTF-8"),
	T("partial BOM", "\xef\xbb", "!-10@1:1 invalid UTF-8"),
	T("invalid on line 3 of a quoted field", "\"a\nb\n\xe4\xb8\xad\xff\"",
	    "!-10@3:1 invalid UTF-8"),
};

/* Cases read with another separator: the first character of the name. */
static const struct tcase delim_cases[] = {
	T("\t simple", "a\tb\tc\nd\te\tf\n", "1:[a|b|c] 2:[d|e|f] EOF"),
	T("\t comma is data", "a,b\tc\n", "1:[a,b|c] EOF"),
	T("\t quoted tab", "\"a\tb\"\tc\r\n", "1:[a\tb|c] EOF"),
	T("\t empty fields", "\t\t\na\t\tb\n", "1:[||] 2:[a||b] EOF"),
	T("\t trailing tab at EOF", "a\t", "1:[a|] EOF"),
	T("\t BOM", "\xef\xbb\xbf" "a\tb\n", "1:[a|b] EOF"),
	T("\t quote after tab", "a\t\"b\"x\n",
	    "!-10@1:2 unexpected character after closing quote"),
	T(";simple", "a;b\r\nc;d\r\n", "1:[a|b] 2:[c|d] EOF"),
	T(";quoted semicolon", "\"a;b\";\"c,d\"\n", "1:[a;b|c,d] EOF"),
	T(";comma is data", "1,5;2\n", "1:[1,5|2] EOF"),
	T(";tab is data", "a\tb;c\n", "1:[a\tb|c] EOF"),
	T(";quote in unquoted", "a;b\"\n",
	    "!-10@1:2 quote inside unquoted field"),
	T("|simple", "a|b|c\n", "1:[a|b|c] EOF"),
	T("|empty last", "a|\n|b\n", "1:[a|] 2:[|b] EOF"),
	T("|quoted bar is data", "\"a|b\"|c\n", "1:[a\\|b|c] EOF"),
	T("|UTF-8", "\xe5\xbc\xa0|\xe4\xb8\x89\n",
	    "1:[\xe5\xbc\xa0|\xe4\xb8\x89] EOF"),
};

/* Checks one delim_cases entry with both readers. */
static void
check_delim(const struct tcase *c)
{
	char *got;
	size_t pass;

	for (pass = 0; pass < 2; pass++) {
		got = render_fail(c->in, c->len, pass == 0 ? WHOLE : 1,
		    SIZE_MAX, c->name[0]);
		is_str(got, c->want, "separator %s (%s)", c->name,
		    pass == 0 ? "whole buffer" : "1-byte reads");
		free(got);
	}
}

static void
test_delimiter(void)
{
	static const char in[] = "a;b\n";
	struct mem m = { in, sizeof(in) - 1, 0, WHOLE, SIZE_MAX };
	struct vg_csv_row row;
	struct vg_csv *r;
	size_t i;

	for (i = 0; i < sizeof(delim_cases) / sizeof(delim_cases[0]); i++)
		check_delim(&delim_cases[i]);

	if ((r = vg_csv_new(mem_read, &m)) == NULL)
		abort();
	is_int(vg_csv_set_delimiter(NULL, ';'), VG_EINVAL,
	    "separator: NULL reader");
	is_int(vg_csv_set_delimiter(r, ':'), VG_EINVAL, "separator: ':'");
	is_int(vg_csv_set_delimiter(r, '"'), VG_EINVAL, "separator: quote");
	is_int(vg_csv_set_delimiter(r, '\n'), VG_EINVAL, "separator: LF");
	is_int(vg_csv_set_delimiter(r, '\0'), VG_EINVAL, "separator: NUL");
	is_int(vg_csv_set_delimiter(r, '\t'), 0, "separator: tab");
	is_int(vg_csv_set_delimiter(r, ';'), 0, "separator: changed again");
	is_int(vg_csv_next(r, &row), 1, "separator: record read");
	is_int(row.nfields, 2, "separator: the last one set is used");
	is_int(vg_csv_set_delimiter(r, ','), VG_EINVAL,
	    "separator: not once reading has started");
	vg_csv_free(r);
}

/* Returns n copies of s, followed by tail. */
static char *
repeat(const char *head, const char *s, size_t n, const char *tail,
    size_t *lenp)
{
	struct out o = { NULL, 0, 0 };
	size_t i;

	out_str(&o, head);
	for (i = 0; i < n; i++)
		out_str(&o, s);
	out_str(&o, tail);
	*lenp = o.len;
	return o.s;
}

/* A record of nf fields whose length, separators included, is total. */
static char *
record_of(size_t nf, size_t total, const char *tail, size_t *lenp)
{
	struct out o = { NULL, 0, 0 };
	size_t content = total - (nf - 1), i, n;
	char *f;

	if ((f = malloc(VG_CSV_FIELD_MAX)) == NULL)
		abort();
	memset(f, 'r', VG_CSV_FIELD_MAX);
	out_str(&o, "");
	for (i = 0; i < nf; i++) {
		n = content / (nf - i);
		if (n > VG_CSV_FIELD_MAX)
			n = VG_CSV_FIELD_MAX;
		content -= n;
		if (i > 0)
			out_str(&o, ",");
		out_add(&o, f, n);
	}
	if (content != 0)
		abort();
	out_str(&o, tail);
	free(f);
	*lenp = o.len;
	return o.s;
}

static void
check_owned(const char *name, char *in, size_t len, const char *want)
{
	check(name, in, len, want);
	free(in);
}

static void
test_limits(void)
{
	char *s;
	size_t n;

	s = repeat("", "x", VG_CSV_FIELD_MAX, "\n", &n);
	check_owned("field at the limit", s, n, "1:[<4096>] EOF");
	s = repeat("", "x", VG_CSV_FIELD_MAX + 1, "\n", &n);
	check_owned("field one over", s, n, "!-8@1:1 field too long");
	s = repeat("a\nb,c,", "x", VG_CSV_FIELD_MAX + 1, "", &n);
	check_owned("field one over at line 2 column 3", s, n,
	    "1:[a] !-8@2:3 field too long");
	s = repeat("\"", "\"\"", VG_CSV_FIELD_MAX, "\"\n", &n);
	check_owned("quoted field at the limit (decoded)", s, n,
	    "1:[<4096>] EOF");
	s = repeat("\"", "\"\"", VG_CSV_FIELD_MAX + 1, "\"\n", &n);
	check_owned("quoted field one over (decoded)", s, n,
	    "!-8@1:1 field too long");

	s = repeat("", "a,", VG_CSV_FIELDS_MAX - 1, "a\n", &n);
	check_owned("fields at the limit", s, n, "1:{256 fields} EOF");
	s = repeat("", ",", VG_CSV_FIELDS_MAX - 1, "\n", &n);
	check_owned("empty fields at the limit", s, n, "1:{256 fields} EOF");
	s = repeat("", "a,", VG_CSV_FIELDS_MAX, "a\n", &n);
	check_owned("fields one over", s, n, "!-8@1:257 too many fields");
	s = repeat("x\n", ",", VG_CSV_FIELDS_MAX, "", &n);
	check_owned("fields one over, trailing comma, line 2", s, n,
	    "1:[x] !-8@2:257 too many fields");

	s = record_of(16, VG_CSV_RECORD_MAX, "\n", &n);
	check_owned("record at the limit", s, n, "1:{16 fields} EOF");
	s = record_of(16, VG_CSV_RECORD_MAX + 1, "\n", &n);
	check_owned("record one over", s, n, "!-8@1:16 record too long");
	s = record_of(VG_CSV_FIELDS_MAX, VG_CSV_RECORD_MAX, "", &n);
	check_owned("record at the limit, 256 fields", s, n,
	    "1:{256 fields} EOF");
	s = record_of(VG_CSV_FIELDS_MAX, VG_CSV_RECORD_MAX + 1, "", &n);
	check_owned("record one over, 256 fields", s, n,
	    "!-8@1:256 record too long");
	s = record_of(16, VG_CSV_RECORD_MAX, ",\n", &n);
	check_owned("record one over by a separator", s, n,
	    "!-8@1:16 record too long");
	s = record_of(16, VG_CSV_RECORD_MAX, "\n\"\"\n", &n);
	check_owned("buffer reused after a full record", s, n,
	    "1:{16 fields} 2:[] EOF");
}

static void
test_sticky(void)
{
	static const char in[] = "a,b\nc\"d\ne,f\n";
	struct mem m = { in, sizeof(in) - 1, 0, WHOLE, SIZE_MAX };
	struct vg_csv *r;
	struct vg_csv_row row;
	uint64_t line;
	size_t col;
	int i, rc;

	if ((r = vg_csv_new(mem_read, &m)) == NULL)
		abort();
	is_str(vg_csv_error(r, &line, &col), "", "no reason before an error");
	is_int(line, 0, "no line before an error");
	is_int(vg_csv_next(r, &row), 1, "first record read");
	is_int(row.nfields, 2, "first record has two fields");
	for (i = 0; i < 3; i++) {
		rc = vg_csv_next(r, &row);
		is_int(rc, VG_EFORMAT, "call %d after the bad line fails",
		    i + 1);
		is_int(row.nfields, 0, "call %d returns no fields", i + 1);
		is_str(vg_csv_error(r, &line, &col),
		    "quote inside unquoted field", "call %d: same reason",
		    i + 1);
		is_int(line, 2, "call %d: same line", i + 1);
		is_int(col, 1, "call %d: same column", i + 1);
	}
	vg_csv_free(r);
}

static void
test_read_error(void)
{
	static const char in[] = "a,b\nc,d\n";
	char *got;

	got = render_fail(in, sizeof(in) - 1, WHOLE, 5, ',');
	is_str(got, "1:[a|b] !-3@2:1 read error", "read error (whole)");
	free(got);
	got = render_fail(in, sizeof(in) - 1, 1, 5, ',');
	is_str(got, "1:[a|b] !-3@2:1 read error", "read error (1-byte)");
	free(got);
	got = render_fail(in, sizeof(in) - 1, 1, 0, ',');
	is_str(got, "!-3@1:1 read error", "read error at the start");
	free(got);
}

static void
test_api(void)
{
	struct vg_csv_row row;
	struct vg_csv *r;
	uint64_t line = 7;
	size_t col = 7;
	FILE *fp;
	int rc;

	ok(vg_csv_new(NULL, NULL) == NULL, "no reader without a callback");
	ok(vg_csv_new_file(NULL) == NULL, "no reader without a file");
	vg_csv_free(NULL);
	ok(1, "vg_csv_free(NULL) is a no-op");
	is_int(vg_csv_next(NULL, &row), VG_EINVAL, "next on NULL reader");
	is_str(vg_csv_error(NULL, &line, &col), "", "error on NULL reader");
	ok(line == 0 && col == 0, "error on NULL reader clears position");

	if ((fp = tmpfile()) == NULL)
		abort();
	fputs("\xef\xbb\xbfname,city\n\"Li, Wei\",\xe5\x8c\x97\xe4\xba\xac\n",
	    fp);
	rewind(fp);
	if ((r = vg_csv_new_file(fp)) == NULL)
		abort();
	is_int(vg_csv_next(r, &row), 1, "file: header read");
	is_str(row.field[0], "name", "file: BOM skipped");
	rc = vg_csv_next(r, &row);
	ok(rc == 1 && row.nfields == 2 && strcmp(row.field[0], "Li, Wei") ==
	    0 && strcmp(row.field[1], "\xe5\x8c\x97\xe4\xba\xac") == 0 &&
	    row.line == 2 && row.record == 2, "file: data row read");
	is_int(vg_csv_next(r, &row), 0, "file: end of input");
	vg_csv_free(r);
	fclose(fp);
}

/* Captures what vg_csv_write_field() writes for s. */
static char *
written(const char *s, size_t len, int *rcp)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *fp;

	if ((fp = open_memstream(&buf, &n)) == NULL)
		abort();
	*rcp = vg_csv_write_field(fp, s, len);
	fclose(fp);
	return buf;
}

static void
test_writer(void)
{
	static const struct {
		const char *in, *want;
	} w[] = {
		{ "abc", "abc" },
		{ "", "" },
		{ "a b", "a b" },
		{ "\xe5\xbc\xa0\xe4\xb8\x89", "\xe5\xbc\xa0\xe4\xb8\x89" },
		{ "a,b", "\"a,b\"" },
		{ "a\"b", "\"a\"\"b\"" },
		{ "\"", "\"\"\"\"" },
		{ "\"\"x\"", "\"\"\"\"\"x\"\"\"" },
		{ "a\nb", "\"a\nb\"" },
		{ "a\rb", "\"a\rb\"" },
		{ " a", "\" a\"" },
		{ "a ", "\"a \"" },
		{ " ", "\" \"" },
		{ "\xef\xbb\xbfx", "\"\xef\xbb\xbfx\"" },
		{ "x\xef\xbb\xbf", "x\xef\xbb\xbf" },
	};
	size_t i;
	char *got;
	int rc;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		char buf[64];
		size_t n = 0, len = strlen(w[i].in);

		got = written(w[i].in, len, &rc);
		ok(rc == 0 && strcmp(got, w[i].want) == 0,
		    "writer: field %zu", i);
		free(got);
		/* The buffer form gives the same bytes, in 2 * len + 2. */
		memset(buf, 'Z', sizeof(buf));
		rc = vg_csv_format_field(buf, 2 * len + 2, w[i].in, len, &n);
		ok(rc == 0 && n == strlen(w[i].want) &&
		    memcmp(buf, w[i].want, n) == 0 && buf[n] == 'Z',
		    "format: field %zu, same bytes, nothing past them", i);
	}
	is_int(vg_csv_write_field(NULL, "a", 1), VG_EINVAL,
	    "writer: NULL file");
	{
		char buf[8];
		size_t n;

		is_int(vg_csv_format_field(buf, 3, "a,b", 3, &n), VG_ETOOBIG,
		    "format: \"a,b\" needs 5 bytes, 3 is too small");
		is_int(vg_csv_format_field(buf, 2, "abc", 3, &n), VG_ETOOBIG,
		    "format: a plain field too long for the buffer");
		is_int(vg_csv_format_field(NULL, 8, "a", 1, &n), VG_EINVAL,
		    "format: NULL buffer");
	}
}

/* A small deterministic generator (xorshift64). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

#define RT_RECORDS	3000
#define RT_FIELDS	12

struct rt_record {
	size_t nf;
	uint64_t line;
	char *f[RT_FIELDS];
	size_t len[RT_FIELDS];
};

static void
test_roundtrip(void)
{
	static const char *const tok[] = {
		"a", "Z", "0", ",", "\"", "\r", "\n", "\r\n", " ", "\t", "'",
		"\xe5\xbc\xa0", "\xc3\xa9", "\xf0\x9f\x98\x80", "\xef\xbb\xbf",
		"\"\"", "|",
	};
	const size_t ntok = sizeof(tok) / sizeof(tok[0]);
	struct rt_record *rec;
	struct out fo;
	struct vg_csv_row row;
	struct vg_csv *r;
	struct mem m;
	char *buf = NULL;
	size_t n = 0, i, j, t, ntoks, bad, pass;
	uint64_t line = 1;
	FILE *fp;
	int rc, wrc = 0;

	if ((rec = calloc(RT_RECORDS, sizeof(*rec))) == NULL)
		abort();
	if ((fp = open_memstream(&buf, &n)) == NULL)
		abort();
	for (i = 0; i < RT_RECORDS; i++) {
		rec[i].nf = 1 + rng() % RT_FIELDS;
		rec[i].line = line;
		for (j = 0; j < rec[i].nf; j++) {
			fo.s = NULL;
			fo.len = fo.cap = 0;
			out_str(&fo, "");
			ntoks = rng() % 8;
			for (t = 0; t < ntoks; t++)
				out_str(&fo, tok[rng() % ntok]);
			rec[i].f[j] = fo.s;
			rec[i].len[j] = fo.len;
			for (t = 0; t < fo.len; t++)
				line += fo.s[t] == '\n';
			if (j > 0 && fputc(',', fp) == EOF)
				wrc = -1;
			if (rec[i].nf == 1 && fo.len == 0) {
				/* A lone empty field would be a blank line. */
				fputs("\"\"", fp);
				continue;
			}
			if (vg_csv_write_field(fp, fo.s, fo.len) != 0)
				wrc = -1;
		}
		fputs(rng() % 2 ? "\r\n" : "\n", fp);
		line++;
	}
	fclose(fp);
	is_int(wrc, 0, "round trip: every field written");

	for (pass = 0; pass < 2; pass++) {
		m.buf = buf;
		m.len = n;
		m.pos = 0;
		m.chunk = pass == 0 ? WHOLE : 1;
		m.failat = SIZE_MAX;
		if ((r = vg_csv_new(mem_read, &m)) == NULL)
			abort();
		bad = 0;
		for (i = 0; (rc = vg_csv_next(r, &row)) == 1; i++) {
			if (i >= RT_RECORDS || row.nfields != rec[i].nf ||
			    row.line != rec[i].line) {
				bad++;
				continue;
			}
			for (j = 0; j < row.nfields; j++) {
				if (row.len[j] != rec[i].len[j] ||
				    memcmp(row.field[j], rec[i].f[j],
				    row.len[j]) != 0)
					bad++;
			}
		}
		is_int(rc, 0, "round trip (%s): reads to the end",
		    pass == 0 ? "whole" : "1-byte");
		is_int(i, RT_RECORDS, "round trip (%s): record count",
		    pass == 0 ? "whole" : "1-byte");
		is_int(bad, 0, "round trip (%s): records equal, lines right",
		    pass == 0 ? "whole" : "1-byte");
		vg_csv_free(r);
	}
	for (i = 0; i < RT_RECORDS; i++)
		for (j = 0; j < rec[i].nf; j++)
			free(rec[i].f[j]);
	free(rec);
	free(buf);
}

#define BIG_ROWS	100000

static void
test_big(void)
{
	struct out o = { NULL, 0, 0 };
	struct vg_csv_row row;
	struct vg_csv *r;
	struct mem m;
	uint64_t lines = 1, lastline = 0, records, fieldbytes, want = 0;
	size_t i, pass, nfok;
	int rc;

	out_str(&o, "id,name,address,phone\n");
	want += 2 + 4 + 7 + 5;
	for (i = 1; i <= BIG_ROWS; i++) {
		size_t before = o.len;

		if (i % 1000 == 0) {
			/* Some addresses span two lines. */
			out_fmt(&o, "%zu,\xe6\x9d\x8e%zu,\"Road %zu,\n"
			    "Unit \"\"%zu\"\"\",+86 %zu\n", i, i, i, i, i);
			want += o.len - before - 3 - 3 - 2;
			lines++;
		} else {
			out_fmt(&o, "%zu,\xe6\x9d\x8e%zu,"
			    "\"Road %zu, Unit %zu\",+86 %zu\n", i, i, i, i, i);
			want += o.len - before - 3 - 2 - 1;
		}
		lines++;
	}
	for (pass = 0; pass < 2; pass++) {
		m.buf = o.s;
		m.len = o.len;
		m.pos = 0;
		m.chunk = pass == 0 ? WHOLE : 1;
		m.failat = SIZE_MAX;
		if ((r = vg_csv_new(mem_read, &m)) == NULL)
			abort();
		records = fieldbytes = 0;
		nfok = 1;
		while ((rc = vg_csv_next(r, &row)) == 1) {
			records++;
			lastline = row.line;
			if (row.nfields != 4)
				nfok = 0;
			for (i = 0; i < row.nfields; i++)
				fieldbytes += row.len[i];
		}
		is_int(rc, 0, "%d rows (%s): no error", BIG_ROWS,
		    pass == 0 ? "whole" : "1-byte");
		is_int(records, BIG_ROWS + 1, "%d rows (%s): record count",
		    BIG_ROWS, pass == 0 ? "whole" : "1-byte");
		ok(nfok, "%d rows (%s): four fields each", BIG_ROWS,
		    pass == 0 ? "whole" : "1-byte");
		is_int(fieldbytes, want, "%d rows (%s): decoded byte count",
		    BIG_ROWS, pass == 0 ? "whole" : "1-byte");
		is_int(lastline, lines - 1, "%d rows (%s): last line number",
		    BIG_ROWS, pass == 0 ? "whole" : "1-byte");
		vg_csv_free(r);
	}
	free(o.s);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(cases[i].name, cases[i].in, cases[i].len, cases[i].want);
	test_delimiter();
	test_limits();
	test_sticky();
	test_read_error();
	test_api();
	test_writer();
	test_roundtrip();
	test_big();
	return done_testing();
}
