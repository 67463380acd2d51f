/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the access policy (lib/policy_parse.c,
 * lib/policy.c, lib/policy_mask.c).  The input is policy text.  When it
 * fails to parse, the message must be a NUL-terminated
 * "fuzz.yaml:LINE:COLUMN: ..." within the buffer, and a too-small buffer
 * must never be overrun.  When it parses, the policy must keep its limits
 * and every decision over every role and action (with and without a
 * case, in and out of shift, contained or not, over quota or not) must
 * keep the documented invariants: a known reason, a step-up cause only
 * with VG_STEP_UP, a window and a retry_after >= 1 with quota_exceeded,
 * a bounded, terminated trace ending in the verdict.  The input is also
 * masked as a value of every type under every style, and every result
 * must be UTF-8 within the buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_policy: %s:%d: check failed: %s\n",\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

static const char *const roles[] = { "agent", "supervisor", "security",
    "admin", "ingest", "ticketing", "exporter", "marketing_ops", "nobody" };

static const char *const reasons[] = { VG_R_OK, VG_R_BREAK_GLASS,
    VG_R_APPROVED, VG_R_ROLE, VG_R_SUSPENDED, VG_R_NO_CASE,
    VG_R_CASE_NOT_FOUND, VG_R_CASE_NOT_ASSIGNED, VG_R_CASE_CLOSED,
    VG_R_CASE_EXPIRED, VG_R_CASE_OTHER, VG_R_PURPOSE, VG_R_FIELD,
    VG_R_QUOTA, VG_R_OFF_SHIFT, VG_R_STEP_UP, VG_R_JUSTIFICATION,
    VG_R_SELF_OPENED, VG_R_CONSUMER, VG_R_TOO_MANY_ROWS };

/* Policies with the other mask styles, made once. */
static struct vg_policy *styles[2];
static struct vg_schema schema;

static void
init(void)
{
	static const char *const text[2] = {
		"version: 1\nroles: {}\nmasks: {name: full, phone: last4, "
		"email: full, account_id: full, address: full, region: full, "
		"text: full}\n",
		"version: 1\nroles: {}\nmasks: {name: default, phone: default, "
		"email: default, account_id: default, address: default, "
		"region: default}\n",
	};
	char err[VG_POLICY_ERR_MAX];
	int i;

	vg_schema_default(&schema);
	for (i = 0; i < 2; i++)
		CHECK(vg_policy_parse(text[i], strlen(text[i]), "init", &schema,
		    &styles[i], err, sizeof(err)) == 0);
}

static void
check_decision(const struct vg_decision *d)
{
	size_t i;
	int known = 0;

	CHECK(d->verdict == VG_ALLOW || d->verdict == VG_DENY ||
	    d->verdict == VG_STEP_UP);
	CHECK(d->reason != NULL);
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		known |= strcmp(d->reason, reasons[i]) == 0;
	CHECK(known);
	CHECK((d->verdict == VG_STEP_UP) == (d->step_up_why != NULL));
	CHECK((d->verdict == VG_STEP_UP) == (strcmp(d->reason,
	    VG_R_STEP_UP) == 0));
	if (d->verdict == VG_ALLOW)
		CHECK(strcmp(d->reason, VG_R_OK) == 0 ||
		    strcmp(d->reason, VG_R_APPROVED) == 0 ||
		    strcmp(d->reason, VG_R_BREAK_GLASS) == 0);
	if (d->verdict == VG_ALLOW)
		CHECK(d->break_glass == (strcmp(d->reason,
		    VG_R_BREAK_GLASS) == 0));
	/* Only an allowed export gives fields in clear. */
	if (d->clear != 0)
		CHECK(d->verdict == VG_ALLOW);
	if (strcmp(d->reason, VG_R_QUOTA) == 0) {
		CHECK(d->quota_kind != NULL);
		CHECK(d->quota_window >= -1 && d->quota_window < VG_QW_COUNT);
		if (d->quota_window >= 0)
			CHECK(d->retry_after >= 1);
	} else
		CHECK(d->quota_window == -1);
	CHECK(d->nsteps >= 1 && d->nsteps <= VG_POLICY_STEPS_MAX);
	for (i = 0; i < d->nsteps; i++) {
		CHECK(strnlen(d->step[i].text, VG_POLICY_STEP_MAX) <
		    VG_POLICY_STEP_MAX);
		CHECK(vg_utf8_valid(d->step[i].text, strlen(d->step[i].text)));
		CHECK(d->step[i].line >= 0);
	}
	CHECK(strncmp(d->step[d->nsteps - 1].text, "verdict: ", 9) == 0);
}

/* Every role and action under a spread of facts drawn from seed. */
static void
decide_all(const struct vg_policy *p, uint32_t seed)
{
	static const char *const purposes[] = { "support", "fraud",
	    "delivery", "investigation", NULL, "marketing" };
	static const char *const consumers[] = { "dm-vendor", "courier",
	    "courier.sf-2", "nobody", NULL, "Bad Name" };
	struct vg_principal who;
	struct vg_quota_usage u;
	struct vg_policy_input in;
	struct vg_decision d;
	size_t r;
	int a, v, w;

	for (r = 0; r < sizeof(roles) / sizeof(roles[0]); r++) {
		for (a = 0; a < VG_ACT_COUNT; a++) {
			for (v = 0; v < 4; v++) {
				uint32_t s = seed * 2654435761u +
				    (uint32_t)(r * 131 + (size_t)a * 17 +
				    (size_t)v);

				memset(&who, 0, sizeof(who));
				snprintf(who.id, sizeof(who.id), "p%zu", r);
				snprintf(who.role, sizeof(who.role), "%s",
				    roles[r]);
				snprintf(who.state, sizeof(who.state), "%s",
				    (s & 1) && v == 3 ? "suspended" : "active");
				memset(&u, 0, sizeof(u));
				for (w = 0; w < VG_QW_COUNT; w++) {
					u.reveals[w] = (s >> (w + 1)) & 1 ?
					    (s >> 8) % 1000 : 0;
					u.customers[w] = (s >> 12) % 400;
					u.seen[w] = (s >> (w + 3)) & 1;
					u.break_glass[w] = (s >> 16) % 12;
					u.cases[w] = (s >> 20) % 4;
					u.reveal_expiry[w] = (s & 4) ?
					    1000 + (int64_t)w * 30 : 0;
					u.break_glass_expiry[w] = 990;
				}
				u.saturated = (s % 97) == 0;
				memset(&in, 0, sizeof(in));
				in.who = &who;
				in.action = (enum vg_action)a;
				in.fields = (s >> 3) & 0x3f;
				in.purpose = purposes[(s >> 9) % 6];
				in.consumer = consumers[(s >> 23) % 6];
				in.rows = (s >> 26) % 3 == 0 ? 1000001 :
				    (uint64_t)(s >> 8) % 200000;
				in.kase.given = (s >> 4) & 1;
				in.kase.found = (s >> 5) % 8 != 0;
				in.kase.open = (s >> 6) % 8 != 0;
				in.kase.expired = (s >> 7) % 8 == 0;
				in.kase.assigned_to_caller = (s >> 10) % 8 != 0;
				in.kase.same_customer = (s >> 11) % 8 != 0;
				in.kase.self_opened = (s >> 13) & 1;
				in.justification_len = (s >> 14) % 40;
				in.approved = (s >> 15) & 1;
				in.shift = (int)((s >> 17) % 3) - 1;
				in.containment = (int)((s >> 19) % 3);
				in.usage = (s >> 22) % 16 == 0 ? NULL : &u;
				in.now = 1000;
				vg_policy_decide(p, &in, &d);
				check_decision(&d);
				if (a == VG_ACT_EXPORT && d.verdict ==
				    VG_ALLOW) {
					CHECK(in.rows <= d.max_rows);
					CHECK((d.clear & ~in.fields) == 0);
				}
			}
		}
	}
}

static void
mask_all(const struct vg_policy *p, const char *v, size_t len)
{
	char out[VG_NORM_MAX + 1];
	int t, rc;

	for (t = VG_FT_NAME; t <= VG_FT_TEXT; t++) {
		memset(out, 'Z', sizeof(out));
		rc = vg_policy_mask(p, (enum vg_ftype)t, v, len, out,
		    sizeof(out));
		CHECK(rc == 0 || rc == VG_ETOOBIG);
		if (rc == 0) {
			CHECK(strnlen(out, sizeof(out)) < sizeof(out));
			CHECK(vg_utf8_valid(out, strlen(out)));
		}
		/* A small buffer is never overrun. */
		memset(out, 'Z', 16);
		rc = vg_policy_mask(p, (enum vg_ftype)t, v, len, out, 8);
		CHECK(rc == 0 || (rc == VG_ETOOBIG && out[0] == '\0'));
		CHECK(out[8] == 'Z');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct vg_policy *p = NULL;
	char err[VG_POLICY_ERR_MAX], tiny[16];
	const char *txt = (const char *)data, *q;
	size_t elen, mlen;
	uint32_t seed = 0;
	int rc, i;

	if (!ready) {
		init();
		ready = 1;
	}
	memset(err, 'Z', sizeof(err));
	rc = vg_policy_parse(txt, size, "fuzz.yaml", &schema, &p, err,
	    sizeof(err));
	if (rc != 0) {
		CHECK(p == NULL);
		CHECK(rc == VG_EINVAL || rc == VG_ENOMEM);
		elen = strnlen(err, sizeof(err));
		CHECK(elen < sizeof(err));
		CHECK(strncmp(err, "fuzz.yaml:", 10) == 0);
		if (rc == VG_EINVAL) {
			/* fuzz.yaml:LINE:COLUMN: with both >= 1 */
			q = err + 10;
			CHECK(*q >= '1' && *q <= '9');
			while (*q >= '0' && *q <= '9')
				q++;
			CHECK(*q++ == ':');
			CHECK(*q >= '1' && *q <= '9');
			while (*q >= '0' && *q <= '9')
				q++;
			CHECK(q[0] == ':' && q[1] == ' ');
		}
		memset(tiny, 'Z', sizeof(tiny));
		CHECK(vg_policy_parse(txt, size, "fuzz.yaml", &schema, &p,
		    tiny, 8) == rc);
		CHECK(strnlen(tiny, 8) == 7);
		CHECK(memcmp(tiny, err, 7) == 0);
		CHECK(tiny[8] == 'Z');
	} else {
		CHECK(p != NULL);
		CHECK(size <= VG_POLICY_FILE_MAX);
		CHECK(vg_policy_nroles(p) <= 8);	/* the principal roles */
		CHECK(vg_policy_nconsumers(p) <= VG_POLICY_CONSUMERS_MAX);
		CHECK(strlen(vg_policy_digest(p)) == 16);
		CHECK(vg_policy_approval_ttl(p) >= 1);
		CHECK(vg_policy_case_ttl(p) >= 0);
		for (i = 0; i < 4 && (size_t)i < size; i++)
			seed = seed << 8 | data[i];
		decide_all(p, seed);
	}

	/* The input as a value to mask, under every style. */
	mlen = size < VG_NORM_MAX ? size : VG_NORM_MAX;
	mask_all(NULL, txt, mlen);
	mask_all(styles[0], txt, mlen);
	mask_all(styles[1], txt, mlen);
	if (p != NULL)
		mask_all(p, txt, mlen);
	vg_policy_free(p);
	return 0;
}
