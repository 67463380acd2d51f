/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The customer field set.  A schema is fixed when a vault is created and
 * stored in it.  Each field has a name, a type (which decides
 * normalisation and masking), and options: `index` (a blind index allows
 * exact lookup; phone, email and account_id types by default) and
 * `required`.  A field of type region is kept in clear as a coarse
 * attribute; every other field is sealed.
 *
 * Text format, one field a line, '#' starts a comment:
 *
 *     # name      type        options
 *     name        name        required
 *     phone       phone       index
 *     region      region
 *
 * Options: index, noindex, required.  Names are [a-z][a-z0-9_]{0,31}.
 */
#ifndef VIGIL_SCHEMA_H
#define VIGIL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/crypto.h"
#include "vigil/normalize.h"

#define VG_FIELDS_MAX 32
#define VG_SCHEMA_TEXT_MAX 4096

struct vg_field {
	char name[VG_FIELDNAME_MAX + 1];
	enum vg_ftype type;
	bool indexed;
	bool required;
	bool sealed;		/* false only for the region field */
};

struct vg_schema {
	size_t nfields;
	struct vg_field field[VG_FIELDS_MAX];
	int region;		/* index of the region field, or -1 */
};

/* Fills s with the default schema: name, phone, email, account_id,
 * address, region. */
void vg_schema_default(struct vg_schema *s);

/*
 * Parses schema text.  On error returns VG_EINVAL and writes
 * "line N: reason" into err (capacity errcap).  Rules: at least one
 * field, at most VG_FIELDS_MAX, unique names, known types and options,
 * at most one region field, at least one indexed field, no index on
 * address or region fields.
 */
VG_MUST_CHECK int vg_schema_parse(struct vg_schema *s, const char *text,
    size_t len, char *err, size_t errcap);

/* Writes the schema as text (parseable by vg_schema_parse) into out.
 * Returns 0 or VG_ETOOBIG. */
int vg_schema_format(const struct vg_schema *s, char *out, size_t outcap);

/* Returns the index of the field named name, or -1. */
int vg_schema_find(const struct vg_schema *s, const char *name);

/* True when a and b describe the same fields (what a format/parse round
 * trip must preserve). */
bool vg_schema_equal(const struct vg_schema *a, const struct vg_schema *b);

/* Returns the index of the first indexed field of type t, or -1. */
int vg_schema_find_type(const struct vg_schema *s, enum vg_ftype t);

#endif
