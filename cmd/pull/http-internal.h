/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <curl/curl.h>
#include <inttypes.h>

#include "http.h"

/* Shared by http.c (transport) and auth.c (challenges and tokens). */
struct Client {
        ClientOptions o;
        char *domain, *repo;
        char *origin_host; /* host[:port] the API lives on */
        char *origin;      /* "http(s)://" + origin_host */
        bool http;
        bool contacted; /* a first HTTP answer arrived: the scheme is settled */
        char *user, *password, *cred_source;
        char *auth_header; /* "Authorization: ..." for requests to origin */
        unsigned auth_gen; /* bumped whenever auth_header changes */
        char *ca_pem;      /* the --cert-dir CAs (*.crt), concatenated: added to the system's */
        size_t ca_pem_len;
        char *client_cert, *client_key;
        CURLM *multi;
};

typedef struct Request {
        const char *path;
        const char *accept;
        const char *what;
        char *redirect; /* absolute URL after a redirect */
        BlobJob *blob;  /* NULL: into memory */
        size_t max;
        char *buf;
        size_t len, alloc;

        CURL *easy;
        struct curl_slist *headers;
        bool active, ready, done, body_started, err_capped;
        usec_t not_before;
        unsigned attempts, redirects, auth_tries, auth_gen;
        uint64_t blob_offset_at_start;
        usec_t timeout, last_rx, started;
        curl_off_t last_dlnow;
        bool stalled;

        long status;
        char content_type[128], challenge[1024], retry_after[64], content_range[96];
        char err_body[2048];
        size_t err_len, err_total;
        char curl_err[CURL_ERROR_SIZE];

        int error;
        char *errmsg;
} Request;

/* http.c */
int client_set_origin(Client *c, bool http);
/* TLS verification and the --cert-dir CAs, for the registry's and the token server's handles alike
 * (CVE-2019-10214). */
void client_setopt_tls(Client *c, CURL *e);
/* http-done.c: record the request's failure (first one wins), for client_run to log once. */
int request_fail(Request *q, int r, const char *fmt, ...) _printf_(3, 4);
/* http-done.c: a finished transfer: 0 with q->ready set to start it again, or done, or q->error set. */
int handle_done(Client *c, Request *q, CURLcode k);

/* auth.c: read --cert-dir into c->ca_pem, c->client_cert and c->client_key. */
int client_load_cert_dir(Client *c);
/* auth.c: answer a WWW-Authenticate challenge, setting c->auth_header; on failure *ret_error says why. */
int auth_answer_challenge(Client *c, const char *challenge, char **ret_error);
