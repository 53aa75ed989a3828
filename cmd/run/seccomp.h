/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

/* docker's default seccomp profile as an OCI linux.seccomp object: an allow-list (unknown calls get EPERM),
 * extra calls for the capabilities in caps (CAP_SYS_ADMIN: mount, unshare, ...), clone without namespace
 * flags, clone3 as ENOSYS so libc falls back. Names libseccomp does not know on this host are dropped. */
int seccomp_default_profile(char *const *caps, const char *image_arch, json_t **ret);
/* A profile from a file (docker's or OCI's shape: defaultAction, syscalls[{names, action, args}]). */
int seccomp_load_profile(const char *path, json_t **ret, char **ret_why);
