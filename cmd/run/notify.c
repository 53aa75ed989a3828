/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include "macro.h"
#include "notify.h"
#include "paths.h"

int notify_proxy_listen(const char *bundle_dir, int *ret_fd) {
        _cleanup_free_ char *dir = path_join(bundle_dir, "notify");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        int one = 1;

        if (!dir)
                return -ENOMEM;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        (void) unlinkat(dfd, "notify.sock", 0);
        snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/notify.sock", dfd);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        /* the container's processes run as any uid: the socket must be writable for them */
        (void) fchmodat(dfd, "notify.sock", 0777, 0);
        (void) setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int notify_proxy_relay(int fd, pid_t monitor) {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        bool ready = false;
        if (n <= 0)
                return 0;
        buf[n] = 0;
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (streq(l, "READY=1")) {
                        ready = true;
                        (void) sd_notifyf(false, "READY=1\nMAINPID=%d", monitor);
                } else if (startswith(l, "STATUS=") || startswith(l, "RELOADING=") ||
                           startswith(l, "STOPPING="))
                        (void) sd_notify(false, l);
        }
        return ready;
}

void notify_ready(pid_t monitor) {
        (void) sd_notifyf(false, "READY=1\nMAINPID=%d", monitor);
}
