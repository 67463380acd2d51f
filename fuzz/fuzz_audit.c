/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the audit log's readers (lib/audit_codec.c,
 * lib/audit_read.c, lib/audit_verify.c).  Each input is used twice:
 *  - as an entry body for vg_audit_decode(): a body that decodes must
 *    encode back to the very same bytes (the format is canonical);
 *  - as the segment files of a chain: written to a scratch chain dir
 *    (under /dev/shm when there is one), split into two segments at a
 *    second "VIGILAUD", then read with the sequential reader (records
 *    must come in gapless seq order from 0 and decode again) and checked
 *    by vg_audit_verify() with and without a MAC key, which also runs
 *    the classification of damage.
 * The scratch dir holds a fixed key.pub and is created once per process.
 * Any broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "vigil/audit.h"

#define FUZZ_ORIGIN	"fuzz.example/audit"
#define SEG0		"seg-0000000000000000.log"
#define SEG1		"seg-0000000000000001.log"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_audit: %s:%d: check failed: %s\n",\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

static char dir[256], seg0[300], seg1[300];
static unsigned char mac0[32];
static struct vg_audit_record *rec, *rec2;
static unsigned char *body;

/* Cleans the scratch dir at exit (libFuzzer exits through exit()). */
static void
cleanup(void)
{
	char p[300];

	unlink(seg0);
	unlink(seg1);
	snprintf(p, sizeof(p), "%s/key.pub", dir);
	unlink(p);
	rmdir(dir);
}

static void
init(void)
{
	static int done;
	unsigned char seed[32], pk[32], sk[64];
	struct vg_note_key k;
	char vkey[VG_VKEY_MAX], p[300];
	const char *base;
	FILE *f;
	size_t i;

	if (done)
		return;
	CHECK(sodium_init() >= 0);
	base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/fuzz_audit.XXXXXX", base);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(seg0, sizeof(seg0), "%s/%s", dir, SEG0);
	snprintf(seg1, sizeof(seg1), "%s/%s", dir, SEG1);
	for (i = 0; i < sizeof(seed); i++) {
		seed[i] = (unsigned char)i;
		mac0[i] = (unsigned char)(0x80 + i);
	}
	crypto_sign_seed_keypair(pk, sk, seed);
	vg_note_key_init(&k, FUZZ_ORIGIN, pk);
	CHECK(vg_note_vkey_format(&k, vkey, sizeof(vkey)) == 0);
	snprintf(p, sizeof(p), "%s/key.pub", dir);
	CHECK((f = fopen(p, "w")) != NULL);
	fprintf(f, "%s\n", vkey);
	CHECK(fclose(f) == 0);
	rec = malloc(sizeof(*rec));
	rec2 = malloc(sizeof(*rec2));
	body = malloc(VG_AUDIT_BODY_MAX);
	CHECK(rec != NULL && rec2 != NULL && body != NULL);
	atexit(cleanup);
	done = 1;
}

static const char *
opt(const char *s)
{
	return s[0] != '\0' ? s : NULL;
}

/* A decoded body encodes back to itself. */
static void
fuzz_decode(const uint8_t *data, size_t size)
{
	struct vg_audit_entry e;
	const char *why = NULL;
	size_t len = 0;
	int rc;

	rc = vg_audit_decode(data, size, rec, &why);
	if (rc != 0) {
		CHECK(rc == VG_EFORMAT);
		CHECK(why != NULL && why[0] != '\0');
		return;
	}
	CHECK(size <= VG_AUDIT_BODY_MAX && rec->action[0] != '\0');
	CHECK(strlen(rec->node) <= VG_CHAIN_NAME_MAX);
	memset(&e, 0, sizeof(e));
	e.principal = opt(rec->principal);
	e.action = rec->action;
	e.customer = rec->has_customer ? rec->customer : NULL;
	e.fields = opt(rec->fields);
	e.purpose = opt(rec->purpose);
	e.case_id = opt(rec->case_id);
	e.decision = opt(rec->decision);
	e.reason = opt(rec->reason);
	e.request_id = opt(rec->request_id);
	e.client = opt(rec->client);
	e.probe = rec->has_probe ? rec->probe : NULL;
	e.detail = opt(rec->detail);
	CHECK(vg_audit_encode(&e, rec->seq, rec->time_ns, opt(rec->node),
	    body, VG_AUDIT_BODY_MAX, &len) == 0);
	CHECK(len == size && memcmp(body, data, size) == 0);
}

static void
put(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	CHECK(size == 0 || fwrite(data, 1, size, f) == size);
	CHECK(fclose(f) == 0);
}

/* Reads the chain: gapless seqs, every record decodes again. */
static void
fuzz_read(void)
{
	struct vg_audit_reader *r;
	const char *why, *seg = NULL;
	uint64_t n = 0, eseq = 0, eoff = 0;
	int rc;

	CHECK(vg_audit_reader_open(dir, &r) == 0);
	while ((rc = vg_audit_reader_next(r, rec)) == 1) {
		CHECK(rec->seq == n);
		CHECK(rec->body_len >= 17 &&
		    rec->body_len <= VG_AUDIT_BODY_MAX);
		CHECK(vg_audit_decode(rec->body, rec->body_len, rec2, NULL) ==
		    0);
		CHECK(rec2->seq == n && strcmp(rec2->action, rec->action) == 0);
		n++;
	}
	why = vg_audit_reader_error(r, &eseq, &eoff, &seg);
	if (rc == 0) {
		CHECK(why[0] == '\0');
	} else {
		CHECK(rc == VG_EFORMAT);
		CHECK(why[0] != '\0' && seg != NULL && eseq >= n);
	}
	CHECK(vg_audit_reader_next(r, rec) == rc);	/* sticky */
	vg_audit_reader_close(r);
}

static void
fuzz_verify(int with_mac)
{
	struct vg_audit_verify_opts o;
	struct vg_audit_verify_result res;
	int rc;

	memset(&o, 0, sizeof(o));
	o.chain_dir = dir;
	o.mac0 = with_mac ? mac0 : NULL;
	rc = vg_audit_verify(&o, &res);
	CHECK(rc == 0);
	CHECK(res.ok == 0 || res.ok == 1);
	CHECK(res.macs_checked == with_mac);
	if (!res.ok) {
		CHECK(res.what[0] != '\0' && res.detail[0] != '\0');
		CHECK(res.seq_end >= res.seq);
	} else {
		CHECK(res.what[0] == '\0');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *second = NULL;
	size_t i;

	init();
	fuzz_decode(data, size);

	for (i = 1; i + 8 <= size; i++)
		if (memcmp(data + i, "VIGILAUD", 8) == 0) {
			second = data + i;
			break;
		}
	if (second != NULL) {
		put(seg0, data, (size_t)(second - data));
		put(seg1, second, size - (size_t)(second - data));
	} else {
		put(seg0, data, size);
		unlink(seg1);
	}
	fuzz_read();
	fuzz_verify(0);
	fuzz_verify(1);
	return 0;
}
