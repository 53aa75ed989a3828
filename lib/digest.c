/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "digest.h"
#include "macro.h"

bool digest_is_valid(const char *d) {
        const char *h = d ? startswith(d, "sha256:") : NULL;
        if (!h || strlen(h) != SHA256_HEX_LEN)
                return false;
        for (; *h; h++)
                if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
                        return false;
        return true;
}

const char *digest_hex(const char *d) {
        return d + strlen("sha256:");
}
