#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/world.sh CMD [ARGS...]
#
# Runs CMD inside a private world and exits with CMD's status (124 if BERTH_WORLD_TIMEOUT ran out):
#   - own mount, network and cgroup namespaces (lo up; everything made here vanishes with them);
#   - its own cgroup, berth-world-PID, in every hierarchy, bind-mounted over /sys/fs/cgroup/* so that
#     whatever runs inside (systemd --user, runc, podman, berth) creates its cgroups in there;
#   - fresh tmpfs on /run (so /run/systemd, /run/log, /run/netns, /run/berth are private), /tmp,
#     /dev/shm, /var/log/journal and /var/lib/berth; a private overlay on /etc and /var/lib;
#   - its own systemd-journald, and its own `systemd --user` manager (never `systemd --system`);
#   - a docker-registry on 127.0.0.1 holding the fixtures of tests/fixtures.sh.
# See ENVIRONMENT.md, "A private world for tests". Two processes: the outer one stays on the host, makes
# the cgroups and, at the end, kills what is left in them and removes them; the inner one (in the new
# namespaces) starts the daemons, runs CMD and stops the daemons by PID. The only thing left on the host
# is the fixture cache (and /var/log/journal, empty, if it was missing). /var/tmp is shared: tests keep
# their files in $BATS_TEST_TMPDIR.
#
# Exported to CMD:
#   BERTH_WORLD=1, BERTH_WORLD_DIR (private scratch dir; logs in $BERTH_WORLD_DIR/logs),
#   BERTH_WORLD_USERNS (the user namespace the world was made in, for `requires uid0`)
#   BERTH_TESTS_DIR, BERTH_BUILD (default: $PWD/build, put first on PATH)
#   BERTH_TEST_REGISTRY=127.0.0.1:PORT (plain http), BERTH_FIXTURES (the fixtures' OCI layout, read-only)
#   HOME, XDG_RUNTIME_DIR (fresh, 0700), CONTAINERS_REGISTRIES_CONF (marks the registry insecure)
# Knobs: BERTH_WORLD_TIMEOUT (s, default 2400), BERTH_FIXTURE_CACHE (default /var/tmp/berth-fixtures),
#   BERTH_WORLD_LOGS=DIR (copy the daemons' logs there on exit), BERTH_WORLD_QUIET=1,
#   BERTH_WORLD_DEBUG=1 (times of the startup steps).
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
cmd_desc=$*

# --- outer: on the host ------------------------------------------------------------------------------
# cgroup v1 hierarchies get our group below our current one (so limits put on us still apply); the
# name=systemd and unified ones, and a pure cgroup2 host, at their root (as ENVIRONMENT.md says).
outer() {
        command -v unshare >/dev/null || die "unshare (util-linux) is missing"
        [[ $(id -u) == 0 ]] || die "needs root (or run it under 'unshare -r'): it makes mount and network namespaces"
        local name=berth-world-$$ mnt fstype key cur dir list=''
        local -a made=() origin=()
        local -a mnts=(/sys/fs/cgroup)
        [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]] || mnts+=(/sys/fs/cgroup/*)
        for mnt in "${mnts[@]}"; do
                [[ -d $mnt && ! -L $mnt ]] || continue # cpu -> cpu,cpuacct
                fstype=$(stat -fc %T "$mnt" 2>/dev/null) || continue
                if [[ $fstype == cgroup2fs ]]; then
                        key=''
                        cur=/
                elif [[ $fstype == cgroupfs ]]; then
                        key=${mnt##*/}
                        cur=$(awk -F: -v h="$key" '$2 == h || $2 == "name=" h { print $3; exit }
                                { n = split($2, c, ","); for (i = 1; i <= n; i++) if (c[i] == h) { print $3; exit } }' \
                                /proc/self/cgroup)
                        [[ $key != systemd ]] || cur=/
                else
                        continue
                fi
                [[ -n $cur ]] || continue
                dir=$mnt${cur%/}/$name
                if ! mkdir "$dir" 2>/dev/null; then
                        echo "world: cannot create cgroup $dir, continuing without it" >&2
                        continue
                fi
                made+=("$dir")
                origin+=("$mnt${cur%/}/cgroup.procs")
                if [[ -f $dir/cpuset.cpus ]]; then
                        cat "${dir%/*}/cpuset.cpus" >"$dir/cpuset.cpus"
                        cat "${dir%/*}/cpuset.mems" >"$dir/cpuset.mems"
                fi
                echo $$ >"$dir/cgroup.procs"
                list+="$mnt=$dir "
        done
        ((${#made[@]} > 0)) || echo "world: no cgroup of our own; systemd --user may fail" >&2

        export BERTH_BUILD=${BERTH_BUILD:-$PWD/build}
        export _BERTH_WORLD_OUTER=$$ _BERTH_WORLD_T0=${EPOCHREALTIME/,/.} _BERTH_WORLD_CGROUPS=$list
        export _BERTH_WORLD_CGNAME=$name
        # A background job, so that our traps run at once; it keeps our stdin and process group.
        unshare --mount --net --cgroup --propagation private -- "$self" "$@" <&0 &
        local child=$! rc=0 i p
        trap 'kill -TERM "$child" 2>/dev/null' INT TERM HUP
        while :; do
                rc=0
                wait "$child" || rc=$?
                kill -0 "$child" 2>/dev/null || break
        done
        trap - INT TERM HUP

        # Whatever is still in our cgroups was started in the world: kill it, then remove the cgroups.
        for i in "${!made[@]}"; do
                echo $$ >"${origin[$i]}" 2>/dev/null || true
        done
        for dir in "${made[@]}"; do
                for ((i = 0; i < 100; i++)); do
                        p=$(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null) || true
                        [[ -n $p ]] || break
                        ((i > 0)) || echo "world: killing leftover processes in $dir:" "${p//$'\n'/ }" >&2
                        # shellcheck disable=SC2086
                        kill -KILL $p 2>/dev/null || true
                        sleep 0.05
                done
                find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
                [[ ! -d $dir ]] || echo "world: could not remove cgroup $dir" >&2
        done
        exit "$rc"
}

# unshare execs without forking: the inner world's parent is the outer one.
if [[ ${_BERTH_WORLD_OUTER:-} != "$PPID" ]]; then
        outer "$@"
fi
unset _BERTH_WORLD_OUTER

# --- inside ------------------------------------------------------------------------------------------
W=/tmp/berth-world
pid_journald='' pid_systemd='' pid_registry='' pid_cmd=''
cleaned=''

elapsed() {
        local now=${EPOCHREALTIME/,/.}
        awk -v a="$_BERTH_WORLD_T0" -v b="$now" 'BEGIN { printf "%.2f", b - a }'
}

phase() {
        [[ -z ${BERTH_WORLD_DEBUG:-} ]] || echo "world: $(elapsed)s $*" >&2
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

cleanup() {
        local rc=$?
        [[ -z $cleaned ]] || return 0
        cleaned=1
        trap - EXIT INT TERM HUP
        set +e
        if [[ -n $pid_cmd ]]; then
                echo "world: interrupted, stopping: $cmd_desc" >&2
                stop_pid "$pid_cmd" 5
        fi
        stop_pid "$pid_systemd" 10
        stop_pid "$pid_registry" 5
        stop_pid "$pid_journald" 5
        if [[ -n ${BERTH_WORLD_LOGS:-} && -d $W/logs ]]; then
                mkdir -p "$BERTH_WORLD_LOGS" && cp -a "$W/logs/." "$BERTH_WORLD_LOGS/"
        fi
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

phase "inner started"
# 1. Network: only loopback, up.
ip link set lo up

# 2. Private runtime state. /run is replaced whole: systemd's "booted" check, journald's sockets, netns
#    bind mounts, berth's own state, runc/podman defaults, the iptables lock all stay in here.
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /run/systemd/system /run/log /run/netns /run/berth /run/user
mkdir -m 1777 /run/lock
ln -s /dev/shm /run/shm
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
# POSIX shm and semaphores (podman's libpod_lock, for one) would otherwise land in the host's /dev/shm.
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mkdir -p "$W/logs" "$W/fixtures" "$W/registry"
# /etc and /var/lib stay readable but writes go to a private upper layer: skopeo's blob-info cache and
# podman's storage (/var/lib/containers), CNI leases (/var/lib/cni), podman's network files
# (/etc/containers/networks, /etc/cni/net.d), whatever else a test or a tool writes there.
for d in /etc /var/lib; do
        up=$W/overlay${d//\//-}
        mkdir -p "$up/upper" "$up/work"
        if ! mount -t overlay overlay -o "lowerdir=$d,upperdir=$up/upper,workdir=$up/work" "$d" 2>/dev/null; then
                echo "world: cannot put an overlay on $d: writes there reach the host" >&2
        fi
done
mkdir -p /var/log/journal /var/lib/berth
mount -t tmpfs -o mode=2755,nosuid,nodev tmpfs /var/log/journal
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /var/lib/berth
mkdir -m 0700 "$W/home" "$W/xdg"

# 3. The cgroups the outer world made for us are the roots of our cgroup namespace: mount them in place
#    of the hierarchies, so that /proc/self/cgroup, /proc/self/mountinfo and /sys/fs/cgroup agree (runc
#    reads the first mount of a hierarchy in mountinfo: the host's must go, not just be covered).
cg_name=${_BERTH_WORLD_CGNAME:-none}
i=0
for entry in ${_BERTH_WORLD_CGROUPS:-}; do
        mkdir -p "/run/.berth-cgroup/$i"
        mount --bind "${entry#*=}" "/run/.berth-cgroup/$i"
        i=$((i + 1))
done
# Under `unshare -r` the host's mounts are locked to us and cannot go: ours then just cover them.
i=0
for entry in ${_BERTH_WORLD_CGROUPS:-}; do
        umount -l "${entry%%=*}" 2>/dev/null || true
        mount --move "/run/.berth-cgroup/$i" "${entry%%=*}"
        i=$((i + 1))
done
rm -rf /run/.berth-cgroup
unset _BERTH_WORLD_CGROUPS _BERTH_WORLD_CGNAME

phase "mounts and cgroups done"
# 4. Environment seen by CMD and by the user manager (which passes its environment on to its units).
BERTH_BUILD=$(realpath -m "$BERTH_BUILD")
port=$((20000 + RANDOM % 30000)) # the network namespace is ours: any port is free
export BERTH_WORLD=1 BERTH_WORLD_DIR=$W BERTH_TESTS_DIR=$tests_dir BERTH_BUILD
BERTH_WORLD_USERNS=$(readlink /proc/self/ns/user)
export BERTH_WORLD_USERNS
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
#    journald must not reach outside: no reading the host's kernel log, no wall messages to the host's
#    terminals, its own messages to its log file rather than /dev/kmsg.
mkdir -p /run/systemd/journald.conf.d
cat >/run/systemd/journald.conf.d/berth-world.conf <<EOF
[Journal]
Storage=volatile
ReadKMsg=no
Audit=no
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
EOF
SYSTEMD_LOG_TARGET=console /lib/systemd/systemd-journald >"$W/logs/journald.log" 2>&1 &
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

phase "journald up"
# 6. Fixtures: built once per version of fixtures.sh (and of busybox), then only pushed.
cache=$(realpath -m "${BERTH_FIXTURE_CACHE:-/var/tmp/berth-fixtures}")
busybox=${BERTH_FIXTURE_BUSYBOX:-/bin/busybox}
[[ -f $busybox ]] || die "$busybox not found: install busybox-static"
key=$(cat "$tests_dir/fixtures.sh" "$busybox" | sha256sum | cut -c1-16)
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
                        find "$cache" -mindepth 1 -maxdepth 1 ! -name .lock -mtime +7 -exec rm -rf {} + || true
                fi
        ) 9>"$cache/.lock"
fi
touch "$layout"
mount --bind "$layout" "$BERTH_FIXTURES"
mount -o remount,bind,ro "$BERTH_FIXTURES"

phase "fixtures at hand"
wait_for "docker-registry on $BERTH_TEST_REGISTRY" 20 "$W/logs/registry.log" "$pid_registry" \
        curl -fsS "http://$BERTH_TEST_REGISTRY/v2/"
phase "registry up"
if ! "$tests_dir/fixtures.sh" --push "$BERTH_FIXTURES" "$BERTH_TEST_REGISTRY" >"$W/logs/push.log" 2>&1; then
        show_log "$W/logs/push.log"
        show_log "$W/logs/registry.log"
        die "pushing the fixtures failed"
fi

phase "fixtures pushed"
user_manager_up() {
        [[ -S $XDG_RUNTIME_DIR/systemd/private ]] || return 1
        local state
        state=$(systemctl --user is-system-running 2>/dev/null) || true
        [[ $state == running || $state == degraded ]]
}
wait_for "systemd --user" 20 "$W/logs/systemd-user.log" "$pid_systemd" user_manager_up

say "ready in $(elapsed)s: registry $BERTH_TEST_REGISTRY, cgroup $cg_name, build $BERTH_BUILD"
unset _BERTH_WORLD_T0

# 7. CMD, under the global guard. It runs as a background job so that a signal to world.sh is handled at
#    once (a foreground child would delay the trap until it exits); it keeps our stdin and, without job
#    control, our process group, so `world.sh bash` still works. Whatever it leaves running is killed
#    by the outer world's cgroup sweep.
timeout_s=${BERTH_WORLD_TIMEOUT:-2400}
SECONDS=0
rc=0
timeout --foreground -k 10 "$timeout_s" "$@" <&0 &
pid_cmd=$!
wait "$pid_cmd" || rc=$?
pid_cmd=''
if ((rc == 124 || rc == 137)) && ((SECONDS >= timeout_s)); then
        echo "world.sh: TIMEOUT: '$*' still running after BERTH_WORLD_TIMEOUT=${timeout_s}s, killed" >&2
        rc=124
fi
exit "$rc"
