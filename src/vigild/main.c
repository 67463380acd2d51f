/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigild, the access broker daemon.  The HTTP/JSON API arrives with the
 * access-broker issue; until then the daemon only reports its version so
 * that packaging and service files can be written against it.
 */
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "-V") == 0)) {
		printf("vigild %s\n", VG_VERSION);
		return 0;
	}
	fprintf(stderr, "vigild %s: the HTTP API is not built yet; "
	    "use the vigil command-line tool\n", VG_VERSION);
	return 1;
}
