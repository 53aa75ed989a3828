/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "fileio.h"
#include "macro.h"
#include "spec.h"

const char *const spec_default_caps[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_NET_RAW",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE",
        NULL,
};

static int json_strv(json_t *a, char ***ret) {
        _cleanup_strv_free_ char **v = NULL;
        size_t i;
        json_t *e;
        if (!json_is_array(a)) {
                *ret = NULL;
                return 0;
        }
        json_array_foreach (a, i, e) {
                if (!json_is_string(e))
                        return -EBADMSG;
                if (strv_extend(&v, json_string_value(e)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

static int strv_append_all(char ***v, char **add) {
        for (size_t i = 0; add && add[i]; i++)
                if (strv_extend(v, add[i]) < 0)
                        return -ENOMEM;
        return 0;
}

int spec_process_args(const RunOptions *o, json_t *image_config, char ***ret) {
        _cleanup_strv_free_ char **ep = NULL, **cmd = NULL, **args = NULL;
        int r;

        if (o->entrypoint_set) {
                if (!isempty(o->entrypoint) && strv_extend(&ep, o->entrypoint) < 0)
                        return -ENOMEM;
        } else {
                r = json_strv(json_object_get(image_config, "Entrypoint"), &ep);
                if (r < 0)
                        return r;
        }
        if (o->cmd) {
                r = strv_append_all(&cmd, o->cmd);
                if (r < 0)
                        return r;
        } else if (!o->entrypoint_set) {
                /* docker: a new entrypoint drops the image's Cmd */
                r = json_strv(json_object_get(image_config, "Cmd"), &cmd);
                if (r < 0)
                        return r;
        }
        if (strv_append_all(&args, ep) < 0 || strv_append_all(&args, cmd) < 0)
                return -ENOMEM;
        if (strv_length(args) == 0 || isempty(args[0]))
                return -ENOEXEC;
        *ret = TAKE_PTR(args);
        return 0;
}

static int env_set(char ***env, const char *kv) {
        size_t k = strcspn(kv, "=");
        for (size_t i = 0; *env && (*env)[i]; i++)
                if (strneq((*env)[i], kv, k) && (*env)[i][k] == '=') {
                        char *n = strdup(kv);
                        if (!n)
                                return -ENOMEM;
                        free((*env)[i]);
                        (*env)[i] = n;
                        return 0;
                }
        return strv_extend(env, kv);
}

static bool env_has(char **env, const char *key) {
        size_t k = strlen(key);
        for (size_t i = 0; env && env[i]; i++)
                if (strneq(env[i], key, k) && env[i][k] == '=')
                        return true;
        return false;
}

int spec_process_env(const RunOptions *o, json_t *image_config, const char *hostname, const char *home,
                     char ***ret) {
        _cleanup_strv_free_ char **img = NULL, **env = NULL;
        _cleanup_free_ char *h = NULL, *hm = NULL;
        size_t bytes = 0;
        int r;

        r = json_strv(json_object_get(image_config, "Env"), &img);
        if (r < 0)
                return r;
        if (strv_length(img) > SPEC_ENV_MAX_ENTRIES)
                return -E2BIG;
        if (!env_has(img, "PATH") &&
            env_set(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
                return -ENOMEM;
        for (size_t i = 0; img && img[i]; i++) {
                if (!strchr(img[i], '=') || img[i][0] == '=')
                        continue;
                if (env_set(&env, img[i]) < 0)
                        return -ENOMEM;
        }
        if (o->tty && env_set(&env, "TERM=xterm") < 0)
                return -ENOMEM;
        if (asprintf(&h, "HOSTNAME=%s", hostname) < 0 || env_set(&env, h) < 0)
                return -ENOMEM;
        for (size_t i = 0; o->env && o->env[i]; i++)
                if (env_set(&env, o->env[i]) < 0)
                        return -ENOMEM;
        if (!env_has(env, "HOME")) {
                if (asprintf(&hm, "HOME=%s", isempty(home) ? "/" : home) < 0 || env_set(&env, hm) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; env[i]; i++)
                bytes += strlen(env[i]) + 1;
        if (bytes > SPEC_ENV_MAX_BYTES || strv_length(env) > SPEC_ENV_MAX_ENTRIES)
                return -E2BIG;
        *ret = TAKE_PTR(env);
        return 0;
}

bool spec_path_is_safe(const char *p) {
        if (isempty(p) || p[0] != '/' || strlen(p) > 4096)
                return false;
        /* No ".." component at all: nothing to normalise, nothing to escape with. */
        for (const char *s = p; (s = strstr(s, "..")); s += 2)
                if ((s == p || s[-1] == '/') && (s[2] == 0 || s[2] == '/'))
                        return false;
        if (streq(p, "/proc") || startswith(p, "/proc/") || streq(p, "/sys") || startswith(p, "/sys/"))
                return false;
        return true;
}

int spec_process_cwd(const RunOptions *o, json_t *image_config, char **ret) {
        const char *w = o->workdir ?: json_string_value(json_object_get(image_config, "WorkingDir"));
        if (isempty(w))
                w = "/";
        if (!streq(w, "/") && !spec_path_is_safe(w))
                return -EINVAL;
        *ret = strdup(w);
        return *ret ? 0 : -ENOMEM;
}

static int cap_normalise(const char *in, char **ret) {
        _cleanup_free_ char *n = NULL;
        cap_value_t v;
        if (asprintf(&n, "%s%s", strncasecmp(in, "CAP_", 4) == 0 ? "" : "CAP_", in) < 0)
                return -ENOMEM;
        for (char *p = n; *p; p++)
                *p = (char) toupper((unsigned char) *p);
        _cleanup_free_ char *lower = strdup(n);
        if (!lower)
                return -ENOMEM;
        for (char *p = lower; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        if (cap_from_name(lower, &v) < 0)
                return -EINVAL;
        *ret = TAKE_PTR(n);
        return 0;
}

static int all_caps(char ***ret) {
        _cleanup_strv_free_ char **v = NULL;
        /* Only what we hold ourselves: the runtime cannot grant a capability outside its bounding set. */
        for (cap_value_t c = 0; c <= CAP_LAST_CAP && cap_valid(c); c++) {
                if (cap_get_bound(c) != 1)
                        continue;
                char *name = cap_to_name(c);
                if (!name)
                        return -ENOMEM;
                _cleanup_free_ char *up = NULL;
                int r = asprintf(&up, "%s", name);
                cap_free(name);
                if (r < 0)
                        return -ENOMEM;
                for (char *p = up; *p; p++)
                        *p = (char) toupper((unsigned char) *p);
                if (strv_extend(&v, up) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

int spec_capabilities(const RunOptions *o, char ***ret, const char **ret_bad) {
        _cleanup_strv_free_ char **caps = NULL;
        bool drop_all = false;
        int r;

        /* Validate every name first, so a typo is an error even when ALL makes it moot. */
        for (int pass = 0; pass < 2; pass++) {
                char **list = pass ? o->cap_drop : o->cap_add;
                for (size_t i = 0; list && list[i]; i++) {
                        _cleanup_free_ char *n = NULL;
                        if (strcasecmp(list[i], "ALL") == 0)
                                continue;
                        if (cap_normalise(list[i], &n) < 0) {
                                *ret_bad = list[i];
                                return -EINVAL;
                        }
                }
        }
        for (size_t i = 0; o->cap_drop && o->cap_drop[i]; i++)
                if (strcasecmp(o->cap_drop[i], "ALL") == 0)
                        drop_all = true;

        if (o->privileged)
                r = all_caps(&caps);
        else if (drop_all)
                r = 0;
        else
                r = strv_append_all(&caps, (char **) spec_default_caps);
        if (r < 0)
                return r;
        for (size_t i = 0; o->cap_add && o->cap_add[i]; i++) {
                if (strcasecmp(o->cap_add[i], "ALL") == 0) {
                        strv_free(caps);
                        caps = NULL;
                        r = all_caps(&caps);
                        if (r < 0)
                                return r;
                        continue;
                }
                _cleanup_free_ char *n = NULL;
                r = cap_normalise(o->cap_add[i], &n);
                if (r < 0)
                        return r;
                if (!strv_contains(caps, n) && strv_extend(&caps, n) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; !drop_all && o->cap_drop && o->cap_drop[i]; i++) {
                _cleanup_free_ char *n = NULL;
                r = cap_normalise(o->cap_drop[i], &n);
                if (r < 0)
                        return r;
                for (size_t j = 0; caps && caps[j]; j++)
                        if (streq(caps[j], n)) {
                                free(caps[j]);
                                memmove(caps + j, caps + j + 1,
                                        (strv_length(caps + j + 1) + 1) * sizeof(char *));
                                break;
                        }
        }
        if (!caps && !(caps = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(caps);
        return 0;
}
