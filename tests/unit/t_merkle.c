/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/merkle.c: SHA-256 known answers, the leaf and node
 * hashes around the stack-buffer sizes, the public Certificate
 * Transparency vectors of tests/vectors/merkle/ (see its README for
 * their provenance), and an exhaustive check of every tree of 1 to 70
 * leaves against the recursive definitions of RFC 9162 section 2.1
 * written out below: roots, every inclusion and consistency proof,
 * tampered proofs, the compact range and the subtrees it reports, and
 * the number of node reads.  Trees of up to 2^64 - 1 identical leaves
 * check the size limits and that no operation does O(n) work.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vectors.h"
#include "vigil/merkle.h"

#define HB VG_HASHBYTES
#define MAXN 70			/* the exhaustive tests cover sizes 1..MAXN */
#define NLEVELS 7		/* 2^6 <= MAXN < 2^7 */
/* Proof shapes are computed for sizes below this; a test proof never
 * fits a larger tree. */
#define SHAPE_MAX ((uint64_t)1 << 62)

/*-----------------------------------------------------------------------------
 * Helpers
 */

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

/* Decodes the hex string s into out (cap bytes); returns the length or
 * -1. */
static int
unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t i, n = strlen(s);

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

static void
hash_hex(const char *s, unsigned char out[HB])
{
	if (unhex(s, out, HB) != HB) {
		printf("# bad hash literal %s\n", s);
		memset(out, 0, HB);
	}
}

static unsigned
bitlen(uint64_t x)
{
	unsigned n = 0;

	while (x != 0) {
		x >>= 1;
		n++;
	}
	return n;
}

static unsigned
popcount(uint64_t x)
{
	unsigned n = 0;

	for (; x != 0; x &= x - 1)
		n++;
	return n;
}

/* RFC 9162's k: the largest power of two smaller than n > 1. */
static size_t
split(size_t n)
{
	size_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/*-----------------------------------------------------------------------------
 * The reference: RFC 9162 section 2.1, recursively, over leaf hashes
 */

static void
ref_mth(const unsigned char (*lh)[HB], size_t n, unsigned char out[HB])
{
	unsigned char l[HB], r[HB];
	size_t k;

	if (n == 0) {
		vg_sha256(out, "", 0);
		return;
	}
	if (n == 1) {
		memcpy(out, lh[0], HB);
		return;
	}
	k = split(n);
	ref_mth(lh, k, l);
	ref_mth(lh + k, n - k, r);
	vg_merkle_node_hash(out, l, r);
}

/* PATH(m, D[n]); appends to out at *len, bottom-up as the RFC lists it. */
static void
ref_path(size_t m, const unsigned char (*lh)[HB], size_t n,
    unsigned char (*out)[HB], size_t *len)
{
	size_t k;

	if (n <= 1)
		return;
	k = split(n);
	if (m < k) {
		ref_path(m, lh, k, out, len);
		ref_mth(lh + k, n - k, out[(*len)++]);
	} else {
		ref_path(m - k, lh + k, n - k, out, len);
		ref_mth(lh, k, out[(*len)++]);
	}
}

/* SUBPROOF(m, D[n], b). */
static void
ref_subproof(size_t m, const unsigned char (*lh)[HB], size_t n, int b,
    unsigned char (*out)[HB], size_t *len)
{
	size_t k;

	if (m == n) {
		if (!b)
			ref_mth(lh, n, out[(*len)++]);
		return;
	}
	k = split(n);
	if (m <= k) {
		ref_subproof(m, lh, k, b, out, len);
		ref_mth(lh + k, n - k, out[(*len)++]);
	} else {
		ref_subproof(m - k, lh + k, n - k, 0, out, len);
		ref_mth(lh, k, out[(*len)++]);
	}
}

/*
 * The shape of a proof: which side each hash joins on, bottom-up ('L':
 * the proof hash is the left child, 'R': the right one).  The verifiers
 * compute exactly the same thing for two (index, size) or (size1, size2)
 * pairs of the same shape, so a proof made for one verifies for the
 * other: the root does not commit to the tree size (a signed tree head
 * does).  The tamper tests use the shapes to know when a wrong size must
 * fail.
 */
static void
inc_shape(size_t m, size_t n, char *s, size_t *len)
{
	size_t k;

	if (n <= 1) {
		s[*len] = '\0';
		return;
	}
	k = split(n);
	if (m < k) {
		inc_shape(m, k, s, len);
		s[(*len)++] = 'R';
	} else {
		inc_shape(m - k, n - k, s, len);
		s[(*len)++] = 'L';
	}
	s[*len] = '\0';
}

/* Starts with 'P' when the old root starts the chain (b stayed true),
 * 'F' when the first proof hash does. */
static void
cons_shape(size_t m, size_t n, int b, char *s, size_t *len)
{
	size_t k;

	if (m == n) {
		s[(*len)++] = b ? 'P' : 'F';
		s[*len] = '\0';
		return;
	}
	k = split(n);
	if (m <= k) {
		cons_shape(m, k, b, s, len);
		s[(*len)++] = 'R';
	} else {
		cons_shape(m - k, n - k, 0, s, len);
		s[(*len)++] = 'L';
	}
	s[*len] = '\0';
}

static int
same_inc_shape(uint64_t i1, uint64_t n1, uint64_t i2, uint64_t n2)
{
	char a[80], b[80];
	size_t la = 0, lb = 0;

	if (i1 >= n1 || i2 >= n2)
		return 0;
	inc_shape((size_t)i1, (size_t)n1, a, &la);
	inc_shape((size_t)i2, (size_t)n2, b, &lb);
	return strcmp(a, b) == 0;
}

static int
same_cons_shape(uint64_t m1, uint64_t n1, uint64_t m2, uint64_t n2)
{
	char a[80], b[80];
	size_t la = 0, lb = 0;

	if (!(0 < m1 && m1 < n1) || !(0 < m2 && m2 < n2))
		return 0;
	cons_shape((size_t)m1, (size_t)n1, 1, a, &la);
	cons_shape((size_t)m2, (size_t)n2, 1, b, &lb);
	return strcmp(a, b) == 0;
}

/*-----------------------------------------------------------------------------
 * An in-memory tree of MAXN leaves and its node callback
 */

struct tree {
	uint64_t size;		/* reads must fall in the first size leaves */
	unsigned long reads;
	unsigned long bad;	/* reads of incomplete or unknown subtrees */
	unsigned long fail_at;	/* fail this read (1-based); 0: never */
	size_t nlevels;
	size_t width[NLEVELS];
	unsigned char lv[NLEVELS][MAXN][HB];
};

static int
tree_node(void *ctx, unsigned level, uint64_t index, unsigned char out[HB])
{
	struct tree *t = ctx;

	t->reads++;
	if (t->fail_at != 0 && t->reads == t->fail_at)
		return VG_EIO;
	if (level >= t->nlevels || index >= (t->size >> level) ||
	    index >= t->width[level]) {
		t->bad++;
		return VG_EINVAL;
	}
	memcpy(out, t->lv[level][index], HB);
	return 0;
}

/* Fills every level of t from the leaf hashes in lv[0][0..n). */
static void
tree_build(struct tree *t, size_t n)
{
	size_t l, i;

	t->width[0] = n;
	for (l = 1; l < NLEVELS; l++) {
		t->width[l] = t->width[l - 1] / 2;
		for (i = 0; i < t->width[l]; i++)
			vg_merkle_node_hash(t->lv[l][i], t->lv[l - 1][2 * i],
			    t->lv[l - 1][2 * i + 1]);
	}
	t->nlevels = NLEVELS;
}

static void
tree_at(struct tree *t, uint64_t size)
{
	t->size = size;
	t->reads = 0;
	t->bad = 0;
	t->fail_at = 0;
}

/*
 * A tree of up to 2^64 - 1 identical leaves: every perfect subtree of a
 * level has the same hash, so any size can be served in O(1) memory.
 */
struct uniform {
	uint64_t size;
	unsigned long reads;
	unsigned long bad;
	unsigned char u[64][HB];
};

static int
uniform_node(void *ctx, unsigned level, uint64_t index, unsigned char out[HB])
{
	struct uniform *t = ctx;

	t->reads++;
	if (level >= 64 || index >= (t->size >> level)) {
		t->bad++;
		return VG_EINVAL;
	}
	memcpy(out, t->u[level], HB);
	return 0;
}

/*-----------------------------------------------------------------------------
 * SHA-256 and the two Merkle hashes
 */

static void
test_hashes(void)
{
	static const size_t lens[] = { 0, 1, 31, 55, 56, 63, 64, 65, 1023,
	    1024, 1025, 4096, 100000 };
	unsigned char got[HB], want[HB], l[HB], r[HB], buf[65], *big, *cat;
	size_t i, j;

	vg_sha256(got, "abc", 3);
	hash_hex("ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad", want);
	is_mem(got, want, HB, "SHA-256(\"abc\") (FIPS 180-2 B.1)");

	vg_sha256(got, "", 0);
	hash_hex("e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855", want);
	is_mem(got, want, HB, "SHA-256(\"\")");
	vg_merkle_empty_root(got);
	is_mem(got, want, HB, "empty tree root is SHA-256(\"\")");

	if ((big = malloc(1000000)) == NULL ||
	    (cat = malloc(100000 + 1)) == NULL) {
		ok(0, "malloc");
		free(big);
		return;
	}
	memset(big, 'a', 1000000);
	vg_sha256(got, big, 1000000);
	hash_hex("cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0", want);
	is_mem(got, want, HB, "SHA-256 of one million 'a' (FIPS 180-2 B.3)");

	/* Leaf hash = SHA-256(0x00 || data) on both sides of 1 KiB. */
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (j = 0; j < lens[i]; j++)
			big[j] = (unsigned char)(j * 131 + lens[i]);
		cat[0] = 0x00;
		memcpy(cat + 1, big, lens[i]);
		vg_sha256(want, cat, lens[i] + 1);
		vg_merkle_leaf_hash(got, big, lens[i]);
		is_mem(got, want, HB, "leaf hash of %zu bytes", lens[i]);
	}
	vg_merkle_leaf_hash(got, NULL, 0);
	vg_sha256(want, "\0", 1);
	is_mem(got, want, HB, "leaf hash of (NULL, 0) is SHA-256(00)");

	/* Node hash = SHA-256(0x01 || left || right), and out may alias. */
	vg_sha256(l, "left", 4);
	vg_sha256(r, "right", 5);
	buf[0] = 0x01;
	memcpy(buf + 1, l, HB);
	memcpy(buf + 1 + HB, r, HB);
	vg_sha256(want, buf, sizeof(buf));
	vg_merkle_node_hash(got, l, r);
	is_mem(got, want, HB, "node hash is SHA-256(01 || left || right)");
	memcpy(got, l, HB);
	vg_merkle_node_hash(got, got, r);
	is_mem(got, want, HB, "node hash with out == left");
	memcpy(got, r, HB);
	vg_merkle_node_hash(got, l, got);
	is_mem(got, want, HB, "node hash with out == right");
	free(big);
	free(cat);
}

/*-----------------------------------------------------------------------------
 * Vector files: "keyword field..." lines, '#' comments
 */


/* vec_open() of a file in a subdirectory of tests/vectors. */
static FILE *
vec_open_sub(const char *sub, const char *file)
{
	char rel[PATH_MAX];

	if ((size_t)snprintf(rel, sizeof(rel), "%s/%s", sub, file) >=
	    sizeof(rel))
		return NULL;
	return vec_open(rel);
}


#define VEC_MAXREC 32
#define VEC_MAXTOK 8		/* keyword, two numbers, up to 5 hashes */

struct vline {
	char tok[VEC_MAXTOK][68];
	size_t ntok;
};

/* Reads the records of file into v; returns their number or -1. */
static int
vec_load(const char *file, struct vline *v, size_t max)
{
	char line[1024];
	size_t n = 0, lineno = 0;
	FILE *f = vec_open_sub("merkle", file);

	if (f == NULL) {
		printf("# cannot find tests/vectors/merkle/%s "
		    "(set VIGIL_VECTORS)\n", file);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p = line;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
			continue;
		if (n == max)
			goto bad;
		v[n].ntok = 0;
		for (;;) {
			size_t len;

			p += strspn(p, " \t\r\n");
			if (*p == '\0')
				break;
			len = strcspn(p, " \t\r\n");
			if (v[n].ntok == VEC_MAXTOK ||
			    len >= sizeof(v[n].tok[0]))
				goto bad;
			memcpy(v[n].tok[v[n].ntok], p, len);
			v[n].tok[v[n].ntok++][len] = '\0';
			p += len;
		}
		n++;
	}
	fclose(f);
	return (int)n;
bad:
	printf("# %s:%zu: malformed vector line\n", file, lineno);
	fclose(f);
	return -1;
}

static uint64_t
tok_u64(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s == '\0' || *end != '\0')
		printf("# bad number %s\n", s);
	return (uint64_t)v;
}

/* The published 8-leaf tree, served from nodes.txt. */
static struct tree vt;

static void
test_vectors(void)
{
	struct vline v[VEC_MAXREC];
	unsigned char leaves[8][16], got[HB], want[HB], root1[HB], root2[HB];
	unsigned char proof[VG_MERKLE_MAX_PROOF][HB];
	unsigned char exp[VG_MERKLE_MAX_PROOF][HB];
	unsigned char roots[9][HB];
	int leaflen[8], nv, i, nodes_seen = 0;
	size_t n, j, k;
	struct vg_merkle_range r;

	/* Leaves and their hashes. */
	nv = vec_load("leaves.txt", v, VEC_MAXREC);
	ok(nv == 8, "leaves.txt: 8 leaves");
	if (nv != 8)
		return;
	for (i = 0; i < 8; i++) {
		if (strcmp(v[i].tok[2], "-") == 0)
			leaflen[i] = 0;
		else
			leaflen[i] = unhex(v[i].tok[2], leaves[i], 16);
		if (leaflen[i] < 0 || tok_u64(v[i].tok[1]) != (uint64_t)i)
			ok(0, "leaves.txt line %d", i);
	}

	/* Every perfect subtree hash. */
	memset(&vt, 0, sizeof(vt));
	vt.nlevels = 4;
	nv = vec_load("nodes.txt", v, VEC_MAXREC);
	ok(nv == 15, "nodes.txt: 15 subtrees");
	for (i = 0; i < nv; i++) {
		uint64_t l = tok_u64(v[i].tok[1]), x = tok_u64(v[i].tok[2]);

		if (l >= 4 || x >= (8u >> l)) {
			ok(0, "nodes.txt line %d in range", i);
			continue;
		}
		hash_hex(v[i].tok[3], vt.lv[l][x]);
		vt.width[l] = x + 1 > vt.width[l] ? (size_t)x + 1 : vt.width[l];
		nodes_seen++;
	}
	for (i = 0; i < 8; i++) {
		vg_merkle_leaf_hash(got, leaves[i], (size_t)leaflen[i]);
		is_mem(got, vt.lv[0][i], HB, "vector leaf hash %d", i);
	}
	for (j = 1; j < 4; j++)
		for (k = 0; k < (8u >> j); k++) {
			vg_merkle_node_hash(got, vt.lv[j - 1][2 * k],
			    vt.lv[j - 1][2 * k + 1]);
			is_mem(got, vt.lv[j][k], HB,
			    "vector node hash level %zu index %zu", j, k);
		}

	/* Tree heads 0..8 from the published subtrees and from a range. */
	nv = vec_load("roots.txt", v, VEC_MAXREC);
	ok(nv == 9, "roots.txt: 9 roots");
	if (nv != 9)
		return;
	vg_merkle_range_init(&r);
	for (i = 0; i < 9; i++) {
		uint64_t size = tok_u64(v[i].tok[1]);

		if (size != (uint64_t)i) {
			ok(0, "roots.txt line %d is size %d", i, i);
			return;
		}
		hash_hex(v[i].tok[2], roots[i]);
		tree_at(&vt, size);
		ok(vg_merkle_root(tree_node, &vt, size, got) == 0 &&
		    memcmp(got, roots[i], HB) == 0 && vt.bad == 0,
		    "vector root of size %d from published subtrees", i);
		vg_merkle_range_root(&r, got);
		is_mem(got, roots[i], HB, "vector root of size %d from a range",
		    i);
		if (i < 8)
			(void)vg_merkle_range_append(&r, vt.lv[0][i], NULL,
			    NULL);
	}

	/* Inclusion proofs. */
	nv = vec_load("inclusion.txt", v, VEC_MAXREC);
	ok(nv == 5, "inclusion.txt: 5 proofs");
	for (i = 0; i < nv; i++) {
		uint64_t idx = tok_u64(v[i].tok[1]);
		uint64_t size = tok_u64(v[i].tok[2]);
		size_t ne = v[i].ntok - 3;
		int rc;

		if (v[i].ntok < 3 || idx >= size || size > 8) {
			ok(0, "inclusion.txt line %d in range", i);
			continue;
		}
		for (j = 0; j < ne; j++)
			hash_hex(v[i].tok[3 + j], exp[j]);
		tree_at(&vt, size);
		rc = vg_merkle_inclusion_proof(tree_node, &vt, idx, size,
		    proof, &n);
		ok(rc == 0 && n == ne && memcmp(proof, exp, ne * HB) == 0 &&
		    vt.bad == 0,
		    "vector inclusion proof %llu in %llu generated",
		    (unsigned long long)idx, (unsigned long long)size);
		is_int(vg_merkle_verify_inclusion(vt.lv[0][idx], idx, size,
		    (const unsigned char (*)[HB])exp, ne, roots[size]), 0,
		    "vector inclusion proof %llu in %llu verifies",
		    (unsigned long long)idx, (unsigned long long)size);
		for (j = 0; j < ne; j++) {
			memcpy(proof, exp, ne * HB);
			proof[j][0] ^= 8;
			is_int(vg_merkle_verify_inclusion(vt.lv[0][idx], idx,
			    size, (const unsigned char (*)[HB])proof, ne,
			    roots[size]), VG_ECRYPTO,
			    "vector inclusion proof %llu in %llu, proof[%zu] "
			    "bit 3 flipped", (unsigned long long)idx,
			    (unsigned long long)size, j);
		}
		is_int(vg_merkle_verify_inclusion(vt.lv[0][idx], idx, size,
		    (const unsigned char (*)[HB])exp, ne, roots[0]),
		    VG_ECRYPTO, "vector inclusion proof %llu in %llu against "
		    "the empty root", (unsigned long long)idx,
		    (unsigned long long)size);
	}

	/* Consistency proofs. */
	nv = vec_load("consistency.txt", v, VEC_MAXREC);
	ok(nv == 5, "consistency.txt: 5 proofs");
	for (i = 0; i < nv; i++) {
		uint64_t s1 = tok_u64(v[i].tok[1]), s2 = tok_u64(v[i].tok[2]);
		size_t ne = v[i].ntok - 3;
		int rc;

		if (v[i].ntok < 3 || s1 == 0 || s1 > s2 || s2 > 8) {
			ok(0, "consistency.txt line %d in range", i);
			continue;
		}
		for (j = 0; j < ne; j++)
			hash_hex(v[i].tok[3 + j], exp[j]);
		tree_at(&vt, s2);
		rc = vg_merkle_consistency_proof(tree_node, &vt, s1, s2, proof,
		    &n);
		ok(rc == 0 && n == ne && memcmp(proof, exp, ne * HB) == 0 &&
		    vt.bad == 0, "vector consistency proof %llu -> %llu "
		    "generated", (unsigned long long)s1,
		    (unsigned long long)s2);
		memcpy(root1, roots[s1], HB);
		memcpy(root2, roots[s2], HB);
		is_int(vg_merkle_verify_consistency(s1, s2, root1, root2,
		    (const unsigned char (*)[HB])exp, ne), 0,
		    "vector consistency proof %llu -> %llu verifies",
		    (unsigned long long)s1, (unsigned long long)s2);
		for (j = 0; j < ne; j++) {
			memcpy(proof, exp, ne * HB);
			proof[j][0] ^= 16;
			is_int(vg_merkle_verify_consistency(s1, s2, root1,
			    root2, (const unsigned char (*)[HB])proof, ne),
			    VG_ECRYPTO, "vector consistency proof %llu -> %llu,"
			    " proof[%zu] bit 4 flipped",
			    (unsigned long long)s1, (unsigned long long)s2, j);
		}
		if (s1 != s2)
			is_int(vg_merkle_verify_consistency(s1, s2, root2,
			    root1, (const unsigned char (*)[HB])exp, ne),
			    VG_ECRYPTO, "vector consistency proof %llu -> %llu"
			    ", swapped roots", (unsigned long long)s1,
			    (unsigned long long)s2);
	}
	memcpy(want, roots[0], HB);
	vg_merkle_empty_root(got);
	is_mem(got, want, HB, "vector empty root");
	ok(nodes_seen == 15, "all 15 published subtrees loaded");
}

/*-----------------------------------------------------------------------------
 * Every tree of 1..MAXN leaves
 */

static struct tree t;
static unsigned char lh[MAXN][HB];	/* leaf hashes */

static void
build_leaves(void)
{
	unsigned char data[1500];
	size_t i, j, len;
	int distinct = 1;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < MAXN; i++) {
		/* Lengths 1..200, and one leaf beyond 1 KiB. */
		len = i == 13 ? sizeof(data) : 1 + (i * 37) % 200;
		for (j = 0; j < len; j++)
			data[j] = (unsigned char)(i + 31 * j);
		vg_merkle_leaf_hash(lh[i], data, len);
		memcpy(t.lv[0][i], lh[i], HB);
	}
	for (i = 0; i < MAXN; i++)
		for (j = 0; j < i; j++)
			if (memcmp(lh[i], lh[j], HB) == 0)
				distinct = 0;
	ok(distinct, "the %d test leaves have distinct hashes", MAXN);
	tree_build(&t, MAXN);
}

static void
test_roots(void)
{
	unsigned char got[HB], want[HB];
	size_t n;
	int good = 1, reads = 1;

	for (n = 0; n <= MAXN; n++) {
		ref_mth((const unsigned char (*)[HB])lh, n, want);
		tree_at(&t, n);
		if (vg_merkle_root(tree_node, &t, n, got) != 0 ||
		    memcmp(got, want, HB) != 0 || t.bad != 0) {
			printf("# root of %zu differs from MTH\n", n);
			good = 0;
		}
		if (t.reads != popcount(n)) {
			printf("# root of %zu: %lu reads\n", n, t.reads);
			reads = 0;
		}
	}
	ok(good, "root of every size 0..%d equals the recursive MTH", MAXN);
	ok(reads, "root of size n reads popcount(n) subtrees");
}

/* Verifies (index, size) with one change; returns the result. */
static int
vinc(const unsigned char leaf[HB], uint64_t index, uint64_t size,
    const unsigned char (*proof)[HB], size_t n, const unsigned char root[HB])
{
	return vg_merkle_verify_inclusion(leaf, index, size, proof, n, root);
}

static void
test_inclusion(size_t size)
{
	unsigned char proof[VG_MERKLE_MAX_PROOF][HB];
	unsigned char ref[VG_MERKLE_MAX_PROOF][HB];
	unsigned char bad[VG_MERKLE_MAX_PROOF + 1][HB];
	unsigned char root[HB], leaf[HB], broot[HB];
	const unsigned char (*cp)[HB] = (const unsigned char (*)[HB])proof;
	const unsigned char (*cb)[HB] = (const unsigned char (*)[HB])bad;
	int gen = 1, ver = 1, len = 1, tamper = 1, reads = 1;
	unsigned long maxreads = 0;
	size_t index, n, rn, j;

	ref_mth((const unsigned char (*)[HB])lh, size, root);
	for (index = 0; index < size; index++) {
		unsigned inner;
		uint64_t wrong[6];
		size_t w;
		int rc, want;

		tree_at(&t, size);
		rc = vg_merkle_inclusion_proof(tree_node, &t, index, size,
		    proof, &n);
		rn = 0;
		ref_path(index, (const unsigned char (*)[HB])lh, size, ref,
		    &rn);
		if (rc != 0 || t.bad != 0 || n != rn ||
		    memcmp(proof, ref, n * HB) != 0) {
			printf("# inclusion %zu in %zu: rc %d, %zu hashes, "
			    "want %zu\n", index, size, rc, n, rn);
			gen = 0;
			continue;
		}
		/* The closed form: siblings below the level where index and
		 * size - 1 part, then one left sibling per set bit above. */
		inner = bitlen(index ^ (size - 1));
		if (n != inner + popcount((uint64_t)index >> inner))
			len = 0;
		if (t.reads > maxreads)
			maxreads = t.reads;
		if (t.reads > 2 * bitlen(size))
			reads = 0;
		if (vinc(lh[index], index, size, cp, n, root) != 0) {
			printf("# inclusion %zu in %zu does not verify\n",
			    index, size);
			ver = 0;
		}

		/* Each hash of the proof, the leaf and the root, flipped. */
		for (j = 0; j < n; j++) {
			memcpy(bad, proof, n * HB);
			bad[j][j % HB] ^= 0x01;
			if (vinc(lh[index], index, size, cb, n, root) !=
			    VG_ECRYPTO)
				tamper = 0;
		}
		memcpy(leaf, lh[index], HB);
		leaf[31] ^= 0x80;
		memcpy(broot, root, HB);
		broot[0] ^= 0x40;
		if (vinc(leaf, index, size, cp, n, root) != VG_ECRYPTO ||
		    vinc(lh[index], index, size, cp, n, broot) != VG_ECRYPTO)
			tamper = 0;
		/* A leaf of the same tree at another index. */
		if (size > 1 && vinc(lh[(index + 1) % size], index, size, cp,
		    n, root) != VG_ECRYPTO)
			tamper = 0;
		/* Too short, too long, shifted. */
		if (n > 0 && vinc(lh[index], index, size, cp, n - 1, root) !=
		    VG_ECRYPTO)
			tamper = 0;
		memcpy(bad, proof, n * HB);
		memcpy(bad[n], root, HB);
		if (vinc(lh[index], index, size, cb, n + 1, root) !=
		    VG_ECRYPTO)
			tamper = 0;
		memcpy(bad[0], root, HB);
		memcpy(bad[1], proof, n * HB);
		if (vinc(lh[index], index, size, cb, n + 1, root) !=
		    VG_ECRYPTO)
			tamper = 0;

		/* Wrong indexes: fail unless the proof shape is the same. */
		wrong[0] = index - 1;	/* wraps for 0: out of range */
		wrong[1] = index + 1;
		wrong[2] = index ^ 1;
		wrong[3] = index ^ 2;
		wrong[4] = size;
		wrong[5] = UINT64_MAX;
		for (w = 0; w < 6; w++) {
			rc = vinc(lh[index], wrong[w], size, cp, n, root);
			if (wrong[w] >= size)
				want = VG_EINVAL;
			else
				want = same_inc_shape(index, size, wrong[w],
				    size) ? 0 : VG_ECRYPTO;
			if (wrong[w] != index && rc != want) {
				printf("# inclusion %zu in %zu as index %llu: "
				    "%d, want %d\n", index, size,
				    (unsigned long long)wrong[w], rc, want);
				tamper = 0;
			}
		}
		/* Wrong sizes: the same. */
		wrong[0] = size - 1;
		wrong[1] = size + 1;
		wrong[2] = size * 2;
		wrong[3] = size / 2;
		wrong[4] = size + 2;
		wrong[5] = UINT64_MAX;
		for (w = 0; w < 6; w++) {
			rc = vinc(lh[index], index, wrong[w], cp, n, root);
			if (index >= wrong[w])
				want = VG_EINVAL;
			else
				want = wrong[w] < SHAPE_MAX &&
				    same_inc_shape(index, size, index,
				    wrong[w]) ? 0 : VG_ECRYPTO;
			if (wrong[w] != size && rc != want) {
				printf("# inclusion %zu in %zu as size %llu: "
				    "%d, want %d\n", index, size,
				    (unsigned long long)wrong[w], rc, want);
				tamper = 0;
			}
		}
	}
	ok(gen, "size %zu: every inclusion proof equals RFC 9162 PATH", size);
	ok(ver, "size %zu: every inclusion proof verifies", size);
	ok(len, "size %zu: inclusion proof lengths match the closed form",
	    size);
	ok(tamper, "size %zu: tampered inclusion proofs and wrong indexes "
	    "and sizes fail", size);
	ok(reads, "size %zu: inclusion proofs read at most 2 * bitlen(size) "
	    "subtrees (max %lu)", size, maxreads);
}

static int
vcons(uint64_t s1, uint64_t s2, const unsigned char r1[HB],
    const unsigned char r2[HB], const unsigned char (*proof)[HB], size_t n)
{
	return vg_merkle_verify_consistency(s1, s2, r1, r2, proof, n);
}

static void
test_consistency(size_t size2)
{
	unsigned char proof[VG_MERKLE_MAX_PROOF][HB];
	unsigned char ref[VG_MERKLE_MAX_PROOF][HB];
	unsigned char bad[VG_MERKLE_MAX_PROOF + 1][HB];
	unsigned char root1[HB], root2[HB], broot[HB];
	const unsigned char (*cp)[HB] = (const unsigned char (*)[HB])proof;
	const unsigned char (*cb)[HB] = (const unsigned char (*)[HB])bad;
	int gen = 1, ver = 1, tamper = 1, reads = 1;
	unsigned long maxreads = 0;
	size_t size1, n, rn, j;

	ref_mth((const unsigned char (*)[HB])lh, size2, root2);
	for (size1 = 1; size1 <= size2; size1++) {
		uint64_t w1[5], w2[5];
		size_t w;
		int rc, want;

		ref_mth((const unsigned char (*)[HB])lh, size1, root1);
		tree_at(&t, size2);
		rc = vg_merkle_consistency_proof(tree_node, &t, size1, size2,
		    proof, &n);
		rn = 0;
		ref_subproof(size1, (const unsigned char (*)[HB])lh, size2, 1,
		    ref, &rn);
		if (rc != 0 || t.bad != 0 || n != rn ||
		    memcmp(proof, ref, n * HB) != 0) {
			printf("# consistency %zu -> %zu: rc %d, %zu hashes, "
			    "want %zu\n", size1, size2, rc, n, rn);
			gen = 0;
			continue;
		}
		if (t.reads > maxreads)
			maxreads = t.reads;
		if (t.reads > 2 * bitlen(size2) + 1)
			reads = 0;
		if (vcons(size1, size2, root1, root2, cp, n) != 0) {
			printf("# consistency %zu -> %zu does not verify\n",
			    size1, size2);
			ver = 0;
		}
		if (size1 == size2) {
			/* Only equal roots and an empty proof. */
			memcpy(broot, root2, HB);
			broot[5] ^= 1;
			memcpy(bad[0], root1, HB);
			if (n != 0 ||
			    vcons(size1, size2, root1, broot, cp, 0) !=
			    VG_ECRYPTO ||
			    vcons(size1, size2, root1, root2, cb, 1) !=
			    VG_ECRYPTO)
				tamper = 0;
			continue;
		}

		for (j = 0; j < n; j++) {
			memcpy(bad, proof, n * HB);
			bad[j][(j * 7) % HB] ^= 0x10;
			if (vcons(size1, size2, root1, root2, cb, n) !=
			    VG_ECRYPTO)
				tamper = 0;
		}
		memcpy(broot, root1, HB);
		broot[1] ^= 2;
		if (vcons(size1, size2, broot, root2, cp, n) != VG_ECRYPTO ||
		    vcons(size1, size2, root1, broot, cp, n) != VG_ECRYPTO ||
		    vcons(size1, size2, root2, root1, cp, n) != VG_ECRYPTO ||
		    vcons(size1, size2, root1, root2, cp, 0) != VG_ECRYPTO ||
		    vcons(size1, size2, root1, root2, cp, n - 1) !=
		    VG_ECRYPTO)
			tamper = 0;
		memcpy(bad, proof, n * HB);
		memcpy(bad[n], root1, HB);
		if (vcons(size1, size2, root1, root2, cb, n + 1) != VG_ECRYPTO)
			tamper = 0;
		memcpy(bad[n], root2, HB);
		if (vcons(size1, size2, root1, root2, cb, n + 1) != VG_ECRYPTO)
			tamper = 0;
		memcpy(bad[0], root1, HB);
		memcpy(bad[1], proof, n * HB);
		if (vcons(size1, size2, root1, root2, cb, n + 1) != VG_ECRYPTO)
			tamper = 0;
		memcpy(bad[0], proof[0], HB);
		if (vcons(size1, size2, root1, root2, cb, n + 1) != VG_ECRYPTO)
			tamper = 0;

		/* Wrong sizes: fail unless the proof shape is the same. */
		w1[0] = size1 - 1;
		w2[0] = size2;
		w1[1] = size1 + 1;
		w2[1] = size2;
		w1[2] = size1 ^ 2;
		w2[2] = size2;
		w1[3] = size1;
		w2[3] = size2 * 2;
		w1[4] = size1;
		w2[4] = size2 / 2;
		for (w = 0; w < 5; w++) {
			if (w1[w] == size1 && w2[w] == size2)
				continue;
			rc = vcons(w1[w], w2[w], root1, root2, cp, n);
			if (w1[w] > w2[w])
				want = VG_EINVAL;
			else
				want = w2[w] < SHAPE_MAX &&
				    same_cons_shape(size1, size2, w1[w],
				    w2[w]) ? 0 : VG_ECRYPTO;
			if (rc != want) {
				printf("# consistency %zu -> %zu as %llu -> "
				    "%llu: %d, want %d\n", size1, size2,
				    (unsigned long long)w1[w],
				    (unsigned long long)w2[w], rc, want);
				tamper = 0;
			}
		}
	}
	ok(gen, "size %zu: consistency proofs from every size1 equal RFC 9162 "
	    "PROOF", size2);
	ok(ver, "size %zu: every consistency proof verifies", size2);
	ok(tamper, "size %zu: tampered consistency proofs, wrong roots and "
	    "sizes fail", size2);
	ok(reads, "size %zu: consistency proofs read at most 2 * bitlen + 1 "
	    "subtrees (max %lu)", size2, maxreads);
}

/*
 * Every proof of a tree of up to CROSS leaves against every other
 * (index, size) or (size1, size2) of those trees: a proof verifies
 * exactly where its shape matches (trailing hashes beyond the shape, or
 * a missing one, must fail).
 */
#define CROSS 24

static void
test_cross(void)
{
	unsigned char proof[VG_MERKLE_MAX_PROOF][HB];
	unsigned char roots[CROSS + 1][HB];
	const unsigned char (*cp)[HB] = (const unsigned char (*)[HB])proof;
	unsigned long checks = 0, alias = 0;
	size_t i, s, i2, s2, n;
	int good = 1, rc, want;

	for (s = 0; s <= CROSS; s++)
		ref_mth((const unsigned char (*)[HB])lh, s, roots[s]);
	for (s = 1; s <= CROSS; s++)
		for (i = 0; i < s; i++) {
			tree_at(&t, s);
			if (vg_merkle_inclusion_proof(tree_node, &t, i, s,
			    proof, &n) != 0) {
				good = 0;
				continue;
			}
			for (s2 = 1; s2 <= CROSS; s2++)
				for (i2 = 0; i2 < s2; i2++) {
					if (i2 == i && s2 == s)
						continue;
					want = same_inc_shape(i, s, i2, s2) ?
					    0 : VG_ECRYPTO;
					rc = vinc(lh[i], i2, s2, cp, n,
					    roots[s]);
					checks++;
					alias += rc == 0;
					if (rc != want) {
						printf("# inclusion %zu in %zu "
						    "as %zu in %zu: %d\n", i,
						    s, i2, s2, rc);
						good = 0;
					}
				}
		}
	ok(good, "inclusion proofs verify only where their shape matches "
	    "(%lu checks, %lu matching shapes)", checks, alias);

	checks = alias = 0;
	good = 1;
	for (s = 2; s <= CROSS; s++)
		for (i = 1; i < s; i++) {
			tree_at(&t, s);
			if (vg_merkle_consistency_proof(tree_node, &t, i, s,
			    proof, &n) != 0) {
				good = 0;
				continue;
			}
			for (s2 = 2; s2 <= CROSS; s2++)
				for (i2 = 1; i2 < s2; i2++) {
					if (i2 == i && s2 == s)
						continue;
					want = same_cons_shape(i, s, i2, s2) ?
					    0 : VG_ECRYPTO;
					rc = vcons(i2, s2, roots[i], roots[s],
					    cp, n);
					checks++;
					alias += rc == 0;
					if (rc != want) {
						printf("# consistency %zu -> "
						    "%zu as %zu -> %zu: %d\n",
						    i, s, i2, s2, rc);
						good = 0;
					}
				}
		}
	ok(good, "consistency proofs verify only where their shape matches "
	    "(%lu checks, %lu matching shapes)", checks, alias);
}

/*-----------------------------------------------------------------------------
 * The compact range
 */

struct seen {
	unsigned char mark[NLEVELS][MAXN];
	unsigned long calls;
	int wrong;		/* a report with the wrong hash or twice */
	int fail_level;		/* fail when reporting this level; -1: never */
};

static int
on_done(void *ctx, unsigned level, uint64_t index, const unsigned char h[HB])
{
	struct seen *s = ctx;

	s->calls++;
	if ((int)level == s->fail_level)
		return VG_EIO;
	if (level >= NLEVELS || index >= t.width[level] ||
	    s->mark[level][index] ||
	    memcmp(h, t.lv[level][index], HB) != 0) {
		s->wrong = 1;
		return 0;
	}
	s->mark[level][index] = 1;
	return 0;
}

static void
test_range(void)
{
	struct vg_merkle_range r, copy;
	struct seen s;
	unsigned char got[HB], want[HB];
	size_t size, l, i;
	int roots = 1, exact = 1, rc;

	memset(&s, 0, sizeof(s));
	s.fail_level = -1;
	vg_merkle_range_init(&r);
	vg_merkle_range_root(&r, got);
	vg_merkle_empty_root(want);
	is_mem(got, want, HB, "empty range: empty root");
	for (size = 1; size <= MAXN; size++) {
		if (vg_merkle_range_append(&r, lh[size - 1], on_done, &s) !=
		    0)
			roots = 0;
		vg_merkle_range_root(&r, got);
		ref_mth((const unsigned char (*)[HB])lh, size, want);
		if (r.size != size || memcmp(got, want, HB) != 0) {
			printf("# range root of %zu differs\n", size);
			roots = 0;
		}
		/* Reported so far: exactly the perfect subtrees of size. */
		for (l = 0; l < NLEVELS; l++)
			for (i = 0; i < MAXN; i++)
				if (s.mark[l][i] != (i < (size >> l)))
					exact = 0;
	}
	ok(roots, "range root after every append 1..%d equals MTH", MAXN);
	ok(exact && !s.wrong, "done reports exactly the perfect subtrees, "
	    "once each, with their hashes");
	{
		unsigned long want_calls = 0;

		for (l = 0; l < NLEVELS; l++)
			want_calls += MAXN >> l;
		is_int(s.calls, want_calls, "done called once per perfect "
		    "subtree of %d leaves", MAXN);
	}

	/* A failing done leaves the range unchanged; a retry works. */
	vg_merkle_range_init(&r);
	for (size = 0; size < 7; size++)
		(void)vg_merkle_range_append(&r, lh[size], NULL, NULL);
	memcpy(&copy, &r, sizeof(r));
	memset(&s, 0, sizeof(s));
	s.fail_level = 2;		/* leaf 7 completes levels 0..3 */
	rc = vg_merkle_range_append(&r, lh[7], on_done, &s);
	is_int(rc, VG_EIO, "append returns done's error");
	ok(memcmp(&copy, &r, sizeof(r)) == 0, "failed append leaves the "
	    "range unchanged");
	memset(&s, 0, sizeof(s));
	s.fail_level = -1;
	rc = vg_merkle_range_append(&r, lh[7], on_done, &s);
	is_int(rc, 0, "retried append succeeds");
	is_int(s.calls, 4, "retry reports levels 0..3");
	ok(s.mark[0][7] && s.mark[1][3] && s.mark[2][1] && s.mark[3][0] &&
	    !s.wrong, "retry reports (0,7) (1,3) (2,1) (3,0)");
	vg_merkle_range_root(&r, got);
	ref_mth((const unsigned char (*)[HB])lh, 8, want);
	is_mem(got, want, HB, "range root after the retry");
}

/*-----------------------------------------------------------------------------
 * Arguments, errors and limits
 */

static void
test_errors(void)
{
	unsigned char proof[VG_MERKLE_MAX_PROOF + 1][HB];
	unsigned char root[HB], empty[HB], other[HB];
	const unsigned char (*cp)[HB] = (const unsigned char (*)[HB])proof;
	size_t n = 99;
	unsigned long k, total;
	int rc, all;

	vg_merkle_empty_root(empty);
	ref_mth((const unsigned char (*)[HB])lh, 5, root);
	memcpy(other, root, HB);
	other[0] ^= 1;

	tree_at(&t, 5);
	is_int(vg_merkle_inclusion_proof(tree_node, &t, 5, 5, proof, &n),
	    VG_EINVAL, "inclusion proof: index == size");
	is_int(n, 0, "inclusion proof: *n is 0 on error");
	is_int(vg_merkle_inclusion_proof(tree_node, &t, 0, 0, proof, &n),
	    VG_EINVAL, "inclusion proof: empty tree");
	is_int(vg_merkle_consistency_proof(tree_node, &t, 0, 5, proof, &n),
	    VG_EINVAL, "consistency proof: size1 == 0");
	is_int(vg_merkle_consistency_proof(tree_node, &t, 6, 5, proof, &n),
	    VG_EINVAL, "consistency proof: size1 > size2");
	is_int(vg_merkle_consistency_proof(tree_node, &t, 1,
	    ((uint64_t)1 << 63) + 1, proof, &n), VG_ETOOBIG,
	    "consistency proof: size2 > 2^63");
	ok(t.reads == 0, "argument errors read nothing");

	/* A failing read fails the call, whichever read it is. */
	all = 1;
	tree_at(&t, 70);
	rc = vg_merkle_consistency_proof(tree_node, &t, 37, 70, proof, &n);
	is_int(rc, 0, "consistency proof 37 -> 70");
	total = t.reads;
	for (k = 1; k <= total; k++) {
		tree_at(&t, 70);
		t.fail_at = k;
		if (vg_merkle_consistency_proof(tree_node, &t, 37, 70, proof,
		    &n) != VG_EIO || n != 0)
			all = 0;
		tree_at(&t, 70);
		t.fail_at = k;
		rc = vg_merkle_inclusion_proof(tree_node, &t, 37, 70, proof,
		    &n);
		if (t.reads >= k && (rc != VG_EIO || n != 0))
			all = 0;
		tree_at(&t, 70);
		t.fail_at = k;
		rc = vg_merkle_root(tree_node, &t, 70, root);
		if (t.reads >= k && rc != VG_EIO)
			all = 0;
	}
	ok(all && total > 0, "a node read error is returned (all %lu reads)",
	    total);
	ref_mth((const unsigned char (*)[HB])lh, 5, root);

	/* Verification arguments. */
	is_int(vg_merkle_verify_inclusion(lh[0], 5, 5, cp, 0, root),
	    VG_EINVAL, "verify inclusion: index == size");
	is_int(vg_merkle_verify_inclusion(lh[0], 0, 0, cp, 0, empty),
	    VG_EINVAL, "verify inclusion: empty tree");
	is_int(vg_merkle_verify_inclusion(lh[0], 0, 5, cp,
	    VG_MERKLE_MAX_PROOF + 1, root), VG_EINVAL,
	    "verify inclusion: proof longer than VG_MERKLE_MAX_PROOF");
	is_int(vg_merkle_verify_inclusion(lh[0], 0, 5, NULL, 3, root),
	    VG_EINVAL, "verify inclusion: NULL proof");
	is_int(vg_merkle_verify_inclusion(lh[0], 0, 1, NULL, 0, lh[0]), 0,
	    "verify inclusion: size 1, empty proof, root == leaf");
	is_int(vg_merkle_verify_inclusion(lh[0], 0, 1, NULL, 0, root),
	    VG_ECRYPTO, "verify inclusion: size 1, root != leaf");
	is_int(vg_merkle_verify_inclusion(lh[0], 0, 5, NULL, 0, root),
	    VG_ECRYPTO, "verify inclusion: empty proof in size 5");
	is_int(vg_merkle_verify_consistency(6, 5, root, root, cp, 0),
	    VG_EINVAL, "verify consistency: size1 > size2");
	is_int(vg_merkle_verify_consistency(2, 5, root, root, cp,
	    VG_MERKLE_MAX_PROOF + 1), VG_EINVAL,
	    "verify consistency: proof longer than VG_MERKLE_MAX_PROOF");
	is_int(vg_merkle_verify_consistency(2, 5, root, root, NULL, 2),
	    VG_EINVAL, "verify consistency: NULL proof");
	is_int(vg_merkle_verify_consistency(3, 5, root, root, NULL, 0),
	    VG_ECRYPTO, "verify consistency: 3 -> 5, no proof (step 1)");
	is_int(vg_merkle_verify_consistency(4, 5, root, root, NULL, 0),
	    VG_ECRYPTO, "verify consistency: 4 -> 5, no proof (step 1)");

	/* The cases RFC 9162 leaves out. */
	is_int(vg_merkle_verify_consistency(0, 5, empty, root, NULL, 0), 0,
	    "verify consistency: the empty tree is a prefix of any tree");
	is_int(vg_merkle_verify_consistency(0, 5, other, root, NULL, 0),
	    VG_ECRYPTO, "verify consistency: size 0 needs the empty root");
	memcpy(proof[0], root, HB);
	is_int(vg_merkle_verify_consistency(0, 5, empty, root, cp, 1),
	    VG_ECRYPTO, "verify consistency: size 0 needs an empty proof");
	is_int(vg_merkle_verify_consistency(0, 0, empty, empty, NULL, 0), 0,
	    "verify consistency: 0 -> 0");
	is_int(vg_merkle_verify_consistency(0, 0, empty, other, NULL, 0),
	    VG_ECRYPTO, "verify consistency: 0 -> 0 with another root2");
	is_int(vg_merkle_verify_consistency(5, 5, root, root, NULL, 0), 0,
	    "verify consistency: a tree extends itself");
	is_int(vg_merkle_verify_consistency(5, 5, root, other, NULL, 0),
	    VG_ECRYPTO, "verify consistency: same size, other root");
	is_int(vg_merkle_verify_consistency(5, 5, root, root, cp, 1),
	    VG_ECRYPTO, "verify consistency: same size, non-empty proof");
}

/*-----------------------------------------------------------------------------
 * Huge trees: sizes up to 2^64 - 1, O(log n) reads
 */

static void
test_huge(void)
{
	static const uint64_t sizes[] = {
		((uint64_t)1 << 62) + 12345,
		((uint64_t)1 << 63) - 1,
		(uint64_t)1 << 63,
		UINT64_MAX,
	};
	struct uniform *u;
	struct vg_merkle_range r;
	unsigned char proof[VG_MERKLE_MAX_PROOF][HB];
	unsigned char root[HB], root1[HB], got[HB];
	const unsigned char (*cp)[HB] = (const unsigned char (*)[HB])proof;
	size_t s, q, n;
	unsigned l;
	int rc;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		ok(0, "calloc");
		return;
	}
	vg_merkle_leaf_hash(u->u[0], "same", 4);
	for (l = 1; l < 64; l++)
		vg_merkle_node_hash(u->u[l], u->u[l - 1], u->u[l - 1]);

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t size = sizes[s];
		uint64_t idx[3], old[3];

		u->size = size;
		u->reads = 0;
		rc = vg_merkle_root(uniform_node, u, size, root);
		ok(rc == 0 && u->reads == popcount(size) && u->bad == 0,
		    "root of %llu leaves: %lu reads",
		    (unsigned long long)size, u->reads);

		idx[0] = 0;
		idx[1] = size / 3;
		idx[2] = size - 1;
		for (q = 0; q < 3; q++) {
			u->reads = 0;
			rc = vg_merkle_inclusion_proof(uniform_node, u, idx[q],
			    size, proof, &n);
			ok(rc == 0 && n <= VG_MERKLE_MAX_PROOF &&
			    u->reads <= 2 * 64 && u->bad == 0 &&
			    vg_merkle_verify_inclusion(u->u[0], idx[q], size,
			    cp, n, root) == 0,
			    "inclusion of %llu in %llu: %zu hashes, %lu reads",
			    (unsigned long long)idx[q],
			    (unsigned long long)size, n, u->reads);
		}

		if (size > (uint64_t)1 << 63) {
			u->reads = 0;
			is_int(vg_merkle_consistency_proof(uniform_node, u, 1,
			    size, proof, &n), VG_ETOOBIG,
			    "consistency to %llu leaves is too big",
			    (unsigned long long)size);
			continue;
		}
		old[0] = 1;
		old[1] = size / 3;
		old[2] = size - 1;
		for (q = 0; q < 3; q++) {
			u->size = old[q];
			if (vg_merkle_root(uniform_node, u, old[q], root1) !=
			    0)
				ok(0, "root of %llu leaves",
				    (unsigned long long)old[q]);
			u->size = size;
			u->reads = 0;
			rc = vg_merkle_consistency_proof(uniform_node, u,
			    old[q], size, proof, &n);
			ok(rc == 0 && n <= VG_MERKLE_MAX_PROOF &&
			    u->reads <= 2 * 64 + 1 && u->bad == 0 &&
			    vg_merkle_verify_consistency(old[q], size, root1,
			    root, cp, n) == 0,
			    "consistency %llu -> %llu: %zu hashes, %lu reads",
			    (unsigned long long)old[q],
			    (unsigned long long)size, n, u->reads);
		}
	}

	/* A range one leaf short of 2^64 - 1 takes one more, then no more. */
	memset(&r, 0, sizeof(r));
	r.size = UINT64_MAX - 1;
	for (l = 0; l < 64; l++)
		if ((r.size >> l) & 1)
			memcpy(r.node[l], u->u[l], HB);
	is_int(vg_merkle_range_append(&r, u->u[0], NULL, NULL), 0,
	    "range append up to 2^64 - 1 leaves");
	u->size = UINT64_MAX;
	is_int(vg_merkle_root(uniform_node, u, UINT64_MAX, root), 0,
	    "root of 2^64 - 1 leaves");
	vg_merkle_range_root(&r, got);
	is_mem(got, root, HB, "range root of 2^64 - 1 leaves");
	is_int(vg_merkle_range_append(&r, u->u[0], NULL, NULL), VG_ETOOBIG,
	    "range append beyond 2^64 - 1 leaves");
	ok(r.size == UINT64_MAX, "full range unchanged");
	free(u);
}

int
main(int argc, char **argv)
{
	size_t size;

	(void)argc;
	vec_argv0 = argv[0];
	test_hashes();
	test_vectors();
	build_leaves();
	test_roots();
	for (size = 1; size <= MAXN; size++)
		test_inclusion(size);
	for (size = 1; size <= MAXN; size++)
		test_consistency(size);
	test_cross();
	test_range();
	test_errors();
	test_huge();
	return done_testing();
}
