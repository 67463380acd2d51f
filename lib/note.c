/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signed notes (c2sp.org/signed-note) and tlog checkpoints
 * (c2sp.org/tlog-checkpoint) for include/vigil/note.h, with Ed25519 keys
 * (signature type 0x01) only.  Everything works on caller buffers of
 * bounded size: nothing is allocated, and every input is checked in full
 * before any signature is verified, so a malformed note is always
 * VG_EFORMAT with a static reason and never a crash.  See
 * docs/internals/note.md for the exact rules and where vigil is stricter
 * than golang.org/x/mod/sumdb/note.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "vigil/crypto.h"
#include "vigil/note.h"

#define ALG_ED25519	0x01
#define SIGPREFIX	"\xe2\x80\x94 "	/* U+2014 EM DASH, then a space */
#define SIGPREFIXLEN	4
#define SIGRAW		(4 + crypto_sign_BYTES)	/* key id || signature */
#define SIGB64		92		/* base64 length of SIGRAW bytes */
#define PKRAW		(1 + crypto_sign_PUBLICKEYBYTES)	/* 0x01 || pk */
#define PKB64		44		/* base64 length of PKRAW bytes */
#define ROOTB64		44		/* base64 length of a root hash */
#define RAW_MAX		(VG_NOTE_MAX / 4 * 3)	/* any base64 in a note */
#define EXTBYTES	(sizeof(((struct vg_checkpoint *)0)->ext[0]))

_Static_assert(crypto_sign_BYTES == 64, "Ed25519 signatures are 64 bytes");
_Static_assert(crypto_sign_PUBLICKEYBYTES == 32, "Ed25519 keys are 32 bytes");
_Static_assert(VG_NOTE_MAX == 8192, "reasons below spell out VG_NOTE_MAX");
_Static_assert(VG_NOTE_NAME_MAX == 128, "reasons spell out the name limit");
_Static_assert(VG_NOTE_SIGS_MAX == 16, "sigwhy has one row per line");
_Static_assert(VG_CHECKPOINT_EXT_MAX == 8, "extwhy has one row per line");

/*
 * The reasons for a malformed signature line, one row per line number so
 * that every reason stays a static string.
 */
enum {
	W_DASH,
	W_NONAME,
	W_NAME,
	W_NOSIG,
	W_B64,
	W_SHORT,
	W_COUNT
};

#define SIGWHY(n) {							\
	"signature line " #n ": does not start with an em dash and a space",\
	"signature line " #n ": key name is empty",			\
	"signature line " #n ": key name contains a space or a plus",	\
	"signature line " #n ": no signature after the key name",	\
	"signature line " #n ": bad base64",				\
	"signature line " #n ": signature is shorter than 5 bytes"	\
}

static const char *const sigwhy[VG_NOTE_SIGS_MAX][W_COUNT] = {
	SIGWHY(1), SIGWHY(2), SIGWHY(3), SIGWHY(4),
	SIGWHY(5), SIGWHY(6), SIGWHY(7), SIGWHY(8),
	SIGWHY(9), SIGWHY(10), SIGWHY(11), SIGWHY(12),
	SIGWHY(13), SIGWHY(14), SIGWHY(15), SIGWHY(16)
};

#define EXTWHY(n) {							\
	"line " #n ": extension line is empty",				\
	"line " #n ": extension line is longer than 127 bytes"		\
}

static const char *const extwhy[VG_CHECKPOINT_EXT_MAX][2] = {
	EXTWHY(4), EXTWHY(5), EXTWHY(6), EXTWHY(7),
	EXTWHY(8), EXTWHY(9), EXTWHY(10), EXTWHY(11)
};

/*
 * Decodes the code point at s[*i] (s holds len bytes, *i < len) and
 * advances *i past it.  Returns the code point, or -1 for anything that
 * is not strict UTF-8 (RFC 3629): a stray continuation byte, an overlong
 * form, a surrogate, a value above U+10FFFF or a truncated sequence.
 */
static long
utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	long cp, min;
	size_t n, k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
		min = 0x10000;
	} else
		return -1;
	if (len - *i - 1 < n)
		return -1;
	for (k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[*i + k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += n + 1;
	return cp;
}

/*
 * Checks the rule shared by notes and their text: valid UTF-8 and no
 * ASCII control character (below U+0020) other than newline.  Returns
 * NULL or a static reason.
 */
static const char *
text_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (s[i] == '\n') {
			i++;
			continue;
		}
		if (s[i] == '\r')
			return "contains a carriage return";
		if (s[i] < 0x20)
			return "contains a control character";
		if (utf8_next(s, len, &i) < 0)
			return "invalid UTF-8";
	}
	return NULL;
}

/*
 * Reports whether cp is a Unicode space, exactly the White_Space set
 * that Go's unicode.IsSpace() uses for key names in sumdb/note.
 */
static int
is_space(long cp)
{
	switch (cp) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
	case 0x85:
	case 0xa0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202f:
	case 0x205f:
	case 0x3000:
		return 1;
	}
	return cp >= 0x2000 && cp <= 0x200a;
}

/*
 * Reports whether s is a valid key name: non-empty UTF-8 without control
 * characters, Unicode spaces or plus signs.  Length limits are the
 * caller's business.
 */
static int
name_ok(const unsigned char *s, size_t len)
{
	size_t i = 0;
	long cp;

	if (len == 0)
		return 0;
	while (i < len) {
		if ((cp = utf8_next(s, len, &i)) < 0 || cp < 0x20 ||
		    cp == '+' || is_space(cp))
			return 0;
	}
	return 1;
}

/* Reports whether s is one non-empty line of valid note text. */
static int
line_ok(const char *s, size_t len)
{
	return len > 0 && memchr(s, '\n', len) == NULL &&
	    text_check((const unsigned char *)s, len) == NULL;
}

/*
 * Computes the key id: the first four bytes of SHA-256(name || 0x0a ||
 * 0x01 || pk).  The name must be at most VG_NOTE_NAME_MAX bytes.
 */
static void
key_id(unsigned char id[4], const void *name, size_t nlen,
    const unsigned char pk[32])
{
	unsigned char buf[VG_NOTE_NAME_MAX + 2 + 32], h[VG_HASHBYTES];

	memcpy(buf, name, nlen);
	buf[nlen] = '\n';
	buf[nlen + 1] = ALG_ED25519;
	memcpy(buf + nlen + 2, pk, 32);
	vg_sha256(h, buf, nlen + 2 + 32);
	memcpy(id, h, 4);
}

/* Decodes strict, padded standard base64 (vg_b64_decode); 0 or -1. */
static int
b64_decode(unsigned char *out, size_t cap, const void *b64, size_t len,
    size_t *outlen)
{
	return vg_b64_decode(out, cap, b64, len, outlen) == 0 ? 0 : -1;
}

void
vg_note_key_init(struct vg_note_key *k, const char *name,
    const unsigned char pk[32])
{
	size_t nlen;

	memset(k, 0, sizeof(*k));
	memcpy(k->pk, pk, sizeof(k->pk));
	if (name == NULL)
		return;
	nlen = strnlen(name, VG_NOTE_NAME_MAX + 1);
	if (nlen > VG_NOTE_NAME_MAX ||
	    !name_ok((const unsigned char *)name, nlen))
		return;		/* An empty name matches no signature. */
	memcpy(k->name, name, nlen);
	key_id(k->id, name, nlen, pk);
}

int
vg_note_vkey_format(const struct vg_note_key *k, char *out, size_t cap)
{
	unsigned char raw[PKRAW], id[4];
	char b64[PKB64 + 1];
	size_t nlen, need;
	int n;

	if (k == NULL || out == NULL)
		return VG_EINVAL;
	nlen = strnlen(k->name, sizeof(k->name));
	if (nlen > VG_NOTE_NAME_MAX ||
	    !name_ok((const unsigned char *)k->name, nlen))
		return VG_EINVAL;
	key_id(id, k->name, nlen, k->pk);
	if (memcmp(id, k->id, sizeof(id)) != 0)
		return VG_EINVAL;
	raw[0] = ALG_ED25519;
	memcpy(raw + 1, k->pk, sizeof(k->pk));
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
	    sodium_base64_VARIANT_ORIGINAL);
	need = nlen + 1 + 8 + 1 + PKB64;
	if (cap <= need)
		return VG_ETOOBIG;
	n = snprintf(out, cap, "%s+%02x%02x%02x%02x+%s", k->name,
	    k->id[0], k->id[1], k->id[2], k->id[3], b64);
	if (n < 0 || (size_t)n != need)
		return VG_EINVAL;
	return 0;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
vg_note_vkey_parse(struct vg_note_key *k, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *plus;
	unsigned char raw[PKRAW], id[4], want[4];
	size_t nlen, rawlen, i;
	int hi, lo;

	if (k == NULL)
		return VG_EINVAL;
	memset(k, 0, sizeof(*k));
	if (s == NULL || len == 0 || len > VG_VKEY_MAX)
		return VG_EINVAL;
	/* <name> '+' <8 hex digits> '+' <base64(0x01 || pk)> */
	if ((plus = memchr(p, '+', len)) == NULL)
		return VG_EINVAL;
	nlen = (size_t)(plus - p);
	if (nlen > VG_NOTE_NAME_MAX || !name_ok(p, nlen))
		return VG_EINVAL;
	if (len - nlen < 1 + 8 + 1 + 1 || p[nlen + 9] != '+')
		return VG_EINVAL;
	for (i = 0; i < 4; i++) {
		hi = hexval(p[nlen + 1 + 2 * i]);
		lo = hexval(p[nlen + 2 + 2 * i]);
		if (hi < 0 || lo < 0)
			return VG_EINVAL;
		want[i] = (unsigned char)(hi << 4 | lo);
	}
	if (b64_decode(raw, sizeof(raw), p + nlen + 10, len - nlen - 10,
	    &rawlen) != 0 || rawlen != PKRAW || raw[0] != ALG_ED25519)
		return VG_EINVAL;
	key_id(id, p, nlen, raw + 1);
	if (memcmp(id, want, sizeof(id)) != 0)
		return VG_EINVAL;
	memcpy(k->name, p, nlen);
	memcpy(k->id, id, sizeof(k->id));
	memcpy(k->pk, raw + 1, sizeof(k->pk));
	return 0;
}

int
vg_note_sign(const char *text, size_t len, const char *name,
    const unsigned char sk[64], char *out, size_t cap, size_t *outlen)
{
	unsigned char raw[SIGRAW];
	char b64[SIGB64 + 1];
	size_t nlen, total, pos;

	if (outlen != NULL)
		*outlen = 0;
	if (text == NULL || name == NULL || sk == NULL || out == NULL)
		return VG_EINVAL;
	if (len > VG_NOTE_MAX)
		return VG_ETOOBIG;
	if (len == 0 || text[len - 1] != '\n' ||
	    text_check((const unsigned char *)text, len) != NULL)
		return VG_EINVAL;
	nlen = strnlen(name, VG_NOTE_NAME_MAX + 1);
	if (nlen > VG_NOTE_NAME_MAX ||
	    !name_ok((const unsigned char *)name, nlen))
		return VG_EINVAL;
	total = len + 1 + SIGPREFIXLEN + nlen + 1 + SIGB64 + 1;
	if (total > VG_NOTE_MAX || total >= cap)
		return VG_ETOOBIG;

	/* libsodium's secret key is seed || public key. */
	key_id(raw, name, nlen, sk + 32);
	if (crypto_sign_detached(raw + 4, NULL, (const unsigned char *)text,
	    len, sk) != 0)
		return VG_EINVAL;
	/*
	 * Verifying what was just signed catches a secret key whose halves
	 * do not belong together (the signature would never verify under
	 * the key id written next to it) and faults during signing.
	 */
	if (crypto_sign_verify_detached(raw + 4, (const unsigned char *)text,
	    len, sk + 32) != 0)
		return VG_EINVAL;
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
	    sodium_base64_VARIANT_ORIGINAL);

	memmove(out, text, len);
	pos = len;
	out[pos++] = '\n';
	memcpy(out + pos, SIGPREFIX, SIGPREFIXLEN);
	pos += SIGPREFIXLEN;
	memcpy(out + pos, name, nlen);
	pos += nlen;
	out[pos++] = ' ';
	memcpy(out + pos, b64, SIGB64);
	pos += SIGB64;
	out[pos++] = '\n';
	out[pos] = '\0';
	if (outlen != NULL)
		*outlen = pos;
	return 0;
}

/* A signature line by the key being checked for. */
struct sigmatch {
	int usable;			/* the signature is 64 bytes long */
	unsigned char sig[crypto_sign_BYTES];
};

int
vg_note_verify(const char *note, size_t len, const struct vg_note_key *key,
    size_t *textlen, const char **why)
{
	const unsigned char *s = (const unsigned char *)note;
	const unsigned char *line, *nl, *sp;
	struct sigmatch m[VG_NOTE_SIGS_MAX];
	unsigned char raw[RAW_MAX];
	const char *ignored;
	size_t tlen, pos, llen, nlen, blen, rawlen, keylen, nm, nlines, i, j;

	if (why == NULL)
		why = &ignored;
	*why = NULL;
	if (textlen != NULL)
		*textlen = 0;
	if (note == NULL || len == 0) {
		*why = "note is empty";
		return VG_EFORMAT;
	}
	if (len > VG_NOTE_MAX) {
		*why = "note is larger than VG_NOTE_MAX (8192) bytes";
		return VG_EFORMAT;
	}
	if ((*why = text_check(s, len)) != NULL)
		return VG_EFORMAT;
	if (s[len - 1] != '\n') {
		*why = "note does not end in a newline";
		return VG_EFORMAT;
	}

	/* The text ends at the last blank line, which must exist. */
	for (j = len - 1; j > 0; j--)
		if (s[j - 1] == '\n' && s[j] == '\n')
			break;
	if (j == 0) {
		*why = "no blank line before the signatures";
		return VG_EFORMAT;
	}
	tlen = j;
	if (j + 1 == len) {
		*why = "no signature line after the blank line";
		return VG_EFORMAT;
	}

	keylen = 0;
	if (key != NULL) {
		keylen = strnlen(key->name, sizeof(key->name));
		if (keylen == sizeof(key->name))
			keylen = 0;	/* Unterminated: matches nothing. */
	}
	nm = 0;
	nlines = 0;
	for (pos = j + 1; pos < len;) {
		/* The note ends in a newline, so there always is one. */
		line = s + pos;
		nl = memchr(line, '\n', len - pos);
		llen = (size_t)(nl - line);
		pos += llen + 1;
		if (nlines == VG_NOTE_SIGS_MAX) {
			*why = "more than VG_NOTE_SIGS_MAX (16) signature "
			    "lines";
			return VG_EFORMAT;
		}
		i = nlines++;
		if (llen < SIGPREFIXLEN ||
		    memcmp(line, SIGPREFIX, SIGPREFIXLEN) != 0) {
			*why = sigwhy[i][W_DASH];
			return VG_EFORMAT;
		}
		line += SIGPREFIXLEN;
		llen -= SIGPREFIXLEN;
		/* The key name runs up to the first space. */
		sp = memchr(line, ' ', llen);
		nlen = sp != NULL ? (size_t)(sp - line) : llen;
		blen = sp != NULL ? llen - nlen - 1 : 0;
		if (nlen == 0) {
			*why = sigwhy[i][W_NONAME];
			return VG_EFORMAT;
		}
		if (!name_ok(line, nlen)) {
			*why = sigwhy[i][W_NAME];
			return VG_EFORMAT;
		}
		if (blen == 0) {
			*why = sigwhy[i][W_NOSIG];
			return VG_EFORMAT;
		}
		if (b64_decode(raw, sizeof(raw), sp + 1, blen, &rawlen) != 0) {
			*why = sigwhy[i][W_B64];
			return VG_EFORMAT;
		}
		if (rawlen < 5) {
			*why = sigwhy[i][W_SHORT];
			return VG_EFORMAT;
		}
		if (keylen == 0 || nlen != keylen ||
		    memcmp(line, key->name, keylen) != 0 ||
		    memcmp(raw, key->id, sizeof(key->id)) != 0)
			continue;	/* Another key's signature. */
		m[nm].usable = rawlen == SIGRAW;
		if (m[nm].usable)
			memcpy(m[nm].sig, raw + 4, crypto_sign_BYTES);
		nm++;
	}

	/* Well-formed.  Every signature line by key must verify. */
	if (nm == 0) {
		*why = "no signature line by the key";
		return VG_ECRYPTO;
	}
	for (i = 0; i < nm; i++) {
		if (!m[i].usable || crypto_sign_verify_detached(m[i].sig, s,
		    tlen, key->pk) != 0) {
			*why = "a signature by the key does not verify";
			return VG_ECRYPTO;
		}
	}
	if (textlen != NULL)
		*textlen = tlen;
	return 0;
}

int
vg_checkpoint_format(const struct vg_checkpoint *c, char *out, size_t cap,
    size_t *outlen)
{
	char size[24], root[ROOTB64 + 1];
	size_t olen, elen[VG_CHECKPOINT_EXT_MAX], total, pos, i;
	int n;

	if (outlen != NULL)
		*outlen = 0;
	if (c == NULL || out == NULL)
		return VG_EINVAL;
	olen = strnlen(c->origin, sizeof(c->origin));
	if (olen == sizeof(c->origin) || !line_ok(c->origin, olen))
		return VG_EINVAL;
	if (c->next > VG_CHECKPOINT_EXT_MAX)
		return VG_EINVAL;
	total = olen + 1;
	for (i = 0; i < c->next; i++) {
		elen[i] = strnlen(c->ext[i], EXTBYTES);
		if (elen[i] == EXTBYTES || !line_ok(c->ext[i], elen[i]))
			return VG_EINVAL;
		total += elen[i] + 1;
	}
	n = snprintf(size, sizeof(size), "%" PRIu64, c->size);
	if (n < 0 || (size_t)n >= sizeof(size))
		return VG_EINVAL;
	sodium_bin2base64(root, sizeof(root), c->root, sizeof(c->root),
	    sodium_base64_VARIANT_ORIGINAL);
	total += (size_t)n + 1 + ROOTB64 + 1;
	if (total >= cap)
		return VG_ETOOBIG;

	memcpy(out, c->origin, olen);
	pos = olen;
	out[pos++] = '\n';
	memcpy(out + pos, size, (size_t)n);
	pos += (size_t)n;
	out[pos++] = '\n';
	memcpy(out + pos, root, ROOTB64);
	pos += ROOTB64;
	out[pos++] = '\n';
	for (i = 0; i < c->next; i++) {
		memcpy(out + pos, c->ext[i], elen[i]);
		pos += elen[i];
		out[pos++] = '\n';
	}
	out[pos] = '\0';
	if (outlen != NULL)
		*outlen = pos;
	return 0;
}

/*
 * Returns the next line of s[*pos, len) without its newline and moves
 * *pos past it, or NULL at the end.  s must end in a newline.
 */
static const unsigned char *
next_line(const unsigned char *s, size_t len, size_t *pos, size_t *llen)
{
	const unsigned char *l, *nl;

	if (*pos >= len)
		return NULL;
	l = s + *pos;
	nl = memchr(l, '\n', len - *pos);
	*llen = (size_t)(nl - l);
	*pos += *llen + 1;
	return l;
}

/* Parses the tree size line; NULL or a static reason. */
static const char *
parse_size(const unsigned char *l, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	unsigned d;
	size_t i;

	if (n == 0)
		return "line 2: size is empty";
	if (l[0] == '-')
		return "line 2: size is negative";
	for (i = 0; i < n; i++)
		if (l[i] < '0' || l[i] > '9')
			return "line 2: size is not a decimal number";
	if (n > 1 && l[0] == '0')
		return "line 2: size has a leading zero";
	for (i = 0; i < n; i++) {
		d = (unsigned)(l[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return "line 2: size is larger than 2^64-1";
		v = v * 10 + d;
	}
	*out = v;
	return NULL;
}

/* The body of vg_checkpoint_parse(); c is zeroed on entry. */
static const char *
checkpoint_parse(struct vg_checkpoint *c, const unsigned char *s,
    size_t len)
{
	unsigned char raw[RAW_MAX];
	const unsigned char *l;
	const char *why;
	size_t pos = 0, n, rawlen;

	if (s == NULL || len == 0)
		return "checkpoint text is empty";
	if (len > VG_NOTE_MAX)
		return "checkpoint text is larger than VG_NOTE_MAX (8192) "
		    "bytes";
	if ((why = text_check(s, len)) != NULL)
		return why;
	if (s[len - 1] != '\n')
		return "checkpoint text does not end in a newline";

	l = next_line(s, len, &pos, &n);
	if (n == 0)
		return "line 1: origin is empty";
	if (n > VG_NOTE_NAME_MAX)
		return "line 1: origin is longer than VG_NOTE_NAME_MAX (128) "
		    "bytes";
	memcpy(c->origin, l, n);

	if ((l = next_line(s, len, &pos, &n)) == NULL)
		return "line 2: tree size is missing";
	if ((why = parse_size(l, n, &c->size)) != NULL)
		return why;

	if ((l = next_line(s, len, &pos, &n)) == NULL)
		return "line 3: root hash is missing";
	if (n == 0)
		return "line 3: root hash is empty";
	if (b64_decode(raw, sizeof(raw), l, n, &rawlen) != 0)
		return "line 3: root hash is not valid base64";
	if (rawlen != VG_HASHBYTES)
		return "line 3: root hash is not 32 bytes";
	memcpy(c->root, raw, VG_HASHBYTES);

	while ((l = next_line(s, len, &pos, &n)) != NULL) {
		if (c->next == VG_CHECKPOINT_EXT_MAX)
			return "line 12: more than VG_CHECKPOINT_EXT_MAX (8) "
			    "extension lines";
		if (n == 0)
			return extwhy[c->next][0];
		if (n >= EXTBYTES)
			return extwhy[c->next][1];
		memcpy(c->ext[c->next++], l, n);
	}
	return NULL;
}

int
vg_checkpoint_parse(struct vg_checkpoint *c, const char *text, size_t len,
    const char **why)
{
	const char *w;

	if (why != NULL)
		*why = NULL;
	if (c == NULL) {
		if (why != NULL)
			*why = "no checkpoint to fill in";
		return VG_EFORMAT;
	}
	memset(c, 0, sizeof(*c));
	if ((w = checkpoint_parse(c, (const unsigned char *)text, len)) ==
	    NULL)
		return 0;
	memset(c, 0, sizeof(*c));
	if (why != NULL)
		*why = w;
	return VG_EFORMAT;
}
