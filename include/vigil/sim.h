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
 * both, as long as the outcomes are the same.  vg_sim_run() below is the
 * in-process driver; docs/DETECTION.md ("Simulator and evaluation")
 * describes the world, each strategy and what the evaluation found.
 *
 * Determinism: the world draws from its own generators (xoshiro256**,
 * four streams: contacts, work, insiders, exports) and never from
 * rand() or a clock; some durations use the C library's log(), so the same seed
 * gives the same actions on the same build.
 *
 * Nothing here is personal data: customers come from the project's own
 * generator (vigil/gen.h).
 */
#ifndef VIGIL_SIM_H
#define VIGIL_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/alert.h"
#include "vigil/crypto.h"
#include "vigil/detect.h"
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

#define VG_SIM_DAYS_MAX 60
#define VG_SIM_CUSTOMERS_MAX 10000000
#define VG_SIM_PRINCIPALS_MIN 60
#define VG_SIM_PRINCIPALS_MAX 20000

/* What to build.  Zero fields take the defaults in brackets. */
struct vg_sim_opts {
	uint64_t seed;			/* [1] */
	uint32_t customers;		/* [200000], at most
					 * VG_SIM_CUSTOMERS_MAX */
	uint32_t principals;		/* about [1000], VG_SIM_PRINCIPALS_MIN
					 * to VG_SIM_PRINCIPALS_MAX */
	uint32_t days;			/* [7], at most VG_SIM_DAYS_MAX */
	int64_t start;			/* unix seconds of day 0 00:00 UTC
					 * [2027-01-04, a Monday] */
	double contacts_per_day;	/* customer contacts [0: from the
					 * staff size, ~8 per agent-day] */
	int surge_day;			/* day of a launch surge, when surge */
	double surge;			/* its factor (e.g. 3.0) [0: none] */
	/* Insiders: how many of each strategy (a ring is one entry of
	 * ring_size members across three vendors, one of them dismissed
	 * and working through a colleague). */
	uint32_t insiders[VG_STRAT_COUNT];
	uint32_t ring_size;		/* [20], 3 to 100 */
	uint32_t start_day;		/* insiders start on this day [1, a
					 * Tuesday]; 0 is taken as 1 */
	uint32_t honey;			/* customers that are honeytokens [0]:
					 * no legitimate case touches one */
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
	VG_SIM_CASE_ASSIGN,	/* ticketing hands a case to assignee
				 * (an escalation to a supervisor) */
	VG_SIM_APPROVE,		/* a supervisor approves the step-up
				 * request assignee made for customer
				 * under case_ref */
	VG_SIM_EXPORT,		/* an exporter's export of the day for a
				 * consumer (vigil/export.h): rows
				 * customers, fields and purpose */
};

/* One action.  principal and actor are indexes into the principal
 * table: actor is who holds the key used (a dismissed ring member's
 * accomplice), principal whose behalf it is for the ground truth.
 * Pointers are borrowed until the next vg_sim_next(). */
struct vg_sim_action {
	int64_t t_ns;
	enum vg_sim_kind kind;
	uint32_t actor;
	uint32_t principal;
	int64_t customer;		/* index, or -1 (a miss or a guess) */
	uint32_t case_ref;		/* the world's case number, 0 none */
	uint32_t assignee;		/* CASE_OPEN, CASE_ASSIGN: the agent;
					 * APPROVE: the requester */
	char channel[8];		/* CASE_OPEN: phone, chat, email, store */
	uint32_t fields;		/* REVEAL, EXPORT: bit i = schema
					 * field i */
	const char *purpose;		/* REVEAL, EXPORT: "support", ... */
	bool break_glass;		/* REVEAL without a case */
	const char *justification;	/* REVEAL, break_glass: its words */
	bool approved;			/* REVEAL: retried once a supervisor
					 * approved the step-up it got */
	bool self_opened;		/* CASE_OPEN by the assignee */
	const char *phone;		/* LOOKUP: the number looked up (one
					 * nobody has for a miss) */
	uint64_t guess;			/* VIEW of a guess: a nonzero number
					 * the driver turns into an id that
					 * exists nowhere */
	enum vg_strategy strategy;	/* of principal: ground truth */
	bool theft;			/* part of the strategy, not the
					 * insider's ordinary work */
	/* EXPORT: the file a consumer gets (POST /v1/exports). */
	const char *consumer;		/* listed under the policy's
					 * consumers ("courier") */
	const char *recipient;		/* who receives it */
	uint32_t rows;			/* customers asked for, >= 1 */
	const uint32_t *export_customers;	/* rows distinct customers
					 * (indexes, never a honeytoken) for
					 * a driver that picks them itself;
					 * vigild picks its own */
};

/* What the driver saw. */
enum vg_sim_result {
	VG_SIM_OK,		/* allowed, answered */
	VG_SIM_MISS,		/* not found */
	VG_SIM_DENIED,		/* refused by policy (quota, case, ...) */
	VG_SIM_STEP_UP,		/* needs a supervisor */
	VG_SIM_CONTAINED,	/* refused because the detector contained
				 * (suspended, or a step-up it caused) */
	VG_SIM_ERROR,
};
#define VG_SIM_RESULTS (VG_SIM_ERROR + 1)

struct vg_sim;

/* Builds the world (principals, customers' regions, the contact
 * process, insiders).  Returns 0, VG_EINVAL with err (an option out of
 * range, or too few agents for the insiders asked), or VG_ENOMEM. */
VG_MUST_CHECK int vg_sim_new(const struct vg_sim_opts *o,
    struct vg_sim **out, char *err, size_t errcap);
void vg_sim_free(struct vg_sim *w);

/* The options as built, defaults filled in. */
const struct vg_sim_opts *vg_sim_options(const struct vg_sim *w);

/* The principal table (borrowed, valid until free). */
const struct vg_sim_principal *vg_sim_principals(const struct vg_sim *w,
    size_t *n);
/* Customer i as the generator made it (i < opts.customers), for a
 * driver that needs more than its phone.  Deterministic for the seed;
 * regenerates the customers up to i (fast in increasing order). */
void vg_sim_customer(struct vg_sim *w, uint32_t i,
    struct vg_gen_customer *out);
/* Customer i's phone as generated, and its province code ("CN-GD"):
 * kept in memory, any order (borrowed). */
const char *vg_sim_phone(const struct vg_sim *w, uint32_t i);
const char *vg_sim_region(const struct vg_sim *w, uint32_t i);
/* Customer i's id in the audit records of the in-process driver
 * (vg_sim_run): a function of the seed and i. */
void vg_sim_customer_id(const struct vg_sim *w, uint32_t i,
    unsigned char out[VG_IDBYTES]);
/* True when customer i is a honeytoken. */
bool vg_sim_is_honey(const struct vg_sim *w, uint32_t i);

/* The next action in time order: 1, 0 once the horizon is reached, or
 * VG_ENOMEM (the world could not grow; it stays stopped).  An action
 * left unanswered counts as VG_SIM_ERROR.  A world is used by one
 * thread at a time; different worlds may run in parallel. */
int vg_sim_next(struct vg_sim *w, struct vg_sim_action *a);
/* The outcome of action a (every action must be answered, in order). */
void vg_sim_outcome(struct vg_sim *w, const struct vg_sim_action *a,
    enum vg_sim_result r);

/* Ground truth so far, per principal. */
struct vg_sim_truth {
	uint64_t taken;			/* customers' clear values obtained
					 * (for validate, lookups that hit) */
	uint64_t attempted;		/* theft actions tried */
	uint64_t would_take;		/* what the strategy would have taken
					 * with no refusals at all */
	int64_t first_action_ns;	/* first malicious action, 0 none */
	int64_t contained_ns;		/* first CONTAINED outcome, 0 none */
};
void vg_sim_truth(const struct vg_sim *w, uint32_t principal,
    struct vg_sim_truth *out);

/*-----------------------------------------------------------------------------
 * The in-process driver: a miniature of vigild without HTTP or SQLite.
 * Each action is decided by vg_policy_decide() under a policy (with
 * vg_quota_decide(), cases and step-up approvals kept in memory),
 * written as the audit record vigild would write (src/vigild/api.c) and
 * fed to the detector (vigil/detect.h) in log order; alerts contain as
 * vigild's detector thread does (a "detect.contain" record, then the
 * containment map every reveal reads: medium asks for step-up, high and
 * critical suspend reveals), and the outcome goes back to the world.
 * A security analyst reviews each containment some hours later and
 * reinstates a legitimate principal (a "principal.reinstate" record);
 * the review knows the ground truth, as a careful analyst reading the
 * evidence would.
 */

/* The simulation's default policy, etc/sim-policy.yaml, built in. */
const char *vg_sim_policy_text(size_t *len);

/* Called for every alert in log order, with the index of the principal
 * it names (-1 if none) and whether it is true: it names an insider or
 * a key an insider uses. */
typedef void (*vg_sim_alert_fn)(void *ctx, const struct vg_alert *a,
    int32_t principal, bool truth);
/* Called after each action with its outcome. */
typedef void (*vg_sim_action_fn)(void *ctx, const struct vg_sim_action *a,
    enum vg_sim_result r);
/* Called with each audit record, as it is fed to the detector (seq,
 * time and the fields above leaf are set; borrowed for the call). */
typedef void (*vg_sim_record_fn)(void *ctx, const struct vg_audit_record *r);

struct vg_sim_run_opts {
	const char *policy;		/* YAML text; NULL: vg_sim_policy_text */
	size_t policy_len;
	const char *policy_name;	/* for messages ["sim-policy.yaml"] */
	const struct vg_detect_tuning *tuning;	/* NULL: defaults */
	double review_hours;		/* an analyst reviews each containment
					 * this long after it and reinstates a
					 * legitimate principal (an insider
					 * stays contained) [0: 4; < 0: never] */
	vg_sim_alert_fn alert;		/* may be NULL */
	void *alert_ctx;
	vg_sim_action_fn action;	/* may be NULL */
	void *action_ctx;
	vg_sim_record_fn record;	/* may be NULL */
	void *record_ctx;
};

/* Per insider, after the run (times are unix ns, 0 when none). */
struct vg_sim_insider_report {
	uint32_t principal;
	uint32_t actor;			/* whose key it used */
	enum vg_strategy strategy;
	int32_t ring;
	struct vg_sim_truth truth;
	int64_t first_alert_ns;		/* first alert on it (or its actor)
					 * at or after its first theft */
	int64_t contained_ns;		/* first containment of it or its
					 * actor after its first theft */
	enum vg_severity severity;	/* highest alert severity on it */
	char rule[32];			/* its first alert's rule */
	char signal[32];		/* ... and top signal */
};

struct vg_sim_report {
	uint64_t actions;
	uint64_t results[VG_SIM_RESULTS];
	uint64_t entries;		/* audit records fed */
	uint64_t alerts, true_alerts, false_alerts;
	uint64_t false_principals;	/* legitimate principals alerted */
	uint64_t contained;		/* containments applied */
	uint64_t reinstated;		/* ... lifted by the review */
	uint64_t principal_days;	/* legitimate principals active, by
					 * day (local day) */
	uint64_t staff_principal_days;	/* ... of them people (agents,
					 * supervisors, security) */
	uint64_t staff_false_alerts;	/* false alerts on people */
	uint64_t legit_reveals;		/* allowed, legitimate work (an
					 * export is not a reveal) */
	uint64_t legit_case_reveals;	/* ... of those under a case */
	uint64_t legit_staff_reveals;	/* ... by people (not systems) */
	uint64_t legit_staff_case_reveals;
	uint64_t legit_contained;	/* legitimate actions refused by a
					 * containment */
	uint64_t contacts;		/* cases opened by ticketing */
	uint64_t exports;		/* exports made (allowed) */
	uint64_t export_rows;		/* customers in them */
	size_t ninsiders;
	struct vg_sim_insider_report *insider;	/* owned: release */
};

/*
 * Runs world w to its horizon through the in-process driver and fills
 * *rep.  Returns 0; VG_EINVAL with err for a bad policy; VG_ENOMEM;
 * VG_ECRYPTO (libsodium did not initialise).  w is used up: its truth
 * stays readable.
 */
VG_MUST_CHECK int vg_sim_run(struct vg_sim *w, const struct vg_sim_run_opts *o,
    struct vg_sim_report *rep, char *err, size_t errcap);
/* Frees what a report holds; NULL and an empty report are no-ops. */
void vg_sim_report_release(struct vg_sim_report *rep);

#endif
