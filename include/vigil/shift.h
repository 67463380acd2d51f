/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Working shifts: "TZ DAYS HH:MM-HH:MM", e.g.
 *
 *     Asia/Shanghai Mon-Fri 09:00-18:00
 *     UTC Sat,Sun 08:00-20:00
 *     Europe/Berlin * 22:00-06:00        (every day, across midnight)
 *
 * TZ is an IANA zone name read from the system's TZif files
 * (/usr/share/zoneinfo, or $TZDIR), or "UTC".  DAYS is "*", a day
 * (Mon..Sun), a range (Mon-Fri, Sat-Mon wraps) or a comma list of days
 * and ranges.  A shift that ends at or before its start crosses
 * midnight and belongs to the day it starts on; "09:00-09:00" is 24
 * hours from 09:00.  An end of 24:00 is allowed ("00:00-24:00" is a
 * whole day).  Times are local wall clock in TZ, daylight saving
 * included, for any instant: after a zone file's last transition the
 * POSIX TZ rule in its footer (RFC 8536) gives future daylight saving.
 *
 * The three parts are separated by one space each; day names are
 * English three-letter abbreviations in any case.  Nothing here uses
 * localtime(), tzset() or the TZ variable, which are process-global.
 */
#ifndef VIGIL_SHIFT_H
#define VIGIL_SHIFT_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/error.h"

#define VG_SHIFT_TEXT_MAX 64	/* bytes in a shift's text */
#define VG_TZ_NAME_MAX 64	/* bytes in a zone name */
#define VG_TZ_CACHE_MAX 256	/* zones loaded per process */

struct vg_tz;			/* a loaded zone, shared and immutable */

struct vg_shift {
	const struct vg_tz *tz;	/* owned by the library's zone cache */
	uint8_t days;		/* bit 0 Monday .. bit 6 Sunday */
	uint16_t start;		/* minutes after local midnight, < 1440 */
	uint16_t end;		/* <= 1440; end <= start: crosses midnight */
};

/*
 * Parses a shift.  Returns 0, VG_EINVAL with *why (may be NULL; a
 * static reason that names the part at fault and never quotes the
 * input: "unknown time zone", "bad day list", ...), or VG_ENOMEM.
 * Zones are loaded once and cached for the process (thread-safe; never
 * freed).  A zone name is [A-Za-z0-9._+-] components separated by "/",
 * none starting with ".", at most VG_TZ_NAME_MAX bytes, so a shift can
 * only name a file under the zone directory.  A file that is not a
 * valid TZif file, or has leap seconds ("right/..." zones), is refused.
 * Once VG_TZ_CACHE_MAX distinct zones are loaded, a new one is refused
 * ("too many time zones in use").
 */
VG_MUST_CHECK int vg_shift_parse(const char *text, struct vg_shift *out,
    const char **why);

/* 1 when unix time t (seconds) falls inside the shift, else 0.  A zone
 * of NULL reads as UTC. */
int vg_shift_contains(const struct vg_shift *s, int64_t t);

/* Offset of local time from UTC at unix time t, in seconds (east
 * positive).  NULL reads as UTC.  Times beyond +-2^48 s (about 8.9
 * million years) are read as the nearest of those. */
int32_t vg_tz_offset(const struct vg_tz *tz, int64_t t);

/*
 * Zones outside the cache, for tests and fuzzing: one parsed from a TZif
 * image buf[0..len) (v1 to v4), or from a POSIX TZ rule such as
 * "CET-1CEST,M3.5.0,M10.5.0/3" (the form of a TZif footer).  Returns 0,
 * VG_EINVAL with *why (may be NULL), or VG_ENOMEM.  Free with
 * vg_tz_free(), which ignores NULL and cached zones.
 */
VG_MUST_CHECK int vg_tz_new_tzif(const unsigned char *buf, size_t len,
    struct vg_tz **out, const char **why);
VG_MUST_CHECK int vg_tz_new_rule(const char *rule, struct vg_tz **out,
    const char **why);
void vg_tz_free(struct vg_tz *tz);

#endif
