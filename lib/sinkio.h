/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to libvigil: what the two kinds of outbound sinks share, the
 * checkpoint witnesses (lib/witness.c) and the alert sinks
 * (lib/alert_sink.c): syslog addresses, RFC 3339 timestamps, the host
 * name RFC 5424 wants, and one libcurl POST set up the same careful way
 * (no redirects, http and https only, no signals, bounded time).
 */
#ifndef VIGIL_SINKIO_H
#define VIGIL_SINKIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <curl/curl.h>

/* Resolves "host:port" or "[v6]:port" for UDP into ss.  0 or VG_EINVAL. */
int vg__sink_udp_addr(const char *hostport, struct sockaddr_storage *ss,
    socklen_t *len);

/* A datagram socket's path into ss (AF_UNIX).  0 or VG_EINVAL (empty or
 * longer than sun_path holds). */
int vg__sink_unix_addr(const char *path, struct sockaddr_storage *ss,
    socklen_t *len);

/* Writes ns since the epoch as "YYYY-MM-DDTHH:MM:SS[.f]Z" (UTC) with
 * digits (0-9) digits of fraction, truncated, into buf[cap].  Returns the
 * length, or -1 when it does not fit. */
int vg__sink_rfc3339(char *buf, size_t cap, int64_t ns, unsigned digits);

/* Now, as ns since the epoch (CLOCK_REALTIME). */
int64_t vg__sink_now_ns(void);

/* This host's name as RFC 5424 HOSTNAME wants it: printable US-ASCII
 * without spaces, at most 255 bytes, or "-" when unknown. */
void vg__sink_hostname(char *buf, size_t cap);

/* curl_global_init, once per process (it is not thread-safe itself). */
void vg__sink_curl_init(void);

/* Sets c up to POST body[0..len) to url with headers hdr (borrowed: both
 * must outlive the transfer), timeout_ms for the whole attempt, no
 * redirects (a token must not follow one to another host), http(s)
 * only, and the answer's body discarded. */
void vg__sink_http_setup(CURL *c, const char *url, const char *body,
    size_t len, struct curl_slist *hdr, long timeout_ms);

/* True when the finished transfer on c (result rc) got a 2xx answer. */
bool vg__sink_http_ok(CURL *c, CURLcode rc);

#endif
