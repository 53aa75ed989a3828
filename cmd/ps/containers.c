/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "container.h"
#include "containers.h"
#include "digest.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "oci.h"
#include "paths.h"
#include "record-scan.h"

void container_done(Container *c) {
        c->id = mfree(c->id);
        json_decref(c->record);
        c->record = NULL;
        reconciled_done(&c->st);
}

void container_list_done(ContainerList *l) {
        for (size_t i = 0; i < l->n; i++)
                container_done(&l->items[i]);
        l->items = mfree(l->items);
        l->n = 0;
}

/* A record that cannot be read still has a name: find it among the $ROOT/names symlinks. */
char *container_name_of_id(const char *id) {
        _cleanup_free_ char *dir = berth_path("names");
        if (!dir)
                return NULL;
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return NULL;
        struct dirent *de;
        char target[PATH_MAX];
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
                if (n == 64 && strneq(target, id, 64))
                        return strdup(de->d_name);
        }
        return NULL;
}

/* One reading buffer per loader thread, reused for every record it reads. */
typedef struct RecordBuffer {
        char *data;
        size_t size;
        size_t n_unsure; /* records the scanner left to jansson */
} RecordBuffer;

static void record_buffer_done(RecordBuffer *b) {
        b->data = mfree(b->data);
        b->size = 0;
}

/* Read through a dirfd of $ROOT/containers: two path components per record instead of the whole root path,
 * which is most of the cost of a listing on a slow filesystem. Records are regular files that berth-run
 * replaces by rename(), so a read that leaves the buffer short has reached the end: openat, one read and
 * close are the whole cost of a record below the buffer size. The limit is container_load()'s. */
static int read_record_text(int dfd, const char *id, RecordBuffer *b, size_t *ret_len) {
        char path[sizeof("/container.json") + 64];
        size_t len = 0;

        snprintf(path, sizeof path, "%s/container.json", id);
        _cleanup_close_ int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                if (len == b->size) {
                        if (b->size > CONTAINER_RECORD_MAX)
                                return -EFBIG;
                        size_t n = b->size ? b->size * 2 : 64 * 1024;
                        char *d = realloc(b->data, n);
                        if (!d)
                                return -ENOMEM;
                        b->data = d;
                        b->size = n;
                }
                ssize_t k = read(fd, b->data + len, b->size - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                len += (size_t) k;
                if (len > CONTAINER_RECORD_MAX)
                        return -EFBIG;
                if (k == 0 || len < b->size)
                        break;
        }
        *ret_len = len;
        return 0;
}

/* With sparse, the record holds only what the listing reads (record_listing_keep), parsed by the scanner;
 * whatever the scanner is unsure of, every broken record included, is parsed by jansson as for inspect. */
static int read_record(int dfd, const char *id, bool sparse, RecordBuffer *b, json_t **ret,
                       char **ret_error) {
        json_t *j = NULL;
        size_t len = 0;
        int r;

        r = read_record_text(dfd, id, b, &len);
        if (r < 0)
                return r;
        r = sparse ? record_scan(b->data, len, record_listing_keep, &j) : RECORD_SCAN_UNSURE;
        if (r == RECORD_SCAN_UNSURE) {
                b->n_unsure += sparse;
                r = json_parse(b->data, len, &j, ret_error);
        }
        if (r < 0)
                return r;
        if (!json_is_object(j) || !json_is_string(json_object_get(j, "Id"))) {
                json_decref(j);
                *ret_error = strdup("record is not an object with an Id");
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

/* Thread-safe: runs in the loader threads (no logging, no strerror()). */
static int load_container(int dfd, const char *id, const ReconcileContext *ctx, bool sparse, RecordBuffer *b,
                          Container *ret) {
        _cleanup_free_ char *error = NULL, *why = NULL;
        Container c = {};
        int r;

        c.id = strdup(id);
        if (!c.id)
                return -ENOMEM;
        r = read_record(dfd, id, sparse, b, &c.record, &error);
        if (r == -ENOMEM) {
                container_done(&c);
                return r;
        }
        if (r >= 0 && !streq(json_string_value(json_object_get(c.record, "Id")), id)) {
                /* a record copied or renamed by hand must not speak for another container */
                json_decref(c.record);
                c.record = NULL;
                r = -EBADMSG;
                free(error);
                error = strdup("record's Id does not match its directory");
        }
        if (r < 0) {
                if (r == -ENOENT)
                        why = strdup("no container.json (creation interrupted or removal in progress)");
                else if (r == -EBADMSG)
                        (void) asprintf(&why, "corrupt record: %s", error ?: "unparsable");
                else if (r == -EFBIG)
                        why = strdup("corrupt record: larger than 4 MiB");
                else
                        (void) asprintf(&why, "cannot read record: %s", strerrordesc_np(-r) ?: "error");
                if (!why) {
                        container_done(&c);
                        return -ENOMEM;
                }
                c.unreadable = r != -ENOENT;
        }
        r = reconcile(id, c.record, why, ctx, &c.st);
        if (r < 0) {
                container_done(&c);
                return r;
        }
        if (!c.record) {
                /* without a record, the directory's age is the best guess at the creation time */
                struct stat st;
                if (fstatat(dfd, id, &st, 0) == 0)
                        c.st.created = (usec_t) st.st_mtim.tv_sec * USEC_PER_SEC +
                                       (usec_t) st.st_mtim.tv_nsec / 1000;
        }
        *ret = c;
        return 0;
}

static int cmp_newest_first(const void *a, const void *b) {
        const Container *x = a, *y = b;
        if (x->st.created != y->st.created)
                return x->st.created > y->st.created ? -1 : 1;
        return strcmp(x->id, y->id);
}

typedef char ContainerId[65];

/* container_list()'s IDs, read from the directory the records are then opened through, into one block: a
 * strv grown by one entry per ID copies O(n²) bytes, 4 MB for 1000 containers. */
static int list_ids(DIR *d, ContainerId **ret, size_t *ret_n) {
        _cleanup_free_ ContainerId *ids = NULL;
        size_t n = 0, alloc = 0;
        struct dirent *de;

        errno = 0;
        while ((de = readdir(d))) {
                if (!container_id_is_valid(de->d_name))
                        continue;
                if (n == alloc) {
                        alloc = alloc ? alloc * 2 : 256;
                        ContainerId *x = reallocarray(ids, alloc, sizeof(ContainerId));
                        if (!x)
                                return -ENOMEM;
                        ids = x;
                }
                memcpy(ids[n++], de->d_name, sizeof(ContainerId)); /* valid: 64 hex digits and a NUL */
                errno = 0;
        }
        if (errno != 0)
                return -errno;
        *ret = TAKE_PTR(ids);
        *ret_n = n;
        return 0;
}

typedef struct Loader {
        int dfd;
        ContainerId *ids;
        size_t n;
        Container *items;
        int *results;
        size_t next;     /* atomic */
        size_t n_unsure; /* atomic */
        const ReconcileContext *ctx;
} Loader;

static void *loader_thread(void *userdata) {
        _cleanup_(record_buffer_done) RecordBuffer b = {};
        Loader *l = userdata;
        for (;;) {
                size_t i = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
                if (i >= l->n) {
                        __atomic_fetch_add(&l->n_unsure, b.n_unsure, __ATOMIC_RELAXED);
                        return NULL;
                }
                l->results[i] = load_container(l->dfd, l->ids[i], l->ctx, true, &b, &l->items[i]);
        }
}

int containers_load_all(const ReconcileContext *ctx, ContainerList *ret) {
        _cleanup_free_ ContainerId *ids = NULL;
        _cleanup_free_ char *dir = berth_path("containers");
        _cleanup_closedir_ DIR *d = NULL;
        ContainerList l = {};
        size_t n = 0;
        int dfd = -EBADF, r;

        if (!dir)
                return log_oom();
        d = opendir(dir);
        if (!d && errno != ENOENT)
                return log_error_errno(-errno, "Failed to open '%s': %m", dir);
        if (d) {
                r = list_ids(d, &ids, &n);
                if (r < 0)
                        return log_error_errno(r, "Failed to list '%s': %m", dir);
                dfd = dirfd(d);
        }
        _cleanup_free_ int *results = calloc(n ?: 1, sizeof(int));
        l.items = calloc(n ?: 1, sizeof(Container));
        if (!l.items || !results) {
                free(l.items);
                return log_oom();
        }

        /* Reading and parsing dominate; spread them over up to four threads when there are many records. */
        Loader loader = {.dfd = dfd, .ids = ids, .n = n, .items = l.items, .results = results, .ctx = ctx};
        pthread_t threads[3];
        size_t n_threads = 0;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        json_object_seed(0); /* jansson seeds its hash lazily; do it before there are threads */
        /* A loader thread's malloc arena grows a page at a time, by one mprotect() each (600 for 1000
         * records); padding it as the main arena's brk() is padded makes that a handful. */
        if (n >= 128)
                (void) mallopt(M_TOP_PAD, 4 * 1024 * 1024);
        if (n >= 128)
                for (; n_threads < ELEMENTSOF(threads) && (long) n_threads + 1 < cpus; n_threads++)
                        if (pthread_create(&threads[n_threads], NULL, loader_thread, &loader) != 0)
                                break;
        loader_thread(&loader);
        for (size_t t = 0; t < n_threads; t++)
                pthread_join(threads[t], NULL);
        log_debug("Loaded %zu records, %zu of them parsed by jansson where the scanner was unsure", n,
                  loader.n_unsure);

        for (size_t i = 0; i < n; i++)
                if (results[i] >= 0)
                        l.items[l.n++] = l.items[i];
        if (l.n < n) {
                container_list_done(&l);
                return log_oom();
        }
        qsort(l.items, l.n, sizeof(Container), cmp_newest_first);
        *ret = l;
        return 0;
}

int container_load_one(const char *name_or_id, const ReconcileContext *ctx, Container *ret) {
        _cleanup_free_ char *id = NULL, *dir = berth_path("containers");
        if (!dir)
                return -ENOMEM;
        int r = container_resolve(name_or_id, &id);
        if (r < 0)
                return r;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        _cleanup_(record_buffer_done) RecordBuffer b = {};
        return load_container(dfd, id, ctx, false, &b, ret);
}

const char *container_name(const Container *c) {
        const char *n = json_string_value(json_object_get(c->record, "Name"));
        return n ?: "";
}

json_t *container_command(const Container *c) {
        json_t *cfg = json_object_get(c->record, "Config"), *v, *e;
        json_t *a = json_array();
        size_t i;
        if (!a)
                return NULL;
        const char *keys[] = {"Entrypoint", "Cmd"};
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                v = json_object_get(cfg, keys[k]);
                if (json_is_string(v))
                        json_array_append(a, v);
                else
                        json_array_foreach (v, i, e) {
                                if (json_is_string(e))
                                        json_array_append(a, e);
                        }
        }
        return a;
}

const char *container_cgroup(const Container *c) {
        return json_string_value(json_object_get(json_object_get(c->record, "State"), "CgroupPath"))
                       ?: json_string_value(json_object_get(c->record, "CgroupPath"));
}

bool container_is_live(const Container *c) {
        return (c->st.status == STATUS_RUNNING || c->st.status == STATUS_PAUSED) && c->st.pid > 0;
}

json_t *container_ports(const Container *c) {
        /* podman-inspect shape: NetworkSettings.Ports = {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} */
        json_t *ports = json_object_get(json_object_get(c->record, "NetworkSettings"), "Ports");
        if (!json_is_object(ports) || json_object_size(ports) == 0)
                ports = json_object_get(json_object_get(c->record, "HostConfig"), "PortBindings");
        if (!json_is_object(ports) || json_object_size(ports) == 0)
                return json_null();
        json_t *a = json_array(), *bindings, *b;
        const char *key;
        size_t i;
        if (!a)
                return NULL;
        json_object_foreach (ports, key, bindings) {
                unsigned cport = 0;
                char proto[16] = "tcp";
                if (sscanf(key, "%u/%15s", &cport, proto) < 1)
                        continue;
                json_array_foreach (bindings, i, b) {
                        const char *hip = json_string_value(json_object_get(b, "HostIp"));
                        const char *hport = json_string_value(json_object_get(b, "HostPort"));
                        json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:i, s:s}", "host_ip", hip ?: "",
                                                           "container_port", (int) cport, "host_port",
                                                           hport ? atoi(hport) : 0, "range", 1, "protocol",
                                                           proto));
                }
        }
        return a;
}

char *container_ports_string(const Container *c) {
        json_auto_t *a = container_ports(c);
        if (json_array_size(a) == 0)
                return strdup("");
        size_t i;
        json_t *p;
        char *s = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&s, &len);
        if (!f)
                return NULL;
        json_array_foreach (a, i, p) {
                const char *hip = json_string_value(json_object_get(p, "host_ip"));
                fprintf(f, "%s%s:%" JSON_INTEGER_FORMAT "->%" JSON_INTEGER_FORMAT "/%s", i ? ", " : "",
                        isempty(hip) ? "0.0.0.0" : hip, json_integer_value(json_object_get(p, "host_port")),
                        json_integer_value(json_object_get(p, "container_port")),
                        json_string_value(json_object_get(p, "protocol")));
        }
        if (fclose(TAKE_PTR(f)) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

static json_t *network_names(const Container *c) {
        json_t *nets = json_object_get(json_object_get(c->record, "NetworkSettings"), "Networks");
        json_t *a = json_array(), *v;
        const char *k;
        if (!a)
                return NULL;
        json_object_foreach (nets, k, v) {
                json_array_append_new(a, json_string(k));
        }
        return a;
}

static json_t *mount_destinations(const Container *c) {
        json_t *a = json_array(), *m;
        size_t i;
        if (!a)
                return NULL;
        json_array_foreach (json_object_get(c->record, "Mounts"), i, m) {
                const char *d = json_string_value(json_object_get(m, "Destination"));
                if (d)
                        json_array_append_new(a, json_string(d));
        }
        return a;
}

static json_int_t unix_seconds(usec_t t) {
        return t ? (json_int_t) (t / USEC_PER_SEC) : 0;
}

const char *container_health(const Container *c) {
        return json_string_value(
                json_object_get(json_object_get(json_object_get(c->record, "State"), "Health"), "Status"));
}

void container_status_string(const Container *c, usec_t now, char *buf, size_t size) {
        const char *health = container_health(c);
        status_string(&c->st, now, buf, size);
        /* podman's "Up 5 minutes (healthy)" */
        if (health && c->st.status == STATUS_RUNNING) {
                size_t l = strlen(buf);
                snprintf(buf + l, size - l, " (%s)", health);
        }
}

json_t *container_ps_object(const Container *c, usec_t now) {
        char status[128], ago[96], d[64];
        const Reconciled *st = &c->st;
        json_t *labels = json_object_get(json_object_get(c->record, "Config"), "Labels");
        const char *image = json_string_value(json_object_get(c->record, "ImageName"));
        const char *image_id = json_string_value(json_object_get(c->record, "Image"));
        _cleanup_free_ char *name = NULL;

        container_status_string(c, now, status, sizeof status);
        human_duration(st->created && now > st->created ? now - st->created : 0, d, sizeof d);
        snprintf(ago, sizeof ago, "%s ago", d);
        if (!c->record)
                name = container_name_of_id(c->id);

        json_t *o = json_pack(
                "{s:s, s:[s], s:s, s:s, s:o, s:I, s:s, s:s, s:s, s:i, s:b, s:I, s:I, s:O, s:o, s:o, "
                "s:o, s:i, s:b}",
                "Id", c->id, "Names", name ?: container_name(c), "Image", image ?: "", "ImageID",
                image_id ? (startswith(image_id, "sha256:") ?: image_id) : "", "Command",
                container_command(c), "Created", unix_seconds(st->created), "CreatedAt", ago, "State",
                container_status_to_string(st->status), "Status", status, "ExitCode", st->exit_code,
                "Exited", st->status == STATUS_EXITED, "ExitedAt",
                unix_seconds(st->status == STATUS_EXITED ? st->finished : 0), "StartedAt",
                unix_seconds(st->started), "Labels", json_is_object(labels) ? labels : json_null(), "Mounts",
                mount_destinations(c), "Networks", network_names(c), "Ports", container_ports(c), "Pid",
                (int) st->pid, "AutoRemove",
                json_is_true(json_object_get(json_object_get(c->record, "HostConfig"), "AutoRemove")));
        if (o && st->reason)
                json_object_set_new(o, "Error", json_string(st->reason));
        /* podman's Restarts; Health as docker's State.Health.Status ("" without a health check) */
        if (o)
                json_object_set_new(
                        o, "Restarts",
                        json_integer(json_integer_value(json_object_get(c->record, "RestartCount"))));
        if (o)
                json_object_set_new(o, "Health", json_string(container_health(c) ?: ""));
        return o;
}

static char *join_strings(json_t *a, const char *sep) {
        size_t n = json_array_size(a), i;
        json_t *e;
        _cleanup_free_ char **words = calloc(n + 1, sizeof(char *));
        if (!words)
                return NULL;
        json_array_foreach (a, i, e) {
                words[i] = (char *) (json_string_value(e) ?: "");
        }
        return strv_join(words, sep);
}

json_t *container_template_object(const Container *c, usec_t now, bool no_trunc) {
        json_t *o = container_ps_object(c, now);
        if (!o)
                return NULL;
        static const struct {
                const char *key, *sep;
        } joined[] = {{"Names", ","}, {"Command", " "}, {"Networks", ","}, {"Mounts", ","}};
        for (size_t i = 0; i < ELEMENTSOF(joined); i++) {
                _cleanup_free_ char *s = join_strings(json_object_get(o, joined[i].key), joined[i].sep);
                if (!s || json_object_set_new(o, joined[i].key, json_string(s)) < 0)
                        return json_decref(o), NULL;
        }
        _cleanup_free_ char *ports = container_ports_string(c);
        char id[65];
        snprintf(id, sizeof id, "%.*s", no_trunc ? 64 : 12, c->id);
        if (!ports || json_object_set_new(o, "Ports", json_string(ports)) < 0 ||
            json_object_set_new(o, "ID", json_string(id)) < 0)
                return json_decref(o), NULL;
        return o;
}

/* --- filters --------------------------------------------------------------------------------------- */

struct ContainerFilter {
        json_t *filters;
        regex_t *names;
        size_t n_names;
        char **ancestor_ids; /* image IDs the ancestor= values resolve to in the store */
};

ContainerFilter *container_filter_free(ContainerFilter *f) {
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n_names; i++)
                regfree(&f->names[i]);
        free(f->names);
        strv_free(f->ancestor_ids);
        json_decref(f->filters);
        free(f);
        return NULL;
}

int container_filter_new(json_t *filters, ContainerFilter **ret) {
        _cleanup_(container_filter_freep) ContainerFilter *f = calloc(1, sizeof(ContainerFilter));
        json_t *v;
        size_t i;
        if (!f)
                return log_oom();
        f->filters = json_incref(filters);

        json_t *names = json_object_get(filters, "name");
        f->names = calloc(json_array_size(names) ?: 1, sizeof(regex_t));
        if (!f->names)
                return log_oom();
        json_array_foreach (names, i, v) {
                if (regcomp(&f->names[i], json_string_value(v), REG_EXTENDED | REG_NOSUB) != 0)
                        return cli_usage_error("Invalid --filter name='%s': not a regular expression",
                                               json_string_value(v));
                f->n_names++;
        }
        json_array_foreach (json_object_get(filters, "status"), i, v)
                if (container_status_from_string(json_string_value(v)) < 0)
                        return cli_usage_error("Invalid --filter status='%s': expected created, running, "
                                               "paused, stopping, exited, dead or unknown",
                                               json_string_value(v));
        json_array_foreach (json_object_get(filters, "ancestor"), i, v) {
                _cleanup_(oci_image_freep) OciImage *img = NULL;
                if (oci_image_find(json_string_value(v), &img) >= 0 &&
                    strv_extend(&f->ancestor_ids, img->id) < 0)
                        return log_oom();
        }
        *ret = TAKE_PTR(f);
        return 0;
}

static bool match_ancestor(const ContainerFilter *f, const Container *c, const char *want) {
        const char *name = json_string_value(json_object_get(c->record, "ImageName"));
        const char *id = json_string_value(json_object_get(c->record, "Image"));
        if (id && strv_contains(f->ancestor_ids, id))
                return true;
        if (id && strlen(want) >= 4 &&
            startswith(startswith(id, "sha256:") ?: id, startswith(want, "sha256:") ?: want))
                return true;
        if (!name)
                return false;
        if (streq(name, want))
                return true;
        /* "busybox" and "busybox:latest" match "127.0.0.1:5000/busybox:latest" */
        size_t repo_len = strcspn(name, "@");
        const char *colon = memrchr(name, ':', repo_len), *slash = memrchr(name, '/', repo_len);
        if (colon && (!slash || colon > slash))
                repo_len = (size_t) (colon - name);
        if (strlen(want) == repo_len && strneq(name, want, repo_len))
                return true;
        const char *base = slash ? slash + 1 : name;
        return streq(base, want) || (strneq(base, want, strlen(want)) && base[strlen(want)] == ':' &&
                                     !strchr(want, ':') && streq(base + strlen(want), ":latest"));
}

static bool match_label(json_t *labels, const char *spec) {
        const char *eq = strchr(spec, '=');
        if (!eq)
                return json_object_get(labels, spec) != NULL;
        _cleanup_free_ char *k = strndup(spec, (size_t) (eq - spec));
        return k && streq_ptr(json_string_value(json_object_get(labels, k)), eq + 1);
}

bool container_filter_match(const ContainerFilter *f, const Container *c) {
        const char *key;
        json_t *vals, *v;
        size_t i;

        if (!f)
                return true;
        json_object_foreach (f->filters, key, vals) {
                bool any = false;
                if (streq(key, "name")) {
                        for (i = 0; i < f->n_names && !any; i++)
                                any = regexec(&f->names[i], container_name(c), 0, NULL, 0) == 0;
                } else
                        json_array_foreach (vals, i, v) {
                                const char *s = json_string_value(v);
                                if (streq(key, "id"))
                                        any = startswith(c->id, s) != NULL;
                                else if (streq(key, "status"))
                                        any = container_status_from_string(s) == c->st.status;
                                else if (streq(key, "label"))
                                        any = match_label(
                                                json_object_get(json_object_get(c->record, "Config"),
                                                                "Labels"),
                                                s);
                                else if (streq(key, "ancestor"))
                                        any = match_ancestor(f, c, s);
                                else if (streq(key, "network"))
                                        any = json_object_get(
                                                      json_object_get(
                                                              json_object_get(c->record, "NetworkSettings"),
                                                              "Networks"),
                                                      s) != NULL;
                                if (any)
                                        break;
                        }
                if (!any)
                        return false;
        }
        return true;
}
