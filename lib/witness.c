/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoint witness sinks: syslog (RFC 5424, UDP) and HTTP POST (libcurl),
 * each on its own thread holding the newest undelivered note.  See
 * include/vigil/witness.h.
 */
#include <errno.h>
#include <netdb.h>
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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

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
	char msg[VG_NOTE_MAX + 256], ts[96];
	struct timespec now;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
	n = snprintf(msg, sizeof(msg), "<37>1 %s %s vigil - checkpoint - ",
	    ts, s->hostname);
	if (n < 0 || (size_t)n + len > sizeof(msg))
		return -1;
	memcpy(msg + n, note, len);
	return sendto(s->fd, msg, (size_t)n + len, 0,
	    (struct sockaddr *)&s->addr, s->addrlen) < 0 ? -1 : 0;
}

static size_t
discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

static int
send_http(struct sink *s, const char *note, size_t len)
{
	struct curl_slist *hdr;
	long status = 0;
	CURL *c;
	int rc = -1;

	c = curl_easy_init();
	if (c == NULL)
		return -1;
	hdr = curl_slist_append(NULL, "Content-Type: text/plain; "
	    "charset=utf-8");
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, note);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(c) == CURLE_OK &&
	    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) ==
	    CURLE_OK && status >= 200 && status < 300)
		rc = 0;
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
	struct addrinfo hints, *res = NULL;
	char host[256];
	const char *colon = strrchr(hostport, ':');
	struct sink *s;
	size_t hl;
	int rc;

	if (colon == NULL || colon == hostport || colon[1] == '\0' ||
	    (hl = (size_t)(colon - hostport)) >= sizeof(host))
		return VG_EINVAL;
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || res == NULL)
		return VG_EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		freeaddrinfo(res);
		return VG_ENOMEM;
	}
	s->kind = K_SYSLOG;
	s->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
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
	pthread_once(&curl_once, curl_init_once);
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
