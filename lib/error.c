/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vg_strerror(): names for the VG_E* codes of include/vigil/error.h.
 */
#include "vigil/error.h"

const char *
vg_strerror(int err)
{
	switch (err) {
	case VG_OK:
		return "success";
	case VG_ENOMEM:
		return "out of memory";
	case VG_EINVAL:
		return "invalid argument";
	case VG_EIO:
		return "input/output error";
	case VG_ECRYPTO:
		return "authentication failed (tampered data or wrong key)";
	case VG_EBADKEY:
		return "master key does not match this vault";
	case VG_ENOTFOUND:
		return "not found";
	case VG_EEXIST:
		return "already exists";
	case VG_ETOOBIG:
		return "exceeds a size limit";
	case VG_ESTORE:
		return "storage error";
	case VG_EFORMAT:
		return "malformed input";
	case VG_ENOVAULT:
		return "not a vigil vault";
	case VG_EBUSY:
		return "busy";
	}
	return "unknown error";
}
