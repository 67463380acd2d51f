/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/alertdb.c over a real vault: an alert is stored
 * once (a second put of the same id changes nothing), read back whole,
 * listed newest first with filters (principal, state, severity) and
 * pages, acknowledged once (a second ack and an unknown id are told
 * apart), and ids of the wrong form are refused before the database.
 */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vigil/alertdb.h"
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
mk(struct vg_alert *a, int i, const char *who, enum vg_severity sev)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "al_%016x", (unsigned)(0xa000 + i));
	a->time_ns = 1800000000000000000ll + (int64_t)i * 1000000000ll;
	snprintf(a->principal, sizeof(a->principal), "%s", who);
	snprintf(a->rule, sizeof(a->rule), "peer_outlier");
	a->severity = sev;
}

struct seen {
	char ids[64][VG_ALERT_ID_MAX];
	size_t n;
};

static int
collect(void *ctx, const struct vg_alert_row *r)
{
	struct seen *s = ctx;

	if (s->n < 64)
		memcpy(s->ids[s->n++], r->id, VG_ALERT_ID_MAX);
	return 0;
}

static void
test_alerts(struct vg_vault *v)
{
	static struct vg_alert_row row;
	struct vg_alert a;
	struct vg_alert_query q;
	struct seen s;
	char json[64];
	int i;

	for (i = 0; i < 10; i++) {
		mk(&a, i, i % 2 ? "bob" : "alice", i == 7 ? VG_SEV_CRITICAL :
		    VG_SEV_MEDIUM);
		snprintf(json, sizeof(json), "{\"n\":%d}", i);
		if (vg_alert_put(v, &a, json) != 0)
			break;
	}
	is_int(i, 10, "ten alerts stored");
	mk(&a, 3, "mallory", VG_SEV_HIGH);
	is_int(vg_alert_put(v, &a, "{\"other\":1}"), VG_EEXIST, "the same id "
	    "again: VG_EEXIST");
	is_int(vg_alert_get(v, a.id, &row), 0, "read back");
	is_str(row.principal, "bob", "the first copy stays (principal)");
	is_str(row.json, "{\"n\":3}", "and its JSON");
	is_str(row.state, "open", "state open");
	ok(row.time_ns == 1800000003000000000ll && row.severity == 2 &&
	    strcmp(row.rule, "peer_outlier") == 0, "time, severity, rule");
	is_int(vg_alert_get(v, "al_00000000000000ff", &row), VG_ENOTFOUND,
	    "an unknown id: VG_ENOTFOUND");
	is_int(vg_alert_get(v, "al_' OR 1=1 --", &row), VG_ENOTFOUND,
	    "a malformed id never reaches the database");
	mk(&a, 20, "bob", VG_SEV_LOW);
	snprintf(a.id, sizeof(a.id), "al_XYZ");
	is_int(vg_alert_put(v, &a, "{}"), VG_EINVAL, "put of a malformed "
	    "id: VG_EINVAL");

	memset(&q, 0, sizeof(q));
	memset(&s, 0, sizeof(s));
	is_int(vg_alert_list(v, &q, collect, &s), 0, "list all");
	ok(s.n == 10 && strcmp(s.ids[0], "al_000000000000a009") == 0 &&
	    strcmp(s.ids[9], "al_000000000000a000") == 0, "ten, newest first");
	q.principal = "alice";
	memset(&s, 0, sizeof(s));
	is_int(vg_alert_list(v, &q, collect, &s), 0, "listed");
	is_int(s.n, 5, "alice's five");
	q.principal = NULL;
	q.min_severity = VG_SEV_HIGH;
	memset(&s, 0, sizeof(s));
	is_int(vg_alert_list(v, &q, collect, &s), 0, "listed");
	ok(s.n == 1 && strcmp(s.ids[0], "al_000000000000a007") == 0,
	    "severity high and above: the critical one");
	q.min_severity = 0;
	q.limit = 3;
	memset(&s, 0, sizeof(s));
	is_int(vg_alert_list(v, &q, collect, &s), 0, "listed");
	is_int(s.n, 3, "a page of three");
	q.before_ns = 1800000007000000000ll;
	memset(&s, 0, sizeof(s));
	is_int(vg_alert_list(v, &q, collect, &s), 0, "listed");
	ok(s.n == 3 && strcmp(s.ids[0], "al_000000000000a006") == 0,
	    "the next page starts before the last time seen");

	/* Three alerts of one time (an org's members, raised together):
	 * a page of one at a time walks through all three. */
	for (i = 0; i < 3; i++) {
		mk(&a, 30 + i, "carol", VG_SEV_MEDIUM);
		a.time_ns = 1700000000000000000ll;
		is_int(vg_alert_put(v, &a, "{}"), 0, "same-time alert %d", i);
	}
	memset(&q, 0, sizeof(q));
	q.principal = "carol";
	q.limit = 1;
	memset(&s, 0, sizeof(s));
	for (i = 0; i < 4; i++) {
		size_t before = s.n;

		is_int(vg_alert_list(v, &q, collect, &s), 0, "page %d", i);
		if (s.n == before)
			break;
		q.before_ns = 1700000000000000000ll;
		q.before_id = s.ids[s.n - 1];
	}
	ok(s.n == 3 && strcmp(s.ids[0], "al_000000000000a020") == 0 &&
	    strcmp(s.ids[1], "al_000000000000a01f") == 0 &&
	    strcmp(s.ids[2], "al_000000000000a01e") == 0, "pages of one "
	    "give the three alerts of one time, none skipped (%zu)", s.n);

	is_int(vg_alert_ack(v, "al_000000000000a006", "sec1", 1800000100), 0,
	    "ack");
	is_int(vg_alert_ack(v, "al_000000000000a006", "sec2", 1800000200),
	    VG_EEXIST, "a second ack: VG_EEXIST");
	is_int(vg_alert_get(v, "al_000000000000a006", &row), 0, "read");
	ok(strcmp(row.state, "acked") == 0 && strcmp(row.acked_by, "sec1") ==
	    0 && row.acked_at == 1800000100, "acked by the first, at its "
	    "time");
	is_int(vg_alert_ack(v, "al_00000000000000ff", "sec1", 1), VG_ENOTFOUND,
	    "ack of an unknown id: VG_ENOTFOUND");
	is_int(vg_alert_ack(v, "al_000000000000a005", "", 1), VG_EINVAL,
	    "ack without a name: VG_EINVAL");
	memset(&q, 0, sizeof(q));
	q.state = "open";
	memset(&s, 0, sizeof(s));
	is_int(vg_alert_list(v, &q, collect, &s), 0, "listed");
	is_int(s.n, 12, "twelve still open (nine and carol's three)");
}

int
main(void)
{
	char root[PATH_MAX], dir[PATH_MAX + 8], err[256];
	struct vg_vault *v = NULL;

	snprintf(root, sizeof(root), "/tmp/vigil-t-alertdb.XXXXXX");
	if (mkdtemp(root) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s/v", root);
	unsetenv(VG_MASTER_ENV);
	is_int(vg_vault_create(dir, NULL, err, sizeof(err)), 0, "create");
	is_int(vg_vault_open(dir, &v, err, sizeof(err)), 0, "open");
	if (v != NULL)
		test_alerts(v);
	vg_vault_close(v);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
