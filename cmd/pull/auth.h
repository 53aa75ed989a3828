/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Credentials for a registry, looked up as podman does: --creds, --authfile, $REGISTRY_AUTH_FILE,
 * $XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json. Secrets are never logged; *ret_source names
 * the place they came from. Returns 0 and NULLs when there are none. */
typedef struct Creds {
        char *user;
        char *password;
        char *source;
} Creds;

void creds_done(Creds *c);
int creds_parse_arg(const char *arg, Creds *ret);
/* The auth file podman reads first and login writes: authfile, else $REGISTRY_AUTH_FILE, else
 * $XDG_RUNTIME_DIR/containers/auth.json, else /run/containers/UID/auth.json. */
int auth_file_default(const char *authfile, char **ret);
int creds_find(const char *authfile, const char *domain, const char *repo, Creds *ret);
