/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/vault.c over the SQLite store: creating and opening
 * vaults, master keys from a file or VIGIL_MASTER_KEY, lookups through
 * blind indexes, masked and clear views, input rejection, tampering done
 * directly in vigil.db (swapped and flipped field blobs, moved epochs),
 * key rotation and rewrapping (also seen from handles opened before the
 * rotation), pseudonyms, and the batch and transaction API.  Every vault
 * lives in a mkdtemp directory under /tmp that is removed at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "tap.h"
#include "vigil/vault.h"

/* Default schema field indexes. */
#define F_NAME		0
#define F_PHONE		1
#define F_EMAIL		2
#define F_ACCOUNT	3
#define F_ADDRESS	4
#define F_REGION	5

#define BADKEY_MSG	"master key does not match this vault"
#define BLOB_CAP	(64 * 1024)	/* lib/store.h VG_BLOB_MAX */

static char root[PATH_MAX];	/* mkdtemp directory holding every vault */

/*-----------------------------------------------------------------------------
 * Helpers: paths, files, inputs
 */

static const char *
path_in(char *buf, size_t cap, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap)
		abort();
	return buf;
}

static const char *
vdir(char *buf, size_t cap, const char *name)
{
	return path_in(buf, cap, root, name);
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
rm_rf(const char *p)
{
	(void)nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
file_mode(const char *p)
{
	struct stat sb;

	if (lstat(p, &sb) != 0)
		return -1;
	return (int)(sb.st_mode & 07777);
}

static int
exists(const char *p)
{
	struct stat sb;

	return lstat(p, &sb) == 0;
}

static int
write_file(const char *p, const char *data, mode_t mode)
{
	FILE *f;

	(void)unlink(p);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	fputs(data, f);
	if (fclose(f) != 0)
		return -1;
	return chmod(p, mode);
}

static size_t
read_file(const char *p, char *buf, size_t cap)
{
	FILE *f = fopen(p, "r");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static int
not_dot(const struct dirent *d)
{
	return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

/* BLAKE2b of a directory: every name, mode, size and content, sorted. */
static void
dir_digest(const char *dir, unsigned char out[32])
{
	crypto_generichash_state st;
	struct dirent **list = NULL;
	char p[PATH_MAX];
	int i, n;

	crypto_generichash_init(&st, NULL, 0, 32);
	n = scandir(dir, &list, not_dot, alphasort);
	for (i = 0; i < n; i++) {
		struct stat sb;
		unsigned char buf[8192];
		FILE *f;
		size_t r;

		path_in(p, sizeof(p), dir, list[i]->d_name);
		crypto_generichash_update(&st,
		    (const unsigned char *)list[i]->d_name,
		    strlen(list[i]->d_name) + 1);
		if (lstat(p, &sb) == 0) {
			uint64_t meta[2] = { (uint64_t)sb.st_mode,
			    (uint64_t)sb.st_size };

			crypto_generichash_update(&st,
			    (const unsigned char *)meta, sizeof(meta));
		}
		if ((f = fopen(p, "rb")) != NULL) {
			while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
				crypto_generichash_update(&st, buf, r);
			fclose(f);
		}
		free(list[i]);
	}
	free(list);
	crypto_generichash_final(&st, out, 32);
}

static void
set(struct vg_input *in, int field, const char *value)
{
	in->value[field] = value;
	in->len[field] = value != NULL ? strlen(value) : 0;
}

/* Adds a default-schema customer; phone may be NULL. */
static int
add(struct vg_vault *v, const char *name, const char *phone,
    const char *email, unsigned char id[VG_IDBYTES])
{
	struct vg_input in;
	struct vg_reject rej;

	memset(&in, 0, sizeof(in));
	set(&in, F_NAME, name);
	set(&in, F_PHONE, phone);
	set(&in, F_EMAIL, email);
	return vg_vault_add(v, &in, id, &rej);
}

static int
lookup1(struct vg_vault *v, int field, const char *value,
    unsigned char id[VG_IDBYTES])
{
	unsigned char ids[VG_LOOKUP_MAX][VG_IDBYTES];
	size_t n = 0;
	int rc;

	rc = vg_vault_lookup(v, field, value, strlen(value), ids,
	    VG_LOOKUP_MAX, &n, NULL);
	if (rc == 0 && n != 1)
		return -100 - (int)n;
	if (rc == 0)
		memcpy(id, ids[0], VG_IDBYTES);
	return rc;
}

/* Clear value of field for id, or "" with *rc set. */
static const char *
clear_value(struct vg_vault *v, const unsigned char *id, int field,
    struct vg_record *r, int *rc)
{
	*rc = vg_vault_get(v, id, 0, VG_VIEW_CLEAR, r);
	if (*rc != 0 || !r->present[field])
		return "";
	return r->value[field];
}

static uint64_t
customers(struct vg_vault *v)
{
	struct vg_vault_stats st;

	if (vg_vault_stats(v, &st) != 0)
		return UINT64_MAX;
	return st.customers;
}

static const struct vg_epoch_info *
epoch_info(const struct vg_vault_stats *st, uint32_t epoch)
{
	size_t i;

	for (i = 0; i < st->nepochs; i++)
		if (st->epoch[i].epoch == epoch)
			return &st->epoch[i];
	return NULL;
}

static const char *
epoch_state(struct vg_vault *v, uint32_t epoch)
{
	static struct vg_vault_stats st;
	const struct vg_epoch_info *e;

	if (vg_vault_stats(v, &st) != 0 || (e = epoch_info(&st, epoch)) == NULL)
		return "(none)";
	return e->state;
}

static uint64_t
epoch_customers(struct vg_vault *v, uint32_t epoch)
{
	static struct vg_vault_stats st;
	const struct vg_epoch_info *e;

	if (vg_vault_stats(v, &st) != 0 || (e = epoch_info(&st, epoch)) == NULL)
		return UINT64_MAX;
	return e->customers;
}

static int
open_vault(const char *dir, struct vg_vault **v)
{
	char err[VG_ERRMSG_MAX];
	int rc;

	rc = vg_vault_open(dir, v, err, sizeof(err));
	if (rc != 0)
		printf("# open %s: %s\n", dir, err);
	return rc;
}

/*-----------------------------------------------------------------------------
 * Helpers: raw SQLite access to vigil.db, as an insider would have
 */

static sqlite3 *
db_open(const char *dir)
{
	char p[PATH_MAX];
	sqlite3 *db = NULL;

	path_in(p, sizeof(p), dir, "vigil.db");
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* Reads the fields blob of id into buf; returns its length or -1. */
static int
db_get_fields(sqlite3 *db, const unsigned char *id, unsigned char *buf,
    size_t cap)
{
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_prepare_v2(db, "SELECT fields FROM customers WHERE id = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_blob(st, 1, id, VG_IDBYTES, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (size_t)sqlite3_column_bytes(st, 0) <= cap) {
		n = sqlite3_column_bytes(st, 0);
		memcpy(buf, sqlite3_column_blob(st, 0), (size_t)n);
	}
	sqlite3_finalize(st);
	return n;
}

static int
db_set_fields(sqlite3 *db, const unsigned char *id, const unsigned char *buf,
    size_t len)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "UPDATE customers SET fields = ?2 "
	    "WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_blob(st, 1, id, VG_IDBYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, buf, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1 ?
	    0 : -1;
	sqlite3_finalize(st);
	return rc;
}

static int
db_set_epoch(sqlite3 *db, const unsigned char *id, int64_t epoch)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "UPDATE customers SET epoch = ?2 "
	    "WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_blob(st, 1, id, VG_IDBYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, epoch);
	rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1 ?
	    0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* Copies the row of id under a new id (same blob, region, epoch). */
static int
db_clone_row(sqlite3 *db, const unsigned char *id, const unsigned char *nid)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO customers(id, region, epoch, "
	    "created, fields) SELECT ?2, region, epoch, created, fields FROM "
	    "customers WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_blob(st, 1, id, VG_IDBYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, nid, VG_IDBYTES, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1 ?
	    0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* Offset of the sealed value of field in a blob, *n its length, or -1. */
static long
blob_entry(const unsigned char *b, size_t len, unsigned field, size_t *n)
{
	size_t pos = 0;

	while (pos + 3 <= len) {
		size_t l = (size_t)b[pos + 1] << 8 | b[pos + 2];

		if (b[pos] == field) {
			*n = l;
			return (long)(pos + 3);
		}
		pos += 3 + l;
	}
	return -1;
}

/*
 * Adds a blind-index entry for field that carries the digest of owner's
 * entry but points at target, as an insider editing bidx would.  Returns
 * 0 or -1.
 */
static int
db_forge_index(sqlite3 *db, unsigned field, const unsigned char *owner,
    const unsigned char *target)
{
	unsigned char k[1 + VG_BIDXBYTES + VG_IDBYTES];
	sqlite3_stmt *st;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "SELECT k FROM bidx WHERE substr(k, 1, 1) "
	    "= ?1 AND substr(k, 18) = ?2", -1, &st, NULL) != SQLITE_OK)
		return -1;
	k[0] = (unsigned char)field;
	sqlite3_bind_blob(st, 1, k, 1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, owner, VG_IDBYTES, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 0) == (int)sizeof(k)) {
		memcpy(k, sqlite3_column_blob(st, 0), sizeof(k));
		rc = 0;
	}
	sqlite3_finalize(st);
	if (rc != 0)
		return -1;
	memcpy(k + 1 + VG_BIDXBYTES, target, VG_IDBYTES);
	if (sqlite3_prepare_v2(db, "INSERT INTO bidx(k) VALUES (?1)", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_blob(st, 1, k, sizeof(k), SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* Number of data key rows of epoch with key material (NULL: -1). */
static int
db_key_present(sqlite3 *db, int64_t epoch)
{
	sqlite3_stmt *st;
	int r = -1;

	if (sqlite3_prepare_v2(db, "SELECT wrapped IS NOT NULL FROM keys "
	    "WHERE kind = 'data' AND epoch = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, epoch);
	if (sqlite3_step(st) == SQLITE_ROW)
		r = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return r;
}

/*-----------------------------------------------------------------------------
 * Create, open, close
 */

static void
test_create_open(void)
{
	char dir[PATH_MAX], p[PATH_MAX], err[VG_ERRMSG_MAX], buf[256];
	unsigned char d1[32], d2[32], key[VG_KEYBYTES], id[VG_IDBYTES];
	struct vg_vault *v = NULL;
	struct vg_vault_stats st;
	const struct vg_schema *s;
	sqlite3 *db;
	int rc;

	vdir(dir, sizeof(dir), "create");
	rc = vg_vault_create(dir, NULL, err, sizeof(err));
	is_int(rc, 0, "create a vault in a new directory");
	ok(file_mode(dir) >= 0 && (file_mode(dir) & 077) == 0,
	    "vault directory is private (mode %04o)", (unsigned)file_mode(dir));
	is_int(file_mode(path_in(p, sizeof(p), dir, "master.key")), 0600,
	    "master.key has mode 0600");
	is_int(file_mode(path_in(p, sizeof(p), dir, "vigil.db")), 0600,
	    "vigil.db has mode 0600");
	read_file(path_in(p, sizeof(p), dir, "master.key"), buf, sizeof(buf));
	ok(strlen(buf) == 45 && buf[44] == '\n' &&
	    vg_b64_decode_key(key, buf, strlen(buf)) == 0,
	    "master.key holds the base64 of a 32-byte key and a newline");

	rc = vg_vault_open(dir, &v, err, sizeof(err));
	is_int(rc, 0, "open it");
	if (rc != 0) {
		printf("# %s\n", err);
		return;
	}
	s = vg_vault_schema(v);
	ok(s->nfields == 6 && strcmp(s->field[F_PHONE].name, "phone") == 0 &&
	    s->field[F_PHONE].indexed && s->region == F_REGION,
	    "a vault created without a schema has the default schema");
	is_int(vg_vault_stats(v, &st), 0, "stats");
	is_int(st.customers, 0, "new vault: no customers");
	is_int(st.current_epoch, 1, "new vault: epoch 1");
	is_int(st.nepochs, 1, "new vault: one data key");
	is_str(st.nepochs > 0 ? st.epoch[0].state : "", "active",
	    "new vault: its data key is active");
	is_str(st.key_source, "file", "key source: file");
	ok(st.db_bytes > 0, "stats: database size");
	is_int(add(v, "Ann", "13800138000", NULL, id), 0, "add a customer");
	path_in(p, sizeof(p), dir, "vigil.db-wal");
	ok(!exists(p) || file_mode(p) == 0600,
	    "vigil.db-wal (if any) has mode 0600");
	path_in(p, sizeof(p), dir, "vigil.db-shm");
	ok(!exists(p) || file_mode(p) == 0600,
	    "vigil.db-shm (if any) has mode 0600");
	vg_vault_close(v);
	vg_vault_close(NULL);
	ok(1, "vg_vault_close(NULL) is a no-op");

	/* Creating over an existing vault refuses and touches nothing. */
	dir_digest(dir, d1);
	err[0] = '\0';
	rc = vg_vault_create(dir, NULL, err, sizeof(err));
	is_int(rc, VG_EEXIST, "create over an existing vault: VG_EEXIST");
	ok(strstr(err, "not empty") != NULL, "... says the directory is not "
	    "empty (%s)", err);
	dir_digest(dir, d2);
	ok(memcmp(d1, d2, 32) == 0, "... and leaves every file unchanged");
	is_int(open_vault(dir, &v), 0, "the vault still opens");
	{
		unsigned char got[VG_IDBYTES];

		is_int(lookup1(v, F_PHONE, "13800138000", got), 0,
		    "... with its customer");
	}
	vg_vault_close(v);

	/* A foreign non-empty directory is refused too. */
	vdir(dir, sizeof(dir), "foreign");
	mkdir(dir, 0755);
	write_file(path_in(p, sizeof(p), dir, "notes.txt"), "keep me\n", 0644);
	dir_digest(dir, d1);
	is_int(vg_vault_create(dir, NULL, err, sizeof(err)), VG_EEXIST,
	    "create in a non-empty directory: VG_EEXIST");
	dir_digest(dir, d2);
	ok(memcmp(d1, d2, 32) == 0, "... directory unchanged");
	ok(!exists(path_in(p, sizeof(p), dir, "master.key")) &&
	    !exists(path_in(p, sizeof(p), dir, "vigil.db")),
	    "... no vault files left behind");
	v = (struct vg_vault *)1;
	is_int(vg_vault_open(dir, &v, err, sizeof(err)), VG_ENOVAULT,
	    "open a directory without vigil.db: VG_ENOVAULT");
	ok(v == NULL, "... *out is NULL");

	/* An existing empty directory is fine. */
	vdir(dir, sizeof(dir), "empty");
	mkdir(dir, 0700);
	is_int(vg_vault_create(dir, NULL, err, sizeof(err)), 0,
	    "create in an existing empty directory");

	vdir(dir, sizeof(dir), "noerr");
	is_int(vg_vault_create(dir, NULL, NULL, 0), 0,
	    "create with err NULL");
	is_int(vg_vault_create(dir, NULL, NULL, 0), VG_EEXIST,
	    "... and refuse again with err NULL");
	rc = vg_vault_open(dir, &v, NULL, 0);
	is_int(rc, 0, "open with err NULL");
	if (rc == 0)
		vg_vault_close(v);
	/* vigil.db must not be a symbolic link. */
	vdir(p, sizeof(p), "linked");
	mkdir(p, 0700);
	{
		char target[PATH_MAX], link[PATH_MAX];

		path_in(target, sizeof(target), dir, "vigil.db");
		path_in(link, sizeof(link), p, "vigil.db");
		ok(symlink(target, link) == 0, "vigil.db as a symlink to a "
		    "real vault's database");
		path_in(link, sizeof(link), p, "master.key");
		path_in(target, sizeof(target), dir, "master.key");
		read_file(target, buf, sizeof(buf));
		write_file(link, buf, 0600);
		rc = vg_vault_open(p, &v, err, sizeof(err));
		ok(rc != 0 && v == NULL, "... refused (%d)", rc);
		if (rc == 0)
			vg_vault_close(v);
	}

	vdir(dir, sizeof(dir), "nosuch");
	is_int(vg_vault_open(dir, &v, err, sizeof(err)), VG_ENOVAULT,
	    "open a missing directory: VG_ENOVAULT");

	/* A SQLite database that is not a vault. */
	vdir(dir, sizeof(dir), "plainsqlite");
	mkdir(dir, 0700);
	path_in(p, sizeof(p), dir, "vigil.db");
	db = NULL;
	if (sqlite3_open(p, &db) == SQLITE_OK)
		sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
	sqlite3_close(db);
	is_int(vg_vault_open(dir, &v, err, sizeof(err)), VG_ENOVAULT,
	    "open a SQLite file without vault tables: VG_ENOVAULT");
}

/*-----------------------------------------------------------------------------
 * Master key from the environment, wrong keys, key file permissions
 */

static void
test_env_key(void)
{
	char dir[PATH_MAX], p[PATH_MAX], err[VG_ERRMSG_MAX];
	char b64[64], b64b[64];
	unsigned char key[VG_KEYBYTES], key2[VG_KEYBYTES], id[VG_IDBYTES];
	unsigned char got[VG_IDBYTES];
	struct vg_vault *v = NULL;
	struct vg_vault_stats st;
	int rc;

	vg_random(key, sizeof(key));
	vg_random(key2, sizeof(key2));
	vg_b64_encode_key(b64, sizeof(b64), key);
	vg_b64_encode_key(b64b, sizeof(b64b), key2);

	vdir(dir, sizeof(dir), "env");
	setenv(VG_MASTER_ENV, b64, 1);
	is_int(vg_vault_create(dir, NULL, err, sizeof(err)), 0,
	    "create with VIGIL_MASTER_KEY");
	ok(!exists(path_in(p, sizeof(p), dir, "master.key")),
	    "... no master.key written");
	rc = open_vault(dir, &v);
	is_int(rc, 0, "open with VIGIL_MASTER_KEY");
	if (rc == 0) {
		is_int(vg_vault_stats(v, &st), 0, "stats");
		is_str(st.key_source, "environment", "key source: environment");
		is_int(add(v, "Env", "13700137000", NULL, id), 0, "add");
		vg_vault_close(v);
	}

	unsetenv(VG_MASTER_ENV);
	v = (struct vg_vault *)1;
	err[0] = '\0';
	rc = vg_vault_open(dir, &v, err, sizeof(err));
	is_int(rc, VG_EBADKEY, "open without VIGIL_MASTER_KEY (and no "
	    "master.key) fails: VG_EBADKEY");
	ok(v == NULL, "... no handle");
	ok(strstr(err, VG_MASTER_ENV) != NULL, "... err names %s (%s)",
	    VG_MASTER_ENV, err);

	setenv(VG_MASTER_ENV, b64b, 1);
	err[0] = '\0';
	rc = vg_vault_open(dir, &v, err, sizeof(err));
	is_int(rc, VG_EBADKEY, "wrong VIGIL_MASTER_KEY: VG_EBADKEY");
	is_str(err, BADKEY_MSG, "... err is exactly \"" BADKEY_MSG "\"");
	ok(strstr(err, b64) == NULL && strstr(err, b64b) == NULL,
	    "... err quotes no key");

	setenv(VG_MASTER_ENV, "not a key", 1);
	rc = vg_vault_open(dir, &v, err, sizeof(err));
	ok(rc != 0 && v == NULL, "malformed VIGIL_MASTER_KEY refused (%d)", rc);
	ok(strstr(err, "not a key") == NULL, "... err quotes no key");

	setenv(VG_MASTER_ENV, b64, 1);
	rc = open_vault(dir, &v);
	is_int(rc, 0, "the right key opens it again");
	if (rc == 0) {
		is_int(lookup1(v, F_PHONE, "137 0013 7000", got), 0,
		    "... with its customer");
		ok(memcmp(got, id, VG_IDBYTES) == 0, "... same id");
		vg_vault_close(v);
	}

	/* A malformed key in the environment at create time. */
	vdir(dir, sizeof(dir), "envbad");
	setenv(VG_MASTER_ENV, "AAAA", 1);
	is_int(vg_vault_create(dir, NULL, err, sizeof(err)), VG_EINVAL,
	    "create with a malformed VIGIL_MASTER_KEY: VG_EINVAL");
	ok(!exists(dir), "... leaves no directory behind");
	unsetenv(VG_MASTER_ENV);
}

static void
test_key_file(void)
{
	char dir[PATH_MAX], kp[PATH_MAX], side[PATH_MAX], err[VG_ERRMSG_MAX];
	char orig[256], other[64];
	unsigned char key2[VG_KEYBYTES];
	struct vg_vault *v = NULL;
	int rc;

	unsetenv(VG_MASTER_ENV);
	vdir(dir, sizeof(dir), "keyfile");
	is_int(vg_vault_create(dir, NULL, err, sizeof(err)), 0,
	    "create a vault with a key file");
	path_in(kp, sizeof(kp), dir, "master.key");
	read_file(kp, orig, sizeof(orig));

	vg_random(key2, sizeof(key2));
	vg_b64_encode_key(other, sizeof(other), key2);
	write_file(kp, other, 0600);
	err[0] = '\0';
	rc = vg_vault_open(dir, &v, err, sizeof(err));
	is_int(rc, VG_EBADKEY, "another key in master.key: VG_EBADKEY");
	is_str(err, BADKEY_MSG, "... err is exactly \"" BADKEY_MSG "\"");
	ok(v == NULL, "... no handle");

	write_file(kp, orig, 0600);
	is_int(open_vault(dir, &v), 0, "the original key file opens it");
	vg_vault_close(v);

	chmod(kp, 0644);
	err[0] = '\0';
	rc = vg_vault_open(dir, &v, err, sizeof(err));
	is_int(rc, VG_EBADKEY, "master.key with mode 0644 refused");
	ok(strstr(err, "0644") != NULL, "... err gives the mode (%s)", err);
	chmod(kp, 0640);
	is_int(vg_vault_open(dir, &v, err, sizeof(err)), VG_EBADKEY,
	    "master.key readable by the group (0640) refused");
	chmod(kp, 0604);
	is_int(vg_vault_open(dir, &v, err, sizeof(err)), VG_EBADKEY,
	    "master.key readable by others (0604) refused");
	chmod(kp, 0400);
	is_int(open_vault(dir, &v), 0, "master.key with mode 0400 accepted");
	vg_vault_close(v);
	chmod(kp, 0600);

	write_file(kp, "this is not base64\n", 0600);
	err[0] = '\0';
	is_int(vg_vault_open(dir, &v, err, sizeof(err)), VG_EBADKEY,
	    "malformed master.key: VG_EBADKEY");
	ok(strstr(err, "malformed") != NULL, "... says it is malformed (%s)",
	    err);

	/* A symbolic link is not followed. */
	path_in(side, sizeof(side), dir, "real.key");
	write_file(side, orig, 0600);
	unlink(kp);
	if (symlink("real.key", kp) == 0) {
		rc = vg_vault_open(dir, &v, err, sizeof(err));
		ok(rc != 0 && v == NULL, "master.key as a symlink refused (%d)",
		    rc);
		if (rc == 0)
			vg_vault_close(v);
	} else {
		ok(0, "symlink: %s", strerror(errno));
	}
	unlink(kp);
	unlink(side);
	is_int(vg_vault_open(dir, &v, err, sizeof(err)), VG_EBADKEY,
	    "missing master.key: VG_EBADKEY");

	/* The environment overrides the file. */
	write_file(kp, orig, 0600);
	setenv(VG_MASTER_ENV, other, 1);
	err[0] = '\0';
	is_int(vg_vault_open(dir, &v, err, sizeof(err)), VG_EBADKEY,
	    "a wrong VIGIL_MASTER_KEY wins over a right master.key");
	is_str(err, BADKEY_MSG, "... with the mismatch message");
	unsetenv(VG_MASTER_ENV);
	is_int(open_vault(dir, &v), 0, "restored key file opens it");
	vg_vault_close(v);
}

/*-----------------------------------------------------------------------------
 * Adding, looking up, reading
 */

static unsigned char id_a[VG_IDBYTES], id_b[VG_IDBYTES];

static void
test_add_lookup(struct vg_vault *v)
{
	static const char *const forms[] = { "138 0013 8000",
	    "+86 138-0013-8000", "0086 13800138000", "13800138000",
	    "\xef\xbc\x91\xef\xbc\x93\xef\xbc\x98 0013 8000" };
	static const char *const bad[] = { "12345", "138001380001234",
	    "abc", "+1 202 555 0100x" };
	unsigned char ids[VG_LOOKUP_MAX][VG_IDBYTES], got[VG_IDBYTES];
	char t[VG_ID_STRLEN];
	struct vg_input in;
	struct vg_reject rej;
	const char *why;
	size_t i, n;
	int rc;

	memset(&in, 0, sizeof(in));
	/* 张小明, 广东 */
	set(&in, F_NAME, "\xe5\xbc\xa0\xe5\xb0\x8f\xe6\x98\x8e");
	set(&in, F_PHONE, "138 0013 8000");
	set(&in, F_EMAIL, "Zhang.Xiaoming@Example.com");
	set(&in, F_ACCOUNT, "ZhangXM_88");
	set(&in, F_ADDRESS, "\xe5\xb9\xbf\xe4\xb8\x9c\xe7\x9c\x81\xe6\xb7\xb1"
	    "\xe5\x9c\xb3\xe5\xb8\x82\xe5\x8d\x97\xe5\xb1\xb1\xe5\x8c\xba 1");
	set(&in, F_REGION, "\xe5\xb9\xbf\xe4\xb8\x9c");
	rc = vg_vault_add(v, &in, id_a, &rej);
	is_int(rc, 0, "add customer A");
	memset(&in, 0, sizeof(in));
	set(&in, F_NAME, "Li Si");
	set(&in, F_PHONE, "139 1234 5678");
	set(&in, F_EMAIL, "li.si@example.com");
	set(&in, F_REGION, "CN-BJ");
	is_int(vg_vault_add(v, &in, id_b, &rej), 0, "add customer B");
	ok(memcmp(id_a, id_b, VG_IDBYTES) != 0, "ids differ");
	vg_id_format(t, id_a);
	ok(vg_id_parse(got, t) == 0 && memcmp(got, id_a, VG_IDBYTES) == 0,
	    "id text round trips");
	is_int(customers(v), 2, "two customers");

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		memset(got, 0, sizeof(got));
		rc = lookup1(v, F_PHONE, forms[i], got);
		is_int(rc, 0, "lookup phone \"%s\": one hit", forms[i]);
		ok(memcmp(got, id_a, VG_IDBYTES) == 0, "... customer A");
	}
	is_int(lookup1(v, F_EMAIL, "ZHANG.xiaoming@example.COM", got), 0,
	    "lookup e-mail in another case");
	ok(memcmp(got, id_a, VG_IDBYTES) == 0, "... customer A");
	is_int(lookup1(v, F_ACCOUNT, "zhangxm_88", got), 0,
	    "lookup account id");
	ok(memcmp(got, id_a, VG_IDBYTES) == 0, "... customer A");
	is_int(lookup1(v, F_PHONE, "13912345678", got), 0, "lookup B's phone");
	ok(memcmp(got, id_b, VG_IDBYTES) == 0, "... customer B");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		n = 99;
		rc = vg_vault_lookup(v, F_PHONE, bad[i], strlen(bad[i]), ids,
		    VG_LOOKUP_MAX, &n, &why);
		is_int(rc, VG_EINVAL, "malformed phone \"%s\": VG_EINVAL",
		    bad[i]);
		ok(why != NULL && *why != '\0', "... why is set (%s)",
		    why != NULL ? why : "NULL");
		ok(why == NULL || strpbrk(why, "0123456789") == NULL,
		    "... why quotes no digits");
		is_int(n, 0, "... no ids");
	}
	why = NULL;
	is_int(vg_vault_lookup(v, F_PHONE, "  ", 2, ids, VG_LOOKUP_MAX, &n,
	    &why), VG_EINVAL, "blank value: VG_EINVAL");
	ok(why != NULL, "... why is set");

	why = "unset";
	n = 99;
	rc = vg_vault_lookup(v, F_PHONE, "139 0000 0000", 13, ids,
	    VG_LOOKUP_MAX, &n, &why);
	is_int(rc, VG_ENOTFOUND, "well-formed phone nobody has: VG_ENOTFOUND");
	is_int(n, 0, "... no ids");
	is_int(vg_vault_lookup(v, F_EMAIL, "nobody@example.com", 18, ids,
	    VG_LOOKUP_MAX, &n, NULL), VG_ENOTFOUND,
	    "unknown e-mail: VG_ENOTFOUND");

	why = NULL;
	rc = vg_vault_lookup(v, F_NAME, "Li Si", 5, ids, VG_LOOKUP_MAX, &n,
	    &why);
	is_int(rc, VG_EINVAL, "lookup by a field without a blind index: "
	    "VG_EINVAL");
	ok(why != NULL && strstr(why, "index") != NULL, "... why says so");
	is_int(vg_vault_lookup(v, F_REGION, "CN-BJ", 5, ids, VG_LOOKUP_MAX,
	    &n, NULL), VG_EINVAL, "lookup by region: VG_EINVAL");
	is_int(vg_vault_lookup(v, -1, "x", 1, ids, VG_LOOKUP_MAX, &n, NULL),
	    VG_EINVAL, "field -1: VG_EINVAL");
	is_int(vg_vault_lookup(v, 6, "x", 1, ids, VG_LOOKUP_MAX, &n, NULL),
	    VG_EINVAL, "field past the schema: VG_EINVAL");
}

static void
test_get(struct vg_vault *v)
{
	struct vg_record *r = vg_record_new();
	unsigned char nobody[VG_IDBYTES], id_c[VG_IDBYTES];
	time_t now = time(NULL);
	int rc, i, only;

	if (r == NULL)
		abort();
	rc = vg_vault_get(v, id_a, 0, VG_VIEW_MASKED, r);
	is_int(rc, 0, "get A, masked");
	ok(memcmp(r->id, id_a, VG_IDBYTES) == 0, "... id");
	is_int(r->epoch, 1, "... epoch 1");
	is_int(r->view, VG_VIEW_MASKED, "... view masked");
	ok(r->created >= (int64_t)now - 600 && r->created <= (int64_t)now + 5,
	    "... created is recent");
	for (i = 0, only = 1; i < 6; i++)
		only &= r->present[i];
	ok(only, "... all six fields present");
	is_str(r->value[F_PHONE], "+86 138****8000", "... phone masked");
	is_str(r->value[F_NAME], "\xe5\xbc\xa0*\xe6\x98\x8e",
	    "... name masked");
	is_str(r->value[F_EMAIL], "z***@example.com", "... e-mail masked");
	ok(strstr(r->value[F_ADDRESS], "*") != NULL,
	    "... address masked (%s)", r->value[F_ADDRESS]);
	is_str(r->value[F_REGION], "CN-GD", "... region in clear, canonical");
	is_int(r->len[F_PHONE], strlen(r->value[F_PHONE]), "... len matches");

	rc = vg_vault_get(v, id_a, 0, VG_VIEW_CLEAR, r);
	is_int(rc, 0, "get A, clear");
	is_str(r->value[F_PHONE], "+8613800138000", "... phone canonical");
	is_str(r->value[F_NAME], "\xe5\xbc\xa0\xe5\xb0\x8f\xe6\x98\x8e",
	    "... name");
	is_str(r->value[F_EMAIL], "zhang.xiaoming@example.com",
	    "... e-mail lower-cased");
	is_str(r->value[F_ACCOUNT], "zhangxm_88", "... account id");
	is_int(r->len[F_PHONE], 14, "... phone length");
	vg_record_clear(r);
	{
		const unsigned char *p = (const unsigned char *)r;
		size_t k;
		int zero = 1;

		size_t ro = offsetof(struct vg_record, region);
		int rest = 1;

		for (k = 0; k < sizeof(*r); k++) {
			zero &= p[k] == 0;
			if (k < ro || k >= ro + sizeof(r->region))
				rest &= p[k] == 0;
		}
		ok(rest, "vg_record_clear wipes the record but its region");
		ok(zero, "vg_record_clear wipes the whole record");
	}

	/* Only the fields asked for. */
	rc = vg_vault_get(v, id_a, UINT32_C(1) << F_PHONE, VG_VIEW_CLEAR, r);
	is_int(rc, 0, "get A, phone only");
	ok(r->present[F_PHONE], "... phone present");
	for (i = 0, only = 1; i < VG_FIELDS_MAX; i++)
		if (i != F_PHONE && (r->present[i] || r->value[i][0] != '\0'))
			only = 0;
	ok(only, "... and nothing else");
	rc = vg_vault_get(v, id_a, UINT32_C(1) << F_REGION, VG_VIEW_MASKED, r);
	is_int(rc, 0, "get A, region only");
	ok(r->present[F_REGION] && !r->present[F_PHONE] && !r->present[F_NAME],
	    "... only the region");
	rc = vg_vault_get(v, id_a, (UINT32_C(1) << F_NAME) |
	    (UINT32_C(1) << F_EMAIL), VG_VIEW_MASKED, r);
	ok(rc == 0 && r->present[F_NAME] && r->present[F_EMAIL] &&
	    !r->present[F_PHONE] && !r->present[F_REGION],
	    "get A, name and e-mail: exactly those");

	vg_random(nobody, sizeof(nobody));
	is_int(vg_vault_get(v, nobody, 0, VG_VIEW_MASKED, r), VG_ENOTFOUND,
	    "get an unknown id: VG_ENOTFOUND");

	/* Absent fields stay absent. */
	is_int(add(v, NULL, "13600136000", NULL, id_c), 0,
	    "add a customer with only a phone");
	rc = vg_vault_get(v, id_c, 0, VG_VIEW_CLEAR, r);
	ok(rc == 0 && r->present[F_PHONE] && !r->present[F_NAME] &&
	    !r->present[F_EMAIL] && !r->present[F_REGION],
	    "... only the phone is present");
	vg_record_clear(r);
	vg_record_free(r);
}

static void
test_rejects(void)
{
	char dir[PATH_MAX], err[VG_ERRMSG_MAX], long_note[2100];
	static const char text[] = "name name required\nphone phone\n"
	    "email email\nnote text\n";
	struct vg_schema s;
	struct vg_vault *v = NULL;
	struct vg_input in;
	struct vg_reject rej;
	unsigned char id[VG_IDBYTES];
	int rc;

	rc = vg_schema_parse(&s, text, sizeof(text) - 1, err, sizeof(err));
	is_int(rc, 0, "custom schema parses");
	vdir(dir, sizeof(dir), "rejects");
	is_int(vg_vault_create(dir, &s, err, sizeof(err)), 0,
	    "create a vault with a custom schema");
	if (open_vault(dir, &v) != 0) {
		ok(0, "open");
		return;
	}
	ok(vg_vault_schema(v)->nfields == 4 &&
	    vg_vault_schema(v)->field[0].required &&
	    vg_vault_schema(v)->region == -1, "the stored schema is the "
	    "custom one");

	memset(&in, 0, sizeof(in));
	set(&in, 1, "13800138000");
	rej.field = 99;
	rej.why = NULL;
	is_int(vg_vault_add(v, &in, id, &rej), VG_EINVAL,
	    "required name missing: VG_EINVAL");
	is_int(rej.field, 0, "... reject names field 0");
	is_str(rej.why, "required field is empty", "... reason");
	set(&in, 0, " \t ");
	is_int(vg_vault_add(v, &in, id, &rej), VG_EINVAL,
	    "required name blank: VG_EINVAL");
	is_int(rej.field, 0, "... field 0");

	memset(&in, 0, sizeof(in));
	set(&in, 0, "Wang Wu");
	set(&in, 3, "a note");
	is_int(vg_vault_add(v, &in, id, &rej), VG_EINVAL,
	    "no indexed field present: VG_EINVAL");
	is_int(rej.field, -1, "... reject names the whole record (-1)");
	ok(rej.why != NULL && strstr(rej.why, "indexed") != NULL,
	    "... reason mentions the index");

	set(&in, 1, "12345");
	rej.why = NULL;
	is_int(vg_vault_add(v, &in, id, &rej), VG_EINVAL,
	    "malformed phone: VG_EINVAL");
	is_int(rej.field, 1, "... field 1 (phone)");
	ok(rej.why != NULL && strpbrk(rej.why, "0123456789") == NULL,
	    "... reason quotes no digits (%s)", rej.why ? rej.why : "NULL");

	set(&in, 1, "13800138000");
	set(&in, 2, "not-an-address");
	is_int(vg_vault_add(v, &in, id, &rej), VG_EINVAL,
	    "malformed e-mail: VG_EINVAL");
	is_int(rej.field, 2, "... field 2 (e-mail)");

	set(&in, 2, NULL);
	memset(long_note, 'n', sizeof(long_note) - 1);
	long_note[sizeof(long_note) - 1] = '\0';
	set(&in, 3, long_note);
	is_int(vg_vault_add(v, &in, id, &rej), VG_EINVAL,
	    "2 KiB note: VG_EINVAL");
	is_int(rej.field, 3, "... field 3");
	is_str(rej.why, "value too long", "... reason");

	is_int(customers(v), 0, "every refused input left the vault empty");
	set(&in, 3, "short");
	is_int(vg_vault_add(v, &in, id, NULL), 0, "a good input is added "
	    "(rej may be NULL)");
	is_int(customers(v), 1, "one customer");
	vg_vault_close(v);
}

/* The lookup's confirmed record is reused by the next get of the same id
 * only: a get of another id, or a second get, reads the right row. */
static void
test_lookup_cache(struct vg_vault *v)
{
	struct vg_record *r = vg_record_new();
	unsigned char got[VG_IDBYTES];

	if (r == NULL)
		abort();
	is_int(lookup1(v, F_PHONE, "13800138000", got), 0, "lookup A");
	is_int(vg_vault_get(v, id_b, 0, VG_VIEW_CLEAR, r), 0,
	    "then get B (not the looked-up customer)");
	is_str(r->value[F_PHONE], "+8613912345678", "... B's phone, not A's");
	is_int(lookup1(v, F_PHONE, "13912345678", got), 0, "lookup B");
	is_int(vg_vault_get(v, got, 0, VG_VIEW_CLEAR, r), 0, "get B");
	is_str(r->value[F_PHONE], "+8613912345678", "... B's phone");
	is_int(vg_vault_get(v, got, 0, VG_VIEW_CLEAR, r), 0,
	    "get B again (from storage)");
	is_str(r->value[F_PHONE], "+8613912345678", "... still B's phone");
	is_int(vg_vault_get(v, id_a, 0, VG_VIEW_MASKED, r), 0, "get A");
	is_str(r->value[F_PHONE], "+86 138****8000", "... A's masked phone");
	vg_record_free(r);
}

static void
test_duplicates(struct vg_vault *v)
{
	unsigned char ids[VG_LOOKUP_MAX][VG_IDBYTES], id_d[VG_IDBYTES];
	size_t n = 0;
	int rc, has_a, has_d;

	is_int(add(v, "Zhang Twin", "+86 13800138000", "twin@example.com",
	    id_d), 0, "add D with A's phone");
	rc = vg_vault_lookup(v, F_PHONE, "138-0013-8000", 13, ids,
	    VG_LOOKUP_MAX, &n, NULL);
	is_int(rc, 0, "lookup the shared phone");
	is_int(n, 2, "... two customers");
	has_a = (n > 0 && memcmp(ids[0], id_a, VG_IDBYTES) == 0) ||
	    (n > 1 && memcmp(ids[1], id_a, VG_IDBYTES) == 0);
	has_d = (n > 0 && memcmp(ids[0], id_d, VG_IDBYTES) == 0) ||
	    (n > 1 && memcmp(ids[1], id_d, VG_IDBYTES) == 0);
	ok(has_a && has_d, "... A and D");
	rc = vg_vault_lookup(v, F_PHONE, "13800138000", 11, ids, 1, &n, NULL);
	ok(rc == 0 && n == 1, "max 1: one id");
	is_int(lookup1(v, F_EMAIL, "twin@example.com", ids[0]), 0,
	    "D's e-mail finds one customer");
	ok(memcmp(ids[0], id_d, VG_IDBYTES) == 0, "... D");
}

/*-----------------------------------------------------------------------------
 * Tampering inside vigil.db
 */

static void
test_tamper(const char *dir, struct vg_vault *v)
{
	static unsigned char ba[BLOB_CAP], bb[BLOB_CAP];
	static unsigned char bad[BLOB_CAP];
	struct vg_record *r = vg_record_new();
	unsigned char clone[VG_IDBYTES], got[VG_IDBYTES];
	sqlite3 *db = db_open(dir);
	int la, lb, rc, i, present;
	size_t n = 0;
	long off;

	if (r == NULL)
		abort();
	ok(db != NULL, "open vigil.db directly");
	la = db != NULL ? db_get_fields(db, id_a, ba, sizeof(ba)) : -1;
	lb = db != NULL ? db_get_fields(db, id_b, bb, sizeof(bb)) : -1;
	ok(la > 0 && lb > 0, "read A's and B's sealed fields");
	if (db == NULL || la <= 0 || lb <= 0)
		goto out;

	/* Only the selected fields are opened: break A's name only. */
	off = blob_entry(ba, (size_t)la, F_NAME, &n);
	ok(off > 0 && n > VG_SEAL_OVERHEAD, "A's blob has a name entry");
	memcpy(bad, ba, (size_t)la);
	if (off > 0)
		bad[off + VG_NONCEBYTES] ^= 1;
	is_int(db_set_fields(db, id_a, bad, (size_t)la), 0,
	    "flip a bit of A's sealed name in SQLite");
	rc = vg_vault_get(v, id_a, UINT32_C(1) << F_PHONE, VG_VIEW_CLEAR, r);
	is_int(rc, 0, "get A's phone only: succeeds (name not decrypted)");
	is_str(r->value[F_PHONE], "+8613800138000", "... right phone");
	is_int(vg_vault_get(v, id_a, UINT32_C(1) << F_NAME, VG_VIEW_CLEAR, r),
	    VG_ECRYPTO, "get A's name: VG_ECRYPTO");
	rc = vg_vault_get(v, id_a, 0, VG_VIEW_MASKED, r);
	is_int(rc, VG_ECRYPTO, "get all of A: VG_ECRYPTO");
	for (i = 0, present = 0; i < VG_FIELDS_MAX; i++)
		present |= r->present[i] || r->value[i][0] != '\0';
	ok(!present, "... and the record holds no values");
	is_int(lookup1(v, F_PHONE, "13912345678", got), 0,
	    "B is unaffected");

	/* One byte of the tag. */
	memcpy(bad, ba, (size_t)la);
	bad[la - 1] ^= 0x40;
	db_set_fields(db, id_a, bad, (size_t)la);
	is_int(vg_vault_get(v, id_a, 0, VG_VIEW_CLEAR, r), VG_ECRYPTO,
	    "one byte of the last tag changed: VG_ECRYPTO");
	/* The length header. */
	memcpy(bad, ba, (size_t)la);
	bad[1] ^= 0x80;
	db_set_fields(db, id_a, bad, (size_t)la);
	is_int(vg_vault_get(v, id_a, 0, VG_VIEW_CLEAR, r), VG_EFORMAT,
	    "entry length corrupted: VG_EFORMAT");
	/* Truncated. */
	db_set_fields(db, id_a, ba, (size_t)la - 1);
	rc = vg_vault_get(v, id_a, 0, VG_VIEW_CLEAR, r);
	ok(rc == VG_EFORMAT || rc == VG_ECRYPTO, "blob cut short: refused "
	    "(%d)", rc);
	db_set_fields(db, id_a, ba, (size_t)la);
	is_int(vg_vault_get(v, id_a, 0, VG_VIEW_CLEAR, r), 0,
	    "original blob restored: A reads again");

	/* Swap A's and B's blobs: each is bound to its own id. */
	ok(db_set_fields(db, id_a, bb, (size_t)lb) == 0 &&
	    db_set_fields(db, id_b, ba, (size_t)la) == 0,
	    "swap the fields column of A and B in SQLite");
	is_int(vg_vault_get(v, id_a, 0, VG_VIEW_CLEAR, r), VG_ECRYPTO,
	    "get A (holding B's fields): VG_ECRYPTO");
	is_int(vg_vault_get(v, id_b, 0, VG_VIEW_MASKED, r), VG_ECRYPTO,
	    "get B (holding A's fields): VG_ECRYPTO");
	is_int(vg_vault_get(v, id_a, UINT32_C(1) << F_REGION, VG_VIEW_CLEAR,
	    r), 0, "get A's clear region only still works");
	rc = vg_vault_lookup(v, F_PHONE, "13912345678", 11, &got, 1, &n, NULL);
	is_int(rc, VG_ECRYPTO, "lookup B's phone (index -> A's row): "
	    "VG_ECRYPTO, never the wrong customer");
	db_set_fields(db, id_a, ba, (size_t)la);
	db_set_fields(db, id_b, bb, (size_t)lb);

	/* The record context binds the set of fields and the clear columns:
	 * dropping an entry or editing region or created breaks every field. */
	off = blob_entry(ba, (size_t)la, F_NAME, &n);
	if (off > 0) {
		size_t start = (size_t)off - 3, end = (size_t)off + n;

		memcpy(bad, ba, start);
		memcpy(bad + start, ba + end, (size_t)la - end);
		db_set_fields(db, id_a, bad, (size_t)la - (end - start));
	}
	is_int(vg_vault_get(v, id_a, UINT32_C(1) << F_PHONE, VG_VIEW_CLEAR, r),
	    VG_ECRYPTO, "A's name entry dropped: even the phone fails to open");
	if (off > 0 && (size_t)la + 3 + n <= sizeof(bad)) {
		memcpy(bad, ba, (size_t)la);
		memcpy(bad + la, ba + off - 3, 3 + n);
		db_set_fields(db, id_a, bad, (size_t)la + 3 + n);
	}
	is_int(vg_vault_get(v, id_a, UINT32_C(1) << F_PHONE, VG_VIEW_CLEAR, r),
	    VG_EFORMAT, "A's name entry duplicated: VG_EFORMAT");
	db_set_fields(db, id_a, ba, (size_t)la);
	ok(sqlite3_exec(db, "CREATE TEMP TABLE saved AS SELECT id, region "
	    "FROM customers; UPDATE customers SET region = 'CN-XZ'",
	    NULL, NULL, NULL) == SQLITE_OK,
	    "move every customer to Tibet in SQLite");
	is_int(vg_vault_get(v, id_a, UINT32_C(1) << F_PHONE, VG_VIEW_CLEAR, r),
	    VG_ECRYPTO, "clear region edited: A's phone fails to open");
	is_int(lookup1(v, F_PHONE, "13912345678", got), VG_ECRYPTO,
	    "... and a lookup refuses rather than answer");
	ok(sqlite3_exec(db, "UPDATE customers SET region = (SELECT region "
	    "FROM saved WHERE saved.id = customers.id); DROP TABLE saved",
	    NULL, NULL, NULL) == SQLITE_OK, "put every region back");
	rc = vg_vault_get(v, id_a, 0, VG_VIEW_CLEAR, r);
	is_int(rc, 0, "region restored: A reads again");
	ok(sqlite3_exec(db, "UPDATE customers SET created = created + 1",
	    NULL, NULL, NULL) == SQLITE_OK, "shift creation times by 1 s");
	is_int(vg_vault_get(v, id_a, 0, VG_VIEW_CLEAR, r), VG_ECRYPTO,
	    "creation time edited: VG_ECRYPTO");
	ok(sqlite3_exec(db, "UPDATE customers SET created = created - 1",
	    NULL, NULL, NULL) == SQLITE_OK, "restore creation times");
	is_int(vg_vault_get(v, id_a, 0, VG_VIEW_CLEAR, r), 0,
	    "creation time restored: A reads again");
	ok(vg_vault_get(v, id_a, 0, VG_VIEW_CLEAR, r) == 0 &&
	    vg_vault_get(v, id_b, 0, VG_VIEW_CLEAR, r) == 0,
	    "swapped back: both read again");

	/* Forged index entries: B's phone digest pointing at A, and at an
	 * id that does not exist.  Lookups confirm every hit by opening
	 * the field, so neither shows up. */
	{
		unsigned char ghost[VG_IDBYTES], ids[VG_LOOKUP_MAX][VG_IDBYTES];

		vg_random(ghost, sizeof(ghost));
		ok(db_forge_index(db, F_PHONE, id_b, id_a) == 0 &&
		    db_forge_index(db, F_PHONE, id_b, ghost) == 0,
		    "forge two index entries for B's phone in SQLite");
		n = 0;
		rc = vg_vault_lookup(v, F_PHONE, "13912345678", 11, ids,
		    VG_LOOKUP_MAX, &n, NULL);
		is_int(rc, 0, "lookup B's phone with forged entries");
		ok(n == 1 && memcmp(ids[0], id_b, VG_IDBYTES) == 0,
		    "... returns only B, never A or a missing id (n=%zu)", n);
	}

	/* Crowding: 40 forged entries for B's phone, all pointing at ids
	 * that sort before B's.  The lookup confirms up to VG_LOOKUP_SCAN
	 * candidates, so B is still found. */
	{
		unsigned char low[VG_IDBYTES], ids[VG_LOOKUP_MAX][VG_IDBYTES];
		int k, forged = 0;

		for (k = 0; k < 40; k++) {
			memset(low, 0, sizeof(low));
			low[15] = (unsigned char)k;
			forged += db_forge_index(db, F_PHONE, id_b, low) == 0;
		}
		is_int(forged, 40, "forge 40 low-sorting entries for B's phone");
		n = 0;
		rc = vg_vault_lookup(v, F_PHONE, "13912345678", 11, ids,
		    VG_LOOKUP_MAX, &n, NULL);
		ok(rc == 0 && n == 1 && memcmp(ids[0], id_b, VG_IDBYTES) == 0,
		    "B is not crowded out of its own lookup (rc=%d n=%zu)", rc,
		    n);
	}

	/* A row copied under another id. */
	vg_random(clone, sizeof(clone));
	is_int(db_clone_row(db, id_a, clone), 0,
	    "copy A's row under a new id in SQLite");
	is_int(vg_vault_get(v, clone, 0, VG_VIEW_CLEAR, r), VG_ECRYPTO,
	    "get the copy: VG_ECRYPTO");

	/* A row moved to another epoch. */
	is_int(db_set_epoch(db, id_a, 2), 0, "set A's epoch column to 2");
	is_int(vg_vault_get(v, id_a, 0, VG_VIEW_CLEAR, r), VG_ECRYPTO,
	    "get A under an epoch with no key: VG_ECRYPTO");
	db_set_epoch(db, id_a, 1);
	is_int(vg_vault_get(v, id_a, 0, VG_VIEW_CLEAR, r), 0,
	    "epoch restored: A reads again");
	{
		sqlite3_stmt *st;

		if (sqlite3_prepare_v2(db, "DELETE FROM customers WHERE id = ?1",
		    -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_blob(st, 1, clone, VG_IDBYTES,
			    SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
out:
	sqlite3_close(db);
	vg_record_clear(r);
	vg_record_free(r);
}

/*-----------------------------------------------------------------------------
 * Rotation and rewrapping
 */

struct progress {
	size_t calls;
	uint64_t last_rewrapped, last_scanned;
	int monotonic;
};

static void
on_progress(void *ctx, const struct vg_rewrap_stats *st)
{
	struct progress *p = ctx;

	if (st->rewrapped < p->last_rewrapped || st->scanned < p->last_scanned)
		p->monotonic = 0;
	p->last_rewrapped = st->rewrapped;
	p->last_scanned = st->scanned;
	p->calls++;
}

static void
phone_of(char *buf, size_t cap, unsigned base, size_t i)
{
	snprintf(buf, cap, "1%u%08zu", base, i);
}

/* Checks that customers 0..n-1 (phones from phone_of(base)) are all
 * readable under epoch and found by lookup. */
static void
check_all(struct vg_vault *v, unsigned char (*ids)[VG_IDBYTES], size_t n,
    unsigned base, uint32_t epoch, const char *what)
{
	struct vg_record *r = vg_record_new();
	char ph[32], want[40];
	unsigned char got[VG_IDBYTES];
	size_t i, bad_get = 0, bad_epoch = 0, bad_lookup = 0;
	int rc;

	if (r == NULL)
		abort();
	for (i = 0; i < n; i++) {
		phone_of(ph, sizeof(ph), base, i);
		snprintf(want, sizeof(want), "+86%s", ph);
		if (strcmp(clear_value(v, ids[i], F_PHONE, r, &rc), want) != 0)
			bad_get++;
		else if (r->epoch != epoch)
			bad_epoch++;
		if (lookup1(v, F_PHONE, ph, got) != 0 ||
		    memcmp(got, ids[i], VG_IDBYTES) != 0)
			bad_lookup++;
	}
	is_int(bad_get, 0, "%s: all %zu customers read back", what, n);
	is_int(bad_epoch, 0, "%s: all in epoch %u", what, (unsigned)epoch);
	is_int(bad_lookup, 0, "%s: all found by phone", what);
	vg_record_clear(r);
	vg_record_free(r);
}

static void
test_rotate_rewrap(void)
{
	char dir[PATH_MAX], err[VG_ERRMSG_MAX], ph[32];
	unsigned char ids[12][VG_IDBYTES], psn1[VG_PSNBYTES];
	unsigned char psn2[VG_PSNBYTES];
	struct vg_rewrap_stats rs;
	struct progress pr = { 0, 0, 0, 1 };
	struct vg_record *r = vg_record_new();
	struct vg_vault *v = NULL;
	uint32_t epoch = 0;
	sqlite3 *db;
	size_t i;
	int rc;

	if (r == NULL)
		abort();
	vdir(dir, sizeof(dir), "rotate");
	if (vg_vault_create(dir, NULL, err, sizeof(err)) != 0 ||
	    open_vault(dir, &v) != 0) {
		ok(0, "create the rotation vault");
		vg_record_free(r);
		return;
	}
	for (i = 0, rc = 0; i < 10; i++) {
		phone_of(ph, sizeof(ph), 35, i);
		rc |= add(v, "R", ph, NULL, ids[i]);
	}
	is_int(rc, 0, "ten customers in epoch 1");
	is_int(vg_vault_pseudonym(v, "crm", ids[0], psn1), 0,
	    "pseudonym before rotation");

	is_int(vg_vault_rotate(v, &epoch), 0, "rotate");
	is_int(epoch, 2, "... new epoch 2");
	is_str(epoch_state(v, 1), "decrypt", "epoch 1 is decrypt-only");
	is_str(epoch_state(v, 2), "active", "epoch 2 is active");
	is_int(epoch_customers(v, 1), 10, "ten customers still in epoch 1");
	check_all(v, ids, 10, 35, 1, "after rotate");
	phone_of(ph, sizeof(ph), 35, 10);
	is_int(add(v, "R", ph, NULL, ids[10]), 0, "add after rotation");
	rc = vg_vault_get(v, ids[10], 0, VG_VIEW_CLEAR, r);
	ok(rc == 0 && r->epoch == 2, "... sealed in epoch 2");
	is_int(epoch_customers(v, 2), 1, "one customer in epoch 2");

	is_int(vg_vault_rotate(v, &epoch), 0, "rotate again");
	is_int(epoch, 3, "... epoch 3");
	phone_of(ph, sizeof(ph), 35, 11);
	is_int(add(v, "R", ph, NULL, ids[11]), 0, "add in epoch 3");
	is_str(epoch_state(v, 2), "decrypt", "epoch 2 is decrypt-only now");

	memset(&rs, 0xff, sizeof(rs));
	rc = vg_vault_rewrap(v, 0, on_progress, &pr, &rs);
	is_int(rc, 0, "rewrap");
	is_int(rs.scanned, 12, "... visited 12 customers");
	is_int(rs.rewrapped, 11, "... re-sealed the 11 not in epoch 3");
	is_int(rs.retired, 2, "... retired epochs 1 and 2");
	ok(pr.calls >= 1 && pr.last_rewrapped == 11, "progress reported");
	is_str(epoch_state(v, 1), "retired", "epoch 1 retired");
	is_str(epoch_state(v, 2), "retired", "epoch 2 retired");
	is_str(epoch_state(v, 3), "active", "epoch 3 active");
	is_int(epoch_customers(v, 3), 12, "all 12 customers in epoch 3");
	check_all(v, ids, 12, 35, 3, "after rewrap");
	db = db_open(dir);
	ok(db != NULL && db_key_present(db, 1) == 0 &&
	    db_key_present(db, 2) == 0 && db_key_present(db, 3) == 1,
	    "retired data keys are erased from vigil.db, epoch 3's is kept");
	sqlite3_close(db);
	is_int(vg_vault_pseudonym(v, "crm", ids[0], psn2), 0,
	    "pseudonym after rewrap");
	ok(memcmp(psn1, psn2, VG_PSNBYTES) == 0, "... unchanged by rotation");

	memset(&rs, 0xff, sizeof(rs));
	is_int(vg_vault_rewrap(v, 0, NULL, NULL, &rs), 0, "rewrap again");
	ok(rs.rewrapped == 0 && rs.retired == 0, "... nothing to do");
	vg_vault_close(v);

	is_int(open_vault(dir, &v), 0, "reopen after rewrap");
	check_all(v, ids, 12, 35, 3, "after reopen");
	vg_vault_close(v);
	vg_record_free(r);
}

static void
test_rewrap_batches(void)
{
	enum { N = 100, BATCH = 7 };
	char dir[PATH_MAX], err[VG_ERRMSG_MAX], ph[32];
	unsigned char (*ids)[VG_IDBYTES] = calloc(N, VG_IDBYTES);
	struct vg_rewrap_stats rs;
	struct progress pr = { 0, 0, 0, 1 };
	struct vg_vault *v = NULL;
	uint32_t epoch = 0;
	size_t i;
	int rc = 0;

	if (ids == NULL)
		abort();
	vdir(dir, sizeof(dir), "batch7");
	if (vg_vault_create(dir, NULL, err, sizeof(err)) != 0 ||
	    open_vault(dir, &v) != 0) {
		ok(0, "create the batch vault");
		free(ids);
		return;
	}
	is_int(vg_vault_begin(v), 0, "begin");
	for (i = 0; i < N; i++) {
		phone_of(ph, sizeof(ph), 58, i);
		rc |= add(v, "B", ph, NULL, ids[i]);
	}
	is_int(rc, 0, "100 customers added in one transaction");
	is_int(vg_vault_commit(v), 0, "commit");
	is_int(vg_vault_rotate(v, &epoch), 0, "rotate to epoch 2");
	rc = vg_vault_rewrap(v, BATCH, on_progress, &pr, &rs);
	is_int(rc, 0, "rewrap in batches of 7");
	is_int(rs.rewrapped, N, "... 100 re-sealed");
	is_int(rs.scanned, N, "... 100 visited");
	is_int(rs.retired, 1, "... epoch 1 retired");
	is_int(pr.calls, (N + BATCH - 1) / BATCH,
	    "... progress after each of the 15 batches");
	ok(pr.monotonic && pr.last_rewrapped == N,
	    "... progress counts only grow, ending at 100");
	is_int(epoch_customers(v, 2), N, "all 100 in epoch 2");
	is_str(epoch_state(v, 1), "retired", "epoch 1 retired");
	check_all(v, ids, N, 58, 2, "after batched rewrap");
	vg_vault_close(v);
	free(ids);
}

/* Handles opened before a rotation: they must notice it. */
static void
test_stale_handles(void)
{
	char dir[PATH_MAX], err[VG_ERRMSG_MAX];
	unsigned char x[VG_IDBYTES], y[VG_IDBYTES], z[VG_IDBYTES];
	unsigned char w[VG_IDBYTES], got[VG_IDBYTES];
	struct vg_record *r = vg_record_new();
	struct vg_vault *v1 = NULL, *v2 = NULL, *v3 = NULL;
	struct vg_batch *b = vg_batch_new(2);
	struct vg_rewrap_stats rs;
	struct vg_input in;
	struct vg_reject rej;
	uint32_t epoch = 0;
	uint64_t before;
	int rc;

	if (r == NULL || b == NULL)
		abort();
	vdir(dir, sizeof(dir), "stale");
	if (vg_vault_create(dir, NULL, err, sizeof(err)) != 0 ||
	    open_vault(dir, &v1) != 0 || open_vault(dir, &v2) != 0 ||
	    open_vault(dir, &v3) != 0) {
		ok(0, "open three handles");
		goto out;
	}
	is_int(add(v1, "X", "13500135000", NULL, x), 0, "v1 adds X in epoch 1");
	/* v2 prepares a batch under epoch 1, outside any transaction. */
	memset(&in, 0, sizeof(in));
	set(&in, F_PHONE, "13500135999");
	is_int(vg_vault_prepare(v2, &in, b, &rej), 0,
	    "v2 prepares a customer before the rotation");

	is_int(vg_vault_rotate(v1, &epoch), 0, "v1 rotates");
	is_int(epoch, 2, "... to epoch 2");

	is_int(add(v2, "Y", "13500135001", NULL, y), 0,
	    "stale v2 adds Y after the rotation");
	rc = vg_vault_get(v1, y, 0, VG_VIEW_CLEAR, r);
	ok(rc == 0 && r->epoch == 2, "... Y is sealed in the new epoch (%u)",
	    (unsigned)r->epoch);
	rc = vg_vault_get(v2, y, 0, VG_VIEW_CLEAR, r);
	ok(rc == 0 && strcmp(r->value[F_PHONE], "+8613500135001") == 0,
	    "... v2 reads Y back");

	before = customers(v1);
	is_int(vg_vault_begin(v2), 0, "v2 begins");
	is_int(vg_vault_put_batch(v2, b), VG_EBUSY,
	    "a batch prepared before the rotation: VG_EBUSY");
	vg_vault_rollback(v2);
	is_int(customers(v1), before, "... nothing stored");

	rc = vg_vault_get(v3, x, 0, VG_VIEW_CLEAR, r);
	ok(rc == 0 && r->epoch == 1, "stale v3 reads X (epoch 1)");
	rc = vg_vault_get(v3, y, 0, VG_VIEW_CLEAR, r);
	ok(rc == 0 && r->epoch == 2, "stale v3 reads Y (epoch 2, a key it "
	    "did not have)");

	rc = vg_vault_rewrap(v1, 0, NULL, NULL, &rs);
	ok(rc == 0 && rs.rewrapped == 1 && rs.retired == 1,
	    "v1 rewraps X and retires epoch 1");
	rc = vg_vault_get(v3, x, 0, VG_VIEW_CLEAR, r);
	ok(rc == 0 && r->epoch == 2 &&
	    strcmp(r->value[F_PHONE], "+8613500135000") == 0,
	    "stale v3 still reads X after rewrap + retire");
	rc = vg_vault_get(v2, x, 0, VG_VIEW_MASKED, r);
	is_int(rc, 0, "v2 reads X too");
	is_int(lookup1(v3, F_PHONE, "135 0013 5000", got), 0,
	    "v3 finds X by phone");
	ok(memcmp(got, x, VG_IDBYTES) == 0, "... X");
	is_int(add(v3, "Z", "13500135002", NULL, z), 0,
	    "stale v3 adds Z after the retirement");
	rc = vg_vault_get(v1, z, 0, VG_VIEW_CLEAR, r);
	ok(rc == 0 && r->epoch == 2, "... in epoch 2");

	is_int(vg_vault_rotate(v1, &epoch), 0, "v1 rotates to epoch 3");
	is_int(add(v3, "W", "13500135003", NULL, w), 0, "v3 adds W");
	rc = vg_vault_get(v1, w, 0, VG_VIEW_CLEAR, r);
	ok(rc == 0 && r->epoch == 3, "... in epoch 3");
	rc = vg_vault_rewrap(v2, 3, NULL, NULL, &rs);
	ok(rc == 0 && rs.rewrapped == 3 && rs.retired == 1,
	    "stale v2 rewraps the three epoch-2 customers and retires epoch 2");
	is_int(epoch_customers(v1, 3), 4, "all four customers in epoch 3");
	rc = vg_vault_get(v1, x, 0, VG_VIEW_CLEAR, r);
	ok(rc == 0 && r->epoch == 3, "v1 reads X in epoch 3");
	rc = vg_vault_get(v3, z, 0, VG_VIEW_CLEAR, r);
	ok(rc == 0 && r->epoch == 3, "v3 reads Z in epoch 3");
out:
	vg_vault_close(v1);
	vg_vault_close(v2);
	vg_vault_close(v3);
	vg_batch_free(b);
	vg_record_free(r);
}

/*-----------------------------------------------------------------------------
 * Pseudonyms
 */

static void
test_pseudonyms(struct vg_vault *v, const char *otherdir)
{
	static const char *const bad[] = { "", "CRM", "_crm", ".crm", "-crm",
	    "crm x", "crm/x", "crm\n", "cr\xc3\xa9" };
	unsigned char p1[VG_PSNBYTES], p1b[VG_PSNBYTES], p2[VG_PSNBYTES];
	unsigned char pb[VG_PSNBYTES], back[VG_IDBYTES], nobody[VG_IDBYTES];
	unsigned char flipped[VG_PSNBYTES];
	char long_name[80];
	struct vg_vault *o = NULL;
	size_t i;
	int rc;

	is_int(vg_vault_pseudonym(v, "crm", id_a, p1), 0, "pseudonym of A "
	    "for crm");
	is_int(vg_vault_pseudonym(v, "crm", id_a, p1b), 0, "... again");
	ok(memcmp(p1, p1b, VG_PSNBYTES) == 0, "... stable");
	is_int(vg_vault_pseudonym(v, "billing", id_a, p2), 0,
	    "pseudonym of A for billing");
	ok(memcmp(p1, p2, VG_PSNBYTES) != 0, "... unlinkable to crm's");
	is_int(vg_vault_pseudonym(v, "crm", id_b, pb), 0, "pseudonym of B");
	ok(memcmp(p1, pb, VG_PSNBYTES) != 0, "... differs from A's");
	memset(back, 0, sizeof(back));
	is_int(vg_vault_resolve(v, "crm", p1, back), 0, "resolve for crm");
	ok(memcmp(back, id_a, VG_IDBYTES) == 0, "... to A");
	is_int(vg_vault_resolve(v, "billing", p2, back), 0,
	    "resolve billing's");
	ok(memcmp(back, id_a, VG_IDBYTES) == 0, "... to A");
	is_int(vg_vault_resolve(v, "billing", p1, back), VG_ECRYPTO,
	    "crm's pseudonym resolved as billing: VG_ECRYPTO");
	memcpy(flipped, p1, sizeof(flipped));
	flipped[VG_PSNBYTES - 1] ^= 4;
	is_int(vg_vault_resolve(v, "crm", flipped, back), VG_ECRYPTO,
	    "flipped bit: VG_ECRYPTO");
	vg_random(nobody, sizeof(nobody));
	is_int(vg_vault_pseudonym(v, "crm", nobody, p2), VG_ENOTFOUND,
	    "pseudonym of an unknown id: VG_ENOTFOUND");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char shown[32];
		size_t k;

		snprintf(shown, sizeof(shown), "%s", bad[i]);
		for (k = 0; shown[k] != '\0'; k++)
			if ((unsigned char)shown[k] < 0x20)
				shown[k] = '?';
		is_int(vg_vault_pseudonym(v, bad[i], id_a, p2), VG_EINVAL,
		    "consumer name \"%s\": VG_EINVAL", shown);
		is_int(vg_vault_resolve(v, bad[i], p1, back), VG_EINVAL,
		    "... also for resolve");
	}
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	is_int(vg_vault_pseudonym(v, long_name, id_a, p2), 0,
	    "64-byte consumer name accepted");
	long_name[64] = 'a';
	long_name[65] = '\0';
	is_int(vg_vault_pseudonym(v, long_name, id_a, p2), VG_EINVAL,
	    "65-byte consumer name: VG_EINVAL");
	is_int(vg_vault_pseudonym(v, "0crm.eu-west_1", id_a, p2), 0,
	    "digits, dots, dashes and underscores accepted");

	/* Another vault cannot resolve this vault's pseudonyms. */
	rc = open_vault(otherdir, &o);
	if (rc == 0) {
		is_int(vg_vault_resolve(o, "crm", p1, back), VG_ECRYPTO,
		    "another vault cannot resolve it: VG_ECRYPTO");
		vg_vault_close(o);
	} else {
		ok(0, "open the other vault");
	}
}

/*-----------------------------------------------------------------------------
 * Batches and transactions
 */

static void
test_batch(void)
{
	static const char *const phones[] = { "13300133000", "13300133001",
	    "13300133002", "13300133003", "13300133004" };
	char dir[PATH_MAX], err[VG_ERRMSG_MAX];
	unsigned char got[VG_IDBYTES], id[VG_IDBYTES], ids[3][VG_IDBYTES];
	struct vg_batch *b = NULL, *b2 = NULL;
	struct vg_vault *v = NULL;
	struct vg_vault_stats st0, st1;
	struct vg_input in;
	struct vg_reject rej;
	size_t i;
	int rc, found;

	vdir(dir, sizeof(dir), "batch");
	if (vg_vault_create(dir, NULL, err, sizeof(err)) != 0 ||
	    open_vault(dir, &v) != 0) {
		ok(0, "create the batch vault");
		return;
	}
	b = vg_batch_new(4);
	ok(b != NULL, "batch of 4");
	if (b == NULL)
		goto out;
	ok(vg_batch_count(b) == 0 && !vg_batch_full(b), "... empty");
	is_int(vg_vault_put_batch(v, b), VG_EINVAL,
	    "put_batch outside a transaction: VG_EINVAL");
	is_int(vg_vault_commit(v), VG_EINVAL, "commit without begin: "
	    "VG_EINVAL");
	vg_vault_rollback(v);
	ok(1, "rollback without begin is a no-op");

	is_int(vg_vault_begin(v), 0, "begin");
	is_int(vg_vault_begin(v), VG_EINVAL, "nested begin: VG_EINVAL");
	for (i = 0, rc = 0; i < 4; i++) {
		memset(&in, 0, sizeof(in));
		set(&in, F_PHONE, phones[i]);
		rc |= vg_vault_prepare(v, &in, b, &rej);
	}
	is_int(rc, 0, "prepare four customers");
	ok(vg_batch_count(b) == 4 && vg_batch_full(b), "... batch full");
	memset(&in, 0, sizeof(in));
	set(&in, F_PHONE, phones[4]);
	is_int(vg_vault_prepare(v, &in, b, &rej), VG_ETOOBIG,
	    "a fifth: VG_ETOOBIG");
	is_int(vg_vault_put_batch(v, b), 0, "put the batch");
	is_int(vg_vault_commit(v), 0, "commit");
	is_int(customers(v), 4, "four customers");
	for (i = 0, found = 0; i < 4; i++)
		if (lookup1(v, F_PHONE, phones[i], got) == 0 &&
		    memcmp(got, vg_batch_id(b, i), VG_IDBYTES) == 0)
			found++;
	is_int(found, 4, "each found by phone under its batch id");
	vg_batch_reset(b);
	ok(vg_batch_count(b) == 0 && !vg_batch_full(b), "reset empties it");

	b2 = vg_batch_new(2);
	memset(&in, 0, sizeof(in));
	set(&in, F_PHONE, "12345");
	rej.field = 99;
	is_int(vg_vault_prepare(v, &in, b2, &rej), VG_EINVAL,
	    "prepare a bad input: VG_EINVAL");
	ok(rej.field == F_PHONE && rej.why != NULL, "... reject filled");
	is_int(vg_batch_count(b2), 0, "... batch unchanged");

	/* Rollback undoes adds and batches alike. */
	is_int(vg_vault_stats(v, &st0), 0, "stats before");
	is_int(vg_vault_begin(v), 0, "begin");
	for (i = 0, rc = 0; i < 3; i++) {
		char ph[32];

		snprintf(ph, sizeof(ph), "1330013310%zu", i);
		rc |= add(v, "T", ph, NULL, ids[i]);
	}
	is_int(rc, 0, "three adds inside the transaction");
	memset(&in, 0, sizeof(in));
	set(&in, F_PHONE, phones[4]);
	ok(vg_vault_prepare(v, &in, b, &rej) == 0 &&
	    vg_vault_put_batch(v, b) == 0, "and a batch of one");
	is_int(customers(v), 8, "... visible inside the transaction");
	vg_vault_rollback(v);
	is_int(vg_vault_stats(v, &st1), 0, "stats after rollback");
	ok(st1.customers == st0.customers &&
	    st1.index_entries == st0.index_entries,
	    "rollback: customer and index counts unchanged");
	is_int(lookup1(v, F_PHONE, "13300133100", got), VG_ENOTFOUND,
	    "rolled-back customer not found by phone");
	{
		struct vg_record *r = vg_record_new();

		if (r == NULL)
			abort();
		is_int(vg_vault_get(v, ids[0], 0, VG_VIEW_MASKED, r),
		    VG_ENOTFOUND, "... nor by id");
		vg_record_free(r);
	}
	is_int(add(v, "U", "13300133200", NULL, id), 0,
	    "an add after the rollback works");
	is_int(customers(v), 5, "... five customers");

	/* Closing inside a transaction rolls it back. */
	is_int(vg_vault_begin(v), 0, "begin, then close without commit");
	is_int(add(v, "V", "13300133300", NULL, id), 0, "... after an add");
	vg_vault_close(v);
	v = NULL;
	if (open_vault(dir, &v) != 0) {
		ok(0, "reopen");
		goto out;
	}
	is_int(customers(v), 5, "reopened: the uncommitted add is gone");
	is_int(lookup1(v, F_PHONE, "13300133300", got), VG_ENOTFOUND,
	    "... not found by phone");

	is_int(vg_vault_bulk(v, true), 0, "bulk mode on");
	is_int(vg_vault_bulk(v, false), 0, "bulk mode off");
out:
	vg_batch_free(b);
	vg_batch_free(b2);
	vg_batch_free(NULL);
	vg_vault_close(v);
}

int
main(void)
{
	char dir[PATH_MAX], other[PATH_MAX], err[VG_ERRMSG_MAX];
	struct vg_vault *v = NULL;

	snprintf(root, sizeof(root), "/tmp/t_vault.XXXXXX");
	if (mkdtemp(root) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return done_testing();
	}
	unsetenv(VG_MASTER_ENV);
	if (vg_crypto_init() != 0)
		ok(0, "vg_crypto_init");

	test_create_open();
	test_env_key();
	test_key_file();

	vdir(dir, sizeof(dir), "main");
	vdir(other, sizeof(other), "other");
	if (vg_vault_create(dir, NULL, err, sizeof(err)) == 0 &&
	    vg_vault_create(other, NULL, err, sizeof(err)) == 0 &&
	    open_vault(dir, &v) == 0) {
		test_add_lookup(v);
		test_get(v);
		test_lookup_cache(v);
		test_duplicates(v);
		test_tamper(dir, v);
		test_pseudonyms(v, other);
		vg_vault_close(v);
	} else {
		ok(0, "create the main vault: %s", err);
	}
	test_rejects();
	test_rotate_rewrap();
	test_rewrap_batches();
	test_stale_handles();
	test_batch();

	rm_rf(root);
	ok(!exists(root), "temporary vaults removed");
	return done_testing();
}
