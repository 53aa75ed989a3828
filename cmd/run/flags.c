/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* run/create flags, podman's names and meanings (flags.h): parsing and checks. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fileio.h"
#include "flags.h"
#include "log.h"
#include "main-func.h"
#include "paths.h"

#define ZONEINFO "/usr/share/zoneinfo"

void run_flags_free(RunOptions *o) {
        strv_free(o->devices);
        strv_free(o->sysctls);
        strv_free(o->group_add);
        strv_free(o->expose);
        strv_free(o->annotations);
        strv_free(o->mounts);
        strv_free(o->anon_volumes);
}

static int parse_uint(const char *s, unsigned *ret) {
        uint64_t v;
        if (safe_atou64(s, &v) < 0 || v > UINT_MAX)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int cpuset_parse(const char *s, uint8_t **ret, size_t *ret_n) {
        _cleanup_free_ char *copy = strdup(s);
        _cleanup_free_ uint8_t *mask = NULL;
        size_t n = 0;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        if (isempty(s) || s[strlen(s) - 1] == ',' || s[0] == ',' || strstr(s, ",,"))
                return -EINVAL;
        for (char *x = strtok_r(copy, ",", &save); x; x = strtok_r(NULL, ",", &save)) {
                char *dash = strchr(x, '-');
                unsigned lo, hi;
                if (dash)
                        *dash = 0;
                if (parse_uint(x, &lo) < 0 || (dash ? parse_uint(dash + 1, &hi) : (hi = lo, 0)) < 0 ||
                    lo > hi || hi > 4095 || !isdigit((unsigned char) x[0]) ||
                    (dash && !isdigit((unsigned char) dash[1])))
                        return -EINVAL;
                if (hi / 8 + 1 > n) {
                        uint8_t *m = realloc(mask, hi / 8 + 1);
                        if (!m)
                                return -ENOMEM;
                        memset(m + n, 0, hi / 8 + 1 - n);
                        mask = m;
                        n = hi / 8 + 1;
                }
                for (unsigned i = lo; i <= hi; i++)
                        mask[i / 8] |= (uint8_t) (1U << (i % 8));
        }
        if (ret) {
                *ret = TAKE_PTR(mask);
                *ret_n = n;
        }
        return 0;
}

/* Every CPU (or NUMA node) in the list exists here: the runtime would fail later, and less clearly. */
static bool cpuset_exists(const char *s, bool mems) {
        _cleanup_free_ uint8_t *mask = NULL;
        size_t n = 0;
        long ncpu = sysconf(_SC_NPROCESSORS_CONF);
        if (cpuset_parse(s, &mask, &n) < 0)
                return false;
        for (size_t i = 0; i < n * 8; i++) {
                if (!(mask[i / 8] & (1U << (i % 8))))
                        continue;
                char p[64];
                snprintf(p, sizeof p, "/sys/devices/system/node/node%zu", i);
                if (mems ? (i > 0 && access(p, F_OK) < 0) : (ncpu > 0 && (long) i >= ncpu))
                        return false;
        }
        return true;
}

static bool perms_valid(const char *p) {
        if (isempty(p) || strlen(p) > 3)
                return false;
        for (const char *c = p; *c; c++)
                if (!strchr("rwm", *c) || strchr(c + 1, *c))
                        return false;
        return true;
}

/* HOST[:CONTAINER][:PERMS] as docker splits it, stored as HOST:CONTAINER:PERMS. */
static int parse_device(const char *arg, RunOptions *o) {
        _cleanup_free_ char *copy = strdup(arg), *norm = NULL;
        struct stat st;
        if (!copy)
                return log_oom();
        char *host = copy, *ctr = strchr(copy, ':'), *perms = NULL;
        if (ctr) {
                *ctr++ = 0;
                perms = strchr(ctr, ':');
                if (perms)
                        *perms++ = 0;
                else if (ctr[0] != '/') {
                        perms = ctr;
                        ctr = NULL;
                }
        }
        if (host[0] != '/')
                return cli_usage_error("Invalid --device '%s': the host path must be absolute", arg);
        /* the container path (the host's by default) is made inside the root: no '..', not in /proc or /sys
         */
        if (!spec_path_is_safe(ctr ?: host) || streq(ctr ?: host, "/"))
                return cli_usage_error("Invalid --device '%s': bad container path '%s'", arg, ctr ?: host);
        if (perms && !perms_valid(perms))
                return cli_usage_error("Invalid --device '%s': permissions '%s' are not a subset of rwm",
                                       arg, perms);
        if (stat(host, &st) < 0)
                return cli_usage_error("Invalid --device '%s': %s: %s", arg, host, strerror(errno));
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                return cli_usage_error("Invalid --device '%s': %s is not a character or block device", arg,
                                       host);
        if (asprintf(&norm, "%s:%s:%s", host, ctr ?: host, perms ?: "rwm") < 0)
                return log_oom();
        return strv_push(&o->devices, TAKE_PTR(norm)) < 0 ? log_oom() : 1;
}

static const char *const ipc_sysctls[] = {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",          "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shm_rmid_forced", "kernel.shmmni",
};

static int parse_sysctl(const char *arg, RunOptions *o) {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg || isempty(eq + 1) || strpbrk(eq + 1, "\n"))
                return cli_usage_error("Invalid --sysctl '%s': expected KEY=VALUE", arg);
        for (const char *c = arg; c < eq; c++)
                if (!isalnum((unsigned char) *c) && !strchr("._-", *c))
                        return cli_usage_error("Invalid --sysctl '%s': bad key", arg);
        return strv_extend(&o->sysctls, arg) < 0 ? log_oom() : 1;
}

/* podman's (and runc's) rule: only sysctls of a namespace the container has its own of. */
static int check_sysctl(const RunOptions *o, const char *kv) {
        size_t klen = strcspn(kv, "=");
        bool ipc = startswith(kv, "fs.mqueue.");
        for (size_t i = 0; !ipc && i < ELEMENTSOF(ipc_sysctls); i++)
                ipc = strlen(ipc_sysctls[i]) == klen && strneq(kv, ipc_sysctls[i], klen);
        if (ipc && streq_ptr(o->ipc, "host"))
                return cli_usage_error("Invalid --sysctl '%s': IPC sysctls need the container's own IPC "
                                       "namespace, not --ipc host",
                                       kv);
        if (startswith(kv, "net.") && strv_contains(o->networks, "host"))
                return cli_usage_error("Invalid --sysctl '%s': net.* sysctls need the container's own "
                                       "network namespace, not --network host",
                                       kv);
        if (!ipc && !startswith(kv, "net."))
                return cli_usage_error("Invalid --sysctl '%s': not a namespaced sysctl (allowed: net.*, "
                                       "fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*)",
                                       kv);
        return 0;
}

/* PORT[-PORT][/tcp|udp|sctp], expanded into PORT/PROTO entries */
static int parse_expose(const char *arg, RunOptions *o) {
        _cleanup_free_ char *copy = strdup(arg);
        unsigned lo, hi;
        if (!copy)
                return log_oom();
        char *proto = strchr(copy, '/'), *dash;
        if (proto)
                *proto++ = 0;
        if ((dash = strchr(copy, '-')))
                *dash++ = 0;
        if ((proto && !streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp")) ||
            parse_uint(copy, &lo) < 0 || parse_uint(dash ?: copy, &hi) < 0 || lo < 1 || hi > 65535 ||
            lo > hi || hi - lo >= 1000)
                return cli_usage_error("Invalid --expose '%s': PORT[-PORT][/tcp|udp|sctp]", arg);
        for (unsigned p = lo; p <= hi; p++) {
                char buf[32];
                snprintf(buf, sizeof buf, "%u/%s", p, proto ?: "tcp");
                if (!strv_contains(o->expose, buf) && strv_extend(&o->expose, buf) < 0)
                        return log_oom();
        }
        return 1;
}

static int parse_label_file(const char *path, RunOptions *o) {
        _cleanup_strv_free_ char **lines = NULL;
        const char *bad = NULL;
        int r = read_kv_lines(path, &lines, &bad);
        if (r < 0)
                return cli_usage_error("Invalid --label-file '%s': %s", path,
                                       r == -EFBIG     ? "larger than 1 MiB"
                                       : r == -EBADMSG ? "a line starts with '='"
                                                       : strerror(-r));
        for (size_t i = 0; lines && lines[i]; i++) {
                char *kv = NULL;
                if (asprintf(&kv, "%s%s", lines[i], strchr(lines[i], '=') ? "" : "=") < 0 ||
                    strv_push(&o->labels, kv) < 0)
                        return log_oom();
        }
        return 1;
}

static int parse_tz(const char *arg, RunOptions *o) {
        char real[PATH_MAX];
        struct stat st;
        if (streq(arg, "local")) {
                if (stat("/etc/localtime", &st) < 0 || !S_ISREG(st.st_mode))
                        return cli_usage_error("Invalid --tz 'local': the host has no /etc/localtime");
        } else {
                _cleanup_free_ char *p = path_join(ZONEINFO, arg);
                if (!p)
                        return log_oom();
                if (isempty(arg) || arg[0] == '/' || strstr(arg, "..") || !realpath(p, real) ||
                    !startswith(real, ZONEINFO "/") || stat(real, &st) < 0 || !S_ISREG(st.st_mode))
                        return cli_usage_error("Invalid --tz '%s': no such time zone in " ZONEINFO, arg);
        }
        o->tz = (char *) arg;
        return 1;
}

void run_flags_help(void) {
        fputs("     --replace             Remove a container of the same --name first (stopping it)\n"
              "     --cidfile FILE        Write the container ID to FILE (which must not exist)\n"
              "     --mount SPEC          type=bind|volume|tmpfs,source=..,target=..[,readonly][,...]\n"
              "     --device HOST[:CTR][:PERMS]  Add a host device (PERMS: of rwm)\n"
              "     --sysctl K=V          A namespaced sysctl (net.*, kernel.msg*/sem/shm*, fs.mqueue.*)\n"
              "     --shm-size SIZE       Size of /dev/shm (default 64m)\n"
              "     --group-add GROUP     An extra group, by gid or by name in the image\n"
              "     --no-hosts            Leave the image's /etc/hosts alone\n"
              "     --memory-swap SIZE    Memory plus swap limit (-1: unlimited)\n"
              "     --memory-reservation SIZE  Memory soft limit (MemoryLow)\n"
              "     --cpuset-cpus LIST    CPUs the container may use (AllowedCPUs)\n"
              "     --cpuset-mems LIST    Memory nodes the container may use (AllowedMemoryNodes)\n"
              "     --oom-score-adj N     The OOM score adjustment, -1000..1000\n"
              "  -P --publish-all         Publish every exposed port on a free host port\n"
              "     --expose PORT[/PROTO] Expose a port (or a range) without publishing it\n"
              "     --label-file FILE     Read K=V labels from FILE\n"
              "     --annotation K=V      Set an OCI annotation\n"
              "     --tz ZONE             Time zone of the container (local: the host's)\n"
              "     --umask MASK          The umask of the container's process (default "
              "0022)\n",
              stdout);
}

int run_flags_parse(int c, const char *arg, RunOptions *o) {
        uint64_t u;
        int i;

        switch (c) {
        case ARG_REPLACE:
                o->replace = true;
                return 1;
        case ARG_CIDFILE:
                if (isempty(arg))
                        return cli_usage_error("Invalid --cidfile ''");
                o->cidfile = (char *) arg;
                return 1;
        case ARG_MOUNT:
                return mount_parse(arg, o);
        case ARG_DEVICE:
                return parse_device(arg, o);
        case ARG_SYSCTL:
                return parse_sysctl(arg, o);
        case ARG_SHM_SIZE:
                if (parse_size(arg, &o->shm_size) < 0 || o->shm_size == 0)
                        return cli_usage_error("Invalid --shm-size '%s': a size greater than 0", arg);
                return 1;
        case ARG_GROUP_ADD:
                if (!name_is_valid(arg, 64))
                        return cli_usage_error("Invalid --group-add '%s': a gid or a group name", arg);
                return strv_extend(&o->group_add, arg) < 0 ? log_oom() : 1;
        case ARG_NO_HOSTS:
                o->no_hosts = true;
                return 1;
        case ARG_MEMORY_SWAP:
                if (streq(arg, "-1"))
                        o->memory_swap = -1;
                else if (parse_size(arg, &u) < 0 || u == 0 || u > INT64_MAX)
                        return cli_usage_error("Invalid --memory-swap '%s': a size, or -1 for unlimited",
                                               arg);
                else
                        o->memory_swap = (int64_t) u;
                o->memory_swap_arg = arg;
                return 1;
        case ARG_MEMORY_RESERVATION:
                if (parse_size(arg, &o->memory_reservation) < 0 || o->memory_reservation == 0)
                        return cli_usage_error("Invalid --memory-reservation '%s': a size", arg);
                o->memory_reservation_arg = arg;
                return 1;
        case ARG_CPUSET_CPUS:
        case ARG_CPUSET_MEMS: {
                bool mems = c == ARG_CPUSET_MEMS;
                if (!cpuset_exists(arg, mems))
                        return cli_usage_error(
                                "Invalid --cpuset-%s '%s': a list like 0-2,4 of %s this host has",
                                mems ? "mems" : "cpus", arg, mems ? "memory nodes" : "CPUs");
                *(mems ? &o->cpuset_mems : &o->cpuset_cpus) = (char *) arg;
                return 1;
        }
        case ARG_OOM_SCORE_ADJ:
                if (safe_atoi(arg, &i) < 0 || i < -1000 || i > 1000)
                        return cli_usage_error("Invalid --oom-score-adj '%s': -1000..1000", arg);
                o->oom_score_adj = i;
                o->oom_score_adj_set = true;
                return 1;
        case 'P':
                o->publish_all = true;
                return 1;
        case ARG_EXPOSE:
                return parse_expose(arg, o);
        case ARG_LABEL_FILE:
                return parse_label_file(arg, o);
        case ARG_ANNOTATION:
                if (!strchr(arg, '=') || arg[0] == '=')
                        return cli_usage_error("Invalid --annotation '%s': expected KEY=VALUE", arg);
                return strv_extend(&o->annotations, arg) < 0 ? log_oom() : 1;
        case ARG_TZ:
                return parse_tz(arg, o);
        case ARG_UMASK: {
                char *end;
                errno = 0;
                unsigned long m = strtoul(arg, &end, 8);
                if (errno || isempty(arg) || *end || m > 0777 || arg[0] == '-')
                        return cli_usage_error("Invalid --umask '%s': an octal mask, 0000..0777", arg);
                o->umask = (unsigned) m;
                o->umask_set = true;
                return 1;
        }
        default:
                return 0;
        }
}

int run_flags_check_memory(const RunOptions *o) {
        if (o->memory_swap > 0 && o->memory == 0)
                return cli_usage_error("Invalid --memory-swap '%s': it needs --memory",
                                       strna(o->memory_swap_arg));
        if (o->memory_swap > 0 && (uint64_t) o->memory_swap < o->memory)
                return cli_usage_error("Invalid --memory-swap '%s': less than --memory",
                                       strna(o->memory_swap_arg));
        if (o->memory_reservation && o->memory && o->memory_reservation > o->memory)
                return cli_usage_error("Invalid --memory-reservation '%s': more than --memory",
                                       strna(o->memory_reservation_arg));
        return 0;
}

int run_flags_finish(RunOptions *o) {
        struct stat st;
        int r;

        if (o->replace && !o->name)
                return cli_usage_error("--replace needs --name");
        if (o->no_hosts && o->add_hosts)
                return cli_usage_error("--no-hosts and --add-host cannot be used together");
        r = run_flags_check_memory(o);
        if (r < 0)
                return r;
        for (size_t i = 0; o->sysctls && o->sysctls[i]; i++) {
                r = check_sysctl(o, o->sysctls[i]);
                if (r < 0)
                        return r;
        }
        /* docker refuses to overwrite a container ID file: another container may still be running with it */
        if (o->cidfile && lstat(o->cidfile, &st) == 0)
                return cli_usage_error("Invalid --cidfile '%s': the file exists", o->cidfile);
        /* -P: like -p, on the default network unless --network says otherwise */
        if (o->publish_all && !o->networks && strv_extend(&o->networks, "bridge") < 0)
                return log_oom();
        if (o->publish_all && strv_contains(o->networks, "none"))
                return cli_usage_error("-P needs a network: --network none has none");
        if (o->publish_all && strv_contains(o->networks, "host") && !o->publish) {
                log_warning("Published ports are discarded with --network host");
                o->publish_all = false;
        }
        return 0;
}
