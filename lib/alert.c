/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alerts as text: the severity and containment names, and the one-line
 * JSON a SIEM reads (Elastic Common Schema field names).  The sinks that
 * deliver the line are in alert_sink.c; the API is include/vigil/alert.h
 * and the shape is documented in docs/API.md ("Alerts").
 *
 * The JSON is written by hand into the caller's buffer, not through
 * jansson: the detector's determinism test compares bytes, so the key
 * order, the number format and the escaping are fixed here, in one
 * place, and cannot move with a library's version or its hash seed.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/alert.h"
#include "sinkio.h"
#include "textbuf.h"

/*
 * Field names and types as checked against ECS (the 8.17 reference at
 * elastic.co/guide/en/ecs/8.17, and the field definitions in the
 * elastic/ecs repository, schemas/<group>.yml):
 *  - ecs.version: "a required field and must exist in all events";
 *  - @timestamp (date, "when the event originated": the triggering
 *    entry's time) and message (the log viewer's line), base.yml;
 *  - event.kind "alert": "triggered by a detection rule executing
 *    externally to the Elastic Stack" (allowed values of event.kind);
 *  - event.id keyword, event.severity long ("up to the implementer to
 *    make sure severities are consistent": 1-4 here), event.risk_score
 *    float ("use your system's original value"), event.action keyword
 *    ("actions by security services, such as blocking or
 *    quarantining": the containment), event.yml;
 *  - event.category "intrusion_detection" with event.type "info", the
 *    pair ECS gives as its example of the info type.  "iam" was
 *    considered and not used: ECS keeps it for identity administration
 *    (users and groups created, changed, deleted), not for detections
 *    of what an identity did;
 *  - rule.name ("the name of the rule or signature generating the
 *    event"), user.id ("unique identifier of the user"),
 *    organization.name: rule.yml, user.yml, organization.yml.
 * Dotted names are nested objects, as ECS documents are.
 */
#define ECS_VERSION "8.17.0"

static const char *const sev_names[] = {
	[VG_SEV_LOW] = "low",
	[VG_SEV_MEDIUM] = "medium",
	[VG_SEV_HIGH] = "high",
	[VG_SEV_CRITICAL] = "critical",
};

static const char *const contain_names[] = {
	[VG_CONTAIN_NONE] = "none",
	[VG_CONTAIN_STEP_UP] = "step_up",
	[VG_CONTAIN_SUSPEND] = "suspend",
};

const char *
vg_severity_name(enum vg_severity s)
{
	if ((int)s < VG_SEV_LOW || (int)s > VG_SEV_CRITICAL)
		return NULL;
	return sev_names[s];
}

enum vg_severity
vg_severity_from_name(const char *s)
{
	int i;

	for (i = VG_SEV_LOW; s != NULL && i <= VG_SEV_CRITICAL; i++)
		if (strcmp(s, sev_names[i]) == 0)
			return (enum vg_severity)i;
	return 0;
}

const char *
vg_contain_name(enum vg_contain c)
{
	if ((int)c < VG_CONTAIN_NONE || (int)c > VG_CONTAIN_SUSPEND)
		return NULL;
	return contain_names[c];
}

enum vg_contain
vg_contain_from_name(const char *s)
{
	int i;

	for (i = VG_CONTAIN_NONE; s != NULL && i <= VG_CONTAIN_SUSPEND; i++)
		if (strcmp(s, contain_names[i]) == 0)
			return (enum vg_contain)i;
	return VG_CONTAIN_UNKNOWN;
}

/*-----------------------------------------------------------------------------
 * JSON
 */

static void
put_lit(struct wbuf *w, const char *s)
{
	put(w, s, strlen(s));
}

static void
put_u16(struct wbuf *w, unsigned u)
{
	static const char hexd[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', hexd[(u >> 12) & 15], hexd[(u >> 8) & 15],
	    hexd[(u >> 4) & 15], hexd[u & 15] };

	put(w, e, sizeof(e));
}

/* The code point of the UTF-8 sequence at s[0..n), its length in *len;
 * -1 (and *len 1) for a byte that does not start a valid, shortest-form
 * sequence of a scalar value. */
static long
utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	static const long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t k, need;
	long cp;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if ((s[0] & 0xe0) == 0xc0) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return -1;
	}
	if (need > n)
		return -1;
	for (k = 1; k < need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if (cp < min[need] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = need;
	return cp;
}

/*
 * A JSON string from s, read up to its NUL or max bytes (the fields are
 * fixed arrays a buggy producer might fill to the end).  Alerts are
 * printable ASCII by construction, but the output stays ASCII anyway:
 * other code points become \u escapes (surrogate pairs above U+FFFF) and
 * bytes that are not UTF-8 become U+FFFD, so the line is valid JSON, is
 * the same bytes for the same input, and needs no BOM in syslog.
 */
static void
put_str(struct wbuf *w, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strnlen(s, max), i = 0, len;
	long cp;

	put(w, "\"", 1);
	while (i < n) {
		cp = utf8_next(u + i, n - i, &len);
		i += len;
		if (cp == '"' || cp == '\\') {
			put(w, "\\", 1);
			put(w, (const char *)&u[i - 1], 1);
		} else if (cp == '\n') {
			put(w, "\\n", 2);
		} else if (cp == '\r') {
			put(w, "\\r", 2);
		} else if (cp == '\t') {
			put(w, "\\t", 2);
		} else if (cp >= 0x20 && cp < 0x7f) {
			put(w, (const char *)&u[i - 1], 1);
		} else if (cp < 0) {
			put_u16(w, 0xfffd);
		} else if (cp < 0x10000) {
			put_u16(w, (unsigned)cp);
		} else {
			cp -= 0x10000;
			put_u16(w, 0xd800 | (unsigned)(cp >> 10));
			put_u16(w, 0xdc00 | (unsigned)(cp & 0x3ff));
		}
	}
	put(w, "\"", 1);
}

/*
 * "%.10g": counts stay exact up to ten digits, ratios and z-scores keep
 * ten significant digits, and glibc rounds it the same on every run.
 * NaN and infinities are not JSON: they are written as null.  libvigil
 * never calls setlocale(), but a program that does could make the
 * decimal point a comma, which would no longer be a JSON number.
 */
static void
put_num(struct wbuf *w, double d)
{
	char tmp[40], *p;
	int n;

	if (!isfinite(d)) {
		put_lit(w, "null");
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.10g", d);
	if (n <= 0 || (size_t)n >= sizeof(tmp)) {
		w->full = true;
		return;
	}
	for (p = tmp; *p != '\0'; p++)
		if (*p == ',')
			*p = '.';
	put(w, tmp, (size_t)n);
}

static void
put_int(struct wbuf *w, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	put(w, tmp, (size_t)n);
}

/* key is the literal text before the value, its punctuation included. */
static void
kv_str(struct wbuf *w, const char *key, const char *s, size_t max)
{
	put_lit(w, key);
	put_str(w, s, max);
}

#define KV_STR(w, key, field) kv_str((w), (key), (field), sizeof(field))

int
vg_alert_json(const struct vg_alert *a, char *buf, size_t cap)
{
	struct wbuf w = { buf, 0, cap, false };
	const char *sev = vg_severity_name(a->severity);
	const char *act = vg_contain_name(a->action);
	char ts[40];
	size_t i;

	if (sev == NULL || act == NULL || a->nsignals > VG_ALERT_SIGNALS_MAX ||
	    a->nseqs > VG_ALERT_SEQS_MAX)
		return VG_EINVAL;
	if (cap == 0)
		return VG_ETOOBIG;
	if (vg__sink_rfc3339(ts, sizeof(ts), a->time_ns, 9) < 0)
		return VG_EINVAL;

	put_lit(&w, "{\"@timestamp\":\"");
	put_lit(&w, ts);
	put_lit(&w, "\",\"ecs\":{\"version\":\"" ECS_VERSION "\"}");
	put_lit(&w, ",\"event\":{\"kind\":\"alert\"");
	KV_STR(&w, ",\"id\":", a->id);
	put_lit(&w, ",\"severity\":");
	put_int(&w, (uint64_t)a->severity);
	put_lit(&w, ",\"risk_score\":");
	put_num(&w, a->score);
	put_lit(&w, ",\"action\":\"");
	put_lit(&w, act);
	put_lit(&w, "\",\"category\":[\"intrusion_detection\"]"
	    ",\"type\":[\"info\"]}");
	KV_STR(&w, ",\"rule\":{\"name\":", a->rule);
	KV_STR(&w, "},\"user\":{\"id\":", a->principal);
	KV_STR(&w, "},\"organization\":{\"name\":", a->org);
	KV_STR(&w, "},\"message\":", a->summary);
	put_lit(&w, ",\"vigil\":{\"severity\":\"");
	put_lit(&w, sev);
	put_lit(&w, "\"");
	KV_STR(&w, ",\"role\":", a->role);
	KV_STR(&w, ",\"node\":", a->node);
	put_lit(&w, ",\"containment\":\"");
	put_lit(&w, act);
	put_lit(&w, "\",\"signals\":[");
	for (i = 0; i < a->nsignals; i++) {
		const struct vg_alert_signal *g = &a->signal[i];

		KV_STR(&w, i == 0 ? "{\"name\":" : ",{\"name\":", g->name);
		KV_STR(&w, ",\"window\":", g->window);
		put_lit(&w, ",\"value\":");
		put_num(&w, g->value);
		put_lit(&w, ",\"baseline\":");
		put_num(&w, g->baseline);
		KV_STR(&w, ",\"basis\":", g->basis);
		put_lit(&w, ",\"z\":");
		put_num(&w, g->z);
		KV_STR(&w, ",\"text\":", g->text);
		put_lit(&w, "}");
	}
	put_lit(&w, "],\"audit_seqs\":[");
	for (i = 0; i < a->nseqs; i++) {
		if (i > 0)
			put_lit(&w, ",");
		put_int(&w, a->seq[i]);
	}
	put_lit(&w, "]}}");
	if (w.full) {
		buf[0] = '\0';
		return VG_ETOOBIG;
	}
	buf[w.len] = '\0';
	return (int)w.len;
}
