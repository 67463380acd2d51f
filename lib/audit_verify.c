/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vg_audit_verify(): everything that can be checked about a chain by
 * whoever holds it, its verifier key, perhaps K_0, and perhaps witness
 * checkpoints.  In order: framing, sequence, time order and the public
 * hash chain (the reader), MACs under keys evolved from K_0, every
 * checkpoint's signature and its Merkle root at its size, and every
 * witness checkpoint likewise.  The first problem is named with its
 * sequence number, segment and offset, and classified.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "vigil/audit.h"
#include "audit_int.h"

#define CP_MAX 1000000		/* checkpoints considered per chain */

struct cp {
	uint64_t size;
	unsigned char root[VG_HASHBYTES];
	int witness;			/* from a witness, not the chain */
	char source[96];
};

struct cps {
	struct cp *v;
	size_t n, cap;
	const struct vg_note_key *key;
	struct vg_audit_verify_result *res;
	int witness;
	const char *source;
	int bad;			/* first signature problem seen */
	uint64_t *own;			/* the chain's checkpoint sizes */
	size_t nown, owncap;
	size_t witness_matches;		/* witness notes of this origin */
};

static void
problem(struct vg_audit_verify_result *res, const char *what, uint64_t seq,
    const char *fmt, ...) VG_PRINTF(4, 5);

static void
problem(struct vg_audit_verify_result *res, const char *what, uint64_t seq,
    const char *fmt, ...)
{
	va_list ap;

	if (!res->ok)
		return;		/* keep the first */
	res->ok = 0;
	snprintf(res->what, sizeof(res->what), "%s", what);
	res->seq = seq;
	res->seq_end = seq;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
}

int
vg_audit_each_checkpoint(const char *path,
    int (*fn)(void *ctx, const char *note, size_t len), void *ctx)
{
	char head[32], *note;
	FILE *fp;
	int rc = 0;

	fp = fopen(path, "rb");
	if (fp == NULL)
		return errno == ENOENT ? 0 : VG_EIO;
	note = malloc(VG_NOTE_MAX);
	if (note == NULL) {
		fclose(fp);
		return VG_ENOMEM;
	}
	while (rc == 0 && fgets(head, sizeof(head), fp) != NULL) {
		char *end = head;
		unsigned long len = 0;
		size_t hl = strlen(head), got;

		/* A record cut short by a crash (its header or its note runs
		 * into the end of the file) was never acknowledged: the
		 * writer cuts it at the next open.  Report it, don't fail. */
		if (hl > 0 && head[hl - 1] != '\n' && feof(fp) &&
		    strncmp(head, "note ", hl < 5 ? hl : 5) == 0) {
			rc = VG_AUDIT_TORN;
			break;
		}
		if (strncmp(head, "note ", 5) != 0) {
			rc = VG_EFORMAT;
			break;
		}
		errno = 0;
		len = strtoul(head + 5, &end, 10);
		if (errno != 0 || *end != '\n' || len == 0 ||
		    len > VG_NOTE_MAX) {
			rc = VG_EFORMAT;
			break;
		}
		got = fread(note, 1, len, fp);
		if (got != len) {
			rc = feof(fp) ? VG_AUDIT_TORN : VG_EFORMAT;
			break;
		}
		rc = fn(ctx, note, len);
	}
	free(note);
	fclose(fp);
	return rc;
}

/* Adds one signed checkpoint note after checking its signature. */
static int
add_note(void *ctx, const char *note, size_t len)
{
	struct cps *c = ctx;
	struct vg_checkpoint ck;
	const char *why;
	size_t tlen;
	struct cp *p;
	size_t nlen = strlen(c->key->name);

	/* A witness may keep many logs' checkpoints: only this log's
	 * origin (the note's first line) concerns it.  That the witnesses
	 * hold at least one checkpoint of this origin is checked after
	 * they are all read (see vg_audit_verify). */
	if (c->witness && (len <= nlen || note[nlen] != '\n' ||
	    memcmp(note, c->key->name, nlen) != 0))
		return 0;
	if (vg_note_verify(note, len, c->key, &tlen, &why) != 0) {
		if (!c->bad) {
			c->bad = 1;
			problem(c->res, c->witness ? "inconsistent with "
			    "witness" : "bad signature", 0, "%s: checkpoint "
			    "not signed by %s (%s)", c->source, c->key->name,
			    c->witness ? "the log was re-signed or its key "
			    "replaced" : "forged or key replaced");
		}
		return 0;
	}
	if (vg_checkpoint_parse(&ck, note, tlen, &why) != 0) {
		problem(c->res, "malformed", 0, "%s: checkpoint text: %s",
		    c->source, why);
		return 0;
	}
	if (strcmp(ck.origin, c->key->name) != 0)
		return 0;	/* another log's checkpoint */
	if (c->n == c->cap) {
		struct cp *nv;

		if (c->cap >= CP_MAX)
			return VG_ETOOBIG;
		c->cap = c->cap ? c->cap * 2 : 64;
		nv = realloc(c->v, c->cap * sizeof(*c->v));
		if (nv == NULL)
			return VG_ENOMEM;
		c->v = nv;
	}
	if (!c->witness) {
		/* The chain's own checkpoints, in file order: sizes strictly
		 * increase, and they fix each entry's MAC epoch. */
		if (ck.size == 0 || (c->nown > 0 &&
		    ck.size <= c->own[c->nown - 1])) {
			problem(c->res, "modified", 0, "checkpoints.log: "
			    "checkpoint sizes do not increase");
			return 0;
		}
		if (c->nown == c->owncap) {
			uint64_t *no;

			c->owncap = c->owncap ? c->owncap * 2 : 64;
			no = realloc(c->own, c->owncap * sizeof(*c->own));
			if (no == NULL)
				return VG_ENOMEM;
			c->own = no;
		}
		c->own[c->nown++] = ck.size;
	} else {
		c->witness_matches++;
	}
	p = &c->v[c->n++];
	p->size = ck.size;
	memcpy(p->root, ck.root, VG_HASHBYTES);
	p->witness = c->witness;
	snprintf(p->source, sizeof(p->source), "%s", c->source);
	return 0;
}

static int
add_witness_file(struct cps *c, const char *path)
{
	char *buf;
	FILE *fp;
	size_t n;
	int rc;

	fp = fopen(path, "rb");
	if (fp == NULL)
		return VG_EIO;
	buf = malloc(VG_NOTE_MAX + 1);
	if (buf == NULL) {
		fclose(fp);
		return VG_ENOMEM;
	}
	n = fread(buf, 1, VG_NOTE_MAX + 1, fp);
	fclose(fp);
	c->witness = 1;
	c->source = path;
	if (n >= 5 && memcmp(buf, "note ", 5) == 0) {
		free(buf);
		return vg_audit_each_checkpoint(path, add_note, c);
	}
	if (n > VG_NOTE_MAX) {
		free(buf);
		problem(c->res, "malformed", 0, "%s: not a checkpoint", path);
		return 0;
	}
	rc = add_note(c, buf, n);
	free(buf);
	return rc;
}

static int
add_witness(struct cps *c, const char *path)
{
	char full[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int rc = 0;

	if (stat(path, &sb) != 0)
		return VG_ENOTFOUND;
	if (!S_ISDIR(sb.st_mode))
		return add_witness_file(c, path);
	d = opendir(path);
	if (d == NULL)
		return VG_EIO;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n < 4 || strcmp(de->d_name + n - 3, ".cp") != 0)
			continue;
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", path,
		    de->d_name) >= sizeof(full))
			continue;
		rc = add_witness_file(c, full);
	}
	closedir(d);
	return rc;
}

static int
cmp_cp(const void *a, const void *b)
{
	const struct cp *x = a, *y = b;

	return (x->size > y->size) - (x->size < y->size);
}

/* Classifies a sequence problem by reading every frame's sequence number
 * without checking anything else. */
static const char *
classify_sequence(const char *dir, uint64_t expected, uint64_t *where)
{
	char **names, path[PATH_MAX + 64];
	unsigned char head[VG_SEG_HEADER_MAX], frame[VG_FRAME_HEAD + 17];
	uint64_t seen_expected = 0, dup = 0, first, last = 0, count = 0;
	uint64_t at = 0, after = 0, dupseq = 0;
	int have_at = 0, have_after = 0;
	unsigned char prev[VG_HASHBYTES];
	char chain[VG_CHAIN_NAME_MAX + 1];
	int n, i, ordered = 1;
	size_t hlen, got;

	n = vg__audit_list_segments(dir, &names);
	for (i = 0; i < n; i++) {
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		fp = fopen(path, "rb");
		if (fp == NULL)
			continue;
		got = fread(head, 1, sizeof(head), fp);
		if (vg__audit_seg_parse(head, got, &first, prev, chain,
		    &hlen) != 0 || fseek(fp, (long)hlen, SEEK_SET) != 0) {
			fclose(fp);
			continue;
		}
		while (fread(frame, 1, sizeof(frame), fp) == sizeof(frame)) {
			uint32_t blen = vg__get32(frame + 2);
			uint64_t seq = vg__get64(frame + VG_FRAME_HEAD + 1);

			if (frame[0] != 'V' || frame[1] != 'E' ||
			    blen > VG_AUDIT_BODY_MAX)
				break;
			if (seq == expected)
				seen_expected++;
			if (count == expected) {
				at = seq;
				have_at = 1;
			} else if (count == expected + 1) {
				after = seq;
				have_after = 1;
			}
			if (count > 0 && seq == last && dup++ == 0)
				dupseq = seq;
			if (count > 0 && seq < last)
				ordered = 0;
			last = seq;
			count++;
			if (fseek(fp, (long)(blen - 17 + VG_FRAME_TAIL),
			    SEEK_CUR) != 0)
				break;
		}
		fclose(fp);
	}
	vg__audit_free_names(names, n < 0 ? 0 : n);
	*where = expected;
	/* The frame where seq expected belongs carries another number, but
	 * the sequence goes on right after it: that number was altered. */
	if (have_at && at != expected && seen_expected == 0 &&
	    (have_after ? after == expected + 1 : at != expected + 1))
		return "modified";
	if (dup > 0 || seen_expected > 1) {
		if (dup > 0)
			*where = dupseq;
		return "inserted";
	}
	if (seen_expected == 0)
		return "deleted";
	return ordered ? "modified" : "reordered";
}

/* True when rec's MAC verifies under key (the key of its position) with
 * epoch as the MAC's epoch field. */
static int
mac_ok(const unsigned char *key, const struct vg_audit_record *rec,
    uint32_t epoch)
{
	unsigned char mac[VG_HASHBYTES];

	vg_audit_frame_mac(mac, key, epoch, rec->seq, rec->chain);
	return sodium_memcmp(mac, rec->mac, VG_HASHBYTES) == 0;
}

int
vg_audit_verify(const struct vg_audit_verify_opts *o,
    struct vg_audit_verify_result *res)
{
	struct vg_audit_reader *r = NULL;
	struct vg_audit_reader_state st;
	struct vg_audit_record *rec = NULL;
	struct vg_merkle_range range;
	struct vg_note_key keybuf;
	struct cps c;
	unsigned char *mk = NULL;
	uint32_t last_epoch = 0;
	size_t own_i = 0;
	char path[PATH_MAX + 32], vkey[VG_VKEY_MAX];
	size_t i, j, next_cp = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	res->ok = 1;
	c.res = res;
	if (vg_crypto_init() != 0)
		return VG_ECRYPTO;

	/* The key: pinned, or the chain's own key.pub. */
	if (o->key != NULL) {
		c.key = o->key;
		res->key_pinned = 1;
	} else {
		FILE *fp;
		size_t n;

		snprintf(path, sizeof(path), "%s/key.pub", o->chain_dir);
		fp = fopen(path, "r");
		if (fp == NULL)
			return VG_ENOTFOUND;
		n = fread(vkey, 1, sizeof(vkey) - 1, fp);
		fclose(fp);
		while (n > 0 && (vkey[n - 1] == '\n' || vkey[n - 1] == '\r'))
			n--;
		if (vg_note_vkey_parse(&keybuf, vkey, n) != 0) {
			problem(res, "malformed", 0, "key.pub is not a "
			    "verifier key");
			return 0;
		}
		c.key = &keybuf;
	}

	/* Every checkpoint: the chain's, then the witnesses'. */
	snprintf(path, sizeof(path), "%s/checkpoints.log", o->chain_dir);
	c.source = "checkpoints.log";
	rc = vg_audit_each_checkpoint(path, add_note, &c);
	if (rc == VG_AUDIT_TORN) {
		res->torn_checkpoint = 1;
		rc = 0;
	}
	if (rc == VG_EFORMAT)
		problem(res, "malformed", 0, "checkpoints.log is malformed");
	else if (rc != 0)
		goto out;
	res->checkpoints = c.n;
	for (i = 0; i < o->nwitness; i++) {
		c.bad = 0;
		rc = add_witness(&c, o->witness[i]);
		if (rc == VG_ENOTFOUND)
			problem(res, "malformed", 0, "witness '%s' not found",
			    o->witness[i]);
		else if (rc != 0)
			goto out;
	}
	res->witness_checkpoints = c.n - res->checkpoints;
	if (o->nwitness > 0 && c.witness_matches == 0)
		problem(res, "inconsistent with witness", 0, "the witnesses "
		    "hold no checkpoint of this log (%s): it was re-signed "
		    "under another name, or its checkpoints never reached "
		    "them", c.key->name);
	if (c.n > 0)
		qsort(c.v, c.n, sizeof(*c.v), cmp_cp);

	/* The entries. */
	if (o->mac0 != NULL) {
		mk = vg_secret_new(VG_KEYBYTES);
		if (mk == NULL) {
			rc = VG_ENOMEM;
			goto out;
		}
		memcpy(mk, o->mac0, VG_KEYBYTES);
		vg_audit_mac_evolve(mk);	/* K_1: entry 0's key */
		res->macs_checked = 1;
	}
	rec = malloc(sizeof(*rec));
	if (rec == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	rc = vg_audit_reader_open(o->chain_dir, &r);
	if (rc != 0)
		goto out;
	vg_merkle_range_init(&range);
	while (next_cp < c.n && c.v[next_cp].size == 0)
		next_cp++;	/* the empty tree: nothing to compare */
	while ((rc = vg_audit_reader_next(r, rec)) == 1) {
		int was_ok = res->ok;

		/*
		 * The MAC key of entry i is K_{i+1} = evolve^(i+1)(K0): fixed
		 * by the entry's position, so whoever holds the writer's
		 * current key (that of the next position) cannot MAC any
		 * earlier entry, however the checkpoints are rearranged.  The
		 * epoch field (checkpoints before the entry, plus one) is
		 * under the MAC and checked against checkpoints.log.
		 */
		while (own_i < c.nown && c.own[own_i] <= rec->seq)
			own_i++;
		if (mk != NULL && !mac_ok(mk, rec, rec->mac_epoch)) {
			if (mac_ok(mk, rec, (uint32_t)own_i + 1))
				problem(res, "modified", rec->seq, "MAC epoch "
				    "field altered: %u stored, the MAC is of "
				    "epoch %llu", rec->mac_epoch,
				    (unsigned long long)own_i + 1);
			else
				problem(res, "forged", rec->seq, "MAC does not "
				    "verify under this position's key: entry "
				    "forged, or rewritten by someone holding a "
				    "later key");
		} else if (rec->mac_epoch != own_i + 1) {
			problem(res, "modified", rec->seq, "MAC epoch %u where "
			    "the checkpoints say %llu: the checkpoints were "
			    "altered", rec->mac_epoch,
			    (unsigned long long)own_i + 1);
		}
		if (mk != NULL)
			vg_audit_mac_evolve(mk);	/* the next position's */
		if (rec->mac_epoch > last_epoch)
			last_epoch = rec->mac_epoch;
		if (was_ok && !res->ok) {
			/* A problem with this very entry: say where it is. */
			res->offset = rec->offset;
			snprintf(res->segment, sizeof(res->segment), "%s",
			    rec->segment);
		}
		(void)vg_merkle_range_append(&range, rec->leaf, NULL, NULL);
		for (; next_cp < c.n && c.v[next_cp].size == range.size;
		    next_cp++) {
			unsigned char root[VG_HASHBYTES];

			vg_merkle_range_root(&range, root);
			for (j = next_cp; j > 0 &&
			    c.v[j - 1].size == range.size; j--)
				;
			if (res->ok && memcmp(root, c.v[next_cp].root,
			    VG_HASHBYTES) != 0) {
				problem(res, c.v[next_cp].witness ?
				    "inconsistent with witness" : "modified",
				    j > 0 ? c.v[j - 1].size : 0,
				    "tree of %llu entries does not match %s",
				    (unsigned long long)range.size,
				    c.v[next_cp].source);
				res->seq_end = range.size - 1;
			}
		}
	}
	res->entries = range.size;
	vg_merkle_range_root(&range, res->root);
	if (rc != 0) {
		uint64_t eseq, eoff;
		const char *seg, *why;

		why = vg_audit_reader_error(r, &eseq, &eoff, &seg);
		if (res->ok) {
			const char *what = "modified";

			if (strstr(why, "belongs") != NULL ||
			    strstr(why, "segment starts") != NULL)
				what = classify_sequence(o->chain_dir, eseq,
				    &eseq);
			else if (strstr(why, "truncated") != NULL)
				what = "truncated";
			else if (strstr(why, "marker") != NULL ||
			    strstr(why, "malformed") != NULL)
				what = "modified";
			problem(res, what, eseq, "%s", why);
			res->offset = eoff;
			snprintf(res->segment, sizeof(res->segment), "%s", seg);
		}
		rc = 0;
	}
	vg__audit_reader_state(r, &st);
	res->torn_bytes = st.torn ? st.torn_bytes : 0;
	for (; next_cp < c.n; next_cp++) {
		if (c.v[next_cp].size > range.size) {
			problem(res, "truncated", range.size, "%s covers %llu "
			    "entries but the log has %llu",
			    c.v[next_cp].source,
			    (unsigned long long)c.v[next_cp].size,
			    (unsigned long long)range.size);
			break;
		}
	}
out:
	vg_audit_reader_close(r);
	free(rec);
	vg_secret_free(mk);
	free(c.v);
	free(c.own);
	return rc;
}
