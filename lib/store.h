/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The storage interface, private to libvigil.  The vault (lib/vault.c)
 * talks to storage only through these operations, so that the SQLite
 * engine (lib/store_sqlite.c, the embedded default) and a later
 * PostgreSQL engine are interchangeable.  Storage sees only ciphertext,
 * blind-index digests, wrapped keys and the clear region code: it never
 * holds a key or a personal value.
 *
 * All operations return 0 or a negative VG_E* code.  Writes happen inside
 * begin()/commit(); an operation that fails leaves the transaction open
 * for the caller to roll back.
 */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/alertdb.h"
#include "vigil/crypto.h"
#include "vigil/cases.h"
#include "vigil/export.h"
#include "vigil/principal.h"

#define VG_REGION_MAX 8		/* "CN-GD" and its NUL, with room */
#define VG_BLOB_MAX (64 * 1024)	/* sealed fields of one customer */

/* One stored customer.  blob holds the sealed fields (see vault.c). */
struct vg_srec {
	unsigned char id[VG_IDBYTES];
	char region[VG_REGION_MAX];	/* "" when the schema has none */
	uint32_t epoch;
	int64_t created;		/* unix seconds */
	const unsigned char *blob;	/* borrowed */
	size_t bloblen;
};

struct vg_key_row {
	char kind[16];			/* "data", "index", "pseudonym" */
	uint32_t epoch;
	char state[16];			/* "active", "decrypt", "retired" */
	int has_key;			/* 0 once retired: material erased */
	unsigned char wrapped[VG_WRAPPEDBYTES];
};

struct vg_store_counts {
	uint64_t customers;
	uint64_t index_entries;
	uint64_t db_bytes;		/* main database file */
	uint64_t wal_bytes;		/* write-ahead log, if any */
	size_t nepochs;
	uint32_t epoch[64];		/* customers per key epoch */
	uint64_t per_epoch[64];
};

typedef int (*vg_key_cb)(void *ctx, const struct vg_key_row *k);
typedef int (*vg_rec_cb)(void *ctx, const struct vg_srec *r);
/* A customer with its storage position (SQLite: the rowid). */
typedef int (*vg_seq_cb)(void *ctx, int64_t seq, const struct vg_srec *r);
typedef int (*vg_principal_cb)(void *ctx, const struct vg_principal *p);
typedef int (*vg_apikey_cb)(void *ctx, const struct vg_apikey_info *k);

/* An API key row: the keyed hash of its secret, never the secret. */
struct vg_apikey_row {
	struct vg_apikey_info info;
	unsigned char hash[VG_KEYBYTES];
};

struct vg_store;

struct vg_store_ops {
	const char *name;
	void (*close)(struct vg_store *s);
	int (*begin)(struct vg_store *s);
	int (*commit)(struct vg_store *s);
	int (*rollback)(struct vg_store *s);
	/* A read snapshot across several reads (one lock, one view). */
	int (*read_begin)(struct vg_store *s);
	int (*read_end)(struct vg_store *s);
	/* Meta values are small blobs; get returns VG_ENOTFOUND if absent. */
	int (*meta_get)(struct vg_store *s, const char *key, void *buf,
	    size_t cap, size_t *len);
	int (*meta_set)(struct vg_store *s, const char *key, const void *val,
	    size_t len);
	/* Inserts or replaces a key row; wrapped NULL erases the material. */
	int (*key_put)(struct vg_store *s, const char *kind, uint32_t epoch,
	    const char *state, const unsigned char *wrapped);
	int (*key_each)(struct vg_store *s, vg_key_cb cb, void *ctx);
	int (*customer_put)(struct vg_store *s, const struct vg_srec *r);
	/* Fills *r; r->blob points into buf (capacity cap). */
	int (*customer_get)(struct vg_store *s, const unsigned char *id,
	    struct vg_srec *r, unsigned char *buf, size_t cap);
	/* Rewrites epoch and blob of an existing customer. */
	int (*customer_update)(struct vg_store *s, const struct vg_srec *r);
	/* Visits up to max customers with id > after (NULL: from the start)
	 * in id order and calls cb for those whose epoch differs from
	 * keep_epoch; *last receives the last id visited, *n the number
	 * visited (max limits the visited rows, not the callbacks). */
	int (*customer_scan)(struct vg_store *s, const unsigned char *after,
	    uint32_t keep_epoch, size_t max, vg_rec_cb cb, void *ctx,
	    unsigned char *last, size_t *n);
	/* Storage order, for honeytokens (lib/honey.c), which must sit
	 * among the customers as if they had been added with them.
	 * customer_walk visits every customer in storage order with its
	 * position; customer_put_at stores r at position seq (VG_EEXIST if
	 * taken); customer_move moves every customer at a position in
	 * [lo, hi] to position + delta, in ascending order (every target
	 * must be free). */
	int (*customer_walk)(struct vg_store *s, vg_seq_cb cb, void *ctx);
	int (*customer_put_at)(struct vg_store *s, const struct vg_srec *r,
	    int64_t seq);
	int (*customer_move)(struct vg_store *s, int64_t lo, int64_t hi,
	    int64_t delta);
	int (*index_put)(struct vg_store *s, unsigned field,
	    const unsigned char *digest, const unsigned char *id);
	int (*index_find)(struct vg_store *s, unsigned field,
	    const unsigned char *digest, unsigned char (*ids)[VG_IDBYTES],
	    size_t max, size_t *n);
	int (*counts)(struct vg_store *s, struct vg_store_counts *c);
	/* Customers per region ("" for those without one), in region
	 * order; a non-zero return from cb stops with it. */
	int (*region_counts)(struct vg_store *s,
	    int (*cb)(void *ctx, const char *region, uint64_t n), void *ctx);
	/* Bulk mode (on != 0): a page cache large enough for a big import,
	 * so random-key inserts stay in memory until commit. */
	int (*bulk)(struct vg_store *s, int on);
	/* Copies the write-ahead log into the database and empties it;
	 * VG_EBUSY when a reader kept part of it. */
	int (*checkpoint)(struct vg_store *s);
	/* Counts customers whose epoch is not keep_epoch. */
	int (*count_stale)(struct vg_store *s, uint32_t keep_epoch,
	    uint64_t *n);
	/* Principals and API keys (lib/principal.c).  put returns
	 * VG_EEXIST for a taken id; get and set_state VG_ENOTFOUND. */
	int (*principal_put)(struct vg_store *s, const struct vg_principal *p);
	int (*principal_get)(struct vg_store *s, const char *id,
	    struct vg_principal *p);
	int (*principal_each)(struct vg_store *s, vg_principal_cb cb,
	    void *ctx);
	int (*principal_set_state)(struct vg_store *s, const char *id,
	    const char *state);
	int (*apikey_put)(struct vg_store *s, const struct vg_apikey_row *k);
	int (*apikey_get)(struct vg_store *s, const char *key_id,
	    struct vg_apikey_row *k);
	/* Keys of one principal, in key id order. */
	int (*apikey_each)(struct vg_store *s, const char *principal,
	    vg_apikey_cb cb, void *ctx);
	int (*apikey_set_state)(struct vg_store *s, const char *key_id,
	    const char *state);
	/* Cases (lib/cases.c).  case_update changes an open case only:
	 * assignee (NULL: kept), state and closed time; VG_ENOTFOUND when
	 * there is no such case, VG_EEXIST when it is not open. */
	int (*case_put)(struct vg_store *s, const struct vg_case *c);
	int (*case_get)(struct vg_store *s, const char *id, struct vg_case *c);
	int (*case_update)(struct vg_store *s, const char *id,
	    const char *assignee, const char *state, int64_t closed);
	/* Approvals.  approval_move changes state `from` to `to` (setting
	 * decided_by and decided when by is not NULL) and returns VG_EEXIST
	 * when the approval is not in state `from`, atomically. */
	int (*approval_put)(struct vg_store *s, const struct vg_approval *a);
	int (*approval_get)(struct vg_store *s, const char *id,
	    struct vg_approval *a);
	int (*approval_move)(struct vg_store *s, const char *id,
	    const char *from, const char *to, const char *by, int64_t when);
	/* Pending approvals of principal not expired at now. */
	int (*approval_pending)(struct vg_store *s, const char *principal,
	    int64_t now, uint64_t *n);
	/* Alerts (lib/alertdb.c).  alert_put returns VG_EEXIST for an id
	 * already stored; alert_ack VG_EEXIST when it is not open. */
	int (*alert_put)(struct vg_store *s, const struct vg_alert_row *r);
	int (*alert_get)(struct vg_store *s, const char *id,
	    struct vg_alert_row *r);
	int (*alert_list)(struct vg_store *s, const struct vg_alert_query *q,
	    int (*cb)(void *ctx, const struct vg_alert_row *r), void *ctx);
	int (*alert_ack)(struct vg_store *s, const char *id, const char *by,
	    int64_t at);
	/* Exports (lib/export.c): manifests and their canaries' digests.
	 * export_put returns VG_EEXIST for an id taken, canary_put
	 * VG_EEXIST for a (field, digest) some export holds already;
	 * export_get and canary_find VG_ENOTFOUND.  export_each visits at
	 * most limit manifests (0: all), newest first (by time, then by
	 * the manifest's audit sequence number). */
	int (*export_put)(struct vg_store *s, const struct vg_export_info *e);
	int (*export_get)(struct vg_store *s, const char *id,
	    struct vg_export_info *e);
	int (*export_each)(struct vg_store *s, size_t limit,
	    int (*cb)(void *ctx, const struct vg_export_info *e), void *ctx);
	int (*canary_put)(struct vg_store *s, unsigned field,
	    const unsigned char *digest, const char *export_id);
	int (*canary_find)(struct vg_store *s, unsigned field,
	    const unsigned char *digest, char *export_id, size_t cap);
};

struct vg_store {
	const struct vg_store_ops *ops;
};

/* Creates (create != 0) or opens the SQLite store at path. */
int vg__store_sqlite_open(const char *path, int create, struct vg_store **out);

#endif
