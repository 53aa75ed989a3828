/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "bus.h"
#include "fileio.h"
#include "flags.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "scope.h"

static int append_cpuset(sd_bus_message *m, const char *prop, const char *list) {
        _cleanup_free_ uint8_t *mask = NULL;
        size_t n = 0;
        int r;
        if (isempty(list))
                return 0;
        r = cpuset_parse(list, &mask, &n);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", prop);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "ay");
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', mask, n);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* --memory-reservation, --memory-swap, --cpuset-cpus, --cpuset-mems (flags.h) */
static int scope_append_flags(sd_bus_message *m, const ScopeParams *p) {
        int r = 0;
        if (p->memory_low > 0 && (r = sd_bus_message_append(m, "(sv)", "MemoryLow", "t", p->memory_low)) < 0)
                return r;
        if (p->memory_swap_set &&
            (r = sd_bus_message_append(m, "(sv)", "MemorySwapMax", "t", p->memory_swap_max)) < 0)
                return r;
        r = append_cpuset(m, "AllowedCPUs", p->allowed_cpus);
        if (r >= 0)
                r = append_cpuset(m, "AllowedMemoryNodes", p->allowed_mems);
        return r;
}

/* The resource limits that are set (not 0): at the start, and by update */
static int append_limits(sd_bus_message *m, const ScopeParams *p) {
        int r;
        if (p->memory_max > 0 && (r = sd_bus_message_append(m, "(sv)", "MemoryMax", "t", p->memory_max)) < 0)
                return r;
        if (p->cpu_quota_usec > 0 &&
            (r = sd_bus_message_append(m, "(sv)", "CPUQuotaPerSecUSec", "t", p->cpu_quota_usec)) < 0)
                return r;
        if (p->cpu_weight > 0 && (r = sd_bus_message_append(m, "(sv)", "CPUWeight", "t", p->cpu_weight)) < 0)
                return r;
        if (p->tasks_max > 0 && (r = sd_bus_message_append(m, "(sv)", "TasksMax", "t", p->tasks_max)) < 0)
                return r;
        return scope_append_flags(m, p);
}

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
        r = append_limits(m, p);
        if (r < 0)
                return r;
        if (p->stop_timeout_usec > 0 &&
            (r = sd_bus_message_append(m, "(sv)", "TimeoutStopUSec", "t", p->stop_timeout_usec)) < 0)
                return r;
        if (p->kill_signal > 0 &&
            (r = sd_bus_message_append(m, "(sv)", "KillSignal", "i", p->kill_signal)) < 0)
                return r;
        return 0;
}

/* Where the unified hierarchy is mounted: /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts; NULL on
 * legacy ones. */
static const char *cgroup_unified_root(void) {
        struct statfs fs;
        if (statfs("/sys/fs/cgroup", &fs) >= 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                return "/sys/fs/cgroup";
        return cgroup_is_hybrid() ? "/sys/fs/cgroup/unified" : NULL;
}

/* No process is left in the scope's cgroup (unified hierarchy), or the cgroup is gone; false when unknown
 * (legacy cgroup v1 hosts). */
static bool cgroup_scope_empty(const char *scope_cgroup) {
        const char *root = cgroup_unified_root();
        _cleanup_free_ char *p = root ? path_join(root, scope_cgroup, "cgroup.events") : NULL;
        _cleanup_free_ char *buf = NULL;
        if (!p)
                return false;
        int r = read_full_file(p, 4096, &buf, NULL);
        if (r == -ENOENT)
                return true;
        return r >= 0 && (startswith(buf, "populated 0\n") || strstr(buf, "\npopulated 0\n"));
}

/* A scope of our name is in the manager already. The name is ours (names/ holds it), so such a scope is what
 * an earlier container of this name left: dead and not collected yet (cleanup.c leaves the scopes that the
 * manager stopped by itself to it), or empty. If no process is left in it, stop it so that the new one can
 * take the name. Not when a process is in it: another root's container may have the same name. */
static bool leftover_stopped(sd_bus *bus, const ScopeParams *p) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *cg = NULL;
        int r = bus_unit_get_string(bus, p->unit, "org.freedesktop.systemd1.Scope", "ControlGroup", &cg);
        if (r == -ENOENT)
                return true; /* collected meanwhile */
        if (r < 0 || (!isempty(cg) && !cgroup_scope_empty(cg)))
                return false;
        r = bus_stop_unit(bus, p->unit, &e);
        /* a failed one stays loaded until reset */
        (void) sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "ResetFailedUnit", NULL, NULL, "s",
                                  p->unit);
        log_debug("Stopped the empty leftover scope '%s': %s", p->unit,
                  r < 0 ? bus_error_message(&e, r) : "ok");
        return r >= 0 || r == -ENOENT;
}

static int start_failed(const ScopeParams *p, const sd_bus_error *error, const char *result, int r) {
        if (sd_bus_error_has_name(error, "org.freedesktop.systemd1.UnitExists"))
                return log_error_errno(-EEXIST, "Unit '%s' exists already", p->unit);
        return log_error_errno(r, "Cannot start unit '%s': %s%s%s", p->unit, bus_error_message(error, r),
                               result ? ", job result " : "", result ?: "");
}

/* An empty leftover is stopped and collected within milliseconds; try again for up to a second. */
#define LEFTOVER_TRIES 100

int scope_start_async(sd_bus *bus, const ScopeParams *p, BusJob **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;
        for (int i = 0;; i++) {
                r = bus_start_transient_unit_async(bus, p->unit, "fail", append_props, NULL, (void *) p,
                                                   &error, ret);
                if (r >= 0 || i == LEFTOVER_TRIES ||
                    !sd_bus_error_has_name(&error, "org.freedesktop.systemd1.UnitExists") ||
                    !leftover_stopped(bus, p))
                        break;
                sd_bus_error_free(&error);
                (void) usleep(i == 0 ? 0 : 10 * 1000);
        }
        return r < 0 ? start_failed(p, &error, NULL, r) : 0;
}

int scope_wait(BusJob *job, const ScopeParams *p) {
        _cleanup_free_ char *result = NULL;
        int r = bus_job_wait(job, &result);
        return r < 0 ? start_failed(p, NULL, result, r) : 0;
}

/* Names systemd escapes with a leading "_" in cgroup paths (cg_escape()): we only predict plain ones. */
static bool cgroup_name_plain(const char *n, size_t len) {
        static const char *const controllers[] = {
                "cpu",          "cpuacct",  "cpuset", "memory",     "devices", "freezer",
                "net_cls",      "net_prio", "blkio",  "perf_event", "hugetlb", "pids",
                "rdma",         "misc",     "io",     "cgroup",     "tasks",   "notify_on_release",
                "release_agent"};
        if (len == 0 || n[0] == '_' || n[0] == '.')
                return false;
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++) {
                size_t l = strlen(controllers[i]);
                if (len >= l && strncmp(n, controllers[i], l) == 0 && (len == l || n[l] == '.'))
                        return false;
        }
        return true;
}

/* The manager's root cgroup without asking it: it runs in <root>/init.scope, and the private socket tells us
 * its pid. */
static int manager_root_cgroup(sd_bus *bus, char **ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *c = NULL;
        _cleanup_free_ char *cg = NULL;
        pid_t pid;
        int r = sd_bus_get_owner_creds(bus, SD_BUS_CREDS_PID, &c);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_pid(c, &pid);
        if (r < 0)
                return r;
        r = cgroup_unified_path(pid, &cg);
        if (r < 0)
                return r;
        if (!endswith(cg, "/init.scope"))
                return -EINVAL;
        cg[strlen(cg) - strlen("/init.scope")] = 0;
        *ret = TAKE_PTR(cg);
        return 0;
}

int scope_cgroup_predict(sd_bus *bus, const char *slice, const char *unit, char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *root = NULL, *path = NULL;
        size_t len = 0;
        int r;

        if (!endswith(slice, ".slice") || !cgroup_name_plain(unit, strlen(unit)))
                return -EINVAL;
        r = manager_root_cgroup(bus, &root);
        if (r < 0)
                r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                               "org.freedesktop.systemd1.Manager", "ControlGroup", &error,
                                               &root);
        if (r < 0)
                return r;
        FILE *f = open_memstream(&path, &len);
        if (!f)
                return -ENOMEM;
        fputs(streq(root, "/") ? "" : root, f);
        /* "a-b.slice" lives in /a.slice/a-b.slice; "-.slice" is the root */
        size_t stem = strlen(slice) - strlen(".slice");
        if (!streq(slice, "-.slice"))
                for (size_t i = 0; i <= stem; i++) {
                        if (i < stem && slice[i] != '-')
                                continue;
                        if (i == 0 || slice[i - 1] == '-' || !cgroup_name_plain(slice, i)) {
                                fclose(f);
                                return -EINVAL;
                        }
                        fprintf(f, "/%.*s.slice", (int) i, slice);
                }
        fprintf(f, "/%s", unit);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(path);
        return 0;
}

int scope_start(sd_bus *bus, const ScopeParams *p, char **ret_cgroup) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *result = NULL;
        int r;

        for (int i = 0;; i++) {
                r = bus_start_transient_unit(bus, p->unit, "fail", append_props, NULL, (void *) p, &error,
                                             &result);
                if (r >= 0 || i == LEFTOVER_TRIES ||
                    !sd_bus_error_has_name(&error, "org.freedesktop.systemd1.UnitExists") ||
                    !leftover_stopped(bus, p))
                        break;
                sd_bus_error_free(&error);
                result = mfree(result);
                (void) usleep(i == 0 ? 0 : 10 * 1000);
        }
        if (r < 0)
                return start_failed(p, &error, result, r);
        if (ret_cgroup) {
                r = bus_unit_get_string(bus, p->unit, "org.freedesktop.systemd1.Scope", "ControlGroup",
                                        ret_cgroup);
                if (r < 0)
                        return log_error_errno(r, "Cannot read the cgroup of '%s': %m", p->unit);
        }
        return 0;
}

bool cgroup_scope_gone(const char *scope_cgroup) {
        const char *root = cgroup_unified_root();
        _cleanup_free_ char *p = root ? path_join(root, scope_cgroup) : NULL;
        return p && access(p, F_OK) < 0 && errno == ENOENT;
}

bool cgroup_is_unified(void) {
        struct statfs fs;
        return statfs("/sys/fs/cgroup", &fs) >= 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
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

int cgroup_unified_enter(const char *cgroup) {
        const char *root = cgroup_unified_root();
        _cleanup_free_ char *dir = root ? path_join(root, cgroup) : NULL;
        _cleanup_free_ char *procs = dir ? path_join(dir, "cgroup.procs") : NULL;
        char pid[32];
        if (!root)
                return -EOPNOTSUPP;
        if (!procs)
                return -ENOMEM;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        _cleanup_close_ int fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        snprintf(pid, sizeof pid, "%d", (int) getpid());
        return write_all(fd, pid, strlen(pid));
}

void cgroup_scope_cleanup(const char *scope_cgroup) {
        _cleanup_free_ char *c = path_join(scope_cgroup, "container");
        const char *base = strrchr(scope_cgroup, '/');
        bool is_scope = base && startswith(base, "/berth-") && endswith(base, ".scope");
        const char *mnts[32];
        size_t n = 0;
        DIR *d = NULL;
        struct statfs fs;

        if (!c)
                return;
        if (statfs("/sys/fs/cgroup", &fs) >= 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                mnts[n++] = "";
        else if ((d = opendir("/sys/fs/cgroup")))
                for (struct dirent *de; n < ELEMENTSOF(mnts) && (de = readdir(d));)
                        if (de->d_type == DT_DIR && de->d_name[0] != '.')
                                mnts[n++] = de->d_name;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *a = path_join("/sys/fs/cgroup", mnts[i], c);
                _cleanup_free_ char *b = path_join("/sys/fs/cgroup", mnts[i], scope_cgroup);
                if (a && b) {
                        (void) rmdir(a);
                        /* where systemd did not make it, nobody else removes it; a service's own cgroup
                         * (the container was in <service>/container) is the manager's */
                        if (is_scope)
                                (void) rmdir(b);
                }
        }
        if (d)
                closedir(d);
}

void cgroup_unified_cleanup(const char *unit) {
        _cleanup_free_ char *a = path_join("/sys/fs/cgroup/unified", unit, "container");
        _cleanup_free_ char *b = path_join("/sys/fs/cgroup/unified", unit);
        if (a && b) {
                (void) rmdir(a);
                (void) rmdir(b);
        }
}

int scope_set_limits(sd_bus *bus, const ScopeParams *p, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "SetUnitProperties");
        if (r >= 0)
                r = sd_bus_message_append(m, "sb", p->unit, 1); /* runtime: the record keeps them */
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = append_limits(m, p);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, 0, error, &reply);
}

uint64_t cpu_shares_to_weight(uint64_t shares) {
        /* cgroup v1 shares (2..262144, default 1024) to v2 weight (1..10000, default 100), as crun maps them
         */
        return shares >= 2 ? 1 + ((shares - 2) * 9999) / 262142 : 0;
}
