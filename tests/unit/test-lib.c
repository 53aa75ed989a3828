/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fileio.h"
#include "paths.h"
#include "ref.h"
#include "spawn.h"
#include "table.h"
#include "tap.h"
#include "util.h"

static void check_ref(const char *in, const char *want) {
        Reference *r = NULL;
        const char *why = NULL;
        int k = ref_parse(in, &r, &why);
        if (!want) {
                CHECK(k == -EINVAL && why, "'%s' refused (%s)", in, why ?: "no reason");
                ref_free(r);
                return;
        }
        char *s = k >= 0 ? ref_to_string(r) : NULL;
        CHECK_STR(s, want, in);
        free(s);
        ref_free(r);
}

/* spawn_sibling(): found on $PATH, --root/--runroot inserted, stdin /dev/null, stdout captured, and none of
 * the caller's ignored or blocked signals passed on. */
static void check_spawn(void) {
        char dir[] = "/tmp/berth-test-spawn-XXXXXX";
        char *prog = NULL, *path = NULL, *out = NULL;
        sigset_t block, saved;
        CHECK(mkdtemp(dir) != NULL, "temp dir");
        prog = path_join(dir, "berth-probe");
        FILE *f = fopen(prog, "we");
        fputs("#!/bin/sh\nread x && echo stdin-not-empty\n"
              "echo \"$*\" $(grep -E '^Sig(Blk|Ign)' /proc/self/status | tr -s '\\t\\n' ' ')\n",
              f);
        fclose(f);
        chmod(prog, 0755);
        const char *old = getenv("PATH");
        CHECK(asprintf(&path, "%s:%s", dir, old ?: "/usr/bin:/bin") > 0, "PATH");
        setenv("PATH", path, 1);
        setenv("BERTH_ROOT", "/r", 1);
        setenv("BERTH_RUNROOT", "/rr", 1);
        signal(SIGTERM, SIG_IGN);
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        sigprocmask(SIG_BLOCK, &block, &saved);
        char *argv[] = {(char *) "a", (char *) "b c", NULL};
        int r = spawn_sibling("berth-probe", argv, &out);
        CHECK(r == 0, "spawn_sibling exit status %d", r);
        CHECK_STR(out, "--root /r --runroot /rr a b c SigBlk: 0000000000000000 SigIgn: 0000000000000000",
                  "spawned with the state paths, no stdin, no blocked or ignored signal");
        sigset_t now;
        sigprocmask(SIG_SETMASK, NULL, &now);
        CHECK(sigismember(&now, SIGUSR1) && !sigismember(&now, SIGTERM) && !sigismember(&now, SIGINT),
              "the caller's signal mask is as it was");
        sigprocmask(SIG_SETMASK, &saved, NULL);
        signal(SIGTERM, SIG_DFL);
        CHECK(spawn_sibling("berth-no-such-program", argv, NULL) == -ENOENT, "a missing sibling: -ENOENT");
        setenv("PATH", old ?: "/usr/bin:/bin", 1);
        unlink(prog);
        rmdir(dir);
        free(out);
        free(path);
        free(prog);
}

int main(void) {
        char d[DIGEST_MAX];

        check_spawn();
        CHECK(parse_signal("SIGTERM") == SIGTERM && parse_signal("term") == SIGTERM &&
                      parse_signal("9") == SIGKILL && parse_signal("SIGWINCH") == SIGWINCH &&
                      parse_signal("SEGV") == SIGSEGV && parse_signal("RTMIN+3") == SIGRTMIN + 3 &&
                      parse_signal("SIGRTMAX-1") == SIGRTMAX - 1,
              "parse_signal: names, numbers, real-time signals");
        CHECK(parse_signal("SIGNOPE") == -EINVAL && parse_signal("0") == -EINVAL &&
                      parse_signal("") == -EINVAL && parse_signal("RTMIN+99") == -EINVAL &&
                      parse_signal("65") == -EINVAL,
              "parse_signal: refusals");

        check_ref("busybox", "docker.io/library/busybox:latest");
        check_ref("busybox:1.36", "docker.io/library/busybox:1.36");
        check_ref("user/app", "docker.io/user/app:latest");
        check_ref("127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest");
        check_ref("localhost/a/b:v1", "localhost/a/b:v1");
        check_ref("quay.io/a/b-c__d.e:tag_1.2-x", "quay.io/a/b-c__d.e:tag_1.2-x");
        check_ref("x@sha256:"
                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                  "docker.io/library/"
                  "x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        check_ref("Busybox", NULL);
        check_ref("", NULL);
        check_ref("a:b:c", NULL);
        check_ref("x@sha256:abc", NULL);
        check_ref("x@sha256:../../../../etc/passwd", NULL);
        check_ref("a//b", NULL);
        check_ref("a/-b", NULL);
        check_ref("host:port/a", NULL);
        check_ref("a:", NULL);

        CHECK(sha256_digest("", 0, d) == 0 &&
                      strcmp(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") ==
                              0,
              "sha256 of empty input");
        CHECK(digest_is_valid(d), "valid digest");
        CHECK(!digest_is_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
              "uppercase digest refused");
        CHECK(!digest_is_valid("sha512:e3b0"), "other algorithm refused");

        uint64_t sz = 0;
        CHECK(parse_size("512m", &sz) == 0 && sz == 512ULL << 20, "512m");
        CHECK(parse_size("1g", &sz) == 0 && sz == 1ULL << 30, "1g");
        CHECK(parse_size("100", &sz) == 0 && sz == 100, "100");
        CHECK(parse_size("12x", &sz) == -EINVAL, "12x refused");
        CHECK(parse_size("-1", &sz) == -EINVAL, "-1 refused");
        usec_t u = 0;
        CHECK(parse_duration("1m30s", &u) == 0 && u == 90 * USEC_PER_SEC, "1m30s");
        CHECK(parse_duration("500ms", &u) == 0 && u == 500 * USEC_PER_MSEC, "500ms");
        CHECK(parse_duration("2", &u) == 0 && u == 2 * USEC_PER_SEC, "2");
        CHECK(parse_duration("x", &u) == -EINVAL, "x refused");

        char buf[64];
        CHECK(format_rfc3339(1700000000 * USEC_PER_SEC + 5, buf, sizeof buf) == 0 &&
                      parse_rfc3339(buf, &u) == 0 && u == 1700000000 * USEC_PER_SEC + 5,
              "rfc3339 round trip %s", buf);

        char *p = path_join("/a/", "/b", "c");
        CHECK_STR(p, "/a/b/c", "path_join");
        free(p);
        CHECK(name_is_valid("web-1.x_y", 64) && !name_is_valid("../x", 64) && !name_is_valid("-x", 64) &&
                      !name_is_valid("", 64),
              "name_is_valid");

        char *out = NULL;
        size_t outlen = 0;
        FILE *f = open_memstream(&out, &outlen);
        json_t *o = json_pack("{s:s, s:{s:s}, s:{s:s}}", "Names", "web", "State", "Status", "running",
                              "Labels", "a", "b");
        CHECK(template_render("{{.Names}} {{.State.Status}} {{json .Labels}}", o, f) == 0,
              "template renders");
        fclose(f);
        CHECK_STR(out, "web running {\"a\":\"b\"}\n", "template output");
        free(out);
        json_decref(o);

        /* a table of objects: columns aligned to the widest cell, a missing member empty */
        out = NULL;
        f = open_memstream(&out, &outlen);
        json_t *rows = json_pack("[{s:s, s:s}, {s:s}]", "A", "long-value", "B", "x", "A", "y");
        static const char *const heads[] = {"COL A", "B"}, *const ks[] = {"A", "B"};
        CHECK(table_print_objects(rows, 2, heads, ks, f) == 0, "table_print_objects");
        fclose(f);
        CHECK_STR(out, "COL A        B\nlong-value   x\ny            \n", "table of objects");
        free(out);
        json_decref(rows);

        char **v = NULL;
        CHECK(strv_extend(&v, "a") == 0 && strv_extend(&v, "b") == 0 && strv_length(v) == 2, "strv");
        char *j = strv_join(v, ",");
        CHECK_STR(j, "a,b", "strv_join");
        free(j);
        strv_free(v);

        TAP_END();
}
