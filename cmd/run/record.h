/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* Writing container records ($ROOT/containers/<id>/container.json, docs/design.md). Every change is a
 * read-modify-write under flock($ROOT/containers/<id>/lock) and lands with an atomic rename. */

/* Take the container's record lock (LOCK_EX); returns the fd that holds it. */
int record_lock(const char *id, int *ret_fd);
/* Write the whole record atomically (caller holds the lock or owns a record nobody else can see yet). */
int record_save(const char *id, json_t *rec);
/* Load, apply fn, save; all under the lock. */
typedef int (*record_update_t)(json_t *rec, void *userdata);
int record_update(const char *id, record_update_t fn, void *userdata);

/* Reserve $ROOT/names/<name> -> id with symlink(); -EEXIST when taken. */
int record_name_reserve(const char *name, const char *id);
/* Drop the name link, only if it still points at id. */
int record_name_release(const char *name, const char *id);

/* State transitions; times are now. */
int record_set_running(const char *id, pid_t pid, pid_t monitor_pid);
int record_set_exited(const char *id, int exit_code, const char *error);
int record_set_status(const char *id, const char *status);
/* stop, kill and rm end a container for good: its restart policy does not bring it back (docker's rule). */
int record_set_stop_requested(const char *id, bool b);

/* The string at a "A.B" path of a record, or NULL. */
const char *record_get_string(json_t *rec, const char *path);
json_int_t record_get_int(json_t *rec, const char *path);

/* Remove the record, its directory and its name. */
int record_remove(const char *id);

/* --log-level debug: how long each step of a run took (milliseconds since the program started). */
void phase(const char *what);
/* A name in names/ that points to id (the first found), or NULL. */
char *record_name_of(const char *id);
/* Remove every name that points to id; but keep (may be NULL). One pass over names/. */
int record_names_release_all(const char *id);
int record_names_release_others(const char *id, const char *keep);
