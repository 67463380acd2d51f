/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the simulator (lib/sim.c, lib/sim_insider.c): the world's
 * state, its event queue and its cases.  vigil/sim.h is the interface;
 * docs/DETECTION.md ("Simulator and evaluation") describes the world.
 *
 * The world is a queue of timed events.  Each event either emits one
 * action (vg_sim_next) and waits for its outcome (vg_sim_outcome), which
 * schedules what follows, or only changes the world (a new day's plans,
 * an insider's move counted after it was contained).  Ties in time are
 * broken by the order events were scheduled, so the order is a function
 * of the seed and the outcomes alone.
 */
#ifndef VIGIL_SIM_INT_H
#define VIGIL_SIM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/shift.h"
#include "vigil/sim.h"

#define NS 1000000000ll
#define MIN_NS (60 * NS)
#define HOUR_NS (3600 * NS)
#define DAY_NS (86400 * NS)
/* Shanghai keeps UTC+8 all year (no daylight saving since 1991): the
 * world's clock of hours and days.  Shifts are checked with lib/shift.c
 * and the zone file all the same. */
#define LOCAL_NS (8 * HOUR_NS)

#define NPROV 31		/* mainland provinces: vg_provinces[0..30] */
#define NO_REGION 0xff

/* Shift kinds of the world (sim.c's shift_text[] has their text). */
enum skind { SK_NONE, SK_DAY, SK_EVENING, SK_WEEKEND, SK_COUNT };

/* Channel groups: which agents serve a contact. */
enum cgroup { CG_PHONE, CG_CHAT, CG_STORE, CG_COUNT, CG_NONE = CG_COUNT };

enum channel { CH_PHONE, CH_CHAT, CH_EMAIL, CH_STORE, CH_COUNT };

/* Purposes (names in sim.c's purpose_name[]). */
enum purpose { PU_SUPPORT, PU_DELIVERY, PU_RECOVERY, PU_ESCALATION,
    PU_INVESTIGATION, PU_COUNT };

/* Default schema field bits (vg_schema_default: name, phone, email,
 * account_id, address, region). */
#define F_NAME (1u << 0)
#define F_PHONE (1u << 1)
#define F_EMAIL (1u << 2)
#define F_ACCOUNT (1u << 3)
#define F_ADDRESS (1u << 4)

/* The world's RNG streams.  The exporters' daily files draw from a
 * stream of their own: hundreds of customers each, which would
 * otherwise shift every draw of the people's work after them. */
enum stream { RS_CONTACT, RS_WORK, RS_INSIDER, RS_EXPORT, RS_COUNT };

struct rng {
	uint64_t s[4];			/* xoshiro256** */
};

enum ev_kind {
	EV_CONTACT,		/* the next customer contact arrives */
	EV_CASE,		/* the next step of case arg */
	EV_INSIDER,		/* insider arg's next move */
	EV_DAY,			/* a local midnight: the day's plans */
	EV_SYSTEM,		/* principal who's periodic work */
};

struct ev {
	int64_t t;
	uint64_t n;			/* scheduling order: ties */
	uint32_t kind, who, arg;
};

/* Case steps, in the order a ticket goes through them. */
enum cstep {
	CS_OPEN,		/* case.open (ticketing, or self) */
	CS_LOOKUP,		/* the assignee finds the customer */
	CS_REVEAL,		/* ... and reveals what the case needs */
	CS_APPROVE,		/* a supervisor approves a step-up */
	CS_ESC_ASSIGN,		/* ticketing hands it to a supervisor */
	CS_ESC_LOOKUP,
	CS_ESC_REVEAL,
	CS_CLOSE,
	CS_DONE,
};

/* Case flags. */
#define CF_SELF 0x0001		/* opened by its assignee */
#define CF_TYPO 0x0002		/* the first lookup misses (a typo) */
#define CF_BAD_FIELD 0x0004	/* the first reveal asks a field too many */
#define CF_NO_CASE 0x0008	/* the reveal forgets the case: break-glass */
#define CF_ESCALATE 0x0010	/* goes to a supervisor after the reveal */
#define CF_APPROVED 0x0020	/* the next reveal carries an approval */
#define CF_THEFT 0x0040		/* its reveal is an insider's theft */
#define CF_NO_LOOKUP 0x0080	/* straight from open to reveal */
#define CF_SECURITY 0x0100	/* an investigation */
#define CF_KEPT 0x0200		/* left open by an off-shift insider */
#define CF_SEEN 0x0400		/* its owner's strategy was consulted */

struct scase {
	uint32_t cust;
	uint32_t assignee;		/* principal holding it now */
	uint32_t actor;			/* key the assignee's work uses */
	uint32_t owner;			/* on whose behalf (ground truth) */
	uint32_t approver;		/* CS_APPROVE: the supervisor */
	uint32_t flags;
	uint32_t fields;		/* the reveal's fields */
	uint8_t channel, purpose, step, tries;
	int32_t ins;			/* insider whose theft it is, -1 */
	int64_t t_start;		/* the assignee starts on it */
	int64_t d_lookup, d_reveal, d_close;	/* durations, ns */
};

/* Per principal, beyond the public table. */
struct pinfo {
	uint8_t skind;
	uint8_t group;			/* agents' channel group, CG_NONE */
	uint8_t region;			/* province index, NO_REGION */
	uint8_t org;			/* unit's org index */
	uint8_t purpose;		/* what the unit's agents reveal for */
	bool agent, outbound;
	uint16_t sup0, nsup;		/* the org's supervisors in sup[] */
	double speed;			/* handling speed factor */
	int64_t busy_until;		/* ns: the agent's queue */
	int32_t ins;			/* insider index, -1 */
	struct vg_sim_truth truth;
};

/* An insider's state (sim_insider.c). */
#define KEPT_MAX 12

struct insider {
	uint32_t p, actor;
	enum vg_strategy s;
	int32_t ring;
	bool stopped;			/* saw CONTAINED: ghost moves only */
	bool active;			/* its strategy has begun */
	int64_t s_end;			/* today's session end */
	uint32_t left;			/* moves left in it */
	int64_t gap;			/* mean gap between moves */
	uint8_t phase;			/* within a move */
	uint8_t bg, self, own;		/* ring: moves of each kind today */
	uint32_t cust, cref;
	bool hit, approved;
	uint32_t kept[KEPT_MAX];	/* off-shift: cases left open */
	uint8_t nkept;
};

struct vg_sim {
	struct vg_sim_opts o;
	struct rng r[RS_COUNT];
	int64_t t0, end;		/* ns */
	/* Principals. */
	struct vg_sim_principal *pt;
	struct pinfo *pi;
	size_t np;
	uint32_t ticketing;
	uint32_t *sup;			/* supervisors by org */
	size_t nsup;
	struct vg_shift shift[SK_COUNT];
	/* Agents by channel group, region and shift kind; and by group
	 * and kind alone (fallback). */
	uint32_t *agents;
	size_t nagents;
	uint32_t *by_grk, by_grk_off[CG_COUNT][NPROV][SK_COUNT + 1];
	uint32_t *by_gk, by_gk_off[CG_COUNT][SK_COUNT + 1];
	/* Customers. */
	uint32_t nc;
	uint8_t *creg;			/* province index per customer */
	char (*phone)[20];
	uint8_t *honey;			/* bitmap */
	uint32_t *by_reg, by_reg_off[NPROV + 1];
	struct vg_gen *gen;		/* vg_sim_customer's cursor */
	uint32_t gen_next;
	char miss_phone[20];
	/* The current export's customers (vg_sim_action.export_customers)
	 * and a scratch set to keep them distinct. */
	uint32_t *xrows;
	size_t xcap;
	uint32_t *xset;			/* open addressing: index + 1 */
	size_t xsetcap;
	/* The contact process. */
	double per_hour;		/* contacts an hour at profile weight 1 */
	/* Events. */
	struct ev *h;
	size_t nh, hcap;
	uint64_t nev;
	/* Cases, by number (1-based; [0] unused). */
	struct scase *c;
	size_t ncase, ccap;
	/* Insiders. */
	struct insider *ins;
	size_t nins;
	uint32_t *ring_list;		/* the buyer's list */
	size_t nring_list;
	int err;			/* VG_ENOMEM once an event was lost */
	/* The action waiting for its outcome. */
	bool pending;
	struct ev cur;
	struct vg_sim_action act;
};

/* sim.c, for sim_insider.c */
uint64_t vg__sim_rnd(struct vg_sim *w, int stream);
uint32_t vg__sim_below(struct vg_sim *w, int stream, uint32_t n);
double vg__sim_unif(struct vg_sim *w, int stream);
int64_t vg__sim_between(struct vg_sim *w, int stream, int64_t lo, int64_t hi);
int vg__sim_push(struct vg_sim *w, int64_t t, uint32_t kind, uint32_t who,
    uint32_t arg);
uint32_t vg__sim_case_new(struct vg_sim *w);
int vg__sim_local_day(const struct vg_sim *w, int64_t t);
int vg__sim_weekday(int64_t t);
int64_t vg__sim_local_midnight(int64_t t);
bool vg__sim_works(const struct vg_sim *w, uint32_t p, int64_t day0);
uint32_t vg__sim_region_customer(struct vg_sim *w, int stream, uint8_t reg);
uint32_t vg__sim_any_customer(struct vg_sim *w, int stream, bool honey_ok);
int32_t vg__sim_approver(struct vg_sim *w, uint32_t p, int64_t t);
const char *vg__sim_purpose_name(int pu);
uint32_t vg__sim_purpose_fields(int pu);
void vg__sim_miss_phone(struct vg_sim *w, int stream);
void vg__sim_theft(struct vg_sim *w, uint32_t p, int64_t t, bool takes);
int vg__sim_self_case(struct vg_sim *w, uint32_t owner, uint32_t actor,
    uint32_t cust, uint32_t fields, int64_t t, int32_t ins);

/* sim_insider.c */
int vg__sim_insiders_make(struct vg_sim *w, char *err, size_t errcap);
void vg__sim_insiders_day(struct vg_sim *w, int64_t day0, int day);
int vg__sim_insider_step(struct vg_sim *w, uint32_t i,
    struct vg_sim_action *a);
void vg__sim_insider_outcome(struct vg_sim *w, uint32_t i,
    const struct vg_sim_action *a, enum vg_sim_result r);
/* A case of principal p is about to be revealed or closed: what the
 * insider, if any, does with it. */
void vg__sim_insider_case(struct vg_sim *w, struct scase *c, int64_t t);
bool vg__sim_insider_keeps(struct vg_sim *w, uint32_t cref, int64_t t);

#endif
