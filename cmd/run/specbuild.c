/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCI runtime config (config.json) of a container, with docker's and podman's defaults. */
#include <stdio.h>
#include <sys/resource.h>

#include "fileio.h"
#include "flags.h"
#include "macro.h"
#include "seccomp.h"
#include "spec.h"

static json_t *strv_to_json(char **v) {
        json_t *a = json_array();
        for (size_t i = 0; v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

static json_t *opts(const char *const *v) {
        json_t *a = json_array();
        for (; *v; v++)
                json_array_append_new(a, json_string(*v));
        return a;
}

static void add_mount(json_t *mounts, const char *dst, const char *type, const char *src, json_t *options) {
        json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type,
                                                "source", src, "options", options));
}

static const char *const masked_paths[] = {
        "/proc/asound",
        "/proc/acpi",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
        "/sys/devices/virtual/powercap",
        NULL,
};
static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static json_t *device_rule(bool allow, const char *type, int major, int minor, const char *access) {
        json_t *d = json_pack("{s:b, s:s}", "allow", allow, "access", access);
        if (type)
                json_object_set_new(d, "type", json_string(type));
        if (major >= 0)
                json_object_set_new(d, "major", json_integer(major));
        if (minor >= 0)
                json_object_set_new(d, "minor", json_integer(minor));
        return d;
}

static json_t *default_devices(bool privileged) {
        json_t *a = json_array();
        if (privileged) {
                json_array_append_new(a, device_rule(true, NULL, -1, -1, "rwm"));
                return a;
        }
        json_array_append_new(a, device_rule(false, NULL, -1, -1, "rwm"));
        static const int cdev[][2] = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}};
        for (size_t i = 0; i < ELEMENTSOF(cdev); i++)
                json_array_append_new(a, device_rule(true, "c", cdev[i][0], cdev[i][1], "rwm"));
        json_array_append_new(a, device_rule(true, "c", 136, -1, "rwm"));
        json_array_append_new(a, device_rule(true, "c", -1, -1, "m"));
        json_array_append_new(a, device_rule(true, "b", -1, -1, "m"));
        return a;
}

static const struct {
        const char *name, *oci;
        int res;
} rlimit_names[] = {
        {"core", "RLIMIT_CORE", RLIMIT_CORE},
        {"cpu", "RLIMIT_CPU", RLIMIT_CPU},
        {"data", "RLIMIT_DATA", RLIMIT_DATA},
        {"fsize", "RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"locks", "RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"memlock", "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"msgqueue", "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"nice", "RLIMIT_NICE", RLIMIT_NICE},
        {"nofile", "RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"nproc", "RLIMIT_NPROC", RLIMIT_NPROC},
        {"rss", "RLIMIT_RSS", RLIMIT_RSS},
        {"rtprio", "RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"rttime", "RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"sigpending", "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"stack", "RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimit_value(const char *s, uint64_t *ret) {
        if (streq(s, "-1") || streq(s, "unlimited")) {
                *ret = UINT64_MAX;
                return 0;
        }
        return safe_atou64(s, ret);
}

static void set_rlimit(json_t *rl, const char *oci, uint64_t soft, uint64_t hard) {
        size_t i;
        json_t *e;
        json_array_foreach (rl, i, e)
                if (streq_ptr(json_string_value(json_object_get(e, "type")), oci)) {
                        json_array_remove(rl, i);
                        break;
                }
        json_array_append_new(rl, json_pack("{s:s, s:I, s:I}", "type", oci, "soft", (json_int_t) soft,
                                            "hard", (json_int_t) hard));
}

static int build_rlimits(const RunOptions *o, json_t **ret, char **ret_why) {
        json_t *rl = json_array();
        struct rlimit host;

        /* Defaults within the host's hard limits: the container may not get more than berth-run has. */
        if (getrlimit(RLIMIT_NOFILE, &host) >= 0)
                set_rlimit(rl, "RLIMIT_NOFILE", MIN(host.rlim_max, 1048576ULL),
                           MIN(host.rlim_max, 1048576ULL));
        if (getrlimit(RLIMIT_NPROC, &host) >= 0 && host.rlim_max != RLIM_INFINITY)
                set_rlimit(rl, "RLIMIT_NPROC", host.rlim_max, host.rlim_max);
        for (size_t i = 0; o->ulimits && o->ulimits[i]; i++) {
                _cleanup_free_ char *copy = strdup(o->ulimits[i]);
                if (!copy) {
                        json_decref(rl);
                        return -ENOMEM;
                }
                char *v = strchr(copy, '=');
                *v++ = 0;
                char *h = strchr(v, ':');
                if (h)
                        *h++ = 0;
                uint64_t soft, hard;
                size_t k;
                for (k = 0; k < ELEMENTSOF(rlimit_names); k++)
                        if (streq(rlimit_names[k].name, copy))
                                break;
                if (k >= ELEMENTSOF(rlimit_names) || parse_rlimit_value(v, &soft) < 0 ||
                    parse_rlimit_value(h ?: v, &hard) < 0 || soft > hard) {
                        (void) asprintf(ret_why, "invalid --ulimit '%s'", o->ulimits[i]);
                        json_decref(rl);
                        return -EINVAL;
                }
                set_rlimit(rl, rlimit_names[k].oci, soft, hard);
        }
        *ret = rl;
        return 0;
}

int spec_build(const SpecInput *in, json_t **ret, char **ret_why) {
        const RunOptions *o = in->o;
        _cleanup_strv_free_ char **caps = NULL;
        const char *bad = NULL;
        json_t *rlimits = NULL;
        int r;

        r = spec_capabilities(o, &caps, &bad);
        if (r < 0) {
                if (r == -EINVAL)
                        (void) asprintf(ret_why, "unknown capability '%s'", bad);
                return r;
        }
        r = build_rlimits(o, &rlimits, ret_why);
        if (r < 0)
                return r;

        json_t *gids = json_array();
        for (size_t i = 0; i < in->user->n_additional_gids; i++)
                json_array_append_new(gids, json_integer(in->user->additional_gids[i]));

        json_t *capset = strv_to_json(caps);
        /* Inheritable and ambient stay empty (CVE-2022-24769, runc CVE-2022-29162, crun CVE-2022-27650). */
        json_t *process =
                json_pack("{s:b, s:{s:I, s:I, s:o}, s:o, s:o, s:s, s:{s:o, s:o, s:o, s:[], s:[]}, s:o, s:b}",
                          "terminal", o->tty, "user", "uid", (json_int_t) in->user->uid, "gid",
                          (json_int_t) in->user->gid, "additionalGids", gids, "args", strv_to_json(in->args),
                          "env", strv_to_json(in->env), "cwd", in->cwd, "capabilities", "bounding", capset,
                          "effective", json_deep_copy(capset), "permitted", json_deep_copy(capset),
                          "inheritable", "ambient", "rlimits", rlimits, "noNewPrivileges", o->no_new_privs);
        if (!process)
                return -ENOMEM;
        if (!o->privileged)
                json_object_set_new(process, "oomScoreAdj", json_integer(0));

        json_t *mounts = json_array();
        add_mount(mounts, "/proc", "proc", "proc",
                  opts((const char *const[]){"nosuid", "noexec", "nodev", NULL}));
        add_mount(mounts, "/dev", "tmpfs", "tmpfs",
                  opts((const char *const[]){"nosuid", "strictatime", "mode=755", "size=65536k", NULL}));
        add_mount(mounts, "/dev/pts", "devpts", "devpts",
                  opts((const char *const[]){"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                                             "gid=5", NULL}));
        add_mount(
                mounts, "/dev/shm", "tmpfs", "shm",
                opts((const char *const[]){"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL}));
        add_mount(mounts, "/dev/mqueue", "mqueue", "mqueue",
                  opts((const char *const[]){"nosuid", "noexec", "nodev", NULL}));
        add_mount(mounts, "/sys", "sysfs", "sysfs",
                  opts(o->privileged ? (const char *const[]){"nosuid", "noexec", "nodev", NULL}
                                     : (const char *const[]){"nosuid", "noexec", "nodev", "ro", NULL}));
        add_mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup",
                  opts((const char *const[]){"nosuid", "noexec", "nodev", "relatime", "ro", NULL}));
        size_t i;
        json_t *b;
        json_array_foreach (in->binds, i, b) {
                bool rw = json_is_true(json_object_get(b, "RW"));
                if (streq_ptr(json_string_value(json_object_get(b, "Type")), "tmpfs")) {
                        /* --image-volume tmpfs */
                        add_mount(mounts, json_string_value(json_object_get(b, "Destination")), "tmpfs",
                                  "tmpfs", opts((const char *const[]){"rw", "nosuid", "nodev", NULL}));
                        continue;
                }
                /* -v's propagation option (and --mount's bind-propagation), docker's default rprivate */
                const char *prop = json_string_value(json_object_get(b, "Propagation")) ?: "rprivate";
                add_mount(mounts, json_string_value(json_object_get(b, "Destination")), "bind",
                          json_string_value(json_object_get(b, "Source")),
                          opts(rw ? (const char *const[]){"rbind", prop, NULL}
                                  : (const char *const[]){"rbind", prop, "ro", NULL}));
        }
        for (size_t k = 0; o->tmpfs && o->tmpfs[k]; k++) {
                _cleanup_free_ char *copy = strdup(o->tmpfs[k]);
                if (!copy)
                        return -ENOMEM;
                char *extra = strchr(copy, ':');
                if (extra)
                        *extra++ = 0;
                if (!spec_path_is_safe(copy)) {
                        (void) asprintf(ret_why, "invalid --tmpfs destination '%s'", copy);
                        json_decref(process);
                        json_decref(mounts);
                        return -EINVAL;
                }
                json_t *to = opts((const char *const[]){"nosuid", "nodev", NULL});
                char *save = NULL;
                for (char *x = extra ? strtok_r(extra, ",", &save) : NULL; x; x = strtok_r(NULL, ",", &save))
                        json_array_append_new(to, json_string(x));
                add_mount(mounts, copy, "tmpfs", "tmpfs", to);
        }
        /* After the volumes, so that one on /etc (an image's VOLUME /etc) does not hide them; a -v or
         * --tmpfs on the file itself wins, as with docker. */
        const char *const etc_dst[] = {"/etc/hosts", "/etc/resolv.conf", "/etc/hostname"};
        const char *const etc_src[] = {in->hosts_file, in->resolv_file, in->hostname_file};
        for (size_t e = 0; e < ELEMENTSOF(etc_dst); e++) {
                bool taken = false;
                json_t *m;
                size_t j;
                json_array_foreach (mounts, j, m)
                        if (streq_ptr(json_string_value(json_object_get(m, "destination")), etc_dst[e]))
                                taken = true;
                if (etc_src[e] && !taken)
                        add_mount(mounts, etc_dst[e], "bind", etc_src[e],
                                  opts((const char *const[]){"rbind", "rprivate", "nosuid", "nodev",
                                                             "noexec", NULL}));
        }
        if (in->notify_dir)
                add_mount(
                        mounts, "/run/berth-notify", "bind", in->notify_dir,
                        opts((const char *const[]){"rbind", "rprivate", "nosuid", "nodev", "noexec", NULL}));
        if (in->init_path)
                add_mount(mounts, "/run/berth-init", "bind", in->init_path,
                          opts((const char *const[]){"bind", "ro", NULL}));

        json_t *ns = json_array();
        json_array_append_new(ns, json_pack("{s:s}", "type", "mount"));
        if (!streq_ptr(o->pid, "host"))
                json_array_append_new(
                        ns, in->pidns_path ? json_pack("{s:s, s:s}", "type", "pid", "path", in->pidns_path)
                                           : json_pack("{s:s}", "type", "pid"));
        if (!streq_ptr(o->ipc, "host"))
                json_array_append_new(
                        ns, in->ipcns_path ? json_pack("{s:s, s:s}", "type", "ipc", "path", in->ipcns_path)
                                           : json_pack("{s:s}", "type", "ipc"));
        json_array_append_new(ns, json_pack("{s:s}", "type", "uts"));
        json_array_append_new(ns, json_pack("{s:s}", "type", "cgroup"));
        if (!streq_ptr(in->netns_path, "host")) {
                json_t *n = json_pack("{s:s}", "type", "network");
                if (in->netns_path)
                        json_object_set_new(n, "path", json_string(in->netns_path));
                json_array_append_new(ns, n);
        }

        json_t *resources = json_pack("{s:o}", "devices", default_devices(o->privileged));
        /* the memory, cpu and pids limits: spec_apply_flags() (flagsspec.c), with swap and cpusets */

        json_t *linux_ = json_pack("{s:o, s:o}", "namespaces", ns, "resources", resources);
        if (in->cgroups_path)
                json_object_set_new(linux_, "cgroupsPath", json_string(in->cgroups_path));
        if (!o->privileged) {
                json_object_set_new(linux_, "maskedPaths", opts(masked_paths));
                json_object_set_new(linux_, "readonlyPaths", opts(readonly_paths));
        }
        if (o->seccomp_file) {
                json_t *sc = NULL;
                _cleanup_free_ char *w = NULL;
                r = seccomp_load_profile(o->seccomp_file, &sc, &w);
                if (r < 0) {
                        (void) asprintf(ret_why, "seccomp profile '%s': %s", o->seccomp_file,
                                        w ?: strerror(-r));
                        json_decref(linux_);
                        json_decref(process);
                        json_decref(mounts);
                        return r;
                }
                json_object_set_new(linux_, "seccomp", sc);
        } else if (!o->privileged && !o->seccomp_unconfined) {
                json_t *sc = NULL;
                r = seccomp_default_profile(caps, in->image_arch, &sc);
                if (r < 0)
                        return r;
                json_object_set_new(linux_, "seccomp", sc);
        }

        json_t *annotations = json_object();
        for (size_t k = 0; o->labels && o->labels[k]; k++) {
                _cleanup_free_ char *copy = strdup(o->labels[k]);
                if (!copy)
                        return -ENOMEM;
                char *v = strchr(copy, '=');
                *v++ = 0;
                json_object_set_new(annotations, copy, json_string(v));
        }

        json_t *spec =
                json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o, s:o}", "ociVersion", "1.0.2", "process",
                          process, "root", "path", in->rootfs, "readonly", o->read_only, "hostname",
                          in->hostname, "mounts", mounts, "linux", linux_, "annotations", annotations);
        if (!spec)
                return -ENOMEM;
        r = spec_apply_flags(in, spec, ret_why);
        if (r < 0) {
                json_decref(spec);
                return r;
        }
        *ret = spec;
        return 0;
}
