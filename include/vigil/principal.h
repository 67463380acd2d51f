/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Principals and API keys: who may talk to the access broker, and the
 * keys they prove it with.  A principal is an employee, vendor or system
 * with one role, an optional home region and an optional shift.  An API
 * key is "vk_" + key id (16 hex) + "_" + secret (52 base32); it is shown
 * once, when made, and the vault keeps only a keyed BLAKE2b-256 hash of
 * it (key from vg_vault_derive_secret(v, "apikey")).  See
 * docs/internals/principal.md.
 */
#ifndef VIGIL_PRINCIPAL_H
#define VIGIL_PRINCIPAL_H

#include <stdint.h>

#include "vigil/error.h"

struct vg_vault;

#define VG_PRINCIPAL_ID_MAX 64		/* [a-z0-9][a-z0-9_.-]{0,63} */
#define VG_PRINCIPAL_REGION_MAX 8	/* "CN-GD" and its NUL */
#define VG_PRINCIPAL_SHIFT_MAX 64	/* printable ASCII */
#define VG_APIKEY_IDLEN 16		/* hex characters of a key id */
#define VG_APIKEY_SECRETLEN 52		/* base32 characters of a secret */
#define VG_APIKEY_STRLEN (3 + VG_APIKEY_IDLEN + 1 + VG_APIKEY_SECRETLEN + 1)

/* A principal as stored.  Invariant: every string is NUL-terminated;
 * region and shift are "" when not set. */
struct vg_principal {
	char id[VG_PRINCIPAL_ID_MAX + 1];
	char org[VG_PRINCIPAL_ID_MAX + 1];
	char kind[16];		/* employee, vendor, system */
	char role[16];		/* agent, supervisor, security, admin,
				   ingest, ticketing, exporter,
				   marketing_ops */
	char region[VG_PRINCIPAL_REGION_MAX];	/* ISO 3166-2 code */
	char shift[VG_PRINCIPAL_SHIFT_MAX + 1];	/* "TZ Days HH:MM-HH:MM" */
	char state[16];		/* active, suspended */
	int64_t created;	/* unix seconds */
};

/* One API key of a principal, without its secret or hash. */
struct vg_apikey_info {
	char key_id[VG_APIKEY_IDLEN + 1];
	char principal[VG_PRINCIPAL_ID_MAX + 1];
	char state[16];		/* active, revoked */
	int64_t created;
};

/* What to add.  region and shift may be NULL or "".  Strings are
 * borrowed. */
struct vg_principal_spec {
	const char *id;
	const char *org;
	const char *kind;
	const char *role;
	const char *region;	/* code, short code or name of a province */
	const char *shift;
};

/*
 * Adds a principal and its first API key, in one transaction.  key
 * receives the key string, NUL-terminated; it is never stored and cannot
 * be shown again, so the caller should keep it in sodium_malloc'd memory
 * and wipe it.  On VG_EINVAL *why (may be NULL) gets a static reason that
 * never quotes the input.  Returns 0, VG_EINVAL, VG_EEXIST (id taken) or
 * a storage error.
 */
VG_MUST_CHECK int vg_principal_add(struct vg_vault *v,
    const struct vg_principal_spec *spec, char key[VG_APIKEY_STRLEN],
    const char **why);

/* Fills *out with principal id.  Returns 0, VG_ENOTFOUND, VG_EINVAL
 * (malformed id) or a storage error. */
VG_MUST_CHECK int vg_principal_get(struct vg_vault *v, const char *id,
    struct vg_principal *out);

/* Calls cb for every principal in id order; a non-zero return from cb
 * stops the walk and is returned.  p is borrowed for the call. */
VG_MUST_CHECK int vg_principal_list(struct vg_vault *v,
    int (*cb)(void *ctx, const struct vg_principal *p), void *ctx);

/* Calls cb for every API key of principal id, in key id order. */
VG_MUST_CHECK int vg_principal_keys(struct vg_vault *v, const char *id,
    int (*cb)(void *ctx, const struct vg_apikey_info *k), void *ctx);

/* Sets the state of principal id to "active" or "suspended".  A
 * suspended principal's keys do not authenticate.  Returns 0, VG_EINVAL,
 * VG_ENOTFOUND or a storage error. */
VG_MUST_CHECK int vg_principal_set_state(struct vg_vault *v, const char *id,
    const char *state);

/* Revokes API key key_id (16 hex characters) for good.  *principal_out
 * (may be NULL) gets the owner.  Returns 0, VG_EINVAL (malformed id),
 * VG_ENOTFOUND or a storage error. */
VG_MUST_CHECK int vg_principal_revoke_key(struct vg_vault *v,
    const char *key_id, struct vg_principal *principal_out);

/*
 * Checks an API key string.  Returns 0 and fills *out (may be NULL) with
 * its active principal, or VG_EBADKEY for a malformed, unknown, revoked
 * or wrong key or a suspended principal (one answer for all, so a caller
 * learns nothing about which); other errors are storage errors.  The
 * secret's hash is compared in constant time.
 */
VG_MUST_CHECK int vg_principal_authenticate(struct vg_vault *v,
    const char *key, struct vg_principal *out);

/*
 * A server thread's authentication cache: the hash key is derived once,
 * and a good key's principal is remembered for ttl_ms, or until the
 * caller's generation counter moves (bump it on every suspend, reinstate
 * or revocation the server makes itself; changes made by another
 * process show within ttl_ms).  Every check still hashes the presented
 * key and compares it in constant time with the stored hash.
 *
 * vg_authcache_check returns 0 and *out for an active key of an
 * existing principal, active or suspended (out->state says which: a
 * suspended principal gets a clear refusal, not an "unknown key"), or
 * VG_EBADKEY for a malformed, unknown, revoked or wrong key.  One cache
 * per thread, used with the vault it was made with.
 */
struct vg_authcache;
struct vg_authcache *vg_authcache_new(struct vg_vault *v, int64_t ttl_ms);
void vg_authcache_free(struct vg_authcache *c);
VG_MUST_CHECK int vg_authcache_check(struct vg_authcache *c, const char *key,
    uint64_t generation, int64_t now_ms, struct vg_principal *out);

/* Validators (no vault needed): true when s is a well-formed id or org,
 * kind, role, or shift. */
int vg_principal_id_ok(const char *s);
int vg_principal_kind_ok(const char *s);
int vg_principal_role_ok(const char *s);
int vg_principal_shift_ok(const char *s);

#endif
