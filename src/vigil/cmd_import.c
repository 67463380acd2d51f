/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil import DIR FILE.csv [--skip-bad REJECTS.csv] [--quiet]
 *
 * Streams an RFC 4180 file into the vault inside one transaction: strict
 * mode rolls everything back at the first bad row, so a failed import
 * changes nothing.  Messages name file, line and field, never a value.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vigil/audit.h"
#include "vigil/csv.h"
#include "vigil/vault.h"
#include "cli.h"

struct import {
	struct vg_cli *cli;
	struct vg_vault *v;
	const struct vg_schema *sc;
	const char *path;
	struct vg_csv *csv;
	FILE *in;
	FILE *rej;		/* --skip-bad output, or NULL */
	int col_field[VG_CSV_FIELDS_MAX];	/* schema index or -1 */
	size_t ncols;
	unsigned long long imported;
	_Atomic unsigned long long rejected;	/* reader thread writes */
	struct timespec start, last_progress;
	bool progress;
};

static double
elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void
show_progress(struct import *im, bool final)
{
	struct timespec now;
	double t;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!final && elapsed(&im->last_progress, &now) < 0.25)
		return;
	im->last_progress = now;
	t = elapsed(&im->start, &now);
	fprintf(stderr, "\rimporting: %llu customers, %llu rejected, "
	    "%.0f/s   ", im->imported, (unsigned long long)im->rejected,
	    t > 0 ? (double)im->imported / t : 0.0);
	if (final)
		fputc('\n', stderr);
}

/* Trims ASCII spaces for header matching. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static int
read_header(struct import *im)
{
	struct vg_csv_row row;
	bool seen[VG_FIELDS_MAX] = { false };
	size_t i;
	int rc;

	rc = vg_csv_next(im->csv, &row);
	if (rc == 0)
		return cli_fail(im->cli, EXIT_DATA, "%s: empty file; expected "
		    "a header naming fields", im->path);
	if (rc < 0) {
		uint64_t line;
		size_t col;
		const char *why = vg_csv_error(im->csv, &line, &col);

		return cli_fail(im->cli, EXIT_DATA, "%s:%llu: column %zu: %s",
		    im->path, (unsigned long long)line, col, why);
	}
	im->ncols = row.nfields;
	for (i = 0; i < row.nfields; i++) {
		const char *name = row.field[i];
		size_t n = row.len[i], f;
		int idx = -1;

		trim(&name, &n);
		for (f = 0; f < im->sc->nfields; f++) {
			if (strlen(im->sc->field[f].name) == n &&
			    strncasecmp(im->sc->field[f].name, name, n) == 0) {
				idx = (int)f;
				break;
			}
		}
		/* Never echo an unknown header: a file without a header
		 * would put a customer's values into the message. */
		if (idx < 0)
			return cli_fail(im->cli, EXIT_DATA, "%s:%llu: column "
			    "%zu: header does not name a field of this vault "
			    "(see 'vigil stats' and the schema)", im->path,
			    (unsigned long long)row.line, i + 1);
		if (seen[idx])
			return cli_fail(im->cli, EXIT_DATA, "%s:%llu: column "
			    "%zu: field '%s' appears twice", im->path,
			    (unsigned long long)row.line, i + 1,
			    im->sc->field[idx].name);
		seen[idx] = true;
		im->col_field[i] = idx;
	}
	for (i = 0; i < im->sc->nfields; i++)
		if (im->sc->field[i].required && !seen[i])
			return cli_fail(im->cli, EXIT_DATA, "%s:%llu: required "
			    "field '%s' has no column", im->path,
			    (unsigned long long)row.line, im->sc->field[i].name);
	if (im->rej != NULL) {
		fputs("_line,_field,_reason", im->rej);
		for (i = 0; i < row.nfields; i++) {
			fputc(',', im->rej);
			vg_csv_write_field(im->rej, row.field[i], row.len[i]);
		}
		fputs("\r\n", im->rej);
	}
	return EXIT_OK;
}

/* A rejected row: line, field and reason first, so they stay in their
 * columns whatever the row's own field count, then the row itself. */
static void
write_reject(struct import *im, const struct vg_csv_row *row,
    const char *field, const char *why)
{
	size_t i;

	im->rejected++;
	fprintf(im->rej, "%llu,", (unsigned long long)row->line);
	vg_csv_write_field(im->rej, field, strlen(field));
	fputc(',', im->rej);
	vg_csv_write_field(im->rej, why, strlen(why));
	for (i = 0; i < row->nfields; i++) {
		fputc(',', im->rej);
		vg_csv_write_field(im->rej, row->field[i], row->len[i]);
	}
	for (; i < im->ncols; i++)
		fputc(',', im->rej);
	fputs("\r\n", im->rej);
}

/*
 * The import runs as a two-stage pipeline on two threads: the reader
 * parses CSV, normalises, seals and computes blind indexes into a batch
 * (vg_vault_prepare); the writer stores full batches (vg_vault_put_batch).
 * Two batches alternate between them.  Either side stops the other on
 * error; the caller then rolls the transaction back.
 */
#define BATCH_ROWS 4096

struct pipeline {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vg_batch *full;		/* handed to the writer */
	struct vg_batch *spare;		/* handed back to the reader */
	bool done;			/* reader finished */
	bool abort;			/* writer failed */
	int status;			/* reader's exit status */
	unsigned long long rejected;
};

static int
hand_over(struct pipeline *pl, struct vg_batch **cur)
{
	int ok;

	pthread_mutex_lock(&pl->mu);
	while (pl->full != NULL && !pl->abort)
		pthread_cond_wait(&pl->cv, &pl->mu);
	if (!pl->abort) {
		pl->full = *cur;
		pthread_cond_broadcast(&pl->cv);
		while (pl->spare == NULL && !pl->abort)
			pthread_cond_wait(&pl->cv, &pl->mu);
		*cur = pl->spare;
		pl->spare = NULL;
	}
	ok = !pl->abort;
	pthread_mutex_unlock(&pl->mu);
	return ok;
}

struct reader_arg {
	struct import *im;
	struct pipeline *pl;
	struct vg_batch *cur;
};

static int
reader_rows(struct import *im, struct pipeline *pl, struct vg_batch **cur)
{
	struct vg_csv_row row;
	struct vg_input in;
	struct vg_reject rej;
	char why[96];
	size_t i;
	int rc;

	while ((rc = vg_csv_next(im->csv, &row)) == 1) {
		if (row.nfields != im->ncols) {
			snprintf(why, sizeof(why), "record has %zu fields, "
			    "header has %zu", row.nfields, im->ncols);
			if (im->rej == NULL)
				return cli_fail(im->cli, EXIT_DATA, "%s:%llu: %s",
				    im->path, (unsigned long long)row.line, why);
			write_reject(im, &row, "", why);
			continue;
		}
		memset(&in, 0, sizeof(in));
		for (i = 0; i < row.nfields; i++) {
			in.value[im->col_field[i]] = row.field[i];
			in.len[im->col_field[i]] = row.len[i];
		}
		rc = vg_vault_prepare(im->v, &in, *cur, &rej);
		if (rc == VG_EINVAL) {
			const char *fname = rej.field >= 0 ?
			    im->sc->field[rej.field].name : "";

			if (im->rej == NULL) {
				if (rej.field >= 0)
					return cli_fail(im->cli, EXIT_DATA,
					    "%s:%llu: field '%s': %s", im->path,
					    (unsigned long long)row.line, fname,
					    rej.why);
				return cli_fail(im->cli, EXIT_DATA, "%s:%llu: %s",
				    im->path, (unsigned long long)row.line,
				    rej.why);
			}
			write_reject(im, &row, fname, rej.why);
			continue;
		}
		if (rc != 0)
			return cli_fail(im->cli, EXIT_DATA, "%s:%llu: cannot "
			    "prepare customer: %s", im->path,
			    (unsigned long long)row.line, vg_strerror(rc));
		if (vg_batch_full(*cur) && !hand_over(pl, cur))
			return EXIT_DATA;	/* the writer reported why */
	}
	if (rc < 0) {
		uint64_t line;
		size_t col;
		const char *reason = vg_csv_error(im->csv, &line, &col);

		return cli_fail(im->cli, EXIT_DATA, "%s:%llu: column %zu: %s",
		    im->path, (unsigned long long)line, col, reason);
	}
	if (vg_batch_count(*cur) > 0 && !hand_over(pl, cur))
		return EXIT_DATA;
	return EXIT_OK;
}

static void *
reader_main(void *arg)
{
	struct reader_arg *ra = arg;
	int status;

	status = reader_rows(ra->im, ra->pl, &ra->cur);
	pthread_mutex_lock(&ra->pl->mu);
	ra->pl->status = status;
	ra->pl->done = true;
	pthread_cond_broadcast(&ra->pl->cv);
	pthread_mutex_unlock(&ra->pl->mu);
	return NULL;
}

static int
import_rows(struct import *im)
{
	struct pipeline pl;
	struct reader_arg ra;
	struct vg_batch *a, *b, *mine;
	pthread_t tid;
	int rc, status = EXIT_OK;

	memset(&pl, 0, sizeof(pl));
	a = vg_batch_new(BATCH_ROWS);
	b = vg_batch_new(BATCH_ROWS);
	if (a == NULL || b == NULL) {
		vg_batch_free(a);
		vg_batch_free(b);
		return cli_fail(im->cli, EXIT_DATA, "out of memory");
	}
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.cv, NULL);
	pl.spare = b;
	ra.im = im;
	ra.pl = &pl;
	ra.cur = a;
	if (pthread_create(&tid, NULL, reader_main, &ra) != 0) {
		status = cli_fail(im->cli, EXIT_DATA, "cannot start a thread");
		goto out;
	}
	for (;;) {
		pthread_mutex_lock(&pl.mu);
		while (pl.full == NULL && !pl.done)
			pthread_cond_wait(&pl.cv, &pl.mu);
		mine = pl.full;
		pl.full = NULL;
		pthread_cond_broadcast(&pl.cv);
		pthread_mutex_unlock(&pl.mu);
		if (mine == NULL)
			break;		/* reader done, nothing pending */
		rc = vg_vault_put_batch(im->v, mine);
		if (rc == 0)
			im->imported += vg_batch_count(mine);
		vg_batch_reset(mine);
		pthread_mutex_lock(&pl.mu);
		pl.spare = mine;
		if (rc != 0)
			pl.abort = true;
		pthread_cond_broadcast(&pl.cv);
		pthread_mutex_unlock(&pl.mu);
		if (rc != 0) {
			status = cli_fail(im->cli, EXIT_DATA, "cannot store "
			    "customers: %s", vg_strerror(rc));
			break;
		}
		if (im->progress)
			show_progress(im, false);
	}
	pthread_join(tid, NULL);
	if (status == EXIT_OK)
		status = pl.status;
out:
	vg_batch_free(a);
	vg_batch_free(b);
	pthread_mutex_destroy(&pl.mu);
	pthread_cond_destroy(&pl.cv);
	return status;
}

/*
 * Opens the rejects file.  It must not be the input, nor anything inside
 * the vault directory (a typo must never truncate master.key or the
 * database), so it is opened without truncation, checked, and only then
 * truncated.  It holds rejected rows' values: owner only.
 */
static FILE *
open_rejects(struct vg_cli *cli, const char *path, const char *vault,
    FILE *in)
{
	char vdir[PATH_MAX], rdir[PATH_MAX], tmp[PATH_MAX];
	struct stat rs, is;
	FILE *fp;
	char *slash;
	int fd, existed;

	existed = lstat(path, &rs) == 0;
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		cli_fail(cli, EXIT_DATA, "cannot create '%s'", path);
		return NULL;
	}
	if (fstat(fd, &rs) != 0 || !S_ISREG(rs.st_mode))
		goto refuse;
	if (fstat(fileno(in), &is) == 0 && rs.st_dev == is.st_dev &&
	    rs.st_ino == is.st_ino)
		goto refuse;
	snprintf(tmp, sizeof(tmp), "%s", path);
	slash = strrchr(tmp, '/');
	if (slash == NULL)
		snprintf(tmp, sizeof(tmp), ".");
	else if (slash == tmp)
		tmp[1] = '\0';
	else
		*slash = '\0';
	/* Nowhere inside the vault (its keys, database, audit log), and
	 * never a file with other names (a hard link to one of them). */
	if (realpath(tmp, rdir) == NULL || realpath(vault, vdir) == NULL ||
	    strcmp(rdir, vdir) == 0 || (strncmp(rdir, vdir, strlen(vdir)) ==
	    0 && rdir[strlen(vdir)] == '/') || (existed && rs.st_nlink > 1))
		goto refuse;
	if (fchmod(fd, 0600) != 0 || ftruncate(fd, 0) != 0) {
		close(fd);
		cli_fail(cli, EXIT_DATA, "cannot write '%s'", path);
		return NULL;
	}
	fp = fdopen(fd, "w");
	if (fp == NULL)
		close(fd);
	return fp;
refuse:
	close(fd);
	if (!existed)
		unlink(path);
	cli_fail(cli, EXIT_DATA, "refusing to write rejects to '%s': it is "
	    "the input or inside the vault", path);
	return NULL;
}

int
cmd_import(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "skip-bad", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct import im;
	struct vg_audit *a = NULL;
	struct vg_audit_entry e = { 0 };
	char detail[96];
	const char *rej_path = NULL;
	bool quiet = false;
	double secs;
	struct timespec end;
	int c, rc;

	memset(&im, 0, sizeof(im));
	im.cli = cli;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			rej_path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage(cli, "expected a vault directory and a CSV "
		    "file");
	im.path = argv[optind + 1];
	if (strcmp(im.path, "-") == 0) {
		im.in = stdin;
		im.path = "<stdin>";
	} else if ((im.in = fopen(im.path, "rb")) == NULL) {
		return cli_fail(cli, EXIT_DATA, "cannot open '%s'", im.path);
	}
	rc = cli_open(cli, argv[optind], &im.v);
	if (rc != EXIT_OK)
		goto out;
	rc = cli_audit_open(cli, argv[optind], im.v, &a);
	if (rc != EXIT_OK)
		goto out;
	im.sc = vg_vault_schema(im.v);
	im.csv = vg_csv_new_file(im.in);
	if (im.csv == NULL) {
		rc = cli_fail(cli, EXIT_DATA, "out of memory");
		goto out;
	}
	if (rej_path != NULL && (im.rej = open_rejects(cli, rej_path,
	    argv[optind], im.in)) == NULL) {
		rc = EXIT_DATA;
		goto out;
	}
	im.progress = !quiet && cli_tty();
	clock_gettime(CLOCK_MONOTONIC, &im.start);
	im.last_progress = im.start;
	rc = read_header(&im);
	if (rc != EXIT_OK)
		goto out;
	(void)vg_vault_bulk(im.v, true);
	if (vg_vault_begin(im.v) != 0) {
		rc = cli_fail(cli, EXIT_DATA, "cannot start a transaction");
		goto out;
	}
	rc = import_rows(&im);
	/* The entry is durable before the customers are: if it cannot be
	 * written, nothing is imported. */
	snprintf(detail, sizeof(detail), "customers=%llu rejected=%llu",
	    im.imported, (unsigned long long)im.rejected);
	e.action = "import";
	e.decision = rc == EXIT_OK ? "allow" : "deny";
	e.reason = rc == EXIT_OK ? NULL : "bad_input";
	e.detail = detail;
	if (rc != EXIT_OK || cli_audit(cli, a, &e) != EXIT_OK) {
		vg_vault_rollback(im.v);
		if (rc != EXIT_OK)
			(void)cli_audit(cli, a, &e);
		rc = EXIT_DATA;
		fprintf(stderr, "vigil import: nothing was imported\n");
		goto out;
	}
	if (vg_vault_commit(im.v) != 0) {
		e.decision = "deny";
		e.reason = "commit_failed";
		(void)cli_audit(cli, a, &e);
		rc = cli_fail(cli, EXIT_DATA, "commit failed; nothing was "
		    "imported");
		goto out;
	}
	if (im.progress)
		show_progress(&im, true);
	clock_gettime(CLOCK_MONOTONIC, &end);
	secs = elapsed(&im.start, &end);
	printf("imported %llu customers", im.imported);
	if (rej_path != NULL)
		printf(", rejected %llu (see %s)",
		    (unsigned long long)im.rejected, rej_path);
	printf(" in %.2f s\n", secs);
out:
	if (im.rej != NULL && fclose(im.rej) != 0 && rc == EXIT_OK)
		rc = cli_fail(cli, EXIT_DATA, "cannot write '%s'", rej_path);
	vg_csv_free(im.csv);
	rc = cli_audit_close(cli, a, rc);
	vg_vault_close(im.v);
	if (im.in != NULL && im.in != stdin)
		fclose(im.in);
	return rc;
}
