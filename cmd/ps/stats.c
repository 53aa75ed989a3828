/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps stats: the resource use of running containers, as a table, JSON, a template, or the Prometheus
 * text exposition (for node_exporter's textfile collector, run from a timer: metrics, no daemon). Streams a
 * sample a second, as docker does, unless --no-stream (or prometheus, which is always one sample). */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "cgstats.h"
#include "cli.h"
#include "containers.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "ps.h"
#include "table.h"

typedef struct Sample {
        const Container *c;
        CgStats s;
        double cpu_percent; /* first sample: average over the container's life, as podman's; then per
                               interval */
} Sample;

/* CPU time of each container at the previous sample, for the per-interval CPU % of a stream. */
typedef struct CpuMark {
        char *id;
        uint64_t cpu_nsec;
        usec_t at; /* CLOCK_MONOTONIC */
} CpuMark;

typedef struct CpuMarks {
        CpuMark *v;
        size_t n;
} CpuMarks;

static void cpu_marks_done(CpuMarks *m) {
        for (size_t i = 0; i < m->n; i++)
                free(m->v[i].id);
        m->v = mfree(m->v);
        m->n = 0;
}

static const char *image_of(const Container *c) {
        return json_string_value(json_object_get(c->record, "ImageName")) ?: "";
}

static const char *unit_of(const Container *c) {
        return json_string_value(json_object_get(c->record, "Unit")) ?: "";
}

static void fmt_size(uint64_t v, char *buf, size_t size) {
        if (v == CG_UNSET)
                snprintf(buf, size, "--");
        else
                format_size(v, buf, size);
}

static void fmt_pair(uint64_t a, uint64_t b, char *buf, size_t size) {
        char x[32], y[32];
        fmt_size(a, x, sizeof x);
        fmt_size(b, y, sizeof y);
        snprintf(buf, size, "%s / %s", x, y);
}

static double mem_percent(const CgStats *s) {
        if (s->mem_usage == CG_UNSET || s->mem_limit == CG_UNSET || s->mem_limit == 0)
                return 0;
        return 100.0 * (double) s->mem_usage / (double) s->mem_limit;
}

static json_t *num(uint64_t v) {
        return v == CG_UNSET ? json_null() : json_integer((json_int_t) v);
}

static json_t *sample_object(const Sample *x, bool no_trunc) {
        char id[65], cpu[32], mem[64], memp[32], net[64], blk[64], pids[32];
        const CgStats *s = &x->s;
        snprintf(id, sizeof id, "%.*s", no_trunc ? 64 : 12, x->c->id);
        snprintf(cpu, sizeof cpu, "%.2f%%", x->cpu_percent);
        fmt_pair(s->mem_usage, s->mem_limit, mem, sizeof mem);
        snprintf(memp, sizeof memp, "%.2f%%", mem_percent(s));
        fmt_pair(s->net_rx, s->net_tx, net, sizeof net);
        fmt_pair(s->blk_read, s->blk_write, blk, sizeof blk);
        if (s->pids == CG_UNSET)
                snprintf(pids, sizeof pids, "--");
        else
                snprintf(pids, sizeof pids, "%" PRIu64, s->pids);
        return json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:o, s:o, s:o, s:f, s:o, "
                "s:o, s:o, s:o, s:o, s:o, s:s}",
                "ID", id, "Id", x->c->id, "Name", container_name(x->c), "Image", image_of(x->c), "Unit",
                unit_of(x->c), "CPUPerc", cpu, "MemUsage", mem, "MemPerc", memp, "NetIO", net, "BlockIO",
                blk, "PIDs", pids, "CPU", x->cpu_percent, "CPUNano", num(s->cpu_nsec), "MemUsageBytes",
                num(s->mem_usage), "MemLimit", num(s->mem_limit), "MemPercent", mem_percent(s), "NetInput",
                num(s->net_rx), "NetOutput", num(s->net_tx), "BlockInput", num(s->blk_read), "BlockOutput",
                num(s->blk_write), "PIDsCurrent", num(s->pids), "PIDsLimit", num(s->pids_limit),
                "CgroupVersion", s->v2 ? "v2" : "v1");
}

/* Label values escape backslash, double quote and newline (exposition format). */
static void put_label_value(FILE *f, const char *v) {
        for (; *v; v++) {
                if (*v == '\\' || *v == '"')
                        fputc('\\', f), fputc(*v, f);
                else if (*v == '\n')
                        fputs("\\n", f);
                else
                        fputc(*v, f);
        }
}

typedef struct Metric {
        const char *name, *type, *help;
        size_t offset; /* into CgStats, or SIZE_MAX for the CPU seconds */
        double scale;
} Metric;

static const Metric metrics[] = {
        {"berth_container_cpu_seconds_total", "counter", "CPU time consumed by the container's cgroup.",
         offsetof(CgStats, cpu_nsec), 1e-9},
        {"berth_container_memory_usage_bytes", "gauge", "Memory in use, without the inactive page cache.",
         offsetof(CgStats, mem_usage), 1},
        {"berth_container_memory_limit_bytes", "gauge", "Memory limit (the host's memory when unlimited).",
         offsetof(CgStats, mem_limit), 1},
        {"berth_container_pids", "gauge", "Number of tasks in the container's cgroup.",
         offsetof(CgStats, pids), 1},
        {"berth_container_network_receive_bytes_total", "counter",
         "Bytes received on the container's interfaces (loopback excluded).", offsetof(CgStats, net_rx), 1},
        {"berth_container_network_transmit_bytes_total", "counter",
         "Bytes sent on the container's interfaces (loopback excluded).", offsetof(CgStats, net_tx), 1},
        {"berth_container_block_read_bytes_total", "counter", "Bytes read from block devices.",
         offsetof(CgStats, blk_read), 1},
        {"berth_container_block_write_bytes_total", "counter", "Bytes written to block devices.",
         offsetof(CgStats, blk_write), 1},
};

static void put_labels(FILE *f, const Container *c) {
        fputs("{id=\"", f);
        put_label_value(f, c->id);
        fputs("\",name=\"", f);
        put_label_value(f, container_name(c));
        fputs("\",image=\"", f);
        put_label_value(f, image_of(c));
        fputs("\",unit=\"", f);
        put_label_value(f, unit_of(c));
        fputs("\"}", f);
}

static void print_prometheus(const Sample *v, size_t n, FILE *f) {
        fputs("# HELP berth_container_info A running container; the value is always 1.\n"
              "# TYPE berth_container_info gauge\n",
              f);
        for (size_t i = 0; i < n; i++) {
                fputs("berth_container_info", f);
                put_labels(f, v[i].c);
                fputs(" 1\n", f);
        }
        fputs("# HELP berth_container_start_time_seconds When the container started, in Unix time.\n"
              "# TYPE berth_container_start_time_seconds gauge\n",
              f);
        for (size_t i = 0; i < n; i++) {
                fputs("berth_container_start_time_seconds", f);
                put_labels(f, v[i].c);
                fprintf(f, " %.3f\n", (double) v[i].c->st.started / 1e6);
        }
        for (size_t m = 0; m < ELEMENTSOF(metrics); m++) {
                fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", metrics[m].name, metrics[m].help, metrics[m].name,
                        metrics[m].type);
                for (size_t i = 0; i < n; i++) {
                        uint64_t val = *(const uint64_t *) ((const char *) &v[i].s + metrics[m].offset);
                        if (val == CG_UNSET)
                                continue;
                        fputs(metrics[m].name, f);
                        put_labels(f, v[i].c);
                        if (metrics[m].scale == 1)
                                fprintf(f, " %" PRIu64 "\n", val);
                        else
                                fprintf(f, " %.9f\n", (double) val * metrics[m].scale);
                }
        }
}

static int print_samples(const Sample *v, size_t n, const PsArgs *a) {
        if (arg_output == OUTPUT_PROMETHEUS) {
                print_prometheus(v, n, stdout);
                return 0;
        }
        json_auto_t *arr = json_array();
        if (!arr)
                return log_oom();
        for (size_t i = 0; i < n; i++)
                if (json_array_append_new(arr, sample_object(&v[i], a->no_trunc)) < 0)
                        return log_oom();
        if (arg_output == OUTPUT_JSON)
                return json_print(arr, stdout);
        if (arg_output == OUTPUT_TEMPLATE)
                return template_render_all(arg_template, arr, stdout);

        static const char *const headers[] = {"ID",    "NAME",   "CPU %",    "MEM USAGE / LIMIT",
                                              "MEM %", "NET IO", "BLOCK IO", "PIDS"};
        static const char *const keys[] = {"ID",      "Name",  "CPUPerc", "MemUsage",
                                           "MemPerc", "NetIO", "BlockIO", "PIDs"};
        int r = table_print_objects(arr, ELEMENTSOF(headers), headers, keys, stdout);
        return r == -ENOMEM ? log_oom() : r;
}

static int sample(const Container *c, usec_t now, Sample *ret) {
        Sample x = {.c = c};
        int r = cg_stats_read(c->st.pid, container_cgroup(c), &x.s);
        if (r < 0)
                return r;
        usec_t life = c->st.started && now > c->st.started ? now - c->st.started : 0;
        if (x.s.cpu_nsec != CG_UNSET && life > 0)
                x.cpu_percent = 100.0 * (double) x.s.cpu_nsec / 1000.0 / (double) life;
        *ret = x;
        return 0;
}

static int stats_once(const PsArgs *a, CpuMarks *marks, bool clear) {
        _cleanup_(container_list_done) ContainerList l = {};
        ReconcileContext ctx;
        bool failed = false;
        int r;

        reconcile_context_init(&ctx);
        if (a->names[0]) {
                size_t n = strv_length(a->names);
                l.items = calloc(n, sizeof(Container));
                if (!l.items)
                        return log_oom();
                for (size_t i = 0; i < n; i++) {
                        r = container_load_one(a->names[i], &ctx, &l.items[l.n]);
                        if (r == -ENOMEM)
                                return log_oom();
                        if (r < 0) {
                                log_error("No such container: '%s'", a->names[i]);
                                failed = true;
                                continue;
                        }
                        if (!container_is_live(&l.items[l.n])) {
                                log_error("Container '%s' is not running (%s)", a->names[i],
                                          container_status_to_string(l.items[l.n].st.status));
                                container_done(&l.items[l.n]);
                                failed = true;
                                continue;
                        }
                        l.n++;
                }
        } else {
                r = containers_load_all(&ctx, &l);
                if (r < 0)
                        return r;
        }

        _cleanup_free_ Sample *v = calloc(l.n ?: 1, sizeof(Sample));
        size_t n = 0;
        if (!v)
                return log_oom();
        for (size_t i = 0; i < l.n; i++) {
                if (!container_is_live(&l.items[i]))
                        continue;
                r = sample(&l.items[i], ctx.now, &v[n]);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0) {
                        /* it exited between the listing and the sample */
                        log_debug_errno(r, "Container %.12s: no stats: %m", l.items[i].id);
                        continue;
                }
                n++;
        }

        usec_t mono = now_usec(CLOCK_MONOTONIC);
        CpuMarks next = {.v = calloc(n ?: 1, sizeof(CpuMark))};
        if (!next.v)
                return log_oom();
        for (size_t i = 0; i < n; i++) {
                for (size_t k = 0; k < marks->n; k++)
                        if (streq(marks->v[k].id, v[i].c->id) && v[i].s.cpu_nsec != CG_UNSET &&
                            v[i].s.cpu_nsec >= marks->v[k].cpu_nsec && mono > marks->v[k].at)
                                v[i].cpu_percent = 100.0 *
                                                   (double) (v[i].s.cpu_nsec - marks->v[k].cpu_nsec) /
                                                   1000.0 / (double) (mono - marks->v[k].at);
                next.v[next.n] =
                        (CpuMark){.id = strdup(v[i].c->id), .cpu_nsec = v[i].s.cpu_nsec, .at = mono};
                if (!next.v[next.n].id) {
                        cpu_marks_done(&next);
                        return log_oom();
                }
                next.n++;
        }
        cpu_marks_done(marks);
        *marks = next;

        if (clear)
                fputs("\033[2J\033[H", stdout);
        r = print_samples(v, n, a);
        if (r < 0)
                return log_error_errno(r, "Failed to write the stats: %m");
        if (fflush(stdout) != 0)
                return log_error_errno(-errno, "Failed to write the stats: %m");
        return failed ? -ESRCH : 0;
}

int verb_stats(const PsArgs *a) {
        _cleanup_(cpu_marks_done) CpuMarks marks = {};
        bool clear = isatty(STDOUT_FILENO) && arg_output == OUTPUT_TABLE;
        int r;

        if (a->no_stream || arg_output == OUTPUT_PROMETHEUS)
                return stats_once(a, &marks, false);
        for (;;) {
                r = stats_once(a, &marks, clear);
                if (r < 0)
                        return r;
                (void) nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
        }
}
