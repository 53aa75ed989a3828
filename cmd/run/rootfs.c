/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "container.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "rootfs.h"
#include "safeio.h"
#include "spawn.h"

int rootfs_is_mounted(const char *id) {
        _cleanup_free_ char *rootfs = container_path(id, "rootfs");
        _cleanup_free_ char *dir = container_path(id, NULL);
        struct stat a, b;
        if (!rootfs || !dir)
                return -ENOMEM;
        if (stat(rootfs, &a) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (stat(dir, &b) < 0)
                return -errno;
        return a.st_dev != b.st_dev;
}

int rootfs_mount_start(const char *id, const char *image_id, pid_t *ret_pid) {
        _cleanup_free_ char *rootfs = container_path(id, "rootfs");
        _cleanup_free_ char *upper = container_path(id, "upper");
        _cleanup_free_ char *work = container_path(id, "work");
        int r;

        *ret_pid = 0;
        if (!rootfs || !upper || !work)
                return -ENOMEM;
        r = rootfs_is_mounted(id);
        if (r != 0)
                return r < 0 ? r : 0;
        if ((mkdir(rootfs, 0700) < 0 && errno != EEXIST) || (mkdir(upper, 0755) < 0 && errno != EEXIST) ||
            (mkdir(work, 0700) < 0 && errno != EEXIST))
                return -errno;
        char *argv[] = {(char *) "mount",
                        (char *) image_id,
                        rootfs,
                        (char *) "--upper",
                        upper,
                        (char *) "--work",
                        work,
                        NULL};
        r = spawn_sibling_start("berth-unpack", argv, ret_pid);
        if (r < 0)
                return log_error_errno(r, "Cannot run berth-unpack: %m");
        return 0;
}

int rootfs_mount_finish(const char *image_id, pid_t pid) {
        if (pid == 0)
                return 0;
        int r = spawn_sibling_wait(pid);
        if (r < 0)
                return log_error_errno(r, "berth-unpack did not finish: %m");
        if (r != 0) {
                log_error("berth-unpack could not mount the rootfs of image '%s' (exit status %d)", image_id,
                          r);
                return -EIO;
        }
        return 0;
}

int rootfs_mount(const char *id, const char *image_id) {
        pid_t pid;
        int r = rootfs_mount_start(id, image_id, &pid);
        if (r < 0)
                return r;
        return rootfs_mount_finish(image_id, pid);
}

int rootfs_umount_start(const char *id, pid_t *ret_pid) {
        _cleanup_free_ char *rootfs = container_path(id, "rootfs");
        int r;
        *ret_pid = 0;
        if (!rootfs)
                return -ENOMEM;
        r = rootfs_is_mounted(id);
        if (r <= 0)
                return r;
        char *argv[] = {(char *) "umount", rootfs, NULL};
        if (spawn_sibling_start("berth-unpack", argv, ret_pid) < 0)
                *ret_pid = -1; /* rootfs_umount_finish() does it itself */
        return 0;
}

int rootfs_umount_finish(const char *id, pid_t pid) {
        if (pid == 0)
                return 0;
        if (pid > 0 && spawn_sibling_wait(pid) == 0)
                return 0;
        /* The mount is ours: if the sibling cannot undo it, do it ourselves rather than leak it. */
        _cleanup_free_ char *rootfs = container_path(id, "rootfs");
        if (!rootfs)
                return -ENOMEM;
        if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL)
                return log_error_errno(errno, "Cannot unmount '%s': %m", rootfs);
        return 0;
}

int rootfs_umount(const char *id) {
        pid_t pid;
        int r = rootfs_umount_start(id, &pid);
        if (r < 0)
                return r;
        return rootfs_umount_finish(id, pid);
}

int rootfs_prepare(int rootfd, const char *cwd, char **ret_why) {
        static const char *const api_dirs[] = {"dev", "proc", "sys"};
        static const char *const etc_files[] = {"/etc/hosts", "/etc/resolv.conf", "/etc/hostname"};
        int r;

        for (size_t i = 0; i < ELEMENTSOF(api_dirs); i++) {
                r = root_replace_symlink_with_dir(rootfd, api_dirs[i]);
                if (r < 0) {
                        (void) asprintf(ret_why, "cannot make /%s a directory in the rootfs: %s",
                                        api_dirs[i], strerror(-r));
                        return r;
                }
                if (r > 0)
                        log_debug("Replaced the image's /%s (not a directory) with a directory",
                                  api_dirs[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(etc_files); i++) {
                r = root_ensure_regular_file(rootfd, etc_files[i]);
                if (r < 0) {
                        (void) asprintf(ret_why, "cannot prepare %s in the rootfs: %s", etc_files[i],
                                        strerror(-r));
                        return r;
                }
        }
        if (cwd && !streq(cwd, "/")) {
                r = root_mkdir_p(rootfd, cwd, 0755, NULL);
                if (r < 0) {
                        (void) asprintf(ret_why,
                                        "cannot create the working directory '%s' in the rootfs: %s", cwd,
                                        r == -ENOTDIR ? "a component is not a directory" : strerror(-r));
                        return r;
                }
        }
        return 0;
}

/* The /etc files live in the container's runroot directory (tmpfs): made at create, and again at a start
 * that finds them gone (a reboot), from the record; nothing to sync. */
static int write_text(const char *id, const char *file, const char *text) {
        _cleanup_free_ char *dir = container_run_path(id, NULL), *p = container_run_path(id, file);
        if (!dir || !p)
                return -ENOMEM;
        int r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        return write_file_atomic_full(p, text, strlen(text), 0644, WRITE_NO_SYNC);
}

static bool nameserver_is_loopback(const char *ip) {
        return startswith(ip, "127.") || streq(ip, "::1");
}

/* "nameserver X" lines of text, as a list */
static char **nameservers(const char *text) {
        _cleanup_free_ char *copy = strdup(text ?: "");
        char **list = NULL, *save = NULL;
        if (!copy)
                return NULL;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char ns[128];
                if (sscanf(l, " nameserver %127s", ns) == 1 && strv_extend(&list, ns) < 0) {
                        strv_free(list);
                        return NULL;
                }
        }
        return list;
}

int resolv_compose(const char *base, const EtcOptions *e, char **ret) {
        _cleanup_free_ char *copy = strdup(base ?: ""), *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        char *save = NULL;
        int n = 0;

        if (!copy || !f) {
                if (f)
                        fclose(f);
                return -ENOMEM;
        }
        for (size_t i = 0; e->dns && e->dns[i]; i++)
                fprintf(f, "nameserver %s\n", e->dns[i]), n++;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char w[16] = "", ns[128];
                if (sscanf(l, " %15s", w) != 1)
                        continue;
                if (streq(w, "nameserver")) {
                        /* the host's loopback resolvers cannot be reached from the container's network */
                        if (!e->dns && sscanf(l, " nameserver %127s", ns) == 1 &&
                            (e->host_network || !nameserver_is_loopback(ns)) && n < 3)
                                fprintf(f, "nameserver %s\n", ns), n++;
                } else if (streq(w, "search") || streq(w, "domain")) {
                        if (!e->dns_search)
                                fprintf(f, "%s\n", l);
                } else if (streq(w, "options")) {
                        if (!e->dns_options)
                                fprintf(f, "%s\n", l);
                }
        }
        if (e->dns_search && !(e->dns_search[0] && streq(e->dns_search[0], ".") && !e->dns_search[1])) {
                fputs("search", f);
                for (size_t i = 0; e->dns_search[i]; i++)
                        if (!streq(e->dns_search[i], "."))
                                fprintf(f, " %s", e->dns_search[i]);
                fputc('\n', f);
        }
        if (e->dns_options) {
                fputs("options", f);
                for (size_t i = 0; e->dns_options[i]; i++)
                        fprintf(f, " %s", e->dns_options[i]);
                fputc('\n', f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

/* A JSON array of strings as a list (NULL when empty or not an array). */
static char **strv_from_json(json_t *a) {
        char **l = NULL;
        json_t *e;
        size_t i;
        json_array_foreach (a, i, e)
                if (json_is_string(e) && strv_extend(&l, json_string_value(e)) < 0) {
                        strv_free(l);
                        return NULL;
                }
        return l;
}

int rootfs_etc_files_ensure(const char *id, json_t *rec) {
        _cleanup_free_ char *p = container_run_path(id, "hosts");
        if (!p)
                return -ENOMEM;
        if (access(p, F_OK) >= 0)
                return 0;
        json_t *hc = json_object_get(rec, "HostConfig");
        _cleanup_strv_free_ char **dns = strv_from_json(json_object_get(hc, "Dns")),
                                 **search = strv_from_json(json_object_get(hc, "DnsSearch")),
                                 **opts = strv_from_json(json_object_get(hc, "DnsOptions")),
                                 **hosts = strv_from_json(json_object_get(hc, "ExtraHosts"));
        EtcOptions e = {
                .host_network = streq_ptr(json_string_value(json_object_get(hc, "NetworkMode")), "host"),
                .dns = dns,
                .dns_search = search,
                .dns_options = opts,
                .add_hosts = hosts,
        };
        const char *hn = json_string_value(json_object_get(json_object_get(rec, "Config"), "Hostname"));
        return rootfs_write_etc_files(id, hn ?: id, &e);
}

int rootfs_write_etc_files(const char *id, const char *hostname, const EtcOptions *e) {
        _cleanup_free_ char *hosts = NULL, *hn = NULL, *host_resolv = NULL, *resolv = NULL;
        size_t len = 0;
        int r;

        FILE *f = open_memstream(&hosts, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f,
                "127.0.0.1\tlocalhost localhost.localdomain\n"
                "::1\tlocalhost localhost.localdomain ip6-localhost ip6-loopback\n"
                "127.0.1.1\t%s\n",
                hostname);
        for (size_t i = 0; e->add_hosts && e->add_hosts[i]; i++) {
                const char *colon = strchr(e->add_hosts[i], ':');
                if (colon)
                        fprintf(f, "%s\t%.*s\n", colon + 1, (int) (colon - e->add_hosts[i]),
                                e->add_hosts[i]);
        }
        if (fclose(f) != 0 || asprintf(&hn, "%s\n", hostname) < 0)
                return -ENOMEM;

        r = read_full_file("/etc/resolv.conf", 64 * 1024, &host_resolv, NULL);
        if (r < 0 && !(host_resolv = strdup("")))
                return -ENOMEM;
        if (!e->host_network) {
                /* a host whose resolv.conf names only a local stub (systemd-resolved's 127.0.0.53): its
                 * upstream servers, as docker and podman use them */
                _cleanup_strv_free_ char **ns = nameservers(host_resolv);
                bool all_loopback = ns && ns[0];
                for (size_t i = 0; ns && ns[i]; i++)
                        all_loopback = all_loopback && nameserver_is_loopback(ns[i]);
                _cleanup_free_ char *upstream = NULL;
                if (all_loopback &&
                    read_full_file("/run/systemd/resolve/resolv.conf", 64 * 1024, &upstream, NULL) >= 0) {
                        free(host_resolv);
                        host_resolv = TAKE_PTR(upstream);
                }
        }
        r = resolv_compose(host_resolv, e, &resolv);
        if (r < 0)
                return r;
        r = write_text(id, "hosts", hosts);
        if (r >= 0)
                r = write_text(id, "hostname", hn);
        if (r >= 0)
                r = write_text(id, "resolv.conf", resolv);
        return r;
}
