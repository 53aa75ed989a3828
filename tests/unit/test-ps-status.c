/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps status reconciliation against real processes. cmd/ps/status.c has no main() and uses lib/ only,
 * so it is compiled into this test directly (unit tests link lib/ only). */
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../cmd/ps/status.c"
#include "paths.h"
#include "tap.h"

static const char ID[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static const char *dur(usec_t s) {
        static char buf[64];
        human_duration(s * USEC_PER_SEC, buf, sizeof buf);
        return buf;
}

static void test_human_duration(void) {
        CHECK_STR(dur(0), "Less than a second", "0s");
        CHECK_STR(dur(1), "1 second", "1s");
        CHECK_STR(dur(59), "59 seconds", "59s");
        CHECK_STR(dur(60), "About a minute", "60s");
        CHECK_STR(dur(119), "About a minute", "119s");
        CHECK_STR(dur(120), "2 minutes", "120s");
        CHECK_STR(dur(3599), "59 minutes", "59m59s");
        CHECK_STR(dur(3600), "About an hour", "1h");
        CHECK_STR(dur(5399), "About an hour", "1h29m59s");
        CHECK_STR(dur(5400), "2 hours", "1h30m rounds up as Go does");
        CHECK_STR(dur(47 * 3600), "47 hours", "47h");
        CHECK_STR(dur(48 * 3600), "2 days", "48h");
        CHECK_STR(dur(14 * 86400), "2 weeks", "14d");
        CHECK_STR(dur(60 * 86400), "2 months", "60d");
        CHECK_STR(dur(2 * 365 * 86400), "2 years", "2y");
}

static void test_names(void) {
        CHECK(container_status_from_string("running") == STATUS_RUNNING, "running");
        CHECK(container_status_from_string("stopped") == STATUS_EXITED, "podman's stopped reads as exited");
        CHECK(container_status_from_string("Running") == _STATUS_INVALID, "case matters");
        CHECK(container_status_from_string(NULL) == _STATUS_INVALID, "NULL");
        CHECK_STR(container_status_to_string(STATUS_STOPPING), "stopping", "stopping");
}

static void test_record_time(void) {
        json_auto_t *zero = json_string("0001-01-01T00:00:00Z");
        json_auto_t *t = json_string("2026-12-06T10:00:01.5Z");
        json_auto_t *i = json_integer(1700000000);
        json_auto_t *bad = json_string("yesterday");
        CHECK(record_time(zero) == 0, "Go's zero time is unset");
        CHECK(record_time(t) == 1796551201ULL * USEC_PER_SEC + 500000, "RFC 3339 with fraction");
        CHECK(record_time(i) == 1700000000ULL * USEC_PER_SEC, "Unix seconds");
        CHECK(record_time(bad) == 0, "garbage is unset");
        CHECK(record_time(NULL) == 0, "absent is unset");
}

static void test_status_string(void) {
        char b[128];
        const char *buf = b;
        usec_t now = 1000000 * USEC_PER_SEC;
        Reconciled r = {.status = STATUS_RUNNING, .started = now - 5 * USEC_PER_SEC};
        status_string(&r, now, b, sizeof b);
        CHECK_STR(buf, "Up 5 seconds", "running");
        r = (Reconciled){.status = STATUS_EXITED, .exit_code = 3, .finished = now - 180 * USEC_PER_SEC};
        status_string(&r, now, b, sizeof b);
        CHECK_STR(buf, "Exited (3) 3 minutes ago", "exited");
        r = (Reconciled){.status = STATUS_CREATED};
        status_string(&r, now, b, sizeof b);
        CHECK_STR(buf, "Created", "created");
        r = (Reconciled){.status = STATUS_PAUSED};
        status_string(&r, now, b, sizeof b);
        CHECK_STR(buf, "Paused", "paused");
        r = (Reconciled){.status = STATUS_UNKNOWN};
        status_string(&r, now, b, sizeof b);
        CHECK_STR(buf, "Unknown", "unknown");
}

static json_t *record(const char *status, pid_t pid, uint64_t init_start, pid_t mpid, uint64_t mstart,
                      const char *boot) {
        return json_pack("{s:s, s:s, s:{s:s, s:i, s:I, s:i, s:I, s:s, s:i, s:s, s:s}}", "Id", ID, "Created",
                         "2026-12-06T10:00:00Z", "State", "Status", status, "Pid", (int) pid,
                         "InitStartTime", (json_int_t) init_start, "MonitorPid", (int) mpid,
                         "MonitorStartTime", (json_int_t) mstart, "BootId", boot, "ExitCode", 7, "StartedAt",
                         "2026-12-06T10:00:01Z", "FinishedAt", "0001-01-01T00:00:00Z");
}

static ContainerStatus check(const char *status, pid_t pid, uint64_t init_start, pid_t mpid, uint64_t mstart,
                             const char *boot, const ReconcileContext *ctx, Reconciled *out) {
        json_auto_t *j = record(status, pid, init_start, mpid, mstart, boot);
        Reconciled r;
        if (reconcile(ID, j, NULL, ctx, &r) < 0)
                return _STATUS_INVALID;
        if (out)
                *out = r;
        else
                reconciled_done(&r);
        return r.status;
}

static void test_reconcile(void) {
        char tmpl[] = "/tmp/test-ps-status.XXXXXX";
        const char *dir = mkdtemp(tmpl);
        ReconcileContext ctx;
        Reconciled r;

        CHECK(dir != NULL, "temp dir");
        if (!dir)
                return;
        berth_set_runroot(dir);
        reconcile_context_init(&ctx);
        ctx.check_freezer = false;
        CHECK(ctx.boot_id[0] != 0, "boot ID read");
        _cleanup_free_ char *rundir = container_run_path(ID, NULL);
        CHECK(mkdir_p(rundir, 0700) >= 0, "runtime dir made");

        pid_t child = fork();
        if (child == 0) {
                pause();
                _exit(0);
        }
        uint64_t cst = 0, self_st = 0;
        CHECK(pid_start_time(child, &cst) >= 0 && cst > 0, "child start time");
        CHECK(pid_start_time(getpid(), &self_st) >= 0, "own start time");

        CHECK(check("running", child, cst, 0, 0, ctx.boot_id, &ctx, &r) == STATUS_RUNNING &&
                      r.pid == child && !r.reason,
              "live init: running, pid reported");
        reconciled_done(&r);
        CHECK(check("running", child, cst + 1, 0, 0, ctx.boot_id, &ctx, &r) == STATUS_EXITED &&
                      r.exit_code == EXIT_CODE_UNKNOWN && r.pid == 0 && r.reason,
              "recycled pid (start time differs): exited (255) with a reason");
        reconciled_done(&r);
        CHECK(check("running", child, cst, 999999999, 1, ctx.boot_id, &ctx, &r) == STATUS_RUNNING &&
                      r.reason && strstr(r.reason, "supervisor"),
              "killed supervisor, live init: running, reason names the supervisor");
        reconciled_done(&r);
        CHECK(check("running", child, cst, 0, 0, "00000000-0000-0000-0000-000000000000", &ctx, &r) ==
                              STATUS_EXITED &&
                      strstr(r.reason, "boot ID"),
              "boot ID changed: exited");
        reconciled_done(&r);
        CHECK(check("paused", child, cst, 0, 0, ctx.boot_id, &ctx, NULL) == STATUS_PAUSED,
              "paused record, live init, freezer not consulted: paused");
        CHECK(check("created", child, cst, 0, 0, ctx.boot_id, &ctx, NULL) == STATUS_RUNNING,
              "created record but its exact init is alive: running");
        CHECK(check("created", child, 0, 0, 0, ctx.boot_id, &ctx, NULL) == STATUS_CREATED,
              "created record, pid without start time: not trusted, created");
        CHECK(check("exited", 0, 0, 0, 0, ctx.boot_id, &ctx, &r) == STATUS_EXITED && r.exit_code == 7,
              "exited record keeps its exit code");
        reconciled_done(&r);
        CHECK(check("running", 0, 0, getpid(), self_st, ctx.boot_id, &ctx, NULL) == STATUS_RUNNING,
              "no pid yet, supervisor alive: still starting");

        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        CHECK(check("running", child, cst, getpid(), self_st, ctx.boot_id, &ctx, &r) == STATUS_STOPPING,
              "init gone, supervisor alive: stopping");
        reconciled_done(&r);
        CHECK(check("running", child, cst, 999999999, 1, ctx.boot_id, &ctx, &r) == STATUS_EXITED &&
                      r.exit_code == EXIT_CODE_UNKNOWN && r.finished == r.started,
              "init and supervisor gone: exited (255), finished time bounded by the start");
        reconciled_done(&r);
        CHECK(check("stopping", child, cst, 0, 0, ctx.boot_id, &ctx, NULL) == STATUS_EXITED,
              "stopping with nothing alive: exited");

        child = fork();
        if (child == 0) {
                pause();
                _exit(0);
        }
        CHECK(pid_start_time(child, &cst) >= 0, "second child");
        CHECK(rmdir(rundir) == 0, "runtime dir removed (as by a reboot)");
        CHECK(check("running", child, 0, 0, 0, ctx.boot_id, &ctx, &r) == STATUS_EXITED &&
                      strstr(r.reason, "runtime directory"),
              "runtime dir gone, a live pid without a start time proves nothing: exited");
        reconciled_done(&r);
        CHECK(check("running", child, cst, 0, 0, ctx.boot_id, &ctx, &r) == STATUS_RUNNING &&
                      r.pid == child && strstr(r.reason, "runtime directory is gone"),
              "runtime dir gone, but the proven init lives: running, with the reason");
        reconciled_done(&r);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);

        CHECK(check("bogus", 0, 0, 0, 0, ctx.boot_id, &ctx, &r) == STATUS_UNKNOWN &&
                      strstr(r.reason, "bogus"),
              "unknown State.Status: unknown, with the value in the reason");
        reconciled_done(&r);
        CHECK(reconcile(ID, NULL, "corrupt record: x", &ctx, &r) >= 0 && r.status == STATUS_UNKNOWN &&
                      streq(r.reason, "corrupt record: x"),
              "no record: unknown with the load error");
        reconciled_done(&r);
        json_auto_t *nostate = json_pack("{s:s}", "Id", ID);
        CHECK(reconcile(ID, nostate, NULL, &ctx, &r) >= 0 && r.status == STATUS_UNKNOWN,
              "no State: unknown");
        reconciled_done(&r);
        rm_rf(dir);
}

int main(void) {
        test_human_duration();
        test_names();
        test_record_time();
        test_status_string();
        test_reconcile();
        TAP_END();
}
