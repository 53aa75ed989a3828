/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "macro.h"
#include "subnet.h"

/* Networks: $ROOT/networks/<name>.conflist, a CNI network configuration list that other CNI tools can use as
 * it is. berth's own metadata (ID, driver, labels, options, subnets, flags; podman's field names) is kept
 * inside it under "args": {"berth": {...}}, so one atomic rename creates or replaces a network. */
#define NETWORK_NAME_MAX 64
#define NETWORK_DEFAULT "berth"
#define NETWORK_DEFAULT_BRIDGE "berth0"
#define NETWORK_CNI_VERSION "1.0.0"
#define NETWORK_MAX_SUBNETS 8

typedef struct NetworkSpec {
        const char *name;
        const char *driver;    /* bridge, macvlan, ipvlan, vlan */
        const char *interface; /* bridge name (bridge) or parent (others); NULL: choose */
        char *subnets[NETWORK_MAX_SUBNETS];
        char *gateways[NETWORK_MAX_SUBNETS];
        char *ranges[NETWORK_MAX_SUBNETS];
        size_t n_subnets, n_gateways, n_ranges;
        bool ipv6, internal, disable_dns;
        bool ignore_existing; /* create --ignore: an existing network is no error (and is left as it is) */
        json_t *labels;       /* object */
        json_t *options;      /* object: parent, mode, mtu, vlan, ... */
        const char *check_cni_path; /* when set, the plugins must answer VERSION from there */
} NetworkSpec;

int network_name_check(const char *name, const char **ret_why);
bool ifname_is_valid(const char *s);

/* The whole conflist; -ENOENT if there is no such network. The default network is created on first use. */
int network_load(const char *name, json_t **ret);
/* The berth metadata of a conflist (borrowed). */
json_t *network_meta(json_t *conflist);
/* All networks, as an array of conflists sorted by name (the default network created first if missing). */
int network_load_all(json_t **ret);
/* Create from spec; logs its own one-line error. */
int network_create(NetworkSpec *spec, json_t **ret);
int network_remove(const char *name);
/* podman's `network inspect` object for a conflist. */
json_t *network_inspect_json(json_t *conflist);
int network_ensure_default(void);
/* $ROOT/networks/NAME.conflist */
char *network_path(const char *name);
/* All networks without creating the default one (create itself uses it). */
int network_read_all(json_t **ret);
/* Take the networks lock: LOCK_SH while attaching, LOCK_EX to create or remove. */
int networks_lock(int operation, int *ret_fd);
