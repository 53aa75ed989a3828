/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hardlinks across layers in the store. A layer may link to a file that a lower layer holds (kaniko and some
 * buildah images do): the file is found in the merged view of the layers below, copied up to its own name in
 * this layer (data with its holes, owner, mode, xattrs, times) and then linked, as overlayfs' copy-up and
 * containerd do. The lookup goes one component at a time, each with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) from a directory inside one layer, and
 * obeys overlay semantics: a whiteout or a non-directory hides what is below it, an opaque directory hides
 * the lower directories. A symlink on the way is refused rather than resolved: it would have to be resolved
 * in the merged view, and real link targets are the paths the builder walked, without symlinks. */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "extract-internal.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"

#define COPY_CHUNK (1U << 20)

/* One component below dirfd, nothing followed, nothing crossed. */
static int open_child(int dirfd, const char *name, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_NOFOLLOW | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        for (;;) {
                long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof how);
                if (fd >= 0)
                        return (int) fd;
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
        }
}

static bool is_whiteout(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int fd) {
        char v[2];
        return fgetxattr(fd, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
}

static int fetch_lowers(Extract *x) {
        if (x->lower_fetched)
                return 0;
        int r = x->o->lower_layers(x->o->lower_userdata, &x->lower_fds, &x->n_lower, x->why, x->why_size);
        if (r < 0)
                return r;
        x->lower_fetched = true;
        return 0;
}

/* Copy the xattrs the writer would apply, sdir/sname to ddir/dname (never followed). */
static int copy_xattrs(Extract *x, int sdir, const char *sname, int ddir, const char *dname,
                       const char *path) {
        char src[64 + NAME_MAX], dst[64 + NAME_MAX];
        _cleanup_free_ char *names = NULL;
        (void) snprintf(src, sizeof src, "/proc/self/fd/%d/%s", sdir, sname);
        (void) snprintf(dst, sizeof dst, "/proc/self/fd/%d/%s", ddir, dname);

        ssize_t n = llistxattr(src, NULL, 0);
        if (n < 0 && errno == EOPNOTSUPP)
                return 0;
        if (n < 0)
                return extract_fail(x, -errno, "cannot list the xattrs of '%.160s': %m", path);
        if (n == 0)
                return 0;
        names = malloc((size_t) n);
        if (!names)
                return -ENOMEM;
        n = llistxattr(src, names, (size_t) n);
        if (n < 0)
                return extract_fail(x, -errno, "cannot list the xattrs of '%.160s': %m", path);
        for (const char *p = names; p < names + n; p += strlen(p) + 1) {
                _cleanup_free_ char *value = NULL;
                if (!xattr_allowed(p))
                        continue;
                ssize_t size = lgetxattr(src, p, NULL, 0);
                if (size >= 0 && !(value = malloc((size_t) size + 1)))
                        return -ENOMEM;
                if (size >= 0)
                        size = lgetxattr(src, p, value, (size_t) size);
                if (size < 0)
                        return extract_fail(x, -errno, "cannot read xattr '%.160s' of '%.160s': %m", p,
                                            path);
                /* security.capability as the kernel reads it to us: already in the form the writer chose. */
                if (lsetxattr(dst, p, value, (size_t) size, 0) < 0) {
                        if (errno != EOPNOTSUPP && errno != EPERM)
                                return extract_fail(x, -errno, "cannot set xattr '%.160s': %m", p);
                        warn_xattr(x, -errno, p, path);
                }
        }
        return 0;
}

/* Owner, mode, xattrs and times of st (the lower node) onto ddir/dname; a directory's times are set when the
 * layer is done. After the data: a write would drop security.capability. */
static int copy_meta(Extract *x, const struct stat *st, int sdir, const char *sname, int ddir,
                     const char *dname, const char *path) {
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        if (fchownat(ddir, dname, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return extract_fail(x, -errno, "cannot chown '%.160s': %m", path);
        if (!S_ISLNK(st->st_mode) && fchmodat(ddir, dname, st->st_mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
                return extract_fail(x, -errno, "cannot chmod '%.160s': %m", path);
        int r = copy_xattrs(x, sdir, sname, ddir, dname, path);
        if (r < 0)
                return r;
        if (S_ISDIR(st->st_mode))
                return track_dir(x, -EBADF, path, ts);
        if (utimensat(ddir, dname, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return extract_fail(x, -errno, "cannot set the times of '%.160s': %m", path);
        return 0;
}

/* The data, holes kept: only the extents SEEK_DATA finds are copied (copy_file_range, which may share the
 * blocks on a filesystem that can, or read/write). */
static int copy_data(Extract *x, int src, int dst, off_t size, const char *path) {
        _cleanup_free_ char *buf = NULL;
        bool plain = false;
        for (off_t off = 0; off < size;) {
                off_t data = lseek(src, off, SEEK_DATA);
                if (data < 0 && errno == ENXIO)
                        break;
                if (data < 0)
                        return extract_fail(x, -errno, "cannot read '%.160s': %m", path);
                off_t hole = lseek(src, data, SEEK_HOLE);
                if (hole < 0)
                        return extract_fail(x, -errno, "cannot read '%.160s': %m", path);
                for (off = data; off < hole;) {
                        size_t want = (size_t) MIN(hole - off, (off_t) COPY_CHUNK);
                        ssize_t n = -1;
                        if (!plain) {
                                off_t in = off, out = off;
                                n = copy_file_range(src, &in, dst, &out, want, 0);
                                if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP ||
                                              errno == ENOSYS))
                                        plain = true;
                        }
                        if (plain) {
                                if (!buf && !(buf = malloc(COPY_CHUNK)))
                                        return -ENOMEM;
                                n = pread(src, buf, want, off);
                                if (n > 0 && pwrite(dst, buf, (size_t) n, off) != n)
                                        n = -1;
                        }
                        if (n < 0)
                                return extract_fail(x, -errno, "cannot copy '%.160s': %m", path);
                        if (n == 0)
                                return extract_fail(x, -EIO, "'%.160s' is shorter than it says", path);
                        off += n;
                        int r = check_space(x, (size_t) n);
                        if (r < 0)
                                return r;
                }
        }
        if (ftruncate(dst, size) < 0)
                return extract_fail(x, -errno, "cannot extend '%.160s': %m", path);
        return 0;
}

/* Copy the non-directory sdir/name (st) to cdir/name in this layer. */
static int copy_node(Extract *x, int sdir, int cdir, const char *name, const struct stat *st,
                     const char *path) {
        _cleanup_close_ int src = -EBADF, dst = -EBADF;
        int r;

        if (S_ISREG(st->st_mode)) {
                struct stat now;
                src = open_child(sdir, name, O_RDONLY);
                if (src < 0 || fstat(src, &now) < 0 || !S_ISREG(now.st_mode))
                        return extract_fail(x, src < 0 ? src : -EIO, "cannot open '%.160s' in a lower layer",
                                            path);
                dst = openat(cdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (dst < 0)
                        return extract_fail(x, -errno, "cannot create '%.160s': %m", path);
                r = copy_data(x, src, dst, now.st_size, path);
                if (r < 0)
                        return r;
        } else if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(sdir, name, target, sizeof target - 1);
                if (n < 0)
                        return extract_fail(x, -errno, "cannot read the symlink '%.160s': %m", path);
                target[n] = 0;
                if (symlinkat(target, cdir, name) < 0)
                        return extract_fail(x, -errno, "cannot create '%.160s': %m", path);
        } else if (mknodat(cdir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
                return extract_fail(x, -errno, "cannot create '%.160s': %m", path);
        return copy_meta(x, st, sdir, name, cdir, name, path);
}

/* Layers' directories at one level of the path: this layer's (cur, -EBADF if it has none) and the lower ones
 * that show through, nearest first. */
typedef struct Level {
        int cur;
        int *lower;
        size_t n;
        bool owned; /* the lower fds are ours (below the roots) */
} Level;

static void level_clear(Level *l) {
        if (l->owned)
                for (size_t i = 0; i < l->n; i++)
                        safe_close(l->lower[i]);
        l->n = 0;
        l->owned = true;
}

static void level_done(Level *l) {
        level_clear(l);
        free(l->lower);
        safe_close(l->cur);
}

static int refuse_hidden(Extract *x, const char *shown) {
        return extract_fail(x, -ENOENT, "hardlink target '%.160s' is deleted by a whiteout", shown);
}

/* Step from the level at into the directory p (named path): next gets this layer's directory (made here if
 * only a lower layer has it) and the lower ones that show through. */
static int step(Extract *x, Level *at, Level *next, const char *p, const char *path, const char *parent,
                const char *shown, bool *hidden) {
        struct stat st;
        int r;

        /* This layer first: a whiteout, symlink or file here hides everything below. */
        if (fstatat(at->cur, p, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (is_whiteout(&st))
                        return refuse_hidden(x, shown);
                if (S_ISLNK(st.st_mode))
                        return extract_fail(x, -ELOOP,
                                            "hardlink target '%.160s' goes through the symlink '%.160s'",
                                            shown, path);
                if (!S_ISDIR(st.st_mode))
                        return extract_fail(x, -ENOTDIR,
                                            "hardlink target '%.160s': '%.160s' is not a directory", shown,
                                            path);
                next->cur = open_child(at->cur, p, O_RDONLY | O_DIRECTORY);
                if (next->cur < 0)
                        return extract_fail(x, next->cur, "cannot open '%.160s': %s", path,
                                            strerror(-next->cur));
                if (is_opaque(next->cur)) {
                        *hidden = true;
                        return 0;
                }
        }
        for (size_t i = 0; i < at->n; i++) {
                if (fstatat(at->lower[i], p, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (!S_ISDIR(st.st_mode)) {
                        /* Hides the layers below; with nothing above, it is what the path meets. */
                        if (next->cur >= 0 || next->n > 0) {
                                *hidden = true;
                                return 0;
                        }
                        if (is_whiteout(&st))
                                return refuse_hidden(x, shown);
                        if (S_ISLNK(st.st_mode))
                                return extract_fail(
                                        x, -ELOOP,
                                        "hardlink target '%.160s' goes through the symlink '%.160s' "
                                        "of a lower layer",
                                        shown, path);
                        return extract_fail(x, -ENOTDIR,
                                            "hardlink target '%.160s': '%.160s' is not a directory", shown,
                                            path);
                }
                int fd = open_child(at->lower[i], p, O_RDONLY | O_DIRECTORY);
                if (fd < 0)
                        return extract_fail(x, fd, "cannot open '%.160s' in a lower layer: %s", path,
                                            strerror(-fd));
                next->lower[next->n++] = fd;
                if (is_opaque(fd)) {
                        *hidden = true;
                        break;
                }
        }
        if (next->cur >= 0)
                return 0;
        if (next->n == 0)
                return extract_fail(x, -ENOENT,
                                    "hardlink target '%.160s' does not exist in this layer or below it%s",
                                    shown, *hidden ? " (deleted or hidden by an opaque directory)" : "");
        /* Made in this layer as overlayfs' copy-up makes it: with the attributes of the directory that shows
         * through. Its parent keeps its times. */
        r = track_dir(x, at->cur, parent, NULL);
        if (r >= 0)
                r = RET_NERRNO(mkdirat(at->cur, p, 0700));
        if (r < 0)
                return extract_fail(x, r, "cannot create '%.160s': %s", path, strerror(-r));
        next->cur = open_child(at->cur, p, O_RDONLY | O_DIRECTORY);
        if (next->cur < 0)
                return extract_fail(x, next->cur, "cannot open '%.160s': %s", path, strerror(-next->cur));
        if (fstat(next->lower[0], &st) < 0)
                return -errno;
        r = copy_meta(x, &st, next->lower[0], ".", at->cur, p, path);
        return r < 0 ? r : copied_add(x, at->cur, p, path);
}

int copy_up(Extract *x, const char *link, const char *shown) {
        _cleanup_(level_done) Level at = {.cur = -EBADF}, next = {.cur = -EBADF};
        _cleanup_free_ char *path = strdup(link), *parent = strdup("");
        bool hidden = false;
        struct stat st;
        char *p = path;
        int r;

        if (!path || !parent)
                return -ENOMEM;
        r = fetch_lowers(x);
        if (r < 0)
                return r;
        at.lower = malloc((x->n_lower + 1) * sizeof(int));
        next.lower = malloc((x->n_lower + 1) * sizeof(int));
        if (!at.lower || !next.lower)
                return -ENOMEM;
        memcpy(at.lower, x->lower_fds, x->n_lower * sizeof(int));
        at.n = x->n_lower;
        at.owned = false;
        next.owned = true;
        at.cur = open_in_root(x->rootfd, "", O_RDONLY | O_DIRECTORY);
        if (at.cur < 0)
                return extract_fail(x, at.cur, "cannot open the layer: %s", strerror(-at.cur));
        if (is_opaque(at.cur)) {
                /* A ".wh..wh..opq" at the top of the layer: nothing below shows through. */
                at.n = 0;
                hidden = true;
        }

        for (char *slash; (slash = strchr(p, '/')); p = slash + 1) {
                *slash = 0;
                r = step(x, &at, &next, p, path, parent, shown, &hidden);
                if (r < 0)
                        return r;
                free(parent);
                parent = strdup(path);
                if (!parent)
                        return -ENOMEM;
                *slash = '/';
                level_clear(&at);
                safe_close(at.cur);
                at.cur = TAKE_FD(next.cur);
                int *t = at.lower;
                at.lower = next.lower;
                at.n = next.n;
                next.lower = t;
                next.n = 0;
        }

        /* The target itself: in this layer it can only be a whiteout (else the caller had found it). */
        if (fstatat(at.cur, p, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (is_whiteout(&st))
                        return refuse_hidden(x, shown);
                if (S_ISDIR(st.st_mode))
                        return extract_fail(x, -EPERM, "hardlink target '%.160s' is a directory", shown);
                return 0;
        }
        for (size_t i = 0; i < at.n; i++) {
                if (fstatat(at.lower[i], p, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (is_whiteout(&st))
                        return refuse_hidden(x, shown);
                if (S_ISDIR(st.st_mode))
                        return extract_fail(x, -EPERM, "hardlink target '%.160s' is a directory", shown);
                r = track_dir(x, at.cur, parent, NULL);
                if (r < 0)
                        return r;
                log_debug("Copying up '%s' from a lower layer for a hardlink", link);
                r = copy_node(x, at.lower[i], at.cur, p, &st, link);
                return r < 0 ? r : copied_add(x, at.cur, p, link);
        }
        return extract_fail(x, -ENOENT,
                            "hardlink target '%.160s' does not exist in this layer or below it%s", shown,
                            hidden ? " (deleted or hidden by an opaque directory)" : "");
}
