/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <getopt.h>
#include <jansson.h>

#include "options.h"
#include "spec.h"

/* More run/create flags, podman's names and meanings: parsed here (flags.c), applied to config.json and the
 * record by flagsspec.c and flagsapply.c. */
enum {
        ARG_FLAGS_FIRST = 0x400,
        ARG_REPLACE = ARG_FLAGS_FIRST,
        ARG_CIDFILE,
        ARG_MOUNT,
        ARG_DEVICE,
        ARG_SYSCTL,
        ARG_SHM_SIZE,
        ARG_GROUP_ADD,
        ARG_NO_HOSTS,
        ARG_MEMORY_SWAP,
        ARG_MEMORY_RESERVATION,
        ARG_CPUSET_CPUS,
        ARG_CPUSET_MEMS,
        ARG_OOM_SCORE_ADJ,
        ARG_EXPOSE,
        ARG_LABEL_FILE,
        ARG_ANNOTATION,
        ARG_TZ,
        ARG_UMASK,
};

/* clang-format off */
#define RUN_FLAGS_OPTIONS \
        {"replace", no_argument, NULL, ARG_REPLACE}, \
        {"cidfile", required_argument, NULL, ARG_CIDFILE}, \
        {"mount", required_argument, NULL, ARG_MOUNT}, \
        {"device", required_argument, NULL, ARG_DEVICE}, \
        {"sysctl", required_argument, NULL, ARG_SYSCTL}, \
        {"shm-size", required_argument, NULL, ARG_SHM_SIZE}, \
        {"group-add", required_argument, NULL, ARG_GROUP_ADD}, \
        {"no-hosts", no_argument, NULL, ARG_NO_HOSTS}, \
        {"memory-swap", required_argument, NULL, ARG_MEMORY_SWAP}, \
        {"memory-reservation", required_argument, NULL, ARG_MEMORY_RESERVATION}, \
        {"cpuset-cpus", required_argument, NULL, ARG_CPUSET_CPUS}, \
        {"cpuset-mems", required_argument, NULL, ARG_CPUSET_MEMS}, \
        {"oom-score-adj", required_argument, NULL, ARG_OOM_SCORE_ADJ}, \
        {"publish-all", no_argument, NULL, 'P'}, \
        {"expose", required_argument, NULL, ARG_EXPOSE}, \
        {"label-file", required_argument, NULL, ARG_LABEL_FILE}, \
        {"annotation", required_argument, NULL, ARG_ANNOTATION}, \
        {"tz", required_argument, NULL, ARG_TZ}, \
        {"umask", required_argument, NULL, ARG_UMASK}
/* clang-format on */

/* One of the options above (or -P): 1 when handled, 0 when c is not one of them, < 0 on error (a usage error
 * is BERTH_EXIT_USAGE, after one line naming the flag and the value). */
int run_flags_parse(int c, const char *arg, RunOptions *o);
/* After the last option: checks that need them all (--sysctl against --network/--ipc, --memory-swap against
 * --memory, --cidfile), and -P's network. */
int run_flags_finish(RunOptions *o);
void run_flags_free(RunOptions *o);
/* --memory-swap and --memory-reservation against --memory (run_flags_finish's, and update's on the values
 * the container will have) */
int run_flags_check_memory(const RunOptions *o);
/* Their lines of run's --help. */
void run_flags_help(void);

/* A cpuset list ("0-3,5"): 0 when valid; with ret, the bitmask systemd's AllowedCPUs takes (bit n of byte
 * n/8), its length in *ret_n. */
int cpuset_parse(const char *s, uint8_t **ret, size_t *ret_n);

/* flagsmount.c: --mount, as the -v or --tmpfs value that means the same */
int mount_parse(const char *arg, RunOptions *o);

/* flagsspec.c */
/* {K: V} of K=V strings; [..] of strings */
json_t *flags_kv_object(char **v);
json_t *flags_strv_json(char **v);
/* Devices, sysctls, /dev/shm size, annotations, umask, oomScoreAdj, the memory and cpuset resources (unless
 * limits_in_scope), --tz's /etc/localtime. */
int spec_apply_flags(const SpecInput *in, json_t *spec, char **ret_why);

/* linux.resources' memory, cpu and pids limits of o, in res; the keys of unset ones are removed (update) */
void spec_resources_limits(json_t *res, const RunOptions *o);

/* Config.ExposedPorts: the image's and --expose's, as {"PORT/PROTO": {}} */
json_t *flags_exposed_ports(const RunOptions *o, json_t *image_config);
/* The ports to publish: -p, and with -P every exposed port (the image's ExposedPorts and --expose) on a free
 * host port. */
json_t *flags_port_bindings(const RunOptions *o, json_t *image_config);

/* flagsapply.c */
/* HostConfig.* and Config.* of these flags in the record (podman inspect's names). */
int record_add_flags(const RunOptions *o, json_t *rec, json_t *image_config);
/* --tz: copy the zone's file (the host's /etc/localtime for "local") into the container's directory; its
 * path in *ret (NULL without --tz). */
int flags_write_localtime(const RunOptions *o, const char *id, char **ret);
/* Reserve name for id; with --replace, a container that has it is removed first (stopped if running). */
int flags_name_reserve(const RunOptions *o, const char *name, const char *id);
/* Let the next --replace of the name go on: called once the runtime has started the new container. */
void flags_replace_unlock(void);
/* --cidfile: the full ID, written atomically to a file that must not exist. */
int flags_write_cidfile(const RunOptions *o, const char *id);
