/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Insider-threat alerts: what the detector (vigil/detect.h) raises, how
 * an alert is written as JSON (Elastic Common Schema field names, so a
 * SIEM takes it as it is), and the sinks that deliver it: a JSON-lines
 * file, syslog (RFC 5424) and an HTTP webhook with retry.
 *
 * An alert names a principal and customers' audit entries by sequence
 * number only: never a personal value.  Every text in it is printable
 * ASCII built from ids, codes and numbers.
 */
#ifndef VIGIL_ALERT_H
#define VIGIL_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/audit.h"
#include "vigil/error.h"

#define VG_ALERT_ID_MAX 24		/* "al_" + 16 hex + NUL, rounded */
#define VG_ALERT_SIGNALS_MAX 4		/* top signals kept per alert */
#define VG_ALERT_SEQS_MAX 16		/* audit entries named per alert */
#define VG_ALERT_TEXT_MAX 200		/* bytes in a signal's plain words */
#define VG_ALERT_JSON_MAX 8192		/* bytes in one alert as JSON */

enum vg_severity {
	VG_SEV_LOW = 1,
	VG_SEV_MEDIUM = 2,
	VG_SEV_HIGH = 3,
	VG_SEV_CRITICAL = 4,
};

/* What containment the alert asks for (the detector's policy decides).
 * VG_CONTAIN_UNKNOWN is only vg_contain_from_name's answer: it makes the
 * enum signed, so that the -1 compares as -1. */
enum vg_contain {
	VG_CONTAIN_UNKNOWN = -1,
	VG_CONTAIN_NONE = 0,
	VG_CONTAIN_STEP_UP = 1,		/* reveals need a supervisor */
	VG_CONTAIN_SUSPEND = 2,		/* reveals refused; masked views work */
};

/* One reason behind an alert, in numbers and in words. */
struct vg_alert_signal {
	char name[32];			/* "reveals_without_case", ... */
	char window[8];			/* "15m", "1h", "1d", "30d" */
	double value;			/* the principal's value */
	double baseline;		/* what it is compared with */
	char basis[8];			/* "peers", "own", "rule" */
	double z;			/* robust z-score (0 for rules) */
	char text[VG_ALERT_TEXT_MAX];	/* "revealed 412 phone numbers in
					 * the last hour; peers' median 9" */
};

struct vg_alert {
	char id[VG_ALERT_ID_MAX];	/* "al_" + 16 hex, deterministic */
	int64_t time_ns;		/* the triggering entry's time */
	char principal[VG_AUDIT_STR_MAX + 1];
	char org[VG_AUDIT_STR_MAX + 1];
	char role[16];
	char rule[32];			/* "honeytoken", "peer_outlier",
					 * "own_history", "org_elevated",
					 * "shared_customers" */
	enum vg_severity severity;
	double score;
	enum vg_contain action;
	char node[VG_CHAIN_NAME_MAX + 1];	/* chain of the entries */
	size_t nsignals;
	struct vg_alert_signal signal[VG_ALERT_SIGNALS_MAX];
	size_t nseqs;
	uint64_t seq[VG_ALERT_SEQS_MAX];	/* ascending */
	char summary[256];		/* one line: the top signal's words */
};

/* "low", "medium", "high", "critical"; NULL for anything else. */
const char *vg_severity_name(enum vg_severity s);
/* The severity named s, or 0 when unknown. */
enum vg_severity vg_severity_from_name(const char *s);
/* "none", "step_up", "suspend"; NULL for anything else. */
const char *vg_contain_name(enum vg_contain c);
/* The containment named s, or VG_CONTAIN_UNKNOWN (-1). */
enum vg_contain vg_contain_from_name(const char *s);

/*
 * Writes a as one line of JSON (no newline) into buf[0..cap): NUL
 * terminated, keys always in the same order and numbers in the same
 * format, so the same alert gives the same bytes (the detector's
 * determinism test compares them).  Field names follow ECS 8:
 * "@timestamp", "event.kind" ("alert"), "event.id", "event.severity"
 * (1-4), "event.risk_score", "event.action", "rule.name", "user.id",
 * "organization.name", "message", and vigil's own under "vigil."
 * (severity name, role, node, signals, audit_seqs, containment), and
 * "ecs.version", which ECS requires in every event.  Text fields are
 * read up to their NUL or their array's end; anything outside printable
 * ASCII is escaped, so the line is ASCII whatever the input.  The exact
 * shape is in docs/API.md ("Alerts").
 * Returns the length, VG_ETOOBIG when cap is too small, or VG_EINVAL
 * for a severity or action outside the enums or nsignals / nseqs above
 * their maximum.
 */
int vg_alert_json(const struct vg_alert *a, char *buf, size_t cap);

/*-----------------------------------------------------------------------------
 * Sinks.  Delivery runs on the sink's own thread, so raising an alert
 * never waits for a disk, a syslog daemon or a web server.
 */

struct vg_alert_sink_opts {
	const char *file;		/* JSON lines, appended, created 0600;
					 * NULL: none */
	const char *syslog;		/* "unix:/dev/log", "udp:HOST:PORT";
					 * NULL: none */
	const char *syslog_app;		/* APP-NAME (default "vigild") */
	const char *webhook;		/* http(s) URL; NULL: none */
	const char *webhook_token;	/* Bearer token sent, or NULL; RFC
					 * 6750 characters, refused over
					 * plain http except to loopback */
	uint32_t webhook_timeout_ms;	/* per attempt (0: 5000) */
	uint32_t webhook_retries;	/* attempts after the first (0: 5) */
	uint32_t retry_base_ms;		/* first back-off (0: 500), doubling,
					 * capped at 60 s */
	size_t queue_max;		/* alerts waiting (0: 10000); beyond
					 * it the oldest undelivered is
					 * dropped and counted */
};

struct vg_alert_sink_stats {
	uint64_t queued, delivered_file, delivered_syslog, delivered_webhook;
	uint64_t webhook_retries, webhook_failures;	/* gave up */
	uint64_t dropped;		/* queue full */
	uint64_t errors_file, errors_syslog;
};

struct vg_alert_sinks;

/* Checks the options (file's directory exists, syslog address parses,
 * webhook URL is http or https, at least one sink) and starts the
 * delivery thread.  The options are copied: o may go after.  Returns 0,
 * VG_EINVAL with err (names the option at fault, never a URL or token),
 * VG_EIO or VG_ENOMEM. */
VG_MUST_CHECK int vg_alert_sinks_open(const struct vg_alert_sink_opts *o,
    struct vg_alert_sinks **out, char *err, size_t errcap);
/* Queues a copy of a (as its JSON) for every sink; never blocks on
 * delivery.  Thread-safe.  Returns 0, VG_ENOMEM, or vg_alert_json's
 * VG_EINVAL or VG_ETOOBIG for an alert it cannot write. */
int vg_alert_sinks_send(struct vg_alert_sinks *s, const struct vg_alert *a);
/* Waits up to timeout_ms for the queue to drain (0: no wait). */
void vg_alert_sinks_flush(struct vg_alert_sinks *s, uint32_t timeout_ms);
void vg_alert_sinks_stats(struct vg_alert_sinks *s,
    struct vg_alert_sink_stats *st);
/* Stops the thread after a flush of at most 2 s; NULL is a no-op. */
void vg_alert_sinks_close(struct vg_alert_sinks *s);

#endif
