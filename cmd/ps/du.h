/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* The inodes already counted by disk_usage() (a file with several links is counted once). */
typedef struct InodeSet InodeSet;
InodeSet *inode_set_new(void);
InodeSet *inode_set_free(InodeSet *s);
static inline void inode_set_freep(InodeSet **s) {
        if (*s)
                inode_set_free(*s);
}

/* Bytes allocated (st_blocks) to path and everything below it, as du(1) -x counts them: symlinks are not
 * followed, other file systems mounted below are not entered, an inode in seen is not counted again (seen
 * may be NULL: a fresh set). A missing path is 0 bytes; what cannot be read below path is left out. -errno
 * only when path itself cannot be read. */
int disk_usage(const char *path, InodeSet *seen, uint64_t *ret);
