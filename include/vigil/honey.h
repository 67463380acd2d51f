/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Honeytoken records: synthetic customers, made by the generator
 * (vigil/gen.h), planted among the real ones so that touching one is a
 * sign of harvesting.  Nothing in the database tells them apart: they
 * are sealed, indexed and stored like any customer, at random places in
 * storage order, with the creation time and key epoch of the customers
 * around them.  Which records are honey is written only to
 * DIR/honey.set, sealed under a subkey of the master key
 * (docs/internals/honey.md has the format, docs/THREAT_MODEL.md what
 * still shows).
 *
 * The ids these functions hand out are as sensitive as the master key's
 * secrets: whoever holds them can steer around the honeytokens.
 */
#ifndef VIGIL_HONEY_H
#define VIGIL_HONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/crypto.h"
#include "vigil/error.h"

struct vg_vault;

#define VG_HONEY_SET "honey.set"	/* in the vault directory */
#define VG_HONEY_MAX 1000000		/* honey records in one vault */

/*
 * Plants count honey records into the vault v opened from vault_dir.
 * seed picks the generated customers (0: a random seed; a known seed
 * lets anyone regenerate the honey records, so give one only in tests).
 * Their places, creation times and epochs are always drawn from the
 * system's random source.
 *
 * All or nothing: outside a transaction the plant runs in its own;
 * inside vg_vault_begin() it joins the caller's, which then commits or
 * rolls back.  DIR/honey.set (the earlier set and the new ids) is
 * written, durably, before vg_honey_plant() returns, so before the
 * commit: a rolled-back plant leaves ids in the set that name no
 * customer, which vg_honey_load() skips and the next plant drops.
 * Until the write-ahead log is checkpointed it holds the pages from
 * before the plant next to those after, which tell the honey records
 * apart: after its own commit the plant truncates the log
 * (vg_vault_checkpoint()); a caller whose transaction it joined does
 * that after committing.
 *
 * Refused (VG_EINVAL, with the reason in err): count 0, a vault without
 * customers (nothing to hide among), more honey records in all than real
 * customers, or a schema field the generator cannot fill.  Also
 * VG_ETOOBIG (more than VG_HONEY_MAX in all), VG_EEXIST (the generator
 * keeps drawing customers whose phone, e-mail or account id the vault
 * already has: a seed used for real customers), VG_EFORMAT or VG_ECRYPTO
 * (honey.set damaged or sealed under another key; it is left as it is),
 * the errors of vg_honey_load(), VG_EIO, VG_ENOMEM or a storage error.  *planted gets the number
 * planted: count, or 0.  err (may be NULL) never holds an id.
 */
VG_MUST_CHECK int vg_honey_plant(struct vg_vault *v, const char *vault_dir,
    size_t count, uint64_t seed, size_t *planted, char *err, size_t errcap);

/*
 * Loads the honey set of the vault v opened from vault_dir: *ids gets
 * the ids of the honey records that are customers of v, sorted
 * (memcmp order, for vg_honey_contains), in guarded memory the caller
 * frees with vg_honey_free(); *n their number.  Returns 0 with *ids NULL
 * and *n 0 when there is no honey.set.  A damaged file, or one sealed for
 * another vault or master key, is VG_EFORMAT or VG_ECRYPTO with the
 * reason in err, never an empty set; a file readable by group or others
 * is VG_EINVAL.  Also VG_EIO, VG_ENOMEM or a storage error.
 */
VG_MUST_CHECK int vg_honey_load(struct vg_vault *v, const char *vault_dir,
    unsigned char (**ids)[VG_IDBYTES], size_t *n, char *err, size_t errcap);

/*
 * Adds n customers already in the vault to the honeytoken set: for a
 * synthetic world (vigil demo) whose own generator decided which of its
 * customers are honey, imported like the others.  Never for real
 * customers: a honeytoken must be a record no legitimate work touches.
 * Returns 0, VG_ENOTFOUND (an id is not a stored customer: nothing
 * changes), VG_EINVAL, VG_ETOOBIG or an error of the set's file.
 */
VG_MUST_CHECK int vg_honey_adopt(struct vg_vault *v, const char *vault_dir,
    const unsigned char (*ids)[VG_IDBYTES], size_t n, char *err,
    size_t errcap);

/* Wipes and frees what vg_honey_load() returned.  NULL is a no-op. */
void vg_honey_free(unsigned char (*ids)[VG_IDBYTES]);

/* True when id is one of the n sorted ids (binary search). */
bool vg_honey_contains(const unsigned char (*ids)[VG_IDBYTES], size_t n,
    const unsigned char id[VG_IDBYTES]);

#endif
