/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "bus.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "scope.h"

static int append_props(sd_bus_message *m, void *userdata) {
        const ScopeParams *p = userdata;
        int r;

        /* No AddRef: it needs a bus name to track, and the manager's private socket (lib/bus.h) has none;
         * the manager refuses it there with InvalidArgs. The scope lives as long as the container's
         * processes. */
        r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)", "Description", "s", p->description, "Slice", "s",
                                  p->slice, "Delegate", "b", 1, "CollectMode", "s", "inactive-or-failed");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", "PIDs");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'v', "au");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "u");
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_pids; i++) {
                r = sd_bus_message_append(m, "u", (uint32_t) p->pids[i]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        if (p->memory_max > 0 && (r = sd_bus_message_append(m, "(sv)", "MemoryMax", "t", p->memory_max)) < 0)
                return r;
        if (p->cpu_quota_usec > 0 &&
            (r = sd_bus_message_append(m, "(sv)", "CPUQuotaPerSecUSec", "t", p->cpu_quota_usec)) < 0)
                return r;
        if (p->cpu_weight > 0 && (r = sd_bus_message_append(m, "(sv)", "CPUWeight", "t", p->cpu_weight)) < 0)
                return r;
        if (p->tasks_max > 0 && (r = sd_bus_message_append(m, "(sv)", "TasksMax", "t", p->tasks_max)) < 0)
                return r;
        if (p->stop_timeout_usec > 0 &&
            (r = sd_bus_message_append(m, "(sv)", "TimeoutStopUSec", "t", p->stop_timeout_usec)) < 0)
                return r;
        if (p->kill_signal > 0 &&
            (r = sd_bus_message_append(m, "(sv)", "KillSignal", "i", p->kill_signal)) < 0)
                return r;
        return 0;
}

int scope_start(sd_bus *bus, const ScopeParams *p, char **ret_cgroup) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *result = NULL;
        int r;

        r = bus_start_transient_unit(bus, p->unit, "fail", append_props, NULL, (void *) p, &error, &result);
        if (r < 0) {
                if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.UnitExists"))
                        return log_error_errno(-EEXIST, "Unit '%s' exists already", p->unit);
                return log_error_errno(r, "Cannot start unit '%s': %s%s%s", p->unit,
                                       bus_error_message(&error, r), result ? ", job result " : "",
                                       result ?: "");
        }
        if (ret_cgroup) {
                r = bus_unit_get_string(bus, p->unit, "org.freedesktop.systemd1.Scope", "ControlGroup",
                                        ret_cgroup);
                if (r < 0)
                        return log_error_errno(r, "Cannot read the cgroup of '%s': %m", p->unit);
        }
        return 0;
}

bool cgroup_is_hybrid(void) {
        struct statfs fs;
        if (statfs("/sys/fs/cgroup", &fs) < 0 || fs.f_type == CGROUP2_SUPER_MAGIC)
                return false;
        return statfs("/sys/fs/cgroup/unified", &fs) >= 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

int cgroup_unified_path(pid_t pid, char **ret) {
        _cleanup_free_ char *buf = NULL;
        char p[64];
        int r;

        snprintf(p, sizeof p, "/proc/%d/cgroup", pid ?: getpid());
        r = read_full_file(p, 64 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                const char *v = startswith(l, "0::");
                if (v) {
                        *ret = strdup(v);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        return -ENOENT;
}

int cgroup_unified_move(const char *from, const char *to) {
        _cleanup_free_ char *src = path_join("/sys/fs/cgroup/unified", from, "cgroup.procs");
        _cleanup_free_ char *dst = path_join("/sys/fs/cgroup/unified", to, "cgroup.procs");
        int r;

        if (!src || !dst)
                return -ENOMEM;
        /* A process may fork while we move: loop until the cgroup is empty. */
        for (int round = 0; round < 100; round++) {
                _cleanup_free_ char *procs = NULL;
                r = read_full_file(src, 1024 * 1024, &procs, NULL);
                if (r < 0)
                        return r == -ENOENT ? 0 : r;
                if (isempty(procs))
                        break;
                _cleanup_close_ int fd = open(dst, O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                char *save = NULL;
                for (char *l = strtok_r(procs, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        if (write(fd, l, strlen(l)) < 0 && errno != ESRCH)
                                return -errno;
        }
        return 0;
}

void cgroup_unified_cleanup(const char *unit) {
        _cleanup_free_ char *a = path_join("/sys/fs/cgroup/unified", unit, "container");
        _cleanup_free_ char *b = path_join("/sys/fs/cgroup/unified", unit);
        if (a && b) {
                (void) rmdir(a);
                (void) rmdir(b);
        }
}
