/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil eval trace [--seeds N] [--trials N] [--out DIR]: leak tracing
 * (vigil/trace.h) measured on simulated worlds (vigil/sim.h).
 *
 * Each seed builds one week of the world with five lone insiders (bulk,
 * low_slow, off_shift, launder, mimic) and a ring of 20, run through the
 * in-process driver with the detector alerting but containing nobody:
 * tracing is the second line, for the theft detection did not stop (a
 * log from before vigil watched, a careful insider), so every insider
 * takes what its strategy takes.  The week's audit records feed one
 * tracer; then leaks are drawn from the ground truth and traced:
 *
 *   - lone: k of one insider's stolen customers (k = 3, 5, 10): does
 *     the insider rank first, and is it named?
 *   - ring: k of the ring's stolen customers (k = 100, 200, 300): how
 *     many members are named?
 *   - exports: k rows (k = 5, 10, 20, 50) of one of the exporters' daily
 *     exports for the courier: is it the export named first?  The
 *     in-process driver makes no canaries, so this is the overlap alone
 *     (a real export's canaries only add proof: tests/integ/trace_e2e.py);
 *   - nulls, where nobody in the log is the source: 300 customers drawn
 *     from all customers (another company's breach), and 300 drawn from
 *     the customers support revealed that week (a CRM leak: the
 *     customers every agent touched, the hard case for a null that
 *     ignored queues).
 *
 * A principal named who is not the leak's source is a false accusation,
 * and so is any export named (the world's exporters make exports, but
 * no leak drawn here comes from one).
 * Leaks hold name and phone, the bundle the case sold.  Deterministic:
 * the report is a function of the options.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vigil/sim.h"
#include "vigil/trace.h"
#include "cli.h"
#include "mix.h"

#define SEEDS_MAX 50
#define TRIALS_MAX 1000
#define RING_SIZE 20

static const enum vg_strategy lone[] = {
	VG_STRAT_BULK, VG_STRAT_LOW_SLOW, VG_STRAT_OFF_SHIFT,
	VG_STRAT_LAUNDER, VG_STRAT_MIMIC,
};
#define NLONE (sizeof(lone) / sizeof(lone[0]))
static const uint32_t lone_k[] = { 3, 5, 10 };
#define NLK (sizeof(lone_k) / sizeof(lone_k[0]))
static const uint32_t ring_k[] = { 100, 200, 300 };
#define NRK (sizeof(ring_k) / sizeof(ring_k[0]))
static const uint32_t export_k[] = { 5, 10, 20, 50 };
#define NEK (sizeof(export_k) / sizeof(export_k[0]))
#define NULL_K 300

/* Stolen customers of one principal (ground truth), distinct. */
struct taken {
	uint32_t *c;
	size_t n, cap;
};

/* One of the world's exports: its id (the manifest's) and customers. */
struct wexport {
	char id[VG_EXPORT_ID_MAX + 1];
	uint32_t *c;
	size_t n;
};

struct world {
	struct vg_sim *w;
	const struct vg_sim_principal *pt;
	size_t np;
	struct vg_trace *tr;
	int rc;
	struct taken *taken;		/* by principal index */
	uint8_t *revealed;		/* by customer: some reveal allowed */
	uint8_t *stolen;		/* by customer: some theft */
	uint32_t ncust;
	char last_export[VG_EXPORT_ID_MAX + 1];	/* the last manifest's */
	struct wexport *ex;
	size_t nex, capex;
};

/* Results, summed over seeds. */
struct lone_res {
	uint64_t trials, first, named, short_of;
};
struct ring_res {
	uint64_t trials, members_named, min_named, at_least_18;
	uint32_t *named;		/* per trial */
};
struct export_res {
	uint64_t trials, first, named;
};
struct tally {
	struct lone_res lone[NLONE][NLK];
	struct export_res ex[NEK];
	struct ring_res ring[NRK];
	uint64_t null_trials[2], null_named[2];
	uint64_t traces, false_named, traces_with_false;
	uint64_t false_exports, traces_with_false_export;
	uint64_t ring_members;
	double seconds;
	uint64_t entries;
};

static uint32_t
below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(splitmix64(s) % n);
}

static int
taken_add(struct taken *t, uint32_t c)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->c[i] == c)
			return 0;
	if (t->n == t->cap) {
		size_t cap = t->cap != 0 ? t->cap * 2 : 64;
		uint32_t *p = realloc(t->c, cap * sizeof(*p));

		if (p == NULL)
			return VG_ENOMEM;
		t->c = p;
		t->cap = cap;
	}
	t->c[t->n++] = c;
	return 0;
}

static void
on_record(void *ctx, const struct vg_audit_record *r)
{
	struct world *wd = ctx;

	if (wd->rc == 0)
		wd->rc = vg_trace_feed(wd->tr, r);
	if (strcmp(r->action, "export") == 0 &&
	    strcmp(r->decision, "allow") == 0) {
		const char *s = strstr(r->detail, "export=");
		size_t n;

		if (s == NULL)
			return;
		s += 7;
		n = strcspn(s, ",");
		if (n >= sizeof(wd->last_export))
			n = sizeof(wd->last_export) - 1;
		memcpy(wd->last_export, s, n);
		wd->last_export[n] = '\0';
	}
}

/* Keeps an export the driver made (its manifest was the last record). */
static int
export_add(struct world *wd, const struct vg_sim_action *a)
{
	struct wexport *e;

	if (wd->nex == wd->capex) {
		size_t cap = wd->capex != 0 ? wd->capex * 2 : 64;
		struct wexport *p = realloc(wd->ex, cap * sizeof(*p));

		if (p == NULL)
			return VG_ENOMEM;
		wd->ex = p;
		wd->capex = cap;
	}
	e = &wd->ex[wd->nex];
	memset(e, 0, sizeof(*e));
	if ((e->c = malloc((a->rows + 1) * sizeof(*e->c))) == NULL)
		return VG_ENOMEM;
	memcpy(e->c, a->export_customers, a->rows * sizeof(*e->c));
	e->n = a->rows;
	snprintf(e->id, sizeof(e->id), "%s", wd->last_export);
	wd->nex++;
	return 0;
}

static void
on_action(void *ctx, const struct vg_sim_action *a, enum vg_sim_result r)
{
	struct world *wd = ctx;

	if (a->kind == VG_SIM_EXPORT && r == VG_SIM_OK &&
	    a->export_customers != NULL && wd->rc == 0) {
		wd->rc = export_add(wd, a);
		return;
	}
	if (a->kind != VG_SIM_REVEAL || r != VG_SIM_OK || a->customer < 0 ||
	    (uint64_t)a->customer >= wd->ncust)
		return;
	wd->revealed[a->customer] = 1;
	if (!a->theft)
		return;
	wd->stolen[a->customer] = 1;
	if (wd->rc == 0)
		wd->rc = taken_add(&wd->taken[a->principal],
		    (uint32_t)a->customer);
}

/* Draws k distinct customers of pool[0..n) into out (k <= n). */
static void
draw(uint64_t *rng, const uint32_t *pool, size_t n, uint32_t *out,
    uint32_t k, uint32_t *scratch)
{
	uint32_t i;

	memcpy(scratch, pool, n * sizeof(*pool));
	for (i = 0; i < k; i++) {
		uint32_t j = i + below(rng, (uint32_t)(n - i)), x = scratch[i];

		scratch[i] = scratch[j];
		scratch[j] = x;
		out[i] = scratch[i];
	}
}

/* Traces the leak of customers c[0..k); returns the result or NULL. */
static const struct vg_trace_result *
trace(struct world *wd, const uint32_t *c, uint32_t k)
{
	const struct vg_trace_result *res;
	unsigned char id[VG_IDBYTES];
	uint32_t i;

	vg_trace_leak_reset(wd->tr);
	for (i = 0; i < k; i++) {
		vg_sim_customer_id(wd->w, c[i], id);
		if (vg_trace_leak_add(wd->tr, id, VG_TRACE_TYPE(VG_FT_NAME) |
		    VG_TRACE_TYPE(VG_FT_PHONE), vg_sim_region(wd->w, c[i]),
		    false) != 0)
			return NULL;
	}
	return vg_trace_compute(wd->tr, &res) == 0 ? res : NULL;
}

/* The principal index whose key is id, or -1. */
static int32_t
key_of(const struct world *wd, const char *id)
{
	size_t i;

	for (i = 0; i < wd->np; i++)
		if (strcmp(wd->pt[i].id, id) == 0)
			return (int32_t)i;
	return -1;
}

/* Counts the false names of a result whose sources are the keys with
 * src[key] set; returns the number of sources named. */
static uint32_t
score(struct tally *tt, const struct world *wd,
    const struct vg_trace_result *res, const uint8_t *src,
    const char *src_export)
{
	uint32_t named_src = 0, false_here = 0;
	size_t i;

	for (i = 0; i < res->nnamed; i++) {
		int32_t k = key_of(wd, res->suspects[i].principal);

		if (k >= 0 && src[k])
			named_src++;
		else
			false_here++;
	}
	tt->traces++;
	tt->false_named += false_here;
	if (false_here > 0)
		tt->traces_with_false++;
	/* No leak here comes from an export: every export named is a
	 * false accusation of its recipient. */
	false_here = 0;
	for (i = 0; i < res->nexports; i++)
		if (res->exports[i].named && (src_export == NULL ||
		    strcmp(res->exports[i].id, src_export) != 0))
			false_here++;
	tt->false_exports += false_here;
	if (false_here > 0)
		tt->traces_with_false_export++;
	return named_src;
}

static int
run_seed(uint64_t seed, uint32_t trials, struct tally *tt, char *err,
    size_t errcap)
{
	struct vg_sim_opts so;
	struct vg_sim_run_opts ro;
	struct vg_sim_report rep;
	struct vg_detect_tuning tun;
	struct vg_trace_opts to;
	struct world wd;
	uint32_t *pool = NULL, *leak = NULL, *scratch = NULL, *actor = NULL;
	uint8_t *src = NULL;
	uint64_t rng = seed * 0x2545f4914f6cdd1dull + 7;
	size_t i, j, npool;
	uint32_t s, k;
	int rc;

	memset(&so, 0, sizeof(so));
	memset(&wd, 0, sizeof(wd));
	memset(&rep, 0, sizeof(rep));
	so.seed = seed;
	for (i = 0; i < NLONE; i++)
		so.insiders[lone[i]] = 1;
	so.insiders[VG_STRAT_RING] = 1;
	so.ring_size = RING_SIZE;
	if ((rc = vg_sim_new(&so, &wd.w, err, errcap)) != 0)
		return rc;
	wd.pt = vg_sim_principals(wd.w, &wd.np);
	wd.ncust = vg_sim_options(wd.w)->customers;
	memset(&to, 0, sizeof(to));
	to.all_customers = true;
	to.types = VG_TRACE_TYPE(VG_FT_NAME) | VG_TRACE_TYPE(VG_FT_PHONE);
	wd.taken = calloc(wd.np, sizeof(*wd.taken));
	wd.revealed = calloc(wd.ncust, 1);
	wd.stolen = calloc(wd.ncust, 1);
	pool = malloc((size_t)wd.ncust * sizeof(*pool));
	scratch = malloc((size_t)wd.ncust * sizeof(*scratch));
	leak = malloc((size_t)wd.ncust * sizeof(*leak));
	actor = calloc(wd.np, sizeof(*actor));
	src = calloc(wd.np, 1);
	if (wd.taken == NULL || wd.revealed == NULL || wd.stolen == NULL ||
	    pool == NULL || scratch == NULL || leak == NULL ||
	    actor == NULL || src == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	if ((rc = vg_trace_new(&to, &wd.tr)) != 0)
		goto out;
	{
		/* The strata: customers per region. */
		char (*reg)[8] = NULL;
		uint64_t *cnt = NULL;
		size_t nr = 0, r;

		reg = calloc(VG_TRACE_REGIONS_MAX, sizeof(*reg));
		cnt = calloc(VG_TRACE_REGIONS_MAX, sizeof(*cnt));
		if (reg == NULL || cnt == NULL) {
			free(reg);
			free(cnt);
			rc = VG_ENOMEM;
			goto out;
		}
		for (s = 0; s < wd.ncust; s++) {
			const char *g = vg_sim_region(wd.w, s);

			for (r = 0; r < nr && strcmp(reg[r], g) != 0; r++)
				;
			if (r == nr && nr < VG_TRACE_REGIONS_MAX)
				snprintf(reg[nr++], sizeof(reg[0]), "%s", g);
			if (r < nr)
				cnt[r]++;
		}
		for (r = 0; rc == 0 && r < nr; r++)
			rc = vg_trace_stratum(wd.tr, reg[r], cnt[r]);
		free(reg);
		free(cnt);
		if (rc != 0)
			goto out;
	}
	/* Alerts, no containment: every insider takes what it would. */
	vg_detect_tuning_default(&tun);
	tun.on_medium = tun.on_high = tun.on_critical = VG_CONTAIN_NONE;
	memset(&ro, 0, sizeof(ro));
	ro.tuning = &tun;
	ro.record = on_record;
	ro.record_ctx = &wd;
	ro.action = on_action;
	ro.action_ctx = &wd;
	if ((rc = vg_sim_run(wd.w, &ro, &rep, err, errcap)) != 0)
		goto out;
	if ((rc = wd.rc) != 0)
		goto out;
	tt->entries += rep.entries;
	for (i = 0; i < wd.np; i++)
		actor[i] = (uint32_t)i;
	for (i = 0; i < rep.ninsiders; i++)
		actor[rep.insider[i].principal] = rep.insider[i].actor;

	/* Lone insiders. */
	for (i = 0; i < rep.ninsiders; i++) {
		const struct vg_sim_insider_report *in = &rep.insider[i];
		const struct taken *tk = &wd.taken[in->principal];
		size_t li;

		if (in->strategy == VG_STRAT_RING)
			continue;
		for (li = 0; li < NLONE && lone[li] != in->strategy; li++)
			;
		if (li == NLONE)
			continue;
		memset(src, 0, wd.np);
		src[actor[in->principal]] = 1;
		for (j = 0; j < NLK; j++) {
			struct lone_res *lr = &tt->lone[li][j];

			k = lone_k[j];
			if (tk->n < k) {
				lr->short_of += trials;
				continue;
			}
			for (s = 0; s < trials; s++) {
				const struct vg_trace_result *res;

				draw(&rng, tk->c, tk->n, leak, k, scratch);
				if ((res = trace(&wd, leak, k)) == NULL) {
					rc = VG_ENOMEM;
					goto out;
				}
				lr->trials++;
				if (res->nsuspects > 0 && key_of(&wd,
				    res->suspects[0].principal) ==
				    (int32_t)actor[in->principal])
					lr->first++;
				if (score(tt, &wd, res, src, NULL) > 0)
					lr->named++;
			}
		}
	}

	/* The ring. */
	memset(src, 0, wd.np);
	npool = 0;
	for (i = 0; i < rep.ninsiders; i++) {
		const struct vg_sim_insider_report *in = &rep.insider[i];
		const struct taken *tk = &wd.taken[in->principal];

		if (in->strategy != VG_STRAT_RING)
			continue;
		src[actor[in->principal]] = 1;
		tt->ring_members++;
		for (j = 0; j < tk->n; j++) {
			size_t q;

			for (q = 0; q < npool && pool[q] != tk->c[j]; q++)
				;
			if (q == npool)
				pool[npool++] = tk->c[j];
		}
	}
	for (j = 0; j < NRK; j++) {
		struct ring_res *rr = &tt->ring[j];

		k = ring_k[j];
		if (npool < k) {
			snprintf(err, errcap, "seed %llu: the ring stole %zu "
			    "customers, fewer than %u",
			    (unsigned long long)seed, npool, k);
			rc = VG_EINVAL;
			goto out;
		}
		for (s = 0; s < trials; s++) {
			const struct vg_trace_result *res;
			uint32_t members = 0;
			uint32_t *p;

			draw(&rng, pool, npool, leak, k, scratch);
			if ((res = trace(&wd, leak, k)) == NULL) {
				rc = VG_ENOMEM;
				goto out;
			}
			(void)score(tt, &wd, res, src, NULL);
			/* Members named: those whose key was named. */
			for (i = 0; i < rep.ninsiders; i++) {
				const struct vg_sim_insider_report *in =
				    &rep.insider[i];
				size_t q;

				if (in->strategy != VG_STRAT_RING)
					continue;
				for (q = 0; q < res->nnamed; q++)
					if (key_of(&wd, res->suspects[q].
					    principal) ==
					    (int32_t)actor[in->principal])
						break;
				if (q < res->nnamed)
					members++;
			}
			p = realloc(rr->named, (rr->trials + 1) * sizeof(*p));
			if (p == NULL) {
				rc = VG_ENOMEM;
				goto out;
			}
			rr->named = p;
			rr->named[rr->trials++] = members;
			rr->members_named += members;
			if (members >= 18)
				rr->at_least_18++;
		}
	}

	/* Exports: k rows of one of them. */
	memset(src, 0, wd.np);
	for (j = 0; j < NEK && wd.nex > 0; j++) {
		struct export_res *er = &tt->ex[j];

		k = export_k[j];
		for (s = 0; s < trials; s++) {
			const struct vg_trace_result *res;
			const struct wexport *e = &wd.ex[below(&rng,
			    (uint32_t)wd.nex)];

			if (e->n < k)
				continue;
			draw(&rng, e->c, e->n, leak, k, scratch);
			if ((res = trace(&wd, leak, k)) == NULL) {
				rc = VG_ENOMEM;
				goto out;
			}
			er->trials++;
			if (res->nexports > 0 &&
			    strcmp(res->exports[0].id, e->id) == 0) {
				er->first++;
				if (res->exports[0].named)
					er->named++;
			}
			(void)score(tt, &wd, res, src, e->id);
		}
	}

	/* Nulls: nobody in the log is the source. */
	memset(src, 0, wd.np);
	for (j = 0; j < 2; j++) {
		npool = 0;
		for (s = 0; s < wd.ncust; s++)
			if (j == 0 || (wd.revealed[s] && !wd.stolen[s]))
				pool[npool++] = s;
		for (s = 0; s < trials && npool >= NULL_K; s++) {
			const struct vg_trace_result *res;

			draw(&rng, pool, npool, leak, NULL_K, scratch);
			if ((res = trace(&wd, leak, NULL_K)) == NULL) {
				rc = VG_ENOMEM;
				goto out;
			}
			tt->null_trials[j]++;
			tt->null_named[j] += res->nnamed;
			(void)score(tt, &wd, res, src, NULL);
		}
	}
out:
	if (wd.taken != NULL)
		for (i = 0; i < wd.np; i++)
			free(wd.taken[i].c);
	for (i = 0; i < wd.nex; i++)
		free(wd.ex[i].c);
	free(wd.ex);
	free(wd.taken);
	free(wd.revealed);
	free(wd.stolen);
	free(pool);
	free(scratch);
	free(leak);
	free(actor);
	free(src);
	vg_trace_free(wd.tr);
	vg_sim_report_release(&rep);
	vg_sim_free(wd.w);
	return rc;
}

static double
pct(uint64_t n, uint64_t d)
{
	return d != 0 ? 100.0 * (double)n / (double)d : 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The report, as Markdown, to f. */
static void
report(FILE *f, const struct tally *tt, uint32_t seeds, uint32_t trials)
{
	size_t i, j;

	fprintf(f, "# Leak tracing measured on simulated worlds\n\n");
	fprintf(f, "`vigil eval trace --seeds %u --trials %u`: %u weeks of "
	    "the simulated company (1,003 principals, 200,000 customers, "
	    "%llu audit entries in all), each with five lone insiders and a "
	    "ring of %d, the detector alerting but containing nobody. "
	    "Leaks hold name and phone. Traced in %.1f s.\n\n", seeds,
	    trials, seeds, (unsigned long long)tt->entries, RING_SIZE,
	    tt->seconds);
	fprintf(f, "## A lone insider\n\n");
	fprintf(f, "| strategy | leaked rows | trials | ranked first | "
	    "named |\n|---|---:|---:|---:|---:|\n");
	for (i = 0; i < NLONE; i++)
		for (j = 0; j < NLK; j++) {
			const struct lone_res *lr = &tt->lone[i][j];

			if (lr->trials == 0) {
				fprintf(f, "| %s | %u | 0 | (stole fewer) | |\n",
				    vg_strategy_name(lone[i]), lone_k[j]);
				continue;
			}
			fprintf(f, "| %s | %u | %llu | %.1f%% | %.1f%% |\n",
			    vg_strategy_name(lone[i]), lone_k[j],
			    (unsigned long long)lr->trials,
			    pct(lr->first, lr->trials),
			    pct(lr->named, lr->trials));
		}
	for (j = 0; j < NLK; j++) {
		uint64_t tr = 0, first = 0, named = 0;

		for (i = 0; i < NLONE; i++) {
			tr += tt->lone[i][j].trials;
			first += tt->lone[i][j].first;
			named += tt->lone[i][j].named;
		}
		fprintf(f, "| **all** | %u | %llu | **%.1f%%** | %.1f%% |\n",
		    lone_k[j], (unsigned long long)tr, pct(first, tr),
		    pct(named, tr));
	}
	fprintf(f, "\n## A ring of %d\n\n", RING_SIZE);
	fprintf(f, "| leaked rows | trials | members named: min | median | "
	    "mean | trials with 18 or more |\n"
	    "|---:|---:|---:|---:|---:|---:|\n");
	for (j = 0; j < NRK; j++) {
		const struct ring_res *rr = &tt->ring[j];
		uint32_t *v;

		if (rr->trials == 0)
			continue;
		v = malloc(rr->trials * sizeof(*v));
		if (v == NULL)
			continue;
		memcpy(v, rr->named, rr->trials * sizeof(*v));
		qsort(v, rr->trials, sizeof(*v), cmp_u32);
		fprintf(f, "| %u | %llu | %u | %u | %.1f | %.1f%% |\n",
		    ring_k[j], (unsigned long long)rr->trials, v[0],
		    v[rr->trials / 2], (double)rr->members_named /
		    (double)rr->trials, pct(rr->at_least_18, rr->trials));
		free(v);
	}
	fprintf(f, "\nMembers are counted by the key they used: the "
	    "dismissed member works through a colleague's key, and is named "
	    "when that key is.\n\n");
	fprintf(f, "## A leaked export\n\n");
	fprintf(f, "k rows of one of the exporters' daily exports for the "
	    "courier (about 268 customers each, one a working day per "
	    "exporter). The in-process driver makes no canaries: this is the "
	    "export's overlap alone; a real export's canaries are proof on "
	    "top of it.\n\n");
	fprintf(f, "| leaked rows | trials | the export first | named |\n"
	    "|---:|---:|---:|---:|\n");
	for (j = 0; j < NEK; j++)
		fprintf(f, "| %u | %llu | %.1f%% | %.1f%% |\n", export_k[j],
		    (unsigned long long)tt->ex[j].trials,
		    pct(tt->ex[j].first, tt->ex[j].trials),
		    pct(tt->ex[j].named, tt->ex[j].trials));
	fprintf(f, "\n## False accusations\n\n");
	fprintf(f, "| leak | trials | principals named |\n|---|---:|---:|\n");
	fprintf(f, "| %d customers drawn from all customers | %llu | %llu |\n",
	    NULL_K, (unsigned long long)tt->null_trials[0],
	    (unsigned long long)tt->null_named[0]);
	fprintf(f, "| %d customers drawn from those support revealed | "
	    "%llu | %llu |\n", NULL_K,
	    (unsigned long long)tt->null_trials[1],
	    (unsigned long long)tt->null_named[1]);
	fprintf(f, "\nAcross all %llu traces (lone, ring, export and null), %llu "
	    "innocent principals were named, in %llu traces: **%.2f per 100 "
	    "traces**.\n", (unsigned long long)tt->traces,
	    (unsigned long long)tt->false_named,
	    (unsigned long long)tt->traces_with_false,
	    tt->traces != 0 ? 100.0 * (double)tt->false_named /
	    (double)tt->traces : 0);
	fprintf(f, "\nAn export named that is not the leak's source (every "
	    "leak but the exports' own) is a false accusation of its "
	    "recipient: %llu exports, in %llu of the %llu traces (%.2f per "
	    "100).\n",
	    (unsigned long long)tt->false_exports,
	    (unsigned long long)tt->traces_with_false_export,
	    (unsigned long long)tt->traces, tt->traces != 0 ? 100.0 *
	    (double)tt->false_exports / (double)tt->traces : 0);
}

int
cmd_eval_trace(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "seeds", required_argument, NULL, 's' },
		{ "trials", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct tally *tt;
	char err[256], path[4096];
	unsigned long long v;
	uint32_t seeds = 10, trials = 20, s, j;
	const char *out = "reports";
	double t0;
	FILE *f;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (cli_parse_u64(optarg, &v) != 0 || v < 1 ||
			    v > SEEDS_MAX)
				return cli_usage(cli, "--seeds takes 1 to %d",
				    SEEDS_MAX);
			seeds = (uint32_t)v;
			break;
		case 't':
			if (cli_parse_u64(optarg, &v) != 0 || v < 1 ||
			    v > TRIALS_MAX)
				return cli_usage(cli, "--trials takes 1 to %d",
				    TRIALS_MAX);
			trials = (uint32_t)v;
			break;
		case 'o':
			if (optarg[0] == '\0')
				return cli_usage(cli, "--out takes a "
				    "directory");
			out = optarg;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (optind != argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if ((tt = calloc(1, sizeof(*tt))) == NULL)
		return cli_fail(cli, EXIT_DATA, "out of memory");
	t0 = cli_seconds();
	for (s = 1; s <= seeds; s++) {
		if (cli_tty())
			fprintf(stderr, "\rvigil eval trace: seed %u/%u", s,
			    seeds);
		err[0] = '\0';
		if ((rc = run_seed(s, trials, tt, err, sizeof(err))) != 0) {
			rc = cli_fail(cli, EXIT_DATA, "seed %u: %s", s,
			    err[0] != '\0' ? err : vg_strerror(rc));
			goto out;
		}
	}
	if (cli_tty())
		fprintf(stderr, "\n");
	tt->seconds = cli_seconds() - t0;
	report(stdout, tt, seeds, trials);
	if (mkdir(out, 0755) != 0 && errno != EEXIST) {
		rc = cli_fail(cli, EXIT_DATA, "%s: %s", out, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/trace-eval.md", out);
	if ((f = fopen(path, "w")) == NULL) {
		rc = cli_fail(cli, EXIT_DATA, "%s: %s", path, strerror(errno));
		goto out;
	}
	report(f, tt, seeds, trials);
	if (fclose(f) != 0) {
		rc = cli_fail(cli, EXIT_DATA, "%s: write failed", path);
		goto out;
	}
	printf("\nwrote %s\n", path);
	rc = EXIT_OK;
out:
	for (j = 0; j < NRK; j++)
		free(tt->ring[j].named);
	free(tt);
	return rc;
}
