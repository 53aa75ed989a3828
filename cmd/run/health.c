/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

#include "bus.h"
#include "cli.h"
#include "container.h"
#include "fileio.h"
#include "health.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "monitor.h"
#include "paths.h"
#include "record.h"
#include "spawn.h"
#include "util.h"

#define NSEC_PER_USEC 1000ULL

typedef struct HealthUnit {
        char **argv;
        const char *service;
        uint64_t interval_usec;
        const char *description;
} HealthUnit;

static int timer_props(sd_bus_message *m, void *userdata) {
        HealthUnit *h = userdata;
        return sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s", h->description,
                                     "OnActiveSec", "t", h->interval_usec, "OnUnitActiveSec", "t",
                                     h->interval_usec, "AccuracyUSec", "t", (uint64_t) USEC_PER_MSEC,
                                     "RemainAfterElapse", "b", 0);
}

static int service_aux(sd_bus_message *m, void *userdata) {
        HealthUnit *h = userdata;
        int r;

        if ((r = sd_bus_message_open_container(m, 'r', "sa(sv)")) < 0 ||
            (r = sd_bus_message_append(m, "s", h->service)) < 0 ||
            (r = sd_bus_message_open_container(m, 'a', "(sv)")) < 0 ||
            /* No start limit: the timer starts the check every interval, and systemd's default (5 starts in
             * 10 s) would end the checks for good at intervals of 2 s or less. */
            (r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)", "Description", "s", h->description, "Type",
                                       "s", "oneshot", "CollectMode", "s", "inactive-or-failed",
                                       "StartLimitIntervalUSec", "t", (uint64_t) 0)) < 0 ||
            (r = bus_append_exec_start(m, h->argv)) < 0 || (r = sd_bus_message_close_container(m)) < 0)
                return r;
        return sd_bus_message_close_container(m);
}

int health_timer_start(json_t *rec) {
        json_t *hc = json_object_get(json_object_get(rec, "Config"), "Healthcheck");
        const char *name = record_get_string(rec, "Name"), *id = record_get_string(rec, "Id");
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *self = NULL, *timer = NULL, *svc = NULL, *desc = NULL;
        int r;

        if (!json_is_array(json_object_get(hc, "Test")) || !name || !id)
                return 0;
        uint64_t interval = (uint64_t) json_integer_value(json_object_get(hc, "Interval")) / NSEC_PER_USEC;
        if (interval == 0)
                interval = 30 * USEC_PER_SEC;
        r = bus_connect_manager(BUS_MANAGER_AUTO, &bus, NULL);
        if (r < 0)
                return log_warning_errno(r, "No systemd manager reachable: no health checks for '%s'", name);
        r = sibling_path("berth-run", &self);
        if (r < 0)
                return log_warning_errno(r, "Cannot find berth-run for the health checks of '%s': %m", name);
        if (asprintf(&timer, "berth-%s-health.timer", name) < 0 ||
            asprintf(&svc, "berth-%s-health.service", name) < 0 ||
            asprintf(&desc, "berth health check of %s", name) < 0)
                return log_oom();
        char *argv[] = {self,
                        (char *) "--root",
                        (char *) berth_root(),
                        (char *) "--runroot",
                        (char *) berth_runroot(),
                        (char *) "healthcheck",
                        (char *) id,
                        NULL};
        HealthUnit h = {.argv = argv, .service = svc, .interval_usec = interval, .description = desc};
        r = bus_start_transient_unit(bus, timer, "replace", timer_props, service_aux, &h, &error, NULL);
        if (r < 0)
                return log_warning_errno(r, "Cannot start the health check timer of '%s': %s", name,
                                         bus_error_message(&error, r));
        return 0;
}

void health_timer_stop(const char *name) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *timer = NULL, *svc = NULL;
        if (bus_connect_manager(BUS_MANAGER_AUTO, &bus, NULL) < 0)
                return;
        if (asprintf(&timer, "berth-%s-health.timer", name) < 0 ||
            asprintf(&svc, "berth-%s-health.service", name) < 0)
                return;
        _cleanup_(sd_bus_error_free) sd_bus_error e1 = SD_BUS_ERROR_NULL, e2 = SD_BUS_ERROR_NULL;
        (void) bus_stop_unit(bus, timer, &e1);
        (void) bus_stop_unit(bus, svc, &e2);
}

typedef struct Result {
        int code;
        char *output;
        char start[64], end[64];
} Result;

static int apply_result(json_t *rec, void *userdata) {
        Result *res = userdata;
        json_t *state = json_object_get(rec, "State");
        json_t *hc = json_object_get(json_object_get(rec, "Config"), "Healthcheck");
        json_t *h = json_object_get(state, "Health");
        if (!json_is_object(h)) {
                h = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
                json_object_set_new(state, "Health", h);
        }
        json_int_t retries = json_integer_value(json_object_get(hc, "Retries"));
        if (retries <= 0)
                retries = 3;
        usec_t start_period =
                       (usec_t) json_integer_value(json_object_get(hc, "StartPeriod")) / NSEC_PER_USEC,
               started;
        bool in_start_period =
                parse_rfc3339(record_get_string(rec, "State.StartedAt") ?: "", &started) >= 0 &&
                now_usec(CLOCK_REALTIME) < started + start_period;
        json_int_t streak = json_integer_value(json_object_get(h, "FailingStreak"));
        const char *status = record_get_string(h, "Status") ?: "starting";
        if (res->code == 0) {
                streak = 0;
                status = "healthy";
        } else if (!(in_start_period && streq(status, "starting"))) {
                streak++;
                if (streak >= retries)
                        status = "unhealthy";
        }
        json_object_set_new(h, "Status", json_string(status));
        json_object_set_new(h, "FailingStreak", json_integer(streak));
        json_t *log = json_object_get(h, "Log");
        if (!json_is_array(log)) {
                log = json_array();
                json_object_set_new(h, "Log", log);
        }
        json_array_append_new(log, json_pack("{s:s, s:s, s:i, s:s}", "Start", res->start, "End", res->end,
                                             "ExitCode", res->code, "Output", res->output ?: ""));
        while (json_array_size(log) > 5)
                json_array_remove(log, 0);
        return 0;
}

int verb_healthcheck(int argc, char *argv[], void *userdata) {
        _cleanup_free_ char *id = NULL, *out = NULL;
        json_t *rec = NULL;
        Result res = {};
        int r, p[2];

        if (argc != 2)
                return cli_usage_error("Usage: berth-run healthcheck CONTAINER");
        r = lookup_container(argv[1], &id, &rec);
        if (r < 0)
                return r;
        json_t *test =
                json_object_get(json_object_get(json_object_get(rec, "Config"), "Healthcheck"), "Test");
        json_int_t timeout_ns = json_integer_value(
                json_object_get(json_object_get(json_object_get(rec, "Config"), "Healthcheck"), "Timeout"));
        const char *runtime = record_get_string(rec, "HostConfig.Runtime") ?: "runc";
        bool alive = record_init_alive(rec);
        _cleanup_strv_free_ char **cmd = NULL;
        size_t i;
        json_t *e;
        /* ["CMD-SHELL", "cmd"] runs through sh -c; ["CMD", args...] as is (docker's forms) */
        const char *kind = json_string_value(json_array_get(test, 0));
        if (streq_ptr(kind, "CMD-SHELL")) {
                if (strv_extend(&cmd, "/bin/sh") < 0 || strv_extend(&cmd, "-c") < 0 ||
                    strv_extend(&cmd, json_string_value(json_array_get(test, 1)) ?: "true") < 0)
                        r = -ENOMEM;
        } else
                json_array_foreach (test, i, e)
                        if (i > 0 && json_is_string(e) && strv_extend(&cmd, json_string_value(e)) < 0)
                                r = -ENOMEM;
        _cleanup_free_ char *rt = strdup(runtime);
        json_decref(rec);
        if (!alive || !cmd || !rt)
                return 0; /* nothing to check: the timer goes away with the container */

        (void) format_rfc3339(now_usec(CLOCK_REALTIME), res.start, sizeof res.start);
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                _cleanup_strv_free_ char **a = NULL;
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                (void) dup2(null, 0);
                (void) dup2(p[1], 1);
                (void) dup2(p[1], 2);
                if (strv_extend(&a, rt) < 0 || strv_extend(&a, "--root") < 0 ||
                    strv_extend(&a, runtime_state_root()) < 0 || strv_extend(&a, "exec") < 0 ||
                    strv_extend(&a, id) < 0)
                        _exit(EXIT_BERTH_FAILED);
                for (size_t k = 0; cmd[k]; k++)
                        if (strv_extend(&a, cmd[k]) < 0)
                                _exit(EXIT_BERTH_FAILED);
                execvp(rt, a);
                _exit(EXIT_BERTH_FAILED);
        }
        safe_close(p[1]);
        usec_t timeout = timeout_ns > 0 ? (usec_t) timeout_ns / NSEC_PER_USEC : 30 * USEC_PER_SEC;
        usec_t until = now_usec(CLOCK_MONOTONIC) + timeout;
        char buf[4096];
        size_t n = 0;
        for (;;) {
                usec_t now = now_usec(CLOCK_MONOTONIC);
                struct pollfd pf = {.fd = p[0], .events = POLLIN};
                if (now >= until) {
                        (void) kill(pid, SIGKILL);
                        break;
                }
                int k = poll(&pf, 1, (int) ((until - now) / USEC_PER_MSEC) + 1);
                if (k <= 0)
                        continue;
                /* Past the buffer, output is read and dropped: a check that prints a lot must not die of
                 * SIGPIPE and read as a failure. */
                char sink[4096];
                bool full = n >= sizeof buf - 1;
                ssize_t got = full ? read(p[0], sink, sizeof sink) : read(p[0], buf + n, sizeof buf - 1 - n);
                if (got <= 0)
                        break;
                if (!full)
                        n += (size_t) got;
        }
        buf[n] = 0;
        safe_close(p[0]);
        int st;
        (void) waitpid(pid, &st, 0);
        res.code = now_usec(CLOCK_MONOTONIC) >= until ? -1
                   : WIFEXITED(st)                    ? WEXITSTATUS(st)
                                                      : 128 + WTERMSIG(st);
        res.output = buf;
        (void) format_rfc3339(now_usec(CLOCK_REALTIME), res.end, sizeof res.end);
        r = record_update(id, apply_result, &res);
        if (r < 0)
                return log_error_errno(r, "Cannot record the health of '%s': %m", argv[1]);
        return 0;
}
