/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Where to fetch domain/repo from, after the subset of containers-registries.conf(5) berth reads. */
typedef struct Endpoint {
        char *domain;
        char *repo;
        bool insecure; /* plain http and unverified TLS allowed */
        bool mirror;
} Endpoint;

void endpoints_free(Endpoint *e, size_t n);
/* The mirrors of the registry that matches domain/repo first, then the registry itself. -EACCES if it is
 * blocked. conf NULL: $CONTAINERS_REGISTRIES_CONF, else /etc/containers/registries.conf (missing is fine).
 */
int registries_endpoints(const char *conf, const char *domain, const char *repo, Endpoint **ret,
                         size_t *ret_n);
