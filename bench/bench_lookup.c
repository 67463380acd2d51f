/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_lookup: in-process latency of an exact blind-index lookup plus
 * decryption of the whole record (vg_vault_lookup + vg_vault_get, clear
 * view), against a plain SQLite table holding the same customers in
 * clear with an index on phone (the no-vault baseline), in one run.
 *
 * usage: bench_lookup [CUSTOMERS] [LOOKUPS]   (default 100000 20000)
 * Prints one line per measurement: name, median, p99 and mean in µs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vigil/gen.h"
#include "vigil/vault.h"

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
report(const char *name, double *ns, size_t n)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += ns[i];
	qsort(ns, n, sizeof(*ns), cmp_double);
	printf("%-34s median %7.2f us  p99 %7.2f us  mean %7.2f us  (n=%zu)\n",
	    name, ns[n / 2] / 1e3, ns[n * 99 / 100] / 1e3, sum / (double)n / 1e3,
	    n);
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "bench_lookup: %s: %s\n", what, vg_strerror(rc));
	exit(2);
}

/* Times nlook lookups of random customers plus a get in view. */
static void
time_vault(struct vg_vault *v, const struct vg_gen_customer *cs, size_t ncust,
    double *lat, size_t nlook, enum vg_view view, struct vg_record *rec)
{
	size_t i;
	int rc;

	srand(7);
	for (i = 0; i < nlook; i++) {
		const struct vg_gen_customer *c = &cs[(size_t)rand() % ncust];
		unsigned char ids[VG_LOOKUP_MAX][VG_IDBYTES];
		size_t n;
		double t0 = now_ns();

		rc = vg_vault_lookup(v, 1, c->phone, strlen(c->phone), ids,
		    VG_LOOKUP_MAX, &n, NULL);
		if (rc == 0)
			rc = vg_vault_get(v, ids[0], 0, view, rec);
		lat[i] = now_ns() - t0;
		if (rc != 0)
			die("lookup", rc);
		vg_record_clear(rec);
	}
}

int
main(int argc, char **argv)
{
	size_t ncust = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	size_t nlook = argc > 2 ? strtoul(argv[2], NULL, 10) : 20000;
	char dir[] = "/tmp/vigil-bench-XXXXXX", err[256], path[512];
	struct vg_gen_customer *cs;
	struct vg_vault *v;
	struct vg_batch *b;
	struct vg_record *rec;
	struct vg_gen *g;
	sqlite3 *db;
	sqlite3_stmt *ins, *sel;
	double *lat;
	size_t i, j;
	int rc;

	if (mkdtemp(dir) == NULL)
		return 2;
	rmdir(dir);
	cs = calloc(ncust, sizeof(*cs));
	lat = calloc(nlook, sizeof(*lat));
	rec = vg_record_new();
	g = vg_gen_new(2026);
	if (cs == NULL || lat == NULL || rec == NULL || g == NULL)
		return 2;
	for (i = 0; i < ncust; i++)
		vg_gen_next(g, &cs[i]);
	vg_gen_free(g);

	/* The vault. */
	if ((rc = vg_vault_create(dir, NULL, err, sizeof(err))) != 0)
		die(err, rc);
	if ((rc = vg_vault_open(dir, &v, err, sizeof(err))) != 0)
		die(err, rc);
	b = vg_batch_new(4096);
	if ((rc = vg_vault_begin(v)) != 0)
		die("begin", rc);
	for (i = 0; i < ncust; i++) {
		struct vg_input in;
		const char *vals[6] = { cs[i].name, cs[i].phone, cs[i].email,
		    cs[i].account_id, cs[i].address, cs[i].region };

		for (j = 0; j < 6; j++) {
			in.value[j] = vals[j];
			in.len[j] = strlen(vals[j]);
		}
		if ((rc = vg_vault_prepare(v, &in, b, NULL)) != 0)
			die("prepare", rc);
		if (vg_batch_full(b) || i + 1 == ncust) {
			if ((rc = vg_vault_put_batch(v, b)) != 0)
				die("put", rc);
			vg_batch_reset(b);
		}
	}
	if ((rc = vg_vault_commit(v)) != 0)
		die("commit", rc);
	vg_batch_free(b);

	/* The baseline: the same customers in clear, indexed on phone. */
	snprintf(path, sizeof(path), "%s/plain.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL;"
	    "CREATE TABLE c(id INTEGER PRIMARY KEY, name, phone, email,"
	    " account_id, address, region);"
	    "CREATE INDEX c_phone ON c(phone); BEGIN", NULL, NULL,
	    NULL) != SQLITE_OK)
		die("baseline schema", VG_ESTORE);
	sqlite3_prepare_v2(db, "INSERT INTO c(name, phone, email, account_id,"
	    " address, region) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &ins, NULL);
	for (i = 0; i < ncust; i++) {
		sqlite3_bind_text(ins, 1, cs[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, cs[i].phone, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, cs[i].email, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, cs[i].account_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, cs[i].address, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 6, cs[i].region, -1, SQLITE_STATIC);
		sqlite3_step(ins);
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "SELECT id, name, phone, email, account_id, "
	    "address, region FROM c WHERE phone = ?1", -1, &sel, NULL);

	printf("customers %zu, lookups %zu, vault in %s\n", ncust, nlook, dir);
	time_vault(v, cs, ncust, lat, nlook, VG_VIEW_CLEAR, rec);
	report("vault lookup + decrypt (clear)", lat, nlook);
	time_vault(v, cs, ncust, lat, nlook, VG_VIEW_MASKED, rec);
	report("vault lookup + masked view", lat, nlook);

	srand(7);
	for (i = 0; i < nlook; i++) {
		const struct vg_gen_customer *c = &cs[(size_t)rand() % ncust];
		char out[6][256];
		double t0 = now_ns();

		sqlite3_bind_text(sel, 1, c->phone, -1, SQLITE_STATIC);
		if (sqlite3_step(sel) != SQLITE_ROW)
			die("baseline lookup", VG_ENOTFOUND);
		for (j = 0; j < 6; j++)
			snprintf(out[j], sizeof(out[j]), "%s",
			    (const char *)sqlite3_column_text(sel, (int)j + 1));
		sqlite3_reset(sel);
		lat[i] = now_ns() - t0;
	}
	report("baseline: plaintext SQLite lookup", lat, nlook);

	sqlite3_finalize(sel);
	sqlite3_close(db);
	vg_vault_close(v);
	vg_record_free(rec);
	free(cs);
	free(lat);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 2;
	return 0;
}
