/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/crypto.c: sealing and its associated-data binding,
 * tamper detection at every byte, key wrapping, blind indexes,
 * pseudonyms, the id/pseudonym/key text forms, the random pool across
 * fork(), and known answers from tests/vectors/ (see its README for the
 * provenance of each file).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "tap.h"
#include "vectors.h"
#include "vigil/crypto.h"

/*-----------------------------------------------------------------------------
 * Helpers
 */

static void
fill(unsigned char *p, size_t n, unsigned char start)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(start + i);
}

static int
all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/*-----------------------------------------------------------------------------
 * Vector files: "name = value" lines, records start at "test = <name>",
 * values are hex or a "quoted" string.
 */

#define VEC_RECS 16
#define VEC_KEYS 12
#define VEC_VALMAX 512

struct vkv {
	char name[32];
	unsigned char val[VEC_VALMAX];
	size_t len;
};

struct vrec {
	char test[64];
	size_t n;
	struct vkv kv[VEC_KEYS];
};


/* Opens dir/file; a path that does not fit is simply not found. */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Loads file into recs; returns the record count, or -1 (and says why). */
static int
vec_load(const char *file, struct vrec *recs, size_t max)
{
	char line[4096];
	struct vrec *cur = NULL;
	size_t nrec = 0, lineno = 0;
	FILE *f = vec_open(file);

	if (f == NULL) {
		printf("# cannot find tests/vectors/%s (set VIGIL_VECTORS)\n",
		    file);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = trim(line), *eq, *k, *v;
		struct vkv *kv;
		size_t i, vl;

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL)
			goto bad;
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (strcmp(k, "test") == 0) {
			if (nrec == max)
				goto bad;
			cur = &recs[nrec++];
			memset(cur, 0, sizeof(*cur));
			snprintf(cur->test, sizeof(cur->test), "%s", v);
			continue;
		}
		if (cur == NULL || cur->n == VEC_KEYS ||
		    strlen(k) >= sizeof(kv->name))
			goto bad;
		kv = &cur->kv[cur->n++];
		snprintf(kv->name, sizeof(kv->name), "%s", k);
		vl = strlen(v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			if (vl - 2 > VEC_VALMAX)
				goto bad;
			memcpy(kv->val, v + 1, vl - 2);
			kv->len = vl - 2;
			continue;
		}
		if (vl % 2 != 0 || vl / 2 > VEC_VALMAX)
			goto bad;
		for (i = 0; i < vl / 2; i++) {
			int hi = hexval((unsigned char)v[2 * i]);
			int lo = hexval((unsigned char)v[2 * i + 1]);

			if (hi < 0 || lo < 0)
				goto bad;
			kv->val[i] = (unsigned char)(hi << 4 | lo);
		}
		kv->len = vl / 2;
	}
	fclose(f);
	return (int)nrec;
bad:
	printf("# %s:%zu: malformed vector line\n", file, lineno);
	fclose(f);
	return -1;
}

static const struct vrec *
vec_find(const struct vrec *recs, int n, const char *test)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(recs[i].test, test) == 0)
			return &recs[i];
	return NULL;
}

/* Value of name in r, or NULL; *len gets its length.  A missing value is
 * reported once so that a broken vector file fails loudly. */
static const unsigned char *
vget(const struct vrec *r, const char *name, size_t *len)
{
	size_t i;

	*len = 0;
	if (r == NULL)
		return NULL;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->kv[i].name, name) == 0) {
			*len = r->kv[i].len;
			return r->kv[i].val;
		}
	printf("# vector %s has no '%s'\n", r->test, name);
	return NULL;
}

/* A value as a NUL-terminated string in buf. */
static const char *
vstr(const struct vrec *r, const char *name, char *buf, size_t cap)
{
	size_t len;
	const unsigned char *v = vget(r, name, &len);

	if (v == NULL || len >= cap)
		return "";
	memcpy(buf, v, len);
	buf[len] = '\0';
	return buf;
}

static uint32_t
vbe32(const struct vrec *r, const char *name)
{
	size_t len;
	const unsigned char *v = vget(r, name, &len);

	if (v == NULL || len != 4)
		return UINT32_MAX;
	return (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
	    (uint32_t)v[2] << 8 | v[3];
}

/*-----------------------------------------------------------------------------
 * Sealing
 */

static void
test_seal_roundtrip(void)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 100, 1024 };
	unsigned char key[VG_KEYBYTES], id[VG_IDBYTES];
	unsigned char pt[1024], ct[1024 + VG_SEAL_OVERHEAD], out[1024 + 1];
	unsigned char ct2[1024 + VG_SEAL_OVERHEAD];
	size_t i;

	is_int(vg_seal_overhead(), 40, "seal overhead is nonce + tag");
	is_int(vg_keybytes(), 32, "keys are 32 bytes");
	vg_random(key, sizeof(key));
	vg_random(id, sizeof(id));
	vg_random(pt, sizeof(pt));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i];
		int rc;

		rc = vg_seal(ct, pt, n, key, id, "phone", 1);
		is_int(rc, 0, "seal %zu bytes", n);
		memset(out, 0xee, sizeof(out));
		rc = vg_open(out, ct, n + VG_SEAL_OVERHEAD, key, id, "phone",
		    1);
		is_int(rc, 0, "open %zu bytes", n);
		ok(memcmp(out, pt, n) == 0, "open %zu bytes: plaintext back",
		    n);
		ok(out[n] == 0xee, "open %zu bytes: writes no more than the "
		    "plaintext", n);
	}
	/* Two seals of one value differ (random nonce) and both open. */
	(void)vg_seal(ct, pt, 32, key, id, "email", 9);
	(void)vg_seal(ct2, pt, 32, key, id, "email", 9);
	ok(memcmp(ct, ct2, 32 + VG_SEAL_OVERHEAD) != 0,
	    "sealing the same value twice gives different ciphertexts");
	ok(memcmp(ct, ct2, VG_NONCEBYTES) != 0, "... with different nonces");
	is_int(vg_open(out, ct2, 32 + VG_SEAL_OVERHEAD, key, id, "email", 9),
	    0, "second sealing opens too");
	/* Field names: 1..VG_FIELDNAME_MAX bytes. */
	{
		char name[VG_FIELDNAME_MAX + 2];

		memset(name, 'a', sizeof(name));
		name[VG_FIELDNAME_MAX] = '\0';
		is_int(vg_seal(ct, pt, 4, key, id, name, 1), 0,
		    "32-byte field name accepted");
		is_int(vg_open(out, ct, 4 + VG_SEAL_OVERHEAD, key, id, name, 1),
		    0, "32-byte field name opens");
		name[VG_FIELDNAME_MAX] = 'a';
		name[VG_FIELDNAME_MAX + 1] = '\0';
		is_int(vg_seal(ct, pt, 4, key, id, name, 1), VG_EINVAL,
		    "33-byte field name refused by seal");
		is_int(vg_open(out, ct, 4 + VG_SEAL_OVERHEAD, key, id, name, 1),
		    VG_EINVAL, "33-byte field name refused by open");
		is_int(vg_seal(ct, pt, 4, key, id, "", 1), VG_EINVAL,
		    "empty field name refused");
	}
}

static void
test_seal_tamper(void)
{
	unsigned char key[VG_KEYBYTES], id[VG_IDBYTES], pt[48];
	unsigned char ct[48 + VG_SEAL_OVERHEAD], bad[sizeof(ct)];
	unsigned char out[48];
	const size_t ctlen = sizeof(ct);
	size_t pos;
	int bit;
	int fail_nonce = 0, fail_body = 0, fail_tag = 0, wiped = 1;

	vg_random(key, sizeof(key));
	vg_random(id, sizeof(id));
	memset(pt, 'x', sizeof(pt));
	(void)vg_seal(ct, pt, sizeof(pt), key, id, "name", 3);
	/* Every bit of every byte: nonce, ciphertext body, tag. */
	for (pos = 0; pos < ctlen; pos++) {
		for (bit = 0; bit < 8; bit++) {
			int rc;

			memcpy(bad, ct, ctlen);
			bad[pos] ^= (unsigned char)(1u << bit);
			memset(out, 0xa5, sizeof(out));
			rc = vg_open(out, bad, ctlen, key, id, "name", 3);
			if (rc != VG_ECRYPTO) {
				if (pos < VG_NONCEBYTES)
					fail_nonce++;
				else if (pos < ctlen - VG_TAGBYTES)
					fail_body++;
				else
					fail_tag++;
			}
			if (!all_zero(out, sizeof(out)))
				wiped = 0;
		}
	}
	is_int(fail_nonce, 0,
	    "a flipped bit anywhere in the nonce: VG_ECRYPTO");
	is_int(fail_body, 0, "a flipped bit anywhere in the body: VG_ECRYPTO");
	is_int(fail_tag, 0, "a flipped bit anywhere in the tag: VG_ECRYPTO");
	ok(wiped, "output wiped after every failed open");
	/* Truncated and extended ciphertexts. */
	is_int(vg_open(out, ct, ctlen - 1, key, id, "name", 3), VG_ECRYPTO,
	    "one byte short: VG_ECRYPTO");
	is_int(vg_open(out, ct, VG_SEAL_OVERHEAD, key, id, "name", 3),
	    VG_ECRYPTO, "body cut off: VG_ECRYPTO");
	is_int(vg_open(out, ct, VG_SEAL_OVERHEAD - 1, key, id, "name", 3),
	    VG_EINVAL, "shorter than nonce + tag: VG_EINVAL");
	is_int(vg_open(out, ct, 0, key, id, "name", 3), VG_EINVAL,
	    "empty input: VG_EINVAL");
	is_int(vg_open(out, ct, ctlen, key, id, "name", 3), 0,
	    "the untouched ciphertext still opens");
}

static void
test_seal_binding(void)
{
	unsigned char key[VG_KEYBYTES], key2[VG_KEYBYTES];
	unsigned char id[VG_IDBYTES], id2[VG_IDBYTES];
	unsigned char pa[16], pb[16], ca[16 + VG_SEAL_OVERHEAD];
	unsigned char cb[16 + VG_SEAL_OVERHEAD], out[16];
	const size_t clen = sizeof(ca);

	vg_random(key, sizeof(key));
	vg_random(key2, sizeof(key2));
	vg_random(id, sizeof(id));
	vg_random(id2, sizeof(id2));
	memcpy(pa, "+8613800138000\0\0", 16);
	memcpy(pb, "+8613900139000\0\0", 16);
	(void)vg_seal(ca, pa, 16, key, id, "phone", 5);
	(void)vg_seal(cb, pb, 16, key, id2, "phone", 5);

	is_int(vg_open(out, ca, clen, key, id, "phone", 5), 0,
	    "opens as sealed");
	memset(out, 0xa5, sizeof(out));
	is_int(vg_open(out, ca, clen, key, id2, "phone", 5), VG_ECRYPTO,
	    "another customer's id: VG_ECRYPTO");
	ok(all_zero(out, sizeof(out)), "... output wiped");
	is_int(vg_open(out, ca, clen, key, id, "email", 5), VG_ECRYPTO,
	    "another field name: VG_ECRYPTO");
	is_int(vg_open(out, ca, clen, key, id, "phon", 5), VG_ECRYPTO,
	    "a prefix of the field name: VG_ECRYPTO");
	is_int(vg_open(out, ca, clen, key, id, "phone", 4), VG_ECRYPTO,
	    "previous epoch: VG_ECRYPTO");
	is_int(vg_open(out, ca, clen, key, id, "phone", 5 + 256), VG_ECRYPTO,
	    "epoch differing in a high byte: VG_ECRYPTO");
	is_int(vg_open(out, ca, clen, key2, id, "phone", 5), VG_ECRYPTO,
	    "another key: VG_ECRYPTO");
	/* Two records swap ciphertexts: each fails under the other's id. */
	is_int(vg_open(out, cb, clen, key, id, "phone", 5), VG_ECRYPTO,
	    "record B's ciphertext under record A: VG_ECRYPTO");
	is_int(vg_open(out, ca, clen, key, id2, "phone", 5), VG_ECRYPTO,
	    "record A's ciphertext under record B: VG_ECRYPTO");
	is_int(vg_open(out, cb, clen, key, id2, "phone", 5), 0,
	    "record B opens under its own id");
	ok(memcmp(out, pb, 16) == 0, "... to its own value");
}

/*-----------------------------------------------------------------------------
 * Key wrapping
 */

static void
test_wrap(void)
{
	unsigned char kek[VG_KEYBYTES], kek2[VG_KEYBYTES], key[VG_KEYBYTES];
	unsigned char w[VG_WRAPPEDBYTES], w2[VG_WRAPPEDBYTES];
	unsigned char bad[VG_WRAPPEDBYTES], out[VG_KEYBYTES];
	unsigned char zero_id[VG_IDBYTES] = { 0 };
	size_t pos;
	int failures = 0, wiped = 1;

	is_int(VG_WRAPPEDBYTES, 72, "a wrapped key is 72 bytes");
	vg_random(kek, sizeof(kek));
	vg_random(kek2, sizeof(kek2));
	vg_random(key, sizeof(key));
	vg_wrap(w, key, kek, "data", 2);
	is_int(vg_unwrap(out, w, kek, "data", 2), 0, "unwrap");
	ok(memcmp(out, key, sizeof(key)) == 0, "unwrap gives the key back");
	vg_wrap(w2, key, kek, "data", 2);
	ok(memcmp(w, w2, sizeof(w)) != 0, "wrapping twice differs (nonce)");
	for (pos = 0; pos < sizeof(w); pos++) {
		memcpy(bad, w, sizeof(w));
		bad[pos] ^= 0x80;
		memset(out, 0xa5, sizeof(out));
		if (vg_unwrap(out, bad, kek, "data", 2) != VG_ECRYPTO)
			failures++;
		if (!all_zero(out, sizeof(out)))
			wiped = 0;
	}
	is_int(failures, 0, "a flipped bit in any byte (nonce, body, tag) of a "
	    "wrapped key: VG_ECRYPTO");
	ok(wiped, "key output wiped after every failed unwrap");
	is_int(vg_unwrap(out, w, kek2, "data", 2), VG_ECRYPTO,
	    "wrong kek: VG_ECRYPTO");
	is_int(vg_unwrap(out, w, kek, "index", 2), VG_ECRYPTO,
	    "wrong kind: VG_ECRYPTO");
	is_int(vg_unwrap(out, w, kek, "data", 3), VG_ECRYPTO,
	    "wrong epoch: VG_ECRYPTO");
	is_int(vg_unwrap(out, w, kek, "", 2), VG_EINVAL,
	    "empty kind: VG_EINVAL");
	/* Domain separation: a wrapped key is not a sealed field. */
	is_int(vg_open(out, w, sizeof(w), kek, zero_id, "data", 2), VG_ECRYPTO,
	    "a wrapped key does not open as a field (magic differs)");
	{
		unsigned char ct[VG_KEYBYTES + VG_SEAL_OVERHEAD];

		(void)vg_seal(ct, key, sizeof(key), kek, zero_id, "data", 2);
		is_int(vg_unwrap(out, ct, kek, "data", 2), VG_ECRYPTO,
		    "a sealed field does not unwrap as a key");
	}
}

/*-----------------------------------------------------------------------------
 * Derivation, blind indexes, pseudonyms
 */

static void
test_derive_bidx(void)
{
	unsigned char root[VG_KEYBYTES], root2[VG_KEYBYTES];
	unsigned char a[VG_KEYBYTES], b[VG_KEYBYTES], c[VG_KEYBYTES];
	unsigned char k1[VG_KEYBYTES], k2[VG_KEYBYTES];
	unsigned char d1[VG_BIDXBYTES], d2[VG_BIDXBYTES], d3[VG_BIDXBYTES];

	vg_random(root, sizeof(root));
	vg_random(root2, sizeof(root2));
	vg_derive(a, root, "index:phone");
	vg_derive(b, root, "index:phone");
	vg_derive(c, root, "index:email");
	ok(memcmp(a, b, sizeof(a)) == 0, "derive is deterministic");
	ok(memcmp(a, c, sizeof(a)) != 0, "derive differs per label");
	vg_derive(c, root2, "index:phone");
	ok(memcmp(a, c, sizeof(a)) != 0, "derive differs per root");
	ok(memcmp(a, root, sizeof(a)) != 0, "derived key is not the root");

	vg_random(k1, sizeof(k1));
	vg_random(k2, sizeof(k2));
	vg_blind_index(d1, k1, "+8613800138000", 14);
	vg_blind_index(d2, k1, "+8613800138000", 14);
	ok(memcmp(d1, d2, sizeof(d1)) == 0, "blind index is deterministic");
	vg_blind_index(d2, k2, "+8613800138000", 14);
	ok(memcmp(d1, d2, sizeof(d1)) != 0, "blind index differs per key");
	vg_blind_index(d3, k1, "+8613800138001", 14);
	ok(memcmp(d1, d3, sizeof(d1)) != 0, "blind index differs per value");
	vg_blind_index(d3, k1, "+8613800138000", 13);
	ok(memcmp(d1, d3, sizeof(d1)) != 0,
	    "blind index covers the whole length (prefix differs)");
}

static void
test_pseudonym(void)
{
	unsigned char ck1[VG_KEYBYTES], ck2[VG_KEYBYTES];
	unsigned char id[VG_IDBYTES], id2[VG_IDBYTES], back[VG_IDBYTES];
	unsigned char p1[VG_PSNBYTES], p1b[VG_PSNBYTES], p2[VG_PSNBYTES];
	unsigned char p3[VG_PSNBYTES], bad[VG_PSNBYTES];
	size_t pos;
	int bit, failures = 0, wiped = 1;

	vg_random(ck1, sizeof(ck1));
	vg_random(ck2, sizeof(ck2));
	vg_random(id, sizeof(id));
	vg_random(id2, sizeof(id2));
	vg_pseudonym(p1, ck1, id);
	vg_pseudonym(p1b, ck1, id);
	vg_pseudonym(p2, ck2, id);
	vg_pseudonym(p3, ck1, id2);
	ok(memcmp(p1, p1b, sizeof(p1)) == 0, "pseudonym is stable");
	ok(memcmp(p1, p2, sizeof(p1)) != 0,
	    "pseudonym differs per consumer key");
	ok(memcmp(p1 + 8, id, VG_IDBYTES) != 0,
	    "pseudonym does not contain the id in clear");
	ok(memcmp(p1, p3, sizeof(p1)) != 0, "pseudonym differs per customer");
	is_int(vg_pseudonym_resolve(back, ck1, p1), 0, "pseudonym resolves");
	ok(memcmp(back, id, sizeof(id)) == 0, "... to the customer id");
	memset(back, 0xa5, sizeof(back));
	is_int(vg_pseudonym_resolve(back, ck2, p1), VG_ECRYPTO,
	    "another consumer's key: VG_ECRYPTO");
	ok(all_zero(back, sizeof(back)), "... id output wiped");
	for (pos = 0; pos < VG_PSNBYTES; pos++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, p1, sizeof(p1));
			bad[pos] ^= (unsigned char)(1u << bit);
			memset(back, 0xa5, sizeof(back));
			if (vg_pseudonym_resolve(back, ck1, bad) != VG_ECRYPTO)
				failures++;
			if (!all_zero(back, sizeof(back)))
				wiped = 0;
		}
	}
	is_int(failures, 0, "every single flipped bit of a pseudonym: "
	    "VG_ECRYPTO");
	ok(wiped, "id output wiped after every failed resolve");
}

/*-----------------------------------------------------------------------------
 * Text forms
 */

static void
test_id_text(void)
{
	unsigned char id[VG_IDBYTES], back[VG_IDBYTES];
	unsigned char psn[VG_PSNBYTES], pback[VG_PSNBYTES];
	char s[VG_ID_STRLEN], p[VG_PSN_STRLEN], t[64];
	size_t i;
	int rt_ok = 1;

	/* Round trips over many random ids, including all-zero and all-one. */
	for (i = 0; i < 200; i++) {
		if (i == 0)
			memset(id, 0, sizeof(id));
		else if (i == 1)
			memset(id, 0xff, sizeof(id));
		else
			vg_random(id, sizeof(id));
		vg_id_format(s, id);
		if (strlen(s) != VG_ID_STRLEN - 1 ||
		    strncmp(s, "cus_", 4) != 0 ||
		    strspn(s + 4, "abcdefghijklmnopqrstuvwxyz234567") != 26 ||
		    vg_id_parse(back, s) != 0 ||
		    memcmp(back, id, sizeof(id)) != 0)
			rt_ok = 0;
	}
	ok(rt_ok, "id text: cus_ + 26 lower-case base32, round trips");
	fill(id, sizeof(id), 0x10);
	vg_id_format(s, id);
	is_str(s, "cus_caireeyuculbogazdinryhi6d4", "id text of 10..1f");

	snprintf(t, sizeof(t), "cus_CAIREEYUCULBOGAZDINRYHI6D4");
	memset(back, 0, sizeof(back));
	is_int(vg_id_parse(back, t), 0, "upper-case id accepted");
	ok(memcmp(back, id, sizeof(id)) == 0, "... same id");
	snprintf(t, sizeof(t), "cus_CaIrEeYuCuLbOgAzDiNrYhI6d4");
	is_int(vg_id_parse(back, t), 0, "mixed-case id accepted");

	is_int(vg_id_parse(back, "usr_caireeyuculbogazdinryhi6d4"), VG_EINVAL,
	    "wrong prefix refused");
	is_int(vg_id_parse(back, "psn_caireeyuculbogazdinryhi6d4"), VG_EINVAL,
	    "pseudonym prefix refused for an id");
	is_int(vg_id_parse(back, "caireeyuculbogazdinryhi6d4"), VG_EINVAL,
	    "missing prefix refused");
	is_int(vg_id_parse(back, "cus_caireeyuculbogazdinryhi6d"), VG_EINVAL,
	    "one character short refused");
	is_int(vg_id_parse(back, "cus_caireeyuculbogazdinryhi6d4a"), VG_EINVAL,
	    "one character long refused");
	is_int(vg_id_parse(back, "cus_"), VG_EINVAL, "prefix alone refused");
	is_int(vg_id_parse(back, ""), VG_EINVAL, "empty string refused");
	is_int(vg_id_parse(back, "cus_caireeyuculbogazdinryhi6d0"), VG_EINVAL,
	    "'0' is not base32");
	is_int(vg_id_parse(back, "cus_caireeyuculbogazdinryhi6d8"), VG_EINVAL,
	    "'8' is not base32");
	is_int(vg_id_parse(back, "cus_caireeyuculbogazdinryhi6d="), VG_EINVAL,
	    "padding refused");
	is_int(vg_id_parse(back, "cus_caireeyuculbogazdinryhi6d-"), VG_EINVAL,
	    "punctuation refused");
	is_int(vg_id_parse(back, "cus_caireeyuculb\xc3\xa9gazdinryhi6d"),
	    VG_EINVAL, "non-ASCII refused");
	/* 128 bits in 26 characters leave 2 padding bits that must be 0:
	 * "4" is 11100; "5", "6", "7" set a padding bit. */
	is_int(vg_id_parse(back, "cus_caireeyuculbogazdinryhi6d5"), VG_EINVAL,
	    "non-canonical trailing bits refused (5)");
	is_int(vg_id_parse(back, "cus_caireeyuculbogazdinryhi6d6"), VG_EINVAL,
	    "non-canonical trailing bits refused (6)");
	is_int(vg_id_parse(back, "cus_caireeyuculbogazdinryhi6d7"), VG_EINVAL,
	    "non-canonical trailing bits refused (7)");

	/* Pseudonym text: 192 bits in 39 characters, 3 padding bits. */
	rt_ok = 1;
	for (i = 0; i < 200; i++) {
		vg_random(psn, sizeof(psn));
		if (i == 0)
			memset(psn, 0xff, sizeof(psn));
		vg_psn_format(p, psn);
		if (strlen(p) != VG_PSN_STRLEN - 1 ||
		    strncmp(p, "psn_", 4) != 0 ||
		    vg_psn_parse(pback, p) != 0 ||
		    memcmp(pback, psn, sizeof(psn)) != 0)
			rt_ok = 0;
	}
	ok(rt_ok, "pseudonym text: psn_ + 39 base32, round trips");
	fill(psn, sizeof(psn), 0);
	vg_psn_format(p, psn);
	snprintf(t, sizeof(t), "%s", p);
	for (i = 4; t[i] != '\0'; i++)
		if (t[i] >= 'a' && t[i] <= 'z')
			t[i] = (char)(t[i] - 'a' + 'A');
	is_int(vg_psn_parse(pback, t), 0, "upper-case pseudonym accepted");
	ok(memcmp(pback, psn, sizeof(psn)) == 0, "... same pseudonym");
	t[0] = 'c';
	t[1] = 'u';
	t[2] = 's';
	is_int(vg_psn_parse(pback, t), VG_EINVAL, "id prefix refused for a "
	    "pseudonym");
	snprintf(t, sizeof(t), "%s", p);
	t[strlen(t) - 1] = '\0';
	is_int(vg_psn_parse(pback, t), VG_EINVAL, "short pseudonym refused");
	snprintf(t, sizeof(t), "%sa", p);
	is_int(vg_psn_parse(pback, t), VG_EINVAL, "long pseudonym refused");
	/* The last character carries 2 data bits and 3 padding bits. */
	snprintf(t, sizeof(t), "%s", p);
	{
		size_t last = strlen(t) - 1;
		const char *alpha = "abcdefghijklmnopqrstuvwxyz234567";
		int v = (int)(strchr(alpha, t[last]) - alpha);

		is_int(v & 7, 0, "canonical pseudonym text has zero padding "
		    "bits");
		t[last] = alpha[v | 1];
		is_int(vg_psn_parse(pback, t), VG_EINVAL,
		    "pseudonym with non-canonical trailing bits refused");
	}
}

static void
test_b64_key(void)
{
	unsigned char key[VG_KEYBYTES], back[VG_KEYBYTES];
	unsigned char shortk[31], longk[33];
	char b64[64], t[128];

	vg_random(key, sizeof(key));
	vg_b64_encode_key(b64, sizeof(b64), key);
	is_int(strlen(b64), 44, "base64 key is 44 characters");
	is_int(vg_b64_decode_key(back, b64, strlen(b64)), 0, "decodes");
	ok(memcmp(back, key, sizeof(key)) == 0, "... to the key");

	snprintf(t, sizeof(t), "  \t%s \t\r\n", b64);
	memset(back, 0, sizeof(back));
	is_int(vg_b64_decode_key(back, t, strlen(t)), 0,
	    "surrounding blanks and CRLF ignored");
	ok(memcmp(back, key, sizeof(key)) == 0, "... same key");
	snprintf(t, sizeof(t), "\n%s\n", b64);
	is_int(vg_b64_decode_key(back, t, strlen(t)), 0,
	    "leading newline ignored");
	snprintf(t, sizeof(t), "%s\n\n", b64);
	is_int(vg_b64_decode_key(back, t, strlen(t)), 0,
	    "several trailing newlines ignored");

	/* Length is whatever the caller says, not the NUL. */
	snprintf(t, sizeof(t), "%sJUNK", b64);
	is_int(vg_b64_decode_key(back, t, 44), 0, "len bounds the input");

	vg_random(shortk, sizeof(shortk));
	sodium_bin2base64(t, sizeof(t), shortk, sizeof(shortk),
	    sodium_base64_VARIANT_ORIGINAL);
	memset(back, 0xa5, sizeof(back));
	is_int(vg_b64_decode_key(back, t, strlen(t)), VG_EINVAL,
	    "31-byte key refused");
	ok(all_zero(back, sizeof(back)), "... output wiped");
	vg_random(longk, sizeof(longk));
	sodium_bin2base64(t, sizeof(t), longk, sizeof(longk),
	    sodium_base64_VARIANT_ORIGINAL);
	is_int(vg_b64_decode_key(back, t, strlen(t)), VG_EINVAL,
	    "33-byte key refused");
	snprintf(t, sizeof(t), "%s", b64);
	t[10] = '*';
	is_int(vg_b64_decode_key(back, t, strlen(t)), VG_EINVAL,
	    "invalid character refused");
	snprintf(t, sizeof(t), "%.20s %s", b64, b64 + 20);
	is_int(vg_b64_decode_key(back, t, strlen(t)), VG_EINVAL,
	    "blank inside the key refused");
	is_int(vg_b64_decode_key(back, "", 0), VG_EINVAL, "empty refused");
	is_int(vg_b64_decode_key(back, " \n", 2), VG_EINVAL,
	    "blank refused");
}

/*-----------------------------------------------------------------------------
 * Randomness and secret memory
 */

static void
test_random(void)
{
	unsigned char a[32], b[32], big[4096], parent[16], child[16];
	unsigned char *s;
	int fds[2], status = 0;
	pid_t pid;

	vg_random(a, sizeof(a));
	vg_random(b, sizeof(b));
	ok(memcmp(a, b, sizeof(a)) != 0, "two random draws differ");
	ok(!all_zero(a, sizeof(a)), "random is not all zero");
	memset(big, 0, sizeof(big));
	vg_random(big, sizeof(big));
	ok(!all_zero(big + sizeof(big) - 32, 32),
	    "large draw (bypassing the pool) fills the end");

	/* After fork() the child must not replay the parent's pool. */
	vg_random(a, 1);	/* the pool now holds unused bytes */
	if (pipe(fds) != 0) {
		ok(0, "pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		vg_random(child, sizeof(child));
		if (write(fds[1], child, sizeof(child)) !=
		    (ssize_t)sizeof(child))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	vg_random(parent, sizeof(parent));
	memset(child, 0, sizeof(child));
	ok(pid > 0 && read(fds[0], child, sizeof(child)) ==
	    (ssize_t)sizeof(child), "child reports its random bytes");
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	ok(memcmp(parent, child, sizeof(parent)) != 0,
	    "parent and forked child draw different bytes");

	s = vg_secret_new(64);
	ok(s != NULL, "secret memory allocated");
	if (s != NULL) {
		memset(s, 0x5a, 64);
		vg_secret_free(s);
	}
	vg_secret_free(NULL);
	ok(1, "vg_secret_free(NULL) is a no-op");
}

/*-----------------------------------------------------------------------------
 * Known answers
 */

static void
test_kat_xchacha(void)
{
	struct vrec *recs = calloc(VEC_RECS, sizeof(*recs));
	const struct vrec *r;
	const unsigned char *key, *nonce, *ad, *pt, *ct, *tag;
	size_t kl, nl, al, pl, cl, tl;
	unsigned char out[512], back[512];
	unsigned long long olen = 0, blen = 0;
	int n;

	n = recs != NULL ? vec_load("xchacha20poly1305.exp", recs, VEC_RECS) :
	    -1;
	r = vec_find(recs, n, "aead_xchacha20poly1305_ietf");
	ok(r != NULL, "draft-irtf-cfrg-xchacha-03 A.3.1 vector loaded");
	key = vget(r, "key", &kl);
	nonce = vget(r, "nonce", &nl);
	ad = vget(r, "ad", &al);
	pt = vget(r, "pt", &pl);
	ct = vget(r, "ct", &cl);
	tag = vget(r, "tag", &tl);
	if (r == NULL || key == NULL || nonce == NULL || ad == NULL ||
	    pt == NULL || ct == NULL || tag == NULL || kl != 32 || nl != 24 ||
	    tl != 16 || cl != pl || pl + 16 > sizeof(out)) {
		ok(0, "XChaCha20-Poly1305 vector well-formed");
		free(recs);
		return;
	}
	is_int(pl, 114, "plaintext is the 114-byte sunscreen sentence");
	crypto_aead_xchacha20poly1305_ietf_encrypt(out, &olen, pt, pl, ad, al,
	    NULL, nonce, key);
	is_int(olen, pl + 16, "ciphertext + tag length");
	ok(memcmp(out, ct, cl) == 0, "XChaCha20-Poly1305 ciphertext matches "
	    "draft-irtf-cfrg-xchacha-03 A.3.1");
	ok(memcmp(out + cl, tag, 16) == 0, "XChaCha20-Poly1305 tag matches "
	    "draft-irtf-cfrg-xchacha-03 A.3.1");
	is_int(crypto_aead_xchacha20poly1305_ietf_decrypt(back, &blen, NULL,
	    out, olen, ad, al, nonce, key), 0, "published ciphertext opens");
	ok(blen == pl && memcmp(back, pt, pl) == 0, "... to the plaintext");
	free(recs);
}

static void
test_kat_blake2b(void)
{
	static const char *const names[] = { "blake2b_keyed_0",
	    "blake2b_keyed_1", "blake2b_keyed_2", "blake2b_keyed_3",
	    "blake2b_keyed_16" };
	struct vrec *recs = calloc(VEC_RECS, sizeof(*recs));
	size_t i;
	int n;

	n = recs != NULL ? vec_load("blake2b-keyed.exp", recs, VEC_RECS) : -1;
	is_int(n, 5, "BLAKE2 reference keyed KAT: 5 entries loaded");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct vrec *r = vec_find(recs, n, names[i]);
		const unsigned char *key, *in, *want;
		unsigned char h[64];
		size_t kl, il = 0, wl;

		key = vget(r, "key", &kl);
		want = vget(r, "out", &wl);
		in = NULL;
		if (r != NULL && strcmp(names[i], "blake2b_keyed_0") != 0)
			in = vget(r, "in", &il);
		if (key == NULL || want == NULL || kl != 64 || wl != 64) {
			ok(0, "%s well-formed", names[i]);
			continue;
		}
		crypto_generichash(h, sizeof(h), in, il, key, kl);
		ok(memcmp(h, want, 64) == 0, "keyed BLAKE2b-512 %s (input %zu "
		    "bytes) matches the BLAKE2 reference", names[i], il);
	}
	free(recs);
}

static void
test_kat_vigil(void)
{
	struct vrec *recs = calloc(VEC_RECS, sizeof(*recs));
	const struct vrec *r;
	const unsigned char *key, *id, *pt, *sealed, *kek, *wrapped, *v;
	const unsigned char *want, *ck, *psn;
	unsigned char out[256], k[VG_KEYBYTES], d[VG_KEYBYTES];
	unsigned char bi[VG_BIDXBYTES], p[VG_PSNBYTES], idb[VG_IDBYTES];
	char field[64], buf[128], txt[64];
	size_t kl, il, pl, sl, l, wl;
	uint32_t epoch;
	int n;

	n = recs != NULL ? vec_load("vigil-v1.exp", recs, VEC_RECS) : -1;
	ok(n >= 6, "vigil-v1 regression vectors loaded");

	/* A sealed field: pins make_ad ("vgf1"), the nonce layout, AEAD. */
	r = vec_find(recs, n, "seal");
	key = vget(r, "key", &kl);
	id = vget(r, "id", &il);
	pt = vget(r, "pt", &pl);
	sealed = vget(r, "sealed", &sl);
	vstr(r, "field", field, sizeof(field));
	epoch = vbe32(r, "epoch");
	if (key != NULL && id != NULL && pt != NULL && sealed != NULL &&
	    kl == 32 && il == 16 && sl == pl + VG_SEAL_OVERHEAD &&
	    pl < sizeof(out)) {
		is_int(vg_open(out, sealed, sl, key, id, field, epoch), 0,
		    "vigil-v1 sealed field opens");
		ok(memcmp(out, pt, pl) == 0, "... to the stored plaintext");
		is_int(vg_open(out, sealed, sl, key, id, field, epoch + 1),
		    VG_ECRYPTO, "... and only under its own epoch");
	} else {
		ok(0, "vigil-v1 seal vector well-formed");
	}

	/* A wrapped key: pins the "vgk1" key-wrapping format. */
	r = vec_find(recs, n, "wrap");
	kek = vget(r, "kek", &kl);
	wrapped = vget(r, "wrapped", &wl);
	want = vget(r, "key", &l);
	vstr(r, "kind", field, sizeof(field));
	epoch = vbe32(r, "epoch");
	if (kek != NULL && wrapped != NULL && want != NULL && kl == 32 &&
	    wl == VG_WRAPPEDBYTES && l == 32) {
		is_int(vg_unwrap(k, wrapped, kek, field, epoch), 0,
		    "vigil-v1 wrapped key unwraps");
		ok(memcmp(k, want, 32) == 0, "... to the stored key");
	} else {
		ok(0, "vigil-v1 wrap vector well-formed");
	}

	/* Key derivation. */
	r = vec_find(recs, n, "derive");
	v = vget(r, "root", &kl);
	want = vget(r, "out", &l);
	vstr(r, "label", buf, sizeof(buf));
	if (v != NULL && want != NULL && kl == 32 && l == 32) {
		vg_derive(d, v, buf);
		ok(memcmp(d, want, 32) == 0, "vigil-v1 vg_derive matches");
	} else {
		ok(0, "vigil-v1 derive vector well-formed");
	}

	/* Blind index. */
	r = vec_find(recs, n, "blind_index");
	v = vget(r, "key", &kl);
	want = vget(r, "out", &l);
	vstr(r, "canon", buf, sizeof(buf));
	if (v != NULL && want != NULL && kl == 32 && l == VG_BIDXBYTES) {
		vg_blind_index(bi, v, buf, strlen(buf));
		ok(memcmp(bi, want, l) == 0, "vigil-v1 blind index matches");
	} else {
		ok(0, "vigil-v1 blind_index vector well-formed");
	}

	/* Pseudonym and the text forms. */
	r = vec_find(recs, n, "pseudonym");
	ck = vget(r, "ckey", &kl);
	id = vget(r, "id", &il);
	psn = vget(r, "psn", &l);
	if (ck != NULL && id != NULL && psn != NULL && kl == 32 && il == 16 &&
	    l == VG_PSNBYTES) {
		vg_pseudonym(p, ck, id);
		ok(memcmp(p, psn, l) == 0, "vigil-v1 pseudonym matches");
		is_int(vg_pseudonym_resolve(idb, ck, psn), 0,
		    "vigil-v1 pseudonym resolves");
		ok(memcmp(idb, id, il) == 0, "... to the stored id");
		vg_psn_format(txt, psn);
		is_str(txt, vstr(r, "psn_text", buf, sizeof(buf)),
		    "vigil-v1 pseudonym text");
		vg_id_format(txt, id);
		is_str(txt, vstr(r, "id_text", buf, sizeof(buf)),
		    "vigil-v1 id text");
	} else {
		ok(0, "vigil-v1 pseudonym vector well-formed");
	}

	/* Base64 key text (master.key, VIGIL_MASTER_KEY). */
	r = vec_find(recs, n, "b64_key");
	key = vget(r, "key", &kl);
	vstr(r, "text", buf, sizeof(buf));
	if (key != NULL && kl == 32) {
		vg_b64_encode_key(txt, sizeof(txt), key);
		is_str(txt, buf, "vigil-v1 base64 key text");
		is_int(vg_b64_decode_key(k, buf, strlen(buf)), 0,
		    "vigil-v1 base64 key decodes");
		ok(memcmp(k, key, 32) == 0, "... to the key");
	} else {
		ok(0, "vigil-v1 b64_key vector well-formed");
	}
	free(recs);
}

int
main(int argc, char **argv)
{
	(void)argc;
	vec_argv0 = argv[0];
	if (vg_crypto_init() != 0) {
		ok(0, "vg_crypto_init");
		return done_testing();
	}
	ok(1, "vg_crypto_init");
	test_seal_roundtrip();
	test_seal_tamper();
	test_seal_binding();
	test_wrap();
	test_derive_bidx();
	test_pseudonym();
	test_id_text();
	test_b64_key();
	test_random();
	test_kat_xchacha();
	test_kat_blake2b();
	test_kat_vigil();
	return done_testing();
}
