/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <sys/stat.h>

#include "bus.h"
#include "macro.h"

static int connect_private(const char *path, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *addr = NULL;
        int r;

        if (access(path, F_OK) < 0)
                return -EHOSTDOWN;
        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        if (asprintf(&addr, "unix:path=%s", path) < 0)
                return -ENOMEM;
        r = sd_bus_set_address(bus, addr);
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r == -ECONNREFUSED || r == -ENOENT ? -EHOSTDOWN : r;
        *ret = TAKE_PTR(bus);
        return 0;
}

static int connect_user(sd_bus **ret) {
        const char *rt = getenv("XDG_RUNTIME_DIR");
        _cleanup_free_ char *p = NULL;
        if (isempty(rt))
                return -EHOSTDOWN;
        if (asprintf(&p, "%s/systemd/private", rt) < 0)
                return -ENOMEM;
        return connect_private(p, ret);
}

int bus_connect_manager(BusManager which, sd_bus **ret, bool *ret_user) {
        const char *e = getenv("BERTH_MANAGER");
        int r;

        if (which == BUS_MANAGER_AUTO && e) {
                if (streq(e, "user"))
                        which = BUS_MANAGER_USER;
                else if (streq(e, "system"))
                        which = BUS_MANAGER_SYSTEM;
        }
        if (which != BUS_MANAGER_USER && (which == BUS_MANAGER_SYSTEM || geteuid() == 0)) {
                r = connect_private("/run/systemd/private", ret);
                if (r >= 0 || which == BUS_MANAGER_SYSTEM) {
                        if (r >= 0 && ret_user)
                                *ret_user = false;
                        return r;
                }
        }
        r = connect_user(ret);
        if (r >= 0 && ret_user)
                *ret_user = true;
        return r;
}

const char *bus_error_message(const sd_bus_error *e, int r) {
        static __thread char buf[512];
        if (e && sd_bus_error_is_set(e)) {
                snprintf(buf, sizeof buf, "%s: %s", e->name, strna(e->message));
                return buf;
        }
        return strerror(abs(r));
}

typedef struct JobWait {
        const char *job;
        char *result;
        bool done;
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && streq(path, w->job)) {
                w->result = strdup(result);
                w->done = true;
        }
        return 0;
}

static int wait_for_job(sd_bus *bus, JobWait *w) {
        int r;
        while (!w->done) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, 60 * 1000000ULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        return -ETIMEDOUT;
        }
        if (!w->result)
                return -ENOMEM;
        return streq(w->result, "done") ? 0 : -EIO;
}

struct BusJob {
        sd_bus *bus;
        sd_bus_slot *slot;
        JobWait w;
        char *path;
};

BusJob *bus_job_free(BusJob *j) {
        if (!j)
                return NULL;
        sd_bus_slot_unref(j->slot);
        sd_bus_unref(j->bus);
        free(j->w.result);
        free(j->path);
        free(j);
        return NULL;
}

/* Send m, a method returning a job path, and return the job to wait for. The manager announces JobRemoved to
 * every client of its private socket, so no Subscribe is needed; the match is made before the call, or a
 * fast job's JobRemoved would be lost. */
static int call_job_async(sd_bus *bus, sd_bus_message *m, sd_bus_error *error, BusJob **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(bus_job_freep) BusJob *j = calloc(1, sizeof *j);
        const char *job;
        int r;

        if (!j)
                return -ENOMEM;
        j->bus = sd_bus_ref(bus);
        r = sd_bus_match_signal(bus, &j->slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &j->w);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, 0, error, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return r;
        j->path = strdup(job);
        if (!j->path)
                return -ENOMEM;
        j->w.job = j->path;
        *ret = TAKE_PTR(j);
        return 0;
}

int bus_job_wait(BusJob *j, char **ret_result) {
        int r = wait_for_job(j->bus, &j->w);
        if (ret_result)
                *ret_result = TAKE_PTR(j->w.result);
        return r;
}

static int call_with_job(sd_bus *bus, sd_bus_message *m, sd_bus_error *error, char **ret_result) {
        _cleanup_(bus_job_freep) BusJob *j = NULL;
        int r = call_job_async(bus, m, error, &j);
        if (r < 0)
                return r;
        return bus_job_wait(j, ret_result);
}

int bus_start_transient_unit_async(sd_bus *bus, const char *name, const char *mode,
                                   bus_append_t append_props, bus_append_t append_aux, void *userdata,
                                   sd_bus_error *error, BusJob **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", name, mode ?: "fail");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        if (append_props) {
                r = append_props(m, userdata);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "(sa(sv))");
        if (r < 0)
                return r;
        if (append_aux) {
                r = append_aux(m, userdata);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        return call_job_async(bus, m, error, ret);
}

int bus_start_transient_unit(sd_bus *bus, const char *name, const char *mode, bus_append_t append_props,
                             bus_append_t append_aux, void *userdata, sd_bus_error *error,
                             char **ret_result) {
        _cleanup_(bus_job_freep) BusJob *j = NULL;
        int r = bus_start_transient_unit_async(bus, name, mode, append_props, append_aux, userdata, error,
                                               &j);
        if (r < 0)
                return r;
        return bus_job_wait(j, ret_result);
}

int bus_append_exec_start(sd_bus_message *m, char *const argv[]) {
        int r;

        if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 ||
            (r = sd_bus_message_append(m, "s", "ExecStart")) < 0 ||
            (r = sd_bus_message_open_container(m, 'v', "a(sasb)")) < 0 ||
            (r = sd_bus_message_open_container(m, 'a', "(sasb)")) < 0 ||
            (r = sd_bus_message_open_container(m, 'r', "sasb")) < 0 ||
            (r = sd_bus_message_append(m, "s", argv[0])) < 0 ||
            (r = sd_bus_message_append_strv(m, (char **) argv)) < 0 ||
            (r = sd_bus_message_append(m, "b", 0)) < 0)
                return r;
        for (int i = 0; i < 4; i++)
                if ((r = sd_bus_message_close_container(m)) < 0)
                        return r;
        return 0;
}

int bus_stop_unit(sd_bus *bus, const char *name, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StopUnit");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", name, "replace");
        if (r < 0)
                return r;
        r = call_with_job(bus, m, error, NULL);
        if (r < 0 && sd_bus_error_has_name(error, "org.freedesktop.systemd1.NoSuchUnit"))
                return -ENOENT;
        return r;
}

int bus_kill_unit(sd_bus *bus, const char *name, const char *whom, int signo, sd_bus_error *error) {
        int r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                   "org.freedesktop.systemd1.Manager", "KillUnit", error, NULL, "ssi", name,
                                   whom ?: "all", signo);
        if (r < 0 && sd_bus_error_has_name(error, "org.freedesktop.systemd1.NoSuchUnit"))
                return -ENOENT;
        return r;
}

int bus_unit_get_string(sd_bus *bus, const char *name, const char *iface, const char *prop, char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *p;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "GetUnit", &error, &reply, "s", name);
        if (r < 0)
                return sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit") ? -ENOENT : r;
        r = sd_bus_message_read(reply, "o", &p);
        if (r < 0)
                return r;
        path = strdup(p);
        if (!path)
                return -ENOMEM;
        return sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, iface, prop, NULL, ret);
}
