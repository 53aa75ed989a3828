/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-unpack's layer stream: in-process gzip (ISA-L) and zstd, the DiffID over every byte, caps and junk
 * (cmd/unpack/stream.c has no main() and needs only lib/, ISA-L and libzstd, so it is compiled in directly).
 */
#include <sys/mman.h>
#include <zlib.h>

#include "fileio.h"

#include "../../cmd/unpack/stream.c"
#include "tap.h"

#define DATA_SIZE (3U * 1024U * 1024U + 17U)

static int memfd_with(const void *a, size_t na, const void *b, size_t nb) {
        int fd = memfd_create("layer", MFD_CLOEXEC);
        if (fd < 0 || write_all(fd, a, na) < 0 || (b && write_all(fd, b, nb) < 0) ||
            lseek(fd, 0, SEEK_SET) < 0)
                abort();
        return fd;
}

static size_t gzip_buf(const void *in, size_t n, uint8_t *out, size_t size) {
        z_stream z = {};
        if (deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                abort();
        z.next_in = (Bytef *) in;
        z.avail_in = (uInt) n;
        z.next_out = out;
        z.avail_out = (uInt) size;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END)
                abort();
        size_t r = z.total_out;
        deflateEnd(&z);
        return r;
}

/* Read the whole stream; returns 0 and the digest, or the error. */
static int drain(int fd, uint64_t max, char digest[DIGEST_MAX], uint64_t *total, const char **why) {
        _cleanup_(layer_stream_freep) LayerStream *s = NULL;
        int r = layer_stream_open(fd, max, &s);
        if (r < 0)
                return r;
        r = layer_stream_finish(s, digest);
        *why = layer_stream_why(s);
        *total = layer_stream_total(s);
        return r;
}

int main(void) {
        uint8_t *data = malloc(DATA_SIZE), *gz = malloc(DATA_SIZE * 2), *zs = malloc(DATA_SIZE * 2);
        char want[DIGEST_MAX], want2[DIGEST_MAX], got[DIGEST_MAX];
        const char *why;
        uint64_t total;
        int r;

        if (!data || !gz || !zs)
                abort();
        for (size_t i = 0; i < DATA_SIZE; i++)
                data[i] = (uint8_t) ((i * 7919) ^ (i >> 9));
        (void) sha256_digest(data, DATA_SIZE, want);

        r = drain(memfd_with(data, DATA_SIZE, NULL, 0), 0, got, &total, &why);
        CHECK(r == 0 && streq(got, want) && total == DATA_SIZE, "plain: digest and size");

        size_t ng = gzip_buf(data, DATA_SIZE, gz, DATA_SIZE * 2);
        r = drain(memfd_with(gz, ng, NULL, 0), 0, got, &total, &why);
        CHECK(r == 0 && streq(got, want), "gzip: digest of the uncompressed stream");

        /* Two members: the whole stream is the concatenation. */
        size_t half = DATA_SIZE / 2, n1 = gzip_buf(data, half, gz, DATA_SIZE);
        size_t n2 = gzip_buf(data + half, DATA_SIZE - half, gz + n1, DATA_SIZE);
        r = drain(memfd_with(gz, n1 + n2, NULL, 0), 0, got, &total, &why);
        CHECK(r == 0 && streq(got, want) && total == DATA_SIZE, "gzip: two members");

        r = drain(memfd_with(gz, ng, "junk after the stream", 21), 0, got, &total, &why);
        CHECK(r == -EBADMSG, "gzip + junk refused (%d, %s)", r, strna(why));
        r = drain(memfd_with(gz, ng / 2, NULL, 0), 0, got, &total, &why);
        CHECK(r == -EBADMSG && streq_ptr(why, "truncated gzip stream"), "gzip truncated (%s)", strna(why));
        gz[ng - 6] ^= 0xff; /* the CRC */
        r = drain(memfd_with(gz, ng, NULL, 0), 0, got, &total, &why);
        CHECK(r == -EBADMSG, "gzip with a bad CRC refused (%s)", strna(why));

        size_t nz = ZSTD_compress(zs, DATA_SIZE * 2, data, DATA_SIZE, 3);
        CHECK(!ZSTD_isError(nz), "zstd compress");
        r = drain(memfd_with(zs, nz, NULL, 0), 0, got, &total, &why);
        CHECK(r == 0 && streq(got, want), "zstd: digest of the uncompressed stream");
        r = drain(memfd_with(zs, nz, zs, nz), 0, got, &total, &why);
        uint8_t *twice = malloc(DATA_SIZE * 2);
        memcpy(twice, data, DATA_SIZE);
        memcpy(twice + DATA_SIZE, data, DATA_SIZE);
        (void) sha256_digest(twice, DATA_SIZE * 2, want2);
        free(twice);
        CHECK(r == 0 && streq(got, want2), "zstd: two frames");
        r = drain(memfd_with(zs, nz - 10, NULL, 0), 0, got, &total, &why);
        CHECK(r == -EBADMSG, "zstd truncated (%s)", strna(why));
        static const uint8_t huge[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, (31 - 10) << 3, 0x09, 0x00, 0x00, 'x'};
        r = drain(memfd_with(huge, sizeof huge, NULL, 0), 0, got, &total, &why);
        CHECK(r == -EBADMSG && streq_ptr(why, "zstd window too large"), "zstd window 2^31 refused (%s)",
              strna(why));

        /* The cap stops a bomb. */
        r = drain(memfd_with(gz, n1 + n2, NULL, 0), DATA_SIZE / 4, got, &total, &why);
        CHECK(r == -EFBIG && streq_ptr(why, "uncompressed size exceeds the limit"), "capped (%s)",
              strna(why));

        /* Freed in the middle: the producer thread stops. */
        {
                _cleanup_(layer_stream_freep) LayerStream *s = NULL;
                const void *buf;
                CHECK(layer_stream_open(memfd_with(data, DATA_SIZE, NULL, 0), 0, &s) == 0, "open");
                CHECK(layer_stream_read(s, &buf) > 0, "one chunk, then free");
        }
        CHECK(layer_media_type_check("application/vnd.oci.image.layer.v1.tar+gzip") == 0, "OCI gzip layer");
        CHECK(layer_media_type_check("application/vnd.docker.image.rootfs.diff.tar.gzip") == 0,
              "Docker layer");
        CHECK(layer_media_type_check("application/vnd.oci.image.layer.v1.tar+xz") < 0, "xz refused");
        CHECK(layer_media_type_check("application/vnd.oci.image.config.v1+json") < 0,
              "a config is no layer");
        free(data);
        free(gz);
        free(zs);
        TAP_END();
}
