/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* A container's network namespace, kept alive by a bind mount at $RUNROOT/netns/<id> (as `ip netns add`
 * does). */
char *netns_path(const char *id);
/* True when path is a bind mount of a network namespace. */
bool netns_is_mounted(const char *path);
/* Create it: loopback up, and IPv6 off for interfaces that do not ask for it (CVE-2024-32473). Returns 0
 * when it was created, 1 when it existed already. */
int netns_create(const char *path);
/* 1 when a process (its main thread) is in the namespace at path, 0 when none is: then removing the bind
 * mount frees the namespace, and the kernel destroys its interfaces (veth(4): with their peers). */
int netns_has_processes(const char *path);
/* Unmount and remove; 0 also when there was nothing. */
int netns_remove(const char *path);
