/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small authoritative DNS server for one network's containers, forwarding other names to the host's
 * resolvers: the sockets, the UDP forwarding (random IDs, answers checked against sender and question,
 * SERVFAIL on timeout) and the main loop. What it answers itself is dns-answer.c; TCP is dns-tcp.c. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "dns-internal.h"
#include "dns.h"
#include "fileio.h"
#include "log.h"
#include "network.h"
#include "paths.h"
#include "subnet.h"
#include "util.h"

static void send_servfail(int fd, uint8_t *q, size_t n, const struct sockaddr_storage *peer,
                          socklen_t plen) {
        dns_make_servfail(q);
        (void) sendto(fd, q, n, 0, (const struct sockaddr *) peer, plen);
}

/* A query ID nobody outside can predict (an off-path forger must guess it and our port), unused by any
 * pending query. */
static uint16_t new_id(const Server *s) {
        for (;;) {
                uint16_t id;
                if (getrandom(&id, sizeof id, 0) != sizeof id)
                        id = (uint16_t) random();
                bool used = false;
                for (size_t i = 0; i < MAX_PENDING && !used; i++)
                        used = s->pending[i].used && s->pending[i].our_id == id;
                if (!used)
                        return id;
        }
}

/* q: the whole query, n bytes; its question ends at qend. */
static void forward(Server *s, int fd, uint8_t *q, size_t n, size_t qend, struct sockaddr_storage *peer,
                    socklen_t plen) {
        Pending *slot = NULL;
        for (size_t i = 0; i < MAX_PENDING && !slot; i++)
                if (!s->pending[i].used)
                        slot = &s->pending[i];
        if (!slot || s->n_upstream == 0 || s->up_fd < 0 || qend - 12 > MAX_QUESTION) {
                send_servfail(fd, q, qend, peer, plen);
                return;
        }
        *slot = (Pending){.used = true,
                          .client_id = (uint16_t) (q[0] << 8 | q[1]),
                          .our_id = new_id(s),
                          .fd = fd,
                          .peer = *peer,
                          .peer_len = plen,
                          .deadline = now_usec(CLOCK_MONOTONIC) + UPSTREAM_TIMEOUT_USEC,
                          .question_len = qend - 12};
        memcpy(slot->question, q + 12, qend - 12);
        put16(q, slot->our_id);
        for (size_t i = 0; i < s->n_upstream; i++)
                (void) sendto(s->up_fd, q, n, 0, (struct sockaddr *) &s->upstream[i], s->upstream_len[i]);
}

/* Queries whose upstreams stayed silent get a SERVFAIL; returns the poll() timeout until the next deadline.
 */
static int expire_pending(Server *s) {
        usec_t now = now_usec(CLOCK_MONOTONIC), next = USEC_INFINITY;
        for (size_t i = 0; i < MAX_PENDING; i++) {
                Pending *p = &s->pending[i];
                if (!p->used)
                        continue;
                if (p->deadline <= now) {
                        uint8_t a[12 + MAX_QUESTION] = {};
                        put16(a, p->client_id);
                        a[2] = 0x01; /* RD, as the client asked (it is the only kind we forward) */
                        a[5] = 1;    /* one question */
                        memcpy(a + 12, p->question, p->question_len);
                        send_servfail(p->fd, a, 12 + p->question_len, &p->peer, p->peer_len);
                        p->used = false;
                } else if (p->deadline < next)
                        next = p->deadline;
        }
        return next == USEC_INFINITY ? -1 : (int) ((next - now + 999) / 1000);
}

/* Upstreams are kept as IPv6 (IPv4 ones mapped), as the dual-stack socket reports senders. */
static bool same_sockaddr(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *) a, *y = (const struct sockaddr_in6 *) b;
        return a->ss_family == AF_INET6 && b->ss_family == AF_INET6 && x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

/* The question of a reply, compared as DNS compares names: ASCII letters without case (0x20 randomization).
 */
static void handle_upstream(Server *s) {
        uint8_t buf[4096];
        struct sockaddr_storage from = {};
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(s->up_fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &flen);
        if (n < 12 || !(buf[2] & 0x80) || buf[4] != 0 || buf[5] != 1)
                return;
        /* only from an address we asked, as the same question: anything else is a forgery or stale */
        bool known = false;
        for (size_t i = 0; i < s->n_upstream && !known; i++)
                known = same_sockaddr(&from, &s->upstream[i]);
        if (!known)
                return;
        uint16_t id = (uint16_t) (buf[0] << 8 | buf[1]);
        for (size_t i = 0; i < MAX_PENDING; i++) {
                Pending *p = &s->pending[i];
                if (!p->used || p->our_id != id)
                        continue;
                if ((size_t) n < 12 + p->question_len ||
                    !dns_same_question(buf + 12, p->question, p->question_len))
                        return;
                put16(buf, p->client_id);
                (void) sendto(p->fd, buf, n, 0, (struct sockaddr *) &p->peer, p->peer_len);
                p->used = false;
                return;
        }
}

static void handle_query(Server *s, int fd) {
        uint8_t q[1500], out[1500 + 64 * 28];
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        size_t out_len, qend;
        ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *) &peer, &plen);
        if (n < 0)
                return;
        switch (dns_process(s, &peer, q, (size_t) n, 512, out, &out_len, &qend)) {
        case QUERY_REPLY:
                (void) sendto(fd, out, out_len, 0, (struct sockaddr *) &peer, plen);
                break;
        case QUERY_FORWARD:
                forward(s, fd, q, (size_t) n, qend, &peer, plen);
                break;
        default:
                break;
        }
}

/* A socket of type on addr port 53. The gateway address may still be tentative (IPv6 DAD): IP_FREEBIND. */
static int bind_53(const IpAddr *a, int type) {
        struct sockaddr_storage ss = {};
        socklen_t len;
        int one = 1;
        int fd = socket(a->family, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, a->family == AF_INET6 ? SOL_IPV6 : SOL_IP,
                          a->family == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, &one, sizeof one);
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (a->family == AF_INET6) {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(53);
                memcpy(&sin6->sin6_addr, a->bytes, 16);
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
                len = sizeof *sin6;
        } else {
                struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
                sin->sin_family = AF_INET;
                sin->sin_port = htons(53);
                memcpy(&sin->sin_addr, a->bytes, 4);
                len = sizeof *sin;
        }
        if (bind(fd, (struct sockaddr *) &ss, len) < 0 ||
            ((type & ~SOCK_NONBLOCK) == SOCK_STREAM && listen(fd, 64) < 0)) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        return fd;
}

/* UDP and TCP on addr. */
static int listen_on(Server *s, const char *addr) {
        IpAddr a;
        if (ip_parse(addr, &a) < 0 || s->n_fds >= MAX_LISTEN)
                return -EINVAL;
        int fd = bind_53(&a, SOCK_DGRAM);
        if (fd < 0)
                return fd;
        s->fds[s->n_fds++] = fd;
        fd = bind_53(&a, SOCK_STREAM | SOCK_NONBLOCK);
        if (fd < 0)
                return fd;
        s->tcp_fds[s->n_tcp_fds++] = fd;
        return 0;
}

static void upstreams_load(Server *s) {
        _cleanup_fclose_ FILE *f = fopen("/etc/resolv.conf", "re");
        char line[512], addr[256];
        while (f && fgets(line, sizeof line, f) && s->n_upstream < MAX_UPSTREAM) {
                IpAddr a;
                if (sscanf(line, " nameserver %255s", addr) != 1 || ip_parse(addr, &a) < 0)
                        continue;
                struct sockaddr_storage *ss = &s->upstream[s->n_upstream];
                memset(ss, 0, sizeof *ss);
                if (a.family == AF_INET6) {
                        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
                        sin6->sin6_family = AF_INET6;
                        sin6->sin6_port = htons(53);
                        memcpy(&sin6->sin6_addr, a.bytes, 16);
                        s->upstream_len[s->n_upstream++] = sizeof *sin6;
                } else {
                        struct sockaddr_in *sin = (struct sockaddr_in *) ss;
                        sin->sin_family = AF_INET;
                        sin->sin_port = htons(53);
                        memcpy(&sin->sin_addr, a.bytes, 4);
                        s->upstream_len[s->n_upstream++] = sizeof *sin;
                }
        }
        s->up_fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s->up_fd >= 0) {
                int zero = 0;
                (void) setsockopt(s->up_fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
                /* IPv4 upstreams through a dual-stack socket need mapped addresses */
                for (size_t i = 0; i < s->n_upstream; i++)
                        if (s->upstream[i].ss_family == AF_INET) {
                                struct sockaddr_in sin = *(struct sockaddr_in *) &s->upstream[i];
                                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &s->upstream[i];
                                memset(sin6, 0, sizeof *sin6);
                                sin6->sin6_family = AF_INET6;
                                sin6->sin6_port = sin.sin_port;
                                sin6->sin6_addr.s6_addr[10] = sin6->sin6_addr.s6_addr[11] = 0xff;
                                memcpy(&sin6->sin6_addr.s6_addr[12], &sin.sin_addr, 4);
                                s->upstream_len[i] = sizeof *sin6;
                        }
        }
}

int dns_serve(const char *net) {
        json_auto_t *conflist = NULL;
        _cleanup_free_ char *hosts = NULL, *f = NULL;
        Server s = {.up_fd = -EBADF, .lock = PTHREAD_MUTEX_INITIALIZER};
        json_t *sn;
        size_t i;
        int r;

        if (asprintf(&f, "%s.hosts", net) < 0)
                return log_oom();
        hosts = berth_run_path("net", "dns", f);
        if (!hosts)
                return log_oom();
        s.hosts_path = hosts;
        r = network_load(net, &conflist);
        if (r < 0)
                return log_error_errno(r, "Network '%s' cannot be loaded: %m", net);
        json_array_foreach (json_object_get(network_meta(conflist), "subnets"), i, sn) {
                const char *gw = json_string_value(json_object_get(sn, "gateway"));
                if (s.n_subnets < MAX_LISTEN &&
                    subnet_parse(json_string_value(json_object_get(sn, "subnet")), &s.subnets[s.n_subnets],
                                 NULL) >= 0)
                        s.n_subnets++;
                if (!gw)
                        continue;
                r = listen_on(&s, gw);
                if (r < 0)
                        return log_error_errno(r, "Cannot listen on %s port 53 for network '%s': %m", gw,
                                               net);
        }
        if (s.n_fds == 0)
                return log_error_errno(-EADDRNOTAVAIL, "Network '%s' has no gateway address to listen on",
                                       net);
        upstreams_load(&s);
        dns_records_reload(&s);
        (void) sd_notify(0, "READY=1");

        for (;;) {
                struct pollfd p[2 * MAX_LISTEN + 1];
                size_t n = 0;
                for (i = 0; i < s.n_fds; i++)
                        p[n++] = (struct pollfd){.fd = s.fds[i], .events = POLLIN};
                if (s.up_fd >= 0)
                        p[n++] = (struct pollfd){.fd = s.up_fd, .events = POLLIN};
                size_t tcp0 = n;
                for (i = 0; i < s.n_tcp_fds; i++)
                        p[n++] = (struct pollfd){.fd = s.tcp_fds[i], .events = POLLIN};
                if (poll(p, n, expire_pending(&s)) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(-errno, "poll() failed: %m");
                }
                for (i = 0; i < s.n_fds; i++)
                        if (p[i].revents & POLLIN)
                                handle_query(&s, s.fds[i]);
                if (s.up_fd >= 0 && (p[s.n_fds].revents & POLLIN))
                        handle_upstream(&s);
                for (i = 0; i < s.n_tcp_fds; i++)
                        if (p[tcp0 + i].revents & POLLIN)
                                dns_tcp_accept(&s, s.tcp_fds[i]);
                (void) expire_pending(&s);
        }
}
