/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps df: docker system df over the stores. Images are their blobs in $ROOT/oci (a blob shared by
 * images counts once), containers their upper directories ($ROOT/containers/<id>/upper, what berth-run gives
 * berth-unpack mount), volumes berth-run's $ROOT/volumes/<name>/_data. Sizes are what the files occupy on
 * disk (du -x), measured now: nothing is cached. */
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "container.h"
#include "containers.h"
#include "digest.h"
#include "du.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "oci.h"
#include "paths.h"
#include "ps.h"
#include "table.h"

typedef struct Row {
        const char *type;
        uint64_t total, active, size, reclaimable;
} Row;

/* {digest: bytes on disk} for the blobs of one image: manifest, config, layers. */
static int image_blobs(const OciImage *img, json_t *blobs) {
        const char *d[2] = {img->manifest_digest, img->id};
        for (size_t i = 0; i < 2 + img->n_layers; i++) {
                const char *digest = i < 2 ? d[i] : img->layers[i - 2].digest;
                if (json_object_get(blobs, digest))
                        continue;
                _cleanup_free_ char *p = oci_blob_path(digest);
                struct stat st;
                if (!p)
                        return -ENOMEM;
                uint64_t size = lstat(p, &st) >= 0 ? (uint64_t) st.st_blocks * 512 : 0;
                if (json_object_set_new(blobs, digest, json_integer((json_int_t) size)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static uint64_t blobs_size(json_t *blobs, json_t *except) {
        const char *k;
        json_t *v;
        uint64_t total = 0;
        json_object_foreach (blobs, k, v) {
                if (!except || !json_object_get(except, k))
                        total += (uint64_t) json_integer_value(v);
        }
        return total;
}

/* Users of images and volumes: {image ID: n} and {volume name: n}, from the full records. */
static int count_users(const ContainerList *cl, json_t *images, json_t *volumes) {
        for (size_t i = 0; i < cl->n; i++) {
                json_auto_t *rec = NULL;
                json_t *m;
                size_t k;
                if (container_load(cl->items[i].id, &rec, NULL) < 0)
                        continue;
                const char *img = json_string_value(json_object_get(rec, "Image"));
                if (img && json_object_set_new(
                                   images, img,
                                   json_integer(json_integer_value(json_object_get(images, img)) + 1)) < 0)
                        return -ENOMEM;
                json_array_foreach (json_object_get(rec, "Mounts"), k, m) {
                        const char *n = json_string_value(json_object_get(m, "Name"));
                        if (!isempty(n) &&
                            json_object_set_new(
                                    volumes, n,
                                    json_integer(json_integer_value(json_object_get(volumes, n)) + 1)) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

static int df_images(json_t *users, Row *row, json_t *items) {
        json_auto_t *index = NULL, *all = json_object(), *active = json_object(), *ids = json_object();
        json_t *e;
        size_t i;
        int r = oci_index_load(&index);
        if (r < 0)
                return log_error_errno(r, "Failed to read the image store index: %m");
        if (!all || !active || !ids)
                return log_oom();
        json_array_foreach (json_object_get(index, "manifests"), i, e) {
                const char *d = json_string_value(json_object_get(e, "digest"));
                const char *name = json_string_value(
                        json_object_get(json_object_get(e, "annotations"), OCI_REF_NAME_ANNOTATION));
                _cleanup_(oci_image_freep) OciImage *img = NULL;
                r = d ? oci_image_load(d, name, &img) : -EBADMSG;
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0) {
                        log_warning_errno(r, "Image '%s' (%s) cannot be read, ignoring: %m", strna(name),
                                          strna(d));
                        continue;
                }
                json_int_t n_users = json_integer_value(json_object_get(users, img->id));
                json_auto_t *mine = json_object();
                if (!mine || image_blobs(img, mine) < 0 || json_object_update(all, mine) < 0 ||
                    (n_users > 0 && json_object_update(active, mine) < 0))
                        return log_oom();
                json_t *item = json_object_get(ids, img->id);
                if (!item) {
                        item = json_pack("{s:s, s:[], s:I, s:I}", "Id", img->id, "Names", "Size",
                                         (json_int_t) blobs_size(mine, NULL), "Containers", n_users);
                        if (!item || json_object_set_new(ids, img->id, item) < 0 ||
                            json_array_append(items, item) < 0)
                                return log_oom();
                        row->total++;
                        row->active += n_users > 0;
                }
                if (name && json_array_append_new(json_object_get(item, "Names"), json_string(name)) < 0)
                        return log_oom();
        }
        row->size = blobs_size(all, NULL);
        row->reclaimable = blobs_size(all, active);
        return 0;
}

static int df_containers(const ContainerList *cl, Row *row, json_t *items) {
        for (size_t i = 0; i < cl->n; i++) {
                const Container *c = cl->items + i;
                _cleanup_free_ char *upper = container_path(c->id, "upper");
                uint64_t size = 0;
                if (!upper)
                        return log_oom();
                int r = disk_usage(upper, NULL, &size);
                if (r < 0)
                        log_warning_errno(r, "Cannot measure '%s', counting what could be read: %m", upper);
                bool live = container_is_live(c);
                row->total++;
                row->active += live;
                row->size += size;
                if (!live)
                        row->reclaimable += size;
                json_t *item = json_pack(
                        "{s:s, s:s, s:s, s:s, s:I}", "Id", c->id, "Name", container_name(c), "Image",
                        json_string_value(json_object_get(c->record, "ImageName")) ?: "", "Status",
                        container_status_to_string(c->st.status), "Size", (json_int_t) size);
                if (!item || json_array_append_new(items, item) < 0)
                        return log_oom();
        }
        return 0;
}

static int df_volumes(json_t *users, Row *row, json_t *items) {
        _cleanup_free_ char *dir = berth_path("volumes");
        if (!dir)
                return log_oom();
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : log_error_errno(-errno, "Cannot read '%s': %m", dir);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                        continue;
                _cleanup_free_ char *data = path_join(dir, de->d_name, "_data");
                uint64_t size = 0;
                if (!data)
                        return log_oom();
                int r = disk_usage(data, NULL, &size);
                if (r < 0)
                        log_warning_errno(r, "Cannot measure '%s', counting what could be read: %m", data);
                json_int_t links = json_integer_value(json_object_get(users, de->d_name));
                row->total++;
                row->active += links > 0;
                row->size += size;
                if (links == 0)
                        row->reclaimable += size;
                json_t *item = json_pack("{s:s, s:I, s:I}", "Name", de->d_name, "Links", links, "Size",
                                         (json_int_t) size);
                if (!item || json_array_append_new(items, item) < 0)
                        return log_oom();
        }
        return 0;
}

static void reclaimable_string(const Row *row, char *buf, size_t size) {
        char s[32];
        format_size(row->reclaimable, s, sizeof s);
        if (row->size > 0)
                snprintf(buf, size, "%s (%u%%)", s, (unsigned) (row->reclaimable * 100 / row->size));
        else
                snprintf(buf, size, "%s", s);
}

static int print_summary(const Row rows[3]) {
        static const char *const headers[] = {"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"};
        _cleanup_(table_freep) Table *t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return log_oom();
        for (size_t i = 0; i < 3; i++) {
                char total[24], active[24], size[32], rec[48];
                snprintf(total, sizeof total, "%" PRIu64, rows[i].total);
                snprintf(active, sizeof active, "%" PRIu64, rows[i].active);
                format_size(rows[i].size, size, sizeof size);
                reclaimable_string(rows + i, rec, sizeof rec);
                const char *cells[] = {rows[i].type, total, active, size, rec};
                if (table_add_row(t, cells) < 0)
                        return log_oom();
        }
        return table_print(t, stdout);
}

static int print_items(json_t *images, json_t *containers, json_t *volumes) {
        json_t *e;
        size_t i;
        char size[32];

        printf("\nImages space usage:\n\n");
        static const char *const ih[] = {"REPOSITORY", "IMAGE ID", "SIZE", "CONTAINERS"};
        _cleanup_(table_freep) Table *ti = table_new(ELEMENTSOF(ih), ih);
        if (!ti)
                return log_oom();
        json_array_foreach (images, i, e) {
                json_t *names = json_object_get(e, "Names");
                _cleanup_free_ char *n = NULL;
                char users[24];
                format_size((uint64_t) json_integer_value(json_object_get(e, "Size")), size, sizeof size);
                snprintf(users, sizeof users, "%lld", json_integer_value(json_object_get(e, "Containers")));
                if (json_array_size(names) > 0) {
                        char **v = calloc(json_array_size(names) + 1, sizeof(char *));
                        json_t *x;
                        size_t k;
                        if (!v)
                                return log_oom();
                        json_array_foreach (names, k, x)
                                v[k] = (char *) json_string_value(x);
                        n = strv_join(v, ",");
                        free(v);
                        if (!n)
                                return log_oom();
                }
                const char *cells[] = {n ?: "<none>",
                                       digest_hex(json_string_value(json_object_get(e, "Id"))), size, users};
                char id[13];
                snprintf(id, sizeof id, "%.12s", cells[1]);
                cells[1] = id;
                if (table_add_row(ti, cells) < 0)
                        return log_oom();
        }
        table_print(ti, stdout);

        printf("\nContainers space usage:\n\n");
        static const char *const ch[] = {"CONTAINER ID", "IMAGE", "SIZE", "STATUS", "NAMES"};
        _cleanup_(table_freep) Table *tc = table_new(ELEMENTSOF(ch), ch);
        if (!tc)
                return log_oom();
        json_array_foreach (containers, i, e) {
                char id[13];
                snprintf(id, sizeof id, "%.12s", json_string_value(json_object_get(e, "Id")));
                format_size((uint64_t) json_integer_value(json_object_get(e, "Size")), size, sizeof size);
                const char *cells[] = {id, json_string_value(json_object_get(e, "Image")), size,
                                       json_string_value(json_object_get(e, "Status")),
                                       json_string_value(json_object_get(e, "Name"))};
                if (table_add_row(tc, cells) < 0)
                        return log_oom();
        }
        table_print(tc, stdout);

        printf("\nLocal Volumes space usage:\n\n");
        static const char *const vh[] = {"VOLUME NAME", "LINKS", "SIZE"};
        _cleanup_(table_freep) Table *tv = table_new(ELEMENTSOF(vh), vh);
        if (!tv)
                return log_oom();
        json_array_foreach (volumes, i, e) {
                char links[24];
                snprintf(links, sizeof links, "%lld", json_integer_value(json_object_get(e, "Links")));
                format_size((uint64_t) json_integer_value(json_object_get(e, "Size")), size, sizeof size);
                const char *cells[] = {json_string_value(json_object_get(e, "Name")), links, size};
                if (table_add_row(tv, cells) < 0)
                        return log_oom();
        }
        return table_print(tv, stdout);
}

/* JSON: numbers in bytes; templates: docker's fields, sizes as text (RawSize, RawReclaimable in bytes). */
static json_t *row_object(const Row *row, bool text) {
        char size[32], rec[48];
        format_size(row->size, size, sizeof size);
        reclaimable_string(row, rec, sizeof rec);
        if (!text)
                return json_pack("{s:s, s:I, s:I, s:I, s:I}", "Type", row->type, "Total",
                                 (json_int_t) row->total, "Active", (json_int_t) row->active, "Size",
                                 (json_int_t) row->size, "Reclaimable", (json_int_t) row->reclaimable);
        return json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:I, s:I}", "Type", row->type, "Total",
                         (json_int_t) row->total, "TotalCount", (json_int_t) row->total, "Active",
                         (json_int_t) row->active, "Size", size, "Reclaimable", rec, "RawSize",
                         (json_int_t) row->size, "RawReclaimable", (json_int_t) row->reclaimable);
}

int verb_df(const PsArgs *a) {
        _cleanup_(container_list_done) ContainerList cl = {};
        json_auto_t *image_users = json_object(), *volume_users = json_object(), *images = json_array(),
                    *containers = json_array(), *volumes = json_array(), *summary = json_array();
        Row rows[3] = {{"Images"}, {"Containers"}, {"Local Volumes"}};
        ReconcileContext ctx;
        int r;

        if (!image_users || !volume_users || !images || !containers || !volumes || !summary)
                return log_oom();
        reconcile_context_init(&ctx);
        r = containers_load_all(&ctx, &cl);
        if (r < 0)
                return r;
        if (count_users(&cl, image_users, volume_users) < 0)
                return log_oom();
        r = df_images(image_users, rows + 0, images);
        if (r < 0)
                return r;
        r = df_containers(&cl, rows + 1, containers);
        if (r < 0)
                return r;
        r = df_volumes(volume_users, rows + 2, volumes);
        if (r < 0)
                return r;

        if (arg_output == OUTPUT_TABLE) {
                r = print_summary(rows);
                if (r >= 0 && a->verbose)
                        r = print_items(images, containers, volumes);
        } else {
                for (size_t i = 0; i < 3; i++)
                        if (json_array_append_new(summary, row_object(rows + i, arg_output != OUTPUT_JSON)) <
                            0)
                                return log_oom();
                if (arg_output == OUTPUT_TEMPLATE)
                        r = template_render_all(arg_template, summary, stdout);
                else if (!a->verbose)
                        r = json_print(summary, stdout);
                else {
                        json_auto_t *all = json_pack("{s:O, s:O, s:O, s:O}", "Summary", summary, "Images",
                                                     images, "Containers", containers, "Volumes", volumes);
                        r = all ? json_print(all, stdout) : -ENOMEM;
                }
        }
        if (r >= 0 && fflush(stdout) != 0)
                r = -errno;
        if (r < 0)
                return log_error_errno(r, "Failed to write the usage: %m");
        return 0;
}
