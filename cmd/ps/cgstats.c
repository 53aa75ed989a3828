/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a container's resource use straight from cgroupfs and procfs: no D-Bus, no daemon. Hybrid hosts
 * (v1 controllers next to a v2 hierarchy with none) read v1; unified hosts read v2. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>

#include "cgstats.h"
#include "fileio.h"
#include "macro.h"
#include "paths.h"
#include "util.h"

typedef struct CgPaths {
        char *memory, *cpuacct, *pids, *blkio, *unified;
} CgPaths;

static void cg_paths_done(CgPaths *p) {
        free(p->memory);
        free(p->cpuacct);
        free(p->pids);
        free(p->blkio);
        free(p->unified);
}

static bool has_controller(const char *list, const char *c) {
        size_t n = strlen(c);
        for (const char *p = list; p && *p;) {
                if (strneq(p, c, n) && (p[n] == ',' || p[n] == 0))
                        return true;
                p = strchr(p, ',');
                if (p)
                        p++;
        }
        return false;
}

static int set_path(char **slot, const char *mnt, const char *cg) {
        if (*slot)
                return 0;
        *slot = path_join(mnt, cg);
        return *slot ? 0 : -ENOMEM;
}

static int cg_paths(pid_t pid, const char *cgroup, CgPaths *ret) {
        char path[64];
        _cleanup_free_ char *buf = NULL;
        CgPaths p = {};
        int r = 0;

        bool unified = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
        if (cgroup) {
                /* a path given by the record applies to every hierarchy */
                if (unified)
                        r = set_path(&p.unified, "/sys/fs/cgroup", cgroup);
                else if ((r = set_path(&p.memory, "/sys/fs/cgroup/memory", cgroup)) >= 0 &&
                         (r = set_path(&p.cpuacct, "/sys/fs/cgroup/cpuacct", cgroup)) >= 0 &&
                         (r = set_path(&p.pids, "/sys/fs/cgroup/pids", cgroup)) >= 0)
                        r = set_path(&p.blkio, "/sys/fs/cgroup/blkio", cgroup);
                if (r < 0) {
                        cg_paths_done(&p);
                        return r;
                }
                *ret = p;
                return 0;
        }

        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        r = read_full_file(path, 64 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        for (char *line = buf, *next; line && *line && r >= 0; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2 || strstr(c2 + 1, "/.."))
                        continue;
                *c2 = 0;
                const char *ctrl = c1 + 1, *cg = c2 + 1;
                if (!*ctrl) {
                        if (unified)
                                r = set_path(&p.unified, "/sys/fs/cgroup", cg);
                        continue;
                }
                if (has_controller(ctrl, "memory"))
                        r = set_path(&p.memory, "/sys/fs/cgroup/memory", cg);
                if (r >= 0 && has_controller(ctrl, "cpuacct"))
                        r = set_path(&p.cpuacct, "/sys/fs/cgroup/cpuacct", cg);
                if (r >= 0 && has_controller(ctrl, "pids"))
                        r = set_path(&p.pids, "/sys/fs/cgroup/pids", cg);
                if (r >= 0 && has_controller(ctrl, "blkio"))
                        r = set_path(&p.blkio, "/sys/fs/cgroup/blkio", cg);
        }
        if (r < 0) {
                cg_paths_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

static uint64_t read_u64(const char *dir, const char *file) {
        _cleanup_free_ char *p = dir ? path_join(dir, file) : NULL, *buf = NULL;
        uint64_t v;
        if (!p || read_full_file(p, 4096, &buf, NULL) < 0)
                return CG_UNSET;
        buf[strcspn(buf, "\n")] = 0;
        if (streq(buf, "max"))
                return CG_UNSET;
        return safe_atou64(buf, &v) >= 0 ? v : CG_UNSET;
}

/* "key value" lines (memory.stat, cpu.stat) */
static uint64_t read_key(const char *dir, const char *file, const char *key) {
        _cleanup_free_ char *p = dir ? path_join(dir, file) : NULL, *buf = NULL;
        size_t n = strlen(key);
        if (!p || read_full_file(p, 64 * 1024, &buf, NULL) < 0)
                return CG_UNSET;
        for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strneq(l, key, n) && l[n] == ' ') {
                        uint64_t v;
                        l[n + 1 + strcspn(l + n + 1, "\n")] = 0;
                        return safe_atou64(l + n + 1, &v) >= 0 ? v : CG_UNSET;
                }
        return CG_UNSET;
}

static uint64_t host_memory(void) {
        _cleanup_free_ char *buf = NULL;
        unsigned long long kb;
        if (read_full_file("/proc/meminfo", 64 * 1024, &buf, NULL) < 0)
                return CG_UNSET;
        const char *m = strstr(buf, "MemTotal:");
        return m && sscanf(m, "MemTotal: %llu kB", &kb) == 1 ? (uint64_t) kb * 1024 : CG_UNSET;
}

static void read_blkio_v1(const char *dir, CgStats *s) {
        _cleanup_free_ char *p = dir ? path_join(dir, "blkio.throttle.io_service_bytes_recursive") : NULL,
                            *buf = NULL;
        if (!p || read_full_file(p, 1024 * 1024, &buf, NULL) < 0)
                return;
        s->blk_read = s->blk_write = 0;
        for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                char op[16];
                unsigned long long v;
                if (sscanf(l, "%*u:%*u %15s %llu", op, &v) != 2)
                        continue;
                if (streq(op, "Read"))
                        s->blk_read += v;
                else if (streq(op, "Write"))
                        s->blk_write += v;
        }
}

static void read_io_v2(const char *dir, CgStats *s) {
        _cleanup_free_ char *p = dir ? path_join(dir, "io.stat") : NULL, *buf = NULL;
        if (!p || read_full_file(p, 1024 * 1024, &buf, NULL) < 0)
                return;
        s->blk_read = s->blk_write = 0;
        for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n")) {
                uint64_t v;
                if (startswith(t, "rbytes=") && safe_atou64(t + 7, &v) >= 0)
                        s->blk_read += v;
                else if (startswith(t, "wbytes=") && safe_atou64(t + 7, &v) >= 0)
                        s->blk_write += v;
        }
}

/* The container's network namespace as its init sees it; loopback does not count. */
static void read_net(pid_t pid, CgStats *s) {
        char path[64];
        _cleanup_free_ char *buf = NULL;
        snprintf(path, sizeof path, "/proc/%d/net/dev", (int) pid);
        if (read_full_file(path, 1024 * 1024, &buf, NULL) < 0)
                return;
        s->net_rx = s->net_tx = 0;
        for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                char ifname[64];
                unsigned long long rx, tx;
                if (sscanf(l, " %63[^:]: %llu %*u %*u %*u %*u %*u %*u %*u %llu", ifname, &rx, &tx) != 3 ||
                    streq(ifname, "lo"))
                        continue;
                s->net_rx += rx;
                s->net_tx += tx;
        }
}

int cg_stats_read(pid_t pid, const char *cgroup, CgStats *ret) {
        CgStats s = {CG_UNSET, CG_UNSET, CG_UNSET, CG_UNSET, CG_UNSET,
                     CG_UNSET, CG_UNSET, CG_UNSET, CG_UNSET};
        _cleanup_(cg_paths_done) CgPaths p = {};
        int r = cg_paths(pid, cgroup, &p);
        if (r < 0)
                return r;

        if (p.unified) {
                /* berth-run leaves a scope's limits to the scope on pure cgroup v2 hosts, whose controllers
                 * are then not enabled below it (docs/run.md, "Start sequence"): the scope's own files count
                 * the same processes */
                _cleanup_free_ char *mc = path_join(p.unified, "memory.current");
                if (mc && access(mc, F_OK) < 0 && errno == ENOENT && endswith(p.unified, ".scope/container"))
                        p.unified[strlen(p.unified) - strlen("/container")] = 0;
                s.v2 = true;
                uint64_t usec = read_key(p.unified, "cpu.stat", "usage_usec");
                s.cpu_nsec = usec == CG_UNSET ? CG_UNSET : usec * 1000;
                s.mem_usage = read_u64(p.unified, "memory.current");
                uint64_t inactive = read_key(p.unified, "memory.stat", "inactive_file");
                if (s.mem_usage != CG_UNSET && inactive != CG_UNSET && inactive < s.mem_usage)
                        s.mem_usage -= inactive;
                s.mem_limit = read_u64(p.unified, "memory.max");
                s.pids = read_u64(p.unified, "pids.current");
                s.pids_limit = read_u64(p.unified, "pids.max");
                read_io_v2(p.unified, &s);
        } else {
                s.cpu_nsec = read_u64(p.cpuacct, "cpuacct.usage");
                s.mem_usage = read_u64(p.memory, "memory.usage_in_bytes");
                uint64_t inactive = read_key(p.memory, "memory.stat", "total_inactive_file");
                if (s.mem_usage != CG_UNSET && inactive != CG_UNSET && inactive < s.mem_usage)
                        s.mem_usage -= inactive;
                s.mem_limit = read_u64(p.memory, "memory.limit_in_bytes");
                s.pids = read_u64(p.pids, "pids.current");
                s.pids_limit = read_u64(p.pids, "pids.max");
                read_blkio_v1(p.blkio, &s);
        }
        /* v1 reports "no limit" as a huge page-aligned number; both mean the host's memory */
        uint64_t host = host_memory();
        if (s.mem_limit == CG_UNSET || (host != CG_UNSET && s.mem_limit > host))
                s.mem_limit = host;
        read_net(pid, &s);
        *ret = s;
        return 0;
}

/* cgroup.procs of dirfd and of every cgroup below it (a container may make its own with Delegate=). */
static int collect_procs(int dirfd, unsigned depth, PidSet *set) {
        _cleanup_free_ char *buf = NULL;
        int r = read_full_file_at(dirfd, "cgroup.procs", 4 * 1024 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        for (char *l = buf, *next; l && *l; l = next) {
                next = strchr(l, '\n');
                if (next)
                        *next++ = 0;
                int pid;
                if (safe_atoi(l, &pid) < 0 || pid <= 0)
                        continue;
                pid_t *v = reallocarray(set->pids, set->n + 1, sizeof(pid_t));
                if (!v)
                        return -ENOMEM;
                set->pids = v;
                set->pids[set->n++] = pid;
        }
        if (depth >= 32)
                return 0;
        int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (dup < 0)
                return -errno;
        _cleanup_(closedirp) DIR *d = fdopendir(dup);
        if (!d) {
                safe_close(dup);
                return -errno;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_close_ int fd =
                        openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue; /* removed meanwhile */
                r = collect_procs(fd, depth + 1, set);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

int cg_procs_read(pid_t pid, const char *cgroup, PidSet *ret) {
        _cleanup_(cg_paths_done) CgPaths p = {};
        int r = cg_paths(pid, cgroup, &p);
        if (r < 0)
                return r;
        const char *dir = p.unified ?: p.pids;
        if (!dir)
                return -ENOMEDIUM;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        PidSet set = {};
        r = collect_procs(fd, 0, &set);
        if (r < 0) {
                free(set.pids);
                return r;
        }
        *ret = set;
        return 0;
}
