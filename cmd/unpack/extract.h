/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

/* The fd-based tar writer. Every entry's parent is resolved again from the root with
 * openat2(RESOLVE_IN_ROOT), the last component is never followed, and metadata is set through the entry's
 * own fd or *at() calls with AT_SYMLINK_NOFOLLOW, so nothing in a layer can reach outside rootfd
 * (docs/unpack.md, THREATS.md U1-U21). */
typedef enum ExtractMode {
        EXTRACT_LAYER, /* overlayfs form: whiteouts become 0:0 char devices, opaque dirs an xattr */
        EXTRACT_TREE,  /* a merged tree: whiteouts delete from the layers below */
        _EXTRACT_MODE_MAX,
        _EXTRACT_MODE_INVALID = -EINVAL,
} ExtractMode;

typedef struct IdRange {
        uint32_t inside, outside, count;
} IdRange;

typedef struct IdMap {
        IdRange ranges[16];
        size_t n;
} IdMap;

typedef struct ExtractOptions {
        ExtractMode mode;
        bool base;           /* the lowest layer: a whiteout there has nothing to hide */
        const IdMap *uidmap; /* NULL: identity */
        const IdMap *gidmap;
        uint64_t max_entries; /* 0: no limit */
        uint64_t min_free; /* stop when the filesystem has less free space than this (checked every 4 MiB) */
        /* EXTRACT_LAYER: the complete layers below this one, for a hardlink whose target is not in this
         * layer (copied up, docs/unpack.md). Called at most once per layer, when first needed; may wait for
         * them. Returns their directory fds, nearest first, owned by the caller of extract_tar(). NULL: no
         * lower layers are looked at. */
        int (*lower_layers)(void *userdata, const int **ret_fds, size_t *ret_n, char *why, size_t why_size);
        void *lower_userdata;
} ExtractOptions;

typedef struct ExtractStats {
        uint64_t entries, bytes;
} ExtractStats;

/* Extract the tar read from s into rootfd (a directory fd). On failure returns -errno and writes one line
 * saying what and where into why. Does not read the stream past the tar's end: the caller finishes it. */
int extract_tar(int rootfd, LayerStream *s, const ExtractOptions *o, ExtractStats *ret_stats, char *why,
                size_t why_size);

/* A reason may quote names from the layer: control characters become \xNN, so that a name with a newline
 * cannot split the one error line or forge another. In place, truncated to size. */
void why_escape(char *why, size_t size);

/* "0:100000:65536[,...]" (container id, host id, count), as podman's --uidmap. */
int idmap_parse(const char *s, IdMap *ret);
