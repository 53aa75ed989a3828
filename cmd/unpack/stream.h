/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"

/* A layer blob decompressed in-process (ISA-L for gzip, libzstd for zstd, or plain), hashed as it is read so
 * that the DiffID covers every byte of the uncompressed stream, and capped in size. No external program is
 * ever run. */
typedef enum Compression {
        COMPRESSION_NONE,
        COMPRESSION_GZIP,
        COMPRESSION_ZSTD,
        _COMPRESSION_MAX,
        _COMPRESSION_INVALID = -EINVAL,
} Compression;

typedef struct LayerStream LayerStream;

/* -EPROTONOSUPPORT for a media type that is not a tar layer (plain, gzip or zstd). */
int layer_media_type_check(const char *media_type);

/* Takes ownership of fd. The compression is detected from the blob's magic bytes. max_bytes caps the
 * uncompressed size (-EFBIG beyond it). */
int layer_stream_open(int fd, uint64_t max_bytes, LayerStream **ret);
LayerStream *layer_stream_free(LayerStream *s);
static inline void layer_stream_freep(LayerStream **s) {
        if (*s)
                layer_stream_free(*s);
}

/* Next chunk of uncompressed bytes: > 0 its length, 0 at the end, -errno on failure (-EBADMSG: corrupt data,
 * with a reason from layer_stream_why()). */
ssize_t layer_stream_read(LayerStream *s, const void **ret_buf);
/* Read (and hash) the rest of the stream, then return the digest of everything. */
int layer_stream_finish(LayerStream *s, char ret_digest[DIGEST_MAX]);
const char *layer_stream_why(LayerStream *s);
Compression layer_stream_compression(LayerStream *s);
uint64_t layer_stream_total(LayerStream *s);
/* The cap on the uncompressed size given to layer_stream_open() (0: none). */
uint64_t layer_stream_max(LayerStream *s);
const char *compression_to_string(Compression c);
