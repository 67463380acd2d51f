/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI's audit chain: every command that touches customer data opens
 * the vault's "cli" chain and appends its entry, durable, before showing
 * anything.  If the log cannot be written the command fails and shows
 * nothing (fail closed).
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "vigil/audit.h"
#include "vigil/vault.h"
#include "vigil/witness.h"
#include "cli.h"

#define CLI_CHAIN "cli"
#define WITNESS_MAX 8

static char principal[96];
static struct vg_witness *witness;
static char request_id[24];

static void
identify(void)
{
	struct passwd *pw = getpwuid(geteuid());
	unsigned char rnd[8];

	if (pw != NULL && pw->pw_name != NULL && strlen(pw->pw_name) < 64 &&
	    strspn(pw->pw_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
	    "QRSTUVWXYZ0123456789._-") == strlen(pw->pw_name))
		snprintf(principal, sizeof(principal), "local:%s",
		    pw->pw_name);
	else
		snprintf(principal, sizeof(principal), "local:uid%u",
		    (unsigned)geteuid());
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(request_id, sizeof(request_id), rnd, sizeof(rnd));
}

int
cli_audit_open(struct vg_cli *cli, const char *dir, struct vg_vault *v,
    struct vg_audit **out)
{
	const char *wit[WITNESS_MAX];
	char *list = NULL, *tok, *save = NULL;
	unsigned char seed[VG_KEYBYTES];
	char id[33], origin[128], err[VG_ERRMSG_MAX] = "";
	struct vg_audit_opts o;
	const char *env = getenv("VIGIL_WITNESS_DIRS");
	size_t nw = 0;
	int rc;

	*out = NULL;
	identify();
	if (vg_vault_id(v, id) != 0 ||
	    vg_vault_audit_seed(v, CLI_CHAIN, seed) != 0)
		return cli_fail(cli, EXIT_DATA, "vault has no audit identity");
	snprintf(origin, sizeof(origin), "vigil.local/%s/%s", id, CLI_CHAIN);
	memset(&o, 0, sizeof(o));
	o.vault_dir = dir;
	o.chain = CLI_CHAIN;
	o.origin = origin;
	o.sign_seed = seed;
	if (env != NULL && *env != '\0') {
		list = strdup(env);
		if (list == NULL)
			return cli_fail(cli, EXIT_DATA, "out of memory");
		for (tok = strtok_r(list, ":", &save); tok != NULL &&
		    nw < WITNESS_MAX; tok = strtok_r(NULL, ":", &save))
			wit[nw++] = tok;
		o.witness_dirs = wit;
		o.nwitness_dirs = nw;
	}
	/* Remote witnesses: VIGIL_WITNESS_SYSLOG=host:port (RFC 5424 over
	 * UDP) and VIGIL_WITNESS_URL=http(s)://... (POST). */
	if (getenv("VIGIL_WITNESS_SYSLOG") != NULL ||
	    getenv("VIGIL_WITNESS_URL") != NULL) {
		const char *sl = getenv("VIGIL_WITNESS_SYSLOG");
		const char *url = getenv("VIGIL_WITNESS_URL");
		char host[64] = "-";

		(void)gethostname(host, sizeof(host) - 1);
		witness = vg_witness_new();
		if (witness == NULL ||
		    (sl != NULL && *sl != '\0' &&
		    vg_witness_add_syslog(witness, sl, host) != 0) ||
		    (url != NULL && *url != '\0' &&
		    vg_witness_add_http(witness, url) != 0)) {
			free(list);
			sodium_memzero(seed, sizeof(seed));
			vg_witness_free(witness, 0);
			witness = NULL;
			return cli_fail(cli, EXIT_USAGE, "VIGIL_WITNESS_SYSLOG "
			    "must be host:port and VIGIL_WITNESS_URL an http(s) "
			    "URL");
		}
		o.sink = vg_witness_sink;
		o.sink_ctx = witness;
	}
	rc = vg_audit_open(&o, out, err, sizeof(err));
	sodium_memzero(seed, sizeof(seed));
	free(list);
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "audit log unavailable: %s",
		    err[0] != '\0' ? err : vg_strerror(rc));
	return EXIT_OK;
}

const char *
cli_audit_principal(void)
{
	return principal;
}

const char *
cli_audit_request_id(void)
{
	return request_id;
}

int
cli_audit(struct vg_cli *cli, struct vg_audit *a, struct vg_audit_entry *e)
{
	int rc;

	if (e->principal == NULL)
		e->principal = principal;
	if (e->client == NULL)
		e->client = "cli";
	if (e->request_id == NULL)
		e->request_id = request_id;
	rc = vg_audit_append(a, e, NULL);
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "audit log unavailable (%s); "
		    "nothing was done or shown", vg_strerror(rc));
	return EXIT_OK;
}

int
cli_audit_close(struct vg_cli *cli, struct vg_audit *a, int status)
{
	struct vg_witness_stats st;
	struct vg_audit_status as;

	if (a != NULL) {
		vg_audit_status(a, &as);
		if (as.witness_failures > 0)
			fprintf(stderr, "vigil %s: warning: %llu checkpoint "
			    "deliveries to witnesses failed (see "
			    "VIGIL_WITNESS_DIRS)\n", cli->cmd,
			    (unsigned long long)as.witness_failures);
		if (as.torn_bytes > 0)
			fprintf(stderr, "vigil %s: note: the audit log's torn "
			    "tail (%llu bytes of an unfinished write) was cut\n",
			    cli->cmd, (unsigned long long)as.torn_bytes);
	}
	if (a != NULL && vg_audit_close(a) != 0 && status == EXIT_OK)
		status = cli_fail(cli, EXIT_DATA, "audit log: final checkpoint "
		    "failed");
	if (witness != NULL) {
		/* The final checkpoint is queued: give it time to leave. */
		if (vg_witness_flush(witness, 3000) != 0)
			fprintf(stderr, "vigil %s: warning: a witness did not "
			    "take the checkpoint (still retrying when the "
			    "command ended)\n", cli->cmd);
		vg_witness_stats(witness, &st);
		if (st.failed > 0)
			fprintf(stderr, "vigil %s: warning: %llu checkpoint "
			    "deliveries to witnesses failed\n", cli->cmd,
			    (unsigned long long)st.failed);
		vg_witness_free(witness, 0);
		witness = NULL;
	}
	return status;
}
