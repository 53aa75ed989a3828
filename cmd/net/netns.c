/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "fileio.h"
#include "link.h"
#include "log.h"
#include "netns.h"
#include "paths.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

char *netns_path(const char *id) {
        return berth_run_path("netns", id);
}

bool netns_is_mounted(const char *path) {
        struct statfs sfs;
        return statfs(path, &sfs) == 0 && (unsigned long) sfs.f_type == (unsigned long) NSFS_MAGIC;
}

static int write_string(const char *path, const char *s) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return write_all(fd, s, strlen(s));
}

int netns_create(const char *path) {
        _cleanup_free_ char *dir = berth_run_path("netns");
        int r, status;
        pid_t pid;

        if (!dir)
                return -ENOMEM;
        if (netns_is_mounted(path))
                return 1;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0444);
        if (fd < 0)
                return -errno;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* In the child, so the caller's own namespace stays as it is. */
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(10);
                if (link_loopback_up() < 0)
                        _exit(11);
                /* Interfaces created in or moved into this namespace start without IPv6; the CNI plugins
                 * switch it on for an interface that gets an IPv6 address. Without this a macvlan on an
                 * IPv4-only network still gets SLAAC and link-local addresses (CVE-2024-32473). */
                (void) write_string("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
                if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
                        _exit(12);
                _exit(0);
        }
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                (void) unlink(path);
                int code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
                return code == 10 ? -EPERM : code == 12 ? -EIO : -ECHILD;
        }
        return 0;
}

int netns_has_processes(const char *path) {
        _cleanup_closedir_ DIR *proc = opendir("/proc");
        struct stat ns, st;
        struct dirent *de;
        if (!proc)
                return -errno;
        if (stat(path, &ns) < 0)
                return -errno;
        while ((errno = 0, de = readdir(proc))) {
                char p[sizeof(de->d_name) + sizeof("/ns/net")];
                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(p, sizeof p, "%s/ns/net", de->d_name);
                /* gone meanwhile, a zombie, or not ours to look at: not in a namespace we can lose */
                if (fstatat(dirfd(proc), p, &st, 0) < 0)
                        continue;
                if (st.st_ino == ns.st_ino && st.st_dev == ns.st_dev)
                        return 1;
        }
        return errno > 0 ? -errno : 0;
}

int netns_remove(const char *path) {
        if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                return -errno;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}
