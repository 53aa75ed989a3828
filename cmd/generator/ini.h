/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* A unit-file-style INI file: [Section] headers, Key=Value lines, '#'/';' comments, a trailing backslash
 * continues a line (joined with a space, as systemd does). Entries keep their order and line numbers so that
 * every complaint can name the line. */
typedef struct IniEntry {
        char *section;
        char *key;
        char *value;
        unsigned line;
} IniEntry;

typedef struct Ini {
        IniEntry *entries;
        size_t n_entries;
} Ini;

/* Parses text. On a syntax error returns -EBADMSG, and *ret_line and *ret_error (static string) say where
 * and what. */
int ini_parse(const char *text, Ini **ret, unsigned *ret_line, const char **ret_error);
Ini *ini_free(Ini *ini);
static inline void ini_freep(Ini **p) {
        ini_free(*p);
}
