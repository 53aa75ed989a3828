/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "strmap.h"

typedef struct Slot {
        char *key;
        size_t value;
} Slot;

struct StrMap {
        Slot *slots;
        size_t n_slots, n_used;
};

static uint64_t hash(const char *s) {
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return h;
}

StrMap *strmap_new(void) {
        StrMap *m = calloc(1, sizeof(StrMap));
        if (!m)
                return NULL;
        m->n_slots = 64;
        m->slots = calloc(m->n_slots, sizeof(Slot));
        if (!m->slots)
                return mfree(m);
        return m;
}

StrMap *strmap_free(StrMap *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_slots; i++)
                free(m->slots[i].key);
        free(m->slots);
        return mfree(m);
}

static Slot *find(Slot *slots, size_t n_slots, const char *key) {
        size_t i = hash(key) & (n_slots - 1);
        while (slots[i].key && !streq(slots[i].key, key))
                i = (i + 1) & (n_slots - 1);
        return &slots[i];
}

static int grow(StrMap *m) {
        size_t n = m->n_slots * 2;
        Slot *s = calloc(n, sizeof(Slot));
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_slots; i++)
                if (m->slots[i].key)
                        *find(s, n, m->slots[i].key) = m->slots[i];
        free(m->slots);
        m->slots = s;
        m->n_slots = n;
        return 0;
}

int strmap_put(StrMap *m, const char *key, size_t value) {
        if ((m->n_used + 1) * 2 > m->n_slots) {
                int r = grow(m);
                if (r < 0)
                        return r;
        }
        Slot *s = find(m->slots, m->n_slots, key);
        if (s->key)
                return -EEXIST;
        s->key = strdup(key);
        if (!s->key)
                return -ENOMEM;
        s->value = value;
        m->n_used++;
        return 0;
}

bool strmap_get(StrMap *m, const char *key, size_t *ret_value) {
        Slot *s = find(m->slots, m->n_slots, key);
        if (!s->key)
                return false;
        if (ret_value)
                *ret_value = s->value;
        return true;
}
