/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* .container and .network files -> berth-run / berth-net command lines -> unit files. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileio.h"
#include "macro.h"
#include "paths.h"
#include "quote.h"
#include "translate.h"
#include "util.h"

#define CONTAINER_NAME_MAX 64

int problem_set(Problem *p, unsigned line, const char *fmt, ...) {
        va_list ap;
        p->line = line;
        va_start(ap, fmt);
        (void) vsnprintf(p->message, sizeof p->message, fmt, ap);
        va_end(ap);
        return -EBADMSG;
}

Generated *generated_free(Generated *g) {
        if (!g)
                return NULL;
        free(g->unit);
        free(g->text);
        strv_free(g->wanted_by);
        strv_free(g->required_by);
        strv_free(g->aliases);
        return mfree(g);
}

ContainerSpec *container_spec_free(ContainerSpec *s) {
        if (!s)
                return NULL;
        free(s->name);
        strv_free(s->argv);
        free(s->root);
        free(s->runroot);
        strv_free(s->networks);
        return mfree(s);
}

typedef enum KeyKind {
        KEY_ONCE,    /* one value: --flag=VALUE */
        KEY_EACH,    /* every line: --flag=VALUE */
        KEY_WORDS,   /* every line split into words: --flag=WORD each */
        KEY_BOOL,    /* --flag when true */
        KEY_SPECIAL, /* handled in code, at most once */
        KEY_SPECIAL_EACH,
} KeyKind;

typedef enum KeyCheck {
        CHECK_NONE,
        CHECK_SIZE,
        CHECK_CPUS,
        CHECK_INT,
        CHECK_UINT,
        CHECK_DURATION,
        CHECK_INTERVAL, /* a duration of at least 100 ms, as berth-run wants for checks */
        CHECK_POSITIVE,
        CHECK_ABSOLUTE,
        CHECK_ASSIGNMENT,
        CHECK_PULL,
        CHECK_SIGNAL,
} KeyCheck;

typedef struct Key {
        const char *key;
        const char *flag;
        KeyKind kind;
        KeyCheck check;
} Key;

/* Flag names are berth-run's, which are podman's. */
static const Key container_keys[] = {
        {"Image", NULL, KEY_SPECIAL},
        {"Exec", NULL, KEY_SPECIAL},
        {"ContainerName", NULL, KEY_SPECIAL},
        {"Notify", NULL, KEY_SPECIAL},
        {"Root", NULL, KEY_SPECIAL, CHECK_ABSOLUTE},
        {"RunRoot", NULL, KEY_SPECIAL, CHECK_ABSOLUTE},
        {"Network", "--network", KEY_SPECIAL_EACH},
        {"RunArgs", NULL, KEY_SPECIAL_EACH},
        {"Entrypoint", "--entrypoint", KEY_ONCE},
        {"Environment", "--env", KEY_WORDS, CHECK_ASSIGNMENT},
        {"EnvironmentFile", "--env-file", KEY_EACH},
        {"Volume", "--volume", KEY_EACH},
        {"Tmpfs", "--tmpfs", KEY_EACH},
        {"IP", "--ip", KEY_ONCE},
        {"IP6", "--ip6", KEY_ONCE},
        {"NetworkAlias", "--network-alias", KEY_WORDS},
        {"DNS", "--dns", KEY_WORDS},
        {"DNSSearch", "--dns-search", KEY_WORDS},
        {"DNSOption", "--dns-option", KEY_WORDS},
        {"AddHost", "--add-host", KEY_WORDS},
        {"PublishPort", "--publish", KEY_EACH},
        {"Label", "--label", KEY_WORDS, CHECK_ASSIGNMENT},
        {"Memory", "--memory", KEY_ONCE, CHECK_SIZE},
        {"CPUs", "--cpus", KEY_ONCE, CHECK_CPUS},
        {"PidsLimit", "--pids-limit", KEY_ONCE, CHECK_INT},
        {"User", "--user", KEY_ONCE},
        {"WorkingDir", "--workdir", KEY_ONCE, CHECK_ABSOLUTE},
        {"ReadOnly", "--read-only", KEY_BOOL},
        {"HostName", "--hostname", KEY_ONCE},
        {"AddCapability", "--cap-add", KEY_WORDS},
        {"DropCapability", "--cap-drop", KEY_WORDS},
        {"SecurityOpt", "--security-opt", KEY_EACH},
        {"HealthCmd", "--health-cmd", KEY_ONCE},
        {"HealthInterval", "--health-interval", KEY_ONCE, CHECK_INTERVAL},
        {"HealthRetries", "--health-retries", KEY_ONCE, CHECK_POSITIVE},
        {"HealthStartPeriod", "--health-start-period", KEY_ONCE, CHECK_DURATION},
        {"HealthTimeout", "--health-timeout", KEY_ONCE, CHECK_INTERVAL},
        {"Pull", "--pull", KEY_ONCE, CHECK_PULL},
        {"Init", "--init", KEY_BOOL},
        {"StopSignal", "--stop-signal", KEY_ONCE, CHECK_SIGNAL},
        {"StopTimeout", "--stop-timeout", KEY_ONCE, CHECK_UINT},
        {"Ulimit", "--ulimit", KEY_EACH},
        {"Mount", "--mount", KEY_EACH},
        {"AddDevice", "--device", KEY_EACH},
        {"Sysctl", "--sysctl", KEY_WORDS, CHECK_ASSIGNMENT},
        {"ShmSize", "--shm-size", KEY_ONCE, CHECK_SIZE},
        {"GroupAdd", "--group-add", KEY_WORDS},
        {"Annotation", "--annotation", KEY_WORDS, CHECK_ASSIGNMENT},
        {"Timezone", "--tz", KEY_ONCE},
        {"ExposeHostPort", "--expose", KEY_EACH},
        {},
};

static const Key network_keys[] = {
        {"NetworkName", NULL, KEY_SPECIAL},
        {"Root", NULL, KEY_SPECIAL, CHECK_ABSOLUTE},
        {"RunRoot", NULL, KEY_SPECIAL, CHECK_ABSOLUTE},
        {"NetworkArgs", NULL, KEY_SPECIAL_EACH},
        {"Driver", "--driver", KEY_ONCE},
        {"Subnet", "--subnet", KEY_EACH},
        {"Gateway", "--gateway", KEY_EACH},
        {"IPRange", "--ip-range", KEY_EACH},
        {"IPv6", "--ipv6", KEY_BOOL},
        {"Internal", "--internal", KEY_BOOL},
        {"DisableDNS", "--disable-dns", KEY_BOOL},
        {"Label", "--label", KEY_WORDS, CHECK_ASSIGNMENT},
        {"Options", "--opt", KEY_WORDS, CHECK_ASSIGNMENT},
        {},
};

static const Key *key_find(const Key *table, const char *key) {
        for (const Key *k = table; k->key; k++)
                if (streq(k->key, key))
                        return k;
        return NULL;
}

static bool assignment_is_valid(const char *s) {
        const char *eq = strchr(s, '=');
        return eq && eq != s;
}

static int check_value(const Key *k, const IniEntry *e, Problem *problem) {
        const char *v = e->value;
        uint64_t u;
        usec_t t;
        int i;

        switch (k->check) {
        case CHECK_SIZE:
                if (parse_size(v, &u) < 0 || u == 0)
                        return problem_set(problem, e->line, "Invalid size '%s' for %s=", v, k->key);
                break;
        case CHECK_CPUS: {
                char *end;
                errno = 0;
                double d = strtod(v, &end);
                if (errno || end == v || *end || !(d > 0))
                        return problem_set(problem, e->line, "Invalid number of CPUs '%s' for %s=", v,
                                           k->key);
                break;
        }
        case CHECK_INT:
                if (safe_atoi(v, &i) < 0)
                        return problem_set(problem, e->line, "Invalid number '%s' for %s=", v, k->key);
                break;
        case CHECK_UINT:
                if (safe_atou64(v, &u) < 0)
                        return problem_set(problem, e->line, "Invalid number '%s' for %s=", v, k->key);
                break;
        case CHECK_POSITIVE:
                if (safe_atou64(v, &u) < 0 || u == 0 || u > INT32_MAX)
                        return problem_set(problem, e->line,
                                           "Invalid number '%s' for %s=, expected 1 or more", v, k->key);
                break;
        case CHECK_DURATION:
        case CHECK_INTERVAL:
                /* berth-run's checks (what it would refuse at every start is refused here, once) */
                if (parse_duration(v, &t) < 0 || (k->check == CHECK_INTERVAL && t < 100 * USEC_PER_MSEC))
                        return problem_set(problem, e->line, "Invalid duration '%s' for %s=%s", v, k->key,
                                           k->check == CHECK_INTERVAL ? " (at least 100ms)" : "");
                break;
        case CHECK_ABSOLUTE:
                if (v[0] != '/')
                        return problem_set(problem, e->line, "%s= needs an absolute path, not '%s'", k->key,
                                           v);
                break;
        case CHECK_SIGNAL:
                if (parse_signal(v) < 0)
                        return problem_set(problem, e->line,
                                           "Invalid StopSignal= '%s': expected a signal name or number", v);
                break;
        case CHECK_PULL:
                if (!streq(v, "always") && !streq(v, "missing") && !streq(v, "never") && !streq(v, "newer"))
                        return problem_set(problem, e->line,
                                           "Invalid Pull= '%s': expected always, missing, never or newer",
                                           v);
                break;
        default:
                break;
        }
        return 0;
}

static int push_flag(char ***argv, const char *flag, const char *value) {
        char *s = NULL;
        if (asprintf(&s, "%s=%s", flag, value) < 0)
                return -ENOMEM;
        return strv_push(argv, s);
}

/* Adds the option for one entry of a table-driven key. */
static int add_option(char ***argv, const Key *k, const IniEntry *e, Problem *problem) {
        int r;

        if (k->kind == KEY_BOOL) {
                r = parse_boolean(e->value);
                if (r < 0)
                        return problem_set(problem, e->line, "Invalid boolean '%s' for %s=", e->value,
                                           k->key);
                return r ? strv_extend(argv, k->flag) : 0;
        }
        if (k->kind == KEY_WORDS) {
                _cleanup_strv_free_ char **words = NULL;
                const char *why = NULL;
                r = split_words(e->value, &words, &why);
                if (r == -EBADMSG)
                        return problem_set(problem, e->line, "%s in %s=", why, k->key);
                if (r < 0)
                        return r;
                for (char **w = words; *w; w++) {
                        if (k->check == CHECK_ASSIGNMENT && !assignment_is_valid(*w))
                                return problem_set(problem, e->line, "Expected KEY=VALUE in %s=, got '%s'",
                                                   k->key, *w);
                        r = push_flag(argv, k->flag, *w);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (isempty(e->value))
                return problem_set(problem, e->line, "Empty value for %s=", k->key);
        r = check_value(k, e, problem);
        if (r < 0)
                return r;
        return push_flag(argv, k->flag, e->value);
}

/* Rejects keys not in the table and duplicates of once-only keys; sections other than the ones allowed. */
static int check_keys(const Ini *ini, const char *section, const Key *table, Problem *problem) {
        for (size_t i = 0; i < ini->n_entries; i++) {
                const IniEntry *e = &ini->entries[i];
                if (!streq(e->section, section))
                        continue;
                const Key *k = key_find(table, e->key);
                if (!k)
                        return problem_set(problem, e->line, "Unknown key '%s' in [%s]", e->key, section);
                if (k->kind != KEY_ONCE && k->kind != KEY_BOOL && k->kind != KEY_SPECIAL)
                        continue;
                for (size_t j = 0; j < i; j++)
                        if (streq(ini->entries[j].section, section) && streq(ini->entries[j].key, e->key))
                                return problem_set(problem, e->line, "%s= given twice (first on line %u)",
                                                   e->key, ini->entries[j].line);
        }
        return 0;
}

static const IniEntry *ini_get(const Ini *ini, const char *section, const char *key) {
        for (size_t i = 0; i < ini->n_entries; i++)
                if (streq(ini->entries[i].section, section) && streq(ini->entries[i].key, key))
                        return &ini->entries[i];
        return NULL;
}

static int check_sections(const Ini *ini, const char *main_section, Problem *problem) {
        static const char *const passed[] = {"Unit", "Service", "Install"};
        for (size_t i = 0; i < ini->n_entries; i++) {
                const IniEntry *e = &ini->entries[i];
                bool ok = streq(e->section, main_section) || startswith(e->section, "X-");
                for (size_t j = 0; !ok && j < ELEMENTSOF(passed); j++)
                        ok = streq(e->section, passed[j]);
                if (!ok)
                        return problem_set(problem, e->line, "Unknown section [%s]", e->section);
                if (streq(e->section, "Service") && (streq(e->key, "ExecStart") || streq(e->key, "Type")))
                        return problem_set(problem, e->line,
                                           "%s= in [Service] is generated and cannot be set", e->key);
        }
        for (size_t i = 0; i < ini->n_entries; i++)
                if (streq(ini->entries[i].section, main_section))
                        return 0;
        return problem_set(problem, 0, "No [%s] section", main_section);
}

static int special_root(const Ini *ini, const char *section, const char *key, char **ret, Problem *problem) {
        static const Key k = {"Root", NULL, KEY_SPECIAL, CHECK_ABSOLUTE};
        const IniEntry *e = ini_get(ini, section, key);
        if (!e)
                return 0;
        Key kk = k;
        kk.key = key;
        int r = check_value(&kk, e, problem);
        if (r < 0)
                return r;
        *ret = strdup(e->value);
        return *ret ? 0 : -ENOMEM;
}

static int split_into(char ***argv, const IniEntry *e, Problem *problem) {
        _cleanup_strv_free_ char **words = NULL;
        const char *why = NULL;
        int r = split_words(e->value, &words, &why);
        if (r == -EBADMSG)
                return problem_set(problem, e->line, "%s in %s=", why, e->key);
        if (r < 0)
                return r;
        for (char **w = words; *w; w++) {
                r = strv_extend(argv, *w);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const NetworkRef *network_find(const GenContext *ctx, const char *file) {
        for (size_t i = 0; i < ctx->n_networks; i++)
                if (streq(ctx->networks[i].file, file))
                        return &ctx->networks[i];
        return NULL;
}

int container_spec(const GenContext *ctx, const char *base, const Ini *ini, ContainerSpec **ret,
                   Problem *problem) {
        _cleanup_(container_spec_freep) ContainerSpec *s = calloc(1, sizeof(ContainerSpec));
        _cleanup_strv_free_ char **opts = NULL, **extra = NULL, **cmd = NULL;
        const IniEntry *image = NULL, *name = NULL;
        const char *notify = "conmon";
        int r;

        if (!s)
                return -ENOMEM;
        r = check_sections(ini, "Container", problem);
        if (r < 0)
                return r;
        r = check_keys(ini, "Container", container_keys, problem);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ini->n_entries; i++) {
                const IniEntry *e = &ini->entries[i];
                if (!streq(e->section, "Container"))
                        continue;
                const Key *k = key_find(container_keys, e->key);

                if (k->kind != KEY_SPECIAL && k->kind != KEY_SPECIAL_EACH) {
                        r = add_option(&opts, k, e, problem);
                } else if (streq(e->key, "Image")) {
                        image = e;
                        r = 0;
                } else if (streq(e->key, "ContainerName")) {
                        name = e;
                        r = 0;
                } else if (streq(e->key, "Exec")) {
                        r = split_into(&cmd, e, problem);
                } else if (streq(e->key, "RunArgs")) {
                        r = split_into(&extra, e, problem);
                } else if (streq(e->key, "Notify")) {
                        if (streq(e->value, "healthy"))
                                notify = "healthy";
                        else {
                                r = parse_boolean(e->value);
                                if (r < 0)
                                        return problem_set(
                                                problem, e->line,
                                                "Invalid Notify= '%s': expected a boolean or 'healthy'",
                                                e->value);
                                notify = r ? "container" : "conmon";
                        }
                        r = 0;
                } else if (streq(e->key, "Network")) {
                        const char *net = e->value;
                        if (isempty(net))
                                return problem_set(problem, e->line, "Empty value for Network=");
                        if (endswith(net, ".network")) {
                                const NetworkRef *n = network_find(ctx, net);
                                if (!n)
                                        return problem_set(problem, e->line,
                                                           "Network=%s names no .network file of berth",
                                                           net);
                                if (!n->ok)
                                        return problem_set(problem, e->line, "Network file '%s' is invalid",
                                                           net);
                                if (!strv_contains(s->networks, n->unit)) {
                                        r = strv_extend(&s->networks, n->unit);
                                        if (r < 0)
                                                return r;
                                }
                                net = n->name;
                        }
                        r = push_flag(&opts, "--network", net);
                } else /* Root, RunRoot */
                        r = 0;
                if (r < 0)
                        return r;
        }

        r = special_root(ini, "Container", "Root", &s->root, problem);
        if (r < 0)
                return r;
        r = special_root(ini, "Container", "RunRoot", &s->runroot, problem);
        if (r < 0)
                return r;

        if (!image || isempty(image->value))
                return problem_set(problem, image ? image->line : 0, "No Image= in [Container]");
        const char *cname = name ? name->value : base;
        if (!name_is_valid(cname, CONTAINER_NAME_MAX))
                return problem_set(problem, name ? name->line : 0,
                                   "'%s' is not a valid container name (letters, digits, '_', '.', '-')%s",
                                   cname, name ? "" : "; set ContainerName=");
        s->name = strdup(cname);
        if (!s->name)
                return -ENOMEM;

        /* run --rm --name=NAME --sdnotify=MODE OPTIONS... RUNARGS... IMAGE CMD... */
        char *fixed[] = {(char *) "run", (char *) "--rm", NULL};
        for (char **f = fixed; *f; f++) {
                r = strv_extend(&s->argv, *f);
                if (r < 0)
                        return r;
        }
        r = push_flag(&s->argv, "--name", s->name);
        if (r >= 0)
                r = push_flag(&s->argv, "--sdnotify", notify);
        for (char **o = opts; r >= 0 && o && *o; o++)
                r = strv_extend(&s->argv, *o);
        for (char **o = extra; r >= 0 && o && *o; o++)
                r = strv_extend(&s->argv, *o);
        /* "--" so that neither the image nor the command is ever read as an option of berth-run. */
        if (r >= 0)
                r = strv_extend(&s->argv, "--");
        if (r >= 0)
                r = strv_extend(&s->argv, image->value);
        for (char **o = cmd; r >= 0 && o && *o; o++)
                r = strv_extend(&s->argv, *o);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

/* [Install]: WantedBy=, RequiredBy=, Alias= become links, as 'systemctl enable' would make them. */
static int install_links(const Ini *ini, Generated *g, Problem *problem) {
        int r;
        for (size_t i = 0; i < ini->n_entries; i++) {
                const IniEntry *e = &ini->entries[i];
                if (!streq(e->section, "Install"))
                        continue;
                char ***list = streq(e->key, "WantedBy")     ? &g->wanted_by
                               : streq(e->key, "RequiredBy") ? &g->required_by
                               : streq(e->key, "Alias")      ? &g->aliases
                                                             : NULL;
                if (!list)
                        return problem_set(
                                problem, e->line,
                                "Unsupported key '%s' in [Install] (WantedBy=, RequiredBy=, Alias=)",
                                e->key);
                _cleanup_strv_free_ char **words = NULL;
                const char *why = NULL;
                r = split_words(e->value, &words, &why);
                if (r == -EBADMSG)
                        return problem_set(problem, e->line, "%s in %s=", why, e->key);
                if (r < 0)
                        return r;
                for (char **w = words; *w; w++) {
                        if (!unit_name_is_valid(*w) || strchr(*w, '%'))
                                return problem_set(problem, e->line, "Invalid unit name '%s' in %s=", *w,
                                                   e->key);
                        if (list == &g->aliases && !endswith(*w, ".service"))
                                return problem_set(problem, e->line, "Alias '%s' must end in .service", *w);
                        r = strv_extend(list, *w);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* The user's own [Unit] or [Service] lines, verbatim: they are systemd's syntax already. */
static void pass_through(FILE *f, const Ini *ini, const char *section) {
        for (size_t i = 0; i < ini->n_entries; i++)
                if (streq(ini->entries[i].section, section))
                        fprintf(f, "%s=%s\n", ini->entries[i].key, ini->entries[i].value);
}

static void put_exec(FILE *f, const char *setting, const char *prefix, const char *bindir,
                     const char *program, char *const *argv, bool *oom) {
        _cleanup_free_ char *path = path_join(bindir, program);
        _cleanup_free_ char *p = path ? exec_word_escape(path) : NULL;
        if (!p) {
                *oom = true;
                return;
        }
        fprintf(f, "%s=%s%s", setting, prefix, p);
        for (char *const *a = argv; *a; a++) {
                _cleanup_free_ char *w = exec_word_escape(*a);
                if (!w) {
                        *oom = true;
                        return;
                }
                fprintf(f, " %s", w);
        }
        fputc('\n', f);
}

static void put_env(FILE *f, const char *name, const char *value, bool *oom) {
        _cleanup_free_ char *a = NULL, *w = NULL;
        if (!value)
                return;
        if (asprintf(&a, "%s=%s", name, value) < 0 || !(w = setting_word_escape(a))) {
                *oom = true;
                return;
        }
        fprintf(f, "Environment=%s\n", w);
}

static void put_header(FILE *f, const GenContext *ctx, const char *description, bool *oom) {
        _cleanup_free_ char *src = text_escape(ctx->source), *d = text_escape(description);
        if (!src || !d) {
                *oom = true;
                return;
        }
        fprintf(f,
                "# Generated by berth-generator from %s; edit that file, not this one.\n"
                "[Unit]\n"
                "Description=%s\n"
                "SourcePath=%s\n",
                src, d, src);
        if (!ctx->user)
                fputs("Wants=network-online.target\nAfter=network-online.target\n", f);
}

static int finish(FILE **f, char **buf, bool oom, Generated *g, const Ini *ini, Problem *problem) {
        int r = fclose(*f) == 0 ? 0 : -ENOMEM;
        *f = NULL;
        if (oom || r < 0)
                return -ENOMEM;
        g->text = TAKE_PTR(*buf);
        return install_links(ini, g, problem);
}

int container_generate(const GenContext *ctx, const char *base, const Ini *ini, Generated **ret,
                       Problem *problem) {
        _cleanup_(container_spec_freep) ContainerSpec *s = NULL;
        _cleanup_(generated_freep) Generated *g = calloc(1, sizeof(Generated));
        _cleanup_free_ char *buf = NULL, *description = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;
        bool oom = false;
        int r;

        if (!g)
                return -ENOMEM;
        r = container_spec(ctx, base, ini, &s, problem);
        if (r < 0)
                return r;
        if (asprintf(&g->unit, "%s.service", base) < 0)
                return -ENOMEM;
        if (!unit_name_is_valid(g->unit))
                return problem_set(problem, 0, "'%s' is not a valid unit name", g->unit);

        /* The image is the word just after "--". */
        const char *image = NULL;
        for (char **a = s->argv; *a; a++)
                if (streq(*a, "--")) {
                        image = a[1];
                        break;
                }
        if (asprintf(&description, "berth container %s (%s)", s->name, image) < 0)
                return -ENOMEM;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        put_header(f, ctx, description, &oom);
        for (char **n = s->networks; n && *n; n++)
                fprintf(f, "Requires=%s\nAfter=%s\n", *n, *n);
        pass_through(f, ini, "Unit");

        /* KillMode=mixed: SIGTERM goes to berth-run alone, which stops the container in order and records
         * its exit; only on the stop timeout does everything get SIGKILL. Exit 143 is that orderly stop. */
        fputs("\n[Service]\n"
              "Type=notify\n"
              "NotifyAccess=all\n"
              "KillMode=mixed\n"
              "Delegate=yes\n"
              "Slice=machine.slice\n"
              "SyslogIdentifier=%N\n"
              "SuccessExitStatus=143\n",
              f);
        put_env(f, "BERTH_ROOT", s->root, &oom);
        put_env(f, "BERTH_RUNROOT", s->runroot, &oom);
        /* The supervisor removes an --rm container itself. These catch one whose supervisor was SIGKILLed or
         * died with the machine, so that the name is free for the next start. */
        char *rm[] = {(char *) "rm", (char *) "--force", (char *) "--ignore", s->name, NULL};
        put_exec(f, "ExecStartPre", "-", ctx->bindir, "berth-run", rm, &oom);
        put_exec(f, "ExecStart", "", ctx->bindir, "berth-run", s->argv, &oom);
        /* systemctl stop: berth-run stop sends the stop signal and SIGKILL after StopTimeout= (10 s), so a
         * container that ignores SIGTERM (a shell or httpd as PID 1) does not hold the stop until systemd's
         * TimeoutStopSec=. It ends with 137, a failure, as a service systemd had to kill does. */
        char *stop[] = {(char *) "stop", s->name, NULL};
        put_exec(f, "ExecStop", "-", ctx->bindir, "berth-run", stop, &oom);
        put_exec(f, "ExecStopPost", "-", ctx->bindir, "berth-run", rm, &oom);
        pass_through(f, ini, "Service");

        r = finish(&f, &buf, oom, g, ini, problem);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(g);
        return 0;
}

int network_generate(const GenContext *ctx, const char *base, const Ini *ini, Generated **ret,
                     char **ret_name, Problem *problem) {
        _cleanup_(generated_freep) Generated *g = calloc(1, sizeof(Generated));
        _cleanup_free_ char *buf = NULL, *description = NULL, *root = NULL, *runroot = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        const IniEntry *name = NULL;
        size_t size = 0;
        bool oom = false;
        int r;

        if (!g)
                return -ENOMEM;
        r = check_sections(ini, "Network", problem);
        if (r < 0)
                return r;
        r = check_keys(ini, "Network", network_keys, problem);
        if (r < 0)
                return r;
        r = special_root(ini, "Network", "Root", &root, problem);
        if (r < 0)
                return r;
        r = special_root(ini, "Network", "RunRoot", &runroot, problem);
        if (r < 0)
                return r;

        /* Idempotent: an existing network of that name is success, so restarts and reboots with persistent
         * state work. */
        r = strv_extend(&argv, "create");
        if (r >= 0)
                r = strv_extend(&argv, "--ignore");
        if (r < 0)
                return r;
        for (size_t i = 0; i < ini->n_entries; i++) {
                const IniEntry *e = &ini->entries[i];
                if (!streq(e->section, "Network"))
                        continue;
                const Key *k = key_find(network_keys, e->key);
                if (k->kind != KEY_SPECIAL && k->kind != KEY_SPECIAL_EACH)
                        r = add_option(&argv, k, e, problem);
                else if (streq(e->key, "NetworkArgs"))
                        r = split_into(&argv, e, problem);
                else if (streq(e->key, "NetworkName"))
                        name = e;
                if (r < 0)
                        return r;
        }
        const char *net = name ? name->value : base;
        if (!name_is_valid(net, CONTAINER_NAME_MAX))
                return problem_set(problem, name ? name->line : 0,
                                   "'%s' is not a valid network name (letters, digits, '_', '.', '-')%s",
                                   net, name ? "" : "; set NetworkName=");
        r = strv_extend(&argv, "--");
        if (r >= 0)
                r = strv_extend(&argv, net);
        if (r < 0)
                return r;

        if (asprintf(&g->unit, "%s-network.service", base) < 0 ||
            asprintf(&description, "berth network %s", net) < 0)
                return -ENOMEM;
        if (!unit_name_is_valid(g->unit))
                return problem_set(problem, 0, "'%s' is not a valid unit name", g->unit);

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        put_header(f, ctx, description, &oom);
        pass_through(f, ini, "Unit");
        fputs("\n[Service]\n"
              "Type=oneshot\n"
              "RemainAfterExit=yes\n"
              "SyslogIdentifier=%N\n",
              f);
        put_env(f, "BERTH_ROOT", root, &oom);
        put_env(f, "BERTH_RUNROOT", runroot, &oom);
        put_exec(f, "ExecStart", "", ctx->bindir, "berth-net", argv, &oom);
        pass_through(f, ini, "Service");

        r = finish(&f, &buf, oom, g, ini, problem);
        if (r < 0)
                return r;
        if (ret_name) {
                *ret_name = strdup(net);
                if (!*ret_name)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(g);
        return 0;
}
