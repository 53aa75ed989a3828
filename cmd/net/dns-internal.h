/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The DNS server's state, shared by its UDP path (dns-server.c) and its TCP path (dns-tcp.c). */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "subnet.h"
#include "util.h"

#define MAX_LISTEN 8
#define MAX_PENDING 256
#define MAX_UPSTREAM 3
/* An upstream that has not answered by then gets the client a SERVFAIL, before the client's own timeout (5 s
 * in glibc and busybox) makes it wait for nothing. */
#define UPSTREAM_TIMEOUT_USEC (3 * USEC_PER_SEC)
#define MAX_QUESTION (255 + 1 + 4)

typedef struct Record {
        char *name; /* lowercase, no trailing dot */
        IpAddr addr;
} Record;

typedef struct Pending {
        bool used;
        uint16_t client_id, our_id;
        int fd;
        struct sockaddr_storage peer;
        socklen_t peer_len;
        usec_t deadline; /* CLOCK_MONOTONIC */
        uint8_t question[MAX_QUESTION];
        size_t question_len;
} Pending;

typedef struct Server {
        const char *hosts_path;
        struct stat hosts_st;
        Record *records;
        size_t n_records;
        unsigned rotor;
        int fds[MAX_LISTEN];
        size_t n_fds;
        int up_fd;
        struct sockaddr_storage upstream[MAX_UPSTREAM];
        socklen_t upstream_len[MAX_UPSTREAM];
        size_t n_upstream;
        Pending pending[MAX_PENDING];
        Subnet subnets[MAX_LISTEN];
        size_t n_subnets;
        int tcp_fds[MAX_LISTEN];
        size_t n_tcp_fds;
        pthread_mutex_t lock; /* records and rotor: the TCP connections' threads share them */
        unsigned tcp_active;  /* connection threads running (under lock) */
} Server;

static inline void put16(uint8_t *p, uint16_t v) {
        p[0] = v >> 8;
        p[1] = v & 0xff;
}

/* Re-read the records file when its inode, size or mtime changed; call with s->lock held (or before the
 * threads). */
void dns_records_reload(Server *s);

typedef enum QueryAction {
        QUERY_DROP,    /* malformed, or not a query: no answer */
        QUERY_REPLY,   /* out holds the answer: ours, or REFUSED for a peer outside the network */
        QUERY_FORWARD, /* not our name: q (with its EDNS record) goes upstream */
} QueryAction;

/* Decide on one query of n bytes from peer; answers hold at most max_answer bytes (512 over UDP). On
 * QUERY_FORWARD *ret_qend is where the question ends. Takes s->lock itself. */
QueryAction dns_process(Server *s, const struct sockaddr_storage *peer, uint8_t *q, size_t n,
                        size_t max_answer, uint8_t *out, size_t *out_len, size_t *ret_qend);
/* The question of a reply against the one asked (names compared without case: 0x20 randomization). */
bool dns_same_question(const uint8_t *a, const uint8_t *b, size_t n);
/* A SERVFAIL for the query in q (header and question, qend bytes), made in place. */
void dns_make_servfail(uint8_t *q);
/* Accept one TCP connection into a thread of its own (at most DNS_TCP_MAX at once; more are closed). */
#define DNS_TCP_MAX 16
void dns_tcp_accept(Server *s, int listen_fd);
