/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-run's image Volumes: path cleaning, resolution inside the root (hostile '..', absolute symlinks,
 * /proc), what -v and --tmpfs cover, and the copy of the image's content into the volume. The volume store
 * is replaced by a directory of the test's own (volume_create_anonymous below). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../../cmd/run/imagevol.c"
#include "../../cmd/run/safeio.c"
#include "../../cmd/run/spec.c"
#include "tap.h"

static char store[256];
static unsigned n_volumes;

int volume_create_anonymous(char ret_name[static 65], char **ret_path) {
        snprintf(ret_name, 65, "%064u", ++n_volumes);
        if (asprintf(ret_path, "%s/%s", store, ret_name) < 0 || mkdir(*ret_path, 0755) < 0)
                return -errno;
        return 0;
}

static void test_clean(void) {
        static const char *const cases[][2] = {
                {"/../../../etc", "/etc"},
                {"/dev/..", "/"},
                {"//a/./b/", "/a/b"},
                {"/a/../../b", "/b"},
                {"/", "/"},
                {"/a/b/../c/.", "/a/c"},
                {"/..", "/"},
                {"/x/..y/z", "/x/..y/z"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *c = path_clean_abs(cases[i][0]);
                CHECK_STR(c, cases[i][1], cases[i][0]);
                free(c);
        }
        CHECK(path_clean_abs("relative") == NULL, "a relative path is refused");
        CHECK(path_is_forbidden("/") && path_is_forbidden("/proc") && path_is_forbidden("/sys/x") &&
                      path_is_forbidden("/dev/shm") && !path_is_forbidden("/devices") &&
                      !path_is_forbidden("/procfs"),
              "forbidden: /, /proc, /sys, /dev and below only");
}

static json_t *setup(int rootfd, const char *vols_json, ImageVolumeMode mode, json_t *binds, char **tmpfs,
                     int *ret, char **ret_why) {
        json_t *cfg = json_pack("{s:o}", "Volumes", json_loads(vols_json, 0, NULL));
        RunOptions o = {.image_volume = mode, .tmpfs = tmpfs};
        char **created = NULL;
        json_t *b = binds ?: json_array();
        *ret = image_volumes_setup(rootfd, cfg, &o, b, &created, ret_why);
        strv_free(created);
        json_decref(cfg);
        return b;
}

static const char *dst(json_t *binds, size_t i) {
        return json_string_value(json_object_get(json_array_get(binds, i), "Destination"));
}

int main(void) {
        char tmpl[] = "/tmp/test-imagevol-XXXXXX", path[512];
        char *t = mkdtemp(tmpl);
        int r;

        test_clean();
        CHECK(t != NULL, "mkdtemp");
        if (!t)
                TAP_END();
        snprintf(store, sizeof store, "%s/store", t);
        snprintf(path, sizeof path, "%s/outside", t);
        CHECK(mkdir(store, 0700) == 0 && mkdir(path, 0700) == 0, "store and outside dirs");
        snprintf(path, sizeof path, "%s/root", t);
        CHECK(mkdir(path, 0755) == 0, "root");
        int rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        /* the image: /data with content, symlinks to the "host" path t/outside, to /proc, a FIFO */
        snprintf(path, sizeof path, "%s/outside", t);
        CHECK(mkdirat(rootfd, "data", 0750) == 0 && mkdirat(rootfd, "data/sub", 0700) == 0 &&
                      mkdirat(rootfd, "proc", 0755) == 0 &&
                      symlinkat("/etc/passwd", rootfd, "data/link") == 0 &&
                      symlinkat(path, rootfd, "abs") == 0 && symlinkat("/proc/self", rootfd, "pl") == 0 &&
                      symlinkat("../../../..", rootfd, "up") == 0 &&
                      mkfifoat(rootfd, "data/fifo", 0600) == 0,
              "image tree");
        int fd = openat(rootfd, "data/f", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        CHECK(fd >= 0 && write(fd, "from-image\n", 11) == 11, "data/f");
        close(fd);
        fd = openat(rootfd, "data/sub/g", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        close(fd);

        _cleanup_free_ char *why = NULL;
        json_t *b = setup(rootfd, "{\"/data\": {}, \"/abs/x\": {}, \"/../../outside2\": {}, \"/up/y\": {}}",
                          IMAGE_VOLUME_BIND, NULL, NULL, &r, &why);
        CHECK(r == 0, "hostile but confinable volumes are set up (%s)", why ?: "");
        CHECK(json_array_size(b) == 4, "four volumes");
        /* in the order of the cleaned paths: /abs/x, /data, /outside2, /up/y */
        snprintf(path, sizeof path, "%s/outside/x", t);
        const char *want = path;
        CHECK_STR(dst(b, 0), want, "/abs/x resolves inside the root, at the symlink's target");
        CHECK_STR(dst(b, 1), "/data", "/data");
        CHECK_STR(dst(b, 2), "/outside2", "/../../outside2 is cleaned to /outside2");
        CHECK_STR(dst(b, 3), "/y", "/up/y: '..' through a symlink stays at the root");
        struct stat st;
        snprintf(path, sizeof path, "%s/outside/x", t);
        CHECK(stat(path, &st) < 0 && errno == ENOENT, "nothing created on the host through /abs");
        snprintf(path, sizeof path, "%s/outside2", t);
        CHECK(stat(path, &st) < 0 && errno == ENOENT, "nothing created on the host through '..'");
        const char *data = json_string_value(json_object_get(json_array_get(b, 1), "Source"));
        _cleanup_free_ char *content = NULL, *lp = NULL, *fp = NULL, *gp = NULL, *qp = NULL;
        char target[64] = "";
        if (asprintf(&fp, "%s/f", data) >= 0)
                (void) read_full_file(fp, 100, &content, NULL);
        CHECK_STR(content, "from-image\n", "the file is copied");
        if (asprintf(&lp, "%s/link", data) >= 0)
                (void) readlink(lp, target, sizeof target - 1);
        const char *got = target;
        CHECK_STR(got, "/etc/passwd", "the symlink is copied as a link");
        CHECK(asprintf(&gp, "%s/sub/g", data) >= 0 && stat(gp, &st) == 0 && (st.st_mode & 07777) == 0600,
              "subdirectories and modes are copied");
        CHECK(stat(data, &st) == 0 && (st.st_mode & 07777) == 0750,
              "the volume's root takes the image dir's mode");
        CHECK(asprintf(&qp, "%s/fifo", data) >= 0 && lstat(qp, &st) < 0, "FIFOs are left out");
        CHECK(json_is_true(json_object_get(json_array_get(b, 1), "Anonymous")), "marked anonymous");
        json_decref(b);

        why = mfree(why);
        b = setup(rootfd, "{\"/pl/x\": {}}", IMAGE_VOLUME_BIND, NULL, NULL, &r, &why);
        CHECK(r == -EPERM && why && strstr(why, "resolves to '/proc/self/x'"), "a symlink into /proc: %s",
              why ?: "");
        json_decref(b);
        why = mfree(why);
        b = setup(rootfd, "{\"/sys/../proc\": {}}", IMAGE_VOLUME_BIND, NULL, NULL, &r, &why);
        CHECK(r == -EPERM && why && strstr(why, "is '/proc'"), "/sys/../proc: %s", why ?: "");
        json_decref(b);
        why = mfree(why);
        b = setup(rootfd, "{\"relative\": {}}", IMAGE_VOLUME_BIND, NULL, NULL, &r, &why);
        CHECK(r == -EINVAL, "a relative path: %s", why ?: "");
        json_decref(b);

        unsigned before = n_volumes;
        char *tmpfs[] = {(char *) "/other/:size=1m", NULL};
        why = mfree(why);
        b = setup(rootfd, "{\"/data\": {}, \"/other\": {}}", IMAGE_VOLUME_BIND,
                  json_pack("[{s:s}]", "Destination", "/data/"), tmpfs, &r, &why);
        CHECK(r == 0 && json_array_size(b) == 1 && n_volumes == before,
              "-v and --tmpfs destinations are covered");
        json_decref(b);
        b = setup(rootfd, "{\"/data\": {}}", IMAGE_VOLUME_TMPFS, NULL, NULL, &r, &why);
        CHECK(r == 0 &&
                      streq_ptr(json_string_value(json_object_get(json_array_get(b, 0), "Type")), "tmpfs") &&
                      n_volumes == before,
              "--image-volume tmpfs");
        json_decref(b);
        b = setup(rootfd, "{\"/proc\": {}}", IMAGE_VOLUME_IGNORE, NULL, NULL, &r, &why);
        CHECK(r == 0 && json_array_size(b) == 0, "--image-volume ignore looks at nothing");
        json_decref(b);

        close(rootfd);
        (void) rm_rf(t);
        TAP_END();
}
