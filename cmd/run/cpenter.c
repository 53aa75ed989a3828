/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-run cp: a child process whose "/" is the container's root. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container.h"
#include "cpenter.h"
#include "log.h"
#include "macro.h"
#include "rootfs.h"
#include "safeio.h"

int cp_enter_running(int pidfd, const char *spec) {
        /* the init's mount namespace: "/" becomes the root it pivoted into, with its volumes and tmpfs
         * mounted as it sees them. We keep the host's user namespace and credentials, so that owners are
         * set as asked; the host's /proc, opened before, is the only way back out, and only to our own fds.
         */
        if (setns(pidfd, CLONE_NEWNS) < 0)
                return log_error_errno(errno, "Cannot enter the mount namespace of '%s': %m", spec);
        if (chdir("/") < 0)
                return log_error_errno(errno, "Cannot enter the root of '%s': %m", spec);
        return 0;
}

/* A volume or bind mount of the record, bound over its destination (resolved in the root) as the runtime
 * would: visible to the copy as it is to the container. */
static int bind_volume(int rootfd, json_t *m, const char *spec) {
        const char *type = json_string_value(json_object_get(m, "Type"));
        const char *src = json_string_value(json_object_get(m, "Source"));
        const char *dst = json_string_value(json_object_get(m, "Destination"));
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        char target[64];

        if (!src || !dst || streq_ptr(type, "tmpfs"))
                return 0;
        while (*dst == '/')
                dst++;
        _cleanup_close_ int fd = (int) syscall(SYS_openat2, rootfd, *dst ? dst : ".", &how, sizeof how);
        if (fd < 0 && errno == ENOENT) {
                /* never started: the runtime has not made the mount point yet; make it as it would (a
                 * directory, inside the root), or leave out a file's bind mount */
                struct stat st;
                if (stat(src, &st) < 0 || !S_ISDIR(st.st_mode))
                        return 0;
                int r = root_mkdir_p(rootfd, dst, 0755, &fd);
                if (r < 0)
                        return log_error_errno(r, "Cannot create the mount point '/%s' in '%s': %m", dst,
                                               spec);
        }
        if (fd < 0)
                return log_error_errno(errno, "Cannot find the mount point '/%s' in '%s': %m", dst, spec);
        /* the fd pins the directory found inside the root: a symlink cannot redirect the mount */
        snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
        if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
                return log_error_errno(errno, "Cannot mount the volume '%s' on '/%s' of '%s': %m", src, dst,
                                       spec);
        if (!json_is_true(json_object_get(m, "RW"))) {
                _cleanup_close_ int fd2 =
                        (int) syscall(SYS_openat2, rootfd, *dst ? dst : ".", &how, sizeof how);
                if (fd2 < 0)
                        return log_error_errno(errno, "Cannot find the mount point '/%s' in '%s': %m", dst,
                                               spec);
                snprintf(target, sizeof target, "/proc/self/fd/%d", fd2);
                if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                        return log_error_errno(errno, "Cannot make the volume on '/%s' read-only: %m", dst);
        }
        return 0;
}

int cp_enter_stopped(const char *id, const char *image, json_t *mounts, const char *spec) {
        _cleanup_free_ char *rootfs = container_path(id, "rootfs");
        _cleanup_close_ int rootfd = -EBADF;
        size_t i;
        json_t *m;
        int r;

        if (!rootfs)
                return log_oom();
        /* a mount namespace of our own: what is mounted here vanishes with this process, whatever happens */
        if (unshare(CLONE_NEWNS) < 0)
                return log_error_errno(errno, "Cannot create a mount namespace: %m");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return log_error_errno(errno, "Cannot make the mounts private: %m");
        /* as a start mounts it (a created container's is there already) */
        r = rootfs_mount(id, image);
        if (r < 0)
                return r;
        rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return log_error_errno(errno, "Cannot open '%s': %m", rootfs);
        json_array_foreach (mounts, i, m) {
                r = bind_volume(rootfd, m, spec);
                if (r < 0)
                        return r;
        }
        if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
                return log_error_errno(errno, "Cannot change root to '%s': %m", rootfs);
        return 0;
}
