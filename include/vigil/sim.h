/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The synthetic world that measures vigil (issue 6): a company's
 * customers, its own support staff and its vendors' (about 1,000
 * principals with orgs, roles, regional queues and shifts), customers
 * contacting support as a non-homogeneous Poisson process (hour of day,
 * day of week, surges), the ticketing system opening cases, agents
 * looking customers up and revealing what each case needs, and insiders
 * following configurable strategies, with the ground truth recorded.
 *
 * The world is a deterministic generator of timed actions for a seed:
 * vg_sim_next() gives them in time order, and a driver carries each one
 * out, against a running vigild over HTTP or in process, and reports
 * the outcome back with vg_sim_outcome() (insiders react to being
 * refused or contained, and the world counts what each one took).  One
 * world model, two drivers: the same seed gives the same actions to
 * both, as long as the outcomes are the same.
 *
 * Nothing here is personal data: customers come from the project's own
 * generator (vigil/gen.h).
 */
#ifndef VIGIL_SIM_H
#define VIGIL_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/crypto.h"
#include "vigil/error.h"
#include "vigil/gen.h"
#include "vigil/principal.h"

/* Insider strategies (ground truth).  VG_STRAT_NONE is legitimate. */
enum vg_strategy {
	VG_STRAT_NONE = 0,
	VG_STRAT_BULK,		/* hundreds of reveals an hour */
	VG_STRAT_LOW_SLOW,	/* ~30 a day without cases, under quotas */
	VG_STRAT_OFF_SHIFT,	/* reveals at night under real cases */
	VG_STRAT_LAUNDER,	/* self-opened cases, then reveals */
	VG_STRAT_VALIDATE,	/* checks a bought phone list: many misses */
	VG_STRAT_ENUMERATE,	/* guesses customer ids */
	VG_STRAT_RING,		/* one member of a collusion ring */
	VG_STRAT_MIMIC,		/* stays inside the peer envelope */
	VG_STRAT_COUNT
};

/* "none", "bulk", "low_slow", ...; NULL when out of range. */
const char *vg_strategy_name(enum vg_strategy s);
/* The strategy named s, or -1. */
int vg_strategy_from_name(const char *s);

/* What to build.  Zero fields take the defaults in brackets. */
struct vg_sim_opts {
	uint64_t seed;			/* [1] */
	uint32_t customers;		/* [200000] */
	uint32_t principals;		/* about [1000] */
	uint32_t days;			/* [7] */
	int64_t start;			/* unix seconds of day 0 00:00 UTC
					 * [2027-01-04, a Monday] */
	double contacts_per_day;	/* customer contacts [0: from the
					 * staff size, ~8 per agent-day] */
	int surge_day;			/* day of a launch surge, -1 none [-1] */
	double surge;			/* its factor [3.0] */
	/* Insiders: how many of each strategy (a ring is one entry of
	 * ring_size members across three vendors, one of them dismissed
	 * and working through a colleague). */
	uint32_t insiders[VG_STRAT_COUNT];
	uint32_t ring_size;		/* [20] */
};

/* A principal of the world. */
struct vg_sim_principal {
	char id[VG_PRINCIPAL_ID_MAX + 1];
	char org[VG_PRINCIPAL_ID_MAX + 1];
	char kind[16];			/* employee, vendor, system */
	char role[16];			/* agent, supervisor, security, ... */
	char region[VG_PRINCIPAL_REGION_MAX];
	char shift[VG_PRINCIPAL_SHIFT_MAX + 1];	/* "" none */
	enum vg_strategy strategy;	/* ground truth */
	int32_t ring;			/* ring number, -1 none */
	bool dismissed;			/* acts only through a colleague */
};

enum vg_sim_kind {
	VG_SIM_CASE_OPEN,	/* ticketing (or an agent, self) opens */
	VG_SIM_LOOKUP,		/* by phone; a miss when customer < 0 */
	VG_SIM_VIEW,		/* masked view by id; a guess when < 0 */
	VG_SIM_REVEAL,
	VG_SIM_CASE_CLOSE,
};

/* One action.  principal and actor are indexes into the principal
 * table: actor is who holds the key used (a dismissed ring member's
 * accomplice), principal whose behalf it is for the ground truth. */
struct vg_sim_action {
	int64_t t_ns;
	enum vg_sim_kind kind;
	uint32_t actor;
	uint32_t principal;
	int64_t customer;		/* index, or -1 (a miss or a guess) */
	uint32_t case_ref;		/* the world's case number, 0 none */
	uint32_t assignee;		/* CASE_OPEN: the agent */
	char channel[8];		/* CASE_OPEN: phone, chat, email, store */
	uint32_t fields;		/* REVEAL: bit i = schema field i */
	const char *purpose;		/* REVEAL: "support", ... */
	bool break_glass;		/* REVEAL without a case */
	bool self_opened;		/* CASE_OPEN by the assignee */
	enum vg_strategy strategy;	/* of principal: ground truth */
};

/* What the driver saw. */
enum vg_sim_result {
	VG_SIM_OK,		/* allowed, answered */
	VG_SIM_MISS,		/* not found */
	VG_SIM_DENIED,		/* refused by policy (quota, case, ...) */
	VG_SIM_STEP_UP,		/* needs a supervisor */
	VG_SIM_CONTAINED,	/* refused because the detector contained */
	VG_SIM_ERROR,
};

struct vg_sim;

/* Builds the world (principals, customers' regions, the contact
 * process, insiders).  Returns 0, VG_EINVAL with err, or VG_ENOMEM. */
VG_MUST_CHECK int vg_sim_new(const struct vg_sim_opts *o,
    struct vg_sim **out, char *err, size_t errcap);
void vg_sim_free(struct vg_sim *w);

/* The principal table (borrowed, valid until free). */
const struct vg_sim_principal *vg_sim_principals(const struct vg_sim *w,
    size_t *n);
/* Customer i as the generator made it (i < opts.customers), for a
 * driver that needs its phone number.  Deterministic for the seed. */
void vg_sim_customer(struct vg_sim *w, uint32_t i,
    struct vg_gen_customer *out);

/* The next action in time order: 1, or 0 once the horizon is reached. */
int vg_sim_next(struct vg_sim *w, struct vg_sim_action *a);
/* The outcome of action a (every action must be answered, in order). */
void vg_sim_outcome(struct vg_sim *w, const struct vg_sim_action *a,
    enum vg_sim_result r);

/* Ground truth so far, per principal. */
struct vg_sim_truth {
	uint64_t taken;			/* customers' clear values obtained */
	uint64_t attempted;		/* reveals tried */
	uint64_t would_take;		/* what the strategy would have taken
					 * with no refusals at all */
	int64_t first_action_ns;	/* first malicious action, 0 none */
	int64_t contained_ns;		/* first CONTAINED outcome, 0 none */
};
void vg_sim_truth(const struct vg_sim *w, uint32_t principal,
    struct vg_sim_truth *out);

#endif
