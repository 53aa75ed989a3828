/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-pull save IMAGE oci-archive:FILE: an OCI layout of one image in a tar, as skopeo writes it (and as
 * `berth-pull load`, skopeo and podman read it). */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>

#include "cli.h"
#include "digest.h"
#include "fileio.h"
#include "images.h"
#include "log.h"
#include "oci.h"
#include "paths.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_write_free)

static int add_bytes(struct archive *a, const char *name, const void *data, size_t len) {
        struct archive_entry *e = archive_entry_new();
        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) len);
        int r = archive_write_header(a, e) == ARCHIVE_OK &&
                                archive_write_data(a, data, len) == (la_ssize_t) len
                        ? 0
                        : -EIO;
        archive_entry_free(e);
        return r;
}

static int add_blob(struct archive *a, const char *digest) {
        _cleanup_free_ char *p = oci_blob_path(digest), *name = NULL;
        _cleanup_close_ int fd = -EBADF;
        static char buf[256 * 1024];
        struct stat st;
        int r = 0;

        if (!p || asprintf(&name, "blobs/sha256/%s", digest_hex(digest)) < 0)
                return -ENOMEM;
        fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        struct archive_entry *e = archive_entry_new();
        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, st.st_size);
        if (archive_write_header(a, e) != ARCHIVE_OK)
                r = -EIO;
        archive_entry_free(e);
        for (off_t done = 0; r >= 0 && done < st.st_size;) {
                ssize_t k = read(fd, buf, sizeof buf);
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                if (archive_write_data(a, buf, (size_t) k) != k)
                        return -EIO;
                done += k;
        }
        return r;
}

int images_save(char **args) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        _cleanup_(archive_write_freep) struct archive *a = NULL;
        _cleanup_free_ char *tmp = NULL, *index = NULL, *mp = NULL;
        const char *file;
        struct stat st;
        int r;

        if (strv_length(args) != 2)
                return cli_usage_error("save takes an image and oci-archive:FILE");
        if (startswith(args[1], "docker-archive:"))
                return log_error_errno(-EOPNOTSUPP,
                                       "Saving as docker-archive is not supported; use oci-archive:FILE");
        file = startswith(args[1], "oci-archive:");
        if (isempty(file))
                return cli_usage_error("Unsupported destination '%s': expected oci-archive:FILE", args[1]);
        r = oci_image_find(args[0], &img);
        if (r == -ENOENT)
                return log_error_errno(r, "Image '%s' not found in '%s/oci'", args[0], berth_root());
        if (r < 0)
                return log_error_errno(r, "Cannot read image '%s': %m", args[0]);
        mp = oci_blob_path(img->manifest_digest);
        if (!mp || stat(mp, &st) < 0)
                return log_error_errno(-errno, "Cannot read the manifest of '%s': %m", args[0]);
        const char *mt =
                json_string_value(json_object_get(img->manifest, "mediaType")) ?: MEDIA_OCI_MANIFEST;
        _cleanup_(json_decrefp) json_t *ij =
                json_pack("{s:i, s:[{s:s, s:s, s:I, s:{s:s}}]}", "schemaVersion", 2, "manifests",
                          "mediaType", mt, "digest", img->manifest_digest, "size", (json_int_t) st.st_size,
                          "annotations", OCI_REF_NAME_ANNOTATION, img->name ?: args[0]);
        if (!ij || !(index = json_dumps(ij, JSON_COMPACT | JSON_SORT_KEYS)))
                return log_oom();
        if (asprintf(&tmp, "%s.tmp.%d", file, (int) getpid()) < 0)
                return log_oom();
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return log_error_errno(-errno, "Cannot create '%s': %m", file);
        a = archive_write_new();
        if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_open_fd(a, fd) != ARCHIVE_OK) {
                (void) unlink(tmp);
                return log_error_errno(-EIO, "Cannot create '%s': %s", file,
                                       a ? archive_error_string(a) : "out of memory");
        }
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        r = add_bytes(a, "oci-layout", layout, strlen(layout));
        if (r >= 0)
                r = add_bytes(a, "index.json", index, strlen(index));
        if (r >= 0)
                r = add_blob(a, img->manifest_digest);
        if (r >= 0)
                r = add_blob(a, img->id);
        for (size_t i = 0; r >= 0 && i < img->n_layers; i++)
                r = add_blob(a, img->layers[i].digest);
        if (r >= 0 && archive_write_close(a) != ARCHIVE_OK)
                r = -EIO;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, file) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return log_error_errno(r, "Cannot write '%s': %m", file);
        }
        return 0;
}
