/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "options.h"

/* Pull if needed, write the record and the bundle (config.json, /etc files), reserve the name. On success
 * the rootfs is left mounted when keep_mounted (run starts it right away). Returns 0, or 125/126/127 as the
 * exit status to use, with the error logged. */
int container_create(const RunOptions *o, bool keep_mounted, char **ret_id);

/* $ROOT/volumes/<name>/_data, created (with volume.json) if missing. */
int volume_ensure(const char *name, char **ret_path);
