/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>

#include "macro.h"
#include "safeio.h"
#include "user.h"

#define USER_FILE_MAX (1024U * 1024U)

void container_user_done(ContainerUser *u) {
        u->additional_gids = mfree(u->additional_gids);
        u->n_additional_gids = 0;
        u->home = mfree(u->home);
}

int parse_id(const char *s, uint32_t *ret) {
        uint64_t v = 0;
        if (isempty(s))
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (*p - '0');
                /* Above 2^31-1 ids overflow signed code paths to 0 or -1 ("unchanged" to the kernel):
                 * containerd CVE-2024-40635. No image needs them. */
                if (v > INT32_MAX)
                        return -ERANGE;
        }
        *ret = (uint32_t) v;
        return 0;
}

static bool is_numeric(const char *s) {
        if (isempty(s))
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* Split one line of a colon-separated database into at most n fields (in place). */
static size_t split_fields(char *line, char **f, size_t n) {
        size_t k = 0;
        f[k++] = line;
        for (char *p = line; *p && k < n; p++)
                if (*p == ':') {
                        *p = 0;
                        f[k++] = p + 1;
                }
        return k;
}

/* Find a passwd entry by name or by uid (name == NULL). */
static int passwd_find(const char *text, const char *name, uint32_t uid, uint32_t *ret_uid,
                       uint32_t *ret_gid, char **ret_home, char **ret_name) {
        if (!text)
                return -ENOENT;
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[7];
                uint32_t u, g;
                if (line[0] == '#' || split_fields(line, f, 7) < 7)
                        continue;
                if (parse_id(f[2], &u) < 0 || parse_id(f[3], &g) < 0)
                        continue;
                if (name ? !streq(f[0], name) : u != uid)
                        continue;
                *ret_uid = u;
                *ret_gid = g;
                if (ret_home && !(*ret_home = strdup(f[5])))
                        return -ENOMEM;
                if (ret_name && !(*ret_name = strdup(f[0])))
                        return -ENOMEM;
                return 0;
        }
        return -ENOENT;
}

static int group_find(const char *text, const char *name, uint32_t *ret_gid) {
        if (!text)
                return -ENOENT;
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[4];
                uint32_t g;
                if (line[0] == '#' || split_fields(line, f, 4) < 3)
                        continue;
                if (!streq(f[0], name) || parse_id(f[2], &g) < 0)
                        continue;
                *ret_gid = g;
                return 0;
        }
        return -ENOENT;
}

static int group_members(const char *text, const char *user, gid_t primary, gid_t **ret, size_t *ret_n) {
        _cleanup_free_ gid_t *gids = NULL;
        size_t n = 0;
        if (text && user) {
                _cleanup_free_ char *copy = strdup(text);
                if (!copy)
                        return -ENOMEM;
                char *save = NULL;
                for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char *f[4];
                        uint32_t g;
                        if (line[0] == '#' || split_fields(line, f, 4) < 4 || parse_id(f[2], &g) < 0)
                                continue;
                        if (g == primary)
                                continue;
                        char *s2 = NULL;
                        for (char *m = strtok_r(f[3], ",", &s2); m; m = strtok_r(NULL, ",", &s2))
                                if (streq(m, user)) {
                                        if (n >= 64) /* NGROUPS is larger, but no image needs more */
                                                break;
                                        gid_t *t = realloc(gids, (n + 1) * sizeof(gid_t));
                                        if (!t)
                                                return -ENOMEM;
                                        gids = t;
                                        gids[n++] = g;
                                        break;
                                }
                }
        }
        *ret = TAKE_PTR(gids);
        *ret_n = n;
        return 0;
}

int user_resolve_text(const char *spec, const char *passwd, const char *group, ContainerUser *ret) {
        _cleanup_free_ char *copy = strdup(spec ?: "");
        _cleanup_free_ char *home = NULL, *uname = NULL;
        uint32_t uid = 0, gid = 0, pg;
        bool have_gid = false;
        int r;

        if (!copy)
                return -ENOMEM;
        char *gspec = strchr(copy, ':');
        if (gspec)
                *gspec++ = 0;
        const char *uspec = copy;

        if (isempty(uspec)) {
                if (gspec)
                        return -EINVAL;
                uspec = "0";
        }
        if (is_numeric(uspec)) {
                r = parse_id(uspec, &uid);
                if (r < 0)
                        return r;
                /* The uid need not exist in the image; if it does, its entry gives the gid and home. */
                if (passwd_find(passwd, NULL, uid, &uid, &pg, &home, &uname) >= 0) {
                        gid = pg;
                        have_gid = true;
                }
        } else {
                if (uspec[0] == '-' || uspec[0] == '+')
                        return -EINVAL;
                r = passwd_find(passwd, uspec, 0, &uid, &pg, &home, &uname);
                if (r < 0)
                        return r == -ENOENT ? -ESRCH : r;
                gid = pg;
                have_gid = true;
        }
        if (gspec) {
                if (isempty(gspec))
                        return -EINVAL;
                if (is_numeric(gspec)) {
                        r = parse_id(gspec, &gid);
                        if (r < 0)
                                return r;
                } else {
                        if (gspec[0] == '-' || gspec[0] == '+')
                                return -EINVAL;
                        r = group_find(group, gspec, &gid);
                        if (r < 0)
                                return r == -ENOENT ? -ESRCH : r;
                }
        } else if (!have_gid)
                gid = 0;

        gid_t *gids = NULL;
        size_t n = 0;
        r = group_members(group, uname, gid, &gids, &n);
        if (r < 0)
                return r;
        *ret = (ContainerUser){
                .uid = uid,
                .gid = gid,
                .additional_gids = gids,
                .n_additional_gids = n,
                .home = TAKE_PTR(home),
        };
        return 0;
}

/* A missing file is no error (NULL); anything else that is not a small regular file is. */
static int read_user_file(int rootfd, const char *path, char **ret, char **ret_why) {
        int r = root_read_file(rootfd, path, USER_FILE_MAX, ret);
        if (r >= 0 || r == -ENOENT)
                return 0;
        if (ret_why)
                (void) asprintf(ret_why, "cannot read the image's %s: %s", path,
                                r == -EBADFD  ? "not a regular file"
                                : r == -EFBIG ? "larger than 1 MiB"
                                              : strerror(-r));
        return r;
}

int user_resolve(int rootfd, const char *spec, ContainerUser *ret, char **ret_why) {
        _cleanup_free_ char *passwd = NULL, *group = NULL;
        int r;

        /* Refused even for a numeric user, which needs nothing from the files: the runtime reads them too,
         * and would hang on a FIFO (c/s CVE-2024-9676) or choke on a huge file. */
        r = read_user_file(rootfd, "/etc/passwd", &passwd, ret_why);
        if (r < 0)
                return r;
        r = read_user_file(rootfd, "/etc/group", &group, ret_why);
        if (r < 0)
                return r;
        r = user_resolve_text(spec, passwd, group, ret);
        if (r < 0 && ret_why)
                (void) asprintf(ret_why, "%s",
                                r == -ESRCH    ? "no such user or group in the image"
                                : r == -ERANGE ? "uid or gid out of range"
                                               : "invalid user specification");
        return r;
}

int user_add_groups(int rootfd, char **groups, ContainerUser *u, char **ret_why) {
        _cleanup_free_ char *group = NULL;
        int r;

        if (!groups)
                return 0;
        r = read_user_file(rootfd, "/etc/group", &group, ret_why);
        if (r < 0)
                return r;
        for (size_t i = 0; groups[i]; i++) {
                uint32_t g;
                /* as -u: a number is a gid, never looked up as a name */
                r = is_numeric(groups[i]) ? parse_id(groups[i], &g) : group_find(group, groups[i], &g);
                if (r < 0) {
                        if (ret_why)
                                (void) asprintf(ret_why, "--group-add '%s': %s", groups[i],
                                                r == -ENOENT   ? "no such group in the image"
                                                : r == -ERANGE ? "gid out of range"
                                                : r == -ENOMEM ? "out of memory"
                                                               : "invalid group");
                        return r;
                }
                bool have = false;
                for (size_t k = 0; k < u->n_additional_gids; k++)
                        have = have || u->additional_gids[k] == g;
                if (have)
                        continue;
                gid_t *n = reallocarray(u->additional_gids, u->n_additional_gids + 1, sizeof(gid_t));
                if (!n)
                        return -ENOMEM;
                n[u->n_additional_gids++] = g;
                u->additional_gids = n;
        }
        return 0;
}
