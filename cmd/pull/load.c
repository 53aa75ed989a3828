/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-pull load: import docker-archive (docker save) and oci-archive (skopeo copy ... oci-archive:) files.
 * The archive is attacker input: entries are streamed to numbered temp files (never to paths from the
 * archive), every blob is checked against the digest and size that reference it, JSON is read with a cap. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <sys/file.h>

#include "cli.h"
#include "digest.h"
#include "fileio.h"
#include "images.h"
#include "log.h"
#include "oci.h"
#include "parse.h"
#include "paths.h"
#include "ref.h"
#include "store.h"

#define LOAD_ENTRIES_MAX 100000U
#define LOAD_PATH_MAX 1024U

typedef struct Entry {
        char *path;
        char *link; /* symlink target, as a path inside the archive */
        char *tmp;  /* regular file: its content */
        char digest[DIGEST_MAX];
        uint64_t size;
} Entry;

typedef struct Archive {
        Entry *e;
        size_t n;
        const char *file;
} Archive;

static void archive_done(Archive *a) {
        for (size_t i = 0; i < a->n; i++) {
                if (a->e[i].tmp)
                        (void) unlink(a->e[i].tmp);
                free(a->e[i].tmp);
                free(a->e[i].path);
                free(a->e[i].link);
        }
        free(a->e);
        *a = (Archive){};
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free)

/* "./a//b/./c" -> "a/b/c"; NULL for ".." or absolute trickery. */
static char *normalise(const char *dir, const char *p) {
        char buf[LOAD_PATH_MAX * 2];
        char *out = malloc(LOAD_PATH_MAX), *o = out;
        if (!out)
                return NULL;
        snprintf(buf, sizeof buf, "%s%s%s", dir ?: "", dir && *dir ? "/" : "", p);
        for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (streq(c, "."))
                        continue;
                if (streq(c, "..") || (size_t) (o - out) + strlen(c) + 2 > LOAD_PATH_MAX)
                        return mfree(out);
                if (o > out)
                        *o++ = '/';
                o = stpcpy(o, c);
        }
        *o = 0;
        return out;
}

static int read_archive(const char *file, Archive *a) {
        _cleanup_(archive_read_freep) struct archive *ar = archive_read_new();
        struct archive_entry *ae;
        static char buf[256 * 1024];
        int r;

        if (!ar)
                return log_oom();
        (void) archive_read_support_filter_all(ar);
        (void) archive_read_support_format_tar(ar);
        if (archive_read_open_filename(ar, file, 1024 * 1024) != ARCHIVE_OK)
                return log_error_errno(-EIO, "Cannot open archive '%s': %s", file, archive_error_string(ar));
        while ((r = archive_read_next_header(ar, &ae)) == ARCHIVE_OK) {
                mode_t type = archive_entry_filetype(ae);
                const char *p = archive_entry_pathname(ae);
                if (!p || (type != AE_IFREG && type != AE_IFLNK))
                        continue;
                if (a->n >= LOAD_ENTRIES_MAX)
                        return log_error_errno(-E2BIG, "Archive '%s' has more than %u entries", file,
                                               LOAD_ENTRIES_MAX);
                Entry *ne = realloc(a->e, (a->n + 1) * sizeof(Entry));
                if (!ne)
                        return log_oom();
                a->e = ne;
                Entry *e = a->e + a->n;
                *e = (Entry){.path = normalise(NULL, p)};
                if (!e->path)
                        continue; /* ".." and the like: nothing a layout or manifest.json may name */
                a->n++;
                if (type == AE_IFLNK) {
                        _cleanup_free_ char *d = strdup(e->path);
                        const char *t = archive_entry_symlink(ae);
                        if (!d || !t)
                                return log_oom();
                        char *dir = dirname(d);
                        e->link = normalise(streq(dir, ".") ? NULL : dir, t);
                        continue;
                }
                _cleanup_(sha256_freep) Sha256 *h = sha256_new();
                if (!h ||
                    asprintf(&e->tmp, "%s/tmp/load-%d-%zu.tmp", berth_root(), (int) getpid(), a->n) < 0)
                        return log_oom();
                _cleanup_close_ int fd =
                        open(e->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0)
                        return log_error_errno(-errno, "Cannot create '%s': %m", e->tmp);
                for (;;) {
                        la_ssize_t k = archive_read_data(ar, buf, sizeof buf);
                        if (k < 0)
                                return log_error_errno(-EIO, "Archive '%s', entry '%s': %s", file, e->path,
                                                       archive_error_string(ar));
                        if (k == 0)
                                break;
                        if (sha256_update(h, buf, (size_t) k) < 0)
                                return -EIO;
                        r = write_all(fd, buf, (size_t) k);
                        if (r < 0)
                                return log_error_errno(r, "Cannot write '%s': %m", e->tmp);
                        e->size += (uint64_t) k;
                }
                if (sha256_final(h, e->digest) < 0 || fsync(fd) < 0)
                        return log_error_errno(-EIO, "Cannot finish '%s'", e->tmp);
        }
        if (r != ARCHIVE_EOF)
                return log_error_errno(-EIO, "Cannot read archive '%s': %s", file, archive_error_string(ar));
        return 0;
}

static Entry *lookup(Archive *a, const char *path) {
        _cleanup_free_ char *p = normalise(NULL, path);
        for (unsigned hops = 0; p && hops < 8; hops++) {
                Entry *found = NULL;
                for (size_t i = 0; i < a->n; i++)
                        if (streq(a->e[i].path, p))
                                found = a->e + i;
                if (!found || !found->link)
                        return found;
                free(p);
                p = strdup(found->link);
        }
        return NULL;
}

static int entry_json(Archive *a, Entry *e, json_t **ret) {
        _cleanup_free_ char *err = NULL;
        if (e->size > OCI_MANIFEST_MAX)
                return log_error_errno(-EFBIG, "Archive '%s': '%s' is larger than 4 MiB", a->file, e->path);
        int r = json_read_file(e->tmp, OCI_MANIFEST_MAX, ret, &err);
        if (r < 0)
                return log_error_errno(r, "Archive '%s': '%s' is not valid JSON: %s", a->file, e->path,
                                       err ?: "");
        return 0;
}

/* The archive's blob with this digest and size: any entry whose content hashes to it (docker-archive names
 * blobs by path, oci-archive by digest; the content decides either way). */
static int blob_entry(Archive *a, const char *digest, int64_t size, Entry **ret) {
        if (!digest_is_valid(digest))
                return log_error_errno(-EBADMSG, "Archive '%s': invalid digest '%.80s'", a->file,
                                       strna(digest));
        for (size_t i = 0; i < a->n; i++) {
                Entry *e = a->e + i;
                if (e->link || !streq(e->digest, digest))
                        continue;
                if (size >= 0 && (uint64_t) size != e->size)
                        return log_error_errno(-EBADMSG,
                                               "Archive '%s': blob %s has %" PRIu64 " bytes, its descriptor "
                                               "says %" PRIi64,
                                               a->file, digest, e->size, size);
                *ret = e;
                return 0;
        }
        /* Stored already (by an earlier load or pull, or committed above for another image)? */
        if (store_has_blob(digest, size >= 0 ? (uint64_t) size : UINT64_MAX)) {
                *ret = NULL;
                return 0;
        }
        return log_error_errno(-ENOENT, "Archive '%s' lacks blob %s (or it does not match its digest)",
                               a->file, digest);
}

static int commit_entry(Entry *e) {
        _cleanup_free_ char *dst = oci_blob_path(e->digest);
        if (!dst)
                return -ENOMEM;
        if (renameat2(AT_FDCWD, e->tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Cannot store blob %s: %m", e->digest);
        (void) unlink(e->tmp);
        e->tmp = mfree(e->tmp);
        return fsync_parent_dir(dst);
}

/* Store a verified manifest (its config and layers in the archive), name it, print its ID. */
static int store_image(Archive *a, const char *mdigest, const char *mbody, size_t mlen, json_t *m,
                       char **names) {
        const char *why = NULL;
        json_t *l;
        size_t i;
        int r;

        r = oci_manifest_check(m, &why);
        if (r < 0)
                return log_error_errno(r, "Archive '%s': manifest %s is not valid: %s", a->file, mdigest,
                                       why);
        json_t *cfg = json_object_get(m, "config");
        Entry *ce = NULL;
        r = blob_entry(a, json_string_value(json_object_get(cfg, "digest")),
                       json_integer_value(json_object_get(cfg, "size")), &ce);
        if (r < 0)
                return r;
        if (ce && ce->tmp && (r = commit_entry(ce)) < 0)
                return r;
        json_array_foreach (json_object_get(m, "layers"), i, l) {
                Entry *le = NULL;
                r = blob_entry(a, json_string_value(json_object_get(l, "digest")),
                               json_integer_value(json_object_get(l, "size")), &le);
                if (r < 0)
                        return r;
                if (le && le->tmp && (r = commit_entry(le)) < 0)
                        return r;
        }
        r = store_write_blob(mdigest, mbody, mlen);
        if (r < 0)
                return log_error_errno(r, "Cannot store manifest %s: %m", mdigest);
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        r = oci_image_load(mdigest, NULL, &img);
        if (r < 0)
                return log_error_errno(r, "Archive '%s': the config of %s does not match its layers: %m",
                                       a->file, mdigest);
        const char *mt = json_string_value(json_object_get(m, "mediaType")) ?: MEDIA_OCI_MANIFEST;
        for (i = 0; names && names[i]; i++) {
                r = store_index_set(names[i], mdigest, mlen, mt, img->id);
                if (r < 0)
                        return log_error_errno(r, "Cannot update '%s/oci/index.json': %m", berth_root());
        }
        printf("%s\n", img->id);
        return 0;
}

/* The names to give a loaded image: NAME if given, else the archive's own (RepoTags, or a full reference in
 * the OCI ref.name annotation). */
static int name_list(const char *given, json_t *tags, const char *what, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;
        size_t n = given ? 1 : json_array_size(tags);
        int r;

        if (n == 0)
                return log_error_errno(-EINVAL, "%s has no name: give one (berth-pull load ARCHIVE NAME)",
                                       what);
        for (size_t i = 0; i < n; i++) {
                _cleanup_(ref_freep) Reference *ref = NULL;
                const char *s = given ?: json_string_value(json_array_get(tags, i));
                const char *why = NULL;
                if (!s || ref_parse(s, &ref, &why) < 0 || ref->digest)
                        return log_error_errno(-EINVAL, "%s: invalid name '%s': %s", what, strna(s),
                                               why ?: "a digest is not a name");
                r = strv_push(&names, ref_store_name(ref));
                if (r < 0)
                        return log_oom();
        }
        *ret = TAKE_PTR(names);
        return 0;
}

static int load_oci(Archive *a, const char *name) {
        _cleanup_(json_decrefp) json_t *index = NULL;
        Entry *ie = lookup(a, "index.json");
        json_t *d;
        size_t i;
        int r;

        if (!ie || !ie->tmp)
                return log_error_errno(-EBADMSG, "Archive '%s' has no index.json: not an oci-archive",
                                       a->file);
        r = entry_json(a, ie, &index);
        if (r < 0)
                return r;
        json_array_foreach (json_object_get(index, "manifests"), i, d) {
                _cleanup_(json_decrefp) json_t *m = NULL, *tags = json_array();
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_free_ char *body = NULL;
                size_t len;
                Entry *me = NULL;
                const char *rn = json_string_value(
                        json_object_get(json_object_get(d, "annotations"), OCI_REF_NAME_ANNOTATION));
                r = blob_entry(a, json_string_value(json_object_get(d, "digest")),
                               json_integer_value(json_object_get(d, "size")), &me);
                if (r < 0)
                        return r;
                if (!me)
                        return log_error_errno(-EEXIST,
                                               "Archive '%s': manifest %zu is stored already; nothing to do",
                                               a->file, i + 1);
                r = entry_json(a, me, &m);
                if (r < 0)
                        return r;
                if (json_object_get(m, "manifests"))
                        return log_error_errno(-EOPNOTSUPP,
                                               "Archive '%s': entry %zu is an index; only images are loaded",
                                               a->file, i + 1);
                /* A bare tag ("latest", as skopeo writes) is not a name. */
                if (rn && (strchr(rn, '/') || strchr(rn, ':')))
                        json_array_append_new(tags, json_string(rn));
                r = name_list(name, tags, "Image in the archive", &names);
                if (r < 0)
                        return r;
                r = read_full_file(me->tmp, OCI_MANIFEST_MAX, &body, &len);
                if (r < 0)
                        return log_error_errno(r, "Cannot read '%s': %m", me->tmp);
                r = store_image(a, me->digest, body, len, m, names);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_docker(Archive *a, const char *name) {
        _cleanup_(json_decrefp) json_t *list = NULL;
        Entry *me = lookup(a, "manifest.json");
        json_t *img;
        size_t i;
        int r;

        if (!me || !me->tmp)
                return log_error_errno(-EBADMSG, "Archive '%s' has no manifest.json: not a docker-archive",
                                       a->file);
        r = entry_json(a, me, &list);
        if (r < 0)
                return r;
        if (!json_is_array(list))
                return log_error_errno(-EBADMSG, "Archive '%s': manifest.json is not an array", a->file);
        json_array_foreach (list, i, img) {
                _cleanup_(json_decrefp) json_t *cfg = NULL, *m = NULL, *layers = json_array();
                _cleanup_strv_free_ char **names = NULL;
                const char *cpath = json_string_value(json_object_get(img, "Config")), *lp;
                Entry *ce = cpath ? lookup(a, cpath) : NULL;
                json_t *l, *diff_ids;
                size_t k;
                if (!ce || !ce->tmp)
                        return log_error_errno(-EBADMSG, "Archive '%s': image %zu has no config", a->file,
                                               i + 1);
                r = entry_json(a, ce, &cfg);
                if (r < 0)
                        return r;
                diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
                if (json_array_size(diff_ids) != json_array_size(json_object_get(img, "Layers")))
                        return log_error_errno(
                                -EBADMSG, "Archive '%s': image %zu lists %zu layers, its config %zu",
                                a->file, i + 1, json_array_size(json_object_get(img, "Layers")),
                                json_array_size(diff_ids));
                json_array_foreach (json_object_get(img, "Layers"), k, l) {
                        Entry *le = (lp = json_string_value(l)) ? lookup(a, lp) : NULL;
                        if (!le || !le->tmp)
                                return log_error_errno(-EBADMSG, "Archive '%s': layer '%s' is missing",
                                                       a->file, strna(lp));
                        /* docker save writes layers uncompressed: their digest is the DiffID. */
                        if (!streq_ptr(json_string_value(json_array_get(diff_ids, k)), le->digest))
                                return log_error_errno(
                                        -EBADMSG,
                                        "Archive '%s': layer '%s' has digest %s, the config "
                                        "says %s",
                                        a->file, lp, le->digest,
                                        strna(json_string_value(json_array_get(diff_ids, k))));
                        json_array_append_new(layers,
                                              json_pack("{s:s, s:s, s:I}", "mediaType",
                                                        "application/vnd.oci.image.layer.v1.tar", "digest",
                                                        le->digest, "size", (json_int_t) le->size));
                }
                r = name_list(name, json_object_get(img, "RepoTags"), "Image in the archive", &names);
                if (r < 0)
                        return r;
                m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType",
                              MEDIA_OCI_MANIFEST, "config", "mediaType", MEDIA_OCI_CONFIG, "digest",
                              ce->digest, "size", (json_int_t) ce->size, "layers", layers);
                _cleanup_free_ char *body = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
                char md[DIGEST_MAX];
                if (!body || sha256_digest(body, strlen(body), md) < 0)
                        return log_oom();
                r = store_image(a, md, body, strlen(body), m, names);
                if (r < 0)
                        return r;
        }
        return 0;
}

int images_load(char **args, bool quiet) {
        _cleanup_(archive_done) Archive a = {};
        _cleanup_close_ int gc_fd = -EBADF;
        const char *spec, *file;
        int r;

        if (strv_length(args) < 1 || strv_length(args) > 2)
                return cli_usage_error(
                        "load takes docker-archive:FILE or oci-archive:FILE, and optionally a NAME");
        spec = args[0];
        file = startswith(spec, "docker-archive:") ?: startswith(spec, "oci-archive:");
        if (isempty(file))
                return cli_usage_error(
                        "Unsupported source '%s': expected docker-archive:FILE or oci-archive:FILE", spec);
        r = store_init();
        if (r >= 0)
                r = store_lock_gc(LOCK_SH, &gc_fd);
        if (r < 0)
                return log_error_errno(r, "Cannot open the image store in '%s': %m", berth_root());
        a.file = file;
        r = read_archive(file, &a);
        if (r < 0)
                return r;
        return startswith(spec, "oci-archive:") ? load_oci(&a, args[1]) : load_docker(&a, args[1]);
}
