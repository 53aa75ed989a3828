/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "cli.h"
#include "container.h"
#include "fileio.h"
#include "images.h"
#include "lock.h"
#include "log.h"
#include "oci.h"
#include "paths.h"
#include "ref.h"
#include "store.h"
#include "util.h"

static const char *entry_name(json_t *e) {
        return json_string_value(
                json_object_get(json_object_get(e, "annotations"), OCI_REF_NAME_ANNOTATION));
}

/* The first container record whose Image is id, as "NAME (ID12)"; NULL if none. */
static int image_user(const char *id, char **ret) {
        _cleanup_strv_free_ char **ids = NULL;
        int r = container_list(&ids);
        if (r < 0)
                return r;
        for (size_t i = 0; ids[i]; i++) {
                _cleanup_(json_decrefp) json_t *c = NULL;
                if (container_load(ids[i], &c, NULL) < 0)
                        continue;
                if (!streq_ptr(json_string_value(json_object_get(c, "Image")), id))
                        continue;
                if (asprintf(ret, "'%s' (%.12s)", strna(json_string_value(json_object_get(c, "Name"))),
                             ids[i]) < 0)
                        return -ENOMEM;
                return 1;
        }
        *ret = NULL;
        return 0;
}

static const char *entry_id(json_t *e) {
        return json_string_value(json_object_get(json_object_get(e, "annotations"), "io.berth.image.id"));
}

static bool entry_kept(json_t *e) {
        return json_object_get(json_object_get(e, "annotations"), STORE_KEPT_ANNOTATION);
}

typedef struct RmiChange {
        char **names;       /* entries to remove */
        const char *id;     /* the image */
        json_t *kept_entry; /* added (nameless) when a container still uses the image; else kept entries go
                             */
} RmiChange;

static int rmi_fn(json_t *index, void *userdata) {
        RmiChange *c = userdata;
        json_t *manifests = json_object_get(index, "manifests");
        int changed = 0;
        for (size_t i = json_array_size(manifests); i > 0; i--) {
                json_t *e = json_array_get(manifests, i - 1);
                bool kept = entry_kept(e) && streq_ptr(entry_id(e), c->id);
                if (kept && c->kept_entry)
                        return changed; /* kept already, and it stays */
                if (kept || strv_contains(c->names, strna(entry_name(e)))) {
                        if (json_array_remove(manifests, i - 1) < 0)
                                return -ENOMEM;
                        changed = 1;
                }
        }
        if (c->kept_entry) {
                if (json_array_append(manifests, c->kept_entry) < 0)
                        return -ENOMEM;
                changed = 1;
        }
        return changed;
}

/* A container's image that lost its last name (rmi -f) stays in the index without one, as docker keeps a
 * dangling image, so the container can start again and gc keeps its blobs; gc drops the entry once no
 * container uses the image. */
static int kept_entry(const OciImage *img, json_t **ret) {
        _cleanup_free_ char *mp = oci_blob_path(img->manifest_digest);
        struct stat st;
        if (!mp || stat(mp, &st) < 0)
                return -errno ?: -ENOMEM;
        const char *mt =
                json_string_value(json_object_get(img->manifest, "mediaType")) ?: MEDIA_OCI_MANIFEST;
        *ret = json_pack("{s:s, s:s, s:I, s:{s:s, s:b}}", "mediaType", mt, "digest", img->manifest_digest,
                         "size", (json_int_t) st.st_size, "annotations", "io.berth.image.id", img->id,
                         STORE_KEPT_ANNOTATION, true);
        return *ret ? 0 : -ENOMEM;
}

static int rmi_one(const char *spec, bool force) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        _cleanup_strv_free_ char **names = NULL, **remove = NULL;
        _cleanup_free_ char *user = NULL;
        int r;

        r = oci_image_find(spec, &img);
        if (r == -ENOENT)
                return log_error_errno(r, "Image '%s' not found in '%s/oci'", spec, berth_root());
        if (r == -EADDRNOTAVAIL)
                return log_error_errno(r, "Image ID prefix '%s' is ambiguous", spec);
        if (r < 0)
                return log_error_errno(r, "Cannot read image '%s': %m", spec);
        r = oci_image_names(img->id, &names);
        if (r < 0)
                return log_error_errno(r, "Cannot read '%s/oci/index.json': %m", berth_root());
        if (img->name)
                r = strv_extend(&remove, img->name);
        else {
                /* By ID: every name goes, which docker asks to force when there are several. */
                if (strv_length(names) > 1 && !force)
                        return log_error_errno(-EBUSY,
                                               "Image %.19s has %zu names (%s); remove them by name, or "
                                               "use -f",
                                               img->id, strv_length(names), names[0]);
                for (size_t i = 0; names[i] && r >= 0; i++)
                        r = strv_extend(&remove, names[i]);
        }
        /* A nameless image (kept for a container) has no names to remove. */
        if (r >= 0 && !remove && !(remove = calloc(1, sizeof(char *))))
                r = -ENOMEM;
        if (r < 0)
                return log_oom();
        bool last = strv_length(remove) >= strv_length(names);
        _cleanup_(json_decrefp) json_t *kept = NULL;
        if (last) {
                r = image_user(img->id, &user);
                if (r < 0)
                        return log_error_errno(r, "Cannot read the container records: %m");
                if (r > 0 && !force)
                        return log_error_errno(-EBUSY,
                                               "Image '%s' is used by container %s; remove the container "
                                               "first, or use -f",
                                               spec, user);
                if (r > 0) {
                        r = kept_entry(img, &kept);
                        if (r < 0)
                                return log_error_errno(r, "Cannot read the manifest of '%s': %m", spec);
                }
        }
        RmiChange change = {.names = remove, .id = img->id, .kept_entry = kept};
        r = store_index_update(rmi_fn, &change);
        if (r < 0)
                return log_error_errno(r, "Cannot update '%s/oci/index.json': %m", berth_root());
        for (size_t i = 0; remove[i]; i++)
                printf("Untagged: %s\n", remove[i]);
        if (kept)
                log_info("Image %.19s stays, without a name, while container %s uses it", img->id, user);
        else if (last)
                printf("Deleted: %s\n", img->id);
        return 0;
}

int images_rmi(char **args, bool force) {
        int r = 0;
        if (!args[0])
                return cli_usage_error("Missing image; see 'berth-pull --help'");
        for (size_t i = 0; args[i]; i++) {
                int k = rmi_one(args[i], force);
                if (k < 0 && r == 0)
                        r = k;
        }
        return r;
}

int images_tag(char **args) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        _cleanup_(ref_freep) Reference *ref = NULL;
        _cleanup_free_ char *name = NULL, *mp = NULL;
        const char *why = NULL;
        struct stat st;
        int r;

        if (strv_length(args) != 2)
                return cli_usage_error("tag takes a source image and a target name");
        r = ref_parse(args[1], &ref, &why);
        if (r < 0 || ref->digest)
                return log_error_errno(-EINVAL, "Invalid target name '%s': %s", args[1],
                                       why ?: "a digest cannot be a new name");
        r = oci_image_find(args[0], &img);
        if (r == -ENOENT)
                return log_error_errno(r, "Image '%s' not found in '%s/oci'", args[0], berth_root());
        if (r < 0)
                return log_error_errno(r, "Cannot read image '%s': %m", args[0]);
        name = ref_store_name(ref);
        mp = oci_blob_path(img->manifest_digest);
        if (!name || !mp)
                return log_oom();
        if (stat(mp, &st) < 0)
                return log_error_errno(-errno, "Cannot read the manifest of '%s': %m", args[0]);
        const char *mt =
                json_string_value(json_object_get(img->manifest, "mediaType")) ?: MEDIA_OCI_MANIFEST;
        r = store_index_set(name, img->manifest_digest, (uint64_t) st.st_size, mt, img->id);
        if (r < 0)
                return log_error_errno(r, "Cannot update '%s/oci/index.json': %m", berth_root());
        return 0;
}

/* index.json.tmp.PID left by a writer killed mid-write (we hold the index lock: no writer is active). */
static void gc_index_tmp(void) {
        _cleanup_free_ char *dir = berth_path("oci");
        _cleanup_closedir_ DIR *d = dir ? opendir(dir) : NULL;
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (startswith(de->d_name, "index.json.tmp."))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
}

static int gc_tmp(void) {
        _cleanup_free_ char *dir = berth_path("tmp");
        if (!dir)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d)))
                if (endswith(de->d_name, ".partial") || endswith(de->d_name, ".tmp"))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        return 0;
}

/* Entries kept for containers (rmi -f) go when no container uses their image any more. Called with the
 * index lock held. */
static int gc_kept(json_t *index) {
        json_t *manifests = json_object_get(index, "manifests");
        bool changed = false;
        int r;

        for (size_t i = json_array_size(manifests); i > 0; i--) {
                json_t *e = json_array_get(manifests, i - 1);
                _cleanup_free_ char *user = NULL;
                if (!entry_kept(e))
                        continue;
                r = image_user(strna(entry_id(e)), &user);
                if (r < 0)
                        return log_error_errno(r, "Cannot read the container records, not collecting: %m");
                if (r > 0)
                        continue;
                log_info("Removed image %.19s, kept without a name until now", strna(entry_id(e)));
                if (json_array_remove(manifests, i - 1) < 0)
                        return log_oom();
                changed = true;
        }
        if (!changed)
                return 0;
        _cleanup_free_ char *ip = berth_path("oci", "index.json");
        if (!ip)
                return log_oom();
        r = json_write_file_atomic(ip, index);
        if (r < 0)
                return log_error_errno(r, "Cannot update '%s/oci/index.json': %m", berth_root());
        return 0;
}

int images_gc(char **args) {
        _cleanup_(json_decrefp) json_t *index = NULL, *keep = json_object();
        _cleanup_free_ char *blobs = berth_path("oci", "blobs", "sha256"),
                            *ilock = berth_path("oci", ".lock");
        _cleanup_close_ int gc_fd = -EBADF, idx_fd = -EBADF;
        uint64_t freed = 0, n = 0;
        json_t *e = NULL;
        int r;

        if (args[0])
                return cli_usage_error("gc takes no arguments");
        if (!keep || !blobs || !ilock)
                return log_oom();
        r = store_init();
        if (r < 0)
                return log_error_errno(r, "Cannot open the image store in '%s': %m", berth_root());
        /* Pulls hold the gc lock shared from their first blob to their index entry: wait for them. */
        r = store_lock_gc(LOCK_EX, &gc_fd);
        if (r >= 0)
                r = lock_path(ilock, LOCK_EX, &idx_fd);
        if (r < 0)
                return log_error_errno(r, "Cannot lock the image store in '%s': %m", berth_root());
        r = oci_index_load(&index);
        if (r < 0)
                return log_error_errno(r, "Cannot read '%s/oci/index.json': %m", berth_root());
        r = gc_kept(index);
        if (r < 0)
                return r;
        r = store_referenced(index, keep, &e);
        if (r < 0)
                /* Whatever a broken entry references is unknown: delete nothing. */
                return log_error_errno(
                        r, "Index entry '%s' (%s) cannot be read, not collecting anything: %m",
                        strna(entry_name(e)), strna(json_string_value(json_object_get(e, "digest"))));
        _cleanup_closedir_ DIR *d = opendir(blobs);
        struct dirent *de;
        if (!d)
                return log_error_errno(-errno, "Cannot open '%s': %m", blobs);
        while ((de = readdir(d))) {
                char digest[DIGEST_MAX];
                struct stat st;
                snprintf(digest, sizeof digest, "sha256:%s", de->d_name);
                if (!digest_is_valid(digest) || json_object_get(keep, digest))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
                        log_warning_errno(-errno, "Cannot remove blob %s, ignoring: %m", digest);
                        continue;
                }
                printf("%s\n", digest);
                freed += (uint64_t) st.st_size;
                n++;
        }
        (void) gc_tmp();
        gc_index_tmp();
        char sz[32];
        format_size(freed, sz, sizeof sz);
        log_info("Removed %" PRIu64 " blobs, %s", n, sz);
        return 0;
}
