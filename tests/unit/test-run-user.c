/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-run's pure parts: USER parsing and resolution against passwd/group text, RESOLVE_IN_ROOT helpers,
 * container paths, env merging, capabilities. The unit tests link lib/ only, so the files under test are
 * compiled in here (they have no main()). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../../cmd/run/safeio.c"
#include "../../cmd/run/spec.c"
#include "../../cmd/run/user.c"
#include "tap.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "# a comment\n"
                             "web:x:1234:2345:web:/home/web:/bin/sh\n"
                             "1000:x:77:77:a name that looks numeric:/n:/bin/sh\n"
                             "broken:x:notanumber:1::/:/bin/sh\n"
                             "short:x:5\n";
static const char group[] = "root:x:0:\nwebgrp:x:2345:\nextra:x:3456:web,other\nmore:x:4567:other,web\n";

static void test_parse_id(void) {
        uint32_t v = 99;
        CHECK(parse_id("0", &v) == 0 && v == 0, "parse_id 0");
        CHECK(parse_id("2147483647", &v) == 0 && v == 2147483647U, "parse_id 2^31-1");
        CHECK(parse_id("2147483648", &v) == -ERANGE, "parse_id 2^31 is out of range (CVE-2024-40635)");
        CHECK(parse_id("4294967296", &v) == -ERANGE, "parse_id 2^32 is out of range");
        CHECK(parse_id("99999999999999999999999", &v) == -ERANGE, "parse_id overflow");
        CHECK(parse_id("-1", &v) == -EINVAL, "parse_id -1");
        CHECK(parse_id("0x0", &v) == -EINVAL, "parse_id 0x0");
        CHECK(parse_id(" 1", &v) == -EINVAL && parse_id("1 ", &v) == -EINVAL, "parse_id spaces");
        CHECK(parse_id("", &v) == -EINVAL, "parse_id empty");
}

static void test_resolve(void) {
        ContainerUser u = {};
        CHECK(user_resolve_text("web", passwd, group, &u) == 0 && u.uid == 1234 && u.gid == 2345,
              "name -> ids");
        CHECK(u.n_additional_gids == 2 && u.additional_gids[0] == 3456 && u.additional_gids[1] == 4567,
              "supplementary groups from group members (CVE-2023-25173)");
        CHECK_STR(u.home, "/home/web", "home");
        container_user_done(&u);
        CHECK(user_resolve_text("1000", passwd, group, &u) == 0 && u.uid == 1000 && u.gid == 0,
              "a number is a uid, never the name '1000' (CVE-2026-46680)");
        container_user_done(&u);
        CHECK(user_resolve_text("1234", passwd, group, &u) == 0 && u.uid == 1234 && u.gid == 2345,
              "a known uid takes its passwd gid");
        container_user_done(&u);
        CHECK(user_resolve_text("web:extra", passwd, group, &u) == 0 && u.gid == 3456, "group by name");
        container_user_done(&u);
        CHECK(user_resolve_text("5:6", NULL, NULL, &u) == 0 && u.uid == 5 && u.gid == 6,
              "numbers need no files");
        container_user_done(&u);
        CHECK(user_resolve_text("", passwd, group, &u) == 0 && u.uid == 0 && u.gid == 0, "empty is root");
        container_user_done(&u);
        CHECK(user_resolve_text("nobody", passwd, group, &u) == -ESRCH, "unknown name");
        CHECK(user_resolve_text("broken", passwd, group, &u) == -ESRCH,
              "an entry with a bad uid is skipped");
        CHECK(user_resolve_text("short", passwd, group, &u) == -ESRCH, "a short entry is skipped");
        CHECK(user_resolve_text("web:nogroup", passwd, group, &u) == -ESRCH, "unknown group");
        CHECK(user_resolve_text("4294967296", passwd, group, &u) == -ERANGE, "uid 2^32");
        CHECK(user_resolve_text("99999999999:0", passwd, group, &u) == -ERANGE, "huge uid with gid");
        CHECK(user_resolve_text("1:4294967296", passwd, group, &u) == -ERANGE, "huge gid");
        CHECK(user_resolve_text("-1", passwd, group, &u) == -EINVAL, "-1");
        CHECK(user_resolve_text("1:", passwd, group, &u) == -EINVAL, "empty group");
        CHECK(user_resolve_text(":1", passwd, group, &u) == -EINVAL, "empty user with a group");
}

static void test_root(void) {
        char tmpl[] = "/tmp/test-run-XXXXXX";
        char *d = mkdtemp(tmpl);
        char p[256];
        int root, fd, r;
        char *buf = NULL;

        CHECK(d != NULL, "mkdtemp");
        if (!d)
                return;
        snprintf(p, sizeof p, "%s/etc", d);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/etc/passwd", d);
        symlinkat("/etc/shadow", AT_FDCWD, p); /* resolves inside the root: ENOENT, never the host's */
        snprintf(p, sizeof p, "%s/etc/group", d);
        mkfifo(p, 0600);
        snprintf(p, sizeof p, "%s/out", d);
        symlinkat("../../../../../../tmp", AT_FDCWD, p);
        root = open(d, O_PATH | O_DIRECTORY | O_CLOEXEC);

        CHECK(root_read_file(root, "/etc/passwd", 1024, &buf) == -ENOENT,
              "absolute symlink stays in the root");
        CHECK(root_read_file(root, "/etc/group", 1024, &buf) == -EBADFD,
              "a FIFO is refused without blocking");
        r = root_mkdir_p(root, "/out/sub/dir", 0755, &fd);
        CHECK(r == 0, "mkdir -p through a symlink that climbs out (r=%d)", r);
        snprintf(p, sizeof p, "%s/tmp/sub/dir", d);
        CHECK(access(p, F_OK) == 0, "created inside the root at the symlink's target");
        if (r == 0)
                close(fd);
        CHECK(root_mkdir_p(root, "/../../x", 0755, NULL) == 0, "'..' is clamped at the root");
        snprintf(p, sizeof p, "%s/x", d);
        CHECK(access(p, F_OK) == 0, "... and /../../x is created inside it");
        snprintf(p, sizeof p, "%s/dev", d);
        symlinkat("/tmp", AT_FDCWD, p);
        CHECK(root_replace_symlink_with_dir(root, "dev") == 1, "/dev symlink replaced");
        struct stat st;
        CHECK(fstatat(root, "dev", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode),
              "/dev is a directory");
        snprintf(p, sizeof p, "%s/etc/resolv.conf", d);
        symlinkat("/etc/shadow", AT_FDCWD, p);
        CHECK(root_ensure_regular_file(root, "/etc/resolv.conf") == 1, "resolv.conf symlink replaced");
        CHECK(fstatat(root, "etc/resolv.conf", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode),
              "resolv.conf is a regular file");
        close(root);
        free(buf);
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
        (void) !system(cmd);
}

static void test_spec(void) {
        CHECK(spec_path_is_safe("/data") && spec_path_is_safe("/a/b..c") && spec_path_is_safe("/a/..b"),
              "safe paths");
        CHECK(!spec_path_is_safe("/a/../etc") && !spec_path_is_safe("/..") &&
                      !spec_path_is_safe("relative") && !spec_path_is_safe("/proc/self/fd/7") &&
                      !spec_path_is_safe("/sys") && !spec_path_is_safe(""),
              "unsafe paths");

        RunOptions o = {};
        char **caps = NULL;
        const char *bad = NULL;
        char *drop[] = {(char *) "ALL", NULL},
             *add[] = {(char *) "net_admin", (char *) "CAP_SYS_TIME", NULL};
        o.cap_drop = drop;
        o.cap_add = add;
        CHECK(spec_capabilities(&o, &caps, &bad) == 0 && strv_length(caps) == 2 &&
                      strv_contains(caps, "CAP_NET_ADMIN") && strv_contains(caps, "CAP_SYS_TIME"),
              "--cap-drop ALL --cap-add ...");
        strv_free(caps);
        char *bogus[] = {(char *) "CAP_NOPE", NULL};
        o.cap_add = bogus;
        CHECK(spec_capabilities(&o, &caps, &bad) == -EINVAL && bad && strcmp(bad, "CAP_NOPE") == 0,
              "unknown capability named");

        RunOptions e = {};
        char *env[] = {(char *) "A=override", (char *) "NEW=1", NULL};
        e.env = env;
        json_t *icfg = json_pack("{s:[s, s, s]}", "Env", "A=image", "PATH=/bin", "noequals");
        char **out = NULL;
        CHECK(spec_process_env(&e, icfg, "h", "/home/x", &out) == 0, "env merges");
        _cleanup_free_ char *joined = strv_join(out, ",");
        CHECK_STR(joined, "A=override,PATH=/bin,HOSTNAME=h,NEW=1,HOME=/home/x", "env order and overrides");
        strv_free(out);
        json_decref(icfg);
}

int main(void) {
        test_parse_id();
        test_resolve();
        test_root();
        test_spec();
        TAP_END();
}
