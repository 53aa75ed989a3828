/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DNS over TCP (RFC 7766) for the network's server: what a client falls back to when a UDP answer comes
 * truncated (musl's resolver, for one, sends no EDNS record, so any upstream answer past 512 bytes does).
 * Each connection gets a thread of its own, which answers our names from the shared records and forwards
 * the rest over TCP to the upstreams, one at a time, with timeouts; the UDP path never waits for it. */
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "dns-internal.h"
#include "log.h"
#include "macro.h"

/* An idle connection, or an upstream that does not answer, is given up after this. */
#define TCP_IO_TIMEOUT_SEC 5
#define DNS_MSG_MAX 65535

typedef struct Conn {
        Server *s;
        int fd;
        struct sockaddr_storage peer;
} Conn;

static void set_timeouts(int fd) {
        struct timeval tv = {.tv_sec = TCP_IO_TIMEOUT_SEC};
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int read_all(int fd, uint8_t *buf, size_t n) {
        for (size_t done = 0; done < n;) {
                ssize_t k = recv(fd, buf + done, n - done, 0);
                if (k == 0)
                        return -ECONNRESET;
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                done += (size_t) k;
        }
        return 0;
}

static int write_msg(int fd, const uint8_t *msg, size_t n) {
        uint8_t len[2] = {(uint8_t) (n >> 8), (uint8_t) n};
        struct iovec iov[2] = {{len, 2}, {(void *) msg, n}};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
        size_t total = n + 2;
        while (total > 0) {
                ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                total -= (size_t) k;
                while (k > 0 && mh.msg_iovlen > 0) {
                        size_t step = MIN((size_t) k, mh.msg_iov[0].iov_len);
                        mh.msg_iov[0].iov_base = (uint8_t *) mh.msg_iov[0].iov_base + step;
                        mh.msg_iov[0].iov_len -= step;
                        k -= (ssize_t) step;
                        if (mh.msg_iov[0].iov_len == 0) {
                                mh.msg_iov++;
                                mh.msg_iovlen--;
                        }
                }
        }
        return 0;
}

/* One length-prefixed message; returns its size. */
static int read_msg(int fd, uint8_t *buf) {
        uint8_t len[2];
        int r = read_all(fd, len, 2);
        if (r < 0)
                return r;
        size_t n = (size_t) len[0] << 8 | len[1];
        if (n < 12)
                return -EBADMSG;
        r = read_all(fd, buf, n);
        return r < 0 ? r : (int) n;
}

/* Ask the upstreams in turn over TCP; the first answer to our question wins. */
static int forward_tcp(const Server *s, const uint8_t *q, size_t n, size_t qend, uint8_t *reply) {
        for (size_t i = 0; i < s->n_upstream; i++) {
                _cleanup_close_ int fd = socket(s->upstream[i].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        continue;
                set_timeouts(fd); /* connect() too waits at most SO_SNDTIMEO */
                if (connect(fd, (const struct sockaddr *) &s->upstream[i], s->upstream_len[i]) < 0 ||
                    write_msg(fd, q, n) < 0)
                        continue;
                int k = read_msg(fd, reply);
                if (k < 0 || (size_t) k < qend || reply[0] != q[0] || reply[1] != q[1] ||
                    !(reply[2] & 0x80) || !dns_same_question(reply + 12, q + 12, qend - 12))
                        continue;
                return k;
        }
        return -EHOSTUNREACH;
}

static void *conn_thread(void *userdata) {
        Conn *c = userdata;
        Server *s = c->s;
        _cleanup_free_ uint8_t *q = malloc(DNS_MSG_MAX), *out = malloc(DNS_MSG_MAX);

        set_timeouts(c->fd);
        /* several queries may come one after the other on one connection; answered in order */
        while (q && out) {
                int n = read_msg(c->fd, q);
                if (n < 0)
                        break;
                size_t out_len = 0, qend = 0;
                QueryAction a = dns_process(s, &c->peer, q, (size_t) n, DNS_MSG_MAX, out, &out_len, &qend);
                if (a == QUERY_DROP)
                        break;
                if (a == QUERY_FORWARD) {
                        int k = forward_tcp(s, q, (size_t) n, qend, out);
                        if (k < 0) {
                                memcpy(out, q, qend);
                                dns_make_servfail(out);
                                out_len = qend;
                        } else
                                out_len = (size_t) k;
                }
                if (write_msg(c->fd, out, out_len) < 0)
                        break;
        }
        safe_close(c->fd);
        free(c);
        pthread_mutex_lock(&s->lock);
        s->tcp_active--;
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

void dns_tcp_accept(Server *s, int listen_fd) {
        struct sockaddr_storage peer = {};
        socklen_t plen = sizeof peer;
        int fd = accept4(listen_fd, (struct sockaddr *) &peer, &plen, SOCK_CLOEXEC);
        if (fd < 0)
                return;
        pthread_mutex_lock(&s->lock);
        bool room = s->tcp_active < DNS_TCP_MAX;
        if (room)
                s->tcp_active++;
        pthread_mutex_unlock(&s->lock);
        Conn *c = room ? malloc(sizeof *c) : NULL;
        if (!c) {
                log_debug("DNS over TCP: connection refused (%s)", room ? "out of memory" : "too many");
                safe_close(fd);
                if (room) {
                        pthread_mutex_lock(&s->lock);
                        s->tcp_active--;
                        pthread_mutex_unlock(&s->lock);
                }
                return;
        }
        *c = (Conn){.s = s, .fd = fd, .peer = peer};
        pthread_attr_t attr;
        pthread_t t;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        if (pthread_create(&t, &attr, conn_thread, c) != 0) {
                safe_close(fd);
                free(c);
                pthread_mutex_lock(&s->lock);
                s->tcp_active--;
                pthread_mutex_unlock(&s->lock);
        }
        pthread_attr_destroy(&attr);
}
