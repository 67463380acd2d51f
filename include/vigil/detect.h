/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The insider-threat detector: a deterministic fold of the audit log into
 * per-principal risk, raising alerts (vigil/alert.h).
 *
 * vigild feeds it its own chain's entries as they become durable; `vigil
 * detect replay` feeds it the same entries from the files.  The detector
 * reads nothing but the entries, the principal directory (org, role,
 * region, shift) and the honeytoken set, and keeps time by the entries'
 * own timestamps, never the wall clock, so the same log gives the same
 * alerts, byte for byte.
 *
 * What it counts, per principal, over fixed windows of 15 minutes, an
 * hour, a day and 30 days (docs/DETECTION.md has the words):
 *   reveals; distinct customers; reveals without a case (break-glass);
 *   reveals of the sellable bundle (name, phone and account id at once);
 *   reveals of 3 or more fields at once; lookups that matched nobody;
 *   denied requests (not the refusals its own containment causes);
 *   accesses outside the principal's shift; customers outside the
 *   principal's region; reveals under a case the principal opened for
 *   themselves shortly before; lookups; cases handled; customers that an
 *   unrelated principal also revealed without a case.
 * Each count is compared with the principal's peer group (same org and
 * role; the role across all orgs when the group is small) by a robust
 * z-score, (x - median) / max(1.4826 MAD, floor), over the group's
 * members active that day, recomputed every 10 minutes of log time, so a
 * whole team's busy Monday moves the median and raises nobody; wide
 * reveals against what the peers' share of them predicts.  A principal
 * whose role has too few members active (a system such as an exporter)
 * is compared with its own past instead, window by window.  Its day's
 * reveals are also compared with its own history (an exponential
 * average of its days).  An org whose members are elevated together, and
 * customers revealed without a case by principals of different orgs, are
 * signals of collusion.  Any access to a honeytoken record is critical at
 * once.
 *
 * Memory is fixed per principal (rings of counters and small bitmaps,
 * about 1.6 KiB with its share of the baselines; a principal compared
 * with itself has another 0.5 KiB): vg_detect_stats() reports it.
 */
#ifndef VIGIL_DETECT_H
#define VIGIL_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/alert.h"
#include "vigil/audit.h"
#include "vigil/crypto.h"
#include "vigil/error.h"
#include "vigil/principal.h"

/* The principal directory: fills *out for id and returns 0, or returns
 * VG_ENOTFOUND (the detector then treats id as its own group). */
typedef int (*vg_detect_dir_fn)(void *ctx, const char *id,
    struct vg_principal *out);
/* Called for every alert, in log order, from the feeding thread. */
typedef void (*vg_detect_alert_fn)(void *ctx, const struct vg_alert *a);

/* Thresholds and responses; vg_detect_tuning_default() fills the
 * defaults documented in docs/DETECTION.md. */
struct vg_detect_tuning {
	double medium;			/* score for a medium alert */
	double high;			/* score for a high alert */
	enum vg_contain on_medium;	/* default step_up */
	enum vg_contain on_high;	/* default suspend */
	enum vg_contain on_critical;	/* default suspend */
	uint32_t min_active_peers;	/* below: compare with the role;
					 * the role below it too: with its
					 * own past */
	uint32_t own_history_days;	/* days before own history counts */
};
void vg_detect_tuning_default(struct vg_detect_tuning *t);

struct vg_detect_opts {
	vg_detect_dir_fn directory;	/* may be NULL */
	void *directory_ctx;
	const unsigned char (*honey)[VG_IDBYTES];	/* sorted; borrowed */
	size_t nhoney;
	vg_detect_alert_fn alert;
	void *alert_ctx;
	const struct vg_detect_tuning *tuning;	/* NULL: defaults */
};

struct vg_detect;

/* Returns 0, VG_ENOMEM or VG_ECRYPTO (libsodium did not initialise). */
VG_MUST_CHECK int vg_detect_new(const struct vg_detect_opts *o,
    struct vg_detect **out);
void vg_detect_free(struct vg_detect *d);

/*
 * Folds one entry into the state, raising alerts through o->alert.
 * Entries must come in log order: per chain by sequence, across chains
 * by (time, chain name, sequence).  Returns 0, VG_EINVAL (the entry's
 * time goes back more than a minute from what was seen: not log
 * order), or VG_ENOMEM (the entry is not counted).
 */
VG_MUST_CHECK int vg_detect_feed(struct vg_detect *d,
    const struct vg_audit_record *rec);

struct vg_detect_stats {
	uint64_t entries;		/* fed */
	uint64_t alerts;
	uint64_t principals;		/* tracked */
	uint64_t groups;
	uint64_t bytes;			/* state memory */
	uint64_t recomputes;		/* peer baselines computed */
};
void vg_detect_stats(const struct vg_detect *d, struct vg_detect_stats *st);

/*
 * Replays a vault's audit log through a new detector: every vigild
 * chain (all chains but "cli", whose entries are the operator's own
 * command-line work), merged in log order.  Alerts whose time is in
 * [from_ns, to_ns) reach cb; the fold itself starts 31 days before
 * from_ns so every window is as full as it was online.  The principal
 * directory and honeytoken set come from the caller's opts (directory,
 * honey, tuning; alert and alert_ctx are replaced by cb).  Returns 0,
 * VG_EFORMAT with err naming the chain and sequence (a damaged log:
 * run vigil audit verify), or another error.
 */
VG_MUST_CHECK int vg_detect_replay(const char *vault_dir,
    const struct vg_detect_opts *o, int64_t from_ns, int64_t to_ns,
    vg_detect_alert_fn cb, void *cb_ctx, struct vg_detect_stats *st,
    char *err, size_t errcap);

#endif
