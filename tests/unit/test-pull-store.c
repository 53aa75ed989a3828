/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-pull's store protocol (cmd/pull/store.c) and registries.conf subset (cmd/pull/registries.c),
 * compiled in directly: both need only lib/. */
#include <stdlib.h>
#include <sys/stat.h>

#include "../../cmd/pull/registries.c"
#include "../../cmd/pull/store.c"
#include "tap.h"

static void write_text(const char *path, const char *s) {
        FILE *f = fopen(path, "we");
        if (f) {
                fputs(s, f);
                fclose(f);
        }
}

static void test_store(void) {
        static const char data[] = "hello blob";
        char d[DIGEST_MAX], d2[DIGEST_MAX];
        int fd = -EBADF, fd2 = -EBADF;
        uint64_t off = 99;
        Sha256 *h = NULL, *h2 = NULL;

        sha256_digest(data, strlen(data), d);
        CHECK(store_init() == 0, "store_init");
        CHECK(!store_has_blob(d, UINT64_MAX), "blob absent at first");
        CHECK(store_blob_lock(d, strlen(data), false, &fd, &off, &h) == 0 && fd >= 0 && off == 0,
              "lock a new blob");
        CHECK(store_blob_lock(d, strlen(data), false, &fd2, &off, &h2) == -EAGAIN,
              "a second lock is refused");
        /* Half written, then "killed": the next locker resumes after those bytes with their hash. */
        CHECK(write(fd, data, 5) == 5, "write half");
        safe_close(fd);
        h = sha256_free(h);
        CHECK(store_blob_lock(d, strlen(data), false, &fd, &off, &h) == 0 && off == 5, "resume at 5 (%llu)",
              (unsigned long long) off);
        CHECK(pwrite(fd, data + 5, strlen(data) - 5, 5) == (ssize_t) (strlen(data) - 5), "write the rest");
        sha256_update(h, data + 5, strlen(data) - 5);
        sha256_final(h, d2);
        h = sha256_free(h);
        CHECK(streq(d, d2), "the resumed hash is the blob's digest");
        CHECK(store_blob_commit(d, fd) == 0, "commit");
        CHECK(store_has_blob(d, strlen(data)), "blob present with its size");
        CHECK(!store_has_blob(d, strlen(data) + 1), "size checked");
        CHECK(store_blob_lock(d, strlen(data), false, &fd, &off, &h) == 1, "a complete blob needs no lock");
        char *tmpdir = berth_path("tmp");
        DIR *dir = opendir(tmpdir);
        int n = 0;
        for (struct dirent *de; dir && (de = readdir(dir));)
                n += de->d_name[0] != '.';
        if (dir)
                closedir(dir);
        free(tmpdir);
        CHECK(n == 0, "nothing left in tmp (%d)", n);

        /* A leftover longer than the blob is discarded. */
        sha256_digest("x", 1, d2);
        char *p = partial_path(d2);
        write_text(p, "far too long");
        free(p);
        CHECK(store_blob_lock(d2, 1, false, &fd, &off, &h) == 0 && off == 0,
              "an oversized leftover restarts");
        store_blob_discard(d2, fd);
        h = sha256_free(h);

        CHECK(store_write_blob(d, data, strlen(data)) == 0, "write_blob of a present blob");
        CHECK(store_index_set("a/b:1", d, 10, MEDIA_OCI_MANIFEST, d) == 0, "index_set");
        CHECK(store_index_set("a/b:2", d, 10, MEDIA_OCI_MANIFEST, d) == 0, "index_set 2");
        CHECK(store_index_set("a/b:1", d2, 10, MEDIA_OCI_MANIFEST, d) == 0, "index_set replaces");
        json_t *index = NULL;
        CHECK(oci_index_load(&index) == 0 && json_array_size(json_object_get(index, "manifests")) == 2,
              "two entries");
        json_t *e0 = json_array_get(json_object_get(index, "manifests"), 1);
        CHECK(streq_ptr(json_string_value(json_object_get(e0, "digest")), d2),
              "the replaced entry points anew");
        json_decref(index);
}

static void test_registries(const char *dir) {
        char conf[4096];
        Endpoint *e = NULL;
        size_t n = 0;

        snprintf(conf, sizeof conf, "%s/registries.conf", dir);
        write_text(conf, "unqualified-search-registries = [\"docker.io\"]\n"
                         "[[registry]]\nlocation = \"docker.io\" # hub\n"
                         "[[registry.mirror]]\nlocation = \"mirror.example:5000/hub\"\ninsecure = true\n"
                         "[[registry.mirror]]\nlocation = \"second.example\"\n"
                         "[[registry]]\nprefix = \"example.com/team\"\nlocation = \"internal.example/t\"\n"
                         "insecure = true\n"
                         "[[registry]]\nlocation = \"bad.example\"\nblocked = true\n");
        CHECK(registries_endpoints(conf, "docker.io", "library/busybox", &e, &n) == 0 && n == 3,
              "hub: 3 endpoints");
        if (n == 3) {
                CHECK(streq(e[0].domain, "mirror.example:5000") && streq(e[0].repo, "hub/library/busybox") &&
                              e[0].insecure && e[0].mirror,
                      "first mirror %s/%s", e[0].domain, e[0].repo);
                CHECK(streq(e[1].domain, "second.example") && streq(e[1].repo, "library/busybox") &&
                              !e[1].insecure,
                      "second mirror");
                CHECK(streq(e[2].domain, "docker.io") && !e[2].mirror, "then the registry");
        }
        endpoints_free(e, n);
        CHECK(registries_endpoints(conf, "example.com", "team/app", &e, &n) == 0 && n == 1 &&
                      streq(e[0].domain, "internal.example") && streq(e[0].repo, "t/app") && e[0].insecure,
              "prefix rewritten to its location");
        endpoints_free(e, n);
        CHECK(registries_endpoints(conf, "example.com", "teamwork/app", &e, &n) == 0 && n == 1 &&
                      streq(e[0].domain, "example.com") && !e[0].insecure,
              "prefixes match whole components");
        endpoints_free(e, n);
        CHECK(registries_endpoints(conf, "bad.example", "x", &e, &n) == -EACCES, "blocked");
        CHECK(registries_endpoints("/nonexistent", "a.example", "x", &e, &n) == -ENOENT,
              "a file named by the user must exist");
        write_text(conf, "[[registry]]\nlocation = \"unterminated\n");
        CHECK(registries_endpoints(conf, "a.example", "x", &e, &n) < 0, "a broken file is an error");
        write_text(conf, "[[registry]]\nlocaton \"typo.example\"\n");
        CHECK(registries_endpoints(conf, "a.example", "x", &e, &n) == -EBADMSG, "a line that is not TOML");
        write_text(conf, "[[registry]\nlocation = \"x.example\"\n");
        CHECK(registries_endpoints(conf, "a.example", "x", &e, &n) == -EBADMSG, "an unclosed table header");
        /* What the subset ignores stays fine: other tables and keys, multi-line arrays. */
        write_text(
                conf,
                "unqualified-search-registries = [\n  \"docker.io\",\n  \"quay.io\",\n]\n"
                "short-name-mode = \"enforcing\"\n[aliases]\n\"x\" = \"a.example/x\"\n"
                "[[registry]]\nlocation = \"a.example\"\ninsecure = true\nmirror-by-digest-only = false\n");
        CHECK(registries_endpoints(conf, "a.example", "x", &e, &n) == 0 && n == 1 && e[0].insecure,
              "ignored parts of a real file");
        if (n == 1)
                endpoints_free(e, n);
}

int main(void) {
        char tmpl[] = "/tmp/test-pull-store.XXXXXX";
        char *dir = mkdtemp(tmpl);
        if (!dir)
                return 77;
        berth_set_root(dir);
        log_set_max_level(LOG_CRIT); /* the broken-file case logs an error */
        test_store();
        test_registries(dir);
        (void) rm_rf(dir);
        TAP_END();
}
