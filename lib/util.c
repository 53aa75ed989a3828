/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "fileio.h"
#include "macro.h"
#include "util.h"

usec_t now_usec(int clock) {
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

int format_rfc3339(usec_t t, char *buf, size_t size) {
        time_t sec = (time_t) (t / USEC_PER_SEC);
        struct tm tm;
        char b[64];
        if (!gmtime_r(&sec, &tm))
                return -EINVAL;
        strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%06lluZ", b, (unsigned long long) (t % USEC_PER_SEC));
        return 0;
}

int parse_rfc3339(const char *s, usec_t *ret) {
        struct tm tm = {};
        const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        usec_t frac = 0;
        if (!p)
                return -EINVAL;
        if (*p == '.') {
                usec_t scale = 100000;
                for (p++; isdigit((unsigned char) *p); p++) {
                        frac += (usec_t) (*p - '0') * scale;
                        scale /= 10;
                }
        }
        time_t sec = timegm(&tm);
        if (*p == '+' || *p == '-') {
                int h, m;
                if (sscanf(p + 1, "%d:%d", &h, &m) != 2)
                        return -EINVAL;
                sec += (*p == '+' ? -1 : 1) * (h * 3600 + m * 60);
        } else if (*p != 'Z' && *p != 0)
                return -EINVAL;
        *ret = (usec_t) sec * USEC_PER_SEC + frac;
        return 0;
}

void format_ago(usec_t then, usec_t now, char *buf, size_t size) {
        uint64_t s = now > then ? (now - then) / USEC_PER_SEC : 0;
        if (s < 1)
                snprintf(buf, size, "Less than a second ago");
        else if (s < 60)
                snprintf(buf, size, "%llu second%s ago", (unsigned long long) s, s == 1 ? "" : "s");
        else if (s < 120)
                snprintf(buf, size, "About a minute ago");
        else if (s < 3600)
                snprintf(buf, size, "%llu minutes ago", (unsigned long long) s / 60);
        else if (s < 7200)
                snprintf(buf, size, "About an hour ago");
        else if (s < 172800)
                snprintf(buf, size, "%llu hours ago", (unsigned long long) s / 3600);
        else
                snprintf(buf, size, "%llu days ago", (unsigned long long) s / 86400);
}

int parse_duration(const char *s, usec_t *ret) {
        usec_t total = 0;
        const char *p = s;
        if (isempty(s))
                return -EINVAL;
        while (*p) {
                char *end;
                errno = 0;
                double v = strtod(p, &end);
                if (errno || end == p || v < 0)
                        return -EINVAL;
                p = end;
                usec_t unit;
                if (startswith(p, "ms")) {
                        unit = USEC_PER_MSEC;
                        p += 2;
                } else if (startswith(p, "us")) {
                        unit = 1;
                        p += 2;
                } else if (*p == 'h') {
                        unit = 3600 * USEC_PER_SEC;
                        p++;
                } else if (*p == 'm') {
                        unit = 60 * USEC_PER_SEC;
                        p++;
                } else if (*p == 's' || *p == 0) {
                        unit = USEC_PER_SEC;
                        if (*p)
                                p++;
                } else
                        return -EINVAL;
                total += (usec_t) (v * (double) unit);
        }
        *ret = total;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        char *end;
        if (isempty(s) || *s == '-')
                return -EINVAL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || v < 0)
                return -EINVAL;
        uint64_t mult = 1;
        switch (tolower((unsigned char) *end)) {
        case 0:
        case 'b':
                break;
        case 'k':
                mult = 1ULL << 10;
                break;
        case 'm':
                mult = 1ULL << 20;
                break;
        case 'g':
                mult = 1ULL << 30;
                break;
        case 't':
                mult = 1ULL << 40;
                break;
        default:
                return -EINVAL;
        }
        if (*end) {
                end++;
                if (tolower((unsigned char) *end) == 'i')
                        end++;
                if (tolower((unsigned char) *end) == 'b')
                        end++;
                if (*end)
                        return -EINVAL;
        }
        if (v * (double) mult > 1.8e19)
                return -ERANGE;
        *ret = (uint64_t) (v * (double) mult);
        return 0;
}

void format_size(uint64_t bytes, char *buf, size_t size) {
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
        double v = (double) bytes;
        size_t u = 0;
        while (v >= 1000 && u + 1 < ELEMENTSOF(units)) {
                v /= 1000;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%llu%s", (unsigned long long) bytes, units[0]);
        else
                snprintf(buf, size, "%.3g%s", v, units[u]);
}

int pid_start_time(pid_t pid, uint64_t *ret) {
        char path[64];
        _cleanup_free_ char *buf = NULL;
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        int r = read_full_file(path, 4096, &buf, NULL);
        if (r < 0)
                return r;
        /* comm may contain spaces and parentheses: skip past the last ')' */
        char *p = strrchr(buf, ')');
        if (!p)
                return -EBADMSG;
        p += 2;
        char state = *p;
        for (int field = 3; field < 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EBADMSG;
                p++;
        }
        if (state == 'Z' || state == 'X')
                return -ESRCH;
        return safe_atou64(strndupa(p, strcspn(p, " ")), ret);
}

bool pid_is_alive(pid_t pid, uint64_t start_time) {
        uint64_t st;
        if (pid <= 0 || pid_start_time(pid, &st) < 0)
                return false;
        return start_time == 0 || st == start_time;
}

int boot_id(char ret[37]) {
        _cleanup_free_ char *buf = NULL;
        int r = read_full_file("/proc/sys/kernel/random/boot_id", 128, &buf, NULL);
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = 0;
        if (strlen(buf) != 36)
                return -EBADMSG;
        memcpy(ret, buf, 37);
        return 0;
}

int random_id(char ret[65]) {
        unsigned char b[32];
        static const char hex[] = "0123456789abcdef";
        if (getrandom(b, sizeof b, 0) != sizeof b)
                return -EIO;
        for (size_t i = 0; i < 32; i++) {
                ret[2 * i] = hex[b[i] >> 4];
                ret[2 * i + 1] = hex[b[i] & 15];
        }
        ret[64] = 0;
        return 0;
}

int safe_atou64(const char *s, uint64_t *ret) {
        char *end;
        if (isempty(s) || *s == '-' || isspace((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno)
                return -errno;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atoi(const char *s, int *ret) {
        char *end;
        if (isempty(s) || isspace((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno)
                return -errno;
        if (*end || v < INT32_MIN || v > INT32_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int parse_signal(const char *s) {
        int n;
        if (isempty(s))
                return -EINVAL;
        if (safe_atoi(s, &n) >= 0)
                return n > 0 && n < _NSIG ? n : -EINVAL;
        const char *x = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        if (strncasecmp(x, "RTMIN+", 6) == 0 && safe_atoi(x + 6, &n) >= 0 && n >= 0 &&
            SIGRTMIN + n <= SIGRTMAX)
                return SIGRTMIN + n;
        if (strncasecmp(x, "RTMAX-", 6) == 0 && safe_atoi(x + 6, &n) >= 0 && n >= 0 &&
            SIGRTMAX - n >= SIGRTMIN)
                return SIGRTMAX - n;
        for (int sig = 1; sig < SIGRTMIN; sig++) {
                const char *a = sigabbrev_np(sig);
                if (a && strcasecmp(a, x) == 0)
                        return sig;
        }
        return -EINVAL;
}
