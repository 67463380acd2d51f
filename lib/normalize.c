/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Normalisation and masking of personal values.  vg_normalize() turns
 * what a person typed into the one canonical form that blind indexes are
 * computed over; vg_mask() turns a canonical value into the partial form
 * shown by default.  Both work in the caller's buffers and never
 * allocate: phones and e-mail addresses are on the import hot path.
 * The API is documented in include/vigil/normalize.h and the rules per
 * type in docs/internals/normalize.md.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/normalize.h"
#include "vigil/region.h"

#include "textbuf.h"

/* Longest input accepted for any type, in bytes. */
#define INPUT_MAX	(4 * VG_NORM_MAX)

/* Byte limits of the canonical forms, per type. */
#define NAME_MAX_LEN	128
#define EMAIL_MAX_LEN	254
#define EMAIL_LOCAL_MAX	64
#define EMAIL_DOMAIN_MAX 253
#define LABEL_MAX	63
#define ACCOUNT_MIN_LEN	3
#define ACCOUNT_MAX_LEN	128
#define ADDRESS_MAX_LEN	512
#define TEXT_MAX_LEN	VG_NORM_MAX
#define REGION_IN_MAX	63

/* Digits kept while scanning a phone number; more is always an error. */
#define PHONE_DIGITS	20
/* E.164 bounds on the digits after the '+'. */
#define E164_MIN	8
#define E164_MAX	15

#define R_NOT_CN	"not a mainland mobile or fixed-line number"
#define R_SMALL		"output buffer too small"

/* What fold_text() does with whitespace between two other characters. */
enum ws_mode {
	WS_COLLAPSE,		/* a run becomes one space */
	WS_KEEP,		/* spaces kept, tabs and newlines refused */
	WS_REJECT,		/* any inner whitespace is an error */
};

/* What a mainland national significant number may be. */
enum cn_kind {
	CN_ANY,			/* mobile or fixed line */
	CN_FIXED,		/* fixed line only (it came after a trunk 0) */
	CN_MOBILE,		/* mobile only (it came without any prefix) */
};

/* vg_mask() writes through struct wbuf (lib/textbuf.h). */

/*
 * Decodes one code point at *pp, which must be before end, and advances
 * *pp past it.  Returns the code point, or -1 when the bytes are not
 * well-formed UTF-8 (overlong forms, surrogates, code points above
 * U+10FFFF and truncated sequences included).  Never reads at or past end.
 */
static int32_t
utf8_next(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	uint32_t c = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80) {
		*pp = p + 1;
		return (int32_t)c;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		c &= 0x0f;
		if (c == 0x00)
			lo = 0xa0;	/* overlong below U+0800 */
		else if (c == 0x0d)
			hi = 0x9f;	/* surrogates U+D800..U+DFFF */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		c &= 0x07;
		if (c == 0x00)
			lo = 0x90;	/* overlong below U+10000 */
		else if (c == 0x04)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return -1;
	if ((size_t)(end - p) <= n)
		return -1;
	if (p[1] < lo || p[1] > hi)
		return -1;
	c = (c << 6) | (p[1] & 0x3f);
	for (i = 2; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3f);
	}
	*pp = p + n + 1;
	return (int32_t)c;
}

/* Encodes code point c (valid, not a surrogate) into b; returns the length. */
static size_t
utf8_put(int32_t c, unsigned char *b)
{
	uint32_t u = (uint32_t)c;

	if (u < 0x80) {
		b[0] = (unsigned char)u;
		return 1;
	}
	if (u < 0x800) {
		b[0] = (unsigned char)(0xc0 | (u >> 6));
		b[1] = (unsigned char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (u >> 12));
		b[1] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (u & 0x3f));
		return 3;
	}
	b[0] = (unsigned char)(0xf0 | (u >> 18));
	b[1] = (unsigned char)(0x80 | ((u >> 12) & 0x3f));
	b[2] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
	b[3] = (unsigned char)(0x80 | (u & 0x3f));
	return 4;
}

bool
vg_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end;

	if (s == NULL)
		return len == 0;
	end = p + len;
	while (p < end) {
		if (*p < 0x80)
			p++;
		else if (utf8_next(&p, end) < 0)
			return false;
	}
	return true;
}

/*
 * Folds full-width ASCII (U+FF01..U+FF5E) to ASCII and every Unicode
 * space separator (NBSP, U+2000..U+200A, the ideographic space, ...) to
 * the ASCII space.  Other code points are returned unchanged.
 */
static int32_t
fold(int32_t c)
{
	if (c < 0xa0)
		return c;
	if (c >= 0xff01 && c <= 0xff5e)
		return c - 0xfee0;
	if (c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000)
		return ' ';
	return c;
}

/* True for the ASCII whitespace left after fold(): space, \t \n \v \f \r. */
static bool
is_ws(int32_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * Returns why code point c (folded, not whitespace) may not appear in a
 * value, or NULL when it may.  Control characters are refused everywhere;
 * so are the bidirectional controls and invisible characters that make
 * a value display as something it is not.
 */
static const char *
bad_char(int32_t c)
{
	if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
		return "control character";
	if (c < 0x61c)
		return NULL;
	if (c == 0x61c || c == 0x200e || c == 0x200f ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
		return "bidirectional control character";
	if (c == 0x200b || c == 0x2060 || c == 0xfeff)
		return "invisible character";
	return NULL;
}

/*
 * The common pass for every textual type: decodes in[0..inlen) strictly,
 * folds it, trims surrounding whitespace, treats inner whitespace as ws
 * says, refuses control characters and, when ascii is set, lower-cases
 * ASCII and refuses anything else.  Writes the result into out (capacity
 * cap >= 1, NUL-terminated) and its length into *lenp.  A result longer
 * than max bytes is VG_ETOOBIG.  Output never gets ahead of input, so
 * the pass also works in place.
 */
static int
fold_text(const char *in, size_t inlen, char *out, size_t cap, size_t max,
    enum ws_mode ws, bool ascii, size_t *lenp, const char **why)
{
	const unsigned char *p = (const unsigned char *)in, *end = p + inlen;
	unsigned char enc[4];
	size_t len = 0, run = 0, n;
	bool runctl = false;
	int32_t c;
	int rc = VG_EINVAL;

	while (p < end) {
		if (*p < 0x80)
			c = *p++;
		else if ((c = utf8_next(&p, end)) < 0) {
			*why = "invalid UTF-8";
			goto out;
		}
		c = fold(c);
		if (is_ws(c)) {
			/* Leading whitespace is dropped, inner runs counted. */
			if (len > 0) {
				run++;
				if (c != ' ')
					runctl = true;
			}
			continue;
		}
		if ((*why = bad_char(c)) != NULL)
			goto out;
		if (ascii) {
			if (c >= 0x80) {
				*why = "non-ASCII character";
				goto out;
			}
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
		}
		if (run > 0) {
			/* A run followed by more text is inner whitespace. */
			if (ws == WS_REJECT) {
				*why = "unexpected whitespace";
				goto out;
			}
			if (ws == WS_KEEP && runctl) {
				*why = "control character";
				goto out;
			}
			if (ws == WS_COLLAPSE)
				run = 1;
			if (run > max - len) {
				rc = VG_ETOOBIG;
				*why = "value too long";
				goto out;
			}
			if (run > cap - 1 - len) {
				rc = VG_ETOOBIG;
				*why = R_SMALL;
				goto out;
			}
			memset(out + len, ' ', run);
			len += run;
			run = 0;
			runctl = false;
		}
		n = utf8_put(c, enc);
		if (n > max - len) {
			rc = VG_ETOOBIG;
			*why = "value too long";
			goto out;
		}
		if (n > cap - 1 - len) {
			rc = VG_ETOOBIG;
			*why = R_SMALL;
			goto out;
		}
		memcpy(out + len, enc, n);
		len += n;
	}
	if (len == 0) {
		*why = "empty value";
		goto out;
	}
	out[len] = '\0';
	*lenp = len;
	rc = 0;
out:
	return rc;
}

/* True for the dashes people type between phone digits. */
static bool
is_dash(int32_t c)
{
	return c == '-' || (c >= 0x2010 && c <= 0x2015) || c == 0x2212;
}

/*
 * Checks a mainland national significant number d[0..n) (the digits
 * after +86, or after the trunk 0) of the given kind.  Mobiles are
 * 1[3-9] and 9 more digits.  Fixed lines are an area code and a 7- or
 * 8-digit subscriber number: area codes 10 and 2x have two digits, the
 * others ([3-9]xx) three.  Returns NULL or the reason for refusing.
 */
static const char *
cn_nsn(const char *d, size_t n, enum cn_kind kind)
{
	size_t lo, hi;

	if (n < 2)
		return "too few digits";
	if (d[0] == '1' && d[1] >= '3' && d[1] <= '9') {
		if (kind == CN_FIXED)
			return R_NOT_CN;
		lo = hi = 11;
	} else if (kind == CN_MOBILE)
		return R_NOT_CN;
	else if ((d[0] == '1' && d[1] == '0') || d[0] == '2') {
		lo = 9;
		hi = 10;
	} else if (d[0] >= '3' && d[0] <= '9') {
		lo = 10;
		hi = 11;
	} else
		return R_NOT_CN;
	if (n < lo)
		return "too few digits";
	if (n > hi)
		return "too many digits";
	return NULL;
}

/*
 * Normalises a phone number to E.164.  The scan keeps the digits and
 * whether a leading '+' was seen, skipping separators; the digits are
 * then classified by prefix.  See docs/internals/normalize.md.
 */
static int
norm_phone(const char *in, size_t inlen, char *out, size_t cap,
    size_t *lenp, const char **why)
{
	const unsigned char *p = (const unsigned char *)in, *end = p + inlen;
	char d[PHONE_DIGITS];
	const char *num, *cc;
	size_t n = 0, m, len;
	bool plus = false, any = false;
	int32_t c;
	int rc = VG_EINVAL;

	while (p < end) {
		if (*p < 0x80)
			c = *p++;
		else if ((c = utf8_next(&p, end)) < 0) {
			*why = "invalid UTF-8";
			goto out;
		}
		c = fold(c);
		if (c >= '0' && c <= '9') {
			if (n == sizeof(d)) {
				*why = "too many digits";
				goto out;
			}
			d[n++] = (char)c;
			any = true;
		} else if (c == '+') {
			if (plus || n > 0) {
				*why = "misplaced plus sign";
				goto out;
			}
			plus = any = true;
		} else if (c == '.' || c == '(' || c == ')' || is_dash(c))
			any = true;
		else if (!is_ws(c)) {
			*why = "unexpected character";
			goto out;
		}
	}
	if (!any) {
		*why = "empty value";
		goto out;
	}
	if (n == 0) {
		*why = "no digits";
		goto out;
	}

	cc = "+86";
	num = d;
	m = n;
	if (plus || (n >= 2 && d[0] == '0' && d[1] == '0')) {
		/* International: +CC... or 00CC... */
		if (!plus) {
			num += 2;
			m -= 2;
		}
		if (m == 0) {
			*why = "too few digits";
			goto out;
		}
		if (num[0] == '0') {
			*why = "invalid country code";
			goto out;
		}
		if (m >= 2 && num[0] == '8' && num[1] == '6') {
			num += 2;
			m -= 2;
			/* Tolerate the trunk 0 in "+86 (0)10 ...". */
			if (m > 0 && num[0] == '0') {
				num++;
				m--;
				*why = cn_nsn(num, m, CN_FIXED);
			} else
				*why = cn_nsn(num, m, CN_ANY);
		} else {
			cc = "+";
			if (m < E164_MIN)
				*why = "too few digits";
			else if (m > E164_MAX)
				*why = "too many digits";
		}
	} else if (d[0] == '0') {
		/* National: trunk 0, area code, subscriber number. */
		num++;
		m--;
		*why = cn_nsn(num, m, CN_FIXED);
	} else if (n >= 4 && d[0] == '8' && d[1] == '6' && d[2] == '1' &&
	    d[3] >= '3' && d[3] <= '9') {
		/* A mobile with the country code but no '+' or 00. */
		num += 2;
		m -= 2;
		*why = cn_nsn(num, m, CN_MOBILE);
	} else
		*why = cn_nsn(num, m, CN_MOBILE);
	if (*why != NULL)
		goto out;

	len = strlen(cc) + m;
	if (len > cap - 1) {
		rc = VG_ETOOBIG;
		*why = R_SMALL;
		goto out;
	}
	memcpy(out, cc, strlen(cc));
	memcpy(out + strlen(cc), num, m);
	out[len] = '\0';
	*lenp = len;
	rc = 0;
out:
	return rc;
}

/* True for the characters RFC 5322 allows in an unquoted local part. */
static bool
is_local_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && memchr("!#$%&'*+/=?^_`{|}~-", c, 19) != NULL;
}

/*
 * Checks a folded, lower-cased e-mail address s[0..len).  Returns NULL
 * when it is valid, else the reason.
 */
static const char *
check_email(const char *s, size_t len)
{
	const char *at, *dom;
	size_t llen, dlen, i, start, tld = 0, dots = 0;
	unsigned char c;

	if ((at = memchr(s, '@', len)) == NULL)
		return "missing @";
	llen = (size_t)(at - s);
	dom = at + 1;
	dlen = len - llen - 1;
	if (memchr(dom, '@', dlen) != NULL)
		return "more than one @";
	if (llen == 0)
		return "empty local part";
	if (llen > EMAIL_LOCAL_MAX)
		return "local part too long";
	for (i = 0; i < llen; i++) {
		c = (unsigned char)s[i];
		if (c == '.') {
			/* s[llen] is the '@', so s[i + 1] is in bounds. */
			if (i == 0 || i == llen - 1 || s[i + 1] == '.')
				return "misplaced dot in local part";
		} else if (!is_local_char(c))
			return "invalid character in local part";
	}
	if (dlen == 0)
		return "empty domain";
	if (dlen > EMAIL_DOMAIN_MAX)
		return "domain too long";
	for (start = i = 0; i <= dlen; i++) {
		if (i < dlen && dom[i] != '.') {
			c = (unsigned char)dom[i];
			if (!((c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '-'))
				return "invalid character in domain";
			continue;
		}
		if (i == start)
			return "empty domain label";
		if (i - start > LABEL_MAX)
			return "domain label too long";
		if (dom[start] == '-' || dom[i - 1] == '-')
			return "hyphen at the edge of a domain label";
		if (i < dlen)
			dots++;
		tld = start;
		start = i + 1;
	}
	if (dots == 0)
		return "domain has no dot";
	if (dlen - tld < 2)
		return "top-level domain too short";
	for (i = tld; i < dlen; i++)
		if (dom[i] < 'a' || dom[i] > 'z')
			return "top-level domain not alphabetic";
	return NULL;
}

/* Checks a folded, lower-cased account id s[0..len). */
static const char *
check_account(const char *s, size_t len)
{
	size_t i;
	char c;

	if (len < ACCOUNT_MIN_LEN)
		return "account id too short";
	if (memchr(s, '@', len) != NULL)
		return check_email(s, len);
	for (i = 0; i < len; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return "invalid character in account id";
	}
	return NULL;
}

/*
 * Normalises a province to its ISO 3166-2 code.  Besides what
 * vg_province_find() accepts, the usual Chinese suffixes ("广东省",
 * "北京市", "广西壮族自治区") are accepted.
 */
static int
norm_region(const char *in, size_t inlen, char *out, size_t cap,
    size_t *lenp, const char **why)
{
	static const char *const suffix[] = {
		"特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区",
		"自治区", "省", "市",
	};
	const struct vg_province *pv;
	char buf[REGION_IN_MAX + 1];
	size_t len, sl, i;
	int rc;

	rc = fold_text(in, inlen, buf, sizeof(buf), REGION_IN_MAX,
	    WS_COLLAPSE, false, &len, why);
	if (rc == VG_ETOOBIG) {
		rc = VG_EINVAL;
		*why = "unknown province code";
	}
	if (rc != 0)
		goto out;
	rc = VG_EINVAL;
	pv = vg_province_find(buf, len);
	for (i = 0; pv == NULL && i < sizeof(suffix) / sizeof(suffix[0]);
	    i++) {
		sl = strlen(suffix[i]);
		if (len > sl && memcmp(buf + len - sl, suffix[i], sl) == 0)
			pv = vg_province_find(buf, len - sl);
	}
	if (pv == NULL) {
		*why = "unknown province code";
		goto out;
	}
	len = strlen(pv->code);
	if (len > cap - 1) {
		rc = VG_ETOOBIG;
		*why = R_SMALL;
		goto out;
	}
	memcpy(out, pv->code, len + 1);
	*lenp = len;
	rc = 0;
out:
	return rc;
}

int
vg_normalize(enum vg_ftype t, const char *in, size_t inlen, char *out,
    size_t outcap, size_t *outlen, const char **why)
{
	const char *reason = NULL;
	size_t len = 0;
	int rc = VG_EINVAL;

	if (out == NULL || outcap == 0) {
		rc = VG_ETOOBIG;
		reason = R_SMALL;
		goto out;
	}
	if (in == NULL) {
		if (inlen > 0) {
			reason = "no input";
			goto out;
		}
		in = "";
	}
	if (inlen > INPUT_MAX) {
		rc = VG_ETOOBIG;
		reason = "input too long";
		goto out;
	}
	switch (t) {
	case VG_FT_NAME:
		rc = fold_text(in, inlen, out, outcap, NAME_MAX_LEN,
		    WS_COLLAPSE, false, &len, &reason);
		break;
	case VG_FT_PHONE:
		rc = norm_phone(in, inlen, out, outcap, &len, &reason);
		break;
	case VG_FT_EMAIL:
		rc = fold_text(in, inlen, out, outcap, EMAIL_MAX_LEN,
		    WS_REJECT, true, &len, &reason);
		if (rc == 0 && (reason = check_email(out, len)) != NULL)
			rc = VG_EINVAL;
		break;
	case VG_FT_ACCOUNT:
		rc = fold_text(in, inlen, out, outcap, ACCOUNT_MAX_LEN,
		    WS_REJECT, true, &len, &reason);
		if (rc == 0 && (reason = check_account(out, len)) != NULL)
			rc = VG_EINVAL;
		break;
	case VG_FT_ADDRESS:
		rc = fold_text(in, inlen, out, outcap, ADDRESS_MAX_LEN,
		    WS_COLLAPSE, false, &len, &reason);
		break;
	case VG_FT_REGION:
		rc = norm_region(in, inlen, out, outcap, &len, &reason);
		break;
	case VG_FT_TEXT:
		rc = fold_text(in, inlen, out, outcap, TEXT_MAX_LEN,
		    WS_KEEP, false, &len, &reason);
		break;
	default:
		reason = "unknown field type";
		break;
	}
out:
	if (rc != 0) {
		/* Leave no half-normalised personal data behind. */
		if (out != NULL && outcap > 0)
			memset(out, 0, outcap < VG_NORM_MAX + 1 ? outcap :
			    VG_NORM_MAX + 1);
		len = 0;
	}
	if (outlen != NULL)
		*outlen = len;
	if (why != NULL)
		*why = reason;
	return rc;
}

/* Offset of the last code point in valid UTF-8 s[0..len), len > 0. */
static size_t
cp_last(const char *s, size_t len)
{
	size_t i = len - 1;

	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/*
 * "+86 138****8000" for mobiles, "+86 755****8888" for fixed lines (area
 * code kept), "+44****1234" elsewhere (the first two digits, which hold
 * most country codes, and up to the last four).  Four stars always, so
 * the mask does not tell the length.
 */
static void
mask_phone(struct wbuf *w, const char *s, size_t len)
{
	const char *d = s + 1, *nsn;
	size_t n = len - 1, m, keep, tail, i;

	if (len < 2 || s[0] != '+')
		goto opaque;
	for (i = 0; i < n; i++)
		if (d[i] < '0' || d[i] > '9')
			goto opaque;
	if (n >= 2 && d[0] == '8' && d[1] == '6') {
		nsn = d + 2;
		m = n - 2;
		if (m >= 2 && nsn[0] == '1' && nsn[1] >= '3' && nsn[1] <= '9')
			keep = 3;
		else if (m >= 2 && ((nsn[0] == '1' && nsn[1] == '0') ||
		    nsn[0] == '2'))
			keep = 2;
		else
			keep = 3;
		if (m >= keep + 5) {
			put(w, "+86 ", 4);
			put(w, nsn, keep);
			stars(w, 4);
			put(w, nsn + m - 4, 4);
			return;
		}
	}
	if (n < E164_MIN)
		goto opaque;
	tail = n - 6 < 4 ? n - 6 : 4;
	put(w, s, 3);
	stars(w, 4);
	put(w, d + n - tail, tail);
	return;
opaque:
	stars(w, 4);
}

/* "zh***i" for ids of six or more code points, "****" for shorter ones. */
static void
mask_account(struct wbuf *w, const char *s, size_t len)
{
	size_t a, b, z;

	if (memchr(s, '@', len) != NULL) {
		mask_email(w, s, len);
		return;
	}
	if (cp_count(s, len) < 6) {
		stars(w, 4);
		return;
	}
	a = cp_len(s, len, 0);
	b = cp_len(s, len, a);
	z = cp_last(s, len);
	put(w, s, a + b);
	stars(w, 3);
	put(w, s + z, len - z);
}

/* "*", "张*", "张*明", "欧**明": first and last code point kept. */
static void
mask_name(struct wbuf *w, const char *s, size_t len)
{
	size_t n = cp_count(s, len), z;

	if (n <= 1) {
		stars(w, 1);
		return;
	}
	put(w, s, cp_len(s, len, 0));
	if (n == 2) {
		stars(w, 1);
		return;
	}
	stars(w, n - 2);
	z = cp_last(s, len);
	put(w, s + z, len - z);
}

/* The first min(6, n / 2) code points, then four stars. */
static void
mask_address(struct wbuf *w, const char *s, size_t len)
{
	size_t keep = cp_count(s, len) / 2, i, off = 0;

	if (keep > 6)
		keep = 6;
	for (i = 0; i < keep; i++)
		off += cp_len(s, len, off);
	put(w, s, off);
	stars(w, 4);
}

int
vg_mask(enum vg_ftype t, const char *canon, size_t len, char *out,
    size_t outcap)
{
	struct wbuf w;
	int rc = VG_ETOOBIG;

	if (out == NULL || outcap == 0)
		goto out;
	w.p = out;
	w.len = 0;
	w.cap = outcap;
	w.full = false;
	if (canon == NULL || len == 0 || !vg_utf8_valid(canon, len)) {
		/* Nothing recognisable: show nothing of it. */
		stars(&w, 4);
		goto done;
	}
	switch (t) {
	case VG_FT_NAME:
		mask_name(&w, canon, len);
		break;
	case VG_FT_PHONE:
		mask_phone(&w, canon, len);
		break;
	case VG_FT_EMAIL:
		mask_email(&w, canon, len);
		break;
	case VG_FT_ACCOUNT:
		mask_account(&w, canon, len);
		break;
	case VG_FT_ADDRESS:
		mask_address(&w, canon, len);
		break;
	case VG_FT_REGION:
		/* A province is coarse enough to show as it is. */
		put(&w, canon, len);
		break;
	case VG_FT_TEXT:
	default:
		stars(&w, 4);
		break;
	}
done:
	if (w.full) {
		out[0] = '\0';
		goto out;
	}
	out[w.len] = '\0';
	rc = 0;
out:
	return rc;
}

enum vg_ftype
vg_ftype_from_name(const char *name)
{
	enum vg_ftype t;

	if (name == NULL)
		return 0;
	for (t = VG_FT_NAME; t <= VG_FT_TEXT; t++)
		if (strcmp(name, vg_ftype_name(t)) == 0)
			return t;
	return 0;
}

const char *
vg_ftype_name(enum vg_ftype t)
{
	switch (t) {
	case VG_FT_NAME:
		return "name";
	case VG_FT_PHONE:
		return "phone";
	case VG_FT_EMAIL:
		return "email";
	case VG_FT_ACCOUNT:
		return "account_id";
	case VG_FT_ADDRESS:
		return "address";
	case VG_FT_REGION:
		return "region";
	case VG_FT_TEXT:
		return "text";
	}
	return "?";
}
