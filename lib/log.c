/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *program = "berth";
static int journal_prefix = -1;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_program(const char *name) {
        const char *slash = strrchr(name, '/');
        program = slash ? slash + 1 : name;
}

const char *log_program(void) {
        return program;
}

int log_level_from_string(const char *s) {
        static const char *const names[] = {"emerg",   "alert",  "crit", "err",
                                            "warning", "notice", "info", "debug"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int) i;
        if (streq(s, "error"))
                return LOG_ERR;
        if (streq(s, "warn"))
                return LOG_WARNING;
        return -EINVAL;
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        int saved = errno;
        error = abs(error);

        if (level > max_level) {
                errno = saved;
                return -error;
        }
        if (journal_prefix < 0)
                journal_prefix = getenv("JOURNAL_STREAM") != NULL;

        char buf[4096];
        va_list ap;
        errno = error;
        va_start(ap, fmt);
        (void) vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);

        if (journal_prefix)
                fprintf(stderr, "<%d>%s: %s\n", level, program, buf);
        else if (max_level >= LOG_DEBUG)
                fprintf(stderr, "%s: %s (%s:%d)\n", program, buf, file, line);
        else
                fprintf(stderr, "%s: %s\n", program, buf);

        errno = error;
        return -error;
}
