/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-net: networks (CNI conflists) and the attachment of containers to them. */
#include <getopt.h>
#include <stdio.h>

#include "attach.h"
#include "cli.h"
#include "cni.h"
#include "commands.h"
#include "fileio.h"
#include "log.h"
#include "main-func.h"
#include "network.h"
#include "paths.h"
#include "ports.h"
#include "table.h"
#include "verbs.h"

NetOptions arg = {};

static void help(void) {
        printf("Usage: berth-net COMMAND [OPTIONS] [ARGS...]\n\n"
               "Container networks through CNI plugins, with DNS for names and aliases.\n\n"
               "Commands:\n"
               "  create [OPTIONS] NAME       Create a network\n"
               "  rm [-f] NAME...             Remove networks (-f: detach their containers first)\n"
               "  ls [-q] [--filter K=V]      List networks\n"
               "  inspect NAME...             Show networks as JSON\n"
               "  prune [--filter K=V]        Remove every unused network but the default\n"
               "  connect NETWORK CONTAINER   Attach a running container to one more network\n"
               "  disconnect NETWORK CONTAINER\n"
               "                              Detach a running container from a network\n"
               "  attach --container ID ...   Create the container's netns and attach networks (prints "
               "JSON)\n"
               "  detach --container ID       Detach everything and remove the netns (idempotent)\n"
               "  check --container ID        Run CNI CHECK for the container's networks\n\n"
               "Options for create:\n"
               "  -d --driver DRIVER          bridge (default), macvlan, ipvlan or vlan\n"
               "     --subnet CIDR            Subnet (repeat for dual stack)\n"
               "     --gateway IP             Gateway of the subnet at the same position\n"
               "     --ip-range CIDR          Allocate from this part of the subnet at the same position\n"
               "     --ipv6                   Add an IPv6 subnet (a random ULA /64 unless given)\n"
               "     --internal               No default route and no masquerading\n"
               "     --disable-dns            No DNS server for this network\n"
               "     --ignore                 create: no error if the network already exists\n"
               "  -l --label KEY=VALUE        Label the network\n"
               "  -o --opt KEY=VALUE          Driver option: parent, mode, mtu, vlan\n"
               "     --interface-name NAME    Bridge name (default berthN)\n\n"
               "Options for attach, detach, connect:\n"
               "     --container ID           The container\n"
               "     --network NAME[,NAME...] Networks (default: berth; 'none': only the namespace)\n"
               "     --ip IP                  Static IPv4 address\n"
               "     --ip6 IP                 Static IPv6 address\n"
               "     --mac-address MAC        Static MAC address\n"
               "     --network-alias NAME     DNS alias (repeatable)\n"
               "  -p --publish [HOSTIP:][HOSTPORT:]PORT[/PROTO]\n"
               "                              Publish a port or a range (repeatable)\n"
               "     --hostname NAME          Host name, also a DNS name\n"
               "     --name NAME              Container name, also a DNS name\n\n"
               "Other options:\n"
               "  -q --quiet                  ls: print names only\n"
               "     --filter KEY=VALUE       ls, prune: name, id, driver, label\n"
               "  -f --force                  rm: detach the network's containers first\n"
               "     --cni-path DIRS          Plugin directories (default " CNI_PATH_DEFAULT
               ")\n" CLI_COMMON_HELP "\nSee berth-net(1).\n");
}

enum {
        ARG_SUBNET = 0x100,
        ARG_GATEWAY,
        ARG_IP_RANGE,
        ARG_IPV6,
        ARG_INTERNAL,
        ARG_DISABLE_DNS,
        ARG_IGNORE,
        ARG_INTERFACE_NAME,
        ARG_CONTAINER,
        ARG_NETWORK,
        ARG_IP,
        ARG_IP6,
        ARG_MAC,
        ARG_ALIAS,
        ARG_HOSTNAME,
        ARG_NAME,
        ARG_FILTER,
        ARG_CNI_PATH,
};

static int add_kv(json_t **obj, const char *what, const char *s) {
        const char *eq = strchr(s, '=');
        _cleanup_free_ char *k = eq ? strndup(s, eq - s) : strdup(s);
        if (!k)
                return log_oom();
        if (isempty(k))
                return cli_usage_error("Invalid %s '%s': expected KEY=VALUE", what, s);
        if (!*obj && !(*obj = json_object()))
                return log_oom();
        json_object_set_new(*obj, k, json_string(eq ? eq + 1 : ""));
        return 0;
}

static int add_list(char **v, size_t *n, const char *what, char *s) {
        if (*n >= NETWORK_MAX_SUBNETS)
                return cli_usage_error("Too many %s options", what);
        v[(*n)++] = s;
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"driver", required_argument, NULL, 'd'},
                {"subnet", required_argument, NULL, ARG_SUBNET},
                {"gateway", required_argument, NULL, ARG_GATEWAY},
                {"ip-range", required_argument, NULL, ARG_IP_RANGE},
                {"ipv6", no_argument, NULL, ARG_IPV6},
                {"internal", no_argument, NULL, ARG_INTERNAL},
                {"disable-dns", no_argument, NULL, ARG_DISABLE_DNS},
                {"ignore", no_argument, NULL, ARG_IGNORE},
                {"label", required_argument, NULL, 'l'},
                {"opt", required_argument, NULL, 'o'},
                {"interface-name", required_argument, NULL, ARG_INTERFACE_NAME},
                {"container", required_argument, NULL, ARG_CONTAINER},
                {"network", required_argument, NULL, ARG_NETWORK},
                {"ip", required_argument, NULL, ARG_IP},
                {"ip6", required_argument, NULL, ARG_IP6},
                {"mac-address", required_argument, NULL, ARG_MAC},
                {"network-alias", required_argument, NULL, ARG_ALIAS},
                {"alias", required_argument, NULL, ARG_ALIAS},
                {"publish", required_argument, NULL, 'p'},
                {"hostname", required_argument, NULL, ARG_HOSTNAME},
                {"name", required_argument, NULL, ARG_NAME},
                {"quiet", no_argument, NULL, 'q'},
                {"filter", required_argument, NULL, ARG_FILTER},
                {"force", no_argument, NULL, 'f'},
                {"cni-path", required_argument, NULL, ARG_CNI_PATH},
                {},
        };
        static const char *const filter_keys[] = {"name", "id", "driver", "label", NULL};
        const char *why;
        int c, r;

        arg.cni_path = getenv("CNI_PATH") ?: CNI_PATH_DEFAULT;
        opterr = 0; /* cli_parse_common() says it in one line */
        while ((c = getopt_long(argc, argv, ":hd:l:o:p:qf", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        return cli_version();
                case 'd':
                        arg.spec.driver = optarg;
                        break;
                case ARG_SUBNET:
                        r = add_list(arg.spec.subnets, &arg.spec.n_subnets, "--subnet", optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_GATEWAY:
                        r = add_list(arg.spec.gateways, &arg.spec.n_gateways, "--gateway", optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_IP_RANGE:
                        r = add_list(arg.spec.ranges, &arg.spec.n_ranges, "--ip-range", optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_IPV6:
                        arg.spec.ipv6 = true;
                        break;
                case ARG_INTERNAL:
                        arg.spec.internal = true;
                        break;
                case ARG_DISABLE_DNS:
                        arg.spec.disable_dns = true;
                        break;
                case ARG_IGNORE:
                        arg.spec.ignore_existing = true;
                        break;
                case 'l':
                        r = add_kv(&arg.spec.labels, "--label", optarg);
                        if (r < 0)
                                return r;
                        break;
                case 'o':
                        r = add_kv(&arg.spec.options, "--opt", optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_INTERFACE_NAME:
                        arg.spec.interface = optarg;
                        break;
                case ARG_CONTAINER:
                        arg.attach.container_id = optarg;
                        break;
                case ARG_NETWORK: {
                        _cleanup_free_ char *copy = strdup(optarg);
                        char *save = NULL;
                        if (!copy)
                                return log_oom();
                        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                                if (strv_contains(arg.networks, t))
                                        return cli_usage_error("Network '%s' is given twice", t);
                                if (strv_extend(&arg.networks, t) < 0)
                                        return log_oom();
                        }
                        if (!arg.networks)
                                return cli_usage_error("Empty --network");
                        break;
                }
                case ARG_IP:
                        arg.attach.ip = optarg;
                        break;
                case ARG_IP6:
                        arg.attach.ip6 = optarg;
                        break;
                case ARG_MAC:
                        arg.attach.mac = optarg;
                        break;
                case ARG_ALIAS:
                        if (!name_is_valid(optarg, 253))
                                return cli_usage_error("Invalid --network-alias '%s'", optarg);
                        if (strv_extend(&arg.aliases, optarg) < 0)
                                return log_oom();
                        break;
                case 'p':
                        if (!arg.ports && !(arg.ports = json_array()))
                                return log_oom();
                        r = ports_parse(optarg, arg.ports, &why);
                        if (r == -ENOMEM)
                                return log_oom();
                        if (r < 0)
                                return cli_usage_error("Invalid --publish '%s': %s", optarg, why);
                        break;
                case ARG_HOSTNAME:
                        arg.attach.hostname = optarg;
                        break;
                case ARG_NAME:
                        arg.attach.name = optarg;
                        break;
                case 'q':
                        arg.quiet = true;
                        break;
                case ARG_FILTER:
                        r = filters_add(&arg.filters, optarg, filter_keys);
                        if (r == -ENOMEM)
                                return log_oom();
                        if (r < 0)
                                return cli_usage_error(
                                        "Invalid --filter '%s': expected name=, id=, driver= or label=",
                                        optarg);
                        break;
                case 'f':
                        arg.force = true;
                        break;
                case ARG_CNI_PATH:
                        if (isempty(optarg))
                                return cli_usage_error("Empty --cni-path");
                        arg.cni_path = optarg;
                        break;
                default:
                        r = cli_parse_common(c, optarg, argv);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return cli_usage_error("Unhandled option");
                }
        }
        if (arg.attach.mac && !mac_is_valid(arg.attach.mac))
                return cli_usage_error("Invalid --mac-address '%s'", arg.attach.mac);
        if (arg.attach.hostname && !name_is_valid(arg.attach.hostname, 253))
                return cli_usage_error("Invalid --hostname '%s'", arg.attach.hostname);
        if (arg.attach.name && !name_is_valid(arg.attach.name, 253))
                return cli_usage_error("Invalid --name '%s'", arg.attach.name);
        arg.attach.networks = arg.networks;
        arg.attach.aliases = arg.aliases;
        arg.attach.port_mappings = arg.ports;
        arg.attach.cni_path = arg.cni_path;
        return 1;
}

static const Verb verbs[] = {
        {"create", 2, 2, verb_create},
        {"rm", 2, VERB_ANY, verb_rm},
        {"remove", 2, VERB_ANY, verb_rm},
        {"ls", 1, 1, verb_ls},
        {"list", 1, 1, verb_ls},
        {"inspect", 2, VERB_ANY, verb_inspect},
        {"prune", 1, 1, verb_prune},
        {"exists", 2, 2, verb_exists},
        {"connect", 3, 3, verb_connect},
        {"disconnect", 3, 3, verb_disconnect},
        {"attach", 1, 1, verb_attach},
        {"detach", 1, 1, verb_detach},
        {"check", 1, 1, verb_check},
        {"dns-serve", 2, 2, verb_dns_serve},
        {},
};

static int run(int argc, char *argv[]) {
        int r = parse_argv(argc, argv);
        if (r <= 0)
                return r;
        return dispatch_verb(argc - optind, argv + optind, verbs, NULL);
}

DEFINE_MAIN_FUNCTION(run);
