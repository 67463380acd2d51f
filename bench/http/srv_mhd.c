/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_mhd: POST /v1/echo on libmicrohttpd, for the HTTP library choice
 * (bench/http/README.md).  One internal epoll thread per pool worker, all
 * sharing the listening socket; the request body arrives over several
 * calls of the access handler and is answered on the last one.
 * Suspend/resume is enabled (MHD_ALLOW_SUSPEND_RESUME) because vigild
 * would need it to answer after the audit fsync, so its cost is measured.
 *
 * usage: srv_mhd PORT [NTHREADS]
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "echo.h"

/* One request's body, collected across access handler calls. */
struct rq {
	char	*buf;		/* small, or malloc'd when it outgrows it */
	size_t	 len, cap;
	int	 toobig;
	char	 small[512];
};

static int
rq_add(struct rq *r, const char *data, size_t n)
{
	size_t cap;
	char *p;

	if (r->toobig || n > ECHO_MAXBODY - r->len) {
		r->toobig = 1;
		return 0;
	}
	if (r->len + n > r->cap) {
		for (cap = r->cap * 2; cap < r->len + n; cap *= 2)
			;
		if (r->buf == r->small) {
			if ((p = malloc(cap)) != NULL)
				memcpy(p, r->buf, r->len);
		} else
			p = realloc(r->buf, cap);
		if (p == NULL)
			return -1;
		r->buf = p;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	return 0;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned int status, const char *body,
    size_t len)
{
	struct MHD_Response *res;
	enum MHD_Result ret;

	res = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (res == NULL)
		return MHD_NO;
	MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	ret = MHD_queue_response(c, status, res);
	MHD_destroy_response(res);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **ctx)
{
	struct rq *r = *ctx;
	char out[ECHO_MAXREPLY];
	size_t outlen;
	int status;

	(void)cls;
	(void)version;
	if (r == NULL) {
		/* First call: headers only. */
		if ((r = malloc(sizeof(*r))) == NULL)
			return MHD_NO;
		r->buf = r->small;
		r->len = 0;
		r->cap = sizeof(r->small);
		r->toobig = 0;
		*ctx = r;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		if (rq_add(r, upload, *upload_size) == -1)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}

	/* Last call: the whole body is in r. */
	if (strcmp(url, ECHO_PATH) != 0) {
		static const char nf[] = "{\"error\":\"not_found\"}";
		return reply(c, MHD_HTTP_NOT_FOUND, nf, sizeof(nf) - 1);
	}
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
		static const char na[] = "{\"error\":\"method_not_allowed\"}";
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, na,
		    sizeof(na) - 1);
	}
	if (r->toobig) {
		static const char tb[] = "{\"error\":\"too_large\"}";
		return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, tb,
		    sizeof(tb) - 1);
	}
	status = echo_handle(r->buf, r->len, out, sizeof(out), &outlen);
	return reply(c, (unsigned int)status, out, outlen);
}

static void
on_done(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_RequestTerminationCode why)
{
	struct rq *r = *ctx;

	(void)cls;
	(void)c;
	(void)why;
	if (r == NULL)
		return;
	if (r->buf != r->small)
		free(r->buf);
	free(r);
	*ctx = NULL;
}

int
main(int argc, char **argv)
{
	struct echo_args a;
	struct MHD_Daemon *d;
	sigset_t set;
	int fd, sig;

	echo_init(argc, argv, &a);
	if ((fd = echo_listen(a.port, 0)) == -1)
		return 1;

	/* The daemon's threads inherit this mask; main waits for a signal. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)a.nthreads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16384,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "srv_mhd: MHD_start_daemon failed\n");
		return 1;
	}
	fprintf(stderr, "srv_mhd: 127.0.0.1:%u, %d threads\n", a.port,
	    a.nthreads);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
