/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/note.c: the published signed-note vectors of Go's
 * golang.org/x/mod/sumdb/note and the C2SP examples (tests/vectors/note/,
 * see its README for provenance), sign/verify round trips, key matching,
 * tampering, every class of malformed note, and checkpoint format/parse.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tap.h"
#include "vectors.h"
#include "vigil/note.h"

#define BUFSZ	(2 * VG_NOTE_MAX)


static const char peter_sig[] = "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdn"
    "gotpRZb6KE6RyyBwJnAM=\n";
static const char enoch_sig[] = "\xe2\x80\x94 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTG"
    "wnWLox33WWd1RvMc+QQ=\n";
static const char text1[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";

/* PeterNeumann's key pair, from tests/vectors/note/peter.skey. */
static unsigned char peter_pk[32], peter_sk[64];
static struct vg_note_key peter, enoch;

/*-----------------------------------------------------------------------------
 * Vector files, found as t_crypto.c finds them: $VIGIL_VECTORS, then
 * $ROOT/tests/vectors, then tests/vectors here or above the program.
 */

/* vec_open() of a file in a subdirectory of tests/vectors. */
static FILE *
vec_open_sub(const char *sub, const char *file)
{
	char rel[PATH_MAX];

	if ((size_t)snprintf(rel, sizeof(rel), "%s/%s", sub, file) >=
	    sizeof(rel))
		return NULL;
	return vec_open(rel);
}


/*
 * Reads tests/vectors/note/<file> whole into buf (NUL-terminated) and
 * returns its length, or (size_t)-1 after reporting a failed check.
 */
static size_t
vec_read(const char *file, char *buf, size_t cap)
{
	FILE *f;
	size_t n;

	if ((f = vec_open_sub("note", file)) == NULL) {
		ok(0, "read tests/vectors/note/%s (set VIGIL_VECTORS)", file);
		return (size_t)-1;
	}
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

/* Reads a one-line vector file without its newline. */
static size_t
vec_line(const char *file, char *buf, size_t cap)
{
	size_t n = vec_read(file, buf, cap);

	if (n != (size_t)-1 && n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}

/*-----------------------------------------------------------------------------
 * Helpers
 */

/* Concatenates NUL-terminated pieces (ending with NULL) into buf. */
static size_t
cat(char *buf, size_t cap, ...)
{
	va_list ap;
	const char *s;
	size_t n = 0, l;

	va_start(ap, cap);
	while ((s = va_arg(ap, const char *)) != NULL) {
		l = strlen(s);
		if (n + l >= cap)
			abort();
		memcpy(buf + n, s, l);
		n += l;
	}
	va_end(ap);
	buf[n] = '\0';
	return n;
}

/* Checks that note is malformed for the reason want. */
static void
bad_note(const char *note, size_t len, const char *want, const char *what)
{
	const char *why = NULL;
	size_t tl = 99;
	int rc;

	rc = vg_note_verify(note, len, &peter, &tl, &why);
	is_int(rc, VG_EFORMAT, "malformed: %s", what);
	is_str(why, want, "malformed: %s: reason", what);
	ok(tl == 0, "malformed: %s: *textlen cleared", what);
}

static void
bad_note_s(const char *note, const char *want, const char *what)
{
	bad_note(note, strlen(note), want, what);
}

/* Checks that checkpoint text fails to parse for the reason want. */
static void
bad_cp(const char *text, const char *want, const char *what)
{
	struct vg_checkpoint c;
	const char *why = NULL;

	memset(&c, 0xa5, sizeof(c));
	is_int(vg_checkpoint_parse(&c, text, strlen(text), &why), VG_EFORMAT,
	    "checkpoint: %s", what);
	is_str(why, want, "checkpoint: %s: reason", what);
	ok(c.origin[0] == '\0' && c.size == 0 && c.next == 0,
	    "checkpoint: %s: output cleared", what);
}

/*-----------------------------------------------------------------------------
 * Published vectors
 */

static void
test_vkeys(void)
{
	char vk[VG_VKEY_MAX + 1], buf[VG_VKEY_MAX + 1], sk[128], *line, *nl;
	unsigned char seed[64];
	struct vg_note_key k;
	size_t n, len, i, j, bad;
	const char *prefix = "PRIVATE+KEY+PeterNeumann+c74f20a3+";

	/* The signer key is "PRIVATE+KEY+<name>+<id>+base64(0x01||seed)". */
	if (vec_line("peter.skey", sk, sizeof(sk)) == (size_t)-1)
		return;
	ok(strncmp(sk, prefix, strlen(prefix)) == 0, "peter.skey prefix");
	ok(sodium_base642bin(seed, sizeof(seed), sk + strlen(prefix),
	    strlen(sk + strlen(prefix)), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0 && n == 33 && seed[0] == 1,
	    "peter.skey decodes to 0x01 || 32-byte seed");
	crypto_sign_seed_keypair(peter_pk, peter_sk, seed + 1);
	sodium_memzero(seed, sizeof(seed));

	if ((len = vec_line("peter.vkey", vk, sizeof(vk))) == (size_t)-1)
		return;
	is_int(vg_note_vkey_parse(&peter, vk, len), 0, "parse peter.vkey");
	is_str(peter.name, "PeterNeumann", "peter.vkey name");
	ok(memcmp(peter.id, "\xc7\x4f\x20\xa3", 4) == 0, "peter.vkey id");
	ok(memcmp(peter.pk, peter_pk, 32) == 0,
	    "peter.vkey key is the one derived from peter.skey");
	is_int(vg_note_vkey_format(&peter, buf, sizeof(buf)), 0,
	    "format peter key");
	is_str(buf, vk, "vkey format reproduces peter.vkey");
	is_int(vg_note_vkey_format(&peter, buf, len), VG_ETOOBIG,
	    "vkey format: no room for the NUL");

	vg_note_key_init(&k, "PeterNeumann", peter_pk);
	ok(memcmp(&k, &peter, sizeof(k)) == 0,
	    "vg_note_key_init derives the published key id c74f20a3");

	if ((len = vec_line("enoch.vkey", vk, sizeof(vk))) == (size_t)-1)
		return;
	is_int(vg_note_vkey_parse(&enoch, vk, len), 0, "parse enoch.vkey");
	ok(memcmp(enoch.id, "\xaf\x0c\xfe\x78", 4) == 0, "enoch.vkey id");

	/* Go's TestNewVerifier: wrong length and unknown algorithm, each
	 * with a key id that matches. */
	if (vec_read("bad.vkeys", buf, sizeof(buf)) == (size_t)-1)
		return;
	for (line = buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		is_int(vg_note_vkey_parse(&k, line, (size_t)(nl - line)),
		    VG_EINVAL, "bad.vkeys: %.*s", (int)(nl - line), line);
		ok(k.name[0] == '\0', "rejected key is cleared");
	}

	/* Go's TestNewVerifier: every proper substring and every byte
	 * incremented must be rejected. */
	len = vec_line("peter.vkey", vk, sizeof(vk));
	bad = 0;
	for (i = 0; i <= len; i++)
		for (j = i + 1; j <= len; j++)
			if ((i != 0 || j != len) &&
			    vg_note_vkey_parse(&k, vk + i, j - i) != VG_EINVAL)
				bad++;
	is_int(bad, 0, "every proper substring of peter.vkey is rejected");
	bad = 0;
	for (i = 0; i < len; i++) {
		vk[i]++;
		if (vg_note_vkey_parse(&k, vk, len) != VG_EINVAL)
			bad++;
		vk[i]--;
	}
	is_int(bad, 0, "every one-byte change of peter.vkey is rejected");
	is_int(vg_note_vkey_parse(&k, vk, len), 0, "peter.vkey still parses");

	/* Go's key ids are hex; upper case is accepted like Go does. */
	memcpy(buf, "PeterNeumann+C74F20A3", 21);
	memcpy(buf + 21, vk + 21, len - 21);
	is_int(vg_note_vkey_parse(&k, buf, len), 0, "upper-case key id");
	memcpy(buf, vk, len);
	memcpy(buf + len - 4, "\xc3\xbf", 2);
	is_int(vg_note_vkey_parse(&k, buf, len), VG_EINVAL,
	    "non-ASCII bytes in the vkey's base64");
	is_int(vg_note_vkey_parse(&k, vk, VG_VKEY_MAX + 1), VG_EINVAL,
	    "vkey longer than VG_VKEY_MAX");
	is_int(vg_note_vkey_parse(&k, NULL, 0), VG_EINVAL, "NULL vkey");
}

static void
test_go_notes(void)
{
	char text[BUFSZ], note[BUFSZ], out[BUFSZ];
	const char *why;
	size_t tlen, nlen, olen, tl;

	if ((tlen = vec_read("text.txt", text, sizeof(text))) == (size_t)-1 ||
	    (nlen = vec_read("peter.note", note, sizeof(note))) == (size_t)-1)
		return;
	is_str(text, text1, "text.txt is the Go test text");

	tl = 0;
	why = "unset";
	is_int(vg_note_verify(note, nlen, &peter, &tl, &why), 0,
	    "peter.note verifies under peter.vkey");
	is_int(tl, tlen, "signed text length");
	ok(tl == tlen && memcmp(note, text, tlen) == 0, "signed text");
	ok(why == NULL, "no reason on success");
	is_int(vg_note_verify(note, nlen, &enoch, &tl, &why), VG_ECRYPTO,
	    "peter.note does not verify under enoch.vkey");

	is_int(vg_note_sign(text, tlen, "PeterNeumann", peter_sk, out,
	    sizeof(out), &olen), 0, "sign text.txt with peter.skey");
	ok(olen == nlen && memcmp(out, note, nlen) == 0 && out[olen] == '\0',
	    "signing reproduces the published signature line byte for byte");
	is_int(vg_note_sign(text, tlen, "PeterNeumann", peter_sk, out, nlen,
	    &olen), VG_ETOOBIG, "sign: no room for the NUL");

	/* Two signatures; each key finds its own, whatever the order. */
	if ((nlen = vec_read("peter-enoch.note", note, sizeof(note))) ==
	    (size_t)-1)
		return;
	is_int(vg_note_verify(note, nlen, &peter, &tl, &why), 0,
	    "peter-enoch.note: peter's signature (enoch's ignored)");
	is_int(tl, tlen, "peter-enoch.note: text length");
	is_int(vg_note_verify(note, nlen, &enoch, &tl, &why), 0,
	    "peter-enoch.note: enoch's signature (peter's ignored)");
	nlen = cat(note, sizeof(note), text1, "\n", enoch_sig, peter_sig,
	    NULL);
	is_int(vg_note_verify(note, nlen, &peter, &tl, &why), 0,
	    "enoch first: peter's signature");
	is_int(vg_note_verify(note, nlen, &enoch, &tl, &why), 0,
	    "enoch first: enoch's signature");
}

static void
test_c2sp(void)
{
	char note[BUFSZ], out[BUFSZ], sig[BUFSZ];
	struct vg_checkpoint c;
	unsigned char root[32];
	const char *why, *p;
	size_t nlen, tl, olen, bl;

	/* The signed-note example: a well-formed note by an unknown key,
	 * whose text itself holds a blank line. */
	if ((nlen = vec_read("c2sp-note.txt", note, sizeof(note))) ==
	    (size_t)-1)
		return;
	why = NULL;
	is_int(vg_note_verify(note, nlen, &peter, &tl, &why), VG_ECRYPTO,
	    "c2sp-note.txt is well-formed; no signature by peter");
	is_str(why, "no signature line by the key", "c2sp-note.txt reason");
	p = strstr(note, "sera.\n\n");
	tl = (size_t)(p - note) + 6;
	is_int(vg_note_sign(note, tl, "PeterNeumann", peter_sk, sig,
	    sizeof(sig), &olen), 0, "sign the C2SP example text");
	/* Append peter's line to the example: the text must end at the
	 * last blank line, keeping the blank line inside the poem. */
	memcpy(note + nlen, sig + tl + 1, olen - tl - 1);
	nlen += olen - tl - 1;
	is_int(vg_note_verify(note, nlen, &peter, &olen, &why), 0,
	    "C2SP example plus peter's signature verifies");
	is_int(olen, tl, "text ends at the last blank line");

	/* The tlog-checkpoint example. */
	if ((nlen = vec_read("c2sp-checkpoint.txt", note, sizeof(note))) ==
	    (size_t)-1)
		return;
	is_int(vg_note_verify(note, nlen, &peter, &tl, &why), VG_ECRYPTO,
	    "c2sp-checkpoint.txt is a well-formed note");
	p = strstr(note, "\n\n");
	tl = (size_t)(p - note) + 1;
	is_int(vg_checkpoint_parse(&c, note, tl, &why), 0,
	    "parse the C2SP checkpoint example");
	is_str(c.origin, "example.com/behind-the-sofa", "origin");
	ok(c.size == 20852163, "size 20852163");
	ok(sodium_base642bin(root, sizeof(root),
	    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", 44, NULL, &bl,
	    NULL, sodium_base64_VARIANT_ORIGINAL) == 0 && bl == 32 &&
	    memcmp(root, c.root, 32) == 0, "root hash");
	is_int(c.next, 0, "no extension lines");
	is_int(vg_checkpoint_format(&c, out, sizeof(out), &olen), 0,
	    "format it again");
	ok(olen == tl && memcmp(out, note, tl) == 0, "byte-identical text");
}

/*-----------------------------------------------------------------------------
 * Round trips and key matching
 */

static void
test_roundtrip(void)
{
	unsigned char pk[32], sk[64], pk2[32], sk2[64];
	struct vg_note_key k, k2;
	char note[BUFSZ], note2[BUFSZ], out[BUFSZ];
	const char *text = "vigil.example/log\n42\nsome text\n";
	const char *why;
	size_t nlen, n2, tl, i;
	char *b64;

	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	vg_note_key_init(&k, "vigil.example/log", pk);
	is_int(vg_note_sign(text, strlen(text), "vigil.example/log", sk, note,
	    sizeof(note), &nlen), 0, "sign with a fresh key");
	is_int(vg_note_verify(note, nlen, &k, &tl, &why), 0, "and verify");
	is_int(tl, strlen(text), "text length");
	is_int(vg_note_verify(note, nlen, &k, NULL, NULL), 0,
	    "textlen and why may be NULL");

	/* Wrong key: name, id, public key. */
	vg_note_key_init(&k2, "vigil.example/other", pk);
	is_int(vg_note_verify(note, nlen, &k2, &tl, &why), VG_ECRYPTO,
	    "wrong key name");
	is_str(why, "no signature line by the key", "wrong key name: reason");
	k2 = k;
	k2.id[3] ^= 1;
	is_int(vg_note_verify(note, nlen, &k2, &tl, &why), VG_ECRYPTO,
	    "wrong key id");
	vg_note_key_init(&k2, "vigil.example/log", pk2);
	is_int(vg_note_verify(note, nlen, &k2, &tl, &why), VG_ECRYPTO,
	    "another public key under the same name");
	k2 = k;
	memcpy(k2.pk, pk2, 32);
	is_int(vg_note_verify(note, nlen, &k2, &tl, &why), VG_ECRYPTO,
	    "right name and id, wrong public key");
	is_str(why, "a signature by the key does not verify",
	    "wrong public key: reason");
	ok(tl == 0, "textlen stays 0 on failure");
	is_int(vg_note_verify(note, nlen, NULL, &tl, &why), VG_ECRYPTO,
	    "no key");
	vg_note_key_init(&k2, "bad name", pk);
	ok(k2.name[0] == '\0', "key_init refuses a name with a space");
	is_int(vg_note_verify(note, nlen, &k2, &tl, &why), VG_ECRYPTO,
	    "a key with a refused name matches nothing");
	is_int(vg_note_vkey_format(&k2, out, sizeof(out)), VG_EINVAL,
	    "no vkey for a refused name");

	/* A key's vkey round trip. */
	is_int(vg_note_vkey_format(&k, out, sizeof(out)), 0, "vkey format");
	is_int(vg_note_vkey_parse(&k2, out, strlen(out)), 0, "vkey parse");
	ok(memcmp(&k, &k2, sizeof(k)) == 0, "vkey round trip");

	/* Tampering: the text, the signature, the key id in it. */
	memcpy(note2, note, nlen);
	note2[0] = 'V';
	is_int(vg_note_verify(note2, nlen, &k, &tl, &why), VG_ECRYPTO,
	    "tampered text");
	b64 = strrchr(note, ' ') + 1;
	for (i = 0; i < 2; i++) {
		size_t at = (size_t)(b64 - note) + (i == 0 ? 30 : 2);

		memcpy(note2, note, nlen);
		note2[at] = note2[at] == 'A' ? 'B' : 'A';
		is_int(vg_note_verify(note2, nlen, &k, &tl, &why), VG_ECRYPTO,
		    "tampered %s", i == 0 ? "signature" : "key id in line");
	}

	/* Two lines by the key: both must verify. */
	n2 = cat(note2, sizeof(note2), note, strchr(note, '\xe2'), NULL);
	is_int(vg_note_verify(note2, n2, &k, &tl, &why), 0,
	    "the same signature twice");
	n2 = cat(note2, sizeof(note2), note, strchr(note, '\xe2'), NULL);
	note2[n2 - 10] = note2[n2 - 10] == 'A' ? 'B' : 'A';
	is_int(vg_note_verify(note2, n2, &k, &tl, &why), VG_ECRYPTO,
	    "a good and a bad signature by the key");

	/* A line by the key of the wrong length: key id plus 63 bytes. */
	{
		unsigned char raw[67];
		char b[128], line[256];

		memcpy(raw, k.id, 4);
		memset(raw + 4, 7, 63);
		sodium_bin2base64(b, sizeof(b), raw, sizeof(raw),
		    sodium_base64_VARIANT_ORIGINAL);
		cat(line, sizeof(line), "\xe2\x80\x94 vigil.example/log ", b,
		    "\n", NULL);
		n2 = cat(note2, sizeof(note2), note, line, NULL);
		is_int(vg_note_verify(note2, n2, &k, &tl, &why), VG_ECRYPTO,
		    "a short signature line by the key");
	}

	/* Sign refuses what could never verify. */
	is_int(vg_note_sign("abc", 3, "n", sk, out, sizeof(out), NULL),
	    VG_EINVAL, "sign: no final newline");
	is_int(vg_note_sign("", 0, "n", sk, out, sizeof(out), NULL),
	    VG_EINVAL, "sign: empty text");
	is_int(vg_note_sign("a\r\n", 3, "n", sk, out, sizeof(out), NULL),
	    VG_EINVAL, "sign: carriage return");
	is_int(vg_note_sign("a\xff\n", 3, "n", sk, out, sizeof(out), NULL),
	    VG_EINVAL, "sign: invalid UTF-8");
	is_int(vg_note_sign("a\n", 2, "a b", sk, out, sizeof(out), NULL),
	    VG_EINVAL, "sign: name with a space");
	is_int(vg_note_sign("a\n", 2, "a+b", sk, out, sizeof(out), NULL),
	    VG_EINVAL, "sign: name with a plus");
	is_int(vg_note_sign("a\n", 2, "a\xc2\xa0" "b", sk, out, sizeof(out),
	    NULL), VG_EINVAL, "sign: name with U+00A0");
	is_int(vg_note_sign("a\n", 2, "", sk, out, sizeof(out), NULL),
	    VG_EINVAL, "sign: empty name");
	memcpy(sk2 + 32, pk, 32);
	is_int(vg_note_sign("a\n", 2, "n", sk2, out, sizeof(out), NULL),
	    VG_EINVAL, "sign: secret key halves from two key pairs");
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(sk2, sizeof(sk2));
}

/* Size limits: the whole note is at most VG_NOTE_MAX bytes. */
static void
test_sizes(void)
{
	static char text[BUFSZ], out[BUFSZ];
	const char *why;
	size_t sigline, tlen, olen, tl;

	/* "\n" + "— PeterNeumann " + 92 base64 + "\n" */
	sigline = 1 + 4 + 12 + 1 + 92 + 1;
	tlen = VG_NOTE_MAX - sigline;
	memset(text, 'x', tlen);
	text[tlen - 1] = '\n';
	is_int(vg_note_sign(text, tlen, "PeterNeumann", peter_sk, out,
	    sizeof(out), &olen), 0, "sign a note of exactly VG_NOTE_MAX");
	is_int(olen, VG_NOTE_MAX, "its length");
	is_int(vg_note_verify(out, olen, &peter, &tl, &why), 0,
	    "verify a note of exactly VG_NOTE_MAX");
	text[tlen] = '\n';
	is_int(vg_note_sign(text, tlen + 1, "PeterNeumann", peter_sk, out,
	    sizeof(out), &olen), VG_ETOOBIG, "sign one byte more");
	memset(text, 'x', sizeof(text));
	is_int(vg_note_sign(text, sizeof(text), "PeterNeumann", peter_sk, out,
	    sizeof(out), &olen), VG_ETOOBIG, "sign a huge text");

	memset(out, 'x', VG_NOTE_MAX + 1);
	olen = cat(out + VG_NOTE_MAX - 1 - strlen(peter_sig),
	    sizeof(out) - VG_NOTE_MAX, "\n\n", peter_sig, NULL);
	bad_note(out, VG_NOTE_MAX + 1,
	    "note is larger than VG_NOTE_MAX (8192) bytes", "oversized");
}

/*-----------------------------------------------------------------------------
 * Malformed notes
 */

static void
test_malformed(void)
{
	char n[BUFSZ], sig[256];
	size_t len, i;

	bad_note_s("", "note is empty", "empty");
	bad_note(NULL, 0, "note is empty", "NULL");
	bad_note_s(text1, "no blank line before the signatures",
	    "text only (Go)");
	cat(n, sizeof(n), text1, peter_sig, NULL);
	bad_note_s(n, "no blank line before the signatures",
	    "missing blank line");
	cat(n, sizeof(n), text1, "\n", NULL);
	bad_note_s(n, "no signature line after the blank line",
	    "blank line, no signatures (Go)");
	len = cat(n, sizeof(n), text1, "\n", peter_sig, NULL);
	bad_note(n, len - 1, "note does not end in a newline",
	    "no final newline (Go)");
	cat(n, sizeof(n), text1, "\n", peter_sig, "\n", NULL);
	bad_note_s(n, "no signature line after the blank line",
	    "blank line after the signatures");
	cat(n, sizeof(n), "\x01", text1, "\n", peter_sig, NULL);
	bad_note_s(n, "contains a control character", "control char (Go)");
	cat(n, sizeof(n), "a\tb\n\n", peter_sig, NULL);
	bad_note_s(n, "contains a control character", "tab");
	len = cat(n, sizeof(n), "a\001b\n\n", peter_sig, NULL);
	n[1] = '\0';
	bad_note(n, len, "contains a control character", "NUL byte");
	cat(n, sizeof(n), "a\r\n\n", peter_sig, NULL);
	bad_note_s(n, "contains a carriage return", "CR in the text");
	cat(n, sizeof(n), text1, "\n", "\xe2\x80\x94 PeterNeumann "
	    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
	    "KvqfqdngotpRZb6KE6RyyBwJnAM=\r\n", NULL);
	bad_note_s(n, "contains a carriage return", "CRLF signature line");
	cat(n, sizeof(n), "\xff", text1, "\n", peter_sig, NULL);
	bad_note_s(n, "invalid UTF-8", "invalid UTF-8 (Go)");
	cat(n, sizeof(n), "\xc0\xaf\n\n", peter_sig, NULL);
	bad_note_s(n, "invalid UTF-8", "overlong form");
	cat(n, sizeof(n), "\xed\xa0\x80\n\n", peter_sig, NULL);
	bad_note_s(n, "invalid UTF-8", "surrogate");
	cat(n, sizeof(n), "\xf4\x90\x80\x80\n\n", peter_sig, NULL);
	bad_note_s(n, "invalid UTF-8", "above U+10FFFF");
	cat(n, sizeof(n), "\xe2\x80\n\n", peter_sig, NULL);
	bad_note_s(n, "invalid UTF-8", "truncated sequence");
	len = cat(n, sizeof(n), text1, "\n", peter_sig, NULL);
	n[len - 1] = '\xe2';
	bad_note(n, len, "invalid UTF-8", "truncated at the very end");

	cat(n, sizeof(n), text1, "\n", "- PeterNeumann "
	    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
	    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n", NULL);
	bad_note_s(n, "signature line 1: does not start with an em dash and "
	    "a space", "hyphen instead of an em dash");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94PeterNeumann AAAAAAAA\n", NULL);
	bad_note_s(n, "signature line 1: does not start with an em dash and "
	    "a space", "em dash without a space");
	cat(n, sizeof(n), text1, "\n\xe2\x80\n", NULL);
	bad_note_s(n, "invalid UTF-8", "half an em dash");
	cat(n, sizeof(n), text1, "\n", peter_sig, "Unexpected line.\n", NULL);
	bad_note_s(n, "signature line 2: does not start with an em dash and "
	    "a space", "unexpected line after a signature (Go)");
	cat(n, sizeof(n), text1, "\n", "\xe2\x80\x94 Bad Name "
	    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
	    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n", NULL);
	bad_note_s(n, "signature line 1: bad base64", "name with a space (Go)");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94 a+b AAAAAAAA\n", NULL);
	bad_note_s(n, "signature line 1: key name contains a space or a plus",
	    "name with a plus");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94 a\xe3\x80\x80" "b AAAAAAAA\n",
	    NULL);
	bad_note_s(n, "signature line 1: key name contains a space or a plus",
	    "name with U+3000");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94  AAAAAAAA\n", NULL);
	bad_note_s(n, "signature line 1: key name is empty", "empty name");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94 PeterNeumann\n", NULL);
	bad_note_s(n, "signature line 1: no signature after the key name",
	    "no space after the name");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94 PeterNeumann \n", NULL);
	bad_note_s(n, "signature line 1: no signature after the key name",
	    "empty signature");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94 \n", NULL);
	bad_note_s(n, "signature line 1: key name is empty", "dash only");
	cat(n, sizeof(n), text1, "\n", peter_sig,
	    "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcE"
	    "lZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n", NULL);
	bad_note_s(n, "signature line 2: bad base64", "missing padding");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94 PeterNeumann x08go/ZJ=uBS9\n",
	    NULL);
	bad_note_s(n, "signature line 1: bad base64", "padding in the middle");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94 x AAAAAAB=\n", NULL);
	bad_note_s(n, "signature line 1: bad base64",
	    "non-canonical trailing bits");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94 x x08g-_ZJk\n", NULL);
	bad_note_s(n, "signature line 1: bad base64", "URL-safe alphabet");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94 x AAAA AAAA\n", NULL);
	bad_note_s(n, "signature line 1: bad base64", "space inside base64");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94 x AA\xc2\x85" "bAAA\n",
	    NULL);
	bad_note_s(n, "signature line 1: bad base64",
	    "non-ASCII bytes inside base64 (libsodium 1.0.18 takes them)");
	cat(n, sizeof(n), text1, "\n\xe2\x80\x94 x AAAAAA==\n", NULL);
	bad_note_s(n, "signature line 1: signature is shorter than 5 bytes",
	    "4-byte signature");

	/* At most VG_NOTE_SIGS_MAX lines; the key's may come last. */
	len = cat(n, sizeof(n), text1, "\n", NULL);
	for (i = 0; i < VG_NOTE_SIGS_MAX - 1; i++)
		len = cat(n + len, sizeof(n) - len, enoch_sig, NULL) + len;
	cat(sig, sizeof(sig), peter_sig, NULL);
	len = cat(n + len, sizeof(n) - len, sig, NULL) + len;
	is_int(vg_note_verify(n, len, &peter, NULL, NULL), 0,
	    "VG_NOTE_SIGS_MAX lines, the key's last");
	len = cat(n + len, sizeof(n) - len, enoch_sig, NULL) + len;
	bad_note(n, len, "more than VG_NOTE_SIGS_MAX (16) signature lines",
	    "too many signatures");
	len = cat(n, sizeof(n), text1, "\n", NULL);
	for (i = 0; i < 101; i++)
		len = cat(n + len, sizeof(n) - len, peter_sig, NULL) + len;
	bad_note(n, len, "note is larger than VG_NOTE_MAX (8192) bytes",
	    "101 signatures (Go): the size limit comes first");
}

/*-----------------------------------------------------------------------------
 * Checkpoints
 */

static void
test_checkpoint(void)
{
	struct vg_checkpoint c, d;
	char text[BUFSZ], note[BUFSZ], line[256], root44[64];
	const char *why;
	size_t len, nlen, tl, i;

	memset(&c, 0, sizeof(c));
	snprintf(c.origin, sizeof(c.origin), "vigil.example/audit");
	c.size = 1234567;
	for (i = 0; i < 32; i++)
		c.root[i] = (unsigned char)(i * 7);
	c.next = 2;
	snprintf(c.ext[0], sizeof(c.ext[0]), "ext one");
	snprintf(c.ext[1], sizeof(c.ext[1]), "\xe2\x80\x94 looks like a "
	    "signature+line");
	is_int(vg_checkpoint_format(&c, text, sizeof(text), &len), 0,
	    "format a checkpoint with two extension lines");
	sodium_bin2base64(root44, sizeof(root44), c.root, 32,
	    sodium_base64_VARIANT_ORIGINAL);
	cat(note, sizeof(note), "vigil.example/audit\n1234567\n", root44,
	    "\next one\n\xe2\x80\x94 looks like a signature+line\n", NULL);
	is_str(text, note, "checkpoint text");
	is_int(vg_checkpoint_parse(&d, text, len, &why), 0, "parse it back");
	ok(memcmp(&c, &d, sizeof(c)) == 0, "identical after the round trip");

	/* Sign, verify, parse the verified text. */
	is_int(vg_note_sign(text, len, "PeterNeumann", peter_sk, note,
	    sizeof(note), &nlen), 0, "sign the checkpoint");
	is_int(vg_note_verify(note, nlen, &peter, &tl, &why), 0,
	    "verify the signed checkpoint");
	is_int(vg_checkpoint_parse(&d, note, tl, &why), 0,
	    "parse the verified text");
	ok(memcmp(&c, &d, sizeof(c)) == 0, "the same checkpoint");

	/* Limits. */
	c.size = 0;
	c.next = VG_CHECKPOINT_EXT_MAX;
	for (i = 0; i < VG_CHECKPOINT_EXT_MAX; i++)
		memset(c.ext[i], 'e', sizeof(c.ext[i]) - 1);
	memset(c.origin, 'o', VG_NOTE_NAME_MAX);
	is_int(vg_checkpoint_format(&c, text, sizeof(text), &len), 0,
	    "format size 0, longest origin, 8 longest extension lines");
	is_int(vg_checkpoint_parse(&d, text, len, &why), 0, "parse it back");
	ok(memcmp(&c, &d, sizeof(c)) == 0, "identical");
	c.size = UINT64_MAX;
	is_int(vg_checkpoint_format(&c, text, sizeof(text), &len), 0,
	    "format size 2^64-1");
	ok(strstr(text, "\n18446744073709551615\n") != NULL, "size text");
	is_int(vg_checkpoint_parse(&d, text, len, &why), 0, "parse it back");
	ok(d.size == UINT64_MAX, "size 2^64-1");
	is_int(vg_checkpoint_format(&c, text, len, &len), VG_ETOOBIG,
	    "format: no room for the NUL");

	/* Refused by format. */
	d = c;
	d.next = VG_CHECKPOINT_EXT_MAX + 1;
	is_int(vg_checkpoint_format(&d, text, sizeof(text), &len), VG_EINVAL,
	    "format: too many extension lines");
	d = c;
	d.origin[0] = '\0';
	is_int(vg_checkpoint_format(&d, text, sizeof(text), &len), VG_EINVAL,
	    "format: empty origin");
	d = c;
	d.origin[3] = '\n';
	is_int(vg_checkpoint_format(&d, text, sizeof(text), &len), VG_EINVAL,
	    "format: newline in the origin");
	d = c;
	memset(d.origin, 'o', sizeof(d.origin));
	is_int(vg_checkpoint_format(&d, text, sizeof(text), &len), VG_EINVAL,
	    "format: unterminated origin");
	d = c;
	d.ext[2][0] = '\0';
	is_int(vg_checkpoint_format(&d, text, sizeof(text), &len), VG_EINVAL,
	    "format: empty extension line");
	d = c;
	d.ext[0][5] = '\r';
	is_int(vg_checkpoint_format(&d, text, sizeof(text), &len), VG_EINVAL,
	    "format: CR in an extension line");

	/* Parse errors. */
	cat(line, sizeof(line), "\n", root44, "\n", NULL);
	bad_cp("", "checkpoint text is empty", "empty");
	cat(text, sizeof(text), "o\n01\n", root44, "\n", NULL);
	bad_cp(text, "line 2: size has a leading zero", "size 01");
	cat(text, sizeof(text), "o\n00\n", root44, "\n", NULL);
	bad_cp(text, "line 2: size has a leading zero", "size 00");
	cat(text, sizeof(text), "o\n-1\n", root44, "\n", NULL);
	bad_cp(text, "line 2: size is negative", "size -1");
	cat(text, sizeof(text), "o\n+1\n", root44, "\n", NULL);
	bad_cp(text, "line 2: size is not a decimal number", "size +1");
	cat(text, sizeof(text), "o\n12a\n", root44, "\n", NULL);
	bad_cp(text, "line 2: size is not a decimal number", "size 12a");
	cat(text, sizeof(text), "o\n 1\n", root44, "\n", NULL);
	bad_cp(text, "line 2: size is not a decimal number", "size \" 1\"");
	cat(text, sizeof(text), "o\n0x10\n", root44, "\n", NULL);
	bad_cp(text, "line 2: size is not a decimal number", "size 0x10");
	cat(text, sizeof(text), "o\n18446744073709551616\n", root44, "\n",
	    NULL);
	bad_cp(text, "line 2: size is larger than 2^64-1", "size 2^64");
	cat(text, sizeof(text), "o\n99999999999999999999999\n", root44, "\n",
	    NULL);
	bad_cp(text, "line 2: size is larger than 2^64-1", "size 10^23-1");
	cat(text, sizeof(text), "o\n\n", root44, "\n", NULL);
	bad_cp(text, "line 2: size is empty", "empty size");
	bad_cp("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
	    "line 3: root hash is not 32 bytes", "31-byte root");
	bad_cp("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
	    "line 3: root hash is not 32 bytes", "33-byte root");
	bad_cp("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
	    "line 3: root hash is not valid base64", "unpadded root");
	bad_cp("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n",
	    "line 3: root hash is not valid base64", "non-canonical root");
	bad_cp("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-=\n",
	    "line 3: root hash is not valid base64", "URL-safe root");
	bad_cp("o\n1\nA\xc2\x85" "bKDVCT1xpdoOQnaq3xNHe6/gFEh8sOUZTYG16h5Q=\n",
	    "line 3: root hash is not valid base64",
	    "U+0085 inside the root (fuzz find)");
	bad_cp("o\n1\n\n", "line 3: root hash is empty", "empty root");
	cat(text, sizeof(text), "\n1", line, NULL);
	bad_cp(text, "line 1: origin is empty", "empty origin");
	bad_cp("\n", "line 1: origin is empty", "just a newline");
	bad_cp("o\n", "line 2: tree size is missing", "origin only");
	bad_cp("o\n1\n", "line 3: root hash is missing", "no root line");
	cat(text, sizeof(text), "o\n1\n", root44, NULL);
	bad_cp(text, "checkpoint text does not end in a newline",
	    "no final newline");
	cat(text, sizeof(text), "o\n1\n", root44, "\n\n", NULL);
	bad_cp(text, "line 4: extension line is empty", "empty extension");
	cat(text, sizeof(text), "o\n1\n", root44, "\na\nb\n\n", NULL);
	bad_cp(text, "line 6: extension line is empty", "empty 3rd extension");
	cat(text, sizeof(text), "o\r\n1", line, NULL);
	bad_cp(text, "contains a carriage return", "CR");
	cat(text, sizeof(text), "o\xc3\n1", line, NULL);
	bad_cp(text, "invalid UTF-8", "invalid UTF-8");
	cat(text, sizeof(text), "o\x1b\n1", line, NULL);
	bad_cp(text, "contains a control character", "escape character");
	memset(text, 'o', VG_NOTE_NAME_MAX + 1);
	cat(text + VG_NOTE_NAME_MAX + 1, sizeof(text) - VG_NOTE_NAME_MAX - 1,
	    "\n1", line, NULL);
	bad_cp(text, "line 1: origin is longer than VG_NOTE_NAME_MAX (128) "
	    "bytes", "129-byte origin");
	len = cat(text, sizeof(text), "o\n1", line, NULL);
	memset(text + len, 'e', 128);
	cat(text + len + 128, sizeof(text) - len - 128, "\n", NULL);
	bad_cp(text, "line 4: extension line is longer than 127 bytes",
	    "128-byte extension line");
	len = cat(text, sizeof(text), "o\n1", line, NULL);
	for (i = 0; i < VG_CHECKPOINT_EXT_MAX; i++)
		len += cat(text + len, sizeof(text) - len, "x\n", NULL);
	is_int(vg_checkpoint_parse(&d, text, len, &why), 0,
	    "8 extension lines");
	cat(text + len, sizeof(text) - len, "x\n", NULL);
	bad_cp(text, "line 12: more than VG_CHECKPOINT_EXT_MAX (8) extension "
	    "lines", "9 extension lines");
	memset(text, 'x', VG_NOTE_MAX + 1);
	text[VG_NOTE_MAX + 1] = '\0';
	bad_cp(text, "checkpoint text is larger than VG_NOTE_MAX (8192) bytes",
	    "oversized");
	is_int(vg_checkpoint_parse(&d, NULL, 0, NULL), VG_EFORMAT,
	    "NULL text, NULL why");
}

int
main(int argc, char **argv)
{
	(void)argc;
	vec_argv0 = argv[0];
	if (sodium_init() < 0) {
		ok(0, "sodium_init");
		return done_testing();
	}
	test_vkeys();
	test_go_notes();
	test_c2sp();
	test_roundtrip();
	test_sizes();
	test_malformed();
	test_checkpoint();
	return done_testing();
}
