/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-run's /etc/resolv.conf composition: --dns, --dns-search, --dns-option over the host's file, loopback
 * resolvers dropped unless the container shares the host's network. */
#include <stdlib.h>

#include "../../cmd/run/rootfs.c"
#include "../../cmd/run/safeio.c"
#include "tap.h"

static void check(const char *base, const EtcOptions *e, const char *want, const char *what) {
        _cleanup_free_ char *got = NULL;
        int r = resolv_compose(base, e, &got);
        CHECK(r == 0 && got && streq(got, want), "%s: got '%s'", what, got ?: "(null)");
}

int main(void) {
        static const char host[] = "# generated\nnameserver 127.0.0.53\nnameserver 192.0.2.1\n"
                                   "search a.test b.test\noptions edns0 trust-ad\nsortlist 10.0.0.0\n";
        char *dns[] = {(char *) "198.51.100.1", (char *) "2001:db8::1", NULL};
        char *search[] = {(char *) "c.test", NULL}, *none[] = {(char *) ".", NULL};
        char *opts[] = {(char *) "ndots:2", (char *) "attempts:3", NULL};

        check(host, &(EtcOptions){}, "nameserver 192.0.2.1\nsearch a.test b.test\noptions edns0 trust-ad\n",
              "defaults: the loopback stub dropped, search and options kept, other lines dropped");
        check(host, &(EtcOptions){.host_network = true},
              "nameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch a.test b.test\noptions edns0 trust-ad\n",
              "host network: the loopback resolver is kept");
        check(host, &(EtcOptions){.dns = dns, .dns_search = search, .dns_options = opts},
              "nameserver 198.51.100.1\nnameserver 2001:db8::1\nsearch c.test\noptions ndots:2 attempts:3\n",
              "every override");
        check(host, &(EtcOptions){.dns_search = none}, "nameserver 192.0.2.1\noptions edns0 trust-ad\n",
              "--dns-search . removes the search domains");
        check("nameserver 1.1.1.1\nnameserver 1.0.0.1\nnameserver 9.9.9.9\nnameserver 8.8.8.8\n",
              &(EtcOptions){}, "nameserver 1.1.1.1\nnameserver 1.0.0.1\nnameserver 9.9.9.9\n",
              "at most three nameservers");
        check("", &(EtcOptions){}, "", "an empty host file");
        check(NULL, &(EtcOptions){.dns = dns}, "nameserver 198.51.100.1\nnameserver 2001:db8::1\n",
              "no host file");
        check("nameserver\nnameserver    \n  search   x.test\n", &(EtcOptions){}, "  search   x.test\n",
              "malformed lines");
        TAP_END();
}
