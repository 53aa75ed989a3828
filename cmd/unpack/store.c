/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <zstd.h>

#include "fileio.h"
#include "lock.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "store.h"
#include "util.h"

int image_chain_ids(const OciImage *img, char ***ret) {
        _cleanup_strv_free_ char **ids = calloc(img->n_layers + 1, sizeof(char *));
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < img->n_layers; i++) {
                char d[DIGEST_MAX];
                if (i == 0)
                        ids[i] = strdup(img->layers[i].diff_id);
                else {
                        _cleanup_free_ char *s = NULL;
                        if (asprintf(&s, "%s %s", ids[i - 1], img->layers[i].diff_id) < 0)
                                return -ENOMEM;
                        int r = sha256_digest(s, strlen(s), d);
                        if (r < 0)
                                return r;
                        ids[i] = strdup(d);
                }
                if (!ids[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(ids);
        return 0;
}

static int idmap_string(const IdMap *m, char **ret) {
        _cleanup_free_ char *s = strdup("");
        for (size_t i = 0; m && s && i < m->n; i++) {
                char *n;
                if (asprintf(&n, "%s%s%u:%u:%u", s, i > 0 ? "," : "", m->ranges[i].inside,
                             m->ranges[i].outside, m->ranges[i].count) < 0)
                        return -ENOMEM;
                free(s);
                s = n;
        }
        if (!s)
                return -ENOMEM;
        *ret = TAKE_PTR(s);
        return 0;
}

int layer_map_tag(const UnpackOptions *o, char ret[LAYER_MAP_TAG_LEN + 1]) {
        _cleanup_free_ char *u = NULL, *g = NULL, *s = NULL;
        char d[DIGEST_MAX];
        if (!o->uidmap && !o->gidmap) {
                ret[0] = 0;
                return 0;
        }
        if (idmap_string(o->uidmap, &u) < 0 || idmap_string(o->gidmap, &g) < 0 ||
            asprintf(&s, "uidmap=%s gidmap=%s", u, g) < 0)
                return -ENOMEM;
        int r = sha256_digest(s, strlen(s), d);
        if (r < 0)
                return r;
        (void) snprintf(ret, LAYER_MAP_TAG_LEN + 1, "%s", digest_hex(d));
        return 0;
}

int layer_dir_names(const OciImage *img, const UnpackOptions *o, char ***ret) {
        _cleanup_strv_free_ char **chains = NULL, **dirs = NULL;
        char tag[LAYER_MAP_TAG_LEN + 1];
        int r;

        r = image_chain_ids(img, &chains);
        if (r >= 0)
                r = layer_map_tag(o, tag);
        if (r < 0)
                return r;
        dirs = calloc(img->n_layers + 1, sizeof(char *));
        if (!dirs)
                return -ENOMEM;
        for (size_t i = 0; i < img->n_layers; i++)
                if (asprintf(&dirs[i], "%s%s%s", digest_hex(chains[i]), *tag ? "-" : "", tag) < 0) {
                        dirs[i] = NULL;
                        return -ENOMEM;
                }
        *ret = TAKE_PTR(dirs);
        return 0;
}

void layer_short_name(const char *dir, char ret[LAYER_SHORT_MAX]) {
        if (strlen(dir) > SHA256_HEX_LEN && dir[SHA256_HEX_LEN] == '-')
                (void) snprintf(ret, LAYER_SHORT_MAX, "%.*s-%.8s", LAYER_SHORT_LEN, dir,
                                dir + SHA256_HEX_LEN + 1);
        else
                (void) snprintf(ret, LAYER_SHORT_MAX, "%.*s", LAYER_SHORT_LEN, dir);
}

uint64_t layer_estimate_size(const OciLayer *l) {
        _cleanup_free_ char *p = oci_blob_path(l->digest);
        _cleanup_close_ int fd = -EBADF;
        uint8_t b[32];
        struct stat st;

        if (!p || (fd = open(p, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
                return l->size;
        if (pread(fd, b, sizeof b, 0) < 4)
                return (uint64_t) st.st_size;
        if (b[0] == 0x1f && b[1] == 0x8b) {
                /* ISIZE, the gzip trailer: the size modulo 2^32 of the last member; a lie is caught by the
                 * inflater's trailer check, and the write itself stops at ENOSPC anyway. */
                uint8_t t[4];
                if (st.st_size >= 18 && pread(fd, t, 4, st.st_size - 4) == 4) {
                        uint64_t isize = t[0] | t[1] << 8 | t[2] << 16 | (uint64_t) t[3] << 24;
                        return MAX(isize, (uint64_t) st.st_size);
                }
        } else if (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
                unsigned long long n = ZSTD_getFrameContentSize(b, sizeof b);
                if (n != ZSTD_CONTENTSIZE_UNKNOWN && n != ZSTD_CONTENTSIZE_ERROR)
                        return MAX((uint64_t) n, (uint64_t) st.st_size);
                return (uint64_t) st.st_size * 4;
        }
        return (uint64_t) st.st_size;
}

int check_free_space(const char *path, uint64_t need, uint64_t min_free, const char *what) {
        struct statvfs sv;
        char a[32], b[32], c[32];
        if (statvfs(path, &sv) < 0)
                return log_error_errno(-errno, "Cannot check the free space of '%s': %m", path);
        uint64_t avail = (uint64_t) sv.f_bavail * sv.f_frsize;
        if (avail >= need && avail - need >= min_free)
                return 0;
        format_size(avail, a, sizeof a);
        format_size(need, b, sizeof b);
        format_size(min_free, c, sizeof c);
        return log_error_errno(-ENOSPC,
                               "Not enough free space in '%s' for %s: %s available, %s needed plus %s to "
                               "keep free (--min-free)",
                               path, what, a, b, c);
}

int layer_open_stream(const OciLayer *l, uint64_t max_layer_size, LayerStream **ret, char *why,
                      size_t why_size) {
        _cleanup_free_ char *p = oci_blob_path(l->digest);
        if (!p)
                return -ENOMEM;
        if (layer_media_type_check(l->media_type) < 0) {
                (void) snprintf(why, why_size, "unsupported media type '%s'", strna(l->media_type));
                return -EPROTONOSUPPORT;
        }
        int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                (void) snprintf(why, why_size, "cannot open blob '%s': %s", p, strerror(errno));
                return -errno;
        }
        /* A decompression bomb stops at the cap (U14): by default 200 times the blob plus 1 GiB. */
        uint64_t max = max_layer_size ?: l->size * 200 + (1ULL << 30);
        int r = layer_stream_open(fd, max, ret);
        if (r < 0)
                (void) snprintf(why, why_size, "cannot read blob: %s", strerror(-r));
        return r;
}

typedef struct Jobs Jobs;
typedef struct Lowers {
        Jobs *jobs;
        size_t layer;
        int *fds;
        size_t n;
} Lowers;
static int lowers_get(void *userdata, const int **ret_fds, size_t *ret_n, char *why, size_t why_size);

/* Fill layers/<tmp> with layer i: diff/ and layer.json. */
static int layer_fill(int lfd, const char *tmp, const OciImage *img, size_t i, const char *chain,
                      const char *parent, const UnpackOptions *o, Lowers *lowers, char *why,
                      size_t why_size) {
        _cleanup_free_ char *diffp = path_join(tmp, "diff"), *metap = path_join(tmp, "layer.json");
        _cleanup_(layer_stream_freep) LayerStream *s = NULL;
        _cleanup_(json_decrefp) json_t *meta = NULL;
        _cleanup_close_ int dfd = -EBADF;
        char got[DIGEST_MAX];
        ExtractStats st = {};
        int r;

        if (!diffp || !metap)
                return -ENOMEM;
        if (mkdirat(lfd, diffp, 0755) < 0 ||
            (dfd = openat(lfd, diffp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return -errno;
        r = layer_open_stream(&img->layers[i], o->max_layer_size, &s, why, why_size);
        if (r < 0)
                return r;
        ExtractOptions eo = {
                .mode = EXTRACT_LAYER,
                .base = i == 0,
                .uidmap = o->uidmap,
                .gidmap = o->gidmap,
                .max_entries = o->max_entries,
                .min_free = o->min_free,
                .lower_layers = i > 0 ? lowers_get : NULL,
                .lower_userdata = lowers,
        };
        r = extract_tar(dfd, s, &eo, &st, why, why_size);
        if (r < 0)
                return r;
        r = layer_stream_finish(s, got);
        if (r < 0) {
                (void) snprintf(why, why_size, "%s", layer_stream_why(s) ?: strerror(-r));
                return r;
        }
        if (!streq(got, img->layers[i].diff_id)) {
                (void) snprintf(why, why_size, "DiffID mismatch: the config says %s, the content is %s",
                                img->layers[i].diff_id, got);
                return -EBADMSG;
        }

        meta = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:I, s:I}", "ChainID", chain, "DiffID",
                         img->layers[i].diff_id, "Digest", img->layers[i].digest, "Parent", parent,
                         "MediaType", img->layers[i].media_type, "Compression",
                         compression_to_string(layer_stream_compression(s)), "UncompressedSize",
                         (json_int_t) layer_stream_total(s), "Entries", (json_int_t) st.entries);
        if (!meta)
                return -ENOMEM;
        _cleanup_free_ char *metaabs = berth_path("layers", metap);
        if (!metaabs)
                return -ENOMEM;
        r = json_write_file_atomic(metaabs, meta);
        if (r < 0)
                return r;
        /* One syncfs instead of an fsync per file: the layer is durable before its name says it is complete.
         */
        if (syncfs(dfd) < 0)
                return -errno;
        log_debug("Unpacked layer %s (%llu entries, %llu bytes)", chain, (unsigned long long) st.entries,
                  (unsigned long long) layer_stream_total(s));
        return 0;
}

/* Unpack one layer into the store under its lock. why gets the reason on failure. */
static int layer_unpack(const OciImage *img, size_t i, const char *chain, const char *parent,
                        const char *hex, const UnpackOptions *o, Lowers *lowers, char *why,
                        size_t why_size) {
        _cleanup_free_ char *layers = berth_path("layers"), *lockp = NULL, *tmp = NULL;
        _cleanup_close_ int lfd = -EBADF, lock = -EBADF;
        int r;

        if (!layers || asprintf(&tmp, ".tmp-%s", hex) < 0 || !(lockp = path_join(layers, ".locks", hex)))
                return -ENOMEM;
        lfd = open(layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lfd < 0)
                return -errno;
        if (faccessat(lfd, hex, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return 0;
        r = lock_path(lockp, LOCK_EX, &lock);
        if (r < 0) {
                (void) snprintf(why, why_size, "cannot lock '%s': %s", lockp, strerror(-r));
                return r;
        }
        /* Someone else finished it while we waited for the lock. */
        if (faccessat(lfd, hex, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return 0;
        /* We hold the lock: a temp dir for this chain is a dead unpacker's leftover. */
        r = rm_rf_at(lfd, tmp);
        if (r < 0)
                return r;
        if (mkdirat(lfd, tmp, 0700) < 0)
                return -errno;
        r = layer_fill(lfd, tmp, img, i, chain, parent, o, lowers, why, why_size);
        if (r >= 0 && (renameat(lfd, tmp, lfd, hex) < 0 || fsync(lfd) < 0))
                r = -errno;
        if (r < 0) {
                (void) rm_rf_at(lfd, tmp);
                if (!*why)
                        (void) snprintf(why, why_size, "%s", strerror(-r));
        }
        return r;
}

/* Workers take layers bottom first, so every layer below one being unpacked is done or being unpacked by
 * another worker (or by another process, whose lock the worker waits for): waiting for them cannot deadlock,
 * as the lowest unfinished layer never waits. */
struct Jobs {
        const OciImage *img;
        char **chains, **dirs;
        const UnpackOptions *o;
        atomic_size_t next;
        int *results;
        bool *done;
        pthread_mutex_t lock;
        pthread_cond_t changed;
        char (*whys)[1024];
};

/* A hardlink to a file of a lower layer (extract-copyup.c) needs the layers below complete: wait for them,
 * then open their diff/ directories, nearest first. Only such a layer waits; the others stay parallel. */
static int lowers_get(void *userdata, const int **ret_fds, size_t *ret_n, char *why, size_t why_size) {
        Lowers *l = userdata;
        Jobs *j = l->jobs;
        _cleanup_free_ char *layers = berth_path("layers");
        if (!layers)
                return -ENOMEM;
        pthread_mutex_lock(&j->lock);
        for (size_t k = 0; k < l->layer; k++)
                while (!j->done[k])
                        pthread_cond_wait(&j->changed, &j->lock);
        pthread_mutex_unlock(&j->lock);
        /* One fd per lower layer, and a few per level of the path while it is looked up: up to 500 layers,
         * beyond the usual soft limit of 1024. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
        l->fds = calloc(l->layer, sizeof(int));
        if (!l->fds)
                return -ENOMEM;
        for (size_t k = l->layer; k > 0; k--) {
                _cleanup_free_ char *p = path_join(layers, j->dirs[k - 1], "diff");
                if (!p)
                        return -ENOMEM;
                if (j->results[k - 1] < 0) {
                        (void) snprintf(why, why_size, "layer %zu below was refused", k);
                        return -ENOLINK;
                }
                int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        int e = -errno;
                        (void) snprintf(why, why_size, "cannot open the layer below '%s': %s", p,
                                        strerror(-e));
                        return e;
                }
                l->fds[l->n++] = fd;
        }
        *ret_fds = l->fds;
        *ret_n = l->n;
        return 0;
}

static void *worker(void *userdata) {
        Jobs *j = userdata;
        for (;;) {
                size_t i = atomic_fetch_add(&j->next, 1);
                if (i >= j->img->n_layers)
                        return NULL;
                Lowers lowers = {.jobs = j, .layer = i};
                int r = layer_unpack(j->img, i, j->chains[i], i > 0 ? j->chains[i - 1] : NULL, j->dirs[i],
                                     j->o, &lowers, j->whys[i], sizeof j->whys[i]);
                for (size_t k = 0; k < lowers.n; k++)
                        safe_close(lowers.fds[k]);
                free(lowers.fds);
                pthread_mutex_lock(&j->lock);
                j->results[i] = r;
                j->done[i] = true;
                pthread_cond_broadcast(&j->changed);
                pthread_mutex_unlock(&j->lock);
        }
}

static int run_jobs(const OciImage *img, const char *spec, char **chains, char **dirs,
                    const UnpackOptions *o, size_t missing) {
        _cleanup_free_ int *results = calloc(img->n_layers, sizeof(int));
        _cleanup_free_ char(*whys)[1024] = calloc(img->n_layers, sizeof(*whys));
        _cleanup_free_ bool *done = calloc(img->n_layers, sizeof(bool));
        pthread_t threads[64];
        size_t started = 0;

        if (!results || !whys || !done)
                return log_oom();
        Jobs j = {
                .img = img,
                .chains = chains,
                .dirs = dirs,
                .o = o,
                .results = results,
                .done = done,
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .changed = PTHREAD_COND_INITIALIZER,
                .whys = whys,
        };
        size_t n_threads = MIN(MIN((size_t) MAX(o->jobs, 1U), missing), ELEMENTSOF(threads));
        for (; started + 1 < n_threads; started++)
                if (pthread_create(&threads[started], NULL, worker, &j) != 0)
                        break;
        (void) worker(&j);
        for (size_t t = 0; t < started; t++)
                (void) pthread_join(threads[t], NULL);

        for (size_t i = 0; i < img->n_layers; i++)
                if (results[i] < 0) {
                        why_escape(whys[i], sizeof whys[i]);
                        return log_error_errno(results[i], "Layer %zu/%zu (%s) of '%s' refused: %s", i + 1,
                                               img->n_layers, img->layers[i].digest, spec,
                                               *whys[i] ? whys[i] : strerror(-results[i]));
                }
        return 0;
}

int layer_store_ensure(const OciImage *img, const char *spec, const UnpackOptions *o, int *ret_lock) {
        _cleanup_strv_free_ char **chains = NULL, **dirs = NULL;
        _cleanup_free_ char *layers = berth_path("layers"), *locks = berth_path("layers", ".locks"),
                            *storelock = berth_path("layers", ".lock");
        _cleanup_close_ int lock = -EBADF;
        uint64_t need = 0;
        size_t missing = 0;
        int r;

        if (!layers || !locks || !storelock)
                return log_oom();
        r = berth_ensure_dirs();
        if (r >= 0)
                r = mkdir_p(locks, 0700);
        if (r < 0)
                return log_error_errno(r, "Cannot create '%s': %m", locks);
        /* Shared with other unpacks and mounts, exclusive for gc: gc never removes a layer in use. */
        r = lock_path(storelock, LOCK_SH, &lock);
        if (r < 0)
                return log_error_errno(r, "Cannot lock '%s': %m", storelock);
        r = image_chain_ids(img, &chains);
        if (r >= 0)
                r = layer_dir_names(img, o, &dirs);
        if (r < 0)
                return log_oom();
        for (size_t i = 0; i < img->n_layers; i++) {
                _cleanup_free_ char *p = path_join(layers, dirs[i]);
                if (!p)
                        return log_oom();
                if (access(p, F_OK) >= 0)
                        continue;
                if (layer_media_type_check(img->layers[i].media_type) < 0) {
                        char mt[200];
                        (void) snprintf(mt, sizeof mt, "%s", strna(img->layers[i].media_type));
                        why_escape(mt, sizeof mt);
                        return log_error_errno(-EPROTONOSUPPORT,
                                               "Layer %zu of '%s' has an unsupported media type '%s'", i + 1,
                                               spec, mt);
                }
                need += layer_estimate_size(&img->layers[i]);
                missing++;
        }
        if (missing > 0) {
                r = check_free_space(layers, need, o->min_free, "the layers");
                if (r < 0)
                        return r;
                r = run_jobs(img, spec, chains, dirs, o, missing);
                if (r < 0)
                        return r;
        }
        if (ret_lock)
                *ret_lock = TAKE_FD(lock);
        return 0;
}
