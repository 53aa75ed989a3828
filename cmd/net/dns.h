/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

/* Name resolution for a network: the records are $RUNROOT/net/dns/<net>.hosts ("IP NAME..." lines, rebuilt from
 * every container's attachments), served by `berth-net dns-serve NET` running as the transient unit
 * berth-dns-<net>.service on the network's gateway addresses, port 53. The unit is started when the first
 * container attaches and stopped when the last one leaves. */
#define DNS_DOMAIN "dns.berth"

/* Rebuild the records of net and start or stop its server. conflist may be NULL when no container attaches
 * (then the server can only be stopped). */
int dns_update(const char *net, json_t *conflist);
/* The server itself (the unit's main process). */
int dns_serve(const char *net);
