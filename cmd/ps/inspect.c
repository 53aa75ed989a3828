/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps inspect: the container record with its State reconciled, or an image of the store. */
#include <stdio.h>

#include "cli.h"
#include "containers.h"
#include "fileio.h"
#include "images.h"
#include "log.h"
#include "macro.h"
#include "oci.h"
#include "ps.h"
#include "table.h"

static int set_default(json_t *o, const char *key, json_t *v) {
        if (json_object_get(o, key)) {
                json_decref(v);
                return 0;
        }
        return json_object_set_new(o, key, v ?: json_null());
}

static json_t *container_inspect_object(const Container *c) {
        const Reconciled *st = &c->st;
        json_auto_t *o = NULL;

        if (c->record)
                o = json_deep_copy(c->record);
        else {
                _cleanup_free_ char *name = container_name_of_id(c->id);
                o = json_pack("{s:s, s:s}", "Id", c->id, "Name", name ?: "");
        }
        if (!o)
                return NULL;
        static const char *const keys[] = {"Name",   "Created",         "Image",      "ImageName", "Config",
                                           "Mounts", "NetworkSettings", "HostConfig", "Unit",      "Slice"};
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (set_default(o, keys[i], json_null()) < 0)
                        return NULL;

        json_t *state = json_object_get(o, "State");
        if (!json_is_object(state)) {
                state = json_object();
                if (!state || json_object_set_new(o, "State", state) < 0)
                        return NULL;
        }
        const char *error = st->reason ?: json_string_value(json_object_get(state, "Error"));
        if (json_object_set_new(state, "Status", json_string(container_status_to_string(st->status))) < 0 ||
            json_object_set_new(state, "Running", json_boolean(st->status == STATUS_RUNNING)) < 0 ||
            json_object_set_new(state, "Paused", json_boolean(st->status == STATUS_PAUSED)) < 0 ||
            json_object_set_new(state, "Pid", json_integer(st->pid)) < 0 ||
            json_object_set_new(state, "ExitCode", json_integer(st->exit_code)) < 0 ||
            json_object_set_new(state, "Error", json_string(error ?: "")) < 0 ||
            set_default(state, "StartedAt", json_string("0001-01-01T00:00:00Z")) < 0 ||
            set_default(state, "Health", json_null()) < 0)
                return NULL;
        /* an end inferred by reconciliation (exit not recorded) is written out, so scripts see a time */
        usec_t recorded_end = record_time(json_object_get(state, "FinishedAt"));
        if (st->status == STATUS_EXITED && !recorded_end && st->finished) {
                char buf[64];
                format_rfc3339(st->finished, buf, sizeof buf);
                if (json_object_set_new(state, "FinishedAt", json_string(buf)) < 0)
                        return NULL;
        } else if (set_default(state, "FinishedAt", json_string("0001-01-01T00:00:00Z")) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int inspect_container(const char *name, const ReconcileContext *ctx, json_t **ret) {
        _cleanup_(container_done) Container c = {};
        int r = container_load_one(name, ctx, &c);
        if (r < 0)
                return r;
        if (c.unreadable)
                log_warning("Container %.12s: %s", c.id, c.st.reason);
        *ret = container_inspect_object(&c);
        return *ret ? 0 : -ENOMEM;
}

static int inspect_image(const char *name, json_t **ret) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int r = oci_image_find(name, &img);
        if (r < 0)
                return r;
        r = oci_image_names(img->id, &names);
        if (r < 0)
                return r;
        *ret = image_inspect_object(img, names);
        return *ret ? 0 : -ENOMEM;
}

int verb_inspect(const PsArgs *a) {
        json_auto_t *arr = json_array();
        ReconcileContext ctx;
        bool failed = false;
        int r;

        if (!arr)
                return log_oom();
        reconcile_context_init(&ctx);
        for (char **n = a->names; *n; n++) {
                json_t *o = NULL;
                r = -ENOENT;
                if (!a->type || streq(a->type, "container"))
                        r = inspect_container(*n, &ctx, &o);
                if (r == -ENOENT && (!a->type || streq(a->type, "image")))
                        r = inspect_image(*n, &o);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0) {
                        failed = true;
                        if (r == -ENOENT)
                                log_error("No such %s: '%s'", a->type ?: "container or image", *n);
                        else if (r == -EADDRNOTAVAIL)
                                log_error("'%s' is ambiguous: it is the prefix of more than one ID", *n);
                        else
                                log_error_errno(r, "Failed to inspect '%s': %m", *n);
                        continue;
                }
                if (json_array_append_new(arr, o) < 0)
                        return log_oom();
        }

        if (arg_output == OUTPUT_TEMPLATE) {
                size_t i;
                json_t *o;
                json_array_foreach (arr, i, o) {
                        r = template_render(arg_template, o, stdout);
                        if (r < 0)
                                return log_error_errno(r, "Failed to render --format: %m");
                }
        } else
                json_print(arr, stdout);
        if (fflush(stdout) != 0)
                return log_error_errno(-errno, "Failed to write: %m");
        return failed ? -ENOENT : 0;
}
