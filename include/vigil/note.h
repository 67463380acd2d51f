/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signed notes and checkpoints in the C2SP formats, so that existing
 * transparency tooling (witnesses, Go's golang.org/x/mod/sumdb/note,
 * transparency-dev) can read what vigil signs.
 *
 *   signed-note:   text, a blank line, then one or more signature lines
 *                  "— <key name> <base64(key id (4) || signature)>"
 *   checkpoint:    note text "<origin>\n<size>\n<base64 root hash>\n"
 *                  followed by optional extension lines
 *   verifier key:  "<name>+<hex key id>+<base64(0x01 || Ed25519 public key)>"
 *
 * Key id = the first 4 bytes of SHA-256(name || "\n" || 0x01 || public
 * key).  Signatures are Ed25519 over the note text, which includes its
 * final newline.
 */
#ifndef VIGIL_NOTE_H
#define VIGIL_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/error.h"
#include "vigil/merkle.h"

#define VG_NOTE_MAX 8192		/* bytes in a whole signed note */
#define VG_NOTE_NAME_MAX 128		/* bytes in a key name */
#define VG_NOTE_SIGS_MAX 16		/* signature lines read */
#define VG_CHECKPOINT_EXT_MAX 8		/* extension lines kept */
#define VG_VKEY_MAX 256			/* bytes in a verifier key string */

struct vg_note_key {
	char name[VG_NOTE_NAME_MAX + 1];
	unsigned char id[4];
	unsigned char pk[32];		/* Ed25519 public key */
};

/* Derives the key id for name and pk into k (k->name and k->pk set). */
void vg_note_key_init(struct vg_note_key *k, const char *name,
    const unsigned char pk[32]);
/* Formats "<name>+<hex id>+<base64(0x01||pk)>" into out. */
int vg_note_vkey_format(const struct vg_note_key *k, char *out, size_t cap);
/* Parses a verifier key string; checks the id matches.  0 or VG_EINVAL. */
VG_MUST_CHECK int vg_note_vkey_parse(struct vg_note_key *k, const char *s,
    size_t len);

/*
 * Signs text (which must be non-empty, valid UTF-8 without control
 * characters other than newline, and end in a newline) with the Ed25519
 * secret key sk (64 bytes, libsodium layout) under name; writes the whole
 * signed note into out.  Returns 0, VG_EINVAL or VG_ETOOBIG.
 */
int vg_note_sign(const char *text, size_t len, const char *name,
    const unsigned char sk[64], char *out, size_t cap, size_t *outlen);

/*
 * Verifies a signed note against key: the note must parse strictly and
 * carry a signature line from key (name and id) that verifies.  Other
 * signatures are ignored.  On success *textlen is the length of the
 * signed text (a prefix of note).  Returns 0, VG_EFORMAT (malformed:
 * *why says where) or VG_ECRYPTO (no valid signature by key).
 */
VG_MUST_CHECK int vg_note_verify(const char *note, size_t len,
    const struct vg_note_key *key, size_t *textlen, const char **why);

struct vg_checkpoint {
	char origin[VG_NOTE_NAME_MAX + 1];
	uint64_t size;
	unsigned char root[VG_HASHBYTES];
	size_t next;				/* extension lines kept */
	char ext[VG_CHECKPOINT_EXT_MAX][128];	/* without newline */
};

/* Formats the checkpoint's note text into out. */
int vg_checkpoint_format(const struct vg_checkpoint *c, char *out,
    size_t cap, size_t *outlen);
/* Parses checkpoint note text (the signed text only, not signatures).
 * Returns 0 or VG_EFORMAT with *why. */
VG_MUST_CHECK int vg_checkpoint_parse(struct vg_checkpoint *c,
    const char *text, size_t len, const char **why);

#endif
