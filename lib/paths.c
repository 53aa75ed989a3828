/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <sys/stat.h>

#include "macro.h"
#include "paths.h"

static const char *root_override = NULL;
static const char *runroot_override = NULL;

const char *berth_root(void) {
        const char *e;
        if (root_override)
                return root_override;
        e = getenv("BERTH_ROOT");
        return isempty(e) ? "/var/lib/berth" : e;
}

const char *berth_runroot(void) {
        const char *e;
        if (runroot_override)
                return runroot_override;
        e = getenv("BERTH_RUNROOT");
        return isempty(e) ? "/run/berth" : e;
}

void berth_set_root(const char *path) {
        root_override = path;
}

void berth_set_runroot(const char *path) {
        runroot_override = path;
}

char *path_join_internal(const char *first, ...) {
        va_list ap;
        size_t len = 0;
        const char *p;

        va_start(ap, first);
        for (p = first; p; p = va_arg(ap, const char *))
                len += strlen(p) + 1;
        va_end(ap);

        char *buf = malloc(len + 1), *q = buf;
        if (!buf)
                return NULL;
        *q = 0;
        va_start(ap, first);
        for (p = first; p; p = va_arg(ap, const char *)) {
                if (q > buf && q[-1] != '/' && *p != '/')
                        *q++ = '/';
                else if (q > buf && q[-1] == '/' && *p == '/')
                        p++;
                q = stpcpy(q, p);
        }
        va_end(ap);
        return buf;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int berth_ensure_dirs(void) {
        static const char *const persistent[] = {"oci",      "layers",  "containers",
                                                 "networks", "volumes", "tmp"};
        int r;

        for (size_t i = 0; i < ELEMENTSOF(persistent); i++) {
                _cleanup_free_ char *p = berth_path(persistent[i]);
                if (!p)
                        return -ENOMEM;
                r = mkdir_p(p, 0700);
                if (r < 0)
                        return r;
        }
        r = mkdir_p(berth_runroot(), 0700);
        return r < 0 ? r : 0;
}

bool name_is_valid(const char *s, size_t max) {
        size_t n;
        if (isempty(s))
                return false;
        n = strlen(s);
        if (n > max)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                if (i == 0 ? !alnum : !(alnum || c == '_' || c == '.' || c == '-'))
                        return false;
        }
        return true;
}
