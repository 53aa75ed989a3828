/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rename CONTAINER NEWNAME: docker's and podman's verb, for created, exited and running containers.
 *
 * The name belongs to whoever made $ROOT/names/NAME -> ID (create, --replace, rename all take it with
 * symlink(), EEXIST meaning in use), and the record's Name says which of a container's links is its name.
 * Under the record's lock (which start, rm and other renames of the container take too):
 *   1. symlink(names/NEW -> ID): takes the name, or finds it in use;
 *   2. the record says Name NEW (an atomic rename of container.json);
 *   3. every other link to ID goes (the old name), only those that point to this ID.
 * A crash after 1 leaves the container under both names, the record saying the old one; after 2 the same,
 * the record saying the new one: reachable either way, and each link names one ID, so no name ever has two
 * containers. The leftover link is ours: the next rename of the container removes it (step 3, or adopts it
 * when it is the name asked for), and so does the container's removal (record_remove() drops every link to
 * its ID); lookups by it still find the container until then, berth-ps lists the record's Name only.
 *
 * A running container keeps its scope (a unit cannot be renamed; podman keeps its cgroup too): its record's
 * Unit stays berth-OLD.scope while its init or its monitor lives (restarts of a --restart policy included),
 * so stop, kill, exec, top and stats, which go by the record's pid and Unit, find it. The next start takes
 * berth-NEW.scope (container_unit_follow_name()). What else carries the old name until then: the monitor's
 * journal fields (CONTAINER_NAME, SYSLOG_IDENTIFIER; logs reads by CONTAINER_ID_FULL), the health check's
 * timer (it runs `healthcheck ID`, and the monitor stops it by the name it started it with), the names
 * berth-net answers in DNS (given at attach, which has no update). The hostname stays (docker's rule). */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "durable.h"
#include "fileio.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "main-func.h"
#include "monitor.h"
#include "paths.h"
#include "record.h"
#include "rename.h"
#include "util.h"

static bool container_alive(json_t *rec) {
        return record_init_alive(rec) || record_monitor_alive(rec);
}

/* config.json's cgroupsPath ends in <unit>/container, for the unit of create's name; the runtime uses it
 * as it is when the start cannot predict the scope's path (no manager): point it at unit. */
static int config_cgroups_path_follow(const char *id, const char *unit) {
        _cleanup_free_ char *p = container_path(id, "config.json"), *np = NULL;
        json_auto_t *cfg = NULL;
        json_t *lx;
        int r;

        if (!p)
                return -ENOMEM;
        r = json_read_file(p, 64 * 1024 * 1024, &cfg, NULL);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        lx = json_object_get(cfg, "linux");
        const char *cg = json_string_value(json_object_get(lx, "cgroupsPath"));
        if (!cg || !endswith(cg, ".scope/container"))
                return 0; /* inside a service: <service>/container, not ours to change */
        size_t start = strlen(cg) - strlen("/container");
        while (start > 0 && cg[start - 1] != '/')
                start--;
        if (!startswith(cg + start, "berth-"))
                return 0;
        if (asprintf(&np, "%.*s%s/container", (int) start, cg, unit) < 0)
                return -ENOMEM;
        if (streq(np, cg))
                return 0;
        if (json_object_set_new(lx, "cgroupsPath", json_string(np)) < 0)
                return -ENOMEM;
        return json_write_file_atomic(p, cfg);
}

/* Unit := berth-<Name>.scope, when nothing runs in the old one. Caller holds the lock. */
static int unit_follow(const char *id, json_t *rec, bool *changed) {
        _cleanup_free_ char *unit = NULL;
        const char *name = record_get_string(rec, "Name");
        int r;

        *changed = false;
        if (!name || asprintf(&unit, "berth-%s.scope", name) < 0)
                return -ENOMEM;
        if (streq_ptr(record_get_string(rec, "Unit"), unit) || container_alive(rec))
                return 0;
        /* config.json first: a crash before the record follows leaves a Unit that still differs, and the
         * next start does both again */
        r = config_cgroups_path_follow(id, unit);
        if (r < 0)
                return r;
        *changed = true;
        return json_object_set_new(rec, "Unit", json_string(unit));
}

int container_unit_follow_name(const char *id) {
        _cleanup_free_ char *unit = NULL;
        _cleanup_close_ int lock = -EBADF;
        json_auto_t *rec = NULL;
        bool changed;
        int r;

        r = container_load(id, &rec, NULL);
        if (r < 0)
                return r;
        const char *name = record_get_string(rec, "Name");
        if (!name || asprintf(&unit, "berth-%s.scope", name) < 0)
                return -ENOMEM;
        if (streq_ptr(record_get_string(rec, "Unit"), unit) || container_alive(rec))
                return 0; /* the usual case: no lock */
        r = record_lock(id, &lock);
        if (r < 0)
                return r;
        json_decref(TAKE_PTR(rec));
        r = container_load(id, &rec, NULL);
        if (r >= 0)
                r = unit_follow(id, rec, &changed);
        if (r >= 0 && changed)
                r = record_save(id, rec);
        return r;
}

/* NEW -> id exists: in use, unless it is a link of ours a killed rename left (we hold the lock: no rename
 * of this container is under way). */
static bool name_is_ours(const char *name, const char *id) {
        _cleanup_free_ char *p = berth_path("names", name);
        char target[PATH_MAX];
        ssize_t n = p ? readlink(p, target, sizeof target - 1) : -1;
        if (n < 0)
                return false;
        target[n] = 0;
        return streq(target, id);
}

static bool spec_still_names(const char *spec, const char *id) {
        _cleanup_free_ char *now = NULL;
        return container_resolve(spec, &now) >= 0 && streq(now, id);
}

static int rename_container(const char *spec, const char *new_name) {
        _cleanup_free_ char *id = NULL, *why = NULL, *old = NULL;
        _cleanup_close_ int lock = -EBADF;
        json_auto_t *rec = NULL;
        bool taken = false, changed;
        int r;

        r = lookup_container(spec, &id, NULL);
        if (r < 0)
                return r;
        r = record_lock(id, &lock);
        if (r >= 0)
                r = container_load(id, &rec, &why);
        if (r >= 0 && !spec_still_names(spec, id)) /* renamed meanwhile */
                r = -ENOENT;
        if (r == -ENOENT) /* removed or renamed meanwhile */
                return log_error_errno(r, "No such container '%s'", spec);
        if (r < 0)
                return log_error_errno(r, "Cannot load container '%s': %s", spec, why ?: strerror(-r));
        old = strdup(record_get_string(rec, "Name") ?: "");
        if (!old)
                return log_oom();
        if (streq(old, new_name))
                return log_error_errno(-EEXIST, "Container '%s' is named '%s' already", spec, new_name);

        r = record_name_reserve(new_name, id);
        if (r == -EEXIST && !name_is_ours(new_name, id))
                return log_error_errno(r, "The name '%s' is already in use", new_name);
        if (r < 0 && r != -EEXIST)
                return log_error_errno(r, "Cannot reserve the name '%s': %m", new_name);
        taken = r >= 0;

        r = json_object_set_new(rec, "Name", json_string(new_name));
        if (r >= 0)
                r = unit_follow(id, rec, &changed);
        if (r >= 0)
                r = record_save(id, rec);
        if (r < 0) {
                if (taken)
                        (void) record_name_release(new_name, id);
                return log_error_errno(r, "Cannot rename container '%s': %m", spec);
        }
        r = record_names_release_others(id, new_name);
        if (r < 0)
                log_warning_errno(r, "Cannot remove the old name '%s', ignoring: %m", old);
        _cleanup_free_ char *names = berth_path("names");
        if (names)
                (void) durable_sync_dir(names);
        log_debug("Renamed container %.12s from '%s' to '%s'", id, old, new_name);
        return 0;
}

int verb_rename(int argc, char *argv[], void *userdata) {
        int r = verb_parse_options(argc, argv,
                                   "Usage: berth-run rename CONTAINER NEWNAME\n\n"
                                   "Give a container a new name; running containers too.\n\n"
                                   "See berth-run(1).\n",
                                   NULL, NULL, NULL);
        if (r <= 0)
                return r == BERTH_EXIT_USAGE ? EXIT_BERTH_FAILED : r;
        if (argc - optind != 2)
                return log_error_errno(-EINVAL, "rename takes CONTAINER and NEWNAME"), EXIT_BERTH_FAILED;
        const char *new_name = argv[optind + 1];
        if (!container_name_is_valid(new_name))
                return log_error_errno(-EINVAL, "Invalid container name '%s': " CONTAINER_NAME_RULE,
                                       new_name),
                       EXIT_BERTH_FAILED;
        r = rename_container(argv[optind], new_name);
        return r < 0 ? EXIT_BERTH_FAILED : 0;
}
