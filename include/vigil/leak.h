/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a leaked file: whatever was found for sale, as it was found.
 *
 * A leak is a text table of some of a customer's name, phone, e-mail and
 * account id, in any order, with junk columns, a header or none, commas,
 * tabs, semicolons or bars between fields, and dirty values (spaces,
 * dashes, +86 or 0086 prefixes, full-width digits, mixed case).  The
 * reader sniffs the layout from the first rows (the delimiter, whether
 * the first row is a header, what each column holds), reports what it
 * decided and why, then streams every row as canonical values
 * (vigil/normalize.h), in bounded memory whatever the file's size.
 *
 * Telling an e-mail column from an account-id column (Apple-ID-like
 * account ids look like e-mail addresses) needs the vault: the caller
 * may give a hit callback, and the sniffer then asks the vault's blind
 * indexes which reading of a column's sampled values finds customers.
 *
 * Errors name the line and what was wrong, never a value.
 */
#ifndef VIGIL_LEAK_H
#define VIGIL_LEAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/csv.h"
#include "vigil/error.h"
#include "vigil/normalize.h"

#define VG_LEAK_COLS_MAX 64	/* columns read; later ones are junk */
#define VG_LEAK_SNIFF_ROWS 200	/* rows sampled to decide the layout */
#define VG_LEAK_HEADER_MAX 64	/* bytes of a header cell kept */

/*
 * A column of consumer-scoped pseudonyms ("psn_" and 39 base32
 * characters, vigil/crypto.h): what a pseudonymised export holds.  Not a
 * field type of the schema: its canonical form is the lower-case text.
 */
#define VG_LEAK_PSEUDONYM ((enum vg_ftype)32)

/* What a column holds, as decided. */
struct vg_leak_column {
	enum vg_ftype type;	/* VG_FT_NAME, PHONE, EMAIL, ACCOUNT,
				 * VG_LEAK_PSEUDONYM, or 0: not used
				 * (junk, ids, dates...) */
	char header[VG_LEAK_HEADER_MAX + 1];	/* the header cell, printable
				 * ASCII or UTF-8, cut at a character
				 * boundary ("" when there is no header) */
	uint32_t sampled;	/* non-empty values sampled */
	uint32_t parsed;	/* ... that normalise as type */
	uint32_t hits;		/* ... that hit the vault (hit callback) */
	const char *how;	/* static: "header", "values", "vault",
				 * "forced", or "unused" (exactly when
				 * type is 0) */
};

struct vg_leak_layout {
	char delimiter;		/* ',', '\t', ';' or '|' */
	bool header;		/* the first row is a header */
	size_t ncolumns;	/* columns seen in the sample (at most
				 * VG_LEAK_COLS_MAX) */
	struct vg_leak_column col[VG_LEAK_COLS_MAX];
};

/*
 * Optional: 1 when the canonical value canon[0..len) of type t finds a
 * customer (a blind-index hit), 0 when not, < 0 on error (the open
 * fails with it).  Called only during sniffing, for at most
 * VG_LEAK_SNIFF_ROWS values of each candidate column and type.
 */
typedef int (*vg_leak_hit_fn)(void *ctx, enum vg_ftype t, const char *canon,
    size_t len);

struct vg_leak_opts {
	vg_leak_hit_fn hit;	/* may be NULL */
	void *hit_ctx;
	char delimiter;		/* 0: sniff */
	int header;		/* -1: sniff, 0: none, 1: the first row */
	/* NULL, or the column types in order, comma-separated: "phone,-,name"
	 * ("-" or "junk" for an unused column; "pseudonym" for psn_...);
	 * overrides sniffing. */
	const char *columns;
};

/* Fills *o with the defaults: the layout sniffed, no hit callback.  A
 * zeroed struct is not that (header 0 means "no header"): start from
 * this and change what is forced. */
void vg_leak_opts_default(struct vg_leak_opts *o);

/* One value of a row, canonical. */
struct vg_leak_value {
	enum vg_ftype type;
	int column;
	const char *canon;	/* borrowed until the next vg_leak_next() */
	size_t len;
};

/* One data row (never the header). */
struct vg_leak_row {
	uint64_t line;		/* physical line where it starts, 1-based */
	uint64_t record;	/* record number in the file, 1-based */
	size_t nvalues;		/* values of used columns that normalised */
	struct vg_leak_value value[VG_LEAK_COLS_MAX];
	size_t nbad;		/* used columns whose value did not */
	size_t nempty;		/* used columns that were empty or missing */
};

struct vg_leak;

/*
 * Reads the first rows of read(ctx, ...) (kept in memory, at most
 * VG_LEAK_SNIFF_ROWS), decides the layout and returns a reader that
 * gives them back, then the rest, through vg_leak_next().  o may be
 * NULL (everything sniffed, no hit callback).  Returns 0, VG_EFORMAT or
 * VG_ETOOBIG (the file is not a table vg_csv can read: err says where),
 * VG_EIO (the read callback failed on the first rows), VG_EINVAL (bad
 * opts, no data rows, or no column holds a name, phone, e-mail or
 * account id: err says what was seen), the hit callback's error, or
 * VG_ENOMEM.  *out is NULL on error; err (capacity errcap, may be NULL)
 * is set on error.  The rules: docs/internals/leak.md.
 */
VG_MUST_CHECK int vg_leak_open(vg_csv_read_fn read, void *ctx,
    const struct vg_leak_opts *o, struct vg_leak **out, char *err,
    size_t errcap);

/* The layout decided (borrowed, valid until vg_leak_free). */
const struct vg_leak_layout *vg_leak_layout(const struct vg_leak *l);

/*
 * The next data row: 1, 0 at the end, or a negative VG_E* code (the
 * file turned unreadable further on) after which vg_leak_error() says
 * where.  Rows with no usable value are returned too (nvalues 0), so
 * the caller can count them.
 */
VG_MUST_CHECK int vg_leak_next(struct vg_leak *l, struct vg_leak_row *row);

/* The last error's reason (static) and line; "" when none. */
const char *vg_leak_error(const struct vg_leak *l, uint64_t *line);

/* Frees l, wiping the values it held.  NULL is a no-op. */
void vg_leak_free(struct vg_leak *l);

#endif
