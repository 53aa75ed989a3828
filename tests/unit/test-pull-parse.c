/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry protocol parsers of berth-pull (cmd/pull/parse.c has no main() and needs only lib/ and
 * libcurl, so it is compiled into this test directly). */
#include "../../cmd/pull/parse.c"
#include "tap.h"

static void check_challenge(const char *in, int want_r, const char *scheme, const char *realm,
                            const char *service, const char *scope) {
        Challenge c = {};
        int r = challenge_parse(in, &c);
        CHECK(r == want_r, "challenge_parse('%s') = %d", in, r);
        if (r >= 0) {
                CHECK(streq_ptr(c.scheme, scheme), "scheme '%s'", strna(c.scheme));
                CHECK(streq_ptr(c.realm, realm), "realm '%s'", strna(c.realm));
                CHECK(streq_ptr(c.service, service), "service '%s'", strna(c.service));
                CHECK(streq_ptr(c.scope, scope), "scope '%s'", strna(c.scope));
        }
        challenge_done(&c);
}

static void check_key(const char *arg, int want_r, const char *key, const char *domain, const char *repo) {
        char *k = NULL, *d = NULL, *r = NULL;
        const char *why = NULL;
        int ret = registry_key_parse(arg, &k, &d, &r, &why);
        CHECK(ret == want_r, "registry_key_parse('%s') = %d (%s)", arg, ret, strna(why));
        if (ret >= 0 && want_r >= 0) {
                CHECK_STR(k, key, "key");
                CHECK_STR(d, domain, "domain");
                CHECK_STR(r, repo, "repo");
        }
        free(k);
        free(d);
        free(r);
}

int main(void) {
        Platform p;
        usec_t t;
        uint64_t a, b;
        char *o = NULL, h[64];

        check_challenge("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                        "scope=\"repository:library/busybox:pull\"",
                        0, "Bearer", "https://auth.docker.io/token", "registry.docker.io",
                        "repository:library/busybox:pull");
        check_challenge("Bearer realm=\"https://r/t\",scope=\"repository:a:pull,push\"", 0, "Bearer",
                        "https://r/t", NULL, "repository:a:pull,push");
        check_challenge("Basic realm=\"x \\\"y\\\"\"", 0, "Basic", "x \"y\"", NULL, NULL);
        check_challenge("Bearer realm=unquoted, service=s", 0, "Bearer", "unquoted", "s", NULL);
        check_challenge("Bearer realm=\"unterminated", -EBADMSG, NULL, NULL, NULL, NULL);
        check_challenge("", -EBADMSG, NULL, NULL, NULL, NULL);
        check_challenge("Bearer =x", -EBADMSG, NULL, NULL, NULL, NULL);

        CHECK(retry_after_parse("3", 0, &t) == 0 && t == 3 * USEC_PER_SEC, "Retry-After: 3");
        CHECK(retry_after_parse(" 0 ", 0, &t) == 0 && t == 0, "Retry-After: 0");
        CHECK(retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470ULL * USEC_PER_SEC, &t) == 0 &&
                      t == 10 * USEC_PER_SEC,
              "Retry-After as an HTTP date");
        CHECK(retry_after_parse("soon", 0, &t) < 0, "Retry-After: soon refused");
        CHECK(retry_after_parse("99999999999", 0, &t) < 0, "Retry-After: absurd refused");

        CHECK(platform_parse("linux/amd64", &p) == 0 && streq(p.os, "linux") && streq(p.arch, "amd64") &&
                      !*p.variant,
              "linux/amd64");
        CHECK(platform_parse("linux/x86_64", &p) == 0 && streq(p.arch, "amd64"), "x86_64 is amd64");
        CHECK(platform_parse("linux/arm/v7", &p) == 0 && streq(p.arch, "arm") && streq(p.variant, "v7"),
              "arm/v7");
        CHECK(platform_parse("linux", &p) < 0, "linux alone refused");
        CHECK(platform_parse("linux/arm/v7/x", &p) < 0, "four parts refused");
        CHECK(platform_parse("/amd64", &p) < 0, "empty os refused");
        CHECK(platform_parse("linux/", &p) < 0, "empty arch refused");
        platform_parse("linux/arm64/v8", &p);
        CHECK(platform_match(&p, "linux", "arm64", NULL),
              "arm64/v8 matches an arm64 entry without a variant");
        CHECK(!platform_match(&p, "linux", "amd64", NULL), "arm64 does not match amd64");
        platform_parse("linux/arm/v7", &p);
        CHECK(!platform_match(&p, "linux", "arm", "v6"), "arm/v7 does not match arm/v6");
        CHECK(!platform_match(&p, "linux", "arm", NULL), "arm/v7 does not match arm without a variant");
        platform_parse("linux/amd64", &p);
        CHECK(!platform_match(&p, "windows", "amd64", NULL), "os must match");
        CHECK(!platform_match(&p, NULL, NULL, NULL), "missing platform does not match");
        platform_host(&p);
        CHECK(streq(p.os, "linux") && *p.arch, "host platform %s/%s", p.os, p.arch);

        CHECK(content_range_parse("bytes 100-199/200", &a, &b) == 0 && a == 100 && b == 199,
              "Content-Range");
        CHECK(content_range_parse("bytes 100-99/200", &a, &b) < 0, "inverted range refused");
        CHECK(content_range_parse("bytes */200", &a, &b) < 0, "unsatisfied range refused");
        CHECK(content_range_parse("items 1-2/3", &a, &b) < 0, "other units refused");

        CHECK(url_origin("HTTPS://Example.COM:443/v2/x?y", &o) == 0 && streq(o, "https://example.com"),
              "origin %s", strna(o));
        o = mfree(o);
        CHECK(url_origin("http://127.0.0.1:5000/v2/", &o) == 0 && streq(o, "http://127.0.0.1:5000"),
              "origin port");
        o = mfree(o);
        CHECK(url_origin("http://user:pw@evil/", &o) < 0, "userinfo refused");
        CHECK(url_origin("file:///etc/passwd", &o) < 0, "no host refused");
        CHECK(url_host("http://[::1]:5000/x", h, sizeof h) == 0 && streq(h, "::1"), "IPv6 host");
        CHECK(url_host("https://Auth.Docker.io/token", h, sizeof h) == 0 && streq(h, "auth.docker.io"),
              "host");

        CHECK(host_is_loopback("127.0.0.1:5000"), "127.0.0.1:5000 is loopback");
        CHECK(host_is_loopback("localhost"), "localhost is loopback");
        CHECK(host_is_loopback("[::1]:5000"), "[::1]:5000 is loopback");
        CHECK(!host_is_loopback("127.0.0.1.evil.com"), "127.0.0.1.evil.com is not loopback");
        CHECK(!host_is_loopback("10.0.0.1:5000"), "10.0.0.1 is not loopback");

        CHECK(auth_key_match("127.0.0.1:5000", "127.0.0.1:5000", "a/b") == 0, "host key");
        CHECK(auth_key_match("https://127.0.0.1:5000/v2/", "127.0.0.1:5000", "a/b") == 0, "URL key");
        CHECK(auth_key_match("127.0.0.1:5000/a", "127.0.0.1:5000", "a/b") == 1, "namespace key");
        CHECK(auth_key_match("127.0.0.1:5000/a/b", "127.0.0.1:5000", "a/b") == 3, "repository key");
        CHECK(auth_key_match("127.0.0.1:5000/ab", "127.0.0.1:5000", "a/b") < 0, "no partial component");
        CHECK(auth_key_match("127.0.0.1:50000", "127.0.0.1:5000", "a") < 0, "other port");
        CHECK(auth_key_match("https://index.docker.io/v1/", "docker.io", "library/busybox") == 0,
              "Docker Hub key");
        CHECK(auth_key_match("evil.io", "docker.io", "x") < 0, "other host");

        check_key("docker.io", 0, "docker.io", "docker.io", "");
        check_key("quay.io", 0, "quay.io", "quay.io", "");
        check_key("127.0.0.1:5000", 0, "127.0.0.1:5000", "127.0.0.1:5000", "");
        check_key("localhost", 0, "localhost", "localhost", "");
        check_key("myregistry", 0, "myregistry", "myregistry", "");
        check_key("[::1]:5000", 0, "[::1]:5000", "[::1]:5000", "");
        check_key("https://quay.io/v1/", 0, "quay.io", "quay.io", "");
        check_key("http://127.0.0.1:5000", 0, "127.0.0.1:5000", "127.0.0.1:5000", "");
        check_key("https://r.example:443/v2/?x", 0, "r.example:443", "r.example:443", "");
        check_key("quay.io/ns/repo", 0, "quay.io/ns/repo", "quay.io", "ns/repo");
        check_key("localhost:5000/a", 0, "localhost:5000/a", "localhost:5000", "a");
        check_key("busybox/x", -EINVAL, NULL, NULL, NULL);
        check_key("quay.io/ns/repo:tag", -EINVAL, NULL, NULL, NULL);
        check_key("quay.io/Upper", -EINVAL, NULL, NULL, NULL);
        check_key("quay.io/", -EINVAL, NULL, NULL, NULL);
        check_key("", -EINVAL, NULL, NULL, NULL);
        check_key("https://", -EINVAL, NULL, NULL, NULL);
        check_key("bad_host", -EINVAL, NULL, NULL, NULL);
        check_key("-x.io", -EINVAL, NULL, NULL, NULL);
        check_key("a..b", -EINVAL, NULL, NULL, NULL);
        check_key("host:0", -EINVAL, NULL, NULL, NULL);
        check_key("host:65536", -EINVAL, NULL, NULL, NULL);
        check_key("host:", -EINVAL, NULL, NULL, NULL);
        check_key("[::1", -EINVAL, NULL, NULL, NULL);
        check_key("[zz]:1", -EINVAL, NULL, NULL, NULL);
        TAP_END();
}
