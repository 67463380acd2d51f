/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoint witness sinks: syslog (RFC 5424, UDP) and HTTP POST (libcurl),
 * each on its own thread holding the newest undelivered note (addresses,
 * timestamps and the POST set-up are shared with the alert sinks in
 * sinkio.c).  See include/vigil/witness.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "vigil/note.h"
#include "vigil/witness.h"
#include "sinkio.h"

#define SINKS_MAX 8

enum kind { K_SYSLOG, K_HTTP };

struct sink {
	struct vg_witness *w;
	enum kind kind;
	pthread_t thr;
	int started;
	/* Syslog. */
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char hostname[64];
	/* HTTP. */
	char *url;
	/* The newest note not yet delivered. */
	char note[VG_NOTE_MAX];
	size_t len;
	int pending;
	int failing;
};

struct vg_witness {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sink *sink[SINKS_MAX];
	size_t n;
	int stop;
	int error;		/* a failure since the last vg_witness_sink */
	struct vg_witness_stats st;
};

struct vg_witness *
vg_witness_new(void)
{
	struct vg_witness *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	return w;
}

/* "<37>1 2026-11-27T20:33:53.123Z host vigil - checkpoint - note":
 * PRI 37 = facility auth (4) * 8 + severity notice (5). */
static int
send_syslog(struct sink *s, const char *note, size_t len)
{
	char msg[VG_NOTE_MAX + 256], ts[64];
	int n;

	if (vg__sink_rfc3339(ts, sizeof(ts), vg__sink_now_ns(), 3) < 0)
		return -1;
	n = snprintf(msg, sizeof(msg), "<37>1 %s %s vigil - checkpoint - ",
	    ts, s->hostname);
	if (n < 0 || (size_t)n + len > sizeof(msg))
		return -1;
	memcpy(msg + n, note, len);
	return sendto(s->fd, msg, (size_t)n + len, 0,
	    (struct sockaddr *)&s->addr, s->addrlen) < 0 ? -1 : 0;
}

static int
send_http(struct sink *s, const char *note, size_t len)
{
	struct curl_slist *hdr;
	CURL *c;
	int rc;

	c = curl_easy_init();
	if (c == NULL)
		return -1;
	hdr = curl_slist_append(NULL, "Content-Type: text/plain; "
	    "charset=utf-8");
	vg__sink_http_setup(c, s->url, note, len, hdr, 5000L);
	rc = vg__sink_http_ok(c, curl_easy_perform(c)) ? 0 : -1;
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return rc;
}

static void *
sink_main(void *arg)
{
	struct sink *s = arg;
	struct vg_witness *w = s->w;
	char *note = malloc(VG_NOTE_MAX);
	unsigned backoff_ms = 100;
	size_t len;
	int rc;

	if (note == NULL)
		return NULL;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!s->pending && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!s->pending)
			break;		/* stopping with nothing to send */
		len = s->len;
		memcpy(note, s->note, len);
		s->pending = 0;
		pthread_mutex_unlock(&w->mu);
		rc = s->kind == K_SYSLOG ? send_syslog(s, note, len) :
		    send_http(s, note, len);
		pthread_mutex_lock(&w->mu);
		if (rc == 0) {
			w->st.sent++;
			backoff_ms = 100;
			s->failing = 0;
			continue;
		}
		w->st.failed++;
		w->error = 1;
		s->failing = 1;
		if (w->stop)
			break;
		if (!s->pending) {
			/* Retry the same note unless a newer one came. */
			memcpy(s->note, note, len);
			s->len = len;
			s->pending = 1;
		}
		{
			struct timespec dl;

			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_sec += backoff_ms / 1000;
			dl.tv_nsec += (long)(backoff_ms % 1000) * 1000000;
			if (dl.tv_nsec >= 1000000000) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000;
			}
			(void)pthread_cond_timedwait(&w->cv, &w->mu, &dl);
		}
		if (backoff_ms < 30000)
			backoff_ms *= 2;
	}
	pthread_mutex_unlock(&w->mu);
	free(note);
	return NULL;
}

static int
add_sink(struct vg_witness *w, struct sink *s)
{
	if (w->n == SINKS_MAX)
		return VG_ETOOBIG;
	s->w = w;
	if (pthread_create(&s->thr, NULL, sink_main, s) != 0)
		return VG_ENOMEM;
	s->started = 1;
	pthread_mutex_lock(&w->mu);
	w->sink[w->n++] = s;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int
vg_witness_add_syslog(struct vg_witness *w, const char *hostport,
    const char *hostname)
{
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct sink *s;
	int rc;

	if (vg__sink_udp_addr(hostport, &addr, &addrlen) != 0)
		return VG_EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return VG_ENOMEM;
	s->kind = K_SYSLOG;
	s->fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	s->addr = addr;
	s->addrlen = addrlen;
	snprintf(s->hostname, sizeof(s->hostname), "%s",
	    hostname != NULL && *hostname != '\0' ? hostname : "-");
	if (s->fd < 0) {
		free(s);
		return VG_EIO;
	}
	rc = add_sink(w, s);
	if (rc != 0) {
		close(s->fd);
		free(s);
	}
	return rc;
}

int
vg_witness_add_http(struct vg_witness *w, const char *url)
{
	struct sink *s;
	int rc;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return VG_EINVAL;
	vg__sink_curl_init();
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return VG_ENOMEM;
	s->kind = K_HTTP;
	s->fd = -1;
	s->url = strdup(url);
	if (s->url == NULL) {
		free(s);
		return VG_ENOMEM;
	}
	rc = add_sink(w, s);
	if (rc != 0) {
		free(s->url);
		free(s);
	}
	return rc;
}

int
vg_witness_sink(void *ctx, const char *note, size_t len)
{
	struct vg_witness *w = ctx;
	size_t i;
	int rc;

	if (len > VG_NOTE_MAX)
		return VG_ETOOBIG;
	pthread_mutex_lock(&w->mu);
	for (i = 0; i < w->n; i++) {
		struct sink *s = w->sink[i];

		if (s->pending)
			w->st.dropped++;
		memcpy(s->note, note, len);
		s->len = len;
		s->pending = 1;
	}
	rc = w->error ? VG_EIO : 0;
	w->error = 0;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void
vg_witness_stats(struct vg_witness *w, struct vg_witness_stats *st)
{
	pthread_mutex_lock(&w->mu);
	*st = w->st;
	pthread_mutex_unlock(&w->mu);
}

int
vg_witness_flush(struct vg_witness *w, unsigned timeout_ms)
{
	unsigned waited = 0;
	size_t i;
	int busy;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		busy = 0;
		for (i = 0; i < w->n; i++)
			busy |= w->sink[i]->pending;
		pthread_mutex_unlock(&w->mu);
		if (!busy)
			return 0;
		if (waited >= timeout_ms)
			return VG_EIO;
		usleep(10000);
		waited += 10;
	}
}

void
vg_witness_free(struct vg_witness *w, unsigned timeout_ms)
{
	size_t i;

	if (w == NULL)
		return;
	(void)vg_witness_flush(w, timeout_ms);
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	for (i = 0; i < w->n; i++)
		w->sink[i]->pending = 0;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->n; i++) {
		struct sink *s = w->sink[i];

		if (s->started)
			pthread_join(s->thr, NULL);
		if (s->fd >= 0)
			close(s->fd);
		free(s->url);
		free(s);
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
