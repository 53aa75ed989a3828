/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>

#include "fileio.h"
#include "macro.h"
#include "table.h"

struct Table {
        size_t n_columns;
        char **cells; /* row-major, headers first */
        size_t n_rows;
};

Table *table_new(size_t n_columns, const char *const headers[]) {
        Table *t = calloc(1, sizeof(Table));
        if (!t)
                return NULL;
        t->n_columns = n_columns;
        if (table_add_row(t, headers) < 0)
                return table_free(t);
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
        return NULL;
}

int table_add_row(Table *t, const char *const cells[]) {
        char **n = realloc(t->cells, sizeof(char *) * (t->n_rows + 1) * t->n_columns);
        if (!n)
                return -ENOMEM;
        t->cells = n;
        for (size_t c = 0; c < t->n_columns; c++) {
                char *s = strdup(cells[c] ?: "");
                if (!s) {
                        for (size_t k = 0; k < c; k++)
                                free(t->cells[t->n_rows * t->n_columns + k]);
                        return -ENOMEM;
                }
                t->cells[t->n_rows * t->n_columns + c] = s;
        }
        t->n_rows++;
        return 0;
}

int table_print(Table *t, FILE *f) {
        _cleanup_free_ size_t *w = calloc(t->n_columns, sizeof(size_t));
        if (!w)
                return -ENOMEM;
        for (size_t r = 0; r < t->n_rows; r++)
                for (size_t c = 0; c < t->n_columns; c++)
                        w[c] = MAX(w[c], strlen(t->cells[r * t->n_columns + c]));
        for (size_t r = 0; r < t->n_rows; r++) {
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *s = t->cells[r * t->n_columns + c];
                        if (c + 1 == t->n_columns)
                                fputs(s, f);
                        else
                                fprintf(f, "%-*s   ", (int) w[c], s);
                }
                fputc('\n', f);
        }
        return fflush(f) == 0 ? 0 : -errno;
}

int json_print(json_t *j, FILE *f) {
        if (json_dumpf(j, f, JSON_INDENT(4) | JSON_SORT_KEYS | JSON_ENCODE_ANY) < 0)
                return -EIO;
        fputc('\n', f);
        return 0;
}

static json_t *lookup_path(json_t *obj, const char *path, size_t len) {
        json_t *cur = obj;
        const char *p = path, *end = path + len;
        if (len == 1 && *path == '.')
                return obj;
        while (p < end && cur) {
                if (*p != '.')
                        return NULL;
                p++;
                const char *q = p;
                while (q < end && *q != '.')
                        q++;
                char key[256];
                if ((size_t) (q - p) >= sizeof key)
                        return NULL;
                memcpy(key, p, (size_t) (q - p));
                key[q - p] = 0;
                cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
                p = q;
        }
        return cur;
}

static void print_value(json_t *v, FILE *f) {
        if (!v || json_is_null(v))
                return;
        if (json_is_string(v))
                fputs(json_string_value(v), f);
        else if (json_is_integer(v))
                fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_real(v))
                fprintf(f, "%g", json_real_value(v));
        else if (json_is_true(v))
                fputs("true", f);
        else if (json_is_false(v))
                fputs("false", f);
        else if (json_is_array(v)) {
                size_t i;
                json_t *e;
                fputc('[', f);
                json_array_foreach (v, i, e) {
                        if (i > 0)
                                fputc(' ', f);
                        print_value(e, f);
                }
                fputc(']', f);
        } else if (json_is_object(v)) {
                const char *k;
                json_t *e;
                bool first = true;
                fputs("map[", f);
                json_object_foreach (v, k, e) {
                        fprintf(f, "%s%s:", first ? "" : " ", k);
                        print_value(e, f);
                        first = false;
                }
                fputc(']', f);
        }
}

static int render(const char *tmpl, json_t *obj, FILE *f, bool header) {
        const char *p = tmpl;
        while (*p) {
                if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
                        fputc(p[1] == 't' ? '\t' : '\n', f);
                        p += 2;
                        continue;
                }
                if (!startswith(p, "{{")) {
                        fputc(*p++, f);
                        continue;
                }
                const char *end = strstr(p, "}}");
                if (!end)
                        return -EINVAL;
                const char *a = p + 2, *b = end;
                while (a < b && isspace((unsigned char) *a))
                        a++;
                while (b > a && isspace((unsigned char) b[-1]))
                        b--;
                bool as_json = false;
                if ((size_t) (b - a) > 5 && strneq(a, "json ", 5)) {
                        as_json = true;
                        a += 5;
                        while (a < b && isspace((unsigned char) *a))
                                a++;
                }
                if (a >= b || *a != '.')
                        return -EINVAL;
                if (header) {
                        /* header cell: the last path component, upper-cased as docker does */
                        const char *last = a;
                        for (const char *q = a; q < b; q++)
                                if (*q == '.')
                                        last = q + 1;
                        for (const char *q = last; q < b; q++)
                                fputc(toupper((unsigned char) *q), f);
                } else {
                        json_t *v = lookup_path(obj, a, (size_t) (b - a));
                        if (as_json) {
                                if (v)
                                        json_dumpf(v, f, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
                                else
                                        fputs("null", f);
                        } else
                                print_value(v, f);
                }
                p = end + 2;
        }
        fputc('\n', f);
        return 0;
}

int template_render(const char *tmpl, json_t *obj, FILE *f) {
        const char *t = startswith(tmpl, "table ") ?: tmpl;
        return render(t, obj, f, false);
}

int template_render_all(const char *tmpl, json_t *array, FILE *f) {
        const char *t = startswith(tmpl, "table ");
        size_t i;
        json_t *e;
        int r;
        if (t) {
                r = render(t, NULL, f, true);
                if (r < 0)
                        return r;
        }
        json_array_foreach (array, i, e) {
                r = render(t ?: tmpl, e, f, false);
                if (r < 0)
                        return r;
        }
        return fflush(f) == 0 ? 0 : -errno;
}

int filters_add(json_t **filters, const char *spec, const char *const allowed[]) {
        const char *eq = strchr(spec, '=');
        if (!eq || eq == spec)
                return -EINVAL;
        _cleanup_free_ char *key = strndup(spec, (size_t) (eq - spec));
        if (!key)
                return -ENOMEM;
        bool ok = false;
        for (size_t i = 0; allowed && allowed[i]; i++)
                if (streq(allowed[i], key))
                        ok = true;
        if (!ok)
                return -EINVAL;
        if (!*filters && !(*filters = json_object()))
                return -ENOMEM;
        json_t *arr = json_object_get(*filters, key);
        if (!arr) {
                arr = json_array();
                if (!arr || json_object_set_new(*filters, key, arr) < 0)
                        return -ENOMEM;
        }
        return json_array_append_new(arr, json_string(eq + 1)) < 0 ? -ENOMEM : 0;
}

int table_print_objects(json_t *array, size_t n, const char *const headers[], const char *const keys[],
                        FILE *f) {
        _cleanup_(table_freep) Table *t = table_new(n, headers);
        _cleanup_free_ const char **cells = calloc(n ?: 1, sizeof(char *));
        size_t i;
        json_t *o;
        if (!t || !cells)
                return -ENOMEM;
        json_array_foreach (array, i, o) {
                for (size_t k = 0; k < n; k++)
                        cells[k] = json_string_value(json_object_get(o, keys[k]));
                if (table_add_row(t, cells) < 0)
                        return -ENOMEM;
        }
        return table_print(t, f);
}
