/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <sys/stat.h>

#include "fileio.h"
#include "lock.h"
#include "log.h"
#include "paths.h"
#include "state.h"

bool net_id_is_valid(const char *id) {
        /* berth's IDs are 64 hex digits; anything usable as CNI_CONTAINERID and as a file name is accepted
         * so that other tools' IDs work too */
        return name_is_valid(id, 128);
}

static char *state_file(const char *id, const char *suffix) {
        _cleanup_free_ char *f = NULL;
        if (asprintf(&f, "%s%s", id, suffix) < 0)
                return NULL;
        return berth_run_path("net", "containers", f);
}

int state_lock(const char *id, int *ret_fd) {
        _cleanup_free_ char *d = berth_run_path("net", "containers"), *p = state_file(id, ".lock");
        int r;
        if (!d || !p)
                return -ENOMEM;
        r = mkdir_p(d, 0700);
        if (r < 0)
                return r;
        for (;;) {
                struct stat a, b;
                int fd;
                r = lock_path(p, LOCK_EX, &fd);
                if (r < 0)
                        return r;
                /* The holder before us may have removed the file (state_save() with nothing left): then our
                 * lock is on a dead inode and we must lock the new file instead. */
                if (fstat(fd, &a) == 0 && stat(p, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
                        *ret_fd = fd;
                        return 0;
                }
                safe_close(fd);
        }
}

int state_load(const char *id, json_t **ret) {
        _cleanup_free_ char *p = state_file(id, ".json"), *err = NULL;
        json_t *j = NULL;
        int r;
        if (!p)
                return -ENOMEM;
        r = json_read_file(p, READ_MAX_DEFAULT, &j, &err);
        if (r == -ENOENT) {
                j = json_pack("{s:s, s:{}}", "id", id, "networks");
                if (!j)
                        return -ENOMEM;
        } else if (r < 0)
                return log_error_errno(r, "Cannot read '%s': %s", p, err ?: strerror(-r));
        if (!json_is_object(json_object_get(j, "networks")))
                json_object_set_new(j, "networks", json_object());
        *ret = j;
        return 0;
}

int state_save(const char *id, json_t *st) {
        _cleanup_free_ char *p = state_file(id, ".json");
        if (!p)
                return -ENOMEM;
        if (json_object_size(json_object_get(st, "networks")) == 0) {
                if (unlink(p) < 0 && errno != ENOENT)
                        return -errno;
                _cleanup_free_ char *l = state_file(id, ".lock");
                /* the lock file goes too: we hold it, and a waiter re-reads an absent state as empty */
                if (l)
                        (void) unlink(l);
                return 0;
        }
        return json_write_file_atomic(p, st);
}

int state_list(char ***ret_ids) {
        _cleanup_free_ char *d = berth_run_path("net", "containers");
        _cleanup_strv_free_ char **ids = NULL;
        if (!d)
                return -ENOMEM;
        _cleanup_closedir_ DIR *dir = opendir(d);
        if (!dir) {
                if (errno != ENOENT)
                        return -errno;
                *ret_ids = NULL;
                return 0;
        }
        struct dirent *de;
        while ((de = readdir(dir))) {
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".json"))
                        continue;
                _cleanup_free_ char *id = strndup(de->d_name, strlen(de->d_name) - 5);
                if (!id)
                        return -ENOMEM;
                if (!net_id_is_valid(id))
                        continue;
                int r = strv_extend(&ids, id);
                if (r < 0)
                        return r;
        }
        *ret_ids = TAKE_PTR(ids);
        return 0;
}

int state_network_users(const char *network, char ***ret_ids) {
        _cleanup_strv_free_ char **ids = NULL, **users = NULL;
        int r = state_list(&ids);
        if (r < 0)
                return r;
        for (char **i = ids; i && *i; i++) {
                json_auto_t *st = NULL;
                if (state_load(*i, &st) < 0)
                        continue;
                if (json_object_get(json_object_get(st, "networks"), network)) {
                        r = strv_extend(&users, *i);
                        if (r < 0)
                                return r;
                }
        }
        *ret_ids = TAKE_PTR(users);
        return 0;
}
