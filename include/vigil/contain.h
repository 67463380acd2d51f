/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Containment: what the detector did to a principal, as a fold of the
 * audit log.  An alert at medium severity makes a principal's reveals
 * need a supervisor's approval (step-up); at high or critical its
 * reveals are refused while masked views keep working.  Each such
 * action is an audit entry written before it takes effect:
 *
 *   action "detect.contain", decision "allow",
 *   detail "target=P,level=step_up|suspend,alert=al_..."
 *
 * and the security role undoes it with a reinstate ("principal.
 * reinstate", decision "allow", detail "target=P" from vigild or
 * "principal=P" from the command line), which clears it.  A later
 * alert contains again.  The map also remembers which alerts have been
 * acted on, so a restart that replays the log never contains anyone
 * twice for the same alert, nor again after a reinstate.
 * Thread-safe (a read-write lock): every reveal reads it.
 */
#ifndef VIGIL_CONTAIN_H
#define VIGIL_CONTAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/alert.h"
#include "vigil/audit.h"
#include "vigil/error.h"
#include "vigil/principal.h"

struct vg_contain_state {
	enum vg_contain level;
	char alert[VG_ALERT_ID_MAX];	/* the alert behind it */
	int64_t since_ns;		/* its audit entry's time */
};

struct vg_contain_map;

VG_MUST_CHECK int vg_contain_new(struct vg_contain_map **out);
void vg_contain_free(struct vg_contain_map *m);

/* Folds one audit record in (other records are ignored).  Returns 0 or
 * VG_ENOMEM. */
VG_MUST_CHECK int vg_contain_fold(struct vg_contain_map *m,
    const struct vg_audit_record *rec);

/* p's containment now (level VG_CONTAIN_NONE when none). */
void vg_contain_get(struct vg_contain_map *m, const char *principal,
    struct vg_contain_state *out);
/* Records a containment (its audit entry is durable), raising the level
 * only: a step-up never lowers a suspension.  Returns 0 or VG_ENOMEM. */
VG_MUST_CHECK int vg_contain_set(struct vg_contain_map *m,
    const char *principal, enum vg_contain level, const char *alert,
    int64_t since_ns);
/* Clears p's containment (a reinstate). */
void vg_contain_clear(struct vg_contain_map *m, const char *principal);
/* True when alert has been acted on (contained, even if reinstated). */
bool vg_contain_acted(struct vg_contain_map *m, const char *alert);
/* Principals contained now. */
size_t vg_contain_count(struct vg_contain_map *m);

/* The detail of a "detect.contain" entry into buf. */
void vg_contain_detail(char *buf, size_t cap, const char *principal,
    enum vg_contain level, const char *alert);

#endif
