/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

/* The attach socket: $RUNROOT/containers/<id>/attach.sock, a SOCK_SEQPACKET socket the detached monitor
 * serves (docs/run.md "Attach"). Every packet starts with a tag byte. Monitor to client: ATTACH_STDOUT or
 * ATTACH_STDERR and the bytes, ATTACH_EXIT and the exit code in decimal (last). Client to monitor:
 * ATTACH_STDIN and the bytes (at most ATTACH_INPUT_MAX), ATTACH_RESIZE and rows, cols as two uint16_t. */
enum {
        ATTACH_STDOUT = 1,
        ATTACH_STDERR = 2,
        ATTACH_EXIT = 3,
        ATTACH_STDIN = 4,
        ATTACH_RESIZE = 5,
};
#define ATTACH_INPUT_MAX 4000U
#define ATTACH_CLIENTS_MAX 8U
/* pollfds the monitor adds: the listening socket and the clients */
#define ATTACH_POLLFDS (1U + ATTACH_CLIENTS_MAX)

typedef struct Monitor Monitor;

/* The container's stdin in the detached monitor: the read end of a pipe whose write end attach clients feed
 * when the record says OpenStdin (-i), else /dev/null. */
int attach_stdin(json_t *rec);
/* Create the attach socket (after the start); failure only costs attach, so it just logs. */
void attach_listen(const char *id);
/* Fill p with the monitor's attach fds (unused slots get fd -1); handle what poll() returned for them. */
void attach_pollfds(struct pollfd p[static ATTACH_POLLFDS]);
void attach_handle(Monitor *m, const struct pollfd p[static ATTACH_POLLFDS]);
/* Send output to every client; a client that cannot take it now is disconnected. */
void attach_broadcast(uint8_t tag, const void *data, size_t len);
/* Send the exit code to every client, close them and remove the socket. */
void attach_finish(const char *id, int exit_code);
