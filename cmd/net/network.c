/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "link.h"
#include "lock.h"
#include "log.h"
#include "network.h"
#include "paths.h"
#include "state.h"
#include "util.h"

static const char *const reserved_names[] = {"none",    "host",    "bridge", "container",
                                             "private", "default", NULL};

int network_name_check(const char *name, const char **ret_why) {
        if (!name_is_valid(name, NETWORK_NAME_MAX)) {
                *ret_why = "a name is 1-64 characters [A-Za-z0-9_.-] and starts with a letter or digit";
                return -EINVAL;
        }
        if (strv_contains((char **) reserved_names, name)) {
                *ret_why = "the name is reserved";
                return -EINVAL;
        }
        return 0;
}

bool ifname_is_valid(const char *s) {
        /* IFNAMSIZ is 16 with the NUL; '/' ':' and whitespace are refused by the kernel. */
        return name_is_valid(s, 15) && !streq(s, ".") && !streq(s, "..");
}

int networks_lock(int operation, int *ret_fd) {
        _cleanup_free_ char *p = berth_path("networks", ".lock");
        _cleanup_free_ char *d = berth_path("networks");
        int r;
        if (!p || !d)
                return -ENOMEM;
        r = mkdir_p(d, 0755);
        if (r < 0)
                return r;
        return lock_path(p, operation, ret_fd);
}

char *network_path(const char *name) {
        _cleanup_free_ char *f = NULL;
        if (asprintf(&f, "%s.conflist", name) < 0)
                return NULL;
        return berth_path("networks", f);
}

json_t *network_meta(json_t *conflist) {
        json_t *m = json_object_get(json_object_get(conflist, "args"), "berth");
        return json_is_object(m) ? m : NULL;
}

static int network_read(const char *name, json_t **ret) {
        _cleanup_free_ char *p = network_path(name);
        _cleanup_free_ char *err = NULL;
        json_t *j = NULL;
        int r;
        if (!p)
                return -ENOMEM;
        r = json_read_file(p, READ_MAX_DEFAULT, &j, &err);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return log_error_errno(r, "Network '%s' is not readable (%s): %s", name, p,
                                       err ?: strerror(-r));
        if (!json_is_object(j) || !json_is_array(json_object_get(j, "plugins")) ||
            !streq_ptr(json_string_value(json_object_get(j, "name")), name)) {
                json_decref(j);
                return log_error_errno(-EBADMSG, "Network '%s' (%s) is not a valid CNI conflist", name, p);
        }
        *ret = j;
        return 0;
}

int network_load(const char *name, json_t **ret) {
        int r = network_read(name, ret);
        if (r == -ENOENT && streq(name, NETWORK_DEFAULT)) {
                r = network_ensure_default();
                if (r < 0)
                        return r;
                r = network_read(name, ret);
        }
        return r;
}

static int cmp_json_name(const void *a, const void *b) {
        json_t *x = *(json_t *const *) a, *y = *(json_t *const *) b;
        return strcmp(json_string_value(json_object_get(x, "name")) ?: "",
                      json_string_value(json_object_get(y, "name")) ?: "");
}

int network_read_all(json_t **ret) {
        _cleanup_free_ char *d = berth_path("networks");
        json_auto_t *arr = json_array();
        if (!d || !arr)
                return -ENOMEM;
        _cleanup_closedir_ DIR *dir = opendir(d);
        if (!dir && errno != ENOENT)
                return log_error_errno(-errno, "Cannot read '%s': %m", d);
        struct dirent *de;
        while (dir && (de = readdir(dir))) {
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".conflist"))
                        continue;
                _cleanup_free_ char *name = strndup(de->d_name, strlen(de->d_name) - strlen(".conflist"));
                json_t *j = NULL;
                if (!name)
                        return -ENOMEM;
                if (!name_is_valid(name, NETWORK_NAME_MAX))
                        continue;
                int r = network_read(name, &j);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                json_array_append_new(arr, j);
        }
        size_t n = json_array_size(arr);
        json_t **v = calloc(n ?: 1, sizeof(json_t *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(arr, i));
        qsort(v, n, sizeof(json_t *), cmp_json_name);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, v[i]);
        free(v);
        *ret = json_incref(arr);
        return 0;
}

int network_load_all(json_t **ret) {
        int r = network_ensure_default();
        if (r < 0)
                return r;
        return network_read_all(ret);
}

int network_remove(const char *name) {
        _cleanup_close_ int lock = -EBADF;
        _cleanup_strv_free_ char **users = NULL;
        json_auto_t *net = NULL;
        _cleanup_free_ char *path = network_path(name), *ipam = berth_run_path("net", "ipam", name);
        int r;

        if (!path || !ipam)
                return log_oom();
        if (streq(name, NETWORK_DEFAULT))
                return log_error_errno(-EPERM, "The default network '%s' cannot be removed", name);
        r = networks_lock(LOCK_EX, &lock);
        if (r < 0)
                return log_error_errno(r, "Cannot lock the networks: %m");
        r = network_read(name, &net);
        if (r == -ENOENT)
                return log_error_errno(r, "Network '%s' does not exist", name);
        if (r < 0)
                return r;
        r = state_network_users(name, &users);
        if (r < 0)
                return log_error_errno(r, "Cannot read the attachments of network '%s': %m", name);
        if (users && users[0])
                return log_error_errno(-EBUSY, "Network '%s' is in use by container %.12s%s", name, users[0],
                                       users[1] ? " and others" : "");
        if (unlink(path) < 0)
                return log_error_errno(-errno, "Cannot remove '%s': %m", path);
        (void) fsync_parent_dir(path);
        (void) rm_rf(ipam);

        json_t *meta = network_meta(net);
        const char *ifn = json_string_value(json_object_get(meta, "network_interface"));
        if (streq_ptr(json_string_value(json_object_get(meta, "driver")), "bridge") && ifn &&
            link_exists(ifn)) {
                r = link_delete(ifn);
                if (r < 0)
                        log_warning_errno(r, "Cannot delete bridge '%s' of network '%s', ignoring: %m", ifn,
                                          name);
        }
        return 0;
}

json_t *network_inspect_json(json_t *conflist) {
        json_t *meta = network_meta(conflist);
        json_t *o = meta ? json_deep_copy(meta) : json_object();
        if (!o)
                return NULL;
        json_object_set(o, "name", json_object_get(conflist, "name"));
        return o;
}
