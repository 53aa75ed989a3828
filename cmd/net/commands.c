/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>

#include "cli.h"
#include "cni.h"
#include "commands.h"
#include "container.h"
#include "dns.h"
#include "fileio.h"
#include "log.h"
#include "main-func.h"
#include "netns.h"
#include "state.h"
#include "table.h"

bool mac_is_valid(const char *s) {
        /* six colon-separated hex pairs, unicast */
        if (!s || strlen(s) != 17)
                return false;
        for (int i = 0; i < 17; i++)
                if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char) s[i]))
                        return false;
        unsigned first;
        return sscanf(s, "%2x", &first) == 1 && !(first & 1);
}

static int print_json_line(json_t *j) {
        if (json_dumpf(j, stdout, JSON_COMPACT | JSON_SORT_KEYS) < 0)
                return -EIO;
        putchar('\n');
        return fflush(stdout) == 0 ? 0 : -errno;
}

int verb_create(int argc, char *argv[], void *userdata) {
        json_auto_t *net = NULL;
        arg.spec.name = argv[1];
        arg.spec.check_cni_path = arg.cni_path;
        int r = network_create(&arg.spec, &net);
        if (r < 0 && !(r == -EEXIST && arg.spec.ignore_existing))
                return r;
        puts(argv[1]);
        return 0;
}

static bool label_match(json_t *labels, const char *want) {
        const char *eq = strchr(want, '=');
        if (!eq)
                return json_object_get(labels, want) != NULL;
        _cleanup_free_ char *k = strndup(want, eq - want);
        return k && streq_ptr(json_string_value(json_object_get(labels, k)), eq + 1);
}

/* Filters of one key are alternatives (OR), different keys must all match (AND), as podman does. */
static bool filters_match(json_t *o) {
        const char *key;
        json_t *vals;
        json_object_foreach (arg.filters, key, vals) {
                bool any = false;
                size_t i;
                json_t *v;
                json_array_foreach (vals, i, v) {
                        const char *want = json_string_value(v);
                        if (streq(key, "name"))
                                any = any || streq_ptr(json_string_value(json_object_get(o, "name")), want);
                        else if (streq(key, "driver"))
                                any = any ||
                                      streq_ptr(json_string_value(json_object_get(o, "driver")), want);
                        else if (streq(key, "id"))
                                any = any ||
                                      startswith(json_string_value(json_object_get(o, "id")) ?: "", want);
                        else if (streq(key, "label"))
                                any = any || label_match(json_object_get(o, "labels"), want);
                }
                if (!any)
                        return false;
        }
        return true;
}

static int inspect_all(json_t **ret) {
        json_auto_t *all = NULL, *out = json_array();
        json_t *n;
        size_t i;
        int r = network_load_all(&all);
        if (r < 0)
                return r;
        if (!out)
                return log_oom();
        json_array_foreach (all, i, n) {
                json_t *o = network_inspect_json(n);
                if (!o)
                        return log_oom();
                if (filters_match(o))
                        json_array_append_new(out, o);
                else
                        json_decref(o);
        }
        *ret = json_incref(out);
        return 0;
}

int verb_ls(int argc, char *argv[], void *userdata) {
        json_auto_t *out = NULL;
        json_t *o;
        size_t i;
        int r = inspect_all(&out);
        if (r < 0)
                return r;
        if (arg.quiet) {
                json_array_foreach (out, i, o)
                        puts(json_string_value(json_object_get(o, "name")));
                return 0;
        }
        if (arg_output == OUTPUT_JSON)
                return json_print(out, stdout);
        if (arg_output == OUTPUT_TEMPLATE) {
                r = template_render_all(arg_template, out, stdout);
                return r < 0 ? log_error_errno(r, "Invalid --format template '%s'", arg_template) : 0;
        }
        static const char *const headers[] = {"NETWORK ID", "NAME", "DRIVER", "SUBNETS", "LABELS"};
        _cleanup_(table_freep) Table *t = table_new(5, headers);
        if (!t)
                return log_oom();
        json_array_foreach (out, i, o) {
                _cleanup_free_ char *subnets = NULL, *labels = NULL;
                _cleanup_strv_free_ char **sv = NULL, **lv = NULL;
                json_t *x;
                const char *k;
                size_t j;
                json_array_foreach (json_object_get(o, "subnets"), j, x)
                        (void) strv_extend(&sv, json_string_value(json_object_get(x, "subnet")));
                json_object_foreach (json_object_get(o, "labels"), k, x) {
                        char *kv = NULL;
                        if (asprintf(&kv, "%s=%s", k, json_string_value(x)) >= 0)
                                (void) strv_push(&lv, kv);
                }
                subnets = sv ? strv_join(sv, ",") : strdup("");
                labels = lv ? strv_join(lv, ",") : strdup("");
                char id[13];
                snprintf(id, sizeof id, "%s", json_string_value(json_object_get(o, "id")) ?: "");
                const char *cells[] = {id, json_string_value(json_object_get(o, "name")),
                                       json_string_value(json_object_get(o, "driver")), subnets, labels};
                r = table_add_row(t, cells);
                if (r < 0)
                        return log_oom();
        }
        return table_print(t, stdout);
}

int verb_inspect(int argc, char *argv[], void *userdata) {
        json_auto_t *out = json_array();
        int ret = 0;
        if (!out)
                return log_oom();
        for (int i = 1; i < argc; i++) {
                json_auto_t *net = NULL;
                int r = network_load(argv[i], &net);
                if (r == -ENOENT) {
                        ret = log_error_errno(r, "Network '%s' does not exist", argv[i]);
                        continue;
                }
                if (r < 0)
                        return r;
                json_array_append_new(out, network_inspect_json(net));
        }
        if (arg_output == OUTPUT_TEMPLATE) {
                json_t *o;
                size_t i;
                json_array_foreach (out, i, o) {
                        int r = template_render(arg_template, o, stdout);
                        if (r < 0)
                                return log_error_errno(r, "Invalid --format template '%s'", arg_template);
                }
        } else if (json_array_size(out) > 0 || ret == 0)
                (void) json_print(out, stdout);
        return ret;
}

int verb_exists(int argc, char *argv[], void *userdata) {
        json_auto_t *net = NULL;
        int r = network_load(argv[1], &net);
        if (r == -ENOENT)
                return 1;
        return r < 0 ? r : 0;
}

static int detach_users(const char *net) {
        _cleanup_strv_free_ char **users = NULL;
        char *nets[] = {(char *) net, NULL};
        int r = state_network_users(net, &users);
        if (r < 0)
                return log_error_errno(r, "Cannot read the attachments of '%s': %m", net);
        for (char **u = users; u && *u; u++) {
                r = net_detach(*u, nets, arg.cni_path);
                if (r < 0)
                        return r;
        }
        return 0;
}

int verb_rm(int argc, char *argv[], void *userdata) {
        int ret = 0;
        for (int i = 1; i < argc; i++) {
                int r = 0;
                if (arg.force)
                        r = detach_users(argv[i]);
                if (r >= 0)
                        r = network_remove(argv[i]);
                if (r < 0)
                        ret = r;
                else
                        puts(argv[i]);
        }
        return ret;
}

int verb_prune(int argc, char *argv[], void *userdata) {
        json_auto_t *out = NULL;
        json_t *o;
        size_t i;
        int r = inspect_all(&out);
        if (r < 0)
                return r;
        json_array_foreach (out, i, o) {
                const char *name = json_string_value(json_object_get(o, "name"));
                _cleanup_strv_free_ char **users = NULL;
                if (streq(name, NETWORK_DEFAULT))
                        continue;
                if (state_network_users(name, &users) < 0 || users)
                        continue;
                r = network_remove(name);
                if (r < 0)
                        return r;
                puts(name);
        }
        return 0;
}

static int require_container(void) {
        if (!arg.attach.container_id)
                return cli_usage_error("Missing --container ID");
        if (!net_id_is_valid(arg.attach.container_id))
                return cli_usage_error("Invalid container ID '%s'", arg.attach.container_id);
        return 0;
}

static int check_single_network(void) {
        if ((arg.attach.ip || arg.attach.ip6 || arg.attach.mac) && strv_length(arg.networks) > 1)
                return cli_usage_error("--ip, --ip6 and --mac-address need a single --network");
        if (arg.networks && strv_contains(arg.networks, "none") && strv_length(arg.networks) > 1)
                return cli_usage_error("--network none cannot be combined with other networks");
        if (arg.networks && strv_contains(arg.networks, "host"))
                return cli_usage_error(
                        "--network host has no namespace to attach; the caller runs without one");
        return 0;
}

int verb_attach(int argc, char *argv[], void *userdata) {
        json_auto_t *out = NULL;
        int r = require_container();
        if (r < 0)
                return r;
        r = check_single_network();
        if (r < 0)
                return r;
        r = net_attach(&arg.attach, &out);
        if (r < 0)
                return r;
        return print_json_line(out);
}

int verb_detach(int argc, char *argv[], void *userdata) {
        int r = require_container();
        if (r < 0)
                return r;
        return net_detach(arg.attach.container_id, arg.networks, arg.cni_path);
}

int verb_check(int argc, char *argv[], void *userdata) {
        json_auto_t *st = NULL;
        json_t *e;
        const char *net;
        int r = require_container();
        if (r < 0)
                return r;
        r = state_load(arg.attach.container_id, &st);
        if (r < 0)
                return r;
        if (json_object_size(json_object_get(st, "networks")) == 0)
                return log_error_errno(-ENOENT, "Container %.12s has no networks", arg.attach.container_id);
        json_object_foreach (json_object_get(st, "networks"), net, e) {
                CniRun run = {
                        .container_id = arg.attach.container_id,
                        .netns = json_string_value(json_object_get(st, "netns")),
                        .ifname = json_string_value(json_object_get(e, "ifname")),
                        .cni_path = arg.cni_path,
                        .runtime_config = json_object_get(e, "runtimeConfig"),
                };
                r = cni_check_list(json_object_get(e, "config"), &run, json_object_get(e, "result"),
                                   json_object_get(e, "added"));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* connect/disconnect take a container name or ID as berth-run records it; an ID that only berth-net knows
 * (attached directly) works too. */
static int resolve(const char *spec, char **ret_id, char **ret_name, char **ret_hostname) {
        _cleanup_free_ char *id = NULL;
        int r = container_resolve(spec, &id);
        if (r >= 0) {
                json_auto_t *rec = NULL;
                if (container_load(id, &rec, NULL) >= 0) {
                        const char *n = json_string_value(json_object_get(rec, "Name"));
                        const char *h = json_string_value(
                                json_object_get(json_object_get(rec, "Config"), "Hostname"));
                        *ret_name = n ? strdup(n) : NULL;
                        *ret_hostname = h ? strdup(h) : NULL;
                }
                *ret_id = TAKE_PTR(id);
                return 0;
        }
        if (!net_id_is_valid(spec))
                return log_error_errno(-ENOENT, "No such container '%s'", spec);
        *ret_id = strdup(spec);
        return *ret_id ? 0 : log_oom();
}

int verb_connect(int argc, char *argv[], void *userdata) {
        _cleanup_free_ char *id = NULL, *name = NULL, *hostname = NULL, *ns = NULL;
        json_auto_t *out = NULL;
        char *nets[] = {argv[1], NULL};
        int r = resolve(argv[2], &id, &name, &hostname);
        if (r < 0)
                return r;
        ns = netns_path(id);
        if (!ns)
                return log_oom();
        if (!netns_is_mounted(ns))
                return log_error_errno(-ESRCH, "Container '%s' has no network namespace (is it running?)",
                                       argv[2]);
        AttachOptions o = arg.attach;
        o.container_id = id;
        o.networks = nets;
        o.name = o.name ?: name;
        o.hostname = o.hostname ?: hostname;
        r = net_attach(&o, &out);
        if (r < 0)
                return r;
        return 0;
}

int verb_disconnect(int argc, char *argv[], void *userdata) {
        _cleanup_free_ char *id = NULL, *name = NULL, *hostname = NULL;
        char *nets[] = {argv[1], NULL};
        int r = resolve(argv[2], &id, &name, &hostname);
        if (r < 0)
                return r;
        return net_detach(id, nets, arg.cni_path);
}

int verb_dns_serve(int argc, char *argv[], void *userdata) {
        return dns_serve(argv[1]);
}
