/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "fileio.h"
#include "macro.h"
#include "safeio.h"

int root_open(int rootfd, const char *path, int flags, mode_t mode, int *ret_fd) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .mode = (flags & O_CREAT) ? mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        if (fd < 0)
                return -errno;
        *ret_fd = (int) fd;
        return 0;
}

int root_read_file(int rootfd, const char *path, size_t max, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        r = root_open(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, &fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((size_t) st.st_size > max)
                return -EFBIG;
        return read_full_fd(fd, max, ret, NULL);
}

/* Split "a/b/c" into the parent "a/b" and the name "c". */
static int split_last(const char *path, char **ret_parent, const char **ret_name) {
        while (*path == '/')
                path++;
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        size_t l = strlen(p);
        while (l > 0 && p[l - 1] == '/')
                p[--l] = 0;
        if (l == 0)
                return -EINVAL;
        char *slash = strrchr(p, '/');
        const char *name = slash ? path + (slash - p) + 1 : path;
        if (slash)
                *slash = 0;
        else
                p[0] = 0;
        if (streq(name, "..") || streq(name, "."))
                return -EINVAL;
        *ret_parent = TAKE_PTR(p);
        *ret_name = name;
        return 0;
}

static int mkdir_p_internal(int rootfd, const char *path, mode_t mode, unsigned depth, int *ret_fd) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int cur = -EBADF;
        int r;

        if (!copy)
                return -ENOMEM;
        if (depth > 40)
                return -ELOOP;
        r = root_open(rootfd, "/", O_PATH | O_DIRECTORY, 0, &cur);
        if (r < 0)
                return r;
        /* Walk one component at a time, each resolved from the root again, so a symlink met on the way is
         * followed inside the root only, and a missing component is created in the directory we hold. */
        size_t len = strlen(copy);
        for (size_t i = 0; i <= len; i++) {
                if (copy[i] != '/' && copy[i] != 0)
                        continue;
                char saved = copy[i];
                copy[i] = 0;
                char *last = strrchr(copy, '/');
                last = last ? last + 1 : copy;
                if (*last && !streq(last, ".")) {
                        int fd;
                        if (streq(last, "..")) {
                                /* RESOLVE_IN_ROOT clamps ".." at the root; never mkdir it */
                                r = root_open(rootfd, copy, O_PATH | O_DIRECTORY, 0, &fd);
                                if (r < 0)
                                        return r;
                                safe_close(cur);
                                cur = fd;
                                copy[i] = saved;
                                continue;
                        }
                        r = root_open(rootfd, copy, O_PATH | O_DIRECTORY, 0, &fd);
                        if (r == -ENOENT) {
                                if (mkdirat(cur, last, mode) < 0 && errno != EEXIST)
                                        return -errno;
                                r = root_open(rootfd, copy, O_PATH | O_DIRECTORY, 0, &fd);
                        }
                        if (r == -ENOENT) {
                                /* A dangling symlink: create its target, resolved inside the root as well.
                                 */
                                char target[4096];
                                ssize_t n = readlinkat(cur, last, target, sizeof target - 1);
                                if (n < 0)
                                        return -errno;
                                target[n] = 0;
                                _cleanup_free_ char *next = NULL;
                                const char *rest = saved ? path + i + 1 : "";
                                if (target[0] == '/')
                                        r = asprintf(&next, "%s/%s", target, rest);
                                else
                                        r = asprintf(&next, "%.*s/%s/%s", (int) (last - copy), copy, target,
                                                     rest);
                                if (r < 0)
                                        return -ENOMEM;
                                return mkdir_p_internal(rootfd, next, mode, depth + 1, ret_fd);
                        }
                        if (r < 0)
                                return r;
                        safe_close(cur);
                        cur = fd;
                }
                copy[i] = saved;
        }
        if (ret_fd)
                *ret_fd = TAKE_FD(cur);
        return 0;
}

int root_mkdir_p(int rootfd, const char *path, mode_t mode, int *ret_fd) {
        return mkdir_p_internal(rootfd, path, mode, 0, ret_fd);
}

int root_replace_symlink_with_dir(int rootfd, const char *name) {
        struct stat st;

        if (strchr(name, '/'))
                return -EINVAL;
        if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (S_ISDIR(st.st_mode))
                        return 0;
                /* On the merged overlay this leaves a whiteout in the upper layer. */
                if (unlinkat(rootfd, name, 0) < 0)
                        return -errno;
        } else if (errno != ENOENT)
                return -errno;
        if (mkdirat(rootfd, name, 0755) < 0)
                return -errno;
        return 1;
}

int root_ensure_regular_file(int rootfd, const char *path) {
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        const char *name;
        struct stat st;
        int r;

        r = split_last(path, &parent, &name);
        if (r < 0)
                return r;
        r = root_mkdir_p(rootfd, parent, 0755, &dfd);
        if (r < 0)
                return r;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (S_ISREG(st.st_mode))
                        return 0;
                if (S_ISDIR(st.st_mode))
                        return -EISDIR;
                if (unlinkat(dfd, name, 0) < 0)
                        return -errno;
        } else if (errno != ENOENT)
                return -errno;
        /* dfd is O_PATH: reopen it to create in it. */
        _cleanup_close_ int wdir = -EBADF;
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", dfd);
        wdir = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (wdir < 0)
                return -errno;
        fd = openat(wdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        return 1;
}
