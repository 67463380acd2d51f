/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/cases.c: opening, reading, reassigning and closing
 * cases (a closed case stays closed), the facts the policy sees, and
 * step-up approvals (decided once, never by the requester, used once and
 * only for the request they cover, not after expiry), including two
 * vault handles racing to use one approval.
 */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vigil/cases.h"
#include "vigil/policy.h"
#include "vigil/vault.h"

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
test_cases(struct vg_vault *v)
{
	unsigned char cus[VG_IDBYTES], other[VG_IDBYTES];
	struct vg_case c, got;
	struct vg_case_facts f;
	const char *why = NULL;

	memset(cus, 7, sizeof(cus));
	memset(other, 8, sizeof(other));
	is_int(vg_case_open(v, cus, "alice", "phone", "ticketing", false,
	    1000, 3600, &c, &why), 0, "open a case");
	ok(strncmp(c.id, "case_", 5) == 0 && strlen(c.id) == 31,
	    "case id is case_ + 26 characters (%s)", c.id);
	is_int(c.expires, 4600, "expiry is now + ttl");
	is_int(vg_case_get(v, c.id, &got), 0, "read it back");
	is_str(got.assignee, "alice", "assignee stored");
	is_str(got.opened_by, "ticketing", "opener stored");
	is_str(got.channel, "phone", "channel stored");
	is_str(got.state, "open", "state open");
	ok(memcmp(got.customer, cus, VG_IDBYTES) == 0, "customer stored");
	ok(!got.self_opened, "not self-opened");

	is_int(vg_case_open(v, cus, "alice", "fax", "ticketing", false, 1000,
	    0, &c, &why), VG_EINVAL, "unknown channel refused");
	ok(why != NULL && strstr(why, "channel") != NULL, "why names it");
	is_int(vg_case_open(v, cus, "Bad Id", "chat", "ticketing", false,
	    1000, 0, &c, &why), VG_EINVAL, "malformed assignee refused");
	is_int(vg_case_get(v, "case_nope", &got), VG_EINVAL,
	    "malformed case id");
	is_int(vg_case_get(v, "case_aaaaaaaaaaaaaaaaaaaaaaaaaa", &got),
	    VG_ENOTFOUND, "unknown case id");

	is_int(vg_case_open(v, cus, "alice", "chat", "ticketing", false,
	    1000, 3600, &c, NULL), 0, "second case");
	vg_case_facts(&c, true, "alice", cus, 2000, &f);
	ok(f.given && f.found && f.open && !f.expired &&
	    f.assigned_to_caller && f.same_customer, "facts: all good");
	vg_case_facts(&c, true, "bob", cus, 2000, &f);
	ok(!f.assigned_to_caller, "facts: another caller");
	vg_case_facts(&c, true, "alice", other, 2000, &f);
	ok(!f.same_customer, "facts: another customer");
	vg_case_facts(&c, true, "alice", cus, 4600, &f);
	ok(f.expired, "facts: expired at expiry");
	vg_case_facts(NULL, true, "alice", cus, 2000, &f);
	ok(f.given && !f.found, "facts: not found");
	vg_case_facts(NULL, false, "alice", cus, 2000, &f);
	ok(!f.given, "facts: none given");

	is_int(vg_case_assign(v, c.id, "bob", &got), 0, "reassign");
	is_str(got.assignee, "bob", "new assignee");
	is_int(vg_case_close(v, c.id, 3000, &got), 0, "close");
	is_str(got.state, "closed", "closed");
	is_int(got.closed, 3000, "close time");
	is_int(vg_case_close(v, c.id, 3001, &got), VG_EEXIST,
	    "closing twice is refused");
	is_int(got.closed, 3000, "close time unchanged");
	is_int(vg_case_assign(v, c.id, "carol", &got), VG_EEXIST,
	    "a closed case cannot be reassigned");
	is_str(got.assignee, "bob", "assignee unchanged");

	is_int(vg_case_open(v, cus, "dave", "phone", "dave", true, 1000, 0,
	    &c, NULL), 0, "self-opened case");
	is_int(c.expires, 0, "ttl 0: never expires");
	is_int(vg_case_get(v, c.id, &got), 0, "read back");
	ok(got.self_opened, "self-opened mark stored");
}

static void
test_approvals(struct vg_vault *v, struct vg_vault *v2)
{
	unsigned char cus[VG_IDBYTES], other[VG_IDBYTES];
	struct vg_approval a, got;
	const char *why;
	int r1, r2;

	memset(cus, 3, sizeof(cus));
	memset(other, 4, sizeof(other));
	is_int(vg_approval_request(v, "alice", cus, 0x3, "support", "",
	    "off_shift", 1000, 900, &a), 0, "request an approval");
	ok(strncmp(a.id, "apr_", 4) == 0 && strlen(a.id) == 30,
	    "approval id is apr_ + 26 characters");
	is_str(a.state, "pending", "pending");
	is_int(vg_approval_use(v, a.id, "alice", cus, 0x1, "support", "",
	    1001, &why), VG_EEXIST, "a pending approval cannot be used");
	ok(strstr(why, "pending") != NULL, "why: pending");
	is_int(vg_approval_decide(v, a.id, true, "alice", 1002, &got),
	    VG_EINVAL, "nobody approves their own request");
	is_int(vg_approval_decide(v, a.id, true, "sup", 1003, &got), 0,
	    "a supervisor approves");
	is_str(got.state, "approved", "approved");
	is_str(got.decided_by, "sup", "decider recorded");
	is_int(got.decided, 1003, "decision time recorded");
	is_int(vg_approval_decide(v, a.id, false, "sup2", 1004, &got),
	    VG_EEXIST, "decided once");

	is_int(vg_approval_use(v, a.id, "bob", cus, 0x1, "support", "",
	    1005, &why), VG_ENOTFOUND, "another principal cannot use it");
	is_int(vg_approval_use(v, a.id, "alice", other, 0x1, "support", "",
	    1005, &why), VG_EINVAL, "another customer");
	is_int(vg_approval_use(v, a.id, "alice", cus, 0x4, "support", "",
	    1005, &why), VG_EINVAL, "fields not covered");
	ok(strstr(why, "fields") != NULL, "why: fields");
	is_int(vg_approval_use(v, a.id, "alice", cus, 0x1, "fraud", "",
	    1005, &why), VG_EINVAL, "another purpose");
	is_int(vg_approval_use(v, a.id, "alice", cus, 0x1, "support",
	    "case_aaaaaaaaaaaaaaaaaaaaaaaaaa", 1005, &why), VG_EINVAL,
	    "another case");

	/* Two handles race: exactly one use wins. */
	r1 = vg_approval_use(v, a.id, "alice", cus, 0x1, "support", "", 1006,
	    &why);
	r2 = vg_approval_use(v2, a.id, "alice", cus, 0x3, "support", "",
	    1006, &why);
	ok((r1 == 0) != (r2 == 0), "used exactly once (%d, %d)", r1, r2);
	is_int(r2, VG_EEXIST, "the second use is refused");
	ok(strstr(why, "already used") != NULL, "why: already used");

	is_int(vg_approval_request(v, "alice", cus, 0x1, "support", "",
	    "off_shift", 1000, 100, &a), 0, "a short-lived request");
	is_int(vg_approval_decide(v, a.id, true, "sup", 1100, &got),
	    VG_EEXIST, "an expired request cannot be approved");
	is_int(vg_approval_request(v, "alice", cus, 0x1, "support", "",
	    "off_shift", 1000, 100, &a), 0, "another");
	is_int(vg_approval_decide(v, a.id, true, "sup", 1050, &got), 0,
	    "approved in time");
	is_int(vg_approval_use(v, a.id, "alice", cus, 0x1, "support", "",
	    1100, &why), VG_EEXIST, "but not usable after expiry");
	ok(strstr(why, "expired") != NULL, "why: expired");
	is_int(vg_approval_request(v, "alice", cus, 0x1, "support", "",
	    "off_shift", 1000, 100, &a), 0, "and another");
	is_int(vg_approval_decide(v, a.id, false, "sup", 1050, &got), 0,
	    "rejected");
	is_int(vg_approval_use(v, a.id, "alice", cus, 0x1, "support", "",
	    1060, &why), VG_EEXIST, "a rejected approval cannot be used");
	ok(strstr(why, "rejected") != NULL, "why: rejected");
	is_int(vg_approval_request(v, "alice", cus, 0, "support", "",
	    "off_shift", 1000, 100, &a), VG_EINVAL, "no fields: refused");
	is_int(vg_approval_request(v, "alice", cus, 1, "Support!", "",
	    "off_shift", 1000, 100, &a), VG_EINVAL, "bad purpose: refused");
	is_int(vg_approval_get(v, "apr_x", &got), VG_EINVAL,
	    "malformed approval id");
}

/* One principal has at most VG_APPROVALS_PENDING_MAX requests pending;
 * decided and expired ones do not count. */
static void
test_pending_cap(struct vg_vault *v)
{
	unsigned char cus[VG_IDBYTES];
	struct vg_approval a, first, got;
	int i, fails = 0;

	memset(cus, 5, sizeof(cus));
	for (i = 0; i < VG_APPROVALS_PENDING_MAX; i++)
		if (vg_approval_request(v, "flood", cus, 1, "support", "",
		    "off_shift", 5000, 600, i == 0 ? &first : &a) != 0)
			fails++;
	is_int(fails, 0, "%d pending requests are taken",
	    VG_APPROVALS_PENDING_MAX);
	is_int(vg_approval_request(v, "flood", cus, 1, "support", "",
	    "off_shift", 5000, 600, &a), VG_ETOOBIG, "one more is refused");
	is_int(vg_approval_request(v, "other", cus, 1, "support", "",
	    "off_shift", 5000, 600, &a), 0, "another principal is not "
	    "affected");
	is_int(vg_approval_decide(v, first.id, false, "sup", 5001, &got), 0,
	    "one is rejected");
	is_int(vg_approval_request(v, "flood", cus, 1, "support", "",
	    "off_shift", 5002, 600, &a), 0, "a decided one frees a place");
	is_int(vg_approval_request(v, "flood", cus, 1, "support", "",
	    "off_shift", 5600, 600, &a), 0, "expired ones do not count");
}

int
main(void)
{
	char root[PATH_MAX], dir[PATH_MAX + 8], err[256];
	struct vg_vault *v = NULL, *v2 = NULL;

	snprintf(root, sizeof(root), "/tmp/vigil-t-cases.XXXXXX");
	if (mkdtemp(root) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s/v", root);
	unsetenv(VG_MASTER_ENV);
	is_int(vg_vault_create(dir, NULL, err, sizeof(err)), 0, "create");
	is_int(vg_vault_open(dir, &v, err, sizeof(err)), 0, "open");
	is_int(vg_vault_open(dir, &v2, err, sizeof(err)), 0, "open again");
	ok(vg_channel_ok("store") && !vg_channel_ok("") &&
	    !vg_channel_ok(NULL), "channels");
	ok(vg_purpose_ok("support") && vg_purpose_ok("fraud_2") &&
	    !vg_purpose_ok("2fa") && !vg_purpose_ok("") &&
	    !vg_purpose_ok("a234567890123456789012345678901234"),
	    "purposes");
	if (v != NULL && v2 != NULL) {
		test_cases(v);
		test_approvals(v, v2);
		test_pending_cap(v);
	}
	vg_vault_close(v);
	vg_vault_close(v2);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
