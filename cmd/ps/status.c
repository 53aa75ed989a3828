/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Status reconciliation: the record says what berth-run last wrote; the live system says what is true. Kept
 * free of main() and of program globals so that tests/unit/test-ps-status.c can include it. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "container.h"
#include "fileio.h"
#include "macro.h"
#include "paths.h"
#include "status.h"

static const char *const status_names[_STATUS_MAX] = {
        [STATUS_CREATED] = "created",   [STATUS_RUNNING] = "running", [STATUS_PAUSED] = "paused",
        [STATUS_STOPPING] = "stopping", [STATUS_EXITED] = "exited",   [STATUS_DEAD] = "dead",
        [STATUS_UNKNOWN] = "unknown",
};

const char *container_status_to_string(ContainerStatus s) {
        return s >= 0 && s < _STATUS_MAX ? status_names[s] : NULL;
}

ContainerStatus container_status_from_string(const char *s) {
        if (!s)
                return _STATUS_INVALID;
        for (size_t i = 0; i < _STATUS_MAX; i++)
                if (streq(s, status_names[i]))
                        return (ContainerStatus) i;
        /* podman's spelling of exited */
        if (streq(s, "stopped"))
                return STATUS_EXITED;
        return _STATUS_INVALID;
}

int reconcile_context_init(ReconcileContext *ctx) {
        *ctx = (ReconcileContext){.now = now_usec(CLOCK_REALTIME), .check_freezer = true};
        if (boot_id(ctx->boot_id) < 0)
                ctx->boot_id[0] = 0;
        return 0;
}

void reconciled_done(Reconciled *r) {
        r->reason = mfree(r->reason);
}

usec_t record_time(json_t *v) {
        usec_t t;
        if (json_is_integer(v))
                return json_integer_value(v) > 0 ? (usec_t) json_integer_value(v) * USEC_PER_SEC : 0;
        if (!json_is_string(v))
                return 0;
        const char *s = json_string_value(v);
        /* Go's zero time.Time, as podman writes an unset time */
        if (startswith(s, "0001-") || parse_rfc3339(s, &t) < 0 || (int64_t) t <= 0)
                return 0;
        return t;
}

static uint64_t json_u64(json_t *v) {
        uint64_t u;
        if (json_is_integer(v))
                return json_integer_value(v) > 0 ? (uint64_t) json_integer_value(v) : 0;
        if (json_is_string(v) && safe_atou64(json_string_value(v), &u) >= 0)
                return u;
        return 0;
}

static int read_frozen(const char *path, bool v1) {
        _cleanup_free_ char *buf = NULL;
        if (read_full_file(path, 4096, &buf, NULL) < 0)
                return -ENOENT;
        if (v1)
                return startswith(buf, "FROZEN") || startswith(buf, "FREEZING") ? 1 : 0;
        const char *f = strstr(buf, "frozen ");
        return f && (f == buf || f[-1] == '\n') ? f[7] == '1' : 0;
}

int pid_cgroup_frozen(pid_t pid) {
        char path[64];
        _cleanup_free_ char *buf = NULL, *v2 = NULL;
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        int r = read_full_file(path, 64 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        for (char *line = buf, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2 || strstr(c2 + 1, ".."))
                        continue;
                *c2 = 0;
                const char *ctrl = c1 + 1, *cg = c2 + 1;
                if (streq(ctrl, "freezer") || (strstr(ctrl, "freezer") && strchr(ctrl, ','))) {
                        _cleanup_free_ char *p = path_join("/sys/fs/cgroup/freezer", cg, "freezer.state");
                        if (!p)
                                return -ENOMEM;
                        /* runc freezes through the v1 freezer wherever it is mounted */
                        r = read_frozen(p, true);
                        if (r >= 0)
                                return r;
                } else if (!*ctrl && streq(line, "0") && !v2) {
                        v2 = strdup(cg);
                        if (!v2)
                                return -ENOMEM;
                }
        }
        if (!v2)
                return -ENOENT;
        const char *mnt = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "/sys/fs/cgroup"
                                                                                 : "/sys/fs/cgroup/unified";
        _cleanup_free_ char *p = path_join(mnt, v2, "cgroup.events");
        if (!p)
                return -ENOMEM;
        return read_frozen(p, false);
}

static int set_reason(Reconciled *r, const char *fmt, ...) _printf_(2, 3);
static int set_reason(Reconciled *r, const char *fmt, ...) {
        va_list ap;
        char *s;
        va_start(ap, fmt);
        int k = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        free(r->reason);
        r->reason = s;
        return 0;
}

static int mark_exited(Reconciled *r, const char *why) {
        r->status = STATUS_EXITED;
        r->exit_code = EXIT_CODE_UNKNOWN;
        r->pid = 0;
        /* The end is unknown; the start is the best bound we have. */
        if (!r->finished)
                r->finished = r->started ?: r->created;
        return set_reason(r, "%s", why);
}

static bool have_rundir(const char *id) {
        _cleanup_free_ char *rundir = container_run_path(id, NULL);
        struct stat st;
        /* on OOM, err on the side of "gone": never report running without evidence */
        return rundir && stat(rundir, &st) == 0 && S_ISDIR(st.st_mode);
}

static int reconcile_state(const char *id, json_t *record, const ReconcileContext *ctx, Reconciled *r) {
        json_t *state = json_object_get(record, "State");
        const char *rs = json_string_value(json_object_get(state, "Status"));
        ContainerStatus s = container_status_from_string(rs);

        r->created = record_time(json_object_get(record, "Created"));
        if (!json_is_object(state) || s < 0)
                return rs ? set_reason(r, "record has an unknown State.Status '%s'", rs)
                          : set_reason(r, "record has no State.Status");
        r->exit_code = (int) json_integer_value(json_object_get(state, "ExitCode"));
        r->started = record_time(json_object_get(state, "StartedAt"));
        r->finished = record_time(json_object_get(state, "FinishedAt"));
        r->status = s;

        int64_t pid64 = json_integer_value(json_object_get(state, "Pid"));
        pid_t pid = pid64 > 0 && pid64 < INT32_MAX ? (pid_t) pid64 : 0;
        uint64_t init_start = json_u64(json_object_get(state, "InitStartTime"));
        int64_t mpid64 = json_integer_value(json_object_get(state, "MonitorPid"));
        pid_t mpid = mpid64 > 0 && mpid64 < INT32_MAX ? (pid_t) mpid64 : 0;
        uint64_t monitor_start = json_u64(json_object_get(state, "MonitorStartTime"));
        const char *rec_boot = json_string_value(json_object_get(state, "BootId"));
        bool same_boot = !ctx->boot_id[0] || !rec_boot || streq(rec_boot, ctx->boot_id);

        if (s == STATUS_CREATED || s == STATUS_EXITED || s == STATUS_DEAD || s == STATUS_UNKNOWN) {
                /* A record that says nothing runs is believed, unless the very process it names (same start
                 * time) is alive: then berth-run died between starting it and writing "running". */
                if (s != STATUS_DEAD && pid > 0 && init_start > 0 && same_boot && have_rundir(id) &&
                    pid_is_alive(pid, init_start)) {
                        r->status = STATUS_RUNNING;
                        r->pid = pid;
                        return set_reason(r, "record says %s but the container's init (pid %d) is alive", rs,
                                          (int) pid);
                }
                return 0;
        }

        /* running, paused or stopping: the record claims live processes; check each claim. */
        if (!same_boot)
                return mark_exited(r, "the host rebooted since the container started (boot ID changed)");
        bool init_alive = pid > 0 && pid_is_alive(pid, init_start);
        if (!have_rundir(id)) {
                /* /run was lost (or wiped by hand). Only a process proven to be the container's init (same
                 * start time, same boot) outweighs that; a bare PID does not. */
                if (init_alive && init_start > 0) {
                        r->pid = pid;
                        return set_reason(r, "its runtime directory is gone, but its init (pid %d) is alive",
                                          (int) pid);
                }
                return mark_exited(r, "its runtime directory is gone (reboot or lost /run)");
        }
        bool monitor_alive = mpid > 0 && pid_is_alive(mpid, monitor_start);
        if (init_alive) {
                r->pid = pid;
                if (ctx->check_freezer) {
                        int frozen = pid_cgroup_frozen(pid);
                        if (frozen > 0 && s != STATUS_PAUSED) {
                                r->status = STATUS_PAUSED;
                                return set_reason(r, "its cgroup is frozen");
                        }
                        if (frozen == 0 && s == STATUS_PAUSED) {
                                r->status = STATUS_RUNNING;
                                return set_reason(r, "record says paused but its cgroup is not frozen");
                        }
                }
                if (mpid > 0 && !monitor_alive)
                        return set_reason(r,
                                          "its supervisor (pid %d) is gone; the exit will not be recorded",
                                          (int) mpid);
                return 0;
        }
        if (monitor_alive && pid <= 0)
                return 0; /* berth-run is still starting it */
        if (monitor_alive) {
                r->status = STATUS_STOPPING;
                return set_reason(r, "the container has exited; its supervisor is recording the exit");
        }
        return mark_exited(r, "the container and its supervisor are gone; the exit code was not recorded");
}

int reconcile(const char *id, json_t *record, const char *load_error, const ReconcileContext *ctx,
              Reconciled *ret) {
        Reconciled r = {.status = STATUS_UNKNOWN};
        int k;

        if (!record)
                k = set_reason(&r, "%s", load_error ?: "no record");
        else
                k = reconcile_state(id, record, ctx, &r);
        if (k < 0) {
                reconciled_done(&r);
                return k;
        }
        *ret = r;
        return 0;
}

void human_duration(usec_t d, char *buf, size_t size) {
        uint64_t seconds = d / USEC_PER_SEC;
        /* Go rounds hours to the nearest one here */
        uint64_t hours = (d + 1800 * USEC_PER_SEC) / (3600 * USEC_PER_SEC);
        if (seconds < 1)
                snprintf(buf, size, "Less than a second");
        else if (seconds == 1)
                snprintf(buf, size, "1 second");
        else if (seconds < 60)
                snprintf(buf, size, "%llu seconds", (unsigned long long) seconds);
        else if (seconds / 60 == 1)
                snprintf(buf, size, "About a minute");
        else if (seconds / 60 < 60)
                snprintf(buf, size, "%llu minutes", (unsigned long long) seconds / 60);
        else if (hours == 1)
                snprintf(buf, size, "About an hour");
        else if (hours < 48)
                snprintf(buf, size, "%llu hours", (unsigned long long) hours);
        else if (hours < 24 * 7 * 2)
                snprintf(buf, size, "%llu days", (unsigned long long) hours / 24);
        else if (hours < 24 * 30 * 2)
                snprintf(buf, size, "%llu weeks", (unsigned long long) hours / 24 / 7);
        else if (hours < 24 * 365 * 2)
                snprintf(buf, size, "%llu months", (unsigned long long) hours / 24 / 30);
        else
                snprintf(buf, size, "%llu years", (unsigned long long) (seconds / 3600) / 24 / 365);
}

void status_string(const Reconciled *r, usec_t now, char *buf, size_t size) {
        char d[64];
        switch (r->status) {
        case STATUS_RUNNING:
                human_duration(r->started && now > r->started ? now - r->started : 0, d, sizeof d);
                snprintf(buf, size, "Up %s", d);
                break;
        case STATUS_EXITED:
                human_duration(r->finished && now > r->finished ? now - r->finished : 0, d, sizeof d);
                snprintf(buf, size, "Exited (%d) %s ago", r->exit_code, d);
                break;
        default: {
                const char *n = container_status_to_string(r->status);
                snprintf(buf, size, "%c%s", n[0] - 'a' + 'A', n + 1);
        }
        }
}
