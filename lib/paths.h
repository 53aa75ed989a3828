/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* The persistent root (--root, $BERTH_ROOT, /var/lib/berth) and the runtime root (--runroot, $BERTH_RUNROOT,
 * /run/berth). The layout below them is the contract between the programs (docs/design.md). */
const char *berth_root(void);
const char *berth_runroot(void);
void berth_set_root(const char *path);
void berth_set_runroot(const char *path);

/* Join path components (NULL-terminated). Returns NULL only on OOM. */
char *path_join_internal(const char *first, ...);
#define path_join(...) path_join_internal(__VA_ARGS__, NULL)

/* Absolute path under the root or runroot, e.g. berth_path("oci", "index.json"). NULL on OOM. */
#define berth_path(...) path_join_internal(berth_root(), __VA_ARGS__, NULL)
#define berth_run_path(...) path_join_internal(berth_runroot(), __VA_ARGS__, NULL)

int mkdir_p(const char *path, mode_t mode);
/* Make sure root and runroot exist with the given subdirectories (e.g. "oci", "layers"). */
int berth_ensure_dirs(void);

/* A name safe as a single path component and unit-name fragment: [A-Za-z0-9][A-Za-z0-9_.-]*, at most max
 * chars. */
bool name_is_valid(const char *s, size_t max);
