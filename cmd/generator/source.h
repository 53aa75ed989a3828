/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Generate NAME.service for every NAME.container and NAME-network.service for every NAME.network in dirs
 * (the first directory holding a name wins) into dest, or print them (dry_run). A bad file gets one message
 * and no unit; the others are still generated. Returns 0, or 1 if some file was bad. */
int generate_all(char **dirs, const char *dest, bool user, bool dry_run);

/* berth@.service: exec 'berth-run run ...' for the file, 'berth-run rm --force --ignore NAME'
 * (EXEC_CLEANUP) or 'berth-run stop NAME' (EXEC_STOP). */
typedef enum ExecMode {
        EXEC_RUN,
        EXEC_CLEANUP,
        EXEC_STOP,
} ExecMode;
int source_exec(const char *path, ExecMode mode);
