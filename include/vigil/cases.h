/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Support cases and step-up approvals: the purposes that justify a
 * reveal.
 *
 * A case names one customer and one assignee, arrives through a channel
 * (phone, chat, email, store), is open or closed, and may expire.  A
 * case an agent opened for themselves (outbound work, where the policy
 * allows it) is marked self-opened for ever, so policy and detector can
 * treat it with suspicion.
 *
 * An approval is a step-up request: a reveal the policy would allow only
 * once a supervisor agrees.  It is made pending by the denial that asked
 * for it, decided once (approved or rejected) by a supervisor, and used
 * at most once, by the same principal, for the same customer, purpose,
 * case and fields (or a subset of them).
 *
 * Ids are "case_" / "apr_" + 26 lower-case base32 characters (128 random
 * bits), so they cannot be guessed or enumerated.
 */
#ifndef VIGIL_CASES_H
#define VIGIL_CASES_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/crypto.h"
#include "vigil/error.h"
#include "vigil/principal.h"

struct vg_vault;
struct vg_case_facts;

#define VG_CASE_STRLEN (5 + 26 + 1)	/* "case_..." and its NUL */
#define VG_APR_STRLEN (4 + 26 + 1)	/* "apr_..." and its NUL */
#define VG_PURPOSE_MAX 32		/* [a-z][a-z0-9_]{0,31} */

struct vg_case {
	char id[VG_CASE_STRLEN];
	unsigned char customer[VG_IDBYTES];
	char assignee[VG_PRINCIPAL_ID_MAX + 1];
	char opened_by[VG_PRINCIPAL_ID_MAX + 1];
	char channel[8];		/* phone, chat, email, store */
	char state[8];			/* open, closed */
	bool self_opened;
	int64_t created;		/* unix seconds */
	int64_t expires;		/* 0: never */
	int64_t closed;			/* 0: not closed */
};

struct vg_approval {
	char id[VG_APR_STRLEN];
	char principal[VG_PRINCIPAL_ID_MAX + 1];	/* who asked */
	unsigned char customer[VG_IDBYTES];
	uint32_t fields;			/* schema field bit mask */
	char purpose[VG_PURPOSE_MAX + 1];
	char case_id[VG_CASE_STRLEN];		/* "" when none */
	char why[24];				/* off_shift, field_not_allowed,
						 * contained, case_self_opened */
	char state[12];		/* pending, approved, rejected, used */
	char decided_by[VG_PRINCIPAL_ID_MAX + 1];
	int64_t created;
	int64_t expires;	/* pending or approved until then */
	int64_t decided;	/* 0: not yet */
};

bool vg_channel_ok(const char *s);
bool vg_purpose_ok(const char *s);

/* Opens a case.  ttl seconds (0: never expires).  Returns 0, VG_EINVAL
 * with *why (static), or a storage error. */
VG_MUST_CHECK int vg_case_open(struct vg_vault *v,
    const unsigned char customer[VG_IDBYTES], const char *assignee,
    const char *channel, const char *opened_by, bool self_opened,
    int64_t now, int64_t ttl, struct vg_case *out, const char **why);

/* Returns 0, VG_EINVAL (malformed id), VG_ENOTFOUND or a storage error. */
/* The two halves of vg_case_open, for a caller that records the case
 * (vigild: in the audit log) before it exists: make fills *out with a
 * new id, put stores it. */
VG_MUST_CHECK int vg_case_make(const unsigned char customer[VG_IDBYTES],
    const char *assignee, const char *channel, const char *opened_by,
    bool self_opened, int64_t now, int64_t ttl, struct vg_case *out,
    const char **why);
VG_MUST_CHECK int vg_case_put(struct vg_vault *v, const struct vg_case *c);

VG_MUST_CHECK int vg_case_get(struct vg_vault *v, const char *id,
    struct vg_case *out);

/* Reassigns an open case.  VG_EEXIST when the case is closed (nothing
 * changes); *out (may be NULL) gets the case as it is afterwards. */
VG_MUST_CHECK int vg_case_assign(struct vg_vault *v, const char *id,
    const char *assignee, struct vg_case *out);

/* Closes an open case.  VG_EEXIST when it is already closed. */
VG_MUST_CHECK int vg_case_close(struct vg_vault *v, const char *id,
    int64_t now, struct vg_case *out);

/* What the policy needs to know about case c (NULL: not found) for a
 * request by caller about customer at time now. */
void vg_case_facts(const struct vg_case *c, bool given, const char *caller,
    const unsigned char customer[VG_IDBYTES], int64_t now,
    struct vg_case_facts *f);

/* Pending, unexpired approval requests one principal may have open. */
#define VG_APPROVALS_PENDING_MAX 16

/* Records a pending approval request.  ttl seconds (> 0).  Returns 0,
 * VG_EINVAL, VG_ETOOBIG (the principal already has
 * VG_APPROVALS_PENDING_MAX requests pending) or a storage error. */
VG_MUST_CHECK int vg_approval_request(struct vg_vault *v,
    const char *principal, const unsigned char customer[VG_IDBYTES],
    uint32_t fields, const char *purpose, const char *case_id,
    const char *why, int64_t now, int64_t ttl, struct vg_approval *out);

VG_MUST_CHECK int vg_approval_get(struct vg_vault *v, const char *id,
    struct vg_approval *out);

/* Decides a pending, unexpired approval: approve or reject.  The
 * requester cannot decide their own (VG_EINVAL).  Returns 0, VG_ENOTFOUND,
 * VG_EEXIST (already decided or expired) or a storage error. */
VG_MUST_CHECK int vg_approval_decide(struct vg_vault *v, const char *id,
    bool approve, const char *by, int64_t now, struct vg_approval *out);

/* Whether approval a covers a reveal by principal of fields of customer
 * for purpose under case_id, at now: 0, or vg_approval_use's refusals
 * (VG_ENOTFOUND, VG_EEXIST, VG_EINVAL) with *why.  Reads nothing. */
VG_MUST_CHECK int vg_approval_covers(const struct vg_approval *a,
    const char *principal, const unsigned char customer[VG_IDBYTES],
    uint32_t fields, const char *purpose, const char *case_id, int64_t now,
    const char **why);

/*
 * Uses an approved approval for a reveal by principal of fields (a
 * subset of the approved ones) of customer for purpose under case_id
 * ("" or NULL: none).  Atomic: an approval is used once, whatever the
 * number of concurrent tries.  Returns 0, VG_ENOTFOUND (no such
 * approval, or not this principal's), VG_EINVAL with *why (it does not
 * cover this request), VG_EEXIST (not approved, already used, or
 * expired) or a storage error.
 */
VG_MUST_CHECK int vg_approval_use(struct vg_vault *v, const char *id,
    const char *principal, const unsigned char customer[VG_IDBYTES],
    uint32_t fields, const char *purpose, const char *case_id, int64_t now,
    const char **why);

/* Gives back an approval spent by a reveal that was then not answered
 * (its audit entry could not be written): used -> approved.  Returns 0
 * or VG_EEXIST when it is not in state used. */
VG_MUST_CHECK int vg_approval_restore(struct vg_vault *v, const char *id);

#endif
