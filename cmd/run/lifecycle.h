/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>

int verb_run(int argc, char *argv[], void *userdata);
int verb_create(int argc, char *argv[], void *userdata);
int verb_start(int argc, char *argv[], void *userdata);
int verb_stop(int argc, char *argv[], void *userdata);
int verb_restart(int argc, char *argv[], void *userdata);
int verb_kill(int argc, char *argv[], void *userdata);
int verb_rm(int argc, char *argv[], void *userdata);
int verb_wait(int argc, char *argv[], void *userdata);
int verb_pause(int argc, char *argv[], void *userdata);
int verb_logs(int argc, char *argv[], void *userdata);
int verb_exec(int argc, char *argv[], void *userdata);
int verb_volume(int argc, char *argv[], void *userdata);
int verb_prune(int argc, char *argv[], void *userdata);
int verb_attach(int argc, char *argv[], void *userdata);
int verb_cp(int argc, char *argv[], void *userdata);

/* Remove container id (spec names it in messages): record, rootfs, name, and with volumes its anonymous
 * volumes. A running one is refused (-EBUSY) unless force, which stops it first. Returns 1 if it was gone
 * already. */
int container_remove(const char *id, const char *spec, bool force, bool volumes);
/* The IDs of the containers whose init and monitor are gone and that want() accepts; unreadable records are
 * left out. */
int containers_stopped(bool (*want)(json_t *rec, void *userdata), void *userdata, char ***ret_ids);

/* Resolve NAME|ID and load the record; logs "No such container" itself. */
int lookup_container(const char *spec, char **ret_id, json_t **ret_rec);
/* The container's init is alive (pid and start time from the record). */
bool record_init_alive(json_t *rec);
bool record_monitor_alive(json_t *rec);
/* Parse a verb's options: only the common ones plus those in extra (a getopt_long table ending in {});
 * usage is "VERB ARGS" for the generic --help, or a whole help text (it has a newline). handle (may be NULL)
 * gets each option of extra. Returns 1 to go on (optind at the first argument), 0 after --help/--version, or
 * < 0. */
int verb_parse_options(int argc, char *argv[], const char *usage, const struct option *extra,
                       const char *shortopts, int (*handle)(int c, const char *arg));
