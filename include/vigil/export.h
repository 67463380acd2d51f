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

#include <stddef.h>
#include <stdint.h>

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

#endif
