/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Creating a network: validation, subnets, overlaps with networks and host routes, the conflist. */
#include <sys/stat.h>
#include <time.h>

#include "cni.h"
#include "fileio.h"
#include "link.h"
#include "log.h"
#include "network.h"
#include "paths.h"
#include "util.h"

typedef struct Taken {
        Subnet *subnets; /* of other networks and host routes */
        char **owners;   /* network name, or NULL for a host route */
        size_t n;
        char **ifnames;
} Taken;

static void taken_done(Taken *t) {
        free(t->subnets);
        for (size_t i = 0; i < t->n; i++)
                free(t->owners[i]);
        free(t->owners);
        strv_free(t->ifnames);
}

static int taken_add(Taken *t, const Subnet *s, const char *owner) {
        Subnet *ns = reallocarray(t->subnets, t->n + 1, sizeof(Subnet));
        if (!ns)
                return -ENOMEM;
        t->subnets = ns;
        char **no = reallocarray(t->owners, t->n + 1, sizeof(char *));
        if (!no)
                return -ENOMEM;
        t->owners = no;
        t->owners[t->n] = owner ? strdup(owner) : NULL;
        t->subnets[t->n++] = *s;
        return 0;
}

static int taken_load(json_t *all, const char *own_ifname, Taken *t) {
        json_t *net;
        size_t i;
        int r;
        json_array_foreach (all, i, net) {
                json_t *meta = network_meta(net), *sn;
                const char *name = json_string_value(json_object_get(net, "name"));
                const char *ifn = json_string_value(json_object_get(meta, "network_interface"));
                const char *drv = json_string_value(json_object_get(meta, "driver"));
                size_t k;
                if (ifn && streq_ptr(drv, "bridge")) {
                        r = strv_extend(&t->ifnames, ifn);
                        if (r < 0)
                                return r;
                }
                json_array_foreach (json_object_get(meta, "subnets"), k, sn) {
                        Subnet s;
                        if (subnet_parse(json_string_value(json_object_get(sn, "subnet")), &s, NULL) < 0)
                                continue;
                        r = taken_add(t, &s, name);
                        if (r < 0)
                                return r;
                }
        }
        /* Routes through our own bridges belong to the networks above; skip them so a network whose bridge
         * is still up does not conflict with itself after rm + create. */
        Subnet *routes = NULL;
        size_t n_routes = 0;
        _cleanup_strv_free_ char **skip = NULL;
        for (char **f = t->ifnames; f && *f; f++)
                if (strv_extend(&skip, *f) < 0)
                        return -ENOMEM;
        if (own_ifname && strv_extend(&skip, own_ifname) < 0)
                return -ENOMEM;
        r = host_routes(skip, &routes, &n_routes);
        if (r < 0)
                return r;
        for (size_t k = 0; k < n_routes; k++) {
                r = taken_add(t, &routes[k], NULL);
                if (r < 0)
                        break;
        }
        free(routes);
        return r < 0 ? r : 0;
}

static const Subnet *taken_overlap(const Taken *t, const Subnet *s, const char **ret_owner) {
        for (size_t i = 0; i < t->n; i++)
                if (subnet_overlaps(&t->subnets[i], s)) {
                        *ret_owner = t->owners[i];
                        return &t->subnets[i];
                }
        return NULL;
}

static int pick_subnet_v4(const Taken *t, bool is_default, Subnet *ret) {
        const char *owner;
        char buf[SUBNET_STRLEN];
        /* podman's choices: 10.88.0.0/16 for the default network, 10.89.N.0/24 for the others */
        if (is_default)
                for (unsigned b = 88; b < 256; b++) {
                        snprintf(buf, sizeof buf, "10.%u.0.0/16", b);
                        if (subnet_parse(buf, ret, NULL) >= 0 && !taken_overlap(t, ret, &owner))
                                return 0;
                }
        for (unsigned b = 89; b < 256; b++)
                for (unsigned c = 0; c < 256; c++) {
                        snprintf(buf, sizeof buf, "10.%u.%u.0/24", b, c);
                        if (subnet_parse(buf, ret, NULL) >= 0 && !taken_overlap(t, ret, &owner))
                                return 0;
                }
        return -ENOSPC;
}

static int pick_subnet_v6(const Taken *t, Subnet *ret) {
        const char *owner;
        /* A unique local address prefix with a random global ID (RFC 4193), as podman does. */
        for (unsigned tries = 0; tries < 64; tries++) {
                char id[65];
                int r = random_id(id);
                if (r < 0)
                        return r;
                Subnet s = {.addr.family = AF_INET6, .prefixlen = 64};
                s.addr.bytes[0] = 0xfd;
                for (unsigned i = 1; i < 8; i++) {
                        unsigned v;
                        sscanf(id + 2 * i, "%2x", &v);
                        s.addr.bytes[i] = (uint8_t) v;
                }
                if (!taken_overlap(t, &s, &owner)) {
                        *ret = s;
                        return 0;
                }
        }
        return -ENOSPC;
}

static int pick_bridge(const Taken *t, char ret[16]) {
        for (unsigned i = 1; i < 10000; i++) {
                snprintf(ret, 16, "berth%u", i);
                if (!strv_contains(t->ifnames, ret) && !link_exists(ret))
                        return 0;
        }
        return -ENOSPC;
}

static int option_check(const char *driver, const char *key, const char *value) {
        static const char *const bridge_opts[] = {"mtu", "vlan", "isolate", NULL};
        static const char *const macvlan_opts[] = {"parent", "mode", "mtu", NULL};
        static const char *const vlan_opts[] = {"parent", "vlan", "mtu", NULL};
        const char *const *allowed = streq(driver, "bridge") ? bridge_opts
                                     : streq(driver, "vlan") ? vlan_opts
                                                             : macvlan_opts;
        if (!strv_contains((char **) allowed, key))
                return log_error_errno(-EINVAL, "Option '%s' is not supported by the %s driver", key,
                                       driver);
        if (streq(key, "mode")) {
                static const char *const mv[] = {"bridge", "private", "vepa", "passthru", NULL};
                static const char *const iv[] = {"l2", "l3", "l3s", NULL};
                if (!strv_contains((char **) (streq(driver, "macvlan") ? mv : iv), value))
                        return log_error_errno(-EINVAL, "Invalid %s mode '%s'", driver, value);
        }
        if (streq(key, "mtu") || streq(key, "vlan")) {
                uint64_t v;
                if (safe_atou64(value, &v) < 0 ||
                    (streq(key, "mtu") ? (v < 68 || v > 65535) : (v < 1 || v > 4094)))
                        return log_error_errno(-EINVAL, "Invalid option %s='%s'", key, value);
        }
        if (streq(key, "parent") && !ifname_is_valid(value))
                return log_error_errno(-EINVAL, "Invalid parent interface name '%s'", value);
        return 0;
}

static json_t *ipam_json(json_t *subnets_meta, bool internal) {
        json_t *ranges = json_array(), *routes = json_array(), *sn;
        bool v4 = false, v6 = false;
        size_t i;
        json_array_foreach (subnets_meta, i, sn) {
                json_t *r = json_pack("{s:O}", "subnet", json_object_get(sn, "subnet"));
                json_t *lr = json_object_get(sn, "lease_range");
                if (json_object_get(sn, "gateway"))
                        json_object_set(r, "gateway", json_object_get(sn, "gateway"));
                if (lr) {
                        json_object_set(r, "rangeStart", json_object_get(lr, "start_ip"));
                        json_object_set(r, "rangeEnd", json_object_get(lr, "end_ip"));
                }
                json_array_append_new(ranges, json_pack("[o]", r));
                if (strchr(json_string_value(json_object_get(sn, "subnet")), ':'))
                        v6 = true;
                else
                        v4 = true;
        }
        if (!internal) {
                if (v4)
                        json_array_append_new(routes, json_pack("{s:s}", "dst", "0.0.0.0/0"));
                if (v6)
                        json_array_append_new(routes, json_pack("{s:s}", "dst", "::/0"));
        }
        return json_pack("{s:s, s:o, s:o}", "type", "host-local", "ranges", ranges, "routes", routes);
}

static json_t *plugins_json(json_t *meta) {
        const char *driver = json_string_value(json_object_get(meta, "driver"));
        const char *ifn = json_string_value(json_object_get(meta, "network_interface"));
        json_t *opts = json_object_get(meta, "options");
        bool internal = json_is_true(json_object_get(meta, "internal"));
        json_t *ipam = ipam_json(json_object_get(meta, "subnets"), internal);
        json_t *caps = json_pack("{s:b, s:b}", "ips", 1, "mac", 1);
        const char *mtu = json_string_value(json_object_get(opts, "mtu"));
        json_t *main;

        if (streq(driver, "bridge")) {
                /* ipMasq stays off: berth-net masquerades per network (lifecycle.c), not per container */
                main = json_pack("{s:s, s:s, s:b, s:b, s:b, s:o, s:o}", "type", "bridge", "bridge", ifn,
                                 "isGateway", 1, "ipMasq", 0, "hairpinMode", 1, "capabilities", caps, "ipam",
                                 ipam);
                if (json_object_get(opts, "vlan"))
                        json_object_set_new(
                                main, "vlan",
                                json_integer(atoi(json_string_value(json_object_get(opts, "vlan")))));
        } else if (streq(driver, "vlan")) {
                main = json_pack("{s:s, s:s, s:i, s:o, s:o}", "type", "vlan", "master", ifn, "vlanId",
                                 atoi(json_string_value(json_object_get(opts, "vlan")) ?: "0"),
                                 "capabilities", caps, "ipam", ipam);
        } else {
                const char *mode = json_string_value(json_object_get(opts, "mode"));
                main = json_pack("{s:s, s:s, s:o, s:o}", "type", driver, "master", ifn, "capabilities", caps,
                                 "ipam", ipam);
                if (mode)
                        json_object_set_new(main, "mode", json_string(mode));
        }
        if (mtu)
                json_object_set_new(main, "mtu", json_integer(atoi(mtu)));

        json_t *plugins = json_pack("[o]", main);
        if (streq(driver, "bridge"))
                json_array_append_new(plugins, json_pack("{s:s, s:{s:b}}", "type", "portmap", "capabilities",
                                                         "portMappings", 1));
        return plugins;
}

static int parse_subnet_arg(const char *what, const char *s, Subnet *ret) {
        bool host_bits;
        if (subnet_parse(s, ret, &host_bits) < 0)
                return log_error_errno(-EINVAL, "Invalid %s '%s': expected ADDRESS/PREFIX", what, s);
        if (host_bits) {
                char b[SUBNET_STRLEN];
                (void) subnet_to_string(ret, b, sizeof b);
                return log_error_errno(-EINVAL, "Invalid %s '%s': host bits are set (did you mean '%s'?)",
                                       what, s, b);
        }
        return 0;
}

static int build_subnets(NetworkSpec *spec, const Taken *t, bool is_default, json_t **ret) {
        json_auto_t *out = json_array();
        Subnet subnets[NETWORK_MAX_SUBNETS + 1];
        size_t n = 0;
        bool have4 = false, have6 = false;
        const char *owner;
        int r;

        if (spec->n_gateways > spec->n_subnets || spec->n_ranges > spec->n_subnets)
                return log_error_errno(-EINVAL, "Each --gateway and --ip-range needs its own --subnet");
        for (size_t i = 0; i < spec->n_subnets; i++) {
                r = parse_subnet_arg("--subnet", spec->subnets[i], &subnets[n]);
                if (r < 0)
                        return r;
                unsigned bits = ip_family_bits(subnets[n].addr.family);
                if (subnets[n].prefixlen > bits - 2)
                        return log_error_errno(-EINVAL, "Subnet '%s' is too small", spec->subnets[i]);
                if (subnets[n].addr.family == AF_INET6)
                        have6 = true;
                else
                        have4 = true;
                for (size_t k = 0; k < n; k++)
                        if (subnet_overlaps(&subnets[k], &subnets[n]))
                                return log_error_errno(-EINVAL, "Subnets '%s' and '%s' overlap",
                                                       spec->subnets[k], spec->subnets[i]);
                n++;
        }
        bool user_given = n > 0;
        if (n == 0 || (spec->ipv6 && !have4 && !have6)) {
                if (!streq(spec->driver, "bridge"))
                        return log_error_errno(-EINVAL, "The %s driver needs --subnet", spec->driver);
                r = pick_subnet_v4(t, is_default, &subnets[n]);
                if (r < 0)
                        return log_error_errno(r, "No free IPv4 subnet left for network '%s'", spec->name);
                n++;
        }
        if (spec->ipv6 && !have6) {
                if (!streq(spec->driver, "bridge") && user_given)
                        return log_error_errno(-EINVAL, "--ipv6 with the %s driver needs an IPv6 --subnet",
                                               spec->driver);
                r = pick_subnet_v6(t, &subnets[n]);
                if (r < 0)
                        return log_error_errno(r, "No free IPv6 subnet left for network '%s'", spec->name);
                n++;
        }

        for (size_t i = 0; i < n; i++) {
                char sb[SUBNET_STRLEN], gw[INET6_ADDRSTRLEN], b[SUBNET_STRLEN];
                const Subnet *o;
                IpAddr g;
                (void) subnet_to_string(&subnets[i], sb, sizeof sb);
                o = taken_overlap(t, &subnets[i], &owner);
                if (o) {
                        (void) subnet_to_string(o, b, sizeof b);
                        if (owner)
                                return log_error_errno(-EADDRINUSE, "Subnet '%s' overlaps network '%s' (%s)",
                                                       sb, owner, b);
                        return log_error_errno(-EADDRINUSE, "Subnet '%s' overlaps the host route %s", sb, b);
                }
                if (i < spec->n_gateways) {
                        if (ip_parse(spec->gateways[i], &g) < 0)
                                return log_error_errno(-EINVAL, "Invalid --gateway '%s'", spec->gateways[i]);
                        if (!subnet_contains(&subnets[i], &g) || ip_equal(&g, &subnets[i].addr))
                                return log_error_errno(-EINVAL,
                                                       "Gateway '%s' is not a host address of subnet '%s'",
                                                       spec->gateways[i], sb);
                } else if (subnet_nth(&subnets[i], 1, &g) < 0)
                        return -ERANGE;
                (void) ip_to_string(&g, gw, sizeof gw);
                json_t *e = json_pack("{s:s, s:s}", "subnet", sb, "gateway", gw);
                if (i < spec->n_ranges) {
                        Subnet rg;
                        IpAddr first, last;
                        char fs[INET6_ADDRSTRLEN], ls[INET6_ADDRSTRLEN];
                        r = parse_subnet_arg("--ip-range", spec->ranges[i], &rg);
                        if (r < 0) {
                                json_decref(e);
                                return r;
                        }
                        if (rg.addr.family != subnets[i].addr.family ||
                            rg.prefixlen < subnets[i].prefixlen || !subnet_contains(&subnets[i], &rg.addr)) {
                                json_decref(e);
                                return log_error_errno(-EINVAL, "IP range '%s' is not inside subnet '%s'",
                                                       spec->ranges[i], sb);
                        }
                        /* the network address of the range is usable unless it is the subnet's own */
                        first = rg.addr;
                        if (ip_equal(&rg.addr, &subnets[i].addr) && subnet_nth(&rg, 1, &first) < 0) {
                                json_decref(e);
                                return log_error_errno(-EINVAL, "IP range '%s' is too small",
                                                       spec->ranges[i]);
                        }
                        (void) subnet_end(&rg, &last);
                        Subnet sl = subnets[i];
                        IpAddr sub_last;
                        (void) subnet_last(&sl, &sub_last);
                        if (memcmp(last.bytes, sub_last.bytes, 16) > 0)
                                last = sub_last;
                        (void) ip_to_string(&first, fs, sizeof fs);
                        (void) ip_to_string(&last, ls, sizeof ls);
                        json_object_set_new(e, "lease_range",
                                            json_pack("{s:s, s:s}", "start_ip", fs, "end_ip", ls));
                }
                json_array_append_new(out, e);
        }
        *ret = json_incref(out);
        return 0;
}

int network_create(NetworkSpec *spec, json_t **ret) {
        _cleanup_close_ int lock = -EBADF;
        json_auto_t *all = NULL, *subnets = NULL, *meta = NULL, *conflist = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_(taken_done) Taken t = {};
        char ifn[16] = {}, id[65], created[64];
        const char *why, *key;
        bool is_default = streq(spec->name, NETWORK_DEFAULT);
        json_t *v;
        int r;

        if (network_name_check(spec->name, &why) < 0)
                return log_error_errno(-EINVAL, "Invalid network name '%s': %s", spec->name, why);
        /* the default network first, so that it keeps its subnet */
        if (!is_default) {
                r = network_ensure_default();
                if (r < 0)
                        return r;
        }
        if (!spec->driver)
                spec->driver = "bridge";
        if (!strv_contains((char *[]){(char *) "bridge", (char *) "macvlan", (char *) "ipvlan",
                                      (char *) "vlan", NULL},
                           spec->driver))
                return log_error_errno(-EINVAL, "Unknown driver '%s' (bridge, macvlan, ipvlan or vlan)",
                                       spec->driver);
        json_object_foreach (spec->options, key, v) {
                r = option_check(spec->driver, key, json_string_value(v));
                if (r < 0)
                        return r;
        }
        r = networks_lock(LOCK_EX, &lock);
        if (r < 0)
                return log_error_errno(r, "Cannot lock the networks: %m");
        path = network_path(spec->name);
        if (!path)
                return log_oom();
        if (access(path, F_OK) == 0)
                /* the default network made meanwhile by a concurrent first use is no error */
                return (spec->check_cni_path || !is_default) && !spec->ignore_existing
                               ? log_error_errno(-EEXIST, "Network '%s' already exists", spec->name)
                               : -EEXIST;
        r = network_read_all(&all);
        if (r < 0)
                return r;
        r = taken_load(all, is_default ? NETWORK_DEFAULT_BRIDGE : spec->interface, &t);
        if (r < 0)
                return log_error_errno(r, "Cannot read the host's routes: %m");

        if (streq(spec->driver, "bridge")) {
                if (spec->interface) {
                        if (!ifname_is_valid(spec->interface))
                                return log_error_errno(-EINVAL, "Invalid interface name '%s'",
                                                       spec->interface);
                        if (strv_contains(t.ifnames, spec->interface))
                                return log_error_errno(-EEXIST, "Bridge '%s' is used by another network",
                                                       spec->interface);
                        snprintf(ifn, sizeof ifn, "%s", spec->interface);
                } else if (is_default && !strv_contains(t.ifnames, NETWORK_DEFAULT_BRIDGE))
                        snprintf(ifn, sizeof ifn, "%s", NETWORK_DEFAULT_BRIDGE);
                else if (pick_bridge(&t, ifn) < 0)
                        return log_error_errno(-ENOSPC, "No free bridge name left");
        } else {
                const char *parent =
                        json_string_value(json_object_get(spec->options, "parent")) ?: spec->interface;
                if (!parent)
                        return log_error_errno(-EINVAL,
                                               "The %s driver needs a parent interface (--opt parent=IFACE)",
                                               spec->driver);
                if (!ifname_is_valid(parent))
                        return log_error_errno(-EINVAL, "Invalid parent interface name '%s'", parent);
                if (!link_exists(parent))
                        return log_error_errno(-ENODEV, "Parent interface '%s' does not exist", parent);
                if (streq(spec->driver, "vlan") && !json_object_get(spec->options, "vlan"))
                        return log_error_errno(-EINVAL, "The vlan driver needs --opt vlan=ID");
                snprintf(ifn, sizeof ifn, "%s", parent);
                /* The gateway of a macvlan network is a router outside this host: no DNS server of ours can
                 * listen there (podman does the same). */
                spec->disable_dns = true;
        }

        r = build_subnets(spec, &t, is_default, &subnets);
        if (r < 0)
                return r;

        r = random_id(id);
        if (r < 0)
                return log_error_errno(r, "Cannot make a network ID: %m");
        (void) format_rfc3339(now_usec(CLOCK_REALTIME), created, sizeof created);
        bool ipv6 = false;
        size_t i;
        json_array_foreach (subnets, i, v)
                if (strchr(json_string_value(json_object_get(v, "subnet")), ':'))
                        ipv6 = true;
        meta = json_pack("{s:s, s:s, s:s, s:s, s:O, s:b, s:b, s:b, s:o, s:o, s:{s:s}}", "name", spec->name,
                         "id", id, "driver", spec->driver, "network_interface", ifn, "subnets", subnets,
                         "ipv6_enabled", ipv6, "internal", spec->internal, "dns_enabled", !spec->disable_dns,
                         "labels", spec->labels ? json_deep_copy(spec->labels) : json_object(), "options",
                         spec->options ? json_deep_copy(spec->options) : json_object(), "ipam_options",
                         "driver", "host-local");
        if (!meta)
                return log_oom();
        json_object_set_new(meta, "created", json_string(created));
        conflist = json_pack("{s:s, s:s, s:{s:O}, s:o}", "cniVersion", NETWORK_CNI_VERSION, "name",
                             spec->name, "args", "berth", meta, "plugins", plugins_json(meta));
        if (!conflist)
                return log_oom();
        if (spec->check_cni_path) {
                r = cni_check_versions(conflist, spec->check_cni_path);
                if (r < 0)
                        return r;
        }
        r = json_write_file_atomic(path, conflist);
        if (r < 0)
                return log_error_errno(r, "Cannot write '%s': %m", path);
        if (ret)
                *ret = json_incref(conflist);
        return 0;
}

int network_ensure_default(void) {
        _cleanup_free_ char *p = network_path(NETWORK_DEFAULT);
        if (!p)
                return log_oom();
        if (access(p, F_OK) == 0)
                return 0;
        NetworkSpec spec = {.name = NETWORK_DEFAULT, .driver = "bridge"};
        int r = network_create(&spec, NULL);
        /* someone else made it meanwhile */
        if (r == -EEXIST)
                return 0;
        return r;
}
