/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vault: customers stored field by field under per-epoch data keys,
 * found by exact lookup through blind indexes, shown masked unless a
 * clear view is asked for.  This is the library's front door for the
 * vigil CLI and the vigild daemon; storage, keys and formats stay behind
 * it (lib/vault.c, lib/store.h, docs/internals/vault.md).
 *
 * A vault directory holds vigil.db (SQLite, WAL) and, unless the master
 * key comes from VIGIL_MASTER_KEY, master.key (mode 0600).  Keys the
 * library derives or unwraps live only in sodium_malloc'd memory and are
 * wiped on close; a master key given through the environment stays in
 * the process environment, which the library does not own.
 *
 * One struct vg_vault is used by one thread at a time.
 */
#ifndef VIGIL_VAULT_H
#define VIGIL_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/crypto.h"
#include "vigil/error.h"
#include "vigil/normalize.h"
#include "vigil/schema.h"

#define VG_MASTER_ENV "VIGIL_MASTER_KEY"
#define VG_LOOKUP_MAX 16	/* customers returned by one lookup */
#define VG_LOOKUP_SCAN 256	/* index candidates confirmed per lookup */
#define VG_EPOCHS_MAX 64	/* data key epochs not yet retired */
#define VG_ERRMSG_MAX 256

struct vg_vault;

/*
 * Creates a vault in dir (created with mode 0700 if absent; must be empty
 * if present) with schema s (NULL: the default schema).  The master key
 * is taken from VIGIL_MASTER_KEY (base64 of 32 bytes; no key file is
 * written) or generated and written to dir/master.key, mode 0600.
 * Returns 0, VG_EEXIST (dir not empty), VG_EINVAL (bad key in the
 * environment), VG_EIO; err (may be NULL) gets a one-line reason.
 */
VG_MUST_CHECK int vg_vault_create(const char *dir, const struct vg_schema *s,
    char *err, size_t errcap);

/*
 * Opens the vault in dir.  Returns 0, VG_ENOVAULT (no vault there),
 * VG_EBADKEY (no usable master key, or "master key does not match this
 * vault"), VG_EINVAL (malformed VIGIL_MASTER_KEY), VG_EFORMAT (damaged
 * schema), VG_ECRYPTO (a wrapped key failed to open), VG_ENOMEM, VG_EIO
 * or VG_ESTORE; err gets a one-line reason that never contains key
 * material.
 */
VG_MUST_CHECK int vg_vault_open(const char *dir, struct vg_vault **out,
    char *err, size_t errcap);

/* Closes v and wipes its keys.  NULL is a no-op. */
void vg_vault_close(struct vg_vault *v);

/* The vault's schema (borrowed, valid until close). */
const struct vg_schema *vg_vault_schema(const struct vg_vault *v);

/* Explicit write transactions, for batches such as an import.  Outside
 * one, every write is its own transaction. */
VG_MUST_CHECK int vg_vault_begin(struct vg_vault *v);
VG_MUST_CHECK int vg_vault_commit(struct vg_vault *v);
void vg_vault_rollback(struct vg_vault *v);

/* A read snapshot across several reads (a request's case, approval and
 * customer): one storage transaction instead of one per read, so every
 * read sees the same state and the per-transaction locking is paid
 * once.  No write may be made inside (vg_vault_begin returns VG_EINVAL);
 * end it first.  vg_vault_read_end is a no-op outside a snapshot. */
VG_MUST_CHECK int vg_vault_read_begin(struct vg_vault *v);
int vg_vault_read_end(struct vg_vault *v);
/* Moves the write-ahead log (vigil.db-wal) into the database and
 * truncates it to nothing, so that no page image from before the last
 * writes stays in that file (after a honeytoken plant, say).  Outside a
 * transaction only (VG_EINVAL).  Returns 0, VG_EBUSY when another
 * connection's reader kept part of the log (SQLite checkpoints it later),
 * or a storage error. */
int vg_vault_checkpoint(struct vg_vault *v);
/* Bulk mode for large imports: storage keeps far more in memory (up to
 * about 2 GiB) until commit.  Returns 0 or a storage error. */
int vg_vault_bulk(struct vg_vault *v, bool on);

/* A customer to add: raw values by schema field index; value NULL, empty
 * or all white space means absent.  Values are borrowed. */
struct vg_input {
	const char *value[VG_FIELDS_MAX];
	size_t len[VG_FIELDS_MAX];
};

/* Why an input was refused: the field (schema index, or -1 for the whole
 * record) and a static reason that never quotes the value. */
struct vg_reject {
	int field;
	const char *why;
};

/*
 * Normalises, seals and stores a new customer; id receives its new random
 * id.  Returns 0, VG_EINVAL with *rej filled when the input is bad (the
 * vault is unchanged), or a storage error.
 */
VG_MUST_CHECK int vg_vault_add(struct vg_vault *v, const struct vg_input *in,
    unsigned char id[VG_IDBYTES], struct vg_reject *rej);

/*
 * Batched adds, for imports: vg_vault_prepare() normalises, seals and
 * indexes one input into a batch (CPU work that may run on another
 * thread than the one writing), vg_vault_put_batch() stores a whole batch
 * inside the caller's transaction.  Prepare and put must happen in the
 * same write transaction, so that the key epoch cannot move in between
 * (put returns VG_EBUSY if it did).  A batch is used by one thread at a
 * time; vg_vault_prepare only reads the vault's keys and schema.
 */
struct vg_batch;
struct vg_batch *vg_batch_new(size_t cap);
void vg_batch_free(struct vg_batch *b);
void vg_batch_reset(struct vg_batch *b);
size_t vg_batch_count(const struct vg_batch *b);
bool vg_batch_full(const struct vg_batch *b);
/* Id of the i-th customer of b (borrowed). */
const unsigned char *vg_batch_id(const struct vg_batch *b, size_t i);
/* Returns 0, VG_EINVAL with *rej (input refused, batch unchanged),
 * VG_ETOOBIG (batch full) or another error. */
VG_MUST_CHECK int vg_vault_prepare(struct vg_vault *v,
    const struct vg_input *in, struct vg_batch *b, struct vg_reject *rej);
VG_MUST_CHECK int vg_vault_put_batch(struct vg_vault *v, struct vg_batch *b);

/*
 * Exact lookup of value in the indexed field `field`.  Fills up to max
 * ids (max <= VG_LOOKUP_MAX) and *n.  Returns 0 (a hit), VG_ENOTFOUND (a
 * well-formed value nobody has), VG_EINVAL with *why (malformed value or
 * field not indexed), or another error.
 */
VG_MUST_CHECK int vg_vault_lookup(struct vg_vault *v, int field,
    const char *value, size_t len, unsigned char (*ids)[VG_IDBYTES],
    size_t max, size_t *n, const char **why);

enum vg_view {
	VG_VIEW_MASKED = 0,	/* default: partial values */
	VG_VIEW_CLEAR = 1,	/* clear values: only for justified reveals */
};

/* One customer as shown.  About 33 KiB: get one from vg_record_new()
 * (or zero it yourself) and free it with vg_record_free(), which wipes
 * it.  Invariant: value[i] holds len[i] bytes and a NUL when present[i];
 * every slot beyond that is zero. */
struct vg_record {
	unsigned char id[VG_IDBYTES];
	uint32_t epoch;
	int64_t created;
	char region[8];		/* the coarse region, kept in clear: for
				 * policy and the detector, whatever fields
				 * were asked for ("" when none) */
	enum vg_view view;
	bool present[VG_FIELDS_MAX];
	size_t len[VG_FIELDS_MAX];
	char value[VG_FIELDS_MAX][VG_NORM_MAX + 1];
};

/*
 * Loads customer id with the fields in the bit mask `fields` (bit i is
 * schema field i; 0 means all), decrypting only those, shown as view.
 * out must come from vg_record_new() or have been zeroed.
 * Returns 0, VG_ENOTFOUND, VG_ECRYPTO (a field failed to open: the record
 * was tampered with or moved), or another error.
 */
VG_MUST_CHECK int vg_vault_get(struct vg_vault *v,
    const unsigned char id[VG_IDBYTES], uint32_t fields, enum vg_view view,
    struct vg_record *out);

/* A zeroed record, or NULL when out of memory. */
struct vg_record *vg_record_new(void);
/* Wipes and frees r.  NULL is a no-op. */
void vg_record_free(struct vg_record *r);
/* Wipes the values r holds and resets it.  vg_vault_get() does this to
 * its output first, so a reused record never mixes two customers. */
void vg_record_clear(struct vg_record *r);

/* Starts a new key epoch: new writes are sealed under a new random data
 * key; older rows stay readable until rewrapped.  *epoch gets the new
 * epoch number. */
VG_MUST_CHECK int vg_vault_rotate(struct vg_vault *v, uint32_t *epoch);

struct vg_rewrap_stats {
	uint64_t scanned;	/* customers visited */
	uint64_t rewrapped;	/* customers re-sealed under the current key */
	uint32_t retired;	/* epochs retired at the end */
};

/*
 * Re-seals every customer not under the current epoch, in transactions of
 * `batch` customers (0: 1000) so the vault stays usable, then retires
 * (erases) every older data key.  progress (may be NULL) is called after
 * each batch.
 */
VG_MUST_CHECK int vg_vault_rewrap(struct vg_vault *v, size_t batch,
    void (*progress)(void *ctx, const struct vg_rewrap_stats *st), void *ctx,
    struct vg_rewrap_stats *out);

struct vg_epoch_info {
	uint32_t epoch;
	char state[16];		/* active, decrypt, retired */
	uint64_t customers;
};

struct vg_vault_stats {
	uint64_t customers;
	uint64_t index_entries;
	uint64_t db_bytes;
	uint64_t wal_bytes;
	uint32_t current_epoch;
	size_t nepochs;
	struct vg_epoch_info epoch[VG_EPOCHS_MAX];
	const char *key_source;	/* "file" or "environment" */
};

VG_MUST_CHECK int vg_vault_stats(struct vg_vault *v, struct vg_vault_stats *st);

/* Calls cb with the number of customers of each region ("" for those
 * without one), in region order; a non-zero return from cb stops with
 * it.  Region codes are coarse and kept in clear (vigil/schema.h). */
VG_MUST_CHECK int vg_vault_region_counts(struct vg_vault *v,
    int (*cb)(void *ctx, const char *region, uint64_t n), void *ctx);

/*
 * Consumer-scoped pseudonyms.  Consumer names are [a-z0-9][a-z0-9_.-]{0,63}.
 * vg_vault_pseudonym returns VG_ENOTFOUND for an unknown customer;
 * vg_vault_resolve returns VG_ECRYPTO for a pseudonym that was not made
 * by this vault for this consumer.
 */
bool vg_consumer_name_ok(const char *consumer);
VG_MUST_CHECK int vg_vault_pseudonym(struct vg_vault *v, const char *consumer,
    const unsigned char id[VG_IDBYTES], unsigned char psn[VG_PSNBYTES]);
VG_MUST_CHECK int vg_vault_resolve(struct vg_vault *v, const char *consumer,
    const unsigned char psn[VG_PSNBYTES], unsigned char id[VG_IDBYTES]);

/*
 * Audit support.  vg_vault_id() gives the vault's random id (32 hex
 * characters) used in checkpoint origins; vg_vault_audit_seed() the
 * Ed25519 seed of an audit chain's signing key, derived from the vault's
 * wrapped audit root; vg_vault_probe() the keyed hash under which a
 * missed lookup of value in field is audited (the same value always gives
 * the same hash, so list validation shows, yet the log holds no value).
 */
#define VG_PROBEBYTES_VAULT 16
int vg_vault_id(struct vg_vault *v, char out[33]);
int vg_vault_audit_seed(struct vg_vault *v, const char *chain,
    unsigned char seed[VG_KEYBYTES]);
VG_MUST_CHECK int vg_vault_probe(struct vg_vault *v, int field,
    const char *value, size_t len, unsigned char out[VG_PROBEBYTES_VAULT],
    const char **why);

/*
 * Derives the vault's secret for purpose ([a-z0-9_.-], 1 to 32
 * characters; "apikey" keys the API key hashes of lib/principal.c) from
 * the wrapped audit root, under the label "secret:PURPOSE".  out should
 * be sodium_malloc'd memory; the caller wipes it.  Returns 0 or
 * VG_EINVAL.
 */
VG_MUST_CHECK int vg_vault_derive_secret(struct vg_vault *v,
    const char *purpose, unsigned char out[VG_KEYBYTES]);

#endif
