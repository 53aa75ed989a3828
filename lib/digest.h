/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SHA256_HEX_LEN 64
#define DIGEST_MAX (sizeof("sha256:") + SHA256_HEX_LEN)

typedef struct Sha256 Sha256;

Sha256 *sha256_new(void);
Sha256 *sha256_free(Sha256 *s);
int sha256_update(Sha256 *s, const void *data, size_t len);
/* Writes "sha256:<hex>" into ret (DIGEST_MAX bytes). */
int sha256_final(Sha256 *s, char ret[DIGEST_MAX]);
int sha256_digest(const void *data, size_t len, char ret[DIGEST_MAX]);
static inline void sha256_freep(Sha256 **s) {
        if (*s)
                sha256_free(*s);
}

/* "sha256:" followed by exactly 64 lowercase hex digits. Anything else is refused before it reaches a URL or
 * a file name (CVE-2024-3727). */
bool digest_is_valid(const char *d);
/* The hex part of a valid digest. */
const char *digest_hex(const char *d);
