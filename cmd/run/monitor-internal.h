/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Monitor {
        char *id, *name, *image_name, *unit, *slice, *description, *runtime;
        char short_id[13];
        bool rm, detached, tty, interactive;
        int master;    /* -t: the pty master the runtime sent us */
        int notify_fd; /* --sdnotify=container: the proxy socket */
        char *sdnotify;
        bool health; /* a health check is configured */
        bool health_timer, ready_sent;
        bool trim; /* detached: give back the start's heap and file pages before the first wait */
        char *restart;
        int restart_max, restart_count;
        sd_bus *bus;
        bool scope_made, net_attached;
        char *scope_cgroup; /* the scope's cgroup when the runtime was given it by absolute path */
        int stdin_fd, stdout_fd, stderr_fd; /* for the runtime's child; -EBADF: inherit ours */
        int out_pipe, err_pipe;             /* detached: read ends, lines go to the journal */
        int log_fd;                         /* detached without journald: containers/<id>/ctr.log */
        pid_t pid;
        uint64_t memory_max, cpu_quota_usec, cpu_weight, tasks_max, stop_timeout_usec;
        uint64_t memory_low, memory_swap_max;
        bool memory_swap_set;
        char *allowed_cpus, *allowed_mems;
        int stop_signal;
        char *error;
        int fail_code; /* 125, 126 or 127 when the runtime refused to start it */
} Monitor;

int monitor_spawn_runtime(Monitor *m);

/* supervise.c: wait for the container's exit, relaying output and signals; returns its exit code */
int monitor_supervise(Monitor *m, bool forward_signals);
/* cleanup.c */
void monitor_cgroup_v1_cleanup(const char *unit);
void monitor_runtime_delete(const char *runtime, const char *id);
/* The scope cgroup an absolute cgroupsPath in the container's config.json names, or NULL. */
char *monitor_config_scope_cgroup(const char *id);
void monitor_release(Monitor *m);
void monitor_finish(Monitor *m, int exit_code, const char *error);
