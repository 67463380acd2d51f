/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The streaming CSV reader and the field writer of include/vigil/csv.h.
 * Input arrives through a callback in chunks of up to 64 KiB; each record
 * is decoded into one reusable buffer that grows up to the record limit,
 * so memory stays bounded whatever the input.  The scanner classifies
 * bytes with a table and copies runs of ordinary bytes at once; UTF-8 is
 * validated as it streams past, so a sequence may straddle two reads.
 * See docs/internals/csv.md for the grammar, the limits and the errors.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vigil/csv.h"

#define CSV_BUFSZ	(64 * 1024)	/* bytes per read */
#define CSV_REC_INIT	4096		/* initial record buffer size */
/*
 * The record buffer holds the decoded fields, each followed by a NUL.
 * A record of n fields has n - 1 separators, so content plus n NULs is
 * the record length plus one: the buffer never needs more than this.
 */
#define CSV_REC_CAP	(VG_CSV_RECORD_MAX + 1)

/*
 * Byte classes.  C_PLAIN, C_COMMA and C_CR are ordinary inside quotes.
 * C_COMMA is the field separator, whichever byte the reader uses.
 */
enum {
	C_PLAIN = 0,
	C_COMMA,
	C_CR,
	C_QUOTE,
	C_LF,
	C_NUL,
	C_HIGH
};

/* Scanner states inside a record. */
enum {
	ST_START,	/* at the first byte of a field */
	ST_UNQUOTED,	/* inside an unquoted field */
	ST_QUOTED,	/* inside a quoted field */
	ST_AFTERQUOTE,	/* after a quote inside a quoted field */
	ST_CR		/* after a CR outside quotes: LF must follow */
};

/*
 * One class table per separator the reader supports: ',' (which the
 * writer uses too), tab, ';' and '|'.  A reader points at one of them,
 * so the scanner's inner loops stay one lookup in a constant table per
 * byte whatever the separator (a table copied into each reader measured
 * 15% slower on the comma path).
 */
#define H4	C_HIGH, C_HIGH, C_HIGH, C_HIGH
#define H16	H4, H4, H4, H4
#define CLS_TABLE(sep) {						\
	[0x00] = C_NUL,							\
	['\n'] = C_LF,							\
	['\r'] = C_CR,							\
	['"'] = C_QUOTE,						\
	[(unsigned char)(sep)] = C_COMMA,				\
	[0x80] = H16, H16, H16, H16, H16, H16, H16, H16			\
}
static const unsigned char comma_cls[256] = CLS_TABLE(',');
static const unsigned char tab_cls[256] = CLS_TABLE('\t');
static const unsigned char semi_cls[256] = CLS_TABLE(';');
static const unsigned char bar_cls[256] = CLS_TABLE('|');
#undef CLS_TABLE
#undef H4
#undef H16

static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };

/*
 * The reader.  Invariants: in[pos..end) is input not yet scanned; rec
 * holds the nf finished fields of the current record, each followed by
 * a NUL, then the flen bytes of the field being read, so used is also
 * the length of the record so far counting one byte per separator.
 * u8need is the number of UTF-8 continuation bytes still expected and
 * [u8lo, u8hi] the range the next one must fall in.  cls is the byte
 * class table of the separator.  Once err is set the reader only ever
 * returns it.
 */
struct vg_csv {
	vg_csv_read_fn readfn;
	void *ctx;
	const unsigned char *cls;
	unsigned char *in;
	size_t pos;
	size_t end;
	char *rec;
	size_t cap;
	size_t used;
	size_t flen;
	size_t nf;
	unsigned int u8need;
	unsigned int u8lo;
	unsigned int u8hi;
	int started;
	int eof;
	int crblank;
	uint64_t line;		/* current physical line */
	uint64_t recline;	/* line where the current record starts */
	uint64_t fline;		/* line where the quoted field starts */
	uint64_t nrec;		/* records returned so far */
	int err;
	const char *reason;
	uint64_t eline;
	size_t ecol;
	size_t off[VG_CSV_FIELDS_MAX];
	size_t len[VG_CSV_FIELDS_MAX];
	const char *field[VG_CSV_FIELDS_MAX];
};

static ssize_t
file_read(void *ctx, void *buf, size_t n)
{
	FILE *fp = ctx;
	size_t got;

	got = fread(buf, 1, n, fp);
	if (got == 0 && ferror(fp))
		return -1;
	return (ssize_t)got;
}

struct vg_csv *
vg_csv_new(vg_csv_read_fn readfn, void *ctx)
{
	struct vg_csv *r = NULL;

	if (readfn == NULL)
		goto fail;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto fail;
	if ((r->in = malloc(CSV_BUFSZ)) == NULL)
		goto fail;
	if ((r->rec = malloc(CSV_REC_INIT)) == NULL)
		goto fail;
	r->cap = CSV_REC_INIT;
	r->cls = comma_cls;
	r->readfn = readfn;
	r->ctx = ctx;
	r->line = 1;
	r->reason = "";
	return r;
fail:
	vg_csv_free(r);
	return NULL;
}

struct vg_csv *
vg_csv_new_file(FILE *fp)
{
	if (fp == NULL)
		return NULL;
	return vg_csv_new(file_read, fp);
}

void
vg_csv_free(struct vg_csv *r)
{
	if (r == NULL)
		return;
	/* The buffers held customers' rows in clear. */
	sodium_memzero(r->in, CSV_BUFSZ);
	sodium_memzero(r->rec, r->cap);
	free(r->in);
	free(r->rec);
	free(r);
}

int
vg_csv_set_delimiter(struct vg_csv *r, char d)
{
	if (r == NULL || r->started)
		return VG_EINVAL;
	switch (d) {
	case ',':
		r->cls = comma_cls;
		break;
	case '\t':
		r->cls = tab_cls;
		break;
	case ';':
		r->cls = semi_cls;
		break;
	case '|':
		r->cls = bar_cls;
		break;
	default:
		return VG_EINVAL;
	}
	return 0;
}

/* Records the first error at the given line and returns its code. */
static int
fail_at(struct vg_csv *r, int err, const char *reason, uint64_t line)
{
	r->err = err;
	r->reason = reason;
	r->eline = line;
	r->ecol = r->nf + 1;
	return err;
}

static int
fail(struct vg_csv *r, int err, const char *reason)
{
	return fail_at(r, err, reason, r->line);
}

/*
 * Appends input to in[end..) with one read.  Returns 1 when bytes
 * arrived, 0 at end of input, or VG_EIO.
 */
static int
read_more(struct vg_csv *r)
{
	size_t room = CSV_BUFSZ - r->end;
	ssize_t n;

	if (r->eof)
		return 0;
	n = r->readfn(r->ctx, r->in + r->end, room);
	if (n < 0 || (size_t)n > room)
		return fail(r, VG_EIO, "read error");
	if (n == 0) {
		r->eof = 1;
		return 0;
	}
	r->end += (size_t)n;
	return 1;
}

/* Refills the drained input buffer; returns like read_more(). */
static int
refill(struct vg_csv *r)
{
	r->pos = 0;
	r->end = 0;
	return read_more(r);
}

/* Reads the first three bytes, if there are so many, and skips a BOM. */
static int
start(struct vg_csv *r)
{
	int rc;

	r->started = 1;
	while (r->end < sizeof(bom)) {
		if ((rc = read_more(r)) < 0)
			return rc;
		if (rc == 0)
			break;
	}
	if (r->end >= sizeof(bom) && memcmp(r->in, bom, sizeof(bom)) == 0)
		r->pos = sizeof(bom);
	return 0;
}

/* Makes room for need bytes in the record buffer; need <= CSV_REC_CAP. */
static int
reserve(struct vg_csv *r, size_t need)
{
	size_t ncap = r->cap;
	char *p;

	if (need <= r->cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if (ncap > CSV_REC_CAP)
		ncap = CSV_REC_CAP;
	/* Grow by copy, so no clear row is left behind in freed memory. */
	if ((p = malloc(ncap)) == NULL)
		return fail(r, VG_ENOMEM, "out of memory");
	memcpy(p, r->rec, r->cap);
	sodium_memzero(r->rec, r->cap);
	free(r->rec);
	r->rec = p;
	r->cap = ncap;
	return 0;
}

/* Adds n decoded bytes to the current field, enforcing both limits. */
static int
append(struct vg_csv *r, const unsigned char *s, size_t n)
{
	int rc;

	if (n > VG_CSV_FIELD_MAX - r->flen)
		return fail(r, VG_ETOOBIG, "field too long");
	if (n > VG_CSV_RECORD_MAX - r->used)
		return fail(r, VG_ETOOBIG, "record too long");
	if ((rc = reserve(r, r->used + n + 1)) != 0)
		return rc;
	memcpy(r->rec + r->used, s, n);
	r->used += n;
	r->flen += n;
	return 0;
}

/* Terminates the current field.  used <= VG_CSV_RECORD_MAX here. */
static int
end_field(struct vg_csv *r)
{
	int rc;

	if ((rc = reserve(r, r->used + 1)) != 0)
		return rc;
	r->off[r->nf] = r->used - r->flen;
	r->len[r->nf] = r->flen;
	r->rec[r->used++] = '\0';
	r->nf++;
	r->flen = 0;
	return 0;
}

/* Ends the current field at a separator; another field follows. */
static int
next_field(struct vg_csv *r)
{
	int rc;

	if (r->used >= VG_CSV_RECORD_MAX)
		return fail(r, VG_ETOOBIG, "record too long");
	if ((rc = end_field(r)) != 0)
		return rc;
	if (r->nf == VG_CSV_FIELDS_MAX)
		return fail(r, VG_ETOOBIG, "too many fields");
	return 0;
}

/* Ends the current field and the record. */
static int
end_record(struct vg_csv *r)
{
	int rc;

	if ((rc = end_field(r)) != 0)
		return rc;
	r->nrec++;
	return 1;
}

/*
 * Validates the run of bytes >= 0x80 at p, continuing any sequence left
 * open by the previous run.  Returns the end of the run, or NULL when it
 * holds an ill-formed sequence (Unicode table 3-7: no overlongs, no
 * surrogates, nothing above U+10FFFF).
 */
static const unsigned char *
utf8_scan(struct vg_csv *r, const unsigned char *p, const unsigned char *end)
{
	unsigned int need = r->u8need, lo = r->u8lo, hi = r->u8hi, c;

	for (; p < end && *p >= 0x80; p++) {
		c = *p;
		if (need > 0) {
			if (c < lo || c > hi)
				return NULL;
			need--;
			lo = 0x80;
			hi = 0xbf;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (c < 0xc2)
			return NULL;
		else if (c < 0xe0)
			need = 1;
		else if (c < 0xf0) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c < 0xf5) {
			need = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else
			return NULL;
	}
	r->u8need = need;
	r->u8lo = lo;
	r->u8hi = hi;
	return p;
}

/* Finishes the record at end of input in the given state. */
static int
at_eof(struct vg_csv *r, int state)
{
	if (r->u8need != 0)
		return fail(r, VG_EFORMAT, "invalid UTF-8");
	switch (state) {
	case ST_START:
		if (r->nf == 0)
			return 0;
		/* FALLTHROUGH */
	case ST_UNQUOTED:
	case ST_AFTERQUOTE:
		return end_record(r);
	case ST_QUOTED:
		return fail_at(r, VG_EFORMAT, "unterminated quoted field",
		    r->fline);
	default:
		return fail(r, VG_EFORMAT, "bare carriage return");
	}
}

/*
 * Scans one record into the record buffer.  Returns 1 for a record, 0 at
 * end of input, or a negative code recorded by fail().
 */
static int
parse(struct vg_csv *r)
{
	const unsigned char *cls = r->cls;
	const unsigned char *p, *q, *end;
	int state = ST_START, k, rc;

	r->nf = 0;
	r->used = 0;
	r->flen = 0;
	r->recline = r->line;
	p = r->in + r->pos;
	end = r->in + r->end;
	for (;;) {
		if (p == end) {
			if ((rc = refill(r)) < 0)
				return rc;
			if (rc == 0)
				return at_eof(r, state);
			p = r->in + r->pos;
			end = r->in + r->end;
		}
		k = cls[*p];
		if (r->u8need != 0 && k != C_HIGH)
			return fail(r, VG_EFORMAT, "invalid UTF-8");
		switch (state) {
		case ST_START:
			if (k == C_QUOTE) {
				r->fline = r->line;
				state = ST_QUOTED;
				p++;
				break;
			}
			/* FALLTHROUGH */
		case ST_UNQUOTED:
			switch (k) {
			case C_PLAIN:
				for (q = p + 1; q < end && cls[*q] == C_PLAIN;
				    q++)
					continue;
				if ((rc = append(r, p, (size_t)(q - p))) != 0)
					return rc;
				p = q;
				state = ST_UNQUOTED;
				break;
			case C_HIGH:
				if ((q = utf8_scan(r, p, end)) == NULL)
					return fail(r, VG_EFORMAT,
					    "invalid UTF-8");
				if ((rc = append(r, p, (size_t)(q - p))) != 0)
					return rc;
				p = q;
				state = ST_UNQUOTED;
				break;
			case C_COMMA:
				if ((rc = next_field(r)) != 0)
					return rc;
				p++;
				state = ST_START;
				break;
			case C_CR:
				r->crblank = state == ST_START && r->nf == 0;
				p++;
				state = ST_CR;
				break;
			case C_LF:
				p++;
				if (state == ST_START && r->nf == 0) {
					/* A blank line: skip it. */
					r->line++;
					r->recline = r->line;
					break;
				}
				r->pos = (size_t)(p - r->in);
				r->line++;
				return end_record(r);
			case C_QUOTE:
				return fail(r, VG_EFORMAT,
				    "quote inside unquoted field");
			default:
				return fail(r, VG_EFORMAT, "NUL byte");
			}
			break;
		case ST_QUOTED:
			switch (k) {
			case C_PLAIN:
			case C_COMMA:
			case C_CR:
				for (q = p + 1; q < end && cls[*q] <= C_CR; q++)
					continue;
				if ((rc = append(r, p, (size_t)(q - p))) != 0)
					return rc;
				p = q;
				break;
			case C_HIGH:
				if ((q = utf8_scan(r, p, end)) == NULL)
					return fail(r, VG_EFORMAT,
					    "invalid UTF-8");
				if ((rc = append(r, p, (size_t)(q - p))) != 0)
					return rc;
				p = q;
				break;
			case C_LF:
				if ((rc = append(r, p, 1)) != 0)
					return rc;
				r->line++;
				p++;
				break;
			case C_QUOTE:
				p++;
				state = ST_AFTERQUOTE;
				break;
			default:
				return fail(r, VG_EFORMAT, "NUL byte");
			}
			break;
		case ST_AFTERQUOTE:
			switch (k) {
			case C_QUOTE:
				if ((rc = append(r, p, 1)) != 0)
					return rc;
				p++;
				state = ST_QUOTED;
				break;
			case C_COMMA:
				if ((rc = next_field(r)) != 0)
					return rc;
				p++;
				state = ST_START;
				break;
			case C_CR:
				r->crblank = 0;
				p++;
				state = ST_CR;
				break;
			case C_LF:
				p++;
				r->pos = (size_t)(p - r->in);
				r->line++;
				return end_record(r);
			case C_NUL:
				return fail(r, VG_EFORMAT, "NUL byte");
			default:
				return fail(r, VG_EFORMAT,
				    "unexpected character after closing quote");
			}
			break;
		default:
			if (k != C_LF)
				return fail(r, VG_EFORMAT,
				    "bare carriage return");
			p++;
			if (r->crblank) {
				r->line++;
				r->recline = r->line;
				state = ST_START;
				break;
			}
			r->pos = (size_t)(p - r->in);
			r->line++;
			return end_record(r);
		}
	}
}

int
vg_csv_next(struct vg_csv *r, struct vg_csv_row *row)
{
	size_t i;
	int rc;

	if (r == NULL || row == NULL)
		return VG_EINVAL;
	row->nfields = 0;
	row->field = r->field;
	row->len = r->len;
	row->line = 0;
	row->record = 0;
	if (r->err != 0)
		return r->err;
	if (!r->started && (rc = start(r)) != 0)
		return rc;
	if ((rc = parse(r)) != 1)
		return rc;
	for (i = 0; i < r->nf; i++)
		r->field[i] = r->rec + r->off[i];
	row->nfields = r->nf;
	row->line = r->recline;
	row->record = r->nrec;
	return 1;
}

const char *
vg_csv_error(const struct vg_csv *r, uint64_t *line, size_t *column)
{
	if (line != NULL)
		*line = r != NULL && r->err != 0 ? r->eline : 0;
	if (column != NULL)
		*column = r != NULL && r->err != 0 ? r->ecol : 0;
	if (r == NULL)
		return "";
	return r->reason;
}

/* True when s[0..len) must be quoted to read back as one field. */
static int
needs_quote(const unsigned char *u, size_t len)
{
	size_t i;

	if (len > 0 && (u[0] == ' ' || u[len - 1] == ' '))
		return 1;
	/* A leading U+FEFF would be taken for a BOM at the start of a file. */
	if (len >= sizeof(bom) && memcmp(u, bom, sizeof(bom)) == 0)
		return 1;
	for (i = 0; i < len; i++) {
		if (comma_cls[u[i]] != C_PLAIN && comma_cls[u[i]] != C_HIGH &&
		    comma_cls[u[i]] != C_NUL)
			return 1;
	}
	return 0;
}

int
vg_csv_write_field(FILE *fp, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, from;
	int rc = VG_EIO;

	if (fp == NULL || (s == NULL && len > 0))
		return VG_EINVAL;
	if (!needs_quote(u, len)) {
		if (len > 0 && fwrite(s, 1, len, fp) != len)
			goto out;
		rc = 0;
		goto out;
	}
	if (putc('"', fp) == EOF)
		goto out;
	for (from = 0, i = 0; i < len; i++) {
		if (u[i] != '"')
			continue;
		/* Write up to and including the quote, then double it. */
		if (fwrite(s + from, 1, i + 1 - from, fp) != i + 1 - from ||
		    putc('"', fp) == EOF)
			goto out;
		from = i + 1;
	}
	if (len > from && fwrite(s + from, 1, len - from, fp) != len - from)
		goto out;
	if (putc('"', fp) == EOF)
		goto out;
	rc = 0;
out:
	return rc;
}

int
vg_csv_format_field(char *out, size_t cap, const char *s, size_t len,
    size_t *outlen)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n = 0;

	*outlen = 0;
	if (out == NULL || (s == NULL && len > 0))
		return VG_EINVAL;
	if (!needs_quote(u, len)) {
		if (len > cap)
			return VG_ETOOBIG;
		if (len > 0)
			memcpy(out, s, len);
		*outlen = len;
		return 0;
	}
	if (cap < 2)
		return VG_ETOOBIG;
	out[n++] = '"';
	for (i = 0; i < len; i++) {
		if (n + (u[i] == '"' ? 2 : 1) + 1 > cap)
			return VG_ETOOBIG;
		if (u[i] == '"')
			out[n++] = '"';
		out[n++] = s[i];
	}
	out[n++] = '"';
	*outlen = n;
	return 0;
}
