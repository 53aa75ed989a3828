# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Loaded by every suite: `load helpers`. Suites normally start with
#
#     load helpers
#     setup() { berth_setup; }
#     teardown() { berth_teardown; }
#
# and run inside tests/world.sh (which exports BERTH_TEST_REGISTRY, BERTH_FIXTURES, BERTH_BUILD, ...).
#
#   run_tool [RC] PROG ARGS...      run PROG under a timeout; sets output, status, lines (stderr merged)
#   run_tool --stderr [RC] PROG...  same, but stderr kept apart in $stderr (and stderr_lines)
#   run_tool_split [RC] PROG...     = run_tool --stderr
#       RC: expected exit status (default 0), or '?' for any. A mismatch fails the test with a box
#       showing the command, expected and actual status and the output.
#   is ACTUAL EXPECTED [DESC]       EXPECTED is a literal, a glob, or an extended regex matching the whole
#                                   of ACTUAL (multi-line ACTUAL is matched as one string)
#   assert_contains HAYSTACK NEEDLE [DESC] / assert_not_contains: literal substring checks
#   requires WHAT...                skips the test unless all are met (fails it when BERTH_STRICT=1); the
#                                   only helper that skips. WHAT is one of
#                                     root      uid 0 in the initial user namespace (not under unshare -r)
#                                     uid0      uid 0 in the user namespace that made the world, so
#                                               mounts, netns, iptables work: real root, or under
#                                               `unshare -r tests/world.sh` (not `world.sh unshare -r`)
#                                     userns    user namespaces can be created here
#                                     systemd   the world's journald and user manager are reachable
#                                     registry  BERTH_TEST_REGISTRY answers
#                                     cmd:NAME  NAME is on PATH
#   berth_skip REASON               the same for a reason requires cannot express (never call bats' skip)
#   berth_setup / berth_teardown    per-test BERTH_ROOT and BERTH_RUNROOT; leak checks after the test
#   fixture_ref NAME[:TAG]          -> $BERTH_TEST_REGISTRY/NAME[:TAG]
#   fixture_layout                  -> the fixtures' OCI layout (read-only): oci:$(fixture_layout):busybox
#   random_free_port                a free TCP port on 127.0.0.1
#   start_registry [--htpasswd U:P] an empty registry of the test's own; sets REGISTRY=127.0.0.1:PORT
#   die MESSAGE                     fail the test now with MESSAGE in a box

BERTH_CMD_TIMEOUT=${BERTH_CMD_TIMEOUT:-60}

# --- failing loudly -----------------------------------------------------------------------------------

# _box LINE...: prints the lines in a box on stderr (bats shows it when the test fails).
_box() {
        local line l
        echo "#/vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv" >&2
        for line in "$@"; do
                while IFS= read -r l; do
                        echo "#| $l" >&2
                done <<<"$line"
        done
        echo "#\\^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^" >&2
}

die() {
        _box "FAIL: $*"
        false
}

# record NAME JQ-FILTER: the filter applied to the record (container.json) of the container named NAME.
record() {
        local id
        id=$(readlink "$BERTH_ROOT/names/$1") || { echo "no container named $1" >&2 && return 1; }
        jq -r "$2" "$BERTH_ROOT/containers/$id/container.json"
}

# wait_http URL: until URL answers (at most 5 s); the caller then asserts what it answers.
wait_http() {
        local i
        for ((i = 0; i < 100; i++)); do
                curl -fsS --max-time 1 "$1" >/dev/null 2>&1 && return 0
                sleep 0.05
        done
        return 0
}

# Shell-quoted command line, for messages.
_cmdline() {
        local out='' a
        for a in "$@"; do
                if [[ $a =~ ^[-A-Za-z0-9_./:=@%+,]+$ ]]; then
                        out+=" $a"
                else
                        out+=" '${a//\'/\'\\\'\'}'"
                fi
        done
        echo "${out# }"
}

# --- running programs ---------------------------------------------------------------------------------

run_tool() {
        local split='' expected_rc=0
        if [[ ${1:-} == --stderr ]]; then
                split=1
                shift
        fi
        if [[ ${1:-} == '?' || ${1:-} =~ ^[0-9]+$ ]]; then
                expected_rc=$1
                shift
        fi
        (($# > 0)) || die "run_tool: no program given"

        local cmd errfile
        cmd=$(_cmdline "$@")
        BERTH_LAST_CMD=$cmd
        echo "\$ $cmd" >&2

        # timeout without --foreground: PROG gets a process group of its own, all of which is killed when
        # time runs out. Output goes to files, not pipes: a child left running with them open (a daemon,
        # a detached container) must not keep the test waiting for an end of file; nor bats, which waits
        # for its fd 3 to be closed.
        status=0
        stderr=''
        local t0=$SECONDS outfile
        outfile=$(mktemp "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/.output.XXXXXX")
        if [[ -n $split ]]; then
                errfile=$(mktemp "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/.stderr.XXXXXX")
                timeout -k 10 "$BERTH_CMD_TIMEOUT" "$@" >"$outfile" 2>"$errfile" 3>&- || status=$?
                stderr=$(<"$errfile")
                rm -f "$errfile"
        else
                timeout -k 10 "$BERTH_CMD_TIMEOUT" "$@" >"$outfile" 2>&1 3>&- || status=$?
        fi
        output=$(<"$outfile")
        rm -f "$outfile"
        # As bats' `run` does: lines without the empty ones.
        lines=()
        stderr_lines=()
        local l
        while IFS= read -r l; do
                [[ -z $l ]] || lines+=("$l")
        done <<<"$output"
        while IFS= read -r l; do
                [[ -z $l ]] || stderr_lines+=("$l")
        done <<<"$stderr"

        [[ -z $output ]] || echo "$output" >&2
        [[ -z $stderr ]] || printf '%s\n' "$stderr" | sed 's/^/[stderr] /' >&2
        ((status == 0)) || echo "[ rc=$status ]" >&2

        if [[ $expected_rc != "$status" ]] && ((status == 124 || status == 137)) &&
                ((SECONDS - t0 >= BERTH_CMD_TIMEOUT)); then
                _box "FAIL: timed out after ${BERTH_CMD_TIMEOUT}s (BERTH_CMD_TIMEOUT) (rc=$status)" \
                        "command: $cmd" "output: $output" ${stderr:+"stderr: $stderr"}
                false
                return
        fi
        if [[ $expected_rc != '?' ]] && ((status != expected_rc)); then
                _box "FAIL: exit status is $status; expected $expected_rc" \
                        "command: $cmd" "output: $output" ${stderr:+"stderr: $stderr"}
                false
                return
        fi
        return 0
}

run_tool_split() {
        run_tool --stderr "$@"
}

# --- assertions ---------------------------------------------------------------------------------------

is() {
        local actual=$1 expect=$2 desc=${3:-${BERTH_LAST_CMD:-[no description]}}
        if [[ $actual == "$expect" ]]; then
                return 0
        fi
        # shellcheck disable=SC2053
        if [[ $actual == $expect ]]; then
                return 0
        fi
        if [[ $actual =~ ^($expect)$ ]] 2>/dev/null; then
                return 0
        fi
        _box "FAIL: $desc" "expected: $expect" "  actual: $actual"
        false
}

assert_contains() {
        local haystack=$1 needle=$2 desc=${3:-${BERTH_LAST_CMD:-[no description]}}
        [[ $haystack == *"$needle"* ]] && return 0
        _box "FAIL: $desc" "expected to contain: $needle" "actual: $haystack"
        false
}

assert_not_contains() {
        local haystack=$1 needle=$2 desc=${3:-${BERTH_LAST_CMD:-[no description]}}
        [[ $haystack != *"$needle"* ]] && return 0
        _box "FAIL: $desc" "expected NOT to contain: $needle" "actual: $haystack"
        false
}

# --- requirements (the only place that skips) ---------------------------------------------------------

# True when we are root in the initial user namespace (not under `unshare -r`).
_is_real_root() {
        [[ $(id -u) == 0 ]] || return 1
        local inside outside count
        read -r inside outside count </proc/self/uid_map || return 1
        [[ $inside == 0 && $outside == 0 && $count == 4294967295 ]]
}

# uid 0 with all privileges over the world's mount and network namespaces: in the user namespace the world
# was made in (so `unshare -r tests/world.sh` qualifies, `tests/world.sh unshare -r bats` does not).
_is_world_uid0() {
        [[ $(id -u) == 0 ]] || return 1
        if [[ -n ${BERTH_WORLD_USERNS:-} ]]; then
                [[ $(readlink /proc/self/ns/user) == "$BERTH_WORLD_USERNS" ]]
        else
                _is_real_root
        fi
}

_requirement_met() {
        case $1 in
        root)
                _is_real_root
                ;;
        uid0)
                _is_world_uid0
                ;;
        userns)
                unshare --user --map-root-user true 2>/dev/null
                ;;
        systemd)
                local state
                [[ -n ${XDG_RUNTIME_DIR:-} && -S $XDG_RUNTIME_DIR/systemd/private ]] || return 1
                state=$(systemctl --user is-system-running 2>/dev/null) || true
                [[ $state == running || $state == degraded ]] && [[ -S /run/systemd/journal/socket ]]
                ;;
        registry)
                [[ -n ${BERTH_TEST_REGISTRY:-} ]] &&
                        curl -fsS -o /dev/null --max-time 5 "http://$BERTH_TEST_REGISTRY/v2/" 2>/dev/null
                ;;
        cmd:?*)
                command -v "${1#cmd:}" >/dev/null
                ;;
        *)
                die "requires: unknown requirement '$1' (root|uid0|userns|systemd|registry|cmd:NAME)"
                ;;
        esac
}

requires() {
        local what missing=()
        for what in "$@"; do
                _requirement_met "$what" || missing+=("$what")
        done
        ((${#missing[@]} == 0)) && return 0
        berth_skip "requires ${missing[*]}"
}

# berth_skip REASON: for what `requires` cannot name (a kernel feature the test probes, say). Skips, or
# fails under BERTH_STRICT=1. Use it instead of bats' `skip`, which strict mode cannot see.
berth_skip() {
        if [[ ${BERTH_STRICT:-0} == 1 ]]; then
                die "$*: not met, and BERTH_STRICT=1 turns skips into failures"
        fi
        skip "$*"
}

# --- fixtures -----------------------------------------------------------------------------------------

fixture_ref() {
        [[ -n ${BERTH_TEST_REGISTRY:-} ]] || die "fixture_ref: BERTH_TEST_REGISTRY is not set (run under tests/world.sh)"
        echo "$BERTH_TEST_REGISTRY/$1"
}

fixture_layout() {
        [[ -n ${BERTH_FIXTURES:-} ]] || die "fixture_layout: BERTH_FIXTURES is not set (run under tests/world.sh)"
        echo "$BERTH_FIXTURES"
}

random_free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry [--htpasswd USER:PASSWORD]: an empty docker-registry of this test's own on 127.0.0.1 (plain
# http; with basic auth if asked). Sets REGISTRY=127.0.0.1:PORT; berth_teardown stops it.
start_registry() {
        local auth=''
        if [[ ${1:-} == --htpasswd ]]; then
                auth=$2
                shift 2
        fi
        local dir port pid i code
        dir=$(mktemp -d "$BATS_TEST_TMPDIR/registry.XXXXXX")
        port=$(random_free_port)
        cat >"$dir/config.yml" <<-EOF
	version: 0.1
	log:
	  level: info
	storage:
	  filesystem:
	    rootdirectory: $dir/storage
	  delete:
	    enabled: true
	http:
	  addr: 127.0.0.1:$port
	  secret: berth-test-secret
	EOF
        if [[ -n $auth ]]; then
                htpasswd -Bbn "${auth%%:*}" "${auth#*:}" >"$dir/htpasswd" 2>/dev/null ||
                        die "start_registry: htpasswd failed (apache2-utils)"
                cat >>"$dir/config.yml" <<-EOF
		auth:
		  htpasswd:
		    realm: berth-test
		    path: $dir/htpasswd
		EOF
        fi
        # Not on bats' descriptors (fd 3 especially), or bats would wait for it.
        docker-registry serve "$dir/config.yml" </dev/null >"$dir/log" 2>&1 3>&- &
        pid=$!
        echo "$pid" >>"$BATS_TEST_TMPDIR/.berth-pids"
        for ((i = 0; i < 500; i++)); do
                code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" 2>/dev/null) || true
                [[ $code != 200 && $code != 401 ]] || break
                kill -0 "$pid" 2>/dev/null || die "start_registry: docker-registry exited: $(cat "$dir/log")"
                sleep 0.02
        done
        [[ $code == 200 || $code == 401 ]] || die "start_registry: not ready after 10s: $(tail -n 20 "$dir/log")"
        export REGISTRY=127.0.0.1:$port
}

# veths_left (the net suites): true when a veth is still there after 5 s. A detached container's veth goes with its network
# namespace, which the kernel destroys in the background (docs/net.md, "Detaching").
veths_left() {
        local i
        for ((i = 0; i < 100; i++)); do
                [[ -z $(ip -o link show type veth 2>/dev/null) ]] && return 1
                sleep 0.05
        done
        return 0
}

# --- per-test state and leak checks -------------------------------------------------------------------

_berth_netns() {
        find /run/netns -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | LC_ALL=C sort || true
}

# Active (or activating/deactivating) user units named berth-*, one name per line.
_berth_active_units() {
        systemctl --user list-units --all --plain --no-legend --no-pager 'berth-*' 2>/dev/null |
                awk '$3 != "inactive" && $3 != "failed" { print $1 }' || true
}

_berth_failed_units() {
        systemctl --user list-units --all --plain --no-legend --no-pager --state=failed 'berth-*' 2>/dev/null |
                awk '{ print $1 }' || true
}

# Mount points at or below one of the given directories, deepest first.
_berth_mounts_under() {
        local d
        findmnt -rn -o TARGET 2>/dev/null | while IFS= read -r m; do
                m=$(printf '%b' "$m") # findmnt -r writes " " as \x20
                for d in "$@"; do
                        if [[ $m == "$d" || $m == "$d"/* ]]; then
                                echo "$m"
                                break
                        fi
                done
        done | LC_ALL=C sort -r
}

berth_setup() {
        [[ -n ${BATS_TEST_TMPDIR:-} ]] || die "berth_setup: needs bats >= 1.4 (BATS_TEST_TMPDIR)"
        export BERTH_ROOT=$BATS_TEST_TMPDIR/root
        export BERTH_RUNROOT=$BATS_TEST_TMPDIR/runroot
        mkdir -p "$BERTH_ROOT" "$BERTH_RUNROOT"
        _BERTH_NETNS_BEFORE=$(_berth_netns)
}

berth_teardown() {
        local leaks=() m u n

        # Mounts under this test's directories (left there, bats' rm -rf would walk into them).
        local mounts
        mounts=$(_berth_mounts_under "${BERTH_ROOT:-/nonexistent}" "${BERTH_RUNROOT:-/nonexistent}" \
                "${BATS_TEST_TMPDIR:-/nonexistent}")
        if [[ -n $mounts ]]; then
                while IFS= read -r m; do
                        leaks+=("mount: $m")
                        umount -l "$m" 2>/dev/null || true
                done <<<"$mounts"
        fi

        # Transient units still running.
        if [[ -n ${XDG_RUNTIME_DIR:-} && -S $XDG_RUNTIME_DIR/systemd/private ]]; then
                local units
                units=$(_berth_active_units)
                if [[ -n $units ]]; then
                        while IFS= read -r u; do
                                leaks+=("unit: $u ($(systemctl --user show -P ActiveState "$u" 2>/dev/null))")
                                timeout 10 systemctl --user stop "$u" 2>/dev/null ||
                                        systemctl --user kill --signal=KILL "$u" 2>/dev/null || true
                        done <<<"$units"
                fi
                # A failed unit is a result, not a leak; forget it so the next test starts clean.
                units=$(_berth_failed_units)
                if [[ -n $units ]]; then
                        # shellcheck disable=SC2086
                        systemctl --user reset-failed $units 2>/dev/null || true
                fi
        fi

        # Container cgroups (berth-NAME.scope and below, in any hierarchy) left behind; only in the world,
        # whose cgroup trees are its own.
        if [[ -n ${BERTH_WORLD:-} ]]; then
                local cgs
                cgs=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 7 -type d -name 'berth-*.scope' 2>/dev/null | sort -r)
                if [[ -n $cgs ]]; then
                        while IFS= read -r m; do
                                leaks+=("cgroup: $m")
                                find "$m" -depth -type d -exec rmdir {} + 2>/dev/null || true
                        done <<<"$cgs"
                fi
        fi

        # Network namespaces this test made.
        local now
        now=$(_berth_netns)
        if [[ -n $now ]]; then
                while IFS= read -r n; do
                        if ! grep -qxF -- "$n" <<<"${_BERTH_NETNS_BEFORE:-}"; then
                                leaks+=("netns: /run/netns/$n")
                                ip netns delete "$n" 2>/dev/null || umount -l "/run/netns/$n" 2>/dev/null || true
                                rm -f "/run/netns/$n" 2>/dev/null || true
                        fi
                done <<<"$now"
        fi

        # Servers started with start_registry (not leaks: their owner is this file).
        if [[ -f ${BATS_TEST_TMPDIR:-/nonexistent}/.berth-pids ]]; then
                local pid
                while read -r pid; do
                        kill -TERM "$pid" 2>/dev/null || continue
                        for ((n = 0; n < 100; n++)); do
                                kill -0 "$pid" 2>/dev/null || break
                                sleep 0.02
                        done
                        kill -KILL "$pid" 2>/dev/null || true
                done <"$BATS_TEST_TMPDIR/.berth-pids"
                rm -f "$BATS_TEST_TMPDIR/.berth-pids"
        fi

        if ((${#leaks[@]} > 0)); then
                _box "FAIL: the test leaked (now cleaned up):" "${leaks[@]}"
                return 1
        fi
        return 0
}
