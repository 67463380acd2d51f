/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access decisions: vg_policy_decide() and the policy's accessors.  The
 * file is read by policy_parse.c and masks are applied by policy_mask.c;
 * the contract is include/vigil/policy.h and the rules, in the order
 * they are checked here, are docs/POLICY.md's "Decisions".
 *
 * A decision is a pure function of the policy and the facts the caller
 * gathered: no I/O, no allocation, no clock.  It fails closed (anything
 * not granted is refused) and writes down, in plain words, every rule
 * it applied with the policy line it came from, so that a refusal can be
 * explained to the person refused and an approval to an auditor.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/policy.h"
#include "policy_int.h"

#define BIT(n) (UINT32_C(1) << (n))

static const char *const action_names[VG_ACT_COUNT] = {
	"lookup", "view", "reveal", "customer_create", "case_open",
	"case_self_open", "case_assign", "case_close", "case_read",
	"approve", "principal_read", "principal_admin", "audit_read",
	"alerts", "export", "leak_trace",
};

const char *
vg_action_name(enum vg_action a)
{
	if ((unsigned)a >= VG_ACT_COUNT)
		return "?";
	return action_names[a];
}

int
vg_action_from_name(const char *name)
{
	int a;

	if (name == NULL)
		return -1;
	for (a = 0; a < VG_ACT_COUNT; a++)
		if (strcmp(name, action_names[a]) == 0)
			return a;
	return -1;
}

static const char *const win_names[VG_QW_COUNT] = {
	"minute", "hour", "day", "week", "month",
};

static const int64_t win_seconds[VG_QW_COUNT] = {
	60, 3600, 86400, 7 * 86400, 30 * 86400,
};

const char *
vg__qwin_name(int w)
{
	return w >= 0 && w < VG_QW_COUNT ? win_names[w] : NULL;
}

int
vg__qwin_from_name(const char *name)
{
	int w;

	for (w = 0; name != NULL && w < VG_QW_COUNT; w++)
		if (strcmp(name, win_names[w]) == 0)
			return w;
	return -1;
}

int64_t
vg__qwin_seconds(int w)
{
	return w >= 0 && w < VG_QW_COUNT ? win_seconds[w] : -1;
}

static const char *const style_names[] = {
	"default", "full", "country_last4", "last4", "first_domain",
	"surname", "city", "none",
};

const char *
vg_mask_style_name(enum vg_mask_style s)
{
	if ((unsigned)s > VG_MASK_NONE)
		return "?";
	return style_names[s];
}

int
vg__mask_from_name(const char *name)
{
	int s;

	for (s = 0; name != NULL && s <= VG_MASK_NONE; s++)
		if (strcmp(name, style_names[s]) == 0)
			return s;
	return -1;
}

enum vg_mask_style
vg__mask_default(enum vg_ftype t)
{
	switch (t) {
	case VG_FT_NAME:
		return VG_MASK_SURNAME;
	case VG_FT_PHONE:
		return VG_MASK_COUNTRY_LAST4;
	case VG_FT_EMAIL:
	case VG_FT_ACCOUNT:
		return VG_MASK_FIRST_DOMAIN;
	case VG_FT_ADDRESS:
		return VG_MASK_CITY;
	case VG_FT_REGION:
		return VG_MASK_NONE;
	case VG_FT_TEXT:
	default:
		return VG_MASK_DEFAULT;
	}
}

bool
vg__mask_applies(enum vg_ftype t, enum vg_mask_style s)
{
	if (s == VG_MASK_DEFAULT || s == VG_MASK_FULL)
		return t >= VG_FT_NAME && t <= VG__FTYPE_MAX;
	switch (t) {
	case VG_FT_NAME:
		return s == VG_MASK_SURNAME;
	case VG_FT_PHONE:
		return s == VG_MASK_COUNTRY_LAST4 || s == VG_MASK_LAST4;
	case VG_FT_EMAIL:
	case VG_FT_ACCOUNT:
		return s == VG_MASK_FIRST_DOMAIN;
	case VG_FT_ADDRESS:
		return s == VG_MASK_CITY;
	case VG_FT_REGION:
		return s == VG_MASK_NONE;
	default:
		return false;
	}
}

void
vg__policy_defaults(struct vg_policy *p)
{
	int t;

	p->case_ttl = VG__CASE_TTL_DEFAULT;
	p->approval_ttl = VG__APPROVAL_TTL_DEFAULT;
	p->justification_min = VG__JUSTIFICATION_DEFAULT;
	for (t = 0; t <= VG__FTYPE_MAX; t++)
		p->mask[t] = vg__mask_default((enum vg_ftype)t);
}

void
vg_policy_free(struct vg_policy *p)
{
	free(p);
}

int64_t
vg_policy_case_ttl(const struct vg_policy *p)
{
	return p != NULL ? p->case_ttl : VG__CASE_TTL_DEFAULT;
}

int64_t
vg_policy_approval_ttl(const struct vg_policy *p)
{
	return p != NULL ? p->approval_ttl : VG__APPROVAL_TTL_DEFAULT;
}

size_t
vg_policy_nroles(const struct vg_policy *p)
{
	return p != NULL ? p->nroles : 0;
}

const char *
vg_policy_digest(const struct vg_policy *p)
{
	return p != NULL ? p->digest : "";
}

static const struct vg__consumer *
find_consumer(const struct vg_policy *p, const char *name)
{
	size_t i;

	if (p == NULL || name == NULL)
		return NULL;
	for (i = 0; i < p->nconsumers; i++)
		if (strcmp(p->consumer[i].name, name) == 0)
			return &p->consumer[i];
	return NULL;
}

bool
vg_policy_consumer(const struct vg_policy *p, const char *name,
    struct vg_policy_consumer *out)
{
	const struct vg__consumer *c = find_consumer(p, name);
	size_t i, used = 0;

	if (c == NULL)
		return false;
	memset(out, 0, sizeof(*out));
	memcpy(out->name, c->name, sizeof(out->name));
	for (i = 0; i < c->npurposes; i++)
		used += (size_t)snprintf(out->purposes + used,
		    sizeof(out->purposes) - used, "%s%s", i > 0 ? "," : "",
		    c->purpose[i]);
	out->clear = c->clear;
	out->max_rows = c->max_rows;
	out->line = c->line;
	return true;
}

bool
vg_policy_role_has(const struct vg_policy *p, const char *role,
    enum vg_action a)
{
	size_t i;

	if (p == NULL || role == NULL || (unsigned)a >= VG_ACT_COUNT)
		return false;
	for (i = 0; i < p->nroles; i++)
		if (strcmp(p->role[i].name, role) == 0)
			return (p->role[i].actions & BIT(a)) != 0;
	return false;
}

size_t
vg_policy_nconsumers(const struct vg_policy *p)
{
	return p != NULL ? p->nconsumers : 0;
}

enum vg_mask_style
vg_policy_mask_style(const struct vg_policy *p, enum vg_ftype t)
{
	if (t < VG_FT_NAME || t > VG__FTYPE_MAX)
		return VG_MASK_DEFAULT;	/* vg_mask(): "****" */
	return p != NULL ? p->mask[t] : vg__mask_default(t);
}

/* ---------------------------------------------------------------------
 * Decisions.
 */

#define FACT (-1)	/* a step that is a fact, not a rule of the file */

/* The decision being made; the steps' "(file:line)" come from p. */
struct dstate {
	const struct vg_policy *p;
	const struct vg_policy_input *in;
	struct vg_decision *d;
	const struct vg__role *r;
	const char *pending;	/* the first step-up cause not approved */
	bool waived;		/* a step-up cause was met by an approval */
};

static void step(struct dstate *s, int line, const char *fmt, ...)
    VG_PRINTF(3, 4);

/* Drops a code point cut short at the end of t[0..n) (a full text may
 * have been cut by snprintf; the file name may be UTF-8). */
static void
cut_utf8(char *t, size_t n)
{
	size_t i = n, need;
	unsigned char b;

	while (i > 0 && ((unsigned char)t[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	b = (unsigned char)t[i - 1];
	need = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
	if (n - (i - 1) < need)
		t[i - 1] = '\0';
}

/*
 * Appends a step.  A line > 0 is cited as "(file:line)", 0 as a
 * built-in default, FACT not at all.  The last slot is kept for the
 * verdict, so a long trace loses middle steps, never its end.
 */
static void
step(struct dstate *s, int line, const char *fmt, ...)
{
	struct vg_decision *d = s->d;
	char *t;
	size_t cap = sizeof(d->step[0].text), n;
	va_list ap;
	int w;

	if (d->nsteps >= VG_POLICY_STEPS_MAX - 1)
		return;
	t = d->step[d->nsteps].text;
	va_start(ap, fmt);
	w = vsnprintf(t, cap, fmt, ap);
	va_end(ap);
	n = w < 0 ? 0 : (size_t)w < cap ? (size_t)w : cap - 1;
	if (line > 0)
		w = snprintf(t + n, cap - n, " (%s:%d)", s->p->base, line);
	else if (line == 0)
		w = snprintf(t + n, cap - n, " (built-in default)");
	else
		w = 0;
	(void)w;
	n = strlen(t);
	if (n == cap - 1)
		cut_utf8(t, n);
	d->step[d->nsteps].line = line > 0 ? line : 0;
	d->nsteps++;
}

/* Writes the names of the schema fields in mask into out. */
static const char *
field_list(const struct vg_policy *p, uint32_t mask, char *out, size_t cap)
{
	size_t i, used = 0;
	int w;

	out[0] = '\0';
	for (i = 0; i < 32 && used < cap; i++) {
		if (!(mask & BIT(i)))
			continue;
		if (i < p->schema.nfields)
			w = snprintf(out + used, cap - used, "%s%s",
			    used > 0 ? ", " : "", p->schema.field[i].name);
		else
			w = snprintf(out + used, cap - used, "%sfield #%zu",
			    used > 0 ? ", " : "", i);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return out;
}

static void
verdict(struct dstate *s, enum vg_verdict v, const char *reason)
{
	struct vg_decision *d = s->d;
	static const char *const vnames[] = { "allow", "deny", "step-up" };

	d->verdict = v;
	d->reason = reason;
	/* The verdict always gets the last step (step() keeps one free). */
	if (d->nsteps < VG_POLICY_STEPS_MAX) {
		snprintf(d->step[d->nsteps].text, sizeof(d->step[0].text),
		    "verdict: %s (%s)", vnames[v], reason);
		d->step[d->nsteps].line = 0;
		d->nsteps++;
	}
}

/* A rule that needs a supervisor's approval unless one was presented. */
static void
need_step_up(struct dstate *s, int line, const char *why, const char *what)
{
	if (s->in->approved) {
		s->waived = true;
		step(s, line, "%s: approved", what);
		return;
	}
	if (s->pending == NULL)
		s->pending = why;
	step(s, line, "%s: needs a supervisor's approval", what);
}

static const struct vg__role *
find_role(const struct vg_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nroles; i++)
		if (strcmp(p->role[i].name, name) == 0)
			return &p->role[i];
	return NULL;
}

/* True for a purpose name as the file allows them. */
static bool
name_ok(const char *s)
{
	size_t i;

	if (s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (i >= VG__POLICY_NAME_MAX ||
		    !((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static const struct vg__purpose *
find_purpose(const struct vg__role *r, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < r->npurposes; i++)
		if (strcmp(r->purpose[i].name, name) == 0)
			return &r->purpose[i];
	return NULL;
}

static bool
has_limits(const struct vg__role *r)
{
	int w;

	for (w = 0; w < VG_QW_COUNT; w++)
		if (r->q_reveals.max[w] != UINT32_MAX ||
		    r->q_customers.max[w] != UINT32_MAX ||
		    r->q_per_case.max[w] != UINT32_MAX ||
		    r->bg_quota.max[w] != UINT32_MAX)
			return true;
	return false;
}

/* One limit that a reveal would exceed. */
struct over {
	const char *kind;
	int w;
	uint32_t limit;
	int line;
	uint64_t used;
	int64_t retry;
};

/*
 * Seconds until the oldest counted event leaves window w, at least 1.
 * With no event counted (a limit of 0), nothing will ever leave: the
 * window's length is the honest wait.
 */
static int64_t
retry_after(int64_t expiry, int64_t now, int w)
{
	if (expiry <= 0)
		return vg__qwin_seconds(w);
	if (expiry - now < 1)
		return 1;
	return expiry - now;
}

/* Records o in *worst when it is the one to wait longest for. */
static void
consider(struct over *worst, const struct over *o)
{
	if (worst->kind == NULL || o->retry > worst->retry)
		*worst = *o;
}

/* Checks the quotas; returns false (and has decided) on a refusal. */
static bool
check_quotas(struct dstate *s)
{
	const struct vg_quota_usage *u = s->in->usage;
	const struct vg__role *r = s->r;
	const struct vg_policy_input *in = s->in;
	struct vg_decision *d = s->d;
	struct over worst, o;
	uint64_t limit;
	int w;

	if (!has_limits(r)) {
		step(s, r->line, "role %s has no reveal quota", r->name);
		return true;
	}
	if (u == NULL) {
		step(s, FACT, "no quota usage was given: fail closed");
		d->quota_kind = "reveals";
		verdict(s, VG_DENY, VG_R_QUOTA);
		return false;
	}
	if (u->saturated) {
		d->quota_window = VG_QW_MONTH;
		d->quota_kind = "reveals";
		d->quota_limit = VG_QUOTA_EVENTS_MAX;
		d->retry_after = retry_after(u->reveal_expiry[VG_QW_MONTH],
		    in->now, VG_QW_MONTH);
		step(s, FACT, "the principal's usage reached the %d events "
		    "kept: every quota refuses", VG_QUOTA_EVENTS_MAX);
		verdict(s, VG_DENY, VG_R_QUOTA);
		return false;
	}
	memset(&worst, 0, sizeof(worst));
	for (w = 0; w < VG_QW_COUNT; w++) {
		memset(&o, 0, sizeof(o));
		o.w = w;
		if (r->q_reveals.max[w] != UINT32_MAX &&
		    (uint64_t)u->reveals[w] + 1 > r->q_reveals.max[w]) {
			o.kind = "reveals";
			o.limit = r->q_reveals.max[w];
			o.line = r->q_reveals.line[w];
			o.used = u->reveals[w];
			o.retry = retry_after(u->reveal_expiry[w], in->now, w);
			consider(&worst, &o);
		}
		if (r->q_customers.max[w] != UINT32_MAX &&
		    (uint64_t)u->customers[w] + (u->seen[w] ? 0 : 1) >
		    r->q_customers.max[w]) {
			o.kind = "customers";
			o.limit = r->q_customers.max[w];
			o.line = r->q_customers.line[w];
			o.used = u->customers[w];
			o.retry = retry_after(u->reveal_expiry[w], in->now, w);
			consider(&worst, &o);
		}
		if (d->break_glass && r->bg_quota.max[w] != UINT32_MAX &&
		    (uint64_t)u->break_glass[w] + 1 > r->bg_quota.max[w]) {
			o.kind = "break_glass";
			o.limit = r->bg_quota.max[w];
			o.line = r->bg_quota.line[w];
			o.used = u->break_glass[w];
			o.retry = retry_after(u->break_glass_expiry[w],
			    in->now, w);
			consider(&worst, &o);
		}
		if (r->q_per_case.max[w] != UINT32_MAX) {
			/* Reveals per case handled, with one case's worth
			 * as the base (docs/POLICY.md). */
			limit = (uint64_t)r->q_per_case.max[w] *
			    (u->cases[w] > 0 ? u->cases[w] : 1);
			if (limit > UINT32_MAX)
				limit = UINT32_MAX;
			if ((uint64_t)u->reveals[w] + 1 > limit) {
				o.kind = "per_case";
				o.limit = (uint32_t)limit;
				o.line = r->q_per_case.line[w];
				o.used = u->reveals[w];
				o.retry = retry_after(u->reveal_expiry[w],
				    in->now, w);
				consider(&worst, &o);
			}
		}
	}
	if (worst.kind == NULL) {
		step(s, FACT, "within every quota of role %s", r->name);
		return true;
	}
	d->quota_window = worst.w;
	d->quota_kind = worst.kind;
	d->quota_limit = worst.limit;
	d->retry_after = worst.retry;
	step(s, worst.line, "quota %s per %s: %llu used, limit %lu; retry in "
	    "%lld s", worst.kind, vg__qwin_name(worst.w),
	    (unsigned long long)worst.used, (unsigned long)worst.limit,
	    (long long)worst.retry);
	verdict(s, VG_DENY, VG_R_QUOTA);
	return false;
}

/* The case rules; returns false (and has decided) on a refusal. */
static bool
check_case(struct dstate *s)
{
	const struct vg_policy_input *in = s->in;
	const struct vg_case_facts *k = &in->kase;
	const struct vg__role *r = s->r;
	const struct vg_policy *p = s->p;

	if (!r->require_case) {
		step(s, r->require_case_line, "role %s reveals without a case",
		    r->name);
		return true;
	}
	step(s, r->require_case_line, "a reveal needs an open case assigned "
	    "to the caller for this customer");
	if (!k->given) {
		if (r->bg_allow && in->justification_len >=
		    p->justification_min) {
			s->d->break_glass = true;
			s->d->notify = r->bg_notify;
			step(s, r->bg_line, "no case: break-glass with a "
			    "justification of %zu bytes%s",
			    in->justification_len,
			    r->bg_notify ? "; the supervisor is told" : "");
			return true;
		}
		if (r->bg_allow && in->justification_len > 0) {
			step(s, p->justification_line, "no case, and the "
			    "break-glass justification has %zu bytes of the "
			    "%zu needed", in->justification_len,
			    p->justification_min);
			verdict(s, VG_DENY, VG_R_JUSTIFICATION);
			return false;
		}
		if (r->bg_allow)
			step(s, r->bg_line, "no case given, and no break-glass "
			    "justification");
		else
			step(s, r->bg_line, "no case given, and role %s may "
			    "not break glass", r->name);
		verdict(s, VG_DENY, VG_R_NO_CASE);
		return false;
	}
	if (!k->found) {
		step(s, FACT, "the case named does not exist");
		verdict(s, VG_DENY, VG_R_CASE_NOT_FOUND);
		return false;
	}
	if (!k->open) {
		step(s, FACT, "the case is closed");
		verdict(s, VG_DENY, VG_R_CASE_CLOSED);
		return false;
	}
	if (k->expired) {
		step(s, FACT, "the case has expired");
		verdict(s, VG_DENY, VG_R_CASE_EXPIRED);
		return false;
	}
	if (!k->assigned_to_caller) {
		step(s, FACT, "the case is not assigned to the caller");
		verdict(s, VG_DENY, VG_R_CASE_NOT_ASSIGNED);
		return false;
	}
	if (!k->same_customer) {
		step(s, FACT, "the case is about another customer");
		verdict(s, VG_DENY, VG_R_CASE_OTHER);
		return false;
	}
	if (!k->self_opened) {
		step(s, FACT, "the case is open, assigned to the caller, for "
		    "this customer");
		return true;
	}
	switch (r->self_opened) {
	case VG__ALLOW:
		step(s, r->self_opened_line, "the caller opened the case for "
		    "themselves: allowed");
		return true;
	case VG__DENY:
		step(s, r->self_opened_line, "the caller opened the case for "
		    "themselves: refused");
		verdict(s, VG_DENY, VG_R_SELF_OPENED);
		return false;
	default:
		need_step_up(s, r->self_opened_line, VG_R_SELF_OPENED,
		    "the caller opened the case for themselves");
		return true;
	}
}

static void
decide_reveal(struct dstate *s)
{
	const struct vg_policy_input *in = s->in;
	const struct vg__role *r = s->r;
	const struct vg__purpose *pu;
	struct vg_decision *d = s->d;
	char list[VG_POLICY_STEP_MAX];
	uint32_t extra;
	int f;

	if (in->containment >= 2) {
		step(s, FACT, "reveals of principal %s are suspended by "
		    "containment", in->who->id);
		verdict(s, VG_DENY, VG_R_SUSPENDED);
		return;
	}
	if (in->containment == 1)
		need_step_up(s, FACT, "contained", "the principal is "
		    "contained");
	if ((pu = find_purpose(r, in->purpose)) == NULL) {
		/* The purpose comes from the request: quoted only when it is
		 * a well-formed name. */
		step(s, r->purposes_line, "purpose %s is not granted to "
		    "role %s", in->purpose == NULL ? "(none)" :
		    !name_ok(in->purpose) ? "(malformed)" : in->purpose,
		    r->name);
		verdict(s, VG_DENY, VG_R_PURPOSE);
		return;
	}
	step(s, pu->line, "role %s may reveal for purpose %s: %s", r->name,
	    pu->name, field_list(s->p, pu->fields, list, sizeof(list)));
	if (in->fields == 0) {
		step(s, FACT, "no field was asked for");
		verdict(s, VG_DENY, VG_R_FIELD);
		return;
	}
	if ((extra = in->fields & ~pu->fields) != 0) {
		for (f = 0; !(extra & BIT(f)); f++)
			;
		step(s, pu->line, "%s is not allowed for purpose %s",
		    field_list(s->p, BIT(f), list, sizeof(list)), pu->name);
		verdict(s, VG_DENY, VG_R_FIELD);
		return;
	}
	if (!check_case(s))
		return;
	if (in->shift == 0) {
		switch (r->shift) {
		case VG__DENY:
			step(s, r->shift_line, "outside the principal's shift: "
			    "refused");
			verdict(s, VG_DENY, VG_R_OFF_SHIFT);
			return;
		case VG__STEP_UP:
			need_step_up(s, r->shift_line, VG_R_OFF_SHIFT,
			    "outside the principal's shift");
			break;
		default:
			step(s, r->shift_line, "outside the principal's shift: "
			    "not consulted");
			break;
		}
	}
	if ((in->fields & r->step_up_fields) != 0)
		need_step_up(s, r->step_up_fields_line, VG_R_FIELD,
		    field_list(s->p, in->fields & r->step_up_fields, list,
		    sizeof(list)));
	if (!check_quotas(s))
		return;
	if (s->pending != NULL) {
		d->step_up_why = s->pending;
		d->break_glass = false;
		d->notify = false;
		verdict(s, VG_STEP_UP, VG_R_STEP_UP);
		return;
	}
	/* An approval relied on is spent by the caller, break-glass or not. */
	d->approval_used = s->waived;
	verdict(s, VG_ALLOW, d->break_glass ? VG_R_BREAK_GLASS : s->waived ?
	    VG_R_APPROVED : VG_R_OK);
}

/* True for a consumer name as vg_consumer_name_ok() allows them (the
 * policy does not link the vault; the same rule, kept here). */
static bool
consumer_name_ok(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= 64 || !((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/*
 * An export (docs/POLICY.md, "An export, in order"): containment, the
 * consumer, its purposes, the fields, the rows.  The fields asked for
 * may all be exported; those the consumer lists under `clear` are given
 * in clear, the rest masked.
 */
static void
decide_export(struct dstate *s)
{
	const struct vg_policy_input *in = s->in;
	const struct vg__consumer *c;
	struct vg_decision *d = s->d;
	char list[VG_POLICY_STEP_MAX];
	size_t i;

	if (in->containment >= 1) {
		step(s, FACT, "principal %s is contained by the detector: no "
		    "export", in->who->id);
		verdict(s, VG_DENY, VG_R_SUSPENDED);
		return;
	}
	if ((c = find_consumer(s->p, in->consumer)) == NULL) {
		step(s, s->p->consumers_line, "consumer %s is not listed "
		    "under consumers", in->consumer == NULL ? "(none)" :
		    !consumer_name_ok(in->consumer) ? "(malformed)" :
		    in->consumer);
		verdict(s, VG_DENY, VG_R_CONSUMER);
		return;
	}
	d->max_rows = c->max_rows;
	for (i = 0; in->purpose != NULL && i < c->npurposes; i++)
		if (strcmp(c->purpose[i], in->purpose) == 0)
			break;
	if (in->purpose == NULL || i == c->npurposes) {
		step(s, c->purposes_line, "purpose %s is not granted to "
		    "consumer %s", in->purpose == NULL ? "(none)" :
		    !name_ok(in->purpose) ? "(malformed)" : in->purpose,
		    c->name);
		verdict(s, VG_DENY, VG_R_PURPOSE);
		return;
	}
	step(s, c->purposes_line, "consumer %s may receive exports for "
	    "purpose %s", c->name, in->purpose);
	if (in->fields == 0) {
		step(s, FACT, "no field was asked for");
		verdict(s, VG_DENY, VG_R_FIELD);
		return;
	}
	if (in->rows > c->max_rows) {
		step(s, c->max_rows_line, "%llu rows asked for; consumer %s "
		    "takes at most %llu", (unsigned long long)in->rows,
		    c->name, (unsigned long long)c->max_rows);
		verdict(s, VG_DENY, VG_R_TOO_MANY_ROWS);
		return;
	}
	step(s, c->max_rows_line, "%llu rows asked for, within consumer %s's "
	    "%llu", (unsigned long long)in->rows, c->name,
	    (unsigned long long)c->max_rows);
	d->clear = in->fields & c->clear;
	if (d->clear != 0)
		step(s, c->clear_line, "in clear: %s", field_list(s->p,
		    d->clear, list, sizeof(list)));
	if ((in->fields & ~c->clear) != 0)
		step(s, c->clear_line, "masked (pseudonymised export): %s",
		    field_list(s->p, in->fields & ~c->clear, list,
		    sizeof(list)));
	verdict(s, VG_ALLOW, VG_R_OK);
}

void
vg_policy_decide(const struct vg_policy *p, const struct vg_policy_input *in,
    struct vg_decision *d)
{
	struct dstate s;
	const char *act;

	memset(d, 0, sizeof(*d));
	d->verdict = VG_DENY;
	d->reason = VG_R_ROLE;
	d->quota_window = -1;
	memset(&s, 0, sizeof(s));
	s.p = p;
	s.in = in;
	s.d = d;
	if (p == NULL || in == NULL || in->who == NULL) {
		/* No file to cite: the step has no "(file:line)". */
		snprintf(d->step[0].text, sizeof(d->step[0].text),
		    "no policy or no principal: refused");
		d->nsteps = 1;
		verdict(&s, VG_DENY, VG_R_ROLE);
		return;
	}
	if ((unsigned)in->action >= VG_ACT_COUNT) {
		step(&s, FACT, "unknown action %d", (int)in->action);
		verdict(&s, VG_DENY, VG_R_ROLE);
		return;
	}
	act = vg_action_name(in->action);
	if (strcmp(in->who->state, "active") != 0) {
		step(&s, FACT, "principal %s is %s", in->who->id,
		    in->who->state[0] != '\0' ? in->who->state : "not active");
		verdict(&s, VG_DENY, VG_R_SUSPENDED);
		return;
	}
	if ((s.r = find_role(p, in->who->role)) == NULL) {
		step(&s, FACT, "role %s is not in the policy", in->who->role);
		verdict(&s, VG_DENY, VG_R_ROLE);
		return;
	}
	if (!(s.r->actions & BIT(in->action))) {
		step(&s, s.r->line, "role %s may not %s", s.r->name, act);
		verdict(&s, VG_DENY, VG_R_ROLE);
		return;
	}
	step(&s, s.r->action_line[in->action], "role %s may %s", s.r->name,
	    act);
	if (in->action == VG_ACT_EXPORT) {
		decide_export(&s);
		return;
	}
	if (in->action != VG_ACT_REVEAL) {
		verdict(&s, VG_ALLOW, VG_R_OK);
		return;
	}
	decide_reveal(&s);
}
