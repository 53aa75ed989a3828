/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "bus.h"

typedef struct ScopeParams {
        const char *unit;  /* berth-NAME.scope */
        const char *slice; /* machine.slice */
        const char *description;
        pid_t *pids;
        size_t n_pids;
        uint64_t memory_max;      /* 0: unset */
        uint64_t cpu_quota_usec;  /* per second; 0: unset */
        uint64_t cpu_weight;      /* 0: unset */
        uint64_t tasks_max;       /* 0: unset */
        uint64_t memory_low;      /* 0: unset (--memory-reservation) */
        uint64_t memory_swap_max; /* UINT64_MAX: infinity (--memory-swap) */
        bool memory_swap_set;
        const char *allowed_cpus, *allowed_mems; /* cpuset lists; NULL or "": unset */
        uint64_t stop_timeout_usec;
        int kill_signal;
} ScopeParams;

/* Start the transient scope on the manager in *bus (lib/bus.h). Returns -EHOSTDOWN without a manager. The
 * scope's cgroup path (ControlGroup) goes to *ret_cgroup. */
int scope_start(sd_bus *bus, const ScopeParams *p, char **ret_cgroup);

/* Change the limits of the running scope p->unit (SetUnitProperties, runtime): those of p that are not 0
 * (UINT64_MAX: infinity). */
int scope_set_limits(sd_bus *bus, const ScopeParams *p, sd_bus_error *error);

/* --cpu-shares as CPUWeight; 0 for 0 (unset) */
uint64_t cpu_shares_to_weight(uint64_t shares);

/* The same in two steps: send the request (the scope's PIDs are moved when the job runs), then wait for the
 * job. */
int scope_start_async(sd_bus *bus, const ScopeParams *p, BusJob **ret);
int scope_wait(BusJob *job, const ScopeParams *p);
/* The cgroup path the scope of `unit` in `slice` gets from this manager, before it exists (so that the
 * runtime can create the container's cgroup below it while the manager makes the scope); -EINVAL for names
 * systemd would escape. */
int scope_cgroup_predict(sd_bus *bus, const char *slice, const char *unit, char **ret);
/* Move this process into the unified-hierarchy cgroup (made if missing). */
int cgroup_unified_enter(const char *cgroup);
/* Remove <scope>/container and <scope> in every hierarchy, where they are left (after the scope stopped). */
void cgroup_scope_cleanup(const char *scope_cgroup);

/* The manager removed the scope's cgroup (unified hierarchy): the scope is dead. False when unknown. */
bool cgroup_scope_gone(const char *scope_cgroup);

/* cgroup2 alone at /sys/fs/cgroup */
bool cgroup_is_unified(void);
/* cgroup v1 controllers next to cgroup2 at /sys/fs/cgroup/unified (this kind of host) */
bool cgroup_is_hybrid(void);
/* The unified-hierarchy cgroup of pid ("0::/..."). */
int cgroup_unified_path(pid_t pid, char **ret);
/* Move every process of unified cgroup `from` into `to` (paths relative to the unified mount); `from` stays
 * (the runtime adds exec'd processes there and removes it on delete). The runtime puts the container in a
 * cgroup of its own at the root of the unified hierarchy on hybrid hosts; systemd tracks the scope there, so
 * the container is brought back into its scope. */
int cgroup_unified_move(const char *from, const char *to);
/* Remove what the runtime leaves at the top of the unified hierarchy on hybrid hosts: <unit>/container,
 * <unit>. */
void cgroup_unified_cleanup(const char *unit);
