/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for signed notes and checkpoints (lib/note.c).  Each
 * input is read four ways:
 *  - as a signed note, verified against a fixed key (the corpus holds
 *    notes that key really signed), and again with no key: the two must
 *    agree on whether the note is well-formed;
 *  - as checkpoint text: a successful parse must format back to the very
 *    same bytes and parse again to the same checkpoint;
 *  - as note text to sign: a signed result must verify, with the input
 *    as its text;
 *  - as a verifier key: a parsed key must format and parse back to
 *    itself.
 * Any broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vigil/note.h"

#define FUZZ_NAME	"fuzz.example/log"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_note: %s:%d: check failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

static unsigned char fuzz_pk[32], fuzz_sk[64];
static struct vg_note_key fuzz_key;

/* The fixed key: seed bytes 0, 1, ..., 31 under FUZZ_NAME. */
static void
init(void)
{
	static int done;
	unsigned char seed[32];
	size_t i;

	if (done)
		return;
	CHECK(sodium_init() >= 0);
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (unsigned char)i;
	crypto_sign_seed_keypair(fuzz_pk, fuzz_sk, seed);
	vg_note_key_init(&fuzz_key, FUZZ_NAME, fuzz_pk);
	done = 1;
}

static void
fuzz_verify(const char *s, size_t size)
{
	const char *why = NULL, *why2 = NULL;
	size_t tl = 1, tl2 = 1;
	int rc, rc2;

	rc = vg_note_verify(s, size, &fuzz_key, &tl, &why);
	CHECK(rc == 0 || rc == VG_EFORMAT || rc == VG_ECRYPTO);
	if (rc == 0) {
		CHECK(why == NULL);
		CHECK(tl > 0 && tl + 1 < size);
		CHECK(s[tl - 1] == '\n' && s[tl] == '\n');
		CHECK(size <= VG_NOTE_MAX);
	} else {
		CHECK(tl == 0);
		CHECK(why != NULL && why[0] != '\0');
	}
	/* Well-formedness does not depend on the key. */
	rc2 = vg_note_verify(s, size, NULL, &tl2, &why2);
	CHECK(rc2 == (rc == VG_EFORMAT ? VG_EFORMAT : VG_ECRYPTO));
	CHECK(tl2 == 0 && why2 != NULL);
	if (rc == VG_EFORMAT)
		CHECK(strcmp(why, why2) == 0);
}

static void
fuzz_checkpoint(const char *s, size_t size)
{
	static struct vg_checkpoint c, d;
	static char out[VG_NOTE_MAX + 1];
	const char *why = NULL;
	size_t olen = 0, i;
	int rc;

	rc = vg_checkpoint_parse(&c, s, size, &why);
	if (rc != 0) {
		CHECK(rc == VG_EFORMAT);
		CHECK(why != NULL && why[0] != '\0');
		CHECK(c.origin[0] == '\0' && c.size == 0 && c.next == 0);
		return;
	}
	CHECK(why == NULL);
	CHECK(c.origin[0] != '\0' && c.next <= VG_CHECKPOINT_EXT_MAX);
	CHECK(vg_checkpoint_format(&c, out, sizeof(out), &olen) == 0);
	CHECK(olen == size && memcmp(out, s, size) == 0 && out[olen] == '\0');
	CHECK(vg_checkpoint_parse(&d, out, olen, &why) == 0);
	CHECK(strcmp(c.origin, d.origin) == 0 && c.size == d.size);
	CHECK(memcmp(c.root, d.root, sizeof(c.root)) == 0);
	CHECK(c.next == d.next);
	for (i = 0; i < c.next; i++)
		CHECK(strcmp(c.ext[i], d.ext[i]) == 0);
}

static void
fuzz_sign(const char *s, size_t size)
{
	static char out[VG_NOTE_MAX + 1];
	const char *why = NULL;
	size_t olen = 0, tl = 0;
	int rc;

	rc = vg_note_sign(s, size, FUZZ_NAME, fuzz_sk, out, sizeof(out),
	    &olen);
	if (rc != 0) {
		CHECK(rc == VG_EINVAL || rc == VG_ETOOBIG);
		CHECK(olen == 0);
		return;
	}
	CHECK(olen > size && olen <= VG_NOTE_MAX && out[olen] == '\0');
	CHECK(memcmp(out, s, size) == 0);
	CHECK(vg_note_verify(out, olen, &fuzz_key, &tl, &why) == 0);
	CHECK(tl == size);
}

static void
fuzz_vkey(const char *s, size_t size)
{
	struct vg_note_key k, k2;
	char out[VG_VKEY_MAX + 1];

	if (vg_note_vkey_parse(&k, s, size) != 0) {
		CHECK(k.name[0] == '\0');
		return;
	}
	CHECK(vg_note_vkey_format(&k, out, sizeof(out)) == 0);
	CHECK(strlen(out) == size);
	CHECK(vg_note_vkey_parse(&k2, out, size) == 0);
	CHECK(memcmp(&k, &k2, sizeof(k)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	init();
	fuzz_verify(s, size);
	fuzz_checkpoint(s, size);
	fuzz_sign(s, size);
	fuzz_vkey(s, size);
	return 0;
}
