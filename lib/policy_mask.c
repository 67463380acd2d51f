/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy's mask styles (enum vg_mask_style): what vg_policy_mask()
 * shows of a canonical value.  VG_MASK_DEFAULT is vg_mask()'s form
 * (lib/normalize.c), which this file leaves as it is; every other style
 * is here.  The styles and their examples are docs/POLICY.md's "Masks".
 *
 * Input is a canonical value (vg_normalize()'s output), but nothing here
 * trusts that: a value that is not UTF-8, or not of the shape a style
 * expects, is shown as "****".  Output never splits a code point and
 * never allocates.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/policy.h"
#include "policy_int.h"
#include "textbuf.h"

/* Code points after the province within which the city must end. */
#define CITY_SPAN 12
/* Code points from the start within which a province name must end. */
#define PROVINCE_SPAN 10

/* The code point at s[i] of valid UTF-8 s[0..len). */
static uint32_t
cp_at(const char *s, size_t len, size_t i)
{
	const unsigned char *u = (const unsigned char *)s + i;
	size_t n = cp_len(s, len, i), k;
	uint32_t c;

	if (n == 1)
		return u[0];
	c = u[0] & (0xff >> (n + 1));
	for (k = 1; k < n; k++)
		c = (c << 6) | (u[k] & 0x3f);
	return c;
}

/* Byte offset of code point k (0-based) of s[0..len), or len. */
static size_t
cp_offset(const char *s, size_t len, size_t k)
{
	size_t i = 0;

	while (k-- > 0 && i < len)
		i += cp_len(s, len, i);
	return i;
}

static bool
is_han(uint32_t c)
{
	return (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) ||
	    (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x3134f);
}

/* Every code point hidden, the length in characters kept. */
static void
mask_full(struct wbuf *w, const char *s, size_t len)
{
	stars(w, cp_count(s, len));
}

/*
 * The length of the E.164 country code at the start of d[0..n): the
 * one-digit zones 1 and 7, the two-digit codes assigned by ITU-T, and
 * three digits for the rest.
 */
static size_t
cc_len(const char *d, size_t n)
{
	static const char two[] =
	    "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 "
	    "51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 "
	    "86 90 91 92 93 94 95 98 ";
	size_t i;

	if (n < 1)
		return 0;
	if (d[0] == '1' || d[0] == '7')
		return 1;
	if (n < 2)
		return n;
	for (i = 0; i + 2 < sizeof(two); i += 3)
		if (two[i] == d[0] && two[i + 1] == d[1])
			return 2;
	return n < 3 ? n : 3;
}

/* "+86 *******8000" (with_cc) or "*******8000": the last four digits of
 * the national number, the rest one star a digit. */
static void
mask_phone(struct wbuf *w, const char *s, size_t len, bool with_cc)
{
	const char *d = s + 1;
	size_t n = len - 1, cc, nsn, i;

	if (len < 2 || s[0] != '+')
		goto opaque;
	for (i = 0; i < n; i++)
		if (d[i] < '0' || d[i] > '9')
			goto opaque;
	cc = cc_len(d, n);
	nsn = n - cc;
	if (nsn == 0)
		goto opaque;
	if (with_cc) {
		put(w, s, 1 + cc);
		put(w, " ", 1);
	}
	if (nsn <= 4) {
		stars(w, nsn);
		return;
	}
	stars(w, nsn - 4);
	put(w, d + n - 4, 4);
	return;
opaque:
	stars(w, 4);
}

/* Account ids with an '@' as e-mail; others "z***ng" (first and last
 * two characters) from six characters on, "****" below. */
static void
mask_account(struct wbuf *w, const char *s, size_t len)
{
	size_t n, z;

	if (memchr(s, '@', len) != NULL) {
		mask_email(w, s, len);
		return;
	}
	n = cp_count(s, len);
	if (n < 6) {
		stars(w, 4);
		return;
	}
	z = cp_offset(s, len, n - 2);
	put(w, s, cp_len(s, len, 0));
	stars(w, 3);
	put(w, s + z, len - z);
}

/* Two-character family names, simplified and traditional. */
static const char *const compound[] = {
	"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙",
	"慕容", "长孙", "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木",
	"独孤", "南宫", "西门", "呼延", "万俟", "闻人", "澹台", "公冶",
	"宗政", "濮阳", "太叔", "申屠", "钟离", "司空", "完颜", "拓跋",
	"歐陽", "司馬", "諸葛", "東方", "長孫", "公孫", "軒轅", "鍾離",
	"獨孤", "萬俟", "聞人",
};

/*
 * Chinese names keep the family name, one star a character after it:
 * "张**", "欧阳*".  A compound family name counts only when a given
 * name follows (a two-character name is one family and one given
 * character).  Other names keep initials: "J. S." for "John Smith".
 */
static void
mask_surname(struct wbuf *w, const char *s, size_t len)
{
	size_t n = cp_count(s, len), keep = 1, i, off, a;
	bool word;

	if (is_han(cp_at(s, len, 0))) {
		if (n <= 1) {
			stars(w, 1);
			return;
		}
		off = cp_offset(s, len, 2);
		for (i = 0; n >= 3 && i < sizeof(compound) /
		    sizeof(compound[0]); i++)
			if (strlen(compound[i]) == off &&
			    memcmp(s, compound[i], off) == 0)
				keep = 2;
		off = cp_offset(s, len, keep);
		put(w, s, off);
		stars(w, n - keep);
		return;
	}
	word = false;
	a = 0;
	for (i = 0; i < len; i += cp_len(s, len, i)) {
		if (s[i] == ' ') {
			word = false;
			continue;
		}
		if (word)
			continue;
		word = true;
		if (a++ > 0)
			put(w, " ", 1);
		put(w, s + i, cp_len(s, len, i));
		put(w, ".", 1);
	}
	if (a == 0)
		stars(w, 4);
}

/* The code point index just after the first occurrence of any of
 * marks[] in s[0..len) at or after code point from, or 0 when none ends
 * within span code points of from. */
static size_t
find_mark(const char *s, size_t len, size_t from,
    const char *const *marks, size_t nmarks, size_t span)
{
	size_t i, k, m, ml, best = 0, off = cp_offset(s, len, from);

	for (i = off, k = from; i < len; i += cp_len(s, len, i), k++) {
		for (m = 0; m < nmarks; m++) {
			ml = strlen(marks[m]);
			if (ml <= len - i && memcmp(s + i, marks[m], ml) == 0) {
				best = k + cp_count(marks[m], ml);
				break;
			}
		}
		if (best != 0)
			break;
	}
	if (best == 0 || best - from > span)
		return 0;
	return best;
}

/*
 * Addresses down to the city.  Chinese: the province (up to 省, 自治区
 * or 特别行政区) and then up to the first 市, 自治州, 盟 or 地区
 * ("广东省深圳市****", "北京市****"); no city: the province alone.
 * Others: the comma-separated parts after the first (the street line),
 * less any part with a digit (house numbers, postcodes):
 * "****, London, UK".  Nothing left: "****".
 */
static void
mask_city(struct wbuf *w, const char *s, size_t len)
{
	static const char *const prov[] = { "特别行政区", "自治区", "省" };
	static const char *const city[] = { "自治州", "市", "盟", "地区" };
	size_t i, start, end, p, c, j;
	bool han = false, digit;

	for (i = 0; i < len && !han; i += cp_len(s, len, i))
		han = is_han(cp_at(s, len, i));
	if (han) {
		p = find_mark(s, len, 0, prov, 3, PROVINCE_SPAN);
		c = find_mark(s, len, p, city, 4, CITY_SPAN);
		end = cp_offset(s, len, c != 0 ? c : p);
		if (end == 0) {
			stars(w, 4);
			return;
		}
		put(w, s, end);
		stars(w, 4);
		return;
	}
	stars(w, 4);
	start = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != ',')
			continue;
		end = i;
		j = start;
		start = i + 1;
		if (j == 0)
			continue;	/* the street line */
		while (j < end && s[j] == ' ')
			j++;
		while (end > j && s[end - 1] == ' ')
			end--;
		digit = false;
		for (p = j; p < end; p++)
			digit |= s[p] >= '0' && s[p] <= '9';
		if (end == j || digit)
			continue;
		put(w, ", ", 2);
		put(w, s + j, end - j);
	}
}

int
vg_policy_mask(const struct vg_policy *p, enum vg_ftype t, const char *canon,
    size_t len, char *out, size_t outcap)
{
	enum vg_mask_style st;
	struct wbuf w;

	if (out == NULL || outcap == 0)
		return VG_ETOOBIG;
	st = vg_policy_mask_style(p, t);
	if (st == VG_MASK_DEFAULT)
		return vg_mask(t, canon, len, out, outcap);
	w.p = out;
	w.len = 0;
	w.cap = outcap;
	w.full = false;
	if (canon == NULL || len == 0 || len > VG_NORM_MAX ||
	    !vg_utf8_valid(canon, len) || memchr(canon, '\0', len) != NULL) {
		/* Nothing recognisable: show nothing of it. */
		stars(&w, 4);
		goto done;
	}
	switch (st) {
	case VG_MASK_COUNTRY_LAST4:
	case VG_MASK_LAST4:
		mask_phone(&w, canon, len, st == VG_MASK_COUNTRY_LAST4);
		break;
	case VG_MASK_FIRST_DOMAIN:
		if (t == VG_FT_ACCOUNT)
			mask_account(&w, canon, len);
		else
			mask_email(&w, canon, len);
		break;
	case VG_MASK_SURNAME:
		mask_surname(&w, canon, len);
		break;
	case VG_MASK_CITY:
		mask_city(&w, canon, len);
		break;
	case VG_MASK_NONE:
		put(&w, canon, len);
		break;
	case VG_MASK_FULL:
	default:
		mask_full(&w, canon, len);
		break;
	}
done:
	if (w.full) {
		out[0] = '\0';
		return VG_ETOOBIG;
	}
	out[w.len] = '\0';
	return 0;
}
