/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated world of vigil/sim.h: principals (the company "acme"
 * and eight vendors, regional queues, shifts), customers from the
 * generator, the contact process, the ticketing system, agents'
 * handling of each case (with honest mistakes), supervisors'
 * escalations and approvals, the systems' background work, and the
 * event queue that puts all of it in time order.  The insiders'
 * strategies are lib/sim_insider.c; the in-process driver is
 * lib/sim_run.c; lib/sim_int.h holds the state they share.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/region.h"
#include "sim_int.h"
#include "mix.h"
#include "textbuf.h"

#define START_DEFAULT 1799020800	/* 2027-01-04 00:00 UTC, a Monday */
#define MARGIN_NS (20 * MIN_NS)		/* routing prefers this much shift */
#define SAMPLE 32			/* agents tried by a fallback route */

static const char *const strat_name[VG_STRAT_COUNT] = {
	"none", "bulk", "low_slow", "off_shift", "launder", "validate",
	"enumerate", "ring", "mimic",
};

static const char *const shift_text[SK_COUNT] = {
	"",
	"Asia/Shanghai Mon-Fri 09:00-18:00",
	"Asia/Shanghai Mon-Fri 14:00-23:00",
	"Asia/Shanghai Sat,Sun 09:00-18:00",
};

static const char *const channel_name[CH_COUNT] = {
	"phone", "chat", "email", "store",
};

static const char *const purpose_name[PU_COUNT] = {
	"support", "delivery", "account_recovery", "escalation",
	"investigation",
};

/* The fields each purpose grants agents (etc/sim-policy.yaml). */
static const uint32_t purpose_fields[PU_COUNT] = {
	F_NAME | F_PHONE | F_EMAIL,
	F_NAME | F_PHONE | F_ADDRESS,
	F_NAME | F_EMAIL | F_ACCOUNT,
	F_NAME | F_PHONE | F_EMAIL | F_ACCOUNT,
	F_NAME | F_PHONE | F_EMAIL | F_ACCOUNT | F_ADDRESS,
};

/* Org units: who serves which channel, and their share of the agents
 * (percent).  acme has two units; the direct-marketing vendor has no
 * agents, only its exporters. */
struct unit {
	const char *org, *kind;
	uint8_t group, purpose;
	uint8_t weight;
};

static const struct unit units[] = {
	{ "acme", "employee", CG_PHONE, PU_SUPPORT, 6 },
	{ "acme", "employee", CG_CHAT, PU_SUPPORT, 12 },
	/* Three call-centre outsourcers. */
	{ "hotline", "vendor", CG_PHONE, PU_SUPPORT, 17 },
	{ "voicebridge", "vendor", CG_PHONE, PU_SUPPORT, 14 },
	{ "teleserve", "vendor", CG_PHONE, PU_SUPPORT, 12 },
	/* A logistics partner answering delivery calls. */
	{ "shipfast", "vendor", CG_PHONE, PU_DELIVERY, 6 },
	/* An outsourced chat and e-mail desk. */
	{ "chatcloud", "vendor", CG_CHAT, PU_SUPPORT, 18 },
	/* Two repair-service suppliers at the stores. */
	{ "fixit", "vendor", CG_STORE, PU_DELIVERY, 8 },
	{ "careplus", "vendor", CG_STORE, PU_DELIVERY, 7 },
};
#define NUNITS (sizeof(units) / sizeof(units[0]))
#define DM_ORG "dmreach"	/* the direct-marketing vendor */

/* Contacts by local hour (weekdays, weekends) and weekday, x100. */
static const uint8_t prof_wd[24] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 70, 100, 100,
	70, 80, 100, 100, 90, 80, 50, 45, 40, 35, 25, 0,
};
static const uint8_t prof_we[24] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 30, 30, 30,
	30, 30, 30, 30, 30, 30, 0, 0, 0, 0, 0, 0,
};
static const uint8_t prof_dow[7] = { 115, 100, 100, 100, 95, 100, 100 };
static const uint8_t channel_w[CH_COUNT] = { 55, 20, 10, 15 };

/*-----------------------------------------------------------------------------
 * Randomness: splitmix64 seeds a xoshiro256** per stream
 */

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
vg__sim_rnd(struct vg_sim *w, int stream)
{
	uint64_t *s = w->r[stream].s;
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform in [0, n), unbiased (Lemire); 0 when n is 0. */
uint32_t
vg__sim_below(struct vg_sim *w, int stream, uint32_t n)
{
	uint64_t m;
	uint32_t l, t;

	if (n == 0)
		return 0;
	m = (uint64_t)(uint32_t)(vg__sim_rnd(w, stream) >> 32) * n;
	l = (uint32_t)m;
	if (l < n) {
		t = (uint32_t)(-n) % n;
		while (l < t) {
			m = (uint64_t)(uint32_t)(vg__sim_rnd(w, stream) >> 32) * n;
			l = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

/* Uniform in [0, 1). */
double
vg__sim_unif(struct vg_sim *w, int stream)
{
	return (double)(vg__sim_rnd(w, stream) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [lo, hi] (ns). */
int64_t
vg__sim_between(struct vg_sim *w, int stream, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)(vg__sim_unif(w, stream) * (double)(hi - lo));
}

/* Exponential with the given mean. */
static double
expo(struct vg_sim *w, int stream, double mean)
{
	return -log(1.0 - vg__sim_unif(w, stream)) * mean;
}

/*-----------------------------------------------------------------------------
 * Names and time
 */

const char *
vg_strategy_name(enum vg_strategy s)
{
	if ((int)s < 0 || s >= VG_STRAT_COUNT)
		return NULL;
	return strat_name[s];
}

int
vg_strategy_from_name(const char *s)
{
	int i;

	for (i = 0; i < VG_STRAT_COUNT; i++)
		if (strcmp(strat_name[i], s) == 0)
			return i;
	return -1;
}

const char *
vg__sim_purpose_name(int pu)
{
	return pu >= 0 && pu < PU_COUNT ? purpose_name[pu] : "support";
}

uint32_t
vg__sim_purpose_fields(int pu)
{
	return pu >= 0 && pu < PU_COUNT ? purpose_fields[pu] : 0;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The local midnight at or before t. */
int64_t
vg__sim_local_midnight(int64_t t)
{
	return floor_div(t + LOCAL_NS, DAY_NS) * DAY_NS - LOCAL_NS;
}

/* 0 Monday .. 6 Sunday, local. */
int
vg__sim_weekday(int64_t t)
{
	return (int)((floor_div(t + LOCAL_NS, DAY_NS) % 7 + 7 + 3) % 7);
}

/* Local days since the start's local day. */
int
vg__sim_local_day(const struct vg_sim *w, int64_t t)
{
	return (int)(floor_div(t + LOCAL_NS, DAY_NS) -
	    floor_div(w->t0 + LOCAL_NS, DAY_NS));
}

static int
local_hour(int64_t t)
{
	return (int)(floor_div(t + LOCAL_NS, HOUR_NS) % 24);
}

static bool
on_shift(const struct vg_sim *w, int k, int64_t t)
{
	return k != SK_NONE && vg_shift_contains(&w->shift[k],
	    floor_div(t, NS)) == 1;
}

/* Whether p's shift covers the local day starting at day0 (all the
 * world's shifts include 15:00 of the days they work). */
bool
vg__sim_works(const struct vg_sim *w, uint32_t p, int64_t day0)
{
	return on_shift(w, w->pi[p].skind, day0 + 15 * HOUR_NS);
}

/*-----------------------------------------------------------------------------
 * The event queue: a binary heap on (t, n)
 */

static bool
ev_before(const struct ev *a, const struct ev *b)
{
	return a->t != b->t ? a->t < b->t : a->n < b->n;
}

int
vg__sim_push(struct vg_sim *w, int64_t t, uint32_t kind, uint32_t who,
    uint32_t arg)
{
	struct ev e;
	size_t i;

	if (t >= w->end)
		return 0;	/* beyond the horizon: never happens */
	if (t < w->t0)
		t = w->t0;
	if (w->nh == w->hcap) {
		size_t nc = w->hcap ? w->hcap * 2 : 1024;
		struct ev *nh = realloc(w->h, nc * sizeof(*nh));

		if (nh == NULL)
			return w->err = VG_ENOMEM;
		w->h = nh;
		w->hcap = nc;
	}
	e.t = t;
	e.n = w->nev++;
	e.kind = kind;
	e.who = who;
	e.arg = arg;
	i = w->nh++;
	while (i > 0 && ev_before(&e, &w->h[(i - 1) / 2])) {
		w->h[i] = w->h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	w->h[i] = e;
	return 0;
}

static void
pop(struct vg_sim *w, struct ev *out)
{
	struct ev last;
	size_t i = 0;

	*out = w->h[0];
	last = w->h[--w->nh];
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < w->nh && ev_before(&w->h[l], &last))
			m = l;
		if (l + 1 < w->nh && ev_before(&w->h[l + 1],
		    m == i ? &last : &w->h[l]))
			m = l + 1;
		if (m == i)
			break;
		w->h[i] = w->h[m];
		i = m;
	}
	if (w->nh > 0)
		w->h[i] = last;
}

/*-----------------------------------------------------------------------------
 * Principals
 */


static int
add_principal(struct vg_sim *w, const char *id, const char *org,
    const char *kind, const char *role, int region, int skind)
{
	struct vg_sim_principal *p = &w->pt[w->np];
	struct pinfo *pi = &w->pi[w->np];

	memset(p, 0, sizeof(*p));
	memset(pi, 0, sizeof(*pi));
	copy_str(p->id, sizeof(p->id), id);
	copy_str(p->org, sizeof(p->org), org);
	copy_str(p->kind, sizeof(p->kind), kind);
	copy_str(p->role, sizeof(p->role), role);
	if (region >= 0)
		copy_str(p->region, sizeof(p->region), vg_provinces[region].code);
	copy_str(p->shift, sizeof(p->shift), shift_text[skind]);
	p->ring = -1;
	pi->skind = (uint8_t)skind;
	pi->group = CG_NONE;
	pi->region = region >= 0 ? (uint8_t)region : NO_REGION;
	pi->ins = -1;
	pi->speed = 1.0;
	return (int)w->np++;
}

/* The province at quantile q of the population. */
static int
province_at(double q)
{
	uint64_t total = 0, acc = 0, x;
	int i;

	for (i = 0; i < NPROV; i++)
		total += vg_provinces[i].population;
	x = (uint64_t)(q * (double)total);
	for (i = 0; i < NPROV; i++) {
		acc += vg_provinces[i].population;
		if (x < acc)
			return i;
	}
	return NPROV - 1;
}

/* Agent j of a unit: 11 in 20 work days, 5 evenings, 4 weekends. */
static int
agent_skind(uint32_t j)
{
	uint32_t s = j % 20;

	return s < 11 ? SK_DAY : s < 16 ? SK_EVENING : SK_WEEKEND;
}

static int
make_principals(struct vg_sim *w)
{
	uint32_t P = w->o.principals, nsec, nexp, rest, agents;
	uint32_t per_unit[NUNITS], per_org[NUNITS], org_of[NUNITS];
	uint32_t num_org[NUNITS], sup_org[NUNITS];
	uint32_t n_uk[NUNITS][SK_COUNT], m_uk[NUNITS][SK_COUNT];
	size_t u, norgs = 0, cap;
	double rem[NUNITS];
	uint32_t given = 0, i, j;
	char id[VG_PRINCIPAL_ID_MAX + 1];
	int p;

	nsec = 1 + P / 250;
	nexp = P >= 300 ? 3 : 1;
	rest = P - 2 - nsec - nexp;
	agents = (uint32_t)((double)rest * 20.0 / 21.0 + 0.5);
	/* Agents by unit weight, largest remainder, one at least each. */
	for (u = 0; u < NUNITS; u++) {
		double x = (double)agents * units[u].weight / 100.0;

		per_unit[u] = (uint32_t)x;
		if (per_unit[u] == 0)
			per_unit[u] = 1;
		rem[u] = x - (double)(uint32_t)x;
		given += per_unit[u];
	}
	while (given < agents) {
		size_t best = 0;

		for (u = 1; u < NUNITS; u++)
			if (rem[u] > rem[best])
				best = u;
		per_unit[best]++;
		rem[best] = -1;
		given++;
	}
	/* Orgs in unit order; supervisors, one per 20 agents. */
	for (u = 0; u < NUNITS; u++) {
		size_t k;

		for (k = 0; k < norgs; k++)
			if (strcmp(units[org_of[k]].org, units[u].org) == 0)
				break;
		if (k == norgs) {
			org_of[norgs] = (uint32_t)u;
			per_org[norgs] = 0;
			norgs++;
		}
		per_org[k] += per_unit[u];
		num_org[u] = (uint32_t)k;
	}
	cap = 2 + nsec + nexp + given;
	for (u = 0; u < norgs; u++) {
		sup_org[u] = (per_org[u] + 19) / 20;
		cap += sup_org[u];
	}
	w->pt = calloc(cap, sizeof(*w->pt));
	w->pi = calloc(cap, sizeof(*w->pi));
	w->sup = calloc(cap, sizeof(*w->sup));
	w->agents = calloc(cap, sizeof(*w->agents));
	if (w->pt == NULL || w->pi == NULL || w->sup == NULL ||
	    w->agents == NULL)
		return VG_ENOMEM;

	w->ticketing = (uint32_t)add_principal(w, "ticketing", "acme",
	    "system", "ticketing", -1, SK_NONE);
	(void)add_principal(w, "ingest", "acme", "system", "ingest", -1,
	    SK_NONE);
	for (i = 0; i < nsec; i++) {
		snprintf(id, sizeof(id), "acme-sec%u", i + 1);
		(void)add_principal(w, id, "acme", "employee", "security", -1,
		    SK_NONE);
	}
	memset(n_uk, 0, sizeof(n_uk));
	memset(m_uk, 0, sizeof(m_uk));
	for (u = 0; u < NUNITS; u++)
		for (j = 0; j < per_unit[u]; j++)
			n_uk[u][agent_skind(j)]++;
	for (i = 0; i < norgs; i++) {
		const struct unit *ou = &units[org_of[i]];
		uint16_t sup0 = (uint16_t)w->nsup;
		uint32_t an = 0, k;

		for (k = 0; k < sup_org[i]; k++) {
			static const uint8_t sk[4] = { SK_DAY, SK_EVENING,
			    SK_DAY, SK_WEEKEND };

			snprintf(id, sizeof(id), "%s-s%02u", ou->org, k + 1);
			p = add_principal(w, id, ou->org, ou->kind,
			    "supervisor", -1, sk[k % 4]);
			w->pi[p].org = (uint8_t)i;
			w->sup[w->nsup++] = (uint32_t)p;
		}
		for (u = 0; u < NUNITS; u++) {
			if (num_org[u] != i)
				continue;
			for (j = 0; j < per_unit[u]; j++) {
				int sk = agent_skind(j);
				double q = ((double)m_uk[u][sk]++ + 0.5) /
				    (double)n_uk[u][sk] + 0.137 * (double)u;
				struct pinfo *pp;

				q -= floor(q);
				snprintf(id, sizeof(id), "%s-a%04u", ou->org,
				    ++an);
				p = add_principal(w, id, ou->org, ou->kind,
				    "agent", province_at(q), sk);
				pp = &w->pi[p];
				pp->agent = true;
				pp->org = (uint8_t)i;
				pp->group = units[u].group;
				pp->purpose = units[u].purpose;
				pp->speed = 0.75 + 0.5 * vg__sim_unif(w,
				    RS_WORK);
				pp->outbound = vg__sim_unif(w, RS_WORK) < 0.05;
				w->agents[w->nagents++] = (uint32_t)p;
			}
		}
		for (k = sup0; k < w->nsup; k++) {
			w->pi[w->sup[k]].sup0 = sup0;
			w->pi[w->sup[k]].nsup = (uint16_t)(w->nsup - sup0);
		}
		for (k = 0; k < w->np; k++)
			if (w->pi[k].agent && w->pi[k].org == i) {
				w->pi[k].sup0 = sup0;
				w->pi[k].nsup = (uint16_t)(w->nsup - sup0);
			}
	}
	/* acme's security and systems answer to acme's supervisors. */
	for (i = 0; i < w->np; i++)
		if (!w->pi[i].agent && strcmp(w->pt[i].org, "acme") == 0 &&
		    strcmp(w->pt[i].role, "supervisor") != 0) {
			w->pi[i].sup0 = w->pi[w->sup[0]].sup0;
			w->pi[i].nsup = w->pi[w->sup[0]].nsup;
		}
	for (i = 0; i < nexp; i++) {
		snprintf(id, sizeof(id), "%s-x%u", DM_ORG, i + 1);
		p = add_principal(w, id, DM_ORG, "vendor", "exporter", -1,
		    SK_NONE);
		w->pi[p].org = (uint8_t)norgs;
	}
	return 0;
}

/* The routing tables, once insiders are known (a dismissed insider
 * takes no more cases). */
static int
make_routes(struct vg_sim *w)
{
	size_t i, g, r, k, n = 0;
	uint32_t cnt_grk[CG_COUNT][NPROV][SK_COUNT];
	uint32_t cnt_gk[CG_COUNT][SK_COUNT];

	memset(cnt_grk, 0, sizeof(cnt_grk));
	memset(cnt_gk, 0, sizeof(cnt_gk));
	for (i = 0; i < w->nagents; i++) {
		uint32_t a = w->agents[i];
		const struct pinfo *pp = &w->pi[a];

		if (w->pt[a].dismissed)
			continue;
		cnt_grk[pp->group][pp->region][pp->skind]++;
		cnt_gk[pp->group][pp->skind]++;
		n++;
	}
	w->by_grk = calloc(n + 1, sizeof(*w->by_grk));
	w->by_gk = calloc(n + 1, sizeof(*w->by_gk));
	if (w->by_grk == NULL || w->by_gk == NULL)
		return VG_ENOMEM;
	n = 0;
	for (g = 0; g < CG_COUNT; g++)
		for (r = 0; r < NPROV; r++)
			for (k = 0; k <= SK_COUNT; k++) {
				w->by_grk_off[g][r][k] = (uint32_t)n;
				if (k < SK_COUNT)
					n += cnt_grk[g][r][k];
			}
	n = 0;
	for (g = 0; g < CG_COUNT; g++)
		for (k = 0; k <= SK_COUNT; k++) {
			w->by_gk_off[g][k] = (uint32_t)n;
			if (k < SK_COUNT)
				n += cnt_gk[g][k];
		}
	memset(cnt_grk, 0, sizeof(cnt_grk));
	memset(cnt_gk, 0, sizeof(cnt_gk));
	for (i = 0; i < w->nagents; i++) {
		uint32_t a = w->agents[i];
		const struct pinfo *pp = &w->pi[a];

		if (w->pt[a].dismissed)
			continue;
		w->by_grk[w->by_grk_off[pp->group][pp->region][pp->skind] +
		    cnt_grk[pp->group][pp->region][pp->skind]++] = a;
		w->by_gk[w->by_gk_off[pp->group][pp->skind] +
		    cnt_gk[pp->group][pp->skind]++] = a;
	}
	return 0;
}

/* A supervisor to approve p's step-up at t: one of its org's on shift,
 * else its org's first (on call); -1 when the org has none. */
int32_t
vg__sim_approver(struct vg_sim *w, uint32_t p, int64_t t)
{
	const struct pinfo *pp = &w->pi[p];
	uint32_t k, off;

	if (pp->nsup == 0)
		return -1;
	off = (uint32_t)(floor_div(t, MIN_NS) % pp->nsup);
	for (k = 0; k < pp->nsup; k++) {
		uint32_t s = w->sup[pp->sup0 + (off + k) % pp->nsup];

		if (on_shift(w, w->pi[s].skind, t))
			return (int32_t)s;
	}
	return (int32_t)w->sup[pp->sup0];
}

/*-----------------------------------------------------------------------------
 * Customers
 */

static int
make_customers(struct vg_sim *w)
{
	struct vg_gen *g;
	struct vg_gen_customer c;
	uint32_t i, cnt[NPROV];
	int r;

	w->creg = malloc(w->nc);
	w->phone = malloc((size_t)w->nc * sizeof(*w->phone));
	w->honey = calloc((w->nc + 7) / 8, 1);
	w->by_reg = malloc((size_t)(w->nc + 1) * sizeof(*w->by_reg));
	if (w->creg == NULL || w->phone == NULL || w->honey == NULL ||
	    w->by_reg == NULL)
		return VG_ENOMEM;
	/* The generator's seed is the world's: customer i is row i of
	 * `vigil gen-customers --seed S`. */
	if ((g = vg_gen_new(w->o.seed)) == NULL)
		return VG_ENOMEM;
	memset(cnt, 0, sizeof(cnt));
	for (i = 0; i < w->nc; i++) {
		vg_gen_next(g, &c);
		for (r = 0; r < NPROV; r++)
			if (strcmp(vg_provinces[r].code, c.region) == 0)
				break;
		if (r == NPROV)
			r = 0;	/* never: the generator is mainland only */
		w->creg[i] = (uint8_t)r;
		cnt[r]++;
		copy_str(w->phone[i], sizeof(w->phone[i]), c.phone);
	}
	vg_gen_free(g);
	w->by_reg_off[0] = 0;
	for (r = 0; r < NPROV; r++)
		w->by_reg_off[r + 1] = w->by_reg_off[r] + cnt[r];
	memset(cnt, 0, sizeof(cnt));
	for (i = 0; i < w->nc; i++)
		w->by_reg[w->by_reg_off[w->creg[i]] + cnt[w->creg[i]]++] = i;
	/* Honeytokens: indistinguishable, never a legitimate contact. */
	for (i = 0; i < w->o.honey; ) {
		uint32_t x = vg__sim_below(w, RS_CONTACT, w->nc);

		if (w->honey[x / 8] & (1u << (x % 8)))
			continue;
		w->honey[x / 8] |= (uint8_t)(1u << (x % 8));
		i++;
	}
	return 0;
}

bool
vg_sim_is_honey(const struct vg_sim *w, uint32_t i)
{
	return i < w->nc && (w->honey[i / 8] & (1u << (i % 8))) != 0;
}

/* A customer of region reg, honeytokens included (an insider cannot
 * tell them apart). */
uint32_t
vg__sim_region_customer(struct vg_sim *w, int stream, uint8_t reg)
{
	uint32_t lo, n;

	if (reg >= NPROV)
		return vg__sim_below(w, stream, w->nc);
	lo = w->by_reg_off[reg];
	n = w->by_reg_off[reg + 1] - lo;
	if (n == 0)
		return vg__sim_below(w, stream, w->nc);
	return w->by_reg[lo + vg__sim_below(w, stream, n)];
}

/* The same for legitimate work: never a honeytoken (no legitimate
 * case touches one). */
static uint32_t
region_customer_real(struct vg_sim *w, int stream, uint8_t reg)
{
	uint32_t x;
	int tries = 0;

	do
		x = vg__sim_region_customer(w, stream, reg);
	while (vg_sim_is_honey(w, x) && ++tries < 1000);
	return x;
}

uint32_t
vg__sim_any_customer(struct vg_sim *w, int stream, bool honey_ok)
{
	uint32_t x;
	int tries = 0;

	do
		x = vg__sim_below(w, stream, w->nc);
	while (!honey_ok && vg_sim_is_honey(w, x) && ++tries < 1000);
	return x;
}

/* A mobile number nobody in the world has: prefix 170 is never
 * generated (lib/gen_data.h). */
void
vg__sim_miss_phone(struct vg_sim *w, int stream)
{
	snprintf(w->miss_phone, sizeof(w->miss_phone), "170%08u",
	    vg__sim_below(w, stream, 100000000u));
}

const char *
vg_sim_phone(const struct vg_sim *w, uint32_t i)
{
	return i < w->nc ? w->phone[i] : "";
}

const char *
vg_sim_region(const struct vg_sim *w, uint32_t i)
{
	return i < w->nc ? vg_provinces[w->creg[i]].code : "";
}

void
vg_sim_customer(struct vg_sim *w, uint32_t i, struct vg_gen_customer *out)
{
	memset(out, 0, sizeof(*out));
	if (i >= w->nc)
		return;
	if (w->gen != NULL && i < w->gen_next) {
		vg_gen_free(w->gen);
		w->gen = NULL;
	}
	if (w->gen == NULL) {
		if ((w->gen = vg_gen_new(w->o.seed)) == NULL)
			return;
		w->gen_next = 0;
	}
	while (w->gen_next <= i) {
		vg_gen_next(w->gen, out);
		w->gen_next++;
	}
}

/*-----------------------------------------------------------------------------
 * The contact process
 */

static double
weight(int64_t t)
{
	int wd = vg__sim_weekday(t), h = local_hour(t);

	return (wd < 5 ? prof_wd[h] : prof_we[h]) * prof_dow[wd] / 10000.0;
}

static void
make_rates(struct vg_sim *w)
{
	double sum = 0, cpd = w->o.contacts_per_day;
	int d, h;
	size_t i;

	for (d = 0; d < 7; d++)
		for (h = 0; h < 24; h++)
			sum += (d < 5 ? prof_wd[h] : prof_we[h]) *
			    prof_dow[d] / 10000.0;
	if (cpd <= 0) {
		double agent_days = 0;

		for (i = 0; i < w->nagents; i++)
			agent_days += w->pi[w->agents[i]].skind ==
			    SK_WEEKEND ? 2 : 5;
		cpd = 8.0 * agent_days / 7.0;
		w->o.contacts_per_day = cpd;
	}
	w->per_hour = cpd * 7.0 / sum;
}

/* The next arrival after t (piecewise constant by local hour), or the
 * horizon. */
static int64_t
next_arrival(struct vg_sim *w, int64_t t)
{
	while (t < w->end) {
		int64_t hs = floor_div(t + LOCAL_NS, HOUR_NS) * HOUR_NS -
		    LOCAL_NS;
		double lambda = w->per_hour * weight(t), dt;

		if (w->o.surge > 0 && vg__sim_local_day(w, t) ==
		    w->o.surge_day)
			lambda *= w->o.surge;
		if (lambda <= 0) {
			t = hs + HOUR_NS;
			continue;
		}
		dt = expo(w, RS_CONTACT, 1.0 / lambda) * (double)HOUR_NS;
		if ((double)t + dt < (double)(hs + HOUR_NS))
			return t + (int64_t)dt;
		t = hs + HOUR_NS;	/* memoryless: redraw in the next hour */
	}
	return w->end;
}

/* The least busy agent in list[lo, hi) for whom `ok`, scanning from a
 * rotating start so ties spread. */
static int32_t
least_busy(struct vg_sim *w, const uint32_t *list, uint32_t lo, uint32_t hi,
    int64_t rot, int32_t best)
{
	uint32_t n = hi - lo, i;

	for (i = 0; i < n; i++) {
		uint32_t a = list[lo + (uint32_t)((rot + i) % n)];

		if (best < 0 || w->pi[a].busy_until <
		    w->pi[best].busy_until)
			best = (int32_t)a;
	}
	return best;
}

/* The agent for a contact of group g from region r at t: an on-shift
 * agent of the region (one with time left first), else any on-shift
 * agent of the group; -1 when nobody works. */
static int32_t
route(struct vg_sim *w, int64_t t, int g, int r)
{
	bool on[SK_COUNT], on2[SK_COUNT];
	int32_t best = -1;
	int pass, k;
	int64_t rot = (int64_t)w->ncase;

	for (k = 0; k < SK_COUNT; k++) {
		on[k] = on_shift(w, k, t);
		on2[k] = on[k] && on_shift(w, k, t + MARGIN_NS);
	}
	for (pass = 0; pass < 2 && best < 0; pass++)
		for (k = 1; k < SK_COUNT; k++)
			if (pass == 0 ? on2[k] : on[k])
				best = least_busy(w, w->by_grk,
				    w->by_grk_off[g][r][k],
				    w->by_grk_off[g][r][k + 1], rot, best);
	for (pass = 0; pass < 2 && best < 0; pass++)
		for (k = 1; k < SK_COUNT; k++) {
			uint32_t lo = w->by_gk_off[g][k];
			uint32_t n = w->by_gk_off[g][k + 1] - lo, s;

			if (!(pass == 0 ? on2[k] : on[k]) || n == 0)
				continue;
			for (s = 0; s < SAMPLE; s++) {
				uint32_t a = w->by_gk[lo + vg__sim_below(w,
				    RS_WORK, n)];

				if (best < 0 || w->pi[a].busy_until <
				    w->pi[best].busy_until)
					best = (int32_t)a;
			}
		}
	return best;
}

/*-----------------------------------------------------------------------------
 * Cases
 */

uint32_t
vg__sim_case_new(struct vg_sim *w)
{
	if (w->ncase + 1 >= w->ccap) {
		size_t nc = w->ccap ? w->ccap * 2 : 4096;
		struct scase *c = realloc(w->c, nc * sizeof(*c));

		if (c == NULL) {
			w->err = VG_ENOMEM;
			return 0;
		}
		w->c = c;
		w->ccap = nc;
	}
	w->ncase++;
	memset(&w->c[w->ncase], 0, sizeof(w->c[0]));
	w->c[w->ncase].ins = -1;
	return (uint32_t)w->ncase;
}

/* Durations of the assignee's work on case c, and its start. */
static void
plan_work(struct vg_sim *w, struct scase *c, int64_t t)
{
	struct pinfo *pp = &w->pi[c->actor];
	double sp = pp->speed > 0 ? pp->speed : 1.0;

	c->d_lookup = (int64_t)((double)vg__sim_between(w, RS_WORK, 20 * NS,
	    90 * NS) / sp);
	c->d_reveal = (int64_t)((double)vg__sim_between(w, RS_WORK, 20 * NS,
	    120 * NS) / sp);
	c->d_close = (int64_t)((double)vg__sim_between(w, RS_WORK, 120 * NS,
	    480 * NS) / sp);
	c->t_start = (pp->busy_until > t ? pp->busy_until : t) +
	    vg__sim_between(w, RS_WORK, 5 * NS, 30 * NS);
	pp->busy_until = c->t_start + c->d_lookup + c->d_reveal + c->d_close;
}

/* A customer contacts support at t: ticketing opens a case for the
 * routed agent.  Returns 1 with the action, 0 when nobody works. */
static int
contact(struct vg_sim *w, int64_t t, struct vg_sim_action *a)
{
	uint32_t cust = vg__sim_any_customer(w, RS_CONTACT, false), cref;
	uint32_t x = vg__sim_below(w, RS_CONTACT, 100), acc = 0;
	int ch, g, agent;
	struct scase *c;
	struct pinfo *pp;

	for (ch = 0; ch < CH_COUNT - 1; ch++) {
		acc += channel_w[ch];
		if (x < acc)
			break;
	}
	g = ch == CH_PHONE ? CG_PHONE : ch == CH_STORE ? CG_STORE : CG_CHAT;
	if ((agent = route(w, t, g, w->creg[cust])) < 0)
		return 0;
	if ((cref = vg__sim_case_new(w)) == 0)
		return 0;
	c = &w->c[cref];
	pp = &w->pi[agent];
	c->cust = cust;
	c->assignee = c->actor = c->owner = (uint32_t)agent;
	c->channel = (uint8_t)ch;
	c->step = CS_OPEN;
	/* What the case needs. */
	if (pp->purpose == PU_DELIVERY || ch == CH_STORE) {
		c->purpose = PU_DELIVERY;
		c->fields = F_NAME | F_PHONE | F_ADDRESS;
	} else if (vg__sim_unif(w, RS_WORK) < 0.02) {
		c->purpose = PU_RECOVERY;
		c->fields = F_NAME | F_EMAIL | F_ACCOUNT;
	} else {
		c->purpose = PU_SUPPORT;
		c->fields = ch == CH_PHONE ? F_NAME : ch == CH_CHAT ?
		    F_NAME | F_EMAIL : F_EMAIL;
	}
	/* Honest mistakes, and escalations. */
	if (vg__sim_unif(w, RS_WORK) < 0.03)
		c->flags |= CF_TYPO;
	if (vg__sim_unif(w, RS_WORK) < 0.01)
		c->flags |= CF_BAD_FIELD;
	if (vg__sim_unif(w, RS_WORK) < 0.005)
		c->flags |= CF_NO_CASE;
	if (pp->nsup > 0 && vg__sim_unif(w, RS_WORK) < 0.03)
		c->flags |= CF_ESCALATE;
	plan_work(w, c, t);
	a->kind = VG_SIM_CASE_OPEN;
	a->actor = a->principal = w->ticketing;
	a->customer = cust;
	a->case_ref = cref;
	a->assignee = (uint32_t)agent;
	copy_str(a->channel, sizeof(a->channel), channel_name[ch]);
	w->cur.arg = cref;
	return 1;
}

/* Opens a case of principal p for itself (outbound work, an
 * investigation, or an insider's) at t through key actor. */
static int
self_case(struct vg_sim *w, uint32_t owner, uint32_t actor, uint32_t cust,
    uint32_t flags, int pu, uint32_t fields, int64_t t, int32_t ins)
{
	uint32_t cref = vg__sim_case_new(w);
	struct scase *c;

	if (cref == 0)
		return VG_ENOMEM;
	c = &w->c[cref];
	c->cust = cust;
	c->assignee = c->actor = actor;
	c->owner = owner;
	c->channel = CH_PHONE;
	c->flags = flags | CF_SELF;
	c->purpose = (uint8_t)pu;
	c->fields = fields;
	c->ins = ins;
	c->step = CS_OPEN;
	c->d_lookup = vg__sim_between(w, RS_WORK, 20 * NS, 60 * NS);
	c->d_reveal = vg__sim_between(w, RS_WORK, 20 * NS, 60 * NS);
	c->d_close = vg__sim_between(w, RS_WORK, 60 * NS, 240 * NS);
	c->t_start = t;
	return vg__sim_push(w, t, EV_CASE, 0, cref);
}

int
vg__sim_self_case(struct vg_sim *w, uint32_t owner, uint32_t actor,
    uint32_t cust, uint32_t fields, int64_t t, int32_t ins)
{
	return self_case(w, owner, actor, cust, CF_NO_LOOKUP | CF_THEFT,
	    PU_SUPPORT, fields, t, ins);
}

/* The action for case cref's current step; 0 when the step emits
 * nothing (a case an insider keeps open). */
static int
case_step(struct vg_sim *w, uint32_t cref, int64_t t, struct vg_sim_action *a)
{
	struct scase *c = &w->c[cref];

	a->case_ref = cref;
	a->customer = c->cust;
	a->actor = c->actor;
	a->principal = c->owner;
	switch (c->step) {
	case CS_OPEN:
		a->kind = VG_SIM_CASE_OPEN;
		a->assignee = c->actor;
		a->self_opened = true;
		a->theft = (c->flags & CF_THEFT) != 0;
		copy_str(a->channel, sizeof(a->channel),
		    channel_name[c->channel]);
		break;
	case CS_LOOKUP:
	case CS_ESC_LOOKUP:
		a->kind = VG_SIM_LOOKUP;
		a->theft = (c->flags & CF_THEFT) != 0 && c->step == CS_LOOKUP;
		if ((c->flags & CF_TYPO) && c->step == CS_LOOKUP) {
			vg__sim_miss_phone(w, RS_WORK);
			a->customer = -1;
			a->phone = w->miss_phone;
		} else {
			a->phone = w->phone[c->cust];
		}
		break;
	case CS_REVEAL:
	case CS_ESC_REVEAL:
		if (c->step == CS_REVEAL && !(c->flags & (CF_SEEN |
		    CF_SECURITY | CF_THEFT))) {
			c->flags |= CF_SEEN;
			vg__sim_insider_case(w, c, t);
		}
		a->kind = VG_SIM_REVEAL;
		a->fields = c->step == CS_ESC_REVEAL ?
		    purpose_fields[PU_ESCALATION] : c->fields;
		a->purpose = purpose_name[c->step == CS_ESC_REVEAL ?
		    PU_ESCALATION : c->purpose];
		if (c->step == CS_REVEAL && (c->flags & CF_BAD_FIELD))
			a->fields |= c->purpose == PU_DELIVERY ? F_ACCOUNT :
			    F_ADDRESS;
		if (c->step == CS_REVEAL && (c->flags & CF_NO_CASE)) {
			a->case_ref = 0;
			a->break_glass = true;
			a->justification = "customer on the line, ticket not "
			    "yet linked";
		}
		a->approved = (c->flags & CF_APPROVED) != 0;
		a->theft = (c->flags & CF_THEFT) != 0 && c->step == CS_REVEAL;
		break;
	case CS_APPROVE:
		a->kind = VG_SIM_APPROVE;
		a->actor = a->principal = c->approver;
		a->assignee = c->actor;
		break;
	case CS_ESC_ASSIGN:
		a->kind = VG_SIM_CASE_ASSIGN;
		a->actor = a->principal = w->ticketing;
		a->assignee = c->approver;
		break;
	case CS_CLOSE:
		if (!(c->flags & (CF_SELF | CF_THEFT)) &&
		    vg__sim_insider_keeps(w, cref, t))
			return 0;
		a->kind = VG_SIM_CASE_CLOSE;
		break;
	default:
		return 0;
	}
	return 1;
}

static void
next_step(struct vg_sim *w, uint32_t cref, int step, int64_t t)
{
	w->c[cref].step = (uint8_t)step;
	(void)vg__sim_push(w, t, EV_CASE, 0, cref);
}

static void
case_outcome(struct vg_sim *w, uint32_t cref, const struct vg_sim_action *a,
    enum vg_sim_result r)
{
	struct scase *c = &w->c[cref];
	int64_t t = a->t_ns;
	int32_t s;

	switch (c->step) {
	case CS_OPEN:
		if (r != VG_SIM_OK) {
			c->step = CS_DONE;
			break;
		}
		if (c->flags & CF_NO_LOOKUP)
			next_step(w, cref, CS_REVEAL, t + c->d_reveal);
		else
			next_step(w, cref, CS_LOOKUP, (c->t_start > t ?
			    c->t_start : t) + c->d_lookup);
		break;
	case CS_LOOKUP:
		if (a->customer < 0 && (c->flags & CF_TYPO)) {
			c->flags &= ~(uint32_t)CF_TYPO;
			next_step(w, cref, CS_LOOKUP, t +
			    vg__sim_between(w, RS_WORK, 15 * NS, 40 * NS));
			break;
		}
		next_step(w, cref, CS_REVEAL, t + c->d_reveal);
		break;
	case CS_REVEAL:
		c->flags &= ~(uint32_t)CF_APPROVED;
		if (r == VG_SIM_DENIED && (c->flags & CF_BAD_FIELD)) {
			c->flags &= ~(uint32_t)CF_BAD_FIELD;
			next_step(w, cref, CS_REVEAL, t +
			    vg__sim_between(w, RS_WORK, 10 * NS, 30 * NS));
			break;
		}
		c->flags &= ~(uint32_t)CF_BAD_FIELD;
		if (r == VG_SIM_STEP_UP && c->tries < 2 &&
		    (s = vg__sim_approver(w, c->actor, t)) >= 0 &&
		    (uint32_t)s != c->actor &&
		    vg__sim_unif(w, RS_WORK) < 0.95) {
			/* A supervisor looks at the request: the case is
			 * real, so it is approved. */
			c->tries++;
			c->approver = (uint32_t)s;
			next_step(w, cref, CS_APPROVE, t + vg__sim_between(w,
			    RS_WORK, 60 * NS, 240 * NS));
			break;
		}
		if (r == VG_SIM_OK && (c->flags & CF_ESCALATE) &&
		    (s = vg__sim_approver(w, c->actor, t)) >= 0 &&
		    on_shift(w, w->pi[s].skind, t)) {
			c->approver = (uint32_t)s;
			next_step(w, cref, CS_ESC_ASSIGN, t + c->d_close / 2);
			break;
		}
		next_step(w, cref, CS_CLOSE, t + c->d_close);
		break;
	case CS_APPROVE:
		if (r == VG_SIM_OK) {
			c->flags |= CF_APPROVED;
			next_step(w, cref, CS_REVEAL, t + vg__sim_between(w,
			    RS_WORK, 20 * NS, 60 * NS));
		} else {
			next_step(w, cref, CS_CLOSE, t + 30 * NS);
		}
		break;
	case CS_ESC_ASSIGN:
		if (r != VG_SIM_OK) {
			next_step(w, cref, CS_CLOSE, t + 60 * NS);
			break;
		}
		c->assignee = c->actor = c->owner = c->approver;
		c->flags &= ~(uint32_t)(CF_TYPO | CF_THEFT);
		c->ins = -1;
		next_step(w, cref, CS_ESC_LOOKUP, t + vg__sim_between(w,
		    RS_WORK, 120 * NS, 600 * NS));
		break;
	case CS_ESC_LOOKUP:
		next_step(w, cref, CS_ESC_REVEAL, t + vg__sim_between(w,
		    RS_WORK, 30 * NS, 120 * NS));
		break;
	case CS_ESC_REVEAL:
		next_step(w, cref, CS_CLOSE, t + vg__sim_between(w, RS_WORK,
		    120 * NS, 600 * NS));
		break;
	default:
		c->step = CS_DONE;
		break;
	}
}

/*-----------------------------------------------------------------------------
 * Daily plans and the systems' background work
 */

static void
day_start(struct vg_sim *w, int64_t day0)
{
	int d = vg__sim_local_day(w, day0), wd = vg__sim_weekday(day0);
	size_t i;

	(void)vg__sim_push(w, day0 + DAY_NS, EV_DAY, 0, 0);
	for (i = 0; i < w->np; i++) {
		const struct vg_sim_principal *p = &w->pt[i];
		struct pinfo *pp = &w->pi[i];
		int k, n;

		if (p->dismissed)
			continue;
		if (strcmp(p->role, "ingest") == 0 ||
		    strcmp(p->role, "exporter") == 0) {
			if (wd < 5)
				(void)vg__sim_push(w, day0 + 9 * HOUR_NS +
				    vg__sim_between(w, RS_WORK, 0, 10 * MIN_NS),
				    EV_SYSTEM, (uint32_t)i, 0);
		} else if (strcmp(p->role, "security") == 0 && wd < 5) {
			n = (int)vg__sim_below(w, RS_WORK, 3);
			for (k = 0; k < n; k++)
				(void)self_case(w, (uint32_t)i, (uint32_t)i,
				    vg__sim_any_customer(w, RS_WORK, false),
				    CF_SECURITY, PU_INVESTIGATION,
				    purpose_fields[PU_INVESTIGATION], day0 +
				    vg__sim_between(w, RS_WORK, 10 * HOUR_NS,
				    17 * HOUR_NS), -1);
		} else if (pp->agent && pp->outbound &&
		    vg__sim_works(w, (uint32_t)i, day0)) {
			/* Callbacks: cases the agent opens for itself. */
			int64_t from = day0 + (pp->skind == SK_EVENING ? 14 :
			    9) * HOUR_NS + 30 * MIN_NS;

			n = 1 + (int)vg__sim_below(w, RS_WORK, 3);
			for (k = 0; k < n; k++)
				(void)self_case(w, (uint32_t)i, (uint32_t)i,
				    region_customer_real(w, RS_WORK,
				    pp->region), 0, PU_SUPPORT, F_NAME |
				    F_PHONE, from + vg__sim_between(w, RS_WORK,
				    0, 7 * HOUR_NS), -1);
		}
	}
	vg__sim_insiders_day(w, day0, d);
}

/* The exporters' daily file: delivery labels for the courier, one
 * export of about as many customers as they once revealed one at a
 * time (a label every two minutes or so until 18:00). */
#define EXPORT_GAP_S 120.0		/* mean seconds between labels */
#define EXPORT_CONSUMER "courier"	/* etc/sim-policy.yaml's consumer */
#define EXPORT_RECIPIENT "shipfast-labels"

/* Puts customer x in the scratch set; false when it was there. */
static bool
xset_add(struct vg_sim *w, uint32_t x)
{
	size_t j = (size_t)(x * 0x9e3779b1u) & (w->xsetcap - 1);

	while (w->xset[j] != 0) {
		if (w->xset[j] == x + 1)
			return false;
		j = (j + 1) & (w->xsetcap - 1);
	}
	w->xset[j] = x + 1;
	return true;
}

/* n distinct customers, never a honeytoken (vg_export_make leaves them
 * out), into w->xrows.  n is at most half of the customers who are not
 * honeytokens, so a draw is rarely refused; after 64 refusals in a row
 * the next free customer after the last draw is taken.  0 or VG_ENOMEM. */
static int
draw_rows(struct vg_sim *w, uint32_t n)
{
	size_t cap;
	uint32_t i;

	if (n > w->xcap) {
		uint32_t *nr = realloc(w->xrows, (size_t)n * sizeof(*nr));

		if (nr == NULL)
			return w->err = VG_ENOMEM;
		w->xrows = nr;
		w->xcap = n;
	}
	for (cap = 64; cap < 2 * (size_t)n; cap *= 2)
		;
	if (cap > w->xsetcap) {
		uint32_t *ns = realloc(w->xset, cap * sizeof(*ns));

		if (ns == NULL)
			return w->err = VG_ENOMEM;
		w->xset = ns;
		w->xsetcap = cap;
	}
	memset(w->xset, 0, w->xsetcap * sizeof(*w->xset));
	for (i = 0; i < n; i++) {
		uint32_t x = vg__sim_below(w, RS_EXPORT, w->nc);
		int tries = 0;

		while (vg_sim_is_honey(w, x) || !xset_add(w, x)) {
			if (++tries < 64)
				x = vg__sim_below(w, RS_EXPORT, w->nc);
			else
				x = x + 1 < w->nc ? x + 1 : 0;
		}
		w->xrows[i] = x;
	}
	return 0;
}

static int
export_step(struct vg_sim *w, uint32_t who, int64_t t,
    struct vg_sim_action *a)
{
	uint32_t n = 1, most = (w->nc - w->o.honey) / 2;
	int64_t x = t;

	/* The day's count: the label process's arrivals until 18:00. */
	for (;;) {
		x += (int64_t)(expo(w, RS_EXPORT, EXPORT_GAP_S) * (double)NS);
		if (local_hour(x) >= 18 || vg__sim_local_day(w, x) !=
		    vg__sim_local_day(w, t))
			break;
		n++;
	}
	if (most == 0)
		most = 1;	/* honey < nc: one customer at least */
	if (n > most)
		n = most;
	if (draw_rows(w, n) != 0)
		return 0;
	a->kind = VG_SIM_EXPORT;
	a->actor = a->principal = who;
	a->fields = F_NAME | F_PHONE | F_ADDRESS;
	a->purpose = purpose_name[PU_DELIVERY];
	a->consumer = EXPORT_CONSUMER;
	a->recipient = EXPORT_RECIPIENT;
	a->rows = n;
	a->export_customers = w->xrows;
	return 1;
}

/* Ingest checks new sign-ups for duplicates (most are not customers
 * yet), a lookup every two minutes or so until 18:00; an exporter makes
 * its day's export. */
static int
system_step(struct vg_sim *w, uint32_t who, int64_t t,
    struct vg_sim_action *a)
{
	int64_t next;

	if (strcmp(w->pt[who].role, "exporter") == 0)
		return export_step(w, who, t, a);
	next = t + (int64_t)(expo(w, RS_WORK, 120.0) * (double)NS);
	if (local_hour(next) < 18 && vg__sim_local_day(w, next) ==
	    vg__sim_local_day(w, t))
		(void)vg__sim_push(w, next, EV_SYSTEM, who, 0);
	a->actor = a->principal = who;
	a->kind = VG_SIM_LOOKUP;
	if (vg__sim_unif(w, RS_WORK) < 0.6) {
		vg__sim_miss_phone(w, RS_WORK);
		a->customer = -1;
		a->phone = w->miss_phone;
	} else {
		a->customer = vg__sim_any_customer(w, RS_WORK, false);
		a->phone = w->phone[a->customer];
	}
	return 1;
}

/*-----------------------------------------------------------------------------
 * Life cycle
 */

static int
fail(char *err, size_t errcap, const char *what)
{
	snprintf(err, errcap, "%s", what);
	return VG_EINVAL;
}

int
vg_sim_new(const struct vg_sim_opts *o, struct vg_sim **out, char *err,
    size_t errcap)
{
	struct vg_sim *w;
	uint64_t x;
	uint32_t n = 0;
	int i, rc;

	*out = NULL;
	if (errcap > 0)
		err[0] = '\0';
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return VG_ENOMEM;
	w->o = *o;
	if (w->o.seed == 0)
		w->o.seed = 1;
	if (w->o.customers == 0)
		w->o.customers = 200000;
	if (w->o.principals == 0)
		w->o.principals = 1000;
	if (w->o.days == 0)
		w->o.days = 7;
	if (w->o.start == 0)
		w->o.start = START_DEFAULT;
	if (w->o.ring_size == 0)
		w->o.ring_size = 20;
	if (w->o.start_day == 0)
		w->o.start_day = 1;
	for (i = 0; i < VG_STRAT_COUNT; i++)
		n += i == VG_STRAT_RING ? w->o.insiders[i] * w->o.ring_size :
		    w->o.insiders[i];
	rc = VG_EINVAL;
	if (w->o.customers > VG_SIM_CUSTOMERS_MAX)
		rc = fail(err, errcap, "customers: at most 10000000");
	else if (w->o.principals < VG_SIM_PRINCIPALS_MIN ||
	    w->o.principals > VG_SIM_PRINCIPALS_MAX)
		rc = fail(err, errcap, "principals: 60 to 20000");
	else if (w->o.days > VG_SIM_DAYS_MAX)
		rc = fail(err, errcap, "days: 1 to 60");
	else if (w->o.ring_size < 3 || w->o.ring_size > 100)
		rc = fail(err, errcap, "ring size: 3 to 100");
	else if (w->o.honey >= w->o.customers)
		rc = fail(err, errcap, "honey: fewer than the customers");
	else if (w->o.surge < 0 || w->o.surge > 20 || (w->o.surge > 0 &&
	    (w->o.surge_day < 0 || w->o.surge_day >= (int)w->o.days)))
		rc = fail(err, errcap, "surge: a factor up to 20 on a day of "
		    "the run");
	else if (w->o.contacts_per_day < 0 || w->o.contacts_per_day > 1e7)
		rc = fail(err, errcap, "contacts per day: 0 to 10000000");
	else if (w->o.insiders[VG_STRAT_NONE] != 0 || n > w->o.principals / 4)
		rc = fail(err, errcap, "insiders: at most a quarter of the "
		    "principals");
	else if (w->o.start < 0 || w->o.start > (INT64_C(1) << 34))
		rc = fail(err, errcap, "start: unix seconds, 0 to 2^34");
	else
		rc = 0;
	if (rc != 0)
		goto fail;
	w->t0 = w->o.start * NS;
	w->end = w->t0 + (int64_t)w->o.days * DAY_NS;
	w->nc = w->o.customers;
	x = w->o.seed;
	for (i = 0; i < RS_COUNT; i++) {
		int k;

		for (k = 0; k < 4; k++)
			w->r[i].s[k] = splitmix64(&x);
	}
	for (i = 1; i < SK_COUNT; i++) {
		const char *why = NULL;

		if (vg_shift_parse(shift_text[i], &w->shift[i], &why) != 0) {
			snprintf(err, errcap, "shift \"%s\": %s",
			    shift_text[i], why != NULL ? why : "refused");
			rc = VG_EINVAL;
			goto fail;
		}
	}
	if ((rc = make_principals(w)) != 0 ||
	    (rc = make_customers(w)) != 0 ||
	    (rc = vg__sim_insiders_make(w, err, errcap)) != 0 ||
	    (rc = make_routes(w)) != 0)
		goto fail;
	make_rates(w);
	day_start(w, vg__sim_local_midnight(w->t0));
	if ((rc = vg__sim_push(w, next_arrival(w, w->t0), EV_CONTACT, 0, 0))
	    != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	if (rc == VG_ENOMEM && errcap > 0 && err[0] == '\0')
		snprintf(err, errcap, "out of memory");
	vg_sim_free(w);
	return rc;
}

void
vg_sim_free(struct vg_sim *w)
{
	if (w == NULL)
		return;
	free(w->pt);
	free(w->pi);
	free(w->sup);
	free(w->agents);
	free(w->by_grk);
	free(w->by_gk);
	free(w->creg);
	free(w->phone);
	free(w->honey);
	free(w->by_reg);
	vg_gen_free(w->gen);
	free(w->h);
	free(w->c);
	free(w->ins);
	free(w->ring_list);
	free(w->xrows);
	free(w->xset);
	free(w);
}

const struct vg_sim_opts *
vg_sim_options(const struct vg_sim *w)
{
	return &w->o;
}

const struct vg_sim_principal *
vg_sim_principals(const struct vg_sim *w, size_t *n)
{
	*n = w->np;
	return w->pt;
}

void
vg_sim_truth(const struct vg_sim *w, uint32_t principal,
    struct vg_sim_truth *out)
{
	if (principal < w->np)
		*out = w->pi[principal].truth;
	else
		memset(out, 0, sizeof(*out));
}

/* An insider's move at t: counts what it would take, and its first
 * malicious action. */
void
vg__sim_theft(struct vg_sim *w, uint32_t p, int64_t t, bool takes)
{
	struct vg_sim_truth *tr = &w->pi[p].truth;

	if (takes)
		tr->would_take++;
	if (tr->first_action_ns == 0)
		tr->first_action_ns = t;
}

/*-----------------------------------------------------------------------------
 * Actions and outcomes
 */

int
vg_sim_next(struct vg_sim *w, struct vg_sim_action *a)
{
	struct ev e;
	int got;

	if (w->pending)
		vg_sim_outcome(w, &w->act, VG_SIM_ERROR);
	while (w->err == 0 && w->nh > 0) {
		pop(w, &e);
		memset(a, 0, sizeof(*a));
		a->t_ns = e.t;
		a->customer = -1;
		w->cur = e;
		switch (e.kind) {
		case EV_CONTACT:
			got = contact(w, e.t, a);
			(void)vg__sim_push(w, next_arrival(w, e.t), EV_CONTACT,
			    0, 0);
			break;
		case EV_CASE:
			got = case_step(w, e.arg, e.t, a);
			break;
		case EV_INSIDER:
			got = vg__sim_insider_step(w, e.arg, a);
			break;
		case EV_DAY:
			day_start(w, e.t);
			got = 0;
			break;
		default:
			got = system_step(w, e.who, e.t, a);
			break;
		}
		if (!got || w->err != 0)
			continue;
		a->strategy = w->pt[a->principal].strategy;
		w->act = *a;
		w->pending = true;
		return 1;
	}
	return w->err;
}

/* Whether a is a theft that takes (or tries to take) a record. */
static bool
takes(const struct vg_sim_action *a)
{
	if (!a->theft)
		return false;
	if (a->kind == VG_SIM_REVEAL)
		return true;
	return (a->kind == VG_SIM_LOOKUP && a->strategy ==
	    VG_STRAT_VALIDATE) || (a->kind == VG_SIM_VIEW && a->strategy ==
	    VG_STRAT_ENUMERATE);
}

void
vg_sim_outcome(struct vg_sim *w, const struct vg_sim_action *a,
    enum vg_sim_result r)
{
	struct pinfo *pp;

	if (!w->pending)
		return;
	w->pending = false;
	a = &w->act;		/* the world's own copy is the truth */
	pp = &w->pi[a->principal];
	if (takes(a)) {
		pp->truth.attempted++;
		if (r == VG_SIM_OK && (a->kind == VG_SIM_REVEAL ||
		    a->customer >= 0))
			pp->truth.taken++;
	}
	if (r == VG_SIM_CONTAINED) {
		if (pp->truth.contained_ns == 0)
			pp->truth.contained_ns = a->t_ns;
		if (pp->ins >= 0)
			w->ins[pp->ins].stopped = true;
	}
	switch (w->cur.kind) {
	case EV_CONTACT:
	case EV_CASE:
		case_outcome(w, w->cur.arg, a, r);
		break;
	case EV_INSIDER:
		vg__sim_insider_outcome(w, w->cur.arg, a, r);
		break;
	default:
		break;
	}
}
