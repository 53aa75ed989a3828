/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"
#include "ps.h"

int verb_images(const PsArgs *a) {
        return log_error_errno(-EOPNOTSUPP, "'images' is not implemented yet");
}
