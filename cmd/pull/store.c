/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fileio.h"
#include "lock.h"
#include "log.h"
#include "oci.h"
#include "paths.h"
#include "store.h"

static int mkdir_in_root(const char *a, const char *b, const char *c) {
        _cleanup_free_ char *p = path_join_internal(berth_root(), a, b, c, NULL);
        if (!p)
                return -ENOMEM;
        return mkdir_p(p, 0700);
}

int store_init(void) {
        _cleanup_free_ char *layout = berth_path("oci", "oci-layout");
        int r;

        if (!layout)
                return -ENOMEM;
        r = mkdir_in_root("oci", "blobs", "sha256");
        if (r >= 0)
                r = mkdir_in_root("tmp", NULL, NULL);
        if (r < 0)
                return r;
        if (access(layout, F_OK) == 0)
                return 0;
        static const char text[] = "{\"imageLayoutVersion\": \"1.0.0\"}\n";
        return write_file_atomic(layout, text, strlen(text), 0644);
}

int store_lock_gc(int operation, int *ret_fd) {
        _cleanup_free_ char *p = berth_path("oci", ".gc.lock");
        if (!p)
                return -ENOMEM;
        return lock_path(p, operation, ret_fd);
}

bool store_has_blob(const char *digest, uint64_t size) {
        _cleanup_free_ char *p = oci_blob_path(digest);
        struct stat st;
        if (!p || stat(p, &st) < 0 || !S_ISREG(st.st_mode))
                return false;
        return size == UINT64_MAX || (uint64_t) st.st_size == size;
}

static char *partial_path(const char *digest) {
        char name[SHA256_HEX_LEN + 16];
        snprintf(name, sizeof name, "%s.partial", digest_hex(digest));
        return berth_path("tmp", name);
}

int store_write_blob(const char *digest, const void *data, size_t len) {
        _cleanup_free_ char *dst = oci_blob_path(digest), *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!dst)
                return -EINVAL;
        if (store_has_blob(digest, len))
                return 0;
        if (asprintf(&tmp, "%s/tmp/%s.%d.tmp", berth_root(), digest_hex(digest), (int) getpid()) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0 && errno != EEXIST)
                r = -errno;
        (void) unlink(tmp);
        if (r < 0)
                return r;
        return fsync_parent_dir(dst);
}

int store_blob_lock(const char *digest, uint64_t size, bool wait, int *ret_fd, uint64_t *ret_offset,
                    Sha256 **ret_hash) {
        _cleanup_free_ char *p = partial_path(digest);
        _cleanup_close_ int fd = -EBADF;
        struct stat st, st2;

        if (!p)
                return -ENOMEM;
        for (;;) {
                if (store_has_blob(digest, size))
                        return 1;
                fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return -errno;
                while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
                        if (errno == EWOULDBLOCK)
                                return -EAGAIN;
                        if (errno != EINTR)
                                return -errno;
                }
                /* The holder before us may have renamed or removed the file we locked: only a lock on the
                 * file still under the name counts. */
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (stat(p, &st2) >= 0 && st.st_ino == st2.st_ino && st.st_dev == st2.st_dev)
                        break;
                fd = safe_close(fd);
        }
        if (store_has_blob(digest, size)) {
                (void) unlink(p);
                return 1;
        }
        _cleanup_(sha256_freep) Sha256 *h = sha256_new();
        if (!h)
                return -ENOMEM;
        uint64_t have = (uint64_t) st.st_size;
        if (have > size) {
                if (ftruncate(fd, 0) < 0)
                        return -errno;
                have = 0;
        }
        /* A partial left by a killed pull: hash what is there and resume after it. */
        if (have > 0) {
                static char buf[256 * 1024];
                uint64_t done = 0;
                while (done < have) {
                        ssize_t k = pread(fd, buf, (size_t) MIN((uint64_t) sizeof buf, have - done),
                                          (off_t) done);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                return k < 0 ? -errno : -EIO;
                        if (sha256_update(h, buf, (size_t) k) < 0)
                                return -EIO;
                        done += (uint64_t) k;
                }
                log_debug("Resuming blob %s after %" PRIu64 " bytes", digest, have);
        }
        *ret_fd = TAKE_FD(fd);
        *ret_offset = have;
        *ret_hash = TAKE_PTR(h);
        return 0;
}

int store_blob_commit(const char *digest, int fd) {
        _cleanup_free_ char *p = partial_path(digest), *dst = oci_blob_path(digest);
        int r = 0;

        if (!p || !dst)
                r = -ENOMEM;
        else if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
                r = -errno;
        else if (renameat2(AT_FDCWD, p, AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
                r = -errno;
                if (r == -EEXIST) { /* present already: same content by its name */
                        (void) unlink(p);
                        r = 0;
                }
        } else
                r = fsync_parent_dir(dst);
        safe_close(fd);
        return r;
}

void store_blob_discard(const char *digest, int fd) {
        _cleanup_free_ char *p = partial_path(digest);
        if (p)
                (void) unlink(p);
        safe_close(fd);
}

int store_index_update(int (*fn)(json_t *index, void *userdata), void *userdata) {
        _cleanup_free_ char *lockp = berth_path("oci", ".lock"), *ip = berth_path("oci", "index.json");
        _cleanup_(json_decrefp) json_t *index = NULL;
        _cleanup_close_ int lfd = -EBADF;
        int r;

        if (!lockp || !ip)
                return -ENOMEM;
        r = lock_path(lockp, LOCK_EX, &lfd);
        if (r < 0)
                return r;
        r = oci_index_load(&index);
        if (r < 0)
                return r;
        r = fn(index, userdata);
        if (r <= 0)
                return r;
        return json_write_file_atomic(ip, index);
}

typedef struct IndexSet {
        const char *name, *digest, *media_type, *id, *source;
        uint64_t size;
} IndexSet;

static const char *entry_annotation(json_t *e, const char *key) {
        return json_string_value(json_object_get(json_object_get(e, "annotations"), key));
}

static int index_set_fn(json_t *index, void *userdata) {
        IndexSet *s = userdata;
        json_t *manifests = json_object_get(index, "manifests"), *e;
        size_t i;

        json_array_foreach (manifests, i, e) {
                if (!streq_ptr(entry_annotation(e, OCI_REF_NAME_ANNOTATION), s->name))
                        continue;
                if (streq_ptr(json_string_value(json_object_get(e, "digest")), s->digest) &&
                    streq_ptr(entry_annotation(e, "io.berth.image.id"), s->id))
                        return 0;
                if (json_array_remove(manifests, i) < 0)
                        return -ENOMEM;
                break;
        }
        e = json_pack("{s:s, s:s, s:I, s:{s:s, s:s}}", "mediaType", s->media_type, "digest", s->digest,
                      "size", (json_int_t) s->size, "annotations", OCI_REF_NAME_ANNOTATION, s->name,
                      "io.berth.image.id", s->id);
        if (e && s->source)
                json_object_set_new(json_object_get(e, "annotations"), STORE_SOURCE_ANNOTATION,
                                    json_string(s->source));
        if (!e || json_array_append_new(manifests, e) < 0)
                return -ENOMEM;
        return 1;
}

int store_index_set_full(const char *name, const char *manifest_digest, uint64_t manifest_size,
                         const char *media_type, const char *image_id, const char *source_digest) {
        IndexSet s = {name, manifest_digest, media_type, image_id, source_digest, manifest_size};
        _cleanup_(json_decrefp) json_t *index = NULL;

        /* Warm pull: already so, no lock and no write. Entries only change under the lock, and a reader
         * sees the old or the new file whole. */
        if (oci_index_load(&index) >= 0) {
                json_t *e;
                size_t i;
                json_array_foreach (json_object_get(index, "manifests"), i, e)
                        if (streq_ptr(entry_annotation(e, OCI_REF_NAME_ANNOTATION), name) &&
                            streq_ptr(json_string_value(json_object_get(e, "digest")), manifest_digest) &&
                            streq_ptr(entry_annotation(e, "io.berth.image.id"), image_id))
                                return 0;
        }
        return store_index_update(index_set_fn, &s);
}

int store_index_set(const char *name, const char *manifest_digest, uint64_t manifest_size,
                    const char *media_type, const char *image_id) {
        return store_index_set_full(name, manifest_digest, manifest_size, media_type, image_id, NULL);
}

static int add_referenced(json_t *set, const char *manifest_digest) {
        _cleanup_free_ char *p = oci_blob_path(manifest_digest);
        _cleanup_(json_decrefp) json_t *m = NULL;
        json_t *l;
        size_t i;
        int r;

        if (!p)
                return -EBADMSG;
        json_object_set_new(set, manifest_digest, json_true());
        r = json_read_file(p, OCI_MANIFEST_MAX, &m, NULL);
        if (r < 0)
                return r;
        /* An index (from load) references manifests: keep them and what they reference. */
        json_array_foreach (json_object_get(m, "manifests"), i, l) {
                const char *d = json_string_value(json_object_get(l, "digest"));
                if (digest_is_valid(d) && !json_object_get(set, d))
                        (void) add_referenced(set, d);
        }
        const char *c = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
        if (digest_is_valid(c))
                json_object_set_new(set, c, json_true());
        json_array_foreach (json_object_get(m, "layers"), i, l) {
                const char *d = json_string_value(json_object_get(l, "digest"));
                if (digest_is_valid(d))
                        json_object_set_new(set, d, json_true());
        }
        return 0;
}

int store_referenced(json_t *index, json_t *set, json_t **ret_bad) {
        json_t *e;
        size_t i;

        json_array_foreach (json_object_get(index, "manifests"), i, e) {
                const char *src = entry_annotation(e, STORE_SOURCE_ANNOTATION);
                if (digest_is_valid(src))
                        json_object_set_new(set, src, json_true());
                int r = add_referenced(set, json_string_value(json_object_get(e, "digest")));
                if (r < 0) {
                        if (ret_bad)
                                *ret_bad = e;
                        return r;
                }
        }
        return 0;
}
