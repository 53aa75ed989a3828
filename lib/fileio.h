/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

#define READ_MAX_DEFAULT (4U * 1024U * 1024U)

/* Read a whole file (relative to dirfd, or AT_FDCWD) into a NUL-terminated buffer; -EFBIG above max bytes.
 */
int read_full_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_size);
#define read_full_file(path, max, ret, ret_size) \
        read_full_file_at(AT_FDCWD, (path), (max), (ret), (ret_size))
/* Read everything from fd up to max bytes. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size);

/* Write via a temp file in the same directory, fsync, rename over path, fsync the directory. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
typedef enum WriteFlags {
        /* The file's data is synced before the rename, the rename itself is not: for a file whose directory
         * is synced by a later write_file_atomic() there (a record written after its companions). */
        WRITE_NO_DIR_SYNC = 1 << 0,
        /* Nothing is synced: for files on tmpfs, or made again when lost. */
        WRITE_NO_SYNC = 1 << 1,
} WriteFlags;
int write_file_atomic_full(const char *path, const void *data, size_t len, mode_t mode, WriteFlags flags);
int write_all(int fd, const void *data, size_t len);
int fsync_parent_dir(const char *path);

/* JSON: parse with a size cap and duplicate keys rejected; errors are -EBADMSG with a message in *ret_error
 * (if given, caller frees). Write stable (indented, sorted) and atomically. */
int json_read_file(const char *path, size_t max, json_t **ret, char **ret_error);
int json_parse(const char *buf, size_t len, json_t **ret, char **ret_error);
int json_write_file_atomic(const char *path, json_t *j);
int json_write_file_atomic_full(const char *path, json_t *j, WriteFlags flags);

/* Remove a tree below dirfd/name without following symlinks and without crossing into other mounts. */
int rm_rf_at(int dirfd, const char *name);
int rm_rf(const char *path);

char *strv_join(char *const *v, const char *sep);
void strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free)
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char *const *v);
/* Append a copy of s; *v may be NULL. */
int strv_extend(char ***v, const char *s);
int strv_push(char ***v, char *s); /* takes ownership */
bool strv_contains(char *const *v, const char *s);
