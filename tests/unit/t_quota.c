/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/quota.c: window names and lengths, argument checks,
 * windows sliding at their exact edges (an event at t counts until
 * t + length), distinct customers and seen[], break-glass reveals and
 * their expiry, cases handled, decide results other than 1, older
 * timestamps taken at the principal's clock, saturation at
 * VG_QUOTA_EVENTS_MAX and its end, a random walk checked step by step
 * against a brute-force count over every event, 8 threads deciding under
 * one limit (exactly the limit is recorded), the fold equal to live
 * decisions, memory for 10,000 principals with 100 reveals each against
 * a computed bound, a rebuild from a real audit chain (written with
 * vg_audit_append) that gives the live usage back, and a rebuild of two
 * chains (two nodes) merged in time order.  The chains live in a
 * mkdtemp directory under /tmp, removed at the end.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vigil/quota.h"

#define MINUTE	VG_QW_MINUTE
#define HOUR	VG_QW_HOUR
#define DAY	VG_QW_DAY
#define WEEK	VG_QW_WEEK
#define MONTH	VG_QW_MONTH
#define NW	VG_QW_COUNT

static const int64_t len_w[NW] = { 60, 3600, 86400, 604800, 2592000 };
static char root[PATH_MAX];

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* A customer id made from n. */
static const unsigned char *
cid(unsigned n, unsigned char buf[VG_IDBYTES])
{
	memset(buf, 0, VG_IDBYTES);
	buf[0] = 0xc5;
	buf[12] = (unsigned char)(n >> 24);
	buf[13] = (unsigned char)(n >> 16);
	buf[14] = (unsigned char)(n >> 8);
	buf[15] = (unsigned char)n;
	return buf;
}

static int
cb_allow(void *ctx, const struct vg_quota_usage *u)
{
	if (ctx != NULL)
		*(struct vg_quota_usage *)ctx = *u;
	return 1;
}

static int
cb_deny(void *ctx, const struct vg_quota_usage *u)
{
	(void)ctx;
	(void)u;
	return 0;
}

static int
cb_seven(void *ctx, const struct vg_quota_usage *u)
{
	(void)ctx;
	(void)u;
	return 7;
}

static int
cb_two(void *ctx, const struct vg_quota_usage *u)
{
	(void)ctx;
	(void)u;
	return 2;
}

/* Allows while the minute's reveals are under *(uint32_t *)ctx. */
static int
cb_limit(void *ctx, const struct vg_quota_usage *u)
{
	return u->reveals[MINUTE] < *(const uint32_t *)ctx;
}

/* One reveal allowed; returns decide's result. */
static int
reveal(struct vg_quota *q, const char *who, int cust, int64_t t, bool bg)
{
	unsigned char id[VG_IDBYTES];

	return vg_quota_decide(q, who, cust < 0 ? NULL : cid((unsigned)cust,
	    id), t, bg, cb_allow, NULL);
}

static struct vg_quota_usage
usage(struct vg_quota *q, const char *who, int cust, int64_t t)
{
	struct vg_quota_usage u;
	unsigned char id[VG_IDBYTES];

	memset(&u, 0xee, sizeof(u));
	if (vg_quota_usage(q, who, cust < 0 ? NULL : cid((unsigned)cust, id),
	    t, &u) != 0)
		memset(&u, 0xee, sizeof(u));
	return u;
}

static struct vg_quota *
new_quota(void)
{
	struct vg_quota *q = NULL;

	if (vg_quota_new(&q) != 0) {
		printf("# vg_quota_new failed\n");
		exit(1);
	}
	return q;
}

/*-----------------------------------------------------------------------------
 * Basics
 */

static void
test_windows(void)
{
	static const char *const names[NW] = { "minute", "hour", "day",
	    "week", "month" };
	int w, good = 1;

	for (w = 0; w < NW; w++)
		good &= vg_qwin_seconds(w) == len_w[w] &&
		    strcmp(vg_qwin_name(w), names[w]) == 0 &&
		    vg_qwin_from_name(names[w]) == w;
	ok(good, "windows: minute 60 s ... month 30 days, names both ways");
	ok(vg_qwin_seconds(-1) == -1 && vg_qwin_seconds(NW) == -1 &&
	    vg_qwin_name(NW) == NULL && vg_qwin_from_name("year") == -1 &&
	    vg_qwin_from_name(NULL) == -1, "unknown windows");
}

static void
test_args(void)
{
	struct vg_quota *q = new_quota();
	struct vg_quota_usage u;
	char longname[VG_AUDIT_STR_MAX + 2];
	uint64_t np = 9, nb = 0;

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	is_int(vg_quota_decide(NULL, "a", NULL, 1, false, cb_allow, NULL),
	    VG_EINVAL, "NULL quota");
	is_int(vg_quota_decide(q, NULL, NULL, 1, false, cb_allow, NULL),
	    VG_EINVAL, "NULL principal");
	is_int(vg_quota_decide(q, "", NULL, 1, false, cb_allow, NULL),
	    VG_EINVAL, "empty principal");
	is_int(vg_quota_decide(q, longname, NULL, 1, false, cb_allow, NULL),
	    VG_EINVAL, "principal over %d bytes", VG_AUDIT_STR_MAX);
	longname[VG_AUDIT_STR_MAX] = '\0';
	is_int(vg_quota_decide(q, longname, NULL, 1, false, cb_allow, NULL),
	    1, "principal of %d bytes", VG_AUDIT_STR_MAX);
	is_int(vg_quota_decide(q, "a", NULL, -1, false, cb_allow, NULL),
	    VG_EINVAL, "negative time");
	is_int(vg_quota_decide(q, "a", NULL, ((int64_t)1 << 40) + 1, false,
	    cb_allow, NULL), VG_EINVAL, "time past 2^40");
	is_int(vg_quota_decide(q, "a", NULL, 1, false, NULL, NULL),
	    VG_EINVAL, "NULL decide");
	is_int(vg_quota_usage(q, "a", NULL, 1, NULL), VG_EINVAL,
	    "NULL usage out");
	is_int(vg_quota_add_case(q, "", 1), VG_EINVAL, "empty case principal");
	is_int(vg_quota_fold(q, NULL), VG_EINVAL, "NULL record");
	is_int(vg_quota_usage(q, "nobody", NULL, 5, &u), 0,
	    "usage of an unknown principal");
	ok(u.reveals[MONTH] == 0 && u.customers[MINUTE] == 0 &&
	    !u.saturated && u.reveal_expiry[MINUTE] == 0, "  is zero");
	vg_quota_stats(q, &np, &nb);
	is_int(np, 1, "  and is not tracked (only the %d-byte one is)",
	    VG_AUDIT_STR_MAX);
	ok(nb > 0, "stats report bytes");
	vg_quota_stats(NULL, &np, NULL);
	is_int(np, 0, "stats of NULL");
	vg_quota_free(q);
	vg_quota_free(NULL);
}

/*-----------------------------------------------------------------------------
 * Windows sliding
 */

static void
test_sliding(void)
{
	struct vg_quota *q = new_quota();
	struct vg_quota_usage u;
	const int64_t t0 = 1000000;
	int w, good;

	is_int(reveal(q, "w", 1, t0, false), 1, "a reveal at t0");
	u = usage(q, "w", 1, t0);
	good = 1;
	for (w = 0; w < NW; w++)
		good &= u.reveals[w] == 1 && u.customers[w] == 1 &&
		    u.seen[w] && u.reveal_expiry[w] == t0 + len_w[w] &&
		    u.break_glass[w] == 0 && u.break_glass_expiry[w] == 0 &&
		    u.cases[w] == 0;
	ok(good, "at t0 it counts in every window, expiring at t0 + length");
	for (w = 0; w < NW; w++) {
		u = usage(q, "w", 1, t0 + len_w[w] - 1);
		ok(u.reveals[w] == 1 && u.seen[w] &&
		    (w == 0 || u.reveals[w - 1] == 0),
		    "at t0 + %lld - 1 it still counts in the %s window",
		    (long long)len_w[w], vg_qwin_name(w));
		u = usage(q, "w", 1, t0 + len_w[w]);
		ok(u.reveals[w] == 0 && !u.seen[w] && u.customers[w] == 0 &&
		    u.reveal_expiry[w] == 0 &&
		    (w == NW - 1 || u.reveals[w + 1] == 1),
		    "at t0 + %lld it has left the %s window",
		    (long long)len_w[w], vg_qwin_name(w));
	}
	/* Everything gone: the principal starts again. */
	is_int(reveal(q, "w", 2, t0 + 3000000, false), 1,
	    "a reveal after everything expired");
	u = usage(q, "w", 2, t0 + 3000000);
	ok(u.reveals[MONTH] == 1 && u.customers[MONTH] == 1,
	    "  counts alone");
	vg_quota_free(q);
}

static void
test_customers(void)
{
	struct vg_quota *q = new_quota();
	struct vg_quota_usage u;
	const int64_t t = 5000000;

	(void)reveal(q, "c", 1, t, false);		/* A */
	(void)reveal(q, "c", 2, t + 10, false);		/* B */
	(void)reveal(q, "c", 1, t + 20, false);		/* A again */
	(void)reveal(q, "c", -1, t + 25, false);	/* no customer */
	u = usage(q, "c", 1, t + 30);
	ok(u.reveals[MINUTE] == 4 && u.customers[MINUTE] == 2 &&
	    u.customers[MONTH] == 2, "A, B, A, none: 4 reveals, 2 customers");
	ok(u.seen[MINUTE] && u.seen[MONTH], "A is seen");
	u = usage(q, "c", 3, t + 30);
	ok(!u.seen[MINUTE] && !u.seen[MONTH] && u.customers[MINUTE] == 2,
	    "C is not");
	u = usage(q, "c", -1, t + 30);
	ok(!u.seen[MINUTE], "nor is no customer");
	u = usage(q, "c", 2, t + 69);
	ok(u.reveals[MINUTE] == 3 && u.customers[MINUTE] == 2 &&
	    u.seen[MINUTE] && u.reveal_expiry[MINUTE] == t + 70,
	    "t+69: A's first reveal left, A still in by its second");
	u = usage(q, "c", 2, t + 70);
	ok(u.reveals[MINUTE] == 2 && u.customers[MINUTE] == 1 &&
	    !u.seen[MINUTE] && u.seen[HOUR] && u.customers[HOUR] == 2,
	    "t+70: B left the minute, still in the hour");
	u = usage(q, "c", 1, t + 80);
	ok(u.reveals[MINUTE] == 1 && u.customers[MINUTE] == 0 &&
	    !u.seen[MINUTE] && u.reveal_expiry[MINUTE] == t + 85,
	    "t+80: A left too; the customerless reveal remains");
	(void)reveal(q, "c", 2, t + 100, false);
	u = usage(q, "c", 2, t + 100);
	ok(u.customers[MINUTE] == 1 && u.customers[HOUR] == 2 &&
	    u.seen[MINUTE], "B again: back in the minute, no double count");
	u = usage(q, "c", 1, t + 2592020);
	ok(u.reveals[MONTH] == 2 && u.customers[MONTH] == 1 &&
	    !u.seen[MONTH], "a month on: A's last reveal left, A is gone");
	u = usage(q, "c", 2, t + 2592100);
	ok(u.reveals[MONTH] == 0 && u.customers[MONTH] == 0 &&
	    !u.seen[MONTH], "then B");
	vg_quota_free(q);
}

static void
test_break_glass_cases(void)
{
	struct vg_quota *q = new_quota();
	struct vg_quota_usage u;
	const int64_t t = 7000000;

	(void)reveal(q, "b", 1, t, true);
	(void)reveal(q, "b", 2, t + 10, false);
	(void)reveal(q, "b", 3, t + 30, true);
	u = usage(q, "b", 1, t + 30);
	ok(u.reveals[MINUTE] == 3 && u.break_glass[MINUTE] == 2 &&
	    u.break_glass[MONTH] == 2, "3 reveals, 2 of them break-glass");
	is_int(u.break_glass_expiry[MINUTE], t + 60,
	    "break-glass expiry: the oldest one's");
	is_int(u.break_glass_expiry[DAY], t + 86400, "  in the day window");
	u = usage(q, "b", 1, t + 60);
	ok(u.break_glass[MINUTE] == 1 &&
	    u.break_glass_expiry[MINUTE] == t + 90 &&
	    u.reveal_expiry[MINUTE] == t + 70, "at t+60: the next one's");
	u = usage(q, "b", 1, t + 90);
	ok(u.break_glass[MINUTE] == 0 && u.break_glass_expiry[MINUTE] == 0 &&
	    u.break_glass[HOUR] == 2, "at t+90: none in the minute");

	is_int(vg_quota_add_case(q, "b", t + 100), 0, "a case handled");
	is_int(vg_quota_add_case(q, "b", t + 200), 0, "another");
	is_int(vg_quota_add_case(q, "k", t + 100), 0,
	    "a case for a principal with no reveals");
	u = usage(q, "b", -1, t + 200);
	ok(u.cases[MINUTE] == 1 && u.cases[HOUR] == 2 && u.cases[MONTH] == 2,
	    "cases: 1 in the minute, 2 in the hour");
	u = usage(q, "k", -1, t + 100 + 3599);
	ok(u.cases[HOUR] == 1 && u.reveals[HOUR] == 0, "k: 1 case, 0 reveals");
	u = usage(q, "k", -1, t + 100 + 3600);
	ok(u.cases[HOUR] == 0 && u.cases[DAY] == 1, "  it leaves the hour");
	vg_quota_free(q);
}

static void
test_decide(void)
{
	struct vg_quota *q = new_quota();
	struct vg_quota_usage u, seen;
	unsigned char id[VG_IDBYTES];
	const int64_t t = 9000000;

	is_int(vg_quota_decide(q, "d", cid(1, id), t, false, cb_deny, NULL), 0,
	    "decide 0 is returned");
	u = usage(q, "d", 1, t);
	ok(u.reveals[MONTH] == 0 && u.customers[MONTH] == 0,
	    "  and records nothing");
	is_int(vg_quota_decide(q, "d", cid(1, id), t, true, cb_seven, NULL), 7,
	    "decide 7 is returned as is");
	u = usage(q, "d", 1, t);
	ok(u.reveals[MONTH] == 0 && u.break_glass[MONTH] == 0,
	    "  and records nothing");
	is_int(vg_quota_decide(q, "two", cid(1, id), t, false, cb_two, NULL),
	    2, "decide 2 is returned");
	is_int(vg_quota_decide(q, "two", cid(2, id), t, true, cb_two, NULL), 2,
	    "  with break_glass set too");
	u = usage(q, "two", 1, t);
	ok(u.reveals[MONTH] == 2 && u.break_glass[MONTH] == 2 &&
	    u.customers[MONTH] == 2 && u.break_glass_expiry[MINUTE] == t + 60,
	    "  and records break-glass reveals, once each");
	(void)reveal(q, "d", 1, t, false);
	memset(&seen, 0, sizeof(seen));
	is_int(vg_quota_decide(q, "d", cid(1, id), t + 1, false, cb_allow,
	    &seen), 1, "decide 1");
	ok(seen.reveals[MINUTE] == 1 && seen.seen[MINUTE],
	    "  saw the usage before the request");

	/* An older time is taken at the principal's clock. */
	(void)reveal(q, "old", 1, t + 1000, false);
	(void)reveal(q, "old", 2, t + 990, false);
	u = usage(q, "old", 1, t + 980);
	ok(u.reveals[MINUTE] == 2 && u.customers[MINUTE] == 2 &&
	    u.reveal_expiry[MINUTE] == t + 1060,
	    "a late event is recorded at the clock (t+1000), not at t+990");
	u = usage(q, "old", 1, t + 1059);
	is_int(u.reveals[MINUTE], 2, "  both count until t+1059");
	u = usage(q, "old", 1, t + 1060);
	is_int(u.reveals[MINUTE], 0, "  and leave together at t+1060");
	u = usage(q, "old", 1, t);
	is_int(u.reveals[MINUTE], 0,
	    "asking at an older time cannot bring them back");
	vg_quota_free(q);
}

static void
test_saturation(void)
{
	struct vg_quota *q = new_quota();
	struct vg_quota_usage u;
	const int64_t t = 20000000;
	uint64_t np, b0, b1, b2;
	int i, ones = 0, w, all;

	vg_quota_stats(q, &np, &b0);

	for (i = 0; i < VG_QUOTA_EVENTS_MAX - 1; i++)
		ones += reveal(q, "s", -1, t, false) == 1;
	u = usage(q, "s", -1, t);
	ok(ones == VG_QUOTA_EVENTS_MAX - 1 && !u.saturated &&
	    u.reveals[MONTH] == VG_QUOTA_EVENTS_MAX - 1,
	    "%d reveals: not saturated", VG_QUOTA_EVENTS_MAX - 1);
	ones += reveal(q, "s", -1, t, false) == 1;
	u = usage(q, "s", -1, t);
	all = u.saturated;
	for (w = 0; w < NW; w++)
		all &= u.reveals[w] == UINT32_MAX &&
		    u.customers[w] == UINT32_MAX &&
		    u.break_glass[w] == UINT32_MAX && u.cases[w] == 0;
	ok(all, "%d: saturated, and every count reads UINT32_MAX",
	    VG_QUOTA_EVENTS_MAX);
	vg_quota_stats(q, &np, &b1);
	is_int(reveal(q, "s", 1, t + 10, true), 1,
	    "one more is allowed by its decide");
	vg_quota_stats(q, &np, &b2);
	ok(b2 <= b1 + 1024, "  but not kept (%llu bytes, then %llu)",
	    (unsigned long long)b1, (unsigned long long)b2);
	u = usage(q, "s", -1, t + 2592000);
	ok(u.saturated && u.reveals[MONTH] == UINT32_MAX,
	    "a month on, the kept ones left, but the dropped one would not "
	    "have: still saturated");
	u = usage(q, "s", -1, t + 10 + 2592000);
	ok(!u.saturated && u.reveals[MONTH] == 0 && u.break_glass[MONTH] == 0,
	    "once it would have left too: clear");
	vg_quota_stats(q, &np, &b2);
	ok(b2 - b0 < 1024, "and its memory is given back (%llu bytes for "
	    "the principal)", (unsigned long long)(b2 - b0));
	vg_quota_free(q);
}

/*-----------------------------------------------------------------------------
 * A random walk against brute force
 */

#define WALK_STEPS	6000
#define WALK_WHO	3

struct mev {
	int64_t t;
	int cust;		/* -1: none */
	bool bg;
};

struct model {
	struct mev ev[WALK_STEPS];
	int nev;
	int64_t cases[WALK_STEPS];
	int ncases;
	int64_t clock;
};

/* The usage a brute-force count gives. */
static void
model_usage(const struct model *m, int cust, int64_t now,
    struct vg_quota_usage *u)
{
	bool in[64];
	int w, i, k;

	memset(u, 0, sizeof(*u));
	for (w = 0; w < NW; w++) {
		memset(in, 0, sizeof(in));
		for (i = 0; i < m->nev; i++) {
			if (m->ev[i].t <= now - len_w[w])
				continue;
			if (u->reveals[w]++ == 0)
				u->reveal_expiry[w] = m->ev[i].t + len_w[w];
			if (m->ev[i].bg && u->break_glass[w]++ == 0)
				u->break_glass_expiry[w] = m->ev[i].t +
				    len_w[w];
			if (m->ev[i].cust >= 0)
				in[m->ev[i].cust] = true;
		}
		for (k = 0; k < 64; k++)
			u->customers[w] += in[k];
		u->seen[w] = cust >= 0 && in[cust];
		for (i = 0; i < m->ncases; i++)
			u->cases[w] += m->cases[i] > now - len_w[w];
	}
}

static int
usage_equal(const struct vg_quota_usage *a, const struct vg_quota_usage *b)
{
	int w;

	for (w = 0; w < NW; w++)
		if (a->reveals[w] != b->reveals[w] ||
		    a->customers[w] != b->customers[w] ||
		    a->seen[w] != b->seen[w] ||
		    a->break_glass[w] != b->break_glass[w] ||
		    a->cases[w] != b->cases[w] ||
		    a->reveal_expiry[w] != b->reveal_expiry[w] ||
		    a->break_glass_expiry[w] != b->break_glass_expiry[w])
			return 0;
	return a->saturated == b->saturated;
}

static void
print_usage(const char *what, const struct vg_quota_usage *u)
{
	int w;

	printf("# %s:", what);
	for (w = 0; w < NW; w++)
		printf(" [%u %u %d %u %u %lld %lld]", u->reveals[w],
		    u->customers[w], u->seen[w], u->break_glass[w],
		    u->cases[w], (long long)u->reveal_expiry[w],
		    (long long)u->break_glass_expiry[w]);
	printf("\n");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* Keeps only the model's events of the last 30 days (as the real state
 * does; the brute force stays cheap). */
static void
model_trim(struct model *m)
{
	int i, k;

	for (i = 0; i < m->nev && m->ev[i].t <= m->clock - len_w[MONTH]; i++)
		;
	memmove(m->ev, m->ev + i, (size_t)(m->nev - i) * sizeof(m->ev[0]));
	m->nev -= i;
	for (k = 0; k < m->ncases &&
	    m->cases[k] <= m->clock - len_w[MONTH]; k++)
		;
	memmove(m->cases, m->cases + k, (size_t)(m->ncases - k) *
	    sizeof(m->cases[0]));
	m->ncases -= k;
}

static void
test_walk(void)
{
	static struct model m[WALK_WHO];
	static const char *const who[WALK_WHO] = { "r0", "r1", "r2" };
	struct vg_quota *q = new_quota();
	struct vg_quota_usage got, want;
	unsigned char id[VG_IDBYTES];
	int64_t t = 100000000, at;
	int step, p, c, r, bad = 0, checks = 0;
	bool bg;

	memset(m, 0, sizeof(m));
	for (step = 0; step < WALK_STEPS; step++) {
		r = (int)rnd(1000);
		if (r < 700)
			t += rnd(20);
		else if (r < 950)
			t += rnd(400);
		else if (r < 990)
			t += rnd(3 * 86400);
		else
			t += rnd(40 * 86400);
		p = (int)rnd(WALK_WHO);
		c = (int)rnd(60) - 1;		/* -1: no customer */
		at = rnd(20) == 0 ? t - rnd(30) : t;	/* sometimes late */
		if (at < m[p].clock)
			at = m[p].clock;
		m[p].clock = at;
		model_trim(&m[p]);
		if (rnd(20) == 0) {
			if (vg_quota_add_case(q, who[p], at) != 0)
				bad++;
			m[p].cases[m[p].ncases++] = at;
		} else if (rnd(4) == 0) {
			/* Denied: nothing recorded. */
			if (vg_quota_decide(q, who[p], c < 0 ? NULL :
			    cid((unsigned)c, id), at, true, cb_deny, NULL) != 0)
				bad++;
		} else {
			bg = rnd(10) == 0;
			if (vg_quota_decide(q, who[p], c < 0 ? NULL :
			    cid((unsigned)c, id), at, bg, cb_allow, &got) != 1)
				bad++;
			model_usage(&m[p], c, at, &want);
			checks++;
			if (!usage_equal(&got, &want)) {
				if (bad < 3) {
					printf("# step %d: %s at %lld\n",
					    step, who[p], (long long)at);
					print_usage("got ", &got);
					print_usage("want", &want);
				}
				bad++;
			}
			m[p].ev[m[p].nev].t = at;
			m[p].ev[m[p].nev].cust = c;
			m[p].ev[m[p].nev].bg = bg;
			m[p].nev++;
		}
		/* And a look at a random customer, now. */
		c = (int)rnd(60) - 1;
		at = m[p].clock;
		got = usage(q, who[p], c, at);
		model_usage(&m[p], c, at, &want);
		checks++;
		if (!usage_equal(&got, &want)) {
			if (bad < 3) {
				printf("# step %d (usage): %s at %lld\n", step,
				    who[p], (long long)at);
				print_usage("got ", &got);
				print_usage("want", &want);
			}
			bad++;
		}
	}
	ok(bad == 0, "a random walk of %d steps (%d checks, late events, "
	    "gaps up to 40 days) matches brute force", WALK_STEPS, checks);
	vg_quota_free(q);
}

/*-----------------------------------------------------------------------------
 * Threads
 */

#define NTHREADS 8

struct th {
	struct vg_quota *q;
	int64_t now;
	uint32_t limit;
	int ones, errors, id;
};

static void *
th_limit(void *arg)
{
	struct th *th = arg;
	unsigned char id[VG_IDBYTES];
	int i, rc;

	for (i = 0; i < 100; i++) {
		rc = vg_quota_decide(th->q, "shared", cid((unsigned)(th->id *
		    1000 + i), id), th->now, false, cb_limit, &th->limit);
		if (rc == 1)
			th->ones++;
		else if (rc != 0)
			th->errors++;
	}
	return NULL;
}

static void *
th_own(void *arg)
{
	struct th *th = arg;
	unsigned char id[VG_IDBYTES];
	char name[32];
	int i;

	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "own-%d-%d", th->id, i % 50);
		if (vg_quota_decide(th->q, name, cid((unsigned)i % 7, id),
		    th->now + i / 100, false, cb_allow, NULL) != 1)
			th->errors++;
	}
	return NULL;
}

static void
test_threads(void)
{
	struct vg_quota *q = new_quota();
	struct vg_quota_usage u;
	pthread_t tid[NTHREADS];
	struct th th[NTHREADS];
	char name[32];
	int i, k, ones = 0, errors = 0, good;
	uint64_t np;

	for (i = 0; i < NTHREADS; i++) {
		memset(&th[i], 0, sizeof(th[i]));
		th[i].q = q;
		th[i].now = 30000000;
		th[i].limit = 100;
		th[i].id = i;
		if (pthread_create(&tid[i], NULL, th_limit, &th[i]) != 0)
			errors++;
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < NTHREADS; i++) {
		ones += th[i].ones;
		errors += th[i].errors;
	}
	ok(ones == 100 && errors == 0,
	    "8 threads x 100 decides under a limit of 100: %d allowed", ones);
	u = usage(q, "shared", -1, 30000000);
	ok(u.reveals[MINUTE] == 100 && u.customers[MINUTE] == 100,
	    "  and exactly 100 recorded");

	for (i = 0; i < NTHREADS; i++) {
		th[i].errors = 0;
		if (pthread_create(&tid[i], NULL, th_own, &th[i]) != 0)
			errors++;
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(tid[i], NULL);
	good = errors == 0;
	for (i = 0; i < NTHREADS; i++) {
		good &= th[i].errors == 0;
		for (k = 0; k < 50; k++) {
			snprintf(name, sizeof(name), "own-%d-%d", i, k);
			u = usage(q, name, -1, 30000000 + 20);
			good &= u.reveals[MONTH] == 40 &&
			    u.customers[MONTH] == 7 &&
			    u.reveals[MINUTE] == 40;
		}
	}
	vg_quota_stats(q, &np, NULL);
	ok(good && np == 1 + NTHREADS * 50, "8 threads on 400 principals of "
	    "their own: every count right (%llu tracked)",
	    (unsigned long long)np);
	vg_quota_free(q);
}

/*-----------------------------------------------------------------------------
 * The fold
 */

static void
rec_init(struct vg_audit_record *r, int64_t t_ns, const char *who,
    const char *action, const char *decision, int cust, const char *reason,
    const char *detail)
{
	memset(r, 0, sizeof(*r));
	r->time_ns = t_ns;
	snprintf(r->principal, sizeof(r->principal), "%s", who);
	snprintf(r->action, sizeof(r->action), "%s", action);
	snprintf(r->decision, sizeof(r->decision), "%s", decision);
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
	snprintf(r->detail, sizeof(r->detail), "%s", detail ? detail : "");
	if (cust >= 0) {
		r->has_customer = true;
		cid((unsigned)cust, r->customer);
	}
}

static void
test_fold(void)
{
	struct vg_quota *live = new_quota(), *fold = new_quota();
	struct vg_audit_record *r = malloc(sizeof(*r));
	struct vg_quota_usage a, b;
	const int64_t t0 = 40000000;
	static const char *const who[3] = { "f0", "f1", "f2" };
	int i, k, w, good = 1, rc = 0;
	int64_t t = t0;

	if (r == NULL)
		return;
	for (i = 0; i < 3000; i++) {
		const char *p = who[i % 3];
		int cust = (i * 7) % 41 - 1;
		bool bg = i % 11 == 0;
		int64_t ns;

		t += (i % 17 == 0) ? 5000 : (i % 5);
		/* Any nanoseconds inside the second fold to that second. */
		ns = t * 1000000000 + (i * 7919) % 1000000000;
		rec_init(r, ns, p, "reveal", "allow", cust,
		    bg ? "break_glass" : "ok", NULL);
		rc |= vg_quota_fold(fold, r);
		rc |= reveal(live, p, cust, t, bg) != 1;
		if (i % 13 == 0) {
			char detail[64];

			/* Both separators: vigild writes commas. */
			snprintf(detail, sizeof(detail), i % 2 ?
			    "channel=phone assignee=%s x=1" :
			    "assignee=%s,channel=chat,self_opened=1",
			    who[(i + 1) % 3]);
			rec_init(r, ns, "sup", i % 2 ? "case.open" :
			    "case.assign", "allow", cust, NULL, detail);
			rc |= vg_quota_fold(fold, r);
			rc |= vg_quota_add_case(live, who[(i + 1) % 3], t);
		}
		/* What the fold ignores. */
		rec_init(r, ns, p, "reveal", "deny", cust, "quota_exceeded",
		    NULL);
		rc |= vg_quota_fold(fold, r);
		rec_init(r, ns, p, "reveal", "step_up", cust, NULL, NULL);
		rc |= vg_quota_fold(fold, r);
		rec_init(r, ns, p, "lookup", "allow", cust, NULL, NULL);
		rc |= vg_quota_fold(fold, r);
		rec_init(r, ns, "sup", "case.close", "allow", cust, NULL,
		    "assignee=f0");
		rc |= vg_quota_fold(fold, r);
		rec_init(r, ns, "sup", "case.open", "allow", cust, NULL,
		    "assignee= unassigned");
		rc |= vg_quota_fold(fold, r);
		rec_init(r, ns, "sup", "case.open", "deny", cust, NULL,
		    "assignee=f1");
		rc |= vg_quota_fold(fold, r);
		rec_init(r, ns, "", "reveal", "allow", cust, NULL, NULL);
		rc |= vg_quota_fold(fold, r);
	}
	ok(rc == 0, "3000 reveals, cases and 21000 ignored records folded");
	for (k = 0; k < 3; k++) {
		for (w = -1; w < NW; w++) {
			int64_t at = t + (w < 0 ? 0 : len_w[w] / 2);

			a = usage(live, who[k], 5, at);
			b = usage(fold, who[k], 5, at);
			good &= usage_equal(&a, &b) && a.reveals[MONTH] > 0;
		}
	}
	ok(good, "the fold gives the live usage, for every principal, at "
	    "several later times");
	a = usage(fold, "sup", -1, t);
	ok(a.reveals[MONTH] == 0 && a.cases[MONTH] == 0,
	    "the opener of a case is not charged for it");
	a = usage(fold, "unassigned", -1, t);
	ok(a.cases[MONTH] == 0, "an empty assignee is not a principal");
	rec_init(r, -5, "neg", "reveal", "allow", 1, NULL, NULL);
	rc = vg_quota_fold(fold, r);
	a = usage(fold, "neg", -1, 1);
	ok(rc == 0 && a.reveals[MONTH] == 0, "a negative time is ignored");
	free(r);
	vg_quota_free(live);
	vg_quota_free(fold);
}

/*-----------------------------------------------------------------------------
 * Memory
 */

static void
test_memory(void)
{
	const int np = 10000, nr = 100;
	struct vg_quota *q = new_quota();
	unsigned char id[VG_IDBYTES];
	char name[32];
	uint64_t tracked, bytes, bound, floor_b;
	int i, k, bad = 0;

	for (i = 0; i < np; i++) {
		snprintf(name, sizeof(name), "agent-%05d", i);
		for (k = 0; k < nr; k++)
			bad += vg_quota_decide(q, name, cid((unsigned)(i * nr +
			    k), id), 50000000 + k * 60, false, cb_allow,
			    NULL) != 1;
	}
	vg_quota_stats(q, &tracked, &bytes);
	/*
	 * The bound: per principal, a ring of 128 reveals (the power of
	 * two above 100) of 16 bytes, a customer map of 256 slots (100
	 * keys at most 3/4 full) of 12 bytes, and 512 bytes for the
	 * principal's struct, its name and its table slot.  The floor:
	 * the reveals and keys themselves.
	 */
	bound = (uint64_t)np * (128 * 16 + 256 * 12 + 512);
	floor_b = (uint64_t)np * nr * (16 + 12);
	ok(bad == 0 && tracked == (uint64_t)np, "%d principals x %d reveals",
	    np, nr);
	ok(bytes <= bound && bytes >= floor_b,
	    "memory %llu bytes (%llu per principal, %llu per reveal) within "
	    "[%llu, %llu]", (unsigned long long)bytes,
	    (unsigned long long)(bytes / (uint64_t)np),
	    (unsigned long long)(bytes / ((uint64_t)np * nr)),
	    (unsigned long long)floor_b, (unsigned long long)bound);
	vg_quota_free(q);
}

/*-----------------------------------------------------------------------------
 * Rebuild from a real audit chain
 */

static unsigned char seed[32];

static int
allow_15(void *ctx, const struct vg_quota_usage *u)
{
	(void)ctx;
	return u->reveals[MINUTE] < 15 && !u->saturated;
}

static void
test_rebuild(void)
{
	static const char *const who[3] = { "alice", "bob", "carol" };
	struct vg_audit_opts o;
	struct vg_audit *a = NULL;
	struct vg_audit_entry e;
	struct vg_quota *live = new_quota(), *re = new_quota(), *bad;
	struct vg_quota_usage u1, u2;
	unsigned char id[VG_IDBYTES];
	char vault[PATH_MAX + 16], chain[PATH_MAX + 64], err[256] = "";
	char seg[PATH_MAX + 128], detail[64];
	uint64_t folded = 0, appended = 0;
	int64_t now, at;
	int i, k, w, rc, good = 1, close_rc;
	FILE *f;

	snprintf(vault, sizeof(vault), "%s/vault", root);
	snprintf(chain, sizeof(chain), "%s/audit/q1", vault);
	(void)mkdir(vault, 0700);
	memset(&o, 0, sizeof(o));
	o.vault_dir = vault;
	o.chain = "q1";
	o.origin = "test.local/quota";
	o.sign_seed = seed;
	o.checkpoint_ms = 600000;
	rc = vg_audit_open(&o, &a, err, sizeof(err));
	is_int(rc, 0, "open an audit chain%s%s", err[0] ? ": " : "", err);
	if (rc != 0)
		return;
	for (i = 0; i < 90; i++) {
		const char *p = who[i % 3];
		bool bg = i % 9 == 0;

		now = (int64_t)time(NULL);
		cid((unsigned)(i % 11), id);
		rc = vg_quota_decide(live, p, id, now, bg, allow_15, NULL);
		memset(&e, 0, sizeof(e));
		e.principal = p;
		e.action = "reveal";
		e.customer = id;
		e.fields = "name,phone";
		e.purpose = "support";
		e.decision = rc == 1 ? "allow" : "deny";
		e.reason = rc == 1 ? (bg ? "break_glass" : "ok") :
		    "quota_exceeded";
		e.client = "127.0.0.1";
		good &= rc == 0 || rc == 1;
		good &= vg_audit_append(a, &e, NULL) == 0;
		appended++;
		if (i % 7 == 0) {
			memset(&e, 0, sizeof(e));
			snprintf(detail, sizeof(detail), "assignee=%s",
			    who[(i + 1) % 3]);
			e.principal = "supervisor";
			e.action = i % 2 ? "case.open" : "case.assign";
			e.customer = id;
			e.decision = "allow";
			e.detail = detail;
			good &= vg_quota_add_case(live, who[(i + 1) % 3],
			    now) == 0;
			good &= vg_audit_append(a, &e, NULL) == 0;
			appended++;
		}
		memset(&e, 0, sizeof(e));
		e.principal = p;
		e.action = "lookup";
		e.decision = "allow";
		good &= vg_audit_append(a, &e, NULL) == 0;
		appended++;
	}
	close_rc = vg_audit_close(a);
	ok(good && close_rc == 0, "90 reveals (some denied by a limit), "
	    "cases and lookups decided and audited");

	at = (int64_t)time(NULL) + 1;
	rc = vg_quota_rebuild(re, chain, at, &folded);
	is_int(rc, 0, "rebuild from the chain");
	is_int(folded, appended, "every entry of the last 30 days is folded");
	good = 1;
	for (k = 0; k < 3; k++) {
		for (i = 0; i < 12; i++) {
			u1 = usage(live, who[k], i, at);
			u2 = usage(re, who[k], i, at);
			for (w = 0; w < NW; w++) {
				/* The audit log stamps its own time, up to
				 * a second boundary after the decision. */
				good &= u1.reveals[w] == u2.reveals[w] &&
				    u1.customers[w] == u2.customers[w] &&
				    u1.seen[w] == u2.seen[w] &&
				    u1.break_glass[w] == u2.break_glass[w] &&
				    u1.cases[w] == u2.cases[w] &&
				    llabs(u1.reveal_expiry[w] -
				    u2.reveal_expiry[w]) <= 2 &&
				    llabs(u1.break_glass_expiry[w] -
				    u2.break_glass_expiry[w]) <= 2;
			}
			good &= u1.reveals[MONTH] >= 15;
		}
		if (!good) {
			print_usage("live", &u1);
			print_usage("rebuilt", &u2);
			break;
		}
	}
	ok(good, "the rebuilt usage is the live usage (3 principals, 12 "
	    "customers)");
	u2 = usage(re, "alice", -1, at);
	ok(u2.reveals[MINUTE] == 15 || u2.reveals[HOUR] == 15,
	    "the limit held: 15 reveals for alice");

	vg_quota_free(re);
	re = new_quota();
	rc = vg_quota_rebuild(re, chain, at + 31 * 86400, &folded);
	ok(rc == 0 && folded == 0, "31 days later nothing is folded");
	u2 = usage(re, "alice", -1, at + 31 * 86400);
	is_int(u2.reveals[MONTH], 0, "  and nothing counts");
	vg_quota_free(re);

	re = new_quota();
	snprintf(seg, sizeof(seg), "%s/audit/none", vault);
	is_int(vg_quota_rebuild(re, seg, at, &folded), VG_ENOTFOUND,
	    "no such chain: VG_ENOTFOUND");
	snprintf(seg, sizeof(seg), "%s/seg-0000000000000000.log", chain);
	is_int(vg_quota_rebuild(re, seg, at, NULL), VG_ENOTFOUND,
	    "a file is not a chain");
	vg_quota_free(re);

	/* One entry past the middle of the segment says "name,phonf". */
	f = fopen(seg, "r+b");
	if (f != NULL) {
		static char buf[1 << 20];
		size_t n = fread(buf, 1, sizeof(buf), f), j;

		for (j = n / 2; j + 10 < n; j++) {
			if (memcmp(buf + j, "name,phone", 10) == 0) {
				fseek(f, (long)j + 9, SEEK_SET);
				fputc('f', f);
				break;
			}
		}
		fclose(f);
	}
	bad = new_quota();
	rc = vg_quota_rebuild(bad, chain, at, &folded);
	ok(rc == VG_EFORMAT && folded < appended,
	    "a damaged chain: VG_EFORMAT after %llu entries",
	    (unsigned long long)folded);
	vg_quota_free(bad);
	vg_quota_free(live);
}

/* Appends one allowed reveal by "pat" to chain a; returns its second,
 * read back from the chain, or -1. */
static int64_t
append_reveal(struct vg_audit *a, const char *chain_dir, uint64_t *seq_out)
{
	struct vg_audit_entry e;
	struct vg_audit_reader *rd = NULL;
	struct vg_audit_record *rec = malloc(sizeof(*rec));
	unsigned char id[VG_IDBYTES];
	uint64_t seq = 0;
	int64_t t = -1;

	if (rec == NULL)
		return -1;
	memset(&e, 0, sizeof(e));
	e.principal = "pat";
	e.action = "reveal";
	e.customer = cid(77, id);
	e.decision = "allow";
	e.reason = "ok";
	if (vg_audit_append(a, &e, &seq) == 0 &&
	    vg_audit_reader_open(chain_dir, &rd) == 0) {
		while (vg_audit_reader_next(rd, rec) == 1)
			if (rec->seq == seq)
				t = rec->time_ns / 1000000000;
	}
	vg_audit_reader_close(rd);
	free(rec);
	*seq_out = seq;
	return t;
}

static void
sleep_past_second(int64_t t)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	while ((int64_t)time(NULL) <= t)
		nanosleep(&ts, NULL);
}

static void
test_rebuild_all(void)
{
	struct vg_audit_opts o;
	struct vg_audit *a = NULL, *b = NULL;
	struct vg_quota *q;
	struct vg_quota_usage u;
	char vault[PATH_MAX + 16], ca[PATH_MAX + 64], cb[PATH_MAX + 64];
	char audit[PATH_MAX + 32], junk[PATH_MAX + 64], err[256] = "";
	uint64_t folded = 0, seq;
	int64_t s0, s1, s2, at;
	int rc;

	snprintf(vault, sizeof(vault), "%s/vault2", root);
	snprintf(audit, sizeof(audit), "%s/audit", vault);
	snprintf(ca, sizeof(ca), "%s/n1", audit);
	snprintf(cb, sizeof(cb), "%s/n2", audit);
	(void)mkdir(vault, 0700);
	q = new_quota();
	is_int(vg_quota_rebuild_all(q, audit, 1000, &folded), VG_ENOTFOUND,
	    "rebuild_all without an audit directory: VG_ENOTFOUND");
	vg_quota_free(q);
	memset(&o, 0, sizeof(o));
	o.vault_dir = vault;
	o.origin = "test.local/quota";
	o.sign_seed = seed;
	o.checkpoint_ms = 600000;
	o.chain = "n1";
	rc = vg_audit_open(&o, &a, err, sizeof(err));
	o.chain = "n2";
	if (rc == 0)
		rc = vg_audit_open(&o, &b, err, sizeof(err));
	is_int(rc, 0, "two chains, as two vigild nodes%s%s", err[0] ? ": " :
	    "", err);
	if (rc != 0) {
		(void)vg_audit_close(a);
		return;
	}
	/* Node 1 at s0, node 2 at s1, node 1 again at s2: three seconds. */
	s0 = append_reveal(a, ca, &seq);
	sleep_past_second(s0);
	s1 = append_reveal(b, cb, &seq);
	sleep_past_second(s1);
	s2 = append_reveal(a, ca, &seq);
	rc = vg_audit_close(a) | vg_audit_close(b);
	ok(rc == 0 && s0 >= 0 && s0 < s1 && s1 < s2,
	    "reveals by one principal at %lld (node 1), %lld (node 2), %lld "
	    "(node 1)", (long long)s0, (long long)s1, (long long)s2);
	snprintf(junk, sizeof(junk), "%s/Not_A_Chain", audit);
	(void)mkdir(junk, 0700);
	snprintf(junk, sizeof(junk), "%s/README", audit);
	{
		FILE *f = fopen(junk, "w");

		if (f != NULL)
			fclose(f);
	}

	at = s2 + 1;
	q = new_quota();
	rc = vg_quota_rebuild_all(q, audit, at, &folded);
	ok(rc == 0 && folded == 3, "rebuild_all merges both chains (%llu "
	    "entries; other names ignored)", (unsigned long long)folded);
	u = usage(q, "pat", 77, s1 + 60);
	ok(u.reveals[MINUTE] == 1 && u.reveals[HOUR] == 3 &&
	    u.reveal_expiry[MINUTE] == s2 + 60 && u.seen[MINUTE],
	    "  in time order: at s1 + 60 only s2 is in the minute");
	vg_quota_free(q);

	/* One chain after the other: node 2's reveal is taken at node 1's
	 * clock, as documented. */
	q = new_quota();
	rc = vg_quota_rebuild(q, ca, at, &folded);
	rc |= vg_quota_rebuild(q, cb, at, &folded);
	u = usage(q, "pat", 77, s1 + 60);
	ok(rc == 0 && u.reveals[MINUTE] == 2,
	    "chain after chain would count s1 until s2 + 60 (hence "
	    "rebuild_all)");
	vg_quota_free(q);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (unsigned char)(i * 7 + 1);
	snprintf(root, sizeof(root), "/tmp/vigil-t-quota.XXXXXX");
	if (mkdtemp(root) == NULL)
		return 1;
	test_windows();
	test_args();
	test_sliding();
	test_customers();
	test_break_glass_cases();
	test_decide();
	test_saturation();
	test_walk();
	test_threads();
	test_fold();
	test_memory();
	test_rebuild();
	test_rebuild_all();
	(void)nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
