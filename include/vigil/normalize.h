/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Canonical forms of personal values, per field type.
 *
 * Normalisation turns what a person typed into the one form that blind
 * indexes are computed over, so that "138 0013 8000" and
 * "+86 138-0013-8000" find the same customer.  Masking turns a canonical
 * value into the partial form shown by default.  Reasons returned through
 * `why` are static strings that never quote the input: they may be logged.
 */
#ifndef VIGIL_NORMALIZE_H
#define VIGIL_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/error.h"

/* Field types.  The type decides normalisation, masking and indexing. */
enum vg_ftype {
	VG_FT_NAME = 1,		/* person's name, any script */
	VG_FT_PHONE,		/* phone number, canonical E.164 "+8613800138000" */
	VG_FT_EMAIL,		/* e-mail address, lower-cased */
	VG_FT_ACCOUNT,		/* login id (Apple-ID-like), lower-cased */
	VG_FT_ADDRESS,		/* postal address, free text */
	VG_FT_REGION,		/* province code, ISO 3166-2 "CN-GD" */
	VG_FT_TEXT,		/* any other free text */
};

/* Largest canonical value of any type, in bytes, without the NUL. */
#define VG_NORM_MAX 1024

/* Returns the type named `name` ("phone", "email", ...), or 0. */
enum vg_ftype vg_ftype_from_name(const char *name);
/* Returns the name of type t, or "?". */
const char *vg_ftype_name(enum vg_ftype t);

/*
 * Normalises in[0..inlen) as type t into out (capacity outcap, always
 * NUL-terminated on success) and stores the length in *outlen.
 * Phones default to region CN.  Full-width ASCII (U+FF01..U+FF5E) and the
 * ideographic space are folded to ASCII first.
 *
 * Returns 0, VG_EINVAL when the value is malformed (with *why set to a
 * static reason), or VG_ETOOBIG when it exceeds the type's limit.
 * An empty value (after trimming) is VG_EINVAL with why "empty value".
 * why and outlen may be NULL; in may be NULL when inlen is 0.  On
 * failure out is zeroed and *outlen is 0.
 */
VG_MUST_CHECK int vg_normalize(enum vg_ftype t, const char *in, size_t inlen,
    char *out, size_t outcap, size_t *outlen, const char **why);

/*
 * Writes the masked form of canonical value canon[0..len) into out
 * (capacity outcap, NUL-terminated).  Masking keeps what support staff
 * need to recognise a customer on the phone and nothing that is
 * sellable: "+86 138****8000", "z***@example.com", "张*明".
 * An out buffer of VG_NORM_MAX + 1 bytes is always large enough for a
 * canonical value.  Returns 0 or VG_ETOOBIG (out[0] is then NUL).
 */
VG_MUST_CHECK int vg_mask(enum vg_ftype t, const char *canon, size_t len,
    char *out, size_t outcap);

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates,
 * or code points above U+10FFFF). */
bool vg_utf8_valid(const char *s, size_t len);

#endif
