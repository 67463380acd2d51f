/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/honey.c over real vaults and real SQLite files:
 * refusals (empty vault, count 0, honey outnumbering real customers, a
 * schema the generator cannot fill), and one test per tell a honey record
 * could show through the database: its place in storage order (spread,
 * not at the end), its creation time and key epoch (those of its
 * neighbours, in a vault with a distinct time per customer and two
 * epochs), its region and set of fields, the meta table, the schema and
 * the write-ahead log.  Then the honey set file: mode, format, no id in
 * clear, tampering, another vault's file, planting again, and a plant
 * rolled back after its set was written.  Every vault lives in a
 * mkdtemp directory under /tmp that is removed at the end.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "tap.h"
#include "vigil/gen.h"
#include "vigil/honey.h"
#include "vigil/vault.h"
#include "vault_int.h"

/* Default schema field indexes. */
#define F_NAME		0
#define F_PHONE		1
#define F_EMAIL		2
#define F_ACCOUNT	3
#define F_ADDRESS	4
#define F_REGION	5
#define ALL_FIELDS	0x3fu

static char root[PATH_MAX];

/*-----------------------------------------------------------------------------
 * Helpers
 */

static const char *
path_in(char *buf, size_t cap, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap)
		abort();
	return buf;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Creates and opens vault `name` under root (schema NULL: default). */
static struct vg_vault *
new_vault(const char *name, const struct vg_schema *s, char *dir, size_t cap)
{
	struct vg_vault *v = NULL;
	char err[VG_ERRMSG_MAX];

	path_in(dir, cap, root, name);
	if (vg_vault_create(dir, s, err, sizeof(err)) != 0 ||
	    vg_vault_open(dir, &v, err, sizeof(err)) != 0) {
		ok(0, "create and open vault %s: %s", name, err);
		return NULL;
	}
	return v;
}

/* A generated customer as input, with only the fields in mask. */
static void
gen_input(const struct vg_gen_customer *c, uint32_t mask, struct vg_input *in)
{
	const char *val[6] = { c->name, c->phone, c->email, c->account_id,
	    c->address, c->region };
	int i;

	memset(in, 0, sizeof(*in));
	for (i = 0; i < 6; i++) {
		if (!(mask & (1u << i)))
			continue;
		in->value[i] = val[i];
		in->len[i] = strlen(val[i]);
	}
}

/* Adds n generated customers of seed with the fields in mask, as an
 * import does (one transaction, batches). */
static int
fill(struct vg_vault *v, uint64_t seed, size_t n, uint32_t mask)
{
	struct vg_gen *g = vg_gen_new(seed);
	struct vg_batch *b = vg_batch_new(4096);
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
		vg_gen_next(g, &c);
		gen_input(&c, mask, &in);
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

/* One row of customers, in storage order. */
struct row {
	int64_t seq;
	unsigned char id[VG_IDBYTES];
	uint32_t epoch;
	int64_t created;
	char region[8];
	int honey;
};

/* Reads customers in rowid order through a connection of our own; *n
 * gets the count.  Returns NULL on error. */
static struct row *
read_rows(const char *dir, size_t *n)
{
	char p[PATH_MAX];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct row *rows = NULL, *nr;
	size_t cap = 0;

	*n = 0;
	path_in(p, sizeof(p), dir, "vigil.db");
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT rowid, id, epoch, created, region "
	    "FROM customers ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((nr = realloc(rows, cap * sizeof(*rows))) == NULL)
				goto fail;
			rows = nr;
		}
		memset(&rows[*n], 0, sizeof(rows[*n]));
		rows[*n].seq = sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) == VG_IDBYTES)
			memcpy(rows[*n].id, sqlite3_column_blob(st, 1),
			    VG_IDBYTES);
		rows[*n].epoch = (uint32_t)sqlite3_column_int64(st, 2);
		rows[*n].created = sqlite3_column_int64(st, 3);
		snprintf(rows[*n].region, sizeof(rows[*n].region), "%s",
		    (const char *)sqlite3_column_text(st, 4));
		(*n)++;
	}
	goto out;
fail:
	free(rows);
	rows = NULL;
	*n = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rows;
}

/* Marks the rows that are honey; returns how many were marked. */
static size_t
mark(struct row *rows, size_t n, const unsigned char (*ids)[VG_IDBYTES],
    size_t nids)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		rows[i].honey = vg_honey_contains(ids, nids, rows[i].id);
		k += (size_t)rows[i].honey;
	}
	return k;
}

/* BLAKE2b of the rows of a query over vault dir's database. */
static void
query_digest(const char *dir, const char *sql, unsigned char out[32])
{
	crypto_generichash_state h;
	char p[PATH_MAX];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int i;

	crypto_generichash_init(&h, NULL, 0, 32);
	path_in(p, sizeof(p), dir, "vigil.db");
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (i = 0; i < sqlite3_column_count(st); i++) {
				int len = sqlite3_column_bytes(st, i);

				crypto_generichash_update(&h,
				    sqlite3_column_blob(st, i) != NULL ?
				    sqlite3_column_blob(st, i) :
				    (const void *)"", (size_t)len);
				crypto_generichash_update(&h,
				    (const unsigned char *)&len, sizeof(len));
			}
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	crypto_generichash_final(&h, out, 32);
}

static long long
scalar(const char *dir, const char *sql)
{
	char p[PATH_MAX];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long r = -1;

	path_in(p, sizeof(p), dir, "vigil.db");
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		r = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

static unsigned char *
slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	unsigned char *buf;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	fclose(f);
	return buf;
}

static int
spit(const char *p, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(p, "wb");
	int rc;

	if (f == NULL)
		return -1;
	rc = fwrite(buf, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc == 0 ? chmod(p, 0600) : rc;
}

static long long
file_size(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

static size_t
honey_count(struct vg_vault *v, const char *dir)
{
	unsigned char (*ids)[VG_IDBYTES] = NULL;
	size_t n = 0;

	if (vg_honey_load(v, dir, &ids, &n, NULL, 0) != 0)
		n = SIZE_MAX;
	vg_honey_free(ids);
	return n;
}

static uint64_t
customers(struct vg_vault *v)
{
	struct vg_vault_stats st;

	return vg_vault_stats(v, &st) == 0 ? st.customers : UINT64_MAX;
}

#define SET_BYTES(n) (8 + 24 + 8 + 16 * (long long)(n) + 16)

/*-----------------------------------------------------------------------------
 * Refusals
 */

static void
test_refusals(void)
{
	static const char schema_text[] = "name name required\n"
	    "phone phone index\nnote text\n";
	unsigned char (*ids)[VG_IDBYTES] = (void *)1;
	char dir[PATH_MAX], p[PATH_MAX], err[VG_ERRMSG_MAX];
	struct vg_schema sc;
	struct vg_vault *v;
	size_t planted = 99, n = 99;
	int rc;

	if ((v = new_vault("empty", NULL, dir, sizeof(dir))) == NULL)
		return;
	rc = vg_honey_load(v, dir, &ids, &n, err, sizeof(err));
	ok(rc == 0 && n == 0 && ids == NULL,
	    "no honey.set: load gives 0 records and no array");
	err[0] = '\0';
	rc = vg_honey_plant(v, dir, 1, 0, &planted, err, sizeof(err));
	is_int(rc, VG_EINVAL, "planting into an empty vault is refused");
	ok(strstr(err, "no customers") != NULL && strstr(err, "hide") != NULL,
	    "and the reason says there is nothing to hide among: %s", err);
	is_int(planted, 0, "nothing is planted");
	ok(file_size(path_in(p, sizeof(p), dir, VG_HONEY_SET)) < 0,
	    "and no honey.set is written");

	is_int(fill(v, 11, 10, ALL_FIELDS), 0, "ten real customers");
	rc = vg_honey_plant(v, dir, 0, 0, &planted, err, sizeof(err));
	is_int(rc, VG_EINVAL, "count 0 is refused");
	rc = vg_honey_plant(v, dir, 11, 0, &planted, err, sizeof(err));
	is_int(rc, VG_EINVAL, "11 honey records among 10 customers: refused");
	ok(strstr(err, "outnumber") != NULL && strstr(err, "10 real") != NULL,
	    "and the reason says why: %s", err);
	is_int(customers(v), 10, "the refused plant added nobody");
	rc = vg_honey_plant(v, dir, VG_HONEY_MAX + 1, 0, &planted, err,
	    sizeof(err));
	is_int(rc, VG_ETOOBIG, "more than VG_HONEY_MAX: VG_ETOOBIG");
	rc = vg_honey_plant(v, dir, 10, 0, &planted, err, sizeof(err));
	ok(rc == 0 && planted == 10, "10 honey records among 10 real ones: "
	    "planted (%s)", rc != 0 ? err : "ok");
	rc = vg_honey_plant(v, dir, 1, 0, &planted, err, sizeof(err));
	is_int(rc, VG_EINVAL, "one more would outnumber the real ones: "
	    "refused");
	ok(strstr(err, "10 planted before") != NULL,
	    "and the reason counts the earlier ones: %s", err);
	is_int(honey_count(v, dir), 10, "the set still holds 10");
	vg_vault_close(v);

	/* A schema field the generator cannot fill. */
	if (vg_schema_parse(&sc, schema_text, strlen(schema_text), err,
	    sizeof(err)) != 0) {
		ok(0, "parse a schema with a text field: %s", err);
		return;
	}
	if ((v = new_vault("schema", &sc, dir, sizeof(dir))) == NULL)
		return;
	{
		struct vg_input in;
		unsigned char id[VG_IDBYTES];
		struct vg_reject rej;

		memset(&in, 0, sizeof(in));
		in.value[0] = "王芳";
		in.len[0] = strlen(in.value[0]);
		in.value[1] = "13800138000";
		in.len[1] = 11;
		rc = vg_vault_add(v, &in, id, &rej);
	}
	is_int(rc, 0, "a customer in a vault with a 'note' field");
	rc = vg_honey_plant(v, dir, 1, 0, &planted, err, sizeof(err));
	is_int(rc, VG_EINVAL, "a field the generator cannot fill: refused");
	ok(strstr(err, "'note'") != NULL, "and the field is named: %s", err);
	vg_vault_close(v);
}

/*-----------------------------------------------------------------------------
 * Tells: place, times, epochs, regions, meta, schema, log
 */

#define SPREAD_REAL 5000
#define SPREAD_HONEY 200
#define SPREAD_SEED 4242

static void
test_spread(void)
{
	unsigned char meta0[32], meta1[32], schema0[32], schema1[32];
	unsigned char (*ids)[VG_IDBYTES] = NULL;
	unsigned char hit[VG_LOOKUP_MAX][VG_IDBYTES];
	char dir[PATH_MAX], p[PATH_MAX], err[VG_ERRMSG_MAX] = "";
	struct vg_gen *g;
	struct vg_gen_customer c;
	struct vg_record *rec = vg_record_new();
	struct vg_vault *v;
	struct row *rows = NULL;
	unsigned char *file;
	size_t planted = 0, n = 0, nrows = 0, i, k, tail = 0, half = 0;
	size_t opened = 0, found = 0, real_hits = 0, bad_nb = 0, last_run = 0;
	size_t in_id = 0, nregions = 0, same_created = 0;
	long long bidx0, wal;
	size_t flen = 0;
	char seen[64][8];
	int rc, contiguous = 1;

	if ((v = new_vault("spread", NULL, dir, sizeof(dir))) == NULL)
		goto out;
	if (fill(v, 3, SPREAD_REAL, ALL_FIELDS) != 0) {
		ok(0, "fill %d customers", SPREAD_REAL);
		goto out;
	}
	query_digest(dir, "SELECT key, value FROM meta ORDER BY key", meta0);
	query_digest(dir, "SELECT type, name, tbl_name, sql FROM sqlite_master "
	    "ORDER BY name", schema0);
	bidx0 = scalar(dir, "SELECT count(*) FROM bidx");
	rc = vg_honey_plant(v, dir, SPREAD_HONEY, SPREAD_SEED, &planted, err,
	    sizeof(err));
	ok(rc == 0 && planted == SPREAD_HONEY, "plant %d among %d (%s)",
	    SPREAD_HONEY, SPREAD_REAL, rc != 0 ? err : "ok");
	rc = vg_honey_load(v, dir, &ids, &n, err, sizeof(err));
	ok(rc == 0 && n == SPREAD_HONEY, "load gives %d ids (%zu)",
	    SPREAD_HONEY, n);
	if (rc != 0 || n != SPREAD_HONEY)
		goto out;
	for (i = 1; i < n && memcmp(ids[i - 1], ids[i], VG_IDBYTES) < 0; i++)
		;
	is_int(i, n, "ids are sorted and unique (for bsearch)");
	is_int(customers(v), SPREAD_REAL + SPREAD_HONEY,
	    "the vault holds real and honey customers");

	rows = read_rows(dir, &nrows);
	is_int(nrows, SPREAD_REAL + SPREAD_HONEY, "every row read back");
	is_int(mark(rows, nrows, (const unsigned char (*)[VG_IDBYTES])ids, n),
	    SPREAD_HONEY, "every honey id is a row of customers");
	for (i = 0; i < nrows; i++)
		contiguous &= rows[i].seq == (int64_t)i + 1;
	ok(contiguous, "rowids run 1..%zu with no gap (no negative left)",
	    nrows);

	/* Place: spread like the real rows, not appended. */
	for (i = 0; i < nrows; i++) {
		if (!rows[i].honey)
			continue;
		tail += i >= nrows - nrows / 10;
		half += i < nrows / 2;
	}
	ok(tail >= 5 && tail <= 40, "honey records in the last 10%% of "
	    "rowids: %zu of %d (expected about 20)", tail, SPREAD_HONEY);
	ok(half >= 70 && half <= 130, "in the first half: %zu (expected "
	    "about 100)", half);
	for (i = nrows; i > 0 && rows[i - 1].honey; i--)
		last_run++;
	ok(last_run < 10, "the rows at the end are not the honey records "
	    "(a run of %zu)", last_run);

	/* Times and epochs: those of the neighbours. */
	for (i = 0; i < nrows; i++) {
		int64_t lo, hi;

		if (!rows[i].honey)
			continue;
		lo = i > 0 ? rows[i - 1].created : rows[i + 1].created;
		hi = i + 1 < nrows ? rows[i + 1].created : lo;
		if (lo > hi) {
			int64_t t = lo;

			lo = hi;
			hi = t;
		}
		if (rows[i].created < lo || rows[i].created > hi ||
		    (rows[i].epoch != (i > 0 ? rows[i - 1].epoch : 0) &&
		    rows[i].epoch != (i + 1 < nrows ? rows[i + 1].epoch : 0)))
			bad_nb++;
		for (k = 0; k < nrows; k++) {
			if (!rows[k].honey && rows[k].created ==
			    rows[i].created) {
				same_created++;
				break;
			}
		}
	}
	is_int(bad_nb, 0, "each honey record's created time lies between its "
	    "neighbours' and its epoch is a neighbour's");
	is_int(same_created, SPREAD_HONEY, "every honey created time is one a "
	    "real customer of this import has");

	/* Regions: the generator's mix. */
	for (i = 0; i < nrows; i++) {
		if (!rows[i].honey)
			continue;
		for (k = 0; k < nregions && strcmp(seen[k], rows[i].region); k++)
			;
		if (k == nregions && nregions < 64)
			snprintf(seen[nregions++], sizeof(seen[0]), "%s",
			    rows[i].region);
	}
	ok(nregions >= 15, "honey regions are spread over %zu provinces",
	    nregions);

	/* Reachable like any customer, made by the generator. */
	for (i = 0; i < n; i++) {
		if (vg_vault_get(v, ids[i], 0, VG_VIEW_CLEAR, rec) != 0 ||
		    !rec->present[F_PHONE] || !rec->present[F_EMAIL])
			continue;
		opened++;
		if (vg_vault_lookup(v, F_PHONE, rec->value[F_PHONE],
		    rec->len[F_PHONE], hit, VG_LOOKUP_MAX, &k, NULL) == 0 &&
		    k == 1 && memcmp(hit[0], ids[i], VG_IDBYTES) == 0)
			found++;
	}
	is_int(opened, SPREAD_HONEY, "every honey record opens, with every "
	    "field");
	is_int(found, SPREAD_HONEY, "every honey record is found by its phone");
	for (i = 0; i < nrows; i++)
		real_hits += !rows[i].honey &&
		    vg_honey_contains((const unsigned char (*)[VG_IDBYTES])ids,
		    n, rows[i].id);
	is_int(real_hits, 0, "vg_honey_contains is false for every real id");
	g = vg_gen_new(SPREAD_SEED);
	if (g != NULL) {
		vg_gen_next(g, &c);
		vg_gen_free(g);
		rc = vg_vault_lookup(v, F_PHONE, c.phone, strlen(c.phone), hit,
		    VG_LOOKUP_MAX, &k, NULL);
		ok(rc == 0 && k == 1 && vg_honey_contains(
		    (const unsigned char (*)[VG_IDBYTES])ids, n, hit[0]),
		    "the first customer of the seed's generator is a honey "
		    "record");
	}

	/* Nothing else in the database changed or names them. */
	query_digest(dir, "SELECT key, value FROM meta ORDER BY key", meta1);
	is_mem(meta1, meta0, 32, "meta is unchanged (no honey counter)");
	query_digest(dir, "SELECT type, name, tbl_name, sql FROM sqlite_master "
	    "ORDER BY name", schema1);
	is_mem(schema1, schema0, 32, "no table or index was added or renamed");
	is_int(scalar(dir, "SELECT count(*) FROM bidx"),
	    bidx0 + 3 * SPREAD_HONEY, "three index entries per honey record, "
	    "as for every customer");
	wal = file_size(path_in(p, sizeof(p), dir, "vigil.db-wal"));
	ok(wal == 0, "the write-ahead log is empty after the plant (%lld "
	    "bytes)", wal);

	/* The set file. */
	path_in(p, sizeof(p), dir, VG_HONEY_SET);
	{
		struct stat sb;

		ok(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0600,
		    "honey.set has mode 0600");
	}
	file = slurp(p, &flen);
	is_int(flen, SET_BYTES(SPREAD_HONEY), "honey.set is header, nonce, "
	    "count, ids and tag");
	ok(file != NULL && memcmp(file, "VGHS\1\0\0\0", 8) == 0,
	    "it starts with the magic and version 1");
	for (i = 0; file != NULL && i < n; i++) {
		for (k = 0; k + VG_IDBYTES <= flen; k++) {
			if (memcmp(file + k, ids[i], VG_IDBYTES) == 0) {
				in_id++;
				break;
			}
		}
	}
	is_int(in_id, 0, "no honey id appears in honey.set in clear");
	free(file);
out:
	free(rows);
	vg_honey_free(ids);
	vg_record_free(rec);
	vg_vault_close(v);
}

/*
 * A vault built as years of one-by-one additions would be: a distinct
 * creation time per customer (one an hour) and a key rotation after 1200
 * of 2000, so times and epochs both grow along the rowids.
 */
#define HIST_REAL 2000
#define HIST_SPLIT 1200
#define HIST_HONEY 100
#define HIST_T0 INT64_C(1600000000)

static void
test_history(void)
{
	unsigned char (*ids)[VG_IDBYTES] = NULL;
	char dir[PATH_MAX], err[VG_ERRMSG_MAX] = "";
	struct vg_gen *g = vg_gen_new(99);
	struct vg_batch *b = vg_batch_new(1);
	struct vg_gen_customer c;
	struct vg_rewrap_stats rs;
	struct vg_record *rec = vg_record_new();
	struct vg_input in;
	struct vg_reject rej;
	struct vg_vault *v = NULL;
	struct row *rows = NULL;
	size_t planted, n = 0, nrows = 0, i, bad = 0, e1 = 0, opened = 0;
	size_t between = 0, created_bad = 0, epoch_bad = 0;
	uint32_t epoch;
	int rc = 0;

	if (g == NULL || b == NULL ||
	    (v = new_vault("history", NULL, dir, sizeof(dir))) == NULL)
		goto out;
	if (vg_vault_rotate(v, &epoch) != 0 || epoch != 2) {
		ok(0, "rotate to epoch 2");
		goto out;
	}
	if ((rc = vg_vault_begin(v)) != 0)
		goto out;
	for (i = 0; rc == 0 && i < HIST_REAL; i++) {
		vg_gen_next(g, &c);
		gen_input(&c, ALL_FIELDS, &in);
		vg_batch_reset(b);
		rc = vg__vault_prepare_as(v, &in, i < HIST_SPLIT ? 1 : 2,
		    HIST_T0 + 3600 * (int64_t)i, b, &rej);
		if (rc == 0)
			rc = vg__vault_put_at(v, b, 0, (int64_t)i + 1);
	}
	if (rc == 0)
		rc = vg_vault_commit(v);
	else
		vg_vault_rollback(v);
	is_int(rc, 0, "a history of %d customers over two epochs", HIST_REAL);
	rc = vg__vault_prepare_as(v, &in, 1, 0, b, &rej);
	is_int(rc, VG_EINVAL, "vg__vault_prepare_as outside a transaction: "
	    "VG_EINVAL");

	rc = vg_honey_plant(v, dir, HIST_HONEY, 0, &planted, err, sizeof(err));
	ok(rc == 0 && planted == HIST_HONEY, "plant %d (%s)", HIST_HONEY,
	    rc != 0 ? err : "ok");
	if (vg_honey_load(v, dir, &ids, &n, err, sizeof(err)) != 0 ||
	    (rows = read_rows(dir, &nrows)) == NULL) {
		ok(0, "read back: %s", err);
		goto out;
	}
	is_int(mark(rows, nrows, (const unsigned char (*)[VG_IDBYTES])ids, n),
	    HIST_HONEY, "every honey id is a row");
	for (i = 1; i < nrows; i++) {
		created_bad += rows[i].created < rows[i - 1].created;
		epoch_bad += rows[i].epoch < rows[i - 1].epoch;
	}
	is_int(created_bad, 0, "created times still never go down along the "
	    "rowids");
	is_int(epoch_bad, 0, "epochs still never go down along the rowids");
	for (i = 0; i < nrows; i++) {
		if (!rows[i].honey)
			continue;
		e1 += rows[i].epoch == 1;
		if (i > 0 && i + 1 < nrows &&
		    rows[i].created > rows[i - 1].created &&
		    rows[i].created < rows[i + 1].created)
			between++;
		if (i > 0 && i + 1 < nrows && rows[i].epoch !=
		    rows[i - 1].epoch && rows[i].epoch != rows[i + 1].epoch)
			bad++;
	}
	is_int(bad, 0, "each honey record has a neighbour's epoch");
	ok(e1 >= 40 && e1 <= 80, "honey records under epoch 1 in proportion: "
	    "%zu of %d (expected about 60)", e1, HIST_HONEY);
	ok(between >= HIST_HONEY * 9 / 10, "honey created times fall strictly "
	    "between their neighbours' (%zu of %d), so none copies a real "
	    "customer's", between, HIST_HONEY);
	for (i = 0; i < n; i++)
		opened += vg_vault_get(v, ids[i], 0, VG_VIEW_CLEAR, rec) == 0;
	is_int(opened, HIST_HONEY, "every honey record opens under its epoch's "
	    "key");

	/* After a rewrap the old epoch is retired: nothing may be sealed
	 * under it any more. */
	rc = vg_vault_rewrap(v, 0, NULL, NULL, &rs);
	ok(rc == 0 && rs.retired == 1, "rewrap re-seals and retires epoch 1");
	for (i = 0, opened = 0; i < n; i++)
		opened += vg_vault_get(v, ids[i], 0, VG_VIEW_CLEAR, rec) == 0;
	is_int(opened, HIST_HONEY, "honey records are rewrapped like the "
	    "others");
	if (vg_vault_begin(v) == 0) {
		vg_batch_reset(b);
		rc = vg__vault_prepare_as(v, &in, 1, HIST_T0, b, &rej);
		is_int(rc, VG_ECRYPTO, "sealing under the retired epoch 1 is "
		    "refused");
		vg_vault_rollback(v);
	}
out:
	free(rows);
	vg_honey_free(ids);
	vg_record_free(rec);
	vg_batch_free(b);
	vg_gen_free(g);
	vg_vault_close(v);
}

/* Real customers without e-mail, account id or address: honey records
 * must lack them too. */
static void
test_fields(void)
{
	unsigned char (*ids)[VG_IDBYTES] = NULL;
	char dir[PATH_MAX], err[VG_ERRMSG_MAX] = "";
	struct vg_record *rec = vg_record_new();
	struct vg_vault *v;
	size_t planted, n = 0, i, same = 0;
	uint32_t mask = (1u << F_NAME) | (1u << F_PHONE) | (1u << F_REGION);
	int rc;

	if ((v = new_vault("fields", NULL, dir, sizeof(dir))) == NULL)
		goto out;
	is_int(fill(v, 5, 300, mask), 0, "300 customers with name, phone and "
	    "region only");
	rc = vg_honey_plant(v, dir, 30, 0, &planted, err, sizeof(err));
	ok(rc == 0, "plant 30 (%s)", rc != 0 ? err : "ok");
	if (vg_honey_load(v, dir, &ids, &n, err, sizeof(err)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (vg_vault_get(v, ids[i], 0, VG_VIEW_MASKED, rec) == 0 &&
		    rec->present[F_NAME] && rec->present[F_PHONE] &&
		    rec->present[F_REGION] && !rec->present[F_EMAIL] &&
		    !rec->present[F_ACCOUNT] && !rec->present[F_ADDRESS])
			same++;
	}
	is_int(same, 30, "every honey record holds exactly the real ones' "
	    "fields");
out:
	vg_honey_free(ids);
	vg_record_free(rec);
	vg_vault_close(v);
}

/* A synthetic world's own honeytokens: records imported like the others,
 * then adopted into the set. */
static void
test_adopt(void)
{
	unsigned char (*ids)[VG_IDBYTES] = NULL, mine[4][VG_IDBYTES];
	unsigned char ghost[1][VG_IDBYTES];
	struct vg_gen_customer c;
	struct vg_input in;
	struct vg_reject rej;
	char dir[PATH_MAX], err[VG_ERRMSG_MAX] = "";
	struct vg_gen *g = vg_gen_new(42);
	struct vg_vault *v;
	size_t n = 0, i, found = 0;
	int rc, k, good = 1;

	if (g == NULL || (v = new_vault("adopt", NULL, dir, sizeof(dir))) ==
	    NULL) {
		vg_gen_free(g);
		return;
	}
	for (k = 0; k < 20; k++) {
		unsigned char id[VG_IDBYTES];

		vg_gen_next(g, &c);
		gen_input(&c, 0x3f, &in);
		good &= vg_vault_add(v, &in, id, &rej) == 0;
		if (k % 5 == 0)
			memcpy(mine[k / 5], id, VG_IDBYTES);
	}
	ok(good, "20 customers added");
	rc = vg_honey_adopt(v, dir, (const unsigned char (*)[VG_IDBYTES])mine,
	    3, err, sizeof(err));
	ok(rc == 0, "three of them adopted as honeytokens (%s)",
	    rc != 0 ? err : "ok");
	rc = vg_honey_load(v, dir, &ids, &n, err, sizeof(err));
	for (i = 0; rc == 0 && i < 3; i++)
		found += vg_honey_contains((const unsigned char (*)
		    [VG_IDBYTES])ids, n, mine[i]);
	ok(rc == 0 && n == 3 && found == 3, "the set holds exactly them");
	vg_honey_free(ids);
	ids = NULL;
	randombytes_buf(ghost[0], VG_IDBYTES);
	memcpy(mine[3], ghost[0], VG_IDBYTES);
	rc = vg_honey_adopt(v, dir, (const unsigned char (*)[VG_IDBYTES])
	    &mine[2], 2, err, sizeof(err));
	is_int(rc, VG_ENOTFOUND, "an id that is no customer: VG_ENOTFOUND");
	ok(strstr(err, "not in the vault") != NULL, "and says so: %s", err);
	rc = vg_honey_load(v, dir, &ids, &n, err, sizeof(err));
	ok(rc == 0 && n == 3, "the set is unchanged (%zu)", n);
	vg_honey_free(ids);
	ids = NULL;
	rc = vg_honey_adopt(v, dir, (const unsigned char (*)[VG_IDBYTES])mine,
	    2, err, sizeof(err));
	rc = rc == 0 ? vg_honey_load(v, dir, &ids, &n, err, sizeof(err)) : rc;
	ok(rc == 0 && n == 3, "adopting ones already there adds nothing");
	vg_honey_free(ids);
	is_int(vg_honey_adopt(v, dir, (const unsigned char (*)[VG_IDBYTES])mine,
	    0, err, sizeof(err)), VG_EINVAL, "none: VG_EINVAL");
	vg_gen_free(g);
	vg_vault_close(v);
}

/*-----------------------------------------------------------------------------
 * The set file
 */

static void
test_set_file(void)
{
	unsigned char (*ids)[VG_IDBYTES] = NULL;
	unsigned char (*first)[VG_IDBYTES] = NULL;
	char dir[PATH_MAX], other[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
	char err[VG_ERRMSG_MAX] = "";
	struct vg_vault *v = NULL, *w = NULL;
	unsigned char *good = NULL, *bad = NULL;
	size_t planted, n = 0, nfirst = 0, glen = 0, i, kept = 0;
	int rc;

	if ((v = new_vault("setfile", NULL, dir, sizeof(dir))) == NULL ||
	    (w = new_vault("setother", NULL, other, sizeof(other))) == NULL)
		goto out;
	if (fill(v, 21, 300, ALL_FIELDS) != 0 ||
	    fill(w, 22, 300, ALL_FIELDS) != 0) {
		ok(0, "fill two vaults");
		goto out;
	}
	rc = vg_honey_plant(v, dir, 20, 0, &planted, err, sizeof(err));
	ok(rc == 0, "plant 20 (%s)", rc != 0 ? err : "ok");
	if (vg_honey_load(v, dir, &first, &nfirst, err, sizeof(err)) != 0)
		goto out;
	path_in(p, sizeof(p), dir, VG_HONEY_SET);
	good = slurp(p, &glen);
	bad = malloc(glen + 16);
	if (good == NULL || bad == NULL || glen != SET_BYTES(20)) {
		ok(0, "read honey.set (%zu bytes)", glen);
		goto out;
	}

	/* Planting again adds to the set. */
	rc = vg_honey_plant(v, dir, 30, 0, &planted, err, sizeof(err));
	ok(rc == 0 && planted == 30, "plant 30 more (%s)", rc ? err : "ok");
	rc = vg_honey_load(v, dir, &ids, &n, err, sizeof(err));
	is_int(n, 50, "the set now holds 50");
	for (i = 0; i < nfirst; i++)
		kept += vg_honey_contains((const unsigned char (*)[VG_IDBYTES])
		    ids, n, first[i]);
	is_int(kept, 20, "including the first 20");
	is_int(customers(v), 350, "and the vault 350 customers");
	is_int(file_size(p), SET_BYTES(50), "honey.set grew by 30 ids");
	vg_honey_free(ids);
	ids = NULL;

	/* Damage: each is an error that says so, never an empty set. */
	memcpy(bad, good, glen);
	bad[glen / 2] ^= 0x01;
	spit(p, bad, glen);
	err[0] = '\0';
	rc = vg_honey_load(v, dir, &ids, &n, err, sizeof(err));
	ok(rc == VG_ECRYPTO && n == 0 && ids == NULL, "a flipped bit: "
	    "VG_ECRYPTO, no ids");
	ok(strstr(err, "does not open") != NULL, "the reason: %s", err);
	rc = vg_honey_plant(v, dir, 1, 0, &planted, err, sizeof(err));
	is_int(rc, VG_ECRYPTO, "plant refuses to replace a damaged set");
	{
		size_t blen = 0;
		unsigned char *now = slurp(p, &blen);

		ok(now != NULL && blen == glen && memcmp(now, bad, glen) == 0,
		    "and leaves it as it was");
		free(now);
	}
	is_int(customers(v), 350, "nothing was planted");

	memcpy(bad, good, glen);
	bad[4] = 2;
	spit(p, bad, glen);
	rc = vg_honey_load(v, dir, &ids, &n, err, sizeof(err));
	ok(rc == VG_EFORMAT && strstr(err, "version 2") != NULL,
	    "version 2: VG_EFORMAT naming the version (%s)", err);
	memcpy(bad, good, glen);
	bad[0] = 'X';
	spit(p, bad, glen);
	rc = vg_honey_load(v, dir, &ids, &n, err, sizeof(err));
	ok(rc == VG_EFORMAT && strstr(err, "magic") != NULL,
	    "bad magic: VG_EFORMAT (%s)", err);
	spit(p, good, glen - 5);
	rc = vg_honey_load(v, dir, &ids, &n, err, sizeof(err));
	is_int(rc, VG_EFORMAT, "5 bytes short: VG_EFORMAT");
	spit(p, good, 10);
	rc = vg_honey_load(v, dir, &ids, &n, err, sizeof(err));
	is_int(rc, VG_EFORMAT, "10 bytes: VG_EFORMAT");
	spit(p, good, glen);
	chmod(p, 0644);
	rc = vg_honey_load(v, dir, &ids, &n, err, sizeof(err));
	ok(rc == VG_EINVAL && strstr(err, "chmod 600") != NULL,
	    "readable by others: refused (%s)", err);
	chmod(p, 0600);
	rc = vg_honey_load(v, dir, &ids, &n, err, sizeof(err));
	ok(rc == 0 && n == 20, "the first set restored: 20 again");
	vg_honey_free(ids);
	ids = NULL;

	/* Another vault's key. */
	path_in(q, sizeof(q), other, VG_HONEY_SET);
	spit(q, good, glen);
	rc = vg_honey_load(w, other, &ids, &n, err, sizeof(err));
	ok(rc == VG_ECRYPTO && strstr(err, "another vault") != NULL,
	    "the set in another vault: VG_ECRYPTO (%s)", err);
	unlink(q);
out:
	free(good);
	free(bad);
	vg_honey_free(first);
	vg_honey_free(ids);
	vg_vault_close(v);
	vg_vault_close(w);
}

/* Two vaults under one master key (VIGIL_MASTER_KEY): the vault id in
 * the associated data keeps one's set from opening in the other. */
static void
test_same_key(void)
{
	unsigned char key[VG_KEYBYTES];
	unsigned char (*ids)[VG_IDBYTES] = NULL;
	char b64[64], dir[PATH_MAX], other[PATH_MAX], p[PATH_MAX];
	char q[PATH_MAX], err[VG_ERRMSG_MAX] = "";
	struct vg_vault *v = NULL, *w = NULL;
	unsigned char *buf = NULL;
	size_t planted, n = 0, len = 0;
	int rc;

	randombytes_buf(key, sizeof(key));
	vg_b64_encode_key(b64, sizeof(b64), key);
	setenv(VG_MASTER_ENV, b64, 1);
	if ((v = new_vault("envone", NULL, dir, sizeof(dir))) == NULL ||
	    (w = new_vault("envtwo", NULL, other, sizeof(other))) == NULL)
		goto out;
	if (fill(v, 31, 50, ALL_FIELDS) != 0 ||
	    fill(w, 32, 50, ALL_FIELDS) != 0)
		goto out;
	rc = vg_honey_plant(v, dir, 5, 0, &planted, err, sizeof(err));
	is_int(rc, 0, "plant into a vault keyed from the environment");
	buf = slurp(path_in(p, sizeof(p), dir, VG_HONEY_SET), &len);
	spit(path_in(q, sizeof(q), other, VG_HONEY_SET), buf, len);
	rc = vg_honey_load(w, other, &ids, &n, err, sizeof(err));
	is_int(rc, VG_ECRYPTO, "its set does not open in another vault with "
	    "the same master key");
out:
	unsetenv(VG_MASTER_ENV);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(b64, sizeof(b64));
	free(buf);
	vg_honey_free(ids);
	vg_vault_close(v);
	vg_vault_close(w);
}

/* A plant joined to the caller's transaction and rolled back: the set
 * was written, the records were not; load skips the stale ids and the
 * next plant drops them. */
static void
test_rollback(void)
{
	char dir[PATH_MAX], p[PATH_MAX], err[VG_ERRMSG_MAX] = "";
	struct vg_vault *v;
	size_t planted = 0;
	int rc;

	if ((v = new_vault("rollback", NULL, dir, sizeof(dir))) == NULL)
		return;
	if (fill(v, 41, 200, ALL_FIELDS) != 0 ||
	    vg_honey_plant(v, dir, 10, 0, &planted, err, sizeof(err)) != 0) {
		ok(0, "a vault with 10 honey records: %s", err);
		goto out;
	}
	path_in(p, sizeof(p), dir, VG_HONEY_SET);
	if (vg_vault_begin(v) != 0) {
		ok(0, "begin");
		goto out;
	}
	rc = vg_honey_plant(v, dir, 7, 0, &planted, err, sizeof(err));
	ok(rc == 0 && planted == 7, "a plant inside the caller's transaction");
	is_int(customers(v), 217, "sees its own records before commit");
	vg_vault_rollback(v);
	is_int(customers(v), 210, "rolled back: the 7 are gone");
	is_int(file_size(p), SET_BYTES(17), "the set written before the "
	    "commit lists 17");
	is_int(honey_count(v, dir), 10, "load counts only the 10 that exist");
	rc = vg_honey_plant(v, dir, 3, 0, &planted, err, sizeof(err));
	is_int(rc, 0, "plant 3 more");
	is_int(file_size(p), SET_BYTES(13), "the next plant dropped the 7 "
	    "stale ids: 13");
	is_int(honey_count(v, dir), 13, "13 honey records");
	rc = vg_vault_begin(v);
	if (rc == 0) {
		rc = vg_vault_checkpoint(v);
		is_int(rc, VG_EINVAL, "no checkpoint inside a transaction");
		vg_vault_rollback(v);
	}
out:
	vg_vault_close(v);
}

int
main(void)
{
	snprintf(root, sizeof(root), "/tmp/t_honey.XXXXXX");
	if (mkdtemp(root) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return done_testing();
	}
	unsetenv(VG_MASTER_ENV);
	if (vg_crypto_init() != 0)
		ok(0, "vg_crypto_init");
	test_refusals();
	test_spread();
	test_history();
	test_fields();
	test_adopt();
	test_set_file();
	test_same_key();
	test_rollback();
	(void)nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
