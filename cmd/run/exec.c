/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-run exec: a process in a running container, through the runtime. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/wait.h>

#include "cli.h"
#include "container.h"
#include "fileio.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "main-func.h"
#include "monitor.h"
#include "record.h"
#include "safeio.h"
#include "spawn.h"
#include "spec.h"
#include "user.h"

enum { ARG_PRIV = 0x200 };

static int exec_error_status(const char *logfile) {
        _cleanup_free_ char *buf = NULL;
        if (read_full_file(logfile, 1024 * 1024, &buf, NULL) < 0)
                return EXIT_BERTH_FAILED;
        if (!strstr(buf, "exec: \\\""))
                return EXIT_BERTH_FAILED;
        if (strstr(buf, "executable file not found") || strstr(buf, "no such file or directory"))
                return EXIT_NOT_FOUND;
        if (strstr(buf, "permission denied") || strstr(buf, "exec format error"))
                return EXIT_CANNOT_INVOKE;
        return EXIT_BERTH_FAILED;
}

int verb_exec(int argc, char *argv[], void *userdata) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"interactive", no_argument, NULL, 'i'},
                {"tty", no_argument, NULL, 't'},
                {"detach", no_argument, NULL, 'd'},
                {"env", required_argument, NULL, 'e'},
                {"workdir", required_argument, NULL, 'w'},
                {"user", required_argument, NULL, 'u'},
                {"privileged", no_argument, NULL, ARG_PRIV},
                {},
        };
        _cleanup_strv_free_ char **env = NULL, **rargv = NULL;
        _cleanup_free_ char *id = NULL, *logfile = NULL, *ustr = NULL;
        bool interactive = false, tty = false, detach = false;
        const char *workdir = NULL, *user = NULL;
        json_t *rec = NULL;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+hitde:w:u:", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        printf("Usage: berth-run exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] CONTAINER "
                               "CMD...\n\n"
                               "See berth-run(1).\n");
                        return 0;
                case 'i':
                        interactive = true;
                        break;
                case 't':
                        tty = true;
                        break;
                case 'd':
                        detach = true;
                        break;
                case 'e':
                        if (!strchr(optarg, '=') || optarg[0] == '=')
                                return cli_usage_error("Invalid --env '%s'", optarg), EXIT_BERTH_FAILED;
                        if (strv_extend(&env, optarg) < 0)
                                return log_oom();
                        break;
                case 'w':
                        if (optarg[0] != '/')
                                return cli_usage_error("Invalid --workdir '%s'", optarg), EXIT_BERTH_FAILED;
                        workdir = optarg;
                        break;
                case 'u':
                        user = optarg;
                        break;
                case ARG_PRIV:
                        break;
                default:
                        r = cli_parse_common(c, optarg, argv);
                        if (r < 0)
                                return EXIT_BERTH_FAILED;
                        if (r == 0)
                                return cli_usage_error("Unknown option '%s'", argv[optind - 1]),
                                       EXIT_BERTH_FAILED;
                }
        }
        if (argc - optind < 2)
                return cli_usage_error("Expected CONTAINER and a command"), EXIT_BERTH_FAILED;
        r = lookup_container(argv[optind], &id, &rec);
        if (r < 0)
                return EXIT_BERTH_FAILED;
        if (!record_init_alive(rec)) {
                json_decref(rec);
                log_error("Container '%s' is not running", argv[optind]);
                return EXIT_BERTH_FAILED;
        }
        const char *runtime = record_get_string(rec, "HostConfig.Runtime") ?: "runc";
        _cleanup_free_ char *rt = strdup(runtime);
        json_decref(rec);
        if (!rt)
                return log_oom();

        logfile = container_run_path(id, "exec.log");
        if (!logfile)
                return log_oom();
        (void) unlink(logfile);
        if (strv_extend(&rargv, rt) < 0 || strv_extend(&rargv, "--root") < 0 ||
            strv_extend(&rargv, runtime_state_root()) < 0 || strv_extend(&rargv, "--log") < 0 ||
            strv_extend(&rargv, logfile) < 0 || strv_extend(&rargv, "exec") < 0)
                return log_oom();
        if (tty && strv_extend(&rargv, "--tty") < 0)
                return log_oom();
        if (detach && strv_extend(&rargv, "--detach") < 0)
                return log_oom();
        if (workdir && (strv_extend(&rargv, "--cwd") < 0 || strv_extend(&rargv, workdir) < 0))
                return log_oom();
        for (size_t i = 0; env && env[i]; i++)
                if (strv_extend(&rargv, "--env") < 0 || strv_extend(&rargv, env[i]) < 0)
                        return log_oom();
        if (user) {
                _cleanup_free_ char *rootfs = container_path(id, "rootfs"), *why = NULL;
                _cleanup_(container_user_done) ContainerUser u = {};
                _cleanup_close_ int rootfd =
                        rootfs ? open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC) : -EBADF;
                if (rootfd < 0)
                        return log_error_errno(errno, "Cannot open the rootfs of '%s': %m", argv[optind]),
                               EXIT_BERTH_FAILED;
                r = user_resolve(rootfd, user, &u, &why);
                if (r < 0) {
                        log_error("Invalid user '%s': %s", user, strna(why));
                        return EXIT_BERTH_FAILED;
                }
                if (asprintf(&ustr, "%u:%u", u.uid, u.gid) < 0)
                        return log_oom();
                if (strv_extend(&rargv, "--user") < 0 || strv_extend(&rargv, ustr) < 0)
                        return log_oom();
                for (size_t i = 0; i < u.n_additional_gids; i++) {
                        char g[16];
                        snprintf(g, sizeof g, "%u", u.additional_gids[i]);
                        if (strv_extend(&rargv, "--additional-gids") < 0 || strv_extend(&rargv, g) < 0)
                                return log_oom();
                }
        }
        if (strv_extend(&rargv, id) < 0)
                return log_oom();
        for (int i = optind + 1; i < argc; i++)
                if (strv_extend(&rargv, argv[i]) < 0)
                        return log_oom();

        pid_t pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "fork() failed: %m"), EXIT_BERTH_FAILED;
        if (pid == 0) {
                if (!interactive && !tty) {
                        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        if (null >= 0)
                                (void) dup2(null, 0);
                }
                spawn_reset_signals();
                execvp(rt, rargv);
                fprintf(stderr, "%s: Cannot execute the runtime '%s': %m\n", log_program(), rt);
                _exit(EXIT_BERTH_FAILED);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "waitpid() failed: %m"), EXIT_BERTH_FAILED;
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        int code = WEXITSTATUS(status);
        /* runc exits 255 when it could not start the process; the reason is in its log */
        if (code == 255 && access(logfile, F_OK) == 0)
                return exec_error_status(logfile);
        return code;
}
