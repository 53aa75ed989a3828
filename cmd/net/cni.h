/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

/* Executing CNI plugins as the CNI spec (1.0) says: CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME,
 * CNI_PATH in the environment, the plugin's configuration (with "name", "cniVersion", "runtimeConfig" for
 * the plugin's capabilities and the previous plugin's result as "prevResult") on stdin, the result or an
 * error object on stdout. */
#define CNI_PATH_DEFAULT "/usr/lib/cni:/opt/cni/bin:/usr/libexec/cni"

typedef struct CniRun {
        const char *container_id;
        const char *netns;
        const char *ifname;
        const char *cni_path;
        json_t *runtime_config; /* capability name -> value; only those a plugin declares are passed */
} CniRun;

/* ADD every plugin of the list in order, chaining prevResult. On failure, DEL what was added and return the
 * error, with the plugin's own message logged once. */
int cni_add_list(json_t *conflist, const CniRun *run, json_t **ret_result);
/* DEL every plugin in reverse order with the cached ADD result as prevResult (NULL if there is none). Goes
 * on after a failure and returns the first error. */
int cni_del_list(json_t *conflist, const CniRun *run, json_t *cached_result);
/* VERSION for every plugin of the list: each must exist and support the list's cniVersion. */
int cni_check_versions(json_t *conflist, const char *cni_path);
/* CHECK every plugin in order with the cached result. */
int cni_check_list(json_t *conflist, const CniRun *run, json_t *cached_result);
