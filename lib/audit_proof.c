/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inclusion proofs for audit entries, against the chain's latest signed
 * checkpoint, and their checking with nothing but the proof and the
 * chain's verifier key.  Subtree hashes come from the tree/L<k>.dat level
 * files; every proof is checked against the signed root before it is
 * handed out, so a damaged level cache can never yield a wrong proof.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "vigil/audit.h"
#include "audit_int.h"

struct levels {
	const char *dir;
	int fd[64];
};

static int
read_node(void *ctx, unsigned level, uint64_t index,
    unsigned char out[VG_HASHBYTES])
{
	struct levels *lv = ctx;
	char path[PATH_MAX + 32];

	if (level >= 64)
		return VG_EINVAL;
	if (lv->fd[level] < 0) {
		snprintf(path, sizeof(path), "%s/tree/L%02u.dat", lv->dir,
		    level);
		lv->fd[level] = open(path, O_RDONLY | O_CLOEXEC);
		if (lv->fd[level] < 0)
			return VG_EIO;
	}
	if (pread(lv->fd[level], out, VG_HASHBYTES,
	    (off_t)(index * VG_HASHBYTES)) != VG_HASHBYTES)
		return VG_EFORMAT;
	return 0;
}

static int
read_file(const char *path, char *buf, size_t cap, size_t *len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? VG_ENOTFOUND : VG_EIO;
	n = read(fd, buf, cap);
	close(fd);
	if (n < 0)
		return VG_EIO;
	*len = (size_t)n;
	return 0;
}

int
vg_audit_prove(const char *chain_dir, uint64_t seq, struct vg_audit_proof *p,
    const char **why)
{
	struct levels lv;
	struct vg_audit_reader *r = NULL;
	struct vg_audit_record *rec = NULL;
	struct vg_checkpoint c;
	struct vg_note_key key;
	char path[PATH_MAX + 32], vkey[VG_VKEY_MAX];
	const char *dummy;
	size_t n, tlen;
	int rc, i;

	if (why == NULL)
		why = &dummy;
	*why = "";
	memset(p, 0, sizeof(*p));
	lv.dir = chain_dir;
	for (i = 0; i < 64; i++)
		lv.fd[i] = -1;

	snprintf(path, sizeof(path), "%s/key.pub", chain_dir);
	rc = read_file(path, vkey, sizeof(vkey) - 1, &n);
	if (rc != 0) {
		*why = "no such audit chain (no key.pub)";
		return rc;
	}
	while (n > 0 && (vkey[n - 1] == '\n' || vkey[n - 1] == '\r'))
		n--;
	snprintf(path, sizeof(path), "%s/checkpoint", chain_dir);
	if (vg_note_vkey_parse(&key, vkey, n) != 0 ||
	    read_file(path, p->note, sizeof(p->note), &p->notelen) != 0 ||
	    vg_note_verify(p->note, p->notelen, &key, &tlen, why) != 0 ||
	    vg_checkpoint_parse(&c, p->note, tlen, why) != 0) {
		if ((*why)[0] == '\0')
			*why = "the chain has no valid signed checkpoint";
		return VG_EFORMAT;
	}
	if (seq >= c.size) {
		*why = "entry is not yet covered by a signed checkpoint";
		return VG_ENOTFOUND;
	}
	p->seq = seq;
	p->size = c.size;

	/* The entry itself. */
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return VG_ENOMEM;
	rc = vg_audit_reader_open(chain_dir, &r);
	if (rc == 0)
		while ((rc = vg_audit_reader_next(r, rec)) == 1 &&
		    rec->seq < seq)
			;
	if (rc == 1 && rec->seq == seq) {
		memcpy(p->body, rec->body, rec->body_len);
		p->body_len = rec->body_len;
		memcpy(p->leaf, rec->leaf, VG_HASHBYTES);
		rc = 0;
	} else {
		*why = rc < 0 ? "the chain is damaged before this entry" :
		    "no such entry";
		rc = rc < 0 ? rc : VG_ENOTFOUND;
	}
	vg_audit_reader_close(r);
	free(rec);
	if (rc != 0)
		goto out;

	rc = vg_merkle_inclusion_proof(read_node, &lv, seq, c.size, p->path,
	    &p->npath);
	if (rc == 0)
		rc = vg_merkle_verify_inclusion(p->leaf, seq, c.size,
		    (const unsigned char (*)[VG_HASHBYTES])p->path, p->npath,
		    c.root);
	if (rc != 0)
		*why = "the tree cache disagrees with the signed checkpoint; "
		    "reopen the chain to rebuild it, or run vigil audit verify";
out:
	for (i = 0; i < 64; i++)
		if (lv.fd[i] >= 0)
			close(lv.fd[i]);
	return rc;
}

int
vg_audit_check_proof(const struct vg_audit_proof *p,
    const struct vg_note_key *key, struct vg_audit_record *rec,
    const char **why)
{
	struct vg_checkpoint c;
	unsigned char leaf[VG_HASHBYTES];
	size_t tlen;
	int rc;

	rc = vg_note_verify(p->note, p->notelen, key, &tlen, why);
	if (rc != 0) {
		if (rc == VG_ECRYPTO)
			*why = "the checkpoint is not signed by this key";
		return rc;
	}
	rc = vg_checkpoint_parse(&c, p->note, tlen, why);
	if (rc != 0)
		return rc;
	if (c.size != p->size || p->seq >= c.size) {
		*why = "the proof's tree size does not match the checkpoint";
		return VG_ECRYPTO;
	}
	rc = vg_audit_decode(p->body, p->body_len, rec, why);
	if (rc != 0)
		return rc;
	if (rec->seq != p->seq) {
		*why = "the entry's sequence number is not the proven one";
		return VG_ECRYPTO;
	}
	vg_merkle_leaf_hash(leaf, p->body, p->body_len);
	rc = vg_merkle_verify_inclusion(leaf, p->seq, p->size,
	    (const unsigned char (*)[VG_HASHBYTES])p->path, p->npath, c.root);
	if (rc != 0)
		*why = "the entry is not in the signed tree (proof fails)";
	return rc;
}

char *
vg_audit_proof_json(const struct vg_audit_proof *p, const char *chain)
{
	char h[VG_HASHBYTES * 2 + 1], *b64, *s = NULL;
	size_t b64len, i;
	json_t *o, *path;

	b64len = sodium_base64_encoded_len(p->body_len,
	    sodium_base64_VARIANT_ORIGINAL);
	b64 = malloc(b64len);
	o = json_object();
	path = json_array();
	if (b64 == NULL || o == NULL || path == NULL)
		goto out;
	sodium_bin2base64(b64, b64len, p->body, p->body_len,
	    sodium_base64_VARIANT_ORIGINAL);
	json_object_set_new(o, "format", json_string("vigil-audit-proof-1"));
	json_object_set_new(o, "chain", json_string(chain));
	json_object_set_new(o, "seq", json_integer((json_int_t)p->seq));
	json_object_set_new(o, "tree_size", json_integer((json_int_t)p->size));
	json_object_set_new(o, "checkpoint", json_stringn(p->note, p->notelen));
	json_object_set_new(o, "entry", json_string(b64));
	sodium_bin2hex(h, sizeof(h), p->leaf, VG_HASHBYTES);
	json_object_set_new(o, "leaf_hash", json_string(h));
	for (i = 0; i < p->npath; i++) {
		sodium_bin2hex(h, sizeof(h), p->path[i], VG_HASHBYTES);
		json_array_append_new(path, json_string(h));
	}
	json_object_set(o, "path", path);
	s = json_dumps(o, JSON_INDENT(2));
out:
	json_decref(path);
	json_decref(o);
	free(b64);
	return s;
}
