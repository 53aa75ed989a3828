/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "mount.h"
#include "paths.h"
#include "store.h"

/* layers/l/<short> -> ../<hex>/diff: the mount options stay under a page for ~170 layers. */
static int ensure_short_link(int lfd, const char *dir) {
        char name[2 + LAYER_SHORT_MAX], want[3 + LAYER_DIR_MAX + 5], have[sizeof want], s[LAYER_SHORT_MAX];
        layer_short_name(dir, s);
        (void) snprintf(name, sizeof name, "l/%s", s);
        (void) snprintf(want, sizeof want, "../%s/diff", dir);
        for (int attempt = 0; attempt < 3; attempt++) {
                if (symlinkat(want, lfd, name) >= 0)
                        return 0;
                if (errno != EEXIST)
                        return -errno;
                ssize_t n = readlinkat(lfd, name, have, sizeof have - 1);
                if (n >= 0) {
                        have[n] = 0;
                        if (streq(have, want))
                                return 0;
                }
                if (unlinkat(lfd, name, 0) < 0 && errno != ENOENT)
                        return -errno;
        }
        return -EEXIST;
}

static bool is_mount_point(const char *path) {
        struct statx sx;
        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
                return false;
        return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
               (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int absolute(const char *path, char **ret) {
        _cleanup_free_ char *cwd = NULL;
        if (path[0] == '/') {
                *ret = strdup(path);
                return *ret ? 0 : -ENOMEM;
        }
        cwd = getcwd(NULL, 0);
        if (!cwd)
                return -errno;
        *ret = path_join(cwd, path);
        return *ret ? 0 : -ENOMEM;
}

/* The new mount API with one "lowerdir+" per layer (Linux 6.8+): no page limit on the options, so images
 * with more layers than fit into one option string still mount (up to overlayfs' own limit of 500). */
static int mount_per_layer(const char *layers, char **dirs, size_t n, const char *upper, const char *work,
                           bool read_only, const char *target) {
        _cleanup_close_ int fsfd = -EBADF, mfd = -EBADF;
        fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return -errno;
        for (size_t i = n; i > 0; i--) {
                _cleanup_free_ char *p = path_join(layers, dirs[i - 1], "diff");
                if (!p)
                        return -ENOMEM;
                if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", p, 0) < 0)
                        return -errno;
        }
        if (!upper) {
                _cleanup_free_ char *p = path_join(layers, ".empty");
                if (!p)
                        return -ENOMEM;
                if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", p, 0) < 0)
                        return -errno;
        } else if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
                   fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
                return -errno;
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "index", "off", 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, read_only ? MOUNT_ATTR_RDONLY : 0);
        if (mfd < 0)
                return -errno;
        return RET_NERRNO(move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH));
}

int mount_image(const OciImage *img, const char *spec, const MountOptions *m, const UnpackOptions *o) {
        _cleanup_free_ char *layers = berth_path("layers"), *target = NULL, *upper = NULL, *work = NULL,
                            *opts = NULL;
        _cleanup_strv_free_ char **dirs = NULL;
        _cleanup_close_ int lfd = -EBADF, cwd = -EBADF, storelock = -EBADF;
        size_t len, off = 0;
        int r;

        if (!layers)
                return log_oom();
        if ((!m->upper) != (!m->work))
                return log_error_errno(-EINVAL, "--upper and --work go together");
        if (!m->upper && !m->read_only)
                return log_error_errno(-EINVAL, "Mounting '%s' needs --upper and --work, or --read-only",
                                       spec);
        if (img->n_layers == 0)
                return log_error_errno(-EINVAL, "Image '%s' has no layers", spec);
        if (absolute(m->target, &target) < 0 || (m->upper && absolute(m->upper, &upper) < 0) ||
            (m->work && absolute(m->work, &work) < 0))
                return log_oom();

        r = layer_store_ensure(img, spec, o, &storelock);
        if (r < 0)
                return r;
        r = layer_dir_names(img, o, &dirs);
        if (r < 0)
                return log_oom();

        lfd = open(layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lfd < 0)
                return log_error_errno(-errno, "Cannot open '%s': %m", layers);
        if ((mkdirat(lfd, "l", 0700) < 0 && errno != EEXIST) ||
            (mkdirat(lfd, ".empty", 0755) < 0 && errno != EEXIST))
                return log_error_errno(-errno, "Cannot create directories in '%s': %m", layers);
        for (size_t i = 0; i < img->n_layers; i++) {
                r = ensure_short_link(lfd, dirs[i]);
                if (r < 0)
                        return log_error_errno(r, "Cannot link layer %s in '%s/l': %m", dirs[i], layers);
        }

        len = img->n_layers * (3 + LAYER_SHORT_MAX) + 64 + (upper ? strlen(upper) + strlen(work) + 32 : 0);
        opts = malloc(len);
        if (!opts)
                return log_oom();
        off += (size_t) snprintf(opts + off, len - off, "lowerdir=");
        for (size_t i = img->n_layers; i > 0; i--) {
                char sn[LAYER_SHORT_MAX];
                layer_short_name(dirs[i - 1], sn);
                off += (size_t) snprintf(opts + off, len - off, "l/%s%s", sn, i > 1 ? ":" : "");
        }
        /* Without an upper dir overlayfs wants two lower dirs; an empty one costs nothing. */
        if (!upper)
                off += (size_t) snprintf(opts + off, len - off, ":.empty");
        if (upper)
                off += (size_t) snprintf(opts + off, len - off, ",upperdir=%s,workdir=%s", upper, work);
        off += (size_t) snprintf(opts + off, len - off, ",index=off");
        /* BERTH_UNPACK_MOUNT_API=1 forces the per-layer path, for tests. */
        bool per_layer = off >= (size_t) sysconf(_SC_PAGESIZE) || getenv("BERTH_UNPACK_MOUNT_API");

        if (mkdir(target, 0755) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Cannot create '%s': %m", target);
        if (is_mount_point(target))
                return log_error_errno(-EBUSY, "'%s' is already a mount point", target);
        if (upper) {
                /* The upper dir's root becomes the container's "/": it takes the top layer's mode and owner.
                 */
                _cleanup_free_ char *top = path_join(layers, dirs[img->n_layers - 1], "diff");
                struct stat st;
                if (!top)
                        return log_oom();
                if (stat(top, &st) < 0)
                        return log_error_errno(-errno, "Cannot stat '%s': %m", top);
                if (mkdir(upper, st.st_mode & 07777) >= 0) {
                        if (chown(upper, st.st_uid, st.st_gid) < 0 || chmod(upper, st.st_mode & 07777) < 0)
                                return log_error_errno(-errno, "Cannot set up '%s': %m", upper);
                } else if (errno != EEXIST)
                        return log_error_errno(-errno, "Cannot create '%s': %m", upper);
                if (mkdir(work, 0700) < 0 && errno != EEXIST)
                        return log_error_errno(-errno, "Cannot create '%s': %m", work);
        }

        if (per_layer) {
                r = mount_per_layer(layers, dirs, img->n_layers, upper, work, m->read_only, target);
                if (r == -EINVAL || r == -ENOSYS)
                        return log_error_errno(r,
                                               "Image '%s' has too many layers (%zu) for one overlay mount "
                                               "on this kernel: %m",
                                               spec, img->n_layers);
                if (r < 0)
                        return log_error_errno(r, "Cannot mount the overlay of '%s' on '%s': %m", spec,
                                               target);
                printf("%s\n", target);
                return 0;
        }

        /* Relative lowerdirs keep the options short: mount(2) resolves them against our cwd. */
        cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cwd < 0 || fchdir(lfd) < 0)
                return log_error_errno(-errno, "Cannot change to '%s': %m", layers);
        r = mount("overlay", target, "overlay", (m->read_only ? MS_RDONLY : 0), opts);
        r = r < 0 ? -errno : 0;
        (void) fchdir(cwd);
        if (r < 0)
                return log_error_errno(r, "Cannot mount the overlay of '%s' on '%s': %m", spec, target);
        printf("%s\n", target);
        return 0;
}

int umount_target(const char *target) {
        struct statfs sfs;
        if (!is_mount_point(target)) {
                if (access(target, F_OK) < 0 && errno != ENOENT)
                        return log_error_errno(-errno, "Cannot access '%s': %m", target);
                log_debug("'%s' is not a mount point, nothing to do", target);
                return 0;
        }
        if (statfs(target, &sfs) < 0)
                return log_error_errno(-errno, "Cannot stat '%s': %m", target);
        if (sfs.f_type != OVERLAYFS_SUPER_MAGIC)
                return log_error_errno(-EINVAL, "'%s' is not an overlay mount, refusing to unmount it",
                                       target);
        if (umount2(target, UMOUNT_NOFOLLOW) < 0)
                return log_error_errno(-errno, "Cannot unmount '%s': %m", target);
        return 0;
}
