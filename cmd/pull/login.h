/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "pull.h"

/* podman login/logout: credentials checked against the registry, then kept in the auth file pull reads. */
typedef struct LoginOptions {
        const char *username;
        char *password; /* --password: a copy, the argv one is wiped */
        bool password_stdin;
        bool get_login;
        bool all; /* logout --all */
} LoginOptions;

int login_run(char **args, const PullOptions *po, const LoginOptions *o);
int logout_run(char **args, const PullOptions *po, const LoginOptions *o);
