/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps port: the host addresses a running container's ports are published on, as docker port prints
 * them, so that scripts can write `curl http://$(berth port web 80)/`. */
#include <stdio.h>

#include "cli.h"
#include "containers.h"
#include "log.h"
#include "macro.h"
#include "ps.h"
#include "table.h"

/* "80", "80/tcp", "53/udp" -> port and protocol (tcp when not given). */
static int parse_private(const char *s, unsigned *ret_port, char proto[static 8]) {
        const char *slash = strchr(s, '/');
        _cleanup_free_ char *num = strndup(s, slash ? (size_t) (slash - s) : strlen(s));
        int port;
        if (!num)
                return -ENOMEM;
        if (safe_atoi(num, &port) < 0 || port <= 0 || port > 65535)
                return -EINVAL;
        const char *p = slash ? slash + 1 : "tcp";
        if (!streq(p, "tcp") && !streq(p, "udp") && !streq(p, "sctp"))
                return -EINVAL;
        *ret_port = (unsigned) port;
        snprintf(proto, 8, "%s", p);
        return 0;
}

/* 0.0.0.0:8080, [::1]:8080 */
static void format_host(json_t *b, char *buf, size_t size) {
        const char *ip = json_string_value(json_object_get(b, "host_ip"));
        json_int_t port = json_integer_value(json_object_get(b, "host_port"));
        if (isempty(ip))
                ip = "0.0.0.0";
        if (strchr(ip, ':'))
                snprintf(buf, size, "[%s]:%" JSON_INTEGER_FORMAT, ip, port);
        else
                snprintf(buf, size, "%s:%" JSON_INTEGER_FORMAT, ip, port);
}

static int print_ports(const Container *c, bool with_id, bool has_filter, unsigned want_port,
                       const char *want_proto, json_t *out, size_t *found) {
        json_auto_t *ports = container_ports(c);
        size_t i;
        json_t *b;
        json_array_foreach (ports, i, b) {
                unsigned cport = (unsigned) json_integer_value(json_object_get(b, "container_port"));
                const char *proto = json_string_value(json_object_get(b, "protocol")) ?: "tcp";
                if (has_filter && (cport != want_port || !streq(proto, want_proto)))
                        continue;
                (*found)++;
                if (out) {
                        json_t *o = json_deep_copy(b);
                        if (!o || json_object_set_new(o, "id", json_string(c->id)) < 0 ||
                            json_object_set_new(o, "name", json_string(container_name(c))) < 0 ||
                            json_array_append_new(out, o) < 0)
                                return log_oom();
                        continue;
                }
                char host[96];
                format_host(b, host, sizeof host);
                if (with_id)
                        printf("%.12s\t", c->id);
                if (has_filter)
                        printf("%s\n", host);
                else
                        printf("%u/%s -> %s\n", cport, proto, host);
        }
        return 0;
}

int verb_port(const PsArgs *a) {
        _cleanup_(container_list_done) ContainerList l = {};
        ReconcileContext ctx;
        unsigned want_port = 0;
        char want_proto[8] = "";
        const char *private = a->all ? a->names[0] : a->names[0] ? a->names[1] : NULL;
        size_t found = 0;
        int r;

        if (private) {
                r = parse_private(private, &want_port, want_proto);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return cli_usage_error(
                                "Invalid port '%s': expected PORT or PORT/PROTOCOL (tcp, udp, sctp)",
                                private);
        }

        reconcile_context_init(&ctx);
        if (a->all) {
                r = containers_load_all(&ctx, &l);
                if (r < 0)
                        return r;
        } else {
                l.items = calloc(1, sizeof(Container));
                if (!l.items)
                        return log_oom();
                r = container_load_one(a->names[0], &ctx, &l.items[0]);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_error_errno(r, "No such container: '%s'", a->names[0]);
                l.n = 1;
        }

        json_auto_t *out = arg_output == OUTPUT_TABLE ? NULL : json_array();
        if (arg_output != OUTPUT_TABLE && !out)
                return log_oom();
        for (size_t i = 0; i < l.n; i++) {
                /* as docker: only a running container has its ports published */
                if (!container_is_live(&l.items[i]))
                        continue;
                r = print_ports(&l.items[i], a->all, private, want_port, want_proto, out, &found);
                if (r < 0)
                        return r;
        }
        if (out) {
                r = arg_output == OUTPUT_JSON ? json_print(out, stdout)
                                              : template_render_all(arg_template, out, stdout);
                if (r < 0)
                        return log_error_errno(r, "Failed to write the ports: %m");
        }
        if (!a->all && !container_is_live(&l.items[0]) && private)
                return log_error_errno(-ESRCH, "Container '%s' is not running (%s)", a->names[0],
                                       container_status_to_string(l.items[0].st.status));
        if (private && found == 0)
                return log_error_errno(-ENOENT, "No public port '%u/%s' published for '%s'", want_port,
                                       want_proto, a->all ? "any container" : a->names[0]);
        return 0;
}
