/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-run logs: a container's output, read back from the journal (or its ctr.log without journald). */
#include <getopt.h>
#include <stdio.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "cli.h"
#include "container.h"
#include "fileio.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "main-func.h"
#include "util.h"

enum { ARG_TAIL = 0x200, ARG_SINCE };

static int print_entry(sd_journal *j, bool timestamps) {
        const void *d;
        size_t l;
        int r = sd_journal_get_data(j, "MESSAGE", &d, &l);
        if (r < 0)
                return 0;
        if (timestamps) {
                uint64_t t;
                char buf[64];
                if (sd_journal_get_realtime_usec(j, &t) >= 0 && format_rfc3339(t, buf, sizeof buf) >= 0)
                        printf("%s ", buf);
        }
        const void *p = NULL;
        size_t pl = 0;
        bool is_err = sd_journal_get_data(j, "PRIORITY", &p, &pl) >= 0 && pl == 10 &&
                      memcmp(p, "PRIORITY=3", 10) == 0;
        FILE *f = is_err ? stderr : stdout;
        fwrite((const char *) d + 8, 1, l - 8, f);
        fputc('\n', f);
        return 0;
}

static bool container_alive(const char *id) {
        json_t *rec = NULL;
        bool alive =
                container_load(id, &rec, NULL) >= 0 && (record_init_alive(rec) || record_monitor_alive(rec));
        json_decref(rec);
        return alive;
}

/* One line of ctr.log, "TIME STREAM TEXT" (what the monitor writes without journald). */
static void print_file_line(char *l, usec_t since, bool timestamps) {
        char *sp = strchr(l, ' ');
        if (!sp || (!startswith(sp + 1, "stdout ") && !startswith(sp + 1, "stderr ")))
                return;
        *sp = 0;
        usec_t t;
        if (since > 0 && (parse_rfc3339(l, &t) < 0 || t < since))
                return;
        FILE *f = startswith(sp + 1, "stderr ") ? stderr : stdout;
        if (timestamps)
                fprintf(f, "%s ", l);
        fprintf(f, "%s\n", sp + 8);
}

/* The container's ctr.log: --tail, --since, --timestamps as for the journal; --follow reads what is added
 * until the container and its monitor are gone. */
static int logs_file(const char *p, const char *id, long tail, usec_t since, bool timestamps, bool follow) {
        _cleanup_fclose_ FILE *f = fopen(p, "re");
        _cleanup_free_ char *line = NULL;
        size_t n = 0, cap = 0, skip = 0, i = 0;
        if (!f)
                return log_error_errno(errno, "Cannot read '%s': %m", p);
        if (tail >= 0) {
                for (int ch; (ch = fgetc(f)) != EOF;)
                        n += ch == '\n';
                skip = (size_t) tail < n ? n - (size_t) tail : 0;
                rewind(f);
        }
        for (;;) {
                ssize_t k = getline(&line, &cap, f);
                if (k > 0 && line[k - 1] == '\n') {
                        line[k - 1] = 0;
                        if (i++ >= skip)
                                print_file_line(line, since, timestamps);
                        continue;
                }
                if (k > 0) /* a line still being written: read it whole later */
                        (void) fseek(f, -k, SEEK_CUR);
                if (!follow)
                        return 0;
                fflush(stdout);
                bool alive = container_alive(id);
                clearerr(f);
                if (!alive)
                        follow = false; /* one more pass for what the monitor wrote before it exited */
                else
                        (void) usleep(100 * 1000);
        }
}

int verb_logs(int argc, char *argv[], void *userdata) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"follow", no_argument, NULL, 'f'},
                {"tail", required_argument, NULL, ARG_TAIL},
                {"since", required_argument, NULL, ARG_SINCE},
                {"timestamps", no_argument, NULL, 't'},
                {},
        };
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        _cleanup_free_ char *id = NULL, *match = NULL;
        bool follow = false, timestamps = false;
        long tail = -1;
        usec_t since = 0;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+hft", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        printf("Usage: berth-run logs [--follow] [--tail N] [--since TIME] [--timestamps] "
                               "CONTAINER\n\n"
                               "See berth-run(1).\n");
                        return 0;
                case 'f':
                        follow = true;
                        break;
                case 't':
                        timestamps = true;
                        break;
                case ARG_TAIL:
                        if (streq(optarg, "all"))
                                tail = -1;
                        else if (safe_atoi(optarg, &r) < 0 || r < 0)
                                return cli_usage_error("Invalid --tail '%s'", optarg);
                        else
                                tail = r;
                        break;
                case ARG_SINCE: {
                        usec_t d;
                        if (parse_rfc3339(optarg, &since) < 0) {
                                if (parse_duration(optarg, &d) < 0)
                                        return cli_usage_error("Invalid --since '%s'", optarg);
                                since = now_usec(CLOCK_REALTIME) - d;
                        }
                        break;
                }
                default:
                        r = cli_parse_common(c, optarg, argv);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return cli_usage_error("Unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind != argc - 1)
                return cli_usage_error("Expected exactly one CONTAINER");
        r = lookup_container(argv[optind], &id, NULL);
        if (r < 0)
                return r;
        /* a container started without journald logged to its ctr.log */
        _cleanup_free_ char *file = container_path(id, "ctr.log");
        if (!file)
                return log_oom();
        if (access(file, F_OK) >= 0 || access("/run/systemd/journal/socket", F_OK) < 0) {
                if (access(file, F_OK) < 0)
                        return 0; /* nothing logged yet */
                return logs_file(file, id, tail, since, timestamps, follow);
        }

        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return log_error_errno(r, "Cannot open the journal: %m");
        if (asprintf(&match, "CONTAINER_ID_FULL=%s", id) < 0)
                return log_oom();
        r = sd_journal_add_match(j, match, 0);
        if (r < 0)
                return log_error_errno(r, "Cannot match the journal: %m");
        if (tail >= 0) {
                r = sd_journal_seek_tail(j);
                if (r >= 0 && tail > 0)
                        r = sd_journal_previous_skip(j, (uint64_t) tail);
                /* after seek_tail + previous_skip we stand on the first entry to print */
                if (r > 0 && tail > 0) {
                        print_entry(j, timestamps);
                } else if (tail == 0)
                        (void) sd_journal_seek_tail(j), (void) sd_journal_previous(j);
        } else if (since > 0)
                r = sd_journal_seek_realtime_usec(j, since);
        else
                r = sd_journal_seek_head(j);
        if (r < 0)
                return log_error_errno(r, "Cannot seek in the journal: %m");

        for (;;) {
                r = sd_journal_next(j);
                if (r < 0)
                        return log_error_errno(r, "Cannot read the journal: %m");
                if (r > 0) {
                        uint64_t t;
                        if (since > 0 && sd_journal_get_realtime_usec(j, &t) >= 0 && t < since)
                                continue;
                        print_entry(j, timestamps);
                        continue;
                }
                if (!follow)
                        break;
                fflush(stdout);
                if (!container_alive(id)) {
                        /* one more pass for what the monitor wrote just before it exited */
                        follow = false;
                        continue;
                }
                r = sd_journal_wait(j, 250 * USEC_PER_MSEC);
                if (r < 0)
                        return log_error_errno(r, "Cannot wait for the journal: %m");
        }
        return 0;
}
