/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor's loop: the container's exit, forwarded signals, its output to the journal or the terminal. */
#include <assert.h>
#include <endian.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "attach.h"
#include "bus.h"
#include "container.h"
#include "fileio.h"
#include "health.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "monitor-internal.h"
#include "monitor.h"
#include "net.h"
#include "notify.h"
#include "paths.h"
#include "record.h"
#include "rootfs.h"
#include "safeio.h"
#include "scope.h"
#include "spawn.h"
#include "tty.h"
#include "util.h"

#define LINE_MAX_BYTES (16U * 1024U)

/* --- output to the journal ---------------------------------------------------------------------------- */

/* One entry in journald's native protocol, sent by hand: sd_journal_sendv() would fault in ~400 KiB of
 * libsystemd's pages, which a monitor relaying a chatty container keeps resident (the monitor's memory is
 * its whole cost). Fields are "KEY=VALUE" without newlines; the message goes in the binary form (KEY\n<le64
 * size><bytes>\n), so any byte may be in it. Falls back to sd_journal_sendv() if the datagram cannot be
 * sent. */
static void journal_send(char *const *fields, size_t n_fields, const char *msg, size_t len) {
        static int fd = -EBADF;
        static const struct sockaddr_un sa = {.sun_family = AF_UNIX,
                                              .sun_path = "/run/systemd/journal/socket"};
        struct iovec iov[2 * 16 + 4];
        size_t n = 0;
        uint64_t le = htole64((uint64_t) len);

        assert(n_fields <= 16);
        for (size_t i = 0; i < n_fields; i++) {
                iov[n++] = (struct iovec){fields[i], strlen(fields[i])};
                iov[n++] = (struct iovec){(char *) "\n", 1};
        }
        iov[n++] = (struct iovec){(char *) "MESSAGE\n", 8};
        iov[n++] = (struct iovec){&le, sizeof le};
        iov[n++] = (struct iovec){(char *) msg, len};
        iov[n++] = (struct iovec){(char *) "\n", 1};
        if (fd < 0)
                fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct msghdr mh = {
                .msg_name = (void *) &sa, .msg_namelen = sizeof sa, .msg_iov = iov, .msg_iovlen = n};
        if (fd >= 0 && sendmsg(fd, &mh, MSG_NOSIGNAL) >= 0)
                return;
        /* too big for one datagram, or no socket: libsystemd knows the other ways (a memfd) */
        _cleanup_free_ char *f_msg = NULL;
        if (asprintf(&f_msg, "MESSAGE=%.*s", (int) len, msg) < 0)
                return;
        struct iovec v[16 + 1];
        for (size_t i = 0; i < n_fields; i++)
                v[i] = (struct iovec){fields[i], strlen(fields[i])};
        v[n_fields] = (struct iovec){f_msg, strlen(f_msg)};
        (void) sd_journal_sendv(v, (int) n_fields + 1);
}

static void emit_line(Monitor *m, const char *line, size_t len, bool is_err) {
        /* a terminal ends lines with \r\n */
        if (m->tty && len > 0 && line[len - 1] == '\r')
                len--;
        if (m->log_fd >= 0) {
                char ts[64];
                (void) format_rfc3339(now_usec(CLOCK_REALTIME), ts, sizeof ts);
                dprintf(m->log_fd, "%s %s %.*s\n", ts, is_err ? "stderr" : "stdout", (int) len, line);
                return;
        }
        char f_id[32], f_full[96], f_tag[32];
        _cleanup_free_ char *f_name = NULL, *f_image = NULL, *f_ident = NULL;
        snprintf(f_id, sizeof f_id, "CONTAINER_ID=%s", m->short_id);
        snprintf(f_full, sizeof f_full, "CONTAINER_ID_FULL=%s", m->id);
        snprintf(f_tag, sizeof f_tag, "CONTAINER_TAG=%s", m->short_id);
        if (asprintf(&f_name, "CONTAINER_NAME=%s", m->name) < 0 ||
            asprintf(&f_image, "IMAGE_NAME=%s", m->image_name) < 0 ||
            asprintf(&f_ident, "SYSLOG_IDENTIFIER=%s", m->name) < 0)
                return;
        char *fields[] = {(char *) (is_err ? "PRIORITY=3" : "PRIORITY=6"),
                          f_id,
                          f_full,
                          f_name,
                          f_tag,
                          f_image,
                          f_ident};
        journal_send(fields, ELEMENTSOF(fields), line, len);
}

typedef struct LineBuf {
        char buf[LINE_MAX_BYTES];
        size_t n;
} LineBuf;

/* Returns false at EOF or error. */
static bool relay(Monitor *m, int fd, LineBuf *b, bool is_err) {
        ssize_t k = read(fd, b->buf + b->n, sizeof b->buf - b->n);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (k <= 0) {
                if (b->n > 0)
                        emit_line(m, b->buf, b->n, is_err);
                b->n = 0;
                return false;
        }
        attach_broadcast(is_err ? ATTACH_STDERR : ATTACH_STDOUT, b->buf + b->n, (size_t) k);
        b->n += (size_t) k;
        char *start = b->buf, *nl;
        while ((nl = memchr(start, '\n', b->n - (size_t) (start - b->buf)))) {
                emit_line(m, start, (size_t) (nl - start), is_err);
                start = nl + 1;
        }
        size_t rest = b->n - (size_t) (start - b->buf);
        if (rest == sizeof b->buf) { /* a line longer than the buffer: split it */
                emit_line(m, b->buf, rest, is_err);
                rest = 0;
        }
        memmove(b->buf, start, rest);
        b->n = rest;
        return true;
}

/* --- supervision ----------------------------------------------------------------------------------------
 */

static void pump(int from, int to, int *from_slot) {
        char buf[8192];
        ssize_t k = read(from, buf, sizeof buf);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (k <= 0 || write_all(to, buf, (size_t) k) < 0)
                *from_slot = safe_close(*from_slot);
}

/* Drop our mappings of the program's and libraries' pages touched while starting (they stay in the page
 * cache and fault back in when used again): the monitor then costs little more than its own heap. Only
 * read-only file mappings without a private copy of any page (smaps "Anonymous: 0"): code, rodata, headers.
 * Relocated (RELRO) or written pages have private copies and are never dropped, so nothing is lost. */
static void drop_file_pages(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/smaps", "re");
        char line[512];
        unsigned long a = 0, b = 0;
        bool candidate = false;
        if (!f)
                return;
        while (fgets(line, sizeof line, f)) {
                unsigned long x, y;
                char perms[5];
                unsigned long kb;
                if (sscanf(line, "%lx-%lx %4s", &x, &y, perms) == 3) {
                        a = x;
                        b = y;
                        candidate = (streq(perms, "r-xp") || streq(perms, "r--p")) && strchr(line, '/');
                } else if (candidate && sscanf(line, "Anonymous: %lu kB", &kb) == 1) {
                        if (kb == 0)
                                (void) madvise((void *) a, b - a, MADV_DONTNEED);
                        candidate = false;
                }
        }
}

int monitor_supervise(Monitor *m, bool forward_signals) {
        static LineBuf out, err, term;
        int in_fd = m->tty && m->interactive && !m->detached ? STDIN_FILENO : -EBADF;
        sigset_t mask;
        int status = -1, exit_code = EXIT_BERTH_FAILED;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        if (forward_signals) {
                int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
                for (size_t i = 0; i < ELEMENTSOF(fwd); i++)
                        sigaddset(&mask, fwd[i]);
        }
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                return log_error_errno(errno, "signalfd() failed: %m");

        for (;;) {
                struct pollfd p[6 + ATTACH_POLLFDS] = {
                        {.fd = sfd, .events = POLLIN},         {.fd = m->out_pipe, .events = POLLIN},
                        {.fd = m->err_pipe, .events = POLLIN}, {.fd = m->master, .events = POLLIN},
                        {.fd = in_fd, .events = POLLIN},       {.fd = m->notify_fd, .events = POLLIN},
                };
                attach_pollfds(p + 6);
                if (status >= 0 && m->out_pipe < 0 && m->err_pipe < 0 && m->master < 0)
                        break;
                /* After the exit, drain what is buffered in the pipes but do not wait for other writers. */
                bool wait_healthy = status < 0 && !m->ready_sent && m->health &&
                                    streq_ptr(m->sdnotify, "healthy") && getenv("NOTIFY_SOCKET");
                if (m->trim && status < 0) {
                        /* everything is set up: what is resident now is what waiting needs */
                        (void) malloc_trim(0);
                        drop_file_pages();
                        m->trim = false;
                }
                int n = poll(p, ELEMENTSOF(p), status >= 0 ? 0 : wait_healthy ? 250 : -1);
                if (wait_healthy) {
                        json_t *rec = NULL;
                        if (container_load(m->id, &rec, NULL) >= 0 &&
                            streq_ptr(record_get_string(rec, "State.Health.Status"), "healthy")) {
                                notify_ready(getpid());
                                m->ready_sent = true;
                        }
                        json_decref(rec);
                }
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "poll() failed: %m");
                }
                if (n == 0 && status >= 0)
                        break;
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof si) == sizeof si) {
                                if (si.ssi_signo == SIGWINCH && m->master >= 0) {
                                        tty_copy_size(STDIN_FILENO, m->master);
                                        continue;
                                }
                                if (si.ssi_signo != SIGCHLD) {
                                        if (status < 0)
                                                (void) kill(m->pid, (int) si.ssi_signo);
                                        continue;
                                }
                        }
                        for (;;) {
                                int st;
                                pid_t w = waitpid(-1, &st, WNOHANG);
                                if (w <= 0)
                                        break;
                                if (w == m->pid) {
                                        status = st;
                                        exit_code = WIFEXITED(st)     ? WEXITSTATUS(st)
                                                    : WIFSIGNALED(st) ? 128 + WTERMSIG(st)
                                                                      : EXIT_BERTH_FAILED;
                                }
                        }
                }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR) && !relay(m, m->out_pipe, &out, false))
                        m->out_pipe = safe_close(m->out_pipe);
                if (p[2].revents & (POLLIN | POLLHUP | POLLERR) && !relay(m, m->err_pipe, &err, true))
                        m->err_pipe = safe_close(m->err_pipe);
                if (p[3].revents & (POLLIN | POLLHUP | POLLERR)) {
                        if (m->detached) {
                                if (!relay(m, m->master, &term, false))
                                        m->master = safe_close(m->master);
                        } else
                                pump(m->master, STDOUT_FILENO, &m->master);
                }
                if (p[5].revents & POLLIN)
                        (void) notify_proxy_relay(m->notify_fd, getpid());
                attach_handle(m, p + 6);
                if (p[4].revents & (POLLIN | POLLHUP | POLLERR) && m->master >= 0) {
                        pump(in_fd, m->master, &in_fd);
                        if (in_fd < 0)
                                (void) write(m->master, "\x04",
                                             1); /* EOF on our stdin: ^D to the terminal */
                }
        }
        if (term.n > 0)
                emit_line(m, term.buf, term.n, false);
        if (out.n > 0)
                emit_line(m, out.buf, out.n, false);
        if (err.n > 0)
                emit_line(m, err.buf, err.n, true);
        return exit_code;
}
