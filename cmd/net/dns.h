/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

/* Name resolution for a network: the records are $RUNROOT/net/dns/<net>.hosts ("IP NAME..." lines, rebuilt
 * from every container's attachments), served by `berth-net dns-serve NET` running as the transient unit
 * berth-dns-<net>.service on the network's gateway addresses, port 53 (lifecycle.c starts it with the first
 * container and stops it after the last). */
#define DNS_DOMAIN "dns.berth"

/* The records of net ("IP name..." lines, all names of every attached container) and the number of attached
 * containers. */
int dns_collect(const char *net, char **ret, size_t *ret_len, unsigned *ret_users);
char *dns_hosts_path(const char *net);
/* Start or stop berth-dns-NET.service; failures are logged as warnings (the network works without DNS). */
int dns_unit_start(const char *net);
int dns_unit_stop(const char *net);
/* The server itself (the unit's main process). */
int dns_serve(const char *net);
