/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "digest.h"
#include "extract.h"
#include "oci.h"

/* The layer store, $ROOT/layers (docs/design.md, docs/unpack.md):
 *   layers/<chain-id hex>/diff/        the layer in overlayfs form
 *   layers/<chain-id hex>/layer.json   ChainID, DiffID, Digest, Parent, Size, ...
 *   layers/.locks/<chain-id hex>       flock() held while the layer is unpacked
 *   layers/.tmp-<chain-id hex>/        a layer being unpacked (under its lock); renamed in when complete
 *   layers/l/<short>                   -> ../<chain-id hex>/diff, short names for the overlay mount options
 */
typedef struct UnpackOptions {
        unsigned jobs;
        uint64_t min_free;       /* bytes that must stay free after the layers are written */
        uint64_t max_layer_size; /* uncompressed; 0: automatic from the blob size */
        uint64_t max_entries;
        const IdMap *uidmap, *gidmap;
} UnpackOptions;

#define LAYER_SHORT_LEN 20
#define LAYER_MAP_TAG_LEN 16
#define LAYER_DIR_MAX (SHA256_HEX_LEN + 1 + LAYER_MAP_TAG_LEN + 1)
#define LAYER_SHORT_MAX (LAYER_SHORT_LEN + 1 + 8 + 1)

/* A shifted copy of a layer (--uidmap/--gidmap) lives beside the plain one, in layers/<chain hex>-<tag>, the
 * tag being the first 16 hex digits of the SHA-256 of the maps. Empty tag without maps. */
int layer_map_tag(const UnpackOptions *o, char ret[LAYER_MAP_TAG_LEN + 1]);
/* The store directory names of the image's layers, bottom first. */
int layer_dir_names(const OciImage *img, const UnpackOptions *o, char ***ret);
/* l/<short>: the first 20 hex digits, plus "-" and 8 of the tag for a shifted copy. */
void layer_short_name(const char *dir, char ret[LAYER_SHORT_MAX]);

/* Chain IDs of every layer of the image: "sha256:..." strings, n_layers of them. */
int image_chain_ids(const OciImage *img, char ***ret);
/* Make sure every layer of the image is in the store, unpacking the missing ones (in parallel). Logs. */
int layer_store_ensure(const OciImage *img, const char *spec, const UnpackOptions *o, int *ret_lock);
/* Flatten the image into dir (created; must be empty if it exists). Logs. */
int unpack_to_dir(const OciImage *img, const char *spec, const char *dir, const UnpackOptions *o);
/* Remove layers no image in the store and no container record refers to. Logs. */
int layer_store_gc(unsigned *ret_removed);

/* Open a layer blob and check it is a tar layer; shared by the store and --to. */
int layer_open_stream(const OciLayer *l, uint64_t max_layer_size, LayerStream **ret, char *why,
                      size_t why_size);
/* Free-space check for the given number of bytes in the filesystem of path. */
int check_free_space(const char *path, uint64_t need, uint64_t min_free, const char *what);
/* Estimated uncompressed size of a layer blob. */
uint64_t layer_estimate_size(const OciLayer *l);
