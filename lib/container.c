/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>

#include "container.h"
#include "fileio.h"
#include "macro.h"
#include "paths.h"

bool container_id_is_valid(const char *id) {
        if (!id || strlen(id) != 64)
                return false;
        for (; *id; id++)
                if (!((*id >= '0' && *id <= '9') || (*id >= 'a' && *id <= 'f')))
                        return false;
        return true;
}

char *container_path(const char *id, const char *file) {
        return file ? berth_path("containers", id, file) : berth_path("containers", id);
}

char *container_run_path(const char *id, const char *file) {
        return file ? berth_run_path("containers", id, file) : berth_run_path("containers", id);
}

int container_list(char ***ret_ids) {
        _cleanup_free_ char *dir = berth_path("containers");
        _cleanup_strv_free_ char **ids = NULL;
        int r;

        if (!dir)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
        } else {
                struct dirent *de;
                while ((de = readdir(d)))
                        if (container_id_is_valid(de->d_name)) {
                                r = strv_extend(&ids, de->d_name);
                                if (r < 0)
                                        return r;
                        }
        }
        if (!ids && !(ids = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret_ids = TAKE_PTR(ids);
        return 0;
}

int container_resolve(const char *name_or_id, char **ret_id) {
        char target[PATH_MAX];
        int r;

        if (isempty(name_or_id))
                return -ENOENT;
        if (name_is_valid(name_or_id, 128)) {
                _cleanup_free_ char *link = berth_path("names", name_or_id);
                if (!link)
                        return -ENOMEM;
                ssize_t n = readlink(link, target, sizeof target - 1);
                if (n > 0) {
                        target[n] = 0;
                        if (container_id_is_valid(target)) {
                                *ret_id = strdup(target);
                                return *ret_id ? 0 : -ENOMEM;
                        }
                }
        }
        size_t len = strlen(name_or_id);
        if (len > 64)
                return -ENOENT;
        for (const char *p = name_or_id; *p; p++)
                if (!isxdigit((unsigned char) *p) || isupper((unsigned char) *p))
                        return -ENOENT;

        _cleanup_strv_free_ char **ids = NULL;
        r = container_list(&ids);
        if (r < 0)
                return r;
        const char *found = NULL;
        for (size_t i = 0; ids[i]; i++)
                if (strneq(ids[i], name_or_id, len)) {
                        if (found)
                                return -EADDRNOTAVAIL;
                        found = ids[i];
                }
        if (!found)
                return -ENOENT;
        *ret_id = strdup(found);
        return *ret_id ? 0 : -ENOMEM;
}

int container_load(const char *id, json_t **ret, char **ret_error) {
        _cleanup_free_ char *p = container_path(id, "container.json");
        json_t *j = NULL;
        int r;

        if (!p)
                return -ENOMEM;
        r = json_read_file(p, CONTAINER_RECORD_MAX, &j, ret_error);
        if (r < 0)
                return r;
        if (!json_is_object(j) || !json_is_string(json_object_get(j, "Id"))) {
                json_decref(j);
                if (ret_error)
                        *ret_error = strdup("record is not an object with an Id");
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}
