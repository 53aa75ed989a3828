/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdio.h>

/* Output helpers shared by the listing commands: an aligned text table, and Go-style templates over JSON
 * objects
 * ("{{.Names}} {{.Status}}", "{{.State.Status}}", "{{json .Labels}}", a leading "table " prints a header).
 */
typedef struct Table Table;

Table *table_new(size_t n_columns, const char *const headers[]);
Table *table_free(Table *t);
static inline void table_freep(Table **t) {
        if (*t)
                table_free(*t);
}
/* Add one row of n_columns strings (copied; NULL prints as empty). */
int table_add_row(Table *t, const char *const cells[]);
int table_print(Table *t, FILE *f);
/* A table of the string members keys[0..n) of each object of array, under headers[0..n). */
int table_print_objects(json_t *array, size_t n, const char *const headers[], const char *const keys[],
                        FILE *f);

/* Render tmpl for one object, followed by a newline. -EINVAL for a malformed template. */
int template_render(const char *tmpl, json_t *obj, FILE *f);
/* Render for each element of an array; with the "table " prefix, print the field names as a header first. */
int template_render_all(const char *tmpl, json_t *array, FILE *f);
/* Print a JSON value, indented and with sorted keys, plus a newline. */
int json_print(json_t *j, FILE *f);

/* Parse "key=value" filters (--filter) into an object of arrays: {"name":["a","b"], "label":["x=y"]}. */
int filters_add(json_t **filters, const char *spec, const char *const allowed[]);
