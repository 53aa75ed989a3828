/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* Does the record ask for berth-net networks (not none, not host)? */
bool net_wanted(json_t *rec);
/* berth-net attach --container ID ... (docs/design.md, "Networks"); records NetworkSettings and writes the
 * networks' DNS servers into the container's resolv.conf. */
int net_attach(const char *id, json_t *rec);
/* berth-net detach --container ID: idempotent. */
int net_detach(const char *id);
