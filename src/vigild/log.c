/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON-lines logs.  Only fixed words, codes, route names, principal ids
 * and request ids are ever written: no value from a request body, no
 * customer id, no key.  Request lines are buffered per worker and
 * written once per event-loop turn, so logging costs one write() per
 * batch of requests rather than one per request.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vigild.h"

int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* RFC 3339 UTC with milliseconds. */
static void
stamp(char *out, size_t cap)
{
	int64_t ns = now_ns();
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);

	snprintf(out + n, cap - n, ".%03dZ", (int)(ns / 1000000 % 1000));
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return;		/* a log that cannot be written is
					 * not a reason to stop serving */
		p += w;
		n -= (size_t)w;
	}
}

void
log_event(struct server *s, const char *level, const char *msg,
    const char *fmt, ...)
{
	char line[2048], ts[64], extra[1600] = "";
	va_list ap;
	int n;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(extra, sizeof(extra), fmt, ap);
		va_end(ap);
	}
	stamp(ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\","
	    "\"msg\":\"%s\"%s%s}\n", ts, level, msg, extra[0] != '\0' ? "," :
	    "", extra);
	if (n > 0)
		write_all(s->log_fd, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
}

void
log_request(struct worker *w, const char *route, int status,
    const char *principal, const char *request_id, const char *code,
    int64_t us)
{
	char ts[64], line[512];
	int64_t ns;
	int n;

	if (!w->srv->cfg.log_requests)
		return;
	/* The date and time to the second change once a second: format
	 * them then, not per request. */
	ns = now_ns();
	if (ns / 1000000000 != w->ts_sec) {
		time_t t = (time_t)(ns / 1000000000);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(w->ts_prefix, sizeof(w->ts_prefix),
		    "%Y-%m-%dT%H:%M:%S", &tm);
		w->ts_sec = ns / 1000000000;
	}
	snprintf(ts, sizeof(ts), "%s.%03dZ", w->ts_prefix,
	    (int)(ns / 1000000 % 1000));
	n = snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"info\","
	    "\"msg\":\"request\",\"route\":\"%s\",\"status\":%d,"
	    "\"principal\":\"%s\",\"request_id\":\"%s\",\"code\":\"%s\","
	    "\"us\":%lld,\"worker\":%d}\n", ts, route, status,
	    principal != NULL ? principal : "", request_id,
	    code != NULL ? code : "", (long long)us, w->idx);
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	if (w->loglen + (size_t)n > sizeof(w->logbuf))
		log_flush(w);
	memcpy(w->logbuf + w->loglen, line, (size_t)n);
	w->loglen += (size_t)n;
}

void
log_flush(struct worker *w)
{
	if (w->loglen == 0)
		return;
	write_all(w->srv->log_fd, w->logbuf, w->loglen);
	w->loglen = 0;
}
