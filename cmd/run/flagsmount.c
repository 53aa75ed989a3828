/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --mount, docker's syntax, turned into the -v or --tmpfs value that means the same: one mount
 * implementation. */
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "fileio.h"
#include "flags.h"
#include "log.h"
#include "main-func.h"
#include "paths.h"

static const char *const propagations[] = {"shared", "slave", "private", "rshared", "rslave", "rprivate"};

static int bool_value(const char *v) {
        return v ? parse_boolean(v) : 1; /* "readonly" alone is true */
}

/* docker's HostConfig.Mounts entry, kept as JSON text in o->mounts for the record */
static int record_mount(RunOptions *o, const char *type, const char *src, const char *dst, bool ro,
                        const char *prop, const char *size, const char *mode, bool nocopy) {
        json_auto_t *m = json_pack("{s:s, s:s, s:s, s:b}", "Type", type, "Source", src ?: "", "Target", dst,
                                   "ReadOnly", ro);
        uint64_t sz = 0;
        if (!m)
                return log_oom();
        if (prop)
                json_object_set_new(m, "BindOptions", json_pack("{s:s}", "Propagation", prop));
        if (nocopy)
                json_object_set_new(m, "VolumeOptions", json_pack("{s:b}", "NoCopy", 1));
        if (size || mode) {
                json_t *t = json_object();
                if (size && parse_size(size, &sz) >= 0)
                        json_object_set_new(t, "SizeBytes", json_integer((json_int_t) sz));
                if (mode)
                        json_object_set_new(t, "Mode", json_integer((json_int_t) strtoul(mode, NULL, 8)));
                json_object_set_new(m, "TmpfsOptions", t);
        }
        char *text = json_dumps(m, JSON_COMPACT);
        if (!text || strv_push(&o->mounts, text) < 0)
                return log_oom();
        return 1;
}

int mount_parse(const char *arg, RunOptions *o) {
        _cleanup_free_ char *copy = strdup(arg), *out = NULL, *extra = NULL;
        const char *type = "volume", *src = NULL, *dst = NULL, *prop = NULL, *size = NULL, *mode = NULL;
        bool ro = false, nocopy = false;
        char *save = NULL;
        int b;

        if (!copy)
                return log_oom();
        for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                char *v = strchr(kv, '=');
                if (v)
                        *v++ = 0;
                if (streq(kv, "type") && v)
                        type = v;
                else if ((streq(kv, "source") || streq(kv, "src")) && v)
                        src = v;
                else if ((streq(kv, "target") || streq(kv, "destination") || streq(kv, "dst")) && v)
                        dst = v;
                else if (streq(kv, "readonly") || streq(kv, "ro")) {
                        if ((b = bool_value(v)) < 0)
                                return cli_usage_error("Invalid --mount '%s': %s=%s", arg, kv, v);
                        ro = b;
                } else if (streq(kv, "bind-propagation") && v) {
                        bool ok = false;
                        for (size_t i = 0; i < ELEMENTSOF(propagations); i++)
                                ok = ok || streq(v, propagations[i]);
                        if (!ok)
                                return cli_usage_error("Invalid --mount '%s': bind-propagation=%s", arg, v);
                        prop = v;
                } else if (streq(kv, "tmpfs-size") && v) {
                        uint64_t sz;
                        if (parse_size(v, &sz) < 0 || sz == 0)
                                return cli_usage_error("Invalid --mount '%s': tmpfs-size=%s", arg, v);
                        size = v;
                } else if (streq(kv, "tmpfs-mode") && v) {
                        char *end;
                        unsigned long m = strtoul(v, &end, 8);
                        if (isempty(v) || *end || m > 07777)
                                return cli_usage_error("Invalid --mount '%s': tmpfs-mode=%s (octal)", arg,
                                                       v);
                        mode = v;
                } else if (streq(kv, "volume-nocopy")) {
                        if ((b = bool_value(v)) < 0)
                                return cli_usage_error("Invalid --mount '%s': %s=%s", arg, kv, v);
                        nocopy = b;
                } else if (streq(kv, "volume-opt") || streq(kv, "volume-driver") ||
                           streq(kv, "volume-label"))
                        log_warning("--mount: %s is ignored (berth's volumes have one driver, local)", kv);
                else if (streq(kv, "consistency"))
                        ; /* docker ignores it on Linux */
                else
                        return cli_usage_error("Invalid --mount '%s': unknown option '%s'", arg, kv);
        }
        if (!streq(type, "bind") && !streq(type, "volume") && !streq(type, "tmpfs"))
                return cli_usage_error("Invalid --mount '%s': type=%s (bind, volume or tmpfs)", arg, type);
        if (!dst || !spec_path_is_safe(dst) || streq(dst, "/") || strchr(dst, ':'))
                return cli_usage_error("Invalid --mount '%s': target must be an absolute path without ':'",
                                       arg);
        if ((prop && !streq(type, "bind")) || (nocopy && !streq(type, "volume")) ||
            ((size || mode) && !streq(type, "tmpfs")))
                return cli_usage_error("Invalid --mount '%s': an option of another type than %s", arg, type);
        if (streq(type, "tmpfs")) {
                if (src)
                        return cli_usage_error("Invalid --mount '%s': a tmpfs has no source", arg);
                if (asprintf(&out, "%s:%s%s%s%s%s%s", dst, ro ? "ro" : "rw", size ? ",size=" : "",
                             size ?: "", mode ? ",mode=" : "", mode ?: "", "") < 0)
                        return log_oom();
                if (strv_push(&o->tmpfs, TAKE_PTR(out)) < 0)
                        return log_oom();
        } else {
                struct stat st;
                if (!src && streq(type, "volume")) {
                        /* docker's anonymous volume, as -v DST */
                        if (ro || nocopy)
                                return cli_usage_error("Invalid --mount '%s': an anonymous volume is "
                                                       "read-write and filled from the image",
                                                       arg);
                        if (strv_extend(&o->anon_volumes, dst) < 0)
                                return log_oom();
                        return record_mount(o, type, NULL, dst, false, NULL, NULL, NULL, false);
                }
                if (!src)
                        return cli_usage_error("Invalid --mount '%s': a bind mount needs a source", arg);
                if (strchr(src, ':'))
                        return cli_usage_error("Invalid --mount '%s': a source with ':'", arg);
                if (streq(type, "bind") && src[0] != '/')
                        return cli_usage_error("Invalid --mount '%s': the bind source must be absolute",
                                               arg);
                /* docker: a bind source must exist (-v would make it, --mount does not) */
                if (streq(type, "bind") && stat(src, &st) < 0)
                        return cli_usage_error("Invalid --mount '%s': source '%s': %s", arg, src,
                                               strerror(errno));
                if (streq(type, "volume") && !name_is_valid(src, 128))
                        return cli_usage_error("Invalid --mount '%s': '%s' is not a volume name", arg, src);
                if (asprintf(&extra, "%s%s%s%s", ro ? "ro" : "rw", prop ? "," : "", prop ?: "",
                             nocopy ? ",nocopy" : "") < 0 ||
                    asprintf(&out, "%s:%s:%s", src, dst, extra) < 0)
                        return log_oom();
                if (strv_push(&o->volumes, TAKE_PTR(out)) < 0)
                        return log_oom();
        }
        return record_mount(o, type, src, dst, ro, prop, size, mode, nocopy);
}
