/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Run argv (argv[0] found on $PATH) with stdin on /dev/null and stdout captured, up to max bytes; stderr
 * goes to ours, or with quiet to /dev/null. Returns its exit status (>= 0, 127 if it could not be run) with
 * the output in ret_out, or -errno. */
int command_output(char *const argv[], bool quiet, size_t max, char **ret_out);
/* The first line of what a quiet command_output() printed. -ENOENT if the program is not there, -EIO if it
 * failed or printed nothing. */
int command_first_line(char *const argv[], char **ret);
