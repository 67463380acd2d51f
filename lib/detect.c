/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The insider-threat detector (vigil/detect.h): per-principal counters in
 * rings of fixed slots, peer baselines by median and MAD, own history by
 * an exponential average, collusion signals, honeytokens.  Everything is
 * a function of the entries fed, in order, and of the directory: no
 * wall clock, no randomness, iteration in insertion order.
 */
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vigil/detect.h"
#include "vigil/shift.h"
#include "mix.h"
#include "textbuf.h"

/* What is counted.  Each is a number of entries, except F_CUST (distinct
 * customers, from a bitmap), F_RATIO (reveals per case handled, x10) and
 * F_WSHARE (the share of reveals that are wide, x1000), which exist only
 * in peer statistics and signals. */
enum feat {
	F_REVEAL,		/* allowed reveals */
	F_NOCASE,		/* ... without a case */
	F_BUNDLE,		/* ... of name, phone and account id at once */
	F_MISS,			/* lookups and views that matched nobody */
	F_DENY,			/* denied requests */
	F_OFFSHIFT,		/* allowed accesses outside the shift */
	F_FOREIGN,		/* ... of customers outside one's region */
	F_SELFCASE,		/* reveals under a case one just opened */
	F_LOOKUP,		/* lookups, any outcome */
	F_CASES,		/* cases assigned by someone else */
	F_SHARED,		/* no-case customers shared with other orgs */
	F_WIDE,			/* allowed reveals of 3 or more fields */
	NF,			/* counted in rings */
	F_CUST = NF,		/* distinct customers */
	F_RATIO,		/* reveals per case handled, x10 */
	F_WSHARE,		/* wide reveals per reveal, x1000 */
	NSF			/* in statistics */
};

enum win { W_15M, W_1H, W_1D, W_30D, NW };

static const char *const win_name[NW] = { "15m", "1h", "1d", "30d" };
static const int64_t win_len[NW] = { 900, 3600, 86400, 30 * 86400 };

/* Rings: slot length in seconds, slots kept, slots a window sums. */
#define M_SLOTS 15		/* minutes: the 15-minute window */
#define Q_SLOTS 4		/* quarter hours: the hour */
#define H_SLOTS 24		/* hours: the day */
#define D_SLOTS 30		/* UTC days: the month (today, 29 before) */
/* Each ring keeps only the features some signal reads in its window
 * (cols_m[] to cols_d[] below; checked once at start), a column each. */
#define M_COLS 2
#define Q_COLS 7
#define H_COLS 11
#define D_COLS 3
#define HBITS 256		/* distinct customers this clock hour */
#define DBITS 1024		/* ... this UTC day */
#define SELF_CASES 8		/* self-opened cases remembered */
#define EVIDENCE 16		/* recent entries kept as evidence */
#define SELF_CASE_S 7200	/* a reveal this soon after opening */
#define WIDE_FIELDS 3		/* a reveal of this many fields is wide */
#define RECOMPUTE_S 600		/* peer baselines every 10 minutes */
#define ACTIVE_S 86400		/* a member active within a day counts */
#define LEVEL_S 86400		/* an alert level lasts a day */
#define SHARED_SLOTS (1u << 17)	/* customers in the collusion table */
#define SHARED_WAYS 3		/* principals remembered per customer */
#define SHARED_S (7 * 86400)	/* ... for a week */
#define SHARED_PROBE 8
#define OWN_WARM 36		/* samples before an own window baseline
				 * counts (6 active hours) */
#define OWN_SPAN 512		/* ... and about how many it remembers */
#define SPELL_GAP_S 1200	/* a pause this long ends a stretch of work */
#define OWN_MAX 4096		/* principals with own window baselines:
				 * beyond, one without peers has no peer
				 * signals at all */

static const uint8_t cols_m[M_COLS] = { F_REVEAL, F_NOCASE };
static const uint8_t cols_q[Q_COLS] = {
	F_REVEAL, F_NOCASE, F_BUNDLE, F_MISS, F_DENY, F_SELFCASE, F_LOOKUP
};
static const uint8_t cols_h[H_COLS] = {
	F_REVEAL, F_NOCASE, F_BUNDLE, F_MISS, F_DENY, F_OFFSHIFT, F_FOREIGN,
	F_SELFCASE, F_CASES, F_SHARED, F_WIDE
};
static const uint8_t cols_d[D_COLS] = { F_REVEAL, F_NOCASE, F_WIDE };

struct principal {
	char id[VG_PRINCIPAL_ID_MAX + 1];
	uint32_t idx;			/* in d's blocks */
	uint32_t group, rgroup, org;	/* org+role, role, org */
	uint32_t own;			/* own window baselines + 1; 0 none */
	char region[VG_PRINCIPAL_REGION_MAX];
	struct vg_shift shift;
	bool has_shift, known;
	int64_t last_t;			/* seconds */
	int64_t spell_t;		/* since when it works without a break */
	uint32_t last[NW];		/* each ring's newest slot number */
	uint16_t m[M_SLOTS][M_COLS], q[Q_SLOTS][Q_COLS];
	uint16_t h[H_SLOTS][H_COLS], dd[D_SLOTS][D_COLS];
	/* Each ring's total: its window. */
	uint32_t sm[M_COLS], sq[Q_COLS], sh[H_COLS], sd[D_COLS];
	uint16_t hset, dset;		/* bits set in hbits, dbits */
	uint32_t hb_period, db_period;
	uint8_t hbits[HBITS / 8], dbits[DBITS / 8];
	/* Own history: reveals per active day. */
	uint32_t day_no, day_reveals;
	float ewma;
	uint16_t days;
	struct {
		uint32_t h;		/* case id hash, 0: empty */
		uint32_t t;		/* unix seconds */
	} self[SELF_CASES];
	uint8_t self_i;
	uint8_t ev_n, ev_i;
	uint8_t ev_node[EVIDENCE];
	uint64_t ev[EVIDENCE];
	uint8_t level;			/* severity last alerted */
	int64_t level_t, honey_t;
};

/* A principal's baselines against itself, for one whose role has too few
 * members active to be compared with (systems such as the exporters and
 * ingest always; a small team on a quiet day): per (window, feature)
 * pair that a signal reads, an exponential average of the window's count
 * (scaled to the window's full length) and of its absolute deviation,
 * sampled at recomputes while the principal works (own_update()). */
struct own {
	float mean[NW * NSF], dev[NW * NSF];	/* by pair index */
	uint16_t n[NW];			/* samples taken per window */
};

struct stat2 {
	uint32_t median, mad;
	uint32_t n;			/* members it is over */
};

struct group {
	char org[VG_PRINCIPAL_ID_MAX + 1];
	char role[16];
	bool role_wide;
	uint32_t *members;
	size_t nmembers, cap;
	uint32_t active;		/* at the last recompute */
	struct stat2 st[NW][NSF];
};

struct shared_slot {
	uint64_t key;			/* first 8 bytes of the customer id */
	uint32_t who[SHARED_WAYS];	/* principal + 1; 0 empty */
	uint32_t org[SHARED_WAYS];
	int64_t t[SHARED_WAYS];
};

#define BLK 1024

struct vg_detect {
	struct vg_detect_opts o;
	struct vg_detect_tuning tu;
	struct principal **blk;		/* blocks of BLK: pointers stay */
	size_t np, nblk;
	uint32_t *ptab;			/* open addressing: index + 1 */
	size_t ptab_cap;
	struct group *g;
	size_t ng, gcap;
	char (*orgs)[VG_PRINCIPAL_ID_MAX + 1];
	size_t norgs, orgcap;
	char nodes[8][VG_CHAIN_NAME_MAX + 1];
	size_t nnodes;
	struct shared_slot *shared;
	uint32_t *scratch;
	size_t scratch_cap;
	uint32_t *vals;			/* per principal, npairs */
	size_t vals_cap;
	struct own *own;		/* own baselines, few principals */
	size_t nown, owncap;
	uint32_t *org_active, *org_elevated;
	size_t org_cnt_cap;
	int64_t now;			/* newest entry time, seconds */
	int64_t recomputed;		/* boundary of the last recompute */
	struct vg_detect_stats st;
};

/*-----------------------------------------------------------------------------
 * Small helpers
 */

static struct principal *
P(const struct vg_detect *d, size_t i)
{
	return &d->blk[i / BLK][i % BLK];
}

static int
memcmp_id(const void *a, const void *b)
{
	return memcmp(a, b, VG_IDBYTES);
}

/* Adds by to *v, saturating; returns what was added. */
static unsigned
inc16(uint16_t *v, unsigned by)
{
	unsigned room = UINT16_MAX - *v;

	if (by > room)
		by = room;
	*v = (uint16_t)(*v + by);
	return by;
}

/* True when the comma list has the word w. */
static int
has_word(const char *list, const char *w)
{
	size_t wl = strlen(w);
	const char *s = list;

	while (*s != '\0') {
		size_t n = strcspn(s, ",");

		if (n == wl && memcmp(s, w, wl) == 0)
			return 1;
		s += n;
		if (*s == ',')
			s++;
	}
	return 0;
}

/*-----------------------------------------------------------------------------
 * Rings
 */

/* Moves a ring of n slots of `cols` columns to slot `now`, taking the
 * slots it reuses out of the running total sum[].  Returns the row to
 * count into, or NULL for a slot already gone. */
static uint16_t *
ring_at(uint16_t *r, unsigned n, unsigned cols, uint32_t *last, uint32_t now,
    uint32_t *sum)
{
	if (now > *last) {
		uint32_t s;
		unsigned c;

		if (now - *last >= n) {
			memset(r, 0, sizeof(*r) * n * cols);
			memset(sum, 0, sizeof(*sum) * cols);
		} else {
			for (s = *last + 1; s <= now; s++) {
				uint16_t *row = r + (s % n) * cols;

				for (c = 0; c < cols; c++)
					sum[c] -= row[c];
				memset(row, 0, sizeof(*row) * cols);
			}
		}
		*last = now;
	} else if (*last - now >= n) {
		return NULL;
	}
	return r + (now % n) * cols;
}

/* The window of n slots ending at slot `at`, from the running total:
 * at the ring's own newest slot (the usual case) that total itself;
 * later, without the slots that have left the window since. */
static uint32_t
ring_sum(const uint16_t *r, unsigned n, unsigned cols, uint32_t last,
    const uint32_t *sum, uint32_t at, unsigned c)
{
	uint32_t s, v;

	if (at <= last)
		return sum[c];
	if (at - last >= n)
		return 0;
	v = sum[c];
	for (s = last + 1 - n; s <= at - n; s++)
		v -= r[(s % n) * cols + c];
	return v;
}

/* A value that has no meaning for a principal (a share of nothing): left
 * out of its group's statistics. */
#define NO_VALUE UINT32_MAX

static uint32_t
slot_of(int64_t t, int64_t len)
{
	return (uint32_t)(t / len);
}

/* Ring w of a principal: where its slots and running total are, how
 * many slots and columns, and the slot length in seconds. */
static const struct ringdef {
	size_t slots, sums;
	unsigned n, cols;
	int64_t len;
} rings[NW] = {
	{ offsetof(struct principal, m), offsetof(struct principal, sm),
	    M_SLOTS, M_COLS, 60 },
	{ offsetof(struct principal, q), offsetof(struct principal, sq),
	    Q_SLOTS, Q_COLS, 900 },
	{ offsetof(struct principal, h), offsetof(struct principal, sh),
	    H_SLOTS, H_COLS, 3600 },
	{ offsetof(struct principal, dd), offsetof(struct principal, sd),
	    D_SLOTS, D_COLS, 86400 },
};

static const uint16_t *
ring_slots(const struct principal *p, const struct ringdef *rd)
{
	return (const uint16_t *)(const void *)((const char *)p + rd->slots);
}

static const uint32_t *
ring_sums(const struct principal *p, const struct ringdef *rd)
{
	return (const uint32_t *)(const void *)((const char *)p + rd->sums);
}

/* Feature f's column in ring w, or -1 (set once by vg_detect_new). */
static int8_t col_of[NW][NF];

/* Window w's count of feature f for p at time t (seconds). */
static uint32_t
window(const struct principal *p, int w, int f, int64_t t)
{
	const struct ringdef *rd = &rings[w];
	int c = col_of[w][f];

	if (c < 0)
		return 0;
	return ring_sum(ring_slots(p, rd), rd->n, rd->cols, p->last[w],
	    ring_sums(p, rd), slot_of(t, rd->len), (unsigned)c);
}

/* Linear counting over a bitmap of m bits with `set` of them set: the
 * distinct count. */
static uint32_t
lc_estimate(unsigned set, unsigned m)
{
	unsigned zero = m - set;

	if (zero == 0)
		zero = 1;	/* saturated: the estimate's ceiling */
	return (uint32_t)lround((double)m * log((double)m / zero));
}

static uint32_t
customers(const struct principal *p, int w, int64_t t)
{
	if (w == W_1D)
		return p->db_period == slot_of(t, 86400) + 1 ?
		    lc_estimate(p->dset, DBITS) : 0;
	if (w == W_1H)
		return p->hb_period == slot_of(t, 3600) + 1 ?
		    lc_estimate(p->hset, HBITS) : 0;
	if (w == W_15M)
		return window(p, W_15M, F_REVEAL, t);
	return 0;		/* no month of distinct customers */
}

/* Any feature, including the derived ones, as peers are compared. */
static uint32_t
value(const struct principal *p, int w, int f, int64_t t)
{
	if (f == F_CUST)
		return customers(p, w, t);
	if (f == F_WSHARE) {
		uint32_t n = window(p, w, F_REVEAL, t);

		/* No reveals: no share (left out of the peers' median). */
		return n > 0 ? window(p, w, F_WIDE, t) * 1000 / n : NO_VALUE;
	}
	if (f == F_RATIO) {
		uint32_t c = window(p, w, F_CASES, t);

		return window(p, w, F_REVEAL, t) * 10 / (c > 0 ? c : 1);
	}
	return window(p, w, f, t);
}

/*-----------------------------------------------------------------------------
 * Principals, groups, orgs
 */

static int
grow(void **v, size_t *cap, size_t need, size_t each)
{
	size_t nc;
	void *nv;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap * 2 : 16;
	while (nc < need)
		nc *= 2;
	nv = realloc(*v, nc * each);
	if (nv == NULL)
		return VG_ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

static int
org_index(struct vg_detect *d, const char *org, uint32_t *out)
{
	size_t i;

	for (i = 0; i < d->norgs; i++)
		if (strcmp(d->orgs[i], org) == 0) {
			*out = (uint32_t)i;
			return 0;
		}
	if (grow((void **)&d->orgs, &d->orgcap, d->norgs + 1,
	    sizeof(*d->orgs)) != 0)
		return VG_ENOMEM;
	copy_str(d->orgs[d->norgs], sizeof(d->orgs[0]), org);
	*out = (uint32_t)d->norgs++;
	return 0;
}

static int
group_index(struct vg_detect *d, const char *org, const char *role,
    bool role_wide, uint32_t *out)
{
	size_t i;

	for (i = 0; i < d->ng; i++)
		if (d->g[i].role_wide == role_wide &&
		    strcmp(d->g[i].role, role) == 0 &&
		    (role_wide || strcmp(d->g[i].org, org) == 0)) {
			*out = (uint32_t)i;
			return 0;
		}
	if (grow((void **)&d->g, &d->gcap, d->ng + 1, sizeof(*d->g)) != 0)
		return VG_ENOMEM;
	memset(&d->g[d->ng], 0, sizeof(d->g[0]));
	copy_str(d->g[d->ng].org, sizeof(d->g[0].org), role_wide ? "*" : org);
	copy_str(d->g[d->ng].role, sizeof(d->g[0].role), role);
	d->g[d->ng].role_wide = role_wide;
	*out = (uint32_t)d->ng++;
	return 0;
}

static int
group_add(struct group *g, uint32_t who)
{
	if (grow((void **)&g->members, &g->cap, g->nmembers + 1,
	    sizeof(*g->members)) != 0)
		return VG_ENOMEM;
	g->members[g->nmembers++] = who;
	return 0;
}

static int
ptab_grow(struct vg_detect *d)
{
	size_t cap = d->ptab_cap ? d->ptab_cap * 2 : 1024, i;
	uint32_t *t = calloc(cap, sizeof(*t));

	if (t == NULL)
		return VG_ENOMEM;
	for (i = 0; i < d->np; i++) {
		size_t j = str_hash(P(d, i)->id) & (cap - 1);

		while (t[j] != 0)
			j = (j + 1) & (cap - 1);
		t[j] = (uint32_t)i + 1;
	}
	free(d->ptab);
	d->ptab = t;
	d->ptab_cap = cap;
	return 0;
}

/* The principal named id, tracked from now on if new; NULL when out of
 * memory or id is too long to be a principal. */
static struct principal *
principal_get(struct vg_detect *d, const char *id)
{
	struct vg_principal dir;
	struct principal *p;
	size_t j;
	uint32_t org;

	if (strlen(id) > VG_PRINCIPAL_ID_MAX || id[0] == '\0')
		return NULL;
	if (d->ptab_cap > 0) {
		j = str_hash(id) & (d->ptab_cap - 1);
		while (d->ptab[j] != 0) {
			p = P(d, d->ptab[j] - 1);
			if (strcmp(p->id, id) == 0)
				return p;
			j = (j + 1) & (d->ptab_cap - 1);
		}
	}
	if ((d->np + 1) * 2 > d->ptab_cap && ptab_grow(d) != 0)
		return NULL;
	if (d->np % BLK == 0) {
		struct principal **nb, *b;

		nb = realloc(d->blk, (d->nblk + 1) * sizeof(*nb));
		if (nb == NULL)
			return NULL;
		d->blk = nb;
		b = calloc(BLK, sizeof(*b));
		if (b == NULL)
			return NULL;
		d->blk[d->nblk++] = b;
	}
	p = P(d, d->np);
	memset(p, 0, sizeof(*p));
	copy_str(p->id, sizeof(p->id), id);
	p->idx = (uint32_t)d->np;
	memset(&dir, 0, sizeof(dir));
	if (d->o.directory != NULL &&
	    d->o.directory(d->o.directory_ctx, id, &dir) == 0) {
		p->known = true;
		copy_str(p->region, sizeof(p->region), dir.region);
		if (dir.shift[0] != '\0' &&
		    vg_shift_parse(dir.shift, &p->shift, NULL) == 0)
			p->has_shift = true;
	} else {
		/* Unknown: a group of its own, so nobody's baseline moves. */
		copy_str(dir.org, sizeof(dir.org), id);
		copy_str(dir.role, sizeof(dir.role), "unknown");
	}
	if (org_index(d, dir.org, &org) != 0 ||
	    group_index(d, dir.org, dir.role, false, &p->group) != 0 ||
	    group_index(d, dir.org, dir.role, true, &p->rgroup) != 0 ||
	    group_add(&d->g[p->group], (uint32_t)d->np) != 0 ||
	    group_add(&d->g[p->rgroup], (uint32_t)d->np) != 0)
		return NULL;
	p->org = org;
	j = str_hash(id) & (d->ptab_cap - 1);
	while (d->ptab[j] != 0)
		j = (j + 1) & (d->ptab_cap - 1);
	d->ptab[j] = (uint32_t)d->np + 1;
	d->np++;
	return p;
}

/*-----------------------------------------------------------------------------
 * Counting
 */

static void
count(struct principal *p, int f, int64_t t, unsigned by)
{
	int w;

	for (w = 0; w < NW; w++) {
		const struct ringdef *rd = &rings[w];
		uint32_t *sum = (uint32_t *)(void *)((char *)p + rd->sums);
		uint16_t *r = (uint16_t *)(void *)((char *)p + rd->slots);
		int c = col_of[w][f];
		uint16_t *row;

		if (c < 0)
			continue;
		if ((row = ring_at(r, rd->n, rd->cols, &p->last[w],
		    slot_of(t, rd->len), sum)) != NULL)
			sum[c] += inc16(&row[c], by);
	}
}

static void
touch_customer(struct principal *p, const unsigned char *id, int64_t t)
{
	uint32_t hp = slot_of(t, 3600) + 1, dp = slot_of(t, 86400) + 1;
	uint32_t x;

	/* Ids are random: their bytes are already a uniform hash. */
	memcpy(&x, id, sizeof(x));
	uint8_t bit;

	if (p->hb_period != hp) {
		memset(p->hbits, 0, sizeof(p->hbits));
		p->hb_period = hp;
		p->hset = 0;
	}
	if (p->db_period != dp) {
		memset(p->dbits, 0, sizeof(p->dbits));
		p->db_period = dp;
		p->dset = 0;
	}
	bit = (uint8_t)(1u << (x % 8));
	if ((p->hbits[(x % HBITS) / 8] & bit) == 0) {
		p->hbits[(x % HBITS) / 8] |= bit;
		p->hset++;
	}
	x >>= 10;
	bit = (uint8_t)(1u << (x % 8));
	if ((p->dbits[(x % DBITS) / 8] & bit) == 0) {
		p->dbits[(x % DBITS) / 8] |= bit;
		p->dset++;
	}
}

/* Rolls p's own history to day `day` (UTC day number). */
static void
own_roll(struct principal *p, uint32_t day)
{
	if (p->day_no == day)
		return;
	if (p->day_no != 0 && p->day_reveals > 0) {
		/* Active days only: weekends and leave do not pull it down. */
		p->ewma = p->days == 0 ? (float)p->day_reveals :
		    0.8f * p->ewma + 0.2f * (float)p->day_reveals;
		if (p->days < UINT16_MAX)
			p->days++;
	}
	p->day_no = day;
	p->day_reveals = 0;
}

static void
evidence(struct vg_detect *d, struct principal *p,
    const struct vg_audit_record *rec)
{
	size_t n;

	for (n = 0; n < d->nnodes; n++)
		if (strcmp(d->nodes[n], rec->node) == 0)
			break;
	if (n == d->nnodes) {
		if (d->nnodes == 8)
			return;
		copy_str(d->nodes[d->nnodes++], sizeof(d->nodes[0]), rec->node);
	}
	p->ev[p->ev_i] = rec->seq;
	p->ev_node[p->ev_i] = (uint8_t)n;
	p->ev_i = (uint8_t)((p->ev_i + 1) % EVIDENCE);
	if (p->ev_n < EVIDENCE)
		p->ev_n++;
}

static uint32_t
case_hash(const char *id)
{
	return (uint32_t)str_hash(id) | 1;	/* 0 is an empty slot */
}

/* Customers revealed without a case by principals of different orgs
 * within a week: each such customer counts once for each of them. */
static void
shared_note(struct vg_detect *d, struct principal *p, uint32_t pi,
    const unsigned char *id, int64_t t)
{
	struct shared_slot *s = NULL;
	uint64_t key;
	size_t j, k, best = 0;
	int64_t oldest = INT64_MAX;

	memcpy(&key, id, sizeof(key));
	key |= 1;
	for (k = 0; k < SHARED_PROBE; k++) {
		struct shared_slot *c;
		int64_t newest = INT64_MIN;
		size_t w;

		j = (size_t)((key >> 17) + k) & (SHARED_SLOTS - 1);
		c = &d->shared[j];
		if (c->key == key) {
			s = c;
			break;
		}
		for (w = 0; w < SHARED_WAYS; w++)
			if (c->who[w] != 0 && c->t[w] > newest)
				newest = c->t[w];
		if (c->key == 0 || newest < t - SHARED_S) {
			s = c;
			memset(s, 0, sizeof(*s));
			s->key = key;
			break;
		}
		if (newest < oldest) {
			oldest = newest;
			best = j;
		}
	}
	if (s == NULL) {
		/* Full neighbourhood: the stalest customer gives way. */
		s = &d->shared[best];
		memset(s, 0, sizeof(*s));
		s->key = key;
	}
	for (k = 0; k < SHARED_WAYS; k++)
		if (s->who[k] == pi + 1) {
			s->t[k] = t;
			return;		/* already counted for p */
		}
	for (k = 0; k < SHARED_WAYS; k++) {
		if (s->who[k] == 0 || s->t[k] < t - SHARED_S ||
		    s->org[k] == p->org)
			continue;
		/* An unrelated principal took this one too: both count. */
		count(P(d, s->who[k] - 1), F_SHARED, t, 1);
		count(p, F_SHARED, t, 1);
		break;
	}
	/* Remember p in the emptiest or stalest way. */
	best = 0;
	for (k = 1; k < SHARED_WAYS; k++)
		if (s->who[k] == 0 ||
		    (s->who[best] != 0 && s->t[k] < s->t[best]))
			if (s->who[best] != 0)
				best = k;
	s->who[best] = pi + 1;
	s->org[best] = p->org;
	s->t[best] = t;
}

/*-----------------------------------------------------------------------------
 * Baselines
 */

static uint32_t
select_k(uint32_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	/* Quickselect, middle pivot: deterministic. */
	while (lo < hi) {
		uint32_t pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				uint32_t x = v[i];

				v[i] = v[j];
				v[j] = x;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

static struct stat2
robust(uint32_t *v, size_t n)
{
	struct stat2 s = { 0, 0, (uint32_t)n };
	uint32_t any = 0;
	size_t i;

	for (i = 0; i < n; i++)
		any |= v[i];
	if (any == 0)
		return s;	/* most counts are 0 for everyone */
	s.median = select_k(v, n, n / 2);
	for (i = 0; i < n; i++)
		v[i] = v[i] > s.median ? v[i] - s.median : s.median - v[i];
	s.mad = select_k(v, n, n / 2);
	return s;
}

/* The (window, feature) pairs some signal reads: only these have peer
 * statistics, numbered 0 to npairs - 1 (set once by vg_detect_new). */
static bool used[NW][NSF];
static uint8_t pair_w[NW * NSF], pair_f[NW * NSF];
static int8_t pair_of[NW][NSF];		/* -1: not read */
static size_t npairs;
static pthread_once_t used_once = PTHREAD_ONCE_INIT;

/* True when too few of p's role, across every org, were active at the
 * last recompute for a comparison (a few security analysts on a quiet
 * day, everybody on a weekend): p is then compared with its own past,
 * window by window, once that past is long enough.  */
static bool
tiny(const struct vg_detect *d, const struct principal *p)
{
	return d->g[p->rgroup].active < d->tu.min_active_peers;
}

/* True when p's role has too few members at all (the exporters, ingest):
 * p is never compared with peers, only with its own past. */
static bool
alone(const struct vg_detect *d, const struct principal *p)
{
	return d->g[p->rgroup].nmembers < d->tu.min_active_peers;
}

/* The share of window w's full length that its slots cover at t: the
 * newest slot holds only the seconds of it gone so far (an "hour" at
 * 10:20 is 09:30 to 10:20).  Own baselines of ring counts are kept per
 * full window. */
static double
coverage(int w, int64_t t)
{
	const struct ringdef *rd = &rings[w];

	return (double)((int64_t)(rd->n - 1) * rd->len + t % rd->len + 1) /
	    (double)((int64_t)rd->n * rd->len);
}

/* Folds the values v (by pair) of p at t into its own baselines: the
 * 15-minute and hour windows only when p has been working without a
 * break for all of the window (so the first and last minutes of a day's
 * work, nights and weekends do not pull the averages down), the day
 * when p was active within it.  The month is left out: a month's count
 * only settles after a month. */
static void
own_update(struct vg_detect *d, struct principal *p, const uint32_t *v,
    int64_t t)
{
	struct own *o;
	bool on[NW];
	size_t k;
	int w;

	if (p->own == 0) {
		if (d->nown >= OWN_MAX || grow((void **)&d->own, &d->owncap,
		    d->nown + 1, sizeof(*d->own)) != 0)
			return;
		memset(&d->own[d->nown], 0, sizeof(d->own[0]));
		p->own = (uint32_t)++d->nown;
	}
	o = &d->own[p->own - 1];
	for (w = 0; w < NW; w++) {
		if (w == W_1D)
			on[w] = p->last_t > t - win_len[w];
		else
			on[w] = w != W_30D && p->spell_t <= t - win_len[w] &&
			    p->last_t > t - SPELL_GAP_S;
		if (on[w] && o->n[w] < UINT16_MAX)
			o->n[w]++;
	}
	for (k = 0; k < npairs; k++) {
		float x, a;

		w = pair_w[k];
		if (!on[w])
			continue;
		x = (float)(pair_f[k] < NF ? v[k] / coverage(w, t) : v[k]);
		if (o->n[w] == 1) {
			o->mean[k] = x;
			o->dev[k] = 0;
			continue;
		}
		a = o->n[w] < OWN_SPAN ? 1.0f / o->n[w] : 1.0f / OWN_SPAN;
		o->dev[k] += a * (fabsf(x - o->mean[k]) - o->dev[k]);
		o->mean[k] += a * (x - o->mean[k]);
	}
}

/* Peer baselines as of t: every active principal's values once, then
 * each group's median and MAD over its active members; and the own
 * baselines of principals without peers. */
static void
recompute(struct vg_detect *d, int64_t t)
{
	size_t gi, i, k;

	if (grow((void **)&d->scratch, &d->scratch_cap, d->np + 1,
	    sizeof(*d->scratch)) != 0 ||
	    grow((void **)&d->vals, &d->vals_cap, (d->np + 1) * npairs,
	    sizeof(*d->vals)) != 0)
		return;		/* the old baselines stay */
	for (i = 0; i < d->np; i++) {
		struct principal *p = P(d, i);
		uint32_t *v = &d->vals[i * npairs];

		if (p->last_t <= t - ACTIVE_S)
			continue;
		for (k = 0; k < npairs; k++)
			v[k] = value(p, pair_w[k], pair_f[k], t);
	}
	for (gi = 0; gi < d->ng; gi++) {
		struct group *g = &d->g[gi];

		g->active = 0;
		for (k = 0; k < npairs; k++) {
			size_t n = 0;

			for (i = 0; i < g->nmembers; i++) {
				uint32_t m = g->members[i];

				if (P(d, m)->last_t > t - ACTIVE_S &&
				    d->vals[(size_t)m * npairs + k] != NO_VALUE)
					d->scratch[n++] = d->vals[(size_t)m *
					    npairs + k];
			}
			if (pair_f[k] != F_WSHARE)
				g->active = (uint32_t)n;
			g->st[pair_w[k]][pair_f[k]] = robust(d->scratch, n);
		}
	}
	for (i = 0; i < d->np; i++) {
		struct principal *p = P(d, i);

		if (p->last_t > t - ACTIVE_S && tiny(d, p))
			own_update(d, p, &d->vals[i * npairs], t);
	}
	d->st.recomputes++;
}

/*-----------------------------------------------------------------------------
 * Signals and alerts
 */

struct sigdef {
	uint8_t f, w;
	uint16_t min;			/* below this count, no signal */
	const char *name;
	const char *pre, *post;		/* words before and after the value */
};

static const struct sigdef sigs[] = {
	{ F_REVEAL, W_15M, 20, "reveals", "revealed ",
	    " records in the last 15 minutes" },
	{ F_REVEAL, W_1H, 40, "reveals", "revealed ",
	    " records in the last hour" },
	{ F_REVEAL, W_1D, 150, "reveals", "revealed ",
	    " records in the last day" },
	{ F_CUST, W_1D, 150, "customers", "touched about ",
	    " distinct customers today" },
	{ F_NOCASE, W_15M, 4, "reveals_without_case", "revealed ",
	    " records without a case in the last 15 minutes" },
	{ F_NOCASE, W_1H, 6, "reveals_without_case", "revealed ",
	    " records without a case in the last hour" },
	{ F_NOCASE, W_1D, 10, "reveals_without_case", "revealed ",
	    " records without a case in the last day" },
	{ F_NOCASE, W_30D, 6, "reveals_without_case", "revealed ",
	    " records without a case in the last 30 days" },
	{ F_BUNDLE, W_1H, 8, "sellable_bundle",
	    "revealed name, phone and account id together ",
	    " times in the last hour" },
	{ F_BUNDLE, W_1D, 20, "sellable_bundle",
	    "revealed name, phone and account id together ",
	    " times in the last day" },
	{ F_MISS, W_1H, 10, "lookup_misses", "looked up ",
	    " values or ids that matched nobody in the last hour" },
	{ F_MISS, W_1D, 25, "lookup_misses", "looked up ",
	    " values or ids that matched nobody in the last day" },
	{ F_DENY, W_1H, 10, "denied", "was refused ",
	    " times in the last hour" },
	{ F_DENY, W_1D, 25, "denied", "was refused ",
	    " times in the last day" },
	{ F_OFFSHIFT, W_1D, 10, "off_shift", "made ",
	    " accesses outside their shift in the last day" },
	{ F_FOREIGN, W_1D, 20, "other_regions", "touched ",
	    " customers outside their region in the last day" },
	{ F_SELFCASE, W_1H, 5, "self_opened_cases", "revealed ",
	    " records under cases they had just opened themselves in the "
	    "last hour" },
	{ F_SELFCASE, W_1D, 10, "self_opened_cases", "revealed ",
	    " records under cases they had just opened themselves in the "
	    "last day" },
	{ F_LOOKUP, W_1H, 60, "lookups", "made ",
	    " lookups in the last hour" },
	{ F_SHARED, W_1D, 5, "shared_customers", "revealed without a case ",
	    " customers that principals of other orgs also revealed without "
	    "a case this week" },
	{ F_WIDE, W_1D, 6, "wide_reveals", "revealed 3 or more fields at "
	    "once ", " times in the last day" },
	{ F_WIDE, W_30D, 10, "wide_reveals", "revealed 3 or more fields at "
	    "once ", " times in the last 30 days" },
	{ F_RATIO, W_1D, 30, "reveals_per_case", "revealed ",
	    " records per case handled in the last day" },
};
#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))

static void
used_init(void)
{
	static const struct {
		const uint8_t *f;
		size_t n;
	} cols[NW] = {
		{ cols_m, M_COLS }, { cols_q, Q_COLS }, { cols_h, H_COLS },
		{ cols_d, D_COLS },
	};
	size_t i;
	int w, f;

	for (i = 0; i < NSIGS; i++) {
		used[sigs[i].w][sigs[i].f] = true;
		/* Wide reveals are read against the peers' share. */
		if (sigs[i].f == F_WIDE)
			used[sigs[i].w][F_WSHARE] = true;
	}
	used[W_1D][F_REVEAL] = true;	/* the per-case ratio's gate */
	for (w = 0; w < NW; w++) {
		for (f = 0; f < NF; f++)
			col_of[w][f] = -1;
		for (i = 0; i < cols[w].n; i++)
			col_of[w][cols[w].f[i]] = (int8_t)i;
		for (f = 0; f < NSF; f++) {
			pair_of[w][f] = -1;
			if (used[w][f]) {
				pair_of[w][f] = (int8_t)npairs;
				pair_w[npairs] = (uint8_t)w;
				pair_f[npairs++] = (uint8_t)f;
			}
		}
	}
	/* Every count a signal reads has its ring column: a programmer's
	 * error otherwise, caught by any test run. */
	for (w = 0; w < NW; w++)
		for (f = 0; f < NF; f++)
			assert(!used[w][f] || col_of[w][f] >= 0);
	assert(!used[W_15M][F_CUST] || col_of[W_15M][F_REVEAL] >= 0);
	assert(!used[W_30D][F_CUST]);
	assert(!used[W_1D][F_RATIO] || col_of[W_1D][F_CASES] >= 0);
	for (w = 0; w < NW; w++)
		assert(!used[w][F_WSHARE] || (col_of[w][F_REVEAL] >= 0 &&
		    col_of[w][F_WIDE] >= 0));
}

/* Peers' statistics for p: its org and role, or the role across orgs
 * when too few of the group are active. */
static const struct group *
peers(const struct vg_detect *d, const struct principal *p)
{
	const struct group *g = &d->g[p->group];

	return g->active >= d->tu.min_active_peers ? g : &d->g[p->rgroup];
}

/* A signal found by score(): its numbers now, its words only if it
 * makes it into an alert (formatting is most of a score's cost). */
struct cand {
	struct vg_alert_signal s;	/* text "" until described */
	int src;			/* sigs[] index; OWN; CUSTOM: s.text */
	bool own;			/* compared with its own past */
	uint32_t x;
	double base;			/* peers' median, or own average */
};

#define SRC_OWN (-1)
#define SRC_CUSTOM (-2)

struct scored {
	struct cand c[NSIGS + 2];
	size_t n;
	double score;
};

static struct cand *
add_signal(struct scored *sc, int src, const char *name, const char *window,
    double value, double baseline, const char *basis, double z)
{
	struct cand *c;

	if (sc->n >= sizeof(sc->c) / sizeof(sc->c[0]))
		return NULL;
	c = &sc->c[sc->n++];
	memset(c, 0, sizeof(*c));
	c->src = src;
	copy_str(c->s.name, sizeof(c->s.name), name);
	copy_str(c->s.window, sizeof(c->s.window), window);
	c->s.value = value;
	c->s.baseline = baseline;
	copy_str(c->s.basis, sizeof(c->s.basis), basis);
	c->s.z = z;
	return c;
}

/* The plain words of candidate c into its signal. */
static void
describe(struct cand *c)
{
	struct vg_alert_signal *s = &c->s;

	if (c->src == SRC_CUSTOM)
		return;
	if (c->src == SRC_OWN) {
		snprintf(s->text, sizeof(s->text), "revealed %u records today; "
		    "their own average day is %.0f", c->x, s->baseline);
	} else if (sigs[c->src].f == F_RATIO) {
		snprintf(s->text, sizeof(s->text), "%s%u.%u%s; %s %.1f",
		    sigs[c->src].pre, c->x / 10, c->x % 10, sigs[c->src].post,
		    c->own ? "their own usual" : "peers' median",
		    c->base / 10.0);
	} else if (sigs[c->src].f == F_WIDE) {
		snprintf(s->text, sizeof(s->text), "%s%u%s; their peers' share "
		    "of such reveals would make it %.0f", sigs[c->src].pre,
		    c->x, sigs[c->src].post, c->base);
	} else if (c->own) {
		snprintf(s->text, sizeof(s->text), "%s%u%s; their own usual "
		    "%.0f", sigs[c->src].pre, c->x, sigs[c->src].post,
		    c->base);
	} else {
		snprintf(s->text, sizeof(s->text), "%s%u%s; peers' median %.0f",
		    sigs[c->src].pre, c->x, sigs[c->src].post, c->base);
	}
}

static int
by_z(const void *a, const void *b)
{
	const struct vg_alert_signal *x = &((const struct cand *)a)->s;
	const struct vg_alert_signal *y = &((const struct cand *)b)->s;

	/* Stable for equal z: by name, then window, so the order is a
	 * function of the values alone. */
	if (x->z != y->z)
		return x->z > y->z ? -1 : 1;
	if (strcmp(x->name, y->name) != 0)
		return strcmp(x->name, y->name);
	return strcmp(x->window, y->window);
}

/* The least scale of a count whose usual value is m, so that a MAD of 0
 * (most peers alike) does not make every count infinite: Poisson noise,
 * whose spread is sqrt(m), with a longer tail than that at small m. */
static double
scale_floor(int f, double m)
{
	double a = 1.0 + 0.5 * sqrt(m), b = sqrt(m);

	if (f == F_RATIO)
		return 10.0 + 0.5 * m;
	return a > b ? a : b;
}

/* True when candidate i (of c[], strongest first) counts the very reveals
 * that a stronger one counts: the same window, the same number, both a
 * kind of reveal (an exporter's reveals are all without a case: one
 * piece of evidence, not two). */
static bool
same_evidence(const struct cand *c, size_t i)
{
	static const bool reveal_kind[NSF] = {
		[F_REVEAL] = true, [F_NOCASE] = true, [F_BUNDLE] = true,
		[F_SELFCASE] = true, [F_WIDE] = true,
	};
	size_t j;

	if (c[i].src < 0 || !reveal_kind[sigs[c[i].src].f])
		return false;
	for (j = 0; j < i; j++)
		if (c[j].src >= 0 && reveal_kind[sigs[c[j].src].f] &&
		    sigs[c[j].src].w == sigs[c[i].src].w && c[j].x == c[i].x)
			return true;
	return false;
}

/* How far x lies in the upper tail of a Poisson count of mean m (at
 * least 1), as a normal z: P(X >= x) = P(Gamma(x) <= m), by the
 * Wilson-Hilferty cube root. */
static double
poisson_z(uint32_t x, double m)
{
	double xx = x;

	if (m < 1.0)
		m = 1.0;
	if (xx <= m)
		return 0;
	return 3.0 * sqrt(xx) * (1.0 - 1.0 / (9.0 * xx) - cbrt(m / xx));
}

/* Every signal of p at time t with z >= 3, and the combined score: the
 * strongest z plus a quarter of the others (a count that is a stronger
 * one's very reveals adds nothing).  Each count is compared with p's
 * peers.  While too few of its role are active for a median, it is
 * compared with its own past if that is long enough for the window (the
 * month and wide reveals excepted), else with nothing but the minimums:
 * work when nobody of one's role works stands out.  A principal whose
 * role has too few members at all is compared only with its own past. */
static void
score(const struct vg_detect *d, const struct principal *p, int64_t t,
    struct scored *sc)
{
	const struct group *g = peers(d, p);
	bool few = tiny(d, p), lone = alone(d, p);
	const struct own *o = few && p->own != 0 ? &d->own[p->own - 1] :
	    NULL;
	struct cand *c;
	size_t i;

	sc->n = 0;
	sc->score = 0;
	for (i = 0; i < NSIGS; i++) {
		const struct sigdef *s = &sigs[i];
		uint32_t x = value(p, s->w, s->f, t);
		double base, scale, z, ratio = s->f == F_RATIO ? 10.0 : 1.0;
		uint32_t gate = s->f == F_RATIO ?
		    value(p, s->w, F_REVEAL, t) : x;
		bool own = o != NULL && s->w != W_30D && s->f != F_WIDE &&
		    o->n[s->w] >= OWN_WARM;

		if (gate < s->min || (lone && !own))
			continue;
		if (own) {
			int k = pair_of[s->w][s->f];

			base = o->mean[k];
			/* A mean absolute deviation: 1.2533 of it is a
			 * standard deviation, as 1.4826 of a MAD. */
			scale = 1.2533 * o->dev[k];
			if (s->f < NF) {
				base *= coverage(s->w, t);
				scale *= coverage(s->w, t);
			}
		} else if (s->f == F_WIDE) {
			/* Against what the peers' share of wide reveals
			 * predicts for as many reveals: where every case
			 * needs three fields (a store's delivery) none is
			 * wide beyond need.  Too few peers with reveals:
			 * no share to compare with. */
			struct stat2 sh = g->st[s->w][F_WSHARE];
			double n = value(p, s->w, F_REVEAL, t);
			double q = sh.median / 1000.0;

			if (sh.n < d->tu.min_active_peers)
				continue;
			base = q * n;
			scale = sqrt(n * q * (1.0 - q));
			if (scale < 1.4826 * sh.mad / 1000.0 * n)
				scale = 1.4826 * sh.mad / 1000.0 * n;
		} else if (few) {
			base = 0;
			scale = 0;
		} else {
			struct stat2 st = g->st[s->w][s->f];

			base = st.median;
			scale = 1.4826 * st.mad;
		}
		if (scale < scale_floor(s->f, base))
			scale = scale_floor(s->f, base);
		z = ((double)x - base) / scale;
		/* One principal's own counts, watched all day long: a
		 * Poisson tail's own z, where it is the smaller. */
		if (own && s->f != F_RATIO && poisson_z(x, base) < z)
			z = poisson_z(x, base);
		if (z < 3)
			continue;
		c = add_signal(sc, (int)i, s->name, win_name[s->w],
		    x / ratio, base / ratio, own ? "own" : "peers", z);
		if (c != NULL) {
			c->own = own;
			c->x = x;
			c->base = base;
		}
	}
	/* Against its own past: today's reveals so far. */
	if (p->days >= d->tu.own_history_days && p->day_no == slot_of(t, 86400)) {
		double m = p->ewma, x = p->day_reveals;
		double scale = sqrt(m) + 1.0, z;

		if (scale < 0.2 * m)
			scale = 0.2 * m;
		z = (x - m) / scale;
		if (x >= 3 * m + 30 && z >= 3 && (c = add_signal(sc, SRC_OWN,
		    "own_history", "1d", x, m, "own", z)) != NULL)
			c->x = p->day_reveals;
	}
	if (sc->n == 0)
		return;
	qsort(sc->c, sc->n, sizeof(sc->c[0]), by_z);
	sc->score = sc->c[0].s.z;
	for (i = 1; i < sc->n; i++)
		if (!same_evidence(sc->c, i))
			sc->score += 0.25 * sc->c[i].s.z;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Fills and raises an alert for p. */
static void
raise_alert(struct vg_detect *d, struct principal *p, const char *rule,
    enum vg_severity sev, double sc_value, struct scored *sc,
    const char *node, uint64_t seq, int64_t time_ns)
{
	struct vg_alert a;
	const struct group *g = &d->g[p->group];
	unsigned char h[8];
	crypto_generichash_state st;
	size_t i, n;
	int node_i = -1;

	memset(&a, 0, sizeof(a));
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)rule,
	    strlen(rule) + 1);
	crypto_generichash_update(&st, (const unsigned char *)p->id,
	    strlen(p->id) + 1);
	crypto_generichash_update(&st, (const unsigned char *)node,
	    strlen(node) + 1);
	{
		unsigned char b[16];

		for (i = 0; i < 8; i++) {
			b[i] = (unsigned char)(seq >> (56 - 8 * i));
			b[8 + i] = (unsigned char)((uint64_t)time_ns >>
			    (56 - 8 * i));
		}
		crypto_generichash_update(&st, b, sizeof(b));
	}
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(a.id, "al_", 3);
	sodium_bin2hex(a.id + 3, sizeof(a.id) - 3, h, sizeof(h));
	a.time_ns = time_ns;
	copy_str(a.principal, sizeof(a.principal), p->id);
	copy_str(a.org, sizeof(a.org), p->known ? g->org : "");
	copy_str(a.role, sizeof(a.role), p->known ? g->role : "");
	copy_str(a.rule, sizeof(a.rule), rule);
	a.severity = sev;
	a.score = sc_value;
	a.action = sev == VG_SEV_CRITICAL ? d->tu.on_critical :
	    sev == VG_SEV_HIGH ? d->tu.on_high :
	    sev == VG_SEV_MEDIUM ? d->tu.on_medium : VG_CONTAIN_NONE;
	copy_str(a.node, sizeof(a.node), node);
	for (i = 0; i < sc->n && a.nsignals < VG_ALERT_SIGNALS_MAX; i++) {
		describe(&sc->c[i]);
		a.signal[a.nsignals++] = sc->c[i].s;
	}
	if (a.nsignals > 0)
		copy_str(a.summary, sizeof(a.summary), a.signal[0].text);
	/* The evidence: p's recent entries on this node, and this one. */
	for (i = 0; i < d->nnodes; i++)
		if (strcmp(d->nodes[i], node) == 0)
			node_i = (int)i;
	if (seq != UINT64_MAX)
		a.seq[a.nseqs++] = seq;
	for (i = 0; i < p->ev_n; i++) {
		size_t k = (p->ev_i + EVIDENCE - 1 - i) % EVIDENCE;

		if (p->ev_node[k] == node_i && p->ev[k] != seq &&
		    a.nseqs < VG_ALERT_SEQS_MAX)
			a.seq[a.nseqs++] = p->ev[k];
	}
	qsort(a.seq, a.nseqs, sizeof(a.seq[0]), cmp_u64);
	for (i = 1, n = a.nseqs > 0; i < a.nseqs; i++)
		if (a.seq[i] != a.seq[n - 1])
			a.seq[n++] = a.seq[i];
	a.nseqs = n;
	p->level = (uint8_t)sev;
	p->level_t = time_ns / 1000000000;
	d->st.alerts++;
	if (d->o.alert != NULL)
		d->o.alert(d->o.alert_ctx, &a);
}

/* Raises an alert when p's severity now is above what it was last
 * alerted at (or that was a day ago). */
static void
judge(struct vg_detect *d, struct principal *p,
    const struct vg_audit_record *rec, int64_t t)
{
	struct scored sc;
	enum vg_severity sev;

	if (t - p->level_t >= LEVEL_S)
		p->level = 0;
	if (p->level >= VG_SEV_HIGH)
		return;		/* nothing a score can add today */
	score(d, p, t, &sc);
	if (sc.score >= d->tu.high)
		sev = VG_SEV_HIGH;
	else if (sc.score >= d->tu.medium)
		sev = VG_SEV_MEDIUM;
	else
		return;
	if (t - p->level_t >= LEVEL_S)
		p->level = 0;
	if ((int)sev <= p->level)
		return;
	/* The rule is the strongest signal's basis. */
	raise_alert(d, p, sc.c[0].src == SRC_OWN || sc.c[0].own ?
	    "own_history" : "peer_outlier", sev, sc.score, &sc, rec->node,
	    rec->seq, rec->time_ns);
}

static void
honey_alert(struct vg_detect *d, struct principal *p,
    const struct vg_audit_record *rec, int64_t t)
{
	struct scored sc;
	struct cand *c;
	char words[VG_ALERT_TEXT_MAX];

	/* One critical alert per principal per hour: the first one already
	 * contains them; more would only be noise. */
	if (p->honey_t != 0 && t - p->honey_t < 3600)
		return;
	p->honey_t = t;
	sc.n = 0;
	snprintf(words, sizeof(words), "accessed a honeytoken record "
	    "(action %.32s, decision %.16s): no legitimate work ever touches "
	    "one",
	    rec->action, rec->decision);
	c = add_signal(&sc, SRC_CUSTOM, "honeytoken", "", 1, 0, "rule", 0);
	if (c != NULL)
		copy_str(c->s.text, sizeof(c->s.text), words);
	raise_alert(d, p, "honeytoken", VG_SEV_CRITICAL, 100.0, &sc,
	    rec->node, rec->seq, rec->time_ns);
}

/* Members of an org elevated together: at least 3, and 15 % of its
 * active members, each mildly (score 3 or more) and none yet alerted. */
static void
org_check(struct vg_detect *d, int64_t t, const struct vg_audit_record *rec)
{
	size_t i;

	if (d->norgs == 0)
		return;		/* nobody yet */
	if (grow((void **)&d->org_active, &d->org_cnt_cap, d->norgs,
	    sizeof(uint32_t)) != 0)
		return;
	{
		size_t cap = d->org_cnt_cap;
		uint32_t *e = realloc(d->org_elevated, cap * sizeof(*e));

		if (e == NULL)
			return;
		d->org_elevated = e;
	}
	memset(d->org_active, 0, d->norgs * sizeof(uint32_t));
	memset(d->org_elevated, 0, d->norgs * sizeof(uint32_t));
	for (i = 0; i < d->np; i++) {
		const struct principal *p = P(d, i);
		struct scored sc;

		if (!p->known || p->last_t <= t - ACTIVE_S)
			continue;
		d->org_active[p->org]++;
		score(d, p, t, &sc);
		if (sc.score >= 3)
			d->org_elevated[p->org]++;
	}
	for (i = 0; i < d->np; i++) {
		struct principal *p = P(d, i);
		uint32_t el = d->org_elevated[p->org];
		uint32_t act = d->org_active[p->org];
		struct vg_alert_signal *s0;
		struct scored sc;
		char words[VG_ALERT_TEXT_MAX];

		if (!p->known || p->last_t <= t - ACTIVE_S || el < 3 ||
		    el * 100 < act * 15)
			continue;
		if (t - p->level_t >= LEVEL_S)
			p->level = 0;
		if (p->level >= VG_SEV_MEDIUM)
			continue;
		score(d, p, t, &sc);
		if (sc.score < 3)
			continue;
		snprintf(words, sizeof(words), "%u of the %u active members "
		    "of %s are elevated together", el, act, d->orgs[p->org]);
		if (sc.n == sizeof(sc.c) / sizeof(sc.c[0]))
			sc.n--;
		memmove(&sc.c[1], &sc.c[0], sc.n * sizeof(sc.c[0]));
		sc.n++;
		memset(&sc.c[0], 0, sizeof(sc.c[0]));
		sc.c[0].src = SRC_CUSTOM;
		s0 = &sc.c[0].s;
		copy_str(s0->name, sizeof(s0->name), "org_elevated");
		copy_str(s0->window, sizeof(s0->window), "1d");
		s0->value = el;
		s0->baseline = act;
		copy_str(s0->basis, sizeof(s0->basis), "org");
		s0->z = sc.score;
		copy_str(s0->text, sizeof(s0->text), words);
		raise_alert(d, p, "org_elevated", VG_SEV_MEDIUM, sc.score,
		    &sc, rec->node, UINT64_MAX, t * 1000000000);
	}
}

/*-----------------------------------------------------------------------------
 * Feeding
 */

static bool
access_action(const char *a)
{
	return strcmp(a, "reveal") == 0 || strcmp(a, "view") == 0 ||
	    strcmp(a, "lookup") == 0;
}

static bool
in_region(const struct principal *p, const char *detail)
{
	char r[VG_PRINCIPAL_REGION_MAX];

	if (p->region[0] == '\0' || !detail_get(detail, "region", r,
	    sizeof(r)))
		return true;	/* nothing to compare: not foreign */
	return strcmp(r, p->region) == 0;
}

/* The number of fields in a comma list ("" has none). */
static unsigned
nfields(const char *list)
{
	unsigned n = *list != '\0';

	for (; *list != '\0'; list++)
		n += *list == ',';
	return n;
}

/* A refusal that the detector's own containment caused (vigild marks
 * them: "contained=1" on a reveal refused while suspended, "why=contained"
 * on a step-up it asked for): its outcome, not the principal's probing. */
static bool
contained_refusal(const struct vg_audit_record *rec)
{
	char v[16];

	if (strcmp(rec->decision, "deny") == 0)
		return detail_get(rec->detail, "contained", v, sizeof(v)) &&
		    strcmp(v, "1") == 0;
	if (strcmp(rec->decision, "step_up") == 0)
		return detail_get(rec->detail, "why", v, sizeof(v)) &&
		    strcmp(v, "contained") == 0;
	return false;
}

int
vg_detect_feed(struct vg_detect *d, const struct vg_audit_record *rec)
{
	struct principal *p;
	int64_t t = rec->time_ns / 1000000000;
	bool allow = strcmp(rec->decision, "allow") == 0;
	bool access = access_action(rec->action);
	uint32_t pi;

	if (d->now != 0 && t < d->now - 60)
		return VG_EINVAL;
	if (t > d->now)
		d->now = t;
	d->st.entries++;
	/* Baselines first, as of the boundary just crossed: they describe
	 * everything before it, nothing after. */
	if (t / RECOMPUTE_S > d->recomputed) {
		int64_t b = t / RECOMPUTE_S * RECOMPUTE_S;

		d->recomputed = t / RECOMPUTE_S;
		recompute(d, b);
		org_check(d, b, rec);
	}
	/* The detector's own containment entries and alert handling are
	 * outcomes, not behaviour. */
	if (strncmp(rec->action, "detect.", 7) == 0 ||
	    strncmp(rec->action, "alert.", 6) == 0 || rec->principal[0] == '\0')
		return 0;
	if ((p = principal_get(d, rec->principal)) == NULL)
		return VG_ENOMEM;
	pi = p->idx;
	if (t - p->last_t > SPELL_GAP_S)
		p->spell_t = t;		/* a new stretch of work */
	if (t > p->last_t)
		p->last_t = t;
	own_roll(p, slot_of(t, 86400));

	if (rec->has_customer && d->o.nhoney > 0 &&
	    bsearch(rec->customer, d->o.honey, d->o.nhoney, VG_IDBYTES,
	    memcmp_id) != NULL) {
		evidence(d, p, rec);
		honey_alert(d, p, rec, t);
		return 0;
	}
	if (strcmp(rec->action, "case.open") == 0 ||
	    strcmp(rec->action, "case.assign") == 0) {
		char who[VG_PRINCIPAL_ID_MAX + 1];

		if (!allow || !detail_get(rec->detail, "assignee", who,
		    sizeof(who)))
			return 0;
		if (strcmp(who, p->id) == 0) {
			if (strcmp(rec->action, "case.open") == 0 &&
			    rec->case_id[0] != '\0') {
				p->self[p->self_i].h = case_hash(rec->case_id);
				p->self[p->self_i].t = (uint32_t)t;
				p->self_i = (uint8_t)((p->self_i + 1) %
				    SELF_CASES);
			}
		} else {
			struct principal *a = principal_get(d, who);

			if (a == NULL)
				return VG_ENOMEM;
			count(a, F_CASES, t, 1);
		}
		return 0;
	}
	if (contained_refusal(rec))
		return 0;
	if (!access) {
		if (strcmp(rec->decision, "deny") == 0) {
			count(p, F_DENY, t, 1);
			evidence(d, p, rec);
			judge(d, p, rec, t);
		}
		return 0;
	}
	evidence(d, p, rec);
	if (strcmp(rec->action, "lookup") == 0)
		count(p, F_LOOKUP, t, 1);
	if (strcmp(rec->decision, "miss") == 0)
		count(p, F_MISS, t, 1);
	else if (strcmp(rec->decision, "deny") == 0)
		count(p, F_DENY, t, 1);
	if (allow) {
		if (p->has_shift && !vg_shift_contains(&p->shift, t))
			count(p, F_OFFSHIFT, t, 1);
		if (rec->has_customer) {
			touch_customer(p, rec->customer, t);
			if (!in_region(p, rec->detail))
				count(p, F_FOREIGN, t, 1);
		}
	}
	if (allow && strcmp(rec->action, "reveal") == 0) {
		bool nocase = rec->case_id[0] == '\0', self = false;
		size_t k;

		count(p, F_REVEAL, t, 1);
		p->day_reveals++;
		if (nfields(rec->fields) >= WIDE_FIELDS)
			count(p, F_WIDE, t, 1);
		if (has_word(rec->fields, "name") &&
		    has_word(rec->fields, "phone") &&
		    has_word(rec->fields, "account_id"))
			count(p, F_BUNDLE, t, 1);
		if (nocase) {
			count(p, F_NOCASE, t, 1);
		} else {
			uint32_t h = case_hash(rec->case_id);

			for (k = 0; k < SELF_CASES; k++)
				if (p->self[k].h == h &&
				    t - (int64_t)p->self[k].t <= SELF_CASE_S)
					self = true;
			if (self)
				count(p, F_SELFCASE, t, 1);
		}
		if ((nocase || self) && rec->has_customer) {
			shared_note(d, p, pi, rec->customer, t);
		}
	}
	judge(d, p, rec, t);
	return 0;
}

/*-----------------------------------------------------------------------------
 * Life cycle
 */

void
vg_detect_tuning_default(struct vg_detect_tuning *t)
{
	memset(t, 0, sizeof(*t));
	t->medium = 6.0;
	t->high = 10.0;
	t->on_medium = VG_CONTAIN_STEP_UP;
	t->on_high = VG_CONTAIN_SUSPEND;
	t->on_critical = VG_CONTAIN_SUSPEND;
	t->min_active_peers = 5;
	t->own_history_days = 7;
}

int
vg_detect_new(const struct vg_detect_opts *o, struct vg_detect **out)
{
	struct vg_detect *d;

	*out = NULL;
	if (sodium_init() < 0)
		return VG_ECRYPTO;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return VG_ENOMEM;
	d->o = *o;
	if (o->tuning != NULL)
		d->tu = *o->tuning;
	else
		vg_detect_tuning_default(&d->tu);
	pthread_once(&used_once, used_init);
	d->shared = calloc(SHARED_SLOTS, sizeof(*d->shared));
	if (d->shared == NULL) {
		free(d);
		return VG_ENOMEM;
	}
	*out = d;
	return 0;
}

void
vg_detect_free(struct vg_detect *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nblk; i++)
		free(d->blk[i]);
	free(d->blk);
	for (i = 0; i < d->ng; i++)
		free(d->g[i].members);
	free(d->g);
	free(d->ptab);
	free(d->orgs);
	free(d->shared);
	free(d->scratch);
	free(d->vals);
	free(d->own);
	free(d->org_active);
	free(d->org_elevated);
	free(d);
}

void
vg_detect_stats(const struct vg_detect *d, struct vg_detect_stats *st)
{
	size_t i, bytes;

	*st = d->st;
	st->principals = d->np;
	st->groups = d->ng;
	bytes = sizeof(*d) + d->nblk * (BLK * sizeof(struct principal) +
	    sizeof(void *)) + d->ptab_cap * sizeof(uint32_t) +
	    d->gcap * sizeof(struct group) + d->orgcap * sizeof(*d->orgs) +
	    (size_t)SHARED_SLOTS * sizeof(struct shared_slot) +
	    d->scratch_cap * sizeof(uint32_t) + d->vals_cap * sizeof(uint32_t) +
	    d->owncap * sizeof(struct own) +
	    2 * d->org_cnt_cap * sizeof(uint32_t);
	for (i = 0; i < d->ng; i++)
		bytes += d->g[i].cap * sizeof(uint32_t);
	st->bytes = bytes;
}

/*-----------------------------------------------------------------------------
 * Replay
 */

struct replay_ctx {
	vg_detect_alert_fn cb;
	void *cb_ctx;
	int64_t from, to;
};

static void
replay_alert(void *ctx, const struct vg_alert *a)
{
	struct replay_ctx *c = ctx;

	if (a->time_ns >= c->from && a->time_ns < c->to)
		c->cb(c->cb_ctx, a);
}

static int
vigild_chain(void *ctx, const char *chain)
{
	(void)ctx;
	return strcmp(chain, "cli") != 0;
}

int
vg_detect_replay(const char *vault_dir, const struct vg_detect_opts *o,
    int64_t from_ns, int64_t to_ns, vg_detect_alert_fn cb, void *cb_ctx,
    struct vg_detect_stats *st, char *err, size_t errcap)
{
	struct replay_ctx c = { cb, cb_ctx, from_ns, to_ns };
	struct vg_detect_opts oo = *o;
	const struct vg_audit_record *rec;
	struct vg_audit_merge *m = NULL;
	struct vg_detect *d = NULL;
	char dir[PATH_MAX];
	int64_t start;
	int rc;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/audit", vault_dir) >=
	    sizeof(dir)) {
		snprintf(err, errcap, "vault path too long");
		return VG_ETOOBIG;
	}
	/* Windows reach back 30 days at most: a day more fills them. */
	start = from_ns > INT64_MIN + 31 * 86400 * 1000000000ll ?
	    from_ns - 31 * 86400 * 1000000000ll : INT64_MIN;
	oo.alert = replay_alert;
	oo.alert_ctx = &c;
	if ((rc = vg_detect_new(&oo, &d)) != 0) {
		snprintf(err, errcap, "cannot start the detector");
		return rc;
	}
	rc = vg_audit_merge_open(dir, vigild_chain, NULL, &m, err, errcap);
	while (rc == 0 && (rc = vg_audit_merge_next(m, &rec)) == 1) {
		if (rec->time_ns < start)
			continue;
		if (rec->time_ns >= to_ns)
			break;
		rc = vg_detect_feed(d, rec);
		if (rc == VG_EINVAL) {
			snprintf(err, errcap, "chain %s, seq %llu: entries out "
			    "of time order", rec->node,
			    (unsigned long long)rec->seq);
			rc = VG_EFORMAT;
		} else if (rc != 0) {
			snprintf(err, errcap, "out of memory at chain %s, seq "
			    "%llu", rec->node, (unsigned long long)rec->seq);
		}
	}
	if (rc < 0 && m != NULL && err[0] == '\0')
		snprintf(err, errcap, "%s", vg_audit_merge_error(m));
	if (rc == 1)
		rc = 0;
	if (st != NULL)
		vg_detect_stats(d, st);
	vg_audit_merge_close(m);
	vg_detect_free(d);
	return rc < 0 ? rc : 0;
}
