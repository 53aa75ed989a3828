/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "fileio.h"
#include "macro.h"
#include "subnet.h"

int ip_parse(const char *s, IpAddr *ret) {
        IpAddr a = {};
        if (isempty(s))
                return -EINVAL;
        if (inet_pton(AF_INET, s, a.bytes) == 1)
                a.family = AF_INET;
        else if (inet_pton(AF_INET6, s, a.bytes) == 1)
                a.family = AF_INET6;
        else
                return -EINVAL;
        *ret = a;
        return 0;
}

int ip_to_string(const IpAddr *a, char *buf, size_t size) {
        if (!inet_ntop(a->family, a->bytes, buf, size))
                return -errno;
        return 0;
}

bool ip_equal(const IpAddr *a, const IpAddr *b) {
        return a->family == b->family && memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

static void mask_bits(uint8_t *bytes, unsigned nbytes, unsigned prefixlen, bool *ret_host_bits) {
        bool host = false;
        for (unsigned i = 0; i < nbytes; i++) {
                unsigned keep = prefixlen >= 8 * (i + 1) ? 8 : prefixlen > 8 * i ? prefixlen - 8 * i : 0;
                uint8_t m = keep == 0 ? 0 : (uint8_t) (0xff << (8 - keep));
                if (bytes[i] & ~m)
                        host = true;
                bytes[i] &= m;
        }
        if (ret_host_bits)
                *ret_host_bits = host;
}

int subnet_parse(const char *s, Subnet *ret, bool *ret_host_bits) {
        char buf[SUBNET_STRLEN];
        Subnet n = {};
        const char *slash;
        char *end;
        unsigned long p;

        if (isempty(s) || strlen(s) >= sizeof buf)
                return -EINVAL;
        slash = strchr(s, '/');
        if (!slash || slash == s)
                return -EINVAL;
        memcpy(buf, s, slash - s);
        buf[slash - s] = 0;
        if (ip_parse(buf, &n.addr) < 0)
                return -EINVAL;
        if (slash[1] < '0' || slash[1] > '9')
                return -EINVAL;
        errno = 0;
        p = strtoul(slash + 1, &end, 10);
        if (errno || *end || p > ip_family_bits(n.addr.family))
                return -EINVAL;
        n.prefixlen = p;
        mask_bits(n.addr.bytes, n.addr.family == AF_INET ? 4 : 16, n.prefixlen, ret_host_bits);
        *ret = n;
        return 0;
}

int subnet_to_string(const Subnet *s, char *buf, size_t size) {
        char a[INET6_ADDRSTRLEN];
        int r = ip_to_string(&s->addr, a, sizeof a);
        if (r < 0)
                return r;
        if ((size_t) snprintf(buf, size, "%s/%u", a, s->prefixlen) >= size)
                return -ENOBUFS;
        return 0;
}

bool subnet_contains(const Subnet *s, const IpAddr *a) {
        IpAddr m = *a;
        if (a->family != s->addr.family)
                return false;
        mask_bits(m.bytes, a->family == AF_INET ? 4 : 16, s->prefixlen, NULL);
        return ip_equal(&m, &s->addr);
}

bool subnet_overlaps(const Subnet *a, const Subnet *b) {
        if (a->addr.family != b->addr.family)
                return false;
        /* Two prefixes overlap exactly when the shorter one contains the other's network address. */
        return a->prefixlen <= b->prefixlen ? subnet_contains(a, &b->addr) : subnet_contains(b, &a->addr);
}

/* Add n to the address (big-endian), failing on overflow past the subnet. */
int subnet_nth(const Subnet *s, uint64_t n, IpAddr *ret) {
        IpAddr a = s->addr;
        unsigned len = a.family == AF_INET ? 4 : 16;
        uint64_t carry = n;
        for (int i = (int) len - 1; i >= 0 && carry; i--) {
                uint64_t v = a.bytes[i] + (carry & 0xff);
                a.bytes[i] = v & 0xff;
                carry = (carry >> 8) + (v >> 8);
        }
        if (carry || !subnet_contains(s, &a))
                return -ERANGE;
        *ret = a;
        return 0;
}

int subnet_end(const Subnet *s, IpAddr *ret) {
        IpAddr a = s->addr;
        unsigned len = a.family == AF_INET ? 4 : 16;
        for (unsigned i = 0; i < len; i++) {
                unsigned keep = s->prefixlen >= 8 * (i + 1) ? 8
                                : s->prefixlen > 8 * i      ? s->prefixlen - 8 * i
                                                            : 0;
                a.bytes[i] |= keep == 0 ? 0xff : (uint8_t) ~(0xff << (8 - keep));
        }
        *ret = a;
        return 0;
}

int subnet_last(const Subnet *s, IpAddr *ret) {
        IpAddr a = s->addr;
        unsigned len = a.family == AF_INET ? 4 : 16;
        for (unsigned i = 0; i < len; i++) {
                unsigned keep = s->prefixlen >= 8 * (i + 1) ? 8
                                : s->prefixlen > 8 * i      ? s->prefixlen - 8 * i
                                                            : 0;
                a.bytes[i] |= keep == 0 ? 0xff : (uint8_t) ~(0xff << (8 - keep));
        }
        if (a.family == AF_INET && s->prefixlen < 31) {
                /* skip the broadcast address */
                for (int i = 3; i >= 0; i--)
                        if (a.bytes[i]-- != 0)
                                break;
        }
        *ret = a;
        return 0;
}

static int routes_push(Subnet **v, size_t *n, const Subnet *s) {
        Subnet *nv = reallocarray(*v, *n + 1, sizeof(Subnet));
        if (!nv)
                return -ENOMEM;
        nv[(*n)++] = *s;
        *v = nv;
        return 0;
}

static int hex_nibble(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int host_routes(char *const *dev_skip, Subnet **ret, size_t *ret_n) {
        _cleanup_free_ Subnet *v = NULL;
        size_t n = 0;
        char line[512];
        int r;

        _cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
        if (f) {
                /* Iface Destination Gateway Flags RefCnt Use Metric Mask ...; addresses in host byte order
                 * hex */
                if (!fgets(line, sizeof line, f))
                        line[0] = 0;
                while (fgets(line, sizeof line, f)) {
                        char dev[64];
                        unsigned dst, gw, flags, mask;
                        if (sscanf(line, "%63s %x %x %x %*d %*d %*d %x", dev, &dst, &gw, &flags, &mask) != 5)
                                continue;
                        if (mask == 0 || mask == 0xffffffffU || strv_contains(dev_skip, dev))
                                continue;
                        Subnet s = {.addr.family = AF_INET};
                        memcpy(s.addr.bytes, &dst, 4);
                        uint32_t m = ntohl(mask);
                        while (m & 0x80000000U) {
                                s.prefixlen++;
                                m <<= 1;
                        }
                        r = routes_push(&v, &n, &s);
                        if (r < 0)
                                return r;
                }
        }

        _cleanup_fclose_ FILE *g = fopen("/proc/net/ipv6_route", "re");
        if (g) {
                /* dst(32 hex) dstlen src srclen nexthop metric refcnt use flags dev */
                while (fgets(line, sizeof line, g)) {
                        char dst[33], dev[64];
                        unsigned plen, flags;
                        if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %x %63s", dst, &plen, &flags,
                                   dev) != 4)
                                continue;
                        if (plen == 0 || plen >= 128 || streq(dev, "lo") || strv_contains(dev_skip, dev))
                                continue;
                        Subnet s = {.addr.family = AF_INET6, .prefixlen = plen};
                        bool ok = strlen(dst) == 32;
                        for (unsigned i = 0; ok && i < 16; i++) {
                                int hi = hex_nibble(dst[2 * i]), lo = hex_nibble(dst[2 * i + 1]);
                                if (hi < 0 || lo < 0)
                                        ok = false;
                                else
                                        s.addr.bytes[i] = (uint8_t) (hi << 4 | lo);
                        }
                        /* fe80::/10 and multicast are on every link; they never conflict with a subnet of
                         * ours */
                        if (!ok || (s.addr.bytes[0] == 0xfe && (s.addr.bytes[1] & 0xc0) == 0x80) ||
                            s.addr.bytes[0] == 0xff)
                                continue;
                        r = routes_push(&v, &n, &s);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}
