/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Resource use of one container, read from its cgroups (v1 or v2) and /proc. A value that could not be read
 * is UINT64_MAX, printed as "--" and left out of the Prometheus exposition. */
#define CG_UNSET UINT64_MAX

typedef struct CgStats {
        uint64_t cpu_nsec;
        uint64_t mem_usage; /* without the page cache, as docker and podman count it */
        uint64_t mem_limit; /* the host's memory when unlimited */
        uint64_t pids;
        uint64_t pids_limit; /* CG_UNSET when unlimited */
        uint64_t net_rx, net_tx;
        uint64_t blk_read, blk_write;
        bool v2;
} CgStats;

/* cgroup: the container's cgroup path ("/machine.slice/..."), or NULL to take it from /proc/<pid>/cgroup. */
int cg_stats_read(pid_t pid, const char *cgroup, CgStats *ret);

typedef struct PidSet {
        pid_t *pids;
        size_t n;
} PidSet;

/* The processes of the container's cgroup and of the cgroups below it (v2: the unified hierarchy; v1: the
 * pids controller's). The caller frees ret->pids. */
int cg_procs_read(pid_t pid, const char *cgroup, PidSet *ret);
