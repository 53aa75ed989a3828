/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "extract.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "strmap.h"

#define ID_MAX 0x7fffffffU /* uids/gids at or above 2^31 are refused (CVE-2024-40635 class) */
#define DEV_MAJOR_MAX 0xfffU
#define DEV_MINOR_MAX 0xfffffU

typedef struct DirTimes {
        char *path;
        struct timespec ts[2];
} DirTimes;

typedef struct Extract {
        int rootfd;
        LayerStream *stream;
        const ExtractOptions *o;
        struct archive *a;
        char *why;
        size_t why_size;
        int stream_error;
        ExtractStats stats;

        /* Directories whose times are set once the layer is written (entries change a directory's mtime). */
        DirTimes *dirs;
        size_t n_dirs, n_dirs_alloc;
        StrMap *dir_index;

        /* EXTRACT_TREE: every path this layer wrote, and their ancestors, for whiteouts and opaque dirs. */
        StrMap *written, *ancestors;
        char **opaque;
        size_t n_opaque;
        bool warned_xattr;
        uid_t euid;
        gid_t egid;

        /* The parent of the last entry, while consecutive entries share it. Entries with the same parent
         * only add or replace names inside it, so its resolution cannot change; any other entry drops it.
         * The fd is a directory inside the root, so even a stale one cannot lead out. */
        char *cache_path;
        int cache_fd;
        bool cache_sgid;
} Extract;

static int fail(Extract *x, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(Extract *x, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(x->why, x->why_size, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

static int open_in_root(int rootfd, const char *path, int flags) {
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
static int normalize_path(const char *in, char **ret, const char **ret_why) {
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

static int map_id(const IdMap *m, int64_t id, uint32_t *ret) {
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

static char *strjoin_path(const char *parent, const char *name) {
        char *s;
        if (isempty(parent))
                return strdup(name);
        return asprintf(&s, "%s/%s", parent, name) < 0 ? NULL : s;
}

static void split_path(char *path, const char **ret_parent, const char **ret_name) {
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
static int track_dir(Extract *x, int dirfd, const char *path, const struct timespec *ts) {
        size_t i;
        if (strmap_get(x->dir_index, path, &i)) {
                if (ts)
                        memcpy(x->dirs[i].ts, ts, sizeof(x->dirs[i].ts));
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

static int apply_dir_times(Extract *x) {
        for (size_t i = x->n_dirs; i > 0; i--) {
                _cleanup_close_ int fd =
                        open_in_root(x->rootfd, x->dirs[i - 1].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                /* Gone or replaced by a non-directory later in the layer: nothing to restore. */
                if (fd < 0)
                        continue;
                if (futimens(fd, x->dirs[i - 1].ts) < 0)
                        return fail(x, -errno, "cannot set the times of '%.160s': %m", x->dirs[i - 1].path);
        }
        return 0;
}

/* Open the parent directory of an entry inside the root, creating missing directories (0755, owned by the
 * mapped root) as tar does. Returns an O_PATH fd. */
static int open_parent(Extract *x, const char *parent, bool create, int *ret_fd) {
        int fd = open_in_root(x->rootfd, parent, O_PATH | O_DIRECTORY);
        if (fd >= 0 || fd != -ENOENT || !create) {
                if (fd == -ENOTDIR)
                        return fail(x, fd, "parent '%.160s' is not a directory", parent);
                if (fd < 0)
                        return fail(x, fd, "cannot open parent '%.160s': %s", parent, strerror(-fd));
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
                if (next == -ENOENT) {
                        uint32_t uid = 0, gid = 0;
                        if (mkdirat(cur, p, 0755) < 0)
                                return fail(x, -errno,
                                            errno == EEXIST ? "parent '%.160s' is a dangling symlink"
                                                            : "cannot create parent '%.160s': %m",
                                            prefix);
                        (void) map_id(x->o->uidmap, 0, &uid);
                        (void) map_id(x->o->gidmap, 0, &gid);
                        if ((uid != 0 || gid != 0) && fchownat(cur, p, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                                return fail(x, -errno, "cannot chown '%.160s': %m", prefix);
                        next = open_in_root(x->rootfd, prefix, O_PATH | O_DIRECTORY);
                }
                if (next < 0)
                        return fail(x, next, "cannot open parent '%.160s': %s", prefix, strerror(-next));
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

static int add_written(Extract *x, const char *path) {
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

static bool xattr_allowed(const char *name) {
        /* The overlay namespace belongs to the kernel: an image could forge opaque, redirect or metacopy
         * markers (U12). Everything else outside user/security/trusted (system.* ACLs, unknown) goes too. */
        if (startswith(name, "trusted.overlay.") || startswith(name, "user.overlay."))
                return false;
        return startswith(name, "user.") || startswith(name, "security.") || startswith(name, "trusted.");
}

/* Metadata for a node just made at dirfd/name (type checked by the caller); fd >= 0 is its own open fd. */
static int set_metadata(Extract *x, struct archive_entry *e, int dirfd, const char *name, int fd,
                        bool is_dir, bool fresh, const char *path) {
        mode_t type = archive_entry_filetype(e);
        mode_t mode = archive_entry_perm(e) & 07777;
        uint32_t uid, gid;
        int r;

        if (map_id(x->o->uidmap, archive_entry_uid(e), &uid) < 0 ||
            map_id(x->o->gidmap, archive_entry_gid(e), &gid) < 0)
                return fail(x, -ERANGE, "uid %lld or gid %lld is out of range or not mapped",
                            (long long) archive_entry_uid(e), (long long) archive_entry_gid(e));

        /* A node made just now by us, with its permission bits, in a parent without setgid, already has our
         * owner and the right mode: skip the syscalls. */
        bool chowned = !fresh || uid != x->euid || gid != x->egid;
        if (chowned) {
                r = fd >= 0 ? fchown(fd, uid, gid) : fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
                if (r < 0)
                        return fail(x, -errno, "cannot chown: %m");
        }
        /* After chown, which clears setuid/setgid. */
        if (type != AE_IFLNK && (chowned || (mode & 07000))) {
                r = fd >= 0 ? fchmod(fd, mode) : fchmodat(dirfd, name, mode, AT_SYMLINK_NOFOLLOW);
                if (r < 0)
                        return fail(x, -errno, "cannot chmod: %m");
        }

        archive_entry_xattr_reset(e);
        const char *xname;
        const void *value;
        size_t size;
        char procpath[64 + NAME_MAX];
        if (fd < 0)
                (void) snprintf(procpath, sizeof procpath, "/proc/self/fd/%d/%s", dirfd, name);
        while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
                if (!xattr_allowed(xname)) {
                        log_debug("Dropping xattr '%.160s' of '%.160s'", xname, path);
                        continue;
                }
                r = fd >= 0 ? fsetxattr(fd, xname, value, size, 0)
                            : lsetxattr(procpath, xname, value, size, 0);
                if (r < 0 && (errno == EOPNOTSUPP || errno == EPERM)) {
                        if (!x->warned_xattr)
                                log_warning_errno(-errno,
                                                  "Cannot set xattr '%.160s' on '%.160s', ignoring: %m",
                                                  xname, path);
                        x->warned_xattr = true;
                } else if (r < 0)
                        return fail(x, -errno, "cannot set xattr '%.160s': %m", xname);
        }

        struct timespec ts[2] = {
                {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
        };
        if (archive_entry_atime_is_set(e))
                ts[0] = (struct timespec){archive_entry_atime(e), archive_entry_atime_nsec(e)};
        if (is_dir)
                return track_dir(x, -EBADF, path, ts);
        r = fd >= 0 ? futimens(fd, ts) : utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
        if (r < 0)
                return fail(x, -errno, "cannot set times: %m");
        return 0;
}

/* Make room for a new node: anything in the way goes, except a directory when a directory comes (tar
 * merges those). Returns 1 if a directory is there to keep. */
static int make_room(Extract *x, int dirfd, const char *name, bool want_dir) {
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : fail(x, -errno, "cannot stat: %m");
        if (want_dir && S_ISDIR(st.st_mode))
                return 1;
        int r = rm_rf_at(dirfd, name);
        if (r < 0)
                return fail(x, r, "cannot remove what is in the way: %s", strerror(-r));
        return 0;
}

static int write_data(Extract *x, struct archive_entry *e, int fd) {
        int64_t pos = 0, size = archive_entry_size(e);
        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t off;
                int r = archive_read_data_block(x->a, &buf, &len, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_OK)
                        return fail(x, x->stream_error ?: -EBADMSG, "cannot read data: %s",
                                    archive_error_string(x->a) ?: "unknown error");
                if (off != pos && lseek(fd, off, SEEK_SET) < 0)
                        return fail(x, -errno, "cannot seek: %m");
                r = write_all(fd, buf, len);
                if (r < 0)
                        return fail(x, r, "cannot write: %s", strerror(-r));
                pos = off + (int64_t) len;
                x->stats.bytes += len;
        }
        if (pos < size && ftruncate(fd, size) < 0)
                return fail(x, -errno, "cannot extend to %lld bytes: %m", (long long) size);
        return 0;
}

static const char *name_of(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* Forget the cached parent; returns its fd for the caller to own. */
static int detach_parent(Extract *x) {
        x->cache_path = mfree(x->cache_path);
        return TAKE_FD(x->cache_fd);
}

static void drop_parent(Extract *x) {
        safe_close(detach_parent(x));
}

/* The entry's parent, from the cache or freshly resolved in the root (and then cached). Borrowed fd. */
static int get_parent(Extract *x, const char *parent, int *ret_fd) {
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

static int extract_whiteout(Extract *x, const char *path, const char *parent, const char *name) {
        _cleanup_close_ int pfd = -EBADF;
        int r;

        if (x->o->mode == EXTRACT_LAYER) {
                if (x->o->base)
                        return 0;
                r = open_parent(x, parent, true, &pfd);
                if (r < 0)
                        return r;
                /* Written by this layer already: a whiteout hides only the layers below. */
                if (faccessat(pfd, name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                        return 0;
                r = track_dir(x, pfd, parent, NULL);
                if (r < 0)
                        return r;
                if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
                        return fail(x, -errno, "cannot create whiteout: %m");
                return 0;
        }

        _cleanup_free_ char *target = strjoin_path(parent, name);
        if (!target)
                return -ENOMEM;
        if (strmap_get(x->written, target, NULL))
                return 0;
        r = open_parent(x, parent, false, &pfd);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0)
                return r;
        r = track_dir(x, pfd, parent, NULL);
        if (r < 0)
                return r;
        r = rm_rf_at(pfd, name);
        if (r < 0)
                return fail(x, r, "cannot apply whiteout: %s", strerror(-r));
        return 0;
}

static int extract_opaque(Extract *x, const char *dir) {
        int r;
        if (x->o->mode == EXTRACT_LAYER) {
                _cleanup_close_ int pfd = -EBADF, fd = -EBADF;
                if (x->o->base)
                        return 0;
                r = open_parent(x, dir, true, &pfd);
                if (r < 0)
                        return r;
                fd = open_in_root(x->rootfd, dir, O_RDONLY | O_DIRECTORY);
                if (fd < 0)
                        return fail(x, fd, "cannot open '%.160s': %s", dir, strerror(-fd));
                if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                        return fail(x, -errno, "cannot mark '%.160s' opaque: %m", dir);
                return 0;
        }
        /* Applied when the layer is done, with what the layer wrote known: same result as "first". */
        char **o = realloc(x->opaque, (x->n_opaque + 1) * sizeof(char *));
        if (!o)
                return -ENOMEM;
        x->opaque = o;
        x->opaque[x->n_opaque] = strdup(dir);
        if (!x->opaque[x->n_opaque])
                return -ENOMEM;
        x->n_opaque++;
        return 0;
}

/* Remove everything below dirfd (at path) that this layer did not write. */
static int prune_opaque(Extract *x, int dir_fd, const char *path) {
        _cleanup_closedir_ DIR *d = NULL;
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *child = strjoin_path(path, de->d_name);
                if (!child)
                        return -ENOMEM;
                bool keep = strmap_get(x->written, child, NULL),
                     ancestor = strmap_get(x->ancestors, child, NULL);
                if (!keep && !ancestor) {
                        int r = rm_rf_at(dirfd(d), de->d_name);
                        if (r < 0)
                                return r;
                        continue;
                }
                _cleanup_close_ int cfd =
                        openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd < 0)
                        continue; /* not a directory: kept as written */
                int r = prune_opaque(x, cfd, child);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_opaque(Extract *x) {
        for (size_t i = 0; i < x->n_opaque; i++) {
                _cleanup_close_ int fd = open_in_root(x->rootfd, x->opaque[i], O_RDONLY | O_DIRECTORY);
                if (fd < 0)
                        continue;
                int r = prune_opaque(x, fd, x->opaque[i]);
                if (r < 0)
                        return fail(x, r, "cannot apply opaque directory '%.160s': %s", x->opaque[i],
                                    strerror(-r));
        }
        return 0;
}

static int extract_hardlink(Extract *x, struct archive_entry *e, int pfd, const char *name) {
        _cleanup_free_ char *link = NULL;
        _cleanup_close_ int tfd = -EBADF;
        const char *why = NULL, *lparent, *lname;
        struct stat st, cur;
        int r;

        r = normalize_path(archive_entry_hardlink(e), &link, &why);
        if (r < 0)
                return fail(x, r, "hardlink target '%.160s': %s", archive_entry_hardlink(e),
                            why ?: strerror(-r));
        if (isempty(link))
                return fail(x, -EINVAL, "hardlink to the root directory");
        split_path(link, &lparent, &lname);
        tfd = open_in_root(x->rootfd, lparent, O_PATH | O_DIRECTORY);
        if (tfd < 0 || fstatat(tfd, lname, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(x, -ENOENT, "hardlink target '%.160s' does not exist in the %s",
                            archive_entry_hardlink(e), x->o->mode == EXTRACT_LAYER ? "layer" : "tree");
        if (S_ISDIR(st.st_mode))
                return fail(x, -EPERM, "hardlink target '%.160s' is a directory", archive_entry_hardlink(e));
        if (fstatat(pfd, name, &cur, AT_SYMLINK_NOFOLLOW) >= 0 && cur.st_dev == st.st_dev &&
            cur.st_ino == st.st_ino)
                return 0;
        r = make_room(x, pfd, name, false);
        if (r < 0)
                return r;
        if (linkat(tfd, lname, pfd, name, 0) < 0)
                return fail(x, -errno, "cannot link to '%.160s': %m", archive_entry_hardlink(e));
        return 0;
}

static int extract_entry(Extract *x, struct archive_entry *e) {
        _cleanup_free_ char *path = NULL, *parent_copy = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_close_ int owned = -EBADF;
        int pfd = -EBADF; /* borrowed from the cache, or in owned once detached from it */
        const char *why = NULL, *parent, *name, *raw = archive_entry_pathname(e);
        mode_t type = archive_entry_filetype(e);
        int r;

        if (!raw)
                return fail(x, -EINVAL, "entry without a name");
        r = normalize_path(raw, &path, &why);
        if (r < 0)
                return fail(x, r, "%s", why ?: strerror(-r));
        if (archive_entry_hardlink(e))
                type = 0;

        if (isempty(path) || startswith(name_of(path), ".wh."))
                drop_parent(x);
        if (isempty(path)) {
                /* The root itself: only a directory entry may describe it (CVE-2021-29136, U8). */
                if (type != AE_IFDIR)
                        return fail(x, -EINVAL, "entry for the root directory is not a directory");
                fd = open_in_root(x->rootfd, "", O_RDONLY | O_DIRECTORY);
                if (fd < 0)
                        return fd;
                return set_metadata(x, e, -EBADF, NULL, fd, true, false, "");
        }

        parent_copy = strdup(path);
        if (!parent_copy)
                return -ENOMEM;
        split_path(parent_copy, &parent, &name);

        if (startswith(name, ".wh.")) {
                if (streq(name, ".wh..wh..opq"))
                        return extract_opaque(x, parent);
                const char *hidden = name + 4;
                if (isempty(hidden) || streq(hidden, ".") || streq(hidden, "..") ||
                    startswith(hidden, ".wh."))
                        return fail(x, -EINVAL, "invalid whiteout name");
                return extract_whiteout(x, path, parent, hidden);
        }

        if (type != 0 && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFCHR &&
            type != AE_IFBLK && type != AE_IFIFO)
                return fail(x, -EINVAL, "unsupported entry type 0%o", (unsigned) type);
        if ((type == AE_IFCHR || type == AE_IFBLK) &&
            (archive_entry_rdevmajor(e) > DEV_MAJOR_MAX || archive_entry_rdevminor(e) > DEV_MINOR_MAX))
                return fail(x, -ERANGE, "device number %lu:%lu is out of range",
                            (unsigned long) archive_entry_rdevmajor(e),
                            (unsigned long) archive_entry_rdevminor(e));
        int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
        if (uid < 0 || uid >= ID_MAX || gid < 0 || gid >= ID_MAX)
                return fail(x, -ERANGE, "uid %lld or gid %lld is out of range", (long long) uid,
                            (long long) gid);
        if (type == AE_IFLNK && isempty(archive_entry_symlink(e)))
                return fail(x, -EINVAL, "symlink without a target");

        r = get_parent(x, parent, &pfd);
        if (r < 0)
                return r;
        r = add_written(x, path);
        if (r < 0)
                return r;
        /* Links and symlinks can change how later paths resolve: nothing cached survives them. */
        if (type == 0 || type == AE_IFLNK)
                owned = detach_parent(x);
        if (type == 0)
                return extract_hardlink(x, e, pfd, name);

        mode_t perm = archive_entry_perm(e) & 0777;
        bool fresh = !x->cache_sgid;
        for (int attempt = 0;; attempt++) {
                switch (type) {
                case AE_IFREG:
                        fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm);
                        r = fd < 0 ? -errno : 0;
                        break;
                case AE_IFDIR:
                        r = RET_NERRNO(mkdirat(pfd, name, perm));
                        break;
                case AE_IFLNK:
                        r = RET_NERRNO(symlinkat(archive_entry_symlink(e), pfd, name));
                        break;
                default:
                        r = RET_NERRNO(
                                mknodat(pfd, name, type | perm,
                                        makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e))));
                }
                if (r != -EEXIST || attempt > 0)
                        break;
                /* Something is in the way: replace it (a directory stays when a directory comes). */
                if (owned < 0)
                        owned = detach_parent(x);
                r = make_room(x, pfd, name, type == AE_IFDIR);
                if (r < 0)
                        return r;
                if (r > 0) {
                        fresh = false;
                        break;
                }
        }
        if (r < 0)
                return fail(x, r, "cannot create: %s", strerror(-r));

        switch (type) {
        case AE_IFREG:
                r = write_data(x, e, fd);
                if (r < 0)
                        return r;
                return set_metadata(x, e, pfd, name, fd, false, fresh, path);
        case AE_IFDIR:
                fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return fail(x, -errno, "cannot open directory: %m");
                return set_metadata(x, e, pfd, name, fd, true, fresh, path);
        default:
                return set_metadata(x, e, pfd, name, -EBADF, false, fresh, path);
        }
}

static la_ssize_t read_cb(struct archive *a, void *userdata, const void **buf) {
        Extract *x = userdata;
        ssize_t n = layer_stream_read(x->stream, buf);
        if (n < 0) {
                x->stream_error = (int) n;
                archive_set_error(a, (int) -n, "%s", layer_stream_why(x->stream) ?: strerror((int) -n));
                return -1;
        }
        return n;
}

static void extract_done(Extract *x) {
        drop_parent(x);
        for (size_t i = 0; i < x->n_dirs; i++)
                free(x->dirs[i].path);
        free(x->dirs);
        for (size_t i = 0; i < x->n_opaque; i++)
                free(x->opaque[i]);
        free(x->opaque);
        strmap_free(x->dir_index);
        strmap_free(x->written);
        strmap_free(x->ancestors);
        if (x->a)
                archive_read_free(x->a);
}

int extract_tar(int rootfd, LayerStream *s, const ExtractOptions *o, ExtractStats *ret_stats, char *why,
                size_t why_size) {
        _cleanup_(extract_done) Extract x = {
                .rootfd = rootfd,
                .stream = s,
                .o = o,
                .why = why,
                .why_size = why_size,
                .euid = geteuid(),
                .egid = getegid(),
                .cache_fd = -EBADF,
        };
        int r;

        /* Nodes are created with their final permission bits. */
        umask(0);
        x.dir_index = strmap_new();
        x.written = strmap_new();
        x.ancestors = strmap_new();
        x.a = archive_read_new();
        if (!x.dir_index || !x.written || !x.ancestors || !x.a)
                return -ENOMEM;
        /* Only the tar format and no filter at all: decompression is ours, so libarchive can never fall back
         * to running an external program (U17). */
        if (archive_read_support_format_tar(x.a) != ARCHIVE_OK ||
            archive_read_open(x.a, &x, NULL, read_cb, NULL) != ARCHIVE_OK)
                return fail(&x, x.stream_error ?: -EBADMSG, "not a tar archive: %s",
                            archive_error_string(x.a) ?: "unknown error");

        for (;;) {
                struct archive_entry *e;
                r = archive_read_next_header(x.a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return fail(&x, x.stream_error ?: -EBADMSG, "invalid tar after %llu entries: %s",
                                    (unsigned long long) x.stats.entries,
                                    archive_error_string(x.a) ?: "unknown error");
                if (o->max_entries > 0 && x.stats.entries >= o->max_entries)
                        return fail(&x, -EFBIG, "more than %llu entries",
                                    (unsigned long long) o->max_entries);
                x.stats.entries++;
                char entry_why[512] = "";
                x.why = entry_why;
                x.why_size = sizeof entry_why;
                r = extract_entry(&x, e);
                x.why = why;
                x.why_size = why_size;
                if (r < 0) {
                        (void) snprintf(why, why_size, "entry '%.160s': %s", archive_entry_pathname(e) ?: "",
                                        *entry_why ? entry_why : strerror(-r));
                        return r;
                }
        }
        r = apply_opaque(&x);
        if (r < 0)
                return r;
        r = apply_dir_times(&x);
        if (r < 0)
                return r;
        if (ret_stats)
                *ret_stats = x.stats;
        return 0;
}
