/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Files inside a container's rootfs, resolved as if rootfd were "/" (openat2 RESOLVE_IN_ROOT): symlinks in
 * the image can never lead to the host (runc CVE-2026-41579, podman GHSA-q6r4-3wmg-fwcq, c/s CVE-2024-9676).
 */
int root_open(int rootfd, const char *path, int flags, mode_t mode, int *ret_fd);
/* Read a regular file (never a FIFO or device: opened O_NONBLOCK, checked with fstat) of at most max bytes.
 */
int root_read_file(int rootfd, const char *path, size_t max, char **ret);
/* mkdir -p inside the root; returns an O_PATH fd of the directory if ret_fd is given. */
int root_mkdir_p(int rootfd, const char *path, mode_t mode, int *ret_fd);
/* Make sure path is a directory: a symlink (or a file) there is replaced by an empty directory. Used for
 * /dev, /proc and /sys, which the runtime mounts on before it has pivoted into the root. */
int root_replace_symlink_with_dir(int rootfd, const char *name);
/* Make sure path is a regular file that is not a symlink (replacing a symlink by an empty file), so the
 * runtime can bind-mount over it. */
int root_ensure_regular_file(int rootfd, const char *path);
