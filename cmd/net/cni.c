/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>

#include "cni.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "spawn.h"
#include "util.h"

#define CNI_OUTPUT_MAX (1U << 20)

static int find_plugin(const char *type, const char *cni_path, char **ret) {
        if (isempty(type) || strchr(type, '/') || streq(type, ".") || streq(type, ".."))
                return -EINVAL;
        _cleanup_free_ char *copy = strdup(cni_path);
        char *save = NULL;
        if (!copy)
                return -ENOMEM;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = path_join(d, type);
                if (!p)
                        return -ENOMEM;
                if (access(p, X_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        return -ENOENT;
}

static int env_build(const char *command, const CniRun *run, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        char *v;
        int r;
        for (char **e = environ; *e; e++) {
                if (startswith(*e, "CNI_"))
                        continue;
                r = strv_extend(&env, *e);
                if (r < 0)
                        return r;
        }
        const char *kv[][2] = {
                {"CNI_COMMAND", command},    {"CNI_CONTAINERID", run->container_id},
                {"CNI_NETNS", run->netns},   {"CNI_IFNAME", run->ifname},
                {"CNI_PATH", run->cni_path},
        };
        for (size_t i = 0; i < ELEMENTSOF(kv); i++) {
                if (asprintf(&v, "%s=%s", kv[i][0], kv[i][1] ?: "") < 0)
                        return -ENOMEM;
                r = strv_push(&env, v);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(env);
        return 0;
}

/* Run one plugin. On failure returns -EIO with the plugin's message in *ret_error. */
static int cni_exec(const char *command, json_t *conf, const CniRun *run, json_t **ret_result,
                    char **ret_error) {
        const char *type = json_string_value(json_object_get(conf, "type"));
        _cleanup_free_ char *bin = NULL, *input = NULL, *out = NULL;
        _cleanup_strv_free_ char **env = NULL;
        int in_pipe[2], out_pipe[2], status, r;
        size_t out_len = 0;
        pid_t pid;

        r = find_plugin(type, run->cni_path, &bin);
        if (r < 0) {
                if (asprintf(ret_error, "plugin '%s' not found in '%s'", strna(type), run->cni_path) < 0)
                        return -ENOMEM;
                return r;
        }
        input = json_dumps(conf, JSON_COMPACT);
        if (!input)
                return -ENOMEM;
        r = env_build(command, run, &env);
        if (r < 0)
                return r;
        if (pipe2(in_pipe, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(out_pipe, O_CLOEXEC) < 0) {
                safe_close(in_pipe[0]);
                safe_close(in_pipe[1]);
                return -errno;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                safe_close(in_pipe[0]);
                safe_close(in_pipe[1]);
                safe_close(out_pipe[0]);
                safe_close(out_pipe[1]);
                return r;
        }
        if (pid == 0) {
                if (dup2(in_pipe[0], STDIN_FILENO) < 0 || dup2(out_pipe[1], STDOUT_FILENO) < 0)
                        _exit(127);
                char *argv[] = {bin, NULL};
                spawn_reset_signals();
                execve(bin, argv, env);
                _exit(127);
        }
        safe_close(in_pipe[0]);
        safe_close(out_pipe[1]);
        /* The configuration is small (a few KiB) and fits the pipe; write it all before reading. */
        r = write_all(in_pipe[1], input, strlen(input));
        safe_close(in_pipe[1]);
        int rr = read_full_fd(out_pipe[0], CNI_OUTPUT_MAX, &out, &out_len);
        safe_close(out_pipe[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (rr < 0)
                return rr;

        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                json_auto_t *e = NULL;
                const char *msg = NULL, *details = NULL;
                if (out_len > 0 && json_parse(out, out_len, &e, NULL) >= 0) {
                        msg = json_string_value(json_object_get(e, "msg"));
                        details = json_string_value(json_object_get(e, "details"));
                }
                if (!msg && out_len > 0)
                        msg = out;
                if (asprintf(ret_error, "%s%s%s",
                             msg ?: (WIFEXITED(status) ? "failed" : "killed by a signal"),
                             isempty(details) ? "" : ": ", isempty(details) ? "" : details) < 0)
                        return -ENOMEM;
                return -EIO;
        }
        if (r < 0 && r != -EPIPE)
                return r;
        if (ret_result) {
                json_t *res = NULL;
                _cleanup_free_ char *perr = NULL;
                if (out_len == 0)
                        res = json_object();
                else if (json_parse(out, out_len, &res, &perr) < 0) {
                        if (asprintf(ret_error, "invalid result: %s", strna(perr)) < 0)
                                return -ENOMEM;
                        return -EBADMSG;
                }
                *ret_result = res;
        }
        return 0;
}

/* The configuration one plugin gets on stdin. */
static json_t *plugin_conf(json_t *conflist, json_t *plugin, const CniRun *run, json_t *prev) {
        json_t *c = json_deep_copy(plugin);
        json_t *caps = json_object_get(plugin, "capabilities"), *ipam, *v;
        json_t *rc = json_object();
        const char *k;
        if (!c || !rc) {
                json_decref(c);
                json_decref(rc);
                return NULL;
        }
        json_object_set(c, "name", json_object_get(conflist, "name"));
        json_object_set(c, "cniVersion", json_object_get(conflist, "cniVersion"));
        json_object_foreach (run->runtime_config, k, v)
                if (json_is_true(json_object_get(caps, k)))
                        json_object_set(rc, k, v);
        if (json_object_size(rc) > 0)
                json_object_set_new(c, "runtimeConfig", rc);
        else
                json_decref(rc);
        if (prev)
                json_object_set(c, "prevResult", prev);
        /* host-local keeps its leases in $RUNROOT/net/ipam unless the conflist says otherwise: they describe
         * running containers and must not survive a reboot. */
        ipam = json_object_get(c, "ipam");
        if (streq_ptr(json_string_value(json_object_get(ipam, "type")), "host-local") &&
            !json_object_get(ipam, "dataDir")) {
                _cleanup_free_ char *d = berth_run_path("net", "ipam");
                if (d)
                        json_object_set_new(ipam, "dataDir", json_string(d));
        }
        return c;
}

/* A plugin that has nothing to do for this container: running it costs a process (about 5 ms of Go start-up)
 * and changes nothing. portmap (1.x) passes prevResult through on ADD and returns at once on DEL and CHECK
 * when runtimeConfig has no portMappings, so it runs only for a container that publishes ports. */
bool cni_plugin_is_noop(json_t *conf) {
        if (streq_ptr(json_string_value(json_object_get(conf, "type")), "portmap"))
                return json_array_size(
                               json_object_get(json_object_get(conf, "runtimeConfig"), "portMappings")) == 0;
        return false;
}

/* Whether plugin i of the list takes part in a DEL or CHECK: the ones that ran ADD when that was recorded,
 * else every plugin that has something to do. */
static bool plugin_wanted(json_t *added, size_t i, json_t *conf) {
        json_t *v;
        size_t k;
        if (!json_is_array(added))
                return !cni_plugin_is_noop(conf);
        json_array_foreach (added, k, v)
                if (json_is_integer(v) && json_integer_value(v) == (json_int_t) i)
                        return true;
        return false;
}

/* Returns 1 when the plugin ran, 0 when it had nothing to do and was skipped. */
static int plugin_call(const char *command, json_t *conflist, json_t *plugin, size_t index, json_t *added,
                       const CniRun *run, json_t *prev, json_t **ret_result) {
        json_auto_t *conf = plugin_conf(conflist, plugin, run, prev);
        _cleanup_free_ char *err = NULL;
        const char *type = json_string_value(json_object_get(plugin, "type"));
        const char *net = json_string_value(json_object_get(conflist, "name"));
        int r;
        if (!conf)
                return log_oom();
        if (streq(command, "ADD") ? cni_plugin_is_noop(conf) : !plugin_wanted(added, index, conf)) {
                log_debug("CNI %s %s on '%s': nothing to do, skipped", command, strna(type), strna(net));
                return 0;
        }
        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        r = cni_exec(command, conf, run, ret_result, &err);
        log_debug("CNI %s %s on '%s': %.1f ms", command, strna(type), strna(net),
                  (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1000.0);
        if (r < 0) {
                if (err)
                        return log_error_errno(r, "CNI plugin '%s' failed (%s on network '%s'): %s",
                                               strna(type), command, strna(net), err);
                return log_error_errno(r, "CNI plugin '%s' failed (%s on network '%s'): %m", strna(type),
                                       command, strna(net));
        }
        return 1;
}

int cni_del_list(json_t *conflist, const CniRun *run, json_t *cached_result, json_t *added) {
        json_t *plugins = json_object_get(conflist, "plugins");
        int ret = 0;
        for (size_t i = json_array_size(plugins); i > 0; i--) {
                int r = plugin_call("DEL", conflist, json_array_get(plugins, i - 1), i - 1, added, run,
                                    cached_result, NULL);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

int cni_add_list(json_t *conflist, const CniRun *run, json_t **ret_result, json_t **ret_added) {
        json_t *plugins = json_object_get(conflist, "plugins");
        json_auto_t *prev = NULL, *added = json_array();
        size_t i;
        if (!added)
                return log_oom();
        if (json_array_size(plugins) == 0)
                return log_error_errno(-EINVAL, "Network '%s' has no plugins",
                                       strna(json_string_value(json_object_get(conflist, "name"))));
        for (i = 0; i < json_array_size(plugins); i++) {
                json_t *res = NULL;
                int r = plugin_call("ADD", conflist, json_array_get(plugins, i), i, NULL, run, prev, &res);
                if (r == 0) /* skipped: the result goes on unchanged */
                        continue;
                if (r < 0) {
                        /* The spec's rule for a failed ADD: DEL the whole list so nothing stays behind. */
                        int saved = log_get_max_level();
                        log_set_max_level(LOG_CRIT);
                        (void) cni_del_list(conflist, run, prev, NULL);
                        log_set_max_level(saved);
                        return r;
                }
                if (json_array_append_new(added, json_integer((json_int_t) i)) < 0) {
                        json_decref(res);
                        return log_oom();
                }
                json_decref(prev);
                prev = res;
        }
        if (!prev) /* every plugin skipped: nothing was added */
                return log_error_errno(-EINVAL, "Network '%s' has no plugin with anything to do",
                                       strna(json_string_value(json_object_get(conflist, "name"))));
        *ret_result = TAKE_PTR(prev);
        if (ret_added)
                *ret_added = TAKE_PTR(added);
        return 0;
}

int cni_check_list(json_t *conflist, const CniRun *run, json_t *cached_result, json_t *added) {
        json_t *plugins = json_object_get(conflist, "plugins");
        for (size_t i = 0; i < json_array_size(plugins); i++) {
                int r = plugin_call("CHECK", conflist, json_array_get(plugins, i), i, added, run,
                                    cached_result, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cni_check_versions(json_t *conflist, const char *cni_path) {
        const char *version = json_string_value(json_object_get(conflist, "cniVersion"));
        json_t *plugin;
        size_t i;
        CniRun run = {.cni_path = cni_path};
        json_array_foreach (json_object_get(conflist, "plugins"), i, plugin) {
                const char *type = json_string_value(json_object_get(plugin, "type"));
                json_auto_t *in = json_pack("{s:s, s:s?}", "cniVersion", version, "type", type), *out = NULL;
                _cleanup_free_ char *err = NULL;
                if (!in)
                        return log_oom();
                int r = cni_exec("VERSION", in, &run, &out, &err);
                if (r < 0)
                        return log_error_errno(r, "CNI plugin '%s' is not usable: %s", strna(type),
                                               err ?: strerror(-r));
                json_t *v;
                size_t k;
                bool ok = false;
                json_array_foreach (json_object_get(out, "supportedVersions"), k, v)
                        ok = ok || streq_ptr(json_string_value(v), version);
                if (!ok)
                        return log_error_errno(-EPROTONOSUPPORT, "CNI plugin '%s' does not support CNI %s",
                                               strna(type), strna(version));
        }
        return 0;
}
