/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps info: the sections about the stores and the programs berth runs (runtime, CNI plugins) and what
 * berth-pull reads (registries.conf). Each reads what its owner writes, the way the owner finds it. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>

#include "../net/cni.h"
#include "command.h"
#include "containers.h"
#include "fileio.h"
#include "info.h"
#include "log.h"
#include "macro.h"
#include "oci.h"
#include "paths.h"
#include "status.h"

/* Entries of $ROOT/<dir> that match: -errno if the directory cannot be read (missing is 0). */
static int count_entries(const char *dir, bool (*match)(const struct dirent *de)) {
        _cleanup_free_ char *p = berth_path(dir);
        if (!p)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(p);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                n += de->d_name[0] != '.' && match(de);
        return n;
}

static bool is_dir(const struct dirent *de) {
        return de->d_type == DT_DIR;
}

/* a layer's own directory (<chain-id hex>), not a --uidmap copy (<hex>-<tag>) nor l/ or .tmp-* */
static bool is_layer(const struct dirent *de) {
        size_t n = strlen(de->d_name);
        return de->d_type == DT_DIR && n == 64 && strspn(de->d_name, "0123456789abcdef") == n;
}

static bool is_conflist(const struct dirent *de) {
        return endswith(de->d_name, ".conflist");
}

static int put_count(Info *info, json_t *s, const char *path, const char *key, int n, const char *dir) {
        if (n >= 0)
                return json_object_set_new(s, key, json_integer(n));
        return info_unknown(info, s, path, key, "cannot read %s/%s: %s", berth_root(), dir, strerror(-n));
}

int info_store(Info *info) {
        json_t *s = info_section(info, "store");
        json_auto_t *index = NULL, *ids = json_object();
        json_t *e;
        size_t i;
        int r, names = 0;

        if (!s || !ids)
                return -ENOMEM;
        r = oci_index_load(&index);
        if (r < 0) {
                if (info_unknown(info, s, "store", "images", "cannot read %s/oci/index.json: %s",
                                 berth_root(), strerror(-r)) < 0)
                        return -ENOMEM;
        } else {
                json_array_foreach (json_object_get(index, "manifests"), i, e) {
                        json_t *a = json_object_get(e, "annotations");
                        const char *id = json_string_value(json_object_get(a, "io.berth.image.id"));
                        names += json_object_get(a, OCI_REF_NAME_ANNOTATION) != NULL;
                        if (id && json_object_set_new(ids, id, json_true()) < 0)
                                return -ENOMEM;
                }
                json_object_set_new(s, "images", json_integer((json_int_t) json_object_size(ids)));
                json_object_set_new(s, "imageNames", json_integer(names));
        }

        /* podman's containerStore: the status as berth-ps reports it, not as the record says */
        _cleanup_(container_list_done) ContainerList cl = {};
        ReconcileContext ctx;
        reconcile_context_init(&ctx);
        r = containers_load_all(&ctx, &cl);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (info_unknown(info, s, "store", "containers", "cannot read %s/containers: %s",
                                 berth_root(), strerror(-r)) < 0)
                        return -ENOMEM;
        } else {
                int running = 0, paused = 0;
                for (i = 0; i < cl.n; i++) {
                        running += cl.items[i].st.status == STATUS_RUNNING ||
                                   cl.items[i].st.status == STATUS_STOPPING;
                        paused += cl.items[i].st.status == STATUS_PAUSED;
                }
                json_t *c =
                        json_pack("{s:I, s:i, s:i, s:I}", "number", (json_int_t) cl.n, "running", running,
                                  "paused", paused, "stopped", (json_int_t) cl.n - running - paused);
                if (!c || json_object_set_new(s, "containers", c) < 0)
                        return -ENOMEM;
        }
        r = put_count(info, s, "store", "volumes", count_entries("volumes", is_dir), "volumes");
        if (r >= 0)
                r = put_count(info, s, "store", "layers", count_entries("layers", is_layer), "layers");
        return r;
}

int info_runtime(Info *info) {
        json_t *s = info_section(info, "runtime");
        _cleanup_free_ char *path = NULL, *version = NULL;
        /* berth-run's default; a container made with --runtime records its own in HostConfig.Runtime */
        const char *name = "runc";
        if (!s || json_object_set_new(s, "name", json_string(name)) < 0)
                return -ENOMEM;
        int r = find_executable(name, &path);
        if (r < 0)
                return info_unknown(info, s, "runtime", "path", "%s not found on $PATH", name) < 0 ||
                                       info_unknown(info, s, "runtime", "version", "%s not found", name) < 0
                               ? -ENOMEM
                               : 0;
        json_object_set_new(s, "path", json_string(path));
        char *argv[] = {path, (char *) "--version", NULL};
        r = command_first_line(argv, &version);
        if (r < 0)
                return info_unknown(info, s, "runtime", "version", "%s --version: %s", path,
                                    r == -EIO ? "failed" : strerror(-r));
        return json_object_set_new(s, "version", json_string(version));
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int info_network(Info *info) {
        json_t *s = info_section(info, "network");
        _cleanup_strv_free_ char **plugins = NULL;
        json_t *dirs = json_array();
        /* berth-net's search path: $CNI_PATH, else its default */
        const char *cni_path = getenv("CNI_PATH") ?: CNI_PATH_DEFAULT;
        _cleanup_free_ char *copy = strdup(cni_path), *networks = berth_path("networks");
        if (!s || !dirs || !copy || !networks ||
            json_object_set_new(s, "cniPath", json_string(cni_path)) < 0 ||
            json_object_set_new(s, "pluginDirs", dirs) < 0)
                return -ENOMEM;
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_closedir_ DIR *dir = opendir(d);
                if (!dir)
                        continue;
                json_array_append_new(dirs, json_string(d));
                struct dirent *de;
                while ((de = readdir(dir))) {
                        if (de->d_name[0] == '.' || faccessat(dirfd(dir), de->d_name, X_OK, 0) < 0 ||
                            strv_contains(plugins, de->d_name))
                                continue;
                        if (strv_extend(&plugins, de->d_name) < 0)
                                return -ENOMEM;
                }
        }
        if (plugins)
                qsort(plugins, strv_length(plugins), sizeof(char *), cmp_str);
        json_t *list = json_array();
        if (!list || json_object_set_new(s, "plugins", list) < 0)
                return -ENOMEM;
        for (size_t i = 0; plugins && plugins[i]; i++)
                if (json_array_append_new(list, json_string(plugins[i])) < 0)
                        return -ENOMEM;
        if (json_object_set_new(s, "networksDir", json_string(networks)) < 0)
                return -ENOMEM;
        return put_count(info, s, "network", "networks", count_entries("networks", is_conflist), "networks");
}
