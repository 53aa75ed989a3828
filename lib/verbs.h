/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>

#define VERB_ANY UINT_MAX

typedef struct Verb {
        const char *name;
        unsigned min_args, max_args; /* counting the verb itself */
        int (*dispatch)(int argc, char *argv[], void *userdata);
} Verb;

/* Find argv[0] in verbs and check the argument count; a missing, unknown or miscounted verb is a usage error
 * (BERTH_EXIT_USAGE). */
int dispatch_verb(int argc, char *argv[], const Verb verbs[], void *userdata);
