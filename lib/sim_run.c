/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulator's in-process driver (vigil/sim.h, vg_sim_run): a
 * miniature of vigild without HTTP or SQLite, so a simulated week runs
 * in a second.  For each action of the world it gathers the facts vigild
 * gathers (principal, case, shift, approval, quota usage, containment),
 * decides with vg_policy_decide() (reveals inside vg_quota_decide(), as
 * vigild does), writes the audit record vigild would write (action,
 * decision, reason, fields, purpose, case id, and the detail conventions
 * of src/vigild/api.c: "region=XX" on what a record was read for,
 * "break_glass=1,justification_bytes=N,notify=1", "approval=apr_...",
 * "assignee=X,channel=Y[,self_opened=1]", "window=W,kind=K" on a quota
 * refusal, "approval=apr_...,why=W" on a step-up, "contained=1" on a
 * reveal refused because the detector's containment suspended it; an
 * export's "export.row" entries and manifest, as lib/export.c writes
 * them), feeds it to the detector, and answers the world.  Alerts
 * contain as vigild's detector thread does: a "detect.contain" record
 * first, then the containment map that the next reveal reads.
 *
 * A containment of a legitimate principal is lifted by a security
 * analyst's review (review_hours later; the review is told the ground
 * truth), as vigild's POST /v1/principals/{id}/reinstate would.
 *
 * What it leaves out: the vault (customers are numbers; a customer's id
 * is a keyed hash of its number), exports' files and canaries (only the
 * audit entries are written), approvals' own expiry sweeps, and the
 * detector's 20 ms polling delay (containment here is immediate).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vigil/cases.h"
#include "vigil/contain.h"
#include "vigil/export.h"
#include "vigil/policy.h"
#include "vigil/quota.h"
#include "vigil/schema.h"
#include "vigil/shift.h"
#include "vigil/sim.h"
#include "mix.h"

#define NS 1000000000ll
#define DAY_NS (86400 * NS)
#define LOCAL_NS (8 * 3600 * NS)	/* the world's local days */

struct rcase {
	bool exists, open, self_opened;
	uint32_t cust, assignee, opener;
	char channel[8];
	int64_t created, expires, closed;	/* seconds */
};

/* An alert as the report keeps it. */
struct seen {
	int32_t p;
	int64_t t;
	enum vg_severity sev;
	char rule[32], signal[32];
};

struct run {
	struct vg_sim *w;
	const struct vg_sim_run_opts *o;
	const struct vg_sim_principal *pt;
	size_t np;
	struct vg_principal *dir;
	struct vg_shift *shift;
	bool *has_shift;
	uint32_t *ptab;			/* open addressing: index + 1 */
	size_t ptab_cap;
	uint64_t idkey, casekey, aprkey, exkey;
	uint64_t nexports;		/* exports decided so far */
	int64_t t0;
	struct vg_schema schema;
	struct vg_policy *pol;
	struct vg_quota *q;
	struct vg_detect *d;
	struct vg_contain_map *cm;
	unsigned char (*honey)[VG_IDBYTES];
	size_t nhoney;
	struct rcase *cases;
	size_t ccap;
	struct vg_approval *apr;
	size_t napr, aprcap;
	struct vg_audit_record *rec;
	uint64_t seq;
	int64_t last_ns;
	int err;
	/* Alerts raised by the record just fed, and every alert seen. */
	struct vg_alert *pend;
	size_t npend, pendcap;
	bool draining;
	struct seen *seen;
	size_t nseen, seencap;
	struct seen *held;		/* containments: p, t */
	size_t nheld, heldcap;
	size_t nreviewed;		/* held[] reviewed so far */
	int64_t review_ns;		/* < 0: never */
	int32_t analyst;		/* who reinstates */
	/* Ground truth as the actions show it. */
	bool *insiderish;		/* an insider, or a key one uses */
	uint32_t *actor_of;
	uint64_t *days;			/* local days active, a bit each */
	struct vg_sim_report *rep;
};

/*-----------------------------------------------------------------------------
 * Ids
 */

/* One splitmix64 step from x: a stateless 64-bit mixer. */
static uint64_t
mix(uint64_t x)
{
	return splitmix64(&x);
}

/* Customer i's id (guess: an id that exists nowhere). */
static void
cust_id(const struct run *r, uint64_t i, bool guess, unsigned char out[16])
{
	uint64_t a = mix(r->idkey ^ mix(i ^ (guess ? 0x5bd1e995ull << 32 :
	    0))), b = mix(a ^ r->idkey);
	int k;

	for (k = 0; k < 8; k++) {
		out[k] = (unsigned char)(a >> (8 * k));
		out[8 + k] = (unsigned char)(b >> (8 * k));
	}
}

static uint64_t
id_key(uint64_t seed)
{
	return mix(seed ^ 0x5349d0a1c3e5f7b9ull);
}

void
vg_sim_customer_id(const struct vg_sim *w, uint32_t i,
    unsigned char out[VG_IDBYTES])
{
	struct run r;

	r.idkey = id_key(vg_sim_options(w)->seed);
	cust_id(&r, i, false, out);
}

/* "case_" or "apr_" and 26 base32 characters from (key, n). */
static void
token(char *out, size_t cap, const char *prefix, uint64_t key, uint64_t n)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint64_t a = mix(key ^ n), b = mix(a + n);
	size_t pl = strlen(prefix), k;

	if (cap < pl + 27)
		return;
	memcpy(out, prefix, pl);
	for (k = 0; k < 26; k++) {
		/* 12 and 14 characters of 5 bits: shifts stay below 64. */
		uint64_t v = k < 12 ? a >> (5 * k) : b >> (4 * (k - 12));

		out[pl + k] = b32[v & 31];
	}
	out[pl + 26] = '\0';
}

static void
case_id(const struct run *r, uint32_t ref, char out[VG_CASE_STRLEN])
{
	token(out, VG_CASE_STRLEN, "case_", r->casekey, ref);
}

/*-----------------------------------------------------------------------------
 * The principal directory
 */

static int32_t
find(const struct run *r, const char *id)
{
	size_t j = str_hash(id) & (r->ptab_cap - 1);

	while (r->ptab[j] != 0) {
		if (strcmp(r->pt[r->ptab[j] - 1].id, id) == 0)
			return (int32_t)r->ptab[j] - 1;
		j = (j + 1) & (r->ptab_cap - 1);
	}
	return -1;
}

static int
directory(void *ctx, const char *id, struct vg_principal *out)
{
	struct run *r = ctx;
	int32_t i = find(r, id);

	if (i < 0)
		return VG_ENOTFOUND;
	*out = r->dir[i];
	return 0;
}

/*-----------------------------------------------------------------------------
 * Audit records, alerts and containment
 */

static void drain(struct run *r);
static bool staff(const struct vg_sim_principal *p);

static void
on_alert(void *ctx, const struct vg_alert *a)
{
	struct run *r = ctx;

	if (r->npend == r->pendcap) {
		size_t nc = r->pendcap ? r->pendcap * 2 : 16;
		struct vg_alert *np = realloc(r->pend, nc * sizeof(*np));

		if (np == NULL) {
			r->err = VG_ENOMEM;
			return;
		}
		r->pend = np;
		r->pendcap = nc;
	}
	r->pend[r->npend++] = *a;
}

static void
scopy(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Writes one record as vigild would and feeds it to the detector. */
static void
emit(struct run *r, int64_t t_ns, const char *who, const char *action,
    const char *decision, const char *reason, const unsigned char *customer,
    const char *fields, const char *purpose, const char *case_id,
    const char *detail)
{
	struct vg_audit_record *rec = r->rec;
	int rc;

	memset(rec, 0, offsetof(struct vg_audit_record, leaf));
	if (t_ns < r->last_ns)
		t_ns = r->last_ns;
	r->last_ns = t_ns;
	rec->seq = r->seq++;
	rec->time_ns = t_ns;
	scopy(rec->node, sizeof(rec->node), "sim");
	scopy(rec->principal, sizeof(rec->principal), who);
	scopy(rec->action, sizeof(rec->action), action);
	scopy(rec->decision, sizeof(rec->decision), decision);
	scopy(rec->reason, sizeof(rec->reason), reason);
	if (customer != NULL) {
		rec->has_customer = true;
		memcpy(rec->customer, customer, VG_IDBYTES);
	}
	scopy(rec->fields, sizeof(rec->fields), fields);
	scopy(rec->purpose, sizeof(rec->purpose), purpose);
	scopy(rec->case_id, sizeof(rec->case_id), case_id);
	snprintf(rec->request_id, sizeof(rec->request_id), "sim-%llu",
	    (unsigned long long)rec->seq);
	/* The detector's own entries come from vigild itself. */
	scopy(rec->client, sizeof(rec->client), strcmp(who, "detector") == 0 ?
	    "vigild" : "sim");
	scopy(rec->detail, sizeof(rec->detail), detail);
	r->rep->entries++;
	if (r->o->record != NULL)
		r->o->record(r->o->record_ctx, rec);
	if ((rc = vg_detect_feed(r->d, rec)) != 0 && r->err == 0)
		r->err = rc;
	drain(r);
}

static int
note(struct seen **v, size_t *n, size_t *cap, const struct seen *s)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct seen *nv = realloc(*v, nc * sizeof(*nv));

		if (nv == NULL)
			return VG_ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *s;
	return 0;
}

/* Containment for alert a, as vigild's detector thread does it: the
 * audit record first, then the map. */
static void
contain(struct run *r, const struct vg_alert *a, int32_t p)
{
	struct vg_contain_state cur;
	char detail[VG_AUDIT_STR_MAX + 1];
	struct seen h;
	int level = a->action;

	if (level <= VG_CONTAIN_NONE || vg_contain_acted(r->cm, a->id))
		return;
	vg_contain_get(r->cm, a->principal, &cur);
	if ((int)cur.level >= level)
		return;
	vg_contain_detail(detail, sizeof(detail), a->principal,
	    (enum vg_contain)level, a->id);
	emit(r, a->time_ns, "detector", "detect.contain", "allow", a->rule,
	    NULL, NULL, NULL, NULL, detail);
	if (vg_contain_set(r->cm, a->principal, (enum vg_contain)level, a->id,
	    r->last_ns) != 0) {
		r->err = VG_ENOMEM;
		return;
	}
	r->rep->contained++;
	memset(&h, 0, sizeof(h));
	h.p = p;
	h.t = r->last_ns;
	h.sev = a->severity;
	if (note(&r->held, &r->nheld, &r->heldcap, &h) != 0)
		r->err = VG_ENOMEM;
}

/* Handles the alerts raised so far, in order (containment records may
 * be fed meanwhile; they raise nothing of their own). */
static void
drain(struct run *r)
{
	size_t i;

	if (r->draining)
		return;
	r->draining = true;
	for (i = 0; i < r->npend; i++) {
		struct vg_alert a = r->pend[i];
		int32_t p = find(r, a.principal);
		bool truth = p >= 0 && r->insiderish[p];
		struct seen s;

		r->rep->alerts++;
		if (truth) {
			r->rep->true_alerts++;
		} else {
			r->rep->false_alerts++;
			if (p >= 0 && staff(&r->pt[p]))
				r->rep->staff_false_alerts++;
		}
		memset(&s, 0, sizeof(s));
		s.p = p;
		s.t = a.time_ns;
		s.sev = a.severity;
		scopy(s.rule, sizeof(s.rule), a.rule);
		if (a.nsignals > 0)
			scopy(s.signal, sizeof(s.signal), a.signal[0].name);
		if (note(&r->seen, &r->nseen, &r->seencap, &s) != 0)
			r->err = VG_ENOMEM;
		if (r->o->alert != NULL)
			r->o->alert(r->o->alert_ctx, &a, p, truth);
		contain(r, &a, p);
	}
	r->npend = 0;
	r->draining = false;
}

/*-----------------------------------------------------------------------------
 * Deciding each action
 */

static struct rcase *
rcase_at(struct run *r, uint32_t ref)
{
	if (ref >= r->ccap) {
		size_t nc = r->ccap ? r->ccap : 4096;
		struct rcase *c;

		while (nc <= ref)
			nc *= 2;
		if ((c = realloc(r->cases, nc * sizeof(*c))) == NULL) {
			r->err = VG_ENOMEM;
			return NULL;
		}
		memset(c + r->ccap, 0, (nc - r->ccap) * sizeof(*c));
		r->cases = c;
		r->ccap = nc;
	}
	return &r->cases[ref];
}

/* A non-reveal action's decision (vigild's allowed()). */
static void
decide(struct run *r, uint32_t who, enum vg_action act, int64_t now,
    struct vg_decision *d)
{
	struct vg_policy_input in;

	memset(&in, 0, sizeof(in));
	in.who = &r->dir[who];
	in.action = act;
	in.shift = -1;
	in.now = now;
	vg_policy_decide(r->pol, &in, d);
}

static void
field_list(const struct run *r, uint32_t mask, char *out, size_t cap)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < r->schema.nfields && len < cap; i++)
		if (mask & (1u << i))
			len += (size_t)snprintf(out + len, cap - len, "%s%s",
			    len > 0 ? "," : "", r->schema.field[i].name);
}

static const char *
region_detail(const struct run *r, int64_t cust, char *buf, size_t cap,
    const char *before)
{
	const char *reg = cust >= 0 ? vg_sim_region(r->w, (uint32_t)cust) :
	    "";

	snprintf(buf, cap, "%s%sregion=%s", before, before[0] != '\0' ?
	    "," : "", reg);
	return buf;
}

static enum vg_sim_result
do_case_open(struct run *r, const struct vg_sim_action *a, int64_t now)
{
	const char *who = r->pt[a->actor].id;
	bool self = a->assignee == a->actor;
	unsigned char cus[VG_IDBYTES];
	char cid[VG_CASE_STRLEN], detail[VG_AUDIT_STR_MAX + 1];
	struct vg_decision d;
	struct rcase *c;

	cust_id(r, (uint64_t)a->customer, false, cus);
	decide(r, a->actor, VG_ACT_CASE_OPEN, now, &d);
	if (d.verdict != VG_ALLOW)
		decide(r, a->actor, self ? VG_ACT_CASE_SELF_OPEN :
		    VG_ACT_CASE_OPEN, now, &d);
	if (d.verdict != VG_ALLOW) {
		emit(r, a->t_ns, who, "case.open", "deny", d.reason, cus,
		    NULL, NULL, NULL, NULL);
		return VG_SIM_DENIED;
	}
	if (a->assignee >= r->np || strcmp(r->dir[a->assignee].state,
	    "active") != 0 || a->customer < 0 || a->case_ref == 0) {
		emit(r, a->t_ns, who, "case.open", "deny", "invalid_value",
		    cus, NULL, NULL, NULL, NULL);
		return VG_SIM_DENIED;
	}
	if ((c = rcase_at(r, a->case_ref)) == NULL)
		return VG_SIM_ERROR;
	memset(c, 0, sizeof(*c));
	c->exists = c->open = true;
	c->self_opened = self;
	c->cust = (uint32_t)a->customer;
	c->assignee = a->assignee;
	c->opener = a->actor;
	scopy(c->channel, sizeof(c->channel), a->channel);
	c->created = now;
	c->expires = vg_policy_case_ttl(r->pol) > 0 ? now +
	    vg_policy_case_ttl(r->pol) : 0;
	case_id(r, a->case_ref, cid);
	snprintf(detail, sizeof(detail), "assignee=%s,channel=%s%s",
	    r->pt[a->assignee].id, a->channel, self ? ",self_opened=1" : "");
	emit(r, a->t_ns, who, "case.open", "allow", VG_R_OK, cus, NULL, NULL,
	    cid, detail);
	if (!self && vg_quota_add_case(r->q, r->pt[a->assignee].id, now) != 0)
		r->err = VG_ENOMEM;
	return VG_SIM_OK;
}

static enum vg_sim_result
do_case_change(struct run *r, const struct vg_sim_action *a, int64_t now)
{
	bool assign = a->kind == VG_SIM_CASE_ASSIGN;
	const char *who = r->pt[a->actor].id;
	const char *act = assign ? "case.assign" : "case.close";
	unsigned char cus[VG_IDBYTES];
	char cid[VG_CASE_STRLEN], detail[VG_AUDIT_STR_MAX + 1] = "";
	struct vg_decision d;
	struct rcase *c = rcase_at(r, a->case_ref);

	if (c == NULL || !c->exists)
		return VG_SIM_MISS;	/* vigild: 404, not audited */
	cust_id(r, c->cust, false, cus);
	case_id(r, a->case_ref, cid);
	if (assign || c->assignee != a->actor) {
		decide(r, a->actor, assign ? VG_ACT_CASE_ASSIGN :
		    VG_ACT_CASE_CLOSE, now, &d);
		if (d.verdict != VG_ALLOW) {
			emit(r, a->t_ns, who, act, "deny", d.reason, cus,
			    NULL, NULL, cid, NULL);
			return VG_SIM_DENIED;
		}
	}
	if (assign && (a->assignee >= r->np ||
	    strcmp(r->dir[a->assignee].state, "active") != 0)) {
		emit(r, a->t_ns, who, act, "deny", "invalid_value", cus, NULL,
		    NULL, cid, NULL);
		return VG_SIM_DENIED;
	}
	if (!c->open) {
		emit(r, a->t_ns, who, act, "deny", "conflict", cus, NULL, NULL,
		    cid, NULL);
		return VG_SIM_DENIED;
	}
	if (assign) {
		c->assignee = a->assignee;
		snprintf(detail, sizeof(detail), "assignee=%s",
		    r->pt[a->assignee].id);
	} else {
		c->open = false;
		c->closed = now;
	}
	emit(r, a->t_ns, who, act, "allow", VG_R_OK, cus, NULL, NULL, cid,
	    detail);
	if (assign && a->assignee != a->actor &&
	    vg_quota_add_case(r->q, r->pt[a->assignee].id, now) != 0)
		r->err = VG_ENOMEM;
	return VG_SIM_OK;
}

static enum vg_sim_result
do_lookup(struct run *r, const struct vg_sim_action *a, int64_t now)
{
	const char *who = r->pt[a->actor].id;
	unsigned char cus[VG_IDBYTES];
	char cid[VG_CASE_STRLEN] = "", detail[64];
	struct vg_decision d;

	if (a->case_ref != 0)
		case_id(r, a->case_ref, cid);
	decide(r, a->actor, a->kind == VG_SIM_VIEW ? VG_ACT_VIEW :
	    VG_ACT_LOOKUP, now, &d);
	if (a->kind == VG_SIM_VIEW) {
		cust_id(r, a->customer >= 0 ? (uint64_t)a->customer : a->guess,
		    a->customer < 0, cus);
		if (d.verdict != VG_ALLOW) {
			emit(r, a->t_ns, who, "view", "deny", d.reason, cus,
			    NULL, NULL, NULL, NULL);
			return VG_SIM_DENIED;
		}
		if (a->customer < 0) {
			emit(r, a->t_ns, who, "view", "miss", "not_found",
			    cus, NULL, NULL, NULL, NULL);
			return VG_SIM_MISS;
		}
		emit(r, a->t_ns, who, "view", "allow", VG_R_OK, cus, NULL,
		    NULL, NULL, region_detail(r, a->customer, detail,
		    sizeof(detail), ""));
		return VG_SIM_OK;
	}
	if (d.verdict != VG_ALLOW) {
		emit(r, a->t_ns, who, "lookup", "deny", d.reason, NULL,
		    "phone", NULL, cid, NULL);
		return VG_SIM_DENIED;
	}
	if (a->customer < 0) {
		emit(r, a->t_ns, who, "lookup", "miss", "not_found", NULL,
		    "phone", NULL, cid, NULL);
		return VG_SIM_MISS;
	}
	cust_id(r, (uint64_t)a->customer, false, cus);
	emit(r, a->t_ns, who, "lookup", "allow", VG_R_OK, cus, "phone", NULL,
	    cid, region_detail(r, a->customer, detail, sizeof(detail), ""));
	return VG_SIM_OK;
}

struct reveal_ctx {
	struct run *r;
	struct vg_policy_input in;
	struct vg_decision d;
};

static int
reveal_decide(void *ctx, const struct vg_quota_usage *u)
{
	struct reveal_ctx *c = ctx;

	c->in.usage = u;
	vg_policy_decide(c->r->pol, &c->in, &c->d);
	c->in.usage = NULL;
	if (c->d.verdict != VG_ALLOW)
		return 0;
	return c->d.break_glass ? 2 : 1;
}

/* The newest approval of requester for (customer, case) in state st
 * (NULL: any), or NULL. */
static struct vg_approval *
approval_find(struct run *r, const char *requester, const unsigned char *cus,
    const char *cid, const char *st)
{
	size_t i;

	for (i = r->napr; i-- > 0; ) {
		struct vg_approval *p = &r->apr[i];

		if (strcmp(p->principal, requester) == 0 &&
		    memcmp(p->customer, cus, VG_IDBYTES) == 0 &&
		    strcmp(p->case_id, cid) == 0 &&
		    (st == NULL || strcmp(p->state, st) == 0))
			return p;
	}
	return NULL;
}

static struct vg_approval *
approval_new(struct run *r)
{
	if (r->napr == r->aprcap) {
		size_t nc = r->aprcap ? r->aprcap * 2 : 64;
		struct vg_approval *np = realloc(r->apr, nc * sizeof(*np));

		if (np == NULL) {
			r->err = VG_ENOMEM;
			return NULL;
		}
		r->apr = np;
		r->aprcap = nc;
	}
	memset(&r->apr[r->napr], 0, sizeof(r->apr[0]));
	token(r->apr[r->napr].id, sizeof(r->apr[0].id), "apr_", r->aprkey,
	    r->napr);
	return &r->apr[r->napr++];
}

static size_t
pending_of(const struct run *r, const char *who, int64_t now)
{
	size_t i, n = 0;

	for (i = 0; i < r->napr; i++)
		if (strcmp(r->apr[i].principal, who) == 0 &&
		    strcmp(r->apr[i].state, "pending") == 0 &&
		    now < r->apr[i].expires)
			n++;
	return n;
}

static enum vg_sim_result
do_reveal(struct run *r, const struct vg_sim_action *a, int64_t now)
{
	const char *who = r->pt[a->actor].id;
	struct reveal_ctx c;
	struct vg_contain_state cs;
	struct vg_case kase;
	struct vg_approval *ap = NULL;
	struct rcase *rc = NULL;
	unsigned char cus[VG_IDBYTES];
	char cid[VG_CASE_STRLEN] = "", fields[VG_AUDIT_STR_MAX + 1];
	char detail[VG_AUDIT_STR_MAX + 1], more[VG_AUDIT_STR_MAX + 1] = "";
	size_t jlen = a->break_glass && a->justification != NULL ?
	    strlen(a->justification) : 0;
	int q;

	cust_id(r, (uint64_t)a->customer, false, cus);
	field_list(r, a->fields, fields, sizeof(fields));
	if (a->case_ref != 0) {
		case_id(r, a->case_ref, cid);
		rc = rcase_at(r, a->case_ref);
	}
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.in.who = &r->dir[a->actor];
	c.in.action = VG_ACT_REVEAL;
	c.in.fields = a->fields;
	c.in.purpose = a->purpose;
	c.in.now = now;
	c.in.justification_len = jlen;
	if (rc != NULL && rc->exists) {
		memset(&kase, 0, sizeof(kase));
		scopy(kase.id, sizeof(kase.id), cid);
		cust_id(r, rc->cust, false, kase.customer);
		scopy(kase.assignee, sizeof(kase.assignee),
		    r->pt[rc->assignee].id);
		scopy(kase.opened_by, sizeof(kase.opened_by),
		    r->pt[rc->opener].id);
		scopy(kase.state, sizeof(kase.state), rc->open ? "open" :
		    "closed");
		kase.self_opened = rc->self_opened;
		kase.created = rc->created;
		kase.expires = rc->expires;
		kase.closed = rc->closed;
	}
	vg_case_facts(rc != NULL && rc->exists ? &kase : NULL,
	    a->case_ref != 0, who, cus, now, &c.in.kase);
	c.in.shift = r->has_shift[a->actor] ?
	    vg_shift_contains(&r->shift[a->actor], now) : -1;
	vg_contain_get(r->cm, who, &cs);
	c.in.containment = (int)cs.level;
	if (a->approved && (ap = approval_find(r, who, cus, cid,
	    "approved")) != NULL)
		c.in.approved = vg_approval_covers(ap, who, cus, a->fields,
		    a->purpose, cid, now, NULL) == 0;
	q = vg_quota_decide(r->q, who, cus, now, false, reveal_decide, &c);
	if (q < 0) {
		r->err = q;
		return VG_SIM_ERROR;
	}
	if (c.d.verdict == VG_STEP_UP) {
		const char *why = c.d.step_up_why != NULL ? c.d.step_up_why :
		    "policy";
		struct vg_approval *np;

		if (pending_of(r, who, now) >= VG_APPROVALS_PENDING_MAX) {
			emit(r, a->t_ns, who, "reveal", "step_up",
			    "step_up_limit", cus, fields, a->purpose, cid,
			    NULL);
		} else if ((np = approval_new(r)) != NULL) {
			scopy(np->principal, sizeof(np->principal), who);
			memcpy(np->customer, cus, VG_IDBYTES);
			np->fields = a->fields;
			scopy(np->purpose, sizeof(np->purpose), a->purpose);
			scopy(np->case_id, sizeof(np->case_id), cid);
			scopy(np->why, sizeof(np->why), why);
			scopy(np->state, sizeof(np->state), "pending");
			np->created = now;
			np->expires = now + (vg_policy_approval_ttl(r->pol) > 0 ?
			    vg_policy_approval_ttl(r->pol) : 900);
			snprintf(detail, sizeof(detail), "approval=%s,why=%s",
			    np->id, why);
			emit(r, a->t_ns, who, "reveal", "step_up", c.d.reason,
			    cus, fields, a->purpose, cid, detail);
		}
		return strcmp(why, "contained") == 0 ? VG_SIM_CONTAINED :
		    VG_SIM_STEP_UP;
	}
	if (c.d.verdict == VG_DENY) {
		/* vigild marks a refusal that the detector's containment
		 * caused (not a person's suspension): the detector does not
		 * count it as the principal's own probing. */
		bool contained = strcmp(c.d.reason, VG_R_SUSPENDED) == 0 &&
		    c.in.containment >= 2 &&
		    strcmp(r->dir[a->actor].state, "suspended") != 0;

		snprintf(detail, sizeof(detail), "%s", contained ?
		    "contained=1" : "");
		if (strcmp(c.d.reason, VG_R_QUOTA) == 0)
			snprintf(detail, sizeof(detail), "window=%s,kind=%s",
			    c.d.quota_window >= 0 ?
			    vg_qwin_name(c.d.quota_window) : "",
			    c.d.quota_kind != NULL ? c.d.quota_kind : "");
		emit(r, a->t_ns, who, "reveal", "deny", c.d.reason, cus,
		    fields, a->purpose, cid, detail);
		return strcmp(c.d.reason, VG_R_SUSPENDED) == 0 &&
		    c.in.containment >= 2 ? VG_SIM_CONTAINED : VG_SIM_DENIED;
	}
	if (c.d.approval_used && ap != NULL)
		scopy(ap->state, sizeof(ap->state), "used");
	if (c.d.break_glass)
		snprintf(more, sizeof(more), "break_glass=1,"
		    "justification_bytes=%zu,notify=%d%s%s", jlen,
		    c.d.notify ? 1 : 0, c.d.approval_used ? ",approval=" : "",
		    c.d.approval_used && ap != NULL ? ap->id : "");
	else if (c.d.approval_used && ap != NULL)
		snprintf(more, sizeof(more), "approval=%s", ap->id);
	emit(r, a->t_ns, who, "reveal", "allow", c.d.reason, cus, fields,
	    a->purpose, cid, region_detail(r, a->customer, detail,
	    sizeof(detail), more));
	return VG_SIM_OK;
}

static enum vg_sim_result
do_approve(struct run *r, const struct vg_sim_action *a, int64_t now)
{
	const char *who = r->pt[a->actor].id;
	const char *req = a->assignee < r->np ? r->pt[a->assignee].id : "";
	unsigned char cus[VG_IDBYTES];
	char cid[VG_CASE_STRLEN] = "", detail[VG_AUDIT_STR_MAX + 1];
	struct vg_approval *ap;
	struct vg_decision d;

	cust_id(r, (uint64_t)a->customer, false, cus);
	if (a->case_ref != 0)
		case_id(r, a->case_ref, cid);
	if ((ap = approval_find(r, req, cus, cid, NULL)) == NULL)
		return VG_SIM_MISS;	/* vigild: 404, not audited */
	snprintf(detail, sizeof(detail), "approval=%s,requester=%s", ap->id,
	    ap->principal);
	decide(r, a->actor, VG_ACT_APPROVE, now, &d);
	if (d.verdict != VG_ALLOW) {
		emit(r, a->t_ns, who, "approval.approve", "deny", d.reason,
		    cus, NULL, ap->purpose, cid, detail);
		return VG_SIM_DENIED;
	}
	if (strcmp(ap->principal, who) == 0 || strcmp(ap->state, "pending") !=
	    0 || now >= ap->expires) {
		emit(r, a->t_ns, who, "approval.approve", "deny",
		    strcmp(ap->principal, who) == 0 ? "self_approval" :
		    "conflict", cus, NULL, ap->purpose, cid, detail);
		return VG_SIM_DENIED;
	}
	scopy(ap->state, sizeof(ap->state), "approved");
	scopy(ap->decided_by, sizeof(ap->decided_by), who);
	ap->decided = now;
	emit(r, a->t_ns, who, "approval.approve", "allow", VG_R_OK, cus, NULL,
	    ap->purpose, cid, detail);
	return VG_SIM_OK;
}

/*
 * An export, as vigild's POST /v1/exports makes it (lib/export.c and the
 * audit contract of vigil/export.h): decided for the exporter under the
 * policy (action "export", the consumer's purposes, clear fields and
 * max_rows, and the detector's containment), then one "export.row" entry
 * per customer with the fields it gets in clear, and the manifest; a
 * refusal is one "export" entry, decision "deny".  There is no vault
 * here: the customers are the world's draw (vigild takes the first of
 * its storage order), no canary is made (the manifest carries their
 * number, vg_export_canary_count()), and the export's id and canary-set
 * commitment are functions of the seed and the export's number.
 */
static enum vg_sim_result
do_export(struct run *r, const struct vg_sim_action *a, int64_t now)
{
	const char *who = r->pt[a->actor].id;
	struct vg_policy_input in;
	struct vg_contain_state cs;
	struct vg_decision d;
	unsigned char cus[VG_IDBYTES];
	char fields[VG_AUDIT_STR_MAX + 1], detail[VG_AUDIT_STR_MAX + 1];
	char id[VG_EXPORT_ID_MAX + 1], set[33];
	uint64_t n = r->nexports++, h0, h1;
	uint32_t i;

	vg_contain_get(r->cm, who, &cs);
	memset(&in, 0, sizeof(in));
	in.who = &r->dir[a->actor];
	in.action = VG_ACT_EXPORT;
	in.fields = a->fields;
	in.purpose = a->purpose;
	in.consumer = a->consumer;
	in.rows = a->rows;
	in.containment = (int)cs.level;
	in.shift = -1;
	in.now = now;
	vg_policy_decide(r->pol, &in, &d);
	if (d.verdict == VG_ALLOW && a->rows > VG_EXPORT_ROWS_MAX) {
		d.verdict = VG_DENY;
		d.reason = VG_R_TOO_MANY_ROWS;
	}
	if (d.verdict == VG_ALLOW && (a->rows == 0 ||
	    a->export_customers == NULL)) {
		d.verdict = VG_DENY;
		d.reason = "no_rows";
	}
	if (d.verdict != VG_ALLOW) {
		field_list(r, a->fields, fields, sizeof(fields));
		snprintf(detail, sizeof(detail), "consumer=%s,recipient=%s,"
		    "rows=%u", a->consumer != NULL ? a->consumer : "",
		    a->recipient != NULL ? a->recipient : "", a->rows);
		emit(r, a->t_ns, who, "export", "deny", d.reason, NULL, fields,
		    a->purpose, NULL, detail);
		return strcmp(d.reason, VG_R_SUSPENDED) == 0 && cs.level >= 1 ?
		    VG_SIM_CONTAINED : VG_SIM_DENIED;
	}
	field_list(r, d.clear, fields, sizeof(fields));
	token(id, sizeof(id), "ex_", r->exkey, n);
	h0 = mix(r->exkey ^ mix(n));
	h1 = mix(h0 + n);
	snprintf(set, sizeof(set), "%016llx%016llx", (unsigned long long)h0,
	    (unsigned long long)h1);
	for (i = 0; i < a->rows; i++) {
		uint32_t c = a->export_customers[i];

		cust_id(r, c, false, cus);
		snprintf(detail, sizeof(detail), "export=%s,region=%s", id,
		    vg_sim_region(r->w, c));
		emit(r, a->t_ns, who, "export.row", "allow", VG_R_OK, cus,
		    fields, a->purpose, NULL, detail);
	}
	snprintf(detail, sizeof(detail), "export=%s,consumer=%s,recipient=%s,"
	    "rows=%u,canaries=%llu,canary_set=%s", id, a->consumer,
	    a->recipient != NULL ? a->recipient : "", a->rows,
	    (unsigned long long)vg_export_canary_count(a->rows), set);
	emit(r, a->t_ns, who, "export", "allow", VG_R_OK, NULL, fields,
	    a->purpose, NULL, detail);
	return VG_SIM_OK;
}

/* Reviews due by t: a legitimate principal's containment is lifted. */
static void
review(struct run *r, int64_t t)
{
	char detail[VG_AUDIT_STR_MAX + 1];

	while (r->review_ns >= 0 && r->nreviewed < r->nheld &&
	    r->held[r->nreviewed].t + r->review_ns <= t) {
		const struct seen *h = &r->held[r->nreviewed++];
		struct vg_contain_state cs;

		if (h->p < 0 || r->insiderish[h->p])
			continue;
		vg_contain_get(r->cm, r->pt[h->p].id, &cs);
		if (cs.level == VG_CONTAIN_NONE)
			continue;
		snprintf(detail, sizeof(detail), "target=%s", r->pt[h->p].id);
		emit(r, h->t + r->review_ns, r->analyst >= 0 ?
		    r->pt[r->analyst].id : "security", "principal.reinstate",
		    "allow", VG_R_OK, NULL, NULL, NULL, NULL, detail);
		vg_contain_clear(r->cm, r->pt[h->p].id);
		r->rep->reinstated++;
	}
}

static enum vg_sim_result
act(struct run *r, const struct vg_sim_action *a)
{
	int64_t now = a->t_ns / NS;

	if (a->actor >= r->np || a->principal >= r->np)
		return VG_SIM_ERROR;
	switch (a->kind) {
	case VG_SIM_CASE_OPEN:
		return do_case_open(r, a, now);
	case VG_SIM_LOOKUP:
	case VG_SIM_VIEW:
		return do_lookup(r, a, now);
	case VG_SIM_REVEAL:
		return a->customer < 0 ? VG_SIM_ERROR : do_reveal(r, a, now);
	case VG_SIM_CASE_CLOSE:
	case VG_SIM_CASE_ASSIGN:
		return do_case_change(r, a, now);
	case VG_SIM_APPROVE:
		return do_approve(r, a, now);
	case VG_SIM_EXPORT:
		return do_export(r, a, now);
	default:
		return VG_SIM_ERROR;
	}
}

/*-----------------------------------------------------------------------------
 * The run
 */

static bool
staff(const struct vg_sim_principal *p)
{
	return strcmp(p->role, "agent") == 0 ||
	    strcmp(p->role, "supervisor") == 0 ||
	    strcmp(p->role, "security") == 0;
}

static void
account(struct run *r, const struct vg_sim_action *a, enum vg_sim_result res)
{
	struct vg_sim_report *rep = r->rep;
	int64_t day = (a->t_ns + LOCAL_NS) / DAY_NS - (r->t0 + LOCAL_NS) /
	    DAY_NS;

	rep->actions++;
	rep->results[res]++;
	if (day >= 0 && day < 64)
		r->days[a->actor] |= 1ull << day;
	if (a->actor != a->principal && a->strategy != VG_STRAT_NONE) {
		r->insiderish[a->actor] = true;
		r->actor_of[a->principal] = a->actor;
	}
	if (a->kind == VG_SIM_CASE_OPEN && a->actor != a->assignee)
		rep->contacts++;
	if (a->kind == VG_SIM_EXPORT && res == VG_SIM_OK) {
		rep->exports++;
		rep->export_rows += a->rows;
	}
	if (a->theft)
		return;
	if (res == VG_SIM_CONTAINED)
		rep->legit_contained++;
	if (a->kind != VG_SIM_REVEAL || res != VG_SIM_OK)
		return;
	rep->legit_reveals++;
	rep->legit_case_reveals += a->case_ref != 0;
	if (staff(&r->pt[a->actor])) {
		rep->legit_staff_reveals++;
		rep->legit_staff_case_reveals += a->case_ref != 0;
	}
}

/* The per-insider summary, from the world's truth and what was seen. */
static int
summarise(struct run *r)
{
	struct vg_sim_report *rep = r->rep;
	size_t i, k, n = 0;

	for (i = 0; i < r->np; i++)
		if (r->pt[i].strategy != VG_STRAT_NONE)
			n++;
	for (i = 0; i < r->np; i++) {
		int b;

		if (r->insiderish[i] || r->pt[i].strategy != VG_STRAT_NONE)
			continue;
		for (b = 0; b < 64; b++) {
			rep->principal_days += (r->days[i] >> b) & 1;
			if (staff(&r->pt[i]))
				rep->staff_principal_days +=
				    (r->days[i] >> b) & 1;
		}
	}
	{
		bool *hit = calloc(r->np, sizeof(*hit));

		if (hit == NULL)
			return VG_ENOMEM;
		for (k = 0; k < r->nseen; k++)
			if (r->seen[k].p >= 0 && !r->insiderish[r->seen[k].p])
				hit[r->seen[k].p] = true;
		for (i = 0; i < r->np; i++)
			rep->false_principals += hit[i];
		free(hit);
	}
	if (n == 0)
		return 0;
	if ((rep->insider = calloc(n, sizeof(*rep->insider))) == NULL)
		return VG_ENOMEM;
	for (i = 0; i < r->np; i++) {
		struct vg_sim_insider_report *ir;
		int64_t from;

		if (r->pt[i].strategy == VG_STRAT_NONE)
			continue;
		ir = &rep->insider[rep->ninsiders++];
		ir->principal = (uint32_t)i;
		ir->actor = r->actor_of[i];
		ir->strategy = r->pt[i].strategy;
		ir->ring = r->pt[i].ring;
		vg_sim_truth(r->w, (uint32_t)i, &ir->truth);
		from = ir->truth.first_action_ns;
		if (from == 0)
			continue;
		for (k = 0; k < r->nseen; k++) {
			const struct seen *s = &r->seen[k];

			if (s->t < from || (s->p != (int32_t)i &&
			    s->p != (int32_t)ir->actor))
				continue;
			if (ir->first_alert_ns == 0) {
				ir->first_alert_ns = s->t;
				scopy(ir->rule, sizeof(ir->rule), s->rule);
				scopy(ir->signal, sizeof(ir->signal),
				    s->signal);
			}
			if (s->sev > ir->severity)
				ir->severity = s->sev;
		}
		for (k = 0; k < r->nheld; k++)
			if (r->held[k].t >= from && (r->held[k].p ==
			    (int32_t)i || r->held[k].p == (int32_t)ir->actor)) {
				ir->contained_ns = r->held[k].t;
				break;
			}
	}
	return 0;
}

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, VG_IDBYTES);
}

static int
setup(struct run *r, char *err, size_t errcap)
{
	const struct vg_sim_opts *so = vg_sim_options(r->w);
	struct vg_detect_opts dopt;
	const char *text = r->o->policy;
	size_t len = r->o->policy_len, i;
	int rc;

	if (sodium_init() < 0)
		return VG_ECRYPTO;
	r->pt = vg_sim_principals(r->w, &r->np);
	r->t0 = so->start * NS;
	r->analyst = -1;
	r->review_ns = r->o->review_hours < 0 ? -1 :
	    (int64_t)((r->o->review_hours > 0 ? r->o->review_hours : 4.0) *
	    3600.0 * (double)NS);
	r->idkey = id_key(so->seed);
	r->casekey = mix(r->idkey);
	r->aprkey = mix(r->casekey);
	r->exkey = mix(r->aprkey);
	vg_schema_default(&r->schema);
	if (text == NULL)
		text = vg_sim_policy_text(&len);
	rc = vg_policy_parse(text, len, r->o->policy_name != NULL ?
	    r->o->policy_name : "sim-policy.yaml", &r->schema, &r->pol, err,
	    errcap);
	if (rc != 0)
		return rc;
	r->dir = calloc(r->np, sizeof(*r->dir));
	r->shift = calloc(r->np, sizeof(*r->shift));
	r->has_shift = calloc(r->np, sizeof(*r->has_shift));
	r->insiderish = calloc(r->np, sizeof(*r->insiderish));
	r->actor_of = calloc(r->np, sizeof(*r->actor_of));
	r->days = calloc(r->np, sizeof(*r->days));
	r->rec = malloc(sizeof(*r->rec));
	for (r->ptab_cap = 64; r->ptab_cap < 2 * r->np; r->ptab_cap *= 2)
		;
	r->ptab = calloc(r->ptab_cap, sizeof(*r->ptab));
	if (r->dir == NULL || r->shift == NULL || r->has_shift == NULL ||
	    r->insiderish == NULL || r->actor_of == NULL || r->days == NULL ||
	    r->rec == NULL || r->ptab == NULL)
		return VG_ENOMEM;
	for (i = 0; i < r->np; i++) {
		const struct vg_sim_principal *p = &r->pt[i];
		struct vg_principal *d = &r->dir[i];
		size_t j = str_hash(p->id) & (r->ptab_cap - 1);

		scopy(d->id, sizeof(d->id), p->id);
		scopy(d->org, sizeof(d->org), p->org);
		scopy(d->kind, sizeof(d->kind), p->kind);
		scopy(d->role, sizeof(d->role), p->role);
		scopy(d->region, sizeof(d->region), p->region);
		scopy(d->shift, sizeof(d->shift), p->shift);
		/* A dismissed principal's keys no longer work. */
		scopy(d->state, sizeof(d->state), p->dismissed ? "suspended" :
		    "active");
		d->created = so->start - 365 * 86400;
		r->has_shift[i] = p->shift[0] != '\0' &&
		    vg_shift_parse(p->shift, &r->shift[i], NULL) == 0;
		r->insiderish[i] = p->strategy != VG_STRAT_NONE;
		if (r->analyst < 0 && strcmp(p->role, "security") == 0)
			r->analyst = (int32_t)i;
		r->actor_of[i] = (uint32_t)i;
		while (r->ptab[j] != 0)
			j = (j + 1) & (r->ptab_cap - 1);
		r->ptab[j] = (uint32_t)i + 1;
	}
	/* The honeytoken set, sorted as the detector wants it. */
	if (so->honey > 0) {
		uint32_t c;

		r->honey = calloc(so->honey, sizeof(*r->honey));
		if (r->honey == NULL)
			return VG_ENOMEM;
		for (c = 0; c < so->customers && r->nhoney < so->honey; c++)
			if (vg_sim_is_honey(r->w, c))
				cust_id(r, c, false, r->honey[r->nhoney++]);
		qsort(r->honey, r->nhoney, VG_IDBYTES, id_cmp);
	}
	if ((rc = vg_quota_new(&r->q)) != 0 ||
	    (rc = vg_contain_new(&r->cm)) != 0)
		return rc;
	memset(&dopt, 0, sizeof(dopt));
	dopt.directory = directory;
	dopt.directory_ctx = r;
	dopt.honey = (const unsigned char (*)[VG_IDBYTES])r->honey;
	dopt.nhoney = r->nhoney;
	dopt.alert = on_alert;
	dopt.alert_ctx = r;
	dopt.tuning = r->o->tuning;
	return vg_detect_new(&dopt, &r->d);
}

static void
teardown(struct run *r)
{
	vg_detect_free(r->d);
	vg_contain_free(r->cm);
	vg_quota_free(r->q);
	vg_policy_free(r->pol);
	free(r->honey);
	free(r->dir);
	free(r->shift);
	free(r->has_shift);
	free(r->insiderish);
	free(r->actor_of);
	free(r->days);
	free(r->rec);
	free(r->ptab);
	free(r->cases);
	free(r->apr);
	free(r->pend);
	free(r->seen);
	free(r->held);
}

int
vg_sim_run(struct vg_sim *w, const struct vg_sim_run_opts *o,
    struct vg_sim_report *rep, char *err, size_t errcap)
{
	static const struct vg_sim_run_opts none;
	struct vg_sim_action a;
	struct run r;
	int rc;

	memset(rep, 0, sizeof(*rep));
	memset(&r, 0, sizeof(r));
	if (errcap > 0)
		err[0] = '\0';
	r.w = w;
	r.o = o != NULL ? o : &none;
	r.rep = rep;
	if ((rc = setup(&r, err, errcap)) != 0)
		goto out;
	while (r.err == 0 && (rc = vg_sim_next(w, &a)) == 1) {
		enum vg_sim_result res;

		review(&r, a.t_ns);
		res = act(&r, &a);
		account(&r, &a, res);
		vg_sim_outcome(w, &a, res);
		if (r.o->action != NULL)
			r.o->action(r.o->action_ctx, &a, res);
	}
	if (rc < 0 && r.err == 0)
		r.err = rc;
	rc = r.err != 0 ? r.err : summarise(&r);
out:
	if (rc != 0 && errcap > 0 && err[0] == '\0')
		snprintf(err, errcap, "%s", vg_strerror(rc));
	if (rc != 0)
		vg_sim_report_release(rep);
	teardown(&r);
	return rc;
}

void
vg_sim_report_release(struct vg_sim_report *rep)
{
	if (rep == NULL)
		return;
	free(rep->insider);
	rep->insider = NULL;
	rep->ninsiders = 0;
}
