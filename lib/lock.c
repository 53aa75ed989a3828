/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>

#include "lock.h"
#include "macro.h"

int lock_path(const char *path, int operation, int *ret_fd) {
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        while (flock(fd, operation) < 0) {
                if (errno != EINTR)
                        return -errno;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}
