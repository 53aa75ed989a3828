/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* Container records, written only by berth-run (docs/design.md "Container records"):
 *   $ROOT/containers/<id>/container.json   the record (Id, Name, Created, Image, ImageName, Config, State,
 *                                          HostConfig, Mounts, NetworkSettings, Unit, Slice, ...)
 *   $ROOT/names/<name>                     symlink whose target is the ID; created with symlink(), so taking
 * a name is atomic and a second container with the same name fails $RUNROOT/containers/<id>/ runtime state
 * (monitor pid, runtime state, netns), gone at reboot */
#define CONTAINER_RECORD_MAX (4U * 1024U * 1024U)

/* Exact name, exact ID, or a unique ID prefix. -ENOENT, or -EADDRNOTAVAIL for an ambiguous prefix. */
int container_resolve(const char *name_or_id, char **ret_id);
/* Load the record; -EBADMSG (with *ret_error set when given) for a corrupt one. */
int container_load(const char *id, json_t **ret, char **ret_error);
/* IDs of all records (directories under $ROOT/containers with a valid ID as name). */
int container_list(char ***ret_ids);
/* Path of a file in a container's directory / runtime directory. */
char *container_path(const char *id, const char *file);
char *container_run_path(const char *id, const char *file);
/* A 64-hex-digit container ID? */
bool container_id_is_valid(const char *id);
