/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The subset of containers-registries.conf(5) berth reads: [[registry]] with prefix, location, insecure,
 * blocked, and its [[registry.mirror]] tables with location and insecure. Other tables and keys are ignored;
 * lines that are not TOML are errors. */
#include <ctype.h>
#include <stdio.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "registries.h"

typedef struct Mirror {
        char *location;
        bool insecure;
} Mirror;

typedef struct Registry {
        char *prefix, *location;
        bool insecure, blocked;
        Mirror mirrors[8];
        size_t n_mirrors;
} Registry;

void endpoints_free(Endpoint *e, size_t n) {
        for (size_t i = 0; e && i < n; i++) {
                free(e[i].domain);
                free(e[i].repo);
        }
        free(e);
}

static void registries_free(Registry *r, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(r[i].prefix);
                free(r[i].location);
                for (size_t k = 0; k < r[i].n_mirrors; k++)
                        free(r[i].mirrors[k].location);
        }
        free(r);
}

static char *strip(char *s) {
        while (isspace((unsigned char) *s))
                s++;
        char *e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

/* value: "string" (no escapes needed for host names) or true/false */
static int parse_value(const char *v, char **ret_str, int *ret_bool) {
        *ret_str = NULL;
        *ret_bool = -1;
        if (*v == '"') {
                const char *end = strchr(v + 1, '"');
                if (!end)
                        return -EBADMSG;
                *ret_str = strndup(v + 1, (size_t) (end - v - 1));
                return *ret_str ? 0 : -ENOMEM;
        }
        if (strneq(v, "true", 4))
                *ret_bool = 1;
        else if (strneq(v, "false", 5))
                *ret_bool = 0;
        return 0;
}

static int parse_conf(const char *path, Registry **ret, size_t *ret_n) {
        _cleanup_free_ char *buf = NULL;
        Registry *regs = NULL;
        size_t n = 0, lineno = 0;
        bool in_mirror = false, in_registry = false;
        int r;

        r = read_full_file(path, 1024 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                lineno++;
                char *hash = strchr(line, '#');
                if (hash && !memchr(line, '"', (size_t) (hash - line)))
                        *hash = 0;
                line = strip(line);
                if (!*line)
                        continue;
                if (streq(line, "[[registry]]")) {
                        Registry *nr = realloc(regs, (n + 1) * sizeof(Registry));
                        if (!nr) {
                                registries_free(regs, n);
                                return -ENOMEM;
                        }
                        regs = nr;
                        regs[n++] = (Registry){};
                        in_registry = true;
                        in_mirror = false;
                        continue;
                }
                if (streq(line, "[[registry.mirror]]")) {
                        if (!in_registry || regs[n - 1].n_mirrors >= ELEMENTSOF(regs[n - 1].mirrors)) {
                                log_debug("%s:%zu: mirror outside a registry or too many, ignoring", path,
                                          lineno);
                                in_mirror = false;
                                continue;
                        }
                        regs[n - 1].mirrors[regs[n - 1].n_mirrors++] = (Mirror){};
                        in_mirror = true;
                        continue;
                }
                /* Tables and keys this subset ignores are fine, and so are the continuation lines of
                 * multi-line arrays; a line that is none of these is a mistake to report, not skip (a
                 * mirror silently lost). */
                char *eq = strchr(line, '=');
                if ((*line == '[' && !strchr(line, ',') && !endswith(line, line[1] == '[' ? "]]" : "]")) ||
                    (!eq && !strchr("[]{}\"'-+", *line) && !isdigit((unsigned char) *line))) {
                        registries_free(regs, n);
                        return log_error_errno(-EBADMSG, "%s:%zu: cannot parse '%.60s'", path, lineno, line);
                }
                if (*line == '[') {
                        in_registry = in_mirror = false;
                        continue;
                }
                if (!eq || !in_registry)
                        continue;
                *eq = 0;
                char *key = strip(line), *str = NULL;
                int b;
                if (parse_value(strip(eq + 1), &str, &b) < 0) {
                        registries_free(regs, n);
                        return log_error_errno(-EBADMSG, "%s:%zu: unterminated string", path, lineno);
                }
                Registry *g = regs + n - 1;
                Mirror *m = in_mirror ? g->mirrors + g->n_mirrors - 1 : NULL;
                if (streq(key, "location") && str) {
                        char **dst = m ? &m->location : &g->location;
                        free(*dst);
                        *dst = TAKE_PTR(str);
                } else if (streq(key, "prefix") && str && !m) {
                        free(g->prefix);
                        g->prefix = TAKE_PTR(str);
                } else if (streq(key, "insecure") && b >= 0) {
                        if (m)
                                m->insecure = b;
                        else
                                g->insecure = b;
                } else if (streq(key, "blocked") && b >= 0 && !m)
                        g->blocked = b;
                free(str);
        }
        *ret = regs;
        *ret_n = n;
        return 0;
}

/* Does prefix match "domain/repo" at a component boundary? Its length if so, else -1. */
static ssize_t prefix_match(const char *prefix, const char *full) {
        size_t l = strlen(prefix);
        if (!strneq(prefix, full, l) || (full[l] && full[l] != '/' && full[l] != ':'))
                return -1;
        return (ssize_t) l;
}

static int endpoint_from(const char *location, const char *rest, bool insecure, bool mirror, Endpoint *ret) {
        size_t dl = strcspn(location, "/");
        Endpoint e = {.insecure = insecure, .mirror = mirror};
        e.domain = strndup(location, dl);
        if (location[dl] && *rest)
                e.repo = asprintf(&e.repo, "%s/%s", location + dl + 1, rest) < 0 ? NULL : e.repo;
        else
                e.repo = strdup(location[dl] ? location + dl + 1 : rest);
        if (!e.domain || !e.repo || !*e.domain || !*e.repo) {
                free(e.domain);
                free(e.repo);
                return -EINVAL;
        }
        *ret = e;
        return 0;
}

int registries_endpoints(const char *conf, const char *domain, const char *repo, Endpoint **ret,
                         size_t *ret_n) {
        _cleanup_free_ char *full = NULL;
        Registry *regs = NULL, *best = NULL;
        size_t n = 0, best_len = 0;
        int r;

        if (asprintf(&full, "%s/%s", domain, repo) < 0)
                return -ENOMEM;
        if (!conf)
                conf = getenv("CONTAINERS_REGISTRIES_CONF");
        /* Only the default file may be missing: one named by the user is expected to be there. */
        bool named = conf;
        if (!conf)
                conf = "/etc/containers/registries.conf";
        r = parse_conf(conf, &regs, &n);
        if (r == -EBADMSG)
                return r; /* logged with its line number */
        if (r < 0 && (r != -ENOENT || named))
                return log_error_errno(r, "Cannot read registries.conf '%s': %m", conf);
        for (size_t i = 0; i < n; i++) {
                const char *p = regs[i].prefix ?: regs[i].location;
                ssize_t l = p ? prefix_match(p, full) : -1;
                if (l >= 0 && (size_t) l >= best_len) {
                        best = regs + i;
                        best_len = (size_t) l;
                }
        }
        if (best && best->blocked) {
                registries_free(regs, n);
                return -EACCES;
        }
        const char *rest = full + best_len;
        if (*rest == '/')
                rest++;
        Endpoint *e = calloc((best ? best->n_mirrors : 0) + 1, sizeof(Endpoint));
        size_t ne = 0;
        if (!e) {
                registries_free(regs, n);
                return -ENOMEM;
        }
        for (size_t k = 0; best && k < best->n_mirrors; k++) {
                if (!best->mirrors[k].location)
                        continue;
                if (endpoint_from(best->mirrors[k].location, rest, best->mirrors[k].insecure, true,
                                  e + ne) >= 0)
                        ne++;
                else
                        log_debug("Ignoring mirror '%s' of '%s'", best->mirrors[k].location, full);
        }
        /* The registry itself, at its location (which may differ from the prefix it serves). */
        if (best && best->location && best->prefix)
                r = endpoint_from(best->location, rest, best->insecure, false, e + ne);
        else
                r = endpoint_from(domain, repo, best && best->insecure, false, e + ne);
        registries_free(regs, n);
        if (r < 0) {
                endpoints_free(e, ne);
                return r;
        }
        *ret = e;
        *ret_n = ne + 1;
        return 0;
}
