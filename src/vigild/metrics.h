/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Counters for /metrics (Prometheus text format 0.0.4).  Each worker owns
 * its counters and bumps them with relaxed atomics (no contention, no
 * torn reads); a scrape sums the workers.  Labels are route names,
 * status codes and reason codes: never an id, never a value.
 */
#ifndef VIGILD_METRICS_H
#define VIGILD_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "route.h"

#define M_STATUSES 16		/* the codes vigild sends, and "other" */
#define M_REASONS 26
#define M_BUCKETS 15		/* latency buckets, +Inf included */

struct hist {
	atomic_uint_fast64_t bucket[M_BUCKETS];
	atomic_uint_fast64_t sum_us;
	atomic_uint_fast64_t count;
};

struct wmetrics {
	atomic_uint_fast64_t requests[R__COUNT][M_STATUSES];
	atomic_uint_fast64_t decisions[3][M_REASONS];	/* by verdict */
	struct hist latency[R__COUNT];
	struct hist audit;		/* submit to durable */
	atomic_uint_fast64_t break_glass;
	atomic_uint_fast64_t connections_refused;
};

struct gmetrics {
	atomic_uint_fast64_t policy_reloads;
	atomic_uint_fast64_t policy_reload_failures;
};

void metrics_request(struct wmetrics *m, enum route_id r, int status,
    int64_t us);
/* verdict: 0 allow, 1 deny, 2 step_up; reason a VG_R_* or "miss". */
void metrics_decision(struct wmetrics *m, int verdict, const char *reason);
void metrics_observe(struct hist *h, int64_t us);

struct server;
/* Writes the exposition into a malloc'd buffer (*len); NULL on ENOMEM. */
char *metrics_render(struct server *s, size_t *len);

#endif
