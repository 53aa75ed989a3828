/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <curl/curl.h>
#include <strings.h>
#include <sys/utsname.h>

#include "macro.h"
#include "parse.h"
#include "ref.h"

void challenge_done(Challenge *c) {
        free(c->scheme);
        free(c->realm);
        free(c->service);
        free(c->scope);
        *c = (Challenge){};
}

/* RFC 7235 auth-params: token=token or token="quoted \" string", comma separated. */
int challenge_parse(const char *s, Challenge *ret) {
        Challenge c = {};
        const char *p = s;
        size_t n;

        while (*p == ' ' || *p == '\t')
                p++;
        n = strcspn(p, " \t");
        if (n == 0 || n > 32)
                return -EBADMSG;
        c.scheme = strndup(p, n);
        if (!c.scheme)
                return -ENOMEM;
        p += n;
        for (;;) {
                char key[32], *val = NULL;
                size_t k;

                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                if (!*p)
                        break;
                k = strcspn(p, "= \t,");
                if (k == 0 || k >= sizeof key || p[k] != '=') {
                        challenge_done(&c);
                        return -EBADMSG;
                }
                memcpy(key, p, k);
                key[k] = 0;
                p += k + 1;
                if (*p == '"') {
                        size_t cap = strlen(p), m = 0;
                        val = malloc(cap + 1);
                        if (!val) {
                                challenge_done(&c);
                                return -ENOMEM;
                        }
                        for (p++; *p && *p != '"'; p++) {
                                if (*p == '\\' && p[1])
                                        p++;
                                val[m++] = *p;
                        }
                        val[m] = 0;
                        if (*p != '"') {
                                free(val);
                                challenge_done(&c);
                                return -EBADMSG;
                        }
                        p++;
                } else {
                        k = strcspn(p, ", \t");
                        val = strndup(p, k);
                        if (!val) {
                                challenge_done(&c);
                                return -ENOMEM;
                        }
                        p += k;
                }
                char **dst = strcasecmp(key, "realm") == 0     ? &c.realm
                             : strcasecmp(key, "service") == 0 ? &c.service
                             : strcasecmp(key, "scope") == 0   ? &c.scope
                                                               : NULL;
                if (dst) {
                        free(*dst);
                        *dst = val;
                } else
                        free(val);
        }
        *ret = c;
        return 0;
}

int retry_after_parse(const char *s, usec_t now, usec_t *ret) {
        uint64_t secs;

        while (s && (*s == ' ' || *s == '\t'))
                s++;
        if (isempty(s))
                return -EINVAL;
        if (isdigit((unsigned char) *s)) {
                char buf[32];
                size_t n = strcspn(s, " \t\r\n");
                if (n >= sizeof buf)
                        return -EINVAL;
                memcpy(buf, s, n);
                buf[n] = 0;
                if (safe_atou64(buf, &secs) < 0 || secs > 24 * 3600)
                        return -EINVAL;
                *ret = secs * USEC_PER_SEC;
                return 0;
        }
        time_t t = curl_getdate(s, NULL);
        if (t < 0)
                return -EINVAL;
        usec_t when = (usec_t) t * USEC_PER_SEC;
        *ret = when > now ? when - now : 0;
        return 0;
}

static const char *arch_normalise(const char *a) {
        if (streq(a, "x86_64") || streq(a, "x86-64"))
                return "amd64";
        if (streq(a, "aarch64"))
                return "arm64";
        if (streq(a, "i386") || streq(a, "i686"))
                return "386";
        if (startswith(a, "armv") || streq(a, "armhf") || streq(a, "armel"))
                return "arm";
        return a;
}

int platform_parse(const char *s, Platform *ret) {
        Platform p = {};
        const char *a, *v;

        if (isempty(s) || !(a = strchr(s, '/')) || a == s)
                return -EINVAL;
        v = strchr(a + 1, '/');
        size_t on = (size_t) (a - s), an = v ? (size_t) (v - a - 1) : strlen(a + 1);
        if (on >= sizeof p.os || an == 0 || an >= sizeof p.arch ||
            (v && (!v[1] || strlen(v + 1) >= sizeof p.variant)))
                return -EINVAL;
        if (v && strchr(v + 1, '/'))
                return -EINVAL;
        memcpy(p.os, s, on);
        memcpy(p.arch, a + 1, an);
        if (v)
                strcpy(p.variant, v + 1);
        snprintf(p.arch, sizeof p.arch, "%s", arch_normalise(strndupa(a + 1, an)));
        *ret = p;
        return 0;
}

void platform_host(Platform *ret) {
        struct utsname u;
        Platform p = {.os = "linux"};

        if (uname(&u) < 0)
                strcpy(u.machine, "x86_64");
        snprintf(p.arch, sizeof p.arch, "%s", arch_normalise(u.machine));
        if (streq(u.machine, "armv7l"))
                strcpy(p.variant, "v7");
        else if (streq(u.machine, "armv6l"))
                strcpy(p.variant, "v6");
        *ret = p;
}

bool platform_match(const Platform *want, const char *os, const char *arch, const char *variant) {
        if (!os || !arch || !streq(os, want->os) || !streq(arch_normalise(arch), want->arch))
                return false;
        if (isempty(want->variant))
                return true;
        /* arm64 images rarely name their variant; "v8" is the only one there is. */
        if (isempty(variant))
                return streq(want->arch, "arm64") && streq(want->variant, "v8");
        return streq(variant, want->variant);
}

int content_range_parse(const char *s, uint64_t *ret_start, uint64_t *ret_end) {
        unsigned long long a, b;
        int n = 0;

        while (*s == ' ')
                s++;
        if (!startswith(s, "bytes ") || sscanf(s + 6, "%llu-%llu%n", &a, &b, &n) != 2 || b < a ||
            s[6 + n] != '/')
                return -EBADMSG;
        *ret_start = a;
        if (ret_end)
                *ret_end = b;
        return 0;
}

int url_origin(const char *url, char **ret) {
        const char *p = strstr(url, "://");
        size_t sn, hn;

        if (!p)
                return -EINVAL;
        sn = (size_t) (p - url);
        p += 3;
        hn = strcspn(p, "/?#");
        if (hn == 0 || memchr(p, '@', hn)) /* no userinfo in URLs we follow */
                return -EINVAL;
        char *o = malloc(sn + 3 + hn + 1);
        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < sn; i++)
                o[i] = (char) tolower((unsigned char) url[i]);
        memcpy(o + sn, "://", 3);
        for (size_t i = 0; i < hn; i++)
                o[sn + 3 + i] = (char) tolower((unsigned char) p[i]);
        o[sn + 3 + hn] = 0;
        /* An explicit default port is the same origin as none. */
        if (startswith(o, "https://") && endswith(o, ":443"))
                o[strlen(o) - 4] = 0;
        else if (startswith(o, "http://") && endswith(o, ":80"))
                o[strlen(o) - 3] = 0;
        *ret = o;
        return 0;
}

int url_host(const char *url, char *buf, size_t size) {
        const char *p = strstr(url, "://");
        p = p ? p + 3 : url;
        size_t n = strcspn(p, "/?#");
        const char *end;
        if (*p == '[') {
                end = memchr(p, ']', n);
                if (!end)
                        return -EINVAL;
                p++;
        } else {
                end = memchr(p, ':', n);
                if (!end)
                        end = p + n;
        }
        if ((size_t) (end - p) >= size || end == p)
                return -EINVAL;
        memcpy(buf, p, (size_t) (end - p));
        buf[end - p] = 0;
        for (char *c = buf; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        return 0;
}

bool host_is_loopback(const char *domain) {
        char h[256];
        if (url_host(domain, h, sizeof h) < 0)
                return false;
        if (streq(h, "localhost") || streq(h, "::1"))
                return true;
        if (!startswith(h, "127."))
                return false;
        for (const char *c = h; *c; c++)
                if (!isdigit((unsigned char) *c) && *c != '.')
                        return false;
        return true;
}

int auth_key_match(const char *key, const char *domain, const char *repo) {
        const char *k = startswith(key, "https://") ?: startswith(key, "http://") ?: key;
        size_t dl = strlen(domain);

        /* docker login writes Docker Hub as "https://index.docker.io/v1/". */
        if (streq(domain, "docker.io")) {
                const char *alt = startswith(k, "index.docker.io") ?: startswith(k, "registry-1.docker.io");
                if (alt && (!*alt || streq(alt, "/v1/") || streq(alt, "/v1") || streq(alt, "/")))
                        return 0;
        }
        if (!strneq(k, domain, dl))
                return -1;
        k += dl;
        if (!*k || streq(k, "/") || streq(k, "/v1/") || streq(k, "/v2/"))
                return 0;
        if (*k != '/')
                return -1;
        k++;
        size_t kl = strlen(k);
        if (strneq(repo, k, kl) && (repo[kl] == 0 || repo[kl] == '/'))
                return (int) kl;
        return -1;
}

/* host[:port] or [v6]:port as a reference's domain may be: DNS labels of letters, digits and '-'. */
static bool registry_host_is_valid(const char *h, size_t n) {
        const char *colon;
        if (n == 0 || n > 255)
                return false;
        if (h[0] == '[') {
                const char *end = memchr(h, ']', n);
                if (!end || end == h + 1 ||
                    strspn(h + 1, "0123456789abcdefABCDEF:.") != (size_t) (end - h - 1))
                        return false;
                colon = end + 1 < h + n ? end + 1 : NULL;
                if (colon && *colon != ':')
                        return false;
                n = (size_t) (end + 1 - h);
        } else {
                colon = memchr(h, ':', n);
                size_t hn = colon ? (size_t) (colon - h) : n;
                if (hn == 0 || h[0] == '.' || h[0] == '-' || h[hn - 1] == '.' || h[hn - 1] == '-')
                        return false;
                for (size_t i = 0; i < hn; i++)
                        if (!isalnum((unsigned char) h[i]) && h[i] != '-' &&
                            !(h[i] == '.' && h[i + 1] != '.' && h[i + 1] != '-' && h[i - 1] != '-'))
                                return false;
                n = hn;
        }
        if (colon) {
                const char *port = colon + 1;
                size_t pl = strcspn(port, "/");
                unsigned long v = 0;
                if (pl == 0 || pl > 5 || strspn(port, "0123456789") < pl)
                        return false;
                for (size_t i = 0; i < pl; i++)
                        v = v * 10 + (unsigned long) (port[i] - '0');
                if (v == 0 || v > 65535)
                        return false;
        }
        return true;
}

int registry_key_parse(const char *arg, char **ret_key, char **ret_domain, char **ret_repo,
                       const char **ret_why) {
        const char *s = startswith(arg, "https://") ?: startswith(arg, "http://");
        _cleanup_free_ char *key = NULL, *domain = NULL, *repo = NULL;
        size_t hl;

        if (s) {
                /* podman keeps only host[:port] of a URL ("https://quay.io/v1/" is "quay.io"). */
                hl = strcspn(s, "/?#");
                key = strndup(s, hl);
        } else {
                s = arg;
                hl = strcspn(s, "/");
                key = strdup(s);
        }
        if (!key)
                return -ENOMEM;
        if (!registry_host_is_valid(key, hl))
                return *ret_why = "not a registry host[:port]", -EINVAL;
        domain = strndup(key, hl);
        repo = strdup(key[hl] ? key + hl + 1 : "");
        if (!domain || !repo)
                return -ENOMEM;
        if (key[hl] && !*repo)
                return *ret_why = "a registry name does not end with '/'", -EINVAL;
        if (*repo) {
                /* A repository-scoped entry (podman's "quay.io/ns/repo"): a name without tag or digest. */
                Reference *ref = NULL;
                const char *why = NULL;
                bool ok = !strpbrk(repo, ":@") && ref_parse(key, &ref, &why) >= 0 &&
                          streq(ref->domain, domain);
                ref_freep(&ref);
                if (!ok)
                        return *ret_why = "not a registry or a repository on one (without tag or digest)",
                               -EINVAL;
        }
        *ret_key = TAKE_PTR(key);
        *ret_domain = TAKE_PTR(domain);
        *ret_repo = TAKE_PTR(repo);
        return 0;
}
