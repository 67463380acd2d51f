/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Merkle trees as RFC 9162 section 2.1 defines them: the hashes, the
 * compact range that a log appends leaves to, the tree head, and the
 * generation and verification of inclusion and consistency proofs.  The
 * API is include/vigil/merkle.h; docs/internals/merkle.md explains the
 * proof shapes and the node-callback contract.
 *
 * Nothing here recurses or allocates.  A proof never reads a node that
 * is not a complete (perfect) subtree: the one non-perfect subtree a
 * proof may need is composed from the perfect subtrees that cover it, so
 * the root of n leaves costs popcount(n) reads and a proof O(log n).
 */

/*
 * SHA-256 comes from OpenSSL's libcrypto, which uses the SHA extensions
 * of the CPU where it has them.  The one-shot SHA256() of OpenSSL 3.0
 * goes through EVP_Q_digest(): three heap allocations and an algorithm
 * fetch per call, about 4 times slower than the low-level functions for
 * the 33- to 65-byte inputs of a Merkle tree, and it can fail, which the
 * void hash functions of merkle.h could not report.  SHA256_Init(),
 * SHA256_Update() and SHA256_Final() keep their state on the stack and
 * cannot fail; OpenSSL 3.0 deprecates them but still ships them, so this
 * file asks for the 1.1.1 API to get their declarations without the
 * deprecation attribute.
 */
#ifndef OPENSSL_API_COMPAT
#define OPENSSL_API_COMPAT 0x10101000L
#endif

#include <stdint.h>
#include <string.h>

#include <openssl/sha.h>

#include "vigil/merkle.h"

#ifdef OPENSSL_NO_DEPRECATED_3_0
#error "lib/merkle.c needs SHA256_Init(): OpenSSL lacks the 3.0 deprecated API"
#endif

_Static_assert(SHA256_DIGEST_LENGTH == VG_HASHBYTES,
    "VG_HASHBYTES is the SHA-256 digest size");

#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01

/*
 * The largest tree a consistency proof is made for: such a proof holds
 * at most bitlen(size2 - 1) + 1 hashes, which is VG_MERKLE_MAX_PROOF
 * (64) for size2 = 2^63.  Inclusion proofs hold at most bitlen(size - 1)
 * hashes and need no limit.
 */
#define MAX_CONSISTENCY_SIZE ((uint64_t)1 << 63)

/*-----------------------------------------------------------------------------
 * Bit helpers
 */

/* The number of bits needed to write x: 0 for 0, 64 for 2^63 and more. */
static unsigned
bitlen64(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
	return x == 0 ? 0 : 64 - (unsigned)__builtin_clzll(x);
#else
	unsigned n = 0;

	while (x != 0) {
		x >>= 1;
		n++;
	}
	return n;
#endif
}

/* The number of trailing zero bits of x, which is not 0. */
static unsigned
ctz64(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
	return (unsigned)__builtin_ctzll(x);
#else
	unsigned n = 0;

	while ((x & 1) == 0) {
		x >>= 1;
		n++;
	}
	return n;
#endif
}

/*
 * RFC 9162's k for a subtree of n > 1 leaves: the largest power of two
 * smaller than n, given as its exponent.
 */
static unsigned
split_level(uint64_t n)
{
	return bitlen64(n - 1) - 1;
}

/*-----------------------------------------------------------------------------
 * Hashes
 */

void
vg_sha256(unsigned char out[VG_HASHBYTES], const void *data, size_t len)
{
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, data, len);
	SHA256_Final(out, &c);
}

/*
 * SHA-256 of prefix || a || b.  The state is on the stack and data is
 * hashed in place, so no input size needs a copy or an allocation.  out
 * is written last, so it may alias a or b.
 */
static void
hash_prefixed(unsigned char out[VG_HASHBYTES], unsigned char prefix,
    const void *a, size_t alen, const void *b, size_t blen)
{
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, &prefix, 1);
	SHA256_Update(&c, a, alen);
	if (blen != 0)
		SHA256_Update(&c, b, blen);
	SHA256_Final(out, &c);
}

void
vg_merkle_leaf_hash(unsigned char out[VG_HASHBYTES], const void *data,
    size_t len)
{
	hash_prefixed(out, LEAF_PREFIX, data, len, NULL, 0);
}

/* out may alias left or right (the range and the verifiers rely on it). */
void
vg_merkle_node_hash(unsigned char out[VG_HASHBYTES],
    const unsigned char left[VG_HASHBYTES],
    const unsigned char right[VG_HASHBYTES])
{
	hash_prefixed(out, NODE_PREFIX, left, VG_HASHBYTES, right,
	    VG_HASHBYTES);
}

void
vg_merkle_empty_root(unsigned char out[VG_HASHBYTES])
{
	vg_sha256(out, "", 0);
}

/*-----------------------------------------------------------------------------
 * Compact range
 */

void
vg_merkle_range_init(struct vg_merkle_range *r)
{
	memset(r, 0, sizeof(*r));
}

/*
 * Appending leaf number s completes the subtree (0, s) and, for each low
 * set bit k of s, merges node[k] into the subtree (k + 1, s >> (k + 1)).
 * Each one is reported bottom-up.  The range is updated only after every
 * report succeeded, so when done fails the range is unchanged and a retry
 * reports the same subtrees again.
 */
int
vg_merkle_range_append(struct vg_merkle_range *r,
    const unsigned char leaf[VG_HASHBYTES], vg_merkle_done_fn done, void *ctx)
{
	unsigned char h[VG_HASHBYTES];
	uint64_t index = r->size;
	unsigned level = 0;
	int rc;

	if (index == UINT64_MAX)
		return VG_ETOOBIG;
	memcpy(h, leaf, VG_HASHBYTES);
	if (done != NULL && (rc = done(ctx, 0, index, h)) != 0)
		return rc;
	while ((index >> level) & 1) {
		vg_merkle_node_hash(h, r->node[level], h);
		level++;
		if (done != NULL &&
		    (rc = done(ctx, level, index >> level, h)) != 0)
			return rc;
	}
	memcpy(r->node[level], h, VG_HASHBYTES);
	r->size = index + 1;
	return 0;
}

void
vg_merkle_range_root(const struct vg_merkle_range *r,
    unsigned char out[VG_HASHBYTES])
{
	unsigned char h[VG_HASHBYTES];
	unsigned level;

	if (r->size == 0) {
		vg_merkle_empty_root(out);
		return;
	}
	/* Fold the subtrees right to left: the smallest is the rightmost. */
	level = ctz64(r->size);
	memcpy(h, r->node[level], VG_HASHBYTES);
	for (level++; level < 64; level++)
		if ((r->size >> level) & 1)
			vg_merkle_node_hash(h, r->node[level], h);
	memcpy(out, h, VG_HASHBYTES);
}

/*-----------------------------------------------------------------------------
 * Proof generation over the node callback
 */

/*
 * MTH(D[start:start + count]) for count > 0, where start is a multiple
 * of a power of two at least count (true of every subtree RFC 9162's
 * recursion visits).  The leaves are covered by one perfect subtree per
 * set bit of count, largest first, each aligned to its own size; they
 * are read right to left and folded, so this costs popcount(count) reads
 * and one hash fewer.
 */
static int
subtree_hash(vg_merkle_node_fn node, void *ctx, uint64_t start,
    uint64_t count, unsigned char out[VG_HASHBYTES])
{
	unsigned char h[VG_HASHBYTES], left[VG_HASHBYTES];
	unsigned level;
	uint64_t at;
	int rc;

	level = ctz64(count);
	count -= (uint64_t)1 << level;
	at = start + count;
	if ((rc = node(ctx, level, at >> level, h)) != 0)
		return rc;
	while (count != 0) {
		level = ctz64(count);
		count -= (uint64_t)1 << level;
		at = start + count;
		if ((rc = node(ctx, level, at >> level, left)) != 0)
			return rc;
		vg_merkle_node_hash(h, left, h);
	}
	memcpy(out, h, VG_HASHBYTES);
	return 0;
}

/* Reverses the first n hashes of proof (generation works top-down). */
static void
reverse(unsigned char (*proof)[VG_HASHBYTES], size_t n)
{
	unsigned char t[VG_HASHBYTES];
	size_t i;

	for (i = 0; i < n / 2; i++) {
		memcpy(t, proof[i], VG_HASHBYTES);
		memcpy(proof[i], proof[n - 1 - i], VG_HASHBYTES);
		memcpy(proof[n - 1 - i], t, VG_HASHBYTES);
	}
}

int
vg_merkle_root(vg_merkle_node_fn node, void *ctx, uint64_t size,
    unsigned char out[VG_HASHBYTES])
{
	if (size == 0) {
		vg_merkle_empty_root(out);
		return 0;
	}
	return subtree_hash(node, ctx, 0, size, out);
}

/*
 * RFC 9162 2.1.3.1, unrolled: PATH(m, D[n]) descends from the root.
 * Where m is in the left part D[0:k], the proof gains MTH(D[k:n]) (the
 * only subtree that may be non-perfect, and only at the first left turn,
 * since every subtree below it is perfect); where m is in the right part,
 * it gains the perfect MTH(D[0:k]).  Each step at least halves the
 * subtree, so there are at most bitlen(size - 1) <= 64 steps.  The
 * hashes come out root first and are reversed into the RFC's order,
 * leaf sibling first.
 */
int
vg_merkle_inclusion_proof(vg_merkle_node_fn node, void *ctx, uint64_t index,
    uint64_t size, unsigned char (*proof)[VG_HASHBYTES], size_t *n)
{
	uint64_t start = 0, m = index, count = size, k;
	unsigned level;
	size_t len = 0;
	int rc;

	*n = 0;
	if (index >= size)
		return VG_EINVAL;
	while (count > 1) {
		level = split_level(count);
		k = (uint64_t)1 << level;
		if (m < k) {
			rc = subtree_hash(node, ctx, start + k, count - k,
			    proof[len]);
			count = k;
		} else {
			rc = node(ctx, level, start >> level, proof[len]);
			start += k;
			m -= k;
			count -= k;
		}
		if (rc != 0)
			return rc;
		len++;
	}
	reverse(proof, len);
	*n = len;
	return 0;
}

/*
 * RFC 9162 2.1.4.1, unrolled the same way: SUBPROOF(m, D[n], b) gains
 * MTH(D[k:n]) when m <= k and the perfect MTH(D[0:k]) when m > k (which
 * also clears b).  When m reaches the subtree size the recursion ends,
 * adding MTH(D[m]) (perfect: it can only be reached through an m == k
 * step) unless b is still set, i.e. unless the old tree is a perfect
 * left subtree whose root the verifier already has.
 */
int
vg_merkle_consistency_proof(vg_merkle_node_fn node, void *ctx, uint64_t size1,
    uint64_t size2, unsigned char (*proof)[VG_HASHBYTES], size_t *n)
{
	uint64_t start = 0, m = size1, count = size2, k;
	unsigned level;
	size_t len = 0;
	int whole = 1, rc;

	*n = 0;
	if (size1 == 0 || size1 > size2)
		return VG_EINVAL;
	if (size2 > MAX_CONSISTENCY_SIZE)
		return VG_ETOOBIG;
	while (m != count) {
		level = split_level(count);
		k = (uint64_t)1 << level;
		if (m <= k) {
			rc = subtree_hash(node, ctx, start + k, count - k,
			    proof[len]);
			count = k;
		} else {
			rc = node(ctx, level, start >> level, proof[len]);
			start += k;
			m -= k;
			count -= k;
			whole = 0;
		}
		if (rc != 0)
			return rc;
		len++;
	}
	if (!whole) {
		if ((rc = subtree_hash(node, ctx, start, count,
		    proof[len])) != 0)
			return rc;
		len++;
	}
	reverse(proof, len);
	*n = len;
	return 0;
}

/*-----------------------------------------------------------------------------
 * Proof verification: the iterative algorithms of RFC 9162, step by step
 */

static int
hash_equal(const unsigned char a[VG_HASHBYTES],
    const unsigned char b[VG_HASHBYTES])
{
	return memcmp(a, b, VG_HASHBYTES) == 0;
}

/* Right-shifts fn and sn until LSB(fn) is set or fn is 0. */
static void
shift_to_set(uint64_t *fn, uint64_t *sn)
{
	while ((*fn & 1) == 0 && *fn != 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

/* RFC 9162 2.1.3.2. */
int
vg_merkle_verify_inclusion(const unsigned char leaf[VG_HASHBYTES],
    uint64_t index, uint64_t size, const unsigned char (*proof)[VG_HASHBYTES],
    size_t n, const unsigned char root[VG_HASHBYTES])
{
	unsigned char r[VG_HASHBYTES];
	uint64_t fn, sn;
	size_t i;

	/* 1. */
	if (index >= size || n > VG_MERKLE_MAX_PROOF ||
	    (n != 0 && proof == NULL))
		return VG_EINVAL;
	/* 2., 3. */
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, VG_HASHBYTES);
	/* 4. */
	for (i = 0; i < n; i++) {
		if (sn == 0)
			return VG_ECRYPTO;
		if ((fn & 1) != 0 || fn == sn) {
			vg_merkle_node_hash(r, proof[i], r);
			if ((fn & 1) == 0)
				shift_to_set(&fn, &sn);
		} else
			vg_merkle_node_hash(r, r, proof[i]);
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. */
	if (sn != 0 || !hash_equal(r, root))
		return VG_ECRYPTO;
	return 0;
}

/*
 * RFC 9162 2.1.4.2 for 0 < size1 < size2.  The RFC leaves the other
 * cases out; here the empty tree is a prefix of every tree (root1 must be
 * the empty root, the proof empty) and a tree extends itself (equal
 * roots, empty proof).  The prepended first_hash of step 2 is not copied
 * in: it simply becomes the starting value.
 */
int
vg_merkle_verify_consistency(uint64_t size1, uint64_t size2,
    const unsigned char root1[VG_HASHBYTES],
    const unsigned char root2[VG_HASHBYTES],
    const unsigned char (*proof)[VG_HASHBYTES], size_t n)
{
	unsigned char fr[VG_HASHBYTES], sr[VG_HASHBYTES];
	unsigned char empty[VG_HASHBYTES];
	uint64_t fn, sn;
	size_t i;

	if (size1 > size2 || n > VG_MERKLE_MAX_PROOF ||
	    (n != 0 && proof == NULL))
		return VG_EINVAL;
	if (size1 == 0) {
		vg_merkle_empty_root(empty);
		if (n != 0 || !hash_equal(root1, empty) ||
		    (size2 == 0 && !hash_equal(root1, root2)))
			return VG_ECRYPTO;
		return 0;
	}
	if (size1 == size2) {
		if (n != 0 || !hash_equal(root1, root2))
			return VG_ECRYPTO;
		return 0;
	}
	/* 1. */
	if (n == 0)
		return VG_ECRYPTO;
	/* 2., 5.: the path starts with first_hash or with proof[0]. */
	if ((size1 & (size1 - 1)) == 0) {
		memcpy(fr, root1, VG_HASHBYTES);
		i = 0;
	} else {
		memcpy(fr, proof[0], VG_HASHBYTES);
		i = 1;
	}
	memcpy(sr, fr, VG_HASHBYTES);
	/* 3. */
	fn = size1 - 1;
	sn = size2 - 1;
	/* 4. */
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	/* 6. */
	for (; i < n; i++) {
		if (sn == 0)
			return VG_ECRYPTO;
		if ((fn & 1) != 0 || fn == sn) {
			vg_merkle_node_hash(fr, proof[i], fr);
			vg_merkle_node_hash(sr, proof[i], sr);
			if ((fn & 1) == 0)
				shift_to_set(&fn, &sn);
		} else
			vg_merkle_node_hash(sr, sr, proof[i]);
		fn >>= 1;
		sn >>= 1;
	}
	/* 7. */
	if (sn != 0 || !hash_equal(fr, root1) || !hash_equal(sr, root2))
		return VG_ECRYPTO;
	return 0;
}
