/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/export.c over a real vault, a real audit chain and
 * the files the export writes: the canary count rule (values and the
 * probability it promises), the file (header, pseudonyms first, rows and
 * canaries, masked by default, clear only where the consumer may have
 * it, honeytokens never), canaries (plausible, unique against customers
 * and earlier canaries even with the generator forced onto their seeds,
 * pseudonyms that resolve to nothing, canary_find and psn_find hitting
 * canaries only), the manifest (stored, listed, its canary_set recomputed
 * from the database), the audit entries exactly as include/vigil/
 * export.h states them and durable before the first byte is written,
 * region filters, and refusals that change nothing but the log.
 *
 * lib/export.c is included, so its static functions (the seeded canary
 * maker) can be driven directly; the library's copy is then not linked.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "tap.h"
#include "../../lib/export.c"

#define F_NAME		0
#define F_PHONE		1
#define F_EMAIL		2
#define F_ACCOUNT	3
#define F_ADDRESS	4
#define F_REGION	5

#define NCUST		400
#define NHONEY		10
#define CUST_SEED	11

static char root[PATH_MAX];
static char vdir[PATH_MAX + 8];
static struct vg_vault *V;
static struct vg_audit *A;
static struct vg_policy *P;
static struct vg_principal WHO;
static unsigned char (*HONEY)[VG_IDBYTES];
static size_t NH;

static const char policy_text[] =
	"version: 1\n"
	"roles:\n"
	"  marketing_ops:\n"
	"    actions: [export]\n"
	"  agent:\n"
	"    actions: [lookup]\n"
	"consumers:\n"
	"  dm-vendor:\n"
	"    purposes: [marketing]\n"
	"    max_rows: 150\n"
	"  courier:\n"
	"    purposes: [delivery]\n"
	"    clear: [name, phone]\n"
	"    max_rows: 100000\n"
	"  big:\n"
	"    purposes: [marketing]\n"
	"    max_rows: 1000000\n";

/*-----------------------------------------------------------------------------
 * Helpers
 */

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
fill(struct vg_vault *v, uint64_t seed, size_t n)
{
	struct vg_gen *g = vg_gen_new(seed);
	struct vg_batch *b = vg_batch_new(1024);
	struct vg_gen_customer c;
	struct vg_input in;
	struct vg_reject rej;
	size_t i;
	int rc;

	if (g == NULL || b == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	if ((rc = vg_vault_begin(v)) != 0)
		goto out;
	for (i = 0; rc == 0 && i < n; i++) {
		const char *val[6];
		int f;

		vg_gen_next(g, &c);
		val[0] = c.name;
		val[1] = c.phone;
		val[2] = c.email;
		val[3] = c.account_id;
		val[4] = c.address;
		val[5] = c.region;
		memset(&in, 0, sizeof(in));
		for (f = 0; f < 6; f++) {
			in.value[f] = val[f];
			in.len[f] = strlen(val[f]);
		}
		rc = vg_vault_prepare(v, &in, b, &rej);
		if (rc == 0 && vg_batch_full(b)) {
			rc = vg_vault_put_batch(v, b);
			vg_batch_reset(b);
		}
	}
	if (rc == 0)
		rc = vg_vault_put_batch(v, b);
	if (rc == 0)
		rc = vg_vault_commit(v);
	else
		vg_vault_rollback(v);
out:
	vg_batch_free(b);
	vg_gen_free(g);
	return rc;
}

/* What an export wrote, and when the audit stood where. */
struct sink {
	char *buf;
	size_t len, cap;
	int calls;
	uint64_t audit_at_first;	/* entries durable at the first byte */
};

static int
sink_write(void *ctx, const void *b, size_t n)
{
	struct sink *s = ctx;
	struct vg_audit_status st;

	if (s->calls++ == 0) {
		vg_audit_status(A, &st);
		s->audit_at_first = st.size;
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = (s->cap + n + 1) * 2;
		char *nb = realloc(s->buf, cap);

		if (nb == NULL)
			return VG_ENOMEM;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, b, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return 0;
}

static void
sink_free(struct sink *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

/* A parsed CSV: cell[r * ncols + c], row 0 the header. */
struct table {
	size_t nrows, ncols;
	char **cell;
	int bad;
};

struct mem {
	const char *p;
	size_t len, off;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n)
{
	struct mem *m = ctx;

	if (n > m->len - m->off)
		n = m->len - m->off;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static void
table_parse(const struct sink *s, struct table *t)
{
	struct mem m = { s->buf, s->len, 0 };
	struct vg_csv *r = vg_csv_new(mem_read, &m);
	struct vg_csv_row row;
	size_t cap = 0, i;
	int rc;

	memset(t, 0, sizeof(*t));
	if (r == NULL || s->buf == NULL) {
		t->bad = 1;
		vg_csv_free(r);
		return;
	}
	while ((rc = vg_csv_next(r, &row)) == 1) {
		if (t->nrows == 0)
			t->ncols = row.nfields;
		if (row.nfields != t->ncols) {
			t->bad = 1;
			break;
		}
		if ((t->nrows + 1) * t->ncols > cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			while (cap < (t->nrows + 1) * t->ncols)
				cap *= 2;
			t->cell = realloc(t->cell, cap * sizeof(*t->cell));
		}
		for (i = 0; i < row.nfields; i++)
			t->cell[t->nrows * t->ncols + i] = strdup(row.field[i]);
		t->nrows++;
	}
	if (rc < 0)
		t->bad = 1;
	vg_csv_free(r);
}

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	memset(t, 0, sizeof(*t));
}

#define CELL(t, r, c) ((t)->cell[(r) * (t)->ncols + (c)])

static uint64_t
audit_size(void)
{
	struct vg_audit_status st;

	vg_audit_status(A, &st);
	return st.size;
}

/* Runs an export as WHO (or who) into *s. */
static int
run(const struct vg_principal *who, int containment, const char *consumer,
    const char *recipient, const char *purpose, const char *const *fields,
    size_t nfields, const char *region, uint64_t limit, struct sink *s,
    struct vg_export_result *res)
{
	struct vg_export_ctx c;
	struct vg_export_request rq;

	memset(&c, 0, sizeof(c));
	c.vault = V;
	c.vault_dir = vdir;
	c.policy = P;
	c.audit = A;
	c.chain = "test";
	c.who = who != NULL ? who : &WHO;
	c.containment = containment;
	c.now = 1795000000;
	c.request_id = "0123456789abcdef";
	c.client = "unit";
	memset(&rq, 0, sizeof(rq));
	rq.consumer = consumer;
	rq.recipient = recipient;
	rq.purpose = purpose;
	rq.fields = fields;
	rq.nfields = nfields;
	rq.region = region;
	rq.limit = limit;
	memset(s, 0, sizeof(*s));
	return vg_export_make(&c, &rq, sink_write, s, res);
}

/* Reads the entries of chain "test" from seq on; cb gets each. */
static int
entries_from(uint64_t from, void (*cb)(void *ctx,
    const struct vg_audit_record *r), void *ctx)
{
	struct vg_audit_reader *r = NULL;
	struct vg_audit_record *rec = malloc(sizeof(*rec));
	char p[PATH_MAX + 32];
	int rc, n = 0;

	snprintf(p, sizeof(p), "%s/audit/test", vdir);
	if (rec == NULL || vg_audit_reader_open(p, &r) != 0) {
		free(rec);
		return -1;
	}
	while ((rc = vg_audit_reader_next(r, rec)) == 1) {
		if (rec->seq < from)
			continue;
		cb(ctx, rec);
		n++;
	}
	vg_audit_reader_close(r);
	free(rec);
	return rc < 0 ? -1 : n;
}

/* Counts rows of a table of the vault through a connection of ours;
 * arg (may be NULL) is bound to ?1. */
static long long
count_rows_arg(const char *sql, const char *arg)
{
	char p[PATH_MAX + 32];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long n = -1;

	snprintf(p, sizeof(p), "%s/vigil.db", vdir);
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    (arg == NULL || sqlite3_bind_text(st, 1, arg, -1,
	    SQLITE_STATIC) == SQLITE_OK) && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static long long
count_rows(const char *sql)
{
	return count_rows_arg(sql, NULL);
}

/* Resolves a file's pseudonym for consumer: 1 a customer (id filled),
 * 0 no customer (a canary), -1 not a pseudonym of that consumer. */
static int
resolve(const char *consumer, const char *ps, unsigned char id[VG_IDBYTES])
{
	unsigned char psn[VG_PSNBYTES];
	struct vg_record *rec;
	int rc;

	if (vg_psn_parse(psn, ps) != 0 ||
	    vg_vault_resolve(V, consumer, psn, id) != 0)
		return -1;
	rec = vg_record_new();
	rc = vg_vault_get(V, id, 0, VG_VIEW_MASKED, rec);
	vg_record_free(rec);
	return rc == 0 ? 1 : 0;
}

/*-----------------------------------------------------------------------------
 * The canary count
 */

static void
test_count(void)
{
	static const struct { uint64_t rows, k; } want[] = {
		{ 0, 2 }, { 1, 2 }, { 48, 2 }, { 60, 2 }, { 100, 5 },
		{ 200, 11 }, { 500, 30 }, { 1000, 61 }, { 5000, 308 },
		{ 10000, 616 }, { 100000, 6174 }, { 1000000, 61745 },
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t k = vg_export_canary_count(want[i].rows);

		is_int(k, want[i].k, "%llu rows carry %llu canaries",
		    (unsigned long long)want[i].rows,
		    (unsigned long long)want[i].k);
		ok(vg_export_catch(want[i].rows, k, VG_EXPORT_SAMPLE) >=
		    0.95, "  a random 50 of them hold one with p >= 0.95");
		if (k > VG_EXPORT_CANARIES_MIN)
			ok(vg_export_catch(want[i].rows, k - 1,
			    VG_EXPORT_SAMPLE) < 0.95, "  and %llu would not do",
			    (unsigned long long)(k - 1));
	}
	/* The hypergeometric itself: 100 rows, 5 canaries, 50 drawn. */
	ok(fabs(vg_export_catch(100, 5, 50) - 0.963973) < 1e-5,
	    "catch(100, 5, 50) = 1 - C(100,50)/C(105,50) = 0.96397");
	is_int((long long)(vg_export_catch(10, 2, 50) * 1000), 1000,
	    "a file of 12 rows: any 'subset of 50' is all of it");
	ok(vg_export_catch(1000, 0, 50) == 0.0, "no canary: probability 0");
}

/*-----------------------------------------------------------------------------
 * The file
 */

struct audit_check {
	const struct vg_export_result *res;
	const char *clear;
	size_t rows, manifests, other;
	int bad_row, bad_manifest;
	uint64_t manifest_seq;
	unsigned char (*ids)[VG_IDBYTES];	/* the file's customers */
	size_t nids;
	size_t *seen;
};

static void
audit_one(void *ctx, const struct vg_audit_record *r)
{
	struct audit_check *a = ctx;
	const struct vg_export_info *m = &a->res->info;
	char want[VG_AUDIT_STR_MAX + 1];
	size_t i;

	if (strcmp(r->action, "export.row") == 0) {
		struct vg_record *rec = vg_record_new();

		a->rows++;
		for (i = 0; i < a->nids; i++)
			if (r->has_customer &&
			    memcmp(a->ids[i], r->customer, VG_IDBYTES) == 0)
				a->seen[i]++;
		if (rec != NULL && r->has_customer &&
		    vg_vault_get(V, r->customer, 0, VG_VIEW_MASKED, rec) == 0 &&
		    rec->region[0] != '\0')
			snprintf(want, sizeof(want), "export=%s,region=%s",
			    m->id, rec->region);
		else
			snprintf(want, sizeof(want), "export=%s", m->id);
		vg_record_free(rec);
		if (!r->has_customer || strcmp(r->decision, "allow") != 0 ||
		    strcmp(r->principal, WHO.id) != 0 ||
		    strcmp(r->fields, a->clear) != 0 ||
		    strcmp(r->purpose, m->purpose) != 0 ||
		    strcmp(r->detail, want) != 0 ||
		    strcmp(r->request_id, "0123456789abcdef") != 0 ||
		    a->manifests > 0)
			a->bad_row++;
		return;
	}
	if (strcmp(r->action, "export") == 0) {
		a->manifests++;
		snprintf(want, sizeof(want), "export=%s,consumer=%s,recipient="
		    "%s,rows=%llu,canaries=%llu,canary_set=%s", m->id,
		    m->consumer, m->recipient, (unsigned long long)m->rows,
		    (unsigned long long)m->canaries, m->canary_set);
		if (r->has_customer || strcmp(r->decision, "allow") != 0 ||
		    strcmp(r->detail, want) != 0 ||
		    strcmp(r->principal, WHO.id) != 0)
			a->bad_manifest++;
		a->manifest_seq = r->seq;
		return;
	}
	a->other++;
}

static void
test_pseudonymised(void)
{
	static const char *const fields[] = { "name", "phone", "email",
	    "region" };
	struct vg_export_result res;
	struct audit_check ac;
	struct table t;
	struct sink s;
	struct vg_record *rec = vg_record_new();
	unsigned char id[VG_IDBYTES], psn[VG_PSNBYTES];
	char found[VG_EXPORT_ID_MAX + 1], masked[VG_NORM_MAX + 1];
	uint64_t before = audit_size(), k = vg_export_canary_count(100);
	size_t r, ncus = 0, ncan = 0, nhoney = 0, masked_ok = 0, psn_hits = 0,
	    psn_misses = 0, lens_ok = 0, i, once = 0;
	int rc;

	rc = run(NULL, 0, "dm-vendor", "acme-dm", "marketing", fields, 4,
	    NULL, 100, &s, &res);
	is_int(rc, 0, "dm-vendor export of 100: made");
	ok(res.allowed, "  allowed");
	is_str(res.reason, "ok", "  reason ok");
	is_int(res.info.rows, 100, "  manifest: 100 rows");
	is_int(res.info.canaries, k, "  manifest: %llu canaries",
	    (unsigned long long)k);
	is_str(res.info.clear, "", "  nothing in clear (pseudonymised by "
	    "default)");
	is_str(res.info.consumer, "dm-vendor", "  consumer");
	is_str(res.info.recipient, "acme-dm", "  recipient");
	is_str(res.info.fields, "name,phone,email,region", "  fields");
	ok(strncmp(res.info.id, "ex_", 3) == 0 &&
	    strlen(res.info.id) == 29, "  id is ex_ and 26 base32");
	table_parse(&s, &t);
	ok(!t.bad, "  the file is well-formed CSV");
	is_int(t.nrows, 1 + 100 + k, "  header, 100 rows and the canaries");
	ok(t.ncols == 5 && strcmp(CELL(&t, 0, 0), "pseudonym") == 0 &&
	    strcmp(CELL(&t, 0, 1), "name") == 0 &&
	    strcmp(CELL(&t, 0, 2), "phone") == 0 &&
	    strcmp(CELL(&t, 0, 3), "email") == 0 &&
	    strcmp(CELL(&t, 0, 4), "region") == 0,
	    "  header: pseudonym, then the fields as asked");
	ac.ids = calloc(t.nrows, VG_IDBYTES);
	for (r = 1; r < t.nrows && ac.ids != NULL; r++) {
		const char *ps = CELL(&t, r, 0);
		int kind = resolve("dm-vendor", ps, id);

		lens_ok += strlen(ps) == VG_PSN_STRLEN - 1;
		if (kind == 1) {
			memcpy(ac.ids[ncus++], id, VG_IDBYTES);
			nhoney += vg_honey_contains(
			    (const unsigned char (*)[VG_IDBYTES])HONEY, NH, id);
			/* Every sealed field masked as the policy masks. */
			if (vg_vault_get(V, id, 0, VG_VIEW_CLEAR, rec) == 0 &&
			    vg_policy_mask(P, VG_FT_PHONE, rec->value[F_PHONE],
			    rec->len[F_PHONE], masked, sizeof(masked)) == 0 &&
			    strcmp(CELL(&t, r, 2), masked) == 0 &&
			    strcmp(CELL(&t, r, 2), rec->value[F_PHONE]) != 0 &&
			    strchr(CELL(&t, r, 1), '*') != NULL &&
			    strchr(CELL(&t, r, 3), '*') != NULL &&
			    strcmp(CELL(&t, r, 4), rec->region) == 0)
				masked_ok++;
			vg_record_clear(rec);
			if (vg_psn_parse(psn, ps) == 0 &&
			    vg_export_psn_find(V, "dm-vendor", psn, found) ==
			    VG_ENOTFOUND)
				psn_misses++;
		} else if (kind == 0) {
			ncan++;
			if (vg_psn_parse(psn, ps) == 0 &&
			    vg_export_psn_find(V, "dm-vendor", psn, found) ==
			    0 && strcmp(found, res.info.id) == 0)
				psn_hits++;
			if (strchr(CELL(&t, r, 2), '*') != NULL)
				masked_ok++;
		}
	}
	is_int(lens_ok, t.nrows - 1, "  every pseudonym has the length of a "
	    "real one (%d characters)", VG_PSN_STRLEN - 1);
	is_int(ncus, 100, "  100 pseudonyms resolve to customers");
	is_int(ncan, k, "  the %llu others resolve (for dm-vendor) to no "
	    "customer: the canaries", (unsigned long long)k);
	is_int(nhoney, 0, "  no honeytoken among them");
	is_int(masked_ok, 100 + k, "  every row's contact fields are masked "
	    "(policy masks), region as is");
	is_int(psn_hits, k, "  vg_export_psn_find names the export for "
	    "each canary's pseudonym");
	is_int(psn_misses, 100, "  ... and nothing for a customer's");
	ok(vg_psn_parse(psn, CELL(&t, 1, 0)) == 0 &&
	    vg_export_psn_find(V, "courier", psn, found) == VG_ENOTFOUND,
	    "  another consumer's key resolves none of them");
	/* The audit: every row, then the manifest, durable before the
	 * first byte. */
	ac.res = &res;
	ac.clear = "";
	ac.rows = ac.manifests = ac.other = 0;
	ac.bad_row = ac.bad_manifest = 0;
	ac.nids = ncus;
	ac.seen = calloc(ncus + 1, sizeof(*ac.seen));
	is_int(entries_from(before, audit_one, &ac), 101, "  101 new audit "
	    "entries");
	is_int(ac.rows, 100, "  100 export.row entries");
	is_int(ac.bad_row, 0, "  each: the customer, principal, fields \"\", "
	    "purpose, detail export=ID,region=XX, before the manifest");
	for (i = 0; i < ncus; i++)
		once += ac.seen[i] == 1;
	is_int(once, 100, "  one entry for each customer of the file");
	is_int(ac.manifests, 1, "  one manifest entry");
	is_int(ac.bad_manifest, 0, "  manifest: export=ID,consumer=C,"
	    "recipient=R,rows=N,canaries=K,canary_set=H, no customer");
	is_int(ac.manifest_seq, res.info.manifest_seq, "  its sequence number "
	    "is the manifest's");
	is_int(ac.other, 0, "  nothing else");
	ok(s.calls > 0 && s.audit_at_first >= ac.manifest_seq + 1,
	    "  every entry was durable before the first byte was written");
	free(ac.ids);
	free(ac.seen);
	table_free(&t);
	sink_free(&s);
	vg_record_free(rec);
}

static void
test_clear(void)
{
	static const char *const fields[] = { "phone", "email", "name" };
	struct vg_export_result res;
	struct audit_check ac;
	struct table t;
	struct sink s;
	struct vg_record *rec = vg_record_new();
	unsigned char id[VG_IDBYTES], hit[1][VG_IDBYTES];
	char found[VG_EXPORT_ID_MAX + 1];
	uint64_t before = audit_size(), k = vg_export_canary_count(300);
	size_t r, clear_ok = 0, can_hits = 0, cus_misses = 0, can_unique = 0,
	    n, ncus = 0;
	long long ndig;
	int rc, kind;

	rc = run(NULL, 0, "courier", "sf-express", "delivery", fields, 3,
	    NULL, 300, &s, &res);
	is_int(rc, 0, "courier export of 300: made");
	is_str(res.info.clear, "name,phone", "  name and phone in clear (the "
	    "consumer's clear list), email masked");
	table_parse(&s, &t);
	is_int(t.nrows, 1 + 300 + k, "  300 rows and %llu canaries",
	    (unsigned long long)k);
	ac.ids = calloc(t.nrows, VG_IDBYTES);
	for (r = 1; r < t.nrows; r++) {
		const char *phone = CELL(&t, r, 1);
		char canon[VG_NORM_MAX + 1];
		size_t cl;

		kind = resolve("courier", CELL(&t, r, 0), id);
		if (vg_normalize(VG_FT_PHONE, phone, strlen(phone), canon,
		    sizeof(canon), &cl, NULL) != 0 || strcmp(canon, phone) != 0)
			continue;	/* not a clear canonical phone */
		rc = vg_export_canary_find(V, F_PHONE, phone, strlen(phone),
		    found);
		if (kind == 1) {
			memcpy(ac.ids[ncus++], id, VG_IDBYTES);
			if (vg_vault_get(V, id, 0, VG_VIEW_CLEAR, rec) == 0 &&
			    strcmp(rec->value[F_PHONE], phone) == 0 &&
			    strcmp(rec->value[F_NAME], CELL(&t, r, 3)) == 0 &&
			    strcmp(rec->value[F_EMAIL], CELL(&t, r, 2)) != 0 &&
			    strchr(CELL(&t, r, 2), '*') != NULL)
				clear_ok++;
			vg_record_clear(rec);
			cus_misses += rc == VG_ENOTFOUND;
		} else if (kind == 0) {
			can_hits += rc == 0 && strcmp(found, res.info.id) == 0;
			can_unique += vg_vault_lookup(V, F_PHONE, phone,
			    strlen(phone), hit, 1, &n, NULL) == VG_ENOTFOUND;
			clear_ok += strchr(CELL(&t, r, 2), '*') != NULL &&
			    strchr(CELL(&t, r, 3), '*') == NULL;
		}
	}
	is_int(clear_ok, 300 + k, "  phone and name clear and the customer's "
	    "own, email masked, on every row");
	is_int(can_hits, k, "  vg_export_canary_find names this export for "
	    "every canary's phone");
	is_int(cus_misses, 300, "  ... and finds nothing for every "
	    "customer's phone");
	is_int(can_unique, k, "  no canary's phone is a customer's");
	is_int(vg_export_canary_find(V, F_PHONE, "+8613000000000", 14, found),
	    VG_ENOTFOUND, "  a phone nobody has: VG_ENOTFOUND");
	is_int(vg_export_canary_find(V, F_NAME, "x", 1, found), VG_EINVAL,
	    "  a field without an index: VG_EINVAL");
	/* The audit names the fields given in clear. */
	ac.res = &res;
	ac.clear = "name,phone";
	ac.rows = ac.manifests = ac.other = 0;
	ac.bad_row = ac.bad_manifest = 0;
	ac.nids = 0;
	ac.seen = NULL;
	is_int(entries_from(before, audit_one, &ac), 301, "  301 new entries");
	is_int(ac.bad_row, 0, "  each row's fields: name,phone");
	is_int(ac.bad_manifest, 0, "  the manifest as the contract says");
	/* The manifest, stored and listed. */
	{
		struct vg_export_info got;
		struct vg_export_info *m = &res.info;

		is_int(vg_export_get(V, m->id, &got), 0, "  vg_export_get");
		ok(strcmp(got.id, m->id) == 0 &&
		    strcmp(got.principal, m->principal) == 0 &&
		    strcmp(got.consumer, m->consumer) == 0 &&
		    strcmp(got.recipient, m->recipient) == 0 &&
		    strcmp(got.purpose, m->purpose) == 0 &&
		    got.created == m->created && got.rows == m->rows &&
		    got.canaries == m->canaries &&
		    strcmp(got.clear, m->clear) == 0 &&
		    strcmp(got.chain, "test") == 0 &&
		    got.manifest_seq == m->manifest_seq &&
		    strcmp(got.canary_set, m->canary_set) == 0 &&
		    strcmp(got.fields, "phone,email,name") == 0 &&
		    strcmp(got.region, "") == 0,
		    "  the stored manifest is the one returned");
		is_int(vg_export_get(V, "ex_aaaaaaaaaaaaaaaaaaaaaaaaaa", &got),
		    VG_ENOTFOUND, "  an unknown id: VG_ENOTFOUND");
		is_int(vg_export_get(V, "nope", &got), VG_EINVAL,
		    "  a malformed id: VG_EINVAL");
	}
	/* canary_set: SHA-256 over the sorted digests, from the database. */
	{
		char p[PATH_MAX + 32], hex[33];
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		unsigned char h[VG_HASHBYTES], *buf = malloc(64 * 1024);
		size_t len = 0;

		snprintf(p, sizeof(p), "%s/vigil.db", vdir);
		if (buf != NULL && sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY,
		    NULL) == SQLITE_OK && sqlite3_prepare_v2(db, "SELECT digest "
		    "FROM export_canary WHERE export_id = ?1 ORDER BY digest",
		    -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, res.info.id, -1,
			    SQLITE_STATIC);
			while (sqlite3_step(st) == SQLITE_ROW &&
			    len + 16 <= 64 * 1024) {
				memcpy(buf + len, sqlite3_column_blob(st, 0),
				    16);
				len += 16;
			}
		}
		sqlite3_finalize(st);
		sqlite3_close(db);
		vg_sha256(h, buf, len);
		sodium_bin2hex(hex, sizeof(hex), h, 16);
		is_str(hex, res.info.canary_set, "  canary_set is SHA-256 of "
		    "the stored digests, sorted");
		/* phone and email (indexed, in the file) and the id. */
		is_int(len / 16, 3 * k, "  three digests per canary: phone, "
		    "email, id");
		free(buf);
	}
	ndig = count_rows_arg("SELECT count(*) FROM export_canary WHERE "
	    "export_id = ?1 AND field = 255", res.info.id);
	is_int(ndig, k, "  one id digest per canary");
	free(ac.ids);
	table_free(&t);
	sink_free(&s);
	vg_record_free(rec);
}

struct lister {
	int n;
	int64_t last;
	int ordered;
};

static int
list_one(void *ctx, const struct vg_export_info *e)
{
	struct lister *l = ctx;

	if (l->n > 0 && e->created > l->last)
		l->ordered = 0;
	l->last = e->created;
	l->n++;
	return 0;
}

static void
test_region_honey(void)
{
	static const char *const fields[] = { "region", "phone" };
	struct vg_export_result res;
	struct table t;
	struct sink s;
	struct lister l = { 0, 0, 1 };
	unsigned char id[VG_IDBYTES];
	size_t r, gd = 0, nhoney = 0, ncus = 0;
	long long want;
	int rc;

	/* CN-GD customers that are not honey. */
	want = count_rows("SELECT count(*) FROM customers WHERE region = "
	    "'CN-GD'");
	{
		struct vg_record *rec = vg_record_new();
		size_t i;

		for (i = 0; i < NH; i++)
			if (vg_vault_get(V, HONEY[i], 0, VG_VIEW_MASKED,
			    rec) == 0 && strcmp(rec->region, "CN-GD") == 0)
				want--;
		vg_record_free(rec);
	}
	rc = run(NULL, 0, "big", "acme-dm", "marketing", fields, 2, "GD",
	    100000, &s, &res);
	is_int(rc, 0, "an export of region GD (limit above the customers)");
	is_str(res.info.region, "CN-GD", "  the manifest keeps the region as "
	    "its code");
	is_int(res.info.rows, want, "  every CN-GD customer but the "
	    "honeytokens (%lld)", want);
	table_parse(&s, &t);
	for (r = 1; r < t.nrows; r++) {
		gd += strcmp(CELL(&t, r, 1), "CN-GD") == 0;
		if (resolve("big", CELL(&t, r, 0), id) == 1)
			ncus++;
	}
	is_int(gd, t.nrows - 1, "  every row, canaries too, is in CN-GD");
	is_int(ncus, want, "  customers: the manifest's rows");
	table_free(&t);
	sink_free(&s);

	/* Everything: the honeytokens are left out. */
	rc = run(NULL, 0, "big", "acme-dm", "marketing", fields, 2, NULL,
	    100000, &s, &res);
	is_int(rc, 0, "an export of every customer");
	is_int(res.info.rows, NCUST, "  %d rows: the customers, not the %d "
	    "honeytokens", NCUST, NHONEY);
	table_parse(&s, &t);
	for (r = 1; r < t.nrows; r++)
		if (resolve("big", CELL(&t, r, 0), id) == 1)
			nhoney += vg_honey_contains(
			    (const unsigned char (*)[VG_IDBYTES])HONEY, NH, id);
	is_int(nhoney, 0, "  no honeytoken in the file");
	table_free(&t);
	sink_free(&s);

	is_int(vg_export_list(V, 0, list_one, &l), 0, "vg_export_list");
	is_int(l.n, 4, "  lists the four exports made so far");
	ok(l.ordered, "  newest first");
	l.n = 0;
	is_int(vg_export_list(V, 2, list_one, &l), 0, "vg_export_list, "
	    "limit 2");
	is_int(l.n, 2, "  two");
}

/*-----------------------------------------------------------------------------
 * Canaries' uniqueness, with the generator forced onto taken values
 */

static int
job_for(struct job *j, struct vg_export_ctx *c, struct vg_export_request *rq,
    struct vg_export_result *res, const char *const *fields, size_t nf)
{
	memset(c, 0, sizeof(*c));
	c->vault = V;
	c->vault_dir = vdir;
	c->policy = P;
	c->audit = A;
	c->chain = "test";
	c->who = &WHO;
	c->request_id = "r";
	c->client = "unit";
	memset(rq, 0, sizeof(*rq));
	rq->consumer = "big";
	rq->recipient = "r";
	rq->purpose = "marketing";
	rq->fields = fields;
	rq->nfields = nf;
	rq->limit = 20;
	memset(res, 0, sizeof(*res));
	memset(j, 0, sizeof(*j));
	j->c = c;
	j->rq = rq;
	j->res = res;
	j->sc = vg_vault_schema(V);
	j->st = vg__vault_store(V);
	if (check_form(j) != 0 || pick_rows(j) != 0)
		return -1;
	return 0;
}

static void
test_unique(void)
{
	static const char *const fields[] = { "phone", "email", "account_id" };
	struct vg_export_ctx c1, c2, c3;
	struct vg_export_request q1, q2, q3;
	struct vg_export_result r1, r2, r3;
	struct job j1, j2, j3;
	struct vg_gen *g = vg_gen_new(CUST_SEED);
	struct vg_gen_customer first;
	unsigned char hit[1][VG_IDBYTES];
	size_t i, k, n, free_ok = 0, differs = 0, shared = 0;

	vg_gen_next(g, &first);
	vg_gen_free(g);
	/* Seeded with the customers' own seed: the generator's first 400
	 * draws are all customers, and must all be drawn again. */
	ok(job_for(&j1, &c1, &q1, &r1, fields, 3) == 0, "a job over the "
	    "vault");
	is_int(make_canaries(&j1, CUST_SEED), 0, "  canaries from the "
	    "customers' own generator seed: made");
	for (i = 0; i < j1.k; i++) {
		for (k = 0; k < 3; k++) {
			size_t x = i * j1.ncol + k;

			free_ok += vg_vault_lookup(V, j1.col[k], j1.arena +
			    j1.coff[x], j1.clen[x], hit, 1, &n, NULL) ==
			    VG_ENOTFOUND;
		}
		differs += j1.clen[i * j1.ncol] > 0;
	}
	is_int(free_ok, 3 * j1.k, "  none of their phones, e-mails or "
	    "account ids is a customer's (%zu canaries)", j1.k);
	is_int(differs, j1.k, "  and each has a phone");
	/* Store them as an export, then draw another export's canaries
	 * from the very same seed: every value must be new. */
	fill_manifest(&j1);
	ok(canary_set(&j1, r1.info.canary_set) == 0 &&
	    store_manifest(&j1) == 0, "  stored as an export");
	ok(job_for(&j2, &c2, &q2, &r2, fields, 3) == 0, "a second job");
	is_int(make_canaries(&j2, CUST_SEED), 0, "  canaries from the same "
	    "seed again: made");
	for (i = 0; i < j2.ndigs; i++)
		for (k = 0; k < j1.ndigs; k++)
			if (j2.digs[i].field == j1.digs[k].field &&
			    memcmp(j2.digs[i].d, j1.digs[k].d, 16) == 0)
				shared++;
	is_int(shared, 0, "  not one digest in common with the earlier "
	    "export's canaries");
	ok(j2.k > 0 && j2.clen[0] > 0 && (j2.clen[0] != j1.clen[0] ||
	    memcmp(j2.arena + j2.coff[0], j1.arena + j1.coff[0],
	    j1.clen[0]) != 0), "  its first canary's phone differs");
	for (i = 0, n = 0; i < j2.k; i++) {
		char id[VG_EXPORT_ID_MAX + 1];
		size_t x = i * j2.ncol;

		n += vg_export_canary_find(V, F_PHONE, j2.arena + j2.coff[x],
		    j2.clen[x], id) == VG_ENOTFOUND;
	}
	is_int(n, j2.k, "  and none is an earlier canary's");
	/* A region the generator never makes: no canary, no export. */
	ok(job_for(&j3, &c3, &q3, &r3, fields, 3) == 0, "a third job");
	snprintf(j3.region, sizeof(j3.region), "CN-HK");
	is_int(make_canaries(&j3, 5), 1, "  a region without synthetic "
	    "customers: the maker gives up (no_canaries)");
	job_free(&j1);
	job_free(&j2);
	job_free(&j3);
	(void)first;
}

/*-----------------------------------------------------------------------------
 * Refusals
 */

struct deny_check {
	const char *reason, *detail;
	int n, good;
};

static void
deny_one(void *ctx, const struct vg_audit_record *r)
{
	struct deny_check *d = ctx;

	d->n++;
	d->good += strcmp(r->action, "export") == 0 &&
	    strcmp(r->decision, "deny") == 0 &&
	    strcmp(r->reason, d->reason) == 0 &&
	    strcmp(r->detail, d->detail) == 0 && !r->has_customer;
}

static void
refused(const char *what, const struct vg_principal *who, int containment,
    const char *consumer, const char *purpose, const char *region,
    uint64_t limit, const char *reason)
{
	static const char *const fields[] = { "phone" };
	long long ex = count_rows("SELECT count(*) FROM exports");
	long long can = count_rows("SELECT count(*) FROM export_canary");
	struct vg_export_result res;
	struct deny_check d;
	struct sink s;
	char detail[256];
	uint64_t before = audit_size();
	int rc;

	rc = run(who, containment, consumer, "rcpt", purpose, fields, 1,
	    region, limit, &s, &res);
	is_int(rc, 0, "%s: decided", what);
	ok(!res.allowed, "  refused");
	is_str(res.reason, reason, "  reason %s", reason);
	is_int(s.calls, 0, "  nothing written");
	snprintf(detail, sizeof(detail), "consumer=%s,recipient=rcpt,rows=%llu",
	    consumer, (unsigned long long)limit);
	d.reason = reason;
	d.detail = detail;
	d.n = d.good = 0;
	(void)entries_from(before, deny_one, &d);
	ok(d.n == 1 && d.good == 1, "  one audit entry: export, deny, %s, "
	    "%s", reason, detail);
	ok(count_rows("SELECT count(*) FROM exports") == ex &&
	    count_rows("SELECT count(*) FROM export_canary") == can,
	    "  no manifest, no canary stored");
	sink_free(&s);
}

static void
test_refusals(void)
{
	struct vg_principal agent = WHO;

	snprintf(agent.id, sizeof(agent.id), "agent-1");
	snprintf(agent.role, sizeof(agent.role), "agent");
	refused("a consumer the policy does not list", NULL, 0, "nobody",
	    "marketing", NULL, 10, VG_R_CONSUMER);
	refused("a purpose not granted to the consumer", NULL, 0, "dm-vendor",
	    "delivery", NULL, 10, VG_R_PURPOSE);
	refused("more rows than the consumer's max_rows", NULL, 0,
	    "dm-vendor", "marketing", NULL, 151, VG_R_TOO_MANY_ROWS);
	refused("more rows than any export", NULL, 0, "big", "marketing",
	    NULL, VG_EXPORT_ROWS_MAX + 1, VG_R_TOO_MANY_ROWS);
	refused("a role without the export action", &agent, 0, "dm-vendor",
	    "marketing", NULL, 10, VG_R_ROLE);
	refused("a principal the detector contained", NULL, 1, "dm-vendor",
	    "marketing", NULL, 10, VG_R_SUSPENDED);
	refused("a region without customers", NULL, 0, "big", "marketing",
	    "CN-HK", 10, "no_rows");
}

static void
malformed(const char *what, const char *consumer, const char *recipient,
    const char *purpose, const char *const *fields, size_t nf,
    const char *region, uint64_t limit, const char *field)
{
	struct vg_export_result res;
	struct sink s;
	uint64_t before = audit_size();
	int rc;

	rc = run(NULL, 0, consumer, recipient, purpose, fields, nf, region,
	    limit, &s, &res);
	is_int(rc, VG_EINVAL, "%s: VG_EINVAL", what);
	is_str(res.field, field, "  names %s", field);
	ok(res.message[0] != '\0' && s.calls == 0 && audit_size() == before,
	    "  with a message; nothing written or audited");
	sink_free(&s);
}

static void
test_malformed(void)
{
	static const char *const ok1[] = { "phone" };
	static const char *const unknown[] = { "phone", "shoe_size" };
	static const char *const twice[] = { "phone", "phone" };
	char longname[65];

	memset(longname, 'a', 64);
	longname[64] = '\0';
	malformed("a consumer name with a space", "Bad Name", "r", "marketing",
	    ok1, 1, NULL, 1, "consumer");
	malformed("an empty recipient", "big", "", "marketing", ok1, 1, NULL, 1,
	    "recipient");
	malformed("consumer and recipient too long together", longname,
	    longname, "marketing", ok1, 1, NULL, 1, "recipient");
	malformed("a purpose that is not a code", "big", "r", "Marketing!",
	    ok1, 1, NULL, 1, "purpose");
	malformed("no field", "big", "r", "marketing", ok1, 0, NULL, 1,
	    "fields");
	malformed("an unknown field", "big", "r", "marketing", unknown, 2,
	    NULL, 1, "fields");
	malformed("a field twice", "big", "r", "marketing", twice, 2, NULL, 1,
	    "fields");
	malformed("a region that is no province", "big", "r", "marketing",
	    ok1, 1, "Atlantis", 1, "region");
	malformed("limit 0", "big", "r", "marketing", ok1, 1, NULL, 0,
	    "limit");
}

/*-----------------------------------------------------------------------------
 * A leak: 50 rows of an export, reshuffled, phones retyped
 */

static void
test_leak(void)
{
	static const char *const fields[] = { "name", "phone" };
	struct vg_export_result res;
	struct vg_export_info m;
	struct table t;
	struct sink s;
	size_t trials = 200, named = 0, wrong = 0, i, r, k;
	size_t *pick;
	int rc;

	rc = run(NULL, 0, "courier", "sf-express", "delivery", fields, 2,
	    NULL, NCUST, &s, &res);
	is_int(rc, 0, "a courier export of every customer (%d rows, %llu "
	    "canaries)", NCUST, (unsigned long long)res.info.canaries);
	table_parse(&s, &t);
	pick = calloc(t.nrows, sizeof(*pick));
	if (t.nrows < 60 || pick == NULL) {
		ok(0, "  the file has rows");
		free(pick);
		table_free(&t);
		sink_free(&s);
		return;
	}
	for (i = 0; i < trials; i++) {
		int found = 0;

		/* 50 distinct rows at random (a partial Fisher-Yates). */
		for (r = 0; r < t.nrows - 1; r++)
			pick[r] = r + 1;
		for (k = 0; k < 50; k++) {
			size_t x = k + randombytes_uniform((uint32_t)(t.nrows -
			    1 - k)), tmp = pick[k];

			pick[k] = pick[x];
			pick[x] = tmp;
		}
		for (k = 0; k < 50 && !found; k++) {
			const char *ph = CELL(&t, pick[k], 2);
			char dirty[64], canon[VG_NORM_MAX + 1];
			char id[VG_EXPORT_ID_MAX + 1];
			size_t cl;

			/* "+8613812345678" as a seller types it:
			 * "138 1234 5678". */
			if (strlen(ph) != 14)
				continue;
			snprintf(dirty, sizeof(dirty), "%.3s %.4s %.4s",
			    ph + 3, ph + 6, ph + 10);
			if (vg_normalize(VG_FT_PHONE, dirty, strlen(dirty),
			    canon, sizeof(canon), &cl, NULL) != 0)
				continue;
			if (vg_export_canary_find(V, F_PHONE, canon, cl,
			    id) != 0)
				continue;
			if (vg_export_get(V, id, &m) == 0 &&
			    strcmp(m.id, res.info.id) == 0 &&
			    strcmp(m.recipient, "sf-express") == 0)
				found = 1;
			else
				wrong++;
		}
		named += found;
	}
	ok(named >= 170, "  %zu of %zu random 50-row leaks name the export "
	    "and its recipient (expected about %.0f)", named, trials,
	    vg_export_catch(res.info.rows, res.info.canaries, 50) * trials);
	is_int(wrong, 0, "  and no canary hit ever names another export");
	free(pick);
	table_free(&t);
	sink_free(&s);
}

/*-----------------------------------------------------------------------------
 * A vault made before exports existed
 */

static int
count_one(void *ctx, const struct vg_export_info *e)
{
	(void)e;
	(*(int *)ctx)++;
	return 0;
}

static void
test_old_vault(void)
{
	static const char *const fields[] = { "phone" };
	char dir[PATH_MAX + 16], p[PATH_MAX + 32], err[VG_ERRMSG_MAX];
	char id[VG_EXPORT_ID_MAX + 1];
	struct vg_vault *v = NULL, *save = V;
	struct vg_export_ctx c;
	struct vg_export_request rq;
	struct vg_export_result res;
	struct sink s;
	sqlite3 *db = NULL;
	int n = 0, rc;

	snprintf(dir, sizeof(dir), "%s/old", root);
	if (vg_vault_create(dir, NULL, err, sizeof(err)) != 0 ||
	    vg_vault_open(dir, &v, err, sizeof(err)) != 0 ||
	    fill(v, 99, 60) != 0) {
		ok(0, "an old vault: %s", err);
		vg_vault_close(v);
		return;
	}
	vg_vault_close(v);
	v = NULL;
	snprintf(p, sizeof(p), "%s/vigil.db", dir);
	ok(sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_exec(db, "DROP TABLE export_canary; DROP INDEX "
	    "exports_created; DROP TABLE exports;", NULL, NULL, NULL) ==
	    SQLITE_OK, "a vault without the export tables (as before issue 7)");
	sqlite3_close(db);
	if (vg_vault_open(dir, &v, err, sizeof(err)) != 0) {
		ok(0, "it opens: %s", err);
		return;
	}
	is_int(vg_export_list(v, 0, count_one, &n), 0, "  vg_export_list "
	    "makes the tables on first use");
	is_int(n, 0, "  and lists nothing");
	is_int(vg_export_canary_find(v, F_PHONE, "+8613000000000", 14, id),
	    VG_ENOTFOUND, "  vg_export_canary_find: VG_ENOTFOUND");
	memset(&c, 0, sizeof(c));
	c.vault = v;
	c.vault_dir = dir;
	c.policy = P;
	c.audit = A;
	c.chain = "test";
	c.who = &WHO;
	c.request_id = "old";
	c.client = "unit";
	memset(&rq, 0, sizeof(rq));
	rq.consumer = "big";
	rq.recipient = "r";
	rq.purpose = "marketing";
	rq.fields = fields;
	rq.nfields = 1;
	rq.limit = 60;
	memset(&s, 0, sizeof(s));
	V = v;		/* sink_write reads A only; resolve() is not used */
	rc = vg_export_make(&c, &rq, sink_write, &s, &res);
	V = save;
	ok(rc == 0 && res.allowed && res.info.rows == 60,
	    "  an export in it works (60 rows)");
	n = 0;
	ok(vg_export_list(v, 0, count_one, &n) == 0 && n == 1,
	    "  and is listed");
	sink_free(&s);
	vg_vault_close(v);
}

/*-----------------------------------------------------------------------------
 * Set-up
 */

int
main(void)
{
	struct vg_audit_opts o;
	unsigned char seed[32];
	char err[VG_POLICY_ERR_MAX] = "";
	size_t planted = 0;

	snprintf(root, sizeof(root), "/tmp/t_export.XXXXXX");
	if (mkdtemp(root) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return done_testing();
	}
	unsetenv(VG_MASTER_ENV);
	if (vg_crypto_init() != 0)
		ok(0, "vg_crypto_init");
	test_count();

	snprintf(vdir, sizeof(vdir), "%s/v", root);
	if (vg_vault_create(vdir, NULL, err, sizeof(err)) != 0 ||
	    vg_vault_open(vdir, &V, err, sizeof(err)) != 0) {
		ok(0, "vault: %s", err);
		goto out;
	}
	ok(fill(V, CUST_SEED, NCUST) == 0, "%d customers", NCUST);
	ok(vg_honey_plant(V, vdir, NHONEY, 0, &planted, err, sizeof(err)) ==
	    0 && planted == NHONEY, "%d honeytokens", NHONEY);
	ok(vg_honey_load(V, vdir, &HONEY, &NH, err, sizeof(err)) == 0 &&
	    NH == NHONEY, "the honey set reads back");
	ok(vg_policy_parse(policy_text, strlen(policy_text), "p.yaml",
	    vg_vault_schema(V), &P, err, sizeof(err)) == 0, "policy: %s",
	    err[0] != '\0' ? err : "parses");
	randombytes_buf(seed, sizeof(seed));
	memset(&o, 0, sizeof(o));
	o.vault_dir = vdir;
	o.chain = "test";
	o.origin = "vigil.test/x/test";
	o.sign_seed = seed;
	ok(vg_audit_open(&o, &A, err, sizeof(err)) == 0, "audit chain");
	memset(&WHO, 0, sizeof(WHO));
	snprintf(WHO.id, sizeof(WHO.id), "mops-1");
	snprintf(WHO.role, sizeof(WHO.role), "marketing_ops");
	snprintf(WHO.state, sizeof(WHO.state), "active");
	if (A == NULL || P == NULL)
		goto out;

	test_pseudonymised();
	test_clear();
	test_region_honey();
	test_unique();
	test_refusals();
	test_malformed();
	test_leak();
	test_old_vault();
out:
	if (A != NULL && vg_audit_close(A) != 0)
		ok(0, "audit close");
	vg_policy_free(P);
	vg_honey_free(HONEY);
	vg_vault_close(V);
	(void)nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
