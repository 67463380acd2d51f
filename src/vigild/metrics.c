/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /metrics: request counts by route and status, decisions by verdict and
 * reason, latency histograms by route, audit commit latency, open
 * connections and a few gauges (metrics.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigild.h"

static const int statuses[M_STATUSES - 1] = {
	200, 201, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 431,
	500, 503,
};

static const char *const reasons[M_REASONS] = {
	VG_R_OK, VG_R_BREAK_GLASS, VG_R_APPROVED, VG_R_ROLE, VG_R_SUSPENDED,
	VG_R_NO_CASE, VG_R_CASE_NOT_FOUND, VG_R_CASE_NOT_ASSIGNED,
	VG_R_CASE_CLOSED, VG_R_CASE_EXPIRED, VG_R_CASE_OTHER, VG_R_PURPOSE,
	VG_R_FIELD, VG_R_QUOTA, VG_R_OFF_SHIFT, VG_R_STEP_UP,
	VG_R_JUSTIFICATION, VG_R_SELF_OPENED, "miss", "not_found",
	"invalid_value", "self_approval", "approval_used", "conflict",
	"other", NULL,
};

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const int64_t bounds[M_BUCKETS - 1] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 1000000, 5000000,
};

static const char *const verdicts[3] = { "allow", "deny", "step_up" };

#define RELAXED memory_order_relaxed

void
metrics_observe(struct hist *h, int64_t us)
{
	size_t i;

	if (us < 0)
		us = 0;
	for (i = 0; i < M_BUCKETS - 1 && us > bounds[i]; i++)
		;
	atomic_fetch_add_explicit(&h->bucket[i], 1, RELAXED);
	atomic_fetch_add_explicit(&h->sum_us, (uint64_t)us, RELAXED);
	atomic_fetch_add_explicit(&h->count, 1, RELAXED);
}

void
metrics_request(struct wmetrics *m, enum route_id r, int status, int64_t us)
{
	size_t i;

	for (i = 0; i < M_STATUSES - 1 && statuses[i] != status; i++)
		;
	atomic_fetch_add_explicit(&m->requests[r][i], 1, RELAXED);
	metrics_observe(&m->latency[r], us);
}

void
metrics_decision(struct wmetrics *m, int verdict, const char *reason)
{
	size_t i;

	if (verdict < 0 || verdict > 2)
		return;
	for (i = 0; reasons[i] != NULL && strcmp(reasons[i], reason) != 0;
	    i++)
		;
	if (reasons[i] == NULL)
		i--;		/* "other" */
	atomic_fetch_add_explicit(&m->decisions[verdict][i], 1, RELAXED);
}

struct out {
	char *buf;
	size_t len, cap;
	int oom;
};

static void emit(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = 1;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		char *nb = realloc(o->buf, o->cap * 2 + (size_t)n);

		if (nb == NULL) {
			o->oom = 1;
			return;
		}
		o->buf = nb;
		o->cap = o->cap * 2 + (size_t)n;
	}
}

static uint64_t
ld(const atomic_uint_fast64_t *a)
{
	return atomic_load_explicit(a, RELAXED);
}

/* Sums histogram h of every worker (offset into struct wmetrics). */
static void
sum_hist(struct server *s, size_t off, uint64_t *b, uint64_t *sum,
    uint64_t *count)
{
	int w;
	size_t i;

	memset(b, 0, sizeof(uint64_t) * M_BUCKETS);
	*sum = *count = 0;
	for (w = 0; w < s->nworkers; w++) {
		const struct hist *h = (const struct hist *)
		    ((const char *)&s->w[w].m + off);

		for (i = 0; i < M_BUCKETS; i++)
			b[i] += ld(&h->bucket[i]);
		*sum += ld(&h->sum_us);
		*count += ld(&h->count);
	}
}

static void
emit_hist(struct out *o, const char *name, const char *labels,
    const uint64_t *b, uint64_t sum, uint64_t count)
{
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i < M_BUCKETS; i++) {
		cum += b[i];
		if (i < M_BUCKETS - 1)
			emit(o, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
			    labels[0] != '\0' ? "," : "",
			    (double)bounds[i] / 1e6, (unsigned long long)cum);
		else
			emit(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
			    labels, labels[0] != '\0' ? "," : "",
			    (unsigned long long)cum);
	}
	emit(o, "%s_sum%s%s%s %.6f\n", name, labels[0] != '\0' ? "{" : "",
	    labels, labels[0] != '\0' ? "}" : "", (double)sum / 1e6);
	emit(o, "%s_count%s%s%s %llu\n", name, labels[0] != '\0' ? "{" : "",
	    labels, labels[0] != '\0' ? "}" : "", (unsigned long long)count);
}

/* The audit log's own fdatasync times: the floor under every audited
 * answer's latency that only the disk sets. */
static void
emit_syncs(struct out *o, const struct vg_audit_syncs *y)
{
	uint64_t cum = 0;
	size_t i;

	emit(o, "# HELP vigil_audit_fsync_seconds Time the audit log's "
	    "fdatasync calls took (entry batches and checkpoints).\n"
	    "# TYPE vigil_audit_fsync_seconds histogram\n");
	for (i = 0; i < VG_AUDIT_SYNC_BUCKETS; i++) {
		cum += y->le[i];
		if (i < VG_AUDIT_SYNC_BUCKETS - 1)
			emit(o, "vigil_audit_fsync_seconds_bucket{le=\"%g\"} "
			    "%llu\n", (double)vg_audit_sync_le_us[i] / 1e6,
			    (unsigned long long)cum);
		else
			emit(o, "vigil_audit_fsync_seconds_bucket{le=\"+Inf\"}"
			    " %llu\n", (unsigned long long)cum);
	}
	emit(o, "vigil_audit_fsync_seconds_sum %.6f\n"
	    "vigil_audit_fsync_seconds_count %llu\n"
	    "# HELP vigil_audit_fsync_slow_seconds_total Time spent in audit "
	    "fdatasync calls that took over 2 ms.\n"
	    "# TYPE vigil_audit_fsync_slow_seconds_total counter\n"
	    "vigil_audit_fsync_slow_seconds_total %.6f\n"
	    "# HELP vigil_audit_fsync_max_seconds The longest audit fdatasync "
	    "since start.\n# TYPE vigil_audit_fsync_max_seconds gauge\n"
	    "vigil_audit_fsync_max_seconds %.6f\n", (double)y->ns / 1e9,
	    (unsigned long long)y->count, (double)y->slow_ns / 1e9,
	    (double)y->max_ns / 1e9);
}

/* The request counters of one route ("none": no route matched). */
static void
emit_requests(struct out *o, struct server *s, enum route_id id,
    const char *name)
{
	uint64_t v;
	size_t i;
	int w;

	for (i = 0; i < M_STATUSES; i++) {
		v = 0;
		for (w = 0; w < s->nworkers; w++)
			v += ld(&s->w[w].m.requests[id][i]);
		if (v == 0)
			continue;
		if (i < M_STATUSES - 1)
			emit(o, "vigil_http_requests_total{route=\"%s\","
			    "status=\"%d\"} %llu\n", name, statuses[i],
			    (unsigned long long)v);
		else
			emit(o, "vigil_http_requests_total{route=\"%s\","
			    "status=\"other\"} %llu\n", name,
			    (unsigned long long)v);
	}
}

char *
metrics_render(struct server *s, size_t *len)
{
	struct out o = { 0 };
	struct vg_audit_status as;
	uint64_t b[M_BUCKETS], sum, count, qp, qb, v;
	const struct route_def *rt;
	size_t nr, r, i;
	char labels[96];
	int w, k;

	o.cap = 65536;
	if ((o.buf = malloc(o.cap)) == NULL)
		return NULL;
	rt = route_table(&nr);
	emit(&o, "# HELP vigil_http_requests_total HTTP requests by route "
	    "and status.\n# TYPE vigil_http_requests_total counter\n");
	for (r = 0; r <= nr; r++)
		emit_requests(&o, s, r < nr ? rt[r].id : R_NONE,
		    r < nr ? rt[r].name : "none");

	emit(&o, "# HELP vigil_decisions_total Access decisions by verdict "
	    "and reason.\n# TYPE vigil_decisions_total counter\n");
	for (k = 0; k < 3; k++)
		for (i = 0; reasons[i] != NULL; i++) {
			v = 0;
			for (w = 0; w < s->nworkers; w++)
				v += ld(&s->w[w].m.decisions[k][i]);
			if (v > 0)
				emit(&o, "vigil_decisions_total{verdict=\"%s\","
				    "reason=\"%s\"} %llu\n", verdicts[k],
				    reasons[i], (unsigned long long)v);
		}

	emit(&o, "# HELP vigil_http_request_duration_seconds Request "
	    "latency by route, from routing to the last byte handed to the "
	    "socket.\n# TYPE vigil_http_request_duration_seconds "
	    "histogram\n");
	for (r = 0; r < nr; r++) {
		sum_hist(s, offsetof(struct wmetrics, latency) +
		    sizeof(struct hist) * rt[r].id, b, &sum, &count);
		if (count == 0)
			continue;
		snprintf(labels, sizeof(labels), "route=\"%s\"", rt[r].name);
		emit_hist(&o, "vigil_http_request_duration_seconds", labels, b,
		    sum, count);
	}
	emit(&o, "# HELP vigil_audit_commit_seconds Time from handing an "
	    "entry to the audit log to its durable commit.\n"
	    "# TYPE vigil_audit_commit_seconds histogram\n");
	sum_hist(s, offsetof(struct wmetrics, audit), b, &sum, &count);
	emit_hist(&o, "vigil_audit_commit_seconds", "", b, sum, count);

	v = 0;
	for (w = 0; w < s->nworkers; w++)
		v += ld(&s->w[w].m.break_glass);
	emit(&o, "# HELP vigil_break_glass_total Reveals allowed without a "
	    "case.\n# TYPE vigil_break_glass_total counter\n"
	    "vigil_break_glass_total %llu\n", (unsigned long long)v);
	v = 0;
	for (w = 0; w < s->nworkers; w++)
		v += ld(&s->w[w].m.connections_refused);
	emit(&o, "# HELP vigil_connections_refused_total Connections closed "
	    "at once because the connection limit was reached.\n"
	    "# TYPE vigil_connections_refused_total counter\n"
	    "vigil_connections_refused_total %llu\n", (unsigned long long)v);
	emit(&o, "# HELP vigil_open_connections Open client connections.\n"
	    "# TYPE vigil_open_connections gauge\nvigil_open_connections "
	    "%ld\n", atomic_load(&s->conns));
	vg_audit_status(s->audit, &as);
	emit(&o, "# HELP vigil_audit_entries Entries in this node's audit "
	    "chain.\n# TYPE vigil_audit_entries gauge\n"
	    "vigil_audit_entries %llu\n", (unsigned long long)as.size);
	emit(&o, "# HELP vigil_audit_errors_total Audit appends that failed "
	    "(each refused its request).\n# TYPE vigil_audit_errors_total "
	    "counter\nvigil_audit_errors_total %ld\n",
	    atomic_load(&s->audit_errors));
	emit(&o, "# HELP vigil_audit_witness_failures_total Checkpoint "
	    "deliveries to witnesses that failed.\n"
	    "# TYPE vigil_audit_witness_failures_total counter\n"
	    "vigil_audit_witness_failures_total %llu\n",
	    (unsigned long long)as.witness_failures);
	emit_syncs(&o, &as.syncs);
	{
		uint64_t sev[5], entries, lag, contained;
		int sv;

		detector_metrics(s, sev, &entries, &lag, &contained);
		emit(&o, "# HELP vigil_alerts_total Alerts the detector raised "
		    "since start (replayed ones not counted again).\n"
		    "# TYPE vigil_alerts_total counter\n");
		for (sv = VG_SEV_LOW; sv <= VG_SEV_CRITICAL; sv++)
			emit(&o, "vigil_alerts_total{severity=\"%s\"} %llu\n",
			    vg_severity_name((enum vg_severity)sv),
			    (unsigned long long)sev[sv]);
		emit(&o, "# HELP vigil_detector_entries_total Audit entries the "
		    "detector has folded.\n# TYPE vigil_detector_entries_total "
		    "counter\nvigil_detector_entries_total %llu\n"
		    "# HELP vigil_detector_lag_entries Durable audit entries not "
		    "yet folded.\n# TYPE vigil_detector_lag_entries gauge\n"
		    "vigil_detector_lag_entries %llu\n"
		    "# HELP vigil_contained_principals Principals whose reveals "
		    "are contained (step-up or suspended).\n"
		    "# TYPE vigil_contained_principals gauge\n"
		    "vigil_contained_principals %llu\n",
		    (unsigned long long)entries, (unsigned long long)lag,
		    (unsigned long long)contained);
	}
	vg_quota_stats(s->quota, &qp, &qb);
	emit(&o, "# HELP vigil_quota_principals Principals with quota "
	    "state.\n# TYPE vigil_quota_principals gauge\n"
	    "vigil_quota_principals %llu\n# HELP vigil_quota_bytes Memory "
	    "held by quota state.\n# TYPE vigil_quota_bytes gauge\n"
	    "vigil_quota_bytes %llu\n", (unsigned long long)qp,
	    (unsigned long long)qb);
	emit(&o, "# HELP vigil_policy_reloads_total Policy reloads.\n"
	    "# TYPE vigil_policy_reloads_total counter\n"
	    "vigil_policy_reloads_total{result=\"ok\"} %llu\n"
	    "vigil_policy_reloads_total{result=\"refused\"} %llu\n",
	    (unsigned long long)ld(&s->gm.policy_reloads),
	    (unsigned long long)ld(&s->gm.policy_reload_failures));
	if (o.oom) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}
