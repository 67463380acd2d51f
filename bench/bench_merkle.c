/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_merkle: throughput of the audit log's Merkle tree (lib/merkle.c).
 * It hashes LEAVES leaves of 150 bytes and appends them to a compact
 * range whose done callback stores every completed subtree in memory, as
 * a log would on disk.  Then it times tree heads from the range and from
 * the stored subtrees, inclusion and consistency proofs and their
 * verification, and SHA-256 of a 65-byte node (the size every interior
 * hash has) through lib/merkle.c, OpenSSL's one-shot SHA256() and
 * libsodium, for the choice explained in docs/internals/merkle.md.
 *
 * usage: bench_merkle [LEAVES]   (default 2000000)
 * The headline is the line "merkle: N leaves/s" (leaf hash + append).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>
#include <sodium.h>

#include "vigil/merkle.h"

#define LEAF_BYTES 150
#define LEVELS 64

/* Every completed subtree, level by level: level l holds size >> l. */
struct store {
	unsigned char (*lv[LEVELS])[VG_HASHBYTES];
	uint64_t cap[LEVELS];
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
store_done(void *ctx, unsigned level, uint64_t index,
    const unsigned char hash[VG_HASHBYTES])
{
	struct store *s = ctx;

	if (level >= LEVELS || index >= s->cap[level])
		return VG_EINVAL;
	memcpy(s->lv[level][index], hash, VG_HASHBYTES);
	return 0;
}

static int
store_node(void *ctx, unsigned level, uint64_t index,
    unsigned char out[VG_HASHBYTES])
{
	struct store *s = ctx;

	if (level >= LEVELS || index >= s->cap[level])
		return VG_EINVAL;
	memcpy(out, s->lv[level][index], VG_HASHBYTES);
	return 0;
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "bench_merkle: %s: %s\n", what, vg_strerror(rc));
	exit(2);
}

/* A deterministic pseudo-random sequence (xorshift64*). */
static uint64_t
next_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

int
main(int argc, char **argv)
{
	struct store s;
	struct vg_merkle_range r;
	unsigned char leaf[LEAF_BYTES], h[VG_HASHBYTES], root[VG_HASHBYTES];
	unsigned char root1[VG_HASHBYTES], node[1 + 2 * VG_HASHBYTES];
	unsigned char proof[VG_MERKLE_MAX_PROOF][VG_HASHBYTES];
	const unsigned char (*cp)[VG_HASHBYTES] =
	    (const unsigned char (*)[VG_HASHBYTES])proof;
	uint64_t nleaves = 2000000, i, x = 2026, sink = 0;
	unsigned l;
	size_t n;
	double t0, t1, hash_s, append_s;
	int rc, rounds = 2000;
	long k, reps = 1000000;

	if (argc > 1) {
		char *end;

		nleaves = strtoull(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || nleaves < 2) {
			fprintf(stderr, "usage: bench_merkle [LEAVES]\n");
			return 2;
		}
	}
	if (sodium_init() < 0)
		die("sodium_init", VG_ECRYPTO);
	memset(&s, 0, sizeof(s));
	for (l = 0; l < LEVELS && (nleaves >> l) != 0; l++) {
		s.cap[l] = nleaves >> l;
		if ((s.lv[l] = malloc(s.cap[l] * VG_HASHBYTES)) == NULL)
			die("malloc", VG_ENOMEM);
	}
	for (i = 0; i < LEAF_BYTES; i++)
		leaf[i] = (unsigned char)(i * 7);

	/* Leaf hashes alone. */
	t0 = now_s();
	for (i = 0; i < nleaves; i++) {
		memcpy(leaf, &i, sizeof(i));
		vg_merkle_leaf_hash(h, leaf, sizeof(leaf));
		sink += h[0];
	}
	hash_s = now_s() - t0;

	/* Leaf hash + append, storing every completed subtree. */
	vg_merkle_range_init(&r);
	t0 = now_s();
	for (i = 0; i < nleaves; i++) {
		memcpy(leaf, &i, sizeof(i));
		vg_merkle_leaf_hash(h, leaf, sizeof(leaf));
		if ((rc = vg_merkle_range_append(&r, h, store_done, &s)) != 0)
			die("append", rc);
	}
	append_s = now_s() - t0;

	printf("merkle: %llu leaves of %d bytes\n",
	    (unsigned long long)nleaves, LEAF_BYTES);
	printf("merkle: leaf hash            %7.1f ns/leaf\n",
	    hash_s * 1e9 / (double)nleaves);
	printf("merkle: leaf hash + append   %7.1f ns/leaf (%.2f s, every "
	    "subtree stored)\n", append_s * 1e9 / (double)nleaves, append_s);
	printf("merkle: %.0f leaves/s\n", (double)nleaves / append_s);

	/* Tree heads. */
	t0 = now_s();
	for (k = 0; k < rounds; k++) {
		vg_merkle_range_root(&r, root);
		sink += root[0];
	}
	t1 = now_s();
	printf("merkle: root from the range  %7.2f us\n",
	    (t1 - t0) * 1e6 / rounds);
	t0 = now_s();
	for (k = 0; k < rounds; k++) {
		if ((rc = vg_merkle_root(store_node, &s, nleaves - (uint64_t)k,
		    root1)) != 0)
			die("root", rc);
		sink += root1[0];
	}
	t1 = now_s();
	if ((rc = vg_merkle_root(store_node, &s, nleaves, root1)) != 0)
		die("root", rc);
	if (memcmp(root, root1, VG_HASHBYTES) != 0)
		die("range and stored roots differ", VG_ECRYPTO);
	printf("merkle: root from storage    %7.2f us (popcount(size) "
	    "reads)\n", (t1 - t0) * 1e6 / rounds);

	/* Proofs: generation and verification at random places. */
	t0 = now_s();
	for (k = 0; k < rounds; k++) {
		uint64_t idx = next_rand(&x) % nleaves;

		if ((rc = vg_merkle_inclusion_proof(store_node, &s, idx,
		    nleaves, proof, &n)) != 0)
			die("inclusion proof", rc);
		if ((rc = store_node(&s, 0, idx, h)) != 0 ||
		    (rc = vg_merkle_verify_inclusion(h, idx, nleaves, cp, n,
		    root)) != 0)
			die("verify inclusion", rc);
	}
	t1 = now_s();
	printf("merkle: inclusion proof + verify %7.2f us (%zu hashes)\n",
	    (t1 - t0) * 1e6 / rounds, n);
	t0 = now_s();
	for (k = 0; k < rounds; k++) {
		uint64_t old = 1 + next_rand(&x) % (nleaves - 1);

		if ((rc = vg_merkle_root(store_node, &s, old, root1)) != 0 ||
		    (rc = vg_merkle_consistency_proof(store_node, &s, old,
		    nleaves, proof, &n)) != 0)
			die("consistency proof", rc);
		if ((rc = vg_merkle_verify_consistency(old, nleaves, root1,
		    root, cp, n)) != 0)
			die("verify consistency", rc);
	}
	t1 = now_s();
	printf("merkle: old root + consistency proof + verify %7.2f us\n",
	    (t1 - t0) * 1e6 / rounds);

	/* SHA-256 of a 65-byte node three ways. */
	memset(node, 1, sizeof(node));
	t0 = now_s();
	for (k = 0; k < reps; k++) {
		vg_sha256(h, node, sizeof(node));
		node[1] = h[0];
	}
	t1 = now_s();
	printf("merkle: sha256 65 B, lib/merkle.c (SHA256_Init...) %6.1f ns\n",
	    (t1 - t0) * 1e9 / (double)reps);
	t0 = now_s();
	for (k = 0; k < reps; k++) {
		if (SHA256(node, sizeof(node), h) == NULL)
			die("SHA256", VG_ENOMEM);
		node[1] = h[0];
	}
	t1 = now_s();
	printf("merkle: sha256 65 B, OpenSSL one-shot SHA256()     %6.1f ns\n",
	    (t1 - t0) * 1e9 / (double)reps);
	t0 = now_s();
	for (k = 0; k < reps; k++) {
		crypto_hash_sha256(h, node, sizeof(node));
		node[1] = h[0];
	}
	t1 = now_s();
	printf("merkle: sha256 65 B, libsodium                     %6.1f ns\n",
	    (t1 - t0) * 1e9 / (double)reps);

	for (l = 0; l < LEVELS; l++)
		free(s.lv[l]);
	return sink == 42 ? 1 : 0;
}
