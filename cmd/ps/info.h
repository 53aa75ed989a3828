/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

#include "macro.h"

/* berth-ps info: one JSON object of sections. A value that cannot be found out is null, and
 * unknown["section.key"] says why: one unreadable part never fails the whole. */
typedef struct Info {
        json_t *root;
        json_t *unknown;
} Info;

/* Set obj[key] to null, and unknown["path.key"] to the reason (printf-style). Returns 0, or -ENOMEM. */
int info_unknown(Info *info, json_t *obj, const char *path, const char *key, const char *fmt, ...)
        _printf_(5, 6);
/* The section object, created on first use (NULL only on OOM). */
json_t *info_section(Info *info, const char *section);
/* An executable on $PATH, as execvp() would find it; -ENOENT if none. */
int find_executable(const char *name, char **ret);

int info_store(Info *info);
int info_runtime(Info *info);
int info_network(Info *info);
int info_registries(Info *info);
