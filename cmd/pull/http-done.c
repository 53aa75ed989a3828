/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What to do with a finished request: verify, redirect, authenticate, retry, or fail with one message. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <time.h>

#include "auth.h"
#include "http-internal.h"
#include "log.h"
#include "parse.h"

#define REDIRECTS_MAX 10

int request_fail(Request *q, int r, const char *fmt, ...) {
        va_list ap;
        if (q->error < 0)
                return 0;
        q->error = r < 0 ? r : -EIO;
        free(q->errmsg);
        va_start(ap, fmt);
        if (vasprintf(&q->errmsg, fmt, ap) < 0)
                q->errmsg = NULL;
        va_end(ap);
        return 0;
}

/* "MANIFEST_UNKNOWN: manifest unknown" from a registry error body, if it is one. */
static void error_summary(Request *q, char *buf, size_t size) {
        json_t *j = q->err_len ? json_loadb(q->err_body, q->err_len, 0, NULL) : NULL;
        json_t *e = json_array_get(json_object_get(j, "errors"), 0);
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        buf[0] = 0;
        if (code)
                snprintf(buf, size, " (%.64s%s%.160s)", code, msg ? ": " : "", msg ?: "");
        json_decref(j);
}

static bool http_status_retryable(long s) {
        return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static bool curl_code_retryable(CURLcode k) {
        switch (k) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return true;
        default:
                return false;
        }
}

static usec_t backoff(Client *c, Request *q) {
        usec_t now = now_usec(CLOCK_REALTIME), d;
        if (q->retry_after[0] && retry_after_parse(q->retry_after, now, &d) >= 0)
                return MIN(d, c->o.retry_after_max);
        if (c->o.retry_delay > 0)
                return c->o.retry_delay;
        d = USEC_PER_SEC << MIN(q->attempts - 1, 5U);
        /* 10% jitter so parallel clients do not retry in step. */
        return d + (usec_t) (random() % (long) (d / 10 + 1));
}

static int schedule_retry(Client *c, Request *q, const char *why) {
        if (q->attempts > c->o.retries)
                return request_fail(q, -EIO, "%s: %s (gave up after %u attempts)", q->what, why,
                                    q->attempts);
        usec_t d = backoff(c, q);
        log_debug("%s: %s, retrying in %llu ms", q->what, why, (unsigned long long) (d / USEC_PER_MSEC));
        q->not_before = now_usec(CLOCK_MONOTONIC) + d;
        q->ready = true;
        return 0;
}

static int handle_redirect(Client *c, Request *q) {
        char *next = NULL;
        _cleanup_free_ char *copy = NULL;
        if (++q->redirects > REDIRECTS_MAX)
                return request_fail(q, -ELOOP, "%s: more than %d redirects", q->what, REDIRECTS_MAX);
        if (curl_easy_getinfo(q->easy, CURLINFO_REDIRECT_URL, &next) != CURLE_OK || !next)
                return request_fail(q, -EBADMSG, "%s: HTTP %ld redirect without a location", q->what,
                                    q->status);
        /* https anywhere; plain http only where the registry itself may use it. */
        if (!startswith(next, "https://") && !(startswith(next, "http://") && c->o.allow_http))
                return request_fail(q, -EPROTO, "%s: refusing redirect to '%.200s' (only https is allowed)",
                                    q->what, next);
        copy = strdup(next);
        if (!copy)
                return -ENOMEM;
        free(q->redirect);
        q->redirect = TAKE_PTR(copy);
        q->attempts--; /* a redirect is not a failed attempt */
        q->ready = true;
        q->not_before = 0;
        return 0;
}

static int handle_unauthorized(Client *c, Request *q) {
        char sum[256];
        int r;

        if (q->redirect) /* a redirect target wants credentials: it never gets ours */
                return request_fail(q, -EACCES, "%s: HTTP 401 from redirect target '%.200s'", q->what,
                                    q->redirect);
        if (++q->auth_tries > 1 + (q->auth_gen != c->auth_gen) || !q->challenge[0]) {
                error_summary(q, sum, sizeof sum);
                return request_fail(q, -EACCES, "%s: authentication failed: HTTP 401%s with %s", q->what,
                                    sum,
                                    c->auth_header ? c->cred_source ? c->cred_source : "an anonymous token"
                                                   : "no credentials");
        }
        /* Another request may have refreshed the token meanwhile. */
        if (q->auth_gen == c->auth_gen) {
                _cleanup_free_ char *err = NULL;
                r = auth_answer_challenge(c, q->challenge, &err);
                if (r < 0)
                        return request_fail(q, r, "%s: %s", q->what, err ?: "authentication failed");
        }
        q->attempts--;
        q->ready = true;
        q->not_before = 0;
        return 0;
}

static int finish_blob(Request *q) {
        BlobJob *b = q->blob;
        char d[DIGEST_MAX];
        if (b->offset != b->size)
                return request_fail(q, -EBADMSG,
                                    "%s: size mismatch: got %" PRIu64 " bytes, the descriptor says %" PRIu64,
                                    b->what, b->offset, b->size);
        if (sha256_final(b->hash, d) < 0)
                return request_fail(q, -EIO, "%s: hashing failed", b->what);
        if (!streq(d, b->digest))
                return request_fail(q, -EBADMSG,
                                    "%s: digest mismatch: the registry sent content with digest %s", b->what,
                                    d);
        return 0;
}

int handle_done(Client *c, Request *q, CURLcode k) {
        char sum[256];
        long code = 0;

        (void) curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &code);
        q->status = code;
        if (q->error < 0)
                return 0;
        if (k != CURLE_OK && !(k == CURLE_WRITE_ERROR && q->err_capped)) {
                /* First contact: an https registry on loopback answers plain http with 400 (Go's server);
                 * an http one fails the TLS handshake. */
                if (!c->contacted && !q->redirect && c->o.allow_http && !c->http &&
                    k == CURLE_SSL_CONNECT_ERROR) {
                        if (client_set_origin(c, true) < 0)
                                return -ENOMEM;
                        q->attempts--;
                        q->ready = true;
                        return 0;
                }
                char why[CURL_ERROR_SIZE + 64];
                if (q->stalled) {
                        snprintf(why, sizeof why, "no data for %u s (--timeout)", c->o.timeout_s);
                        k = CURLE_OPERATION_TIMEDOUT;
                } else
                        snprintf(why, sizeof why, "%s",
                                 q->curl_err[0] ? q->curl_err : curl_easy_strerror(k));
                if (curl_code_retryable(k))
                        return schedule_retry(c, q, why);
                return request_fail(q, -EIO, "%s: %s", q->what, why);
        }
        c->contacted = true;
        long v = 0;
        (void) curl_easy_getinfo(q->easy, CURLINFO_HTTP_VERSION, &v);
        log_debug("%s: HTTP/%s %ld", q->what,
                  v == CURL_HTTP_VERSION_2_0 ? "2"
                  : v == CURL_HTTP_VERSION_3 ? "3"
                                             : "1.1",
                  code);
        if (code >= 200 && code < 300)
                return q->blob ? finish_blob(q) : 0;
        if (code == 301 || code == 302 || code == 303 || code == 307 || code == 308)
                return handle_redirect(c, q);
        if (code == 401)
                return handle_unauthorized(c, q);
        if (code == 400 && c->http && !q->redirect &&
            strstr(q->err_body, "HTTP request to an HTTPS server")) {
                if (client_set_origin(c, false) < 0)
                        return -ENOMEM;
                q->attempts--;
                q->ready = true;
                return 0;
        }
        error_summary(q, sum, sizeof sum);
        if (http_status_retryable(code)) {
                char why[320];
                snprintf(why, sizeof why, "HTTP %ld%s", code, sum);
                return schedule_retry(c, q, why);
        }
        /* From blob storage or a layer's URL, the answer is that host's: name it, without the query (a
         * pre-signed URL's signature is a credential). */
        const char *from = q->redirect ?: "";
        return request_fail(q,
                            code == 404   ? -ENOENT
                            : code == 403 ? -EACCES
                                          : -EIO,
                            "%s: HTTP %ld%s%.*s%s%s", q->what, code, q->redirect ? " from '" : "",
                            (int) MIN(strcspn(from, "?#"), (size_t) 200), from, q->redirect ? "'" : "", sum);
}
