/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigild's detector thread: the node's audit chain, read back from its
 * files once each entry is durable, folded into vg_detect in log order.
 * The same entries through the same code give `vigil detect replay` the
 * same alerts.
 *
 * An alert is handled here, in order: containment first (an audit
 * entry "detect.contain", durable, then the containment map the
 * reveals read), then the alert is stored in the vault (once: its id is
 * deterministic) and, when new, handed to the sinks.  A restart replays
 * the whole log before serving: alerts already stored are not sent
 * again, and alerts already acted on (the containment map remembers
 * them, from the log) contain nobody twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "vigil/alertdb.h"
#include "vigil/detect.h"
#include "vigil/honey.h"
#include "vigil/vault.h"
#include "vigild.h"

#define POLL_MS 20		/* how often the chain is looked at */

struct detector {
	struct server *s;
	pthread_t thr;
	bool running;
	atomic_int stop;
	struct vg_vault *vault;		/* this thread's handle */
	struct vg_detect *d;
	struct vg_audit_reader *r;	/* the node's chain, followed */
	struct vg_audit_reader *cli;	/* the command line's, tailed for
					 * reinstates made there */
	uint64_t cli_skip;		/* its entries folded at start */
	struct vg_alert_sinks *sinks;	/* NULL: none configured */
	unsigned char (*honey)[VG_IDBYTES];
	size_t nhoney;
	struct vg_audit_record rec;
	char json[VG_ALERT_JSON_MAX];
	uint64_t next;			/* sequence number to read next */
	atomic_uint_fast64_t alerts[5];	/* by severity */
	atomic_uint_fast64_t entries, lag;
};

static int
directory(void *ctx, const char *id, struct vg_principal *out)
{
	struct detector *dt = ctx;

	return vg_principal_get(dt->vault, id, out);
}

/* Containment for alert a: its audit entry first, then the map. */
static void
contain(struct detector *dt, const struct vg_alert *a)
{
	struct server *s = dt->s;
	struct vg_contain_state cur;
	struct vg_audit_entry e;
	char detail[VG_AUDIT_STR_MAX + 1];
	int level = a->action, rc;

	if (level <= VG_CONTAIN_NONE || vg_contain_acted(s->contain, a->id))
		return;
	vg_contain_get(s->contain, a->principal, &cur);
	if ((int)cur.level >= level)
		return;		/* already held as tight */
	vg_contain_detail(detail, sizeof(detail), a->principal,
	    (enum vg_contain)level, a->id);
	memset(&e, 0, sizeof(e));
	e.principal = "detector";
	e.action = "detect.contain";
	e.decision = "allow";
	e.reason = a->rule;
	e.client = "vigild";
	e.detail = detail;
	rc = vg_audit_append(s->audit, &e, NULL);
	if (rc != 0) {
		/* Not recorded, so not in force: the log stays the truth. */
		atomic_fetch_add(&s->audit_errors, 1);
		log_event(s, "error", "containment could not be audited",
		    "\"principal\":\"%s\",\"alert\":\"%s\",\"error\":\"%s\"",
		    a->principal, a->id, vg_strerror(rc));
		return;
	}
	if (vg_contain_set(s->contain, a->principal, (enum vg_contain)level,
	    a->id, server_ns(s)) != 0) {
		log_event(s, "error", "containment map out of memory",
		    "\"principal\":\"%s\"", a->principal);
		return;
	}
	/* Cached decisions of every worker see it on their next request. */
	atomic_fetch_add(&s->auth_generation, 1);
	log_event(s, "warn", "principal contained", "\"principal\":\"%s\","
	    "\"level\":\"%s\",\"alert\":\"%s\",\"rule\":\"%s\"",
	    a->principal, vg_contain_name((enum vg_contain)level), a->id,
	    a->rule);
}

static void
on_alert(void *ctx, const struct vg_alert *a)
{
	struct detector *dt = ctx;
	struct server *s = dt->s;
	int rc;

	contain(dt, a);
	if (vg_alert_json(a, dt->json, sizeof(dt->json)) < 0) {
		log_event(s, "error", "alert too large to store",
		    "\"alert\":\"%s\"", a->id);
		return;
	}
	rc = vg_alert_put(dt->vault, a, dt->json);
	if (rc == VG_EEXIST)
		return;		/* raised before this restart */
	if (rc != 0) {
		log_event(s, "error", "alert could not be stored",
		    "\"alert\":\"%s\",\"error\":\"%s\"", a->id,
		    vg_strerror(rc));
	}
	if (a->severity >= VG_SEV_LOW && a->severity <= VG_SEV_CRITICAL)
		atomic_fetch_add(&dt->alerts[a->severity], 1);
	log_event(s, a->severity >= VG_SEV_HIGH ? "warn" : "info", "alert",
	    "\"alert\":\"%s\",\"principal\":\"%s\",\"severity\":\"%s\","
	    "\"rule\":\"%s\",\"containment\":\"%s\"", a->id, a->principal,
	    vg_severity_name(a->severity), a->rule,
	    vg_contain_name(a->action));
	if (dt->sinks != NULL && vg_alert_sinks_send(dt->sinks, a) != 0)
		log_event(s, "error", "alert sinks out of memory",
		    "\"alert\":\"%s\"", a->id);
}

/* Folds every durable entry of the node's chain not yet read. */
static int
drain(struct detector *dt)
{
	struct vg_audit_status st;
	int rc;

	vg_audit_status(dt->s->audit, &st);
	while ((rc = vg_audit_reader_follow(dt->r, &dt->rec, st.size)) == 1) {
		rc = vg_detect_feed(dt->d, &dt->rec);
		if (rc == VG_ENOMEM)
			log_event(dt->s, "error", "detector out of memory",
			    "\"seq\":%llu", (unsigned long long)dt->rec.seq);
		atomic_fetch_add(&dt->entries, 1);
		dt->next = dt->rec.seq + 1;
	}
	atomic_store(&dt->lag, st.size > dt->next ? st.size - dt->next : 0);
	if (rc < 0) {
		uint64_t seq;
		const char *why = vg_audit_reader_error(dt->r, &seq, NULL,
		    NULL);

		log_event(dt->s, "error", "detector cannot read the audit log",
		    "\"seq\":%llu,\"error\":\"%s\"", (unsigned long long)seq,
		    why);
		return rc;
	}
	return 0;
}

/* Reinstates (and any containment) written by the command line while
 * vigild runs: that chain is another process's, read as it grows. */
static void
tail_cli(struct detector *dt)
{
	struct server *s = dt->s;
	char dir[4200];
	int rc;

	if (dt->cli == NULL) {
		snprintf(dir, sizeof(dir), "%s/audit/cli", s->cfg.dir);
		if (vg_audit_reader_open(dir, &dt->cli) != 0)
			return;		/* no such chain yet */
	}
	while ((rc = vg_audit_reader_tail(dt->cli, &dt->rec)) == 1) {
		if (dt->cli_skip > 0) {
			dt->cli_skip--;		/* folded at start */
			continue;
		}
		if (vg_contain_fold(s->contain, &dt->rec) != 0)
			log_event(s, "error", "containment map out of memory",
			    NULL);
	}
	if (rc < 0) {
		log_event(s, "error", "the command line's audit chain cannot "
		    "be read; reinstates made there wait for a restart",
		    "\"error\":\"%s\"", vg_audit_reader_error(dt->cli, NULL,
		    NULL, NULL));
		vg_audit_reader_close(dt->cli);
		dt->cli = NULL;
		dt->cli_skip = UINT64_MAX;	/* never again this run */
	}
}

static void *
run(void *arg)
{
	struct detector *dt = arg;
	struct timespec ts = { 0, POLL_MS * 1000000L };

	while (!atomic_load(&dt->stop)) {
		if (drain(dt) != 0)
			break;	/* a damaged chain: logged; reveals go on,
				 * /healthz says so */
		if (dt->cli_skip != UINT64_MAX)
			tail_cli(dt);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* Every chain but the operator's own command-line one. */
static int
other_vigild_chain(void *ctx, const char *chain)
{
	const struct server *s = ctx;

	return strcmp(chain, "cli") != 0 && strcmp(chain, s->cfg.node) != 0;
}

static int
all_chains(void *ctx, const char *chain)
{
	(void)ctx;
	(void)chain;
	return 1;
}

/* Containment is a fold over every chain, the command line's included
 * (a reinstate made there counts). */
static int
fold_containment(struct server *s, uint64_t *cli_entries, char *err,
    size_t cap)
{
	const struct vg_audit_record *rec;
	struct vg_audit_merge *m;
	char dir[4200];
	int rc;

	*cli_entries = 0;
	snprintf(dir, sizeof(dir), "%s/audit", s->cfg.dir);
	rc = vg_audit_merge_open(dir, all_chains, NULL, &m, err, cap);
	if (rc != 0)
		return rc;
	while ((rc = vg_audit_merge_next(m, &rec)) == 1) {
		if (strcmp(rec->node, "cli") == 0)
			(*cli_entries)++;
		if ((rc = vg_contain_fold(s->contain, rec)) != 0)
			break;
	}
	if (rc < 0 && rc != VG_ENOMEM)
		snprintf(err, cap, "%s", vg_audit_merge_error(m));
	vg_audit_merge_close(m);
	return rc < 0 ? rc : 0;
}

static int
read_token(const char *path, char *out, size_t cap, char *err, size_t ecap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		snprintf(err, ecap, "alerts.webhook_token_file: cannot open "
		    "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, out, cap - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, ecap, "alerts.webhook_token_file: %s is empty",
		    path);
		return -1;
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

static int
open_sinks(struct detector *dt, char *err, size_t cap)
{
	const struct config *c = &dt->s->cfg;
	struct vg_alert_sink_opts o;
	char token[512];
	int rc;

	if (c->alerts_file[0] == '\0' && c->alerts_syslog[0] == '\0' &&
	    c->alerts_webhook[0] == '\0')
		return 0;
	memset(&o, 0, sizeof(o));
	o.file = c->alerts_file[0] != '\0' ? c->alerts_file : NULL;
	o.syslog = c->alerts_syslog[0] != '\0' ? c->alerts_syslog : NULL;
	o.syslog_app = "vigild";
	o.webhook = c->alerts_webhook[0] != '\0' ? c->alerts_webhook : NULL;
	if (c->alerts_token_file[0] != '\0') {
		if (read_token(c->alerts_token_file, token, sizeof(token), err,
		    cap) != 0)
			return -1;
		o.webhook_token = token;
	}
	rc = vg_alert_sinks_open(&o, &dt->sinks, err, cap);
	sodium_memzero(token, sizeof(token));
	return rc == 0 ? 0 : -1;
}

static void
detector_free(struct detector *dt)
{
	if (dt == NULL)
		return;
	vg_alert_sinks_close(dt->sinks);
	vg_audit_reader_close(dt->r);
	vg_audit_reader_close(dt->cli);
	vg_detect_free(dt->d);
	vg_honey_free(dt->honey);
	vg_vault_close(dt->vault);
	free(dt);
}

int
detector_start(struct server *s, char *err, size_t cap)
{
	struct vg_detect_tuning tu;
	struct vg_detect_opts o;
	const struct vg_audit_record *rec;
	struct vg_audit_merge *m = NULL;
	struct detector *dt;
	char dir[4200];
	int rc;

	if (vg_contain_new(&s->contain) != 0) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	if ((dt = calloc(1, sizeof(*dt))) == NULL) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	if (fold_containment(s, &dt->cli_skip, err, cap) != 0) {
		free(dt);
		return -1;
	}
	dt->s = s;
	if (vg_vault_open(s->cfg.dir, &dt->vault, err, cap) != 0 ||
	    vg_honey_load(dt->vault, s->cfg.dir, &dt->honey, &dt->nhoney,
	    err, cap) != 0 || open_sinks(dt, err, cap) != 0) {
		detector_free(dt);
		return -1;
	}
	vg_detect_tuning_default(&tu);
	tu.on_medium = (enum vg_contain)s->cfg.contain[0];
	tu.on_high = (enum vg_contain)s->cfg.contain[1];
	tu.on_critical = (enum vg_contain)s->cfg.contain[2];
	memset(&o, 0, sizeof(o));
	o.directory = directory;
	o.directory_ctx = dt;
	o.honey = (const unsigned char (*)[VG_IDBYTES])dt->honey;
	o.nhoney = dt->nhoney;
	o.alert = on_alert;
	o.alert_ctx = dt;
	o.tuning = &tu;
	if (vg_detect_new(&o, &dt->d) != 0) {
		snprintf(err, cap, "out of memory");
		detector_free(dt);
		return -1;
	}
	/* Other nodes' chains (a node renamed, or an old one) first... */
	snprintf(dir, sizeof(dir), "%s/audit", s->cfg.dir);
	rc = vg_audit_merge_open(dir, other_vigild_chain, s, &m, err, cap);
	while (rc == 0 && (rc = vg_audit_merge_next(m, &rec)) == 1)
		if ((rc = vg_detect_feed(dt->d, rec)) == VG_EINVAL)
			rc = 0;		/* out of order across nodes: skip */
	if (rc < 0 && m != NULL)
		snprintf(err, cap, "detector: %s", vg_audit_merge_error(m));
	vg_audit_merge_close(m);
	if (rc < 0) {
		detector_free(dt);
		return -1;
	}
	/* ...then this node's, to its durable end, then followed. */
	if (vg_audit_reader_open(s->chain_dir, &dt->r) != 0 ||
	    drain(dt) != 0) {
		snprintf(err, cap, "detector: the audit chain %s cannot be "
		    "read; run vigil audit verify", s->chain_dir);
		detector_free(dt);
		return -1;
	}
	log_event(s, "info", "detector caught up with the audit log",
	    "\"entries\":%llu,\"honeytokens\":%zu,\"contained\":%zu",
	    (unsigned long long)atomic_load(&dt->entries), dt->nhoney,
	    vg_contain_count(s->contain));
	if (pthread_create(&dt->thr, NULL, run, dt) != 0) {
		snprintf(err, cap, "cannot start the detector thread");
		detector_free(dt);
		return -1;
	}
	dt->running = true;
	s->det = dt;
	return 0;
}

void
detector_stop(struct server *s)
{
	struct detector *dt = s->det;

	if (dt == NULL)
		return;
	atomic_store(&dt->stop, 1);
	if (dt->running)
		pthread_join(dt->thr, NULL);
	(void)drain(dt);	/* the last answers' entries */
	if (dt->sinks != NULL)
		vg_alert_sinks_flush(dt->sinks, 2000);
	s->det = NULL;
	detector_free(dt);
}

void
detector_metrics(struct server *s, uint64_t *alerts_by_sev,
    uint64_t *entries, uint64_t *lag, uint64_t *contained)
{
	struct detector *dt = s->det;
	int i;

	for (i = 0; i < 5; i++)
		alerts_by_sev[i] = dt != NULL ? atomic_load(&dt->alerts[i]) : 0;
	*entries = dt != NULL ? atomic_load(&dt->entries) : 0;
	*lag = dt != NULL ? atomic_load(&dt->lag) : 0;
	*contained = s->contain != NULL ? vg_contain_count(s->contain) : 0;
}
