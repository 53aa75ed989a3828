/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

/* In a forked child only: afterwards "/" is the container's root. */

/* A running container: join its init's mount namespace (pidfd from pidfd_open()). */
int cp_enter_running(int pidfd, const char *spec);
/* A stopped one: a private mount namespace with its rootfs mounted as a start would, its volumes and bind
 * mounts (the record's Mounts) over their destinations, and chroot into it. */
int cp_enter_stopped(const char *id, const char *image, json_t *mounts, const char *spec);
