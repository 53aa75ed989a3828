/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <curl/curl.h>
#include <dirent.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <strings.h>
#include <sys/wait.h>

#include "auth.h"
#include "fileio.h"
#include "http-internal.h"
#include "log.h"
#include "parse.h"
#include "paths.h"
#include "spawn.h"

#define TOKEN_MAX (1024U * 1024U)

void creds_done(Creds *c) {
        if (c->password) {
                explicit_bzero(c->password, strlen(c->password));
                free(c->password);
        }
        free(c->user);
        free(c->source);
        *c = (Creds){};
}

static int creds_split(const char *s, size_t n, const char *source, Creds *ret) {
        const char *colon = memchr(s, ':', n);
        Creds c = {};
        if (!colon || colon == s)
                return -EINVAL;
        c.user = strndup(s, (size_t) (colon - s));
        c.password = strndup(colon + 1, n - (size_t) (colon - s) - 1);
        c.source = strdup(source);
        if (!c.user || !c.password || !c.source) {
                creds_done(&c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int creds_parse_arg(const char *arg, Creds *ret) {
        return creds_split(arg, strlen(arg), "--creds", ret);
}

/* docker-credential-NAME get: the server on stdin, {"Username": …, "Secret": …} on stdout. */
static int creds_from_helper(const char *name, const char *server, const char *source_file, Creds *ret) {
        _cleanup_free_ char *prog = NULL, *out = NULL, *source = NULL;
        int in[2] = {-EBADF, -EBADF}, outp[2] = {-EBADF, -EBADF};
        pid_t pid;
        int r, status;

        if (!name_is_valid(name, 64))
                return log_error_errno(-EINVAL, "Auth file '%s': invalid credential helper name '%.64s'",
                                       source_file, name);
        if (asprintf(&prog, "docker-credential-%s", name) < 0)
                return log_oom();
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
                safe_close(in[0]);
                safe_close(in[1]);
                return log_error_errno(-errno, "Cannot create a pipe: %m");
        }
        char *argv[] = {prog, (char *) "get", NULL};
        pid = fork();
        if (pid == 0) {
                if (dup2(in[0], STDIN_FILENO) < 0 || dup2(outp[1], STDOUT_FILENO) < 0)
                        _exit(127);
                spawn_reset_signals();
                execvp(prog, argv);
                _exit(127);
        }
        r = pid < 0 ? -errno : 0;
        safe_close(in[0]);
        safe_close(outp[1]);
        if (r < 0) {
                safe_close(in[1]);
                safe_close(outp[0]);
                return log_error_errno(r, "Cannot run credential helper '%s' (from '%s'): %m", prog,
                                       source_file);
        }
        (void) write_all(in[1], server, strlen(server));
        safe_close(in[1]);
        size_t len = 0;
        r = read_full_fd(outp[0], 1024 * 1024, &out, &len);
        safe_close(outp[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return log_error_errno(-ENOENT, "Credential helper '%s' (named in '%s') could not be run",
                                       prog, source_file);
        if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                if (out)
                        explicit_bzero(out, len);
                /* "credentials not found": no credentials, not an error */
                return 0;
        }
        json_t *j = json_loadb(out, len, 0, NULL);
        explicit_bzero(out, len);
        const char *u = json_string_value(json_object_get(j, "Username"));
        const char *pw = json_string_value(json_object_get(j, "Secret"));
        if (!u || !pw || asprintf(&source, "credential helper '%s' (from '%s')", prog, source_file) < 0) {
                json_decref(j);
                return log_error_errno(-EBADMSG, "Credential helper '%s' gave no Username and Secret", prog);
        }
        Creds c = {.user = strdup(u), .password = strdup(pw), .source = TAKE_PTR(source)};
        json_decref(j);
        if (!c.user || !c.password) {
                creds_done(&c);
                return log_oom();
        }
        *ret = c;
        return 1;
}

/* One auth.json / config.json: {"auths": {KEY: {"auth": base64("user:pass")}}}; the most specific key wins.
 */
static int creds_from_file(const char *path, const char *domain, const char *repo, Creds *ret) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_free_ char *err = NULL;
        const char *key, *best = NULL;
        json_t *v, *auths;
        int r, best_score = -1;

        r = json_read_file(path, 1024 * 1024, &j, &err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Cannot read auth file '%s': %s", path, err ?: strerror(-r));
        /* docker's order: a helper for this registry, then the default store, then inline entries. */
        const char *helper = json_string_value(json_object_get(json_object_get(j, "credHelpers"), domain));
        if (!helper && streq(domain, "docker.io"))
                helper = json_string_value(
                        json_object_get(json_object_get(j, "credHelpers"), "https://index.docker.io/v1/"));
        if (!helper)
                helper = json_string_value(json_object_get(j, "credsStore"));
        if (helper) {
                r = creds_from_helper(helper,
                                      streq(domain, "docker.io") ? "https://index.docker.io/v1/" : domain,
                                      path, ret);
                if (r != 0)
                        return r;
        }
        auths = json_object_get(j, "auths");
        json_object_foreach (auths, key, v) {
                int s = auth_key_match(key, domain, repo);
                if (s > best_score && json_is_string(json_object_get(v, "auth"))) {
                        best_score = s;
                        best = key;
                }
        }
        if (!best)
                return 0;
        const char *b64 = json_string_value(json_object_get(json_object_get(auths, best), "auth"));
        size_t bl = strlen(b64);
        if (bl > 64 * 1024)
                return log_error_errno(-EBADMSG, "Auth file '%s': entry '%s' is too long", path, best);
        _cleanup_free_ unsigned char *dec = malloc(bl / 4 * 3 + 4);
        if (!dec)
                return log_oom();
        int dl = EVP_DecodeBlock(dec, (const unsigned char *) b64, (int) bl);
        if (dl < 0 || bl % 4 != 0)
                return log_error_errno(-EBADMSG, "Auth file '%s': entry '%s' is not valid base64", path,
                                       best);
        /* EVP_DecodeBlock counts the padding as data. */
        while (bl > 0 && b64[--bl] == '=' && dl > 0)
                dl--;
        _cleanup_free_ char *source = NULL;
        if (asprintf(&source, "%s (entry '%s')", path, best) < 0)
                return log_oom();
        r = creds_split((const char *) dec, (size_t) dl, source, ret);
        explicit_bzero(dec, (size_t) dl);
        if (r == -EINVAL)
                return log_error_errno(-EBADMSG, "Auth file '%s': entry '%s' is not 'user:password'", path,
                                       best);
        return r < 0 ? log_oom() : 1;
}

int auth_file_default(const char *authfile, char **ret) {
        const char *e;
        char *p = NULL;

        if (authfile || (authfile = getenv("REGISTRY_AUTH_FILE")))
                p = strdup(authfile);
        else if ((e = getenv("XDG_RUNTIME_DIR")) && *e) {
                if (asprintf(&p, "%s/containers/auth.json", e) < 0)
                        p = NULL;
        } else if (asprintf(&p, "/run/containers/%u/auth.json", (unsigned) getuid()) < 0)
                p = NULL;
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int creds_find(const char *authfile, const char *domain, const char *repo, Creds *ret) {
        _cleanup_free_ char *xdg = NULL, *docker = NULL;
        const char *e;
        int r;

        /* An explicit file is the only place looked at, as podman does. */
        if (authfile || (authfile = getenv("REGISTRY_AUTH_FILE"))) {
                if (access(authfile, R_OK) < 0)
                        return log_error_errno(-errno, "Cannot read auth file '%s': %m", authfile);
                r = creds_from_file(authfile, domain, repo, ret);
                return r < 0 ? r : 0;
        }
        if (auth_file_default(NULL, &xdg) < 0)
                return log_oom();
        if ((e = getenv("HOME")) && asprintf(&docker, "%s/.docker/config.json", e) < 0)
                return log_oom();
        const char *files[] = {xdg, docker};
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                if (!files[i])
                        continue;
                r = creds_from_file(files[i], domain, repo, ret);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        return 0;
}

static int basic_header(const char *user, const char *password, char **ret) {
        _cleanup_free_ char *plain = NULL;
        int n = asprintf(&plain, "%s:%s", user, password);
        if (n < 0)
                return -ENOMEM;
        _cleanup_free_ char *b64 = malloc(((size_t) n + 2) / 3 * 4 + 1);
        if (!b64)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *) b64, (const unsigned char *) plain, n);
        explicit_bzero(plain, (size_t) n);
        if (asprintf(ret, "Authorization: Basic %s", b64) < 0)
                return -ENOMEM;
        explicit_bzero(b64, strlen(b64));
        return 0;
}

/* auth.docker.io for registry-1.docker.io: the last two labels of two DNS names agree. */
static bool same_site(const char *a, const char *b) {
        const char *sa = a + strlen(a), *sb = b + strlen(b);
        int dots = 0;
        if (strspn(a, "0123456789.") == strlen(a) || strchr(a, ':') || strchr(b, ':'))
                return false;
        while (sa > a && sb > b && sa[-1] == sb[-1]) {
                sa--, sb--;
                if (*sa == '.' && ++dots == 2)
                        break;
        }
        if (dots == 2)
                return true;
        /* "auth.docker.io" vs "docker.io" style: all of the shorter name matched, after a dot */
        return dots == 1 && ((sa == a && (sb == b || sb[-1] == '.')) || (sb == b && sa[-1] == '.'));
}

/* Credentials go to a token realm only over https, or to the registry's own host when that may use plain
 * http (loopback, insecure); never to another host picked by the registry over http (P8). */
static bool realm_may_get_creds(Client *c, const char *realm) {
        char rh[256], gh[256];
        if (url_host(realm, rh, sizeof rh) < 0 || url_host(c->origin, gh, sizeof gh) < 0)
                return false;
        if (startswith(realm, "https://"))
                return streq(rh, gh) || same_site(rh, gh);
        return startswith(realm, "http://") && c->o.allow_http && streq(rh, gh);
}

static size_t token_write(char *data, size_t sz, size_t n, void *userdata) {
        char **buf = userdata;
        size_t have = *buf ? strlen(*buf) : 0, len = sz * n;
        if (have + len > TOKEN_MAX)
                return 0;
        char *nb = realloc(*buf, have + len + 1);
        if (!nb)
                return 0;
        memcpy(nb + have, data, len);
        nb[have + len] = 0;
        *buf = nb;
        return len;
}

static int fetch_token(Client *c, const Challenge *ch, char **ret_token, char **ret_error) {
        _cleanup_free_ char *url = NULL, *body = NULL, *scope_default = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        bool with_creds = c->user && realm_may_get_creds(c, ch->realm);
        long code = 0;
        CURL *e;

        if (!startswith(ch->realm, "https://") && !(startswith(ch->realm, "http://") && c->o.allow_http))
                return asprintf(ret_error, "refusing token realm '%.200s' (only https is allowed)",
                                ch->realm),
                       -EPROTO;
        if (c->user && !with_creds)
                log_debug("Not sending the credentials from %s to token realm '%.200s' of another host",
                          c->cred_source, ch->realm);
        if (asprintf(&scope_default, "repository:%s:pull", c->repo) < 0)
                return -ENOMEM;
        e = curl_easy_init();
        if (!e)
                return -ENOMEM;
        char *svc = ch->service ? curl_easy_escape(e, ch->service, 0) : NULL;
        char *scp = curl_easy_escape(e, ch->scope ?: scope_default, 0);
        /* A login asks GET /v2/ for no repository: the token then needs no scope, as podman asks it. */
        bool no_scope = !ch->scope && isempty(c->repo);
        int k = asprintf(&url, "%s%s%s%s%s%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?",
                         no_scope ? "" : "scope=", no_scope ? "" : scp ?: "", svc && !no_scope ? "&" : "",
                         svc ? "service=" : "", svc ?: "");
        curl_free(svc);
        curl_free(scp);
        if (k < 0) {
                curl_easy_cleanup(e);
                return -ENOMEM;
        }
        (void) curl_easy_setopt(e, CURLOPT_URL, url);
        (void) curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        (void) curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        (void) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long) c->o.timeout_s);
        (void) curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        (void) curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long) c->o.timeout_s);
        /* The token server gets the same TLS settings as the registry (CVE-2019-10214). */
        client_setopt_tls(c, e);
        (void) curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, token_write);
        (void) curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
        (void) curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
        if (with_creds) {
                (void) curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
                (void) curl_easy_setopt(e, CURLOPT_USERNAME, c->user);
                (void) curl_easy_setopt(e, CURLOPT_PASSWORD, c->password);
        }
        CURLcode rc = curl_easy_perform(e);
        (void) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(e);
        if (rc != CURLE_OK)
                return asprintf(ret_error, "token server '%.200s': %s", ch->realm,
                                rc == CURLE_WRITE_ERROR ? "answer larger than 1 MiB"
                                : errbuf[0]             ? errbuf
                                                        : curl_easy_strerror(rc)),
                       -EIO;
        if (code != 200)
                return asprintf(ret_error, "token server '%.200s': HTTP %ld with %s", ch->realm, code,
                                with_creds ? c->cred_source
                                : c->user  ? "no credentials (those from the auth file are only sent over "
                                             "https or to "
                                             "the registry's own host)"
                                           : "no credentials"),
                       code == 401 || code == 403 ? -EACCES : -EIO;
        json_t *j = body ? json_loads(body, 0, NULL) : NULL;
        const char *t = json_string_value(json_object_get(j, "token"))
                                ?: json_string_value(json_object_get(j, "access_token"));
        /* The token lands in an HTTP header: refuse anything that could break out of it. */
        bool ok = t && *t && strlen(t) < 64 * 1024 && !strpbrk(t, "\r\n");
        *ret_token = ok ? strdup(t) : NULL;
        json_decref(j);
        if (!ok)
                return asprintf(ret_error, "token server '%.200s' sent no usable token", ch->realm),
                       -EBADMSG;
        return *ret_token ? 0 : -ENOMEM;
}

int auth_answer_challenge(Client *c, const char *challenge, char **ret_error) {
        _cleanup_(challenge_done) Challenge ch = {};
        _cleanup_free_ char *hdr = NULL, *token = NULL;
        int r;

        if (challenge_parse(challenge, &ch) < 0)
                return asprintf(ret_error, "malformed WWW-Authenticate header"), -EBADMSG;
        if (strcasecmp(ch.scheme, "Bearer") == 0) {
                if (!ch.realm)
                        return asprintf(ret_error, "Bearer challenge without a realm"), -EBADMSG;
                r = fetch_token(c, &ch, &token, ret_error);
                if (r < 0)
                        return r;
                if (asprintf(&hdr, "Authorization: Bearer %s", token) < 0)
                        return -ENOMEM;
                explicit_bzero(token, strlen(token));
        } else if (strcasecmp(ch.scheme, "Basic") == 0) {
                if (!c->user)
                        return asprintf(ret_error,
                                        "the registry wants a user name and password, and there are none "
                                        "(use --creds, --authfile or 'podman login')"),
                               -EACCES;
                if (!c->http && !c->o.allow_http && !startswith(c->origin, "https://"))
                        return -EPROTO;
                r = basic_header(c->user, c->password, &hdr);
                if (r < 0)
                        return r;
        } else
                return asprintf(ret_error, "unsupported authentication scheme '%.32s'", ch.scheme),
                       -EOPNOTSUPP;
        if (c->auth_header && streq(c->auth_header, hdr) && strcasecmp(ch.scheme, "Basic") == 0)
                return asprintf(ret_error, "HTTP 401: the credentials from %s were refused", c->cred_source),
                       -EACCES;
        if (c->auth_header)
                explicit_bzero(c->auth_header, strlen(c->auth_header));
        free(c->auth_header);
        c->auth_header = TAKE_PTR(hdr);
        c->auth_gen++;
        log_debug("Authenticated to %s with %s (%s)", c->domain, c->auth_header ? ch.scheme : "-",
                  c->user ? c->cred_source : "anonymous");
        return 0;
}

static int cert_dir_add_ca(Client *c, const char *path) {
        _cleanup_free_ char *pem = NULL;
        size_t len;
        int r = read_full_file(path, 1024 * 1024, &pem, &len);
        if (r < 0)
                return log_error_errno(r, "Cannot read CA certificate '%s': %m", path);
        char *n = realloc(c->ca_pem, c->ca_pem_len + len + 2);
        if (!n)
                return log_oom();
        c->ca_pem = n;
        memcpy(c->ca_pem + c->ca_pem_len, pem, len);
        c->ca_pem_len += len;
        c->ca_pem[c->ca_pem_len++] = '\n';
        c->ca_pem[c->ca_pem_len] = 0;
        return 0;
}

/* Docker's convention for --cert-dir: every *.crt is a CA, NAME.cert + NAME.key a client certificate. */
int client_load_cert_dir(Client *c) {
        _cleanup_closedir_ DIR *d = opendir(c->o.cert_dir);
        struct dirent *de;
        int r;

        if (!d)
                return log_error_errno(-errno, "Cannot open --cert-dir '%s': %m", c->o.cert_dir);
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", c->o.cert_dir, de->d_name) < 0)
                        return log_oom();
                if (endswith(de->d_name, ".crt")) {
                        r = cert_dir_add_ca(c, p);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!endswith(de->d_name, ".cert") || c->client_cert)
                        continue;
                /* The key of NAME.cert is NAME.key, nothing else. */
                _cleanup_free_ char *key = NULL;
                if (asprintf(&key, "%.*s.key", (int) (strlen(p) - strlen(".cert")), p) < 0)
                        return log_oom();
                if (access(key, R_OK) < 0)
                        return log_error_errno(-errno, "Client certificate '%s' has no key '%s': %m", p,
                                               key);
                c->client_cert = TAKE_PTR(p);
                c->client_key = TAKE_PTR(key);
        }
        return 0;
}
