/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"
#include "ps.h"

int verb_stats(const PsArgs *a) {
        return log_error_errno(-EOPNOTSUPP, "'stats' is not implemented yet");
}
