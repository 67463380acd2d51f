/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to libvigil and its tools: the non-cryptographic mixers for
 * hash-table placement and deterministic simulation.  Never for a
 * secret, nor for anything whose placement an adversary could steer
 * into collisions that matter (every table using them is bounded).
 */
#ifndef VIGIL_MIX_H
#define VIGIL_MIX_H

#include <stdint.h>

/* splitmix64: advances *x and returns the next output. */
static inline uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The MurmurHash3 finaliser: a bijective 64-bit mixer. */
static inline uint64_t
fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

/* FNV-1a of s: placement in a hash table only, never output. */
static inline uint64_t
str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ull;
	}
	return h;
}

#endif
