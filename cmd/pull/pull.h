/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "auth.h"
#include "http.h"
#include "parse.h"

typedef struct PullOptions {
        ClientOptions client; /* tls, jobs, retries, timeouts, progress (credentials filled in by pull) */
        bool tls_verify_set;  /* --tls-verify given explicitly */
        Platform platform;
        const char *authfile;
        const Creds *creds; /* --creds */
        const char *registries_conf;
        bool foreign_urls; /* --allow-foreign-urls */
} PullOptions;

typedef struct PullResult {
        char *reference; /* normalised store name */
        char *digest;    /* manifest digest */
        char *id;        /* image ID */
        unsigned layers;
        uint64_t bytes_fetched;
} PullResult;

void pull_result_done(PullResult *r);
int pull_image(const char *spec, const PullOptions *o, PullResult *ret);
