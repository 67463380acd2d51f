/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The work shared by the three HTTP benchmark servers (srv_mhd.c,
 * srv_evhttp.c, srv_h2o.c), so that they differ only in the HTTP library:
 * argument parsing, the listening socket, and the JSON of POST /v1/echo
 * (parsed and built with jansson).  See README.md beside this file.
 */
#ifndef BENCH_HTTP_ECHO_H
#define BENCH_HTTP_ECHO_H

#include <stddef.h>

#define ECHO_PATH	"/v1/echo"
#define ECHO_MAXBODY	(64 * 1024)	/* request bodies above this: 413 */
#define ECHO_MAXREPLY	512		/* the reply is about 200 bytes */

struct echo_args {
	unsigned short	 port;
	int		 nthreads;
};

/*
 * Parses "PORT [NTHREADS]" (NTHREADS defaults to 2), raises the open file
 * limit to its hard maximum and ignores SIGPIPE.  Exits with a usage
 * message on bad arguments.
 */
void	echo_init(int argc, char **argv, struct echo_args *a);

/*
 * Returns a nonblocking TCP socket bound to 127.0.0.1:port and listening,
 * with SO_REUSEADDR and, if reuseport, SO_REUSEPORT set; -1 on error
 * (reported on stderr).
 */
int	echo_listen(unsigned short port, int reuseport);

/*
 * Parses the JSON request body (body, len) with json_loadb and writes the
 * JSON reply into out (outsz bytes, at least ECHO_MAXREPLY) with
 * json_dumpb.  Returns the HTTP status (200, or 400 for a body that is not
 * a JSON object with string members "phone" and "purpose") and stores the
 * reply's length in *outlen.  The reply is JSON in both cases.
 */
int	echo_handle(const char *body, size_t len, char *out, size_t outsz,
	    size_t *outlen);

#endif /* BENCH_HTTP_ECHO_H */
