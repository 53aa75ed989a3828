/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of berth-net's pure parts: addresses, subnets and overlap (cmd/net/subnet.c) and -p parsing
 * (cmd/net/ports.c). Unit tests link lib/ only, so the two sources are compiled in here. */
#include "../../cmd/net/ports.c"
#include "../../cmd/net/subnet.c"
#include "tap.h"

/* keeps gcc from warning that an array's address is never NULL in CHECK_STR */
static const char *str(const char *s) {
        return s;
}

static bool overlap(const char *a, const char *b) {
        Subnet x, y;
        if (subnet_parse(a, &x, NULL) < 0 || subnet_parse(b, &y, NULL) < 0)
                return false;
        return subnet_overlaps(&x, &y);
}

static char *nth(const char *s, uint64_t n) {
        static char buf[INET6_ADDRSTRLEN];
        Subnet x;
        IpAddr a;
        if (subnet_parse(s, &x, NULL) < 0 || subnet_nth(&x, n, &a) < 0)
                return NULL;
        ip_to_string(&a, buf, sizeof buf);
        return buf;
}

static char *ports(const char *spec) {
        static char buf[1024];
        json_t *m = json_array();
        const char *why = NULL;
        int r = ports_parse(spec, m, &why);
        if (r < 0)
                snprintf(buf, sizeof buf, "error: %s", why ?: "?");
        else {
                char *d = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
                snprintf(buf, sizeof buf, "%s", d);
                free(d);
        }
        json_decref(m);
        return buf;
}

int main(void) {
        Subnet s;
        bool host;
        char buf[SUBNET_STRLEN];
        IpAddr a;

        CHECK(subnet_parse("10.88.0.0/16", &s, &host) == 0 && !host && s.prefixlen == 16,
              "parse 10.88.0.0/16");
        CHECK(subnet_parse("10.88.0.5/16", &s, &host) == 0 && host, "host bits are reported");
        subnet_to_string(&s, buf, sizeof buf);
        CHECK_STR(str(buf), "10.88.0.0/16", "host bits cleared");
        CHECK(subnet_parse("fd00:1::5/64", &s, &host) == 0 && host, "IPv6 host bits");
        subnet_to_string(&s, buf, sizeof buf);
        CHECK_STR(str(buf), "fd00:1::/64", "IPv6 normalised");
        CHECK(subnet_parse("10.0.0.0/33", &s, NULL) < 0, "prefix too long");
        CHECK(subnet_parse("10.0.0.0", &s, NULL) < 0, "no prefix");
        CHECK(subnet_parse("10.0.0.0/", &s, NULL) < 0, "empty prefix");
        CHECK(subnet_parse("10.0.0.0/-1", &s, NULL) < 0, "negative prefix");
        CHECK(subnet_parse("10.0.0.0/8x", &s, NULL) < 0, "junk after prefix");
        CHECK(subnet_parse("300.0.0.0/8", &s, NULL) < 0, "bad octet");
        CHECK(subnet_parse("/8", &s, NULL) < 0, "no address");
        CHECK(subnet_parse("::/0", &s, NULL) == 0 && s.prefixlen == 0, "::/0");

        CHECK(overlap("10.88.0.0/16", "10.88.5.0/24"), "contained");
        CHECK(overlap("10.88.5.0/24", "10.88.0.0/16"), "contains");
        CHECK(overlap("10.0.0.0/8", "10.255.255.0/24"), "edge of /8");
        CHECK(!overlap("10.88.0.0/16", "10.89.0.0/16"), "neighbours");
        CHECK(!overlap("10.88.0.0/24", "10.88.1.0/24"), "neighbour /24");
        CHECK(overlap("0.0.0.0/0", "192.168.1.0/24"), "default route covers all");
        CHECK(!overlap("10.88.0.0/16", "fd00::/64"), "families never overlap");
        CHECK(overlap("fd00::/48", "fd00:0:0:1::/64"), "IPv6 contained");
        CHECK(!overlap("fd00::/64", "fd00:0:0:1::/64"), "IPv6 neighbours");

        CHECK_STR(nth("10.88.0.0/16", 1), "10.88.0.1", "gateway of /16");
        CHECK_STR(nth("10.88.0.0/16", 256), "10.88.1.0", "carry into the next octet");
        CHECK(nth("10.88.0.0/30", 4) == NULL, "past the end of /30");
        CHECK_STR(nth("fd00::/64", 1), "fd00::1", "IPv6 gateway");
        CHECK_STR(nth("10.255.255.0/24", 255), "10.255.255.255", "last of /24");
        CHECK(nth("255.255.255.0/24", 256) == NULL, "overflow of the address space");

        subnet_parse("10.91.0.0/24", &s, NULL);
        subnet_last(&s, &a);
        ip_to_string(&a, buf, sizeof buf);
        CHECK_STR(str(buf), "10.91.0.254", "last usable of /24 skips the broadcast");
        subnet_end(&s, &a);
        ip_to_string(&a, buf, sizeof buf);
        CHECK_STR(str(buf), "10.91.0.255", "end of /24");
        subnet_parse("10.91.0.128/26", &s, NULL);
        subnet_end(&s, &a);
        ip_to_string(&a, buf, sizeof buf);
        CHECK_STR(str(buf), "10.91.0.191", "end of a range /26");
        subnet_parse("fd00::/120", &s, NULL);
        subnet_last(&s, &a);
        ip_to_string(&a, buf, sizeof buf);
        CHECK_STR(str(buf), "fd00::ff", "IPv6 has no broadcast");

        ip_parse("10.88.3.4", &a);
        subnet_parse("10.88.0.0/16", &s, NULL);
        CHECK(subnet_contains(&s, &a), "contains");
        ip_parse("10.89.3.4", &a);
        CHECK(!subnet_contains(&s, &a), "does not contain");
        CHECK(ip_parse("10.88.3", &a) < 0, "short address refused");
        CHECK(ip_parse("", &a) < 0, "empty address refused");

        CHECK_STR(ports("8080:80"), "[{\"containerPort\":80,\"hostPort\":8080,\"protocol\":\"tcp\"}]",
                  "HOST:CTR");
        CHECK_STR(ports("127.0.0.1:8080:80/udp"),
                  "[{\"containerPort\":80,\"hostIP\":\"127.0.0.1\",\"hostPort\":8080,\"protocol\":\"udp\"}]",
                  "IP:HOST:CTR/udp");
        CHECK_STR(ports("[::1]:8080:80"),
                  "[{\"containerPort\":80,\"hostIP\":\"::1\",\"hostPort\":8080,\"protocol\":\"tcp\"}]",
                  "[v6]:HOST:CTR");
        CHECK_STR(ports("9000-9001:90-91"),
                  "[{\"containerPort\":90,\"hostPort\":9000,\"protocol\":\"tcp\"},"
                  "{\"containerPort\":91,\"hostPort\":9001,\"protocol\":\"tcp\"}]",
                  "ranges");
        CHECK(strstr(ports("80"), "\"containerPort\":80,\"hostPort\":") != NULL,
              "a free host port is chosen");
        CHECK(strstr(ports("127.0.0.1::80"), "\"hostIP\":\"127.0.0.1\"") != NULL, "IP::CTR");
        CHECK_STR(ports("80:90-91"), "error: the host and container port ranges differ in length",
                  "range mismatch");
        CHECK_STR(ports("0:80"), "error: a port is a number 1-65535 or a range LOW-HIGH", "port 0");
        CHECK_STR(ports("65536:80"), "error: a port is a number 1-65535 or a range LOW-HIGH",
                  "port too big");
        CHECK_STR(ports("8080:80/icmp"), "error: the protocol is tcp, udp or sctp", "bad protocol");
        CHECK_STR(ports("nohost:8080:80"), "error: the host address is not an IP address",
                  "bad host address");
        CHECK_STR(ports("90-80:90-80"), "error: a port is a number 1-65535 or a range LOW-HIGH",
                  "reversed range");
        CHECK_STR(ports(""), "error: a port is a number 1-65535 or a range LOW-HIGH", "empty");
        CHECK_STR(ports("[::1:8080:80"), "error: an IPv6 host address is written [ADDR]:HOSTPORT:PORT",
                  "unclosed bracket");
        TAP_END();
}
