/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The access policy: which role may do what, which fields it may reveal
 * for which purposes, whether a reveal needs an open case assigned to
 * the caller for that customer, shifts, break-glass, step-up, quotas and
 * masks.  Default deny: what the file does not grant is refused.
 *
 * The file is YAML (a subset: block and flow maps and lists, scalars,
 * comments), parsed with libyaml; every error names file:line:column.
 * The format is documented in docs/POLICY.md; etc/policy.yaml is the
 * default shipped with vigil.
 *
 * A decision is a pure function of the policy and the facts the caller
 * gathered (principal, case, approval, shift, quota usage, containment):
 * vg_policy_decide() does no I/O, so vigild, `vigil policy explain` and
 * the tests get the same answer, with every rule that led to it.
 *
 * A loaded policy is immutable and may be shared by any number of
 * threads; reload builds a new one and swaps the pointer.
 */
#ifndef VIGIL_POLICY_H
#define VIGIL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/error.h"
#include "vigil/normalize.h"
#include "vigil/principal.h"
#include "vigil/quota.h"
#include "vigil/schema.h"

#define VG_POLICY_FILE_MAX (1024 * 1024)	/* bytes in a policy file */
#define VG_POLICY_ERR_MAX 512

/* What a request does.  Names (vg_action_name) are the policy file's. */
enum vg_action {
	VG_ACT_LOOKUP = 0,	/* "lookup": exact lookup, masked result */
	VG_ACT_VIEW,		/* "view": masked view of one customer */
	VG_ACT_REVEAL,		/* "reveal": clear values */
	VG_ACT_CUSTOMER_CREATE,	/* "customer_create" */
	VG_ACT_CASE_OPEN,	/* "case_open": open a case for anyone */
	VG_ACT_CASE_SELF_OPEN,	/* "case_self_open": open a case assigned
				 * to oneself (outbound work; marked) */
	VG_ACT_CASE_ASSIGN,	/* "case_assign" */
	VG_ACT_CASE_CLOSE,	/* "case_close" (the assignee may always
				 * close their own case) */
	VG_ACT_CASE_READ,	/* "case_read" */
	VG_ACT_APPROVE,		/* "approve": decide step-up requests */
	VG_ACT_PRINCIPAL_READ,	/* "principal_read" */
	VG_ACT_PRINCIPAL_ADMIN,	/* "principal_admin": suspend, reinstate */
	VG_ACT_AUDIT_READ,	/* "audit_read": inclusion proofs */
	VG_ACT_ALERTS,		/* "alerts": read and acknowledge the
				 * detector's alerts */
	VG_ACT_EXPORT,		/* "export": bulk extracts for a consumer
				 * listed under `consumers:` (vigil/export.h) */
	VG_ACT_LEAK_TRACE,	/* "leak_trace": trace a leaked file to the
				 * exports and principals behind it
				 * (POST /v1/leaks/trace, vigil/trace.h) */
	VG_ACT_COUNT
};
const char *vg_action_name(enum vg_action a);
int vg_action_from_name(const char *name);	/* -1 if unknown */

enum vg_verdict {
	VG_ALLOW = 0,
	VG_DENY,
	VG_STEP_UP,		/* allowed once a supervisor approves */
};

/* Reason codes (static strings, also the API's error codes). */
#define VG_R_OK			"ok"
#define VG_R_BREAK_GLASS	"break_glass"	/* allowed, flagged */
#define VG_R_APPROVED		"approved"	/* allowed by an approval */
#define VG_R_ROLE		"role_not_allowed"
#define VG_R_SUSPENDED		"principal_suspended"
#define VG_R_NO_CASE		"no_case"
#define VG_R_CASE_NOT_FOUND	"case_not_found"
#define VG_R_CASE_NOT_ASSIGNED	"case_not_assigned"
#define VG_R_CASE_CLOSED	"case_closed"
#define VG_R_CASE_EXPIRED	"case_expired"
#define VG_R_CASE_OTHER		"case_other_customer"
#define VG_R_PURPOSE		"purpose_not_allowed"
#define VG_R_FIELD		"field_not_allowed"
#define VG_R_QUOTA		"quota_exceeded"
#define VG_R_OFF_SHIFT		"off_shift"
#define VG_R_STEP_UP		"step_up_required"
#define VG_R_JUSTIFICATION	"justification_required"
#define VG_R_SELF_OPENED	"case_self_opened"	/* a reveal under a
						 * case the caller opened
						 * for themselves */
#define VG_R_CONSUMER		"consumer_not_allowed"	/* an export for a
						 * consumer the policy does
						 * not list */
#define VG_R_TOO_MANY_ROWS	"too_many_rows"	/* an export over the
						 * consumer's max_rows */

/* Masking style per field type (the policy's `masks:` section). */
enum vg_mask_style {
	VG_MASK_DEFAULT = 0,	/* the type's built-in vg_mask() form */
	VG_MASK_FULL,		/* "full": every character hidden */
	VG_MASK_COUNTRY_LAST4,	/* "country_last4": +86 *******8000 */
	VG_MASK_LAST4,		/* "last4": *******8000 */
	VG_MASK_FIRST_DOMAIN,	/* "first_domain": z***@example.com */
	VG_MASK_SURNAME,	/* "surname": 张** (the family name only;
				 * Latin names: docs/POLICY.md) */
	VG_MASK_CITY,		/* "city": address down to the city */
	VG_MASK_NONE,		/* "none": shown as is (region only) */
};

/* Facts about the case a request named. */
struct vg_case_facts {
	bool given;		/* the request named a case */
	bool found;
	bool open;
	bool expired;
	bool assigned_to_caller;
	bool same_customer;
	bool self_opened;
};

/* Everything a decision depends on, gathered by the caller. */
struct vg_policy_input {
	const struct vg_principal *who;
	enum vg_action action;
	uint32_t fields;		/* reveal: schema field bit mask */
	const char *purpose;		/* reveal: may be NULL */
	struct vg_case_facts kase;
	size_t justification_len;	/* bytes of justification, 0: none */
	bool approved;			/* a valid approval for exactly this
					 * request was presented */
	int shift;			/* 1 in shift, 0 off shift, -1 none set */
	int containment;		/* 0 none, 1 step-up, 2 reveals
					 * suspended (the detector's) */
	const struct vg_quota_usage *usage;	/* reveal: usage before it */
	int64_t now;			/* unix seconds */
	/* Export: fields above are the fields asked for, purpose the
	 * export's purpose. */
	const char *consumer;		/* export: the consumer, may be NULL */
	uint64_t rows;			/* export: customers asked for */
};

#define VG_POLICY_STEPS_MAX 24
#define VG_POLICY_STEP_MAX 200

struct vg_decision {
	enum vg_verdict verdict;
	const char *reason;		/* VG_R_* */
	const char *step_up_why;	/* VG_STEP_UP: VG_R_OFF_SHIFT,
					 * VG_R_FIELD (a step-up field),
					 * VG_R_SELF_OPENED or "contained"
					 * (the first cause met); else NULL */
	bool break_glass;		/* allowed without a case */
	bool approval_used;		/* VG_ALLOW relied on in->approved:
					 * the caller must spend the approval
					 * (the reason may be VG_R_APPROVED
					 * or VG_R_BREAK_GLASS) */
	bool notify;			/* the supervisor is to be told */
	int quota_window;		/* VG_R_QUOTA: the window, else -1 */
	const char *quota_kind;		/* "reveals", "customers",
					 * "break_glass", "per_case" */
	uint32_t quota_limit;
	int64_t retry_after;		/* VG_R_QUOTA: seconds, >= 1 */
	uint32_t clear;			/* export allowed: the fields asked
					 * for that the consumer may get in
					 * clear (the rest are masked) */
	uint64_t max_rows;		/* export: the consumer's max_rows
					 * (0: no such consumer) */
	/* The rules that led here, in order, each with its policy line. */
	size_t nsteps;
	struct {
		int line;		/* 0: a built-in default */
		char text[VG_POLICY_STEP_MAX];
	} step[VG_POLICY_STEPS_MAX];
};

struct vg_policy;

#define VG_POLICY_ROLES_MAX 64
#define VG_POLICY_PURPOSES_MAX 32	/* a role */
#define VG_POLICY_DEPTH_MAX 16		/* nested maps and lists */
#define VG_POLICY_CONSUMERS_MAX 64	/* consumers: entries */
#define VG_POLICY_ROWS_MAX 1000000	/* largest max_rows (one export) */

/*
 * Parses policy text (name is used in messages, e.g. the file path;
 * borrowed) against the vault's schema (field names must exist in it;
 * copied).  On success *out is a new policy for vg_policy_free().  On
 * error returns VG_EINVAL (or VG_ENOMEM) and writes "name:line:column:
 * what" into err (1-based; columns count characters), e.g.
 *
 *     p.yaml:7:25: roles.agent.reveal.purposes.support: unknown field "phne"
 *
 * Limits: VG_POLICY_FILE_MAX bytes, VG_POLICY_ROLES_MAX
 * roles, VG_POLICY_PURPOSES_MAX purposes a role, nesting depth
 * VG_POLICY_DEPTH_MAX; the rest are in docs/POLICY.md.
 */
VG_MUST_CHECK int vg_policy_parse(const char *text, size_t len,
    const char *name, const struct vg_schema *schema,
    struct vg_policy **out, char *err, size_t errcap);

/* Reads and parses a file.  VG_EIO / VG_ETOOBIG with "path: reason",
 * or vg_policy_parse's errors with path as the name. */
VG_MUST_CHECK int vg_policy_load(const char *path,
    const struct vg_schema *schema, struct vg_policy **out, char *err,
    size_t errcap);

/* Frees p; NULL is a no-op. */
void vg_policy_free(struct vg_policy *p);

/*
 * Decides in for p.  Always fills *d; fails closed: a NULL p, in or
 * in->who, an unknown role or anything the policy does not grant is
 * VG_DENY.  The order of the checks is docs/POLICY.md's.  No I/O, no
 * allocation, no clock: in->now is the time.
 */
void vg_policy_decide(const struct vg_policy *p,
    const struct vg_policy_input *in, struct vg_decision *d);

/* The masked form of canonical value canon[0..len) of type t under p's
 * masks (p NULL: the built-in defaults of docs/POLICY.md).  An out
 * buffer of VG_NORM_MAX + 1 bytes is always large enough.  Returns 0 or
 * VG_ETOOBIG as vg_mask(). */
VG_MUST_CHECK int vg_policy_mask(const struct vg_policy *p, enum vg_ftype t,
    const char *canon, size_t len, char *out, size_t outcap);

/*
 * An export consumer as the policy lists it: copies *out and returns
 * true, or false when the policy has no consumer of that name (then no
 * export for it is ever allowed).  purposes is a comma list.
 */
struct vg_policy_consumer {
	char name[65];
	char purposes[VG_POLICY_PURPOSES_MAX * 33];
	uint32_t clear;			/* schema field bit mask */
	uint64_t max_rows;
	int line;			/* of its key in the file */
};
bool vg_policy_consumer(const struct vg_policy *p, const char *name,
    struct vg_policy_consumer *out);
/* The number of consumers the policy lists. */
size_t vg_policy_nconsumers(const struct vg_policy *p);

/* True when p grants role the action a (whatever else the action's
 * rules then ask: vigild lets a role with "export" read export
 * manifests). */
bool vg_policy_role_has(const struct vg_policy *p, const char *role,
    enum vg_action a);

/* Settings outside decisions (seconds; 0 means never). */
int64_t vg_policy_case_ttl(const struct vg_policy *p);
int64_t vg_policy_approval_ttl(const struct vg_policy *p);

/* The number of roles the policy defines. */
size_t vg_policy_nroles(const struct vg_policy *p);

/* The mask style p applies to type t (p NULL: the built-in one), and a
 * style's name ("full", ...; "?" if unknown). */
enum vg_mask_style vg_policy_mask_style(const struct vg_policy *p,
    enum vg_ftype t);
const char *vg_mask_style_name(enum vg_mask_style s);

/* A short fingerprint of the policy text (16 hex + NUL), logged and
 * audited on every load so the log says which policy decided. */
const char *vg_policy_digest(const struct vg_policy *p);

#endif
