/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the network's DNS server answers itself: A and AAAA of its containers' names, PTR of their addresses,
 * REFUSED for peers outside the network; everything else is for the upstreams (dns-server.c over UDP,
 * dns-tcp.c over TCP). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <sys/stat.h>

#include "dns-internal.h"
#include "dns.h"
#include "macro.h"
#include "network.h"
#include "subnet.h"

static void records_free(Server *s) {
        for (size_t i = 0; i < s->n_records; i++)
                free(s->records[i].name);
        s->records = mfree(s->records);
        s->n_records = 0;
}

void dns_records_reload(Server *s) {
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

bool dns_same_question(const uint8_t *a, const uint8_t *b, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (tolower(a[i]) != tolower(b[i]))
                        return false;
        return true;
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
        dns_records_reload(s);
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
