/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-pull: the registry client and the owner of the image store $ROOT/oci. */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "fileio.h"
#include "images.h"
#include "log.h"
#include "login.h"
#include "macro.h"
#include "main-func.h"
#include "pull.h"
#include "table.h"
#include "util.h"

static PullOptions arg_pull = {
        .client = {.tls_verify = true,
                   .jobs = 6,
                   .retries = 3,
                   .retry_after_max = 60 * USEC_PER_SEC,
                   .timeout_s = 30},
};
static Creds arg_creds = {};
static LoginOptions arg_login = {};
static bool arg_quiet = false;
static bool arg_force = false;
static int arg_progress = -1;
static char **arg_args = NULL;
static const char *arg_verb = NULL;

static void help(void) {
        printf("Usage: berth-pull [OPTIONS] REFERENCE\n"
               "       berth-pull rmi [-f] IMAGE...\n"
               "       berth-pull tag SOURCE TARGET\n"
               "       berth-pull gc\n"
               "       berth-pull load docker-archive:FILE|oci-archive:FILE [NAME]\n"
               "       berth-pull save IMAGE oci-archive:FILE\n"
               "       berth-pull login [-u USER] [-p PASS|--password-stdin] [--get-login] REGISTRY\n"
               "       berth-pull logout [-a] [REGISTRY]\n\n"
               "Fetch an image from a registry into the image store and print its ID; manage the store.\n\n"
               "Options:\n"
               "      --tls-verify=BOOL   Verify TLS certificates; false also allows plain HTTP (default "
               "true)\n"
               "      --cert-dir DIR      CA certificates (*.crt) and a client certificate (*.cert, *.key)\n"
               "      --creds USER:PASS   Credentials for the registry\n"
               "      --authfile FILE     Auth file to read credentials from (login, logout: to write)\n"
               "      --platform OS/ARCH[/VARIANT]  Platform to pick from an index (default: this host)\n"
               "      --arch ARCH, --os OS, --variant VARIANT  Override one part of the platform\n"
               "  -j --jobs N             Blobs to download in parallel (default 6)\n"
               "      --retry N           Retries per request on 429, 5xx and network errors (default 3)\n"
               "      --retry-delay DURATION  Fixed delay between retries (default: backoff from 1s)\n"
               "      --timeout DURATION  Connect timeout and longest stall (default 30s, "
               "$BERTH_PULL_TIMEOUT)\n"
               "      --registries-conf FILE  registries.conf to read mirrors and insecure registries from\n"
               "      --allow-foreign-urls  Fetch layers that list urls from there (without credentials)\n"
               "  -q --quiet              No progress output\n"
               "  -f --force              rmi: remove the names even if a container uses the "
               "image\n"
               "  -u --username USER      login: the user name (default: ask)\n"
               "  -p --password PASS      login: the password (insecure: others see the command line)\n"
               "      --password-stdin    login: read the password from standard input\n"
               "      --get-login         login: print the user name stored for REGISTRY\n"
               "  -a --all                logout: remove the credentials of every registry\n" CLI_COMMON_HELP
               "\nSee berth-pull(1).\n");
}

enum {
        ARG_TLS_VERIFY = _ARG_COMMON_MAX + 1,
        ARG_CERT_DIR,
        ARG_CREDS,
        ARG_AUTHFILE,
        ARG_PLATFORM,
        ARG_ARCH,
        ARG_OS,
        ARG_VARIANT,
        ARG_RETRY,
        ARG_RETRY_DELAY,
        ARG_TIMEOUT,
        ARG_REGISTRIES_CONF,
        ARG_ALLOW_FOREIGN_URLS,
        ARG_PASSWORD_STDIN,
        ARG_GET_LOGIN,
};

static const struct option options[] = {
        CLI_COMMON_OPTIONS,
        {"tls-verify", required_argument, NULL, ARG_TLS_VERIFY},
        {"cert-dir", required_argument, NULL, ARG_CERT_DIR},
        {"creds", required_argument, NULL, ARG_CREDS},
        {"authfile", required_argument, NULL, ARG_AUTHFILE},
        {"platform", required_argument, NULL, ARG_PLATFORM},
        {"arch", required_argument, NULL, ARG_ARCH},
        {"os", required_argument, NULL, ARG_OS},
        {"variant", required_argument, NULL, ARG_VARIANT},
        {"jobs", required_argument, NULL, 'j'},
        {"retry", required_argument, NULL, ARG_RETRY},
        {"retry-delay", required_argument, NULL, ARG_RETRY_DELAY},
        {"timeout", required_argument, NULL, ARG_TIMEOUT},
        {"registries-conf", required_argument, NULL, ARG_REGISTRIES_CONF},
        {"allow-foreign-urls", no_argument, NULL, ARG_ALLOW_FOREIGN_URLS},
        {"quiet", no_argument, NULL, 'q'},
        {"force", no_argument, NULL, 'f'},
        {"username", required_argument, NULL, 'u'},
        {"password", required_argument, NULL, 'p'},
        {"password-stdin", no_argument, NULL, ARG_PASSWORD_STDIN},
        {"get-login", no_argument, NULL, ARG_GET_LOGIN},
        {"all", no_argument, NULL, 'a'},
        {},
};

static int parse_timeout(const char *s, const char *what) {
        usec_t t;
        if (parse_duration(s, &t) < 0 || t < USEC_PER_SEC || t > 3600 * USEC_PER_SEC)
                return cli_usage_error("Invalid %s '%s': expected a duration from 1s to 1h", what, s);
        arg_pull.client.timeout_s = (unsigned) (t / USEC_PER_SEC);
        return 0;
}

/* One option; returns 0 to go on, BERTH_EXIT_USAGE on a bad value, 1 for --help/--version handled. */
static int parse_one(int c, char *argv[]) {
        uint64_t u;
        usec_t t;
        int r;

        switch (c) {
        case 'h':
                help();
                return 1;
        case ARG_VERSION:
                (void) cli_version();
                return 1;
        case ARG_TLS_VERIFY:
                r = parse_boolean(optarg);
                if (r < 0)
                        return cli_usage_error("Invalid --tls-verify '%s': expected true or false", optarg);
                arg_pull.client.tls_verify = r;
                arg_pull.client.allow_http = !r;
                arg_pull.tls_verify_set = true;
                return 0;
        case ARG_CERT_DIR:
                arg_pull.client.cert_dir = optarg;
                return 0;
        case ARG_CREDS:
                creds_done(&arg_creds);
                r = creds_parse_arg(optarg, &arg_creds);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return cli_usage_error("Invalid --creds: expected USER:PASSWORD");
                arg_pull.creds = &arg_creds;
                return 0;
        case ARG_AUTHFILE:
                arg_pull.authfile = optarg;
                return 0;
        case ARG_PLATFORM:
                if (platform_parse(optarg, &arg_pull.platform) < 0)
                        return cli_usage_error("Invalid --platform '%s': expected OS/ARCH[/VARIANT]",
                                               optarg);
                return 0;
        case ARG_ARCH: {
                Platform p;
                char buf[128];
                snprintf(buf, sizeof buf, "%s/%s", arg_pull.platform.os, optarg);
                if (platform_parse(buf, &p) < 0)
                        return cli_usage_error("Invalid --arch '%s'", optarg);
                strcpy(arg_pull.platform.arch, p.arch);
                return 0;
        }
        case ARG_OS:
                if (isempty(optarg) || strlen(optarg) >= sizeof arg_pull.platform.os || strchr(optarg, '/'))
                        return cli_usage_error("Invalid --os '%s'", optarg);
                strcpy(arg_pull.platform.os, optarg);
                return 0;
        case ARG_VARIANT:
                if (strlen(optarg) >= sizeof arg_pull.platform.variant || strchr(optarg, '/'))
                        return cli_usage_error("Invalid --variant '%s'", optarg);
                strcpy(arg_pull.platform.variant, optarg);
                return 0;
        case 'j':
                if (safe_atou64(optarg, &u) < 0 || u < 1 || u > 64)
                        return cli_usage_error("Invalid --jobs '%s': expected 1..64", optarg);
                arg_pull.client.jobs = (unsigned) u;
                return 0;
        case ARG_RETRY:
                if (safe_atou64(optarg, &u) < 0 || u > 100)
                        return cli_usage_error("Invalid --retry '%s': expected 0..100", optarg);
                arg_pull.client.retries = (unsigned) u;
                return 0;
        case ARG_RETRY_DELAY:
                if (parse_duration(optarg, &t) < 0 || t > 3600 * USEC_PER_SEC)
                        return cli_usage_error("Invalid --retry-delay '%s'", optarg);
                arg_pull.client.retry_delay = t ?: 1;
                arg_pull.client.retry_after_max = MAX(t, USEC_PER_SEC);
                return 0;
        case ARG_TIMEOUT:
                return parse_timeout(optarg, "--timeout");
        case ARG_REGISTRIES_CONF:
                arg_pull.registries_conf = optarg;
                return 0;
        case ARG_ALLOW_FOREIGN_URLS:
                arg_pull.foreign_urls = true;
                return 0;
        case 'q':
                arg_quiet = true;
                return 0;
        case 'f':
                arg_force = true;
                return 0;
        case 'u':
                arg_login.username = optarg;
                return 0;
        case 'p':
                free(arg_login.password);
                arg_login.password = strdup(optarg);
                if (!arg_login.password)
                        return log_oom();
                /* Gone from /proc/PID/cmdline from now on; readable until here, hence the warning. */
                explicit_bzero(optarg, strlen(optarg));
                return 0;
        case ARG_PASSWORD_STDIN:
                arg_login.password_stdin = true;
                return 0;
        case ARG_GET_LOGIN:
                arg_login.get_login = true;
                return 0;
        case 'a':
                arg_login.all = true;
                return 0;
        default:
                r = cli_parse_common(c, optarg, argv);
                if (r == 1)
                        return 0;
                return r == 0 ? cli_usage_error("Unhandled option") : r;
        }
}

static const char *const verbs[] = {"pull", "rmi", "tag", "gc", "load", "save", "login", "logout", NULL};

static int parse_argv(int argc, char *argv[]) {
        const char *e;
        int c, r;

        platform_host(&arg_pull.platform);
        if ((e = getenv("BERTH_PULL_TIMEOUT")) && parse_timeout(e, "$BERTH_PULL_TIMEOUT") < 0)
                return BERTH_EXIT_USAGE;
        /* Options before the verb, then the verb's arguments with options anywhere among them. */
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+:hqfj:u:p:a", options, NULL)) >= 0) {
                r = parse_one(c, argv);
                if (r != 0)
                        return r == 1 ? 0 : r;
        }
        int first = optind;
        if (first < argc)
                for (size_t i = 0; verbs[i]; i++)
                        if (streq(argv[first], verbs[i])) {
                                arg_verb = verbs[i];
                                first++;
                                break;
                        }
        char **sub = argv + first - 1;
        int subc = argc - first + 1;
        optind = 0;
        while ((c = getopt_long(subc, sub, ":hqfj:u:p:a", options, NULL)) >= 0) {
                r = parse_one(c, sub);
                if (r != 0)
                        return r == 1 ? 0 : r;
        }
        arg_args = sub + optind;
        if (!arg_verb)
                arg_verb = "pull";
        if (arg_force && !streq(arg_verb, "rmi"))
                return cli_usage_error("--force only applies to rmi");
        bool login = streq(arg_verb, "login");
        if (!login &&
            (arg_login.username || arg_login.password || arg_login.password_stdin || arg_login.get_login))
                return cli_usage_error(
                        "--username, --password, --password-stdin and --get-login only apply to login");
        if (arg_login.all && !streq(arg_verb, "logout"))
                return cli_usage_error("--all only applies to logout");
        if (arg_login.password && arg_login.password_stdin)
                return cli_usage_error("--password and --password-stdin are mutually exclusive");
        if (arg_login.password_stdin && !arg_login.username)
                return cli_usage_error("Must provide --username with --password-stdin");
        if (arg_pull.creds && (login || streq(arg_verb, "logout")))
                return cli_usage_error("--creds does not apply to %s: use --username and --password-stdin",
                                       arg_verb);
        if (arg_output != OUTPUT_TABLE && !streq(arg_verb, "pull"))
                return cli_usage_error("--format only applies to a pull");
        if (arg_progress < 0)
                arg_progress = !arg_quiet && isatty(STDERR_FILENO) && arg_output == OUTPUT_TABLE;
        arg_pull.client.progress = arg_progress;
        return 1;
}

static int verb_pull(char **args) {
        _cleanup_(pull_result_done) PullResult res = {};
        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        int r;

        if (strv_length(args) != 1)
                return cli_usage_error(args[0] ? "Too many arguments: pull takes one reference"
                                               : "Missing image reference; see 'berth-pull --help'");
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return log_error_errno(-EIO, "Failed to initialise libcurl");
        r = pull_image(args[0], &arg_pull, &res);
        curl_global_cleanup();
        if (r < 0)
                return r;
        if (arg_output == OUTPUT_JSON || arg_output == OUTPUT_TEMPLATE) {
                _cleanup_(json_decrefp) json_t *j =
                        json_pack("{s:s, s:s, s:s, s:i, s:I, s:f}", "Reference", res.reference, "Digest",
                                  res.digest, "Id", res.id, "Layers", (int) res.layers, "BytesFetched",
                                  (json_int_t) res.bytes_fetched, "Seconds",
                                  (double) (now_usec(CLOCK_MONOTONIC) - t0) / USEC_PER_SEC);
                if (!j)
                        return log_oom();
                if (arg_output == OUTPUT_TEMPLATE) {
                        r = template_render(arg_template, j, stdout);
                        return r < 0 ? log_error_errno(r, "Invalid --format template '%s'", arg_template)
                                     : 0;
                }
                return json_print(j, stdout);
        }
        printf("%s\n", res.id);
        return 0;
}

static int run(int argc, char *argv[]) {
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;
        /* A credential helper that exits without reading its stdin must not kill us. */
        (void) signal(SIGPIPE, SIG_IGN);
        if (streq(arg_verb, "pull"))
                r = verb_pull(arg_args);
        else if (streq(arg_verb, "rmi"))
                r = images_rmi(arg_args, arg_force);
        else if (streq(arg_verb, "tag"))
                r = images_tag(arg_args);
        else if (streq(arg_verb, "gc"))
                r = images_gc(arg_args);
        else if (streq(arg_verb, "save"))
                r = images_save(arg_args);
        else if (streq(arg_verb, "login"))
                r = login_run(arg_args, &arg_pull, &arg_login);
        else if (streq(arg_verb, "logout"))
                r = logout_run(arg_args, &arg_pull, &arg_login);
        else
                r = images_load(arg_args, arg_quiet);
        if (fflush(stdout) != 0 && r >= 0)
                r = log_error_errno(-EIO, "Failed to write to stdout: %m");
        creds_done(&arg_creds);
        if (arg_login.password)
                explicit_bzero(arg_login.password, strlen(arg_login.password));
        free(arg_login.password);
        return r;
}

DEFINE_MAIN_FUNCTION(run);
