/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The embedded store: one SQLite database in WAL mode.  Every statement
 * is prepared once and bound; no SQL is ever built from data.
 *
 * Tables (see docs/internals/store.md):
 *   meta(key, value)                 format, schema, master key check
 *   keys(kind, epoch, state, wrapped) data keys wrapped by the KEK
 *   customers(id, region, epoch, created, fields)   sealed fields
 *   bidx(k = field || digest || id)  blind indexes for exact lookup
 *   principals(id, org, kind, role, region, shift, state, created)
 *   api_keys(key_id, principal, hash, state, created)  keyed hashes only
 *   cases(id, customer, assignee, opened_by, channel, state, self_opened,
 *         created, expires, closed)
 *   approvals(id, principal, customer, fields, purpose, case_id, why,
 *         state, decided_by, created, expires, decided)
 *   alerts(id, time, principal, severity, rule, state, acked_by,
 *         acked_at, json)            the detector's alerts, no values
 *   exports(id, principal, consumer, recipient, purpose, created, nrows,
 *         ncanaries, clear, fields, region, chain, manifest_seq,
 *         canary_set)                export manifests
 *   export_canary(field, digest, export_id)  each canary's blind-index
 *                                    digests (never a value)
 *
 * cases and approvals are WITHOUT ROWID tables keyed by their text id: a
 * reveal reads its case with one B-tree descent instead of two.
 * customers is a rowid table with a unique index on the random id: the
 * wide rows are appended, only the narrow index takes random inserts
 * (measured: 7.0 s -> 4.4 s for 300,000 customers against a WITHOUT
 * ROWID table keyed by id).  bidx is one 33-byte blob key per entry,
 * which compares faster than a three-column key (4.4 s -> 4.0 s).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "store.h"

enum {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_RBEGIN,
	ST_META_GET, ST_META_SET,
	ST_KEY_PUT, ST_KEY_EACH,
	ST_CUS_PUT, ST_CUS_GET, ST_CUS_UPDATE, ST_CUS_SCAN, ST_CUS_SCAN0,
	ST_CUS_WALK, ST_CUS_PUT_AT, ST_CUS_MOVE,
	ST_IDX_PUT, ST_IDX_FIND,
	ST_STALE,
	/* Prepared on first use (tables_principals() adds the tables to a
	 * vault made before they existed). */
	ST_PR_PUT, ST_PR_GET, ST_PR_EACH, ST_PR_STATE,
	ST_AK_PUT, ST_AK_GET, ST_AK_EACH, ST_AK_STATE,
	ST_CASE_PUT, ST_CASE_GET, ST_CASE_UPDATE,
	ST_APR_PUT, ST_APR_GET, ST_APR_MOVE, ST_APR_PENDING,
	ST_AL_PUT, ST_AL_GET, ST_AL_LIST, ST_AL_ACK,
	ST_EX_PUT, ST_EX_GET, ST_EX_EACH, ST_CAN_PUT, ST_CAN_FIND,
	ST__COUNT
};

static const char *const sql_text[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_RBEGIN] = "BEGIN DEFERRED",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[ST_KEY_PUT] = "INSERT INTO keys(kind, epoch, state, wrapped) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(kind, epoch) DO UPDATE "
	    "SET state = excluded.state, wrapped = excluded.wrapped",
	[ST_KEY_EACH] = "SELECT kind, epoch, state, wrapped FROM keys "
	    "ORDER BY kind, epoch",
	[ST_CUS_PUT] = "INSERT INTO customers(id, region, epoch, created, "
	    "fields) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_CUS_GET] = "SELECT region, epoch, created, fields FROM customers "
	    "WHERE id = ?1",
	[ST_CUS_UPDATE] = "UPDATE customers SET epoch = ?2, fields = ?3 "
	    "WHERE id = ?1",
	[ST_CUS_SCAN] = "SELECT id, region, epoch, created, fields FROM "
	    "customers WHERE id > ?1 ORDER BY id LIMIT ?2",
	[ST_CUS_SCAN0] = "SELECT id, region, epoch, created, fields FROM "
	    "customers ORDER BY id LIMIT ?2",
	[ST_CUS_WALK] = "SELECT rowid, id, region, epoch, created, fields "
	    "FROM customers ORDER BY rowid",
	[ST_CUS_PUT_AT] = "INSERT INTO customers(rowid, id, region, epoch, "
	    "created, fields) VALUES (?6, ?1, ?2, ?3, ?4, ?5)",
	[ST_CUS_MOVE] = "UPDATE customers SET rowid = rowid + ?3 "
	    "WHERE rowid >= ?1 AND rowid <= ?2",
	[ST_IDX_PUT] = "INSERT OR IGNORE INTO bidx(k) VALUES (?1)",
	[ST_IDX_FIND] = "SELECT k FROM bidx WHERE k > ?1 AND k <= ?2 "
	    "ORDER BY k LIMIT ?3",
	[ST_STALE] = "SELECT count(*) FROM customers WHERE epoch <> ?1",
	[ST_PR_PUT] = "INSERT INTO principals(id, org, kind, role, region, "
	    "shift, state, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_PR_GET] = "SELECT id, org, kind, role, region, shift, state, "
	    "created FROM principals WHERE id = ?1",
	[ST_PR_EACH] = "SELECT id, org, kind, role, region, shift, state, "
	    "created FROM principals ORDER BY id",
	[ST_PR_STATE] = "UPDATE principals SET state = ?2 WHERE id = ?1",
	[ST_AK_PUT] = "INSERT INTO api_keys(key_id, principal, hash, state, "
	    "created) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_AK_GET] = "SELECT key_id, principal, state, created, hash FROM "
	    "api_keys WHERE key_id = ?1",
	[ST_AK_EACH] = "SELECT key_id, principal, state, created, hash FROM "
	    "api_keys WHERE principal = ?1 ORDER BY key_id",
	[ST_AK_STATE] = "UPDATE api_keys SET state = ?2 WHERE key_id = ?1",
	[ST_CASE_PUT] = "INSERT INTO cases(id, customer, assignee, "
	    "opened_by, channel, state, self_opened, created, expires, "
	    "closed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_CASE_GET] = "SELECT id, customer, assignee, opened_by, channel, "
	    "state, self_opened, created, expires, closed FROM cases "
	    "WHERE id = ?1",
	[ST_CASE_UPDATE] = "UPDATE cases SET assignee = coalesce(?2, "
	    "assignee), state = ?3, closed = ?4 WHERE id = ?1 AND "
	    "state = 'open'",
	[ST_APR_PUT] = "INSERT INTO approvals(id, principal, customer, "
	    "fields, purpose, case_id, why, state, decided_by, created, "
	    "expires, decided) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
	    "?10, ?11, ?12)",
	[ST_APR_GET] = "SELECT id, principal, customer, fields, purpose, "
	    "case_id, why, state, decided_by, created, expires, decided "
	    "FROM approvals WHERE id = ?1",
	[ST_APR_MOVE] = "UPDATE approvals SET state = ?3, decided_by = "
	    "coalesce(?4, decided_by), decided = CASE WHEN ?4 IS NULL THEN "
	    "decided ELSE ?5 END WHERE id = ?1 AND state = ?2",
	[ST_APR_PENDING] = "SELECT count(*) FROM approvals WHERE "
	    "principal = ?1 AND state = 'pending' AND expires > ?2",
	[ST_AL_PUT] = "INSERT INTO alerts(id, time, principal, severity, "
	    "rule, state, acked_by, acked_at, json) VALUES (?1, ?2, ?3, ?4, "
	    "?5, 'open', '', 0, ?6)",
	[ST_AL_GET] = "SELECT id, time, principal, severity, rule, state, "
	    "acked_by, acked_at, json FROM alerts WHERE id = ?1",
	[ST_AL_LIST] = "SELECT id, time, principal, severity, rule, state, "
	    "acked_by, acked_at, json FROM alerts WHERE (?1 IS NULL OR "
	    "principal = ?1) AND (?2 IS NULL OR state = ?2) AND severity >= "
	    "?3 AND (?4 = 0 OR time < ?4 OR (time = ?4 AND ?6 IS NOT NULL "
	    "AND id < ?6)) ORDER BY time DESC, id DESC LIMIT ?5",
	[ST_AL_ACK] = "UPDATE alerts SET state = 'acked', acked_by = ?2, "
	    "acked_at = ?3 WHERE id = ?1 AND state = 'open'",
	[ST_EX_PUT] = "INSERT INTO exports(id, principal, consumer, "
	    "recipient, purpose, created, nrows, ncanaries, clear, fields, "
	    "region, chain, manifest_seq, canary_set) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[ST_EX_GET] = "SELECT id, principal, consumer, recipient, purpose, "
	    "created, nrows, ncanaries, clear, fields, region, chain, "
	    "manifest_seq, canary_set FROM exports WHERE id = ?1",
	[ST_EX_EACH] = "SELECT id, principal, consumer, recipient, purpose, "
	    "created, nrows, ncanaries, clear, fields, region, chain, "
	    "manifest_seq, canary_set FROM exports ORDER BY created DESC, "
	    "manifest_seq DESC, id DESC LIMIT ?1",
	[ST_CAN_PUT] = "INSERT INTO export_canary(field, digest, export_id) "
	    "VALUES (?1, ?2, ?3)",
	[ST_CAN_FIND] = "SELECT export_id FROM export_canary WHERE "
	    "field = ?1 AND digest = ?2",
};

#define ST__EAGER ST_PR_PUT	/* statements prepared at open */

#define PRINCIPALS_SQL(ine)						\
	"CREATE TABLE " ine "principals(id TEXT PRIMARY KEY,"		\
	" org TEXT NOT NULL, kind TEXT NOT NULL, role TEXT NOT NULL,"	\
	" region TEXT NOT NULL, shift TEXT NOT NULL,"			\
	" state TEXT NOT NULL, created INTEGER NOT NULL);"		\
	"CREATE TABLE " ine "api_keys(key_id TEXT PRIMARY KEY,"		\
	" principal TEXT NOT NULL REFERENCES principals(id),"		\
	" hash BLOB NOT NULL, state TEXT NOT NULL,"			\
	" created INTEGER NOT NULL);"					\
	"CREATE INDEX " ine "api_keys_principal ON api_keys(principal);" \
	"CREATE TABLE " ine "cases(id TEXT PRIMARY KEY,"		\
	" customer BLOB NOT NULL, assignee TEXT NOT NULL,"		\
	" opened_by TEXT NOT NULL, channel TEXT NOT NULL,"		\
	" state TEXT NOT NULL, self_opened INTEGER NOT NULL,"		\
	" created INTEGER NOT NULL, expires INTEGER NOT NULL,"		\
	" closed INTEGER NOT NULL) WITHOUT ROWID;"			\
	"CREATE TABLE " ine "approvals(id TEXT PRIMARY KEY,"		\
	" principal TEXT NOT NULL, customer BLOB NOT NULL,"		\
	" fields INTEGER NOT NULL, purpose TEXT NOT NULL,"		\
	" case_id TEXT NOT NULL, why TEXT NOT NULL, state TEXT NOT NULL,"\
	" decided_by TEXT NOT NULL, created INTEGER NOT NULL,"		\
	" expires INTEGER NOT NULL, decided INTEGER NOT NULL) WITHOUT ROWID;"\
	"CREATE TABLE " ine "alerts(id TEXT PRIMARY KEY,"		\
	" time INTEGER NOT NULL, principal TEXT NOT NULL,"		\
	" severity INTEGER NOT NULL, rule TEXT NOT NULL,"		\
	" state TEXT NOT NULL, acked_by TEXT NOT NULL,"			\
	" acked_at INTEGER NOT NULL, json TEXT NOT NULL);"		\
	"CREATE INDEX " ine "alerts_time ON alerts(time);"		\
	"CREATE INDEX " ine "alerts_principal ON alerts(principal, time);"\
	"CREATE TABLE " ine "exports(id TEXT PRIMARY KEY,"		\
	" principal TEXT NOT NULL, consumer TEXT NOT NULL,"		\
	" recipient TEXT NOT NULL, purpose TEXT NOT NULL,"		\
	" created INTEGER NOT NULL, nrows INTEGER NOT NULL,"		\
	" ncanaries INTEGER NOT NULL, clear TEXT NOT NULL,"		\
	" fields TEXT NOT NULL, region TEXT NOT NULL,"			\
	" chain TEXT NOT NULL, manifest_seq INTEGER NOT NULL,"		\
	" canary_set TEXT NOT NULL) WITHOUT ROWID;"			\
	"CREATE INDEX " ine "exports_created ON exports(created);"	\
	"CREATE TABLE " ine "export_canary(field INTEGER NOT NULL,"	\
	" digest BLOB NOT NULL, export_id TEXT NOT NULL,"		\
	" PRIMARY KEY(field, digest)) WITHOUT ROWID;"


static const char schema_sql[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE keys(kind TEXT NOT NULL, epoch INTEGER NOT NULL,"
	" state TEXT NOT NULL, wrapped BLOB,"
	" PRIMARY KEY(kind, epoch));"
	"CREATE TABLE customers(id BLOB NOT NULL UNIQUE,"
	" region TEXT NOT NULL, epoch INTEGER NOT NULL,"
	" created INTEGER NOT NULL, fields BLOB NOT NULL);"
	"CREATE TABLE bidx(k BLOB PRIMARY KEY) WITHOUT ROWID;"
	PRINCIPALS_SQL("");

#define IDX_KEY (1 + VG_BIDXBYTES + VG_IDBYTES)

struct sq_store {
	struct vg_store base;
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST__COUNT];
};

static struct sq_store *
sq(struct vg_store *s)
{
	return (struct sq_store *)s;
}

/* Runs a reset statement to completion; returns 0 or VG_ESTORE. */
static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_CONSTRAINT)
		return VG_EEXIST;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return VG_EBUSY;
	return VG_ESTORE;
}

static void
sq_close(struct vg_store *s)
{
	struct sq_store *q = sq(s);
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close(q->db);
	free(q->path);
	free(q);
}

static int
sq_begin(struct vg_store *s)
{
	return step_done(sq(s)->st[ST_BEGIN]);
}

static int
sq_commit(struct vg_store *s)
{
	return step_done(sq(s)->st[ST_COMMIT]);
}

/* Ends the open transaction, if any, with statement which. */
static int
end_txn(struct vg_store *s, int which)
{
	if (sqlite3_get_autocommit(sq(s)->db))
		return 0;
	return step_done(sq(s)->st[which]);
}

static int
sq_rollback(struct vg_store *s)
{
	return end_txn(s, ST_ROLLBACK);
}

static int
sq_read_begin(struct vg_store *s)
{
	return step_done(sq(s)->st[ST_RBEGIN]);
}

static int
sq_read_end(struct vg_store *s)
{
	return end_txn(s, ST_COMMIT);
}

static int
sq_meta_get(struct vg_store *s, const char *key, void *buf, size_t cap,
    size_t *len)
{
	sqlite3_stmt *st = sq(s)->st[ST_META_GET];
	int rc;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		const void *v = sqlite3_column_blob(st, 0);

		if (n > cap) {
			rc = VG_ETOOBIG;
		} else {
			if (n > 0)
				memcpy(buf, v, n);
			*len = n;
			rc = 0;
		}
	} else {
		rc = rc == SQLITE_DONE ? VG_ENOTFOUND : VG_ESTORE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int
sq_meta_set(struct vg_store *s, const char *key, const void *val, size_t len)
{
	sqlite3_stmt *st = sq(s)->st[ST_META_SET];

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, val, (int)len, SQLITE_STATIC);
	return step_done(st);
}

static int
sq_key_put(struct vg_store *s, const char *kind, uint32_t epoch,
    const char *state, const unsigned char *wrapped)
{
	sqlite3_stmt *st = sq(s)->st[ST_KEY_PUT];

	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, epoch);
	sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	if (wrapped != NULL)
		sqlite3_bind_blob(st, 4, wrapped, VG_WRAPPEDBYTES,
		    SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	return step_done(st);
}

static void
copy_text(char *dst, size_t cap, const unsigned char *src)
{
	size_t n = src != NULL ? strlen((const char *)src) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static int
sq_key_each(struct vg_store *s, vg_key_cb cb, void *ctx)
{
	sqlite3_stmt *st = sq(s)->st[ST_KEY_EACH];
	struct vg_key_row k;
	int rc, ret = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&k, 0, sizeof(k));
		copy_text(k.kind, sizeof(k.kind), sqlite3_column_text(st, 0));
		k.epoch = (uint32_t)sqlite3_column_int64(st, 1);
		copy_text(k.state, sizeof(k.state), sqlite3_column_text(st, 2));
		if (sqlite3_column_type(st, 3) == SQLITE_BLOB) {
			if (sqlite3_column_bytes(st, 3) != VG_WRAPPEDBYTES) {
				ret = VG_EFORMAT;
				break;
			}
			memcpy(k.wrapped, sqlite3_column_blob(st, 3),
			    VG_WRAPPEDBYTES);
			k.has_key = 1;
		}
		ret = cb(ctx, &k);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = VG_ESTORE;
	sqlite3_reset(st);
	return ret;
}

static int
sq_customer_put(struct vg_store *s, const struct vg_srec *r)
{
	sqlite3_stmt *st = sq(s)->st[ST_CUS_PUT];

	sqlite3_bind_blob(st, 1, r->id, VG_IDBYTES, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->region, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->epoch);
	sqlite3_bind_int64(st, 4, r->created);
	sqlite3_bind_blob(st, 5, r->blob, (int)r->bloblen, SQLITE_STATIC);
	return step_done(st);
}

/* Reads the current row of a customer query whose columns start at col
 * (region, epoch, created, fields). */
static int
read_row(sqlite3_stmt *st, int col, struct vg_srec *r, unsigned char *buf,
    size_t cap)
{
	size_t n = (size_t)sqlite3_column_bytes(st, col + 3);

	copy_text(r->region, sizeof(r->region), sqlite3_column_text(st, col));
	r->epoch = (uint32_t)sqlite3_column_int64(st, col + 1);
	r->created = sqlite3_column_int64(st, col + 2);
	if (n > cap)
		return VG_ETOOBIG;
	if (n > 0)
		memcpy(buf, sqlite3_column_blob(st, col + 3), n);
	r->blob = buf;
	r->bloblen = n;
	return 0;
}

static int
sq_customer_get(struct vg_store *s, const unsigned char *id,
    struct vg_srec *r, unsigned char *buf, size_t cap)
{
	sqlite3_stmt *st = sq(s)->st[ST_CUS_GET];
	int rc;

	sqlite3_bind_blob(st, 1, id, VG_IDBYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memcpy(r->id, id, VG_IDBYTES);
		rc = read_row(st, 0, r, buf, cap);
	} else {
		rc = rc == SQLITE_DONE ? VG_ENOTFOUND : VG_ESTORE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int
sq_customer_update(struct vg_store *s, const struct vg_srec *r)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = q->st[ST_CUS_UPDATE];
	int rc;

	sqlite3_bind_blob(st, 1, r->id, VG_IDBYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->epoch);
	sqlite3_bind_blob(st, 3, r->blob, (int)r->bloblen, SQLITE_STATIC);
	rc = step_done(st);
	if (rc == 0 && sqlite3_changes(q->db) != 1)
		rc = VG_ENOTFOUND;
	return rc;
}

static int
sq_customer_scan(struct vg_store *s, const unsigned char *after,
    uint32_t keep_epoch, size_t max, vg_rec_cb cb, void *ctx,
    unsigned char *last, size_t *n)
{
	sqlite3_stmt *st = sq(s)->st[after != NULL ? ST_CUS_SCAN : ST_CUS_SCAN0];
	unsigned char *buf;
	struct vg_srec r;
	int rc, ret = 0;

	*n = 0;
	buf = malloc(VG_BLOB_MAX);
	if (buf == NULL)
		return VG_ENOMEM;
	if (after != NULL)
		sqlite3_bind_blob(st, 1, after, VG_IDBYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != VG_IDBYTES) {
			ret = VG_EFORMAT;
			break;
		}
		memcpy(r.id, sqlite3_column_blob(st, 0), VG_IDBYTES);
		memcpy(last, r.id, VG_IDBYTES);
		(*n)++;
		ret = read_row(st, 1, &r, buf, VG_BLOB_MAX);
		if (ret != 0)
			break;
		if (r.epoch == keep_epoch)
			continue;
		ret = cb(ctx, &r);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = VG_ESTORE;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(buf);
	return ret;
}

static int
sq_customer_walk(struct vg_store *s, vg_seq_cb cb, void *ctx)
{
	sqlite3_stmt *st = sq(s)->st[ST_CUS_WALK];
	unsigned char *buf;
	struct vg_srec r;
	int rc, ret = 0;

	buf = malloc(VG_BLOB_MAX);
	if (buf == NULL)
		return VG_ENOMEM;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != VG_IDBYTES) {
			ret = VG_EFORMAT;
			break;
		}
		memcpy(r.id, sqlite3_column_blob(st, 1), VG_IDBYTES);
		ret = read_row(st, 2, &r, buf, VG_BLOB_MAX);
		if (ret == 0)
			ret = cb(ctx, sqlite3_column_int64(st, 0), &r);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = VG_ESTORE;
	sqlite3_reset(st);
	free(buf);
	return ret;
}

static int
sq_customer_put_at(struct vg_store *s, const struct vg_srec *r, int64_t seq)
{
	sqlite3_stmt *st = sq(s)->st[ST_CUS_PUT_AT];

	sqlite3_bind_blob(st, 1, r->id, VG_IDBYTES, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->region, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->epoch);
	sqlite3_bind_int64(st, 4, r->created);
	sqlite3_bind_blob(st, 5, r->blob, (int)r->bloblen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, seq);
	return step_done(st);
}

/*
 * One UPDATE of the rowid over a range.  SQLite collects the rowids of
 * the range first and then moves them in ascending order, so a caller
 * that moves rows to a free region in their final order gets them
 * appended, and packed into pages, as an import would have written them.
 */
static int
sq_customer_move(struct vg_store *s, int64_t lo, int64_t hi, int64_t delta)
{
	sqlite3_stmt *st = sq(s)->st[ST_CUS_MOVE];

	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	sqlite3_bind_int64(st, 3, delta);
	return step_done(st);
}

static int
sq_index_put(struct vg_store *s, unsigned field, const unsigned char *digest,
    const unsigned char *id)
{
	sqlite3_stmt *st = sq(s)->st[ST_IDX_PUT];
	unsigned char k[IDX_KEY];

	k[0] = (unsigned char)field;
	memcpy(k + 1, digest, VG_BIDXBYTES);
	memcpy(k + 1 + VG_BIDXBYTES, id, VG_IDBYTES);
	sqlite3_bind_blob(st, 1, k, sizeof(k), SQLITE_TRANSIENT);
	return step_done(st);
}

static int
sq_index_find(struct vg_store *s, unsigned field, const unsigned char *digest,
    unsigned char (*ids)[VG_IDBYTES], size_t max, size_t *n)
{
	sqlite3_stmt *st = sq(s)->st[ST_IDX_FIND];
	unsigned char lo[1 + VG_BIDXBYTES], hi[IDX_KEY];
	int rc, ret = 0;

	/* Keys are field || digest || id.  Those of one (field, digest)
	 * sort after the bare prefix (a proper prefix is smaller) and at or
	 * before the prefix followed by sixteen 0xff bytes. */
	lo[0] = (unsigned char)field;
	memcpy(lo + 1, digest, VG_BIDXBYTES);
	memcpy(hi, lo, sizeof(lo));
	memset(hi + sizeof(lo), 0xff, VG_IDBYTES);
	*n = 0;
	sqlite3_bind_blob(st, 1, lo, sizeof(lo), SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, hi, sizeof(hi), SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != IDX_KEY) {
			ret = VG_EFORMAT;
			break;
		}
		memcpy(ids[*n], (const unsigned char *)sqlite3_column_blob(st,
		    0) + 1 + VG_BIDXBYTES, VG_IDBYTES);
		(*n)++;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = VG_ESTORE;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

static int
scalar(sqlite3 *db, const char *sql, uint64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return VG_ESTORE;
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : VG_ESTORE;
}

static uint64_t
file_size(const char *path, const char *suffix)
{
	char buf[4096];
	struct stat sb;

	if ((size_t)snprintf(buf, sizeof(buf), "%s%s", path, suffix) >=
	    sizeof(buf))
		return 0;
	return stat(buf, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static int
sq_counts(struct vg_store *s, struct vg_store_counts *c)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = scalar(q->db, "SELECT count(*) FROM customers", &c->customers);
	if (rc == 0)
		rc = scalar(q->db, "SELECT count(*) FROM bidx",
		    &c->index_entries);
	if (rc != 0)
		return rc;
	if (sqlite3_prepare_v2(q->db, "SELECT epoch, count(*) FROM customers "
	    "GROUP BY epoch ORDER BY epoch", -1, &st, NULL) != SQLITE_OK)
		return VG_ESTORE;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    c->nepochs < sizeof(c->epoch) / sizeof(c->epoch[0])) {
		c->epoch[c->nepochs] = (uint32_t)sqlite3_column_int64(st, 0);
		c->per_epoch[c->nepochs] =
		    (uint64_t)sqlite3_column_int64(st, 1);
		c->nepochs++;
	}
	sqlite3_finalize(st);
	c->db_bytes = file_size(q->path, "");
	c->wal_bytes = file_size(q->path, "-wal");
	return 0;
}

static int
sq_count_stale(struct vg_store *s, uint32_t keep_epoch, uint64_t *n)
{
	sqlite3_stmt *st = sq(s)->st[ST_STALE];
	int rc;

	sqlite3_bind_int64(st, 1, keep_epoch);
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 0 : VG_ESTORE;
}

static int
sq_region_counts(struct vg_store *s,
    int (*cb)(void *ctx, const char *region, uint64_t n), void *ctx)
{
	sqlite3_stmt *st;
	int rc, crc = 0;

	/* Rare (a leak trace): prepared here, not kept. */
	if (sqlite3_prepare_v2(sq(s)->db, "SELECT region, count(*) FROM "
	    "customers GROUP BY region ORDER BY region", -1, &st, NULL) !=
	    SQLITE_OK)
		return VG_ESTORE;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *r = sqlite3_column_text(st, 0);

		crc = cb(ctx, r != NULL ? (const char *)r : "",
		    (uint64_t)sqlite3_column_int64(st, 1));
		if (crc != 0)
			break;
	}
	sqlite3_finalize(st);
	if (crc != 0)
		return crc;
	return rc == SQLITE_DONE ? 0 : VG_ESTORE;
}

static int
sq_bulk(struct vg_store *s, int on)
{
	/* Negative cache sizes are KiB: 2 GiB in bulk mode, else 64 MiB. */
	const char *sql = on ? "PRAGMA cache_size=-2097152" :
	    "PRAGMA cache_size=-65536";

	return sqlite3_exec(sq(s)->db, sql, NULL, NULL, NULL) == SQLITE_OK ?
	    0 : VG_ESTORE;
}

/* TRUNCATE, not the automatic PASSIVE checkpoint: that one leaves old
 * frames in the -wal file, where a reader of the file finds pages as
 * they were before the last writes. */
static int
sq_checkpoint(struct vg_store *s)
{
	int rc = sqlite3_wal_checkpoint_v2(sq(s)->db, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);

	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return VG_EBUSY;
	return rc == SQLITE_OK ? 0 : VG_ESTORE;
}

/*-----------------------------------------------------------------------------
 * Principals and API keys
 */

/* The lazily prepared statement i, or NULL.  A vault made before the
 * principal tables existed gets them here (CREATE ... IF NOT EXISTS). */
static sqlite3_stmt *
lazy(struct vg_store *s, int i)
{
	static const char ddl[] = PRINCIPALS_SQL("IF NOT EXISTS ");
	struct sq_store *q = sq(s);

	if (q->st[i] != NULL)
		return q->st[i];
	if (sqlite3_prepare_v3(q->db, sql_text[i], -1,
	    SQLITE_PREPARE_PERSISTENT, &q->st[i], NULL) == SQLITE_OK)
		return q->st[i];
	if (sqlite3_exec(q->db, ddl, NULL, NULL, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_prepare_v3(q->db, sql_text[i], -1,
	    SQLITE_PREPARE_PERSISTENT, &q->st[i], NULL) != SQLITE_OK)
		q->st[i] = NULL;
	return q->st[i];
}

/*
 * Runs the lazily prepared statement `which` with ?1 = key and reads its
 * one row with read(); VG_ENOTFOUND when there is none.
 */
static int
get_one(struct vg_store *s, int which, const char *key,
    int (*read)(sqlite3_stmt *st, void *out), void *out)
{
	sqlite3_stmt *st = lazy(s, which);
	int rc;

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = read(st, out);
	else
		rc = rc == SQLITE_DONE ? VG_ENOTFOUND : VG_ESTORE;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int
sq_principal_put(struct vg_store *s, const struct vg_principal *p)
{
	sqlite3_stmt *st = lazy(s, ST_PR_PUT);

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, p->shift, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, p->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, p->created);
	return step_done(st);
}

static void
read_principal(sqlite3_stmt *st, struct vg_principal *p)
{
	memset(p, 0, sizeof(*p));
	copy_text(p->id, sizeof(p->id), sqlite3_column_text(st, 0));
	copy_text(p->org, sizeof(p->org), sqlite3_column_text(st, 1));
	copy_text(p->kind, sizeof(p->kind), sqlite3_column_text(st, 2));
	copy_text(p->role, sizeof(p->role), sqlite3_column_text(st, 3));
	copy_text(p->region, sizeof(p->region), sqlite3_column_text(st, 4));
	copy_text(p->shift, sizeof(p->shift), sqlite3_column_text(st, 5));
	copy_text(p->state, sizeof(p->state), sqlite3_column_text(st, 6));
	p->created = sqlite3_column_int64(st, 7);
}

static int
read_principal_row(sqlite3_stmt *st, void *out)
{
	read_principal(st, out);
	return 0;
}

static int
sq_principal_get(struct vg_store *s, const char *id, struct vg_principal *p)
{
	return get_one(s, ST_PR_GET, id, read_principal_row, p);
}

static int
sq_principal_each(struct vg_store *s, vg_principal_cb cb, void *ctx)
{
	sqlite3_stmt *st = lazy(s, ST_PR_EACH);
	struct vg_principal p;
	int rc, ret = 0;

	if (st == NULL)
		return VG_ESTORE;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_principal(st, &p);
		ret = cb(ctx, &p);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = VG_ESTORE;
	sqlite3_reset(st);
	return ret;
}

/* Runs an UPDATE ... SET state = ?2 WHERE <key> = ?1 statement. */
static int
set_state(struct vg_store *s, int which, const char *key, const char *state)
{
	sqlite3_stmt *st = lazy(s, which);
	int rc;

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	rc = step_done(st);
	if (rc == 0 && sqlite3_changes(sq(s)->db) != 1)
		rc = VG_ENOTFOUND;
	return rc;
}

static int
sq_principal_set_state(struct vg_store *s, const char *id, const char *state)
{
	return set_state(s, ST_PR_STATE, id, state);
}

static int
sq_apikey_put(struct vg_store *s, const struct vg_apikey_row *k)
{
	sqlite3_stmt *st = lazy(s, ST_AK_PUT);

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, k->info.key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->info.principal, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, k->hash, VG_KEYBYTES, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, k->info.state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, k->info.created);
	return step_done(st);
}

static int
read_apikey(sqlite3_stmt *st, struct vg_apikey_row *k)
{
	memset(k, 0, sizeof(*k));
	copy_text(k->info.key_id, sizeof(k->info.key_id),
	    sqlite3_column_text(st, 0));
	copy_text(k->info.principal, sizeof(k->info.principal),
	    sqlite3_column_text(st, 1));
	copy_text(k->info.state, sizeof(k->info.state),
	    sqlite3_column_text(st, 2));
	k->info.created = sqlite3_column_int64(st, 3);
	if (sqlite3_column_bytes(st, 4) != VG_KEYBYTES)
		return VG_EFORMAT;
	memcpy(k->hash, sqlite3_column_blob(st, 4), VG_KEYBYTES);
	return 0;
}

static int
read_apikey_row(sqlite3_stmt *st, void *out)
{
	return read_apikey(st, out);
}

static int
sq_apikey_get(struct vg_store *s, const char *key_id, struct vg_apikey_row *k)
{
	return get_one(s, ST_AK_GET, key_id, read_apikey_row, k);
}

static int
sq_apikey_each(struct vg_store *s, const char *principal, vg_apikey_cb cb,
    void *ctx)
{
	sqlite3_stmt *st = lazy(s, ST_AK_EACH);
	struct vg_apikey_row k;
	int rc, ret = 0;

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, principal, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = read_apikey(st, &k);
		if (ret == 0)
			ret = cb(ctx, &k.info);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = VG_ESTORE;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

static int
sq_apikey_set_state(struct vg_store *s, const char *key_id, const char *state)
{
	return set_state(s, ST_AK_STATE, key_id, state);
}

/*-----------------------------------------------------------------------------
 * Alerts
 */

static int
sq_alert_put(struct vg_store *s, const struct vg_alert_row *r)
{
	sqlite3_stmt *st = lazy(s, ST_AL_PUT);

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->time_ns);
	sqlite3_bind_text(st, 3, r->principal, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, r->severity);
	sqlite3_bind_text(st, 5, r->rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->json, -1, SQLITE_STATIC);
	return step_done(st);
}

static int
read_alert(sqlite3_stmt *st, void *out)
{
	struct vg_alert_row *r = out;

	memset(r, 0, offsetof(struct vg_alert_row, json));
	copy_text(r->id, sizeof(r->id), sqlite3_column_text(st, 0));
	r->time_ns = sqlite3_column_int64(st, 1);
	copy_text(r->principal, sizeof(r->principal),
	    sqlite3_column_text(st, 2));
	r->severity = sqlite3_column_int(st, 3);
	copy_text(r->rule, sizeof(r->rule), sqlite3_column_text(st, 4));
	copy_text(r->state, sizeof(r->state), sqlite3_column_text(st, 5));
	copy_text(r->acked_by, sizeof(r->acked_by),
	    sqlite3_column_text(st, 6));
	r->acked_at = sqlite3_column_int64(st, 7);
	copy_text(r->json, sizeof(r->json), sqlite3_column_text(st, 8));
	return 0;
}

static int
sq_alert_get(struct vg_store *s, const char *id, struct vg_alert_row *r)
{
	return get_one(s, ST_AL_GET, id, read_alert, r);
}

static int
sq_alert_list(struct vg_store *s, const struct vg_alert_query *q,
    int (*cb)(void *ctx, const struct vg_alert_row *r), void *ctx)
{
	sqlite3_stmt *st = lazy(s, ST_AL_LIST);
	struct vg_alert_row *r;
	int rc, ret = 0;

	if (st == NULL)
		return VG_ESTORE;
	if ((r = malloc(sizeof(*r))) == NULL)
		return VG_ENOMEM;
	if (q->principal != NULL)
		sqlite3_bind_text(st, 1, q->principal, -1, SQLITE_STATIC);
	if (q->state != NULL)
		sqlite3_bind_text(st, 2, q->state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, q->min_severity);
	sqlite3_bind_int64(st, 4, q->before_ns);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)(q->limit == 0 ||
	    q->limit > VG_ALERT_LIST_MAX ? VG_ALERT_LIST_MAX : q->limit));
	if (q->before_id != NULL)
		sqlite3_bind_text(st, 6, q->before_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = read_alert(st, r);
		if (ret == 0)
			ret = cb(ctx, r);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = VG_ESTORE;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(r);
	return ret;
}

static int
sq_alert_ack(struct vg_store *s, const char *id, const char *by, int64_t at)
{
	sqlite3_stmt *st = lazy(s, ST_AL_ACK);
	struct vg_alert_row *r;
	int rc;

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, at);
	if ((rc = step_done(st)) != 0)
		return rc;
	if (sqlite3_changes(sq(s)->db) == 1)
		return 0;
	if ((r = malloc(sizeof(*r))) == NULL)
		return VG_ENOMEM;
	rc = sq_alert_get(s, id, r);
	free(r);
	return rc == 0 ? VG_EEXIST : rc;
}

/*-----------------------------------------------------------------------------
 * Exports
 */

static int
sq_export_put(struct vg_store *s, const struct vg_export_info *e)
{
	sqlite3_stmt *st = lazy(s, ST_EX_PUT);

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, e->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, e->principal, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->consumer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->recipient, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->purpose, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, e->created);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)e->rows);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)e->canaries);
	sqlite3_bind_text(st, 9, e->clear, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, e->fields, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, e->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, e->chain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)e->manifest_seq);
	sqlite3_bind_text(st, 14, e->canary_set, -1, SQLITE_STATIC);
	return step_done(st);
}

static int
read_export(sqlite3_stmt *st, void *out)
{
	struct vg_export_info *e = out;

	memset(e, 0, sizeof(*e));
	copy_text(e->id, sizeof(e->id), sqlite3_column_text(st, 0));
	copy_text(e->principal, sizeof(e->principal),
	    sqlite3_column_text(st, 1));
	copy_text(e->consumer, sizeof(e->consumer),
	    sqlite3_column_text(st, 2));
	copy_text(e->recipient, sizeof(e->recipient),
	    sqlite3_column_text(st, 3));
	copy_text(e->purpose, sizeof(e->purpose), sqlite3_column_text(st, 4));
	e->created = sqlite3_column_int64(st, 5);
	e->rows = (uint64_t)sqlite3_column_int64(st, 6);
	e->canaries = (uint64_t)sqlite3_column_int64(st, 7);
	copy_text(e->clear, sizeof(e->clear), sqlite3_column_text(st, 8));
	copy_text(e->fields, sizeof(e->fields), sqlite3_column_text(st, 9));
	copy_text(e->region, sizeof(e->region), sqlite3_column_text(st, 10));
	copy_text(e->chain, sizeof(e->chain), sqlite3_column_text(st, 11));
	e->manifest_seq = (uint64_t)sqlite3_column_int64(st, 12);
	copy_text(e->canary_set, sizeof(e->canary_set),
	    sqlite3_column_text(st, 13));
	return 0;
}

static int
sq_export_get(struct vg_store *s, const char *id, struct vg_export_info *e)
{
	return get_one(s, ST_EX_GET, id, read_export, e);
}

static int
sq_export_each(struct vg_store *s, size_t limit,
    int (*cb)(void *ctx, const struct vg_export_info *e), void *ctx)
{
	sqlite3_stmt *st = lazy(s, ST_EX_EACH);
	struct vg_export_info e;
	int rc, ret = 0;

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_int64(st, 1, limit == 0 || limit > INT64_MAX ? -1 :
	    (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_export(st, &e);
		if ((ret = cb(ctx, &e)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = VG_ESTORE;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

static int
sq_canary_put(struct vg_store *s, unsigned field, const unsigned char *digest,
    const char *export_id)
{
	sqlite3_stmt *st = lazy(s, ST_CAN_PUT);

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_int(st, 1, (int)field);
	sqlite3_bind_blob(st, 2, digest, VG_BIDXBYTES, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, export_id, -1, SQLITE_STATIC);
	return step_done(st);
}

static int
sq_canary_find(struct vg_store *s, unsigned field, const unsigned char *digest,
    char *export_id, size_t cap)
{
	sqlite3_stmt *st = lazy(s, ST_CAN_FIND);
	int rc;

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_int(st, 1, (int)field);
	sqlite3_bind_blob(st, 2, digest, VG_BIDXBYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(export_id, cap, sqlite3_column_text(st, 0));
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? VG_ENOTFOUND : VG_ESTORE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/*-----------------------------------------------------------------------------
 * Cases and approvals
 */

static int
sq_case_put(struct vg_store *s, const struct vg_case *c)
{
	sqlite3_stmt *st = lazy(s, ST_CASE_PUT);

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, c->customer, VG_IDBYTES, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->assignee, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->opened_by, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, c->self_opened ? 1 : 0);
	sqlite3_bind_int64(st, 8, c->created);
	sqlite3_bind_int64(st, 9, c->expires);
	sqlite3_bind_int64(st, 10, c->closed);
	return step_done(st);
}

/* Copies a 16-byte id column; VG_EFORMAT when it is not one. */
static int
read_id(sqlite3_stmt *st, int col, unsigned char *out)
{
	if (sqlite3_column_bytes(st, col) != VG_IDBYTES)
		return VG_EFORMAT;
	memcpy(out, sqlite3_column_blob(st, col), VG_IDBYTES);
	return 0;
}

static int
read_case(sqlite3_stmt *st, void *out)
{
	struct vg_case *c = out;

	memset(c, 0, sizeof(*c));
	copy_text(c->id, sizeof(c->id), sqlite3_column_text(st, 0));
	copy_text(c->assignee, sizeof(c->assignee), sqlite3_column_text(st, 2));
	copy_text(c->opened_by, sizeof(c->opened_by),
	    sqlite3_column_text(st, 3));
	copy_text(c->channel, sizeof(c->channel), sqlite3_column_text(st, 4));
	copy_text(c->state, sizeof(c->state), sqlite3_column_text(st, 5));
	c->self_opened = sqlite3_column_int(st, 6) != 0;
	c->created = sqlite3_column_int64(st, 7);
	c->expires = sqlite3_column_int64(st, 8);
	c->closed = sqlite3_column_int64(st, 9);
	return read_id(st, 1, c->customer);
}

static int
sq_case_get(struct vg_store *s, const char *id, struct vg_case *c)
{
	return get_one(s, ST_CASE_GET, id, read_case, c);
}

static int
sq_case_update(struct vg_store *s, const char *id, const char *assignee,
    const char *state, int64_t closed)
{
	sqlite3_stmt *st = lazy(s, ST_CASE_UPDATE);
	struct vg_case c;
	int rc;

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (assignee != NULL)
		sqlite3_bind_text(st, 2, assignee, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, closed);
	if ((rc = step_done(st)) != 0)
		return rc;
	if (sqlite3_changes(sq(s)->db) == 1)
		return 0;
	rc = sq_case_get(s, id, &c);
	return rc == 0 ? VG_EEXIST : rc;
}

static int
sq_approval_put(struct vg_store *s, const struct vg_approval *a)
{
	sqlite3_stmt *st = lazy(s, ST_APR_PUT);

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->principal, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, a->customer, VG_IDBYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, a->fields);
	sqlite3_bind_text(st, 5, a->purpose, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a->case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, a->why, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, a->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, a->decided_by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, a->created);
	sqlite3_bind_int64(st, 11, a->expires);
	sqlite3_bind_int64(st, 12, a->decided);
	return step_done(st);
}

static int
read_approval(sqlite3_stmt *st, void *out)
{
	struct vg_approval *a = out;

	memset(a, 0, sizeof(*a));
	copy_text(a->id, sizeof(a->id), sqlite3_column_text(st, 0));
	copy_text(a->principal, sizeof(a->principal),
	    sqlite3_column_text(st, 1));
	a->fields = (uint32_t)sqlite3_column_int64(st, 3);
	copy_text(a->purpose, sizeof(a->purpose), sqlite3_column_text(st, 4));
	copy_text(a->case_id, sizeof(a->case_id), sqlite3_column_text(st, 5));
	copy_text(a->why, sizeof(a->why), sqlite3_column_text(st, 6));
	copy_text(a->state, sizeof(a->state), sqlite3_column_text(st, 7));
	copy_text(a->decided_by, sizeof(a->decided_by),
	    sqlite3_column_text(st, 8));
	a->created = sqlite3_column_int64(st, 9);
	a->expires = sqlite3_column_int64(st, 10);
	a->decided = sqlite3_column_int64(st, 11);
	return read_id(st, 2, a->customer);
}

static int
sq_approval_get(struct vg_store *s, const char *id, struct vg_approval *a)
{
	return get_one(s, ST_APR_GET, id, read_approval, a);
}

static int
sq_approval_move(struct vg_store *s, const char *id, const char *from,
    const char *to, const char *by, int64_t when)
{
	sqlite3_stmt *st = lazy(s, ST_APR_MOVE);
	int rc;

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	if (by != NULL)
		sqlite3_bind_text(st, 4, by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, when);
	if ((rc = step_done(st)) != 0)
		return rc;
	return sqlite3_changes(sq(s)->db) == 1 ? 0 : VG_EEXIST;
}

static int
sq_approval_pending(struct vg_store *s, const char *principal, int64_t now,
    uint64_t *n)
{
	sqlite3_stmt *st = lazy(s, ST_APR_PENDING);
	int rc;

	if (st == NULL)
		return VG_ESTORE;
	sqlite3_bind_text(st, 1, principal, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 0 : VG_ESTORE;
}

static const struct vg_store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.read_begin = sq_read_begin,
	.read_end = sq_read_end,
	.meta_get = sq_meta_get,
	.meta_set = sq_meta_set,
	.key_put = sq_key_put,
	.key_each = sq_key_each,
	.customer_put = sq_customer_put,
	.customer_get = sq_customer_get,
	.customer_update = sq_customer_update,
	.customer_scan = sq_customer_scan,
	.customer_walk = sq_customer_walk,
	.customer_put_at = sq_customer_put_at,
	.customer_move = sq_customer_move,
	.index_put = sq_index_put,
	.index_find = sq_index_find,
	.counts = sq_counts,
	.region_counts = sq_region_counts,
	.bulk = sq_bulk,
	.count_stale = sq_count_stale,
	.checkpoint = sq_checkpoint,
	.principal_put = sq_principal_put,
	.principal_get = sq_principal_get,
	.principal_each = sq_principal_each,
	.principal_set_state = sq_principal_set_state,
	.apikey_put = sq_apikey_put,
	.apikey_get = sq_apikey_get,
	.apikey_each = sq_apikey_each,
	.apikey_set_state = sq_apikey_set_state,
	.alert_put = sq_alert_put,
	.alert_get = sq_alert_get,
	.alert_list = sq_alert_list,
	.alert_ack = sq_alert_ack,
	.case_put = sq_case_put,
	.case_get = sq_case_get,
	.case_update = sq_case_update,
	.approval_put = sq_approval_put,
	.approval_get = sq_approval_get,
	.approval_move = sq_approval_move,
	.approval_pending = sq_approval_pending,
	.export_put = sq_export_put,
	.export_get = sq_export_get,
	.export_each = sq_export_each,
	.canary_put = sq_canary_put,
	.canary_find = sq_canary_find,
};

int
vg__store_sqlite_open(const char *path, int create, struct vg_store **out)
{
	static const char pragmas[] =
	    "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL;"
	    "PRAGMA secure_delete=ON;"
	    "PRAGMA temp_store=MEMORY;"
	    "PRAGMA foreign_keys=ON;"
	    "PRAGMA cache_size=-65536;"
	    "PRAGMA mmap_size=268435456;";
	struct sq_store *q;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
	    (create ? SQLITE_OPEN_CREATE : 0);
	int rc = VG_ESTORE;
	size_t i;

	*out = NULL;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return VG_ENOMEM;
	q->base.ops = &sqlite_ops;
	q->path = strdup(path);
	if (q->path == NULL) {
		rc = VG_ENOMEM;
		goto fail;
	}
	if (sqlite3_open_v2(path, &q->db, flags, NULL) != SQLITE_OK) {
		rc = create ? VG_EIO : VG_ENOVAULT;
		goto fail;
	}
	sqlite3_busy_timeout(q->db, 10000);
	sqlite3_extended_result_codes(q->db, 0);
	if (sqlite3_exec(q->db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (create && sqlite3_exec(q->db, schema_sql, NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail;
	for (i = 0; i < ST__EAGER; i++) {
		if (sqlite3_prepare_v3(q->db, sql_text[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &q->st[i], NULL) != SQLITE_OK) {
			/* A database without our tables is not a vault. */
			rc = create ? VG_ESTORE : VG_ENOVAULT;
			goto fail;
		}
	}
	*out = &q->base;
	return 0;
fail:
	sq_close(&q->base);
	return rc;
}
