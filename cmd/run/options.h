/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

typedef enum PullPolicy {
        PULL_MISSING,
        PULL_ALWAYS,
        PULL_NEVER,
} PullPolicy;

/* --image-volume: what the image's Volumes become (podman's flag; bind is docker's behaviour) */
typedef enum ImageVolumeMode {
        IMAGE_VOLUME_BIND, /* an anonymous volume, filled from the image */
        IMAGE_VOLUME_TMPFS,
        IMAGE_VOLUME_IGNORE,
} ImageVolumeMode;

typedef struct RunOptions {
        bool detach, rm, interactive, tty, read_only, privileged, no_new_privs, init, seccomp_unconfined;
        char *name, *image, *workdir, *user, *hostname, *entrypoint, *runtime, *network, *stop_signal,
                *slice;
        char *seccomp_file, *ipc, *pid, *sdnotify, *restart, *tls_verify;
        bool entrypoint_set, stop_timeout_set;
        PullPolicy pull;
        ImageVolumeMode image_volume;
        char **cmd;     /* command after IMAGE */
        char **env;     /* K=V, in order (-e and --env-file) */
        char **volumes; /* SRC:DST[:OPTS] */
        char **tmpfs;   /* DST[:OPTS] */
        char **cap_add, **cap_drop;
        char **labels;   /* K=V */
        char **ulimits;  /* name=soft[:hard] */
        char **networks; /* --network, split at commas; NULL: none */
        char **aliases;  /* --network-alias */
        char **publish;  /* -p */
        char *ip, *ip6, *mac;
        char **dns, **dns_search, **dns_options; /* --dns, --dns-search, --dns-option */
        char **add_hosts;                        /* --add-host HOST:IP */
        char *health_cmd;
        bool no_healthcheck;
        usec_t health_interval, health_timeout, health_start_period;
        int health_retries;
        uint64_t memory;
        uint64_t cpus_milli; /* --cpus in thousandths */
        uint64_t cpu_shares;
        int64_t pids_limit;
        unsigned stop_timeout;
        int restart_max;
        /* flags.c */
        bool replace, no_hosts, publish_all, umask_set, oom_score_adj_set;
        char *cidfile, *tz, *cpuset_cpus, *cpuset_mems;
        const char *memory_swap_arg, *memory_reservation_arg; /* as given, for messages */
        char **devices;                                       /* HOST[:CONTAINER][:PERMS], checked */
        char **sysctls;     /* K=V, checked against the container's namespaces */
        char **group_add;   /* gids or group names of the image */
        char **expose;      /* PORT[/PROTO], ranges expanded */
        char **annotations; /* K=V */
        char **mounts; /* --mount as HostConfig.Mounts entries (JSON text); each also became a -v, a --tmpfs
                        * or an anonymous volume */
        char **anon_volumes; /* -v DST, --mount type=volume without a source: anonymous volumes */
        uint64_t shm_size, memory_reservation;
        int64_t memory_swap; /* 0: unset, -1: unlimited */
        unsigned umask;
        int oom_score_adj;
} RunOptions;

/* The resource-limit flags and --restart, which `update` shares with run and create. */
enum {
        ARG_MEMORY = 0x300,
        ARG_CPUS,
        ARG_CPU_SHARES,
        ARG_PIDS_LIMIT,
        ARG_RESTART,
};

/* clang-format off */
#define RUN_LIMIT_OPTIONS \
        {"memory", required_argument, NULL, ARG_MEMORY}, \
        {"cpus", required_argument, NULL, ARG_CPUS}, \
        {"cpu-shares", required_argument, NULL, ARG_CPU_SHARES}, \
        {"pids-limit", required_argument, NULL, ARG_PIDS_LIMIT}, \
        {"restart", required_argument, NULL, ARG_RESTART}
/* clang-format on */

/* One of RUN_LIMIT_OPTIONS: 1 when handled, 0 when c is not one of them, < 0 (BERTH_EXIT_USAGE, after one
 * line) for a bad value. --restart is only stored: run_options_check_restart() checks it. */
int run_options_parse_limit(int c, const char *arg, RunOptions *o);
/* --restart's policy (sets restart_max), and its conflict with --rm. */
int run_options_check_restart(RunOptions *o);

void run_options_done(RunOptions *o);
/* Parse `run`/`create` arguments (argv[0] is the verb). Returns 1 to continue, 0 after --help, <0 on error
 * (BERTH_EXIT_USAGE for a usage error). */
int run_options_parse(int argc, char *argv[], RunOptions *o, bool is_run);
void run_help(const char *verb);
/* The lines of an --env-file or --label-file: CRs, empty lines and # comments dropped; -EBADMSG for a line
 * that starts with '=' (*ret_bad, in *ret), -EFBIG over 1 MiB. */
int read_kv_lines(const char *path, char ***ret, const char **ret_bad);
