/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The insiders of the simulated world (vigil/sim.h): who they are, and
 * each strategy's plan, day by day, as moves in the world's event
 * queue.  An insider keeps doing its ordinary work too.  Once one of its
 * actions comes back CONTAINED it stops stealing; its later moves are
 * still counted (would_take: what it would have taken with no vigil),
 * but emit nothing.  A ring's members each stop on their own.
 *
 * The strategies, in short (docs/DETECTION.md has the numbers):
 *   bulk       break-glass reveals of anyone, every ~10 s for 90 min a
 *              working day;
 *   low_slow   30 break-glass reveals a working day, spread over the
 *              shift, customers of its own region;
 *   off_shift  leaves up to 12 of its cases open each working day and
 *              reveals them (more fields than they needed) between
 *              02:00 and 04:30, the step-up approved by the on-call
 *              supervisor;
 *   launder    25 cases a working day opened for itself (own region),
 *              each revealed within a minute and closed;
 *   validate   a bought phone list, a lookup a minute for 2.5 hours a
 *              working day: 1 in 10 is a customer;
 *   enumerate  masked views of guessed customer ids, one every ~35 s for
 *              90 minutes a working day;
 *   ring       ring_size members in three call-centre vendors, each
 *              taking 9 records a working day from the buyer's list (4
 *              break-glass, 3 under self-opened cases) and under two of
 *              its own cases (the fields the case did not need); one
 *              member is dismissed and works through a colleague's key;
 *   mimic      every case it is given, from its first day, revealed with
 *              all the purpose's fields, and it works faster (more
 *              cases come its way): never outside a real case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"

#define RING_LIST 3000		/* the buyer's list */
#define SESSION_NONE 0

static const char *const justification = "urgent customer request, the "
    "ticketing system is slow today";

/* Where each strategy's insiders are picked from (then anywhere). */
static const char *const home[VG_STRAT_COUNT] = {
	NULL, "hotline", "fixit", "chatcloud", "teleserve", "voicebridge",
	"shipfast", NULL, "acme",
};

static const char *const ring_orgs[3] = {
	"hotline", "voicebridge", "teleserve",
};

/* A day-shift agent of org (NULL: any) not yet an insider; -1 none. */
static int32_t
pick(struct vg_sim *w, const char *org)
{
	uint32_t n = 0, k, i;

	for (i = 0; i < w->nagents; i++) {
		uint32_t a = w->agents[i];

		if (w->pi[a].skind == SK_DAY && w->pi[a].ins < 0 &&
		    (org == NULL || strcmp(w->pt[a].org, org) == 0))
			n++;
	}
	if (n == 0)
		return org != NULL ? pick(w, NULL) : -1;
	k = vg__sim_below(w, RS_INSIDER, n);
	for (i = 0; i < w->nagents; i++) {
		uint32_t a = w->agents[i];

		if (w->pi[a].skind == SK_DAY && w->pi[a].ins < 0 &&
		    (org == NULL || strcmp(w->pt[a].org, org) == 0) &&
		    k-- == 0)
			return (int32_t)a;
	}
	return -1;
}

static struct insider *
enlist(struct vg_sim *w, uint32_t p, enum vg_strategy s, int32_t ring)
{
	struct insider *in = &w->ins[w->nins];

	memset(in, 0, sizeof(*in));
	in->p = in->actor = p;
	in->s = s;
	in->ring = ring;
	w->pi[p].ins = (int32_t)w->nins++;
	w->pt[p].strategy = s;
	w->pt[p].ring = ring;
	return in;
}

int
vg__sim_insiders_make(struct vg_sim *w, char *err, size_t errcap)
{
	size_t total = 0, i;
	uint32_t k, m;
	int s;

	for (s = 1; s < VG_STRAT_COUNT; s++)
		total += s == VG_STRAT_RING ? (size_t)w->o.insiders[s] *
		    w->o.ring_size : w->o.insiders[s];
	if (total == 0)
		return 0;
	if ((w->ins = calloc(total, sizeof(*w->ins))) == NULL)
		return VG_ENOMEM;
	for (s = 1; s < VG_STRAT_COUNT; s++) {
		if (s == VG_STRAT_RING)
			continue;
		for (k = 0; k < w->o.insiders[s]; k++) {
			int32_t p = pick(w, home[s]);

			if (p < 0)
				goto few;
			(void)enlist(w, (uint32_t)p, (enum vg_strategy)s, -1);
		}
	}
	if (w->o.insiders[VG_STRAT_RING] > 0) {
		w->nring_list = RING_LIST < w->nc / 10 ? RING_LIST :
		    w->nc / 10 + 1;
		w->ring_list = calloc(w->nring_list, sizeof(*w->ring_list));
		if (w->ring_list == NULL)
			return VG_ENOMEM;
		for (i = 0; i < w->nring_list; i++)
			w->ring_list[i] = vg__sim_any_customer(w, RS_INSIDER,
			    true);
	}
	for (k = 0; k < w->o.insiders[VG_STRAT_RING]; k++) {
		size_t first = w->nins;

		for (m = 0; m < w->o.ring_size; m++) {
			int32_t p = pick(w, ring_orgs[m % 3]);

			if (p < 0)
				goto few;
			(void)enlist(w, (uint32_t)p, VG_STRAT_RING,
			    (int32_t)k);
		}
		/* The first member was dismissed: it works through a
		 * colleague at the same vendor who still has access (the
		 * ring's member there, or else any colleague). */
		{
			struct insider *d = &w->ins[first];
			int32_t col = w->o.ring_size > 3 ?
			    (int32_t)w->ins[first + 3].p : pick(w,
			    w->pt[d->p].org);

			if (col < 0)
				goto few;
			d->actor = (uint32_t)col;
			w->pt[d->p].dismissed = true;
		}
	}
	return 0;
few:
	snprintf(err, errcap, "not enough day-shift agents for %zu insiders "
	    "(add principals)", total);
	return VG_EINVAL;
}

/* Starts today's session of moves at from, until end. */
static void
session(struct vg_sim *w, uint32_t i, int64_t from, int64_t end,
    uint32_t moves, int64_t gap)
{
	struct insider *in = &w->ins[i];

	in->s_end = end;
	in->left = moves;
	in->gap = gap > 0 ? gap : NS;
	(void)vg__sim_push(w, from, EV_INSIDER, 0, i);
}

void
vg__sim_insiders_day(struct vg_sim *w, int64_t day0, int d)
{
	size_t i;

	for (i = 0; i < w->nins; i++) {
		struct insider *in = &w->ins[i];
		bool works = vg__sim_works(w, in->actor, day0);
		int64_t from, end;

		in->left = 0;
		if (d < (int)w->o.start_day)
			continue;
		if (!in->active && in->s == VG_STRAT_MIMIC)
			w->pi[in->p].speed *= 1.35;	/* more cases */
		in->active = true;
		switch (in->s) {
		case VG_STRAT_BULK:
			if (!works)
				break;
			from = day0 + 10 * HOUR_NS + vg__sim_between(w,
			    RS_INSIDER, 0, 2 * HOUR_NS);
			session(w, (uint32_t)i, from, from + 90 * MIN_NS,
			    100000, 10 * NS);
			break;
		case VG_STRAT_LOW_SLOW:
			if (!works)
				break;
			from = day0 + 9 * HOUR_NS + 20 * MIN_NS +
			    vg__sim_between(w, RS_INSIDER, 0, 10 * MIN_NS);
			end = day0 + 17 * HOUR_NS + 40 * MIN_NS;
			session(w, (uint32_t)i, from, end, 30, (end - from) /
			    30);
			break;
		case VG_STRAT_OFF_SHIFT:
			/* The night after a working day of its own. */
			if (d <= (int)w->o.start_day || in->nkept == 0 ||
			    !vg__sim_works(w, in->actor, day0 - DAY_NS))
				break;
			from = day0 + 2 * HOUR_NS + vg__sim_between(w,
			    RS_INSIDER, 0, 15 * MIN_NS);
			session(w, (uint32_t)i, from, day0 + 4 * HOUR_NS +
			    30 * MIN_NS, in->nkept, 2 * HOUR_NS / in->nkept);
			break;
		case VG_STRAT_LAUNDER:
			if (!works)
				break;
			from = day0 + 9 * HOUR_NS + 30 * MIN_NS +
			    vg__sim_between(w, RS_INSIDER, 0, 15 * MIN_NS);
			end = day0 + 17 * HOUR_NS + 30 * MIN_NS;
			session(w, (uint32_t)i, from, end, 25, (end - from) /
			    25);
			break;
		case VG_STRAT_VALIDATE:
			if (!works)
				break;
			from = day0 + 10 * HOUR_NS + vg__sim_between(w,
			    RS_INSIDER, 0, 4 * HOUR_NS);
			session(w, (uint32_t)i, from, from + 150 * MIN_NS,
			    100000, 60 * NS);
			break;
		case VG_STRAT_ENUMERATE:
			if (!works)
				break;
			from = day0 + 10 * HOUR_NS + vg__sim_between(w,
			    RS_INSIDER, 0, 5 * HOUR_NS);
			session(w, (uint32_t)i, from, from + 90 * MIN_NS,
			    100000, 35 * NS);
			break;
		case VG_STRAT_RING:
			if (!works)
				break;
			in->bg = 4;
			in->self = 3;
			in->own = w->pt[in->p].dismissed ? 0 : 2;
			from = day0 + 9 * HOUR_NS + 30 * MIN_NS +
			    vg__sim_between(w, RS_INSIDER, 0, 30 * MIN_NS);
			end = day0 + 17 * HOUR_NS + 30 * MIN_NS;
			session(w, (uint32_t)i, from, end, 7, (end - from) /
			    7);
			break;
		default:
			break;
		}
	}
}

static void
reveal(struct vg_sim_action *a, const struct insider *in, uint32_t cust,
    uint32_t fields)
{
	a->kind = VG_SIM_REVEAL;
	a->actor = in->actor;
	a->principal = in->p;
	a->customer = cust;
	a->fields = fields;
	a->purpose = vg__sim_purpose_name(PU_SUPPORT);
	a->break_glass = true;
	a->justification = justification;
	a->theft = true;
}

int
vg__sim_insider_step(struct vg_sim *w, uint32_t i, struct vg_sim_action *a)
{
	struct insider *in = &w->ins[i];
	int64_t t = a->t_ns, next;
	struct scase *c;
	uint32_t cust, cref;
	bool hit;

	if (t >= in->s_end || in->left == 0)
		return 0;
	in->left--;
	next = t + (int64_t)((0.5 + vg__sim_unif(w, RS_INSIDER)) *
	    (double)in->gap);
	if (in->left > 0 && next < in->s_end)
		(void)vg__sim_push(w, next, EV_INSIDER, 0, i);
	switch (in->s) {
	case VG_STRAT_BULK:
		vg__sim_theft(w, in->p, t, true);
		if (in->stopped)
			return 0;
		reveal(a, in, vg__sim_any_customer(w, RS_INSIDER, true),
		    F_NAME | F_PHONE | F_EMAIL);
		return 1;
	case VG_STRAT_LOW_SLOW:
		vg__sim_theft(w, in->p, t, true);
		if (in->stopped)
			return 0;
		reveal(a, in, vg__sim_region_customer(w, RS_INSIDER,
		    w->pi[in->p].region), F_NAME | F_PHONE);
		return 1;
	case VG_STRAT_OFF_SHIFT:
		if (in->nkept == 0)
			return 0;
		cref = in->kept[--in->nkept];
		vg__sim_theft(w, in->p, t, true);
		if (in->stopped)
			return 0;
		/* Back on a case it left open: lookup, reveal, close. */
		c = &w->c[cref];
		c->flags = CF_THEFT | CF_KEPT;
		c->ins = (int32_t)i;
		c->purpose = PU_SUPPORT;
		c->fields = F_NAME | F_PHONE | F_EMAIL;
		c->tries = 0;
		c->t_start = t;
		c->d_lookup = 0;
		c->d_reveal = vg__sim_between(w, RS_INSIDER, 20 * NS,
		    40 * NS);
		c->d_close = vg__sim_between(w, RS_INSIDER, 30 * NS, 90 * NS);
		c->step = CS_LOOKUP;
		(void)vg__sim_push(w, t, EV_CASE, 0, cref);
		return 0;
	case VG_STRAT_LAUNDER:
		vg__sim_theft(w, in->p, t, true);
		if (in->stopped)
			return 0;
		cust = vg__sim_region_customer(w, RS_INSIDER,
		    w->pi[in->p].region);
		(void)vg__sim_self_case(w, in->p, in->actor, cust, F_NAME |
		    F_PHONE | F_EMAIL, t, (int32_t)i);
		return 0;
	case VG_STRAT_VALIDATE:
		hit = vg__sim_unif(w, RS_INSIDER) < 0.10;
		vg__sim_theft(w, in->p, t, hit);
		if (in->stopped)
			return 0;
		a->kind = VG_SIM_LOOKUP;
		a->actor = in->actor;
		a->principal = in->p;
		a->theft = true;
		if (hit) {
			a->customer = vg__sim_any_customer(w, RS_INSIDER, true);
			a->phone = vg_sim_phone(w, (uint32_t)a->customer);
		} else {
			vg__sim_miss_phone(w, RS_INSIDER);
			a->customer = -1;
			a->phone = w->miss_phone;
		}
		return 1;
	case VG_STRAT_ENUMERATE:
		vg__sim_theft(w, in->p, t, false);
		if (in->stopped)
			return 0;
		a->kind = VG_SIM_VIEW;
		a->actor = in->actor;
		a->principal = in->p;
		a->customer = -1;
		a->guess = vg__sim_rnd(w, RS_INSIDER) | 1;
		a->theft = true;
		return 1;
	case VG_STRAT_RING:
		cust = w->ring_list[vg__sim_below(w, RS_INSIDER,
		    (uint32_t)w->nring_list)];
		vg__sim_theft(w, in->p, t, true);
		if (in->bg > 0 && (in->self == 0 ||
		    vg__sim_below(w, RS_INSIDER, 2) == 0)) {
			in->bg--;
			if (in->stopped)
				return 0;
			reveal(a, in, cust, F_NAME | F_PHONE);
			return 1;
		}
		if (in->self > 0)
			in->self--;
		if (in->stopped)
			return 0;
		(void)vg__sim_self_case(w, in->p, in->actor, cust, F_NAME |
		    F_PHONE, t, (int32_t)i);
		return 0;
	default:
		return 0;
	}
}

void
vg__sim_insider_outcome(struct vg_sim *w, uint32_t i,
    const struct vg_sim_action *a, enum vg_sim_result r)
{
	/* Containment is noted for every action (vg_sim_outcome); a
	 * refusal by policy changes no plan: the insider tries again at
	 * its next move. */
	(void)w;
	(void)i;
	(void)a;
	(void)r;
}

/* A case of an insider's is about to be revealed: a mimic (and a ring
 * member, twice a day) asks for every field the purpose allows. */
void
vg__sim_insider_case(struct vg_sim *w, struct scase *c, int64_t t)
{
	int32_t i = w->pi[c->owner].ins;
	struct insider *in;
	uint32_t more;

	if (i < 0)
		return;
	in = &w->ins[i];
	if (!in->active || (in->s != VG_STRAT_MIMIC &&
	    (in->s != VG_STRAT_RING || in->own == 0)))
		return;
	more = vg__sim_purpose_fields(c->purpose);
	if ((more | c->fields) == c->fields)
		return;
	if (in->s == VG_STRAT_RING)
		in->own--;
	vg__sim_theft(w, in->p, t, true);
	if (in->stopped)
		return;
	c->fields |= more;
	c->flags |= CF_THEFT;
	c->ins = i;
}

/* An off-shift insider leaves its case open for the night. */
bool
vg__sim_insider_keeps(struct vg_sim *w, uint32_t cref, int64_t t)
{
	struct scase *c = &w->c[cref];
	int32_t i = w->pi[c->owner].ins;
	struct insider *in;

	if (i < 0)
		return false;
	in = &w->ins[i];
	if (in->s != VG_STRAT_OFF_SHIFT || !in->active ||
	    in->nkept >= KEPT_MAX ||
	    vg__sim_local_day(w, t) < (int)w->o.start_day)
		return false;
	in->kept[in->nkept++] = cref;
	c->flags |= CF_KEPT;
	c->step = CS_DONE;
	return true;
}
