/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fileio.h"
#include "macro.h"
#include "paths.h"
#include "spawn.h"

void spawn_reset_signals(void) {
        /* The raw system call: libc refuses signals 32 and 33 (reserved for itself), yet they can arrive
         * ignored from our own parent, and Go programs such as runc pass them on untouched into the
         * container. */
        struct {
                unsigned long handler, flags, restorer, mask;
        } dfl = {.handler = (unsigned long) SIG_DFL};
        sigset_t none;

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
}

int sibling_path(const char *program, char **ret) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
                self[n] = 0;
                _cleanup_free_ char *p = path_join(dirname(self), program);
                if (!p)
                        return -ENOMEM;
                if (access(p, X_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        const char *path = getenv("PATH") ?: "/usr/local/bin:/usr/bin:/bin";
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = path_join(d, program);
                if (!p)
                        return -ENOMEM;
                if (access(p, X_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        return -ENOENT;
}

static int build_argv(const char *path, const char *program, char *const argv[], char ***ret) {
        size_t n = strv_length(argv);
        char **v = calloc(n + 6, sizeof(char *));
        if (!v)
                return -ENOMEM;
        size_t k = 0;
        v[k++] = (char *) program;
        v[k++] = (char *) "--root";
        v[k++] = (char *) berth_root();
        v[k++] = (char *) "--runroot";
        v[k++] = (char *) berth_runroot();
        for (size_t i = 0; i < n; i++)
                v[k++] = argv[i];
        v[k] = NULL;
        (void) path;
        *ret = v;
        return 0;
}

int exec_sibling(const char *program, char *const argv[]) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char **v = NULL;
        int r = sibling_path(program, &path);
        if (r < 0)
                return r;
        r = build_argv(path, program, argv, &v);
        if (r < 0)
                return r;
        execv(path, v);
        return -errno;
}

/* Start the sibling; its stdout goes to out_fd if >= 0, else to /dev/null. vfork(): the child borrows our
 * memory until it execs instead of copying our page tables as fork() does (~0.4 ms per program on a VM), so
 * it makes system calls only, with every signal blocked until their handlers are reset: none of ours may
 * run in it. */
static int spawn_fork(const char *program, char *const argv[], int out_fd, pid_t *ret_pid) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char **v = NULL;
        sigset_t all, saved;
        int r;

        r = sibling_path(program, &path);
        if (r < 0)
                return r;
        r = build_argv(path, program, argv, &v);
        if (r < 0)
                return r;
        sigfillset(&all);
        if (sigprocmask(SIG_SETMASK, &all, &saved) < 0)
                return -errno;
        pid_t pid = vfork();
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0)
                        (void) dup2(null, STDIN_FILENO);
                (void) dup2(out_fd >= 0 ? out_fd : null, STDOUT_FILENO);
                spawn_reset_signals();
                execv(path, v);
                _exit(127);
        }
        r = pid < 0 ? -errno : 0;
        (void) sigprocmask(SIG_SETMASK, &saved, NULL);
        if (r < 0)
                return r;
        *ret_pid = pid;
        return 0;
}

int spawn_sibling_start(const char *program, char *const argv[], pid_t *ret_pid) {
        return spawn_fork(program, argv, -EBADF, ret_pid);
}

int spawn_sibling_wait(pid_t pid) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -EPROTO;
}

int spawn_sibling(const char *program, char *const argv[], char **ret_stdout) {
        int pipefd[2] = {-EBADF, -EBADF};
        pid_t pid;
        int r;

        if (ret_stdout && pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        r = spawn_fork(program, argv, pipefd[1], &pid);
        safe_close(pipefd[1]);
        if (r < 0) {
                safe_close(pipefd[0]);
                return r;
        }
        _cleanup_free_ char *out = NULL;
        if (ret_stdout) {
                r = read_full_fd(pipefd[0], 1024 * 1024, &out, NULL);
                safe_close(pipefd[0]);
        }
        int status = spawn_sibling_wait(pid);
        if (status < 0)
                return status;
        if (r < 0)
                return r;
        if (ret_stdout) {
                size_t l = strlen(out);
                while (l > 0 && out[l - 1] == '\n')
                        out[--l] = 0;
                *ret_stdout = TAKE_PTR(out);
        }
        return status;
}
