/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef uint64_t usec_t;
#define USEC_PER_SEC 1000000ULL
#define USEC_PER_MSEC 1000ULL
#define USEC_INFINITY UINT64_MAX

static inline usec_t usec_add(usec_t a, usec_t b) {
        return a > USEC_INFINITY - b ? USEC_INFINITY : a + b;
}

usec_t now_usec(int clock);
/* RFC 3339 with nanoseconds in UTC, as podman prints: 2026-12-06T11:31:23.123456789Z */
int format_rfc3339(usec_t t, char *buf, size_t size);
int parse_rfc3339(const char *s, usec_t *ret);
/* "5 seconds ago", "About a minute ago", "3 hours ago", as docker prints. */
void format_ago(usec_t then, usec_t now, char *buf, size_t size);
/* "10s", "1m30s", "500ms" (Go durations) and plain seconds. */
int parse_duration(const char *s, usec_t *ret);
/* "512m", "1g", "100k", "1024" (bytes; binary units, as docker). */
int parse_size(const char *s, uint64_t *ret);
/* "12.3MB" style (decimal, as docker). */
void format_size(uint64_t bytes, char *buf, size_t size);

/* The process' start time (field 22 of /proc/PID/stat); with it a pid can be told from a recycled one. */
int pid_start_time(pid_t pid, uint64_t *ret);
/* Alive, not a zombie, and (if start_time != 0) the same process that started then. */
bool pid_is_alive(pid_t pid, uint64_t start_time);
/* /proc/sys/kernel/random/boot_id */
int boot_id(char ret[37]);

/* A signal by name ("SIGTERM", "term", "RTMIN+3") or number, as docker's --stop-signal and kill -s take it;
 * -EINVAL for anything else. */
int parse_signal(const char *s);

/* A random 64-hex-digit ID, as docker's container IDs. */
int random_id(char ret[65]);
int safe_atou64(const char *s, uint64_t *ret);
int safe_atoi(const char *s, int *ret);
