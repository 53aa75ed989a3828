/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-unpack's name handling: archive path cleaning, id maps, the path map (cmd/unpack/extract-resolve.c,
 * extract-whiteout.c and strmap.c have no main() and need only lib/, so they are compiled in directly). */
#include "../../cmd/unpack/extract-resolve.c"
#include "../../cmd/unpack/extract-whiteout.c"
#include "../../cmd/unpack/strmap.c"
#include "tap.h"

static void check_path(const char *in, int want_r, const char *want) {
        _cleanup_free_ char *out = NULL;
        const char *why = NULL;
        int r = normalize_path(in, &out, &why);
        CHECK(r == want_r, "normalize_path('%.40s') = %d (%s)", in, r, strna(why));
        if (r >= 0 && want)
                CHECK_STR(out, want, "cleaned");
}

int main(void) {
        char big[PATH_MAX + 10];
        IdMap m;
        uint32_t id;

        check_path("a/b/c", 0, "a/b/c");
        check_path("./a//b/./c/", 0, "a/b/c");
        check_path("/etc/passwd", 0, "etc/passwd");
        check_path("/", 0, "");
        check_path(".", 0, "");
        check_path("./", 0, "");
        check_path("..", -EINVAL, NULL);
        check_path("../victim/x", -EINVAL, NULL);
        check_path("/../x", -EINVAL, NULL);
        check_path("a/../../x", -EINVAL, NULL);
        check_path("a/..", -EINVAL, NULL);
        check_path("a/..b/c..", 0, "a/..b/c..");
        check_path("...", 0, "...");
        check_path(".wh..wh..opq", 0, ".wh..wh..opq");
        memset(big, 'n', 256);
        big[256] = 0;
        check_path(big, -ENAMETOOLONG, NULL);
        big[255] = 0;
        check_path(big, 0, NULL);
        for (size_t i = 0; i < sizeof big - 1; i++)
                big[i] = i % 100 == 99 ? '/' : 'd';
        big[PATH_MAX] = 0;
        check_path(big, -ENAMETOOLONG, NULL);
        big[PATH_MAX - 2] = 0;
        check_path(big, 0, NULL);

        const char *parent, *name;
        char p1[] = "a/b/c", p2[] = "top";
        split_path(p1, &parent, &name);
        CHECK(streq(parent, "a/b") && streq(name, "c"), "split a/b/c");
        split_path(p2, &parent, &name);
        CHECK(streq(parent, "") && streq(name, "top"), "split top");
        _cleanup_free_ char *j1 = strjoin_path("", "x"), *j2 = strjoin_path("a/b", "x");
        CHECK_STR(j1, "x", "join at the root");
        CHECK_STR(j2, "a/b/x", "join");
        CHECK_STR(name_of("a/b/.wh.c"), ".wh.c", "name_of");

        CHECK(idmap_parse("0:100000:65536", &m) == 0 && m.n == 1, "one range");
        CHECK(map_id(&m, 0, &id) == 0 && id == 100000, "0 -> 100000");
        CHECK(map_id(&m, 65535, &id) == 0 && id == 165535, "65535 -> 165535");
        CHECK(map_id(&m, 65536, &id) == -ERANGE, "65536 unmapped");
        CHECK(idmap_parse("0:1000:1,1:100000:65535", &m) == 0 && m.n == 2, "two ranges");
        CHECK(map_id(&m, 0, &id) == 0 && id == 1000, "0 -> 1000");
        CHECK(map_id(&m, 5, &id) == 0 && id == 100004, "5 -> 100004");
        CHECK(map_id(NULL, 42, &id) == 0 && id == 42, "identity");
        CHECK(map_id(NULL, -1, &id) == -ERANGE, "-1 refused");
        CHECK(map_id(NULL, 0x80000000LL, &id) == -ERANGE, "2^31 refused");
        CHECK(map_id(NULL, 0x100000000LL, &id) == -ERANGE, "2^32 refused");
        CHECK(idmap_parse("0:x:1", &m) < 0, "not a number");
        CHECK(idmap_parse("0:1:0", &m) < 0, "empty range");
        CHECK(idmap_parse("-1:0:1", &m) < 0, "negative");
        CHECK(idmap_parse("0:2147483000:1000", &m) < 0, "beyond 2^31");
        CHECK(idmap_parse("0:0:1,", &m) == 0 && m.n == 1, "trailing comma");
        CHECK(idmap_parse("", &m) < 0, "empty");

        char why[64] = "entry 'a\nb\x1b[0m\x7f': x", small[8] = "ab\ncdef";
        why_escape(why, sizeof why);
        CHECK(streq(why, "entry 'a\\x0ab\\x1b[0m\\x7f': x"), "control characters escaped: %s", why);
        why_escape(small, sizeof small);
        CHECK(streq(small, "ab\\x0ac"), "escaped and truncated: %s", small);

        _cleanup_(strmap_freep) StrMap *sm = strmap_new();
        size_t v = 0;
        char key[32];
        if (!sm)
                abort();
        for (size_t i = 0; i < 5000; i++) {
                (void) snprintf(key, sizeof key, "k%zu", i);
                if (strmap_put(sm, key, i) < 0)
                        break;
        }
        CHECK(strmap_get(sm, "k4999", &v) && v == 4999, "5000 keys, grown");
        CHECK(strmap_put(sm, "k17", 1) == -EEXIST && strmap_get(sm, "k17", &v) && v == 17, "no overwrite");
        CHECK(!strmap_get(sm, "k5000", NULL), "absent key");
        TAP_END();
}
