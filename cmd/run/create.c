/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "container.h"
#include "create.h"
#include "durable.h"
#include "fileio.h"
#include "flags.h"
#include "imagevol.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "monitor.h"
#include "notify.h"
#include "oci.h"
#include "paths.h"
#include "record.h"
#include "rootfs.h"
#include "scope.h"
#include "spawn.h"
#include "spec.h"
#include "user.h"
#include "util.h"

static int find_image(const RunOptions *o, OciImage **ret) {
        _cleanup_free_ char *out = NULL, *tls = NULL;
        int r;

        if (o->pull != PULL_ALWAYS) {
                r = oci_image_find(o->image, ret);
                if (r != -ENOENT)
                        return r < 0 ? log_error_errno(r, "Cannot look up image '%s': %m", o->image) : 0;
                if (o->pull == PULL_NEVER)
                        return log_error_errno(-ENOENT, "Image '%s' is not in the store (--pull=never)",
                                               o->image);
        }
        char *argv[3] = {};
        size_t k = 0;
        if (o->tls_verify) {
                if (asprintf(&tls, "--tls-verify=%s", o->tls_verify) < 0)
                        return log_oom();
                argv[k++] = tls;
        }
        argv[k++] = o->image;
        r = spawn_sibling("berth-pull", argv, &out);
        if (r < 0)
                return log_error_errno(r, "Cannot run berth-pull: %m");
        if (r != 0)
                return log_error_errno(-EIO, "Cannot pull image '%s' (berth-pull exited with %d)", o->image,
                                       r);
        r = oci_image_find(isempty(out) ? o->image : out, ret);
        if (r < 0)
                return log_error_errno(r, "Image '%s' is not in the store after pulling it: %m", o->image);
        return 0;
}

int volume_ensure(const char *name, char **ret_path) {
        _cleanup_free_ char *dir = berth_path("volumes", name);
        _cleanup_free_ char *data = berth_path("volumes", name, "_data");
        _cleanup_free_ char *meta = berth_path("volumes", name, "volume.json");
        int r;

        if (!dir || !data || !meta)
                return -ENOMEM;
        if (access(meta, F_OK) < 0) {
                char ts[64];
                r = mkdir_p(data, 0755);
                if (r < 0)
                        return r;
                (void) format_rfc3339(now_usec(CLOCK_REALTIME), ts, sizeof ts);
                /* NeedsCopyUp: the first container that mounts it fills it with the image's content there
                 * (docker's and podman's copy-up), unless -v NAME:DST:nocopy */
                json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:{}, s:b}", "Name", name, "Driver", "local",
                                      "Mountpoint", data, "CreatedAt", ts, "Labels", "NeedsCopyUp", 1);
                if (!j)
                        return -ENOMEM;
                r = json_write_file_atomic(meta, j);
                json_decref(j);
                if (r < 0)
                        return r;
        }
        *ret_path = TAKE_PTR(data);
        return 0;
}

static int resolve_binds(const RunOptions *o, json_t **ret) {
        json_t *binds = json_array();
        for (size_t i = 0; o->volumes && o->volumes[i]; i++) {
                _cleanup_free_ char *copy = strdup(o->volumes[i]), *src = NULL;
                if (!copy)
                        return log_oom();
                char *dst = strchr(copy, ':');
                *dst++ = 0;
                char *mopts = strchr(dst, ':');
                if (mopts)
                        *mopts++ = 0;
                bool rw = true, nocopy = false;
                const char *prop = NULL;
                char *save = NULL;
                for (char *x = mopts ? strtok_r(mopts, ",", &save) : NULL; x;
                     x = strtok_r(NULL, ",", &save)) {
                        if (streq(x, "ro"))
                                rw = false;
                        else if (streq(x, "nocopy") && copy[0] != '/')
                                nocopy = true;
                        else if (streq(x, "rw") || streq(x, "z") || streq(x, "Z"))
                                ;
                        else if (copy[0] == '/' &&
                                 (streq(x, "shared") || streq(x, "slave") || streq(x, "private") ||
                                  streq(x, "rshared") || streq(x, "rslave") || streq(x, "rprivate")))
                                prop = x;
                        else {
                                json_decref(binds);
                                return log_error_errno(-EINVAL, "Invalid volume '%s': unknown option '%s'",
                                                       o->volumes[i], x);
                        }
                }
                if (!spec_path_is_safe(dst) || streq(dst, "/")) {
                        json_decref(binds);
                        return log_error_errno(-EINVAL, "Invalid volume '%s': bad destination '%s'",
                                               o->volumes[i], dst);
                }
                if (copy[0] == '/') {
                        struct stat st;
                        if (stat(copy, &st) < 0) {
                                json_decref(binds);
                                return log_error_errno(errno, "Invalid volume '%s': source '%s': %m",
                                                       o->volumes[i], copy);
                        }
                        src = strdup(copy);
                        if (!src)
                                return log_oom();
                } else {
                        int r;
                        if (!name_is_valid(copy, 128)) {
                                json_decref(binds);
                                return log_error_errno(-EINVAL,
                                                       "Invalid volume '%s': '%s' is neither an absolute "
                                                       "path nor a volume name",
                                                       o->volumes[i], copy);
                        }
                        r = volume_ensure(copy, &src);
                        if (r < 0) {
                                json_decref(binds);
                                return log_error_errno(r, "Cannot create volume '%s': %m", copy);
                        }
                }
                json_t *b = json_pack("{s:s, s:s, s:b, s:s, s:s}", "Source", src, "Destination", dst, "RW",
                                      rw, "Type", copy[0] == '/' ? "bind" : "volume", "Name",
                                      copy[0] == '/' ? "" : copy);
                if (nocopy)
                        json_object_set_new(b, "NoCopy", json_true());
                if (prop)
                        json_object_set_new(b, "Propagation", json_string(prop));
                json_array_append_new(binds, b);
        }
        *ret = binds;
        return 0;
}

/* --pid/--ipc container:NAME: the namespace of that container's running init */
static int peer_ns(const char *mode, const char *ns, char **ret) {
        const char *peer = mode ? startswith(mode, "container:") : NULL;
        _cleanup_free_ char *id = NULL;
        json_t *rec = NULL;
        int r;

        *ret = NULL;
        if (!peer)
                return 0;
        r = lookup_container(peer, &id, &rec);
        if (r < 0)
                return r;
        bool alive = record_init_alive(rec);
        json_int_t pid = record_get_int(rec, "State.Pid");
        json_decref(rec);
        if (!alive)
                return log_error_errno(-ESRCH, "Container '%s' (--%s container:) is not running", peer, ns);
        if (asprintf(ret, "/proc/%lld/ns/%s", (long long) pid, ns) < 0)
                return log_oom();
        return 0;
}

static json_t *strv_json(char **v) {
        json_t *a = json_array();
        for (size_t i = 0; v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

static json_t *labels_json(char **v) {
        json_t *o = json_object();
        for (size_t i = 0; v && v[i]; i++) {
                const char *eq = strchr(v[i], '=');
                _cleanup_free_ char *k = strndup(v[i], (size_t) (eq - v[i]));
                if (k)
                        json_object_set_new(o, k, json_string(eq + 1));
        }
        return o;
}

static json_t *build_record(const RunOptions *o, const char *id, const char *name, OciImage *img,
                            const char *hostname, char **args, char **env, const char *cwd, json_t *binds) {
        char ts[64];
        (void) format_rfc3339(now_usec(CLOCK_REALTIME), ts, sizeof ts);
        json_t *icfg = json_object_get(img->config, "config");
        _cleanup_free_ char *unit = NULL;
        if (asprintf(&unit, "berth-%s.scope", name) < 0)
                return NULL;
        json_t *ep = o->entrypoint_set ? json_pack("[s]", o->entrypoint ?: "")
                                       : json_deep_copy(json_object_get(icfg, "Entrypoint") ?: json_null());
        /* Config.Cmd is what follows the entrypoint in the command (docker's and podman's split) */
        size_t n_ep = json_is_array(ep) ? json_array_size(ep) : 0, n_args = strv_length(args);
        for (size_t i = 0; i < n_ep; i++)
                if (i >= n_args || !streq_ptr(json_string_value(json_array_get(ep, i)), args[i]))
                        n_ep = 0;
        const char *restart = o->restart ?: "no";
        char rname[32];
        snprintf(rname, sizeof rname, "%.*s", (int) strcspn(restart, ":"), restart);
        return json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:o, s:{s:o, s:o, s:o, s:o, s:s, s:s, s:s, s:s, s:b, s:b, s:i, s:o},"
                " s:{s:s, s:b, s:b, s:i, s:i, s:s, s:s, s:s},"
                " s:{s:b, s:s, s:s, s:o, s:o, s:b, s:b, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:s, s:s,"
                " s:{s:s, s:i}, s:b, s:s, s:s},"
                " s:o, s:{s:{}}, s:s, s:s, s:i}",
                "Id", id, "Name", name, "Created", ts, "Image", img->id, "ImageName", o->image, "Args",
                strv_json(args), "Config", "Cmd", strv_json(args + n_ep), "Entrypoint", ep, "Env", strv_json(env),
                "Labels", labels_json(o->labels), "WorkingDir", cwd, "User", o->user ?: "", "Hostname", hostname,
                "StopSignal",
                o->stop_signal ?: json_string_value(json_object_get(icfg, "StopSignal")) ?: "SIGTERM", "Tty", o->tty,
                "OpenStdin", o->interactive, "StopTimeout", (int) o->stop_timeout, "Volumes",
                json_deep_copy(json_object_get(icfg, "Volumes") ?: json_null()),
                "State", "Status", "created", "Running", 0, "Paused", 0, "Pid", 0, "ExitCode", 0, "StartedAt",
                "0001-01-01T00:00:00Z", "FinishedAt", "0001-01-01T00:00:00Z", "Error", "",
                "HostConfig", "AutoRemove", o->rm, "Runtime", o->runtime ?: "runc", "NetworkMode",
                o->network ?: "none", "Binds", strv_json(o->volumes), "Tmpfs", strv_json(o->tmpfs), "Privileged",
                o->privileged, "ReadonlyRootfs", o->read_only, "CapAdd", strv_json(o->cap_add), "CapDrop",
                strv_json(o->cap_drop), "Ulimits", strv_json(o->ulimits), "Memory", (json_int_t) o->memory,
                "NanoCpus", (json_int_t) (o->cpus_milli * 1000000), "CpuShares", (json_int_t) o->cpu_shares,
                "PidsLimit", (json_int_t) o->pids_limit, "SecurityOpt", json_array(), "IpcMode",
                o->ipc ?: "private", "PidMode", o->pid ?: "private", "RestartPolicy", "Name", rname,
                "MaximumRetryCount", o->restart_max, "Init", o->init, "LogDriver", "journald", "SdNotify",
                o->sdnotify ?: "container",
                "Mounts", json_deep_copy(binds), "NetworkSettings", "Networks", "Unit", unit, "Slice",
                o->slice ?: "machine.slice", "RestartCount", 0);
}

static int runtime_exists(const char *runtime) {
        if (strchr(runtime, '/'))
                return access(runtime, X_OK) < 0 ? -errno : 0;
        const char *path = getenv("PATH") ?: "/usr/bin:/bin";
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = path_join(d, runtime);
                if (p && access(p, X_OK) == 0)
                        return 0;
        }
        return -ENOENT;
}

typedef struct Created {
        char id[65];
        const char *name;
        bool name_taken, dir_made;
        char **volumes; /* anonymous volumes made for the image's Volumes */
} Created;

static void created_undo(Created *c) {
        for (size_t i = 0; c->volumes && c->volumes[i]; i++) {
                _cleanup_free_ char *d = berth_path("volumes", c->volumes[i]);
                if (d)
                        (void) rm_rf(d);
        }
        strv_free(c->volumes);
        c->volumes = NULL;
        if (c->dir_made) {
                (void) rootfs_umount(c->id);
                (void) record_remove(c->id);
        }
        if (c->name_taken)
                (void) record_name_release(c->name, c->id);
}

int container_create(const RunOptions *o, bool keep_mounted, char **ret_id) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        _cleanup_strv_free_ char **args = NULL, **env = NULL;
        _cleanup_free_ char *cwd = NULL, *dir = NULL, *rootfs = NULL, *why = NULL, *init_path = NULL;
        _cleanup_(json_decrefp) json_t *binds = NULL, *rec = NULL, *spec = NULL;
        _cleanup_(container_user_done) ContainerUser user = {};
        _cleanup_close_ int rootfd = -EBADF;
        Created c = {};
        char name_buf[16];
        int r;

        r = berth_ensure_dirs();
        if (r < 0)
                return log_error_errno(r, "Cannot create the state directories: %m"), EXIT_BERTH_FAILED;
        const char *runtime = o->runtime ?: "runc";
        if (runtime_exists(runtime) < 0)
                return log_error_errno(-ENOENT, "OCI runtime '%s' not found", runtime), EXIT_BERTH_FAILED;
        if (o->stop_signal && parse_signal(o->stop_signal) < 0)
                return log_error_errno(-EINVAL, "Invalid stop signal '%s'", o->stop_signal),
                       EXIT_BERTH_FAILED;
        if (o->init) {
                r = sibling_path("catatonit", &init_path);
                if (r < 0 && access("/usr/libexec/podman/catatonit", X_OK) == 0)
                        r = (init_path = strdup("/usr/libexec/podman/catatonit")) ? 0 : -ENOMEM;
                if (r < 0)
                        return log_error_errno(r, "--init needs catatonit, which is not installed"),
                               EXIT_BERTH_FAILED;
        }
        phase("lookup image");
        _cleanup_free_ char *pidns = NULL, *ipcns = NULL;
        if (peer_ns(o->pid, "pid", &pidns) < 0 || peer_ns(o->ipc, "ipc", &ipcns) < 0)
                return EXIT_BERTH_FAILED;
        r = find_image(o, &img);
        if (r < 0)
                return EXIT_BERTH_FAILED;
        r = resolve_binds(o, &binds);
        if (r < 0)
                return EXIT_BERTH_FAILED;

        r = random_id(c.id);
        if (r < 0)
                return log_error_errno(r, "Cannot make a container ID: %m"), EXIT_BERTH_FAILED;
        snprintf(name_buf, sizeof name_buf, "%.12s", c.id);
        c.name = o->name ?: name_buf;
        const char *hostname = o->hostname ?: name_buf;
        json_t *icfg = json_object_get(img->config, "config");

        r = spec_process_args(o, icfg, &args);
        if (r == -ENOEXEC)
                return log_error_errno(r, "No command: the image '%s' has none and none was given",
                                       o->image),
                       EXIT_BERTH_FAILED;
        if (r < 0)
                return log_error_errno(r, "Invalid Entrypoint or Cmd in image '%s'", o->image),
                       EXIT_BERTH_FAILED;
        r = spec_process_cwd(o, icfg, &cwd);
        if (r < 0)
                return log_error_errno(r,
                                       "Invalid working directory for '%s': it must be absolute, without "
                                       "'..', not in /proc or /sys",
                                       o->image),
                       EXIT_BERTH_FAILED;

        r = flags_name_reserve(o, c.name, c.id);
        if (r == -EEXIST)
                return log_error_errno(r, "The name '%s' is already in use", c.name), EXIT_BERTH_FAILED;
        if (r < 0)
                return log_error_errno(r, "Cannot reserve the name '%s': %m", c.name), EXIT_BERTH_FAILED;
        c.name_taken = true;

        dir = container_path(c.id, NULL);
        rootfs = container_path(c.id, "rootfs");
        if (!dir || !rootfs) {
                created_undo(&c);
                return log_oom(), EXIT_BERTH_FAILED;
        }
        if (mkdir(dir, 0700) < 0) {
                r = -errno;
                created_undo(&c);
                return log_error_errno(r, "Cannot create '%s': %m", dir), EXIT_BERTH_FAILED;
        }
        c.dir_made = true;
        _cleanup_free_ char *localtime = NULL;
        if (flags_write_localtime(o, c.id, &localtime) < 0) {
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }
        /* berth-unpack mounts the rootfs while the /etc files are written */
        pid_t mount_pid = 0;
        r = rootfs_mount_start(c.id, img->id, &mount_pid);
        if (r < 0) {
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }
        EtcOptions etc = {
                .host_network = streq_ptr(o->network, "host"),
                .dns = o->dns,
                .dns_search = o->dns_search,
                .dns_options = o->dns_options,
                .add_hosts = o->add_hosts,
        };
        r = rootfs_write_etc_files(c.id, hostname, &etc);
        /* the scope's cgroup, from the manager, meanwhile too */
        _cleanup_free_ char *cgpath = monitor_cgroups_path(c.name, o->slice);
        int k = rootfs_mount_finish(img->id, mount_pid);
        if (r < 0) {
                created_undo(&c);
                return log_error_errno(r, "Cannot write the /etc files of '%s': %m", c.name),
                       EXIT_BERTH_FAILED;
        }
        if (k < 0) {
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }
        phase("/etc files written, rootfs mounted");
        rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                r = log_error_errno(errno, "Cannot open '%s': %m", rootfs);
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }
        const char *uspec = o->user ?: json_string_value(json_object_get(icfg, "User"));
        r = user_resolve(rootfd, uspec, &user, &why);
        if (r < 0) {
                log_error("Invalid user '%s' for '%s': %s", uspec ?: "", c.name, strna(why));
                rootfd = safe_close(rootfd);
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }
        r = user_add_groups(rootfd, o->group_add, &user, &why);
        if (r < 0) {
                log_error("Invalid %s for '%s'", strna(why), c.name);
                rootfd = safe_close(rootfd);
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }
        r = spec_process_env(o, icfg, hostname, user.home, &env);
        if (r < 0) {
                log_error_errno(r, "Invalid environment for '%s'%s", c.name,
                                r == -E2BIG ? ": larger than 1 MiB or 10000 variables" : "");
                rootfd = safe_close(rootfd);
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }
        r = rootfs_prepare(rootfd, cwd, &why);
        if (r < 0) {
                log_error("Cannot prepare the rootfs of '%s': %s", c.name, strna(why));
                rootfd = safe_close(rootfd);
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }
        r = anonymous_volumes_setup(rootfd, o, binds, &c.volumes, &why);
        if (r >= 0)
                r = image_volumes_setup(rootfd, icfg, o, binds, &c.volumes, &why);
        if (r >= 0)
                r = named_volumes_copy_up(rootfd, binds, &why);
        rootfd = safe_close(rootfd); /* an open fd keeps the mount busy */
        if (r < 0) {
                log_error("Cannot set up the volumes of '%s': %s", c.name, why ?: strerror(-r));
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }

        _cleanup_free_ char *hosts = container_run_path(c.id, "hosts"),
                            *resolv = container_run_path(c.id, "resolv.conf"),
                            *hn = container_run_path(c.id, "hostname"), *netns = NULL;
        if (!streq_ptr(o->network, "none") && !streq_ptr(o->network, "host") &&
            !(netns = berth_run_path("netns", c.id))) {
                created_undo(&c);
                return log_oom(), EXIT_BERTH_FAILED;
        }
        if (!cgpath) {
                created_undo(&c);
                return log_oom(), EXIT_BERTH_FAILED;
        }
        /* --init: catatonit as PID 1, the command below it (the record keeps the command) */
        _cleanup_free_ char **init_args = o->init ? calloc(strv_length(args) + 3, sizeof(char *)) : NULL;
        if (o->init) {
                if (!init_args) {
                        created_undo(&c);
                        return log_oom(), EXIT_BERTH_FAILED;
                }
                init_args[0] = (char *) "/run/berth-init";
                init_args[1] = (char *) "--";
                for (size_t i = 0; args[i]; i++)
                        init_args[i + 2] = args[i];
        }
        bool notify_proxy = streq_ptr(o->sdnotify ?: "container", "container") && getenv("NOTIFY_SOCKET");
        _cleanup_free_ char *notify_dir = notify_proxy ? container_path(c.id, "notify") : NULL;
        if (notify_proxy) {
                if (!notify_dir || (mkdir(notify_dir, 0700) < 0 && errno != EEXIST) ||
                    strv_extend(&env, "NOTIFY_SOCKET=" NOTIFY_CONTAINER_SOCKET) < 0) {
                        created_undo(&c);
                        return log_error_errno(errno ?: ENOMEM, "Cannot prepare the notify socket: %m"),
                               EXIT_BERTH_FAILED;
                }
        }
        SpecInput in = {
                .o = o,
                .args = init_args ?: args,
                .env = env,
                .cwd = cwd,
                .user = &user,
                .hostname = hostname,
                .rootfs = rootfs,
                .hosts_file = o->no_hosts ? NULL : hosts,
                .localtime_file = localtime,
                .resolv_file = resolv,
                .hostname_file = hn,
                .netns_path = streq_ptr(o->network, "host") ? "host" : netns,
                .cgroups_path = cgpath,
                .binds = binds,
                .init_path = init_path,
                .notify_dir = notify_dir,
                .pidns_path = pidns,
                .ipcns_path = ipcns,
                .image_arch = json_string_value(json_object_get(img->config, "architecture")),
                /* On a pure cgroup v2 host the scope's own cgroup holds a process (the placeholder, or
                 * runc) while runc makes <scope>/container, so runc cannot enable controllers for it (no
                 * internal processes in v2) and would fail to set limits there; the scope's MemoryMax,
                 * CPUQuota, CPUWeight and TasksMax cover the container's cgroup as well. */
                .limits_in_scope = cgroup_is_unified() && strstr(cgpath, ".scope/container"),
        };
        phase("rootfs mounted, user resolved, rootfs prepared");
        r = spec_build(&in, &spec, &why);
        if (r < 0) {
                log_error("Invalid configuration for '%s': %s", c.name, why ?: strerror(-r));
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }
        _cleanup_free_ char *cfg = container_path(c.id, "config.json");
        r = cfg ? json_write_file_atomic_full(cfg, spec, durable_write_flags(cfg, WRITE_NO_DIR_SYNC))
                : -ENOMEM; /* the record syncs the dir */
        if (r < 0) {
                log_error_errno(r, "Cannot write '%s': %m", strna(cfg));
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }
        rec = build_record(o, c.id, c.name, img, hostname, args, env, cwd, binds);
        if (rec) {
                _cleanup_free_ char *mode = strv_join(o->networks, ",");
                json_t *hc = json_object_get(rec, "HostConfig");
                json_object_set_new(hc, "NetworkMode", json_string(mode && *mode ? mode : "none"));
                json_object_set_new(hc, "Networks", strv_json(o->networks));
                json_object_set_new(hc, "NetworkAliases", strv_json(o->aliases));
                json_object_set_new(hc, "PortBindings", flags_port_bindings(o, icfg));
                if (record_add_flags(o, rec, icfg) < 0) {
                        json_decref(rec);
                        rec = NULL;
                }
                json_object_set_new(hc, "IP", json_string(o->ip ?: ""));
                json_object_set_new(hc, "IP6", json_string(o->ip6 ?: ""));
                json_object_set_new(hc, "MacAddress", json_string(o->mac ?: ""));
                json_object_set_new(hc, "Dns", strv_json(o->dns));
                json_object_set_new(hc, "DnsSearch", strv_json(o->dns_search));
                json_object_set_new(hc, "DnsOptions", strv_json(o->dns_options));
                json_object_set_new(hc, "ExtraHosts", strv_json(o->add_hosts));
                json_t *rcfg = json_object_get(rec, "Config");
                json_t *ihc = json_object_get(icfg, "Healthcheck");
                json_t *health = NULL;
                if (o->health_cmd)
                        health = json_pack("{s:[s, s]}", "Test", "CMD-SHELL", o->health_cmd);
                else if (!o->no_healthcheck && json_is_object(ihc) &&
                         json_is_array(json_object_get(ihc, "Test")) &&
                         !streq_ptr(json_string_value(json_array_get(json_object_get(ihc, "Test"), 0)),
                                    "NONE"))
                        health = json_deep_copy(ihc);
                if (health) {
                        /* docker's units: nanoseconds */
                        if (o->health_interval)
                                json_object_set_new(health, "Interval",
                                                    json_integer((json_int_t) o->health_interval * 1000));
                        if (o->health_timeout)
                                json_object_set_new(health, "Timeout",
                                                    json_integer((json_int_t) o->health_timeout * 1000));
                        if (o->health_start_period)
                                json_object_set_new(
                                        health, "StartPeriod",
                                        json_integer((json_int_t) o->health_start_period * 1000));
                        if (o->health_retries)
                                json_object_set_new(health, "Retries", json_integer(o->health_retries));
                        json_object_set_new(rcfg, "Healthcheck", health);
                }
        }
        r = rec ? record_save(c.id, rec) : -ENOMEM;
        if (r < 0) {
                log_error_errno(r, "Cannot write the record of '%s': %m", c.name);
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }
        if (flags_write_cidfile(o, c.id) < 0) {
                created_undo(&c);
                return EXIT_BERTH_FAILED;
        }
        strv_free(c.volumes); /* they are the container's now */
        c.volumes = NULL;
        if (!keep_mounted)
                (void) rootfs_umount(c.id);
        else
                monitor_created(c.id);
        *ret_id = strdup(c.id);
        return *ret_id ? 0 : (log_oom(), EXIT_BERTH_FAILED);
}
