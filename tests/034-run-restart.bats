#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-run --restart in the monitor (no daemon), and --sdnotify for Type=notify units.

load helpers

setup() {
        berth_setup
        requires uid0 systemd registry cmd:runc
        IMG=$(fixture_ref busybox:latest)
}
teardown() {
        if [[ -e $XDG_RUNTIME_DIR/systemd/user/berth-restart.service ]]; then
                systemctl --user stop berth-restart.service 2>/dev/null || true
                rm -rf "$XDG_RUNTIME_DIR"/systemd/user/berth-restart.service*
                systemctl --user daemon-reload || true
        fi
        berth_teardown
}

wait_health() { # NAME STATUS: until the record's health status is STATUS (at most 5 s; the caller asserts)
        for _ in $(seq 100); do
                [[ $(record "$1" '.State.Health.Status // ""') == "$2" ]] && return 0
                sleep 0.05
        done
}

wait_restarts() { # NAME N: until RestartCount >= N
        for _ in $(seq 100); do
                (($(record "$1" .RestartCount) >= $2)) && return 0
                sleep 0.05
        done
        die "RestartCount of $1 stayed at $(record "$1" .RestartCount), expected $2"
}

kill_and_wait_back() { # NAME: SIGKILL its init; it must run again, another process, restarted once
        local pid1
        pid1=$(record "$1" .State.Pid)
        kill -KILL "$pid1"
        wait_restarts "$1" 1
        for _ in $(seq 100); do
                [[ $(record "$1" .State.Status) == running && $(record "$1" .State.Pid) != "$pid1" ]] && break
                sleep 0.05
        done
        is "$(record "$1" .State.Status)" "running"
}

@test "--restart=on-failure:2 restarts a failing container twice, then records the exit" {
        run_tool berth-run run -d --name rf --restart on-failure:2 "$IMG" sh -c 'echo run; exit 3'
        run_tool berth-run wait rf
        is "$output" "3"
        is "$(record rf .RestartCount)" "2"
        is "$(record rf .State.Status)" "exited"
        run_tool berth-ps -a --format json
        is "$(jq -r '.[0].Restarts' <<<"$output")" "2" "berth-ps shows the restarts"
        run_tool berth-ps inspect rf
        is "$(jq -r '.[0].RestartCount' <<<"$output")" "2"
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
        kill_and_wait_back ra
        run_tool systemctl --user is-active berth-ra.scope
        run_tool berth-run stop --time 1 ra
        is "$(record ra .State.Status)" "exited"
        is "$(record ra .RestartCount)" "1"
        run_tool berth-run rm ra
        run_tool 125 berth-run run --rm --restart always "$IMG" true
        assert_contains "$output" "--rm and --restart"
}

@test "--restart: a stop during the back-off between two runs ends the policy too" {
        run_tool berth-run run -d --name bs --restart always "$IMG" sh -c 'exit 3'
        # five quick failures: the back-off before the next run is 3.2 s by then
        wait_restarts bs 5
        local i
        for ((i = 0; i < 200; i++)); do
                [[ $(record bs .State.Status) == exited ]] && break
                sleep 0.02
        done
        is "$(record bs .State.Status)" "exited" "waiting between two runs"
        run_tool berth-run stop bs
        # the monitor is gone, and nothing runs again
        local mon n
        mon=$(record bs .State.MonitorPid)
        n=$(record bs .RestartCount)
        # (gone, or a zombie of the world's init, which reaps lazily)
        [[ ! -e /proc/$mon ]] || grep -q '^State:.*Z' "/proc/$mon/status" 2>/dev/null ||
                die "the monitor ($mon) still runs after stop"
        sleep 0.5
        is "$(record bs .RestartCount)" "$n" "no restart after the stop"
        is "$(record bs .State.Status)" "exited"
        run_tool berth-run rm bs
}

@test "--restart backs off: at least 100 ms, then 200, then 400 before each restart" {
        # A lower bound only (never a timing bound from above): each start appends the machine's uptime.
        mkdir "$BATS_TEST_TMPDIR/t"
        run_tool berth-run run -d --name bo --restart on-failure:3 -v "$BATS_TEST_TMPDIR/t:/t" "$IMG" \
                sh -c 'cat /proc/uptime >>/t/starts; exit 1'
        run_tool berth-run wait bo
        is "$output" "1"
        run_tool awk 'NR > 1 { printf "%d\n", ($1 - prev) * 100 + 0.5 } { prev = $1 }' "$BATS_TEST_TMPDIR/t/starts"
        local d=("${lines[@]}")
        is "${#d[@]}" 3 "three restarts"
        ((d[0] >= 9 && d[1] >= 19 && d[2] >= 39)) || die "backoff too short (centiseconds): ${d[*]}"
        run_tool berth-run rm bo
}

@test "--restart=unless-stopped comes back like always; kill and stop end either for good" {
        run_tool berth-run run -d --name us --restart unless-stopped "$IMG" sleep 1000
        kill_and_wait_back us
        run_tool berth-ps --format '{{.Names}} {{.Restarts}}'
        is "$output" "us 1"
        run_tool berth-run stop --time 1 us
        is "$(record us .State.StopRequested)" "true"
        is "$(record us .State.Status)" "exited"
        # start clears it; kill (TERM or KILL) ends the container for good as stop does
        run_tool berth-run start us
        is "$(record us .State.StopRequested)" "false"
        run_tool berth-run kill us
        run_tool berth-run wait us
        is "$(record us .State.Status)" "exited"
        is "$(record us .RestartCount)" "1" "not restarted after kill"
        run_tool berth-run rm us
}

# What a reboot leaves of running containers: records that say running, no process, no mount, an empty
# runtime directory (a tmpfs on a real host), no scope.
fake_reboot() {
        local n pids=()
        for n in "$@"; do
                pids+=("$(record "$n" .State.MonitorPid)" "$(record "$n" .State.Pid)")
        done
        kill -KILL "${pids[@]}"
        for n in "$@"; do
                for _ in $(seq 200); do
                        [[ $(systemctl --user show -P ActiveState "berth-$n.scope") != active ]] && break
                        sleep 0.05
                done
        done
        local m
        while read -r m; do
                umount -l "$m"
        done < <(findmnt -rn -o TARGET | grep -F "$BERTH_ROOT" || true)
        rm -rf "${BERTH_RUNROOT:?}"/*
}

@test "after a reboot berth-restart.service starts always and unless-stopped containers again, nothing else" {
        requires cmd:berth-ps
        local n
        run_tool berth-run run -d --name b-always --restart always "$IMG" sleep 1000
        run_tool berth-run run -d --name b-unless --restart unless-stopped "$IMG" sleep 1000
        run_tool berth-run run -d --name b-stopped --restart unless-stopped "$IMG" sleep 1000
        run_tool berth-run run -d --name b-stopped2 --restart always "$IMG" sleep 1000
        run_tool berth-run run -d --name b-onfail --restart on-failure "$IMG" sleep 1000
        run_tool berth-run run -d --name b-no "$IMG" sleep 1000
        run_tool berth-run stop --time 1 b-stopped b-stopped2
        fake_reboot b-always b-unless b-onfail b-no
        is "$(record b-always .State.Status)" "running" "the record still says running"

        # By hand, a container the reboot left as 'running' starts again.
        run_tool berth-run start b-no
        is "$(record b-no .State.Status)" "running"
        run_tool berth-run rm -f b-no

        mkdir -p "$XDG_RUNTIME_DIR/systemd/user/berth-restart.service.d"
        sed "s|@bindir@|$(realpath "$BERTH_BUILD")|g" "$BERTH_TESTS_DIR/../units/berth-restart.service.in" \
                >"$XDG_RUNTIME_DIR/systemd/user/berth-restart.service"
        printf '[Service]\nEnvironment=BERTH_ROOT=%s BERTH_RUNROOT=%s\n' "$BERTH_ROOT" "$BERTH_RUNROOT" \
                >"$XDG_RUNTIME_DIR/systemd/user/berth-restart.service.d/state.conf"
        run_tool systemctl --user daemon-reload
        run_tool systemctl --user start berth-restart.service
        run_tool berth-ps -a --format '{{.Names}} {{.State}}'
        run_tool sort <<<"$output"
        is "$output" "b-always running
b-onfail exited
b-stopped exited
b-stopped2 running
b-unless running"
        # Each in a scope of its own, as when started by hand.
        for n in b-always b-unless b-stopped2; do
                run_tool systemctl --user is-active "berth-$n.scope"
                grep -q "berth-$n.scope" "/proc/$(record $n .State.Pid)/cgroup" ||
                        die "$n is not in its scope: $(cat "/proc/$(record $n .State.Pid)/cgroup")"
        done
        # Stopping the unit leaves them running (and supervised).
        run_tool systemctl --user stop berth-restart.service
        is "$(berth-ps --format '{{.Names}}' | sort | tr '\n' ' ')" "b-always b-stopped2 b-unless "
        run_tool berth-run start --all --filter restart-policy=always
        run_tool 2 berth-run start --filter restart-policy=always
        run_tool 2 berth-run start --all --filter restart-policy=sometimes
        run_tool 2 berth-run start --all b-always
        run_tool berth-run rm -f b-always b-unless b-stopped b-stopped2 b-onfail
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
        wait_health hc healthy
        is "$(record hc .State.Health.Status)" "healthy"
        run_tool berth-run exec hc touch /tmp/sick
        wait_health hc unhealthy
        is "$(record hc .State.Health.Status)" "unhealthy"
        (($(record hc .State.Health.FailingStreak) >= 2)) || die "FailingStreak below the retries"
        is "$(record hc '.State.Health.Log[-1].ExitCode')" "1"
        run_tool berth-ps --format '{{.Names}} {{.Status}}'
        is "$output" "hc Up * (unhealthy)"
        run_tool berth-ps --format json
        is "$(jq -r '.[0].Health' <<<"$output")" "unhealthy"
        # Checks go on (more than systemd's default 5 starts in 10 s): healthy again once the cause is gone.
        run_tool berth-run exec hc rm /tmp/sick
        wait_health hc healthy
        is "$(record hc .State.Health.Status)" "healthy"
        run_tool berth-ps --format '{{.Status}}'
        is "$output" "Up * (healthy)"
        run_tool berth-run rm -f hc
        run_tool '?' systemctl --user is-active berth-hc-health.timer
        is "$output" "inactive|unknown" "the timer goes with the container"
}

@test "health: starting until the first check; --health-start-period and --health-timeout" {
        requires cmd:berth-ps
        # The first check comes after one interval: until then the container is starting.
        run_tool berth-run run -d --name hs --health-cmd true --health-interval 1h "$IMG" sleep 1000
        is "$(record hs .State.Health.Status)" "starting"
        run_tool berth-ps --format '{{.Names}} {{.Status}}'
        is "$output" "hs Up * (starting)"

        # Failures within the start period do not count: still starting, nothing failing. Each check leaves a
        # line: checks go on past systemd's default start limit (5 in 10 s) of the timer's service.
        run_tool berth-run run -d --name hp --health-cmd 'echo x >>/tmp/checks; false' --health-interval 200ms \
                --health-retries 1 --health-start-period 1h "$IMG" sleep 1000
        # A check that takes longer than --health-timeout fails (exit code -1, as docker records it).
        run_tool berth-run run -d --name ht --health-cmd 'sleep 30' --health-interval 200ms \
                --health-timeout 200ms --health-retries 1 "$IMG" sleep 1000
        for _ in $(seq 300); do
                [[ $(berth-run exec hp cat /tmp/checks 2>/dev/null | wc -l) -ge 8 &&
                        $(record ht .State.Health.Status) == unhealthy ]] && break
                sleep 0.05
        done
        run_tool berth-run exec hp cat /tmp/checks
        ((${#lines[@]} >= 8)) || die "the checks stopped after ${#lines[@]}"
        # (with the default limit they would pause for the rest of each 10 s, so that says it directly)
        run_tool systemctl --user show -P StartLimitIntervalUSec berth-hp-health.service
        is "$output" "0"
        is "$(record hp .State.Health.Status)" "starting"
        is "$(record hp .State.Health.FailingStreak)" "0"
        is "$(record hp '.State.Health.Log[-1].ExitCode')" "1"
        is "$(record ht .State.Health.Status)" "unhealthy"
        is "$(record ht '.State.Health.Log[-1].ExitCode')" "-1"
        run_tool berth-run rm -f hs hp ht
}
