/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Province-level divisions of China, the coarse region attribute that
 * vigil keeps in clear for policy (regional queues) and analytics.
 */
#ifndef VIGIL_REGION_H
#define VIGIL_REGION_H

#include <stddef.h>
#include <stdint.h>

struct vg_province {
	const char *code;	/* ISO 3166-2, "CN-GD" */
	const char *name_zh;	/* "广东" */
	const char *name_en;	/* "Guangdong" */
	uint32_t population;	/* 2020 census, thousands */
};

extern const struct vg_province vg_provinces[];
extern const size_t vg_nprovinces;

/* Returns the province whose code, short code ("GD"), Chinese or English
 * name equals s[0..len) (ASCII case-insensitive), or NULL. */
const struct vg_province *vg_province_find(const char *s, size_t len);

#endif
