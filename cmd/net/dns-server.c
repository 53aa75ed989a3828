/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small authoritative DNS server for one network's containers, forwarding other names to the host's
 * resolvers. UDP only: answers for containers are a few records and always fit. */
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

static void records_free(Server *s) {
        for (size_t i = 0; i < s->n_records; i++)
                free(s->records[i].name);
        s->records = mfree(s->records);
        s->n_records = 0;
}

static void records_reload(Server *s) {
        struct stat st;
        if (stat(s->hosts_path, &st) < 0) {
                records_free(s);
                memset(&s->hosts_st, 0, sizeof s->hosts_st);
                return;
        }
        if (st.st_ino == s->hosts_st.st_ino && st.st_mtim.tv_sec == s->hosts_st.st_mtim.tv_sec &&
            st.st_mtim.tv_nsec == s->hosts_st.st_mtim.tv_nsec && st.st_size == s->hosts_st.st_size)
                return;
        _cleanup_fclose_ FILE *f = fopen(s->hosts_path, "re");
        if (!f)
                return;
        records_free(s);
        s->hosts_st = st;
        char line[4096];
        while (fgets(line, sizeof line, f)) {
                char *save = NULL, *tok = strtok_r(line, " \t\n", &save);
                IpAddr a;
                if (!tok || ip_parse(tok, &a) < 0)
                        continue;
                while ((tok = strtok_r(NULL, " \t\n", &save))) {
                        Record *nr = reallocarray(s->records, s->n_records + 1, sizeof(Record));
                        if (!nr)
                                return;
                        s->records = nr;
                        for (char *c = tok; *c; c++)
                                *c = (char) tolower((unsigned char) *c);
                        nr[s->n_records].name = strdup(tok);
                        nr[s->n_records].addr = a;
                        if (nr[s->n_records].name)
                                s->n_records++;
                }
        }
}

/* Decode the question name (no compression in questions we accept). Returns the offset after QNAME. */
static int read_qname(const uint8_t *p, size_t n, size_t off, char *name, size_t size) {
        size_t o = 0;
        for (;;) {
                if (off >= n)
                        return -EBADMSG;
                uint8_t l = p[off++];
                if (l == 0)
                        break;
                if (l & 0xc0 || off + l > n || o + l + 2 > size)
                        return -EBADMSG;
                if (o > 0)
                        name[o++] = '.';
                for (uint8_t i = 0; i < l; i++)
                        name[o++] = (char) tolower(p[off + i]);
                off += l;
        }
        name[o] = 0;
        return (int) off;
}

static void put16(uint8_t *p, uint16_t v) {
        p[0] = v >> 8;
        p[1] = v & 0xff;
}

static const char *strip_domain(char *name) {
        size_t l = strlen(name), d = strlen("." DNS_DOMAIN);
        if (l > d && streq(name + l - d, "." DNS_DOMAIN))
                name[l - d] = 0;
        return name;
}

/* Answer from our records; false when the name is not ours (then it is forwarded). */
static bool answer_local(Server *s, uint8_t *q, size_t max, size_t qend, char *name, uint16_t qtype,
                         uint8_t *out, size_t *out_len) {
        size_t idx[64], k = 0, o;
        bool known = false;
        const char *bare = strip_domain(name);
        bool ours = !strchr(bare, '.') || strlen(name) != strlen(bare);

        for (size_t i = 0; i < s->n_records; i++) {
                if (!streq(s->records[i].name, bare))
                        continue;
                known = true;
                int fam = qtype == 1 ? AF_INET : qtype == 28 ? AF_INET6 : 0;
                if (s->records[i].addr.family != fam || k >= ELEMENTSOF(idx))
                        continue;
                bool dup = false;
                for (size_t j = 0; j < k; j++)
                        dup = dup || ip_equal(&s->records[idx[j]].addr, &s->records[i].addr);
                if (!dup)
                        idx[k++] = i;
        }
        if (!known && !ours)
                return false;

        memcpy(out, q, qend);
        /* QR, opcode from the query, AA, RD copied, RA */
        out[2] = 0x84 | (q[2] & 0x79);
        out[3] = 0x80 | (known ? 0 : 3); /* NXDOMAIN for an unknown name of ours */
        put16(out + 6, (uint16_t) k);
        put16(out + 8, 0);
        put16(out + 10, 0);
        o = qend;
        /* rotate so that clients taking the first answer spread over all containers with the alias */
        unsigned start = k ? s->rotor++ % k : 0;
        size_t sent = 0;
        for (size_t j = 0; j < k; j++) {
                const Record *r = &s->records[idx[(start + j) % k]];
                size_t alen = r->addr.family == AF_INET ? 4 : 16;
                /* A plain UDP answer fits 512 bytes: rather than truncate (and send the client to TCP),
                 * answer with as many as fit; the rotation still spreads the clients over all of them. */
                if (o + 12 + alen > max)
                        break;
                sent++;
                put16(out + o, 0xc00c);
                put16(out + o + 2, qtype);
                put16(out + o + 4, 1);
                memset(out + o + 6, 0, 4); /* TTL 0: containers come and go */
                put16(out + o + 10, (uint16_t) alen);
                memcpy(out + o + 12, r->addr.bytes, alen);
                o += 12 + alen;
        }
        put16(out + 6, (uint16_t) sent);
        *out_len = o;
        return true;
}

/* "4.3.2.1.in-addr.arpa" or the 32 nibbles of ".ip6.arpa" (lowercase, as read_qname gives it) -> address. */
static bool parse_reverse(const char *name, IpAddr *ret) {
        IpAddr a = {};
        const char *p = name;
        if (endswith(name, ".in-addr.arpa")) {
                unsigned v[4];
                int used = 0;
                if (sscanf(name, "%3u.%3u.%3u.%3u.in-addr.arpa%n", &v[3], &v[2], &v[1], &v[0], &used) != 4 ||
                    name[used] != 0 || v[0] > 255 || v[1] > 255 || v[2] > 255 || v[3] > 255)
                        return false;
                a.family = AF_INET;
                for (size_t i = 0; i < 4; i++)
                        a.bytes[i] = (uint8_t) v[i];
        } else if (endswith(name, ".ip6.arpa") && strlen(name) == 64 + strlen("ip6.arpa")) {
                a.family = AF_INET6;
                for (int i = 31; i >= 0; i--, p += 2) {
                        if (!isxdigit((unsigned char) p[0]) || p[1] != '.')
                                return false;
                        unsigned nib =
                                (unsigned) (isdigit((unsigned char) p[0]) ? p[0] - '0' : p[0] - 'a' + 10);
                        a.bytes[i / 2] |= (uint8_t) (i % 2 ? nib : nib << 4);
                }
        } else
                return false;
        *ret = a;
        return true;
}

/* PTR for an address of the network's subnets: the first name of the container that has it, in our domain;
 * NXDOMAIN when no container has it. false for other addresses (forwarded). */
static bool answer_ptr(Server *s, const uint8_t *q, size_t qend, const char *name, uint8_t *out,
                       size_t *out_len) {
        IpAddr a;
        bool inside = false;
        if (!parse_reverse(name, &a))
                return false;
        for (size_t i = 0; i < s->n_subnets && !inside; i++)
                inside = subnet_contains(&s->subnets[i], &a);
        if (!inside)
                return false;
        const Record *hit = NULL;
        for (size_t i = 0; i < s->n_records && !hit; i++)
                if (ip_equal(&s->records[i].addr, &a))
                        hit = &s->records[i];
        memcpy(out, q, qend);
        out[2] = 0x84 | (q[2] & 0x79);
        out[3] = 0x80 | (hit ? 0 : 3);
        put16(out + 6, hit ? 1 : 0);
        put16(out + 8, 0);
        put16(out + 10, 0);
        size_t o = qend;
        if (hit) {
                /* rdata: the name's labels, then the domain's; names are checked at attach: labels of 1-63
                 */
                uint8_t *rd = out + o + 12;
                size_t k = 0;
                char full[256 + sizeof(DNS_DOMAIN)];
                snprintf(full, sizeof full, "%s." DNS_DOMAIN, hit->name);
                for (char *save = NULL, *l = strtok_r(full, ".", &save); l; l = strtok_r(NULL, ".", &save)) {
                        size_t len = MIN(strlen(l), (size_t) 63);
                        rd[k++] = (uint8_t) len;
                        memcpy(rd + k, l, len);
                        k += len;
                }
                rd[k++] = 0;
                put16(out + o, 0xc00c);
                put16(out + o + 2, 12);
                put16(out + o + 4, 1);
                memset(out + o + 6, 0, 4);
                put16(out + o + 10, (uint16_t) k);
                o += 12 + k;
        }
        *out_len = o;
        return true;
}

void dns_make_servfail(uint8_t *q) {
        q[2] |= 0x80;
        q[3] = (q[3] & 0xf0) | 0x82; /* RA, SERVFAIL */
        q[6] = q[7] = q[8] = q[9] = q[10] = q[11] = 0;
}

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
bool dns_same_question(const uint8_t *a, const uint8_t *b, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (tolower(a[i]) != tolower(b[i]))
                        return false;
        return true;
}

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

static bool peer_allowed(const Server *s, const struct sockaddr_storage *peer) {
        IpAddr a = {.family = peer->ss_family};
        if (peer->ss_family == AF_INET)
                memcpy(a.bytes, &((const struct sockaddr_in *) peer)->sin_addr, 4);
        else if (peer->ss_family == AF_INET6)
                memcpy(a.bytes, &((const struct sockaddr_in6 *) peer)->sin6_addr, 16);
        else
                return false;
        for (size_t i = 0; i < s->n_subnets; i++)
                if (subnet_contains(&s->subnets[i], &a))
                        return true;
        return false;
}

QueryAction dns_process(Server *s, const struct sockaddr_storage *peer, uint8_t *q, size_t n,
                        size_t max_answer, uint8_t *out, size_t *out_len, size_t *ret_qend) {
        char name[256];
        if (n < 12 || (q[2] & 0x80) || q[4] != 0 || q[5] != 1)
                return QUERY_DROP;
        int qend = read_qname(q, n, 12, name, sizeof name);
        if (qend < 0 || (size_t) qend + 4 > n)
                return QUERY_DROP;
        uint16_t qtype = (uint16_t) (q[qend] << 8 | q[qend + 1]);
        qend += 4;
        /* our own answers echo the question alone: no additional records (EDNS) */
        uint8_t arcount[2] = {q[10], q[11]};
        q[6] = q[7] = q[8] = q[9] = q[10] = q[11] = 0;
        if (!peer_allowed(s, peer)) {
                /* REFUSED: the names of a network are for its own containers, not for other networks' */
                memcpy(out, q, qend);
                out[2] |= 0x80;
                out[3] = (out[3] & 0xf0) | 5;
                *out_len = qend;
                return QUERY_REPLY;
        }
        pthread_mutex_lock(&s->lock);
        records_reload(s);
        bool local = qtype == 12 ? answer_ptr(s, q, qend, name, out, out_len)
                                 : answer_local(s, q, max_answer, qend, name, qtype, out, out_len);
        pthread_mutex_unlock(&s->lock);
        if (local)
                return QUERY_REPLY;
        /* forwarded whole, with the client's EDNS record: its UDP size lets large answers come back without
         * truncation */
        q[10] = arcount[0];
        q[11] = arcount[1];
        *ret_qend = qend;
        return QUERY_FORWARD;
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
        records_reload(&s);
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
