/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Audit entry bodies, frames and segment headers: the byte formats of
 * docs/internals/audit.md, shared by the writer (audit.c), the reader and
 * the verifier.  Decoding is strict: it is a parser of outside input
 * (a log copied from anywhere) and is fuzzed (fuzz/fuzz_audit.c).
 *
 * Body (version 1), all integers big-endian:
 *   u8 version | u64 seq | i64 time_ns | TLV* in ascending tag order
 *   TLV = u8 tag | u8 len | len bytes
 * Frame:
 *   "VE" | u32 body_len | u32 mac_epoch | body | chain(32) | mac(32)
 */
#include <string.h>

#include <sodium.h>

#include "vigil/audit.h"
#include "audit_int.h"

enum tag {
	T_NODE = 1, T_PRINCIPAL, T_ACTION, T_CUSTOMER, T_FIELDS, T_PURPOSE,
	T_CASE, T_DECISION, T_REASON, T_REQUEST, T_CLIENT, T_PROBE, T_DETAIL,
	T__MAX
};

static void
put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void
vg__put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

uint32_t
vg__get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

void
vg__put64(unsigned char *p, uint64_t v)
{
	put64(p, v);
}

uint64_t
vg__get64(const unsigned char *p)
{
	return get64(p);
}

/* True when s is absent or printable ASCII of at most the limit. */
static bool
text_ok(const char *s)
{
	size_t i;

	if (s == NULL)
		return true;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= VG_AUDIT_STR_MAX || (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static int
put_tlv(unsigned char *out, size_t cap, size_t *pos, int tag,
    const void *v, size_t n)
{
	if (v == NULL || n == 0)
		return 0;
	if (n > 255 || cap - *pos < 2 + n)
		return VG_ETOOBIG;
	out[(*pos)++] = (unsigned char)tag;
	out[(*pos)++] = (unsigned char)n;
	memcpy(out + *pos, v, n);
	*pos += n;
	return 0;
}

static int
put_text(unsigned char *out, size_t cap, size_t *pos, int tag, const char *s)
{
	return s == NULL ? 0 : put_tlv(out, cap, pos, tag, s, strlen(s));
}

int
vg_audit_encode(const struct vg_audit_entry *e, uint64_t seq, int64_t time_ns,
    const char *node, unsigned char *out, size_t cap, size_t *len)
{
	const char *texts[] = { e->principal, e->action, e->fields,
	    e->purpose, e->case_id, e->decision, e->reason, e->request_id,
	    e->client, e->detail, node };
	size_t i, pos = 17;
	int rc = 0;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (!text_ok(texts[i]))
			return VG_EINVAL;
	if (e->action == NULL || e->action[0] == '\0')
		return VG_EINVAL;
	if (cap < pos)
		return VG_ETOOBIG;
	out[0] = 1;
	put64(out + 1, seq);
	put64(out + 9, (uint64_t)time_ns);
	if (rc == 0)
		rc = put_text(out, cap, &pos, T_NODE, node);
	if (rc == 0)
		rc = put_text(out, cap, &pos, T_PRINCIPAL, e->principal);
	if (rc == 0)
		rc = put_text(out, cap, &pos, T_ACTION, e->action);
	if (rc == 0 && e->customer != NULL)
		rc = put_tlv(out, cap, &pos, T_CUSTOMER, e->customer,
		    VG_IDBYTES);
	if (rc == 0)
		rc = put_text(out, cap, &pos, T_FIELDS, e->fields);
	if (rc == 0)
		rc = put_text(out, cap, &pos, T_PURPOSE, e->purpose);
	if (rc == 0)
		rc = put_text(out, cap, &pos, T_CASE, e->case_id);
	if (rc == 0)
		rc = put_text(out, cap, &pos, T_DECISION, e->decision);
	if (rc == 0)
		rc = put_text(out, cap, &pos, T_REASON, e->reason);
	if (rc == 0)
		rc = put_text(out, cap, &pos, T_REQUEST, e->request_id);
	if (rc == 0)
		rc = put_text(out, cap, &pos, T_CLIENT, e->client);
	if (rc == 0 && e->probe != NULL)
		rc = put_tlv(out, cap, &pos, T_PROBE, e->probe, VG_PROBEBYTES);
	if (rc == 0)
		rc = put_text(out, cap, &pos, T_DETAIL, e->detail);
	if (rc != 0)
		return rc;
	*len = pos;
	return 0;
}

static char *
text_slot(struct vg_audit_record *r, int tag, size_t *cap)
{
	*cap = VG_AUDIT_STR_MAX + 1;
	switch (tag) {
	case T_NODE:
		*cap = sizeof(r->node);
		return r->node;
	case T_PRINCIPAL:
		return r->principal;
	case T_ACTION:
		return r->action;
	case T_FIELDS:
		return r->fields;
	case T_PURPOSE:
		return r->purpose;
	case T_CASE:
		return r->case_id;
	case T_DECISION:
		return r->decision;
	case T_REASON:
		return r->reason;
	case T_REQUEST:
		return r->request_id;
	case T_CLIENT:
		return r->client;
	case T_DETAIL:
		return r->detail;
	}
	return NULL;
}

static void
clear_fields(struct vg_audit_record *r)
{
	r->node[0] = r->principal[0] = r->action[0] = r->fields[0] = '\0';
	r->purpose[0] = r->case_id[0] = r->decision[0] = r->reason[0] = '\0';
	r->request_id[0] = r->client[0] = r->detail[0] = '\0';
	r->has_customer = r->has_probe = false;
}

int
vg_audit_decode(const unsigned char *body, size_t len,
    struct vg_audit_record *r, const char **why)
{
	size_t pos = 17, i;
	int last = 0;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	clear_fields(r);
	if (len < 17 || len > VG_AUDIT_BODY_MAX) {
		*why = "entry body has an impossible length";
		return VG_EFORMAT;
	}
	if (body[0] != 1) {
		*why = "unknown entry version";
		return VG_EFORMAT;
	}
	r->seq = get64(body + 1);
	r->time_ns = (int64_t)get64(body + 9);
	while (pos < len) {
		int tag;
		size_t n, cap;
		char *slot;

		if (len - pos < 2) {
			*why = "entry field header cut short";
			return VG_EFORMAT;
		}
		tag = body[pos];
		n = body[pos + 1];
		pos += 2;
		if (tag <= last || tag >= T__MAX) {
			*why = "entry fields out of order or unknown";
			return VG_EFORMAT;
		}
		last = tag;
		if (n == 0 || len - pos < n) {
			*why = "entry field length is wrong";
			return VG_EFORMAT;
		}
		if (tag == T_CUSTOMER || tag == T_PROBE) {
			if (n != (tag == T_CUSTOMER ? VG_IDBYTES :
			    VG_PROBEBYTES)) {
				*why = "entry id field has the wrong size";
				return VG_EFORMAT;
			}
			if (tag == T_CUSTOMER) {
				memcpy(r->customer, body + pos, n);
				r->has_customer = true;
			} else {
				memcpy(r->probe, body + pos, n);
				r->has_probe = true;
			}
		} else {
			slot = text_slot(r, tag, &cap);
			if (n >= cap) {
				*why = "entry text field too long";
				return VG_EFORMAT;
			}
			for (i = 0; i < n; i++) {
				if (body[pos + i] < 0x20 || body[pos + i] > 0x7e) {
					*why = "entry text field is not "
					    "printable ASCII";
					return VG_EFORMAT;
				}
			}
			memcpy(slot, body + pos, n);
			slot[n] = '\0';
		}
		pos += n;
	}
	if (r->action[0] == '\0') {
		*why = "entry has no action";
		return VG_EFORMAT;
	}
	return 0;
}

/*-----------------------------------------------------------------------------
 * Chain and MAC
 */

void
vg__audit_chain(unsigned char out[VG_HASHBYTES],
    const unsigned char prev[VG_HASHBYTES],
    const unsigned char leaf[VG_HASHBYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, VG_HASHBYTES);
	crypto_generichash_update(&st, prev, VG_HASHBYTES);
	crypto_generichash_update(&st, leaf, VG_HASHBYTES);
	crypto_generichash_final(&st, out, VG_HASHBYTES);
}

void
vg_audit_mac_evolve(unsigned char key[VG_KEYBYTES])
{
	static const char label[] = "vigil audit mac evolve";
	unsigned char next[VG_KEYBYTES];

	crypto_generichash(next, sizeof(next), (const unsigned char *)label,
	    sizeof(label) - 1, key, VG_KEYBYTES);
	memcpy(key, next, VG_KEYBYTES);
	sodium_memzero(next, sizeof(next));
}

void
vg_audit_frame_mac(unsigned char out[VG_HASHBYTES],
    const unsigned char key[VG_KEYBYTES], uint32_t epoch, uint64_t seq,
    const unsigned char chain[VG_HASHBYTES])
{
	unsigned char msg[4 + 4 + 8 + VG_HASHBYTES];

	memcpy(msg, "vgm1", 4);
	vg__put32(msg + 4, epoch);
	put64(msg + 8, seq);
	memcpy(msg + 16, chain, VG_HASHBYTES);
	crypto_generichash(out, VG_HASHBYTES, msg, sizeof(msg), key,
	    VG_KEYBYTES);
}

/*-----------------------------------------------------------------------------
 * Segment headers
 */

size_t
vg__audit_seg_header(unsigned char *out, uint64_t first_seq,
    const unsigned char prev[VG_HASHBYTES], const char *chain)
{
	size_t n = strlen(chain);

	memcpy(out, VG_SEG_MAGIC, 8);
	vg__put32(out + 8, 1);
	put64(out + 12, first_seq);
	memcpy(out + 20, prev, VG_HASHBYTES);
	out[52] = (unsigned char)n;
	memcpy(out + 53, chain, n);
	return 53 + n;
}

int
vg__audit_seg_parse(const unsigned char *in, size_t len, uint64_t *first_seq,
    unsigned char prev[VG_HASHBYTES], char *chain, size_t *hlen)
{
	size_t n;

	if (len < 53 || memcmp(in, VG_SEG_MAGIC, 8) != 0 ||
	    vg__get32(in + 8) != 1)
		return VG_EFORMAT;
	n = in[52];
	if (n == 0 || n > VG_CHAIN_NAME_MAX || len < 53 + n)
		return VG_EFORMAT;
	*first_seq = get64(in + 12);
	memcpy(prev, in + 20, VG_HASHBYTES);
	memcpy(chain, in + 53, n);
	chain[n] = '\0';
	*hlen = 53 + n;
	return 0;
}

_Static_assert(VG_PROBEBYTES == 16, "probe hash size");
