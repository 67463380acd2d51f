/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request routing: method and path to one of vigild's routes, with the
 * path parameter (a customer, case, approval or principal id) checked for
 * form (or an export id).  Pure and allocation-free, so that it can be fuzzed on its own
 * (fuzz/fuzz_route.c) and listed for the OpenAPI consistency test
 * (`vigild --routes`).
 */
#ifndef VIGILD_ROUTE_H
#define VIGILD_ROUTE_H

#include <stddef.h>

enum route_id {
	R_NONE = 0,
	R_HEALTHZ,
	R_METRICS,
	R_OPENAPI,
	R_CUSTOMER_CREATE,
	R_CUSTOMER_GET,
	R_CUSTOMER_REVEAL,
	R_LOOKUP,
	R_CASE_OPEN,
	R_CASE_GET,
	R_CASE_ASSIGN,
	R_CASE_CLOSE,
	R_APPROVAL_GET,
	R_APPROVAL_APPROVE,
	R_APPROVAL_REJECT,
	R_PRINCIPAL_GET,
	R_PRINCIPAL_SUSPEND,
	R_PRINCIPAL_REINSTATE,
	R_AUDIT_CHECKPOINT,
	R_AUDIT_PROOF,
	R_ALERT_LIST,
	R_ALERT_GET,
	R_ALERT_ACK,
	R_EXPORT_CREATE,
	R_EXPORT_GET,
	R_LEAK_TRACE,
	R__COUNT
};

enum route_param {
	P_NONE = 0, P_CUSTOMER, P_CASE, P_APPROVAL, P_PRINCIPAL, P_ALERT,
	P_EXPORT
};

struct route_def {
	enum route_id id;
	const char *method;		/* "GET", "POST" */
	const char *pattern;		/* OpenAPI form: /v1/cases/{id} */
	const char *name;		/* metric label: "case_get" */
	enum route_param param;
	int has_body;			/* takes a JSON body */
};

#define ROUTE_PARAM_MAX 64

struct route_match {
	const struct route_def *def;	/* NULL: no route */
	int method_ok;			/* 0: the path exists, not the method */
	char allow[16];			/* the path's method, for 405 Allow */
	char param[ROUTE_PARAM_MAX + 1];/* the {id}, NUL-terminated */
	int param_ok;			/* the {id} is well formed */
	unsigned char id[16];		/* a customer, case, approval or
					 * export {id} as bytes, when
					 * param_ok */
	const char *query;		/* after '?', or NULL */
	size_t query_len;
};

/* GET /v1/alerts's query: ?principal=ID&state=open|acked&severity=
 * low|medium|high|critical&before=CURSOR&limit=N, every key optional,
 * none twice.  CURSOR is a page's next_before: NS (unix ns: alerts
 * older than it) or NS.al_... (below that alert, in list order).
 * Defaults: no filter, limit ROUTE_ALERTS_LIMIT. */
#define ROUTE_ALERTS_LIMIT 100
#define ROUTE_ALERTS_LIMIT_MAX 1000
struct alert_filter {
	char principal[ROUTE_PARAM_MAX + 1];	/* "" any */
	char state[8];				/* "" any */
	int min_severity;			/* 0 any */
	long long before_ns;			/* 0 none */
	char before_id[24];			/* "" none */
	size_t limit;
};
/* Parses q[0..len) into *f.  Returns 0, or -1 with *bad naming the key
 * at fault ("query" for the query's shape or an unknown key). */
int route_alert_query(const char *q, size_t len, struct alert_filter *f,
    const char **bad);

/* The route table, R__COUNT - 1 entries in order. */
const struct route_def *route_table(size_t *n);
const struct route_def *route_by_id(enum route_id id);

/* Matches method[0..mlen) and path[0..plen) (query string included).
 * Returns 1 when a route's path matched (see method_ok), 0 for no route
 * (404).  Paths are matched as sent: no decoding, no dot segments, no
 * trailing slash, no empty segments. */
int route_match(const char *method, size_t mlen, const char *path,
    size_t plen, struct route_match *m);

#endif
