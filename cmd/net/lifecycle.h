/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

/* What a network has while at least one container is attached: its DNS server and records, and for a bridge
 * network that is not --internal, one masquerading rule and two forwarding rules per subnet
 * (iptables-restore, one execution per address family). The CNI bridge plugin's own ipMasq would add a chain
 * and seven iptables executions per container; per network they cost nothing per attach.
 * $RUNROOT/net/active/<net>.json records what was set up, so that it is undone after the last container
 * left, even if the network was removed. Called after every attach and detach; conflist may be NULL (then
 * nothing new is set up). */
int netlife_update(const char *net, json_t *conflist);
/* The rules of a network as iptables-restore input ("-A" to add, "-D" to delete), for one family. */
int netlife_rules(json_t *subnets, const char *net, int family, const char *op, char **ret);
