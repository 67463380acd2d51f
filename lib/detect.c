/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The insider-threat detector (vigil/detect.h): per-principal counters in
 * rings of fixed slots, peer baselines by median and MAD, own history by
 * an exponential average, collusion signals, honeytokens.  Everything is
 * a function of the entries fed, in order, and of the directory: no
 * wall clock, no randomness, iteration in insertion order.
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vigil/detect.h"
#include "vigil/shift.h"

/* What is counted.  Each is a number of entries, except F_CUST (distinct
 * customers, from a bitmap) and F_RATIO (reveals per case handled, x10),
 * which exist only in peer statistics and signals. */
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
	NF,			/* counted in rings */
	F_CUST = NF,		/* distinct customers */
	F_RATIO,		/* reveals per case handled, x10 */
	NSF			/* in statistics */
};

enum win { W_15M, W_1H, W_1D, NW };

static const char *const win_name[NW] = { "15m", "1h", "1d" };

/* Rings: slot length in seconds, slots kept, slots a window sums. */
#define M_SLOTS 15		/* minutes: the 15-minute window */
#define Q_SLOTS 4		/* quarter hours: the hour */
#define H_SLOTS 24		/* hours: the day */
#define HBITS 256		/* distinct customers this clock hour */
#define DBITS 1024		/* ... this UTC day */
#define SELF_CASES 8		/* self-opened cases remembered */
#define EVIDENCE 16		/* recent entries kept as evidence */
#define SELF_CASE_S 7200	/* a reveal this soon after opening */
#define RECOMPUTE_S 600		/* peer baselines every 10 minutes */
#define ACTIVE_S 86400		/* a member active within a day counts */
#define LEVEL_S 86400		/* an alert level lasts a day */
#define SHARED_SLOTS (1u << 17)	/* customers in the collusion table */
#define SHARED_WAYS 3		/* principals remembered per customer */
#define SHARED_S (7 * 86400)	/* ... for a week */
#define SHARED_PROBE 8

struct principal {
	char id[VG_PRINCIPAL_ID_MAX + 1];
	uint32_t idx;			/* in d's blocks */
	uint32_t group, rgroup, org;	/* org+role, role, org */
	char region[VG_PRINCIPAL_REGION_MAX];
	struct vg_shift shift;
	bool has_shift, known;
	int64_t last_t;			/* seconds */
	uint32_t m_last, q_last, h_last;	/* newest slot numbers */
	uint16_t m[M_SLOTS][NF], q[Q_SLOTS][NF], h[H_SLOTS][NF];
	uint32_t sum[NW][NF];		/* each ring's total: its window */
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

struct stat2 {
	uint32_t median, mad;
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
	uint32_t *vals;			/* per principal, NW x NSF */
	size_t vals_cap;
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

static uint64_t
str_hash(const char *s)
{
	/* FNV-1a: placement in a table only, never output. */
	uint64_t h = 1469598103934665603ull;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ull;
	}
	return h;
}

static void
scopy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
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

/* The value of key in a detail such as "assignee=a,channel=phone":
 * copied into out; 0 when absent. */
static int
detail_get(const char *detail, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	const char *s = detail;

	while (*s != '\0') {
		const char *end = s + strcspn(s, ", ");

		if ((size_t)(end - s) > kl && memcmp(s, key, kl) == 0 &&
		    s[kl] == '=') {
			size_t n = (size_t)(end - s) - kl - 1;

			if (n >= cap)
				n = cap - 1;
			memcpy(out, s + kl + 1, n);
			out[n] = '\0';
			return 1;
		}
		s = *end != '\0' ? end + 1 : end;
	}
	return 0;
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

/* Moves a ring of n slots to slot `now`, taking the slots it reuses out
 * of the running total sum[].  Returns the row to count into, or NULL
 * for a slot already gone. */
static uint16_t *
ring_at(uint16_t (*r)[NF], unsigned n, uint32_t *last, uint32_t now,
    uint32_t *sum)
{
	if (now > *last) {
		uint32_t s;
		int f;

		if (now - *last >= n) {
			memset(r, 0, sizeof(r[0]) * n);
			memset(sum, 0, sizeof(uint32_t) * NF);
		} else {
			for (s = *last + 1; s <= now; s++) {
				for (f = 0; f < NF; f++)
					sum[f] -= r[s % n][f];
				memset(r[s % n], 0, sizeof(r[0]));
			}
		}
		*last = now;
	} else if (*last - now >= n) {
		return NULL;
	}
	return r[now % n];
}

/* The window of n slots ending at slot `at`, from the running total:
 * at the ring's own newest slot (the usual case) that total itself;
 * later, without the slots that have left the window since. */
static uint32_t
ring_sum(const uint16_t (*r)[NF], unsigned n, uint32_t last,
    const uint32_t *sum, uint32_t at, int f)
{
	uint32_t s, v;

	if (at <= last)
		return sum[f];
	if (at - last >= n)
		return 0;
	v = sum[f];
	for (s = last + 1 - n; s <= at - n; s++)
		v -= r[s % n][f];
	return v;
}

static uint32_t
slot_of(int64_t t, int64_t len)
{
	return (uint32_t)(t / len);
}

/* Window w's count of feature f for p at time t (seconds). */
static uint32_t
window(const struct principal *p, int w, int f, int64_t t)
{
	switch (w) {
	case W_15M:
		return ring_sum((const uint16_t (*)[NF])p->m, M_SLOTS,
		    p->m_last, p->sum[W_15M], slot_of(t, 60), f);
	case W_1H:
		return ring_sum((const uint16_t (*)[NF])p->q, Q_SLOTS,
		    p->q_last, p->sum[W_1H], slot_of(t, 900), f);
	default:
		return ring_sum((const uint16_t (*)[NF])p->h, H_SLOTS,
		    p->h_last, p->sum[W_1D], slot_of(t, 3600), f);
	}
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
	return window(p, W_15M, F_REVEAL, t);
}

/* Any feature, including the derived ones, as peers are compared. */
static uint32_t
value(const struct principal *p, int w, int f, int64_t t)
{
	if (f == F_CUST)
		return customers(p, w, t);
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
	scopy(d->orgs[d->norgs], sizeof(d->orgs[0]), org);
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
	scopy(d->g[d->ng].org, sizeof(d->g[0].org), role_wide ? "*" : org);
	scopy(d->g[d->ng].role, sizeof(d->g[0].role), role);
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
	scopy(p->id, sizeof(p->id), id);
	p->idx = (uint32_t)d->np;
	memset(&dir, 0, sizeof(dir));
	if (d->o.directory != NULL &&
	    d->o.directory(d->o.directory_ctx, id, &dir) == 0) {
		p->known = true;
		scopy(p->region, sizeof(p->region), dir.region);
		if (dir.shift[0] != '\0' &&
		    vg_shift_parse(dir.shift, &p->shift, NULL) == 0)
			p->has_shift = true;
	} else {
		/* Unknown: a group of its own, so nobody's baseline moves. */
		scopy(dir.org, sizeof(dir.org), id);
		scopy(dir.role, sizeof(dir.role), "unknown");
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
	uint16_t *row;

	if ((row = ring_at(p->m, M_SLOTS, &p->m_last, slot_of(t, 60),
	    p->sum[W_15M])))
		p->sum[W_15M][f] += inc16(&row[f], by);
	if ((row = ring_at(p->q, Q_SLOTS, &p->q_last, slot_of(t, 900),
	    p->sum[W_1H])))
		p->sum[W_1H][f] += inc16(&row[f], by);
	if ((row = ring_at(p->h, H_SLOTS, &p->h_last, slot_of(t, 3600),
	    p->sum[W_1D])))
		p->sum[W_1D][f] += inc16(&row[f], by);
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
		scopy(d->nodes[d->nnodes++], sizeof(d->nodes[0]), rec->node);
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
	struct stat2 s = { 0, 0 };
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
 * statistics (set once by vg_detect_new). */
static bool used[NW][NSF];
static pthread_once_t used_once = PTHREAD_ONCE_INIT;

/* Peer baselines as of t: every active principal's values once, then
 * each group's median and MAD over its active members. */
static void
recompute(struct vg_detect *d, int64_t t)
{
	size_t gi, i;

	if (grow((void **)&d->scratch, &d->scratch_cap, d->np + 1,
	    sizeof(*d->scratch)) != 0 ||
	    grow((void **)&d->vals, &d->vals_cap, (d->np + 1) * NW * NSF,
	    sizeof(*d->vals)) != 0)
		return;		/* the old baselines stay */
	for (i = 0; i < d->np; i++) {
		const struct principal *p = P(d, i);
		uint32_t *v = &d->vals[i * NW * NSF];
		int w, f;

		if (p->last_t <= t - ACTIVE_S)
			continue;
		for (w = 0; w < NW; w++)
			for (f = 0; f < NSF; f++)
				v[w * NSF + f] = used[w][f] ?
				    value(p, w, f, t) : 0;
	}
	for (gi = 0; gi < d->ng; gi++) {
		struct group *g = &d->g[gi];
		int w, f;

		g->active = 0;
		for (w = 0; w < NW; w++)
			for (f = 0; f < NSF; f++) {
				size_t n = 0;

				if (!used[w][f])
					continue;
				for (i = 0; i < g->nmembers; i++) {
					uint32_t m = g->members[i];

					if (P(d, m)->last_t > t - ACTIVE_S)
						d->scratch[n++] = d->vals[
						    (size_t)m * NW * NSF +
						    (size_t)w * NSF + (size_t)f];
				}
				g->active = (uint32_t)n;
				g->st[w][f] = robust(d->scratch, n);
			}
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
	{ F_RATIO, W_1D, 30, "reveals_per_case", "revealed ",
	    " records per case handled in the last day" },
};
#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))

static void
used_init(void)
{
	size_t i;

	for (i = 0; i < NSIGS; i++)
		used[sigs[i].w][sigs[i].f] = true;
	used[W_1D][F_REVEAL] = true;	/* the per-case ratio's gate */
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
	uint32_t x, median;
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
	scopy(c->s.name, sizeof(c->s.name), name);
	scopy(c->s.window, sizeof(c->s.window), window);
	c->s.value = value;
	c->s.baseline = baseline;
	scopy(c->s.basis, sizeof(c->s.basis), basis);
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
		snprintf(s->text, sizeof(s->text), "%s%u.%u%s; peers' median "
		    "%u.%u", sigs[c->src].pre, c->x / 10, c->x % 10,
		    sigs[c->src].post, c->median / 10, c->median % 10);
	} else {
		snprintf(s->text, sizeof(s->text), "%s%u%s; peers' median %u",
		    sigs[c->src].pre, c->x, sigs[c->src].post, c->median);
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

/* Every signal of p at time t with z >= 3, and the combined score: the
 * strongest z plus a quarter of the others. */
static void
score(const struct vg_detect *d, const struct principal *p, int64_t t,
    struct scored *sc)
{
	const struct group *g = peers(d, p);
	struct cand *c;
	size_t i;

	sc->n = 0;
	sc->score = 0;
	for (i = 0; i < NSIGS; i++) {
		const struct sigdef *s = &sigs[i];
		uint32_t x = value(p, s->w, s->f, t);
		struct stat2 st = g->st[s->w][s->f];
		double scale, z, floor;
		uint32_t gate = s->f == F_RATIO ?
		    value(p, s->w, F_REVEAL, t) : x;

		if (gate < s->min)
			continue;
		/* A MAD of 0 (most peers alike) must not make every count
		 * infinite: Poisson-like noise sets the least scale. */
		floor = 1.0 + 0.5 * sqrt((double)st.median);
		if (s->f == F_RATIO)
			floor = 10.0 + 0.5 * (double)st.median;
		scale = 1.4826 * st.mad;
		if (scale < floor)
			scale = floor;
		z = ((double)x - (double)st.median) / scale;
		if (z < 3)
			continue;
		c = add_signal(sc, (int)i, s->name, win_name[s->w],
		    s->f == F_RATIO ? x / 10.0 : x, s->f == F_RATIO ?
		    st.median / 10.0 : st.median, "peers", z);
		if (c != NULL) {
			c->x = x;
			c->median = st.median;
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
	scopy(a.principal, sizeof(a.principal), p->id);
	scopy(a.org, sizeof(a.org), p->known ? g->org : "");
	scopy(a.role, sizeof(a.role), p->known ? g->role : "");
	scopy(a.rule, sizeof(a.rule), rule);
	a.severity = sev;
	a.score = sc_value;
	a.action = sev == VG_SEV_CRITICAL ? d->tu.on_critical :
	    sev == VG_SEV_HIGH ? d->tu.on_high :
	    sev == VG_SEV_MEDIUM ? d->tu.on_medium : VG_CONTAIN_NONE;
	scopy(a.node, sizeof(a.node), node);
	for (i = 0; i < sc->n && a.nsignals < VG_ALERT_SIGNALS_MAX; i++) {
		describe(&sc->c[i]);
		a.signal[a.nsignals++] = sc->c[i].s;
	}
	if (a.nsignals > 0)
		scopy(a.summary, sizeof(a.summary), a.signal[0].text);
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
	raise_alert(d, p, sc.c[0].src == SRC_OWN ?
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
		scopy(c->s.text, sizeof(c->s.text), words);
	raise_alert(d, p, "honeytoken", VG_SEV_CRITICAL, 100.0, &sc,
	    rec->node, rec->seq, rec->time_ns);
}

/* Members of an org elevated together: at least 3, and 15 % of its
 * active members, each mildly (score 3 or more) and none yet alerted. */
static void
org_check(struct vg_detect *d, int64_t t, const struct vg_audit_record *rec)
{
	size_t i;

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
		scopy(s0->name, sizeof(s0->name), "org_elevated");
		scopy(s0->window, sizeof(s0->window), "1d");
		s0->value = el;
		s0->baseline = act;
		scopy(s0->basis, sizeof(s0->basis), "org");
		s0->z = sc.score;
		scopy(s0->text, sizeof(s0->text), words);
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
