/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the access policy shared by policy_parse.c (the YAML
 * reader), policy.c (decisions) and policy_mask.c (mask styles).
 * Private to libvigil.  A struct vg_policy is filled once by the parser
 * and never written again, which is what lets any number of threads
 * share it without a lock.
 */
#ifndef VIGIL_POLICY_INT_H
#define VIGIL_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/policy.h"

#define VG__POLICY_NAME_MAX 32	/* purposes: [a-z][a-z0-9_]{0,31} */
#define VG__POLICY_BASE_MAX 48	/* file name kept for step texts */
#define VG__FTYPE_MAX VG_FT_TEXT	/* highest enum vg_ftype */

/* What happens to a reveal under a case the caller opened for themselves,
 * and to a reveal outside the principal's shift. */
enum vg__rule {
	VG__ALLOW = 0,
	VG__STEP_UP,
	VG__DENY,
	VG__IGNORE,		/* shift only: the shift is not consulted */
};

/* Every line below is the 1-based policy line the rule came from, or 0
 * when the rule is the built-in default. */
struct vg__purpose {
	char name[VG__POLICY_NAME_MAX + 1];
	uint32_t fields;		/* schema field bit mask */
	int line;
};

/* A limit per window; UINT32_MAX means none. */
struct vg__limits {
	uint32_t max[VG_QW_COUNT];
	int line[VG_QW_COUNT];
};

struct vg__role {
	char name[16];		/* a vg_principal_role_ok() name */
	int line;
	uint32_t actions;		/* bit per enum vg_action */
	int action_line[VG_ACT_COUNT];

	/* Reveal rules; meaningful only with VG_ACT_REVEAL. */
	size_t npurposes;
	struct vg__purpose purpose[VG_POLICY_PURPOSES_MAX];
	int purposes_line;
	bool require_case;
	int require_case_line;
	enum vg__rule self_opened;	/* allow, step_up or deny */
	int self_opened_line;
	uint32_t step_up_fields;
	int step_up_fields_line;
	enum vg__rule shift;		/* deny, step_up or ignore */
	int shift_line;
	bool bg_allow;
	bool bg_notify;
	int bg_line;
	struct vg__limits bg_quota;
	struct vg__limits q_reveals;
	struct vg__limits q_customers;
	struct vg__limits q_per_case;	/* reveals per case handled */
};

/* An export consumer (the `consumers:` section). */
struct vg__consumer {
	char name[65];			/* vg_consumer_name_ok() */
	int line;
	size_t npurposes;
	char purpose[VG_POLICY_PURPOSES_MAX][VG__POLICY_NAME_MAX + 1];
	int purposes_line;
	uint32_t clear;			/* fields given in clear */
	int clear_line;			/* 0: none listed (the default) */
	uint64_t max_rows;
	int max_rows_line;
};

struct vg_policy {
	struct vg_schema schema;	/* the field names, for step texts */
	char base[VG__POLICY_BASE_MAX];	/* last part of the name */
	char digest[17];
	int64_t case_ttl;
	int64_t approval_ttl;
	size_t justification_min;
	int justification_line;
	enum vg_mask_style mask[VG__FTYPE_MAX + 1];
	size_t nroles;
	struct vg__role role[VG_POLICY_ROLES_MAX];
	size_t nconsumers;
	int consumers_line;
	struct vg__consumer consumer[VG_POLICY_CONSUMERS_MAX];
};

/* Built-in settings (docs/POLICY.md). */
#define VG__CASE_TTL_DEFAULT (72 * 3600)
#define VG__APPROVAL_TTL_DEFAULT (15 * 60)
#define VG__JUSTIFICATION_DEFAULT 20

/* The built-in mask style of type t. */
enum vg_mask_style vg__mask_default(enum vg_ftype t);
/* True when style s may be applied to type t. */
bool vg__mask_applies(enum vg_ftype t, enum vg_mask_style s);
/* The style named name, or -1. */
int vg__mask_from_name(const char *name);

/* Window names and lengths (as include/vigil/quota.h's; kept here so the
 * policy does not depend on the quota module at link time). */
const char *vg__qwin_name(int w);
int vg__qwin_from_name(const char *name);
int64_t vg__qwin_seconds(int w);

/* Fills the defaults of a fresh policy (settings and masks). */
void vg__policy_defaults(struct vg_policy *p);

#endif
