/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* update: change the resource limits and the restart policy of containers, running or not (podman's and
 * docker's update). The record and config.json change under the record's lock, for the next start; a running
 * container gets the limits live: on its scope (SetUnitProperties) and, where config.json holds them (cgroup
 * v1 and hybrid hosts, containers inside a service), through the runtime's `update`. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus.h"
#include "cli.h"
#include "container.h"
#include "fileio.h"
#include "flags.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "monitor.h"
#include "options.h"
#include "paths.h"
#include "record.h"
#include "scope.h"
#include "update.h"

/* The flags given: parsed by run/create's own parsers into a RunOptions */
static RunOptions arg_o;
static bool arg_memory, arg_cpus, arg_shares, arg_pids, arg_swap, arg_reservation, arg_cpuset_cpus,
        arg_cpuset_mems, arg_restart;

/* What one container's update found and decided, under the lock */
typedef struct Update {
        const char *id;
        RunOptions eff; /* the values the container has from now on */
        char *cpuset_cpus, *cpuset_mems, *cgroups_path;
        bool limits_in_scope;
} Update;

static void update_done(Update *u) {
        free(u->cpuset_cpus);
        free(u->cpuset_mems);
        free(u->cgroups_path);
}

static const char help_text[] =
        "Usage: berth-run update [OPTIONS] CONTAINER...\n\n"
        "Change the resource limits and the restart policy of containers, running or not.\n\n"
        "Options:\n"
        "     --memory SIZE         Memory limit (MemoryMax)\n"
        "     --memory-swap SIZE    Memory plus swap, -1 for unlimited (MemorySwapMax)\n"
        "     --memory-reservation SIZE  Soft memory limit (MemoryLow)\n"
        "     --cpus N              CPU limit (CPUQuota)\n"
        "     --cpu-shares N        CPU shares (CPUWeight)\n"
        "     --cpuset-cpus LIST    CPUs the container may use (AllowedCPUs)\n"
        "     --cpuset-mems LIST    Memory nodes the container may use (AllowedMemoryNodes)\n"
        "     --pids-limit N        Task limit, -1 for unlimited (TasksMax)\n"
        "     --restart POLICY      no, on-failure[:N], always, unless-stopped (at the next "
        "exit)\n" CLI_COMMON_HELP "\nSee berth-run(1).\n";

static int handle(int c, const char *arg) {
        int r = run_options_parse_limit(c, arg, &arg_o);
        if (r == 0)
                r = run_flags_parse(c, arg, &arg_o);
        if (r < 0)
                return r;
        if (r == 0)
                return cli_usage_error("Unknown option; see 'berth-run update --help'");
        switch (c) {
        case ARG_MEMORY:
                arg_memory = true;
                break;
        case ARG_CPUS:
                arg_cpus = true;
                break;
        case ARG_CPU_SHARES:
                arg_shares = true;
                break;
        case ARG_PIDS_LIMIT:
                arg_pids = true;
                break;
        case ARG_RESTART:
                arg_restart = true;
                break;
        case ARG_MEMORY_SWAP:
                arg_swap = true;
                break;
        case ARG_MEMORY_RESERVATION:
                arg_reservation = true;
                break;
        case ARG_CPUSET_CPUS:
                arg_cpuset_cpus = true;
                break;
        case ARG_CPUSET_MEMS:
                arg_cpuset_mems = true;
                break;
        default:
                return cli_usage_error("Unknown option; see 'berth-run update --help'");
        }
        return 0;
}

static bool limits_given(void) {
        return arg_memory || arg_cpus || arg_shares || arg_pids || arg_swap || arg_reservation ||
               arg_cpuset_cpus || arg_cpuset_mems;
}

/* Under the record's lock: the values from now on (the record's, with the flags given), checked as create
 * checks them; then config.json and the record. Nothing is written when a check fails. */
static int update_record(json_t *rec, void *userdata) {
        Update *u = userdata;
        json_t *hc = json_object_get(rec, "HostConfig");
        RunOptions *e = &u->eff;
        int r;

        if (!json_is_object(hc))
                return log_error_errno(-EBADMSG, "The record has no HostConfig");
        e->memory = (uint64_t) json_integer_value(json_object_get(hc, "Memory"));
        e->cpus_milli = (uint64_t) json_integer_value(json_object_get(hc, "NanoCpus")) / 1000000;
        e->cpu_shares = (uint64_t) json_integer_value(json_object_get(hc, "CpuShares"));
        e->pids_limit = json_integer_value(json_object_get(hc, "PidsLimit"));
        e->memory_swap = json_integer_value(json_object_get(hc, "MemorySwap"));
        e->memory_reservation = (uint64_t) json_integer_value(json_object_get(hc, "MemoryReservation"));
        u->cpuset_cpus = strdup(record_get_string(rec, "HostConfig.CpusetCpus") ?: "");
        u->cpuset_mems = strdup(record_get_string(rec, "HostConfig.CpusetMems") ?: "");
        if (arg_memory)
                e->memory = arg_o.memory;
        if (arg_cpus)
                e->cpus_milli = arg_o.cpus_milli;
        if (arg_shares)
                e->cpu_shares = arg_o.cpu_shares;
        if (arg_pids)
                e->pids_limit = arg_o.pids_limit;
        if (arg_swap)
                e->memory_swap = arg_o.memory_swap;
        if (arg_reservation)
                e->memory_reservation = arg_o.memory_reservation;
        if (arg_cpuset_cpus) {
                free(u->cpuset_cpus);
                u->cpuset_cpus = strdup(arg_o.cpuset_cpus);
        }
        if (arg_cpuset_mems) {
                free(u->cpuset_mems);
                u->cpuset_mems = strdup(arg_o.cpuset_mems);
        }
        if (!u->cpuset_cpus || !u->cpuset_mems)
                return log_oom();
        e->cpuset_cpus = u->cpuset_cpus;
        e->cpuset_mems = u->cpuset_mems;
        e->memory_swap_arg = arg_o.memory_swap_arg ?: "(the container's)";
        e->memory_reservation_arg = arg_o.memory_reservation_arg ?: "(the container's)";
        r = run_flags_check_memory(e);
        if (r < 0)
                return r;
        if (arg_restart) {
                e->restart = arg_o.restart;
                e->rm = json_is_true(json_object_get(hc, "AutoRemove"));
                r = run_options_check_restart(e);
                if (r < 0)
                        return r;
        }

        _cleanup_free_ char *cfgp = container_path(u->id, "config.json");
        _cleanup_free_ char *why = NULL;
        json_auto_t *cfg = NULL;
        if (!cfgp)
                return log_oom();
        r = json_read_file(cfgp, 64 * 1024 * 1024, &cfg, &why);
        if (r < 0)
                return log_error_errno(r, "Cannot read '%s': %s", cfgp, why ?: strerror(-r));
        json_t *linux_ = json_object_get(cfg, "linux");
        const char *cgp = json_string_value(json_object_get(linux_, "cgroupsPath"));
        u->cgroups_path = cgp ? strdup(cgp) : NULL;
        /* as create decided it: on a pure cgroup v2 host the scope's properties are the limits */
        u->limits_in_scope = cgroup_is_unified() && cgp && strstr(cgp, ".scope/container");
        if (limits_given() && !u->limits_in_scope) {
                json_t *res = json_object_get(linux_, "resources");
                if (!json_is_object(res))
                        json_object_set_new(linux_, "resources", res = json_object());
                spec_resources_limits(res, e);
                r = json_write_file_atomic(cfgp, cfg);
                if (r < 0)
                        return log_error_errno(r, "Cannot write '%s': %m", cfgp);
        }

        json_object_set_new(hc, "Memory", json_integer((json_int_t) e->memory));
        json_object_set_new(hc, "NanoCpus", json_integer((json_int_t) (e->cpus_milli * 1000000)));
        json_object_set_new(hc, "CpuShares", json_integer((json_int_t) e->cpu_shares));
        json_object_set_new(hc, "PidsLimit", json_integer(e->pids_limit > 0 ? e->pids_limit : -1));
        json_object_set_new(hc, "MemorySwap", json_integer(e->memory_swap));
        json_object_set_new(hc, "MemoryReservation", json_integer((json_int_t) e->memory_reservation));
        json_object_set_new(hc, "CpusetCpus", json_string(e->cpuset_cpus));
        json_object_set_new(hc, "CpusetMems", json_string(e->cpuset_mems));
        if (arg_restart) {
                size_t n = strcspn(e->restart, ":");
                json_object_set_new(hc, "RestartPolicy",
                                    json_pack("{s:s%, s:i}", "Name", e->restart, n, "MaximumRetryCount",
                                              e->restart_max));
        }
        return 0;
}

/* The scope's properties of the flags given (create's mapping, monitor.c); infinity for "unlimited" */
static int update_scope(const char *name, const Update *u) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *unit = NULL;
        const RunOptions *e = &u->eff;
        int r;

        if (asprintf(&unit, "berth-%s.scope", name) < 0)
                return log_oom();
        ScopeParams p = {.unit = unit};
        if (arg_memory)
                p.memory_max = e->memory;
        if (arg_cpus)
                p.cpu_quota_usec = e->cpus_milli * 1000;
        if (arg_shares)
                p.cpu_weight = cpu_shares_to_weight(e->cpu_shares);
        if (arg_pids)
                p.tasks_max = e->pids_limit > 0 ? (uint64_t) e->pids_limit : UINT64_MAX;
        if (arg_reservation)
                p.memory_low = e->memory_reservation;
        if ((arg_swap || arg_memory) && e->memory_swap != 0) {
                p.memory_swap_set = true;
                p.memory_swap_max = e->memory_swap < 0 ? UINT64_MAX
                                                       : (uint64_t) e->memory_swap -
                                                                 MIN((uint64_t) e->memory_swap, e->memory);
        }
        if (arg_cpuset_cpus)
                p.allowed_cpus = e->cpuset_cpus;
        if (arg_cpuset_mems)
                p.allowed_mems = e->cpuset_mems;

        r = bus_connect_manager(BUS_MANAGER_AUTO, &bus, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the systemd manager for '%s': %m", unit);
        r = scope_set_limits(bus, &p, &error);
        if (r < 0)
                return log_error_errno(r, "Cannot change the limits of '%s': %s", unit,
                                       bus_error_message(&error, r));
        return 0;
}

/* `RUNTIME update --resources - ID`: the limits of the container's own cgroup, the ones that bind on cgroup
 * v1 and hybrid hosts. Unset values are sent as unlimited where the runtime would keep the old ones. */
static int update_runtime(json_t *rec, const char *id, const Update *u) {
        const char *runtime = record_get_string(rec, "HostConfig.Runtime") ?: "runc";
        json_auto_t *res = json_object();
        _cleanup_free_ char *text = NULL;
        int in[2], err[2], status;

        if (!res)
                return log_oom();
        spec_resources_limits(res, &u->eff);
        if (arg_pids && u->eff.pids_limit <= 0)
                json_object_set_new(res, "pids", json_pack("{s:i}", "limit", -1));
        text = json_dumps(res, JSON_COMPACT);
        if (!text)
                return log_oom();
        if (pipe2(in, O_CLOEXEC) < 0)
                return log_error_errno(errno, "pipe() failed: %m");
        if (pipe2(err, O_CLOEXEC) < 0) {
                safe_close(in[0]);
                safe_close(in[1]);
                return log_error_errno(errno, "pipe() failed: %m");
        }
        pid_t pid = fork();
        if (pid < 0) {
                for (size_t i = 0; i < 2; i++) {
                        safe_close(in[i]);
                        safe_close(err[i]);
                }
                return log_error_errno(errno, "fork() failed: %m");
        }
        if (pid == 0) {
                const char *argv[] = {runtime, "--root", runtime_state_root(), "update", "--resources", "-",
                                      id,      NULL};
                if (dup2(in[0], 0) < 0 || dup2(err[1], 1) < 0 || dup2(err[1], 2) < 0)
                        _exit(127);
                execvp(runtime, (char **) argv);
                _exit(127);
        }
        safe_close(in[0]);
        safe_close(err[1]);
        (void) write_all(in[1], text, strlen(text));
        safe_close(in[1]);
        char buf[1024];
        size_t n = 0;
        ssize_t k;
        while (n < sizeof buf - 1 &&
               ((k = read(err[0], buf + n, sizeof buf - 1 - n)) > 0 || (k < 0 && errno == EINTR)))
                n += k > 0 ? (size_t) k : 0;
        buf[n] = 0;
        safe_close(err[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "waitpid() failed: %m");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                buf[strcspn(buf, "\n")] = 0;
                return log_error_errno(-EIO, "%s update of '%s' failed: %s", runtime, id,
                                       n > 0 ? buf : "no message");
        }
        return 0;
}

static int update_one(const char *spec, char **ret_id) {
        _cleanup_(update_done) Update u = {};
        json_auto_t *rec = NULL;
        char *id = NULL;
        int r;

        r = lookup_container(spec, ret_id, &rec);
        if (r < 0)
                return r;
        u.id = id = *ret_id;
        r = record_update(id, update_record, &u);
        if (r < 0)
                return r;
        /* a running one: live, on what holds the limits; a stopped one gets them at its next start */
        if (!limits_given() || !record_init_alive(rec))
                return 0;
        const char *cg = u.cgroups_path, *slash = cg ? strrchr(cg, '/') : NULL;
        bool absolute = cg && cg[0] == '/' && slash && slash > cg;
        bool in_scope = absolute && slash - cg > 6 && strneq(slash - 6, ".scope", 6);
        bool in_service = absolute && slash - cg > 8 && strneq(slash - 8, ".service", 8);
        if (in_scope) {
                r = update_scope(record_get_string(rec, "Name"), &u);
                if (r < 0)
                        return r;
        }
        if (in_service)
                log_warning(
                        "'%s' runs inside a service: its own limits changed, the service's are systemd's "
                        "(systemctl set-property)",
                        spec);
        if (!u.limits_in_scope)
                return update_runtime(rec, id, &u);
        return 0;
}

int verb_update(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {
                RUN_LIMIT_OPTIONS,
                {"memory-swap", required_argument, NULL, ARG_MEMORY_SWAP},
                {"memory-reservation", required_argument, NULL, ARG_MEMORY_RESERVATION},
                {"cpuset-cpus", required_argument, NULL, ARG_CPUSET_CPUS},
                {"cpuset-mems", required_argument, NULL, ARG_CPUSET_MEMS},
                {}};
        int r, ret = 0;

        arg_o.pids_limit = -1;
        r = verb_parse_options(argc, argv, help_text, extra, "", handle);
        if (r <= 0)
                return r < 0 ? EXIT_BERTH_FAILED : 0; /* docker: a bad flag is 125 */
        if (optind >= argc) {
                (void) cli_usage_error("Missing CONTAINER; see 'berth-run update --help'");
                return EXIT_BERTH_FAILED;
        }
        if (!limits_given() && !arg_restart) {
                (void) cli_usage_error("Nothing to update: give a limit or --restart");
                return EXIT_BERTH_FAILED;
        }
        if (run_options_check_restart(&arg_o) < 0)
                return EXIT_BERTH_FAILED;
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *id = NULL;
                r = update_one(argv[i], &id);
                if (r < 0)
                        ret = EXIT_BERTH_FAILED;
                else
                        puts(id);
        }
        return ret;
}
