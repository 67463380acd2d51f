/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Field sealing, key wrapping, blind indexes, pseudonyms, ids and secret
 * memory, on libsodium.  The formats are described in
 * docs/internals/crypto.md; the public contract in include/vigil/crypto.h.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "vigil/crypto.h"

_Static_assert(VG_KEYBYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
    "key size");
_Static_assert(VG_NONCEBYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
    "nonce size");
_Static_assert(VG_TAGBYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES,
    "tag size");
_Static_assert(VG_PSNBYTES == 8 + VG_IDBYTES, "pseudonym layout");

/* Associated data: magic, id, epoch, field name length and name, then
 * an optional record context of at most VG_SEAL_CTX_MAX bytes. */
#define AD_MAX (4 + VG_IDBYTES + 4 + 1 + VG_FIELDNAME_MAX + VG_SEAL_CTX_MAX)

size_t
vg_seal_overhead(void)
{
	return VG_SEAL_OVERHEAD;
}

size_t
vg_keybytes(void)
{
	return VG_KEYBYTES;
}

/*-----------------------------------------------------------------------------
 * Randomness and secret memory
 */

#define POOL_BYTES 4096

static _Thread_local unsigned char pool[POOL_BYTES];
static _Thread_local size_t pool_left;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* A forked child must not hand out the parent's remaining pool bytes:
 * two processes would then use the same nonces. */
static void
pool_atfork_child(void)
{
	sodium_memzero(pool, sizeof(pool));
	pool_left = 0;
}

static void
pool_register(void)
{
	(void)pthread_atfork(NULL, NULL, pool_atfork_child);
}

int
vg_crypto_init(void)
{
	if (sodium_init() < 0)
		return VG_ECRYPTO;
	(void)pthread_once(&pool_once, pool_register);
	return 0;
}

void
vg_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	if (n > POOL_BYTES / 4) {
		randombytes_buf(buf, n);
		return;
	}
	while (n > 0) {
		size_t take;

		if (pool_left == 0) {
			randombytes_buf(pool, sizeof(pool));
			pool_left = sizeof(pool);
		}
		take = n < pool_left ? n : pool_left;
		memcpy(p, pool + sizeof(pool) - pool_left, take);
		sodium_memzero(pool + sizeof(pool) - pool_left, take);
		pool_left -= take;
		p += take;
		n -= take;
	}
}

unsigned char *
vg_secret_new(size_t n)
{
	return sodium_malloc(n);
}

void
vg_secret_free(unsigned char *p)
{
	if (p != NULL)
		sodium_free(p);
}

void
vg_derive(unsigned char out[VG_KEYBYTES], const unsigned char root[VG_KEYBYTES],
    const char *label)
{
	crypto_generichash(out, VG_KEYBYTES, (const unsigned char *)label,
	    strlen(label), root, VG_KEYBYTES);
}

/*-----------------------------------------------------------------------------
 * Sealing
 */

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Builds the associated data; returns its length or 0 for a bad name. */
static size_t
make_ad(unsigned char ad[AD_MAX], const char magic[4],
    const unsigned char *id, const char *name, uint32_t epoch)
{
	size_t nlen = strlen(name);

	if (nlen == 0 || nlen > VG_FIELDNAME_MAX)
		return 0;
	memcpy(ad, magic, 4);
	if (id != NULL)
		memcpy(ad + 4, id, VG_IDBYTES);
	else
		memset(ad + 4, 0, VG_IDBYTES);
	put_be32(ad + 4 + VG_IDBYTES, epoch);
	ad[4 + VG_IDBYTES + 4] = (unsigned char)nlen;
	memcpy(ad + 4 + VG_IDBYTES + 5, name, nlen);
	return 4 + VG_IDBYTES + 5 + nlen;
}

/* Appends the record context to the associated data; returns the new
 * length, or 0 when the context is too long. */
static size_t
add_ctx(unsigned char ad[AD_MAX], size_t adlen, const unsigned char *ctx,
    size_t ctxlen)
{
	if (adlen == 0 || ctxlen > VG_SEAL_CTX_MAX)
		return 0;
	if (ctxlen > 0)
		memcpy(ad + adlen, ctx, ctxlen);
	return adlen + ctxlen;
}

int
vg_seal_ctx(unsigned char *out, const unsigned char *pt, size_t ptlen,
    const unsigned char key[VG_KEYBYTES], const unsigned char id[VG_IDBYTES],
    const char *field, uint32_t epoch, const unsigned char *ctx,
    size_t ctxlen)
{
	unsigned char ad[AD_MAX];
	size_t adlen;

	adlen = add_ctx(ad, make_ad(ad, "vgf1", id, field, epoch), ctx,
	    ctxlen);
	if (adlen == 0)
		return VG_EINVAL;
	vg_random(out, VG_NONCEBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + VG_NONCEBYTES, NULL,
	    pt, ptlen, ad, adlen, NULL, out, key);
	return 0;
}

int
vg_open_ctx(unsigned char *out, const unsigned char *ct, size_t ctlen,
    const unsigned char key[VG_KEYBYTES], const unsigned char id[VG_IDBYTES],
    const char *field, uint32_t epoch, const unsigned char *ctx,
    size_t ctxlen)
{
	unsigned char ad[AD_MAX];
	size_t adlen;

	if (ctlen < VG_SEAL_OVERHEAD)
		return VG_EINVAL;
	adlen = add_ctx(ad, make_ad(ad, "vgf1", id, field, epoch), ctx,
	    ctxlen);
	if (adlen == 0)
		return VG_EINVAL;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL,
	    ct + VG_NONCEBYTES, ctlen - VG_NONCEBYTES, ad, adlen, ct,
	    key) != 0) {
		sodium_memzero(out, ctlen - VG_SEAL_OVERHEAD);
		return VG_ECRYPTO;
	}
	return 0;
}

int
vg_seal(unsigned char *out, const unsigned char *pt, size_t ptlen,
    const unsigned char key[VG_KEYBYTES], const unsigned char id[VG_IDBYTES],
    const char *field, uint32_t epoch)
{
	return vg_seal_ctx(out, pt, ptlen, key, id, field, epoch, NULL, 0);
}

int
vg_open(unsigned char *out, const unsigned char *ct, size_t ctlen,
    const unsigned char key[VG_KEYBYTES], const unsigned char id[VG_IDBYTES],
    const char *field, uint32_t epoch)
{
	return vg_open_ctx(out, ct, ctlen, key, id, field, epoch, NULL, 0);
}

void
vg_wrap(unsigned char out[VG_WRAPPEDBYTES], const unsigned char key[VG_KEYBYTES],
    const unsigned char kek[VG_KEYBYTES], const char *kind, uint32_t epoch)
{
	unsigned char ad[AD_MAX];
	size_t adlen;

	adlen = make_ad(ad, "vgk1", NULL, kind, epoch);
	randombytes_buf(out, VG_NONCEBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + VG_NONCEBYTES, NULL,
	    key, VG_KEYBYTES, ad, adlen, NULL, out, kek);
}

int
vg_unwrap(unsigned char key[VG_KEYBYTES],
    const unsigned char wrapped[VG_WRAPPEDBYTES],
    const unsigned char kek[VG_KEYBYTES], const char *kind, uint32_t epoch)
{
	unsigned char ad[AD_MAX];
	size_t adlen;

	adlen = make_ad(ad, "vgk1", NULL, kind, epoch);
	if (adlen == 0)
		return VG_EINVAL;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(key, NULL, NULL,
	    wrapped + VG_NONCEBYTES, VG_WRAPPEDBYTES - VG_NONCEBYTES, ad,
	    adlen, wrapped, kek) != 0) {
		sodium_memzero(key, VG_KEYBYTES);
		return VG_ECRYPTO;
	}
	return 0;
}

/*-----------------------------------------------------------------------------
 * Blind indexes and pseudonyms
 */

void
vg_blind_index(unsigned char out[VG_BIDXBYTES],
    const unsigned char fieldkey[VG_KEYBYTES], const char *canon, size_t len)
{
	crypto_generichash(out, VG_BIDXBYTES, (const unsigned char *)canon,
	    len, fieldkey, VG_KEYBYTES);
}

/*
 * A pseudonym is a deterministic authenticated encryption of the id
 * (SIV-style): tag = BLAKE2b-64(mac key, id); body = id XOR
 * XChaCha20(enc key, nonce = tag || 0).  Deterministic, so the same
 * customer always has the same pseudonym for one consumer; keyed per
 * consumer, so two consumers' pseudonyms cannot be linked; the tag lets
 * only the vault resolve it and rejects forgeries.
 */
static void
psn_keys(unsigned char mac[VG_KEYBYTES], unsigned char enc[VG_KEYBYTES],
    const unsigned char ckey[VG_KEYBYTES])
{
	vg_derive(mac, ckey, "psn:mac");
	vg_derive(enc, ckey, "psn:enc");
}

static void
psn_xor(unsigned char *dst, const unsigned char *src,
    const unsigned char tag[8], const unsigned char enc[VG_KEYBYTES])
{
	unsigned char nonce[crypto_stream_xchacha20_NONCEBYTES] = { 0 };
	unsigned char ks[VG_IDBYTES];
	size_t i;

	memcpy(nonce, tag, 8);
	crypto_stream_xchacha20(ks, sizeof(ks), nonce, enc);
	for (i = 0; i < VG_IDBYTES; i++)
		dst[i] = src[i] ^ ks[i];
	sodium_memzero(ks, sizeof(ks));
}

void
vg_pseudonym(unsigned char out[VG_PSNBYTES],
    const unsigned char ckey[VG_KEYBYTES], const unsigned char id[VG_IDBYTES])
{
	unsigned char mac[VG_KEYBYTES], enc[VG_KEYBYTES];

	psn_keys(mac, enc, ckey);
	crypto_generichash(out, 8, id, VG_IDBYTES, mac, sizeof(mac));
	psn_xor(out + 8, id, out, enc);
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(enc, sizeof(enc));
}

int
vg_pseudonym_resolve(unsigned char id[VG_IDBYTES],
    const unsigned char ckey[VG_KEYBYTES], const unsigned char psn[VG_PSNBYTES])
{
	unsigned char mac[VG_KEYBYTES], enc[VG_KEYBYTES], tag[8];
	int rc = 0;

	psn_keys(mac, enc, ckey);
	psn_xor(id, psn + 8, psn, enc);
	crypto_generichash(tag, sizeof(tag), id, VG_IDBYTES, mac, sizeof(mac));
	if (sodium_memcmp(tag, psn, sizeof(tag)) != 0) {
		sodium_memzero(id, VG_IDBYTES);
		rc = VG_ECRYPTO;
	}
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(enc, sizeof(enc));
	return rc;
}

/*-----------------------------------------------------------------------------
 * Text forms: base32 ids and pseudonyms, base64 keys
 */

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static void
b32_encode(char *out, const unsigned char *in, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			*out++ = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		*out++ = b32[(acc << (5 - bits)) & 31];
	*out = '\0';
}

static int
b32_value(int c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Decodes exactly n bytes from s (which must be exactly the right length
 * with zero padding bits), returns 0 or VG_EINVAL. */
static int
b32_decode(unsigned char *out, size_t n, const char *s)
{
	size_t want = (n * 8 + 4) / 5, i, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (strlen(s) != want)
		return VG_EINVAL;
	for (i = 0; i < want; i++) {
		int v = b32_value((unsigned char)s[i]);

		if (v < 0)
			return VG_EINVAL;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			out[o++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		return VG_EINVAL;	/* non-canonical trailing bits */
	return o == n ? 0 : VG_EINVAL;
}

void
vg_id_format(char out[VG_ID_STRLEN], const unsigned char id[VG_IDBYTES])
{
	vg_token_format(out, "cus_", id);
}

int
vg_id_parse(unsigned char id[VG_IDBYTES], const char *s)
{
	return vg_token_parse(id, "cus_", s);
}

void
vg_token_format(char *out, const char *prefix,
    const unsigned char id[VG_IDBYTES])
{
	size_t n = strlen(prefix);

	memcpy(out, prefix, n);
	b32_encode(out + n, id, VG_IDBYTES);
}

int
vg_token_parse(unsigned char id[VG_IDBYTES], const char *prefix,
    const char *s)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0)
		return VG_EINVAL;
	return b32_decode(id, VG_IDBYTES, s + n);
}

void
vg_psn_format(char out[VG_PSN_STRLEN], const unsigned char psn[VG_PSNBYTES])
{
	memcpy(out, "psn_", 4);
	b32_encode(out + 4, psn, VG_PSNBYTES);
}

int
vg_psn_parse(unsigned char psn[VG_PSNBYTES], const char *s)
{
	if (strncmp(s, "psn_", 4) != 0)
		return VG_EINVAL;
	return b32_decode(psn, VG_PSNBYTES, s + 4);
}

int
vg_b64_decode(unsigned char *out, size_t cap, const char *s, size_t len,
    size_t *outlen)
{
	size_t i;

	*outlen = 0;
	/* libsodium 1.0.18's decoder reads each byte as a plain char and
	 * so accepts 0x80..0xff as digits: check the alphabet first. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
			return VG_EINVAL;
	}
	return sodium_base642bin(out, cap, s, len, NULL, outlen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0 ? 0 : VG_EINVAL;
}

int
vg_b64_decode_key(unsigned char key[VG_KEYBYTES], const char *s, size_t len)
{
	size_t bin_len = 0;

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
	    s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	while (len > 0 && (*s == '\n' || *s == '\r' || *s == ' ' ||
	    *s == '\t')) {
		s++;
		len--;
	}
	if (vg_b64_decode(key, VG_KEYBYTES, s, len, &bin_len) != 0 ||
	    bin_len != VG_KEYBYTES) {
		sodium_memzero(key, VG_KEYBYTES);
		return VG_EINVAL;
	}
	return 0;
}

void
vg_b64_encode_key(char *out, size_t outcap, const unsigned char key[VG_KEYBYTES])
{
	sodium_bin2base64(out, outcap, key, VG_KEYBYTES,
	    sodium_base64_VARIANT_ORIGINAL);
}
