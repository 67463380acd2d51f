/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reveal quotas: per principal, over fixed sliding windows at once
 * (minute, hour, day, week, 30 days), counted in reveals, in distinct
 * customers, in break-glass reveals and in cases handled.  The state is
 * a deterministic fold over the audit log (vg_quota_fold), so vigild
 * rebuilds it at start (vg_quota_rebuild) and a restart never resets a
 * quota.  Thread-safe: principals are spread over locked shards.  Data
 * structures, cost and memory: docs/internals/quota.md.
 *
 * Time.  Every call takes unix seconds, 0 to 2^40 (VG_EINVAL beyond).
 * An event at t counts in a window of length L from t until t + L
 * (excluded).  Each principal has a clock that only moves forward: a
 * call moves it to now and expires what left each window; a now older
 * than the clock (a thread that read the time before another won the
 * lock) is taken as the clock, so the late event is recorded at the
 * clock's time and nothing already expired is counted again.  Callers
 * pass the current time; asking for usage at a future instant moves
 * the clock there.
 *
 * The audit entries the fold counts:
 *   action "reveal", decision "allow": one reveal of customer
 *       (reason "break_glass" also counts as a break-glass reveal);
 *   action "case.open" or "case.assign", decision "allow", detail
 *       "assignee=ID" (a word separated by spaces or commas, as in
 *       "assignee=alice,channel=phone"): one case handled by ID, unless
 *       ID is the entry's principal (a case one opened or assigned to
 *       oneself does not raise one's own per-case quota).
 *
 * The principal is the record's principal field as written, so the
 * caller must name principals (and assignees) the same way in
 * vg_quota_decide() and in the audit entries.  An event's second is
 * time_ns / 10^9 rounded down; entries with other actions or
 * decisions are ignored.
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

/* Events kept per principal (the month window's reveals, and its cases
 * handled).  Once reached, and until a reveal dropped for it would have
 * left the month window, the principal's usage reads as saturated:
 * saturated is true and reveals, customers and break_glass read
 * UINT32_MAX in every window, so every quota denies. */
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

/* A new, empty state.  Returns 0, VG_ENOMEM or VG_ECRYPTO (libsodium
 * did not initialise: its SipHash keys the hash tables). */
VG_MUST_CHECK int vg_quota_new(struct vg_quota **out);
/* Frees q and everything in it; NULL is a no-op.  No other call on q
 * may run during or after it. */
void vg_quota_free(struct vg_quota *q);

/*
 * Decides and records atomically for one principal: computes its usage
 * at unix time now for customer (VG_IDBYTES, may be NULL), calls
 * decide(ctx, &usage) under the principal's lock, and when decide
 * returns 1 records one reveal (a break-glass one when break_glass).
 * decide may also return 2: one break-glass reveal whatever
 * break_glass says, for a caller that learns only from its decision
 * that the reveal is break-glass (the audit entry's reason then says
 * "break_glass", which is what the fold counts).  Returns decide's
 * result (0, 1 or 2; any other value records nothing and is returned
 * as is), or VG_ENOMEM / VG_EINVAL without calling decide.  Room for
 * the reveal is made before decide runs, so a 1 is always recorded (a
 * 2 needs room for a break-glass reveal unless break_glass was set:
 * VG_ENOMEM, nothing recorded, if there is none).  decide runs under
 * a shard lock: it must be quick
 * and must not call back into q.  principal is 1 to VG_AUDIT_STR_MAX
 * bytes; a new one is tracked from its first call.
 */
VG_MUST_CHECK int vg_quota_decide(struct vg_quota *q, const char *principal,
    const unsigned char *customer, int64_t now, bool break_glass,
    int (*decide)(void *ctx, const struct vg_quota_usage *u), void *ctx);

/* Usage without recording anything (it does move the principal's
 * clock).  An unknown principal has zero usage, and is not tracked. */
VG_MUST_CHECK int vg_quota_usage(struct vg_quota *q, const char *principal,
    const unsigned char *customer, int64_t now, struct vg_quota_usage *out);

/* Records a case handled by principal at unix time now.  Returns 0,
 * VG_EINVAL or VG_ENOMEM. */
VG_MUST_CHECK int vg_quota_add_case(struct vg_quota *q, const char *principal,
    int64_t now);

/* Folds one audit record into the state (see the top of this file);
 * records the fold does not count are ignored.  Returns 0 or
 * VG_ENOMEM (VG_EINVAL for a NULL argument).  Folding a sequence of
 * records gives the same usage as the same reveals and cases made
 * live at the records' seconds. */
VG_MUST_CHECK int vg_quota_fold(struct vg_quota *q,
    const struct vg_audit_record *r);

/*
 * Rebuilds from the audit chain in chain_dir (vault/audit/<chain>): folds
 * every entry newer than now minus the longest window (minus an hour
 * more, for a clock stepped back after a restart), in log order.
 * *folded (may be NULL) gets the number of entries given to the fold
 * (counted or not).  Returns 0, VG_ENOTFOUND (no such chain: nothing to
 * fold), VG_EFORMAT (a broken chain), VG_EIO or VG_ENOMEM; after an
 * error q holds what was folded so far, and the caller should fail
 * closed.  For a vault with several chains use vg_quota_rebuild_all:
 * a chain folded after another has its older entries taken at the
 * first one's clock (per principal), so they would count too long.
 */
VG_MUST_CHECK int vg_quota_rebuild(struct vg_quota *q, const char *chain_dir,
    int64_t now, uint64_t *folded);

/*
 * The same over every chain in audit_dir (vault/audit: each
 * subdirectory with a chain's name), merged as one log in time order
 * (ties: chain name order), so that a principal served by several
 * vigild nodes is folded as it was decided.  At most 1024 chains
 * (VG_ETOOBIG).  Returns what vg_quota_rebuild returns (VG_ENOTFOUND:
 * no audit_dir), for the first chain that fails.
 */
VG_MUST_CHECK int vg_quota_rebuild_all(struct vg_quota *q,
    const char *audit_dir, int64_t now, uint64_t *folded);

/* Principals tracked and bytes held (every allocation of q), for
 * /metrics.  Either pointer may be NULL. */
void vg_quota_stats(struct vg_quota *q, uint64_t *principals, uint64_t *bytes);

#endif
