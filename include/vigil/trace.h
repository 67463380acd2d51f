/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leak tracing: from a set of leaked customers to the principals and
 * exports that had them.
 *
 * The tracer reads the audit log (every reveal names its principal, its
 * customer and the fields shown in clear; every export row its export)
 * and, for a leak, counts for each principal and each export how many
 * leaked customers it obtained with a leaked field in clear: its
 * overlap.  Whether an overlap is more than chance is a test against a
 * null that respects shared queues (docs/DETECTION.md, "Leak tracing"):
 * customers are grouped by region (the queues they are served from);
 * under the null, each of the n_c principals who revealed leaked
 * customer c is a draw among the principals who reveal customers of c's
 * region, in proportion to how many they reveal, so principal p holds c
 * by chance with probability q_p(c) = min(1, n_c d_p(s) / D(s)), and
 * never less than the uniform d_p(s) / M(s) (d_p(s): customers of
 * region s that p revealed; D(s): all such principal-customer pairs;
 * M(s): customers of region s).  The overlap is then a sum of
 * independent Bernoulli variables of mean lambda = sum q_p(c), whose
 * upper tail is bounded by the Poisson tail of the same mean (Hoeffding
 * 1956, Anderson and Samuels 1967): the p-value reported is that bound,
 * multiplied by the number of principals tested (Bonferroni).  An
 * export's customers were chosen by region and limit, so its q is its
 * rows of region s over M(s).
 *
 * Naming is sequential: the most significant principal below alpha is
 * named, the leaked customers it holds are taken out, the others are
 * tested again on what is left, and so on.  A colleague who only
 * shared the named principal's customers (an escalation, an approval)
 * is explained away; the members of a ring, whose customers differ,
 * each stay significant.  The named set is the ring.
 *
 * Canary rows (vigil/export.h) and honeytoken records are proof, not
 * likelihood: a canary belongs to exactly one export; a honey record
 * has no legitimate access, so whoever revealed one that leaked is
 * named by the audit entry itself.
 *
 * Deterministic: the same log and leak give the same result.  One
 * tracer is used by one thread at a time.
 */
#ifndef VIGIL_TRACE_H
#define VIGIL_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/audit.h"
#include "vigil/crypto.h"
#include "vigil/error.h"
#include "vigil/export.h"
#include "vigil/schema.h"

#define VG_TRACE_REGIONS_MAX 256	/* distinct regions (strata) */
#define VG_TRACE_HOLDERS_MAX 1000000	/* principals and exports */
#define VG_TRACE_EVIDENCE_MAX 1000	/* audit entries per suspect */

/* Field types as a bit set: bit t is enum vg_ftype t; the top bit is a
 * consumer-scoped pseudonym, which every export row gives its consumer
 * (a leak of a pseudonymised export holds nothing else). */
#define VG_TRACE_TYPE(t) (UINT32_C(1) << (t))
#define VG_TRACE_PSEUDONYM (UINT32_C(1) << 31)

struct vg_trace_opts {
	const struct vg_schema *schema;	/* field names of audit entries;
					 * NULL: the default schema */
	uint32_t types;			/* field types of interest: reveals
					 * of other fields are ignored
					 * [0: name, phone, e-mail, account,
					 * pseudonym] */
	int64_t from_ns, to_ns;		/* accesses in [from, to) count
					 * [0: no bound] */
	bool all_customers;		/* keep every customer's accesses
					 * (several leaks traced against one
					 * log: the evaluation); otherwise
					 * only customers vg_trace_watch()ed */
	double alpha;			/* family-wise level of a name
					 * [0.001] */
	size_t ring_max;		/* principals named at most [50] */
	size_t evidence_max;		/* entries kept per suspect [10] */
};

struct vg_trace;

VG_MUST_CHECK int vg_trace_new(const struct vg_trace_opts *o,
    struct vg_trace **out);
void vg_trace_free(struct vg_trace *t);

/* Before feeding: the customers whose accesses to keep (the leaked
 * ones), unless opts.all_customers.  Returns 0 or VG_ENOMEM. */
VG_MUST_CHECK int vg_trace_watch(struct vg_trace *t,
    const unsigned char id[VG_IDBYTES]);

/* Customers of region ("" for those without one) in the vault: the
 * strata of the null.  Returns 0, VG_ETOOBIG or VG_ENOMEM. */
VG_MUST_CHECK int vg_trace_stratum(struct vg_trace *t, const char *region,
    uint64_t customers);

/* One audit entry, in log order (chains may interleave).  Reveals that
 * were allowed, export rows and export manifests are kept; everything
 * else is skipped.  Returns 0, VG_ETOOBIG (too many principals) or
 * VG_ENOMEM. */
VG_MUST_CHECK int vg_trace_feed(struct vg_trace *t,
    const struct vg_audit_record *rec);

/*-----------------------------------------------------------------------------
 * A leak, traced against what was fed.  The leak may be reset and
 * traced again (the evaluation draws many leaks from one log).
 */
void vg_trace_leak_reset(struct vg_trace *t);
/* A leaked customer, with the field types the leak holds for it
 * (VG_TRACE_TYPE bits; a customer added twice gets the union), its
 * region ("" unknown) and whether it is a honeytoken. */
VG_MUST_CHECK int vg_trace_leak_add(struct vg_trace *t,
    const unsigned char id[VG_IDBYTES], uint32_t types, const char *region,
    bool honey);
/* A leaked row that is a canary of export id. */
VG_MUST_CHECK int vg_trace_leak_canary(struct vg_trace *t, const char *id);

/* One audit entry behind a suspect's overlap. */
struct vg_trace_evidence {
	char chain[VG_CHAIN_NAME_MAX + 1];
	uint64_t seq;
	int64_t time_ns;
	unsigned char customer[VG_IDBYTES];
	uint32_t types;			/* leaked types it showed in clear */
	bool honey;			/* the customer is a honeytoken */
};

struct vg_trace_suspect {
	char principal[VG_AUDIT_STR_MAX + 1];
	uint64_t overlap;		/* leaked customers it revealed */
	uint64_t accessed;		/* customers it revealed in all */
	double expected;		/* overlap expected by chance */
	double log10_p;			/* log10 of the tail bound */
	double log10_p_adj;		/* ... times the principals tested */
	bool named;			/* significant, in naming order */
	uint32_t rank_named;		/* 1-based naming order, 0 if not */
	uint64_t residual;		/* overlap left when it was tested
					 * last (after those named before) */
	double log10_p_residual;	/* ... and its corrected p */
	uint64_t honey;			/* leaked honeytokens it revealed */
	uint32_t types;			/* leaked types it revealed */
	int64_t first_ns, last_ns;	/* span of those reveals */
	size_t nevidence;
	struct vg_trace_evidence *evidence;	/* oldest first */
};

struct vg_trace_export {
	char id[VG_EXPORT_ID_MAX + 1];
	char consumer[VG_EXPORT_NAME_MAX + 1];
	char recipient[VG_EXPORT_NAME_MAX + 1];
	char principal[VG_AUDIT_STR_MAX + 1];	/* who asked for it */
	char chain[VG_CHAIN_NAME_MAX + 1];	/* its manifest entry */
	uint64_t manifest_seq;			/* UINT64_MAX: not seen */
	int64_t time_ns;
	uint64_t rows;
	uint64_t overlap;		/* leaked customers it held */
	uint64_t canary_hits;		/* its canaries in the leak */
	double expected;
	double log10_p, log10_p_adj;
	bool named;			/* a canary, or significant */
};

struct vg_trace_result {
	uint64_t leaked;		/* distinct leaked customers */
	uint64_t honey_hits;		/* ... that are honeytokens */
	uint64_t canary_hits;		/* leaked rows that are canaries */
	uint64_t accessed;		/* leaked customers some principal
					 * revealed with a leaked field */
	uint64_t principals_tested;
	uint64_t explained;		/* leaked customers held by the
					 * named principals */
	double alpha;
	bool volumes_exact;		/* false: the log held more than 2^26
					 * principal-customer pairs, and
					 * access volumes past them are upper
					 * bounds (p-values only larger) */
	size_t nsuspects;		/* principals with an overlap, by
					 * significance (named first) */
	const struct vg_trace_suspect *suspects;
	size_t nnamed;			/* the first nnamed suspects */
	size_t nexports;		/* exports with an overlap or a
					 * canary, most significant first */
	const struct vg_trace_export *exports;
};

/* Traces the current leak.  *res is owned by t, valid until the next
 * vg_trace_compute, leak change or free.  Returns 0 or VG_ENOMEM. */
VG_MUST_CHECK int vg_trace_compute(struct vg_trace *t,
    const struct vg_trace_result **res);

/* log10 of P(X >= x) for X ~ Poisson(lambda) (0 for x == 0). */
double vg_poisson_log10_tail(uint64_t x, double lambda);

/*-----------------------------------------------------------------------------
 * From a leaked file to a report (lib/leaktrace.c): what `vigil trace`
 * and POST /v1/leaks/trace run.  Reads the file (vigil/leak.h), matches
 * each row through the vault's blind indexes (phone, then e-mail, then
 * account id), else to an export's canaries, marks honeytokens, reads
 * the vault's whole audit log (every chain), traces, and builds the
 * report as JSON: format "vigil-trace-1", the file's layout and row
 * counts, matched, unmatched, honey_hits, canary_hits, exports,
 * suspects (each with principal, org, overlap, p_value and evidence:
 * the audit entries, each with its inclusion proof against a signed
 * checkpoint when one covers it), rings, and the wording of what is
 * proof and what is likelihood.  No value of the file is repeated in
 * it: rows are named by line, customers by id.
 */
struct vg_vault;
struct json_t;
#include "vigil/leak.h"

struct vg_leak_trace_opts {
	struct vg_leak_opts leak;	/* layout: sniffed unless forced */
	int64_t from_ns, to_ns;		/* audit window [0: all] */
	double alpha;			/* [0.001] */
	size_t evidence_max;		/* entries per suspect [10] */
	size_t suspects_max;		/* suspects listed besides the named
					 * [20] */
	bool no_proofs;			/* leave inclusion proofs out */
};

/* Fills *o with the defaults (the layout sniffed, every bracketed
 * default); vg_leak_trace with o NULL uses them. */
void vg_leak_trace_opts_default(struct vg_leak_trace_opts *o);

/* Progress, for a terminal: the rows read so far, then the audit
 * entries; may be NULL. */
typedef void (*vg_leak_trace_progress_fn)(void *ctx, const char *stage,
    uint64_t n);

/*
 * Traces the file read through read(ctx, ...) against the vault v
 * opened from vault_dir; o NULL takes vg_leak_trace_opts_default().  *out gets the report (the caller releases it
 * with json_decref).  Returns 0; VG_EFORMAT, VG_ETOOBIG or VG_EINVAL
 * for a file that cannot be read as a table, with err naming the line
 * and what (never a value); VG_EFORMAT for a damaged audit log (err
 * says which chain and where); VG_ENOMEM; or a storage error.
 */
VG_MUST_CHECK int vg_leak_trace(struct vg_vault *v, const char *vault_dir,
    vg_csv_read_fn read, void *ctx, const struct vg_leak_trace_opts *o,
    vg_leak_trace_progress_fn progress, void *pctx, struct json_t **out,
    char *err, size_t errcap);

/*
 * Stamps report rep (NULL: a trace that failed) with the file's SHA-256
 * (sha_hex, 64 hex digits) and writes the detail of its `leak.trace`
 * audit entry into detail (capacity cap): "file_sha256=H,rows=N,
 * matched=M,named=K,exports_named=E", or "file_sha256=H" alone.
 */
void vg_leak_trace_stamp(struct json_t *rep, const char *sha_hex,
    char *detail, size_t cap);

#endif
