/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding known-answer files for unit tests: vec_open("merkle/x.txt")
 * looks in $VIGIL_VECTORS, $ROOT/tests/vectors, ./tests/vectors, and then
 * tests/vectors above the test program's directory (build/tests/t_x and
 * build/asan/tests/t_x both work).  Set vec_argv0 = argv[0] in main().
 * Header-only, like tap.h.
 */
#ifndef VIGIL_VECTORS_H
#define VIGIL_VECTORS_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *vec_argv0;

/* Opens dir/file; a path that does not fit is simply not found. */
static FILE *
vec_open_in(const char *dir, const char *file)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path))
		return NULL;
	return fopen(path, "r");
}

static FILE *
vec_open(const char *file)
{
	char dir[PATH_MAX], sub[PATH_MAX];
	const char *env;
	char *slash;
	FILE *f;
	int up;

	if ((env = getenv("VIGIL_VECTORS")) != NULL &&
	    (f = vec_open_in(env, file)) != NULL)
		return f;
	if ((env = getenv("ROOT")) != NULL &&
	    (size_t)snprintf(sub, sizeof(sub), "%s/tests/vectors", env) <
	    sizeof(sub) && (f = vec_open_in(sub, file)) != NULL)
		return f;
	if ((f = vec_open_in("tests/vectors", file)) != NULL)
		return f;
	snprintf(dir, sizeof(dir), "%s", vec_argv0 != NULL ? vec_argv0 : ".");
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	for (up = 1; up <= 4; up++) {
		size_t used = strlen(dir);

		if (used + 4 >= sizeof(dir))
			break;
		memcpy(dir + used, "/..", 4);
		if ((size_t)snprintf(sub, sizeof(sub), "%s/tests/vectors",
		    dir) < sizeof(sub) && (f = vec_open_in(sub, file)) != NULL)
			return f;
	}
	return NULL;
}

#endif
