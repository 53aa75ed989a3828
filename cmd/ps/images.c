/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps images: the image store ($ROOT/oci, written by berth-pull) read through lib/oci.h, without a
 * lock: index.json is replaced atomically, and blobs never change once named. */
#include <fnmatch.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "container.h"
#include "digest.h"
#include "fileio.h"
#include "images.h"
#include "log.h"
#include "macro.h"
#include "ps.h"
#include "ref.h"
#include "status.h"
#include "table.h"
#include "util.h"

/* How many container records name each image ID: {ID: count}. Unreadable records count for nothing. */
static json_t *image_uses(void) {
        _cleanup_strv_free_ char **ids = NULL;
        json_t *uses = json_object();
        if (!uses || container_list(&ids) < 0)
                return uses;
        for (char **id = ids; *id; id++) {
                json_t *rec = NULL;
                if (container_load(*id, &rec, NULL) < 0)
                        continue;
                const char *img = json_string_value(json_object_get(rec, "Image"));
                if (img)
                        json_object_set_new(
                                uses, img, json_integer(json_integer_value(json_object_get(uses, img)) + 1));
                json_decref(rec);
        }
        return uses;
}

static uint64_t image_size(const OciImage *img) {
        json_t *m = img->manifest;
        uint64_t size = (uint64_t) json_integer_value(json_object_get(json_object_get(m, "config"), "size"));
        for (size_t i = 0; i < img->n_layers; i++)
                size += img->layers[i].size;
        return size;
}

static usec_t image_created(const OciImage *img) {
        return record_time(json_object_get(img->config, "created"));
}

/* "host/path:tag" -> repository "host/path", tag "tag"; "host/path@sha256:..." -> "<none>" tag. */
static void split_name(const char *name, char **ret_repo, const char **ret_tag) {
        const char *at = strchr(name, '@');
        size_t repo_len = at ? (size_t) (at - name) : strlen(name);
        const char *colon = memrchr(name, ':', repo_len), *slash = memrchr(name, '/', repo_len);
        *ret_tag = "<none>";
        if (colon && (!slash || colon > slash)) {
                *ret_tag = at ? "<none>" : colon + 1;
                repo_len = (size_t) (colon - name);
        }
        *ret_repo = strndup(name, repo_len);
}

json_t *image_inspect_object(const OciImage *img, char *const *names) {
        json_t *cfg = img->config;
        json_auto_t *tags = json_array(), *digests = json_array(), *layers = json_array();
        if (!tags || !digests || !layers)
                return NULL;
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *repo = NULL, *d = NULL;
                const char *tag;
                split_name(names[i], &repo, &tag);
                if (!repo || asprintf(&d, "%s@%s", repo, img->manifest_digest) < 0)
                        return NULL;
                if (!strchr(names[i], '@'))
                        json_array_append_new(tags, json_string(names[i]));
                bool seen = false;
                size_t k;
                json_t *e;
                json_array_foreach (digests, k, e) {
                        seen = seen || streq(json_string_value(e), d);
                }
                if (!seen)
                        json_array_append_new(digests, json_string(d));
        }
        for (size_t i = 0; i < img->n_layers; i++)
                json_array_append_new(layers,
                                      json_pack("{s:s, s:s, s:I, s:s}", "Digest", img->layers[i].digest,
                                                "MediaType", img->layers[i].media_type, "Size",
                                                (json_int_t) img->layers[i].size, "DiffID",
                                                img->layers[i].diff_id));
        json_t *inner = json_object_get(cfg, "config");
        json_t *labels = json_object_get(inner, "Labels");
        json_t *diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        const char *created = json_string_value(json_object_get(cfg, "created"));
        return json_pack(
                "{s:s, s:s, s:O, s:O, s:s, s:s, s:s, s:s?, s:O, s:{s:s, s:O}, s:O, s:O, s:I, s:O, "
                "s:s, s:s?, s:O}",
                "Id", digest_hex(img->id), "Digest", img->manifest_digest, "RepoTags", tags, "RepoDigests",
                digests, "Created", created ?: "", "Architecture",
                json_string_value(json_object_get(cfg, "architecture")) ?: "", "Os",
                json_string_value(json_object_get(cfg, "os")) ?: "", "Author",
                json_string_value(json_object_get(cfg, "author")), "Config",
                json_is_object(inner) ? inner : json_null(), "RootFS", "Type", "layers", "Layers",
                json_is_array(diff_ids) ? diff_ids : json_null(), "History",
                json_object_get(cfg, "history") ?: json_null(), "Labels",
                json_is_object(labels) ? labels : json_null(), "Size", (json_int_t) image_size(img),
                "Layers", layers, "ManifestType",
                json_string_value(json_object_get(img->manifest, "mediaType")) ?: MEDIA_OCI_MANIFEST, "Name",
                img->name, "Annotations", json_object_get(img->manifest, "annotations") ?: json_null());
}

/* One image of the listing: an index entry that loads. */
typedef struct Row {
        OciImage *img;
        const char *name; /* NULL for a dangling (unnamed) entry */
} Row;

static bool match_label(json_t *labels, const char *spec) {
        const char *eq = strchr(spec, '=');
        if (!eq)
                return json_object_get(labels, spec) != NULL;
        _cleanup_free_ char *k = strndup(spec, (size_t) (eq - spec));
        return k && streq_ptr(json_string_value(json_object_get(labels, k)), eq + 1);
}

static bool match_reference(const char *name, const char *pattern) {
        if (!name)
                return false;
        if (fnmatch(pattern, name, 0) == 0)
                return true;
        /* "busybox" and "busybox:*" match "127.0.0.1:5000/busybox:latest", as podman matches without domain
         */
        const char *slash = strchr(name, '/');
        if (slash && fnmatch(pattern, slash + 1, 0) == 0)
                return true;
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        if (fnmatch(pattern, base, 0) == 0)
                return true;
        _cleanup_free_ char *repo = NULL;
        const char *tag;
        split_name(name, &repo, &tag);
        return repo && (fnmatch(pattern, repo, 0) == 0 ||
                        (strrchr(repo, '/') && fnmatch(pattern, strrchr(repo, '/') + 1, 0) == 0));
}

/* before=/since= take an image; its creation time is the bound. */
static int filter_time(json_t *vals, const char *what, usec_t *ret) {
        json_t *v = json_array_get(vals, json_array_size(vals) - 1);
        if (!v) {
                *ret = 0;
                return 0;
        }
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        int r = oci_image_find(json_string_value(v), &img);
        if (r < 0)
                return log_error_errno(r, "Image '%s' of --filter %s= not found: %m", json_string_value(v),
                                       what);
        *ret = image_created(img);
        return 1;
}

static bool row_match(const Row *row, json_t *filters, usec_t before, bool have_before, usec_t since,
                      bool have_since) {
        json_t *labels = json_object_get(json_object_get(row->img->config, "config"), "Labels"), *v;
        size_t i;
        usec_t created = image_created(row->img);

        if (have_before && created >= before)
                return false;
        if (have_since && created <= since)
                return false;
        json_t *refs = json_object_get(filters, "reference");
        bool any = !refs;
        json_array_foreach (refs, i, v)
                any = any || match_reference(row->name, json_string_value(v));
        if (!any)
                return false;
        json_array_foreach (json_object_get(filters, "label"), i, v) {
                if (!match_label(labels, json_string_value(v)))
                        return false;
        }
        json_array_foreach (json_object_get(filters, "dangling"), i, v) {
                int b = parse_boolean(json_string_value(v));
                if (b >= 0 && b != !row->name)
                        return false;
        }
        return true;
}

static void rows_free(Row *rows, size_t n) {
        for (size_t i = 0; i < n; i++)
                oci_image_free(rows[i].img);
        free(rows);
}

static int load_rows(Row **ret, size_t *ret_n) {
        json_auto_t *index = NULL;
        json_t *e;
        size_t i;
        int r = oci_index_load(&index);
        if (r < 0)
                return log_error_errno(r, "Failed to read the image store index: %m");
        json_t *manifests = json_object_get(index, "manifests");
        Row *rows = calloc(json_array_size(manifests) ?: 1, sizeof(Row));
        size_t n = 0;
        if (!rows)
                return log_oom();
        json_array_foreach (manifests, i, e) {
                const char *d = json_string_value(json_object_get(e, "digest"));
                const char *name = json_string_value(
                        json_object_get(json_object_get(e, "annotations"), OCI_REF_NAME_ANNOTATION));
                OciImage *img = NULL;
                r = d ? oci_image_load(d, name, &img) : -EBADMSG;
                if (r == -ENOMEM) {
                        rows_free(rows, n);
                        return log_oom();
                }
                if (r < 0) {
                        /* one broken image must not hide the others */
                        log_warning_errno(r, "Image '%s' (%s) cannot be read, ignoring: %m", strna(name),
                                          strna(d));
                        continue;
                }
                rows[n++] = (Row){.img = img, .name = img->name};
        }
        *ret = rows;
        *ret_n = n;
        return 0;
}

static int cmp_rows(const void *a, const void *b) {
        const Row *x = a, *y = b;
        usec_t cx = image_created(x->img), cy = image_created(y->img);
        if (cx != cy)
                return cx > cy ? -1 : 1;
        return strcmp(x->name ?: "", y->name ?: "");
}

static int print_images(Row *rows, size_t n, const PsArgs *a, usec_t now) {
        if (a->quiet) {
                _cleanup_strv_free_ char **seen = NULL;
                for (size_t i = 0; i < n; i++) {
                        if (strv_contains(seen, rows[i].img->id))
                                continue;
                        if (strv_extend(&seen, rows[i].img->id) < 0)
                                return log_oom();
                        printf("%.*s\n", a->no_trunc ? 71 : 12,
                               a->no_trunc ? rows[i].img->id : digest_hex(rows[i].img->id));
                }
                return 0;
        }
        if (arg_output == OUTPUT_TABLE) {
                static const char *const headers[] = {"REPOSITORY", "TAG",     "DIGEST",
                                                      "IMAGE ID",   "CREATED", "SIZE"};
                const char *h[6];
                size_t nc = 0;
                for (size_t k = 0; k < 6; k++)
                        if (k != 2 || a->digests)
                                h[nc++] = headers[k];
                _cleanup_(table_freep) Table *t = table_new(nc, h);
                if (!t)
                        return log_oom();
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *repo = NULL;
                        const char *tag = "<none>";
                        char id[72], created[96], d[64], size[32];
                        if (rows[i].name)
                                split_name(rows[i].name, &repo, &tag);
                        snprintf(id, sizeof id, "%.*s", a->no_trunc ? 71 : 12,
                                 a->no_trunc ? rows[i].img->id : digest_hex(rows[i].img->id));
                        usec_t c = image_created(rows[i].img);
                        human_duration(c && now > c ? now - c : 0, d, sizeof d);
                        snprintf(created, sizeof created, "%s ago", d);
                        format_size(image_size(rows[i].img), size, sizeof size);
                        const char *cells[6];
                        size_t k = 0;
                        cells[k++] = repo ?: "<none>";
                        cells[k++] = tag;
                        if (a->digests)
                                cells[k++] = rows[i].img->manifest_digest;
                        cells[k++] = id;
                        cells[k++] = created;
                        cells[k++] = size;
                        if (table_add_row(t, cells) < 0)
                                return log_oom();
                }
                return table_print(t, stdout);
        }

        /* JSON and templates: one object per image (podman groups the names of one ID) */
        json_auto_t *arr = json_array(), *uses = image_uses();
        if (!arr || !uses)
                return log_oom();
        for (size_t i = 0; i < n; i++) {
                bool dup = false;
                for (size_t k = 0; k < i && !dup; k++)
                        dup = streq(rows[k].img->id, rows[i].img->id);
                if (dup)
                        continue;
                _cleanup_strv_free_ char **names = NULL;
                for (size_t k = i; k < n; k++)
                        if (rows[k].name && streq(rows[k].img->id, rows[i].img->id) &&
                            strv_extend(&names, rows[k].name) < 0)
                                return log_oom();
                json_t *o = image_inspect_object(rows[i].img, names);
                if (!o)
                        return log_oom();
                _cleanup_free_ char *repo = NULL;
                const char *tag = "<none>";
                char d[64], size[32];
                if (rows[i].name)
                        split_name(rows[i].name, &repo, &tag);
                usec_t c = image_created(rows[i].img);
                human_duration(c && now > c ? now - c : 0, d, sizeof d);
                format_size(image_size(rows[i].img), size, sizeof size);
                json_object_set_new(o, "Names", json_incref(json_object_get(o, "RepoTags")));
                json_object_set_new(
                        o, "Containers",
                        json_integer(json_integer_value(json_object_get(uses, rows[i].img->id))));
                json_object_set_new(o, "CreatedAt",
                                    json_string(json_string_value(json_object_get(o, "Created"))));
                json_object_set_new(o, "Created", json_integer((json_int_t) (c / USEC_PER_SEC)));
                if (arg_output == OUTPUT_TEMPLATE) {
                        /* podman's template fields */
                        char ago[96], id[72];
                        snprintf(ago, sizeof ago, "%s ago", d);
                        snprintf(id, sizeof id, "%.*s", a->no_trunc ? 71 : 12,
                                 a->no_trunc ? rows[i].img->id : digest_hex(rows[i].img->id));
                        json_object_set_new(o, "Repository", json_string(repo ?: "<none>"));
                        json_object_set_new(o, "Tag", json_string(tag));
                        json_object_set_new(o, "ID", json_string(id));
                        json_object_set_new(o, "CreatedSince", json_string(ago));
                        json_object_set_new(o, "Size", json_string(size));
                }
                if (json_array_append_new(arr, o) < 0)
                        return log_oom();
        }
        int r = arg_output == OUTPUT_JSON ? json_print(arr, stdout)
                                          : template_render_all(arg_template, arr, stdout);
        if (r < 0)
                return log_error_errno(r, "Failed to write the listing: %m");
        return 0;
}

int verb_images(const PsArgs *a) {
        Row *rows = NULL;
        size_t n = 0;
        usec_t before = 0, since = 0;
        int r, hb, hs;

        hb = filter_time(json_object_get(a->filters, "before"), "before", &before);
        if (hb < 0)
                return hb;
        hs = filter_time(json_object_get(a->filters, "since"), "since", &since);
        if (hs < 0)
                return hs;
        r = load_rows(&rows, &n);
        if (r < 0)
                return r;
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
                bool keep = row_match(&rows[i], a->filters, before, hb > 0, since, hs > 0) &&
                            (!a->names[0] || match_reference(rows[i].name, a->names[0]));
                if (keep)
                        rows[m++] = rows[i];
                else
                        oci_image_free(rows[i].img);
        }
        qsort(rows, m, sizeof(Row), cmp_rows);
        r = print_images(rows, m, a, now_usec(CLOCK_REALTIME));
        rows_free(rows, m);
        if (r >= 0 && fflush(stdout) != 0)
                return log_error_errno(-errno, "Failed to write the listing: %m");
        return r;
}
