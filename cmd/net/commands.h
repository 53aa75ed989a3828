/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "attach.h"
#include "network.h"

typedef struct NetOptions {
        NetworkSpec spec;
        AttachOptions attach;
        char **networks, **aliases;
        json_t *ports, *filters;
        bool quiet, force;
        const char *cni_path;
} NetOptions;

extern NetOptions arg;

bool mac_is_valid(const char *s);

int verb_create(int argc, char *argv[], void *userdata);
int verb_rm(int argc, char *argv[], void *userdata);
int verb_ls(int argc, char *argv[], void *userdata);
int verb_inspect(int argc, char *argv[], void *userdata);
int verb_prune(int argc, char *argv[], void *userdata);
int verb_exists(int argc, char *argv[], void *userdata);
int verb_connect(int argc, char *argv[], void *userdata);
int verb_disconnect(int argc, char *argv[], void *userdata);
int verb_attach(int argc, char *argv[], void *userdata);
int verb_detach(int argc, char *argv[], void *userdata);
int verb_check(int argc, char *argv[], void *userdata);
int verb_dns_serve(int argc, char *argv[], void *userdata);
