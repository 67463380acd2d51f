/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alerts kept in the vault's database: vigild stores every alert the
 * detector raises (once: the id is deterministic, so a restart that
 * replays the log finds the alerts it already has), and the security
 * role lists, reads and acknowledges them (GET /v1/alerts, vigil alerts).
 */
#ifndef VIGIL_ALERTDB_H
#define VIGIL_ALERTDB_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/alert.h"
#include "vigil/error.h"
#include "vigil/principal.h"
#include "vigil/vault.h"

#define VG_ALERT_LIST_MAX 1000		/* rows one list call returns */

struct vg_alert_row {
	char id[VG_ALERT_ID_MAX];
	int64_t time_ns;
	char principal[VG_PRINCIPAL_ID_MAX + 1];
	int severity;			/* enum vg_severity */
	char rule[32];
	char state[8];			/* "open", "acked" */
	char acked_by[VG_PRINCIPAL_ID_MAX + 1];	/* "" while open */
	int64_t acked_at;		/* unix seconds, 0 while open */
	char json[VG_ALERT_JSON_MAX];	/* vg_alert_json() of the alert */
};

/* Filters for a list; zero or NULL fields match everything.  Rows come
 * newest first (time, then id, both descending), at most limit (0 or
 * more than VG_ALERT_LIST_MAX: VG_ALERT_LIST_MAX).  A page after
 * another starts below its last row: before_ns and before_id (the last
 * row's time and id; before_id NULL: only rows older than before_ns),
 * so alerts of one time are never split or skipped. */
struct vg_alert_query {
	const char *principal;
	const char *state;
	int min_severity;
	int64_t before_ns;		/* 0: from the newest */
	const char *before_id;
	size_t limit;
};

/* Stores a (json: its vg_alert_json() form).  Returns 0 when it is new,
 * VG_EEXIST when an alert with its id is already stored (nothing
 * changes), VG_EINVAL for a principal id too long, or a storage error. */
VG_MUST_CHECK int vg_alert_put(struct vg_vault *v, const struct vg_alert *a,
    const char *json);
/* Returns 0, VG_ENOTFOUND or a storage error. */
VG_MUST_CHECK int vg_alert_get(struct vg_vault *v, const char *id,
    struct vg_alert_row *out);
/* Calls cb for each row matching q (cb returns non-zero to stop, and
 * that value is returned). */
VG_MUST_CHECK int vg_alert_list(struct vg_vault *v,
    const struct vg_alert_query *q,
    int (*cb)(void *ctx, const struct vg_alert_row *r), void *ctx);
/* Marks an open alert acknowledged by `by` at unix time `at`.  Returns
 * 0, VG_ENOTFOUND, VG_EEXIST (already acknowledged: unchanged) or a
 * storage error. */
VG_MUST_CHECK int vg_alert_ack(struct vg_vault *v, const char *id,
    const char *by, int64_t at);

/* True when s has the form of an alert id: "al_" and 16 lowercase hex. */
int vg_alert_id_ok(const char *s);

#endif
