/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "digest.h"

/* The image store $ROOT/oci (docs/design.md, docs/pull.md). Blobs are downloaded to $ROOT/tmp/<hex>.partial,
 * which doubles as the per-blob lock (flock), and renamed into blobs/sha256/ once size and digest match. */

/* Create the layout (oci-layout, blobs/sha256, tmp) if missing. */
int store_init(void);
/* A shared lock that gc's exclusive lock waits for: blobs of a pull in progress are not garbage. */
int store_lock_gc(int operation, int *ret_fd);
/* A complete blob present (size checked when size != UINT64_MAX)? */
bool store_has_blob(const char *digest, uint64_t size);
/* Store bytes already verified against digest (manifests), atomically; present already is fine. */
int store_write_blob(const char *digest, const void *data, size_t len);

/* Lock the blob's partial download. Returns 1 if the blob is complete by now (nothing to do), -EAGAIN if
 * another process holds it and !wait, 0 with the partial file open and locked in *ret_fd, its current size
 * in *ret_offset and the hash of those bytes in *ret_hash (a leftover longer than size is discarded). */
int store_blob_lock(const char *digest, uint64_t size, bool wait, int *ret_fd, uint64_t *ret_offset,
                    Sha256 **ret_hash);
/* fsync the locked partial and rename it into blobs/ (RENAME_NOREPLACE), fsync the directory; closes fd. */
int store_blob_commit(const char *digest, int fd);
/* Remove a locked partial whose content is wrong; closes fd. */
void store_blob_discard(const char *digest, int fd);

/* Point the index entry named name at the manifest (replacing an entry of the same name), under the index
 * lock, written atomically; nothing is written when the entry is already exactly so. */
int store_index_set(const char *name, const char *manifest_digest, uint64_t manifest_size,
                    const char *media_type, const char *image_id);
/* The same, recording the registry's own manifest digest when the entry names a translation of it. */
#define STORE_SOURCE_ANNOTATION "io.berth.manifest.source-digest"
/* On a nameless entry that rmi -f kept because a container uses the image; gc removes it after. */
#define STORE_KEPT_ANNOTATION "io.berth.image.kept-for-container"
int store_index_set_full(const char *name, const char *manifest_digest, uint64_t manifest_size,
                         const char *media_type, const char *image_id, const char *source_digest);
/* Under the index lock: let fn change the index; written back if fn returns > 0. */
int store_index_update(int (*fn)(json_t *index, void *userdata), void *userdata);
/* Add to set (an object used as a set of digests) every blob the index's entries reference: manifests,
 * what indexes list, configs, layers, and recorded source manifests. On an entry that cannot be read, fails
 * and points *ret_bad at it: what it references is unknown. */
int store_referenced(json_t *index, json_t *set, json_t **ret_bad);
