/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Support cases and step-up approvals (include/vigil/cases.h).  The rules
 * that matter for security live here rather than in the daemon: a closed
 * case stays closed, an approval is decided once and used once, and the
 * requester cannot approve their own request.  The state moves are single
 * conditional UPDATEs, so concurrent workers cannot both win.
 */
#include <string.h>

#include "vigil/cases.h"
#include "vigil/policy.h"
#include "vigil/vault.h"

#include "store.h"
#include "textbuf.h"
#include "vault_int.h"

bool
vg_channel_ok(const char *s)
{
	static const char *const ok[] = { "phone", "chat", "email", "store" };
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(s, ok[i]) == 0)
			return true;
	return false;
}

bool
vg_purpose_ok(const char *s)
{
	size_t i;

	if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= VG_PURPOSE_MAX)
			return false;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	}
	return true;
}

/* True when s is a well-formed token with this prefix. */
static bool
token_ok(const char *prefix, const char *s)
{
	unsigned char raw[VG_IDBYTES];

	return s != NULL && vg_token_parse(raw, prefix, s) == 0;
}

int
vg_case_make(const unsigned char customer[VG_IDBYTES], const char *assignee,
    const char *channel, const char *opened_by, bool self_opened,
    int64_t now, int64_t ttl, struct vg_case *out, const char **why)
{
	unsigned char raw[VG_IDBYTES];
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (!vg_principal_id_ok(assignee)) {
		*why = "assignee is not a principal id";
		return VG_EINVAL;
	}
	if (!vg_principal_id_ok(opened_by)) {
		*why = "opener is not a principal id";
		return VG_EINVAL;
	}
	if (!vg_channel_ok(channel)) {
		*why = "channel is one of phone, chat, email, store";
		return VG_EINVAL;
	}
	if (ttl < 0) {
		*why = "negative case lifetime";
		return VG_EINVAL;
	}
	memset(out, 0, sizeof(*out));
	vg_random(raw, sizeof(raw));
	vg_token_format(out->id, "case_", raw);
	memcpy(out->customer, customer, VG_IDBYTES);
	copy_str(out->assignee, sizeof(out->assignee), assignee);
	copy_str(out->opened_by, sizeof(out->opened_by), opened_by);
	copy_str(out->channel, sizeof(out->channel), channel);
	copy_str(out->state, sizeof(out->state), "open");
	out->self_opened = self_opened;
	out->created = now;
	out->expires = ttl > 0 ? now + ttl : 0;
	return 0;
}

int
vg_case_put(struct vg_vault *v, const struct vg_case *c)
{
	struct vg_store *s = vg__vault_store(v);

	if (!token_ok("case_", c->id))
		return VG_EINVAL;
	return s->ops->case_put(s, c);
}

int
vg_case_open(struct vg_vault *v, const unsigned char customer[VG_IDBYTES],
    const char *assignee, const char *channel, const char *opened_by,
    bool self_opened, int64_t now, int64_t ttl, struct vg_case *out,
    const char **why)
{
	int rc = vg_case_make(customer, assignee, channel, opened_by,
	    self_opened, now, ttl, out, why);

	return rc != 0 ? rc : vg_case_put(v, out);
}

int
vg_case_get(struct vg_vault *v, const char *id, struct vg_case *out)
{
	struct vg_store *s = vg__vault_store(v);

	if (!token_ok("case_", id))
		return VG_EINVAL;
	return s->ops->case_get(s, id, out);
}

int
vg_case_assign(struct vg_vault *v, const char *id, const char *assignee,
    struct vg_case *out)
{
	struct vg_store *s = vg__vault_store(v);
	int rc;

	if (!token_ok("case_", id) || !vg_principal_id_ok(assignee))
		return VG_EINVAL;
	rc = s->ops->case_update(s, id, assignee, "open", 0);
	if ((rc == 0 || rc == VG_EEXIST) && out != NULL) {
		int rc2 = s->ops->case_get(s, id, out);

		if (rc2 != 0)
			return rc2;
	}
	return rc;
}

int
vg_case_close(struct vg_vault *v, const char *id, int64_t now,
    struct vg_case *out)
{
	struct vg_store *s = vg__vault_store(v);
	int rc;

	if (!token_ok("case_", id))
		return VG_EINVAL;
	rc = s->ops->case_update(s, id, NULL, "closed", now);
	if ((rc == 0 || rc == VG_EEXIST) && out != NULL) {
		int rc2 = s->ops->case_get(s, id, out);

		if (rc2 != 0)
			return rc2;
	}
	return rc;
}

void
vg_case_facts(const struct vg_case *c, bool given, const char *caller,
    const unsigned char customer[VG_IDBYTES], int64_t now,
    struct vg_case_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->given = given;
	if (!given || c == NULL)
		return;
	f->found = true;
	f->open = strcmp(c->state, "open") == 0;
	f->expired = c->expires != 0 && now >= c->expires;
	f->assigned_to_caller = caller != NULL &&
	    strcmp(c->assignee, caller) == 0;
	f->same_customer = customer != NULL &&
	    memcmp(c->customer, customer, VG_IDBYTES) == 0;
	f->self_opened = c->self_opened;
}

int
vg_approval_request(struct vg_vault *v, const char *principal,
    const unsigned char customer[VG_IDBYTES], uint32_t fields,
    const char *purpose, const char *case_id, const char *why, int64_t now,
    int64_t ttl, struct vg_approval *out)
{
	struct vg_store *s = vg__vault_store(v);
	unsigned char raw[VG_IDBYTES];
	uint64_t pending = 0;
	int rc;

	if (!vg_principal_id_ok(principal) || !vg_purpose_ok(purpose) ||
	    fields == 0 || ttl <= 0 || why == NULL ||
	    strlen(why) >= sizeof(out->why) ||
	    (case_id != NULL && case_id[0] != '\0' &&
	    !token_ok("case_", case_id)))
		return VG_EINVAL;
	/* Supervisors decide these by hand: one principal cannot flood
	 * them with requests. */
	if ((rc = s->ops->approval_pending(s, principal, now, &pending)) != 0)
		return rc;
	if (pending >= VG_APPROVALS_PENDING_MAX)
		return VG_ETOOBIG;
	memset(out, 0, sizeof(*out));
	vg_random(raw, sizeof(raw));
	vg_token_format(out->id, "apr_", raw);
	copy_str(out->principal, sizeof(out->principal), principal);
	memcpy(out->customer, customer, VG_IDBYTES);
	out->fields = fields;
	copy_str(out->purpose, sizeof(out->purpose), purpose);
	copy_str(out->case_id, sizeof(out->case_id),
	    case_id != NULL ? case_id : "");
	copy_str(out->why, sizeof(out->why), why);
	copy_str(out->state, sizeof(out->state), "pending");
	out->created = now;
	out->expires = now + ttl;
	return s->ops->approval_put(s, out);
}

int
vg_approval_get(struct vg_vault *v, const char *id, struct vg_approval *out)
{
	struct vg_store *s = vg__vault_store(v);

	if (!token_ok("apr_", id))
		return VG_EINVAL;
	return s->ops->approval_get(s, id, out);
}

int
vg_approval_decide(struct vg_vault *v, const char *id, bool approve,
    const char *by, int64_t now, struct vg_approval *out)
{
	struct vg_store *s = vg__vault_store(v);
	struct vg_approval a;
	int rc;

	if (!token_ok("apr_", id) || !vg_principal_id_ok(by))
		return VG_EINVAL;
	if ((rc = s->ops->approval_get(s, id, &a)) != 0)
		return rc;
	if (strcmp(a.principal, by) == 0)
		return VG_EINVAL;	/* nobody approves their own request */
	if (strcmp(a.state, "pending") != 0 || now >= a.expires)
		return VG_EEXIST;
	rc = s->ops->approval_move(s, id, "pending",
	    approve ? "approved" : "rejected", by, now);
	if (rc == 0 && out != NULL)
		rc = s->ops->approval_get(s, id, out);
	return rc;
}

int
vg_approval_covers(const struct vg_approval *a, const char *principal,
    const unsigned char customer[VG_IDBYTES], uint32_t fields,
    const char *purpose, const char *case_id, int64_t now, const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = "";
	/* Someone else's approval is as good as none: say nothing more. */
	if (strcmp(a->principal, principal) != 0)
		return VG_ENOTFOUND;
	if (strcmp(a->state, "approved") != 0 || now >= a->expires) {
		*why = strcmp(a->state, "pending") == 0 ?
		    "the approval is still pending" :
		    strcmp(a->state, "rejected") == 0 ?
		    "the approval was rejected" :
		    strcmp(a->state, "used") == 0 ?
		    "the approval was already used" : "the approval expired";
		return VG_EEXIST;
	}
	if (memcmp(a->customer, customer, VG_IDBYTES) != 0) {
		*why = "the approval is for another customer";
		return VG_EINVAL;
	}
	if ((fields & ~a->fields) != 0) {
		*why = "the approval does not cover these fields";
		return VG_EINVAL;
	}
	if (purpose == NULL || strcmp(a->purpose, purpose) != 0) {
		*why = "the approval is for another purpose";
		return VG_EINVAL;
	}
	if (strcmp(a->case_id, case_id != NULL ? case_id : "") != 0) {
		*why = "the approval is for another case";
		return VG_EINVAL;
	}
	return 0;
}

int
vg_approval_use(struct vg_vault *v, const char *id, const char *principal,
    const unsigned char customer[VG_IDBYTES], uint32_t fields,
    const char *purpose, const char *case_id, int64_t now, const char **why)
{
	struct vg_store *s = vg__vault_store(v);
	struct vg_approval a;
	const char *dummy;
	int rc;

	if (why == NULL)
		why = &dummy;
	*why = "";
	if (!token_ok("apr_", id))
		return VG_ENOTFOUND;
	if ((rc = s->ops->approval_get(s, id, &a)) != 0)
		return rc;
	rc = vg_approval_covers(&a, principal, customer, fields, purpose,
	    case_id, now, why);
	if (rc != 0)
		return rc;
	rc = s->ops->approval_move(s, id, "approved", "used", NULL, now);
	if (rc == VG_EEXIST)
		*why = "the approval was already used";
	return rc;
}

int
vg_approval_restore(struct vg_vault *v, const char *id)
{
	struct vg_store *s = vg__vault_store(v);

	if (!token_ok("apr_", id))
		return VG_EINVAL;
	return s->ops->approval_move(s, id, "used", "approved", NULL, 0);
}
