/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps top: the processes of a running container, as docker top shows them: the host's ps(1) with the
 * given options (default -ef), keeping the lines whose PID is in the container's cgroup. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>

#include "cgstats.h"
#include "cli.h"
#include "command.h"
#include "containers.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "ps.h"
#include "spawn.h"
#include "table.h"

#define PS_OUTPUT_MAX (16 * 1024 * 1024)

/* ps ARGS... [-q PID,PID,...]; its stderr goes to ours, except in the first try with -q (the one a failure
 * of which is retried without it). Returns the exit status or -errno. */
static int run_ps(char **args, const char *quick, char **ret_out) {
        size_t n = strv_length(args);
        _cleanup_free_ char **v = calloc(n + 4, sizeof(char *));
        if (!v)
                return -ENOMEM;
        v[0] = (char *) "ps";
        memcpy(v + 1, args, n * sizeof(char *));
        if (quick) {
                v[n + 1] = (char *) "-q";
                v[n + 2] = (char *) quick;
        }
        return command_output(v, quick, PS_OUTPUT_MAX, ret_out);
}

static bool pid_in(const PidSet *set, long pid) {
        for (size_t i = 0; i < set->n; i++)
                if (set->pids[i] == pid)
                        return true;
        return false;
}

/* Field k (0-based) of a whitespace-separated line, copied into buf; false if the line has fewer. */
static bool field(const char *line, size_t k, char *buf, size_t size) {
        for (const char *p = line;;) {
                p += strspn(p, " \t");
                if (!*p)
                        return false;
                size_t len = strcspn(p, " \t");
                if (k-- == 0) {
                        snprintf(buf, size, "%.*s", (int) MIN(len, size - 1), p);
                        return true;
                }
                p += len;
        }
}

static size_t count_fields(const char *line) {
        char buf[8];
        size_t n = 0;
        while (field(line, n, buf, sizeof buf))
                n++;
        return n;
}

/* A process line as an array of its columns, the last one (the command) keeping its spaces. */
static json_t *split_line(const char *line, size_t ncols) {
        json_t *a = json_array();
        const char *p = line;
        for (size_t k = 0; a && k < ncols; k++) {
                p += strspn(p, " \t");
                size_t len = k + 1 == ncols ? strlen(p) : strcspn(p, " \t");
                json_array_append_new(a, json_stringn(p, len));
                p += len;
        }
        return a;
}

int verb_top(const PsArgs *a) {
        static char *default_args[] = {(char *) "-ef", NULL};
        ReconcileContext ctx;
        _cleanup_(container_done) Container c = {};
        _cleanup_free_ char *out = NULL, *quick = NULL;
        int r;

        reconcile_context_init(&ctx);
        r = container_load_one(a->names[0], &ctx, &c);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "No such container: '%s'", a->names[0]);
        if (!container_is_live(&c))
                return log_error_errno(-ESRCH, "Container '%s' is not running (%s)", a->names[0],
                                       container_status_to_string(c.st.status));

        PidSet set = {};
        r = cg_procs_read(c.st.pid, container_cgroup(&c), &set);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "Cannot read the processes of container '%s': %m", a->names[0]);
        _cleanup_free_ pid_t *pids = set.pids;

        /* -q PIDs makes ps read only those processes; some option sets refuse it (f), then all of them */
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&quick, &len);
        if (!f)
                return log_oom();
        for (size_t i = 0; i < set.n; i++)
                fprintf(f, "%s%d", i ? "," : "", (int) set.pids[i]);
        if (fclose(TAKE_PTR(f)) != 0)
                return log_oom();

        char **args = a->names[1] ? a->names + 1 : default_args;
        r = set.n > 0 ? run_ps(args, quick, &out) : -1;
        if (r != 0) {
                out = mfree(out);
                r = run_ps(args, NULL, &out);
        }
        if (r == 127 || r == -ENOENT)
                return log_error_errno(-ENOENT, "Cannot run ps(1): is procps installed?");
        if (r < 0)
                return log_error_errno(r, "Cannot run ps(1): %m");
        if (r > 0)
                return log_error_errno(-EINVAL, "ps %s failed with status %d", args[0], r);

        char *save = NULL, *header = strtok_r(out, "\n", &save);
        if (!header)
                return log_error_errno(-EPROTO, "ps printed nothing");
        size_t pid_col = SIZE_MAX, ncols = count_fields(header);
        char buf[32];
        for (size_t k = 0; k < ncols; k++)
                if (field(header, k, buf, sizeof buf) && streq(buf, "PID")) {
                        pid_col = k;
                        break;
                }
        if (pid_col == SIZE_MAX)
                return log_error_errno(-EINVAL, "ps output has no PID column: add 'pid' to its -o fields");

        json_auto_t *rows = json_array();
        if (!rows)
                return log_oom();
        if (arg_output == OUTPUT_TABLE)
                printf("%s\n", header);
        bool last_in = false; /* a thread line (PID "-", ps -L/-m) goes with the process above it */
        for (char *line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                long pid;
                if (!field(line, pid_col, buf, sizeof buf))
                        continue;
                if (streq(buf, "-")) {
                        if (!last_in)
                                continue;
                } else {
                        char *end;
                        errno = 0;
                        pid = strtol(buf, &end, 10);
                        last_in = errno == 0 && *end == 0 && pid_in(&set, pid);
                        if (!last_in)
                                continue;
                }
                if (arg_output == OUTPUT_TABLE)
                        printf("%s\n", line);
                else if (json_array_append_new(rows, split_line(line, ncols)) < 0)
                        return log_oom();
        }
        if (arg_output == OUTPUT_TABLE)
                return fflush(stdout) == 0 ? 0 : log_error_errno(-errno, "Failed to write: %m");

        json_auto_t *titles = split_line(header, ncols);
        json_auto_t *o = json_pack("{s:O, s:O}", "Titles", titles, "Processes", rows);
        if (!o)
                return log_oom();
        if (arg_output == OUTPUT_JSON)
                return json_print(o, stdout);
        json_auto_t *one = json_pack("[O]", o);
        return one ? template_render_all(arg_template, one, stdout) : log_oom();
}
