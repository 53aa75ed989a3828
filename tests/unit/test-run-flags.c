/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-run's further run/create flags (flags.h): parsing and its refusals, --mount's translation, cpuset
 * lists as systemd's bitmasks, and config.json with the limits in config.json (cgroup v1, hybrid hosts) and
 * in the scope (limits_in_scope: pure cgroup v2). */
#include <stdlib.h>

#include "../../cmd/run/flags.c"
#include "../../cmd/run/flagsmount.c"
#include "../../cmd/run/flagsspec.c"
#include "../../cmd/run/options.c"
#include "../../cmd/run/spec.c"
#include "tap.h"

static const char *nth(char **v, size_t i) {
        return strv_length(v) > i ? v[i] : "(none)";
}

static int parse(RunOptions *o, const char *const *args) {
        char *argv[64];
        size_t n = 0;
        argv[n++] = (char *) "run";
        for (; *args && n < ELEMENTSOF(argv) - 2; args++)
                argv[n++] = (char *) *args;
        argv[n++] = (char *) "img";
        argv[n] = NULL;
        *o = (RunOptions){};
        return run_options_parse((int) n, argv, o, true);
}

static void test_parse(void) {
        RunOptions o;
        int r = parse(&o, (const char *const[]){"--device",
                                                "/dev/null:/dev/n:r",
                                                "--sysctl",
                                                "net.core.somaxconn=100",
                                                "--shm-size",
                                                "2m",
                                                "--memory",
                                                "64m",
                                                "--memory-swap",
                                                "128m",
                                                "--memory-reservation",
                                                "32m",
                                                "--cpuset-cpus",
                                                "0",
                                                "--oom-score-adj",
                                                "10",
                                                "--umask",
                                                "027",
                                                "--annotation",
                                                "a=b=c",
                                                "--mount",
                                                "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=700",
                                                "--mount",
                                                "type=volume,src=v,target=/v,ro",
                                                "--expose",
                                                "80-81/udp",
                                                "-P",
                                                "--replace",
                                                "--name",
                                                "x",
                                                NULL});
        CHECK(r == 1, "a good set of flags parses (%d)", r);
        CHECK_STR(nth(o.devices, 0), "/dev/null:/dev/n:r", "--device normalised");
        CHECK(o.shm_size == 2 * 1024 * 1024 && o.memory_swap == 128 * 1024 * 1024 &&
                      o.memory_reservation == 32 * 1024 * 1024 && o.oom_score_adj == 10 && o.umask == 027,
              "sizes, --oom-score-adj, --umask");
        CHECK_STR(nth(o.tmpfs, 0), "/t:rw,size=1m,mode=700", "--mount type=tmpfs is a --tmpfs");
        CHECK_STR(nth(o.volumes, 0), "v:/v:ro", "--mount type=volume is a -v");
        CHECK_STR(nth(o.expose, 1), "81/udp", "--expose ranges are expanded");
        CHECK(strv_contains(o.networks, "bridge"), "-P joins the default network");
        run_options_done(&o);

        static const char *const bad[][3] = {
                {"--device", "/etc/passwd", NULL},
                {"--device", "/dev/null:/dev/n:rwx", NULL},
                {"--device", "relative", NULL},
                {"--device", "/proc/self/fd/0", NULL}, /* a terminal, maybe: its path is no container path */
                {"--device", "/dev/../dev/null", NULL},
                {"--sysctl", "vm.swappiness=1", NULL},
                {"--sysctl", "kernel.hostname=x", NULL},
                {"--sysctl", "net.ipv4.ip_forward", NULL},
                {"--shm-size", "0", NULL},
                {"--memory-swap", "1g", NULL}, /* without --memory */
                {"--cpuset-cpus", "0-", NULL},
                {"--cpuset-mems", "9", NULL},
                {"--oom-score-adj", "-1001", NULL},
                {"--umask", "8", NULL},
                {"--umask", "01000", NULL},
                {"--tz", "../../etc/passwd", NULL},
                {"--tz", "No/Such_Zone", NULL},
                {"--mount", "type=bind,dst=/x", NULL},
                {"--mount", "type=tmpfs,src=/x,dst=/x", NULL},
                {"--mount", "type=bind,src=/tmp,dst=/x,tmpfs-size=1m", NULL},
                {"--mount", "type=volume,src=v,dst=relative", NULL},
                {"--mount", "type=volume,src=../v,dst=/x", NULL},
                {"--expose", "0", NULL},
                {"--annotation", "=x", NULL},
                {"--group-add", "", NULL},
                {"--replace", NULL, NULL}, /* without --name */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                r = parse(&o, bad[i]);
                CHECK(r == BERTH_EXIT_USAGE, "%s %s is refused (%d)", bad[i][0], strna(bad[i][1]), r);
                run_options_done(&o);
        }
        r = parse(&o, (const char *const[]){"--network", "host", "--sysctl", "net.core.somaxconn=1", NULL});
        CHECK(r == BERTH_EXIT_USAGE, "net.* with --network host is refused");
        run_options_done(&o);
        r = parse(&o, (const char *const[]){"--ipc", "host", "--sysctl", "fs.mqueue.msg_max=20", NULL});
        CHECK(r == BERTH_EXIT_USAGE, "fs.mqueue.* with --ipc host is refused");
        run_options_done(&o);
        r = parse(&o, (const char *const[]){"--ipc", "host", "--sysctl", "net.core.somaxconn=1", NULL});
        CHECK(r == 1, "net.* with --ipc host is fine");
        run_options_done(&o);
}

static void test_cpuset(void) {
        _cleanup_free_ uint8_t *m = NULL;
        size_t n = 0;
        CHECK(cpuset_parse("0-2,9", &m, &n) == 0 && n == 2 && m[0] == 0x07 && m[1] == 0x02,
              "0-2,9 is bits 0, 1, 2 and 9");
        static const char *const bad[] = {"", "1-", "-1", ",1", "1,", "1,,2", "a", "3-1", "4096", "1-2-3"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK(cpuset_parse(bad[i], NULL, NULL) < 0, "cpuset '%s' is refused", bad[i]);
}

static json_t *skeleton(void) {
        return json_pack("{s:{s:{}}, s:{s:{s:[]}}, s:[{s:s, s:[s, s]}], s:{}}", "process", "user", "linux",
                         "resources", "devices", "mounts", "destination", "/dev/shm", "options", "nosuid",
                         "size=65536k", "annotations");
}

static void test_spec(void) {
        RunOptions o;
        ContainerUser user = {};
        int r = parse(&o, (const char *const[]){"--device",
                                                "/dev/null:/dev/n:r",
                                                "--sysctl",
                                                "kernel.shmmax=1",
                                                "--shm-size",
                                                "2m",
                                                "--memory",
                                                "64m",
                                                "--memory-swap",
                                                "-1",
                                                "--memory-reservation",
                                                "32m",
                                                "--cpuset-cpus",
                                                "0",
                                                "--cpuset-mems",
                                                "0",
                                                "--oom-score-adj",
                                                "10",
                                                "--umask",
                                                "027",
                                                "--annotation",
                                                "a=b=c",
                                                NULL});
        CHECK(r == 1, "parsed");
        for (int scope = 0; scope <= 1; scope++) {
                SpecInput in = {.o = &o, .user = &user, .limits_in_scope = scope, .localtime_file = "/x/lt"};
                json_auto_t *spec = skeleton();
                _cleanup_free_ char *why = NULL;
                CHECK(spec_apply_flags(&in, spec, &why) == 0, "applied (%s)", strna(why));
                json_t *lx = json_object_get(spec, "linux"), *res = json_object_get(lx, "resources");
                json_t *dev = json_array_get(json_object_get(lx, "devices"), 0);
                CHECK(streq_ptr(json_string_value(json_object_get(dev, "path")), "/dev/n") &&
                              json_integer_value(json_object_get(dev, "major")) == 1 &&
                              json_integer_value(json_object_get(dev, "minor")) == 3,
                      "the device node (scope %d)", scope);
                json_t *rule = json_array_get(json_object_get(res, "devices"), 0);
                CHECK(streq_ptr(json_string_value(json_object_get(rule, "access")), "r") &&
                              json_is_true(json_object_get(rule, "allow")),
                      "its cgroup rule allows r");
                CHECK_STR(json_string_value(json_object_get(json_object_get(lx, "sysctl"), "kernel.shmmax")),
                          "1", "sysctl");
                CHECK_STR(json_string_value(json_array_get(
                                  json_object_get(json_array_get(json_object_get(spec, "mounts"), 0),
                                                  "options"),
                                  1)),
                          "size=2097152", "/dev/shm size");
                CHECK_STR(json_string_value(json_object_get(json_object_get(spec, "annotations"), "a")),
                          "b=c", "annotation");
                json_t *proc = json_object_get(spec, "process");
                CHECK(json_integer_value(json_object_get(json_object_get(proc, "user"), "umask")) == 027 &&
                              json_integer_value(json_object_get(proc, "oomScoreAdj")) == 10,
                      "umask and oomScoreAdj");
                json_t *lt = json_array_get(json_object_get(spec, "mounts"), 1);
                CHECK(streq_ptr(json_string_value(json_object_get(lt, "destination")), "/etc/localtime") &&
                              streq_ptr(json_string_value(json_object_get(lt, "source")), "/x/lt"),
                      "--tz's /etc/localtime");
                json_t *mem = json_object_get(res, "memory"), *cpu = json_object_get(res, "cpu");
                if (scope)
                        CHECK(!mem && !cpu, "limits in the scope: no memory or cpuset in config.json");
                else
                        CHECK(json_integer_value(json_object_get(mem, "swap")) == -1 &&
                                      json_integer_value(json_object_get(mem, "reservation")) ==
                                              32 * 1024 * 1024 &&
                                      streq_ptr(json_string_value(json_object_get(cpu, "cpus")), "0") &&
                                      streq_ptr(json_string_value(json_object_get(cpu, "mems")), "0"),
                              "limits in config.json: memory.swap, reservation, cpu.cpus, mems");
        }
        run_options_done(&o);
}

static void test_ports(void) {
        RunOptions o;
        json_auto_t *icfg = json_pack("{s:{s:{}, s:{}}}", "ExposedPorts", "8080/tcp", "53");
        int r = parse(&o, (const char *const[]){"-P", "--expose", "9000", "-p", "127.0.0.1:1:8080", NULL});
        CHECK(r == 1, "parsed");
        json_auto_t *exp = flags_exposed_ports(&o, icfg), *b = flags_port_bindings(&o, icfg);
        CHECK(json_object_size(exp) == 3 && json_object_get(exp, "53/tcp") &&
                      json_object_get(exp, "9000/tcp") && json_object_get(exp, "8080/tcp"),
              "exposed: the image's (53 as 53/tcp) and --expose's");
        _cleanup_free_ char *text = json_dumps(b, JSON_COMPACT);
        CHECK_STR(text, "[\"127.0.0.1:1:8080\",\"53/tcp\",\"9000/tcp\"]",
                  "-P publishes what -p does not, on free host ports");
        json_auto_t *nob = NULL;
        run_options_done(&o);
        r = parse(&o, (const char *const[]){"--expose", "9000", NULL});
        nob = flags_port_bindings(&o, icfg);
        CHECK(r == 1 && json_array_size(nob) == 0, "--expose alone publishes nothing");
        run_options_done(&o);
}

int main(void) {
        test_parse();
        test_ports();
        test_cpuset();
        test_spec();
        TAP_END();
}
