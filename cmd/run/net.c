/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Networks come from berth-net, run as a sibling with a JSON line as its output contract. */
#include <stdio.h>

#include "container.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "net.h"
#include "record.h"
#include "rootfs.h"
#include "spawn.h"

bool net_wanted(json_t *rec) {
        json_t *n = json_object_get(json_object_get(rec, "HostConfig"), "Networks");
        const char *first = json_string_value(json_array_get(n, 0));
        return first && !streq(first, "none") && !streq(first, "host");
}

static int push_all(char ***argv, const char *flag, json_t *arr) {
        size_t i;
        json_t *e;
        json_array_foreach (arr, i, e)
                if (json_is_string(e) &&
                    (strv_extend(argv, flag) < 0 || strv_extend(argv, json_string_value(e)) < 0))
                        return -ENOMEM;
        return 0;
}

static int apply_settings(json_t *rec, void *userdata) {
        json_t *res = userdata;
        json_t *ns = json_object_get(rec, "NetworkSettings");
        if (!json_is_object(ns)) {
                ns = json_object();
                json_object_set_new(rec, "NetworkSettings", ns);
        }
        json_object_set(ns, "Networks", json_object_get(res, "networks") ?: json_object());
        json_object_set(ns, "SandboxKey", json_object_get(res, "netns") ?: json_string(""));
        /* podman's shape: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} */
        json_t *ports = json_object(), *m;
        size_t i;
        json_array_foreach (json_object_get(res, "ports"), i, m) {
                char key[32], hport[16];
                json_int_t cp = json_integer_value(json_object_get(m, "containerPort")),
                           hp = json_integer_value(json_object_get(m, "hostPort"));
                const char *proto = json_string_value(json_object_get(m, "protocol")) ?: "tcp";
                if (cp <= 0 || cp > 65535 || hp <= 0 || hp > 65535 || strlen(proto) > 8)
                        continue;
                snprintf(key, sizeof key, "%d/%s", (int) cp, proto);
                snprintf(hport, sizeof hport, "%d", (int) hp);
                json_t *list = json_object_get(ports, key);
                if (!list)
                        json_object_set_new(ports, key, list = json_array());
                json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp",
                                                      json_string_value(json_object_get(m, "hostIP")) ?: "",
                                                      "HostPort", hport));
        }
        json_object_set_new(ns, "Ports", ports);
        return 0;
}

/* The networks' DNS servers replace the nameservers of the container's resolv.conf (its search and options
 * lines stay), unless --dns named the servers. */
static int write_resolv(const char *id, json_t *rec, json_t *res) {
        _cleanup_free_ char *p = container_run_path(id, "resolv.conf"), *base = NULL, *text = NULL;
        _cleanup_strv_free_ char **servers = NULL;
        const char *name;
        json_t *net, *d;
        size_t i;

        if (!p)
                return -ENOMEM;
        if (json_array_size(json_object_get(json_object_get(rec, "HostConfig"), "Dns")) > 0)
                return 0;
        json_object_foreach (json_object_get(res, "networks"), name, net)
                json_array_foreach (json_object_get(net, "dns"), i, d)
                        if (json_is_string(d) && !strv_contains(servers, json_string_value(d)) &&
                            strv_extend(&servers, json_string_value(d)) < 0)
                                return -ENOMEM;
        if (!servers)
                return 0;
        (void) read_full_file(p, 64 * 1024, &base, NULL);
        EtcOptions e = {.dns = servers};
        int r = resolv_compose(base, &e, &text);
        if (r < 0)
                return r;
        return write_file_atomic_full(p, text, strlen(text), 0644, WRITE_NO_SYNC); /* tmpfs */
}

int net_attach(const char *id, json_t *rec) {
        json_t *hc = json_object_get(rec, "HostConfig");
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *out = NULL, *nets = NULL, *why = NULL;
        json_t *res = NULL;
        int r;

        r = strv_extend(&argv, "attach") < 0 || strv_extend(&argv, "--container") < 0 ||
                            strv_extend(&argv, id) < 0
                    ? -ENOMEM
                    : 0;
        if (r >= 0) {
                _cleanup_strv_free_ char **names = NULL;
                size_t i;
                json_t *e;
                json_array_foreach (json_object_get(hc, "Networks"), i, e) {
                        const char *n = json_string_value(e);
                        if (n && strv_extend(&names, streq(n, "bridge") ? "berth" : n) < 0)
                                return log_oom();
                }
                nets = strv_join(names, ",");
                if (!nets || strv_extend(&argv, "--network") < 0 || strv_extend(&argv, nets) < 0)
                        return log_oom();
        }
        const char *ip = record_get_string(hc, "IP"), *ip6 = record_get_string(hc, "IP6"),
                   *mac = record_get_string(hc, "MacAddress");
        if (r < 0 || (!isempty(ip) && (strv_extend(&argv, "--ip") < 0 || strv_extend(&argv, ip) < 0)) ||
            (!isempty(ip6) && (strv_extend(&argv, "--ip6") < 0 || strv_extend(&argv, ip6) < 0)) ||
            (!isempty(mac) && (strv_extend(&argv, "--mac-address") < 0 || strv_extend(&argv, mac) < 0)) ||
            push_all(&argv, "--network-alias", json_object_get(hc, "NetworkAliases")) < 0 ||
            push_all(&argv, "--publish", json_object_get(hc, "PortBindings")) < 0 ||
            strv_extend(&argv, "--hostname") < 0 ||
            strv_extend(&argv, record_get_string(rec, "Config.Hostname") ?: id) < 0 ||
            strv_extend(&argv, "--name") < 0 || strv_extend(&argv, record_get_string(rec, "Name") ?: id) < 0)
                return log_oom();

        r = spawn_sibling("berth-net", argv, &out);
        if (r < 0)
                return log_error_errno(r, "Cannot run berth-net: %m");
        if (r != 0)
                return log_error_errno(-EIO,
                                       "berth-net could not attach the container to '%s' (exit status %d)",
                                       strna(nets), r);
        r = json_parse(out, strlen(out), &res, &why);
        if (r < 0) {
                (void) net_detach(id);
                return log_error_errno(r, "berth-net printed no valid JSON: %s", strna(why));
        }
        r = write_resolv(id, rec, res);
        if (r >= 0)
                r = record_update(id, apply_settings, res);
        json_decref(res);
        if (r < 0)
                return log_error_errno(r, "Cannot record the networks of '%s': %m", id);
        return 0;
}

int net_detach(const char *id) {
        char *argv[] = {(char *) "detach", (char *) "--container", (char *) id, NULL};
        int r = spawn_sibling("berth-net", argv, NULL);
        if (r < 0)
                return r;
        return r == 0 ? 0 : -EIO;
}
