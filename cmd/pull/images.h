/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Store management verbs: rmi, tag, gc (images.c) and load (load.c). */
int images_rmi(char **args, bool force);
int images_tag(char **args);
int images_gc(char **args);
int images_load(char **args, bool quiet);
int images_save(char **args);
