/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leak tracing (lib/trace.c) on hand-made audit logs: the tail bound,
 * a lone leaker, a colleague explained away, a ring, exports with and
 * without canaries, honeytokens, fields, windows, refusals and
 * determinism.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/trace.h"
#include "tap.h"

#define NS 1000000000ll
#define NAME_PHONE (VG_TRACE_TYPE(VG_FT_NAME) | VG_TRACE_TYPE(VG_FT_PHONE))

static struct vg_audit_record rec;
static uint64_t seq;
static int leak_errors;

/* Adds a leaked customer; failures are counted and checked at the end. */
static void
leak_add(struct vg_trace *t, const unsigned char *id, uint32_t types,
    const char *region, bool honey)
{
	if (vg_trace_leak_add(t, id, types, region, honey) != 0)
		leak_errors++;
}

static void
cid(uint32_t i, unsigned char id[VG_IDBYTES])
{
	memset(id, 0, VG_IDBYTES);
	id[0] = 0xc0;
	id[1] = (unsigned char)(i >> 16);
	id[2] = (unsigned char)(i >> 8);
	id[3] = (unsigned char)i;
	id[9] = (unsigned char)(i * 37);
}

/* Feeds one entry. */
static int
feed(struct vg_trace *t, const char *who, const char *action,
    const char *decision, int64_t cust, const char *fields,
    const char *detail, int64_t time_s)
{
	memset(&rec, 0, sizeof(rec));
	rec.seq = seq++;
	rec.time_ns = time_s * NS;
	snprintf(rec.node, sizeof(rec.node), "n1");
	snprintf(rec.principal, sizeof(rec.principal), "%s", who);
	snprintf(rec.action, sizeof(rec.action), "%s", action);
	snprintf(rec.decision, sizeof(rec.decision), "%s", decision);
	snprintf(rec.fields, sizeof(rec.fields), "%s", fields);
	snprintf(rec.detail, sizeof(rec.detail), "%s", detail);
	if (cust >= 0) {
		rec.has_customer = true;
		cid((uint32_t)cust, rec.customer);
	}
	return vg_trace_feed(t, &rec);
}

static int
reveal(struct vg_trace *t, const char *who, uint32_t cust,
    const char *region, int64_t time_s)
{
	char detail[32];

	snprintf(detail, sizeof(detail), "region=%s", region);
	return feed(t, who, "reveal", "allow", cust, "name,phone", detail,
	    time_s);
}

static struct vg_trace *
tracer(void)
{
	struct vg_trace_opts o;
	struct vg_trace *t = NULL;

	seq = 0;
	memset(&o, 0, sizeof(o));
	o.all_customers = true;
	if (vg_trace_new(&o, &t) != 0)
		return NULL;
	if (vg_trace_stratum(t, "CN-GD", 10000) != 0 ||
	    vg_trace_stratum(t, "CN-BJ", 10000) != 0) {
		vg_trace_free(t);
		return NULL;
	}
	return t;
}

/* 40 agents of CN-GD, each revealing 25 customers of their own, and
 * agent 0 ("leaker") 60 more. Customer numbers: agent a has
 * a * 100 .. a * 100 + 24; the leaker's extra are 5000..5059. */
static int
office(struct vg_trace *t)
{
	char who[32];
	uint32_t a, i;
	int rc = 0;

	for (a = 0; a < 40 && rc == 0; a++) {
		snprintf(who, sizeof(who), a == 0 ? "leaker" : "agent%02u", a);
		for (i = 0; i < 25 && rc == 0; i++)
			rc = reveal(t, who, a * 100 + i, "CN-GD",
			    1000 + a * 25 + i);
	}
	for (i = 0; i < 60 && rc == 0; i++)
		rc = reveal(t, "leaker", 5000 + i, "CN-GD", 5000 + i);
	return rc;
}

static const struct vg_trace_suspect *
find(const struct vg_trace_result *r, const char *who)
{
	size_t i;

	for (i = 0; i < r->nsuspects; i++)
		if (strcmp(r->suspects[i].principal, who) == 0)
			return &r->suspects[i];
	return NULL;
}

static void
test_tail(void)
{
	double direct = 0;
	int k;

	ok(vg_poisson_log10_tail(0, 3.0) == 0, "P(X >= 0) is 1");
	ok(fabs(vg_poisson_log10_tail(1, 1.0) - log10(1 - exp(-1))) < 1e-12,
	    "P(X >= 1) for lambda 1");
	for (k = 3; k < 40; k++)
		direct += exp(-0.1 + k * log(0.1) - lgamma(k + 1));
	ok(fabs(vg_poisson_log10_tail(3, 0.1) - log10(direct)) < 1e-9,
	    "upper series matches the direct sum");
	direct = 0;
	for (k = 0; k < 5; k++)
		direct += exp(-10 + k * log(10.0) - lgamma(k + 1));
	ok(fabs(vg_poisson_log10_tail(5, 10) - log10(1 - direct)) < 1e-12,
	    "tail below the mean: one minus the head");
	ok(vg_poisson_log10_tail(1000, 1.0) < -2500 &&
	    isfinite(vg_poisson_log10_tail(1000, 1.0)),
	    "a tiny tail stays finite in log10");
	ok(vg_poisson_log10_tail(10, 0) < -100, "lambda 0 is floored, not NaN");
}

static void
test_lone(void)
{
	struct vg_trace *t = tracer();
	const struct vg_trace_result *r = NULL, *r2 = NULL;
	unsigned char id[VG_IDBYTES];
	char first[VG_AUDIT_STR_MAX + 1];
	double lp;
	uint32_t i;

	ok(t != NULL && office(t) == 0, "lone: log fed");
	for (i = 0; i < 10; i++) {
		cid(5000 + i * 3, id);
		ok(vg_trace_leak_add(t, id, NAME_PHONE, "", false) == 0,
		    "leak row %u", i);
	}
	/* A duplicate row and an unknown customer. */
	cid(5000, id);
	ok(vg_trace_leak_add(t, id, VG_TRACE_TYPE(VG_FT_PHONE), NULL,
	    false) == 0, "duplicate row");
	cid(9999, id);
	ok(vg_trace_leak_add(t, id, NAME_PHONE, "CN-BJ", false) == 0,
	    "unknown customer");
	ok(vg_trace_compute(t, &r) == 0 && r != NULL, "computed");
	is_int(r->leaked, 11, "distinct leaked customers");
	is_int(r->accessed, 10, "leaked customers someone revealed");
	is_int(r->principals_tested, 40, "principals tested");
	is_int(r->nsuspects, 1, "one suspect");
	is_int(r->nnamed, 1, "named");
	is_str(r->suspects[0].principal, "leaker", "the leaker first");
	is_int(r->suspects[0].overlap, 10, "its overlap");
	is_int(r->suspects[0].accessed, 85, "its accesses");
	is_int(r->suspects[0].rank_named, 1, "named first");
	ok(r->suspects[0].log10_p_adj < -5, "p tiny (%g)",
	    r->suspects[0].log10_p_adj);
	ok(r->suspects[0].expected > 0 && r->suspects[0].expected < 1,
	    "expected overlap small (%g)", r->suspects[0].expected);
	is_int(r->suspects[0].nevidence, 10, "evidence kept");
	ok(r->suspects[0].evidence[0].time_ns <=
	    r->suspects[0].evidence[9].time_ns, "evidence oldest first");
	is_str(r->suspects[0].evidence[0].chain, "n1", "evidence chain");
	is_int(r->suspects[0].evidence[0].types, NAME_PHONE, "evidence types");
	is_int(r->explained, 10, "explained");
	lp = r->suspects[0].log10_p;
	snprintf(first, sizeof(first), "%s", r->suspects[0].principal);
	ok(vg_trace_compute(t, &r2) == 0 && r2->nsuspects == 1 &&
	    r2->suspects[0].log10_p == lp &&
	    strcmp(r2->suspects[0].principal, first) == 0,
	    "the same leak traces the same");
	vg_trace_free(t);
}

static void
test_colleague(void)
{
	struct vg_trace *t = tracer();
	const struct vg_trace_result *r = NULL;
	const struct vg_trace_suspect *s;
	unsigned char id[VG_IDBYTES];
	uint32_t i;

	ok(t != NULL && office(t) == 0, "colleague: log fed");
	/* A supervisor approved half the leaker's extra reveals and
	 * revealed the customer too, plus 10 of its own. */
	for (i = 0; i < 30 && t != NULL; i++)
		(void)reveal(t, "super", 5000 + i, "CN-GD", 6000 + i);
	for (i = 0; i < 10 && t != NULL; i++)
		(void)reveal(t, "super", 7000 + i, "CN-GD", 7000 + i);
	for (i = 0; i < 30; i++) {
		cid(5000 + i * 2, id);
		leak_add(t, id, NAME_PHONE, "CN-GD", false);
	}
	ok(vg_trace_compute(t, &r) == 0, "computed");
	is_str(r->suspects[0].principal, "leaker", "leaker first");
	ok(r->suspects[0].named, "leaker named");
	s = find(r, "super");
	ok(s != NULL && s->overlap == 15, "supervisor overlaps 15");
	ok(s != NULL && s->log10_p_adj < -3,
	    "... which alone would be significant");
	ok(s != NULL && !s->named && s->residual == 0,
	    "... but is explained away by the leaker");
	is_int(r->nnamed, 1, "only the leaker named");
	vg_trace_free(t);
}

static void
test_ring(void)
{
	struct vg_trace *t = tracer();
	const struct vg_trace_result *r = NULL;
	unsigned char id[VG_IDBYTES];
	char who[16];
	uint32_t m, i;

	ok(t != NULL && office(t) == 0, "ring: log fed");
	for (m = 0; m < 4; m++) {
		snprintf(who, sizeof(who), "ring%u", m);
		for (i = 0; i < 40; i++)
			(void)reveal(t, who, 20000 + m * 100 + i, "CN-GD",
			    9000 + i);
	}
	for (m = 0; m < 4; m++)
		for (i = 0; i < 12; i++) {
			cid(20000 + m * 100 + i * 3, id);
			leak_add(t, id, NAME_PHONE, "", false);
		}
	ok(vg_trace_compute(t, &r) == 0, "computed");
	is_int(r->nnamed, 4, "four members named");
	for (m = 0; m < 4; m++) {
		const struct vg_trace_suspect *s;

		snprintf(who, sizeof(who), "ring%u", m);
		s = find(r, who);
		ok(s != NULL && s->named && s->overlap == 12,
		    "%s named with its 12", who);
	}
	is_int(r->explained, 48, "the ring explains the leak");
	ok(find(r, "leaker") == NULL, "the leaker has no part in it");
	vg_trace_free(t);
}

/* Two principals alone serving a region, the leak all theirs: as likely
 * a leak of that region's contacts (a CRM leak) as theirs, so neither
 * is named; ranked, yes. */
static void
test_alone_in_region(void)
{
	struct vg_trace *t = tracer();
	const struct vg_trace_result *r = NULL;
	unsigned char id[VG_IDBYTES];
	uint32_t m, i;

	ok(t != NULL && office(t) == 0, "alone: log fed");
	for (m = 0; m < 2; m++)
		for (i = 0; i < 40; i++)
			(void)reveal(t, m ? "bj1" : "bj0", 20000 + m * 100 + i,
			    "CN-BJ", 9000 + i);
	for (i = 0; i < 12; i++) {
		cid(20000 + i * 3, id);
		leak_add(t, id, NAME_PHONE, "", false);
	}
	ok(vg_trace_compute(t, &r) == 0, "computed");
	is_str(r->nsuspects > 0 ? r->suspects[0].principal : "", "bj0",
	    "ranked first");
	is_int(r->nnamed, 0, "but not named: the region's own traffic "
	    "explains it");
	vg_trace_free(t);
}

static void
test_exports(void)
{
	struct vg_trace *t = tracer();
	const struct vg_trace_result *r = NULL;
	unsigned char id[VG_IDBYTES];
	uint32_t i;

	ok(t != NULL && office(t) == 0, "exports: log fed");
	for (i = 0; i < 2000; i++)
		(void)feed(t, "mkt-ops", "export.row", "allow", 30000 + i,
		    "phone", "export=ex_a,region=CN-GD", 8000);
	(void)feed(t, "mkt-ops", "export", "allow", -1, "",
	    "export=ex_a,consumer=acme,recipient=acme-dm,rows=2000,"
	    "canaries=120,canary_set=00", 8001);
	for (i = 0; i < 500; i++)
		(void)feed(t, "mkt-ops", "export.row", "allow", 40000 + i,
		    "phone", "export=ex_b,region=CN-BJ", 8100);
	(void)feed(t, "mkt-ops", "export", "allow", -1, "",
	    "export=ex_b,consumer=zeta,recipient=zeta-sms,rows=500,"
	    "canaries=40,canary_set=00", 8101);
	/* 40 rows of ex_a, reshuffled (order does not matter). */
	for (i = 0; i < 40; i++) {
		cid(30000 + (i * 37) % 2000, id);
		leak_add(t, id, NAME_PHONE, "", false);
	}
	ok(vg_trace_compute(t, &r) == 0, "computed");
	ok(r->nexports >= 1, "an export found");
	is_str(r->exports[0].id, "ex_a", "ex_a first");
	ok(r->exports[0].named, "ex_a named from its rows");
	is_str(r->exports[0].recipient, "acme-dm", "its recipient");
	is_str(r->exports[0].consumer, "acme", "its consumer");
	is_str(r->exports[0].principal, "mkt-ops", "who asked for it");
	is_int(r->exports[0].manifest_seq, 2000 + 40 * 25 + 60,
	    "its manifest entry");
	is_int(r->exports[0].rows, 2000, "its rows");
	is_int(r->exports[0].overlap, 40, "overlap");
	is_int(r->exports[0].canary_hits, 0, "no canary");
	is_int(r->nsuspects, 0, "export rows are not a principal's reveals");
	/* Two rows only, but one is a canary of ex_b: proof. */
	vg_trace_leak_reset(t);
	cid(40007, id);
	leak_add(t, id, NAME_PHONE, "", false);
	ok(vg_trace_leak_canary(t, "ex_b") == 0, "canary row");
	ok(vg_trace_compute(t, &r) == 0, "computed");
	is_int(r->canary_hits, 1, "canary hits");
	is_str(r->exports[0].id, "ex_b", "ex_b named");
	ok(r->exports[0].named && r->exports[0].canary_hits == 1,
	    "named by its canary");
	/* A canary of an export whose rows are outside the log. */
	vg_trace_leak_reset(t);
	ok(vg_trace_leak_canary(t, "ex_zz") == 0 &&
	    vg_trace_compute(t, &r) == 0 && r->nexports == 1 &&
	    strcmp(r->exports[0].id, "ex_zz") == 0 && r->exports[0].named &&
	    r->exports[0].manifest_seq == UINT64_MAX,
	    "a canary names an export the log window left out");
	vg_trace_free(t);
}

static void
test_honey(void)
{
	struct vg_trace *t = tracer();
	const struct vg_trace_result *r = NULL;
	unsigned char id[VG_IDBYTES];

	ok(t != NULL && office(t) == 0, "honey: log fed");
	(void)reveal(t, "agent07", 90001, "CN-GD", 9500);
	cid(90001, id);
	leak_add(t, id, NAME_PHONE, "CN-GD", true);
	cid(5001, id);
	leak_add(t, id, NAME_PHONE, "CN-GD", false);
	ok(vg_trace_compute(t, &r) == 0, "computed");
	is_int(r->honey_hits, 1, "honey hits");
	is_str(r->suspects[0].principal, "agent07", "honey toucher first");
	ok(r->suspects[0].named && r->suspects[0].honey == 1,
	    "named on proof");
	ok(r->suspects[0].evidence[0].honey, "its evidence marks honey");
	ok(find(r, "leaker") != NULL && !find(r, "leaker")->named,
	    "one ordinary row is not enough to name");
	vg_trace_free(t);
}

static void
test_filters(void)
{
	struct vg_trace_opts o;
	struct vg_trace *t = NULL;
	const struct vg_trace_result *r = NULL;
	unsigned char id[VG_IDBYTES];
	uint32_t i;

	memset(&o, 0, sizeof(o));
	o.from_ns = 100 * NS;
	o.to_ns = 200 * NS;
	ok(vg_trace_new(&o, &t) == 0, "watching tracer");
	for (i = 0; i < 5; i++) {
		cid(i, id);
		ok(vg_trace_watch(t, id) == 0, "watch %u", i);
	}
	(void)feed(t, "early", "reveal", "allow", 0, "name", "", 50);
	(void)feed(t, "late", "reveal", "allow", 1, "name", "", 250);
	(void)feed(t, "denied", "reveal", "deny", 2, "name", "", 150);
	(void)feed(t, "viewer", "view", "allow", 3, "name", "", 150);
	(void)feed(t, "address", "reveal", "allow", 4, "address", "", 150);
	(void)feed(t, "mail", "reveal", "allow", 4, "email", "", 150);
	(void)feed(t, "ok", "reveal", "allow", 4, "name,address", "", 150);
	(void)feed(t, "other", "reveal", "allow", 77, "name", "", 150);
	for (i = 0; i < 5; i++) {
		cid(i, id);
		leak_add(t, id, NAME_PHONE, "", false);
	}
	ok(vg_trace_compute(t, &r) == 0, "computed");
	is_int(r->nsuspects, 1, "only one entry counts");
	is_str(r->nsuspects > 0 ? r->suspects[0].principal : "", "ok",
	    "in window, allowed, a reveal, a leaked field");
	is_int(r->nsuspects > 0 ? r->suspects[0].types : 0,
	    VG_TRACE_TYPE(VG_FT_NAME), "only the leaked field counts");
	is_int(r->principals_tested, 3,
	    "tested: those who revealed a field of interest in the window");
	vg_trace_free(t);
}

int
main(void)
{
	test_tail();
	test_lone();
	test_colleague();
	test_ring();
	test_alone_in_region();
	test_exports();
	test_honey();
	test_filters();
	is_int(leak_errors, 0, "every leaked customer was taken");
	return done_testing();
}
