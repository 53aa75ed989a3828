/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "main-func.h"
#include "paths.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.1"
#endif

OutputFormat arg_output = OUTPUT_TABLE;
const char *arg_template = NULL;

int cli_usage_error(const char *fmt, ...) {
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        fprintf(stderr, "%s: %s\n", log_program(), buf);
        return BERTH_EXIT_USAGE;
}

int cli_version(void) {
        printf("%s %s\n", log_program(), BERTH_VERSION);
        return 0;
}

int parse_boolean(const char *s) {
        if (!s)
                return -EINVAL;
        if (streq(s, "1") || streq(s, "true") || streq(s, "yes") || streq(s, "on"))
                return 1;
        if (streq(s, "0") || streq(s, "false") || streq(s, "no") || streq(s, "off"))
                return 0;
        return -EINVAL;
}

int cli_parse_common(int c, const char *value, char *const argv[]) {
        int r;

        switch (c) {
        case ARG_ROOT:
                if (isempty(value))
                        return cli_usage_error("Empty --root");
                berth_set_root(value);
                return 1;
        case ARG_RUNROOT:
                if (isempty(value))
                        return cli_usage_error("Empty --runroot");
                berth_set_runroot(value);
                return 1;
        case ARG_LOG_LEVEL:
                r = log_level_from_string(value);
                if (r < 0)
                        return cli_usage_error("Invalid --log-level '%s'", value);
                log_set_max_level(r);
                return 1;
        case ARG_FORMAT:
                if (streq(value, "json"))
                        arg_output = OUTPUT_JSON;
                else if (streq(value, "table"))
                        arg_output = OUTPUT_TABLE;
                else if (streq(value, "prometheus"))
                        arg_output = OUTPUT_PROMETHEUS;
                else if (strstr(value, "{{")) {
                        arg_output = OUTPUT_TEMPLATE;
                        arg_template = value;
                } else
                        return cli_usage_error(
                                "Invalid --format '%s': expected table, json or a '{{.Field}}' template",
                                value);
                return 1;
        case '?':
                if (optopt)
                        return cli_usage_error("Unknown option '-%c'", optopt);
                return cli_usage_error("Unknown option '%s'", argv[optind - 1]);
        case ':':
                if (optopt && optopt < 0x100)
                        return cli_usage_error("Option '-%c' needs an argument", optopt);
                return cli_usage_error("Option '%s' needs an argument", argv[optind - 1]);
        default:
                return 0;
        }
}
