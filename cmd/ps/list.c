/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps (the listing): records are read straight from $ROOT/containers and reconciled with /proc, the
 * runtime directory and the boot ID; no D-Bus, no lock, no sibling program on this path. */
#include <stdio.h>

#include "cli.h"
#include "containers.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "ps.h"
#include "table.h"

static bool shown_without_all(const Container *c) {
        return c->st.status == STATUS_RUNNING || c->st.status == STATUS_PAUSED ||
               c->st.status == STATUS_STOPPING;
}

static int print_table(const Container *const *v, size_t n, bool no_trunc, usec_t now) {
        static const char *const headers[] = {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
                                              "STATUS",       "PORTS", "NAMES"};
        _cleanup_(table_freep) Table *t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return log_oom();
        for (size_t i = 0; i < n; i++) {
                const Container *c = v[i];
                char id[65], status[128], created[96], d[64];
                json_auto_t *cmd = container_command(c);
                _cleanup_free_ char *ports = container_ports_string(c), *command = NULL;
                json_t *e;
                size_t k;
                char **words = calloc(json_array_size(cmd) + 1, sizeof(char *));
                if (!words || !cmd) {
                        free(words);
                        return log_oom();
                }
                json_array_foreach (cmd, k, e) {
                        words[k] = (char *) json_string_value(e);
                }
                command = strv_join(words, " ");
                free(words);
                if (!command)
                        return log_oom();
                /* podman cuts the command at 17 characters */
                if (!no_trunc && strlen(command) > 17)
                        strcpy(command + 17, "...");
                snprintf(id, sizeof id, "%.*s", no_trunc ? 64 : 12, c->id);
                container_status_string(c, now, status, sizeof status);
                human_duration(c->st.created && now > c->st.created ? now - c->st.created : 0, d, sizeof d);
                snprintf(created, sizeof created, "%s ago", d);
                _cleanup_free_ char *lost_name = c->record ? NULL : container_name_of_id(c->id);
                const char *name = lost_name ?: container_name(c);
                const char *cells[] = {
                        id,
                        json_string_value(json_object_get(c->record, "ImageName")) ?: "",
                        command,
                        created,
                        status,
                        ports ?: "",
                        *name ? name : "<unknown>",
                };
                if (table_add_row(t, cells) < 0)
                        return log_oom();
        }
        return table_print(t, stdout);
}

/* The listing and its JSON live until exit, in globals so that leak checkers see them: freeing a thousand
 * trees just before exit() costs more time than the scanner takes to build them. */
static ContainerList listing;
static json_t *listing_json;
static char *listing_text;

/* json_print()'s output, made in memory and written at once: jansson writes to a FILE piece by piece, one
 * locked fwrite() each, which costs more than building the text. */
static int print_json(json_t *j) {
        char *s = listing_text = json_dumps(j, JSON_INDENT(4) | JSON_SORT_KEYS);
        if (!s)
                return -ENOMEM;
        fputs(s, stdout);
        fputc('\n', stdout);
        return 0;
}

int verb_list(const PsArgs *a) {
        _cleanup_(container_filter_freep) ContainerFilter *filter = NULL;
        ContainerList *l = &listing;
        ReconcileContext ctx;
        int r;

        r = container_filter_new(a->filters, &filter);
        if (r < 0)
                return r;
        reconcile_context_init(&ctx);
        r = containers_load_all(&ctx, l);
        if (r < 0)
                return r;

        bool all = a->all || a->last >= 0 || json_object_get(a->filters, "status");
        _cleanup_free_ const Container **v = calloc(l->n ?: 1, sizeof(Container *));
        size_t n = 0;
        if (!v)
                return log_oom();
        for (size_t i = 0; i < l->n; i++) {
                if (a->last >= 0 && n >= (size_t) a->last)
                        break;
                if (!all && !shown_without_all(&l->items[i]))
                        continue;
                if (!container_filter_match(filter, &l->items[i]))
                        continue;
                v[n++] = &l->items[i];
        }

        for (size_t i = 0; i < n; i++)
                if (v[i]->unreadable)
                        log_warning("Container %.12s: %s", v[i]->id, v[i]->st.reason);

        if (a->quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%.*s\n", a->no_trunc ? 64 : 12, v[i]->id);
                return fflush(stdout) == 0 ? 0 : log_error_errno(-errno, "Failed to write the listing: %m");
        }
        if (arg_output == OUTPUT_TABLE)
                return print_table(v, n, a->no_trunc, ctx.now);

        json_t *arr = listing_json = json_array();
        if (!arr)
                return log_oom();
        for (size_t i = 0; i < n; i++)
                if (json_array_append_new(arr,
                                          arg_output == OUTPUT_TEMPLATE
                                                  ? container_template_object(v[i], ctx.now, a->no_trunc)
                                                  : container_ps_object(v[i], ctx.now)) < 0)
                        return log_oom();
        if (arg_output == OUTPUT_JSON)
                r = print_json(arr);
        else if (arg_output == OUTPUT_TEMPLATE)
                r = template_render_all(arg_template, arr, stdout);
        else
                return cli_usage_error("--format prometheus is only for 'berth-ps stats'");
        if (r == -EINVAL)
                return cli_usage_error("Invalid --format template '%s'", arg_template);
        if (r < 0 || fflush(stdout) != 0)
                return log_error_errno(r < 0 ? r : -errno, "Failed to write the listing: %m");
        return 0;
}
