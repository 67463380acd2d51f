/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for lib/shift.c: shift parsing (every error and its
 * reason), zone offsets at exact instants (daylight saving changes in
 * Berlin, New York and Sydney, Shanghai's 1988 summer time, Kolkata's
 * +05:30), the footer rule after a file's last transition (Berlin 2040
 * and 2100, New York 2060), POSIX TZ rules on their own (J, n and M
 * dates, default rules, southern hemisphere, permanent daylight time,
 * negative rule times), hand-made TZif images (v1, v2, footer only,
 * every truncation, each malformation), zone names that try to leave
 * the zone directory, FIFOs and directories, the shift window itself
 * (overnight shifts across daylight saving, wrapping day ranges,
 * 24-hour shifts), the cache under 8 threads and its bound.
 *
 * The expected instants were computed with Python's zoneinfo, an
 * independent reader of the same tzdata.  One check also compares
 * vg_tz_offset() with the C library's localtime_r() for every zone
 * file on the system, sampled every few weeks from 1901 to 2200 and
 * at every change found in between: an oracle only, set through TZ in
 * this single-threaded test, never in the library.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vigil/shift.h"

#define ZONEINFO "/usr/share/zoneinfo"

static char root[PATH_MAX];

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* The zone of a parsed "NAME * 00:00-24:00", or NULL. */
static const struct vg_tz *
zone(const char *name)
{
	struct vg_shift s;
	char text[128];
	const char *why = NULL;

	snprintf(text, sizeof(text), "%s * 00:00-24:00", name);
	if (vg_shift_parse(text, &s, &why) != 0) {
		printf("# zone %s: %s\n", name, why ? why : "?");
		return NULL;
	}
	return s.tz;
}

/* Checks the offset just before and at a change. */
static void
change_at(const struct vg_tz *tz, const char *what, int64_t t,
    int32_t before, int32_t after)
{
	is_int(vg_tz_offset(tz, t - 1), before, "%s: %+d one second before",
	    what, (int)before);
	is_int(vg_tz_offset(tz, t), after, "%s: %+d at %lld", what,
	    (int)after, (long long)t);
}

/*-----------------------------------------------------------------------------
 * Hand-made TZif images
 */

struct img {
	unsigned char b[8192];
	size_t n;
};

static void
put8(struct img *im, unsigned v)
{
	im->b[im->n++] = (unsigned char)v;
}

static void
put32(struct img *im, uint32_t v)
{
	put8(im, v >> 24);
	put8(im, (v >> 16) & 0xff);
	put8(im, (v >> 8) & 0xff);
	put8(im, v & 0xff);
}

static void
put64(struct img *im, int64_t v)
{
	uint64_t u = (uint64_t)v;

	put32(im, (uint32_t)(u >> 32));
	put32(im, (uint32_t)u);
}

static void
header(struct img *im, unsigned version, uint32_t leap, uint32_t nt,
    uint32_t ntypes, uint32_t nchars)
{
	memcpy(im->b + im->n, "TZif", 4);
	im->n += 4;
	put8(im, version);
	memset(im->b + im->n, 0, 15);
	im->n += 15;
	put32(im, 0);		/* isutcnt */
	put32(im, 0);		/* isstdcnt */
	put32(im, leap);
	put32(im, nt);
	put32(im, ntypes);
	put32(im, nchars);
}

struct zspec {
	unsigned version;	/* 0 (v1), '2', '3' */
	size_t nt;
	const int64_t *trans;
	const uint8_t *idx;
	size_t ntypes;
	const int32_t *off;
	uint32_t leap;
	const char *footer;	/* v2+: the rule, may be "" */
};

/* Builds an image; types are all named "ABC". */
static void
build(struct img *im, const struct zspec *z)
{
	size_t i;
	unsigned tsize = z->version == 0 ? 4 : 8;

	im->n = 0;
	if (z->version != 0) {
		/* A minimal v1 block, as zic -b slim writes. */
		header(im, z->version, 0, 0, 1, 1);
		put32(im, 0);
		put8(im, 0);
		put8(im, 0);
		put8(im, 0);
	}
	header(im, z->version, z->leap, (uint32_t)z->nt,
	    (uint32_t)z->ntypes, 4);
	for (i = 0; i < z->nt; i++) {
		if (tsize == 8)
			put64(im, z->trans[i]);
		else
			put32(im, (uint32_t)z->trans[i]);
	}
	for (i = 0; i < z->nt; i++)
		put8(im, z->idx[i]);
	for (i = 0; i < z->ntypes; i++) {
		put32(im, (uint32_t)z->off[i]);
		put8(im, z->off[i] > z->off[0]);
		put8(im, 0);
	}
	memcpy(im->b + im->n, "ABC", 4);
	im->n += 4;
	for (i = 0; i < z->leap; i++) {
		if (tsize == 8)
			put64(im, 0);
		else
			put32(im, 0);
		put32(im, 0);
	}
	if (z->version != 0) {
		put8(im, '\n');
		memcpy(im->b + im->n, z->footer, strlen(z->footer));
		im->n += strlen(z->footer);
		put8(im, '\n');
	}
}

static int
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (f == NULL)
		return -1;
	rc = fwrite(p, 1, n, f) == n ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* The whole file, malloc'd, or NULL. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, r;

	*len = 0;
	if (f == NULL)
		return NULL;
	for (;;) {
		if (*len == cap) {
			unsigned char *nb = realloc(buf, cap ? cap * 2 : 4096);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		r = fread(buf + *len, 1, cap - *len, f);
		if (r == 0)
			break;
		*len += r;
	}
	fclose(f);
	return buf;
}

/*-----------------------------------------------------------------------------
 * Parsing
 */

static void
test_parse_ok(void)
{
	static const struct {
		const char *text;
		unsigned days, start, end;
	} cases[] = {
		{ "Asia/Shanghai Mon-Fri 09:00-18:00", 0x1f, 540, 1080 },
		{ "UTC Sat,Sun 08:00-20:00", 0x60, 480, 1200 },
		{ "Europe/Berlin * 22:00-06:00", 0x7f, 1320, 360 },
		{ "UTC Sat-Mon 10:00-12:00", 0x61, 600, 720 },
		{ "UTC Mon,Wed,Fri-Sun 00:00-24:00", 0x75, 0, 1440 },
		{ "UTC Sun-Sat 09:00-09:00", 0x7f, 540, 540 },
		{ "UTC Tue-Tue 23:59-00:00", 0x02, 1439, 0 },
		{ "UTC mon-FRI 09:00-17:30", 0x1f, 540, 1050 },
		{ "UTC Mon,Mon,Mon-Tue 01:00-02:00", 0x03, 60, 120 },
		{ "America/New_York Mon 09:00-17:00", 0x01, 540, 1020 },
		{ "Asia/Kolkata Fri 09:30-18:00", 0x10, 570, 1080 },
		{ "Etc/GMT+5 Thu 00:00-00:01", 0x08, 0, 1 },
		{ "America/Argentina/Buenos_Aires Wed 08:00-16:00", 0x04,
		  480, 960 },
	};
	struct vg_shift s;
	const char *why;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = "unset";
		rc = vg_shift_parse(cases[i].text, &s, &why);
		is_int(rc, 0, "parse \"%s\"", cases[i].text);
		ok(why == NULL, "  no reason on success");
		ok(s.tz != NULL && s.days == cases[i].days &&
		    s.start == cases[i].start && s.end == cases[i].end,
		    "  days %#x, %u-%u", cases[i].days, cases[i].start,
		    cases[i].end);
	}
	rc = vg_shift_parse("UTC * 09:00-10:00", &s, NULL);
	is_int(rc, 0, "why may be NULL");
	ok(vg_tz_offset(s.tz, 1717376400) == 0, "UTC is built in");
}

static void
test_parse_errors(void)
{
	static const char *const long_text = "Asia/Shanghai Mon-Fri-Mon-Fri-"
	    "Mon-Fri-Mon-Fri-Mon-Fri-Mo 09:00-18:00";
	static const char *const long_zone = "Aaaaaaaaaa/Bbbbbbbbbb/"
	    "Cccccccccc/Dddddddddd/Eeee Mon 09:00-10:00";
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "", "shift is empty" },
		{ "UTC Mon-Fri\t09:00-18:00", "shift has a character that "
		  "is not printable ASCII" },
		{ "UTC Mon 09:00-18:00\x7f", "shift has a character that is "
		  "not printable ASCII" },
		{ "Europe/Z\xc3\xbcrich Mon 09:00-18:00", "shift has a "
		  "character that is not printable ASCII" },
		{ "always", "shift is \"TZ DAYS HH:MM-HH:MM\", one space "
		  "apart" },
		{ "UTC Mon-Fri", "shift is \"TZ DAYS HH:MM-HH:MM\", one "
		  "space apart" },
		{ "UTC  Mon 09:00-10:00", "shift is \"TZ DAYS HH:MM-HH:MM\", "
		  "one space apart" },
		{ " UTC Mon 09:00-10:00", "shift is \"TZ DAYS HH:MM-HH:MM\", "
		  "one space apart" },
		{ "UTC Mon 09:00-10:00 ", "shift is \"TZ DAYS HH:MM-HH:MM\", "
		  "one space apart" },
		{ "UTC Mon 09:00 - 10:00", "shift is \"TZ DAYS HH:MM-HH:MM\", "
		  "one space apart" },
		{ "UTC Mon ", "shift is \"TZ DAYS HH:MM-HH:MM\", one space "
		  "apart" },
		{ "../../etc/passwd Mon 09:00-10:00", "bad time zone name" },
		{ "/etc/passwd Mon 09:00-10:00", "bad time zone name" },
		{ "Europe/../../../etc/passwd Mon 09:00-10:00",
		  "bad time zone name" },
		{ "Europe/.. Mon 09:00-10:00", "bad time zone name" },
		{ ".hidden Mon 09:00-10:00", "bad time zone name" },
		{ "Europe//Berlin Mon 09:00-10:00", "bad time zone name" },
		{ "Europe/Berlin/ Mon 09:00-10:00", "bad time zone name" },
		{ "Europe/Berl%n Mon 09:00-10:00", "bad time zone name" },
		{ "Europe\\Berlin Mon 09:00-10:00", "bad time zone name" },
		{ "Europe/Berlin,x Mon 09:00-10:00", "bad time zone name" },
		{ "Mars/Olympus_Mons Mon 09:00-10:00", "unknown time zone" },
		{ "Europe Mon 09:00-10:00", "unknown time zone" },
		{ "utc Mon 09:00-10:00", "unknown time zone" },
		{ "iso3166.tab Mon 09:00-10:00", "malformed time zone file" },
		{ "UTC Mon-Fry 09:00-18:00", "bad day list: *, Mon..Sun, "
		  "ranges (Mon-Fri), commas" },
		{ "UTC Monday 09:00-18:00", "bad day list: *, Mon..Sun, "
		  "ranges (Mon-Fri), commas" },
		{ "UTC Mon,,Tue 09:00-18:00", "bad day list: *, Mon..Sun, "
		  "ranges (Mon-Fri), commas" },
		{ "UTC Mon, 09:00-18:00", "bad day list: *, Mon..Sun, "
		  "ranges (Mon-Fri), commas" },
		{ "UTC Mon,Tue, 09:00-18:00", "bad day list: *, Mon..Sun, "
		  "ranges (Mon-Fri), commas" },
		{ "UTC ,Mon 09:00-18:00", "bad day list: *, Mon..Sun, "
		  "ranges (Mon-Fri), commas" },
		{ "UTC Mon- 09:00-18:00", "bad day list: *, Mon..Sun, "
		  "ranges (Mon-Fri), commas" },
		{ "UTC -Fri 09:00-18:00", "bad day list: *, Mon..Sun, "
		  "ranges (Mon-Fri), commas" },
		{ "UTC Mon-Tue-Wed 09:00-18:00", "bad day list: *, Mon..Sun, "
		  "ranges (Mon-Fri), commas" },
		{ "UTC *,Mon 09:00-18:00", "bad day list: *, Mon..Sun, "
		  "ranges (Mon-Fri), commas" },
		{ "UTC ** 09:00-18:00", "bad day list: *, Mon..Sun, "
		  "ranges (Mon-Fri), commas" },
		{ "UTC 1-5 09:00-18:00", "bad day list: *, Mon..Sun, "
		  "ranges (Mon-Fri), commas" },
		{ "UTC Mon 9:00-18:00", "bad time range: HH:MM-HH:MM" },
		{ "UTC Mon 09:00_18:00", "bad time range: HH:MM-HH:MM" },
		{ "UTC Mon 09:00-18:000", "bad time range: HH:MM-HH:MM" },
		{ "UTC Mon 0900-1800", "bad time range: HH:MM-HH:MM" },
		{ "UTC Mon 24:00-18:00", "bad start time: 00:00 to 23:59" },
		{ "UTC Mon 25:00-18:00", "bad start time: 00:00 to 23:59" },
		{ "UTC Mon 09:60-18:00", "bad start time: 00:00 to 23:59" },
		{ "UTC Mon ab:cd-18:00", "bad start time: 00:00 to 23:59" },
		{ "UTC Mon 09.00-18:00", "bad start time: 00:00 to 23:59" },
		{ "UTC Mon 09:00-24:01", "bad end time: 00:00 to 24:00" },
		{ "UTC Mon 09:00-25:00", "bad end time: 00:00 to 24:00" },
		{ "UTC Mon 09:00-18:60", "bad end time: 00:00 to 24:00" },
		{ "UTC Mon 09:00-+8:00", "bad end time: 00:00 to 24:00" },
	};
	struct vg_shift s;
	const char *why;
	size_t i;
	int rc;

	rc = vg_shift_parse(NULL, &s, &why);
	ok(rc == VG_EINVAL && why != NULL &&
	    strcmp(why, "shift is empty") == 0, "NULL: shift is empty");
	rc = vg_shift_parse(long_text, &s, &why);
	ok(rc == VG_EINVAL && why != NULL &&
	    strcmp(why, "shift is longer than 64 bytes") == 0,
	    "65 bytes: shift is longer than 64 bytes");
	rc = vg_shift_parse(long_zone, &s, &why);
	ok(rc == VG_EINVAL && why != NULL &&
	    strcmp(why, "unknown time zone") == 0,
	    "a 48-byte zone name (the longest a shift holds) is looked up");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&s, 0xaa, sizeof(s));
		why = NULL;
		rc = vg_shift_parse(cases[i].text, &s, &why);
		is_int(rc, VG_EINVAL, "refuse \"%s\"", cases[i].text);
		is_str(why, cases[i].why, "  because: %s", cases[i].why);
		ok(s.tz == NULL && s.days == 0, "  and *out is cleared");
	}
}

/*-----------------------------------------------------------------------------
 * Offsets at exact instants
 */

static void
test_offsets(void)
{
	const struct vg_tz *be = zone("Europe/Berlin");
	const struct vg_tz *ny = zone("America/New_York");
	const struct vg_tz *sh = zone("Asia/Shanghai");
	const struct vg_tz *ko = zone("Asia/Kolkata");
	const struct vg_tz *sy = zone("Australia/Sydney");
	const struct vg_tz *nu = zone("America/Nuuk");

	if (be == NULL || ny == NULL || sh == NULL || ko == NULL ||
	    sy == NULL || nu == NULL) {
		ok(0, "system zones load (is tzdata installed?)");
		return;
	}
	ok(zone("Europe/Berlin") == be, "a zone is loaded once and shared");

	/* Table transitions. */
	change_at(be, "Berlin 2024-03-31 01:00Z", 1711846800, 3600, 7200);
	change_at(be, "Berlin 2024-10-27 01:00Z", 1729990800, 7200, 3600);
	change_at(ny, "New York 2024-03-10 07:00Z", 1710054000, -18000,
	    -14400);
	change_at(ny, "New York 2024-11-03 06:00Z", 1730613600, -14400,
	    -18000);
	change_at(sy, "Sydney 2024-04-06 16:00Z", 1712419200, 39600, 36000);
	change_at(sy, "Sydney 2024-10-05 16:00Z", 1728144000, 36000, 39600);
	change_at(sh, "Shanghai 1988-04-16 18:00Z", 577216800, 28800, 32400);
	change_at(sh, "Shanghai 1988-09-10 17:00Z", 589914000, 32400, 28800);
	is_int(vg_tz_offset(sh, 1717376400), 28800, "Shanghai 2024: +08:00");
	is_int(vg_tz_offset(ko, 1717376400), 19800, "Kolkata 2024: +05:30");
	is_int(vg_tz_offset(ko, 4109878800), 19800, "Kolkata 2100: +05:30");

	/* Past the last transition: the footer rule. */
	change_at(be, "Berlin 2040-03-25 01:00Z (footer)", 2216250000, 3600,
	    7200);
	change_at(be, "Berlin 2040-10-28 01:00Z (footer)", 2234998800, 7200,
	    3600);
	change_at(be, "Berlin 2100-03-28 01:00Z (footer)", 4109878800, 3600,
	    7200);
	change_at(be, "Berlin 2100-10-31 01:00Z (footer)", 4128627600, 7200,
	    3600);
	change_at(ny, "New York 2060-03-14 07:00Z (footer)", 2846473200,
	    -18000, -14400);
	change_at(ny, "New York 2060-11-07 06:00Z (footer)", 2867032800,
	    -14400, -18000);
	change_at(sy, "Sydney 2050-04-02 16:00Z (footer)", 2532528000, 39600,
	    36000);
	change_at(sy, "Sydney 2050-10-01 16:00Z (footer)", 2548252800, 36000,
	    39600);
	change_at(nu, "Nuuk 2040-03-25 01:00Z (M3.5.0/-1)", 2216250000,
	    -7200, -3600);
	change_at(nu, "Nuuk 2040-10-28 01:00Z (M10.5.0/0)", 2234998800,
	    -3600, -7200);

	/* Extremes do not overflow. */
	ok(vg_tz_offset(be, INT64_MAX) == 3600 ||
	    vg_tz_offset(be, INT64_MAX) == 7200, "INT64_MAX is handled");
	ok(vg_tz_offset(be, INT64_MIN) > 0 &&
	    vg_tz_offset(be, INT64_MIN) < 7200, "INT64_MIN is handled");
	is_int(vg_tz_offset(NULL, 1717376400), 0, "a NULL zone is UTC");
}

/*-----------------------------------------------------------------------------
 * POSIX TZ rules
 */

static struct vg_tz *
rule(const char *text)
{
	struct vg_tz *tz = NULL;
	const char *why = NULL;

	if (vg_tz_new_rule(text, &tz, &why) != 0)
		printf("# rule %s: %s\n", text, why ? why : "?");
	return tz;
}

static void
test_rules(void)
{
	static const char *const bad[] = {
		"", "C-8", "CST", "CST-25", "CST-8:60", "CST-8:00:60", "8",
		"CST-8x", "<AB>-8", "<ABC-8", "<A?C>-8",
		"CST-8CDT,M13.1.0,M11.1.0", "CST-8CDT,M3.6.0,M11.1.0",
		"CST-8CDT,M3.0.0,M11.1.0", "CST-8CDT,M3.1.7,M11.1.0",
		"CST-8CDT,J0,J365", "CST-8CDT,J366,J1", "CST-8CDT,366,1",
		"CST-8CDT,M3.2.0", "CST-8CDT,M3.2.0,", "CST-8CDT,",
		"CST-8CDT,M3.2.0,M11.1.0/168", "CST-8CDT,M3.2.0,M11.1.0x",
		"CST-8CDT,M3.2.0/,M11.1.0", "CST-8CDT,M3.2,M11.1.0",
		"CST-8CDT-25,M3.2.0,M11.1.0", "CST-99999999999999999999",
	};
	struct vg_tz *tz;
	const char *why;
	size_t i;
	int rc;

	tz = rule("CST-8");
	is_int(vg_tz_offset(tz, 1717376400), 28800, "CST-8 is +08:00");
	vg_tz_free(tz);
	tz = rule("IST-5:30");
	is_int(vg_tz_offset(tz, 0), 19800, "IST-5:30 is +05:30");
	vg_tz_free(tz);
	tz = rule("<+0530>-5:30");
	is_int(vg_tz_offset(tz, 0), 19800, "<+0530>-5:30 is +05:30");
	vg_tz_free(tz);
	tz = rule("<-03>3");
	is_int(vg_tz_offset(tz, 0), -10800, "<-03>3 is -03:00");
	vg_tz_free(tz);
	tz = rule("XXX-1:02:03");
	is_int(vg_tz_offset(tz, 0), 3723, "seconds in an offset");
	vg_tz_free(tz);

	tz = rule("CET-1CEST,M3.5.0,M10.5.0/3");
	change_at(tz, "CET rule 2024 spring", 1711846800, 3600, 7200);
	change_at(tz, "CET rule 2024 autumn", 1729990800, 7200, 3600);
	change_at(tz, "CET rule 2100 spring", 4109878800, 3600, 7200);
	vg_tz_free(tz);
	tz = rule("EST5EDT");
	change_at(tz, "EST5EDT, default dates, spring", 1710054000, -18000,
	    -14400);
	change_at(tz, "EST5EDT, default dates, autumn", 1730613600, -14400,
	    -18000);
	vg_tz_free(tz);
	tz = rule("AEST-10AEDT,M10.1.0,M4.1.0/3");
	change_at(tz, "southern rule, April", 1712419200, 39600, 36000);
	change_at(tz, "southern rule, October", 1728144000, 36000, 39600);
	is_int(vg_tz_offset(tz, 1704067200), 39600,
	    "southern rule: daylight time on 1 January");
	vg_tz_free(tz);
	tz = rule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
	change_at(tz, "negative rule time", 2216250000, -7200, -3600);
	vg_tz_free(tz);
	tz = rule("AAA0BBB,J60/0,J300/0");
	change_at(tz, "J60 is 1 March in a leap year", 1709251200, 0, 3600);
	change_at(tz, "J60 is 1 March in a common year", 1677628800, 0,
	    3600);
	vg_tz_free(tz);
	tz = rule("AAA0BBB,59/0,300/0");
	change_at(tz, "n=59 is 29 February in a leap year", 1709164800, 0,
	    3600);
	change_at(tz, "n=59 is 1 March in a common year", 1677628800, 0,
	    3600);
	vg_tz_free(tz);
	tz = rule("EST5EDT4,0/0,J365/25");
	ok(vg_tz_offset(tz, 1704067200) == -14400 &&
	    vg_tz_offset(tz, 1704085199) == -14400 &&
	    vg_tz_offset(tz, 1704085200) == -14400 &&
	    vg_tz_offset(tz, 1719792000) == -14400 &&
	    vg_tz_offset(tz, 1735689599) == -14400 &&
	    vg_tz_offset(tz, 1735707600) == -14400,
	    "EST5EDT4,0/0,J365/25 is daylight time all year");
	vg_tz_free(tz);
	tz = rule("AAA0BBB-2,M3.5.0/167,M10.5.0/-167");
	ok(tz != NULL, "rule times of +-167 hours are accepted");
	vg_tz_free(tz);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tz = NULL;
		why = NULL;
		rc = vg_tz_new_rule(bad[i], &tz, &why);
		ok(rc == VG_EINVAL && tz == NULL && why != NULL &&
		    strcmp(why, "bad TZ rule") == 0, "rule \"%s\" is refused",
		    bad[i]);
	}
	rc = vg_tz_new_rule(NULL, &tz, NULL);
	is_int(rc, VG_EINVAL, "a NULL rule is refused");
	vg_tz_free(NULL);
}

/*-----------------------------------------------------------------------------
 * TZif images
 */

static void
test_tzif(void)
{
	static const int64_t tt[] = { 1000, 2000, 3000 };
	static const uint8_t ti[] = { 1, 0, 1 };
	static const int32_t offs[] = { 3600, 7200 };
	struct zspec z = { '2', 3, tt, ti, 2, offs, 0, "" };
	struct img im, bad;
	struct vg_tz *tz;
	const char *why;
	size_t cut;
	int rc, all;

	build(&im, &z);
	rc = vg_tz_new_tzif(im.b, im.n, &tz, &why);
	is_int(rc, 0, "a v2 image with an empty footer");
	if (rc == 0) {
		ok(vg_tz_offset(tz, 999) == 3600 &&
		    vg_tz_offset(tz, -5000000000LL) == 3600,
		    "before the first transition: type 0");
		ok(vg_tz_offset(tz, 1000) == 7200 &&
		    vg_tz_offset(tz, 1999) == 7200 &&
		    vg_tz_offset(tz, 2000) == 3600 &&
		    vg_tz_offset(tz, 2999) == 3600,
		    "between transitions: their types");
		ok(vg_tz_offset(tz, 3000) == 7200 &&
		    vg_tz_offset(tz, 5000000000LL) == 7200,
		    "after the last, no footer: the last type");
		vg_tz_free(tz);
	}

	/* Every truncation fails. */
	all = 1;
	for (cut = 0; cut < im.n; cut++) {
		tz = NULL;
		rc = vg_tz_new_tzif(im.b, cut, &tz, NULL);
		if (rc != VG_EINVAL || tz != NULL) {
			printf("# a cut at %zu bytes: %d\n", cut, rc);
			all = 0;
		}
	}
	ok(all, "every truncation of it is refused (%zu)", im.n);

	z.version = 0;
	build(&im, &z);
	rc = vg_tz_new_tzif(im.b, im.n, &tz, &why);
	is_int(rc, 0, "a v1 image");
	if (rc == 0) {
		ok(vg_tz_offset(tz, 1500) == 7200 &&
		    vg_tz_offset(tz, 2500) == 3600 &&
		    vg_tz_offset(tz, 4000) == 7200, "v1 offsets");
		vg_tz_free(tz);
	}

	/* Footer only, as a slim file of a zone with rules. */
	z.version = '3';
	z.nt = 0;
	z.ntypes = 1;
	z.footer = "CET-1CEST,M3.5.0,M10.5.0/3";
	build(&im, &z);
	rc = vg_tz_new_tzif(im.b, im.n, &tz, &why);
	is_int(rc, 0, "a v3 image with no transitions and a footer");
	if (rc == 0) {
		change_at(tz, "footer only, 2024 spring", 1711846800, 3600,
		    7200);
		change_at(tz, "footer only, 1980 autumn", 341370000, 7200,
		    3600);
		vg_tz_free(tz);
	}
	/* Transitions, then the footer. */
	z.nt = 3;
	z.ntypes = 2;
	z.footer = "CST-8";
	build(&im, &z);
	rc = vg_tz_new_tzif(im.b, im.n, &tz, &why);
	ok(rc == 0 && vg_tz_offset(tz, 2500) == 3600 &&
	    vg_tz_offset(tz, 3000) == 28800, "after the last: the footer");
	vg_tz_free(tz);

	/* Malformations. */
	z.footer = "";
	build(&im, &z);
#define REFUSE(what, want) do {						\
	tz = NULL;							\
	why = NULL;							\
	rc = vg_tz_new_tzif(bad.b, bad.n, &tz, &why);			\
	ok(rc == VG_EINVAL && tz == NULL, "refuse: %s", what);		\
	is_str(why, want, "  because: %s", want);			\
} while (0)
	bad = im;
	bad.b[0] = 'X';
	REFUSE("bad magic", "not a TZif file");
	bad = im;
	bad.b[4] = 'x';
	REFUSE("bad version", "not a TZif file");
	bad = im;
	bad.b[44 + 7 + 4] = '1';
	REFUSE("a v2 file whose second header says v1",
	    "truncated or bad TZif v2 header");
	bad = im;
	bad.n = 44 + 7 + 44 + 10;
	REFUSE("a short v2 block", "truncated TZif data");
	bad = im;
	bad.b[bad.n++] = 'x';
	REFUSE("bytes after the footer", "bad TZif footer");
	bad = im;
	bad.b[bad.n - 1] = 'x';
	REFUSE("footer without its last newline", "bad TZif footer");
	bad = im;
	bad.b[44 + 7 + 44 + 8 + 6] = 0;	/* second time < first */
	REFUSE("transitions out of order", "TZif transitions out of order");
	bad = im;
	bad.b[44 + 7 + 44 + 24] = 2;		/* idx 2 of 2 types */
	REFUSE("a transition to no such type",
	    "TZif transition to no such type");
	bad = im;
	bad.b[44 + 7 + 44 + 24 + 3 + 4] = 2;	/* isdst 2 */
	REFUSE("isdst 2", "bad TZif time type");
	bad = im;
	bad.b[44 + 7 + 44 + 24 + 3 + 5] = 4;	/* abbreviation past chars */
	REFUSE("an abbreviation index past the characters",
	    "bad TZif time type");
	bad = im;
	bad.b[44 + 7 + 44 + 24 + 3] = 0x7f;	/* offset ~ +68 years */
	REFUSE("an offset past +25:59:59", "bad TZif time type");
	z.footer = "CST-8CDT,M13.1.0,M1.1.0";
	build(&bad, &z);
	REFUSE("a bad footer rule", "bad TZ rule in TZif footer");
	z.footer = "";
	z.leap = 1;
	build(&bad, &z);
	REFUSE("leap seconds", "time zone has leap seconds");
	z.leap = 0;
	z.ntypes = 0;
	z.nt = 0;
	build(&bad, &z);
	REFUSE("no time types", "bad TZif counts");
#undef REFUSE
	rc = vg_tz_new_tzif(NULL, 0, &tz, &why);
	is_int(rc, VG_EINVAL, "a NULL image is refused");
}

/*-----------------------------------------------------------------------------
 * Shift windows
 */

static int
in(const char *text, int64_t t)
{
	struct vg_shift s;
	const char *why = NULL;

	if (vg_shift_parse(text, &s, &why) != 0) {
		printf("# %s: %s\n", text, why ? why : "?");
		return -1;
	}
	return vg_shift_contains(&s, t);
}

static void
test_contains(void)
{
	static const char *days[7] = { "Sat", "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri" };
	const char *sh = "Asia/Shanghai Mon-Fri 09:00-18:00";
	const char *night = "Europe/Berlin * 22:00-06:00";
	const char *fri = "Europe/Berlin Fri 22:00-06:00";
	const char *wrap = "UTC Sat-Mon 10:00-12:00";
	int64_t t;
	int i, want;

	/* Shanghai office hours; Monday 3 June 2024, 09:00 is 01:00Z. */
	is_int(in(sh, 1717376400 - 1), 0, "Shanghai 08:59:59 Monday: out");
	is_int(in(sh, 1717376400), 1, "Shanghai 09:00 Monday: in");
	is_int(in(sh, 1717376400 + 9 * 3600 - 1), 1,
	    "Shanghai 17:59:59 Monday: in");
	is_int(in(sh, 1717376400 + 9 * 3600), 0, "Shanghai 18:00 Monday: out");
	is_int(in(sh, 1717812000), 0, "Shanghai 10:00 Saturday: out");
	is_int(in("Asia/Kolkata Mon 09:30-18:00", 1717387200), 1,
	    "Kolkata 09:30 Monday (04:00Z): in");
	is_int(in("Asia/Kolkata Mon 09:30-18:00", 1717387200 - 1), 0,
	    "Kolkata 09:29:59 Monday: out");

	/* Overnight in Berlin across the spring change: Saturday 30 March
	 * 2024 22:00 CET (21:00Z) to Sunday 06:00 CEST (04:00Z). */
	is_int(in(night, 1711832400 - 1), 0, "Berlin night: 21:59:59 out");
	is_int(in(night, 1711832400), 1, "Berlin night: 22:00 CET in");
	is_int(in(night, 1711846800 - 1), 1, "Berlin night: 01:59:59 CET in");
	is_int(in(night, 1711846800), 1, "Berlin night: 03:00 CEST in");
	is_int(in(night, 1711857600 - 1), 1,
	    "Berlin night: 05:59:59 CEST in (7 h shift that night)");
	is_int(in(night, 1711857600), 0, "Berlin night: 06:00 CEST out");
	/* And across the autumn change: Saturday 26 October 22:00 CEST
	 * (20:00Z) to Sunday 06:00 CET (05:00Z), 9 hours. */
	is_int(in(night, 1729972800), 1, "Berlin autumn night: 22:00 in");
	is_int(in(night, 1729990800 - 1), 1,
	    "Berlin autumn night: 02:59:59 CEST in");
	is_int(in(night, 1729990800), 1,
	    "Berlin autumn night: 02:00 CET (again) in");
	is_int(in(night, 1730005200 - 1), 1,
	    "Berlin autumn night: 05:59:59 CET in");
	is_int(in(night, 1730005200), 0, "Berlin autumn night: 06:00 out");

	/* An overnight shift belongs to the day it starts. */
	is_int(in(fri, 1717790400), 1, "Fri 22:00-06:00: Friday 22:00 in");
	is_int(in(fri, 1717808400), 1, "Fri 22:00-06:00: Saturday 03:00 in");
	is_int(in(fri, 1717819200 - 1), 1,
	    "Fri 22:00-06:00: Saturday 05:59:59 in");
	is_int(in(fri, 1717819200), 0, "Fri 22:00-06:00: Saturday 06:00 out");
	is_int(in(fri, 1717722000), 0,
	    "Fri 22:00-06:00: Friday 03:00 out (Thursday's shift)");
	is_int(in(fri, 1717878600), 0, "Fri 22:00-06:00: Saturday 22:30 out");

	/* Sat-Mon wraps; 1 June 2024 was a Saturday, 11:00Z each day. */
	for (i = 0; i < 7; i++) {
		t = 1717239600 + (int64_t)i * 86400;
		want = i <= 2;
		is_int(in(wrap, t), want, "Sat-Mon 10:00-12:00: %s 11:00 %s",
		    days[i], want ? "in" : "out");
	}
	is_int(in(wrap, 1717239600 + 3600), 0, "Sat-Mon: Saturday 12:00 out");
	is_int(in("UTC Mon,Wed,Fri-Sun 10:00-12:00", 1717239600 + 3 * 86400),
	    0, "Mon,Wed,Fri-Sun: Tuesday out");
	is_int(in("UTC Mon,Wed,Fri-Sun 10:00-12:00", 1717239600 + 4 * 86400),
	    1, "Mon,Wed,Fri-Sun: Wednesday in");

	/* 24-hour shifts. */
	want = 1;
	for (t = 1717239600; t < 1717239600 + 8 * 86400; t += 1800)
		want &= in("UTC * 09:00-09:00", t) == 1 &&
		    in("UTC * 00:00-24:00", t) == 1;
	ok(want, "09:00-09:00 and 00:00-24:00 every day: always in");
	is_int(in("UTC Mon 09:00-09:00", 1717412400), 1,
	    "Mon 09:00-09:00: Monday 11:00 in");
	is_int(in("UTC Mon 09:00-09:00", 1717412400 + 22 * 3600 - 1), 1,
	    "Mon 09:00-09:00: Tuesday 08:59:59 in");
	is_int(in("UTC Mon 09:00-09:00", 1717412400 + 22 * 3600), 0,
	    "Mon 09:00-09:00: Tuesday 09:00 out");
	is_int(in("UTC Sun 23:00-24:00", 1717326000 + 12 * 3600), 1,
	    "Sun 23:00-24:00: 23:00 in");
	is_int(in("UTC Sun 23:00-24:00", 1717326000 + 13 * 3600), 0,
	    "Sun 23:00-24:00: Monday 00:00 out");

	/* Footer years. */
	is_int(in("America/New_York Mon-Fri 09:00-17:00", 2856258000), 1,
	    "New York Monday 5 July 2060 09:00 EDT: in");
	is_int(in("America/New_York Mon-Fri 09:00-17:00", 2856258000 - 1), 0,
	    "New York 08:59:59 EDT: out");
	is_int(in("America/New_York Mon-Fri 09:00-17:00", 2856286800), 0,
	    "New York 17:00 EDT: out");
	is_int(in("Europe/Berlin Mon 09:00-10:00", 2224825200), 1,
	    "Berlin Monday 2 July 2040 09:00 CEST: in");
	ok(vg_shift_contains(NULL, 0) == 0, "a NULL shift contains nothing");
}

/*-----------------------------------------------------------------------------
 * A zone directory of our own
 */

static void
test_tzdir(void)
{
	static const int64_t tt[] = { 0 };
	static const uint8_t ti[] = { 0 };
	static const int32_t offs[] = { 7200 };
	struct zspec z = { '2', 1, tt, ti, 1, offs, 0, "" };
	char dir[PATH_MAX + 16], p[PATH_MAX + 64], longdir[PATH_MAX + 100];
	struct img im;
	struct vg_shift s;
	const char *why;
	int rc;

	snprintf(dir, sizeof(dir), "%s/zi", root);
	snprintf(p, sizeof(p), "%s/Test", dir);
	if (mkdir(dir, 0700) != 0 || mkdir(p, 0700) != 0) {
		ok(0, "make a zone directory");
		return;
	}
	build(&im, &z);
	snprintf(p, sizeof(p), "%s/Test/Plus2", dir);
	(void)write_file(p, im.b, im.n);
	snprintf(p, sizeof(p), "%s/Test/Garbage", dir);
	(void)write_file(p, "hello, world\n", 13);
	z.leap = 1;
	build(&im, &z);
	snprintf(p, sizeof(p), "%s/Test/Leap", dir);
	(void)write_file(p, im.b, im.n);
	snprintf(p, sizeof(p), "%s/Test/Fifo", dir);
	(void)mkfifo(p, 0600);
	snprintf(p, sizeof(p), "%s/Test/Escape", dir);
	(void)symlink("/etc/hostname", p);
	snprintf(p, sizeof(p), "%s/Test/Locked", dir);
	(void)write_file(p, "TZif", 4);
	(void)chmod(p, 0);

	setenv("TZDIR", dir, 1);
	rc = vg_shift_parse("Test/Plus2 * 09:00-10:00", &s, &why);
	ok(rc == 0 && vg_tz_offset(s.tz, 100) == 7200,
	    "$TZDIR is where zones are read");
	rc = vg_shift_parse("Test/Garbage * 09:00-10:00", &s, &why);
	ok(rc == VG_EINVAL && why != NULL &&
	    strcmp(why, "malformed time zone file") == 0,
	    "a file that is not TZif: malformed time zone file");
	rc = vg_shift_parse("Test/Leap * 09:00-10:00", &s, &why);
	ok(rc == VG_EINVAL && why != NULL &&
	    strcmp(why, "time zone has leap seconds") == 0,
	    "a zone with leap seconds is refused");
	rc = vg_shift_parse("Test/Fifo * 09:00-10:00", &s, &why);
	ok(rc == VG_EINVAL && why != NULL &&
	    strcmp(why, "unknown time zone") == 0,
	    "a FIFO is not read (and does not hang)");
	rc = vg_shift_parse("Test * 09:00-10:00", &s, &why);
	ok(rc == VG_EINVAL && why != NULL &&
	    strcmp(why, "unknown time zone") == 0,
	    "a directory is an unknown time zone");
	rc = vg_shift_parse("Test/Escape * 09:00-10:00", &s, &why);
	ok(rc == VG_EINVAL && why != NULL && (strcmp(why,
	    "malformed time zone file") == 0 || strcmp(why,
	    "unknown time zone") == 0),
	    "a link placed in the directory to a non-zone file is refused");
	if (geteuid() != 0) {
		rc = vg_shift_parse("Test/Locked * 09:00-10:00", &s, &why);
		ok(rc == VG_EINVAL && why != NULL &&
		    strcmp(why, "cannot read time zone file") == 0,
		    "an unreadable file: cannot read time zone file");
	} else
		ok(1, "# SKIP running as root: mode 0 files are readable");
	rc = vg_shift_parse("Europe/Madrid * 09:00-10:00", &s, &why);
	ok(rc == VG_EINVAL && why != NULL &&
	    strcmp(why, "unknown time zone") == 0,
	    "system zones are not read when $TZDIR points elsewhere");
	rc = vg_shift_parse("Europe/Berlin * 09:00-10:00", &s, &why);
	is_int(rc, 0, "a cached zone still is");
	rc = vg_shift_parse("UTC * 09:00-10:00", &s, &why);
	is_int(rc, 0, "UTC needs no file");
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	setenv("TZDIR", longdir, 1);
	rc = vg_shift_parse("Test/Other * 09:00-10:00", &s, &why);
	ok(rc == VG_EINVAL && why != NULL &&
	    strcmp(why, "time zone directory path too long") == 0,
	    "a $TZDIR past PATH_MAX is refused");
	unsetenv("TZDIR");
	snprintf(p, sizeof(p), "%s/Test/Locked", dir);
	(void)chmod(p, 0600);
}

/*-----------------------------------------------------------------------------
 * The C library as an oracle, over every zone file
 */

struct sweep {
	long zones, instants, bad, skipped;
};

static struct sweep sw;

static int32_t
libc_offset(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return INT32_MIN;
	return (int32_t)tm.tm_gmtoff;
}

static void
sweep_check(const char *path, const struct vg_tz *tz, int64_t t)
{
	int32_t want = libc_offset(t), got = vg_tz_offset(tz, t);

	sw.instants++;
	if (want != got) {
		if (sw.bad < 10)
			printf("# %s at %lld: libc %d, vigil %d\n", path,
			    (long long)t, (int)want, (int)got);
		sw.bad++;
	}
}

static int
sweep_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	/* 1901-12-14 (the 32-bit limit, before which libc and RFC 8536
	 * may pick different types) to 2200, every 23 days. */
	const int64_t from = -2147483647LL, to = 7258118400LL;
	const int64_t step = 23 * 86400 + 3607;
	unsigned char *buf;
	struct vg_tz *tz = NULL;
	char env[PATH_MAX + 2];
	const char *why = NULL;
	size_t len;
	int64_t t, lo, hi, mid;
	int32_t prev, cur;

	(void)sb;
	if (flag != FTW_F || strstr(path + ftw->base, ".") != NULL ||
	    strstr(path, "/right/") != NULL ||
	    strstr(path, "/posix/") != NULL)
		return 0;
	buf = slurp(path, &len);
	if (buf == NULL || len < 4 || memcmp(buf, "TZif", 4) != 0) {
		free(buf);
		return 0;
	}
	if (vg_tz_new_tzif(buf, len, &tz, &why) != 0) {
		printf("# %s: %s\n", path, why ? why : "?");
		sw.bad++;
		free(buf);
		return 0;
	}
	free(buf);
	snprintf(env, sizeof(env), ":%s", path);
	setenv("TZ", env, 1);
	tzset();
	sw.zones++;
	prev = libc_offset(from);
	sweep_check(path, tz, from);
	for (t = from + step; t < to; t += step) {
		cur = libc_offset(t);
		sweep_check(path, tz, t);
		if (cur != prev) {
			/* Find the change and check both sides of it. */
			lo = t - step;
			hi = t;
			while (hi - lo > 1) {
				mid = lo + (hi - lo) / 2;
				if (libc_offset(mid) == prev)
					lo = mid;
				else
					hi = mid;
			}
			sweep_check(path, tz, lo);
			sweep_check(path, tz, hi);
		}
		prev = cur;
	}
	vg_tz_free(tz);
	return 0;
}

static void
test_oracle(void)
{
	const char *saved = getenv("TZ");

	if (sizeof(time_t) < 8) {
		ok(1, "# SKIP 32-bit time_t");
		return;
	}
	memset(&sw, 0, sizeof(sw));
	(void)nftw(ZONEINFO, sweep_one, 16, FTW_PHYS);
	if (saved == NULL)
		unsetenv("TZ");
	ok(sw.zones >= 300 && sw.bad == 0,
	    "all %ld system zones agree with localtime_r at %ld instants "
	    "(%ld differ)", sw.zones, sw.instants, sw.bad);
}

/*-----------------------------------------------------------------------------
 * The cache: threads and its bound
 */

#define NTHREADS 8

struct th {
	const struct vg_tz *tz[4];
	int fails;
};

static void *
th_main(void *arg)
{
	static const char *const texts[4] = {
		"Europe/Paris Mon 09:00-10:00", "Asia/Tokyo Mon 09:00-10:00",
		"America/Chicago Mon 09:00-10:00",
		"Africa/Cairo Mon 09:00-10:00",
	};
	struct th *th = arg;
	struct vg_shift s;
	int i, k;

	for (i = 0; i < 200; i++) {
		for (k = 0; k < 4; k++) {
			if (vg_shift_parse(texts[k], &s, NULL) != 0) {
				th->fails++;
				continue;
			}
			if (th->tz[k] == NULL)
				th->tz[k] = s.tz;
			else if (th->tz[k] != s.tz)
				th->fails++;
		}
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t tid[NTHREADS];
	struct th th[NTHREADS];
	int i, k, good = 1;

	memset(th, 0, sizeof(th));
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&tid[i], NULL, th_main, &th[i]) != 0)
			good = 0;
	for (i = 0; i < NTHREADS; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < NTHREADS; i++) {
		good &= th[i].fails == 0;
		for (k = 0; k < 4; k++)
			good &= th[i].tz[k] != NULL &&
			    th[i].tz[k] == th[0].tz[k];
	}
	ok(good, "8 threads loading 4 new zones at once see one copy of each");
}

static void
test_bound(void)
{
	static const int32_t offs[] = { 0 };
	struct zspec z = { '2', 0, NULL, NULL, 1, offs, 0, "" };
	char dir[PATH_MAX + 16], p[PATH_MAX + 64], text[64];
	struct img im;
	struct vg_shift s;
	const char *why = NULL;
	int i, rc = 0, loaded = 0;

	snprintf(dir, sizeof(dir), "%s/many", root);
	snprintf(p, sizeof(p), "%s/M", dir);
	if (mkdir(dir, 0700) != 0 || mkdir(p, 0700) != 0) {
		ok(0, "make a zone directory");
		return;
	}
	build(&im, &z);
	for (i = 0; i < VG_TZ_CACHE_MAX + 1; i++) {
		snprintf(p, sizeof(p), "%s/M/z%03d", dir, i);
		(void)write_file(p, im.b, im.n);
	}
	setenv("TZDIR", dir, 1);
	for (i = 0; i < VG_TZ_CACHE_MAX + 1; i++) {
		snprintf(text, sizeof(text), "M/z%03d * 09:00-10:00", i);
		rc = vg_shift_parse(text, &s, &why);
		if (rc != 0)
			break;
		loaded++;
	}
	ok(rc == VG_EINVAL && why != NULL &&
	    strcmp(why, "too many time zones in use") == 0 && loaded > 0 &&
	    loaded < VG_TZ_CACHE_MAX, "after %d more zones the cache is "
	    "full: too many time zones in use", loaded);
	rc = vg_shift_parse("M/z000 * 09:00-10:00", &s, &why);
	is_int(rc, 0, "zones already loaded still parse");
	rc = vg_shift_parse("Europe/Berlin Mon 09:00-10:00", &s, &why);
	is_int(rc, 0, "so does a system zone loaded earlier");
	unsetenv("TZDIR");
}

int
main(void)
{
	unsetenv("TZDIR");
	snprintf(root, sizeof(root), "/tmp/vigil-t-shift.XXXXXX");
	if (mkdtemp(root) == NULL)
		return 1;
	test_parse_ok();
	test_parse_errors();
	test_offsets();
	test_rules();
	test_tzif();
	test_contains();
	test_threads();
	test_tzdir();
	test_oracle();
	test_bound();	/* last: it fills the cache */
	(void)nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
