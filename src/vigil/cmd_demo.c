/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil demo DIR: the end-to-end demonstration `make demo` runs.
 *
 *   1. a vault in DIR with the simulated world's customers (200,000 by
 *      default, the project's generator), honeytokens planted among
 *      them, and the world's principals with their API keys;
 *   2. vigild started on a loopback port in simulation mode (requests
 *      carry the world's time, so a week passes in seconds and the
 *      detector sees the times the world meant);
 *   3. the world's week driven over HTTP, with a ring of vendor insiders
 *      among about 1,000 staff: a progress line and every alert as it
 *      fires (the exporters' daily files through POST /v1/exports, read
 *      to the end and discarded);
 *   4. vigild stopped, the audit log verified, and a summary: who was
 *      caught when, records taken before containment against records
 *      the same insiders would have taken with no vigil; written to
 *      reports/demo.html too.
 *
 * Keys live in sodium_malloc'd memory and are wiped; nothing personal
 * is printed (alerts name principals and audit sequence numbers only).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "vigil/audit.h"
#include "vigil/cases.h"
#include "vigil/honey.h"
#include "vigil/principal.h"
#include "vigil/schema.h"
#include "vigil/sim.h"
#include "vigil/vault.h"
#include "cli.h"
#include "mix.h"

#define WINDOW_MAX 64		/* requests in flight */
#define RESP_MAX 65536		/* bytes of one answer kept */
#define APR_MAX 4096		/* step-up requests remembered */

struct pending_apr;

struct flight {
	CURL *h;
	struct curl_slist *hdrs;
	struct vg_sim_action a;
	char url[256];
	char body[1024];
	char resp[RESP_MAX];
	size_t rlen;
	uint64_t lines;			/* an export's CSV: lines read (the
					 * file itself is not kept) */
	bool busy;
};

struct demo {
	struct vg_cli *cli;
	const char *dir;
	char policy[PATH_MAX];
	char vigild[PATH_MAX + 8];
	char vigil[PATH_MAX + 8];	/* this binary, for `vigil trace` */
	char report[PATH_MAX];
	unsigned port;
	int window;
	bool tty, quiet;
	struct vg_sim_opts so;
	struct vg_sim *w;
	const struct vg_sim_principal *pr;
	size_t npr;
	char (*keys)[VG_APIKEY_STRLEN];	/* sodium_malloc'd */
	unsigned char (*ids)[VG_IDBYTES];	/* world customer -> vault id */
	char (*cases)[VG_CASE_STRLEN];	/* world case_ref -> case id */
	size_t ncases;
	struct pending_apr *apr;
	size_t napr;
	uint32_t ticketing;		/* principal index */
	uint32_t security;		/* principal index, for reviews */
	pid_t pid;
	CURLM *multi;
	struct flight fl[WINDOW_MAX];
	uint64_t sent, done, by_result[VG_SIM_ERROR + 1];
	uint64_t exports, export_lines;	/* files received, their data rows
					 * (customers and canaries) */
	int64_t now_ns;			/* world time of the latest action */
	/* Alerts as vigild wrote them to its file sink. */
	FILE *alerts;
	uint64_t nalerts;
	json_t *alert_list;
	double t0;
	/* The security analyst's reviews: a contained principal found
	 * legitimate (the world knows) is reinstated four hours later. */
	struct review {
		uint32_t who;
		int64_t due_ns;
	} *reviews;
	size_t nreviews, reviews_cap;
	uint64_t reinstated;
	/* What the ring took (world customer indexes, distinct): the leak
	 * the demo traces at the end. */
	uint32_t *stolen;
	size_t nstolen, capstolen;
	uint8_t *stolen_seen;		/* by world customer */
	/* The trace of that leak. */
	struct {
		bool ran;
		uint64_t rows, matched, named, ring_named, innocent;
		uint64_t ring_keys;
		double secs;
	} tr;
};

#define REVIEW_NS (4 * 3600 * 1000000000ll)

/*-----------------------------------------------------------------------------
 * Set-up: vault, customers, honeytokens, principals
 */

static int
import_customers(struct demo *d, struct vg_vault *v)
{
	const struct vg_schema *sc = vg_vault_schema(v);
	struct vg_batch *b = vg_batch_new(4096);
	struct vg_gen_customer c;
	uint32_t i, base = 0;
	int rc = 0;

	if (b == NULL)
		return VG_ENOMEM;
	d->ids = calloc(d->so.customers, VG_IDBYTES);
	if (d->ids == NULL) {
		vg_batch_free(b);
		return VG_ENOMEM;
	}
	(void)vg_vault_bulk(v, true);
	if ((rc = vg_vault_begin(v)) != 0)
		goto out;
	for (i = 0; i < d->so.customers && rc == 0; i++) {
		const char *val[6];
		struct vg_input in;
		struct vg_reject rej;
		size_t k;
		int f;

		vg_sim_customer(d->w, i, &c);
		val[0] = c.name;
		val[1] = c.phone;
		val[2] = c.email;
		val[3] = c.account_id;
		val[4] = c.address;
		val[5] = c.region;
		memset(&in, 0, sizeof(in));
		for (k = 0; k < 6; k++) {
			static const char *const names[6] = { "name", "phone",
			    "email", "account_id", "address", "region" };

			if ((f = vg_schema_find(sc, names[k])) >= 0) {
				in.value[f] = val[k];
				in.len[f] = strlen(val[k]);
			}
		}
		rc = vg_vault_prepare(v, &in, b, &rej);
		if (rc == 0 && (vg_batch_full(b) || i + 1 == d->so.customers)) {
			size_t n = vg_batch_count(b), j;

			rc = vg_vault_put_batch(v, b);
			for (j = 0; rc == 0 && j < n; j++)
				memcpy(d->ids[base + j], vg_batch_id(b, j),
				    VG_IDBYTES);
			base += (uint32_t)n;
			vg_batch_reset(b);
		}
	}
	if (rc == 0)
		rc = vg_vault_commit(v);
	else
		vg_vault_rollback(v);
out:
	(void)vg_vault_bulk(v, false);
	vg_batch_free(b);
	return rc;
}

/* The world's honeytokens are customers it generated like the others
 * and never sends a legitimate case to: imported with them, then sealed
 * into the vault's honeytoken set. */
static int
adopt_honey(struct demo *d, struct vg_vault *v, size_t *n, char *err,
    size_t errcap)
{
	unsigned char (*ids)[VG_IDBYTES];
	uint32_t i;
	int rc;

	*n = 0;
	ids = calloc(d->so.honey > 0 ? d->so.honey : 1, VG_IDBYTES);
	if (ids == NULL)
		return VG_ENOMEM;
	for (i = 0; i < d->so.customers && *n < d->so.honey; i++)
		if (vg_sim_is_honey(d->w, i))
			memcpy(ids[(*n)++], d->ids[i], VG_IDBYTES);
	rc = *n > 0 ? vg_honey_adopt(v, d->dir, (const unsigned char (*)
	    [VG_IDBYTES])ids, *n, err, errcap) : 0;
	free(ids);
	return rc;
}

static int
add_principals(struct demo *d, struct vg_vault *v)
{
	size_t i;
	int rc = 0;

	d->keys = sodium_malloc(d->npr * sizeof(*d->keys));
	if (d->keys == NULL)
		return VG_ENOMEM;
	d->ticketing = UINT32_MAX;
	d->security = UINT32_MAX;
	for (i = 0; i < d->npr && rc == 0; i++) {
		const struct vg_sim_principal *p = &d->pr[i];
		struct vg_principal_spec sp;
		const char *why = NULL;

		memset(&sp, 0, sizeof(sp));
		sp.id = p->id;
		sp.org = p->org;
		sp.kind = p->kind;
		sp.role = p->role;
		sp.region = p->region;
		sp.shift = p->shift;
		rc = vg_principal_add(v, &sp, d->keys[i], &why);
		if (rc != 0)
			return cli_fail(d->cli, EXIT_DATA, "principal %s: %s",
			    p->id, why != NULL ? why : vg_strerror(rc)) ?
			    rc : rc;
		if (strcmp(p->role, "ticketing") == 0 &&
		    d->ticketing == UINT32_MAX)
			d->ticketing = (uint32_t)i;
		if (strcmp(p->role, "security") == 0 &&
		    d->security == UINT32_MAX)
			d->security = (uint32_t)i;
	}
	return rc;
}

/* The set-up's audit entries on the cli chain, as the commands it stands
 * for would write them. */
static int
audit_setup(struct demo *d, struct vg_vault *v, size_t honey)
{
	struct vg_audit *a = NULL;
	struct vg_audit_entry e;
	char detail[64];
	int status;

	if ((status = cli_audit_open(d->cli, d->dir, v, &a)) != EXIT_OK)
		return status;
	memset(&e, 0, sizeof(e));
	e.action = "import";
	e.decision = "allow";
	snprintf(detail, sizeof(detail), "customers=%u,source=demo",
	    d->so.customers);
	e.detail = detail;
	status = cli_audit(d->cli, a, &e);
	if (status == EXIT_OK) {
		e.action = "honey.plant";
		snprintf(detail, sizeof(detail), "count=%zu", honey);
		status = cli_audit(d->cli, a, &e);
	}
	if (status == EXIT_OK) {
		e.action = "principal.add";
		snprintf(detail, sizeof(detail), "principals=%zu,source=demo",
		    d->npr);
		status = cli_audit(d->cli, a, &e);
	}
	return cli_audit_close(d->cli, a, status);
}

static int
write_config(struct demo *d)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/vigild.yaml", d->dir);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fprintf(fp, "# Written by vigil demo: simulation mode, loopback only.\n"
	    "listen: 127.0.0.1:%u\nthreads: 2\npolicy: %s\n"
	    "log: { file: %s/vigild.log, requests: false }\n"
	    "alerts: { file: %s/alerts.jsonl }\n"
	    "audit: { batch_us: 1 }\n"
	    "sim: { clock: true }\n", d->port, d->policy, d->dir, d->dir);
	return fclose(fp) == 0 ? 0 : -1;
}

/*-----------------------------------------------------------------------------
 * vigild
 */

/* An answer's body: kept (bounded) for the JSON answers; an export's
 * file (200) is read to its end and only its lines counted, so no
 * customer's clear values stay in the driver's memory. */
static size_t
collect(char *ptr, size_t size, size_t n, void *ctx)
{
	struct flight *f = ctx;
	size_t len = size * n, room = sizeof(f->resp) - 1 - f->rlen, i;
	long status = 0;

	if (f->a.kind == VG_SIM_EXPORT &&
	    curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &status) ==
	    CURLE_OK && status == 200) {
		for (i = 0; i < len; i++)
			f->lines += ptr[i] == '\n';
		return len;
	}
	if (len > room)
		len = room;
	memcpy(f->resp + f->rlen, ptr, len);
	f->rlen += len;
	f->resp[f->rlen] = '\0';
	return size * n;
}

static size_t
discard(char *ptr, size_t size, size_t n, void *ctx)
{
	(void)ptr;
	(void)ctx;
	return size * n;
}

static int
healthy(struct demo *d)
{
	char url[64];
	CURL *h = curl_easy_init();
	long code = 0;

	if (h == NULL)
		return 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz", d->port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 500L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	return code == 200;
}

static int
start_vigild(struct demo *d)
{
	char cfg[PATH_MAX];
	int i;

	snprintf(cfg, sizeof(cfg), "%s/vigild.yaml", d->dir);
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		execl(d->vigild, "vigild", "--dir", d->dir, "--config", cfg,
		    (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		int st;

		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = -1;
			return -1;
		}
		if (healthy(d))
			return 0;
		usleep(50000);
	}
	return -1;
}

static int
stop_vigild(struct demo *d)
{
	int st = 0;

	if (d->pid <= 0)
		return 0;
	kill(d->pid, SIGTERM);
	if (waitpid(d->pid, &st, 0) != d->pid)
		return -1;
	d->pid = -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/*-----------------------------------------------------------------------------
 * Driving the world over HTTP
 */

static const char *const field_names[] = {
	"name", "phone", "email", "account_id", "address", "region",
};

static void
fields_json(char *out, size_t cap, uint32_t mask)
{
	size_t i, len = 0;

	len += (size_t)snprintf(out + len, cap - len, "[");
	for (i = 0; i < 6 && len < cap; i++)
		if (mask & (1u << i))
			len += (size_t)snprintf(out + len, cap - len, "%s\"%s\"",
			    len > 1 ? "," : "", field_names[i]);
	if (len < cap)
		snprintf(out + len, cap - len, "]");
}

static const char *
case_of(struct demo *d, uint32_t ref)
{
	return ref > 0 && ref < d->ncases && d->cases[ref][0] != '\0' ?
	    d->cases[ref] : NULL;
}

/* Step-up requests waiting for a supervisor: (requester, customer,
 * case) -> the approval id vigild gave, for the world's APPROVE and the
 * retried reveal. */
struct pending_apr {
	uint32_t who;
	int64_t customer;
	uint32_t case_ref;
	char id[VG_APR_STRLEN];
};

static struct pending_apr *
apr_find(struct demo *d, uint32_t who, int64_t customer, uint32_t case_ref)
{
	size_t i;

	for (i = d->napr; i-- > 0; )
		if (d->apr[i].who == who && d->apr[i].customer == customer &&
		    d->apr[i].case_ref == case_ref)
			return &d->apr[i];
	return NULL;
}

static void
apr_add(struct demo *d, uint32_t who, int64_t customer, uint32_t case_ref,
    const char *id)
{
	struct pending_apr *a = apr_find(d, who, customer, case_ref);

	if (a == NULL) {
		if (d->napr == APR_MAX)
			memmove(d->apr, d->apr + 1, --d->napr * sizeof(*a));
		a = &d->apr[d->napr++];
	}
	a->who = who;
	a->customer = customer;
	a->case_ref = case_ref;
	snprintf(a->id, sizeof(a->id), "%s", id);
}

/* http://127.0.0.1:PORT + a + b + c */
static void
set_url(struct demo *d, struct flight *f, const char *a, const char *b,
    const char *c)
{
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u%s%s%s", d->port,
	    a, b, c);
}

/* The request's headers (the key of principal who, the world's time) and
 * method on f's handle. */
static int
request(struct demo *d, struct flight *f, uint32_t who, int post)
{
	char hdr[160];

	curl_slist_free_all(f->hdrs);
	f->hdrs = NULL;
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", d->keys[who]);
	f->hdrs = curl_slist_append(f->hdrs, hdr);
	sodium_memzero(hdr, sizeof(hdr));
	snprintf(hdr, sizeof(hdr), "X-Vigil-Sim-Time: %lld",
	    (long long)f->a.t_ns);
	f->hdrs = curl_slist_append(f->hdrs, hdr);
	f->hdrs = curl_slist_append(f->hdrs, "Content-Type: application/json");
	f->hdrs = curl_slist_append(f->hdrs, "Expect:");
	if (f->hdrs == NULL)
		return -1;
	curl_easy_setopt(f->h, CURLOPT_URL, f->url);
	curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, f->hdrs);
	if (post) {
		curl_easy_setopt(f->h, CURLOPT_POST, 1L);
		curl_easy_setopt(f->h, CURLOPT_POSTFIELDS, f->body);
	} else {
		curl_easy_setopt(f->h, CURLOPT_HTTPGET, 1L);
	}
	f->rlen = 0;
	f->resp[0] = '\0';
	return 0;
}

/* Fills f's request for its action; 0, or -1 when it cannot be made
 * (its case or approval never came to be: answered as an error). */
static int
build(struct demo *d, struct flight *f)
{
	const struct vg_sim_action *a = &f->a;
	char ids[VG_ID_STRLEN], fields[128], apr[64] = "";
	const char *cid;
	uint32_t who = a->actor;
	int post = 1;

	f->body[0] = '\0';
	switch (a->kind) {
	case VG_SIM_CASE_OPEN:
		if (a->customer < 0)
			return -1;
		if (!a->self_opened)
			who = d->ticketing;
		vg_id_format(ids, d->ids[a->customer]);
		set_url(d, f, "/v1/cases", "", "");
		snprintf(f->body, sizeof(f->body), "{\"customer_id\":\"%s\","
		    "\"assignee\":\"%s\",\"channel\":\"%s\"}", ids,
		    d->pr[a->assignee].id, a->channel);
		break;
	case VG_SIM_CASE_ASSIGN:
		if ((cid = case_of(d, a->case_ref)) == NULL)
			return -1;
		who = d->ticketing;
		set_url(d, f, "/v1/cases/", cid, "/assign");
		snprintf(f->body, sizeof(f->body), "{\"assignee\":\"%s\"}",
		    d->pr[a->assignee].id);
		break;
	case VG_SIM_LOOKUP:
		if (a->phone == NULL)
			return -1;
		set_url(d, f, "/v1/lookup", "", "");
		snprintf(f->body, sizeof(f->body), "{\"phone\":\"%s\"}",
		    a->phone);
		break;
	case VG_SIM_VIEW: {
		unsigned char guess[VG_IDBYTES];

		if (a->customer >= 0) {
			vg_id_format(ids, d->ids[a->customer]);
		} else {
			/* The world's guess, as an id nobody has. */
			memset(guess, 0x5a, sizeof(guess));
			memcpy(guess, &a->guess, sizeof(a->guess));
			vg_id_format(ids, guess);
		}
		set_url(d, f, "/v1/customers/", ids, "");
		post = 0;
		break;
	}
	case VG_SIM_REVEAL:
		if (a->customer < 0)
			return -1;
		vg_id_format(ids, d->ids[a->customer]);
		set_url(d, f, "/v1/customers/", ids, "/reveal");
		fields_json(fields, sizeof(fields), a->fields);
		if (a->approved) {
			struct pending_apr *p = apr_find(d, a->actor,
			    a->customer, a->case_ref);

			if (p == NULL)
				return -1;
			snprintf(apr, sizeof(apr), ",\"approval_id\":\"%s\"",
			    p->id);
		}
		cid = case_of(d, a->case_ref);
		if (cid != NULL && !a->break_glass)
			snprintf(f->body, sizeof(f->body), "{\"fields\":%s,"
			    "\"purpose\":\"%s\",\"case_id\":\"%s\"%s}", fields,
			    a->purpose != NULL ? a->purpose : "support", cid,
			    apr);
		else
			snprintf(f->body, sizeof(f->body), "{\"fields\":%s,"
			    "\"purpose\":\"%s\",\"justification\":\"%s\"%s}",
			    fields, a->purpose != NULL ? a->purpose :
			    "support", a->justification != NULL ?
			    a->justification : "customer called back", apr);
		break;
	case VG_SIM_APPROVE: {
		struct pending_apr *p = apr_find(d, a->assignee, a->customer,
		    a->case_ref);

		if (p == NULL)
			return -1;
		set_url(d, f, "/v1/approvals/", p->id, "/approve");
		snprintf(f->body, sizeof(f->body), "{}");
		break;
	}
	case VG_SIM_CASE_CLOSE:
		if ((cid = case_of(d, a->case_ref)) == NULL)
			return -1;
		set_url(d, f, "/v1/cases/", cid, "/close");
		snprintf(f->body, sizeof(f->body), "{}");
		break;
	case VG_SIM_EXPORT:
		/* vigild picks the customers (the first in storage order):
		 * the world's own draw is for the in-process driver. */
		if (a->consumer == NULL || a->recipient == NULL ||
		    a->rows == 0)
			return -1;
		set_url(d, f, "/v1/exports", "", "");
		fields_json(fields, sizeof(fields), a->fields);
		snprintf(f->body, sizeof(f->body), "{\"consumer\":\"%s\","
		    "\"recipient\":\"%s\",\"purpose\":\"%s\",\"fields\":%s,"
		    "\"limit\":%u}", a->consumer, a->recipient,
		    a->purpose != NULL ? a->purpose : "delivery", fields,
		    a->rows);
		f->lines = 0;
		break;
	}
	return request(d, f, who, post);
}

/* The world's word for an answer. */
/* Keeps a customer the ring took (once). */
static void
note_stolen(struct demo *d, int64_t c)
{
	if (c < 0 || (uint64_t)c >= d->so.customers || d->stolen_seen == NULL ||
	    d->stolen_seen[c])
		return;
	if (d->nstolen == d->capstolen) {
		size_t cap = d->capstolen != 0 ? d->capstolen * 2 : 256;
		uint32_t *p = realloc(d->stolen, cap * sizeof(*p));

		if (p == NULL)
			return;		/* the leak is a little smaller */
		d->stolen = p;
		d->capstolen = cap;
	}
	d->stolen_seen[c] = 1;
	d->stolen[d->nstolen++] = (uint32_t)c;
}

static enum vg_sim_result
result_of(struct demo *d, struct flight *f, long status)
{
	json_t *o, *e = NULL;
	const char *code = "", *why = "";
	enum vg_sim_result r;

	if (status == 200 && f->a.kind == VG_SIM_EXPORT) {
		/* The file was read to its end: a header, then one line
		 * per customer or canary. */
		d->exports++;
		d->export_lines += f->lines > 0 ? f->lines - 1 : 0;
		return VG_SIM_OK;
	}
	if (status == 200 || status == 201) {
		if (f->a.kind == VG_SIM_CASE_OPEN &&
		    (o = json_loads(f->resp, 0, NULL)) != NULL) {
			const char *id = json_string_value(json_object_get(o,
			    "id"));

			if (id != NULL && f->a.case_ref < d->ncases)
				snprintf(d->cases[f->a.case_ref],
				    VG_CASE_STRLEN, "%s", id);
			json_decref(o);
		}
		sodium_memzero(f->resp, f->rlen);
		if (f->a.kind == VG_SIM_REVEAL && f->a.theft &&
		    f->a.strategy == VG_STRAT_RING)
			note_stolen(d, f->a.customer);
		return VG_SIM_OK;
	}
	if (status == 404)
		return VG_SIM_MISS;
	if ((o = json_loads(f->resp, 0, NULL)) != NULL &&
	    (e = json_object_get(o, "error")) != NULL) {
		code = json_string_value(json_object_get(e, "code"));
		why = json_string_value(json_object_get(e, "step_up_why"));
		code = code != NULL ? code : "";
		why = why != NULL ? why : "";
	}
	/* A step-up request is waiting, whatever its cause: remember its
	 * id. */
	if (strcmp(code, "step_up_required") == 0 && e != NULL) {
		const char *id = json_string_value(json_object_get(e,
		    "approval_id"));

		if (id != NULL)
			apr_add(d, f->a.actor, f->a.customer, f->a.case_ref, id);
	}
	if (strcmp(code, "principal_suspended") == 0 ||
	    (strcmp(code, "step_up_required") == 0 &&
	    strcmp(why, "contained") == 0))
		r = VG_SIM_CONTAINED;
	else if (strcmp(code, "step_up_required") == 0)
		r = VG_SIM_STEP_UP;
	else if (status == 403 || status == 429 || status == 409 ||
	    status == 413 || status == 422)
		r = VG_SIM_DENIED;
	else
		r = VG_SIM_ERROR;
	if (o != NULL)
		json_decref(o);
	return r;
}

static int
grow_cases(struct demo *d, uint32_t ref)
{
	size_t n = d->ncases ? d->ncases : 4096;
	char (*nc)[VG_CASE_STRLEN];

	if (ref < d->ncases)
		return 0;
	while (n <= ref)
		n *= 2;
	nc = realloc(d->cases, n * sizeof(*nc));
	if (nc == NULL)
		return -1;
	memset(nc + d->ncases, 0, (n - d->ncases) * sizeof(*nc));
	d->cases = nc;
	d->ncases = n;
	return 0;
}

static int64_t principal_index(struct demo *d, const char *id);

/* A containment of a legitimate principal is reviewed and lifted four
 * hours later; an insider's stays. */
static void
schedule_review(struct demo *d, const char *who, const char *ts,
    const char *containment)
{
	int64_t i, t;

	if (who == NULL || ts == NULL || containment == NULL ||
	    strcmp(containment, "none") == 0 ||
	    (i = principal_index(d, who)) < 0 ||
	    d->pr[i].strategy != VG_STRAT_NONE ||
	    cli_parse_time(ts, &t) != 0)
		return;
	if (d->nreviews == d->reviews_cap) {
		size_t cap = d->reviews_cap ? d->reviews_cap * 2 : 64;
		struct review *nr = realloc(d->reviews, cap * sizeof(*nr));

		if (nr == NULL)
			return;
		d->reviews = nr;
		d->reviews_cap = cap;
	}
	d->reviews[d->nreviews].who = (uint32_t)i;
	d->reviews[d->nreviews].due_ns = t + REVIEW_NS;
	d->nreviews++;
}

static int64_t
principal_index(struct demo *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->npr; i++)
		if (strcmp(d->pr[i].id, id) == 0)
			return (int64_t)i;
	return -1;
}

/* Reviews due by the world's time now: POST .../reinstate as security. */
static void
run_reviews(struct demo *d, int64_t now)
{
	size_t i = 0;

	while (i < d->nreviews) {
		struct flight f;

		if (d->reviews[i].due_ns > now || d->security == UINT32_MAX) {
			i++;
			continue;
		}
		memset(&f, 0, sizeof(f));
		if ((f.h = curl_easy_init()) != NULL) {
			long status = 0;

			f.a.t_ns = now;
			set_url(d, &f, "/v1/principals/",
			    d->pr[d->reviews[i].who].id, "/reinstate");
			snprintf(f.body, sizeof(f.body), "{\"reason\":"
			    "\"reviewed-legitimate\"}");
			curl_easy_setopt(f.h, CURLOPT_WRITEFUNCTION, discard);
			if (request(d, &f, d->security, 1) == 0 &&
			    curl_easy_perform(f.h) == CURLE_OK)
				curl_easy_getinfo(f.h, CURLINFO_RESPONSE_CODE,
				    &status);
			d->reinstated += status == 200;
			curl_slist_free_all(f.hdrs);
			curl_easy_cleanup(f.h);
		}
		d->reviews[i] = d->reviews[--d->nreviews];
	}
}

/* New alerts in vigild's file sink: printed and kept for the report. */
static void
poll_alerts(struct demo *d)
{
	char line[8192];

	if (d->alerts == NULL) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/alerts.jsonl", d->dir);
		if ((d->alerts = fopen(path, "r")) == NULL)
			return;
	}
	clearerr(d->alerts);
	while (fgets(line, sizeof(line), d->alerts) != NULL) {
		json_t *o = json_loads(line, 0, NULL), *v;
		const char *who, *sev, *rule, *msg, *ts;

		if (o == NULL)
			continue;
		d->nalerts++;
		v = json_object_get(o, "vigil");
		who = json_string_value(json_object_get(json_object_get(o,
		    "user"), "id"));
		sev = json_string_value(json_object_get(v, "severity"));
		rule = json_string_value(json_object_get(json_object_get(o,
		    "rule"), "name"));
		msg = json_string_value(json_object_get(o, "message"));
		ts = json_string_value(json_object_get(o, "@timestamp"));
		if (!d->quiet)
			fprintf(stderr, "%s  ALERT %-8s %-22s %-14s %.100s\n",
			    d->tty ? "\r\033[K" : "", sev ? sev : "?",
			    who ? who : "?", rule ? rule : "?",
			    msg ? msg : "");
		schedule_review(d, who, ts, json_string_value(json_object_get(v,
		    "containment")));
		json_array_append_new(d->alert_list, o);
	}
}

static void
progress(struct demo *d, bool final)
{
	static double last;
	double now = cli_seconds();
	int64_t start = d->so.start * 1000000000ll;
	double frac = d->so.days > 0 ? (double)(d->now_ns - start) /
	    (d->so.days * 86400e9) : 0;
	char bar[41];
	int i, fill;

	static int last_day = -1;
	int day = (int)((d->now_ns - start) / 86400000000000ll);

	if (!final && now - last < 0.2)
		return;
	last = now;
	poll_alerts(d);
	if (d->quiet)
		return;
	if (!d->tty && !final) {
		if (day == last_day)
			return;
		last_day = day;
	}
	if (frac < 0)
		frac = 0;
	if (frac > 1)
		frac = 1;
	fill = (int)(frac * 40);
	for (i = 0; i < 40; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[40] = '\0';
	fprintf(stderr, "%s[%s] day %d %02d:%02d  %llu requests  %llu "
		    "alerts  %.0f s%s", d->tty ? "\r\033[K" : "", bar,
		    (int)((d->now_ns - start) / 86400000000000ll) + 1,
		    (int)((d->now_ns / 3600000000000ll) % 24),
		    (int)((d->now_ns / 60000000000ll) % 60),
		    (unsigned long long)d->done,
		    (unsigned long long)d->nalerts, now - d->t0,
		    final || !d->tty ? "\n" : "");
}

static int
drive(struct demo *d)
{
	bool more = true;
	int i, running;

	d->multi = curl_multi_init();
	if (d->multi == NULL)
		return -1;
	for (i = 0; i < d->window; i++) {
		d->fl[i].h = curl_easy_init();
		if (d->fl[i].h == NULL)
			return -1;
		curl_easy_setopt(d->fl[i].h, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(d->fl[i].h, CURLOPT_WRITEDATA, &d->fl[i]);
		curl_easy_setopt(d->fl[i].h, CURLOPT_PRIVATE, &d->fl[i]);
		curl_easy_setopt(d->fl[i].h, CURLOPT_TIMEOUT_MS, 30000L);
		curl_easy_setopt(d->fl[i].h, CURLOPT_TCP_NODELAY, 1L);
	}
	d->t0 = cli_seconds();
	for (;;) {
		CURLMsg *m;
		int left;

		/* Fill the window with the world's next actions. */
		for (i = 0; more && i < d->window; i++) {
			struct flight *f = &d->fl[i];

			if (f->busy)
				continue;
			if (vg_sim_next(d->w, &f->a) != 1) {
				more = false;
				break;
			}
			d->now_ns = f->a.t_ns;
			if (d->nreviews > 0)
				run_reviews(d, d->now_ns);
			if (f->a.kind == VG_SIM_CASE_OPEN &&
			    grow_cases(d, f->a.case_ref) != 0)
				return -1;
			if (build(d, f) != 0) {
				vg_sim_outcome(d->w, &f->a, VG_SIM_ERROR);
				d->by_result[VG_SIM_ERROR]++;
				continue;
			}
			f->busy = true;
			d->sent++;
			curl_multi_add_handle(d->multi, f->h);
		}
		curl_multi_perform(d->multi, &running);
		while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
			struct flight *f;
			long status = 0;
			enum vg_sim_result r;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&f);
			curl_easy_getinfo(m->easy_handle,
			    CURLINFO_RESPONSE_CODE, &status);
			r = m->data.result == CURLE_OK ? result_of(d, f, status)
			    : VG_SIM_ERROR;
			curl_multi_remove_handle(d->multi, m->easy_handle);
			vg_sim_outcome(d->w, &f->a, r);
			d->by_result[r]++;
			d->done++;
			f->busy = false;
		}
		progress(d, false);
		if (!more && running == 0) {
			for (i = 0; i < d->window && !d->fl[i].busy; i++)
				;
			if (i == d->window)
				break;
		}
		if (running > 0)
			curl_multi_poll(d->multi, NULL, 0, 50, NULL);
	}
	for (i = 0; i < d->window; i++) {
		curl_slist_free_all(d->fl[i].hdrs);
		curl_easy_cleanup(d->fl[i].h);
	}
	curl_multi_cleanup(d->multi);
	return 0;
}

/*-----------------------------------------------------------------------------
 * Leak tracing: the ring's loot, found for sale
 */

#define LEAK_ROWS 300

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Writes up to LEAK_ROWS of the ring's customers as a dealer would sell
 * them: a row number, the name, the phone as generated (some with a
 * 0086 prefix added), a remark, a Chinese header.  Returns the rows. */
static size_t
write_leak(struct demo *d, const char *path)
{
	struct vg_gen_customer gc;
	uint64_t s = d->so.seed * 0x9e3779b97f4a7c15ull + 1;
	size_t n = d->nstolen, i;
	FILE *fp;

	if (n == 0)
		return 0;	/* d->stolen may be NULL */

	/* A deterministic sample, then in index order (the generator
	 * regenerates customers fastest in increasing order). */
	for (i = 0; i < n && i < LEAK_ROWS; i++) {
		size_t j;
		uint32_t t;

		j = i + (size_t)(splitmix64(&s) % (n - i));
		t = d->stolen[i];
		d->stolen[i] = d->stolen[j];
		d->stolen[j] = t;
	}
	n = i;
	qsort(d->stolen, n, sizeof(*d->stolen), cmp_u32);
	if ((fp = fopen(path, "w")) == NULL)
		return 0;
	fprintf(fp, "序号,姓名,手机号,备注\n");
	for (i = 0; i < n; i++) {
		vg_sim_customer(d->w, d->stolen[i], &gc);
		fprintf(fp, "%zu,%s,%s%s,%s\n", i + 1, gc.name,
		    i % 3 == 0 && gc.phone[0] == '1' ? "0086 " : "", gc.phone,
		    i % 2 ? "VIP" : "");
	}
	sodium_memzero(&gc, sizeof(gc));
	if (fclose(fp) != 0)
		return 0;
	return n;
}

/* Runs argv, returns its standard output (malloc'd, at most cap bytes)
 * or NULL. */
static char *
capture(char *const argv[], size_t cap)
{
	char *buf = malloc(cap + 1);
	size_t len = 0;
	int fds[2], st;
	pid_t pid;
	ssize_t r;

	if (buf == NULL || pipe(fds) != 0) {
		free(buf);
		return NULL;
	}
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		free(buf);
		return NULL;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);

		dup2(fds[1], 1);
		if (nul >= 0)
			dup2(nul, 2);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while ((r = read(fds[0], buf + len, cap - len)) > 0 && len < cap)
		len += (size_t)r;
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* Is id a key the ring used?  Its members' own keys: the dismissed one
 * works through a colleague's, who is a member too. */
static bool
ring_key(const struct demo *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->npr; i++)
		if (d->pr[i].strategy == VG_STRAT_RING && !d->pr[i].dismissed &&
		    strcmp(d->pr[i].id, id) == 0)
			return true;
	return false;
}

/* Writes the ring's leak, traces it with `vigil trace`, keeps the
 * counts.  A failure is reported, not fatal: the week has run. */
static void
trace_leak(struct demo *d)
{
	char leak[PATH_MAX + 16], html[PATH_MAX + 16], dir[PATH_MAX], *out;
	char *argv[] = { d->vigil, "trace", dir, leak, "--json", "--html",
	    html, "--evidence", "3", NULL };
	json_t *rep, *su;
	double t0 = cli_seconds();
	size_t i;

	snprintf(dir, sizeof(dir), "%s", d->dir);
	snprintf(leak, sizeof(leak), "%s/leak.csv", d->dir);
	snprintf(html, sizeof(html), "%s/trace.html", d->dir);
	if ((d->tr.rows = write_leak(d, leak)) == 0) {
		fprintf(stderr, "vigil demo: the ring took nothing to leak\n");
		return;
	}
	for (i = 0; i < d->npr; i++)
		if (d->pr[i].strategy == VG_STRAT_RING && !d->pr[i].dismissed)
			d->tr.ring_keys++;
	if ((out = capture(argv, 64u << 20)) == NULL) {
		fprintf(stderr, "vigil demo: vigil trace failed (run it: "
		    "vigil trace %s %s)\n", d->dir, leak);
		return;
	}
	rep = json_loads(out, 0, NULL);
	free(out);
	if (rep == NULL)
		return;
	d->tr.ran = true;
	d->tr.secs = cli_seconds() - t0;
	d->tr.matched = (uint64_t)json_integer_value(json_object_get(rep,
	    "matched"));
	su = json_object_get(rep, "suspects");
	for (i = 0; i < json_array_size(su); i++) {
		json_t *s = json_array_get(su, i);
		const char *who = json_string_value(json_object_get(s,
		    "principal"));

		if (!json_is_true(json_object_get(s, "named")) || who == NULL)
			continue;
		d->tr.named++;
		if (ring_key(d, who))
			d->tr.ring_named++;
		else
			d->tr.innocent++;
	}
	json_decref(rep);
}

/*-----------------------------------------------------------------------------
 * Summary and report
 */

/* The first alert naming principal id: its time (0 none) and words. */
static int64_t
first_alert(struct demo *d, const char *id, const char **rule)
{
	size_t i;

	for (i = 0; i < json_array_size(d->alert_list); i++) {
		json_t *o = json_array_get(d->alert_list, i);
		const char *who = json_string_value(json_object_get(
		    json_object_get(o, "user"), "id"));
		int64_t t;

		if (who == NULL || strcmp(who, id) != 0)
			continue;
		if (cli_parse_time(json_string_value(json_object_get(o,
		    "@timestamp")), &t) != 0)
			continue;
		*rule = json_string_value(json_object_get(json_object_get(o,
		    "rule"), "name"));
		return t;
	}
	return 0;
}

static void
hours(char *out, size_t cap, int64_t from_ns, int64_t to_ns)
{
	if (from_ns == 0 || to_ns == 0)
		snprintf(out, cap, "-");
	else
		snprintf(out, cap, "%.1f h", (double)(to_ns - from_ns) / 3.6e12);
}

struct tally {
	uint32_t insiders, alerted, contained;
	uint64_t taken, would;
	uint32_t false_alerts;
};

static void
summarize(struct demo *d, FILE *out, FILE *html, struct tally *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	if (html != NULL)
		fprintf(html, "<table><tr><th>principal</th><th>org</th>"
		    "<th>strategy</th><th>first alert after</th><th>contained "
		    "after</th><th>records taken</th><th>without vigil</th>"
		    "</tr>\n");
	if (out != NULL)
		fprintf(out, "\n%-22s %-12s %-10s %-12s %-12s %8s %8s\n",
		    "principal", "org", "strategy", "alerted", "contained",
		    "taken", "no vigil");
	for (i = 0; i < d->npr; i++) {
		const struct vg_sim_principal *p = &d->pr[i];
		struct vg_sim_truth tr;
		const char *rule = "";
		char a1[32], a2[32];
		int64_t fa = first_alert(d, p->id, &rule);

		if (p->strategy == VG_STRAT_NONE) {
			if (fa != 0)
				t->false_alerts++;
			continue;
		}
		vg_sim_truth(d->w, (uint32_t)i, &tr);
		t->insiders++;
		t->alerted += fa != 0;
		t->contained += tr.contained_ns != 0;
		t->taken += tr.taken;
		t->would += tr.would_take;
		hours(a1, sizeof(a1), tr.first_action_ns, fa);
		hours(a2, sizeof(a2), tr.first_action_ns, tr.contained_ns);
		if (out != NULL)
			fprintf(out, "%-22s %-12s %-10s %-12s %-12s %8llu "
			    "%8llu%s\n", p->id, p->org,
			    vg_strategy_name(p->strategy), a1, a2,
			    (unsigned long long)tr.taken,
			    (unsigned long long)tr.would_take, p->dismissed ?
			    "  (dismissed; through a colleague)" : "");
		if (html != NULL)
			fprintf(html, "<tr><td>%s</td><td>%s</td><td>%s</td>"
			    "<td>%s</td><td>%s</td><td>%llu</td><td>%llu</td>"
			    "</tr>\n", p->id, p->org,
			    vg_strategy_name(p->strategy), a1, a2,
			    (unsigned long long)tr.taken,
			    (unsigned long long)tr.would_take);
	}
	if (html != NULL)
		fprintf(html, "</table>\n");
}

static int
verify_log(struct demo *d)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;
	int st;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(self, "vigil", "audit", "verify", d->dir, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void
write_report(struct demo *d, const struct tally *t, int verified,
    double secs)
{
	FILE *fp;
	struct tally dummy;
	size_t i;

	if ((fp = fopen(d->report, "w")) == NULL) {
		fprintf(stderr, "vigil demo: cannot write %s: %s\n", d->report,
		    strerror(errno));
		return;
	}
	fprintf(fp, "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>vigil demo</title><style>body{font-family:sans-serif;"
	    "max-width:60em;margin:2em auto}table{border-collapse:collapse}"
	    "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}"
	    "</style></head><body>\n<h1>vigil demo</h1>\n<p>A simulated "
	    "%u-day week: %zu principals, %u customers, seed %llu, driven "
	    "over HTTP against vigild in %.0f s (%llu requests). Every "
	    "number below was measured in this run.</p>\n", d->so.days,
	    d->npr, d->so.customers, (unsigned long long)d->so.seed, secs,
	    (unsigned long long)d->done);
	fprintf(fp, "<h2>Insiders</h2>\n<p>%u insiders; %u alerted, %u "
	    "contained. Records they took: %llu with vigil; %llu as their "
	    "strategies would have run with no vigil. False alerts on the "
	    "other principals: %u.</p>\n<p>The exporters' delivery labels: "
	    "%llu exports for the courier, %llu rows (customers and "
	    "canaries), each file read and discarded.</p>\n", t->insiders,
	    t->alerted, t->contained, (unsigned long long)t->taken,
	    (unsigned long long)t->would, t->false_alerts,
	    (unsigned long long)d->exports,
	    (unsigned long long)d->export_lines);
	summarize(d, NULL, fp, &dummy);
	fprintf(fp, "<h2>Alerts</h2>\n<table><tr><th>time</th><th>principal"
	    "</th><th>severity</th><th>rule</th><th>containment</th><th>"
	    "top signal</th></tr>\n");
	for (i = 0; i < json_array_size(d->alert_list); i++) {
		json_t *o = json_array_get(d->alert_list, i);
		json_t *v = json_object_get(o, "vigil");

		fprintf(fp, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
		    "<td>%s</td><td>%s</td></tr>\n",
		    json_string_value(json_object_get(o, "@timestamp")),
		    json_string_value(json_object_get(json_object_get(o,
		    "user"), "id")),
		    json_string_value(json_object_get(v, "severity")),
		    json_string_value(json_object_get(json_object_get(o,
		    "rule"), "name")),
		    json_string_value(json_object_get(v, "containment")),
		    json_string_value(json_object_get(o, "message")));
	}
	fprintf(fp, "</table>\n<h2>Audit log</h2>\n<p>vigil audit verify: "
	    "%s.</p>\n<h2>Leak tracing</h2>\n", verified ? "every chain "
	    "verified (hash chain, MACs, signed checkpoints)" : "FAILED");
	if (d->tr.ran)
		fprintf(fp, "<p>%llu of the customers the ring took, written as "
		    "a dealer would sell them (leak.csv: a Chinese header, row "
		    "numbers, mixed phone formats), traced with <code>vigil "
		    "trace</code> in %.1f s: %llu rows matched; %llu principals "
		    "named, %llu of them keys the ring used (of %llu; the "
		    "dismissed member works through a colleague's), %llu "
		    "innocent. The evidence, each audit entry with its "
		    "inclusion proof: <a href=\"trace.html\">trace.html</a>."
		    "</p>\n", (unsigned long long)d->tr.rows, d->tr.secs,
		    (unsigned long long)d->tr.matched,
		    (unsigned long long)d->tr.named,
		    (unsigned long long)d->tr.ring_named,
		    (unsigned long long)d->tr.ring_keys,
		    (unsigned long long)d->tr.innocent);
	else
		fprintf(fp, "<p>Not run: the ring took nothing, or the trace "
		    "failed (see the terminal).</p>\n");
	fprintf(fp, "</body></html>\n");
	fclose(fp);
}

/*-----------------------------------------------------------------------------
 * The command
 */

static unsigned
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* 00:00 UTC of the Monday after now: the world's week starts after the
 * log's first real-time entries, so its times never go backwards. */
static int64_t
next_monday(void)
{
	int64_t now = (int64_t)time(NULL), day = now / 86400 + 1;

	while ((day + 3) % 7 != 0)	/* 1970-01-01 was a Thursday */
		day++;
	return day * 86400;
}

static void
step(struct demo *d, const char *what, double t0)
{
	if (!d->quiet)
		fprintf(stderr, "vigil demo: %s (%.1f s)\n", what, cli_seconds() - t0);
}

int
cmd_demo(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "customers", required_argument, NULL, 'c' },
		{ "days", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "ring", required_argument, NULL, 'r' },
		{ "principals", required_argument, NULL, 'n' },
		{ "policy", required_argument, NULL, 'p' },
		{ "report", required_argument, NULL, 'o' },
		{ "window", required_argument, NULL, 'w' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct demo d;
	struct vg_vault *v = NULL;
	struct tally t;
	char err[512], self[PATH_MAX], *slash;
	unsigned long long n;
	size_t planted = 0;
	double t0 = cli_seconds();
	ssize_t sl;
	int c, rc, status = EXIT_OK, verified;

	memset(&d, 0, sizeof(d));
	d.cli = cli;
	d.so.seed = 2026;
	d.so.customers = 200000;
	d.so.days = 7;
	d.so.insiders[VG_STRAT_RING] = 1;
	d.so.ring_size = 20;
	d.so.honey = 0;		/* below: one per 1,000 customers */
	d.window = 1;
	d.pid = -1;
	snprintf(d.policy, sizeof(d.policy), "etc/sim-policy.yaml");
	snprintf(d.report, sizeof(d.report), "reports/demo.html");
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
		case 'd':
		case 's':
		case 'r':
		case 'n':
		case 'w':
			if (cli_parse_u64(optarg, &n) != 0 || n == 0 ||
			    (c == 'c' && n > 10000000) || (c == 'd' && n > 60) ||
			    (c == 'r' && n > 200) || (c == 'n' && (n <
			    VG_SIM_PRINCIPALS_MIN || n > VG_SIM_PRINCIPALS_MAX)) ||
			    (c == 'w' && n > WINDOW_MAX))
				return cli_usage(cli, "--%s: not a number in "
				    "range: %s", c == 'c' ? "customers" : c == 'd'
				    ? "days" : c == 's' ? "seed" : c == 'r' ?
				    "ring" : c == 'n' ? "principals" : "window", optarg);
			if (c == 'c')
				d.so.customers = (uint32_t)n;
			else if (c == 'd')
				d.so.days = (uint32_t)n;
			else if (c == 's')
				d.so.seed = n;
			else if (c == 'r')
				d.so.ring_size = (uint32_t)n;
			else if (c == 'n')
				d.so.principals = (uint32_t)n;
			else
				d.window = (int)n;
			break;
		case 'p':
			snprintf(d.policy, sizeof(d.policy), "%s", optarg);
			break;
		case 'o':
			snprintf(d.report, sizeof(d.report), "%s", optarg);
			break;
		case 'q':
			d.quiet = true;
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (optind != argc - 1)
		return cli_usage(cli, "expected one directory for the demo's "
		    "vault (it must not exist yet)");
	d.dir = argv[optind];
	if (access(d.dir, F_OK) == 0)
		return cli_fail(cli, EXIT_USAGE, "%s exists: the demo makes a "
		    "new vault; give a new directory", d.dir);
	if (access(d.policy, R_OK) != 0)
		return cli_fail(cli, EXIT_USAGE, "policy %s: %s (run from the "
		    "source tree, or give --policy)", d.policy, strerror(errno));
	if (realpath(d.policy, self) != NULL)
		snprintf(d.policy, sizeof(d.policy), "%s", self);
	sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0)
		return cli_fail(cli, EXIT_DATA, "cannot find my own binary");
	self[sl] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	if (strlen(self) + sizeof("/vigild") > sizeof(d.vigild))
		return cli_fail(cli, EXIT_DATA, "my own path is too long");
	memcpy(d.vigild, self, strlen(self));
	memcpy(d.vigild + strlen(self), "/vigild", sizeof("/vigild"));
	memcpy(d.vigil, self, strlen(self));
	memcpy(d.vigil + strlen(self), "/vigil", sizeof("/vigil"));
	if (access(d.vigild, X_OK) != 0)
		return cli_fail(cli, EXIT_DATA, "%s: %s", d.vigild,
		    strerror(errno));
	d.tty = cli_tty();
	if (d.so.honey == 0)
		d.so.honey = d.so.customers / 1000 > 0 ? d.so.customers / 1000 :
		    1;
	d.so.start = next_monday();
	if ((d.alert_list = json_array()) == NULL ||
	    (d.apr = calloc(APR_MAX, sizeof(*d.apr))) == NULL ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return cli_fail(cli, EXIT_DATA, "out of memory");

	/* 1. The world and its vault. */
	if (vg_sim_new(&d.so, &d.w, err, sizeof(err)) != 0)
		return cli_fail(cli, EXIT_DATA, "world: %s", err);
	d.pr = vg_sim_principals(d.w, &d.npr);
	if ((d.stolen_seen = calloc(d.so.customers, 1)) == NULL) {
		status = cli_fail(cli, EXIT_DATA, "out of memory");
		goto out;
	}
	if (vg_vault_create(d.dir, NULL, err, sizeof(err)) != 0 ||
	    vg_vault_open(d.dir, &v, err, sizeof(err)) != 0) {
		status = cli_fail(cli, EXIT_DATA, "vault: %s", err);
		goto out;
	}
	if ((rc = import_customers(&d, v)) != 0) {
		status = cli_fail(cli, EXIT_DATA, "customers: %s",
		    vg_strerror(rc));
		goto out;
	}
	step(&d, "vault created, customers imported", t0);
	if ((rc = adopt_honey(&d, v, &planted, err, sizeof(err))) != 0) {
		status = cli_fail(cli, EXIT_DATA, "honeytokens: %s", err);
		goto out;
	}
	if ((rc = add_principals(&d, v)) != 0) {
		status = EXIT_DATA;
		goto out;
	}
	if ((status = audit_setup(&d, v, planted)) != EXIT_OK)
		goto out;
	vg_vault_close(v);
	v = NULL;
	if (!d.quiet)
		fprintf(stderr, "vigil demo: %zu honeytokens planted, %zu "
		    "principals with API keys (%.1f s)\n", planted, d.npr,
		    cli_seconds() - t0);

	/* 2. vigild, simulation mode. */
	d.port = free_port();
	if (d.port == 0 || write_config(&d) != 0 || start_vigild(&d) != 0) {
		status = cli_fail(cli, EXIT_DATA, "vigild did not start (see "
		    "%s/vigild.log)", d.dir);
		goto out;
	}
	step(&d, "vigild listening (simulated clock)", t0);

	/* 3. The week. */
	if (drive(&d) != 0) {
		status = cli_fail(cli, EXIT_DATA, "the HTTP driver failed");
		goto out;
	}
	progress(&d, true);

	/* 4. Stop, verify, summarize. */
	if (stop_vigild(&d) != 0)
		fprintf(stderr, "vigil demo: vigild did not stop cleanly\n");
	poll_alerts(&d);
	verified = verify_log(&d) == 0;
	summarize(&d, stdout, NULL, &t);
	printf("\n%u insiders: %u alerted, %u contained; they took %llu "
	    "records with vigil, %llu as their strategies would have run "
	    "with no vigil.\nFalse alerts on the other %zu principals: %u "
	    "(%llu reinstated after a review).\n"
	    "Exports for the courier: %llu files, %llu rows (customers and "
	    "canaries).\n"
	    "Audit log: %s.\n",
	    t.insiders, t.alerted, t.contained, (unsigned long long)t.taken,
	    (unsigned long long)t.would, d.npr - t.insiders, t.false_alerts,
	    (unsigned long long)d.reinstated,
	    (unsigned long long)d.exports,
	    (unsigned long long)d.export_lines,
	    verified ? "verified (vigil audit verify)" : "VERIFY FAILED");
	trace_leak(&d);
	if (d.tr.ran)
		printf("Leak tracing: %llu of the ring's stolen customers, "
		    "found for sale (%s/leak.csv), traced in %.1f s: %llu "
		    "principals named, %llu of them keys the ring used (of "
		    "%llu), %llu innocent.  Evidence: %s/trace.html\n",
		    (unsigned long long)d.tr.rows, d.dir, d.tr.secs,
		    (unsigned long long)d.tr.named,
		    (unsigned long long)d.tr.ring_named,
		    (unsigned long long)d.tr.ring_keys,
		    (unsigned long long)d.tr.innocent, d.dir);
	write_report(&d, &t, verified, cli_seconds() - d.t0);
	printf("Report: %s  (%.0f s in all)\n", d.report, cli_seconds() - t0);
	if (!verified)
		status = EXIT_DATA;
out:
	if (d.pid > 0)
		(void)stop_vigild(&d);
	if (v != NULL)
		vg_vault_close(v);
	if (d.keys != NULL)
		sodium_free(d.keys);
	free(d.ids);
	free(d.cases);
	free(d.apr);
	free(d.reviews);
	free(d.stolen);
	free(d.stolen_seen);
	if (d.alerts != NULL)
		fclose(d.alerts);
	json_decref(d.alert_list);
	vg_sim_free(d.w);
	curl_global_cleanup();
	return status;
}
