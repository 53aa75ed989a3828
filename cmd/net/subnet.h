/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

/* IPv4/IPv6 addresses and subnets, and the host's routes. Pure functions (no logging), unit-tested by
 * tests/unit/test-net-subnet.c. */
#define SUBNET_STRLEN (INET6_ADDRSTRLEN + 5)

typedef struct IpAddr {
        int family; /* AF_INET or AF_INET6 */
        uint8_t bytes[16];
} IpAddr;

typedef struct Subnet {
        IpAddr addr; /* network address: host bits are zero */
        unsigned prefixlen;
} Subnet;

static inline unsigned ip_family_bits(int family) {
        return family == AF_INET6 ? 128 : 32;
}

int ip_parse(const char *s, IpAddr *ret);
int ip_to_string(const IpAddr *a, char *buf, size_t size);
bool ip_equal(const IpAddr *a, const IpAddr *b);
/* "10.1.2.0/24". Host bits are cleared; *ret_host_bits (may be NULL) says whether there were any. */
int subnet_parse(const char *s, Subnet *ret, bool *ret_host_bits);
int subnet_to_string(const Subnet *s, char *buf, size_t size);
bool subnet_contains(const Subnet *s, const IpAddr *a);
bool subnet_overlaps(const Subnet *a, const Subnet *b);
/* The address n hosts above the network address (n = 1 is the usual gateway); -ERANGE outside the subnet. */
int subnet_nth(const Subnet *s, uint64_t n, IpAddr *ret);
/* The last address (all host bits set). */
int subnet_end(const Subnet *s, IpAddr *ret);
/* The last usable address (broadcast - 1 for IPv4, the last address for IPv6). */
int subnet_last(const Subnet *s, IpAddr *ret);
/* Routes of the current network namespace from /proc/net/route and /proc/net/ipv6_route, without default
 * routes, host routes (/32, /128), local and link-local ones. dev_skip (may be NULL) lists interface names
 * whose routes are ignored. */
int host_routes(char *const *dev_skip, Subnet **ret, size_t *ret_n);
