/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>

#include "digest.h"
#include "macro.h"
#include "ref.h"

Reference *ref_free(Reference *r) {
        if (r) {
                free(r->domain);
                free(r->path);
                free(r->tag);
                free(r->digest);
                free(r);
        }
        return NULL;
}

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | [-]+ */
static bool component_is_valid(const char *s, size_t n) {
        size_t i = 0;
        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        while (i < n) {
                if (is_lower_alnum(s[i])) {
                        i++;
                        continue;
                }
                size_t j = i;
                if (s[i] == '.')
                        j++;
                else if (s[i] == '_')
                        j += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
                else if (s[i] == '-')
                        while (j < n && s[j] == '-')
                                j++;
                else
                        return false;
                if (j >= n || !is_lower_alnum(s[j]))
                        return false;
                i = j;
        }
        return true;
}

static bool domain_is_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 255)
                return false;
        const char *colon = strrchr(s, ':');
        if (s[0] == '[') /* IPv6 literal */
                return strchr(s, ']') != NULL;
        for (const char *p = s; *p && p != colon; p++)
                if (!(isalnum((unsigned char) *p) || *p == '.' || *p == '-'))
                        return false;
        if (colon) {
                if (!colon[1])
                        return false;
                for (const char *p = colon + 1; *p; p++)
                        if (!isdigit((unsigned char) *p))
                                return false;
        }
        return true;
}

static bool tag_is_valid(const char *t) {
        size_t n = strlen(t);
        if (n == 0 || n > 128)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = t[i];
                bool w = isalnum((unsigned char) c) || c == '_';
                if (i == 0 ? !w : !(w || c == '.' || c == '-'))
                        return false;
        }
        return true;
}

int ref_parse(const char *s, Reference **ret, const char **ret_why) {
        const char *why = NULL;
        _cleanup_(ref_freep) Reference *r = calloc(1, sizeof(Reference));
        _cleanup_free_ char *copy = NULL;

        if (!r)
                return -ENOMEM;
        if (isempty(s)) {
                why = "empty reference";
                goto fail;
        }
        if (strlen(s) > 512) {
                why = "reference too long";
                goto fail;
        }
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;

        char *at = strchr(copy, '@');
        if (at) {
                *at = 0;
                if (!digest_is_valid(at + 1)) {
                        why = "invalid digest (expected sha256: and 64 lowercase hex digits)";
                        goto fail;
                }
                r->digest = strdup(at + 1);
                if (!r->digest)
                        return -ENOMEM;
        }

        char *rest = copy;
        char *slash = strchr(rest, '/');
        if (slash &&
            (memchr(rest, '.', (size_t) (slash - rest)) || memchr(rest, ':', (size_t) (slash - rest)) ||
             strneq(rest, "localhost/", strlen("localhost/")))) {
                *slash = 0;
                if (!domain_is_valid(rest)) {
                        why = "invalid registry host";
                        goto fail;
                }
                r->domain = strdup(rest);
                rest = slash + 1;
        } else
                r->domain = strdup("docker.io");
        if (!r->domain)
                return -ENOMEM;

        char *last = strrchr(rest, '/');
        char *colon = strrchr(last ? last : rest, ':');
        if (colon) {
                *colon = 0;
                if (!tag_is_valid(colon + 1)) {
                        why = "invalid tag";
                        goto fail;
                }
                r->tag = strdup(colon + 1);
                if (!r->tag)
                        return -ENOMEM;
        } else if (!r->digest) {
                r->tag = strdup("latest");
                if (!r->tag)
                        return -ENOMEM;
        }

        if (isempty(rest)) {
                why = "missing repository name";
                goto fail;
        }
        for (const char *p = rest;;) {
                const char *e = strchr(p, '/');
                size_t n = e ? (size_t) (e - p) : strlen(p);
                if (!component_is_valid(p, n)) {
                        why = "invalid repository name (lowercase letters, digits and separators only)";
                        goto fail;
                }
                if (!e)
                        break;
                p = e + 1;
        }
        if (streq(r->domain, "docker.io") && !strchr(rest, '/')) {
                if (asprintf(&r->path, "library/%s", rest) < 0)
                        return -ENOMEM;
        } else {
                r->path = strdup(rest);
                if (!r->path)
                        return -ENOMEM;
        }
        if (strlen(r->domain) + 1 + strlen(r->path) > 255) {
                why = "repository name too long";
                goto fail;
        }
        *ret = TAKE_PTR(r);
        return 0;
fail:
        if (ret_why)
                *ret_why = why;
        return -EINVAL;
}

char *ref_repository(const Reference *r) {
        char *s;
        if (asprintf(&s, "%s/%s", r->domain, r->path) < 0)
                return NULL;
        return s;
}

char *ref_to_string(const Reference *r) {
        char *s;
        if (asprintf(&s, "%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "", r->tag ?: "",
                     r->digest ? "@" : "", r->digest ?: "") < 0)
                return NULL;
        return s;
}

char *ref_store_name(const Reference *r) {
        char *s;
        if (r->tag) {
                if (asprintf(&s, "%s/%s:%s", r->domain, r->path, r->tag) < 0)
                        return NULL;
        } else if (asprintf(&s, "%s/%s@%s", r->domain, r->path, r->digest) < 0)
                return NULL;
        return s;
}
