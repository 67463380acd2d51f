/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Working shifts and the time zones they are read in
 * (include/vigil/shift.h).
 *
 * Zones come from TZif files (RFC 8536), read by this file rather than
 * through localtime_r(): the C library keeps one zone per process, set
 * by TZ and tzset(), which neither threads nor several principals in
 * several zones can share.  Each zone is read once, checked strictly,
 * and kept for the life of the process in a cache of at most
 * VG_TZ_CACHE_MAX zones.  A lookup that hits reads the cache without a
 * lock: entries are written before the count that publishes them
 * (release/acquire), and are never changed or freed afterwards.
 *
 * A zone is its transitions (64-bit times from the v2+ block, or the
 * 32-bit v1 block of an old file), the UT offset of each time type, and
 * the footer's POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"), which
 * gives the offset after the last transition: "slim" zone files have no
 * transitions past today, and no file has any past 2037, so the footer
 * is what makes a shift correct in future summers.  The rule forms are
 * POSIX's (Jn, n, Mm.w.d, default time 02:00, default rules
 * M3.2.0,M11.1.0 as tzcode) with RFC 8536's extension of rule times to
 * -167..167 hours.  Zones with leap seconds ("right/" zones) count
 * seconds differently from unix time, so they are refused.
 *
 * A shift is a day set and a start and end minute.  An instant is in
 * it when its local time (t plus the zone's offset at t) falls in a
 * shift that started today, or in an overnight shift that started
 * yesterday.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil/shift.h"

#define TZ_DEFAULT_DIR	"/usr/share/zoneinfo"
#define TZIF_MAX	(256 * 1024)	/* the largest zone file is ~4 KiB */
#define TZIF_HDR	44
#define T_LIMIT		((int64_t)1 << 48)	/* +-8.9 million years */
#define SECS_DAY	86400
#define OFF_MIN		(-89999)	/* RFC 8536: -24:59:59 */
#define OFF_MAX		93599		/* +25:59:59 */

/* One POSIX rule date: Jn (1..365, Feb 29 never counted), n (0..365,
 * Feb 29 counted) or Mm.w.d; secs is the local time of day it takes
 * effect (may be negative or past 24 h). */
struct rdate {
	char kind;		/* 'J', 'D' (plain n) or 'M' */
	int n, m, w, d;
	int32_t secs;
};

/* A POSIX TZ rule.  Offsets are seconds east of UTC (the rule text
 * counts west, so "CST-8" is +28800). */
struct posix {
	bool has;		/* a rule is present */
	bool has_dst;
	int32_t std_off, dst_off;
	struct rdate start, end;	/* into and out of daylight time */
};

/* Invariant: trans is strictly increasing; idx[i] < ntypes; ntypes is 0
 * only for a zone without a table (built-in UTC, rules). */
struct vg_tz {
	char name[VG_TZ_NAME_MAX + 1];
	bool owned;		/* made by vg_tz_new_*: vg_tz_free frees it */
	uint32_t ntrans, ntypes;
	const int64_t *trans;
	const uint8_t *idx;
	const int32_t *off;
	struct posix rule;
};

static const struct vg_tz tz_utc = { .name = "UTC" };

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct vg_tz *cache[VG_TZ_CACHE_MAX];
static atomic_size_t ncache;

/*-----------------------------------------------------------------------------
 * Calendar arithmetic (proleptic Gregorian, 64-bit; H. Hinnant's
 * days_from_civil and its inverse).
 */

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && (a < 0) != (b < 0))
		q--;
	return q;
}

static int64_t
floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The year of day z (days from 1970-01-01). */
static int64_t
year_of_day(int64_t z)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return yoe + era * 400 + (mp >= 10);
}

static int64_t
clamp_t(int64_t t)
{
	if (t > T_LIMIT)
		return T_LIMIT;
	if (t < -T_LIMIT)
		return -T_LIMIT;
	return t;
}

/*-----------------------------------------------------------------------------
 * POSIX TZ rules
 */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A decimal number in [min, max]; advances *pp. */
static int
get_num(const char **pp, int min, int max, int *out)
{
	const char *p = *pp;
	int v = 0;

	if (!is_digit(*p))
		return -1;
	while (is_digit(*p)) {
		v = v * 10 + (*p - '0');
		if (v > max)
			return -1;
		p++;
	}
	if (v < min)
		return -1;
	*pp = p;
	*out = v;
	return 0;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh, in seconds. */
static int
get_hms(const char **pp, int maxh, int32_t *out)
{
	const char *p = *pp;
	int sign = 1, h, m = 0, s = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (get_num(&p, 0, maxh, &h) != 0)
		return -1;
	if (*p == ':') {
		p++;
		if (get_num(&p, 0, 59, &m) != 0)
			return -1;
		if (*p == ':') {
			p++;
			if (get_num(&p, 0, 59, &s) != 0)
				return -1;
		}
	}
	*pp = p;
	*out = sign * (h * 3600 + m * 60 + s);
	return 0;
}

/* An abbreviation: three or more letters, or <...> of three or more
 * letters, digits, '+' and '-'. */
static int
get_abbr(const char **pp)
{
	const char *p = *pp, *s;

	if (*p == '<') {
		s = ++p;
		while (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-')
			p++;
		if (p - s < 3 || *p != '>')
			return -1;
		p++;
	} else {
		s = p;
		while (is_alpha(*p))
			p++;
		if (p - s < 3)
			return -1;
	}
	*pp = p;
	return 0;
}

static int
get_rdate(const char **pp, struct rdate *r)
{
	const char *p = *pp;

	memset(r, 0, sizeof(*r));
	if (*p == 'J') {
		p++;
		r->kind = 'J';
		if (get_num(&p, 1, 365, &r->n) != 0)
			return -1;
	} else if (is_digit(*p)) {
		r->kind = 'D';
		if (get_num(&p, 0, 365, &r->n) != 0)
			return -1;
	} else if (*p == 'M') {
		p++;
		r->kind = 'M';
		if (get_num(&p, 1, 12, &r->m) != 0 || *p++ != '.' ||
		    get_num(&p, 1, 5, &r->w) != 0 || *p++ != '.' ||
		    get_num(&p, 0, 6, &r->d) != 0)
			return -1;
	} else
		return -1;
	r->secs = 7200;
	if (*p == '/') {
		p++;
		if (get_hms(&p, 167, &r->secs) != 0)
			return -1;
	}
	*pp = p;
	return 0;
}

/* Parses rule text p (NUL-terminated) into *r. */
static int
posix_parse(const char *p, struct posix *r)
{
	int32_t off;

	memset(r, 0, sizeof(*r));
	if (get_abbr(&p) != 0 || get_hms(&p, 24, &off) != 0)
		return -1;
	r->has = true;
	r->std_off = -off;
	r->dst_off = r->std_off;
	if (*p == '\0')
		return 0;
	if (get_abbr(&p) != 0)
		return -1;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if (get_hms(&p, 24, &off) != 0)
			return -1;
		r->dst_off = -off;
	}
	if (*p == '\0') {
		/* No dates: the US rules, as tzcode assumes. */
		p = ",M3.2.0,M11.1.0";
	}
	if (*p++ != ',' || get_rdate(&p, &r->start) != 0 || *p++ != ',' ||
	    get_rdate(&p, &r->end) != 0 || *p != '\0')
		return -1;
	return 0;
}

/* The unix time at which date r of year y takes effect, when the
 * offset in force until then is off_before. */
static int64_t
rdate_time(const struct rdate *r, int64_t y, int32_t off_before)
{
	static const int cum[2][13] = {
		{ 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365 },
		{ 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366 },
	};
	int64_t jan1 = days_from_civil(y, 1, 1), day;
	int leap = is_leap(y), wd1, dom, mdays;

	switch (r->kind) {
	case 'J':
		day = r->n - 1 + (leap && r->n >= 60);
		break;
	case 'D':
		day = r->n;
		break;
	default:	/* 'M' */
		mdays = cum[leap][r->m] - cum[leap][r->m - 1];
		/* Weekday of the month's first day, Sunday 0 (day 0 of
		 * the epoch was a Thursday). */
		wd1 = (int)floor_mod(jan1 + cum[leap][r->m - 1] + 4, 7);
		dom = (r->d - wd1 + 7) % 7 + 7 * (r->w - 1);
		if (dom >= mdays)
			dom -= 7;	/* w = 5: the last such day */
		day = cum[leap][r->m - 1] + dom;
		break;
	}
	return (jan1 + day) * SECS_DAY + r->secs - off_before;
}

/*
 * The rule's offset at t.  The dates of the year around t and of the
 * years either side are laid out, and the latest one at or before t
 * decides, so rules whose times spill into the next or previous year
 * (J365/25, 0/-1) and southern-hemisphere rules (start after end) need
 * no special case.  When a start and an end fall on the same instant
 * daylight time wins: "EST5EDT4,0/0,J365/25" is daylight time all year.
 */
static int32_t
posix_offset(const struct posix *r, int64_t t)
{
	int64_t y, ts, best = 0;
	bool found = false, dst = false;
	int k;

	if (!r->has_dst)
		return r->std_off;
	y = year_of_day(floor_div(t + r->std_off, SECS_DAY));
	for (k = -1; k <= 1; k++) {
		ts = rdate_time(&r->start, y + k, r->std_off);
		if (ts <= t && (!found || ts >= best)) {
			best = ts;
			dst = true;
			found = true;
		}
		ts = rdate_time(&r->end, y + k, r->dst_off);
		if (ts <= t && (!found || ts > best)) {
			best = ts;
			dst = false;
			found = true;
		}
	}
	return dst ? r->dst_off : r->std_off;
}

/*-----------------------------------------------------------------------------
 * TZif
 */

struct tzif_hdr {
	int version;		/* 1, 2, 3, ... */
	uint64_t isut, isstd, leap, time, type, chr;
};

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64s(const unsigned char *p)
{
	uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);

	/* Two's complement without implementation-defined conversion. */
	if (v <= (uint64_t)INT64_MAX)
		return (int64_t)v;
	return -(int64_t)(~v) - 1;
}

static int32_t
be32s(const unsigned char *p)
{
	uint32_t v = be32(p);

	if (v <= (uint32_t)INT32_MAX)
		return (int32_t)v;
	return -(int32_t)(~v) - 1;
}

static int
read_hdr(const unsigned char *b, size_t len, struct tzif_hdr *h)
{
	if (len < TZIF_HDR || memcmp(b, "TZif", 4) != 0)
		return -1;
	if (b[4] == 0)
		h->version = 1;
	else if (b[4] >= '2' && b[4] <= '9')
		h->version = b[4] - '0';
	else
		return -1;
	h->isut = be32(b + 20);
	h->isstd = be32(b + 24);
	h->leap = be32(b + 28);
	h->time = be32(b + 32);
	h->type = be32(b + 36);
	h->chr = be32(b + 40);
	return 0;
}

/* Bytes of the data block after a header, with tsize-byte times.  No
 * overflow: every count is below 2^32. */
static uint64_t
block_len(const struct tzif_hdr *h, uint64_t tsize)
{
	return h->time * tsize + h->time + h->type * 6 + h->chr +
	    h->leap * (tsize + 4) + h->isstd + h->isut;
}

#define WHY_LEAP "time zone has leap seconds"

static int
tzif_parse(const unsigned char *b, size_t len, struct vg_tz **out,
    const char **why)
{
	struct tzif_hdr h;
	const unsigned char *d, *p, *nl;
	struct vg_tz *tz;
	unsigned char *mem;
	int64_t *trans;
	int32_t *off;
	uint8_t *idx;
	uint64_t tsize = 4, skip, bl;
	size_t i, head, need, rest;
	char rule[256];

	*out = NULL;
	if (read_hdr(b, len, &h) != 0) {
		*why = "not a TZif file";
		return VG_EINVAL;
	}
	d = b + TZIF_HDR;
	if (h.version >= 2) {
		/* Skip the v1 block to the 64-bit header and block. */
		skip = TZIF_HDR + block_len(&h, 4);
		if (skip > len || read_hdr(b + skip, len - skip, &h) != 0 ||
		    h.version < 2) {
			*why = "truncated or bad TZif v2 header";
			return VG_EINVAL;
		}
		d = b + skip + TZIF_HDR;
		tsize = 8;
	}
	rest = len - (size_t)(d - b);
	bl = block_len(&h, tsize);
	if (bl > rest) {
		*why = "truncated TZif data";
		return VG_EINVAL;
	}
	if (h.type == 0 || h.type > 256 || h.chr == 0 ||
	    (h.isut != 0 && h.isut != h.type) ||
	    (h.isstd != 0 && h.isstd != h.type)) {
		*why = "bad TZif counts";
		return VG_EINVAL;
	}
	if (h.leap != 0) {
		*why = WHY_LEAP;
		return VG_EINVAL;
	}

	/* One block: the struct, then the transitions, offsets and type
	 * indexes. */
	head = (sizeof(*tz) + 7) & ~(size_t)7;
	need = head + (size_t)h.time * 8 + (size_t)h.type * 4 +
	    (size_t)h.time;
	mem = calloc(1, need);
	if (mem == NULL)
		return VG_ENOMEM;
	tz = (struct vg_tz *)(void *)mem;
	trans = (int64_t *)(void *)(mem + head);
	off = (int32_t *)(void *)(mem + head + (size_t)h.time * 8);
	idx = mem + head + (size_t)h.time * 8 + (size_t)h.type * 4;
	tz->ntrans = (uint32_t)h.time;
	tz->ntypes = (uint32_t)h.type;
	tz->trans = trans;
	tz->off = off;
	tz->idx = idx;

	p = d;
	for (i = 0; i < h.time; i++, p += tsize) {
		trans[i] = tsize == 8 ? be64s(p) : be32s(p);
		if (i > 0 && trans[i] <= trans[i - 1]) {
			*why = "TZif transitions out of order";
			goto bad;
		}
	}
	for (i = 0; i < h.time; i++, p++) {
		if (*p >= h.type) {
			*why = "TZif transition to no such type";
			goto bad;
		}
		idx[i] = *p;
	}
	for (i = 0; i < h.type; i++, p += 6) {
		off[i] = be32s(p);
		if (off[i] < OFF_MIN || off[i] > OFF_MAX || p[4] > 1 ||
		    p[5] >= h.chr) {
			*why = "bad TZif time type";
			goto bad;
		}
	}
	p += h.chr;
	for (i = 0; i < h.isstd + h.isut; i++, p++) {
		if (*p > 1) {
			*why = "bad TZif indicator";
			goto bad;
		}
	}

	/* The footer: "\n" rule "\n", the rule possibly empty, and nothing
	 * after it. */
	rest = len - (size_t)(p - b);
	if (h.version >= 2) {
		if (rest < 2 || p[0] != '\n' ||
		    (nl = memchr(p + 1, '\n', rest - 1)) == NULL ||
		    nl != b + len - 1 || (size_t)(nl - p - 1) >= sizeof(rule)) {
			*why = "bad TZif footer";
			goto bad;
		}
		memcpy(rule, p + 1, (size_t)(nl - p - 1));
		rule[nl - p - 1] = '\0';
		if (strlen(rule) != (size_t)(nl - p - 1) ||
		    (rule[0] != '\0' && posix_parse(rule, &tz->rule) != 0)) {
			*why = "bad TZ rule in TZif footer";
			goto bad;
		}
	} else if (rest != 0) {
		*why = "trailing bytes after TZif data";
		goto bad;
	}
	*out = tz;
	return 0;
bad:
	free(mem);
	return VG_EINVAL;
}

/*-----------------------------------------------------------------------------
 * The zone cache
 */

/* [A-Za-z0-9._+-] components separated by single slashes, none empty or
 * starting with '.': no "..", no absolute path, no way out of the zone
 * directory.  Bounded length. */
static bool
zone_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > VG_TZ_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '/') {
			if (i == 0 || s[i - 1] == '/' || i == n - 1)
				return false;
			continue;
		}
		if (c == '.' && (i == 0 || s[i - 1] == '/'))
			return false;
		if (!(is_alpha(c) || is_digit(c) || c == '.' || c == '_' ||
		    c == '+' || c == '-'))
			return false;
	}
	return true;
}

static struct vg_tz *
cache_find(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(cache[i]->name, name) == 0)
			return cache[i];
	return NULL;
}

/* Reads zone file name under the zone directory into a malloc'd
 * buffer. */
static int
read_zone(const char *name, unsigned char **out, size_t *len,
    const char **why)
{
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX];
	unsigned char *buf = NULL;
	struct stat sb;
	size_t got = 0;
	ssize_t r;
	int fd, rc;

	*out = NULL;
	if (dir == NULL || dir[0] == '\0')
		dir = TZ_DEFAULT_DIR;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		*why = "time zone directory path too long";
		return VG_EINVAL;
	}
	/* Non-blocking, so that a FIFO planted in the directory cannot
	 * hang the caller; only regular files are read. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*why = errno == ENOENT || errno == ENOTDIR ||
		    errno == ELOOP ? "unknown time zone" :
		    "cannot read time zone file";
		return VG_EINVAL;
	}
	rc = VG_EINVAL;
	if (fstat(fd, &sb) != 0) {
		*why = "cannot read time zone file";
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		*why = "unknown time zone";
		goto out;
	}
	if (sb.st_size > TZIF_MAX) {
		*why = "malformed time zone file";
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	/* Read to the end (one byte more than fstat said, to notice a
	 * file that grew). */
	while (got <= (size_t)sb.st_size) {
		r = read(fd, buf + got, (size_t)sb.st_size + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*why = "cannot read time zone file";
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got != (size_t)sb.st_size) {
		*why = "time zone file changed while read";
		goto out;
	}
	*out = buf;
	*len = got;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

/* The cached zone called name, loading it on first use. */
static int
tz_get(const char *name, size_t n, const struct vg_tz **out,
    const char **why)
{
	struct vg_tz *tz;
	unsigned char *buf = NULL;
	size_t len = 0, cnt;
	int rc;

	*out = NULL;
	if (n == 3 && memcmp(name, "UTC", 3) == 0) {
		*out = &tz_utc;
		return 0;
	}
	if (!zone_name_ok(name, n)) {
		*why = "bad time zone name";
		return VG_EINVAL;
	}
	cnt = atomic_load_explicit(&ncache, memory_order_acquire);
	tz = cache_find(name, cnt);
	if (tz != NULL) {
		*out = tz;
		return 0;
	}
	pthread_mutex_lock(&cache_mu);
	cnt = atomic_load_explicit(&ncache, memory_order_relaxed);
	tz = cache_find(name, cnt);	/* another thread may have won */
	if (tz != NULL) {
		rc = 0;
		goto out;
	}
	if (cnt >= VG_TZ_CACHE_MAX) {
		*why = "too many time zones in use";
		rc = VG_EINVAL;
		goto out;
	}
	rc = read_zone(name, &buf, &len, why);
	if (rc != 0)
		goto out;
	rc = tzif_parse(buf, len, &tz, why);
	if (rc == VG_EINVAL && strcmp(*why, WHY_LEAP) != 0)
		*why = "malformed time zone file";
	if (rc != 0)
		goto out;
	memcpy(tz->name, name, n);
	tz->name[n] = '\0';
	cache[cnt] = tz;
	atomic_store_explicit(&ncache, cnt + 1, memory_order_release);
out:
	pthread_mutex_unlock(&cache_mu);
	free(buf);
	if (rc == 0)
		*out = tz;
	return rc;
}

/*-----------------------------------------------------------------------------
 * Public: zones
 */

int32_t
vg_tz_offset(const struct vg_tz *tz, int64_t t)
{
	uint32_t lo, hi, mid;

	if (tz == NULL)
		return 0;
	t = clamp_t(t);
	if (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1]) {
		if (tz->rule.has)
			return posix_offset(&tz->rule, t);
		if (tz->ntrans == 0)
			return tz->ntypes > 0 ? tz->off[0] : 0;
		return tz->off[tz->idx[tz->ntrans - 1]];
	}
	if (t < tz->trans[0])
		return tz->off[0];	/* RFC 8536: time type 0 */
	/* The last transition at or before t: trans[lo] <= t < trans[hi]. */
	lo = 0;
	hi = tz->ntrans - 1;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->off[tz->idx[lo]];
}

int
vg_tz_new_tzif(const unsigned char *buf, size_t len, struct vg_tz **out,
    const char **why)
{
	const char *dummy;
	int rc;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	*out = NULL;
	if (buf == NULL) {
		*why = "not a TZif file";
		return VG_EINVAL;
	}
	rc = tzif_parse(buf, len, out, why);
	if (rc == 0)
		(*out)->owned = true;
	return rc;
}

int
vg_tz_new_rule(const char *rule, struct vg_tz **out, const char **why)
{
	struct vg_tz *tz;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	*out = NULL;
	tz = calloc(1, sizeof(*tz));
	if (tz == NULL)
		return VG_ENOMEM;
	if (rule == NULL || posix_parse(rule, &tz->rule) != 0) {
		free(tz);
		*why = "bad TZ rule";
		return VG_EINVAL;
	}
	tz->owned = true;
	*out = tz;
	return 0;
}

void
vg_tz_free(struct vg_tz *tz)
{
	if (tz != NULL && tz->owned)
		free(tz);
}

/*-----------------------------------------------------------------------------
 * Public: shifts
 */

/* Monday 0 .. Sunday 6, or -1. */
static int
day_index(const char *p, size_t n)
{
	static const char names[7][4] = { "mon", "tue", "wed", "thu", "fri",
	    "sat", "sun" };
	char low[3];
	int i;

	if (n != 3)
		return -1;
	for (i = 0; i < 3; i++)
		low[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
	for (i = 0; i < 7; i++)
		if (memcmp(low, names[i], 3) == 0)
			return i;
	return -1;
}

/* "*", or a comma list of days and ranges (a range may wrap). */
static int
parse_days(const char *p, size_t n, uint8_t *out)
{
	const char *item, *dash, *end = p + n;
	unsigned mask = 0;
	int a, b;

	if (n == 1 && p[0] == '*') {
		*out = 0x7f;
		return 0;
	}
	for (item = p;; item++) {
		const char *e = memchr(item, ',', (size_t)(end - item));

		if (e == NULL)
			e = end;
		dash = memchr(item, '-', (size_t)(e - item));
		if (dash != NULL) {
			a = day_index(item, (size_t)(dash - item));
			b = day_index(dash + 1, (size_t)(e - dash - 1));
			if (a < 0 || b < 0)
				return -1;
			for (;; a = (a + 1) % 7) {
				mask |= 1u << a;
				if (a == b)
					break;
			}
		} else {
			a = day_index(item, (size_t)(e - item));
			if (a < 0)
				return -1;
			mask |= 1u << a;
		}
		if (e == end)
			break;
		item = e;
	}
	*out = (uint8_t)mask;
	return 0;
}

/* "HH:MM" as minutes, 00:00..23:59 (and 24:00 when allowed), or -1. */
static int
hhmm(const char *p, bool allow24)
{
	int h, m;

	if (!is_digit(p[0]) || !is_digit(p[1]) || p[2] != ':' ||
	    !is_digit(p[3]) || !is_digit(p[4]))
		return -1;
	h = (p[0] - '0') * 10 + (p[1] - '0');
	m = (p[3] - '0') * 10 + (p[4] - '0');
	if (m > 59)
		return -1;
	if (h < 24)
		return h * 60 + m;
	if (allow24 && h == 24 && m == 0)
		return 24 * 60;
	return -1;
}

int
vg_shift_parse(const char *text, struct vg_shift *out, const char **why)
{
	const char *sp1, *sp2, *tm, *dummy;
	char zone[VG_TZ_NAME_MAX + 1];
	const struct vg_tz *tz;
	size_t i, n;
	uint8_t days;
	int start, end, rc;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	memset(out, 0, sizeof(*out));
	if (text == NULL || text[0] == '\0') {
		*why = "shift is empty";
		return VG_EINVAL;
	}
	n = strnlen(text, VG_SHIFT_TEXT_MAX + 1);
	if (n > VG_SHIFT_TEXT_MAX) {
		*why = "shift is longer than 64 bytes";
		return VG_EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (text[i] < 0x20 || text[i] > 0x7e) {
			*why = "shift has a character that is not printable "
			    "ASCII";
			return VG_EINVAL;
		}
	}
	sp1 = strchr(text, ' ');
	sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL ||
	    sp1 == text || sp2 == sp1 + 1 || sp2[1] == '\0') {
		*why = "shift is \"TZ DAYS HH:MM-HH:MM\", one space apart";
		return VG_EINVAL;
	}
	if ((size_t)(sp1 - text) > VG_TZ_NAME_MAX ||
	    !zone_name_ok(text, (size_t)(sp1 - text))) {
		*why = "bad time zone name";
		return VG_EINVAL;
	}
	if (parse_days(sp1 + 1, (size_t)(sp2 - sp1 - 1), &days) != 0) {
		*why = "bad day list: *, Mon..Sun, ranges (Mon-Fri), commas";
		return VG_EINVAL;
	}
	tm = sp2 + 1;
	if (strlen(tm) != 11 || tm[5] != '-') {
		*why = "bad time range: HH:MM-HH:MM";
		return VG_EINVAL;
	}
	start = hhmm(tm, false);
	if (start < 0) {
		*why = "bad start time: 00:00 to 23:59";
		return VG_EINVAL;
	}
	end = hhmm(tm + 6, true);
	if (end < 0) {
		*why = "bad end time: 00:00 to 24:00";
		return VG_EINVAL;
	}
	/* Last, as it may read a file. */
	memcpy(zone, text, (size_t)(sp1 - text));
	zone[sp1 - text] = '\0';
	rc = tz_get(zone, (size_t)(sp1 - text), &tz, why);
	if (rc != 0)
		return rc;
	out->tz = tz;
	out->days = days;
	out->start = (uint16_t)start;
	out->end = (uint16_t)end;
	return 0;
}

int
vg_shift_contains(const struct vg_shift *s, int64_t t)
{
	int64_t local, day;
	int min, wd, yd;

	if (s == NULL)
		return 0;
	t = clamp_t(t);
	local = t + vg_tz_offset(s->tz, t);
	day = floor_div(local, SECS_DAY);
	min = (int)((local - day * SECS_DAY) / 60);
	wd = (int)floor_mod(day + 3, 7);	/* 1970-01-01: Thursday */
	yd = (wd + 6) % 7;
	if (s->end > s->start)
		return ((s->days >> wd) & 1) && min >= s->start && min < s->end;
	/* Overnight: today's shift from its start, yesterday's until its
	 * end. */
	if (((s->days >> wd) & 1) && min >= s->start)
		return 1;
	if (((s->days >> yd) & 1) && min < s->end)
		return 1;
	return 0;
}
