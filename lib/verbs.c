/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "verbs.h"
#include "cli.h"
#include "macro.h"
#include "main-func.h"

int dispatch_verb(int argc, char *argv[], const Verb verbs[], void *userdata) {
        if (argc <= 0)
                return cli_usage_error("Missing command; see --help");
        for (const Verb *v = verbs; v->name; v++) {
                if (!streq(v->name, argv[0]))
                        continue;
                if ((unsigned) argc < v->min_args)
                        return cli_usage_error("Too few arguments for '%s'", argv[0]);
                if (v->max_args != VERB_ANY && (unsigned) argc > v->max_args)
                        return cli_usage_error("Too many arguments for '%s'", argv[0]);
                return v->dispatch(argc, argv, userdata);
        }
        return cli_usage_error("Unknown command '%s'; see --help", argv[0]);
}
