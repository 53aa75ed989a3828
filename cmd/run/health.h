/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

/* Health checks without a daemon: a transient timer berth-<name>-health.timer runs
 * `berth-run healthcheck ID` (berth-<name>-health.service) every interval; that records State.Health
 * {Status: starting|healthy|unhealthy, FailingStreak, Log[]} in the container's record. */
int health_timer_start(json_t *rec);
void health_timer_stop(const char *unit);
/* The hidden verb the timer runs. */
int verb_healthcheck(int argc, char *argv[], void *userdata);
