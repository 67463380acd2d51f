/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reveal quotas (include/vigil/quota.h): per principal, the reveals,
 * distinct customers, break-glass reveals and cases handled inside five
 * sliding windows at once, kept incrementally so that a decision costs
 * O(windows) amortised, whatever the number of events.  The data
 * structures, their cost and the fold rules are in
 * docs/internals/quota.md.
 *
 * In short: a principal keeps its reveals of the last 30 days in a ring
 * of (time, customer key), oldest first, and for each window the index
 * of the first event inside it.  Advancing to a new time moves each
 * window's index past the events that left it, adjusting the window's
 * counts as they go.  Distinct customers come from one open-addressing
 * map per principal, customer key -> index of that customer's latest
 * reveal: a customer is inside window w exactly when its latest reveal
 * is, so the count of window w moves when a reveal makes a customer's
 * latest reveal enter w, and when the latest reveal of a customer
 * leaves w.  Break-glass reveals and cases handled are rings of times
 * with the same window indexes.
 *
 * Time only moves forward: each principal's clock is the latest time
 * any call gave it, and an older time (a thread that read the clock
 * before another one won the lock) is taken as that clock.  Expired
 * events are dropped, so nothing can be counted again.
 *
 * Principals are spread over 64 shards by a keyed SipHash of their id,
 * each shard a mutex and an open-addressing table of principals.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "vigil/quota.h"
#include "audit_int.h"		/* vg__audit_chain_name_ok */

#define NSHARDS		64
#define RING_MIN	8		/* entries of a ring, when not empty */
#define MAP_MIN		8		/* slots of a customer map */
#define TABLE_MIN	8		/* slots of a shard's table */
#define TIME_MAX	((int64_t)1 << 40)	/* unix seconds: year 36812 */
/* Rebuild folds this much more than the longest window, so that a wall
 * clock stepped back by up to an hour after a restart still counts
 * every reveal of the 30 days before it. */
#define REBUILD_MARGIN	3600
#define QUOTA_CHAINS_MAX	1024	/* chains merged by rebuild_all */

static const int64_t win_secs[VG_QW_COUNT] = {
	60, 3600, 86400, 7 * 86400, 30 * 86400
};
static const char *const win_names[VG_QW_COUNT] = {
	"minute", "hour", "day", "week", "month"
};

/* A reveal.  key 0: no customer was named. */
struct ev {
	int64_t t;
	uint64_t key;
};

/*
 * Reveals, oldest first.  Indexes are absolute (they only grow); entry
 * i is at e[i & (cap - 1)].  Invariant: start[MINUTE] >= start[HOUR]
 * >= ... >= start[MONTH] = the oldest entry kept; hi is one past the
 * newest; hi - start[MONTH] <= cap; cap is 0 or a power of two.
 */
struct rring {
	struct ev *e;
	uint32_t cap;
	uint64_t hi;
	uint64_t start[VG_QW_COUNT];
};

/* The same for bare times (break-glass reveals, cases handled). */
struct tring {
	int64_t *t;
	uint32_t cap;
	uint64_t hi;
	uint64_t start[VG_QW_COUNT];
};

/*
 * Customer key -> the index of its latest reveal (low 32 bits, read
 * relative to the oldest index kept: fewer than 2^32 events are ever
 * kept).  Linear probing; key 0 marks a free slot; n <= cap * 3 / 4;
 * a key is here exactly when one of its reveals is kept.
 */
struct cmap {
	uint64_t *keys;
	uint32_t *last;
	uint32_t cap, n;
};

struct qp {
	struct rring rv;
	struct cmap cm;
	uint32_t customers[VG_QW_COUNT];
	struct tring bg, cs;
	int64_t now;		/* the principal's clock */
	int64_t sat_until;	/* an event was dropped: saturated until */
	uint64_t hash;
	size_t len;
	char name[];
};

struct shard {
	pthread_mutex_t mu;
	struct qp **slot;	/* open addressing by hash */
	uint32_t cap, n;
	uint64_t bytes;		/* everything the shard allocated */
	char pad[64];		/* keeps hot locks off one cache line */
};

struct vg_quota {
	unsigned char pkey[crypto_shorthash_KEYBYTES];	/* principals */
	unsigned char ckey[crypto_shorthash_KEYBYTES];	/* customers */
	struct shard sh[NSHARDS];
};

/*-----------------------------------------------------------------------------
 * Windows
 */

int64_t
vg_qwin_seconds(int w)
{
	return w >= 0 && w < VG_QW_COUNT ? win_secs[w] : -1;
}

const char *
vg_qwin_name(int w)
{
	return w >= 0 && w < VG_QW_COUNT ? win_names[w] : NULL;
}

int
vg_qwin_from_name(const char *name)
{
	int w;

	if (name == NULL)
		return -1;
	for (w = 0; w < VG_QW_COUNT; w++)
		if (strcmp(name, win_names[w]) == 0)
			return w;
	return -1;
}

/*-----------------------------------------------------------------------------
 * Rings
 */

static uint32_t
rring_size(const struct rring *r)
{
	return (uint32_t)(r->hi - r->start[VG_QW_MONTH]);
}

static struct ev *
rring_at(const struct rring *r, uint64_t i)
{
	return &r->e[i & (r->cap - 1)];
}

/* Moves the kept entries to a ring of ncap (0 frees it). */
static int
rring_resize(struct shard *sh, struct rring *r, uint32_t ncap)
{
	struct ev *ne = NULL;
	uint64_t i;

	if (ncap > 0) {
		ne = malloc((size_t)ncap * sizeof(*ne));
		if (ne == NULL)
			return VG_ENOMEM;
		for (i = r->start[VG_QW_MONTH]; i < r->hi; i++)
			ne[i & (ncap - 1)] = *rring_at(r, i);
	}
	free(r->e);
	sh->bytes += (uint64_t)ncap * sizeof(*ne);
	sh->bytes -= (uint64_t)r->cap * sizeof(*ne);
	r->e = ne;
	r->cap = ncap;
	return 0;
}

static uint32_t
tring_size(const struct tring *r)
{
	return (uint32_t)(r->hi - r->start[VG_QW_MONTH]);
}

static int64_t
tring_at(const struct tring *r, uint64_t i)
{
	return r->t[i & (r->cap - 1)];
}

static int
tring_resize(struct shard *sh, struct tring *r, uint32_t ncap)
{
	int64_t *nt = NULL;
	uint64_t i;

	if (ncap > 0) {
		nt = malloc((size_t)ncap * sizeof(*nt));
		if (nt == NULL)
			return VG_ENOMEM;
		for (i = r->start[VG_QW_MONTH]; i < r->hi; i++)
			nt[i & (ncap - 1)] = tring_at(r, i);
	}
	free(r->t);
	sh->bytes += (uint64_t)ncap * sizeof(*nt);
	sh->bytes -= (uint64_t)r->cap * sizeof(*nt);
	r->t = nt;
	r->cap = ncap;
	return 0;
}

/* Room for one more entry. */
static int
tring_reserve(struct shard *sh, struct tring *r)
{
	if (tring_size(r) < r->cap)
		return 0;
	return tring_resize(sh, r, r->cap ? r->cap * 2 : RING_MIN);
}

/* A quarter full or less: halve (an empty ring is freed).  Failing to
 * shrink is harmless, so its error is dropped. */
static void
tring_trim(struct shard *sh, struct tring *r)
{
	uint32_t n = tring_size(r);

	if (r->cap == 0 || (n > 0 && (n > r->cap / 4 || r->cap <= RING_MIN)))
		return;
	(void)tring_resize(sh, r, n == 0 ? 0 : r->cap / 2);
}

static void
rring_trim(struct shard *sh, struct rring *r)
{
	uint32_t n = rring_size(r);

	if (r->cap == 0 || (n > 0 && (n > r->cap / 4 || r->cap <= RING_MIN)))
		return;
	(void)rring_resize(sh, r, n == 0 ? 0 : r->cap / 2);
}

/* Moves every window of r past the times that left it at now. */
static void
tring_expire(struct tring *r, int64_t now)
{
	int w;

	for (w = 0; w < VG_QW_COUNT; w++)
		while (r->start[w] < r->hi &&
		    tring_at(r, r->start[w]) <= now - win_secs[w])
			r->start[w]++;
}

/*-----------------------------------------------------------------------------
 * Customer map
 */

/* The slot of key, or of the free slot where it would go. */
static uint32_t
cmap_slot(const struct cmap *m, uint64_t key)
{
	uint32_t mask = m->cap - 1, i = (uint32_t)key & mask;

	while (m->keys[i] != 0 && m->keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

static int
cmap_resize(struct shard *sh, struct cmap *m, uint32_t ncap)
{
	struct cmap nm = { NULL, NULL, ncap, m->n };
	uint32_t i, j;

	if (ncap > 0) {
		nm.keys = calloc(ncap, sizeof(*nm.keys));
		nm.last = malloc((size_t)ncap * sizeof(*nm.last));
		if (nm.keys == NULL || nm.last == NULL) {
			free(nm.keys);
			free(nm.last);
			return VG_ENOMEM;
		}
		for (i = 0; i < m->cap; i++) {
			if (m->keys[i] == 0)
				continue;
			j = cmap_slot(&nm, m->keys[i]);
			nm.keys[j] = m->keys[i];
			nm.last[j] = m->last[i];
		}
	}
	free(m->keys);
	free(m->last);
	sh->bytes += (uint64_t)ncap * (sizeof(*m->keys) + sizeof(*m->last));
	sh->bytes -= (uint64_t)m->cap * (sizeof(*m->keys) +
	    sizeof(*m->last));
	*m = nm;
	return 0;
}

/* Room for one more key. */
static int
cmap_reserve(struct shard *sh, struct cmap *m)
{
	if ((uint64_t)(m->n + 1) * 4 <= (uint64_t)m->cap * 3)
		return 0;
	return cmap_resize(sh, m, m->cap ? m->cap * 2 : MAP_MIN);
}

static void
cmap_trim(struct shard *sh, struct cmap *m)
{
	if (m->cap == 0 || (m->n > 0 && (m->n > m->cap / 8 ||
	    m->cap <= MAP_MIN)))
		return;
	(void)cmap_resize(sh, m, m->n == 0 ? 0 : m->cap / 2);
}

/* Deletes slot i, shifting later members of its run back (no
 * tombstones, so lookups never slow down). */
static void
cmap_delete(struct cmap *m, uint32_t i)
{
	uint32_t mask = m->cap - 1, j = i, home;

	for (;;) {
		j = (j + 1) & mask;
		if (m->keys[j] == 0)
			break;
		home = (uint32_t)m->keys[j] & mask;
		/* Move j into the hole at i unless its home lies
		 * cyclically in (i, j]. */
		if (i <= j ? (home <= i || home > j) :
		    (home <= i && home > j)) {
			m->keys[i] = m->keys[j];
			m->last[i] = m->last[j];
			i = j;
		}
	}
	m->keys[i] = 0;
	m->n--;
}

/*-----------------------------------------------------------------------------
 * One principal (the shard lock held)
 */

/* The index relative to the oldest reveal kept. */
static uint32_t
rel(const struct qp *p, uint64_t abs_low)
{
	return (uint32_t)abs_low - (uint32_t)p->rv.start[VG_QW_MONTH];
}

/* Moves the principal's clock to now (never back) and every window with
 * it.  Returns the clock. */
static int64_t
advance(struct shard *sh, struct qp *p, int64_t now)
{
	struct rring *r = &p->rv;
	struct ev *e;
	uint32_t slot;
	int w;

	if (now < p->now)
		now = p->now;	/* an older time: see the file comment */
	p->now = now;
	/* Shorter windows first: whatever leaves the month has left
	 * every other window, so the month may drop it from the map. */
	for (w = 0; w < VG_QW_COUNT; w++) {
		while (r->start[w] < r->hi &&
		    (e = rring_at(r, r->start[w]))->t <= now - win_secs[w]) {
			if (e->key != 0) {
				slot = cmap_slot(&p->cm, e->key);
				if (p->cm.last[slot] == (uint32_t)r->start[w]) {
					/* The customer's latest reveal
					 * leaves w: so does the customer. */
					p->customers[w]--;
					if (w == VG_QW_MONTH)
						cmap_delete(&p->cm, slot);
				}
			}
			r->start[w]++;
		}
	}
	tring_expire(&p->bg, now);
	tring_expire(&p->cs, now);
	rring_trim(sh, r);
	cmap_trim(sh, &p->cm);
	tring_trim(sh, &p->bg);
	tring_trim(sh, &p->cs);
	return now;
}

/* Room for one more reveal (and customer, and break-glass reveal when
 * break_glass), so that recording after a decision cannot fail. */
static int
reserve_reveal(struct shard *sh, struct qp *p, bool break_glass)
{
	int rc = 0;

	if (rring_size(&p->rv) >= p->rv.cap)
		rc = rring_resize(sh, &p->rv, p->rv.cap ? p->rv.cap * 2 :
		    RING_MIN);
	if (rc == 0)
		rc = cmap_reserve(sh, &p->cm);
	if (rc == 0 && break_glass)
		rc = tring_reserve(sh, &p->bg);
	return rc;
}

static bool
saturated(const struct qp *p, int64_t now)
{
	return rring_size(&p->rv) >= VG_QUOTA_EVENTS_MAX ||
	    tring_size(&p->cs) >= VG_QUOTA_EVENTS_MAX || now < p->sat_until;
}

/* Records one reveal at the clock; reserve_reveal() came first. */
static void
record_reveal(struct qp *p, uint64_t key, bool break_glass)
{
	struct rring *r = &p->rv;
	struct cmap *m = &p->cm;
	uint32_t slot, last;
	int w;

	if (rring_size(r) >= VG_QUOTA_EVENTS_MAX) {
		/* Dropped: counted as saturation until it would have left
		 * the longest window. */
		p->sat_until = p->now + win_secs[VG_QW_MONTH];
		return;
	}
	if (key != 0) {
		slot = cmap_slot(m, key);
		if (m->keys[slot] == key) {
			last = rel(p, m->last[slot]);
			for (w = 0; w < VG_QW_COUNT; w++)
				if (last < rel(p, r->start[w]))
					p->customers[w]++;
		} else {
			m->keys[slot] = key;
			m->n++;
			for (w = 0; w < VG_QW_COUNT; w++)
				p->customers[w]++;
		}
		m->last[slot] = (uint32_t)r->hi;
	}
	rring_at(r, r->hi)->t = p->now;
	rring_at(r, r->hi)->key = key;
	r->hi++;
	if (break_glass) {
		p->bg.t[p->bg.hi & (p->bg.cap - 1)] = p->now;
		p->bg.hi++;
	}
}

static void
usage_of(const struct qp *p, uint64_t key, struct vg_quota_usage *u)
{
	const struct rring *r = &p->rv;
	uint32_t slot = 0, last = 0;
	bool known = false;
	int w;

	memset(u, 0, sizeof(*u));
	if (key != 0 && p->cm.cap > 0) {
		slot = cmap_slot(&p->cm, key);
		known = p->cm.keys[slot] == key;
		if (known)
			last = rel(p, p->cm.last[slot]);
	}
	for (w = 0; w < VG_QW_COUNT; w++) {
		u->reveals[w] = (uint32_t)(r->hi - r->start[w]);
		u->customers[w] = p->customers[w];
		u->seen[w] = known && last >= rel(p, r->start[w]);
		u->break_glass[w] = (uint32_t)(p->bg.hi - p->bg.start[w]);
		u->cases[w] = (uint32_t)(p->cs.hi - p->cs.start[w]);
		if (u->reveals[w] > 0)
			u->reveal_expiry[w] = rring_at(r, r->start[w])->t +
			    win_secs[w];
		if (u->break_glass[w] > 0)
			u->break_glass_expiry[w] = tring_at(&p->bg,
			    p->bg.start[w]) + win_secs[w];
	}
	if (saturated(p, p->now)) {
		u->saturated = true;
		for (w = 0; w < VG_QW_COUNT; w++) {
			u->reveals[w] = UINT32_MAX;
			u->customers[w] = UINT32_MAX;
			u->break_glass[w] = UINT32_MAX;
		}
	}
}

/*-----------------------------------------------------------------------------
 * Shards
 */

static uint64_t
hash_bytes(const unsigned char key[crypto_shorthash_KEYBYTES],
    const void *p, size_t n)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v = 0;
	int i;

	crypto_shorthash(h, p, n, key);
	for (i = 7; i >= 0; i--)
		v = v << 8 | h[i];
	return v;
}

/* Key 0 means "no customer", so a hash of 0 becomes 1. */
static uint64_t
customer_key(const struct vg_quota *q, const unsigned char *customer)
{
	uint64_t k;

	if (customer == NULL)
		return 0;
	k = hash_bytes(q->ckey, customer, VG_IDBYTES);
	return k == 0 ? 1 : k;
}

static uint32_t
table_slot(const struct shard *sh, uint64_t h, const char *name, size_t len)
{
	uint32_t mask = sh->cap - 1, i = (uint32_t)(h >> 6) & mask;
	const struct qp *p;

	while ((p = sh->slot[i]) != NULL && !(p->hash == h && p->len == len &&
	    memcmp(p->name, name, len) == 0))
		i = (i + 1) & mask;
	return i;
}

static int
table_grow(struct shard *sh)
{
	uint32_t ncap = sh->cap ? sh->cap * 2 : TABLE_MIN, i, j, mask;
	struct qp **ns = calloc(ncap, sizeof(*ns));

	if (ns == NULL)
		return VG_ENOMEM;
	mask = ncap - 1;
	for (i = 0; i < sh->cap; i++) {
		if (sh->slot[i] == NULL)
			continue;
		j = (uint32_t)(sh->slot[i]->hash >> 6) & mask;
		while (ns[j] != NULL)
			j = (j + 1) & mask;
		ns[j] = sh->slot[i];
	}
	free(sh->slot);
	sh->bytes += (uint64_t)(ncap - sh->cap) * sizeof(*ns);
	sh->slot = ns;
	sh->cap = ncap;
	return 0;
}

/* Checks a principal id: 1..VG_AUDIT_STR_MAX bytes. */
static int
name_len(const char *principal, size_t *len)
{
	if (principal == NULL)
		return VG_EINVAL;
	*len = strnlen(principal, VG_AUDIT_STR_MAX + 1);
	return *len == 0 || *len > VG_AUDIT_STR_MAX ? VG_EINVAL : 0;
}

/* Locks the principal's shard and finds it (creating it when create);
 * *pp is NULL when it is unknown and !create.  On error the shard is
 * unlocked. */
static int
lock_principal(struct vg_quota *q, const char *name, size_t len,
    bool create, struct shard **shp, struct qp **pp)
{
	uint64_t h = hash_bytes(q->pkey, name, len);
	struct shard *sh = &q->sh[h % NSHARDS];
	struct qp *p;
	uint32_t i;

	*pp = NULL;
	pthread_mutex_lock(&sh->mu);
	*shp = sh;
	if (sh->cap > 0) {
		i = table_slot(sh, h, name, len);
		if (sh->slot[i] != NULL) {
			*pp = sh->slot[i];
			return 0;
		}
	}
	if (!create)
		return 0;
	if (((uint64_t)sh->n + 1) * 4 > (uint64_t)sh->cap * 3 &&
	    table_grow(sh) != 0)
		goto nomem;
	p = calloc(1, sizeof(*p) + len + 1);
	if (p == NULL)
		goto nomem;
	p->hash = h;
	p->len = len;
	memcpy(p->name, name, len);
	p->now = INT64_MIN;
	sh->slot[table_slot(sh, h, name, len)] = p;
	sh->n++;
	sh->bytes += sizeof(*p) + len + 1;
	*pp = p;
	return 0;
nomem:
	pthread_mutex_unlock(&sh->mu);
	return VG_ENOMEM;
}

/*-----------------------------------------------------------------------------
 * Public
 */

int
vg_quota_new(struct vg_quota **out)
{
	struct vg_quota *q;
	int i;

	*out = NULL;
	if (sodium_init() < 0)
		return VG_ECRYPTO;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return VG_ENOMEM;
	randombytes_buf(q->pkey, sizeof(q->pkey));
	randombytes_buf(q->ckey, sizeof(q->ckey));
	for (i = 0; i < NSHARDS; i++) {
		if (pthread_mutex_init(&q->sh[i].mu, NULL) != 0) {
			while (--i >= 0)
				pthread_mutex_destroy(&q->sh[i].mu);
			free(q);
			return VG_ENOMEM;
		}
	}
	*out = q;
	return 0;
}

void
vg_quota_free(struct vg_quota *q)
{
	struct qp *p;
	uint32_t j;
	int i;

	if (q == NULL)
		return;
	for (i = 0; i < NSHARDS; i++) {
		for (j = 0; j < q->sh[i].cap; j++) {
			if ((p = q->sh[i].slot[j]) == NULL)
				continue;
			free(p->rv.e);
			free(p->cm.keys);
			free(p->cm.last);
			free(p->bg.t);
			free(p->cs.t);
			free(p);
		}
		free(q->sh[i].slot);
		pthread_mutex_destroy(&q->sh[i].mu);
	}
	sodium_memzero(q->pkey, sizeof(q->pkey));
	sodium_memzero(q->ckey, sizeof(q->ckey));
	free(q);
}

static bool
time_ok(int64_t now)
{
	return now >= 0 && now <= TIME_MAX;
}

int
vg_quota_decide(struct vg_quota *q, const char *principal,
    const unsigned char *customer, int64_t now, bool break_glass,
    int (*decide)(void *ctx, const struct vg_quota_usage *u), void *ctx)
{
	struct vg_quota_usage u;
	struct shard *sh;
	struct qp *p;
	uint64_t key;
	size_t len;
	int rc;

	if (q == NULL || decide == NULL || !time_ok(now) ||
	    name_len(principal, &len) != 0)
		return VG_EINVAL;
	key = customer_key(q, customer);
	rc = lock_principal(q, principal, len, true, &sh, &p);
	if (rc != 0)
		return rc;
	advance(sh, p, now);
	rc = reserve_reveal(sh, p, break_glass);
	if (rc == 0) {
		usage_of(p, key, &u);
		rc = decide(ctx, &u);
		/* 2: a break-glass reveal the flag did not announce; its
		 * room is made now, and without it nothing is recorded. */
		if (rc == 2 && !break_glass && tring_reserve(sh, &p->bg) != 0)
			rc = VG_ENOMEM;
		else if (rc == 1 || rc == 2)
			record_reveal(p, key, break_glass || rc == 2);
	}
	pthread_mutex_unlock(&sh->mu);
	return rc;
}

int
vg_quota_usage(struct vg_quota *q, const char *principal,
    const unsigned char *customer, int64_t now, struct vg_quota_usage *out)
{
	struct shard *sh;
	struct qp *p;
	uint64_t key;
	size_t len;
	int rc;

	if (q == NULL || out == NULL || !time_ok(now) ||
	    name_len(principal, &len) != 0)
		return VG_EINVAL;
	key = customer_key(q, customer);
	rc = lock_principal(q, principal, len, false, &sh, &p);
	if (rc != 0)
		return rc;
	if (p == NULL)
		memset(out, 0, sizeof(*out));
	else {
		advance(sh, p, now);
		usage_of(p, key, out);
	}
	pthread_mutex_unlock(&sh->mu);
	return 0;
}

/* Records a case at now for principal name[0..len). */
static int
add_case(struct vg_quota *q, const char *name, size_t len, int64_t now)
{
	struct shard *sh;
	struct qp *p;
	int rc;

	rc = lock_principal(q, name, len, true, &sh, &p);
	if (rc != 0)
		return rc;
	advance(sh, p, now);
	if (tring_size(&p->cs) >= VG_QUOTA_EVENTS_MAX)
		p->sat_until = p->now + win_secs[VG_QW_MONTH];
	else {
		rc = tring_reserve(sh, &p->cs);
		if (rc == 0) {
			p->cs.t[p->cs.hi & (p->cs.cap - 1)] = p->now;
			p->cs.hi++;
		}
	}
	pthread_mutex_unlock(&sh->mu);
	return rc;
}

int
vg_quota_add_case(struct vg_quota *q, const char *principal, int64_t now)
{
	size_t len;

	if (q == NULL || !time_ok(now) || name_len(principal, &len) != 0)
		return VG_EINVAL;
	return add_case(q, principal, len, now);
}

/* The value of "assignee=" among the words of detail, separated by
 * spaces or commas ("assignee=alice,channel=phone"). */
static const char *
assignee(const char *detail, size_t *len)
{
	static const char tag[] = "assignee=";
	const char *p = detail;

	while (*p != '\0') {
		size_t n = strcspn(p, " ,");

		if (n > sizeof(tag) - 1 &&
		    memcmp(p, tag, sizeof(tag) - 1) == 0) {
			*len = n - (sizeof(tag) - 1);
			return p + sizeof(tag) - 1;
		}
		p += n;
		p += strspn(p, " ,");
	}
	return NULL;
}

int
vg_quota_fold(struct vg_quota *q, const struct vg_audit_record *r)
{
	struct shard *sh;
	struct qp *p;
	const char *who;
	size_t len;
	int64_t t;
	bool bg;
	int rc;

	if (q == NULL || r == NULL)
		return VG_EINVAL;
	if (strcmp(r->decision, "allow") != 0 || r->time_ns < 0)
		return 0;
	t = r->time_ns / 1000000000;
	if (!time_ok(t))
		return 0;
	if (strcmp(r->action, "reveal") == 0) {
		if (name_len(r->principal, &len) != 0)
			return 0;
		rc = lock_principal(q, r->principal, len, true, &sh, &p);
		if (rc != 0)
			return rc;
		bg = strcmp(r->reason, "break_glass") == 0;
		advance(sh, p, t);
		rc = reserve_reveal(sh, p, bg);
		if (rc == 0)
			record_reveal(p, customer_key(q, r->has_customer ?
			    r->customer : NULL), bg);
		pthread_mutex_unlock(&sh->mu);
		return rc;
	}
	if (strcmp(r->action, "case.open") == 0 ||
	    strcmp(r->action, "case.assign") == 0) {
		who = assignee(r->detail, &len);
		if (who == NULL || len == 0)
			return 0;
		/* A case one opens or assigns to oneself is not a case
		 * handled: counting it would let anyone raise their own
		 * per-case quota by opening cases. */
		if (strlen(r->principal) == len &&
		    memcmp(r->principal, who, len) == 0)
			return 0;
		return add_case(q, who, len, t);
	}
	return 0;
}

/* One chain being merged: its reader and its next record. */
struct src {
	struct vg_audit_reader *rd;
	struct vg_audit_record *rec;
	bool live;		/* rec holds an unfolded record */
};

/*
 * Folds the chains in dirs[0..n) as one log: a k-way merge on time, ties
 * to the earlier directory, so a principal served by several nodes is
 * folded in time order (folding one chain after another would take the
 * second's older events at the first's clock).  Entries before from_ns
 * are read and skipped.
 */
static int
fold_chains(struct vg_quota *q, const char *const *dirs, size_t n,
    int64_t from_ns, uint64_t *count)
{
	struct src *src;
	size_t i, best;
	int rc = 0;

	src = calloc(n ? n : 1, sizeof(*src));
	if (src == NULL)
		return VG_ENOMEM;
	for (i = 0; i < n && rc == 0; i++) {
		src[i].rec = malloc(sizeof(*src[i].rec));
		if (src[i].rec == NULL) {
			rc = VG_ENOMEM;
			break;
		}
		rc = vg_audit_reader_open(dirs[i], &src[i].rd);
		if (rc == 0) {
			rc = vg_audit_reader_next(src[i].rd, src[i].rec);
			src[i].live = rc == 1;
			if (rc == 1)
				rc = 0;
		}
	}
	while (rc == 0) {
		best = n;
		for (i = 0; i < n; i++)
			if (src[i].live && (best == n ||
			    src[i].rec->time_ns < src[best].rec->time_ns))
				best = i;
		if (best == n)
			break;
		if (src[best].rec->time_ns >= from_ns) {
			rc = vg_quota_fold(q, src[best].rec);
			if (rc != 0)
				break;
			(*count)++;
		}
		rc = vg_audit_reader_next(src[best].rd, src[best].rec);
		src[best].live = rc == 1;
		if (rc == 1)
			rc = 0;
	}
	for (i = 0; i < n; i++) {
		vg_audit_reader_close(src[i].rd);
		free(src[i].rec);
	}
	free(src);
	return rc;
}

static int64_t
rebuild_from(int64_t now)
{
	return (now - win_secs[VG_QW_MONTH] - REBUILD_MARGIN) *
	    (int64_t)1000000000;
}

/* 0 when path is a directory, else VG_ENOTFOUND or VG_EIO. */
static int
is_dir(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return errno == ENOENT || errno == ENOTDIR ? VG_ENOTFOUND :
		    VG_EIO;
	return S_ISDIR(sb.st_mode) ? 0 : VG_ENOTFOUND;
}

int
vg_quota_rebuild(struct vg_quota *q, const char *chain_dir, int64_t now,
    uint64_t *folded)
{
	uint64_t n = 0;
	int rc;

	if (folded != NULL)
		*folded = 0;
	if (q == NULL || chain_dir == NULL || !time_ok(now))
		return VG_EINVAL;
	rc = is_dir(chain_dir);
	if (rc != 0)
		return rc;
	rc = fold_chains(q, &chain_dir, 1, rebuild_from(now), &n);
	if (folded != NULL)
		*folded = n;
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
vg_quota_rebuild_all(struct vg_quota *q, const char *audit_dir, int64_t now,
    uint64_t *folded)
{
	struct dirent *de;
	DIR *d = NULL;
	char **dirs = NULL, **nd, path[PATH_MAX];
	size_t n = 0, cap = 0, i;
	uint64_t count = 0;
	int rc;

	if (folded != NULL)
		*folded = 0;
	if (q == NULL || audit_dir == NULL || !time_ok(now))
		return VG_EINVAL;
	rc = is_dir(audit_dir);
	if (rc != 0)
		return rc;
	if ((d = opendir(audit_dir)) == NULL)
		return VG_EIO;
	while ((de = readdir(d)) != NULL) {
		if (!vg__audit_chain_name_ok(de->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", audit_dir,
		    de->d_name) >= sizeof(path) || is_dir(path) != 0)
			continue;
		if (n == QUOTA_CHAINS_MAX) {
			rc = VG_ETOOBIG;
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			nd = realloc(dirs, cap * sizeof(*dirs));
			if (nd == NULL) {
				rc = VG_ENOMEM;
				goto out;
			}
			dirs = nd;
		}
		if ((dirs[n] = strdup(path)) == NULL) {
			rc = VG_ENOMEM;
			goto out;
		}
		n++;
	}
	if (n > 0)
		qsort(dirs, n, sizeof(*dirs), cmp_str);
	rc = fold_chains(q, (const char *const *)dirs, n, rebuild_from(now),
	    &count);
out:
	closedir(d);
	for (i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
	if (folded != NULL)
		*folded = count;
	return rc;
}

void
vg_quota_stats(struct vg_quota *q, uint64_t *principals, uint64_t *bytes)
{
	uint64_t np = 0, nb = 0;
	int i;

	if (q != NULL) {
		nb = sizeof(*q);
		for (i = 0; i < NSHARDS; i++) {
			pthread_mutex_lock(&q->sh[i].mu);
			np += q->sh[i].n;
			nb += q->sh[i].bytes;
			pthread_mutex_unlock(&q->sh[i].mu);
		}
	}
	if (principals != NULL)
		*principals = np;
	if (bytes != NULL)
		*bytes = nb;
}
