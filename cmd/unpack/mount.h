/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "oci.h"
#include "store.h"

typedef struct MountOptions {
        const char *target, *upper, *work;
        bool read_only;
} MountOptions;

/* Unpack what is missing, mount the image's overlay on target and print target (docs/unpack.md). Logs. */
int mount_image(const OciImage *img, const char *spec, const MountOptions *m, const UnpackOptions *o);
/* Unmount an overlay; a target that is not a mount point is left alone (exit 0). Logs. */
int umount_target(const char *target);
