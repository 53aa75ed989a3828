/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-run volume create|ls|rm|inspect|prune: named volumes in $ROOT/volumes/<name>/{_data,volume.json}. */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "container.h"
#include "create.h"
#include "fileio.h"
#include "imagevol.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "main-func.h"
#include "paths.h"
#include "table.h"
#include "util.h"

/* Names of volumes used by any container record. */
static int volumes_in_use(char ***ret) {
        _cleanup_strv_free_ char **ids = NULL, **used = NULL;
        int r = container_list(&ids);
        if (r < 0)
                return r;
        for (size_t i = 0; ids[i]; i++) {
                json_t *rec = NULL, *m;
                size_t k;
                if (container_load(ids[i], &rec, NULL) < 0)
                        continue;
                json_array_foreach (json_object_get(rec, "Mounts"), k, m) {
                        const char *n = json_string_value(json_object_get(m, "Name"));
                        if (!isempty(n) && !strv_contains(used, n) && strv_extend(&used, n) < 0) {
                                json_decref(rec);
                                return -ENOMEM;
                        }
                }
                json_decref(rec);
        }
        *ret = TAKE_PTR(used);
        return 0;
}

int volume_create_anonymous(char ret_name[static 65], char **ret_path) {
        _cleanup_free_ char *dir = NULL, *data = NULL, *meta = NULL;
        char name[65], ts[64];
        int r;

        for (unsigned tries = 0;; tries++) {
                r = random_id(name);
                if (r < 0)
                        return r;
                free(dir);
                dir = berth_path("volumes", name);
                if (!dir)
                        return -ENOMEM;
                if (mkdir(dir, 0755) >= 0)
                        break;
                if (errno != EEXIST || tries > 8)
                        return -errno;
        }
        data = berth_path("volumes", name, "_data");
        meta = berth_path("volumes", name, "volume.json");
        if (!data || !meta)
                return -ENOMEM;
        if (mkdir(data, 0755) < 0) {
                r = -errno;
                (void) rm_rf(dir);
                return r;
        }
        (void) format_rfc3339(now_usec(CLOCK_REALTIME), ts, sizeof ts);
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:{}, s:b}", "Name", name, "Driver", "local",
                              "Mountpoint", data, "CreatedAt", ts, "Labels", "Anonymous", 1);
        r = j ? json_write_file_atomic(meta, j) : -ENOMEM;
        json_decref(j);
        if (r < 0) {
                (void) rm_rf(dir);
                return r;
        }
        memcpy(ret_name, name, sizeof name);
        *ret_path = TAKE_PTR(data);
        return 0;
}

int mounts_anonymous_volumes(json_t *mounts, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;
        size_t i;
        json_t *m;
        json_array_foreach (mounts, i, m) {
                const char *n = json_string_value(json_object_get(m, "Name"));
                if (json_is_true(json_object_get(m, "Anonymous")) && name_is_valid(n, 128) &&
                    strv_extend(&names, n) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

int volumes_remove_unused(char **names) {
        _cleanup_strv_free_ char **used = NULL;
        int kept = 0;
        if (!names)
                return 0;
        int r = volumes_in_use(&used);
        if (r < 0)
                return r;
        for (size_t i = 0; names[i]; i++) {
                _cleanup_free_ char *dir = berth_path("volumes", names[i]);
                if (!dir)
                        return -ENOMEM;
                if (strv_contains(used, names[i])) {
                        log_warning("Volume '%s' is used by another container, not removing it", names[i]);
                        kept++;
                } else if (rm_rf(dir) < 0)
                        kept++;
        }
        return kept;
}

static int volume_list(char ***ret) {
        _cleanup_free_ char *dir = berth_path("volumes");
        _cleanup_strv_free_ char **names = NULL;
        if (!dir)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d)))
                        if (name_is_valid(de->d_name, 128) && strv_extend(&names, de->d_name) < 0)
                                return -ENOMEM;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

static json_t *volume_load(const char *name) {
        _cleanup_free_ char *p = berth_path("volumes", name, "volume.json");
        json_t *j = NULL;
        if (!p || json_read_file(p, 1024 * 1024, &j, NULL) < 0)
                return NULL;
        return j;
}

static int volume_remove(const char *name, char **used, bool force) {
        _cleanup_free_ char *dir = berth_path("volumes", name);
        if (!dir)
                return log_oom();
        if (!name_is_valid(name, 128) || access(dir, F_OK) < 0)
                return log_error_errno(-ENOENT, "No such volume '%s'", name);
        if (strv_contains(used, name) && !force)
                return log_error_errno(-EBUSY, "Volume '%s' is used by a container", name);
        int r = rm_rf(dir);
        if (r < 0)
                return log_error_errno(r, "Cannot remove volume '%s': %m", name);
        return 0;
}

int verb_volume(int argc, char *argv[], void *userdata) {
        static const struct option options[] = {CLI_COMMON_OPTIONS,
                                                {"force", no_argument, NULL, 'f'},
                                                {"quiet", no_argument, NULL, 'q'},
                                                {}};
        _cleanup_strv_free_ char **used = NULL, **names = NULL;
        bool force = false, quiet = false;
        int c, r, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hfq", options, NULL)) >= 0) {
                if (c == 'h') {
                        printf("Usage: berth-run volume create NAME | ls [-q] | rm [-f] NAME... | inspect "
                               "NAME... | prune\n\n"
                               "See berth-run(1).\n");
                        return 0;
                } else if (c == 'f')
                        force = true;
                else if (c == 'q')
                        quiet = true;
                else {
                        r = cli_parse_common(c, optarg, argv);
                        if (r <= 0)
                                return r < 0 ? r : cli_usage_error("Unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error("Missing volume verb: create, ls, rm, inspect or prune");
        const char *verb = argv[optind++];
        r = berth_ensure_dirs();
        if (r < 0)
                return log_error_errno(r, "Cannot create the state directories: %m");

        if (streq(verb, "create")) {
                if (argc - optind != 1 || !name_is_valid(argv[optind], 128))
                        return cli_usage_error("Expected one valid volume NAME");
                _cleanup_free_ char *p = NULL;
                r = volume_ensure(argv[optind], &p);
                if (r < 0)
                        return log_error_errno(r, "Cannot create volume '%s': %m", argv[optind]);
                puts(argv[optind]);
                return 0;
        }
        if (streq(verb, "ls") || streq(verb, "list")) {
                r = volume_list(&names);
                if (r < 0)
                        return log_oom();
                json_t *arr = json_array();
                for (size_t i = 0; names && names[i]; i++) {
                        json_t *v = volume_load(names[i]);
                        if (v)
                                json_array_append_new(arr, v);
                }
                if (quiet)
                        for (size_t i = 0; names && names[i]; i++)
                                puts(names[i]);
                else if (arg_output == OUTPUT_JSON)
                        json_print(arr, stdout);
                else if (arg_output == OUTPUT_TEMPLATE)
                        template_render_all(arg_template, arr, stdout);
                else {
                        _cleanup_(table_freep) Table *t =
                                table_new(2, (const char *const[]){"DRIVER", "VOLUME NAME"});
                        for (size_t i = 0; names && names[i]; i++)
                                table_add_row(t, (const char *const[]){"local", names[i]});
                        table_print(t, stdout);
                }
                json_decref(arr);
                return 0;
        }
        if (streq(verb, "inspect")) {
                json_t *arr = json_array();
                for (int i = optind; i < argc; i++) {
                        json_t *v = volume_load(argv[i]);
                        if (!v)
                                ret = log_error_errno(-ENOENT, "No such volume '%s'", argv[i]);
                        else
                                json_array_append_new(arr, v);
                }
                json_print(arr, stdout);
                json_decref(arr);
                return ret;
        }
        r = volumes_in_use(&used);
        if (r < 0)
                return log_error_errno(r, "Cannot read the container records: %m");
        if (streq(verb, "rm") || streq(verb, "remove")) {
                if (optind >= argc)
                        return cli_usage_error("Missing volume NAME");
                for (int i = optind; i < argc; i++) {
                        r = volume_remove(argv[i], used, force);
                        if (r < 0)
                                ret = r;
                        else
                                puts(argv[i]);
                }
                return ret;
        }
        if (streq(verb, "prune")) {
                r = volume_list(&names);
                if (r < 0)
                        return log_oom();
                for (size_t i = 0; names && names[i]; i++)
                        if (!strv_contains(used, names[i]) && volume_remove(names[i], used, false) >= 0)
                                puts(names[i]);
                return 0;
        }
        return cli_usage_error("Unknown volume verb '%s'", verb);
}
