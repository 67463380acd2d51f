/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durable file writes, private to libvigil: write a temporary file,
 * fsync it, rename it into place, fsync the directory (the Redis rdbSave
 * pattern), so a crash leaves either the old file or the new one.
 */
#ifndef VIGIL_FILEIO_H
#define VIGIL_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Atomically creates path with data and mode; fails with VG_EEXIST if
 * path exists.  Returns 0 or a VG_E* code (errno set for VG_EIO). */
int vg__file_create_durable(const char *path, const void *data, size_t len,
    mode_t mode);

/* Reads a small secret file (at most cap bytes) into buf, refusing
 * symbolic links, non-regular files and files readable by group or
 * others.  Returns 0, VG_ENOTFOUND, VG_EIO or VG_EINVAL (bad mode, with
 * *mode receiving it). */
int vg__file_read_secret(const char *path, char *buf, size_t cap,
    size_t *len, mode_t *mode);

/* Writes all of data, retrying on EINTR and short writes.  0 or VG_EIO. */
int vg__write_all(int fd, const void *data, size_t len);

/* Formats a one-line reason into err (capacity cap); NULL err is a no-op. */
void vg__seterr(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* fsyncs the directory dir. */
int vg__dir_sync(const char *dir);

#endif
