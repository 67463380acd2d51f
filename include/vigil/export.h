/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exports: bulk extracts of customers for a named consumer (a
 * direct-marketing vendor, say), with a purpose and a recipient,
 * pseudonymised by default, each carrying canary records of its own.
 *
 * What the tracer (vigil/trace.h) relies on, and what every export
 * writes to the audit log:
 *
 *   - one entry per exported customer: action "export.row", the
 *     requesting principal, the customer's id, `fields` the schema
 *     fields it received in clear (comma list, "" when pseudonymised
 *     only), the purpose, and detail "export=ID" (with ",region=XX"
 *     when the customer has a region);
 *   - one manifest entry after the rows: action "export", no customer,
 *     decision "allow", detail
 *     "export=ID,consumer=C,recipient=R,rows=N,canaries=K,canary_set=H"
 *     where H is the hex of the first 16 bytes of the SHA-256 over the
 *     export's canary digests in sorted order (a commitment to the
 *     canary set);
 *   - a refused export: action "export", decision "deny", the reason.
 *
 * All of them are durable before the first byte of the file leaves.
 * Canaries are synthetic customers from the project's generator that
 * exist nowhere else: never a customer of the vault, never in another
 * export.  The vault keeps only their blind-index digests (keyed like
 * the customers' indexes), with the export they belong to.
 */
#ifndef VIGIL_EXPORT_H
#define VIGIL_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/crypto.h"
#include "vigil/error.h"

struct vg_vault;

#define VG_EXPORT_ID_MAX 32		/* "ex_" and base32 characters */
#define VG_EXPORT_NAME_MAX 64		/* consumer and recipient names */

/* An export's manifest, as the vault keeps it. */
struct vg_export_info {
	char id[VG_EXPORT_ID_MAX + 1];
	char principal[65];			/* who asked for it */
	char consumer[VG_EXPORT_NAME_MAX + 1];
	char recipient[VG_EXPORT_NAME_MAX + 1];
	char purpose[65];
	int64_t created;			/* unix seconds */
	uint64_t rows;				/* customers in the file */
	uint64_t canaries;			/* canary rows in the file */
	char clear[256];			/* fields given in clear */
	char chain[33];				/* the audit chain ... */
	uint64_t manifest_seq;			/* ... and its manifest entry */
	char canary_set[33];			/* the manifest's commitment
						 * (32 hex) */
	char fields[256];			/* fields in the file, in its
						 * column order (comma list) */
	char region[8];				/* the region filter, or "" */
};

/*
 * Is the canonical value canon[0..len) of schema field `field` (an
 * indexed field) one of an export's canaries?  0 with id filled (the
 * export it was made for), VG_ENOTFOUND, or another error.
 */
VG_MUST_CHECK int vg_export_canary_find(struct vg_vault *v, int field,
    const char *canon, size_t len, char id[VG_EXPORT_ID_MAX + 1]);

/* The manifest of export id: 0, VG_ENOTFOUND or another error. */
VG_MUST_CHECK int vg_export_get(struct vg_vault *v, const char *id,
    struct vg_export_info *out);

/*-----------------------------------------------------------------------------
 * Making exports (vigild's POST /v1/exports and `vigil export`)
 */

struct vg_policy;
struct vg_audit;
struct vg_principal;

#define VG_EXPORT_ROWS_MAX 1000000	/* customers in one export, whatever
					 * the policy's max_rows */
#define VG_EXPORT_SAMPLE 50		/* the leak the canaries are sized
					 * for: a random 50 rows ... */
#define VG_EXPORT_CATCH 0.95		/* ... holds one with at least this
					 * probability */
#define VG_EXPORT_CANARIES_MIN 2	/* and never fewer canaries */
#define VG_EXPORT_FIELD_ID 255		/* export_canary's field for the
					 * digest of a canary's id (what its
					 * pseudonym resolves to) */

/*
 * The number of canary records an export of `rows` customers carries:
 * the smallest K >= VG_EXPORT_CANARIES_MIN such that a uniformly random
 * subset of min(VG_EXPORT_SAMPLE, rows + K) rows of the rows + K rows of
 * the file holds at least one canary with probability >= VG_EXPORT_CATCH
 * (hypergeometric, computed exactly as a product of 50 ratios).  About
 * 6.2 % of rows for large exports: 2 for up to 48 rows, 1,000 rows: 62,
 * 10,000: 617, 100,000: 6,169 (docs/API.md has the table).
 */
uint64_t vg_export_canary_count(uint64_t rows);

/* That probability: a uniformly random subset of min(sample, rows + k)
 * rows of rows + k holds at least one of the k canaries. */
double vg_export_catch(uint64_t rows, uint64_t k, uint64_t sample);

/* What is asked for.  Strings are borrowed. */
struct vg_export_request {
	const char *consumer;		/* vg_consumer_name_ok(), listed under
					 * the policy's consumers */
	const char *recipient;		/* the same form: who receives it */
	const char *purpose;		/* [a-z][a-z0-9_]{0,31} */
	const char *const *fields;	/* schema field names, in the file's
					 * column order, each once */
	size_t nfields;			/* 1 .. VG_FIELDS_MAX */
	const char *region;		/* a province (CN-GD, GD or its name),
					 * or NULL: every region */
	uint64_t limit;			/* customers wanted, >= 1 */
};

/* Who asks, under which policy, and the log its entries go to. */
struct vg_export_ctx {
	struct vg_vault *vault;
	const char *vault_dir;		/* for the honeytoken set */
	const struct vg_policy *policy;
	struct vg_audit *audit;
	const char *chain;		/* that log's chain name */
	const struct vg_principal *who;	/* decided for, audited as */
	int containment;		/* the detector's, for the policy */
	int64_t now;			/* unix seconds */
	const char *request_id;		/* every entry's */
	const char *client;		/* every entry's ("cli", an address) */
};

/* The file's bytes, in order; non-zero stops the export with it. */
typedef int (*vg_export_write_fn)(void *ctx, const void *buf, size_t len);

struct vg_export_result {
	bool allowed;			/* the file was written */
	bool audited;			/* the rows and the manifest were
					 * audited (an error after that is a
					 * failed export, not a failed log) */
	const char *reason;		/* refused: the reason code (VG_R_*,
					 * "no_rows", "no_canaries") */
	const char *field;		/* VG_EINVAL: the member at fault */
	char message[256];		/* in words, never a value */
	struct vg_export_info info;	/* allowed: the manifest */
};

/*
 * Makes an export for c->who: checks the request, decides it under the
 * policy (action "export", docs/POLICY.md), picks the customers (the
 * first rq->limit of the region in storage order, honeytokens left out),
 * makes its canaries, audits every row and the manifest (durable before
 * anything is written), stores the manifest and the canaries' digests,
 * then writes the CSV through write(): a header ("pseudonym" and the
 * field names), then every customer and canary in a random order, one a
 * line, each with the consumer's pseudonym first and its fields in clear
 * where the consumer may have them, else masked under the policy.
 *
 * Returns 0 when the request was decided: res->allowed and the file
 * written, or refused (res->reason; the refusal is audited and nothing
 * else changes).  VG_EINVAL: a malformed request (res->field and
 * res->message; nothing audited or changed).  VG_EIO with !res->audited:
 * the audit log failed; nothing was written.  Any error with
 * res->audited (storage, a record that does not open, write() failing)
 * adds an entry "export", decision "deny", reason "not_completed", and
 * the caller must discard whatever write() received.
 *
 * Uses c->vault for the whole call; runs on the caller's thread.
 */
VG_MUST_CHECK int vg_export_make(const struct vg_export_ctx *c,
    const struct vg_export_request *rq, vg_export_write_fn write,
    void *wctx, struct vg_export_result *res);

/* Calls cb for at most limit manifests (0: every one), newest first; a
 * non-zero return from cb stops the walk and is returned. */
VG_MUST_CHECK int vg_export_list(struct vg_vault *v, size_t limit,
    int (*cb)(void *ctx, const struct vg_export_info *e), void *ctx);

/*
 * A pseudonym found in a leaked file, made for consumer: 0 with id when
 * it is one of that consumer's exports' canaries (a pseudonymised-only
 * export still names itself), VG_ENOTFOUND when it is not (a customer's,
 * or nothing), VG_EINVAL for a bad consumer name, or another error.
 */
VG_MUST_CHECK int vg_export_psn_find(struct vg_vault *v, const char *consumer,
    const unsigned char psn[VG_PSNBYTES], char id[VG_EXPORT_ID_MAX + 1]);

#endif
