/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdint.h>

/* Reading the image store, $ROOT/oci: an OCI image layout written only by berth-pull. Each pulled reference
 * is one entry of index.json, named by its "org.opencontainers.image.ref.name" annotation
 * (ref_store_name()). */
#define OCI_REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"
#define OCI_MANIFEST_MAX (4U * 1024U * 1024U)
#define OCI_CONFIG_MAX (4U * 1024U * 1024U)

#define MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

typedef struct OciLayer {
        char *digest; /* compressed blob digest */
        char *media_type;
        uint64_t size;
        char *diff_id; /* uncompressed digest from the config */
} OciLayer;

typedef struct OciImage {
        char *name; /* store name it was found by, NULL when found by ID */
        char *manifest_digest;
        char *id; /* "sha256:<config digest hex>" */
        json_t *manifest;
        json_t *config;
        OciLayer *layers;
        size_t n_layers;
} OciImage;

OciImage *oci_image_free(OciImage *i);
static inline void oci_image_freep(OciImage **i) {
        if (*i)
                oci_image_free(*i);
}

/* $ROOT/oci/blobs/sha256/<hex>; NULL for an invalid digest or OOM. */
char *oci_blob_path(const char *digest);
/* index.json of the store; an empty index if there is none yet. */
int oci_index_load(json_t **ret);
/* Load and check a manifest + its config from the store. */
int oci_image_load(const char *manifest_digest, const char *name, OciImage **ret);
/* Find by reference ("busybox", "host:5000/a/b:tag", "...@sha256:..."), by image ID or by a unique ID prefix
 * (at least 4 hex digits). -ENOENT if absent, -EADDRNOTAVAIL if a prefix is ambiguous. */
int oci_image_find(const char *spec, OciImage **ret);
/* Every store name (index entry) pointing at the image with this ID, as a NULL-terminated array. */
int oci_image_names(const char *id, char ***ret);
/* Check a manifest document: exactly one kind (manifest, not an index), valid digests, known media types. */
int oci_manifest_check(json_t *m, const char **ret_why);
