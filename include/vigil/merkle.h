/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Merkle trees exactly as RFC 9162 (Certificate Transparency v2) section
 * 2.1: SHA-256, leaf hash = SHA-256(0x00 || data), node hash =
 * SHA-256(0x01 || left || right), the tree of n leaves split at the
 * largest power of two smaller than n.  Inclusion and consistency proofs
 * are byte-compatible with CT and with transparency-dev/merkle.
 *
 * Storage stays with the caller: proofs read complete subtree hashes
 * through a callback, so a log may keep every level on disk (O(log n)
 * reads per node) or compute them from leaves.
 */
#ifndef VIGIL_MERKLE_H
#define VIGIL_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/error.h"

#define VG_HASHBYTES 32
#define VG_MERKLE_MAX_PROOF 64	/* hashes in any proof for size < 2^63 */

/* SHA-256 of data (hardware-accelerated where the CPU has it). */
void vg_sha256(unsigned char out[VG_HASHBYTES], const void *data, size_t len);

void vg_merkle_leaf_hash(unsigned char out[VG_HASHBYTES], const void *data,
    size_t len);
/* out may be the same buffer as left or right. */
void vg_merkle_node_hash(unsigned char out[VG_HASHBYTES],
    const unsigned char left[VG_HASHBYTES],
    const unsigned char right[VG_HASHBYTES]);

/* The root of the empty tree: SHA-256 of the empty string. */
void vg_merkle_empty_root(unsigned char out[VG_HASHBYTES]);

/*
 * A compact range: the O(log n) perfect-subtree roots covering leaves
 * [0, size).  Appending a leaf hash updates it in amortised O(1) hashes
 * and reports each perfect subtree the append completed (so a log can
 * store every level); root() gives the tree head of size leaves.
 */
struct vg_merkle_range {
	uint64_t size;
	unsigned char node[64][VG_HASHBYTES];	/* node[k]: subtree of 2^k
						 * leaves, present iff bit k
						 * of size is set */
};

/* Called for each completed perfect subtree: its level (0 = a leaf) and
 * index at that level (covering leaves [index << level, (index + 1) <<
 * level)).  Returns 0 to go on, non-zero to stop with that error. */
typedef int (*vg_merkle_done_fn)(void *ctx, unsigned level, uint64_t index,
    const unsigned char hash[VG_HASHBYTES]);

void vg_merkle_range_init(struct vg_merkle_range *r);
/* Appends one leaf hash.  done may be NULL.  Returns 0 or done's error.
 * On any error the range is unchanged (a retry reports the same subtrees
 * again); a range of 2^64 - 1 leaves is full: VG_ETOOBIG. */
int vg_merkle_range_append(struct vg_merkle_range *r,
    const unsigned char leaf[VG_HASHBYTES], vg_merkle_done_fn done, void *ctx);
/* The root of the size leaves appended so far (empty root for 0). */
void vg_merkle_range_root(const struct vg_merkle_range *r,
    unsigned char out[VG_HASHBYTES]);

/*
 * Reads the hash of the perfect subtree at (level, index), which must be
 * complete within the tree the caller has.  Returns 0 or a VG_E* code.
 */
typedef int (*vg_merkle_node_fn)(void *ctx, unsigned level, uint64_t index,
    unsigned char out[VG_HASHBYTES]);

/* The root of the tree of the first size leaves. */
VG_MUST_CHECK int vg_merkle_root(vg_merkle_node_fn node, void *ctx,
    uint64_t size, unsigned char out[VG_HASHBYTES]);

/* RFC 9162 2.1.3.1: the inclusion proof of leaf index in the tree of
 * size leaves; *n receives the number of hashes (at most
 * VG_MERKLE_MAX_PROOF).  index >= size is VG_EINVAL.  proof must have
 * room for VG_MERKLE_MAX_PROOF hashes.  On error *n is 0 and a node
 * callback's error is returned as is. */
VG_MUST_CHECK int vg_merkle_inclusion_proof(vg_merkle_node_fn node, void *ctx,
    uint64_t index, uint64_t size, unsigned char (*proof)[VG_HASHBYTES],
    size_t *n);

/* RFC 9162 2.1.4.1: the consistency proof from size1 to size2 (0 < size1
 * <= size2; size1 == size2 gives an empty proof).  Otherwise as
 * vg_merkle_inclusion_proof(); size2 > 2^63 is VG_ETOOBIG. */
VG_MUST_CHECK int vg_merkle_consistency_proof(vg_merkle_node_fn node,
    void *ctx, uint64_t size1, uint64_t size2,
    unsigned char (*proof)[VG_HASHBYTES], size_t *n);

/* RFC 9162 2.1.3.2: 0 when leaf (a leaf hash) at index is in the tree of
 * size with root, else VG_ECRYPTO (VG_EINVAL for impossible arguments). */
VG_MUST_CHECK int vg_merkle_verify_inclusion(
    const unsigned char leaf[VG_HASHBYTES], uint64_t index, uint64_t size,
    const unsigned char (*proof)[VG_HASHBYTES], size_t n,
    const unsigned char root[VG_HASHBYTES]);

/* RFC 9162 2.1.4.2: 0 when the tree of size2 with root2 extends the tree
 * of size1 with root1, else VG_ECRYPTO (VG_EINVAL for impossible
 * arguments: size1 > size2, n > VG_MERKLE_MAX_PROOF).  Outside the RFC:
 * size1 == 0 needs root1 == the empty root and an empty proof; size1 ==
 * size2 needs root1 == root2 and an empty proof. */
VG_MUST_CHECK int vg_merkle_verify_consistency(uint64_t size1, uint64_t size2,
    const unsigned char root1[VG_HASHBYTES],
    const unsigned char root2[VG_HASHBYTES],
    const unsigned char (*proof)[VG_HASHBYTES], size_t n);

#endif
