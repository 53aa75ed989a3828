/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <getopt.h>
#include <stdbool.h>

/* Options shared by every berth program. Each program puts CLI_COMMON_OPTIONS into its getopt_long() table,
 * handles 'h' and ARG_VERSION itself (it owns its help text), and passes every other option it does not know
 * to cli_parse_common(). */
enum {
        ARG_VERSION = 0x1000,
        ARG_ROOT,
        ARG_RUNROOT,
        ARG_LOG_LEVEL,
        ARG_FORMAT,
        _ARG_COMMON_MAX,
};

#define CLI_COMMON_OPTIONS                                                             \
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, ARG_VERSION}, \
                {"root", required_argument, NULL, ARG_ROOT},                           \
                {"runroot", required_argument, NULL, ARG_RUNROOT},                     \
                {"log-level", required_argument, NULL, ARG_LOG_LEVEL}, {               \
                "format", required_argument, NULL, ARG_FORMAT                          \
        }

typedef enum OutputFormat {
        OUTPUT_TABLE,
        OUTPUT_JSON,
        OUTPUT_TEMPLATE,
        OUTPUT_PROMETHEUS,
} OutputFormat;

extern OutputFormat arg_output;
extern const char *arg_template; /* for OUTPUT_TEMPLATE: the '{{.Field}}' string */

#define CLI_COMMON_HELP                                                                   \
        "      --root DIR          Persistent state directory (default /var/lib/berth)\n" \
        "      --runroot DIR       Runtime state directory (default /run/berth)\n"        \
        "      --log-level LEVEL   debug, info, warning or error\n"                       \
        "      --format FORMAT     table, json or a Go-style template '{{.Field}}'\n"     \
        "  -h --help               Show this help\n"                                      \
        "     --version            Show the version\n"

/* Returns 1 if the option was handled, 0 if it is not a common option, BERTH_EXIT_USAGE on a bad value. For
 * c == '?' or ':' it logs the one-line usage error and returns BERTH_EXIT_USAGE. */
int cli_parse_common(int c, const char *value, char *const argv[]);
int cli_version(void);
/* Log a one-line usage error and return BERTH_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse "true|false|1|0|yes|no" */
int parse_boolean(const char *s);
