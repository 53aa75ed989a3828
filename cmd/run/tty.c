/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "macro.h"
#include "tty.h"

int console_socket_listen(const char *dir, int *ret_fd) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        char path[64];

        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        (void) unlinkat(dfd, "console.sock", 0);
        /* bind() takes no dirfd: name the directory through /proc/self/fd, which stays short */
        snprintf(path, sizeof path, "/proc/self/fd/%d/console.sock", dfd);
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        if (listen(fd, 1) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int console_socket_receive(int listen_fd, int *ret_master) {
        _cleanup_close_ int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        char buf[256], cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {buf, sizeof buf};
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};

        if (conn < 0)
                return -errno;
        if (recvmsg(conn, &mh, MSG_CMSG_CLOEXEC) < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        memcpy(ret_master, CMSG_DATA(c), sizeof(int));
                        return 0;
                }
        return -EBADMSG;
}

int tty_raw(int fd, struct termios *saved) {
        struct termios t;
        if (tcgetattr(fd, saved) < 0)
                return -errno;
        t = *saved;
        cfmakeraw(&t);
        if (tcsetattr(fd, TCSANOW, &t) < 0)
                return -errno;
        return 0;
}

void tty_restore(int fd, const struct termios *saved) {
        (void) tcsetattr(fd, TCSANOW, saved);
}

void tty_copy_size(int from, int to) {
        struct winsize ws;
        if (ioctl(from, TIOCGWINSZ, &ws) >= 0 && ws.ws_row > 0)
                (void) ioctl(to, TIOCSWINSZ, &ws);
}
