/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request bodies: JSON in, checked structs out, or an error that names
 * the field at fault.  Pure (jansson only), so fuzz/fuzz_body.c drives
 * exactly the code the daemon runs.  Strings in the structs are borrowed
 * from the json_t, which the caller frees after use.
 */
#ifndef VIGILD_BODY_H
#define VIGILD_BODY_H

#include <stddef.h>

#include <jansson.h>

#include "vigil/schema.h"

struct body_err {
	int status;			/* 400, 413, 415 */
	const char *code;		/* bad_json, unknown_field, ... */
	char message[200];		/* never quotes a value */
	char field[48];			/* "" when not about one field */
};

#define BODY_TEXT_MAX 1024		/* bytes in a free-text field */

/*
 * Parses a request body that must be a JSON object.  content_type may be
 * NULL (no header).  An empty body reads as {} when allow_empty.
 * Duplicate keys, trailing data, invalid UTF-8 and numbers out of range
 * are refused.  Returns the object or NULL with *e filled.
 */
json_t *body_parse(const char *buf, size_t len, const char *content_type,
    size_t ctlen, int allow_empty, struct body_err *e);

struct reveal_req {
	const char *field[VG_FIELDS_MAX];
	size_t nfields;
	const char *purpose;
	const char *case_id;		/* NULL: none */
	const char *justification;	/* NULL: none */
	const char *approval_id;	/* NULL: none */
};

struct lookup_req {
	const char *key;		/* "phone", "email", "account_id" */
	const char *value;
	size_t len;
	const char *case_id;		/* NULL: none */
};

struct case_req {
	const char *customer_id;
	const char *assignee;
	const char *channel;
};

struct create_req {
	const char *value[VG_FIELDS_MAX];	/* by schema field index */
	size_t len[VG_FIELDS_MAX];
};

struct export_req {
	const char *consumer;
	const char *recipient;
	const char *purpose;
	const char *field[VG_FIELDS_MAX];
	size_t nfields;
	const char *region;		/* NULL: every region */
	unsigned long long limit;	/* >= 1 */
};

/* Each returns 0, or -1 with *e (status 400). */
int body_reveal(json_t *o, struct reveal_req *r, struct body_err *e);
int body_lookup(json_t *o, struct lookup_req *r, struct body_err *e);
int body_case(json_t *o, struct case_req *r, struct body_err *e);
int body_assign(json_t *o, const char **assignee, struct body_err *e);
/* Bodies with an optional short "reason" code and nothing else (close,
 * approve, reject, suspend, reinstate). */
int body_reason(json_t *o, const char **reason, struct body_err *e);
int body_create(json_t *o, const struct vg_schema *s, struct create_req *r,
    struct body_err *e);
/* POST /v1/exports: consumer, recipient (at most 64 bytes each),
 * purpose (32), fields (1 to 32 names of at most 32 bytes), region
 * (optional, 64) and limit (a whole number >= 1).  Names are checked
 * for form by the export itself (vigil/export.h). */
int body_export(json_t *o, struct export_req *r, struct body_err *e);

#endif
