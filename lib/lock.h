/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/file.h>

/* Take an flock() on path (created 0600 if missing), LOCK_SH or LOCK_EX, optionally | LOCK_NB. The kernel
 * releases it when the holder dies. Returns the fd that holds the lock. */
int lock_path(const char *path, int operation, int *ret_fd);
