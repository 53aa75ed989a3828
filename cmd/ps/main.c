/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps: containers and their status, inspect, images, resource use. Reads the state; writes nothing. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "main-func.h"
#include "ps.h"
#include "table.h"
#include "util.h"

typedef enum Verb {
        VERB_LIST,
        VERB_INSPECT,
        VERB_IMAGES,
        VERB_STATS,
        VERB_PORT,
        VERB_TOP,
        VERB_HISTORY,
        VERB_INFO,
        VERB_DF,
        _VERB_MAX,
} Verb;

static const char *const verb_names[_VERB_MAX] = {
        [VERB_LIST] = "ps",     [VERB_INSPECT] = "inspect", [VERB_IMAGES] = "images",
        [VERB_STATS] = "stats", [VERB_PORT] = "port",       [VERB_TOP] = "top",
        [VERB_INFO] = "info",   [VERB_DF] = "df",           [VERB_HISTORY] = "history",
};

static Verb arg_verb = VERB_LIST;
static PsArgs arg = {.last = -1};

static void help(void) {
        printf("Usage: berth-ps [OPTIONS]                     List containers\n"
               "       berth-ps inspect [OPTIONS] NAME|ID...  Show containers or images in detail\n"
               "       berth-ps images [OPTIONS] [REFERENCE]  List images\n"
               "       berth-ps stats [OPTIONS] [NAME|ID...]  Show resource use of running containers\n"
               "       berth-ps port [OPTIONS] NAME|ID [PORT[/PROTO]]\n"
               "       berth-ps port -a [OPTIONS] [PORT[/PROTO]]\n"
               "                                              Show a running container's published ports\n"
               "       berth-ps top [OPTIONS] NAME|ID [PS-OPTIONS...]\n"
               "                                              Show a running container's processes (ps "
               "-ef)\n"
               "       berth-ps history [OPTIONS] IMAGE       Show how an image was built, newest step "
               "first\n"
               "       berth-ps info [OPTIONS]                Show the host, stores, runtime, network\n"
               "       berth-ps df [-v] [OPTIONS]             Show the disk use of images, containers, "
               "volumes\n\n"
               "Options:\n"
               "  -a --all                Show all containers, not only running ones (port: of every\n"
               "                          running container)\n"
               "  -q --quiet              Print IDs only, one per line\n"
               "  -n --last N             Show the N most recently created containers (any state)\n"
               "  -l --latest             Show the most recently created container (= -n 1)\n"
               "     --no-trunc           Do not shorten IDs and commands (history: CREATED BY)\n"
               "  -f --filter KEY=VALUE   ps: name= id= status= label= ancestor= network=\n"
               "                          images: reference= before= since= dangling= label=\n"
               "     --digests            images: show the manifest digests\n"
               "  -t --type TYPE          inspect: container, image (default: whichever matches)\n"
               "     --no-stream          stats: print one sample and exit (default: one a "
               "second)\n"
               "  -v --verbose            df: list every image, container and volume\n" CLI_COMMON_HELP
               "                          (stats also: prometheus)\n\n"
               "See berth-ps(1).\n");
}

/* The verb is the first argument that is neither an option nor an option's value. */
static int find_verb(int argc, char *argv[]) {
        static const char *const with_value[] = {"--root", "--runroot", "--log-level", "--format", "-n",
                                                 "--last", "-f",        "--filter",    "-t",       "--type"};
        for (int i = 1; i < argc; i++) {
                const char *s = argv[i];
                if (streq(s, "--"))
                        return 0;
                if (s[0] == '-') {
                        for (size_t k = 0; k < ELEMENTSOF(with_value); k++)
                                if (streq(s, with_value[k]))
                                        i++;
                        continue;
                }
                for (int v = 0; v < _VERB_MAX; v++)
                        if (streq(s, verb_names[v])) {
                                arg_verb = (Verb) v;
                                memmove(argv + i, argv + i + 1, sizeof(char *) * (size_t) (argc - i));
                                return 1;
                        }
                return 0;
        }
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_NO_TRUNC = _ARG_COMMON_MAX + 1,
                ARG_DIGESTS,
                ARG_NO_STREAM,
        };
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"all", no_argument, NULL, 'a'},
                {"quiet", no_argument, NULL, 'q'},
                {"last", required_argument, NULL, 'n'},
                {"latest", no_argument, NULL, 'l'},
                {"no-trunc", no_argument, NULL, ARG_NO_TRUNC},
                {"filter", required_argument, NULL, 'f'},
                {"digests", no_argument, NULL, ARG_DIGESTS},
                {"type", required_argument, NULL, 't'},
                {"no-stream", no_argument, NULL, ARG_NO_STREAM},
                {"verbose", no_argument, NULL, 'v'},
                {},
        };
        static const char *const list_filters[] = {"name",     "id",      "status", "label",
                                                   "ancestor", "network", NULL};
        static const char *const image_filters[] = {"reference", "before", "since",
                                                    "dangling",  "label",  NULL};
        int c, r;

        if (find_verb(argc, argv) > 0)
                argc--;

        /* top: the options after the container are ps(1)'s */
        while ((c = getopt_long(argc, argv, arg_verb == VERB_TOP ? "+:haqn:lf:t:v" : ":haqn:lf:t:v", options,
                                NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        return cli_version();
                case 'a':
                        arg.all = true;
                        break;
                case 'q':
                        arg.quiet = true;
                        break;
                case 'n':
                        r = safe_atoi(optarg, &arg.last);
                        if (r < 0 || arg.last < 0)
                                return cli_usage_error("Invalid --last '%s': expected a number >= 0",
                                                       optarg);
                        break;
                case 'l':
                        arg.last = 1;
                        break;
                case ARG_NO_TRUNC:
                        arg.no_trunc = true;
                        break;
                case 'f':
                        r = filters_add(&arg.filters, optarg,
                                        arg_verb == VERB_IMAGES ? image_filters : list_filters);
                        if (r == -ENOMEM)
                                return log_oom();
                        if (r < 0)
                                return cli_usage_error("Invalid --filter '%s' for '%s'", optarg,
                                                       verb_names[arg_verb]);
                        break;
                case ARG_DIGESTS:
                        arg.digests = true;
                        break;
                case 't':
                        if (!streq(optarg, "container") && !streq(optarg, "image"))
                                return cli_usage_error("Invalid --type '%s': expected container or image",
                                                       optarg);
                        arg.type = optarg;
                        break;
                case ARG_NO_STREAM:
                        arg.no_stream = true;
                        break;
                case 'v':
                        if (arg_verb != VERB_DF)
                                return cli_usage_error("-v/--verbose is only for 'berth-ps df'");
                        arg.verbose = true;
                        break;
                default:
                        r = cli_parse_common(c, optarg, argv);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return cli_usage_error("Unhandled option");
                }
        }

        if (arg_output == OUTPUT_PROMETHEUS && arg_verb != VERB_STATS)
                return cli_usage_error("--format prometheus is only for 'berth-ps stats'");
        if (arg_output == OUTPUT_TEMPLATE) {
                /* a malformed template is a usage error even when there is nothing to render */
                json_auto_t *empty = json_object();
                _cleanup_fclose_ FILE *null = fopen("/dev/null", "we");
                if (!empty || !null)
                        return log_oom();
                if (template_render(arg_template, empty, null) == -EINVAL)
                        return cli_usage_error("Invalid --format template '%s'", arg_template);
        }
        if (arg_verb == VERB_LIST && optind < argc)
                return cli_usage_error("Unexpected argument '%s'", argv[optind]);
        if (arg_verb == VERB_INSPECT && optind >= argc)
                return cli_usage_error("'inspect' needs at least one name or ID");
        if (arg_verb == VERB_IMAGES && argc - optind > 1)
                return cli_usage_error("'images' takes at most one reference");
        if (arg_verb == VERB_PORT && (arg.all ? argc - optind > 1 : argc - optind < 1 || argc - optind > 2))
                return cli_usage_error(arg.all ? "'port --all' takes at most a port"
                                               : "'port' needs a container and at most a port");
        if ((arg_verb == VERB_INFO || arg_verb == VERB_DF) && optind < argc)
                return cli_usage_error("'%s' takes no arguments", verb_names[arg_verb]);
        if (arg_verb == VERB_DF && arg.verbose && arg_output == OUTPUT_TEMPLATE)
                return cli_usage_error("'df -v' prints a table or JSON, not a template");
        if (arg_verb == VERB_TOP && optind >= argc)
                return cli_usage_error("'top' needs a container");
        if (arg_verb == VERB_HISTORY && argc - optind != 1)
                return cli_usage_error("'history' needs exactly one image");
        arg.names = argv + optind;
        return 1;
}

static int run(int argc, char *argv[]) {
        int r = parse_argv(argc, argv);
        if (r <= 0)
                return r;
        switch (arg_verb) {
        case VERB_INSPECT:
                r = verb_inspect(&arg);
                break;
        case VERB_IMAGES:
                r = verb_images(&arg);
                break;
        case VERB_STATS:
                r = verb_stats(&arg);
                break;
        case VERB_PORT:
                r = verb_port(&arg);
                break;
        case VERB_TOP:
                r = verb_top(&arg);
                break;
        case VERB_HISTORY:
                r = verb_history(&arg);
                break;
        case VERB_INFO:
                r = verb_info(&arg);
                break;
        case VERB_DF:
                r = verb_df(&arg);
                break;
        default:
                r = verb_list(&arg);
        }
        json_decref(arg.filters);
        return r;
}

DEFINE_MAIN_FUNCTION(run);
