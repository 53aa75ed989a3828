/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "extract-internal.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "strmap.h"

#define SPACE_CHECK_BYTES (4U * 1024U * 1024U)

bool xattr_allowed(const char *name) {
        /* The overlay namespace belongs to the kernel: an image could forge opaque, redirect or metacopy
         * markers (U12). Everything else outside user/security/trusted (system.* ACLs, unknown) goes too. */
        if (startswith(name, "trusted.overlay.") || startswith(name, "user.overlay."))
                return false;
        return startswith(name, "user.") || startswith(name, "security.") || startswith(name, "trusted.");
}

void warn_xattr(Extract *x, int error, const char *xname, const char *path) {
        char what[400];
        if (x->warned_xattr)
                return;
        x->warned_xattr = true;
        (void) snprintf(what, sizeof what, "Cannot set xattr '%.160s' on '%.160s'", xname, path);
        why_escape(what, sizeof what);
        log_warning_errno(error, "%s, ignoring: %m", what);
}

#define VFS_CAP_REVISION_MASK 0xff000000U
#define VFS_CAP_REVISION_1 0x01000000U
#define VFS_CAP_REVISION_2 0x02000000U
#define VFS_CAP_REVISION_3 0x03000000U
#define VFS_CAP_FLAGS_EFFECTIVE 0x000001U

static uint32_t le32_get(const uint8_t *p) {
        return p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void le32_put(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
        p[2] = (uint8_t) (v >> 16);
        p[3] = (uint8_t) (v >> 24);
}

/* security.capability names the root that owns the file capabilities. Without --uidmap that is the host's
 * root: v1/v2 stay, a v3 becomes v2 (its rootid meant the builder's namespace, not ours). With --uidmap it
 * is the host uid of the container's root: v1/v2/v3 become v3 with that rootid, as the kernel itself writes
 * them for a process in the user namespace (cap_convert_nscap), so they apply in the container's namespace
 * only, not on the host. Returns 1 to drop the value (no container root to own it), 0 to apply *value. A
 * value of another size or revision is applied as is (the kernel refuses what it cannot read). */
static int namespace_caps(Extract *x, const void **value, size_t *size, uint8_t buf[24]) {
        const uint8_t *v = *value;
        uint32_t root;
        if (*size < 4)
                return 0;
        uint32_t magic = le32_get(v), rev = magic & VFS_CAP_REVISION_MASK;
        size_t words = rev == VFS_CAP_REVISION_1 && *size == 12   ? 2
                       : rev == VFS_CAP_REVISION_2 && *size == 20 ? 4
                       : rev == VFS_CAP_REVISION_3 && *size == 24 ? 4
                                                                  : 0;
        bool mapped = x->o->uidmap && x->o->uidmap->n > 0;
        if (words == 0 || (!mapped && rev != VFS_CAP_REVISION_3))
                return 0;
        if (mapped && map_id(x->o->uidmap, 0, &root) < 0)
                return 1;
        memset(buf, 0, 24);
        le32_put(buf,
                 (mapped ? VFS_CAP_REVISION_3 : VFS_CAP_REVISION_2) | (magic & VFS_CAP_FLAGS_EFFECTIVE));
        memcpy(buf + 4, v + 4, words * 4);
        if (mapped)
                le32_put(buf + 20, root);
        *value = buf;
        *size = mapped ? 24 : 20;
        return 0;
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
                return extract_fail(x, -ERANGE, "uid %lld or gid %lld is out of range or not mapped",
                                    (long long) archive_entry_uid(e), (long long) archive_entry_gid(e));

        /* A node made just now by us, with its permission bits, in a parent without setgid, already has our
         * owner and the right mode: skip the syscalls. */
        bool chowned = !fresh || uid != x->euid || gid != x->egid;
        if (chowned) {
                r = fd >= 0 ? fchown(fd, uid, gid) : fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
                if (r < 0)
                        return extract_fail(x, -errno, "cannot chown: %m");
        }
        /* After chown, which clears setuid/setgid. */
        if (type != AE_IFLNK && (chowned || (mode & 07000))) {
                r = fd >= 0 ? fchmod(fd, mode) : fchmodat(dirfd, name, mode, AT_SYMLINK_NOFOLLOW);
                if (r < 0)
                        return extract_fail(x, -errno, "cannot chmod: %m");
        }

        archive_entry_xattr_reset(e);
        const char *xname;
        const void *value;
        size_t size;
        char procpath[64 + NAME_MAX];
        if (fd < 0)
                (void) snprintf(procpath, sizeof procpath, "/proc/self/fd/%d/%s", dirfd, name);
        while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
                uint8_t caps[24];
                if (!xattr_allowed(xname)) {
                        log_debug("Dropping xattr '%.160s' of '%.160s'", xname, path);
                        continue;
                }
                if (streq(xname, "security.capability") && namespace_caps(x, &value, &size, caps) > 0) {
                        char what[400];
                        (void) snprintf(what, sizeof what,
                                        "Dropping the file capabilities of '%.160s': --uidmap does not map "
                                        "container uid 0",
                                        path);
                        why_escape(what, sizeof what);
                        log_warning("%s", what);
                        continue;
                }
                r = fd >= 0 ? fsetxattr(fd, xname, value, size, 0)
                            : lsetxattr(procpath, xname, value, size, 0);
                if (r < 0 && (errno == EOPNOTSUPP || errno == EPERM))
                        warn_xattr(x, -errno, xname, path);
                else if (r < 0)
                        return extract_fail(x, -errno, "cannot set xattr '%.160s': %m", xname);
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
                return extract_fail(x, -errno, "cannot set times: %m");
        return 0;
}

/* The estimate made before unpacking can be wrong (a gzip trailer is easy to fake): keep --min-free while
 * writing too, checked every few MiB. */
int check_space(Extract *x, size_t written) {
        struct statvfs sv;
        uint64_t before = x->stats.bytes;
        x->stats.bytes += written;
        if (x->o->min_free == 0 || before / SPACE_CHECK_BYTES == x->stats.bytes / SPACE_CHECK_BYTES)
                return 0;
        if (fstatvfs(x->rootfd, &sv) < 0)
                return extract_fail(x, -errno, "cannot check free space: %m");
        if ((uint64_t) sv.f_bavail * sv.f_frsize < x->o->min_free)
                return extract_fail(x, -ENOSPC, "free space fell below --min-free after %llu MiB",
                                    (unsigned long long) (x->stats.bytes >> 20));
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
                        return extract_fail(x, x->stream_error ?: -EBADMSG, "cannot read data: %s",
                                            archive_error_string(x->a) ?: "unknown error");
                if (off != pos && lseek(fd, off, SEEK_SET) < 0)
                        return extract_fail(x, -errno, "cannot seek: %m");
                r = write_all(fd, buf, len);
                if (r < 0)
                        return extract_fail(x, r, "cannot write: %s", strerror(-r));
                pos = off + (int64_t) len;
                r = check_space(x, len);
                if (r < 0)
                        return r;
        }
        if (pos < size && ftruncate(fd, size) < 0)
                return extract_fail(x, -errno, "cannot extend to %lld bytes: %m", (long long) size);
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
                return extract_fail(x, r, "hardlink target '%.160s': %s", archive_entry_hardlink(e),
                                    why ?: strerror(-r));
        if (isempty(link))
                return extract_fail(x, -EINVAL, "hardlink to the root directory");
        _cleanup_free_ char *lcopy = strdup(link);
        if (!lcopy)
                return -ENOMEM;
        /* An opaque marker of this layer hides the lower content first, wherever it comes in the layer
         * (the tree prunes when the layer is done): a target below it must be the layer's own. */
        for (size_t i = 0; x->o->mode == EXTRACT_TREE && i < x->n_opaque; i++) {
                size_t n = strlen(x->opaque[i]);
                if ((n == 0 || (startswith(link, x->opaque[i]) && link[n] == '/')) &&
                    !strmap_get(x->written, link, NULL))
                        return extract_fail(
                                x, -ENOENT,
                                "hardlink target '%.160s' does not exist in this layer or below it "
                                "(deleted or hidden by an opaque directory)",
                                archive_entry_hardlink(e));
        }
        split_path(lcopy, &lparent, &lname);
        tfd = open_in_root(x->rootfd, lparent, O_PATH | O_DIRECTORY);
        if (tfd < 0 || fstatat(tfd, lname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (!x->o->lower_layers)
                        return extract_fail(x, -ENOENT, "hardlink target '%.160s' does not exist in the %s",
                                            archive_entry_hardlink(e),
                                            x->o->mode == EXTRACT_LAYER ? "layer" : "tree");
                /* In a lower layer (a kaniko or buildah layer linking to a file it did not change): copied
                 * up into this layer first, as overlayfs and containerd do. */
                r = copy_up(x, link, archive_entry_hardlink(e));
                if (r < 0)
                        return r;
                safe_close(tfd);
                tfd = open_in_root(x->rootfd, lparent, O_PATH | O_DIRECTORY);
                if (tfd < 0 || fstatat(tfd, lname, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return extract_fail(x, -ENOENT, "cannot find the copied-up '%.160s'",
                                            archive_entry_hardlink(e));
        }
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0) && x->o->mode == EXTRACT_LAYER && !x->o->base)
                return extract_fail(x, -ENOENT, "hardlink target '%.160s' is deleted by a whiteout",
                                    archive_entry_hardlink(e));
        if (S_ISDIR(st.st_mode))
                return extract_fail(x, -EPERM, "hardlink target '%.160s' is a directory",
                                    archive_entry_hardlink(e));
        if (fstatat(pfd, name, &cur, AT_SYMLINK_NOFOLLOW) >= 0 && cur.st_dev == st.st_dev &&
            cur.st_ino == st.st_ino)
                return 0;
        r = make_room(x, pfd, name, false);
        if (r < 0)
                return r;
        if (linkat(tfd, lname, pfd, name, 0) < 0)
                return extract_fail(x, -errno, "cannot link to '%.160s': %m", archive_entry_hardlink(e));
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
                return extract_fail(x, -EINVAL, "entry without a name");
        r = normalize_path(raw, &path, &why);
        if (r < 0)
                return extract_fail(x, r, "%s", why ?: strerror(-r));
        if (archive_entry_hardlink(e))
                type = 0;

        if (isempty(path) || startswith(name_of(path), ".wh."))
                drop_parent(x);
        if (isempty(path)) {
                /* The root itself: only a directory entry may describe it (CVE-2021-29136, U8). */
                if (type != AE_IFDIR)
                        return extract_fail(x, -EINVAL, "entry for the root directory is not a directory");
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
                        return extract_fail(x, -EINVAL, "invalid whiteout name");
                return extract_whiteout(x, path, parent, hidden);
        }

        if (type != 0 && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFCHR &&
            type != AE_IFBLK && type != AE_IFIFO)
                return extract_fail(x, -EINVAL, "unsupported entry type 0%o", (unsigned) type);
        if ((type == AE_IFCHR || type == AE_IFBLK) &&
            (archive_entry_rdevmajor(e) > DEV_MAJOR_MAX || archive_entry_rdevminor(e) > DEV_MINOR_MAX))
                return extract_fail(x, -ERANGE, "device number %lu:%lu is out of range",
                                    (unsigned long) archive_entry_rdevmajor(e),
                                    (unsigned long) archive_entry_rdevminor(e));
        int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
        if (uid < 0 || uid >= ID_MAX || gid < 0 || gid >= ID_MAX)
                return extract_fail(x, -ERANGE, "uid %lld or gid %lld is out of range", (long long) uid,
                                    (long long) gid);
        /* A file cannot be larger than the layer's stream, except a sparse one, whose size costs nothing to
         * claim: refuse absurd sizes before anything is created (U14). */
        uint64_t max = layer_stream_max(x->stream);
        if (type == AE_IFREG && max > 0 && archive_entry_size(e) > 0 &&
            (uint64_t) archive_entry_size(e) > max)
                return extract_fail(x, -EFBIG, "size %lld exceeds the layer size limit (--max-layer-size)",
                                    (long long) archive_entry_size(e));
        if (type == AE_IFLNK && isempty(archive_entry_symlink(e)))
                return extract_fail(x, -EINVAL, "symlink without a target");

        r = get_parent(x, parent, &pfd);
        if (r < 0)
                return r;
        r = add_written(x, path);
        if (r < 0)
                return r;
        copied_forget(x, path);
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
                return extract_fail(x, r, "cannot create: %s", strerror(-r));

        switch (type) {
        case AE_IFREG:
                r = write_data(x, e, fd);
                if (r < 0)
                        return r;
                return set_metadata(x, e, pfd, name, fd, false, fresh, path);
        case AE_IFDIR:
                fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return extract_fail(x, -errno, "cannot open directory: %m");
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
        copied_free(x);
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
         * to running an external program (U17). Its fallback would be announced by ARCHIVE_WARN from
         * archive_read_open() (after the program started), so a warning there is fatal too; other data
         * (xz, bzip2, lz4, lrzip, ...) is just "not a tar archive". */
        if (archive_read_support_format_tar(x.a) != ARCHIVE_OK ||
            archive_read_open(x.a, &x, NULL, read_cb, NULL) != ARCHIVE_OK)
                return extract_fail(&x, x.stream_error ?: -EBADMSG, "not a tar archive: %s",
                                    archive_error_string(x.a) ?: "unknown error");

        for (;;) {
                struct archive_entry *e;
                r = archive_read_next_header(x.a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return extract_fail(&x, x.stream_error ?: -EBADMSG,
                                            "invalid tar after %llu entries: %s",
                                            (unsigned long long) x.stats.entries,
                                            archive_error_string(x.a) ?: "unknown error");
                if (o->max_entries > 0 && x.stats.entries >= o->max_entries)
                        return extract_fail(&x, -EFBIG, "more than %llu entries",
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
