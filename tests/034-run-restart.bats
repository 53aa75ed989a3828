#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-run --restart in the monitor (no daemon), and --sdnotify for Type=notify units.

load helpers

setup() {
        berth_setup
        requires uid0 systemd registry cmd:runc
        IMG=$(fixture_ref busybox:latest)
}
teardown() { berth_teardown; }

record() {
        jq -r "$2" "$BERTH_ROOT/containers/$(readlink "$BERTH_ROOT/names/$1")/container.json"
}

wait_restarts() { # NAME N: until RestartCount >= N
        for _ in $(seq 100); do
                (($(record "$1" .RestartCount) >= $2)) && return 0
                sleep 0.05
        done
        die "RestartCount of $1 stayed at $(record "$1" .RestartCount), expected $2"
}

@test "--restart=on-failure:2 restarts a failing container twice, then records the exit" {
        run_tool berth-run run -d --name rf --restart on-failure:2 "$IMG" sh -c 'echo run; exit 3'
        run_tool berth-run wait rf
        is "$output" "3"
        is "$(record rf .RestartCount)" "2"
        is "$(record rf .State.Status)" "exited"
        run_tool berth-run logs rf
        is "$output" "run
run
run"
        run_tool berth-run rm rf
        run_tool berth-run run -d --name ok --restart on-failure "$IMG" true
        run_tool berth-run wait ok
        is "$(record ok .RestartCount)" "0" "a clean exit is not restarted"
        run_tool berth-run rm ok
}

@test "--restart=always brings the container back after it dies; stop ends it for good" {
        run_tool berth-run run -d --name ra --restart always "$IMG" sleep 1000
        local pid1
        pid1=$(record ra .State.Pid)
        kill -KILL "$pid1"
        wait_restarts ra 1
        for _ in $(seq 100); do
                [[ $(record ra .State.Status) == running && $(record ra .State.Pid) != "$pid1" ]] && break
                sleep 0.05
        done
        is "$(record ra .State.Status)" "running"
        run_tool systemctl --user is-active berth-ra.scope
        run_tool berth-run stop --time 1 ra
        is "$(record ra .State.Status)" "exited"
        is "$(record ra .RestartCount)" "1"
        run_tool berth-run rm ra
        run_tool 125 berth-run run --rm --restart always "$IMG" true
        assert_contains "$output" "--rm and --restart"
}

@test "--sdnotify=conmon: a Type=notify unit is ready once the container runs; stop stops it" {
        run_tool systemd-run --user --unit berth-test-notify -p Type=notify --collect \
                "$BERTH_BUILD/berth-run" --root "$BERTH_ROOT" --runroot "$BERTH_RUNROOT" run --rm --name nt \
                --sdnotify=conmon "$IMG" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
        run_tool systemctl --user is-active berth-test-notify.service
        is "$output" "active"
        is "$(record nt .State.Status)" "running"
        run_tool systemctl --user show -P MainPID berth-test-notify.service
        is "$output" "$(record nt .State.MonitorPid)"
        # inside a service: no scope of its own, the container is in the service's cgroup
        grep -q 'berth-test-notify.service' "/proc/$(record nt .State.Pid)/cgroup" ||
                die "container not in the service's cgroup: $(cat "/proc/$(record nt .State.Pid)/cgroup")"
        run_tool systemctl --user stop berth-test-notify.service
        [[ ! -e $BERTH_ROOT/names/nt ]] || die "--rm did not remove the record"
}

@test "--sdnotify=container: the container gets a NOTIFY_SOCKET of its own" {
        mkdir "$BATS_TEST_TMPDIR/out"
        run_tool systemd-run --user --no-block --unit berth-test-notify2 -p Type=notify --collect \
                "$BERTH_BUILD/berth-run" --root "$BERTH_ROOT" --runroot "$BERTH_RUNROOT" run --name nc \
                -v "$BATS_TEST_TMPDIR/out:/out" --sdnotify=container "$IMG" \
                sh -c '{ echo $NOTIFY_SOCKET; test -S $NOTIFY_SOCKET && echo socket; } >/out/x; trap "exit 0" TERM; while :; do sleep 0.1; done'
        for _ in $(seq 100); do
                grep -q socket "$BATS_TEST_TMPDIR/out/x" 2>/dev/null && break
                sleep 0.05
        done
        is "$(cat "$BATS_TEST_TMPDIR/out/x")" "/run/berth-notify/notify.sock
socket"
        # busybox cannot send READY=1: the unit is still starting, which is what Type=notify means
        run_tool systemctl --user show -P ActiveState berth-test-notify2.service
        is "$output" "activating"
        # what the container would send, through the same proxy socket: the unit becomes active
        local sock=$BERTH_ROOT/containers/$(readlink "$BERTH_ROOT/names/nc")/notify/notify.sock
        (cd "${sock%/*}" && python3 -c 'import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"READY=1\nSTATUS=up", "notify.sock")')
        for _ in $(seq 100); do
                [[ $(systemctl --user show -P ActiveState berth-test-notify2.service) == active ]] && break
                sleep 0.05
        done
        run_tool systemctl --user show -P ActiveState,StatusText berth-test-notify2.service
        assert_contains "$output" "active"
        assert_contains "$output" "up"
        run_tool systemctl --user stop berth-test-notify2.service
        run_tool berth-run rm -f nc
}

@test "health: a transient timer runs --health-cmd; the record goes starting -> healthy -> unhealthy" {
        run_tool berth-run run -d --name hc --health-cmd 'test ! -e /tmp/sick' --health-interval 300ms \
                --health-retries 2 "$IMG" sleep 1000
        is "$(record hc .Config.Healthcheck.Test[1])" "test ! -e /tmp/sick"
        run_tool systemctl --user is-active berth-hc-health.timer
        for _ in $(seq 100); do
                [[ $(record hc '.State.Health.Status // ""') == healthy ]] && break
                sleep 0.05
        done
        is "$(record hc .State.Health.Status)" "healthy"
        run_tool berth-run exec hc touch /tmp/sick
        for _ in $(seq 100); do
                [[ $(record hc '.State.Health.Status') == unhealthy ]] && break
                sleep 0.05
        done
        is "$(record hc .State.Health.Status)" "unhealthy"
        (($(record hc .State.Health.FailingStreak) >= 2)) || die "FailingStreak below the retries"
        is "$(record hc '.State.Health.Log[-1].ExitCode')" "1"
        run_tool berth-run rm -f hc
        run_tool '?' systemctl --user is-active berth-hc-health.timer
        is "$output" "inactive|unknown" "the timer goes with the container"
}
