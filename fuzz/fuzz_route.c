/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for vigild's router (src/vigild/route.c).  The input
 * is "METHOD PATH": the first space splits it.  Checks: a match names a
 * route of the table whose method is the one sent; a matched {id} is a
 * NUL-terminated string within ROUTE_PARAM_MAX bytes that occurs in the
 * path; the query pointer, when set, lies inside the input after a '?';
 * a path that only matched by path carries the Allow method.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alertdb.h"
#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_route: %s:%d: check failed: %s\n",\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* True when needle occurs in hay[0..n). */
static int
occurs(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *sp;
	struct route_match m;
	size_t mlen;
	int r;

	sp = memchr(in, ' ', size);
	mlen = sp != NULL ? (size_t)(sp - in) : size;
	r = route_match(in, mlen, sp != NULL ? sp + 1 : in + size,
	    sp != NULL ? size - mlen - 1 : 0, &m);
	if (!r) {
		CHECK(m.def == NULL);
		return 0;
	}
	if (m.method_ok) {
		CHECK(m.def != NULL);
		CHECK(strlen(m.def->method) == mlen &&
		    memcmp(m.def->method, in, mlen) == 0);
		CHECK(strlen(m.param) <= ROUTE_PARAM_MAX);
		if (m.param[0] != '\0')
			CHECK(occurs(in, size, m.param));
		CHECK(route_by_id(m.def->id) == m.def);
	} else {
		CHECK(m.def == NULL && m.allow[0] != '\0');
	}
	if (m.query != NULL) {
		struct alert_filter f;
		const char *bad = NULL;

		CHECK(m.query > in && m.query <= in + size);
		CHECK(m.query[-1] == '?');
		CHECK(m.query + m.query_len == in + size);
		/* Any query through the alerts list's parser: a refusal
		 * names a key; an acceptance is within its limits. */
		if (route_alert_query(m.query, m.query_len, &f, &bad) != 0) {
			CHECK(bad != NULL && bad[0] != '\0');
		} else {
			CHECK(f.limit >= 1 && f.limit <= ROUTE_ALERTS_LIMIT_MAX);
			CHECK(f.min_severity >= 0 && f.min_severity <= 4);
			CHECK(f.before_ns >= 0);
			CHECK(f.before_id[0] == '\0' ||
			    vg_alert_id_ok(f.before_id));
			CHECK(memchr(f.principal, '\0', sizeof(f.principal)));
			CHECK(f.state[0] == '\0' || strcmp(f.state, "open") == 0 ||
			    strcmp(f.state, "acked") == 0);
		}
	}
	return 0;
}
