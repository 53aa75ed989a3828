/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting a container: rootfs, scope, runtime. Then monitor.c supervises it. */
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "bus.h"
#include "container.h"
#include "durable.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "monitor-internal.h"
#include "monitor.h"
#include "paths.h"
#include "record.h"
#include "rootfs.h"
#include "scope.h"
#include "spawn.h"
#include "tty.h"
#include "util.h"

const char *runtime_state_root(void) {
        static char *p = NULL;
        if (!p)
                p = berth_run_path("runtime");
        return p;
}

static void close_fds_on_exec(void) {
        /* Nothing of ours reaches the runtime or the container (runc CVE-2024-21626). */
        (void) syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
}

/* Fork a child that dies with us and waits on a gate, a pipe: in the parent *ret_fd is its write end (a byte
 * opens the gate, closing it ends the wait), in the child (return value 0) its read end. */
static pid_t fork_gated(int *ret_fd) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                safe_close(p[0]);
                safe_close(p[1]);
                return -errno;
        }
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                safe_close(p[1]);
                *ret_fd = p[0];
                return 0;
        }
        safe_close(p[0]);
        *ret_fd = p[1];
        return pid;
}

/* A child of ours that only exists to keep the scope populated while the runtime hands the container over;
 * it ends when *ret_fd is closed. */
static pid_t spawn_placeholder(int *ret_fd) {
        pid_t pid = fork_gated(ret_fd);
        if (pid == 0) {
                /* nothing of a caller's (a pipe read to its end) stays open in here */
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                char c;
                (void) dup2(null, 0);
                (void) dup2(null, 1);
                (void) dup2(null, 2);
                while (read(*ret_fd, &c, 1) < 0 && errno == EINTR)
                        ;
                _exit(0);
        }
        return pid;
}

static int runtime_error_status(const char *logfile, char **ret_msg) {
        _cleanup_free_ char *buf = NULL;
        const char *last = NULL;
        int status = EXIT_BERTH_FAILED;

        if (read_full_file(logfile, 1024 * 1024, &buf, NULL) < 0)
                return status;
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                json_t *j = json_loads(l, 0, NULL);
                const char *lvl = json_string_value(json_object_get(j, "level"));
                const char *msg = json_string_value(json_object_get(j, "msg"));
                if (msg && streq_ptr(lvl, "error")) {
                        free(*ret_msg);
                        *ret_msg = strdup(msg);
                        last = *ret_msg;
                }
                json_decref(j);
        }
        if (last) {
                /* only a failed exec of the command itself is 126/127; a setup error stays 125 */
                bool exec_failed = strstr(last, "exec: \"") != NULL;
                if (exec_failed &&
                    (strstr(last, "executable file not found") || strstr(last, "no such file or directory")))
                        status = EXIT_NOT_FOUND;
                else if (exec_failed &&
                         (strstr(last, "permission denied") || strstr(last, "exec format error")))
                        status = EXIT_CANNOT_INVOKE;
        }
        return status;
}

static void child_killp(pid_t *pid) {
        if (*pid > 0) {
                (void) kill(*pid, SIGKILL);
                (void) waitpid(*pid, NULL, 0);
        }
}

/* The manager's connection of this process, shared by create (it writes the scope's cgroup into config.json)
 * and the start that follows in `run`. A forked monitor makes its own: sd-bus refuses an inherited one. Sets
 * *ret to NULL (and returns 0) inside a service, where no scope is made, and without a manager (warned
 * once). */
static int manager_bus(const char *name, sd_bus **ret) {
        static sd_bus *shared = NULL;
        static pid_t shared_pid = 0;
        static bool warned = false;
        int r;

        *ret = NULL;
        if (getenv("INVOCATION_ID") || warned)
                return 0; /* inside a service: the container stays in the service's cgroup */
        if (shared && shared_pid == getpid() && sd_bus_is_open(shared) > 0) {
                *ret = sd_bus_ref(shared);
                return 0;
        }
        r = bus_connect_manager(BUS_MANAGER_AUTO, ret, NULL);
        if (r == -EHOSTDOWN) {
                log_warning("No systemd manager reachable: running '%s' without a scope", name);
                warned = true;
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the systemd manager: %m");
        shared = sd_bus_ref(*ret); /* an inherited one is dropped, never used */
        shared_pid = getpid();
        return 0;
}

static int connect_manager(Monitor *m) {
        if (m->bus)
                return 0;
        return manager_bus(m->name, &m->bus);
}

/* What create did in this process (`run`, or a forked monitor of `run -d`): the start that follows need not
 * read config.json back, nor prepare the rootfs again. */
static struct { char *id, *cgroups_path; } fresh;

/* Inside a service (`ExecStart=berth-run run ...`, Delegate=yes) the container belongs in the service's
 * cgroup, so that the unit's resource settings, `systemctl status` and its stop apply to it: in
 * <service>/container, by absolute path (a relative one lands beside the service in the unified hierarchy).
 * berth-run itself moves to <service>/supervisor before the runtime starts: cgroup v2 keeps processes in
 * leaves only. NULL outside a service's cgroup, or without a unified hierarchy (legacy v1: the relative path
 * works there). */
static char *service_cgroup(void) {
        _cleanup_free_ char *own = NULL;
        if (!getenv("INVOCATION_ID") || cgroup_unified_path(0, &own) < 0)
                return NULL;
        if (endswith(own, "/supervisor"))
                own[strlen(own) - strlen("/supervisor")] = 0;
        if (!endswith(own, ".service")) /* INVOCATION_ID without a service's cgroup: not ours to split */
                return NULL;
        return TAKE_PTR(own);
}

char *monitor_cgroups_path(const char *name, const char *slice) {
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *unit = NULL, *scg = NULL, *svc = service_cgroup();
        char *p = NULL;
        if (asprintf(&unit, "berth-%s.scope", name) < 0)
                return NULL;
        if (svc)
                p = path_join(svc, "container");
        else if (manager_bus(name, &bus) >= 0 && bus &&
                 scope_cgroup_predict(bus, slice ?: "machine.slice", unit, &scg) >= 0)
                p = path_join(scg, "container");
        else if (asprintf(&p, "%s/container", unit) < 0)
                p = NULL;
        free(fresh.cgroups_path);
        fresh.cgroups_path = p ? strdup(p) : NULL;
        return p;
}

void monitor_created(const char *id) {
        free(fresh.id);
        fresh.id = strdup(id);
}

bool monitor_fresh(const char *id) {
        return fresh.id && streq(fresh.id, id);
}

/* Fork the runtime's child: it waits for a byte on *ret_go (then closed by the caller) before it execs the
 * runtime. */
static pid_t fork_runtime(Monitor *m, const char *logfile, const char *pidfile, const char *bundle,
                          int *ret_go) {
        pid_t child = fork_gated(ret_go);
        if (child == 0) {
                char c;
                if (read(*ret_go, &c, 1) != 1)
                        _exit(EXIT_BERTH_FAILED);
                if (m->stdin_fd >= 0)
                        (void) dup2(m->stdin_fd, 0);
                if (m->stdout_fd >= 0)
                        (void) dup2(m->stdout_fd, 1);
                if (m->stderr_fd >= 0)
                        (void) dup2(m->stderr_fd, 2);
                /* the monitor blocks and ignores signals, and berth-run may itself have been started with
                 * some ignored (nohup, a background job): the runtime and the container inherit none of that
                 */
                spawn_reset_signals();
                /* the runtime would run its own notify proxy: READY=1 is ours to relay */
                (void) unsetenv("NOTIFY_SOCKET");
                close_fds_on_exec();
                /* runc chdirs into the bundle, so "console.sock" names the socket there, whatever the length
                 * of the state paths (sun_path holds 108 bytes) */
                const char *argv[] = {m->runtime,
                                      "--root",
                                      runtime_state_root(),
                                      "--log",
                                      logfile,
                                      "--log-format",
                                      "json",
                                      "run",
                                      "--detach",
                                      "--pid-file",
                                      pidfile,
                                      "--bundle",
                                      bundle,
                                      m->tty ? "--console-socket" : m->id,
                                      m->tty ? "console.sock" : NULL,
                                      m->id,
                                      NULL};
                execvp(m->runtime, (char **) argv);
                fprintf(stderr, "%s: Cannot execute the runtime '%s': %m\n", log_program(), m->runtime);
                _exit(EXIT_BERTH_FAILED);
        }
        return child;
}

/* The runtime's exit status once it has returned (for -t, after it sent the terminal). */
static int wait_runtime(Monitor *m, pid_t child, int console, int *ret_status) {
        bool exited = false;
        int r;
        while (console >= 0 && m->master < 0) {
                struct pollfd pf = {.fd = console, .events = POLLIN};
                if (poll(&pf, 1, 100) > 0) {
                        r = console_socket_receive(console, &m->master);
                        if (r < 0)
                                return log_error_errno(r, "Cannot receive the container's terminal: %m");
                        break;
                }
                pid_t w = waitpid(child, ret_status, WNOHANG);
                if (w == child) {
                        exited = true;
                        break;
                }
        }
        while (!exited && waitpid(child, ret_status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "waitpid() failed: %m");
        return 0;
}

/* Open the gate of the runtime's child and wait for the runtime's exit status. */
static int run_gated(Monitor *m, pid_t *child, int *go_w, int console, int *ret_status) {
        if (write(*go_w, "g", 1) != 1)
                return log_error_errno(errno, "Cannot start the runtime: %m");
        *go_w = safe_close(*go_w);
        int r = wait_runtime(m, *child, console, ret_status);
        if (r < 0)
                return r;
        *child = 0;
        return 0;
}

/* runc's "unable to apply cgroup configuration ... no such file or directory": while the manager realized
 * the new scope (or a sibling, or the slice), it removed the still empty <scope>/container in a controller
 * it does not enable for the scope (systemd trims such paths). Rare, and harmless to retry once the scope is
 * made; a sibling started meanwhile can do it again, so up to three times. */
static bool runtime_lost_cgroup(const char *logfile) {
        _cleanup_free_ char *buf = NULL;
        if (read_full_file(logfile, 1024 * 1024, &buf, NULL) < 0)
                return false;
        return strstr(buf, "unable to apply cgroup configuration") &&
               strstr(buf, "no such file or directory");
}

/* Give the runtime the scope's cgroup by its absolute path, so that it can create the container's cgroup
 * below it while the manager is still making the scope (the runtime and the scope start in parallel). False:
 * the scope is made first, with the runtime in it, and the relative path of config.json applies. Inside a
 * service, the service's cgroup (service_cgroup()). */
static bool cgroups_path_absolute(Monitor *m) {
        _cleanup_free_ char *scg = NULL, *cfgp = container_path(m->id, "config.json"), *cgp = NULL;
        json_auto_t *cfg = NULL;
        json_t *lx;

        if (!m->bus)
                scg = service_cgroup();
        else if (scope_cgroup_predict(m->bus, m->slice ?: "machine.slice", m->unit, &scg) < 0)
                scg = mfree(scg);
        if (!cfgp || !scg || !(cgp = path_join(scg, "container")))
                return false;
        if (monitor_fresh(m->id) && streq_ptr(fresh.cgroups_path, cgp)) {
                /* written so by create, moments ago */
                free(m->scope_cgroup);
                m->scope_cgroup = TAKE_PTR(scg);
                return true;
        }
        if (json_read_file(cfgp, 64 * 1024 * 1024, &cfg, NULL) < 0 ||
            !json_is_object(lx = json_object_get(cfg, "linux")))
                return false;
        if (!streq_ptr(json_string_value(json_object_get(lx, "cgroupsPath")), cgp) &&
            (json_object_set_new(lx, "cgroupsPath", json_string(cgp)) < 0 ||
             json_write_file_atomic(cfgp, cfg) < 0))
                return false;
        free(m->scope_cgroup);
        m->scope_cgroup = TAKE_PTR(scg);
        return true;
}

/* `runc run --detach` returns once it has told its init to exec the command, not once it did: until then the
 * init is a Go program that a signal (a quick `stop`) kills with exit status 2 instead of reaching the
 * command. Wait (briefly) until the command runs. */
static void wait_exec(pid_t pid) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/comm", (int) pid);
        for (int i = 0; i < 1000; i++) {
                _cleanup_free_ char *comm = NULL;
                if (read_full_file(p, 64, &comm, NULL) < 0 || !startswith(comm, "runc:["))
                        return;
                struct timespec ts = {0, 200 * 1000};
                (void) nanosleep(&ts, NULL);
        }
}

int monitor_spawn_runtime(Monitor *m) {
        _cleanup_free_ char *logfile = container_run_path(m->id, "runtime.log");
        _cleanup_free_ char *pidfile = container_run_path(m->id, "pid");
        _cleanup_free_ char *bundle = container_path(m->id, NULL);
        _cleanup_free_ char *rundir = container_run_path(m->id, NULL);
        _cleanup_free_ char *msg = NULL, *cgroup = NULL;
        _cleanup_close_ int placeholder_fd = -EBADF, go_w = -EBADF;
        _cleanup_(child_killp) pid_t child = 0;
        pid_t placeholder = 0;
        _cleanup_(bus_job_freep) BusJob *job = NULL;
        ScopeParams scope = {};
        int r, status;

        if (!logfile || !pidfile || !bundle || !rundir)
                return log_oom();
        r = mkdir_p(rundir, 0700);
        if (r < 0)
                return log_error_errno(r, "Cannot create '%s': %m", rundir);
        (void) unlink(logfile);
        (void) unlink(pidfile);

        r = connect_manager(m);
        if (r < 0)
                return r;
        _cleanup_close_ int console = -EBADF;
        if (m->tty) {
                r = console_socket_listen(bundle, &console);
                if (r < 0)
                        return log_error_errno(r, "Cannot create the console socket in '%s': %m", bundle);
        }
        /* On a pure cgroup v2 host the scope comes first: runc, if it came first, would enable controllers
         * on the scope's cgroup for <scope>/container, and the manager could then not move the placeholder
         * in (v2 allows no processes in a cgroup whose children have controllers). The path stays absolute.
         */
        bool parallel = m->bus && cgroups_path_absolute(m) && !cgroup_is_unified();
        if (!m->bus && cgroups_path_absolute(m)) {
                /* inside a service: the container in <service>/container, berth-run in a leaf beside it */
                _cleanup_free_ char *sup = path_join(m->scope_cgroup, "supervisor");
                r = sup ? cgroup_unified_enter(sup) : -ENOMEM;
                if (r < 0)
                        log_warning_errno(r, "Cannot move berth-run into '%s', ignoring: %m", strna(sup));
        }

        child = fork_runtime(m, logfile, pidfile, bundle, &go_w);
        if (child < 0)
                return log_error_errno(child, "fork() failed: %m");

        if (m->bus) {
                placeholder = spawn_placeholder(&placeholder_fd);
                if (placeholder < 0)
                        return log_error_errno(placeholder, "fork() failed: %m");
                pid_t pids[] = {placeholder, child};
                scope = (ScopeParams){
                        .unit = m->unit,
                        .slice = m->slice,
                        .description = m->description,
                        .pids = pids,
                        .n_pids = parallel ? 1 : 2,
                        .memory_max = m->memory_max,
                        .cpu_quota_usec = m->cpu_quota_usec,
                        .cpu_weight = m->cpu_weight,
                        .tasks_max = m->tasks_max,
                        .memory_low = m->memory_low,
                        .memory_swap_max = m->memory_swap_max,
                        .memory_swap_set = m->memory_swap_set,
                        .allowed_cpus = m->allowed_cpus,
                        .allowed_mems = m->allowed_mems,
                        .stop_timeout_usec = m->stop_timeout_usec,
                        .kill_signal = m->stop_signal,
                };
                phase("runtime forked, starting the scope");
                if (parallel) {
                        r = scope_start_async(m->bus, &scope, &job);
                        if (r < 0)
                                return r;
                        m->scope_made = true;
                        cgroup = strdup(m->scope_cgroup);
                        if (!cgroup)
                                return log_oom();
                } else {
                        r = scope_start(m->bus, &scope, &cgroup);
                        if (r < 0)
                                return r;
                        m->scope_made = true;
                        phase("scope ready");
                }
        }
        durable_start(); /* while the runtime works */
        r = run_gated(m, &child, &go_w, console, &status);
        if (r < 0)
                return r;
        r = durable_wait();
        if (r < 0) {
                m->error = strdup("its state cannot be written to disk");
                return log_error_errno(r, "Cannot write the state of '%s' to disk: %m", m->name);
        }
        if (job) {
                /* done by now: the runtime takes longer than the manager */
                r = scope_wait(job, &scope);
                phase("scope ready");
                if (r < 0) {
                        m->error = strdup("the systemd scope could not be started");
                        return r; /* the caller's cleanup deletes (kills) what the runtime started */
                }
        }
        /* once the scope is made (a sibling's start can still trim, hence a few times) */
        for (int retry = 0;
             retry < 3 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0) && runtime_lost_cgroup(logfile);
             retry++) {
                log_debug("The manager removed the new cgroup of '%s' under the runtime, again", m->name);
                monitor_runtime_delete(m->runtime, m->id);
                (void) unlink(logfile);
                (void) unlink(pidfile);
                child = fork_runtime(m, logfile, pidfile, bundle, &go_w);
                if (child < 0)
                        return log_error_errno(child, "fork() failed: %m");
                r = run_gated(m, &child, &go_w, console, &status);
                if (r < 0)
                        return r;
        }
        /* The manager sends every signal (every unit's changes) to every client of its private socket: a
         * connection held while the container runs costs it work for each container started anywhere. The
         * exit connects again to stop the scope. */
        job = bus_job_free(job);
        m->bus = sd_bus_flush_close_unref(m->bus);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                r = runtime_error_status(logfile, &msg);
                log_error("Cannot start container '%s': %s", m->name,
                          msg ?: "the runtime failed without a message");
                m->error = TAKE_PTR(msg);
                m->fail_code = r;
                return -EIO;
        }

        _cleanup_free_ char *pidtext = NULL;
        int pid;
        r = read_full_file(pidfile, 64, &pidtext, NULL);
        if (r < 0 || safe_atoi(pidtext, &pid) < 0 || pid <= 0)
                return log_error_errno(r < 0 ? r : -EBADMSG, "Cannot read the runtime's pid file '%s'",
                                       pidfile);
        m->pid = pid;
        wait_exec(pid);

        if (cgroup && cgroup_is_hybrid()) {
                _cleanup_free_ char *cur = NULL;
                if (cgroup_unified_path(pid, &cur) >= 0 && !startswith(cur, cgroup)) {
                        r = cgroup_unified_move(cur, cgroup);
                        if (r < 0)
                                log_warning_errno(r,
                                                  "Cannot move container '%s' into its scope, ignoring: %m",
                                                  m->name);
                }
        }
        return 0;
}
