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
 * midnight and belongs to the day it starts on.  Times are local wall
 * clock in TZ, daylight saving included.
 */
#ifndef VIGIL_SHIFT_H
#define VIGIL_SHIFT_H

#include <stdint.h>

#include "vigil/error.h"

#define VG_SHIFT_TEXT_MAX 64

struct vg_tz;			/* a loaded zone, shared and immutable */

struct vg_shift {
	const struct vg_tz *tz;	/* owned by the library's zone cache */
	uint8_t days;		/* bit 0 Monday .. bit 6 Sunday */
	uint16_t start;		/* minutes after local midnight */
	uint16_t end;		/* end <= start: crosses midnight */
};

/*
 * Parses a shift.  Returns 0, VG_EINVAL with *why (a static reason that
 * names the part at fault: "unknown time zone", "bad day list", ...), or
 * VG_ENOMEM.  Zones are loaded once and cached for the process
 * (thread-safe).
 */
VG_MUST_CHECK int vg_shift_parse(const char *text, struct vg_shift *out,
    const char **why);

/* 1 when unix time t (seconds) falls inside the shift, else 0. */
int vg_shift_contains(const struct vg_shift *s, int64_t t);

/* Offset of local time from UTC at unix time t, in seconds. */
int32_t vg_tz_offset(const struct vg_tz *tz, int64_t t);

#endif
