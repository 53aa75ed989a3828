/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "images.h"
#include "cli.h"
#include "log.h"

int images_rmi(char **args, bool force) {
        return log_error_errno(-EOPNOTSUPP, "rmi: not implemented yet");
}
int images_tag(char **args) {
        return log_error_errno(-EOPNOTSUPP, "tag: not implemented yet");
}
int images_gc(char **args) {
        return log_error_errno(-EOPNOTSUPP, "gc: not implemented yet");
}
int images_load(char **args, bool quiet) {
        return log_error_errno(-EOPNOTSUPP, "load: not implemented yet");
}
