/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared plumbing of the vigil command-line tool: the command table,
 * error reporting and exit statuses.  One file per command, cmd_<verb>.c,
 * as in git's builtin/.
 *
 * Exit statuses: 0 success, 1 usage error, 2 data or runtime error.
 * Errors go to stderr as "vigil <command>: <what>", results to stdout.
 */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/error.h"

#define EXIT_OK 0
#define EXIT_USAGE 1
#define EXIT_DATA 2

struct vg_vault;

struct vg_cli {
	const char *cmd;	/* the running command's name */
	bool json;		/* --json: machine-readable output */
};

struct vg_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct vg_cli *cli);
	const char *summary;
	const char *usage;	/* full help text */
};

extern const struct vg_cmd vg_cmds[];

/* Prints "vigil CMD: message" to stderr and returns status. */
int cli_fail(struct vg_cli *cli, int status, const char *fmt, ...)
    VG_PRINTF(3, 4);
/* Prints the usage line of the running command and returns EXIT_USAGE. */
int cli_usage(struct vg_cli *cli, const char *fmt, ...) VG_PRINTF(2, 3);
/* Reports a getopt_long failure (c is ':' for a missing value, else an
 * unknown option) for argument vector argv; returns EXIT_USAGE. */
int cli_optfail(struct vg_cli *cli, int c, char **argv);
/* Prints the help of the running command to stdout; returns EXIT_OK. */
int cli_help(struct vg_cli *cli);

/* Opens the vault in dir; on failure prints why and returns EXIT_DATA. */
int cli_open(struct vg_cli *cli, const char *dir, struct vg_vault **v);

/* The CLI's audit chain (cli_audit.c).  cli_audit_open() opens the
 * vault's "cli" chain; cli_audit() fills principal, client and request
 * id, appends e and waits until it is durable, returning EXIT_DATA (after
 * saying why) when it is not; cli_audit_close() signs the final
 * checkpoint and returns status, or EXIT_DATA if that failed. */
struct vg_audit;
struct vg_audit_entry;
int cli_audit_open(struct vg_cli *cli, const char *dir, struct vg_vault *v,
    struct vg_audit **out);
int cli_audit(struct vg_cli *cli, struct vg_audit *a,
    struct vg_audit_entry *e);
int cli_audit_close(struct vg_cli *cli, struct vg_audit *a, int status);
/* After cli_audit_open(): who runs the command ("local:<user>") and this
 * run's request id, for entries a command appends by itself. */
const char *cli_audit_principal(void);
const char *cli_audit_request_id(void);

/* Prints o as indented JSON and a newline, and releases o (a reference
 * is taken over).  Returns EXIT_OK, or EXIT_DATA for NULL or no memory. */
struct json_t;
int cli_print_json(struct json_t *o);

/* Times (cmd_audit_query.c).  cli_parse_time reads RFC 3339
 * ("2026-11-27T20:00:00Z", fractions and offsets too; a bare date is
 * its midnight UTC) or unix seconds into unix ns: 0 or -1.
 * cli_format_time writes RFC 3339 UTC, with nanoseconds when frac, into
 * out (CLI_TIME_STRLEN bytes). */
#define CLI_TIME_STRLEN 96
int cli_parse_time(const char *s, int64_t *out);
void cli_format_time(char *out, int64_t ns, int frac);

/* Parses a decimal unsigned 64-bit integer; returns 0 or -1. */
int cli_parse_u64(const char *s, unsigned long long *out);

/* The simulator's shared options (cmd_sim.c).  cli_sim_insiders reads
 * "bulk=1,low_slow=2,ring" (a name alone counts 1) into o->insiders;
 * cli_sim_policy reads a policy file (at most 1 MiB) into a malloc'd
 * *text; both return 0 or -1 with err.  cli_sim_hours is the hours
 * from a to b, or -1 when b is 0. */
struct vg_sim_opts;
int cli_sim_insiders(const char *list, struct vg_sim_opts *o, char *err,
    size_t cap);
int cli_sim_policy(const char *path, char **text, size_t *len, char *err,
    size_t cap);
double cli_sim_hours(int64_t a, int64_t b);

/* True when stderr is a terminal (progress is shown then). */
bool cli_tty(void);
/* A monotonic clock in seconds, for durations. */
double cli_seconds(void);

int cmd_init(int argc, char **argv, struct vg_cli *cli);
int cmd_import(int argc, char **argv, struct vg_cli *cli);
int cmd_lookup(int argc, char **argv, struct vg_cli *cli);
int cmd_show(int argc, char **argv, struct vg_cli *cli);
int cmd_stats(int argc, char **argv, struct vg_cli *cli);
int cmd_keys(int argc, char **argv, struct vg_cli *cli);
int cmd_pseudonym(int argc, char **argv, struct vg_cli *cli);
int cmd_principal(int argc, char **argv, struct vg_cli *cli);
int cmd_policy(int argc, char **argv, struct vg_cli *cli);
int cmd_honey(int argc, char **argv, struct vg_cli *cli);
int cmd_detect(int argc, char **argv, struct vg_cli *cli);
int cmd_demo(int argc, char **argv, struct vg_cli *cli);
int cmd_alerts(int argc, char **argv, struct vg_cli *cli);
int cmd_export(int argc, char **argv, struct vg_cli *cli);
int cmd_sim(int argc, char **argv, struct vg_cli *cli);
int cmd_eval(int argc, char **argv, struct vg_cli *cli);
int cmd_trace(int argc, char **argv, struct vg_cli *cli);
int cmd_eval_trace(int argc, char **argv, struct vg_cli *cli);
int cmd_gen_customers(int argc, char **argv, struct vg_cli *cli);
int cmd_audit(int argc, char **argv, struct vg_cli *cli);
int cmd_audit_tail(int argc, char **argv, struct vg_cli *cli);
int cmd_audit_query(int argc, char **argv, struct vg_cli *cli);
int cmd_audit_who_viewed(int argc, char **argv, struct vg_cli *cli);
int cmd_help(int argc, char **argv, struct vg_cli *cli);
int cmd_version(int argc, char **argv, struct vg_cli *cli);

#endif
