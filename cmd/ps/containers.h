/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "status.h"

/* One container as berth-ps sees it: its record (NULL when unreadable) and the reconciled status. A record
 * from containers_load_all() holds only the members of record_listing_keep (record-scan.h); one from
 * container_load_one() holds all of them. */
typedef struct Container {
        char *id;
        json_t *record;
        Reconciled st;
        bool unreadable; /* the record exists but cannot be read or parsed: warn when it is shown */
} Container;

typedef struct ContainerList {
        Container *items;
        size_t n;
} ContainerList;

void container_list_done(ContainerList *l);
/* Load and reconcile every record, newest first. Unreadable records are kept (status unknown, with a reason)
 * and warned about once each on stderr; only OOM or an unreadable $ROOT/containers fails. */
int containers_load_all(const ReconcileContext *ctx, ContainerList *ret);
/* Load one by name, ID or unique ID prefix; -ENOENT / -EADDRNOTAVAIL as container_resolve(). */
int container_load_one(const char *name_or_id, const ReconcileContext *ctx, Container *ret);
void container_done(Container *c);

/* Compiled --filter: name= (regex), id= (prefix), status=, label=KEY[=VALUE], ancestor=, network=. Values of
 * one key are ORed, different keys ANDed, as in podman. */
typedef struct ContainerFilter ContainerFilter;
/* -EINVAL (after logging a usage error) for an invalid value. */
int container_filter_new(json_t *filters, ContainerFilter **ret);
ContainerFilter *container_filter_free(ContainerFilter *f);
static inline void container_filter_freep(ContainerFilter **f) {
        if (*f)
                container_filter_free(*f);
}
bool container_filter_match(const ContainerFilter *f, const Container *c);

/* The container's name ("" if unknown), its image name, its command (Entrypoint + Cmd) as an array. */
const char *container_name(const Container *c);
/* The name whose $ROOT/names symlink points at id (for records that cannot be read); NULL if none. */
char *container_name_of_id(const char *id);
json_t *container_command(const Container *c);
/* State.Health.Status of the record (starting, healthy, unhealthy) or NULL. */
const char *container_health(const Container *c);
/* status_string() plus podman's " (healthy)" for a running container with a health check. */
void container_status_string(const Container *c, usec_t now, char *buf, size_t size);
/* podman ps's object: Id, Names, Image, ImageID, Command, Created, CreatedAt, State, Status, ExitCode,
 * Exited, ExitedAt, StartedAt, Labels, Mounts, Networks, Ports, Pid, Restarts, Health (+ Error when there is
 * a reason). */
json_t *container_ps_object(const Container *c, usec_t now);
/* The same for templates, as podman renders them: Names, Command, Ports, Networks, Mounts as strings, ID
 * short (full with no_trunc). */
json_t *container_template_object(const Container *c, usec_t now, bool no_trunc);
/* The published ports as an array of {host_ip, host_port, container_port, protocol, range}: from
 * NetworkSettings.Ports (what berth-net bound) or else HostConfig.PortBindings (what was asked for). */
json_t *container_ports(const Container *c);
/* The container's cgroup path ("/machine.slice/..."), or NULL when the record has none. */
const char *container_cgroup(const Container *c);
/* Running or paused, with a live init. */
bool container_is_live(const Container *c);
/* "0.0.0.0:8080->80/tcp, ..." from the record's port bindings. */
char *container_ports_string(const Container *c);
