/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "paths.h"

/* The rule for container names (--name, rename): docker's. */
#define CONTAINER_NAME_RULE "use [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters"
static inline bool container_name_is_valid(const char *name) {
        return name_is_valid(name, 64);
}

/* rename CONTAINER NEWNAME (docker's and podman's): created, exited and running containers. */
int verb_rename(int argc, char *argv[], void *userdata);

/* A container renamed while it ran keeps the scope of its old name (Unit) until it stops; its next start
 * takes berth-<Name>.scope. start and restart call this before container_start(): it updates Unit and
 * config.json's cgroupsPath, under the record lock. */
int container_unit_follow_name(const char *id);
