/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From a leaked file to a report (include/vigil/trace.h, last part):
 * the file is read once, streaming; matched customers are kept as ids
 * only (sorted and merged once the file ends), so memory follows the
 * number of distinct customers matched, never the file's size; then the
 * audit log is read once, keeping only the accesses of those customers.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vigil/audit.h"
#include "vigil/export.h"
#include "vigil/honey.h"
#include "vigil/leak.h"
#include "vigil/principal.h"
#include "vigil/trace.h"
#include "vigil/vault.h"
#include "sinkio.h"

#define HITS_LISTED 1000	/* honey and canary hits listed in full */

struct hit {
	unsigned char id[VG_IDBYTES];
	uint32_t types;
	uint32_t rows;		/* rows merged into this one */
	uint64_t line;		/* the first */
};

struct run {
	struct vg_vault *v;
	const struct vg_schema *schema;
	const char *dir;
	const struct vg_leak_trace_opts *o;
	struct vg_trace *tr;
	unsigned char (*honey)[VG_IDBYTES];
	size_t nhoney;
	/* Matched rows, then merged by customer. */
	struct hit *hit;
	size_t nhit, caphit;
	/* Counts. */
	uint64_t rows, matched, canary_rows, not_found, no_value, bad_only;
	json_t *honey_hits, *canary_hits;
	/* The consumers exports went to: whose pseudonyms a leak may hold. */
	char (*consumer)[VG_EXPORT_NAME_MAX + 1];
	size_t nconsumers;
	struct vg_record *rec;		/* scratch, for customer_exists */
	uint64_t honey_rows;
	char *err;
	size_t errcap;
};

/* The bit of a leaked value's type (a pseudonym is no field type). */
static uint32_t
type_bit(enum vg_ftype t)
{
	return t == VG_LEAK_PSEUDONYM ? VG_TRACE_PSEUDONYM : VG_TRACE_TYPE(t);
}

static const enum vg_ftype lookup_order[] = {
	VG_FT_PHONE, VG_FT_EMAIL, VG_FT_ACCOUNT,
};
#define NLOOKUP (sizeof(lookup_order) / sizeof(lookup_order[0]))

/* The sniffer's question: does this reading of a value find anyone? */
static int
hit_fn(void *ctx, enum vg_ftype t, const char *canon, size_t len)
{
	struct run *r = ctx;
	unsigned char ids[1][VG_IDBYTES];
	const char *why;
	size_t n = 0;
	int field = vg_schema_find_type(r->schema, t), rc;

	if (field < 0)
		return 0;
	rc = vg_vault_lookup(r->v, field, canon, len, ids, 1, &n, &why);
	if (rc == 0)
		return n > 0;
	if (rc == VG_ENOTFOUND || rc == VG_EINVAL)
		return 0;
	return rc;
}

static int cmp_hit(const void *a, const void *b);

/* Sorts the matched rows and merges each customer's into its first: the
 * array then holds one entry per distinct customer. */
static void
merge_hits(struct run *r)
{
	size_t i, j = 0;

	if (r->nhit == 0)
		return;		/* r->hit may be NULL: nothing to sort */
	qsort(r->hit, r->nhit, sizeof(*r->hit), cmp_hit);
	for (i = 0; i < r->nhit; i++) {
		if (j > 0 && memcmp(r->hit[j - 1].id, r->hit[i].id,
		    VG_IDBYTES) == 0) {
			r->hit[j - 1].types |= r->hit[i].types;
			r->hit[j - 1].rows += r->hit[i].rows;
			continue;
		}
		r->hit[j++] = r->hit[i];
	}
	r->nhit = j;
}

static int
add_hit(struct run *r, const unsigned char *id, uint32_t types,
    uint64_t line)
{
	if (r->nhit == r->caphit) {
		/* Memory follows the distinct customers, not the rows: a
		 * full array is merged, and grows only if that freed too
		 * little. */
		if (r->caphit >= 65536)
			merge_hits(r);
		if (r->caphit == 0 || r->nhit > r->caphit / 2) {
			size_t cap = r->caphit != 0 ? r->caphit * 2 : 4096;
			struct hit *p = realloc(r->hit, cap * sizeof(*p));

			if (p == NULL)
				return VG_ENOMEM;
			r->hit = p;
			r->caphit = cap;
		}
	}
	memcpy(r->hit[r->nhit].id, id, VG_IDBYTES);
	r->hit[r->nhit].types = types;
	r->hit[r->nhit].line = line;
	r->hit[r->nhit].rows = 1;
	r->nhit++;
	return 0;
}

/* 0 when id is a customer, VG_ENOTFOUND when not, or an error. */
static int
customer_exists(struct run *r, const unsigned char *id)
{
	if (r->rec == NULL && (r->rec = vg_record_new()) == NULL)
		return VG_ENOMEM;
	return vg_vault_get(r->v, id, r->schema->region >= 0 ?
	    UINT32_C(1) << r->schema->region : 1, VG_VIEW_MASKED, r->rec);
}

/* A row that is a canary of export ex, found by field. */
static int
canary_row(struct run *r, const struct vg_leak_row *row, const char *ex,
    const char *field)
{
	int rc;

	r->canary_rows++;
	if ((rc = vg_trace_leak_canary(r->tr, ex)) != 0)
		return rc;
	if (json_array_size(r->canary_hits) < HITS_LISTED &&
	    json_array_append_new(r->canary_hits, json_pack("{s:I,s:s,s:s}",
	    "line", (json_int_t)row->line, "export", ex, "field", field)) != 0)
		return VG_ENOMEM;
	return 0;
}

/* One row: a customer, a canary, or neither. */
static int
match_row(struct run *r, const struct vg_leak_row *row)
{
	unsigned char ids[1][VG_IDBYTES];
	char ex[VG_EXPORT_ID_MAX + 1];
	uint32_t types = 0;
	size_t i, k, n;
	bool indexed = false;
	const char *why;
	int rc, field;

	for (i = 0; i < row->nvalues; i++)
		types |= type_bit(row->value[i].type);
	for (k = 0; k < NLOOKUP; k++) {
		if ((field = vg_schema_find_type(r->schema,
		    lookup_order[k])) < 0)
			continue;
		for (i = 0; i < row->nvalues; i++) {
			const struct vg_leak_value *lv = &row->value[i];

			if (lv->type != lookup_order[k])
				continue;
			indexed = true;
			n = 0;
			rc = vg_vault_lookup(r->v, field, lv->canon, lv->len,
			    ids, 1, &n, &why);
			if (rc == 0 && n > 0) {
				r->matched++;
				return add_hit(r, ids[0], types, row->line);
			}
			if (rc != 0 && rc != VG_ENOTFOUND && rc != VG_EINVAL)
				return rc;
		}
	}
	/* A pseudonym: a customer's for one of the consumers exported to. */
	for (i = 0; i < row->nvalues; i++) {
		const struct vg_leak_value *lv = &row->value[i];
		unsigned char psn[VG_PSNBYTES], id[VG_IDBYTES];

		if (lv->type != VG_LEAK_PSEUDONYM ||
		    vg_psn_parse(psn, lv->canon) != 0)
			continue;
		indexed = true;
		for (k = 0; k < r->nconsumers; k++) {
			rc = vg_vault_resolve(r->v, r->consumer[k], psn, id);
			/* Made for this consumer; a canary's resolves to an
			 * id that is nobody's. */
			if (rc == 0 && (rc = customer_exists(r, id)) == 0) {
				r->matched++;
				return add_hit(r, id, types, row->line);
			}
			if (rc != VG_ECRYPTO && rc != VG_ENOTFOUND &&
			    rc != VG_EINVAL)
				return rc;
			rc = vg_export_psn_find(r->v, r->consumer[k], psn, ex);
			if (rc == 0)
				return canary_row(r, row, ex, "pseudonym");
			if (rc != VG_ENOTFOUND)
				return rc;
		}
	}
	/* Nobody's: one of an export's canaries? */
	for (i = 0; i < row->nvalues; i++) {
		const struct vg_leak_value *lv = &row->value[i];

		if ((field = vg_schema_find_type(r->schema, lv->type)) < 0)
			continue;
		rc = vg_export_canary_find(r->v, field, lv->canon, lv->len, ex);
		if (rc == VG_ENOTFOUND)
			continue;
		if (rc != 0)
			return rc;
		return canary_row(r, row, ex, r->schema->field[field].name);
	}
	if (indexed)
		r->not_found++;
	else if (row->nbad > 0 && row->nvalues == 0)
		r->bad_only++;
	else
		r->no_value++;
	return 0;
}

static int
cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	int c = memcmp(x->id, y->id, VG_IDBYTES);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Merges the matched rows by customer and hands them to the tracer. */
static int
leak_customers(struct run *r, uint64_t *distinct)
{
	struct vg_record *rec = vg_record_new();
	size_t i;
	int region = r->schema->region, rc = 0;

	if (rec == NULL)
		return VG_ENOMEM;
	merge_hits(r);
	*distinct = r->nhit;
	for (i = 0; i < r->nhit && rc == 0; i++) {
		const struct hit *h = &r->hit[i];
		bool honey;

		rec->region[0] = '\0';
		if (region >= 0 && (rc = vg_vault_get(r->v, h->id,
		    UINT32_C(1) << region, VG_VIEW_MASKED, rec)) != 0)
			break;
		honey = vg_honey_contains((const unsigned char (*)[
		    VG_IDBYTES])r->honey, r->nhoney, h->id);
		if (honey) {
			char idtext[VG_ID_STRLEN];

			r->honey_rows += h->rows;
			vg_id_format(idtext, h->id);
			if (json_array_size(r->honey_hits) < HITS_LISTED &&
			    json_array_append_new(r->honey_hits, json_pack(
			    "{s:I,s:s,s:I}", "line", (json_int_t)h->line,
			    "customer", idtext, "rows",
			    (json_int_t)h->rows)) != 0)
				rc = VG_ENOMEM;
		}
		if (rc == 0)
			rc = vg_trace_watch(r->tr, h->id);
		if (rc == 0)
			rc = vg_trace_leak_add(r->tr, h->id, h->types,
			    rec->region, honey);
	}
	vg_record_free(rec);
	return rc;
}

/* Adds an export's consumer to the list, once (at most 1,024). */
static int
consumer_cb(void *ctx, const struct vg_export_info *e)
{
	struct run *r = ctx;
	size_t i;
	void *p;

	for (i = 0; i < r->nconsumers; i++)
		if (strcmp(r->consumer[i], e->consumer) == 0)
			return 0;
	if (r->nconsumers == 1024)
		return 0;
	if ((p = realloc(r->consumer, (r->nconsumers + 1) *
	    sizeof(*r->consumer))) == NULL)
		return VG_ENOMEM;
	r->consumer = p;
	snprintf(r->consumer[r->nconsumers++], sizeof(r->consumer[0]), "%s",
	    e->consumer);
	return 0;
}

static int
stratum_cb(void *ctx, const char *region, uint64_t n)
{
	return vg_trace_stratum(ctx, region, n);
}

static int
feed_log(struct run *r, vg_leak_trace_progress_fn progress, void *pctx)
{
	struct vg_audit_merge *m = NULL;
	const struct vg_audit_record *rec;
	char path[4096];
	uint64_t n = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/audit", r->dir);
	rc = vg_audit_merge_open(path, NULL, NULL, &m, r->err, r->errcap);
	if (rc == VG_ENOTFOUND)
		return 0;	/* no log yet: nobody accessed anything */
	if (rc != 0)
		return rc;
	while ((rc = vg_audit_merge_next(m, &rec)) == 1) {
		if ((rc = vg_trace_feed(r->tr, rec)) != 0)
			break;
		if (progress != NULL && ++n % 1000000 == 0)
			progress(pctx, "audit entries", n);
	}
	if (rc == VG_EFORMAT)
		snprintf(r->err, r->errcap, "audit log: %s",
		    vg_audit_merge_error(m));
	vg_audit_merge_close(m);
	return rc < 0 ? rc : 0;
}

/*-----------------------------------------------------------------------------
 * The report
 */

static double
p_of(double log10_p)
{
	return log10_p < -300 ? 1e-300 : pow(10, log10_p);
}

/* RFC 3339 UTC, seconds; null for none. */
static json_t *
time_json(int64_t ns)
{
	char buf[48];

	if (ns == 0 || vg__sink_rfc3339(buf, sizeof(buf), ns, 0) < 0)
		return json_null();
	return json_string(buf);
}

static json_t *
types_json(uint32_t types)
{
	json_t *a = json_array();
	int t;

	for (t = VG_FT_NAME; a != NULL && t <= VG_FT_TEXT; t++)
		if (types & VG_TRACE_TYPE(t))
			json_array_append_new(a,
			    json_string(vg_ftype_name((enum vg_ftype)t)));
	if (a != NULL && (types & VG_TRACE_PSEUDONYM))
		json_array_append_new(a, json_string("pseudonym"));
	return a;
}

/* The inclusion proof of entry seq of chain, or null with a reason. */
static json_t *
proof_json(struct run *r, struct vg_audit_proof *p, const char *chain,
    uint64_t seq, const char **why)
{
	char dir[4096], *text;
	json_t *j;
	json_error_t je;

	*why = NULL;
	if (r->o->no_proofs)
		return NULL;
	snprintf(dir, sizeof(dir), "%s/audit/%s", r->dir, chain);
	if (vg_audit_prove(dir, seq, p, why) != 0) {
		if (*why == NULL)
			*why = "no proof";
		return NULL;
	}
	if ((text = vg_audit_proof_json(p, chain)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	j = json_loads(text, 0, &je);
	free(text);
	if (j == NULL)
		*why = "proof not readable";
	return j;
}

static int
set_proof(struct run *r, json_t *o, struct vg_audit_proof *p,
    const char *chain, uint64_t seq)
{
	const char *why;
	json_t *pj = proof_json(r, p, chain, seq, &why);

	if (pj != NULL)
		return json_object_set_new(o, "proof", pj);
	if (why != NULL)
		return json_object_set_new(o, "proof_missing",
		    json_string(why));
	return 0;
}

static json_t *
layout_json(const struct vg_leak_layout *lay)
{
	json_t *cols = json_array(), *o;
	char d[3] = { 0 };
	size_t i;

	if (cols == NULL)
		return NULL;
	for (i = 0; i < lay->ncolumns; i++) {
		const struct vg_leak_column *c = &lay->col[i];

		json_array_append_new(cols, json_pack(
		    "{s:I,s:s,s:s,s:s,s:I,s:I,s:I}", "column",
		    (json_int_t)(i + 1), "header", c->header, "type",
		    c->type == VG_LEAK_PSEUDONYM ? "pseudonym" :
		    c->type != 0 ? vg_ftype_name(c->type) : "unused", "how",
		    c->how != NULL ? c->how : "", "sampled",
		    (json_int_t)c->sampled, "parsed", (json_int_t)c->parsed,
		    "hits", (json_int_t)c->hits));
	}
	if (lay->delimiter == '\t')
		memcpy(d, "\\t", 2);
	else
		d[0] = lay->delimiter;
	o = json_pack("{s:s,s:b,s:o}", "delimiter", d, "header",
	    lay->header, "columns", cols);
	return o;
}

static json_t *
exports_json(struct run *r, const struct vg_trace_result *res,
    struct vg_audit_proof *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < res->nexports; i++) {
		const struct vg_trace_export *x = &res->exports[i];
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:f,s:f,"
		    "s:f,s:b,s:o}", "id", x->id, "consumer", x->consumer,
		    "recipient", x->recipient, "principal", x->principal,
		    "rows", (json_int_t)x->rows, "overlap",
		    (json_int_t)x->overlap, "canary_hits",
		    (json_int_t)x->canary_hits, "expected", x->expected,
		    "p_value", p_of(x->log10_p_adj), "log10_p_value",
		    x->log10_p_adj, "named", x->named, "time",
		    time_json(x->time_ns));

		if (o == NULL)
			goto fail;
		if (x->manifest_seq != UINT64_MAX) {
			json_t *m = json_pack("{s:s,s:I}", "chain", x->chain,
			    "seq", (json_int_t)x->manifest_seq);

			if (m == NULL || set_proof(r, m, p, x->chain,
			    x->manifest_seq) != 0 ||
			    json_object_set_new(o, "manifest", m) != 0) {
				json_decref(o);
				goto fail;
			}
		}
		if (json_array_append_new(a, o) != 0)
			goto fail;
	}
	return a;
fail:
	json_decref(a);
	return NULL;
}

static json_t *
suspects_json(struct run *r, const struct vg_trace_result *res,
    struct vg_audit_proof *p)
{
	json_t *a = json_array();
	size_t i, k, n = res->nnamed + r->o->suspects_max;

	if (n > res->nsuspects)
		n = res->nsuspects;
	for (i = 0; a != NULL && i < n; i++) {
		const struct vg_trace_suspect *s = &res->suspects[i];
		struct vg_principal pr;
		json_t *ev = json_array(), *o;

		if (vg_principal_get(r->v, s->principal, &pr) != 0)
			pr.org[0] = '\0';
		for (k = 0; ev != NULL && k < s->nevidence; k++) {
			const struct vg_trace_evidence *e = &s->evidence[k];
			char idtext[VG_ID_STRLEN];
			json_t *eo;

			vg_id_format(idtext, e->customer);
			eo = json_pack("{s:s,s:I,s:o,s:s,s:o,s:b}", "chain",
			    e->chain, "seq", (json_int_t)e->seq, "time",
			    time_json(e->time_ns), "customer", idtext,
			    "fields", types_json(e->types), "honey", e->honey);
			if (eo == NULL || set_proof(r, eo, p, e->chain,
			    e->seq) != 0 || json_array_append_new(ev, eo) != 0) {
				json_decref(ev);
				ev = NULL;
			}
		}
		o = ev == NULL ? NULL : json_pack("{s:s,s:s,s:I,s:I,s:f,s:f,"
		    "s:f,s:f,s:b,s:I,s:I,s:f,s:I,s:o,s:o,s:o,s:o,s:I}",
		    "principal", s->principal, "org", pr.org, "overlap",
		    (json_int_t)s->overlap, "accessed",
		    (json_int_t)s->accessed, "expected", s->expected,
		    "p_value", p_of(s->log10_p_adj), "log10_p_value",
		    s->log10_p_adj, "log10_p_uncorrected", s->log10_p,
		    "named", s->named, "rank", (json_int_t)s->rank_named,
		    "residual", (json_int_t)s->residual,
		    "log10_p_residual", s->log10_p_residual, "honey",
		    (json_int_t)s->honey, "fields", types_json(s->types),
		    "first", time_json(s->first_ns), "last",
		    time_json(s->last_ns), "evidence", ev, "evidence_total",
		    (json_int_t)s->overlap);
		if (o == NULL || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
rings_json(const struct vg_trace_result *res)
{
	json_t *a = json_array(), *m, *o;
	size_t i;

	if (a == NULL || res->nnamed < 2)
		return a;
	if ((m = json_array()) == NULL) {
		json_decref(a);
		return NULL;
	}
	for (i = 0; i < res->nnamed; i++)
		json_array_append_new(m,
		    json_string(res->suspects[i].principal));
	o = json_pack("{s:o,s:I,s:f}", "members", m, "explained",
	    (json_int_t)res->explained, "share", res->leaked != 0 ?
	    (double)res->explained / (double)res->leaked : 0.0);
	if (o == NULL || json_array_append_new(a, o) != 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static const char wording[] =
    "Proof: a canary row names the one export it was made for; a leaked "
    "honeytoken was revealed only by the principals whose audit entries "
    "show it, since no legitimate work touches one; each evidence entry "
    "is in the signed audit log, checkable by anyone with the checkpoint "
    "and the log's public key (vigil audit check-proof). Likelihood: an "
    "overlap's p_value is the chance that a principal with that access "
    "volume in those regions would hold that many of the leaked customers "
    "if it had nothing to do with the leak, corrected for every principal "
    "tested; a small p_value is strong evidence, not proof, and a "
    "principal is named only below alpha after those named before it are "
    "taken out.";

static json_t *
report(struct run *r, const struct vg_leak_layout *lay,
    const struct vg_trace_result *res, uint64_t distinct)
{
	struct vg_audit_proof *p = malloc(sizeof(*p));
	json_t *o = NULL, *ex = NULL, *su = NULL, *ri = NULL, *la;

	if (p == NULL)
		return NULL;
	la = layout_json(lay);
	ex = exports_json(r, res, p);
	su = suspects_json(r, res, p);
	ri = rings_json(res);
	free(p);
	if (la == NULL || ex == NULL || su == NULL || ri == NULL)
		goto fail;
	o = json_pack("{s:s,s:{s:I,s:o},s:I,s:I,s:I,s:{s:I,s:I,s:I},"
	    "s:I,s:O,s:I,s:O,s:o,s:o,s:o,s:I,s:I,s:I,s:f,s:s}",
	    "format", "vigil-trace-1",
	    "file", "rows", (json_int_t)r->rows, "layout", la,
	    "matched", (json_int_t)r->matched,
	    "customers", (json_int_t)distinct,
	    "unmatched", (json_int_t)(r->not_found + r->no_value +
	    r->bad_only),
	    "unmatched_reasons", "not_found", (json_int_t)r->not_found,
	    "no_indexed_value", (json_int_t)r->no_value, "unreadable",
	    (json_int_t)r->bad_only,
	    "honey_rows", (json_int_t)r->honey_rows,
	    "honey_hits", r->honey_hits,
	    "canary_rows", (json_int_t)r->canary_rows,
	    "canary_hits", r->canary_hits,
	    "exports", ex, "suspects", su, "rings", ri,
	    "accessed", (json_int_t)res->accessed,
	    "principals_tested", (json_int_t)res->principals_tested,
	    "named", (json_int_t)res->nnamed,
	    "alpha", res->alpha, "wording", wording);
	if (o != NULL)
		json_object_set_new(o, "volumes_exact",
		    json_boolean(res->volumes_exact));
	return o;
fail:
	json_decref(la);
	json_decref(ex);
	json_decref(su);
	json_decref(ri);
	return NULL;
}

void
vg_leak_trace_stamp(json_t *rep, const char *sha_hex, char *detail,
    size_t cap)
{
	json_t *file = json_object_get(rep, "file");
	const json_t *ex = json_object_get(rep, "exports");
	size_t i, named = 0;

	if (rep == NULL) {
		snprintf(detail, cap, "file_sha256=%s", sha_hex);
		return;
	}
	json_object_set_new(file, "sha256", json_string(sha_hex));
	for (i = 0; i < json_array_size(ex); i++)
		named += json_is_true(json_object_get(json_array_get(ex, i),
		    "named"));
	snprintf(detail, cap, "file_sha256=%s,rows=%lld,matched=%lld,"
	    "named=%lld,exports_named=%zu", sha_hex,
	    (long long)json_integer_value(json_object_get(file, "rows")),
	    (long long)json_integer_value(json_object_get(rep, "matched")),
	    (long long)json_integer_value(json_object_get(rep, "named")),
	    named);
}

void
vg_leak_trace_opts_default(struct vg_leak_trace_opts *o)
{
	memset(o, 0, sizeof(*o));
	vg_leak_opts_default(&o->leak);
}

int
vg_leak_trace(struct vg_vault *v, const char *vault_dir, vg_csv_read_fn read,
    void *ctx, const struct vg_leak_trace_opts *o,
    vg_leak_trace_progress_fn progress, void *pctx, json_t **out,
    char *err, size_t errcap)
{
	struct vg_leak_trace_opts opt;
	struct vg_trace_opts to;
	struct vg_leak_opts lo;
	struct vg_leak *lk = NULL;
	struct vg_leak_row row;
	const struct vg_trace_result *res;
	uint64_t distinct = 0;
	struct run r;
	int rc;

	*out = NULL;
	if (errcap > 0)
		err[0] = '\0';
	if (o != NULL)
		opt = *o;
	else
		vg_leak_trace_opts_default(&opt);
	if (opt.suspects_max == 0)
		opt.suspects_max = 20;
	memset(&r, 0, sizeof(r));
	r.v = v;
	r.schema = vg_vault_schema(v);
	r.dir = vault_dir;
	r.o = &opt;
	r.err = err;
	r.errcap = errcap;
	r.honey_hits = json_array();
	r.canary_hits = json_array();
	memset(&to, 0, sizeof(to));
	to.schema = r.schema;
	to.from_ns = opt.from_ns;
	to.to_ns = opt.to_ns;
	to.alpha = opt.alpha;
	to.evidence_max = opt.evidence_max;
	if (r.honey_hits == NULL || r.canary_hits == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	if ((rc = vg_trace_new(&to, &r.tr)) != 0)
		goto out;
	if ((rc = vg_honey_load(v, vault_dir, &r.honey, &r.nhoney, err,
	    errcap)) != 0 ||
	    (rc = vg_export_list(v, 0, consumer_cb, &r)) != 0)
		goto out;
	lo = opt.leak;
	lo.hit = hit_fn;
	lo.hit_ctx = &r;
	if ((rc = vg_leak_open(read, ctx, &lo, &lk, err, errcap)) != 0)
		goto out;
	while ((rc = vg_leak_next(lk, &row)) == 1) {
		r.rows++;
		if ((rc = match_row(&r, &row)) != 0)
			break;
		if (progress != NULL && r.rows % 100000 == 0)
			progress(pctx, "rows", r.rows);
	}
	if (rc < 0 && err[0] == '\0') {
		uint64_t line = 0;
		const char *why = vg_leak_error(lk, &line);

		if (why[0] != '\0')
			snprintf(err, errcap, "line %llu: %s",
			    (unsigned long long)line, why);
	}
	if (rc < 0)
		goto out;
	if ((rc = leak_customers(&r, &distinct)) != 0 ||
	    (rc = vg_vault_region_counts(v, stratum_cb, r.tr)) != 0 ||
	    (rc = feed_log(&r, progress, pctx)) != 0 ||
	    (rc = vg_trace_compute(r.tr, &res)) != 0)
		goto out;
	if ((*out = report(&r, vg_leak_layout(lk), res, distinct)) == NULL)
		rc = VG_ENOMEM;
out:
	if (rc != 0 && errcap > 0 && err[0] == '\0')
		snprintf(err, errcap, "%s", vg_strerror(rc));
	json_decref(r.honey_hits);
	json_decref(r.canary_hits);
	vg_leak_free(lk);
	vg_trace_free(r.tr);
	vg_honey_free(r.honey);
	free(r.consumer);
	vg_record_free(r.rec);
	if (r.hit != NULL)
		sodium_memzero(r.hit, r.caphit * sizeof(*r.hit));
	free(r.hit);
	return rc;
}
