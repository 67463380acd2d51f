/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal TAP producer for unit tests: ok(), is_int(), is_str(),
 * is_mem() and done_testing(), and tap_todo for known bugs.  Each test program prints "ok N - what" or
 * "not ok N - what" per check and the plan "1..N" at the end; tests/run.sh
 * counts them.  Header-only so that every t_<module>.c stays one file.
 */
#ifndef VIGIL_TAP_H
#define VIGIL_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;
/* Set around a check that fails because of a known, reported bug: its
 * line then ends "# TODO <why>" and does not fail the program (as
 * TODO="bug: ..." does in tests/integ/lib.sh).  NULL: none. */
static const char *tap_todo;

static void tap_vok(int pass, const char *file, int line, const char *fmt,
    va_list ap) __attribute__((format(printf, 4, 0)));

static void
tap_vok(int pass, const char *file, int line, const char *fmt, va_list ap)
{
	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	if (tap_todo != NULL)
		printf(" # TODO %s", tap_todo);
	printf("\n");
	if (!pass) {
		if (tap_todo == NULL)
			tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
}

static int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) do {					\
	long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);\
	if (!tap_ok(tap_g_ == tap_w_, __FILE__, __LINE__, __VA_ARGS__))	\
		printf("#   got %lld, want %lld\n", tap_g_, tap_w_);	\
} while (0)

#define is_str(got, want, ...) do {					\
	const char *tap_g_ = (got), *tap_w_ = (want);			\
	int tap_p_ = tap_g_ != NULL && tap_w_ != NULL &&		\
	    strcmp(tap_g_, tap_w_) == 0;				\
	if (!tap_ok(tap_p_, __FILE__, __LINE__, __VA_ARGS__))		\
		printf("#   got \"%s\", want \"%s\"\n",			\
		    tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)");\
} while (0)

#define is_mem(got, want, n, ...)					\
	ok(memcmp((got), (want), (n)) == 0, __VA_ARGS__)

static int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
