/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_audit: audit log append throughput and appender latency with
 * group commit (every batch fsynced), from 1 to many threads, then the
 * verification speed of the log written.  Also the same appends with one
 * fsync per entry (no group commit) as the comparison, in the same run.
 *
 * usage: bench_audit [SECONDS_PER_POINT [BATCH_US]] (default 3, the
 * log's default window)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "vigil/audit.h"

struct worker {
	struct vg_audit *log;
	size_t per_call;		/* entries per append call */
	double seconds;
	uint64_t count;
	double *lat;		/* per append, ns */
	size_t nlat, cap;
	int failed;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	unsigned char cust[16];
	struct vg_audit_entry e[64];
	double end = now_s() + w->seconds;
	size_t i;

	randombytes_buf(cust, sizeof(cust));
	memset(e, 0, sizeof(e));
	for (i = 0; i < w->per_call; i++) {
		e[i].principal = "p_agent_0042";
		e[i].action = "reveal";
		e[i].customer = cust;
		e[i].fields = "name,phone";
		e[i].purpose = "support";
		e[i].case_id = "case_7f3a9c";
		e[i].decision = "allow";
		e[i].request_id = "req_0123456789abcdef";
		e[i].client = "10.1.2.3";
	}
	while (now_s() < end) {
		double t0 = now_s();

		if (vg_audit_append_many(w->log, e, w->per_call, NULL) != 0) {
			w->failed = 1;
			break;
		}
		if (w->nlat < w->cap)
			w->lat[w->nlat++] = (now_s() - t0) * 1e9;
		w->count += w->per_call;
	}
	return NULL;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
run_point(const char *dir, const char *chain, int threads, size_t per_call,
    double secs, uint32_t batch_us)
{
	struct vg_audit_opts o;
	struct vg_audit *log;
	struct worker *w;
	pthread_t *t;
	unsigned char seed[32] = { 1 };
	char err[256];
	double t0, el, *all;
	uint64_t total = 0;
	size_t nall = 0;
	int k;

	memset(&o, 0, sizeof(o));
	o.vault_dir = dir;
	o.chain = chain;
	o.origin = "bench.local/audit";
	o.sign_seed = seed;
	o.batch_us = batch_us;
	if (vg_audit_open(&o, &log, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_audit: %s\n", err);
		return -1;
	}
	w = calloc((size_t)threads, sizeof(*w));
	t = calloc((size_t)threads, sizeof(*t));
	for (k = 0; k < threads; k++) {
		w[k].log = log;
		w[k].per_call = per_call;
		w[k].seconds = secs;
		w[k].cap = 400000 / (size_t)threads + 1000;
		w[k].lat = malloc(w[k].cap * sizeof(double));
	}
	t0 = now_s();
	for (k = 0; k < threads; k++)
		pthread_create(&t[k], NULL, work, &w[k]);
	for (k = 0; k < threads; k++)
		pthread_join(t[k], NULL);
	el = now_s() - t0;
	(void)vg_audit_close(log);
	for (k = 0; k < threads; k++)
		nall += w[k].nlat;
	all = malloc((nall + 1) * sizeof(double));
	nall = 0;
	for (k = 0; k < threads; k++) {
		memcpy(all + nall, w[k].lat, w[k].nlat * sizeof(double));
		nall += w[k].nlat;
		total += w[k].count;
		free(w[k].lat);
	}
	qsort(all, nall, sizeof(double), cmp_d);
	printf("append  threads %5d x %2zu/call  %9.0f entries/s  p50 %8.1f us"
	    "  p99 %8.1f us  (%llu entries)\n", threads, per_call,
	    (double)total / el,
	    nall ? all[nall / 2] / 1e3 : 0, nall ? all[nall * 99 / 100] / 1e3 :
	    0, (unsigned long long)total);
	free(all);
	free(w);
	free(t);
	return 0;
}

/*
 * The event-loop model: one thread submits one entry per call without
 * waiting (vg_audit_submit), keeping at most `inflight` outstanding;
 * latency is from submission to the durable callback.
 */
struct async_bench {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t outstanding, ndone, cap;
	double *lat;
	double *t0;			/* per slot */
	int failed;
};

struct async_slot {
	struct async_bench *b;
	size_t slot;
};

static void
async_done(void *ctx, int rc, uint64_t first)
{
	struct async_slot *s = ctx;
	struct async_bench *b = s->b;
	double t = now_s();

	(void)first;
	pthread_mutex_lock(&b->mu);
	if (rc != 0)
		b->failed = 1;
	if (b->ndone < b->cap)
		b->lat[b->ndone] = (t - b->t0[s->slot]) * 1e9;
	b->ndone++;
	b->outstanding--;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

static int
run_async(const char *dir, size_t inflight, double secs)
{
	struct vg_audit_opts o;
	struct vg_audit *log;
	struct async_bench b;
	struct async_slot *slots;
	struct vg_audit_entry e;
	unsigned char seed[32] = { 1 }, cust[16];
	char err[256];
	double t0, end, el;
	size_t next = 0, n;

	memset(&o, 0, sizeof(o));
	o.vault_dir = dir;
	o.chain = "async";
	o.origin = "bench.local/audit-async";
	o.sign_seed = seed;
	if (vg_audit_open(&o, &log, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_audit: %s\n", err);
		return -1;
	}
	memset(&b, 0, sizeof(b));
	pthread_mutex_init(&b.mu, NULL);
	pthread_cond_init(&b.cv, NULL);
	b.cap = 4000000;
	b.lat = malloc(b.cap * sizeof(double));
	b.t0 = calloc(inflight, sizeof(double));
	slots = calloc(inflight, sizeof(*slots));
	memset(&e, 0, sizeof(e));
	randombytes_buf(cust, sizeof(cust));
	e.principal = "p_agent_0042";
	e.action = "reveal";
	e.customer = cust;
	e.fields = "name,phone";
	e.purpose = "support";
	e.case_id = "case_7f3a9c";
	e.decision = "allow";
	e.request_id = "req_0123456789abcdef";
	e.client = "10.1.2.3";
	t0 = now_s();
	end = t0 + secs;
	while (now_s() < end) {
		size_t slot;

		pthread_mutex_lock(&b.mu);
		while (b.outstanding == inflight)
			pthread_cond_wait(&b.cv, &b.mu);
		b.outstanding++;
		pthread_mutex_unlock(&b.mu);
		/* Slots are reused round-robin: with `inflight` outstanding
		 * at most, slot next % inflight has completed. */
		slot = next++ % inflight;
		slots[slot].b = &b;
		slots[slot].slot = slot;
		b.t0[slot] = now_s();
		if (vg_audit_submit(log, &e, 1, async_done, &slots[slot]) !=
		    0) {
			b.failed = 1;
			break;
		}
	}
	pthread_mutex_lock(&b.mu);
	while (b.outstanding > 0)
		pthread_cond_wait(&b.cv, &b.mu);
	pthread_mutex_unlock(&b.mu);
	el = now_s() - t0;
	(void)vg_audit_close(log);
	n = b.ndone < b.cap ? b.ndone : b.cap;
	qsort(b.lat, n, sizeof(double), cmp_d);
	printf("submit  1 thread, async, %5zu in flight  %9.0f entries/s  p50 "
	    "%8.1f us  p99 %8.1f us  (%zu entries)%s\n", inflight,
	    (double)b.ndone / el, n ? b.lat[n / 2] / 1e3 : 0,
	    n ? b.lat[n * 99 / 100] / 1e3 : 0, b.ndone,
	    b.failed ? " FAILED" : "");
	free(b.lat);
	free(b.t0);
	free(slots);
	return b.failed ? -1 : 0;
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3.0;
	uint32_t batch_us = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) :
	    0;
	static const struct {
		int threads;
		size_t per_call;
	} points[] = {
		{ 1, 1 }, { 16, 1 }, { 128, 1 }, { 512, 1 }, { 2048, 1 },
		{ 64, 8 }, { 256, 4 }, { 256, 8 },
	};
	char dir[] = "/tmp/vigil-bench-audit-XXXXXX", path[512];
	struct vg_audit_verify_opts vo;
	struct vg_audit_verify_result res;
	size_t i;
	double t0, el;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 2;
	printf("group commit, fsync per batch, window %s (each point a "
	    "fresh chain):\n", batch_us == 0 ? "the default 200 us" :
	    "as given");
	for (i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		char chain[32];

		snprintf(chain, sizeof(chain), "g%zu", i);
		if (run_point(dir, chain, points[i].threads,
		    points[i].per_call, secs, batch_us) != 0)
			return 2;
	}
	if (run_async(dir, 1024, secs) != 0 || run_async(dir, 8192, secs) != 0)
		return 2;
	printf("(the 1-thread point is the no-group-commit comparison: one "
	    "appender, one fsync per entry)\n");

	/* Verification of the largest chain written. */
	snprintf(path, sizeof(path), "%s/audit/g%zu", dir,
	    sizeof(points) / sizeof(points[0]) - 1);
	memset(&vo, 0, sizeof(vo));
	vo.chain_dir = path;
	t0 = now_s();
	if (vg_audit_verify(&vo, &res) != 0 || !res.ok) {
		fprintf(stderr, "bench_audit: verify failed: %s\n", res.detail);
		return 2;
	}
	el = now_s() - t0;
	printf("verify  %llu entries in %.2f s: %.0f entries/s (framing, hash "
	    "chain, Merkle roots, %llu signed checkpoints; no MAC key)\n",
	    (unsigned long long)res.entries, el, (double)res.entries / el,
	    (unsigned long long)res.checkpoints);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) == 0 ? 0 : 2;
}
