/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "registries.h"
#include "log.h"
#include "macro.h"

void endpoints_free(Endpoint *e, size_t n) {
        for (size_t i = 0; e && i < n; i++) {
                free(e[i].domain);
                free(e[i].repo);
        }
        free(e);
}

int registries_endpoints(const char *conf, const char *domain, const char *repo, Endpoint **ret,
                         size_t *ret_n) {
        Endpoint *e = calloc(1, sizeof(Endpoint));
        if (!e)
                return -ENOMEM;
        e->domain = strdup(domain);
        e->repo = strdup(repo);
        if (!e->domain || !e->repo) {
                endpoints_free(e, 1);
                return -ENOMEM;
        }
        *ret = e;
        *ret_n = 1;
        return 0;
}
