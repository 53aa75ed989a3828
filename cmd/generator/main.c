/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-generator: a systemd generator turning berth.container(5) files into services
 * (systemd.generator(7)). */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "fileio.h"
#include "log.h"
#include "main-func.h"
#include "paths.h"
#include "source.h"

static bool arg_user = false;
static bool arg_dry_run = false;
static const char *arg_exec = NULL;
static const char *arg_cleanup = NULL;
static const char *arg_stop = NULL;
static const char *arg_dest = NULL;

static void help(void) {
        printf("Usage: berth-generator [OPTIONS] [NORMAL-DIR [EARLY-DIR [LATE-DIR]]]\n"
               "       berth-generator --exec FILE | --stop FILE | --cleanup FILE\n\n"
               "Turns /etc/berth/*.container and *.network files (~/.config/berth for the user manager) "
               "into\n"
               "systemd units. systemd runs it at boot and on every daemon-reload; see "
               "berth.container(5).\n\n"
               "Options:\n"
               "      --user              Read the user manager's files (default when SYSTEMD_SCOPE=user)\n"
               "      --dry-run           Print the units on stdout instead of writing them\n"
               "      --exec FILE         Run the container FILE describes in the foreground "
               "(berth@.service)\n"
               "      --stop FILE         Stop the container FILE describes (SIGKILL after its timeout)\n"
               "      --cleanup FILE      Remove the container FILE describes if it was left behind\n"
               "      --log-level LEVEL   debug, info, warning or error\n"
               "  -h --help               Show this help\n"
               "     --version            Show the version\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_USER = 0x100,
                ARG_DRY_RUN,
                ARG_EXEC,
                ARG_CLEANUP,
                ARG_STOP,
        };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"log-level", required_argument, NULL, ARG_LOG_LEVEL},
                {"user", no_argument, NULL, ARG_USER},
                {"dry-run", no_argument, NULL, ARG_DRY_RUN},
                {"exec", required_argument, NULL, ARG_EXEC},
                {"cleanup", required_argument, NULL, ARG_CLEANUP},
                {"stop", required_argument, NULL, ARG_STOP},
                {},
        };
        int c, r;

        /* systemd tells generators which manager runs them; the install path says it too. */
        const char *scope = getenv("SYSTEMD_SCOPE");
        arg_user = streq_ptr(scope, "user") || strstr(argv[0], "user-generators/");

        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        return cli_version();
                case ARG_USER:
                        arg_user = true;
                        break;
                case ARG_DRY_RUN:
                        arg_dry_run = true;
                        break;
                case ARG_EXEC:
                        arg_exec = optarg;
                        break;
                case ARG_CLEANUP:
                        arg_cleanup = optarg;
                        break;
                case ARG_STOP:
                        arg_stop = optarg;
                        break;
                default:
                        r = cli_parse_common(c, optarg, argv);
                        if (r != 1)
                                return r == 0 ? cli_usage_error("Unknown option") : r;
                }

        int n = argc - optind;
        if (!!arg_exec + !!arg_cleanup + !!arg_stop > 1)
                return cli_usage_error("--exec, --stop and --cleanup exclude each other");
        if (arg_exec || arg_cleanup || arg_stop) {
                if (n > 0)
                        return cli_usage_error("--exec, --stop and --cleanup take no directories");
                return 1;
        }
        if (n > 3)
                return cli_usage_error("Expected at most 3 directories (normal, early, late), got %d", n);
        if (n == 0 && !arg_dry_run)
                return cli_usage_error("Missing the output directory (or --dry-run)");
        /* Units go to the normal directory: below /etc, above vendor units, as for hand-written ones. */
        if (n > 0)
                arg_dest = argv[optind];
        return 1;
}

/* The directories with .container/.network files, in order of precedence. */
static int source_dirs(char ***ret) {
        _cleanup_strv_free_ char **dirs = NULL;
        const char *env = getenv("BERTH_GENERATOR_DIRS");
        int r;

        if (env) {
                _cleanup_free_ char *copy = strdup(env);
                if (!copy)
                        return -ENOMEM;
                char *save = NULL;
                for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                        r = strv_extend(&dirs, d);
                        if (r < 0)
                                return r;
                }
        } else if (arg_user) {
                _cleanup_free_ char *d = NULL;
                const char *config = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
                if (isempty(home)) {
                        struct passwd *pw = getpwuid(getuid());
                        home = pw ? pw->pw_dir : NULL;
                }
                if (config && config[0] == '/')
                        d = path_join(config, "berth");
                else if (home)
                        d = path_join(home, ".config", "berth");
                else
                        return log_error_errno(-ENOENT, "Neither $XDG_CONFIG_HOME nor $HOME is set");
                if (!d)
                        return -ENOMEM;
                r = strv_push(&dirs, TAKE_PTR(d));
                if (r < 0)
                        return r;
        } else {
                r = strv_extend(&dirs, "/etc/berth");
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(dirs);
        return 0;
}

static int run(int argc, char *argv[]) {
        _cleanup_strv_free_ char **dirs = NULL;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        if (arg_exec)
                return source_exec(arg_exec, EXEC_RUN);
        if (arg_stop)
                return source_exec(arg_stop, EXEC_STOP);
        if (arg_cleanup)
                return source_exec(arg_cleanup, EXEC_CLEANUP);

        r = source_dirs(&dirs);
        if (r < 0)
                return r == -ENOMEM ? log_oom() : r;
        return generate_all(dirs, arg_dest, arg_user, arg_dry_run);
}

DEFINE_MAIN_FUNCTION(run);
