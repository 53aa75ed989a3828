/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"
#include "ps.h"

int verb_inspect(const PsArgs *a) {
        return log_error_errno(-EOPNOTSUPP, "'inspect' is not implemented yet");
}
