/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-run cp: copying a tree between two directory fds, one component at a time. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cp.h"
#include "log.h"
#include "macro.h"

/* deep enough for any real tree; each level holds three fds */
#define COPY_DEPTH_MAX 128U

int idmap_parse(const char *text, IdMap *ret) {
        IdMap m = {};
        const char *p = text;
        while (p && *p) {
                unsigned long a, b, c;
                int n = 0;
                if (sscanf(p, "%lu %lu %lu%n", &a, &b, &c, &n) != 3)
                        return -EBADMSG;
                if (m.n >= ELEMENTSOF(m.r))
                        return -E2BIG;
                m.r[m.n].inside = (uid_t) a;
                m.r[m.n].outside = (uid_t) b;
                m.r[m.n].count = (uid_t) c;
                m.n++;
                p = strchr(p + n, '\n');
                if (p)
                        p++;
        }
        /* the identity map of a process without a user namespace of its own */
        if (m.n == 1 && m.r[0].inside == 0 && m.r[0].outside == 0 && m.r[0].count == UINT32_MAX)
                m.n = 0;
        *ret = m;
        return 0;
}

static uid_t idmap_apply(const IdMap *m, uid_t id, bool outward) {
        if (m->n == 0)
                return id;
        for (unsigned i = 0; i < m->n; i++) {
                uid_t from = outward ? m->r[i].inside : m->r[i].outside;
                uid_t to = outward ? m->r[i].outside : m->r[i].inside;
                if (id >= from && id - from < m->r[i].count)
                        return to + (id - from);
        }
        return 65534; /* the kernel's overflow id */
}

static void owner_for(const CopyContext *c, const struct stat *st, uid_t *ret_uid, gid_t *ret_gid) {
        if (!c->archive) {
                *ret_uid = c->uid;
                *ret_gid = c->gid;
                return;
        }
        /* -a keeps the ids as the container sees them */
        *ret_uid = idmap_apply(&c->uid_map, st->st_uid, c->to_container);
        *ret_gid = idmap_apply(&c->gid_map, st->st_gid, c->to_container);
}

int copy_path_parse(const char *path, CopyPath *ret) {
        _cleanup_free_ char *p = strdup(path);
        bool contents = false, slash = false;
        if (!p)
                return -ENOMEM;
        size_t l = strlen(p);
        if (streq(p, ".") || endswith(p, "/."))
                contents = true;
        for (;;) {
                if (l > 0 && p[l - 1] == '/') {
                        slash = true;
                        p[--l] = 0;
                } else if ((l == 1 && p[0] == '.') || (l >= 2 && p[l - 1] == '.' && p[l - 2] == '/')) {
                        slash = true;
                        p[--l] = 0;
                } else
                        break;
        }
        const char *base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
        if (streq(base, ".."))
                return -EINVAL;
        char *b = strdup(base);
        if (!b)
                return -ENOMEM;
        /* "/" and "." name no entry of their own: their contents are copied */
        *ret = (CopyPath){.base = b, .contents_only = contents || !*b, .trailing_slash = slash};
        return 0;
}

void copy_path_done(CopyPath *p) {
        p->base = mfree(p->base);
}

int copy_open(int rootfd, const char *path, bool follow, int *ret_fd) {
        int flags = O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
        long fd;
        if (rootfd == AT_FDCWD)
                fd = openat(AT_FDCWD, path, flags);
        else {
                /* "/" is the container's root, and no symlink or ".." leads above it */
                struct open_how how = {
                        .flags = (uint64_t) flags,
                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
                };
                while (*path == '/')
                        path++;
                fd = syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof how);
        }
        if (fd < 0)
                return -errno;
        *ret_fd = (int) fd;
        return 0;
}

int copy_dest_resolve(int rootfd, const char *path, CopyDest *ret) {
        _cleanup_free_ char *parent = strdup(path);
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        bool slash = endswith(path, "/") || endswith(path, "/.") || streq(path, ".");
        int r;

        if (!parent)
                return -ENOMEM;
        r = copy_open(rootfd, path, true, &fd);
        if (r >= 0) {
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode)) {
                        *ret = (CopyDest){.dirfd = TAKE_FD(fd), .trailing_slash = slash};
                        return 0;
                }
                fd = safe_close(fd);
        } else if (r != -ENOENT)
                return r;
        else if (slash)
                return -ENOENT; /* "DIR/" must be an existing directory (ENOTDIR covers a file there) */

        size_t l = strlen(parent);
        while (l > 1 && parent[l - 1] == '/')
                parent[--l] = 0;
        char *s = strrchr(parent, '/');
        char *name = strdup(s ? s + 1 : parent);
        if (!name)
                return -ENOMEM;
        if (!*name || streq(name, ".") || streq(name, "..")) {
                free(name);
                return -EINVAL;
        }
        if (!s)
                strcpy(parent, ".");
        else if (s == parent)
                parent[1] = 0;
        else
                *s = 0;
        r = copy_open(rootfd, parent, true, &fd);
        if (r >= 0 && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)))
                r = -ENOTDIR;
        if (r < 0) {
                free(name);
                return r;
        }
        /* something that is not a directory (or a symlink to one) is there: a file is replaced, a directory
         * cannot be */
        _cleanup_close_ int there = -EBADF;
        bool exists = copy_open(rootfd, path, false, &there) >= 0;
        *ret = (CopyDest){.dirfd = TAKE_FD(fd), .name = name, .exists = exists};
        return 0;
}

void copy_dest_done(CopyDest *d) {
        d->dirfd = safe_close(d->dirfd);
        d->name = mfree(d->name);
}

static void tmp_name(char *buf, size_t size) {
        static unsigned long counter = 0;
        snprintf(buf, size, ".berth-cp-%d-%lu", (int) getpid(), counter++);
}

static int copy_data(int in, int out) {
        static char buf[128 * 1024];
        for (;;) {
                ssize_t n = read(in, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return 0;
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = write(out, buf + done, (size_t) (n - done));
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                return -errno;
                        }
                        done += w;
                }
        }
}

/* Put the finished temporary tmp in place of name: a rename replaces a file or symlink there without
 * following it, and refuses a directory. */
static int commit(int dirfd, const char *tmp, const char *name) {
        if (renameat(dirfd, tmp, dirfd, name) >= 0)
                return 0;
        int r = -errno;
        (void) unlinkat(dirfd, tmp, 0);
        if (r == -EISDIR || r == -ENOTEMPTY || r == -EEXIST)
                return log_error_errno(r, "Cannot overwrite directory '%s' with a non-directory", name);
        return log_error_errno(r, "Cannot create '%s': %m", name);
}

/* The mode to give a copy. Out of the container without -a, a file becomes the invoking user's: its setuid
 * and setgid bits are dropped, or a container could hand root a setuid-root program of its choosing on the
 * host. */
static mode_t mode_for(const CopyContext *c, const struct stat *st) {
        mode_t m = st->st_mode & 07777;
        if (!c->to_container && !c->archive && !S_ISDIR(st->st_mode))
                m &= ~(mode_t) (S_ISUID | S_ISGID);
        return m;
}

static int copy_regular(CopyContext *c, int srcfd, const struct stat *st, int dirfd, const char *name) {
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        struct stat st2;
        char tmp[64], self[64];
        uid_t uid;
        gid_t gid;
        int r;

        /* srcfd is O_PATH and was checked to be a regular file: reopening that very inode through the host's
         * /proc never opens a FIFO or device the container may have swapped in under the name */
        snprintf(self, sizeof self, "self/fd/%d", srcfd);
        in = openat(c->procfd, self, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (in < 0)
                return log_error_errno(errno, "Cannot open '%s': %m", name);
        if (fstat(in, &st2) < 0 || !S_ISREG(st2.st_mode) || st2.st_ino != st->st_ino ||
            st2.st_dev != st->st_dev)
                return log_error_errno(-EIO, "'%s' changed while it was copied", name);
        tmp_name(tmp, sizeof tmp);
        out = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return log_error_errno(errno, "Cannot create '%s': %m", name);
        r = copy_data(in, out);
        if (r < 0) {
                (void) unlinkat(dirfd, tmp, 0);
                return log_error_errno(r, "Cannot copy '%s': %m", name);
        }
        owner_for(c, st, &uid, &gid);
        /* chown first: it clears the setuid and setgid bits that fchmod then sets */
        if (fchown(out, uid, gid) < 0 || fchmod(out, mode_for(c, st)) < 0 ||
            futimens(out, (struct timespec[]){st->st_atim, st->st_mtim}) < 0) {
                r = -errno;
                (void) unlinkat(dirfd, tmp, 0);
                return log_error_errno(r, "Cannot set the owner, mode or times of '%s': %m", name);
        }
        return commit(dirfd, tmp, name);
}

static int copy_symlink(CopyContext *c, int srcfd, const struct stat *st, int dirfd, const char *name) {
        char target[PATH_MAX + 1], tmp[64];
        uid_t uid;
        gid_t gid;
        ssize_t n = readlinkat(srcfd, "", target, sizeof target - 1);
        if (n < 0)
                return log_error_errno(errno, "Cannot read the symlink '%s': %m", name);
        target[n] = 0;
        tmp_name(tmp, sizeof tmp);
        /* the target is copied as text, never followed */
        if (symlinkat(target, dirfd, tmp) < 0)
                return log_error_errno(errno, "Cannot create '%s': %m", name);
        owner_for(c, st, &uid, &gid);
        if (fchownat(dirfd, tmp, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            utimensat(dirfd, tmp, (struct timespec[]){st->st_atim, st->st_mtim}, AT_SYMLINK_NOFOLLOW) < 0) {
                int r = -errno;
                (void) unlinkat(dirfd, tmp, 0);
                return log_error_errno(r, "Cannot set the owner or times of '%s': %m", name);
        }
        return commit(dirfd, tmp, name);
}

static int copy_special(CopyContext *c, const struct stat *st, int dirfd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st2;
        char tmp[64], self[64];
        uid_t uid;
        gid_t gid;

        if (S_ISSOCK(st->st_mode)) {
                log_warning("Skipping the socket '%s'", name);
                c->n_skipped++;
                return 0;
        }
        /* A device node from a container, made on the host, could give any host user the host's disks: only
         * with -a (docker makes them whenever it can; we ask for it). Into the container they are made when
         * we may: its device cgroup still decides what it may open. */
        if (!S_ISFIFO(st->st_mode) && !c->to_container && !c->archive) {
                log_warning("Skipping the device node '%s' (use -a to copy device nodes out)", name);
                c->n_skipped++;
                return 0;
        }
        tmp_name(tmp, sizeof tmp);
        if (mknodat(dirfd, tmp, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0) {
                if (errno == EPERM) {
                        log_warning("Skipping the special file '%s': no privilege to create it", name);
                        c->n_skipped++;
                        return 0;
                }
                return log_error_errno(errno, "Cannot create '%s': %m", name);
        }
        /* owner and mode through an O_PATH fd of what we made: it is never opened, and a symlink swapped in
         * under the temporary name is not followed */
        fd = openat(dirfd, tmp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st2) < 0 || (st2.st_mode & S_IFMT) != (st->st_mode & S_IFMT)) {
                (void) unlinkat(dirfd, tmp, 0);
                return log_error_errno(fd < 0 ? errno : EIO, "Cannot create '%s': %m", name);
        }
        owner_for(c, st, &uid, &gid);
        snprintf(self, sizeof self, "self/fd/%d", fd);
        if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0 ||
            fchmodat(c->procfd, self, mode_for(c, st), 0) < 0 ||
            utimensat(dirfd, tmp, (struct timespec[]){st->st_atim, st->st_mtim}, AT_SYMLINK_NOFOLLOW) < 0) {
                int r = -errno;
                (void) unlinkat(dirfd, tmp, 0);
                return log_error_errno(r, "Cannot set the owner, mode or times of '%s': %m", name);
        }
        return commit(dirfd, tmp, name);
}

static int copy_object(CopyContext *c, int srcfd, const struct stat *st, int dirfd, const char *name,
                       unsigned depth);

static bool is_kernel_fs(int fd) {
        struct statfs sfs;
        if (fstatfs(fd, &sfs) < 0)
                return true; /* cannot tell: leave it */
        return sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC ||
               sfs.f_type == CGROUP_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC ||
               sfs.f_type == DEBUGFS_MAGIC || sfs.f_type == SECURITYFS_MAGIC;
}

/* Every entry of the open directory src into the directory dst. */
static int copy_contents(CopyContext *c, int src, int dst, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        struct stat parent;
        if (fstat(src, &parent) < 0)
                return -errno;
        int dfd = fcntl(src, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        for (;;) {
                _cleanup_close_ int fd = -EBADF;
                struct stat st;
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return log_error_errno(errno, "Cannot read a directory: %m");
                        return 0;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                /* a name read from a directory is one component; it is only ever used as one, under a
                 * directory fd, never followed */
                fd = openat(dirfd(d), de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT)
                                continue; /* removed meanwhile */
                        return log_error_errno(errno, "Cannot open '%s': %m", de->d_name);
                }
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode) && st.st_dev != parent.st_dev && is_kernel_fs(fd)) {
                        /* a running container's /proc, /sys or cgroupfs: read by host root these are the
                         * host kernel's files (and some have side effects); named as SRC they are copied */
                        log_warning("Skipping '%s': a /proc, /sys or cgroup file system", de->d_name);
                        c->n_skipped++;
                        continue;
                }
                int r = copy_object(c, fd, &st, dst, de->d_name, depth + 1);
                if (r < 0)
                        return r;
        }
}

static int copy_directory(CopyContext *c, int srcfd, const struct stat *st, int dirfd, const char *name,
                          unsigned depth) {
        _cleanup_close_ int src = -EBADF, dst = -EBADF;
        struct stat dst_st;
        uid_t uid;
        gid_t gid;
        int r;

        if (depth > COPY_DEPTH_MAX)
                return log_error_errno(-ELOOP, "'%s' is nested too deeply (more than %u levels)", name,
                                       COPY_DEPTH_MAX);
        src = openat(srcfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (src < 0)
                return log_error_errno(errno, "Cannot open the directory '%s': %m", name);
        if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Cannot create the directory '%s': %m", name);
        /* an existing directory is merged into; a symlink there is not followed */
        dst = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dst < 0) {
                if (errno == ENOTDIR || errno == ELOOP)
                        return log_error_errno(errno, "Cannot overwrite non-directory '%s' with a directory",
                                               name);
                return log_error_errno(errno, "Cannot open the directory '%s': %m", name);
        }
        if (fstat(dst, &dst_st) < 0)
                return -errno;
        if (dst_st.st_dev == st->st_dev && dst_st.st_ino == st->st_ino)
                return log_error_errno(-ELOOP, "Cannot copy the directory '%s' into itself", name);
        r = copy_contents(c, src, dst, depth);
        if (r < 0)
                return r;
        owner_for(c, st, &uid, &gid);
        if (fchown(dst, uid, gid) < 0 || fchmod(dst, st->st_mode & 07777) < 0 ||
            futimens(dst, (struct timespec[]){st->st_atim, st->st_mtim}) < 0)
                return log_error_errno(errno, "Cannot set the owner, mode or times of '%s': %m", name);
        return 0;
}

static int copy_object(CopyContext *c, int srcfd, const struct stat *st, int dirfd, const char *name,
                       unsigned depth) {
        switch (st->st_mode & S_IFMT) {
        case S_IFREG:
                return copy_regular(c, srcfd, st, dirfd, name);
        case S_IFDIR:
                return copy_directory(c, srcfd, st, dirfd, name, depth);
        case S_IFLNK:
                return copy_symlink(c, srcfd, st, dirfd, name);
        default:
                return copy_special(c, st, dirfd, name);
        }
}

int copy_place(CopyContext *c, int srcfd, const CopyPath *src, const char *src_spec, CopyDest *dst,
               const char *dst_spec) {
        _cleanup_close_ int dir = -EBADF;
        struct stat st;

        if (fstat(srcfd, &st) < 0)
                return log_error_errno(errno, "Cannot stat '%s': %m", src_spec);
        if (src->trailing_slash && !S_ISDIR(st.st_mode))
                return log_error_errno(-ENOTDIR, "'%s' is not a directory", src_spec);
        if (!dst->name) {
                /* an existing directory: SRC goes inside it, or with "SRC/." its contents */
                if (!S_ISDIR(st.st_mode) || !src->contents_only)
                        return copy_object(c, srcfd, &st, dst->dirfd, src->base, 0);
                dir = openat(srcfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir < 0)
                        return log_error_errno(errno, "Cannot open the directory '%s': %m", src_spec);
                return copy_contents(c, dir, dst->dirfd, 0);
        }
        if (S_ISDIR(st.st_mode) && dst->exists)
                return log_error_errno(-ENOTDIR, "Cannot copy a directory to a file: '%s'", dst_spec);
        return copy_object(c, srcfd, &st, dst->dirfd, dst->name, 0);
}
