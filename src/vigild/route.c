/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The route table and matcher (route.h).  Two dozen routes do not need a
 * trie: a request is matched segment by segment against each pattern,
 * which costs well under a microsecond and is easy to read.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alertdb.h"
#include "vigil/crypto.h"
#include "vigil/export.h"
#include "vigil/principal.h"
#include "route.h"

static const struct route_def table[] = {
	{ R_HEALTHZ, "GET", "/healthz", "healthz", P_NONE, 0 },
	{ R_METRICS, "GET", "/metrics", "metrics", P_NONE, 0 },
	{ R_OPENAPI, "GET", "/v1/openapi.yaml", "openapi", P_NONE, 0 },
	{ R_CUSTOMER_CREATE, "POST", "/v1/customers", "customer_create",
	    P_NONE, 1 },
	{ R_CUSTOMER_GET, "GET", "/v1/customers/{id}", "customer_get",
	    P_CUSTOMER, 0 },
	{ R_CUSTOMER_REVEAL, "POST", "/v1/customers/{id}/reveal",
	    "customer_reveal", P_CUSTOMER, 1 },
	{ R_LOOKUP, "POST", "/v1/lookup", "lookup", P_NONE, 1 },
	{ R_CASE_OPEN, "POST", "/v1/cases", "case_open", P_NONE, 1 },
	{ R_CASE_GET, "GET", "/v1/cases/{id}", "case_get", P_CASE, 0 },
	{ R_CASE_ASSIGN, "POST", "/v1/cases/{id}/assign", "case_assign",
	    P_CASE, 1 },
	{ R_CASE_CLOSE, "POST", "/v1/cases/{id}/close", "case_close",
	    P_CASE, 1 },
	{ R_APPROVAL_GET, "GET", "/v1/approvals/{id}", "approval_get",
	    P_APPROVAL, 0 },
	{ R_APPROVAL_APPROVE, "POST", "/v1/approvals/{id}/approve",
	    "approval_approve", P_APPROVAL, 1 },
	{ R_APPROVAL_REJECT, "POST", "/v1/approvals/{id}/reject",
	    "approval_reject", P_APPROVAL, 1 },
	{ R_PRINCIPAL_GET, "GET", "/v1/principals/{id}", "principal_get",
	    P_PRINCIPAL, 0 },
	{ R_PRINCIPAL_SUSPEND, "POST", "/v1/principals/{id}/suspend",
	    "principal_suspend", P_PRINCIPAL, 1 },
	{ R_PRINCIPAL_REINSTATE, "POST", "/v1/principals/{id}/reinstate",
	    "principal_reinstate", P_PRINCIPAL, 1 },
	{ R_AUDIT_CHECKPOINT, "GET", "/v1/audit/checkpoint",
	    "audit_checkpoint", P_NONE, 0 },
	{ R_AUDIT_PROOF, "GET", "/v1/audit/proof", "audit_proof", P_NONE, 0 },
	{ R_ALERT_LIST, "GET", "/v1/alerts", "alert_list", P_NONE, 0 },
	{ R_ALERT_GET, "GET", "/v1/alerts/{id}", "alert_get", P_ALERT, 0 },
	{ R_ALERT_ACK, "POST", "/v1/alerts/{id}/ack", "alert_ack", P_ALERT,
	    1 },
	{ R_EXPORT_CREATE, "POST", "/v1/exports", "export_create", P_NONE, 1 },
	{ R_EXPORT_GET, "GET", "/v1/exports/{id}", "export_get", P_EXPORT, 0 },
	/* The body is the leaked file itself, read by the handler. */
	{ R_LEAK_TRACE, "POST", "/v1/leaks/trace", "leak_trace", P_NONE, 0 },
};

const struct route_def *
route_table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

const struct route_def *
route_by_id(enum route_id id)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].id == id)
			return &table[i];
	return NULL;
}

/* Checks the {id} of kind; a token's bytes go to raw. */
static int
param_ok(enum route_param kind, const char *s, unsigned char raw[VG_IDBYTES])
{
	switch (kind) {
	case P_CUSTOMER:
		return vg_id_parse(raw, s) == 0;
	case P_CASE:
		return vg_token_parse(raw, "case_", s) == 0;
	case P_APPROVAL:
		return vg_token_parse(raw, "apr_", s) == 0;
	case P_PRINCIPAL:
		return vg_principal_id_ok(s);
	case P_ALERT:
		return vg_alert_id_ok(s);
	case P_EXPORT:
		return strlen(s) <= VG_EXPORT_ID_MAX &&
		    vg_token_parse(raw, "ex_", s) == 0;
	case P_NONE:
		break;
	}
	return 1;
}

/*
 * Matches path[0..len) against pattern; "{id}" takes one non-empty
 * segment of at most ROUTE_PARAM_MAX bytes, copied to param.
 */
static int
match_path(const char *pattern, const char *path, size_t len, char *param,
    int *too_long)
{
	size_t i = 0;
	const char *p = pattern;

	*too_long = 0;
	while (*p != '\0') {
		if (strncmp(p, "{id}", 4) == 0) {
			size_t start = i;

			while (i < len && path[i] != '/')
				i++;
			if (i == start)
				return 0;
			if (i - start > ROUTE_PARAM_MAX) {
				*too_long = 1;
			} else {
				memcpy(param, path + start, i - start);
				param[i - start] = '\0';
			}
			p += 4;
			continue;
		}
		if (i >= len || path[i] != *p)
			return 0;
		i++;
		p++;
	}
	return i == len;
}

int
route_match(const char *method, size_t mlen, const char *path, size_t plen,
    struct route_match *m)
{
	const char *q;
	size_t n = sizeof(table) / sizeof(table[0]), i, pathlen;
	char param[ROUTE_PARAM_MAX + 1];
	int too_long, found = 0;

	memset(m, 0, sizeof(*m));
	q = memchr(path, '?', plen);
	pathlen = q != NULL ? (size_t)(q - path) : plen;
	if (q != NULL) {
		m->query = q + 1;
		m->query_len = plen - pathlen - 1;
	}
	for (i = 0; i < n; i++) {
		param[0] = '\0';
		if (!match_path(table[i].pattern, path, pathlen, param,
		    &too_long))
			continue;
		if (strlen(table[i].method) != mlen ||
		    memcmp(table[i].method, method, mlen) != 0) {
			/* Remember the path's method for the Allow header
			 * and keep looking: another entry may take it. */
			if (!found) {
				memcpy(m->allow, table[i].method,
				    strlen(table[i].method) + 1);
				found = 1;
			}
			continue;
		}
		m->def = &table[i];
		m->method_ok = 1;
		memcpy(m->param, param, sizeof(param));
		m->param_ok = !too_long && param_ok(table[i].param, param,
		    m->id);
		return 1;
	}
	return found;
}

/* The key=value pairs of a query, no percent-decoding: every value this
 * server takes is an id, a code or a number, none needs it. */
int
route_alert_query(const char *q, size_t len, struct alert_filter *f,
    const char **bad)
{
	const char *end = q + len, *kv;
	unsigned seen = 0;

	memset(f, 0, sizeof(*f));
	f->limit = ROUTE_ALERTS_LIMIT;
	*bad = "query";
	for (kv = q; kv < end; ) {
		const char *amp = memchr(kv, '&', (size_t)(end - kv));
		const char *stop = amp != NULL ? amp : end, *eq;
		char v[ROUTE_PARAM_MAX + 1], *e;
		size_t kl, vl;
		unsigned bit;
		unsigned long long n;

		eq = memchr(kv, '=', (size_t)(stop - kv));
		if (eq == NULL)
			return -1;
		kl = (size_t)(eq - kv);
		vl = (size_t)(stop - eq - 1);
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(kv, s, kl) == 0)
		bit = KEY("principal") ? 1 : KEY("state") ? 2 :
		    KEY("severity") ? 4 : KEY("before") ? 8 :
		    KEY("limit") ? 16 : 0;
#undef KEY
		if (bit == 0)
			return -1;
		*bad = bit == 1 ? "principal" : bit == 2 ? "state" :
		    bit == 4 ? "severity" : bit == 8 ? "before" : "limit";
		if ((seen & bit) != 0 || vl == 0 || vl > ROUTE_PARAM_MAX)
			return -1;
		seen |= bit;
		memcpy(v, eq + 1, vl);
		v[vl] = '\0';
		if (strlen(v) != vl)
			return -1;	/* a NUL inside: never a valid value */
		switch (bit) {
		case 1:
			if (!vg_principal_id_ok(v))
				return -1;
			memcpy(f->principal, v, vl + 1);
			break;
		case 2:
			if (strcmp(v, "open") != 0 && strcmp(v, "acked") != 0)
				return -1;
			memcpy(f->state, v, vl + 1);
			break;
		case 4:
			if ((f->min_severity = (int)vg_severity_from_name(v)) ==
			    0)
				return -1;
			break;
		default:
			if (v[0] < '0' || v[0] > '9')
				return -1;
			errno = 0;
			n = strtoull(v, &e, 10);
			if (bit == 8 && *e == '.') {
				/* NS.al_...: below that alert of that time */
				if (!vg_alert_id_ok(e + 1))
					return -1;
				memcpy(f->before_id, e + 1, strlen(e + 1) + 1);
				*e = '\0';
			}
			if (*e != '\0' || errno != 0 || n > INT64_MAX)
				return -1;
			if (bit == 8) {
				f->before_ns = (long long)n;
			} else {
				if (n < 1 || n > ROUTE_ALERTS_LIMIT_MAX)
					return -1;
				f->limit = (size_t)n;
			}
		}
		kv = amp != NULL ? amp + 1 : end;
	}
	return 0;
}
