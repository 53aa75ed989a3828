/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* The container's rootfs: an overlay mounted by berth-unpack on $ROOT/containers/<id>/rootfs, with the
 * container's own upper/ and work/ dirs beside it (docs/design.md, layer store contract). */
int rootfs_mount(const char *id, const char *image_id);
/* rootfs_mount() in two steps (berth-unpack mount runs meanwhile); a pid of 0: mounted already. The finish
 * step says what failed. */
int rootfs_mount_start(const char *id, const char *image_id, pid_t *ret_pid);
int rootfs_mount_finish(const char *image_id, pid_t pid);
/* rootfs_umount() in two steps (berth-unpack umount runs meanwhile); a pid of 0: nothing was mounted. */
int rootfs_umount_start(const char *id, pid_t *ret_pid);
int rootfs_umount_finish(const char *id, pid_t pid);
int rootfs_umount(const char *id);
/* Is the rootfs of id mounted right now? */
int rootfs_is_mounted(const char *id);

/* Before the runtime runs: /dev, /proc and /sys must be real directories in the container's upper layer (an
 * image symlink there made runc 1.1 write on the host, CVE-2026-41579), /etc/hosts, /etc/resolv.conf and
 * /etc/hostname regular files the runtime can bind over, and the working directory must exist; all created
 * through RESOLVE_IN_ROOT. Returns a message in *ret_why on failure. */
int rootfs_prepare(int rootfd, const char *cwd, char **ret_why);

/* hosts, resolv.conf and hostname in the container directory. */
typedef struct EtcOptions {
        bool host_network; /* --network host: the host's loopback resolvers are reachable */
        char **dns, **dns_search, **dns_options; /* replace their kind of line; dns_search "." alone: none */
        char **add_hosts;                        /* HOST:IP */
} EtcOptions;
/* hosts, hostname and resolv.conf in the container's runroot directory. */
int rootfs_write_etc_files(const char *id, const char *hostname, const EtcOptions *e);
/* The same from the record, when they are not there (after a reboot emptied the runroot). */
int rootfs_etc_files_ensure(const char *id, json_t *rec);
/* base (a resolv.conf) with e's overrides: --dns replaces the nameservers (else loopback ones are dropped
 * unless host_network; at most 3), --dns-search the search/domain lines, --dns-option the options lines. */
int resolv_compose(const char *base, const EtcOptions *e, char **ret);
