/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util.h"

/* One status vocabulary (docker 1.11's, plus podman's "unknown"): what berth-ps reports after reconciling
 * the record berth-run last wrote with the live system. */
typedef enum ContainerStatus {
        STATUS_CREATED,
        STATUS_RUNNING,
        STATUS_PAUSED,
        STATUS_STOPPING,
        STATUS_EXITED,
        STATUS_DEAD,
        STATUS_UNKNOWN,
        _STATUS_MAX,
        _STATUS_INVALID = -EINVAL,
} ContainerStatus;

/* Exit code reported when the container ended without anyone recording how (supervisor killed, reboot), as
 * docker reports containers it lost track of. */
#define EXIT_CODE_UNKNOWN 255

const char *container_status_to_string(ContainerStatus s);
ContainerStatus container_status_from_string(const char *s);

typedef struct ReconcileContext {
        char boot_id[37]; /* empty when unreadable: boot IDs are then not compared */
        usec_t now;       /* CLOCK_REALTIME */
        bool check_freezer;
} ReconcileContext;

int reconcile_context_init(ReconcileContext *ctx);

typedef struct Reconciled {
        ContainerStatus status;
        int exit_code;
        pid_t pid;      /* 0 unless the container's init is alive */
        usec_t created; /* 0 when unknown */
        usec_t started;
        usec_t finished;
        char *reason; /* why the status differs from the record, or why it is dead/unknown; NULL if none */
} Reconciled;

void reconciled_done(Reconciled *r);

/* Reconcile one record (may be NULL when it could not be loaded; load_error then says why). Never fails
 * except on OOM: anything wrong with the record is reported as STATUS_UNKNOWN with a reason. */
int reconcile(const char *id, json_t *record, const char *load_error, const ReconcileContext *ctx,
              Reconciled *ret);

/* Go's units.HumanDuration, which podman and docker print: "Less than a second", "1 second", "About a
 * minute", "3 hours", "2 weeks". */
void human_duration(usec_t d, char *buf, size_t size);
/* podman's STATUS column: "Up 5 seconds", "Exited (0) 3 minutes ago", "Created", "Paused". */
void status_string(const Reconciled *r, usec_t now, char *buf, size_t size);

/* A time field of a record: RFC 3339 string (Go's zero time counts as unset) or Unix seconds. 0 if unset. */
usec_t record_time(json_t *v);
/* Is the cgroup of pid frozen (v1 freezer or v2 cgroup.freeze)? 1 yes, 0 no, <0 unknown. */
int pid_cgroup_frozen(pid_t pid);
