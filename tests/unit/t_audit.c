/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the audit log (lib/audit*.c, include/vigil/audit.h):
 * the entry codec and its limits, appending and reopening, K_0 and the
 * MAC epochs, 8 concurrent appenders checked against an independent
 * RFC 9162 root, segment rollover, checkpoints with witnesses and a sink,
 * failing closed when the disk refuses writes (RLIMIT_FSIZE in a child),
 * torn tails, inclusion proofs, and a tamper matrix: every part of a
 * frame flipped, entries deleted, swapped, inserted, forged, the log
 * truncated, replaced or re-signed, each on a fresh copy and each named
 * by vg_audit_verify() with the right problem and sequence number.
 *
 * Two hidden modes serve tests/integ/t0011-audit-crash.sh:
 *   t_audit --crash-writer DIR        appends forever, printing
 *                                     "acked <seq>" after each durable
 *                                     append (killed with -9 by the test)
 *   t_audit --crash-check DIR MAXACK  verifies, reopens (cutting a torn
 *                                     tail), verifies again, and checks
 *                                     that every seq <= MAXACK is there
 * Without arguments it prints TAP.  Logs live in a mkdtemp directory
 * under /tmp, removed at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "tap.h"
#include "vigil/audit.h"
#include "audit_int.h"		/* vg__audit_chain, vg__put32: forging */

#define ORIGIN		"test.local/x/cli"
#define SEG0		"seg-0000000000000000.log"
#define SLOW_MS		600000	/* checkpoints by count only */

/* Body tags (lib/audit_codec.c). */
#define T_NODE		1
#define T_PRINCIPAL	2
#define T_ACTION	3
#define T_CUSTOMER	4
#define T_DECISION	8
#define T_DETAIL	13

static char root[PATH_MAX];
static unsigned char seed_a[32], seed_b[32];

/*-----------------------------------------------------------------------------
 * Helpers: paths and files
 */

static const char *
path_in(char *buf, size_t cap, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap)
		abort();
	return buf;
}

static const char *
tdir(char *buf, size_t cap, const char *name)
{
	return path_in(buf, cap, root, name);
}

/* vault/audit/<chain> */
static const char *
chain_dir(char *buf, size_t cap, const char *vault, const char *chain)
{
	if ((size_t)snprintf(buf, cap, "%s/audit/%s", vault, chain) >= cap)
		abort();
	return buf;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
rm_rf(const char *p)
{
	(void)nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int64_t
file_size(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

static int
file_mode(const char *p)
{
	struct stat sb;

	return lstat(p, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

/* The whole file, malloc'd (NUL-terminated for convenience), or NULL. */
static unsigned char *
slurp(const char *p, size_t *len)
{
	unsigned char *buf;
	int64_t n = file_size(p);
	FILE *f;

	*len = 0;
	if (n < 0 || (f = fopen(p, "rb")) == NULL)
		return NULL;
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static int
spit(const char *p, const void *data, size_t len, int mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (len > 0 && write(fd, data, len) != (ssize_t)len)
		rc = -1;
	if (close(fd) != 0)
		rc = -1;
	return rc;
}

static int
append_bytes(const char *p, const void *data, size_t len)
{
	int fd = open(p, O_WRONLY | O_APPEND);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len)
		rc = -1;
	close(fd);
	return rc;
}

/* Copies a directory tree (regular files and directories). */
static int
copy_tree(const char *src, const char *dst)
{
	char s[PATH_MAX], d[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *dir;
	int rc = 0;

	if (mkdir(dst, 0700) != 0 && errno != EEXIST)
		return -1;
	if ((dir = opendir(src)) == NULL)
		return -1;
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		path_in(s, sizeof(s), src, de->d_name);
		path_in(d, sizeof(d), dst, de->d_name);
		if (lstat(s, &sb) != 0) {
			rc = -1;
		} else if (S_ISDIR(sb.st_mode)) {
			rc = copy_tree(s, d);
		} else if (S_ISREG(sb.st_mode)) {
			size_t n;
			unsigned char *buf = slurp(s, &n);

			rc = buf != NULL ? spit(d, buf, n,
			    (int)(sb.st_mode & 0777)) : -1;
			free(buf);
		}
	}
	closedir(dir);
	return rc;
}

/* Segment file names of a chain dir, sorted; returns the count. */
static int
segments(const char *cdir, char names[][64], int max)
{
	struct dirent *de;
	DIR *d = opendir(cdir);
	int n = 0, i, j;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max)
		if (strncmp(de->d_name, "seg-", 4) == 0 &&
		    strlen(de->d_name) < 64)
			memcpy(names[n++], de->d_name, strlen(de->d_name) + 1);
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char t[64];

			memcpy(t, names[j], 64);
			memcpy(names[j], names[j - 1], 64);
			memcpy(names[j - 1], t, 64);
		}
	return n;
}

/*-----------------------------------------------------------------------------
 * Helpers: logs
 */

struct ent {
	char principal[64];
	char detail[64];
	unsigned char id[VG_IDBYTES];
	struct vg_audit_entry e;
};

static void
ent_make(struct ent *x, int who, int i)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->principal, sizeof(x->principal), "local:t%d", who);
	snprintf(x->detail, sizeof(x->detail), "i=%d", i);
	x->id[0] = (unsigned char)who;
	x->id[1] = (unsigned char)(i >> 16);
	x->id[2] = (unsigned char)(i >> 8);
	x->id[3] = (unsigned char)i;
	x->e.principal = x->principal;
	x->e.action = "lookup";
	x->e.customer = x->id;
	x->e.decision = i % 3 == 0 ? "deny" : "allow";
	x->e.reason = i % 3 == 0 ? "no_purpose" : NULL;
	x->e.client = "cli";
	x->e.detail = x->detail;
}

static void
opts_init(struct vg_audit_opts *o, const char *vault, const char *chain)
{
	memset(o, 0, sizeof(*o));
	o->vault_dir = vault;
	o->chain = chain;
	o->origin = ORIGIN;
	o->sign_seed = seed_a;
	o->checkpoint_ms = SLOW_MS;
}

static struct vg_audit *
open_log(const struct vg_audit_opts *o)
{
	struct vg_audit *a = NULL;
	char err[256] = "";
	int rc;

	(void)mkdir(o->vault_dir, 0700);
	rc = vg_audit_open(o, &a, err, sizeof(err));
	if (rc != 0) {
		printf("# vg_audit_open(%s, %s): %d %s\n", o->vault_dir,
		    o->chain, rc, err);
		return NULL;
	}
	return a;
}

/* Appends n entries of principal t<who>, details i=<first..>; returns
 * the number that failed. */
static int
append_n(struct vg_audit *a, int who, int first, int n)
{
	struct ent x;
	uint64_t seq;
	int i, bad = 0;

	for (i = 0; i < n; i++) {
		ent_make(&x, who, first + i);
		if (vg_audit_append(a, &x.e, &seq) != 0)
			bad++;
	}
	return bad;
}

/* Creates vault/audit/<chain> with n entries and closes it. */
static int
make_log(const char *vault, const char *chain, const unsigned char *seed,
    int who, int n, uint64_t every, const char *wdir)
{
	struct vg_audit_opts o;
	struct vg_audit *a;
	const char *w[1];
	int bad;

	opts_init(&o, vault, chain);
	o.sign_seed = seed;
	o.checkpoint_every = every;
	if (wdir != NULL) {
		w[0] = wdir;
		o.witness_dirs = w;
		o.nwitness_dirs = 1;
	}
	if ((a = open_log(&o)) == NULL)
		return -1;
	bad = append_n(a, who, 0, n);
	if (vg_audit_close(a) != 0)
		bad++;
	return bad;
}

static int
load_k0(const char *vault, const char *chain, unsigned char k0[VG_KEYBYTES])
{
	char p[PATH_MAX], line[256];
	FILE *f;
	int rc = -1;

	snprintf(p, sizeof(p), "%s/audit-offline/%s.mac0", vault, chain);
	if ((f = fopen(p, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		rc = vg_b64_decode_key(k0, line, strlen(line)) == 0 ? 0 : -1;
		break;
	}
	fclose(f);
	return rc;
}

static int
load_key(const char *cdir, struct vg_note_key *k)
{
	char p[PATH_MAX];
	unsigned char *buf;
	size_t n;
	int rc;

	buf = slurp(path_in(p, sizeof(p), cdir, "key.pub"), &n);
	if (buf == NULL)
		return -1;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	rc = vg_note_vkey_parse(k, (const char *)buf, n);
	free(buf);
	return rc;
}

static int
verify(const char *cdir, const unsigned char *k0, const struct vg_note_key *k,
    const char *wit, struct vg_audit_verify_result *res)
{
	struct vg_audit_verify_opts o;
	const char *w[1];

	memset(&o, 0, sizeof(o));
	o.chain_dir = cdir;
	o.mac0 = k0;
	o.key = k;
	if (wit != NULL) {
		w[0] = wit;
		o.witness = w;
		o.nwitness = 1;
	}
	return vg_audit_verify(&o, res);
}

static void
diag_res(const struct vg_audit_verify_result *r)
{
	if (!r->ok)
		printf("#   verify: %s at seq %llu..%llu (%s @%llu): %s\n",
		    r->what, (unsigned long long)r->seq,
		    (unsigned long long)r->seq_end, r->segment,
		    (unsigned long long)r->offset, r->detail);
}

/* Reads every record of a chain; returns the count, or -1 on error. */
static long
read_all(const char *cdir, struct vg_audit_record **out, long max)
{
	struct vg_audit_reader *r;
	struct vg_audit_record *v;
	long n = 0;
	int rc;

	v = calloc((size_t)max, sizeof(*v));
	if (v == NULL || vg_audit_reader_open(cdir, &r) != 0) {
		free(v);
		return -1;
	}
	while (n < max && (rc = vg_audit_reader_next(r, &v[n])) == 1)
		n++;
	if (n < max && rc != 0)
		n = -1;
	vg_audit_reader_close(r);
	if (n < 0)
		free(v);
	else
		*out = v;
	return n;
}

/* An independent RFC 9162 tree head: libsodium's SHA-256, recursion. */
static void
sha256_2(unsigned char out[32], unsigned char pre, const unsigned char *a,
    size_t alen, const unsigned char *b, size_t blen)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &pre, 1);
	crypto_hash_sha256_update(&st, a, alen);
	if (b != NULL)
		crypto_hash_sha256_update(&st, b, blen);
	crypto_hash_sha256_final(&st, out);
}

static void
mth(unsigned char out[32], unsigned char (*leaves)[32], uint64_t n)
{
	unsigned char l[32], r[32];
	uint64_t k = 1;

	if (n == 0) {
		crypto_hash_sha256(out, NULL, 0);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], 32);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	mth(l, leaves, k);
	mth(r, leaves + k, n - k);
	sha256_2(out, 1, l, 32, r, 32);
}

/*-----------------------------------------------------------------------------
 * The codec
 */

/* Offsets in body where a TLV ends, i.e. where a body may validly end. */
static int
tlv_ends(const unsigned char *b, size_t len, size_t *ends, int max,
    size_t *action_end)
{
	size_t pos = 17;
	int n = 0;

	*action_end = 0;
	while (pos + 2 <= len && n < max) {
		int tag = b[pos];

		pos += 2 + b[pos + 1];
		ends[n++] = pos;
		if (tag == T_ACTION)
			*action_end = pos;
	}
	return n;
}

static void
test_codec(void)
{
	unsigned char body[VG_AUDIT_BODY_MAX + 8], b2[VG_AUDIT_BODY_MAX + 8];
	unsigned char id[VG_IDBYTES], probe[VG_PROBEBYTES];
	char s255[256], s256[257], node33[34];
	struct vg_audit_entry e;
	struct vg_audit_record *r = malloc(sizeof(*r));
	const char *why = NULL;
	size_t len, len2, i, ends[32], action_end;
	int n, bad, j;
	static const char *const nonprint[] = { "tab\there", "nl\n", "\x1f",
	    "del\x7f", "caf\xc3\xa9", "\xff" };

	for (i = 0; i < sizeof(id); i++)
		id[i] = (unsigned char)(0x10 + i);
	for (i = 0; i < sizeof(probe); i++)
		probe[i] = (unsigned char)(0xa0 + i);
	memset(&e, 0, sizeof(e));
	e.principal = "local:alice";
	e.action = "reveal";
	e.customer = id;
	e.fields = "name,phone";
	e.purpose = "support";
	e.case_id = "CASE-1";
	e.decision = "allow";
	e.reason = "ok_code";
	e.request_id = "req-1";
	e.client = "10.0.0.1";
	e.probe = probe;
	e.detail = "customers=1000";
	is_int(vg_audit_encode(&e, 0x0102030405060708ULL,
	    INT64_C(1700000000123456789), "node-1", body, sizeof(body), &len),
	    0, "codec: a full entry encodes");
	is_int(vg_audit_decode(body, len, r, &why), 0,
	    "codec: and decodes");
	ok(r->seq == 0x0102030405060708ULL &&
	    r->time_ns == INT64_C(1700000000123456789),
	    "codec: seq and time round-trip");
	is_str(r->node, "node-1", "codec: node round-trips");
	is_str(r->principal, "local:alice", "codec: principal round-trips");
	is_str(r->action, "reveal", "codec: action round-trips");
	ok(r->has_customer && memcmp(r->customer, id, sizeof(id)) == 0,
	    "codec: customer id round-trips");
	is_str(r->fields, "name,phone", "codec: fields round-trip");
	is_str(r->purpose, "support", "codec: purpose round-trips");
	is_str(r->case_id, "CASE-1", "codec: case id round-trips");
	is_str(r->decision, "allow", "codec: decision round-trips");
	is_str(r->reason, "ok_code", "codec: reason round-trips");
	is_str(r->request_id, "req-1", "codec: request id round-trips");
	is_str(r->client, "10.0.0.1", "codec: client round-trips");
	ok(r->has_probe && memcmp(r->probe, probe, sizeof(probe)) == 0,
	    "codec: probe round-trips");
	is_str(r->detail, "customers=1000", "codec: detail round-trips");

	/* The decoder is exact: a body ends only at a field boundary after
	 * the action; any other prefix is refused. */
	n = tlv_ends(body, len, ends, 32, &action_end);
	bad = 0;
	for (i = 0; i < len; i++) {
		int valid = 0, rc;

		for (j = 0; j < n; j++)
			if (ends[j] == i && i >= action_end)
				valid = 1;
		rc = vg_audit_decode(body, i, r, &why);
		if ((rc == 0) != valid) {
			printf("# prefix %zu: rc %d, valid %d\n", i, rc, valid);
			bad++;
		}
		if (rc != 0 && rc != VG_EFORMAT)
			bad++;
	}
	is_int(bad, 0, "codec: every truncation of the body is refused, "
	    "except at a field boundary after the action (%zu prefixes)",
	    len);

	/* Absent fields: NULL and "" are the same, and decode empty. */
	memset(&e, 0, sizeof(e));
	e.action = "view";
	is_int(vg_audit_encode(&e, 7, 1, NULL, body, sizeof(body), &len), 0,
	    "codec: an entry with only an action encodes");
	is_int(len, 17 + 2 + 4, "codec: it is header + one field");
	e.principal = e.fields = e.purpose = e.case_id = e.decision = "";
	e.reason = e.request_id = e.client = e.detail = "";
	is_int(vg_audit_encode(&e, 7, 1, NULL, b2, sizeof(b2), &len2), 0,
	    "codec: empty strings encode");
	ok(len2 == len && memcmp(body, b2, len) == 0,
	    "codec: empty strings are absent fields");
	is_int(vg_audit_decode(body, len, r, &why), 0, "codec: and decode");
	ok(!r->has_customer && !r->has_probe && r->principal[0] == '\0' &&
	    r->node[0] == '\0' && r->detail[0] == '\0' &&
	    r->decision[0] == '\0' && r->seq == 7,
	    "codec: absent fields decode empty");
	e.action = NULL;
	is_int(vg_audit_encode(&e, 7, 1, NULL, body, sizeof(body), &len),
	    VG_EINVAL, "codec: no action is VG_EINVAL");
	e.action = "";
	is_int(vg_audit_encode(&e, 7, 1, NULL, body, sizeof(body), &len),
	    VG_EINVAL, "codec: an empty action is VG_EINVAL");

	/* Limits: 255 bytes per text field. */
	memset(s255, 'a', 255);
	s255[255] = '\0';
	memset(s256, 'b', 256);
	s256[256] = '\0';
	memset(&e, 0, sizeof(e));
	e.action = "lookup";
	e.principal = e.fields = e.purpose = e.case_id = e.decision = s255;
	e.reason = e.request_id = e.client = e.detail = s255;
	e.customer = id;
	e.probe = probe;
	is_int(vg_audit_encode(&e, 1, 2, "cli", body, sizeof(body), &len), 0,
	    "codec: every text field at 255 bytes encodes (%zu bytes)", len);
	ok(vg_audit_decode(body, len, r, &why) == 0 &&
	    strcmp(r->detail, s255) == 0 && strcmp(r->principal, s255) == 0,
	    "codec: and 255-byte fields decode whole");
	bad = 0;
	for (j = 0; j < 10; j++) {
		struct vg_audit_entry e2;
		const char **f[] = { &e2.principal, &e2.fields, &e2.purpose,
		    &e2.case_id, &e2.decision, &e2.reason, &e2.request_id,
		    &e2.client, &e2.detail, &e2.action };

		memset(&e2, 0, sizeof(e2));
		e2.action = "lookup";
		*f[j] = s256;
		if (vg_audit_encode(&e2, 1, 2, "cli", body, sizeof(body),
		    &len) != VG_EINVAL)
			bad++;
	}
	is_int(bad, 0, "codec: a 256-byte value in any text field is "
	    "VG_EINVAL");
	memset(&e, 0, sizeof(e));
	e.action = "lookup";
	bad = 0;
	for (i = 0; i < sizeof(nonprint) / sizeof(nonprint[0]); i++) {
		e.detail = nonprint[i];
		if (vg_audit_encode(&e, 1, 2, "cli", body, sizeof(body),
		    &len) != VG_EINVAL)
			bad++;
		e.detail = NULL;
		e.principal = nonprint[i];
		if (vg_audit_encode(&e, 1, 2, "cli", body, sizeof(body),
		    &len) != VG_EINVAL)
			bad++;
		e.principal = NULL;
		if (vg_audit_encode(&e, 1, 2, nonprint[i], body, sizeof(body),
		    &len) != VG_EINVAL)
			bad++;
	}
	is_int(bad, 0, "codec: control bytes, DEL and non-ASCII are "
	    "VG_EINVAL (in detail, principal and node)");
	e.detail = "x";
	is_int(vg_audit_encode(&e, 1, 2, "cli", body, 20, &len), VG_ETOOBIG,
	    "codec: a too small buffer is VG_ETOOBIG");

	/* Decoder: structure. */
	memset(&e, 0, sizeof(e));
	e.principal = "p";
	e.action = "a";
	e.customer = id;
	e.detail = "d";
	if (vg_audit_encode(&e, 3, 4, "cli", body, sizeof(body), &len) != 0)
		abort();
	/* body: hdr17 | 01 03 cli | 02 01 p | 03 01 a | 04 10 id | 0d 01 d */
	memcpy(b2, body, len);
	b2[0] = 2;
	is_int(vg_audit_decode(b2, len, r, &why), VG_EFORMAT,
	    "decode: an unknown version is refused");
	memcpy(b2, body, 17);
	memcpy(b2 + 17, body + 22, 3);		/* principal first */
	memcpy(b2 + 20, body + 17, 5);		/* then node */
	memcpy(b2 + 25, body + 25, len - 25);
	is_int(vg_audit_decode(b2, len, r, &why), VG_EFORMAT,
	    "decode: fields out of order are refused (%s)", why);
	memcpy(b2, body, 25);
	memcpy(b2 + 25, body + 22, 3);		/* principal twice */
	memcpy(b2 + 28, body + 25, len - 25);
	is_int(vg_audit_decode(b2, len + 3, r, &why), VG_EFORMAT,
	    "decode: a repeated field is refused");
	memcpy(b2, body, len);
	b2[len] = 14;
	b2[len + 1] = 1;
	b2[len + 2] = 'x';
	is_int(vg_audit_decode(b2, len + 3, r, &why), VG_EFORMAT,
	    "decode: an unknown tag (14) is refused");
	memcpy(b2, body, len);
	b2[17] = 0;
	is_int(vg_audit_decode(b2, len, r, &why), VG_EFORMAT,
	    "decode: tag 0 is refused");
	memcpy(b2, body, len);
	b2[len] = 14 - 1;			/* detail again */
	b2[len + 1] = 0;
	is_int(vg_audit_decode(b2, len + 2, r, &why), VG_EFORMAT,
	    "decode: a zero-length field is refused");
	memcpy(b2, body, 17);
	memcpy(b2 + 17, body + 17, 11);		/* node, principal, action */
	b2[28] = T_CUSTOMER;
	b2[29] = 15;
	memcpy(b2 + 30, id, 15);
	is_int(vg_audit_decode(b2, 45, r, &why), VG_EFORMAT,
	    "decode: a 15-byte customer id is refused");
	memcpy(b2, body, len);
	b2[24] = 0x01;				/* principal "p" -> "\1" */
	is_int(vg_audit_decode(b2, len, r, &why), VG_EFORMAT,
	    "decode: a control byte in a text field is refused");
	memcpy(b2, body, len);
	b2[18] = 200;				/* node longer than the body */
	is_int(vg_audit_decode(b2, len, r, &why), VG_EFORMAT,
	    "decode: a field longer than the body is refused");
	memset(node33, 'n', 33);
	node33[33] = '\0';
	memset(&e, 0, sizeof(e));
	e.action = "a";
	if (vg_audit_encode(&e, 3, 4, node33, b2, sizeof(b2), &len2) == 0)
		is_int(vg_audit_decode(b2, len2, r, &why), VG_EFORMAT,
		    "decode: a node name over 32 bytes is refused");
	else
		ok(1, "decode: a node name over 32 bytes is refused (not "
		    "even encoded)");
	memset(&e, 0, sizeof(e));
	e.action = "a";
	e.detail = "d";
	if (vg_audit_encode(&e, 3, 4, NULL, b2, sizeof(b2), &len2) != 0)
		abort();
	memset(b2 + len2, 'x', sizeof(b2) - len2);
	is_int(vg_audit_decode(b2, VG_AUDIT_BODY_MAX + 1, r, &why),
	    VG_EFORMAT, "decode: a body over VG_AUDIT_BODY_MAX is refused");
	is_int(vg_audit_decode(b2, 16, r, &why), VG_EFORMAT,
	    "decode: a body under 17 bytes is refused");
	memset(&e, 0, sizeof(e));
	e.detail = "no action";
	e.action = "a";
	if (vg_audit_encode(&e, 3, 4, NULL, b2, sizeof(b2), &len2) != 0)
		abort();
	memmove(b2 + 17, b2 + 20, len2 - 20);	/* drop the action */
	is_int(vg_audit_decode(b2, len2 - 3, r, &why), VG_EFORMAT,
	    "decode: a body without an action is refused");
	free(r);
}

/*-----------------------------------------------------------------------------
 * Appending, reopening, K_0, epochs
 */

static void
test_append_reopen(void)
{
	char v[PATH_MAX], cd[PATH_MAX], p[PATH_MAX];
	struct vg_audit_opts o;
	struct vg_audit_status st, st2;
	struct vg_audit_verify_result res;
	struct vg_audit_record *recs = NULL;
	struct vg_audit *a;
	struct ent x;
	unsigned char k0[VG_KEYBYTES], bad0[VG_KEYBYTES];
	uint64_t seq;
	int i, gapless = 1;
	long n;

	tdir(v, sizeof(v), "basic");
	chain_dir(cd, sizeof(cd), v, "cli");
	opts_init(&o, v, "cli");
	if (!ok((a = open_log(&o)) != NULL, "open creates a new chain"))
		return;
	vg_audit_status(a, &st);
	ok(st.size == 0 && st.mac_epoch == 1 && st.torn_bytes == 0,
	    "a new chain is empty at MAC epoch 1");
	for (i = 0; i < 20; i++) {
		ent_make(&x, 1, i);
		if (vg_audit_append(a, &x.e, &seq) != 0 || seq != (uint64_t)i)
			gapless = 0;
	}
	ok(gapless, "20 appends get seqs 0..19 in order");
	ent_make(&x, 1, 99);
	x.e.detail = "bad\ndetail";
	is_int(vg_audit_append(a, &x.e, &seq), VG_EINVAL,
	    "a malformed entry is VG_EINVAL");
	ent_make(&x, 1, 20);
	ok(vg_audit_append(a, &x.e, &seq) == 0 && seq == 20,
	    "and takes no sequence number (next is 20)");
	vg_audit_status(a, &st);
	is_int(st.size, 21, "status: 21 entries");
	is_int(vg_audit_close(a), 0, "close returns 0");

	path_in(p, sizeof(p), v, "audit-offline/cli.mac0");
	is_int(file_mode(p), 0600, "K0 is in audit-offline/cli.mac0, 0600");
	is_int(file_mode(cd), 0700, "the chain dir is 0700");
	ok(load_k0(v, "cli", k0) == 0, "K0 file holds a base64 key");
	ok(file_size(path_in(p, sizeof(p), cd, "key.pub")) > 0,
	    "key.pub exists");

	/* Reopen: the same chain continues. */
	if (!ok((a = open_log(&o)) != NULL, "reopen"))
		return;
	vg_audit_status(a, &st2);
	is_int(st2.size, st.size, "reopen: size is what status said");
	is_mem(st2.root, st.root, VG_HASHBYTES,
	    "reopen: root is what status said");
	is_str(st2.vkey, st.vkey, "reopen: the same verifier key");
	is_int(st2.torn_bytes, 0, "reopen: no torn bytes");
	ok(st2.mac_epoch > st.mac_epoch,
	    "reopen: the close's checkpoint moved the MAC epoch on");
	ent_make(&x, 2, 0);
	ok(vg_audit_append(a, &x.e, &seq) == 0 && seq == 21,
	    "reopen: the next append gets seq 21");
	is_int(vg_audit_close(a), 0, "close again");
	n = read_all(cd, &recs, 100);
	is_int(n, 22, "the reader sees 22 entries in one chain");
	if (n == 22) {
		ok(strcmp(recs[21].principal, "local:t2") == 0 &&
		    recs[21].mac_epoch == st2.mac_epoch,
		    "entry 21 is the new one, at the new epoch");
		ok(strcmp(recs[20].segment, recs[21].segment) == 0,
		    "and went into the same segment");
		ok(strcmp(recs[3].node, "cli") == 0 &&
		    strcmp(recs[3].detail, "i=3") == 0,
		    "entries carry node and detail");
	}
	free(recs);

	is_int(verify(cd, k0, NULL, NULL, &res), 0, "verify runs");
	diag_res(&res);
	ok(res.ok && res.macs_checked && res.entries == 22,
	    "verify with K0: OK, MACs checked, 22 entries");
	memcpy(bad0, k0, sizeof(bad0));
	bad0[0] ^= 1;
	is_int(verify(cd, bad0, NULL, NULL, &res), 0, "verify runs");
	ok(!res.ok && strcmp(res.what, "forged") == 0 && res.seq == 0,
	    "verify with a wrong K0: forged at seq 0");
	sodium_memzero(k0, sizeof(k0));
}

static void
test_epochs(void)
{
	char v[PATH_MAX], cd[PATH_MAX];
	struct vg_audit_opts o;
	struct vg_audit_status st;
	struct vg_audit_verify_result res;
	struct vg_audit_record *recs = NULL;
	struct vg_audit *a;
	unsigned char k0[VG_KEYBYTES];
	uint32_t e[6];
	int i, okay = 1;
	long n;

	tdir(v, sizeof(v), "epochs");
	chain_dir(cd, sizeof(cd), v, "cli");
	opts_init(&o, v, "cli");
	if ((a = open_log(&o)) == NULL) {
		ok(0, "open");
		return;
	}
	for (i = 0; i < 5; i++) {
		vg_audit_status(a, &st);
		e[i] = st.mac_epoch;
		okay &= append_n(a, 3, i, 1) == 0;
		okay &= vg_audit_checkpoint(a) == 0;
	}
	vg_audit_status(a, &st);
	e[5] = st.mac_epoch;
	ok(okay, "5 rounds of append + checkpoint");
	ok(e[0] == 1 && e[1] == 2 && e[2] == 3 && e[3] == 4 && e[4] == 5 &&
	    e[5] == 6, "the MAC epoch goes up by one per checkpoint");
	is_int(st.checkpoint_size, 5, "status: the checkpoint covers 5");
	is_int(vg_audit_checkpoint(a), 0,
	    "a checkpoint with nothing new succeeds");
	vg_audit_status(a, &st);
	is_int(st.mac_epoch, 6, "and does not move the epoch");
	is_int(vg_audit_close(a), 0, "close");
	n = read_all(cd, &recs, 10);
	okay = n == 5;
	for (i = 0; okay && i < 5; i++)
		okay = recs[i].mac_epoch == (uint32_t)(i + 1);
	ok(okay, "entry i carries MAC epoch i+1");
	free(recs);
	ok(load_k0(v, "cli", k0) == 0 && verify(cd, k0, NULL, NULL, &res) ==
	    0 && res.ok && res.checkpoints == 5,
	    "verify with K0 across 5 epochs: OK, 5 checkpoints");
	diag_res(&res);
}

/*-----------------------------------------------------------------------------
 * Concurrency
 */

#define NTHREADS 8
#define PER_THREAD 2000

struct worker {
	struct vg_audit *a;
	int id;
	int failed;
	uint64_t seq[PER_THREAD];
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct ent x;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		ent_make(&x, w->id, i);
		if (vg_audit_append(w->a, &x.e, &w->seq[i]) != 0)
			w->failed++;
	}
	return NULL;
}

static void
test_concurrent(void)
{
	char v[PATH_MAX], cd[PATH_MAX];
	struct vg_audit_opts o;
	struct vg_audit_status st;
	struct vg_audit_verify_result res;
	struct vg_audit_record *recs = NULL;
	struct worker *w;
	pthread_t thr[NTHREADS];
	unsigned char k0[VG_KEYBYTES], (*leaves)[32], mine[32];
	unsigned char *seen;
	const uint64_t total = NTHREADS * PER_THREAD;
	int i, j, failed = 0, order = 1, dup = 0, match = 1;
	long n;

	tdir(v, sizeof(v), "conc");
	chain_dir(cd, sizeof(cd), v, "cli");
	opts_init(&o, v, "cli");
	o.checkpoint_every = 1000;
	w = calloc(NTHREADS, sizeof(*w));
	seen = calloc(total, 1);
	leaves = calloc(total, 32);
	if (w == NULL || seen == NULL || leaves == NULL ||
	    (w[0].a = open_log(&o)) == NULL) {
		ok(0, "setup");
		goto out;
	}
	for (i = 0; i < NTHREADS; i++) {
		w[i].a = w[0].a;
		w[i].id = i;
		if (pthread_create(&thr[i], NULL, worker_main, &w[i]) != 0)
			abort();
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(thr[i], NULL);
	for (i = 0; i < NTHREADS; i++) {
		failed += w[i].failed;
		for (j = 0; j < PER_THREAD; j++) {
			if (w[i].seq[j] >= total || seen[w[i].seq[j]]++)
				dup++;
			if (j > 0 && w[i].seq[j] <= w[i].seq[j - 1])
				order = 0;
		}
	}
	is_int(failed, 0, "%d threads x %d appends: none failed", NTHREADS,
	    PER_THREAD);
	is_int(dup, 0, "the %llu seqs are 0..%llu, each once",
	    (unsigned long long)total, (unsigned long long)total - 1);
	ok(order, "each thread's seqs increase");
	vg_audit_status(w[0].a, &st);
	is_int(st.size, total, "status: %llu entries",
	    (unsigned long long)total);
	is_int(vg_audit_close(w[0].a), 0, "close");

	n = read_all(cd, &recs, (long)total + 1);
	is_int(n, total, "the reader sees every entry");
	for (i = 0; i < n; i++) {
		int t, k;

		sha256_2(leaves[i], 0, recs[i].body, recs[i].body_len, NULL,
		    0);
		if (sscanf(recs[i].principal, "local:t%d", &t) != 1 ||
		    sscanf(recs[i].detail, "i=%d", &k) != 1 || t < 0 ||
		    t >= NTHREADS || k < 0 || k >= PER_THREAD ||
		    w[t].seq[k] != (uint64_t)i)
			match = 0;
	}
	ok(match, "every entry is where its appender was told it is");
	mth(mine, leaves, (uint64_t)(n < 0 ? 0 : n));
	is_mem(mine, st.root, 32, "status root equals an independent RFC "
	    "9162 root of the entries");
	ok(load_k0(v, "cli", k0) == 0 && verify(cd, k0, NULL, NULL, &res) ==
	    0 && res.ok && res.entries == total && res.macs_checked,
	    "verify with K0: OK");
	diag_res(&res);
	is_mem(res.root, mine, 32, "verify's root equals it too");
	ok(res.checkpoints >= total / 1000,
	    "at least one checkpoint per 1000 entries (%llu)",
	    (unsigned long long)res.checkpoints);
out:
	free(recs);
	free(w);
	free(seen);
	free(leaves);
}

/* Asynchronous submissions: callbacks from the writer thread. */
#define ASUB 300
#define AEACH 7

struct async_state {
	pthread_mutex_t mu;
	int calls, errors;
	uint64_t first[ASUB];
};

struct async_req {
	struct async_state *st;
	int i;
	struct vg_audit_entry e[AEACH];
	char detail[AEACH][32];
};

static void
async_done(void *ctx, int rc, uint64_t first)
{
	struct async_req *r = ctx;

	pthread_mutex_lock(&r->st->mu);
	r->st->calls++;
	if (rc != 0)
		r->st->errors++;
	r->st->first[r->i] = first;
	pthread_mutex_unlock(&r->st->mu);
}

static void
test_async(void)
{
	char v[PATH_MAX], cd[PATH_MAX];
	struct vg_audit_opts o;
	struct vg_audit_verify_result res;
	struct async_state st;
	struct async_req *reqs;
	struct vg_audit *a;
	unsigned char k0[VG_KEYBYTES];
	int i, j, calls = 0, spaced = 1, waited;

	tdir(v, sizeof(v), "async");
	chain_dir(cd, sizeof(cd), v, "cli");
	opts_init(&o, v, "cli");
	memset(&st, 0, sizeof(st));
	pthread_mutex_init(&st.mu, NULL);
	reqs = calloc(ASUB, sizeof(*reqs));
	if (reqs == NULL || (a = open_log(&o)) == NULL) {
		ok(0, "setup");
		free(reqs);
		return;
	}
	for (i = 0; i < ASUB; i++) {
		reqs[i].st = &st;
		reqs[i].i = i;
		for (j = 0; j < AEACH; j++) {
			snprintf(reqs[i].detail[j], sizeof(reqs[i].detail[j]),
			    "r=%d e=%d", i, j);
			reqs[i].e[j].action = "reveal";
			reqs[i].e[j].principal = "p_async";
			reqs[i].e[j].decision = "allow";
			reqs[i].e[j].detail = reqs[i].detail[j];
		}
		if (vg_audit_submit(a, reqs[i].e, AEACH, async_done,
		    &reqs[i]) != 0)
			break;
	}
	is_int(i, ASUB, "%d asynchronous submissions of %d entries queued",
	    ASUB, AEACH);
	for (waited = 0; waited < 1000; waited++) {
		pthread_mutex_lock(&st.mu);
		calls = st.calls;
		pthread_mutex_unlock(&st.mu);
		if (calls == ASUB)
			break;
		usleep(10000);
	}
	is_int(calls, ASUB, "every submission's callback ran, once");
	is_int(st.errors, 0, "none failed");
	for (i = 0; i < ASUB; i++)
		for (j = i + 1; j < ASUB; j++)
			if (st.first[i] / AEACH == st.first[j] / AEACH ||
			    st.first[i] % AEACH != 0)
				spaced = 0;
	ok(spaced, "each got its own run of %d consecutive seqs", AEACH);
	is_int(vg_audit_submit(a, reqs[0].e, 0, async_done, &reqs[0]),
	    VG_EINVAL, "an empty submission is refused");
	is_int(vg_audit_close(a), 0, "close");
	ok(load_k0(v, "cli", k0) == 0 && verify(cd, k0, NULL, NULL, &res) ==
	    0 && res.ok && res.entries == (uint64_t)ASUB * AEACH,
	    "verify with K0: OK, %d entries", ASUB * AEACH);
	diag_res(&res);
	pthread_mutex_destroy(&st.mu);
	free(reqs);
}

/*-----------------------------------------------------------------------------
 * Segments and checkpoints
 */

static void
test_segments(void)
{
	char v[PATH_MAX], cd[PATH_MAX], c2[PATH_MAX], p[PATH_MAX];
	char names[64][64];
	struct vg_audit_opts o;
	struct vg_audit_verify_result res;
	struct vg_audit_record *recs = NULL;
	struct vg_audit *a;
	unsigned char k0[VG_KEYBYTES];
	int i, nseg, named = 1, small = 1;
	unsigned long long first;
	long n;

	tdir(v, sizeof(v), "segs");
	chain_dir(cd, sizeof(cd), v, "cli");
	opts_init(&o, v, "cli");
	o.segment_bytes = 4096;
	o.checkpoint_every = 50;
	if ((a = open_log(&o)) == NULL) {
		ok(0, "open");
		return;
	}
	is_int(append_n(a, 4, 0, 150), 0, "150 appends with 4 KiB segments");
	is_int(vg_audit_close(a), 0, "close");
	if ((a = open_log(&o)) == NULL) {
		ok(0, "reopen");
		return;
	}
	is_int(append_n(a, 4, 150, 150), 0, "150 more after a reopen");
	is_int(vg_audit_close(a), 0, "close");
	nseg = segments(cd, names, 64);
	ok(nseg >= 8, "the log rolled over into %d segments", nseg);
	for (i = 0; i < nseg; i++) {
		int64_t sz = file_size(path_in(p, sizeof(p), cd, names[i]));

		if (sz > 4096 + VG_FRAME_MAX)
			small = 0;
	}
	ok(small, "no segment grows past the cap by more than one frame");
	n = read_all(cd, &recs, 400);
	is_int(n, 300, "the reader reads 300 entries across segments");
	for (i = 1; i < n; i++) {
		if (strcmp(recs[i].segment, recs[i - 1].segment) == 0)
			continue;
		if (sscanf(recs[i].segment, "seg-%16llx.log", &first) != 1 ||
		    first != recs[i].seq)
			named = 0;
	}
	ok(named, "each segment is named after its first seq");
	free(recs);
	ok(load_k0(v, "cli", k0) == 0 && verify(cd, k0, NULL, NULL, &res) ==
	    0 && res.ok && res.entries == 300,
	    "verify across segments: OK");
	diag_res(&res);

	/* A whole middle segment removed. */
	if (nseg >= 3) {
		tdir(c2, sizeof(c2), "segs-del");
		copy_tree(v, c2);
		chain_dir(p, sizeof(p), c2, "cli");
		path_in(v, sizeof(v), p, names[nseg / 2]);
		unlink(v);
		sscanf(names[nseg / 2], "seg-%16llx.log", &first);
		is_int(verify(p, k0, NULL, NULL, &res), 0, "verify runs");
		ok(!res.ok && strcmp(res.what, "deleted") == 0 &&
		    res.seq == first,
		    "a removed middle segment: deleted at seq %llu", first);
		diag_res(&res);
		rm_rf(c2);
	}
}

struct sinkctx {
	int calls;
	int fail;
	char last[VG_NOTE_MAX];
	size_t lastlen;
};

static int
sink(void *ctx, const char *note, size_t len)
{
	struct sinkctx *s = ctx;

	s->calls++;
	if (len <= sizeof(s->last)) {
		memcpy(s->last, note, len);
		s->lastlen = len;
	}
	return s->fail ? -1 : 0;
}

static int
count_note(void *ctx, const char *note, size_t len)
{
	(void)note;
	(void)len;
	(*(int *)ctx)++;
	return 0;
}

/* Reading a chain while it is written: vg_audit_reader_follow (up to
 * the writer's durable size) and vg_audit_reader_tail (whole frames
 * only, for another process's chain), across segments, and a frame cut
 * short at the end read again once it is whole. */
static void
test_follow_tail(void)
{
	char v[PATH_MAX], cd[PATH_MAX], seg[PATH_MAX], names[64][64];
	static struct vg_audit_record rec;
	struct vg_audit_reader *rf = NULL, *rt = NULL;
	struct vg_audit_status st;
	struct vg_audit_opts o;
	struct vg_audit *a;
	uint64_t nf = 0, nt = 0, good = 1, last_f = 0, last_t = 0;
	int round, rc, fd, nseg;

	tdir(v, sizeof(v), "follow");
	chain_dir(cd, sizeof(cd), v, "cli");
	opts_init(&o, v, "cli");
	o.segment_bytes = 4096;
	if ((a = open_log(&o)) == NULL) {
		ok(0, "open");
		return;
	}
	ok(vg_audit_reader_open(cd, &rf) == 0 &&
	    vg_audit_reader_open(cd, &rt) == 0, "two readers on a live chain");
	for (round = 0; round < 6 && rf != NULL && rt != NULL; round++) {
		good &= append_n(a, 5, round * 40, 40) == 0;
		vg_audit_status(a, &st);
		while ((rc = vg_audit_reader_follow(rf, &rec, st.size)) == 1) {
			good &= rec.seq == nf;
			nf++;
			last_f = rec.seq;
		}
		good &= rc == 0;
		while ((rc = vg_audit_reader_tail(rt, &rec)) == 1) {
			good &= rec.seq == nt;
			nt++;
			last_t = rec.seq;
		}
		good &= rc == 0;
	}
	nseg = segments(cd, names, 64);
	ok(good && nf == 240 && nt == 240 && last_f == 239 && last_t == 239,
	    "follow and tail each read 240 entries in order as they were "
	    "written, across %d segments", nseg);
	is_int(vg_audit_reader_follow(rf, &rec, 240), 0, "follow: nothing "
	    "past the durable size");
	/* A frame cut short at the end (the writer mid-write): tail waits. */
	path_in(seg, sizeof(seg), cd, names[nseg > 0 ? nseg - 1 : 0]);
	fd = open(seg, O_WRONLY | O_APPEND);
	ok(fd >= 0 && write(fd, "VE\x40\x00", 4) == 4, "4 bytes of a frame "
	    "appended behind the writer's back");
	is_int(vg_audit_reader_tail(rt, &rec), 0, "tail: a partial frame is "
	    "not an entry yet");
	is_int(vg_audit_reader_tail(rt, &rec), 0, "and stays so (no error)");
	ok(fd >= 0 && ftruncate(fd, file_size(seg) - 4) == 0, "the partial "
	    "bytes go (as the writer's next write would complete them)");
	if (fd >= 0)
		close(fd);
	good = append_n(a, 5, 240, 3) == 0;
	rc = vg_audit_reader_tail(rt, &rec);
	ok(good && rc == 1 && rec.seq == 240, "tail reads the next whole "
	    "entry from where the partial one began (seq %llu)",
	    (unsigned long long)rec.seq);
	vg_audit_reader_close(rf);
	vg_audit_reader_close(rt);
	is_int(vg_audit_close(a), 0, "close");
}

static void
test_checkpoints(void)
{
	char v[PATH_MAX], cd[PATH_MAX], wd[PATH_MAX], p[PATH_MAX];
	const char *wit[1];
	/* Witness files are named by origin, '/' as '_'. */
	static const char *const want[] = {
	    "test.local_x_cli-000000000000000a.cp",
	    "test.local_x_cli-0000000000000014.cp",
	    "test.local_x_cli-000000000000001e.cp",
	    "test.local_x_cli-0000000000000023.cp" };
	struct vg_audit_opts o;
	struct vg_audit_status st;
	struct vg_audit_verify_result res;
	struct vg_audit *a;
	struct sinkctx sc;
	struct vg_note_key key;
	unsigned char k0[VG_KEYBYTES], *cp;
	int i, notes = 0, have = 1;
	size_t cplen;

	tdir(v, sizeof(v), "cps");
	tdir(wd, sizeof(wd), "cps-witness");
	chain_dir(cd, sizeof(cd), v, "cli");
	mkdir(wd, 0700);
	memset(&sc, 0, sizeof(sc));
	opts_init(&o, v, "cli");
	o.checkpoint_every = 10;
	wit[0] = wd;
	o.witness_dirs = wit;
	o.nwitness_dirs = 1;
	o.sink = sink;
	o.sink_ctx = &sc;
	if ((a = open_log(&o)) == NULL) {
		ok(0, "open");
		return;
	}
	is_int(append_n(a, 5, 0, 35), 0, "35 appends, a checkpoint every 10");
	vg_audit_status(a, &st);
	is_int(st.checkpoint_size, 30, "status: the last checkpoint covers 30");
	is_int(st.mac_epoch, 4, "status: MAC epoch 4 after 3 checkpoints");
	is_int(vg_audit_close(a), 0, "close signs the final one (35)");
	is_int(vg_audit_each_checkpoint(path_in(p, sizeof(p), cd,
	    "checkpoints.log"), count_note, &notes), 0,
	    "checkpoints.log parses");
	is_int(notes, 4, "it holds 4 checkpoints");
	cp = slurp(path_in(p, sizeof(p), cd, "checkpoint"), &cplen);
	ok(cp != NULL && strstr((char *)cp, "\n35\n") != NULL,
	    "checkpoint holds the latest (35 entries)");
	for (i = 0; i < 4; i++)
		if (file_size(path_in(p, sizeof(p), wd, want[i])) <= 0)
			have = 0;
	ok(have, "the witness dir has <origin>-<size>.cp for 10, 20, 30, "
	    "35");
	is_int(sc.calls, 4, "the sink got each of the 4 notes");
	ok(cp != NULL && sc.lastlen == cplen &&
	    memcmp(sc.last, cp, cplen) == 0,
	    "the sink's last note is the checkpoint file");
	free(cp);
	ok(load_k0(v, "cli", k0) == 0 && verify(cd, k0, NULL, wd, &res) ==
	    0 && res.ok, "verify with the witness dir: OK");
	diag_res(&res);
	ok(res.checkpoints == 4 && res.witness_checkpoints == 4,
	    "4 own and 4 witness checkpoints checked");
	is_int(verify(cd, k0, NULL, path_in(p, sizeof(p), wd, want[1]),
	    &res), 0, "verify runs");
	ok(res.ok && res.witness_checkpoints == 1,
	    "verify with one witness file: OK");

	/* Another log (another origin) shares the witness dir. */
	{
		struct vg_audit_opts o2;
		char v2[PATH_MAX];

		opts_init(&o2, tdir(v2, sizeof(v2), "cps-other"), "cli");
		o2.origin = "test.local/y/cli";
		o2.sign_seed = seed_b;
		o2.checkpoint_every = 5;
		o2.witness_dirs = wit;
		o2.nwitness_dirs = 1;
		if ((a = open_log(&o2)) != NULL) {
			ok(append_n(a, 5, 0, 12) == 0 &&
			    vg_audit_close(a) == 0, "another log writes "
			    "to the same witness dir");
			ok(file_size(path_in(p, sizeof(p), wd,
			    "test.local_y_cli-000000000000000a.cp")) > 0,
			    "under its own origin's name");
		} else {
			ok(0, "open another log");
		}
		ok(load_key(cd, &key) == 0 && verify(cd, k0, &key, wd, &res)
		    == 0 && res.ok && res.witness_checkpoints == 4,
		    "verify with a pinned key and the shared witness dir: "
		    "OK, only this log's 4 checked");
		diag_res(&res);
		ok(verify(cd, k0, NULL, wd, &res) == 0 && res.ok &&
		    res.witness_checkpoints == 4,
		    "without a pinned key too: other origins' checkpoints "
		    "are skipped, this log's 4 checked");
		diag_res(&res);
		{
			char wd2[PATH_MAX + 8], p2[PATH_MAX], p3[PATH_MAX + 16];

			/* A witness holding only another log's checkpoints
			 * has nothing for this one: flagged. */
			snprintf(wd2, sizeof(wd2), "%s-only", wd);
			mkdir(wd2, 0700);
			path_in(p2, sizeof(p2), wd,
			    "test.local_y_cli-000000000000000a.cp");
			path_in(p3, sizeof(p3), wd2, "y.cp");
			ok(rename(p2, p3) == 0, "a witness dir with only the "
			    "other log's checkpoint");
			ok(verify(cd, k0, NULL, wd2, &res) == 0 && !res.ok &&
			    strcmp(res.what, "inconsistent with witness") == 0,
			    "verify: the witnesses hold no checkpoint of this "
			    "log: flagged");
			diag_res(&res);
		}
	}

	/* A failing sink does not stop the log. */
	sc.fail = 1;
	if ((a = open_log(&o)) == NULL) {
		ok(0, "reopen");
		return;
	}
	is_int(append_n(a, 5, 35, 12), 0, "appends go on with a failing sink");
	is_int(vg_audit_close(a), 0, "and close is clean");
	ok(sc.calls >= 6, "the failing sink was still called");
}

/*-----------------------------------------------------------------------------
 * Failing closed and torn tails
 */

static int
child_fsize(const char *vault)
{
	struct vg_audit_opts o;
	struct vg_audit *a;
	struct rlimit rl;
	char cd[PATH_MAX], p[PATH_MAX];
	int64_t before;
	int bad = 0;

	signal(SIGXFSZ, SIG_IGN);
	opts_init(&o, vault, "cli");
	if ((a = open_log(&o)) == NULL)
		_exit(100);
	if (append_n(a, 6, 5, 1) != 0)
		bad |= 1;
	chain_dir(cd, sizeof(cd), vault, "cli");
	before = file_size(path_in(p, sizeof(p), cd, SEG0));
	rl.rlim_cur = rl.rlim_max = (rlim_t)before + 20;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		_exit(101);
	if (append_n(a, 6, 6, 1) != 1)
		bad |= 2;		/* the write fails: VG_EIO */
	{
		struct ent x;
		uint64_t seq;

		ent_make(&x, 6, 7);
		if (vg_audit_append(a, &x.e, &seq) != VG_EIO)
			bad |= 4;	/* and every later one */
	}
	if (vg_audit_checkpoint(a) != VG_EIO)
		bad |= 8;
	if (vg_audit_close(a) == 0)
		bad |= 16;
	if (file_size(p) != before)
		bad |= 32;		/* the partial frame was cut */
	_exit(bad);
}

static void
test_fail_closed(void)
{
	char v[PATH_MAX], cd[PATH_MAX];
	struct vg_audit_opts o;
	struct vg_audit_status st;
	struct vg_audit_verify_result res;
	struct vg_audit *a;
	unsigned char k0[VG_KEYBYTES];
	uint64_t seq;
	struct ent x;
	pid_t pid;
	int status = -1;

	tdir(v, sizeof(v), "fsize");
	chain_dir(cd, sizeof(cd), v, "cli");
	if (make_log(v, "cli", seed_a, 6, 5, 0, NULL) != 0) {
		ok(0, "setup");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		child_fsize(v);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status), "child exited");
	status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	ok(status >= 0 && status < 100, "the child opened the log and set "
	    "RLIMIT_FSIZE (status %d)", status);
	ok(status >= 0 && !(status & 1), "a write under the limit succeeds");
	ok(status >= 0 && !(status & 2), "the write over the limit (EFBIG) "
	    "fails with VG_EIO");
	ok(status >= 0 && !(status & 4), "every later append fails too");
	ok(status >= 0 && !(status & 8), "a checkpoint fails too");
	ok(status >= 0 && !(status & 16), "close reports the error");
	ok(status >= 0 && !(status & 32),
	    "the partial frame was cut from the segment");

	opts_init(&o, v, "cli");
	if ((a = open_log(&o)) == NULL) {
		ok(0, "reopen after the failure");
		return;
	}
	vg_audit_status(a, &st);
	ok(st.size == 6 && st.torn_bytes == 0,
	    "reopen: the 6 acknowledged entries, nothing torn");
	ent_make(&x, 6, 6);
	ok(vg_audit_append(a, &x.e, &seq) == 0 && seq == 6,
	    "appends continue at seq 6");
	is_int(vg_audit_close(a), 0, "close");
	ok(load_k0(v, "cli", k0) == 0 && verify(cd, k0, NULL, NULL, &res) ==
	    0 && res.ok && res.entries == 7, "verify: OK, 7 entries");
	diag_res(&res);
}

/* The segment write fits under the limit, the checkpoint's does not. */
static int
child_cp_fsize(const char *vault)
{
	struct vg_audit_opts o;
	struct vg_audit *a;
	struct rlimit rl;
	char cd[PATH_MAX], p[PATH_MAX], s[PATH_MAX];
	int64_t before;
	int bad = 0;

	signal(SIGXFSZ, SIG_IGN);
	opts_init(&o, vault, "cli");
	o.checkpoint_every = 1;
	if ((a = open_log(&o)) == NULL)
		_exit(100);
	if (append_n(a, 6, 0, 10) != 0)
		bad |= 1;
	chain_dir(cd, sizeof(cd), vault, "cli");
	before = file_size(path_in(p, sizeof(p), cd, "checkpoints.log"));
	if (file_size(path_in(s, sizeof(s), cd, SEG0)) + 500 > before)
		_exit(102);	/* the segment would hit the limit first */
	rl.rlim_cur = rl.rlim_max = (rlim_t)before + 50;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		_exit(101);
	if (append_n(a, 6, 10, 1) != 1)
		bad |= 2;		/* its checkpoint fails: VG_EIO */
	if (append_n(a, 6, 11, 1) != 1)
		bad |= 4;		/* and so does every later append */
	if (vg_audit_close(a) == 0)
		bad |= 8;
	if (file_size(p) != before)
		bad |= 16;		/* no torn record in checkpoints.log */
	_exit(bad);
}

static void
test_fail_closed_checkpoint(void)
{
	char v[PATH_MAX], cd[PATH_MAX], p[PATH_MAX];
	struct vg_audit_opts o;
	struct vg_audit_status st;
	struct vg_audit_verify_result res;
	struct vg_audit *a;
	unsigned char k0[VG_KEYBYTES];
	pid_t pid;
	int status = -1, notes = 0;

	tdir(v, sizeof(v), "fsize-cp");
	chain_dir(cd, sizeof(cd), v, "cli");
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		child_cp_fsize(v);
	waitpid(pid, &status, 0);
	status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	ok(status >= 0 && status < 100, "checkpoint over RLIMIT_FSIZE: the "
	    "child ran (status %d)", status);
	ok(status >= 0 && !(status & 1), "appends under the limit succeed");
	ok(status >= 0 && !(status & 2), "the append whose checkpoint "
	    "cannot be written fails (VG_EIO)");
	ok(status >= 0 && !(status & 4), "every later append fails too");
	ok(status >= 0 && !(status & 8), "close reports the error");
	ok(status >= 0 && !(status & 16),
	    "checkpoints.log keeps no torn record");
	opts_init(&o, v, "cli");
	if ((a = open_log(&o)) == NULL) {
		ok(0, "reopen after the failed checkpoint");
		return;
	}
	vg_audit_status(a, &st);
	ok(st.size == 11 && st.torn_bytes == 0, "reopen: 11 entries (the "
	    "unacknowledged one was durable), nothing torn");
	is_int(vg_audit_close(a), 0, "close signs the missing checkpoint");
	is_int(vg_audit_each_checkpoint(path_in(p, sizeof(p), cd,
	    "checkpoints.log"), count_note, &notes), 0,
	    "checkpoints.log parses");
	is_int(notes, 11, "and holds 11 checkpoints");
	ok(load_k0(v, "cli", k0) == 0 && verify(cd, k0, NULL, NULL, &res) ==
	    0 && res.ok && res.entries == 11, "verify: OK");
	diag_res(&res);
}

static void
test_torn(void)
{
	char v[PATH_MAX], cd[PATH_MAX], seg[PATH_MAX], p[PATH_MAX];
	struct vg_audit_opts o;
	struct vg_audit_status st;
	struct vg_audit_verify_result res;
	struct vg_audit_record *recs = NULL;
	struct vg_audit *a;
	unsigned char k0[VG_KEYBYTES], *segbuf = NULL;
	int64_t clean;
	uint64_t seq;
	struct ent x;
	size_t seglen, frame;
	long n;
	int round;

	tdir(v, sizeof(v), "torn");
	chain_dir(cd, sizeof(cd), v, "cli");
	path_in(seg, sizeof(seg), cd, SEG0);
	if (make_log(v, "cli", seed_a, 7, 5, 0, NULL) != 0 ||
	    load_k0(v, "cli", k0) != 0 ||
	    (n = read_all(cd, &recs, 10)) != 5 ||
	    (segbuf = slurp(seg, &seglen)) == NULL) {
		ok(0, "setup");
		free(recs);
		return;
	}
	frame = VG_FRAME_HEAD + recs[2].body_len + VG_FRAME_TAIL;
	opts_init(&o, v, "cli");
	for (round = 0; round < 2; round++) {
		/* Half of a real frame, then a bare frame head start. */
		size_t cut = round == 0 ? frame / 2 : 4;

		clean = file_size(seg);
		append_bytes(seg, segbuf + recs[2].offset, cut);
		ok(verify(cd, k0, NULL, NULL, &res) == 0 && res.ok &&
		    res.torn_bytes == cut, "torn tail of %zu bytes: verify OK "
		    "and reports it", cut);
		diag_res(&res);
		if ((a = open_log(&o)) == NULL) {
			ok(0, "reopen over a torn tail");
			break;
		}
		vg_audit_status(a, &st);
		is_int(st.torn_bytes, cut, "reopen: status.torn_bytes is %zu",
		    cut);
		is_int(file_size(seg), clean, "reopen: the tail is cut");
		ent_make(&x, 7, 5 + round);
		ok(vg_audit_append(a, &x.e, &seq) == 0 &&
		    seq == (uint64_t)(5 + round), "appends continue (seq %d)",
		    5 + round);
		is_int(vg_audit_close(a), 0, "close");
		ok(verify(cd, k0, NULL, NULL, &res) == 0 && res.ok &&
		    res.torn_bytes == 0 && res.entries == (uint64_t)(6 + round),
		    "verify after: OK, nothing torn");
		diag_res(&res);
	}

	/* A new segment whose header was torn. */
	path_in(p, sizeof(p), cd, "seg-0000000000000007.log");
	spit(p, "VIGILAUD\0\0\0", 11, 0600);
	ok(verify(cd, k0, NULL, NULL, &res) == 0 && res.ok &&
	    res.torn_bytes == 11, "a torn segment header is a torn tail");
	if ((a = open_log(&o)) != NULL) {
		vg_audit_status(a, &st);
		is_int(st.torn_bytes, 11, "reopen: 11 torn bytes");
		ok(vg_audit_append(a, &x.e, &seq) == 0 && seq == 7,
		    "appends continue at seq 7");
		is_int(vg_audit_close(a), 0, "close");
	} else {
		ok(0, "reopen over a torn segment header");
	}
	ok(verify(cd, k0, NULL, NULL, &res) == 0 && res.ok &&
	    res.entries == 8, "verify: OK, 8 entries");

	/* Garbage is not a torn write: the log refuses to open. */
	{
		char names[8][64], err[256] = "";
		int ns = segments(cd, names, 8);

		path_in(p, sizeof(p), cd, names[ns > 0 ? ns - 1 : 0]);
		append_bytes(p, "xxxxxxxxxxxxxxxxxxxxxxxx", 24);
		is_int(vg_audit_open(&o, &a, err, sizeof(err)), VG_EFORMAT,
		    "garbage after the last frame: open is VG_EFORMAT");
		ok(strstr(err, "verify") != NULL, "and says to run verify "
		    "(%s)", err);
	}
	ok(verify(cd, k0, NULL, NULL, &res) == 0 && !res.ok &&
	    strcmp(res.what, "modified") == 0 && res.seq == 8,
	    "verify: modified at seq 8");
	diag_res(&res);
	free(recs);
	free(segbuf);
}

/*-----------------------------------------------------------------------------
 * Inclusion proofs
 */

static void
test_proofs(void)
{
	char v[PATH_MAX], cd[PATH_MAX];
	struct vg_audit_opts o;
	struct vg_audit_status st;
	struct vg_audit_proof *p = malloc(sizeof(*p)), *q = malloc(sizeof(*q));
	struct vg_audit_record *rec = malloc(sizeof(*rec));
	struct vg_note_key key, other;
	struct vg_audit *a;
	unsigned char pk[32], sk[64];
	const char *why = "";
	uint64_t s;
	int proved = 0, checked = 0, body = 0, wrongkey = 0, path = 0;
	int seqbad = 0;

	tdir(v, sizeof(v), "proofs");
	chain_dir(cd, sizeof(cd), v, "cli");
	opts_init(&o, v, "cli");
	o.checkpoint_every = 1000000;
	if (p == NULL || q == NULL || rec == NULL ||
	    (a = open_log(&o)) == NULL) {
		ok(0, "setup");
		goto out;
	}
	is_int(append_n(a, 8, 0, 300), 0, "300 appends");
	is_int(vg_audit_checkpoint(a), 0, "a checkpoint of 300");
	vg_audit_status(a, &st);
	ok(vg_note_vkey_parse(&key, st.vkey, strlen(st.vkey)) == 0,
	    "status.vkey parses");
	crypto_sign_seed_keypair(pk, sk, seed_b);
	vg_note_key_init(&other, ORIGIN, pk);
	for (s = 0; s < 300; s++) {
		if (vg_audit_prove(cd, s, p, &why) != 0) {
			printf("# prove %llu: %s\n", (unsigned long long)s,
			    why);
			continue;
		}
		proved++;
		if (vg_audit_check_proof(p, &key, rec, &why) == 0 &&
		    rec->seq == s)
			checked++;
		memcpy(q, p, sizeof(*q));
		q->body[q->body_len - 1] ^= 1;	/* detail "i=N": N^1 */
		if (vg_audit_check_proof(q, &key, rec, &why) != 0)
			body++;
		if (vg_audit_check_proof(p, &other, rec, &why) == VG_ECRYPTO)
			wrongkey++;
		memcpy(q, p, sizeof(*q));
		if (q->npath > 0) {
			q->path[q->npath / 2][5] ^= 0x40;
			if (vg_audit_check_proof(q, &key, rec, &why) != 0)
				path++;
		} else {
			path++;
		}
		memcpy(q, p, sizeof(*q));
		q->seq = (s + 1) % 300;
		if (vg_audit_check_proof(q, &key, rec, &why) != 0)
			seqbad++;
	}
	is_int(proved, 300, "a proof for every seq of 300");
	is_int(checked, 300, "every proof checks with the verifier key");
	is_int(body, 300, "each fails with one body byte changed");
	is_int(wrongkey, 300, "each fails (VG_ECRYPTO) under another key");
	is_int(path, 300, "each fails with a path hash changed");
	is_int(seqbad, 300, "each fails when claimed for another seq");
	is_int(vg_audit_prove(cd, 300, p, &why), VG_ENOTFOUND,
	    "seq 300 has no proof");
	is_int(append_n(a, 8, 300, 1), 0, "one more append");
	is_int(vg_audit_prove(cd, 300, p, &why), VG_ENOTFOUND,
	    "not yet checkpointed: VG_ENOTFOUND (%s)", why);
	is_int(vg_audit_close(a), 0, "close");
	ok(vg_audit_prove(cd, 300, p, &why) == 0 &&
	    vg_audit_check_proof(p, &key, rec, &why) == 0 && p->size == 301,
	    "after close's checkpoint it proves in the tree of 301");
out:
	free(p);
	free(q);
	free(rec);
}

/*-----------------------------------------------------------------------------
 * The tamper matrix
 */

#define TN 50

static char tbase[PATH_MAX], twit[PATH_MAX];
static struct vg_audit_record *trec;
static unsigned char *tseg, tk0[VG_KEYBYTES];
static int64_t t_want_off = -1;	/* the offset verify must name, or -1 */
static size_t tseglen;

static size_t
frame_len(int k)
{
	return VG_FRAME_HEAD + trec[k].body_len + VG_FRAME_TAIL;
}

/* Segment offset of the value of field tag in entry k. */
static size_t
field_off(int k, int tag)
{
	const unsigned char *b = trec[k].body;
	size_t pos = 17;

	while (pos + 2 <= trec[k].body_len) {
		if (b[pos] == tag)
			return trec[k].offset + VG_FRAME_HEAD + pos + 2;
		pos += 2 + b[pos + 1];
	}
	abort();
}

/* Runs verify over a copy of the base whose segment is seg; checks what
 * and seq. */
static void
tamper(const char *label, const unsigned char *seg, size_t len,
    const unsigned char *k0, const char *wit, const char *want,
    uint64_t want_seq)
{
	static int n;
	char d[PATH_MAX], cd[PATH_MAX], p[PATH_MAX];
	struct vg_audit_verify_result res;
	int rc;

	{
		char name[16];

		snprintf(name, sizeof(name), "tc%03d", n++);
		tdir(d, sizeof(d), name);
	}
	copy_tree(tbase, d);
	chain_dir(cd, sizeof(cd), d, "cli");
	if (seg != NULL)
		spit(path_in(p, sizeof(p), cd, SEG0), seg, len, 0600);
	rc = verify(cd, k0, NULL, wit, &res);
	if (!ok(rc == 0 && !res.ok && strcmp(res.what, want) == 0 &&
	    res.seq == want_seq && (t_want_off < 0 ||
	    ((int64_t)res.offset == t_want_off &&
	    strcmp(res.segment, SEG0) == 0)), "tamper: %s -> %s at seq %llu%s",
	    label, want, (unsigned long long)want_seq, t_want_off < 0 ? "" :
	    ", its offset named"))
		diag_res(&res);
	rm_rf(d);
}

static void
tamper_flip(const char *label, size_t off, unsigned char mask,
    const char *want, uint64_t want_seq)
{
	unsigned char *b = malloc(tseglen);

	memcpy(b, tseg, tseglen);
	b[off] ^= mask;
	t_want_off = off >= trec[0].offset ? (int64_t)trec[want_seq].offset :
	    -1;
	tamper(label, b, tseglen, tk0, NULL, want, want_seq);
	t_want_off = -1;
	free(b);
}

/* A validly framed, correctly chained entry with a wrong MAC. */
static size_t
forge(unsigned char *out, const struct vg_audit_entry *e, uint64_t seq,
    int64_t t, uint32_t epoch, const unsigned char prev[VG_HASHBYTES],
    unsigned char chain[VG_HASHBYTES])
{
	unsigned char leaf[VG_HASHBYTES], key[VG_KEYBYTES];
	size_t blen;

	if (vg_audit_encode(e, seq, t, "cli", out + VG_FRAME_HEAD,
	    VG_AUDIT_BODY_MAX, &blen) != 0)
		abort();
	out[0] = 'V';
	out[1] = 'E';
	vg__put32(out + 2, (uint32_t)blen);
	vg__put32(out + 6, epoch);
	vg_merkle_leaf_hash(leaf, out + VG_FRAME_HEAD, blen);
	vg__audit_chain(chain, prev, leaf);
	memcpy(out + VG_FRAME_HEAD + blen, chain, VG_HASHBYTES);
	randombytes_buf(key, sizeof(key));
	vg_audit_frame_mac(out + VG_FRAME_HEAD + blen + VG_HASHBYTES, key,
	    epoch, seq, chain);
	return VG_FRAME_HEAD + blen + VG_FRAME_TAIL;
}

/*
 * What root holding today's key K_E can do: MAC entries [from, TN) again
 * under K_E, storing epoch E (body and chain untouched).  Verify with K0
 * must call it forged at `from`, because the checkpoints fix each entry's
 * epoch.
 */
static void
tamper_remac(size_t from)
{
	unsigned char *b = malloc(tseglen), key[VG_KEYBYTES];
	uint32_t e, last = 0;
	size_t i;
	char label[96];

	if (b == NULL)
		abort();
	for (i = 0; i < TN; i++)
		if (trec[i].mac_epoch > last)
			last = trec[i].mac_epoch;
	memcpy(key, tk0, sizeof(key));
	for (e = 0; e < last; e++)
		vg_audit_mac_evolve(key);
	memcpy(b, tseg, tseglen);
	for (i = from; i < TN; i++) {
		size_t off = trec[i].offset;

		vg__put32(b + off + 6, last);
		vg_audit_frame_mac(b + off + VG_FRAME_HEAD + trec[i].body_len +
		    VG_HASHBYTES, key, last, trec[i].seq, trec[i].chain);
	}
	snprintf(label, sizeof(label), "entries %zu.. re-MACed under the "
	    "latest key (epoch %u)", from, last);
	tamper(label, b, tseglen, tk0, NULL, "forged", (uint64_t)from);
	free(b);
}

static void
entry_of(const struct vg_audit_record *r, struct vg_audit_entry *e)
{
#define S(f) (r->f[0] != '\0' ? r->f : NULL)
	memset(e, 0, sizeof(*e));
	e->principal = S(principal);
	e->action = S(action);
	e->customer = r->has_customer ? r->customer : NULL;
	e->fields = S(fields);
	e->purpose = S(purpose);
	e->case_id = S(case_id);
	e->decision = S(decision);
	e->reason = S(reason);
	e->request_id = S(request_id);
	e->client = S(client);
	e->probe = r->has_probe ? r->probe : NULL;
	e->detail = S(detail);
#undef S
}

static void
tamper_insert(int k, int renumber)
{
	unsigned char *b = malloc(tseglen + (TN + 1) * VG_FRAME_MAX);
	unsigned char chain[VG_HASHBYTES];
	struct vg_audit_entry e;
	size_t pos, j;
	char label[96];

	memset(&e, 0, sizeof(e));
	e.principal = "local:mallory";
	e.action = "lookup";
	e.decision = "allow";
	e.detail = "forged";
	pos = trec[k].offset;
	memcpy(b, tseg, pos);
	/* A careful forger: the epoch the checkpoints require there. */
	pos += forge(b + pos, &e, (uint64_t)k, trec[k - 1].time_ns,
	    trec[k].mac_epoch, trec[k - 1].chain, chain);
	if (!renumber) {
		memcpy(b + pos, tseg + trec[k].offset, tseglen -
		    trec[k].offset);
		pos += tseglen - trec[k].offset;
	} else {
		for (j = (size_t)k; j < TN; j++) {
			entry_of(&trec[j], &e);
			pos += forge(b + pos, &e, j + 1, trec[j].time_ns,
			    trec[j].mac_epoch, chain, chain);
		}
	}
	snprintf(label, sizeof(label), "a forged entry inserted at %d%s", k,
	    renumber ? ", later seqs renumbered and rechained" : "");
	tamper(label, b, pos, tk0, NULL, "forged", (uint64_t)k);
	if (!renumber) {
		snprintf(label, sizeof(label), "a forged entry inserted at "
		    "%d, no K0", k);
		tamper(label, b, pos, NULL, NULL, "inserted", (uint64_t)k);
	} else {
		char d[PATH_MAX], cd[PATH_MAX], p[PATH_MAX];
		struct vg_audit_verify_result res;

		/* Without K0, only the signed roots can tell. */
		tdir(d, sizeof(d), "tc-renum");
		copy_tree(tbase, d);
		chain_dir(cd, sizeof(cd), d, "cli");
		spit(path_in(p, sizeof(p), cd, SEG0), b, pos, 0600);
		ok(verify(cd, NULL, NULL, NULL, &res) == 0 && !res.ok &&
		    res.seq <= (uint64_t)k && res.seq_end >= (uint64_t)k,
		    "tamper: inserted and renumbered, no K0: a signed root "
		    "disagrees over a range holding %d (%s %llu..%llu)", k,
		    res.what, (unsigned long long)res.seq,
		    (unsigned long long)res.seq_end);
		rm_rf(d);
	}
	free(b);
}

/* Replaces the chain of a copy of the base with another chain. */
static void
tamper_replace(const char *other, const char *label, int pin_old,
    const char *want)
{
	char d[PATH_MAX], cd[PATH_MAX], src[PATH_MAX], bcd[PATH_MAX];
	struct vg_audit_verify_result res;
	struct vg_note_key old;

	tdir(d, sizeof(d), "tc-repl");
	copy_tree(tbase, d);
	chain_dir(cd, sizeof(cd), d, "cli");
	rm_rf(cd);
	copy_tree(chain_dir(src, sizeof(src), other, "cli"), cd);
	if (pin_old && load_key(chain_dir(bcd, sizeof(bcd), tbase, "cli"),
	    &old) != 0)
		abort();
	if (!ok(verify(cd, NULL, pin_old ? &old : NULL, pin_old ? NULL : twit,
	    &res) == 0 && !res.ok && strcmp(res.what, want) == 0,
	    "tamper: %s -> %s", label, want))
		diag_res(&res);
	rm_rf(d);
}

static void
test_tamper(void)
{
	char cd[PATH_MAX], p[PATH_MAX], other[PATH_MAX], d[PATH_MAX];
	struct vg_audit_verify_result res;
	unsigned char *b;
	size_t pos, a, z;
	int k = 20;

	tdir(tbase, sizeof(tbase), "tbase");
	tdir(twit, sizeof(twit), "tbase-w");
	mkdir(twit, 0700);
	chain_dir(cd, sizeof(cd), tbase, "cli");
	if (make_log(tbase, "cli", seed_a, 9, TN, 10, twit) != 0 ||
	    load_k0(tbase, "cli", tk0) != 0 ||
	    read_all(cd, &trec, TN + 1) != TN ||
	    (tseg = slurp(path_in(p, sizeof(p), cd, SEG0), &tseglen)) ==
	    NULL) {
		ok(0, "tamper: setup");
		return;
	}
	ok(verify(cd, tk0, NULL, twit, &res) == 0 && res.ok &&
	    res.checkpoints == 5 && res.witness_checkpoints == 5,
	    "tamper: the base log of %d entries verifies, with 5 own and 5 "
	    "witness checkpoints", TN);
	ok(trec[19].mac_epoch == 2 && trec[20].mac_epoch == 3 &&
	    trec[25].mac_epoch == 3, "tamper: entries 10..19 are epoch 2, "
	    "20..29 epoch 3");

	/* One byte flipped in each part of frame k. */
	tamper_flip("frame marker flipped", trec[k].offset, 0x01,
	    "modified", k);
	tamper_flip("frame length, high byte", trec[k].offset + 2, 0x01,
	    "modified", k);
	tamper_flip("frame length, low byte", trec[k].offset + 5, 0x01,
	    "modified", k);
	tamper_flip("MAC epoch lowered below the previous entry's",
	    trec[25].offset + 9, 0x01, "modified", 25);
	tamper_flip("MAC epoch of an epoch's first entry lowered",
	    trec[20].offset + 9, 0x01, "modified", 20);
	tamper_flip("MAC epoch raised by one", trec[25].offset + 9, 0x07,
	    "modified", 25);
	tamper_flip("MAC epoch, high byte (2^31 epochs ahead)",
	    trec[25].offset + 6, 0x80, "modified", 25);
	tamper_remac(0);
	tamper_remac(5);
	tamper_flip("body version", trec[k].offset + VG_FRAME_HEAD, 0x01,
	    "modified", k);
	tamper_flip("body seq, low byte", trec[k].offset + VG_FRAME_HEAD + 8,
	    0x01, "modified", k);
	tamper_flip("body seq, low byte (odd)", trec[21].offset +
	    VG_FRAME_HEAD + 8, 0x02, "modified", 21);
	tamper_flip("body seq of the last entry", trec[TN - 1].offset +
	    VG_FRAME_HEAD + 8, 0x04, "modified", TN - 1);
	tamper_flip("body time", trec[k].offset + VG_FRAME_HEAD + 15, 0x01,
	    "modified", k);
	tamper_flip("node field", field_off(k, T_NODE), 0x01, "modified", k);
	tamper_flip("principal field", field_off(k, T_PRINCIPAL) + 6, 0x01,
	    "modified", k);
	tamper_flip("action field", field_off(k, T_ACTION), 0x01,
	    "modified", k);
	tamper_flip("customer id field", field_off(k, T_CUSTOMER) + 3, 0x01,
	    "modified", k);
	tamper_flip("decision field", field_off(k, T_DECISION), 0x01,
	    "modified", k);
	tamper_flip("decision field made non-printable",
	    field_off(k, T_DECISION), 0x60, "modified", k);
	tamper_flip("detail field", field_off(k, T_DETAIL) + 2, 0x01,
	    "modified", k);
	tamper_flip("a field's length byte", field_off(k, T_DETAIL) - 1,
	    0x01, "modified", k);
	tamper_flip("stored chain hash", trec[k].offset + VG_FRAME_HEAD +
	    trec[k].body_len + 7, 0x01, "modified", k);
	tamper_flip("stored MAC", trec[k].offset + VG_FRAME_HEAD +
	    trec[k].body_len + VG_HASHBYTES + 7, 0x01, "forged", k);
	tamper_flip("stored MAC of entry 0", trec[0].offset + VG_FRAME_HEAD +
	    trec[0].body_len + VG_HASHBYTES, 0x80, "forged", 0);
	tamper_flip("segment header first seq", 19, 0x01, "modified", 0);
	tamper_flip("segment header prev chain", 25, 0x01, "modified", 0);

	/* Entries cut out. */
	b = malloc(tseglen + (TN + 2) * VG_FRAME_MAX);
	a = trec[0].offset;
	z = a + frame_len(0);
	memcpy(b, tseg, a);
	memcpy(b + a, tseg + z, tseglen - z);
	tamper("the first entry deleted", b, tseglen - (z - a), tk0, NULL,
	    "deleted", 0);
	a = trec[k].offset;
	z = a + frame_len(k);
	memcpy(b, tseg, a);
	memcpy(b + a, tseg + z, tseglen - z);
	tamper("a middle entry deleted", b, tseglen - (z - a), tk0, NULL,
	    "deleted", k);
	a = trec[k].offset;
	z = trec[k + 3].offset;
	memcpy(b, tseg, a);
	memcpy(b + a, tseg + z, tseglen - z);
	tamper("three middle entries deleted", b, tseglen - (z - a), tk0,
	    NULL, "deleted", k);
	tamper("the last entry deleted (= truncated at its start)", tseg,
	    trec[TN - 1].offset, tk0, NULL, "truncated", TN - 1);

	/* Two adjacent entries swapped. */
	a = trec[k].offset;
	memcpy(b, tseg, tseglen);
	memcpy(b + a, tseg + trec[k + 1].offset, frame_len(k + 1));
	memcpy(b + a + frame_len(k + 1), tseg + a, frame_len(k));
	tamper("entries 20 and 21 swapped", b, tseglen, tk0, NULL,
	    "reordered", k);
	tamper("entries 20 and 21 swapped, no K0", b, tseglen, NULL, NULL,
	    "reordered", k);

	/* Truncation before the last checkpoint. */
	tamper("truncated in the middle of frame 30", tseg,
	    trec[30].offset + frame_len(30) / 2, tk0, NULL, "truncated", 30);
	tamper("truncated at the frame boundary before 30", tseg,
	    trec[30].offset, tk0, NULL, "truncated", 30);
	tamper("truncated inside the segment header", tseg, 30, tk0, NULL,
	    "truncated", 0);

	/* Forged entries. */
	tamper_insert(k, 0);
	tamper_insert(k, 1);
	free(b);

	/* Signed checkpoints. */
	tdir(d, sizeof(d), "tc-sig");
	copy_tree(tbase, d);
	chain_dir(cd, sizeof(cd), d, "cli");
	{
		size_t n;
		unsigned char *log = slurp(path_in(p, sizeof(p), cd,
		    "checkpoints.log"), &n);
		char *nl = log != NULL ? strchr((char *)log, '\n') : NULL;

		/* "note N\n<origin>\n<size>\n<root>": flip in the root. */
		if (nl != NULL && (nl = strchr(nl + 1, '\n')) != NULL &&
		    (nl = strchr(nl + 1, '\n')) != NULL) {
			nl[3] = nl[3] == 'A' ? 'B' : 'A';
			spit(p, log, n, 0600);
		}
		free(log);
	}
	ok(verify(cd, tk0, NULL, NULL, &res) == 0 && !res.ok &&
	    strcmp(res.what, "bad signature") == 0,
	    "tamper: a checkpoint's root changed -> bad signature");
	diag_res(&res);
	rm_rf(d);

	/* The log truncated and its checkpoints.log too: only a witness can
	 * tell. */
	tdir(d, sizeof(d), "tc-hide");
	copy_tree(tbase, d);
	chain_dir(cd, sizeof(cd), d, "cli");
	spit(path_in(p, sizeof(p), cd, SEG0), tseg, trec[30].offset, 0600);
	{
		size_t n, i;
		unsigned char *log = slurp(path_in(p, sizeof(p), cd,
		    "checkpoints.log"), &n);
		char *s = (char *)log;

		/* Keep the first three notes (10, 20, 30). */
		for (i = 0, pos = 0; log != NULL && i < 3; i++) {
			unsigned long len = strtoul(s + pos + 5, NULL, 10);

			pos += (size_t)(strchr(s + pos, '\n') - (s + pos)) +
			    1 + len;
		}
		if (log != NULL)
			spit(p, log, pos, 0600);
		free(log);
	}
	ok(verify(cd, tk0, NULL, NULL, &res) == 0 && res.ok &&
	    res.entries == 30, "tamper: log and checkpoints.log both cut to "
	    "30: the chain alone cannot tell");
	ok(verify(cd, tk0, NULL, twit, &res) == 0 && !res.ok &&
	    strcmp(res.what, "truncated") == 0 && res.seq == 30,
	    "tamper: but the witness can: truncated at seq 30");
	diag_res(&res);
	rm_rf(d);

	/* The whole log replaced and re-signed with a new key. */
	tdir(other, sizeof(other), "tother");
	if (make_log(other, "cli", seed_b, 10, TN + 10, 10, NULL) != 0) {
		ok(0, "tamper: setup of another chain");
		return;
	}
	tamper_replace(other, "the log replaced, re-signed by a new key "
	    "(key.pub too), old witness checkpoints", 0,
	    "inconsistent with witness");
	tamper_replace(other, "the log replaced and re-signed, old key "
	    "pinned", 1, "bad signature");
	/* Another history under the same key: a fork. */
	tdir(other, sizeof(other), "tfork");
	if (make_log(other, "cli", seed_a, 11, TN, 10, NULL) != 0) {
		ok(0, "tamper: setup of a forked chain");
		return;
	}
	tamper_replace(other, "another history signed by the same key", 0,
	    "inconsistent with witness");
	tdir(d, sizeof(d), "tc-fork");
	copy_tree(tbase, d);
	chain_dir(cd, sizeof(cd), d, "cli");
	rm_rf(cd);
	copy_tree(chain_dir(p, sizeof(p), other, "cli"), cd);
	ok(verify(cd, NULL, NULL, twit, &res) == 0 && !res.ok &&
	    res.seq == 0 && res.seq_end == 9,
	    "tamper: the fork is placed in entries 0..9 (the first "
	    "witnessed tree)");
	diag_res(&res);
	rm_rf(d);
}

/*-----------------------------------------------------------------------------
 * Hidden modes for t0011-audit-crash.sh
 */

static void
crash_opts(struct vg_audit_opts *o, const char *dir)
{
	opts_init(o, dir, "crash");
	o->checkpoint_every = 50;
	o->checkpoint_ms = 20;
	o->segment_bytes = 256 * 1024;
}

#define CRASH_THREADS 32

struct crasher {
	struct vg_audit *a;
	int id;
};

/* Appends for 30 s at most (the test kills it long before), printing
 * each acknowledged seq; 32 threads of 1.3 KB entries share group
 * commits, so writes span pages and a kill can tear them. */
static void *
crash_main(void *arg)
{
	struct crasher *c = arg;
	time_t start = time(NULL);
	char pad[241];
	struct ent x;
	uint64_t seq;
	int i;

	memset(pad, 'p', 240);
	pad[240] = '\0';
	for (i = 0; time(NULL) - start < 30; i++) {
		ent_make(&x, c->id, i);
		x.e.fields = x.e.purpose = x.e.case_id = pad;
		x.e.request_id = x.e.reason = pad;
		if (vg_audit_append(c->a, &x.e, &seq) != 0) {
			printf("error append\n");
			fflush(stdout);
			exit(1);
		}
		flockfile(stdout);
		printf("acked %llu\n", (unsigned long long)seq);
		fflush(stdout);
		funlockfile(stdout);
	}
	return NULL;
}

static int
crash_writer(const char *dir)
{
	struct crasher c[CRASH_THREADS];
	pthread_t thr[CRASH_THREADS];
	struct vg_audit_opts o;
	struct vg_audit *a;
	int i;

	crash_opts(&o, dir);
	if ((a = open_log(&o)) == NULL)
		return 1;
	for (i = 0; i < CRASH_THREADS; i++) {
		c[i].a = a;
		c[i].id = i;
		if (pthread_create(&thr[i], NULL, crash_main, &c[i]) != 0)
			return 1;
	}
	for (i = 0; i < CRASH_THREADS; i++)
		pthread_join(thr[i], NULL);
	return vg_audit_close(a) == 0 ? 0 : 1;
}

static int
crash_check(const char *dir, long long maxack)
{
	struct vg_audit_opts o;
	struct vg_audit_status st;
	struct vg_audit_verify_result res;
	struct vg_audit *a;
	unsigned char k0[VG_KEYBYTES];
	char cd[PATH_MAX];
	uint64_t torn_before;

	crash_opts(&o, dir);
	chain_dir(cd, sizeof(cd), dir, "crash");
	if (load_k0(dir, "crash", k0) != 0) {
		/* Killed before the chain's creation was done: nothing was
		 * acknowledged, so nothing can be missing (the next round's
		 * open finishes the creation and is checked). */
		if (maxack < 0) {
			printf("crash-check OK: killed before the chain was "
			    "made, nothing acked\n");
			return 0;
		}
		printf("no K0\n");
		return 1;
	}
	if (verify(cd, k0, NULL, NULL, &res) != 0 || !res.ok) {
		printf("verify before reopen failed: ");
		diag_res(&res);
		return 1;
	}
	torn_before = res.torn_bytes;
	if ((a = open_log(&o)) == NULL) {
		printf("reopen failed\n");
		return 1;
	}
	vg_audit_status(a, &st);
	if (vg_audit_close(a) != 0) {
		printf("close failed\n");
		return 1;
	}
	if (st.torn_bytes != torn_before) {
		printf("verify saw %llu torn bytes, open cut %llu\n",
		    (unsigned long long)torn_before,
		    (unsigned long long)st.torn_bytes);
		return 1;
	}
	if (maxack >= 0 && st.size <= (uint64_t)maxack) {
		printf("acked seq %lld lost: the log holds %llu entries\n",
		    maxack, (unsigned long long)st.size);
		return 1;
	}
	if (verify(cd, k0, NULL, NULL, &res) != 0 || !res.ok ||
	    res.torn_bytes != 0 || res.entries != st.size) {
		printf("verify after reopen failed: ");
		diag_res(&res);
		return 1;
	}
	printf("crash-check OK entries=%llu torn=%llu\n",
	    (unsigned long long)st.size, (unsigned long long)st.torn_bytes);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof(seed_a); i++) {
		seed_a[i] = (unsigned char)i;
		seed_b[i] = (unsigned char)(0xff - i);
	}
	if (vg_crypto_init() != 0)
		return 2;
	if (argc == 3 && strcmp(argv[1], "--crash-writer") == 0)
		return crash_writer(argv[2]);
	if (argc == 4 && strcmp(argv[1], "--crash-check") == 0)
		return crash_check(argv[2], strtoll(argv[3], NULL, 10));
	if (argc != 1) {
		fprintf(stderr, "usage: t_audit [--crash-writer DIR | "
		    "--crash-check DIR MAXACK]\n");
		return 2;
	}

	snprintf(root, sizeof(root), "/tmp/t_audit.XXXXXX");
	if (mkdtemp(root) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return done_testing();
	}
	test_codec();
	test_append_reopen();
	test_epochs();
	test_concurrent();
	test_async();
	test_segments();
	test_follow_tail();
	test_checkpoints();
	test_fail_closed();
	test_fail_closed_checkpoint();
	test_torn();
	test_proofs();
	test_tamper();
	free(trec);
	free(tseg);
	if (getenv("T_AUDIT_KEEP") == NULL)
		rm_rf(root);
	else
		printf("# kept %s\n", root);
	return done_testing();
}
