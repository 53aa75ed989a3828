/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "bus.h"
#include "dns.h"
#include "fileio.h"
#include "lock.h"
#include "log.h"
#include "network.h"
#include "paths.h"
#include "spawn.h"
#include "state.h"
#include "util.h"

static char *dns_file(const char *net, const char *suffix) {
        _cleanup_free_ char *f = NULL;
        if (asprintf(&f, "%s%s", net, suffix) < 0)
                return NULL;
        return berth_run_path("net", "dns", f);
}

static char *unit_name(const char *net) {
        char *u = NULL;
        if (asprintf(&u, "berth-dns-%s.service", net) < 0)
                return NULL;
        return u;
}

int dns_collect(const char *net, char **ret, size_t *ret_len, unsigned *ret_users) {
        unsigned users = 0;
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &len);
        int r;
        if (!f)
                return -ENOMEM;
        r = state_list(&ids);
        if (r < 0)
                return r;
        for (char **i = ids; i && *i; i++) {
                json_auto_t *st = NULL;
                json_t *e, *ip, *n;
                size_t k, m;
                if (state_load(*i, &st) < 0)
                        continue;
                e = json_object_get(json_object_get(st, "networks"), net);
                if (!e || !streq_ptr(json_string_value(json_object_get(e, "state")), "attached"))
                        continue;
                users++;
                json_array_foreach (json_object_get(json_object_get(e, "result"), "ips"), k, ip) {
                        const char *a = json_string_value(json_object_get(ip, "address"));
                        if (!a)
                                continue;
                        fprintf(f, "%.*s", (int) strcspn(a, "/"), a);
                        json_array_foreach (json_object_get(e, "names"), m, n)
                                fprintf(f, " %s", json_string_value(n));
                        json_array_foreach (json_object_get(e, "aliases"), m, n)
                                fprintf(f, " %s", json_string_value(n));
                        fputc('\n', f);
                }
        }
        if (fflush(f) != 0)
                return -ENOMEM;
        fclose(TAKE_PTR(f));
        *ret_users = users;
        *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

typedef struct UnitArgs {
        const char *net;
        char **argv;
} UnitArgs;

static int append_props(sd_bus_message *m, void *userdata) {
        UnitArgs *a = userdata;
        _cleanup_free_ char *desc = NULL;
        int r;
        if (asprintf(&desc, "berth DNS for network %s", a->net) < 0)
                return -ENOMEM;
        r = sd_bus_message_append(m, "(sv)(sv)(sv)", "Description", "s", desc, "Type", "s", "notify",
                                  "CollectMode", "s", "inactive-or-failed");
        if (r < 0)
                return r;
        return bus_append_exec_start(m, a->argv);
}

int dns_unit_start(const char *net) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *unit = unit_name(net), *self = NULL, *result = NULL;
        int r;
        if (!unit)
                return -ENOMEM;
        r = bus_connect_manager(BUS_MANAGER_AUTO, &bus, NULL);
        if (r < 0)
                return log_warning_errno(
                        r, "No systemd manager reachable, network '%s' has no DNS server: %m", net);
        r = sibling_path("berth-net", &self);
        if (r < 0)
                return log_warning_errno(r, "Cannot find berth-net for the DNS server of '%s', ignoring: %m",
                                         net);
        char *argv[] = {self,
                        (char *) "--root",
                        (char *) berth_root(),
                        (char *) "--runroot",
                        (char *) berth_runroot(),
                        (char *) "dns-serve",
                        (char *) net,
                        NULL};
        UnitArgs a = {.net = net, .argv = argv};
        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        r = bus_start_transient_unit(bus, unit, "fail", append_props, NULL, &a, &error, &result);
        log_debug("Started %s: %.1f ms", unit, (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1000.0);
        if (r < 0 && sd_bus_error_has_name(&error, "org.freedesktop.systemd1.UnitExists"))
                return 0;
        if (r < 0)
                return log_warning_errno(r, "Cannot start %s (%s), ignoring: %s", unit, strna(result),
                                         bus_error_message(&error, r));
        return 0;
}

int dns_unit_stop(const char *net) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *unit = unit_name(net);
        int r;
        if (!unit)
                return -ENOMEM;
        r = bus_connect_manager(BUS_MANAGER_AUTO, &bus, NULL);
        if (r < 0)
                return 0;
        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        r = bus_stop_unit(bus, unit, &error);
        log_debug("Stopped %s: %.1f ms", unit, (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1000.0);
        if (r < 0 && r != -ENOENT)
                return log_warning_errno(r, "Cannot stop %s, ignoring: %s", unit,
                                         bus_error_message(&error, r));
        return 0;
}

char *dns_hosts_path(const char *net) {
        return dns_file(net, ".hosts");
}
