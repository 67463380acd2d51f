/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_evhttp: POST /v1/echo on libevent's evhttp, for the HTTP library
 * choice (bench/http/README.md).  One event_base and one evhttp per
 * thread, each with its own SO_REUSEPORT listening socket, so the kernel
 * spreads connections over the threads.  evthread_use_pthreads() is on
 * because vigild would need it to answer from the loop after an audit
 * fsync done elsewhere (event_active() from another thread), so its cost
 * is measured.
 *
 * usage: srv_evhttp PORT [NTHREADS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>

#include "echo.h"

struct worker {
	pthread_t		 tid;
	int			 fd;
	struct event_base	*base;
	struct evhttp		*http;
	struct evbuffer		*out;	/* reused: send_reply drains it */
};

static void
reply(struct evhttp_request *req, struct evbuffer *out, int status,
    const char *body, size_t len)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, status, NULL, out);
}

static void
on_echo(struct evhttp_request *req, void *arg)
{
	static const char na[] = "{\"error\":\"method_not_allowed\"}";
	struct worker *w = arg;
	struct evbuffer *in;
	char out[ECHO_MAXREPLY];
	const char *body;
	size_t len, outlen;
	int status;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply(req, w->out, 405, na, sizeof(na) - 1);
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	body = (const char *)evbuffer_pullup(in, -1);
	status = echo_handle(body != NULL ? body : "", len, out, sizeof(out),
	    &outlen);
	reply(req, w->out, status, out, outlen);
}

static void
on_other(struct evhttp_request *req, void *arg)
{
	static const char nf[] = "{\"error\":\"not_found\"}";
	struct worker *w = arg;

	reply(req, w->out, 404, nf, sizeof(nf) - 1);
}

static void *
run(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

static int
worker_init(struct worker *w, unsigned short port)
{
	if ((w->fd = echo_listen(port, 1)) == -1)
		return -1;
	if ((w->base = event_base_new()) == NULL ||
	    (w->http = evhttp_new(w->base)) == NULL ||
	    (w->out = evbuffer_new()) == NULL) {
		fprintf(stderr, "srv_evhttp: out of memory\n");
		return -1;
	}
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_max_body_size(w->http, ECHO_MAXBODY);
	evhttp_set_timeout(w->http, 60);
	evhttp_set_cb(w->http, ECHO_PATH, on_echo, w);
	evhttp_set_gencb(w->http, on_other, w);
	/* The socket is listening already (echo_listen). */
	if (evhttp_accept_socket(w->http, w->fd) == -1) {
		fprintf(stderr, "srv_evhttp: evhttp_accept_socket failed\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct echo_args a;
	struct worker *w;
	int i;

	echo_init(argc, argv, &a);
	if (evthread_use_pthreads() == -1) {
		fprintf(stderr, "srv_evhttp: evthread_use_pthreads failed\n");
		return 1;
	}
	if ((w = calloc((size_t)a.nthreads, sizeof(*w))) == NULL) {
		perror("calloc");
		return 1;
	}
	for (i = 0; i < a.nthreads; i++)
		if (worker_init(&w[i], a.port) == -1)
			return 1;
	for (i = 0; i < a.nthreads; i++)
		if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0) {
			fprintf(stderr, "srv_evhttp: pthread_create failed\n");
			return 1;
		}
	fprintf(stderr, "srv_evhttp: 127.0.0.1:%u, %d threads\n", a.port,
	    a.nthreads);
	for (i = 0; i < a.nthreads; i++)
		pthread_join(w[i].tid, NULL);
	return 0;
}
