/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durable file creation and careful secret-file reads; see fileio.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil/error.h"
#include "fileio.h"

void
vg__seterr(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

int
vg__dir_sync(const char *dir)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return VG_EIO;
	if (fsync(fd) != 0)
		rc = VG_EIO;
	close(fd);
	return rc;
}

int
vg__write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return VG_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
vg__file_create_durable(const char *path, const void *data, size_t len,
    mode_t mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	char *slash;
	int fd, rc, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp) ||
	    (size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir))
		return VG_ETOOBIG;
	if (access(path, F_OK) == 0)
		return VG_EEXIST;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0)
		return errno == EEXIST ? VG_EEXIST : VG_EIO;
	rc = vg__write_all(fd, data, len);
	if (rc == 0 && fchmod(fd, mode) != 0)
		rc = VG_EIO;
	if (rc == 0 && fsync(fd) != 0)
		rc = VG_EIO;
	saved = errno;
	if (close(fd) != 0 && rc == 0)
		rc = VG_EIO;
	if (rc == 0 && link(tmp, path) != 0)	/* fails if path exists */
		rc = errno == EEXIST ? VG_EEXIST : VG_EIO;
	saved = rc != 0 ? errno : saved;
	unlink(tmp);
	if (rc == 0)
		rc = vg__dir_sync(dir);
	errno = saved;
	return rc;
}

int
vg__file_read_secret(const char *path, char *buf, size_t cap, size_t *len,
    mode_t *mode)
{
	struct stat sb;
	ssize_t n;
	size_t got = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? VG_ENOTFOUND : VG_EIO;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = VG_EIO;
		goto out;
	}
	*mode = sb.st_mode & 07777;
	if ((sb.st_mode & 077) != 0) {
		rc = VG_EINVAL;
		goto out;
	}
	while (got < cap && (n = read(fd, buf + got, cap - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = VG_EIO;
			goto out;
		}
		got += (size_t)n;
	}
	if (got == cap) {
		rc = VG_ETOOBIG;
		goto out;
	}
	*len = got;
out:
	close(fd);
	return rc;
}
