#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-run lifecycle verbs: create/start/stop/restart/kill/rm/wait/logs/exec/pause/unpause.

load helpers

setup() {
        berth_setup
        requires uid0 systemd registry cmd:runc
        IMG=$(fixture_ref busybox:latest)
}
teardown() { berth_teardown; }

# A container that exits on SIGTERM and says so.
LOOP='trap "echo got-term; exit 0" TERM; while :; do sleep 0.05; done'

@test "stop: the stop signal, then SIGKILL after --time; a stopped container stays stoppable" {
        run_tool berth-run run -d --name st1 "$IMG" sh -c "$LOOP"
        run_tool berth-run stop st1
        is "$(record st1 .State.ExitCode)" "0"
        run_tool berth-run logs st1
        is "$output" "got-term"
        run_tool berth-run stop st1
        is "$output" "st1" "stopping an exited container is not an error"
        # sh as PID 1 ignores SIGTERM without a trap: SIGKILL after --time
        run_tool berth-run run -d --name st2 "$IMG" sleep 1000
        local t0=$SECONDS
        run_tool berth-run stop --time 1 st2
        ((SECONDS - t0 < 5)) || die "stop --time 1 took $((SECONDS - t0))s"
        is "$(record st2 .State.ExitCode)" "137"
        run_tool berth-run rm st1 st2
}

@test "stop: --stop-signal and --stop-timeout of the container are used" {
        run_tool berth-run run -d --name sig1 --stop-signal USR1 --stop-timeout 1 "$IMG" \
                sh -c 'trap "echo got-usr1; exit 5" USR1; while :; do sleep 0.05; done'
        is "$(record sig1 .Config.StopSignal)" "USR1"
        run_tool berth-run stop sig1
        is "$(record sig1 .State.ExitCode)" "5"
        run_tool berth-run rm sig1
        run_tool 125 berth-run run --rm --stop-signal NOPE "$IMG" true
        is "$output" "berth-run: Invalid stop signal 'NOPE'"
}

@test "kill -s, wait, start again, restart" {
        run_tool berth-run run -d --name k1 "$IMG" sh -c 'trap "exit 42" HUP; while :; do sleep 0.05; done'
        run_tool berth-run kill -s HUP k1
        is "$output" "k1"
        run_tool berth-run wait k1
        is "$output" "42"
        run_tool 1 berth-run kill k1
        is "$output" "berth-run: Container 'k1' is not running"
        run_tool berth-run start k1
        is "$(record k1 .State.Status)" "running"
        local pid1
        pid1=$(record k1 .State.Pid)
        run_tool berth-run restart --time 1 k1
        is "$(record k1 .State.Status)" "running"
        [[ $(record k1 .State.Pid) != "$pid1" ]] || die "restart kept the same process"
        run_tool berth-run kill k1
        run_tool berth-run wait k1
        is "$output" "137"
        run_tool berth-run rm k1
}

@test "rm: refuses a running container without --force; --force stops it; --ignore; two rm at once" {
        run_tool berth-run run -d --name rm1 "$IMG" sleep 1000
        run_tool 1 berth-run rm rm1
        is "$output" "berth-run: Container 'rm1' is running: stop it first or use --force"
        run_tool berth-run rm --force rm1
        is "$output" "rm1"
        [[ ! -L $BERTH_ROOT/names/rm1 ]] || die "name left"
        run_tool 1 berth-run rm rm1
        run_tool berth-run rm --ignore rm1
        run_tool berth-run create --name rm2 "$IMG" true
        berth-run rm rm2 >"$BATS_TEST_TMPDIR/a" 2>&1 &
        berth-run rm rm2 >"$BATS_TEST_TMPDIR/b" 2>&1 &
        wait
        run ls -A "$BERTH_ROOT/containers"
        is "$output" "" "both rm done, no record left"
}

@test "rm: an unreadable record (cut short): one line without --force; --force kills and removes it all" {
        run_tool berth-run run -d --name cut1 "$IMG" sleep 1000
        local id pid rec
        id=$(readlink "$BERTH_ROOT/names/cut1")
        rec=$BERTH_ROOT/containers/$id/container.json
        pid=$(jq .State.Pid "$rec")
        head -c 100 "$rec" >"$BATS_TEST_TMPDIR/cut" && cat "$BATS_TEST_TMPDIR/cut" >"$rec"
        run_tool 1 berth-run rm cut1
        is "$output" "berth-run: Container 'cut1' has an unreadable record \(.*\); 'rm --force' removes it"
        [[ -L $BERTH_ROOT/names/cut1 ]] || die "the name went without --force"
        run_tool berth-run rm --force cut1
        is "$output" "cut1"
        [[ ! -L $BERTH_ROOT/names/cut1 ]] || die "name left"
        [[ ! -e $BERTH_ROOT/containers/$id ]] || die "record left"
        ! kill -0 "$pid" 2>/dev/null || die "the container still runs"
        run_tool berth-ps -a -q
        is "$output" ""
}

@test "exec: output, exit codes, -e -w -u, 126/127" {
        run_tool berth-run run -d --name ex1 "$IMG" sleep 1000
        run_tool berth-run exec ex1 sh -c 'echo in-$HOSTNAME'
        is "$output" "in-[0-9a-f]{12}"
        run_tool 3 berth-run exec ex1 sh -c 'exit 3'
        run_tool berth-run exec -e FOO=bar -w /tmp -u 1000:1000 ex1 sh -c 'echo $FOO $(pwd) $(id -u)'
        is "$output" "bar /tmp 1000"
        run_tool 127 berth-run exec ex1 nosuchcommand
        run_tool 126 berth-run exec ex1 /etc/passwd
        echo piped | berth-run exec -i ex1 cat >"$BATS_TEST_TMPDIR/out"
        is "$(cat "$BATS_TEST_TMPDIR/out")" "piped"
        run_tool berth-run rm -f ex1
        run_tool 125 berth-run exec ex1 true
}

@test "pause and unpause freeze the container" {
        run_tool berth-run run -d --name p1 "$IMG" sh -c 'while :; do date +%s%N >/tmp/t; sleep 0.05; done'
        run_tool berth-run pause p1
        is "$(record p1 .State.Status)" "paused"
        local a b
        a=$(berth-run exec p1 cat /tmp/t 2>/dev/null || echo frozen)
        sleep 0.3
        run_tool berth-run unpause p1
        is "$(record p1 .State.Status)" "running"
        sleep 0.2
        b=$(berth-run exec p1 cat /tmp/t)
        [[ $a != "$b" ]] || die "the clock did not move after unpause"
        run_tool berth-run rm -f p1
}

@test "logs: --tail, --follow until the exit, stderr kept apart" {
        run_tool berth-run run -d --name l1 "$IMG" sh -c 'for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; sleep 0.5; echo last'
        run_tool_split berth-run logs --follow l1
        is "$output" "line1
line2
line3
line4
line5
last" "stdout, in order, to the end"
        is "$stderr" "oops"
        run_tool_split berth-run logs --tail 2 l1
        is "$output" "last"
        is "$stderr" "oops"
        run_tool berth-run logs --tail 0 l1
        is "$output" ""
        run_tool berth-run rm l1
        # lines as they were: tabs, UTF-8, '=' and a line longer than the 16 KiB relay buffer (split there)
        run_tool berth-run run -d --name l2 "$IMG" sh -c 'printf "a\tb=c ü\n"; head -c 20000 /dev/zero | tr "\0" x; echo'
        run_tool berth-run wait l2
        run_tool berth-run logs l2
        is "${lines[0]}" "$(printf 'a\tb=c ü')"
        is "$(printf '%s\n' "${lines[@]:1}" | tr -d '\n' | wc -c)" 20000
        is "${#lines[1]}" 16384
        run_tool berth-run rm l2
}

@test "logs without journald: the container's ctr.log, with --follow, --tail, --since and -t" {
        requires cmd:unshare
        # the monitor starts where journald's socket is hidden: it writes containers/ID/ctr.log
        unshare -m sh -c "mount -t tmpfs none /run/systemd/journal && exec berth-run run -d --name fl \
                '$IMG' sh -c 'echo out1; echo err1 >&2; sleep 0.5; echo out2'" >/dev/null
        [[ -s $BERTH_ROOT/containers/$(readlink "$BERTH_ROOT/names/fl")/ctr.log ]] || sleep 0.2
        run_tool_split berth-run logs --follow fl
        is "$output" "out1
out2" "followed to the end, in order"
        is "$stderr" "err1"
        run_tool_split berth-run logs --tail 1 fl
        is "$output" "out2"
        is "$stderr" ""
        run_tool_split berth-run logs -t fl
        is "${lines[0]}" "20[0-9-]+T[0-9:.]+Z out1"
        run_tool berth-run logs --since 2099-01-01T00:00:00Z fl
        is "$output" ""
        run_tool berth-run rm fl
}

@test "a killed CLI does not stop the container: berth-run run in the foreground, SIGKILLed" {
        berth-run run --name fg1 "$IMG" sleep 1000 >/dev/null 2>&1 &
        local cli=$!
        for _ in $(seq 100); do
                [[ -L $BERTH_ROOT/names/fg1 && $(record fg1 .State.Status 2>/dev/null) == running ]] && break
                sleep 0.05
        done
        kill -KILL "$cli"
        wait "$cli" || true
        local pid
        pid=$(record fg1 .State.Pid)
        kill -0 "$pid" || die "the container died with the CLI"
        run_tool systemctl --user is-active berth-fg1.scope
        run_tool berth-run rm -f fg1
        [[ ! -e /proc/$pid ]] || grep -q '^State:.*Z' "/proc/$pid/status" || die "still running"
}

@test "monitor and container killed, runtime dir lost (a reboot, as far as berth knows): stop, start and rm work" {
        run_tool berth-run run -d --name rb --hostname rbhost --add-host db:192.0.2.10 --dns 192.0.2.53 "$IMG" sleep 1000
        local mon pid
        mon=$(record rb .State.MonitorPid)
        pid=$(record rb .State.Pid)
        kill -KILL "$mon" "$pid"
        for _ in $(seq 50); do
                [[ -e /proc/$pid ]] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null || break
                sleep 0.02
        done
        rm -rf "${BERTH_RUNROOT:?}/containers"
        is "$(record rb .State.Status)" "running" "the record still says running"
        run_tool berth-run stop rb
        is "$(record rb .State.Status)" "exited"
        run_tool berth-run start rb
        is "$(record rb .State.Status)" "running"
        # the /etc files lived in the lost runtime dir: made again from the record
        run_tool berth-run exec rb sh -c 'cat /etc/hostname; grep db /etc/hosts; grep nameserver /etc/resolv.conf'
        is "$output" "rbhost
192.0.2.10	db
nameserver 192.0.2.53"
        run_tool berth-run rm -f rb
        [[ ! -L $BERTH_ROOT/names/rb ]] || die "name left"
}

@test "the foreground CLI forwards SIGTERM to the container and records its exit" {
        berth-run run --name fwd "$IMG" sh -c 'trap "echo got-term; exit 7" TERM; while :; do sleep 0.05; done' \
                >"$BATS_TEST_TMPDIR/out" 2>&1 &
        local cli=$!
        for _ in $(seq 100); do
                [[ -L $BERTH_ROOT/names/fwd && $(record fwd .State.Status 2>/dev/null) == running ]] && break
                sleep 0.05
        done
        kill -TERM "$cli"
        local rc=0
        wait "$cli" || rc=$?
        is "$rc" "7" "berth-run exits with the container's status"
        is "$(cat "$BATS_TEST_TMPDIR/out")" "got-term"
        is "$(record fwd .State.ExitCode)" "7"
        run_tool berth-run rm fwd
}

@test "races: stop against a natural exit ends with a consistent record" {
        local i
        for i in 1 2 3 4 5; do
                run_tool berth-run run -d --name race$i "$IMG" sh -c "sleep 0.0$((i * 2))"
                berth-run stop --time 1 race$i >/dev/null 2>&1 &
                berth-run stop --time 1 race$i >/dev/null 2>&1 &
                wait
                run_tool berth-run wait race$i
                is "$output" "0|137|143"
                is "$(record race$i .State.Status)" "exited"
                run_tool berth-run rm race$i
        done
}

@test "prune: removes every container that is not running and prints its ID; --filter; asks without -f" {
        run_tool berth-run create --name pr-created "$IMG" true
        local created exited labelled running
        created=$(readlink "$BERTH_ROOT/names/pr-created")
        run_tool berth-run run --name pr-exited "$IMG" true
        exited=$(readlink "$BERTH_ROOT/names/pr-exited")
        run_tool berth-run run --name pr-label --label tier=web "$IMG" true
        labelled=$(readlink "$BERTH_ROOT/names/pr-label")
        run_tool berth-run run -d --name pr-running "$IMG" sleep 1000
        running=$(readlink "$BERTH_ROOT/names/pr-running")
        run_tool berth-run prune </dev/null
        is "$output" "WARNING! This will remove all non running containers.
Are you sure you want to continue? [y/N] " "no answer: nothing removed"
        [[ -d $BERTH_ROOT/containers/$created ]] || die "prune without -f removed a container"
        run_tool berth-run prune -f --filter label=tier=db
        is "$output" ""
        run_tool berth-run prune -f --filter until=1h
        is "$output" "" "all were created less than an hour ago"
        run_tool berth-run prune -f --filter label=tier=web
        is "$output" "$labelled"
        run_tool berth-run prune <<<y
        is "$(tail -n +2 <<<"$output" | sed 's/.*\] //' | sort)" "$(printf '%s\n' "$created" "$exited" | sort)"
        [[ ! -L $BERTH_ROOT/names/pr-exited ]] || die "the name stayed"
        is "$(ls "$BERTH_ROOT/containers")" "$running" "the running container stays"
        run_tool 2 berth-run prune -f --filter bogus=1
        assert_contains "$output" "Invalid --filter 'bogus=1'"
        run_tool berth-run rm -f pr-running
}

@test "prune --filter autoremove=true: only --rm containers (berth-prune.service's leftovers)" {
        # a --rm container that never ran stands for one whose monitor died before it could remove it
        run_tool berth-run create --rm --name pa-rm "$IMG" true
        local rmid
        rmid=$(readlink "$BERTH_ROOT/names/pa-rm")
        run_tool berth-run run --name pa-keep "$IMG" true
        run_tool berth-run run -d --rm --name pa-live "$IMG" sleep 1000
        run_tool berth-run prune -f --filter autoremove=true
        is "$output" "$rmid"
        [[ -L $BERTH_ROOT/names/pa-keep ]] || die "a container without --rm was pruned"
        [[ -L $BERTH_ROOT/names/pa-live ]] || die "a running container was pruned"
        run_tool berth-run rm -f pa-keep pa-live
}

# Start `berth-run attach [OPTIONS] NAME` (attach_bg NAME OPTIONS...) in the background (output in $BATS_TEST_TMPDIR/attach.{out,err}) and wait
# until the monitor has accepted it.
attach_bg() {
        local name=$1 sock
        sock=$BERTH_RUNROOT/containers/$(readlink "$BERTH_ROOT/names/$name")/attach.sock
        [[ -S $sock ]] || die "no attach socket $sock"
        local mon before
        mon=$(record "$name" .State.MonitorPid)
        before=$(ls "/proc/$mon/fd" | wc -l)
        berth-run attach "${@:2}" "$name" >"$BATS_TEST_TMPDIR/attach.out" 2>"$BATS_TEST_TMPDIR/attach.err" &
        ATTACH_PID=$!
        # accepted once the monitor holds one more fd
        for _ in $(seq 250); do
                (($(ls "/proc/$mon/fd" | wc -l) > before)) && return 0
                sleep 0.02
        done
        die "the monitor did not accept the attach"
}

@test "attach: follows the output (stdout and stderr apart) until the exit, exits with the code" {
        run_tool berth-run run -d --name at1 "$IMG" sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done; echo out; echo err >&2; exit 3'
        attach_bg at1
        run_tool berth-run exec at1 touch /tmp/go
        local rc=0
        wait "$ATTACH_PID" || rc=$?
        is "$rc" "3" "attach exits with the container's code"
        is "$(cat "$BATS_TEST_TMPDIR/attach.out")" "out"
        is "$(cat "$BATS_TEST_TMPDIR/attach.err")" "err"
        [[ ! -e $BERTH_RUNROOT/containers/$(readlink "$BERTH_ROOT/names/at1")/attach.sock ]] || die "the socket stayed"
        run_tool 125 berth-run attach at1
        is "$output" "berth-run: Container 'at1' is not running"
        run_tool berth-run rm at1
}

@test "attach: stdin of a -i container; --no-stdin; signals are forwarded unless --sig-proxy=false" {
        run_tool berth-run run -d -i --name at2 "$IMG" sh -c 'read x; echo "got $x"; read y; echo "then $y"; exit 4'
        run_tool 124 timeout 1 berth-run attach --no-stdin --sig-proxy=false at2 <<<"ignored"
        is "$output" "" "--no-stdin sent nothing"
        run_tool 4 berth-run attach at2 <<<"hello
world"
        is "$output" "got hello
then world" "the lines reached the container's stdin; the container's code"
        run_tool berth-run rm at2
        run_tool berth-run run -d --name at3 "$IMG" sh -c 'trap "echo got-term; exit 7" TERM; while :; do sleep 0.05; done'
        attach_bg at3
        kill -TERM "$ATTACH_PID"
        local rc=0
        wait "$ATTACH_PID" || rc=$?
        is "$rc" "7"
        is "$(cat "$BATS_TEST_TMPDIR/attach.out")" "got-term"
        run_tool berth-run run -d --name at4 "$IMG" sh -c 'trap "exit 7" TERM; while :; do sleep 0.05; done'
        attach_bg at4 --sig-proxy=false
        kill -TERM "$ATTACH_PID"
        wait "$ATTACH_PID" || true
        run_tool berth-run exec at4 true
        is "$status" "0" "--sig-proxy=false: the container still runs"
        run_tool berth-run rm -f at3 at4
}

@test "attach: a -t -i container takes input through its terminal; ctrl-p ctrl-q detaches" {
        run_tool berth-run run -d -i -t --name at5 "$IMG" sh
        run_tool sh -c "{ printf 'echo hi >/tmp/f\\n'; sleep 0.5; printf '\\020\\021'; sleep 5; } | berth-run attach at5"
        is "$status" "0" "detached"
        run_tool berth-run exec at5 cat /tmp/f
        is "$output" "hi" "the input reached the shell; it still runs"
        run_tool berth-run rm -f at5
}
