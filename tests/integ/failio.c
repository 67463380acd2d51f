/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfailio.so: an LD_PRELOAD shim for the integration tests that makes
 * the audit log unwritable on demand.
 *
 * While the file named by VIGIL_FAILIO_TRIGGER exists, write, pwrite,
 * writev, pwritev, fsync and fdatasync on a file whose path contains
 * "/audit/" fail with EIO (the path is read back from /proc/self/fd).
 * Everything else, and everything while the trigger is absent, goes to
 * the real functions (dlsym(RTLD_NEXT)).  Without VIGIL_FAILIO_TRIGGER
 * the shim does nothing.
 *
 * Used by tests/integ/vigild_e2e.py: vigild must then answer a reveal
 * with 503 audit_unavailable and nothing revealed.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef int (*sync_fn)(int);

/* The real function named name (resolved once, racy but idempotent). */
static void *
real(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (f == NULL) {
		f = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

/* 1 when a write to fd must fail now. */
static int
must_fail(int fd)
{
	const char *trigger = getenv("VIGIL_FAILIO_TRIGGER");
	char link[64], path[4096];
	struct stat st;
	ssize_t n;
	int saved = errno;

	if (trigger == NULL || trigger[0] == '\0' || fd < 0) {
		errno = saved;
		return 0;
	}
	if (stat(trigger, &st) != 0) {
		errno = saved;
		return 0;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	errno = saved;
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return strstr(path, "/audit/") != NULL;
}

static void *p_write, *p_pwrite, *p_pwrite64, *p_writev, *p_pwritev,
    *p_fsync, *p_fdatasync;

ssize_t
write(int fd, const void *buf, size_t n)
{
	write_fn f = (write_fn)real(&p_write, "write");

	if (must_fail(fd)) {
		errno = EIO;
		return -1;
	}
	return f(fd, buf, n);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	pwrite_fn f = (pwrite_fn)real(&p_pwrite, "pwrite");

	if (must_fail(fd)) {
		errno = EIO;
		return -1;
	}
	return f(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	pwrite_fn f = (pwrite_fn)real(&p_pwrite64, "pwrite64");

	if (must_fail(fd)) {
		errno = EIO;
		return -1;
	}
	return f(fd, buf, n, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	writev_fn f = (writev_fn)real(&p_writev, "writev");

	if (must_fail(fd)) {
		errno = EIO;
		return -1;
	}
	return f(fd, iov, cnt);
}

ssize_t
pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	pwritev_fn f = (pwritev_fn)real(&p_pwritev, "pwritev");

	if (must_fail(fd)) {
		errno = EIO;
		return -1;
	}
	return f(fd, iov, cnt, off);
}

int
fsync(int fd)
{
	sync_fn f = (sync_fn)real(&p_fsync, "fsync");

	if (must_fail(fd)) {
		errno = EIO;
		return -1;
	}
	return f(fd);
}

int
fdatasync(int fd)
{
	sync_fn f = (sync_fn)real(&p_fdatasync, "fdatasync");

	if (must_fail(fd)) {
		errno = EIO;
		return -1;
	}
	return f(fd);
}
