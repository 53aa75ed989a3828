#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/world.sh CMD [ARGS...]
#
# Runs CMD inside a private world and exits with CMD's status (124 if BERTH_WORLD_TIMEOUT ran out):
#   - own mount and network namespaces (lo up; everything made here vanishes with them);
#   - fresh tmpfs on /run (so /run/systemd, /run/log, /run/netns, /run/berth are private), /tmp,
#     /var/log/journal and /var/lib/berth;
#   - its own systemd-journald, and its own `systemd --user` manager (never `systemd --system`);
#   - its own cgroup (berth-world-PID) in the name=systemd and unified hierarchies;
#   - a docker-registry on 127.0.0.1 holding the fixtures of tests/fixtures.sh.
# See ENVIRONMENT.md, "A private world for tests". Everything started here is stopped by PID on exit and
# the cgroups are removed; the only things left on the host are the fixture cache and, if they were
# missing, the empty mount points /var/lib/berth and /var/log/journal.
#
# Exported to CMD:
#   BERTH_WORLD=1, BERTH_WORLD_DIR (private scratch dir; logs in $BERTH_WORLD_DIR/logs)
#   BERTH_TESTS_DIR, BERTH_BUILD (default: $PWD/build, put first on PATH)
#   BERTH_TEST_REGISTRY=127.0.0.1:PORT (plain http), BERTH_FIXTURES (the fixtures' OCI layout, read-only)
#   HOME, XDG_RUNTIME_DIR (fresh, 0700), CONTAINERS_REGISTRIES_CONF (marks the registry insecure)
# Knobs: BERTH_WORLD_TIMEOUT (s, default 2400), BERTH_FIXTURE_CACHE (default /var/tmp/berth-fixtures),
#   BERTH_WORLD_LOGS=DIR (copy the daemons' logs there on exit), BERTH_WORLD_QUIET=1.
# Functions called from traps and wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317
set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
tests_dir=${self%/*}

die() {
        echo "world.sh: $*" >&2
        exit 1
}

say() {
        [[ -n ${BERTH_WORLD_QUIET:-} ]] || echo "world: $*" >&2
}

(($# > 0)) || die "usage: $0 CMD [ARGS...]"

# --- outside: re-exec in new namespaces. unshare execs without forking, so $$ stays the same. ----------
if [[ ${_BERTH_WORLD_REEXEC:-} != "$$" ]]; then
        command -v unshare >/dev/null || die "unshare (util-linux) is missing"
        export BERTH_BUILD=${BERTH_BUILD:-$PWD/build}
        export _BERTH_WORLD_REEXEC=$$ _BERTH_WORLD_T0=${EPOCHREALTIME/,/.}
        exec unshare --mount --net --propagation private -- "$self" "$@"
fi
unset _BERTH_WORLD_REEXEC

# --- inside ------------------------------------------------------------------------------------------
W=/tmp/berth-world
cgroups=() # cgroup dirs we made
declare -A cgroup_origin=() # dir -> the hierarchy's cgroup.procs we came from
pid_journald='' pid_systemd='' pid_registry=''
cleaned=''

elapsed() {
        local now=${EPOCHREALTIME/,/.}
        awk -v a="$_BERTH_WORLD_T0" -v b="$now" 'BEGIN { printf "%.2f", b - a }'
}

# stop_pid PID SECONDS: SIGTERM, wait, then SIGKILL. Only ever called with PIDs of our own children.
stop_pid() {
        local pid=$1 secs=$2 i
        [[ -n $pid ]] || return 0
        kill -TERM "$pid" 2>/dev/null || return 0
        for ((i = 0; i < secs * 20; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.05
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
}

show_log() {
        echo "----- $1 (last 40 lines) -----" >&2
        tail -n 40 "$1" >&2 2>/dev/null || true
        echo "-----" >&2
}

cgroup_pids() {
        find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null || true
}

cleanup() {
        local rc=$?
        [[ -z $cleaned ]] || return 0
        cleaned=1
        trap - EXIT INT TERM HUP
        set +e
        stop_pid "$pid_systemd" 10
        stop_pid "$pid_registry" 5
        stop_pid "$pid_journald" 5
        if [[ -n ${BERTH_WORLD_LOGS:-} && -d $W/logs ]]; then
                mkdir -p "$BERTH_WORLD_LOGS" && cp -a "$W/logs/." "$BERTH_WORLD_LOGS/"
        fi
        local cg i p
        for cg in "${cgroups[@]}"; do
                echo $$ >"${cgroup_origin[$cg]}" 2>/dev/null || echo $$ >"${cg%/*}/cgroup.procs"
        done
        # Whatever is still in our cgroups was started in this world (by CMD or a daemon): kill it.
        for cg in "${cgroups[@]}"; do
                for ((i = 0; i < 100; i++)); do
                        p=$(cgroup_pids "$cg")
                        [[ -n $p ]] || break
                        ((i > 0)) || echo "world: killing leftover processes in $cg:" "${p//$'\n'/ }" >&2
                        # shellcheck disable=SC2086
                        kill -KILL $p 2>/dev/null
                        sleep 0.05
                done
                find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
                [[ ! -d $cg ]] || echo "world: could not remove cgroup $cg" >&2
        done
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# wait_for DESC SECONDS LOG PID CONDITION...: polls CONDITION every 20 ms; dies loudly on timeout or if
# PID exits.
wait_for() {
        local desc=$1 secs=$2 log=$3 pid=$4 i
        shift 4
        for ((i = 0; i < secs * 50; i++)); do
                if "$@" >/dev/null 2>&1; then
                        return 0
                fi
                if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
                        show_log "$log"
                        die "$desc: the daemon exited"
                fi
                sleep 0.02
        done
        show_log "$log"
        die "$desc: not ready after ${secs}s"
}

# 1. Network: only loopback, up.
ip link set lo up

# 2. Private runtime state. /run is replaced whole: systemd's "booted" check, journald's sockets, netns
#    bind mounts, berth's own state, runc/podman defaults, the iptables lock all stay in here.
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /run/systemd/system /run/log /run/netns /run/berth /run/user
mkdir -m 1777 /run/lock
ln -s /dev/shm /run/shm
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mkdir -p /var/log/journal /var/lib/berth
mount -t tmpfs -o mode=2755,nosuid,nodev tmpfs /var/log/journal
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /var/lib/berth
mkdir -p "$W/logs" "$W/fixtures" "$W/registry"
mkdir -m 0700 "$W/home" "$W/xdg"

# 3. Own cgroups. Hybrid (this host): name=systemd (v1) and unified (v2); pure cgroup2: the root.
cg_name=berth-world-$$
cg_hier=()
if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
        cg_hier=(/sys/fs/cgroup:0:)
else
        [[ $(stat -fc %T /sys/fs/cgroup/systemd 2>/dev/null) != cgroupfs ]] ||
                cg_hier+=(/sys/fs/cgroup/systemd:name=systemd)
        [[ $(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null) != cgroup2fs ]] ||
                cg_hier+=(/sys/fs/cgroup/unified:0:)
fi
for h in "${cg_hier[@]}"; do
        mnt=${h%%:*} key=${h#*:}
        if [[ $key == "0:" ]]; then
                cur=$(sed -n 's/^0:://p' /proc/self/cgroup)
        else
                cur=$(sed -n "s/^[0-9]*:$key://p" /proc/self/cgroup)
        fi
        if ! mkdir "$mnt/$cg_name" 2>/dev/null; then
                echo "world: cannot create cgroup $mnt/$cg_name, continuing without it" >&2
                continue
        fi
        cgroups+=("$mnt/$cg_name")
        cgroup_origin[$mnt/$cg_name]=$mnt${cur%/}/cgroup.procs
        echo $$ >"$mnt/$cg_name/cgroup.procs"
done
((${#cgroups[@]} > 0)) || echo "world: no cgroup of our own; systemd --user may fail" >&2

# 4. Environment seen by CMD and by the user manager (which passes its environment on to its units).
BERTH_BUILD=$(realpath -m "$BERTH_BUILD")
port=$((20000 + RANDOM % 30000)) # the network namespace is ours: any port is free
export BERTH_WORLD=1 BERTH_WORLD_DIR=$W BERTH_TESTS_DIR=$tests_dir BERTH_BUILD
export BERTH_TEST_REGISTRY=127.0.0.1:$port BERTH_FIXTURES=$W/fixtures
export HOME=$W/home XDG_RUNTIME_DIR=$W/xdg
export PATH=$BERTH_BUILD:$PATH
# skopeo 1.9 and podman 4.3 read the user file (even as root); newer ones also honour the variable.
export CONTAINERS_REGISTRIES_CONF=$HOME/.config/containers/registries.conf
mkdir -p "$HOME/.config/containers"
cat >"$CONTAINERS_REGISTRIES_CONF" <<EOF
unqualified-search-registries = []

[[registry]]
location = "$BERTH_TEST_REGISTRY"
insecure = true
EOF
unset DBUS_SESSION_BUS_ADDRESS NOTIFY_SOCKET INVOCATION_ID JOURNAL_STREAM LISTEN_PID LISTEN_FDS \
        MANAGERPID SYSTEMD_EXEC_PID

# 5. journald, then the user manager (which would otherwise log to /dev/kmsg) and the registry.
/lib/systemd/systemd-journald >"$W/logs/journald.log" 2>&1 &
pid_journald=$!

cat >"$W/registry.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $W/registry
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $BERTH_TEST_REGISTRY
  secret: berth-world-test-secret
EOF
docker-registry serve "$W/registry.yml" >"$W/logs/registry.log" 2>&1 &
pid_registry=$!

wait_for journald 10 "$W/logs/journald.log" "$pid_journald" test -S /run/systemd/journal/socket
/lib/systemd/systemd --user >"$W/logs/systemd-user.log" 2>&1 &
pid_systemd=$!

# 6. Fixtures: built once per version of fixtures.sh (and of busybox), then only pushed.
cache=$(realpath -m "${BERTH_FIXTURE_CACHE:-/var/tmp/berth-fixtures}")
busybox=${BERTH_FIXTURE_BUSYBOX:-/bin/busybox}
key=$(cat "$tests_dir/fixtures.sh" "$busybox" 2>/dev/null | sha256sum | cut -c1-16)
layout=$cache/$key
if [[ ! -d $layout ]]; then
        mkdir -p "$cache"
        (
                flock 9
                if [[ ! -d $layout ]]; then
                        tmp=$cache/.building-$$
                        rm -rf "$tmp"
                        if ! TMPDIR=$W "$tests_dir/fixtures.sh" "$tmp" >"$W/logs/fixtures.log" 2>&1; then
                                rm -rf "$tmp"
                                show_log "$W/logs/fixtures.log"
                                die "building the fixtures failed"
                        fi
                        mv "$tmp" "$layout"
                        # Old versions nobody used for a week.
                        find "$cache" -mindepth 1 -maxdepth 1 -mtime +7 -exec rm -rf {} + || true
                fi
        ) 9>"$cache/.lock"
fi
touch "$layout"
mount --bind "$layout" "$BERTH_FIXTURES"
mount -o remount,bind,ro "$BERTH_FIXTURES"

wait_for "docker-registry on $BERTH_TEST_REGISTRY" 20 "$W/logs/registry.log" "$pid_registry" \
        curl -fsS "http://$BERTH_TEST_REGISTRY/v2/"
if ! "$tests_dir/fixtures.sh" --push "$BERTH_FIXTURES" "$BERTH_TEST_REGISTRY" >"$W/logs/push.log" 2>&1; then
        show_log "$W/logs/push.log"
        show_log "$W/logs/registry.log"
        die "pushing the fixtures failed"
fi

user_manager_up() {
        [[ -S $XDG_RUNTIME_DIR/systemd/private ]] || return 1
        local state
        state=$(systemctl --user is-system-running 2>/dev/null) || true
        [[ $state == running || $state == degraded ]]
}
wait_for "systemd --user" 20 "$W/logs/systemd-user.log" "$pid_systemd" user_manager_up

say "ready in $(elapsed)s: registry $BERTH_TEST_REGISTRY, cgroup $cg_name, build $BERTH_BUILD"

# 7. CMD, under the global guard. --foreground keeps CMD on the terminal (for `world.sh bash`); its
#    children are killed anyway by the cgroup sweep in cleanup().
timeout_s=${BERTH_WORLD_TIMEOUT:-2400}
SECONDS=0
rc=0
timeout --foreground -k 10 "$timeout_s" "$@" || rc=$?
if ((rc == 124 || rc == 137)) && ((SECONDS >= timeout_s)); then
        echo "world.sh: TIMEOUT: '$*' still running after BERTH_WORLD_TIMEOUT=${timeout_s}s, killed" >&2
        rc=124
fi
exit "$rc"
