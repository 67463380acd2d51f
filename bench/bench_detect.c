/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_detect: the detector's speed and memory, on one core.
 *
 *   1. fold: a simulated week of support work, 1,000 agents in 10 orgs
 *      (case opened by ticketing, lookup, reveal; about 3.5 million
 *      records), fed to vg_detect_feed from memory: the detector alone,
 *      with its peer baselines recomputed every 10 minutes of log time.
 *   2. replay: N entries written to a real audit chain (vg_audit
 *      append_many, fsynced), then vg_detect_replay over the files:
 *      reading, framing and hash-chain checks, and the fold.  The writer
 *      stamps its own clock, so these entries span seconds, not a week.
 *   3. memory: 100,000 principals, each with activity, measured both
 *      by vg_detect_stats (the state's own count) and by the process's
 *      peak RSS growth.
 *
 * usage: bench_detect [REPLAY_ENTRIES] (default 2000000)
 */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "vigil/audit.h"
#include "vigil/detect.h"

#define T0 1798761600		/* 2027-01-01 00:00 UTC */
#define AGENTS 1000
#define ORGS 10

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rs = 42;

static uint32_t
rnd(void)
{
	uint64_t z = (rs += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static int
directory(void *ctx, const char *id, struct vg_principal *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", id);
	snprintf(out->org, sizeof(out->org), "org%c", id[1]);
	snprintf(out->role, sizeof(out->role), "agent");
	snprintf(out->region, sizeof(out->region), "CN-GD");
	return 0;	/* no shift: the simulated floor works round the clock */
}

static uint64_t nalerts;

static void
on_alert(void *ctx, const struct vg_alert *a)
{
	(void)ctx;
	(void)a;
	nalerts++;
}

/* One record of the simulated week into r; returns 0 at the end. */
struct sim {
	int64_t t;		/* seconds */
	uint64_t seq;
	int step;		/* 0 case, 1 lookup, 2 reveal */
	int agent;
	uint32_t cust;
};

static int
sim_next(struct sim *s, struct vg_audit_record *r)
{
	char who[16];

	if (s->step == 0) {
		/* Agents take turns: about 1,000 cases an hour each
		 * working hour across the floor, 24 x 7 for the bench. */
		s->t += 1 + (rnd() % 2);
		s->agent = (int)(rnd() % AGENTS);
		s->cust = rnd() % 2000000;
		if (s->t >= T0 + 7 * 86400)
			return 0;
	}
	memset(r, 0, offsetof(struct vg_audit_record, leaf));
	r->seq = s->seq++;
	r->time_ns = s->t * 1000000000ll + s->step;
	snprintf(r->node, sizeof(r->node), "vigild");
	snprintf(who, sizeof(who), "a%d%03d", s->agent % ORGS, s->agent);
	r->has_customer = true;
	memcpy(r->customer, &s->cust, sizeof(s->cust));
	r->customer[5] = (unsigned char)s->agent;
	snprintf(r->decision, sizeof(r->decision), "allow");
	snprintf(r->case_id, sizeof(r->case_id), "case_%u", s->cust);
	if (s->step == 0) {
		snprintf(r->principal, sizeof(r->principal), "ticketing");
		snprintf(r->action, sizeof(r->action), "case.open");
		snprintf(r->detail, sizeof(r->detail),
		    "assignee=%s,channel=phone", who);
	} else if (s->step == 1) {
		snprintf(r->principal, sizeof(r->principal), "%s", who);
		snprintf(r->action, sizeof(r->action), "lookup");
		r->case_id[0] = '\0';
		snprintf(r->detail, sizeof(r->detail), "region=CN-GD");
	} else {
		snprintf(r->principal, sizeof(r->principal), "%s", who);
		snprintf(r->action, sizeof(r->action), "reveal");
		snprintf(r->fields, sizeof(r->fields), "name,phone");
		snprintf(r->detail, sizeof(r->detail), "region=CN-GD");
	}
	s->step = (s->step + 1) % 3;
	return 1;
}

static struct vg_detect *
fresh(void)
{
	struct vg_detect_opts o;
	struct vg_detect *d;

	memset(&o, 0, sizeof(o));
	o.directory = directory;
	o.alert = on_alert;
	if (vg_detect_new(&o, &d) != 0) {
		fprintf(stderr, "bench_detect: out of memory\n");
		exit(1);
	}
	return d;
}

static void
bench_fold(void)
{
	static struct vg_audit_record r;
	struct sim s = { T0, 0, 0, 0, 0 };
	struct vg_detect *d = fresh();
	struct vg_detect_stats st;
	double t0, secs, gen;

	/* Making the records costs time too: measured alone first, and
	 * taken out of the fold's time. */
	t0 = now_s();
	while (sim_next(&s, &r))
		;
	gen = now_s() - t0;
	s = (struct sim){ T0, 0, 0, 0, 0 };
	nalerts = 0;
	t0 = now_s();
	while (sim_next(&s, &r))
		if (vg_detect_feed(d, &r) != 0)
			break;
	secs = now_s() - t0 - gen;
	vg_detect_stats(d, &st);
	printf("detect fold    %llu records (a simulated week, %d agents, %d "
	    "orgs) in %.2f s: %.0f records/s (making the records, %.2f s, "
	    "not counted), %llu baseline recomputes, %llu alerts\n",
	    (unsigned long long)st.entries, AGENTS, ORGS, secs,
	    st.entries / secs, gen, (unsigned long long)st.recomputes,
	    (unsigned long long)nalerts);
	vg_detect_free(d);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
bench_replay(uint64_t n)
{
	static struct vg_audit_record r;
	struct vg_audit_entry e[1024];
	static char fields[1024][256], who[1024][256], act[1024][256];
	static char det[1024][256];
	static char cid[1024][256];
	unsigned char cust[1024][16], seed[32];
	struct vg_audit_opts ao;
	struct vg_audit *a;
	struct vg_detect_opts o;
	struct vg_detect_stats st;
	struct sim s = { T0, 0, 0, 0, 0 };
	char dir[] = "/tmp/vigil-bench-detect.XXXXXX", err[256];
	uint64_t done = 0;
	double t0, secs;
	size_t i;

	if (mkdtemp(dir) == NULL)
		return;
	randombytes_buf(seed, sizeof(seed));
	memset(&ao, 0, sizeof(ao));
	ao.vault_dir = dir;
	ao.chain = "vigild";
	ao.origin = "bench/vigild";
	ao.sign_seed = seed;
	if (vg_audit_open(&ao, &a, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_detect: %s\n", err);
		return;
	}
	while (done < n) {
		size_t k = n - done < 1024 ? (size_t)(n - done) : 1024;

		for (i = 0; i < k; i++) {
			if (!sim_next(&s, &r)) {
				s = (struct sim){ T0, 0, 0, 0, 0 };
				(void)sim_next(&s, &r);
			}
			memset(&e[i], 0, sizeof(e[i]));
			snprintf(who[i], sizeof(who[i]), "%s", r.principal);
			snprintf(act[i], sizeof(act[i]), "%s", r.action);
			snprintf(fields[i], sizeof(fields[i]), "%s", r.fields);
			snprintf(det[i], sizeof(det[i]), "%s", r.detail);
			snprintf(cid[i], sizeof(cid[i]), "%s", r.case_id);
			memcpy(cust[i], r.customer, 16);
			e[i].principal = who[i];
			e[i].action = act[i];
			e[i].customer = cust[i];
			e[i].fields = fields[i];
			e[i].case_id = cid[i];
			e[i].decision = "allow";
			e[i].detail = det[i];
			e[i].request_id = "req_0123456789abcdef";
			e[i].client = "127.0.0.1";
		}
		if (vg_audit_append_many(a, e, k, NULL) != 0) {
			fprintf(stderr, "bench_detect: append failed\n");
			break;
		}
		done += k;
	}
	if (vg_audit_close(a) != 0)
		fprintf(stderr, "bench_detect: close failed\n");
	{
		/* The comparison: reading the same files with the same
		 * checks, folding nothing. */
		const struct vg_audit_record *rec;
		struct vg_audit_merge *m;
		char adir[sizeof(dir) + 8];
		uint64_t k = 0;

		snprintf(adir, sizeof(adir), "%s/audit", dir);
		t0 = now_s();
		if (vg_audit_merge_open(adir, NULL, NULL, &m, err,
		    sizeof(err)) == 0) {
			while (vg_audit_merge_next(m, &rec) == 1)
				k++;
			vg_audit_merge_close(m);
		}
		secs = now_s() - t0;
		printf("detect read    %llu entries from the same chain in "
		    "%.2f s: %.0f entries/s (read and checked only: the "
		    "comparison)\n", (unsigned long long)k, secs, k / secs);
	}
	memset(&o, 0, sizeof(o));
	o.directory = directory;
	nalerts = 0;
	t0 = now_s();
	if (vg_detect_replay(dir, &o, INT64_MIN, INT64_MAX, on_alert, NULL,
	    &st, err, sizeof(err)) != 0)
		fprintf(stderr, "bench_detect: replay: %s\n", err);
	secs = now_s() - t0;
	printf("detect replay  %llu entries from a real chain in %.2f s: "
	    "%.0f entries/s (read, framing and hash chain checked, folded)\n",
	    (unsigned long long)st.entries, secs, st.entries / secs);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static long
maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void
bench_memory(void)
{
	static struct vg_audit_record r;
	struct vg_detect *d;
	struct vg_detect_stats st;
	long before = maxrss_kb();
	int i;

	d = fresh();
	memset(&r, 0, sizeof(r));
	snprintf(r.node, sizeof(r.node), "vigild");
	snprintf(r.action, sizeof(r.action), "reveal");
	snprintf(r.decision, sizeof(r.decision), "allow");
	snprintf(r.fields, sizeof(r.fields), "phone");
	snprintf(r.case_id, sizeof(r.case_id), "case_1");
	r.has_customer = true;
	for (i = 0; i < 100000; i++) {
		r.seq = (uint64_t)i;
		r.time_ns = (T0 + i / 50) * 1000000000ll;
		snprintf(r.principal, sizeof(r.principal), "a%d%05d", i % ORGS,
		    i);
		memcpy(r.customer, &i, sizeof(i));
		if (vg_detect_feed(d, &r) != 0)
			break;
	}
	vg_detect_stats(d, &st);
	printf("detect memory  %llu principals: state %.1f MB (%.0f bytes "
	    "each), peak RSS grew %.1f MB\n",
	    (unsigned long long)st.principals, st.bytes / 1048576.0,
	    (double)st.bytes / (double)st.principals,
	    (maxrss_kb() - before) / 1024.0);
	vg_detect_free(d);
}

int
main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;

	if (sodium_init() < 0)
		return 1;
	bench_memory();
	bench_fold();
	bench_replay(n);
	return 0;
}
