/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error codes shared by every libvigil module.  Functions return 0 on
 * success and a negative VG_E* code on failure; vg_strerror() names the
 * code.  Messages never contain personal data: callers that need detail
 * (file, line, field) carry it next to the code, never inside it.
 */
#ifndef VIGIL_ERROR_H
#define VIGIL_ERROR_H

#if defined(__GNUC__) || defined(__clang__)
#define VG_MUST_CHECK __attribute__((warn_unused_result))
#define VG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define VG_MUST_CHECK
#define VG_PRINTF(f, a)
#endif

enum vg_err {
	VG_OK = 0,
	VG_ENOMEM = -1,		/* out of memory */
	VG_EINVAL = -2,		/* invalid argument or input */
	VG_EIO = -3,		/* I/O error (errno is meaningful) */
	VG_ECRYPTO = -4,	/* authentication failed: tampered or wrong key */
	VG_EBADKEY = -5,	/* master key does not match this vault */
	VG_ENOTFOUND = -6,	/* no such record */
	VG_EEXIST = -7,		/* already exists */
	VG_ETOOBIG = -8,	/* input exceeds a documented limit */
	VG_ESTORE = -9,		/* storage engine error */
	VG_EFORMAT = -10,	/* malformed file or record */
	VG_ENOVAULT = -11,	/* not a vigil vault */
	VG_EBUSY = -12,		/* resource busy, try again */
};

/* Returns a static, lower-case description of err. Never NULL. */
const char *vg_strerror(int err);

#endif
