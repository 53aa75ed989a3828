#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-ps over real containers made by berth-run: the status through the lifecycle, after a killed supervisor
# (THREATS R9), after the loss of the runtime directory (S3), inspect and stats of a live container.

load helpers

setup() {
        requires root registry cmd:berth-run
        berth_setup
        IMAGE=$(fixture_ref busybox:latest)
}

teardown() {
        local id
        for id in $(berth-ps -a -q --no-trunc 2>/dev/null); do
                berth-run rm -f "$id" >/dev/null 2>&1 || true
        done
        berth_teardown
}

# wait_state NAME STATE: polls berth-ps (at most 5 s).
wait_state() {
        local i
        for ((i = 0; i < 100; i++)); do
                [[ $(berth-ps -a --filter "name=^$1\$" --format '{{.State}}') == "$2" ]] && return 0
                sleep 0.05
        done
        die "$1 did not reach $2: $(berth-ps -a --filter "name=^$1\$" --format '{{.State}} {{.Error}}')"
}

json_field() {
        jq -r "$1" <<<"$output"
}

@test "e2e: a detached container through its lifecycle: running, paused, exited with its code" {
        run_tool berth-run run -d --name web --label tier=front "$IMAGE" sleep 100
        local id=$output
        run_tool berth-ps
        is "${#lines[@]}" 2
        is "${lines[1]}" "${id:0:12} *$IMAGE *sleep 100 *Less than a second ago *Up .* web"
        run_tool berth-ps --format json
        is "$(json_field '.[0].Id')" "$id"
        is "$(json_field '.[0].Labels.tier')" front
        local pid
        pid=$(json_field '.[0].Pid')
        [[ $(tr '\0' ' ' <"/proc/$pid/cmdline") == "sleep 100 " ]] || die "Pid $pid is not the container's init"
        run_tool berth ps --filter ancestor=busybox -q
        is "$output" "${id:0:12}"

        run_tool berth-ps inspect web
        is "$(json_field '.[0].State.Status')" running
        is "$(json_field '.[0].State.Running')" true
        is "$(json_field '.[0].State.Pid')" "$pid"
        is "$(json_field '.[0].Unit')" "berth-web.scope"

        run_tool berth-run pause web
        run_tool berth-ps --format '{{.Names}} {{.Status}}'
        is "$output" "web Paused"
        run_tool berth-run unpause web
        wait_state web running

        run_tool berth-run kill web
        wait_state web exited
        run_tool berth-ps -a --format '{{.Names}} {{.Status}} {{.ExitCode}}'
        is "$output" "web Exited \(137\) .* ago 137"

        run_tool '?' berth-run run --name three "$IMAGE" sh -c 'exit 3'
        is "$status" 3
        run_tool berth-ps -a --filter name=three --format '{{.Status}}'
        is "$output" "Exited \(3\) .* ago"
}

@test "e2e: stats of a live container, in every format" {
        run_tool berth-run run -d --name busy "$IMAGE" sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 100'
        run_tool berth-ps stats --no-stream
        is "${lines[1]}" "[0-9a-f]{12} *busy *[0-9.]+% .* [1-9][0-9]*"
        run_tool berth-ps stats --no-stream --format json
        is "$(json_field '.[0].PIDsCurrent >= 1')" true
        is "$(json_field '.[0].CPUNano > 0')" true
        is "$(json_field '.[0].MemUsageBytes > 0')" true
        run_tool berth stats --format prometheus
        local prom=$output
        run_tool /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
s = fams["berth_container_cpu_seconds"].samples[0]
assert s.labels["name"] == "busy" and s.labels["unit"] == "berth-busy.scope", s.labels
assert s.value > 0
print("ok")' <<<"$prom"
        is "$output" ok
        # Without --no-stream: a sample a second until interrupted.
        run_tool 124 timeout 2.5 berth-ps stats --format '{{.Name}} {{.PIDs}}'
        ((${#lines[@]} >= 2)) || die "expected at least 2 samples in 2.5 s, got: $output"
        is "${lines[1]}" "busy [1-9][0-9]*"
        run_tool berth-run rm -f busy
}

@test "e2e: killed supervisor: running while the container lives, exited (255) after (R9)" {
        run_tool berth-run run -d --name svc "$IMAGE" sleep 100
        run_tool berth-ps inspect svc
        local mon pid
        mon=$(json_field '.[0].State.MonitorPid')
        pid=$(json_field '.[0].State.Pid')
        ((mon > 1 && pid > 1)) || die "no MonitorPid/Pid in the record"
        kill -KILL "$mon"
        run_tool berth-ps --format '{{.Names}} {{.State}}'
        is "$output" "svc running" "the container outlives its supervisor"
        run_tool berth-ps --format json
        assert_contains "$(json_field '.[0].Error')" "supervisor (pid $mon) is gone"

        kill -KILL "$pid"
        wait_state svc exited
        run_tool berth-ps -q
        is "$output" "" "never running once both are gone"
        run_tool berth-ps -a --format '{{.Names}} {{.ExitCode}} {{.Status}}'
        is "$output" "svc 255 Exited \(255\) .* ago"
        run_tool berth-ps inspect --format '{{.State.Status}} {{.State.Running}} {{.State.Pid}}' svc
        is "$output" "exited false 0"
}

@test "e2e: runtime directory lost: running while its proven init lives, exited after (S3)" {
        run_tool berth-run run -d --name lost "$IMAGE" sleep 100
        local id=$output
        [[ -d $BERTH_RUNROOT/containers/$id ]] || die "no runtime dir at $BERTH_RUNROOT/containers/$id"
        rm -rf "${BERTH_RUNROOT:?}/containers/$id"
        run_tool berth-ps --format '{{.Names}} {{.State}} {{.Error}}'
        is "$output" "lost running its runtime directory is gone, but its init .* is alive"
        run_tool berth-run kill lost
        wait_state lost exited
        run_tool berth-ps -q
        is "$output" ""
}

@test "e2e: port and top of a live container; neither of a stopped one" {
        requires cmd:berth-net cmd:curl cmd:ps
        run_tool berth-run run -d --name pt -p 127.0.0.1:18087:80 -p 18088:53/udp "$IMAGE" \
                sh -c 'sleep 1000 & exec httpd -f -p 80 -h /etc'
        local id=$output
        run_tool berth-run exec -d pt sleep 999
        sleep 4242 &
        local outsider=$!

        run_tool berth port pt
        is "$(sort <<<"$output")" "53/udp -> 0.0.0.0:18088
80/tcp -> 127.0.0.1:18087"
        run_tool berth-ps port pt 80
        is "$output" "127.0.0.1:18087"
        run_tool berth-ps port pt 53/udp
        is "$output" "0.0.0.0:18088"
        wait_http "http://$(berth-ps port pt 80)/hostname"
        run_tool curl -fsS --max-time 5 "http://$(berth-ps port pt 80)/hostname"
        is "$output" "${id:0:12}"
        run_tool 1 berth-ps port pt 81
        is "$output" "berth-ps: No public port '81/tcp' published for 'pt'"
        run_tool 2 berth-ps port pt 80/icmp
        is "$output" "berth-ps: Invalid port '80/icmp': expected PORT or PORT/PROTOCOL \(tcp, udp, sctp\)"
        run_tool berth-ps port -a 80
        is "$output" "${id:0:12}	127.0.0.1:18087"
        run_tool berth-ps port --format json pt
        is "$(json_field 'map("\(.container_port)/\(.protocol) \(.host_port) \(.name)") | sort | join(",")')" \
                "53/udp 18088 pt,80/tcp 18087 pt"

        run_tool berth top pt
        assert_contains "${lines[0]}" "PID"
        is "$(grep -c . <<<"$output")" 4 "a header and three processes"
        assert_contains "$output" "httpd -f -p 80 -h /etc"
        assert_contains "$output" "sleep 1000"
        assert_contains "$output" "sleep 999"
        assert_not_contains "$output" "sleep 4242"
        run_tool berth-ps top pt -o pid,comm
        is "$(sed 1d <<<"$output" | awk '{print $2}' | sort | tr '\n' ' ')" "httpd sleep sleep "
        run_tool berth-ps top --format json pt -o pid,args
        is "$(json_field '.Titles | join(",")')" "PID,COMMAND"
        is "$(json_field '[.Processes[][1]] | sort | join(",")')" "httpd -f -p 80 -h /etc,sleep 1000,sleep 999"
        run_tool 1 berth-ps top pt -o comm
        is "$output" "berth-ps: ps output has no PID column: add 'pid' to its -o fields"
        run_tool 2 berth-ps top
        is "$output" "berth-ps: 'top' needs a container"
        kill "$outsider"

        run_tool berth-run stop -t 0 pt
        run_tool berth-ps port pt
        is "$output" ""
        run_tool 1 berth-ps port pt 80
        is "$output" "berth-ps: Container 'pt' is not running \(exited\)"
        run_tool 1 berth-ps top pt
        is "$output" "berth-ps: Container 'pt' is not running \(exited\)"
        run_tool 1 berth-ps top nosuch
        is "$output" "berth-ps: No such container: 'nosuch'"
        run_tool berth-run rm pt
}
