/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The programs berth-ps runs and reads: ps(1) for top, systemctl and the runtime's --version for info. */
#include <fcntl.h>
#include <sys/wait.h>

#include "command.h"
#include "fileio.h"
#include "macro.h"
#include "spawn.h"

int command_output(char *const argv[], bool quiet, size_t max, char **ret_out) {
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                return -errno;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(pipefd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                if (quiet) {
                        int wnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
                        if (wnull < 0 || dup2(wnull, STDERR_FILENO) < 0)
                                _exit(127);
                }
                spawn_reset_signals();
                execvp(argv[0], argv);
                _exit(127);
        }
        safe_close(pipefd[1]);
        _cleanup_free_ char *out = NULL;
        int r = read_full_fd(pipefd[0], max, &out, NULL);
        safe_close(pipefd[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (r < 0)
                return r;
        *ret_out = TAKE_PTR(out);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -EPROTO;
}

int command_first_line(char *const argv[], char **ret) {
        _cleanup_free_ char *out = NULL;
        int r = command_output(argv, true, 64 * 1024, &out);
        if (r < 0)
                return r;
        if (r == 127)
                return -ENOENT;
        if (r != 0 || isempty(out))
                return -EIO;
        out[strcspn(out, "\n")] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}
