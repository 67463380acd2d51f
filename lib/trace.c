/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leak tracing (include/vigil/trace.h): who held the leaked customers,
 * and how unlikely that is by chance.
 *
 * Feeding keeps, for every holder (a principal, or an export), how many
 * distinct customers of each region it obtained with a field of
 * interest in clear (sparse: most principals serve one or two regions),
 * and for every customer of interest the list of holders that obtained
 * it ("touches"), each with the first audit entry that shows it.  A
 * principal-customer pair is counted once, through a set of 64-bit pair
 * keys.
 *
 * Tracing a leak then walks the leaked customers' touches once to build
 * each holder's overlap, groups the leaked customers by (region, number
 * of principals who revealed them) for the expected overlaps, and runs
 * the sequential naming of trace.h over those groups.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/trace.h"
#include "mix.h"
#include "textbuf.h"

#define NONE UINT32_MAX
/* Principal-customer pairs counted exactly (1 GiB of table); past it,
 * a reveal of a pair not seen yet... or seen is counted again: an upper
 * bound of each access volume, so the test only grows more cautious. */
#define PAIRS_MAX (UINT64_C(1) << 26)

struct stratum {
	char region[8];
	uint64_t M;		/* customers in the vault */
	uint64_t D;		/* principal-customer pairs revealed */
	uint32_t g0, g1;	/* its groups, during a computation */
};

struct dcount {
	uint32_t s;		/* stratum */
	uint32_t n;		/* distinct customers */
};

struct exmeta {
	char consumer[VG_EXPORT_NAME_MAX + 1];
	char recipient[VG_EXPORT_NAME_MAX + 1];
	char principal[VG_AUDIT_STR_MAX + 1];
	char chain[VG_CHAIN_NAME_MAX + 1];
	uint64_t seq;
	int64_t time_ns;
	uint64_t rows;
};

struct holder {
	char *name;
	bool is_export;
	uint32_t nd, capd;
	struct dcount *d;
	uint64_t accessed;
	struct exmeta *ex;
};

struct touch {
	uint32_t holder;
	uint32_t types;
	uint32_t next;
	uint32_t chain;
	int64_t time_ns;
	uint64_t seq;
};

struct cust {
	unsigned char id[VG_IDBYTES];
	uint32_t head;		/* first touch, NONE */
	uint32_t stratum;	/* NONE: region not seen */
};

struct leaked {
	unsigned char id[VG_IDBYTES];
	uint32_t cust;		/* NONE: nobody obtained it */
	uint32_t types;
	uint32_t stratum;
	uint32_t nprin;		/* principals who revealed a leaked field */
	uint32_t group;		/* NONE when nprin == 0 */
	bool honey;
	bool covered;
};

struct group {
	uint32_t s, n;
	uint64_t cnt;		/* uncovered leaked customers in it */
};

/* Per holder, during a computation. */
struct hstat {
	uint64_t x, res, honey, canary;
	uint32_t types;
	double lambda, lp, lp_adj, lp_res;
	int64_t first, last;
	uint32_t e0, e1;	/* its (leaked, touch) pairs in t->adj */
	uint32_t rank;
	bool named;
};

struct adj {
	uint32_t leaked;
	uint32_t touch;
};

struct vg_trace {
	struct vg_trace_opts o;
	struct vg_schema schema;

	struct stratum strata[VG_TRACE_REGIONS_MAX];
	uint32_t nstrata;

	struct holder *h;
	uint32_t nh, caph;
	uint32_t *hmap;		/* open addressing: holder index or NONE */
	uint32_t hmask;

	char (*chains)[VG_CHAIN_NAME_MAX + 1];
	uint32_t nchains, capchains;

	uint64_t *pairs;	/* 0: empty */
	uint64_t npairs, pmask;
	bool pairs_full;	/* past PAIRS_MAX: volumes are upper bounds */

	struct cust *c;
	uint32_t nc, capc;
	uint32_t *cmap;
	uint32_t cmask;

	struct touch *tp;
	uint32_t ntp, captp;

	/* The leak. */
	struct leaked *l;
	uint32_t nl, capl;
	uint32_t *lmap;
	uint32_t lmask;
	uint64_t canary_rows;
	struct {
		char id[VG_EXPORT_ID_MAX + 1];
		uint64_t n;
	} *canary;
	uint32_t ncanary, capcanary;

	/* The last computation. */
	struct hstat *hs;
	struct adj *adj;
	uint32_t nadj;
	struct group *g;
	uint32_t ng;
	struct vg_trace_suspect *sus;
	struct vg_trace_evidence *ev;
	struct vg_trace_export *exp;
	struct vg_trace_result res;
};

/*-----------------------------------------------------------------------------
 * Small helpers
 */

static uint64_t
id_hash(const unsigned char id[VG_IDBYTES])
{
	uint64_t a, b;

	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	return fmix64(a ^ fmix64(b));
}

static int
grow(void **v, uint32_t *cap, uint32_t need, size_t each)
{
	uint32_t n;
	void *p;

	if (need <= *cap)
		return 0;
	n = *cap != 0 ? *cap : 64;
	while (n < need) {
		if (n > UINT32_MAX / 2)
			return VG_ENOMEM;
		n *= 2;
	}
	if ((size_t)n > SIZE_MAX / each)
		return VG_ENOMEM;
	p = realloc(*v, (size_t)n * each);
	if (p == NULL)
		return VG_ENOMEM;
	*v = p;
	*cap = n;
	return 0;
}

/* A table of uint32 indexes, NONE-filled, of 2^k slots. */
static uint32_t *
table_new(uint32_t slots)
{
	uint32_t *m = malloc((size_t)slots * sizeof(*m));

	if (m != NULL)
		memset(m, 0xff, (size_t)slots * sizeof(*m));
	return m;
}

/*-----------------------------------------------------------------------------
 * Strata, chains, holders
 */

static uint32_t
stratum_of(struct vg_trace *t, const char *region)
{
	uint32_t i;

	for (i = 0; i < t->nstrata; i++)
		if (strcmp(t->strata[i].region, region) == 0)
			return i;
	if (t->nstrata == VG_TRACE_REGIONS_MAX)
		return NONE;
	copy_str(t->strata[i].region, sizeof(t->strata[i].region), region);
	t->strata[i].M = 0;
	t->strata[i].D = 0;
	t->nstrata++;
	return i;
}

static uint32_t
chain_of(struct vg_trace *t, const char *name)
{
	uint32_t i;

	/* Entries come in runs from one chain: look at the last first. */
	if (t->nchains > 0 && strcmp(t->chains[t->nchains - 1], name) == 0)
		return t->nchains - 1;
	for (i = 0; i < t->nchains; i++)
		if (strcmp(t->chains[i], name) == 0)
			return i;
	if (t->nchains == VG_AUDIT_MERGE_MAX ||
	    grow((void **)&t->chains, &t->capchains, t->nchains + 1,
	    sizeof(*t->chains)) != 0)
		return NONE;
	copy_str(t->chains[i], sizeof(t->chains[i]), name);
	t->nchains++;
	return i;
}

static int
hmap_rehash(struct vg_trace *t, uint32_t slots)
{
	uint32_t *m = table_new(slots), i;

	if (m == NULL)
		return VG_ENOMEM;
	for (i = 0; i < t->nh; i++) {
		uint32_t k = (uint32_t)str_hash(t->h[i].name) & (slots - 1);

		while (m[k] != NONE)
			k = (k + 1) & (slots - 1);
		m[k] = i;
	}
	free(t->hmap);
	t->hmap = m;
	t->hmask = slots - 1;
	return 0;
}

/* The holder named name (created if new); NONE when full or no memory.
 * Principals and exports share the table: an export id ("ex_...") is
 * not a principal id's form, and the kind is checked. */
static uint32_t
holder_of(struct vg_trace *t, const char *name, bool is_export)
{
	uint32_t k = (uint32_t)str_hash(name) & t->hmask, i;
	struct holder *h;

	while ((i = t->hmap[k]) != NONE) {
		if (t->h[i].is_export == is_export &&
		    strcmp(t->h[i].name, name) == 0)
			return i;
		k = (k + 1) & t->hmask;
	}
	if (t->nh == VG_TRACE_HOLDERS_MAX ||
	    grow((void **)&t->h, &t->caph, t->nh + 1, sizeof(*t->h)) != 0)
		return NONE;
	h = &t->h[t->nh];
	memset(h, 0, sizeof(*h));
	if ((h->name = strdup(name)) == NULL)
		return NONE;
	h->is_export = is_export;
	if (is_export && (h->ex = calloc(1, sizeof(*h->ex))) == NULL) {
		free(h->name);
		return NONE;
	}
	if (is_export)
		h->ex->seq = UINT64_MAX;
	t->hmap[k] = t->nh++;
	if ((uint64_t)t->nh * 2 > (uint64_t)t->hmask + 1 &&
	    hmap_rehash(t, (t->hmask + 1) * 2) != 0)
		return NONE;
	return t->nh - 1;
}

static int
d_add(struct holder *h, uint32_t s)
{
	uint32_t i;

	h->accessed++;
	for (i = 0; i < h->nd; i++)
		if (h->d[i].s == s) {
			h->d[i].n++;
			return 0;
		}
	if (grow((void **)&h->d, &h->capd, h->nd + 1, sizeof(*h->d)) != 0)
		return VG_ENOMEM;
	h->d[h->nd].s = s;
	h->d[h->nd].n = 1;
	h->nd++;
	return 0;
}

/* Adds the pair (holder, customer): 1 if new, 0 if known, < 0. */
static int
pair_add(struct vg_trace *t, uint32_t holder, const unsigned char *id)
{
	uint64_t key = fmix64(id_hash(id) + 0x9e3779b97f4a7c15ull *
	    ((uint64_t)holder + 1)) | 1, k;

	if (t->npairs >= PAIRS_MAX) {
		k = key & t->pmask;
		while (t->pairs[k] != 0) {
			if (t->pairs[k] == key)
				return 0;
			k = (k + 1) & t->pmask;
		}
		t->pairs_full = true;
		return 1;
	}
	if ((t->npairs + 1) * 2 > t->pmask + 1) {
		uint64_t slots = (t->pmask + 1) * 2, i;
		uint64_t *m = calloc(slots, sizeof(*m));

		if (m == NULL)
			return VG_ENOMEM;
		for (i = 0; i <= t->pmask; i++) {
			if (t->pairs[i] == 0)
				continue;
			k = t->pairs[i] & (slots - 1);
			while (m[k] != 0)
				k = (k + 1) & (slots - 1);
			m[k] = t->pairs[i];
		}
		free(t->pairs);
		t->pairs = m;
		t->pmask = slots - 1;
	}
	k = key & t->pmask;
	while (t->pairs[k] != 0) {
		if (t->pairs[k] == key)
			return 0;
		k = (k + 1) & t->pmask;
	}
	t->pairs[k] = key;
	t->npairs++;
	return 1;
}

/*-----------------------------------------------------------------------------
 * Customers
 */

static uint32_t
cust_find(const struct vg_trace *t, const unsigned char *id)
{
	uint32_t k = (uint32_t)id_hash(id) & t->cmask, i;

	while ((i = t->cmap[k]) != NONE) {
		if (memcmp(t->c[i].id, id, VG_IDBYTES) == 0)
			return i;
		k = (k + 1) & t->cmask;
	}
	return NONE;
}

static uint32_t
cust_add(struct vg_trace *t, const unsigned char *id)
{
	uint32_t k, i;

	if ((i = cust_find(t, id)) != NONE)
		return i;
	if (t->nc == NONE - 1 ||
	    grow((void **)&t->c, &t->capc, t->nc + 1, sizeof(*t->c)) != 0)
		return NONE;
	if ((uint64_t)(t->nc + 1) * 2 > (uint64_t)t->cmask + 1) {
		uint32_t slots = (t->cmask + 1) * 2, *m = table_new(slots);

		if (m == NULL)
			return NONE;
		for (i = 0; i < t->nc; i++) {
			k = (uint32_t)id_hash(t->c[i].id) & (slots - 1);
			while (m[k] != NONE)
				k = (k + 1) & (slots - 1);
			m[k] = i;
		}
		free(t->cmap);
		t->cmap = m;
		t->cmask = slots - 1;
	}
	i = t->nc++;
	memcpy(t->c[i].id, id, VG_IDBYTES);
	t->c[i].head = NONE;
	t->c[i].stratum = NONE;
	k = (uint32_t)id_hash(id) & t->cmask;
	while (t->cmap[k] != NONE)
		k = (k + 1) & t->cmask;
	t->cmap[k] = i;
	return i;
}

/*-----------------------------------------------------------------------------
 * Feeding
 */

int
vg_trace_new(const struct vg_trace_opts *o, struct vg_trace **out)
{
	struct vg_trace *t;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return VG_ENOMEM;
	if (o != NULL)
		t->o = *o;
	if (t->o.schema != NULL)
		t->schema = *t->o.schema;
	else
		vg_schema_default(&t->schema);
	t->o.schema = &t->schema;
	if (t->o.types == 0)
		t->o.types = VG_TRACE_TYPE(VG_FT_NAME) |
		    VG_TRACE_TYPE(VG_FT_PHONE) | VG_TRACE_TYPE(VG_FT_EMAIL) |
		    VG_TRACE_TYPE(VG_FT_ACCOUNT) | VG_TRACE_PSEUDONYM;
	if (!(t->o.alpha > 0 && t->o.alpha < 1))
		t->o.alpha = 0.001;
	if (t->o.ring_max == 0)
		t->o.ring_max = 50;
	if (t->o.evidence_max == 0)
		t->o.evidence_max = 10;
	if (t->o.evidence_max > VG_TRACE_EVIDENCE_MAX)
		t->o.evidence_max = VG_TRACE_EVIDENCE_MAX;
	t->hmask = 1023;
	t->cmask = 1023;
	t->lmask = 1023;
	t->pmask = 4095;
	t->hmap = table_new(t->hmask + 1);
	t->cmap = table_new(t->cmask + 1);
	t->lmap = table_new(t->lmask + 1);
	t->pairs = calloc(t->pmask + 1, sizeof(*t->pairs));
	if (t->hmap == NULL || t->cmap == NULL || t->lmap == NULL ||
	    t->pairs == NULL) {
		vg_trace_free(t);
		return VG_ENOMEM;
	}
	*out = t;
	return 0;
}

static void
free_result(struct vg_trace *t)
{
	free(t->hs);
	free(t->adj);
	free(t->g);
	free(t->sus);
	free(t->ev);
	free(t->exp);
	t->hs = NULL;
	t->adj = NULL;
	t->g = NULL;
	t->sus = NULL;
	t->ev = NULL;
	t->exp = NULL;
	memset(&t->res, 0, sizeof(t->res));
}

void
vg_trace_free(struct vg_trace *t)
{
	uint32_t i;

	if (t == NULL)
		return;
	free_result(t);
	for (i = 0; i < t->nh; i++) {
		free(t->h[i].name);
		free(t->h[i].d);
		free(t->h[i].ex);
	}
	free(t->h);
	free(t->hmap);
	free(t->chains);
	free(t->pairs);
	free(t->c);
	free(t->cmap);
	free(t->tp);
	free(t->l);
	free(t->lmap);
	free(t->canary);
	free(t);
}

int
vg_trace_watch(struct vg_trace *t, const unsigned char id[VG_IDBYTES])
{
	return cust_add(t, id) == NONE ? VG_ENOMEM : 0;
}

int
vg_trace_stratum(struct vg_trace *t, const char *region, uint64_t customers)
{
	uint32_t s = stratum_of(t, region);

	if (s == NONE)
		return VG_ETOOBIG;
	t->strata[s].M = customers;
	return 0;
}

/* The types of the fields in an audit entry's comma list. */
static uint32_t
types_of(const struct vg_trace *t, const char *list)
{
	uint32_t types = 0;
	const char *s = list;

	while (*s != '\0') {
		size_t n = strcspn(s, ",");
		size_t i;

		for (i = 0; i < t->schema.nfields; i++) {
			const struct vg_field *f = &t->schema.field[i];

			if (strlen(f->name) == n && memcmp(f->name, s, n) == 0) {
				types |= VG_TRACE_TYPE(f->type);
				break;
			}
		}
		s += n;
		if (*s == ',')
			s++;
	}
	return types;
}

static uint64_t
detail_u64(const char *detail, const char *key)
{
	char v[24];

	if (!detail_get(detail, key, v, sizeof(v)))
		return 0;
	return strtoull(v, NULL, 10);
}

static int
feed_manifest(struct vg_trace *t, const struct vg_audit_record *rec)
{
	char id[VG_EXPORT_ID_MAX + 1];
	struct exmeta *m;
	uint32_t h;

	if (!detail_get(rec->detail, "export", id, sizeof(id)))
		return 0;
	if ((h = holder_of(t, id, true)) == NONE)
		return VG_ENOMEM;
	m = t->h[h].ex;
	detail_get(rec->detail, "consumer", m->consumer, sizeof(m->consumer));
	detail_get(rec->detail, "recipient", m->recipient,
	    sizeof(m->recipient));
	copy_str(m->principal, sizeof(m->principal), rec->principal);
	copy_str(m->chain, sizeof(m->chain), rec->node);
	m->seq = rec->seq;
	m->time_ns = rec->time_ns;
	m->rows = detail_u64(rec->detail, "rows");
	return 0;
}

int
vg_trace_feed(struct vg_trace *t, const struct vg_audit_record *rec)
{
	char name[VG_AUDIT_STR_MAX + 1], region[8];
	bool is_row;
	uint32_t types, h, s, c, i, chain;
	int rc;

	if ((t->o.from_ns != 0 && rec->time_ns < t->o.from_ns) ||
	    (t->o.to_ns != 0 && rec->time_ns >= t->o.to_ns) ||
	    strcmp(rec->decision, "allow") != 0)
		return 0;
	if (strcmp(rec->action, "export") == 0)
		return feed_manifest(t, rec);
	is_row = strcmp(rec->action, "export.row") == 0;
	if ((!is_row && strcmp(rec->action, "reveal") != 0) ||
	    !rec->has_customer)
		return 0;
	/* An export row gives the consumer its pseudonym too. */
	types = types_of(t, rec->fields) | (is_row ? VG_TRACE_PSEUDONYM : 0);
	if ((types &= t->o.types) == 0)
		return 0;
	if (is_row) {
		if (!detail_get(rec->detail, "export", name, sizeof(name)))
			return 0;
	} else {
		if (rec->principal[0] == '\0')
			return 0;
		copy_str(name, sizeof(name), rec->principal);
	}
	if (!detail_get(rec->detail, "region", region, sizeof(region)))
		region[0] = '\0';
	if ((s = stratum_of(t, region)) == NONE)
		return VG_ETOOBIG;
	if ((h = holder_of(t, name, is_row)) == NONE)
		return t->nh == VG_TRACE_HOLDERS_MAX ? VG_ETOOBIG : VG_ENOMEM;
	if ((rc = pair_add(t, h, rec->customer)) < 0)
		return rc;
	if (rc == 1) {
		if ((rc = d_add(&t->h[h], s)) != 0)
			return rc;
		if (!is_row)
			t->strata[s].D++;
	}
	c = t->o.all_customers ? cust_add(t, rec->customer) :
	    cust_find(t, rec->customer);
	if (c == NONE)
		return t->o.all_customers ? VG_ENOMEM : 0;
	t->c[c].stratum = s;
	for (i = t->c[c].head; i != NONE; i = t->tp[i].next)
		if (t->tp[i].holder == h) {
			t->tp[i].types |= types;
			return 0;
		}
	if ((chain = chain_of(t, rec->node)) == NONE ||
	    t->ntp == NONE - 1 ||
	    grow((void **)&t->tp, &t->captp, t->ntp + 1, sizeof(*t->tp)) != 0)
		return VG_ENOMEM;
	i = t->ntp++;
	t->tp[i].holder = h;
	t->tp[i].types = types;
	t->tp[i].chain = chain;
	t->tp[i].time_ns = rec->time_ns;
	t->tp[i].seq = rec->seq;
	t->tp[i].next = t->c[c].head;
	t->c[c].head = i;
	return 0;
}

/*-----------------------------------------------------------------------------
 * The leak
 */

void
vg_trace_leak_reset(struct vg_trace *t)
{
	free_result(t);
	t->nl = 0;
	memset(t->lmap, 0xff, ((size_t)t->lmask + 1) * sizeof(*t->lmap));
	t->ncanary = 0;
	t->canary_rows = 0;
}

static uint32_t
leak_find(const struct vg_trace *t, const unsigned char *id, uint32_t *slot)
{
	uint32_t k = (uint32_t)id_hash(id) & t->lmask, i;

	while ((i = t->lmap[k]) != NONE) {
		if (memcmp(t->l[i].id, id, VG_IDBYTES) == 0)
			break;
		k = (k + 1) & t->lmask;
	}
	*slot = k;
	return i;
}

int
vg_trace_leak_add(struct vg_trace *t, const unsigned char id[VG_IDBYTES],
    uint32_t types, const char *region, bool honey)
{
	struct leaked *e;
	uint32_t k, i;

	free_result(t);
	if ((i = leak_find(t, id, &k)) != NONE) {
		t->l[i].types |= types;
		t->l[i].honey |= honey;
		return 0;
	}
	if (t->nl == NONE - 1 ||
	    grow((void **)&t->l, &t->capl, t->nl + 1, sizeof(*t->l)) != 0)
		return VG_ENOMEM;
	if ((uint64_t)(t->nl + 1) * 2 > (uint64_t)t->lmask + 1) {
		uint32_t slots = (t->lmask + 1) * 2, *m = table_new(slots), j;

		if (m == NULL)
			return VG_ENOMEM;
		for (j = 0; j < t->nl; j++) {
			uint32_t q = (uint32_t)id_hash(t->l[j].id) & (slots - 1);

			while (m[q] != NONE)
				q = (q + 1) & (slots - 1);
			m[q] = j;
		}
		free(t->lmap);
		t->lmap = m;
		t->lmask = slots - 1;
		(void)leak_find(t, id, &k);
	}
	e = &t->l[t->nl];
	memset(e, 0, sizeof(*e));
	memcpy(e->id, id, VG_IDBYTES);
	e->types = types;
	e->honey = honey;
	e->cust = cust_find(t, id);
	e->stratum = NONE;
	if (region != NULL && region[0] != '\0')
		e->stratum = stratum_of(t, region);
	if (e->stratum == NONE && e->cust != NONE)
		e->stratum = t->c[e->cust].stratum;
	if (e->stratum == NONE)
		e->stratum = stratum_of(t, "");
	if (e->stratum == NONE)
		return VG_ETOOBIG;
	t->lmap[k] = t->nl++;
	return 0;
}

int
vg_trace_leak_canary(struct vg_trace *t, const char *id)
{
	uint32_t i;

	free_result(t);
	t->canary_rows++;
	for (i = 0; i < t->ncanary; i++)
		if (strcmp(t->canary[i].id, id) == 0) {
			t->canary[i].n++;
			return 0;
		}
	if (grow((void **)&t->canary, &t->capcanary, t->ncanary + 1,
	    sizeof(*t->canary)) != 0)
		return VG_ENOMEM;
	copy_str(t->canary[i].id, sizeof(t->canary[i].id), id);
	t->canary[i].n = 1;
	t->ncanary++;
	return 0;
}

/*-----------------------------------------------------------------------------
 * Statistics
 */

double
vg_poisson_log10_tail(uint64_t x, double lambda)
{
	double k = (double)x, lt, s, r, cdf;
	uint64_t i;

	if (x == 0)
		return 0;
	if (!(lambda > 1e-300))
		lambda = 1e-300;
	if (k > lambda) {
		/* P(X = x) times 1 + lambda/(x+1) + lambda^2/((x+1)(x+2))...,
		 * a series whose terms fall from the first. */
		lt = -lambda + k * log(lambda) - lgamma(k + 1);
		s = 1;
		r = 1;
		for (i = 1; i < 10000000; i++) {
			r *= lambda / (k + (double)i);
			s += r;
			if (r < 1e-17 * s)
				break;
		}
		return (lt + log(s)) / M_LN10;
	}
	/* The tail holds most of the mass: one minus the head. */
	cdf = 0;
	for (i = 0; i < x; i++)
		cdf += exp(-lambda + (double)i * log(lambda) -
		    lgamma((double)i + 1));
	if (cdf >= 1)
		return log10(1e-17);
	return log10(1 - cdf);
}

/* Chance that principal h holds a customer of group g: a draw of its
 * g->n revealers, never below the uniform chance in its region. */
static double
q_of(const struct vg_trace *t, uint32_t d, const struct group *g)
{
	const struct stratum *st = &t->strata[g->s];
	double q = 0, u = 0;

	if (st->D > 0)
		q = (double)g->n * (double)d / (double)st->D;
	if (st->M > 0)
		u = (double)d / (double)st->M;
	if (u > q)
		q = u;
	return q > 1 ? 1 : q;
}

/* Expected overlap of principal h over the uncovered leaked customers. */
static double
lambda_of(const struct vg_trace *t, uint32_t h)
{
	const struct holder *hh = &t->h[h];
	double lam = 0;
	uint32_t i, j;

	for (i = 0; i < hh->nd; i++) {
		const struct stratum *st = &t->strata[hh->d[i].s];

		for (j = st->g0; j < st->g1; j++)
			if (t->g[j].cnt > 0)
				lam += (double)t->g[j].cnt *
				    q_of(t, hh->d[i].n, &t->g[j]);
	}
	return lam;
}

static int
cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

/* Groups the leaked customers revealed by at least one principal by
 * (stratum, revealers); sets each one's group. */
static int
build_groups(struct vg_trace *t)
{
	uint32_t i, j, n = 0;

	for (i = 0; i < t->nl; i++)
		if (t->l[i].nprin > 0)
			n++;
	if ((t->g = calloc(n + 1, sizeof(*t->g))) == NULL)
		return VG_ENOMEM;
	for (i = 0; i < t->nl; i++)
		if (t->l[i].nprin > 0) {
			t->g[t->ng].s = t->l[i].stratum;
			t->g[t->ng].n = t->l[i].nprin;
			t->ng++;
		}
	qsort(t->g, t->ng, sizeof(*t->g), cmp_group);
	for (i = 0, j = 0; i < t->ng; i++) {
		if (j > 0 && t->g[j - 1].s == t->g[i].s &&
		    t->g[j - 1].n == t->g[i].n) {
			t->g[j - 1].cnt++;
			continue;
		}
		t->g[j] = t->g[i];
		t->g[j].cnt = 1;
		j++;
	}
	t->ng = j;
	for (i = 0; i < t->nstrata; i++)
		t->strata[i].g0 = t->strata[i].g1 = 0;
	for (i = 0; i < t->ng; i++) {
		struct stratum *st = &t->strata[t->g[i].s];

		if (st->g1 == 0)
			st->g0 = i;
		st->g1 = i + 1;
	}
	for (i = 0; i < t->nl; i++) {
		struct group key;
		uint32_t lo = 0, hi = t->ng;

		t->l[i].group = NONE;
		if (t->l[i].nprin == 0)
			continue;
		key.s = t->l[i].stratum;
		key.n = t->l[i].nprin;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;

			if (cmp_group(&t->g[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		t->l[i].group = lo;
	}
	return 0;
}

/* Marks leaked customer i as explained: out of every later test. */
static void
cover(struct vg_trace *t, uint32_t i)
{
	struct leaked *e = &t->l[i];
	uint32_t k;

	if (e->covered)
		return;
	e->covered = true;
	if (e->group != NONE)
		t->g[e->group].cnt--;
	if (e->cust == NONE)
		return;
	for (k = t->c[e->cust].head; k != NONE; k = t->tp[k].next)
		if ((t->tp[k].types & e->types) != 0 &&
		    !t->h[t->tp[k].holder].is_export)
			t->hs[t->tp[k].holder].res--;
}

static void
cover_holder(struct vg_trace *t, uint32_t h)
{
	uint32_t k;

	for (k = t->hs[h].e0; k < t->hs[h].e1; k++)
		cover(t, t->adj[k].leaked);
}

/* Better first: smaller corrected p, larger overlap, then name. */
static int
better(const struct vg_trace *t, uint32_t a, double la, uint64_t xa,
    uint32_t b, double lb, uint64_t xb)
{
	if (la != lb)
		return la < lb;
	if (xa != xb)
		return xa > xb;
	return strcmp(t->h[a].name, t->h[b].name) < 0;
}

/* A suspect's sort key: what cmp_suspect needs, so that the sort has
 * no context (qsort has none; a static one would race between
 * tracers on two threads). */
struct skey {
	uint32_t h;
	bool named;
	uint32_t rank;
	double lp_adj;
	uint64_t x;
	const char *name;
};

/* Named first in naming order; then as better() orders them. */
static int
cmp_suspect(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;

	if (x->named != y->named)
		return x->named ? -1 : 1;
	if (x->named)
		return x->rank < y->rank ? -1 : 1;
	if (x->lp_adj != y->lp_adj)
		return x->lp_adj < y->lp_adj ? -1 : 1;
	if (x->x != y->x)
		return x->x > y->x ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
cmp_evidence(const void *a, const void *b)
{
	const struct vg_trace_evidence *x = a, *y = b;

	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(x->chain, y->chain);
}

/* Honey first, then oldest: which entries a suspect's evidence keeps. */
static int
cmp_keep(const void *a, const void *b)
{
	const struct vg_trace_evidence *x = a, *y = b;

	if (x->honey != y->honey)
		return x->honey ? -1 : 1;
	return cmp_evidence(a, b);
}

/* Fills the overlaps and the adjacency (holder -> its leaked customers). */
static int
overlaps(struct vg_trace *t)
{
	uint32_t i, k, *fill;

	for (i = 0; i < t->nl; i++) {
		struct leaked *e = &t->l[i];

		e->nprin = 0;
		e->covered = false;
		if (e->cust == NONE)
			continue;
		for (k = t->c[e->cust].head; k != NONE; k = t->tp[k].next) {
			struct hstat *s = &t->hs[t->tp[k].holder];

			if ((t->tp[k].types & e->types) == 0)
				continue;
			if (!t->h[t->tp[k].holder].is_export)
				e->nprin++;
			s->x++;
			s->types |= t->tp[k].types & e->types;
			if (e->honey)
				s->honey++;
			if (s->first == 0 || t->tp[k].time_ns < s->first)
				s->first = t->tp[k].time_ns;
			if (t->tp[k].time_ns > s->last)
				s->last = t->tp[k].time_ns;
			t->nadj++;
		}
	}
	if ((t->adj = calloc((size_t)t->nadj + 1, sizeof(*t->adj))) == NULL ||
	    (fill = calloc((size_t)t->nh + 1, sizeof(*fill))) == NULL)
		return VG_ENOMEM;
	for (i = 0, k = 0; i < t->nh; i++) {
		t->hs[i].e0 = t->hs[i].e1 = k;
		fill[i] = k;
		k += (uint32_t)t->hs[i].x;
	}
	for (i = 0; i < t->nl; i++) {
		struct leaked *e = &t->l[i];

		if (e->cust == NONE)
			continue;
		for (k = t->c[e->cust].head; k != NONE; k = t->tp[k].next) {
			uint32_t h = t->tp[k].holder;

			if ((t->tp[k].types & e->types) == 0)
				continue;
			t->adj[fill[h]].leaked = i;
			t->adj[fill[h]].touch = k;
			fill[h]++;
			t->hs[h].e1 = fill[h];
		}
	}
	free(fill);
	return 0;
}

static double
log10_ntested(uint64_t n)
{
	return n > 1 ? log10((double)n) : 0;
}

/* Named first, then by canaries, significance, overlap, id. */
static int
cmp_export(const void *a, const void *b)
{
	const struct vg_trace_export *x = a, *y = b;

	if (x->named != y->named)
		return x->named ? -1 : 1;
	if (x->canary_hits != y->canary_hits)
		return x->canary_hits > y->canary_hits ? -1 : 1;
	if (x->log10_p_adj != y->log10_p_adj)
		return x->log10_p_adj < y->log10_p_adj ? -1 : 1;
	if (x->overlap != y->overlap)
		return x->overlap > y->overlap ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Exports: their overlap against rows over customers, canaries. */
static int
trace_exports(struct vg_trace *t)
{
	uint64_t *per_stratum, nexports = 0;
	uint32_t i, j, n = 0;

	if ((per_stratum = calloc(t->nstrata + 1, sizeof(*per_stratum))) ==
	    NULL)
		return VG_ENOMEM;
	for (i = 0; i < t->nl; i++)
		per_stratum[t->l[i].stratum]++;
	for (i = 0; i < t->nh; i++)
		if (t->h[i].is_export)
			nexports++;
	for (i = 0; i < t->ncanary; i++)
		t->hs[holder_of(t, t->canary[i].id, true)].canary =
		    t->canary[i].n;
	for (i = 0; i < t->nh; i++) {
		struct hstat *s = &t->hs[i];
		const struct holder *h = &t->h[i];

		if (!h->is_export || (s->x == 0 && s->canary == 0))
			continue;
		s->lambda = 0;
		for (j = 0; j < h->nd; j++) {
			const struct stratum *st = &t->strata[h->d[j].s];
			double M = (double)(st->M > h->d[j].n ? st->M :
			    h->d[j].n);

			s->lambda += (double)per_stratum[h->d[j].s] *
			    (double)h->d[j].n / M;
		}
		s->lp = vg_poisson_log10_tail(s->x, s->lambda);
		s->lp_adj = s->lp + log10_ntested(nexports);
		if (s->lp_adj > 0)
			s->lp_adj = 0;
		s->named = s->canary > 0 || s->lp_adj < log10(t->o.alpha);
		n++;
	}
	free(per_stratum);
	if ((t->exp = calloc(n + 1, sizeof(*t->exp))) == NULL)
		return VG_ENOMEM;
	for (i = 0; i < t->nh; i++) {
		struct hstat *s = &t->hs[i];
		const struct holder *h = &t->h[i];
		struct vg_trace_export *x;

		if (!h->is_export || (s->x == 0 && s->canary == 0))
			continue;
		x = &t->exp[t->res.nexports++];
		copy_str(x->id, sizeof(x->id), h->name);
		copy_str(x->consumer, sizeof(x->consumer), h->ex->consumer);
		copy_str(x->recipient, sizeof(x->recipient),
		    h->ex->recipient);
		copy_str(x->principal, sizeof(x->principal),
		    h->ex->principal);
		copy_str(x->chain, sizeof(x->chain), h->ex->chain);
		x->manifest_seq = h->ex->seq;
		x->time_ns = h->ex->time_ns;
		x->rows = h->ex->rows != 0 ? h->ex->rows : h->accessed;
		x->overlap = s->x;
		x->canary_hits = s->canary;
		x->expected = s->lambda;
		x->log10_p = s->lp;
		x->log10_p_adj = s->lp_adj;
		x->named = s->named;
		/* What a named export explains is not the principals'. */
		if (s->named)
			cover_holder(t, i);
	}
	if (t->res.nexports > 0)
		qsort(t->exp, t->res.nexports, sizeof(*t->exp), cmp_export);
	return 0;
}

/* The sequential naming of trace.h. */
static void
name_principals(struct vg_trace *t, uint64_t ntested)
{
	double cut = log10(t->o.alpha), lnt = log10_ntested(ntested);
	uint32_t i, rank = 0;

	/* Proof first: whoever revealed a leaked honeytoken. */
	for (;;) {
		uint32_t best = NONE;

		for (i = 0; i < t->nh; i++) {
			struct hstat *s = &t->hs[i];

			if (t->h[i].is_export || s->named || s->honey == 0)
				continue;
			if (best == NONE || s->honey > t->hs[best].honey ||
			    (s->honey == t->hs[best].honey &&
			    better(t, i, s->lp_adj, s->x, best,
			    t->hs[best].lp_adj, t->hs[best].x)))
				best = i;
		}
		if (best == NONE || rank >= t->o.ring_max)
			break;
		t->hs[best].named = true;
		t->hs[best].rank = ++rank;
		t->hs[best].lp_res = t->hs[best].lp_adj;
		cover_holder(t, best);
	}
	while (rank < t->o.ring_max) {
		uint32_t best = NONE;
		double bl = 0;

		for (i = 0; i < t->nh; i++) {
			struct hstat *s = &t->hs[i];
			double lp;

			if (t->h[i].is_export || s->named || s->x == 0)
				continue;
			if (s->res == 0) {
				s->lp_res = 0;
				continue;
			}
			lp = vg_poisson_log10_tail(s->res, lambda_of(t, i)) +
			    lnt;
			s->lp_res = lp > 0 ? 0 : lp;
			if (best == NONE || better(t, i, s->lp_res, s->res, best,
			    bl, t->hs[best].res)) {
				best = i;
				bl = s->lp_res;
			}
		}
		if (best == NONE || !(bl < cut))
			break;
		t->hs[best].named = true;
		t->hs[best].rank = ++rank;
		cover_holder(t, best);
	}
}

static int
build_suspects(struct vg_trace *t)
{
	struct skey *order;
	uint32_t i, n = 0;
	size_t nev = 0;

	for (i = 0; i < t->nh; i++)
		if (!t->h[i].is_export && t->hs[i].x > 0)
			n++;
	if ((order = malloc(((size_t)n + 1) * sizeof(*order))) == NULL)
		return VG_ENOMEM;
	for (i = 0, n = 0; i < t->nh; i++) {
		const struct hstat *s = &t->hs[i];

		if (t->h[i].is_export || s->x == 0)
			continue;
		order[n].h = i;
		order[n].named = s->named;
		order[n].rank = s->rank;
		order[n].lp_adj = s->lp_adj;
		order[n].x = s->x;
		order[n].name = t->h[i].name;
		n++;
	}
	qsort(order, n, sizeof(*order), cmp_suspect);
	t->sus = calloc((size_t)n + 1, sizeof(*t->sus));
	t->ev = calloc((size_t)t->nadj + 1, sizeof(*t->ev));
	if (t->sus == NULL || t->ev == NULL) {
		free(order);
		return VG_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const struct hstat *s = &t->hs[order[i].h];
		struct vg_trace_suspect *u = &t->sus[i];
		struct vg_trace_evidence *ev = t->ev + nev;
		uint32_t k, m = 0;

		copy_str(u->principal, sizeof(u->principal),
		    t->h[order[i].h].name);
		u->overlap = s->x;
		u->accessed = t->h[order[i].h].accessed;
		u->expected = s->lambda;
		u->log10_p = s->lp;
		u->log10_p_adj = s->lp_adj;
		u->named = s->named;
		u->rank_named = s->rank;
		u->residual = s->res;
		u->log10_p_residual = s->lp_res;
		u->honey = s->honey;
		u->types = s->types;
		u->first_ns = s->first;
		u->last_ns = s->last;
		for (k = s->e0; k < s->e1; k++) {
			const struct touch *tp = &t->tp[t->adj[k].touch];
			const struct leaked *e = &t->l[t->adj[k].leaked];

			copy_str(ev[m].chain, sizeof(ev[m].chain),
			    t->chains[tp->chain]);
			ev[m].seq = tp->seq;
			ev[m].time_ns = tp->time_ns;
			memcpy(ev[m].customer, e->id, VG_IDBYTES);
			ev[m].types = tp->types & e->types;
			ev[m].honey = e->honey;
			m++;
		}
		qsort(ev, m, sizeof(*ev), cmp_keep);
		if (m > t->o.evidence_max)
			m = (uint32_t)t->o.evidence_max;
		qsort(ev, m, sizeof(*ev), cmp_evidence);
		u->evidence = ev;
		u->nevidence = m;
		nev += m;
		if (u->named)
			t->res.nnamed++;
	}
	t->res.nsuspects = n;
	t->res.suspects = t->sus;
	free(order);
	return 0;
}

/* Leaked customers held by the named principals. */
static int
count_explained(struct vg_trace *t)
{
	bool *mark = calloc((size_t)t->nl + 1, sizeof(*mark));
	uint32_t i, k;

	if (mark == NULL)
		return VG_ENOMEM;
	for (i = 0; i < t->nh; i++) {
		const struct hstat *s = &t->hs[i];

		if (t->h[i].is_export || !s->named)
			continue;
		for (k = s->e0; k < s->e1; k++)
			if (!mark[t->adj[k].leaked]) {
				mark[t->adj[k].leaked] = true;
				t->res.explained++;
			}
	}
	free(mark);
	return 0;
}

int
vg_trace_compute(struct vg_trace *t, const struct vg_trace_result **res)
{
	uint64_t ntested = 0;
	uint32_t i;
	int rc;

	*res = NULL;
	free_result(t);
	t->nadj = 0;
	t->ng = 0;
	/* Exports named by a canary whose rows were not fed (a log
	 * window) are holders too. */
	for (i = 0; i < t->ncanary; i++)
		if (holder_of(t, t->canary[i].id, true) == NONE)
			return VG_ENOMEM;
	if ((t->hs = calloc((size_t)t->nh + 1, sizeof(*t->hs))) == NULL)
		return VG_ENOMEM;
	if ((rc = overlaps(t)) != 0 || (rc = build_groups(t)) != 0)
		goto fail;
	for (i = 0; i < t->nh; i++)
		if (!t->h[i].is_export && t->h[i].accessed > 0)
			ntested++;
	/* Marginal significance of every principal with an overlap. */
	for (i = 0; i < t->nh; i++) {
		struct hstat *s = &t->hs[i];

		s->res = s->x;
		if (t->h[i].is_export || s->x == 0)
			continue;
		s->lambda = lambda_of(t, i);
		s->lp = vg_poisson_log10_tail(s->x, s->lambda);
		s->lp_adj = s->lp + log10_ntested(ntested);
		if (s->lp_adj > 0)
			s->lp_adj = 0;
		s->lp_res = s->lp_adj;
	}
	t->res.principals_tested = ntested;
	if ((rc = trace_exports(t)) != 0)
		goto fail;
	name_principals(t, ntested);
	if ((rc = build_suspects(t)) != 0)
		goto fail;
	t->res.alpha = t->o.alpha;
	t->res.volumes_exact = !t->pairs_full;
	t->res.leaked = t->nl;
	t->res.canary_hits = t->canary_rows;
	t->res.exports = t->exp;
	for (i = 0; i < t->nl; i++) {
		if (t->l[i].honey)
			t->res.honey_hits++;
		if (t->l[i].nprin > 0)
			t->res.accessed++;
	}
	if ((rc = count_explained(t)) != 0)
		goto fail;
	*res = &t->res;
	return 0;
fail:
	free_result(t);
	return rc;
}
