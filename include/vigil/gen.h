/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The synthetic customer generator.  Deterministic: the same seed gives
 * the same customers, byte for byte, on every machine (integer arithmetic
 * only, its own PRNG).  Customers are shaped like the case vigil starts
 * from: Chinese names in Han characters, pinyin-based e-mail addresses,
 * valid-format mainland mobile numbers, provinces weighted by population,
 * Apple-ID-like account ids and street addresses.  None is a real person.
 */
#ifndef VIGIL_GEN_H
#define VIGIL_GEN_H

#include <stdint.h>
#include <stdio.h>

struct vg_gen_customer {
	char name[64];		/* "王芳" */
	char phone[32];		/* "13800138000", sometimes "+86 138-0013-8000" */
	char email[128];	/* "wangfang88@163.com" */
	char account_id[128];	/* "fang.wang1990@icloud.com" */
	char address[256];	/* "广东省深圳市南山区科技园路18号" */
	char region[8];		/* "CN-GD" */
};

struct vg_gen;

/* Returns a generator for seed, or NULL when out of memory.  A generator
 * holds a 16 MiB filter that keeps e-mails and account ids unique;
 * phones are unique by construction for the first 10^8 customers. */
struct vg_gen *vg_gen_new(uint64_t seed);
/* Frees g.  NULL is a no-op. */
void vg_gen_free(struct vg_gen *g);
/* Fills *c with the next customer. */
void vg_gen_next(struct vg_gen *g, struct vg_gen_customer *c);

/* Writes a CSV header and count customers for seed to fp.
 * Returns 0, VG_ENOMEM or VG_EIO. */
int vg_gen_write_csv(FILE *fp, uint64_t seed, uint64_t count);

#endif
