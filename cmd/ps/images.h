/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

#include "oci.h"

/* podman image inspect's object: Id, Digest, RepoTags, RepoDigests, Created, Architecture, Os, Config,
 * RootFS, History, Labels, Size, plus Layers (digest, mediaType, size, diffID of each) and Manifest (the
 * digest's document). names: every store name of the image (may be NULL). */
json_t *image_inspect_object(const OciImage *img, char *const *names);
