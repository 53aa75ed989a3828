/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "http.h"

/* A blob an image needs: its digest and size from a verified manifest, and a name for messages. */
typedef struct Need {
        const char *digest;
        uint64_t size;
        const char *url; /* a layer's foreign URL to fetch it from (--allow-foreign-urls), else NULL */
        char what[160];
        bool done;
        bool committed; /* put in the store by this pull (not found there) */
} Need;

/* Fetch every blob not in the store yet, each under its own lock, so concurrent pulls fetch a blob once. */
int fetch_blobs(Client *c, Need *need, size_t n, uint64_t *fetched);
/* -ENOSPC (logged) when the missing blobs cannot fit in $ROOT. */
int check_space(const Need *need, size_t n, const char *what);
/* A failed pull takes back the blobs it put in the store (need[].committed, and manifest unless NULL). */
void blobs_take_back(int gc_fd, const Need *need, size_t n, const char *manifest);
