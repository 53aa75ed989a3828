/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --to DIR: the merged tree of an image as a plain directory. */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "store.h"

static int tree_fill(const OciImage *img, const char *spec, const char *dir, int fd,
                     const UnpackOptions *o) {
        uint64_t need = 0;
        int r;

        for (size_t i = 0; i < img->n_layers; i++)
                need += layer_estimate_size(&img->layers[i]);
        r = check_free_space(dir, need, o->min_free, "the tree");
        if (r < 0)
                return r;
        for (size_t i = 0; i < img->n_layers; i++) {
                _cleanup_(layer_stream_freep) LayerStream *s = NULL;
                char why[1024] = "", got[DIGEST_MAX];
                ExtractOptions eo = {
                        .mode = EXTRACT_TREE,
                        .base = i == 0,
                        .uidmap = o->uidmap,
                        .gidmap = o->gidmap,
                        .max_entries = o->max_entries,
                        .min_free = o->min_free,
                };
                r = layer_open_stream(&img->layers[i], o->max_layer_size, &s, why, sizeof why);
                if (r >= 0)
                        r = extract_tar(fd, s, &eo, NULL, why, sizeof why);
                if (r >= 0) {
                        r = layer_stream_finish(s, got);
                        if (r < 0)
                                (void) snprintf(why, sizeof why, "%s", layer_stream_why(s) ?: strerror(-r));
                }
                if (r >= 0 && !streq(got, img->layers[i].diff_id)) {
                        (void) snprintf(why, sizeof why,
                                        "DiffID mismatch: the config says %s, the content is %s",
                                        img->layers[i].diff_id, got);
                        r = -EBADMSG;
                }
                if (r < 0) {
                        why_escape(why, sizeof why);
                        return log_error_errno(r, "Layer %zu/%zu (%s) of '%s' refused: %s", i + 1,
                                               img->n_layers, img->layers[i].digest, spec,
                                               *why ? why : strerror(-r));
                }
        }
        if (syncfs(fd) < 0)
                log_warning_errno(-errno, "Cannot sync '%s', ignoring: %m", dir);
        return 0;
}

/* A new DIR is written as the hidden sibling ".NAME.berth-tmp", locked while it is written, and renamed into
 * place when complete: a killed unpack never leaves a tree that looks whole. An unlocked leftover is a dead
 * unpack's and is removed. */
static int tree_tmp_create(const char *dir, char **ret_tmp, int *ret_fd) {
        _cleanup_free_ char *a = strdup(dir), *b = strdup(dir), *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (!a || !b)
                return log_oom();
        if (asprintf(&tmp, "%s/.%s.berth-tmp", dirname(a), basename(b)) < 0)
                return log_oom();
        for (int attempt = 0;; attempt++) {
                if (mkdir(tmp, 0755) >= 0)
                        break;
                if (errno != EEXIST || attempt > 0)
                        return log_error_errno(-errno, "Cannot create '%s': %m",
                                               errno == EEXIST ? tmp : dir);
                fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return log_error_errno(-errno, "Cannot open '%s': %m", tmp);
                if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                        return log_error_errno(errno == EWOULDBLOCK ? -EBUSY : -errno,
                                               errno == EWOULDBLOCK
                                                       ? "'%s' is being written by another berth-unpack"
                                                       : "Cannot lock '%s': %m",
                                               dir);
                fd = safe_close(fd);
                int r = rm_rf(tmp);
                if (r < 0)
                        return log_error_errno(r, "Cannot remove the leftover '%s': %m", tmp);
                log_debug("Removed '%s', left by an interrupted unpack", tmp);
        }
        fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = log_error_errno(-errno, "Cannot lock '%s': %m", tmp);
                (void) rm_rf(tmp);
                return r;
        }
        *ret_tmp = TAKE_PTR(tmp);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int unpack_to_dir(const OciImage *img, const char *spec, const char *dir, const UnpackOptions *o) {
        _cleanup_free_ char *path = strdup(dir), *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (!path)
                return log_oom();
        /* "tree/" names "tree" */
        for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
                path[n - 1] = 0;
        if (lstat(path, &st) < 0 && errno == ENOENT) {
                r = tree_tmp_create(path, &tmp, &fd);
                if (r < 0)
                        return r;
                r = tree_fill(img, spec, tmp, fd, o);
                if (r >= 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0)
                        r = log_error_errno(-errno, "Cannot move '%s' into place: %m", path);
                if (r < 0) {
                        (void) rm_rf(tmp);
                        return r;
                }
                (void) fsync_parent_dir(path);
                return 0;
        }

        /* An existing directory (a mount point, say) must be empty; it is filled in place and emptied
         * again on failure. */
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Cannot open '%s': %m", path);
        {
                _cleanup_closedir_ DIR *d = opendir(path);
                struct dirent *de;
                while (d && (de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                return log_error_errno(-ENOTEMPTY, "Directory '%s' is not empty", path);
        }
        r = tree_fill(img, spec, path, fd, o);
        if (r >= 0)
                return 0;
        _cleanup_closedir_ DIR *d = fdopendir(TAKE_FD(fd));
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) rm_rf_at(dirfd(d), de->d_name);
        return r;
}
