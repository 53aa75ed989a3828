/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdlib.h>

#include "log.h"

/* run() returns <0 on failure (exit 1, or 2 for -EINVAL from argument parsing as marked by
 * BERTH_EXIT_USAGE), or a non-negative exit status. */
#define BERTH_EXIT_USAGE (-1000)

#define DEFINE_MAIN_FUNCTION(fn)                   \
        int main(int argc, char *argv[]) {         \
                log_set_program(argv[0]);          \
                int _r = fn(argc, argv);           \
                if (_r == BERTH_EXIT_USAGE)        \
                        return 2;                  \
                return _r < 0 ? EXIT_FAILURE : _r; \
        }
