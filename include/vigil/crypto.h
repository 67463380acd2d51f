/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cryptographic building blocks of the vault, all on libsodium:
 *
 *   - secret buffers in sodium_malloc'd memory (guard pages, mlock, wiped
 *     on free);
 *   - field sealing with XChaCha20-Poly1305 and associated data binding
 *     customer id, field name and key epoch;
 *   - key wrapping under the key-encryption key derived from the master;
 *   - blind indexes (keyed BLAKE2b over a canonical value);
 *   - consumer-scoped pseudonyms (a deterministic, authenticated
 *     encryption of the customer id under a per-consumer key).
 *
 * See docs/internals/crypto.md for the formats and the reasoning.
 */
#ifndef VIGIL_CRYPTO_H
#define VIGIL_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/error.h"

#define VG_KEYBYTES 32		/* every symmetric key */
#define VG_IDBYTES 16		/* customer id, random 128 bits */
#define VG_NONCEBYTES 24	/* XChaCha20-Poly1305 nonce */
#define VG_TAGBYTES 16		/* Poly1305 tag */
#define VG_SEAL_OVERHEAD (VG_NONCEBYTES + VG_TAGBYTES)
#define VG_WRAPPEDBYTES (VG_KEYBYTES + VG_SEAL_OVERHEAD)
#define VG_BIDXBYTES 16		/* blind index digest */
#define VG_PSNBYTES 24		/* pseudonym: 8-byte tag + 16-byte id */
#define VG_FIELDNAME_MAX 32	/* bytes in a field name */

size_t vg_seal_overhead(void);
size_t vg_keybytes(void);

/* Initialises libsodium.  Returns 0 or VG_ECRYPTO. */
VG_MUST_CHECK int vg_crypto_init(void);

/* Returns n bytes of sodium_malloc'd memory (guarded, locked), or NULL.
 * Free with vg_secret_free(), which wipes it.  NULL is a no-op there. */
unsigned char *vg_secret_new(size_t n);
void vg_secret_free(unsigned char *p);

/* Fills buf with n random bytes.  Uses a per-thread pool refilled from
 * the kernel, so nonces and ids cost no system call each. */
void vg_random(void *buf, size_t n);

/* Derives a 32-byte subkey of root for a purpose label (keyed BLAKE2b of
 * the label).  Labels are constants such as "index:phone". */
void vg_derive(unsigned char out[VG_KEYBYTES],
    const unsigned char root[VG_KEYBYTES], const char *label);

/*
 * Seals pt[0..ptlen) as field `field` (at most VG_FIELDNAME_MAX bytes) of
 * customer id under key of epoch.  Writes ptlen + VG_SEAL_OVERHEAD bytes
 * to out: nonce, ciphertext, tag.  Returns 0 or VG_EINVAL.
 */
int vg_seal(unsigned char *out, const unsigned char *pt, size_t ptlen,
    const unsigned char key[VG_KEYBYTES], const unsigned char id[VG_IDBYTES],
    const char *field, uint32_t epoch);

/*
 * Opens what vg_seal wrote.  out receives ctlen - VG_SEAL_OVERHEAD bytes.
 * Returns 0, or VG_ECRYPTO when the ciphertext, id, field, epoch or key
 * does not match (out is then wiped), or VG_EINVAL for a short input.
 */
VG_MUST_CHECK int vg_open(unsigned char *out, const unsigned char *ct,
    size_t ctlen, const unsigned char key[VG_KEYBYTES],
    const unsigned char id[VG_IDBYTES], const char *field, uint32_t epoch);

/*
 * The same with a record context appended to the associated data (at
 * most VG_SEAL_CTX_MAX bytes).  The vault passes the record's clear
 * attributes and the set of fields present, so that editing the region
 * or dropping a field makes every remaining field fail to open.  With an
 * empty context these are exactly vg_seal() and vg_open().
 */
#define VG_SEAL_CTX_MAX 64
int vg_seal_ctx(unsigned char *out, const unsigned char *pt, size_t ptlen,
    const unsigned char key[VG_KEYBYTES], const unsigned char id[VG_IDBYTES],
    const char *field, uint32_t epoch, const unsigned char *ctx,
    size_t ctxlen);
VG_MUST_CHECK int vg_open_ctx(unsigned char *out, const unsigned char *ct,
    size_t ctlen, const unsigned char key[VG_KEYBYTES],
    const unsigned char id[VG_IDBYTES], const char *field, uint32_t epoch,
    const unsigned char *ctx, size_t ctxlen);

/* Wraps a data key of a kind ("data", "index", ...) and epoch under kek.
 * out receives VG_WRAPPEDBYTES. */
void vg_wrap(unsigned char out[VG_WRAPPEDBYTES],
    const unsigned char key[VG_KEYBYTES], const unsigned char kek[VG_KEYBYTES],
    const char *kind, uint32_t epoch);
VG_MUST_CHECK int vg_unwrap(unsigned char key[VG_KEYBYTES],
    const unsigned char wrapped[VG_WRAPPEDBYTES],
    const unsigned char kek[VG_KEYBYTES], const char *kind, uint32_t epoch);

/* Blind index of a canonical value under a per-field key. */
void vg_blind_index(unsigned char out[VG_BIDXBYTES],
    const unsigned char fieldkey[VG_KEYBYTES], const char *canon, size_t len);

/* Pseudonym of id for the consumer whose key (derived from the pseudonym
 * root) is ckey, and its inverse.  Resolving a pseudonym made for another
 * consumer, or a forged one, fails with VG_ECRYPTO. */
void vg_pseudonym(unsigned char out[VG_PSNBYTES],
    const unsigned char ckey[VG_KEYBYTES], const unsigned char id[VG_IDBYTES]);
VG_MUST_CHECK int vg_pseudonym_resolve(unsigned char id[VG_IDBYTES],
    const unsigned char ckey[VG_KEYBYTES],
    const unsigned char psn[VG_PSNBYTES]);

/*
 * Text forms.  A customer id is "cus_" + 26 lower-case base32 (RFC 4648)
 * characters; a pseudonym "psn_" + 39.  Formatting writes a NUL-terminated
 * string into out (VG_ID_STRLEN / VG_PSN_STRLEN bytes with the NUL).
 * Parsing accepts either case and returns 0 or VG_EINVAL.
 */
#define VG_ID_STRLEN (4 + 26 + 1)
#define VG_PSN_STRLEN (4 + 39 + 1)
void vg_id_format(char out[VG_ID_STRLEN], const unsigned char id[VG_IDBYTES]);
VG_MUST_CHECK int vg_id_parse(unsigned char id[VG_IDBYTES], const char *s);
/* Any 128-bit token with a prefix ("case_", "apr_"): out gets
 * strlen(prefix) + 27 bytes with the NUL. */
void vg_token_format(char *out, const char *prefix,
    const unsigned char id[VG_IDBYTES]);
VG_MUST_CHECK int vg_token_parse(unsigned char id[VG_IDBYTES],
    const char *prefix, const char *s);
void vg_psn_format(char out[VG_PSN_STRLEN],
    const unsigned char psn[VG_PSNBYTES]);
VG_MUST_CHECK int vg_psn_parse(unsigned char psn[VG_PSNBYTES], const char *s);

/* Decodes standard, padded base64 s[0..len) into out (capacity cap);
 * *outlen gets the length.  Only the base64 alphabet is accepted (unlike
 * libsodium 1.0.18's decoder alone).  Returns 0 or VG_EINVAL. */
VG_MUST_CHECK int vg_b64_decode(unsigned char *out, size_t cap,
    const char *s, size_t len, size_t *outlen);

/* Base64 (standard alphabet, padded) of a key, for key files and
 * VIGIL_MASTER_KEY.  Decoding ignores surrounding whitespace. */
VG_MUST_CHECK int vg_b64_decode_key(unsigned char key[VG_KEYBYTES],
    const char *s, size_t len);
void vg_b64_encode_key(char *out, size_t outcap,
    const unsigned char key[VG_KEYBYTES]);

#endif
