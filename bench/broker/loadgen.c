/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loadgen: an open-loop HTTP/1.1 load generator for latency at a fixed
 * request rate (bench/broker/run.sh).  wrk measures throughput with a
 * closed loop (a connection sends its next request when the last one is
 * answered), so it cannot say what the latency is at 20,000 requests/s;
 * Debian packages no wrk2, and hey (Go) costs more CPU per request than
 * the server under test on this 2-core machine.
 *
 * Request i is due at start + i / rate.  It goes out on an idle
 * keep-alive connection as soon as one is free, and its latency is
 * measured from when it was due, not from when it was sent, so a server
 * that falls behind is charged for the queue it caused (no coordinated
 * omission).  Requests come from a file of lines METHOD<TAB>PATH<TAB>
 * KEY<TAB>BODY (the format of bench/broker/reqs.lua), used in turn.
 *
 * usage: loadgen HOST PORT REQFILE RATE SECONDS CONNS
 * prints: loadgen rate=R sent=N done=N non2xx=N achieved=R p50_ms=..
 *         p90_ms=.. p99_ms=.. p999_ms=.. max_ms=..
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESP_MAX 65536

struct conn {
	int fd;
	int busy;
	int64_t due;			/* the request's due time, ns */
	char buf[RESP_MAX];
	size_t len;
};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Reads the request file into preformatted HTTP requests. */
static char **
load(const char *path, const char *host, size_t *n)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, **out = NULL;
	size_t cap = 0, len = 0, lcap = 0;
	ssize_t r;

	if (fp == NULL)
		die(path);
	while ((r = getline(&line, &lcap, fp)) > 0) {
		char *m = line, *p, *k, *b, *req;
		size_t blen, rlen;

		if (line[r - 1] == '\n')
			line[--r] = '\0';
		if ((p = strchr(m, '\t')) == NULL)
			continue;
		*p++ = '\0';
		if ((k = strchr(p, '\t')) == NULL)
			continue;
		*k++ = '\0';
		if ((b = strchr(k, '\t')) == NULL)
			continue;
		*b++ = '\0';
		blen = strlen(b);
		rlen = strlen(m) + strlen(p) + strlen(k) + blen + strlen(host) +
		    200;
		if ((req = malloc(rlen)) == NULL)
			die("malloc");
		snprintf(req, rlen, "%s %s HTTP/1.1\r\nHost: %s\r\n"
		    "Authorization: Bearer %s\r\n"
		    "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s", m, p, host, k, blen, b);
		if (len == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((out = realloc(out, cap * sizeof(*out))) == NULL)
				die("realloc");
		}
		out[len++] = req;
	}
	free(line);
	fclose(fp);
	*n = len;
	return out;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Bytes of a complete response at the start of buf, or 0. */
static size_t
complete(const char *buf, size_t len, int *status)
{
	const char *end, *cl;
	size_t head, body;

	if (len < 16)
		return 0;
	end = memmem(buf, len, "\r\n\r\n", 4);
	if (end == NULL)
		return 0;
	head = (size_t)(end - buf) + 4;
	cl = memmem(buf, head, "ontent-Length:", 14);
	if (cl == NULL)
		cl = memmem(buf, head, "ontent-length:", 14);
	body = cl != NULL ? strtoul(cl + 14, NULL, 10) : 0;
	if (len < head + body)
		return 0;
	*status = (int)strtol(buf + 9, NULL, 10);
	return head + body;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct epoll_event ev, evs[256];
	struct conn *c;
	char **reqs;
	int64_t *lat, start, end, next_due;
	size_t nreq, sent = 0, done = 0, non2xx = 0, maxlat;
	double rate;
	int ep, nconn, secs, k;

	if (argc != 7) {
		fprintf(stderr, "usage: loadgen HOST PORT REQFILE RATE SECONDS "
		    "CONNS\n");
		return 2;
	}
	rate = strtod(argv[4], NULL);
	secs = (int)strtol(argv[5], NULL, 10);
	nconn = (int)strtol(argv[6], NULL, 10);
	if (rate <= 0 || secs <= 0 || nconn <= 0)
		return 2;
	reqs = load(argv[3], argv[1], &nreq);
	if (nreq == 0) {
		fprintf(stderr, "loadgen: no requests in %s\n", argv[3]);
		return 1;
	}
	maxlat = (size_t)(rate * secs) + 16;
	lat = malloc(maxlat * sizeof(*lat));
	c = calloc((size_t)nconn, sizeof(*c));
	if (lat == NULL || c == NULL || (ep = epoll_create1(0)) < 0)
		die("setup");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)strtol(argv[2], NULL, 10));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		die("address");
	for (k = 0; k < nconn; k++) {
		int on = 1;

		c[k].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (c[k].fd < 0 || connect(c[k].fd, (struct sockaddr *)&sa,
		    sizeof(sa)) != 0)
			die("connect");
		setsockopt(c[k].fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		fcntl(c[k].fd, F_SETFL, O_NONBLOCK);
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)k;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c[k].fd, &ev) != 0)
			die("epoll_ctl");
	}
	start = now_ns();
	end = start + (int64_t)secs * 1000000000;
	for (;;) {
		int64_t now = now_ns(), wait_ns;
		int n, timeout_ms;

		/* Send every request that is due, while a connection is
		 * idle; the rest wait, and their wait is counted. */
		next_due = start + (int64_t)((double)sent * 1e9 / rate);
		while (next_due <= now && next_due < end) {
			for (k = 0; k < nconn && c[k].busy; k++)
				;
			if (k == nconn)
				break;
			{
				const char *r = reqs[sent % nreq];
				size_t len = strlen(r);
				ssize_t w = write(c[k].fd, r, len);

				if (w != (ssize_t)len)
					die("write (a short write: raise "
					    "the socket buffer)");
			}
			c[k].busy = 1;
			c[k].due = next_due;
			c[k].len = 0;
			sent++;
			next_due = start + (int64_t)((double)sent * 1e9 / rate);
		}
		if (now >= end) {
			for (k = 0; k < nconn && !c[k].busy; k++)
				;
			if (k == nconn || now >= end + 5000000000LL)
				break;
		}
		wait_ns = next_due - now_ns();
		timeout_ms = next_due < end ? (int)(wait_ns / 1000000) : 100;
		if (timeout_ms < 0)
			timeout_ms = 0;
		n = epoll_wait(ep, evs, 256, timeout_ms);
		for (int j = 0; j < n; j++) {
			struct conn *x = &c[evs[j].data.u32];
			ssize_t r = read(x->fd, x->buf + x->len,
			    sizeof(x->buf) - x->len);
			size_t used;
			int status = 0;

			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				die("read (the server closed a connection)");
			}
			x->len += (size_t)r;
			used = complete(x->buf, x->len, &status);
			if (used == 0)
				continue;
			if (done < maxlat)
				lat[done] = now_ns() - x->due;
			done++;
			if (status < 200 || status > 299)
				non2xx++;
			x->busy = 0;
			x->len = 0;
		}
	}
	if (done == 0) {
		fprintf(stderr, "loadgen: nothing answered\n");
		return 1;
	}
	if (done > maxlat)
		done = maxlat;
	qsort(lat, done, sizeof(*lat), cmp64);
#define PCT(p) ((double)lat[(size_t)((double)(done - 1) * (p))] / 1e6)
	printf("loadgen rate=%.0f conns=%d sent=%zu done=%zu non2xx=%zu "
	    "achieved=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
	    "p999_ms=%.3f max_ms=%.3f\n", rate, nconn, sent, done, non2xx,
	    (double)done / secs, PCT(0.50), PCT(0.90), PCT(0.99), PCT(0.999),
	    (double)lat[done - 1] / 1e6);
	return non2xx > 0 ? 1 : 0;
}
