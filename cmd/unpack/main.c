/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-unpack: the layer store ($ROOT/layers), container rootfs mounts, and flat trees. */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "macro.h"
#include "main-func.h"
#include "mount.h"
#include "oci.h"
#include "paths.h"
#include "store.h"
#include "util.h"

#define MIN_FREE_DEFAULT (256ULL * 1024 * 1024)

static const char *arg_to = NULL;
static const char *arg_upper = NULL;
static const char *arg_work = NULL;
static bool arg_read_only = false;
static unsigned arg_jobs = 0;
static uint64_t arg_min_free = MIN_FREE_DEFAULT;
static uint64_t arg_max_layer_size = 0;
static IdMap arg_uidmap = {}, arg_gidmap = {};

static void help(void) {
        printf("Usage: berth-unpack [OPTIONS] IMAGE\n"
               "       berth-unpack [OPTIONS] --to DIR IMAGE\n"
               "       berth-unpack [OPTIONS] mount IMAGE TARGET (--upper DIR --work DIR | --read-only)\n"
               "       berth-unpack [OPTIONS] umount TARGET\n"
               "       berth-unpack [OPTIONS] gc\n\n"
               "Unpacks an image's layers into the layer store, mounts a container rootfs, or writes a\n"
               "flat tree.\n\n"
               "Options:\n"
               "      --to DIR             Write the merged tree of IMAGE into DIR instead of the store\n"
               "      --upper DIR          mount: the overlay upper directory\n"
               "      --work DIR           mount: the overlay work directory\n"
               "      --read-only          mount: mount read-only (no upper and work needed)\n"
               "  -j --jobs N              Unpack up to N layers in parallel (default: half the CPUs)\n"
               "      --min-free SIZE      Free space to keep in the store's filesystem (default 256m)\n"
               "      --max-layer-size SIZE  Refuse a layer larger than SIZE uncompressed\n"
               "      --uidmap CTR:HOST:N  Shift file owners (a separate copy in the store); repeatable\n"
               "      --gidmap CTR:HOST:N  Shift file groups likewise; repeatable\n" CLI_COMMON_HELP
               "\nSee berth-unpack(1).\n");
}

static int parse_map(const char *value, IdMap *m, const char *opt) {
        IdMap add;
        if (idmap_parse(value, &add) < 0)
                return cli_usage_error("Invalid %s '%s': expected CONTAINER:HOST:COUNT", opt, value);
        for (size_t i = 0; i < add.n; i++) {
                if (m->n >= ELEMENTSOF(m->ranges))
                        return cli_usage_error("Too many %s ranges", opt);
                m->ranges[m->n++] = add.ranges[i];
        }
        return 1;
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_TO = _ARG_COMMON_MAX,
                ARG_UPPER,
                ARG_WORK,
                ARG_READ_ONLY,
                ARG_MIN_FREE,
                ARG_MAX_LAYER_SIZE,
                ARG_UIDMAP,
                ARG_GIDMAP,
        };
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"to", required_argument, NULL, ARG_TO},
                {"upper", required_argument, NULL, ARG_UPPER},
                {"work", required_argument, NULL, ARG_WORK},
                {"read-only", no_argument, NULL, ARG_READ_ONLY},
                {"jobs", required_argument, NULL, 'j'},
                {"min-free", required_argument, NULL, ARG_MIN_FREE},
                {"max-layer-size", required_argument, NULL, ARG_MAX_LAYER_SIZE},
                {"uidmap", required_argument, NULL, ARG_UIDMAP},
                {"gidmap", required_argument, NULL, ARG_GIDMAP},
                {},
        };
        int c, r;

        while ((c = getopt_long(argc, argv, ":hj:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        return cli_version();
                case ARG_TO:
                        arg_to = optarg;
                        break;
                case ARG_UPPER:
                        arg_upper = optarg;
                        break;
                case ARG_WORK:
                        arg_work = optarg;
                        break;
                case ARG_READ_ONLY:
                        arg_read_only = true;
                        break;
                case 'j': {
                        int n;
                        if (safe_atoi(optarg, &n) < 0 || n < 1 || n > 64)
                                return cli_usage_error("Invalid --jobs '%s': expected 1 to 64", optarg);
                        arg_jobs = (unsigned) n;
                        break;
                }
                case ARG_MIN_FREE:
                        if (parse_size(optarg, &arg_min_free) < 0)
                                return cli_usage_error("Invalid --min-free '%s'", optarg);
                        break;
                case ARG_MAX_LAYER_SIZE:
                        if (parse_size(optarg, &arg_max_layer_size) < 0 || arg_max_layer_size == 0)
                                return cli_usage_error("Invalid --max-layer-size '%s'", optarg);
                        break;
                case ARG_UIDMAP:
                        r = parse_map(optarg, &arg_uidmap, "--uidmap");
                        if (r <= 0)
                                return r;
                        break;
                case ARG_GIDMAP:
                        r = parse_map(optarg, &arg_gidmap, "--gidmap");
                        if (r <= 0)
                                return r;
                        break;
                default:
                        r = cli_parse_common(c, optarg, argv);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return cli_usage_error("Unknown option '%s'", argv[optind - 1]);
                }
        if (arg_jobs == 0) {
                /* Each job is two threads: the decompressor and the writer. */
                long n = sysconf(_SC_NPROCESSORS_ONLN) / 2;
                arg_jobs = (unsigned) MIN(MAX(n, 1L), 8L);
        }
        return 1;
}

static int find_image(const char *spec, OciImage **ret) {
        int r = oci_image_find(spec, ret);
        if (r == -ENOENT)
                return log_error_errno(r, "Image '%s' not found in the store '%s/oci'", spec, berth_root());
        if (r == -EADDRNOTAVAIL)
                return log_error_errno(r, "Image ID prefix '%s' is ambiguous", spec);
        if (r < 0)
                return log_error_errno(r, "Cannot read image '%s' from the store '%s/oci': %m", spec,
                                       berth_root());
        return 0;
}

static int run(int argc, char *argv[]) {
        _cleanup_(oci_image_freep) OciImage *img = NULL;
        char **args;
        size_t n;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;
        args = argv + optind;
        n = (size_t) (argc - optind);
        umask(0);

        UnpackOptions o = {
                .jobs = arg_jobs,
                .min_free = arg_min_free,
                .max_layer_size = arg_max_layer_size,
                .max_entries = 4U * 1024U * 1024U,
                .uidmap = arg_uidmap.n > 0 ? &arg_uidmap : NULL,
                .gidmap = arg_gidmap.n > 0 ? &arg_gidmap : NULL,
        };
        bool store_verb =
                n > 0 && (streq(args[0], "mount") || streq(args[0], "umount") || streq(args[0], "gc"));
        if ((arg_upper || arg_work || arg_read_only) && !(n > 0 && streq(args[0], "mount")))
                return cli_usage_error("--upper, --work and --read-only belong to 'mount'");
        if (arg_to && store_verb)
                return cli_usage_error("--to cannot be combined with '%s'", args[0]);

        if (n > 0 && streq(args[0], "mount")) {
                if (n != 3)
                        return cli_usage_error(
                                "Usage: berth-unpack mount IMAGE TARGET (--upper DIR --work DIR "
                                "| --read-only)");
                if ((!arg_upper) != (!arg_work))
                        return cli_usage_error("--upper and --work go together");
                if (!arg_upper && !arg_read_only)
                        return cli_usage_error("'mount' needs --upper and --work, or --read-only");
                r = find_image(args[1], &img);
                if (r < 0)
                        return r;
                MountOptions m = {
                        .target = args[2], .upper = arg_upper, .work = arg_work, .read_only = arg_read_only};
                return mount_image(img, args[1], &m, &o);
        }
        if (n > 0 && streq(args[0], "umount")) {
                if (n != 2)
                        return cli_usage_error("Usage: berth-unpack umount TARGET");
                return umount_target(args[1]);
        }
        if (n > 0 && streq(args[0], "gc")) {
                unsigned removed = 0;
                if (n != 1)
                        return cli_usage_error("'gc' takes no arguments");
                return layer_store_gc(&removed);
        }
        if (n != 1)
                return cli_usage_error(n == 0 ? "Missing IMAGE; see 'berth-unpack --help'"
                                              : "Too many arguments");
        r = find_image(args[0], &img);
        if (r < 0)
                return r;
        if (arg_to)
                return unpack_to_dir(img, args[0], arg_to, &o);
        return layer_store_ensure(img, args[0], &o, NULL);
}

DEFINE_MAIN_FUNCTION(run);
