/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

#include "options.h"

/* An absolute path cleaned as Go's filepath.Clean cleans a rooted one (podman cleans image volume paths so):
 * empty and "." components dropped, ".." removes the one before it and stays at "/". NULL on OOM or for a
 * relative path. */
char *path_clean_abs(const char *p);

/* The image's Volumes (attacker input) for --image-volume bind|tmpfs: each path not already a destination of
 * binds (the -v mounts) or of --tmpfs is created inside the root (openat2 RESOLVE_IN_ROOT, as WORKDIR), and
 * must not be or resolve to /, or lie in /proc, /sys or /dev. bind: a new anonymous volume filled with the
 * image's content there (docker's copy-up), its name added to *created; tmpfs: an empty tmpfs. Each is
 * appended to binds as a record Mounts entry. On failure *ret_why says why (volumes already made stay in
 * *created for the caller to remove). */
int image_volumes_setup(int rootfd, json_t *image_config, const RunOptions *o, json_t *binds,
                        char ***created, char **ret_why);

/* Anonymous volumes the flags ask for (-v DST, --mount type=volume without a source): as bind above,
 * whatever
 * --image-volume says. Before image_volumes_setup(), so that an image volume on the same path is not made
 * twice. */
int anonymous_volumes_setup(int rootfd, const RunOptions *o, json_t *binds, char ***created, char **ret_why);

/* Named volumes (-v NAME:DST) mounted for the first time (NeedsCopyUp in their volume.json) are filled with
 * the image's content at DST, as docker and podman do, unless the bind says NoCopy (-v NAME:DST:nocopy); the
 * image's DST is resolved inside the root and must not lie in /proc, /sys or /dev. The flag is cleared
 * either way. */
int named_volumes_copy_up(int rootfd, json_t *binds, char **ret_why);

/* volume.c: a new anonymous volume $ROOT/volumes/<random 64 hex>/{_data,volume.json} ("Anonymous": true). */
int volume_create_anonymous(char ret_name[static 65], char **ret_path);
/* The names of the anonymous volumes in a record's Mounts. */
int mounts_anonymous_volumes(json_t *mounts, char ***ret);
/* Remove the named anonymous volumes that no container record uses any more; returns how many were not
 * removed. */
int volumes_remove_unused(char **names);
