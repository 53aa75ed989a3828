/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Run a sibling program ("berth-unpack", ...) as a user's shell would: found next to the running executable
 * first, then on $PATH; "--root ROOT --runroot RUNROOT" are inserted after the program name so it works on
 * the same state. argv excludes the program name. stdin is /dev/null, stderr is inherited. If ret_stdout is
 * given, stdout is captured (up to 1 MiB, trailing newline stripped). Returns the exit status (>= 0), or
 * -errno if it could not be run or was killed. */
int spawn_sibling(const char *program, char *const argv[], char **ret_stdout);
/* spawn_sibling() in two steps, its stdout to /dev/null: start it, then wait for its exit status. */
int spawn_sibling_start(const char *program, char *const argv[], pid_t *ret_pid);
int spawn_sibling_wait(pid_t pid);
/* Like spawn_sibling() but replaces the current process. */
int exec_sibling(const char *program, char *const argv[]);
/* In a forked child before exec: every signal back to its default disposition and none blocked, so what the
 * caller ignored or blocked (nohup, a shell's background job, a monitor's forwarded signals) does not leak
 * into the program, or into a container through the runtime. */
void spawn_reset_signals(void);
/* Path of a sibling program (next to /proc/self/exe, else found on $PATH). */
int sibling_path(const char *program, char **ret);
