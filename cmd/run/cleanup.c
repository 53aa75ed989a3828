/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* After the exit: the record, the runtime's state, cgroups, rootfs, networks, scope, health timer, --rm. */
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "bus.h"
#include "container.h"
#include "durable.h"
#include "fileio.h"
#include "health.h"
#include "imagevol.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "monitor-internal.h"
#include "monitor.h"
#include "net.h"
#include "notify.h"
#include "paths.h"
#include "record.h"
#include "rootfs.h"
#include "safeio.h"
#include "scope.h"
#include "spawn.h"
#include "tty.h"
#include "util.h"

void monitor_cgroup_v1_cleanup(const char *unit) {
        /* The runtime removes its own cgroup (<unit>/container) but not the <unit> level above it, which it
         * created below our own cgroup in each v1 hierarchy (cgroupsPath is relative, see docs/run.md). */
        _cleanup_free_ char *buf = NULL;
        if (read_full_file("/proc/self/cgroup", 64 * 1024, &buf, NULL) < 0)
                return;
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2 || c2 == c1 + 1)
                        continue;
                *c2 = 0;
                const char *ctrls = c1 + 1;
                const char *path = c2 + 1;
                const char *dir = startswith(ctrls, "name=") ?: ctrls;
                if (strchr(dir, ','))
                        continue; /* co-mounted hierarchies appear under their joint name, e.g. cpu,cpuacct
                                   */
                _cleanup_free_ char *p = path_join("/sys/fs/cgroup", dir, path, unit, "container");
                _cleanup_free_ char *q = path_join("/sys/fs/cgroup", dir, path, unit);
                if (p && q) {
                        (void) rmdir(p);
                        (void) rmdir(q);
                }
        }
}

/* What `runc delete` does for a stopped container, without starting a Go program (~20 ms): remove the
 * cgroups listed in its state.json and its state directory. Only for runc, whose layout we know; returns
 * false when the slow path is needed. */
static bool runtime_delete_fast(const char *runtime, const char *id) {
        const char *base = strrchr(runtime, '/') ? strrchr(runtime, '/') + 1 : runtime;
        _cleanup_free_ char *dir = path_join(runtime_state_root(), id);
        _cleanup_free_ char *state = path_join(runtime_state_root(), id, "state.json");
        json_t *j = NULL, *v;
        const char *k;

        if (!streq(base, "runc") || !dir || !state)
                return false;
        if (json_read_file(state, 4 * 1024 * 1024, &j, NULL) < 0)
                return access(dir, F_OK) < 0; /* nothing there: done */
        json_int_t pid = json_integer_value(json_object_get(j, "init_process_pid"));
        json_int_t start = json_integer_value(json_object_get(j, "init_process_start"));
        if (pid > 0 && pid_is_alive((pid_t) pid, (uint64_t) start)) {
                json_decref(j);
                return false;
        }
        json_object_foreach (json_object_get(j, "cgroup_paths"), k, v)
                if (json_is_string(v))
                        (void) rmdir(json_string_value(v));
        json_decref(j);
        return rm_rf(dir) >= 0;
}

void monitor_runtime_delete(const char *runtime, const char *id) {
        if (runtime_delete_fast(runtime, id))
                return;
        const char *argv[] = {runtime, "--root", runtime_state_root(), "delete", "--force", id, NULL};
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                (void) dup2(null, 0);
                (void) dup2(null, 1);
                (void) dup2(null, 2);
                execvp(runtime, (char **) argv);
                _exit(127);
        }
        if (pid > 0)
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
}

char *monitor_config_scope_cgroup(const char *id) {
        _cleanup_free_ char *cfgp = container_path(id, "config.json");
        json_auto_t *cfg = NULL;
        if (!cfgp || json_read_file(cfgp, 64 * 1024 * 1024, &cfg, NULL) < 0)
                return NULL;
        const char *p = json_string_value(json_object_get(json_object_get(cfg, "linux"), "cgroupsPath"));
        const char *slash = p ? strrchr(p, '/') : NULL;
        if (!p || p[0] != '/' || !streq(slash, "/container") || slash == p)
                return NULL;
        return strndup(p, (size_t) (slash - p));
}

/* The runtime's state, the container's cgroups, the scope: what a restart also undoes. */
void monitor_release(Monitor *m) {
        monitor_runtime_delete(m->runtime, m->id);
        monitor_cgroup_v1_cleanup(m->unit);
        if (cgroup_is_hybrid())
                cgroup_unified_cleanup(m->unit);
        phase("runtime state deleted");
        /* Once the container's processes are gone (they end with its PID namespace), the manager stops the
         * empty scope and removes its cgroup by itself, usually by now. Otherwise stop it, so that nothing
         * lingers (a stray process, a manager that is slow to notice). */
        bool gone = m->scope_cgroup && cgroup_scope_gone(m->scope_cgroup);
        log_debug("The scope of '%s' is %s", m->name, gone ? "gone" : "still there");
        if (m->scope_made && !gone && !m->bus)
                (void) bus_connect_manager(BUS_MANAGER_AUTO, &m->bus, NULL);
        if (m->scope_made && !gone && m->bus) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                (void) bus_stop_unit(m->bus, m->unit, &e);
        }
        if (m->scope_cgroup)
                cgroup_scope_cleanup(m->scope_cgroup);
        phase("scope stopped");
}

void monitor_finish(Monitor *m, int exit_code, const char *error) {
        int r;

        phase("container exited");
        /* berth-unpack unmounts the rootfs while the rest is done here */
        pid_t umount_pid = 0;
        int u = rootfs_umount_start(m->id, &umount_pid);
        /* synced below; an --rm container's record goes instead (`wait` tells it is gone, the monitor
         * being gone with it) */
        r = m->rm ? 0 : record_set_exited(m->id, exit_code, error);
        if (r < 0)
                log_warning_errno(r, "Cannot record the exit of '%s', ignoring: %m", m->name);
        monitor_release(m);
        r = u;
        if (r >= 0)
                r = rootfs_umount_finish(m->id, umount_pid);
        if (r < 0)
                log_warning_errno(r, "Cannot unmount the rootfs of '%s', ignoring: %m", m->name);
        if (m->net_attached) {
                r = net_detach(m->id);
                if (r < 0)
                        log_warning_errno(r, "Cannot detach '%s' from its networks, ignoring: %m", m->name);
        }
        phase("unmounted");
        if (m->health_timer)
                health_timer_stop(m->name);
        if (m->rm) {
                /* docker run --rm removes the anonymous volumes too */
                _cleanup_strv_free_ char **anon = NULL;
                json_t *rec = NULL;
                if (container_load(m->id, &rec, NULL) >= 0) {
                        (void) mounts_anonymous_volumes(json_object_get(rec, "Mounts"), &anon);
                        json_decref(rec);
                }
                /* under the lock: a rename under way either ends before (and its name goes with the
                 * rest) or finds the record gone (and takes its name back) */
                _cleanup_close_ int lock = -EBADF;
                (void) record_lock(m->id, &lock);
                r = record_remove(m->id);
                lock = safe_close(lock);
                if (r < 0) {
                        log_warning_errno(r, "Cannot remove container '%s', ignoring: %m", m->name);
                        (void) record_set_exited(m->id, exit_code, error);
                } else
                        (void) volumes_remove_unused(anon);
        }
        r = durable_wait();
        if (r < 0)
                log_warning_errno(r, "Cannot write the exit of '%s' to disk, ignoring: %m", m->name);
}
