/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "attach.h"
#include "cni.h"
#include "fileio.h"
#include "lifecycle.h"
#include "log.h"
#include "netns.h"
#include "network.h"
#include "paths.h"
#include "state.h"
#include "subnet.h"
#include "util.h"

static int entry_del(const char *id, const char *netns, const char *net, json_t *e, const char *cni_path) {
        CniRun run = {
                .container_id = id,
                .netns = netns,
                .ifname = json_string_value(json_object_get(e, "ifname")),
                .cni_path = cni_path,
                .runtime_config = json_object_get(e, "runtimeConfig"),
        };
        json_t *conf = json_object_get(e, "config");
        if (!json_is_object(conf))
                return log_error_errno(
                        -EBADMSG, "The attachment of %.12s to '%s' has no cached configuration", id, net);
        /* A netns that is gone already is fine for DEL (the spec asks plugins to tolerate it), but pass ""
         * so no plugin enters a path that is no longer a namespace. */
        if (!netns_is_mounted(netns))
                run.netns = "";
        return cni_del_list(conf, &run, json_object_get(e, "result"), json_object_get(e, "added"));
}

static bool entry_owner_dead(json_t *e) {
        if (!streq_ptr(json_string_value(json_object_get(e, "state")), "adding"))
                return false;
        pid_t pid = (pid_t) json_integer_value(json_object_get(e, "owner_pid"));
        uint64_t start = (uint64_t) json_integer_value(json_object_get(e, "owner_start"));
        return pid <= 0 || !pid_is_alive(pid, start);
}

/* With the container's lock held. Returns the number of entries removed. */
static int sweep_locked(const char *id, json_t *st, const char *cni_path) {
        json_t *nets = json_object_get(st, "networks"), *e;
        const char *net, *netns = json_string_value(json_object_get(st, "netns")) ?: "";
        void *tmp;
        int n = 0;
        json_object_foreach_safe(nets, tmp, net, e) {
                if (!entry_owner_dead(e))
                        continue;
                log_debug("Undoing the unfinished attach of %s to '%s'", id, net);
                if (entry_del(id, netns, net, e, cni_path) < 0)
                        continue;
                json_object_del(nets, net);
                n++;
        }
        return n;
}

int net_sweep(const char *cni_path) {
        _cleanup_strv_free_ char **ids = NULL;
        int r = state_list(&ids);
        if (r < 0)
                return r;
        for (char **i = ids; i && *i; i++) {
                json_auto_t *st = NULL;
                json_t *e;
                const char *k;
                bool dead = false;
                if (state_load(*i, &st) < 0)
                        continue;
                json_object_foreach (json_object_get(st, "networks"), k, e)
                        dead = dead || entry_owner_dead(e);
                if (!dead)
                        continue;
                _cleanup_close_ int lock = -EBADF;
                if (state_lock(*i, &lock) < 0)
                        continue;
                json_decref(st);
                st = NULL;
                if (state_load(*i, &st) < 0)
                        continue;
                if (sweep_locked(*i, st, cni_path) > 0)
                        (void) state_save(*i, st);
        }
        return 0;
}

static int next_ifname(json_t *st, char ret[16]) {
        for (unsigned i = 0; i < 1000; i++) {
                const char *k;
                json_t *e;
                bool used = false;
                snprintf(ret, 16, "eth%u", i);
                json_object_foreach (json_object_get(st, "networks"), k, e)
                        used = used || streq_ptr(json_string_value(json_object_get(e, "ifname")), ret);
                if (!used)
                        return 0;
        }
        return -ENOSPC;
}

static json_t *runtime_config(const AttachOptions *o, json_t *conflist) {
        json_t *rc = json_object();
        if (!rc)
                return NULL;
        json_t *ips = json_array();
        json_t *meta = network_meta(conflist);
        if (o->ip)
                json_array_append_new(ips, json_string(o->ip));
        if (o->ip6)
                json_array_append_new(ips, json_string(o->ip6));
        if (json_array_size(ips) > 0)
                json_object_set_new(rc, "ips", ips);
        else
                json_decref(ips);
        if (o->mac)
                json_object_set_new(rc, "mac", json_string(o->mac));
        if (o->port_mappings && json_array_size(o->port_mappings) > 0 &&
            streq_ptr(json_string_value(json_object_get(meta, "driver")), "bridge"))
                json_object_set(rc, "portMappings", o->port_mappings);
        return rc;
}

/* Static addresses must lie in one of the network's subnets: say so plainly instead of host-local's message.
 */
static int check_static(const AttachOptions *o, json_t *conflist, const char *net) {
        const char *addrs[] = {o->ip, o->ip6};
        for (size_t i = 0; i < ELEMENTSOF(addrs); i++) {
                IpAddr a;
                json_t *sn;
                size_t k;
                bool found = false;
                if (!addrs[i])
                        continue;
                if (ip_parse(addrs[i], &a) < 0 || a.family != (i == 0 ? AF_INET : AF_INET6))
                        return log_error_errno(-EINVAL, "Invalid %s address '%s'", i == 0 ? "IPv4" : "IPv6",
                                               addrs[i]);
                json_array_foreach (json_object_get(network_meta(conflist), "subnets"), k, sn) {
                        Subnet s;
                        if (subnet_parse(json_string_value(json_object_get(sn, "subnet")), &s, NULL) >= 0 &&
                            subnet_contains(&s, &a))
                                found = true;
                }
                if (!found)
                        return log_error_errno(-EINVAL, "Address '%s' is not in a subnet of network '%s'",
                                               addrs[i], net);
        }
        return 0;
}

/* The contract's per-network object, from the CNI result. */
static json_t *describe(json_t *e, json_t *conflist, const char *netns) {
        json_t *res = json_object_get(e, "result"), *ifs = json_object_get(res, "interfaces"), *ip, *x;
        const char *ifname = json_string_value(json_object_get(e, "ifname"));
        json_t *ips = json_array(), *dns = json_array();
        const char *mac = NULL, *gw4 = NULL, *gw6 = NULL;
        size_t i;
        json_array_foreach (ifs, i, x)
                if (streq_ptr(json_string_value(json_object_get(x, "name")), ifname) &&
                    json_object_get(x, "sandbox"))
                        mac = json_string_value(json_object_get(x, "mac"));
        json_array_foreach (json_object_get(res, "ips"), i, ip) {
                const char *addr = json_string_value(json_object_get(ip, "address"));
                const char *gw = json_string_value(json_object_get(ip, "gateway"));
                if (addr)
                        json_array_append_new(ips, json_string(addr));
                if (gw && strchr(gw, ':'))
                        gw6 = gw6 ?: gw;
                else if (gw)
                        gw4 = gw4 ?: gw;
        }
        json_t *meta = network_meta(conflist);
        if (json_is_true(json_object_get(meta, "dns_enabled"))) {
                if (gw4)
                        json_array_append_new(dns, json_string(gw4));
                if (gw6)
                        json_array_append_new(dns, json_string(gw6));
        }
        json_t *o = json_pack("{s:s, s:o, s:s?, s:s?, s:O, s:o}", "interface", ifname, "ips", ips, "mac",
                              mac, "gateway", gw4, "aliases", json_object_get(e, "aliases") ?: json_array(),
                              "dns", dns);
        if (o && gw6)
                json_object_set_new(o, "gateway6", json_string(gw6));
        return o;
}

static int attach_one(const AttachOptions *o, json_t *st, const char *netns, const char *net,
                      json_t **ret_desc) {
        json_auto_t *conflist = NULL, *rc = NULL, *result = NULL, *added = NULL, *aliases = NULL,
                    *names = NULL;
        json_t *nets = json_object_get(st, "networks");
        char ifname[16];
        uint64_t start = 0;
        int r;

        if (json_object_get(nets, net))
                return log_error_errno(-EEXIST, "Container %.12s is already attached to network '%s'",
                                       o->container_id, net);
        r = network_load(net, &conflist);
        if (r == -ENOENT)
                return log_error_errno(r, "Network '%s' does not exist", net);
        if (r < 0)
                return r;
        r = check_static(o, conflist, net);
        if (r < 0)
                return r;
        r = next_ifname(st, ifname);
        if (r < 0)
                return log_error_errno(r, "No free interface name in container %.12s", o->container_id);
        rc = runtime_config(o, conflist);
        aliases = json_array();
        names = json_array();
        if (!rc || !aliases || !names)
                return log_oom();
        for (char **a = o->aliases; a && *a; a++)
                json_array_append_new(aliases, json_string(*a));
        char short_id[13];
        snprintf(short_id, sizeof short_id, "%s", o->container_id);
        /* name, host name (often the short ID already) and short ID, each once */
        const char *cand[] = {o->name, o->hostname, short_id};
        for (size_t i = 0; i < ELEMENTSOF(cand); i++) {
                bool dup = !cand[i];
                for (size_t k = 0; k < i && !dup; k++)
                        dup = streq_ptr(cand[k], cand[i]);
                if (!dup)
                        json_array_append_new(names, json_string(cand[i]));
        }
        (void) pid_start_time(getpid(), &start);

        json_t *e =
                json_pack("{s:s, s:s, s:I, s:I, s:O, s:O, s:O, s:O}", "ifname", ifname, "state", "adding",
                          "owner_pid", (json_int_t) getpid(), "owner_start", (json_int_t) start, "config",
                          conflist, "runtimeConfig", rc, "names", names, "aliases", aliases);
        if (!e)
                return log_oom();
        json_object_set_new(nets, net, e);
        /* Recorded before ADD: if we die during ADD, the owner is dead and a later run DELs it (THREATS N2).
         */
        r = state_save(o->container_id, st);
        if (r < 0)
                return log_error_errno(r, "Cannot record the attachment of %.12s: %m", o->container_id);

        CniRun run = {
                .container_id = o->container_id,
                .netns = netns,
                .ifname = ifname,
                .cni_path = o->cni_path,
                .runtime_config = rc,
        };
        r = cni_add_list(conflist, &run, &result, &added);
        if (r < 0) {
                json_object_del(nets, net);
                (void) state_save(o->container_id, st);
                return r;
        }
        json_object_set(e, "result", result);
        /* DEL and CHECK run exactly these plugins (portmap only ran if there were ports) */
        json_object_set(e, "added", added);
        json_object_set_new(e, "state", json_string("attached"));
        json_object_del(e, "owner_pid");
        json_object_del(e, "owner_start");
        r = state_save(o->container_id, st);
        if (r < 0) {
                log_error_errno(r, "Cannot record the attachment of %.12s: %m", o->container_id);
                (void) cni_del_list(conflist, &run, result, added);
                json_object_del(nets, net);
                (void) state_save(o->container_id, st);
                return r;
        }
        (void) netlife_update(net, conflist);
        *ret_desc = describe(e, conflist, netns);
        return *ret_desc ? 0 : log_oom();
}

int net_attach(const AttachOptions *o, json_t **ret) {
        _cleanup_close_ int lock = -EBADF, nlock = -EBADF;
        _cleanup_free_ char *netns = NULL;
        json_auto_t *st = NULL, *out_nets = json_object();
        char *default_nets[] = {(char *) NETWORK_DEFAULT, NULL};
        char **nets = o->networks ?: default_nets;
        bool none = nets[0] && streq(nets[0], "none");
        bool created;
        int r;

        if (!out_nets)
                return log_oom();
        if (!none)
                for (char **n = nets; *n; n++)
                        if (streq(*n, NETWORK_DEFAULT) || streq(*n, "bridge")) {
                                r = network_ensure_default();
                                if (r < 0)
                                        return r;
                        }
        (void) net_sweep(o->cni_path);

        r = networks_lock(LOCK_SH, &nlock);
        if (r < 0)
                return log_error_errno(r, "Cannot lock the networks: %m");
        r = state_lock(o->container_id, &lock);
        if (r < 0)
                return log_error_errno(r, "Cannot lock the network state of %.12s: %m", o->container_id);
        r = state_load(o->container_id, &st);
        if (r < 0)
                return r;
        netns = netns_path(o->container_id);
        if (!netns)
                return log_oom();
        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        r = netns_create(netns);
        log_debug("Network namespace %s: %.1f ms", r == 0 ? "created" : "exists",
                  (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1000.0);
        if (r < 0)
                return log_error_errno(r, "Cannot create the network namespace '%s': %m", netns);
        created = r == 0;
        json_object_set_new(st, "netns", json_string(netns));

        for (char **n = nets; !none && *n; n++) {
                const char *net = streq(*n, "bridge") ? NETWORK_DEFAULT : *n;
                json_t *desc = NULL;
                r = attach_one(o, st, netns, net, &desc);
                if (r < 0) {
                        /* all or nothing: undo the networks of this call */
                        for (char **m = nets; m < n; m++) {
                                const char *mn = streq(*m, "bridge") ? NETWORK_DEFAULT : *m;
                                json_t *e = json_object_get(json_object_get(st, "networks"), mn);
                                if (e && entry_del(o->container_id, netns, mn, e, o->cni_path) >= 0) {
                                        json_object_del(json_object_get(st, "networks"), mn);
                                        (void) netlife_update(mn, NULL);
                                }
                        }
                        (void) state_save(o->container_id, st);
                        if (created && json_object_size(json_object_get(st, "networks")) == 0)
                                (void) netns_remove(netns);
                        return r;
                }
                json_object_set_new(out_nets, net, desc);
        }
        /* the published ports as given to portmap, a free host port chosen where none was named */
        json_t *ports = json_array_size(o->port_mappings) > 0 ? o->port_mappings : NULL;
        *ret = json_pack("{s:s, s:O, s:O*}", "netns", netns, "networks", out_nets, "ports", ports);
        return *ret ? 0 : log_oom();
}

int net_detach(const char *id, char **networks, const char *cni_path) {
        _cleanup_close_ int lock = -EBADF;
        _cleanup_free_ char *netns = netns_path(id);
        json_auto_t *st = NULL;
        json_t *nets, *e;
        const char *net;
        void *tmp;
        int r, ret = 0;

        if (!netns)
                return log_oom();
        r = state_lock(id, &lock);
        if (r < 0)
                return log_error_errno(r, "Cannot lock the network state of %.12s: %m", id);
        r = state_load(id, &st);
        if (r < 0)
                return r;
        nets = json_object_get(st, "networks");
        for (char **n = networks; n && *n; n++)
                if (!json_object_get(nets, *n))
                        return log_error_errno(-ENOENT, "Container %.12s is not attached to network '%s'",
                                               id, *n);
        /* A whole detach with no process left in the namespace (berth-run detaches after the container
         * exited): remove the namespace first. The kernel destroys the container's interfaces with it, in
         * the background and in one batch, and each DEL gets CNI_NETNS="" (the spec: clean up what can be
         * cleaned up without it). Deleting a veth in the foreground, as the bridge plugin does, waits for
         * RCU grace periods: 10-40 ms here, the largest part of a detach. */
        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        if (!networks && json_object_size(nets) > 0 && netns_is_mounted(netns) &&
            netns_has_processes(netns) == 0) {
                r = netns_remove(netns);
                log_debug("Network namespace removed before DEL: %.1f ms",
                          (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1000.0);
                if (r < 0)
                        log_debug_errno(r,
                                        "Cannot remove the network namespace '%s' before DEL, ignoring: %m",
                                        netns);
        }
        json_object_foreach_safe(nets, tmp, net, e) {
                if (networks && !strv_contains(networks, net))
                        continue;
                r = entry_del(id, json_string_value(json_object_get(st, "netns")) ?: netns, net, e,
                              cni_path);
                if (r < 0) {
                        if (ret == 0)
                                ret = r;
                        continue;
                }
                _cleanup_free_ char *name = strdup(net);
                json_object_del(nets, net);
                r = state_save(id, st);
                if (r < 0)
                        return log_error_errno(r, "Cannot record the detach of %.12s: %m", id);
                if (name)
                        (void) netlife_update(name, NULL);
        }
        if (json_object_size(nets) == 0) {
                r = state_save(id, st);
                if (r < 0)
                        return log_error_errno(r, "Cannot record the detach of %.12s: %m", id);
                /* a disconnect leaves the namespace to the running container */
                if (!networks && ret == 0) {
                        r = netns_remove(netns);
                        if (r < 0)
                                return log_error_errno(r, "Cannot remove the network namespace '%s': %m",
                                                       netns);
                }
        }
        return ret;
}
