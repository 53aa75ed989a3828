/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>
#include <string.h>

/* Minimal TAP for the unit tests (crun style): each check prints "ok N - what" or "not ok N - what". */
static int tap_n, tap_failed;

#define CHECK(cond, ...)                                                                        \
        do {                                                                                    \
                int tap_ok_ = !!(cond); /* first: cond may make checks of its own */           \
                tap_n++;                                                                        \
                if (tap_ok_)                                                                    \
                        printf("ok %d - ", tap_n);                                              \
                else {                                                                          \
                        printf("not ok %d - %s:%d: ", tap_n, __FILE__, __LINE__);               \
                        tap_failed++;                                                           \
                }                                                                               \
                printf(__VA_ARGS__);                                                            \
                printf("\n");                                                                   \
        } while (0)

#define CHECK_STR(a, b, what) CHECK((a) && (b) && strcmp((a), (b)) == 0, "%s: '%s' == '%s'", what, (a) ?: "(null)", (b))

#define TAP_END()                                 \
        do {                                      \
                printf("1..%d\n", tap_n);         \
                return tap_failed ? 1 : 0;        \
        } while (0)
