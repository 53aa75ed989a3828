/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* --sdnotify: conmon (berth-run says READY=1 once the container runs), container (the container's own
 * READY=1 is relayed through a proxy socket bound into it at /run/berth-notify/notify.sock, as podman does),
 * healthy (READY=1 after the first passing health check), ignore. Only where $NOTIFY_SOCKET is set. */
#define NOTIFY_CONTAINER_DIR "/run/berth-notify"
#define NOTIFY_CONTAINER_SOCKET NOTIFY_CONTAINER_DIR "/notify.sock"

/* The proxy socket in <bundle>/notify/notify.sock, for --sdnotify=container. */
int notify_proxy_listen(const char *bundle_dir, int *ret_fd);
/* Read one datagram from the proxy; READY=1 and STATUS= are passed on with MAINPID=monitor. Returns 1 after
 * READY=1. */
int notify_proxy_relay(int fd, pid_t monitor);
/* READY=1 with MAINPID=monitor (and the container's pid as a status). */
void notify_ready(pid_t monitor);
