/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps info: what a bug report needs, in podman info's sections. Everything is read from files and
 * sockets' existence; the only programs run are systemctl --version and the runtime's --version. */
#include <ctype.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/vfs.h>

#include "cli.h"
#include "command.h"
#include "fileio.h"
#include "info.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "ps.h"
#include "table.h"

json_t *info_section(Info *info, const char *section) {
        json_t *s = json_object_get(info->root, section);
        if (!s && (!(s = json_object()) || json_object_set_new(info->root, section, s) < 0))
                return NULL;
        return s;
}

int info_unknown(Info *info, json_t *obj, const char *path, const char *key, const char *fmt, ...) {
        _cleanup_free_ char *why = NULL, *where = NULL;
        va_list ap;
        va_start(ap, fmt);
        int k = vasprintf(&why, fmt, ap);
        va_end(ap);
        if (k < 0 || !obj || asprintf(&where, "%s.%s", path, key) < 0)
                return -ENOMEM;
        if (json_object_set_new(obj, key, json_null()) < 0 ||
            json_object_set_new(info->unknown, where, json_string(why)) < 0)
                return -ENOMEM;
        return 0;
}

int find_executable(const char *name, char **ret) {
        if (strchr(name, '/')) {
                if (access(name, X_OK) < 0)
                        return -errno;
                return (*ret = strdup(name)) ? 0 : -ENOMEM;
        }
        _cleanup_free_ char *copy = strdup(getenv("PATH") ?: "/usr/bin:/bin");
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = path_join(d, name);
                if (!p)
                        return -ENOMEM;
                if (access(p, X_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        return -ENOENT;
}

/* GOARCH names, as podman reports them */
static const char *go_arch(const char *machine) {
        static const char *const map[][2] = {
                {"x86_64", "amd64"},    {"aarch64", "arm64"}, {"i686", "386"},
                {"i386", "386"},        {"armv7l", "arm"},    {"armv6l", "arm"},
                {"ppc64le", "ppc64le"}, {"s390x", "s390x"},   {"riscv64", "riscv64"},
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(machine, map[i][0]))
                        return map[i][1];
        return machine;
}

static int host_distribution(Info *info, json_t *host) {
        _cleanup_free_ char *buf = NULL;
        const char *file = "/etc/os-release";
        int r = read_full_file(file, 64 * 1024, &buf, NULL);
        if (r == -ENOENT)
                r = read_full_file(file = "/usr/lib/os-release", 64 * 1024, &buf, NULL);
        if (r < 0)
                return info_unknown(info, host, "host", "distribution", "cannot read %s: %s", file,
                                    strerror(-r));
        json_auto_t *d = json_pack("{s:n, s:n, s:n}", "distribution", "version", "prettyName");
        if (!d)
                return -ENOMEM;
        for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                static const char *const keys[][2] = {
                        {"ID=", "distribution"}, {"VERSION_ID=", "version"}, {"PRETTY_NAME=", "prettyName"}};
                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        if (!startswith(l, keys[i][0]))
                                continue;
                        char *v = l + strlen(keys[i][0]);
                        size_t n = strlen(v);
                        if (n >= 2 && (*v == '"' || *v == '\'') && v[n - 1] == *v) {
                                v[n - 1] = 0;
                                v++;
                        }
                        json_object_set_new(d, keys[i][1], json_string(v));
                }
        }
        return json_object_set(host, "distribution", d);
}

static int host_cgroups(Info *info, json_t *host) {
        struct statfs fs;
        const char *version;
        json_object_set_new(host, "cgroupManager",
                            json_string(access("/run/systemd/system", F_OK) == 0 ? "systemd" : "cgroupfs"));
        if (statfs("/sys/fs/cgroup", &fs) < 0) {
                int e = errno;
                return info_unknown(info, host, "host", "cgroupVersion", "cannot statfs /sys/fs/cgroup: %s",
                                    strerror(e)) < 0 ||
                                       info_unknown(info, host, "host", "cgroupControllers",
                                                    "cannot statfs /sys/fs/cgroup: %s", strerror(e)) < 0
                               ? -ENOMEM
                               : 0;
        }
        if (fs.f_type == CGROUP2_SUPER_MAGIC)
                version = "v2";
        else if (statfs("/sys/fs/cgroup/unified", &fs) >= 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                version = "hybrid";
        else
                version = "v1";
        json_object_set_new(host, "cgroupVersion", json_string(version));

        /* v2: what the root offers its children; v1 and hybrid: the enabled v1 hierarchies */
        _cleanup_free_ char *buf = NULL;
        const char *file = streq(version, "v2") ? "/sys/fs/cgroup/cgroup.controllers" : "/proc/cgroups";
        int r = read_full_file(file, 64 * 1024, &buf, NULL);
        if (r < 0)
                return info_unknown(info, host, "host", "cgroupControllers", "cannot read %s: %s", file,
                                    strerror(-r));
        json_t *list = json_array();
        if (!list || json_object_set_new(host, "cgroupControllers", list) < 0)
                return -ENOMEM;
        for (char *save = NULL, *l = strtok_r(buf, streq(version, "v2") ? " \n" : "\n", &save); l;
             l = strtok_r(NULL, streq(version, "v2") ? " \n" : "\n", &save)) {
                char name[64];
                int enabled = 1;
                if (!streq(version, "v2") &&
                    (*l == '#' || sscanf(l, "%63s %*d %*d %d", name, &enabled) != 2))
                        continue;
                if (enabled && json_array_append_new(list, json_string(streq(version, "v2") ? l : name)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Is a manager listening on its private socket? A connect() answers that without a D-Bus call. */
static int socket_reachable(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        return connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ? -errno : 0;
}

static int host_systemd(Info *info, json_t *host) {
        json_t *sd = json_object();
        _cleanup_free_ char *version = NULL, *user_socket = NULL;
        if (!sd || json_object_set_new(host, "systemd", sd) < 0)
                return -ENOMEM;
        char *argv[] = {(char *) "systemctl", (char *) "--version", NULL};
        int r = command_first_line(argv, &version);
        if (r < 0 && info_unknown(info, sd, "host.systemd", "version", "systemctl --version: %s",
                                  r == -EIO ? "failed" : strerror(-r)) < 0)
                return -ENOMEM;
        if (r >= 0)
                json_object_set_new(sd, "version", json_string(version));

        const char *rt = getenv("XDG_RUNTIME_DIR");
        if (!isempty(rt) && asprintf(&user_socket, "%s/systemd/private", rt) < 0)
                return -ENOMEM;
        int sys = socket_reachable("/run/systemd/private");
        int user = user_socket ? socket_reachable(user_socket) : -ENXIO;
        json_t *o = json_pack("{s:s, s:b}", "socket", "/run/systemd/private", "reachable", sys >= 0);
        if (!o || json_object_set_new(sd, "systemManager", o) < 0)
                return -ENOMEM;
        o = json_pack("{s:s?, s:b}", "socket", user_socket, "reachable", user >= 0);
        if (!o || json_object_set_new(sd, "userManager", o) < 0)
                return -ENOMEM;
        /* lib/bus.c's choice: $BERTH_MANAGER, else the system manager when root and reachable, else the
         * user's */
        const char *want = getenv("BERTH_MANAGER"), *manager;
        if (streq_ptr(want, "system"))
                manager = sys >= 0 ? "system" : "none";
        else if (streq_ptr(want, "user"))
                manager = user >= 0 ? "user" : "none";
        else
                manager = geteuid() == 0 && sys >= 0 ? "system" : user >= 0 ? "user" : "none";
        return json_object_set_new(sd, "manager", json_string(manager));
}

static int host_memory(Info *info, json_t *host) {
        static const char *const keys[][2] = {{"MemTotal:", "memTotal"},
                                              {"MemAvailable:", "memFree"},
                                              {"SwapTotal:", "swapTotal"},
                                              {"SwapFree:", "swapFree"}};
        _cleanup_free_ char *buf = NULL;
        int r = read_full_file("/proc/meminfo", 64 * 1024, &buf, NULL);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const char *p = buf ? strstr(buf, keys[i][0]) : NULL;
                unsigned long long kb;
                if (p && sscanf(p + strlen(keys[i][0]), "%llu", &kb) == 1)
                        json_object_set_new(host, keys[i][1], json_integer((json_int_t) (kb * 1024)));
                else if (info_unknown(info, host, "host", keys[i][1], "not in /proc/meminfo%s%s",
                                      r < 0 ? ": " : "", r < 0 ? strerror(-r) : "") < 0)
                        return -ENOMEM;
        }
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        if (cpus > 0)
                return json_object_set_new(host, "cpus", json_integer(cpus));
        return info_unknown(info, host, "host", "cpus", "sysconf(_SC_NPROCESSORS_ONLN): %m");
}

static int info_host(Info *info) {
        json_t *host = info_section(info, "host");
        struct utsname u;
        if (!host)
                return -ENOMEM;
        if (uname(&u) >= 0) {
                json_object_set_new(host, "arch", json_string(go_arch(u.machine)));
                json_object_set_new(host, "kernel", json_string(u.release));
                json_object_set_new(host, "hostname", json_string(u.nodename));
        } else {
                static const char *const keys[] = {"arch", "kernel", "hostname"};
                int e = errno;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        if (info_unknown(info, host, "host", keys[i], "uname: %s", strerror(e)) < 0)
                                return -ENOMEM;
        }
        json_object_set_new(host, "os", json_string("linux"));
        int r = host_distribution(info, host);
        if (r >= 0)
                r = host_cgroups(info, host);
        if (r >= 0)
                r = host_systemd(info, host);
        if (r >= 0)
                r = host_memory(info, host);
        return r;
}

/* The file system type of the mount holding path: the mountinfo entry of its device. */
static int fs_type(const char *path, char **ret) {
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return -errno;
        char line[4096];
        while (fgets(line, sizeof line, f)) {
                unsigned ma, mi;
                const char *sep = strstr(line, " - ");
                char type[64];
                if (sscanf(line, "%*s %*s %u:%u", &ma, &mi) == 2 && makedev(ma, mi) == st.st_dev && sep &&
                    sscanf(sep + 3, "%63s", type) == 1)
                        return (*ret = strdup(type)) ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

/* The directory, whether it exists, and its file system's type, free and total bytes: of the nearest
 * existing parent for a directory not made yet, where it will be made. */
static int berth_dir(Info *info, json_t *b, const char *key, const char *path) {
        char k_exists[32], k_fs[32], k_free[32], k_size[32];
        snprintf(k_exists, sizeof k_exists, "%sExists", key);
        snprintf(k_fs, sizeof k_fs, "%sFilesystem", key);
        snprintf(k_free, sizeof k_free, "%sFree", key);
        snprintf(k_size, sizeof k_size, "%sSize", key);
        _cleanup_free_ char *at = strdup(path), *type = NULL;
        struct statvfs sv;
        struct stat st;
        if (!at)
                return -ENOMEM;
        bool exists = stat(path, &st) >= 0;
        while (!exists && stat(at, &st) < 0 && errno == ENOENT && !streq(at, ".")) {
                char *slash = strrchr(at, '/');
                if (slash)
                        *(slash == at ? slash + 1 : slash) = 0;
                else
                        strcpy(at, "."); /* a relative path: at least as long as "." */
        }
        if (json_object_set_new(b, key, json_string(path)) < 0 ||
            json_object_set_new(b, k_exists, json_boolean(exists)) < 0)
                return -ENOMEM;
        int r = fs_type(at, &type);
        if ((r < 0 ? info_unknown(info, b, "berth", k_fs, "%s: %s", at, strerror(-r))
                   : json_object_set_new(b, k_fs, json_string(type))) < 0)
                return -ENOMEM;
        if (statvfs(at, &sv) < 0) {
                int e = errno;
                return info_unknown(info, b, "berth", k_free, "%s: %s", at, strerror(e)) < 0 ||
                                       info_unknown(info, b, "berth", k_size, "%s: %s", at, strerror(e)) < 0
                               ? -ENOMEM
                               : 0;
        }
        if (json_object_set_new(b, k_free, json_integer((json_int_t) (sv.f_bavail * sv.f_frsize))) < 0 ||
            json_object_set_new(b, k_size, json_integer((json_int_t) (sv.f_blocks * sv.f_frsize))) < 0)
                return -ENOMEM;
        return 0;
}

static int info_berth(Info *info) {
        json_t *b = info_section(info, "berth");
        if (!b || json_object_set_new(b, "version", json_string(BERTH_VERSION)) < 0)
                return -ENOMEM;
        int r = berth_dir(info, b, "root", berth_root());
        return r < 0 ? r : berth_dir(info, b, "runRoot", berth_runroot());
}

/* podman info's text form is YAML; this prints the same shape. A null is "unknown (why)". */
static void print_yaml(json_t *obj, const char *path, json_t *unknown, int indent) {
        const char *key;
        json_t *v;
        json_object_foreach (obj, key, v) {
                _cleanup_free_ char *where = NULL;
                if (asprintf(&where, "%s%s%s", path, *path ? "." : "", key) < 0)
                        return;
                printf("%*s%s:", indent, "", key);
                if (json_is_object(v)) {
                        printf("\n");
                        print_yaml(v, where, unknown, indent + 2);
                } else if (json_is_array(v)) {
                        size_t i;
                        json_t *e;
                        printf("%s\n", json_array_size(v) ? "" : " []");
                        json_array_foreach (v, i, e)
                                printf("%*s- %s\n", indent + 2, "", json_string_value(e) ?: "");
                } else if (json_is_string(v))
                        printf(" %s\n", json_string_value(v));
                else if (json_is_integer(v))
                        printf(" %lld\n", (long long) json_integer_value(v));
                else if (json_is_boolean(v))
                        printf(" %s\n", json_is_true(v) ? "true" : "false");
                else
                        printf(" unknown (%s)\n", strna(json_string_value(json_object_get(unknown, where))));
        }
}

/* Templates use podman's field names: {{.Host.Kernel}}, {{.Store.Containers.Running}}. */
static json_t *capitalized(json_t *v) {
        if (!json_is_object(v))
                return json_incref(v);
        json_t *o = json_object();
        const char *key;
        json_t *e;
        json_object_foreach (v, key, e) {
                _cleanup_free_ char *k = strdup(key);
                json_t *c = capitalized(e);
                if (!o || !k || !c) {
                        json_decref(c);
                        json_decref(o);
                        return NULL;
                }
                k[0] = (char) toupper((unsigned char) k[0]);
                if (json_object_set_new(o, k, c) < 0) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}

int verb_info(const PsArgs *a) {
        json_auto_t *root = json_object(), *unknown = json_object();
        Info info = {.root = root, .unknown = unknown};
        int r;

        (void) a;
        if (!root || !unknown)
                return log_oom();
        r = info_host(&info);
        if (r >= 0)
                r = info_berth(&info);
        if (r >= 0)
                r = info_store(&info);
        if (r >= 0)
                r = info_runtime(&info);
        if (r >= 0)
                r = info_network(&info);
        if (r >= 0)
                r = info_registries(&info);
        if (r < 0)
                return log_oom();

        if (arg_output == OUTPUT_TABLE)
                print_yaml(root, "", unknown, 0);
        else {
                if (json_object_set(root, "unknown", unknown) < 0)
                        return log_oom();
                if (arg_output == OUTPUT_JSON)
                        r = json_print(root, stdout);
                else {
                        json_auto_t *t = capitalized(root);
                        r = t ? template_render(arg_template, t, stdout) : -ENOMEM;
                }
        }
        if (r >= 0 && fflush(stdout) != 0)
                r = -errno;
        if (r < 0)
                return log_error_errno(r, "Failed to write the information: %m");
        return 0;
}
