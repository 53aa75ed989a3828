/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fetching an image's blobs into the store: per-blob locks, resumed leftovers, commits as each completes. */
#include <stdio.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "blobs.h"
#include "log.h"
#include "oci.h"
#include "paths.h"
#include "store.h"
#include "util.h"

static void jobs_release(BlobJob *jobs, size_t n) {
        for (size_t k = 0; k < n; k++) {
                jobs[k].hash = sha256_free(jobs[k].hash);
                jobs[k].fd = safe_close(jobs[k].fd);
        }
}

static int job_commit(BlobJob *j) {
        Need *need = j->userdata;
        int r = store_blob_commit(j->digest, TAKE_FD(j->fd));
        if (r < 0)
                return log_error_errno(r, "Cannot store %s in '%s': %m", j->what, berth_root());
        need->done = true;
        need->committed = true;
        return 0;
}

/* One round over the locked jobs: complete leftovers of a killed pull are checked here, the rest fetched. */
static int fetch_round(Client *c, BlobJob *jobs, size_t *which, size_t nj, Need *need, uint64_t *fetched) {
        size_t nn = 0;
        int r;

        for (size_t k = 0; k < nj; k++) {
                BlobJob *j = jobs + k;
                if (j->offset == j->size) {
                        char d[DIGEST_MAX];
                        if (sha256_final(j->hash, d) >= 0 && streq(d, j->digest)) {
                                r = store_blob_commit(j->digest, TAKE_FD(j->fd));
                                if (r < 0)
                                        return log_error_errno(r, "Cannot store %s in '%s': %m", j->what,
                                                               berth_root());
                                need[which[k]].done = true;
                                need[which[k]].committed = true;
                                continue;
                        }
                        /* A wrong leftover: start over. */
                        sha256_free(j->hash);
                        j->hash = sha256_new();
                        j->offset = 0;
                        if (!j->hash || ftruncate(j->fd, 0) < 0)
                                return log_error_errno(j->hash ? -errno : -ENOMEM, "Cannot reset %s: %m",
                                                       j->what);
                }
                /* compact the ones to fetch to the front */
                BlobJob t = jobs[nn];
                size_t tw = which[nn];
                jobs[nn] = *j;
                which[nn] = which[k];
                *j = t;
                which[k] = tw;
                nn++;
        }
        if (nn == 0)
                return 0;
        for (size_t k = 0; k < nn; k++) {
                jobs[k].complete = job_commit;
                jobs[k].userdata = need + which[k];
        }
        r = client_get_blobs(c, jobs, nn);
        for (size_t k = 0; k < nn; k++)
                *fetched += jobs[k].fetched;
        if (r < 0) {
                /* Wrong content, and what filled the disk, is thrown away; a broken download is kept to
                 * resume from. */
                for (size_t k = 0; k < nn; k++)
                        if (jobs[k].fd >= 0 && (jobs[k].error == -EBADMSG || jobs[k].error == -ENOSPC ||
                                                jobs[k].error == -EDQUOT || jobs[k].offset == 0))
                                store_blob_discard(jobs[k].digest, TAKE_FD(jobs[k].fd));
                return r;
        }
        return 0;
}

/* Fetch every blob not in the store yet, each under its own lock, so concurrent pulls fetch a blob once. */
int fetch_blobs(Client *c, Need *need, size_t n, uint64_t *fetched) {
        _cleanup_free_ BlobJob *jobs = calloc(n ?: 1, sizeof(BlobJob));
        _cleanup_free_ size_t *which = calloc(n ?: 1, sizeof(size_t));
        int r;

        if (!jobs || !which)
                return log_oom();
        for (;;) {
                size_t nj = 0, waiting = SIZE_MAX, left = 0;

                for (size_t i = 0; i < n; i++) {
                        if (need[i].done)
                                continue;
                        left++;
                        BlobJob *j = jobs + nj;
                        *j = (BlobJob){.digest = need[i].digest,
                                       .size = need[i].size,
                                       .what = need[i].what,
                                       .url = need[i].url,
                                       .fd = -EBADF};
                        r = store_blob_lock(j->digest, j->size, false, &j->fd, &j->offset, &j->hash);
                        if (r == -EAGAIN) {
                                if (waiting == SIZE_MAX)
                                        waiting = i;
                                continue;
                        }
                        if (r < 0) {
                                jobs_release(jobs, nj);
                                return log_error_errno(r, "Cannot lock the download of %s in '%s/tmp': %m",
                                                       j->what, berth_root());
                        }
                        if (r == 1)
                                need[i].done = true;
                        else
                                which[nj++] = i;
                }
                if (left == 0)
                        return 0;
                if (nj == 0 && waiting != SIZE_MAX) {
                        /* All that is left is being fetched by another pull: wait for it. */
                        Need *w = need + waiting;
                        jobs[0] = (BlobJob){.digest = w->digest,
                                            .size = w->size,
                                            .what = w->what,
                                            .url = w->url,
                                            .fd = -EBADF};
                        log_debug("Waiting for another pull to fetch %s", w->what);
                        r = store_blob_lock(w->digest, w->size, true, &jobs[0].fd, &jobs[0].offset,
                                            &jobs[0].hash);
                        if (r < 0)
                                return log_error_errno(r, "Cannot lock the download of %s: %m", w->what);
                        if (r == 1) {
                                w->done = true;
                                continue;
                        }
                        which[nj++] = waiting;
                }
                r = fetch_round(c, jobs, which, nj, need, fetched);
                jobs_release(jobs, nj);
                if (r < 0)
                        return r;
        }
}

/* Fail before a byte is fetched when the blobs cannot fit, rather than filling the disk (S5); the write
 * path still handles ENOSPC from others filling it meanwhile. */
int check_space(const Need *need, size_t n, const char *what) {
        _cleanup_free_ char *tmp = berth_path("tmp");
        uint64_t want = 0;
        struct statvfs sv;

        for (size_t i = 0; i < n; i++)
                if (!store_has_blob(need[i].digest, need[i].size))
                        want += need[i].size;
        if (!tmp || want == 0 || statvfs(tmp, &sv) < 0)
                return 0;
        uint64_t avail = (uint64_t) sv.f_bavail * sv.f_frsize;
        if (avail >= want)
                return 0;
        char a[32], w[32];
        format_size(want, w, sizeof w);
        format_size(avail, a, sizeof a);
        return log_error_errno(-ENOSPC,
                               "No space left on device for %s: its blobs need %s, '%s' has %s free", what,
                               w, berth_root(), a);
}

static void take_back_one(json_t *keep, const char *digest) {
        _cleanup_free_ char *blob = oci_blob_path(digest), *partial = NULL;

        if (!blob || json_object_get(keep, digest) ||
            asprintf(&partial, "%s/tmp/%s.partial", berth_root(), digest_hex(digest)) < 0)
                return;
        /* Back to where a pull finds a complete download and commits it without fetching it again. */
        if (rename(blob, partial) < 0 && errno != ENOENT)
                (void) unlink(blob);
}

/* "Nothing new in the store" after a failed pull: what this pull committed leaves blobs/ again. That is
 * safe only while no other pull runs, since one may have found the blob there and be about to name it: the
 * gc lock is tried exclusively without waiting, and when another pull or gc holds it, the blobs stay for gc.
 * Blobs that an index entry references by now (a pull that finished meanwhile) stay too. */
void blobs_take_back(int gc_fd, const Need *need, size_t n, const char *manifest) {
        _cleanup_(json_decrefp) json_t *index = NULL, *keep = json_object();
        bool any = !!manifest;

        for (size_t i = 0; i < n; i++)
                any = any || need[i].committed;
        if (!any || !keep)
                return;
        /* A failed conversion has dropped the shared lock (flock(2)): it is taken again below. */
        if (flock(gc_fd, LOCK_EX | LOCK_NB) < 0)
                log_debug_errno(-errno, "Other pulls are running, leaving the blobs of this one to gc: %m");
        else if (oci_index_load(&index) >= 0 && store_referenced(index, keep, NULL) >= 0) {
                for (size_t i = 0; i < n; i++)
                        if (need[i].committed)
                                take_back_one(keep, need[i].digest);
                if (manifest)
                        take_back_one(keep, manifest);
        }
        /* The next source (a mirror) pulls under the shared lock again. */
        (void) flock(gc_fd, LOCK_SH);
}
