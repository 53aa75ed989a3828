/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* login and logout as podman has them: the credentials are tried on the registry's GET /v2/ through the same
 * client (and so the same Basic and Bearer handling) as a pull, and kept only when it accepts them. */
#include <curl/curl.h>
#include <jansson.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <termios.h>

#include "cli.h"
#include "fileio.h"
#include "log.h"
#include "login.h"
#include "parse.h"
#include "paths.h"
#include "registries.h"

#define AUTH_FILE_MAX (1024U * 1024U)
#define PASSWORD_MAX (64U * 1024U)

/* The file as it is, or {} when there is none. A file we cannot parse is an error, never replaced: it may
 * hold credentials the user still needs. */
static int auth_file_load(const char *path, json_t **ret) {
        _cleanup_free_ char *err = NULL;
        json_t *j = NULL;
        int r;

        r = json_read_file(path, AUTH_FILE_MAX, &j, &err);
        if (r == -ENOENT)
                j = json_object();
        else if (r == -EBADMSG)
                return log_error_errno(r, "Auth file '%s' is not valid JSON (%s); leaving it unchanged",
                                       path, err ?: "parse error");
        else if (r < 0)
                return log_error_errno(r, "Cannot read auth file '%s': %m", path);
        if (!j)
                return log_oom();
        json_t *auths = json_object_get(j, "auths");
        if (!json_is_object(j) || (auths && !json_is_object(auths))) {
                json_decref(j);
                return log_error_errno(
                        -EBADMSG,
                        "Auth file '%s' is not a containers-auth.json file ('auths' must be an "
                        "object); leaving it unchanged",
                        path);
        }
        *ret = j;
        return 0;
}

static int auth_file_save(const char *path, json_t *j) {
        _cleanup_free_ char *copy = strdup(path);
        int r;

        if (!copy)
                return log_oom();
        r = mkdir_p(dirname(copy), 0700);
        if (r < 0)
                return log_error_errno(r, "Cannot create the directory of auth file '%s': %m", path);
        char *s = json_dumps(j, JSON_INDENT(2));
        if (!s)
                return log_oom();
        size_t n = strlen(s);
        char *t = realloc(s, n + 2);
        if (!t) {
                explicit_bzero(s, n);
                free(s);
                return log_oom();
        }
        t[n++] = '\n';
        /* A temp file (0600 from its creation) in the same directory, synced, renamed over the old one. */
        r = write_file_atomic(path, t, n, 0600);
        explicit_bzero(t, n);
        free(t);
        if (r < 0)
                return log_error_errno(r, "Cannot write auth file '%s': %m", path);
        return 0;
}

static int auth_entry_set(json_t *j, const char *key, const Creds *c) {
        _cleanup_free_ char *plain = NULL, *b64 = NULL;
        int n = asprintf(&plain, "%s:%s", c->user, c->password);
        if (n < 0)
                return log_oom();
        b64 = malloc(((size_t) n + 2) / 3 * 4 + 1);
        if (!b64) {
                explicit_bzero(plain, (size_t) n);
                return log_oom();
        }
        EVP_EncodeBlock((unsigned char *) b64, (const unsigned char *) plain, n);
        explicit_bzero(plain, (size_t) n);
        json_t *auths = json_object_get(j, "auths");
        if (!auths && json_object_set_new(j, "auths", auths = json_object()) < 0)
                auths = NULL;
        /* The whole entry is replaced, as podman does: an old identitytoken must not outlive the login. */
        int r = auths ? json_object_set_new(auths, key, json_pack("{s:s}", "auth", b64)) : -1;
        explicit_bzero(b64, strlen(b64));
        return r < 0 ? log_oom() : 0;
}

static struct termios saved_tty;

static void tty_restore_and_die(int sig) {
        (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
        (void) signal(sig, SIG_DFL);
        (void) raise(sig);
}

/* One line from the terminal on stdin, echoed or not; -ENOTTY when stdin is no terminal, -ENODATA on EOF. */
static int prompt(const char *label, bool echo, char **ret) {
        struct sigaction sa = {.sa_handler = tty_restore_and_die}, old_int, old_term;
        struct termios t;
        char *line = NULL;
        size_t cap = 0;

        if (!isatty(STDIN_FILENO))
                return -ENOTTY;
        fputs(label, stdout);
        fflush(stdout);
        if (!echo) {
                if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
                        return -errno;
                t = saved_tty;
                t.c_lflag &= ~(tcflag_t) ECHO;
                /* ^C at the prompt must not leave the terminal without echo. */
                (void) sigaction(SIGINT, &sa, &old_int);
                (void) sigaction(SIGTERM, &sa, &old_term);
                if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0) {
                        int e = -errno;
                        (void) sigaction(SIGINT, &old_int, NULL);
                        (void) sigaction(SIGTERM, &old_term, NULL);
                        return e;
                }
        }
        errno = 0;
        ssize_t n = getline(&line, &cap, stdin);
        int e = errno;
        if (!echo) {
                (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
                (void) sigaction(SIGINT, &old_int, NULL);
                (void) sigaction(SIGTERM, &old_term, NULL);
                fputc('\n', stdout);
                fflush(stdout);
        }
        if (n < 0) {
                free(line);
                return e ? -e : -ENODATA;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = 0;
        *ret = line;
        return 0;
}

static int read_password_stdin(char **ret) {
        char *buf = NULL;
        size_t len = 0;
        int r = read_full_fd(STDIN_FILENO, PASSWORD_MAX, &buf, &len);
        if (r < 0)
                return log_error_errno(r, "Cannot read the password from standard input: %m");
        /* podman strips one trailing newline, so that echo and a here-string work. */
        if (len > 0 && buf[len - 1] == '\n')
                buf[--len] = 0;
        if (memchr(buf, 0, len)) {
                explicit_bzero(buf, len);
                free(buf);
                return log_error_errno(-EINVAL, "The password on standard input contains a NUL byte");
        }
        *ret = buf;
        return 0;
}

static int login_creds(const LoginOptions *o, Creds *ret) {
        _cleanup_(creds_done) Creds c = {};
        const char *from;
        int r;

        if (o->password)
                log_warning(
                        "WARNING! Using --password via the CLI is insecure. Please use --password-stdin.");
        if (o->username)
                c.user = strdup(o->username);
        else {
                r = prompt("Username: ", true, &c.user);
                if (r == -ENOTTY)
                        return log_error_errno(
                                r, "Cannot ask for a user name: standard input is not a terminal "
                                   "(use --username)");
                if (r < 0)
                        return log_error_errno(r, "Cannot read a user name: %s",
                                               r == -ENODATA ? "end of input" : strerror(-r));
        }
        if (o->password) {
                c.password = strdup(o->password);
                from = "--password";
        } else if (o->password_stdin) {
                r = read_password_stdin(&c.password);
                if (r < 0)
                        return r;
                from = "--password-stdin";
        } else {
                r = prompt("Password: ", false, &c.password);
                if (r == -ENOTTY)
                        return log_error_errno(r, "Cannot ask for the password: standard input is not a "
                                                  "terminal (use --password-stdin)");
                if (r < 0)
                        return log_error_errno(r, "Cannot read the password: %s",
                                               r == -ENODATA ? "end of input" : strerror(-r));
                from = "the prompt";
        }
        if (!c.user || !c.password)
                return log_oom();
        if (isempty(c.user) || strpbrk(c.user, ":\r\n"))
                return log_error_errno(
                        -EINVAL, "Invalid user name '%s': it must not be empty or contain ':'", c.user);
        if (isempty(c.password))
                return log_error_errno(-EINVAL, "The password is empty");
        if (asprintf(&c.source, "user '%s' and the password from %s", c.user, from) < 0)
                return log_oom();
        *ret = c;
        c = (Creds){};
        return 0;
}

/* GET /v2/ with these credentials: 0 when the registry accepts them, else the one error line is logged. */
static int login_verify(const PullOptions *po, const char *domain, const char *repo, const Creds *cr) {
        _cleanup_(client_freep) Client *c = NULL;
        _cleanup_free_ char *what = NULL, *body = NULL;
        Endpoint *eps = NULL;
        size_t n_eps = 0, len;
        int r;

        /* registries.conf decides "insecure" and "blocked" for the registry, as for podman login; mirrors
         * play no part. A placeholder repository matches only entries for the whole registry. */
        r = registries_endpoints(po->registries_conf, domain, isempty(repo) ? "_" : repo, &eps, &n_eps);
        if (r == -EACCES)
                return log_error_errno(r, "Registry '%s' is blocked in registries.conf", domain);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return r;
        bool insecure = eps[n_eps - 1].insecure;
        endpoints_free(eps, n_eps);

        ClientOptions co = po->client;
        co.user = cr->user;
        co.password = cr->password;
        co.cred_source = cr->source;
        co.progress = false;
        if (host_is_loopback(domain))
                co.allow_http = true;
        if (insecure) {
                co.allow_http = true;
                if (!po->tls_verify_set)
                        co.tls_verify = false;
        }
        if (asprintf(&what, "Login to '%s'", domain) < 0)
                return log_oom();
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return log_error_errno(-EIO, "Failed to initialise libcurl");
        r = client_new(domain, "", &co, &c);
        if (r >= 0)
                r = client_get_memory(c, "/v2/", "application/json", 64 * 1024, what, &body, &len, NULL);
        c = client_free(c);
        curl_global_cleanup();
        return r;
}

static int key_parse(const char *arg, char **ret_key, char **ret_domain, char **ret_repo) {
        const char *why = NULL;
        /* "https://user:secret@host" must not end up in an error line. */
        if (strchr(arg, '@'))
                return cli_usage_error(
                        "Invalid registry: a name with '@' is not accepted (credentials in a URL, "
                        "or a digest)");
        int r = registry_key_parse(arg, ret_key, ret_domain, ret_repo, &why);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return cli_usage_error("Invalid registry '%s': %s", arg, why);
        return 0;
}

int login_run(char **args, const PullOptions *po, const LoginOptions *o) {
        _cleanup_free_ char *key = NULL, *domain = NULL, *repo = NULL, *path = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_(creds_done) Creds cr = {};
        size_t n = strv_length(args);
        int r;

        if (n != 1)
                return cli_usage_error(n ? "Too many arguments: login takes one registry"
                                         : "Missing registry; see 'berth-pull --help'");
        r = key_parse(args[0], &key, &domain, &repo);
        if (r != 0)
                return r;
        if (auth_file_default(po->authfile, &path) < 0)
                return log_oom();
        /* A named file that is not there yet (the one this login is to create) holds no credentials. */
        bool lookup = !(po->authfile || getenv("REGISTRY_AUTH_FILE")) || access(path, F_OK) >= 0;
        if (o->get_login) {
                r = lookup ? creds_find(po->authfile, domain, repo, &cr) : 0;
                if (r < 0)
                        return r;
                if (!cr.user)
                        return log_error_errno(-ENOENT, "Not logged into '%s'", key);
                printf("%s\n", cr.user);
                return 0;
        }
        /* A file we could not update fails the login before anyone types a password. */
        r = auth_file_load(path, &j);
        if (r < 0)
                return r;
        json_decref(TAKE_PTR(j));

        if (lookup && !o->username && !o->password && !o->password_stdin) {
                r = creds_find(po->authfile, domain, repo, &cr);
                if (r < 0)
                        return r;
                if (cr.user) {
                        printf("Authenticating with existing credentials for %s\n", key);
                        fflush(stdout);
                        r = login_verify(po, domain, repo, &cr);
                        if (r >= 0) {
                                printf("Existing credentials are valid. Already logged in to %s\n", key);
                                return 0;
                        }
                        if (r != -EACCES)
                                return r;
                        printf("Existing credentials are invalid, please enter valid username and "
                               "password\n");
                        creds_done(&cr);
                }
        }
        r = login_creds(o, &cr);
        if (r < 0)
                return r;
        r = login_verify(po, domain, repo, &cr);
        if (r < 0)
                return r;
        /* Read again: the file may have changed while the registry was asked. */
        r = auth_file_load(path, &j);
        if (r < 0)
                return r;
        r = auth_entry_set(j, key, &cr);
        if (r < 0)
                return r;
        r = auth_file_save(path, j);
        if (r < 0)
                return r;
        printf("Login Succeeded!\n");
        return 0;
}

int logout_run(char **args, const PullOptions *po, const LoginOptions *o) {
        _cleanup_free_ char *key = NULL, *domain = NULL, *repo = NULL, *path = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL;
        size_t n = strv_length(args);
        int r;

        if (o->all ? n != 0 : n != 1)
                return cli_usage_error(o->all ? "logout --all takes no registry"
                                       : n    ? "Too many arguments: logout takes one registry"
                                              : "Missing registry; see 'berth-pull --help'");
        if (!o->all) {
                r = key_parse(args[0], &key, &domain, &repo);
                if (r != 0)
                        return r;
        }
        if (auth_file_default(po->authfile, &path) < 0)
                return log_oom();
        r = auth_file_load(path, &j);
        if (r < 0)
                return r;
        json_t *auths = json_object_get(j, "auths");
        if (o->all) {
                if (json_object_size(auths) > 0) {
                        (void) json_object_clear(auths);
                        r = auth_file_save(path, j);
                        if (r < 0)
                                return r;
                }
                printf("Removed login credentials for all registries\n");
                return 0;
        }
        /* The entry login writes, and the URL forms older tools wrote for the same registry. */
        bool removed = false;
        for (size_t i = 0; i < 3; i++) {
                _cleanup_free_ char *k = NULL;
                if (asprintf(&k, "%s%s", (const char *[]){"", "https://", "http://"}[i], key) < 0)
                        return log_oom();
                if (json_object_del(auths, k) == 0)
                        removed = true;
        }
        if (!removed)
                return log_error_errno(-ENOENT, "Not logged into '%s' (no entry in '%s')", key, path);
        r = auth_file_save(path, j);
        if (r < 0)
                return r;
        printf("Removed login credentials for %s\n", key);
        return 0;
}
