/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"
#include "macro.h"

#define INI_ENTRIES_MAX 4096U

Ini *ini_free(Ini *ini) {
        if (!ini)
                return NULL;
        for (size_t i = 0; i < ini->n_entries; i++) {
                free(ini->entries[i].section);
                free(ini->entries[i].key);
                free(ini->entries[i].value);
        }
        free(ini->entries);
        return mfree(ini);
}

static char *strip(char *s) {
        while (*s && strchr(" \t", *s))
                s++;
        size_t n = strlen(s);
        while (n > 0 && strchr(" \t\r", s[n - 1]))
                s[--n] = 0;
        return s;
}

static int ini_add(Ini *ini, const char *section, const char *key, const char *value, unsigned line) {
        if (ini->n_entries >= INI_ENTRIES_MAX)
                return -E2BIG;
        IniEntry *e = reallocarray(ini->entries, ini->n_entries + 1, sizeof(IniEntry));
        if (!e)
                return -ENOMEM;
        ini->entries = e;
        e = &ini->entries[ini->n_entries];
        *e = (IniEntry){
                .section = strdup(section), .key = strdup(key), .value = strdup(value), .line = line};
        ini->n_entries++;
        if (!e->section || !e->key || !e->value)
                return -ENOMEM;
        return 0;
}

static bool key_is_valid(const char *k) {
        if (!isalpha((unsigned char) *k))
                return false;
        for (; *k; k++)
                if (!isalnum((unsigned char) *k) && *k != '-' && *k != '_')
                        return false;
        return true;
}

/* One logical line (continuations joined): a section header or an assignment. */
static int parse_logical(Ini *ini, char **section, char *l, unsigned line, const char **ret_error) {
        l = strip(l);
        if (*l == '[') {
                size_t m = strlen(l);
                if (m < 3 || l[m - 1] != ']') {
                        *ret_error = "Invalid section header";
                        return -EBADMSG;
                }
                l[m - 1] = 0;
                for (char *c = l + 1; *c; c++)
                        if (!isprint((unsigned char) *c) || strchr("[]", *c)) {
                                *ret_error = "Invalid section header";
                                return -EBADMSG;
                        }
                char *s = strdup(l + 1);
                if (!s)
                        return -ENOMEM;
                free(*section);
                *section = s;
                return 0;
        }

        char *eq = strchr(l, '=');
        if (!eq) {
                *ret_error = "Expected 'Key=Value'";
                return -EBADMSG;
        }
        if (!*section) {
                *ret_error = "Assignment outside of a section";
                return -EBADMSG;
        }
        *eq = 0;
        char *k = strip(l), *v = strip(eq + 1);
        if (!key_is_valid(k)) {
                *ret_error = "Invalid key name";
                return -EBADMSG;
        }
        int r = ini_add(ini, *section, k, v, line);
        if (r == -E2BIG) {
                *ret_error = "Too many lines";
                return -EBADMSG;
        }
        return r;
}

int ini_parse(const char *text, Ini **ret, unsigned *ret_line, const char **ret_error) {
        _cleanup_(ini_freep) Ini *ini = calloc(1, sizeof(Ini));
        _cleanup_free_ char *copy = strdup(text);
        _cleanup_free_ char *section = NULL, *logical = NULL;
        unsigned line = 0, logical_line = 0;
        int r;

        if (!ini || !copy)
                return -ENOMEM;

        /* A byte order mark at the start is skipped, as systemd's own parser does. */
        char *start = copy + (startswith(copy, "\xef\xbb\xbf") ? 3 : 0);
        for (char *p = start, *nl; p; p = nl) {
                nl = strchr(p, '\n');
                if (nl)
                        *nl++ = 0;
                line++;

                char *l = strip(p);
                bool continued = false;

                if (logical) {
                        /* Comments inside a continued value are skipped, as systemd does. */
                        if (*l == '#' || *l == ';')
                                continue;
                } else if (*l == 0 || *l == '#' || *l == ';')
                        continue;

                size_t n = strlen(l);
                if (n > 0 && l[n - 1] == '\\') {
                        l[n - 1] = 0;
                        continued = true;
                }

                if (logical) {
                        char *j = NULL;
                        if (asprintf(&j, "%s %s", logical, l) < 0)
                                return -ENOMEM;
                        free(logical);
                        logical = j;
                } else {
                        logical = strdup(l);
                        if (!logical)
                                return -ENOMEM;
                        logical_line = line;
                }
                if (continued && nl)
                        continue;

                const char *error = NULL;
                r = parse_logical(ini, &section, logical, logical_line, &error);
                if (r == -EBADMSG) {
                        if (ret_line)
                                *ret_line = logical_line;
                        if (ret_error)
                                *ret_error = error;
                }
                if (r < 0)
                        return r;
                logical = mfree(logical);
        }

        *ret = TAKE_PTR(ini);
        return 0;
}
