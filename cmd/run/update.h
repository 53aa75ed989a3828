/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* update [OPTIONS] CONTAINER...: new resource limits and restart policy (update.c) */
int verb_update(int argc, char *argv[], void *userdata);
