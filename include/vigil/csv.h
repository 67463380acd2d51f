/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A streaming RFC 4180 CSV reader and a field writer.  The reader splits
 * fields at ',' or at another separator (tab, ';', '|'); the writer
 * always writes ','.
 *
 * The reader pulls bytes through a callback, so it reads files, pipes and
 * fuzzer buffers alike in bounded memory.  It accepts quoted fields,
 * doubled quotes, embedded newlines, CRLF or LF line ends, and a UTF-8
 * byte-order mark at the very start; it rejects invalid UTF-8, fields or
 * records over the limits below, and stray quotes.  Errors carry the
 * physical line and the 1-based column where they were found, never the
 * offending bytes.
 */
#ifndef VIGIL_CSV_H
#define VIGIL_CSV_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "vigil/error.h"

#define VG_CSV_FIELD_MAX 4096		/* bytes in one field */
#define VG_CSV_FIELDS_MAX 256		/* fields in one record */
#define VG_CSV_RECORD_MAX (64 * 1024)	/* bytes in one record */

/* Reads up to n bytes into buf; returns the count, 0 at end, -1 on error. */
typedef ssize_t (*vg_csv_read_fn)(void *ctx, void *buf, size_t n);

struct vg_csv;

/* One record.  Pointers are borrowed and valid until the next call to
 * vg_csv_next() or vg_csv_free().  Each field is NUL-terminated too. */
struct vg_csv_row {
	size_t nfields;
	const char *const *field;
	const size_t *len;
	uint64_t line;		/* physical line where the record starts, 1-based */
	uint64_t record;	/* record number, 1-based (header is record 1) */
};

/* Returns a reader over read(ctx, ...), or NULL when out of memory. */
struct vg_csv *vg_csv_new(vg_csv_read_fn read, void *ctx);
/* Returns a reader over fp (borrowed; not closed by vg_csv_free). */
struct vg_csv *vg_csv_new_file(FILE *fp);
/* Frees r.  NULL is a no-op. */
void vg_csv_free(struct vg_csv *r);

/*
 * Makes d the field separator: ',' (the default), '\t', ';' or '|'.
 * The others are then ordinary bytes.  Call it before the first
 * vg_csv_next().  Returns 0, or VG_EINVAL for another byte or a reader
 * that has started reading.
 */
VG_MUST_CHECK int vg_csv_set_delimiter(struct vg_csv *r, char d);

/*
 * Reads the next record into *row.  Returns 1 for a record, 0 at end of
 * input, or a negative VG_E* code (VG_EFORMAT, VG_ETOOBIG, VG_EIO) after
 * which vg_csv_error() describes the problem.  A blank line at the very
 * end of input is not a record.  Once an error is returned, every later
 * call returns the same error.
 */
VG_MUST_CHECK int vg_csv_next(struct vg_csv *r, struct vg_csv_row *row);

/* The last error's reason (static text, e.g. "invalid UTF-8"), its
 * physical line and 1-based column.  Reason is "" when there is none. */
const char *vg_csv_error(const struct vg_csv *r, uint64_t *line,
    size_t *column);

/* Writes s[0..len) as one CSV field, quoted when it contains a comma,
 * quote, CR or LF, or starts/ends with a space.  Returns 0 or VG_EIO. */
int vg_csv_write_field(FILE *fp, const char *s, size_t len);

/* The same field as vg_csv_write_field() writes it, into out[0..cap)
 * (no NUL added); *outlen gets its length.  2 * len + 2 bytes are always
 * enough.  Returns 0, VG_ETOOBIG (out is then partly written) or
 * VG_EINVAL. */
int vg_csv_format_field(char *out, size_t cap, const char *s, size_t len,
    size_t *outlen);

#endif
