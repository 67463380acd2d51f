/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Honeytoken records: planting synthetic customers among the real ones,
 * and the sealed file that alone says which they are.  The contract is
 * in include/vigil/honey.h; the file format and the reasoning in
 * docs/internals/honey.md.
 *
 * Placing.  customers is a rowid table and rows are appended, so a
 * record added last would stand out by its position and by a creation
 * time later than its neighbours'.  A plant therefore draws the final
 * places of the honey records as a uniformly random subset of the
 * places after the plant, and renumbers the rows: the result is the
 * table an import would have written had the honey records been in its
 * input at those places.  Each honey record takes a creation time
 * between those of its two neighbours and the key epoch and set of
 * fields of one of them, so times and epochs stay monotone and local as
 * they were.
 *
 * The renumbering runs in two moves through negative rowids, which no
 * customer uses: every row goes to its final rowid minus 2^62 (the honey
 * records are put there too), then every negative row moves up by 2^62
 * in ascending order.  The second move appends rows in their final
 * order, so pages fill as an import fills them, and a honey record never
 * splits a page in the middle of the table.
 *
 * The honey set.  DIR/honey.set is "VGHS", a version byte, three zero
 * bytes, then XChaCha20-Poly1305 of [count: 8 bytes big-endian][ids,
 * 16 bytes each, sorted] with a random nonce, under the vault's honey-set
 * key (vg_derive(master, "vigil:honey-set")), the header and the vault
 * id as associated data.  It is replaced atomically (temporary file,
 * fsync, rename, directory fsync), mode 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "vigil/gen.h"
#include "vigil/honey.h"
#include "vigil/vault.h"
#include "audit_int.h"
#include "fileio.h"
#include "store.h"
#include "vault_int.h"

#define SET_MAGIC "VGHS"
#define SET_VERSION 1
#define SET_HDR 8			/* magic, version, 3 zero bytes */
#define SET_AD (SET_HDR + 32)		/* header and vault id (hex) */
#define SET_MIN (SET_HDR + VG_NONCEBYTES + 8 + VG_TAGBYTES)
#define SET_MAX (SET_MIN + (size_t)VG_HONEY_MAX * VG_IDBYTES)

/* Rows are moved through [-2^62, 0) while a plant renumbers them; real
 * rowids must stay below SEQ_LIMIT for that to be free. */
#define SEQ_SHIFT (INT64_C(1) << 62)
#define SEQ_LIMIT (INT64_C(1) << 61)

/* Generated customers tried per honey record before giving up: each
 * one that shares an indexed value with a customer is drawn again. */
#define MAX_DRAWS 64

_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ==
    VG_NONCEBYTES, "nonce size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == VG_TAGBYTES,
    "tag size");

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, VG_IDBYTES);
}

/* A uniform draw from [0, n), n > 0, from the system's random source. */
static uint64_t
uniform(uint64_t n)
{
	uint64_t x, lim;

	if (n <= UINT32_MAX)
		return randombytes_uniform((uint32_t)n);
	lim = UINT64_MAX - UINT64_MAX % n;
	do
		randombytes_buf(&x, sizeof(x));
	while (x >= lim);
	return x % n;
}

static int
set_path(char *out, size_t cap, const char *dir, const char *suffix)
{
	if ((size_t)snprintf(out, cap, "%s/%s%s", dir, VG_HONEY_SET, suffix) >=
	    cap)
		return VG_ETOOBIG;
	return 0;
}

/* The associated data: the file's header and the vault id, so that a set
 * copied from another vault sharing the master key does not open. */
static int
set_ad(struct vg_vault *v, unsigned char ad[SET_AD])
{
	char id[33];
	int rc;

	if ((rc = vg_vault_id(v, id)) != 0)
		return rc;
	memset(ad, 0, SET_HDR);
	memcpy(ad, SET_MAGIC, 4);
	ad[4] = SET_VERSION;
	memcpy(ad + SET_HDR, id, 32);
	return 0;
}

/*-----------------------------------------------------------------------------
 * Reading and writing honey.set
 */

/*
 * Reads and opens dir/honey.set.  *ids gets every id it lists (guarded
 * memory; NULL when there are none or no file), *n their number.
 * Returns 0 or an error with the reason in err.
 */
static int
set_read(struct vg_vault *v, const char *dir, unsigned char (**ids)[VG_IDBYTES],
    size_t *n, char *err, size_t errcap)
{
	unsigned char ad[SET_AD];
	unsigned char *buf = NULL, *key = NULL, *pt = NULL;
	char path[PATH_MAX];
	struct stat sb;
	size_t len, got = 0, ptlen;
	uint64_t count;
	int fd = -1, rc;

	*ids = NULL;
	*n = 0;
	if ((rc = set_path(path, sizeof(path), dir, "")) != 0) {
		vg__seterr(err, errcap, "vault path too long");
		return rc;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		vg__seterr(err, errcap, "cannot open '%s': %s", path,
		    strerror(errno));
		return VG_EIO;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		vg__seterr(err, errcap, "'%s' is not a regular file", path);
		rc = VG_EFORMAT;
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		vg__seterr(err, errcap, "'%s' has mode %04o; it must not be "
		    "readable by group or others (chmod 600)", path,
		    (unsigned)(sb.st_mode & 07777));
		rc = VG_EINVAL;
		goto out;
	}
	if (sb.st_size < (off_t)SET_MIN || sb.st_size > (off_t)SET_MAX) {
		vg__seterr(err, errcap, "'%s' is damaged (%lld bytes is not a "
		    "honey set's size)", path, (long long)sb.st_size);
		rc = VG_EFORMAT;
		goto out;
	}
	len = (size_t)sb.st_size;
	buf = malloc(len);
	if (buf == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			vg__seterr(err, errcap, "cannot read '%s'", path);
			rc = VG_EIO;
			goto out;
		}
		got += (size_t)r;
	}
	if (memcmp(buf, SET_MAGIC, 4) != 0) {
		vg__seterr(err, errcap, "'%s' is not a honey set (bad magic)",
		    path);
		rc = VG_EFORMAT;
		goto out;
	}
	if (buf[4] != SET_VERSION || buf[5] != 0 || buf[6] != 0 ||
	    buf[7] != 0) {
		vg__seterr(err, errcap, "'%s' has format version %u; this "
		    "vigil reads version %u", path, buf[4], SET_VERSION);
		rc = VG_EFORMAT;
		goto out;
	}
	if ((len - SET_MIN) % VG_IDBYTES != 0) {
		vg__seterr(err, errcap, "'%s' is damaged (truncated)", path);
		rc = VG_EFORMAT;
		goto out;
	}
	if ((rc = set_ad(v, ad)) != 0) {
		vg__seterr(err, errcap, "vault has no id: %s", vg_strerror(rc));
		goto out;
	}
	ptlen = len - SET_HDR - VG_NONCEBYTES - VG_TAGBYTES;
	key = vg_secret_new(VG_KEYBYTES);
	pt = vg_secret_new(ptlen);
	if (key == NULL || pt == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	vg__vault_honey_key(v, key);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL,
	    buf + SET_HDR + VG_NONCEBYTES, len - SET_HDR - VG_NONCEBYTES,
	    ad, sizeof(ad), buf + SET_HDR, key) != 0) {
		vg__seterr(err, errcap, "'%s' does not open under this vault's "
		    "master key: it is damaged or belongs to another vault",
		    path);
		rc = VG_ECRYPTO;
		goto out;
	}
	count = vg__get64(pt);
	if (count != (ptlen - 8) / VG_IDBYTES) {
		vg__seterr(err, errcap, "'%s' is damaged (count does not match "
		    "its length)", path);
		rc = VG_EFORMAT;
		goto out;
	}
	if (count > 0) {
		size_t i;

		*ids = (unsigned char (*)[VG_IDBYTES])vg_secret_new(
		    (size_t)count * VG_IDBYTES);
		if (*ids == NULL) {
			rc = VG_ENOMEM;
			goto out;
		}
		memcpy(*ids, pt + 8, (size_t)count * VG_IDBYTES);
		/* Sorted and unique, as written: anything else is not ours. */
		for (i = 1; i < count; i++) {
			if (memcmp((*ids)[i - 1], (*ids)[i], VG_IDBYTES) >= 0) {
				vg__seterr(err, errcap, "'%s' is damaged (ids "
				    "out of order)", path);
				vg_secret_free((unsigned char *)*ids);
				*ids = NULL;
				rc = VG_EFORMAT;
				goto out;
			}
		}
	}
	*n = (size_t)count;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	vg_secret_free(key);
	vg_secret_free(pt);
	return rc;
}

/* Writes ids[0..n) (sorted) as dir/honey.set, atomically and durably. */
static int
set_write(struct vg_vault *v, const char *dir,
    const unsigned char (*ids)[VG_IDBYTES], size_t n, char *err,
    size_t errcap)
{
	unsigned char ad[SET_AD];
	unsigned char *out = NULL, *key = NULL, *pt = NULL;
	char path[PATH_MAX], tmp[PATH_MAX];
	size_t ptlen = 8 + n * VG_IDBYTES;
	size_t len = SET_HDR + VG_NONCEBYTES + ptlen + VG_TAGBYTES;
	int fd = -1, rc;

	if (set_path(path, sizeof(path), dir, "") != 0 ||
	    set_path(tmp, sizeof(tmp), dir, ".tmp") != 0) {
		vg__seterr(err, errcap, "vault path too long");
		return VG_ETOOBIG;
	}
	if ((rc = set_ad(v, ad)) != 0) {
		vg__seterr(err, errcap, "vault has no id: %s", vg_strerror(rc));
		return rc;
	}
	out = malloc(len);
	key = vg_secret_new(VG_KEYBYTES);
	pt = vg_secret_new(ptlen);
	if (out == NULL || key == NULL || pt == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	vg__put64(pt, n);
	if (n > 0)
		memcpy(pt + 8, ids, n * VG_IDBYTES);
	memcpy(out, ad, SET_HDR);
	randombytes_buf(out + SET_HDR, VG_NONCEBYTES);
	vg__vault_honey_key(v, key);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + SET_HDR +
	    VG_NONCEBYTES, NULL, pt, ptlen, ad, sizeof(ad), NULL,
	    out + SET_HDR, key);

	/* A temporary file left by a crash is ours to replace; O_EXCL after
	 * the unlink so that nothing else is written through. */
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		vg__seterr(err, errcap, "cannot create '%s': %s", tmp,
		    strerror(errno));
		rc = VG_EIO;
		goto out;
	}
	rc = vg__write_all(fd, out, len);
	if (rc == 0 && (fchmod(fd, 0600) != 0 || fsync(fd) != 0))
		rc = VG_EIO;
	if (close(fd) != 0 && rc == 0)
		rc = VG_EIO;
	fd = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = VG_EIO;
	if (rc == 0)
		rc = vg__dir_sync(dir);
	if (rc != 0) {
		vg__seterr(err, errcap, "cannot write '%s': %s", path,
		    strerror(errno));
		(void)unlink(tmp);
	}
out:
	free(out);
	vg_secret_free(key);
	vg_secret_free(pt);
	return rc;
}

/* Drops from ids[0..*n) every id that names no customer of v (a plant
 * rolled back after its set was written), keeping the order. */
static int
keep_present(struct vg_vault *v, unsigned char (*ids)[VG_IDBYTES], size_t *n)
{
	struct vg_store *s = vg__vault_store(v);
	unsigned char *buf;
	struct vg_srec r;
	size_t i, k = 0;
	int rc = 0;

	if (*n == 0)
		return 0;
	buf = malloc(VG_BLOB_MAX);
	if (buf == NULL)
		return VG_ENOMEM;
	for (i = 0; i < *n; i++) {
		rc = s->ops->customer_get(s, ids[i], &r, buf, VG_BLOB_MAX);
		if (rc == VG_ENOTFOUND)
			continue;
		if (rc != 0)
			break;
		if (k != i)
			memcpy(ids[k], ids[i], VG_IDBYTES);
		k++;
	}
	sodium_memzero(buf, VG_BLOB_MAX);
	free(buf);
	if (rc == VG_ENOTFOUND)
		rc = 0;
	if (rc == 0) {
		if (k < *n)
			sodium_memzero(ids[k], (*n - k) * VG_IDBYTES);
		*n = k;
	}
	return rc;
}

int
vg_honey_load(struct vg_vault *v, const char *vault_dir,
    unsigned char (**ids)[VG_IDBYTES], size_t *n, char *err, size_t errcap)
{
	int rc;

	rc = set_read(v, vault_dir, ids, n, err, errcap);
	if (rc == 0)
		rc = keep_present(v, *ids, n);
	if (rc == 0 && *n == 0) {
		vg_honey_free(*ids);
		*ids = NULL;
	}
	if (rc != 0) {
		vg_honey_free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return rc;
}

int
vg_honey_adopt(struct vg_vault *v, const char *vault_dir,
    const unsigned char (*add)[VG_IDBYTES], size_t n, char *err,
    size_t errcap)
{
	unsigned char (*ids)[VG_IDBYTES] = NULL, (*all)[VG_IDBYTES];
	size_t have = 0, k, i;
	int rc;

	if (n == 0 || n > VG_HONEY_MAX) {
		snprintf(err, errcap, "between 1 and %d records", VG_HONEY_MAX);
		return VG_EINVAL;
	}
	rc = set_read(v, vault_dir, &ids, &have, err, errcap);
	if (rc != 0)
		return rc;
	if (have + n > VG_HONEY_MAX) {
		vg_honey_free(ids);
		snprintf(err, errcap, "more than %d honey records", VG_HONEY_MAX);
		return VG_ETOOBIG;
	}
	all = sodium_malloc((have + n) * VG_IDBYTES);
	if (all == NULL) {
		vg_honey_free(ids);
		return VG_ENOMEM;
	}
	if (have > 0)
		memcpy(all, ids, have * VG_IDBYTES);
	memcpy(all + have, add, n * VG_IDBYTES);
	vg_honey_free(ids);
	k = have + n;
	/* Every adopted id must be a stored customer. */
	i = k;
	rc = keep_present(v, all + have, &n);
	if (rc == 0 && have + n != i) {
		snprintf(err, errcap, "%zu of the records are not in the vault",
		    i - have - n);
		rc = VG_ENOTFOUND;
	}
	if (rc == 0) {
		qsort(all, k, VG_IDBYTES, id_cmp);
		for (i = 1, n = 1; i < k; i++)
			if (memcmp(all[i], all[n - 1], VG_IDBYTES) != 0)
				memcpy(all[n++], all[i], VG_IDBYTES);
		rc = set_write(v, vault_dir, (const unsigned char (*)
		    [VG_IDBYTES])all, n, err, errcap);
	}
	sodium_memzero(all, k * VG_IDBYTES);
	sodium_free(all);
	return rc;
}

void
vg_honey_free(unsigned char (*ids)[VG_IDBYTES])
{
	vg_secret_free((unsigned char *)ids);
}

bool
vg_honey_contains(const unsigned char (*ids)[VG_IDBYTES], size_t n,
    const unsigned char id[VG_IDBYTES])
{
	if (ids == NULL || n == 0)
		return false;
	return bsearch(id, ids, n, VG_IDBYTES, id_cmp) != NULL;
}

/*-----------------------------------------------------------------------------
 * Planting
 */

/* A customer next to a honey place, by its rank in storage order. */
struct nb {
	uint64_t rank;
	int64_t seq;
	int64_t created;
	uint32_t epoch;
	uint32_t present;		/* schema fields held */
};

struct walk_ctx {
	const struct vg_vault *v;
	struct nb *need;		/* sorted by rank, unique */
	size_t nneed, next;
	uint64_t rank;			/* rows seen */
	int64_t last;			/* previous seq */
};

static int
walk_one(void *ctx, int64_t seq, const struct vg_srec *r)
{
	struct walk_ctx *w = ctx;

	/* The renumbering borrows the negative rowids and 2^62 above. */
	if (seq <= 0 || seq >= SEQ_LIMIT || seq <= w->last)
		return VG_EFORMAT;
	w->last = seq;
	if (w->next < w->nneed && w->need[w->next].rank == w->rank) {
		struct nb *b = &w->need[w->next++];

		b->seq = seq;
		b->created = r->created;
		b->epoch = r->epoch;
		b->present = vg__vault_presence(w->v, r);
		if (b->present == 0)
			return VG_EFORMAT;
	}
	w->rank++;
	return 0;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
nb_cmp(const void *a, const void *b)
{
	return u64_cmp(&((const struct nb *)a)->rank,
	    &((const struct nb *)b)->rank);
}

static struct nb *
nb_find(struct nb *need, size_t n, uint64_t rank)
{
	struct nb key;

	key.rank = rank;
	return bsearch(&key, need, n, sizeof(*need), nb_cmp);
}

/*
 * Draws count distinct places, sorted, from [0, total): draws with
 * replacement and draws again for duplicates, which leaves every subset
 * of that size equally likely.
 */
static void
draw_places(uint64_t *out, size_t count, uint64_t total)
{
	size_t have = 0, i, k;

	while (have < count) {
		for (i = have; i < count; i++)
			out[i] = uniform(total);
		qsort(out, count, sizeof(*out), u64_cmp);
		for (i = 0, k = 0; i < count; i++)
			if (k == 0 || out[i] != out[k - 1])
				out[k++] = out[i];
		have = k;
	}
}

/* The generator's fields, by the schema names of the default schema. */
static const char *
gen_value(const struct vg_gen_customer *c, const char *name)
{
	if (strcmp(name, "name") == 0)
		return c->name;
	if (strcmp(name, "phone") == 0)
		return c->phone;
	if (strcmp(name, "email") == 0)
		return c->email;
	if (strcmp(name, "account_id") == 0)
		return c->account_id;
	if (strcmp(name, "address") == 0)
		return c->address;
	if (strcmp(name, "region") == 0)
		return c->region;
	return NULL;
}

/*
 * Fills in with the fields of c that present names; returns 1 when one of
 * its indexed values already belongs to a customer (the honey record
 * would then share a phone or an e-mail address with someone, which no
 * two customers of one generator seed do), 0 when none does, or an
 * error.
 */
static int
make_input(struct vg_vault *v, const struct vg_gen_customer *c,
    uint32_t present, struct vg_input *in)
{
	const struct vg_schema *sc = vg_vault_schema(v);
	unsigned char hit[1][VG_IDBYTES];
	size_t i, nhit;
	int rc;

	memset(in, 0, sizeof(*in));
	for (i = 0; i < sc->nfields; i++) {
		if (!(present & (UINT32_C(1) << i)))
			continue;
		in->value[i] = gen_value(c, sc->field[i].name);
		in->len[i] = strlen(in->value[i]);
	}
	for (i = 0; i < sc->nfields; i++) {
		if (!sc->field[i].indexed || in->value[i] == NULL)
			continue;
		rc = vg_vault_lookup(v, (int)i, in->value[i], in->len[i], hit, 1,
		    &nhit, NULL);
		sodium_memzero(hit, sizeof(hit));
		if (rc == 0 || rc == VG_EINVAL)
			return 1;
		if (rc != VG_ENOTFOUND)
			return rc;
	}
	return 0;
}

struct plant {
	struct vg_vault *v;
	size_t count;
	uint64_t total;			/* customers before the plant */
	uint64_t *place;		/* count final ranks, sorted */
	struct nb *need;
	size_t nneed;
	int64_t *created;		/* per honey record */
	struct nb **donor;		/* neighbour giving epoch and fields */
	unsigned char (*ids)[VG_IDBYTES];	/* old live set + new */
	size_t nids;
};

/* The neighbours of honey record i: the customers just before and just
 * after its place, either NULL at an end of the table. */
static void
neighbours(struct plant *p, size_t i, struct nb **prev, struct nb **next)
{
	uint64_t before = p->place[i] - i;

	*prev = before > 0 ? nb_find(p->need, p->nneed, before - 1) : NULL;
	*next = before < p->total ? nb_find(p->need, p->nneed, before) : NULL;
}

static int
i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Draws each honey record's creation time, uniform between its
 * neighbours', and the neighbour whose key epoch and set of fields it
 * takes, a fair coin each.  Records that share a gap get their times in
 * ascending order and the earlier neighbour first, so that times and
 * epochs along the rowids never go down where they did not before.
 */
static int
shape(struct plant *p)
{
	size_t i, j, k, m;

	p->created = calloc(p->count, sizeof(*p->created));
	p->donor = calloc(p->count, sizeof(*p->donor));
	if (p->created == NULL || p->donor == NULL)
		return VG_ENOMEM;
	for (i = 0; i < p->count; i = j) {
		struct nb *prev, *next;
		int64_t lo, hi;

		neighbours(p, i, &prev, &next);
		if (prev == NULL && next == NULL)
			return VG_EFORMAT;	/* an empty table was refused */
		for (j = i + 1; j < p->count &&
		    p->place[j] - j == p->place[i] - i; j++)
			;
		lo = prev != NULL ? prev->created : next->created;
		hi = next != NULL ? next->created : prev->created;
		if (lo > hi) {
			int64_t t = lo;

			lo = hi;
			hi = t;
		}
		for (k = i, m = 0; k < j; k++) {
			p->created[k] = lo + (int64_t)uniform((uint64_t)(hi -
			    lo) + 1);
			m += randombytes_uniform(2);
		}
		qsort(p->created + i, j - i, sizeof(*p->created), i64_cmp);
		for (k = i; k < j; k++) {
			if (prev == NULL || next == NULL)
				p->donor[k] = prev != NULL ? prev : next;
			else
				p->donor[k] = k - i < m ? prev : next;
		}
	}
	return 0;
}

/* Generates, seals and stores every honey record at its final rowid less
 * SEQ_SHIFT; appends the new ids to p->ids. */
static int
put_honey(struct plant *p, uint64_t seed, char *err, size_t errcap)
{
	struct vg_gen *g = NULL;
	struct vg_batch *b = NULL;
	struct vg_gen_customer *c = NULL;
	struct vg_input in;
	struct vg_reject rej;
	size_t i;
	int rc = 0;

	g = vg_gen_new(seed);
	b = vg_batch_new(1);
	c = malloc(sizeof(*c));
	if (g == NULL || b == NULL || c == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	for (i = 0; i < p->count; i++) {
		struct nb *prev, *next, *donor = p->donor[i];
		int64_t seq;
		int draw;

		neighbours(p, i, &prev, &next);
		/* Just before its next neighbour, which moves up by one more;
		 * after the last customer, behind the honey before it. */
		seq = next != NULL ? next->seq + (int64_t)i :
		    prev->seq + (int64_t)i + 1;
		for (draw = 0; draw < MAX_DRAWS; draw++) {
			vg_gen_next(g, c);
			rc = make_input(p->v, c, donor->present, &in);
			if (rc == 1)
				continue;
			if (rc != 0)
				goto out;
			rc = vg__vault_prepare_as(p->v, &in, donor->epoch,
			    p->created[i], b, &rej);
			if (rc == VG_EINVAL) {
				vg_batch_reset(b);
				continue;	/* the schema refuses this one */
			}
			break;
		}
		sodium_memzero(c, sizeof(*c));
		if (draw == MAX_DRAWS) {
			vg__seterr(err, errcap, "generated customers keep "
			    "sharing values with customers of this vault; "
			    "plant with another seed");
			rc = VG_EEXIST;
			goto out;
		}
		if (rc == VG_ECRYPTO) {
			vg__seterr(err, errcap, "customers are sealed under key "
			    "epoch %u, which has no key here (retired or "
			    "unknown)", (unsigned)donor->epoch);
			goto out;
		}
		if (rc == 0)
			rc = vg__vault_put_at(p->v, b, 0, seq - SEQ_SHIFT);
		if (rc != 0)
			goto out;
		memcpy(p->ids[p->nids++], vg_batch_id(b, 0), VG_IDBYTES);
		vg_batch_reset(b);
	}
out:
	if (c != NULL)
		sodium_memzero(c, sizeof(*c));
	free(c);
	vg_batch_free(b);
	vg_gen_free(g);
	return rc;
}

/*
 * Moves every real customer to its final rowid, by way of the negative
 * ones, then every negative row (these and the honey records) up in
 * ascending order.  Customers after the places of honey records 0..i
 * move up by i + 1.
 */
static int
renumber(struct plant *p)
{
	struct vg_store *s = vg__vault_store(p->v);
	struct nb *prev, *next;
	size_t i, j;
	int rc;

	/* The customers before the first honey place move too, without
	 * shift: the whole table is then rebuilt in order, and no page at
	 * its start keeps the fill that the churn around it leaves. */
	neighbours(p, 0, &prev, &next);
	if (prev != NULL && (rc = s->ops->customer_move(s, 1, prev->seq,
	    -SEQ_SHIFT)) != 0)
		return rc;
	for (i = 0; i < p->count; i = j) {
		struct nb *nprev, *nnext;
		int64_t hi = SEQ_LIMIT;

		neighbours(p, i, &prev, &next);
		if (next == NULL)
			break;		/* honey at the end: nothing after */
		/* Honey records i..j-1 share this gap. */
		for (j = i + 1; j < p->count &&
		    p->place[j] - j == p->place[i] - i; j++)
			;
		if (j < p->count) {
			neighbours(p, j, &nprev, &nnext);
			hi = nprev->seq;
		}
		rc = s->ops->customer_move(s, next->seq, hi,
		    (int64_t)j - SEQ_SHIFT);
		if (rc != 0)
			return rc;
	}
	return s->ops->customer_move(s, INT64_MIN, -1, SEQ_SHIFT);
}

/* The plan: places for the honey records and their neighbours' rows. */
static int
plan(struct plant *p)
{
	struct vg_store *s = vg__vault_store(p->v);
	struct walk_ctx w;
	uint64_t *ranks;
	size_t i, k;
	int rc;

	p->place = calloc(p->count, sizeof(*p->place));
	ranks = calloc(2 * p->count, sizeof(*ranks));
	if (p->place == NULL || ranks == NULL) {
		free(ranks);
		return VG_ENOMEM;
	}
	draw_places(p->place, p->count, p->total + p->count);
	for (i = 0, k = 0; i < p->count; i++) {
		uint64_t before = p->place[i] - i;

		if (before > 0)
			ranks[k++] = before - 1;
		if (before < p->total)
			ranks[k++] = before;
	}
	qsort(ranks, k, sizeof(*ranks), u64_cmp);
	p->need = calloc(k > 0 ? k : 1, sizeof(*p->need));
	if (p->need == NULL) {
		free(ranks);
		return VG_ENOMEM;
	}
	for (i = 0, p->nneed = 0; i < k; i++)
		if (p->nneed == 0 || p->need[p->nneed - 1].rank != ranks[i])
			p->need[p->nneed++].rank = ranks[i];
	free(ranks);
	memset(&w, 0, sizeof(w));
	w.v = p->v;
	w.need = p->need;
	w.nneed = p->nneed;
	rc = s->ops->customer_walk(s, walk_one, &w);
	if (rc == 0 && (w.rank != p->total || w.next != p->nneed))
		rc = VG_EBUSY;		/* the table moved under us */
	return rc;
}

/* Refuses a schema with a field the generator cannot fill: a honey
 * record without a value every real record has would stand out. */
static int
schema_ok(struct vg_vault *v, char *err, size_t errcap)
{
	const struct vg_schema *sc = vg_vault_schema(v);
	struct vg_gen_customer c;
	size_t i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < sc->nfields; i++) {
		if (gen_value(&c, sc->field[i].name) == NULL) {
			vg__seterr(err, errcap, "field '%s' of this vault's "
			    "schema has no synthetic counterpart, so honey "
			    "records would stand out", sc->field[i].name);
			return VG_EINVAL;
		}
	}
	return 0;
}

static int
plant_txn(struct plant *p, const char *dir, uint64_t seed, char *err,
    size_t errcap)
{
	struct vg_store *s = vg__vault_store(p->v);
	struct vg_store_counts cnt;
	unsigned char (*old)[VG_IDBYTES] = NULL;
	size_t nold = 0;
	uint64_t real;
	int rc;

	/* Read inside the write transaction: two plants must not both add
	 * to the same old set and lose one's ids. */
	rc = set_read(p->v, dir, &old, &nold, err, errcap);
	if (rc == 0)
		rc = keep_present(p->v, old, &nold);
	if (rc != 0)
		goto out;
	if ((rc = s->ops->counts(s, &cnt)) != 0) {
		vg__seterr(err, errcap, "cannot count customers: %s",
		    vg_strerror(rc));
		goto out;
	}
	p->total = cnt.customers;
	real = p->total - nold;
	if (real == 0) {
		vg__seterr(err, errcap, "the vault has no customers: honey "
		    "records need real ones to hide among (import first)");
		rc = VG_EINVAL;
		goto out;
	}
	if (nold + p->count > VG_HONEY_MAX) {
		vg__seterr(err, errcap, "at most %d honey records per vault",
		    VG_HONEY_MAX);
		rc = VG_ETOOBIG;
		goto out;
	}
	if (nold + p->count > real) {
		vg__seterr(err, errcap, "%zu honey records (with %zu planted "
		    "before) would outnumber the %llu real customers they hide "
		    "among", p->count, nold, (unsigned long long)real);
		rc = VG_EINVAL;
		goto out;
	}
	p->ids = (unsigned char (*)[VG_IDBYTES])vg_secret_new(
	    (nold + p->count) * VG_IDBYTES);
	if (p->ids == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	if (nold > 0)
		memcpy(p->ids, old, nold * VG_IDBYTES);
	p->nids = nold;
	if ((rc = plan(p)) != 0) {
		vg__seterr(err, errcap, "cannot read the customers' order: %s",
		    vg_strerror(rc));
		goto out;
	}
	if ((rc = shape(p)) != 0 ||
	    (rc = put_honey(p, seed, err, errcap)) != 0) {
		if (err != NULL && err[0] == '\0')
			vg__seterr(err, errcap, "cannot store honey records: "
			    "%s", vg_strerror(rc));
		goto out;
	}
	if ((rc = renumber(p)) != 0) {
		vg__seterr(err, errcap, "cannot place honey records: %s",
		    vg_strerror(rc));
		goto out;
	}
	qsort(p->ids, p->nids, VG_IDBYTES, id_cmp);
	rc = set_write(p->v, dir, (const unsigned char (*)[VG_IDBYTES])p->ids,
	    p->nids, err, errcap);
out:
	vg_honey_free(old);
	return rc;
}

int
vg_honey_plant(struct vg_vault *v, const char *vault_dir, size_t count,
    uint64_t seed, size_t *planted, char *err, size_t errcap)
{
	struct plant p;
	bool own = !vg__vault_in_txn(v);
	int rc;

	*planted = 0;
	if (err != NULL && errcap > 0)
		err[0] = '\0';
	if (count == 0) {
		vg__seterr(err, errcap, "plant at least one honey record");
		return VG_EINVAL;
	}
	if (count > VG_HONEY_MAX) {
		vg__seterr(err, errcap, "at most %d honey records per vault",
		    VG_HONEY_MAX);
		return VG_ETOOBIG;
	}
	if ((rc = schema_ok(v, err, errcap)) != 0)
		return rc;
	/* With no seed given, one nobody knows: a known seed regenerates
	 * every honey record. */
	while (seed == 0)
		randombytes_buf(&seed, sizeof(seed));
	memset(&p, 0, sizeof(p));
	p.v = v;
	p.count = count;
	if (own && (rc = vg_vault_begin(v)) != 0) {
		vg__seterr(err, errcap, "cannot start a transaction: %s",
		    vg_strerror(rc));
		return rc;
	}
	rc = plant_txn(&p, vault_dir, seed, err, errcap);
	sodium_memzero(&seed, sizeof(seed));
	if (own) {
		if (rc == 0 && (rc = vg_vault_commit(v)) != 0)
			vg__seterr(err, errcap, "commit failed: %s",
			    vg_strerror(rc));
		else if (rc != 0)
			vg_vault_rollback(v);
		/* Best effort: a busy log is checkpointed by SQLite later. */
		if (rc == 0)
			(void)vg_vault_checkpoint(v);
	}
	if (rc == 0)
		*planted = count;
	vg_honey_free(p.ids);
	free(p.place);
	free(p.need);
	free(p.created);
	free(p.donor);
	return rc;
}
