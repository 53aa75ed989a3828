/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

#include "options.h"
#include "user.h"

#define SPEC_ENV_MAX_BYTES (1024U * 1024U)
#define SPEC_ENV_MAX_ENTRIES 10000U

/* The process of a container from the image config (its "config" object, may be NULL) and the flags: argv
 * (Entrypoint + Cmd as docker merges them), env (image, defaults, then -e), cwd. Errors: -ENOEXEC for no
 * command, -E2BIG for an environment over the limits, -EINVAL for a bad WorkingDir (with *ret_why). */
int spec_process_args(const RunOptions *o, json_t *image_config, char ***ret);
int spec_process_env(const RunOptions *o, json_t *image_config, const char *hostname, const char *home,
                     char ***ret);
int spec_process_cwd(const RunOptions *o, json_t *image_config, char **ret);
/* An absolute, normalised container path without ".." and not inside /proc or /sys; NULL-safe. */
bool spec_path_is_safe(const char *p);

/* docker's default capability set, as "CAP_X" names. */
extern const char *const spec_default_caps[];
/* Apply --cap-add/--cap-drop (ALL allowed, names with or without CAP_, case-insensitive, checked with
 * libcap). -EINVAL with *ret_bad pointing at the unknown name. */
int spec_capabilities(const RunOptions *o, char ***ret, const char **ret_bad);

typedef struct SpecInput {
        const RunOptions *o;
        char **args, **env;
        const char *cwd;
        const ContainerUser *user;
        const char *hostname;
        const char *rootfs;
        const char *hosts_file, *resolv_file, *hostname_file;
        const char *netns_path; /* NULL: a new empty netns, "host": the host's */
        const char *cgroups_path;
        bool limits_in_scope; /* memory, CPU and pids limits are the scope's properties, not config.json's */
        json_t *binds;        /* [{"Source","Destination","RW"}] resolved volumes */
        const char *init_path;               /* --init: host path of catatonit */
        const char *notify_dir;              /* --sdnotify=container: host dir of the proxy socket */
        const char *pidns_path, *ipcns_path; /* --pid/--ipc container:NAME: /proc/PID/ns/... */
        const char *image_arch;              /* the image config's "architecture" (GOARCH) */
        const char *localtime_file;          /* --tz: host copy of the zone's file */
} SpecInput;

int spec_build(const SpecInput *in, json_t **ret, char **ret_why);
