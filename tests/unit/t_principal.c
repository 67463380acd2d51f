/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/principal.c: adding, listing and getting principals,
 * input validation, API key authentication (good, wrong secret, revoked,
 * unknown, malformed, suspended principal), and that no key secret is
 * ever stored in clear (every vault file is scanned for it).  The vault
 * lives in a mkdtemp directory under /tmp that is removed at the end.
 */
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "tap.h"
#include "vigil/principal.h"
#include "vigil/vault.h"

static char root[PATH_MAX];

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* True when the file at path contains needle. */
static int
file_has(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	size_t n = strlen(needle), len = 0, cap = 0;
	char *buf = NULL, chunk[65536];
	size_t r;
	int found = 0;

	if (fp == NULL)
		return 0;
	while ((r = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (len + r > cap) {
			cap = (len + r) * 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				break;
		}
		memcpy(buf + len, chunk, r);
		len += r;
	}
	fclose(fp);
	if (buf != NULL && len >= n) {
		size_t i;

		for (i = 0; i + n <= len && !found; i++)
			found = memcmp(buf + i, needle, n) == 0;
	}
	free(buf);
	return found;
}

static const char *scan_needle;
static int scan_found;
static int scan_files;

static int
scan_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_F) {
		scan_files++;
		if (file_has(path, scan_needle))
			scan_found++;
	}
	return 0;
}

static int
count_cb(void *ctx, const struct vg_principal *p)
{
	(void)p;
	(*(int *)ctx)++;
	return 0;
}

static struct vg_principal_spec
spec(const char *id, const char *kind, const char *role)
{
	struct vg_principal_spec s = { id, "acme", kind, role, NULL, NULL };

	return s;
}

int
main(void)
{
	char dir[PATH_MAX + 16], dbpath[PATH_MAX + 32], err[VG_ERRMSG_MAX];
	struct vg_principal_spec s;
	struct vg_principal p;
	struct vg_vault *v = NULL;
	const char *why;
	char *key, *key2, *bad;
	char kid[VG_APIKEY_IDLEN + 1];
	int n, rc;

	if (sodium_init() < 0)
		return 1;
	snprintf(root, sizeof(root), "/tmp/vigil-t-principal.XXXXXX");
	if (mkdtemp(root) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s/v", root);
	unsetenv(VG_MASTER_ENV);
	rc = vg_vault_create(dir, NULL, err, sizeof(err));
	is_int(rc, 0, "create a vault");
	rc = vg_vault_open(dir, &v, err, sizeof(err));
	is_int(rc, 0, "open it");
	if (v == NULL)
		return 1;
	key = sodium_malloc(VG_APIKEY_STRLEN);
	key2 = sodium_malloc(VG_APIKEY_STRLEN);
	bad = sodium_malloc(VG_APIKEY_STRLEN);

	/* --- add, get, list ------------------------------------------- */
	s = spec("alice", "employee", "agent");
	s.region = "Guangdong";
	s.shift = "Asia/Shanghai Mon-Fri 09:00-18:00";
	rc = vg_principal_add(v, &s, key, &why);
	is_int(rc, 0, "add a principal");
	is_int(strlen(key), VG_APIKEY_STRLEN - 1, "the key is %d characters",
	    VG_APIKEY_STRLEN - 1);
	ok(strncmp(key, "vk_", 3) == 0 && key[19] == '_',
	    "the key is vk_KEYID_SECRET");
	rc = vg_principal_get(v, "alice", &p);
	is_int(rc, 0, "get it back");
	is_str(p.org, "acme", "org");
	is_str(p.kind, "employee", "kind");
	is_str(p.role, "agent", "role");
	is_str(p.region, "CN-GD", "the region is normalised to its code");
	is_str(p.shift, "Asia/Shanghai Mon-Fri 09:00-18:00", "shift");
	is_str(p.state, "active", "a new principal is active");
	ok(p.created > 0, "created is set");
	s = spec("svc.ingest-1", "system", "ingest");
	rc = vg_principal_add(v, &s, key2, NULL);
	is_int(rc, 0, "add a second principal without region or shift");
	rc = vg_principal_get(v, "svc.ingest-1", &p);
	ok(rc == 0 && p.region[0] == '\0' && p.shift[0] == '\0',
	    "region and shift are empty when not given");
	ok(strcmp(key, key2) != 0, "two principals get two keys");
	n = 0;
	rc = vg_principal_list(v, count_cb, &n);
	ok(rc == 0 && n == 2, "list shows both");
	s = spec("alice", "vendor", "agent");
	rc = vg_principal_add(v, &s, bad, NULL);
	is_int(rc, VG_EEXIST, "a taken id is VG_EEXIST");
	is_str(bad, "", "and no key is given");
	is_int(vg_principal_get(v, "bob", &p), VG_ENOTFOUND,
	    "an unknown principal is VG_ENOTFOUND");
	is_int(vg_principal_get(v, "Bob", &p), VG_EINVAL,
	    "a malformed id is VG_EINVAL");

	/* --- validation ------------------------------------------------- */
	{
		static const struct {
			const char *id, *org, *kind, *role, *region, *shift;
			const char *what;
		} cases[] = {
			{ "Alice", "acme", "employee", "agent", NULL, NULL,
			  "upper-case id" },
			{ "", "acme", "employee", "agent", NULL, NULL,
			  "empty id" },
			{ "-x", "acme", "employee", "agent", NULL, NULL,
			  "id starting with -" },
			{ "a b", "acme", "employee", "agent", NULL, NULL,
			  "id with a space" },
			{ "a12345678901234567890123456789012345678901234567890"
			  "12345678901234", "acme", "employee", "agent", NULL,
			  NULL, "65-character id" },
			{ "x1", "Acme", "employee", "agent", NULL, NULL,
			  "bad org" },
			{ "x1", "acme", "contractor", "agent", NULL, NULL,
			  "bad kind" },
			{ "x1", "acme", "employee", "root", NULL, NULL,
			  "bad role" },
			{ "x1", "acme", "employee", "agent", "Atlantis", NULL,
			  "bad region" },
			{ "x1", "acme", "employee", "agent", NULL, "always",
			  "shift without times" },
			{ "x1", "acme", "employee", "agent", NULL,
			  "UTC Mon-Fri 25:00-18:00", "shift hour 25" },
			{ "x1", "acme", "employee", "agent", NULL,
			  "UTC Mon-Fri\t09:00-18:00", "shift with a tab" },
			{ "x1", "acme", "employee", "agent", NULL,
			  "Asia/Shanghai Mon-Fri-Mon-Fri-Mon-Fri-Mon-Fri-Mon-"
			  "Fri-Mo 09:00-18:00", "shift over 64 bytes" },
			{ "x1", "acme", "employee", "agent", NULL,
			  "Mars/Olympus Mon-Fri 09:00-18:00",
			  "shift in an unknown time zone" },
			{ "x1", "acme", "employee", "agent", NULL,
			  "../../etc/passwd Mon-Fri 09:00-18:00",
			  "shift whose zone leaves the zone directory" },
			{ "x1", "acme", "employee", "agent", NULL,
			  "UTC Mon-Fry 09:00-18:00",
			  "shift with a bad day list" },
			{ "x1", "acme", "employee", "agent", NULL,
			  "UTC Mon,,Fri 09:00-18:00",
			  "shift with an empty day in its list" },
			{ "x1", "acme", "employee", "agent", NULL,
			  "UTC Mon-Fri 09:00-18:60", "shift minute 60" },
		};
		size_t i;

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct vg_principal_spec c = { cases[i].id,
			    cases[i].org, cases[i].kind, cases[i].role,
			    cases[i].region, cases[i].shift };

			why = NULL;
			rc = vg_principal_add(v, &c, bad, &why);
			ok(rc == VG_EINVAL && why != NULL && bad[0] == '\0',
			    "refused: %s", cases[i].what);
		}
		n = 0;
		rc = vg_principal_list(v, count_cb, &n);
		ok(rc == 0 && n == 2, "refused adds left nothing behind");
	}
	ok(vg_principal_shift_ok("UTC Sat,Sun 00:00-23:59"),
	    "a weekend UTC shift is valid");
	ok(vg_principal_shift_ok("Europe/Berlin Sat-Mon 22:00-06:00"),
	    "an overnight shift on wrapping days is valid");
	ok(!vg_principal_shift_ok("Atlantis/Capital Mon-Fri 09:00-18:00"),
	    "a shift in an unknown zone is not");
	ok(!vg_principal_shift_ok("UTC Mon-Funday 09:00-18:00"),
	    "nor one with a bad day list");
	ok(!vg_principal_shift_ok(NULL), "nor NULL");

	/* --- authenticate ---------------------------------------------- */
	rc = vg_principal_authenticate(v, key, &p);
	is_int(rc, 0, "the key authenticates");
	is_str(p.id, "alice", "as its principal");
	rc = vg_principal_authenticate(v, key2, &p);
	ok(rc == 0 && strcmp(p.id, "svc.ingest-1") == 0,
	    "the second key authenticates as the second principal");

	memcpy(bad, key, VG_APIKEY_STRLEN);
	bad[40] = bad[40] == 'a' ? 'b' : 'a';
	is_int(vg_principal_authenticate(v, bad, &p), VG_EBADKEY,
	    "a wrong secret is VG_EBADKEY");
	memcpy(bad, key, VG_APIKEY_STRLEN);
	memcpy(bad + 20, key2 + 20, VG_APIKEY_SECRETLEN);
	is_int(vg_principal_authenticate(v, bad, &p), VG_EBADKEY,
	    "another key's secret under this key id is VG_EBADKEY");
	memcpy(bad, key, VG_APIKEY_STRLEN);
	bad[5] = bad[5] == '0' ? '1' : '0';
	is_int(vg_principal_authenticate(v, bad, &p), VG_EBADKEY,
	    "an unknown key id is VG_EBADKEY");
	{
		static const char *const malformed[] = {
			"", "vk_", "vk_0011223344556677",
			"xk_0011223344556677_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"aaaaaaaaaaaaaaaaaaaa",
			"vk_0011223344556677_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"aaaaaaaaaaaaaaaaaaa",
			"vk_0011223344556677_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"aaaaaaaaaaaaaaaaaaaaa",
			"vk_00112233445566G7_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"aaaaaaaaaaaaaaaaaaaa",
			"vk_0011223344556677_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"aaaaaaaaaaaaaaaaaaa1",
		};
		size_t i;

		for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
			is_int(vg_principal_authenticate(v, malformed[i], &p),
			    VG_EBADKEY, "malformed key %zu is VG_EBADKEY", i);
		is_int(vg_principal_authenticate(v, NULL, &p), VG_EBADKEY,
		    "a NULL key is VG_EBADKEY");
		memcpy(bad, key, VG_APIKEY_STRLEN);
		bad[30] = 'A';
		is_int(vg_principal_authenticate(v, bad, &p), VG_EBADKEY,
		    "an upper-case secret is VG_EBADKEY");
	}

	/* --- suspend, reinstate, revoke --------------------------------- */
	is_int(vg_principal_set_state(v, "alice", "suspended"), 0, "suspend");
	is_int(vg_principal_authenticate(v, key, &p), VG_EBADKEY,
	    "a suspended principal's key is VG_EBADKEY");
	is_int(vg_principal_set_state(v, "alice", "active"), 0, "reinstate");
	is_int(vg_principal_authenticate(v, key, &p), 0,
	    "a reinstated principal's key works again");
	is_int(vg_principal_set_state(v, "alice", "gone"), VG_EINVAL,
	    "an unknown state is VG_EINVAL");
	is_int(vg_principal_set_state(v, "nobody", "suspended"), VG_ENOTFOUND,
	    "suspending an unknown principal is VG_ENOTFOUND");
	memcpy(kid, key + 3, VG_APIKEY_IDLEN);
	kid[VG_APIKEY_IDLEN] = '\0';
	memset(&p, 0, sizeof(p));
	is_int(vg_principal_revoke_key(v, kid, &p), 0, "revoke the key");
	is_str(p.id, "alice", "revoke names the key's principal");
	is_int(vg_principal_authenticate(v, key, &p), VG_EBADKEY,
	    "a revoked key is VG_EBADKEY");
	is_int(vg_principal_authenticate(v, key2, &p), 0,
	    "the other principal's key still works");
	is_int(vg_principal_revoke_key(v, "0011223344556677", NULL),
	    VG_ENOTFOUND, "revoking an unknown key is VG_ENOTFOUND");
	is_int(vg_principal_revoke_key(v, "xyz", NULL), VG_EINVAL,
	    "revoking a malformed key id is VG_EINVAL");

	/* --- the secret is never stored --------------------------------- */
	vg_vault_close(v);
	v = NULL;
	scan_needle = key + 20;
	scan_found = scan_files = 0;
	nftw(dir, scan_one, 16, FTW_PHYS);
	ok(scan_files > 0 && scan_found == 0,
	    "no vault file holds the first secret (%d files)", scan_files);
	scan_needle = key2 + 20;
	scan_found = 0;
	nftw(dir, scan_one, 16, FTW_PHYS);
	is_int(scan_found, 0, "no vault file holds the second secret");
	snprintf(dbpath, sizeof(dbpath), "%s/vigil.db", dir);
	ok(!file_has(dbpath, key2 + 20) && !file_has(dbpath, key2),
	    "vigil.db holds neither the secret nor the whole key");
	rc = vg_vault_open(dir, &v, err, sizeof(err));
	ok(rc == 0 && vg_principal_authenticate(v, key2, &p) == 0,
	    "the key still authenticates after reopening");
	vg_vault_close(v);

	sodium_free(key);
	sodium_free(key2);
	sodium_free(bad);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
