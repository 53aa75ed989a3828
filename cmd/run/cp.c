/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-run cp: files between a container (running or stopped) and the host, as docker cp copies them. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "cp.h"
#include "cpenter.h"
#include "fileio.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "main-func.h"
#include "monitor.h"
#include "record.h"

#define CP_HELP                                                                                 \
        "Usage: berth-run cp [-a] [-L] CONTAINER:SRC HOSTDEST\n"                                \
        "       berth-run cp [-a] [-L] HOSTSRC CONTAINER:DEST\n\n"                              \
        "Copy files and directories between a container, running or stopped, and the host.\n\n" \
        "  -a --archive      Keep the owners (uid and gid) of what is copied\n"                 \
        "  -L --follow-link  Copy what a symlink at SRC points to, not the symlink\n\n"         \
        "See berth-run(1).\n"

static bool arg_archive = false, arg_follow = false;

static int handle_option(int c, const char *arg) {
        switch (c) {
        case 'a':
                arg_archive = true;
                return 0;
        case 'L':
                arg_follow = true;
                return 0;
        default:
                return cli_usage_error("Unknown option '%s'", arg ?: "?");
        }
}

/* docker's rule: "NAME:PATH" names a container unless the argument starts like a local path. */
static int split_arg(const char *arg, char **ret_container, const char **ret_path) {
        const char *colon = strchr(arg, ':');
        if (arg[0] == '/' || arg[0] == '.' || !colon || colon == arg) {
                *ret_container = NULL;
                *ret_path = arg;
                return 0;
        }
        *ret_container = strndup(arg, (size_t) (colon - arg));
        if (!*ret_container)
                return -ENOMEM;
        *ret_path = colon + 1;
        return 0;
}

static int read_idmap(pid_t pid, const char *which, IdMap *ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        if (asprintf(&path, "/proc/%d/%s", (int) pid, which) < 0)
                return -ENOMEM;
        int r = read_full_file(path, 64 * 1024, &text, NULL);
        if (r < 0)
                return r;
        return idmap_parse(text, ret);
}

typedef struct CpJob {
        const char *id, *spec, *image;
        const char *src, *dst; /* the paths, without the container part */
        bool to_container;
        int pidfd; /* running: the init; else -EBADF */
        json_t *mounts;
        IdMap uid_map, gid_map;
} CpJob;

/* The forked child: everything of the host is opened first, then "/" becomes the container's root. */
static int cp_child(const CpJob *j) {
        _cleanup_(copy_path_done) CopyPath src = {};
        _cleanup_(copy_dest_done) CopyDest dst = {.dirfd = -EBADF};
        _cleanup_close_ int procfd = -EBADF, srcfd = -EBADF, rootfd = -EBADF;
        CopyContext c = {
                .archive = arg_archive,
                .to_container = j->to_container,
                .uid_map = j->uid_map,
                .gid_map = j->gid_map,
        };
        int r;

        procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (procfd < 0)
                return log_error_errno(errno, "Cannot open /proc: %m");
        c.procfd = procfd;
        r = copy_path_parse(j->src, &src);
        if (r < 0)
                return log_error_errno(r, "Invalid source path '%s'", j->src);
        if (j->to_container) {
                r = copy_open(AT_FDCWD, j->src, arg_follow || src.trailing_slash, &srcfd);
                if (r < 0)
                        return log_error_errno(r, "Could not find the file %s on the host: %m", j->src);
        } else {
                r = copy_dest_resolve(AT_FDCWD, j->dst, &dst);
                if (r == -ENOENT)
                        return log_error_errno(r, "The destination directory of '%s' does not exist",
                                               j->dst);
                if (r < 0)
                        return log_error_errno(r, "Invalid destination '%s': %m", j->dst);
        }

        r = j->pidfd >= 0 ? cp_enter_running(j->pidfd, j->spec)
                          : cp_enter_stopped(j->id, j->image, j->mounts, j->spec);
        if (r < 0)
                return r;
        rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return log_error_errno(errno, "Cannot open the root of '%s': %m", j->spec);

        if (j->to_container) {
                r = copy_dest_resolve(rootfd, j->dst, &dst);
                if (r == -ENOENT)
                        return log_error_errno(r, "Could not find the file %s in container %s", j->dst,
                                               j->spec);
                if (r < 0)
                        return log_error_errno(r, "Invalid destination %s in container %s: %m", j->dst,
                                               j->spec);
                /* without -a, what comes in belongs to the container's root */
                c.uid = c.uid_map.n ? 65534 : 0;
                c.gid = c.gid_map.n ? 65534 : 0;
                for (unsigned i = 0; i < c.uid_map.n; i++)
                        if (c.uid_map.r[i].inside == 0)
                                c.uid = c.uid_map.r[i].outside;
                for (unsigned i = 0; i < c.gid_map.n; i++)
                        if (c.gid_map.r[i].inside == 0)
                                c.gid = c.gid_map.r[i].outside;
        } else {
                r = copy_open(rootfd, j->src, arg_follow || src.trailing_slash, &srcfd);
                if (r == -ENOENT)
                        return log_error_errno(r, "Could not find the file %s in container %s", j->src,
                                               j->spec);
                if (r < 0)
                        return log_error_errno(r, "Cannot open %s in container %s: %m", j->src, j->spec);
                /* without -a, what comes out belongs to who asked for it */
                c.uid = getuid();
                c.gid = getgid();
        }
        r = copy_place(&c, srcfd, &src, j->src, &dst, j->dst);
        if (r < 0)
                return r;
        if (c.n_skipped > 0)
                log_debug("%lu special files were skipped", c.n_skipped);
        return 0;
}

static int cp_run(CpJob *j) {
        pid_t pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "fork() failed: %m");
        if (pid == 0)
                _exit(cp_child(j) < 0 ? 1 : 0);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "waitpid() failed: %m");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFSIGNALED(status))
                log_error("The copy was killed by signal %d", WTERMSIG(status));
        return -EIO; /* the child said why */
}

int verb_cp(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {
                {"archive", no_argument, NULL, 'a'},
                {"follow-link", no_argument, NULL, 'L'},
                {},
        };
        _cleanup_free_ char *src_container = NULL, *dst_container = NULL, *id = NULL;
        _cleanup_close_ int pidfd = -EBADF;
        CpJob j = {.pidfd = -EBADF};
        const char *src, *dst;
        json_t *rec = NULL;
        int r;

        arg_archive = arg_follow = false;
        r = verb_parse_options(argc, argv, CP_HELP, extra, "aL", handle_option);
        if (r <= 0)
                return r < 0 ? EXIT_BERTH_FAILED : 0;
        if (argc - optind != 2)
                return cli_usage_error("Expected CONTAINER:SRC DEST or SRC CONTAINER:DEST"),
                       EXIT_BERTH_FAILED;
        if (streq(argv[optind], "-") || streq(argv[optind + 1], "-"))
                return log_error_errno(-EOPNOTSUPP,
                                       "Copying a tar stream from stdin or to stdout ('-') is not "
                                       "supported"),
                       EXIT_BERTH_FAILED;
        if (split_arg(argv[optind], &src_container, &src) < 0 ||
            split_arg(argv[optind + 1], &dst_container, &dst) < 0)
                return log_oom(), EXIT_BERTH_FAILED;
        if (src_container && dst_container)
                return log_error_errno(-EINVAL, "Copying between containers is not supported"),
                       EXIT_BERTH_FAILED;
        if (!src_container && !dst_container)
                return log_error_errno(-EINVAL, "One of SRC and DEST must be CONTAINER:PATH"),
                       EXIT_BERTH_FAILED;
        if (isempty(src) || isempty(dst))
                return log_error_errno(-EINVAL, "Empty path in '%s'",
                                       isempty(src) ? argv[optind] : argv[optind + 1]),
                       EXIT_BERTH_FAILED;
        j.to_container = !!dst_container;
        j.spec = src_container ?: dst_container;
        j.src = src;
        j.dst = dst;

        r = lookup_container(j.spec, &id, &rec);
        if (r < 0)
                return EXIT_BERTH_FAILED;
        j.id = id;
        j.image = record_get_string(rec, "Image");
        j.mounts = json_object_get(rec, "Mounts");
        pid_t init = (pid_t) record_get_int(rec, "State.Pid");
        if (init > 0) {
                /* the pidfd pins the process; the start time checked after it was opened says it is the init
                 * and not a process that took its pid since */
                pidfd = (int) syscall(SYS_pidfd_open, init, 0);
                if (pidfd >= 0 && !record_init_alive(rec))
                        pidfd = safe_close(pidfd);
        }
        j.pidfd = pidfd;
        if (pidfd >= 0) {
                struct stat a, b;
                _cleanup_free_ char *ns = NULL;
                if (asprintf(&ns, "/proc/%d/ns/user", (int) init) < 0) {
                        json_decref(rec);
                        return log_oom(), EXIT_BERTH_FAILED;
                }
                /* a runtime that gave the container a user namespace: owners go through its maps */
                if (stat(ns, &a) >= 0 && stat("/proc/self/ns/user", &b) >= 0 && a.st_ino != b.st_ino &&
                    (read_idmap(init, "uid_map", &j.uid_map) < 0 ||
                     read_idmap(init, "gid_map", &j.gid_map) < 0)) {
                        json_decref(rec);
                        log_error("Cannot read the user namespace maps of '%s'", j.spec);
                        return EXIT_BERTH_FAILED;
                }
        } else if (!j.image) {
                json_decref(rec);
                log_error("The record of '%s' names no image", j.spec);
                return EXIT_BERTH_FAILED;
        }
        r = cp_run(&j);
        json_decref(rec);
        return r < 0 ? EXIT_BERTH_FAILED : 0;
}
