/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <termios.h>

/* The runtime's --console-socket: a listening unix socket "console.sock" in dir (the bundle, 0700), named
 * relative to it so long state paths do not matter. */
int console_socket_listen(const char *dir, int *ret_fd);
/* Receive the pty master the runtime sends (SCM_RIGHTS) on one accepted connection. */
int console_socket_receive(int listen_fd, int *ret_master);

/* Raw mode for our terminal while we relay; restore with tty_restore(). */
int tty_raw(int fd, struct termios *saved);
void tty_restore(int fd, const struct termios *saved);
/* Copy the window size of `from` to `to`. */
void tty_copy_size(int from, int to);
