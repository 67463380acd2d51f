/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Witness sinks outside the vault for signed audit checkpoints: a remote
 * syslog collector (RFC 5424 over UDP) and an HTTP endpoint (POST of the
 * note text).  Directories are handled by the audit log itself
 * (vg_audit_opts.witness_dirs).  An administrator who rewrites the log and
 * re-signs it is caught by any checkpoint a witness kept.
 *
 * Sending never blocks the audit writer: each sink has its own thread and
 * keeps only the newest checkpoint not yet delivered (a witness needs the
 * latest; a later one proves the earlier ones' entries too).  HTTP
 * retries with backoff.
 */
#ifndef VIGIL_WITNESS_H
#define VIGIL_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/error.h"

struct vg_witness;

/*
 * Creates an empty set of sinks.  Add sinks, then pass vg_witness_sink
 * and the set as vg_audit_opts.sink / sink_ctx.
 */
struct vg_witness *vg_witness_new(void);

/* Adds a syslog sink: "host:port" (IPv4 or a name; UDP).  0 or VG_EINVAL. */
VG_MUST_CHECK int vg_witness_add_syslog(struct vg_witness *w,
    const char *hostport, const char *hostname);
/* Adds an HTTP(S) sink: the note is POSTed as text/plain to url. */
VG_MUST_CHECK int vg_witness_add_http(struct vg_witness *w, const char *url);

/* The audit sink callback: queues note for every sink; never blocks on
 * the network.  Returns 0, or VG_EIO when a sink reported a failure since
 * the last call (delivery still goes on). */
int vg_witness_sink(void *ctx, const char *note, size_t len);

struct vg_witness_stats {
	uint64_t sent;		/* notes delivered, all sinks */
	uint64_t failed;	/* delivery attempts that failed */
	uint64_t dropped;	/* superseded before delivery */
};
void vg_witness_stats(struct vg_witness *w, struct vg_witness_stats *st);

/* Waits up to timeout_ms until every sink has sent its newest note.
 * Returns 0, or VG_EIO if some are still pending (e.g. an unreachable
 * witness). */
int vg_witness_flush(struct vg_witness *w, unsigned timeout_ms);

/* Waits up to timeout_ms for queued notes to go out, then stops every
 * sink and frees w.  NULL is a no-op. */
void vg_witness_free(struct vg_witness *w, unsigned timeout_ms);

#endif
