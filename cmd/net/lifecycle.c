/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "dns.h"
#include "fileio.h"
#include "lifecycle.h"
#include "lock.h"
#include "log.h"
#include "network.h"
#include "paths.h"
#include "util.h"

static char *active_file(const char *net, const char *suffix) {
        _cleanup_free_ char *f = NULL;
        if (asprintf(&f, "%s%s", net, suffix) < 0)
                return NULL;
        return berth_run_path("net", "active", f);
}

int netlife_rules(json_t *subnets, const char *net, int family, const char *op, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, n = 0, i;
        json_t *s;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fputs("*nat\n", f);
        json_array_foreach (subnets, i, s) {
                const char *sn = json_string_value(s);
                if (!sn || (strchr(sn, ':') != NULL) != (family == AF_INET6))
                        continue;
                n++;
                fprintf(f,
                        "%s POSTROUTING -s %s ! -d %s -m comment --comment \"berth network %s\" -j "
                        "MASQUERADE\n",
                        op, sn, sn, net);
        }
        fputs("COMMIT\n*filter\n", f);
        json_array_foreach (subnets, i, s) {
                const char *sn = json_string_value(s);
                if (!sn || (strchr(sn, ':') != NULL) != (family == AF_INET6))
                        continue;
                /* what the firewall plugin does: let the network's traffic through a FORWARD policy of DROP
                 */
                fprintf(f, "%s FORWARD -s %s -m comment --comment \"berth network %s\" -j ACCEPT\n", op, sn,
                        net);
                fprintf(f,
                        "%s FORWARD -d %s -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "
                        "\"berth "
                        "network %s\" -j ACCEPT\n",
                        op, sn, net);
        }
        fputs("COMMIT\n", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        if (n == 0) {
                *ret = NULL;
                return 0;
        }
        *ret = TAKE_PTR(buf);
        return 0;
}

static int restore(const char *prog, const char *input) {
        int p[2], status;
        pid_t pid;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                safe_close(p[0]);
                safe_close(p[1]);
                return -errno;
        }
        if (pid == 0) {
                if (dup2(p[0], STDIN_FILENO) < 0)
                        _exit(127);
                execlp(prog, prog, "-w", "--noflush", NULL);
                _exit(127);
        }
        safe_close(p[0]);
        int r = write_all(p[1], input, strlen(input));
        safe_close(p[1]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (r < 0)
                return r;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int firewall(json_t *subnets, const char *net, const char *op) {
        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        int ret = 0;
        for (int fam = 0; fam < 2; fam++) {
                _cleanup_free_ char *in = NULL;
                int r = netlife_rules(subnets, net, fam ? AF_INET6 : AF_INET, op, &in);
                if (r < 0)
                        return r;
                if (!in)
                        continue;
                r = restore(fam ? "ip6tables-restore" : "iptables-restore", in);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        log_debug("Firewall %s for '%s': %.1f ms", op, net,
                  (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1000.0);
        return ret;
}

int netlife_update(const char *net, json_t *conflist) {
        _cleanup_free_ char *dir = berth_run_path("net", "active"), *lockp = active_file(net, ".lock"),
                            *activep = active_file(net, ".json"), *hosts = dns_hosts_path(net),
                            *records = NULL;
        _cleanup_close_ int lock = -EBADF;
        json_auto_t *active = NULL;
        size_t len = 0;
        unsigned users = 0;
        int r;

        if (!dir || !lockp || !activep || !hosts)
                return log_oom();
        _cleanup_free_ char *dnsdir = berth_run_path("net", "dns");
        if (!dnsdir)
                return log_oom();
        r = mkdir_p(dir, 0700);
        if (r >= 0)
                r = mkdir_p(dnsdir, 0755);
        if (r >= 0)
                r = lock_path(lockp, LOCK_EX, &lock);
        if (r < 0)
                return log_warning_errno(r, "Cannot lock '%s', ignoring: %m", lockp);
        r = dns_collect(net, &records, &len, &users);
        if (r < 0)
                return log_warning_errno(r, "Cannot read the attachments of network '%s', ignoring: %m",
                                         net);
        r = json_read_file(activep, READ_MAX_DEFAULT, &active, NULL);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Cannot read '%s', ignoring: %m", activep);

        if (users == 0) {
                if (!active)
                        return 0;
                if (json_is_true(json_object_get(active, "dns"))) {
                        (void) dns_unit_stop(net);
                        (void) unlink(hosts);
                }
                r = firewall(json_object_get(active, "masquerade"), net, "-D");
                if (r < 0)
                        log_warning_errno(
                                r, "Cannot remove the firewall rules of network '%s', ignoring: %m", net);
                if (unlink(activep) < 0 && errno != ENOENT)
                        return log_warning_errno(-errno, "Cannot remove '%s', ignoring: %m", activep);
                return 0;
        }

        if (!active) {
                json_t *meta = network_meta(conflist);
                if (!conflist)
                        return 0;
                active = json_pack("{s:b, s:[]}", "dns", json_is_true(json_object_get(meta, "dns_enabled")),
                                   "masquerade");
                if (!active)
                        return log_oom();
                if (streq_ptr(json_string_value(json_object_get(meta, "driver")), "bridge") &&
                    !json_is_true(json_object_get(meta, "internal"))) {
                        json_t *sn;
                        size_t i;
                        json_array_foreach (json_object_get(meta, "subnets"), i, sn)
                                json_array_append(json_object_get(active, "masquerade"),
                                                  json_object_get(sn, "subnet"));
                        r = firewall(json_object_get(active, "masquerade"), net, "-A");
                        if (r < 0)
                                log_warning_errno(
                                        r, "Cannot add the masquerading rules of network '%s', ignoring: %m",
                                        net);
                }
                /* recorded before the DNS server starts, so a failure there is undone with the rest */
                r = json_write_file_atomic(activep, active);
                if (r < 0) {
                        (void) firewall(json_object_get(active, "masquerade"), net, "-D");
                        return log_warning_errno(r, "Cannot write '%s', ignoring: %m", activep);
                }
                if (json_is_true(json_object_get(active, "dns"))) {
                        r = write_file_atomic(hosts, records, len, 0644);
                        if (r >= 0)
                                (void) dns_unit_start(net);
                }
                return 0;
        }

        if (json_is_true(json_object_get(active, "dns"))) {
                r = write_file_atomic(hosts, records, len, 0644);
                if (r < 0)
                        return log_warning_errno(r, "Cannot write '%s', ignoring: %m", hosts);
        }
        return 0;
}
