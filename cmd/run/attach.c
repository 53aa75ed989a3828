/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* attach: the monitor's side (a SOCK_SEQPACKET socket in the container's runroot directory that fans the
 * output out to the clients and takes input from them) and the client verb. */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "attach.h"
#include "cli.h"
#include "container.h"
#include "fileio.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "main-func.h"
#include "monitor-internal.h"
#include "monitor.h"
#include "paths.h"
#include "record.h"
#include "tty.h"
#include "util.h"

/* --- the monitor's side: one Monitor per process, so the state is static ------------------------------ */

static int listen_fd = -EBADF, in_pipe = -EBADF;
static int clients[ATTACH_CLIENTS_MAX] = {[0 ... ATTACH_CLIENTS_MAX - 1] = -EBADF};
static bool stdin_open;

/* sun_path is 108 bytes: name the directory through /proc/self/fd, as the console socket does */
static int socket_address(int dfd, struct sockaddr_un *sa) {
        *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
        snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/attach.sock", dfd);
        return 0;
}

int attach_stdin(json_t *rec) {
        json_t *cfg = json_object_get(rec, "Config");
        int p[2];

        stdin_open = json_is_true(json_object_get(cfg, "OpenStdin"));
        /* with -t the input goes to the terminal's master instead */
        if (!stdin_open || json_is_true(json_object_get(cfg, "Tty")) || pipe2(p, O_CLOEXEC) < 0) {
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                return fd < 0 ? -errno : fd;
        }
        (void) fcntl(p[1], F_SETFL, O_NONBLOCK); /* a container that does not read never blocks us */
        in_pipe = p[1];
        return p[0];
}

void attach_listen(const char *id) {
        _cleanup_free_ char *dir = container_run_path(id, NULL);
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        struct sockaddr_un sa;

        if (!dir)
                return;
        (void) mkdir_p(dir, 0700);
        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return (void) log_warning_errno(errno, "Cannot open '%s', no attach: %m", dir);
        (void) unlinkat(dfd, "attach.sock", 0);
        socket_address(dfd, &sa);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 4) < 0)
                return (void) log_warning_errno(errno, "Cannot create the attach socket, no attach: %m");
        listen_fd = TAKE_FD(fd);
}

void attach_pollfds(struct pollfd p[static ATTACH_POLLFDS]) {
        p[0] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
        for (size_t i = 0; i < ATTACH_CLIENTS_MAX; i++)
                p[1 + i] = (struct pollfd){.fd = clients[i], .events = POLLIN};
}

static void client_input(Monitor *m, size_t i) {
        uint8_t buf[1 + ATTACH_INPUT_MAX];
        ssize_t n = recv(clients[i], buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                clients[i] = safe_close(clients[i]);
                return;
        }
        if (buf[0] == ATTACH_STDIN && stdin_open) {
                int to = m->master >= 0 ? m->master : in_pipe;
                /* input a container does not read is dropped, never buffered here */
                if (to >= 0 && write(to, buf + 1, (size_t) n - 1) < 0)
                        log_debug_errno(errno, "Dropped attach input: %m");
        } else if (buf[0] == ATTACH_RESIZE && n == 5 && m->master >= 0) {
                uint16_t rc[2];
                memcpy(rc, buf + 1, sizeof rc);
                struct winsize ws = {.ws_row = rc[0], .ws_col = rc[1]};
                (void) ioctl(m->master, TIOCSWINSZ, &ws);
        }
}

void attach_handle(Monitor *m, const struct pollfd p[static ATTACH_POLLFDS]) {
        if (p[0].fd >= 0 && (p[0].revents & POLLIN)) {
                int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                size_t i = 0;
                while (fd >= 0 && i < ATTACH_CLIENTS_MAX && clients[i] >= 0)
                        i++;
                if (fd >= 0 && i < ATTACH_CLIENTS_MAX)
                        clients[i] = fd;
                else
                        safe_close(fd);
        }
        for (size_t i = 0; i < ATTACH_CLIENTS_MAX; i++)
                if (p[1 + i].fd >= 0 && p[1 + i].fd == clients[i] &&
                    (p[1 + i].revents & (POLLIN | POLLHUP | POLLERR)))
                        client_input(m, i);
}

void attach_broadcast(uint8_t tag, const void *data, size_t len) {
        struct iovec iov[2] = {{&tag, 1}, {(void *) data, len}};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
        for (size_t i = 0; i < ATTACH_CLIENTS_MAX; i++)
                if (clients[i] >= 0 && sendmsg(clients[i], &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                        clients[i] = safe_close(clients[i]); /* too slow or gone: no unbounded queue here */
}

void attach_finish(const char *id, int exit_code) {
        char s[16];
        int n = snprintf(s, sizeof s, "%d", exit_code);
        if (listen_fd < 0)
                return;
        attach_broadcast(ATTACH_EXIT, s, (size_t) n);
        for (size_t i = 0; i < ATTACH_CLIENTS_MAX; i++)
                clients[i] = safe_close(clients[i]);
        listen_fd = safe_close(listen_fd);
        in_pipe = safe_close(in_pipe);
        _cleanup_free_ char *p = container_run_path(id, "attach.sock");
        if (p)
                (void) unlink(p);
}

/* --- the client ---------------------------------------------------------------------------------------- */

static int attach_connect(const char *id, int *ret) {
        _cleanup_free_ char *dir = container_run_path(id, NULL);
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        struct sockaddr_un sa;

        if (!dir)
                return -ENOMEM;
        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        socket_address(dfd, &sa);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        *ret = TAKE_FD(fd);
        return 0;
}

static void send_packet(int fd, uint8_t tag, const void *data, size_t len) {
        struct iovec iov[2] = {{&tag, 1}, {(void *) data, len}};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
        (void) sendmsg(fd, &mh, MSG_NOSIGNAL);
}

static void send_size(int fd) {
        struct winsize ws;
        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
                return;
        uint16_t rc[2] = {ws.ws_row, ws.ws_col};
        send_packet(fd, ATTACH_RESIZE, rc, sizeof rc);
}

static bool arg_no_stdin = false, arg_sig_proxy = true;

/* Relay until the exit packet (returns the exit code), the monitor's hangup (-ECONNRESET) or ctrl-p ctrl-q
 * on a terminal (-EINTR). */
static int attach_loop(int sock, bool tty, bool with_stdin, pid_t pid, uint64_t pid_start) {
        static uint8_t buf[64 * 1024];
        sigset_t mask;
        bool ctrl_p = false;
        int in_fd = with_stdin ? STDIN_FILENO : -EBADF;

        sigemptyset(&mask);
        if (tty)
                sigaddset(&mask, SIGWINCH);
        if (arg_sig_proxy && !tty) {
                int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
                for (size_t i = 0; i < ELEMENTSOF(fwd); i++)
                        sigaddset(&mask, fwd[i]);
        }
        sigprocmask(SIG_BLOCK, &mask, NULL);
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                return -errno;
        if (tty && with_stdin)
                send_size(sock);
        for (;;) {
                struct pollfd p[3] = {{.fd = sock, .events = POLLIN},
                                      {.fd = in_fd, .events = POLLIN},
                                      {.fd = sfd, .events = POLLIN}};
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[2].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof si) == sizeof si) {
                                if (si.ssi_signo == SIGWINCH)
                                        send_size(sock);
                                else if (pid_is_alive(pid, pid_start))
                                        (void) kill(pid, (int) si.ssi_signo);
                        }
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t n = recv(sock, buf, sizeof buf, 0);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                return -ECONNRESET;
                        if (buf[0] == ATTACH_STDOUT || buf[0] == ATTACH_STDERR)
                                (void) write_all(buf[0] == ATTACH_STDOUT ? STDOUT_FILENO : STDERR_FILENO,
                                                 buf + 1, (size_t) n - 1);
                        else if (buf[0] == ATTACH_EXIT) {
                                int code;
                                buf[MIN((size_t) n, sizeof buf - 1)] = 0;
                                return safe_atoi((char *) buf + 1, &code) < 0 ? EXIT_BERTH_FAILED : code;
                        }
                }
                if (in_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                        uint8_t in[ATTACH_INPUT_MAX], out[ATTACH_INPUT_MAX + 1];
                        size_t k = 0;
                        ssize_t n = read(in_fd, in, sizeof in);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                in_fd = -EBADF; /* the container's stdin stays open for other clients */
                                continue;
                        }
                        for (ssize_t i = 0; i < n; i++) {
                                if (tty && ctrl_p && in[i] == 0x11)
                                        return -EINTR;
                                if (ctrl_p)
                                        out[k++] = 0x10;
                                ctrl_p = tty && in[i] == 0x10;
                                if (!ctrl_p)
                                        out[k++] = in[i];
                        }
                        for (size_t off = 0; off < k; off += ATTACH_INPUT_MAX)
                                send_packet(sock, ATTACH_STDIN, out + off, MIN(k - off, ATTACH_INPUT_MAX));
                }
        }
}

static int handle_attach(int c, const char *arg) {
        if (c == 'N')
                arg_no_stdin = true;
        else if (c == 'S') {
                int b = arg ? parse_boolean(arg) : 1;
                if (b < 0)
                        return cli_usage_error("Invalid --sig-proxy '%s'", arg);
                arg_sig_proxy = b;
        } else
                return cli_usage_error("Unknown option");
        return 0;
}

int verb_attach(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {
                {"no-stdin", no_argument, NULL, 'N'}, {"sig-proxy", optional_argument, NULL, 'S'}, {}};
        _cleanup_free_ char *id = NULL;
        _cleanup_close_ int sock = -EBADF;
        json_t *rec = NULL;
        int r;

        r = verb_parse_options(
                argc, argv,
                "Usage: berth-run attach [--no-stdin] [--sig-proxy=false] CONTAINER\n\n"
                "Follow a detached container's output and, if it was started with -i, feed it\n"
                "stdin; exit with its status. Detach from a -t container with ctrl-p ctrl-q.\n\n"
                "     --no-stdin          Do not attach stdin\n"
                "     --sig-proxy=BOOL    Forward signals to the container (default true;\n"
                "                         not with -t, where ctrl-c is input)\n\n"
                "See berth-run(1).\n",
                extra, NULL, handle_attach);
        if (r <= 0)
                return r;
        if (argc - optind != 1)
                return cli_usage_error("Expected one CONTAINER");
        const char *spec = argv[optind];
        if (lookup_container(spec, &id, &rec) < 0)
                return EXIT_BERTH_FAILED;
        bool alive = record_init_alive(rec);
        bool tty = json_is_true(json_object_get(json_object_get(rec, "Config"), "Tty"));
        bool open_stdin = json_is_true(json_object_get(json_object_get(rec, "Config"), "OpenStdin"));
        pid_t pid = (pid_t) record_get_int(rec, "State.Pid");
        uint64_t pid_start = (uint64_t) record_get_int(rec, "State.InitStartTime");
        json_decref(rec);
        if (!alive)
                return log_error_errno(-ESRCH, "Container '%s' is not running", spec), EXIT_BERTH_FAILED;
        r = attach_connect(id, &sock);
        if (r < 0)
                return log_error_errno(
                               r, "Cannot attach to '%s' (only detached containers can be attached to): %m",
                               spec),
                       EXIT_BERTH_FAILED;

        bool with_stdin = open_stdin && !arg_no_stdin;
        struct termios saved;
        bool raw = tty && with_stdin && isatty(STDIN_FILENO) && tty_raw(STDIN_FILENO, &saved) >= 0;
        r = attach_loop(sock, tty, with_stdin, pid, pid_start);
        if (raw)
                tty_restore(STDIN_FILENO, &saved);
        if (r == -EINTR) {
                if (raw)
                        fputs("\n", stderr);
                return 0;
        }
        if (r == -ECONNRESET) {
                /* the monitor went away without an exit packet (killed): what the record says */
                json_t *after = NULL;
                if (container_load(id, &after, NULL) < 0)
                        return EXIT_BERTH_FAILED;
                r = record_init_alive(after) ? EXIT_BERTH_FAILED
                                             : (int) record_get_int(after, "State.ExitCode");
                json_decref(after);
                return r;
        }
        if (r < 0)
                return log_error_errno(r, "Attach to '%s' failed: %m", spec), EXIT_BERTH_FAILED;
        return r;
}
