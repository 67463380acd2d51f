/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_audit: audit log append throughput and appender latency with
 * group commit (every batch fsynced), from 1 to many threads, then the
 * verification speed of the log written.  Also the same appends with one
 * fsync per entry (no group commit) as the comparison, in the same run.
 *
 * usage: bench_audit [SECONDS_PER_POINT] (default 3)
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
	struct vg_audit_entry e;
	double end = now_s() + w->seconds;

	memset(&e, 0, sizeof(e));
	e.principal = "p_agent_0042";
	e.action = "reveal";
	e.customer = cust;
	e.fields = "name,phone";
	e.purpose = "support";
	e.case_id = "case_7f3a9c";
	e.decision = "allow";
	e.request_id = "req_0123456789abcdef";
	e.client = "10.1.2.3";
	randombytes_buf(cust, sizeof(cust));
	while (now_s() < end) {
		double t0 = now_s();

		if (vg_audit_append(w->log, &e, NULL) != 0) {
			w->failed = 1;
			break;
		}
		if (w->nlat < w->cap)
			w->lat[w->nlat++] = (now_s() - t0) * 1e9;
		w->count++;
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
run_point(const char *dir, const char *chain, int threads, double secs,
    uint32_t batch_us)
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
	printf("append  threads %5d  %9.0f entries/s  p50 %8.1f us  p99 %8.1f us"
	    "  (%llu entries)\n", threads, (double)total / el,
	    nall ? all[nall / 2] / 1e3 : 0, nall ? all[nall * 99 / 100] / 1e3 :
	    0, (unsigned long long)total);
	free(all);
	free(w);
	free(t);
	return 0;
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3.0;
	static const int points[] = { 1, 16, 128, 512, 2048 };
	char dir[] = "/tmp/vigil-bench-audit-XXXXXX", path[512];
	struct vg_audit_verify_opts vo;
	struct vg_audit_verify_result res;
	size_t i;
	double t0, el;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 2;
	printf("group commit, fsync per batch (each point a fresh chain):\n");
	for (i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		char chain[32];

		snprintf(chain, sizeof(chain), "g%d", points[i]);
		if (run_point(dir, chain, points[i], secs, 0) != 0)
			return 2;
	}
	printf("comparison, one appender, fsync per entry: the 1-thread "
	    "point above\n");

	/* Verification of the largest chain written. */
	snprintf(path, sizeof(path), "%s/audit/g%d", dir,
	    points[sizeof(points) / sizeof(points[0]) - 1]);
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
