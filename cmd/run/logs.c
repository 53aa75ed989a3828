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

static int logs_file(const char *id, long tail) {
        _cleanup_free_ char *p = container_path(id, "ctr.log"), *buf = NULL;
        int r = read_full_file(p, 64 * 1024 * 1024, &buf, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Cannot read '%s': %m", p);
        size_t n = 0;
        for (char *s = buf; *s; s++)
                n += *s == '\n';
        size_t skip = tail >= 0 && (size_t) tail < n ? n - (size_t) tail : 0, i = 0;
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save), i++) {
                if (i < skip)
                        continue;
                char *sp = strchr(l, ' ');
                if (!sp)
                        continue;
                bool err = startswith(sp + 1, "stderr ");
                fprintf(err ? stderr : stdout, "%s\n", sp + 8);
        }
        return 0;
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
        if (access("/run/systemd/journal/socket", F_OK) < 0)
                return logs_file(id, tail);

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
                json_t *rec = NULL;
                bool alive = container_load(id, &rec, NULL) >= 0 &&
                             (record_init_alive(rec) || record_monitor_alive(rec));
                json_decref(rec);
                if (!alive) {
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
