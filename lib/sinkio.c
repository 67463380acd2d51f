/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the witness and alert sinks: addresses, timestamps,
 * the host name and the libcurl POST; see sinkio.h.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vigil/error.h"
#include "sinkio.h"

int
vg__sink_udp_addr(const char *hostport, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct addrinfo hints, *res = NULL;
	const char *colon = strrchr(hostport, ':');
	const char *h = hostport;
	char host[256];
	size_t hl;

	if (colon == NULL || colon == hostport || colon[1] == '\0')
		return VG_EINVAL;
	hl = (size_t)(colon - hostport);
	/* "[::1]:514": the brackets only keep the port apart. */
	if (h[0] == '[' && colon[-1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return VG_EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || res == NULL)
		return VG_EINVAL;
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return VG_EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int
vg__sink_unix_addr(const char *path, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_un *un = (struct sockaddr_un *)ss;
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(un->sun_path))
		return VG_EINVAL;
	memset(ss, 0, sizeof(*ss));
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, path, n + 1);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

int
vg__sink_rfc3339(char *buf, size_t cap, int64_t ns, unsigned digits)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	time_t t;
	struct tm tm;
	char f[24];
	int n;

	/* Floor, not truncation toward zero, so that 1 ns before the epoch
	 * is 23:59:59.999999999 of the day before. */
	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	t = (time_t)sec;
	if (digits > 9 || gmtime_r(&t, &tm) == NULL)
		return -1;
	f[0] = '\0';
	if (digits > 0) {
		snprintf(f, sizeof(f), ".%09lld", (long long)frac);
		f[1 + digits] = '\0';
	}
	n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d%sZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, f);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int64_t
vg__sink_now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

void
vg__sink_hostname(char *buf, size_t cap)
{
	char h[256];
	size_t i;

	if (cap < 2)
		return;
	if (gethostname(h, sizeof(h)) != 0)
		h[0] = '\0';
	h[sizeof(h) - 1] = '\0';
	/* RFC 5424 6.2.4: 1*255PRINTUSASCII; a space would shift every
	 * later header field, so anything else ends the name. */
	for (i = 0; h[i] > 32 && h[i] < 127 && i + 1 < cap; i++)
		buf[i] = h[i];
	buf[i] = '\0';
	if (i == 0)
		snprintf(buf, cap, "-");
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
vg__sink_curl_init(void)
{
	pthread_once(&curl_once, curl_init_once);
}

static size_t
discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

void
vg__sink_http_setup(CURL *c, const char *url, const char *body, size_t len,
    struct curl_slist *hdr, long timeout_ms)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	/* A dead host is noticed in 2 s even when the attempt may take
	 * longer; a shorter attempt caps the connection too. */
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    timeout_ms < 2000 ? timeout_ms : 2000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
}

bool
vg__sink_http_ok(CURL *c, CURLcode rc)
{
	long status = 0;

	return rc == CURLE_OK &&
	    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) ==
	    CURLE_OK && status >= 200 && status < 300;
}
