/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* Pure parsers of the registry protocol, kept free of I/O so tests/unit/test-pull-parse.c can check them. */

typedef struct Challenge {
        char *scheme; /* "Bearer", "Basic" (as sent) */
        char *realm;
        char *service;
        char *scope;
} Challenge;

void challenge_done(Challenge *c);
/* Parse one WWW-Authenticate value: 'Bearer realm="…",service="…",scope="…"'. -EBADMSG if malformed. */
int challenge_parse(const char *s, Challenge *ret);

/* Retry-After: delta-seconds or an HTTP date (relative to now, in µs since the epoch). -EINVAL if neither.
 */
int retry_after_parse(const char *s, usec_t now, usec_t *ret);

typedef struct Platform {
        char os[32];
        char arch[32];
        char variant[16];
} Platform;

/* "os/arch[/variant]"; aliases normalised (x86_64 -> amd64, aarch64 -> arm64). */
int platform_parse(const char *s, Platform *ret);
/* The platform this program runs on. */
void platform_host(Platform *ret);
/* Does an index entry's platform (os, architecture, variant as found; NULL when absent) satisfy want? */
bool platform_match(const Platform *want, const char *os, const char *arch, const char *variant);

/* "bytes START-END/TOTAL" -> START (and END); -EBADMSG otherwise. */
int content_range_parse(const char *s, uint64_t *ret_start, uint64_t *ret_end);

/* Split "scheme://host[:port]/rest" into a newly allocated origin "scheme://host[:port]" (lowercased scheme
 * and host); -EINVAL for anything else. */
int url_origin(const char *url, char **ret);
/* The host of an origin or URL, without port and brackets, into buf. */
int url_host(const char *url, char *buf, size_t size);
/* 127.0.0.0/8, ::1 and "localhost": registries there may use plain HTTP. */
bool host_is_loopback(const char *domain);

/* An auth.json key ("host", "https://host/v1/", "host/ns/repo") matching domain + repository: returns its
 * specificity (longer repository prefix wins), or -1 if it does not apply. */
int auth_key_match(const char *key, const char *domain, const char *repo);

/* A login/logout argument as podman reads it: "host[:port]" or "host[:port]/repository" (an entry for that
 * repository only); a URL ("https://host/v1/") stands for its host[:port]. *ret_key is the auth.json key,
 * *ret_repo is "" for a whole registry. -EINVAL with *ret_why (static) otherwise. */
int registry_key_parse(const char *arg, char **ret_key, char **ret_domain, char **ret_repo,
                       const char **ret_why);
