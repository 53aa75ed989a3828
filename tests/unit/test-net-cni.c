/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of berth-net's plugin lists (cmd/net/cni.c): a plugin with nothing to do is not executed, and
 * DEL and CHECK run exactly the plugins that ran ADD. The plugins are shell scripts that log their command.
 * Also the process scan of cmd/net/netns.c. Unit tests link lib/ only, so the sources are compiled in here.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "../../cmd/net/cni.c"
#include "../../cmd/net/link.c"
#include "../../cmd/net/netns.c"
#include "tap.h"

static char dir[] = "/tmp/berth-test-net-cni.XXXXXX";

static bool noop(const char *conf) {
        json_auto_t *j = json_loads(conf, 0, NULL);
        return j && cni_plugin_is_noop(j);
}

static int write_plugin(const char *name) {
        _cleanup_free_ char *p = path_join(dir, name), *text = NULL;
        if (!p ||
            asprintf(&text,
                     "#!/bin/sh\n"
                     "cat >/dev/null\n"
                     "echo \"%s $CNI_COMMAND\" >>%s/log\n"
                     "[ \"$CNI_COMMAND\" = ADD ] && echo '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":"
                     "\"10.0.0.2/24\"}]}'\n"
                     "exit 0\n",
                     name, dir) < 0)
                return -ENOMEM;
        return write_file_atomic(p, text, strlen(text), 0755);
}

/* the log since the last call, one line per execution, joined by spaces */
static char *log_take(void) {
        static char buf[256];
        _cleanup_free_ char *p = path_join(dir, "log"), *text = NULL;
        size_t len = 0;
        buf[0] = 0;
        if (p && read_full_file_at(AT_FDCWD, p, READ_MAX_DEFAULT, &text, &len) >= 0) {
                for (char *c = text; *c; c++)
                        if (*c == '\n')
                                *c = c[1] ? ' ' : 0;
                snprintf(buf, sizeof buf, "%s", text);
        }
        if (p)
                (void) unlink(p);
        return buf;
}

/* CHECK_STR evaluates its arguments more than once; the log is taken once */
#define CHECK_LOG(expected, what)              \
        do {                                   \
                const char *_l = log_take();   \
                CHECK_STR(_l, expected, what); \
        } while (0)

static char *added_str(json_t *a) {
        static char buf[64];
        _cleanup_free_ char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
        snprintf(buf, sizeof buf, "%s", s ?: "(null)");
        return buf;
}

int main(void) {
        /* this process is in its own namespace; a namespace nobody is in: a bare file's inode matches none
         */
        CHECK(netns_has_processes("/proc/self/ns/net") == 1, "a process is in our network namespace");
        CHECK(netns_has_processes("/proc/self/exe") == 0, "no process is in a namespace that is not one");
        CHECK(netns_has_processes("/nonexistent") == -ENOENT, "a missing path is an error");

        CHECK(noop("{\"type\":\"portmap\"}"), "portmap without runtimeConfig has nothing to do");
        CHECK(noop("{\"type\":\"portmap\",\"runtimeConfig\":{\"portMappings\":[]}}"),
              "nor with no mappings");
        CHECK(!noop("{\"type\":\"portmap\",\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":8080,"
                    "\"containerPort\":80,\"protocol\":\"tcp\"}]}}"),
              "portmap with a mapping runs");
        CHECK(!noop("{\"type\":\"bridge\"}"), "bridge always runs");
        CHECK(!noop("{\"type\":\"firewall\"}"), "unknown plugins always run");

        if (!mkdtemp(dir) || write_plugin("first") < 0 || write_plugin("portmap") < 0) {
                printf("Bail out! cannot set up %s\n", dir);
                return 1;
        }
        json_auto_t *conflist =
                json_loads("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"first\"},"
                           "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}}]}",
                           0, NULL);
        json_auto_t *none = json_object();
        json_auto_t *ports = json_loads(
                "{\"portMappings\":[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\"}]}", 0,
                NULL);
        CniRun run = {.container_id = "c", .netns = "", .ifname = "eth0", .cni_path = dir};
        json_auto_t *res = NULL, *added = NULL;

        run.runtime_config = none;
        CHECK(cni_add_list(conflist, &run, &res, &added) == 0, "ADD without ports");
        CHECK_LOG("first ADD", "portmap not executed");
        CHECK_STR(added_str(added), "[0]", "added");
        CHECK_STR(json_string_value(
                          json_object_get(json_array_get(json_object_get(res, "ips"), 0), "address")),
                  "10.0.0.2/24", "the result passes the skipped plugin unchanged");
        CHECK(cni_check_list(conflist, &run, res, added) == 0, "CHECK");
        CHECK_LOG("first CHECK", "CHECK runs what ADD ran");
        CHECK(cni_del_list(conflist, &run, res, added) == 0, "DEL");
        CHECK_LOG("first DEL", "DEL runs what ADD ran");
        CHECK(cni_del_list(conflist, &run, res, NULL) == 0, "DEL unrecorded");
        CHECK_LOG("first DEL", "DEL without a record skips what has nothing to do");

        json_decref(res);
        json_decref(added);
        res = added = NULL;
        run.runtime_config = ports;
        CHECK(cni_add_list(conflist, &run, &res, &added) == 0, "ADD with a port");
        CHECK_LOG("first ADD portmap ADD", "portmap executed");
        CHECK_STR(added_str(added), "[0,1]", "added");
        CHECK(cni_del_list(conflist, &run, res, added) == 0, "DEL");
        CHECK_LOG("portmap DEL first DEL", "DEL in reverse order");
        /* DEL follows the record, not the runtime config: a plugin that did not run ADD does not run DEL */
        json_auto_t *only_first = json_pack("[i]", 0);
        CHECK(cni_del_list(conflist, &run, res, only_first) == 0, "DEL of a recorded subset");
        CHECK_LOG("first DEL", "only the recorded plugins");

        _cleanup_free_ char *first = path_join(dir, "first"), *pm = path_join(dir, "portmap");
        if (first)
                (void) unlink(first);
        if (pm)
                (void) unlink(pm);
        (void) rmdir(dir);
        TAP_END();
}
