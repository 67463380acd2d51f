/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the simulator (lib/sim.c, lib/sim_insider.c,
 * lib/sim_run.c): the principal table's shape (orgs, roles, one
 * supervisor per 20 agents, shifts that parse, regions that exist), the
 * customers (row i of the generator), the contact process against its
 * hour-of-day and day-of-week profile and a surge, routing to regional
 * queues on shift, each insider strategy doing what it says, outcomes
 * feeding back (a contained insider stops taking, its would-take goes
 * on), the exporters' one export a working day and the driver's
 * export.row entries and manifest (or one refusal), determinism (same seed, same actions and same alerts, byte for
 * byte), the in-process driver end to end, the built-in policy equal to
 * etc/sim-policy.yaml, and bad options.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tap.h"
#include "vigil/export.h"
#include "vigil/region.h"
#include "vigil/shift.h"
#include "vigil/sim.h"

#define NS 1000000000ll
#define HOUR (3600 * NS)
#define DAY (86400 * NS)
#define T0 1799020800ll		/* 2027-01-04 00:00 UTC, a Monday */

static int
local_hour(int64_t t)
{
	return (int)(((t / NS + 8 * 3600) / 3600) % 24);
}

static int
local_day(int64_t t)
{
	return (int)((t / NS + 8 * 3600) / 86400 - (T0 + 8 * 3600) / 86400);
}

/* The ideal driver: everything allowed, misses where nobody exists. */
static enum vg_sim_result
ideal(const struct vg_sim_action *a)
{
	if ((a->kind == VG_SIM_LOOKUP || a->kind == VG_SIM_VIEW) &&
	    a->customer < 0)
		return VG_SIM_MISS;
	return VG_SIM_OK;
}

static struct vg_sim *
world(const struct vg_sim_opts *o)
{
	struct vg_sim *w = NULL;
	char err[256];

	if (vg_sim_new(o, &w, err, sizeof(err)) != 0) {
		printf("# vg_sim_new: %s\n", err);
		exit(1);
	}
	return w;
}

/* The first insider of strategy s, or -1. */
static int32_t
insider(const struct vg_sim *w, enum vg_strategy s, int skip)
{
	const struct vg_sim_principal *pt;
	size_t n, i;

	pt = vg_sim_principals(w, &n);
	for (i = 0; i < n; i++)
		if (pt[i].strategy == s && skip-- == 0)
			return (int32_t)i;
	return -1;
}

/*-----------------------------------------------------------------------------
 * The table
 */

static void
test_table(void)
{
	struct vg_sim_opts o = { 0 };
	const struct vg_sim_principal *pt;
	struct vg_sim *w;
	size_t n, i, j;
	int agents = 0, sups = 0, sec = 0, exp = 0, tick = 0, ing = 0;
	int bad_shift = 0, bad_region = 0, bad_id = 0, dup = 0, bad_kind = 0;
	int shifts[4] = { 0 }, orgs = 0, sup_ok = 1;
	const char *org_seen[32];
	int org_agents[32] = { 0 }, org_sups[32] = { 0 };

	o.customers = 20000;
	w = world(&o);
	pt = vg_sim_principals(w, &n);
	ok(n >= 980 && n <= 1020, "about 1,000 principals (%zu)", n);
	for (i = 0; i < n; i++) {
		const struct vg_sim_principal *p = &pt[i];
		struct vg_shift sh;
		size_t k;

		for (k = 0; k < (size_t)orgs; k++)
			if (strcmp(org_seen[k], p->org) == 0)
				break;
		if (k == (size_t)orgs && orgs < 32)
			org_seen[orgs++] = p->org;
		if (strcmp(p->role, "agent") == 0) {
			agents++;
			org_agents[k]++;
		} else if (strcmp(p->role, "supervisor") == 0) {
			sups++;
			org_sups[k]++;
		}
		sec += strcmp(p->role, "security") == 0;
		exp += strcmp(p->role, "exporter") == 0 &&
		    strcmp(p->org, "dmreach") == 0;
		tick += strcmp(p->role, "ticketing") == 0;
		ing += strcmp(p->role, "ingest") == 0;
		if (p->shift[0] != '\0' &&
		    vg_shift_parse(p->shift, &sh, NULL) != 0)
			bad_shift++;
		if (strcmp(p->shift, "Asia/Shanghai Mon-Fri 09:00-18:00") == 0)
			shifts[0]++;
		else if (strcmp(p->shift,
		    "Asia/Shanghai Mon-Fri 14:00-23:00") == 0)
			shifts[1]++;
		else if (strcmp(p->shift,
		    "Asia/Shanghai Sat,Sun 09:00-18:00") == 0)
			shifts[2]++;
		else if (p->shift[0] == '\0')
			shifts[3]++;
		if (strcmp(p->role, "agent") == 0 &&
		    vg_province_find(p->region, strlen(p->region)) == NULL)
			bad_region++;
		bad_id += !vg_principal_id_ok(p->id);
		bad_kind += !vg_principal_kind_ok(p->kind) ||
		    !vg_principal_role_ok(p->role);
		for (j = 0; j < i; j++)
			dup += strcmp(pt[j].id, p->id) == 0;
	}
	ok(agents > 900 && agents < 960, "mostly agents (%d)", agents);
	for (i = 0; i < (size_t)orgs; i++)
		if (org_agents[i] > 0 && org_sups[i] != (org_agents[i] + 19) /
		    20)
			sup_ok = 0;
	ok(sup_ok && sups >= 45 && sups <= 55, "one supervisor per 20 agents, "
	    "per org (%d)", sups);
	is_int(sec, 5, "five security analysts");
	is_int(exp, 3, "the direct-marketing vendor: three exporters");
	is_int(tick, 1, "one ticketing system");
	is_int(ing, 1, "one ingest system");
	is_int(orgs, 9, "the company and eight vendors");
	is_int(bad_shift, 0, "every shift parses with vg_shift_parse");
	ok(shifts[0] > 500 && shifts[1] > 150 && shifts[2] > 150 &&
	    shifts[0] + shifts[1] + shifts[2] + shifts[3] == (int)n,
	    "day, evening and weekend crews (%d, %d, %d; %d without)",
	    shifts[0], shifts[1], shifts[2], shifts[3]);
	is_int(bad_region, 0, "every agent serves a province");
	is_int(bad_id + bad_kind, 0, "ids, kinds and roles are valid");
	is_int(dup, 0, "ids are unique");
	vg_sim_free(w);
}

static void
test_customers(void)
{
	struct vg_sim_opts o = { 0 };
	struct vg_gen_customer c, g;
	struct vg_gen *gen;
	struct vg_sim *w;
	uint32_t i;
	int same = 1, regions = 1, honey = 0;

	o.customers = 5000;
	o.seed = 42;
	o.honey = 50;
	w = world(&o);
	gen = vg_gen_new(42);
	for (i = 0; i < 5000 && gen != NULL; i++) {
		vg_gen_next(gen, &g);
		same &= strcmp(vg_sim_phone(w, i), g.phone) == 0;
		regions &= strcmp(vg_sim_region(w, i), g.region) == 0;
		honey += vg_sim_is_honey(w, i);
	}
	vg_gen_free(gen);
	ok(same, "customer i's phone is row i of the generator's seed");
	ok(regions, "and so is its region");
	vg_sim_customer(w, 4321, &c);
	gen = vg_gen_new(42);
	for (i = 0; i <= 4321 && gen != NULL; i++)
		vg_gen_next(gen, &g);
	vg_gen_free(gen);
	ok(strcmp(c.name, g.name) == 0 && strcmp(c.email, g.email) == 0,
	    "vg_sim_customer regenerates customer 4321");
	vg_sim_customer(w, 17, &c);
	ok(strcmp(c.phone, vg_sim_phone(w, 17)) == 0, "and an earlier one "
	    "after it");
	is_int(honey, 50, "50 honeytokens among them");
	vg_sim_free(w);

	/* A week of legitimate work never touches a honeytoken: 1 % of the
	 * customers are honey, callbacks and cases included. */
	{
		struct vg_sim_opts h = { 0 };
		struct vg_sim_action a;
		uint64_t acts = 0, touched = 0;

		h.customers = 20000;
		h.principals = 300;
		h.seed = 7;
		h.honey = 200;
		w = world(&h);
		while (w != NULL && vg_sim_next(w, &a) == 1) {
			acts++;
			if (a.customer >= 0 && !a.theft &&
			    vg_sim_is_honey(w, (uint32_t)a.customer))
				touched++;
			vg_sim_outcome(w, &a, VG_SIM_OK);
		}
		ok(acts > 10000 && touched == 0, "a week of legitimate work "
		    "(%llu actions) touches no honeytoken (%llu did)",
		    (unsigned long long)acts, (unsigned long long)touched);
		vg_sim_free(w);
	}
}

/*-----------------------------------------------------------------------------
 * The contact process and routing
 */

struct counts {
	uint32_t by_hour[24], by_day[7], night, contacts;
	uint32_t region_match, on_shift, group_ok, reveals, case_reveals;
	uint32_t lookups, misses, self_legit;
};

static void
drive(struct vg_sim *w, struct counts *k)
{
	const struct vg_sim_principal *pt;
	struct vg_sim_action a;
	size_t n;

	pt = vg_sim_principals(w, &n);
	memset(k, 0, sizeof(*k));
	while (vg_sim_next(w, &a) == 1) {
		if (a.kind == VG_SIM_CASE_OPEN && !a.self_opened) {
			const struct vg_sim_principal *ag = &pt[a.assignee];
			struct vg_shift sh;
			int h = local_hour(a.t_ns), d = local_day(a.t_ns);

			k->contacts++;
			k->by_hour[h]++;
			if (d >= 0 && d < 7)
				k->by_day[d]++;
			k->night += h < 9;
			k->region_match += strcmp(ag->region,
			    vg_sim_region(w, (uint32_t)a.customer)) == 0;
			k->on_shift += vg_shift_parse(ag->shift, &sh, NULL) ==
			    0 && vg_shift_contains(&sh, a.t_ns / NS);
			k->group_ok += strcmp(ag->role, "agent") == 0 &&
			    (strcmp(a.channel, "store") != 0 ||
			    strcmp(ag->org, "fixit") == 0 ||
			    strcmp(ag->org, "careplus") == 0);
		}
		if (a.kind == VG_SIM_CASE_OPEN && a.self_opened &&
		    strcmp(pt[a.actor].role, "agent") == 0)
			k->self_legit++;
		if (a.kind == VG_SIM_REVEAL && !a.theft &&
		    strcmp(pt[a.actor].role, "exporter") != 0) {
			k->reveals++;
			k->case_reveals += a.case_ref != 0;
		}
		if (a.kind == VG_SIM_LOOKUP &&
		    strcmp(pt[a.actor].role, "agent") == 0) {
			k->lookups++;
			k->misses += a.customer < 0;
		}
		vg_sim_outcome(w, &a, ideal(&a));
	}
}

static void
test_contacts(void)
{
	struct vg_sim_opts o = { 0 };
	struct counts k, s;
	struct vg_sim *w;
	double cpd, wd, expect10, agent_days = 0;

	o.customers = 20000;
	o.seed = 7;
	w = world(&o);
	cpd = vg_sim_options(w)->contacts_per_day;
	{
		const struct vg_sim_principal *pt;
		size_t n, i;

		pt = vg_sim_principals(w, &n);
		for (i = 0; i < n; i++)
			if (strcmp(pt[i].role, "agent") == 0)
				agent_days += strstr(pt[i].shift, "Sat,Sun") !=
				    NULL ? 2 : 5;
	}
	drive(w, &k);
	vg_sim_free(w);
	ok(fabs(cpd - 8 * agent_days / 7) < 1, "8 contacts per agent-day: "
	    "%.0f a day", cpd);
	ok(k.contacts > cpd * 7 * 0.97 && k.contacts < cpd * 7 * 1.03,
	    "a week brings %u contacts (%.0f expected)", k.contacts, cpd * 7);
	is_int(k.night, 0, "nobody is served before 09:00 local time");
	/* 10:00 weighs 1 on weekdays (Monday 1.15, Friday 0.95) and 0.3 at
	 * weekends; the profile's week sums to 55.635. */
	wd = 1.15 + 1 + 1 + 1 + 0.95 + 2 * 0.3;
	expect10 = cpd * 7 / 55.635 * wd;
	ok(fabs(k.by_hour[10] - expect10) < 4 * sqrt(expect10),
	    "the 10:00 hour follows the profile (%u, %.0f expected)",
	    k.by_hour[10], expect10);
	ok(k.by_hour[22] * 2 < k.by_hour[10] && k.by_hour[15] >
	    k.by_hour[12], "evenings are quieter, lunch dips (22h %u, 12h "
	    "%u, 15h %u)", k.by_hour[22], k.by_hour[12], k.by_hour[15]);
	ok(k.by_day[0] > k.by_day[2] && k.by_day[5] * 2 < k.by_day[2],
	    "Monday busiest, the weekend quiet (Mon %u, Wed %u, Sat %u)",
	    k.by_day[0], k.by_day[2], k.by_day[5]);
	ok(k.group_ok == k.contacts, "every case goes to an agent of the "
	    "channel's desk");
	ok(k.on_shift >= k.contacts * 0.999, "on shift when it opens (%u of "
	    "%u)", k.on_shift, k.contacts);
	ok(k.region_match > k.contacts * 0.85, "mostly of the customer's "
	    "province (%.1f%%)", 100.0 * k.region_match / k.contacts);
	ok(k.case_reveals > k.reveals * 0.97 && k.case_reveals < k.reveals,
	    "people's legitimate reveals are under a case, all but a few "
	    "(%u of %u)",
	    k.case_reveals, k.reveals);
	ok(k.misses > k.lookups / 100 && k.misses < k.lookups / 10,
	    "agents mistype a number now and then (%u misses in %u "
	    "lookups)", k.misses, k.lookups);
	ok(k.self_legit > 50 && k.self_legit < k.contacts / 20, "a few "
	    "agents open cases for themselves (%u)", k.self_legit);

	o.surge_day = 2;
	o.surge = 3.0;
	w = world(&o);
	drive(w, &s);
	vg_sim_free(w);
	ok(s.by_day[2] > 2.6 * k.by_day[2] && s.by_day[2] < 3.4 * k.by_day[2],
	    "a surge triples day 2 (%u against %u)", s.by_day[2], k.by_day[2]);
	ok(s.by_day[3] > k.by_day[3] * 0.9 && s.by_day[3] < k.by_day[3] * 1.1,
	    "and leaves day 3 alone (%u, %u)", s.by_day[3], k.by_day[3]);
}

/*-----------------------------------------------------------------------------
 * Insiders
 */

#define CASES_MAX 200000

struct watch {
	uint32_t assignee[CASES_MAX];	/* by case number: who it went to */
	bool self[CASES_MAX];
	int64_t opened[CASES_MAX];
	uint32_t theft, bg, under_case, self_cases, quick, night;
	uint32_t own_region, other_region, misses, guesses, own_cases;
	uint32_t wide, per_day[8], per_hour_max, hour_n;
	int64_t first, hour_t;
	bool foreign_actor, early;
};

/* Watches principal p's theft under the ideal driver. */
static void
watch(struct vg_sim *w, uint32_t p, struct watch *k,
    enum vg_sim_result (*answer)(const struct vg_sim_action *, void *),
    void *ctx)
{
	const struct vg_sim_principal *pt;
	struct vg_sim_action a;
	size_t n;

	pt = vg_sim_principals(w, &n);
	memset(k, 0, sizeof(*k));
	while (vg_sim_next(w, &a) == 1) {
		enum vg_sim_result r = answer != NULL ? answer(&a, ctx) :
		    ideal(&a);

		if (a.kind == VG_SIM_CASE_OPEN && a.case_ref < CASES_MAX) {
			k->assignee[a.case_ref] = a.assignee;
			k->self[a.case_ref] = a.self_opened;
			k->opened[a.case_ref] = a.t_ns;
		}
		if (a.principal == p && a.theft) {
			int d = local_day(a.t_ns);

			k->theft++;
			if (k->first == 0)
				k->first = a.t_ns;
			k->early |= d < 1;
			k->foreign_actor |= a.actor != p;
			if (a.kind == VG_SIM_CASE_OPEN)
				k->self_cases += a.self_opened &&
				    a.assignee == a.actor;
			if (a.kind == VG_SIM_REVEAL) {
				if (d >= 0 && d < 8)
					k->per_day[d]++;
				if (a.t_ns - k->hour_t > HOUR) {
					k->hour_t = a.t_ns;
					k->hour_n = 0;
				}
				if (++k->hour_n > k->per_hour_max)
					k->per_hour_max = k->hour_n;
				k->bg += a.break_glass && a.case_ref == 0;
				k->under_case += a.case_ref != 0;
				if (a.case_ref != 0 && a.case_ref < CASES_MAX) {
					k->quick += k->self[a.case_ref] &&
					    a.t_ns - k->opened[a.case_ref] <
					    120 * NS;
					k->own_cases += k->assignee[a.case_ref] ==
					    a.actor && !k->self[a.case_ref];
				}
				k->night += local_hour(a.t_ns) >= 2 &&
				    local_hour(a.t_ns) < 5;
				if (strcmp(vg_sim_region(w, (uint32_t)a.customer),
				    pt[p].region) == 0)
					k->own_region++;
				else
					k->other_region++;
				k->wide += __builtin_popcount(a.fields) >= 3;
			}
			if (a.kind == VG_SIM_LOOKUP)
				k->misses += a.customer < 0;
			if (a.kind == VG_SIM_VIEW)
				k->guesses += a.customer < 0 && a.guess != 0;
		}
		vg_sim_outcome(w, &a, r);
	}
}

static struct vg_sim *
one(enum vg_strategy s, uint64_t seed)
{
	struct vg_sim_opts o = { 0 };

	o.customers = 20000;
	o.seed = seed;
	o.insiders[s] = 1;
	return world(&o);
}

static void
test_strategies(void)
{
	static struct watch k;
	struct vg_sim_truth tr;
	const struct vg_sim_principal *pt;
	struct vg_sim *w;
	size_t n;
	int32_t p;

	w = one(VG_STRAT_BULK, 3);
	p = insider(w, VG_STRAT_BULK, 0);
	pt = vg_sim_principals(w, &n);
	ok(p >= 0 && strcmp(pt[p].role, "agent") == 0 &&
	    strcmp(pt[p].shift, "Asia/Shanghai Mon-Fri 09:00-18:00") == 0,
	    "the bulk insider is a day-shift agent (%s)", p >= 0 ?
	    pt[p].id : "none");
	watch(w, (uint32_t)p, &k, NULL, NULL);
	vg_sim_truth(w, (uint32_t)p, &tr);
	ok(k.bg == k.theft && k.per_hour_max >= 300, "bulk: break-glass "
	    "reveals, hundreds an hour (%u at most)", k.per_hour_max);
	ok(!k.early && k.first >= (T0 + 86400) * NS, "from day 1, not "
	    "before");
	ok(tr.taken == k.theft && tr.would_take == k.theft && tr.attempted ==
	    k.theft, "truth: taken = attempted = would take = %u when "
	    "nothing is refused", k.theft);
	vg_sim_free(w);

	w = one(VG_STRAT_LOW_SLOW, 3);
	p = insider(w, VG_STRAT_LOW_SLOW, 0);
	watch(w, (uint32_t)p, &k, NULL, NULL);
	ok(k.bg == k.theft && k.per_day[1] >= 25 && k.per_day[1] <= 30 &&
	    k.per_day[5] == 0, "low and slow: about 30 break-glass reveals a "
	    "working day (%u on day 1), none at the weekend", k.per_day[1]);
	ok(k.other_region == 0 && k.own_region == k.theft, "customers of "
	    "its own province only");
	vg_sim_free(w);

	w = one(VG_STRAT_OFF_SHIFT, 3);
	p = insider(w, VG_STRAT_OFF_SHIFT, 0);
	watch(w, (uint32_t)p, &k, NULL, NULL);
	ok(k.under_case > 0 && k.night == k.under_case && k.bg == 0,
	    "off-shift: %u reveals between 02:00 and 05:00, all under cases",
	    k.under_case);
	ok(k.own_cases == k.under_case, "cases ticketing gave it during the "
	    "day");
	vg_sim_free(w);

	w = one(VG_STRAT_LAUNDER, 3);
	p = insider(w, VG_STRAT_LAUNDER, 0);
	watch(w, (uint32_t)p, &k, NULL, NULL);
	ok(k.self_cases >= 20 && k.quick == k.under_case && k.under_case ==
	    k.self_cases, "launder: %u cases opened for itself, each "
	    "revealed within two minutes", k.self_cases);
	vg_sim_free(w);

	w = one(VG_STRAT_VALIDATE, 3);
	p = insider(w, VG_STRAT_VALIDATE, 0);
	watch(w, (uint32_t)p, &k, NULL, NULL);
	ok(k.theft > 100 && k.misses > k.theft * 0.8 && k.misses <
	    k.theft * 0.97, "validate: %u lookups, %.0f%% misses", k.theft,
	    k.theft ? 100.0 * k.misses / k.theft : 0.0);
	vg_sim_free(w);

	w = one(VG_STRAT_ENUMERATE, 3);
	p = insider(w, VG_STRAT_ENUMERATE, 0);
	watch(w, (uint32_t)p, &k, NULL, NULL);
	vg_sim_truth(w, (uint32_t)p, &tr);
	ok(k.theft > 100 && k.guesses == k.theft, "enumerate: %u views of "
	    "guessed ids", k.theft);
	ok(tr.taken == 0 && tr.attempted == k.theft, "which take nothing");
	vg_sim_free(w);

	w = one(VG_STRAT_MIMIC, 3);
	p = insider(w, VG_STRAT_MIMIC, 0);
	watch(w, (uint32_t)p, &k, NULL, NULL);
	ok(k.theft > 10 && k.own_cases == k.theft && k.bg == 0,
	    "mimic: %u reveals, every one under its own real case", k.theft);
	ok(k.wide == k.theft, "each with all the purpose's fields");
	vg_sim_free(w);
}

static void
test_ring(void)
{
	struct vg_sim_opts o = { 0 };
	static struct watch k;
	const struct vg_sim_principal *pt;
	struct vg_sim *w;
	size_t n, i;
	int members = 0, dismissed = 0, orgs[3] = { 0 }, actors = 1;
	uint32_t total = 0, bg = 0, self = 0;

	o.customers = 20000;
	o.insiders[VG_STRAT_RING] = 1;
	o.ring_size = 12;
	w = world(&o);
	pt = vg_sim_principals(w, &n);
	for (i = 0; i < n; i++) {
		if (pt[i].strategy != VG_STRAT_RING)
			continue;
		members++;
		dismissed += pt[i].dismissed;
		orgs[0] += strcmp(pt[i].org, "hotline") == 0;
		orgs[1] += strcmp(pt[i].org, "voicebridge") == 0;
		orgs[2] += strcmp(pt[i].org, "teleserve") == 0;
	}
	is_int(members, 12, "a ring of 12");
	ok(orgs[0] == 4 && orgs[1] == 4 && orgs[2] == 4, "across three "
	    "call-centre vendors");
	is_int(dismissed, 1, "one of them dismissed");
	for (i = 0; i < n; i++) {
		if (pt[i].strategy != VG_STRAT_RING)
			continue;
		vg_sim_free(w);
		w = world(&o);
		pt = vg_sim_principals(w, &n);	/* the old table is gone */
		watch(w, (uint32_t)i, &k, NULL, NULL);
		total += k.theft;
		bg += k.bg;
		self += k.self_cases;
		if (pt[i].dismissed != k.foreign_actor)
			actors = 0;
		pt = vg_sim_principals(w, &n);
	}
	ok(actors, "the dismissed member acts only through another key, the "
	    "others through their own");
	ok(bg > 0 && self > 0 && total > 12 * 4 * 5, "members take a modest "
	    "share each: %u thefts, %u break-glass, %u self-opened cases",
	    total, bg, self);
	vg_sim_free(w);
}

/*-----------------------------------------------------------------------------
 * Outcomes feed back
 */

struct contain_at {
	uint32_t p;
	int after;			/* contain its n-th theft */
	int seen;
	int64_t when;
	uint32_t later;			/* its thefts after that */
	uint32_t others_later;		/* other insiders' thefts after */
};

static enum vg_sim_result
contain_nth(const struct vg_sim_action *a, void *ctx)
{
	struct contain_at *c = ctx;

	if (a->theft && a->principal != c->p && c->when != 0)
		c->others_later++;
	if (a->principal != c->p || !a->theft)
		return ideal(a);
	if (c->when != 0) {
		c->later++;
		return VG_SIM_CONTAINED;
	}
	if (++c->seen == c->after) {
		c->when = a->t_ns;
		return VG_SIM_CONTAINED;
	}
	return ideal(a);
}

static void
test_feedback(void)
{
	static struct watch k;
	struct contain_at c;
	struct vg_sim_truth tr;
	struct vg_sim_opts o = { 0 };
	struct vg_sim *w;
	int32_t p;

	w = one(VG_STRAT_BULK, 5);
	p = insider(w, VG_STRAT_BULK, 0);
	memset(&c, 0, sizeof(c));
	c.p = (uint32_t)p;
	c.after = 5;
	watch(w, (uint32_t)p, &k, contain_nth, &c);
	vg_sim_truth(w, (uint32_t)p, &tr);
	is_int(c.later, 0, "a contained bulk insider stops stealing");
	is_int(tr.taken, 4, "it took the 4 records before");
	is_int(tr.attempted, 5, "and tried 5");
	ok(tr.contained_ns == c.when && c.when != 0, "truth notes when it was "
	    "contained");
	ok(tr.would_take > 1000, "what it would have taken goes on: %llu",
	    (unsigned long long)tr.would_take);
	vg_sim_free(w);

	o.customers = 20000;
	o.insiders[VG_STRAT_RING] = 1;
	o.ring_size = 6;
	w = world(&o);
	p = insider(w, VG_STRAT_RING, 1);
	memset(&c, 0, sizeof(c));
	c.p = (uint32_t)p;
	c.after = 1;
	watch(w, (uint32_t)p, &k, contain_nth, &c);
	ok(c.later == 0 && c.others_later > 50, "one ring member contained: "
	    "it stops, the others go on (%u thefts)", c.others_later);
	vg_sim_free(w);
}

/*-----------------------------------------------------------------------------
 * The exporters: one export a working day, not reveals
 */

#define F_LABELS ((1u << 0) | (1u << 1) | (1u << 4))	/* name, phone,
							 * address */

/* n of "dmreach-xN", 0 for another id. */
static int
exporter_no(const char *id)
{
	const char *p = strstr(id, "-x");

	return p != NULL && p[2] >= '1' && p[2] <= '9' && p[3] == '\0' ?
	    p[2] - '0' : 0;
}

static void
test_exports(void)
{
	struct vg_sim_opts o = { 0 };
	const struct vg_sim_principal *pt;
	struct vg_sim_action a;
	struct vg_sim *w;
	uint8_t *seen;
	size_t n, i;
	int per[8][7], nexp = 0, reveals = 0, early = 0, shape = 0, dup = 0;
	int honey = 0, weekend = 0, twice = 0, missing = 0;
	uint32_t lo = UINT32_MAX, hi = 0;
	uint64_t rows = 0, nx = 0;

	o.customers = 20000;
	o.seed = 5;
	o.honey = 200;
	w = world(&o);
	pt = vg_sim_principals(w, &n);
	seen = calloc(o.customers, 1);
	memset(per, 0, sizeof(per));
	while (vg_sim_next(w, &a) == 1) {
		int d = local_day(a.t_ns), h = local_hour(a.t_ns), x;

		if (strcmp(pt[a.actor].role, "exporter") != 0) {
			vg_sim_outcome(w, &a, ideal(&a));
			continue;
		}
		if (a.kind != VG_SIM_EXPORT) {
			reveals++;
			vg_sim_outcome(w, &a, ideal(&a));
			continue;
		}
		/* The exporters are dmreach-x1, -x2, -x3. */
		x = exporter_no(pt[a.actor].id);
		nexp = x > nexp ? x : nexp;
		if (x >= 1 && x <= 8 && d >= 0 && d < 7)
			twice += per[x - 1][d]++ > 0;
		weekend += d % 7 >= 5;
		early += h != 9 || (a.t_ns / NS + 8 * 3600) % 3600 > 600;
		shape += a.fields == F_LABELS && a.purpose != NULL &&
		    strcmp(a.purpose, "delivery") == 0 && a.consumer != NULL &&
		    strcmp(a.consumer, "courier") == 0 && a.recipient != NULL &&
		    a.recipient[0] != '\0' && !a.theft && a.strategy ==
		    VG_STRAT_NONE && a.case_ref == 0 && a.principal == a.actor;
		if (a.rows < lo)
			lo = a.rows;
		if (a.rows > hi)
			hi = a.rows;
		rows += a.rows;
		nx++;
		for (i = 0; a.export_customers != NULL && i < a.rows; i++) {
			uint32_t c = a.export_customers[i];

			honey += vg_sim_is_honey(w, c);
			dup += seen[c] == 1;
			seen[c] = 1;
		}
		for (i = 0; i < o.customers; i++)
			seen[i] = 0;
		missing += a.export_customers == NULL;
		vg_sim_outcome(w, &a, VG_SIM_OK);
	}
	vg_sim_free(w);
	free(seen);
	is_int(reveals, 0, "the exporters reveal nothing, nor look anyone up");
	is_int((int)nx, 15, "three exporters, one export each working day of "
	    "the week");
	ok(twice == 0 && weekend == 0 && early == 0, "one a day each, "
	    "between 09:00 and 09:10 local, none at the weekend");
	is_int(shape, 15, "each for the courier, purpose delivery, name, phone "
	    "and address, legitimate work without a case");
	ok(lo >= 180 && hi <= 360 && rows >= 15 * 240 && rows <= 15 * 295,
	    "as many customers as a day of labels at one every two minutes "
	    "from 09:00 to 18:00: %u to %u, %.1f a file", lo, hi,
	    nx ? (double)rows / (double)nx : 0.0);
	ok(missing == 0 && dup == 0 && honey == 0, "the customers of a file "
	    "are distinct and never a honeytoken");
}

/* The driver's export entries, as lib/export.c writes them. */
struct xrec {
	uint64_t rows, manifests, denies, others, bad_row, bad_manifest;
	uint64_t reveals, exporter_reveals;
	uint64_t want_rows;		/* the actions' rows */
	uint64_t actions, ok, denied, id_match, cust_match;
	char id[64];			/* of the current export's rows */
	unsigned char (*cust)[VG_IDBYTES];	/* the current action's */
	size_t ncust, k;
	const struct vg_sim_principal *pt;
	size_t np;
	char deny_reason[VG_AUDIT_STR_MAX + 1];
	char deny_detail[VG_AUDIT_STR_MAX + 1];
};

/* The value of key in a "k=v,k=v" detail, into out; false when absent. */
static bool
detail_value(const char *detail, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	const char *p = detail;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, ",");

			if (n >= cap)
				return false;
			memcpy(out, p + kl + 1, n);
			out[n] = '\0';
			return true;
		}
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return false;
}

static void
export_record(void *ctx, const struct vg_audit_record *r)
{
	struct xrec *x = ctx;
	char v[128], id[64];

	if (strcmp(r->action, "reveal") == 0 && strcmp(r->decision,
	    "allow") == 0) {
		x->reveals++;
		x->exporter_reveals += strncmp(r->principal, "dmreach-", 8) ==
		    0;
	}
	if (strcmp(r->action, "export.row") == 0) {
		x->rows++;
		if (!detail_value(r->detail, "export", id, sizeof(id)) ||
		    strncmp(id, "ex_", 3) != 0 || !detail_value(r->detail,
		    "region", v, sizeof(v)) || strncmp(v, "CN-", 3) != 0 ||
		    strcmp(r->decision, "allow") != 0 || !r->has_customer ||
		    strcmp(r->fields, "name,phone,address") != 0 ||
		    strcmp(r->purpose, "delivery") != 0 ||
		    strncmp(r->principal, "dmreach-x", 9) != 0 ||
		    r->case_id[0] != '\0')
			x->bad_row++;
		if (x->id[0] == '\0')
			snprintf(x->id, sizeof(x->id), "%s", id);
		x->id_match += strcmp(x->id, id) == 0;
		if (x->manifests == 0 && x->k < x->ncust)
			x->cust_match += memcmp(r->customer, x->cust[x->k],
			    VG_IDBYTES) == 0;
		x->k++;
		return;
	}
	if (strcmp(r->action, "export") != 0)
		return;
	if (strcmp(r->decision, "deny") == 0) {
		x->denies++;
		snprintf(x->deny_reason, sizeof(x->deny_reason), "%s",
		    r->reason);
		snprintf(x->deny_detail, sizeof(x->deny_detail), "%s",
		    r->detail);
		return;
	}
	x->manifests++;
	{
		char rows[32], can[32], set[64];
		unsigned long long nr = 0, nc = 0;
		size_t i, hex = 0;

		if (!detail_value(r->detail, "export", id, sizeof(id)) ||
		    strcmp(id, x->id) != 0 ||
		    !detail_value(r->detail, "consumer", v, sizeof(v)) ||
		    strcmp(v, "courier") != 0 ||
		    !detail_value(r->detail, "recipient", v, sizeof(v)) ||
		    v[0] == '\0' ||
		    !detail_value(r->detail, "rows", rows, sizeof(rows)) ||
		    !detail_value(r->detail, "canaries", can, sizeof(can)) ||
		    !detail_value(r->detail, "canary_set", set, sizeof(set)) ||
		    r->has_customer || strcmp(r->fields,
		    "name,phone,address") != 0)
			x->bad_manifest++;
		else {
			nr = strtoull(rows, NULL, 10);
			nc = strtoull(can, NULL, 10);
			for (i = 0; set[i] != '\0'; i++)
				hex += strchr("0123456789abcdef", set[i]) !=
				    NULL;
			if (nr != x->k || (x->manifests == 1 &&
			    nr != x->ncust) ||
			    nc != vg_export_canary_count(nr) || hex != 32 ||
			    i != 32)
				x->bad_manifest++;
		}
	}
	x->id[0] = '\0';
	x->k = 0;
}

static void
export_action(void *ctx, const struct vg_sim_action *a, enum vg_sim_result r)
{
	struct xrec *x = ctx;

	if (a->kind != VG_SIM_EXPORT)
		return;
	x->actions++;
	x->ok += r == VG_SIM_OK;
	x->denied += r == VG_SIM_DENIED;
	x->want_rows += a->rows;
}

/* Before the action: the customer ids its rows will carry. */
static int
run_exports(const char *policy, struct xrec *x, struct vg_sim_report *rep)
{
	struct vg_sim_opts o = { 0 };
	struct vg_sim_run_opts ro;
	struct vg_sim_action a;
	struct vg_sim *w, *w2;
	char err[256];
	size_t i;
	int rc;

	o.customers = 20000;
	o.seed = 9;
	o.days = 2;
	w = world(&o);
	/* A twin world (the same seed) gives the same actions: its exports'
	 * customers are what the driver's rows must name. */
	w2 = world(&o);
	memset(x, 0, sizeof(*x));
	x->cust = calloc(4096, sizeof(*x->cust));
	while (vg_sim_next(w2, &a) == 1) {
		if (a.kind == VG_SIM_EXPORT && x->ncust == 0)
			for (i = 0; i < a.rows && i < 4096; i++)
				vg_sim_customer_id(w2,
				    a.export_customers[i], x->cust[x->ncust++]);
		vg_sim_outcome(w2, &a, ideal(&a));
		if (x->ncust > 0)
			break;
	}
	vg_sim_free(w2);
	x->pt = vg_sim_principals(w, &x->np);
	memset(&ro, 0, sizeof(ro));
	if (policy != NULL) {
		ro.policy = policy;
		ro.policy_len = strlen(policy);
		ro.policy_name = "test.yaml";
	}
	ro.record = export_record;
	ro.record_ctx = x;
	ro.action = export_action;
	ro.action_ctx = x;
	rc = vg_sim_run(w, &ro, rep, err, sizeof(err));
	if (rc != 0)
		printf("# vg_sim_run: %s\n", err);
	vg_sim_free(w);
	return rc;
}

static void
test_export_driver(void)
{
	static struct xrec x;
	struct vg_sim_report rep;
	size_t len;
	const char *text = vg_sim_policy_text(&len);
	char *nocons;
	const char *cut;

	is_int(run_exports(NULL, &x, &rep), 0, "vg_sim_run with exporters");
	is_int((int)x.actions, 6, "three exporters, two working days: six "
	    "exports");
	ok(x.ok == 6 && rep.exports == 6 && rep.export_rows == x.want_rows,
	    "each allowed under the sim policy, and reported: %llu exports, "
	    "%llu customers", (unsigned long long)rep.exports,
	    (unsigned long long)rep.export_rows);
	ok(x.rows == x.want_rows && x.manifests == 6 && x.denies == 0,
	    "one export.row entry per customer (%llu) and one manifest each",
	    (unsigned long long)x.rows);
	is_int((int)x.bad_row, 0, "rows: the exporter, the customer, name, "
	    "phone and address in clear, delivery, export=ID,region=XX");
	is_int((int)x.bad_manifest, 0, "manifests after their rows: export, "
	    "consumer, recipient, rows, canaries (vg_export_canary_count) "
	    "and a 32-hex canary_set");
	ok(x.id_match == x.rows, "the rows of an export name it");
	ok(x.cust_match == x.ncust && x.ncust > 100, "its customers are the "
	    "world's draw (%zu of the first export)", x.ncust);
	ok(x.exporter_reveals == 0 && rep.legit_reveals == x.reveals,
	    "exports are not reveals: legitimate reveals %llu, all by "
	    "people", (unsigned long long)rep.legit_reveals);
	ok(rep.legit_staff_reveals == rep.legit_reveals, "and so all of "
	    "them people's");
	vg_sim_report_release(&rep);
	free(x.cust);

	/* The same policy without its consumers: each export refused. */
	cut = strstr(text, "\nconsumers:");
	nocons = malloc(len + 1);
	if (cut == NULL || nocons == NULL) {
		ok(0, "the sim policy lists consumers");
		free(nocons);
		return;
	}
	memcpy(nocons, text, (size_t)(cut - text) + 1);
	nocons[cut - text + 1] = '\0';
	is_int(run_exports(nocons, &x, &rep), 0, "a policy without consumers");
	ok(x.denied == 6 && x.denies == 6 && x.rows == 0 && x.manifests == 0 &&
	    rep.exports == 0, "every export refused: one deny entry each, no "
	    "row, no manifest");
	is_str(x.deny_reason, "consumer_not_allowed", "the reason");
	ok(strncmp(x.deny_detail, "consumer=courier,recipient=", 27) == 0 &&
	    strstr(x.deny_detail, ",rows=") != NULL, "the detail: consumer, "
	    "recipient, rows (%s)", x.deny_detail);
	vg_sim_report_release(&rep);
	free(x.cust);
	free(nocons);
}

/*-----------------------------------------------------------------------------
 * Determinism and the driver
 */

static void
stream_hash(uint64_t seed, unsigned char out[32], uint64_t *n, uint64_t *nx)
{
	struct vg_sim_opts o = { 0 };
	crypto_generichash_state st;
	struct vg_sim_action a;
	struct vg_sim *w;
	int s;

	o.customers = 20000;
	o.seed = seed;
	o.days = 3;
	for (s = 1; s < VG_STRAT_COUNT; s++)
		o.insiders[s] = 1;
	o.ring_size = 6;
	w = world(&o);
	crypto_generichash_init(&st, NULL, 0, 32);
	*n = *nx = 0;
	while (vg_sim_next(w, &a) == 1) {
		int64_t v[11] = { a.t_ns, a.kind, a.actor, a.principal,
		    a.customer, a.case_ref, a.assignee, a.fields,
		    a.break_glass | a.theft << 1 | a.self_opened << 2,
		    (int64_t)a.guess, a.rows };

		crypto_generichash_update(&st, (const unsigned char *)v,
		    sizeof(v));
		if (a.kind == VG_SIM_EXPORT && a.export_customers != NULL)
			crypto_generichash_update(&st, (const unsigned char *)
			    a.export_customers, a.rows *
			    sizeof(*a.export_customers));
		*nx += a.kind == VG_SIM_EXPORT;
		(*n)++;
		vg_sim_outcome(w, &a, ideal(&a));
	}
	crypto_generichash_final(&st, out, 32);
	vg_sim_free(w);
}

struct alerts_hash {
	crypto_generichash_state st;
	uint64_t n, truth, records, contain, region, bg, self, miss;
	char json[VG_ALERT_JSON_MAX];
};

static void
hash_alert(void *ctx, const struct vg_alert *a, int32_t p, bool truth)
{
	struct alerts_hash *h = ctx;
	int len = vg_alert_json(a, h->json, sizeof(h->json));

	(void)p;
	if (len > 0)
		crypto_generichash_update(&h->st, (unsigned char *)h->json,
		    (size_t)len);
	h->n++;
	h->truth += truth;
}

/* The driver's records follow vigild's conventions (src/vigild/api.c). */
static void
check_record(void *ctx, const struct vg_audit_record *r)
{
	struct alerts_hash *h = ctx;

	h->records++;
	if (strcmp(r->action, "detect.contain") == 0)
		h->contain += strcmp(r->principal, "detector") == 0 &&
		    strncmp(r->detail, "target=", 7) == 0;
	if (strcmp(r->action, "reveal") == 0 && strcmp(r->decision,
	    "allow") == 0) {
		h->region += strstr(r->detail, "region=CN-") != NULL;
		h->bg += strncmp(r->detail, "break_glass=1,"
		    "justification_bytes=", 33) == 0 && r->case_id[0] == '\0';
	}
	if (strcmp(r->action, "case.open") == 0 && strstr(r->detail,
	    ",self_opened=1") != NULL)
		h->self += strncmp(r->detail, "assignee=", 9) == 0 &&
		    strncmp(r->case_id, "case_", 5) == 0;
	if (strcmp(r->action, "lookup") == 0 && strcmp(r->decision, "miss") ==
	    0)
		h->miss += !r->has_customer && strcmp(r->reason, "not_found") ==
		    0;
}

static int
run_hash(uint64_t seed, unsigned char out[32], struct alerts_hash *h,
    struct vg_sim_report *rep)
{
	struct vg_sim_opts o = { 0 };
	struct vg_sim_run_opts ro;
	struct vg_sim *w;
	char err[256];
	int rc;

	o.customers = 20000;
	o.seed = seed;
	o.days = 4;
	o.insiders[VG_STRAT_BULK] = 1;
	o.insiders[VG_STRAT_VALIDATE] = 1;
	o.insiders[VG_STRAT_LAUNDER] = 1;
	w = world(&o);
	memset(h, 0, sizeof(*h));
	crypto_generichash_init(&h->st, NULL, 0, 32);
	memset(&ro, 0, sizeof(ro));
	ro.alert = hash_alert;
	ro.alert_ctx = h;
	ro.record = check_record;
	ro.record_ctx = h;
	rc = vg_sim_run(w, &ro, rep, err, sizeof(err));
	if (rc != 0)
		printf("# vg_sim_run: %s\n", err);
	crypto_generichash_final(&h->st, out, 32);
	vg_sim_free(w);
	return rc;
}

static void
test_determinism(void)
{
	unsigned char a[32], b[32], c[32];
	static struct alerts_hash h1, h2;
	struct vg_sim_report r1, r2;
	uint64_t na, nb, nc, xa, xb, xc;
	size_t i;
	int bulk_ok = 0, all_ok = 1, sum = 0;

	stream_hash(11, a, &na, &xa);
	stream_hash(11, b, &nb, &xb);
	stream_hash(12, c, &nc, &xc);
	ok(na == nb && memcmp(a, b, 32) == 0 && na > 10000, "the same seed "
	    "gives the same %llu actions", (unsigned long long)na);
	ok(xa == xb && xa == 9, "among them the same %llu exports, row for "
	    "row", (unsigned long long)xa);
	ok(memcmp(a, c, 32) != 0, "another seed other actions");

	is_int(run_hash(21, a, &h1, &r1), 0, "vg_sim_run runs a world");
	is_int(run_hash(21, b, &h2, &r2), 0, "twice");
	ok(h1.n > 0 && h1.n == h2.n && memcmp(a, b, 32) == 0, "the same seed "
	    "raises the same %llu alerts, byte for byte",
	    (unsigned long long)h1.n);
	ok(r1.actions == r2.actions && r1.entries == r2.entries &&
	    r1.false_alerts == r2.false_alerts, "and the same report");
	ok(h1.truth >= 3, "the three insiders are alerted (%llu true alerts)",
	    (unsigned long long)h1.truth);
	for (i = 0; i < VG_SIM_RESULTS; i++)
		sum += (int)r1.results[i];
	ok((uint64_t)sum == r1.actions && r1.entries == h1.records &&
	    r1.entries >= r1.actions - r1.results[VG_SIM_MISS], "every "
	    "action answered, and audited (%llu records)",
	    (unsigned long long)r1.entries);
	ok(h1.contain == r1.contained && r1.contained >= 3, "each "
	    "containment a detect.contain record first (%llu)",
	    (unsigned long long)h1.contain);
	ok(h1.region > 1000 && h1.bg > 0 && h1.self > 0 && h1.miss > 0,
	    "records as vigild writes them: region, break-glass detail, "
	    "self-opened cases, misses");
	for (i = 0; i < r1.ninsiders; i++) {
		const struct vg_sim_insider_report *ir = &r1.insider[i];

		if (ir->strategy == VG_STRAT_BULK)
			bulk_ok = ir->contained_ns != 0 &&
			    ir->truth.taken < 50 && ir->truth.would_take > 300;
		all_ok &= ir->first_alert_ns != 0 && ir->first_alert_ns >=
		    ir->truth.first_action_ns;
	}
	is_int(r1.ninsiders, 3, "three insiders in the report");
	ok(bulk_ok, "the bulk harvester is contained before 50 records");
	ok(all_ok, "each is alerted after its first theft");
	ok(r1.legit_staff_case_reveals > r1.legit_staff_reveals * 0.97,
	    "people's legitimate reveals are under cases");
	vg_sim_report_release(&r1);
	vg_sim_report_release(&r2);
	vg_sim_report_release(&r2);
}

static void
test_policy_file(void)
{
	const char *root = getenv("ROOT");
	char path[4096], *buf;
	size_t len, n;
	const char *text = vg_sim_policy_text(&len);
	FILE *fp;

	snprintf(path, sizeof(path), "%s/etc/sim-policy.yaml", root != NULL ?
	    root : ".");
	fp = fopen(path, "rb");
	buf = malloc(len + 2);
	n = fp != NULL && buf != NULL ? fread(buf, 1, len + 1, fp) : 0;
	ok(n == len && memcmp(buf, text, len) == 0, "the built-in policy is "
	    "etc/sim-policy.yaml, byte for byte");
	if (fp != NULL)
		fclose(fp);
	free(buf);
}

static void
test_bad_options(void)
{
	struct vg_sim_opts o;
	struct vg_sim *w = NULL;
	char err[256];
	int rc;

#define BAD(field, value, words) do {					\
	memset(&o, 0, sizeof(o));					\
	o.customers = 20000;						\
	o.field = value;						\
	err[0] = '\0';							\
	rc = vg_sim_new(&o, &w, err, sizeof(err));			\
	ok(rc == VG_EINVAL && w == NULL && strstr(err, words) != NULL,	\
	    #field " = " #value ": VG_EINVAL, \"%s\"", err);		\
} while (0)
	BAD(principals, 10, "principals");
	BAD(days, 61, "days");
	BAD(ring_size, 2, "ring");
	BAD(honey, 20000, "honey");
	BAD(insiders[VG_STRAT_BULK], 300, "insiders");
	BAD(insiders[VG_STRAT_NONE], 1, "insiders");
	BAD(customers, 20000000, "customers");
#undef BAD
	memset(&o, 0, sizeof(o));
	o.customers = 20000;
	o.surge = 3.0;
	o.surge_day = 7;
	rc = vg_sim_new(&o, &w, err, sizeof(err));
	ok(rc == VG_EINVAL && strstr(err, "surge") != NULL, "a surge after "
	    "the last day: \"%s\"", err);
	memset(&o, 0, sizeof(o));
	o.customers = 20000;
	o.principals = 60;
	o.insiders[VG_STRAT_RING] = 1;
	o.ring_size = 15;
	rc = vg_sim_new(&o, &w, err, sizeof(err));
	ok(rc == 0 && w != NULL, "the smallest world holds a ring of 15");
	vg_sim_free(w);
	is_str(vg_strategy_name(VG_STRAT_LOW_SLOW), "low_slow", "strategy "
	    "names");
	is_int(vg_strategy_from_name("mimic"), VG_STRAT_MIMIC, "and back");
	is_int(vg_strategy_from_name("nope"), -1, "an unknown one is -1");
	ok(vg_strategy_name(VG_STRAT_COUNT) == NULL, "out of range: NULL");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_table();
	test_customers();
	test_contacts();
	test_strategies();
	test_ring();
	test_feedback();
	test_exports();
	test_export_driver();
	test_determinism();
	test_policy_file();
	test_bad_options();
	return done_testing();
}
