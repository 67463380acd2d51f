/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy file reader: YAML text -> struct vg_policy.  The format is
 * docs/POLICY.md's; the contract is include/vigil/policy.h.
 *
 * It works in two passes.  The first feeds libyaml's events into a small
 * tree of nodes (maps, lists, scalars), each with its line and column,
 * and refuses what the subset leaves out: anchors, aliases, tags,
 * directives, block scalars and a second document.  The second walks the
 * tree against the format, so that every error names the key path and the
 * position of the node at fault.  Unknown keys are errors: a typo in a
 * policy must not silently grant or lift anything.
 *
 * Everything is bounded (bytes, nodes, depth, entries, scalar length), so
 * hostile input costs at most a few megabytes and never crashes: the
 * fuzzer (fuzz/fuzz_policy.c) runs this under ASan and UBSan.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>
#include <yaml.h>

#include "vigil/policy.h"
#include "policy_int.h"

#define NODES_MAX	65536	/* nodes in one file */
#define SCALAR_MAX	256	/* bytes in one scalar */
#define ENTRIES_MAX	256	/* entries in one map or list */
#define PATH_MAX_LEN	160	/* key path shown in messages */
#define QUOTE_MAX	40	/* bytes of a value quoted in a message */
#define LIMIT_MAX	1000000000u	/* largest quota limit */
#define JUSTIFY_MAX	4096	/* largest justification_min */
#define DAY		(24 * 3600)

enum nkind {
	N_SCALAR,
	N_MAP,
	N_SEQ,
};

/*
 * A node of the document tree.  Children are linked through next; a
 * map's children alternate key, value, key, value (keys are scalars).
 * Invariant: a scalar's s is NUL-terminated and holds no NUL or control
 * character.
 */
struct node {
	enum nkind kind;
	int line, col;		/* 1-based */
	bool plain;		/* scalar: not quoted */
	char *s;
	size_t len;
	int first, last, next;	/* node indexes, -1 for none */
	size_t n;		/* children */
};

struct pctx {
	const char *name;
	const struct vg_schema *schema;
	struct node *nodes;
	size_t nnodes, cap;
	char *err;
	size_t errcap;
	struct vg_policy *p;
};

static int fail(struct pctx *c, int line, int col, const char *path,
    const char *fmt, ...) VG_PRINTF(5, 6);

/* Writes "name:line:col: path: what" (path may be NULL or ""). */
static int
fail(struct pctx *c, int line, int col, const char *path, const char *fmt,
    ...)
{
	char what[VG_POLICY_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (c->err != NULL && c->errcap > 0)
		snprintf(c->err, c->errcap, "%s:%d:%d: %s%s%s", c->name, line,
		    col, path != NULL ? path : "",
		    path != NULL && path[0] != '\0' ? ": " : "", what);
	return VG_EINVAL;
}

#define NFAIL(c, nd, path, ...) \
	fail((c), (nd)->line, (nd)->col, (path), __VA_ARGS__)

/* The 1-based line and column (in code points) of byte off of text. */
static void
line_col(const char *text, size_t off, int *line, int *col)
{
	size_t i;
	int l = 1, k = 1;

	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			l++;
			k = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			k++;
	}
	*line = l;
	*col = k;
}

/* The offset of the first code point of text that is not well-formed
 * UTF-8, or len. */
static size_t
utf8_bad(const char *text, size_t len)
{
	size_t i = 0, n;
	unsigned char b;

	while (i < len) {
		b = (unsigned char)text[i];
		n = b < 0x80 ? 1 : b < 0xc0 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 :
		    b < 0xf8 ? 4 : 0;
		if (n == 0 || n > len - i || !vg_utf8_valid(text + i, n))
			return i;
		i += n;
	}
	return len;
}

/* Writes at most QUOTE_MAX bytes of s into q, never splitting a code
 * point, with "..." when cut. */
static const char *
quote(const char *s, char q[QUOTE_MAX + 4])
{
	size_t n = strlen(s);

	if (n <= QUOTE_MAX) {
		memcpy(q, s, n + 1);
		return q;
	}
	n = QUOTE_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(q, s, n);
	memcpy(q + n, "...", 4);
	return q;
}

/* ---------------------------------------------------------------------
 * Pass one: libyaml events into nodes.
 */

static int
new_node(struct pctx *c, enum nkind kind, const yaml_mark_t *m, int *out)
{
	struct node *nd;

	if (c->nnodes == NODES_MAX)
		return fail(c, (int)m->line + 1, (int)m->column + 1, NULL,
		    "more than %d nodes", NODES_MAX);
	if (c->nnodes == c->cap) {
		size_t ncap = c->cap == 0 ? 64 : c->cap * 2;
		struct node *nn = realloc(c->nodes, ncap * sizeof(*nn));

		if (nn == NULL)
			return VG_ENOMEM;
		c->nodes = nn;
		c->cap = ncap;
	}
	nd = &c->nodes[c->nnodes];
	memset(nd, 0, sizeof(*nd));
	nd->kind = kind;
	nd->line = (int)m->line + 1;
	nd->col = (int)m->column + 1;
	nd->first = nd->last = nd->next = -1;
	*out = (int)c->nnodes++;
	return 0;
}

/* Links node i under parent (or makes it the root). */
static int
attach(struct pctx *c, int parent, int i, int *root)
{
	struct node *pa, *nd = &c->nodes[i];

	if (parent < 0) {
		*root = i;
		return 0;
	}
	pa = &c->nodes[parent];
	if (pa->kind == N_MAP && pa->n % 2 == 0 && nd->kind != N_SCALAR)
		return NFAIL(c, nd, NULL, "a key must be a plain word, not a "
		    "%s", nd->kind == N_MAP ? "mapping" : "list");
	if (pa->n == (pa->kind == N_MAP ? 2 * ENTRIES_MAX : ENTRIES_MAX))
		return NFAIL(c, nd, NULL, "more than %d entries in one %s",
		    ENTRIES_MAX, pa->kind == N_MAP ? "mapping" : "list");
	if (pa->last >= 0)
		c->nodes[pa->last].next = i;
	else
		pa->first = i;
	pa->last = i;
	pa->n++;
	return 0;
}

/* Reports libyaml's own error. */
static int
yaml_fail(struct pctx *c, const yaml_parser_t *ps, const char *text,
    size_t len)
{
	int line, col;

	if (ps->error == YAML_MEMORY_ERROR) {
		if (c->err != NULL && c->errcap > 0)
			snprintf(c->err, c->errcap, "%s: out of memory",
			    c->name);
		return VG_ENOMEM;
	}
	if (ps->error == YAML_READER_ERROR) {
		line_col(text, ps->problem_offset < len ? ps->problem_offset :
		    len, &line, &col);
		return fail(c, line, col, NULL, "%s",
		    ps->problem != NULL ? ps->problem : "unreadable input");
	}
	line = (int)ps->problem_mark.line + 1;
	col = (int)ps->problem_mark.column + 1;
	if (ps->context != NULL)
		return fail(c, line, col, NULL, "%s (%s from %d:%d)",
		    ps->problem != NULL ? ps->problem : "syntax error",
		    ps->context, (int)ps->context_mark.line + 1,
		    (int)ps->context_mark.column + 1);
	return fail(c, line, col, NULL, "%s",
	    ps->problem != NULL ? ps->problem : "syntax error");
}

/* Refuses the YAML features outside the subset. */
static int
plain_event(struct pctx *c, const yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	int line = (int)ev->start_mark.line + 1;
	int col = (int)ev->start_mark.column + 1;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor != NULL)
		return fail(c, line, col, NULL, "anchors (&name) are not "
		    "allowed in a policy");
	if (tag != NULL)
		return fail(c, line, col, NULL, "tags (!name) are not allowed "
		    "in a policy");
	return 0;
}

/* Makes a scalar node of ev. */
static int
scalar_node(struct pctx *c, const yaml_event_t *ev, int *out)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length, i;
	struct node *nd;
	int rc;

	if (ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
	    ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE)
		return fail(c, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, NULL, "block scalars "
		    "(| and >) are not allowed in a policy");
	if (len > SCALAR_MAX)
		return fail(c, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, NULL, "value longer than "
		    "%d bytes", SCALAR_MAX);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v[i];

		/* Quoted scalars can spell any byte with an escape. */
		if (ch < 0x20 || ch == 0x7f)
			return fail(c, (int)ev->start_mark.line + 1,
			    (int)ev->start_mark.column + 1, NULL, "control "
			    "character in a value");
	}
	if (!vg_utf8_valid(v, len))
		return fail(c, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, NULL, "value is not "
		    "valid UTF-8");
	if ((rc = new_node(c, N_SCALAR, &ev->start_mark, out)) != 0)
		return rc;
	nd = &c->nodes[*out];
	nd->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if ((nd->s = malloc(len + 1)) == NULL)
		return VG_ENOMEM;
	memcpy(nd->s, v, len);
	nd->s[len] = '\0';
	nd->len = len;
	return 0;
}

/* Builds the tree of text; *root is -1 for an empty document. */
static int
build(struct pctx *c, const char *text, size_t len, int *root)
{
	yaml_parser_t ps;
	yaml_event_t ev;
	int stack[VG_POLICY_DEPTH_MAX];
	size_t depth = 0;
	int docs = 0, rc = 0, i;
	bool done = false, have_ev = false;

	*root = -1;
	if (!yaml_parser_initialize(&ps))
		return VG_ENOMEM;
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&ps, YAML_UTF8_ENCODING);
	while (!done) {
		if (!yaml_parser_parse(&ps, &ev)) {
			rc = yaml_fail(c, &ps, text, len);
			goto out;
		}
		have_ev = true;
		if ((rc = plain_event(c, &ev)) != 0)
			goto out;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (docs++ > 0) {
				rc = fail(c, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1, NULL,
				    "a policy is one YAML document; found a "
				    "second");
				goto out;
			}
			if (ev.data.document_start.version_directive != NULL ||
			    ev.data.document_start.tag_directives.start !=
			    ev.data.document_start.tag_directives.end) {
				rc = fail(c, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1, NULL,
				    "directives (%%YAML, %%TAG) are not "
				    "allowed in a policy");
				goto out;
			}
			break;
		case YAML_ALIAS_EVENT:
			rc = fail(c, (int)ev.start_mark.line + 1,
			    (int)ev.start_mark.column + 1, NULL, "aliases "
			    "(*name) are not allowed in a policy");
			goto out;
		case YAML_SCALAR_EVENT:
			if ((rc = scalar_node(c, &ev, &i)) != 0 ||
			    (rc = attach(c, depth > 0 ? stack[depth - 1] : -1,
			    i, root)) != 0)
				goto out;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == VG_POLICY_DEPTH_MAX) {
				rc = fail(c, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1, NULL,
				    "nested deeper than %d levels",
				    VG_POLICY_DEPTH_MAX);
				goto out;
			}
			if ((rc = new_node(c, ev.type ==
			    YAML_MAPPING_START_EVENT ? N_MAP : N_SEQ,
			    &ev.start_mark, &i)) != 0 ||
			    (rc = attach(c, depth > 0 ? stack[depth - 1] : -1,
			    i, root)) != 0)
				goto out;
			stack[depth++] = i;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		have_ev = false;
	}
out:
	if (have_ev)
		yaml_event_delete(&ev);
	yaml_parser_delete(&ps);
	return rc;
}

/* ---------------------------------------------------------------------
 * Pass two: the tree against the format.
 */

#define ND(c, i) (&(c)->nodes[(i)])

/* Appends s to out[0..*n), cut to PATH_MAX_LEN - 1 bytes at a code
 * point. */
static void
append(char out[PATH_MAX_LEN], size_t *n, const char *s)
{
	size_t k = strlen(s);

	if (k > PATH_MAX_LEN - 1 - *n) {
		k = PATH_MAX_LEN - 1 - *n;
		while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
			k--;
	}
	memcpy(out + *n, s, k);
	*n += k;
	out[*n] = '\0';
}

/* Joins path and key into out ("roles" + "agent" -> "roles.agent"). */
static const char *
join(char out[PATH_MAX_LEN], const char *path, const char *key)
{
	size_t n = 0;

	out[0] = '\0';
	if (path != NULL && path[0] != '\0') {
		append(out, &n, path);
		append(out, &n, ".");
	}
	append(out, &n, key);
	return out;
}

static const char *
kind_name(const struct node *nd)
{
	if (nd->kind == N_MAP)
		return "a mapping";
	if (nd->kind == N_SEQ)
		return "a list";
	if (nd->len == 0 && nd->plain)
		return "nothing";
	return "a single value";
}

/* A map with unique keys, else an error naming path. */
static int
want_map(struct pctx *c, const struct node *nd, const char *path)
{
	int k, j;
	char q[QUOTE_MAX + 4];

	if (nd->kind != N_MAP)
		return NFAIL(c, nd, path, "expected a mapping (key: value), "
		    "found %s", kind_name(nd));
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next)
		for (j = nd->first; j != k; j = ND(c, ND(c, j)->next)->next)
			if (strcmp(ND(c, j)->s, ND(c, k)->s) == 0)
				return NFAIL(c, ND(c, k), path, "duplicate key "
				    "\"%s\"", quote(ND(c, k)->s, q));
	return 0;
}

static int
want_seq(struct pctx *c, const struct node *nd, const char *path)
{
	if (nd->kind != N_SEQ)
		return NFAIL(c, nd, path, "expected a list ([a, b] or - "
		    "lines), found %s", kind_name(nd));
	return 0;
}

static int
want_word(struct pctx *c, const struct node *nd, const char *path)
{
	if (nd->kind != N_SCALAR)
		return NFAIL(c, nd, path, "expected a single value, found %s",
		    kind_name(nd));
	if (nd->len == 0)
		return NFAIL(c, nd, path, "empty value");
	return 0;
}

/* Writes the words of list into out as "a, b, c or d". */
static const char *
word_list(char *out, size_t cap, const char *const *list, size_t n)
{
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < n && used < cap; i++) {
		int w = snprintf(out + used, cap - used, "%s%s",
		    i == 0 ? "" : i + 1 == n ? " or " : ", ", list[i]);

		if (w < 0)
			break;
		used += (size_t)w;
	}
	return out;
}

/* The index of key nd in keys[0..n), or an "unknown key" error. */
static int
key_index(struct pctx *c, const struct node *nd, const char *path,
    const char *const *keys, size_t n, int *idx)
{
	char q[QUOTE_MAX + 4], list[256];
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(nd->s, keys[i]) == 0) {
			*idx = (int)i;
			return 0;
		}
	return NFAIL(c, nd, path, "unknown key \"%s\" (expected %s)",
	    quote(nd->s, q), word_list(list, sizeof(list), keys, n));
}

static int
get_bool(struct pctx *c, const struct node *nd, const char *path, bool *out)
{
	int rc;

	if ((rc = want_word(c, nd, path)) != 0)
		return rc;
	if (nd->plain && strcmp(nd->s, "true") == 0)
		*out = true;
	else if (nd->plain && strcmp(nd->s, "false") == 0)
		*out = false;
	else
		return NFAIL(c, nd, path, "expected true or false");
	return 0;
}

/* A plain decimal without sign or leading zeros, at most max. */
static int
get_uint(struct pctx *c, const struct node *nd, const char *path,
    uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	int rc;

	if ((rc = want_word(c, nd, path)) != 0)
		return rc;
	if (!nd->plain || (nd->len > 1 && nd->s[0] == '0'))
		goto bad;
	for (i = 0; i < nd->len; i++) {
		if (nd->s[i] < '0' || nd->s[i] > '9')
			goto bad;
		v = v * 10 + (uint64_t)(nd->s[i] - '0');
		if (v > max)
			goto bad;
	}
	*out = v;
	return 0;
bad:
	return NFAIL(c, nd, path, "expected a whole number from 0 to %llu",
	    (unsigned long long)max);
}

/* A duration: 0, or digits and one of s m h d; lo..hi seconds. */
static int
get_duration(struct pctx *c, const struct node *nd, const char *path,
    int64_t lo, int64_t hi, int64_t *out)
{
	int64_t v = 0, mult;
	size_t i, n;
	int rc;

	if ((rc = want_word(c, nd, path)) != 0)
		return rc;
	n = nd->len;
	if (!nd->plain)
		goto bad;
	if (n == 1 && nd->s[0] == '0') {
		v = 0;
		goto range;
	}
	if (n < 2 || nd->s[0] == '0' || n > 12)
		goto bad;
	switch (nd->s[n - 1]) {
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = DAY;
		break;
	default:
		goto bad;
	}
	for (i = 0; i + 1 < n; i++) {
		if (nd->s[i] < '0' || nd->s[i] > '9')
			goto bad;
		v = v * 10 + (nd->s[i] - '0');
	}
	if (v > hi / mult + 1)
		goto range;
	v *= mult;
range:
	if (v < lo || v > hi)
		return NFAIL(c, nd, path, "duration out of range (%s%lld "
		    "days at most)", lo > 0 ? "more than 0 and " : "",
		    (long long)(hi / DAY));
	*out = v;
	return 0;
bad:
	return NFAIL(c, nd, path, "expected a duration like 30s, 15m, 72h "
	    "or 30d%s", lo == 0 ? " (0: never)" : "");
}

/* One of words[0..n), as its index. */
static int
get_enum(struct pctx *c, const struct node *nd, const char *path,
    const char *const *words, size_t n, int *out)
{
	char list[256];
	size_t i;
	int rc;

	if ((rc = want_word(c, nd, path)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		if (strcmp(nd->s, words[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return NFAIL(c, nd, path, "expected %s",
	    word_list(list, sizeof(list), words, n));
}

/* A list of schema field names as a bit mask; empty lists allowed when
 * empty_ok. */
static int
get_fields(struct pctx *c, const struct node *nd, const char *path,
    bool empty_ok, uint32_t *out)
{
	char q[QUOTE_MAX + 4];
	uint32_t mask = 0;
	int i, f, rc;

	if ((rc = want_seq(c, nd, path)) != 0)
		return rc;
	if (nd->n == 0 && !empty_ok)
		return NFAIL(c, nd, path, "lists no field");
	for (i = nd->first; i >= 0; i = ND(c, i)->next) {
		const struct node *it = ND(c, i);

		if ((rc = want_word(c, it, path)) != 0)
			return rc;
		f = vg_schema_find(c->schema, it->s);
		if (f < 0)
			return NFAIL(c, it, path, "unknown field \"%s\"",
			    quote(it->s, q));
		if (mask & (UINT32_C(1) << f))
			return NFAIL(c, it, path, "field \"%s\" listed twice",
			    quote(it->s, q));
		mask |= UINT32_C(1) << f;
	}
	*out = mask;
	return 0;
}

/* A window -> limit map ({minute: 10, day: 600}). */
static int
get_limits(struct pctx *c, const struct node *nd, const char *path,
    struct vg__limits *l)
{
	static const char *const wins[] = { "minute", "hour", "day", "week",
	    "month" };
	char sub[PATH_MAX_LEN];
	uint64_t v;
	int k, w = 0, rc;

	if ((rc = want_map(c, nd, path)) != 0)
		return rc;
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next) {
		const struct node *key = ND(c, k), *val = ND(c, key->next);

		if ((rc = key_index(c, key, path, wins, VG_QW_COUNT, &w)) != 0)
			return rc;
		if ((rc = get_uint(c, val, join(sub, path, key->s), LIMIT_MAX,
		    &v)) != 0)
			return rc;
		l->max[w] = (uint32_t)v;
		l->line[w] = key->line;
	}
	return 0;
}

static bool
purpose_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > VG__POLICY_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static int
parse_purposes(struct pctx *c, struct vg__role *r, const struct node *nd,
    const char *path)
{
	char sub[PATH_MAX_LEN], q[QUOTE_MAX + 4];
	int k, rc;

	if ((rc = want_map(c, nd, path)) != 0)
		return rc;
	if (nd->n == 0)
		return NFAIL(c, nd, path, "no purpose: a role that may reveal "
		    "needs at least one");
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next) {
		const struct node *key = ND(c, k), *val = ND(c, key->next);
		struct vg__purpose *pu;

		if (!purpose_name_ok(key->s, key->len))
			return NFAIL(c, key, path, "purpose name \"%s\" must "
			    "match [a-z][a-z0-9_]{0,31}", quote(key->s, q));
		if (r->npurposes == VG_POLICY_PURPOSES_MAX)
			return NFAIL(c, key, path, "more than %d purposes",
			    VG_POLICY_PURPOSES_MAX);
		pu = &r->purpose[r->npurposes];
		memcpy(pu->name, key->s, key->len + 1);
		pu->line = key->line;
		if ((rc = get_fields(c, val, join(sub, path, key->s), false,
		    &pu->fields)) != 0)
			return rc;
		r->npurposes++;
	}
	return 0;
}

static int
parse_reveal(struct pctx *c, struct vg__role *r, const struct node *nd,
    const char *path)
{
	static const char *const keys[] = { "purposes", "require_case",
	    "self_opened_cases", "step_up_fields" };
	static const char *const modes[] = { "allow", "step_up", "deny" };
	char sub[PATH_MAX_LEN];
	bool have_purposes = false;
	int k, idx = 0, v = 0, rc;

	if ((rc = want_map(c, nd, path)) != 0)
		return rc;
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next) {
		const struct node *key = ND(c, k), *val = ND(c, key->next);

		if ((rc = key_index(c, key, path, keys, 4, &idx)) != 0)
			return rc;
		join(sub, path, key->s);
		switch (idx) {
		case 0:
			rc = parse_purposes(c, r, val, sub);
			r->purposes_line = key->line;
			have_purposes = true;
			break;
		case 1:
			rc = get_bool(c, val, sub, &r->require_case);
			r->require_case_line = key->line;
			break;
		case 2:
			rc = get_enum(c, val, sub, modes, 3, &v);
			r->self_opened = v == 0 ? VG__ALLOW : v == 1 ?
			    VG__STEP_UP : VG__DENY;
			r->self_opened_line = key->line;
			break;
		default:
			rc = get_fields(c, val, sub, true, &r->step_up_fields);
			r->step_up_fields_line = key->line;
			break;
		}
		if (rc != 0)
			return rc;
	}
	if (!have_purposes)
		return NFAIL(c, nd, path, "missing key \"purposes\"");
	return 0;
}

static int
parse_break_glass(struct pctx *c, struct vg__role *r, const struct node *nd,
    const char *path)
{
	static const char *const keys[] = { "allow", "notify", "quota" };
	char sub[PATH_MAX_LEN];
	int k, idx = 0, rc;

	if ((rc = want_map(c, nd, path)) != 0)
		return rc;
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next) {
		const struct node *key = ND(c, k), *val = ND(c, key->next);

		if ((rc = key_index(c, key, path, keys, 3, &idx)) != 0)
			return rc;
		join(sub, path, key->s);
		if (idx == 0) {
			rc = get_bool(c, val, sub, &r->bg_allow);
			r->bg_line = key->line;
		} else if (idx == 1)
			rc = get_bool(c, val, sub, &r->bg_notify);
		else
			rc = get_limits(c, val, sub, &r->bg_quota);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
parse_quota(struct pctx *c, struct vg__role *r, const struct node *nd,
    const char *path)
{
	static const char *const keys[] = { "reveals", "customers",
	    "per_case" };
	struct vg__limits *const lim[] = { &r->q_reveals, &r->q_customers,
	    &r->q_per_case };
	char sub[PATH_MAX_LEN];
	int k, idx = 0, rc;

	if ((rc = want_map(c, nd, path)) != 0)
		return rc;
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next) {
		const struct node *key = ND(c, k), *val = ND(c, key->next);

		if ((rc = key_index(c, key, path, keys, 3, &idx)) != 0)
			return rc;
		if ((rc = get_limits(c, val, join(sub, path, key->s),
		    lim[idx])) != 0)
			return rc;
	}
	return 0;
}

/* The role's actions; *reveal gets the "reveal" item, if listed. */
static int
parse_actions(struct pctx *c, struct vg__role *r, const struct node *nd,
    const char *path, const struct node **reveal)
{
	const char *names[VG_ACT_COUNT];
	char q[QUOTE_MAX + 4], list[320];
	int i, a, rc;

	if ((rc = want_seq(c, nd, path)) != 0)
		return rc;
	for (i = nd->first; i >= 0; i = ND(c, i)->next) {
		const struct node *it = ND(c, i);

		if ((rc = want_word(c, it, path)) != 0)
			return rc;
		if ((a = vg_action_from_name(it->s)) < 0) {
			for (a = 0; a < VG_ACT_COUNT; a++)
				names[a] = vg_action_name((enum vg_action)a);
			return NFAIL(c, it, path, "unknown action \"%s\" "
			    "(expected %s)", quote(it->s, q),
			    word_list(list, sizeof(list), names,
			    VG_ACT_COUNT));
		}
		if (r->actions & (UINT32_C(1) << a))
			return NFAIL(c, it, path, "action \"%s\" listed twice",
			    quote(it->s, q));
		r->actions |= UINT32_C(1) << a;
		r->action_line[a] = it->line;
		if (a == VG_ACT_REVEAL)
			*reveal = it;
	}
	return 0;
}

/* A role's built-in defaults (docs/POLICY.md). */
static void
role_defaults(struct vg__role *r)
{
	int w;

	memset(r, 0, sizeof(*r));
	r->require_case = true;
	r->self_opened = VG__STEP_UP;
	r->shift = VG__DENY;
	r->bg_allow = false;
	r->bg_notify = true;
	for (w = 0; w < VG_QW_COUNT; w++) {
		r->bg_quota.max[w] = UINT32_MAX;
		r->q_reveals.max[w] = UINT32_MAX;
		r->q_customers.max[w] = UINT32_MAX;
		r->q_per_case.max[w] = UINT32_MAX;
	}
}

static int
parse_role(struct pctx *c, struct vg__role *r, const struct node *nd,
    const char *path)
{
	static const char *const keys[] = { "actions", "reveal", "shift",
	    "break_glass", "quota" };
	static const char *const shifts[] = { "deny", "step_up", "ignore" };
	const struct node *seen[5] = { NULL, NULL, NULL, NULL, NULL };
	const struct node *reveal = NULL;
	char sub[PATH_MAX_LEN];
	int k, idx = 0, v = 0, rc;

	if ((rc = want_map(c, nd, path)) != 0)
		return rc;
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next) {
		const struct node *key = ND(c, k), *val = ND(c, key->next);

		if ((rc = key_index(c, key, path, keys, 5, &idx)) != 0)
			return rc;
		seen[idx] = key;
		join(sub, path, key->s);
		switch (idx) {
		case 0:
			rc = parse_actions(c, r, val, sub, &reveal);
			break;
		case 1:
			rc = parse_reveal(c, r, val, sub);
			break;
		case 2:
			rc = get_enum(c, val, sub, shifts, 3, &v);
			r->shift = v == 0 ? VG__DENY : v == 1 ? VG__STEP_UP :
			    VG__IGNORE;
			r->shift_line = key->line;
			break;
		case 3:
			r->bg_line = key->line;
			rc = parse_break_glass(c, r, val, sub);
			break;
		default:
			rc = parse_quota(c, r, val, sub);
			break;
		}
		if (rc != 0)
			return rc;
	}
	if (seen[0] == NULL)
		return NFAIL(c, nd, path, "missing key \"actions\"");
	/* Reveal rules without the action, or the action without rules,
	 * are a policy that does not say what its author meant. */
	if (reveal != NULL && seen[1] == NULL)
		return NFAIL(c, reveal, path, "action reveal needs a reveal: "
		    "section with purposes");
	for (idx = 1; idx < 5; idx++)
		if (seen[idx] != NULL &&
		    !(r->actions & (UINT32_C(1) << VG_ACT_REVEAL)))
			return NFAIL(c, seen[idx], path, "%s applies to "
			    "reveals, but the role lacks the reveal action",
			    keys[idx]);
	return 0;
}

static int
parse_roles(struct pctx *c, const struct node *nd, const char *path)
{
	static const char *const roles[] = { "agent", "supervisor",
	    "security", "admin", "ingest", "ticketing", "exporter",
	    "marketing_ops" };
	struct vg_policy *p = c->p;
	char sub[PATH_MAX_LEN], q[QUOTE_MAX + 4], list[256];
	int k, rc;

	if ((rc = want_map(c, nd, path)) != 0)
		return rc;
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next) {
		const struct node *key = ND(c, k), *val = ND(c, key->next);
		struct vg__role *r;

		if (!vg_principal_role_ok(key->s))
			return NFAIL(c, key, path, "unknown role \"%s\" "
			    "(expected %s)", quote(key->s, q),
			    word_list(list, sizeof(list), roles, 8));
		if (p->nroles == VG_POLICY_ROLES_MAX)
			return NFAIL(c, key, path, "more than %d roles",
			    VG_POLICY_ROLES_MAX);
		r = &p->role[p->nroles];
		role_defaults(r);
		snprintf(r->name, sizeof(r->name), "%s", key->s);
		r->line = key->line;
		if ((rc = parse_role(c, r, val, join(sub, path, key->s))) != 0)
			return rc;
		p->nroles++;
	}
	return 0;
}

/* A consumer name: vg_consumer_name_ok()'s [a-z0-9][a-z0-9_.-]{0,63}. */
static bool
consumer_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64 ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/* A consumer's purposes: a list of purpose names, each once. */
static int
parse_consumer_purposes(struct pctx *c, struct vg__consumer *co,
    const struct node *nd, const char *path)
{
	char q[QUOTE_MAX + 4];
	size_t j;
	int i, rc;

	if ((rc = want_seq(c, nd, path)) != 0)
		return rc;
	if (nd->n == 0)
		return NFAIL(c, nd, path, "no purpose: a consumer needs at "
		    "least one");
	for (i = nd->first; i >= 0; i = ND(c, i)->next) {
		const struct node *it = ND(c, i);

		if ((rc = want_word(c, it, path)) != 0)
			return rc;
		if (!purpose_name_ok(it->s, it->len))
			return NFAIL(c, it, path, "purpose name \"%s\" must "
			    "match [a-z][a-z0-9_]{0,31}", quote(it->s, q));
		for (j = 0; j < co->npurposes; j++)
			if (strcmp(co->purpose[j], it->s) == 0)
				return NFAIL(c, it, path, "purpose \"%s\" "
				    "listed twice", it->s);
		if (co->npurposes == VG_POLICY_PURPOSES_MAX)
			return NFAIL(c, it, path, "more than %d purposes",
			    VG_POLICY_PURPOSES_MAX);
		memcpy(co->purpose[co->npurposes++], it->s, it->len + 1);
	}
	return 0;
}

static int
parse_consumer(struct pctx *c, struct vg__consumer *co, const struct node *nd,
    const char *path)
{
	static const char *const keys[] = { "purposes", "clear", "max_rows" };
	const struct node *seen[3] = { NULL, NULL, NULL };
	char sub[PATH_MAX_LEN];
	int k, idx = 0, rc;

	if ((rc = want_map(c, nd, path)) != 0)
		return rc;
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next) {
		const struct node *key = ND(c, k), *val = ND(c, key->next);

		if ((rc = key_index(c, key, path, keys, 3, &idx)) != 0)
			return rc;
		seen[idx] = key;
		join(sub, path, key->s);
		switch (idx) {
		case 0:
			rc = parse_consumer_purposes(c, co, val, sub);
			co->purposes_line = key->line;
			break;
		case 1:
			rc = get_fields(c, val, sub, true, &co->clear);
			co->clear_line = key->line;
			break;
		default:
			rc = get_uint(c, val, sub, VG_POLICY_ROWS_MAX,
			    &co->max_rows);
			if (rc == VG_EINVAL || (rc == 0 && co->max_rows == 0))
				rc = NFAIL(c, val, sub, "expected a whole "
				    "number from 1 to %d", VG_POLICY_ROWS_MAX);
			co->max_rows_line = key->line;
			break;
		}
		if (rc != 0)
			return rc;
	}
	if (seen[0] == NULL)
		return NFAIL(c, nd, path, "missing key \"purposes\"");
	if (seen[2] == NULL)
		return NFAIL(c, nd, path, "missing key \"max_rows\"");
	return 0;
}

/* consumers: name -> {purposes, clear, max_rows}.  Default deny: a
 * consumer not listed gets no export. */
static int
parse_consumers(struct pctx *c, const struct node *nd, const char *path)
{
	struct vg_policy *p = c->p;
	char sub[PATH_MAX_LEN], q[QUOTE_MAX + 4];
	int k, rc;

	if ((rc = want_map(c, nd, path)) != 0)
		return rc;
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next) {
		const struct node *key = ND(c, k), *val = ND(c, key->next);
		struct vg__consumer *co;

		if (!consumer_name_ok(key->s, key->len))
			return NFAIL(c, key, path, "consumer name \"%s\" must "
			    "match [a-z0-9][a-z0-9_.-]{0,63}", quote(key->s, q));
		if (p->nconsumers == VG_POLICY_CONSUMERS_MAX)
			return NFAIL(c, key, path, "more than %d consumers",
			    VG_POLICY_CONSUMERS_MAX);
		co = &p->consumer[p->nconsumers];
		memset(co, 0, sizeof(*co));
		memcpy(co->name, key->s, key->len + 1);
		co->line = key->line;
		if ((rc = parse_consumer(c, co, val, join(sub, path,
		    key->s))) != 0)
			return rc;
		p->nconsumers++;
	}
	return 0;
}

static int
parse_settings(struct pctx *c, const struct node *nd, const char *path)
{
	static const char *const keys[] = { "case_ttl", "approval_ttl",
	    "justification_min" };
	struct vg_policy *p = c->p;
	char sub[PATH_MAX_LEN];
	uint64_t v;
	int k, idx = 0, rc;

	if ((rc = want_map(c, nd, path)) != 0)
		return rc;
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next) {
		const struct node *key = ND(c, k), *val = ND(c, key->next);

		if ((rc = key_index(c, key, path, keys, 3, &idx)) != 0)
			return rc;
		join(sub, path, key->s);
		if (idx == 0)
			rc = get_duration(c, val, sub, 0, 3650 * (int64_t)DAY,
			    &p->case_ttl);
		else if (idx == 1)
			rc = get_duration(c, val, sub, 1, 7 * (int64_t)DAY,
			    &p->approval_ttl);
		else {
			rc = get_uint(c, val, sub, JUSTIFY_MAX, &v);
			p->justification_min = (size_t)v;
			p->justification_line = key->line;
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
parse_masks(struct pctx *c, const struct node *nd, const char *path)
{
	static const char *const types[] = { "name", "phone", "email",
	    "account_id", "address", "region", "text" };
	const char *ok[8];
	char sub[PATH_MAX_LEN], q[QUOTE_MAX + 4], list[256];
	enum vg_ftype t;
	int k, s = 0, rc;
	size_t n;

	if ((rc = want_map(c, nd, path)) != 0)
		return rc;
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next) {
		const struct node *key = ND(c, k), *val = ND(c, key->next);

		if ((t = vg_ftype_from_name(key->s)) == 0)
			return NFAIL(c, key, path, "unknown field type \"%s\" "
			    "(expected %s)", quote(key->s, q),
			    word_list(list, sizeof(list), types, 7));
		join(sub, path, key->s);
		if ((rc = want_word(c, val, sub)) != 0)
			return rc;
		n = 0;
		for (s = VG_MASK_DEFAULT; s <= VG_MASK_NONE; s++)
			if (vg__mask_applies(t, (enum vg_mask_style)s))
				ok[n++] = vg_mask_style_name(
				    (enum vg_mask_style)s);
		s = vg__mask_from_name(val->s);
		if (s < 0)
			return NFAIL(c, val, sub, "unknown mask style \"%s\" "
			    "(expected %s)", quote(val->s, q),
			    word_list(list, sizeof(list), ok, n));
		if (!vg__mask_applies(t, (enum vg_mask_style)s))
			return NFAIL(c, val, sub, "mask style \"%s\" does not "
			    "apply to %s (expected %s)", val->s, key->s,
			    word_list(list, sizeof(list), ok, n));
		c->p->mask[t] = (enum vg_mask_style)s;
	}
	return 0;
}

static int
parse_top(struct pctx *c, int root)
{
	static const char *const keys[] = { "version", "settings", "masks",
	    "roles", "consumers" };
	const struct node *nd, *seen[5] = { NULL, NULL, NULL, NULL, NULL };
	char q[QUOTE_MAX + 4];
	int k, idx = 0, rc;

	if (root < 0)
		return fail(c, 1, 1, NULL, "empty policy (expected version: 1 "
		    "and roles)");
	nd = ND(c, root);
	if ((rc = want_map(c, nd, "")) != 0)
		return rc;
	for (k = nd->first; k >= 0; k = ND(c, ND(c, k)->next)->next) {
		const struct node *key = ND(c, k), *val = ND(c, key->next);

		if ((rc = key_index(c, key, "", keys, 5, &idx)) != 0)
			return rc;
		seen[idx] = key;
		switch (idx) {
		case 0:
			if ((rc = want_word(c, val, "version")) != 0)
				return rc;
			if (!val->plain || strcmp(val->s, "1") != 0)
				return NFAIL(c, val, "version", "unsupported "
				    "version \"%s\" (this vigil reads 1)",
				    quote(val->s, q));
			break;
		case 1:
			rc = parse_settings(c, val, "settings");
			break;
		case 2:
			rc = parse_masks(c, val, "masks");
			break;
		case 3:
			rc = parse_roles(c, val, "roles");
			break;
		default:
			c->p->consumers_line = key->line;
			rc = parse_consumers(c, val, "consumers");
			break;
		}
		if (rc != 0)
			return rc;
	}
	if (seen[0] == NULL)
		return NFAIL(c, nd, NULL, "missing key \"version\"");
	if (seen[3] == NULL)
		return NFAIL(c, nd, NULL, "missing key \"roles\"");
	return 0;
}

/* Keeps the last part of name for the step texts, cut at a code point. */
static void
set_base(struct vg_policy *p, const char *name)
{
	const char *slash = strrchr(name, '/');
	size_t n;

	if (slash != NULL && slash[1] != '\0')
		name = slash + 1;
	n = strlen(name);
	if (n >= sizeof(p->base)) {
		n = sizeof(p->base) - 1;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(p->base, name, n);
	p->base[n] = '\0';
}

static void
set_digest(struct vg_policy *p, const char *text, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[8];
	size_t i;

	crypto_generichash(h, sizeof(h), (const unsigned char *)text, len,
	    NULL, 0);
	for (i = 0; i < sizeof(h); i++) {
		p->digest[2 * i] = hex[h[i] >> 4];
		p->digest[2 * i + 1] = hex[h[i] & 15];
	}
	p->digest[16] = '\0';
}

int
vg_policy_parse(const char *text, size_t len, const char *name,
    const struct vg_schema *schema, struct vg_policy **out, char *err,
    size_t errcap)
{
	struct pctx c;
	const char *nul;
	size_t i;
	int root, line, col, rc;

	if (out != NULL)
		*out = NULL;
	if (err != NULL && errcap > 0)
		err[0] = '\0';
	memset(&c, 0, sizeof(c));
	c.name = name != NULL ? name : "policy";
	c.schema = schema;
	c.err = err;
	c.errcap = errcap;
	if (out == NULL || schema == NULL || (text == NULL && len > 0))
		return fail(&c, 1, 1, NULL, "no policy text or schema");
	if (text == NULL)
		text = "";
	if (len > VG_POLICY_FILE_MAX)
		return fail(&c, 1, 1, NULL, "policy larger than %d bytes",
		    VG_POLICY_FILE_MAX);
	if ((nul = memchr(text, '\0', len)) != NULL) {
		line_col(text, (size_t)(nul - text), &line, &col);
		return fail(&c, line, col, NULL, "NUL byte in the policy");
	}
	if ((i = utf8_bad(text, len)) < len) {
		line_col(text, i, &line, &col);
		return fail(&c, line, col, NULL, "not valid UTF-8");
	}
	rc = build(&c, text, len, &root);
	if (rc != 0)
		goto out;
	if ((c.p = calloc(1, sizeof(*c.p))) == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	vg__policy_defaults(c.p);
	c.p->schema = *schema;
	rc = parse_top(&c, root);
	if (rc != 0)
		goto out;
	set_base(c.p, c.name);
	set_digest(c.p, text, len);
	*out = c.p;
	c.p = NULL;
out:
	if (rc == VG_ENOMEM && err != NULL && errcap > 0)
		snprintf(err, errcap, "%s: out of memory", c.name);
	for (i = 0; i < c.nnodes; i++)
		free(c.nodes[i].s);
	free(c.nodes);
	free(c.p);
	return rc;
}

static void lerr(char *err, size_t errcap, const char *fmt, ...)
    VG_PRINTF(3, 4);

static void
lerr(char *err, size_t errcap, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errcap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errcap, fmt, ap);
	va_end(ap);
}

int
vg_policy_load(const char *path, const struct vg_schema *schema,
    struct vg_policy **out, char *err, size_t errcap)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc;

	if (out != NULL)
		*out = NULL;
	if (err != NULL && errcap > 0)
		err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		lerr(err, errcap, "%s: %s", path, strerror(errno));
		return VG_EIO;
	}
	if (fstat(fd, &st) != 0) {
		lerr(err, errcap, "%s: %s", path, strerror(errno));
		rc = VG_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		lerr(err, errcap, "%s: not a regular file", path);
		rc = VG_EIO;
		goto out;
	}
	if (st.st_size > VG_POLICY_FILE_MAX) {
		lerr(err, errcap, "%s: larger than %d bytes", path,
		    VG_POLICY_FILE_MAX);
		rc = VG_ETOOBIG;
		goto out;
	}
	/* One byte more than the limit tells a file that grew. */
	if ((buf = malloc(VG_POLICY_FILE_MAX + 1)) == NULL) {
		lerr(err, errcap, "%s: out of memory", path);
		rc = VG_ENOMEM;
		goto out;
	}
	for (;;) {
		n = read(fd, buf + got, VG_POLICY_FILE_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			lerr(err, errcap, "%s: %s", path, strerror(errno));
			rc = VG_EIO;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > VG_POLICY_FILE_MAX) {
			lerr(err, errcap, "%s: larger than %d bytes", path,
			    VG_POLICY_FILE_MAX);
			rc = VG_ETOOBIG;
			goto out;
		}
	}
	rc = vg_policy_parse(buf, got, path, schema, out, err, errcap);
out:
	free(buf);
	close(fd);
	return rc;
}
