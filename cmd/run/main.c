/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-run: create and run containers, supervise them, and the lifecycle verbs. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "create.h"
#include "durable.h"
#include "health.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "main-func.h"
#include "monitor.h"
#include "options.h"
#include "rename.h"
#include "update.h"
#include "verbs.h"

static void help(void) {
        printf("Usage: berth-run [OPTIONS] VERB [ARGS...]\n\n"
               "Create and run containers under systemd, and manage their lifecycle.\n\n"
               "Verbs:\n"
               "  run [OPTIONS] IMAGE [CMD...]   Create and start a container (see 'berth-run run --help')\n"
               "  create [OPTIONS] IMAGE [CMD...] Create a container\n"
               "  start CONTAINER...            Start created or exited containers\n"
               "  stop [-t SECS] CONTAINER...   Stop signal, then SIGKILL after the timeout\n"
               "  restart [-t SECS] CONTAINER...\n"
               "  kill [-s SIG] CONTAINER...    Send a signal (default KILL)\n"
               "  rm [-f] [-v] [--ignore] CONTAINER... Remove containers\n"
               "  wait CONTAINER...             Wait for the exit and print the exit code\n"
               "  exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] CONTAINER CMD...\n"
               "  logs [-f] [--tail N] [--since TIME] [-t] CONTAINER\n"
               "  pause CONTAINER...            Freeze all processes\n"
               "  unpause CONTAINER...\n"
               "  prune [-f] [--filter F]       Remove all containers that are not running\n"
               "  attach [--no-stdin] [--sig-proxy=false] CONTAINER  Attach to a running container\n"
               "  cp [-a] [-L] CONTAINER:SRC DEST|SRC CONTAINER:DEST  Copy files out of or into a "
               "container\n"
               "  rename CONTAINER NEWNAME      Give a container a new name\n"
               "  update [--memory SIZE] [--cpus N] [--restart P]... CONTAINER...  Change limits, restart "
               "policy\n"
               "  volume create|ls|rm|inspect|prune\n\n"
               "Options:\n" CLI_COMMON_HELP "\nSee berth-run(1).\n");
}

static int run_or_create(int argc, char *argv[], bool is_run) {
        _cleanup_(run_options_done) RunOptions o = {};
        _cleanup_free_ char *id = NULL;
        int r;

        r = run_options_parse(argc, argv, &o, is_run);
        if (r == BERTH_EXIT_USAGE)
                return EXIT_BERTH_FAILED; /* docker: a bad flag of run is 125 */
        if (r <= 0)
                return r < 0 ? EXIT_BERTH_FAILED : 0;
        /* run: what create writes is synced while the runtime starts the container (durable.h) */
        durable_defer(is_run);
        r = container_create(&o, is_run, &id);
        if (r != 0)
                return r;
        if (!is_run) {
                puts(id);
                return 0;
        }
        if (o.detach) {
                r = container_start(id, START_DETACHED, false);
                if (r == 0)
                        puts(id);
                return r;
        }
        return container_start(id, START_FOREGROUND, o.interactive);
}

int verb_run(int argc, char *argv[], void *userdata) {
        return run_or_create(argc, argv, true);
}

int verb_create(int argc, char *argv[], void *userdata) {
        return run_or_create(argc, argv, false);
}

static int run(int argc, char *argv[]) {
        static const struct option options[] = {CLI_COMMON_OPTIONS, {}};
        static const Verb verbs[] = {
                {"run", 2, VERB_ANY, verb_run},
                {"create", 2, VERB_ANY, verb_create},
                {"start", 2, VERB_ANY, verb_start},
                {"stop", 2, VERB_ANY, verb_stop},
                {"restart", 2, VERB_ANY, verb_restart},
                {"kill", 2, VERB_ANY, verb_kill},
                {"rm", 2, VERB_ANY, verb_rm},
                {"wait", 2, VERB_ANY, verb_wait},
                {"exec", 2, VERB_ANY, verb_exec},
                {"logs", 2, VERB_ANY, verb_logs},
                {"pause", 2, VERB_ANY, verb_pause},
                {"unpause", 2, VERB_ANY, verb_pause},
                {"volume", 2, VERB_ANY, verb_volume},
                {"prune", 1, VERB_ANY, verb_prune},
                {"attach", 2, VERB_ANY, verb_attach},
                {"cp", 1, VERB_ANY, verb_cp},
                {"update", 2, VERB_ANY, verb_update},
                {"rename", 1, VERB_ANY, verb_rename},
                {"healthcheck", 2, 2, verb_healthcheck},
                {},
        };
        int c, r;

        opterr = 0; /* cli_parse_common() says it in one line */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                if (c == 'h') {
                        help();
                        return 0;
                }
                if (c == ARG_VERSION)
                        return cli_version();
                r = cli_parse_common(c, optarg, argv);
                if (r < 0)
                        return r;
        }
        if (optind >= argc)
                return cli_usage_error("Missing verb; see 'berth-run --help'");
        return dispatch_verb(argc - optind, argv + optind, verbs, NULL);
}

DEFINE_MAIN_FUNCTION(run);
