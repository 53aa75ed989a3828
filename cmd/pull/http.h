/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "macro.h"
#include "util.h"

/* One registry endpoint (origin + repository) and the libcurl multi handle every request to it goes through:
 * connections are reused, blobs fetched in parallel, redirects, auth, retries and timeouts handled here. */
typedef struct Client Client;

typedef struct ClientOptions {
        bool tls_verify; /* verify certificates (--tls-verify) */
        bool allow_http; /* plain HTTP allowed: loopback, insecure registry, or --tls-verify=false */
        const char *cert_dir;
        unsigned jobs;      /* parallel blob downloads */
        unsigned retries;   /* per request, for 429/5xx/network errors */
        usec_t retry_delay; /* 0: exponential backoff from 1 s */
        usec_t retry_after_max;
        unsigned timeout_s; /* connect timeout, and the longest time without a byte received */
        bool progress;      /* per-layer progress lines on stderr */
        /* Credentials (never logged); source names where they came from, for messages. */
        const char *user, *password, *cred_source;
} ClientOptions;

int client_new(const char *domain, const char *repo, const ClientOptions *o, Client **ret);
Client *client_free(Client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Client *, client_free)
const char *client_domain(Client *c);

/* GET path (below the registry origin) into memory, refusing more than max bytes. what ("manifest of 'x'")
 * names the object in the one error line this logs on failure. */
int client_get_memory(Client *c, const char *path, const char *accept, size_t max, const char *what,
                      char **ret_body, size_t *ret_len, char **ret_content_type);

/* A blob to stream into fd, which already holds the first `offset` bytes of it (their hash in `hash`). The
 * download resumes there with a Range request, checks size and digest, and leaves fd complete. */
typedef struct BlobJob {
        const char *digest;
        uint64_t size;
        int fd;
        uint64_t offset;
        Sha256 *hash;
        const char *what; /* "layer 2 (sha256:…)" */
        const char *url;  /* an absolute URL to fetch it from instead of the registry (never with its
                           * credentials), or NULL */
        uint64_t fetched; /* out: bytes received over the network */
        int error;        /* out: why this one failed; -EBADMSG for wrong content */
        /* Called as soon as this blob is complete and verified (to commit it); < 0 fails the lot. */
        int (*complete)(struct BlobJob *j);
        void *userdata;
} BlobJob;

/* Download all jobs, at most o->jobs at a time. On the first failure, logs one line, stops the others and
 * returns it. */
int client_get_blobs(Client *c, BlobJob *jobs, size_t n);
