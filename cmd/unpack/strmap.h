/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A small string -> size_t hash map (open addressing), for the paths one layer touches. */
typedef struct StrMap StrMap;

StrMap *strmap_new(void);
StrMap *strmap_free(StrMap *m);
static inline void strmap_freep(StrMap **m) {
        if (*m)
                strmap_free(*m);
}
/* 0 if added, -EEXIST if present (value unchanged), -ENOMEM. */
int strmap_put(StrMap *m, const char *key, size_t value);
bool strmap_get(StrMap *m, const char *key, size_t *ret_value);
