/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigild's shared state.  One process serves one vault directory:
 *
 *   - worker threads, each with its own h2o event loop, SO_REUSEPORT
 *     listening socket, vault handle (its own SQLite connection) and
 *     cross-thread queue for audit completions;
 *   - one audit chain (group commit on its writer thread) shared by all;
 *   - one quota state (sharded locks) and one policy (swapped whole on
 *     reload, reference counted);
 *   - a signal thread for SIGTERM/SIGINT (graceful stop) and SIGHUP
 *     (policy reload).
 *
 * The request path is in api.c, the HTTP plumbing in http.c, counters in
 * metrics.c, configuration in config.c.
 */
#ifndef VIGILD_H
#define VIGILD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <h2o.h>

#include "vigil/alert.h"
#include "vigil/audit.h"
#include "vigil/contain.h"
#include "vigil/policy.h"
#include "vigil/quota.h"
#include "vigil/schema.h"
#include "metrics.h"
#include "route.h"

#define WORKERS_MAX 64

struct config {
	char dir[4096];
	char listen_host[64];
	unsigned listen_port;
	int threads;
	char policy[4096];
	char node[VG_CHAIN_NAME_MAX + 1];	/* audit chain name */
	char tls_cert[4096];
	char tls_key[4096];
	char log_file[4096];			/* "" or "-": stderr */
	bool log_requests;
	size_t body_max;			/* bytes */
	size_t trace_max;			/* bytes of a leaked file
						 * (POST /v1/leaks/trace);
						 * 0: body_max */
	size_t header_max;			/* bytes, all headers */
	long conn_max;
	uint64_t request_timeout_ms;		/* slow or idle clients */
	uint64_t shutdown_timeout_ms;
	uint32_t audit_batch_us;
	uint32_t checkpoint_ms;
	char witness_dirs[4096];		/* ':'-separated */
	bool metrics_public;			/* /metrics without a key */
	char alerts_file[4096];			/* "" none */
	char alerts_syslog[4096];		/* "unix:/dev/log", ... */
	char alerts_webhook[4096];
	char alerts_token_file[4096];
	int contain[3];				/* enum vg_contain for
						 * medium, high, critical */
	bool sim_clock;				/* simulations only: time
						 * from X-Vigil-Sim-Time */
};

/* The largest leaked file POST /v1/leaks/trace takes. */
static inline size_t
config_trace_max(const struct config *c)
{
	return c->trace_max != 0 ? c->trace_max : c->body_max;
}

/* A loaded policy and the requests using it. */
struct polref {
	struct vg_policy *p;
	atomic_long refs;
	uint64_t generation;
};

struct pending;

struct worker {
	pthread_t tid;
	int idx;
	int fd;					/* listening socket */
	struct server *srv;
	h2o_context_t ctx;
	h2o_accept_ctx_t actx;
	h2o_socket_t *listener;
	h2o_multithread_queue_t *queue;
	h2o_multithread_receiver_t done_rx;	/* audit completions */
	h2o_multithread_receiver_t trace_rx;	/* finished leak traces */
	struct vg_vault *vault;			/* this thread's handle */
	struct vg_record *rec;			/* reused, wiped */
	struct vg_authcache *auth;		/* API key checks */
	long inflight;				/* awaiting the audit */
	struct pending *queued;			/* this turn's answers, to */
	struct pending **queued_tail;		/* be audited together */
	size_t queued_entries;
	bool listening;
	atomic_int finished;			/* its loop has ended */
	struct wmetrics m;
	/* Buffered JSON log lines, flushed every loop turn. */
	char ts_prefix[32];			/* "2026-11-27T22:00:00" */
	int64_t ts_sec;
	char logbuf[65536];
	size_t loglen;
};

struct server {
	struct config cfg;
	struct vg_schema schema;
	struct vg_audit *audit;
	struct vg_quota *quota;
	struct vg_witness *witness;
	char vault_id[33];
	char chain_dir[4200];
	pthread_mutex_t pol_lock;
	struct polref *pol;
	uint64_t pol_generation;
	char pol_error[VG_POLICY_ERR_MAX];	/* last reload's, or "" */
	struct worker w[WORKERS_MAX];
	int nworkers;
	h2o_globalconf_t h2o;
	void *ssl_ctx;				/* SSL_CTX, or NULL */
	atomic_int stopping;
	atomic_int tracing;			/* a leak trace is running */
	atomic_long conns;
	atomic_long audit_errors;
	atomic_uint_fast64_t auth_generation;	/* bumped by suspend and
						 * reinstate: drops cached
						 * authentications */
	int64_t started;
	int log_fd;
	struct gmetrics gm;
	struct vg_contain_map *contain;		/* read by every reveal */
	_Atomic int64_t sim_ns;			/* the simulated clock (sim
						 * mode), unix ns; 0 unset */
	struct detector *det;
};

/* config.c */
void config_defaults(struct config *c);
int config_listen(struct config *c, const char *s);
/* Reads a YAML config file over c.  Returns 0 or -1 with err
 * "file:line:col: what". */
int config_load(struct config *c, const char *path, char *err, size_t cap);

/* policy references (main.c) */
struct polref *policy_get(struct server *s);
void policy_put(struct polref *r);
/* Loads cfg.policy and swaps it in.  Returns 0 or -1 with err. */
int policy_reload(struct server *s, char *err, size_t cap);

/* http.c */
/* 0 when nobody listens on c's address (port 0: always). */
int http_address_free(const struct config *c, char *err, size_t cap);
/* Loads the TLS certificate and key, if configured (before http_start). */
int http_tls_setup(struct server *s, char *err, size_t cap);
int http_start(struct server *s, char *err, size_t cap);
void http_stop(struct server *s);
void http_wait(struct server *s);

/* api.c */
/* The detector (detector.c): detector_start rebuilds containment from
 * the log, replays the log through a new detector (before any request
 * is served), then follows the node's chain on its own thread.
 * detector_stop drains what is durable and stops it. */
int detector_start(struct server *s, char *err, size_t cap);
void detector_stop(struct server *s);
void detector_metrics(struct server *s, uint64_t *alerts_by_sev,
    uint64_t *entries, uint64_t *lag, uint64_t *contained);

int api_handle(struct worker *w, h2o_req_t *req);
void api_on_done(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages);
/* Finished leak traces (POST /v1/leaks/trace), on the worker that took
 * the request. */
void api_on_trace(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages);
/* Hands this loop turn's audit entries to the log (one submission). */
void api_flush(struct worker *w);
int api_worker_init(struct worker *w, char *err, size_t cap);
void api_worker_fini(struct worker *w);

/* log.c: one JSON object per line, never personal data. */
void log_event(struct server *s, const char *level, const char *msg,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_request(struct worker *w, const char *route, int status,
    const char *principal, const char *request_id, const char *code,
    int64_t us);
void log_flush(struct worker *w);

int64_t now_ns(void);		/* CLOCK_REALTIME */
/* The server's time, unix ns: the real clock, or in sim mode the latest
 * X-Vigil-Sim-Time a request brought (it only moves forward). */
int64_t server_ns(struct server *s);
int64_t mono_ns(void);		/* CLOCK_MONOTONIC */

#endif
