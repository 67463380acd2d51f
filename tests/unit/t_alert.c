/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for alerts (lib/alert.c, lib/alert_sink.c,
 * include/vigil/alert.h): the names and their round trips, the JSON
 * (golden bytes, the same bytes whatever lies past the strings' NULs,
 * jansson reads it and finds the ECS keys, escaping of quotes, controls,
 * UTF-8 and bytes that are not UTF-8, VG_ETOOBIG at every short
 * capacity, VG_EINVAL), the options open() refuses, and the sinks: the
 * file (lines that parse, mode 0600, a new file after rotation), syslog
 * over a unix datagram socket and over UDP that the test binds itself
 * (PRI, version, timestamp, APP-NAME, PROCID, MSGID, the JSON as MSG),
 * and the queue when the thread is stuck (a FIFO nobody reads): the
 * oldest are dropped and counted, and flush() gives up on time.
 *
 * One hidden mode serves tests/integ/t0020-alert-sinks.sh:
 *   t_alert --deliver COUNT [--file F] [--syslog S] [--webhook URL]
 *           [--retries N] [--base-ms N] [--timeout-ms N] [--flush-ms N]
 * sends COUNT alerts (the token, if any, comes from $T_ALERT_TOKEN, not
 * argv, where ps would show it), prints "file_ms=N" (how long until the
 * file had them all), flushes, and prints the counters as key=value.
 * Without arguments it prints TAP; files live in a mkdtemp directory
 * under /tmp, removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "vigil/alert.h"
#include "vigil/crypto.h"
#include "tap.h"

static char root[64];	/* "/tmp/t_alert.XXXXXX" */

/* 2026-11-28T01:02:03.123456789Z */
#define FIXTURE_NS INT64_C(1795827723123456789)

static const char golden[] =
    "{\"@timestamp\":\"2026-11-28T01:02:03.123456789Z\","
    "\"ecs\":{\"version\":\"8.17.0\"},"
    "\"event\":{\"kind\":\"alert\",\"id\":\"al_0123456789abcdef\","
    "\"severity\":3,\"risk_score\":87.5,\"action\":\"suspend\","
    "\"category\":[\"intrusion_detection\"],\"type\":[\"info\"]},"
    "\"rule\":{\"name\":\"peer_outlier\"},"
    "\"user\":{\"id\":\"p_7f3a9c\"},"
    "\"organization\":{\"name\":\"acme-bank\"},"
    "\"message\":\"revealed 412 phone numbers in the last hour; "
    "peers' median 9\","
    "\"vigil\":{\"severity\":\"high\",\"role\":\"agent\",\"node\":\"n1\","
    "\"containment\":\"suspend\",\"signals\":["
    "{\"name\":\"reveals_without_case\",\"window\":\"1h\",\"value\":412,"
    "\"baseline\":9,\"basis\":\"peers\",\"z\":12.25,"
    "\"text\":\"revealed 412 phone numbers in the last hour; "
    "peers' median 9\"},"
    "{\"name\":\"distinct_customers\",\"window\":\"1d\",\"value\":380,"
    "\"baseline\":40,\"basis\":\"own\",\"z\":0.3333333333,"
    "\"text\":\"viewed 380 distinct customers today; own median 40\"}],"
    "\"audit_seqs\":[1041,1042,1097]}}";

#define SET(field, s) snprintf((field), sizeof(field), "%s", (s))

static void
fixture(struct vg_alert *a)
{
	memset(a, 0, sizeof(*a));
	SET(a->id, "al_0123456789abcdef");
	a->time_ns = FIXTURE_NS;
	SET(a->principal, "p_7f3a9c");
	SET(a->org, "acme-bank");
	SET(a->role, "agent");
	SET(a->rule, "peer_outlier");
	a->severity = VG_SEV_HIGH;
	a->score = 87.5;
	a->action = VG_CONTAIN_SUSPEND;
	SET(a->node, "n1");
	a->nsignals = 2;
	SET(a->signal[0].name, "reveals_without_case");
	SET(a->signal[0].window, "1h");
	a->signal[0].value = 412;
	a->signal[0].baseline = 9;
	SET(a->signal[0].basis, "peers");
	a->signal[0].z = 12.25;
	SET(a->signal[0].text, "revealed 412 phone numbers in the last hour; "
	    "peers' median 9");
	SET(a->signal[1].name, "distinct_customers");
	SET(a->signal[1].window, "1d");
	a->signal[1].value = 380;
	a->signal[1].baseline = 40;
	SET(a->signal[1].basis, "own");
	a->signal[1].z = 1.0 / 3.0;
	SET(a->signal[1].text, "viewed 380 distinct customers today; own "
	    "median 40");
	a->nseqs = 3;
	a->seq[0] = 1041;
	a->seq[1] = 1042;
	a->seq[2] = 1097;
	SET(a->summary, a->signal[0].text);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void
rm_rf(const char *p)
{
	(void)nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*-----------------------------------------------------------------------------
 * Names and JSON
 */

static void
test_names(void)
{
	int i, good = 1;

	for (i = VG_SEV_LOW; i <= VG_SEV_CRITICAL; i++)
		good &= (int)vg_severity_from_name(vg_severity_name(i)) == i;
	ok(good, "severity names round-trip");
	is_str(vg_severity_name(VG_SEV_CRITICAL), "critical",
	    "VG_SEV_CRITICAL is \"critical\"");
	ok(vg_severity_name(0) == NULL && vg_severity_name(5) == NULL,
	    "no name for severities 0 and 5");
	ok(vg_severity_from_name("High") == 0 &&
	    vg_severity_from_name("") == 0 && vg_severity_from_name(NULL) == 0,
	    "unknown severity names give 0");
	good = 1;
	for (i = VG_CONTAIN_NONE; i <= VG_CONTAIN_SUSPEND; i++)
		good &= (int)vg_contain_from_name(vg_contain_name(i)) == i;
	ok(good, "containment names round-trip");
	is_str(vg_contain_name(VG_CONTAIN_STEP_UP), "step_up",
	    "VG_CONTAIN_STEP_UP is \"step_up\"");
	ok(vg_contain_name(VG_CONTAIN_UNKNOWN) == NULL &&
	    vg_contain_name(3) == NULL, "no name for containments -1 and 3");
	ok(vg_contain_from_name("lock") == VG_CONTAIN_UNKNOWN &&
	    vg_contain_from_name(NULL) < 0,
	    "unknown containment names give -1 (and compare below 0)");
}

static void
test_json_golden(void)
{
	struct vg_alert a, b;
	char buf[VG_ALERT_JSON_MAX], buf2[VG_ALERT_JSON_MAX];
	int n, n2;

	fixture(&a);
	n = vg_alert_json(&a, buf, sizeof(buf));
	is_int(n, (int)strlen(golden), "JSON length is the golden length");
	is_str(buf, golden, "JSON is the golden bytes");
	if (strcmp(buf, golden) != 0)
		printf("# %s\n", buf);

	/* The same alert built over other garbage: bytes past each NUL
	 * must not matter. */
	memset(&b, 0xa5, sizeof(b));
	memcpy(&b, &a, sizeof(a));
	memset(b.id + strlen(b.id) + 1, 'x', sizeof(b.id) - strlen(b.id) - 1);
	memset(b.summary + strlen(b.summary) + 1, 'y',
	    sizeof(b.summary) - strlen(b.summary) - 1);
	memset(&b.signal[3], 0x5a, sizeof(b.signal[3]));	/* unused */
	b.seq[5] = 77;						/* unused */
	n2 = vg_alert_json(&b, buf2, sizeof(buf2));
	ok(n2 == n && memcmp(buf, buf2, (size_t)n + 1) == 0,
	    "the same alert gives the same bytes whatever lies past it");
	ok(strchr(buf, '\n') == NULL, "one line: no newline");
}

static const char *
jstr(json_t *root_, const char *path)
{
	char key[64], *p, *save = NULL;
	json_t *v = root_;

	snprintf(key, sizeof(key), "%s", path);
	for (p = strtok_r(key, ".", &save); p != NULL && v != NULL;
	    p = strtok_r(NULL, ".", &save))
		v = json_object_get(v, p);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *
jget(json_t *o, const char *a, const char *b)
{
	return json_object_get(json_object_get(o, a), b);
}

static void
test_json_parses(void)
{
	struct vg_alert a;
	char buf[VG_ALERT_JSON_MAX];
	json_error_t jerr;
	json_t *j, *sig, *seqs;

	fixture(&a);
	(void)vg_alert_json(&a, buf, sizeof(buf));
	j = json_loads(buf, JSON_REJECT_DUPLICATES, &jerr);
	ok(j != NULL, "jansson parses the alert (strict: no duplicate keys)");
	if (j == NULL)
		return;
	is_str(jstr(j, "@timestamp"), "2026-11-28T01:02:03.123456789Z",
	    "@timestamp: UTC with nanoseconds");
	is_str(jstr(j, "ecs.version"), "8.17.0", "ecs.version");
	is_str(jstr(j, "event.kind"), "alert", "event.kind is alert");
	is_str(jstr(j, "event.id"), "al_0123456789abcdef", "event.id");
	ok(json_is_integer(jget(j, "event", "severity")) &&
	    json_integer_value(jget(j, "event", "severity")) == 3,
	    "event.severity is the integer 3 for high");
	ok(json_is_number(jget(j, "event", "risk_score")) &&
	    json_number_value(jget(j, "event", "risk_score")) == 87.5,
	    "event.risk_score is the score");
	is_str(jstr(j, "event.action"), "suspend", "event.action");
	ok(json_is_array(jget(j, "event", "category")) &&
	    json_is_array(jget(j, "event", "type")),
	    "event.category and event.type are arrays");
	is_str(jstr(j, "rule.name"), "peer_outlier", "rule.name");
	is_str(jstr(j, "user.id"), "p_7f3a9c", "user.id");
	is_str(jstr(j, "organization.name"), "acme-bank",
	    "organization.name");
	is_str(jstr(j, "message"), a.summary, "message is the summary");
	is_str(jstr(j, "vigil.severity"), "high", "vigil.severity");
	is_str(jstr(j, "vigil.role"), "agent", "vigil.role");
	is_str(jstr(j, "vigil.node"), "n1", "vigil.node");
	is_str(jstr(j, "vigil.containment"), "suspend", "vigil.containment");
	sig = jget(j, "vigil", "signals");
	ok(json_array_size(sig) == 2, "vigil.signals holds both signals");
	is_str(json_string_value(json_object_get(json_array_get(sig, 1),
	    "basis")), "own", "a signal's basis");
	ok(json_number_value(json_object_get(json_array_get(sig, 0),
	    "value")) == 412, "a signal's value");
	seqs = jget(j, "vigil", "audit_seqs");
	ok(json_array_size(seqs) == 3 &&
	    json_integer_value(json_array_get(seqs, 2)) == 1097,
	    "vigil.audit_seqs are integers, in order");
	json_decref(j);
}

static void
test_json_escaping(void)
{
	struct vg_alert a;
	char buf[VG_ALERT_JSON_MAX];
	const char *m;
	json_t *j;
	size_t i;
	int n, ascii = 1;

	fixture(&a);
	/* Quote, backslash, newline, tab, a control, DEL, e-acute (2
	 * bytes), the euro sign (3), an emoji (4), a lone continuation
	 * byte, an overlong slash, a surrogate, 0xff. */
	SET(a.summary, "q\" b\\ n\n t\t c\x01 d\x7f "
	    "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x80 \xc0\xaf "
	    "\xed\xa0\x80 \xff.");
	SET(a.org, "</script>");
	n = vg_alert_json(&a, buf, sizeof(buf));
	ok(n > 0, "odd characters are written");
	for (i = 0; i < (size_t)n; i++)
		ascii &= buf[i] >= 0x20 && buf[i] < 0x7f;
	ok(ascii, "the line is printable ASCII whatever the input");
	ok(strstr(buf, "\"q\\\" b\\\\ n\\n t\\t c\\u0001 d\\u007f "
	    "\\u00e9 \\u20ac \\ud83d\\ude00 \\ufffd \\ufffd\\ufffd "
	    "\\ufffd\\ufffd\\ufffd \\ufffd.\"") != NULL,
	    "escapes: short forms, \\u00XX, \\uXXXX, surrogate pairs, "
	    "U+FFFD per bad byte");
	j = json_loads(buf, 0, NULL);
	m = j != NULL ? jstr(j, "message") : NULL;
	is_str(m, "q\" b\\ n\n t\t c\x01 d\x7f \xc3\xa9 \xe2\x82\xac "
	    "\xf0\x9f\x98\x80 \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd "
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd.",
	    "jansson reads back the same text (bad bytes as U+FFFD)");
	is_str(j != NULL ? jstr(j, "organization.name") : NULL, "</script>",
	    "no escaping that JSON does not need");
	json_decref(j);

	/* A field filled to its end, with no NUL: read to the array's end. */
	fixture(&a);
	memset(a.role, 'r', sizeof(a.role));
	n = vg_alert_json(&a, buf, sizeof(buf));
	ok(n > 0 && strstr(buf, "\"role\":\"rrrrrrrrrrrrrrrr\",") != NULL,
	    "an unterminated field is read to its end, not past it");
}

static void
test_json_limits(void)
{
	struct vg_alert a;
	char buf[VG_ALERT_JSON_MAX], small[2048];
	size_t cap;
	int n, bad = 0, overrun = 0;

	fixture(&a);
	n = vg_alert_json(&a, buf, sizeof(buf));
	for (cap = 0; cap <= (size_t)n; cap++) {
		memset(small, '#', sizeof(small));
		if (vg_alert_json(&a, small, cap) != VG_ETOOBIG)
			bad++;
		if (cap < sizeof(small) && small[cap] != '#')
			overrun++;
	}
	is_int(bad, 0, "VG_ETOOBIG at every capacity from 0 to the length");
	is_int(overrun, 0, "and nothing written past the capacity");
	is_int(vg_alert_json(&a, small, (size_t)n + 1), n,
	    "length + 1 (for the NUL) is enough");

	a.nsignals = VG_ALERT_SIGNALS_MAX + 1;
	is_int(vg_alert_json(&a, buf, sizeof(buf)), VG_EINVAL,
	    "VG_EINVAL for too many signals");
	fixture(&a);
	a.nseqs = VG_ALERT_SEQS_MAX + 1;
	is_int(vg_alert_json(&a, buf, sizeof(buf)), VG_EINVAL,
	    "VG_EINVAL for too many sequence numbers");
	fixture(&a);
	a.severity = 7;
	is_int(vg_alert_json(&a, buf, sizeof(buf)), VG_EINVAL,
	    "VG_EINVAL for an unknown severity");
	fixture(&a);
	a.action = VG_CONTAIN_UNKNOWN;
	is_int(vg_alert_json(&a, buf, sizeof(buf)), VG_EINVAL,
	    "VG_EINVAL for an unknown action");

	/* Full arrays of signals and sequence numbers, every text at its
	 * longest and every character escaped twice over: still fits. */
	fixture(&a);
	a.nsignals = VG_ALERT_SIGNALS_MAX;
	a.nseqs = VG_ALERT_SEQS_MAX;
	for (cap = 0; cap < VG_ALERT_SEQS_MAX; cap++)
		a.seq[cap] = UINT64_MAX - cap;
	for (cap = 0; cap < VG_ALERT_SIGNALS_MAX; cap++) {
		a.signal[cap] = a.signal[0];
		memset(a.signal[cap].text, '"', sizeof(a.signal[cap].text) - 1);
		a.signal[cap].value = -1.2345678901234e300;
	}
	memset(a.summary, '\\', sizeof(a.summary) - 1);
	ok(vg_alert_json(&a, buf, sizeof(buf)) > 0,
	    "the largest printable alert fits VG_ALERT_JSON_MAX");
}

static void
test_json_numbers_time(void)
{
	struct vg_alert a;
	char buf[VG_ALERT_JSON_MAX];
	json_t *j;

	fixture(&a);
	a.time_ns = -1;
	a.score = NAN;
	a.signal[0].z = INFINITY;
	a.signal[0].value = 1e21;
	(void)vg_alert_json(&a, buf, sizeof(buf));
	ok(strstr(buf, "\"@timestamp\":\"1969-12-31T23:59:59.999999999Z\"") !=
	    NULL, "1 ns before the epoch is the day before, not 00:00:00");
	ok(strstr(buf, "\"risk_score\":null") != NULL &&
	    strstr(buf, "\"z\":null") != NULL, "NaN and infinity are null");
	ok(strstr(buf, "\"value\":1e+21") != NULL, "large values: %%.10g");
	j = json_loads(buf, 0, NULL);
	ok(j != NULL, "and it all still parses");
	json_decref(j);
	a.time_ns = 0;
	(void)vg_alert_json(&a, buf, sizeof(buf));
	ok(strstr(buf, "\"1970-01-01T00:00:00.000000000Z\"") != NULL,
	    "the epoch");
}

/*-----------------------------------------------------------------------------
 * Sinks
 */

/* err starts with want: the option at fault. */
static void
like_err_impl(const char *err, const char *want, int line)
{
	tap_ok(strncmp(err, want, strlen(want)) == 0, __FILE__, line,
	    "the error names the option (%s)", want);
	if (strncmp(err, want, strlen(want)) != 0)
		printf("#   got \"%s\"\n", err);
}

#define like_err(err, want) like_err_impl((err), (want), __LINE__)

static void
test_open_errors(void)
{
	struct vg_alert_sink_opts o;
	struct vg_alert_sinks *s = (struct vg_alert_sinks *)&o;
	char err[256], path[128];

	memset(&o, 0, sizeof(o));
	is_int(vg_alert_sinks_open(&o, &s, err, sizeof(err)), VG_EINVAL,
	    "no sink at all: VG_EINVAL");
	ok(s == NULL, "and *out is NULL");
	snprintf(path, sizeof(path), "%s/no/such/dir/alerts.jsonl", root);
	o.file = path;
	is_int(vg_alert_sinks_open(&o, &s, err, sizeof(err)), VG_EINVAL,
	    "file in a missing directory: VG_EINVAL");
	like_err(err, "file:");
	o.file = NULL;

	o.syslog = "tcp:127.0.0.1:514";
	is_int(vg_alert_sinks_open(&o, &s, err, sizeof(err)), VG_EINVAL,
	    "syslog tcp: refused");
	like_err(err, "syslog:");
	o.syslog = "udp:127.0.0.1";
	is_int(vg_alert_sinks_open(&o, &s, err, sizeof(err)), VG_EINVAL,
	    "syslog udp without a port: refused");
	o.syslog = "unix:/dev/log";
	o.syslog_app = "vigil d";
	is_int(vg_alert_sinks_open(&o, &s, err, sizeof(err)), VG_EINVAL,
	    "an APP-NAME with a space: refused");
	like_err(err, "syslog_app:");
	o.syslog = NULL;
	o.syslog_app = NULL;

	o.webhook = "ftp://example.com/x";
	is_int(vg_alert_sinks_open(&o, &s, err, sizeof(err)), VG_EINVAL,
	    "an ftp webhook: refused");
	like_err(err, "webhook:");
	o.webhook = "example.com/hook";
	is_int(vg_alert_sinks_open(&o, &s, err, sizeof(err)), VG_EINVAL,
	    "a webhook without a scheme: refused");
	o.webhook = "http://siem.example.com/hook";
	o.webhook_token = "s3cr3t-Tok3n";
	is_int(vg_alert_sinks_open(&o, &s, err, sizeof(err)), VG_EINVAL,
	    "a token over plain http to a remote host: refused");
	like_err(err, "webhook_token:");
	ok(strstr(err, "s3cr3t") == NULL && strstr(err, "siem") == NULL,
	    "the message names the option, not the token or the URL");
	o.webhook = "https://siem.example.com/hook";
	o.webhook_token = "abc\r\nX-Evil: 1";
	is_int(vg_alert_sinks_open(&o, &s, err, sizeof(err)), VG_EINVAL,
	    "a token with CR LF (header injection): refused");
	o.webhook_token = "abc=def";
	is_int(vg_alert_sinks_open(&o, &s, err, sizeof(err)), VG_EINVAL,
	    "'=' only at the token's end");
	o.webhook = "http://127.0.0.1:9/hook";
	o.webhook_token = "abc+/=";
	is_int(vg_alert_sinks_open(&o, &s, err, sizeof(err)), 0,
	    "a token over http to loopback: accepted");
	vg_alert_sinks_close(s);
	vg_alert_sinks_close(NULL);
	ok(1, "close(NULL) is a no-op");
}

/* Reads the file at path into a malloc'd string (NULL if none). */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *p = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			char *np = realloc(p, cap + 65536);

			if (np == NULL)
				break;
			p = np;
			cap += 65536;
		}
		r = fread(p + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	if (p != NULL)
		p[n] = '\0';
	return p;
}

static void
test_file_sink(void)
{
	struct vg_alert_sink_opts o;
	struct vg_alert_sink_stats st;
	struct vg_alert_sinks *s;
	struct vg_alert a;
	struct stat sb;
	char path[128], rot[136], err[256];
	char *text, *line, *save = NULL;
	int i, lines = 0, parsed = 0, ordered = 1;

	snprintf(path, sizeof(path), "%s/alerts.jsonl", root);
	memset(&o, 0, sizeof(o));
	o.file = path;
	if (!ok(vg_alert_sinks_open(&o, &s, err, sizeof(err)) == 0,
	    "file sink opens"))
		return;
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "the file is created at open, mode 0600");
	fixture(&a);
	for (i = 0; i < 50; i++) {
		snprintf(a.id, sizeof(a.id), "al_%016x", i);
		(void)vg_alert_sinks_send(s, &a);
	}
	vg_alert_sinks_flush(s, 5000);
	vg_alert_sinks_stats(s, &st);
	ok(st.queued == 50 && st.delivered_file == 50 && st.errors_file == 0 &&
	    st.dropped == 0, "50 queued, 50 delivered to the file");
	text = slurp(path);
	for (line = text != NULL ? strtok_r(text, "\n", &save) : NULL;
	    line != NULL; line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);
		char want[32];

		snprintf(want, sizeof(want), "al_%016x", lines);
		if (j != NULL)
			parsed++;
		if (j == NULL || jstr(j, "event.id") == NULL ||
		    strcmp(jstr(j, "event.id"), want) != 0)
			ordered = 0;
		json_decref(j);
		lines++;
	}
	is_int(lines, 50, "the file holds 50 lines");
	is_int(parsed, 50, "each line parses as JSON");
	ok(ordered, "in the order sent");
	free(text);

	/* logrotate moves the file away: the next line starts a new one. */
	snprintf(rot, sizeof(rot), "%s.1", path);
	ok(rename(path, rot) == 0, "rotate the file");
	(void)vg_alert_sinks_send(s, &a);
	vg_alert_sinks_flush(s, 5000);
	text = slurp(path);
	ok(text != NULL && strchr(text, '\n') == strrchr(text, '\n') &&
	    strstr(text, a.id) != NULL, "after rotation, a new file with the "
	    "new line only");
	free(text);
	vg_alert_sinks_close(s);
}

/* A syslog line's first seven fields, split in place; msg is the rest. */
struct sl {
	char *pri, *ver, *ts, *host, *app, *procid, *msgid, *sd, *msg;
};

static int
split_syslog(char *p, struct sl *l)
{
	char **f[] = { &l->ver, &l->ts, &l->host, &l->app, &l->procid,
	    &l->msgid, &l->sd };
	char *sp;
	size_t i;

	if (p[0] != '<' || (sp = strchr(p, '>')) == NULL)
		return -1;
	*sp = '\0';
	l->pri = p + 1;
	p = sp + 1;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		sp = strchr(p, ' ');
		if (sp == NULL)
			return -1;
		*sp = '\0';
		*f[i] = p;
		p = sp + 1;
	}
	l->msg = p;
	return 0;
}

/* "2026-11-28T01:02:03.123456Z": microseconds (RFC 5424 allows at most
 * six fraction digits). */
static int
ts_ok(const char *t)
{
	const char *pat = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	size_t i;

	if (strlen(t) != strlen(pat))
		return 0;
	for (i = 0; pat[i] != '\0'; i++)
		if (pat[i] == 'd' ? t[i] < '0' || t[i] > '9' : t[i] != pat[i])
			return 0;
	return 1;
}

static void
check_syslog(int fd, const struct vg_alert *a, int pri, const char *app,
    const char *what)
{
	char buf[VG_ALERT_JSON_MAX + 1024], json[VG_ALERT_JSON_MAX], want[16];
	char pid[24];
	struct sl l;
	ssize_t n;

	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (!ok(n > 0, "%s: a datagram arrives", what))
		return;
	buf[n] = '\0';
	(void)vg_alert_json(a, json, sizeof(json));
	if (!ok(split_syslog(buf, &l) == 0, "%s: RFC 5424 header parses",
	    what))
		return;
	snprintf(want, sizeof(want), "%d", pri);
	is_str(l.pri, want, "%s: PRI authpriv and the severity", what);
	is_str(l.ver, "1", "%s: VERSION 1", what);
	ok(ts_ok(l.ts), "%s: TIMESTAMP in UTC to the microsecond (%s)", what,
	    l.ts);
	ok(l.host[0] != '\0', "%s: HOSTNAME present", what);
	is_str(l.app, app, "%s: APP-NAME", what);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	is_str(l.procid, pid, "%s: PROCID is the pid", what);
	is_str(l.msgid, "alert", "%s: MSGID alert", what);
	is_str(l.sd, "-", "%s: no STRUCTURED-DATA", what);
	is_str(l.msg, json, "%s: MSG is the alert's JSON, no BOM", what);
}

static void
test_syslog_unix(void)
{
	struct vg_alert_sink_opts o;
	struct vg_alert_sink_stats st;
	struct vg_alert_sinks *s;
	struct sockaddr_un un;
	struct timeval tv = { 5, 0 };
	struct vg_alert a, crit, low;
	char spec[128], err[256], fpath[128];
	int fd;

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s/log", root);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (!ok(fd >= 0 && bind(fd, (struct sockaddr *)&un, sizeof(un)) == 0,
	    "bind a unix datagram socket (our /dev/log)"))
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(spec, sizeof(spec), "unix:%s", un.sun_path);
	memset(&o, 0, sizeof(o));
	o.syslog = spec;
	o.syslog_app = "vigil-test";
	if (!ok(vg_alert_sinks_open(&o, &s, err, sizeof(err)) == 0,
	    "syslog sink opens on unix:"))
		return;
	fixture(&a);
	crit = a;
	crit.severity = VG_SEV_CRITICAL;
	low = a;
	low.severity = VG_SEV_LOW;
	low.action = VG_CONTAIN_NONE;
	(void)vg_alert_sinks_send(s, &a);
	(void)vg_alert_sinks_send(s, &crit);
	(void)vg_alert_sinks_send(s, &low);
	check_syslog(fd, &a, 83, "vigil-test", "high");
	check_syslog(fd, &crit, 82, "vigil-test", "critical");
	check_syslog(fd, &low, 85, "vigil-test", "low");
	vg_alert_sinks_flush(s, 5000);
	vg_alert_sinks_stats(s, &st);
	ok(st.delivered_syslog == 3 && st.errors_syslog == 0,
	    "three delivered to syslog, no errors");
	vg_alert_sinks_close(s);

	/* Nobody listening: counted as an error; the file still gets it. */
	close(fd);
	unlink(un.sun_path);
	snprintf(fpath, sizeof(fpath), "%s/both.jsonl", root);
	o.file = fpath;
	o.syslog_app = NULL;
	if (!ok(vg_alert_sinks_open(&o, &s, err, sizeof(err)) == 0,
	    "syslog sink opens with no daemon listening yet"))
		return;
	(void)vg_alert_sinks_send(s, &a);
	vg_alert_sinks_flush(s, 5000);
	vg_alert_sinks_stats(s, &st);
	ok(st.errors_syslog == 1 && st.delivered_syslog == 0 &&
	    st.delivered_file == 1, "no syslog daemon: errors_syslog 1, the "
	    "file still delivered");
	vg_alert_sinks_close(s);
}

static void
test_syslog_udp(void)
{
	struct vg_alert_sink_opts o;
	struct vg_alert_sinks *s;
	struct sockaddr_in in;
	socklen_t len = sizeof(in);
	struct timeval tv = { 5, 0 };
	struct vg_alert a;
	char spec[64], err[256];
	int fd;

	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!ok(fd >= 0 && bind(fd, (struct sockaddr *)&in, sizeof(in)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&in, &len) == 0,
	    "bind a UDP socket on loopback"))
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u",
	    (unsigned)ntohs(in.sin_port));
	memset(&o, 0, sizeof(o));
	o.syslog = spec;
	if (!ok(vg_alert_sinks_open(&o, &s, err, sizeof(err)) == 0,
	    "syslog sink opens on udp:"))
		return;
	fixture(&a);
	a.severity = VG_SEV_MEDIUM;
	(void)vg_alert_sinks_send(s, &a);
	check_syslog(fd, &a, 84, "vigild", "udp medium");
	vg_alert_sinks_close(s);
	close(fd);
}

/*
 * The thread stuck: the file is a FIFO whose buffer the test has filled,
 * so the thread blocks writing the first alert.  The queue (3) then
 * keeps only the newest; flush() gives up after its timeout.  Reading
 * the FIFO lets the thread go on.
 */
static void
test_overflow(void)
{
	struct vg_alert_sink_opts o;
	struct vg_alert_sink_stats st;
	struct vg_alert_sinks *s;
	struct vg_alert a;
	struct timespec t0, t1;
	char path[128], err[256], junk[4096], *buf, *p, *save = NULL;
	size_t filler = 0, got = 0, cap = 1 << 20;
	ssize_t n;
	long ms;
	int rd, wr, i, lines = 0, newest = 1;
	char ids[16][32];

	snprintf(path, sizeof(path), "%s/fifo", root);
	if (!ok(mkfifo(path, 0600) == 0, "mkfifo"))
		return;
	rd = open(path, O_RDONLY | O_NONBLOCK);
	wr = open(path, O_WRONLY | O_NONBLOCK);
	memset(junk, 'x', sizeof(junk));
	while ((n = write(wr, junk, sizeof(junk))) > 0)
		filler += (size_t)n;
	while ((n = write(wr, junk, 1)) > 0)
		filler += (size_t)n;
	close(wr);
	ok(rd >= 0 && filler > 0, "the FIFO is full (%zu bytes)", filler);

	memset(&o, 0, sizeof(o));
	o.file = path;
	o.queue_max = 3;
	if (!ok(vg_alert_sinks_open(&o, &s, err, sizeof(err)) == 0,
	    "file sink on the FIFO opens"))
		return;
	fixture(&a);
	snprintf(a.id, sizeof(a.id), "al_%016x", 0);
	(void)vg_alert_sinks_send(s, &a);
	usleep(300 * 1000);		/* the thread takes it and blocks */
	for (i = 1; i < 10; i++) {
		snprintf(a.id, sizeof(a.id), "al_%016x", i);
		ok(vg_alert_sinks_send(s, &a) == 0, "send %d never blocks", i);
	}
	vg_alert_sinks_stats(s, &st);
	ok(st.queued == 10 && st.dropped >= 6 && st.dropped <= 7,
	    "queue of 3 behind a stuck thread: 6 or 7 dropped and counted "
	    "(got %llu)", (unsigned long long)st.dropped);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	vg_alert_sinks_flush(s, 150);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	ok(ms >= 140 && ms < 2000, "flush gives up after its timeout "
	    "(%ld ms)", ms);

	/* Read the filler, then the lines, until the thread is done. */
	buf = malloc(cap);
	while (buf != NULL && got < cap - 1) {
		struct pollfd pfd = { rd, POLLIN, 0 };

		if (poll(&pfd, 1, 500) <= 0)
			break;
		n = read(rd, buf + got, cap - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	vg_alert_sinks_flush(s, 5000);
	vg_alert_sinks_stats(s, &st);
	vg_alert_sinks_close(s);
	close(rd);
	if (!ok(buf != NULL && got > filler, "lines follow the filler")) {
		free(buf);
		return;
	}
	buf[got] = '\0';
	for (p = strtok_r(buf + filler, "\n", &save); p != NULL && lines < 16;
	    p = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(p, 0, NULL);

		snprintf(ids[lines++], sizeof(ids[0]), "%s",
		    j != NULL && jstr(j, "event.id") ? jstr(j, "event.id") :
		    "?");
		json_decref(j);
	}
	is_int((uint64_t)lines + st.dropped, 10,
	    "every alert is either in the file or counted as dropped");
	is_int(st.delivered_file, lines, "delivered_file counts the lines");
	for (i = 0; i < 3 && lines >= 3; i++) {
		char want[32];

		snprintf(want, sizeof(want), "al_%016x", 7 + i);
		newest &= strcmp(ids[lines - 3 + i], want) == 0;
	}
	ok(lines >= 3 && newest, "the three kept are the newest (7, 8, 9): "
	    "the oldest were dropped");
	free(buf);
}

/*-----------------------------------------------------------------------------
 * --deliver, for tests/integ/t0020-alert-sinks.sh
 */

static int
deliver(int argc, char **argv)
{
	struct vg_alert_sink_opts o;
	struct vg_alert_sink_stats st;
	struct vg_alert_sinks *s;
	struct vg_alert a;
	struct timespec t0, t1;
	char err[256];
	long count, flush_ms = 30000, file_ms = -1;
	int i, rc;

	memset(&o, 0, sizeof(o));
	count = strtol(argv[2], NULL, 10);
	for (i = 3; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--file") == 0)
			o.file = v;
		else if (strcmp(k, "--syslog") == 0)
			o.syslog = v;
		else if (strcmp(k, "--webhook") == 0)
			o.webhook = v;
		else if (strcmp(k, "--retries") == 0)
			o.webhook_retries = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(k, "--base-ms") == 0)
			o.retry_base_ms = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(k, "--timeout-ms") == 0)
			o.webhook_timeout_ms = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(k, "--flush-ms") == 0)
			flush_ms = strtol(v, NULL, 10);
		else
			return 2;
	}
	o.webhook_token = getenv("T_ALERT_TOKEN");
	rc = vg_alert_sinks_open(&o, &s, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "t_alert: %s (%s)\n", err, vg_strerror(rc));
		return 1;
	}
	fixture(&a);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < count; i++) {
		snprintf(a.id, sizeof(a.id), "al_%016x", i);
		a.time_ns = FIXTURE_NS + i;
		if (vg_alert_sinks_send(s, &a) != 0)
			return 1;
	}
	/* How long until the file had them all, whatever the webhook does. */
	while (o.file != NULL) {
		long ms;

		vg_alert_sinks_stats(s, &st);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (st.delivered_file + st.errors_file >= (uint64_t)count) {
			file_ms = ms;
			break;
		}
		if (ms > 30000)
			break;
		usleep(2000);
	}
	printf("file_ms=%ld\n", file_ms);
	fflush(stdout);
	vg_alert_sinks_flush(s, (uint32_t)flush_ms);
	vg_alert_sinks_stats(s, &st);
	printf("queued=%llu\ndelivered_file=%llu\ndelivered_syslog=%llu\n"
	    "delivered_webhook=%llu\nwebhook_retries=%llu\n"
	    "webhook_failures=%llu\ndropped=%llu\nerrors_file=%llu\n"
	    "errors_syslog=%llu\n", (unsigned long long)st.queued,
	    (unsigned long long)st.delivered_file,
	    (unsigned long long)st.delivered_syslog,
	    (unsigned long long)st.delivered_webhook,
	    (unsigned long long)st.webhook_retries,
	    (unsigned long long)st.webhook_failures,
	    (unsigned long long)st.dropped,
	    (unsigned long long)st.errors_file,
	    (unsigned long long)st.errors_syslog);
	vg_alert_sinks_close(s);
	return 0;
}

int
main(int argc, char **argv)
{
	if (vg_crypto_init() != 0)
		return 2;
	if (argc >= 3 && strcmp(argv[1], "--deliver") == 0)
		return deliver(argc, argv);
	if (argc != 1) {
		fprintf(stderr, "usage: t_alert [--deliver COUNT [--file F] "
		    "[--syslog S] [--webhook URL] [--retries N] [--base-ms N] "
		    "[--timeout-ms N] [--flush-ms N]]\n");
		return 2;
	}
	snprintf(root, sizeof(root), "/tmp/t_alert.XXXXXX");
	if (mkdtemp(root) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return done_testing();
	}
	test_names();
	test_json_golden();
	test_json_parses();
	test_json_escaping();
	test_json_limits();
	test_json_numbers_time();
	test_open_errors();
	test_file_sink();
	test_syslog_unix();
	test_syslog_udp();
	test_overflow();
	rm_rf(root);
	return done_testing();
}
