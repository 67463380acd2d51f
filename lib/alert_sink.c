/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert sinks: a JSON-lines file, syslog (RFC 5424) and an HTTP webhook,
 * fed by one delivery thread; see include/vigil/alert.h.  The helpers
 * shared with the checkpoint witnesses are in sinkio.c.
 *
 * The queue.  vg_alert_sinks_send writes the alert's JSON once and
 * queues it on `in`.  The thread takes alerts from `in` one at a time,
 * writes each to the file and to syslog at once (neither waits on
 * anything remote), then moves it to `hook`, where it waits its turn for
 * the webhook.  The webhook runs on libcurl's multi interface on the same
 * thread, so neither a POST in flight nor the back-off between attempts
 * keeps the thread from `in`: a slow or dead web server delays later
 * webhook deliveries, never the file or syslog.  The webhook gets alerts
 * one at a time, oldest first (the head of `hook`), so a SIEM sees them
 * in the order they were raised.
 *
 * Bounds.  `in` and `hook` together hold at most queue_max alerts.  When
 * a new one would pass that, the oldest is dropped and counted: the head
 * of `hook` (which the file and syslog already have), or of `in` if
 * `hook` is empty.  The POST in flight is never dropped, since libcurl
 * is reading its body.
 *
 * Locking.  mu guards both lists, the flags and the counters.  The
 * thread never holds it while writing, sending or inside libcurl.  The
 * fields under "set at open" are the thread's alone after it starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "vigil/alert.h"
#include "vigil/crypto.h"
#include "fileio.h"
#include "sinkio.h"

#define BACKOFF_CAP_MS 60000
#define FAC_AUTHPRIV 10		/* RFC 5424 table 1; see syslog_send() */
#define APP_NAME_MAX 48		/* RFC 5424 6.2.5 */
#define IDLE_POLL_MS 60000	/* no timer due: the wake pipe ends it */

struct item {
	struct item *next;
	enum vg_severity sev;
	uint32_t attempts;	/* webhook attempts made */
	int64_t due_ms;		/* next webhook attempt (monotonic) */
	bool busy;		/* its webhook POST is in flight */
	size_t len;		/* bytes of JSON, without the "\n" */
	char line[];		/* the JSON, "\n", NUL */
};

struct fifo {
	struct item *head, *tail;
	size_t n;
};

struct vg_alert_sinks {
	pthread_mutex_t mu;
	pthread_cond_t idle;		/* the thread ran out of work */
	struct fifo in;			/* not yet at the file and syslog */
	struct fifo hook;		/* waiting for the webhook, oldest
					 * first; only the head is ever busy */
	bool held;			/* the thread is delivering one it
					 * took from in */
	bool stop;
	bool started;
	size_t queue_max;
	struct vg_alert_sink_stats st;
	int wake[2];			/* self-pipe: a byte wakes the thread */
	pthread_t thr;

	/* Set at open. */
	char *path;			/* file sink, or NULL */
	int fd;
	dev_t dev;
	ino_t ino;
	int sfd;			/* syslog socket, or -1 */
	struct sockaddr_storage saddr;
	socklen_t saddrlen;
	char host[256];
	char app[APP_NAME_MAX + 1];
	char *url;			/* webhook (secret memory: a URL may
					 * carry its own credential), or NULL */
	char *auth;			/* "Authorization: Bearer ..." (secret
					 * memory), or NULL */
	struct curl_slist *hdr;
	CURLM *multi;
	CURL *easy;			/* the POST in flight, or NULL */
	long timeout_ms;
	uint32_t retries, base_ms;
};

/*-----------------------------------------------------------------------------
 * Lists and time
 */

static void
fifo_push(struct fifo *f, struct item *it)
{
	it->next = NULL;
	if (f->tail != NULL)
		f->tail->next = it;
	else
		f->head = it;
	f->tail = it;
	f->n++;
}

/* Unlinks the item after prev (prev NULL: the head); NULL if none. */
static struct item *
fifo_take(struct fifo *f, struct item *prev)
{
	struct item *it = prev != NULL ? prev->next : f->head;

	if (it == NULL)
		return NULL;
	if (prev != NULL)
		prev->next = it->next;
	else
		f->head = it->next;
	if (f->tail == it)
		f->tail = prev;
	f->n--;
	return it;
}

static void
fifo_free(struct fifo *f)
{
	struct item *it;

	while ((it = fifo_take(f, NULL)) != NULL)
		free(it);
}

static int64_t
mono_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void
wake(struct vg_alert_sinks *s)
{
	ssize_t n = write(s->wake[1], "", 1);

	/* -1 with EAGAIN: the pipe is full, so a wake-up is waiting. */
	(void)n;
}

/*-----------------------------------------------------------------------------
 * File and syslog
 */

static int
file_open(struct vg_alert_sinks *s)
{
	struct stat st;
	int fd;

	fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, 0600);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

/* One write(2) per line: O_APPEND puts it whole at the end, and it is in
 * the page cache (readable by tail -f and shippers) when write returns.
 * No fsync: the audit log is the durable record, this is a copy. */
static int
file_write(struct vg_alert_sinks *s, const struct item *it)
{
	struct stat st;

	/* The path names another file (or none): logrotate moved ours
	 * away.  Lines go to the path, so open it again. */
	if (s->fd >= 0 && (stat(s->path, &st) != 0 || st.st_dev != s->dev ||
	    st.st_ino != s->ino)) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->fd < 0 && file_open(s) != 0)
		return -1;
	return vg__write_all(s->fd, it->line, it->len + 1);
}

/*
 * RFC 5424 section 6, HEADER SP STRUCTURED-DATA SP MSG:
 *	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - {json}
 *  - PRI is facility * 8 + severity.  Facility authpriv (10), not auth
 *    (4): the RFC's table calls both "security/authorization messages",
 *    but syslog daemons route authpriv to a file only root reads
 *    (/var/log/secure; the stock "*.info;...;authpriv.none" rule keeps
 *    it out of the general log), and an alert names the principal under
 *    suspicion, who may well read the general log.  Severity: critical
 *    2 (crit), high 3 (err), medium 4 (warning), low 5 (notice).
 *  - TIMESTAMP is when the message leaves, to the microsecond
 *    (TIME-SECFRAC is 1 to 6 digits); the alert's own time, to the
 *    nanosecond, is the JSON's @timestamp.
 *  - PROCID is our pid; MSGID is "alert".
 *  - STRUCTURED-DATA is "-": an SD-ID of our own would need an IANA
 *    private enterprise number ("name@PEN", 6.3.2) that vigil does not
 *    have, and the JSON carries everything.
 *  - MSG is the JSON as MSG-ANY, without the BOM of MSG-UTF8: it is
 *    ASCII (vg_alert_json escapes the rest), and a collector's JSON
 *    parser would trip on a BOM.
 */
static int
syslog_send(struct vg_alert_sinks *s, const struct item *it)
{
	static const int sev[] = {
		[VG_SEV_LOW] = 5,
		[VG_SEV_MEDIUM] = 4,
		[VG_SEV_HIGH] = 3,
		[VG_SEV_CRITICAL] = 2,
	};
	char msg[VG_ALERT_JSON_MAX + 512], ts[40];
	int n;

	if (vg__sink_rfc3339(ts, sizeof(ts), vg__sink_now_ns(), 6) < 0)
		return -1;
	n = snprintf(msg, sizeof(msg), "<%d>1 %s %s %s %ld alert - ",
	    FAC_AUTHPRIV * 8 + sev[it->sev], ts, s->host, s->app,
	    (long)getpid());
	if (n < 0 || (size_t)n + it->len > sizeof(msg))
		return -1;
	memcpy(msg + n, it->line, it->len);
	/* MSG_DONTWAIT: a syslog daemon that stopped reading /dev/log must
	 * not stall the thread (and with it the file and the webhook); the
	 * alert is counted in errors_syslog and is still in the file. */
	return sendto(s->sfd, msg, (size_t)n + it->len, MSG_DONTWAIT,
	    (struct sockaddr *)&s->saddr, s->saddrlen) < 0 ? -1 : 0;
}

/* The file and syslog for it (taken from in), then on to hook. */
static void
deliver_local(struct vg_alert_sinks *s, struct item *it)
{
	int frc = 0, src = 0;

	if (s->path != NULL)
		frc = file_write(s, it);
	if (s->sfd >= 0)
		src = syslog_send(s, it);
	pthread_mutex_lock(&s->mu);
	if (s->path != NULL) {
		if (frc == 0)
			s->st.delivered_file++;
		else
			s->st.errors_file++;
	}
	if (s->sfd >= 0) {
		if (src == 0)
			s->st.delivered_syslog++;
		else
			s->st.errors_syslog++;
	}
	s->held = false;
	if (s->multi != NULL) {
		it->due_ms = 0;
		fifo_push(&s->hook, it);
		it = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	free(it);
}

/*-----------------------------------------------------------------------------
 * Webhook
 */

/* The wait before retry number k (1, 2, ...): base, doubling, capped. */
static int64_t
backoff_ms(uint32_t base, uint32_t k)
{
	int64_t d = base;

	while (--k > 0 && d < BACKOFF_CAP_MS)
		d *= 2;
	return d < BACKOFF_CAP_MS ? d : BACKOFF_CAP_MS;
}

/* The POST of the head of hook ended: delivered, to be retried, or given
 * up on after the last retry. */
static void
hook_done(struct vg_alert_sinks *s, bool ok)
{
	struct item *it;

	pthread_mutex_lock(&s->mu);
	it = s->hook.head;		/* busy, so never dropped */
	it->busy = false;
	it->attempts++;
	if (ok || it->attempts > s->retries) {
		if (ok)
			s->st.delivered_webhook++;
		else
			s->st.webhook_failures++;
		free(fifo_take(&s->hook, NULL));
	} else {
		it->due_ms = mono_ms() + backoff_ms(s->base_ms, it->attempts);
	}
	pthread_mutex_unlock(&s->mu);
}

/* Starts the POST of the head of hook when it is due and none is in
 * flight.  Returns the ms until the head is due, or -1 when there is no
 * timer of ours to wait for. */
static long
hook_start(struct vg_alert_sinks *s)
{
	struct item *it;
	int64_t now = mono_ms();
	CURL *c;

	pthread_mutex_lock(&s->mu);
	it = s->hook.head;
	if (s->easy != NULL || it == NULL) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (it->due_ms > now) {
		pthread_mutex_unlock(&s->mu);
		return (long)(it->due_ms - now);
	}
	it->busy = true;
	if (it->attempts > 0)
		s->st.webhook_retries++;
	pthread_mutex_unlock(&s->mu);

	/* it->line is read by libcurl until the transfer ends; busy keeps
	 * vg_alert_sinks_send from dropping it meanwhile. */
	c = curl_easy_init();
	if (c != NULL) {
		vg__sink_http_setup(c, s->url, it->line, it->len, s->hdr,
		    s->timeout_ms);
		if (curl_multi_add_handle(s->multi, c) == CURLM_OK) {
			s->easy = c;
			return -1;
		}
		curl_easy_cleanup(c);
	}
	hook_done(s, false);
	return 0;
}

/* Lets libcurl move the POST on, and collects it when it has ended. */
static void
hook_run(struct vg_alert_sinks *s)
{
	CURLMsg *m;
	int running, left;

	if (s->easy == NULL)
		return;
	(void)curl_multi_perform(s->multi, &running);
	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		CURL *c = m->easy_handle;
		bool ok;

		if (m->msg != CURLMSG_DONE)
			continue;
		ok = vg__sink_http_ok(c, m->data.result);
		curl_multi_remove_handle(s->multi, c);
		curl_easy_cleanup(c);
		s->easy = NULL;
		hook_done(s, ok);
	}
}

/*-----------------------------------------------------------------------------
 * The thread
 */

/* Sleeps until a wake-up byte, a socket of the POST, or wait_ms (-1:
 * none of ours). */
static void
sleep_until(struct vg_alert_sinks *s, long wait_ms)
{
	char drain[64];

	if (s->multi != NULL) {
		struct curl_waitfd wfd = { s->wake[0], CURL_WAIT_POLLIN, 0 };

		if (wait_ms < 0 || wait_ms > IDLE_POLL_MS)
			wait_ms = IDLE_POLL_MS;
		(void)curl_multi_poll(s->multi, &wfd, 1, (int)wait_ms, NULL);
	} else {
		struct pollfd pfd = { s->wake[0], POLLIN, 0 };

		(void)poll(&pfd, 1, wait_ms < 0 ? -1 : (int)wait_ms);
	}
	while (read(s->wake[0], drain, sizeof(drain)) > 0)
		;
}

static void *
deliver_main(void *arg)
{
	struct vg_alert_sinks *s = arg;
	struct item *it;
	long wait_ms;
	bool more;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		if (s->stop) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		it = fifo_take(&s->in, NULL);
		s->held = it != NULL;
		pthread_mutex_unlock(&s->mu);
		if (it != NULL)
			deliver_local(s, it);

		wait_ms = -1;
		if (s->multi != NULL) {
			hook_run(s);
			wait_ms = hook_start(s);
			hook_run(s);
		}

		pthread_mutex_lock(&s->mu);
		more = s->in.n > 0;
		if (!more && s->hook.n == 0 && !s->held)
			pthread_cond_broadcast(&s->idle);
		pthread_mutex_unlock(&s->mu);
		if (!more)
			sleep_until(s, wait_ms);
	}
	/* Stopping: a POST still in flight is abandoned. */
	if (s->easy != NULL) {
		curl_multi_remove_handle(s->multi, s->easy);
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	return NULL;
}

/*-----------------------------------------------------------------------------
 * Opening
 */

static int
open_file(struct vg_alert_sinks *s, const struct vg_alert_sink_opts *o,
    char *err, size_t errcap)
{
	int e;

	if (o->file == NULL)
		return 0;
	if (o->file[0] == '\0') {
		vg__seterr(err, errcap, "file: empty path");
		return VG_EINVAL;
	}
	s->path = strdup(o->file);
	if (s->path == NULL)
		return VG_ENOMEM;
	if (file_open(s) == 0)
		return 0;
	e = errno;
	vg__seterr(err, errcap, "file: %s", strerror(e));
	return e == ENOENT || e == ENOTDIR ? VG_EINVAL : VG_EIO;
}

static int
open_syslog(struct vg_alert_sinks *s, const struct vg_alert_sink_opts *o,
    char *err, size_t errcap)
{
	const char *app = o->syslog_app != NULL ? o->syslog_app : "vigild";
	size_t i, n = strlen(app);
	int rc = VG_EINVAL;

	if (o->syslog == NULL)
		return 0;
	/* RFC 5424 6.2.5: 1*48PRINTUSASCII, which has no space. */
	for (i = 0; i < n && app[i] > 32 && app[i] < 127; i++)
		;
	if (n == 0 || n > APP_NAME_MAX || i != n) {
		vg__seterr(err, errcap, "syslog_app: 1 to %d printable ASCII "
		    "characters without spaces", APP_NAME_MAX);
		return VG_EINVAL;
	}
	memcpy(s->app, app, n + 1);
	if (strncmp(o->syslog, "unix:", 5) == 0)
		rc = vg__sink_unix_addr(o->syslog + 5, &s->saddr,
		    &s->saddrlen);
	else if (strncmp(o->syslog, "udp:", 4) == 0)
		rc = vg__sink_udp_addr(o->syslog + 4, &s->saddr,
		    &s->saddrlen);
	if (rc != 0) {
		vg__seterr(err, errcap, "syslog: expected unix:/path or "
		    "udp:host:port");
		return VG_EINVAL;
	}
	s->sfd = socket(s->saddr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->sfd < 0) {
		vg__seterr(err, errcap, "syslog: %s", strerror(errno));
		return VG_EIO;
	}
	vg__sink_hostname(s->host, sizeof(s->host));
	return 0;
}

/* RFC 6750 2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
 * "+" / "/" ) *"=".  Anything else (a CR or LF above all) could forge
 * headers. */
static bool
token_ok(const char *t)
{
	size_t i = strspn(t, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/");

	if (i == 0)
		return false;
	return t[i + strspn(t + i, "=")] == '\0';
}

static bool
loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	    strncmp(host, "127.", 4) == 0;
}

/* A secret copy of the concatenation a b, or NULL. */
static char *
secret_cat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *p = (char *)vg_secret_new(na + nb + 1);

	if (p != NULL) {
		memcpy(p, a, na);
		memcpy(p + na, b, nb + 1);
	}
	return p;
}

static int
open_webhook(struct vg_alert_sinks *s, const struct vg_alert_sink_opts *o,
    char *err, size_t errcap)
{
	const char *tok = o->webhook_token;
	char *scheme = NULL, *host = NULL;
	struct curl_slist *l;
	CURLU *u;
	int rc = VG_EINVAL;

	if (o->webhook == NULL)
		return 0;
	vg__sink_curl_init();
	if (vg_crypto_init() != 0)	/* for the secret memory */
		return VG_EIO;
	u = curl_url();
	if (u == NULL)
		return VG_ENOMEM;
	/* Messages name the option, never its value: the URL or the token
	 * may be a credential. */
	if (curl_url_set(u, CURLUPART_URL, o->webhook, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    host[0] == '\0') {
		vg__seterr(err, errcap, "webhook: not an http or https URL");
		goto out;
	}
	if (tok != NULL && !token_ok(tok)) {
		vg__seterr(err, errcap, "webhook_token: not an RFC 6750 "
		    "token (letters, digits, -._~+/ then any =)");
		goto out;
	}
	/* A bearer token in clear text is anyone's on the path. */
	if (tok != NULL && strcmp(scheme, "http") == 0 && !loopback(host)) {
		vg__seterr(err, errcap, "webhook_token: refused over plain "
		    "http to a host other than loopback (use https)");
		goto out;
	}
	rc = VG_ENOMEM;
	s->url = secret_cat(o->webhook, "");
	if (s->url == NULL)
		goto out;
	if (tok != NULL) {
		s->auth = secret_cat("Authorization: Bearer ", tok);
		if (s->auth == NULL)
			goto out;
	}
	l = curl_slist_append(NULL, "Content-Type: application/json");
	if (l == NULL)
		goto out;
	s->hdr = l;
	if (s->auth != NULL) {
		l = curl_slist_append(s->hdr, s->auth);
		if (l == NULL)
			goto out;
	}
	s->multi = curl_multi_init();
	if (s->multi == NULL)
		goto out;
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

int
vg_alert_sinks_open(const struct vg_alert_sink_opts *o,
    struct vg_alert_sinks **out, char *err, size_t errcap)
{
	struct vg_alert_sinks *s;
	pthread_condattr_t ca;
	int rc, i;

	*out = NULL;
	vg__seterr(err, errcap, "%s", "");
	if (o->file == NULL && o->syslog == NULL && o->webhook == NULL) {
		vg__seterr(err, errcap, "no sink: set file, syslog or webhook");
		return VG_EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return VG_ENOMEM;
	pthread_mutex_init(&s->mu, NULL);
	/* flush() waits on a monotonic deadline: a clock step must not
	 * stretch or cut it. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->idle, &ca);
	pthread_condattr_destroy(&ca);
	s->fd = s->sfd = s->wake[0] = s->wake[1] = -1;
	s->queue_max = o->queue_max != 0 ? o->queue_max : 10000;
	s->timeout_ms = o->webhook_timeout_ms != 0 ?
	    (long)o->webhook_timeout_ms : 5000;
	s->retries = o->webhook_retries != 0 ? o->webhook_retries : 5;
	s->base_ms = o->retry_base_ms != 0 ? o->retry_base_ms : 500;

	if ((rc = open_file(s, o, err, errcap)) != 0 ||
	    (rc = open_syslog(s, o, err, errcap)) != 0 ||
	    (rc = open_webhook(s, o, err, errcap)) != 0)
		goto fail;
	rc = VG_EIO;
	if (pipe(s->wake) != 0) {
		s->wake[0] = s->wake[1] = -1;
		goto fail;
	}
	for (i = 0; i < 2; i++)
		if (fcntl(s->wake[i], F_SETFL, O_NONBLOCK) != 0 ||
		    fcntl(s->wake[i], F_SETFD, FD_CLOEXEC) != 0)
			goto fail;
	rc = VG_ENOMEM;
	if (pthread_create(&s->thr, NULL, deliver_main, s) != 0)
		goto fail;
	s->started = true;
	*out = s;
	return 0;
fail:
	vg_alert_sinks_close(s);
	return rc;
}

/*-----------------------------------------------------------------------------
 * Sending, flushing, closing
 */

/* Drops the oldest alert that is not in flight (mu held). */
static bool
drop_oldest(struct vg_alert_sinks *s)
{
	struct item *h = s->hook.head, *it = NULL;

	if (h != NULL && !h->busy)
		it = fifo_take(&s->hook, NULL);
	else if (h != NULL && h->next != NULL)
		it = fifo_take(&s->hook, h);
	else
		it = fifo_take(&s->in, NULL);
	if (it == NULL)
		return false;
	free(it);
	s->st.dropped++;
	return true;
}

int
vg_alert_sinks_send(struct vg_alert_sinks *s, const struct vg_alert *a)
{
	char buf[VG_ALERT_JSON_MAX];
	struct item *it;
	int n;

	n = vg_alert_json(a, buf, sizeof(buf));
	if (n < 0)
		return n;
	it = malloc(sizeof(*it) + (size_t)n + 2);
	if (it == NULL)
		return VG_ENOMEM;
	memset(it, 0, sizeof(*it));
	it->sev = a->severity;
	it->len = (size_t)n;
	memcpy(it->line, buf, (size_t)n);
	it->line[n] = '\n';
	it->line[n + 1] = '\0';
	pthread_mutex_lock(&s->mu);
	while (s->in.n + s->hook.n >= s->queue_max && drop_oldest(s))
		;
	fifo_push(&s->in, it);
	s->st.queued++;
	pthread_mutex_unlock(&s->mu);
	wake(s);
	return 0;
}

void
vg_alert_sinks_flush(struct vg_alert_sinks *s, uint32_t timeout_ms)
{
	struct timespec dl;

	if (s == NULL || !s->started || timeout_ms == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->mu);
	while (s->in.n > 0 || s->hook.n > 0 || s->held)
		if (pthread_cond_timedwait(&s->idle, &s->mu, &dl) != 0)
			break;
	pthread_mutex_unlock(&s->mu);
}

void
vg_alert_sinks_stats(struct vg_alert_sinks *s, struct vg_alert_sink_stats *st)
{
	pthread_mutex_lock(&s->mu);
	*st = s->st;
	pthread_mutex_unlock(&s->mu);
}

/* Wipes what the header list copied of the token, then frees it. */
static void
free_headers(struct curl_slist *hdr)
{
	struct curl_slist *l;

	for (l = hdr; l != NULL; l = l->next)
		sodium_memzero(l->data, strlen(l->data));
	curl_slist_free_all(hdr);
}

void
vg_alert_sinks_close(struct vg_alert_sinks *s)
{
	if (s == NULL)
		return;
	if (s->started) {
		vg_alert_sinks_flush(s, 2000);
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_mutex_unlock(&s->mu);
		wake(s);
		pthread_join(s->thr, NULL);
	}
	/* What the flush did not deliver in time is abandoned. */
	fifo_free(&s->in);
	fifo_free(&s->hook);
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	free_headers(s->hdr);
	vg_secret_free((unsigned char *)s->auth);
	vg_secret_free((unsigned char *)s->url);
	if (s->fd >= 0)
		close(s->fd);
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	free(s->path);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
