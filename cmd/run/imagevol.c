/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image's Volumes: anonymous volumes filled from the image (or tmpfs), at paths resolved in the root. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fileio.h"
#include "imagevol.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "safeio.h"
#include "spec.h"

#define IMAGE_VOLUMES_MAX 128U
#define COPY_DEPTH_MAX 256U

char *path_clean_abs(const char *p) {
        if (!p || p[0] != '/')
                return NULL;
        size_t len = strlen(p);
        char *out = malloc(len + 2);
        if (!out)
                return NULL;
        size_t n = 0;
        for (const char *s = p; *s;) {
                while (*s == '/')
                        s++;
                const char *e = s + strcspn(s, "/");
                size_t l = (size_t) (e - s);
                if (l == 0 || (l == 1 && s[0] == '.'))
                        ;
                else if (l == 2 && s[0] == '.' && s[1] == '.') {
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--; /* the slash before it */
                } else {
                        out[n++] = '/';
                        memcpy(out + n, s, l);
                        n += l;
                }
                s = e;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = 0;
        return out;
}

/* "/", or in /proc, /sys or /dev: the runtime mounts its own file systems there (runc CVE-2019-16884). */
static bool path_is_forbidden(const char *p) {
        static const char *const api[] = {"/proc", "/sys", "/dev"};
        if (streq(p, "/"))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(api); i++) {
                const char *rest = startswith(p, api[i]);
                if (rest && (*rest == 0 || *rest == '/'))
                        return true;
        }
        return false;
}

/* The path of fd (inside the root) as the container sees it. */
static int fd_container_path(int rootfd, int fd, char **ret) {
        char proc[64], root[PATH_MAX], path[PATH_MAX];
        ssize_t a, b;

        snprintf(proc, sizeof proc, "/proc/self/fd/%d", rootfd);
        a = readlink(proc, root, sizeof root - 1);
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        b = readlink(proc, path, sizeof path - 1);
        if (a < 0 || b < 0)
                return -errno;
        root[a] = path[b] = 0;
        const char *rest = streq(root, "/") ? path : startswith(path, root);
        if (!rest || (*rest != 0 && *rest != '/'))
                return -EXDEV; /* cannot happen with RESOLVE_IN_ROOT */
        *ret = strdup(*rest ? rest : "/");
        return *ret ? 0 : -ENOMEM;
}

static bool is_covered(const char *dst, json_t *binds, char **tmpfs) {
        size_t i;
        json_t *b;
        json_array_foreach (binds, i, b) {
                _cleanup_free_ char *d =
                        path_clean_abs(json_string_value(json_object_get(b, "Destination")));
                if (d && streq(d, dst))
                        return true;
        }
        for (size_t k = 0; tmpfs && tmpfs[k]; k++) {
                _cleanup_free_ char *t = strndup(tmpfs[k], strcspn(tmpfs[k], ":"));
                _cleanup_free_ char *d = t ? path_clean_abs(t) : NULL;
                if (d && streq(d, dst))
                        return true;
        }
        return false;
}

static void copy_attrs(int fd, const struct stat *st) {
        /* chown first: it clears the set-id bits that fchmod then sets */
        (void) fchown(fd, st->st_uid, st->st_gid);
        (void) fchmod(fd, st->st_mode & 07777);
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        (void) futimens(fd, ts);
}

static int copy_file(int sdfd, int ddfd, const char *name) {
        _cleanup_close_ int in =
                openat(sdfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        _cleanup_close_ int out = -EBADF;
        struct stat st;
        char buf[64 * 1024];

        if (in < 0)
                return -errno;
        if (fstat(in, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return 0;
        out = openat(ddfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        for (;;) {
                ssize_t k = read(in, buf, sizeof buf);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                int r = write_all(out, buf, (size_t) k);
                if (r < 0)
                        return r;
        }
        copy_attrs(out, &st);
        return 0;
}

/* Copy the tree below sdfd (in the image) into the new, empty ddfd (in the volume): directories, regular
 * files and symlinks (as links, never followed); devices, FIFOs and sockets are left out. Every name is
 * opened with O_NOFOLLOW relative to a directory we hold, so nothing is read or written outside either. */
static int copy_tree(int sdfd, int ddfd, unsigned depth) {
        if (depth > COPY_DEPTH_MAX)
                return -ELOOP;
        int dfd = openat(sdfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        struct dirent *de;
        int r;
        while ((errno = 0, de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(sdfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode)) {
                        if (mkdirat(ddfd, de->d_name, 0700) < 0)
                                return -errno;
                        _cleanup_close_ int s =
                                openat(sdfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        _cleanup_close_ int t =
                                openat(ddfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (s < 0 || t < 0)
                                return -errno;
                        r = copy_tree(s, t, depth + 1);
                        if (r < 0)
                                return r;
                        copy_attrs(t, &st);
                } else if (S_ISREG(st.st_mode)) {
                        r = copy_file(sdfd, ddfd, de->d_name);
                        if (r < 0)
                                return r;
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(sdfd, de->d_name, target, sizeof target - 1);
                        if (n < 0)
                                return -errno;
                        target[n] = 0;
                        if (symlinkat(target, ddfd, de->d_name) < 0)
                                return -errno;
                        (void) fchownat(ddfd, de->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
                        struct timespec ts[2] = {st.st_atim, st.st_mtim};
                        (void) utimensat(ddfd, de->d_name, ts, AT_SYMLINK_NOFOLLOW);
                } else
                        log_debug("Not copying '%s' (a device, FIFO or socket) into the volume", de->d_name);
        }
        return errno > 0 ? -errno : 0;
}

static int fill_volume(int mpfd, const char *data) {
        _cleanup_close_ int src = openat(mpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int dst = open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        int r;

        if (src < 0 || dst < 0)
                return -errno;
        if (fstat(src, &st) < 0)
                return -errno;
        r = copy_tree(src, dst, 0);
        if (r < 0)
                return r;
        copy_attrs(dst, &st);
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* A volume at path (cleaned): skipped where a -v or --tmpfs is mounted already; an empty tmpfs, or a new
 * anonymous volume filled from the image's content there. */
static int volume_at(int rootfd, const char *path, ImageVolumeMode mode, const RunOptions *o, json_t *binds,
                     char ***created, char **ret_why) {
        _cleanup_close_ int mpfd = -EBADF;
        int r;
        _cleanup_free_ char *dst = NULL, *data = NULL;
        char name[65];

        if (is_covered(path, binds, o->tmpfs))
                return 0;
        r = root_mkdir_p(rootfd, path, 0755, &mpfd);
        if (r < 0) {
                (void) asprintf(ret_why, "cannot create volume '%s' in the rootfs: %s", path,
                                r == -ENOTDIR ? "a component is not a directory" : strerror(-r));
                return r;
        }
        r = fd_container_path(rootfd, mpfd, &dst);
        if (r < 0) {
                (void) asprintf(ret_why, "cannot resolve volume '%s' in the rootfs: %s", path, strerror(-r));
                return r;
        }
        if (path_is_forbidden(dst) || !spec_path_is_safe(dst)) {
                (void) asprintf(ret_why,
                                "volume '%s' of the image resolves to '%s', which is / or in /proc, "
                                "/sys or /dev (use --image-volume ignore)",
                                path, dst);
                return -EPERM;
        }
        if (!streq(dst, path) && is_covered(dst, binds, o->tmpfs))
                return 0;
        if (mode == IMAGE_VOLUME_TMPFS) {
                json_array_append_new(binds,
                                      json_pack("{s:s, s:s, s:s, s:b, s:s}", "Type", "tmpfs", "Source",
                                                "tmpfs", "Destination", dst, "RW", 1, "Name", ""));
                return 0;
        }
        r = volume_create_anonymous(name, &data);
        if (r < 0) {
                (void) asprintf(ret_why, "cannot create a volume for '%s': %s", path, strerror(-r));
                return r;
        }
        if (strv_extend(created, name) < 0)
                return -ENOMEM;
        r = fill_volume(mpfd, data);
        if (r < 0) {
                (void) asprintf(ret_why, "cannot copy the image's '%s' into its volume: %s", path,
                                strerror(-r));
                return r;
        }
        json_array_append_new(binds,
                              json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "Type", "volume", "Name", name,
                                        "Source", data, "Destination", dst, "RW", 1, "Anonymous", 1));
        return 0;
}

int image_volumes_setup(int rootfd, json_t *image_config, const RunOptions *o, json_t *binds,
                        char ***created, char **ret_why) {
        json_t *vols = json_object_get(image_config, "Volumes");
        _cleanup_strv_free_ char **paths = NULL;
        const char *key;
        json_t *v;
        int r;

        if (o->image_volume == IMAGE_VOLUME_IGNORE || !json_is_object(vols))
                return 0;
        if (json_object_size(vols) > IMAGE_VOLUMES_MAX) {
                (void) asprintf(ret_why, "the image declares more than %u volumes", IMAGE_VOLUMES_MAX);
                return -E2BIG;
        }
        json_object_foreach (vols, key, v) {
                _cleanup_free_ char *clean = path_clean_abs(key);
                if (!clean) {
                        (void) asprintf(ret_why, "volume '%s' of the image is not an absolute path", key);
                        return -EINVAL;
                }
                if (path_is_forbidden(clean)) {
                        (void) asprintf(ret_why,
                                        "volume '%s' of the image is '%s', which is / or in /proc, /sys or "
                                        "/dev (use --image-volume ignore)",
                                        key, clean);
                        return -EPERM;
                }
                if (!strv_contains(paths, clean) && strv_extend(&paths, clean) < 0)
                        return -ENOMEM;
        }
        /* a parent before its children, so they are mounted on top of it */
        if (paths)
                qsort(paths, strv_length(paths), sizeof(char *), cmp_str);

        for (size_t i = 0; paths && paths[i]; i++) {
                r = volume_at(rootfd, paths[i], o->image_volume, o, binds, created, ret_why);
                if (r < 0)
                        return r;
        }
        return 0;
}

int anonymous_volumes_setup(int rootfd, const RunOptions *o, json_t *binds, char ***created,
                            char **ret_why) {
        for (size_t i = 0; o->anon_volumes && o->anon_volumes[i]; i++) {
                _cleanup_free_ char *clean = path_clean_abs(o->anon_volumes[i]);
                if (!clean || path_is_forbidden(clean)) {
                        (void) asprintf(ret_why, "invalid volume destination '%s'", o->anon_volumes[i]);
                        return -EINVAL;
                }
                int r = volume_at(rootfd, clean, IMAGE_VOLUME_BIND, o, binds, created, ret_why);
                if (r < 0)
                        return r;
        }
        return 0;
}

int named_volumes_copy_up(int rootfd, json_t *binds, char **ret_why) {
        json_t *b;
        size_t i;
        int r;

        json_array_foreach (binds, i, b) {
                const char *name = json_string_value(json_object_get(b, "Name"));
                const char *dst = json_string_value(json_object_get(b, "Destination"));
                const char *data = json_string_value(json_object_get(b, "Source"));
                if (!streq_ptr(json_string_value(json_object_get(b, "Type")), "volume") || isempty(name) ||
                    !dst || !data || json_is_true(json_object_get(b, "Anonymous")))
                        continue;
                _cleanup_free_ char *meta = berth_path("volumes", name, "volume.json");
                json_auto_t *j = NULL;
                if (!meta)
                        return -ENOMEM;
                if (json_read_file(meta, 1024 * 1024, &j, NULL) < 0 ||
                    !json_is_true(json_object_get(j, "NeedsCopyUp")))
                        continue;
                if (!json_is_true(json_object_get(b, "NoCopy"))) {
                        /* the image's directory there, resolved inside the root; none: nothing to copy */
                        _cleanup_close_ int mpfd = -EBADF;
                        r = root_open(rootfd, dst, O_RDONLY | O_DIRECTORY, 0, &mpfd);
                        if (r < 0 && r != -ENOENT && r != -ENOTDIR) {
                                (void) asprintf(ret_why, "cannot open the image's '%s' for volume '%s': %s",
                                                dst, name, strerror(-r));
                                return r;
                        }
                        if (r >= 0) {
                                _cleanup_free_ char *real = NULL;
                                r = fd_container_path(rootfd, mpfd, &real);
                                if (r >= 0 && (path_is_forbidden(real) || !spec_path_is_safe(real)))
                                        r = -EPERM;
                                if (r >= 0)
                                        r = fill_volume(mpfd, data);
                                if (r < 0) {
                                        (void) asprintf(ret_why,
                                                        "cannot copy the image's '%s' into volume '%s': %s",
                                                        dst, name, strerror(-r));
                                        return r;
                                }
                        }
                }
                json_object_set_new(j, "NeedsCopyUp", json_false());
                r = json_write_file_atomic(meta, j);
                if (r < 0) {
                        (void) asprintf(ret_why, "cannot update volume '%s': %s", name, strerror(-r));
                        return r;
                }
        }
        return 0;
}
