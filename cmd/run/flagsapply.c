/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* run/create flags (flags.h) into the record and the container's directory. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "fileio.h"
#include "flags.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "record.h"

int record_add_flags(const RunOptions *o, json_t *rec, json_t *image_config) {
        json_t *hc = json_object_get(rec, "HostConfig"), *cfg = json_object_get(rec, "Config"),
               *devs = json_array();
        char um[8];

        for (size_t i = 0; o->devices && o->devices[i]; i++) {
                _cleanup_free_ char *copy = strdup(o->devices[i]);
                if (!copy)
                        return -ENOMEM;
                char *perms = strrchr(copy, ':');
                *perms++ = 0;
                char *ctr = strrchr(copy, ':');
                *ctr++ = 0;
                json_array_append_new(devs, json_pack("{s:s, s:s, s:s}", "PathOnHost", copy,
                                                      "PathInContainer", ctr, "CgroupPermissions", perms));
        }
        snprintf(um, sizeof um, "%04o", o->umask_set ? o->umask : 022);
        json_object_set_new(hc, "Devices", devs);
        json_object_set_new(hc, "Sysctls", flags_kv_object(o->sysctls));
        json_object_set_new(hc, "ShmSize", json_integer((json_int_t) (o->shm_size ?: 65536 * 1024)));
        json_object_set_new(hc, "GroupAdd", flags_strv_json(o->group_add));
        json_object_set_new(hc, "NoHosts", json_boolean(o->no_hosts));
        json_object_set_new(hc, "MemorySwap", json_integer(o->memory_swap));
        json_object_set_new(hc, "MemoryReservation", json_integer((json_int_t) o->memory_reservation));
        json_object_set_new(hc, "CpusetCpus", json_string(o->cpuset_cpus ?: ""));
        json_object_set_new(hc, "CpusetMems", json_string(o->cpuset_mems ?: ""));
        json_object_set_new(hc, "OomScoreAdj", json_integer(o->oom_score_adj));
        json_object_set_new(hc, "PublishAllPorts", json_boolean(o->publish_all));
        json_object_set_new(hc, "ContainerIDFile", json_string(o->cidfile ?: ""));
        json_t *mounts = json_array();
        for (size_t i = 0; o->mounts && o->mounts[i]; i++)
                json_array_append_new(mounts, json_loads(o->mounts[i], 0, NULL) ?: json_null());
        json_object_set_new(hc, "Mounts", mounts);
        json_object_set_new(cfg, "ExposedPorts", flags_exposed_ports(o, image_config));
        json_object_set_new(cfg, "Annotations", flags_kv_object(o->annotations));
        json_object_set_new(cfg, "Timezone", json_string(o->tz ?: ""));
        json_object_set_new(cfg, "Umask", json_string(um));
        return 0;
}

int flags_write_localtime(const RunOptions *o, const char *id, char **ret) {
        _cleanup_free_ char *src = NULL, *data = NULL, *dst = NULL;
        size_t n;
        int r;

        *ret = NULL;
        if (!o->tz)
                return 0;
        src = streq(o->tz, "local") ? strdup("/etc/localtime") : path_join("/usr/share/zoneinfo", o->tz);
        dst = container_path(id, "localtime");
        if (!src || !dst)
                return log_oom();
        r = read_full_file(src, 1024 * 1024, &data, &n);
        if (r >= 0)
                r = write_file_atomic(dst, data, n, 0644);
        if (r < 0)
                return log_error_errno(r, "Cannot copy the time zone '%s' (--tz) from '%s': %m", o->tz, src);
        *ret = TAKE_PTR(dst);
        return 0;
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = {0, (long) ms * 1000000L};
        (void) nanosleep(&ts, NULL);
}

/* --replace: held from the removal of the old container until the new one's runtime has started */
static int replace_lock_fd = -EBADF;

void flags_replace_unlock(void) {
        if (replace_lock_fd >= 0)
                (void) flock(replace_lock_fd, LOCK_UN); /* a forked monitor shares it */
        replace_lock_fd = safe_close(replace_lock_fd);
}

static int replace_lock(const char *name) {
        _cleanup_free_ char *dir = berth_run_path("replace"), *p = berth_run_path("replace", name);
        int r;
        if (!dir || !p)
                return -ENOMEM;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        replace_lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (replace_lock_fd < 0)
                return -errno;
        while (flock(replace_lock_fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

int flags_name_reserve(const RunOptions *o, const char *name, const char *id) {
        _cleanup_free_ char *link = berth_path("names", name);
        unsigned pending = 0;
        if (!link)
                return -ENOMEM;
        /* Concurrent replaces of one name take turns: one that removed a container still being started
         * by another would leave that start running on, and its end would stop the scope of the next
         * container of the name (the unit's name is the container's). */
        if (o->replace) {
                int r = replace_lock(name);
                if (r < 0)
                        return log_error_errno(r, "Cannot lock the name '%s' for --replace: %m", name);
        }
        /* The name link is the lock: whoever makes it owns the name. Another --replace of the same name may
         * take it between our remove and our retry; then that one is removed in turn, as with podman. */
        for (unsigned attempt = 0;; attempt++) {
                char old[128];
                int r = record_name_reserve(name, id);
                if (r != -EEXIST || !o->replace || attempt >= 100)
                        return r;
                ssize_t k = readlink(link, old, sizeof old - 1);
                if (k < 0)
                        continue; /* gone meanwhile */
                old[k] = 0;
                /* by ID: the name may be another container's by the time it is stopped */
                r = container_remove(old, old, true, false);
                if (r < 0)
                        return r;
                if (r == 1 && ++pending > 25) {
                        /* still no record after ~0.5 s: a create that died before writing it */
                        (void) record_name_release(name, old);
                        pending = 0;
                } else if (r == 1)
                        sleep_ms(20); /* a create in progress has the name and not yet its record */
        }
}

int flags_write_cidfile(const RunOptions *o, const char *id) {
        _cleanup_free_ char *tmp = NULL;
        int r = 0;
        if (!o->cidfile)
                return 0;
        if (asprintf(&tmp, "%s.XXXXXX", o->cidfile) < 0)
                return log_oom();
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Cannot write --cidfile '%s': %m", o->cidfile);
        mode_t um = umask(0);
        (void) umask(um);
        if (fchmod(fd, 0666 & ~um) < 0 || dprintf(fd, "%s", id) < 0 || fsync(fd) < 0)
                r = -errno;
        safe_close(fd);
        /* link(): all of the ID or nothing, and never over a file made meanwhile */
        if (r >= 0 && link(tmp, o->cidfile) < 0)
                r = -errno;
        (void) unlink(tmp);
        if (r == -EEXIST)
                return log_error_errno(r, "Invalid --cidfile '%s': the file exists", o->cidfile);
        if (r < 0)
                return log_error_errno(r, "Cannot write --cidfile '%s': %m", o->cidfile);
        return 0;
}
