/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor: berth-run stays the container's parent (as conmon does), relays its output to the journal
 * when detached, records its exit and cleans up. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "attach.h"
#include "bus.h"
#include "container.h"
#include "durable.h"
#include "fileio.h"
#include "flags.h"
#include "health.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "monitor-internal.h"
#include "monitor.h"
#include "net.h"
#include "notify.h"
#include "paths.h"
#include "record.h"
#include "rootfs.h"
#include "safeio.h"
#include "scope.h"
#include "spawn.h"
#include "tty.h"
#include "util.h"

static void monitor_done(Monitor *m) {
        free(m->id);
        free(m->name);
        free(m->image_name);
        free(m->unit);
        free(m->slice);
        free(m->scope_cgroup);
        free(m->description);
        free(m->runtime);
        free(m->allowed_cpus);
        free(m->allowed_mems);
        free(m->error);
        m->bus = sd_bus_flush_close_unref(m->bus);
        safe_close(m->out_pipe);
        safe_close(m->err_pipe);
        safe_close(m->log_fd);
        safe_close(m->master);
        safe_close(m->notify_fd);
        safe_close(m->stdin_fd);
        safe_close(m->stdout_fd);
        safe_close(m->stderr_fd);
        free(m->sdnotify);
        free(m->restart);
}

static char *json_dup(json_t *rec, const char *path) {
        const char *s = record_get_string(rec, path);
        return s ? strdup(s) : NULL;
}

/* The restart policy and the resource limits: at the start, and again before each restart by the policy
 * (`update` may have changed them in the record meanwhile). */
static int monitor_load_limits(Monitor *m, json_t *rec) {
        json_t *hc = json_object_get(rec, "HostConfig");
        free(m->restart);
        free(m->allowed_cpus);
        free(m->allowed_mems);
        m->restart = json_dup(rec, "HostConfig.RestartPolicy.Name");
        m->restart_max = (int) record_get_int(rec, "HostConfig.RestartPolicy.MaximumRetryCount");
        m->restart_count = (int) json_integer_value(json_object_get(rec, "RestartCount"));
        m->memory_max = (uint64_t) json_integer_value(json_object_get(hc, "Memory"));
        m->cpu_quota_usec = (uint64_t) json_integer_value(json_object_get(hc, "NanoCpus")) / 1000;
        uint64_t shares = (uint64_t) json_integer_value(json_object_get(hc, "CpuShares"));
        m->cpu_weight = cpu_shares_to_weight(shares);
        json_int_t pl = json_integer_value(json_object_get(hc, "PidsLimit"));
        m->tasks_max = pl > 0 ? (uint64_t) pl : 0;
        /* --memory-reservation, --memory-swap (docker's: memory plus swap; systemd's: swap alone),
         * --cpuset-cpus, --cpuset-mems */
        m->memory_low = (uint64_t) json_integer_value(json_object_get(hc, "MemoryReservation"));
        json_int_t swap = json_integer_value(json_object_get(hc, "MemorySwap"));
        m->memory_swap_set = swap != 0;
        m->memory_swap_max = swap < 0 ? UINT64_MAX : (uint64_t) swap - MIN((uint64_t) swap, m->memory_max);
        m->allowed_cpus = json_dup(rec, "HostConfig.CpusetCpus");
        m->allowed_mems = json_dup(rec, "HostConfig.CpusetMems");
        return 0;
}

static int monitor_init(Monitor *m, const char *id, json_t *rec) {
        json_t *hc = json_object_get(rec, "HostConfig");
        int r;
        *m = (Monitor){.stdin_fd = -EBADF,
                       .stdout_fd = -EBADF,
                       .stderr_fd = -EBADF,
                       .out_pipe = -EBADF,
                       .err_pipe = -EBADF,
                       .log_fd = -EBADF,
                       .master = -EBADF,
                       .notify_fd = -EBADF};
        m->sdnotify = json_dup(rec, "HostConfig.SdNotify");
        m->health = json_is_array(
                json_object_get(json_object_get(json_object_get(rec, "Config"), "Healthcheck"), "Test"));
        m->tty = json_is_true(json_object_get(json_object_get(rec, "Config"), "Tty"));
        m->id = strdup(id);
        m->name = json_dup(rec, "Name");
        m->image_name = json_dup(rec, "ImageName");
        m->unit = json_dup(rec, "Unit");
        m->slice = json_dup(rec, "Slice");
        m->runtime = json_dup(rec, "HostConfig.Runtime");
        if (!m->id || !m->name || !m->image_name || !m->unit || !m->slice || !m->runtime)
                return -ENOMEM;
        if (asprintf(&m->description, "berth container %s (image %s)", m->name, m->image_name) < 0)
                return -ENOMEM;
        snprintf(m->short_id, sizeof m->short_id, "%.12s", id);
        m->rm = json_is_true(json_object_get(hc, "AutoRemove"));
        r = monitor_load_limits(m, rec);
        if (r < 0)
                return r;
        json_int_t st = json_integer_value(json_object_get(json_object_get(rec, "Config"), "StopTimeout"));
        m->stop_timeout_usec = (uint64_t) (st > 0 ? st : 10) * USEC_PER_SEC;
        int sig = parse_signal(record_get_string(rec, "Config.StopSignal"));
        m->stop_signal = sig > 0 ? sig : SIGTERM;
        return 0;
}

int container_remove_unreadable(const char *id) {
        _cleanup_(monitor_done) Monitor m = {};
        _cleanup_free_ char *name = record_name_of(id);
        char short_id[13];
        int r;

        /* What the monitor needs, as far as it can be known: the name (from names/, for the scope's), the
         * default runtime (whose state says whether the container runs; `delete --force` kills it). */
        snprintf(short_id, sizeof short_id, "%.12s", id);
        json_t *rec = json_pack("{s:s, s:s, s:s++, s:s, s:{s:s, s:b}}", "Name", name ?: short_id,
                                "ImageName", "", "Unit", "berth-", name ?: short_id, ".scope", "Slice",
                                "machine.slice", "HostConfig", "Runtime", "runc", "AutoRemove", 1);
        if (!rec)
                return -ENOMEM;
        r = monitor_init(&m, id, rec);
        json_decref(rec);
        if (r < 0)
                return r;
        m.scope_made = true;
        m.net_attached = true; /* berth-net detach of a container it does not know does nothing */
        m.scope_cgroup = monitor_config_scope_cgroup(id);
        monitor_finish(&m, 137, NULL);
        return record_names_release_all(id);
}

int container_cleanup_dead(const char *id, int exit_code) {
        _cleanup_(monitor_done) Monitor m = {};
        json_t *rec = NULL;
        int r;

        r = container_load(id, &rec, NULL);
        if (r < 0)
                return r;
        r = monitor_init(&m, id, rec);
        if (r < 0) {
                json_decref(rec);
                return r;
        }
        m.rm = false;
        m.net_attached = net_wanted(rec);
        json_decref(rec);
        /* the dead monitor made the scope: the manager stops an empty scope by itself, but not at once, and
         * not at all while a stray process stays in it; stop it unless it is gone (a container inside a
         * service has none of its own) */
        m.scope_made = endswith(m.unit, ".scope");
        m.scope_cgroup = monitor_config_scope_cgroup(id);
        monitor_finish(&m, exit_code, NULL);
        return 0;
}

static int prepare(Monitor *m, json_t *rec) {
        _cleanup_free_ char *rootfs = container_path(m->id, "rootfs");
        _cleanup_free_ char *why = NULL;
        _cleanup_close_ int rootfd = -EBADF;
        const char *image = record_get_string(rec, "Image");
        int r;

        if (!rootfs)
                return log_oom();
        r = rootfs_mount(m->id, image);
        if (r < 0)
                return r;
        rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return log_error_errno(errno, "Cannot open '%s': %m", rootfs);
        /* create prepared it moments ago in this process; a later start (a restart may follow a change of
         * the upper layer) prepares it again */
        r = monitor_fresh(m->id) ? 0
                                 : rootfs_prepare(rootfd, record_get_string(rec, "Config.WorkingDir"), &why);
        if (r < 0)
                return log_error_errno(r, "Cannot prepare the rootfs of '%s': %s", m->name, strna(why));
        if (getenv("NOTIFY_SOCKET") && streq_ptr(m->sdnotify, "container")) {
                _cleanup_free_ char *bundle = container_path(m->id, NULL);
                _cleanup_free_ char *dir = container_path(m->id, "notify");
                if (!bundle || !dir)
                        return log_oom();
                if (access(dir, F_OK) >= 0) {
                        r = notify_proxy_listen(bundle, &m->notify_fd);
                        if (r < 0)
                                return log_error_errno(r, "Cannot create the notify socket of '%s': %m",
                                                       m->name);
                }
        }
        r = rootfs_etc_files_ensure(m->id, rec);
        if (r < 0)
                return log_error_errno(r, "Cannot write the /etc files of '%s': %m", m->name);
        if (net_wanted(rec)) {
                m->net_attached = true; /* monitor_finish() detaches whatever part of it was done */
                r = net_attach(m->id, rec);
                if (r < 0)
                        return r;
        }
        return 0;
}

static char *strstrip_nl(char *s) {
        if (s) {
                size_t l = strlen(s);
                while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == ' '))
                        s[--l] = 0;
        }
        return s;
}

static int start_in_monitor(Monitor *m, json_t *rec, int notify_fd) {
        int r;

        phase("start");
        /* leftovers of a monitor that died with its container (SIGKILL, OOM) would make the runtime refuse
         * the ID */
        monitor_runtime_delete(m->runtime, m->id);
        r = prepare(m, rec);
        if (r >= 0)
                r = monitor_spawn_runtime(m);
        if (r < 0) {
                int code = m->fail_code > 0 ? m->fail_code : EXIT_BERTH_FAILED;
                monitor_finish(m, code, m->error ?: "cannot start");
                flags_replace_unlock();
                if (notify_fd >= 0)
                        (void) dprintf(notify_fd, "%d\n", code);
                return code;
        }
        phase("runtime started the container");
        r = record_set_running(m->id, m->pid, getpid());
        if (r < 0)
                log_warning_errno(r, "Cannot record that '%s' runs, ignoring: %m", m->name);
        flags_replace_unlock(); /* a --replace of the name now finds it running, and stops it */
        /* synced while the container runs; not for --rm, whose record goes with its exit (the created
         * record is on disk: a power loss leaves it for prune) */
        if (m->rm)
                durable_discard();
        else
                durable_start();
        if (getenv("NOTIFY_SOCKET") &&
            (streq_ptr(m->sdnotify, "conmon") || (streq_ptr(m->sdnotify, "healthy") && !m->health)))
                notify_ready(getpid());
        if (m->health && health_timer_start(rec) >= 0)
                m->health_timer = true;
        if (notify_fd >= 0)
                (void) dprintf(notify_fd, "0\n");
        return 0;
}

static bool stop_requested(const char *id) {
        json_t *rec = NULL;
        if (container_load(id, &rec, NULL) < 0)
                return true;
        bool b = json_is_true(json_object_get(json_object_get(rec, "State"), "StopRequested"));
        json_decref(rec);
        return b;
}

static int bump_restart_count(json_t *rec, void *userdata) {
        json_int_t n = json_integer_value(json_object_get(rec, "RestartCount"));
        json_object_set_new(rec, "RestartCount", json_integer(n + 1));
        *(json_int_t *) userdata = n + 1;
        return 0;
}

/* --restart: docker's policies, with docker's backoff (100 ms doubling, at most 10 s; reset after 10 s of
 * running). Returns the exit code to finish with. */
static int supervise_with_restarts(Monitor *m, bool forward_signals) {
        unsigned in_a_row = 0;
        for (;;) {
                usec_t started = now_usec(CLOCK_MONOTONIC);
                int code = monitor_supervise(m, forward_signals);
                if (code < 0)
                        return EXIT_BERTH_FAILED;
                /* the policy and the limits as they are now: `update` may have changed them */
                json_t *rec = NULL;
                if (container_load(m->id, &rec, NULL) >= 0) {
                        (void) monitor_load_limits(m, rec);
                        json_decref(rec);
                }
                bool again = false;
                if (streq_ptr(m->restart, "always") || streq_ptr(m->restart, "unless-stopped"))
                        again = true;
                else if (streq_ptr(m->restart, "on-failure") && code != 0)
                        again = m->restart_max == 0 || m->restart_count < m->restart_max;
                if (!again || stop_requested(m->id))
                        return code;
                if (now_usec(CLOCK_MONOTONIC) - started > 10 * USEC_PER_SEC)
                        in_a_row = 0;
                usec_t delay = MIN(100 * USEC_PER_MSEC << MIN(in_a_row, 7U), 10 * USEC_PER_SEC);
                in_a_row++;

                (void) record_set_exited(m->id, code, NULL);
                monitor_release(m);
                struct timespec ts = {(time_t) (delay / USEC_PER_SEC), (long) (delay % USEC_PER_SEC) * 1000};
                (void) nanosleep(&ts, NULL);
                if (stop_requested(m->id))
                        return code;
                json_int_t n = 0;
                (void) record_update(m->id, bump_restart_count, &n);
                m->restart_count = (int) n;
                m->pid = 0;
                if (monitor_spawn_runtime(m) < 0)
                        return m->fail_code > 0 ? m->fail_code : EXIT_BERTH_FAILED;
                if (record_set_running(m->id, m->pid, getpid()) < 0)
                        log_warning("Cannot record that '%s' runs again, ignoring", m->name);
        }
}

int container_start(const char *id, StartMode mode, bool interactive) {
        _cleanup_(monitor_done) Monitor m = {};
        _cleanup_close_ int notify_r = -EBADF, notify_w = -EBADF;
        json_t *rec = NULL;
        int r;

        durable_defer(true); /* the monitor's records are synced while the container starts and runs */
        r = container_load(id, &rec, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot load container '%s': %m", id);
        r = monitor_init(&m, id, rec);
        if (r < 0) {
                json_decref(rec);
                return log_oom();
        }
        const char *st = record_get_string(rec, "State.Status");
        if (streq_ptr(st, "running") || streq_ptr(st, "paused")) {
                json_decref(rec);
                log_error("Container '%s' is running already", m.name);
                return EXIT_BERTH_FAILED;
        }
        /* a stop of an earlier run is over (a fresh record has none to clear) */
        if (json_is_true(json_object_get(json_object_get(rec, "State"), "StopRequested")))
                (void) record_set_stop_requested(id, false);
        if (mode == START_FOREGROUND) {
                /* Children that the runtime leaves behind (the container's init) become ours to reap. */
                (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
                sigset_t mask;
                sigemptyset(&mask);
                int blk[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
                for (size_t i = 0; i < ELEMENTSOF(blk); i++)
                        sigaddset(&mask, blk[i]);
                sigprocmask(SIG_BLOCK, &mask, NULL);
                if (!interactive) {
                        m.stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        if (m.stdin_fd < 0)
                                return log_error_errno(errno, "Cannot open /dev/null: %m");
                }
                m.interactive = interactive;
                r = start_in_monitor(&m, rec, -EBADF);
                json_decref(rec);
                if (r != 0)
                        return r;
                struct termios saved;
                bool raw = m.master >= 0 && isatty(STDIN_FILENO) && tty_raw(STDIN_FILENO, &saved) >= 0;
                if (m.master >= 0)
                        tty_copy_size(STDIN_FILENO, m.master);
                r = supervise_with_restarts(&m, true);
                if (raw)
                        tty_restore(STDIN_FILENO, &saved);
                monitor_finish(&m, r < 0 ? EXIT_BERTH_FAILED : r, NULL);
                return r < 0 ? EXIT_BERTH_FAILED : r;
        }

        int np[2];
        if (pipe2(np, O_CLOEXEC) < 0) {
                json_decref(rec);
                return log_error_errno(errno, "pipe2() failed: %m");
        }
        notify_r = np[0];
        notify_w = np[1];
        pid_t pid = fork();
        if (pid < 0) {
                json_decref(rec);
                return log_error_errno(errno, "fork() failed: %m");
        }
        if (pid == 0) {
                /* The monitor: outlives the CLI, in its own session, its stdio given up once started. */
                int o[2], e[2];
                notify_r = safe_close(notify_r);
                (void) setsid();
                (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
                sigset_t mask;
                sigemptyset(&mask);
                sigaddset(&mask, SIGCHLD);
                sigprocmask(SIG_BLOCK, &mask, NULL);
                (void) signal(SIGPIPE, SIG_IGN);
                (void) signal(SIGHUP, SIG_IGN);
                (void) signal(SIGINT, SIG_IGN);
                if (access("/run/systemd/journal/socket", F_OK) < 0) {
                        _cleanup_free_ char *lp = container_path(id, "ctr.log");
                        m.log_fd = lp ? open(lp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -EBADF;
                }
                if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0)
                        _exit(EXIT_BERTH_FAILED);
                m.out_pipe = o[0];
                m.err_pipe = e[0];
                m.stdout_fd = o[1];
                m.stderr_fd = e[1];
                m.stdin_fd = attach_stdin(rec);
                m.detached = true;
                attach_listen(id); /* before the CLI returns, so that run -d; attach works */
                /* o[1], e[1] and stdin stay open in m for restarts (--restart); the supervisor drains the
                 * pipes without waiting for EOF */
                r = start_in_monitor(&m, rec, notify_w);
                json_decref(rec);
                notify_w = safe_close(notify_w);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                (void) dup2(null, 0);
                (void) dup2(null, 1);
                (void) dup2(null, 2);
                if (r != 0) {
                        attach_finish(id, r);
                        _exit(r);
                }
                /* The monitor lives as long as the container: give back what starting it needed (the bus
                 * connection is made again if the exit needs it), once the sync of the record is done (its
                 * thread would fault pages back in). */
                r = durable_wait();
                if (r < 0)
                        log_warning_errno(r, "Cannot write the state of '%s' to disk, ignoring: %m", m.name);
                m.bus = sd_bus_flush_close_unref(m.bus);
                m.trim = true;
                r = supervise_with_restarts(&m, false);
                attach_finish(id, r < 0 ? EXIT_BERTH_FAILED : r);
                monitor_finish(&m, r < 0 ? EXIT_BERTH_FAILED : r, NULL);
                monitor_done(&m);
                _exit(0);
        }
        json_decref(rec);
        durable_discard(); /* the monitor's to sync */
        notify_w = safe_close(notify_w);
        _cleanup_free_ char *answer = NULL;
        r = read_full_fd(notify_r, 64, &answer, NULL);
        (void) waitpid(pid, NULL, WNOHANG);
        int code;
        if (r < 0 || safe_atoi(strstrip_nl(answer), &code) < 0) {
                log_error("The monitor of '%s' died before the container started", m.name);
                return EXIT_BERTH_FAILED;
        }
        return code;
}
