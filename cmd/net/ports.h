/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

/* Parse one -p/--publish value, "[HOSTIP:][HOSTPORT]:PORT[/tcp|udp|sctp]" with port ranges
 * ("8080-8082:80-82"), appending CNI portMappings objects ({"hostPort", "containerPort", "protocol",
 * "hostIP"}) to mappings. An empty HOSTPORT takes a free port. -EINVAL with *ret_why (static) for a
 * malformed value. */
int ports_parse(const char *spec, json_t *mappings, const char **ret_why);
