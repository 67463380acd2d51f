/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for shifts and time zones (lib/shift.c).  Shift text
 * comes from whoever adds a principal, and zone files from the system,
 * so each input is read three ways:
 *  - as shift text: a parse that succeeds must give a zone, a non-empty
 *    day set and minutes in range, parse again to the very same shift,
 *    and answer 0 or 1 at any instant; one that fails must give a reason
 *    and a cleared shift;
 *  - as a POSIX TZ rule, and
 *  - as a TZif image: a zone that parses must give offsets within
 *    +-26 hours at every instant tried, extremes included.
 * Any broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/shift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_shift: %s:%d: check failed: %s\n", \
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#define TEXT_MAX 256

static const int64_t instants[] = {
	INT64_MIN, -((int64_t)1 << 48) - 1, -2147483648LL, -1, 0, 1,
	68169600, 1711846800, 1729990800, 2147483647LL, 2216250000LL,
	4128627600LL, 253402300799LL, (int64_t)1 << 48, INT64_MAX,
};

static void
check_zone(const struct vg_tz *tz)
{
	size_t i;
	int32_t off;

	for (i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
		off = vg_tz_offset(tz, instants[i]);
		CHECK(off > -26 * 3600 && off < 26 * 3600);
	}
}

static void
fuzz_parse(const char *text)
{
	struct vg_shift s, again;
	const char *why = NULL;
	size_t i;
	int rc, in;

	rc = vg_shift_parse(text, &s, &why);
	if (rc != 0) {
		CHECK(rc == VG_EINVAL || rc == VG_ENOMEM);
		CHECK(rc == VG_ENOMEM || why != NULL);
		CHECK(s.tz == NULL && s.days == 0 && s.start == 0 &&
		    s.end == 0);
		return;
	}
	CHECK(why == NULL);
	CHECK(strlen(text) <= VG_SHIFT_TEXT_MAX);
	CHECK(s.tz != NULL && s.days != 0 && s.days < 128);
	CHECK(s.start < 1440 && s.end <= 1440);
	CHECK(vg_shift_parse(text, &again, NULL) == 0);
	CHECK(memcmp(&s, &again, sizeof(s)) == 0);
	check_zone(s.tz);
	for (i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
		in = vg_shift_contains(&s, instants[i]);
		CHECK(in == 0 || in == 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[TEXT_MAX + 1];
	struct vg_tz *tz = NULL;
	const char *why = NULL;
	size_t n = size < TEXT_MAX ? size : TEXT_MAX;
	int rc;

	memcpy(text, data, n);
	text[n] = '\0';
	fuzz_parse(text);

	rc = vg_tz_new_rule(text, &tz, &why);
	CHECK(rc == 0 || rc == VG_EINVAL || rc == VG_ENOMEM);
	if (rc == 0) {
		check_zone(tz);
		vg_tz_free(tz);
	} else
		CHECK(tz == NULL && (rc == VG_ENOMEM || why != NULL));

	tz = NULL;
	why = NULL;
	rc = vg_tz_new_tzif(data, size, &tz, &why);
	CHECK(rc == 0 || rc == VG_EINVAL || rc == VG_ENOMEM);
	if (rc == 0) {
		check_zone(tz);
		vg_tz_free(tz);
	} else
		CHECK(tz == NULL && (rc == VG_ENOMEM || why != NULL));
	return 0;
}
