/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

/* What a container has attached, $RUNROOT/net/containers/<id>.json (written under the container's lock,
 * $RUNROOT/net/containers/<id>.lock):
 *   {"id": ID, "netns": PATH, "networks": {NAME: {"ifname", "state": "adding"|"attached", "owner_pid",
 *    "owner_start", "config": <the conflist as used for ADD>, "runtimeConfig": {...}, "result": <CNI
 * result>, "names": [...], "aliases": [...]}}} An entry is written with state "adding" before ADD runs, so
 * an attach killed half way leaves a record that a later attach or detach finds (its owner is dead) and
 * undoes with DEL: no address leaks (THREATS N2). */
bool net_id_is_valid(const char *id);
int state_lock(const char *id, int *ret_fd);
/* An empty state ({"id", "networks": {}}) when there is none. */
int state_load(const char *id, json_t **ret);
/* Writes atomically; removes the file when no network is left. */
int state_save(const char *id, json_t *st);
int state_list(char ***ret_ids);
/* IDs of containers with an entry for network. */
int state_network_users(const char *network, char ***ret_ids);
