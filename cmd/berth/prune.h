/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* berth system prune [-a] [-f] [--volumes]: argv[0] is "prune". */
int system_prune(int argc, char *argv[]);
