/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sequential reading of an audit chain: segments in order, frames in
 * order, every frame checked for framing, decoding, sequence, time order
 * and the public hash chain.  MACs, the Merkle tree and signatures are the
 * verifier's business (audit_verify.c); the reader needs no key.
 *
 * A frame cut short at the very end of the last segment is a torn tail
 * (a crash during a write): the reader stops there, reports it through
 * vg__audit_reader_state(), and returns 0 as at a clean end.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vigil/audit.h"
#include "audit_int.h"

struct vg_audit_reader {
	char dir[PATH_MAX];
	char **segs;
	int nsegs, cur;
	FILE *fp;
	uint64_t off;			/* offset in the current segment */
	struct vg_audit_reader_state st;
	unsigned char *buf;		/* one frame */
	int failed;			/* sticky error */
	int tailing;			/* vg_audit_reader_tail is reading */
	char why[160];
	uint64_t err_seq, err_off;
	char err_seg[64];
};

int
vg__audit_chain_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > VG_CHAIN_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c == '-' && i > 0)))
			return 0;
	}
	return 1;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* seg-<16 hex>.log */
static int
is_segment_name(const char *n)
{
	size_t i;

	if (strlen(n) != 24 || strncmp(n, "seg-", 4) != 0 ||
	    strcmp(n + 20, ".log") != 0)
		return 0;
	for (i = 4; i < 20; i++)
		if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' &&
		    n[i] <= 'f')))
			return 0;
	return 1;
}

void
vg__audit_free_names(char **names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
vg__audit_list_segments(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL, **nn;
	int n = 0, cap = 0;

	*out = NULL;
	if (d == NULL)
		return errno == ENOENT ? VG_ENOTFOUND : VG_EIO;
	while ((de = readdir(d)) != NULL) {
		if (!is_segment_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nn = realloc(names, (size_t)cap * sizeof(*names));
			if (nn == NULL)
				goto nomem;
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL)
			goto nomem;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, (size_t)n, sizeof(*names), cmp_names);
	*out = names;
	return n;
nomem:
	closedir(d);
	vg__audit_free_names(names, n);
	return VG_ENOMEM;
}

static int
fail(struct vg_audit_reader *r, uint64_t seq, const char *fmt, ...)
    VG_PRINTF(3, 4);

static int
fail(struct vg_audit_reader *r, uint64_t seq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->err_seq = seq;
	r->err_off = r->off;
	snprintf(r->err_seg, sizeof(r->err_seg), "%s",
	    r->cur < r->nsegs && r->cur >= 0 ? r->segs[r->cur] : "");
	r->failed = VG_EFORMAT;
	return VG_EFORMAT;
}

int
vg_audit_reader_open(const char *dir, struct vg_audit_reader **out)
{
	struct vg_audit_reader *r;
	int n;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return VG_ENOMEM;
	if ((size_t)snprintf(r->dir, sizeof(r->dir), "%s", dir) >=
	    sizeof(r->dir)) {
		free(r);
		return VG_ETOOBIG;
	}
	r->buf = malloc(VG_FRAME_MAX);
	if (r->buf == NULL) {
		free(r);
		return VG_ENOMEM;
	}
	n = vg__audit_list_segments(dir, &r->segs);
	if (n < 0 && n != VG_ENOTFOUND) {
		free(r->buf);
		free(r);
		return n;
	}
	r->nsegs = n < 0 ? 0 : n;
	r->cur = -1;
	*out = r;
	return 0;
}

void
vg_audit_reader_close(struct vg_audit_reader *r)
{
	if (r == NULL)
		return;
	if (r->fp != NULL)
		fclose(r->fp);
	vg__audit_free_names(r->segs, r->nsegs);
	free(r->buf);
	free(r);
}

const char *
vg_audit_reader_error(const struct vg_audit_reader *r, uint64_t *seq,
    uint64_t *offset, const char **segment)
{
	if (seq != NULL)
		*seq = r->err_seq;
	if (offset != NULL)
		*offset = r->err_off;
	if (segment != NULL)
		*segment = r->err_seg;
	return r->failed ? r->why : "";
}

void
vg__audit_reader_state(const struct vg_audit_reader *r,
    struct vg_audit_reader_state *st)
{
	*st = r->st;
}

/* Opens the next segment and checks its header; 1 opened, 0 none left. */
static int
next_segment(struct vg_audit_reader *r)
{
	unsigned char head[VG_SEG_HEADER_MAX], prev[VG_HASHBYTES];
	char path[PATH_MAX + 64], chain[VG_CHAIN_NAME_MAX + 1];
	uint64_t first;
	size_t got, hlen;

	if (r->fp != NULL) {
		fclose(r->fp);
		r->fp = NULL;
	}
	if (r->cur + 1 >= r->nsegs)
		return 0;
	r->cur++;
	r->off = 0;
	snprintf(path, sizeof(path), "%s/%s", r->dir, r->segs[r->cur]);
	r->fp = fopen(path, "rb");
	if (r->fp == NULL)
		return fail(r, r->st.next_seq, "cannot open segment");
	setvbuf(r->fp, NULL, _IOFBF, 1 << 20);
	got = fread(head, 1, 53, r->fp);
	if (got == 53 && head[52] <= VG_CHAIN_NAME_MAX)
		got += fread(head + 53, 1, head[52], r->fp);
	if (vg__audit_seg_parse(head, got, &first, prev, chain, &hlen) != 0) {
		struct stat sb;
		size_t i, zero = 1, whole;

		/* A torn header: the last segment, and the file holds no more
		 * than a header's prefix (what a crash during its creation
		 * leaves: the header's first bytes, or zeros after a power
		 * cut).  A longer file is damage, never cut. */
		for (i = 0; i < got; i++)
			zero &= head[i] == 0;
		whole = got >= 53 && head[52] >= 1 &&
		    head[52] <= VG_CHAIN_NAME_MAX ? 53 + (size_t)head[52] : 53;
		if (zero && r->cur == r->nsegs - 1 &&
		    fstat(fileno(r->fp), &sb) == 0 &&
		    sb.st_size <= VG_SEG_HEADER_MAX) {
			int c;

			while ((c = fgetc(r->fp)) != EOF && zero)
				zero = c == 0;
			got = (size_t)sb.st_size;
			whole = zero ? got + 1 : 0;	/* all zeros: torn */
		}
		if (r->cur == r->nsegs - 1 && fstat(fileno(r->fp), &sb) == 0 &&
		    (uint64_t)sb.st_size == got && got < whole &&
		    (zero || memcmp(head, VG_SEG_MAGIC, got < 8 ? got :
		    8) == 0)) {
			/* A segment whose header write was torn. */
			r->st.torn = 1;
			r->st.torn_offset = 0;
			r->st.torn_bytes = got;
			snprintf(r->st.last_segment,
			    sizeof(r->st.last_segment), "%s",
			    r->segs[r->cur]);
			return 0;
		}
		return fail(r, r->st.next_seq, "segment header is malformed");
	}
	if (first != r->st.next_seq)
		return fail(r, r->st.next_seq, "segment starts at seq %llu, "
		    "expected %llu (%s)", (unsigned long long)first,
		    (unsigned long long)r->st.next_seq,
		    first > r->st.next_seq ? "entries deleted" :
		    "entries inserted or reordered");
	if (memcmp(prev, r->st.last_chain, VG_HASHBYTES) != 0)
		return fail(r, r->st.next_seq, "segment does not continue the "
		    "hash chain of the previous one");
	r->off = hlen;
	snprintf(r->st.last_segment, sizeof(r->st.last_segment), "%s",
	    r->segs[r->cur]);
	r->st.last_segment_size = hlen;
	return 1;
}

static void
torn(struct vg_audit_reader *r, size_t got)
{
	r->st.torn = 1;
	r->st.torn_offset = r->off;
	r->st.torn_bytes = got;
}

/* True when the n bytes just read (in r->buf) and everything after them
 * in the current segment are zero: the tail a power cut leaves when the
 * file grew but its data never reached the disk.  *total gets the count. */
static int
zero_tail(struct vg_audit_reader *r, size_t n, uint64_t *total)
{
	unsigned char buf[4096];
	size_t i, got;

	*total = n;
	for (i = 0; i < n; i++)
		if (r->buf[i] != 0)
			return 0;
	while ((got = fread(buf, 1, sizeof(buf), r->fp)) > 0) {
		for (i = 0; i < got; i++)
			if (buf[i] != 0)
				return 0;
		*total += got;
	}
	return !ferror(r->fp);
}

int
vg_audit_reader_next(struct vg_audit_reader *r, struct vg_audit_record *rec)
{
	unsigned char leaf[VG_HASHBYTES], chain[VG_HASHBYTES];
	const unsigned char *body;
	const char *why;
	size_t got, blen, rest;
	uint32_t epoch;
	int rc;

	if (r->failed)
		return r->failed;
	if (r->st.torn)
		return 0;
	for (;;) {
		if (r->fp == NULL) {
			rc = next_segment(r);
			if (rc <= 0)
				return rc;
		}
		got = fread(r->buf, 1, VG_FRAME_HEAD, r->fp);
		if (got == 0) {
			if (ferror(r->fp))
				return fail(r, r->st.next_seq, "read error");
			if (r->tailing && r->cur == r->nsegs - 1)
				return 0;	/* keep the place: more comes */
			rc = next_segment(r);
			if (rc <= 0)
				return rc;
			continue;
		}
		break;
	}
	if (got < VG_FRAME_HEAD) {
		if (r->cur != r->nsegs - 1)
			return fail(r, r->st.next_seq, "frame cut short in "
			    "the middle of the log (truncated)");
		torn(r, got);
		return 0;
	}
	if (r->buf[0] != 'V' || r->buf[1] != 'E') {
		uint64_t zeros;

		if (r->cur == r->nsegs - 1 && zero_tail(r, got, &zeros)) {
			torn(r, 0);
			r->st.torn_bytes = zeros;
			return 0;
		}
		return fail(r, r->st.next_seq, "bad frame marker "
		    "(bytes inserted or overwritten)");
	}
	blen = vg__get32(r->buf + 2);
	epoch = vg__get32(r->buf + 6);
	if (blen < 17 || blen > VG_AUDIT_BODY_MAX)
		return fail(r, r->st.next_seq, "frame length %zu is "
		    "impossible (modified)", blen);
	rest = blen + VG_FRAME_TAIL;
	got = fread(r->buf + VG_FRAME_HEAD, 1, rest, r->fp);
	if (got < rest) {
		if (r->cur != r->nsegs - 1 || ferror(r->fp))
			return fail(r, r->st.next_seq, "frame cut short in "
			    "the middle of the log (truncated)");
		torn(r, VG_FRAME_HEAD + got);
		return 0;
	}
	body = r->buf + VG_FRAME_HEAD;
	rc = vg_audit_decode(body, blen, rec, &why);
	if (rc != 0)
		return fail(r, r->st.next_seq, "entry is malformed: %s "
		    "(modified)", why);
	if (rec->seq != r->st.next_seq)
		return fail(r, r->st.next_seq, "found seq %llu where seq %llu "
		    "belongs (%s)", (unsigned long long)rec->seq,
		    (unsigned long long)r->st.next_seq,
		    rec->seq > r->st.next_seq ? "deleted or reordered" :
		    "inserted or reordered");
	vg_merkle_leaf_hash(leaf, body, blen);
	vg__audit_chain(chain, r->st.last_chain, leaf);
	if (memcmp(chain, body + blen, VG_HASHBYTES) != 0)
		return fail(r, rec->seq, "hash chain broken at seq %llu "
		    "(entry modified)", (unsigned long long)rec->seq);
	if (rec->time_ns < r->st.last_time)
		return fail(r, rec->seq, "time goes backwards at seq %llu "
		    "(reordered or forged)", (unsigned long long)rec->seq);
	rec->mac_epoch = epoch;
	memcpy(rec->leaf, leaf, VG_HASHBYTES);
	memcpy(rec->chain, chain, VG_HASHBYTES);
	memcpy(rec->mac, body + blen + VG_HASHBYTES, VG_HASHBYTES);
	rec->offset = r->off;
	snprintf(rec->segment, sizeof(rec->segment), "%s", r->segs[r->cur]);
	rec->body_len = blen;
	memcpy(rec->body, body, blen);
	memcpy(r->st.last_chain, chain, VG_HASHBYTES);
	r->st.next_seq++;
	r->st.last_time = rec->time_ns;
	if (epoch > r->st.max_epoch)
		r->st.max_epoch = epoch;
	r->off += VG_FRAME_HEAD + rest;
	r->st.last_segment_size = r->off;
	return 1;
}

/*-----------------------------------------------------------------------------
 * Following a chain that is being written
 */

/* Reads the segment list again: 1 when segments were added, 0 when
 * not, or an error. */
static int
relist(struct vg_audit_reader *r)
{
	char **names;
	int n = vg__audit_list_segments(r->dir, &names);

	if (n < 0)
		return n == VG_ENOTFOUND ? 0 : n;
	if (n <= r->nsegs) {
		vg__audit_free_names(names, n);
		return 0;
	}
	vg__audit_free_names(r->segs, r->nsegs);
	r->segs = names;
	r->nsegs = n;
	return 1;
}

int
vg_audit_reader_follow(struct vg_audit_reader *r,
    struct vg_audit_record *rec, uint64_t durable)
{
	int n, rc;

	if (r->failed)
		return r->failed;
	if (r->st.next_seq >= durable)
		return 0;
	/* Entries below `durable` are whole on disk, so an end of file
	 * here only means stdio saw the end earlier, or the entry is in a
	 * segment created since the list was read. */
	if (r->fp != NULL)
		clearerr(r->fp);
	rc = vg_audit_reader_next(r, rec);
	if (rc != 0 || r->failed)
		return rc;
	if (r->st.torn)
		return fail(r, r->st.next_seq, "entry %llu is durable but cut "
		    "short on disk", (unsigned long long)r->st.next_seq);
	if ((n = relist(r)) <= 0)
		return n;
	return vg_audit_reader_next(r, rec);
}

int
vg_audit_reader_tail(struct vg_audit_reader *r, struct vg_audit_record *rec)
{
	int pass, rc;

	for (pass = 0; pass < 2; pass++) {
		struct vg_audit_reader_state saved = r->st;
		uint64_t off = r->off;
		int cur = r->cur, n;
		off_t pos = r->fp != NULL ? ftello(r->fp) : -1;

		if (r->failed)
			return r->failed;
		if (r->fp != NULL)
			clearerr(r->fp);
		r->tailing = 1;
		rc = vg_audit_reader_next(r, rec);
		r->tailing = 0;
		if (rc != 0 || r->failed)
			return rc;
		if (r->st.torn) {
			/* A frame (or a segment header) the writer has not
			 * finished: back to where it starts, for next time. */
			r->st = saved;
			r->off = off;
			if (r->cur != cur || pos < 0) {
				if (r->fp != NULL)
					fclose(r->fp);
				r->fp = NULL;
				r->cur = cur;
			} else if (fseeko(r->fp, pos, SEEK_SET) != 0) {
				return fail(r, r->st.next_seq, "cannot seek");
			}
			return 0;
		}
		/* The end of the last segment known: is there a newer one? */
		if ((n = relist(r)) <= 0)
			return n;
		if (r->fp != NULL) {
			fclose(r->fp);	/* finished: the writer moved on */
			r->fp = NULL;
		}
	}
	return 0;
}

/*-----------------------------------------------------------------------------
 * Several chains in log order
 */

struct merge_src {
	char name[VG_CHAIN_NAME_MAX + 1];
	struct vg_audit_reader *r;
	struct vg_audit_record rec;	/* lookahead */
	int have;			/* rec holds the next entry */
};

struct vg_audit_merge {
	struct merge_src *src;
	size_t n;
	int last;			/* source returned last, or -1 */
	char why[256];
};

static int
src_cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct merge_src *)a)->name,
	    ((const struct merge_src *)b)->name);
}

static int
merge_fill(struct vg_audit_merge *m, size_t i)
{
	struct merge_src *s = &m->src[i];
	int rc = vg_audit_reader_next(s->r, &s->rec);

	if (rc < 0) {
		uint64_t seq;
		const char *why = vg_audit_reader_error(s->r, &seq, NULL, NULL);

		snprintf(m->why, sizeof(m->why), "chain %s, seq %llu: %s",
		    s->name, (unsigned long long)seq, why);
		return rc;
	}
	s->have = rc == 1;
	return 0;
}

void
vg_audit_merge_close(struct vg_audit_merge *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		vg_audit_reader_close(m->src[i].r);
	free(m->src);
	free(m);
}

int
vg_audit_merge_open(const char *audit_dir,
    int (*want)(void *ctx, const char *chain), void *ctx,
    struct vg_audit_merge **out, char *err, size_t errcap)
{
	struct vg_audit_merge *m;
	struct dirent *de;
	DIR *d;
	size_t cap = 0, i;
	int rc = 0;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return VG_ENOMEM;
	m->last = -1;
	if ((d = opendir(audit_dir)) == NULL) {
		free(m);
		if (errno == ENOENT) {
			snprintf(err, errcap, "no audit log in %s", audit_dir);
			return VG_ENOTFOUND;
		}
		snprintf(err, errcap, "cannot read %s", audit_dir);
		return VG_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat sb;

		if (!vg__audit_chain_name_ok(de->d_name) ||
		    (want != NULL && !want(ctx, de->d_name)))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", audit_dir,
		    de->d_name) >= sizeof(path) || stat(path, &sb) != 0 ||
		    !S_ISDIR(sb.st_mode))
			continue;
		if (m->n == VG_AUDIT_MERGE_MAX) {
			snprintf(err, errcap, "more than %d chains in %s",
			    VG_AUDIT_MERGE_MAX, audit_dir);
			rc = VG_ETOOBIG;
			break;
		}
		if (m->n == cap) {
			struct merge_src *ns;

			cap = cap ? cap * 2 : 4;
			ns = realloc(m->src, cap * sizeof(*ns));
			if (ns == NULL) {
				rc = VG_ENOMEM;
				break;
			}
			m->src = ns;
		}
		memset(&m->src[m->n], 0, sizeof(m->src[0]));
		snprintf(m->src[m->n].name, sizeof(m->src[0].name), "%.32s",
		    de->d_name);
		if ((rc = vg_audit_reader_open(path, &m->src[m->n].r)) != 0) {
			snprintf(err, errcap, "cannot open chain %s",
			    de->d_name);
			break;
		}
		m->n++;
	}
	closedir(d);
	if (rc == 0 && m->n > 1)
		qsort(m->src, m->n, sizeof(m->src[0]), src_cmp_name);
	for (i = 0; rc == 0 && i < m->n; i++)
		if ((rc = merge_fill(m, i)) != 0)
			snprintf(err, errcap, "%s", m->why);
	if (rc != 0) {
		vg_audit_merge_close(m);
		return rc;
	}
	*out = m;
	return 0;
}

int
vg_audit_merge_next(struct vg_audit_merge *m,
    const struct vg_audit_record **rec)
{
	size_t i;
	int best = -1;

	*rec = NULL;
	if (m->last >= 0) {
		int rc = merge_fill(m, (size_t)m->last);

		m->last = -1;
		if (rc != 0)
			return rc;
	}
	/* Oldest first; ties by chain name (sorted), then sequence. */
	for (i = 0; i < m->n; i++)
		if (m->src[i].have && (best < 0 || m->src[i].rec.time_ns <
		    m->src[best].rec.time_ns))
			best = (int)i;
	if (best < 0)
		return 0;
	m->src[best].have = 0;
	m->last = best;
	*rec = &m->src[best].rec;
	return 1;
}

const char *
vg_audit_merge_error(const struct vg_audit_merge *m)
{
	return m->why;
}
