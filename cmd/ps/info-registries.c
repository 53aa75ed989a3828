/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps info's registries section: the registries.conf berth-pull reads ($CONTAINERS_REGISTRIES_CONF,
 * else /etc/containers/registries.conf), shown as podman info shows it: the search registries, and the
 * registries marked blocked or insecure. Only for display: berth-pull does its own reading, and reports a
 * file it cannot parse itself. */
#include <stdio.h>

#include "fileio.h"
#include "info.h"
#include "macro.h"

typedef struct Block {
        char *prefix, *location;
        bool blocked, insecure;
} Block;

/* Append every "quoted" string of s to list. */
static int add_strings(const char *s, json_t *list) {
        for (const char *q = strchr(s, '"'); q; q = strchr(q, '"')) {
                const char *end = strchr(q + 1, '"');
                if (!end)
                        break;
                if (json_array_append_new(list, json_stringn(q + 1, (size_t) (end - q - 1))) < 0)
                        return -ENOMEM;
                q = end + 1;
        }
        return 0;
}

static int block_done(Block *b, json_t *blocked, json_t *insecure) {
        const char *name = b->prefix ?: b->location;
        int r = 0;
        if (name && b->blocked)
                r = json_array_append_new(blocked, json_string(name));
        if (r >= 0 && name && b->insecure)
                r = json_array_append_new(insecure, json_string(name));
        free(b->prefix);
        free(b->location);
        *b = (Block){};
        return r < 0 ? -ENOMEM : 0;
}

static char *trim(char *s) {
        s += strspn(s, " \t\r");
        size_t n = strlen(s);
        while (n > 0 && strchr(" \t\r", s[n - 1]))
                s[--n] = 0;
        return s;
}

static int parse(char *buf, json_t *search, json_t *blocked, json_t *insecure) {
        Block b = {};
        bool in_registry = false, in_mirror = false, in_search = false;
        int r = 0;
        for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line && r >= 0;
             line = strtok_r(NULL, "\n", &save)) {
                char *hash = strchr(line, '#');
                if (hash && !memchr(line, '"', (size_t) (hash - line)))
                        *hash = 0;
                line = trim(line);
                if (in_search) {
                        r = add_strings(line, search);
                        in_search = !strchr(line, ']');
                        continue;
                }
                if (*line == '[') {
                        bool reg = streq(line, "[[registry]]");
                        if (reg || !streq(line, "[[registry.mirror]]")) {
                                r = block_done(&b, blocked, insecure);
                                in_registry = reg;
                        }
                        in_mirror = streq(line, "[[registry.mirror]]");
                        continue;
                }
                char *eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq = 0;
                char *key = trim(line), *value = trim(eq + 1);
                if (!in_registry && streq(key, "unqualified-search-registries")) {
                        r = add_strings(value, search);
                        in_search = !strchr(value, ']');
                } else if (in_registry && !in_mirror && (streq(key, "prefix") || streq(key, "location"))) {
                        char **dst = streq(key, "prefix") ? &b.prefix : &b.location;
                        size_t n = strlen(value);
                        free(*dst);
                        *dst = n >= 2 && value[0] == '"' && value[n - 1] == '"' ? strndup(value + 1, n - 2)
                                                                                : NULL;
                } else if (in_registry && !in_mirror && streq(key, "blocked"))
                        b.blocked = startswith(value, "true");
                else if (in_registry && !in_mirror && streq(key, "insecure"))
                        b.insecure = startswith(value, "true");
        }
        int k = block_done(&b, blocked, insecure);
        return r < 0 ? r : k;
}

int info_registries(Info *info) {
        json_t *s = info_section(info, "registries");
        const char *conf = getenv("CONTAINERS_REGISTRIES_CONF") ?: "/etc/containers/registries.conf";
        _cleanup_free_ char *buf = NULL;
        json_t *search = json_array(), *blocked = json_array(), *insecure = json_array();
        int r = read_full_file(conf, 1024 * 1024, &buf, NULL);
        if (!s || !search || !blocked || !insecure ||
            json_object_set_new(s, "conf", json_string(conf)) < 0 ||
            json_object_set_new(s, "confExists", json_boolean(r != -ENOENT)) < 0 ||
            json_object_set_new(s, "search", search) < 0 || json_object_set_new(s, "blocked", blocked) < 0 ||
            json_object_set_new(s, "insecure", insecure) < 0)
                return -ENOMEM;
        if (r == -ENOENT)
                return 0;
        if (r >= 0)
                return parse(buf, search, blocked, insecure);
        static const char *const keys[] = {"search", "blocked", "insecure"};
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (info_unknown(info, s, "registries", keys[i], "cannot read %s: %s", conf, strerror(-r)) <
                    0)
                        return -ENOMEM;
        return 0;
}
