/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdint.h>

#include "durable.h"
#include "fileio.h"
#include "macro.h"

static struct {
        bool defer;
        char **queue;
        char **busy; /* the thread's */
        pthread_t thread;
        bool running;
} d;

/* Only system calls in here: the process may fork while it runs (the runtime's child only execs). */
static int sync_paths(char **paths) {
        int r = 0;
        for (char **p = paths; p && *p; p++) {
                int fd = open(*p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                        if (errno != ENOENT && r == 0) /* removed meanwhile: nothing to keep */
                                r = -errno;
                        continue;
                }
                if (fsync(fd) < 0 && r == 0)
                        r = -errno;
                (void) close(fd);
        }
        return r;
}

static void *sync_thread(void *userdata) {
        return (void *) (intptr_t) sync_paths(userdata);
}

void durable_defer(bool b) {
        d.defer = b;
}

static void queue(const char *path) {
        if (!strv_contains(d.queue, path))
                (void) strv_extend(&d.queue, path);
}

WriteFlags durable_write_flags(const char *path, WriteFlags flags) {
        if (!d.defer || (flags & WRITE_NO_SYNC))
                return flags;
        queue(path);
        if (!(flags & WRITE_NO_DIR_SYNC)) {
                _cleanup_free_ char *copy = strdup(path);
                if (copy)
                        queue(dirname(copy));
        }
        return WRITE_NO_SYNC;
}

int durable_sync_dir(const char *dir) {
        if (!d.defer) {
                char *one[] = {(char *) dir, NULL};
                return sync_paths(one);
        }
        queue(dir);
        return 0;
}

void durable_start(void) {
        pthread_attr_t attr;
        if (d.running || !d.queue)
                return;
        d.busy = TAKE_PTR(d.queue);
        if (pthread_attr_init(&attr) == 0) {
                (void) pthread_attr_setstacksize(&attr, 64 * 1024);
                d.running = pthread_create(&d.thread, &attr, sync_thread, d.busy) == 0;
                (void) pthread_attr_destroy(&attr);
        }
        if (!d.running) /* no thread: the queue waits for durable_wait() */
                d.queue = TAKE_PTR(d.busy);
}

int durable_wait(void) {
        int r = 0, k;
        if (d.running) {
                void *ret = NULL;
                (void) pthread_join(d.thread, &ret);
                d.running = false;
                r = (int) (intptr_t) ret;
                strv_free(d.busy);
                d.busy = NULL;
        }
        k = sync_paths(d.queue);
        strv_free(d.queue);
        d.queue = NULL;
        return r < 0 ? r : k;
}

void durable_discard(void) {
        strv_free(d.queue);
        d.queue = NULL;
}
