/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internals shared by the writer's files: extract.c (entries, metadata), extract-resolve.c (names, parents
 * inside the root), extract-whiteout.c (whiteouts and opaque directories). */
#include <archive.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "extract.h"
#include "macro.h"
#include "strmap.h"

#define ID_MAX 0x7fffffffU /* uids/gids at or above 2^31 are refused (CVE-2024-40635 class) */
#define DEV_MAJOR_MAX 0xfffU
#define DEV_MINOR_MAX 0xfffffU

typedef struct DirTimes {
        char *path;
        struct timespec ts[2];
        bool follow; /* only seen as a parent: restore whatever the path resolves to (inside the root) */
} DirTimes;

typedef struct Copied {
        char *path; /* NULL once forgotten */
        dev_t dev;
        ino_t ino;
} Copied;

typedef struct Extract {
        int rootfd;
        LayerStream *stream;
        const ExtractOptions *o;
        struct archive *a;
        char *why;
        size_t why_size;
        int stream_error;
        ExtractStats stats;

        /* Directories whose times are set once the layer is written (entries change a directory's mtime). */
        DirTimes *dirs;
        size_t n_dirs, n_dirs_alloc;
        StrMap *dir_index;

        /* EXTRACT_TREE: every path this layer wrote, and their ancestors, for whiteouts and opaque dirs. */
        StrMap *written, *ancestors;
        char **opaque;
        size_t n_opaque;
        bool warned_xattr;
        uid_t euid;
        gid_t egid;

        /* The parent of the last entry, while consecutive entries share it. Entries with the same parent
         * only add or replace names inside it, so its resolution cannot change; any other entry drops it.
         * The fd is a directory inside the root, so even a stale one cannot lead out. */
        char *cache_path;
        int cache_fd;
        bool cache_sgid;

        /* The layers below (o->lower_layers), fetched on the first hardlink that needs them. */
        const int *lower_fds;
        size_t n_lower;
        bool lower_fetched;
        /* What copy_up() made (directories and the copied nodes), while no entry of the layer replaced it.
         */
        Copied *copied;
        size_t n_copied;
} Extract;

int extract_fail(Extract *x, int r, const char *fmt, ...) _printf_(3, 4);
int open_in_root(int rootfd, const char *path, int flags);
int normalize_path(const char *in, char **ret, const char **ret_why);
int map_id(const IdMap *m, int64_t id, uint32_t *ret);
char *strjoin_path(const char *parent, const char *name);
void split_path(char *path, const char **ret_parent, const char **ret_name);
const char *name_of(const char *path);
int track_dir(Extract *x, int dirfd, const char *path, const struct timespec *ts);
int apply_dir_times(Extract *x);
int open_parent(Extract *x, const char *parent, bool create, int *ret_fd);
int add_written(Extract *x, const char *path);
int make_room(Extract *x, int dirfd, const char *name, bool want_dir);
int detach_parent(Extract *x);
void drop_parent(Extract *x);
int get_parent(Extract *x, const char *parent, int *ret_fd);

bool xattr_allowed(const char *name);
int check_space(Extract *x, size_t written);
void warn_xattr(Extract *x, int error, const char *xname, const char *path);

/* A hardlink whose target is not in this layer: find it in the merged view of the layers below, copy it up
 * to its name in this layer (extract-copyup.c). Returns 0 when copied, or fails with the reason set. */
int copy_up(Extract *x, const char *link, const char *shown);
/* Remember dirfd/name (path) as made by copy_up(). */
int copied_add(Extract *x, int dirfd, const char *name, const char *path);
/* An entry of the layer wrote path: it is the layer's own now. */
void copied_forget(Extract *x, const char *path);
/* Whether path (st, just stat'ed) is a copy made by copy_up() and not replaced since. */
bool copied_is(Extract *x, const char *path, const struct stat *st);
/* A whiteout or opaque marker of the layer for dir: the copies below it came from the layers it hides, and
 * go (directories only if empty: the layer's own entries keep them), as in --to mode. */
int copied_prune(Extract *x, const char *dir);
void copied_free(Extract *x);

int extract_whiteout(Extract *x, const char *path, const char *parent, const char *name);
int extract_opaque(Extract *x, const char *dir);
/* Overlay form: trusted.overlay.opaque=y on dirfd/name, a directory. */
int make_opaque(Extract *x, int dirfd, const char *name);
int apply_opaque(Extract *x);
