/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A record scanner for the listing: it validates the whole text as jansson would and builds only the members
 * the listing reads, which is several times cheaper than jansson's tree of everything (docs/ps.md, "Listing
 * fast"). It never reports an error itself: whatever it cannot vouch for goes to jansson, so broken records
 * read exactly as before. No main() and no program globals: tests/unit/test-ps-scan.c includes it. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "record-scan.h"

static const RecordKeep config_keep[] = {{"Cmd"}, {"Entrypoint"}, {"Labels"}, {}};
static const RecordKeep health_keep[] = {{"Status"}, {}};
static const RecordKeep state_keep[] = {
        {"Status"}, {"ExitCode"},      {"StartedAt"},           {"FinishedAt"},
        {"Pid"},    {"InitStartTime"}, {"MonitorPid"},          {"MonitorStartTime"},
        {"BootId"}, {"CgroupPath"},    {"Health", health_keep}, {},
};
static const RecordKeep host_keep[] = {{"PortBindings"}, {"AutoRemove"}, {}};
static const RecordKeep network_keep[] = {{"Ports"}, {"Networks"}, {}};
static const RecordKeep mount_keep[] = {{"Destination"}, {}};

const RecordKeep record_listing_keep[] = {
        {"Id"},
        {"Name"},
        {"Created"},
        {"Image"},
        {"ImageName"},
        {"Unit"},
        {"CgroupPath"},
        {"RestartCount"},
        {"Config", config_keep},
        {"State", state_keep},
        {"HostConfig", host_keep},
        {"NetworkSettings", network_keep},
        {"Mounts", mount_keep, true},
        {},
};

/* jansson's own limit is 2048; deeper records are left to it */
#define SCAN_DEPTH_MAX 64
/* members of one object checked for duplicates pairwise; larger objects are left to jansson */
#define SCAN_MEMBERS_MAX 256

typedef struct KeySpan {
        const char *p;
        size_t len;
} KeySpan;

typedef struct Scanner {
        const char *p, *end;
        size_t len; /* of the whole text */
        unsigned depth;
        char *scratch; /* decoded strings with escapes; as long as the text */
        KeySpan *keys; /* the member names of the open objects, innermost last */
        size_t n_keys, n_keys_alloc;
        bool keys_on_heap;
} Scanner;

static int scan_value(Scanner *s, json_t **ret);
static int scan_object(Scanner *s, const RecordKeep *only, json_t **ret);

/* Bytes that stand for themselves in a string: printable ASCII but the quote and the backslash. */
static bool plain(unsigned char c) {
        return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static void skip_ws(Scanner *s) {
        while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r'))
                s->p++;
}

static int peek(Scanner *s) {
        return s->p < s->end ? (unsigned char) *s->p : -1;
}

/* The length of the UTF-8 sequence at p as jansson accepts it (no overlong forms, no surrogates, nothing
 * above U+10FFFF), 0 if invalid. */
static size_t utf8_valid(const unsigned char *p, const unsigned char *end) {
        size_t n;
        uint32_t v;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2, v = p[0] & 0x1f;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                n = 3, v = p[0] & 0x0f;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                n = 4, v = p[0] & 0x07;
        else
                return 0;
        if ((size_t) (end - p) < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if (p[i] < 0x80 || p[i] > 0xbf)
                        return 0;
                v = (v << 6) | (p[i] & 0x3f);
        }
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
                return 0;
        return n;
}

static int hex4(const char *p, const char *end, uint32_t *ret) {
        uint32_t v = 0;
        if (end - p < 4)
                return -1;
        for (size_t i = 0; i < 4; i++) {
                char c = p[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (uint32_t) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (uint32_t) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (uint32_t) (c - 'A' + 10);
                else
                        return -1;
        }
        *ret = v;
        return 0;
}

/* A \u escape at p (after the backslash): its code point and length, or -1 where jansson fails (\u0000,
 * lone or reversed surrogates, bad hex). */
static int unicode_escape(const char *p, const char *end, uint32_t *ret_cp, size_t *ret_len) {
        uint32_t v, lo;
        if (hex4(p + 1, end, &v) < 0 || v == 0 || (v >= 0xdc00 && v <= 0xdfff))
                return -1;
        if (v >= 0xd800 && v <= 0xdbff) {
                if (end - p < 11 || p[5] != '\\' || p[6] != 'u' || hex4(p + 7, end, &lo) < 0 ||
                    lo < 0xdc00 || lo > 0xdfff)
                        return -1;
                *ret_cp = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
                *ret_len = 11;
                return 0;
        }
        *ret_cp = v;
        *ret_len = 5;
        return 0;
}

static size_t utf8_encode(uint32_t cp, char *out) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xc0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xe0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        return 4;
}

/* A string at s->p (the opening quote). Sets *ret_start and *ret_len to the raw text between the quotes and
 * *ret_escaped if it holds escapes. */
static int scan_raw_string(Scanner *s, const char **ret_start, size_t *ret_len, bool *ret_escaped) {
        const char *start = ++s->p;
        bool escaped = false;
        for (;;) {
                while (s->p < s->end && plain((unsigned char) *s->p))
                        s->p++;
                if (s->p >= s->end)
                        return RECORD_SCAN_UNSURE;
                unsigned char c = (unsigned char) *s->p;
                if (c == '"')
                        break;
                if (c == '\\') {
                        escaped = true;
                        if (s->end - s->p < 2)
                                return RECORD_SCAN_UNSURE;
                        char e = s->p[1];
                        if (e == 'u') {
                                uint32_t cp;
                                size_t n;
                                if (unicode_escape(s->p + 1, s->end, &cp, &n) < 0)
                                        return RECORD_SCAN_UNSURE;
                                s->p += 1 + n;
                        } else if (e != 0 && strchr("\"\\/bfnrt", e))
                                s->p += 2;
                        else
                                return RECORD_SCAN_UNSURE;
                } else if (c >= 0x80) {
                        size_t n = utf8_valid((const unsigned char *) s->p, (const unsigned char *) s->end);
                        if (n == 0)
                                return RECORD_SCAN_UNSURE;
                        s->p += n;
                } else /* a control character */
                        return RECORD_SCAN_UNSURE;
        }
        *ret_start = start;
        *ret_len = (size_t) (s->p - start);
        *ret_escaped = escaped;
        s->p++;
        return 0;
}

/* Decodes the raw text of a string already validated by scan_raw_string() into out. */
static size_t decode_string(const char *p, size_t len, char *out) {
        const char *end = p + len;
        size_t n = 0;
        while (p < end) {
                if (*p != '\\') {
                        out[n++] = *p++;
                        continue;
                }
                char e = p[1];
                if (e == 'u') {
                        uint32_t cp = 0;
                        size_t k = 5;
                        (void) unicode_escape(p + 1, end, &cp, &k);
                        n += utf8_encode(cp, out + n);
                        p += 1 + k;
                        continue;
                }
                static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
                out[n++] = to[strchr(from, e) - from];
                p += 2;
        }
        return n;
}

static int scan_string(Scanner *s, json_t **ret) {
        const char *start;
        size_t len;
        bool escaped;
        int r = scan_raw_string(s, &start, &len, &escaped);
        if (r < 0 || !ret)
                return r;
        if (escaped) {
                if (!s->scratch) {
                        /* a decoded string is never longer than its text, nor than the whole text */
                        s->scratch = malloc(s->len + 1);
                        if (!s->scratch)
                                return -ENOMEM;
                }
                len = decode_string(start, len, s->scratch);
                start = s->scratch;
        }
        *ret = json_stringn_nocheck(start, len);
        return *ret ? 0 : -ENOMEM;
}

static bool is_digit(int c) {
        return c >= '0' && c <= '9';
}

/* jansson's number grammar; integers as strtoll() takes them, reals as strtod() does. */
static int scan_number(Scanner *s, json_t **ret) {
        const char *start = s->p;
        bool real = false;

        if (peek(s) == '-')
                s->p++;
        if (peek(s) == '0') {
                s->p++;
                if (is_digit(peek(s)))
                        return RECORD_SCAN_UNSURE;
        } else if (is_digit(peek(s))) {
                while (is_digit(peek(s)))
                        s->p++;
        } else
                return RECORD_SCAN_UNSURE;
        if (peek(s) == '.') {
                real = true;
                s->p++;
                if (!is_digit(peek(s)))
                        return RECORD_SCAN_UNSURE;
                while (is_digit(peek(s)))
                        s->p++;
        }
        if (peek(s) == 'e' || peek(s) == 'E') {
                real = true;
                s->p++;
                if (peek(s) == '+' || peek(s) == '-')
                        s->p++;
                if (!is_digit(peek(s)))
                        return RECORD_SCAN_UNSURE;
                while (is_digit(peek(s)))
                        s->p++;
        }

        size_t len = (size_t) (s->p - start);
        if (!real) {
                /* 18 digits cannot overflow; longer ones go to jansson, which knows "too big integer" */
                size_t digits = len - (*start == '-');
                if (digits > 18)
                        return RECORD_SCAN_UNSURE;
                if (!ret)
                        return 0;
                json_int_t v = 0;
                for (const char *q = start + (*start == '-'); q < s->p; q++)
                        v = v * 10 + (*q - '0');
                *ret = json_integer(*start == '-' ? -v : v);
                return *ret ? 0 : -ENOMEM;
        }
        /* strtod() needs a terminated copy; overflow is jansson's "real number overflow" */
        char buf[64];
        if (len >= sizeof buf)
                return RECORD_SCAN_UNSURE;
        memcpy(buf, start, len);
        buf[len] = 0;
        errno = 0;
        double d = strtod(buf, NULL);
        if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
                return RECORD_SCAN_UNSURE;
        if (!ret)
                return 0;
        *ret = json_real(d);
        return *ret ? 0 : -ENOMEM;
}

static int scan_literal(Scanner *s, const char *word, json_t *v, json_t **ret) {
        size_t n = strlen(word);
        if ((size_t) (s->end - s->p) < n || memcmp(s->p, word, n) != 0)
                return RECORD_SCAN_UNSURE;
        s->p += n;
        if (ret)
                *ret = v;
        return 0;
}

/* An array at s->p; with elem_only, its object elements keep only those members. */
static int scan_array(Scanner *s, const RecordKeep *elem_only, json_t **ret) {
        json_t *a = NULL;
        int r;

        if (++s->depth > SCAN_DEPTH_MAX)
                return RECORD_SCAN_UNSURE;
        s->p++;
        if (ret && !(a = json_array()))
                return -ENOMEM;
        skip_ws(s);
        if (peek(s) == ']')
                s->p++;
        else
                for (;;) {
                        json_t *v = NULL;
                        if (elem_only && ret && peek(s) == '{')
                                r = scan_object(s, elem_only, &v);
                        else
                                r = scan_value(s, ret ? &v : NULL);
                        if (r < 0 || (ret && json_array_append_new(a, v) < 0)) {
                                json_decref(a);
                                return r < 0 ? r : -ENOMEM;
                        }
                        skip_ws(s);
                        int c = peek(s);
                        s->p++;
                        if (c == ']')
                                break;
                        if (c != ',') {
                                json_decref(a);
                                return RECORD_SCAN_UNSURE;
                        }
                        skip_ws(s);
                }
        s->depth--;
        if (ret)
                *ret = a;
        return 0;
}

static const RecordKeep *keep_find(const RecordKeep *only, const char *key, size_t len) {
        for (const RecordKeep *k = only; k->key; k++)
                if (k->key[0] == *key && strncmp(k->key, key, len) == 0 && k->key[len] == 0)
                        return k;
        return NULL;
}

/* A member's value under its keep entry (NULL: the whole value). */
static int scan_member(Scanner *s, const RecordKeep *k, json_t **ret) {
        if (k && k->only && k->each && peek(s) == '[')
                return scan_array(s, k->only, ret);
        if (k && k->only && !k->each && peek(s) == '{')
                return scan_object(s, k->only, ret);
        return scan_value(s, ret);
}

/* An object at s->p. With ret and only, the object keeps only those members; with ret and no only, all;
 * without ret, it is only validated. */
static int scan_object(Scanner *s, const RecordKeep *only, json_t **ret) {
        size_t base = s->n_keys;
        json_t *o = NULL;
        int r = 0;

        if (++s->depth > SCAN_DEPTH_MAX)
                return RECORD_SCAN_UNSURE;
        s->p++;
        if (ret && !(o = json_object()))
                return -ENOMEM;
        skip_ws(s);
        if (peek(s) == '}')
                s->p++;
        else
                for (;;) {
                        const char *key;
                        size_t len;
                        bool escaped;
                        json_t *v = NULL;

                        if (peek(s) != '"') {
                                r = RECORD_SCAN_UNSURE;
                                break;
                        }
                        r = scan_raw_string(s, &key, &len, &escaped);
                        if (r < 0)
                                break;
                        /* unescaped and valid UTF-8, equal names are equal bytes */
                        if (escaped || s->n_keys - base >= SCAN_MEMBERS_MAX) {
                                r = RECORD_SCAN_UNSURE;
                                break;
                        }
                        for (size_t i = base; i < s->n_keys && r == 0; i++)
                                if (s->keys[i].len == len && memcmp(s->keys[i].p, key, len) == 0)
                                        r = RECORD_SCAN_UNSURE;
                        if (r < 0)
                                break;
                        if (s->n_keys >= s->n_keys_alloc) {
                                size_t n = s->n_keys_alloc * 2;
                                KeySpan *k = malloc(n * sizeof(KeySpan));
                                if (!k) {
                                        r = -ENOMEM;
                                        break;
                                }
                                memcpy(k, s->keys, s->n_keys * sizeof(KeySpan));
                                if (s->keys_on_heap)
                                        free(s->keys);
                                s->keys = k;
                                s->keys_on_heap = true;
                                s->n_keys_alloc = n;
                        }
                        s->keys[s->n_keys++] = (KeySpan){key, len};

                        skip_ws(s);
                        if (peek(s) != ':') {
                                r = RECORD_SCAN_UNSURE;
                                break;
                        }
                        s->p++;
                        skip_ws(s);
                        const RecordKeep *k = only && o ? keep_find(only, key, len) : NULL;
                        bool keep = o && (!only || k);
                        r = scan_member(s, k, keep ? &v : NULL);
                        if (r < 0)
                                break;
                        if (keep && json_object_setn_new_nocheck(o, key, len, v) < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        skip_ws(s);
                        int c = peek(s);
                        s->p++;
                        if (c == '}')
                                break;
                        if (c != ',') {
                                r = RECORD_SCAN_UNSURE;
                                break;
                        }
                        skip_ws(s);
                }
        s->n_keys = base;
        if (r < 0) {
                json_decref(o);
                return r;
        }
        s->depth--;
        if (ret)
                *ret = o;
        return 0;
}

static int scan_value(Scanner *s, json_t **ret) {
        switch (peek(s)) {
        case '{':
                return scan_object(s, NULL, ret);
        case '[':
                return scan_array(s, NULL, ret);
        case '"':
                return scan_string(s, ret);
        case 't':
                return scan_literal(s, "true", json_true(), ret);
        case 'f':
                return scan_literal(s, "false", json_false(), ret);
        case 'n':
                return scan_literal(s, "null", json_null(), ret);
        default:
                return scan_number(s, ret);
        }
}

int record_scan(const char *buf, size_t len, const RecordKeep *keep, json_t **ret) {
        KeySpan keys[128];
        Scanner s = {.p = buf, .end = buf + len, .len = len, .keys = keys, .n_keys_alloc = ELEMENTSOF(keys)};
        json_t *o = NULL;

        skip_ws(&s);
        int r = peek(&s) == '{' ? scan_object(&s, keep, &o) : RECORD_SCAN_UNSURE;
        if (r >= 0) {
                skip_ws(&s);
                if (s.p != s.end)
                        r = RECORD_SCAN_UNSURE;
        }
        free(s.scratch);
        if (s.keys_on_heap)
                free(s.keys);
        if (r < 0) {
                json_decref(o);
                return r;
        }
        *ret = o;
        return 0;
}

json_t *record_restrict(json_t *v, const RecordKeep *keep) {
        if (!json_is_object(v))
                return json_incref(v);
        json_t *o = json_object();
        if (!o)
                return NULL;
        for (const RecordKeep *k = keep; k->key; k++) {
                json_t *m = json_object_get(v, k->key), *n;
                if (!m)
                        continue;
                if (k->only && k->each && json_is_array(m)) {
                        json_t *e;
                        size_t i;
                        n = json_array();
                        json_array_foreach (m, i, e)
                                if (n && json_array_append_new(n, record_restrict(e, k->only)) < 0) {
                                        json_decref(n);
                                        n = NULL;
                                }
                } else if (k->only && !k->each)
                        n = record_restrict(m, k->only);
                else
                        n = json_incref(m);
                if (!n || json_object_set_new(o, k->key, n) < 0) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}
