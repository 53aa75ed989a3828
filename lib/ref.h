/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* An image reference normalised as docker does: "busybox" is docker.io/library/busybox:latest. */
typedef struct Reference {
        char *domain; /* "docker.io", "127.0.0.1:5000", "localhost" */
        char *path;   /* "library/busybox" */
        char *tag;    /* NULL when only a digest was given */
        char *digest; /* NULL unless "@sha256:..." */
} Reference;

/* Returns -EINVAL for a malformed reference; *ret_why (static string) says what is wrong. */
int ref_parse(const char *s, Reference **ret, const char **ret_why);
Reference *ref_free(Reference *r);
static inline void ref_freep(Reference **r) {
        if (*r)
                ref_free(*r);
}
/* "domain/path:tag", "domain/path@digest" or "domain/path:tag@digest". */
char *ref_to_string(const Reference *r);
/* "domain/path" */
char *ref_repository(const Reference *r);
/* The name berth stores in index.json: "domain/path:tag" or, for a pure digest reference,
 * "domain/path@digest". */
char *ref_store_name(const Reference *r);
