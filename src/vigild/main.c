/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigild, the access broker daemon: options and configuration, the
 * vault's audit chain, quota state rebuilt from the audit log, the
 * policy (reloaded atomically on SIGHUP), the HTTP workers, and an
 * orderly stop on SIGTERM or SIGINT.
 *
 *     vigild --dir DIR [--config FILE] [--listen HOST:PORT] [--policy FILE]
 *            [--threads N] [--node NAME] [--tls-cert FILE --tls-key FILE]
 *            [--log FILE] [--check] [--routes] [--version]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "vigil/audit.h"
#include "vigil/vault.h"
#include "vigild.h"

static struct server srv;

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: vigild --dir DIR [--config FILE] [--listen HOST:PORT]\n"
	    "              [--policy FILE] [--threads N] [--node NAME]\n"
	    "              [--tls-cert FILE --tls-key FILE] [--log FILE]\n"
	    "       vigild --dir DIR --check     check configuration and "
	    "policy, then exit\n"
	    "       vigild --routes              list the HTTP routes\n"
	    "       vigild --version\n"
	    "The policy is --policy, the config's `policy:`, or "
	    "DIR/policy.yaml.\n"
	    "Signals: SIGHUP reloads the policy; SIGTERM or SIGINT stops "
	    "gracefully.\nSee docs/OPERATIONS.md.\n");
}

/*-----------------------------------------------------------------------------
 * Policy references
 */

struct polref *
policy_get(struct server *s)
{
	struct polref *r;

	pthread_mutex_lock(&s->pol_lock);
	r = s->pol;
	atomic_fetch_add(&r->refs, 1);
	pthread_mutex_unlock(&s->pol_lock);
	return r;
}

void
policy_put(struct polref *r)
{
	if (atomic_fetch_sub(&r->refs, 1) == 1) {
		vg_policy_free(r->p);
		free(r);
	}
}

/* Writes DIR/vigild.policy for `vigil policy reload` to read. */
static void
policy_status(struct server *s, const char *result, const char *detail)
{
	char path[4200], tmp[4300], line[6144];
	int fd, n, ok;

	snprintf(path, sizeof(path), "%s/vigild.policy", s->cfg.dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(line, sizeof(line), "generation %llu\nresult %s\n"
	    "path %s\ndetail %s\n", (unsigned long long)s->pol_generation,
	    result, s->cfg.policy, detail);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	ok = n > 0 && write(fd, line, (size_t)n) == n;
	if (close(fd) == 0 && ok)
		(void)rename(tmp, path);
	else
		(void)unlink(tmp);
}

/* The log says which policy decided what followed: the entry is
 * written before the policy is put in force.  Returns 0 or -1. */
static int
policy_audit(struct server *s, const struct vg_policy *p)
{
	struct vg_audit_entry e;
	char detail[64];

	memset(&e, 0, sizeof(e));
	snprintf(detail, sizeof(detail), "digest=%s", vg_policy_digest(p));
	e.principal = "vigild";
	e.action = "policy.load";
	e.decision = "allow";
	e.reason = VG_R_OK;
	e.client = "vigild";
	e.detail = detail;
	if (vg_audit_append(s->audit, &e, NULL) != 0) {
		log_event(s, "error", "audit log unavailable", NULL);
		return -1;
	}
	return 0;
}

int
policy_reload(struct server *s, char *err, size_t cap)
{
	struct vg_policy *p = NULL;
	struct polref *r, *old;

	if (vg_policy_load(s->cfg.policy, &s->schema, &p, err, cap) != 0 ||
	    (s->audit != NULL && policy_audit(s, p) != 0)) {
		if (p != NULL) {
			vg_policy_free(p);
			snprintf(err, cap, "the audit log cannot record the "
			    "new policy");
		}
		s->pol_generation++;
		atomic_fetch_add(&s->gm.policy_reload_failures, 1);
		policy_status(s, "refused", err);
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		vg_policy_free(p);
		snprintf(err, cap, "out of memory");
		return -1;
	}
	r->p = p;
	atomic_store(&r->refs, 1);
	pthread_mutex_lock(&s->pol_lock);
	old = s->pol;
	s->pol = r;
	r->generation = ++s->pol_generation;
	pthread_mutex_unlock(&s->pol_lock);
	if (old != NULL)
		policy_put(old);
	atomic_fetch_add(&s->gm.policy_reloads, 1);
	policy_status(s, "ok", vg_policy_digest(p));
	return 0;
}

/*-----------------------------------------------------------------------------
 * Start and stop
 */

/* Opens the vault once at start: its schema and identity now, the audit
 * chain's signing seed later (open_audit); the workers open their own. */
static int
open_vault(struct server *s, struct vg_vault **v, char *err, size_t cap)
{
	if (vg_vault_open(s->cfg.dir, v, err, cap) != 0)
		return -1;
	s->schema = *vg_vault_schema(*v);
	if (vg_vault_id(*v, s->vault_id) != 0) {
		vg_vault_close(*v);
		*v = NULL;
		snprintf(err, cap, "the vault has no audit identity");
		return -1;
	}
	return 0;
}

static int64_t
audit_clock(void *ctx)
{
	return server_ns(ctx);
}

static int
open_audit(struct server *s, struct vg_vault *v, char *err, size_t cap)
{
	struct vg_audit_opts o;
	unsigned char seed[VG_KEYBYTES];
	const char *wit[8];
	char origin[160], *tok, *save = NULL;
	size_t nw = 0;
	int rc;

	if (vg_vault_audit_seed(v, s->cfg.node, seed) != 0) {
		snprintf(err, cap, "the vault has no audit identity");
		return -1;
	}
	snprintf(origin, sizeof(origin), "vigil.local/%s/%s", s->vault_id,
	    s->cfg.node);
	snprintf(s->chain_dir, sizeof(s->chain_dir), "%s/audit/%s",
	    s->cfg.dir, s->cfg.node);
	memset(&o, 0, sizeof(o));
	o.vault_dir = s->cfg.dir;
	o.chain = s->cfg.node;
	o.origin = origin;
	o.sign_seed = seed;
	o.batch_us = s->cfg.audit_batch_us;
	o.checkpoint_ms = s->cfg.checkpoint_ms;
	if (s->cfg.sim_clock) {
		o.clock = audit_clock;
		o.clock_ctx = s;
	}
	for (tok = strtok_r(s->cfg.witness_dirs, ":", &save); tok != NULL &&
	    nw < 8; tok = strtok_r(NULL, ":", &save))
		wit[nw++] = tok;
	o.witness_dirs = wit;
	o.nwitness_dirs = nw;
	rc = vg_audit_open(&o, &s->audit, err, cap);
	sodium_memzero(seed, sizeof(seed));
	return rc == 0 ? 0 : -1;
}

/* Quotas are a fold over every chain of the vault's log, merged in time
 * order (a principal may be served by several nodes). */
static int
rebuild_quotas(struct server *s, char *err, size_t cap)
{
	char path[4200];
	uint64_t n = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/audit", s->cfg.dir);
	rc = vg_quota_rebuild_all(s->quota, path, now_ns() / 1000000000, &n);
	if (rc != 0 && rc != VG_ENOTFOUND) {
		snprintf(err, cap, "quota state: the audit log cannot be read "
		    "(%s); run vigil audit verify", vg_strerror(rc));
		return -1;
	}
	log_event(s, "info", "quota state rebuilt from the audit log",
	    "\"entries_folded\":%llu", (unsigned long long)n);
	return 0;
}

static int
write_pidfile(struct server *s)
{
	char path[4200], line[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/vigild.pid", s->cfg.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void
remove_pidfile(struct server *s)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/vigild.pid", s->cfg.dir);
	(void)unlink(path);
}

static int
print_routes(void)
{
	const struct route_def *r;
	size_t n, i;

	r = route_table(&n);
	for (i = 0; i < n; i++)
		printf("%s %s\n", r[i].method, r[i].pattern);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "policy", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "node", required_argument, NULL, 'n' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "log", required_argument, NULL, 'L' },
		{ "check", no_argument, NULL, 'k' },
		{ "routes", no_argument, NULL, 'r' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server *s = &srv;
	struct vg_vault *v = NULL;
	const char *config = NULL, *dir = NULL;
	char err[1024] = "";
	struct rlimit rl = { 0, 0 };
	sigset_t set;
	int c, sig, rc, check = 0, status = 0;
	long cpus;

	config_defaults(&s->cfg);
	opterr = 0;
	/* Options are read twice: the config file first, then the command
	 * line over it. */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 'r':
			return print_routes();
		case 'V':
			printf("vigild %s\n", VG_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'l': case 'p': case 't': case 'n': case 'C': case 'K':
		case 'L':
			break;
		default:
			fprintf(stderr, "vigild: unknown or incomplete option "
			    "%s\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vigild: unexpected argument\n");
		usage(stderr);
		return 2;
	}
	if (dir == NULL) {
		fprintf(stderr, "vigild: --dir DIR is required\n");
		usage(stderr);
		return 2;
	}
	if (config != NULL && config_load(&s->cfg, config, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "vigild: %s\n", err);
		return 2;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		size_t cap = 0;
		char *dst = NULL;

		switch (c) {
		case 'l':
			if (config_listen(&s->cfg, optarg) != 0) {
				fprintf(stderr, "vigild: --listen takes "
				    "HOST:PORT\n");
				return 2;
			}
			break;
		case 't': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (*end != '\0' || n < 0 || n > WORKERS_MAX) {
				fprintf(stderr, "vigild: --threads takes 0 to "
				    "%d\n", WORKERS_MAX);
				return 2;
			}
			s->cfg.threads = (int)n;
			break;
		}
		case 'p':
			dst = s->cfg.policy;
			cap = sizeof(s->cfg.policy);
			break;
		case 'n':
			dst = s->cfg.node;
			cap = sizeof(s->cfg.node);
			break;
		case 'C':
			dst = s->cfg.tls_cert;
			cap = sizeof(s->cfg.tls_cert);
			break;
		case 'K':
			dst = s->cfg.tls_key;
			cap = sizeof(s->cfg.tls_key);
			break;
		case 'L':
			dst = s->cfg.log_file;
			cap = sizeof(s->cfg.log_file);
			break;
		default:
			break;
		}
		if (dst != NULL) {
			if (strlen(optarg) >= cap || optarg[0] == '\0') {
				fprintf(stderr, "vigild: option value too "
				    "long or empty\n");
				return 2;
			}
			memcpy(dst, optarg, strlen(optarg) + 1);
		}
	}
	if (strlen(dir) >= sizeof(s->cfg.dir)) {
		fprintf(stderr, "vigild: --dir too long\n");
		return 2;
	}
	memcpy(s->cfg.dir, dir, strlen(dir) + 1);
	if (s->cfg.policy[0] == '\0' &&
	    (size_t)snprintf(s->cfg.policy, sizeof(s->cfg.policy),
	    "%s/policy.yaml", s->cfg.dir) >= sizeof(s->cfg.policy)) {
		fprintf(stderr, "vigild: --dir too long\n");
		return 2;
	}
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	s->nworkers = s->cfg.threads > 0 ? s->cfg.threads :
	    cpus > 0 ? (int)(cpus < WORKERS_MAX ? cpus : WORKERS_MAX) : 1;

	umask(077);
	setrlimit(RLIMIT_CORE, &rl);	/* no core dump holds a key */
	if (vg_crypto_init() != 0) {
		fprintf(stderr, "vigild: libsodium failed to start\n");
		return 1;
	}
	s->log_fd = 2;
	if (s->cfg.log_file[0] != '\0' && strcmp(s->cfg.log_file, "-") != 0) {
		s->log_fd = open(s->cfg.log_file, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, 0600);
		if (s->log_fd < 0) {
			fprintf(stderr, "vigild: cannot open log %s: %s\n",
			    s->cfg.log_file, strerror(errno));
			return 1;
		}
	}
	pthread_mutex_init(&s->pol_lock, NULL);
	s->started = now_ns() / 1000000000;

	/* Signals go to the main thread's sigwait only. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The vault and the policy first: a bad policy or --check never
	 * touches the audit chain. */
	if (open_vault(s, &v, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigild: vault: %s\n", err);
		return 1;
	}
	if (policy_reload(s, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigild: policy: %s\n", err);
		vg_vault_close(v);
		return 1;
	}
	if (check) {
		printf("vigild: configuration and policy %s (%s) are valid\n",
		    s->cfg.policy, vg_policy_digest(s->pol->p));
		vg_vault_close(v);
		policy_put(s->pol);
		return 0;
	}
	if (s->cfg.sim_clock && strcmp(s->cfg.listen_host, "127.0.0.1") != 0 &&
	    strcmp(s->cfg.listen_host, "::1") != 0 &&
	    strcmp(s->cfg.listen_host, "localhost") != 0) {
		fprintf(stderr, "vigild: sim.clock lets clients set the time "
		    "of the audit log: refused on %s (loopback only)\n",
		    s->cfg.listen_host);
		vg_vault_close(v);
		policy_put(s->pol);
		return 1;
	}
	if (s->cfg.sim_clock)
		log_event(s, "warn", "simulated clock: requests set the time "
		    "(X-Vigil-Sim-Time); for simulations only", NULL);
	if (http_tls_setup(s, err, sizeof(err)) != 0 ||
	    http_address_free(&s->cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigild: %s\n", err);
		vg_vault_close(v);
		policy_put(s->pol);
		return 1;
	}
	rc = open_audit(s, v, err, sizeof(err));
	vg_vault_close(v);
	if (rc != 0) {
		fprintf(stderr, "vigild: audit log: %s\n", err);
		policy_put(s->pol);
		return 1;
	}
	/* The policy loaded above is recorded before any request. */
	if (policy_audit(s, s->pol->p) != 0) {
		fprintf(stderr, "vigild: the audit log cannot be written\n");
		(void)vg_audit_close(s->audit);
		return 1;
	}
	if (vg_quota_new(&s->quota) != 0 ||
	    rebuild_quotas(s, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigild: %s\n", err[0] != '\0' ? err :
		    "out of memory");
		(void)vg_audit_close(s->audit);
		return 1;
	}
	if (detector_start(s, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigild: %s\n", err);
		(void)vg_audit_close(s->audit);
		return 1;
	}
	if (http_start(s, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigild: %s\n", err);
		detector_stop(s);
		(void)vg_audit_close(s->audit);
		return 1;
	}
	if (write_pidfile(s) != 0)
		log_event(s, "warn", "cannot write vigild.pid", NULL);
	log_event(s, "info", "listening", "\"address\":\"%s:%u\","
	    "\"tls\":%s,\"threads\":%d,\"policy\":\"%s\",\"node\":\"%s\","
	    "\"version\":\"%s\"", s->cfg.listen_host, s->cfg.listen_port,
	    s->ssl_ctx != NULL ? "true" : "false", s->nworkers,
	    vg_policy_digest(s->pol->p), s->cfg.node, VG_VERSION);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			if (policy_reload(s, err, sizeof(err)) == 0)
				log_event(s, "info", "policy reloaded",
				    "\"policy\":\"%s\"",
				    vg_policy_digest(s->pol->p));
			else
				log_event(s, "error", "policy reload refused; "
				    "the old policy stays", "\"error\":\"%s\"",
				    "see vigil policy check");
			continue;
		}
		break;
	}
	log_event(s, "info", "stopping", "\"signal\":%d", sig);
	http_stop(s);
	http_wait(s);
	detector_stop(s);
	if (vg_audit_close(s->audit) != 0) {
		log_event(s, "error", "audit log: final checkpoint failed",
		    NULL);
		status = 1;
	}
	remove_pidfile(s);
	log_event(s, "info", "stopped", NULL);
	vg_quota_free(s->quota);
	vg_contain_free(s->contain);
	policy_put(s->pol);
	return status;
}
