/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigild's configuration file: YAML, two levels at most, every key known
 * (a typo is an error, not a silent default).  Example in
 * docs/OPERATIONS.md:
 *
 *     listen: 127.0.0.1:8750
 *     threads: 2
 *     policy: /etc/vigil/policy.yaml
 *     node: vigild
 *     tls: { cert: /etc/vigil/cert.pem, key: /etc/vigil/key.pem }
 *     limits:
 *       body_bytes: 65536
 *       trace_bytes: 1048576      # POST /v1/leaks/trace's file
 *                                 # (default: body_bytes)
 *       header_bytes: 8192
 *       connections: 4096
 *       request_timeout: 10s
 *     audit: { batch_us: 200, checkpoint_ms: 1000, witness_dirs: /w1 }
 *     log: { file: -, requests: true }
 *     metrics: { public: true }
 *     alerts:
 *       file: /var/log/vigil/alerts.jsonl
 *       syslog: unix:/dev/log
 *       webhook: https://siem.example/vigil
 *       webhook_token_file: /etc/vigil/webhook.token
 *     detect: { medium: step_up, high: suspend, critical: suspend }
 *
 * `sim: { clock: true }` is for simulations only (vigil demo): requests
 * then set the server's clock with an X-Vigil-Sim-Time header, so a
 * simulated week passes in seconds with the times the world meant.
 * vigild refuses it on anything but a loopback address.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "vigild.h"

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
	c->listen_port = 8750;
	c->threads = 0;			/* one per CPU */
	snprintf(c->node, sizeof(c->node), "vigild");
	c->log_requests = true;
	c->body_max = 64 * 1024;
	c->trace_max = 0;		/* 0: limits.body_bytes (vigild.h) */
	c->header_max = 8192;
	c->conn_max = 4096;
	c->request_timeout_ms = 10000;
	c->shutdown_timeout_ms = 10000;
	c->metrics_public = true;
	c->contain[0] = VG_CONTAIN_STEP_UP;	/* medium */
	c->contain[1] = VG_CONTAIN_SUSPEND;	/* high */
	c->contain[2] = VG_CONTAIN_SUSPEND;	/* critical */
}

/* Parses "HOST:PORT" or ":PORT" or "PORT". */
int
config_listen(struct config *c, const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;
	size_t hl;

	port = strtoul(colon != NULL ? colon + 1 : s, &end, 10);
	if (*end != '\0' || end == (colon != NULL ? colon + 1 : s) ||
	    port > 65535)
		return -1;
	hl = colon != NULL ? (size_t)(colon - s) : 0;
	if (hl >= sizeof(c->listen_host))
		return -1;
	if (hl > 0) {
		memcpy(c->listen_host, s, hl);
		c->listen_host[hl] = '\0';
	}
	c->listen_port = (unsigned)port;
	return 0;
}

/* "10s", "250ms", "2m", or a bare number of milliseconds. */
static int
duration_ms(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	if (*end == '\0' || strcmp(end, "ms") == 0)
		*out = v;
	else if (strcmp(end, "s") == 0)
		*out = v * 1000;
	else if (strcmp(end, "m") == 0)
		*out = v * 60000;
	else
		return -1;
	return v > 86400000ULL ? -1 : 0;
}

static int
number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || *out > max ? -1 : 0;
}

static int
boolean(const char *s, bool *out)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

static int
copy_path(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= cap)
		return -1;
	memcpy(dst, s, n + 1);
	return 0;
}

/* Applies key (e.g. "limits.body_bytes") = val.  Returns 0, -1 for a
 * bad value, -2 for an unknown key. */
static int
apply(struct config *c, const char *key, const char *val)
{
	unsigned long long n;

	if (strcmp(key, "listen") == 0)
		return config_listen(c, val);
	if (strcmp(key, "threads") == 0) {
		if (number(val, WORKERS_MAX, &n) != 0)
			return -1;
		c->threads = (int)n;
		return 0;
	}
	if (strcmp(key, "policy") == 0)
		return copy_path(c->policy, sizeof(c->policy), val);
	if (strcmp(key, "node") == 0)
		return copy_path(c->node, sizeof(c->node), val);
	if (strcmp(key, "tls.cert") == 0)
		return copy_path(c->tls_cert, sizeof(c->tls_cert), val);
	if (strcmp(key, "tls.key") == 0)
		return copy_path(c->tls_key, sizeof(c->tls_key), val);
	if (strcmp(key, "log.file") == 0)
		return copy_path(c->log_file, sizeof(c->log_file), val);
	if (strcmp(key, "log.requests") == 0)
		return boolean(val, &c->log_requests);
	if (strcmp(key, "metrics.public") == 0)
		return boolean(val, &c->metrics_public);
	if (strcmp(key, "limits.body_bytes") == 0) {
		if (number(val, 16 * 1024 * 1024, &n) != 0 || n < 1024)
			return -1;
		c->body_max = (size_t)n;
		return 0;
	}
	if (strcmp(key, "limits.trace_bytes") == 0) {
		if (number(val, 256 * 1024 * 1024, &n) != 0 || n < 1024)
			return -1;
		c->trace_max = (size_t)n;
		return 0;
	}
	if (strcmp(key, "limits.header_bytes") == 0) {
		if (number(val, 65536, &n) != 0 || n < 512)
			return -1;
		c->header_max = (size_t)n;
		return 0;
	}
	if (strcmp(key, "limits.connections") == 0) {
		if (number(val, 1000000, &n) != 0 || n < 1)
			return -1;
		c->conn_max = (long)n;
		return 0;
	}
	if (strcmp(key, "limits.request_timeout") == 0)
		return duration_ms(val, &c->request_timeout_ms) != 0 ||
		    c->request_timeout_ms < 100 ? -1 : 0;
	if (strcmp(key, "limits.shutdown_timeout") == 0)
		return duration_ms(val, &c->shutdown_timeout_ms);
	if (strcmp(key, "audit.batch_us") == 0) {
		if (number(val, 100000, &n) != 0)
			return -1;
		c->audit_batch_us = (uint32_t)n;
		return 0;
	}
	if (strcmp(key, "audit.checkpoint_ms") == 0) {
		if (number(val, 3600000, &n) != 0)
			return -1;
		c->checkpoint_ms = (uint32_t)n;
		return 0;
	}
	if (strcmp(key, "audit.witness_dirs") == 0)
		return copy_path(c->witness_dirs, sizeof(c->witness_dirs), val);
	if (strcmp(key, "sim.clock") == 0)
		return boolean(val, &c->sim_clock);
	if (strcmp(key, "alerts.file") == 0)
		return copy_path(c->alerts_file, sizeof(c->alerts_file), val);
	if (strcmp(key, "alerts.syslog") == 0)
		return copy_path(c->alerts_syslog, sizeof(c->alerts_syslog),
		    val);
	if (strcmp(key, "alerts.webhook") == 0)
		return copy_path(c->alerts_webhook, sizeof(c->alerts_webhook),
		    val);
	if (strcmp(key, "alerts.webhook_token_file") == 0)
		return copy_path(c->alerts_token_file,
		    sizeof(c->alerts_token_file), val);
	if (strcmp(key, "detect.medium") == 0 ||
	    strcmp(key, "detect.high") == 0 ||
	    strcmp(key, "detect.critical") == 0) {
		int lv = (int)vg_contain_from_name(val);

		if (lv < 0)
			return -1;
		c->contain[key[7] == 'm' ? 0 : key[7] == 'h' ? 1 : 2] = lv;
		return 0;
	}
	return -2;
}

int
config_load(struct config *c, const char *path, char *err, size_t cap)
{
	yaml_parser_t p;
	yaml_event_t ev;
	FILE *fp;
	char section[64] = "", key[64] = "", full[160];
	int depth = 0, have_key = 0, rc = -1, done = 0;

	if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(err, cap, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&p)) {
		fclose(fp);
		snprintf(err, cap, "%s: out of memory", path);
		return -1;
	}
	yaml_parser_set_input_file(&p, fp);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(err, cap, "%s:%zu:%zu: %s", path,
			    p.problem_mark.line + 1, p.problem_mark.column + 1,
			    p.problem != NULL ? p.problem : "malformed YAML");
			goto out;
		}
		size_t line = ev.start_mark.line + 1;
		size_t col = ev.start_mark.column + 1;

		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_MAPPING_START_EVENT:
			if (depth == 1 && have_key) {
				snprintf(section, sizeof(section), "%s", key);
				have_key = 0;
			} else if (depth != 0) {
				snprintf(err, cap, "%s:%zu:%zu: nested too "
				    "deep", path, line, col);
				yaml_event_delete(&ev);
				goto out;
			}
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
			depth--;
			section[0] = '\0';
			break;
		case YAML_SCALAR_EVENT:
			if (depth == 0) {
				snprintf(err, cap, "%s:%zu:%zu: the file must "
				    "be a mapping of settings", path, line, col);
				yaml_event_delete(&ev);
				goto out;
			}
			if (!have_key) {
				snprintf(key, sizeof(key), "%s",
				    (const char *)ev.data.scalar.value);
				have_key = 1;
				break;
			}
			snprintf(full, sizeof(full), "%s%s%s", section,
			    section[0] != '\0' ? "." : "", key);
			have_key = 0;
			switch (apply(c, full,
			    (const char *)ev.data.scalar.value)) {
			case 0:
				break;
			case -2:
				snprintf(err, cap, "%s:%zu:%zu: unknown "
				    "setting \"%s\"", path, line, col, full);
				yaml_event_delete(&ev);
				goto out;
			default:
				snprintf(err, cap, "%s:%zu:%zu: bad value for "
				    "\"%s\"", path, line, col, full);
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_ALIAS_EVENT:
			snprintf(err, cap, "%s:%zu:%zu: lists and aliases are "
			    "not settings", path, line, col);
			yaml_event_delete(&ev);
			goto out;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	rc = 0;
out:
	yaml_parser_delete(&p);
	fclose(fp);
	return rc;
}
