/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "container.h"
#include "durable.h"
#include "fileio.h"
#include "lock.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "record.h"
#include "util.h"

int record_lock(const char *id, int *ret_fd) {
        _cleanup_free_ char *p = container_path(id, "lock");
        if (!p)
                return -ENOMEM;
        return lock_path(p, LOCK_EX, ret_fd);
}

int record_save(const char *id, json_t *rec) {
        _cleanup_free_ char *p = container_path(id, "container.json");
        if (!p)
                return -ENOMEM;
        return json_write_file_atomic_full(p, rec, durable_write_flags(p, 0));
}

int record_update(const char *id, record_update_t fn, void *userdata) {
        _cleanup_close_ int lock = -EBADF;
        json_t *rec = NULL;
        int r;

        r = record_lock(id, &lock);
        if (r < 0)
                return r;
        r = container_load(id, &rec, NULL);
        if (r < 0)
                return r;
        r = fn(rec, userdata);
        if (r >= 0)
                r = record_save(id, rec);
        json_decref(rec);
        return r;
}

int record_name_reserve(const char *name, const char *id) {
        _cleanup_free_ char *p = berth_path("names", name);
        _cleanup_free_ char *d = berth_path("names");
        int r;

        if (!p || !d)
                return -ENOMEM;
        r = mkdir_p(d, 0700);
        if (r < 0)
                return r;
        if (symlink(id, p) < 0)
                return -errno;
        (void) durable_sync_dir(d);
        return 0;
}

char *record_name_of(const char *id) {
        _cleanup_free_ char *d = berth_path("names");
        _cleanup_closedir_ DIR *dir = d ? opendir(d) : NULL;
        char target[PATH_MAX];
        for (struct dirent *de; dir && (de = readdir(dir));) {
                ssize_t n = readlinkat(dirfd(dir), de->d_name, target, sizeof target - 1);
                if (n < 0)
                        continue;
                target[n] = 0;
                if (streq(target, id) && name_is_valid(de->d_name, 128))
                        return strdup(de->d_name);
        }
        return NULL;
}

int record_names_release_others(const char *id, const char *keep) {
        _cleanup_free_ char *d = berth_path("names");
        _cleanup_closedir_ DIR *dir = d ? opendir(d) : NULL;
        char target[PATH_MAX];
        int ret = 0;

        if (!d)
                return -ENOMEM;
        if (!dir)
                return errno == ENOENT ? 0 : -errno;
        for (struct dirent *de; (de = readdir(dir));) {
                ssize_t n = readlinkat(dirfd(dir), de->d_name, target, sizeof target - 1);
                if (n < 0)
                        continue;
                target[n] = 0;
                if (!streq(target, id) || streq_ptr(keep, de->d_name))
                        continue;
                if (unlinkat(dirfd(dir), de->d_name, 0) < 0 && errno != ENOENT && ret == 0)
                        ret = -errno;
        }
        return ret;
}

int record_names_release_all(const char *id) {
        return record_names_release_others(id, NULL);
}

int record_name_release(const char *name, const char *id) {
        _cleanup_free_ char *p = NULL;
        char target[PATH_MAX];
        ssize_t n;

        if (isempty(name) || !name_is_valid(name, 128))
                return 0;
        p = berth_path("names", name);
        if (!p)
                return -ENOMEM;
        n = readlink(p, target, sizeof target - 1);
        if (n < 0)
                return errno == ENOENT ? 0 : -errno;
        target[n] = 0;
        if (!streq(target, id))
                return 0;
        if (unlink(p) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static json_t *state_of(json_t *rec) {
        json_t *s = json_object_get(rec, "State");
        if (!json_is_object(s)) {
                s = json_object();
                json_object_set_new(rec, "State", s);
        }
        return s;
}

static void set_now(json_t *obj, const char *key) {
        char buf[64];
        if (format_rfc3339(now_usec(CLOCK_REALTIME), buf, sizeof buf) >= 0)
                json_object_set_new(obj, key, json_string(buf));
}

typedef struct Running {
        pid_t pid, monitor;
} Running;

static int apply_running(json_t *rec, void *userdata) {
        Running *x = userdata;
        json_t *s = state_of(rec);
        uint64_t st = 0;
        char bid[37];

        json_object_set_new(s, "Status", json_string("running"));
        json_object_set_new(s, "Running", json_true());
        json_object_set_new(s, "Paused", json_false());
        json_object_set_new(s, "Pid", json_integer(x->pid));
        json_object_set_new(s, "MonitorPid", json_integer(x->monitor));
        if (pid_start_time(x->monitor, &st) >= 0)
                json_object_set_new(s, "MonitorStartTime", json_integer((json_int_t) st));
        if (pid_start_time(x->pid, &st) >= 0)
                json_object_set_new(s, "InitStartTime", json_integer((json_int_t) st));
        json_object_set_new(s, "ExitCode", json_integer(0));
        json_object_set_new(s, "Error", json_string(""));
        json_object_set_new(s, "FinishedAt", json_string("0001-01-01T00:00:00Z"));
        if (boot_id(bid) >= 0)
                json_object_set_new(s, "BootId", json_string(bid));
        set_now(s, "StartedAt");
        /* Every start, a restart in place included, begins a fresh health history (docker's rule). */
        if (json_is_array(
                    json_object_get(json_object_get(json_object_get(rec, "Config"), "Healthcheck"), "Test")))
                json_object_set_new(
                        s, "Health",
                        json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log"));
        return 0;
}

int record_set_running(const char *id, pid_t pid, pid_t monitor_pid) {
        Running x = {pid, monitor_pid};
        return record_update(id, apply_running, &x);
}

typedef struct Exited {
        int code;
        const char *error;
} Exited;

static int apply_exited(json_t *rec, void *userdata) {
        Exited *x = userdata;
        json_t *s = state_of(rec);

        json_object_set_new(s, "Status", json_string("exited"));
        json_object_set_new(s, "Running", json_false());
        json_object_set_new(s, "Paused", json_false());
        /* MonitorPid stays: waiters watch that process until it has finished cleaning up. */
        json_object_set_new(s, "Pid", json_integer(0));
        json_object_set_new(s, "ExitCode", json_integer(x->code));
        json_object_set_new(s, "Error", json_string(x->error ?: ""));
        set_now(s, "FinishedAt");
        return 0;
}

int record_set_exited(const char *id, int exit_code, const char *error) {
        Exited x = {exit_code, error};
        return record_update(id, apply_exited, &x);
}

static int apply_status(json_t *rec, void *userdata) {
        json_t *s = state_of(rec);
        const char *st = userdata;
        json_object_set_new(s, "Status", json_string(st));
        json_object_set_new(s, "Paused", json_boolean(streq(st, "paused")));
        json_object_set_new(s, "Running", json_boolean(streq(st, "running") || streq(st, "paused")));
        return 0;
}

int record_set_status(const char *id, const char *status) {
        return record_update(id, apply_status, (void *) status);
}

static json_t *get_path(json_t *rec, const char *path) {
        char buf[256];
        json_t *j = rec;
        snprintf(buf, sizeof buf, "%s", path);
        char *save = NULL;
        for (char *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
                j = json_object_get(j, k);
        return j;
}

const char *record_get_string(json_t *rec, const char *path) {
        return json_string_value(get_path(rec, path));
}

json_int_t record_get_int(json_t *rec, const char *path) {
        return json_integer_value(get_path(rec, path));
}

/* Remove what is left in $ROOT/tmp/rm-* (the trash of removed containers) in a child of its own, which the
 * caller does not wait for. */
static void trash_empty_async(void) {
        /* One fork, not reaped: every caller exits soon after (the CLI, the monitor at its end, prune after
         * its last removal), and its orphan goes to whoever reaps orphans. Without our fds (a lock, a
         * caller's pipe). */
        if (fork() != 0)
                return;
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3; fd++)
                (void) dup2(null, fd);
        (void) syscall(SYS_close_range, 3U, ~0U, 0U);
        _cleanup_free_ char *tmp = berth_path("tmp");
        _cleanup_closedir_ DIR *d = tmp ? opendir(tmp) : NULL;
        for (struct dirent *de; d && (de = readdir(d));)
                if (startswith(de->d_name, "rm-"))
                        (void) rm_rf_at(dirfd(d), de->d_name);
        _exit(0);
}

int record_remove(const char *id) {
        _cleanup_free_ char *dir = container_path(id, NULL);
        _cleanup_free_ char *rundir = container_run_path(id, NULL);
        _cleanup_free_ char *trash = NULL;
        json_t *rec = NULL;
        int r;

        if (!dir || !rundir)
                return -ENOMEM;
        if (container_load(id, &rec, NULL) >= 0) {
                (void) record_name_release(record_get_string(rec, "Name"), id);
                json_decref(rec);
        }
        /* and a name a rename left behind when it was killed (rename.c) */
        (void) record_names_release_all(id);
        r = rm_rf(rundir);
        if (r < 0 && r != -ENOENT)
                return r;
        /* The container disappears at once and whole (one rename into $ROOT/tmp, on the same file system);
         * the files go in the background. A crash leaves a trash directory, emptied by the next removal. */
        _cleanup_free_ char *tmp = berth_path("tmp");
        if (tmp && asprintf(&trash, "%s/rm-%s", tmp, id) >= 0 && rename(dir, trash) >= 0) {
                trash_empty_async();
                return 0;
        }
        if (errno == ENOENT)
                return 0;
        r = rm_rf(dir);
        if (r < 0 && r != -ENOENT)
                return r;
        return 0;
}

static int apply_stop_requested(json_t *rec, void *userdata) {
        json_object_set_new(state_of(rec), "StopRequested", json_boolean(userdata != NULL));
        return 0;
}

int record_set_stop_requested(const char *id, bool b) {
        return record_update(id, apply_stop_requested, b ? (void *) 1 : NULL);
}

void phase(const char *what) {
        static usec_t t0 = 0;
        usec_t now = now_usec(CLOCK_MONOTONIC);
        if (t0 == 0)
                t0 = now;
        if (log_get_max_level() >= LOG_DEBUG)
                log_debug("%7.1f ms  %s", (double) (now - t0) / USEC_PER_MSEC, what);
}
