#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make demo: the main job, start to end, on the built-in busybox image served by a loopback registry.
# Runs inside tests/world.sh (private namespaces, journald, systemd --user, docker-registry on 127.0.0.1).
set -euo pipefail
export BERTH_ROOT=/var/lib/berth BERTH_RUNROOT=/run/berth
img="$BERTH_TEST_REGISTRY/busybox:latest"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step berth pull "$img"
step berth images
step berth run --rm "$img" echo "hello from a berth container"
step berth run -d --init --name demo-web "$img" sh -c 'echo serving; exec sleep 300'
step berth ps
step systemctl --user status --no-pager --lines=0 berth-demo-web.scope
step berth logs demo-web
step berth stop demo-web
step berth ps -a
step berth rm demo-web
echo
echo "demo: done"
