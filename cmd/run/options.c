/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "fileio.h"
#include "flags.h"
#include "log.h"
#include "main-func.h"
#include "options.h"
#include "paths.h"
#include "rename.h"

void run_options_done(RunOptions *o) {
        strv_free(o->cmd);
        strv_free(o->env);
        strv_free(o->volumes);
        strv_free(o->tmpfs);
        strv_free(o->cap_add);
        strv_free(o->cap_drop);
        strv_free(o->labels);
        strv_free(o->ulimits);
        strv_free(o->networks);
        strv_free(o->aliases);
        strv_free(o->publish);
        strv_free(o->dns);
        strv_free(o->dns_search);
        strv_free(o->dns_options);
        strv_free(o->add_hosts);
        free(o->seccomp_file);
        run_flags_free(o);
        *o = (RunOptions){};
}

void run_help(const char *verb) {
        printf("Usage: berth-run %s [OPTIONS] IMAGE [COMMAND [ARG...]]\n\n"
               "%s a container from IMAGE.\n\n"
               "Options:\n"
               "  -d --detach              Run in the background and print the container ID\n"
               "     --rm                  Remove the container when it exits\n"
               "     --name NAME           Name of the container (and of its scope berth-NAME.scope)\n"
               "  -i --interactive         Keep stdin open\n"
               "  -t --tty                 Allocate a pseudo-terminal\n"
               "  -e --env K=V             Set an environment variable (K alone takes it from here)\n"
               "     --env-file FILE       Read K=V lines from FILE\n"
               "  -v --volume SRC:DST[:OPT] Bind-mount a host path or a named volume (OPT: ro, nocopy,\n"
               "                           rslave...); DST alone: an anonymous volume\n"
               "     --tmpfs DST[:OPTS]    Mount a tmpfs\n"
               "     --image-volume MODE   The image's volumes: bind (default, anonymous volumes), tmpfs\n"
               "                           or ignore\n"
               "  -w --workdir DIR         Working directory inside the container\n"
               "  -u --user USER[:GROUP]   User, by name or number, resolved in the image\n"
               "     --entrypoint CMD      Override the image's entrypoint\n"
               "     --hostname NAME       Hostname of the container\n"
               "     --read-only           Mount the root filesystem read-only\n"
               "     --cap-add CAP         Add a capability (or ALL)\n"
               "     --cap-drop CAP        Drop a capability (or ALL)\n"
               "     --privileged          All capabilities, all devices, no seccomp, no masked paths\n"
               "     --security-opt OPT    seccomp=FILE|unconfined, no-new-privileges\n"
               "     --memory SIZE         Memory limit (MemoryMax)\n"
               "     --cpus N              CPU limit (CPUQuota)\n"
               "     --cpu-shares N        CPU shares (CPUWeight)\n"
               "     --pids-limit N        Task limit (TasksMax)\n"
               "     --ulimit NAME=S[:H]   Resource limit\n"
               "     --ipc MODE            host, private or container:NAME\n"
               "     --pid MODE            host, private or container:NAME\n"
               "     --network NAME        none (default), host, or berth-net networks (repeatable)\n"
               "     --ip IP, --ip6 IP     Static addresses (berth-net networks)\n"
               "     --network-alias NAME  DNS alias (repeatable)\n"
               "     --mac-address MAC     Static MAC address (first berth-net network)\n"
               "     --dns IP              DNS server for /etc/resolv.conf (repeatable)\n"
               "     --dns-search DOMAIN   DNS search domain (repeatable; . for none)\n"
               "     --dns-option OPT      resolv.conf option (repeatable)\n"
               "     --add-host HOST:IP    Add a line to /etc/hosts (repeatable)\n"
               "  -p --publish SPEC       Publish a port: [HOSTIP:][HOSTPORT:]PORT[/PROTO] (joins the "
               "default\n"
               "                          network without --network)\n"
               "     --label K=V           Set a label\n"
               "     --stop-signal SIG     Signal that stops the container\n"
               "     --stop-timeout SECS   Seconds to wait before SIGKILL on stop\n"
               "     --init                Run an init (catatonit) as PID 1\n"
               "     --restart POLICY      no, on-failure[:N], always, unless-stopped\n"
               "     --sdnotify MODE       container, conmon, healthy or ignore\n"
               "     --health-cmd CMD      Health check, run with sh -c in the container\n"
               "     --health-interval D   Time between checks (default 30s)\n"
               "     --health-retries N    Failures in a row that make it unhealthy (default 3)\n"
               "     --health-start-period D  Failures during this time do not count\n"
               "     --health-timeout D    Time a check may take (default 30s)\n"
               "     --no-healthcheck      Ignore the image's health check\n"
               "     --pull POLICY         missing (default), always or never\n"
               "     --tls-verify BOOL     Passed to berth-pull\n"
               "     --runtime PATH        OCI runtime (default runc)\n"
               "     --slice SLICE         Slice of the scope (default machine.slice)\n",
               verb, streq(verb, "run") ? "Run" : "Create");
        run_flags_help();
        fputs(CLI_COMMON_HELP "\nSee berth-run(1).\n", stdout);
}

enum {
        ARG_RM = _ARG_COMMON_MAX,
        ARG_NAME,
        ARG_ENV_FILE,
        ARG_TMPFS,
        ARG_ENTRYPOINT,
        ARG_HOSTNAME,
        ARG_READ_ONLY,
        ARG_CAP_ADD,
        ARG_CAP_DROP,
        ARG_PRIVILEGED,
        ARG_SECURITY_OPT,
        ARG_ULIMIT,
        ARG_IPC,
        ARG_PID,
        ARG_NETWORK,
        ARG_LABEL,
        ARG_STOP_SIGNAL,
        ARG_STOP_TIMEOUT,
        ARG_INIT,
        ARG_SDNOTIFY,
        ARG_PULL,
        ARG_TLS_VERIFY,
        ARG_RUNTIME,
        ARG_SLICE,
        ARG_IP,
        ARG_IP6,
        ARG_NETWORK_ALIAS,
        ARG_MAC,
        ARG_DNS,
        ARG_DNS_SEARCH,
        ARG_DNS_OPTION,
        ARG_ADD_HOST,
        ARG_HEALTH_CMD,
        ARG_HEALTH_INTERVAL,
        ARG_HEALTH_RETRIES,
        ARG_HEALTH_START_PERIOD,
        ARG_HEALTH_TIMEOUT,
        ARG_NO_HEALTHCHECK,
        ARG_IMAGE_VOLUME,
};

static bool ip_is_valid(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool mac_is_unicast(const char *s) {
        unsigned b[6];
        char end;
        if (strlen(s) != 17 ||
            sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
                return false;
        for (size_t i = 2; i < 17; i += 3)
                if (s[i] != ':')
                        return false;
        return !(b[0] & 1);
}

int read_kv_lines(const char *path, char ***ret, const char **ret_bad) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        int r = read_full_file(path, 1024 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                size_t n = strlen(l);
                if (n > 0 && l[n - 1] == '\r')
                        l[--n] = 0;
                if (n == 0 || l[0] == '#')
                        continue;
                if (l[0] == '=') {
                        /* a pointer into the caller's copy */
                        *ret_bad = NULL;
                        if (strv_extend(&lines, l) >= 0 && (*ret = TAKE_PTR(lines)))
                                *ret_bad = (*ret)[strv_length(*ret) - 1];
                        return -EBADMSG;
                }
                if (strv_extend(&lines, l) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(lines);
        return 0;
}

static int read_env_file(const char *path, char ***env) {
        _cleanup_strv_free_ char **lines = NULL;
        const char *bad = NULL;
        int r = read_kv_lines(path, &lines, &bad);
        if (r == -EFBIG)
                return log_error_errno(r, "Env file '%s' is larger than 1 MiB", path);
        if (r == -EBADMSG)
                return log_error_errno(-EINVAL, "Invalid line in env file '%s': '%s'", path, strna(bad));
        if (r < 0)
                return log_error_errno(r, "Cannot read env file '%s': %m", path);
        for (size_t i = 0; lines && lines[i]; i++) {
                char *l = lines[i];
                if (!strchr(l, '=')) {
                        const char *v = getenv(l);
                        if (!v)
                                continue;
                        _cleanup_free_ char *kv = NULL;
                        if (asprintf(&kv, "%s=%s", l, v) < 0)
                                return log_oom();
                        r = strv_extend(env, kv);
                } else
                        r = strv_extend(env, l);
                if (r < 0)
                        return log_oom();
        }
        return 0;
}

int run_options_parse_limit(int c, const char *arg, RunOptions *o) {
        uint64_t u;

        switch (c) {
        case ARG_MEMORY:
                if (parse_size(arg, &o->memory) < 0 || o->memory < 6 * 1024 * 1024)
                        return cli_usage_error("Invalid --memory '%s': a size of at least 6m", arg);
                return 1;
        case ARG_CPUS: {
                char *end;
                errno = 0;
                double d = strtod(arg, &end);
                if (errno || *end || d <= 0 || d > 1024)
                        return cli_usage_error("Invalid --cpus '%s'", arg);
                o->cpus_milli = (uint64_t) (d * 1000 + 0.5);
                return 1;
        }
        case ARG_CPU_SHARES:
                if (safe_atou64(arg, &o->cpu_shares) < 0 || o->cpu_shares < 2 || o->cpu_shares > 262144)
                        return cli_usage_error("Invalid --cpu-shares '%s': 2..262144", arg);
                return 1;
        case ARG_PIDS_LIMIT:
                if (streq(arg, "-1") || streq(arg, "0"))
                        o->pids_limit = -1;
                else if (safe_atou64(arg, &u) < 0 || u > INT32_MAX)
                        return cli_usage_error("Invalid --pids-limit '%s'", arg);
                else
                        o->pids_limit = (int64_t) u;
                return 1;
        case ARG_RESTART:
                o->restart = (char *) arg; /* checked by run_options_check_restart(), after --rm */
                return 1;
        default:
                return 0;
        }
}

int run_options_check_restart(RunOptions *o) {
        const char *n;

        if (!o->restart)
                return 0;
        if (streq(o->restart, "no") || streq(o->restart, "always") || streq(o->restart, "unless-stopped") ||
            streq(o->restart, "on-failure"))
                o->restart_max = 0;
        else if (!(n = startswith(o->restart, "on-failure:")) || safe_atoi(n, &o->restart_max) < 0 ||
                 o->restart_max < 0)
                return cli_usage_error("Invalid --restart '%s'", o->restart);
        if (o->rm && !streq(o->restart, "no"))
                return cli_usage_error("--rm and --restart cannot be used together");
        return 0;
}

int run_options_parse(int argc, char *argv[], RunOptions *o, bool is_run) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"detach", no_argument, NULL, 'd'},
                {"rm", no_argument, NULL, ARG_RM},
                {"name", required_argument, NULL, ARG_NAME},
                {"interactive", no_argument, NULL, 'i'},
                {"tty", no_argument, NULL, 't'},
                {"env", required_argument, NULL, 'e'},
                {"env-file", required_argument, NULL, ARG_ENV_FILE},
                {"volume", required_argument, NULL, 'v'},
                {"tmpfs", required_argument, NULL, ARG_TMPFS},
                {"image-volume", required_argument, NULL, ARG_IMAGE_VOLUME},
                {"workdir", required_argument, NULL, 'w'},
                {"user", required_argument, NULL, 'u'},
                {"entrypoint", required_argument, NULL, ARG_ENTRYPOINT},
                {"hostname", required_argument, NULL, ARG_HOSTNAME},
                {"read-only", no_argument, NULL, ARG_READ_ONLY},
                {"cap-add", required_argument, NULL, ARG_CAP_ADD},
                {"cap-drop", required_argument, NULL, ARG_CAP_DROP},
                {"privileged", no_argument, NULL, ARG_PRIVILEGED},
                {"security-opt", required_argument, NULL, ARG_SECURITY_OPT},
                RUN_LIMIT_OPTIONS,
                {"ulimit", required_argument, NULL, ARG_ULIMIT},
                {"ipc", required_argument, NULL, ARG_IPC},
                {"pid", required_argument, NULL, ARG_PID},
                {"network", required_argument, NULL, ARG_NETWORK},
                {"net", required_argument, NULL, ARG_NETWORK},
                {"label", required_argument, NULL, ARG_LABEL},
                {"stop-signal", required_argument, NULL, ARG_STOP_SIGNAL},
                {"stop-timeout", required_argument, NULL, ARG_STOP_TIMEOUT},
                {"init", no_argument, NULL, ARG_INIT},
                {"sdnotify", required_argument, NULL, ARG_SDNOTIFY},
                {"pull", required_argument, NULL, ARG_PULL},
                {"tls-verify", required_argument, NULL, ARG_TLS_VERIFY},
                {"runtime", required_argument, NULL, ARG_RUNTIME},
                {"slice", required_argument, NULL, ARG_SLICE},
                {"ip", required_argument, NULL, ARG_IP},
                {"ip6", required_argument, NULL, ARG_IP6},
                {"network-alias", required_argument, NULL, ARG_NETWORK_ALIAS},
                {"mac-address", required_argument, NULL, ARG_MAC},
                {"dns", required_argument, NULL, ARG_DNS},
                {"dns-search", required_argument, NULL, ARG_DNS_SEARCH},
                {"dns-option", required_argument, NULL, ARG_DNS_OPTION},
                {"add-host", required_argument, NULL, ARG_ADD_HOST},
                {"publish", required_argument, NULL, 'p'},
                {"health-cmd", required_argument, NULL, ARG_HEALTH_CMD},
                {"health-interval", required_argument, NULL, ARG_HEALTH_INTERVAL},
                {"health-retries", required_argument, NULL, ARG_HEALTH_RETRIES},
                {"health-start-period", required_argument, NULL, ARG_HEALTH_START_PERIOD},
                {"health-timeout", required_argument, NULL, ARG_HEALTH_TIMEOUT},
                {"no-healthcheck", no_argument, NULL, ARG_NO_HEALTHCHECK},
                RUN_FLAGS_OPTIONS,
                {},
        };
        uint64_t u;
        int c, r;

        o->stop_timeout = 10;
        o->pids_limit = -1;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+hdite:v:w:u:p:P", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        run_help(argv[0]);
                        return 0;
                case ARG_VERSION:
                        return cli_version();
                case 'd':
                        o->detach = true;
                        break;
                case ARG_RM:
                        o->rm = true;
                        break;
                case ARG_NAME:
                        if (!container_name_is_valid(optarg))
                                return cli_usage_error("Invalid container name '%s': " CONTAINER_NAME_RULE,
                                                       optarg);
                        o->name = optarg;
                        break;
                case 'i':
                        o->interactive = true;
                        break;
                case 't':
                        o->tty = true;
                        break;
                case 'e':
                        if (optarg[0] == '=')
                                return cli_usage_error("Invalid environment variable '%s'", optarg);
                        if (!strchr(optarg, '=')) {
                                const char *v = getenv(optarg);
                                if (!v)
                                        break;
                                _cleanup_free_ char *kv = NULL;
                                if (asprintf(&kv, "%s=%s", optarg, v) < 0)
                                        return log_oom();
                                r = strv_extend(&o->env, kv);
                        } else
                                r = strv_extend(&o->env, optarg);
                        if (r < 0)
                                return log_oom();
                        break;
                case ARG_ENV_FILE:
                        r = read_env_file(optarg, &o->env);
                        if (r < 0)
                                return r;
                        break;
                case 'v':
                        /* docker's -v DST: an anonymous volume */
                        if (optarg[0] == '/' && !strchr(optarg, ':')) {
                                if (!spec_path_is_safe(optarg) || streq(optarg, "/"))
                                        return cli_usage_error("Invalid volume '%s': bad destination",
                                                               optarg);
                                if (strv_extend(&o->anon_volumes, optarg) < 0)
                                        return log_oom();
                                break;
                        }
                        if (!strchr(optarg, ':'))
                                return cli_usage_error("Invalid volume '%s': expected SRC:DST[:OPTIONS]",
                                                       optarg);
                        if (strv_extend(&o->volumes, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_TMPFS:
                        if (optarg[0] != '/')
                                return cli_usage_error(
                                        "Invalid --tmpfs '%s': the destination must be absolute", optarg);
                        if (strv_extend(&o->tmpfs, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_IMAGE_VOLUME:
                        if (streq(optarg, "bind"))
                                o->image_volume = IMAGE_VOLUME_BIND;
                        else if (streq(optarg, "tmpfs"))
                                o->image_volume = IMAGE_VOLUME_TMPFS;
                        else if (streq(optarg, "ignore"))
                                o->image_volume = IMAGE_VOLUME_IGNORE;
                        else
                                return cli_usage_error("Invalid --image-volume '%s': bind, tmpfs or ignore",
                                                       optarg);
                        break;
                case 'w':
                        if (optarg[0] != '/')
                                return cli_usage_error("Invalid --workdir '%s': must be an absolute path",
                                                       optarg);
                        o->workdir = optarg;
                        break;
                case 'u':
                        o->user = optarg;
                        break;
                case ARG_ENTRYPOINT:
                        o->entrypoint = optarg;
                        o->entrypoint_set = true;
                        break;
                case ARG_HOSTNAME:
                        if (strlen(optarg) > 64 || !name_is_valid(optarg, 64))
                                return cli_usage_error("Invalid --hostname '%s'", optarg);
                        o->hostname = optarg;
                        break;
                case ARG_READ_ONLY:
                        o->read_only = true;
                        break;
                case ARG_CAP_ADD:
                        if (strv_extend(&o->cap_add, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_CAP_DROP:
                        if (strv_extend(&o->cap_drop, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_PRIVILEGED:
                        o->privileged = true;
                        break;
                case ARG_SECURITY_OPT:
                        if (streq(optarg, "no-new-privileges") || streq(optarg, "no-new-privileges=true"))
                                o->no_new_privs = true;
                        else if (streq(optarg, "seccomp=unconfined") || streq(optarg, "seccomp:unconfined"))
                                o->seccomp_unconfined = true;
                        else if (startswith(optarg, "seccomp=")) {
                                free(o->seccomp_file);
                                o->seccomp_file = strdup(optarg + 8);
                                if (!o->seccomp_file)
                                        return log_oom();
                        } else
                                return cli_usage_error("Unsupported --security-opt '%s'", optarg);
                        break;
                case ARG_ULIMIT:
                        if (!strchr(optarg, '='))
                                return cli_usage_error("Invalid --ulimit '%s': expected NAME=SOFT[:HARD]",
                                                       optarg);
                        if (strv_extend(&o->ulimits, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_IPC:
                        if (!streq(optarg, "host") && !streq(optarg, "private") &&
                            !streq(optarg, "shareable") && !startswith(optarg, "container:"))
                                return cli_usage_error("Invalid --ipc '%s': host, private or container:NAME",
                                                       optarg);
                        o->ipc = optarg;
                        break;
                case ARG_PID:
                        if (!streq(optarg, "host") && !streq(optarg, "private") &&
                            !startswith(optarg, "container:"))
                                return cli_usage_error("Invalid --pid '%s': host, private or container:NAME",
                                                       optarg);
                        o->pid = optarg;
                        break;
                case ARG_NETWORK: {
                        _cleanup_free_ char *copy = strdup(optarg);
                        char *save = NULL;
                        if (!copy)
                                return log_oom();
                        for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
                                if (!streq(n, "none") && !streq(n, "host") && !streq(n, "bridge") &&
                                    !name_is_valid(n, 64))
                                        return cli_usage_error("Invalid --network '%s'", n);
                                if (!strv_contains(o->networks, n) && strv_extend(&o->networks, n) < 0)
                                        return log_oom();
                        }
                        break;
                }
                case ARG_IP:
                        o->ip = optarg;
                        break;
                case ARG_IP6:
                        o->ip6 = optarg;
                        break;
                case ARG_NETWORK_ALIAS:
                        if (!name_is_valid(optarg, 253))
                                return cli_usage_error("Invalid --network-alias '%s'", optarg);
                        if (strv_extend(&o->aliases, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_MAC:
                        if (!mac_is_unicast(optarg))
                                return cli_usage_error("Invalid --mac-address '%s': six hex bytes, unicast",
                                                       optarg);
                        o->mac = optarg;
                        break;
                case ARG_DNS:
                        if (!ip_is_valid(optarg))
                                return cli_usage_error("Invalid --dns '%s': not an IP address", optarg);
                        if (strv_extend(&o->dns, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_DNS_SEARCH:
                        if (!streq(optarg, ".") && !name_is_valid(optarg, 253))
                                return cli_usage_error("Invalid --dns-search '%s'", optarg);
                        if (strv_extend(&o->dns_search, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_DNS_OPTION:
                        if (isempty(optarg) || strpbrk(optarg, " \t\n#;"))
                                return cli_usage_error("Invalid --dns-option '%s'", optarg);
                        if (strv_extend(&o->dns_options, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_ADD_HOST: {
                        const char *colon = strchr(optarg, ':');
                        _cleanup_free_ char *host =
                                colon ? strndup(optarg, (size_t) (colon - optarg)) : NULL;
                        if (!colon || !host || !name_is_valid(host, 253) || !ip_is_valid(colon + 1))
                                return cli_usage_error("Invalid --add-host '%s': HOST:IP expected", optarg);
                        if (strv_extend(&o->add_hosts, optarg) < 0)
                                return log_oom();
                        break;
                }
                case 'p':
                        if (strv_extend(&o->publish, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_HEALTH_CMD:
                        o->health_cmd = optarg;
                        break;
                case ARG_HEALTH_INTERVAL:
                case ARG_HEALTH_TIMEOUT:
                case ARG_HEALTH_START_PERIOD: {
                        usec_t d;
                        if (parse_duration(optarg, &d) < 0 ||
                            (c != ARG_HEALTH_START_PERIOD && d < USEC_PER_MSEC * 100))
                                return cli_usage_error(
                                        "Invalid duration '%s' (e.g. 30s, 1m30s, at least 100ms)", optarg);
                        *(c == ARG_HEALTH_INTERVAL  ? &o->health_interval
                          : c == ARG_HEALTH_TIMEOUT ? &o->health_timeout
                                                    : &o->health_start_period) = d;
                        break;
                }
                case ARG_HEALTH_RETRIES:
                        if (safe_atoi(optarg, &o->health_retries) < 0 || o->health_retries < 1)
                                return cli_usage_error("Invalid --health-retries '%s'", optarg);
                        break;
                case ARG_NO_HEALTHCHECK:
                        o->no_healthcheck = true;
                        break;
                case ARG_LABEL:
                        if (!strchr(optarg, '=') || optarg[0] == '=')
                                return cli_usage_error("Invalid --label '%s': expected KEY=VALUE", optarg);
                        if (strv_extend(&o->labels, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_STOP_SIGNAL:
                        o->stop_signal = optarg;
                        break;
                case ARG_STOP_TIMEOUT:
                        if (safe_atou64(optarg, &u) < 0 || u > 86400)
                                return cli_usage_error("Invalid --stop-timeout '%s'", optarg);
                        o->stop_timeout = (unsigned) u;
                        o->stop_timeout_set = true;
                        break;
                case ARG_INIT:
                        o->init = true;
                        break;
                case ARG_SDNOTIFY:
                        if (!streq(optarg, "container") && !streq(optarg, "conmon") &&
                            !streq(optarg, "ignore") && !streq(optarg, "healthy"))
                                return cli_usage_error(
                                        "Invalid --sdnotify '%s': container, conmon, healthy or ignore",
                                        optarg);
                        o->sdnotify = optarg;
                        break;
                case ARG_PULL:
                        if (streq(optarg, "missing"))
                                o->pull = PULL_MISSING;
                        else if (streq(optarg, "always"))
                                o->pull = PULL_ALWAYS;
                        else if (streq(optarg, "never"))
                                o->pull = PULL_NEVER;
                        else
                                return cli_usage_error("Invalid --pull '%s': missing, always or never",
                                                       optarg);
                        break;
                case ARG_TLS_VERIFY:
                        if (parse_boolean(optarg) < 0)
                                return cli_usage_error("Invalid --tls-verify '%s'", optarg);
                        o->tls_verify = optarg;
                        break;
                case ARG_RUNTIME:
                        o->runtime = optarg;
                        break;
                case ARG_SLICE:
                        if (!endswith(optarg, ".slice") || !name_is_valid(optarg, 200))
                                return cli_usage_error("Invalid --slice '%s'", optarg);
                        o->slice = optarg;
                        break;
                default:
                        r = run_options_parse_limit(c, optarg, o);
                        if (r == 0)
                                r = run_flags_parse(c, optarg, o);
                        if (r != 0) {
                                if (r < 0)
                                        return r;
                                break;
                        }
                        r = cli_parse_common(c, optarg, argv);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return cli_usage_error("Unknown option '%s'", argv[optind - 1]);
                        break;
                }
        }
        if (optind >= argc)
                return cli_usage_error("Missing IMAGE; see 'berth-run %s --help'", argv[0]);
        o->image = argv[optind++];
        r = run_flags_finish(o);
        if (r < 0)
                return r;
        for (int i = optind; i < argc; i++)
                if (strv_extend(&o->cmd, argv[i]) < 0)
                        return log_oom();
        /* docker's default network is where -p works: without --network, -p joins berth-net's default
         * ("bridge"); with none there is nothing to publish on, with host the ports are the host's already
         */
        if (o->publish && !o->networks && strv_extend(&o->networks, "bridge") < 0)
                return log_oom();
        if (o->publish && strv_contains(o->networks, "none"))
                return cli_usage_error("-p needs a network: --network none has none");
        if (o->publish && strv_contains(o->networks, "host")) {
                log_warning("Published ports are discarded with --network host");
                strv_free(o->publish);
                o->publish = NULL;
        }
        size_t nn = strv_length(o->networks);
        if (nn > 1 && (strv_contains(o->networks, "none") || strv_contains(o->networks, "host")))
                return cli_usage_error("--network none or host cannot be combined with other networks");
        o->network = nn == 0 ? (char *) "none" : nn == 1 ? o->networks[0] : NULL;
        r = run_options_check_restart(o);
        if (r < 0)
                return r;
        return 1;
}
