/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "fileio.h"
#include "macro.h"

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size) {
        size_t size = 0, alloc = 4096;
        _cleanup_free_ char *buf = malloc(alloc);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (alloc - size < 2) {
                        if (alloc > max + 1)
                                return -EFBIG;
                        char *n = realloc(buf, alloc * 2);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        alloc *= 2;
                }
                ssize_t k = read(fd, buf + size, alloc - size - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
                if (size > max)
                        return -EFBIG;
        }
        buf[size] = 0;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_full_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max, ret, ret_size);
}

int write_all(int fd, const void *data, size_t len) {
        const char *p = data;
        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

int fsync_parent_dir(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        _cleanup_close_ int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return RET_NERRNO(fsync(fd));
}

int write_file_atomic_full(const char *path, const void *data, size_t len, mode_t mode, WriteFlags flags) {
        _cleanup_free_ char *tmp = NULL;
        int r;

        if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0)
                return -ENOMEM;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, len);
        if (r >= 0 && !(flags & WRITE_NO_SYNC) && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return (flags & (WRITE_NO_DIR_SYNC | WRITE_NO_SYNC)) ? 0 : fsync_parent_dir(path);
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode) {
        return write_file_atomic_full(path, data, len, mode, 0);
}

int json_parse(const char *buf, size_t len, json_t **ret, char **ret_error) {
        json_error_t jerr;
        json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) {
                if (ret_error &&
                    asprintf(ret_error, "%s at line %d column %d", jerr.text, jerr.line, jerr.column) < 0)
                        *ret_error = NULL;
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

int json_read_file(const char *path, size_t max, json_t **ret, char **ret_error) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_full_file(path, max, &buf, &len);
        if (r < 0)
                return r;
        return json_parse(buf, len, ret, ret_error);
}

int json_write_file_atomic_full(const char *path, json_t *j, WriteFlags flags) {
        _cleanup_free_ char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!s)
                return -ENOMEM;
        size_t n = strlen(s);
        _cleanup_free_ char *t = malloc(n + 2);
        if (!t)
                return -ENOMEM;
        memcpy(t, s, n);
        t[n] = '\n';
        return write_file_atomic_full(path, t, n + 1, 0600, flags);
}

int json_write_file_atomic(const char *path, json_t *j) {
        return json_write_file_atomic_full(path, j, 0);
}

static int rm_rf_children(int fd, dev_t dev) {
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        int r = 0;
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && r == 0)
                                r = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        if (st.st_dev != dev) {
                                if (r == 0)
                                        r = -EBUSY; /* a mount point: never descend */
                                continue;
                        }
                        int cfd = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
                        if (cfd < 0)
                                cfd = openat(dirfd(d), de->d_name,
                                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd < 0) {
                                if (errno != ENOENT && r == 0)
                                        r = -errno;
                                continue;
                        }
                        int q = rm_rf_children(cfd, dev);
                        if (q < 0 && r == 0)
                                r = q;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                                r = -errno;
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        }
        return r;
}

int rm_rf_at(int dirfd, const char *name) {
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return RET_NERRNO(unlinkat(dirfd, name, 0));
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = rm_rf_children(fd, st.st_dev);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

int rm_rf(const char *path) {
        return rm_rf_at(AT_FDCWD, path);
}

size_t strv_length(char *const *v) {
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

void strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

int strv_push(char ***v, char *s) {
        size_t n = strv_length(*v);
        char **nv = realloc(*v, sizeof(char *) * (n + 2));
        if (!nv) {
                free(s);
                return -ENOMEM;
        }
        nv[n] = s;
        nv[n + 1] = NULL;
        *v = nv;
        return 0;
}

int strv_extend(char ***v, const char *s) {
        char *c = strdup(s);
        if (!c)
                return -ENOMEM;
        return strv_push(v, c);
}

bool strv_contains(char *const *v, const char *s) {
        for (size_t i = 0; v && v[i]; i++)
                if (streq(v[i], s))
                        return true;
        return false;
}

char *strv_join(char *const *v, const char *sep) {
        size_t len = 1, sl = strlen(sep);
        for (size_t i = 0; v && v[i]; i++)
                len += strlen(v[i]) + sl;
        char *s = malloc(len), *p = s;
        if (!s)
                return NULL;
        *p = 0;
        for (size_t i = 0; v && v[i]; i++) {
                if (i > 0)
                        p = stpcpy(p, sep);
                p = stpcpy(p, v[i]);
        }
        return s;
}
