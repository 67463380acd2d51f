/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared parts of the HTTP benchmark servers: arguments, the listening
 * socket and the jansson work of POST /v1/echo.  The interface and its
 * contract are in echo.h.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "echo.h"

/* Per-thread request counter: the reply's request_id, no shared state. */
static _Thread_local uint64_t seq;

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s PORT [NTHREADS]\n", prog);
	exit(2);
}

static long
number(const char *s, long lo, long hi, const char *prog)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		usage(prog);
	return v;
}

void
echo_init(int argc, char **argv, struct echo_args *a)
{
	struct rlimit rl;

	if (argc < 2 || argc > 3)
		usage(argv[0]);
	a->port = (unsigned short)number(argv[1], 1, 65535, argv[0]);
	a->nthreads = argc > 2 ? (int)number(argv[2], 1, 256, argv[0]) : 2;

	/* Room for the 1,000-connection check and more. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
}

int
echo_listen(unsigned short port, int reuseport)
{
	struct sockaddr_in sin;
	int fd, one = 1, fl;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		perror("socket");
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) == -1)) {
		perror("setsockopt");
		goto bad;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("bind");
		goto bad;
	}
	if (listen(fd, 4096) == -1) {
		perror("listen");
		goto bad;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		perror("fcntl");
		goto bad;
	}
	return fd;
bad:
	close(fd);
	return -1;
}

static size_t
dump(json_t *j, char *out, size_t outsz)
{
	size_t n;

	n = json_dumpb(j, out, outsz, JSON_COMPACT);
	json_decref(j);
	return n <= outsz ? n : 0;
}

int
echo_handle(const char *body, size_t len, char *out, size_t outsz,
    size_t *outlen)
{
	json_error_t err;
	json_t *req, *phone, *purpose, *rep;
	uint64_t id;
	int status = 400;

	rep = NULL;
	req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (req != NULL && json_is_object(req) &&
	    json_is_string(phone = json_object_get(req, "phone")) &&
	    json_is_string(purpose = json_object_get(req, "purpose"))) {
		id = ++seq;
		rep = json_pack("{s:s, s:O, s:O, s:s, s:I, s:{s:I, s:s}, "
		    "s:i, s:s}",
		    "decision", "allow",
		    "phone", phone,
		    "purpose", purpose,
		    "policy", "support-default-v1",
		    "request_id", (json_int_t)id,
		    "audit", "seq", (json_int_t)id, "sync", "group-commit",
		    "expires_in", 300,
		    "note", "benchmark reply");
		status = 200;
	}
	if (rep == NULL) {
		rep = json_pack("{s:s, s:s}", "error", "bad_request",
		    "detail", req == NULL ? err.text : "want phone, purpose");
		status = 400;
	}
	json_decref(req);
	*outlen = rep != NULL ? dump(rep, out, outsz) : 0;
	if (*outlen == 0) {
		/* Only on allocation failure: still send valid JSON. */
		*outlen = (size_t)snprintf(out, outsz, "{\"error\":\"internal\"}");
		status = 500;
	}
	return status;
}
