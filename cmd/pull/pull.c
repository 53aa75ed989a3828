/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <jansson.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "blobs.h"
#include "fileio.h"
#include "log.h"
#include "oci.h"
#include "paths.h"
#include "pull.h"
#include "ref.h"
#include "registries.h"
#include "store.h"
#include "util.h"

#define ACCEPT_MANIFESTS \
        MEDIA_OCI_MANIFEST ", " MEDIA_OCI_INDEX ", " MEDIA_DOCKER_MANIFEST ", " MEDIA_DOCKER_LIST

#define PULL_LAYERS_MAX 1000U

typedef enum DocKind { DOC_MANIFEST, DOC_INDEX } DocKind;

void pull_result_done(PullResult *r) {
        free(r->reference);
        free(r->digest);
        free(r->id);
        *r = (PullResult){};
}

static bool media_is_index(const char *m) {
        return streq(m, MEDIA_OCI_INDEX) || streq(m, MEDIA_DOCKER_LIST);
}

static bool media_is_manifest(const char *m) {
        return streq(m, MEDIA_OCI_MANIFEST) || streq(m, MEDIA_DOCKER_MANIFEST);
}

/* Decide what a document is from its body, and refuse any disagreement with its mediaType or Content-Type
 * (CVE-2021-41190) and schema1. */
static int classify(const char *what, json_t *j, const char *content_type, DocKind *ret) {
        char ct[128];
        const char *mt;
        bool idx, man;

        if (!json_is_object(j))
                return log_error_errno(-EBADMSG, "%s is not a JSON object", what);
        mt = json_string_value(json_object_get(j, "mediaType"));
        if (json_integer_value(json_object_get(j, "schemaVersion")) == 1 || json_object_get(j, "fsLayers") ||
            (mt && startswith(mt, "application/vnd.docker.distribution.manifest.v1")) ||
            startswith(content_type ?: "", "application/vnd.docker.distribution.manifest.v1"))
                return log_error_errno(-EPROTONOSUPPORT,
                                       "%s is a Docker schema1 manifest, which is not supported "
                                       "(deprecated since 2017): push the image again as schema2 or OCI",
                                       what);
        idx = json_object_get(j, "manifests");
        man = json_object_get(j, "config") || json_object_get(j, "layers");
        if (idx == man)
                return log_error_errno(-EBADMSG, "%s is ambiguous: %s", what,
                                       idx ? "it has both 'manifests' and 'config'/'layers'"
                                           : "it is neither an image manifest nor an index");
        if (mt && (idx ? !media_is_index(mt) : !media_is_manifest(mt)))
                return log_error_errno(-EBADMSG, "%s: its mediaType '%.100s' does not match its content",
                                       what, mt);
        snprintf(ct, sizeof ct, "%.*s", (int) strcspn(content_type ?: "", "; "), content_type ?: "");
        if ((media_is_index(ct) && !idx) || (media_is_manifest(ct) && !man))
                return log_error_errno(-EBADMSG, "%s: Content-Type '%s' does not match its content", what,
                                       ct);
        if (mt && (media_is_index(ct) || media_is_manifest(ct)) && !streq(mt, ct))
                return log_error_errno(-EBADMSG, "%s: Content-Type '%s' differs from its mediaType '%s'",
                                       what, ct, mt);
        *ret = idx ? DOC_INDEX : DOC_MANIFEST;
        return 0;
}

static int select_platform(const char *what, json_t *index, const Platform *want, json_t **ret) {
        _cleanup_free_ char *seen = NULL;
        json_t *e, *manifests = json_object_get(index, "manifests");
        size_t i;

        if (!json_is_array(manifests))
                return log_error_errno(-EBADMSG, "%s: 'manifests' is not an array", what);
        json_array_foreach (manifests, i, e) {
                json_t *p = json_object_get(e, "platform");
                const char *os = json_string_value(json_object_get(p, "os"));
                const char *arch = json_string_value(json_object_get(p, "architecture"));
                const char *var = json_string_value(json_object_get(p, "variant"));
                if (!platform_match(want, os, arch, var)) {
                        if (os && arch && strlen(seen ?: "") < 512) {
                                char *n = NULL;
                                if (asprintf(&n, "%s%s%s/%s%s%s", seen ?: "", seen ? ", " : "", os, arch,
                                             var ? "/" : "", var ?: "") >= 0) {
                                        free(seen);
                                        seen = n;
                                }
                        }
                        continue;
                }
                const char *d = json_string_value(json_object_get(e, "digest"));
                const char *mt = json_string_value(json_object_get(e, "mediaType"));
                if (!digest_is_valid(d))
                        return log_error_errno(-EBADMSG, "%s: entry %zu has an invalid digest", what, i + 1);
                if (mt && media_is_index(mt))
                        return log_error_errno(-EBADMSG,
                                               "%s: entry %zu is itself an index; nested indexes are "
                                               "not supported",
                                               what, i + 1);
                if (mt && !media_is_manifest(mt))
                        return log_error_errno(-EBADMSG, "%s: entry %zu has unsupported media type '%.100s'",
                                               what, i + 1, mt);
                *ret = e;
                return 0;
        }
        return log_error_errno(-ENOENT, "%s has no image for %s/%s%s%s (it has: %s)", what, want->os,
                               want->arch, want->variant[0] ? "/" : "", want->variant, seen ?: "nothing");
}

static int fetch_manifest(Client *c, const char *repo, const char *tag_or_digest, const char *what,
                          const char *want_digest, char **ret_body, size_t *ret_len, json_t **ret_json,
                          DocKind *ret_kind, char ret_digest[DIGEST_MAX]) {
        _cleanup_free_ char *path = NULL, *body = NULL, *ct = NULL, *err = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL;
        size_t len;
        int r;

        if (asprintf(&path, "/v2/%s/manifests/%s", repo, tag_or_digest) < 0)
                return log_oom();
        r = client_get_memory(c, path, ACCEPT_MANIFESTS, OCI_MANIFEST_MAX, what, &body, &len, &ct);
        if (r < 0)
                return r;
        /* The digest is what we compute from the bytes, never what a header claims (P3). */
        r = sha256_digest(body, len, ret_digest);
        if (r < 0)
                return log_error_errno(r, "Failed to hash %s: %m", what);
        if (want_digest && !streq(ret_digest, want_digest))
                return log_error_errno(-EBADMSG,
                                       "%s does not match the requested digest: the registry sent %s", what,
                                       ret_digest);
        r = json_parse(body, len, &j, &err);
        if (r < 0)
                return log_error_errno(r, "%s is not valid JSON: %s", what, err ?: "parse error");
        r = classify(what, j, ct, ret_kind);
        if (r < 0)
                return r;
        *ret_body = TAKE_PTR(body);
        *ret_len = len;
        *ret_json = TAKE_PTR(j);
        return 0;
}

/* A layer's first usable foreign URL: https, or http to a loopback host (as for registries); NULL if none.
 */
static const char *foreign_url(json_t *layer) {
        json_t *u;
        size_t i;
        json_array_foreach (json_object_get(layer, "urls"), i, u) {
                const char *s = json_string_value(u);
                char host[256];
                if (!s || strlen(s) > 2048)
                        continue;
                if (startswith(s, "https://") ||
                    (startswith(s, "http://") && url_host(s, host, sizeof host) >= 0 &&
                     host_is_loopback(host)))
                        return s;
        }
        return NULL;
}

static int check_manifest(const char *what, const char *image, json_t *m, bool foreign_urls, Need **ret_need,
                          size_t *ret_n) {
        const char *why = NULL;
        json_t *cfg = json_object_get(m, "config"), *layers = json_object_get(m, "layers"), *l;
        size_t i, n = 0;
        int r;

        r = oci_manifest_check(m, &why);
        if (r < 0)
                return log_error_errno(r, "%s is not valid: %s", what, why);
        const char *cmt = json_string_value(json_object_get(cfg, "mediaType"));
        json_int_t csize = json_integer_value(json_object_get(cfg, "size"));
        if (!cmt || (!streq(cmt, MEDIA_OCI_CONFIG) && !streq(cmt, MEDIA_DOCKER_CONFIG)))
                return log_error_errno(-EBADMSG, "%s is not valid: unsupported config media type '%.100s'",
                                       what, strna(cmt));
        if (!json_is_integer(json_object_get(cfg, "size")) || csize < 0 ||
            csize > (json_int_t) OCI_CONFIG_MAX)
                return log_error_errno(-EBADMSG, "%s is not valid: config size %lld is not within 0..4 MiB",
                                       what, (long long) csize);
        /* Bounds the memory a hostile manifest can make us spend on requests (and what overlayfs can mount).
         */
        if (json_array_size(layers) > PULL_LAYERS_MAX)
                return log_error_errno(-E2BIG, "%s has %zu layers, more than the %u berth accepts", what,
                                       json_array_size(layers), PULL_LAYERS_MAX);
        _cleanup_free_ Need *need = calloc(json_array_size(layers) + 1, sizeof(Need));
        if (!need)
                return log_oom();
        need[n].digest = json_string_value(json_object_get(cfg, "digest"));
        need[n].size = (uint64_t) csize;
        snprintf(need[n].what, sizeof need[n].what, "Config %.19s of '%s'", need[n].digest + 7, image);
        n++;
        json_array_foreach (layers, i, l) {
                const char *d = json_string_value(json_object_get(l, "digest"));
                uint64_t sz = (uint64_t) json_integer_value(json_object_get(l, "size"));
                bool dup = false;
                for (size_t k = 0; k < n; k++)
                        if (streq(need[k].digest, d)) {
                                if (need[k].size != sz)
                                        return log_error_errno(-EBADMSG,
                                                               "%s is not valid: blob %s is listed "
                                                               "with two sizes",
                                                               what, d);
                                dup = true;
                        }
                if (dup)
                        continue;
                need[n].digest = d;
                need[n].size = sz;
                need[n].url = foreign_urls ? foreign_url(l) : NULL;
                snprintf(need[n].what, sizeof need[n].what, "Layer %zu (%.19s) of '%s'", i + 1, d + 7,
                         image);
                n++;
        }
        *ret_need = TAKE_PTR(need);
        *ret_n = n;
        return 0;
}

/* Index entries are OCI manifests, which is all skopeo and umoci read from a layout. A Docker schema2
 * manifest is kept as a blob (so pulls by its digest find it) and named through its OCI translation: same
 * config and layers, OCI media types, serialised deterministically so a warm pull yields the same digest. */
static int name_manifest(const char *name, const char *digest, json_t *m, uint64_t size, const char *id) {
        const char *mt = json_string_value(json_object_get(m, "mediaType")) ?: MEDIA_OCI_MANIFEST;
        json_t *l;
        size_t i;

        if (!streq(mt, MEDIA_DOCKER_MANIFEST))
                return store_index_set(name, digest, size, mt, id);
        _cleanup_(json_decrefp) json_t *o = json_deep_copy(m);
        if (!o)
                return -ENOMEM;
        json_object_set_new(o, "mediaType", json_string(MEDIA_OCI_MANIFEST));
        json_object_set_new(json_object_get(o, "config"), "mediaType", json_string(MEDIA_OCI_CONFIG));
        json_array_foreach (json_object_get(o, "layers"), i, l) {
                const char *lm = json_string_value(json_object_get(l, "mediaType"));
                const char *nm = streq_ptr(lm, "application/vnd.docker.image.rootfs.diff.tar.gzip")
                                         ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                 : streq_ptr(lm, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")
                                         ? "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
                                         : NULL;
                if (nm)
                        json_object_set_new(l, "mediaType", json_string(nm));
        }
        _cleanup_free_ char *body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        char od[DIGEST_MAX];
        if (!body || sha256_digest(body, strlen(body), od) < 0)
                return -ENOMEM;
        int r = store_write_blob(od, body, strlen(body));
        if (r < 0)
                return r;
        return store_index_set_full(name, od, strlen(body), MEDIA_OCI_MANIFEST, id, digest);
}

static int pull_from(Client *c, const Endpoint *ep, const Reference *ref, const char *name,
                     const PullOptions *o, int gc_fd, PullResult *res) {
        _cleanup_free_ char *body = NULL, *what = NULL;
        _cleanup_(json_decrefp) json_t *doc = NULL;
        _cleanup_free_ Need *need = NULL;
        char digest[DIGEST_MAX];
        size_t len, n_need = 0;
        DocKind kind;
        int r;

        if (asprintf(&what, "Manifest of '%s/%s%s%s'", ep->domain, ep->repo, ref->digest ? "@" : ":",
                     ref->digest ?: ref->tag) < 0)
                return log_oom();
        r = fetch_manifest(c, ep->repo, ref->digest ?: ref->tag, what, ref->digest, &body, &len, &doc, &kind,
                           digest);
        if (r < 0)
                return r;
        bool from_index = kind == DOC_INDEX;
        if (kind == DOC_INDEX) {
                json_t *e = NULL;
                char want[DIGEST_MAX];
                r = select_platform(what, doc, &o->platform, &e);
                if (r < 0)
                        return r;
                snprintf(want, sizeof want, "%s", json_string_value(json_object_get(e, "digest")));
                free(what);
                if (asprintf(&what, "Manifest %.19s (%s/%s) of '%s/%s'", want + 7, o->platform.os,
                             o->platform.arch, ep->domain, ep->repo) < 0)
                        return log_oom();
                json_decref(TAKE_PTR(doc));
                body = mfree(body);
                _cleanup_free_ char *mpath = oci_blob_path(want);
                /* Warm pull of an index: the chosen manifest is here already, one request was enough. */
                if (store_has_blob(want, UINT64_MAX) &&
                    read_full_file(mpath, OCI_MANIFEST_MAX, &body, &len) >= 0 &&
                    json_parse(body, len, &doc, NULL) >= 0 && classify(what, doc, NULL, &kind) >= 0 &&
                    kind == DOC_MANIFEST)
                        strcpy(digest, want);
                else {
                        json_decref(TAKE_PTR(doc));
                        body = mfree(body);
                        r = fetch_manifest(c, ep->repo, want, what, want, &body, &len, &doc, &kind, digest);
                        if (r < 0)
                                return r;
                        if (kind != DOC_MANIFEST)
                                return log_error_errno(-EBADMSG,
                                                       "%s: an index entry points at another index", what);
                }
        }
        _cleanup_free_ char *image = NULL;
        if (asprintf(&image, "%s/%s", ep->domain, ep->repo) < 0)
                return log_oom();
        r = check_manifest(what, image, doc, o->foreign_urls, &need, &n_need);
        if (r < 0)
                return r;
        r = check_space(need, n_need, what);
        if (r < 0)
                return r;
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        bool new_manifest = false;
        r = fetch_blobs(c, need, n_need, &res->bytes_fetched);
        if (r >= 0) {
                /* The config must agree with the manifest before anything names the image. */
                new_manifest = !store_has_blob(digest, len);
                r = store_write_blob(digest, body, len);
                if (r < 0)
                        log_error_errno(r, "Cannot store %s in '%s': %m", what, berth_root());
        }
        if (r >= 0) {
                r = oci_image_load(digest, NULL, &img);
                if (r < 0)
                        log_error_errno(r,
                                        "Config of '%s' is not valid (it must be JSON whose rootfs.diff_ids "
                                        "match the %zu layers): %m",
                                        name, json_array_size(json_object_get(doc, "layers")));
        }
        if (r >= 0) {
                r = name_manifest(name, digest, doc, len, img->id);
                if (r < 0)
                        log_error_errno(r, "Cannot update '%s/oci/index.json': %m", berth_root());
        }
        if (r < 0) {
                blobs_take_back(gc_fd, need, n_need, new_manifest ? digest : NULL);
                return r;
        }
        /* A lone manifest is taken whatever its platform, as podman does, and said so when it is not the
         * one wanted (it would fail later with "exec format error"). */
        const char *cos = json_string_value(json_object_get(img->config, "os")),
                   *carch = json_string_value(json_object_get(img->config, "architecture"));
        if (!from_index && cos && carch && (!streq(cos, o->platform.os) || !streq(carch, o->platform.arch)))
                log_warning("Image '%s' is for %.32s/%.32s, not %s/%s", name, cos, carch, o->platform.os,
                            o->platform.arch);
        res->digest = strdup(digest);
        res->id = strdup(img->id);
        res->layers = (unsigned) img->n_layers;
        if (!res->digest || !res->id)
                return log_oom();
        return 0;
}

/* Pull by digest with everything present: no request at all. */
static int pull_local(const Reference *ref, const char *name, PullResult *res) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        if (!ref->digest || !store_has_blob(ref->digest, UINT64_MAX) ||
            oci_image_load(ref->digest, NULL, &img) < 0)
                return 0;
        if (!store_has_blob(img->id, UINT64_MAX))
                return 0;
        for (size_t i = 0; i < img->n_layers; i++)
                if (!store_has_blob(img->layers[i].digest, img->layers[i].size))
                        return 0;
        _cleanup_free_ char *mp = oci_blob_path(ref->digest);
        struct stat st;
        if (!mp || stat(mp, &st) < 0)
                return 0;
        int r = name_manifest(name, ref->digest, img->manifest, (uint64_t) st.st_size, img->id);
        if (r < 0)
                return log_error_errno(r, "Cannot update '%s/oci/index.json': %m", berth_root());
        res->digest = strdup(ref->digest);
        res->id = strdup(img->id);
        res->layers = (unsigned) img->n_layers;
        return res->digest && res->id ? 1 : log_oom();
}

int pull_image(const char *spec, const PullOptions *o, PullResult *ret) {
        _cleanup_(ref_freep) Reference *ref = NULL;
        _cleanup_free_ char *name = NULL, *repo = NULL;
        _cleanup_close_ int gc_fd = -EBADF;
        PullResult res = {};
        Endpoint *eps = NULL;
        size_t n_eps = 0;
        const char *why = NULL;
        int r;

        r = ref_parse(spec, &ref, &why);
        if (r < 0)
                return log_error_errno(r, "Invalid image reference '%s': %s", spec, why ?: "malformed");
        name = ref_store_name(ref);
        if (!name)
                return log_oom();
        r = store_init();
        if (r < 0)
                return log_error_errno(r, "Cannot create the image store in '%s': %m", berth_root());
        r = store_lock_gc(LOCK_SH, &gc_fd);
        if (r < 0)
                return log_error_errno(r, "Cannot lock the image store in '%s': %m", berth_root());
        r = pull_local(ref, name, &res);
        if (r != 0) {
                if (r > 0 && !(res.reference = strdup(name)))
                        r = log_oom();
                if (r > 0)
                        *ret = res;
                else
                        pull_result_done(&res);
                return r < 0 ? r : 0;
        }

        r = registries_endpoints(o->registries_conf, ref->domain, ref->path, &eps, &n_eps);
        if (r == -EACCES)
                return log_error_errno(r, "Registry '%s' is blocked in registries.conf", ref->domain);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return r; /* logged */
        for (size_t i = 0; i < n_eps; i++) {
                _cleanup_(client_freep) Client *c = NULL;
                _cleanup_(creds_done) Creds found = {};
                ClientOptions co = o->client;
                const Creds *cr = o->creds;

                if (!cr) {
                        r = creds_find(o->authfile, eps[i].domain, eps[i].repo, &found);
                        if (r < 0)
                                break;
                        cr = &found;
                }
                co.user = cr->user;
                co.password = cr->password;
                co.cred_source = cr->source;
                /* Plain HTTP is fine on loopback: nobody can get between us and it. */
                if (host_is_loopback(eps[i].domain))
                        co.allow_http = true;
                if (eps[i].insecure) {
                        co.allow_http = true;
                        if (!o->tls_verify_set)
                                co.tls_verify = false;
                }
                r = client_new(eps[i].domain, eps[i].repo, &co, &c);
                if (r < 0)
                        break;
                pull_result_done(&res);
                r = pull_from(c, eps + i, ref, name, o, gc_fd, &res);
                if (r >= 0)
                        break;
                if (eps[i].mirror)
                        log_warning("Mirror '%s' failed, trying the next source", eps[i].domain);
        }
        endpoints_free(eps, n_eps);
        if (r < 0) {
                pull_result_done(&res);
                return r;
        }
        res.reference = strdup(name);
        if (!res.reference) {
                pull_result_done(&res);
                return log_oom();
        }
        *ret = res;
        return 0;
}
