/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Exit statuses of berth-run run/start/exec besides the container's own (docker's). */
#define EXIT_BERTH_FAILED 125
#define EXIT_CANNOT_INVOKE 126
#define EXIT_NOT_FOUND 127

typedef enum StartMode {
        START_FOREGROUND, /* berth-run is the monitor; the container's stdio is ours */
        START_DETACHED,   /* fork a monitor; stdio to the journal; return once it runs */
} StartMode;

/* Start the created or exited container id and supervise it. Foreground: returns the container's exit status
 * (or 125/126/127). Detached: returns 0 once the container runs (the monitor lives on), or 125/126/127. */
int container_start(const char *id, StartMode mode, bool interactive);

/* linux.cgroupsPath for config.json: the scope's cgroup (predicted before it exists) plus "/container", or,
 * without a manager or inside a service, the relative "berth-NAME.scope/container". NULL: out of memory. */
char *monitor_cgroups_path(const char *name, const char *slice);
/* create says that it made container id in this process; monitor_fresh() asks. */
void monitor_created(const char *id);
bool monitor_fresh(const char *id);

/* The runtime binary ("runc" unless --runtime), found on PATH, and its state root. */
const char *runtime_state_root(void);

/* When the monitor is gone (killed, or a reboot cleared the runtime dir) but the record says running: record
 * the exit, delete the runtime state, unmount the rootfs. Safe to call repeatedly. */
int container_cleanup_dead(const char *id, int exit_code);
/* rm --force of a container whose record cannot be read: the runtime's state (the default runtime's), the
 * rootfs mount, networks, the scope, the record and every name pointing to it. */
int container_remove_unreadable(const char *id);
