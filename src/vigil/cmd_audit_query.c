/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil audit tail | query | who-viewed: reading the audit log back.  All
 * chains of a vault (DIR/audit/<chain>/seg-*.log) are read at once and
 * merged by time, then chain name, then sequence number; each chain is
 * read in log order by the reader of include/vigil/audit.h, which checks
 * framing, sequence and the public hash chain but needs no key.  MACs,
 * checkpoints and witnesses are `vigil audit verify` (cmd_audit.c).
 *
 * Entries print as JSON lines with Elastic Common Schema names
 * ("@timestamp", "event.action", "user.id", ...) as flat dotted keys,
 * plus "vigil.*" keys for the rest.  Entries name customers by id and
 * misses by a keyed hash, so nothing printed here is a personal value.
 *
 * A damaged chain is read up to the damage, what was read is printed,
 * and the command then fails naming the chain, segment and offset.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "vigil/audit.h"
#include "cli.h"

int cmd_audit_tail(int argc, char **argv, struct vg_cli *cli);
int cmd_audit_query(int argc, char **argv, struct vg_cli *cli);
int cmd_audit_who_viewed(int argc, char **argv, struct vg_cli *cli);

#define NS_PER_SEC 1000000000LL
#define TAIL_DEFAULT 20
#define TIME_STRLEN CLI_TIME_STRLEN

/*-----------------------------------------------------------------------------
 * Time: RFC 3339 both ways with days-from-civil arithmetic (H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms"), so nothing depends on
 * the C library's time zone handling.
 */

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned char mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return mdays[m - 1];
}

/*
 * Formats unix time ns as RFC 3339 UTC into out (TIME_STRLEN bytes):
 * "2026-11-27T20:00:00.123456789Z" with frac, else "2026-11-27T20:00:00Z".
 */
void
cli_format_time(char *out, int64_t ns, int frac)
{
	int64_t secs, sub, days, sod, y;
	unsigned m, d;

	secs = ns / NS_PER_SEC;
	sub = ns % NS_PER_SEC;
	if (sub < 0) {
		sub += NS_PER_SEC;
		secs--;
	}
	days = secs / 86400;
	sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (frac)
		snprintf(out, TIME_STRLEN, "%04lld-%02u-%02uT%02d:%02d:%02d."
		    "%09lldZ", (long long)y, m, d, (int)(sod / 3600),
		    (int)(sod / 60 % 60), (int)(sod % 60), (long long)sub);
	else
		snprintf(out, TIME_STRLEN, "%04lld-%02u-%02uT%02d:%02d:%02dZ",
		    (long long)y, m, d, (int)(sod / 3600),
		    (int)(sod / 60 % 60), (int)(sod % 60));
}

/* Seconds plus nanoseconds as ns, saturating at the int64_t range. */
static int64_t
to_ns(int64_t secs, int64_t sub)
{
	if (secs >= INT64_MAX / NS_PER_SEC)
		return INT64_MAX;
	if (secs <= INT64_MIN / NS_PER_SEC)
		return INT64_MIN;
	return secs * NS_PER_SEC + sub;
}

/* Reads exactly n digits at *p. */
static int
digits(const char **p, int n, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

/* Reads ".ddd..." (at least one digit) as ns; digits past 9 are cut. */
static int
fraction(const char **p, int64_t *sub)
{
	int64_t scale = NS_PER_SEC / 10;
	const char *s = *p;

	*sub = 0;
	if (*s != '.')
		return 0;
	s++;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		*sub += (*s - '0') * scale;
		scale /= 10;
	}
	*p = s;
	return 0;
}

/*
 * Parses a time given as RFC 3339 ("2026-11-27T20:00:00Z", fractional
 * seconds and numeric offsets too; a bare date is its midnight UTC) or
 * as unix seconds ("1795809600", "1795809600.5") into unix ns,
 * saturating outside the int64_t range.  Returns 0 or -1.
 */
int
cli_parse_time(const char *s, int64_t *out)
{
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
	int64_t secs, sub = 0, off = 0;
	uint64_t v = 0;
	int big = 0;

	if (*s >= '0' && *s <= '9' && strchr(s, '-') == NULL &&
	    strchr(s, ':') == NULL) {
		/* Unix seconds. */
		for (; *s >= '0' && *s <= '9'; s++) {
			if (v > (UINT64_MAX - 9) / 10)
				big = 1;
			else
				v = v * 10 + (uint64_t)(*s - '0');
		}
		if (fraction(&s, &sub) != 0 || *s != '\0')
			return -1;
		*out = big || v > (uint64_t)INT64_MAX ? INT64_MAX :
		    to_ns((int64_t)v, sub);
		return 0;
	}
	if (digits(&s, 4, &y) != 0 || *s++ != '-' ||
	    digits(&s, 2, &mo) != 0 || *s++ != '-' ||
	    digits(&s, 2, &d) != 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	if (*s != '\0') {
		if (*s != 'T' && *s != 't' && *s != ' ')
			return -1;
		s++;
		if (digits(&s, 2, &h) != 0 || *s++ != ':' ||
		    digits(&s, 2, &mi) != 0 || *s++ != ':' ||
		    digits(&s, 2, &sec) != 0 || fraction(&s, &sub) != 0)
			return -1;
		/* 60 is a leap second: it counts as the next minute's 0. */
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int neg = *s == '-';

			s++;
			if (digits(&s, 2, &oh) != 0 || *s++ != ':' ||
			    digits(&s, 2, &om) != 0 || oh > 23 || om > 59)
				return -1;
			off = (int64_t)oh * 3600 + om * 60;
			if (neg)
				off = -off;
		} else
			return -1;
		if (*s != '\0')
			return -1;
	}
	secs = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 +
	    mi * 60 + sec - off;
	*out = to_ns(secs, sub);
	return 0;
}

/*-----------------------------------------------------------------------------
 * Chains and the merge.
 */

/* One chain being read.  rec holds its next entry when state is 1. */
struct chain_src {
	char name[VG_CHAIN_NAME_MAX + 1];
	struct vg_audit_reader *r;
	struct vg_audit_record *rec;
	int state;			/* 1 entry ready, 0 done, -1 damaged */
	char why[160];
	uint64_t err_seq, err_off;
	char err_seg[64];
};

struct scan {
	const char *dir;		/* the vault, borrowed */
	struct chain_src *src;
	size_t nsrc;
	struct chain_src *last;		/* returned by scan_next(), unread */
};

static int
chain_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > VG_CHAIN_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || (s[i] == '-' && i > 0)))
			return 0;
	return 1;
}

/* True when dir holds at least one seg-*.log file. */
static int
has_segments(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t n;
	int found = 0;

	if (d == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		found = n > 8 && strncmp(de->d_name, "seg-", 4) == 0 &&
		    strcmp(de->d_name + n - 4, ".log") == 0;
	}
	closedir(d);
	return found;
}

static int
cmp_src(const void *a, const void *b)
{
	return strcmp(((const struct chain_src *)a)->name,
	    ((const struct chain_src *)b)->name);
}

static void
src_advance(struct chain_src *s)
{
	const char *why, *seg = NULL;
	int rc;

	rc = vg_audit_reader_next(s->r, s->rec);
	if (rc == 1 || rc == 0) {
		s->state = rc;
		return;
	}
	why = vg_audit_reader_error(s->r, &s->err_seq, &s->err_off, &seg);
	snprintf(s->why, sizeof(s->why), "%s",
	    why != NULL && *why != '\0' ? why : vg_strerror(rc));
	snprintf(s->err_seg, sizeof(s->err_seg), "%s",
	    seg != NULL && *seg != '\0' ? seg : "?");
	s->state = -1;
}

static void
scan_release(struct scan *sc)
{
	size_t i;

	for (i = 0; i < sc->nsrc; i++) {
		vg_audit_reader_close(sc->src[i].r);
		free(sc->src[i].rec);
	}
	free(sc->src);
	sc->src = NULL;
	sc->nsrc = 0;
}

/*
 * Opens every chain of the vault dir (or only the chain named only) and
 * reads each one's first entry.  Returns EXIT_OK, or an exit status
 * after saying why.
 */
static int
scan_open(struct vg_cli *cli, struct scan *sc, const char *dir,
    const char *only)
{
	char path[PATH_MAX], cpath[PATH_MAX + VG_CHAIN_NAME_MAX + 2];
	struct chain_src *ns;
	struct dirent *de;
	size_t i, cap = 0;
	DIR *d;
	int rc;

	memset(sc, 0, sizeof(*sc));
	sc->dir = dir;
	if ((size_t)snprintf(path, sizeof(path), "%s/audit", dir) >=
	    sizeof(path))
		return cli_fail(cli, EXIT_USAGE, "path too long");
	d = opendir(path);
	if (d == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return cli_fail(cli, EXIT_DATA, "'%s' has no audit "
			    "log (no %s); is it a vault?", dir, path);
		return cli_fail(cli, EXIT_DATA, "cannot read '%s': %s", path,
		    strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (!chain_name_ok(de->d_name) ||
		    (only != NULL && strcmp(de->d_name, only) != 0))
			continue;
		if ((size_t)snprintf(cpath, sizeof(cpath), "%s/%s", path,
		    de->d_name) >= sizeof(cpath) || !has_segments(cpath))
			continue;
		if (sc->nsrc == cap) {
			cap = cap ? cap * 2 : 8;
			ns = realloc(sc->src, cap * sizeof(*ns));
			if (ns == NULL)
				goto nomem;
			sc->src = ns;
		}
		/* chain_name_ok() checked the length. */
		memset(&sc->src[sc->nsrc], 0, sizeof(sc->src[0]));
		memcpy(sc->src[sc->nsrc].name, de->d_name,
		    strlen(de->d_name) + 1);
		sc->nsrc++;
	}
	closedir(d);
	d = NULL;
	if (only != NULL && sc->nsrc == 0)
		return cli_fail(cli, EXIT_USAGE, "--chain: no audit chain "
		    "'%s' in '%s'", only, dir);
	if (sc->nsrc > 1)
		qsort(sc->src, sc->nsrc, sizeof(sc->src[0]), cmp_src);
	for (i = 0; i < sc->nsrc; i++) {
		struct chain_src *s = &sc->src[i];

		s->rec = malloc(sizeof(*s->rec));
		if (s->rec == NULL)
			goto nomem;
		snprintf(cpath, sizeof(cpath), "%s/%s", path, s->name);
		rc = vg_audit_reader_open(cpath, &s->r);
		if (rc != 0) {
			scan_release(sc);
			return cli_fail(cli, EXIT_DATA, "cannot read chain "
			    "'%s': %s", s->name, vg_strerror(rc));
		}
		src_advance(s);
	}
	return EXIT_OK;
nomem:
	if (d != NULL)
		closedir(d);
	scan_release(sc);
	return cli_fail(cli, EXIT_DATA, "out of memory");
}

/* Orders entries by time, then chain name, then sequence number. */
static int
src_before(const struct chain_src *a, const struct chain_src *b)
{
	int c;

	if (a->rec->time_ns != b->rec->time_ns)
		return a->rec->time_ns < b->rec->time_ns;
	c = strcmp(a->name, b->name);
	if (c != 0)
		return c < 0;
	return a->rec->seq < b->rec->seq;
}

/*
 * The next entry of the merged log, or NULL at the end (of every chain,
 * or of a damaged chain's readable part).  The entry is valid until the
 * next call.
 */
static struct chain_src *
scan_next(struct scan *sc)
{
	struct chain_src *best = NULL;
	size_t i;

	if (sc->last != NULL) {
		src_advance(sc->last);
		sc->last = NULL;
	}
	for (i = 0; i < sc->nsrc; i++)
		if (sc->src[i].state == 1 &&
		    (best == NULL || src_before(&sc->src[i], best)))
			best = &sc->src[i];
	sc->last = best;
	return best;
}

/*
 * Ends a scan: flushes standard output, reports each damaged chain, and
 * frees everything.  Returns status, or EXIT_DATA when a chain was
 * damaged or the output could not be written.
 */
static int
scan_close(struct vg_cli *cli, struct scan *sc, int status)
{
	size_t i;

	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_fail(cli, EXIT_DATA, "cannot write the output: %s",
		    strerror(errno));
		status = EXIT_DATA;
	}
	for (i = 0; i < sc->nsrc; i++) {
		struct chain_src *s = &sc->src[i];

		if (s->state != -1)
			continue;
		cli_fail(cli, EXIT_DATA, "chain '%s' is damaged in segment %s "
		    "at offset %llu (seq %llu): %s; nothing from there on was "
		    "read; run 'vigil audit verify %s --chain %s'", s->name,
		    s->err_seg, (unsigned long long)s->err_off,
		    (unsigned long long)s->err_seq, s->why, sc->dir, s->name);
		status = EXIT_DATA;
	}
	scan_release(sc);
	return status;
}

/*-----------------------------------------------------------------------------
 * Output.
 */

static const char *
outcome(const char *decision)
{
	if (strcmp(decision, "allow") == 0)
		return "success";
	if (strcmp(decision, "deny") == 0 || strcmp(decision, "miss") == 0)
		return "failure";
	return "unknown";
}

/* Sets key to s unless s is empty (absent). */
static void
set_str(json_t *o, const char *key, const char *s)
{
	if (s[0] != '\0')
		json_object_set_new(o, key, json_string(s));
}

static void
set_hex(json_t *o, const char *key, const unsigned char *b, size_t n)
{
	char h[2 * VG_HASHBYTES + 1];

	if (2 * n + 1 > sizeof(h))
		return;
	sodium_bin2hex(h, sizeof(h), b, n);
	json_object_set_new(o, key, json_string(h));
}

/*
 * The JSON line of an entry of chain: a string to free(3), or NULL when
 * out of memory.
 */
static char *
entry_json(const struct vg_audit_record *rec, const char *chain)
{
	char ts[TIME_STRLEN], id[VG_ID_STRLEN];
	json_t *o = json_object();
	char *s;

	if (o == NULL)
		return NULL;
	cli_format_time(ts, rec->time_ns, 1);
	json_object_set_new(o, "@timestamp", json_string(ts));
	set_str(o, "event.action", rec->action);
	json_object_set_new(o, "event.outcome",
	    json_string(outcome(rec->decision)));
	json_object_set_new(o, "event.sequence",
	    json_integer((json_int_t)rec->seq));
	set_str(o, "event.reason", rec->reason);
	set_str(o, "user.id", rec->principal);
	set_str(o, "source.address", rec->client);
	set_str(o, "observer.name", rec->node[0] != '\0' ? rec->node : chain);
	if (rec->has_customer) {
		vg_id_format(id, rec->customer);
		json_object_set_new(o, "vigil.customer", json_string(id));
	}
	set_str(o, "vigil.decision", rec->decision);
	set_str(o, "vigil.fields", rec->fields);
	set_str(o, "vigil.purpose", rec->purpose);
	set_str(o, "vigil.case", rec->case_id);
	set_str(o, "vigil.request", rec->request_id);
	if (rec->has_probe)
		set_hex(o, "vigil.probe", rec->probe, VG_PROBEBYTES);
	set_str(o, "vigil.detail", rec->detail);
	json_object_set_new(o, "vigil.mac_epoch",
	    json_integer((json_int_t)rec->mac_epoch));
	set_hex(o, "vigil.leaf", rec->leaf, VG_HASHBYTES);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int
print_entry(struct vg_cli *cli, const struct chain_src *src)
{
	char *s = entry_json(src->rec, src->name);

	if (s == NULL)
		return cli_fail(cli, EXIT_DATA, "out of memory");
	puts(s);
	free(s);
	return EXIT_OK;
}

/*-----------------------------------------------------------------------------
 * Filters.
 */

struct filter {
	const char *principal, *action, *decision;	/* NULL: any */
	bool has_customer;
	unsigned char customer[VG_IDBYTES];
	bool has_since, has_until;
	int64_t since, until;		/* since <= time < until */
};

static bool
matches(const struct filter *f, const struct vg_audit_record *rec)
{
	if (f->principal != NULL && strcmp(f->principal, rec->principal) != 0)
		return false;
	if (f->action != NULL && strcmp(f->action, rec->action) != 0)
		return false;
	if (f->decision != NULL && strcmp(f->decision, rec->decision) != 0)
		return false;
	if (f->has_customer && (!rec->has_customer ||
	    memcmp(f->customer, rec->customer, VG_IDBYTES) != 0))
		return false;
	if (f->has_since && rec->time_ns < f->since)
		return false;
	if (f->has_until && rec->time_ns >= f->until)
		return false;
	return true;
}

/* A text filter can only match what an entry can hold: printable ASCII,
 * at most VG_AUDIT_STR_MAX bytes. */
static int
text_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= VG_AUDIT_STR_MAX || (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] > 0x7e)
			return 0;
	return i > 0;
}

static int
count_arg(struct vg_cli *cli, const char *opt, const char *arg,
    unsigned long long *out)
{
	if (cli_parse_u64(arg, out) != 0 || *out == 0)
		return cli_usage(cli, "%s takes a positive whole number", opt);
	return EXIT_OK;
}

static int
chain_arg(struct vg_cli *cli, const char *arg)
{
	if (!chain_name_ok(arg))
		return cli_usage(cli, "--chain: '%s' is not a chain name "
		    "([a-z0-9][a-z0-9-]{0,31})", arg);
	return EXIT_OK;
}

/*-----------------------------------------------------------------------------
 * The commands.
 */

int
cmd_audit_tail(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "chain", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long want = TAIL_DEFAULT;
	const char *chain = NULL;
	struct chain_src *src;
	struct scan sc;
	char **ring = NULL, **nr, *line;
	size_t n = 0, cap = 0, head = 0, i;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":n:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if ((rc = count_arg(cli, "-n", optarg, &want)) !=
			    EXIT_OK)
				return rc;
			break;
		case 'c':
			if ((rc = chain_arg(cli, optarg)) != EXIT_OK)
				return rc;
			chain = optarg;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "tail: expected one vault directory");
	rc = scan_open(cli, &sc, argv[optind], chain);
	if (rc != EXIT_OK)
		return rc;
	/* The last want entries, in a ring that grows only as needed. */
	while ((src = scan_next(&sc)) != NULL) {
		line = entry_json(src->rec, src->name);
		if (line == NULL)
			goto nomem;
		if (n < want) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				nr = realloc(ring, cap * sizeof(*ring));
				if (nr == NULL) {
					free(line);
					goto nomem;
				}
				ring = nr;
			}
			ring[n++] = line;
		} else {
			free(ring[head]);
			ring[head] = line;
			head = (head + 1) % n;
		}
	}
	for (i = 0; i < n; i++)
		puts(ring[(head + i) % n]);
	rc = EXIT_OK;
	goto out;
nomem:
	rc = cli_fail(cli, EXIT_DATA, "out of memory");
out:
	for (i = 0; i < n; i++)
		free(ring[i]);
	free(ring);
	return scan_close(cli, &sc, rc);
}

int
cmd_audit_query(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "chain", required_argument, NULL, 'c' },
		{ "principal", required_argument, NULL, 'p' },
		{ "customer", required_argument, NULL, 'u' },
		{ "action", required_argument, NULL, 'a' },
		{ "decision", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const decisions[] = {
		"allow", "deny", "step_up", "miss", NULL
	};
	unsigned long long limit = 0, shown = 0;
	const char *chain = NULL;
	struct chain_src *src;
	struct filter f;
	struct scan sc;
	size_t i;
	int c, rc;

	memset(&f, 0, sizeof(f));
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if ((rc = chain_arg(cli, optarg)) != EXIT_OK)
				return rc;
			chain = optarg;
			break;
		case 'p':
			if (!text_ok(optarg))
				return cli_usage(cli, "--principal takes "
				    "printable ASCII, 1 to %d bytes",
				    VG_AUDIT_STR_MAX);
			f.principal = optarg;
			break;
		case 'a':
			if (!text_ok(optarg))
				return cli_usage(cli, "--action takes "
				    "printable ASCII, 1 to %d bytes",
				    VG_AUDIT_STR_MAX);
			f.action = optarg;
			break;
		case 'd':
			for (i = 0; decisions[i] != NULL; i++)
				if (strcmp(optarg, decisions[i]) == 0)
					break;
			if (decisions[i] == NULL)
				return cli_usage(cli, "--decision takes allow, "
				    "deny, step_up or miss");
			f.decision = decisions[i];
			break;
		case 'u':
			if (vg_id_parse(f.customer, optarg) != 0)
				return cli_usage(cli, "--customer: '%s' is not "
				    "a customer id (cus_ and 26 base32 "
				    "characters)", optarg);
			f.has_customer = true;
			break;
		case 's':
			if (cli_parse_time(optarg, &f.since) != 0)
				return cli_usage(cli, "--since: '%s' is not an "
				    "RFC 3339 time (2026-11-27T20:00:00Z) or "
				    "unix seconds", optarg);
			f.has_since = true;
			break;
		case 't':
			if (cli_parse_time(optarg, &f.until) != 0)
				return cli_usage(cli, "--until: '%s' is not an "
				    "RFC 3339 time (2026-11-27T20:00:00Z) or "
				    "unix seconds", optarg);
			f.has_until = true;
			break;
		case 'l':
			if ((rc = count_arg(cli, "--limit", optarg, &limit)) !=
			    EXIT_OK)
				return rc;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "query: expected one vault directory");
	if (f.has_since && f.has_until && f.since >= f.until)
		return cli_usage(cli, "--since must be before --until");
	rc = scan_open(cli, &sc, argv[optind], chain);
	if (rc != EXIT_OK)
		return rc;
	while ((limit == 0 || shown < limit) &&
	    (src = scan_next(&sc)) != NULL) {
		if (!matches(&f, src->rec))
			continue;
		rc = print_entry(cli, src);
		if (rc != EXIT_OK)
			break;
		shown++;
	}
	return scan_close(cli, &sc, rc);
}

/* who-viewed's table: one row of text columns per entry. */
#define NCOL 10

struct table {
	char *(*row)[NCOL];
	size_t n, cap;
	size_t width[NCOL];
};

static const char *const col_head[NCOL] = {
	"TIME (UTC)", "CHAIN", "SEQ", "PRINCIPAL", "ACTION", "DECISION",
	"REASON", "PURPOSE", "CASE", "FIELDS"
};

static void
table_release(struct table *t)
{
	size_t i, j;

	for (i = 0; i < t->n; i++)
		for (j = 0; j < NCOL; j++)
			free(t->row[i][j]);
	free(t->row);
}

/* Adds the row of an entry; -1 when out of memory. */
static int
table_add(struct table *t, const struct chain_src *src)
{
	const struct vg_audit_record *rec = src->rec;
	char ts[TIME_STRLEN], seq[24];
	const char *cell[NCOL];
	char *(*nr)[NCOL];
	size_t j, len;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		nr = realloc(t->row, t->cap * sizeof(*t->row));
		if (nr == NULL)
			return -1;
		t->row = nr;
	}
	cli_format_time(ts, rec->time_ns, 0);
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)rec->seq);
	cell[0] = ts;
	cell[1] = src->name;
	cell[2] = seq;
	cell[3] = rec->principal;
	cell[4] = rec->action;
	cell[5] = rec->decision;
	cell[6] = rec->reason;
	cell[7] = rec->purpose;
	cell[8] = rec->case_id;
	cell[9] = rec->fields;
	/* Entries hold printable ASCII only (the decoder checks). */
	for (j = 0; j < NCOL; j++) {
		t->row[t->n][j] = strdup(cell[j][0] != '\0' ? cell[j] : "-");
		if (t->row[t->n][j] == NULL) {
			while (j-- > 0)
				free(t->row[t->n][j]);
			return -1;
		}
		len = strlen(t->row[t->n][j]);
		if (len > t->width[j])
			t->width[j] = len;
	}
	t->n++;
	return 0;
}

static void
table_print_row(const struct table *t, const char *const *cell)
{
	size_t j;

	for (j = 0; j < NCOL - 1; j++)
		printf("%-*s  ", (int)t->width[j], cell[j]);
	printf("%s\n", cell[NCOL - 1]);
}

int
cmd_audit_who_viewed(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	char id[VG_ID_STRLEN];
	struct chain_src *src;
	struct table t;
	struct filter f;
	struct scan sc;
	size_t i, shown = 0;
	int c, rc;

	memset(&f, 0, sizeof(f));
	memset(&t, 0, sizeof(t));
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_optfail(cli, c, argv);
		cli->json = true;
	}
	if (argc - optind != 2)
		return cli_usage(cli, "who-viewed: expected a vault directory "
		    "and a customer id");
	if (vg_id_parse(f.customer, argv[optind + 1]) != 0)
		return cli_usage(cli, "who-viewed: '%s' is not a customer id "
		    "(cus_ and 26 base32 characters)", argv[optind + 1]);
	f.has_customer = true;
	vg_id_format(id, f.customer);
	rc = scan_open(cli, &sc, argv[optind], NULL);
	if (rc != EXIT_OK)
		return rc;
	for (i = 0; i < NCOL; i++)
		t.width[i] = strlen(col_head[i]);
	while ((src = scan_next(&sc)) != NULL) {
		if (!matches(&f, src->rec))
			continue;
		if (cli->json)
			rc = print_entry(cli, src);
		else if (table_add(&t, src) != 0)
			rc = cli_fail(cli, EXIT_DATA, "out of memory");
		if (rc != EXIT_OK)
			break;
		shown++;
	}
	if (!cli->json && rc == EXIT_OK) {
		if (t.n > 0) {
			table_print_row(&t, col_head);
			for (i = 0; i < t.n; i++)
				table_print_row(&t,
				    (const char *const *)t.row[i]);
		}
		printf("%zu audit %s about %s\n", shown,
		    shown == 1 ? "entry" : "entries", id);
	}
	table_release(&t);
	return scan_close(cli, &sc, rc);
}
