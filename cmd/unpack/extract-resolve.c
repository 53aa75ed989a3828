/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "extract-internal.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"

int extract_fail(Extract *x, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(x->why, x->why_size, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

void why_escape(char *why, size_t size) {
        char buf[1024];
        size_t o = 0;
        for (const unsigned char *p = (const unsigned char *) why; *p && o + 5 < sizeof buf; p++)
                if (*p < 0x20 || *p == 0x7f)
                        o += (size_t) snprintf(buf + o, sizeof buf - o, "\\x%02x", *p);
                else
                        buf[o++] = (char) *p;
        buf[o] = 0;
        (void) snprintf(why, size, "%s", buf);
}

int open_in_root(int rootfd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        for (;;) {
                long fd = syscall(SYS_openat2, rootfd, isempty(path) ? "." : path, &how, sizeof how);
                if (fd >= 0)
                        return (int) fd;
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
        }
}

/* Clean an archive path into "a/b/c" ("" for the root): "." and empty components go, ".." is refused, every
 * component fits NAME_MAX and the whole PATH_MAX. */
int normalize_path(const char *in, char **ret, const char **ret_why) {
        size_t len = strlen(in);
        if (len >= PATH_MAX) {
                *ret_why = "path is too long";
                return -ENAMETOOLONG;
        }
        _cleanup_free_ char *out = malloc(len + 1);
        size_t o = 0;
        if (!out)
                return -ENOMEM;
        for (const char *p = in; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && strneq(p, "..", 2)) {
                        *ret_why = "path has a '..' component";
                        return -EINVAL;
                }
                if (n > NAME_MAX) {
                        *ret_why = "path component is too long";
                        return -ENAMETOOLONG;
                }
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        if (o > 0)
                                out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p += n;
                p += strspn(p, "/");
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

int map_id(const IdMap *m, int64_t id, uint32_t *ret) {
        if (id < 0 || id >= ID_MAX)
                return -ERANGE;
        if (!m || m->n == 0) {
                *ret = (uint32_t) id;
                return 0;
        }
        for (size_t i = 0; i < m->n; i++)
                if ((uint64_t) id >= m->ranges[i].inside &&
                    (uint64_t) id < (uint64_t) m->ranges[i].inside + m->ranges[i].count) {
                        *ret = m->ranges[i].outside + (uint32_t) ((uint64_t) id - m->ranges[i].inside);
                        return 0;
                }
        return -ERANGE;
}

int idmap_parse(const char *s, IdMap *ret) {
        IdMap m = {};
        for (const char *p = s; *p;) {
                unsigned long long in, out, count;
                int n = 0;
                if (m.n >= ELEMENTSOF(m.ranges))
                        return -E2BIG;
                if (sscanf(p, "%llu:%llu:%llu%n", &in, &out, &count, &n) != 3 || n == 0 || count == 0 ||
                    in + count > ID_MAX || out + count > ID_MAX || strchr("+-", *p))
                        return -EINVAL;
                m.ranges[m.n++] = (IdRange){(uint32_t) in, (uint32_t) out, (uint32_t) count};
                p += n;
                if (*p == ',')
                        p++;
                else if (*p)
                        return -EINVAL;
        }
        if (m.n == 0)
                return -EINVAL;
        *ret = m;
        return 0;
}

char *strjoin_path(const char *parent, const char *name) {
        char *s;
        if (isempty(parent))
                return strdup(name);
        return asprintf(&s, "%s/%s", parent, name) < 0 ? NULL : s;
}

void split_path(char *path, const char **ret_parent, const char **ret_name) {
        char *slash = strrchr(path, '/');
        if (!slash) {
                *ret_parent = "";
                *ret_name = path;
        } else {
                *slash = 0;
                *ret_parent = path;
                *ret_name = slash + 1;
        }
}

/* Remember a directory's times to set at the end; a directory first seen as a parent keeps the times it had.
 */
int track_dir(Extract *x, int dirfd, const char *path, const struct timespec *ts) {
        size_t i;
        if (strmap_get(x->dir_index, path, &i)) {
                if (ts) {
                        memcpy(x->dirs[i].ts, ts, sizeof(x->dirs[i].ts));
                        x->dirs[i].follow = false;
                }
                return 0;
        }
        if (x->n_dirs == x->n_dirs_alloc) {
                size_t n = MAX(x->n_dirs_alloc * 2, 64U);
                DirTimes *d = realloc(x->dirs, n * sizeof(DirTimes));
                if (!d)
                        return -ENOMEM;
                x->dirs = d;
                x->n_dirs_alloc = n;
        }
        DirTimes *d = &x->dirs[x->n_dirs];
        /* A parent reached through a symlink (a lower layer's var/run -> /run) keeps its times too. */
        d->follow = !ts;
        if (ts)
                memcpy(d->ts, ts, sizeof(d->ts));
        else {
                struct stat st;
                if (fstatat(dirfd, "", &st, AT_EMPTY_PATH) < 0)
                        return -errno;
                d->ts[0] = st.st_atim;
                d->ts[1] = st.st_mtim;
        }
        d->path = strdup(path);
        if (!d->path)
                return -ENOMEM;
        int r = strmap_put(x->dir_index, path, x->n_dirs);
        if (r < 0) {
                free(d->path);
                return r;
        }
        x->n_dirs++;
        return 0;
}

int apply_dir_times(Extract *x) {
        for (size_t i = x->n_dirs; i > 0; i--) {
                _cleanup_close_ int fd =
                        open_in_root(x->rootfd, x->dirs[i - 1].path,
                                     O_RDONLY | O_DIRECTORY | (x->dirs[i - 1].follow ? 0 : O_NOFOLLOW));
                /* Gone or replaced by a non-directory later in the layer: nothing to restore. */
                if (fd < 0)
                        continue;
                if (futimens(fd, x->dirs[i - 1].ts) < 0)
                        return extract_fail(x, -errno, "cannot set the times of '%.160s': %m",
                                            x->dirs[i - 1].path);
        }
        return 0;
}

/* Open the parent directory of an entry inside the root, creating missing directories (0755, owned by the
 * mapped root) as tar does. Returns an O_PATH fd. */
int open_parent(Extract *x, const char *parent, bool create, int *ret_fd) {
        int fd = open_in_root(x->rootfd, parent, O_PATH | O_DIRECTORY);
        if (fd >= 0 || (fd != -ENOENT && fd != -ENOTDIR) || !create) {
                if (fd == -ENOTDIR)
                        return extract_fail(x, fd, "parent '%.160s' is not a directory", parent);
                if (fd < 0)
                        return extract_fail(x, fd, "cannot open parent '%.160s': %s", parent, strerror(-fd));
                *ret_fd = fd;
                return 0;
        }
        _cleanup_free_ char *prefix = strdup(parent);
        _cleanup_close_ int cur = -EBADF;
        if (!prefix)
                return -ENOMEM;
        cur = open_in_root(x->rootfd, "", O_PATH | O_DIRECTORY);
        if (cur < 0)
                return cur;
        for (char *p = prefix;;) {
                char *slash = strchr(p, '/');
                if (slash)
                        *slash = 0;
                int next = open_in_root(x->rootfd, prefix, O_PATH | O_DIRECTORY);
                if (next == -ENOTDIR && x->o->mode == EXTRACT_LAYER) {
                        /* Our own whiteout (an earlier ".wh.NAME" of this layer) in the way of an entry
                         * below NAME: it becomes an opaque directory, which hides the lower NAME just as
                         * well. */
                        struct stat st;
                        if (fstatat(cur, p, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISCHR(st.st_mode) &&
                            st.st_rdev == makedev(0, 0)) {
                                if (unlinkat(cur, p, 0) < 0 || mkdirat(cur, p, 0755) < 0)
                                        return extract_fail(x, -errno,
                                                            "cannot replace whiteout '%.160s': %m", prefix);
                                int k = make_opaque(x, cur, p);
                                if (k < 0)
                                        return k;
                                next = open_in_root(x->rootfd, prefix, O_PATH | O_DIRECTORY);
                        }
                }
                if (next == -ENOTDIR)
                        return extract_fail(x, next, "parent '%.160s' is not a directory", prefix);
                if (next == -ENOENT) {
                        uint32_t uid = 0, gid = 0;
                        if (mkdirat(cur, p, 0755) < 0)
                                return extract_fail(x, -errno,
                                                    errno == EEXIST ? "parent '%.160s' is a dangling symlink"
                                                                    : "cannot create parent '%.160s': %m",
                                                    prefix);
                        (void) map_id(x->o->uidmap, 0, &uid);
                        (void) map_id(x->o->gidmap, 0, &gid);
                        if ((uid != 0 || gid != 0) && fchownat(cur, p, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                                return extract_fail(x, -errno, "cannot chown '%.160s': %m", prefix);
                        next = open_in_root(x->rootfd, prefix, O_PATH | O_DIRECTORY);
                }
                if (next < 0)
                        return extract_fail(x, next, "cannot open parent '%.160s': %s", prefix,
                                            strerror(-next));
                safe_close(cur);
                cur = next;
                if (!slash)
                        break;
                *slash = '/';
                p = slash + 1;
        }
        *ret_fd = TAKE_FD(cur);
        return 0;
}

int add_written(Extract *x, const char *path) {
        if (x->o->mode != EXTRACT_TREE)
                return 0;
        int r = strmap_put(x->written, path, 0);
        if (r < 0 && r != -EEXIST)
                return r;
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s; (s = strrchr(p, '/'));) {
                *s = 0;
                r = strmap_put(x->ancestors, p, 0);
                if (r == -EEXIST)
                        break;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Make room for a new node: anything in the way goes, except a directory when a directory comes (tar
 * merges those). Returns 1 if a directory is there to keep. */
int make_room(Extract *x, int dirfd, const char *name, bool want_dir) {
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : extract_fail(x, -errno, "cannot stat: %m");
        if (want_dir && S_ISDIR(st.st_mode))
                return 1;
        int r = rm_rf_at(dirfd, name);
        if (r < 0)
                return extract_fail(x, r, "cannot remove what is in the way: %s", strerror(-r));
        return 0;
}

const char *name_of(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* Forget the cached parent; returns its fd for the caller to own. */
int detach_parent(Extract *x) {
        x->cache_path = mfree(x->cache_path);
        return TAKE_FD(x->cache_fd);
}

void drop_parent(Extract *x) {
        safe_close(detach_parent(x));
}

/* The entry's parent, from the cache or freshly resolved in the root (and then cached). Borrowed fd. */
int get_parent(Extract *x, const char *parent, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (x->cache_path && streq(x->cache_path, parent)) {
                *ret_fd = x->cache_fd;
                return 0;
        }
        drop_parent(x);
        r = open_parent(x, parent, true, &fd);
        if (r < 0)
                return r;
        r = track_dir(x, fd, parent, NULL);
        if (r < 0)
                return r;
        if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0)
                return -errno;
        x->cache_path = strdup(parent);
        if (!x->cache_path)
                return -ENOMEM;
        x->cache_sgid = st.st_mode & S_ISGID;
        x->cache_fd = TAKE_FD(fd);
        *ret_fd = x->cache_fd;
        return 0;
}
