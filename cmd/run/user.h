/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

typedef struct ContainerUser {
        uid_t uid;
        gid_t gid;
        gid_t *additional_gids;
        size_t n_additional_gids;
        char *home; /* NULL when the image does not say */
} ContainerUser;

void container_user_done(ContainerUser *u);

/* A strict uid/gid: decimal digits only, 0..2147483647; anything else is -ERANGE (too big) or -EINVAL
 * (containerd CVE-2024-40635, CVE-2026-46680; crun CVE-2026-30892). */
int parse_id(const char *s, uint32_t *ret);

/* Resolve "", "user", "uid", "user:group", "uid:gid" against the passwd and group texts of an image (either
 * may be NULL when the file is absent). Numbers are never looked up as names. Supplementary groups come from
 * group. */
int user_resolve_text(const char *spec, const char *passwd, const char *group, ContainerUser *ret);
/* Same, reading etc/passwd and etc/group from the rootfs safely (no NSS, no symlink out, no FIFO, size cap).
 */
int user_resolve(int rootfd, const char *spec, ContainerUser *ret, char **ret_why);
/* --group-add: each of groups (a gid, or a name looked up in the image's etc/group with the parser above) is
 * added to u's supplementary groups, once. */
int user_add_groups(int rootfd, char **groups, ContainerUser *u, char **ret_why);
