/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_h2o: POST /v1/echo on libh2o-evloop, for the HTTP library choice
 * (bench/http/README.md).  One shared, read-only h2o_globalconf_t; per
 * thread an h2o_evloop, an h2o_context and an SO_REUSEPORT listening
 * socket, so the kernel spreads connections over the threads.  h2o
 * buffers the whole request body (req->entity) before calling the
 * handler.  Every h2o_context has a cross-thread message queue, which is
 * how vigild would answer after an audit fsync (README.md).
 *
 * usage: srv_h2o PORT [NTHREADS]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <h2o.h>

#include "echo.h"

struct worker {
	pthread_t		 tid;
	int			 fd;
	h2o_context_t		 ctx;
	h2o_accept_ctx_t	 accept_ctx;
	h2o_socket_t		*listener;
};

static h2o_globalconf_t config;

static int
reply(h2o_req_t *req, int status, const char *reason, const char *body,
    size_t len)
{
	req->res.status = status;
	req->res.reason = reason;
	req->res.content_length = len;	/* else h2o 2.2 sends it chunked */
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
	    NULL, H2O_STRLIT("application/json"));
	h2o_send_inline(req, body, len);	/* copies body into req->pool */
	return 0;
}

static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
	static const char nf[] = "{\"error\":\"not_found\"}";
	static const char na[] = "{\"error\":\"method_not_allowed\"}";
	char out[ECHO_MAXREPLY];
	size_t outlen;
	int status;

	(void)self;
	if (!h2o_memis(req->path_normalized.base, req->path_normalized.len,
	    H2O_STRLIT(ECHO_PATH)))
		return reply(req, 404, "Not Found", nf, sizeof(nf) - 1);
	if (!h2o_memis(req->method.base, req->method.len,
	    H2O_STRLIT("POST")))
		return reply(req, 405, "Method Not Allowed", na,
		    sizeof(na) - 1);
	status = echo_handle(req->entity.base != NULL ? req->entity.base : "",
	    req->entity.len, out, sizeof(out), &outlen);
	return reply(req, status, status == 200 ? "OK" : "Bad Request", out,
	    outlen);
}

static void
on_accept(h2o_socket_t *listener, const char *err)
{
	h2o_accept_ctx_t *actx = listener->data;
	h2o_socket_t *sock;
	int n;

	if (err != NULL)
		return;
	/* Up to 16 per wakeup, as h2o's own server does. */
	for (n = 0; n < 16; n++) {
		if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
			break;
		h2o_accept(actx, sock);
	}
}

/*
 * The thread's loop and context are made on the thread itself, as h2o's
 * own server does (its memory recycling is per thread).
 */
static void *
run(void *arg)
{
	struct worker *w = arg;

	h2o_context_init(&w->ctx, h2o_evloop_create(), &config);
	w->accept_ctx.ctx = &w->ctx;
	w->accept_ctx.hosts = config.hosts;
	w->listener = h2o_evloop_socket_create(w->ctx.loop, w->fd,
	    H2O_SOCKET_FLAG_DONT_READ);
	w->listener->data = &w->accept_ctx;
	h2o_socket_read_start(w->listener, on_accept);
	while (h2o_evloop_run(w->ctx.loop, INT32_MAX) == 0)
		;
	return NULL;
}

int
main(int argc, char **argv)
{
	struct echo_args a;
	struct worker *w;
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	h2o_handler_t *h;
	int i;

	echo_init(argc, argv, &a);
	h2o_config_init(&config);
	config.max_request_entity_size = ECHO_MAXBODY;
	host = h2o_config_register_host(&config,
	    h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	h = h2o_create_handler(path, sizeof(*h));
	h->on_req = on_req;

	if ((w = calloc((size_t)a.nthreads, sizeof(*w))) == NULL) {
		perror("calloc");
		return 1;
	}
	for (i = 0; i < a.nthreads; i++)
		if ((w[i].fd = echo_listen(a.port, 1)) == -1)
			return 1;
	for (i = 0; i < a.nthreads; i++)
		if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0) {
			fprintf(stderr, "srv_h2o: pthread_create failed\n");
			return 1;
		}
	fprintf(stderr, "srv_h2o: 127.0.0.1:%u, %d threads\n", a.port,
	    a.nthreads);
	for (i = 0; i < a.nthreads; i++)
		pthread_join(w[i].tid, NULL);
	return 0;
}
