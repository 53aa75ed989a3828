/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps history: how an image was built, from its config's history, newest first, as docker history. */
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "digest.h"
#include "images.h"
#include "log.h"
#include "macro.h"
#include "ps.h"
#include "status.h"
#include "table.h"

#define CREATED_BY_WIDTH 45

/* One step: its history entry (NULL when the config has none: one step per layer, as docker shows it) and
 * its layer (NULL for an empty_layer step). */
typedef struct Step {
        json_t *entry;
        const OciLayer *layer;
} Step;

static int steps_of(const OciImage *img, Step **ret, size_t *ret_n) {
        json_t *hist = json_object_get(img->config, "history");
        size_t n = json_is_array(hist) && json_array_size(hist) > 0 ? json_array_size(hist) : img->n_layers;
        Step *v = calloc(n ?: 1, sizeof(Step));
        size_t layer = 0;
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_is_array(hist) ? json_array_get(hist, i) : NULL;
                v[i].entry = e;
                if (!json_is_true(json_object_get(e, "empty_layer")) && layer < img->n_layers)
                        v[i].layer = &img->layers[layer++];
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* "/bin/sh -c #(nop)  CMD [\"sh\"]" shortened to the column's width with "...", unless no_trunc. */
static void shorten(const char *s, bool no_trunc, char *buf, size_t size) {
        size_t len = strlen(s);
        if (no_trunc || len <= CREATED_BY_WIDTH)
                snprintf(buf, size, "%s", s);
        else
                snprintf(buf, size, "%.*s...", CREATED_BY_WIDTH - 3, s);
}

static json_t *step_object(const OciImage *img, const Step *st, bool top, bool no_trunc, usec_t now) {
        const char *created = json_string_value(json_object_get(st->entry, "created"));
        const char *by = json_string_value(json_object_get(st->entry, "created_by")) ?: "";
        const char *comment = json_string_value(json_object_get(st->entry, "comment")) ?: "";
        usec_t t = record_time(json_object_get(st->entry, "created"));
        uint64_t size = st->layer ? st->layer->size : 0;
        char id[72], ago[96], d[64], sz[32], shown[4096];

        if (top)
                snprintf(id, sizeof id, "%.*s", no_trunc ? 71 : 12,
                         no_trunc ? img->id : digest_hex(img->id));
        else
                snprintf(id, sizeof id, "<missing>");
        if (t) {
                human_duration(now > t ? now - t : 0, d, sizeof d);
                snprintf(ago, sizeof ago, "%s ago", d);
        } else
                snprintf(ago, sizeof ago, "N/A");
        format_size(size, sz, sizeof sz);
        shorten(by, no_trunc, shown, sizeof shown);
        return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:s, s:s?}", "ID", id, "Id",
                         top ? img->id : "", "Created", (json_int_t) (t / USEC_PER_SEC), "CreatedAt",
                         created ?: "", "CreatedSince", ago, "CreatedBy", shown, "SizeBytes",
                         (json_int_t) size, "Size", sz, "Comment", comment);
}

int verb_history(const PsArgs *a) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        _cleanup_free_ Step *steps = NULL;
        size_t n;
        int r;

        r = oci_image_find(a->names[0], &img);
        if (r == -ENOMEM)
                return log_oom();
        if (r == -EADDRNOTAVAIL)
                return log_error_errno(r, "Image ID prefix '%s' is ambiguous", a->names[0]);
        if (r < 0)
                return log_error_errno(r, "No such image: '%s'", a->names[0]);
        r = steps_of(img, &steps, &n);
        if (r < 0)
                return log_oom();

        usec_t now = now_usec(CLOCK_REALTIME);
        json_auto_t *arr = json_array();
        if (!arr)
                return log_oom();
        /* newest first; the image's own ID stands on the newest step, as in docker */
        for (size_t i = n; i > 0; i--) {
                /* JSON keeps the whole command; the table and templates shorten it, as docker */
                json_t *o = step_object(img, &steps[i - 1], i == n, a->no_trunc || arg_output == OUTPUT_JSON,
                                        now);
                if (!o || json_array_append_new(arr, o) < 0)
                        return log_oom();
        }

        if (a->quiet) {
                size_t i;
                json_t *o;
                json_array_foreach (arr, i, o) {
                        printf("%s\n", json_string_value(json_object_get(o, "ID")));
                }
                return 0;
        }
        if (arg_output == OUTPUT_JSON)
                return json_print(arr, stdout);
        if (arg_output == OUTPUT_TEMPLATE)
                return template_render_all(arg_template, arr, stdout);

        static const char *const headers[] = {"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"};
        static const char *const keys[] = {"ID", "CreatedSince", "CreatedBy", "Size", "Comment"};
        r = table_print_objects(arr, ELEMENTSOF(headers), headers, keys, stdout);
        return r == -ENOMEM ? log_oom() : r;
}
