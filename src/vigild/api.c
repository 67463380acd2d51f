/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request path: route, limits, authenticate, parse, decide, act,
 * audit, answer.
 *
 * Every request that touches customer data or changes state is answered
 * only after its audit entries are durable: the handler prepares the
 * whole answer in a `struct pending` and returns to the event loop; at
 * the end of the loop turn api_flush() hands every entry of the turn to
 * the audit writer in one vg_audit_submit().  The writer's callback posts
 * the batch back to this worker's queue; api_on_done() then sends each
 * answer, or a 503 with nothing in it when the log could not write
 * (fail closed).  Answers that hold personal
 * values (clear or masked) live in buffers that are wiped when freed,
 * including the copy h2o sends from.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <jansson.h>
#include <sodium.h>

#include "vigil/alertdb.h"
#include "vigil/cases.h"
#include "vigil/crypto.h"
#include "vigil/export.h"
#include "vigil/trace.h"
#include "vigil/principal.h"
#include "vigil/shift.h"
#include "vigil/vault.h"
#include "body.h"
#include "vigild.h"

#define ENTRIES_MAX VG_LOOKUP_MAX

/* A growing output buffer whose old copies are wiped. */
struct jb {
	char *buf;
	size_t len, cap;
	int oom;
};

/* One request while it is handled on the worker. */
struct rq {
	struct worker *w;
	struct server *s;
	h2o_req_t *req;
	struct route_match m;
	struct polref *pol;
	struct vg_principal who;
	bool authed;
	char request_id[33];
	char client[64];
	int64_t t0;			/* monotonic ns */
	int64_t now;			/* unix seconds */
};

/* An answer waiting for its audit entries. */
struct pending {
	struct pending *next;		/* in the worker's batch */
	struct worker *w;
	h2o_req_t *req;			/* NULL once h2o dropped it */
	struct pending **anchor;	/* in req->pool: points back here */
	enum route_id route;
	int64_t t0, t_submit;
	int rc;				/* the audit's verdict */
	int status;
	char code[40];			/* error code, "" on success */
	char principal[VG_PRINCIPAL_ID_MAX + 1];
	char request_id[33];
	long retry_after;		/* > 0: send Retry-After */
	struct jb body;
	size_t n;
	struct vg_audit_entry e[ENTRIES_MAX];
	unsigned char customer[ENTRIES_MAX][VG_IDBYTES];
	unsigned char probe[VG_PROBEBYTES];
	char action[32];
	char fields[256];
	char purpose[VG_PURPOSE_MAX + 1];
	char case_id[VG_CASE_STRLEN];
	char decision[16];
	char reason[40];
	char detail[VG_AUDIT_STR_MAX + 1];
	/* Each entry's customer region (for the detector), and its detail
	 * with ",region=XX" added when there is one. */
	char region[ENTRIES_MAX][8];
	char edetail[ENTRIES_MAX][VG_AUDIT_STR_MAX + 1];
	char client[64];
	char field[48];			/* an error's field, or "" */
	/*
	 * A change of state (a case, an approval, a principal) is made
	 * only once its audit entry is durable: apply() runs on the worker
	 * in api_on_done, makes the change and writes the answer.
	 */
	void (*apply)(struct worker *w, struct pending *p);
	int64_t now;
	char target[VG_PRINCIPAL_ID_MAX + 1];	/* assignee, principal */
	char spent[VG_APR_STRLEN];		/* approval a reveal used */
	char item[VG_CASE_STRLEN];		/* case or approval id */
	bool flag;				/* approve / suspend */
	struct vg_case kase;			/* a case to open */
};

/*-----------------------------------------------------------------------------
 * Output
 */

static void
jb_reserve(struct jb *b, size_t more)
{
	size_t cap;
	char *nb;

	if (b->oom || b->len + more + 1 <= b->cap)
		return;
	cap = b->cap == 0 ? 2048 : b->cap;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((nb = malloc(cap)) == NULL) {
		b->oom = 1;
		return;
	}
	if (b->buf != NULL) {
		memcpy(nb, b->buf, b->len);
		sodium_memzero(b->buf, b->cap);
		free(b->buf);
	}
	b->buf = nb;
	b->cap = cap;
}

static void
jb_raw(struct jb *b, const char *s, size_t n)
{
	jb_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void
jb_str(struct jb *b, const char *s)
{
	jb_raw(b, s, strlen(s));
}

/* A JSON string; s is valid UTF-8 (canonical values, ids, codes). */
static void
jb_quote(struct jb *b, const char *s, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i;

	jb_reserve(b, n * 6 + 2);
	if (b->oom)
		return;
	b->buf[b->len++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			b->buf[b->len++] = '\\';
			b->buf[b->len++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(b->buf + b->len, "\\u00", 4);
			b->buf[b->len + 4] = hexd[c >> 4];
			b->buf[b->len + 5] = hexd[c & 15];
			b->len += 6;
		} else {
			b->buf[b->len++] = (char)c;
		}
	}
	b->buf[b->len++] = '"';
	b->buf[b->len] = '\0';
}

static void jb_fmt(struct jb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Formatted text that holds no personal value (numbers, codes). */
static void
jb_fmt(struct jb *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		jb_raw(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

static void
jb_free(struct jb *b)
{
	if (b->buf != NULL) {
		sodium_memzero(b->buf, b->cap);
		free(b->buf);
	}
	memset(b, 0, sizeof(*b));
}

/* Memory in req->pool that is wiped when h2o frees the request. */
struct wiped {
	size_t len;
	char data[];
};

static void
wiped_dispose(void *p)
{
	struct wiped *w = p;

	sodium_memzero(w->data, w->len);
}

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/* Sends status and body[0..len) (copied into wiped request memory). */
static void
send_body(struct worker *w, h2o_req_t *req, enum route_id route,
    int64_t t0, int status, const char *ctype, const char *body, size_t len,
    const char *request_id, const char *principal, const char *code,
    long retry_after)
{
	static h2o_generator_t gen = { NULL, NULL };
	struct wiped *wb;
	h2o_iovec_t iov;
	char ra[24];
	int64_t us;

	wb = h2o_mem_alloc_shared(&req->pool, sizeof(*wb) + len + 1,
	    wiped_dispose);
	wb->len = len;
	memcpy(wb->data, body, len);
	wb->data[len] = '\0';
	req->res.status = status;
	req->res.reason = reason_phrase(status);
	req->res.content_length = len;
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
	    NULL, ctype, strlen(ctype));
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL,
	    NULL, H2O_STRLIT("no-store"));
	if (request_id != NULL && request_id[0] != '\0')
		h2o_add_header_by_str(&req->pool, &req->res.headers,
		    H2O_STRLIT("x-request-id"), 0, NULL,
		    h2o_strdup(&req->pool, request_id, SIZE_MAX).base,
		    strlen(request_id));
	if (status == 401)
		h2o_add_header(&req->pool, &req->res.headers,
		    H2O_TOKEN_WWW_AUTHENTICATE, NULL,
		    H2O_STRLIT("Bearer realm=\"vigil\""));
	if (retry_after > 0) {
		int n = snprintf(ra, sizeof(ra), "%ld", retry_after);

		h2o_add_header(&req->pool, &req->res.headers,
		    H2O_TOKEN_RETRY_AFTER, NULL,
		    h2o_strdup(&req->pool, ra, (size_t)n).base, (size_t)n);
	}
	iov = h2o_iovec_init(wb->data, len);
	h2o_start_response(req, &gen);
	h2o_send(req, &iov, 1, H2O_SEND_STATE_FINAL);
	us = (mono_ns() - t0) / 1000;
	metrics_request(&w->m, route, status, us);
	log_request(w, route == R_NONE ? "none" : route_by_id(route)->name,
	    status, principal, request_id != NULL ? request_id : "", code, us);
}

/* The error body: {"error":{"code","message","request_id",...}}. */
static void
error_body(struct jb *b, const char *code, const char *message,
    const char *field, const char *request_id)
{
	jb_str(b, "{\"error\":{\"code\":");
	jb_quote(b, code, strlen(code));
	jb_str(b, ",\"message\":");
	jb_quote(b, message, strlen(message));
	if (field != NULL && field[0] != '\0') {
		jb_str(b, ",\"field\":");
		jb_quote(b, field, strlen(field));
	}
	jb_str(b, ",\"request_id\":");
	jb_quote(b, request_id, strlen(request_id));
}

/* An unaudited error: before authentication, or about the request's
 * form rather than any data. */
static int
fail_now(struct rq *q, int status, const char *code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fail_now(struct rq *q, int status, const char *code, const char *field,
    const char *fmt, ...)
{
	struct jb b = { 0 };
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_body(&b, code, msg, field, q->request_id);
	jb_str(&b, "}}");
	if (b.oom)
		return -1;
	send_body(q->w, q->req, q->m.def != NULL ? q->m.def->id : R_NONE,
	    q->t0, status, "application/json", b.buf, b.len, q->request_id,
	    q->authed ? q->who.id : NULL, code, 0);
	jb_free(&b);
	return 0;
}

static int
send_now(struct rq *q, int status, const char *ctype, const char *body,
    size_t len)
{
	send_body(q->w, q->req, q->m.def->id, q->t0, status, ctype, body, len,
	    q->request_id, q->authed ? q->who.id : NULL, NULL, 0);
	return 0;
}

/*-----------------------------------------------------------------------------
 * Pending answers
 */

/* Copies src into dst[cap], cut to fit; cheaper than snprintf "%s". */
static void
scopy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
anchor_dispose(void *p)
{
	struct pending **a = p;

	if (*a != NULL)
		(*a)->req = NULL;	/* the client went away first */
}

static struct pending *
pending_new(struct rq *q, const char *action)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->w = q->w;
	p->req = q->req;
	p->anchor = h2o_mem_alloc_shared(&q->req->pool, sizeof(*p->anchor),
	    anchor_dispose);
	*p->anchor = p;
	p->route = q->m.def->id;
	p->t0 = q->t0;
	p->status = 200;
	scopy(p->principal, sizeof(p->principal), q->who.id);
	scopy(p->request_id, sizeof(p->request_id), q->request_id);
	scopy(p->client, sizeof(p->client), q->client);
	scopy(p->action, sizeof(p->action), action);
	scopy(p->decision, sizeof(p->decision), "allow");
	scopy(p->reason, sizeof(p->reason), VG_R_OK);
	return p;
}

static void
pending_free(struct pending *p)
{
	if (p->anchor != NULL && p->req != NULL)
		*p->anchor = NULL;
	jb_free(&p->body);
	sodium_memzero(p, sizeof(*p));
	free(p);
}

/* Adds an entry about customer (may be NULL). */
static void
pending_entry(struct pending *p, const unsigned char *customer)
{
	struct vg_audit_entry *e;

	if (p->n >= ENTRIES_MAX)
		return;
	e = &p->e[p->n];
	memset(e, 0, sizeof(*e));
	p->region[p->n][0] = '\0';
	if (customer != NULL) {
		memcpy(p->customer[p->n], customer, VG_IDBYTES);
		e->customer = p->customer[p->n];
	}
	p->n++;
}

/* out = detail + ",region=" + region; false (out unused) if too long. */
static bool
add_region(char *out, size_t cap, const char *detail, const char *region)
{
	size_t dl = strlen(detail), rl = strnlen(region, 7);
	size_t need = dl + (dl > 0) + 7 + rl + 1;

	if (need > cap)
		return false;
	memcpy(out, detail, dl);
	if (dl > 0)
		out[dl++] = ',';
	memcpy(out + dl, "region=", 7);
	memcpy(out + dl + 7, region, rl);
	out[dl + 7 + rl] = '\0';
	return true;
}

/* Makes the answer an error (audited like any other answer). */
static void
pending_error(struct pending *p, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
pending_error(struct pending *p, int status, const char *code,
    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jb_free(&p->body);
	error_body(&p->body, code, msg, p->field, p->request_id);
	p->status = status;
	snprintf(p->code, sizeof(p->code), "%s", code);
}

/* A request the policy allowed, refused for its content (an unknown
 * assignee or customer): audited as a denial, decision deny. */
static int pending_submit(struct rq *q, struct pending *p);

static int
pending_refuse(struct rq *q, struct pending *p, int status,
    const char *field, const char *msg)
{
	scopy(p->decision, sizeof(p->decision), "deny");
	scopy(p->reason, sizeof(p->reason), "invalid_value");
	scopy(p->field, sizeof(p->field), field);
	metrics_decision(&q->w->m, 1, "invalid_value");
	pending_error(p, status, "invalid_field", "%s", msg);
	return pending_submit(q, p);
}

/* A follow-up entry: the change an earlier entry allowed was not made. */
struct followup {
	struct vg_audit_entry e;
	unsigned char customer[VG_IDBYTES];
	char principal[VG_PRINCIPAL_ID_MAX + 1];
	char action[32];
	char case_id[VG_CASE_STRLEN];
	char reason[40];
	char request_id[33];
	char client[64];
	char detail[VG_AUDIT_STR_MAX + 1];
};

static void
followup_done(void *ctx, int rc, uint64_t first_seq)
{
	(void)rc;
	(void)first_seq;
	free(ctx);
}

/*
 * An error found by apply(), after the entry allowing the change was
 * durable: the log gets a second entry (same request id, decision deny,
 * the reason) so that it never shows a change that did not happen as
 * made, e.g. two approvers of one request.  The body is closed here, as
 * pending_submit() would have.
 */
static void
apply_error(struct worker *w, struct pending *p, int status, const char *code,
    const char *msg)
{
	struct followup *f = calloc(1, sizeof(*f));

	pending_error(p, status, code, "%s", msg);
	jb_str(&p->body, "}}");
	if (f == NULL) {
		atomic_fetch_add(&w->srv->audit_errors, 1);
		return;
	}
	snprintf(f->principal, sizeof(f->principal), "%s", p->principal);
	snprintf(f->action, sizeof(f->action), "%s", p->action);
	snprintf(f->case_id, sizeof(f->case_id), "%s", p->case_id);
	snprintf(f->reason, sizeof(f->reason), "%s", code);
	snprintf(f->request_id, sizeof(f->request_id), "%s", p->request_id);
	snprintf(f->client, sizeof(f->client), "%s", p->client);
	snprintf(f->detail, sizeof(f->detail), "not_applied");
	f->e.principal = f->principal;
	f->e.action = f->action;
	f->e.decision = "deny";
	f->e.reason = f->reason;
	f->e.request_id = f->request_id;
	f->e.client = f->client;
	f->e.detail = f->detail;
	if (f->case_id[0] != '\0')
		f->e.case_id = f->case_id;
	if (p->n > 0 && p->e[0].customer != NULL) {
		memcpy(f->customer, p->e[0].customer, VG_IDBYTES);
		f->e.customer = f->customer;
	}
	if (vg_audit_submit(w->srv->audit, &f->e, 1, followup_done, f) != 0) {
		atomic_fetch_add(&w->srv->audit_errors, 1);
		free(f);
	}
}

/*
 * A worker's answers are handed to the audit log together, once per
 * event-loop turn (api_flush): one submission, one lock, one wake-up of
 * the writer and one message back, whatever the number of requests the
 * turn read.  A batch holds copies of its pendings' entries, contiguous
 * as vg_audit_submit wants them; the strings they point to stay in the
 * pendings until the answer.
 */
struct abatch {
	h2o_multithread_message_t msg;	/* first: the queue's link */
	struct worker *w;
	struct pending *first;		/* pendings, linked by next */
	int rc;
	size_t n;
	struct vg_audit_entry e[];
};

static void
audit_done(void *ctx, int rc, uint64_t first_seq)
{
	struct abatch *b = ctx;

	(void)first_seq;
	b->rc = rc;
	h2o_multithread_send_message(&b->w->done_rx, &b->msg);
}

/* Adds p, whose entries are filled, to w's batch for this turn. */
static void
pending_queue(struct worker *w, struct pending *p)
{
	/* A batch stays far below the log's queue (16384 entries). */
	if (w->queued_entries + p->n > 4096)
		api_flush(w);
	p->t_submit = mono_ns();
	w->inflight++;
	p->next = NULL;
	*w->queued_tail = p;
	w->queued_tail = &p->next;
	w->queued_entries += p->n;
}

/* Gives every entry of p the request's common fields. */
static void
fill_entries(struct pending *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct vg_audit_entry *e = &p->e[i];

		e->principal = p->principal;
		e->action = p->action;
		e->decision = p->decision;
		e->reason = p->reason;
		e->request_id = p->request_id;
		e->client = p->client;
		if (p->fields[0] != '\0')
			e->fields = p->fields;
		if (p->purpose[0] != '\0')
			e->purpose = p->purpose;
		if (p->case_id[0] != '\0')
			e->case_id = p->case_id;
		if (p->region[i][0] != '\0' && add_region(p->edetail[i],
		    sizeof(p->edetail[i]), p->detail, p->region[i])) {
			e->detail = p->edetail[i];
		} else if (p->detail[0] != '\0') {
			e->detail = p->detail;
		}
	}
}

/* Queues p's entries for this turn's batch; the answer leaves in
 * api_on_done.  Every entry gets the request's common fields.  Error
 * bodies are closed here (extra members may have been added after
 * error_body()). */
static int
pending_submit(struct rq *q, struct pending *p)
{
	if (p->code[0] != '\0')
		jb_str(&p->body, "}}");
	if (p->n == 0)
		pending_entry(p, NULL);
	fill_entries(p);
	if (p->body.oom) {
		pending_free(p);
		return fail_now(q, 500, "internal", NULL, "out of memory");
	}
	pending_queue(q->w, p);
	return 0;
}

/* Answers one pending whose entries are durable (rc 0) or are not. */
static void
finish(struct worker *w, struct pending *p, int rc)
{
	w->inflight--;
	metrics_observe(&w->m.audit, (mono_ns() - p->t_submit) / 1000);
	if (rc != 0) {
		atomic_fetch_add(&w->srv->audit_errors, 1);
		/* Nothing was revealed: the approval is not spent. */
		if (p->spent[0] != '\0' &&
		    vg_approval_restore(w->vault, p->spent) != 0)
			log_event(w->srv, "warn", "approval not restored",
			    "\"request_id\":\"%s\"", p->request_id);
	} else if (p->apply != NULL) {
		/* The change is made even when the client left: it was
		 * audited as allowed. */
		p->apply(w, p);
	}
	if (p->req != NULL && rc != 0) {
		struct jb b = { 0 };

		error_body(&b, "audit_unavailable", "the audit log cannot be "
		    "written; nothing was done or revealed", NULL,
		    p->request_id);
		jb_str(&b, "}}");
		send_body(w, p->req, p->route, p->t0, 503, "application/json",
		    b.oom ? "" : b.buf, b.oom ? 0 : b.len, p->request_id,
		    p->principal, "audit_unavailable", 0);
		jb_free(&b);
	} else if (p->req != NULL) {
		send_body(w, p->req, p->route, p->t0, p->status,
		    "application/json", p->body.buf, p->body.len,
		    p->request_id, p->principal, p->code, p->retry_after);
	}
	pending_free(p);
}

void
api_flush(struct worker *w)
{
	struct pending *p, *next;
	struct abatch *b;
	size_t k = 0;

	if (w->queued == NULL)
		return;
	b = malloc(sizeof(*b) + w->queued_entries * sizeof(b->e[0]));
	if (b != NULL) {
		memset(&b->msg, 0, sizeof(b->msg));	/* unlinked */
		b->w = w;
		b->rc = 0;
		b->first = w->queued;
		b->n = w->queued_entries;
		for (p = w->queued; p != NULL; p = p->next) {
			memcpy(&b->e[k], p->e, p->n * sizeof(p->e[0]));
			k += p->n;
		}
	}
	p = w->queued;
	w->queued = NULL;
	w->queued_tail = &w->queued;
	w->queued_entries = 0;
	if (b != NULL && vg_audit_submit(w->srv->audit, b->e, b->n,
	    audit_done, b) == 0)
		return;
	free(b);
	for (; p != NULL; p = next) {
		next = p->next;
		finish(w, p, VG_EIO);
	}
}

/*
 * A batch refused with VG_EINVAL had one malformed entry; the log wrote
 * all the others.  Whose was it: 0 for a pending whose entries all
 * encode (they are durable), VG_EIO for the one that does not.
 */
static int
entries_ok(const struct pending *p)
{
	unsigned char buf[VG_AUDIT_BODY_MAX];
	size_t i, len;

	for (i = 0; i < p->n; i++)
		if (vg_audit_encode(&p->e[i], 0, 0, "check", buf, sizeof(buf),
		    &len) != 0)
			return VG_EIO;
	return 0;
}

void
api_on_done(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
	struct worker *w = H2O_STRUCT_FROM_MEMBER(struct worker, done_rx, rx);

	while (!h2o_linklist_is_empty(messages)) {
		struct abatch *b = H2O_STRUCT_FROM_MEMBER(struct abatch,
		    msg.link, messages->next);
		struct pending *p, *next;

		h2o_linklist_unlink(&b->msg.link);
		for (p = b->first; p != NULL; p = next) {
			next = p->next;
			finish(w, p, b->rc == VG_EINVAL ? entries_ok(p) :
			    b->rc);
		}
		free(b);
	}
}

/*-----------------------------------------------------------------------------
 * Shared steps
 */

static int
status_of(enum vg_verdict v, const char *reason)
{
	if (v == VG_ALLOW)
		return 200;
	if (strcmp(reason, VG_R_QUOTA) == 0)
		return 429;
	return 403;
}

static const char *
verdict_word(enum vg_verdict v)
{
	return v == VG_ALLOW ? "allow" : v == VG_STEP_UP ? "step_up" : "deny";
}

/* Plain words for a denial code; never about a value. */
static const char *
reason_text(const char *r)
{
	static const struct { const char *code, *text; } t[] = {
		{ VG_R_ROLE, "your role may not do this" },
		{ VG_R_SUSPENDED, "your access is suspended" },
		{ VG_R_NO_CASE, "a reveal needs an open case assigned to you "
		    "for this customer (or a break-glass justification "
		    "where policy allows)" },
		{ VG_R_CASE_NOT_FOUND, "no such case" },
		{ VG_R_CASE_NOT_ASSIGNED, "the case is not assigned to you" },
		{ VG_R_CASE_CLOSED, "the case is closed" },
		{ VG_R_CASE_EXPIRED, "the case has expired" },
		{ VG_R_CASE_OTHER, "the case is about another customer" },
		{ VG_R_PURPOSE, "this purpose is not allowed for your role" },
		{ VG_R_FIELD, "a requested field may not be revealed for "
		    "this purpose" },
		{ VG_R_QUOTA, "reveal quota exceeded" },
		{ VG_R_OFF_SHIFT, "outside your shift" },
		{ VG_R_STEP_UP, "a supervisor must approve this reveal; "
		    "retry with the approval_id once approved" },
		{ VG_R_JUSTIFICATION, "the break-glass justification is too "
		    "short" },
		{ VG_R_SELF_OPENED, "reveals under a case you opened "
		    "yourself are not allowed" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].code, r) == 0)
			return t[i].text;
	return "denied by policy";
}

/* Decides a non-reveal action; on denial fills p as a 403 and returns
 * 0, else 1. */
static int
allowed(struct rq *q, struct pending *p, enum vg_action a)
{
	struct vg_policy_input in;
	struct vg_decision d;

	memset(&in, 0, sizeof(in));
	in.who = &q->who;
	in.action = a;
	in.shift = -1;
	in.now = q->now;
	vg_policy_decide(q->pol->p, &in, &d);
	metrics_decision(&q->w->m, d.verdict == VG_ALLOW ? 0 : 1, d.reason);
	if (d.verdict == VG_ALLOW)
		return 1;
	snprintf(p->decision, sizeof(p->decision), "deny");
	snprintf(p->reason, sizeof(p->reason), "%s", d.reason);
	pending_error(p, 403, d.reason, "%s", reason_text(d.reason));
	return 0;
}

/* Appends "name":value for the fields in mask of rec, clear or masked
 * under the policy. */
static void
record_fields(struct rq *q, struct jb *b, const struct vg_record *rec,
    uint32_t mask, bool clear)
{
	char out[VG_NORM_MAX + 1];
	size_t i;
	int first = 1;

	jb_str(b, "{");
	for (i = 0; i < q->s->schema.nfields; i++) {
		const struct vg_field *f = &q->s->schema.field[i];

		if (!(mask & (1u << i)) || !rec->present[i])
			continue;
		if (!first)
			jb_str(b, ",");
		first = 0;
		jb_quote(b, f->name, strlen(f->name));
		jb_str(b, ":");
		if (clear || !f->sealed) {
			jb_quote(b, rec->value[i], rec->len[i]);
		} else if (vg_policy_mask(q->pol->p, f->type, rec->value[i],
		    rec->len[i], out, sizeof(out)) == 0) {
			jb_quote(b, out, strlen(out));
		} else {
			jb_str(b, "\"***\"");
		}
	}
	sodium_memzero(out, sizeof(out));
	jb_str(b, "}");
}

static uint32_t
all_fields(const struct vg_schema *s)
{
	return s->nfields >= 32 ? UINT32_MAX : (1u << s->nfields) - 1;
}

/* Appends one customer's masked view: {"id","created","view","fields"}
 * and, when request_id is not NULL, "request_id". */
static int
masked_customer(struct rq *q, struct jb *b, const unsigned char *id,
    const char *request_id, char region[8])
{
	struct vg_record *rec = q->w->rec;
	char ids[VG_ID_STRLEN];
	int rc;

	rc = vg_vault_get(q->w->vault, id, 0, VG_VIEW_CLEAR, rec);
	if (rc != 0) {
		vg_record_clear(rec);
		return rc;
	}
	if (region != NULL)
		memcpy(region, rec->region, 8);
	vg_id_format(ids, id);
	jb_str(b, "{\"id\":");
	jb_quote(b, ids, strlen(ids));
	jb_fmt(b, ",\"created\":%lld,\"view\":\"masked\",\"fields\":",
	    (long long)rec->created);
	record_fields(q, b, rec, all_fields(&q->s->schema), false);
	if (request_id != NULL) {
		jb_str(b, ",\"request_id\":");
		jb_quote(b, request_id, strlen(request_id));
	}
	jb_str(b, "}");
	vg_record_clear(rec);
	return 0;
}

/*-----------------------------------------------------------------------------
 * Customers
 */

static int
h_customer_get(struct rq *q)
{
	struct pending *p = pending_new(q, "view");
	const unsigned char *id = q->m.id;	/* checked by the router */
	int rc;

	if (p == NULL)
		return -1;
	pending_entry(p, id);
	if (allowed(q, p, VG_ACT_VIEW)) {
		rc = masked_customer(q, &p->body, id, q->request_id,
		    p->region[p->n - 1]);
		if (rc == VG_ENOTFOUND) {
			snprintf(p->decision, sizeof(p->decision), "miss");
			snprintf(p->reason, sizeof(p->reason), "not_found");
			pending_error(p, 404, "not_found", "no such customer");
		} else if (rc != 0) {
			snprintf(p->decision, sizeof(p->decision), "deny");
			snprintf(p->reason, sizeof(p->reason), "error");
			pending_error(p, 500, "internal", "the record could "
			    "not be read (%s)", vg_strerror(rc));
		}
		metrics_decision(&q->w->m, rc == 0 ? 0 : 1,
		    rc == 0 ? VG_R_OK : "not_found");
	}
	return pending_submit(q, p);
}

/* Field names to a schema bit mask and a "name,phone" list. */
static int
field_mask(struct rq *q, const struct reveal_req *r, uint32_t *mask,
    char *list, size_t cap)
{
	size_t i, len = 0;

	*mask = 0;
	list[0] = '\0';
	for (i = 0; i < r->nfields; i++) {
		int f = vg_schema_find(&q->s->schema, r->field[i]);

		if (f < 0)
			return fail_now(q, 400, "invalid_field", "fields",
			    "\"fields\"[%zu] is not a field of this vault", i);
		if (*mask & (1u << f))
			continue;
		*mask |= 1u << f;
	}
	/* The list in schema order, whatever the request's order. */
	for (i = 0; i < q->s->schema.nfields; i++) {
		const char *n = q->s->schema.field[i].name;

		if (!(*mask & (1u << i)))
			continue;
		len += (size_t)snprintf(list + len, cap - len, "%s%s",
		    len > 0 ? "," : "", n);
		if (len >= cap)
			return fail_now(q, 400, "invalid_field", "fields",
			    "too many fields");
	}
	return 1;
}

struct reveal_ctx {
	struct rq *q;
	struct vg_policy_input in;
	struct vg_decision d;
};

static int
reveal_decide(void *ctx, const struct vg_quota_usage *u)
{
	struct reveal_ctx *c = ctx;

	c->in.usage = u;
	vg_policy_decide(c->q->pol->p, &c->in, &c->d);
	c->in.usage = NULL;
	if (c->d.verdict != VG_ALLOW)
		return 0;
	return c->d.break_glass ? 2 : 1;	/* 2: counted as break-glass */
}

static int
h_customer_reveal(struct rq *q, json_t *body)
{
	struct reveal_ctx c;
	struct reveal_req r;
	struct body_err be;
	struct vg_case kase;
	struct vg_approval apr;
	struct vg_shift shift;
	struct vg_record *rec = q->w->rec;
	struct pending *p;
	unsigned char id[VG_IDBYTES];
	const char *why = NULL;
	char ids[VG_ID_STRLEN];
	uint32_t mask;
	bool have_case = false, used_approval = false;
	int rc;

	memcpy(id, q->m.id, VG_IDBYTES);	/* checked by the router */
	if (body_reveal(body, &r, &be) != 0)
		return fail_now(q, be.status, be.code, be.field, "%s",
		    be.message);
	if (!vg_purpose_ok(r.purpose))
		return fail_now(q, 400, "invalid_field", "purpose", "\"purpose\" "
		    "is a code: [a-z][a-z0-9_], at most 32");
	if ((p = pending_new(q, "reveal")) == NULL)
		return -1;
	if ((rc = field_mask(q, &r, &mask, p->fields, sizeof(p->fields))) !=
	    1) {
		pending_free(p);
		return rc;
	}
	snprintf(p->purpose, sizeof(p->purpose), "%s", r.purpose);
	pending_entry(p, id);

	memset(&c, 0, sizeof(c));
	c.q = q;
	c.in.who = &q->who;
	c.in.action = VG_ACT_REVEAL;
	c.in.fields = mask;
	c.in.purpose = r.purpose;
	c.in.now = q->now;
	c.in.justification_len = r.justification != NULL ?
	    strlen(r.justification) : 0;
	/* One read snapshot for the case, the approval and the record;
	 * ended before any write (an approval spent or requested). */
	if (vg_vault_read_begin(q->w->vault) != 0) {
		pending_free(p);
		return fail_now(q, 500, "internal", NULL, "the vault cannot be "
		    "read");
	}
	if (r.case_id != NULL) {
		unsigned char raw[VG_IDBYTES];

		if (vg_token_parse(raw, "case_", r.case_id) != 0) {
			vg_vault_read_end(q->w->vault);
			pending_free(p);
			return fail_now(q, 400, "invalid_field", "case_id",
			    "\"case_id\" is not a case id");
		}
		snprintf(p->case_id, sizeof(p->case_id), "%s", r.case_id);
		rc = vg_case_get(q->w->vault, r.case_id, &kase);
		if (rc != 0 && rc != VG_ENOTFOUND) {
			vg_vault_read_end(q->w->vault);
			pending_free(p);
			return fail_now(q, 500, "internal", NULL, "cases "
			    "cannot be read (%s)", vg_strerror(rc));
		}
		have_case = rc == 0;
	}
	vg_case_facts(have_case ? &kase : NULL, r.case_id != NULL,
	    q->who.id, id, q->now, &c.in.kase);
	c.in.shift = -1;
	{
		/* The detector's containment of the caller, if any. */
		struct vg_contain_state cs;

		vg_contain_get(q->s->contain, q->who.id, &cs);
		c.in.containment = (int)cs.level;
	}
	if (q->who.shift[0] != '\0')
		c.in.shift = vg_shift_parse(q->who.shift, &shift, &why) == 0 ?
		    vg_shift_contains(&shift, q->now) : 0;
	if (r.approval_id != NULL) {
		rc = vg_approval_get(q->w->vault, r.approval_id, &apr);
		c.in.approved = rc == 0 && vg_approval_covers(&apr, q->who.id,
		    id, mask, r.purpose, r.case_id, q->now, NULL) == 0;
	}

	rc = vg_quota_decide(q->s->quota, q->who.id, id, q->now, false,
	    reveal_decide, &c);
	if (rc < 0) {
		vg_vault_read_end(q->w->vault);
		pending_free(p);
		return fail_now(q, 500, "internal", NULL, "quota state "
		    "unavailable");
	}
	if (c.d.verdict != VG_ALLOW || c.d.approval_used)
		vg_vault_read_end(q->w->vault);
	if (c.d.verdict == VG_ALLOW && c.d.approval_used) {
		/* The approval is spent now, atomically; a concurrent retry
		 * that lost the race is a step-up again. */
		if (vg_approval_use(q->w->vault, r.approval_id, q->who.id, id,
		    mask, r.purpose, r.case_id, q->now, &why) != 0) {
			c.d.verdict = VG_DENY;
			c.d.reason = "approval_used";
		} else {
			used_approval = true;
			snprintf(p->spent, sizeof(p->spent), "%s",
			    r.approval_id);
		}
	}
	snprintf(p->decision, sizeof(p->decision), "%s",
	    verdict_word(c.d.verdict));
	snprintf(p->reason, sizeof(p->reason), "%s", c.d.reason);
	metrics_decision(&q->w->m, c.d.verdict == VG_ALLOW ? 0 :
	    c.d.verdict == VG_DENY ? 1 : 2, c.d.reason);

	if (c.d.verdict == VG_STEP_UP) {
		struct vg_approval na;

		rc = vg_approval_request(q->w->vault, q->who.id, id, mask,
		    r.purpose, r.case_id, c.d.step_up_why != NULL ?
		    c.d.step_up_why : "policy", q->now,
		    vg_policy_approval_ttl(q->pol->p) > 0 ?
		    vg_policy_approval_ttl(q->pol->p) : 900, &na);
		if (rc == VG_ETOOBIG) {
			scopy(p->reason, sizeof(p->reason), "step_up_limit");
			p->retry_after = 60;
			pending_error(p, 429, "step_up_limit", "you have %d "
			    "approval requests waiting for a supervisor; wait "
			    "for their decision", VG_APPROVALS_PENDING_MAX);
		} else if (rc != 0) {
			pending_error(p, 500, "internal", "the approval request "
			    "could not be stored (%s)", vg_strerror(rc));
		} else {
			snprintf(p->detail, sizeof(p->detail), "approval=%s,"
			    "why=%s", na.id, c.d.step_up_why != NULL ?
			    c.d.step_up_why : "policy");
			pending_error(p, 403, VG_R_STEP_UP, "a supervisor must "
			    "approve this reveal (%s); retry with the "
			    "approval_id once approved", c.d.step_up_why !=
			    NULL ? c.d.step_up_why : "policy");
			jb_str(&p->body, ",\"approval_id\":");
			jb_quote(&p->body, na.id, strlen(na.id));
			jb_fmt(&p->body, ",\"step_up_why\":\"%s\"",
			    c.d.step_up_why != NULL ? c.d.step_up_why :
			    "policy");
		}
		return pending_submit(q, p);
	}
	if (c.d.verdict == VG_DENY && strcmp(c.d.reason, "approval_used") == 0) {
		pending_error(p, 409, "approval_used", "the approval was used "
		    "by a concurrent request; ask for a new one");
		return pending_submit(q, p);
	}
	if (c.d.verdict == VG_DENY) {
		int status = status_of(c.d.verdict, c.d.reason);

		/* Contained by the detector, not suspended by a person:
		 * masked views still work, and the words say so (without
		 * telling the suspect what was seen). */
		bool contained = strcmp(c.d.reason, VG_R_SUSPENDED) == 0 &&
		    c.in.containment >= 2 && strcmp(q->who.state,
		    "suspended") != 0;

		pending_error(p, status, c.d.reason, "%s", contained ?
		    "your reveals are suspended pending a review; masked "
		    "views still work" : reason_text(c.d.reason));
		/* The detector's own doing: not a new probe by the principal
		 * (the detector does not count it as a denial). */
		if (contained)
			snprintf(p->detail, sizeof(p->detail), "contained=1");
		if (status == 429) {
			p->retry_after = (long)(c.d.retry_after > 0 ?
			    c.d.retry_after : 1);
			jb_fmt(&p->body, ",\"retry_after\":%ld,\"window\":\"%s\","
			    "\"limit\":%u,\"kind\":\"%s\"", p->retry_after,
			    c.d.quota_window >= 0 ?
			    vg_qwin_name(c.d.quota_window) : "",
			    c.d.quota_limit, c.d.quota_kind != NULL ?
			    c.d.quota_kind : "");
			snprintf(p->detail, sizeof(p->detail), "window=%s,"
			    "kind=%s", c.d.quota_window >= 0 ?
			    vg_qwin_name(c.d.quota_window) : "",
			    c.d.quota_kind != NULL ? c.d.quota_kind : "");
		}
		return pending_submit(q, p);
	}

	/* Allowed: decrypt only what was asked, answer after the audit. */
	rc = vg_vault_get(q->w->vault, id, mask, VG_VIEW_CLEAR, rec);
	vg_vault_read_end(q->w->vault);
	if (rc != 0) {
		vg_record_clear(rec);
		snprintf(p->decision, sizeof(p->decision), rc == VG_ENOTFOUND ?
		    "miss" : "deny");
		snprintf(p->reason, sizeof(p->reason), rc == VG_ENOTFOUND ?
		    "not_found" : "error");
		if (rc == VG_ENOTFOUND)
			pending_error(p, 404, "not_found", "no such customer");
		else
			pending_error(p, 500, "internal", "the record could "
			    "not be read (%s)", vg_strerror(rc));
		return pending_submit(q, p);
	}
	if (c.d.break_glass) {
		atomic_fetch_add_explicit(&q->w->m.break_glass, 1,
		    memory_order_relaxed);
		snprintf(p->detail, sizeof(p->detail), "break_glass=1,"
		    "justification_bytes=%zu,notify=%d%s%s",
		    c.in.justification_len, c.d.notify ? 1 : 0,
		    used_approval ? ",approval=" : "",
		    used_approval ? r.approval_id : "");
		log_event(q->s, "warn", "break-glass reveal",
		    "\"principal\":\"%s\",\"request_id\":\"%s\","
		    "\"supervisor_notified\":%s", q->who.id, q->request_id,
		    c.d.notify ? "true" : "false");
	} else if (used_approval) {
		snprintf(p->detail, sizeof(p->detail), "approval=%s",
		    r.approval_id);
	}
	if (p->n > 0)
		memcpy(p->region[p->n - 1], rec->region, 8);
	vg_id_format(ids, id);
	jb_str(&p->body, "{\"id\":");
	jb_quote(&p->body, ids, strlen(ids));
	jb_str(&p->body, ",\"view\":\"clear\",\"fields\":");
	record_fields(q, &p->body, rec, mask, true);
	vg_record_clear(rec);
	jb_str(&p->body, ",\"purpose\":");
	jb_quote(&p->body, p->purpose, strlen(p->purpose));
	if (p->case_id[0] != '\0') {
		jb_str(&p->body, ",\"case_id\":");
		jb_quote(&p->body, p->case_id, strlen(p->case_id));
	}
	jb_fmt(&p->body, ",\"break_glass\":%s,\"request_id\":",
	    c.d.break_glass ? "true" : "false");
	jb_quote(&p->body, q->request_id, strlen(q->request_id));
	jb_str(&p->body, "}");
	return pending_submit(q, p);
}

static int
h_lookup(struct rq *q, json_t *body)
{
	unsigned char ids[VG_LOOKUP_MAX][VG_IDBYTES];
	struct lookup_req r;
	struct body_err be;
	struct pending *p;
	const char *why = "";
	size_t n = 0, i;
	int field, rc;

	if (body_lookup(body, &r, &be) != 0)
		return fail_now(q, be.status, be.code, be.field, "%s",
		    be.message);
	/* The body names a kind of value; the vault's schema says which
	 * indexed field holds it. */
	field = vg_schema_find_type(&q->s->schema,
	    strcmp(r.key, "phone") == 0 ? VG_FT_PHONE :
	    strcmp(r.key, "email") == 0 ? VG_FT_EMAIL : VG_FT_ACCOUNT);
	if (field < 0 || !q->s->schema.field[field].indexed)
		return fail_now(q, 400, "invalid_field", r.key, "this vault "
		    "has no exact index on \"%s\"", r.key);
	if ((p = pending_new(q, "lookup")) == NULL)
		return -1;
	snprintf(p->fields, sizeof(p->fields), "%s", r.key);
	if (r.case_id != NULL) {
		unsigned char raw[VG_IDBYTES];

		if (vg_token_parse(raw, "case_", r.case_id) != 0) {
			pending_free(p);
			return fail_now(q, 400, "invalid_field", "case_id",
			    "\"case_id\" is not a case id");
		}
		snprintf(p->case_id, sizeof(p->case_id), "%s", r.case_id);
	}
	if (!allowed(q, p, VG_ACT_LOOKUP))
		return pending_submit(q, p);
	rc = vg_vault_lookup(q->w->vault, field, r.value, r.len, ids,
	    VG_LOOKUP_MAX, &n, &why);
	if (rc == VG_EINVAL) {
		snprintf(p->decision, sizeof(p->decision), "deny");
		snprintf(p->reason, sizeof(p->reason), "invalid_value");
		metrics_decision(&q->w->m, 1, "invalid_value");
		snprintf(p->field, sizeof(p->field), "%s", r.key);
		pending_error(p, 400, "invalid_field", "\"%s\" is not a valid "
		    "value of its type: %s", r.key,
		    why != NULL ? why : "refused");
		return pending_submit(q, p);
	}
	if (rc == VG_ENOTFOUND) {
		snprintf(p->decision, sizeof(p->decision), "miss");
		snprintf(p->reason, sizeof(p->reason), "not_found");
		metrics_decision(&q->w->m, 1, "miss");
		pending_entry(p, NULL);
		if (vg_vault_probe(q->w->vault, field, r.value, r.len,
		    p->probe, &why) == 0)
			p->e[0].probe = p->probe;
		pending_error(p, 404, "not_found", "no customer has this "
		    "%s", r.key);
		return pending_submit(q, p);
	}
	if (rc != 0) {
		pending_free(p);
		return fail_now(q, 500, "internal", NULL, "lookup failed (%s)",
		    vg_strerror(rc));
	}
	metrics_decision(&q->w->m, 0, VG_R_OK);
	jb_str(&p->body, "{\"customers\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			jb_str(&p->body, ",");
		pending_entry(p, ids[i]);
		if (masked_customer(q, &p->body, ids[i], NULL,
		    p->region[p->n - 1]) != 0) {
			pending_error(p, 500, "internal", "a matching record "
			    "could not be read");
			return pending_submit(q, p);
		}
	}
	jb_str(&p->body, "],\"request_id\":");
	jb_quote(&p->body, q->request_id, strlen(q->request_id));
	jb_str(&p->body, "}");
	if (n > 1)
		snprintf(p->detail, sizeof(p->detail), "matches=%zu", n);
	return pending_submit(q, p);
}

static int
h_customer_create(struct rq *q, json_t *body)
{
	struct create_req r;
	struct body_err be;
	struct vg_input in;
	struct vg_reject rej;
	struct pending *p;
	unsigned char id[VG_IDBYTES];
	char ids[VG_ID_STRLEN];
	size_t i;
	int rc;

	if (body_create(body, &q->s->schema, &r, &be) != 0)
		return fail_now(q, be.status, be.code, be.field, "%s",
		    be.message);
	if ((p = pending_new(q, "create")) == NULL)
		return -1;
	if (!allowed(q, p, VG_ACT_CUSTOMER_CREATE))
		return pending_submit(q, p);
	memset(&in, 0, sizeof(in));
	for (i = 0; i < q->s->schema.nfields; i++) {
		in.value[i] = r.value[i];
		in.len[i] = r.len[i];
	}
	rej.field = -1;
	rej.why = "refused";
	rc = vg_vault_add(q->w->vault, &in, id, &rej);
	if (rc == VG_EINVAL) {
		const char *fname = rej.field >= 0 &&
		    (size_t)rej.field < q->s->schema.nfields ?
		    q->s->schema.field[rej.field].name : "";

		/* Allowed, then refused for its content: audited. */
		snprintf(p->decision, sizeof(p->decision), "deny");
		snprintf(p->reason, sizeof(p->reason), "invalid_value");
		metrics_decision(&q->w->m, 1, "invalid_value");
		scopy(p->field, sizeof(p->field), fname);
		pending_error(p, 400, "invalid_field", "%s%s%s", fname,
		    fname[0] != '\0' ? ": " : "", rej.why);
		return pending_submit(q, p);
	}
	if (rc != 0) {
		pending_free(p);
		return fail_now(q, 500, "internal", NULL, "the customer could "
		    "not be stored (%s)", vg_strerror(rc));
	}
	pending_entry(p, id);
	metrics_decision(&q->w->m, 0, VG_R_OK);
	p->status = 201;
	vg_id_format(ids, id);
	jb_str(&p->body, "{\"id\":");
	jb_quote(&p->body, ids, strlen(ids));
	jb_str(&p->body, "}");
	return pending_submit(q, p);
}

/*-----------------------------------------------------------------------------
 * Cases
 */

static void
case_json(struct jb *b, const struct vg_case *c, int64_t now)
{
	char ids[VG_ID_STRLEN];

	vg_id_format(ids, c->customer);
	jb_str(b, "{\"id\":");
	jb_quote(b, c->id, strlen(c->id));
	jb_str(b, ",\"customer_id\":");
	jb_quote(b, ids, strlen(ids));
	jb_str(b, ",\"assignee\":");
	jb_quote(b, c->assignee, strlen(c->assignee));
	jb_str(b, ",\"opened_by\":");
	jb_quote(b, c->opened_by, strlen(c->opened_by));
	jb_fmt(b, ",\"channel\":\"%s\",\"state\":\"%s\",\"self_opened\":%s,"
	    "\"created\":%lld,\"expires\":%lld,\"closed\":%lld,"
	    "\"expired\":%s}", c->channel,
	    c->state, c->self_opened ? "true" : "false", (long long)c->created,
	    (long long)c->expires, (long long)c->closed,
	    c->expires != 0 && now >= c->expires ? "true" : "false");
}

/* The principal that will hold a case: must exist and be active. */
static int
assignee_ok(struct rq *q, const char *id)
{
	struct vg_principal a;

	return vg_principal_id_ok(id) &&
	    vg_principal_get(q->w->vault, id, &a) == 0 &&
	    strcmp(a.state, "active") == 0;
}

static void
apply_case_open(struct worker *w, struct pending *p)
{
	int rc = vg_case_put(w->vault, &p->kase);

	if (rc != 0) {
		log_event(w->srv, "error", "audited case open failed",
		    "\"request_id\":\"%s\",\"error\":\"%s\"", p->request_id,
		    vg_strerror(rc));
		apply_error(w, p, 500, "internal", "the case could not be stored");
		return;
	}
	/* As the quota fold counts it: not a case opened for oneself. */
	if (strcmp(p->kase.assignee, p->kase.opened_by) != 0 &&
	    vg_quota_add_case(w->srv->quota, p->kase.assignee, p->now) != 0)
		log_event(w->srv, "warn", "quota state out of memory", NULL);
	case_json(&p->body, &p->kase, p->now);
}

static int
h_case_open(struct rq *q, json_t *body)
{
	struct case_req r;
	struct body_err be;
	struct vg_record *rec = q->w->rec;
	struct vg_policy_input in;
	struct vg_decision d;
	struct pending *p;
	unsigned char cus[VG_IDBYTES];
	const char *why = "";
	bool self;
	int rc;

	if (body_case(body, &r, &be) != 0)
		return fail_now(q, be.status, be.code, be.field, "%s",
		    be.message);
	if (vg_id_parse(cus, r.customer_id) != 0)
		return fail_now(q, 400, "invalid_field", "customer_id",
		    "\"customer_id\" is not a customer id");
	if (!vg_channel_ok(r.channel))
		return fail_now(q, 400, "invalid_field", "channel", "\"channel\" "
		    "is one of phone, chat, email, store");
	if ((p = pending_new(q, "case.open")) == NULL)
		return -1;
	pending_entry(p, cus);
	/* Ticketing opens cases for anyone; where the policy lets a role
	 * open one for itself (outbound work), that case is marked
	 * self-opened for good. */
	self = strcmp(r.assignee, q->who.id) == 0;
	memset(&in, 0, sizeof(in));
	in.who = &q->who;
	in.action = VG_ACT_CASE_OPEN;
	in.shift = -1;
	in.now = q->now;
	vg_policy_decide(q->pol->p, &in, &d);
	/* A case for oneself is marked self-opened whoever opens it, so a
	 * policy's self_opened_cases rule cannot be sidestepped by a role
	 * that may also open cases for others. */
	if (d.verdict != VG_ALLOW && !allowed(q, p, self ?
	    VG_ACT_CASE_SELF_OPEN : VG_ACT_CASE_OPEN))
		return pending_submit(q, p);
	if (!assignee_ok(q, r.assignee))
		return pending_refuse(q, p, 422, "assignee", "\"assignee\" is "
		    "not an active principal");
	rc = vg_vault_get(q->w->vault, cus, 1, VG_VIEW_MASKED, rec);
	vg_record_clear(rec);
	if (rc == VG_ENOTFOUND)
		return pending_refuse(q, p, 422, "customer_id", "no such "
		    "customer");
	if (rc != 0) {
		pending_free(p);
		return fail_now(q, 500, "internal", NULL, "the customer "
		    "could not be read (%s)", vg_strerror(rc));
	}
	rc = vg_case_make(cus, r.assignee, r.channel, q->who.id, self,
	    q->now, vg_policy_case_ttl(q->pol->p), &p->kase, &why);
	if (rc != 0) {
		pending_free(p);
		return fail_now(q, 400, "invalid_field", NULL, "the case "
		    "cannot be opened: %s", why);
	}
	metrics_decision(&q->w->m, 0, VG_R_OK);
	snprintf(p->case_id, sizeof(p->case_id), "%s", p->kase.id);
	snprintf(p->detail, sizeof(p->detail), "assignee=%s,channel=%s%s",
	    p->kase.assignee, p->kase.channel, self ? ",self_opened=1" : "");
	p->status = 201;
	p->now = q->now;
	p->apply = apply_case_open;
	return pending_submit(q, p);
}

static void
apply_case_change(struct worker *w, struct pending *p)
{
	struct vg_case c;
	int rc;

	if (p->route == R_CASE_ASSIGN)
		rc = vg_case_assign(w->vault, p->item, p->target, &c);
	else
		rc = vg_case_close(w->vault, p->item, p->now, &c);
	if (rc == VG_EEXIST) {
		apply_error(w, p, 409, "case_already_closed", "the case was "
		    "closed meanwhile");
		return;
	}
	if (rc != 0) {
		log_event(w->srv, "error", "audited case change failed",
		    "\"request_id\":\"%s\",\"error\":\"%s\"", p->request_id,
		    vg_strerror(rc));
		apply_error(w, p, 500, "internal", "the case could not be "
		    "changed");
		return;
	}
	if (p->route == R_CASE_ASSIGN && strcmp(p->target, p->principal) != 0 &&
	    vg_quota_add_case(w->srv->quota, p->target, p->now) != 0)
		log_event(w->srv, "warn", "quota state out of memory", NULL);
	case_json(&p->body, &c, p->now);
}

static int
h_case(struct rq *q, json_t *body)
{
	enum route_id rid = q->m.def->id;
	const char *assignee = NULL, *reason = NULL;
	struct body_err be;
	struct vg_case c;
	struct pending *p;
	bool own;
	int rc;

	if (rid == R_CASE_ASSIGN && body_assign(body, &assignee, &be) != 0)
		return fail_now(q, be.status, be.code, be.field, "%s",
		    be.message);
	if (rid == R_CASE_CLOSE && body_reason(body, &reason, &be) != 0)
		return fail_now(q, be.status, be.code, be.field, "%s",
		    be.message);
	rc = vg_case_get(q->w->vault, q->m.param, &c);
	if (rc == VG_ENOTFOUND || rc == VG_EINVAL)
		return fail_now(q, 404, "not_found", NULL, "no such case");
	if (rc != 0)
		return fail_now(q, 500, "internal", NULL, "cases cannot be "
		    "read (%s)", vg_strerror(rc));
	p = pending_new(q, rid == R_CASE_GET ? "case.read" :
	    rid == R_CASE_ASSIGN ? "case.assign" : "case.close");
	if (p == NULL)
		return -1;
	pending_entry(p, c.customer);
	snprintf(p->case_id, sizeof(p->case_id), "%s", c.id);
	/* The assignee may always read and close their own case. */
	own = strcmp(c.assignee, q->who.id) == 0;
	if (rid == R_CASE_GET) {
		if (!own && !allowed(q, p, VG_ACT_CASE_READ))
			return pending_submit(q, p);
		metrics_decision(&q->w->m, 0, VG_R_OK);
		case_json(&p->body, &c, q->now);
		return pending_submit(q, p);
	}
	if (rid == R_CASE_ASSIGN ? !allowed(q, p, VG_ACT_CASE_ASSIGN) :
	    !own && !allowed(q, p, VG_ACT_CASE_CLOSE))
		return pending_submit(q, p);
	if (rid == R_CASE_ASSIGN && !assignee_ok(q, assignee))
		return pending_refuse(q, p, 422, "assignee", "\"assignee\" is "
		    "not an active principal");
	if (strcmp(c.state, "open") != 0) {
		snprintf(p->decision, sizeof(p->decision), "deny");
		snprintf(p->reason, sizeof(p->reason), "conflict");
		pending_error(p, 409, "case_already_closed", "the case is "
		    "closed");
		return pending_submit(q, p);
	}
	metrics_decision(&q->w->m, 0, VG_R_OK);
	if (rid == R_CASE_ASSIGN) {
		snprintf(p->detail, sizeof(p->detail), "assignee=%s",
		    assignee);
		snprintf(p->target, sizeof(p->target), "%s", assignee);
	} else if (reason != NULL) {
		snprintf(p->detail, sizeof(p->detail), "reason=%s", reason);
	}
	snprintf(p->item, sizeof(p->item), "%s", c.id);
	p->now = q->now;
	p->apply = apply_case_change;
	return pending_submit(q, p);
}

/*-----------------------------------------------------------------------------
 * Approvals
 */

static void
approval_json(const struct server *s, struct jb *b,
    const struct vg_approval *a, int64_t now)
{
	char ids[VG_ID_STRLEN], list[256] = "";
	const char *state = a->state;
	size_t i, len = 0;

	for (i = 0; i < s->schema.nfields && len < sizeof(list); i++)
		if (a->fields & (1u << i))
			len += (size_t)snprintf(list + len, sizeof(list) - len,
			    "%s\"%s\"", len > 0 ? "," : "",
			    s->schema.field[i].name);
	/* A pending or approved request past its time is expired. */
	if (now >= a->expires && (strcmp(state, "pending") == 0 ||
	    strcmp(state, "approved") == 0))
		state = "expired";
	vg_id_format(ids, a->customer);
	jb_str(b, "{\"id\":");
	jb_quote(b, a->id, strlen(a->id));
	jb_str(b, ",\"principal\":");
	jb_quote(b, a->principal, strlen(a->principal));
	jb_str(b, ",\"customer_id\":");
	jb_quote(b, ids, strlen(ids));
	jb_fmt(b, ",\"fields\":[%s],\"purpose\":\"%s\"", list, a->purpose);
	if (a->case_id[0] != '\0')
		jb_fmt(b, ",\"case_id\":\"%s\"", a->case_id);
	jb_fmt(b, ",\"why\":\"%s\",\"state\":\"%s\",\"created\":%lld,"
	    "\"expires\":%lld", a->why, state, (long long)a->created,
	    (long long)a->expires);
	if (a->decided_by[0] != '\0') {
		jb_str(b, ",\"decided_by\":");
		jb_quote(b, a->decided_by, strlen(a->decided_by));
		jb_fmt(b, ",\"decided\":%lld", (long long)a->decided);
	}
	jb_str(b, "}");
}

static void
apply_approval(struct worker *w, struct pending *p)
{
	struct vg_approval a;
	int rc;

	rc = vg_approval_decide(w->vault, p->item, p->flag, p->principal,
	    p->now, &a);
	if (rc == VG_EEXIST) {
		apply_error(w, p, 409, "approval_decided", "the request was "
		    "decided meanwhile or has expired");
		return;
	}
	if (rc != 0) {
		log_event(w->srv, "error", "audited approval failed",
		    "\"request_id\":\"%s\",\"error\":\"%s\"", p->request_id,
		    vg_strerror(rc));
		apply_error(w, p, 500, "internal", "the approval could not be "
		    "stored");
		return;
	}
	approval_json(w->srv, &p->body, &a, p->now);
}

static int
h_approval(struct rq *q, json_t *body)
{
	enum route_id rid = q->m.def->id;
	const char *reason = NULL;
	struct vg_approval a;
	struct body_err be;
	struct pending *p;
	int rc;

	if (rid != R_APPROVAL_GET && body_reason(body, &reason, &be) != 0)
		return fail_now(q, be.status, be.code, be.field, "%s",
		    be.message);
	rc = vg_approval_get(q->w->vault, q->m.param, &a);
	if (rc == VG_ENOTFOUND || rc == VG_EINVAL)
		return fail_now(q, 404, "not_found", NULL, "no such approval");
	if (rc != 0)
		return fail_now(q, 500, "internal", NULL, "approvals cannot be "
		    "read (%s)", vg_strerror(rc));
	p = pending_new(q, rid == R_APPROVAL_GET ? "approval.read" :
	    rid == R_APPROVAL_APPROVE ? "approval.approve" :
	    "approval.reject");
	if (p == NULL)
		return -1;
	pending_entry(p, a.customer);
	snprintf(p->purpose, sizeof(p->purpose), "%s", a.purpose);
	snprintf(p->case_id, sizeof(p->case_id), "%s", a.case_id);
	snprintf(p->detail, sizeof(p->detail), "approval=%s,requester=%s%s%s",
	    a.id, a.principal, reason != NULL ? ",reason=" : "",
	    reason != NULL ? reason : "");
	if (rid == R_APPROVAL_GET) {
		/* The requester may follow their own request. */
		if (strcmp(a.principal, q->who.id) != 0 &&
		    !allowed(q, p, VG_ACT_APPROVE))
			return pending_submit(q, p);
		metrics_decision(&q->w->m, 0, VG_R_OK);
		approval_json(q->s, &p->body, &a, q->now);
		return pending_submit(q, p);
	}
	if (!allowed(q, p, VG_ACT_APPROVE))
		return pending_submit(q, p);
	if (strcmp(a.principal, q->who.id) == 0) {
		snprintf(p->decision, sizeof(p->decision), "deny");
		snprintf(p->reason, sizeof(p->reason), "self_approval");
		metrics_decision(&q->w->m, 1, "self_approval");
		pending_error(p, 403, "self_approval", "nobody approves their "
		    "own request");
		return pending_submit(q, p);
	}
	if (strcmp(a.state, "pending") != 0 || q->now >= a.expires) {
		snprintf(p->decision, sizeof(p->decision), "deny");
		snprintf(p->reason, sizeof(p->reason), "conflict");
		metrics_decision(&q->w->m, 1, "conflict");
		pending_error(p, 409, "approval_decided", "the request was "
		    "already decided or has expired");
		return pending_submit(q, p);
	}
	metrics_decision(&q->w->m, 0, VG_R_OK);
	snprintf(p->item, sizeof(p->item), "%s", a.id);
	p->flag = rid == R_APPROVAL_APPROVE;
	p->now = q->now;
	p->apply = apply_approval;
	return pending_submit(q, p);
}

/*-----------------------------------------------------------------------------
 * Principals
 */

static void
principal_json(struct jb *b, const struct vg_principal *x,
    struct vg_contain_map *cm)
{
	struct vg_contain_state cs;

	jb_str(b, "{\"id\":");
	jb_quote(b, x->id, strlen(x->id));
	jb_str(b, ",\"org\":");
	jb_quote(b, x->org, strlen(x->org));
	jb_fmt(b, ",\"kind\":\"%s\",\"role\":\"%s\",\"region\":\"%s\","
	    "\"state\":\"%s\",\"created\":%lld,\"shift\":", x->kind, x->role,
	    x->region, x->state, (long long)x->created);
	jb_quote(b, x->shift, strlen(x->shift));
	vg_contain_get(cm, x->id, &cs);
	jb_fmt(b, ",\"containment\":{\"level\":\"%s\"",
	    vg_contain_name(cs.level));
	if (cs.level != VG_CONTAIN_NONE)
		jb_fmt(b, ",\"alert\":\"%s\",\"since\":%lld", cs.alert,
		    (long long)(cs.since_ns / 1000000000));
	jb_str(b, "}}");
}

static void
apply_principal(struct worker *w, struct pending *p)
{
	struct vg_principal x;
	int rc;

	rc = vg_principal_set_state(w->vault, p->target,
	    p->flag ? "suspended" : "active");
	/* A reinstate also lifts the detector's containment: the security
	 * role has looked and decided (the audit entry says who). */
	if (rc == 0 && !p->flag)
		vg_contain_clear(w->srv->contain, p->target);
	/* Cached authentications of every worker are dropped. */
	atomic_fetch_add(&w->srv->auth_generation, 1);
	if (rc == 0)
		rc = vg_principal_get(w->vault, p->target, &x);
	if (rc != 0) {
		log_event(w->srv, "error", "audited principal change failed",
		    "\"request_id\":\"%s\",\"error\":\"%s\"", p->request_id,
		    vg_strerror(rc));
		apply_error(w, p, 500, "internal", "the principal could not be "
		    "changed");
		return;
	}
	principal_json(&p->body, &x, w->srv->contain);
}

static int
h_principal(struct rq *q, json_t *body)
{
	enum route_id rid = q->m.def->id;
	const char *reason = NULL;
	struct vg_principal x;
	struct body_err be;
	struct pending *p;
	int rc;

	if (rid != R_PRINCIPAL_GET && body_reason(body, &reason, &be) != 0)
		return fail_now(q, be.status, be.code, be.field, "%s",
		    be.message);
	p = pending_new(q, rid == R_PRINCIPAL_GET ? "principal.read" :
	    rid == R_PRINCIPAL_SUSPEND ? "principal.suspend" :
	    "principal.reinstate");
	if (p == NULL)
		return -1;
	snprintf(p->detail, sizeof(p->detail), "target=%s%s%s", q->m.param,
	    reason != NULL ? ",reason=" : "", reason != NULL ? reason : "");
	if (rid == R_PRINCIPAL_GET) {
		/* Everyone may see their own record. */
		if (strcmp(q->m.param, q->who.id) != 0 &&
		    !allowed(q, p, VG_ACT_PRINCIPAL_READ))
			return pending_submit(q, p);
	} else if (!allowed(q, p, VG_ACT_PRINCIPAL_ADMIN)) {
		return pending_submit(q, p);
	}
	rc = vg_principal_get(q->w->vault, q->m.param, &x);
	if (rc == VG_ENOTFOUND) {
		snprintf(p->decision, sizeof(p->decision), "miss");
		snprintf(p->reason, sizeof(p->reason), "not_found");
		pending_error(p, 404, "not_found", "no such principal");
		return pending_submit(q, p);
	}
	if (rc != 0) {
		pending_free(p);
		return fail_now(q, 500, "internal", NULL, "principals cannot "
		    "be read (%s)", vg_strerror(rc));
	}
	if (rid != R_PRINCIPAL_GET && strcmp(q->m.param, q->who.id) == 0) {
		snprintf(p->decision, sizeof(p->decision), "deny");
		snprintf(p->reason, sizeof(p->reason), "self");
		metrics_decision(&q->w->m, 1, "conflict");
		pending_error(p, 409, "conflict", "nobody suspends or "
		    "reinstates themselves");
		return pending_submit(q, p);
	}
	metrics_decision(&q->w->m, 0, VG_R_OK);
	if (rid == R_PRINCIPAL_GET) {
		principal_json(&p->body, &x, q->s->contain);
		return pending_submit(q, p);
	}
	snprintf(p->target, sizeof(p->target), "%s", x.id);
	p->flag = rid == R_PRINCIPAL_SUSPEND;
	p->now = q->now;
	p->apply = apply_principal;
	return pending_submit(q, p);
}

/*-----------------------------------------------------------------------------
 * Audit, health, metrics, OpenAPI
 */

static int
h_checkpoint(struct rq *q)
{
	struct vg_audit_status st;
	char path[4300], note[VG_NOTE_MAX + 1];
	struct jb b = { 0 };
	FILE *fp;
	size_t n = 0;
	int rc;

	vg_audit_status(q->s->audit, &st);
	snprintf(path, sizeof(path), "%s/checkpoint", q->s->chain_dir);
	if ((fp = fopen(path, "rb")) != NULL) {
		n = fread(note, 1, sizeof(note) - 1, fp);
		fclose(fp);
	}
	if (n == 0)
		return fail_now(q, 503, "no_checkpoint", NULL, "no checkpoint "
		    "has been signed yet");
	note[n] = '\0';
	jb_str(&b, "{\"chain\":");
	jb_quote(&b, q->s->cfg.node, strlen(q->s->cfg.node));
	jb_str(&b, ",\"checkpoint\":");
	jb_quote(&b, note, n);
	jb_str(&b, ",\"verifier_key\":");
	jb_quote(&b, st.vkey, strlen(st.vkey));
	jb_fmt(&b, ",\"entries\":%llu}", (unsigned long long)st.size);
	rc = b.oom ? fail_now(q, 500, "internal", NULL, "out of memory") :
	    send_now(q, 200, "application/json", b.buf, b.len);
	jb_free(&b);
	return rc;
}

static int
h_proof(struct rq *q)
{
	struct vg_audit_proof *pf;
	struct pending *p;
	unsigned long long seq;
	const char *why = "";
	char *s, *end, qs[32];
	int rc;

	if (q->m.query == NULL || q->m.query_len < 5 ||
	    q->m.query_len >= sizeof(qs) ||
	    memcmp(q->m.query, "seq=", 4) != 0)
		return fail_now(q, 400, "invalid_field", "seq", "give the "
		    "entry as ?seq=N");
	memcpy(qs, q->m.query + 4, q->m.query_len - 4);
	qs[q->m.query_len - 4] = '\0';
	if (qs[0] < '0' || qs[0] > '9')
		return fail_now(q, 400, "invalid_field", "seq", "seq is a "
		    "number");
	seq = strtoull(qs, &end, 10);
	if (*end != '\0')
		return fail_now(q, 400, "invalid_field", "seq", "seq is a "
		    "number");
	if ((p = pending_new(q, "audit.proof")) == NULL)
		return -1;
	snprintf(p->detail, sizeof(p->detail), "seq=%llu", seq);
	if (!allowed(q, p, VG_ACT_AUDIT_READ))
		return pending_submit(q, p);
	if ((pf = malloc(sizeof(*pf))) == NULL) {
		pending_free(p);
		return -1;
	}
	rc = vg_audit_prove(q->s->chain_dir, seq, pf, &why);
	if (rc != 0) {
		free(pf);
		snprintf(p->decision, sizeof(p->decision), "miss");
		snprintf(p->reason, sizeof(p->reason), "not_found");
		pending_error(p, 404, "not_found", "no proof for this entry: "
		    "%s", why);
		return pending_submit(q, p);
	}
	s = vg_audit_proof_json(pf, q->s->cfg.node);
	free(pf);
	if (s == NULL) {
		pending_free(p);
		return -1;
	}
	jb_str(&p->body, s);
	free(s);
	return pending_submit(q, p);
}

/* docs/openapi.yaml, embedded at build time (Makefile). */
extern const unsigned char vg_openapi_yaml[];
extern const size_t vg_openapi_yaml_len;

static int
h_openapi(struct rq *q)
{
	return send_now(q, 200, "application/yaml",
	    (const char *)vg_openapi_yaml, vg_openapi_yaml_len);
}

static int
h_metrics(struct rq *q)
{
	size_t n;
	char *s = metrics_render(q->s, &n);
	int rc;

	if (s == NULL)
		return fail_now(q, 500, "internal", NULL, "out of memory");
	rc = send_now(q, 200, "text/plain; version=0.0.4", s, n);
	free(s);
	return rc;
}

static int
h_healthz(struct rq *q)
{
	struct vg_audit_status st;
	struct jb b = { 0 };
	const char *state;
	int rc;

	vg_audit_status(q->s->audit, &st);
	state = atomic_load(&q->s->stopping) ? "stopping" :
	    st.failed ? "audit_failed" : "ok";
	jb_fmt(&b, "{\"status\":\"%s\",\"version\":\"%s\",\"audit_entries\":"
	    "%llu,\"policy\":\"%s\",\"uptime_s\":%lld}", state, VG_VERSION,
	    (unsigned long long)st.size, vg_policy_digest(q->pol->p),
	    (long long)(q->now - q->s->started));
	rc = b.oom ? -1 : send_now(q, strcmp(state, "ok") == 0 ? 200 : 503,
	    "application/json", b.buf, b.len);
	jb_free(&b);
	return rc;
}

/*-----------------------------------------------------------------------------
 * Entry point
 */

static void
peer(h2o_req_t *req, char *out, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len;

	snprintf(out, cap, "-");
	len = req->conn->callbacks->get_peername(req->conn,
	    (struct sockaddr *)&ss);
	if (len == 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out,
		    (socklen_t)cap);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    out, (socklen_t)cap);
}

/*-----------------------------------------------------------------------------
 * Alerts (the security role)
 */

/* One stored alert: its state, and the alert as vg_alert_json wrote it. */
static void
alert_row_json(struct jb *b, const struct vg_alert_row *r)
{
	jb_str(b, "{\"id\":");
	jb_quote(b, r->id, strlen(r->id));
	jb_fmt(b, ",\"state\":\"%s\",\"acked_by\":", r->state);
	jb_quote(b, r->acked_by, strlen(r->acked_by));
	jb_fmt(b, ",\"acked_at\":%lld,\"alert\":", (long long)r->acked_at);
	jb_str(b, r->json[0] != '\0' ? r->json : "null");
	jb_str(b, "}");
}

struct alert_page {
	struct jb *b;
	size_t n;
	int64_t last_ns;
	char last_id[VG_ALERT_ID_MAX];
};

static int
alert_page_add(void *ctx, const struct vg_alert_row *r)
{
	struct alert_page *pg = ctx;

	if (pg->n++ > 0)
		jb_str(pg->b, ",");
	alert_row_json(pg->b, r);
	pg->last_ns = r->time_ns;
	memcpy(pg->last_id, r->id, sizeof(pg->last_id));
	return 0;
}

static int
h_alert_list(struct rq *q)
{
	struct alert_filter af;
	struct vg_alert_query f;
	struct alert_page pg;
	struct pending *p;
	const char *bad;
	int rc;

	if (route_alert_query(q->m.query != NULL ? q->m.query : "",
	    q->m.query != NULL ? q->m.query_len : 0, &af, &bad) != 0)
		return fail_now(q, 400, "invalid_field", bad, "bad query "
		    "parameter %s (principal=ID, state=open|acked, severity="
		    "low|medium|high|critical, before=NS, limit=1..%d, each "
		    "at most once)", bad, ROUTE_ALERTS_LIMIT_MAX);
	memset(&f, 0, sizeof(f));
	f.principal = af.principal[0] != '\0' ? af.principal : NULL;
	f.state = af.state[0] != '\0' ? af.state : NULL;
	f.min_severity = af.min_severity;
	f.before_ns = af.before_ns;
	f.before_id = af.before_id[0] != '\0' ? af.before_id : NULL;
	f.limit = af.limit;
	if ((p = pending_new(q, "alert.list")) == NULL)
		return -1;
	if (!allowed(q, p, VG_ACT_ALERTS))
		return pending_submit(q, p);
	metrics_decision(&q->w->m, 0, VG_R_OK);
	memset(&pg, 0, sizeof(pg));
	pg.b = &p->body;
	jb_str(&p->body, "{\"alerts\":[");
	rc = vg_alert_list(q->w->vault, &f, alert_page_add, &pg);
	if (rc != 0) {
		pending_free(p);
		return fail_now(q, 500, "internal", NULL, "alerts cannot be "
		    "read (%s)", vg_strerror(rc));
	}
	/* The next page: alerts older than the last one listed. */
	if (pg.n == f.limit)
		jb_fmt(&p->body, "],\"next_before\":\"%lld.%s\"}",
		    (long long)pg.last_ns, pg.last_id);
	else
		jb_str(&p->body, "],\"next_before\":null}");
	snprintf(p->detail, sizeof(p->detail), "count=%zu", pg.n);
	return pending_submit(q, p);
}

static void
apply_alert_ack(struct worker *w, struct pending *p)
{
	struct vg_alert_row *r;
	int rc = vg_alert_ack(w->vault, p->item, p->principal, p->now);

	if (rc == VG_EEXIST) {
		apply_error(w, p, 409, "alert_already_acked", "the alert was "
		    "acknowledged already");
		return;
	}
	if (rc == VG_ENOTFOUND) {
		apply_error(w, p, 404, "not_found", "no such alert");
		return;
	}
	if (rc != 0 || (r = malloc(sizeof(*r))) == NULL) {
		apply_error(w, p, 500, "internal", "the alert could not be "
		    "acknowledged");
		return;
	}
	if (vg_alert_get(w->vault, p->item, r) == 0)
		alert_row_json(&p->body, r);
	else
		apply_error(w, p, 500, "internal", "the alert could not be "
		    "read back");
	free(r);
}

static int
h_alert(struct rq *q, json_t *body)
{
	enum route_id rid = q->m.def->id;
	const char *reason = NULL;
	struct vg_alert_row *r;
	struct body_err be;
	struct pending *p;
	int rc;

	if (rid == R_ALERT_ACK && body_reason(body, &reason, &be) != 0)
		return fail_now(q, be.status, be.code, be.field, "%s",
		    be.message);
	p = pending_new(q, rid == R_ALERT_GET ? "alert.read" : "alert.ack");
	if (p == NULL)
		return -1;
	snprintf(p->detail, sizeof(p->detail), "alert=%s%s%s", q->m.param,
	    reason != NULL ? ",reason=" : "", reason != NULL ? reason : "");
	if (!allowed(q, p, VG_ACT_ALERTS))
		return pending_submit(q, p);
	if ((r = malloc(sizeof(*r))) == NULL) {
		pending_free(p);
		return -1;
	}
	rc = vg_alert_get(q->w->vault, q->m.param, r);
	if (rc == VG_ENOTFOUND) {
		free(r);
		snprintf(p->decision, sizeof(p->decision), "miss");
		snprintf(p->reason, sizeof(p->reason), "not_found");
		pending_error(p, 404, "not_found", "no such alert");
		return pending_submit(q, p);
	}
	if (rc != 0) {
		free(r);
		pending_free(p);
		return fail_now(q, 500, "internal", NULL, "alerts cannot be "
		    "read (%s)", vg_strerror(rc));
	}
	metrics_decision(&q->w->m, 0, VG_R_OK);
	if (rid == R_ALERT_GET) {
		alert_row_json(&p->body, r);
		free(r);
		return pending_submit(q, p);
	}
	if (strcmp(r->state, "open") != 0) {
		free(r);
		snprintf(p->decision, sizeof(p->decision), "deny");
		snprintf(p->reason, sizeof(p->reason), "conflict");
		pending_error(p, 409, "alert_already_acked", "the alert was "
		    "acknowledged already");
		return pending_submit(q, p);
	}
	free(r);
	snprintf(p->item, sizeof(p->item), "%.19s", q->m.param);
	p->now = q->now;
	p->apply = apply_alert_ack;
	return pending_submit(q, p);
}

/*-----------------------------------------------------------------------------
 * Exports (the marketing_ops role; vigil/export.h)
 *
 * An export runs on this worker, start to end: vg_export_make() decides,
 * audits every row and the manifest with vg_audit_append_many() (waiting
 * for the log on this thread, not through the loop's batch), stores the
 * manifest and writes the CSV into a buffer that is wiped when freed;
 * only then is it handed to h2o.  The worker serves nothing else
 * meanwhile (docs/API.md, "Exports", has the cost); requests on other
 * workers go on.
 */

static int
export_sink(void *ctx, const void *buf, size_t len)
{
	struct jb *b = ctx;

	jb_raw(b, buf, len);
	return b->oom ? VG_ENOMEM : 0;
}

/* A jb handed to h2o: wiped and freed with the request. */
struct owned {
	char *buf;
	size_t cap;
};

static void
owned_dispose(void *p)
{
	struct owned *o = p;

	if (o->buf != NULL) {
		sodium_memzero(o->buf, o->cap);
		free(o->buf);
	}
}

static void
add_header(h2o_req_t *req, const char *name, const char *value)
{
	h2o_add_header_by_str(&req->pool, &req->res.headers, name,
	    strlen(name), 0, NULL, h2o_strdup(&req->pool, value,
	    SIZE_MAX).base, strlen(value));
}

/* Sends the file: 200, text/csv, the export's headers; b is taken. */
static void
send_csv(struct rq *q, struct jb *b, const struct vg_export_info *m)
{
	static h2o_generator_t gen = { NULL, NULL };
	h2o_req_t *req = q->req;
	struct owned *o;
	h2o_iovec_t iov;
	char num[32], disp[96];
	int64_t us;

	o = h2o_mem_alloc_shared(&req->pool, sizeof(*o), owned_dispose);
	o->buf = b->buf;
	o->cap = b->cap;
	iov = h2o_iovec_init(b->buf, b->len);
	memset(b, 0, sizeof(*b));
	req->res.status = 200;
	req->res.reason = reason_phrase(200);
	req->res.content_length = iov.len;
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
	    NULL, H2O_STRLIT("text/csv"));
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL,
	    NULL, H2O_STRLIT("no-store"));
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.csv\"", m->id);
	add_header(req, "content-disposition", disp);
	add_header(req, "x-request-id", q->request_id);
	add_header(req, "x-vigil-export", m->id);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)m->rows);
	add_header(req, "x-vigil-export-rows", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)m->canaries);
	add_header(req, "x-vigil-export-canaries", num);
	h2o_start_response(req, &gen);
	h2o_send(req, &iov, 1, H2O_SEND_STATE_FINAL);
	us = (mono_ns() - q->t0) / 1000;
	metrics_request(&q->w->m, R_EXPORT_CREATE, 200, us);
	log_request(q->w, route_by_id(R_EXPORT_CREATE)->name, 200, q->who.id,
	    q->request_id, NULL, us);
}

/* The status of a refused export. */
static int
export_status(const char *reason)
{
	if (strcmp(reason, VG_R_TOO_MANY_ROWS) == 0)
		return 413;
	if (strcmp(reason, "no_rows") == 0 ||
	    strcmp(reason, "no_canaries") == 0)
		return 422;
	return 403;
}

static int
h_export_create(struct rq *q, json_t *body)
{
	struct export_req r;
	struct body_err be;
	struct vg_export_request rq;
	struct vg_export_result res;
	struct vg_export_ctx ec;
	struct vg_contain_state cs;
	struct jb b = { 0 };
	int rc;

	if (body_export(body, &r, &be) != 0)
		return fail_now(q, be.status, be.code, be.field, "%s",
		    be.message);
	memset(&rq, 0, sizeof(rq));
	rq.consumer = r.consumer;
	rq.recipient = r.recipient;
	rq.purpose = r.purpose;
	rq.fields = r.field;
	rq.nfields = r.nfields;
	rq.region = r.region;
	rq.limit = r.limit;
	vg_contain_get(q->s->contain, q->who.id, &cs);
	memset(&ec, 0, sizeof(ec));
	ec.vault = q->w->vault;
	ec.vault_dir = q->s->cfg.dir;
	ec.policy = q->pol->p;
	ec.audit = q->s->audit;
	ec.chain = q->s->cfg.node;
	ec.who = &q->who;
	ec.containment = (int)cs.level;
	ec.now = q->now;
	ec.request_id = q->request_id;
	ec.client = q->client;
	rc = vg_export_make(&ec, &rq, export_sink, &b, &res);
	if (rc == 0 && res.allowed) {
		metrics_decision(&q->w->m, 0, VG_R_OK);
		log_event(q->s, "info", "export made", "\"principal\":\"%s\","
		    "\"export\":\"%s\",\"consumer\":\"%s\",\"recipient\":\"%s\","
		    "\"rows\":%llu,\"request_id\":\"%s\"", q->who.id,
		    res.info.id, res.info.consumer, res.info.recipient,
		    (unsigned long long)res.info.rows, q->request_id);
		send_csv(q, &b, &res.info);
		return 0;
	}
	jb_free(&b);
	if (rc == 0) {
		struct jb eb = { 0 };
		int status = export_status(res.reason);

		metrics_decision(&q->w->m, 1, res.reason);
		error_body(&eb, res.reason, res.message[0] != '\0' ?
		    res.message : reason_text(res.reason), NULL,
		    q->request_id);
		jb_str(&eb, "}}");
		rc = eb.oom ? -1 : 0;
		if (!eb.oom)
			send_body(q->w, q->req, R_EXPORT_CREATE, q->t0, status,
			    "application/json", eb.buf, eb.len, q->request_id,
			    q->who.id, res.reason, 0);
		jb_free(&eb);
		return rc;
	}
	if (rc == VG_EINVAL)
		return fail_now(q, 400, "invalid_field", res.field, "%s",
		    res.message);
	if (rc == VG_EIO && !res.audited) {
		atomic_fetch_add(&q->s->audit_errors, 1);
		return fail_now(q, 503, "audit_unavailable", NULL, "the audit "
		    "log cannot be written; nothing was done or exported");
	}
	log_event(q->s, "error", "export failed", "\"request_id\":\"%s\","
	    "\"export\":\"%s\",\"error\":\"%s\"", q->request_id, res.info.id,
	    vg_strerror(rc));
	return fail_now(q, 500, "internal", NULL, "the export failed (%s); "
	    "nothing was sent", vg_strerror(rc));
}

/* A manifest as JSON: the CLI's `export show --json` shape. */
static void
export_json(struct jb *b, const struct vg_export_info *m)
{
	const char *lists[2] = { m->fields, m->clear };
	int k;

	jb_str(b, "{\"id\":");
	jb_quote(b, m->id, strlen(m->id));
	jb_str(b, ",\"principal\":");
	jb_quote(b, m->principal, strlen(m->principal));
	jb_str(b, ",\"consumer\":");
	jb_quote(b, m->consumer, strlen(m->consumer));
	jb_str(b, ",\"recipient\":");
	jb_quote(b, m->recipient, strlen(m->recipient));
	jb_str(b, ",\"purpose\":");
	jb_quote(b, m->purpose, strlen(m->purpose));
	jb_fmt(b, ",\"created\":%lld,\"rows\":%llu,\"canaries\":%llu",
	    (long long)m->created, (unsigned long long)m->rows,
	    (unsigned long long)m->canaries);
	for (k = 0; k < 2; k++) {
		const char *p = lists[k], *c;

		jb_str(b, k == 0 ? ",\"fields\":[" : "],\"clear\":[");
		while (*p != '\0') {
			c = strchr(p, ',');
			if (c == NULL)
				c = p + strlen(p);
			if (p != lists[k])
				jb_str(b, ",");
			jb_quote(b, p, (size_t)(c - p));
			p = *c == ',' ? c + 1 : c;
		}
	}
	jb_str(b, "],\"region\":");
	if (m->region[0] != '\0')
		jb_quote(b, m->region, strlen(m->region));
	else
		jb_str(b, "null");
	jb_str(b, ",\"canary_set\":");
	jb_quote(b, m->canary_set, strlen(m->canary_set));
	jb_str(b, ",\"chain\":");
	jb_quote(b, m->chain, strlen(m->chain));
	jb_fmt(b, ",\"manifest_seq\":%llu}", (unsigned long long)m->manifest_seq);
}

static int
h_export_get(struct rq *q)
{
	struct vg_export_info m;
	struct pending *p;
	int rc;

	p = pending_new(q, "export.read");
	if (p == NULL)
		return -1;
	snprintf(p->detail, sizeof(p->detail), "export=%s", q->m.param);
	/* Whoever may export, and the auditors (audit_read). */
	if (!vg_policy_role_has(q->pol->p, q->who.role, VG_ACT_EXPORT) &&
	    !allowed(q, p, VG_ACT_AUDIT_READ))
		return pending_submit(q, p);
	rc = vg_export_get(q->w->vault, q->m.param, &m);
	if (rc == VG_ENOTFOUND || rc == VG_EINVAL) {
		snprintf(p->decision, sizeof(p->decision), "miss");
		snprintf(p->reason, sizeof(p->reason), "not_found");
		pending_error(p, 404, "not_found", "no such export");
		return pending_submit(q, p);
	}
	if (rc != 0) {
		pending_free(p);
		return fail_now(q, 500, "internal", NULL, "exports cannot be "
		    "read (%s)", vg_strerror(rc));
	}
	metrics_decision(&q->w->m, 0, VG_R_OK);
	export_json(&p->body, &m);
	return pending_submit(q, p);
}

/*-----------------------------------------------------------------------------
 * Leak tracing (the security role; vigil/trace.h)
 *
 * A trace reads the whole audit log and may take seconds: it runs on a
 * thread of its own, one at a time per server, over its own vault
 * handle and a copy of the file.  The worker that took the request gets
 * the report back through its queue (api_on_trace), fills the trace's
 * audit entry ("leak.trace" with the file's SHA-256 and the counts,
 * never a value) and answers once that entry is durable, like every
 * other answer.  Shutdown waits for a running trace as for any answer
 * the log owes (up to limits.shutdown_timeout).
 */
struct tracejob {
	h2o_multithread_message_t msg;	/* first: the queue's link */
	struct worker *w;
	struct pending *p;
	char dir[4096];
	unsigned char *data;		/* the file, wiped after */
	size_t len, off;
	int rc;
	char err[512];
	char *report;			/* JSON text, on success */
	char detail[VG_AUDIT_STR_MAX + 1];
};

static ssize_t
trace_read(void *ctx, void *buf, size_t n)
{
	struct tracejob *j = ctx;

	if (n > j->len - j->off)
		n = j->len - j->off;
	memcpy(buf, j->data + j->off, n);
	j->off += n;
	return (ssize_t)n;
}

static void *
trace_run(void *arg)
{
	struct tracejob *j = arg;
	struct vg_vault *v = NULL;
	unsigned char digest[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	json_t *rep = NULL;

	crypto_hash_sha256(digest, j->data, j->len);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	j->rc = vg_vault_open(j->dir, &v, j->err, sizeof(j->err));
	if (j->rc == 0)
		j->rc = vg_leak_trace(v, j->dir, trace_read, j, NULL, NULL,
		    NULL, &rep, j->err, sizeof(j->err));
	vg_leak_trace_stamp(j->rc == 0 ? rep : NULL, hex, j->detail,
	    sizeof(j->detail));
	if (j->rc == 0 && (j->report = json_dumps(rep, JSON_COMPACT)) ==
	    NULL) {
		j->rc = VG_ENOMEM;
		snprintf(j->err, sizeof(j->err), "out of memory");
	}
	json_decref(rep);
	vg_vault_close(v);
	sodium_memzero(j->data, j->len);
	free(j->data);
	j->data = NULL;
	h2o_multithread_send_message(&j->w->trace_rx, &j->msg);
	return NULL;
}

/* A leaked file's media types: text of some kind. */
static bool
trace_ctype_ok(h2o_req_t *req)
{
	static const char *const ok[] = {
		"text/csv", "text/plain", "text/tab-separated-values",
	};
	ssize_t ct = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE,
	    -1);
	const char *v;
	size_t len, i, n;

	if (ct < 0)
		return false;
	v = req->headers.entries[ct].value.base;
	len = req->headers.entries[ct].value.len;
	for (n = 0; n < len && v[n] != ';' && v[n] != ' '; n++)
		;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strlen(ok[i]) == n && strncasecmp(v, ok[i], n) == 0)
			return true;
	return false;
}

static int
h_leak_trace(struct rq *q)
{
	struct tracejob *j;
	struct pending *p;
	pthread_attr_t attr;
	pthread_t thr;
	int rc;

	if ((p = pending_new(q, "leak.trace")) == NULL)
		return -1;
	snprintf(p->purpose, sizeof(p->purpose), "investigation");
	if (!allowed(q, p, VG_ACT_LEAK_TRACE))
		return pending_submit(q, p);
	if (q->req->query_at != SIZE_MAX) {
		pending_free(p);
		return fail_now(q, 400, "bad_query", NULL, "this route takes "
		    "no query parameters: the layout is sniffed (vigil trace "
		    "forces it)");
	}
	if (!trace_ctype_ok(q->req)) {
		pending_free(p);
		return fail_now(q, 415, "unsupported_media_type", NULL, "send "
		    "the leaked file as text/csv, text/tab-separated-values or "
		    "text/plain");
	}
	if (q->req->entity.len == 0) {
		pending_free(p);
		return fail_now(q, 400, "bad_file", NULL, "the file is empty");
	}
	if (atomic_exchange(&q->s->tracing, 1) != 0) {
		snprintf(p->decision, sizeof(p->decision), "deny");
		snprintf(p->reason, sizeof(p->reason), "busy");
		p->retry_after = 5;
		pending_error(p, 429, "trace_running", "a leak trace is "
		    "running; one runs at a time");
		return pending_submit(q, p);
	}
	j = calloc(1, sizeof(*j));
	if (j != NULL && (j->data = malloc(q->req->entity.len)) == NULL) {
		free(j);
		j = NULL;
	}
	if (j == NULL) {
		atomic_store(&q->s->tracing, 0);
		pending_free(p);
		return fail_now(q, 500, "internal", NULL, "out of memory");
	}
	memcpy(j->data, q->req->entity.base, q->req->entity.len);
	j->len = q->req->entity.len;
	j->w = q->w;
	j->p = p;
	scopy(j->dir, sizeof(j->dir), q->s->cfg.dir);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&thr, &attr, trace_run, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		atomic_store(&q->s->tracing, 0);
		sodium_memzero(j->data, j->len);
		free(j->data);
		free(j);
		pending_free(p);
		return fail_now(q, 503, "unavailable", NULL, "cannot start a "
		    "trace now");
	}
	q->w->inflight++;	/* shutdown waits for it */
	return 0;
}

void
api_on_trace(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
	struct worker *w = H2O_STRUCT_FROM_MEMBER(struct worker, trace_rx,
	    rx);

	while (!h2o_linklist_is_empty(messages)) {
		struct tracejob *j = H2O_STRUCT_FROM_MEMBER(struct tracejob,
		    msg.link, messages->next);
		struct pending *p = j->p;

		h2o_linklist_unlink(&j->msg.link);
		w->inflight--;
		atomic_store(&w->srv->tracing, 0);
		scopy(p->detail, sizeof(p->detail), j->detail);
		if (j->rc == 0) {
			metrics_decision(&w->m, 0, VG_R_OK);
			jb_str(&p->body, j->report);
		} else {
			/* The file's faults are the client's; the reasons
			 * name lines and columns, never a value. */
			bool client = j->rc == VG_EINVAL ||
			    j->rc == VG_EFORMAT || j->rc == VG_ETOOBIG;

			snprintf(p->decision, sizeof(p->decision), "deny");
			snprintf(p->reason, sizeof(p->reason), "%s", client ?
			    "bad_file" : "error");
			if (client)
				pending_error(p, j->rc == VG_EINVAL ? 422 : 400,
				    j->rc == VG_EINVAL ? "no_usable_column" :
				    "bad_file", "%s", j->err);
			else
				pending_error(p, 500, "internal", "the trace "
				    "failed: %s", j->err);
			jb_str(&p->body, "}}");
		}
		if (j->report != NULL) {
			sodium_memzero(j->report, strlen(j->report));
			free(j->report);
		}
		free(j);
		if (p->n == 0)
			pending_entry(p, NULL);
		fill_entries(p);
		if (p->body.oom) {
			jb_free(&p->body);
			memset(&p->body, 0, sizeof(p->body));
			p->status = 500;
			scopy(p->code, sizeof(p->code), "internal");
			error_body(&p->body, "internal", "out of memory", NULL,
			    p->request_id);
			jb_str(&p->body, "}}");
		}
		pending_queue(w, p);
	}
}

/* The audit action of a route (what its handler writes). */
static const char *
audit_action(enum route_id r)
{
	switch (r) {
	case R_CUSTOMER_CREATE: return "create";
	case R_CUSTOMER_GET: return "view";
	case R_CUSTOMER_REVEAL: return "reveal";
	case R_LOOKUP: return "lookup";
	case R_CASE_OPEN: return "case.open";
	case R_CASE_GET: return "case.read";
	case R_CASE_ASSIGN: return "case.assign";
	case R_CASE_CLOSE: return "case.close";
	case R_APPROVAL_GET: return "approval.read";
	case R_APPROVAL_APPROVE: return "approval.approve";
	case R_APPROVAL_REJECT: return "approval.reject";
	case R_PRINCIPAL_GET: return "principal.read";
	case R_PRINCIPAL_SUSPEND: return "principal.suspend";
	case R_PRINCIPAL_REINSTATE: return "principal.reinstate";
	case R_AUDIT_PROOF: return "audit.proof";
	case R_ALERT_LIST: return "alert.list";
	case R_ALERT_GET: return "alert.read";
	case R_ALERT_ACK: return "alert.ack";
	case R_EXPORT_CREATE: return "export";
	case R_EXPORT_GET: return "export.read";
	case R_LEAK_TRACE: return "leak.trace";
	default: return "request";
	}
}

/* The Bearer token, or NULL. */
static const char *
bearer(h2o_req_t *req, char *buf, size_t cap)
{
	ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION,
	    -1);
	h2o_iovec_t v;

	if (i < 0)
		return NULL;
	v = req->headers.entries[i].value;
	if (v.len < 8 || strncasecmp(v.base, "Bearer ", 7) != 0 ||
	    v.len - 7 >= cap)
		return NULL;
	memcpy(buf, v.base + 7, v.len - 7);
	buf[v.len - 7] = '\0';
	return buf;
}

static size_t
header_bytes(const h2o_req_t *req)
{
	size_t i, n = 0;

	for (i = 0; i < req->headers.size; i++)
		n += req->headers.entries[i].name->len +
		    req->headers.entries[i].value.len + 4;
	return n;
}

/* Sim mode: X-Vigil-Sim-Time (unix ns) moves the server's clock
 * forward, never back. */
static void
sim_time(struct server *s, h2o_req_t *req)
{
	static const char name[] = "x-vigil-sim-time";
	ssize_t i = h2o_find_header_by_str(&req->headers, name,
	    sizeof(name) - 1, -1);
	char buf[24], *end;
	long long v;
	int64_t cur;

	if (i < 0 || req->headers.entries[i].value.len == 0 ||
	    req->headers.entries[i].value.len >= sizeof(buf))
		return;
	memcpy(buf, req->headers.entries[i].value.base,
	    req->headers.entries[i].value.len);
	buf[req->headers.entries[i].value.len] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (*end != '\0' || errno != 0 || v <= 0)
		return;
	cur = atomic_load(&s->sim_ns);
	while (v > cur && !atomic_compare_exchange_weak(&s->sim_ns, &cur, v))
		;
}

int64_t
server_ns(struct server *s)
{
	int64_t v;

	if (!s->cfg.sim_clock || (v = atomic_load(&s->sim_ns)) == 0)
		return now_ns();
	return v;
}

int
api_handle(struct worker *w, h2o_req_t *req)
{
	struct rq q;
	unsigned char rnd[16];
	char keybuf[VG_APIKEY_STRLEN + 8];
	const char *key;
	json_t *body = NULL;
	ssize_t ct;
	int rc;

	memset(&q, 0, sizeof(q));
	q.w = w;
	q.s = w->srv;
	q.req = req;
	q.t0 = mono_ns();
	if (q.s->cfg.sim_clock)
		sim_time(q.s, req);
	q.now = server_ns(q.s) / 1000000000;
	vg_random(rnd, sizeof(rnd));
	sodium_bin2hex(q.request_id, sizeof(q.request_id), rnd, sizeof(rnd));
	if (!route_match(req->method.base, req->method.len, req->path.base,
	    req->path.len, &q.m))
		return fail_now(&q, 404, "not_found", NULL, "no such route");
	if (!q.m.method_ok) {
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW,
		    NULL, h2o_strdup(&req->pool, q.m.allow, SIZE_MAX).base,
		    strlen(q.m.allow));
		return fail_now(&q, 405, "method_not_allowed", NULL, "use %s",
		    q.m.allow);
	}
	if (header_bytes(req) > q.s->cfg.header_max)
		return fail_now(&q, 431, "headers_too_large", NULL, "request "
		    "headers exceed %zu bytes", q.s->cfg.header_max);
	if (req->entity.len > (q.m.def->id == R_LEAK_TRACE ?
	    config_trace_max(&q.s->cfg) : q.s->cfg.body_max))
		return fail_now(&q, 413, "body_too_large", NULL, "the body "
		    "exceeds %zu bytes", q.m.def->id == R_LEAK_TRACE ?
		    config_trace_max(&q.s->cfg) : q.s->cfg.body_max);
	if (!q.m.param_ok)
		return fail_now(&q, 404, "not_found", NULL, "no such %s",
		    q.m.def->param == P_CUSTOMER ? "customer" :
		    q.m.def->param == P_CASE ? "case" :
		    q.m.def->param == P_APPROVAL ? "approval" :
		    q.m.def->param == P_EXPORT ? "export" :
		    q.m.def->param == P_ALERT ? "alert" : "principal");
	peer(req, q.client, sizeof(q.client));
	q.pol = policy_get(q.s);
	switch (q.m.def->id) {
	case R_HEALTHZ:
		rc = h_healthz(&q);
		goto out;
	case R_OPENAPI:
		rc = h_openapi(&q);
		goto out;
	case R_METRICS:
		if (q.s->cfg.metrics_public) {
			rc = h_metrics(&q);
			goto out;
		}
		break;
	default:
		break;
	}

	key = bearer(req, keybuf, sizeof(keybuf));
	if (key == NULL) {
		rc = fail_now(&q, 401, "unauthenticated", NULL, "send "
		    "Authorization: Bearer <API key>");
		goto out;
	}
	rc = vg_authcache_check(w->auth, key,
	    atomic_load(&q.s->auth_generation), now_ns() / 1000000, &q.who);
	sodium_memzero(keybuf, sizeof(keybuf));
	if (rc != 0) {
		rc = rc == VG_EBADKEY ? fail_now(&q, 401, "unauthenticated",
		    NULL, "the API key is not valid") :
		    fail_now(&q, 500, "internal", NULL, "principals cannot be "
		    "read (%s)", vg_strerror(rc));
		goto out;
	}
	q.authed = true;
	if (strcmp(q.who.state, "active") != 0) {
		/* A suspended principal's every request is refused, and
		 * audited: a suspended insider still trying is a signal. */
		struct pending *p = pending_new(&q, audit_action(q.m.def->id));

		if (p == NULL) {
			rc = -1;
			goto out;
		}
		if (q.m.def->param == P_CUSTOMER)
			pending_entry(p, q.m.id);
		snprintf(p->decision, sizeof(p->decision), "deny");
		snprintf(p->reason, sizeof(p->reason), "%s", VG_R_SUSPENDED);
		metrics_decision(&w->m, 1, VG_R_SUSPENDED);
		pending_error(p, 403, VG_R_SUSPENDED, "%s",
		    reason_text(VG_R_SUSPENDED));
		rc = pending_submit(&q, p);
		goto out;
	}
	if (q.m.def->id == R_METRICS) {
		rc = h_metrics(&q);
		goto out;
	}
	if (q.m.def->has_body) {
		struct body_err be;

		ct = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
		body = body_parse(req->entity.base, req->entity.len,
		    ct >= 0 ? req->headers.entries[ct].value.base : NULL,
		    ct >= 0 ? req->headers.entries[ct].value.len : 0,
		    q.m.def->id != R_CUSTOMER_REVEAL &&
		    q.m.def->id != R_LOOKUP && q.m.def->id != R_CASE_OPEN &&
		    q.m.def->id != R_CASE_ASSIGN &&
		    q.m.def->id != R_CUSTOMER_CREATE &&
		    q.m.def->id != R_EXPORT_CREATE, &be);
		if (body == NULL) {
			rc = fail_now(&q, be.status, be.code, be.field, "%s",
			    be.message);
			goto out;
		}
	}
	switch (q.m.def->id) {
	case R_CUSTOMER_CREATE:
		rc = h_customer_create(&q, body);
		break;
	case R_CUSTOMER_GET:
		rc = h_customer_get(&q);
		break;
	case R_CUSTOMER_REVEAL:
		rc = h_customer_reveal(&q, body);
		break;
	case R_LOOKUP:
		rc = h_lookup(&q, body);
		break;
	case R_CASE_OPEN:
		rc = h_case_open(&q, body);
		break;
	case R_CASE_GET:
	case R_CASE_ASSIGN:
	case R_CASE_CLOSE:
		rc = h_case(&q, body);
		break;
	case R_APPROVAL_GET:
	case R_APPROVAL_APPROVE:
	case R_APPROVAL_REJECT:
		rc = h_approval(&q, body);
		break;
	case R_PRINCIPAL_GET:
	case R_PRINCIPAL_SUSPEND:
	case R_PRINCIPAL_REINSTATE:
		rc = h_principal(&q, body);
		break;
	case R_AUDIT_CHECKPOINT:
		rc = h_checkpoint(&q);
		break;
	case R_AUDIT_PROOF:
		rc = h_proof(&q);
		break;
	case R_ALERT_LIST:
		rc = h_alert_list(&q);
		break;
	case R_ALERT_GET:
	case R_ALERT_ACK:
		rc = h_alert(&q, body);
		break;
	case R_EXPORT_CREATE:
		rc = h_export_create(&q, body);
		break;
	case R_LEAK_TRACE:
		rc = h_leak_trace(&q);
		break;
	case R_EXPORT_GET:
		rc = h_export_get(&q);
		break;
	default:
		rc = fail_now(&q, 404, "not_found", NULL, "no such route");
		break;
	}
out:
	if (body != NULL)
		json_decref(body);
	if (q.pol != NULL)
		policy_put(q.pol);
	if (rc != 0)
		rc = fail_now(&q, 500, "internal", NULL, "out of memory");
	return rc;
}

int
api_worker_init(struct worker *w, char *err, size_t cap)
{
	int rc = vg_vault_open(w->srv->cfg.dir, &w->vault, err, cap);

	if (rc != 0)
		return -1;
	/* A suspension made by `vigil principal suspend` (another
	 * process) takes effect within a second. */
	if ((w->rec = vg_record_new()) == NULL ||
	    (w->auth = vg_authcache_new(w->vault, 1000)) == NULL) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	return 0;
}

void
api_worker_fini(struct worker *w)
{
	vg_record_free(w->rec);
	w->rec = NULL;
	vg_authcache_free(w->auth);
	w->auth = NULL;
	vg_vault_close(w->vault);
	w->vault = NULL;
}
