/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "macro.h"
#include "ports.h"
#include "util.h"

static int parse_range(const char *s, unsigned *ret_lo, unsigned *ret_hi) {
        char buf[32];
        const char *dash;
        uint64_t lo, hi;
        if (isempty(s) || strlen(s) >= sizeof buf)
                return -EINVAL;
        snprintf(buf, sizeof buf, "%s", s);
        dash = strchr(buf, '-');
        if (dash)
                buf[dash - buf] = 0;
        if (safe_atou64(buf, &lo) < 0 || lo < 1 || lo > 65535)
                return -EINVAL;
        hi = lo;
        if (dash && (safe_atou64(buf + (dash - buf) + 1, &hi) < 0 || hi < lo || hi > 65535))
                return -EINVAL;
        *ret_lo = lo;
        *ret_hi = hi;
        return 0;
}

static int free_port(int family, const char *proto, unsigned *ret) {
        _cleanup_close_ int fd =
                socket(family, (streq(proto, "udp") ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        struct sockaddr_storage ss = {.ss_family = family};
        socklen_t len = sizeof ss;
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &ss,
                 family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0 ||
            getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
                return -errno;
        *ret = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                        : ((struct sockaddr_in *) &ss)->sin_port);
        return 0;
}

int ports_parse(const char *spec, json_t *mappings, const char **ret_why) {
        _cleanup_free_ char *s = strdup(spec ?: "");
        char *proto = NULL, *host_ip = NULL, *host_port = NULL, *cport, *p;
        unsigned clo, chi, hlo = 0, hhi = 0;
        unsigned char tmp[16];

        if (!s)
                return -ENOMEM;
        p = strrchr(s, '/');
        if (p) {
                *p = 0;
                proto = p + 1;
                if (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp")) {
                        *ret_why = "the protocol is tcp, udp or sctp";
                        return -EINVAL;
                }
        }
        /* "[::1]:8080:80" for an IPv6 host address */
        if (s[0] == '[') {
                p = strchr(s, ']');
                if (!p || p[1] != ':') {
                        *ret_why = "an IPv6 host address is written [ADDR]:HOSTPORT:PORT";
                        return -EINVAL;
                }
                *p = 0;
                host_ip = s + 1;
                host_port = p + 2;
        } else {
                host_port = s;
        }
        cport = strrchr(host_port, ':');
        if (cport) {
                *cport++ = 0;
                if (!host_ip) {
                        p = strrchr(host_port, ':');
                        if (p) {
                                *p = 0;
                                host_ip = host_port;
                                host_port = p + 1;
                        }
                }
        } else {
                cport = host_port;
                host_port = NULL;
        }
        if (host_ip && !isempty(host_ip) && inet_pton(AF_INET, host_ip, tmp) != 1 &&
            inet_pton(AF_INET6, host_ip, tmp) != 1) {
                *ret_why = "the host address is not an IP address";
                return -EINVAL;
        }
        if (parse_range(cport, &clo, &chi) < 0) {
                *ret_why = "a port is a number 1-65535 or a range LOW-HIGH";
                return -EINVAL;
        }
        if (!isempty(host_port)) {
                if (parse_range(host_port, &hlo, &hhi) < 0) {
                        *ret_why = "a port is a number 1-65535 or a range LOW-HIGH";
                        return -EINVAL;
                }
                if (hhi - hlo != chi - clo) {
                        *ret_why = "the host and container port ranges differ in length";
                        return -EINVAL;
                }
        } else {
                if (chi != clo) {
                        *ret_why = "a container port range needs a host port range";
                        return -EINVAL;
                }
                int family = host_ip && strchr(host_ip, ':') ? AF_INET6 : AF_INET;
                if (free_port(family, proto ?: "tcp", &hlo) < 0) {
                        *ret_why = "no free host port";
                        return -EADDRNOTAVAIL;
                }
                hhi = hlo;
        }
        for (unsigned i = 0; i <= chi - clo; i++) {
                json_t *m = json_pack("{s:i, s:i, s:s}", "hostPort", (int) (hlo + i), "containerPort",
                                      (int) (clo + i), "protocol", proto ?: "tcp");
                if (!m)
                        return -ENOMEM;
                if (!isempty(host_ip))
                        json_object_set_new(m, "hostIP", json_string(host_ip));
                json_array_append_new(mappings, m);
        }
        return 0;
}
