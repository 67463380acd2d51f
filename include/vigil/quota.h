/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reveal quotas: per principal, over fixed sliding windows at once
 * (minute, hour, day, week, 30 days), counted in reveals, in distinct
 * customers, in break-glass reveals and in cases handled.  The state is
 * a deterministic fold over the audit log (vg_quota_fold), so vigild
 * rebuilds it at start (vg_quota_rebuild) and a restart never resets a
 * quota.  Thread-safe: principals are spread over locked shards.
 *
 * The audit entries the fold counts:
 *   action "reveal", decision "allow": one reveal of customer
 *       (reason "break_glass" also counts as a break-glass reveal);
 *   action "case.open" or "case.assign", decision "allow", detail
 *       "assignee=ID": one case handled by ID.
 */
#ifndef VIGIL_QUOTA_H
#define VIGIL_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/audit.h"
#include "vigil/crypto.h"
#include "vigil/error.h"

enum vg_qwin {
	VG_QW_MINUTE = 0,
	VG_QW_HOUR,
	VG_QW_DAY,
	VG_QW_WEEK,
	VG_QW_MONTH,		/* 30 days */
	VG_QW_COUNT
};

/* Events kept per principal (the month window's reveals); beyond it the
 * principal's usage reads as saturated, so every quota denies. */
#define VG_QUOTA_EVENTS_MAX 200000

/* Window length in seconds, and name ("minute", ..., "month"); -1 / NULL
 * for an unknown window.  vg_qwin_from_name returns -1 if unknown. */
int64_t vg_qwin_seconds(int w);
const char *vg_qwin_name(int w);
int vg_qwin_from_name(const char *name);

/* A principal's usage at one instant, before the request at hand. */
struct vg_quota_usage {
	uint32_t reveals[VG_QW_COUNT];
	uint32_t customers[VG_QW_COUNT];	/* distinct customers */
	bool seen[VG_QW_COUNT];		/* this customer is among them */
	uint32_t break_glass[VG_QW_COUNT];
	uint32_t cases[VG_QW_COUNT];	/* cases handled (assigned) */
	/* Unix seconds when the oldest counted reveal leaves the window
	 * (0 when none): what Retry-After is computed from. */
	int64_t reveal_expiry[VG_QW_COUNT];
	int64_t break_glass_expiry[VG_QW_COUNT];
	bool saturated;			/* VG_QUOTA_EVENTS_MAX reached */
};

struct vg_quota;

VG_MUST_CHECK int vg_quota_new(struct vg_quota **out);
void vg_quota_free(struct vg_quota *q);

/*
 * Decides and records atomically for one principal: computes its usage
 * at unix time now for customer (VG_IDBYTES, may be NULL), calls
 * decide(ctx, &usage) under the principal's lock, and when decide
 * returns 1 records one reveal (a break-glass one when break_glass).
 * Returns decide's result (0 or 1), or VG_ENOMEM / VG_EINVAL.
 */
VG_MUST_CHECK int vg_quota_decide(struct vg_quota *q, const char *principal,
    const unsigned char *customer, int64_t now, bool break_glass,
    int (*decide)(void *ctx, const struct vg_quota_usage *u), void *ctx);

/* Usage without recording anything. */
VG_MUST_CHECK int vg_quota_usage(struct vg_quota *q, const char *principal,
    const unsigned char *customer, int64_t now, struct vg_quota_usage *out);

/* Records a case handled by principal at unix time now. */
VG_MUST_CHECK int vg_quota_add_case(struct vg_quota *q, const char *principal,
    int64_t now);

/* Folds one audit record into the state (see the top of this file);
 * records the fold does not count are ignored.  Returns 0 or
 * VG_ENOMEM. */
VG_MUST_CHECK int vg_quota_fold(struct vg_quota *q,
    const struct vg_audit_record *r);

/*
 * Rebuilds from the audit chain in chain_dir (vault/audit/<chain>): folds
 * every entry newer than now minus the longest window.  *folded (may be
 * NULL) gets the number of entries folded.  Returns 0, VG_ENOTFOUND (no
 * such chain: nothing to fold), VG_EFORMAT (a broken chain) or VG_ENOMEM.
 */
VG_MUST_CHECK int vg_quota_rebuild(struct vg_quota *q, const char *chain_dir,
    int64_t now, uint64_t *folded);

/* Principals tracked and bytes held, for /metrics. */
void vg_quota_stats(struct vg_quota *q, uint64_t *principals, uint64_t *bytes);

#endif
