/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lifecycle verbs on existing containers: start, stop, restart, kill, rm, wait, pause, unpause. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

#include "cli.h"
#include "container.h"
#include "fileio.h"
#include "imagevol.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "main-func.h"
#include "monitor.h"
#include "record.h"
#include "rename.h"
#include "rootfs.h"
#include "util.h"

int lookup_container(const char *spec, char **ret_id, json_t **ret_rec) {
        _cleanup_free_ char *id = NULL;
        _cleanup_free_ char *why = NULL;
        int r;

        r = container_resolve(spec, &id);
        if (r == -EADDRNOTAVAIL)
                return log_error_errno(r, "Container ID prefix '%s' is ambiguous", spec);
        if (r < 0)
                return log_error_errno(r, "No such container '%s'", spec);
        if (ret_rec) {
                r = container_load(id, ret_rec, &why);
                if (r == -ENOENT)
                        return log_error_errno(r, "No such container '%s'", spec);
                if (r < 0)
                        return log_error_errno(r, "Cannot load container '%s': %s", spec,
                                               why ?: strerror(-r));
        }
        *ret_id = TAKE_PTR(id);
        return 0;
}

bool record_init_alive(json_t *rec) {
        json_int_t pid = record_get_int(rec, "State.Pid");
        json_int_t st = record_get_int(rec, "State.InitStartTime");
        return pid > 0 && pid_is_alive((pid_t) pid, (uint64_t) st);
}

bool record_monitor_alive(json_t *rec) {
        json_int_t pid = record_get_int(rec, "State.MonitorPid");
        json_int_t st = record_get_int(rec, "State.MonitorStartTime");
        return pid > 0 && pid_is_alive((pid_t) pid, (uint64_t) st);
}

static bool status_is_running(json_t *rec) {
        const char *s = record_get_string(rec, "State.Status");
        return streq_ptr(s, "running") || streq_ptr(s, "paused") || streq_ptr(s, "stopping");
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
        (void) nanosleep(&ts, NULL);
}

/* Wait until the init is dead (up to init_timeout, else -ETIMEDOUT), then until the monitor has recorded the
 * exit and cleaned up after it (networks, rootfs, scope; up to 30 s more). If the monitor died without doing
 * that, do it here. */
static int wait_gone(const char *id, usec_t init_timeout) {
        usec_t init_until = usec_add(now_usec(CLOCK_MONOTONIC), init_timeout), mon_until = USEC_INFINITY;
        for (;;) {
                json_t *rec = NULL;
                int r = container_load(id, &rec, NULL);
                if (r == -ENOENT)
                        return 0; /* --rm: the monitor removed it */
                if (r < 0)
                        return r;
                bool init = record_init_alive(rec), mon = record_monitor_alive(rec),
                     running = status_is_running(rec);
                json_decref(rec);
                if (!init && !mon) {
                        if (running)
                                (void) container_cleanup_dead(id, 137);
                        return 0;
                }
                usec_t n = now_usec(CLOCK_MONOTONIC);
                if (init && n >= init_until)
                        return -ETIMEDOUT;
                if (!init && mon_until == USEC_INFINITY)
                        mon_until = n + 30 * USEC_PER_SEC;
                if (!init && n >= mon_until) {
                        log_warning("The monitor of container %.12s is still cleaning up after 30 s", id);
                        return 0;
                }
                sleep_ms(10);
        }
}

static int send_signal(json_t *rec, int sig) {
        json_int_t pid = record_get_int(rec, "State.Pid");
        if (!record_init_alive(rec))
                return -ESRCH;
        if (kill((pid_t) pid, sig) < 0)
                return -errno;
        return 0;
}

static void runtime_simple(json_t *rec, const char *verb, const char *id) {
        const char *runtime = record_get_string(rec, "HostConfig.Runtime") ?: "runc";
        const char *argv[] = {runtime, "--root", runtime_state_root(), verb, id, NULL};
        pid_t pid = fork();
        if (pid == 0) {
                execvp(runtime, (char **) argv);
                _exit(127);
        }
        if (pid > 0)
                (void) waitpid(pid, NULL, 0);
}

static int stop_one(const char *spec, int timeout_s) {
        _cleanup_free_ char *id = NULL;
        json_t *rec = NULL;
        int r;

        r = lookup_container(spec, &id, &rec);
        if (r < 0)
                return r;
        if (!record_init_alive(rec)) {
                bool running = status_is_running(rec), mon = record_monitor_alive(rec);
                json_decref(rec);
                if (running && !mon)
                        (void) container_cleanup_dead(id, 137);
                else if (mon) {
                        /* between two runs of a restart policy (its back-off) the monitor waits: the stop
                         * ends the policy, as it does for a running container */
                        (void) record_set_stop_requested(id, true);
                        r = wait_gone(id, 0);
                        if (r == -ETIMEDOUT) /* it had started the container again before it saw the stop */
                                return stop_one(spec, timeout_s);
                }
                return 0;
        }
        (void) record_set_stop_requested(id, true);
        int sig = parse_signal(record_get_string(rec, "Config.StopSignal"));
        if (timeout_s < 0)
                timeout_s = (int) record_get_int(rec, "Config.StopTimeout");
        if (streq_ptr(record_get_string(rec, "State.Status"), "paused"))
                runtime_simple(rec, "resume", id);
        r = send_signal(rec, timeout_s == 0 ? SIGKILL : sig > 0 ? sig : SIGTERM);
        if (r < 0 && r != -ESRCH) {
                json_decref(rec);
                return log_error_errno(r, "Cannot signal container '%s': %m", spec);
        }
        r = wait_gone(id, (usec_t) timeout_s * USEC_PER_SEC);
        if (r == -ETIMEDOUT) {
                (void) send_signal(rec, SIGKILL);
                r = wait_gone(id, 10 * USEC_PER_SEC);
        }
        json_decref(rec);
        if (r < 0)
                return log_error_errno(r, "Container '%s' did not stop: %m", spec);
        return 0;
}

int verb_parse_options(int argc, char *argv[], const char *usage, const struct option *extra,
                       const char *shortopts, int (*handle)(int c, const char *arg)) {
        struct option options[32] = {CLI_COMMON_OPTIONS};
        size_t n = 6;
        for (size_t i = 0; extra && extra[i].name && n < ELEMENTSOF(options) - 1; i++)
                options[n++] = extra[i];
        int c, r;
        _cleanup_free_ char *so = NULL;
        if (asprintf(&so, "+h%s", shortopts ?: "") < 0)
                return log_oom();
        optind = 0;
        while ((c = getopt_long(argc, argv, so, options, NULL)) >= 0) {
                if (c == 'h') {
                        if (strchr(usage, '\n')) /* a whole help text */
                                fputs(usage, stdout);
                        else
                                printf("Usage: berth-run %s\n\nSee berth-run(1).\n", usage);
                        return 0;
                }
                if (c == ARG_VERSION)
                        return cli_version();
                r = cli_parse_common(c, optarg, argv);
                if (r < 0)
                        return r;
                if (r == 1)
                        continue;
                if (!handle)
                        return cli_usage_error("Unknown option '%s'", argv[optind - 1]);
                r = handle(c, optarg);
                if (r < 0)
                        return r;
        }
        return 1;
}

/* Run one() for each CONTAINER argument after the options, as docker does: every failure is reported and the
 * status is the last one's; a name is printed for each success unless one() returns > 0 (it printed itself,
 * or there was nothing to do). */
static int each_container(int argc, char *argv[], int (*one)(const char *spec)) {
        int r, ret = 0;

        if (optind >= argc)
                return cli_usage_error("Missing CONTAINER");
        for (int i = optind; i < argc; i++) {
                r = one(argv[i]);
                if (r < 0)
                        ret = r;
                else if (r == 0)
                        puts(argv[i]);
        }
        return ret;
}

static int arg_time = -1;
static int handle_time(int c, const char *arg) {
        if (c == 't') {
                if (safe_atoi(arg, &arg_time) < 0 || arg_time < 0)
                        return cli_usage_error("Invalid --time '%s'", arg);
                return 0;
        }
        return cli_usage_error("Unknown option");
}

static int stop_verb_one(const char *spec) {
        int r = stop_one(spec, arg_time);
        return r < 0 ? r : 0;
}

int verb_stop(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {{"time", required_argument, NULL, 't'}, {}};
        int r = verb_parse_options(argc, argv, "stop [--time SECS] CONTAINER...", extra, "t:", handle_time);
        if (r <= 0)
                return r;
        return each_container(argc, argv, stop_verb_one);
}

static int start_one(const char *spec) {
        _cleanup_free_ char *id = NULL;
        json_t *rec = NULL;
        int r = lookup_container(spec, &id, &rec);
        if (r < 0)
                return r;
        bool alive = record_init_alive(rec);
        /* The record says running but nothing is left of it (a crash, a reboot, a SIGKILLed monitor): record
         * the exit and clean up first, as berth-ps reads it, so that it can start again. */
        bool stale = !alive && status_is_running(rec) && !record_monitor_alive(rec);
        json_decref(rec);
        if (alive)
                return 0;
        if (stale)
                (void) container_cleanup_dead(id, 255);
        r = container_unit_follow_name(id);
        if (r < 0)
                log_warning_errno(r, "Cannot give '%s' the scope of its name, ignoring: %m", spec);
        return container_start(id, START_DETACHED, false) != 0 ? -EIO : 0;
}

/* start --all [--filter restart-policy=NAME]...: what berth-restart.service runs at boot. */
static bool arg_start_all;
static char **arg_start_policies;

static int handle_start(int c, const char *arg) {
        const char *v;
        if (c == 'A') {
                arg_start_all = true;
                return 0;
        }
        if (c != 'F')
                return cli_usage_error("Unknown option");
        v = startswith(arg, "restart-policy=");
        if (!v ||
            !(streq(v, "no") || streq(v, "on-failure") || streq(v, "always") || streq(v, "unless-stopped")))
                return cli_usage_error(
                        "Invalid --filter '%s': expected restart-policy=no, on-failure, always or "
                        "unless-stopped",
                        arg);
        return strv_extend(&arg_start_policies, v) < 0 ? log_oom() : 0;
}

/* unless-stopped is docker's: a container stopped by stop, kill or rm -f does not come back, not even at
 * boot; always comes back at boot whatever ended it. */
int containers_stopped(bool (*want)(json_t *rec, void *userdata), void *userdata, char ***ret_ids) {
        _cleanup_strv_free_ char **ids = NULL, **out = NULL;
        int r = container_list(&ids);
        if (r < 0)
                return log_error_errno(r, "Cannot list the containers: %m");
        for (size_t i = 0; ids && ids[i]; i++) {
                json_t *rec = NULL;
                if (container_load(ids[i], &rec, NULL) < 0)
                        continue;
                bool take = !record_init_alive(rec) && !record_monitor_alive(rec) && want(rec, userdata);
                json_decref(rec);
                if (take && strv_extend(&out, ids[i]) < 0)
                        return log_oom();
        }
        *ret_ids = TAKE_PTR(out);
        return 0;
}

static bool policy_matches(json_t *rec, void *userdata) {
        const char *p = record_get_string(rec, "HostConfig.RestartPolicy.Name") ?: "no";
        if (isempty(p))
                p = "no";
        if (!arg_start_policies)
                return true;
        if (!strv_contains(arg_start_policies, p))
                return false;
        return !streq(p, "unless-stopped") ||
               !json_is_true(json_object_get(json_object_get(rec, "State"), "StopRequested"));
}

static int start_all(void) {
        _cleanup_strv_free_ char **ids = NULL;
        int r, ret = 0;

        r = containers_stopped(policy_matches, NULL, &ids);
        if (r < 0)
                return r;
        for (size_t i = 0; ids && ids[i]; i++) {
                _cleanup_free_ char *name = record_name_of(ids[i]);
                r = start_one(ids[i]);
                if (r < 0)
                        ret = r;
                else
                        puts(name ?: ids[i]);
        }
        return ret;
}

int verb_start(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {
                {"all", no_argument, NULL, 'A'}, {"filter", required_argument, NULL, 'F'}, {}};
        int r = verb_parse_options(
                argc, argv,
                "Usage: berth-run start CONTAINER...\n"
                "       berth-run start --all [--filter restart-policy=POLICY]...\n\n"
                "Start stopped containers, print their names.\n\n"
                "     --all           Every container that is not running\n"
                "     --filter F      restart-policy=no|on-failure|always|unless-stopped\n"
                "                     (ORed); unless-stopped leaves out containers that\n"
                "                     were stopped with stop, kill or rm\n\n"
                "See berth-run(1).\n",
                extra, "", handle_start);
        if (r <= 0)
                return r;
        if (arg_start_policies && !arg_start_all)
                return cli_usage_error("--filter needs --all");
        if (arg_start_all) {
                if (optind < argc)
                        return cli_usage_error("--all and container names cannot be used together");
                return start_all();
        }
        return each_container(argc, argv, start_one);
}

static int restart_one(const char *spec) {
        _cleanup_free_ char *id = NULL;
        int r = stop_one(spec, arg_time);
        if (r >= 0)
                r = lookup_container(spec, &id, NULL);
        if (r >= 0 && container_unit_follow_name(id) < 0)
                log_warning("Cannot give '%s' the scope of its name, ignoring", spec);
        if (r >= 0 && container_start(id, START_DETACHED, false) != 0)
                r = -EIO;
        return r < 0 ? r : 0;
}

int verb_restart(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {{"time", required_argument, NULL, 't'}, {}};
        int r = verb_parse_options(argc, argv, "restart [--time SECS] CONTAINER...", extra,
                                   "t:", handle_time);
        if (r <= 0)
                return r;
        return each_container(argc, argv, restart_one);
}

static const char *arg_signal = "KILL";
static int handle_signal(int c, const char *arg) {
        if (c == 's') {
                if (parse_signal(arg) < 0)
                        return cli_usage_error("Invalid signal '%s'", arg);
                arg_signal = arg;
                return 0;
        }
        return cli_usage_error("Unknown option");
}

static int kill_one(const char *spec) {
        _cleanup_free_ char *id = NULL;
        json_t *rec = NULL;
        int r = lookup_container(spec, &id, &rec);
        if (r < 0)
                return r;
        int sig = parse_signal(arg_signal);
        if (sig == SIGKILL || sig == SIGTERM)
                (void) record_set_stop_requested(id, true);
        r = send_signal(rec, sig);
        json_decref(rec);
        if (r == -ESRCH)
                return log_error_errno(r, "Container '%s' is not running", spec);
        if (r < 0)
                return log_error_errno(r, "Cannot signal container '%s': %m", spec);
        return 0;
}

int verb_kill(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {{"signal", required_argument, NULL, 's'}, {}};
        int r = verb_parse_options(argc, argv, "kill [--signal SIG] CONTAINER...", extra,
                                   "s:", handle_signal);
        if (r <= 0)
                return r;
        return each_container(argc, argv, kill_one);
}

static bool arg_force = false, arg_volumes = false, arg_ignore = false;
static int handle_rm(int c, const char *arg) {
        if (c == 'f')
                arg_force = true;
        else if (c == 'i')
                arg_ignore = true;
        else if (c == 'v')
                arg_volumes = true;
        else
                return cli_usage_error("Unknown option");
        return 0;
}

int container_remove(const char *id, const char *spec, bool force, bool volumes) {
        _cleanup_close_ int lock = -EBADF;
        _cleanup_strv_free_ char **anon = NULL;
        json_t *rec = NULL;
        int r;

        _cleanup_free_ char *why = NULL;
        r = container_load(id, &rec, &why);
        if (r == -ENOENT)
                return 1; /* removed meanwhile (--rm, or a concurrent rm) */
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0 && !force)
                return log_error_errno(
                        r, "Container '%s' has an unreadable record (%s); 'rm --force' removes it", spec,
                        why ?: strerror(-r));
        if (r < 0) {
                /* a record cut short by a power loss, say: it must not stay forever */
                r = container_remove_unreadable(id);
                if (r < 0)
                        return log_error_errno(r, "Cannot remove container '%s': %m", spec);
                return 0;
        }
        bool alive = record_init_alive(rec) || record_monitor_alive(rec), running = status_is_running(rec);
        if (volumes && mounts_anonymous_volumes(json_object_get(rec, "Mounts"), &anon) < 0) {
                json_decref(rec);
                return log_oom();
        }
        json_decref(rec);
        if (alive && !force)
                return log_error_errno(-EBUSY, "Container '%s' is running: stop it first or use --force",
                                       spec);
        if (alive && stop_one(spec, 0) < 0)
                return -EIO;
        if (!alive && running)
                (void) container_cleanup_dead(id, 137); /* its monitor died: detach its networks too */
        r = record_lock(id, &lock);
        if (r == -ENOENT)
                return 1;
        if (r < 0)
                return log_error_errno(r, "Cannot lock container '%s': %m", spec);
        (void) rootfs_umount(id);
        r = record_remove(id);
        if (r < 0)
                return log_error_errno(r, "Cannot remove container '%s': %m", spec);
        lock = safe_close(lock);
        r = volumes_remove_unused(anon);
        if (r < 0)
                log_warning_errno(r, "Cannot remove the anonymous volumes of '%s', ignoring: %m", spec);
        return 0;
}

static int rm_one(const char *spec) {
        _cleanup_free_ char *id = NULL;
        int r;

        if (arg_ignore) {
                _cleanup_free_ char *probe = NULL;
                if (container_resolve(spec, &probe) == -ENOENT)
                        return 1;
        }
        r = lookup_container(spec, &id, NULL);
        if (r < 0)
                return r;
        return container_remove(id, spec, arg_force, arg_volumes);
}

int verb_rm(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {{"force", no_argument, NULL, 'f'},
                                              {"volumes", no_argument, NULL, 'v'},
                                              {"ignore", no_argument, NULL, 'i'},
                                              {}};
        int r;
        r = verb_parse_options(argc, argv, "rm [--force] [--ignore] [--volumes] CONTAINER...", extra, "fvi",
                               handle_rm);
        if (r <= 0)
                return r;
        return each_container(argc, argv, rm_one);
}

static int wait_one(const char *spec) {
        _cleanup_free_ char *id = NULL;
        json_t *rec = NULL;
        int r = lookup_container(spec, &id, NULL);
        if (r < 0)
                return r;
        (void) wait_gone(id, USEC_INFINITY);
        r = container_load(id, &rec, NULL);
        if (r < 0)
                return log_error_errno(r, "Container '%s' is gone (removed on exit)", spec);
        printf("%lld\n", (long long) record_get_int(rec, "State.ExitCode"));
        json_decref(rec);
        return 1;
}

int verb_wait(int argc, char *argv[], void *userdata) {
        int r = verb_parse_options(argc, argv, "wait CONTAINER...", NULL, NULL, NULL);
        if (r <= 0)
                return r;
        return each_container(argc, argv, wait_one);
}

static bool arg_pause = true;
static int pause_one(const char *spec) {
        _cleanup_free_ char *id = NULL;
        json_t *rec = NULL;
        int r = lookup_container(spec, &id, &rec);
        if (r < 0)
                return r;
        if (!record_init_alive(rec)) {
                json_decref(rec);
                return log_error_errno(-ESRCH, "Container '%s' is not running", spec);
        }
        runtime_simple(rec, arg_pause ? "pause" : "resume", id);
        json_decref(rec);
        r = record_set_status(id, arg_pause ? "paused" : "running");
        if (r < 0)
                return log_error_errno(r, "Cannot record the state of '%s': %m", spec);
        return 0;
}

int verb_pause(int argc, char *argv[], void *userdata) {
        arg_pause = streq(argv[0], "pause");
        int r = verb_parse_options(argc, argv, arg_pause ? "pause CONTAINER..." : "unpause CONTAINER...",
                                   NULL, NULL, NULL);
        if (r <= 0)
                return r;
        return each_container(argc, argv, pause_one);
}
