/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* run/create flags (flags.h) into config.json; the ports -P publishes. */
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fileio.h"
#include "flags.h"
#include "macro.h"

json_t *flags_strv_json(char **v) {
        json_t *a = json_array();
        for (size_t i = 0; v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

json_t *flags_kv_object(char **v) {
        json_t *o = json_object();
        for (size_t i = 0; v && v[i]; i++) {
                const char *eq = strchr(v[i], '=');
                _cleanup_free_ char *k = eq ? strndup(v[i], (size_t) (eq - v[i])) : NULL;
                if (k)
                        json_object_set_new(o, k, json_string(eq + 1));
        }
        return o;
}

static json_t *object_child(json_t *parent, const char *key) {
        json_t *c = json_object_get(parent, key);
        if (!json_is_object(c)) {
                c = json_object();
                json_object_set_new(parent, key, c);
        }
        return c;
}

static int add_devices(const SpecInput *in, json_t *linux_, char **ret_why) {
        json_t *devs = json_array(), *rules = json_object_get(object_child(linux_, "resources"), "devices");
        json_object_set_new(linux_, "devices", devs);
        for (size_t i = 0; in->o->devices && in->o->devices[i]; i++) {
                _cleanup_free_ char *copy = strdup(in->o->devices[i]);
                struct stat st;
                if (!copy)
                        return -ENOMEM;
                /* HOST:CONTAINER:PERMS (flags.c); a host path with ':' is refused there */
                char *perms = strrchr(copy, ':');
                *perms++ = 0;
                char *ctr = strrchr(copy, ':');
                *ctr++ = 0;
                if (stat(copy, &st) < 0 || (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))) {
                        (void) asprintf(ret_why, "--device '%s': not a device", in->o->devices[i]);
                        return -EINVAL;
                }
                const char *type = S_ISCHR(st.st_mode) ? "c" : "b";
                json_array_append_new(devs, json_pack("{s:s, s:s, s:I, s:I, s:i, s:i, s:i}", "path", ctr,
                                                      "type", type, "major", (json_int_t) major(st.st_rdev),
                                                      "minor", (json_int_t) minor(st.st_rdev), "fileMode",
                                                      (int) (st.st_mode & 07777), "uid", 0, "gid", 0));
                json_array_append_new(rules, json_pack("{s:b, s:s, s:I, s:I, s:s}", "allow", 1, "type", type,
                                                       "major", (json_int_t) major(st.st_rdev), "minor",
                                                       (json_int_t) minor(st.st_rdev), "access", perms));
        }
        return 0;
}

static void set_shm_size(json_t *mounts, uint64_t size) {
        size_t i;
        json_t *m;
        json_array_foreach (mounts, i, m) {
                if (!streq_ptr(json_string_value(json_object_get(m, "destination")), "/dev/shm"))
                        continue;
                json_t *opts = json_object_get(m, "options"), *o;
                size_t k;
                char buf[64];
                snprintf(buf, sizeof buf, "size=%" PRIu64, size);
                json_array_foreach (opts, k, o)
                        if (startswith(json_string_value(o) ?: "", "size="))
                                json_array_set_new(opts, k, json_string(buf));
        }
}

static void set_or_remove(json_t *obj, const char *key, json_int_t v) {
        if (v != 0)
                json_object_set_new(obj, key, json_integer(v));
        else
                json_object_del(obj, key);
}

static void remove_if_empty(json_t *res, const char *key) {
        if (json_object_size(json_object_get(res, key)) == 0)
                json_object_del(res, key);
}

void spec_resources_limits(json_t *res, const RunOptions *o) {
        json_t *mem = object_child(res, "memory"), *cpu = object_child(res, "cpu"),
               *pids = object_child(res, "pids");

        set_or_remove(mem, "limit", (json_int_t) o->memory);
        set_or_remove(mem, "swap", o->memory_swap);
        set_or_remove(mem, "reservation", (json_int_t) o->memory_reservation);
        set_or_remove(cpu, "period", o->cpus_milli > 0 ? 100000 : 0);
        set_or_remove(cpu, "quota", (json_int_t) (o->cpus_milli * 100));
        set_or_remove(cpu, "shares", (json_int_t) o->cpu_shares);
        if (!isempty(o->cpuset_cpus))
                json_object_set_new(cpu, "cpus", json_string(o->cpuset_cpus));
        else
                json_object_del(cpu, "cpus");
        if (!isempty(o->cpuset_mems))
                json_object_set_new(cpu, "mems", json_string(o->cpuset_mems));
        else
                json_object_del(cpu, "mems");
        set_or_remove(pids, "limit", o->pids_limit > 0 ? o->pids_limit : 0);
        remove_if_empty(res, "memory");
        remove_if_empty(res, "cpu");
        remove_if_empty(res, "pids");
}

int spec_apply_flags(const SpecInput *in, json_t *spec, char **ret_why) {
        const RunOptions *o = in->o;
        json_t *process = json_object_get(spec, "process"), *linux_ = json_object_get(spec, "linux");
        int r;

        if (o->umask_set)
                json_object_set_new(object_child(process, "user"), "umask", json_integer(o->umask));
        if (o->oom_score_adj_set)
                json_object_set_new(process, "oomScoreAdj", json_integer(o->oom_score_adj));
        r = add_devices(in, linux_, ret_why);
        if (r < 0)
                return r;
        if (o->sysctls)
                json_object_set_new(linux_, "sysctl", flags_kv_object(o->sysctls));
        if (o->shm_size)
                set_shm_size(json_object_get(spec, "mounts"), o->shm_size);
        json_t *ann = object_child(spec, "annotations"), *extra = flags_kv_object(o->annotations);
        json_object_update(ann, extra);
        json_decref(extra);
        if (in->localtime_file)
                json_array_append_new(json_object_get(spec, "mounts"),
                                      json_pack("{s:s, s:s, s:s, s:[s, s, s, s, s]}", "destination",
                                                "/etc/localtime", "type", "bind", "source",
                                                in->localtime_file, "options", "rbind", "rprivate", "nosuid",
                                                "nodev", "ro"));
        if (in->limits_in_scope) /* the scope's MemoryLow, MemorySwapMax, AllowedCPUs, AllowedMemoryNodes */
                return 0;
        spec_resources_limits(object_child(linux_, "resources"), o);
        return 0;
}

/* "80" or "80/udp" as PORT/PROTO */
static char *port_norm(const char *p) {
        char *s = NULL;
        return asprintf(&s, "%s%s", p, strchr(p, '/') ? "" : "/tcp") < 0 ? NULL : s;
}

json_t *flags_exposed_ports(const RunOptions *o, json_t *image_config) {
        json_t *e = json_object(), *v;
        const char *k;
        json_object_foreach (json_object_get(image_config, "ExposedPorts"), k, v) {
                _cleanup_free_ char *n = port_norm(k);
                if (n)
                        json_object_set_new(e, n, json_object());
        }
        for (size_t i = 0; o->expose && o->expose[i]; i++)
                json_object_set_new(e, o->expose[i], json_object());
        return e;
}

json_t *flags_port_bindings(const RunOptions *o, json_t *image_config) {
        json_t *a = flags_strv_json(o->publish), *e, *v;
        const char *k;
        if (!o->publish_all || strv_contains(o->networks, "host"))
                return a;
        e = flags_exposed_ports(o, image_config);
        json_object_foreach (e, k, v) {
                bool taken = false;
                /* a port that -p publishes already keeps its -p host port, as with docker */
                for (size_t i = 0; o->publish && o->publish[i]; i++) {
                        const char *c = strrchr(o->publish[i], ':');
                        _cleanup_free_ char *n = port_norm(c ? c + 1 : o->publish[i]);
                        taken = taken || streq_ptr(n, k);
                }
                if (!taken)
                        json_array_append_new(a, json_string(k));
        }
        json_decref(e);
        return a;
}
