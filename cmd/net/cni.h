/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>

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

/* True when the plugin, given this configuration (as it gets it on stdin), has nothing to do: portmap
 * without portMappings. Such a plugin is not executed. */
bool cni_plugin_is_noop(json_t *conf);
/* ADD every plugin of the list in order, chaining prevResult, skipping those with nothing to do. *ret_added
 * (may be NULL) gets the indices of the plugins that ran, for DEL and CHECK. On failure, DEL the list and
 * return the error, with the plugin's own message logged once. */
int cni_add_list(json_t *conflist, const CniRun *run, json_t **ret_result, json_t **ret_added);
/* DEL in reverse order with the cached ADD result as prevResult (NULL if there is none): the plugins whose
 * indices are in added, or with added NULL (ADD unfinished or not recorded) every plugin that has something
 * to do. Goes on after a failure and returns the first error. */
int cni_del_list(json_t *conflist, const CniRun *run, json_t *cached_result, json_t *added);
/* VERSION for every plugin of the list: each must exist and support the list's cniVersion. */
int cni_check_versions(json_t *conflist, const char *cni_path);
/* CHECK in order with the cached result, the same plugins as DEL. */
int cni_check_list(json_t *conflist, const CniRun *run, json_t *cached_result, json_t *added);
