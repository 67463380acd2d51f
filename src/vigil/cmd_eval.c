/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil eval [--days N] [--seeds N] [--out DIR]: the detector measured
 * on simulated worlds (vigil/sim.h).  One scenario per insider strategy
 * (one insider each), a collusion ring, and a week without insiders
 * that has a launch surge, each over seeds 1..N, through the in-process
 * driver; two worker threads run the (scenario, seed) jobs and the
 * results are gathered in job order, so the report is a function of
 * the options alone.  Writes DIR/eval.md (tables) and DIR/eval.html
 * (the same tables and SVG plots drawn here: records leaked over time
 * with and without vigil, the alert timeline, alert scores of insiders
 * against the rest).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "vigil/sim.h"
#include "cli.h"

#define SURGE_DAY 2
#define RING_SIZE 20
#define SEEDS_MAX 50
#define WORKERS 2

enum { SC_RING = VG_STRAT_RING, SC_QUIET = VG_STRAT_COUNT, NSC };

/* The scenarios in report order: the single insiders, the ring, the
 * quiet week. */
static const int sc_order[] = {
	VG_STRAT_BULK, VG_STRAT_LOW_SLOW, VG_STRAT_OFF_SHIFT,
	VG_STRAT_LAUNDER, VG_STRAT_VALIDATE, VG_STRAT_ENUMERATE,
	VG_STRAT_MIMIC, SC_RING, SC_QUIET,
};
#define NSCEN (sizeof(sc_order) / sizeof(sc_order[0]))

enum { R_AGENT, R_SUPERVISOR, R_EXPORTER, R_OTHER, NROLE };
static const char *const role_name[NROLE] = {
	"agent", "supervisor", "exporter", "other",
};

struct ev_alert {
	double h;			/* hours from the start */
	double score;
	bool truth;
	uint8_t sev;
};

/* False alerts by their top signal and the principal's role. */
#define FSIG_MAX 32
struct fsig {
	char name[32];
	uint64_t n[NROLE];
};

struct job {
	int sc;
	uint64_t seed;
	int rc;
	char err[256];
	struct vg_sim_report rep;	/* insider[] owned */
	uint32_t nprincipals;
	char (*ids)[VG_PRINCIPAL_ID_MAX + 1];	/* of the insiders */
	bool *dismissed;
	uint64_t false_by_role[NROLE];
	struct fsig fsig[FSIG_MAX];
	size_t nfsig;
	/* Cumulative taken / would_take of its insiders, per hour. */
	uint64_t *taken, *would;
	size_t nhours, hour;
	struct vg_sim *w;		/* while it runs */
	int64_t t0;
	struct ev_alert *al;
	size_t nal, alcap;
	const struct vg_sim_principal *pt;
	size_t np;
};

struct pool {
	pthread_mutex_t mu;
	struct job *jobs;
	size_t njobs, next, done;
	uint32_t days;
	bool progress;
};

static int
role_of(const char *role)
{
	if (strcmp(role, "agent") == 0)
		return R_AGENT;
	if (strcmp(role, "supervisor") == 0)
		return R_SUPERVISOR;
	if (strcmp(role, "exporter") == 0)
		return R_EXPORTER;
	return R_OTHER;
}

/* Counts a false alert under name for role. */
static void
fsig_add(struct fsig *v, size_t *n, const char *name, int role, uint64_t by)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(v[i].name, name) == 0)
			break;
	if (i == *n) {
		if (*n == FSIG_MAX)
			return;
		memset(&v[i], 0, sizeof(v[i]));
		snprintf(v[i].name, sizeof(v[i].name), "%s", name);
		(*n)++;
	}
	v[i].n[role] += by;
}

static void
on_alert(void *ctx, const struct vg_alert *a, int32_t p, bool truth)
{
	struct job *j = ctx;
	struct ev_alert *e;

	if (!truth && p >= 0 && (size_t)p < j->np) {
		int role = role_of(j->pt[p].role);

		j->false_by_role[role]++;
		fsig_add(j->fsig, &j->nfsig, strcmp(a->rule, "peer_outlier") !=
		    0 || a->nsignals == 0 ? a->rule : a->signal[0].name, role,
		    1);
	}
	if (j->nal == j->alcap) {
		size_t nc = j->alcap ? j->alcap * 2 : 64;
		struct ev_alert *na = realloc(j->al, nc * sizeof(*na));

		if (na == NULL)
			return;
		j->al = na;
		j->alcap = nc;
	}
	e = &j->al[j->nal++];
	e->h = (double)(a->time_ns - j->t0) / 3.6e12;
	e->score = a->score;
	e->truth = truth;
	e->sev = (uint8_t)a->severity;
}

/* The insiders' truth summed, into every hour up to the one of t. */
static void
sample(struct job *j, int64_t t)
{
	size_t upto = t < j->t0 ? 0 : (size_t)((t - j->t0) / 3600000000000ll);
	uint64_t tk = 0, wt = 0;
	size_t i;

	if (upto > j->nhours)
		upto = j->nhours;
	if (j->hour >= upto)
		return;
	for (i = 0; i < j->np; i++)
		if (j->pt[i].strategy != VG_STRAT_NONE) {
			struct vg_sim_truth tr;

			vg_sim_truth(j->w, (uint32_t)i, &tr);
			tk += tr.taken;
			wt += tr.would_take;
		}
	while (j->hour < upto) {
		j->taken[j->hour] = tk;
		j->would[j->hour] = wt;
		j->hour++;
	}
}

static void
on_action(void *ctx, const struct vg_sim_action *a, enum vg_sim_result r)
{
	(void)r;
	sample(ctx, a->t_ns);
}

static void
run_job(struct job *j, uint32_t days)
{
	struct vg_sim_opts so;
	struct vg_sim_run_opts ro;
	size_t i, n = 0;

	memset(&so, 0, sizeof(so));
	so.seed = j->seed;
	so.days = days;
	if (j->sc == SC_QUIET) {
		so.surge_day = SURGE_DAY < (int)days ? SURGE_DAY : 0;
		so.surge = 3.0;
	} else if (j->sc == SC_RING) {
		so.insiders[VG_STRAT_RING] = 1;
		so.ring_size = RING_SIZE;
	} else {
		so.insiders[j->sc] = 1;
	}
	j->nhours = (size_t)days * 24 + 1;
	j->taken = calloc(j->nhours, sizeof(*j->taken));
	j->would = calloc(j->nhours, sizeof(*j->would));
	if (j->taken == NULL || j->would == NULL) {
		j->rc = VG_ENOMEM;
		return;
	}
	j->rc = vg_sim_new(&so, &j->w, j->err, sizeof(j->err));
	if (j->rc != 0)
		return;
	j->pt = vg_sim_principals(j->w, &j->np);
	j->nprincipals = (uint32_t)j->np;
	j->t0 = vg_sim_options(j->w)->start * 1000000000ll;
	memset(&ro, 0, sizeof(ro));
	ro.alert = on_alert;
	ro.alert_ctx = j;
	ro.action = on_action;
	ro.action_ctx = j;
	j->rc = vg_sim_run(j->w, &ro, &j->rep, j->err, sizeof(j->err));
	if (j->rc == 0) {
		sample(j, j->t0 + (int64_t)days * 86400000000000ll +
		    3600000000000ll);
		n = j->rep.ninsiders;
		j->ids = calloc(n + 1, sizeof(*j->ids));
		j->dismissed = calloc(n + 1, sizeof(*j->dismissed));
		if (j->ids == NULL || j->dismissed == NULL)
			j->rc = VG_ENOMEM;
		for (i = 0; j->rc == 0 && i < n; i++) {
			const struct vg_sim_principal *p =
			    &j->pt[j->rep.insider[i].principal];

			snprintf(j->ids[i], sizeof(j->ids[i]), "%s", p->id);
			j->dismissed[i] = p->dismissed;
		}
	}
	j->pt = NULL;
	vg_sim_free(j->w);
	j->w = NULL;
}

static void *
worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		struct job *j;

		pthread_mutex_lock(&p->mu);
		if (p->next == p->njobs) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		j = &p->jobs[p->next++];
		pthread_mutex_unlock(&p->mu);
		run_job(j, p->days);
		pthread_mutex_lock(&p->mu);
		p->done++;
		if (p->progress)
			fprintf(stderr, "\rvigil eval: %zu/%zu runs", p->done,
			    p->njobs);
		pthread_mutex_unlock(&p->mu);
	}
}

/*-----------------------------------------------------------------------------
 * Aggregates
 */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	if (n == 0)
		return -1;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct agg {
	size_t n, detected, contained;
	double t_alert[SEEDS_MAX * RING_SIZE], t_contain[SEEDS_MAX * RING_SIZE];
	uint64_t taken, would;
	char signal[32];
	uint32_t ring_alerted[SEEDS_MAX];	/* ring: members, by seed */
	size_t nrings;
	double med_alert, med_contain;
	/* Series, summed over seeds. */
	uint64_t *taken_h, *would_h;
};

struct totals {
	uint64_t alerts, true_alerts, false_alerts, principal_days;
	uint64_t insiders, detected, legit_reveals, legit_case;
	uint64_t staff_reveals, staff_case, legit_contained, reinstated;
	uint64_t exports, export_rows;	/* the exporters' (not reveals) */
	uint64_t false_by_role[NROLE];
	uint64_t quiet_false, quiet_days;
	uint64_t staff_false, staff_days;
	uint64_t entries;
	struct fsig fsig[FSIG_MAX];
	size_t nfsig;
};

static void
aggregate(struct job *jobs, size_t njobs, size_t nhours, struct agg *ag,
    struct totals *tt)
{
	size_t k, i, h;

	memset(tt, 0, sizeof(*tt));
	for (k = 0; k < njobs; k++) {
		struct job *j = &jobs[k];
		struct agg *a = &ag[j->sc];
		uint32_t ring_hit = 0;

		tt->alerts += j->rep.alerts;
		tt->true_alerts += j->rep.true_alerts;
		tt->false_alerts += j->rep.false_alerts;
		tt->principal_days += j->rep.principal_days;
		tt->staff_false += j->rep.staff_false_alerts;
		tt->staff_days += j->rep.staff_principal_days;
		tt->legit_reveals += j->rep.legit_reveals;
		tt->legit_case += j->rep.legit_case_reveals;
		tt->staff_reveals += j->rep.legit_staff_reveals;
		tt->staff_case += j->rep.legit_staff_case_reveals;
		tt->legit_contained += j->rep.legit_contained;
		tt->reinstated += j->rep.reinstated;
		tt->exports += j->rep.exports;
		tt->export_rows += j->rep.export_rows;
		tt->entries += j->rep.entries;
		for (i = 0; i < NROLE; i++)
			tt->false_by_role[i] += j->false_by_role[i];
		for (i = 0; i < j->nfsig; i++) {
			int r;

			for (r = 0; r < NROLE; r++)
				if (j->fsig[i].n[r] > 0)
					fsig_add(tt->fsig, &tt->nfsig,
					    j->fsig[i].name, r, j->fsig[i].n[r]);
		}
		if (j->sc == SC_QUIET) {
			tt->quiet_false += j->rep.false_alerts;
			tt->quiet_days += j->rep.principal_days;
		}
		for (h = 0; h < nhours && h < j->nhours; h++) {
			a->taken_h[h] += j->taken[h];
			a->would_h[h] += j->would[h];
		}
		for (i = 0; i < j->rep.ninsiders; i++) {
			const struct vg_sim_insider_report *ir =
			    &j->rep.insider[i];
			double fa = cli_sim_hours(ir->truth.first_action_ns,
			    ir->first_alert_ns);
			double ct = cli_sim_hours(ir->truth.first_action_ns,
			    ir->contained_ns);

			a->n++;
			tt->insiders++;
			a->taken += ir->truth.taken;
			a->would += ir->truth.would_take;
			if (ir->first_alert_ns != 0) {
				a->t_alert[a->detected++] = fa;
				tt->detected++;
				ring_hit++;
				if (a->signal[0] == '\0')
					snprintf(a->signal, sizeof(a->signal),
					    "%s", ir->signal);
			}
			if (ir->contained_ns != 0)
				a->t_contain[a->contained++] = ct;
		}
		if (j->sc == SC_RING && a->nrings < SEEDS_MAX)
			a->ring_alerted[a->nrings++] = ring_hit;
	}
	for (k = 0; k < NSC; k++) {
		ag[k].med_alert = median(ag[k].t_alert, ag[k].detected);
		ag[k].med_contain = median(ag[k].t_contain, ag[k].contained);
	}
}

static double
per_1000(uint64_t n, uint64_t d)
{
	return d > 0 ? 1000.0 * (double)n / (double)d : 0.0;
}

static double
pct(uint64_t n, uint64_t d)
{
	return d > 0 ? 100.0 * (double)n / (double)d : 0.0;
}

static const char *
sc_name(int sc)
{
	return sc == SC_QUIET ? "none (surge week)" : vg_strategy_name(
	    (enum vg_strategy)sc);
}

static void
hours_text(char *buf, size_t cap, double h)
{
	if (h < 0)
		snprintf(buf, cap, "-");
	else if (h < 1)
		snprintf(buf, cap, "%.0f min", h * 60);
	else
		snprintf(buf, cap, "%.1f h", h);
}

/*-----------------------------------------------------------------------------
 * The report: Markdown, and HTML with SVG
 */

struct doc {
	FILE *md, *html;
};

/* One table row into both documents: cells separated by '|'. */
static void
row(struct doc *d, bool head, const char *fmt, ...) VG_PRINTF(3, 4);

static void
row(struct doc *d, bool head, const char *fmt, ...)
{
	char line[1024], *s, *c;
	va_list ap;
	size_t n = 0;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(d->md, "| %s |\n", line);
	if (head) {
		for (s = line; *s != '\0'; s++)
			n += *s == '|';
		fprintf(d->md, "|");
		while (n-- + 1 > 0)
			fprintf(d->md, "---|");
		fprintf(d->md, "\n");
	}
	fprintf(d->html, "<tr>");
	for (s = line; s != NULL; s = c) {
		c = strchr(s, '|');
		if (c != NULL)
			*c++ = '\0';
		while (*s == ' ')
			s++;
		fprintf(d->html, "<%s>%s</%s>", head ? "th" : "td", s,
		    head ? "th" : "td");
	}
	fprintf(d->html, "</tr>\n");
}

static void
para(struct doc *d, const char *fmt, ...) VG_PRINTF(2, 3);

static void
para(struct doc *d, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(d->md, "%s\n\n", text);
	fprintf(d->html, "<p>%s</p>\n", text);
}

static void
heading(struct doc *d, int level, const char *text)
{
	fprintf(d->md, "%.*s %s\n\n", level, "####", text);
	fprintf(d->html, "<h%d>%s</h%d>\n", level, text, level);
}

static void
table_open(struct doc *d)
{
	fprintf(d->html, "<table>\n");
}

static void
table_close(struct doc *d)
{
	fprintf(d->md, "\n");
	fprintf(d->html, "</table>\n");
}

/* Records over time, one small panel per scenario with insiders: what
 * they took with vigil (solid) and would have taken without (dashed). */
static void
svg_leaks(FILE *f, const struct agg *ag, size_t nhours, uint32_t days)
{
	const int pw = 230, ph = 150, cols = 4, ml = 44, mb = 22, mt = 20;
	size_t k, h, panels = NSCEN - 1;
	int width = cols * pw, height = (int)((panels + cols - 1) / cols) * ph;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" font-family=\"sans-serif\" font-size=\"10\">\n",
	    width, height);
	for (k = 0; k < panels; k++) {
		const struct agg *a = &ag[sc_order[k]];
		int x0 = (int)(k % cols) * pw + ml, y0 = (int)(k / cols) * ph +
		    mt, w = pw - ml - 10, hgt = ph - mt - mb;
		double ymax = 1;
		uint32_t d;
		int pass;

		for (h = 0; h < nhours; h++)
			if ((double)a->would_h[h] > ymax)
				ymax = (double)a->would_h[h];
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s"
		    "</text>\n", x0, y0 - 6, sc_name(sc_order[k]));
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		    "fill=\"none\" stroke=\"#bbb\"/>\n", x0, y0, w, hgt);
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f"
		    "</text>\n", x0 - 3, y0 + 8, ymax);
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0"
		    "</text>\n", x0 - 3, y0 + hgt);
		for (d = 0; d <= days; d++) {
			int x = x0 + (int)((double)w * d / days);

			fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor="
			    "\"middle\">%u</text>\n", x, y0 + hgt + 12, d);
		}
		/* With vigil first, so the dashed line stays visible where
		 * nothing was prevented. */
		for (pass = 0; pass < 2; pass++) {
			const uint64_t *v = pass == 0 ? a->taken_h : a->would_h;

			fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" "
			    "stroke-width=\"1.5\"%s points=\"", pass == 0 ?
			    "#1f6fb2" : "#c0392b", pass == 0 ? "" :
			    " stroke-dasharray=\"4 3\"");
			for (h = 0; h < nhours; h++)
				fprintf(f, "%.1f,%.1f ", x0 + (double)w * h /
				    (double)(nhours - 1), y0 + hgt -
				    (double)hgt * (double)v[h] / ymax);
			fprintf(f, "\"/>\n");
		}
	}
	fprintf(f, "</svg>\n");
}

/* Alerts over time: one row per run, true alerts red, false grey. */
static void
svg_timeline(FILE *f, const struct job *jobs, size_t njobs, uint32_t days)
{
	const int ml = 160, rh = 9, w = 660;
	int height = (int)njobs * rh + 40;
	size_t k, i;
	uint32_t d;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" font-family=\"sans-serif\" font-size=\"9\">\n",
	    ml + w + 20, height);
	for (d = 0; d <= days; d++) {
		int x = ml + (int)((double)w * d / days);

		fprintf(f, "<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"%d\" "
		    "stroke=\"#eee\"/><text x=\"%d\" y=\"%d\" text-anchor="
		    "\"middle\">day %u</text>\n", x, x, height - 22, x,
		    height - 10, d);
	}
	for (k = 0; k < njobs; k++) {
		const struct job *j = &jobs[k];
		int y = 14 + (int)k * rh;

		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s, "
		    "seed %llu</text>\n", ml - 6, y + 3, sc_name(j->sc),
		    (unsigned long long)j->seed);
		for (i = 0; i < j->nal; i++) {
			const struct ev_alert *e = &j->al[i];

			fprintf(f, "<circle cx=\"%.1f\" cy=\"%d\" r=\"%d\" "
			    "fill=\"%s\" fill-opacity=\"0.8\"/>\n", ml +
			    (double)w * e->h / (24.0 * days), y, e->sev >= 3 ?
			    4 : 3, e->truth ? "#c0392b" : "#888");
		}
	}
	fprintf(f, "</svg>\n");
}

/* Alert scores: insiders' alerts against everybody else's. */
static void
svg_scores(FILE *f, const struct job *jobs, size_t njobs)
{
	enum { NB = 12 };
	uint32_t bins[2][NB];
	const int ml = 40, w = 480, hgt = 150, bw = w / NB;
	uint32_t ymax = 1;
	size_t k, i;
	int b, t;

	memset(bins, 0, sizeof(bins));
	for (k = 0; k < njobs; k++)
		for (i = 0; i < jobs[k].nal; i++) {
			const struct ev_alert *e = &jobs[k].al[i];

			b = (int)(e->score / 2.5);
			if (b >= NB)
				b = NB - 1;
			if (b < 0)
				b = 0;
			bins[e->truth][b]++;
		}
	for (t = 0; t < 2; t++)
		for (b = 0; b < NB; b++)
			if (bins[t][b] > ymax)
				ymax = bins[t][b];
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" font-family=\"sans-serif\" font-size=\"10\">\n",
	    ml + w + 20, hgt + 40);
	for (b = 0; b < NB; b++) {
		for (t = 0; t < 2; t++) {
			int bh = (int)((double)hgt * bins[t][b] / ymax);

			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
			    "height=\"%d\" fill=\"%s\"><title>%u</title>"
			    "</rect>\n", ml + b * bw + t * (bw / 2), 10 + hgt -
			    bh, bw / 2 - 1, bh, t ? "#c0392b" : "#888",
			    bins[t][b]);
		}
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
		    "%.1f</text>\n", ml + b * bw, hgt + 24, b * 2.5);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%u</text>\n",
	    ml - 4, 18, ymax);
	fprintf(f, "<text x=\"%d\" y=\"%d\">score (the last bin: 27.5 and "
	    "more)</text>\n", ml + w / 2 - 80, hgt + 38);
	fprintf(f, "</svg>\n");
}

static void
write_report(struct doc *d, struct job *jobs, size_t njobs, struct agg *ag,
    const struct totals *tt, uint32_t days, uint32_t seeds, size_t nhours)
{
	const struct agg *bulk = &ag[VG_STRAT_BULK], *slow =
	    &ag[VG_STRAT_LOW_SLOW], *ring = &ag[SC_RING];
	char a[32], c[32], buf[256];
	uint32_t ring_min = RING_SIZE;
	size_t k, i;
	double bulk_max = 0, slow_max = 0;
	bool slow_all;

	heading(d, 1, "vigil eval");
	para(d, "Made by `vigil eval --days %u --seeds %u`: the simulated "
	    "world of docs/DETECTION.md (\"Simulator and evaluation\"), about "
	    "1,000 principals of the company and eight vendors, 200,000 "
	    "customers, %u days from Monday 2027-01-04, seeds 1 to %u; "
	    "insiders start on day 1. Each strategy runs as its own scenario "
	    "with one insider; the ring has %d members; the last scenario "
	    "has no insider and triples the contacts on day %d. Policy: "
	    "etc/sim-policy.yaml; detector: the default tuning. %llu audit "
	    "entries in all. The same options give the same report.", days,
	    seeds, days, seeds, RING_SIZE, SURGE_DAY,
	    (unsigned long long)tt->entries);

	heading(d, 2, "Per strategy");
	table_open(d);
	row(d, true, "strategy | insiders | detected | median time to first "
	    "alert | median time to containment | records taken before "
	    "containment (mean) | without vigil (mean) | first signal");
	for (k = 0; k + 1 < NSCEN; k++) {
		const struct agg *g = &ag[sc_order[k]];

		hours_text(a, sizeof(a), g->med_alert);
		hours_text(c, sizeof(c), g->med_contain);
		row(d, false, "%s | %zu | %zu (%.0f%%) | %s | %s | %.1f | %.1f "
		    "| %s", sc_name(sc_order[k]), g->n, g->detected,
		    g->n ? 100.0 * g->detected / g->n : 0.0, a, c,
		    g->n ? (double)g->taken / g->n : 0.0, g->n ?
		    (double)g->would / g->n : 0.0, g->signal[0] != '\0' ?
		    g->signal : "-");
	}
	table_close(d);
	para(d, "Times run from the insider's first malicious action. "
	    "\"Records taken\" counts customers whose clear values the "
	    "insider obtained (for validate: phone numbers confirmed as "
	    "customers; enumeration guesses ids, which are random 128-bit "
	    "values, so it never takes anything). \"Without vigil\" is what "
	    "the same insider's plan would have taken with nothing refused.");
	{
		size_t len = 0;

		buf[0] = '\0';
		for (i = 0; i < ring->nrings; i++) {
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    "%s%u", i ? ", " : "", ring->ring_alerted[i]);
			if (ring->ring_alerted[i] < ring_min)
				ring_min = ring->ring_alerted[i];
			if (len >= sizeof(buf))
				break;
		}
		para(d, "Ring members alerted, per ring (seed 1 first): %s of "
		    "%d (one member is dismissed and works through a "
		    "colleague's key; it counts as alerted when that key "
		    "is).", buf, RING_SIZE);
	}

	heading(d, 2, "Legitimate traffic");
	table_open(d);
	row(d, true, "measure | value");
	row(d, false, "active principal-days (legitimate principals) | %llu",
	    (unsigned long long)tt->principal_days);
	row(d, false, "false alerts | %llu",
	    (unsigned long long)tt->false_alerts);
	row(d, false, "false alerts per 1,000 principal-days, all scenarios "
	    "| %.2f", per_1000(tt->false_alerts, tt->principal_days));
	row(d, false, "... in the surge week alone | %.2f",
	    per_1000(tt->quiet_false, tt->quiet_days));
	row(d, false, "... on people alone (agents, supervisors, security: "
	    "%llu principal-days) | %.2f", (unsigned long long)tt->staff_days,
	    per_1000(tt->staff_false, tt->staff_days));
	for (i = 0; i < NROLE; i++)
		row(d, false, "false alerts on %ss | %llu", role_name[i],
		    (unsigned long long)tt->false_by_role[i]);
	row(d, false, "legitimate reveals under a case, all | %.1f%%",
	    pct(tt->legit_case, tt->legit_reveals));
	row(d, false, "legitimate reveals under a case, people (agents, "
	    "supervisors, security) | %.1f%%", pct(tt->staff_case,
	    tt->staff_reveals));
	row(d, false, "exports made (the exporters' delivery labels for the "
	    "courier; not reveals) | %llu, %llu customers in all",
	    (unsigned long long)tt->exports,
	    (unsigned long long)tt->export_rows);
	row(d, false, "legitimate actions refused by a containment | %llu",
	    (unsigned long long)tt->legit_contained);
	row(d, false, "containments of legitimate principals lifted by the "
	    "review (4 h) | %llu", (unsigned long long)tt->reinstated);
	table_close(d);

	para(d, "False alerts by their strongest signal (the rule, for "
	    "org_elevated and honeytoken) and the role of the principal "
	    "alerted:");
	table_open(d);
	row(d, true, "signal | agents | supervisors | exporters | others");
	for (i = 0; i < tt->nfsig; i++)
		row(d, false, "%s | %llu | %llu | %llu | %llu", tt->fsig[i].name,
		    (unsigned long long)tt->fsig[i].n[R_AGENT],
		    (unsigned long long)tt->fsig[i].n[R_SUPERVISOR],
		    (unsigned long long)tt->fsig[i].n[R_EXPORTER],
		    (unsigned long long)tt->fsig[i].n[R_OTHER]);
	table_close(d);

	heading(d, 2, "Precision and recall");
	para(d, "Precision: %.1f%% of %llu alerts name an insider (or the key "
	    "one uses). Recall: %.1f%% of %llu insiders were alerted.",
	    pct(tt->true_alerts, tt->alerts), (unsigned long long)tt->alerts,
	    pct(tt->detected, tt->insiders), (unsigned long long)tt->insiders);

	heading(d, 2, "The targets of issue 5");
	for (k = 0; k < njobs; k++)
		for (i = 0; i < jobs[k].rep.ninsiders; i++) {
			const struct vg_sim_insider_report *ir =
			    &jobs[k].rep.insider[i];
			double h = cli_sim_hours(ir->truth.first_action_ns,
			    ir->first_alert_ns);

			if (ir->strategy == VG_STRAT_BULK &&
			    (double)ir->truth.taken > bulk_max)
				bulk_max = (double)ir->truth.taken;
			if (ir->strategy == VG_STRAT_LOW_SLOW &&
			    (h < 0 || h > slow_max))
				slow_max = h < 0 ? 1e9 : h;
		}
	slow_all = slow->n > 0 && slow->detected == slow->n && slow_max <= 72;
	table_open(d);
	row(d, true, "target | measured | met");
	row(d, false, "bulk harvester contained before 50 records | at most "
	    "%.0f records taken | %s", bulk_max, bulk->n > 0 &&
	    bulk->contained == bulk->n && bulk_max < 50 ? "yes" : "no");
	row(d, false, "low-and-slow alerted within 3 days | %zu of %zu, "
	    "the latest after %.1f h | %s", slow->detected, slow->n,
	    slow_max >= 1e9 ? -1.0 : slow_max, slow_all ? "yes" : "no");
	for (k = VG_STRAT_OFF_SHIFT; k <= VG_STRAT_ENUMERATE; k++)
		row(d, false, "%s detected | %zu of %zu | %s", sc_name((int)k),
		    ag[k].detected, ag[k].n, ag[k].n > 0 && ag[k].detected ==
		    ag[k].n ? "yes" : "no");
	row(d, false, "ring: 18 of 20 alerted within the run | fewest %u of "
	    "%d | %s", ring->nrings ? ring_min : 0, RING_SIZE, ring->nrings &&
	    ring_min >= 18 ? "yes" : "no");
	row(d, false, "at most 1 false alert per 1,000 principal-days | %.2f "
	    "(people alone %.2f) | %s", per_1000(tt->false_alerts,
	    tt->principal_days), per_1000(tt->staff_false, tt->staff_days),
	    per_1000(tt->false_alerts, tt->principal_days) <= 1.0 ? "yes" :
	    per_1000(tt->staff_false, tt->staff_days) <= 1.0 ?
	    "no (yes for people)" : "no");
	row(d, false, "94%% of legitimate reveals under a case | %.1f%% "
	    "(people %.1f%%) | %s", pct(tt->legit_case, tt->legit_reveals),
	    pct(tt->staff_case, tt->staff_reveals), pct(tt->legit_case,
	    tt->legit_reveals) >= 94.0 ? "yes" : pct(tt->staff_case,
	    tt->staff_reveals) >= 94.0 ? "no (yes for people)" : "no");
	row(d, false, "mimic (not a target: stays in the envelope) | %zu of "
	    "%zu detected | -", ag[VG_STRAT_MIMIC].detected,
	    ag[VG_STRAT_MIMIC].n);
	table_close(d);

	fprintf(d->md, "The plots (records leaked over time with and without "
	    "vigil, the alert timeline, alert scores) are in eval.html.\n");
	fprintf(d->html, "<h2>Records leaked over time</h2>\n<p>Summed over "
	    "the seeds: taken with vigil (solid blue) and what the same "
	    "insiders would have taken without it (dashed red), by day.</p>\n");
	svg_leaks(d->html, ag, nhours, days);
	fprintf(d->html, "<h2>Alert timeline</h2>\n<p>Every alert of every "
	    "run: red names an insider, grey anyone else; large dots are "
	    "high or critical.</p>\n");
	svg_timeline(d->html, jobs, njobs, days);
	fprintf(d->html, "<h2>Alert scores</h2>\n<p>The score of each alert: "
	    "insiders (red) against everybody else (grey).</p>\n");
	svg_scores(d->html, jobs, njobs);
}

static int
write_files(struct vg_cli *cli, const char *dir, struct job *jobs,
    size_t njobs, struct agg *ag, const struct totals *tt, uint32_t days,
    uint32_t seeds, size_t nhours)
{
	char md[4096], html[4096], tmp_md[4200], tmp_html[4200];
	struct doc d;
	int bad;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return cli_fail(cli, EXIT_DATA, "cannot create '%s': %s", dir,
		    strerror(errno));
	if ((size_t)snprintf(md, sizeof(md), "%s/eval.md", dir) >=
	    sizeof(md) || (size_t)snprintf(html, sizeof(html),
	    "%s/eval.html", dir) >= sizeof(html))
		return cli_fail(cli, EXIT_USAGE, "--out: path too long");
	snprintf(tmp_md, sizeof(tmp_md), "%s.tmp", md);
	snprintf(tmp_html, sizeof(tmp_html), "%s.tmp", html);
	d.md = fopen(tmp_md, "w");
	d.html = fopen(tmp_html, "w");
	if (d.md == NULL || d.html == NULL) {
		if (d.md != NULL)
			fclose(d.md);
		if (d.html != NULL)
			fclose(d.html);
		remove(tmp_md);
		return cli_fail(cli, EXIT_DATA, "cannot write into '%s': %s",
		    dir, strerror(errno));
	}
	fprintf(d.html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>vigil eval</title><style>body{font-family:sans-serif;"
	    "max-width:980px;margin:2em auto;color:#222}table{border-collapse:"
	    "collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px "
	    "8px;text-align:left;font-size:13px}th{background:#f3f3f3}"
	    "</style></head><body>\n");
	write_report(&d, jobs, njobs, ag, tt, days, seeds, nhours);
	fprintf(d.html, "</body></html>\n");
	bad = ferror(d.md) || ferror(d.html);
	bad |= fclose(d.md) != 0;
	bad |= fclose(d.html) != 0;
	if (bad || rename(tmp_md, md) != 0 || rename(tmp_html, html) != 0) {
		remove(tmp_md);
		remove(tmp_html);
		return cli_fail(cli, EXIT_DATA, "cannot write the report into "
		    "'%s'", dir);
	}
	return EXIT_OK;
}

static void
print_table(struct agg *ag, const struct totals *tt, const char *dir)
{
	char a[32], c[32];
	size_t k;

	printf("%-18s %8s %9s %12s %12s %10s %12s\n", "strategy", "insiders",
	    "detected", "first alert", "contained", "taken", "without vigil");
	for (k = 0; k + 1 < NSCEN; k++) {
		const struct agg *g = &ag[sc_order[k]];

		hours_text(a, sizeof(a), g->med_alert);
		hours_text(c, sizeof(c), g->med_contain);
		printf("%-18s %8zu %9zu %12s %12s %10.1f %12.1f\n",
		    sc_name(sc_order[k]), g->n, g->detected, a, c, g->n ?
		    (double)g->taken / g->n : 0.0, g->n ?
		    (double)g->would / g->n : 0.0);
	}
	printf("false alerts: %.2f per 1,000 principal-days (%llu in %llu; "
	    "surge week %.2f; people alone %.2f); precision %.1f%%, recall "
	    "%.1f%%\n", per_1000(tt->false_alerts, tt->principal_days),
	    (unsigned long long)tt->false_alerts,
	    (unsigned long long)tt->principal_days,
	    per_1000(tt->quiet_false, tt->quiet_days),
	    per_1000(tt->staff_false, tt->staff_days),
	    pct(tt->true_alerts, tt->alerts), pct(tt->detected,
	    tt->insiders));
	printf("legitimate reveals under a case: %.1f%% (people %.1f%%); "
	    "exports: %llu made, %llu customers in them\n",
	    pct(tt->legit_case, tt->legit_reveals), pct(tt->staff_case,
	    tt->staff_reveals), (unsigned long long)tt->exports,
	    (unsigned long long)tt->export_rows);
	printf("wrote %s/eval.md and %s/eval.html\n", dir, dir);
}

int
cmd_eval(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "days", required_argument, NULL, 'd' },
		{ "seeds", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct pool pool;
	struct agg *ag = NULL;
	struct totals tt;
	pthread_t th[WORKERS];
	unsigned long long v;
	uint32_t days = 7, seeds = 5;
	const char *out = "reports";
	size_t k, i, nhours, started = 0;
	int c, status = EXIT_OK;

	if (argc > 1 && strcmp(argv[1], "trace") == 0)
		return cmd_eval_trace(argc - 1, argv + 1, cli);
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (cli_parse_u64(optarg, &v) != 0 || v < 3 ||
			    v > VG_SIM_DAYS_MAX)
				return cli_usage(cli, "--days takes 3 to %d",
				    VG_SIM_DAYS_MAX);
			days = (uint32_t)v;
			break;
		case 's':
			if (cli_parse_u64(optarg, &v) != 0 || v < 1 ||
			    v > SEEDS_MAX)
				return cli_usage(cli, "--seeds takes 1 to %d",
				    SEEDS_MAX);
			seeds = (uint32_t)v;
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
	memset(&pool, 0, sizeof(pool));
	pthread_mutex_init(&pool.mu, NULL);
	pool.days = days;
	pool.progress = cli_tty();
	pool.njobs = NSCEN * seeds;
	nhours = (size_t)days * 24 + 1;
	pool.jobs = calloc(pool.njobs, sizeof(*pool.jobs));
	ag = calloc(NSC, sizeof(*ag));
	if (pool.jobs == NULL || ag == NULL) {
		status = cli_fail(cli, EXIT_DATA, "out of memory");
		goto out;
	}
	for (k = 0; k < NSC; k++) {
		ag[k].taken_h = calloc(nhours, sizeof(uint64_t));
		ag[k].would_h = calloc(nhours, sizeof(uint64_t));
		if (ag[k].taken_h == NULL || ag[k].would_h == NULL) {
			status = cli_fail(cli, EXIT_DATA, "out of memory");
			goto out;
		}
	}
	/* Jobs by scenario, then seed: the report's order. */
	for (k = 0; k < NSCEN; k++)
		for (i = 0; i < seeds; i++) {
			struct job *j = &pool.jobs[k * seeds + i];

			j->sc = sc_order[k];
			j->seed = i + 1;
		}
	for (k = 0; k < WORKERS; k++)
		if (pthread_create(&th[k], NULL, worker, &pool) == 0)
			started++;
	if (started == 0)
		(void)worker(&pool);
	for (k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	if (pool.progress)
		fprintf(stderr, "\n");
	for (k = 0; k < pool.njobs; k++)
		if (pool.jobs[k].rc != 0) {
			status = cli_fail(cli, EXIT_DATA, "%s, seed %llu: %s",
			    sc_name(pool.jobs[k].sc),
			    (unsigned long long)pool.jobs[k].seed,
			    pool.jobs[k].err[0] != '\0' ? pool.jobs[k].err :
			    vg_strerror(pool.jobs[k].rc));
			goto out;
		}
	aggregate(pool.jobs, pool.njobs, nhours, ag, &tt);
	status = write_files(cli, out, pool.jobs, pool.njobs, ag, &tt, days,
	    seeds, nhours);
	if (status == EXIT_OK)
		print_table(ag, &tt, out);
out:
	for (k = 0; pool.jobs != NULL && k < pool.njobs; k++) {
		vg_sim_report_release(&pool.jobs[k].rep);
		free(pool.jobs[k].ids);
		free(pool.jobs[k].dismissed);
		free(pool.jobs[k].taken);
		free(pool.jobs[k].would);
		free(pool.jobs[k].al);
	}
	for (k = 0; ag != NULL && k < NSC; k++) {
		free(ag[k].taken_h);
		free(ag[k].would_h);
	}
	free(ag);
	free(pool.jobs);
	pthread_mutex_destroy(&pool.mu);
	return status;
}
