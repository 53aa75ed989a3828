/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding the files, reporting bad ones, and writing units without ever leaving half of one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "quote.h"
#include "source.h"
#include "translate.h"

#define SOURCE_MAX (1024U * 1024U)

typedef struct Source {
        char *path;
        char *file; /* base name with suffix */
        char *base; /* without suffix */
        bool network;
} Source;

static void sources_free(Source *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(s[i].path);
                free(s[i].file);
                free(s[i].base);
        }
        free(s);
}

/* systemd runs the system generators before journald is up and with stderr on the console or nowhere; the
 * kernel log reaches the journal later. The user manager's stderr is the journal already. */
static bool use_kmsg = false;

static void report(const char *path, const Problem *p, const char *unit) {
        char line[32] = "";
        if (p->line > 0)
                (void) snprintf(line, sizeof line, ":%u", p->line);
        if (use_kmsg) {
                _cleanup_close_ int fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
                if (fd >= 0 && dprintf(fd, "<3>%s: %s%s: %s, not generating %s\n", log_program(), path, line,
                                       p->message, unit) > 0)
                        return;
        }
        log_error("%s%s: %s, not generating %s", path, line, p->message, unit);
}

static int read_source(const char *path, Ini **ret, Problem *problem) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        const char *why = NULL;
        unsigned line = 0;

        int r = read_full_file(path, SOURCE_MAX, &text, &size);
        if (r == -EFBIG)
                return problem_set(problem, 0, "File is larger than %u bytes", SOURCE_MAX);
        if (r < 0)
                return problem_set(problem, 0, "Cannot read the file: %s", strerror(-r));
        if (strlen(text) != size)
                return problem_set(problem, 0, "File contains a NUL byte");
        if (!utf8_is_valid(text))
                return problem_set(problem, 0, "File is not valid UTF-8");
        r = ini_parse(text, ret, &line, &why);
        if (r == -EBADMSG)
                return problem_set(problem, line, "%s", why);
        return r;
}

static int source_add(Source **v, size_t *n, const char *dir, const char *name) {
        bool network = endswith(name, ".network");
        size_t suffix = network ? strlen(".network") : strlen(".container");
        for (size_t i = 0; i < *n; i++)
                if (streq((*v)[i].file, name))
                        return 0; /* an earlier directory has it */
        Source *nv = reallocarray(*v, *n + 1, sizeof(Source));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        Source *s = &nv[(*n)++];
        *s = (Source){.path = path_join(dir, name),
                      .file = strdup(name),
                      .base = strndup(name, strlen(name) - suffix),
                      .network = network};
        return s->path && s->file && s->base ? 0 : -ENOMEM;
}

static int source_cmp(const void *a, const void *b) {
        return strcmp(((const Source *) a)->file, ((const Source *) b)->file);
}

static int list_sources(char **dirs, Source **ret, size_t *ret_n) {
        Source *v = NULL;
        size_t n = 0;
        int r = 0;

        for (char **d = dirs; d && *d && r >= 0; d++) {
                _cleanup_closedir_ DIR *dir = opendir(*d);
                if (!dir) {
                        if (errno != ENOENT)
                                log_warning_errno(errno, "Cannot read '%s', ignoring: %m", *d);
                        continue;
                }
                struct dirent *de;
                while (r >= 0 && (de = readdir(dir))) {
                        struct stat st;
                        if (de->d_name[0] == '.' ||
                            !(endswith(de->d_name, ".container") || endswith(de->d_name, ".network")))
                                continue;
                        if (fstatat(dirfd(dir), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                                continue;
                        r = source_add(&v, &n, *d, de->d_name);
                }
        }
        if (r < 0) {
                sources_free(v, n);
                return r;
        }
        if (n > 0)
                qsort(v, n, sizeof(Source), source_cmp);
        *ret = v;
        *ret_n = n;
        return 0;
}

static int link_unit(const char *dest, const char *dir, const char *link, const char *target) {
        _cleanup_free_ char *d = dir ? path_join(dest, dir) : strdup(dest);
        _cleanup_free_ char *l = d ? path_join(d, link) : NULL;
        if (!l)
                return -ENOMEM;
        int r = mkdir_p(d, 0755);
        if (r < 0)
                return r;
        if (symlink(target, l) < 0) {
                char buf[PATH_MAX];
                ssize_t k = readlink(l, buf, sizeof buf - 1);
                if (errno == EEXIST && k > 0 && (size_t) k == strlen(target) &&
                    strneq(buf, target, (size_t) k))
                        return 0;
                return -errno;
        }
        return 0;
}

static int write_generated(const Generated *g, const char *dest, bool dry_run) {
        int r;

        if (dry_run) {
                printf("---%s---\n%s", g->unit, g->text);
                for (char **w = g->wanted_by; w && *w; w++)
                        printf("# link %s.wants/%s\n", *w, g->unit);
                for (char **w = g->required_by; w && *w; w++)
                        printf("# link %s.requires/%s\n", *w, g->unit);
                for (char **w = g->aliases; w && *w; w++)
                        printf("# link %s\n", *w);
                return 0;
        }

        _cleanup_free_ char *path = path_join(dest, g->unit), *up = NULL;
        if (!path || asprintf(&up, "../%s", g->unit) < 0)
                return log_oom();
        r = write_file_atomic(path, g->text, strlen(g->text), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", path);

        char *const *lists[] = {g->wanted_by, g->required_by};
        const char *suffix[] = {"wants", "requires"};
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                for (char *const *w = lists[i]; w && *w; w++) {
                        _cleanup_free_ char *dir = NULL;
                        if (asprintf(&dir, "%s.%s", *w, suffix[i]) < 0)
                                return log_oom();
                        r = link_unit(dest, dir, g->unit, up);
                        if (r < 0)
                                return log_error_errno(r, "Failed to link '%s/%s/%s': %m", dest, dir,
                                                       g->unit);
                }
        for (char **a = g->aliases; a && *a; a++) {
                r = link_unit(dest, NULL, *a, g->unit);
                if (r < 0)
                        return log_error_errno(r, "Failed to link '%s/%s': %m", dest, *a);
        }
        return 0;
}

static int self_bindir(char **ret) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
                return log_error_errno(n < 0 ? errno : EIO,
                                       "Cannot find the berth programs (/proc/self/exe): %m");
        self[n] = 0;
        *ret = strdup(dirname(self));
        return *ret ? 0 : log_oom();
}

static void network_refs_free(NetworkRef *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].file);
                free(v[i].name);
                free(v[i].unit);
        }
        free(v);
}

/* The .network files first: containers refer to them by file name and need their network names. In generate
 * mode they are written too (dest/dry_run); otherwise only resolved. */
static int do_networks(const GenContext *base_ctx, Source *src, size_t n, NetworkRef **ret, size_t *ret_n,
                       const char *dest, bool write, bool dry_run, bool *failed) {
        NetworkRef *refs = calloc(n ? n : 1, sizeof(NetworkRef));
        size_t k = 0;
        if (!refs)
                return log_oom();

        for (size_t i = 0; i < n; i++) {
                if (!src[i].network)
                        continue;
                _cleanup_(ini_freep) Ini *ini = NULL;
                _cleanup_(generated_freep) Generated *g = NULL;
                _cleanup_free_ char *name = NULL, *unit = NULL;
                GenContext ctx = *base_ctx;
                Problem problem = {};
                ctx.source = src[i].path;

                if (asprintf(&unit, "%s-network.service", src[i].base) < 0) {
                        network_refs_free(refs, k);
                        return log_oom();
                }
                int r = read_source(src[i].path, &ini, &problem);
                if (r >= 0)
                        r = network_generate(&ctx, src[i].base, ini, &g, &name, &problem);
                if (r == -EBADMSG) {
                        if (write)
                                report(src[i].path, &problem, unit);
                        *failed = true;
                } else if (r < 0) {
                        network_refs_free(refs, k);
                        return r == -ENOMEM ? log_oom() : r;
                } else if (write && write_generated(g, dest, dry_run) < 0)
                        *failed = true;

                refs[k] = (NetworkRef){.file = strdup(src[i].file),
                                       .name = name ? TAKE_PTR(name) : strdup(src[i].base),
                                       .unit = TAKE_PTR(unit),
                                       .ok = r >= 0};
                if (!refs[k].file || !refs[k++].name) {
                        network_refs_free(refs, k);
                        return log_oom();
                }
        }
        *ret = refs;
        *ret_n = k;
        return 0;
}

int generate_all(char **dirs, const char *dest, bool user, bool dry_run) {
        _cleanup_free_ char *bindir = NULL;
        Source *src = NULL;
        NetworkRef *nets = NULL;
        size_t n = 0, n_nets = 0;
        bool failed = false;
        int r;

        use_kmsg = !user && !dry_run && getenv("SYSTEMD_SCOPE") && !getenv("JOURNAL_STREAM");

        r = self_bindir(&bindir);
        if (r < 0)
                return r;
        r = list_sources(dirs, &src, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to list the .container files: %m");

        GenContext ctx = {.bindir = bindir, .user = user};
        r = do_networks(&ctx, src, n, &nets, &n_nets, dest, true, dry_run, &failed);
        if (r < 0) {
                sources_free(src, n);
                return r;
        }
        ctx.networks = nets;
        ctx.n_networks = n_nets;

        for (size_t i = 0; i < n; i++) {
                if (src[i].network)
                        continue;
                _cleanup_(ini_freep) Ini *ini = NULL;
                _cleanup_(generated_freep) Generated *g = NULL;
                _cleanup_free_ char *unit = NULL;
                Problem problem = {};
                ctx.source = src[i].path;

                if (asprintf(&unit, "%s.service", src[i].base) < 0) {
                        r = log_oom();
                        break;
                }
                if (strchr(src[i].base, '@') || strchr(src[i].base, '\\'))
                        r = problem_set(&problem, 0,
                                        "Template or escaped names are not supported here; use "
                                        "berth@NAME.service for instances");
                else
                        r = read_source(src[i].path, &ini, &problem);
                if (r >= 0)
                        r = container_generate(&ctx, src[i].base, ini, &g, &problem);
                if (r == -EBADMSG) {
                        report(src[i].path, &problem, unit);
                        failed = true;
                        continue;
                }
                if (r < 0) {
                        r = r == -ENOMEM ? log_oom() : log_error_errno(r, "Failed on '%s': %m", src[i].path);
                        break;
                }
                if (write_generated(g, dest, dry_run) < 0)
                        failed = true;
                r = 0;
        }
        network_refs_free(nets, n_nets);
        sources_free(src, n);
        if (r < 0)
                return r;
        return failed ? 1 : 0;
}

int source_exec(const char *path, ExecMode mode) {
        _cleanup_free_ char *bindir = NULL, *copy = strdup(path), *copy2 = strdup(path), *base = NULL,
                            *prog = NULL;
        _cleanup_(ini_freep) Ini *ini = NULL;
        _cleanup_(container_spec_freep) ContainerSpec *spec = NULL;
        Source *src = NULL;
        NetworkRef *nets = NULL;
        size_t n = 0, n_nets = 0;
        Problem problem = {};
        bool failed = false;
        int r;

        if (!copy || !copy2)
                return log_oom();
        const char *file = basename(copy);
        if (!endswith(file, ".container"))
                return log_error_errno(-EINVAL, "'%s' is not a .container file", path);
        base = strndup(file, strlen(file) - strlen(".container"));
        if (!base)
                return log_oom();
        r = self_bindir(&bindir);
        if (r < 0)
                return r;

        /* Network=X.network means the network X.network in the same directory declares. */
        char *dirs[] = {dirname(copy2), NULL};
        r = list_sources(dirs, &src, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to list '%s': %m", dirs[0]);
        GenContext ctx = {.bindir = bindir, .source = path};
        r = do_networks(&ctx, src, n, &nets, &n_nets, NULL, false, false, &failed);
        sources_free(src, n);
        if (r < 0)
                return r;
        ctx.networks = nets;
        ctx.n_networks = n_nets;

        r = read_source(path, &ini, &problem);
        if (r >= 0)
                r = container_spec(&ctx, base, ini, &spec, &problem);
        network_refs_free(nets, n_nets);
        if (r == -EBADMSG) {
                if (problem.line > 0)
                        return log_error_errno(r, "%s:%u: %s", path, problem.line, problem.message);
                return log_error_errno(r, "%s: %s", path, problem.message);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to read '%s': %m", path);

        if ((spec->root && setenv("BERTH_ROOT", spec->root, 1) < 0) ||
            (spec->runroot && setenv("BERTH_RUNROOT", spec->runroot, 1) < 0))
                return log_oom();

        prog = path_join(bindir, "berth-run");
        if (!prog)
                return log_oom();
        _cleanup_strv_free_ char **argv = NULL;
        char *rm[] = {(char *) "rm", (char *) "--force", (char *) "--ignore", spec->name, NULL};
        char *stop[] = {(char *) "stop", spec->name, NULL};
        r = strv_extend(&argv, "berth-run");
        for (char **a = mode == EXEC_CLEANUP ? rm : mode == EXEC_STOP ? stop : spec->argv; r >= 0 && *a; a++)
                r = strv_extend(&argv, *a);
        if (r < 0)
                return log_oom();
        execv(prog, argv);
        return log_error_errno(errno, "Failed to execute '%s': %m", prog);
}
