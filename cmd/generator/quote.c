/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "macro.h"
#include "quote.h"

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Resolves the escape at *p (just after the backslash); advances *p. Returns the byte or -1. */
static int unescape_one(const char **p) {
        char c = **p;
        static const char from[] = "abfnrtvs\\\"' ", to[] = "\a\b\f\n\r\t\v \\\"' ";
        const char *f = c ? strchr(from, c) : NULL;
        if (f) {
                (*p)++;
                return to[f - from];
        }
        if (c == 'x') {
                int a = unhex((*p)[1]), b = a >= 0 ? unhex((*p)[2]) : -1;
                if (a < 0 || b < 0 || (a == 0 && b == 0))
                        return -1;
                *p += 3;
                return a * 16 + b;
        }
        return -1;
}

int split_words(const char *s, char ***ret, const char **ret_error) {
        _cleanup_strv_free_ char **words = NULL;
        size_t n = strlen(s);
        _cleanup_free_ char *buf = malloc(n + 1);
        int r;

        if (!buf)
                return -ENOMEM;
        const char *p = s;
        for (;;) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                size_t len = 0;
                char quote = 0;
                while (*p && (quote || (*p != ' ' && *p != '\t'))) {
                        if (*p == '\\') {
                                p++;
                                int c = unescape_one(&p);
                                if (c < 0) {
                                        *ret_error = "Invalid escape sequence";
                                        return -EBADMSG;
                                }
                                buf[len++] = (char) c;
                        } else if (quote && *p == quote) {
                                quote = 0;
                                p++;
                        } else if (!quote && (*p == '"' || *p == '\'')) {
                                quote = *p++;
                        } else
                                buf[len++] = *p++;
                }
                if (quote) {
                        *ret_error = "Unbalanced quotes";
                        return -EBADMSG;
                }
                buf[len] = 0;
                r = strv_extend(&words, buf);
                if (r < 0)
                        return r;
        }
        if (!words) {
                words = calloc(1, sizeof(char *));
                if (!words)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(words);
        return 0;
}

static char *escape(const char *w, bool dollar) {
        bool quote = isempty(w) || streq(w, ";");
        size_t n = 0;

        for (const char *c = w; *c; c++) {
                if ((unsigned char) *c < 0x20 || *c == 0x7f || strchr(" \"'\\", *c))
                        quote = true;
                n++;
        }
        /* Worst case every byte becomes \xNN; two quotes and the NUL. */
        char *out = malloc(n * 4 + 3), *o = out;
        if (!out)
                return NULL;
        if (quote)
                *o++ = '"';
        for (const char *c = w; *c; c++) {
                unsigned char u = (unsigned char) *c;
                if (*c == '%' || (dollar && *c == '$')) {
                        *o++ = *c;
                        *o++ = *c;
                } else if (*c == '\\' || *c == '"') {
                        *o++ = '\\';
                        *o++ = *c;
                } else if (*c == '\n') {
                        *o++ = '\\';
                        *o++ = 'n';
                } else if (*c == '\t') {
                        *o++ = '\\';
                        *o++ = 't';
                } else if (u < 0x20 || u == 0x7f)
                        o += sprintf(o, "\\x%02x", u);
                else
                        *o++ = *c;
        }
        if (quote)
                *o++ = '"';
        *o = 0;
        return out;
}

char *exec_word_escape(const char *w) {
        return escape(w, true);
}

char *setting_word_escape(const char *w) {
        return escape(w, false);
}

char *text_escape(const char *w) {
        char *out = malloc(strlen(w) * 2 + 1), *o = out;
        if (!out)
                return NULL;
        for (const char *c = w; *c; c++) {
                if (*c == '%')
                        *o++ = '%';
                *o++ = ((unsigned char) *c < 0x20 || *c == 0x7f) ? ' ' : *c;
        }
        *o = 0;
        return out;
}

bool utf8_is_valid(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        while (*p) {
                unsigned n;
                uint32_t cp;
                if (*p < 0x80) {
                        p++;
                        continue;
                } else if ((*p & 0xe0) == 0xc0) {
                        n = 1;
                        cp = *p & 0x1f;
                } else if ((*p & 0xf0) == 0xe0) {
                        n = 2;
                        cp = *p & 0x0f;
                } else if ((*p & 0xf8) == 0xf0) {
                        n = 3;
                        cp = *p & 0x07;
                } else
                        return false;
                p++;
                for (unsigned i = 0; i < n; i++, p++) {
                        if ((*p & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (*p & 0x3f);
                }
                /* Overlong forms, surrogates and values past Unicode are not UTF-8. */
                if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                        return false;
        }
        return true;
}

bool unit_name_is_valid(const char *s) {
        if (isempty(s) || strlen(s) > 255)
                return false;
        const char *dot = strrchr(s, '.');
        if (!dot || dot == s || !dot[1])
                return false;
        for (const char *c = s; *c; c++) {
                bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                          strchr(":_.@-\\", *c);
                if (!ok)
                        return false;
        }
        return true;
}
