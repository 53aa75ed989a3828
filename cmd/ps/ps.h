/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* The parsed command line, shared by the verbs (list, inspect, images, stats, port, top, info, df). */
typedef struct PsArgs {
        bool all;
        bool quiet;
        bool no_trunc;
        bool digests;
        bool no_stream;
        bool verbose; /* df -v */
        int last;     /* -n N / --latest; -1 when not given */
        json_t *filters;
        const char *type; /* inspect --type: NULL (either), "container" or "image" */
        char **names;     /* positional arguments after the verb */
} PsArgs;

int verb_list(const PsArgs *a);
int verb_inspect(const PsArgs *a);
int verb_images(const PsArgs *a);
int verb_stats(const PsArgs *a);
int verb_port(const PsArgs *a);
int verb_top(const PsArgs *a);
int verb_history(const PsArgs *a);
int verb_info(const PsArgs *a);
int verb_df(const PsArgs *a);
