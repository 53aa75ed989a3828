/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

typedef struct AttachOptions {
        const char *container_id;
        char **networks; /* NULL: the default network; "none": only the namespace */
        const char *ip, *ip6, *mac;
        char **aliases;
        json_t *port_mappings; /* CNI portMappings */
        const char *hostname, *name;
        const char *cni_path;
} AttachOptions;

/* Create the netns if needed, ADD each network and print the contract's JSON object into *ret. */
int net_attach(const AttachOptions *o, json_t **ret);
/* DEL the given networks (all when NULL) from cached results alone; the netns goes with the last one. 0 also
 * when there was nothing to do. */
int net_detach(const char *id, char **networks, const char *cni_path);
/* Undo attaches whose owner died half way, for every container (THREATS N2). */
int net_sweep(const char *cni_path);
