/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth system prune: docker system prune as a sequence of the owners' own prune verbs. The front removes
 * nothing itself: it asks, runs each owner, prints what each removed under docker's headings, and measures
 * the space with berth-ps df before and after. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "cli.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "prune.h"
#include "spawn.h"
#include "util.h"

static bool arg_all, arg_force, arg_volumes;

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VOLUMES = 0x100 };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"all", no_argument, NULL, 'a'},
                {"force", no_argument, NULL, 'f'},
                {"volumes", no_argument, NULL, ARG_VOLUMES},
                {},
        };
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, ":haf", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: berth system prune [-a] [-f] [--volumes]\n\n"
                               "Remove stopped containers, unused networks, dangling images (with -a: every "
                               "image\nno container uses), with --volumes unused volumes, then unused blobs "
                               "and layers.\n\n"
                               "  -a --all       Remove every image no container uses, not only dangling "
                               "ones\n"
                               "  -f --force     Do not ask first\n"
                               "     --volumes     Remove the volumes no container uses too\n\n"
                               "See berth(1).\n");
                        return 0;
                case 'a':
                        arg_all = true;
                        break;
                case 'f':
                        arg_force = true;
                        break;
                case ARG_VOLUMES:
                        arg_volumes = true;
                        break;
                case ':':
                        return cli_usage_error("Option '%s' needs a value", argv[optind - 1]);
                default:
                        return cli_usage_error("Unknown option '%s' for 'berth system prune'",
                                               argv[optind - 1]);
                }
        if (optind < argc)
                return cli_usage_error("'berth system prune' takes no arguments");
        return 1;
}

/* As docker asks: nothing happens unless the answer starts with y. */
static bool confirm(void) {
        printf("WARNING! This will remove:\n"
               "  - all stopped containers\n"
               "  - all networks not used by at least one container\n"
               "%s"
               "%s"
               "  - all blobs and unpacked layers no image or container uses\n\n"
               "Are you sure you want to continue? [y/N] ",
               arg_volumes ? "  - all volumes not used by at least one container\n" : "",
               arg_all ? "  - all images without at least one container associated to them\n"
                       : "  - all dangling images\n");
        fflush(stdout);
        char line[256];
        if (!fgets(line, sizeof line, stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

/* The sum of berth-ps df's sizes; -errno if it cannot be measured. */
static int64_t measure(void) {
        _cleanup_free_ char *out = NULL;
        char *argv[] = {(char *) "df", (char *) "--format", (char *) "json", NULL};
        int k = spawn_sibling("berth-ps", argv, &out);
        if (k != 0)
                return k < 0 ? k : -EIO;
        json_auto_t *rows = json_loads(out, 0, NULL);
        json_t *row;
        size_t i;
        int64_t total = 0;
        if (!json_is_array(rows))
                return -EBADMSG;
        json_array_foreach (rows, i, row)
                total += json_integer_value(json_object_get(row, "Size"));
        return total;
}

static void section(const char *heading, const char *text) {
        if (!isempty(text))
                printf("%s:\n%s\n\n", heading, text);
        fflush(stdout);
}

/* Run one owner, its output in ret_out; false if it failed (said on stderr). */
static bool run_step(const char *program, char *const argv[], char **ret_out) {
        _cleanup_free_ char *cmd = strv_join((char **) argv, " ");
        int k = spawn_sibling(program, argv, ret_out);
        if (k == 0)
                return true;
        if (k < 0)
                log_error_errno(k, "Step '%s %s' failed: %m", program, strna(cmd));
        else
                log_error("Step '%s %s' failed (exit status %d)", program, strna(cmd), k);
        return false;
}

/* Run one owner and print what it printed under heading. */
static bool step(const char *heading, const char *program, char *const argv[]) {
        _cleanup_free_ char *out = NULL;
        bool ok = run_step(program, argv, &out);
        section(heading, out);
        return ok;
}

/* Images as berth-ps lists them; NULL (said on stderr) if they cannot be listed. */
static json_t *list_images(void) {
        _cleanup_free_ char *out = NULL;
        char *argv[] = {(char *) "images", (char *) "--format", (char *) "json", NULL};
        int k = spawn_sibling("berth-ps", argv, &out);
        json_t *j = k == 0 ? json_loads(out, 0, NULL) : NULL;
        if (!json_is_array(j)) {
                json_decref(j);
                log_error("Step 'berth-ps images' failed: cannot list the images");
                return NULL;
        }
        return j;
}

/* -a: every name of every image no container uses goes through berth-pull rmi, which removes the image
 * with its last name (and refuses, as it should, one that a container started using meanwhile). */
static bool remove_unused_images(void) {
        json_auto_t *images = list_images();
        _cleanup_strv_free_ char **argv = NULL;
        json_t *img, *name;
        size_t i, k;
        if (!images || strv_extend(&argv, "rmi") < 0)
                return false;
        json_array_foreach (images, i, img) {
                if (json_integer_value(json_object_get(img, "Containers")) > 0)
                        continue;
                json_array_foreach (json_object_get(img, "Names"), k, name)
                        if (strv_extend(&argv, json_string_value(name)) < 0)
                                return log_oom(), false;
        }
        return strv_length(argv) < 2 || step("Deleted Images", "berth-pull", argv);
}

/* Without -a the dangling images are the nameless ones berth-pull gc drops once no container uses them (the
 * containers went first); this names them as docker does. */
static int dangling_unused(char ***ret) {
        json_auto_t *images = list_images();
        json_t *img;
        size_t i;
        if (!images)
                return -EIO;
        json_array_foreach (images, i, img) {
                if (json_array_size(json_object_get(img, "Names")) == 0 &&
                    json_integer_value(json_object_get(img, "Containers")) == 0 &&
                    strv_extend(ret, json_string_value(json_object_get(img, "Id"))) < 0)
                        return log_oom();
        }
        return 0;
}

int system_prune(int argc, char *argv[]) {
        _cleanup_strv_free_ char **dangling = NULL;
        bool ok = true;
        int r = parse_argv(argc, argv);
        if (r <= 0)
                return r;
        if (!arg_force && !confirm())
                return 0;

        int64_t before = measure();
        char *prune[] = {(char *) "prune", (char *) "-f", NULL};
        ok = step("Deleted Containers", "berth-run", prune) && ok;
        char *net_prune[] = {(char *) "prune", NULL};
        ok = step("Deleted Networks", "berth-net", net_prune) && ok;
        if (arg_all)
                ok = remove_unused_images() && ok;
        else
                ok = dangling_unused(&dangling) >= 0 && ok;
        if (arg_volumes) {
                char *vol[] = {(char *) "volume", (char *) "prune", (char *) "-f", NULL};
                ok = step("Deleted Volumes", "berth-run", vol) && ok;
        }
        char *gc[] = {(char *) "gc", NULL};
        _cleanup_free_ char *blobs = NULL;
        bool gc_ok = run_step("berth-pull", gc, &blobs);
        ok = gc_ok && ok;
        if (gc_ok && dangling) {
                /* what gc dropped of the dangling images seen before */
                _cleanup_strv_free_ char **left = NULL;
                bool header = false;
                if (dangling_unused(&left) >= 0)
                        for (size_t i = 0; dangling[i]; i++)
                                if (!strv_contains(left, dangling[i])) {
                                        printf("%sdeleted: sha256:%s\n", header ? "" : "Deleted Images:\n",
                                               dangling[i]);
                                        header = true;
                                }
                if (header)
                        printf("\n");
        }
        section("Deleted Blobs", blobs);
        ok = step("Deleted Layers", "berth-unpack", gc) && ok;

        int64_t after = measure();
        if (before >= 0 && after >= 0) {
                char s[32];
                format_size(before > after ? (uint64_t) (before - after) : 0, s, sizeof s);
                printf("Total reclaimed space: %s\n", s);
        }
        return ok ? 0 : 1;
}
