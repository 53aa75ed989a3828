/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-256 through libcrypto, loaded with dlopen() the first time a hash is made: only pull and unpack hash,
 * and unpack's mount and umount (two runs per container start) then start without mapping and relocating
 * libcrypto
 * (~1.5 ms each). In a file of its own, apart from digest validation (digest.c). */
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <pthread.h>

#include "digest.h"
#include "log.h"
#include "macro.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define LIBCRYPTO "libcrypto.so." STR(OPENSSL_VERSION_MAJOR)

static struct {
        EVP_MD_CTX *(*ctx_new)(void);
        void (*ctx_free)(EVP_MD_CTX *ctx);
        const EVP_MD *(*sha256)(void);
        int (*init)(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl);
        int (*update)(EVP_MD_CTX *ctx, const void *d, size_t cnt);
        int (*final)(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s);
        bool ok;
} crypto;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

static void crypto_load(void) {
        void *h = dlopen(LIBCRYPTO, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                log_error("Cannot load %s for SHA-256: %s", LIBCRYPTO, dlerror());
                return;
        }
        crypto.ctx_new = (EVP_MD_CTX * (*) (void) ) dlsym(h, "EVP_MD_CTX_new");
        crypto.ctx_free = (void (*)(EVP_MD_CTX *)) dlsym(h, "EVP_MD_CTX_free");
        crypto.sha256 = (const EVP_MD *(*) (void) ) dlsym(h, "EVP_sha256");
        crypto.init = (int (*)(EVP_MD_CTX *, const EVP_MD *, ENGINE *)) dlsym(h, "EVP_DigestInit_ex");
        crypto.update = (int (*)(EVP_MD_CTX *, const void *, size_t)) dlsym(h, "EVP_DigestUpdate");
        crypto.final =
                (int (*)(EVP_MD_CTX *, unsigned char *, unsigned int *)) dlsym(h, "EVP_DigestFinal_ex");
        crypto.ok = crypto.ctx_new && crypto.ctx_free && crypto.sha256 && crypto.init && crypto.update &&
                    crypto.final;
        if (!crypto.ok)
                log_error("%s lacks the EVP digest functions", LIBCRYPTO);
}

struct Sha256 {
        EVP_MD_CTX *ctx;
};

Sha256 *sha256_new(void) {
        (void) pthread_once(&crypto_once, crypto_load);
        if (!crypto.ok)
                return NULL;
        Sha256 *s = calloc(1, sizeof(Sha256));
        if (!s)
                return NULL;
        s->ctx = crypto.ctx_new();
        if (!s->ctx || crypto.init(s->ctx, crypto.sha256(), NULL) != 1)
                return sha256_free(s);
        return s;
}

Sha256 *sha256_free(Sha256 *s) {
        if (s) {
                if (s->ctx)
                        crypto.ctx_free(s->ctx);
                free(s);
        }
        return NULL;
}

int sha256_update(Sha256 *s, const void *data, size_t len) {
        return crypto.update(s->ctx, data, len) == 1 ? 0 : -EIO;
}

int sha256_final(Sha256 *s, char ret[DIGEST_MAX]) {
        unsigned char md[32];
        unsigned len = 0;
        static const char hex[] = "0123456789abcdef";

        if (crypto.final(s->ctx, md, &len) != 1 || len != 32)
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
