/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to libvigil: what other library modules (lib/principal.c,
 * lib/honey.c) may reach inside a vault.  The contract of the vault is
 * include/vigil/vault.h.
 */
#ifndef VIGIL_VAULT_INT_H
#define VIGIL_VAULT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/crypto.h"

struct vg_vault;
struct vg_store;
struct vg_srec;
struct vg_batch;
struct vg_input;
struct vg_reject;

/* The vault's storage (borrowed, valid until close).  Invalidates the
 * vault's lookup cache, as any other storage use must. */
struct vg_store *vg__vault_store(struct vg_vault *v);

/* True inside vg_vault_begin() .. commit or rollback. */
bool vg__vault_in_txn(const struct vg_vault *v);

/*
 * Honeytoken support (lib/honey.c).  vg__vault_prepare_as() is
 * vg_vault_prepare() with the key epoch and creation time given: inside
 * a write transaction only (else VG_EINVAL), and only under an epoch
 * whose data key is held (a retired or unknown epoch is VG_ECRYPTO).
 * vg__vault_put_at() stores the i-th customer of b, and its index
 * entries, at storage position seq.  vg__vault_presence() gives the set
 * of schema fields a stored record holds (bit i for field i; 0 for a
 * malformed record), read from its framing without decrypting.
 * vg__vault_honey_key() copies the honey-set key (derived from the master
 * key, "vigil:honey-set") into out, which the caller wipes.
 */
int vg__vault_prepare_as(struct vg_vault *v, const struct vg_input *in,
    uint32_t epoch, int64_t created, struct vg_batch *b,
    struct vg_reject *rej);
int vg__vault_put_at(struct vg_vault *v, struct vg_batch *b, size_t i,
    int64_t seq);
uint32_t vg__vault_presence(const struct vg_vault *v, const struct vg_srec *r);
void vg__vault_honey_key(const struct vg_vault *v,
    unsigned char out[VG_KEYBYTES]);

/*
 * Export support (lib/export.c).  vg__vault_consumer_key() copies the
 * pseudonym key of consumer into key (the caller wipes it): with
 * vg_pseudonym() it makes a consumer's pseudonym of any 128-bit id, a
 * customer's or a canary's.  Returns 0 or VG_EINVAL (bad name).
 * vg__vault_bidx() is the blind index of the canonical value
 * canon[0..len) of schema field `field` under the vault's key for that
 * field, as the customers' index holds it; the field must exist.
 */
int vg__vault_consumer_key(struct vg_vault *v, const char *consumer,
    unsigned char key[VG_KEYBYTES]);
void vg__vault_bidx(const struct vg_vault *v, int field, const char *canon,
    size_t len, unsigned char out[VG_BIDXBYTES]);

#endif
