/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-256 through libcrypto; in a file of its own so that programs which only validate digests (digest.c) do
 * not load libcrypto (berth-run: ~1 ms of start-up, ~0.5 MiB of the monitor's resident memory). */
#include <openssl/evp.h>

#include "digest.h"
#include "macro.h"

struct Sha256 {
        EVP_MD_CTX *ctx;
};

Sha256 *sha256_new(void) {
        Sha256 *s = calloc(1, sizeof(Sha256));
        if (!s)
                return NULL;
        s->ctx = EVP_MD_CTX_new();
        if (!s->ctx || EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) != 1)
                return sha256_free(s);
        return s;
}

Sha256 *sha256_free(Sha256 *s) {
        if (s) {
                EVP_MD_CTX_free(s->ctx);
                free(s);
        }
        return NULL;
}

int sha256_update(Sha256 *s, const void *data, size_t len) {
        return EVP_DigestUpdate(s->ctx, data, len) == 1 ? 0 : -EIO;
}

int sha256_final(Sha256 *s, char ret[DIGEST_MAX]) {
        unsigned char md[32];
        unsigned len = 0;
        static const char hex[] = "0123456789abcdef";

        if (EVP_DigestFinal_ex(s->ctx, md, &len) != 1 || len != 32)
                return -EIO;
        char *p = stpcpy(ret, "sha256:");
        for (unsigned i = 0; i < len; i++) {
                *p++ = hex[md[i] >> 4];
                *p++ = hex[md[i] & 15];
        }
        *p = 0;
        return 0;
}

int sha256_digest(const void *data, size_t len, char ret[DIGEST_MAX]) {
        _cleanup_(sha256_freep) Sha256 *s = sha256_new();
        if (!s)
                return -ENOMEM;
        int r = sha256_update(s, data, len);
        if (r < 0)
                return r;
        return sha256_final(s, ret);
}
