/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP plumbing on libh2o-evloop (chosen by measurement, see
 * docs/DEPENDENCIES.md): per worker thread an event loop, an h2o
 * context and an SO_REUSEPORT listening socket, so the kernel spreads
 * connections over the threads and no lock sits between accept and
 * answer.
 *
 * Limits: the connection count is checked at accept (over the limit a
 * connection is closed at once and counted); h2o's request timeout cuts
 * clients that are slow to send a request or idle on keep-alive; bodies
 * above the configured size are refused with a JSON 413 by api.c, and
 * far larger ones by h2o itself before they are read in full.
 *
 * Graceful stop: each worker stops accepting, asks h2o to close idle
 * connections, keeps running until its requests awaiting the audit log
 * are answered (or the shutdown timeout passes), then leaves its loop;
 * main.c then closes the audit log, which flushes and signs a final
 * checkpoint.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "vigild.h"

static struct worker *
worker_of(h2o_context_t *ctx)
{
	return H2O_STRUCT_FROM_MEMBER(struct worker, ctx, ctx);
}

static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
	(void)self;
	return api_handle(worker_of(req->conn->ctx), req);
}

static void
on_sock_close(void *data)
{
	struct worker *w = data;

	atomic_fetch_sub(&w->srv->conns, 1);
}

static void
on_accept(h2o_socket_t *listener, const char *err)
{
	struct worker *w = listener->data;
	h2o_socket_t *sock;
	int n;

	if (err != NULL)
		return;
	for (n = 0; n < 16; n++) {
		if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
			break;
		if (atomic_load(&w->srv->stopping) ||
		    atomic_fetch_add(&w->srv->conns, 1) >=
		    w->srv->cfg.conn_max) {
			if (!atomic_load(&w->srv->stopping))
				atomic_fetch_sub(&w->srv->conns, 1);
			atomic_fetch_add_explicit(&w->m.connections_refused, 1,
			    memory_order_relaxed);
			h2o_socket_close(sock);
			continue;
		}
		sock->on_close.cb = on_sock_close;
		sock->on_close.data = w;
		h2o_accept(&w->actx, sock);
	}
}

static void
stop_listening(struct worker *w)
{
	if (!w->listening)
		return;
	h2o_socket_read_stop(w->listener);
	h2o_socket_close(w->listener);
	w->listener = NULL;
	w->listening = false;
	h2o_context_request_shutdown(&w->ctx);
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct server *s = w->srv;
	int64_t deadline = 0;
	int i;

	h2o_context_init(&w->ctx, h2o_evloop_create(), &s->h2o);
	w->queue = h2o_multithread_create_queue(w->ctx.loop);
	h2o_multithread_register_receiver(w->queue, &w->done_rx,
	    api_on_done);
	h2o_multithread_register_receiver(w->queue, &w->trace_rx,
	    api_on_trace);
	w->actx.ctx = &w->ctx;
	w->actx.hosts = s->h2o.hosts;
	w->actx.ssl_ctx = s->ssl_ctx;
	w->listener = h2o_evloop_socket_create(w->ctx.loop, w->fd,
	    H2O_SOCKET_FLAG_DONT_READ);
	w->listener->data = w;
	h2o_socket_read_start(w->listener, on_accept);
	w->listening = true;
	w->queued_tail = &w->queued;
	for (;;) {
		h2o_evloop_run(w->ctx.loop, 100);
		api_flush(w);
		log_flush(w);
		if (!atomic_load(&s->stopping))
			continue;
		if (w->listening) {
			stop_listening(w);
			deadline = mono_ns() +
			    (int64_t)s->cfg.shutdown_timeout_ms * 1000000;
		}
		/* Answer everything the audit log still owes an answer;
		 * h2o closes connections as their responses complete. */
		if (w->inflight == 0 || mono_ns() > deadline)
			break;
	}
	/* Let the last responses reach their sockets. */
	for (i = 0; i < 5; i++) {
		h2o_evloop_run(w->ctx.loop, 10);
		api_flush(w);
	}
	log_flush(w);
	/*
	 * The thread stays, parked, until the process exits: h2o keeps
	 * per-thread memory caches that a thread exit would leak (and
	 * LeakSanitizer would report).  Signals are blocked here, so
	 * pause() does not return.
	 */
	atomic_store(&w->finished, 1);
	for (;;)
		pause();
	return NULL;
}

static int
listen_socket(const struct config *c, char *err, size_t cap)
{
	struct addrinfo hints, *ai = NULL;
	char port[12];
	int fd, on = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
	snprintf(port, sizeof(port), "%u", c->listen_port);
	rc = getaddrinfo(c->listen_host[0] != '\0' ? c->listen_host : NULL,
	    port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, cap, "listen address %s: %s", c->listen_host,
		    gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 4096) != 0) {
		snprintf(err, cap, "cannot listen on %s:%u: %s",
		    c->listen_host, c->listen_port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int
http_tls_setup(struct server *s, char *err, size_t cap)
{
	SSL_CTX *ctx;
	unsigned long e;

	if (s->cfg.tls_cert[0] == '\0' && s->cfg.tls_key[0] == '\0')
		return 0;
	if (s->cfg.tls_cert[0] == '\0' || s->cfg.tls_key[0] == '\0') {
		snprintf(err, cap, "TLS needs both a certificate and a key");
		return -1;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, s->cfg.tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, s->cfg.tls_key,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		e = ERR_get_error();
		snprintf(err, cap, "TLS certificate %s / key %s: %s",
		    s->cfg.tls_cert, s->cfg.tls_key,
		    e != 0 ? ERR_reason_error_string(e) : "cannot load");
		if (ctx != NULL)
			SSL_CTX_free(ctx);
		return -1;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	s->ssl_ctx = ctx;
	return 0;
}

/*
 * Every worker listens on its own SO_REUSEPORT socket, which would also
 * let a second vigild (same user) bind the same address and take part
 * of the traffic under its own quotas.  A plain bind first tells whether
 * anyone holds the address.
 */
int
http_address_free(const struct config *c, char *err, size_t cap)
{
	struct addrinfo hints, *ai = NULL;
	char port[12];
	int fd, on = 1, ok;

	if (c->listen_port == 0)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
	snprintf(port, sizeof(port), "%u", c->listen_port);
	if (getaddrinfo(c->listen_host[0] != '\0' ? c->listen_host : NULL,
	    port, &hints, &ai) != 0)
		return 0;	/* listen_socket() reports it */
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = fd >= 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == 0 &&
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
	if (!ok)
		snprintf(err, cap, "cannot listen on %s:%u: %s (another vigild?)",
		    c->listen_host, c->listen_port, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ok ? 0 : -1;
}

int
http_start(struct server *s, char *err, size_t cap)
{
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	h2o_handler_t *h;
	int i;

	h2o_config_init(&s->h2o);
	s->h2o.server_name = h2o_iovec_init(H2O_STRLIT("vigild"));
	/* h2o buffers a body whole before any handler runs, so before
	 * authentication: its own limit stays just above ours (bodies up
	 * to 4 KiB over get api.c's JSON 413, larger ones h2o's plain 413),
	 * which bounds what unauthenticated clients can make vigild hold
	 * to connections x (the larger of body_max and trace_max + 4 KiB):
	 * a leaked file for POST /v1/leaks/trace is the only larger body. */
	s->h2o.max_request_entity_size = (config_trace_max(&s->cfg) >
	    s->cfg.body_max ? config_trace_max(&s->cfg) : s->cfg.body_max) +
	    4096;
	s->h2o.http1.req_timeout = s->cfg.request_timeout_ms;
	s->h2o.http1.upgrade_to_http2 = 0;
	host = h2o_config_register_host(&s->h2o,
	    h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	h = h2o_create_handler(path, sizeof(*h));
	h->on_req = on_req;
	for (i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->w[i];

		w->idx = i;
		w->srv = s;
		if ((w->fd = listen_socket(&s->cfg, err, cap)) < 0)
			return -1;
		if (api_worker_init(w, err, cap) != 0)
			return -1;
	}
	/* With port 0 the kernel picked one; the others must share it. */
	if (s->cfg.listen_port == 0 && s->nworkers > 0) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		if (getsockname(s->w[0].fd, (struct sockaddr *)&ss, &len) == 0)
			s->cfg.listen_port = ntohs(ss.ss_family == AF_INET6 ?
			    ((struct sockaddr_in6 *)&ss)->sin6_port :
			    ((struct sockaddr_in *)&ss)->sin_port);
		for (i = 1; i < s->nworkers; i++) {
			close(s->w[i].fd);
			if ((s->w[i].fd = listen_socket(&s->cfg, err, cap)) < 0)
				return -1;
		}
	}
	for (i = 0; i < s->nworkers; i++)
		if (pthread_create(&s->w[i].tid, NULL, run, &s->w[i]) != 0) {
			snprintf(err, cap, "cannot start worker threads");
			return -1;
		}
	return 0;
}

/* Workers look at `stopping` at least every 100 ms. */
void
http_stop(struct server *s)
{
	atomic_store(&s->stopping, 1);
}

void
http_wait(struct server *s)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < s->nworkers; i++) {
		while (!atomic_load(&s->w[i].finished))
			nanosleep(&ts, NULL);
		api_worker_fini(&s->w[i]);
	}
}
