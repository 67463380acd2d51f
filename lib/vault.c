/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vault: key hierarchy, customer sealing, blind-index lookup, masked
 * and clear views, key rotation and rewrapping.  The contract is in
 * include/vigil/vault.h; formats and reasoning in docs/internals/vault.md.
 *
 * Key hierarchy.  The master key (32 bytes, outside the database) derives
 * the key-encryption key (KEK) and a check value stored in meta.  Random
 * data keys, one per epoch, the blind-index root and the pseudonym root
 * are stored only wrapped by the KEK.  Per-field index keys and
 * per-consumer pseudonym keys are derived from their roots.  Everything
 * unwrapped lives in one sodium_malloc'd region, read-only between loads.
 *
 * Record format.  customers.fields is a sequence of entries
 * [field index: 1 byte][length: 2 bytes, big-endian][sealed value], one
 * per present sealed field, each sealed on its own with associated data
 * binding customer id, field name, epoch and the record context (region,
 * creation time, the set of fields present; see record_ctx()).  The
 * region field is kept in the clear customers.region column.
 *
 * Stale keys.  Another process may rotate or retire keys while this one
 * is open.  Every write transaction first compares meta key_generation
 * with the generation it loaded and reloads keys if it moved, under the
 * write lock, so no writer ever seals under a retired key.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "vigil/vault.h"
#include "fileio.h"
#include "store.h"
#include "vault_int.h"

#define VAULT_FORMAT "vigil-vault-1"
#define DB_NAME "vigil.db"
#define KEY_NAME "master.key"

struct secrets {
	unsigned char kek[VG_KEYBYTES];
	unsigned char index_root[VG_KEYBYTES];
	unsigned char psn_root[VG_KEYBYTES];
	unsigned char audit_root[VG_KEYBYTES];
	unsigned char honey_key[VG_KEYBYTES];	/* seals DIR/honey.set */
	unsigned char field_key[VG_FIELDS_MAX][VG_KEYBYTES];
	size_t ndata;
	struct {
		uint32_t epoch;
		unsigned char key[VG_KEYBYTES];
	} data[VG_EPOCHS_MAX];
};

struct vg_vault {
	struct vg_store *store;
	struct vg_schema schema;
	struct secrets *sec;		/* sodium_malloc'd, read-only at rest */
	uint32_t current_epoch;
	uint64_t generation;		/* key_generation the keys came from */
	int in_txn;
	int in_read;		/* inside vg_vault_read_begin() */
	const char *key_source;
	unsigned char *blob;		/* VG_BLOB_MAX scratch */
	/* The record a lookup just confirmed, still in blob: the get that
	 * normally follows uses it instead of reading the row again.  Any
	 * other use of blob, and any write, invalidates it. */
	struct vg_srec cached;
	bool cache_valid;
	struct vg_batch *one;		/* vg_vault_add's batch, or NULL */
};


static void
put_be16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static unsigned
get_be16(const unsigned char *p)
{
	return ((unsigned)p[0] << 8) | p[1];
}

/*-----------------------------------------------------------------------------
 * Meta values
 */

static int
meta_get_u64(struct vg_store *s, const char *key, uint64_t *out)
{
	char buf[32];
	size_t len;
	char *end;
	int rc;

	rc = s->ops->meta_get(s, key, buf, sizeof(buf) - 1, &len);
	if (rc != 0)
		return rc;
	buf[len] = '\0';
	errno = 0;
	*out = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || *end != '\0')
		return VG_EFORMAT;
	return 0;
}

static int
meta_set_u64(struct vg_store *s, const char *key, uint64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);

	return s->ops->meta_set(s, key, buf, (size_t)n);
}

/*-----------------------------------------------------------------------------
 * Master key
 */

/* Loads the master key into master (secret memory).  Returns 0 or an
 * error with a reason in err. */
static int
load_master(const char *dir, unsigned char *master, const char **source,
    char *err, size_t errcap)
{
	const char *env = getenv(VG_MASTER_ENV);
	char path[PATH_MAX];
	char *buf;
	size_t len = 0;
	mode_t mode = 0;
	int rc;

	if (env != NULL && *env != '\0') {
		*source = "environment";
		if (vg_b64_decode_key(master, env, strlen(env)) != 0) {
			vg__seterr(err, errcap, "%s is not the base64 of a "
			    "32-byte key", VG_MASTER_ENV);
			return VG_EINVAL;
		}
		return 0;
	}
	*source = "file";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, KEY_NAME) >=
	    sizeof(path))
		return VG_ETOOBIG;
	buf = (char *)vg_secret_new(128);
	if (buf == NULL)
		return VG_ENOMEM;
	rc = vg__file_read_secret(path, buf, 128, &len, &mode);
	switch (rc) {
	case 0:
		if (vg_b64_decode_key(master, buf, len) != 0) {
			vg__seterr(err, errcap, "master key file '%s' is "
			    "malformed", path);
			rc = VG_EBADKEY;
		}
		break;
	case VG_ENOTFOUND:
		vg__seterr(err, errcap, "no master key: set %s or restore '%s'",
		    VG_MASTER_ENV, path);
		rc = VG_EBADKEY;
		break;
	case VG_ETOOBIG:
		vg__seterr(err, errcap, "master key file '%s' is malformed (too "
		    "long for a base64 key)", path);
		rc = VG_EBADKEY;
		break;
	case VG_EINVAL:
		vg__seterr(err, errcap, "master key file '%s' has mode %04o; it "
		    "must not be readable by group or others (chmod 600)",
		    path, (unsigned)mode);
		rc = VG_EBADKEY;
		break;
	default:
		vg__seterr(err, errcap, "cannot read master key file '%s': %s",
		    path, strerror(errno));
		break;
	}
	vg_secret_free((unsigned char *)buf);
	return rc;
}

/*-----------------------------------------------------------------------------
 * Key loading
 */

struct load_ctx {
	struct secrets *sec;
	int have_index, have_psn, have_audit;
	int rc;
};

static int
load_key_row(void *ctx, const struct vg_key_row *k)
{
	struct load_ctx *lc = ctx;
	struct secrets *sec = lc->sec;
	unsigned char *dst;

	if (!k->has_key)
		return 0;	/* retired: nothing left to load */
	if (strcmp(k->kind, "data") == 0) {
		if (sec->ndata == VG_EPOCHS_MAX)
			return VG_ETOOBIG;
		sec->data[sec->ndata].epoch = k->epoch;
		dst = sec->data[sec->ndata].key;
		sec->ndata++;
	} else if (strcmp(k->kind, "index") == 0) {
		dst = sec->index_root;
		lc->have_index = 1;
	} else if (strcmp(k->kind, "pseudonym") == 0) {
		dst = sec->psn_root;
		lc->have_psn = 1;
	} else if (strcmp(k->kind, "audit") == 0) {
		dst = sec->audit_root;
		lc->have_audit = 1;
	} else {
		return 0;	/* a kind from a later version: not ours */
	}
	if (vg_unwrap(dst, k->wrapped, sec->kek, k->kind, k->epoch) != 0)
		return VG_ECRYPTO;
	return 0;
}

/* (Re)loads every key from storage.  The KEK must already be in v->sec. */
static int
load_keys(struct vg_vault *v)
{
	struct secrets *sec = v->sec;
	struct load_ctx lc = { sec, 0, 0, 0, 0 };
	uint64_t gen, epoch;
	size_t i;
	int rc;

	rc = meta_get_u64(v->store, "key_generation", &gen);
	if (rc == 0)
		rc = meta_get_u64(v->store, "current_epoch", &epoch);
	if (rc != 0)
		return rc == VG_ENOTFOUND ? VG_ENOVAULT : rc;
	sodium_mprotect_readwrite(sec);
	sodium_memzero(sec->data, sizeof(sec->data));
	sec->ndata = 0;
	rc = v->store->ops->key_each(v->store, load_key_row, &lc);
	if (rc == 0 && (!lc.have_index || !lc.have_psn || !lc.have_audit))
		rc = VG_EFORMAT;
	for (i = 0; rc == 0 && i < v->schema.nfields; i++) {
		char label[8 + VG_FIELDNAME_MAX + 1];

		snprintf(label, sizeof(label), "index:%s",
		    v->schema.field[i].name);
		vg_derive(sec->field_key[i], sec->index_root, label);
	}
	sodium_mprotect_readonly(sec);
	if (rc != 0)
		return rc;
	v->generation = gen;
	v->current_epoch = (uint32_t)epoch;
	return 0;
}

/* Returns the data key of epoch, or NULL when it is unknown or retired. */
static const unsigned char *
data_key(const struct vg_vault *v, uint32_t epoch)
{
	size_t i;

	for (i = 0; i < v->sec->ndata; i++)
		if (v->sec->data[i].epoch == epoch)
			return v->sec->data[i].key;
	return NULL;
}

/* Data key for epoch, reloading keys once if another process rotated. */
static int
data_key_fresh(struct vg_vault *v, uint32_t epoch, const unsigned char **key)
{
	int rc;

	*key = data_key(v, epoch);
	if (*key != NULL)
		return 0;
	rc = load_keys(v);
	if (rc != 0)
		return rc;
	*key = data_key(v, epoch);
	return *key != NULL ? 0 : VG_ECRYPTO;
}

/*-----------------------------------------------------------------------------
 * Create, open, close
 */

static int
dir_is_empty(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int empty = 1;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

static int
new_wrapped_key(struct vg_store *s, const unsigned char *kek,
    const char *kind, uint32_t epoch, const char *state)
{
	unsigned char *key = vg_secret_new(VG_KEYBYTES);
	unsigned char wrapped[VG_WRAPPEDBYTES];
	int rc;

	if (key == NULL)
		return VG_ENOMEM;
	randombytes_buf(key, VG_KEYBYTES);
	vg_wrap(wrapped, key, kek, kind, epoch);
	vg_secret_free(key);
	rc = s->ops->key_put(s, kind, epoch, state, wrapped);
	return rc;
}

static int
new_vault_id(struct vg_store *s)
{
	unsigned char id[16];
	char hex[33];

	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
	return s->ops->meta_set(s, "vault_id", hex, 32);
}

static int
init_database(struct vg_store *s, const struct vg_schema *schema,
    const unsigned char *master, const char *source)
{
	unsigned char *kek = NULL;
	unsigned char check[VG_KEYBYTES];
	char text[VG_SCHEMA_TEXT_MAX];
	int rc;

	rc = vg_schema_format(schema, text, sizeof(text));
	if (rc != 0)
		return rc;
	kek = vg_secret_new(VG_KEYBYTES);
	if (kek == NULL)
		return VG_ENOMEM;
	vg_derive(kek, master, "vigil:kek");
	vg_derive(check, master, "vigil:master-check");
	rc = s->ops->begin(s);
	if (rc != 0)
		goto out;
	if ((rc = s->ops->meta_set(s, "format", VAULT_FORMAT,
	    strlen(VAULT_FORMAT))) != 0 ||
	    (rc = s->ops->meta_set(s, "schema", text, strlen(text))) != 0 ||
	    (rc = s->ops->meta_set(s, "master_check", check,
	    sizeof(check))) != 0 ||
	    (rc = s->ops->meta_set(s, "key_source", source,
	    strlen(source))) != 0 ||
	    (rc = meta_set_u64(s, "created", (uint64_t)time(NULL))) != 0 ||
	    (rc = meta_set_u64(s, "current_epoch", 1)) != 0 ||
	    (rc = meta_set_u64(s, "key_generation", 1)) != 0 ||
	    (rc = new_wrapped_key(s, kek, "data", 1, "active")) != 0 ||
	    (rc = new_wrapped_key(s, kek, "index", 0, "active")) != 0 ||
	    (rc = new_wrapped_key(s, kek, "pseudonym", 0, "active")) != 0 ||
	    (rc = new_wrapped_key(s, kek, "audit", 0, "active")) != 0 ||
	    (rc = new_vault_id(s)) != 0) {
		s->ops->rollback(s);
		goto out;
	}
	rc = s->ops->commit(s);
out:
	vg_secret_free(kek);
	sodium_memzero(check, sizeof(check));
	return rc;
}

int
vg_vault_create(const char *dir, const struct vg_schema *schema, char *err,
    size_t errcap)
{
	struct vg_schema def;
	struct vg_store *s = NULL;
	unsigned char *master = NULL;
	char path[PATH_MAX], dbpath[PATH_MAX], b64[64];
	const char *source = "file";
	int made_dir = 0, wrote_key = 0, rc;

	if (vg_crypto_init() != 0)
		return VG_ECRYPTO;
	if (schema == NULL) {
		vg_schema_default(&def);
		schema = &def;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, KEY_NAME) >=
	    sizeof(path) || (size_t)snprintf(dbpath, sizeof(dbpath), "%s/%s",
	    dir, DB_NAME) >= sizeof(dbpath)) {
		vg__seterr(err, errcap, "vault path too long");
		return VG_ETOOBIG;
	}
	if (mkdir(dir, 0700) == 0) {
		made_dir = 1;
	} else if (errno != EEXIST) {
		vg__seterr(err, errcap, "cannot create '%s': %s", dir,
		    strerror(errno));
		return VG_EIO;
	} else {
		int empty = dir_is_empty(dir);

		if (empty < 0) {
			vg__seterr(err, errcap, "'%s' exists and is not a readable "
			    "directory", dir);
			return VG_EEXIST;
		}
		if (!empty) {
			vg__seterr(err, errcap, "'%s' is not empty; refusing to "
			    "overwrite it", dir);
			return VG_EEXIST;
		}
	}

	master = vg_secret_new(VG_KEYBYTES);
	if (master == NULL) {
		rc = VG_ENOMEM;
		goto fail;
	}
	if (getenv(VG_MASTER_ENV) != NULL && *getenv(VG_MASTER_ENV) != '\0') {
		rc = load_master(dir, master, &source, err, errcap);
		if (rc != 0)
			goto fail;
	} else {
		randombytes_buf(master, VG_KEYBYTES);
		vg_b64_encode_key(b64, sizeof(b64), master);
		strncat(b64, "\n", sizeof(b64) - strlen(b64) - 1);
		rc = vg__file_create_durable(path, b64, strlen(b64), 0600);
		sodium_memzero(b64, sizeof(b64));
		if (rc != 0) {
			vg__seterr(err, errcap, "cannot write '%s': %s", path,
			    strerror(errno));
			goto fail;
		}
		wrote_key = 1;
	}

	rc = vg__store_sqlite_open(dbpath, 1, &s);
	if (rc == 0 && chmod(dbpath, 0600) != 0)
		rc = VG_EIO;
	if (rc == 0)
		rc = init_database(s, schema, master, source);
	if (rc != 0) {
		vg__seterr(err, errcap, "cannot create the database '%s': %s",
		    dbpath, vg_strerror(rc));
		goto fail;
	}
	s->ops->close(s);
	vg_secret_free(master);
	return vg__dir_sync(dir);
fail:
	if (s != NULL)
		s->ops->close(s);
	vg_secret_free(master);
	if (wrote_key)
		unlink(path);
	unlink(dbpath);
	{
		char side[PATH_MAX + 8];

		snprintf(side, sizeof(side), "%s-wal", dbpath);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", dbpath);
		unlink(side);
	}
	if (made_dir)
		rmdir(dir);
	return rc;
}

int
vg_vault_open(const char *dir, struct vg_vault **out, char *err, size_t errcap)
{
	struct vg_vault *v;
	unsigned char *master = NULL;
	unsigned char check[VG_KEYBYTES], want[VG_KEYBYTES];
	char dbpath[PATH_MAX], text[VG_SCHEMA_TEXT_MAX + 1], perr[128];
	size_t len;
	struct stat sb;
	int rc;

	*out = NULL;
	if (vg_crypto_init() != 0)
		return VG_ECRYPTO;
	if ((size_t)snprintf(dbpath, sizeof(dbpath), "%s/%s", dir, DB_NAME) >=
	    sizeof(dbpath))
		return VG_ETOOBIG;
	if (stat(dbpath, &sb) != 0) {
		vg__seterr(err, errcap, "'%s' is not a vigil vault (no %s)", dir,
		    DB_NAME);
		return VG_ENOVAULT;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return VG_ENOMEM;
	v->blob = malloc(VG_BLOB_MAX);
	v->sec = sodium_malloc(sizeof(*v->sec));
	master = vg_secret_new(VG_KEYBYTES);
	if (v->blob == NULL || v->sec == NULL || master == NULL) {
		rc = VG_ENOMEM;
		goto fail;
	}
	sodium_memzero(v->sec, sizeof(*v->sec));

	rc = vg__store_sqlite_open(dbpath, 0, &v->store);
	if (rc != 0) {
		vg__seterr(err, errcap, "'%s' is not a vigil vault (cannot open "
		    "its database)", dir);
		goto fail;
	}
	rc = v->store->ops->meta_get(v->store, "format", text,
	    sizeof(text) - 1, &len);
	if (rc != 0 || len != strlen(VAULT_FORMAT) ||
	    memcmp(text, VAULT_FORMAT, len) != 0) {
		vg__seterr(err, errcap, "'%s' is not a vigil vault (unknown "
		    "format)", dir);
		rc = VG_ENOVAULT;
		goto fail;
	}
	rc = v->store->ops->meta_get(v->store, "schema", text,
	    sizeof(text) - 1, &len);
	if (rc == 0)
		rc = vg_schema_parse(&v->schema, text, len, perr,
		    sizeof(perr));
	if (rc != 0) {
		vg__seterr(err, errcap, "vault schema is damaged");
		rc = VG_EFORMAT;
		goto fail;
	}

	rc = load_master(dir, master, &v->key_source, err, errcap);
	if (rc != 0)
		goto fail;
	vg_derive(check, master, "vigil:master-check");
	rc = v->store->ops->meta_get(v->store, "master_check", want,
	    sizeof(want), &len);
	if (rc != 0 || len != sizeof(want) ||
	    sodium_memcmp(check, want, sizeof(want)) != 0) {
		vg__seterr(err, errcap, "master key does not match this vault");
		rc = VG_EBADKEY;
		goto fail;
	}
	vg_derive(v->sec->kek, master, "vigil:kek");
	/* The honeytoken set is sealed under the master key's own subkey,
	 * not a wrapped key in vigil.db: which records are honey must not
	 * be recoverable from anything the database holds. */
	vg_derive(v->sec->honey_key, master, "vigil:honey-set");
	vg_secret_free(master);
	master = NULL;
	rc = load_keys(v);
	if (rc != 0) {
		vg__seterr(err, errcap, "vault keys failed to load: %s",
		    vg_strerror(rc));
		goto fail;
	}
	sodium_memzero(check, sizeof(check));
	*out = v;
	return 0;
fail:
	sodium_memzero(check, sizeof(check));
	vg_secret_free(master);
	vg_vault_close(v);
	return rc;
}

void
vg_vault_close(struct vg_vault *v)
{
	if (v == NULL)
		return;
	if (v->store != NULL) {
		if (v->in_txn || v->in_read)
			v->store->ops->rollback(v->store);
		v->store->ops->close(v->store);
	}
	vg_batch_free(v->one);
	if (v->sec != NULL)
		sodium_free(v->sec);	/* wipes */
	free(v->blob);
	free(v);
}

const struct vg_schema *
vg_vault_schema(const struct vg_vault *v)
{
	return &v->schema;
}

/*-----------------------------------------------------------------------------
 * Transactions
 */

int
vg_vault_read_begin(struct vg_vault *v)
{
	int rc;

	if (v->in_txn || v->in_read)
		return VG_EINVAL;
	if ((rc = v->store->ops->read_begin(v->store)) != 0)
		return rc;
	v->in_read = 1;
	return 0;
}

int
vg_vault_read_end(struct vg_vault *v)
{
	if (!v->in_read)
		return 0;
	v->in_read = 0;
	return v->store->ops->read_end(v->store);
}

int
vg_vault_begin(struct vg_vault *v)
{
	uint64_t gen;
	int rc;

	if (v->in_txn || v->in_read)
		return VG_EINVAL;
	v->cache_valid = false;
	rc = v->store->ops->begin(v->store);
	if (rc != 0)
		return rc;
	rc = meta_get_u64(v->store, "key_generation", &gen);
	if (rc == 0 && gen != v->generation)
		rc = load_keys(v);
	if (rc != 0) {
		v->store->ops->rollback(v->store);
		return rc;
	}
	v->in_txn = 1;
	return 0;
}

int
vg_vault_commit(struct vg_vault *v)
{
	int rc;

	if (!v->in_txn)
		return VG_EINVAL;
	rc = v->store->ops->commit(v->store);
	if (rc != 0)
		v->store->ops->rollback(v->store);
	v->in_txn = 0;
	return rc;
}

void
vg_vault_rollback(struct vg_vault *v)
{
	if (!v->in_txn)
		return;
	v->store->ops->rollback(v->store);
	v->in_txn = 0;
}

int
vg_vault_checkpoint(struct vg_vault *v)
{
	if (v->in_txn || v->in_read)
		return VG_EINVAL;
	return v->store->ops->checkpoint(v->store);
}

int
vg_vault_bulk(struct vg_vault *v, bool on)
{
	return v->store->ops->bulk(v->store, on ? 1 : 0);
}

/*-----------------------------------------------------------------------------
 * Adding customers
 */

static int
is_blank(const char *s, size_t len)
{
	size_t i;

	if (s == NULL)
		return 1;
	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/*
 * Record context.  Every field is sealed with associated data that, beyond
 * id, field name and epoch, holds the record's clear attributes and the
 * set of sealed fields present: [region, 8 bytes, NUL-padded][created,
 * 8 bytes big-endian][present-field bits, 4 bytes big-endian].  Editing
 * the clear region or creation time, or dropping or duplicating a field
 * entry, makes every field of the record fail to open.
 */
#define RECCTX_LEN (VG_REGION_MAX + 8 + 4)

static void
record_ctx(unsigned char out[RECCTX_LEN], const char *region, int64_t created,
    uint32_t present)
{
	uint64_t c = (uint64_t)created;
	size_t n = strlen(region), i;

	memset(out, 0, RECCTX_LEN);
	memcpy(out, region, n < VG_REGION_MAX ? n : VG_REGION_MAX - 1);
	for (i = 0; i < 8; i++)
		out[VG_REGION_MAX + i] = (unsigned char)(c >> (56 - 8 * i));
	for (i = 0; i < 4; i++)
		out[VG_REGION_MAX + 8 + i] =
		    (unsigned char)(present >> (24 - 8 * i));
}

/* Normalised values of one input.  They live in ordinary memory on the
 * import path (secret memory per row would dominate the cost) and are
 * wiped after use. */
struct canon {
	bool present[VG_FIELDS_MAX];
	size_t len[VG_FIELDS_MAX];
	char value[VG_FIELDS_MAX][VG_NORM_MAX + 1];
};

/* One prepared customer: its record and its blind-index entries.  blob
 * and digests are offsets into the batch arena. */
struct prep {
	struct vg_srec r;
	size_t blob_off;
	size_t nidx;
	size_t idx_off;		/* nidx entries of [field][digest] */
};

struct vg_batch {
	struct prep *p;
	size_t n, cap;
	unsigned char *arena;
	size_t used, size;
	struct canon canon;	/* scratch for vg_vault_prepare */
};

#define IDX_ENTRY (1 + VG_BIDXBYTES)

struct vg_batch *
vg_batch_new(size_t cap)
{
	struct vg_batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	if (cap == 0)
		cap = 1;
	b->cap = cap;
	b->p = calloc(cap, sizeof(*b->p));
	b->size = cap * 512 + VG_BLOB_MAX;
	b->arena = malloc(b->size);
	if (b->p == NULL || b->arena == NULL) {
		vg_batch_free(b);
		return NULL;
	}
	return b;
}

void
vg_batch_free(struct vg_batch *b)
{
	if (b == NULL)
		return;
	free(b->p);
	free(b->arena);
	sodium_memzero(&b->canon, sizeof(b->canon));
	free(b);
}

void
vg_batch_reset(struct vg_batch *b)
{
	b->n = 0;
	b->used = 0;
}

size_t
vg_batch_count(const struct vg_batch *b)
{
	return b->n;
}

bool
vg_batch_full(const struct vg_batch *b)
{
	return b->n == b->cap;
}

const unsigned char *
vg_batch_id(const struct vg_batch *b, size_t i)
{
	return b->p[i].r.id;
}

/* Makes room for n more arena bytes. */
static int
arena_reserve(struct vg_batch *b, size_t n)
{
	unsigned char *na;
	size_t ns;

	if (b->size - b->used >= n)
		return 0;
	ns = b->size * 2 + n;
	na = realloc(b->arena, ns);
	if (na == NULL)
		return VG_ENOMEM;
	b->arena = na;
	b->size = ns;
	return 0;
}

static int
normalise_input(const struct vg_schema *sc, const struct vg_input *in,
    struct canon *c, struct vg_reject *rej)
{
	bool indexed = false;
	size_t i;
	int rc;

	for (i = 0; i < sc->nfields; i++) {
		const struct vg_field *f = &sc->field[i];
		const char *why = "invalid value";

		c->present[i] = false;
		if (is_blank(in->value[i], in->len[i])) {
			if (f->required) {
				rej->field = (int)i;
				rej->why = "required field is empty";
				return VG_EINVAL;
			}
			continue;
		}
		rc = vg_normalize(f->type, in->value[i], in->len[i],
		    c->value[i], sizeof(c->value[i]), &c->len[i], &why);
		if (rc != 0) {
			rej->field = (int)i;
			rej->why = rc == VG_ETOOBIG ? "value too long" : why;
			return VG_EINVAL;
		}
		c->present[i] = true;
		indexed |= f->indexed;
	}
	if (!indexed) {
		rej->field = -1;
		rej->why = "no indexed field (phone, email, account_id) is "
		    "present, so the customer could never be found";
		return VG_EINVAL;
	}
	return 0;
}

/* Seals the present sealed fields of c for id into out; returns the
 * length through *len. */
static int
seal_fields(const struct vg_schema *sc, unsigned char *out,
    const struct vg_srec *r, const struct canon *c, const unsigned char *key,
    size_t *len)
{
	unsigned char rctx[RECCTX_LEN];
	uint32_t present = 0;
	size_t i, pos = 0;
	int rc;

	for (i = 0; i < sc->nfields; i++)
		if (c->present[i] && sc->field[i].sealed)
			present |= UINT32_C(1) << i;
	record_ctx(rctx, r->region, r->created, present);
	for (i = 0; i < sc->nfields; i++) {
		const struct vg_field *f = &sc->field[i];
		size_t n;

		if (!c->present[i] || !f->sealed)
			continue;
		n = c->len[i] + VG_SEAL_OVERHEAD;
		if (pos + 3 + n > VG_BLOB_MAX)
			return VG_ETOOBIG;
		out[pos] = (unsigned char)i;
		put_be16(out + pos + 1, (unsigned)n);
		rc = vg_seal_ctx(out + pos + 3,
		    (const unsigned char *)c->value[i], c->len[i], key, r->id,
		    f->name, r->epoch, rctx, RECCTX_LEN);
		if (rc != 0)
			return rc;
		pos += 3 + n;
	}
	*len = pos;
	return 0;
}

/* vg_vault_prepare() under the data key of epoch, with creation time
 * created (honeytokens take both from the customers around them). */
static int
prepare_one(struct vg_vault *v, const struct vg_input *in, struct vg_batch *b,
    struct vg_reject *rej, uint32_t epoch, int64_t created)
{
	const struct vg_schema *sc = &v->schema;
	const unsigned char *key = data_key(v, epoch);
	struct canon *c = &b->canon;
	struct vg_reject dummy;
	struct prep *p;
	size_t i, need = VG_BLOB_MAX + sc->nfields * IDX_ENTRY;
	int rc;

	if (rej == NULL)
		rej = &dummy;
	rej->field = -1;
	rej->why = NULL;
	if (b->n == b->cap)
		return VG_ETOOBIG;
	if (key == NULL)
		return VG_ECRYPTO;
	rc = normalise_input(sc, in, c, rej);
	if (rc != 0)
		goto out;
	rc = arena_reserve(b, need);
	if (rc != 0)
		goto out;
	p = &b->p[b->n];
	memset(&p->r, 0, sizeof(p->r));
	if (sc->region >= 0 && c->present[sc->region]) {
		size_t rl = c->len[sc->region];

		if (rl >= sizeof(p->r.region)) {
			rej->field = sc->region;
			rej->why = "region code too long";
			rc = VG_EINVAL;
			goto out;
		}
		memcpy(p->r.region, c->value[sc->region], rl + 1);
	}
	p->r.epoch = epoch;
	p->r.created = created;
	vg_random(p->r.id, VG_IDBYTES);
	p->blob_off = b->used;
	rc = seal_fields(sc, b->arena + b->used, &p->r, c, key, &p->r.bloblen);
	if (rc != 0)
		goto out;
	b->used += p->r.bloblen;
	p->idx_off = b->used;
	p->nidx = 0;
	for (i = 0; i < sc->nfields; i++) {
		unsigned char *e;

		if (!c->present[i] || !sc->field[i].indexed)
			continue;
		e = b->arena + b->used;
		e[0] = (unsigned char)i;
		vg_blind_index(e + 1, v->sec->field_key[i], c->value[i],
		    c->len[i]);
		b->used += IDX_ENTRY;
		p->nidx++;
	}
	b->n++;
out:
	for (i = 0; i < sc->nfields; i++)
		if (c->present[i])
			sodium_memzero(c->value[i], c->len[i]);
	return rc;
}

int
vg_vault_prepare(struct vg_vault *v, const struct vg_input *in,
    struct vg_batch *b, struct vg_reject *rej)
{
	return prepare_one(v, in, b, rej, v->current_epoch,
	    (int64_t)time(NULL));
}

int
vg__vault_prepare_as(struct vg_vault *v, const struct vg_input *in,
    uint32_t epoch, int64_t created, struct vg_batch *b,
    struct vg_reject *rej)
{
	/* Only under a key this process holds: a retired epoch has no key
	 * left, and sealing under it would make a record nobody can open. */
	if (!v->in_txn || data_key(v, epoch) == NULL)
		return v->in_txn ? VG_ECRYPTO : VG_EINVAL;
	return prepare_one(v, in, b, rej, epoch, created);
}

int
vg__vault_put_at(struct vg_vault *v, struct vg_batch *b, size_t i,
    int64_t seq)
{
	struct vg_store *s = v->store;
	struct prep *p;
	size_t j;
	int rc;

	if (!v->in_txn || i >= b->n)
		return VG_EINVAL;
	v->cache_valid = false;
	p = &b->p[i];
	p->r.blob = b->arena + p->blob_off;
	rc = s->ops->customer_put_at(s, &p->r, seq);
	for (j = 0; rc == 0 && j < p->nidx; j++) {
		const unsigned char *e = b->arena + p->idx_off + j * IDX_ENTRY;

		rc = s->ops->index_put(s, e[0], e + 1, p->r.id);
	}
	return rc;
}

int
vg_vault_put_batch(struct vg_vault *v, struct vg_batch *b)
{
	struct vg_store *s = v->store;
	size_t i, j;
	int rc = 0;

	if (!v->in_txn)
		return VG_EINVAL;
	for (i = 0; rc == 0 && i < b->n; i++) {
		struct prep *p = &b->p[i];

		if (p->r.epoch != v->current_epoch)
			return VG_EBUSY;	/* keys moved since prepare */
		p->r.blob = b->arena + p->blob_off;
		rc = s->ops->customer_put(s, &p->r);
		for (j = 0; rc == 0 && j < p->nidx; j++) {
			const unsigned char *e = b->arena + p->idx_off +
			    j * IDX_ENTRY;

			rc = s->ops->index_put(s, e[0], e + 1, p->r.id);
		}
	}
	return rc;
}

int
vg_vault_add(struct vg_vault *v, const struct vg_input *in,
    unsigned char id[VG_IDBYTES], struct vg_reject *rej)
{
	struct vg_batch *b;
	int rc, own_txn = !v->in_txn;

	/* One single-customer batch per vault, made on first use: an add
	 * on a request path allocates nothing. */
	if (v->one == NULL && (v->one = vg_batch_new(1)) == NULL)
		return VG_ENOMEM;
	b = v->one;
	vg_batch_reset(b);
	if (own_txn && (rc = vg_vault_begin(v)) != 0)
		return rc;
	rc = vg_vault_prepare(v, in, b, rej);
	if (rc == 0)
		rc = vg_vault_put_batch(v, b);
	if (rc == 0)
		memcpy(id, b->p[0].r.id, VG_IDBYTES);
	if (own_txn) {
		if (rc == 0)
			rc = vg_vault_commit(v);
		else
			vg_vault_rollback(v);
	}
	vg_batch_reset(b);
	return rc;
}

/*-----------------------------------------------------------------------------
 * Reading customers
 */

/* Validates the framing of a record blob and collects the set of fields
 * present.  Returns 0 or VG_EFORMAT. */
static int
blob_presence(const struct vg_schema *sc, const unsigned char *blob,
    size_t len, uint32_t *present)
{
	size_t pos = 0;

	*present = 0;
	while (pos < len) {
		unsigned field, n;

		if (len - pos < 3)
			return VG_EFORMAT;
		field = blob[pos];
		n = get_be16(blob + pos + 1);
		if (field >= sc->nfields || !sc->field[field].sealed ||
		    n < VG_SEAL_OVERHEAD || n - VG_SEAL_OVERHEAD > VG_NORM_MAX ||
		    len - pos - 3 < n || (*present & (UINT32_C(1) << field)))
			return VG_EFORMAT;
		*present |= UINT32_C(1) << field;
		pos += 3 + (size_t)n;
	}
	return *present != 0 ? 0 : VG_EFORMAT;
}

/*
 * Walks the entries of a record.  Calls fn for each entry whose field is
 * in mask, with the record context; stops at the first non-zero return.
 * Returns VG_EFORMAT for a malformed blob.
 */
typedef int (*entry_fn)(void *ctx, unsigned field, const unsigned char *ct,
    size_t ctlen, const unsigned char *rctx);

static int
walk_blob(const struct vg_schema *sc, const struct vg_srec *r, uint32_t mask,
    entry_fn fn, void *ctx)
{
	unsigned char rctx[RECCTX_LEN];
	uint32_t present;
	size_t pos = 0;
	int rc;

	rc = blob_presence(sc, r->blob, r->bloblen, &present);
	if (rc != 0)
		return rc;
	record_ctx(rctx, r->region, r->created, present);
	while (pos < r->bloblen) {
		unsigned field = r->blob[pos];
		unsigned n = get_be16(r->blob + pos + 1);

		if (mask & (UINT32_C(1) << field)) {
			rc = fn(ctx, field, r->blob + pos + 3, n, rctx);
			if (rc != 0)
				return rc;
		}
		pos += 3 + (size_t)n;
	}
	return 0;
}

struct open_ctx {
	struct vg_vault *v;
	const struct vg_srec *r;
	const unsigned char *key;
	struct vg_record *out;
	char *tmp;		/* VG_NORM_MAX + 1 scratch for masking */
};

static int
open_entry(void *ctx, unsigned field, const unsigned char *ct, size_t ctlen,
    const unsigned char *rctx)
{
	struct open_ctx *oc = ctx;
	const struct vg_field *f = &oc->v->schema.field[field];
	struct vg_record *out = oc->out;
	size_t n = ctlen - VG_SEAL_OVERHEAD;
	int rc;

	if (out->view == VG_VIEW_CLEAR) {
		rc = vg_open_ctx((unsigned char *)out->value[field], ct, ctlen,
		    oc->key, oc->r->id, f->name, oc->r->epoch, rctx,
		    RECCTX_LEN);
		if (rc != 0)
			return rc;
		out->value[field][n] = '\0';
		out->len[field] = n;
	} else {
		rc = vg_open_ctx((unsigned char *)oc->tmp, ct, ctlen, oc->key,
		    oc->r->id, f->name, oc->r->epoch, rctx, RECCTX_LEN);
		if (rc != 0)
			return rc;
		rc = vg_mask(f->type, oc->tmp, n, out->value[field],
		    sizeof(out->value[field]));
		sodium_memzero(oc->tmp, n);
		if (rc != 0)
			return rc;
		out->len[field] = strlen(out->value[field]);
	}
	out->present[field] = true;
	return 0;
}

struct vg_record *
vg_record_new(void)
{
	return calloc(1, sizeof(struct vg_record));
}

void
vg_record_free(struct vg_record *r)
{
	if (r == NULL)
		return;
	vg_record_clear(r);
	free(r);
}

/* Wipes the value slots a record has used (only those: a record is
 * 33 KiB, and wiping all of it twice per lookup was a measured 5 µs of a
 * 17 µs lookup) and resets it to empty. */
void
vg_record_clear(struct vg_record *r)
{
	size_t i;

	for (i = 0; i < VG_FIELDS_MAX; i++) {
		if (r->present[i] || r->len[i] != 0) {
			size_t n = r->len[i] < VG_NORM_MAX ? r->len[i] + 1 :
			    sizeof(r->value[i]);

			sodium_memzero(r->value[i], n);
		}
		r->present[i] = false;
		r->len[i] = 0;
	}
	sodium_memzero(r->id, sizeof(r->id));
	memset(r->region, 0, sizeof(r->region));
	r->epoch = 0;
	r->created = 0;
	r->view = VG_VIEW_MASKED;
}

int
vg_vault_get(struct vg_vault *v, const unsigned char id[VG_IDBYTES],
    uint32_t fields, enum vg_view view, struct vg_record *out)
{
	char tmp[VG_NORM_MAX + 1];
	struct open_ctx oc;
	struct vg_srec r;
	int rc;

	/* Whatever an earlier call left is wiped first. */
	vg_record_clear(out);
	if (fields == 0)
		fields = UINT32_MAX;
	if (v->cache_valid && memcmp(v->cached.id, id, VG_IDBYTES) == 0) {
		r = v->cached;
		rc = 0;
	} else {
		rc = v->store->ops->customer_get(v->store, id, &r, v->blob,
		    VG_BLOB_MAX);
		memcpy(r.id, id, VG_IDBYTES);
	}
	v->cache_valid = false;
	if (rc != 0)
		return rc;
	memcpy(out->id, id, VG_IDBYTES);
	out->epoch = r.epoch;
	out->created = r.created;
	memcpy(out->region, r.region, sizeof(out->region));
	out->view = view;
	rc = data_key_fresh(v, r.epoch, &oc.key);
	if (rc != 0)
		return rc;
	oc.v = v;
	oc.r = &r;
	oc.out = out;
	oc.tmp = tmp;
	rc = walk_blob(&v->schema, &r, fields, open_entry, &oc);
	if (rc != 0) {
		vg_record_clear(out);
		return rc;
	}
	if (v->schema.region >= 0 && r.region[0] != '\0' &&
	    (fields & (UINT32_C(1) << v->schema.region))) {
		int ri = v->schema.region;

		snprintf(out->value[ri], sizeof(out->value[ri]), "%s",
		    r.region);
		out->len[ri] = strlen(out->value[ri]);
		out->present[ri] = true;
	}
	return 0;
}

struct match_ctx {
	struct vg_vault *v;
	const struct vg_srec *r;
	const unsigned char *key;
	const char *canon;
	size_t len;
	int matched;
};

static int
match_entry(void *ctx, unsigned field, const unsigned char *ct, size_t ctlen,
    const unsigned char *rctx)
{
	struct match_ctx *mc = ctx;
	unsigned char pt[VG_NORM_MAX];
	size_t n = ctlen - VG_SEAL_OVERHEAD;
	int rc;

	rc = vg_open_ctx(pt, ct, ctlen, mc->key, mc->r->id,
	    mc->v->schema.field[field].name, mc->r->epoch, rctx, RECCTX_LEN);
	if (rc != 0)
		return rc;
	mc->matched = n == mc->len && sodium_memcmp(pt, mc->canon, n) == 0;
	sodium_memzero(pt, n);
	return 0;
}

int
vg_vault_lookup(struct vg_vault *v, int field, const char *value, size_t len,
    unsigned char (*ids)[VG_IDBYTES], size_t max, size_t *n,
    const char **why)
{
	/* More candidates than answers: bogus index rows (a tampered
	 * database) must not crowd the real customer out. */
	unsigned char cand[VG_LOOKUP_SCAN][VG_IDBYTES];
	unsigned char d[VG_BIDXBYTES];
	char canon[VG_NORM_MAX + 1];
	size_t clen, ncand, i;
	const char *dummy;
	int rc;

	*n = 0;
	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (field < 0 || (size_t)field >= v->schema.nfields ||
	    !v->schema.field[field].indexed) {
		*why = "field has no blind index";
		return VG_EINVAL;
	}
	if (max > VG_LOOKUP_MAX)
		max = VG_LOOKUP_MAX;
	rc = vg_normalize(v->schema.field[field].type, value, len, canon,
	    sizeof(canon), &clen, why);
	if (rc != 0) {
		if (rc == VG_ETOOBIG)
			*why = "value too long";
		return VG_EINVAL;
	}
	vg_blind_index(d, v->sec->field_key[field], canon, clen);
	v->cache_valid = false;
	/* One read snapshot for the probe and the confirmations. */
	if (!v->in_txn && !v->in_read &&
	    (rc = v->store->ops->read_begin(v->store)) != 0) {
		sodium_memzero(canon, sizeof(canon));
		return rc;
	}
	rc = v->store->ops->index_find(v->store, (unsigned)field, d, cand,
	    VG_LOOKUP_SCAN, &ncand);
	for (i = 0; rc == 0 && i < ncand && *n < max; i++) {
		struct match_ctx mc = { v, NULL, NULL, canon, clen, 0 };
		struct vg_srec r;

		/* Confirm the hit by opening the field: a digest collision
		 * or a tampered index must not return the wrong person. */
		v->cache_valid = false;
		rc = v->store->ops->customer_get(v->store, cand[i], &r, v->blob,
		    VG_BLOB_MAX);
		if (rc == VG_ENOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc == 0)
			rc = data_key_fresh(v, r.epoch, &mc.key);
		mc.r = &r;
		if (rc == 0)
			rc = walk_blob(&v->schema, &r, UINT32_C(1) << field,
			    match_entry, &mc);
		if (rc == 0 && mc.matched) {
			memcpy(ids[(*n)++], cand[i], VG_IDBYTES);
			v->cached = r;		/* r.blob is v->blob */
			v->cache_valid = true;
		}
	}
	if (!v->in_txn && !v->in_read) {
		int rc2 = v->store->ops->read_end(v->store);

		if (rc == 0)
			rc = rc2;
	}
	if (rc != 0)
		v->cache_valid = false;
	sodium_memzero(canon, sizeof(canon));
	if (rc != 0)
		return rc;
	return *n > 0 ? 0 : VG_ENOTFOUND;
}

/*-----------------------------------------------------------------------------
 * Key rotation and rewrapping
 */

static int
bump_generation(struct vg_vault *v)
{
	return meta_set_u64(v->store, "key_generation", v->generation + 1);
}

int
vg_vault_rotate(struct vg_vault *v, uint32_t *epoch)
{
	uint32_t next;
	unsigned char wrapped[VG_WRAPPEDBYTES];
	int rc;

	rc = vg_vault_begin(v);
	if (rc != 0)
		return rc;
	if (v->sec->ndata >= VG_EPOCHS_MAX) {
		rc = VG_ETOOBIG;
		goto fail;
	}
	if (data_key(v, v->current_epoch) == NULL) {
		rc = VG_ECRYPTO;	/* the current key is missing */
		goto fail;
	}
	next = v->current_epoch + 1;
	rc = new_wrapped_key(v->store, v->sec->kek, "data", next, "active");
	if (rc != 0)
		goto fail;
	/* Re-put the old key as decrypt-only. */
	vg_wrap(wrapped, data_key(v, v->current_epoch), v->sec->kek, "data",
	    v->current_epoch);
	if ((rc = v->store->ops->key_put(v->store, "data", v->current_epoch,
	    "decrypt", wrapped)) != 0 ||
	    (rc = meta_set_u64(v->store, "current_epoch", next)) != 0 ||
	    (rc = bump_generation(v)) != 0)
		goto fail;
	rc = vg_vault_commit(v);
	if (rc != 0)
		return rc;
	*epoch = next;
	return load_keys(v);
fail:
	vg_vault_rollback(v);
	return rc;
}

struct pending {
	struct vg_srec r;
	unsigned char *blob;
};

struct batch {
	struct pending *p;
	size_t n, cap;
};

static int
collect(void *ctx, const struct vg_srec *r)
{
	struct batch *b = ctx;
	struct pending *p;

	if (b->n == b->cap)
		return VG_EINVAL;
	p = &b->p[b->n];
	p->r = *r;
	p->blob = malloc(r->bloblen > 0 ? r->bloblen : 1);
	if (p->blob == NULL)
		return VG_ENOMEM;
	memcpy(p->blob, r->blob, r->bloblen);
	p->r.blob = p->blob;
	b->n++;
	return 0;
}

struct reseal_ctx {
	struct vg_vault *v;
	const struct vg_srec *r;
	const unsigned char *oldkey, *newkey;
	unsigned char *out;
	size_t pos;
};

static int
reseal_entry(void *ctx, unsigned field, const unsigned char *ct, size_t ctlen,
    const unsigned char *rctx)
{
	struct reseal_ctx *rc = ctx;
	const char *name = rc->v->schema.field[field].name;
	unsigned char pt[VG_NORM_MAX];
	size_t n = ctlen - VG_SEAL_OVERHEAD;
	int err;

	err = vg_open_ctx(pt, ct, ctlen, rc->oldkey, rc->r->id, name,
	    rc->r->epoch, rctx, RECCTX_LEN);
	if (err != 0)
		return err;
	rc->out[rc->pos] = (unsigned char)field;
	put_be16(rc->out + rc->pos + 1, (unsigned)ctlen);
	err = vg_seal_ctx(rc->out + rc->pos + 3, pt, n, rc->newkey, rc->r->id,
	    name, rc->v->current_epoch, rctx, RECCTX_LEN);
	sodium_memzero(pt, n);
	rc->pos += 3 + ctlen;
	return err;
}

static int
reseal_batch(struct vg_vault *v, struct batch *b, uint64_t *done)
{
	const unsigned char *newkey = data_key(v, v->current_epoch);
	size_t i;
	int rc = 0;

	if (newkey == NULL)
		return VG_ECRYPTO;
	for (i = 0; rc == 0 && i < b->n; i++) {
		struct pending *p = &b->p[i];
		struct reseal_ctx ctx = { v, &p->r, NULL, newkey, v->blob, 0 };
		struct vg_srec nr;

		if (p->r.epoch == v->current_epoch)
			continue;	/* rewritten meanwhile */
		ctx.oldkey = data_key(v, p->r.epoch);
		if (ctx.oldkey == NULL)
			return VG_ECRYPTO;
		rc = walk_blob(&v->schema, &p->r, UINT32_MAX, reseal_entry,
		    &ctx);
		if (rc != 0)
			break;
		nr = p->r;
		nr.epoch = v->current_epoch;
		nr.blob = v->blob;
		nr.bloblen = ctx.pos;
		rc = v->store->ops->customer_update(v->store, &nr);
		if (rc == 0)
			(*done)++;
	}
	return rc;
}

static void
batch_release(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		free(b->p[i].blob);
	b->n = 0;
}

/* Retires every data epoch except the current one, if no customer still
 * needs them.  Returns 0 and sets *retired, or VG_EBUSY if stale rows
 * appeared meanwhile. */
static int
retire_old(struct vg_vault *v, uint32_t *retired)
{
	uint64_t stale;
	size_t i;
	int rc;

	*retired = 0;
	rc = vg_vault_begin(v);
	if (rc != 0)
		return rc;
	rc = v->store->ops->count_stale(v->store, v->current_epoch, &stale);
	if (rc == 0 && stale != 0)
		rc = VG_EBUSY;
	for (i = 0; rc == 0 && i < v->sec->ndata; i++) {
		if (v->sec->data[i].epoch == v->current_epoch)
			continue;
		rc = v->store->ops->key_put(v->store, "data",
		    v->sec->data[i].epoch, "retired", NULL);
		(*retired)++;
	}
	if (rc == 0 && *retired > 0)
		rc = bump_generation(v);
	if (rc != 0) {
		vg_vault_rollback(v);
		*retired = 0;
		return rc;
	}
	rc = vg_vault_commit(v);
	if (rc == 0)
		rc = load_keys(v);
	return rc;
}

int
vg_vault_rewrap(struct vg_vault *v, size_t batch,
    void (*progress)(void *ctx, const struct vg_rewrap_stats *st), void *ctx,
    struct vg_rewrap_stats *out)
{
	struct vg_rewrap_stats st = { 0, 0, 0 };
	struct batch b = { NULL, 0, 0 };
	unsigned char last[VG_IDBYTES];
	int rc = 0, started = 0, pass;

	if (batch == 0)
		batch = 1000;
	b.cap = batch;
	b.p = calloc(batch, sizeof(*b.p));
	if (b.p == NULL)
		return VG_ENOMEM;
	for (pass = 0; pass < 3; pass++) {
		for (;;) {
			size_t visited;

			rc = vg_vault_begin(v);
			if (rc != 0)
				goto out;
			rc = v->store->ops->customer_scan(v->store,
			    started ? last : NULL, v->current_epoch, batch,
			    collect, &b, last, &visited);
			if (rc == 0)
				rc = reseal_batch(v, &b, &st.rewrapped);
			batch_release(&b);
			if (rc != 0) {
				vg_vault_rollback(v);
				goto out;
			}
			rc = vg_vault_commit(v);
			if (rc != 0)
				goto out;
			started = 1;
			st.scanned += visited;
			if (progress != NULL)
				progress(ctx, &st);
			if (visited < batch)
				break;
		}
		rc = retire_old(v, &st.retired);
		if (rc != VG_EBUSY)
			break;
		started = 0;	/* a stale writer slipped in: sweep again */
	}
out:
	batch_release(&b);
	free(b.p);
	if (out != NULL)
		*out = st;
	return rc;
}

/*-----------------------------------------------------------------------------
 * Audit support
 */

int
vg_vault_id(struct vg_vault *v, char out[33])
{
	size_t len;
	int rc;

	rc = v->store->ops->meta_get(v->store, "vault_id", out, 32, &len);
	if (rc == 0 && len != 32)
		rc = VG_EFORMAT;
	out[rc == 0 ? 32 : 0] = '\0';
	return rc;
}

int
vg_vault_audit_seed(struct vg_vault *v, const char *chain,
    unsigned char seed[VG_KEYBYTES])
{
	char label[16 + VG_FIELDNAME_MAX + 1];

	if ((size_t)snprintf(label, sizeof(label), "sign:%s", chain) >=
	    sizeof(label))
		return VG_EINVAL;
	vg_derive(seed, v->sec->audit_root, label);
	return 0;
}

int
vg_vault_probe(struct vg_vault *v, int field, const char *value, size_t len,
    unsigned char out[VG_PROBEBYTES_VAULT], const char **why)
{
	unsigned char key[VG_KEYBYTES];
	char canon[VG_NORM_MAX + 1], label[8 + VG_FIELDNAME_MAX + 1];
	const char *dummy;
	size_t clen;
	int rc;

	if (why == NULL)
		why = &dummy;
	if (field < 0 || (size_t)field >= v->schema.nfields)
		return VG_EINVAL;
	rc = vg_normalize(v->schema.field[field].type, value, len, canon,
	    sizeof(canon), &clen, why);
	if (rc != 0)
		return VG_EINVAL;
	snprintf(label, sizeof(label), "probe:%s", v->schema.field[field].name);
	vg_derive(key, v->sec->audit_root, label);
	crypto_generichash(out, VG_PROBEBYTES_VAULT, (const unsigned char *)canon,
	    clen, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(canon, sizeof(canon));
	return 0;
}

int
vg_vault_derive_secret(struct vg_vault *v, const char *purpose,
    unsigned char out[VG_KEYBYTES])
{
	char label[8 + 32 + 1];
	size_t n = strlen(purpose);

	if (n == 0 || n > 32 || strspn(purpose,
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
		return VG_EINVAL;
	snprintf(label, sizeof(label), "secret:%s", purpose);
	vg_derive(out, v->sec->audit_root, label);
	return 0;
}

uint32_t
vg__vault_presence(const struct vg_vault *v, const struct vg_srec *r)
{
	uint32_t present;

	if (blob_presence(&v->schema, r->blob, r->bloblen, &present) != 0)
		return 0;
	if (v->schema.region >= 0 && r->region[0] != '\0')
		present |= UINT32_C(1) << v->schema.region;
	return present;
}

bool
vg__vault_in_txn(const struct vg_vault *v)
{
	return v->in_txn != 0;
}

void
vg__vault_honey_key(const struct vg_vault *v, unsigned char out[VG_KEYBYTES])
{
	memcpy(out, v->sec->honey_key, VG_KEYBYTES);
}

struct vg_store *
vg__vault_store(struct vg_vault *v)
{
	v->cache_valid = false;
	return v->store;
}

/*-----------------------------------------------------------------------------
 * Statistics and pseudonyms
 */

struct stats_ctx {
	struct vg_vault_stats *st;
};

/* Keeps the newest VG_EPOCHS_MAX data epochs (rows come in epoch
 * order), so the current one is always listed. */
static int
stats_key(void *ctx, const struct vg_key_row *k)
{
	struct vg_vault_stats *st = ((struct stats_ctx *)ctx)->st;
	struct vg_epoch_info *e;

	if (strcmp(k->kind, "data") != 0)
		return 0;
	if (st->nepochs == VG_EPOCHS_MAX) {
		memmove(&st->epoch[0], &st->epoch[1],
		    (VG_EPOCHS_MAX - 1) * sizeof(st->epoch[0]));
		st->nepochs--;
	}
	e = &st->epoch[st->nepochs++];
	e->epoch = k->epoch;
	e->customers = 0;
	snprintf(e->state, sizeof(e->state), "%s", k->state);
	return 0;
}

int
vg_vault_region_counts(struct vg_vault *v,
    int (*cb)(void *ctx, const char *region, uint64_t n), void *ctx)
{
	v->cache_valid = false;
	return v->store->ops->region_counts(v->store, cb, ctx);
}

int
vg_vault_stats(struct vg_vault *v, struct vg_vault_stats *st)
{
	struct vg_store_counts c;
	struct stats_ctx sc = { st };
	size_t i, j;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = v->store->ops->counts(v->store, &c);
	if (rc == 0)
		rc = v->store->ops->key_each(v->store, stats_key, &sc);
	if (rc != 0)
		return rc;
	st->customers = c.customers;
	st->index_entries = c.index_entries;
	st->db_bytes = c.db_bytes;
	st->wal_bytes = c.wal_bytes;
	st->current_epoch = v->current_epoch;
	st->key_source = v->key_source;
	for (i = 0; i < st->nepochs; i++)
		for (j = 0; j < c.nepochs; j++)
			if (c.epoch[j] == st->epoch[i].epoch)
				st->epoch[i].customers = c.per_epoch[j];
	return 0;
}

bool
vg_consumer_name_ok(const char *consumer)
{
	size_t i, n = strlen(consumer);

	if (n == 0 || n > 64 ||
	    !((consumer[0] >= 'a' && consumer[0] <= 'z') ||
	    (consumer[0] >= '0' && consumer[0] <= '9')))
		return false;
	for (i = 0; i < n; i++) {
		char c = consumer[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static int
consumer_key(struct vg_vault *v, const char *consumer,
    unsigned char key[VG_KEYBYTES])
{
	char label[16 + 64 + 1];

	if (!vg_consumer_name_ok(consumer))
		return VG_EINVAL;
	snprintf(label, sizeof(label), "consumer:%s", consumer);
	vg_derive(key, v->sec->psn_root, label);
	return 0;
}

int
vg_vault_pseudonym(struct vg_vault *v, const char *consumer,
    const unsigned char id[VG_IDBYTES], unsigned char psn[VG_PSNBYTES])
{
	unsigned char key[VG_KEYBYTES];
	struct vg_srec r;
	int rc;

	rc = consumer_key(v, consumer, key);
	if (rc != 0)
		return rc;
	v->cache_valid = false;
	rc = v->store->ops->customer_get(v->store, id, &r, v->blob,
	    VG_BLOB_MAX);
	if (rc == 0)
		vg_pseudonym(psn, key, id);
	sodium_memzero(key, sizeof(key));
	return rc;
}

int
vg__vault_consumer_key(struct vg_vault *v, const char *consumer,
    unsigned char key[VG_KEYBYTES])
{
	return consumer_key(v, consumer, key);
}

void
vg__vault_bidx(const struct vg_vault *v, int field, const char *canon,
    size_t len, unsigned char out[VG_BIDXBYTES])
{
	vg_blind_index(out, v->sec->field_key[field], canon, len);
}

int
vg_vault_resolve(struct vg_vault *v, const char *consumer,
    const unsigned char psn[VG_PSNBYTES], unsigned char id[VG_IDBYTES])
{
	unsigned char key[VG_KEYBYTES];
	int rc;

	rc = consumer_key(v, consumer, key);
	if (rc != 0)
		return rc;
	rc = vg_pseudonym_resolve(id, key, psn);
	sodium_memzero(key, sizeof(key));
	return rc;
}
