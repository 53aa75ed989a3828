/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <pthread.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "macro.h"
#include "stream.h"

#define IN_BUF_SIZE (256U * 1024U)
#define OUT_BUF_SIZE (256U * 1024U)
/* zstd frames asking for a window above 128 MiB are refused: they would make memory unbounded (U14). */
#define ZSTD_WINDOW_LOG_MAX 27
/* Decompression and hashing run in a thread of their own, a few buffers ahead of the tar writer: on two
 * cores inflating overlaps with writing files. */
#define N_SLOTS 4

struct LayerStream {
        int fd;
        Compression compression;
        uint64_t max_bytes, total;
        Sha256 *sha;
        const char *why;

        uint8_t *in, *out;
        size_t in_len, in_pos;
        bool in_eof;

        struct inflate_state *inflate;
        bool member_done; /* gzip: the current member ended; another may follow */
        ZSTD_DCtx *zstd;
        size_t zstd_last; /* last ZSTD_decompressStream() return: 0 at a frame boundary */

        /* The ring between the producer thread and the reader: slots head .. head+held+filled-1 are in use.
         */
        pthread_t thread;
        bool thread_started;
        pthread_mutex_t lock;
        pthread_cond_t cond_data, cond_space;
        uint8_t *slots[N_SLOTS];
        size_t lens[N_SLOTS];
        unsigned head, filled;
        bool held, eof, cancel;
        int error;
};

static const char *const compression_table[_COMPRESSION_MAX] = {
        [COMPRESSION_NONE] = "none",
        [COMPRESSION_GZIP] = "gzip",
        [COMPRESSION_ZSTD] = "zstd",
};

const char *compression_to_string(Compression c) {
        return c >= 0 && c < _COMPRESSION_MAX ? compression_table[c] : "invalid";
}

int layer_media_type_check(const char *mt) {
        static const char *const ok[] = {
                "application/vnd.oci.image.layer.v1.tar",
                "application/vnd.oci.image.layer.v1.tar+gzip",
                "application/vnd.oci.image.layer.v1.tar+zstd",
                "application/vnd.oci.image.layer.nondistributable.v1.tar",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                "application/vnd.docker.image.rootfs.diff.tar",
        };
        if (!mt)
                return -EPROTONOSUPPORT;
        for (size_t i = 0; i < ELEMENTSOF(ok); i++)
                if (streq(mt, ok[i]))
                        return 0;
        return -EPROTONOSUPPORT;
}

LayerStream *layer_stream_free(LayerStream *s) {
        if (!s)
                return NULL;
        if (s->thread_started) {
                pthread_mutex_lock(&s->lock);
                s->cancel = true;
                pthread_cond_broadcast(&s->cond_space);
                pthread_mutex_unlock(&s->lock);
                pthread_join(s->thread, NULL);
        }
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond_data);
        pthread_cond_destroy(&s->cond_space);
        for (size_t i = 0; i < N_SLOTS; i++)
                free(s->slots[i]);
        safe_close(s->fd);
        sha256_free(s->sha);
        free(s->in);
        free(s->inflate);
        ZSTD_freeDCtx(s->zstd);
        return mfree(s);
}

static int fill_input(LayerStream *s) {
        if (s->in_pos < s->in_len || s->in_eof)
                return 0;
        for (;;) {
                ssize_t n = read(s->fd, s->in, IN_BUF_SIZE);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                s->in_len = (size_t) n;
                s->in_pos = 0;
                if (n == 0)
                        s->in_eof = true;
                return 0;
        }
}

int layer_stream_open(int fd, uint64_t max_bytes, LayerStream **ret) {
        _cleanup_(layer_stream_freep) LayerStream *s = calloc(1, sizeof(LayerStream));
        int r;

        if (!s) {
                safe_close(fd);
                return -ENOMEM;
        }
        s->fd = fd;
        s->max_bytes = max_bytes;
        s->sha = sha256_new();
        s->in = malloc(IN_BUF_SIZE);
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond_data, NULL);
        pthread_cond_init(&s->cond_space, NULL);
        if (!s->sha || !s->in)
                return -ENOMEM;
        for (size_t i = 0; i < N_SLOTS; i++)
                if (!(s->slots[i] = malloc(OUT_BUF_SIZE)))
                        return -ENOMEM;
        r = fill_input(s);
        if (r < 0)
                return r;

        if (s->in_len >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b) {
                s->compression = COMPRESSION_GZIP;
                s->inflate = malloc(sizeof(struct inflate_state));
                if (!s->inflate)
                        return -ENOMEM;
                isal_inflate_init(s->inflate);
                s->inflate->crc_flag = ISAL_GZIP;
        } else if (s->in_len >= 4 && s->in[0] == 0x28 && s->in[1] == 0xb5 && s->in[2] == 0x2f &&
                   s->in[3] == 0xfd) {
                s->compression = COMPRESSION_ZSTD;
                s->zstd = ZSTD_createDCtx();
                if (!s->zstd)
                        return -ENOMEM;
                if (ZSTD_isError(ZSTD_DCtx_setParameter(s->zstd, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX)))
                        return -EINVAL;
        } else
                s->compression = COMPRESSION_NONE;

        *ret = TAKE_PTR(s);
        return 0;
}

static ssize_t read_gzip(LayerStream *s) {
        for (;;) {
                int r = fill_input(s);
                if (r < 0)
                        return r;
                if (s->member_done) {
                        /* Concatenated gzip members (pigz, appended layers) are one stream; anything else
                         * after a member is junk and refused, as Go's gzip reader does. */
                        if (s->in_pos == s->in_len && s->in_eof)
                                return 0;
                        if (s->in_pos == s->in_len)
                                continue;
                        isal_inflate_init(s->inflate);
                        s->inflate->crc_flag = ISAL_GZIP;
                        s->member_done = false;
                }
                s->inflate->next_in = s->in + s->in_pos;
                s->inflate->avail_in = (uint32_t) (s->in_len - s->in_pos);
                s->inflate->next_out = s->out;
                s->inflate->avail_out = OUT_BUF_SIZE;
                int k = isal_inflate(s->inflate);
                s->in_pos = s->in_len - s->inflate->avail_in;
                if (k < 0) {
                        s->why = k == ISAL_INCORRECT_CHECKSUM ? "gzip checksum mismatch"
                                 : k == ISAL_INVALID_WRAPPER
                                         ? "invalid gzip header or data after the gzip stream"
                                         : "invalid gzip data";
                        return -EBADMSG;
                }
                size_t n = OUT_BUF_SIZE - s->inflate->avail_out;
                if (s->inflate->block_state == ISAL_BLOCK_FINISH)
                        s->member_done = true;
                if (n > 0)
                        return (ssize_t) n;
                if (s->member_done)
                        continue;
                if (s->in_eof && s->in_pos == s->in_len) {
                        s->why = "truncated gzip stream";
                        return -EBADMSG;
                }
        }
}

static ssize_t read_zstd(LayerStream *s) {
        for (;;) {
                int r = fill_input(s);
                if (r < 0)
                        return r;
                if (s->in_pos == s->in_len && s->in_eof) {
                        if (s->zstd_last != 0) {
                                s->why = "truncated zstd stream";
                                return -EBADMSG;
                        }
                        return 0;
                }
                ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
                ZSTD_outBuffer out = {s->out, OUT_BUF_SIZE, 0};
                size_t k = ZSTD_decompressStream(s->zstd, &out, &in);
                s->in_pos = in.pos;
                if (ZSTD_isError(k)) {
                        s->why = ZSTD_getErrorCode(k) == ZSTD_error_frameParameter_windowTooLarge
                                         ? "zstd window too large"
                                         : "invalid zstd data";
                        return -EBADMSG;
                }
                s->zstd_last = k;
                if (out.pos > 0)
                        return (ssize_t) out.pos;
        }
}

/* Fill s->out with the next chunk, hash and count it. Runs in the producer thread. */
static ssize_t produce(LayerStream *s) {
        ssize_t n;
        int r;

        switch (s->compression) {
        case COMPRESSION_GZIP:
                n = read_gzip(s);
                break;
        case COMPRESSION_ZSTD:
                n = read_zstd(s);
                break;
        default:
                r = fill_input(s);
                if (r < 0)
                        return r;
                n = (ssize_t) (s->in_len - s->in_pos);
                if (n > 0) {
                        memcpy(s->out, s->in + s->in_pos, (size_t) n);
                        s->in_pos = s->in_len;
                }
        }
        if (n <= 0)
                return n;
        s->total += (uint64_t) n;
        if (s->max_bytes > 0 && s->total > s->max_bytes) {
                s->why = "uncompressed size exceeds the limit";
                return -EFBIG;
        }
        r = sha256_update(s->sha, s->out, (size_t) n);
        return r < 0 ? r : n;
}

static void *producer(void *userdata) {
        LayerStream *s = userdata;
        for (;;) {
                pthread_mutex_lock(&s->lock);
                while (!s->cancel && s->filled + s->held >= N_SLOTS)
                        pthread_cond_wait(&s->cond_space, &s->lock);
                if (s->cancel) {
                        pthread_mutex_unlock(&s->lock);
                        return NULL;
                }
                unsigned idx = (s->head + s->held + s->filled) % N_SLOTS;
                pthread_mutex_unlock(&s->lock);

                s->out = s->slots[idx];
                ssize_t n = produce(s);

                pthread_mutex_lock(&s->lock);
                if (n > 0) {
                        s->lens[idx] = (size_t) n;
                        s->filled++;
                } else if (n == 0)
                        s->eof = true;
                else
                        s->error = (int) n;
                pthread_cond_signal(&s->cond_data);
                pthread_mutex_unlock(&s->lock);
                if (n <= 0)
                        return NULL;
        }
}

ssize_t layer_stream_read(LayerStream *s, const void **ret_buf) {
        ssize_t n;

        if (!s->thread_started) {
                if (pthread_create(&s->thread, NULL, producer, s) != 0)
                        return -EAGAIN;
                s->thread_started = true;
        }
        pthread_mutex_lock(&s->lock);
        /* The previous chunk was consumed (libarchive keeps a buffer only until its next read). */
        if (s->held) {
                s->held = false;
                s->head = (s->head + 1) % N_SLOTS;
                pthread_cond_signal(&s->cond_space);
        }
        while (s->filled == 0 && !s->eof && s->error == 0)
                pthread_cond_wait(&s->cond_data, &s->lock);
        if (s->filled > 0) {
                s->held = true;
                s->filled--;
                *ret_buf = s->slots[s->head];
                n = (ssize_t) s->lens[s->head];
        } else
                n = s->error;
        pthread_mutex_unlock(&s->lock);
        return n;
}

int layer_stream_finish(LayerStream *s, char ret_digest[DIGEST_MAX]) {
        for (;;) {
                const void *buf;
                ssize_t n = layer_stream_read(s, &buf);
                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break;
        }
        /* At the end the producer has returned: the hash is ours now. */
        pthread_join(s->thread, NULL);
        s->thread_started = false;
        return sha256_final(s->sha, ret_digest);
}

const char *layer_stream_why(LayerStream *s) {
        const char *why;
        pthread_mutex_lock(&s->lock);
        why = s->why;
        pthread_mutex_unlock(&s->lock);
        return why;
}

Compression layer_stream_compression(LayerStream *s) {
        return s->compression;
}

uint64_t layer_stream_total(LayerStream *s) {
        uint64_t t;
        pthread_mutex_lock(&s->lock);
        t = s->total;
        pthread_mutex_unlock(&s->lock);
        return t;
}

uint64_t layer_stream_max(LayerStream *s) {
        return s->max_bytes;
}
