/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* berth-run cp: the copy engine (cpcopy.c) and the container side (cpenter.c). The engine never builds a
 * path from a name it read from a directory: every object is reached as (directory fd, one component) with
 * O_NOFOLLOW and created with O_EXCL under a temporary name, then renamed over the final one. docs/run.md
 * "cp" explains why that, run inside the container's own root, leaves nothing a container's symlink could
 * redirect. */

/* A uid or gid map as in /proc/PID/uid_map: inside -> outside ranges; n == 0 is the identity. */
typedef struct IdMap {
        unsigned n;
        struct {
                uid_t inside, outside, count;
        } r[16];
} IdMap;

typedef struct CopyContext {
        bool archive;      /* -a: keep owners (translated through the container's id maps) */
        bool to_container; /* copying in: the destination is the container */
        uid_t uid;         /* the owner without -a: the container's root, or the invoking user */
        gid_t gid;
        IdMap uid_map, gid_map;
        int procfd; /* the host's /proc, to reopen an O_PATH fd without ever opening a FIFO or device by name
                     */
        unsigned long n_skipped;
} CopyContext;

/* Where a path points, found with rootfd as "/" (RESOLVE_IN_ROOT) or, for rootfd == AT_FDCWD, on the host.
 */
typedef struct CopyPath {
        char *base;          /* the last component ("" for "/") */
        bool contents_only;  /* SRC ended in "/." */
        bool trailing_slash; /* ended in "/" or "/." */
} CopyPath;

int copy_path_parse(const char *path, CopyPath *ret);
void copy_path_done(CopyPath *p);

/* Open path under rootfd (AT_FDCWD: the host's resolution) as O_PATH; follow: also a symlink at the end. */
int copy_open(int rootfd, const char *path, bool follow, int *ret_fd);

/* The destination: an existing directory (dirfd, name NULL), or a name in a directory (which may exist as a
 * non-directory). */
typedef struct CopyDest {
        int dirfd;
        char *name;
        bool exists; /* name exists (and is not a directory) */
        bool trailing_slash;
} CopyDest;
int copy_dest_resolve(int rootfd, const char *path, CopyDest *ret);
void copy_dest_done(CopyDest *d);

/* Copy the object srcfd (an O_PATH fd, a symlink itself unless it was opened following) named src to the
 * destination by docker's rules. where names the container for messages. */
int copy_place(CopyContext *c, int srcfd, const CopyPath *src, const char *src_spec, CopyDest *dst,
               const char *dst_spec);

int idmap_parse(const char *text, IdMap *ret);
