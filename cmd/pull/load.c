/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cli.h"
#include "images.h"
#include "log.h"

int images_load(char **args, bool quiet) {
        return log_error_errno(-EOPNOTSUPP, "load: not implemented yet");
}
