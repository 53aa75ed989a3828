/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth VERB ARGS...: exec the program that owns VERB, so docker/podman habits carry over. */
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "macro.h"
#include "main-func.h"
#include "prune.h"
#include "spawn.h"

typedef struct Route {
        const char *verb;
        const char *program;
        const char *subverb; /* inserted before the arguments, NULL for none */
        const char *option;  /* inserted after it, NULL for none */
} Route;

/* One owner per noun: images and containers are listed by ps, networks by net, the lifecycle by run. */
static const Route routes[] = {
        {"pull", "berth-pull", NULL},
        {"rmi", "berth-pull", "rmi"},
        {"save", "berth-pull", "save"},
        {"load", "berth-pull", "load"},
        {"tag", "berth-pull", "tag"},
        {"login", "berth-pull", "login"},
        {"logout", "berth-pull", "logout"},
        {"unpack", "berth-unpack", NULL},
        {"mount", "berth-unpack", "mount"},
        {"umount", "berth-unpack", "umount"},
        {"run", "berth-run", "run"},
        {"create", "berth-run", "create"},
        {"start", "berth-run", "start"},
        {"stop", "berth-run", "stop"},
        {"restart", "berth-run", "restart"},
        {"kill", "berth-run", "kill"},
        {"rm", "berth-run", "rm"},
        {"wait", "berth-run", "wait"},
        {"exec", "berth-run", "exec"},
        {"attach", "berth-run", "attach"},
        {"prune", "berth-run", "prune"},
        {"logs", "berth-run", "logs"},
        {"pause", "berth-run", "pause"},
        {"unpause", "berth-run", "unpause"},
        {"volume", "berth-run", "volume"},
        {"cp", "berth-run", "cp"},
        {"rename", "berth-run", "rename"},
        {"update", "berth-run", "update"},
        {"ps", "berth-ps", NULL},
        {"inspect", "berth-ps", "inspect"},
        {"images", "berth-ps", "images"},
        {"stats", "berth-ps", "stats"},
        {"port", "berth-ps", "port"},
        {"top", "berth-ps", "top"},
        {"info", "berth-ps", "info"},
        {"history", "berth-ps", "history"},
        {"network", "berth-net", NULL},
        {"net", "berth-net", NULL},
        {},
};

/* berth image VERB: docker's and podman's image management verbs. */
static const Route image_routes[] = {
        {"ls", "berth-ps", "images"},
        {"list", "berth-ps", "images"},
        {"inspect", "berth-ps", "inspect", "--type=image"},
        {"history", "berth-ps", "history"},
        {"pull", "berth-pull", NULL},
        {"rm", "berth-pull", "rmi"},
        {"tag", "berth-pull", "tag"},
        {"save", "berth-pull", "save"},
        {"load", "berth-pull", "load"},
        {},
};

/* berth system VERB: docker's; prune is the front's own sequence of the owners' prunes (prune.c). */
static const Route system_routes[] = {
        {"info", "berth-ps", "info"},
        {"df", "berth-ps", "df"},
        {},
};

static void help(void) {
        printf("Usage: berth VERB [ARGS...]\n\n"
               "Runs the berth program that owns VERB:\n"
               "  pull rmi save load tag login logout          berth-pull\n"
               "  unpack mount umount                          berth-unpack\n"
               "  run create start stop restart kill rm wait   berth-run\n"
               "  exec attach logs pause unpause cp volume prune\n"
               "  rename\n"
               "  update\n"
               "  ps inspect images history stats port top     berth-ps\n"
               "  network                                      berth-net\n"
               "  image ls|inspect|history                     berth-ps\n"
               "  image pull|rm|tag|save|load                  berth-pull\n"
               "  image prune                                  berth-pull gc, then berth-unpack gc\n"
               "  info, system info|df                         berth-ps info, berth-ps df\n"
               "  system prune [-a|--all] [-f|--force] [--volumes]\n"
               "                                               berth-run prune, berth-net prune,\n"
               "                                               berth-pull rmi and gc, berth-run volume\n"
               "                                               prune, berth-unpack gc\n\n"
               "Options:\n"
               "  -h --help      Show this help\n"
               "     --version  Show the version\n\n"
               "See berth(1).\n");
}

static int run(int argc, char *argv[]) {
        if (argc < 2)
                return cli_usage_error("Missing verb; see 'berth --help'");
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                help();
                return 0;
        }
        if (streq(argv[1], "--version") || streq(argv[1], "version"))
                return cli_version();

        const Route *table = routes;
        if (streq(argv[1], "system")) {
                if (argc < 3)
                        return cli_usage_error("Missing system verb; see 'berth --help'");
                if (streq(argv[2], "prune"))
                        return system_prune(argc - 2, argv + 2);
                table = system_routes;
                argc--;
                argv++;
        } else if (streq(argv[1], "image")) {
                if (argc < 3)
                        return cli_usage_error("Missing image verb; see 'berth --help'");
                if (streq(argv[2], "prune")) {
                        if (argc > 3)
                                return cli_usage_error("'berth image prune' takes no arguments");
                        /* unused blobs first, then the layers no image or container uses */
                        char *gc[] = {(char *) "gc", NULL};
                        int k = spawn_sibling("berth-pull", gc, NULL);
                        if (k != 0)
                                return k < 0 ? log_error_errno(k, "Cannot run berth-pull gc: %m") : k;
                        k = exec_sibling("berth-unpack", gc);
                        return log_error_errno(k, "Cannot run berth-unpack gc: %m");
                }
                table = image_routes;
                argc--;
                argv++;
        }
        for (const Route *r = table; r->verb; r++) {
                if (!streq(r->verb, argv[1]))
                        continue;
                _cleanup_free_ char *path = NULL;
                int k = sibling_path(r->program, &path);
                if (k < 0)
                        return log_error_errno(k, "Cannot find '%s' for 'berth %s': %m", r->program,
                                               r->verb);
                char **v = calloc((size_t) argc + 3, sizeof(char *));
                if (!v)
                        return log_oom();
                size_t n = 0;
                v[n++] = (char *) r->program;
                if (r->subverb)
                        v[n++] = (char *) r->subverb;
                if (r->option)
                        v[n++] = (char *) r->option;
                for (int i = 2; i < argc; i++)
                        v[n++] = argv[i];
                execv(path, v);
                k = -errno;
                free(v);
                return log_error_errno(k, "Failed to execute '%s': %m", path);
        }
        const char *kind = table == image_routes ? "image " : table == system_routes ? "system " : "";
        return cli_usage_error("Unknown %sverb '%s'; see 'berth --help'", kind, argv[1]);
}

DEFINE_MAIN_FUNCTION(run);
