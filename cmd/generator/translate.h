/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "ini.h"

/* What a bad file gets told: the line (0 for the whole file) and one sentence. */
typedef struct Problem {
        unsigned line;
        char message[512];
} Problem;

int problem_set(Problem *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A .network file the containers may refer to as Network=FILE.network. */
typedef struct NetworkRef {
        char *file; /* "web.network" */
        char *name; /* the berth network's name: NetworkName= or the file's base name */
        char *unit; /* "web-network.service" */
        bool ok;    /* false when the file is bad (containers using it are bad too) */
} NetworkRef;

typedef struct GenContext {
        const char *bindir; /* where berth-run and berth-net are */
        bool user;          /* for the user manager */
        const char *source; /* the file, for SourcePath= */
        const NetworkRef *networks;
        size_t n_networks;
} GenContext;

/* A generated unit: its file name, contents, and the [Install] links to make for it. */
typedef struct Generated {
        char *unit;
        char *text;
        char **wanted_by;
        char **required_by;
        char **aliases;
} Generated;

Generated *generated_free(Generated *g);
static inline void generated_freep(Generated **g) {
        generated_free(*g);
}

/* The argv of 'berth-run' (without the program name) for a .container file named NAME.container, and its
 * Root=/RunRoot= (NULL if unset). -EBADMSG with *problem filled for a bad file. */
typedef struct ContainerSpec {
        char *name;  /* container name */
        char **argv; /* "run", "--rm", ... IMAGE CMD... */
        char *root, *runroot;
        char **networks; /* units of the .network files used */
} ContainerSpec;
ContainerSpec *container_spec_free(ContainerSpec *s);
static inline void container_spec_freep(ContainerSpec **s) {
        container_spec_free(*s);
}
int container_spec(const GenContext *ctx, const char *base, const Ini *ini, ContainerSpec **ret,
                   Problem *problem);

/* NAME.container -> NAME.service; NAME.network -> NAME-network.service. */
int container_generate(const GenContext *ctx, const char *base, const Ini *ini, Generated **ret,
                       Problem *problem);
int network_generate(const GenContext *ctx, const char *base, const Ini *ini, Generated **ret,
                     char **ret_name, Problem *problem);
