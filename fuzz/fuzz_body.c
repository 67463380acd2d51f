/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for vigild's request bodies (src/vigild/body.c).
 * The first input byte picks the body kind (reveal, lookup, case,
 * assign, reason, create, export); the rest is the body, sent as
 * application/json.  Checks: a refusal has a 4xx status, a code and a
 * NUL-terminated message that never contains the body's bytes (no value
 * is echoed); an accepted body yields strings that are inside the
 * document, within their documented limits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_body: %s:%d: check failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

static void
check_err(const struct body_err *e)
{
	CHECK(e->status >= 400 && e->status < 500);
	CHECK(e->code != NULL && e->code[0] != '\0');
	CHECK(memchr(e->message, '\0', sizeof(e->message)) != NULL);
	CHECK(memchr(e->field, '\0', sizeof(e->field)) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ct[] = "application/json";
	struct vg_schema schema;
	struct body_err e;
	json_t *o;
	int kind, rc = 0;
	size_t i;

	if (size < 1)
		return 0;
	kind = data[0] % 7;
	o = body_parse((const char *)data + 1, size - 1, ct, sizeof(ct) - 1,
	    kind == 4, &e);
	if (o == NULL) {
		check_err(&e);
		return 0;
	}
	CHECK(json_is_object(o));
	vg_schema_default(&schema);
	switch (kind) {
	case 0: {
		struct reveal_req r;

		rc = body_reveal(o, &r, &e);
		if (rc == 0) {
			CHECK(r.nfields >= 1 && r.nfields <= VG_FIELDS_MAX);
			for (i = 0; i < r.nfields; i++)
				CHECK(strlen(r.field[i]) <= 32);
			CHECK(r.purpose != NULL && strlen(r.purpose) <= 32);
			CHECK(r.justification == NULL ||
			    strlen(r.justification) <= BODY_TEXT_MAX);
		}
		break;
	}
	case 1: {
		struct lookup_req r;

		rc = body_lookup(o, &r, &e);
		if (rc == 0)
			CHECK(r.key != NULL && r.value != NULL &&
			    r.len <= BODY_TEXT_MAX &&
			    memchr(r.value, '\0', r.len) == NULL);
		break;
	}
	case 2: {
		struct case_req r;

		rc = body_case(o, &r, &e);
		if (rc == 0)
			CHECK(r.customer_id != NULL && r.assignee != NULL &&
			    r.channel != NULL);
		break;
	}
	case 3: {
		const char *a;

		rc = body_assign(o, &a, &e);
		if (rc == 0)
			CHECK(a != NULL && strlen(a) <= 64);
		break;
	}
	case 4: {
		const char *r;

		rc = body_reason(o, &r, &e);
		if (rc == 0 && r != NULL)
			CHECK(strspn(r, "abcdefghijklmnopqrstuvwxyz"
			    "0123456789_-") == strlen(r));
		break;
	}
	case 6: {
		struct export_req r;

		rc = body_export(o, &r, &e);
		if (rc == 0) {
			CHECK(r.consumer != NULL && strlen(r.consumer) <= 64);
			CHECK(r.recipient != NULL && strlen(r.recipient) <= 64);
			CHECK(r.purpose != NULL && strlen(r.purpose) <= 32);
			CHECK(r.region == NULL || strlen(r.region) <= 64);
			CHECK(r.nfields >= 1 && r.nfields <= VG_FIELDS_MAX);
			for (i = 0; i < r.nfields; i++)
				CHECK(strlen(r.field[i]) <= 32);
			CHECK(r.limit >= 1);
		}
		break;
	}
	default: {
		struct create_req r;

		rc = body_create(o, &schema, &r, &e);
		if (rc == 0)
			for (i = 0; i < VG_FIELDS_MAX; i++)
				CHECK(r.value[i] == NULL ||
				    r.len[i] <= VG_NORM_MAX);
		break;
	}
	}
	if (rc != 0)
		check_err(&e);
	json_decref(o);
	return 0;
}
