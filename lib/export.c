/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exports with canaries: bulk extracts of customers for a named consumer,
 * pseudonymised by default, each carrying synthetic canary records of its
 * own so that a leaked copy, even a small reshuffled part of one, names
 * the export and its recipient.  The contract is include/vigil/export.h;
 * the audit entries, the canary count and the file are described in
 * docs/API.md ("Exports") and the policy rules in docs/POLICY.md.
 *
 * One export, in order:
 *
 *   check the request's form          VG_EINVAL, nothing audited
 *   decide (action "export")          deny: one audited entry, done
 *   walk the customers in storage     the first `limit` of the region,
 *     order                           honeytokens left out
 *   make K canaries                   the generator with a random seed,
 *                                     each value unique (below)
 *   audit every row, then the         durable before any byte leaves
 *     manifest
 *   store the manifest and the        one transaction
 *     canaries' digests
 *   write the file                    rows and canaries shuffled
 *
 * Canaries.  Each is a customer of vg_gen (same distributions as the
 * synthetic customers; drawn again until its region is the export's
 * filter), with the set of fields of a real row of the export picked at
 * random (so blanks are as frequent among canaries as among customers),
 * and a random 128-bit id that is no customer's: its pseudonym is made
 * with the consumer's key like any other and resolves, under that key,
 * to nothing in the vault.  A canary is drawn again when one of its
 * indexed values in the file is a customer's (the blind index), an
 * earlier export's canary's (export_canary) or another canary's of this
 * export.  The vault keeps only blind-index digests: per indexed field
 * in the file, keyed as the customers' indexes, and of the canary's id
 * under a key of its own (VG_EXPORT_FIELD_ID).  The canary values live
 * in memory only for the call and are wiped: whoever knows them could
 * strip them from a copy.
 *
 * Order.  The customers are the first `limit` of the region in storage
 * (import) order, but the file holds them and the canaries in a uniformly
 * random order, so that no canary stands out by its place.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vigil/audit.h"
#include "vigil/cases.h"
#include "vigil/csv.h"
#include "vigil/export.h"
#include "vigil/gen.h"
#include "vigil/honey.h"
#include "vigil/merkle.h"
#include "vigil/policy.h"
#include "vigil/principal.h"
#include "vigil/region.h"
#include "vigil/vault.h"
#include "store.h"
#include "vault_int.h"

#define CHUNK 8192		/* audit entries per vg_audit_append_many */
#define OUTBUF (256 * 1024)	/* bytes gathered before write() */
/* Bytes one row may take at most: a pseudonym and 32 values of
 * VG_NORM_MAX bytes, every byte a quote doubled. */
#define ROW_MAX (VG_PSN_STRLEN + VG_FIELDS_MAX * (2 * VG_NORM_MAX + 3) + 2)
#define DRAWS_UNIQUE 1024	/* draws of one canary refused for a value
				 * already taken, before giving up */
#define DRAWS_REGION 2000000	/* draws of one canary outside the region */
#define DETAIL_MAX (VG_AUDIT_STR_MAX + 1)

_Static_assert(CHUNK <= 16384, "vg_audit_append_many takes 16384 at most");
_Static_assert(VG_EXPORT_ROWS_MAX == VG_POLICY_ROWS_MAX, "one hard cap");

/*-----------------------------------------------------------------------------
 * The canary count
 */

double
vg_export_catch(uint64_t rows, uint64_t k, uint64_t sample)
{
	long double none = 1.0L;
	uint64_t s = sample < rows + k ? sample : rows + k, i;

	if (k == 0 || s == 0)
		return 0.0;
	if (s > rows)
		return 1.0;	/* the sample cannot avoid every canary */
	/* C(rows, s) / C(rows + k, s): each drawn row is a customer. */
	for (i = 0; i < s; i++)
		none *= (long double)(rows - i) / (long double)(rows + k - i);
	return (double)(1.0L - none);
}

uint64_t
vg_export_canary_count(uint64_t rows)
{
	uint64_t lo = VG_EXPORT_CANARIES_MIN, hi = lo;

	/* The probability grows with k: find a k that is enough by
	 * doubling, then the smallest by bisection. */
	while (vg_export_catch(rows, hi, VG_EXPORT_SAMPLE) < VG_EXPORT_CATCH)
		hi *= 2;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (vg_export_catch(rows, mid, VG_EXPORT_SAMPLE) >=
		    VG_EXPORT_CATCH)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*-----------------------------------------------------------------------------
 * Lookups
 */

int
vg_export_canary_find(struct vg_vault *v, int field, const char *canon,
    size_t len, char id[VG_EXPORT_ID_MAX + 1])
{
	const struct vg_schema *sc = vg_vault_schema(v);
	unsigned char d[VG_BIDXBYTES];
	struct vg_store *s;

	id[0] = '\0';
	if (field < 0 || (size_t)field >= sc->nfields ||
	    !sc->field[field].indexed || (canon == NULL && len > 0) ||
	    len > VG_NORM_MAX)
		return VG_EINVAL;
	vg__vault_bidx(v, field, canon, len, d);
	s = vg__vault_store(v);
	return s->ops->canary_find(s, (unsigned)field, d, id,
	    VG_EXPORT_ID_MAX + 1);
}

/* The digest the vault keeps of a canary's id, under key (NULL: the
 * key is derived for this one call). */
static int
id_digest(struct vg_vault *v, const unsigned char *key,
    const unsigned char id[VG_IDBYTES], unsigned char out[VG_BIDXBYTES])
{
	unsigned char *own = NULL;
	int rc = 0;

	if (key == NULL) {
		if ((own = vg_secret_new(VG_KEYBYTES)) == NULL)
			return VG_ENOMEM;
		rc = vg_vault_derive_secret(v, "export.canary", own);
		key = own;
	}
	if (rc == 0)
		crypto_generichash(out, VG_BIDXBYTES, id, VG_IDBYTES, key,
		    VG_KEYBYTES);
	vg_secret_free(own);
	return rc;
}

int
vg_export_psn_find(struct vg_vault *v, const char *consumer,
    const unsigned char psn[VG_PSNBYTES], char id[VG_EXPORT_ID_MAX + 1])
{
	unsigned char *key, cid[VG_IDBYTES], d[VG_BIDXBYTES];
	struct vg_store *s;
	int rc;

	id[0] = '\0';
	if (consumer == NULL || !vg_consumer_name_ok(consumer))
		return VG_EINVAL;
	if ((key = vg_secret_new(VG_KEYBYTES)) == NULL)
		return VG_ENOMEM;
	rc = vg__vault_consumer_key(v, consumer, key);
	if (rc == 0 && vg_pseudonym_resolve(cid, key, psn) != 0)
		rc = VG_ENOTFOUND;	/* not this consumer's pseudonym */
	vg_secret_free(key);
	if (rc == 0)
		rc = id_digest(v, NULL, cid, d);
	sodium_memzero(cid, sizeof(cid));
	if (rc != 0)
		return rc;
	s = vg__vault_store(v);
	return s->ops->canary_find(s, VG_EXPORT_FIELD_ID, d, id,
	    VG_EXPORT_ID_MAX + 1);
}

int
vg_export_get(struct vg_vault *v, const char *id, struct vg_export_info *out)
{
	unsigned char raw[VG_IDBYTES];
	struct vg_store *s;

	memset(out, 0, sizeof(*out));
	if (id == NULL || strlen(id) > VG_EXPORT_ID_MAX ||
	    vg_token_parse(raw, "ex_", id) != 0)
		return VG_EINVAL;
	s = vg__vault_store(v);
	return s->ops->export_get(s, id, out);
}

int
vg_export_list(struct vg_vault *v, size_t limit,
    int (*cb)(void *ctx, const struct vg_export_info *e), void *ctx)
{
	struct vg_store *s = vg__vault_store(v);

	return s->ops->export_each(s, limit, cb, ctx);
}

/*-----------------------------------------------------------------------------
 * One export's state
 */

/* A customer of the export, as the walk found it. */
struct row {
	unsigned char id[VG_IDBYTES];
	char region[8];
	uint32_t present;	/* schema fields it holds */
};

/* A digest to keep: (field, digest). */
struct dig {
	unsigned char d[VG_BIDXBYTES];
	unsigned field;
};

struct job {
	const struct vg_export_ctx *c;
	const struct vg_export_request *rq;
	struct vg_export_result *res;
	const struct vg_schema *sc;
	struct vg_store *st;
	int col[VG_FIELDS_MAX];		/* schema field of each column */
	size_t ncol;
	uint32_t mask;			/* the columns' fields */
	uint32_t clear;			/* ... given in clear */
	char region[8];			/* filter, "" none */
	char fields_list[256];		/* requested, schema order */
	char clear_list[256];		/* in clear, schema order */
	/* Honeytokens, left out. */
	unsigned char (*honey)[VG_IDBYTES];
	size_t nhoney;
	/* Customers. */
	struct row *rows;
	size_t nrows, caprows;
	/* Canaries: ids, fields present, canonical values (an arena of
	 * ncol values each: value k of canary j at off[j * ncol + k]). */
	size_t k;
	unsigned char (*cid)[VG_IDBYTES];
	uint32_t *cpresent;
	uint32_t *coff, *clen;
	char *arena;
	size_t arena_used, arena_cap;
	/* Digests to keep, and a set over them for this export. */
	struct dig *digs;
	size_t ndigs, capdigs;
	struct dig **set;		/* open addressing, NULL: empty */
	size_t setcap;
	unsigned char *idkey;		/* the canaries' id digest key */
	/* Output. */
	char *out;
	size_t outlen;
	vg_export_write_fn write;
	void *wctx;
	unsigned char *ckey;		/* the consumer's pseudonym key */
};

static void
set_message(struct vg_export_result *res, const char *fmt, ...)
    VG_PRINTF(2, 3);

static void
set_message(struct vg_export_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

static int
bad(struct job *j, const char *field, const char *what)
{
	j->res->field = field;
	set_message(j->res, "%s", what);
	return VG_EINVAL;
}

static void
job_free(struct job *j)
{
	vg_honey_free(j->honey);
	if (j->rows != NULL) {
		sodium_memzero(j->rows, j->caprows * sizeof(*j->rows));
		free(j->rows);
	}
	if (j->cid != NULL) {
		sodium_memzero(j->cid, j->k * VG_IDBYTES);
		free(j->cid);
	}
	free(j->cpresent);
	free(j->coff);
	free(j->clen);
	if (j->arena != NULL) {
		sodium_memzero(j->arena, j->arena_cap);
		free(j->arena);
	}
	if (j->digs != NULL) {
		sodium_memzero(j->digs, j->capdigs * sizeof(*j->digs));
		free(j->digs);
	}
	free(j->set);
	vg_secret_free(j->idkey);
	vg_secret_free(j->ckey);
	if (j->out != NULL) {
		sodium_memzero(j->out, OUTBUF + ROW_MAX);
		free(j->out);
	}
}

/* Appends the names of the schema fields in mask, schema order. */
static int
mask_list(const struct vg_schema *sc, uint32_t mask, char *out, size_t cap)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < sc->nfields; i++) {
		int w;

		if (!(mask & (UINT32_C(1) << i)))
			continue;
		w = snprintf(out + n, cap - n, "%s%s", n > 0 ? "," : "",
		    sc->field[i].name);
		if (w < 0 || (size_t)w >= cap - n)
			return VG_ETOOBIG;
		n += (size_t)w;
	}
	return 0;
}

/*-----------------------------------------------------------------------------
 * The request's form
 */

static int
check_form(struct job *j)
{
	const struct vg_export_request *rq = j->rq;
	const struct vg_export_ctx *c = j->c;
	size_t i;
	int f;

	if (c->vault == NULL || c->vault_dir == NULL || c->policy == NULL ||
	    c->audit == NULL || c->chain == NULL || c->who == NULL)
		return bad(j, "", "no vault, policy, audit log or principal");
	if (rq->consumer == NULL || !vg_consumer_name_ok(rq->consumer))
		return bad(j, "consumer", "\"consumer\" is a name: "
		    "[a-z0-9][a-z0-9_.-]{0,63}");
	if (rq->recipient == NULL || !vg_consumer_name_ok(rq->recipient))
		return bad(j, "recipient", "\"recipient\" is a name: "
		    "[a-z0-9][a-z0-9_.-]{0,63}");
	/* The manifest entry names both and must fit one audit string. */
	if (strlen(rq->consumer) + strlen(rq->recipient) > 126)
		return bad(j, "recipient", "\"consumer\" and \"recipient\" "
		    "together are at most 126 bytes");
	if (rq->purpose == NULL || !vg_purpose_ok(rq->purpose))
		return bad(j, "purpose", "\"purpose\" is a code: "
		    "[a-z][a-z0-9_]{0,31}");
	if (rq->nfields == 0 || rq->nfields > VG_FIELDS_MAX ||
	    rq->fields == NULL)
		return bad(j, "fields", "\"fields\" names 1 to 32 fields of "
		    "the vault");
	for (i = 0; i < rq->nfields; i++) {
		if (rq->fields[i] == NULL ||
		    (f = vg_schema_find(j->sc, rq->fields[i])) < 0)
			return bad(j, "fields", "a name in \"fields\" is not a "
			    "field of this vault");
		if (j->mask & (UINT32_C(1) << f))
			return bad(j, "fields", "a field is named twice in "
			    "\"fields\"");
		j->mask |= UINT32_C(1) << f;
		j->col[j->ncol++] = f;
	}
	if (mask_list(j->sc, j->mask, j->fields_list,
	    sizeof(j->fields_list)) != 0)
		return bad(j, "fields", "the field names are too long "
		    "together");
	if (rq->region != NULL && rq->region[0] != '\0') {
		const struct vg_province *pv = vg_province_find(rq->region,
		    strlen(rq->region));

		if (pv == NULL)
			return bad(j, "region", "\"region\" is not a province "
			    "(CN-GD, GD or its name)");
		if (j->sc->region < 0)
			return bad(j, "region", "this vault keeps no region");
		snprintf(j->region, sizeof(j->region), "%s", pv->code);
	}
	if (rq->limit == 0)
		return bad(j, "limit", "\"limit\" is the number of customers "
		    "wanted, at least 1");
	return 0;
}

/*-----------------------------------------------------------------------------
 * Audit
 */

/* Fills the members every entry of this export shares. */
static void
entry_base(const struct job *j, struct vg_audit_entry *e, const char *action,
    const char *decision, const char *reason)
{
	memset(e, 0, sizeof(*e));
	e->principal = j->c->who->id;
	e->action = action;
	e->decision = decision;
	e->reason = reason;
	e->purpose = j->rq->purpose;
	e->request_id = j->c->request_id;
	e->client = j->c->client;
}

/* One refusal: action "export", decision deny. */
static int
audit_deny(struct job *j, const char *reason)
{
	struct vg_audit_entry e;
	char detail[DETAIL_MAX];

	entry_base(j, &e, "export", "deny", reason);
	e.fields = j->fields_list;
	snprintf(detail, sizeof(detail), "consumer=%s,recipient=%s,rows=%llu",
	    j->rq->consumer, j->rq->recipient,
	    (unsigned long long)j->rq->limit);
	e.detail = detail;
	j->res->allowed = false;
	j->res->reason = reason;
	return vg_audit_append(j->c->audit, &e, NULL);
}

/* After the rows and the manifest were audited, the export did not
 * happen after all: the log says so. */
static void
audit_not_completed(struct job *j)
{
	struct vg_audit_entry e;
	char detail[DETAIL_MAX];

	entry_base(j, &e, "export", "deny", "not_completed");
	snprintf(detail, sizeof(detail), "export=%s", j->res->info.id);
	e.detail = detail;
	/* Best effort: the log failing too is reported by the error the
	 * caller gets already. */
	if (vg_audit_append(j->c->audit, &e, NULL) != 0)
		return;
}

/* Every row's entry, then the manifest's, in chunks; the manifest's
 * sequence number goes to the manifest. */
static int
audit_allow(struct job *j)
{
	struct vg_export_info *m = &j->res->info;
	struct vg_audit_entry *e;
	char (*detail)[64];
	char manifest[DETAIL_MAX];
	uint64_t *seqs;
	size_t i = 0, n, k;
	int rc = 0, w;

	w = snprintf(manifest, sizeof(manifest), "export=%s,consumer=%s,"
	    "recipient=%s,rows=%llu,canaries=%llu,canary_set=%s", m->id,
	    m->consumer, m->recipient, (unsigned long long)m->rows,
	    (unsigned long long)m->canaries, m->canary_set);
	if (w < 0 || (size_t)w >= sizeof(manifest))
		return VG_ETOOBIG;	/* check_form() keeps it short */
	e = calloc(CHUNK, sizeof(*e));
	detail = calloc(CHUNK, sizeof(*detail));
	seqs = calloc(CHUNK, sizeof(*seqs));
	if (e == NULL || detail == NULL || seqs == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	/* i counts rows; the manifest is entry nrows. */
	while (rc == 0 && i <= j->nrows) {
		n = j->nrows + 1 - i;
		if (n > CHUNK)
			n = CHUNK;
		for (k = 0; k < n; k++, i++) {
			if (i == j->nrows) {
				entry_base(j, &e[k], "export", "allow",
				    VG_R_OK);
				e[k].fields = j->clear_list;
				e[k].detail = manifest;
				continue;
			}
			entry_base(j, &e[k], "export.row", "allow", VG_R_OK);
			e[k].customer = j->rows[i].id;
			e[k].fields = j->clear_list;
			if (j->rows[i].region[0] != '\0')
				snprintf(detail[k], sizeof(detail[k]),
				    "export=%s,region=%s", m->id,
				    j->rows[i].region);
			else
				snprintf(detail[k], sizeof(detail[k]),
				    "export=%s", m->id);
			e[k].detail = detail[k];
		}
		rc = vg_audit_append_many(j->c->audit, e, n, seqs);
		if (rc == 0 && i > j->nrows)
			m->manifest_seq = seqs[n - 1];
	}
out:
	free(e);
	free(detail);
	free(seqs);
	/* A malformed entry cannot happen (all names are checked); any
	 * failure here is the log's. */
	return rc == 0 || rc == VG_ENOMEM ? rc : VG_EIO;
}

/*-----------------------------------------------------------------------------
 * Customers
 */

struct walk {
	struct job *j;
	uint64_t limit;
};

static int
walk_one(void *ctx, int64_t seq, const struct vg_srec *r)
{
	struct walk *w = ctx;
	struct job *j = w->j;
	struct row *x;

	(void)seq;
	if (j->region[0] != '\0' && strcmp(r->region, j->region) != 0)
		return 0;
	if (vg_honey_contains((const unsigned char (*)[VG_IDBYTES])j->honey,
	    j->nhoney, r->id))
		return 0;	/* an export never holds a honeytoken */
	if (j->nrows == j->caprows) {
		size_t cap = j->caprows == 0 ? 1024 : j->caprows * 2;
		struct row *nr;

		if (cap > w->limit)
			cap = (size_t)w->limit;
		if ((nr = calloc(cap, sizeof(*nr))) == NULL)
			return VG_ENOMEM;
		if (j->rows != NULL) {
			memcpy(nr, j->rows, j->nrows * sizeof(*nr));
			sodium_memzero(j->rows, j->caprows * sizeof(*nr));
			free(j->rows);
		}
		j->rows = nr;
		j->caprows = cap;
	}
	x = &j->rows[j->nrows++];
	memcpy(x->id, r->id, VG_IDBYTES);
	snprintf(x->region, sizeof(x->region), "%s", r->region);
	x->present = vg__vault_presence(j->c->vault, r);
	return j->nrows == w->limit ? 1 : 0;	/* 1: enough */
}

static int
pick_rows(struct job *j)
{
	struct walk w;
	char err[VG_ERRMSG_MAX] = "";
	int rc;

	rc = vg_honey_load(j->c->vault, j->c->vault_dir, &j->honey,
	    &j->nhoney, err, sizeof(err));
	if (rc != 0) {
		/* No export without knowing the honeytokens to leave out. */
		set_message(j->res, "the honeytoken set cannot be read: %s",
		    err[0] != '\0' ? err : vg_strerror(rc));
		return rc;
	}
	w.j = j;
	w.limit = j->rq->limit;
	rc = j->st->ops->customer_walk(j->st, walk_one, &w);
	return rc == 1 ? 0 : rc;
}

/*-----------------------------------------------------------------------------
 * Canaries
 */

static size_t
dig_hash(const struct dig *d)
{
	uint64_t h;

	memcpy(&h, d->d, sizeof(h));	/* digests are uniform */
	return (size_t)(h ^ (uint64_t)d->field * 0x9e3779b97f4a7c15u);
}

/* True when (field, d) is in this export's set. */
static bool
set_has(const struct job *j, unsigned field, const unsigned char *d)
{
	struct dig key;
	size_t i;

	memcpy(key.d, d, VG_BIDXBYTES);
	key.field = field;
	for (i = dig_hash(&key) & (j->setcap - 1); j->set[i] != NULL;
	    i = (i + 1) & (j->setcap - 1))
		if (j->set[i]->field == field &&
		    memcmp(j->set[i]->d, d, VG_BIDXBYTES) == 0)
			return true;
	return false;
}

/* Keeps (field, d) for the store and the set.  The set has room: it is
 * sized for every digest the canaries can have. */
static int
keep_digest(struct job *j, unsigned field, const unsigned char *d)
{
	struct dig *x;
	size_t i;

	if (j->ndigs == j->capdigs)
		return VG_ENOMEM;	/* sized in advance; cannot happen */
	x = &j->digs[j->ndigs++];
	memcpy(x->d, d, VG_BIDXBYTES);
	x->field = field;
	for (i = dig_hash(x) & (j->setcap - 1); j->set[i] != NULL;
	    i = (i + 1) & (j->setcap - 1))
		;
	j->set[i] = x;
	return 0;
}

/* The generator's value of a schema field, by its name in the default
 * schema, or NULL (as lib/honey.c). */
static const char *
gen_value(const struct vg_gen_customer *g, const char *name)
{
	if (strcmp(name, "name") == 0)
		return g->name;
	if (strcmp(name, "phone") == 0)
		return g->phone;
	if (strcmp(name, "email") == 0)
		return g->email;
	if (strcmp(name, "account_id") == 0)
		return g->account_id;
	if (strcmp(name, "address") == 0)
		return g->address;
	if (strcmp(name, "region") == 0)
		return g->region;
	return NULL;
}

static int
arena_put(struct job *j, const char *s, size_t n, uint32_t *off)
{
	if (j->arena_used + n > j->arena_cap) {
		size_t cap = j->arena_cap * 2 + n + 4096;
		char *na = malloc(cap);

		if (na == NULL)
			return VG_ENOMEM;
		if (j->arena != NULL) {
			memcpy(na, j->arena, j->arena_used);
			sodium_memzero(j->arena, j->arena_cap);
			free(j->arena);
		}
		j->arena = na;
		j->arena_cap = cap;
	}
	if (j->arena_used + n > UINT32_MAX)
		return VG_ETOOBIG;
	*off = (uint32_t)j->arena_used;
	memcpy(j->arena + j->arena_used, s, n);
	j->arena_used += n;
	return 0;
}

/* One value of a canary is taken: a customer's, an earlier export's
 * canary's or this export's.  1 taken, 0 free, < 0 an error. */
static int
taken(struct job *j, unsigned field, const unsigned char *d)
{
	unsigned char hit[1][VG_IDBYTES];
	char other[VG_EXPORT_ID_MAX + 1];
	size_t n = 0;
	int rc;

	if (set_has(j, field, d))
		return 1;
	if (field != VG_EXPORT_FIELD_ID) {
		rc = j->st->ops->index_find(j->st, field, d, hit, 1, &n);
		if (rc != 0)
			return rc;
		if (n > 0)
			return 1;
	}
	rc = j->st->ops->canary_find(j->st, field, d, other, sizeof(other));
	if (rc == 0)
		return 1;
	return rc == VG_ENOTFOUND ? 0 : rc;
}

/*
 * Draws canary i: a generated customer in the export's region with the
 * fields present of a random customer of the export, every indexed value
 * in the file and its id free.  1 when made, 0 when the generator would
 * not give one (the region, or values all taken), < 0 an error.
 */
static int
make_canary(struct job *j, struct vg_gen *g, struct vg_gen_customer *gc,
    size_t i)
{
	char canon[VG_NORM_MAX + 1];
	unsigned char d[VG_FIELDS_MAX][VG_BIDXBYTES], idd[VG_BIDXBYTES];
	unsigned char id[VG_IDBYTES];
	struct vg_srec r;
	unsigned char *blob = NULL;
	unsigned long draws = 0, refused = 0;
	uint32_t present;
	size_t k, arena_mark, nd;
	int rc = 0, t;

	present = j->rows[randombytes_uniform((uint32_t)j->nrows)].present &
	    j->mask;
	for (;;) {
		if (draws++ >= DRAWS_REGION || refused >= DRAWS_UNIQUE) {
			rc = 0;
			goto out;
		}
		vg_gen_next(g, gc);
		if (j->region[0] != '\0' && strcmp(gc->region, j->region) != 0)
			continue;
		arena_mark = j->arena_used;
		nd = 0;
		for (k = 0; k < j->ncol; k++) {
			int f = j->col[k];
			const struct vg_field *fd = &j->sc->field[f];
			const char *raw = gen_value(gc, fd->name), *why;
			size_t clen = 0;
			uint32_t *off = &j->coff[i * j->ncol + k];

			j->clen[i * j->ncol + k] = 0;
			*off = 0;
			if (!(present & (UINT32_C(1) << f)))
				continue;
			if (raw == NULL || vg_normalize(fd->type, raw,
			    strlen(raw), canon, sizeof(canon), &clen,
			    &why) != 0)
				break;	/* draw again */
			if ((rc = arena_put(j, canon, clen, off)) != 0)
				goto out;
			j->clen[i * j->ncol + k] = (uint32_t)clen;
			if (!fd->indexed)
				continue;
			vg__vault_bidx(j->c->vault, f, canon, clen, d[nd]);
			if ((t = taken(j, (unsigned)f, d[nd])) < 0) {
				rc = t;
				goto out;
			}
			if (t)
				break;
			nd++;
		}
		sodium_memzero(canon, sizeof(canon));
		if (k < j->ncol) {
			j->arena_used = arena_mark;
			refused++;
			continue;
		}
		break;
	}
	/* An id no customer has, whose digest no canary has. */
	if ((blob = malloc(VG_BLOB_MAX)) == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	for (;;) {
		vg_random(id, sizeof(id));
		rc = j->st->ops->customer_get(j->st, id, &r, blob, VG_BLOB_MAX);
		if (rc == 0)
			continue;
		if (rc != VG_ENOTFOUND)
			goto out;
		if ((rc = id_digest(j->c->vault, j->idkey, id, idd)) != 0)
			goto out;
		if ((t = taken(j, VG_EXPORT_FIELD_ID, idd)) < 0) {
			rc = t;
			goto out;
		}
		if (!t)
			break;
	}
	/* Made: keep its digests. */
	for (k = 0, t = 0; k < j->ncol; k++) {
		int f = j->col[k];

		if (!(present & (UINT32_C(1) << f)) ||
		    !j->sc->field[f].indexed)
			continue;
		if ((rc = keep_digest(j, (unsigned)f, d[t++])) != 0)
			goto out;
	}
	if ((rc = keep_digest(j, VG_EXPORT_FIELD_ID, idd)) != 0)
		goto out;
	memcpy(j->cid[i], id, VG_IDBYTES);
	j->cpresent[i] = present;
	rc = 1;
out:
	sodium_memzero(canon, sizeof(canon));
	sodium_memzero(id, sizeof(id));
	sodium_memzero(d, sizeof(d));
	free(blob);
	return rc;
}

/* Makes the export's canaries from the generator seeded with seed (0: a
 * random seed; tests/unit/t_export.c gives one to force collisions).
 * 0, 1 when the generator gives no more canaries, or an error. */
static int
make_canaries(struct job *j, uint64_t seed)
{
	struct vg_gen *g = NULL;
	struct vg_gen_customer *gc = NULL;
	size_t i, perc = 1;
	int rc = 0;

	for (i = 0; i < j->ncol; i++)
		perc += j->sc->field[j->col[i]].indexed;
	j->k = (size_t)vg_export_canary_count(j->nrows);
	j->cid = calloc(j->k, VG_IDBYTES);
	j->cpresent = calloc(j->k, sizeof(*j->cpresent));
	j->coff = calloc(j->k * j->ncol, sizeof(*j->coff));
	j->clen = calloc(j->k * j->ncol, sizeof(*j->clen));
	j->capdigs = j->k * perc;
	j->digs = calloc(j->capdigs, sizeof(*j->digs));
	for (j->setcap = 16; j->setcap < 2 * j->capdigs; j->setcap *= 2)
		;
	j->set = calloc(j->setcap, sizeof(*j->set));
	j->idkey = vg_secret_new(VG_KEYBYTES);
	if (j->idkey == NULL || vg_vault_derive_secret(j->c->vault,
	    "export.canary", j->idkey) != 0) {
		rc = VG_ENOMEM;
		goto out;
	}
	/* A seed nobody knows: a known seed regenerates every canary. */
	while (seed == 0)
		randombytes_buf(&seed, sizeof(seed));
	g = vg_gen_new(seed);
	sodium_memzero(&seed, sizeof(seed));
	gc = malloc(sizeof(*gc));
	if (j->cid == NULL || j->cpresent == NULL || j->coff == NULL ||
	    j->clen == NULL || j->digs == NULL || j->set == NULL ||
	    g == NULL || gc == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	for (i = 0; i < j->k; i++) {
		rc = make_canary(j, g, gc, i);
		if (rc == 0) {
			rc = 1;	/* the caller refuses: no_canaries */
			goto out;
		}
		if (rc < 0)
			goto out;
		rc = 0;
	}
out:
	if (gc != NULL) {
		sodium_memzero(gc, sizeof(*gc));
		free(gc);
	}
	vg_gen_free(g);
	return rc;
}

static int
dig_cmp(const void *a, const void *b)
{
	return memcmp(((const struct dig *)a)->d, ((const struct dig *)b)->d,
	    VG_BIDXBYTES);
}

/* The commitment: hex of the first 16 bytes of SHA-256 over the
 * canaries' digests (every one the vault keeps: field values and ids),
 * sorted in memcmp order and concatenated.  Sorts j->digs (the set is
 * not used after this). */
static int
canary_set(struct job *j, char out[33])
{
	unsigned char h[VG_HASHBYTES], *buf;
	size_t i;

	qsort(j->digs, j->ndigs, sizeof(*j->digs), dig_cmp);
	if ((buf = malloc(j->ndigs * VG_BIDXBYTES + 1)) == NULL)
		return VG_ENOMEM;
	for (i = 0; i < j->ndigs; i++)
		memcpy(buf + i * VG_BIDXBYTES, j->digs[i].d, VG_BIDXBYTES);
	vg_sha256(h, buf, j->ndigs * VG_BIDXBYTES);
	sodium_memzero(buf, j->ndigs * VG_BIDXBYTES);
	free(buf);
	sodium_bin2hex(out, 33, h, 16);
	return 0;
}

/*-----------------------------------------------------------------------------
 * Storing and writing
 */

static int
store_manifest(struct job *j)
{
	struct vg_vault *v = j->c->vault;
	size_t i;
	int rc;

	if ((rc = vg_vault_begin(v)) != 0)
		return rc;
	rc = j->st->ops->export_put(j->st, &j->res->info);
	for (i = 0; rc == 0 && i < j->ndigs; i++)
		rc = j->st->ops->canary_put(j->st, j->digs[i].field,
		    j->digs[i].d, j->res->info.id);
	if (rc == 0)
		return vg_vault_commit(v);
	vg_vault_rollback(v);
	return rc;
}

static int
flush(struct job *j)
{
	int rc = 0;

	if (j->outlen > 0)
		rc = j->write(j->wctx, j->out, j->outlen);
	sodium_memzero(j->out, j->outlen);
	j->outlen = 0;
	return rc != 0 ? rc : 0;
}

/* Appends one CSV field (a comma before all but the first). */
static int
put_field(struct job *j, bool first, const char *s, size_t n)
{
	size_t w;

	if (j->outlen + 2 * n + 3 > OUTBUF + ROW_MAX)
		return VG_ETOOBIG;
	if (!first)
		j->out[j->outlen++] = ',';
	if (vg_csv_format_field(j->out + j->outlen, OUTBUF + ROW_MAX -
	    j->outlen, s, n, &w) != 0)
		return VG_ETOOBIG;
	j->outlen += w;
	return 0;
}

/* A column's value as the consumer gets it: clear, or masked. */
static int
put_value(struct job *j, int f, const char *canon, size_t len, char *tmp)
{
	const struct vg_field *fd = &j->sc->field[f];

	if ((j->clear & (UINT32_C(1) << f)) || !fd->sealed)
		return put_field(j, false, canon, len);
	if (vg_policy_mask(j->c->policy, fd->type, canon, len, tmp,
	    VG_NORM_MAX + 1) != 0)
		return put_field(j, false, "****", 4);
	return put_field(j, false, tmp, strlen(tmp));
}

/* One line: the pseudonym of id, then the columns. */
static int
put_row(struct job *j, const unsigned char *id, const struct vg_record *rec,
    size_t canary, char *tmp)
{
	unsigned char psn[VG_PSNBYTES];
	char ps[VG_PSN_STRLEN];
	size_t k;
	int rc;

	vg_pseudonym(psn, j->ckey, id);
	vg_psn_format(ps, psn);
	rc = put_field(j, true, ps, strlen(ps));
	for (k = 0; rc == 0 && k < j->ncol; k++) {
		int f = j->col[k];

		if (rec != NULL) {
			rc = rec->present[f] ? put_value(j, f, rec->value[f],
			    rec->len[f], tmp) : put_field(j, false, "", 0);
		} else {
			size_t x = canary * j->ncol + k;

			rc = j->clen[x] > 0 ? put_value(j, f, j->arena +
			    j->coff[x], j->clen[x], tmp) :
			    put_field(j, false, "", 0);
		}
	}
	if (rc == 0 && j->outlen + 1 <= OUTBUF + ROW_MAX)
		j->out[j->outlen++] = '\n';
	if (rc == 0 && j->outlen >= OUTBUF)
		rc = flush(j);
	sodium_memzero(psn, sizeof(psn));
	return rc;
}

static int
write_file(struct job *j)
{
	struct vg_record *rec = NULL;
	uint32_t *order = NULL;
	size_t total = j->nrows + j->k, i;
	char *tmp = NULL;
	int rc = 0;

	order = malloc(total * sizeof(*order));
	rec = vg_record_new();
	tmp = malloc(VG_NORM_MAX + 1);
	j->out = malloc(OUTBUF + ROW_MAX);
	j->ckey = vg_secret_new(VG_KEYBYTES);
	if (order == NULL || rec == NULL || tmp == NULL || j->out == NULL ||
	    j->ckey == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	if ((rc = vg__vault_consumer_key(j->c->vault, j->rq->consumer,
	    j->ckey)) != 0)
		goto out;
	/* A uniformly random order of customers (0..nrows) and canaries
	 * (nrows..total): Fisher-Yates on the system's random source. */
	for (i = 0; i < total; i++)
		order[i] = (uint32_t)i;
	for (i = total - 1; i > 0; i--) {
		uint32_t r = randombytes_uniform((uint32_t)i + 1), t;

		t = order[i];
		order[i] = order[r];
		order[r] = t;
	}
	rc = put_field(j, true, "pseudonym", 9);
	for (i = 0; rc == 0 && i < j->ncol; i++)
		rc = put_field(j, false, j->sc->field[j->col[i]].name,
		    strlen(j->sc->field[j->col[i]].name));
	if (rc == 0)
		j->out[j->outlen++] = '\n';
	for (i = 0; rc == 0 && i < total; i++) {
		size_t x = order[i];

		if (x >= j->nrows) {
			rc = put_row(j, j->cid[x - j->nrows], NULL,
			    x - j->nrows, tmp);
			continue;
		}
		rc = vg_vault_get(j->c->vault, j->rows[x].id, j->mask,
		    VG_VIEW_CLEAR, rec);
		if (rc == 0)
			rc = put_row(j, j->rows[x].id, rec, 0, tmp);
		vg_record_clear(rec);
	}
	if (rc == 0)
		rc = flush(j);
out:
	if (tmp != NULL) {
		sodium_memzero(tmp, VG_NORM_MAX + 1);
		free(tmp);
	}
	if (order != NULL) {
		sodium_memzero(order, total * sizeof(*order));
		free(order);
	}
	vg_record_free(rec);
	return rc;
}

/*-----------------------------------------------------------------------------
 * The export
 */

static void
fill_manifest(struct job *j)
{
	struct vg_export_info *m = &j->res->info;
	unsigned char raw[VG_IDBYTES];
	size_t i, n = 0;

	memset(m, 0, sizeof(*m));
	vg_random(raw, sizeof(raw));
	vg_token_format(m->id, "ex_", raw);
	snprintf(m->principal, sizeof(m->principal), "%s", j->c->who->id);
	snprintf(m->consumer, sizeof(m->consumer), "%s", j->rq->consumer);
	snprintf(m->recipient, sizeof(m->recipient), "%s", j->rq->recipient);
	snprintf(m->purpose, sizeof(m->purpose), "%s", j->rq->purpose);
	m->created = j->c->now;
	m->rows = j->nrows;
	m->canaries = j->k;
	snprintf(m->clear, sizeof(m->clear), "%s", j->clear_list);
	snprintf(m->chain, sizeof(m->chain), "%s", j->c->chain);
	for (i = 0; i < j->ncol; i++) {
		int w = snprintf(m->fields + n, sizeof(m->fields) - n, "%s%s",
		    i > 0 ? "," : "", j->sc->field[j->col[i]].name);

		if (w > 0)
			n += (size_t)w;
		if (n >= sizeof(m->fields))
			break;
	}
	snprintf(m->region, sizeof(m->region), "%s", j->region);
}

int
vg_export_make(const struct vg_export_ctx *c,
    const struct vg_export_request *rq, vg_export_write_fn write, void *wctx,
    struct vg_export_result *res)
{
	struct vg_policy_input in;
	struct vg_decision d;
	struct job j;
	int rc;

	memset(res, 0, sizeof(*res));
	res->reason = "";
	res->field = "";
	memset(&j, 0, sizeof(j));
	j.c = c;
	j.rq = rq;
	j.res = res;
	j.write = write;
	j.wctx = wctx;
	if (c == NULL || rq == NULL || write == NULL) {
		res->field = "";
		set_message(res, "no request");
		return VG_EINVAL;
	}
	if (c->vault != NULL)
		j.sc = vg_vault_schema(c->vault);
	if (c->vault == NULL || (rc = check_form(&j)) != 0) {
		if (c->vault == NULL)
			set_message(res, "no vault");
		return VG_EINVAL;
	}
	j.st = vg__vault_store(c->vault);

	memset(&in, 0, sizeof(in));
	in.who = c->who;
	in.action = VG_ACT_EXPORT;
	in.fields = j.mask;
	in.purpose = rq->purpose;
	in.consumer = rq->consumer;
	in.rows = rq->limit;
	in.containment = c->containment;
	in.shift = -1;
	in.now = c->now;
	vg_policy_decide(c->policy, &in, &d);
	if (d.verdict == VG_ALLOW && rq->limit > VG_EXPORT_ROWS_MAX) {
		d.verdict = VG_DENY;
		d.reason = VG_R_TOO_MANY_ROWS;
	}
	if (d.verdict != VG_ALLOW) {
		if (strcmp(d.reason, VG_R_TOO_MANY_ROWS) == 0)
			set_message(res, "at most %llu rows for this consumer",
			    (unsigned long long)(d.max_rows > 0 &&
			    d.max_rows < VG_EXPORT_ROWS_MAX ? d.max_rows :
			    VG_EXPORT_ROWS_MAX));
		else if (strcmp(d.reason, VG_R_CONSUMER) == 0)
			set_message(res, "the policy lists no such consumer");
		else if (strcmp(d.reason, VG_R_PURPOSE) == 0)
			set_message(res, "this purpose is not granted to the "
			    "consumer");
		else if (strcmp(d.reason, VG_R_ROLE) == 0)
			set_message(res, "the role may not export");
		else if (strcmp(d.reason, VG_R_SUSPENDED) == 0)
			set_message(res, "the principal is suspended, or "
			    "contained by the detector");
		else
			set_message(res, "refused by policy");
		rc = audit_deny(&j, d.reason);
		goto out;
	}
	j.clear = d.clear;
	if (mask_list(j.sc, j.clear, j.clear_list, sizeof(j.clear_list)) !=
	    0) {
		rc = bad(&j, "fields", "the field names are too long together");
		goto out;
	}
	if ((rc = pick_rows(&j)) != 0)
		goto out;
	if (j.nrows == 0) {
		set_message(res, "no customer matches the export's region");
		rc = audit_deny(&j, "no_rows");
		goto out;
	}
	if ((rc = make_canaries(&j, 0)) != 0) {
		if (rc == 1) {
			set_message(res, "no canary can be made for this "
			    "export (the generator makes no customer of this "
			    "region, or its values are all taken)");
			rc = audit_deny(&j, "no_canaries");
		}
		goto out;
	}
	fill_manifest(&j);
	if ((rc = canary_set(&j, res->info.canary_set)) != 0)
		goto out;
	/* Every entry durable before the first byte is written. */
	if ((rc = audit_allow(&j)) != 0)
		goto out;
	res->audited = true;
	if ((rc = store_manifest(&j)) != 0 || (rc = write_file(&j)) != 0) {
		audit_not_completed(&j);
		goto out;
	}
	res->allowed = true;
	res->reason = VG_R_OK;
out:
	job_free(&j);
	sodium_memzero(&j, sizeof(j));
	return rc;
}
