/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Interfaces of the current network namespace. */
bool link_exists(const char *name);
/* RTM_DELLINK over rtnetlink; -ENODEV if there is no such link. */
int link_delete(const char *name);
/* Bring "lo" up (in a fresh network namespace). */
int link_loopback_up(void);
