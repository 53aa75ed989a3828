/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>

#include "digest.h"
#include "fileio.h"
#include "macro.h"
#include "oci.h"
#include "paths.h"
#include "ref.h"

OciImage *oci_image_free(OciImage *i) {
        if (!i)
                return NULL;
        free(i->name);
        free(i->manifest_digest);
        free(i->id);
        json_decref(i->manifest);
        json_decref(i->config);
        for (size_t k = 0; k < i->n_layers; k++) {
                free(i->layers[k].digest);
                free(i->layers[k].media_type);
                free(i->layers[k].diff_id);
        }
        free(i->layers);
        free(i);
        return NULL;
}

char *oci_blob_path(const char *digest) {
        if (!digest_is_valid(digest))
                return NULL;
        return berth_path("oci", "blobs", "sha256", digest_hex(digest));
}

int oci_index_load(json_t **ret) {
        _cleanup_free_ char *p = berth_path("oci", "index.json");
        json_t *j = NULL;
        int r;

        if (!p)
                return -ENOMEM;
        r = json_read_file(p, OCI_MANIFEST_MAX, &j, NULL);
        if (r == -ENOENT) {
                j = json_pack("{s:i, s:[]}", "schemaVersion", 2, "manifests");
                if (!j)
                        return -ENOMEM;
        } else if (r < 0)
                return r;
        if (!json_is_array(json_object_get(j, "manifests"))) {
                json_decref(j);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

static bool media_is_layer(const char *m) {
        return startswith(m, "application/vnd.oci.image.layer.") ||
               startswith(m, "application/vnd.docker.image.rootfs.");
}

int oci_manifest_check(json_t *m, const char **ret_why) {
        const char *why = NULL, *mt;
        json_t *cfg, *layers, *l;
        size_t i;

        if (!json_is_object(m))
                why = "not a JSON object";
        else if (json_object_get(m, "manifests") || json_object_get(m, "fsLayers"))
                why = "document is not an image manifest (it has index or schema1 fields)";
        else if (json_integer_value(json_object_get(m, "schemaVersion")) != 2)
                why = "schemaVersion is not 2";
        else if ((mt = json_string_value(json_object_get(m, "mediaType"))) &&
                 !streq(mt, MEDIA_OCI_MANIFEST) && !streq(mt, MEDIA_DOCKER_MANIFEST))
                why = "unsupported manifest media type";
        else if (!json_is_object(cfg = json_object_get(m, "config")) ||
                 !digest_is_valid(json_string_value(json_object_get(cfg, "digest"))))
                why = "missing or invalid config descriptor";
        else if (!json_is_array(layers = json_object_get(m, "layers")))
                why = "missing layers";
        else
                json_array_foreach (layers, i, l) {
                        const char *lm = json_string_value(json_object_get(l, "mediaType"));
                        if (!digest_is_valid(json_string_value(json_object_get(l, "digest")))) {
                                why = "invalid layer digest";
                                break;
                        }
                        if (!lm || !media_is_layer(lm)) {
                                why = "unsupported layer media type";
                                break;
                        }
                        if (!json_is_integer(json_object_get(l, "size")) ||
                            json_integer_value(json_object_get(l, "size")) < 0) {
                                why = "invalid layer size";
                                break;
                        }
                }
        if (why) {
                if (ret_why)
                        *ret_why = why;
                return -EBADMSG;
        }
        return 0;
}

int oci_image_load(const char *manifest_digest, const char *name, OciImage **ret) {
        _cleanup_(oci_image_freep) OciImage *img = calloc(1, sizeof(OciImage));
        _cleanup_free_ char *mpath = oci_blob_path(manifest_digest), *cpath = NULL;
        json_t *layers, *diff_ids, *l;
        size_t i;
        int r;

        if (!img)
                return -ENOMEM;
        if (!mpath)
                return -EINVAL;
        r = json_read_file(mpath, OCI_MANIFEST_MAX, &img->manifest, NULL);
        if (r < 0)
                return r;
        r = oci_manifest_check(img->manifest, NULL);
        if (r < 0)
                return r;
        const char *cdigest =
                json_string_value(json_object_get(json_object_get(img->manifest, "config"), "digest"));
        cpath = oci_blob_path(cdigest);
        if (!cpath)
                return -EBADMSG;
        r = json_read_file(cpath, OCI_CONFIG_MAX, &img->config, NULL);
        if (r < 0)
                return r;
        if (!json_is_object(img->config))
                return -EBADMSG;

        layers = json_object_get(img->manifest, "layers");
        diff_ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
        if (!json_is_array(diff_ids) || json_array_size(diff_ids) != json_array_size(layers))
                return -EBADMSG;
        img->n_layers = json_array_size(layers);
        img->layers = calloc(img->n_layers ?: 1, sizeof(OciLayer));
        if (!img->layers)
                return -ENOMEM;
        json_array_foreach (layers, i, l) {
                const char *did = json_string_value(json_array_get(diff_ids, i));
                if (!digest_is_valid(did))
                        return -EBADMSG;
                img->layers[i].digest = strdup(json_string_value(json_object_get(l, "digest")));
                img->layers[i].media_type = strdup(json_string_value(json_object_get(l, "mediaType")));
                img->layers[i].diff_id = strdup(did);
                img->layers[i].size = (uint64_t) json_integer_value(json_object_get(l, "size"));
                if (!img->layers[i].digest || !img->layers[i].media_type || !img->layers[i].diff_id)
                        return -ENOMEM;
        }
        img->manifest_digest = strdup(manifest_digest);
        img->id = strdup(cdigest);
        if (!img->manifest_digest || !img->id || (name && !(img->name = strdup(name))))
                return -ENOMEM;
        *ret = TAKE_PTR(img);
        return 0;
}

static const char *entry_name(json_t *e) {
        return json_string_value(
                json_object_get(json_object_get(e, "annotations"), OCI_REF_NAME_ANNOTATION));
}

static const char *entry_config_digest(json_t *e) {
        /* berth-pull records the config digest (the image ID) in the index entry so lookups by ID need no
         * blob reads; fall back to reading the manifest. */
        return json_string_value(json_object_get(json_object_get(e, "annotations"), "io.berth.image.id"));
}

static bool is_hex_prefix(const char *s) {
        if (strlen(s) < 4 || strlen(s) > SHA256_HEX_LEN)
                return false;
        for (; *s; s++)
                if (!isxdigit((unsigned char) *s) || isupper((unsigned char) *s))
                        return false;
        return true;
}

static int entry_image_id(json_t *e, char **ret) {
        const char *id = entry_config_digest(e);
        if (id && digest_is_valid(id)) {
                *ret = strdup(id);
                return *ret ? 0 : -ENOMEM;
        }
        _cleanup_free_ char *p = oci_blob_path(json_string_value(json_object_get(e, "digest")));
        json_t *m = NULL;
        if (!p)
                return -EBADMSG;
        int r = json_read_file(p, OCI_MANIFEST_MAX, &m, NULL);
        if (r < 0)
                return r;
        const char *c = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
        *ret = c && digest_is_valid(c) ? strdup(c) : NULL;
        json_decref(m);
        return *ret ? 0 : -EBADMSG;
}

int oci_image_find(const char *spec, OciImage **ret) {
        _cleanup_(json_decrefp) json_t *index = NULL;
        _cleanup_free_ char *want = NULL, *found_manifest = NULL;
        _cleanup_(ref_freep) Reference *ref = NULL;
        json_t *e, *manifests;
        size_t i;
        int r;

        r = oci_index_load(&index);
        if (r < 0)
                return r;
        manifests = json_object_get(index, "manifests");

        if (ref_parse(spec, &ref, NULL) >= 0) {
                want = ref_store_name(ref);
                if (!want)
                        return -ENOMEM;
                json_array_foreach (manifests, i, e) {
                        const char *n = entry_name(e);
                        const char *d = json_string_value(json_object_get(e, "digest"));
                        if (!n || !digest_is_valid(d))
                                continue;
                        if (streq(n, want) || (ref->digest && !ref->tag && streq(d, ref->digest) &&
                                               strneq(n, want, strcspn(want, "@"))))
                                return oci_image_load(d, n, ret);
                }
                /* name:tag@digest: the digest decides */
                if (ref->digest)
                        json_array_foreach (manifests, i, e) {
                                const char *d = json_string_value(json_object_get(e, "digest"));
                                if (streq_ptr(d, ref->digest))
                                        return oci_image_load(d, entry_name(e), ret);
                        }
        }

        const char *hex = startswith(spec, "sha256:") ?: spec;
        if (!is_hex_prefix(hex))
                return -ENOENT;
        _cleanup_free_ char *match_id = NULL;
        json_array_foreach (manifests, i, e) {
                _cleanup_free_ char *id = NULL;
                const char *d = json_string_value(json_object_get(e, "digest"));
                if (!digest_is_valid(d) || entry_image_id(e, &id) < 0)
                        continue;
                if (!startswith(digest_hex(id), hex))
                        continue;
                if (match_id && !streq(match_id, id))
                        return -EADDRNOTAVAIL;
                if (!match_id) {
                        match_id = TAKE_PTR(id);
                        found_manifest = strdup(d);
                        if (!found_manifest)
                                return -ENOMEM;
                }
        }
        if (!found_manifest)
                return -ENOENT;
        return oci_image_load(found_manifest, NULL, ret);
}

int oci_image_names(const char *id, char ***ret) {
        _cleanup_(json_decrefp) json_t *index = NULL;
        _cleanup_strv_free_ char **names = NULL;
        json_t *e;
        size_t i;
        int r;

        r = oci_index_load(&index);
        if (r < 0)
                return r;
        json_array_foreach (json_object_get(index, "manifests"), i, e) {
                _cleanup_free_ char *eid = NULL;
                const char *n = entry_name(e);
                if (!n || entry_image_id(e, &eid) < 0 || !streq(eid, id))
                        continue;
                r = strv_extend(&names, n);
                if (r < 0)
                        return r;
        }
        if (!names && !(names = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(names);
        return 0;
}
