/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "macro.h"

typedef enum BusManager {
        BUS_MANAGER_AUTO, /* system manager when root and reachable, else the user manager */
        BUS_MANAGER_SYSTEM,
        BUS_MANAGER_USER,
} BusManager;

/* Connect straight to the manager's private socket (/run/systemd/private or
 * $XDG_RUNTIME_DIR/systemd/private); $BERTH_MANAGER=user|system overrides AUTO. -EHOSTDOWN when no manager
 * is reachable. */
int bus_connect_manager(BusManager which, sd_bus **ret, bool *ret_user);

typedef int (*bus_append_t)(sd_bus_message *m, void *userdata);

/* StartTransientUnit(name, mode, properties, aux) and wait for the job. append_props appends (sv) entries
 * inside the open a(sv) container; append_aux (may be NULL) appends (sa(sv)) entries for auxiliary units.
 * Returns 0 when the job result is "done", -EIO otherwise (result in *ret_result if given, caller frees). */
int bus_start_transient_unit(sd_bus *bus, const char *name, const char *mode, bus_append_t append_props,
                             bus_append_t append_aux, void *userdata, sd_bus_error *error,
                             char **ret_result);
/* The same, without waiting: the job is returned, to be waited for with bus_job_wait() (the bus must stay
 * unprocessed by others until then) and freed with bus_job_free(). */
typedef struct BusJob BusJob;
int bus_start_transient_unit_async(sd_bus *bus, const char *name, const char *mode,
                                   bus_append_t append_props, bus_append_t append_aux, void *userdata,
                                   sd_bus_error *error, BusJob **ret);
/* Wait for the job to finish: 0 when its result is "done", -EIO otherwise (result in *ret_result if given).
 */
int bus_job_wait(BusJob *j, char **ret_result);
BusJob *bus_job_free(BusJob *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(BusJob *, bus_job_free);
/* Append the ("ExecStart", a(sasb)) property that runs argv (argv[0] is the path) inside an open a(sv). */
int bus_append_exec_start(sd_bus_message *m, char *const argv[]);
/* StopUnit and wait for the job; -ENOENT (quietly) when the unit is not loaded. */
int bus_stop_unit(sd_bus *bus, const char *name, sd_bus_error *error);
int bus_kill_unit(sd_bus *bus, const char *name, const char *whom, int signo, sd_bus_error *error);
/* A string property of a unit (interface e.g. "org.freedesktop.systemd1.Unit"); -ENOENT if no such unit. */
int bus_unit_get_string(sd_bus *bus, const char *name, const char *iface, const char *prop, char **ret);
/* "org.freedesktop.DBus.Error.X: message" or strerror. */
const char *bus_error_message(const sd_bus_error *e, int r);
