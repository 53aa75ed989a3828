/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* du -x for berth-ps df: st_blocks of every inode below a directory, each counted once, without following
 * symlinks or leaving the file system, and without holding more than one directory per level open. */
#include <dirent.h>
#include <fcntl.h>
#include <search.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "du.h"
#include "macro.h"

struct InodeSet {
        void *root; /* tsearch() tree of Inode */
};

typedef struct Inode {
        dev_t dev;
        ino_t ino;
} Inode;

static int inode_cmp(const void *a, const void *b) {
        const Inode *x = a, *y = b;
        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        return x->ino < y->ino ? -1 : x->ino > y->ino;
}

InodeSet *inode_set_new(void) {
        return calloc(1, sizeof(InodeSet));
}

InodeSet *inode_set_free(InodeSet *s) {
        if (s)
                tdestroy(s->root, free);
        free(s);
        return NULL;
}

/* 1 if the inode was new (and is now in the set), 0 if seen before. */
static int inode_set_add(InodeSet *s, const struct stat *st) {
        Inode *n = malloc(sizeof(Inode));
        if (!n)
                return -ENOMEM;
        *n = (Inode){.dev = st->st_dev, .ino = st->st_ino};
        Inode **found = tsearch(n, &s->root, inode_cmp);
        if (!found) {
                free(n);
                return -ENOMEM;
        }
        if (*found != n) {
                free(n);
                return 0;
        }
        return 1;
}

static uint64_t count(const struct stat *st, InodeSet *seen) {
        /* only a file with several links can be met twice; directories are met once */
        if (!S_ISDIR(st->st_mode) && st->st_nlink > 1 && inode_set_add(seen, st) <= 0)
                return 0;
        return (uint64_t) st->st_blocks * 512;
}

/* dfd is consumed. Depth is bounded by the file system's own path length limits. */
static uint64_t walk(int dfd, dev_t dev, InodeSet *seen) {
        DIR *d = fdopendir(dfd);
        uint64_t total = 0;
        if (!d) {
                close(dfd);
                return 0;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (st.st_dev != dev)
                        continue; /* a mount point: not ours to count */
                total += count(&st, seen);
                if (!S_ISDIR(st.st_mode))
                        continue;
                int sub = openat(dirfd(d), de->d_name,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NOATIME);
                if (sub < 0 && errno == EPERM) /* O_NOATIME on a file we do not own */
                        sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                        total += walk(sub, dev, seen);
        }
        closedir(d);
        return total;
}

int disk_usage(const char *path, InodeSet *seen, uint64_t *ret) {
        _cleanup_(inode_set_freep) InodeSet *own = NULL;
        struct stat st;

        *ret = 0;
        if (!seen && !(seen = own = inode_set_new()))
                return -ENOMEM;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        *ret = count(&st, seen);
        if (!S_ISDIR(st.st_mode))
                return 0;
        int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        *ret += walk(dfd, st.st_dev, seen);
        return 0;
}
