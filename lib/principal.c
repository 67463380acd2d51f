/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Principals and API keys: validation, key minting, revocation and
 * authentication.  The contract is in include/vigil/principal.h; formats
 * and reasoning in docs/internals/principal.md.
 *
 * Key format.  "vk_" + key id (8 random bytes, lower-case hex) + "_" +
 * secret (32 random bytes, lower-case RFC 4648 base32 without padding,
 * 52 characters).  The store keeps, per key id, BLAKE2b-256 keyed with
 * vg_vault_derive_secret(v, "apikey") over key id || "_" || secret text:
 * binding the id means a hash row cannot be moved to another key id.
 * The secret exists in clear only in sodium_malloc'd memory here and in
 * the caller's buffer.
 */
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "vigil/principal.h"
#include "vigil/region.h"
#include "vigil/shift.h"
#include "vigil/vault.h"
#include "store.h"
#include "textbuf.h"
#include "vault_int.h"

#define KEY_PREFIX "vk_"
#define KEY_RAWID 8
#define KEY_RAWSECRET 32

/* Key material, all in one sodium_malloc'd block. */
struct key_secrets {
	unsigned char hkey[VG_KEYBYTES];
	unsigned char raw[KEY_RAWSECRET];
	char text[VG_APIKEY_STRLEN];
	unsigned char hash[VG_KEYBYTES];
};

static const char *const kinds[] = { "employee", "vendor", "system", NULL };
static const char *const roles[] = { "agent", "supervisor", "security",
    "admin", "ingest", "ticketing", "exporter", "marketing_ops", NULL };

static int
in_list(const char *s, const char *const *list)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

int
vg_principal_id_ok(const char *s)
{
	size_t i, n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n == 0 || n > VG_PRINCIPAL_ID_MAX ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

int
vg_principal_kind_ok(const char *s)
{
	return in_list(s, kinds);
}

int
vg_principal_role_ok(const char *s)
{
	return in_list(s, roles);
}

/* A shift is well-formed when vg_shift_parse() takes it: an unknown zone
 * or a bad day list is refused when the principal is added, not first
 * noticed by the policy at a reveal.  The zone is loaded (and cached) on
 * the way. */
int
vg_principal_shift_ok(const char *s)
{
	struct vg_shift sh;

	if (s == NULL || strlen(s) > VG_PRINCIPAL_SHIFT_MAX)
		return 0;
	return vg_shift_parse(s, &sh, NULL) == 0;
}

static int
state_ok(const char *s)
{
	return s != NULL && (strcmp(s, "active") == 0 ||
	    strcmp(s, "suspended") == 0);
}

static int
key_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n == VG_APIKEY_IDLEN &&
	    strspn(s, "0123456789abcdef") == VG_APIKEY_IDLEN;
}

static void
base32(char *out, const unsigned char *in, size_t n)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned buf = 0, bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = abc[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = abc[(buf << (5 - bits)) & 31];
	out[o] = '\0';
	buf = 0;
}

/* Hashes key id || "_" || secret text into ks->hash with ks->hkey. */
static void
key_hash(struct key_secrets *ks, const char *key_id, const char *secret)
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, ks->hkey, sizeof(ks->hkey),
	    sizeof(ks->hash));
	crypto_generichash_update(&h, (const unsigned char *)key_id,
	    VG_APIKEY_IDLEN);
	crypto_generichash_update(&h, (const unsigned char *)"_", 1);
	crypto_generichash_update(&h, (const unsigned char *)secret,
	    VG_APIKEY_SECRETLEN);
	crypto_generichash_final(&h, ks->hash, sizeof(ks->hash));
	sodium_memzero(&h, sizeof(h));
}

static struct key_secrets *
key_secrets_new(struct vg_vault *v)
{
	struct key_secrets *ks = sodium_malloc(sizeof(*ks));

	if (ks == NULL)
		return NULL;
	sodium_memzero(ks, sizeof(*ks));
	if (vg_vault_derive_secret(v, "apikey", ks->hkey) != 0) {
		sodium_free(ks);
		return NULL;
	}
	return ks;
}

static void
key_secrets_free(struct key_secrets *ks)
{
	if (ks != NULL)
		sodium_free(ks);	/* wipes */
}

int
vg_principal_add(struct vg_vault *v, const struct vg_principal_spec *spec,
    char key[VG_APIKEY_STRLEN], const char **why)
{
	struct vg_store *s = vg__vault_store(v);
	const struct vg_province *prov = NULL;
	struct key_secrets *ks = NULL;
	struct vg_principal p;
	struct vg_apikey_row k;
	unsigned char rawid[KEY_RAWID];
	const char *dummy;
	int rc;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	key[0] = '\0';
	if (!vg_principal_id_ok(spec->id)) {
		*why = "ids are [a-z0-9][a-z0-9_.-]{0,63}";
		return VG_EINVAL;
	}
	if (!vg_principal_id_ok(spec->org)) {
		*why = "orgs are [a-z0-9][a-z0-9_.-]{0,63}";
		return VG_EINVAL;
	}
	if (!vg_principal_kind_ok(spec->kind)) {
		*why = "kind is employee, vendor or system";
		return VG_EINVAL;
	}
	if (!vg_principal_role_ok(spec->role)) {
		*why = "role is agent, supervisor, security, admin, ingest, "
		    "ticketing, exporter or marketing_ops";
		return VG_EINVAL;
	}
	if (spec->region != NULL && spec->region[0] != '\0') {
		prov = vg_province_find(spec->region, strlen(spec->region));
		if (prov == NULL) {
			*why = "region is not a province of China (CN-GD, GD "
			    "or a name)";
			return VG_EINVAL;
		}
	}
	if (spec->shift != NULL && spec->shift[0] != '\0' &&
	    !vg_principal_shift_ok(spec->shift)) {
		struct vg_shift sh;
		const char *swhy = NULL;

		/* vg_shift_parse names the part at fault (an unknown time
		 * zone, a bad day list, ...) without quoting the input. */
		if (strlen(spec->shift) <= VG_PRINCIPAL_SHIFT_MAX &&
		    vg_shift_parse(spec->shift, &sh, &swhy) != 0 &&
		    swhy != NULL)
			*why = swhy;
		else
			*why = "shift is \"TZ Days HH:MM-HH:MM\", at most 64 "
			    "bytes";
		return VG_EINVAL;
	}

	memset(&p, 0, sizeof(p));
	copy_str(p.id, sizeof(p.id), spec->id);
	copy_str(p.org, sizeof(p.org), spec->org);
	copy_str(p.kind, sizeof(p.kind), spec->kind);
	copy_str(p.role, sizeof(p.role), spec->role);
	if (prov != NULL)
		copy_str(p.region, sizeof(p.region), prov->code);
	if (spec->shift != NULL)
		copy_str(p.shift, sizeof(p.shift), spec->shift);
	copy_str(p.state, sizeof(p.state), "active");
	p.created = (int64_t)time(NULL);

	ks = key_secrets_new(v);
	if (ks == NULL)
		return VG_ENOMEM;
	memset(&k, 0, sizeof(k));
	randombytes_buf(rawid, sizeof(rawid));
	sodium_bin2hex(k.info.key_id, sizeof(k.info.key_id), rawid,
	    sizeof(rawid));
	randombytes_buf(ks->raw, sizeof(ks->raw));
	memcpy(ks->text, KEY_PREFIX, 3);
	memcpy(ks->text + 3, k.info.key_id, VG_APIKEY_IDLEN);
	ks->text[3 + VG_APIKEY_IDLEN] = '_';
	base32(ks->text + 4 + VG_APIKEY_IDLEN, ks->raw, sizeof(ks->raw));
	key_hash(ks, k.info.key_id, ks->text + 4 + VG_APIKEY_IDLEN);
	memcpy(k.hash, ks->hash, sizeof(k.hash));
	copy_str(k.info.principal, sizeof(k.info.principal), p.id);
	copy_str(k.info.state, sizeof(k.info.state), "active");
	k.info.created = p.created;

	rc = vg_vault_begin(v);
	if (rc != 0)
		goto out;
	rc = s->ops->principal_put(s, &p);
	if (rc == 0)
		rc = s->ops->apikey_put(s, &k);
	if (rc != 0) {
		vg_vault_rollback(v);
		goto out;
	}
	rc = vg_vault_commit(v);
	if (rc == 0)
		memcpy(key, ks->text, VG_APIKEY_STRLEN);
out:
	sodium_memzero(&k, sizeof(k));
	key_secrets_free(ks);
	return rc;
}

int
vg_principal_get(struct vg_vault *v, const char *id, struct vg_principal *out)
{
	struct vg_store *s = vg__vault_store(v);

	if (!vg_principal_id_ok(id))
		return VG_EINVAL;
	return s->ops->principal_get(s, id, out);
}

int
vg_principal_list(struct vg_vault *v,
    int (*cb)(void *ctx, const struct vg_principal *p), void *ctx)
{
	struct vg_store *s = vg__vault_store(v);

	return s->ops->principal_each(s, cb, ctx);
}

int
vg_principal_keys(struct vg_vault *v, const char *id,
    int (*cb)(void *ctx, const struct vg_apikey_info *k), void *ctx)
{
	struct vg_store *s = vg__vault_store(v);

	if (!vg_principal_id_ok(id))
		return VG_EINVAL;
	return s->ops->apikey_each(s, id, cb, ctx);
}

int
vg_principal_set_state(struct vg_vault *v, const char *id, const char *state)
{
	struct vg_store *s = vg__vault_store(v);

	if (!vg_principal_id_ok(id) || !state_ok(state))
		return VG_EINVAL;
	return s->ops->principal_set_state(s, id, state);
}

int
vg_principal_revoke_key(struct vg_vault *v, const char *key_id,
    struct vg_principal *principal_out)
{
	struct vg_store *s = vg__vault_store(v);
	struct vg_apikey_row k;
	int rc;

	if (!key_id_ok(key_id))
		return VG_EINVAL;
	rc = vg_vault_begin(v);
	if (rc != 0)
		return rc;
	rc = s->ops->apikey_get(s, key_id, &k);
	if (rc == 0)
		rc = s->ops->apikey_set_state(s, key_id, "revoked");
	if (rc == 0 && principal_out != NULL)
		rc = s->ops->principal_get(s, k.info.principal, principal_out);
	if (rc != 0) {
		vg_vault_rollback(v);
		return rc;
	}
	return vg_vault_commit(v);
}

/* Splits a key string into key id and secret; 0 or VG_EBADKEY. */
static int
parse_key(const char *key, char key_id[VG_APIKEY_IDLEN + 1],
    const char **secret)
{
	size_t n;

	if (key == NULL)
		return VG_EBADKEY;
	n = strnlen(key, VG_APIKEY_STRLEN);
	if (n != VG_APIKEY_STRLEN - 1 || memcmp(key, KEY_PREFIX, 3) != 0 ||
	    key[3 + VG_APIKEY_IDLEN] != '_')
		return VG_EBADKEY;
	memcpy(key_id, key + 3, VG_APIKEY_IDLEN);
	key_id[VG_APIKEY_IDLEN] = '\0';
	*secret = key + 4 + VG_APIKEY_IDLEN;
	if (!key_id_ok(key_id) || strspn(*secret,
	    "abcdefghijklmnopqrstuvwxyz234567") != VG_APIKEY_SECRETLEN)
		return VG_EBADKEY;
	return 0;
}

/*
 * Checks key with the hash key in ks: 0 and *out for an active key of an
 * existing principal, whatever the principal's state; VG_EBADKEY
 * otherwise.  The hash is computed and compared whether or not the key
 * id is known, so that the time taken does not tell.
 */
static int
check_key(struct vg_store *s, struct key_secrets *ks, const char *key,
    struct vg_principal *out)
{
	static const unsigned char zero[VG_KEYBYTES];
	struct vg_apikey_row k;
	char key_id[VG_APIKEY_IDLEN + 1];
	const char *secret = NULL;
	int rc, found, match;

	if ((rc = parse_key(key, key_id, &secret)) != 0)
		return rc;
	rc = s->ops->apikey_get(s, key_id, &k);
	if (rc != 0 && rc != VG_ENOTFOUND)
		goto out;
	found = rc == 0;
	if (!found)
		memcpy(k.hash, zero, sizeof(k.hash));
	key_hash(ks, key_id, secret);
	match = sodium_memcmp(ks->hash, k.hash, sizeof(k.hash)) == 0;
	rc = VG_EBADKEY;
	if (!found || !match || strcmp(k.info.state, "active") != 0)
		goto out;
	rc = s->ops->principal_get(s, k.info.principal, out);
	if (rc == VG_ENOTFOUND)
		rc = VG_EBADKEY;
out:
	sodium_memzero(&k, sizeof(k));
	return rc;
}

int
vg_principal_authenticate(struct vg_vault *v, const char *key,
    struct vg_principal *out)
{
	struct key_secrets *ks;
	struct vg_principal p;
	int rc;

	if ((ks = key_secrets_new(v)) == NULL)
		return VG_ENOMEM;
	rc = check_key(vg__vault_store(v), ks, key, &p);
	key_secrets_free(ks);
	if (rc == 0 && strcmp(p.state, "active") != 0)
		rc = VG_EBADKEY;
	if (rc == 0 && out != NULL)
		*out = p;
	return rc;
}

/*-----------------------------------------------------------------------------
 * The authentication cache of a server thread
 */

#define AUTH_SLOTS 1024		/* a power of two */

struct auth_slot {
	char key_id[VG_APIKEY_IDLEN + 1];
	unsigned char hash[VG_KEYBYTES];	/* of the whole key */
	struct vg_principal p;
	int64_t loaded_ms;
	uint64_t generation;
	int used;
};

struct vg_authcache {
	struct vg_vault *v;
	struct key_secrets *ks;
	int64_t ttl_ms;
	struct auth_slot slot[AUTH_SLOTS];
};

struct vg_authcache *
vg_authcache_new(struct vg_vault *v, int64_t ttl_ms)
{
	struct vg_authcache *c = sodium_malloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	sodium_memzero(c, sizeof(*c));
	c->v = v;
	c->ttl_ms = ttl_ms;
	if ((c->ks = key_secrets_new(v)) == NULL) {
		sodium_free(c);
		return NULL;
	}
	return c;
}

void
vg_authcache_free(struct vg_authcache *c)
{
	if (c == NULL)
		return;
	key_secrets_free(c->ks);
	sodium_free(c);		/* wipes */
}

int
vg_authcache_check(struct vg_authcache *c, const char *key,
    uint64_t generation, int64_t now_ms, struct vg_principal *out)
{
	char key_id[VG_APIKEY_IDLEN + 1];
	const char *secret = NULL;
	struct auth_slot *sl;
	uint32_t h = 2166136261u;
	size_t i;
	int rc;

	if ((rc = parse_key(key, key_id, &secret)) != 0)
		return rc;
	for (i = 0; i < VG_APIKEY_IDLEN; i++)
		h = (h ^ (unsigned char)key_id[i]) * 16777619u;
	sl = &c->slot[h & (AUTH_SLOTS - 1)];
	key_hash(c->ks, key_id, secret);
	if (sl->used && strcmp(sl->key_id, key_id) == 0 &&
	    sl->generation == generation && now_ms >= sl->loaded_ms &&
	    now_ms - sl->loaded_ms < c->ttl_ms) {
		if (sodium_memcmp(c->ks->hash, sl->hash, sizeof(sl->hash)) != 0)
			return VG_EBADKEY;
		*out = sl->p;
		return 0;
	}
	rc = check_key(vg__vault_store(c->v), c->ks, key, out);
	if (rc != 0) {
		if (sl->used && strcmp(sl->key_id, key_id) == 0)
			sl->used = 0;	/* revoked or gone */
		return rc;
	}
	memcpy(sl->key_id, key_id, sizeof(sl->key_id));
	memcpy(sl->hash, c->ks->hash, sizeof(sl->hash));
	sl->p = *out;
	sl->loaded_ms = now_ms;
	sl->generation = generation;
	sl->used = 1;
	return 0;
}
