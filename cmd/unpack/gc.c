/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>

#include "container.h"
#include "fileio.h"
#include "lock.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "store.h"
#include "strmap.h"

static bool is_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char) s[i]) || isupper((unsigned char) s[i]))
                        return false;
        return true;
}

/* "<chain hex>" or "<chain hex>-<map tag>" */
static bool is_layer_dir(const char *s) {
        size_t n = strlen(s);
        if (n == SHA256_HEX_LEN)
                return is_hex(s, n);
        return n == SHA256_HEX_LEN + 1 + LAYER_MAP_TAG_LEN && s[SHA256_HEX_LEN] == '-' &&
               is_hex(s, SHA256_HEX_LEN) && is_hex(s + SHA256_HEX_LEN + 1, LAYER_MAP_TAG_LEN);
}

static int mark_image(StrMap *keep, const OciImage *img) {
        _cleanup_strv_free_ char **chains = NULL;
        int r = image_chain_ids(img, &chains);
        if (r < 0)
                return r;
        for (size_t i = 0; chains[i]; i++) {
                r = strmap_put(keep, digest_hex(chains[i]), 0);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 0;
}

static int mark_referenced(StrMap *keep) {
        _cleanup_(json_decrefp) json_t *index = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        json_t *e;
        size_t i;
        int r;

        r = oci_index_load(&index);
        if (r < 0)
                return log_error_errno(r, "Cannot read the image store's index: %m");
        json_array_foreach (json_object_get(index, "manifests"), i, e) {
                _cleanup_(oci_image_freep) OciImage *img = NULL;
                const char *d = json_string_value(json_object_get(e, "digest"));
                r = oci_image_load(d, NULL, &img);
                if (r < 0)
                        /* A broken entry cannot name its layers; keeping everything is the safe answer. */
                        return log_error_errno(r, "Cannot load image '%s' of the store, not collecting: %m",
                                               strna(d));
                r = mark_image(keep, img);
                if (r < 0)
                        return log_oom();
        }

        r = container_list(&ids);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Cannot list containers: %m");
        for (size_t k = 0; ids && ids[k]; k++) {
                _cleanup_(json_decrefp) json_t *c = NULL;
                _cleanup_(oci_image_freep) OciImage *img = NULL;
                r = container_load(ids[k], &c, NULL);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return log_error_errno(r, "Cannot read container '%s', not collecting: %m", ids[k]);
                const char *image = json_string_value(json_object_get(c, "Image"));
                if (!image)
                        continue;
                r = oci_image_find(image, &img);
                if (r < 0)
                        return log_error_errno(r,
                                               "Container '%s' uses image '%s' that is not in the store, "
                                               "not collecting: %m",
                                               ids[k], image);
                r = mark_image(keep, img);
                if (r < 0)
                        return log_oom();
        }
        return 0;
}

/* Layers under a live overlay mount of this mount namespace (lowerdir=l/<short>:... as mount_image() makes
 * them, or full .../<hex>/diff paths) are kept even if no record names them: belt and braces for a caller
 * that mounted before writing its record. Marked by prefix in keep_prefixes. */
static int mark_mounted(char ***keep_prefixes) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        if (!f)
                return -errno;
        while (getline(&line, &size, f) > 0) {
                const char *sep = strstr(line, " - overlay "), *lower;
                if (!sep || !(lower = strstr(sep, "lowerdir=")))
                        continue;
                lower += strlen("lowerdir=");
                for (const char *p = lower; *p && *p != ',' && *p != '\n' && *p != ' ';) {
                        size_t n = strcspn(p, ":, \n");
                        _cleanup_free_ char *tok = strndup(p, n);
                        if (!tok)
                                return -ENOMEM;
                        const char *base = strrchr(tok, '/');
                        base = base ? base + 1 : tok;
                        if (streq(base, "diff") && base - tok > SHA256_HEX_LEN + 1) {
                                /* .../<hex>/diff */
                                tok[base - tok - 1] = 0;
                                base = strrchr(tok, '/');
                                base = base ? base + 1 : tok;
                        }
                        if (strlen(base) >= LAYER_SHORT_LEN && strlen(base) < LAYER_DIR_MAX &&
                            strv_extend(keep_prefixes, base) < 0)
                                return -ENOMEM;
                        p += n;
                        if (*p == ':')
                                p++;
                }
        }
        return 0;
}

static bool is_mounted(char *const *mounted, const char *name) {
        char sn[LAYER_SHORT_MAX];
        layer_short_name(name, sn);
        return strv_contains(mounted, sn) || strv_contains(mounted, name);
}

/* Lock files of layers that are gone. Safe only under the exclusive store lock: an unpacker opens a layer's
 * lock file only while it holds the store lock shared, so nobody can hold or be about to take these. */
static void prune_locks(int lfd) {
        _cleanup_close_ int fd = openat(lfd, ".locks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        if (fd < 0 || !(d = fdopendir(fd)))
                return;
        fd = -EBADF; /* owned by d now */
        for (struct dirent *de; (de = readdir(d));)
                if (is_layer_dir(de->d_name) && faccessat(lfd, de->d_name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
                    errno == ENOENT)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
}

int layer_store_gc(unsigned *ret_removed) {
        _cleanup_free_ char *layers = berth_path("layers"), *storelock = berth_path("layers", ".lock");
        _cleanup_(strmap_freep) StrMap *keep = strmap_new();
        _cleanup_close_ int lock = -EBADF, lfd = -EBADF;
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **mounted = NULL;
        unsigned removed = 0;
        int r;

        if (!layers || !storelock || !keep)
                return log_oom();
        lfd = open(layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lfd < 0 && errno == ENOENT) {
                *ret_removed = 0;
                return 0;
        }
        if (lfd < 0)
                return log_error_errno(-errno, "Cannot open '%s': %m", layers);
        /* Exclusive against every unpack and mount, which hold the store lock shared. */
        r = lock_path(storelock, LOCK_EX, &lock);
        if (r < 0)
                return log_error_errno(r, "Cannot lock '%s': %m", storelock);
        r = mark_referenced(keep);
        if (r < 0)
                return r;
        r = mark_mounted(&mounted);
        if (r < 0)
                return log_error_errno(r, "Cannot read /proc/self/mountinfo: %m");

        d = fdopendir(fcntl(lfd, F_DUPFD_CLOEXEC, 3));
        if (!d)
                return log_error_errno(-errno, "Cannot read '%s': %m", layers);
        for (struct dirent *de; (de = readdir(d));) {
                const char *name = de->d_name, *tmp_of = startswith(name, ".tmp-");
                _cleanup_free_ char *lockp = NULL, *tmp = NULL;
                _cleanup_close_ int l = -EBADF;

                if (!is_layer_dir(tmp_of ?: name))
                        continue;
                char chain[SHA256_HEX_LEN + 1];
                (void) snprintf(chain, sizeof chain, "%s", name);
                /* A shifted copy lives as long as its chain is used. */
                if (!tmp_of && strmap_get(keep, chain, NULL))
                        continue;
                if (!tmp_of && is_mounted(mounted, name)) {
                        log_debug("Layer %s is under a mounted overlay, keeping it", name);
                        continue;
                }
                lockp = path_join(layers, ".locks", tmp_of ?: name);
                if (!lockp || asprintf(&tmp, ".tmp-%s", tmp_of ?: name) < 0)
                        return log_oom();
                /* Busy: an unpack of this chain is running right now. */
                if (lock_path(lockp, LOCK_EX | LOCK_NB, &l) < 0)
                        continue;
                if (!tmp_of) {
                        char link[2 + LAYER_SHORT_MAX], sn[LAYER_SHORT_MAX];
                        layer_short_name(name, sn);
                        (void) snprintf(link, sizeof link, "l/%s", sn);
                        (void) unlinkat(lfd, link, 0);
                        /* Renamed first: a crash halfway leaves a temp dir, never a half-deleted layer. */
                        if (renameat(lfd, name, lfd, tmp) < 0)
                                return log_error_errno(-errno, "Cannot remove layer '%s': %m", name);
                        printf("sha256:%s\n", name);
                        removed++;
                }
                r = rm_rf_at(lfd, tmp);
                if (r < 0)
                        return log_error_errno(r, "Cannot remove '%s/%s': %m", layers, tmp);
        }
        (void) fsync(lfd);
        prune_locks(lfd);
        *ret_removed = removed;
        return 0;
}
