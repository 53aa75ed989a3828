/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <poll.h>
#include <strings.h>
#include <time.h>

#include "auth.h"
#include "http-internal.h"
#include "log.h"
#include "parse.h"

#define ERROR_BODY_MAX (1024U * 1024U)

static CURL *easy_new(Client *c) {
        CURL *e = curl_easy_init();
        if (!e)
                return NULL;
        (void) curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        (void) curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        (void) curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_2TLS);
        (void) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
        (void) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long) c->o.timeout_s);
        client_setopt_tls(c, e);
        if (c->client_cert && c->client_key) {
                (void) curl_easy_setopt(e, CURLOPT_SSLCERT, c->client_cert);
                (void) curl_easy_setopt(e, CURLOPT_SSLKEY, c->client_key);
        }
        (void) curl_easy_setopt(e, CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
        (void) curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024L);
        return e;
}

Client *client_free(Client *c) {
        if (!c)
                return NULL;
        if (c->multi)
                curl_multi_cleanup(c->multi);
        free(c->domain);
        free(c->repo);
        free(c->origin);
        free(c->origin_host);
        free(c->auth_header);
        free(c->user);
        if (c->password) {
                explicit_bzero(c->password, strlen(c->password));
                free(c->password);
        }
        free(c->cred_source);
        free(c->ca_pem);
        free(c->client_cert);
        free(c->client_key);
        free(c);
        return NULL;
}

int client_set_origin(Client *c, bool http) {
        char *o = NULL;
        if (asprintf(&o, "%s://%s", http ? "http" : "https", c->origin_host) < 0)
                return -ENOMEM;
        free(c->origin);
        c->origin = o;
        c->http = http;
        return 0;
}

const char *client_domain(Client *c) {
        return c->domain;
}

void client_setopt_tls(Client *c, CURL *e) {
        (void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->o.tls_verify ? 1L : 0L);
        (void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->o.tls_verify ? 2L : 0L);
        /* A CA blob replaces only libcurl's CA file: the system's CA directory (CAPATH) stays, so the
         * --cert-dir CAs come in addition to the system's, as with docker and podman. */
        if (c->ca_pem) {
                struct curl_blob b = {.data = c->ca_pem, .len = c->ca_pem_len, .flags = CURL_BLOB_NOCOPY};
                (void) curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
        }
}

int client_new(const char *domain, const char *repo, const ClientOptions *o, Client **ret) {
        _cleanup_(client_freep) Client *c = calloc(1, sizeof(Client));
        int r;

        if (!c)
                return log_oom();
        c->o = *o;
        c->o.user = c->o.password = c->o.cred_source = NULL;
        if (c->o.jobs == 0)
                c->o.jobs = 1;
        if (c->o.timeout_s == 0)
                c->o.timeout_s = 30;
        c->domain = strdup(domain);
        c->repo = strdup(repo);
        /* Docker Hub's API lives on another name than its references use. */
        const char *host = streq(domain, "docker.io") ? "registry-1.docker.io" : domain;
        c->origin_host = strdup(host);
        if (!c->domain || !c->repo || !c->origin_host ||
            client_set_origin(c, o->allow_http && host_is_loopback(host)) < 0)
                return log_oom();
        if (o->user && (!(c->user = strdup(o->user)) || !(c->password = strdup(o->password ?: "")) ||
                        !(c->cred_source = strdup(o->cred_source ?: "--creds"))))
                return log_oom();
        if (o->cert_dir) {
                r = client_load_cert_dir(c);
                if (r < 0)
                        return r;
        }
        c->multi = curl_multi_init();
        if (!c->multi)
                return log_oom();
        (void) curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long) CURLPIPE_MULTIPLEX);
        (void) curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) c->o.jobs);
        *ret = TAKE_PTR(c);
        return 0;
}

static void request_reset_response(Request *q) {
        q->status = 0;
        q->body_started = false;
        q->err_len = 0;
        q->err_total = 0;
        q->content_type[0] = q->challenge[0] = q->retry_after[0] = q->content_range[0] = 0;
}

static void copy_header(char *dst, size_t size, const char *v, size_t n) {
        while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
                n--;
        while (n > 0 && (*v == ' ' || *v == '\t'))
                v++, n--;
        n = MIN(n, size - 1);
        memcpy(dst, v, n);
        dst[n] = 0;
}

static size_t header_cb(char *buf, size_t sz, size_t n, void *userdata) {
        Request *q = userdata;
        size_t len = sz * n;
        const char *colon;

        if (len >= 5 && strneq(buf, "HTTP/", 5)) {
                request_reset_response(q);
                return len;
        }
        colon = memchr(buf, ':', len);
        if (!colon)
                return len;
        size_t kl = (size_t) (colon - buf), vl = len - kl - 1;
#define HDR(name, field)                                               \
        if (kl == strlen(name) && strncasecmp(buf, name, kl) == 0) {   \
                copy_header(q->field, sizeof q->field, colon + 1, vl); \
                return len;                                            \
        }
        HDR("Content-Type", content_type);
        HDR("Retry-After", retry_after);
        HDR("Content-Range", content_range);
        /* Keep the first challenge we can answer; registries may offer several. */
        if (kl == strlen("WWW-Authenticate") && strncasecmp(buf, "WWW-Authenticate", kl) == 0 &&
            (!q->challenge[0] || strncasecmp(q->challenge, "Bearer", 6) != 0))
                copy_header(q->challenge, sizeof q->challenge, colon + 1, vl);
#undef HDR
        return len;
}

/* First body bytes of a 2xx answer to a Range request: splice only onto the exact offset (P11). */
static int blob_body_start(Request *q) {
        BlobJob *b = q->blob;
        uint64_t start;

        if (q->status == 206) {
                if (b->offset == 0 || content_range_parse(q->content_range, &start, NULL) < 0 ||
                    start != b->offset)
                        return request_fail(q, -EBADMSG,
                                            "%s: the registry answered the range request with "
                                            "Content-Range '%s', expected bytes %" PRIu64 "-",
                                            b->what, q->content_range, b->offset),
                               -1;
                return 0;
        }
        if (b->offset > 0) {
                /* Range ignored: start over, never splice. */
                Sha256 *h = sha256_new();
                if (!h || ftruncate(b->fd, 0) < 0) {
                        sha256_free(h);
                        return request_fail(q, -errno ?: -ENOMEM, "%s: cannot restart download: %m",
                                            b->what),
                               -1;
                }
                sha256_free(b->hash);
                b->hash = h;
                b->offset = 0;
        }
        return 0;
}

static size_t write_cb(char *data, size_t sz, size_t n, void *userdata) {
        Request *q = userdata;
        size_t len = sz * n;
        long code = 0;

        (void) curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &code);
        q->status = code;
        if (code < 200 || code >= 300) {
                /* Keep the start of an error body for the message; refuse an endless one. */
                size_t keep = MIN(len, sizeof q->err_body - 1 - q->err_len);
                memcpy(q->err_body + q->err_len, data, keep);
                q->err_len += keep;
                q->err_body[q->err_len] = 0;
                q->err_total += len;
                if (q->err_total > ERROR_BODY_MAX) {
                        q->err_capped = true;
                        return 0;
                }
                return len;
        }
        if (!q->body_started) {
                q->body_started = true;
                if (q->blob && blob_body_start(q) < 0)
                        return 0;
        }
        if (q->blob) {
                BlobJob *b = q->blob;
                if (b->offset + len > b->size) {
                        request_fail(q, -EBADMSG,
                                     "%s: size mismatch: the registry sent more than the %" PRIu64
                                     " bytes its descriptor says",
                                     b->what, b->size);
                        return 0;
                }
                if (sha256_update(b->hash, data, len) < 0) {
                        request_fail(q, -EIO, "%s: hashing failed", b->what);
                        return 0;
                }
                for (size_t done = 0; done < len;) {
                        ssize_t k = pwrite(b->fd, data + done, len - done, (off_t) (b->offset + done));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0) {
                                request_fail(q, k < 0 ? -errno : -EIO, "%s: cannot write the download: %m",
                                             b->what);
                                return 0;
                        }
                        done += (size_t) k;
                }
                b->offset += len;
                b->fetched += len;
                return len;
        }
        if (q->len + len > q->max) {
                request_fail(q, -EFBIG, "%s is larger than %zu bytes, refusing it", q->what, q->max);
                return 0;
        }
        if (q->len + len + 1 > q->alloc) {
                size_t a = MAX(q->alloc * 2, q->len + len + 1);
                char *nb = realloc(q->buf, a);
                if (!nb) {
                        request_fail(q, -ENOMEM, "Out of memory");
                        return 0;
                }
                q->buf = nb;
                q->alloc = a;
        }
        memcpy(q->buf + q->len, data, len);
        q->len += len;
        q->buf[q->len] = 0;
        return len;
}

/* A stalled server: fail when not a byte arrived for timeout_s seconds. libcurl's LOW_SPEED averages over
 * several seconds, which lets a stall after a fast start run on for long. */
static int xferinfo_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
        Request *q = userdata;
        usec_t now = now_usec(CLOCK_MONOTONIC);
        if (dlnow != q->last_dlnow) {
                q->last_dlnow = dlnow;
                q->last_rx = now;
                return 0;
        }
        if (now - q->last_rx > q->timeout) {
                q->stalled = true;
                return 1;
        }
        return 0;
}

static int request_start(Client *c, Request *q) {
        _cleanup_free_ char *url = NULL, *origin = NULL;
        char range[64];

        if (!q->easy && !(q->easy = easy_new(c)))
                return -ENOMEM;
        request_reset_response(q);
        q->err_capped = false;
        if (q->blob)
                q->blob_offset_at_start = q->blob->offset;
        else
                q->len = 0;
        if (q->redirect)
                url = strdup(q->redirect);
        else if (asprintf(&url, "%s%s", c->origin, q->path) < 0)
                url = NULL;
        if (!url || url_origin(url, &origin) < 0)
                return -ENOMEM;
        curl_slist_free_all(q->headers);
        q->headers = NULL;
        if (q->accept) {
                _cleanup_free_ char *h = NULL;
                if (asprintf(&h, "Accept: %s", q->accept) < 0)
                        return -ENOMEM;
                q->headers = curl_slist_append(q->headers, h);
        }
        /* Credentials go only to the registry's own origin (scheme, host and port): never to a redirect's
         * target (CVE-2018-1000007, CVE-2022-27776, CVE-2020-15157). */
        q->auth_gen = c->auth_gen;
        if (c->auth_header && streq(origin, c->origin))
                q->headers = curl_slist_append(q->headers, c->auth_header);
        if (q->blob && q->blob->offset > 0) {
                snprintf(range, sizeof range, "Range: bytes=%" PRIu64 "-", q->blob->offset);
                q->headers = curl_slist_append(q->headers, range);
        }
        (void) curl_easy_setopt(q->easy, CURLOPT_URL, url);
        (void) curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->headers);
        (void) curl_easy_setopt(q->easy, CURLOPT_HEADERFUNCTION, header_cb);
        (void) curl_easy_setopt(q->easy, CURLOPT_HEADERDATA, q);
        (void) curl_easy_setopt(q->easy, CURLOPT_WRITEFUNCTION, write_cb);
        (void) curl_easy_setopt(q->easy, CURLOPT_WRITEDATA, q);
        (void) curl_easy_setopt(q->easy, CURLOPT_ERRORBUFFER, q->curl_err);
        (void) curl_easy_setopt(q->easy, CURLOPT_PRIVATE, q);
        (void) curl_easy_setopt(q->easy, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
        (void) curl_easy_setopt(q->easy, CURLOPT_XFERINFODATA, q);
        (void) curl_easy_setopt(q->easy, CURLOPT_NOPROGRESS, 0L);
        q->timeout = c->o.timeout_s * USEC_PER_SEC;
        q->last_rx = now_usec(CLOCK_MONOTONIC);
        if (q->started == 0)
                q->started = q->last_rx;
        q->last_dlnow = 0;
        q->stalled = false;
        q->curl_err[0] = 0;
        q->attempts++;
        if (curl_multi_add_handle(c->multi, q->easy) != CURLM_OK)
                return -ENOMEM;
        q->active = true;
        /* Not the query: a pre-signed blob storage URL carries its signature there. */
        log_debug("GET %.*s%s%s", (int) strcspn(url, "?#"), url, url[strcspn(url, "?#")] ? "?..." : "",
                  q->blob && q->blob->offset ? " (resuming)" : "");
        return 0;
}

static void request_done(Request *q) {
        if (q->easy)
                curl_easy_cleanup(q->easy);
        curl_slist_free_all(q->headers);
        free(q->redirect);
        free(q->buf);
        free(q->errmsg);
        *q = (Request){};
}

static void progress_line(Client *c, Request *qs, size_t n, bool final) {
        static usec_t last = 0;
        usec_t now = now_usec(CLOCK_MONOTONIC);
        size_t lines = 0;

        if (!c->o.progress || (!final && now - last < 200 * USEC_PER_MSEC))
                return;
        last = now;
        for (size_t i = 0; i < n; i++) {
                char a[32], b[32], rate[32] = "", eta[32] = "";
                BlobJob *j = qs[i].blob;
                if (!j)
                        continue;
                lines++;
                format_size(j->offset, a, sizeof a);
                format_size(j->size, b, sizeof b);
                /* Since this blob's first request: blobs waiting for a --jobs slot do not look slow. */
                double secs = qs[i].started ? (double) (now - qs[i].started) / USEC_PER_SEC : 0;
                if (!qs[i].done && secs > 0.1 && j->fetched > 0) {
                        double bps = (double) j->fetched / secs;
                        format_size((uint64_t) bps, rate, sizeof rate);
                        strcat(rate, "/s");
                        /* Rounded up: "0s" while bytes are still to come reads as stuck. */
                        snprintf(eta, sizeof eta, " ETA %llus",
                                 (unsigned long long) ((double) (j->size - j->offset) / bps + 0.999));
                }
                fprintf(stderr, "\r\033[KCopying blob %.12s %s / %s %s%s%s\n", j->digest + 7, a, b, rate,
                        eta, qs[i].done ? " done" : "");
        }
        if (!final && lines > 0)
                fprintf(stderr, "\033[%zuA", lines);
}

/* Run the requests to completion, at most o.jobs at once. Returns the first failure (logged). */
static int client_run(Client *c, Request *qs, size_t n) {
        size_t remaining = n, active = 0;
        int r = 0;

        for (size_t i = 0; i < n; i++)
                qs[i].ready = true;
        while (remaining > 0 && r >= 0) {
                usec_t now = now_usec(CLOCK_MONOTONIC), wait = 1000 * USEC_PER_MSEC;
                int running = 0, left;
                CURLMsg *m;

                for (size_t i = 0; i < n && active < c->o.jobs; i++) {
                        Request *q = qs + i;
                        if (!q->ready)
                                continue;
                        if (q->not_before > now) {
                                wait = MIN(wait, q->not_before - now);
                                continue;
                        }
                        q->ready = false;
                        r = request_start(c, q);
                        if (r < 0)
                                return log_error_errno(r, "Failed to start a request: %m");
                        active++;
                }

                if (curl_multi_perform(c->multi, &running) != CURLM_OK)
                        return log_error_errno(-EIO, "libcurl failed");
                while ((m = curl_multi_info_read(c->multi, &left))) {
                        Request *q = NULL;
                        if (m->msg != CURLMSG_DONE)
                                continue;
                        (void) curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &q);
                        CURLcode k = m->data.result;
                        (void) curl_multi_remove_handle(c->multi, q->easy);
                        q->active = false;
                        active--;
                        r = handle_done(c, q, k);
                        if (r < 0)
                                break;
                        if (q->error < 0) {
                                if (q->blob)
                                        q->blob->error = q->error;
                                r = log_error_errno(q->error, "%s", q->errmsg ?: "Request failed");
                                break;
                        }
                        if (!q->ready && q->blob && q->blob->complete) {
                                r = q->blob->complete(q->blob);
                                if (r < 0)
                                        break;
                        }
                        if (!q->ready) {
                                q->done = true;
                                remaining--;
                                progress_line(c, qs, n, false);
                        }
                }
                if (r < 0 || remaining == 0)
                        break;
                progress_line(c, qs, n, false);
                /* Redirects, auth and scheme switches restart at once; retries wait for their time. */
                now = now_usec(CLOCK_MONOTONIC);
                bool start_now = false;
                for (size_t i = 0; i < n; i++)
                        if (qs[i].ready) {
                                if (qs[i].not_before <= now)
                                        start_now = active < c->o.jobs;
                                else
                                        wait = MIN(wait, qs[i].not_before - now);
                        }
                if (start_now)
                        continue;
                if (active > 0 && running > 0)
                        (void) curl_multi_poll(c->multi, NULL, 0, (int) (wait / USEC_PER_MSEC) + 1, NULL);
                else if (wait > 0 && active == 0)
                        (void) poll(NULL, 0, (int) ((wait + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
        }
        for (size_t i = 0; i < n; i++)
                if (qs[i].active) {
                        (void) curl_multi_remove_handle(c->multi, qs[i].easy);
                        qs[i].active = false;
                }
        if (r >= 0)
                progress_line(c, qs, n, true);
        return r;
}

int client_get_memory(Client *c, const char *path, const char *accept, size_t max, const char *what,
                      char **ret_body, size_t *ret_len, char **ret_content_type) {
        Request q = {.path = path, .accept = accept, .max = max, .what = what};
        int r;

        r = client_run(c, &q, 1);
        if (r >= 0) {
                if (!q.buf && !(q.buf = strdup("")))
                        r = log_oom();
                else if (ret_content_type && !(*ret_content_type = strdup(q.content_type)))
                        r = log_oom();
                else {
                        *ret_body = TAKE_PTR(q.buf);
                        *ret_len = q.len;
                }
        }
        request_done(&q);
        return r;
}

int client_get_blobs(Client *c, BlobJob *jobs, size_t n) {
        _cleanup_free_ Request *qs = calloc(n ?: 1, sizeof(Request));
        _cleanup_free_ char **paths = calloc(n ?: 1, sizeof(char *));
        int r;

        if (!qs || !paths)
                return log_oom();
        for (size_t i = 0; i < n; i++) {
                if (asprintf(&paths[i], "/v2/%s/blobs/%s", c->repo, jobs[i].digest) < 0)
                        return log_oom();
                qs[i] = (Request){.path = paths[i], .blob = jobs + i, .what = jobs[i].what};
                /* Started as if redirected there: the origin check keeps our credentials at home. */
                if (jobs[i].url && !(qs[i].redirect = strdup(jobs[i].url)))
                        return log_oom();
        }
        r = client_run(c, qs, n);
        for (size_t i = 0; i < n; i++) {
                request_done(qs + i);
                free(paths[i]);
        }
        return r;
}
