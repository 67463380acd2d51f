/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alerts in the vault's database (vigil/alertdb.h): thin checks over the
 * store, which keeps them in the `alerts` table.
 */
#include <stdlib.h>
#include <string.h>

#include "vigil/alertdb.h"
#include "store.h"
#include "vault_int.h"

int
vg_alert_id_ok(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 19 || strncmp(s, "al_", 3) != 0)
		return 0;
	for (i = 3; i < 19; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return 1;
}

int
vg_alert_put(struct vg_vault *v, const struct vg_alert *a, const char *json)
{
	struct vg_store *s = vg__vault_store(v);
	struct vg_alert_row *r;
	size_t jl = strlen(json);
	int rc;

	if (!vg_alert_id_ok(a->id) || strlen(a->principal) >
	    VG_PRINCIPAL_ID_MAX || jl >= VG_ALERT_JSON_MAX)
		return VG_EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return VG_ENOMEM;
	memcpy(r->id, a->id, sizeof(r->id));
	r->time_ns = a->time_ns;
	memcpy(r->principal, a->principal, strlen(a->principal) + 1);
	r->severity = (int)a->severity;
	memcpy(r->rule, a->rule, sizeof(r->rule));
	r->rule[sizeof(r->rule) - 1] = '\0';
	memcpy(r->json, json, jl + 1);
	rc = s->ops->alert_put(s, r);
	free(r);
	return rc;
}

int
vg_alert_get(struct vg_vault *v, const char *id, struct vg_alert_row *out)
{
	struct vg_store *s = vg__vault_store(v);

	if (!vg_alert_id_ok(id))
		return VG_ENOTFOUND;
	return s->ops->alert_get(s, id, out);
}

int
vg_alert_list(struct vg_vault *v, const struct vg_alert_query *q,
    int (*cb)(void *ctx, const struct vg_alert_row *r), void *ctx)
{
	struct vg_store *s = vg__vault_store(v);

	return s->ops->alert_list(s, q, cb, ctx);
}

int
vg_alert_ack(struct vg_vault *v, const char *id, const char *by, int64_t at)
{
	struct vg_store *s = vg__vault_store(v);

	if (!vg_alert_id_ok(id))
		return VG_ENOTFOUND;
	if (by == NULL || by[0] == '\0' || strlen(by) > VG_PRINCIPAL_ID_MAX)
		return VG_EINVAL;
	return s->ops->alert_ack(s, id, by, at);
}
