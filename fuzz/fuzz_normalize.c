/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for vg_normalize() and vg_mask() (lib/normalize.c).
 *
 * The first input byte picks the field type from its low three bits, so
 * the seed files in fuzz/corpus/normalize/ start with an ASCII digit:
 *
 *	'1' name    '2' phone    '3' email    '4' account_id
 *	'5' address '6' region   '7' text     '0' or '8' no such type
 *
 * The rest of the input is the value.  When normalisation succeeds the
 * harness aborts unless the canonical form is valid UTF-8 of at most
 * VG_NORM_MAX bytes with no surrounding whitespace, normalises to
 * itself, fits a buffer of exactly its length plus one (and not one
 * byte less), and masks without error to valid UTF-8 with a star in
 * it (regions excepted: they are shown in clear).  When it fails, the
 * reason must be set and quote no digits, and the output must be empty.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_normalize: %s\n", what);
	abort();
}

/* True when s holds two digits in a row (no static reason does). */
static int
has_digit_run(const char *s)
{
	for (; s[0] != '\0'; s++)
		if (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9')
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[VG_NORM_MAX + 1], again[VG_NORM_MAX + 1];
	static char mask[4 * VG_NORM_MAX + 8];
	enum vg_ftype t;
	const char *in, *why = "unset";
	size_t inlen, len = 99, alen;
	int rc;

	if (size == 0)
		return 0;
	t = (enum vg_ftype)(data[0] & 7);
	in = (const char *)(data + 1);
	inlen = size - 1;

	rc = vg_normalize(t, in, inlen, out, sizeof(out), &len, &why);
	if (rc != 0) {
		if (rc != VG_EINVAL && rc != VG_ETOOBIG)
			fail("unexpected error code");
		if (why == NULL || has_digit_run(why))
			fail("missing or suspicious reason");
		if (len != 0 || out[0] != '\0')
			fail("failure left output behind");
		return 0;
	}
	if (why != NULL)
		fail("reason set on success");
	if (t < VG_FT_NAME || t > VG_FT_TEXT)
		fail("unknown type accepted");
	if (len == 0 || len > VG_NORM_MAX || len != strlen(out))
		fail("bad output length");
	if (!vg_utf8_valid(out, len))
		fail("output is not valid UTF-8");
	if (!vg_utf8_valid(in, inlen))
		fail("invalid UTF-8 input accepted");
	if (out[0] == ' ' || out[len - 1] == ' ')
		fail("output not trimmed");
	if ((t == VG_FT_NAME || t == VG_FT_ADDRESS) && strstr(out, "  "))
		fail("whitespace not collapsed");

	rc = vg_normalize(t, out, len, again, sizeof(again), &alen, &why);
	if (rc != 0 || alen != len || memcmp(out, again, len) != 0)
		fail("normalisation is not idempotent");
	rc = vg_normalize(t, out, len, again, len + 1, &alen, &why);
	if (rc != 0)
		fail("exact-size buffer refused");
	rc = vg_normalize(t, out, len, again, len, &alen, &why);
	if (rc != VG_ETOOBIG)
		fail("short buffer accepted");

	rc = vg_mask(t, out, len, mask, sizeof(mask));
	if (rc != 0)
		fail("mask failed");
	if (!vg_utf8_valid(mask, strlen(mask)))
		fail("mask is not valid UTF-8");
	if (t != VG_FT_REGION && strchr(mask, '*') == NULL)
		fail("mask hides nothing");
	return 0;
}
