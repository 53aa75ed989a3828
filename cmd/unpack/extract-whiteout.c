/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "extract-internal.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"

int make_opaque(Extract *x, int dirfd, const char *name) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                return extract_fail(x, -errno, "cannot mark '%.160s' opaque: %m", name);
        return 0;
}

int extract_whiteout(Extract *x, const char *path, const char *parent, const char *name) {
        _cleanup_close_ int pfd = -EBADF;
        int r;

        if (x->o->mode == EXTRACT_LAYER) {
                if (x->o->base)
                        return 0;
                r = open_parent(x, parent, true, &pfd);
                if (r < 0)
                        return r;
                /* Written by this layer already: a whiteout hides only the layers below. A directory this
                 * layer made (a parent of its own entries) becomes opaque instead: ours stays, the lower one
                 * goes. */
                struct stat st;
                _cleanup_free_ char *target = strjoin_path(parent, name);
                if (!target)
                        return -ENOMEM;
                if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                        if (S_ISDIR(st.st_mode)) {
                                r = make_opaque(x, pfd, name);
                                return r < 0 ? r : copied_prune(x, target);
                        }
                        /* A lower file copied up for a hardlink (extract-copyup.c) is not the layer's own:
                         * the whiteout takes its place, the links keep the copy. */
                        if (!copied_is(x, target, &st))
                                return 0;
                        if (unlinkat(pfd, name, 0) < 0)
                                return extract_fail(x, -errno, "cannot remove '%.160s': %m", target);
                }
                r = track_dir(x, pfd, parent, NULL);
                if (r < 0)
                        return r;
                if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
                        return extract_fail(x, -errno, "cannot create whiteout: %m");
                return 0;
        }

        _cleanup_free_ char *target = strjoin_path(parent, name);
        if (!target)
                return -ENOMEM;
        if (strmap_get(x->written, target, NULL))
                return 0;
        /* A directory holding entries of this layer: what the layers below put there goes, ours stays. */
        if (strmap_get(x->ancestors, target, NULL))
                return extract_opaque(x, target);
        r = open_parent(x, parent, false, &pfd);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0)
                return r;
        r = track_dir(x, pfd, parent, NULL);
        if (r < 0)
                return r;
        r = rm_rf_at(pfd, name);
        if (r < 0)
                return extract_fail(x, r, "cannot apply whiteout: %s", strerror(-r));
        return 0;
}

int extract_opaque(Extract *x, const char *dir) {
        int r;
        if (x->o->mode == EXTRACT_LAYER) {
                _cleanup_close_ int pfd = -EBADF, fd = -EBADF;
                if (x->o->base)
                        return 0;
                r = open_parent(x, dir, true, &pfd);
                if (r < 0)
                        return r;
                fd = open_in_root(x->rootfd, dir, O_RDONLY | O_DIRECTORY);
                if (fd < 0)
                        return extract_fail(x, fd, "cannot open '%.160s': %s", dir, strerror(-fd));
                if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                        return extract_fail(x, -errno, "cannot mark '%.160s' opaque: %m", dir);
                return copied_prune(x, dir);
        }
        /* Applied when the layer is done, with what the layer wrote known: same result as "first". */
        char **o = realloc(x->opaque, (x->n_opaque + 1) * sizeof(char *));
        if (!o)
                return -ENOMEM;
        x->opaque = o;
        x->opaque[x->n_opaque] = strdup(dir);
        if (!x->opaque[x->n_opaque])
                return -ENOMEM;
        x->n_opaque++;
        return 0;
}

/* Remove everything below dirfd (at path) that this layer did not write. */
static int prune_opaque(Extract *x, int dir_fd, const char *path) {
        _cleanup_closedir_ DIR *d = NULL;
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *child = strjoin_path(path, de->d_name);
                if (!child)
                        return -ENOMEM;
                bool keep = strmap_get(x->written, child, NULL),
                     ancestor = strmap_get(x->ancestors, child, NULL);
                if (!keep && !ancestor) {
                        int r = rm_rf_at(dirfd(d), de->d_name);
                        if (r < 0)
                                return r;
                        continue;
                }
                _cleanup_close_ int cfd =
                        openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd < 0)
                        continue; /* not a directory: kept as written */
                int r = prune_opaque(x, cfd, child);
                if (r < 0)
                        return r;
        }
        return 0;
}

int apply_opaque(Extract *x) {
        for (size_t i = 0; i < x->n_opaque; i++) {
                _cleanup_close_ int fd = open_in_root(x->rootfd, x->opaque[i], O_RDONLY | O_DIRECTORY);
                if (fd < 0)
                        continue;
                int r = prune_opaque(x, fd, x->opaque[i]);
                if (r < 0)
                        return extract_fail(x, r, "cannot apply opaque directory '%.160s': %s", x->opaque[i],
                                            strerror(-r));
        }
        return 0;
}

/* The copies copy_up() made (extract-copyup.c), for whiteouts and opaque markers later in the layer. */
int copied_add(Extract *x, int dirfd, const char *name, const char *path) {
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        Copied *c = realloc(x->copied, (x->n_copied + 1) * sizeof(Copied));
        if (!c)
                return -ENOMEM;
        x->copied = c;
        c[x->n_copied] = (Copied){.path = strdup(path), .dev = st.st_dev, .ino = st.st_ino};
        if (!c[x->n_copied].path)
                return -ENOMEM;
        x->n_copied++;
        return 0;
}

void copied_forget(Extract *x, const char *path) {
        for (size_t i = 0; i < x->n_copied; i++)
                if (x->copied[i].path && streq(x->copied[i].path, path))
                        x->copied[i].path = mfree(x->copied[i].path);
}

bool copied_is(Extract *x, const char *path, const struct stat *st) {
        for (size_t i = 0; i < x->n_copied; i++)
                if (x->copied[i].path && streq(x->copied[i].path, path))
                        return x->copied[i].dev == st->st_dev && x->copied[i].ino == st->st_ino;
        return false;
}

int copied_prune(Extract *x, const char *dir) {
        size_t n = strlen(dir);
        /* Newest first: a copied file before the directories made for it. */
        for (size_t i = x->n_copied; i > 0; i--) {
                Copied *c = &x->copied[i - 1];
                if (!c->path || (n > 0 && (!startswith(c->path, dir) || c->path[n] != '/')))
                        continue;
                _cleanup_free_ char *copy = strdup(c->path);
                const char *parent, *name;
                struct stat st;
                if (!copy)
                        return -ENOMEM;
                split_path(copy, &parent, &name);
                _cleanup_close_ int pfd = open_in_root(x->rootfd, parent, O_PATH | O_DIRECTORY);
                if (pfd >= 0 && fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && st.st_dev == c->dev &&
                    st.st_ino == c->ino && unlinkat(pfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 &&
                    errno != ENOTEMPTY)
                        return extract_fail(x, -errno, "cannot remove the copy '%.160s': %m", c->path);
                c->path = mfree(c->path);
        }
        return 0;
}

void copied_free(Extract *x) {
        for (size_t i = 0; i < x->n_copied; i++)
                free(x->copied[i].path);
        free(x->copied);
}
