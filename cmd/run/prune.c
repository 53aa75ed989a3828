/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-run prune: remove every container that is not running (podman container prune). */
#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "fileio.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "main-func.h"
#include "record.h"
#include "util.h"

typedef struct PruneFilter {
        usec_t until;   /* created before; USEC_INFINITY: any */
        char **labels;  /* K or K=V, all must match */
        int autoremove; /* -1: any */
} PruneFilter;

static int parse_filter(const char *f, PruneFilter *pf) {
        const char *v;
        if ((v = startswith(f, "until="))) {
                usec_t t, d;
                if (parse_rfc3339(v, &t) >= 0)
                        ;
                else if (parse_duration(v, &d) >= 0)
                        t = now_usec(CLOCK_REALTIME) - MIN(d, now_usec(CLOCK_REALTIME));
                else
                        return cli_usage_error(
                                "Invalid --filter '%s': until= takes a duration (24h, 10m) or "
                                "an RFC 3339 time",
                                f);
                pf->until = MIN(pf->until, t);
                return 0;
        }
        if ((v = startswith(f, "label="))) {
                if (isempty(v) || v[0] == '=')
                        return cli_usage_error("Invalid --filter '%s': expected label=KEY[=VALUE]", f);
                return strv_extend(&pf->labels, v) < 0 ? log_oom() : 0;
        }
        if ((v = startswith(f, "autoremove="))) {
                /* berth's own: the --rm containers whose monitor died before it could remove them */
                pf->autoremove = parse_boolean(v);
                if (pf->autoremove < 0)
                        return cli_usage_error("Invalid --filter '%s': autoremove=true or false", f);
                return 0;
        }
        return cli_usage_error("Invalid --filter '%s': until=DURATION, label=KEY[=VALUE] or autoremove=BOOL",
                               f);
}

static bool filter_matches(json_t *rec, void *userdata) {
        const PruneFilter *pf = userdata;
        if (pf->until != USEC_INFINITY) {
                usec_t created;
                if (parse_rfc3339(record_get_string(rec, "Created") ?: "", &created) < 0 ||
                    created >= pf->until)
                        return false;
        }
        if (pf->autoremove >= 0 && json_is_true(json_object_get(json_object_get(rec, "HostConfig"),
                                                                "AutoRemove")) != pf->autoremove)
                return false;
        json_t *labels = json_object_get(json_object_get(rec, "Config"), "Labels");
        for (size_t i = 0; pf->labels && pf->labels[i]; i++) {
                const char *eq = strchr(pf->labels[i], '=');
                _cleanup_free_ char *k =
                        strndup(pf->labels[i], eq ? (size_t) (eq - pf->labels[i]) : strlen(pf->labels[i]));
                if (!k)
                        return false;
                json_t *v = json_object_get(labels, k);
                if (!json_is_string(v) || (eq && !streq(json_string_value(v), eq + 1)))
                        return false;
        }
        return true;
}

static bool confirm(void) {
        char line[16] = "";
        fputs("WARNING! This will remove all non running containers.\n"
              "Are you sure you want to continue? [y/N] ",
              stderr);
        fflush(stderr);
        if (!fgets(line, sizeof line, stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

static void prune_filter_done(PruneFilter **pf) {
        strv_free((*pf)->labels);
        (*pf)->labels = NULL;
}

static PruneFilter arg_filter;
static bool arg_force;

static int handle_prune(int c, const char *arg) {
        if (c == 'f')
                arg_force = true;
        else if (c == 'F')
                return parse_filter(arg, &arg_filter);
        else
                return cli_usage_error("Unknown option");
        return 0;
}

int verb_prune(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {
                {"force", no_argument, NULL, 'f'}, {"filter", required_argument, NULL, 'F'}, {}};
        _cleanup_(prune_filter_done) PruneFilter *pf = &arg_filter;
        _cleanup_strv_free_ char **ids = NULL;
        int r, ret = 0;

        arg_filter = (PruneFilter){.until = USEC_INFINITY, .autoremove = -1};
        arg_force = false;
        r = verb_parse_options(argc, argv,
                               "Usage: berth-run prune [-f] [--filter FILTER]...\n\n"
                               "Remove every container that is not running, print their IDs.\n\n"
                               "  -f --force         Do not ask for confirmation\n"
                               "     --filter F      until=DURATION or an RFC 3339 time: created before;\n"
                               "                     label=KEY[=VALUE]: has the label;\n"
                               "                     autoremove=BOOL: was run with --rm (or not)\n\n"
                               "See berth-run(1).\n",
                               extra, "f", handle_prune);
        if (r <= 0)
                return r;
        if (optind < argc)
                return cli_usage_error("Unexpected argument '%s'", argv[optind]);
        if (!arg_force && !confirm())
                return 0;
        r = containers_stopped(filter_matches, pf, &ids);
        if (r < 0)
                return r;
        for (size_t i = 0; ids && ids[i]; i++) {
                /* a container started meanwhile is refused (-EBUSY) and kept */
                r = container_remove(ids[i], ids[i], false, false);
                if (r == 0)
                        puts(ids[i]);
                else if (r < 0 && r != -EBUSY)
                        ret = r;
        }
        return ret;
}
