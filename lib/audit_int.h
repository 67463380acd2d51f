/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the audit log shared by audit.c (writer), audit_read.c
 * (reader) and audit_codec.c (formats).  Private to libvigil.
 */
#ifndef VIGIL_AUDIT_INT_H
#define VIGIL_AUDIT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/audit.h"

#define VG_SEG_MAGIC "VIGILAUD"
#define VG_SEG_HEADER_MAX (53 + VG_CHAIN_NAME_MAX)
#define VG_FRAME_HEAD 10		/* "VE" | body_len | mac_epoch */
#define VG_FRAME_TAIL (2 * VG_HASHBYTES)
#define VG_FRAME_MAX (VG_FRAME_HEAD + VG_AUDIT_BODY_MAX + VG_FRAME_TAIL)

void vg__put32(unsigned char *p, uint32_t v);
uint32_t vg__get32(const unsigned char *p);
void vg__put64(unsigned char *p, uint64_t v);
uint64_t vg__get64(const unsigned char *p);

/* chain_i = BLAKE2b-256(chain_{i-1} || leaf_i). */
void vg__audit_chain(unsigned char out[VG_HASHBYTES],
    const unsigned char prev[VG_HASHBYTES],
    const unsigned char leaf[VG_HASHBYTES]);

/* Segment header: "VIGILAUD" | u32 version | u64 first seq | prev chain
 * (32) | u8 name length | chain name.  Returns the header length. */
size_t vg__audit_seg_header(unsigned char *out, uint64_t first_seq,
    const unsigned char prev[VG_HASHBYTES], const char *chain);
int vg__audit_seg_parse(const unsigned char *in, size_t len,
    uint64_t *first_seq, unsigned char prev[VG_HASHBYTES], char *chain,
    size_t *hlen);

/* Valid chain name: [a-z0-9][a-z0-9-]{0,31}. */
int vg__audit_chain_name_ok(const char *s);

/* Lists segment files of a chain dir in order; *names is malloc'd, each
 * name malloc'd.  Returns the count or a negative VG_E* code. */
int vg__audit_list_segments(const char *dir, char ***names);
void vg__audit_free_names(char **names, int n);

/* Reader internals used by the writer's recovery: where a torn tail
 * starts (segment index and offset), or -1. */
struct vg_audit_reader_state {
	uint64_t next_seq;
	unsigned char last_chain[VG_HASHBYTES];
	uint32_t max_epoch;
	int64_t last_time;
	int torn;			/* the last frame is incomplete */
	uint64_t torn_offset;		/* where the torn frame starts */
	uint64_t torn_bytes;		/* bytes after torn_offset */
	char last_segment[64];		/* "" when no segment */
	uint64_t last_segment_size;
};
void vg__audit_reader_state(const struct vg_audit_reader *r,
    struct vg_audit_reader_state *st);

#endif
