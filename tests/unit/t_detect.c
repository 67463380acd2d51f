/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/detect.c, on a small synthetic world fed as audit
 * records: 60 agents in three orgs (an employer and two vendors) working
 * 08:00-18:00 UTC on weekdays, each handling cases the ticketing system
 * assigns (case.open by "ticketing", then a lookup and a reveal under
 * the case), with per-agent speeds.  Checks: a week of that raises no
 * alert, nor does a surge that triples everyone's work; and each thief
 * is caught: a honeytoken touch (critical at once, deduplicated), a bulk
 * harvester (contained before 50 records), a low-and-slow one (30 a day
 * without cases, alerted the first day), case laundering, list
 * validation, off-shift theft, two vendors sharing customers without
 * cases, a jump against one's own history, a ring member's few
 * break-glass reveals a day (seen over 30 days), a mimic revealing more
 * fields than its peers (while a desk whose every case needs them raises
 * nothing), and systems with no peers (three exporters) compared with
 * their own past: quiet at their usual pace, alerted at four times it.
 * Refusals that the detector's own containment caused are not probing.
 * Also: alerts are a function of the records (same feed, same bytes),
 * log order is enforced, unknown principals are their own group, and
 * memory for 100,000 principals stays under 200 MB.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vigil/detect.h"

#define DAY_S 86400
#define T0 1798761600		/* 2027-01-01 00:00 UTC, a Friday */

/*-----------------------------------------------------------------------------
 * The world
 */

static uint64_t rng_s;

static uint32_t
rnd(void)
{
	/* splitmix64: deterministic for the seed. */
	uint64_t z = (rng_s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static int
dir_fn(void *ctx, const char *id, struct vg_principal *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", id);
	snprintf(out->state, sizeof(out->state), "active");
	if (strcmp(id, "ticketing") == 0) {
		snprintf(out->org, sizeof(out->org), "acme");
		snprintf(out->role, sizeof(out->role), "ticketing");
		return 0;
	}
	if (strncmp(id, "dmreach-x", 9) == 0) {
		snprintf(out->org, sizeof(out->org), "dmreach");
		snprintf(out->role, sizeof(out->role), "exporter");
		return 0;
	}
	if (strncmp(id, "acme-", 5) == 0)
		snprintf(out->org, sizeof(out->org), "acme");
	else if (strncmp(id, "callco-", 7) == 0)
		snprintf(out->org, sizeof(out->org), "callco");
	else if (strncmp(id, "fixit-", 6) == 0)
		snprintf(out->org, sizeof(out->org), "fixit");
	else
		return VG_ENOTFOUND;
	snprintf(out->role, sizeof(out->role), "agent");
	snprintf(out->region, sizeof(out->region), "CN-GD");
	snprintf(out->shift, sizeof(out->shift), "UTC Mon-Fri 08:00-18:00");
	return 0;
}

#define MAXA 512
struct got {
	struct vg_alert a[MAXA];
	size_t n;
};

static void
on_alert(void *ctx, const struct vg_alert *a)
{
	struct got *g = ctx;

	if (g->n < MAXA)
		g->a[g->n++] = *a;
}

/* A stream of records, kept in time order by a small heap of events. */
struct ev {
	int64_t t;
	int kind;		/* what to emit */
	int who;
	uint32_t arg;
};

#define EV_MAX 200000
static struct ev evs[EV_MAX];
static size_t nev;

static void
push(int64_t t, int kind, int who, uint32_t arg)
{
	if (nev < EV_MAX)
		evs[nev++] = (struct ev){ t, kind, who, arg };
}

static int
ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->who != y->who)
		return x->who < y->who ? -1 : 1;
	return x->kind - y->kind;
}

struct feeder {
	struct vg_detect *d;
	uint64_t seq;
	int fail;
};

static void
cust_id(unsigned char id[VG_IDBYTES], uint32_t n)
{
	uint32_t i, x = n * 2654435761u + 12345;

	for (i = 0; i < VG_IDBYTES; i++) {
		x = x * 1103515245u + 12345 + n;
		id[i] = (unsigned char)(x >> 16);
	}
}

static int
feed(struct feeder *f, int64_t t, const char *who, const char *action,
    const char *decision, int cust, const char *fields,
    const char *case_id, const char *detail)
{
	static struct vg_audit_record r;
	int rc;

	memset(&r, 0, offsetof(struct vg_audit_record, leaf));
	r.seq = f->seq++;
	r.time_ns = t * 1000000000ll + (int64_t)(f->seq % 1000);
	snprintf(r.node, sizeof(r.node), "n1");
	snprintf(r.principal, sizeof(r.principal), "%s", who);
	snprintf(r.action, sizeof(r.action), "%s", action);
	snprintf(r.decision, sizeof(r.decision), "%s", decision);
	if (cust >= 0) {
		r.has_customer = true;
		cust_id(r.customer, (uint32_t)cust);
	}
	snprintf(r.fields, sizeof(r.fields), "%s", fields ? fields : "");
	snprintf(r.case_id, sizeof(r.case_id), "%s", case_id ? case_id : "");
	snprintf(r.detail, sizeof(r.detail), "%s", detail ? detail : "");
	rc = vg_detect_feed(f->d, &r);
	if (rc != 0)
		f->fail++;
	return rc;
}

enum { K_CASE, K_LOOKUP, K_REVEAL };

#define ORGS 3
static const char *const org_name[ORGS] = { "acme", "callco", "fixit" };
#define PER_ORG 20
#define AGENTS (ORGS * PER_ORG)

static void
agent_name(char *buf, size_t cap, int a)
{
	snprintf(buf, cap, "%s-a%02d", org_name[a / PER_ORG], a % PER_ORG);
}

/* Legitimate work for `days` days from T0: each agent takes a case
 * every `gap` minutes on average (times its own speed), surge times. */
static void
legit(int days, int surge_day, double surge)
{
	int a, day;

	for (a = 0; a < AGENTS; a++) {
		double speed = 0.6 + (rnd() % 1000) / 1000.0 * 0.8;

		for (day = 0; day < days; day++) {
			int64_t d0 = T0 + (int64_t)day * DAY_S;
			int wd = (int)((d0 / DAY_S + 3) % 7);	/* 0 Mon */
			double k = speed * (day == surge_day ? surge : 1.0);
			int64_t t = d0 + 8 * 3600 + rnd() % 600;

			if (wd >= 5)
				continue;
			while (t < d0 + 18 * 3600 - 600) {
				uint32_t c = rnd() % 200000;

				push(t, K_CASE, a, c);
				push(t + 30 + rnd() % 60, K_LOOKUP, a, c);
				push(t + 120 + rnd() % 120, K_REVEAL, a, c);
				t += (int64_t)((480 + rnd() % 960) / k);
			}
		}
	}
}

/* What the legitimate agents reveal under their cases, and one agent
 * (-1: none) that reveals every case with a third field. */
static const char *legit_fields = "name,phone";
static int wide_who = -1;

/* Feeds the queued legit events, interleaving extra(t) calls. */
static void
run(struct feeder *f, void (*extra)(struct feeder *, int64_t, int64_t))
{
	size_t i;
	int64_t last = T0;
	char who[32], cid[32], det[96];

	qsort(evs, nev, sizeof(evs[0]), ev_cmp);
	for (i = 0; i < nev; i++) {
		const struct ev *e = &evs[i];

		if (extra != NULL && e->t > last) {
			extra(f, last, e->t);
			last = e->t;
		}
		agent_name(who, sizeof(who), e->who);
		snprintf(cid, sizeof(cid), "case_%u_%d", e->arg, e->who);
		switch (e->kind) {
		case K_CASE:
			snprintf(det, sizeof(det), "assignee=%s,channel=phone",
			    who);
			feed(f, e->t, "ticketing", "case.open", "allow",
			    (int)e->arg, NULL, cid, det);
			break;
		case K_LOOKUP:
			feed(f, e->t, who, "lookup", "allow", (int)e->arg,
			    NULL, NULL, "matches=1,region=CN-GD");
			break;
		default:
			feed(f, e->t, who, "reveal", "allow", (int)e->arg,
			    e->who == wide_who ? "name,phone,email" :
			    legit_fields, cid, "region=CN-GD");
		}
	}
}

static struct got G;

static struct vg_detect *
fresh(const unsigned char (*honey)[VG_IDBYTES], size_t nhoney)
{
	struct vg_detect_opts o;
	struct vg_detect *d = NULL;

	memset(&o, 0, sizeof(o));
	o.directory = dir_fn;
	o.honey = honey;
	o.nhoney = nhoney;
	o.alert = on_alert;
	o.alert_ctx = &G;
	G.n = 0;
	if (vg_detect_new(&o, &d) != 0)
		abort();
	return d;
}

static size_t
alerts_for(const char *who, const char *rule, size_t *first)
{
	size_t i, n = 0;

	for (i = 0; i < G.n; i++)
		if (strcmp(G.a[i].principal, who) == 0 &&
		    (rule == NULL || strcmp(G.a[i].rule, rule) == 0)) {
			if (n == 0 && first != NULL)
				*first = i;
			n++;
		}
	return n;
}

static int
has_signal(const struct vg_alert *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nsignals; i++)
		if (strcmp(a->signal[i].name, name) == 0)
			return 1;
	return 0;
}

/*-----------------------------------------------------------------------------
 * Thieves: each an `extra` hook that adds its own records over time
 */

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, VG_IDBYTES);
}

static int64_t next;		/* the thief's next move */
static int thief_reveals;	/* allowed reveals the thief made */
static int64_t thief_caught;	/* time of its first step-up/suspend */
static int thief_before;	/* reveals made before that */

static int
contained(const char *who)
{
	size_t i;

	for (i = 0; i < G.n; i++)
		if (strcmp(G.a[i].principal, who) == 0 &&
		    G.a[i].action != VG_CONTAIN_NONE)
			return 1;
	return 0;
}

/* A bulk harvester: callco-a05 breaks glass every 12 s from 10:00 of
 * day 3, until contained (then its reveals would be refused). */
static void
bulk(struct feeder *f, int64_t from, int64_t to)
{
	int64_t start = T0 + 3 * DAY_S + 10 * 3600;

	if (next == 0)
		next = start;
	while (next >= from && next < to && next < start + 3600) {
		if (!contained("callco-a05")) {
			feed(f, next, "callco-a05", "reveal", "allow",
			    (int)(300000 + thief_reveals),
			    "name,phone,account_id", NULL,
			    "break_glass=1,region=CN-GD");
			thief_reveals++;
		} else if (thief_caught == 0) {
			thief_caught = next;
			thief_before = thief_reveals;
		}
		next += 12;
	}
}

/* Low and slow: fixit-a07 reveals 30 customers a day without a case,
 * spread over its shift, from day 3 (Monday). */
static void
slow(struct feeder *f, int64_t from, int64_t to)
{
	if (next == 0)
		next = T0 + 3 * DAY_S + 9 * 3600;
	while (next >= from && next < to) {
		int64_t sod = next % DAY_S;

		if (sod >= 9 * 3600 && sod < 17 * 3600 + 1200) {
			feed(f, next, "fixit-a07", "reveal", "allow",
			    (int)(400000 + thief_reveals), "name,phone",
			    NULL, "break_glass=1,region=CN-GD");
			thief_reveals++;
		}
		next += 1000;	/* about 30 in the working day */
	}
}

/* Case laundering: acme-a03 opens cases for itself, then reveals. */
static void
launder(struct feeder *f, int64_t from, int64_t to)
{
	if (next == 0)
		next = T0 + 4 * DAY_S + 9 * 3600;
	while (next >= from && next < to && next < T0 + 4 * DAY_S +
	    17 * 3600) {
		char cid[32];
		int c = 500000 + thief_reveals;

		snprintf(cid, sizeof(cid), "case_self_%d", c);
		feed(f, next, "acme-a03", "case.open", "allow", c, NULL, cid,
		    "assignee=acme-a03,channel=phone,self_opened=1");
		feed(f, next + 20, "acme-a03", "reveal", "allow", c,
		    "name,phone", cid, "region=CN-GD");
		thief_reveals++;
		next += 240;
	}
}

/* List validation: callco-a11 checks a bought phone list, mostly
 * misses, from 14:00 on day 3. */
static void
validate(struct feeder *f, int64_t from, int64_t to)
{
	if (next == 0)
		next = T0 + 3 * DAY_S + 14 * 3600;
	while (next >= from && next < to && next < T0 + 3 * DAY_S +
	    16 * 3600) {
		int hit = rnd() % 10 == 0;

		feed(f, next, "callco-a11", "lookup", hit ? "allow" : "miss",
		    hit ? (int)(600000 + thief_reveals) : -1, NULL, NULL,
		    hit ? "matches=1,region=CN-GD" : "");
		thief_reveals++;
		next += 45;
	}
}

/* Off-shift: acme-a09 reveals under assigned cases at 02:00-04:00. */
static void
night(struct feeder *f, int64_t from, int64_t to)
{
	if (next == 0)
		next = T0 + 4 * DAY_S + 2 * 3600;
	while (next >= from && next < to && next < T0 + 4 * DAY_S +
	    4 * 3600) {
		char cid[32];
		int c = 700000 + thief_reveals;

		snprintf(cid, sizeof(cid), "case_night_%d", c);
		feed(f, next, "acme-a09", "lookup", "allow", c, NULL, NULL,
		    "matches=1,region=CN-GD");
		feed(f, next + 10, "acme-a09", "reveal", "allow", c,
		    "name,phone", cid, "region=CN-GD");
		thief_reveals++;
		next += 300;
	}
}

/* Two vendors' agents break glass on the same customers, slowly. */
static void
share(struct feeder *f, int64_t from, int64_t to)
{
	if (next == 0)
		next = T0 + 3 * DAY_S + 9 * 3600;
	while (next >= from && next < to && next < T0 + 3 * DAY_S +
	    17 * 3600) {
		int c = 800000 + thief_reveals;

		feed(f, next, "callco-a14", "reveal", "allow", c, "phone",
		    NULL, "break_glass=1,region=CN-GD");
		feed(f, next + 600, "fixit-a14", "reveal", "allow", c,
		    "phone", NULL, "break_glass=1,region=CN-GD");
		thief_reveals++;
		next += 3000;
	}
}

/*-----------------------------------------------------------------------------
 * Tests
 */

/* A ring member: fixit-a15 breaks glass 4 times a working day from day
 * 3 (Monday), under every one-day minimum. */
static void
ring4(struct feeder *f, int64_t from, int64_t to)
{
	if (next == 0)
		next = T0 + 3 * DAY_S + 9 * 3600;
	while (next >= from && next < to) {
		int64_t sod = next % DAY_S;
		int wd = (int)((next / DAY_S + 3) % 7);

		if (wd < 5 && sod >= 9 * 3600 && sod < 17 * 3600) {
			feed(f, next, "fixit-a15", "reveal", "allow",
			    (int)(950000 + thief_reveals), "name,phone", NULL,
			    "break_glass=1,region=CN-GD");
			thief_reveals++;
		}
		next += 7200;	/* four in the working day */
	}
}

/* Three exporters revealing delivery labels without cases, one every two
 * minutes or so each (exponential gaps), 09:00-18:00 on weekdays; with
 * burst, dmreach-x2 goes four times as fast 10:00-11:00 on day 4. */
static int64_t exp_next[3];
static int burst;

static void
exporters(struct feeder *f, int64_t from, int64_t to)
{
	for (;;) {
		int k, m = 0;
		int64_t t, sod, day0;
		int wd;
		double gap;
		char who[32];

		for (k = 0; k < 3; k++) {
			if (exp_next[k] == 0)
				exp_next[k] = T0 + 9 * 3600 + k * 37;
			if (exp_next[k] < exp_next[m])
				m = k;
		}
		t = exp_next[m];
		if (t >= to)
			return;
		sod = t % DAY_S;
		day0 = t - sod;
		wd = (int)((t / DAY_S + 3) % 7);
		gap = -log((rnd() % 1000000 + 1) / 1000001.0) * 120.0;
		if (burst && m == 1 && day0 == T0 + 4 * DAY_S &&
		    sod >= 10 * 3600 && sod < 11 * 3600)
			gap /= 4;
		exp_next[m] = t + 1 + (int64_t)gap;
		if (wd >= 5 || sod < 9 * 3600 || sod >= 18 * 3600) {
			/* Off hours: the next working morning. */
			int64_t nd = sod >= 9 * 3600 ? day0 + DAY_S : day0;

			exp_next[m] = nd + 9 * 3600 + (int64_t)(rnd() % 300);
			continue;
		}
		if (t < from)
			continue;
		snprintf(who, sizeof(who), "dmreach-x%d", m + 1);
		feed(f, t, who, "reveal", "allow", (int)(1000000 + rnd() %
		    200000), "name,phone,address", NULL, "");
	}
}

/* Refusals on Monday 11:00-11:40: callco-a03's because the detector
 * contained it (marked as vigild marks them), callco-a04's its own. */
static void
contained_refusals(struct feeder *f, int64_t from, int64_t to)
{
	if (next == 0)
		next = T0 + 3 * DAY_S + 11 * 3600;
	while (next >= from && next < to && next < T0 + 3 * DAY_S +
	    11 * 3600 + 2400) {
		int c = 960000 + thief_reveals++;

		feed(f, next, "callco-a03", "reveal", "deny", c, "name",
		    "case_x", "contained=1");
		feed(f, next + 10, "callco-a03", "reveal", "step_up", c,
		    "name", "case_x", "approval=apr_x,why=contained");
		feed(f, next + 20, "callco-a04", "reveal", "deny", c, "name",
		    "case_y", "");
		next += 60;
	}
}

static void
world(int days, int surge_day, double surge, uint64_t seed)
{
	rng_s = seed;
	legit_fields = "name,phone";
	wide_who = -1;
	burst = 0;
	memset(exp_next, 0, sizeof(exp_next));
	nev = 0;
	thief_reveals = 0;
	next = 0;
	thief_caught = 0;
	thief_before = 0;
	legit(days, surge_day, surge);
}

static void
test_quiet_week(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	struct vg_detect_stats st;

	world(7, -1, 1, 1);
	run(&f, NULL);
	vg_detect_stats(f.d, &st);
	is_int(f.fail, 0, "a legitimate week: every record folds");
	ok(st.entries > 20000, "a legitimate week is %llu records",
	    (unsigned long long)st.entries);
	is_int(G.n, 0, "a legitimate week of %d agents raises no alert",
	    AGENTS);
	if (G.n > 0)
		printf("#   first: %s %s %s\n", G.a[0].principal, G.a[0].rule,
		    G.a[0].summary);
	/* Log time only moves with entries: nights and the weekend are
	 * one step each. */
	ok(st.recomputes >= 5 * 10 * 6 - 5 && st.recomputes <= 7 * 24 * 6,
	    "peer baselines every 10 minutes of log time while there is "
	    "work (%llu)", (unsigned long long)st.recomputes);
	is_int(st.principals, AGENTS + 1, "every agent and the ticketing "
	    "system tracked");
	vg_detect_free(f.d);
}

static void
test_surge(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };

	world(7, 3, 3.0, 2);
	run(&f, NULL);
	is_int(G.n, 0, "a surge that triples everyone's work on Monday "
	    "raises no alert");
	if (G.n > 0)
		printf("#   first: %s %s %s\n", G.a[0].principal, G.a[0].rule,
		    G.a[0].summary);
	vg_detect_free(f.d);
}

static void
test_honey(void)
{
	unsigned char honey[3][VG_IDBYTES];
	struct feeder f;
	size_t first = 0;

	cust_id(honey[0], 999001);
	cust_id(honey[1], 999002);
	cust_id(honey[2], 999003);
	qsort(honey, 3, VG_IDBYTES, id_cmp);
	f = (struct feeder){ fresh((const unsigned char (*)[VG_IDBYTES])
	    honey, 3), 0, 0 };
	world(2, -1, 1, 3);
	run(&f, NULL);
	is_int(G.n, 0, "no alert before the honeytoken is touched");
	feed(&f, T0 + 2 * DAY_S + 100, "callco-a02", "lookup", "allow",
	    999002, NULL, NULL, "matches=1,region=CN-GD");
	is_int(G.n, 1, "a lookup that lands on a honeytoken: one alert at "
	    "once, in the same feed call");
	ok(alerts_for("callco-a02", "honeytoken", &first) == 1,
	    "it names the principal, rule honeytoken");
	is_int(G.a[first].severity, VG_SEV_CRITICAL, "severity critical");
	is_int(G.a[first].action, VG_CONTAIN_SUSPEND, "containment: "
	    "suspend reveals");
	is_str(G.a[first].org, "callco", "with its org");
	ok(G.a[first].nseqs >= 1 && G.a[first].seq[G.a[first].nseqs - 1] ==
	    f.seq - 1, "and the audit entry that touched it");
	ok(strstr(G.a[first].summary, "honeytoken") != NULL, "in plain "
	    "words: %s", G.a[first].summary);
	ok(strncmp(G.a[first].id, "al_", 3) == 0 && strlen(G.a[first].id) ==
	    19, "alert id al_ + 16 hex (%s)", G.a[first].id);
	feed(&f, T0 + 2 * DAY_S + 200, "callco-a02", "reveal", "allow",
	    999003, "phone", NULL, "break_glass=1");
	is_int(G.n, 1, "a second honeytoken within the hour: no new alert");
	feed(&f, T0 + 2 * DAY_S + 300, "acme-a01", "view", "allow", 999001,
	    NULL, NULL, "");
	is_int(G.n, 2, "another principal's masked view of one: its own "
	    "critical alert");
	feed(&f, T0 + 2 * DAY_S + 4000, "callco-a02", "reveal", "deny",
	    999003, "phone", NULL, "");
	is_int(G.n, 3, "even a denied reveal of one, an hour later, alerts "
	    "again");
	vg_detect_free(f.d);
}

static void
test_bulk(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	size_t first = 0;

	world(5, -1, 1, 4);
	run(&f, bulk);
	ok(alerts_for("callco-a05", NULL, &first) >= 1, "the bulk harvester "
	    "is alerted");
	ok(thief_caught != 0 && thief_before < 50, "and contained after %d "
	    "records (target: before 50)", thief_before);
	ok(has_signal(&G.a[first], "reveals_without_case"), "signal: "
	    "reveals without a case (%s)", G.a[first].summary);
	ok(G.a[first].nseqs >= 5, "with %zu audit entries as evidence",
	    G.a[first].nseqs);
	is_int(G.n, alerts_for("callco-a05", NULL, NULL), "nobody else is "
	    "alerted");
	vg_detect_free(f.d);
}

static void
test_slow(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	size_t first = 0;

	world(7, -1, 1, 5);
	run(&f, slow);
	ok(alerts_for("fixit-a07", NULL, &first) >= 1, "low and slow (30 a "
	    "day without cases) is alerted");
	ok(G.n > 0 && G.a[first].time_ns / 1000000000 < T0 + 6 * DAY_S,
	    "within three days of starting (after %.1f h)", G.n > 0 ?
	    (G.a[first].time_ns / 1e9 - (T0 + 3 * DAY_S + 9 * 3600)) /
	    3600.0 : -1.0);
	ok(G.n > 0 && has_signal(&G.a[first], "reveals_without_case"),
	    "because of reveals without a case");
	is_int(G.n, alerts_for("fixit-a07", NULL, NULL), "nobody else");
	vg_detect_free(f.d);
}

static void
test_launder(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	size_t first = 0;

	world(7, -1, 1, 6);
	run(&f, launder);
	ok(alerts_for("acme-a03", NULL, &first) >= 1, "case laundering is "
	    "alerted");
	ok(G.n > 0 && has_signal(&G.a[first], "self_opened_cases"),
	    "signal: self-opened cases (%s)", G.n ? G.a[first].summary : "");
	is_int(G.n, alerts_for("acme-a03", NULL, NULL), "nobody else");
	vg_detect_free(f.d);
}

static void
test_validate(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	size_t first = 0;

	world(5, -1, 1, 7);
	run(&f, validate);
	ok(alerts_for("callco-a11", NULL, &first) >= 1, "list validation "
	    "is alerted");
	ok(G.n > 0 && has_signal(&G.a[first], "lookup_misses"), "signal: "
	    "lookup misses (%s)", G.n ? G.a[first].summary : "");
	is_int(G.n, alerts_for("callco-a11", NULL, NULL), "nobody else");
	vg_detect_free(f.d);
}

static void
test_night(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	size_t first = 0;

	world(6, -1, 1, 8);
	run(&f, night);
	ok(alerts_for("acme-a09", NULL, &first) >= 1, "off-shift theft is "
	    "alerted");
	ok(G.n > 0 && has_signal(&G.a[first], "off_shift"), "signal: off "
	    "shift (%s)", G.n ? G.a[first].summary : "");
	is_int(G.n, alerts_for("acme-a09", NULL, NULL), "nobody else");
	vg_detect_free(f.d);
}

static void
test_share(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	size_t a = 0, b = 0;
	int both;

	world(5, -1, 1, 9);
	run(&f, share);
	both = alerts_for("callco-a14", NULL, &a) >= 1 &&
	    alerts_for("fixit-a14", NULL, &b) >= 1;
	ok(both, "two vendors' agents revealing the same customers "
	    "without cases: both alerted");
	ok(both && (has_signal(&G.a[a], "shared_customers") ||
	    has_signal(&G.a[b], "shared_customers")), "with the shared "
	    "customers signal");
	vg_detect_free(f.d);
}

static void
test_determinism(void)
{
	static struct got first;
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	size_t i;
	int same = 1;

	world(5, -1, 1, 4);
	run(&f, bulk);
	vg_detect_free(f.d);
	first = G;
	f = (struct feeder){ fresh(NULL, 0), 0, 0 };
	world(5, -1, 1, 4);
	run(&f, bulk);
	vg_detect_free(f.d);
	for (i = 0; i < first.n && i < G.n; i++)
		same &= memcmp(&first.a[i], &G.a[i], sizeof(G.a[i])) == 0;
	ok(first.n > 0 && first.n == G.n && same, "the same records give "
	    "the same %zu alerts, byte for byte", G.n);
}

static void
test_order_and_unknown(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	struct vg_detect_stats st;

	is_int(feed(&f, T0 + 1000, "acme-a01", "lookup", "allow", 1, NULL,
	    NULL, ""), 0, "an entry folds");
	is_int(feed(&f, T0 + 1000 - 61, "acme-a01", "lookup", "allow", 1,
	    NULL, NULL, ""), VG_EINVAL, "one more than a minute older: "
	    "VG_EINVAL (not log order)");
	is_int(feed(&f, T0 + 1000 - 30, "acme-a01", "lookup", "allow", 1,
	    NULL, NULL, ""), 0, "30 s older (another node's clock): taken");
	is_int(feed(&f, T0 + 1100, "stranger", "reveal", "allow", 2, "phone",
	    NULL, ""), 0, "a principal the directory does not know: folded");
	is_int(feed(&f, T0 + 1200, "detector", "detect.contain", "allow", -1,
	    NULL, NULL, "target=acme-a01"), 0, "the detector's own entries "
	    "are skipped");
	vg_detect_stats(f.d, &st);
	is_int(st.principals, 2, "two principals tracked (not the "
	    "detector)");
	is_int(st.groups, 4, "groups: acme agents, agents, and the "
	    "stranger's own pair");
	vg_detect_free(f.d);
}

static void
test_own_history(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	int day, i;
	size_t first = 0;

	/* fixit-a19 works at 10 reveals a day for 10 weekdays... and then
	 * 100 in a day, all under assigned cases.  Its peers are busier
	 * (legit), so only its own history can see the jump. */
	world(15, -1, 1, 10);
	{
		size_t k, m = 0;

		for (k = 0; k < nev; k++)
			if (evs[k].who != AGENTS - 1)
				evs[m++] = evs[k];
		nev = m;
	}
	for (day = 0; day < 15; day++) {
		int64_t d0 = T0 + (int64_t)day * DAY_S;
		int wd = (int)((d0 / DAY_S + 3) % 7), n;

		if (wd >= 5)
			continue;
		n = day == 14 ? 110 : 10;
		for (i = 0; i < n; i++) {
			int64_t t = d0 + 9 * 3600 + i * (day == 14 ? 250 :
			    2500);
			uint32_t c = 900000 + (uint32_t)(day * 1000 + i);

			push(t, K_CASE, AGENTS - 1, c);
			push(t + 60, K_REVEAL, AGENTS - 1, c);
		}
	}
	run(&f, NULL);
	ok(alerts_for("fixit-a19", NULL, &first) >= 1, "a jump against "
	    "one's own history is alerted");
	ok(G.n > 0 && has_signal(&G.a[first], "own_history"), "signal: own "
	    "history (%s)", G.n ? G.a[first].summary : "");
	vg_detect_free(f.d);
}

static void
test_ring_member(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	size_t first = 0;
	double h;

	world(7, -1, 1, 11);
	run(&f, ring4);
	ok(alerts_for("fixit-a15", NULL, &first) >= 1, "a ring member "
	    "taking 4 records a day without a case (under every one-day "
	    "minimum) is alerted");
	h = G.n > 0 ? (G.a[first].time_ns / 1e9 - (T0 + 3 * DAY_S +
	    9 * 3600)) / 3600.0 : -1.0;
	ok(G.n > 0 && h < 2 * 24 + 9, "by its second working day (after "
	    "%.1f h)", h);
	ok(G.n > 0 && has_signal(&G.a[first], "reveals_without_case") &&
	    strcmp(G.a[first].signal[0].window, "30d") == 0,
	    "by its reveals without a case over 30 days (%s)", G.n ?
	    G.a[first].summary : "");
	is_int(G.n, alerts_for("fixit-a15", NULL, NULL), "nobody else");
	vg_detect_free(f.d);
}

static void
test_wide(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	size_t first = 0;

	/* acme-a12 reveals a third field on every case; its peers two. */
	world(5, -1, 1, 12);
	wide_who = 12;
	run(&f, NULL);
	ok(alerts_for("acme-a12", NULL, &first) >= 1, "an agent revealing "
	    "more fields than its peers on every case is alerted");
	ok(G.n > 0 && has_signal(&G.a[first], "wide_reveals"), "signal: "
	    "wide reveals (%s)", G.n ? G.a[first].summary : "");
	ok(G.n > 0 && G.a[first].time_ns / 1000000000 < T0 + DAY_S,
	    "on its first working day");
	is_int(G.n, alerts_for("acme-a12", NULL, NULL), "nobody else");
	vg_detect_free(f.d);

	/* Everybody's cases need three fields (a store's delivery): wide
	 * is their peers' share, no alert, even at three times the load. */
	f = (struct feeder){ fresh(NULL, 0), 0, 0 };
	world(7, 3, 3.0, 13);
	legit_fields = "name,phone,address";
	run(&f, NULL);
	is_int(G.n, 0, "a week of reveals that all need three fields, "
	    "with a surge: no alert");
	if (G.n > 0)
		printf("#   first: %s %s %s\n", G.a[0].principal,
		    G.a[0].rule, G.a[0].summary);
	vg_detect_free(f.d);
}

static void
test_no_peers(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	size_t first = 0;
	int i;

	world(7, -1, 1, 14);
	run(&f, exporters);
	is_int(G.n, 0, "three exporters (no peers to speak of) revealing "
	    "labels without cases at their usual pace for a week: no alert");
	if (G.n > 0)
		printf("#   first: %s %s %s\n", G.a[0].principal,
		    G.a[0].rule, G.a[0].summary);
	vg_detect_free(f.d);

	f = (struct feeder){ fresh(NULL, 0), 0, 0 };
	world(7, -1, 1, 14);
	burst = 1;
	run(&f, exporters);
	ok(alerts_for("dmreach-x2", NULL, &first) >= 1, "one of them at "
	    "four times its pace for an hour is alerted");
	ok(G.n > 0 && strcmp(G.a[first].rule, "own_history") == 0 &&
	    strcmp(G.a[first].signal[0].basis, "own") == 0, "against its "
	    "own past (rule %s: %s)", G.n ? G.a[first].rule : "",
	    G.n ? G.a[first].summary : "");
	ok(G.n > 0 && G.a[first].time_ns / 1000000000 >= T0 + 4 * DAY_S +
	    10 * 3600 && G.a[first].time_ns / 1000000000 < T0 + 4 * DAY_S +
	    11 * 3600, "within that hour");
	is_int(G.n, alerts_for("dmreach-x2", NULL, NULL), "nobody else");
	for (i = 0; i < (int)G.n; i++)
		if (strcmp(G.a[i].signal[0].basis, "peers") == 0)
			break;
	is_int(i, (int)G.n, "no signal of theirs is against peers");
	vg_detect_free(f.d);
}

static void
test_contained_refusals(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	size_t first = 0;

	/* Monday 11:00 to 11:40, amid everyone's work: callco-a03 is
	 * suspended by the detector, every reveal it tries is refused, and
	 * vigild says so in the entry; callco-a04 is refused for its own
	 * doing. */
	world(4, -1, 1, 15);
	run(&f, contained_refusals);
	is_int(alerts_for("callco-a03", NULL, NULL), 0, "40 reveals refused "
	    "by the detector's own containment in an hour: not probing, no "
	    "alert");
	ok(alerts_for("callco-a04", NULL, &first) >= 1 &&
	    has_signal(&G.a[first], "denied"), "40 of the principal's own "
	    "refusals in an hour: denied (%s)", G.n ? G.a[first].summary :
	    "");
	is_int(G.n, alerts_for("callco-a04", NULL, NULL), "nobody else");
	vg_detect_free(f.d);
}

static void
test_memory(void)
{
	struct feeder f = { fresh(NULL, 0), 0, 0 };
	struct vg_detect_stats st;
	char who[32];
	int i;

	for (i = 0; i < 100000; i++) {
		snprintf(who, sizeof(who), "%s-m%06d", org_name[i % 3], i);
		if (feed(&f, T0 + i / 100, who, "reveal", "allow", i,
		    "phone", "case_1", "") != 0)
			break;
	}
	vg_detect_stats(f.d, &st);
	is_int(st.principals, 100000, "100,000 principals tracked");
	ok(st.bytes < 200u * 1024 * 1024, "in %.1f MB of state (target: "
	    "under 200 MB)", st.bytes / 1048576.0);
	vg_detect_free(f.d);
}

int
main(void)
{
	test_quiet_week();
	test_surge();
	test_honey();
	test_bulk();
	test_slow();
	test_launder();
	test_validate();
	test_night();
	test_share();
	test_determinism();
	test_order_and_unknown();
	test_own_history();
	test_ring_member();
	test_wide();
	test_no_peers();
	test_contained_refusals();
	test_memory();
	return done_testing();
}
