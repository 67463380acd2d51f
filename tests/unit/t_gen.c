/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/gen.c, the synthetic customer generator: determinism
 * across runs and machines (a golden hash), the shape of every field, the
 * regional distribution, uniqueness of phones, e-mails and account ids,
 * and the CSV framing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/error.h"
#include "vigil/gen.h"
#include "vigil/region.h"

#include "tap.h"

/*
 * FNV-1a 64 of vg_gen_write_csv(seed 42, 1000 customers).  Any change to
 * the generator or its tables changes the output and must update this
 * constant deliberately, in the same commit, with a note on why: the
 * demo data and every fixture built from a seed change with it.
 */
#define GOLDEN_SEED	42
#define GOLDEN_COUNT	1000
#define GOLDEN_FNV	0x9d4138522a77457fULL

#define NMAINLAND	31
#define BIG		200000
#define REGION_SAMPLE	100000

static const int mobile_prefixes[] = {
	134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 157, 158, 159, 178,
	182, 183, 184, 187, 188, 198,
	130, 131, 132, 145, 155, 156, 166, 175, 176, 185, 186,
	133, 149, 153, 173, 177, 180, 181, 189, 191, 199,
};

static uint64_t
fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Writes the CSV for seed and count to a new heap buffer. */
static int
csv_mem(uint64_t seed, uint64_t count, char **buf, size_t *len)
{
	FILE *fp;
	int rc;

	*buf = NULL;
	*len = 0;
	if ((fp = open_memstream(buf, len)) == NULL)
		return VG_ENOMEM;
	rc = vg_gen_write_csv(fp, seed, count);
	if (fclose(fp) != 0 && rc == 0)
		rc = VG_EIO;
	return rc;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Returns the number of entries of v[0..n) equal to their predecessor
 * after sorting. */
static size_t
count_dups(uint64_t *v, size_t n)
{
	size_t i, d = 0;

	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 1; i < n; i++)
		d += v[i] == v[i - 1];
	return d;
}

/*
 * True when s is a mainland mobile number in one of the accepted
 * layouts: after removing spaces and hyphens, an optional +86 or 0086
 * and then 11 digits starting with a real operator prefix.  Stores the
 * 11 digits as a number in *num.
 */
static int
phone_ok(const char *s, uint64_t *num)
{
	char d[32];
	size_t i, n = 0;
	const char *p;
	int pre, ok_pre = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '-')
			continue;
		if (n + 1 >= sizeof(d))
			return 0;
		d[n++] = *s;
	}
	d[n] = '\0';
	p = d;
	if (strncmp(p, "+86", 3) == 0)
		p += 3;
	else if (strncmp(p, "0086", 4) == 0)
		p += 4;
	if (strlen(p) != 11 || p[0] != '1' || p[1] < '3' || p[1] > '9')
		return 0;
	*num = 0;
	for (i = 0; i < 11; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		*num = *num * 10 + (uint64_t)(p[i] - '0');
	}
	pre = (int)(*num / 100000000);
	for (i = 0; i < sizeof(mobile_prefixes) / sizeof(int); i++)
		ok_pre |= mobile_prefixes[i] == pre;
	return ok_pre;
}

/* True when s is a lower-case ASCII address with one @ and a dotted
 * domain. */
static int
email_ok(const char *s)
{
	const char *at = strchr(s, '@'), *c, *dot;

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL ||
	    at - s > 64)
		return 0;
	for (c = s; *c != '\0'; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		    *c == '.' || *c == '_' || *c == '-' || *c == '@'))
			return 0;
	}
	if (s[0] == '.' || at[-1] == '.' || strstr(s, "..") != NULL)
		return 0;
	dot = strchr(at + 1, '.');
	return dot != NULL && dot != at + 1 && dot[1] != '\0';
}

/* True when s is 2 to 4 characters of the CJK Unified Ideographs block
 * (U+4E00..U+9FFF), each three bytes of valid UTF-8. */
static int
name_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n = strlen(s);

	if (n < 6 || n > 12 || n % 3 != 0)
		return 0;
	for (i = 0; i < n; i += 3) {
		unsigned int cp;

		if ((u[i] & 0xf0) != 0xe0 || (u[i + 1] & 0xc0) != 0x80 ||
		    (u[i + 2] & 0xc0) != 0x80)
			return 0;
		cp = (u[i] & 0x0fu) << 12 | (u[i + 1] & 0x3fu) << 6 |
		    (u[i + 2] & 0x3fu);
		if (cp < 0x4e00 || cp > 0x9fff)
			return 0;
	}
	return 1;
}

/* Returns the mainland province index of code, or -1. */
static int
region_index(const char *code)
{
	int i;

	for (i = 0; i < NMAINLAND; i++) {
		if (strcmp(vg_provinces[i].code, code) == 0)
			return i;
	}
	return -1;
}

/* True when the address starts with the province's Chinese name, has a
 * district and ends in a street number or room. */
static int
address_ok(const char *a, int prov)
{
	const char *name = vg_provinces[prov].name_zh;
	size_t n = strlen(a);

	if (strncmp(a, name, strlen(name)) != 0 || strstr(a, "区") == NULL)
		return 0;
	return n > 3 && (strcmp(a + n - 3, "号") == 0 ||
	    strcmp(a + n - 3, "室") == 0);
}

static void
test_api(void)
{
	struct vg_gen_customer a, b;
	struct vg_gen *g1, *g2;
	int i, same = 1;

	vg_gen_free(NULL);
	ok(1, "vg_gen_free(NULL) is a no-op");
	g1 = vg_gen_new(99);
	g2 = vg_gen_new(99);
	ok(g1 != NULL && g2 != NULL, "vg_gen_new returns a generator");
	if (g1 == NULL || g2 == NULL)
		goto out;
	for (i = 0; i < 1000; i++) {
		memset(&a, 0xa5, sizeof(a));
		memset(&b, 0x5a, sizeof(b));
		vg_gen_next(g1, &a);
		vg_gen_next(g2, &b);
		same &= strcmp(a.name, b.name) == 0 &&
		    strcmp(a.phone, b.phone) == 0 &&
		    strcmp(a.email, b.email) == 0 &&
		    strcmp(a.account_id, b.account_id) == 0 &&
		    strcmp(a.address, b.address) == 0 &&
		    strcmp(a.region, b.region) == 0;
	}
	ok(same, "two generators with one seed give the same customers");
out:
	vg_gen_free(g1);
	vg_gen_free(g2);
}

static void
test_determinism(void)
{
	char *a = NULL, *b = NULL, *c = NULL;
	size_t alen, blen, clen;

	is_int(csv_mem(7, 5000, &a, &alen), 0, "write csv, seed 7");
	is_int(csv_mem(7, 5000, &b, &blen), 0, "write csv again, seed 7");
	is_int(csv_mem(8, 5000, &c, &clen), 0, "write csv, seed 8");
	ok(a != NULL && b != NULL && alen == blen &&
	    memcmp(a, b, alen) == 0, "same seed, same bytes");
	ok(a != NULL && c != NULL &&
	    (alen != clen || memcmp(a, c, alen) != 0),
	    "different seed, different bytes");
	free(a);
	free(b);
	free(c);
}

static void
test_golden(void)
{
	char *buf = NULL;
	size_t len;
	uint64_t h;

	is_int(csv_mem(GOLDEN_SEED, GOLDEN_COUNT, &buf, &len), 0,
	    "write golden csv");
	h = fnv1a(buf, len);
	ok(h == GOLDEN_FNV, "golden FNV-1a of seed %d count %d is %016llx",
	    GOLDEN_SEED, GOLDEN_COUNT, (unsigned long long)GOLDEN_FNV);
	if (h != GOLDEN_FNV)
		printf("#   got %016llx (%zu bytes)\n", (unsigned long long)h,
		    len);
	free(buf);
}

/* The CSV rows are the customers of vg_gen_next, in order. */
static void
test_csv_matches_next(void)
{
	struct vg_gen_customer c;
	struct vg_gen *g;
	char *buf = NULL, row[1024];
	const char *line;
	size_t len;
	int i, match = 1;

	is_int(csv_mem(5, 3, &buf, &len), 0, "write 3 rows");
	g = vg_gen_new(5);
	if (buf == NULL || g == NULL) {
		ok(0, "csv rows match vg_gen_next");
		goto out;
	}
	line = buf;
	is_int(strncmp(line, "name,phone,email,account_id,address,region\n",
	    43), 0, "csv header");
	line = strchr(line, '\n') + 1;
	for (i = 0; i < 3; i++) {
		vg_gen_next(g, &c);
		snprintf(row, sizeof(row), "%s,%s,%s,%s,%s,%s\n", c.name,
		    c.phone, c.email, c.account_id, c.address, c.region);
		match &= strncmp(line, row, strlen(row)) == 0;
		line += strlen(row);
	}
	ok(match && line == buf + len, "csv rows match vg_gen_next");
out:
	vg_gen_free(g);
	free(buf);
}

/* No field breaks the framing: one line per row, six fields each. */
static void
test_csv_framing(void)
{
	char *buf = NULL;
	size_t len, i, lines = 0, bad = 0;
	int inq = 0, commas = 0;

	is_int(csv_mem(3, 10000, &buf, &len), 0, "write 10000 rows");
	for (i = 0; buf != NULL && i < len; i++) {
		if (buf[i] == '"')
			inq = !inq;
		else if (!inq && buf[i] == ',')
			commas++;
		else if (!inq && buf[i] == '\n') {
			lines++;
			bad += commas != 5;
			commas = 0;
		}
	}
	is_int(lines, 10001, "header plus one line per customer");
	is_int(bad, 0, "every line has six fields");
	ok(len > 0 && buf[len - 1] == '\n', "output ends with a newline");
	free(buf);

	is_int(csv_mem(3, 0, &buf, &len), 0, "write 0 rows");
	ok(buf != NULL && len == 43 &&
	    memcmp(buf, "name,phone,email,account_id,address,region\n",
	    43) == 0, "count 0 writes the header only");
	free(buf);
}

/* A stream that cannot be written is VG_EIO, not a crash or a 0. */
static void
test_csv_error(void)
{
	FILE *fp;

	if ((fp = fopen("/dev/null", "r")) == NULL) {
		ok(0, "open /dev/null");
		return;
	}
	is_int(vg_gen_write_csv(fp, 1, 10), VG_EIO,
	    "a read-only stream gives VG_EIO");
	fclose(fp);
}

static void
test_shape(void)
{
	struct vg_gen_customer c;
	struct vg_gen *g;
	uint64_t *phones, *addrs;
	size_t naddr = 0, bad_phone = 0, bad_email = 0, bad_acct = 0;
	size_t bad_name = 0, bad_region = 0, bad_addr = 0, plain = 0;
	size_t reuse = 0, qq = 0, short_name = 0, dphone, daddr, i;
	size_t regions[NMAINLAND] = { 0 };
	int gd_top = 1, xz_rank = 0, r;

	phones = calloc(BIG, sizeof(*phones));
	addrs = calloc(2 * (size_t)BIG, sizeof(*addrs));
	g = vg_gen_new(2024);
	if (phones == NULL || addrs == NULL || g == NULL) {
		ok(0, "allocate");
		goto out;
	}
	for (i = 0; i < BIG; i++) {
		vg_gen_next(g, &c);
		if (!phone_ok(c.phone, &phones[i]))
			bad_phone++;
		plain += strlen(c.phone) == 11;
		bad_email += !email_ok(c.email);
		bad_acct += !email_ok(c.account_id);
		bad_name += !name_ok(c.name);
		short_name += strlen(c.name) == 6;
		addrs[naddr++] = fnv1a(c.email, strlen(c.email));
		if (strcmp(c.email, c.account_id) == 0)
			reuse++;
		else
			addrs[naddr++] = fnv1a(c.account_id,
			    strlen(c.account_id));
		qq += strspn(c.email, "0123456789") == strlen(c.email) - 7 &&
		    strcmp(c.email + strlen(c.email) - 7, "@qq.com") == 0;
		if ((r = region_index(c.region)) < 0) {
			bad_region++;
			continue;
		}
		bad_addr += !address_ok(c.address, r);
		if (i < REGION_SAMPLE)
			regions[r]++;
	}
	is_int(bad_phone, 0, "phones are valid mainland mobile numbers");
	ok(plain > BIG * 80 / 100 && plain < BIG * 90 / 100,
	    "about 85%% of phones are plain 11 digits (%zu)", plain);
	is_int(bad_email, 0, "e-mails have one @ and a dotted domain");
	is_int(bad_acct, 0, "account ids have one @ and a dotted domain");
	is_int(bad_name, 0, "names are 2 to 4 Han characters");
	ok(short_name > BIG * 15 / 100 && short_name < BIG * 25 / 100,
	    "about 20%% of names have two characters (%zu)", short_name);
	is_int(bad_region, 0, "regions are mainland codes");
	is_int(bad_addr, 0, "addresses start with the region's province");
	ok(reuse > BIG * 25 / 100 && reuse < BIG * 35 / 100,
	    "about 30%% of accounts reuse the e-mail (%zu)", reuse);
	ok(qq > BIG * 20 / 100 && qq < BIG * 35 / 100,
	    "numeric QQ mail is common (%zu)", qq);

	for (i = 1; i < NMAINLAND; i++) {
		gd_top &= regions[0] > regions[i];
		xz_rank += regions[i] < regions[30];
	}
	ok(strcmp(vg_provinces[0].code, "CN-GD") == 0 && gd_top,
	    "Guangdong is the most frequent region (%zu of %d)", regions[0],
	    REGION_SAMPLE);
	ok(strcmp(vg_provinces[30].code, "CN-XZ") == 0 && xz_rank <= 2,
	    "Tibet is among the three least frequent (%zu)", regions[30]);

	dphone = count_dups(phones, BIG);
	is_int(dphone, 0, "no duplicate phones in %d customers", BIG);
	daddr = count_dups(addrs, naddr);
	printf("# %zu duplicate addresses among %zu e-mails and distinct "
	    "account ids\n", daddr, naddr);
	is_int(daddr, 0, "e-mails and account ids are unique");
out:
	vg_gen_free(g);
	free(phones);
	free(addrs);
}

int
main(void)
{
	test_api();
	test_determinism();
	test_golden();
	test_csv_matches_next();
	test_csv_framing();
	test_csv_error();
	test_shape();
	return done_testing();
}
