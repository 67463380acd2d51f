/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/normalize.c: table-driven normalisation cases per
 * field type (good and bad), strict UTF-8, masking, buffer limits, and
 * the promise that reasons never quote the input.  Every input is copied
 * into a heap buffer of exactly its length, so a read past inlen shows
 * up under AddressSanitizer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vigil/normalize.h"

/*
 * One normalisation case.  len 0 means strlen(in).  When rc is 0, want
 * is the canonical form; otherwise it is the expected reason.
 */
struct ncase {
	enum vg_ftype	 t;
	const char	*in;
	size_t		 len;
	int		 rc;
	const char	*want;
};

#define OK(t, in, want)		{ (t), (in), 0, 0, (want) }
#define BAD(t, in, why)		{ (t), (in), 0, VG_EINVAL, (why) }
#define BADN(t, in, n, why)	{ (t), (in), (n), VG_EINVAL, (why) }

#define P	VG_FT_PHONE
#define E	VG_FT_EMAIL
#define A	VG_FT_ACCOUNT
#define N	VG_FT_NAME
#define D	VG_FT_ADDRESS
#define R	VG_FT_REGION
#define T	VG_FT_TEXT

#define NOT_CN	"not a mainland mobile or fixed-line number"
#define CN_MOB	"+8613800138000"

static const struct ncase phone_cases[] = {
	/* The four equivalent forms of one mobile number. */
	OK(P, "138 0013 8000", CN_MOB),
	OK(P, "+86 138-0013-8000", CN_MOB),
	OK(P, "0086 13800138000", CN_MOB),
	OK(P, "13800138000", CN_MOB),
	OK(P, "8613800138000", CN_MOB),
	OK(P, "86 138 0013 8000", CN_MOB),
	OK(P, CN_MOB, CN_MOB),
	/* Full-width digits, plus, hyphen; NBSP and ideographic space. */
	OK(P, "１３８００１３８０００", CN_MOB),
	OK(P, "＋８６　１３８－００１３－８０００", CN_MOB),
	OK(P, "138\xc2\xa0" "0013\xc2\xa0" "8000", CN_MOB),
	OK(P, "1380013８000", CN_MOB),
	OK(P, "138\xe2\x80\x93" "0013\xe2\x80\x93" "8000", CN_MOB),
	OK(P, "(+86) 138.0013.8000", CN_MOB),
	OK(P, "  13800138000\t\r\n", CN_MOB),
	/* As leaked files write them (lib/leak.c reads these). */
	OK(P, "0086 138 0013 8000", CN_MOB),
	OK(P, "0086-138-0013-8000", CN_MOB),
	OK(P, "(+86)13800138000", CN_MOB),
	OK(P, "(0086)13800138000", CN_MOB),
	OK(P, "+86-138-0013-8000", CN_MOB),
	OK(P, "+86(138)00138000", CN_MOB),
	OK(P, "（＋８６）１３８００１３８０００", CN_MOB),
	OK(P, "0086１３８００１３８０００", CN_MOB),
	OK(P, "86-13800138000", CN_MOB),
	OK(P, "19912345678", "+8619912345678"),
	OK(P, "+86 166 0000 0000", "+8616600000000"),
	/* Fixed lines. */
	OK(P, "010-12345678", "+861012345678"),
	OK(P, "0755 8888 8888", "+8675588888888"),
	OK(P, "(020) 8765 4321", "+862087654321"),
	OK(P, "0571-8888888", "+865718888888"),
	OK(P, "020 1234567", "+86201234567"),
	OK(P, "+86 10 1234 5678", "+861012345678"),
	OK(P, "+86 (0)10 1234 5678", "+861012345678"),
	OK(P, "0086 755 8888 8888", "+8675588888888"),
	OK(P, "+861012345678", "+861012345678"),
	/* Other countries. */
	OK(P, "+1 415 555 2671", "+14155552671"),
	OK(P, "+44 20 7946 0958", "+442079460958"),
	OK(P, "0044 20 7946 0958", "+442079460958"),
	OK(P, "+852 9123 4567", "+85291234567"),
	OK(P, "+49 30 12345678", "+493012345678"),
	OK(P, "+12345678", "+12345678"),
	OK(P, "+123456789012345", "+123456789012345"),
	/* Junk. */
	BAD(P, "", "empty value"),
	BAD(P, " \t ", "empty value"),
	BAD(P, "---", "no digits"),
	BAD(P, "+", "no digits"),
	BAD(P, "138 0013 800", "too few digits"),
	BAD(P, "138001380001", "too many digits"),
	BAD(P, "12800138000", NOT_CN),
	BAD(P, "23800138000", NOT_CN),
	BAD(P, "1380013800a", "unexpected character"),
	BAD(P, "tel:13800138000", "unexpected character"),
	BAD(P, "138 0013 8000 ext 12", "unexpected character"),
	BAD(P, "138+00138000", "misplaced plus sign"),
	BAD(P, "++8613800138000", "misplaced plus sign"),
	BAD(P, "+0123456789", "invalid country code"),
	BAD(P, "000123456789", "invalid country code"),
	BAD(P, "+1 234", "too few digits"),
	BAD(P, "+1234567", "too few digits"),
	BAD(P, "+1234567890123456", "too many digits"),
	BAD(P, "12345678901234567890123", "too many digits"),
	BAD(P, "0755 888", "too few digits"),
	BAD(P, "0755 888888", "too few digits"),
	BAD(P, "020 123456", "too few digits"),
	BAD(P, "010-123456789", "too many digits"),
	BAD(P, "013800138000", NOT_CN),
	BAD(P, "12345678", NOT_CN),
	BAD(P, "75588888888", NOT_CN),
	BAD(P, "\xff" "13800138000", "invalid UTF-8"),
	BAD(P, "1380013800\xe3\x80", "invalid UTF-8"),
	BAD(P, "00", "too few digits"),
	BAD(P, "01", "too few digits"),
	BAD(P, "+86", "too few digits"),
	BAD(P, "+86 12800138000", NOT_CN),
	BAD(P, "+86 0138 0013 8000", NOT_CN),
	BAD(P, "+86 00 10 12345678", NOT_CN),
	BAD(P, "86 1380013800", "too few digits"),
	BAD(P, "一三八", "unexpected character"),
	BADN(P, "13800138000\0", 12, "unexpected character"),
};

/* 64 characters, the longest local part and (minus one) label. */
#define L64 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"
#define L63 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"

static const struct ncase email_cases[] = {
	OK(E, "zhangwei@163.com", "zhangwei@163.com"),
	OK(E, "  ZhangWei@163.COM  ", "zhangwei@163.com"),
	OK(E, "ｚｈａｎｇ＠１６３．ｃｏｍ", "zhang@163.com"),
	OK(E, "ZHANGWEI@163.COM", "zhangwei@163.com"),
	OK(E, "ZhangWei@QQ.Com", "zhangwei@qq.com"),
	OK(E, "ＺｈａｎｇＷｅｉ＠ＱＱ．ｃｏｍ", "zhangwei@qq.com"),
	OK(E, "First.Last+tag@Example.co.uk", "first.last+tag@example.co.uk"),
	OK(E, "a@b.cn", "a@b.cn"),
	OK(E, "user_name-1@mail-server.example.org",
	    "user_name-1@mail-server.example.org"),
	OK(E, "o'brien@example.ie", "o'brien@example.ie"),
	OK(E, "x!#$%&'*+/=?^_`{|}~-@example.com",
	    "x!#$%&'*+/=?^_`{|}~-@example.com"),
	OK(E, L64 "@qq.com", L64 "@qq.com"),
	OK(E, "zw@" L63 ".com", "zw@" L63 ".com"),
	OK(E, "zw@xn--fiqs8s.cn", "zw@xn--fiqs8s.cn"),
	OK(E, "zw@163.com\r\n", "zw@163.com"),
	BAD(E, "", "empty value"),
	BAD(E, "zhangwei163.com", "missing @"),
	BAD(E, "a@b@c.com", "more than one @"),
	BAD(E, "@163.com", "empty local part"),
	BAD(E, "zhangwei@", "empty domain"),
	BAD(E, ".zw@163.com", "misplaced dot in local part"),
	BAD(E, "zw.@163.com", "misplaced dot in local part"),
	BAD(E, "z..w@163.com", "misplaced dot in local part"),
	BAD(E, "zhang wei@163.com", "unexpected whitespace"),
	BAD(E, "\"zw\"@163.com", "invalid character in local part"),
	BAD(E, "z(w)@163.com", "invalid character in local part"),
	BAD(E, "zw@[127.0.0.1]", "invalid character in domain"),
	BAD(E, "zw@16_3.com", "invalid character in domain"),
	BAD(E, "zw@localhost", "domain has no dot"),
	BAD(E, "zw@163.c0m", "top-level domain not alphabetic"),
	BAD(E, "zw@163.c", "top-level domain too short"),
	BAD(E, "zw@-163.com", "hyphen at the edge of a domain label"),
	BAD(E, "zw@163-.com", "hyphen at the edge of a domain label"),
	BAD(E, "zw@163..com", "empty domain label"),
	BAD(E, "zw@163.com.", "empty domain label"),
	BAD(E, "zw@.163.com", "empty domain label"),
	BAD(E, L64 "x@qq.com", "local part too long"),
	BAD(E, "zw@" L64 ".com", "domain label too long"),
	BAD(E, "张伟@163.com", "non-ASCII character"),
	BAD(E, "zw\x01@163.com", "control character"),
	BAD(E, "zw@163.com\xc0\x80", "invalid UTF-8"),
};

static const struct ncase account_cases[] = {
	OK(A, "ZhangWei_88", "zhangwei_88"),
	OK(A, "  Apple.User-1 ", "apple.user-1"),
	OK(A, "ZW@iCloud.com", "zw@icloud.com"),
	OK(A, "ｕｓｅｒ１", "user1"),
	OK(A, "abc", "abc"),
	BAD(A, "ab", "account id too short"),
	BAD(A, "", "empty value"),
	BAD(A, "a b c", "unexpected whitespace"),
	BAD(A, "user#1", "invalid character in account id"),
	BAD(A, "zw@localhost", "domain has no dot"),
	BAD(A, "账户123", "non-ASCII character"),
	BAD(A, "abc\x7f", "control character"),
};

static const struct ncase name_cases[] = {
	OK(N, "张伟", "张伟"),
	OK(N, "  张  伟 ", "张 伟"),
	OK(N, "Zhang\tWei\n", "Zhang Wei"),
	OK(N, "Ｚｈａｎｇ　Ｗｅｉ", "Zhang Wei"),
	OK(N, "欧阳\xe3\x80\x80娜娜", "欧阳 娜娜"),
	OK(N, "José García", "José García"),
	OK(N, "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"),
	OK(N, "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"),
	OK(N, "\xed\x9f\xbf", "\xed\x9f\xbf"),
	OK(N, "\xee\x80\x80", "\xee\x80\x80"),
	BAD(N, "", "empty value"),
	BAD(N, " \xe3\x80\x80 ", "empty value"),
	BAD(N, "a\x01" "b", "control character"),
	BADN(N, "a\0b", 3, "control character"),
	BAD(N, "a\xc2\x85" "b", "control character"),
	BAD(N, "\xe2\x80\xae" "evil", "bidirectional control character"),
	BAD(N, "\xef\xbb\xbf" "zw", "invisible character"),
	BAD(N, "z\xe2\x80\x8bw", "invisible character"),
	BAD(N, "\xc3", "invalid UTF-8"),
	BAD(N, "\x80", "invalid UTF-8"),
	BAD(N, "\xc0\xaf", "invalid UTF-8"),
	BAD(N, "\xc1\xbf", "invalid UTF-8"),
	BAD(N, "\xe0\x80\xaf", "invalid UTF-8"),
	BAD(N, "\xe0\x9f\xbf", "invalid UTF-8"),
	BAD(N, "\xf0\x80\x80\xaf", "invalid UTF-8"),
	BAD(N, "\xf0\x8f\xbf\xbf", "invalid UTF-8"),
	BAD(N, "\xed\xa0\x80", "invalid UTF-8"),
	BAD(N, "\xed\xbf\xbf", "invalid UTF-8"),
	BAD(N, "\xf4\x90\x80\x80", "invalid UTF-8"),
	BAD(N, "\xf5\x80\x80\x80", "invalid UTF-8"),
	BAD(N, "\xff", "invalid UTF-8"),
	BAD(N, "\xe5\xbc", "invalid UTF-8"),
	BAD(N, "\xe5\x41\xa0", "invalid UTF-8"),
};

static const struct ncase address_cases[] = {
	OK(D, " 广东省深圳市南山区  科技园\n路１号 ",
	    "广东省深圳市南山区 科技园 路1号"),
	OK(D, "北京市朝阳区建国路８８号", "北京市朝阳区建国路88号"),
	BAD(D, "", "empty value"),
	BAD(D, "路\x7f", "control character"),
	BAD(D, "路\xed\xa0\x80", "invalid UTF-8"),
};

static const struct ncase text_cases[] = {
	OK(T, "  hello  world  ", "hello  world"),
	OK(T, "trailing\r\n", "trailing"),
	OK(T, "caf\xc3\xa9 ｏｋ", "café ok"),
	BAD(T, "line1\nline2", "control character"),
	BAD(T, "tab\there", "control character"),
	BAD(T, "\n\n", "empty value"),
};

static const struct ncase region_cases[] = {
	OK(R, "CN-GD", "CN-GD"),
	OK(R, "GD", "CN-GD"),
	OK(R, "gd", "CN-GD"),
	OK(R, " cn-gd ", "CN-GD"),
	OK(R, "ＧＤ", "CN-GD"),
	OK(R, "广东", "CN-GD"),
	OK(R, "广东省", "CN-GD"),
	OK(R, "Guangdong", "CN-GD"),
	OK(R, "GUANGDONG", "CN-GD"),
	OK(R, "Inner  Mongolia", "CN-NM"),
	OK(R, "内蒙古自治区", "CN-NM"),
	OK(R, "新疆维吾尔自治区", "CN-XJ"),
	OK(R, "北京市", "CN-BJ"),
	OK(R, "香港特别行政区", "CN-HK"),
	BAD(R, "XX", "unknown province code"),
	BAD(R, "CN-", "unknown province code"),
	BAD(R, "省", "unknown province code"),
	BAD(R, "广东省省", "unknown province code"),
	BAD(R, "", "empty value"),
	BAD(R, "Guangdong Guangdong Guangdong Guangdong Guangdong Guangdong "
	    "Guangdong", "unknown province code"),
	BAD(R, "G\x01" "D", "control character"),
};

/* Every reason vg_normalize() may give; a reason outside it is a bug. */
static const char *const reasons[] = {
	"empty value", "no digits", "too few digits", "too many digits",
	NOT_CN, "unexpected character", "misplaced plus sign",
	"invalid country code", "invalid UTF-8", "missing @",
	"more than one @", "empty local part", "empty domain",
	"misplaced dot in local part", "unexpected whitespace",
	"invalid character in local part", "invalid character in domain",
	"domain has no dot", "top-level domain not alphabetic",
	"top-level domain too short", "hyphen at the edge of a domain label",
	"empty domain label", "local part too long", "domain label too long",
	"domain too long", "non-ASCII character", "control character",
	"account id too short", "invalid character in account id",
	"bidirectional control character", "invisible character",
	"unknown province code", "value too long", "input too long",
	"output buffer too small", "unknown field type", "no input",
};

static int
known_reason(const char *why)
{
	size_t i;

	if (why == NULL)
		return 0;
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (why == reasons[i] || strcmp(why, reasons[i]) == 0)
			return 1;
	return 0;
}

/*
 * True when why repeats any three consecutive digits of in[0..len), or
 * holds two digits in a row (no static reason does).
 */
static int
leaks_digits(const char *why, const char *in, size_t len)
{
	char run[4];
	size_t i;

	for (i = 0; why[i] != '\0'; i++)
		if (why[i] >= '0' && why[i] <= '9' &&
		    why[i + 1] >= '0' && why[i + 1] <= '9')
			return 1;
	for (i = 0; i + 3 <= len; i++) {
		if (in[i] < '0' || in[i] > '9' || in[i + 1] < '0' ||
		    in[i + 1] > '9' || in[i + 2] < '0' || in[i + 2] > '9')
			continue;
		memcpy(run, in + i, 3);
		run[3] = '\0';
		if (strstr(why, run) != NULL)
			return 1;
	}
	return 0;
}

/* Runs one case: result, canonical form or reason, idempotence, mask. */
static void
run_case(const struct ncase *c)
{
	char out[VG_NORM_MAX + 1], again[VG_NORM_MAX + 1];
	char mask[4 * VG_NORM_MAX + 8];
	const char *why = "unset";
	size_t len = c->len ? c->len : strlen(c->in), olen = 99, alen;
	char *in = malloc(len ? len : 1);
	int rc;

	if (in == NULL)
		abort();
	memcpy(in, c->in, len);
	rc = vg_normalize(c->t, in, len, out, sizeof(out), &olen, &why);
	is_int(rc, c->rc, "%s: rc for case \"%s\"", vg_ftype_name(c->t),
	    c->want);
	if (c->rc == 0) {
		is_str(rc == 0 ? out : NULL, c->want, "%s: canonical form",
		    vg_ftype_name(c->t));
		ok(rc == 0 && olen == strlen(c->want) && why == NULL,
		    "%s: length %zu and no reason", vg_ftype_name(c->t), olen);
		rc = vg_normalize(c->t, out, olen, again, sizeof(again),
		    &alen, &why);
		ok(rc == 0 && alen == olen && memcmp(again, out, olen) == 0,
		    "%s: idempotent on \"%s\"", vg_ftype_name(c->t), c->want);
		rc = vg_mask(c->t, out, olen, mask, sizeof(mask));
		ok(rc == 0 && vg_utf8_valid(mask, strlen(mask)),
		    "%s: mask of \"%s\" is \"%s\"", vg_ftype_name(c->t),
		    c->want, mask);
	} else {
		is_str(why, c->want, "%s: reason", vg_ftype_name(c->t));
		ok(known_reason(why) && !leaks_digits(why, in, len) &&
		    olen == 0 && out[0] == '\0',
		    "%s: reason is static and quotes no input",
		    vg_ftype_name(c->t));
	}
	free(in);
}

static void
run_table(const struct ncase *tab, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		run_case(&tab[i]);
}

#define RUN(tab)	run_table((tab), sizeof(tab) / sizeof((tab)[0]))

/* Normalises s as type t into a fresh buffer of cap bytes. */
static int
norm_cap(enum vg_ftype t, const char *s, size_t cap, const char **why)
{
	char out[VG_NORM_MAX + 1];
	size_t olen;

	return vg_normalize(t, s, strlen(s), out, cap, &olen, why);
}

static void
test_lengths(void)
{
	static char big[4 * VG_NORM_MAX + 2];
	char out[VG_NORM_MAX + 1];
	const char *why;
	size_t olen;
	int rc;

	/* Per-type limits: exactly the limit passes, one more does not. */
	memset(big, 'a', 129);
	rc = vg_normalize(VG_FT_NAME, big, 128, out, sizeof(out), &olen, &why);
	ok(rc == 0 && olen == 128, "name of 128 bytes accepted");
	rc = vg_normalize(VG_FT_NAME, big, 129, out, sizeof(out), &olen, &why);
	is_int(rc, VG_ETOOBIG, "name of 129 bytes too big");
	is_str(why, "value too long", "name too big: reason");
	/* 43 three-byte Han characters are 129 bytes. */
	{
		char han[43 * 3];
		size_t i;

		for (i = 0; i < 43; i++)
			memcpy(han + 3 * i, "张", 3);
		rc = vg_normalize(VG_FT_NAME, han, sizeof(han) - 3, out,
		    sizeof(out), &olen, &why);
		ok(rc == 0 && olen == 126, "name of 42 Han characters");
		rc = vg_normalize(VG_FT_NAME, han, sizeof(han), out,
		    sizeof(out), &olen, &why);
		is_int(rc, VG_ETOOBIG, "name of 43 Han characters too big");
	}
	memset(big, 'a', 513);
	rc = vg_normalize(VG_FT_ADDRESS, big, 512, out, sizeof(out), &olen,
	    &why);
	ok(rc == 0 && olen == 512, "address of 512 bytes accepted");
	rc = vg_normalize(VG_FT_ADDRESS, big, 513, out, sizeof(out), &olen,
	    &why);
	is_int(rc, VG_ETOOBIG, "address of 513 bytes too big");
	memset(big, 'a', VG_NORM_MAX + 1);
	rc = vg_normalize(VG_FT_TEXT, big, VG_NORM_MAX, out, sizeof(out),
	    &olen, &why);
	ok(rc == 0 && olen == VG_NORM_MAX, "text of VG_NORM_MAX accepted");
	rc = vg_normalize(VG_FT_TEXT, big, VG_NORM_MAX + 1, out, sizeof(out),
	    &olen, &why);
	is_int(rc, VG_ETOOBIG, "text over VG_NORM_MAX too big");
	memset(big, 'a', 129);
	rc = vg_normalize(VG_FT_ACCOUNT, big, 128, out, sizeof(out), &olen,
	    &why);
	ok(rc == 0 && olen == 128, "account id of 128 accepted");
	rc = vg_normalize(VG_FT_ACCOUNT, big, 129, out, sizeof(out), &olen,
	    &why);
	is_int(rc, VG_ETOOBIG, "account id of 129 too big");

	/* An e-mail address of 254 bytes passes, 255 does not. */
	memcpy(big, L64 "@", 65);
	memcpy(big + 65, L63 "." L63 "." L63 ".com", 63 * 3 + 6);
	rc = vg_normalize(VG_FT_EMAIL, big, 254, out, sizeof(out), &olen,
	    &why);
	ok(rc == 0 && olen == 254, "e-mail of 254 bytes accepted");
	memcpy(big + 65, L63 "." L63 "." L63 ".comx", 63 * 3 + 7);
	rc = vg_normalize(VG_FT_EMAIL, big, 255, out, sizeof(out), &olen,
	    &why);
	is_int(rc, VG_ETOOBIG, "e-mail of 255 bytes too big");

	/* Input over 4 * VG_NORM_MAX is refused before it is read. */
	memset(big, ' ', sizeof(big));
	big[0] = 'x';
	rc = vg_normalize(VG_FT_TEXT, big, 4 * VG_NORM_MAX, out, sizeof(out),
	    &olen, &why);
	ok(rc == 0 && olen == 1, "text padded to 4 * VG_NORM_MAX accepted");
	rc = vg_normalize(VG_FT_TEXT, big, 4 * VG_NORM_MAX + 1, out,
	    sizeof(out), &olen, &why);
	is_int(rc, VG_ETOOBIG, "input over 4 * VG_NORM_MAX too big");
	is_str(why, "input too long", "input too big: reason");
	rc = vg_normalize(VG_FT_PHONE, big, 4 * VG_NORM_MAX + 1, out,
	    sizeof(out), &olen, &why);
	is_int(rc, VG_ETOOBIG, "phone over 4 * VG_NORM_MAX too big");

	/* Many separators are fine as long as the digits are right. */
	memset(big, '-', 4 * VG_NORM_MAX);
	memcpy(big + 2000, "13800138000", 11);
	rc = vg_normalize(VG_FT_PHONE, big, 4 * VG_NORM_MAX, out, sizeof(out),
	    &olen, &why);
	ok(rc == 0 && strcmp(out, CN_MOB) == 0, "phone among 4k separators");
}

static void
test_buffers(void)
{
	char out[32];
	const char *why = NULL;
	size_t olen = 7;
	int rc;

	is_int(norm_cap(VG_FT_PHONE, "138 0013 8000", 15, &why), 0,
	    "phone fits 15 bytes");
	is_int(norm_cap(VG_FT_PHONE, "138 0013 8000", 14, &why), VG_ETOOBIG,
	    "phone does not fit 14 bytes");
	is_str(why, "output buffer too small", "phone buffer: reason");
	is_int(norm_cap(VG_FT_EMAIL, "zw@163.com", 11, &why), 0,
	    "e-mail fits 11 bytes");
	is_int(norm_cap(VG_FT_EMAIL, "zw@163.com", 10, &why), VG_ETOOBIG,
	    "e-mail does not fit 10 bytes");
	is_int(norm_cap(VG_FT_NAME, "张伟", 7, &why), 0, "name fits 7 bytes");
	is_int(norm_cap(VG_FT_NAME, "张伟", 6, &why), VG_ETOOBIG,
	    "name does not fit 6 bytes");
	is_int(norm_cap(VG_FT_NAME, "a  b", 3, &why), VG_ETOOBIG,
	    "collapsed space does not fit");
	is_int(norm_cap(VG_FT_REGION, "广东", 6, &why), 0,
	    "region fits 6 bytes");
	is_int(norm_cap(VG_FT_REGION, "广东", 5, &why), VG_ETOOBIG,
	    "region does not fit 5 bytes");
	is_int(norm_cap(VG_FT_TEXT, "x", 1, &why), VG_ETOOBIG,
	    "nothing fits 1 byte but the NUL");
	rc = vg_normalize(VG_FT_PHONE, "13800138000", 11, out, 0, &olen, &why);
	is_int(rc, VG_ETOOBIG, "zero capacity");
	rc = vg_normalize(VG_FT_PHONE, "13800138000", 11, NULL, 32, &olen,
	    &why);
	is_int(rc, VG_ETOOBIG, "no output buffer");

	/* A failure leaves no partial value behind. */
	memset(out, 'x', sizeof(out));
	rc = vg_normalize(VG_FT_NAME, "张伟张伟张伟", 18, out, 10, &olen,
	    &why);
	ok(rc == VG_ETOOBIG && olen == 0 && out[0] == '\0' &&
	    memchr(out, 0xe5, 10) == NULL, "failure wipes the output");

	/* Input is not read past inlen, and need not be NUL-terminated. */
	rc = vg_normalize(VG_FT_PHONE, "13800138000999", 11, out, sizeof(out),
	    &olen, &why);
	ok(rc == 0 && strcmp(out, CN_MOB) == 0, "phone stops at inlen");
	rc = vg_normalize(VG_FT_EMAIL, "zw@163.comXYZ", 10, out, sizeof(out),
	    &olen, &why);
	ok(rc == 0 && strcmp(out, "zw@163.com") == 0, "e-mail stops at inlen");

	/* NULL why and outlen are allowed; NULL input only when empty. */
	rc = vg_normalize(VG_FT_PHONE, "13800138000", 11, out, sizeof(out),
	    NULL, NULL);
	ok(rc == 0 && strcmp(out, CN_MOB) == 0, "NULL outlen and why");
	rc = vg_normalize(VG_FT_NAME, NULL, 0, out, sizeof(out), &olen, &why);
	ok(rc == VG_EINVAL && strcmp(why, "empty value") == 0,
	    "NULL empty input");
	rc = vg_normalize(VG_FT_NAME, NULL, 3, out, sizeof(out), &olen, &why);
	is_int(rc, VG_EINVAL, "NULL input with a length");
	rc = vg_normalize((enum vg_ftype)0, "x", 1, out, sizeof(out), &olen,
	    &why);
	ok(rc == VG_EINVAL && strcmp(why, "unknown field type") == 0,
	    "unknown type refused");
}

struct mcase {
	enum vg_ftype	 t;
	const char	*in;
	const char	*want;
};

static const struct mcase mask_cases[] = {
	{ P, "+8613800138000", "+86 138****8000" },
	{ P, "+8619912345678", "+86 199****5678" },
	{ P, "+861012345678", "+86 10****5678" },
	{ P, "+862087654321", "+86 20****4321" },
	{ P, "+8675588888888", "+86 755****8888" },
	{ P, "+865718888888", "+86 571****8888" },
	{ P, "+14155552671", "+14****2671" },
	{ P, "+442079460958", "+44****0958" },
	{ P, "+12345678", "+12****78" },
	{ P, "+123456789", "+12****789" },
	{ P, "138-junk", "****" },
	{ P, "+123", "****" },
	{ E, "zhangwei@163.com", "z***@163.com" },
	{ E, "zw@163.com", "z***@163.com" },
	{ E, "a@b.cn", "*@b.cn" },
	{ E, "no-at-sign", "****" },
	{ E, "@163.com", "****" },
	{ A, "zhangwei_88", "zh***8" },
	{ A, "abcdef", "ab***f" },
	{ A, "abcde", "****" },
	{ A, "zw@icloud.com", "z***@icloud.com" },
	{ N, "李", "*" },
	{ N, "张伟", "张*" },
	{ N, "张三明", "张*明" },
	{ N, "欧阳娜娜", "欧**娜" },
	{ N, "Zhang Wei", "Z*******i" },
	{ N, "Ab", "A*" },
	{ D, "广东省深圳市南山区科技园路1号", "广东省深圳市****" },
	{ D, "北京朝阳", "北京****" },
	{ D, "北京", "北****" },
	{ D, "a", "****" },
	{ R, "CN-GD", "CN-GD" },
	{ T, "secret text", "****" },
	{ T, "x", "****" },
	{ N, "\xc0\xaf", "****" },
	{ (enum vg_ftype)42, "value", "****" },
};

static void
test_mask(void)
{
	char out[64];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(mask_cases) / sizeof(mask_cases[0]); i++) {
		const struct mcase *m = &mask_cases[i];

		memset(out, 'x', sizeof(out));
		rc = vg_mask(m->t, m->in, strlen(m->in), out, sizeof(out));
		is_int(rc, 0, "mask %s #%zu: rc", vg_ftype_name(m->t), i);
		is_str(out, m->want, "mask %s #%zu", vg_ftype_name(m->t), i);
	}
	rc = vg_mask(VG_FT_PHONE, CN_MOB, strlen(CN_MOB), out, 16);
	ok(rc == 0 && strcmp(out, "+86 138****8000") == 0,
	    "phone mask fits 16 bytes");
	rc = vg_mask(VG_FT_PHONE, CN_MOB, strlen(CN_MOB), out, 15);
	ok(rc == VG_ETOOBIG && out[0] == '\0', "phone mask needs 16 bytes");
	rc = vg_mask(VG_FT_TEXT, "x", 1, out, 4);
	is_int(rc, VG_ETOOBIG, "text mask needs 5 bytes");
	rc = vg_mask(VG_FT_TEXT, "x", 1, out, 0);
	is_int(rc, VG_ETOOBIG, "mask into zero capacity");
	rc = vg_mask(VG_FT_NAME, "", 0, out, sizeof(out));
	ok(rc == 0 && strcmp(out, "****") == 0, "mask of empty value");
	rc = vg_mask(VG_FT_NAME, "张伟X", 6, out, sizeof(out));
	ok(rc == 0 && strcmp(out, "张*") == 0, "mask reads only len bytes");

	/* Masks of e-mail addresses do not tell the local part's length. */
	{
		char a[64], b[64];

		rc = vg_mask(VG_FT_EMAIL, "ab@qq.com", 9, a, sizeof(a));
		rc |= vg_mask(VG_FT_EMAIL, L64 "@qq.com", 71, b, sizeof(b));
		ok(rc == 0 && strlen(a) == strlen(b),
		    "e-mail mask length independent of local part");
	}
}

static void
test_utf8(void)
{
	ok(vg_utf8_valid("", 0), "empty is valid UTF-8");
	ok(vg_utf8_valid(NULL, 0), "NULL empty is valid UTF-8");
	ok(vg_utf8_valid("abc\0def", 7), "NUL is valid UTF-8");
	ok(vg_utf8_valid("张伟", 6), "Han is valid UTF-8");
	ok(vg_utf8_valid("\xf4\x8f\xbf\xbf", 4), "U+10FFFF is valid");
	ok(vg_utf8_valid("\xc2\x80", 2), "U+0080 is valid");
	ok(vg_utf8_valid("\xe0\xa0\x80", 3), "U+0800 is valid");
	ok(vg_utf8_valid("\xf0\x90\x80\x80", 4), "U+10000 is valid");
	ok(!vg_utf8_valid("\xc0\x80", 2), "overlong NUL refused");
	ok(!vg_utf8_valid("\xe0\x9f\xbf", 3), "overlong U+07FF refused");
	ok(!vg_utf8_valid("\xf0\x8f\xbf\xbf", 4), "overlong U+FFFF refused");
	ok(!vg_utf8_valid("\xed\xa0\x80", 3), "high surrogate refused");
	ok(!vg_utf8_valid("\xed\xbf\xbf", 3), "low surrogate refused");
	ok(!vg_utf8_valid("\xf4\x90\x80\x80", 4), "U+110000 refused");
	ok(!vg_utf8_valid("\xf8\x88\x80\x80\x80", 5), "5-byte form refused");
	ok(!vg_utf8_valid("\xe5\xbc\xa0", 2), "truncated by len refused");
	ok(!vg_utf8_valid("\xbc", 1), "lone continuation refused");
	ok(!vg_utf8_valid("\xfe\xff", 2), "FE FF refused");
}

static void
test_names(void)
{
	static const char *const names[] = {
		"name", "phone", "email", "account_id", "address", "region",
		"text",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum vg_ftype t = vg_ftype_from_name(names[i]);

		is_int(t, (int)(VG_FT_NAME + i), "type \"%s\"", names[i]);
		is_str(vg_ftype_name(t), names[i], "name of type %d", (int)t);
	}
	is_int(vg_ftype_from_name("account"), 0, "\"account\" is no type");
	is_int(vg_ftype_from_name("Phone"), 0, "type names are exact");
	is_int(vg_ftype_from_name(""), 0, "empty type name");
	is_int(vg_ftype_from_name(NULL), 0, "NULL type name");
	is_str(vg_ftype_name((enum vg_ftype)0), "?", "name of type 0");
	is_str(vg_ftype_name((enum vg_ftype)99), "?", "name of type 99");
}

int
main(void)
{
	RUN(phone_cases);
	RUN(email_cases);
	RUN(account_cases);
	RUN(name_cases);
	RUN(address_cases);
	RUN(text_cases);
	RUN(region_cases);
	test_lengths();
	test_buffers();
	test_mask();
	test_utf8();
	test_names();
	return done_testing();
}
