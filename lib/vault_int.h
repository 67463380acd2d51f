/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to libvigil: what other library modules (lib/principal.c) may
 * reach inside a vault.  The contract of the vault is include/vigil/vault.h.
 */
#ifndef VIGIL_VAULT_INT_H
#define VIGIL_VAULT_INT_H

struct vg_vault;
struct vg_store;

/* The vault's storage (borrowed, valid until close).  Invalidates the
 * vault's lookup cache, as any other storage use must. */
struct vg_store *vg__vault_store(struct vg_vault *v);

#endif
