#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-run run: the container's output and exit status, the record, the scope, the journal.

load helpers

setup() {
        berth_setup
        requires uid0 systemd registry cmd:runc
        IMG=$(fixture_ref busybox:latest)
}
teardown() { berth_teardown; }

@test "run: output, exit status, --rm leaves nothing behind" {
        run_tool_split berth-run run --rm "$IMG" echo hi
        is "$output" "hi"
        is "$stderr" "" "nothing on stderr"
        run_tool 3 berth-run run --rm "$IMG" sh -c 'exit 3'
        run_tool 137 berth-run run --rm "$IMG" sh -c 'sh -c "kill -9 \$\$"; exit $?'
        is "$(ls -A "$BERTH_ROOT/containers" "$BERTH_ROOT/names" | grep -vc -e : -e '^$')" "0" "no record and no name left"
        run_tool ls -A "$BERTH_RUNROOT/containers"
        is "$output" "" "no runtime state left"
}

@test "run: 125 for berth's own errors, 126 and 127 for the command" {
        run_tool 127 berth-run run --rm "$IMG" /no/such/program
        assert_contains "$output" "no such file or directory"
        run_tool 127 berth-run run --rm "$IMG" nosuchcommand
        assert_contains "$output" "executable file not found"
        run_tool 126 berth-run run --rm "$IMG" /etc/passwd
        run_tool 125 berth-run run --rm --pull=never "$BERTH_TEST_REGISTRY/nosuch:1" true
        is "$output" "berth-run: Image '$BERTH_TEST_REGISTRY/nosuch:1' is not in the store (--pull=never)"
        run_tool 125 berth-run run --rm "$BERTH_TEST_REGISTRY/nosuch:1" true
        assert_contains "$output" "Cannot pull image '$BERTH_TEST_REGISTRY/nosuch:1'"
        run_tool 125 berth-run run --no-such-flag "$IMG" true
        is "$output" "berth-run: Unknown option '--no-such-flag'"
        run_tool 125 berth-run run --rm --cap-add CAP_NOPE "$IMG" true
        assert_contains "$output" "unknown capability 'CAP_NOPE'"
        run_tool 125 berth-run run --rm -v /no/such/dir:/x "$IMG" true
        assert_contains "$output" "source '/no/such/dir'"
        run_tool 125 berth-run run --rm --runtime nosuchruntime "$IMG" true
        is "$output" "berth-run: OCI runtime 'nosuchruntime' not found"
        is "$(ls -A "$BERTH_ROOT/containers" "$BERTH_ROOT/names" | grep -vc -e : -e '^$')" "0" "failed runs leave no record"
}

@test "run: --pull=always pulls again, --pull=never uses the store" {
        run_tool berth-run run --rm "$IMG" true
        run_tool berth-run run --rm --pull=never "$IMG" echo from-store
        is "$output" "from-store"
        run_tool berth-run run --rm --pull=always "$IMG" echo pulled
        is "${lines[-1]}" "pulled"
}

@test "run: the record says exited with code and times; a name in use is refused" {
        run_tool 7 berth-run run --name rec1 "$IMG" sh -c 'exit 7'
        is "$(record rec1 .State.Status)" "exited"
        is "$(record rec1 .State.ExitCode)" "7"
        is "$(record rec1 .Name)" "rec1"
        is "$(record rec1 .Unit)" "berth-rec1.scope"
        is "$(record rec1 .ImageName)" "$IMG"
        is "$(record rec1 .Image)" "sha256:[0-9a-f]{64}"
        is "$(record rec1 .State.StartedAt)" "20[0-9-]+T[0-9:.]+Z"
        is "$(record rec1 .State.FinishedAt)" "20[0-9-]+T[0-9:.]+Z"
        is "$(record rec1 '.Config.Cmd | join(" ")')" "sh -c exit 7"
        run_tool 125 berth-run run --name rec1 "$IMG" true
        is "$output" "berth-run: The name 'rec1' is already in use"
        run_tool berth-run rm rec1
        is "$output" "rec1"
        [[ ! -L $BERTH_ROOT/names/rec1 ]] || die "name link left"
        run_tool 1 berth-run rm rec1
        is "$output" "berth-run: No such container 'rec1'"
}

@test "run -d: prints the ID, runs in berth-NAME.scope, logs to the journal; stop records the exit" {
        run_tool berth-run run -d --name web1 "$IMG" sh -c 'echo to-out; echo to-err >&2; trap "exit 0" TERM; while :; do sleep 0.1; done'
        is "$output" "[0-9a-f]{64}"
        local id=$output
        run_tool systemctl --user is-active berth-web1.scope
        is "$output" "active"
        run_tool systemctl --user show -P Slice,Delegate,CollectMode berth-web1.scope
        is "$output" "machine.slice
yes
inactive-or-failed"
        is "$(record web1 .State.Status)" "running"
        local pid
        pid=$(record web1 .State.Pid)
        grep -q 'berth-web1.scope' "/proc/$pid/cgroup" || die "container pid $pid is not in its scope: $(cat /proc/$pid/cgroup)"
        # in every hierarchy, below the scope's own cgroup (runc was given its absolute path)
        local scg
        scg=$(systemctl --user show -P ControlGroup berth-web1.scope)
        is "$(grep -cv ":$scg/container\$" "/proc/$pid/cgroup")" "0" "every line of /proc/$pid/cgroup is $scg/container"
        for _ in $(seq 50); do
                [[ $(journalctl --no-pager -o cat CONTAINER_NAME=web1 | wc -l) -ge 2 ]] && break
                sleep 0.1
        done
        run_tool journalctl --no-pager -o cat CONTAINER_NAME=web1 CONTAINER_ID_FULL="$id"
        assert_contains "$output" "to-out"
        assert_contains "$output" "to-err"
        run_tool journalctl --no-pager -o cat CONTAINER_ID="${id:0:12}" CONTAINER_TAG="${id:0:12}" IMAGE_NAME="$IMG"
        assert_contains "$output" "to-out"
        run_tool_split berth-run logs web1
        is "$output" "to-out"
        is "$stderr" "to-err"
        run_tool berth-run stop --time 5 web1
        is "$output" "web1"
        is "$(record web1 .State.Status)" "exited"
        is "$(record web1 .State.ExitCode)" "0"
        run_tool '?' systemctl --user is-active berth-web1.scope
        is "$output" "inactive|unknown"
        run_tool berth-run rm web1
}

@test "run: systemctl --user stop berth-NAME.scope stops the container and the record says exited" {
        run_tool berth-run run -d --name scoped "$IMG" sh -c 'trap "exit 143" TERM; while :; do sleep 0.1; done'
        run_tool systemctl --user stop berth-scoped.scope
        run_tool berth-run wait scoped
        is "$output" "143"
        is "$(record scoped .State.Status)" "exited"
        run_tool berth-ps -a --filter name=scoped --format '{{.Names}} {{.State}}'
        is "$output" "scoped exited"
        run_tool berth-run rm scoped
}

@test "run: inside a service no scope is made; without a manager it runs anyway and says so once" {
        run_tool_split env INVOCATION_ID=0123456789abcdef0123456789abcdef berth-run run --name insvc "$IMG" \
                sh -c 'cat /proc/self/cgroup'
        assert_not_contains "$output" "berth-insvc.scope"
        is "$stderr" ""
        run_tool berth-run rm insvc
        run_tool_split env -u XDG_RUNTIME_DIR BERTH_MANAGER=user berth-run run --rm "$IMG" echo ok
        is "$output" "ok"
        is "$stderr" "berth-run: No systemd manager reachable: running '[0-9a-f]{12}' without a scope"
}

@test "run: -e, --env-file, -w, -u, --hostname, --entrypoint reach the process" {
        printf 'A=from-file\n# comment\nB=two words\n' >"$BATS_TEST_TMPDIR/env"
        run_tool berth-run run --rm -e X=1 --env-file "$BATS_TEST_TMPDIR/env" -e A=override -w /new/dir \
                -u 1000:1001 --hostname h1 "$IMG" sh -c 'echo "$X|$A|$B|$(pwd)|$(id -u):$(id -g)|$(hostname)|$HOSTNAME"'
        is "$output" "1|override|two words|/new/dir|1000:1001|h1|h1"
        run_tool berth-run run --rm --entrypoint /bin/echo "$IMG" a b
        is "$output" "a b"
        run_tool berth-run run --rm "$IMG" sh -c 'cat /etc/hostname; grep -c localhost /etc/hosts; test -c /dev/null && test -d /dev/pts && test -d /dev/shm && test -d /dev/mqueue && echo devs'
        is "${lines[1]}" "2"
        is "${lines[2]}" "devs"
}

@test "run: config.json has docker's defaults, and empty inheritable and ambient sets" {
        run_tool berth-run create --name cfg "$IMG" true
        local id=$output
        local cfg=$BERTH_ROOT/containers/$id/config.json
        is "$(jq -r '.process.capabilities.bounding | sort | join(",")' "$cfg")" \
                "CAP_AUDIT_WRITE,CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_MKNOD,CAP_NET_BIND_SERVICE,CAP_NET_RAW,CAP_SETFCAP,CAP_SETGID,CAP_SETPCAP,CAP_SETUID,CAP_SYS_CHROOT"
        is "$(jq -c '[.process.capabilities.inheritable, .process.capabilities.ambient]' "$cfg")" "[[],[]]"
        is "$(jq -r '[.linux.namespaces[].type] | sort | join(",")' "$cfg")" "cgroup,ipc,mount,network,pid,uts"
        is "$(jq -r '.linux.maskedPaths | index("/proc/kcore") != null' "$cfg")" "true"
        is "$(jq -r '.linux.readonlyPaths | index("/proc/sys") != null' "$cfg")" "true"
        is "$(jq -r '[.mounts[].destination] | join(",")' "$cfg")" \
                "/proc,/dev,/dev/pts,/dev/shm,/dev/mqueue,/sys,/sys/fs/cgroup,/etc/hosts,/etc/resolv.conf,/etc/hostname"
        is "$(record cfg .State.Status)" "created"
        run_tool berth-run start cfg
        run_tool berth-run wait cfg
        is "$output" "0"
        run_tool berth-run rm cfg
}

@test "run: 50 concurrent --rm runs all succeed and leave no record, name, mount or scope" {
        mkdir "$BATS_TEST_TMPDIR/out"
        seq 50 | xargs -P 50 -I{} sh -c \
                "berth-run run --rm '$IMG' echo n{} >'$BATS_TEST_TMPDIR/out/{}' 2>&1; echo \$? >>'$BATS_TEST_TMPDIR/out/{}'"
        local i
        for i in $(seq 50); do
                is "$(cat "$BATS_TEST_TMPDIR/out/$i")" "n$i
0" "run $i"
        done
        is "$(ls -A "$BERTH_ROOT/containers" | wc -l)" "0" "no record left"
        is "$(ls -A "$BERTH_ROOT/names" | wc -l)" "0" "no name left"
        is "$(ls -A "$BERTH_RUNROOT/runtime" 2>/dev/null | wc -l)" "0" "no runtime state left"
}

@test "run: a leftover scope of the same name: an empty one (failed) gives way, one with a process is refused" {
        # what a container of this name left: a scope that failed (its process killed at a timeout), still
        # loaded
        run_tool systemd-run --user --scope --unit=berth-lo1.scope -p RuntimeMaxSec=0.2 sleep 30 || true
        local i
        for ((i = 0; i < 100; i++)); do
                [[ $(systemctl --user show -P ActiveState berth-lo1.scope) == failed ]] && break
                sleep 0.05
        done
        is "$(systemctl --user show -P ActiveState berth-lo1.scope)" "failed"
        run_tool berth-run run --rm --name lo1 "$IMG" echo took-the-name
        is "$output" "took-the-name"
        # a live scope of that name (another root's container, say) is nobody's leftover
        systemd-run --user --scope --unit=berth-lo2.scope sleep 30 >/dev/null 2>&1 &
        local runner=$!
        for ((i = 0; i < 100; i++)); do
                systemctl --user is-active -q berth-lo2.scope && break
                sleep 0.05
        done
        run_tool 125 berth-run run --rm --name lo2 "$IMG" true
        assert_contains "$stderr$output" "Unit 'berth-lo2.scope' exists already"
        is "$(systemctl --user show -P ActiveState berth-lo2.scope)" "active" "the live scope is left alone"
        systemctl --user stop berth-lo2.scope
        wait "$runner" || true
}

@test "run: a runtime that loses its new cgroup to the manager's trimming is run again once the scope is made" {
        # fault injection around the real runc: the first two runs fail as runc does when systemd removed the
        # still empty <scope>/container under it (docs/run.md, "Start sequence")
        local shim=$BATS_TEST_TMPDIR/runc-shim
        cat >"$shim" <<-EOF2
	#!/bin/bash
	if [[ " \$* " == *" run "* && ! -e $BATS_TEST_TMPDIR/failed-twice ]]; then
	        [[ -e $BATS_TEST_TMPDIR/failed-once ]] && touch $BATS_TEST_TMPDIR/failed-twice
	        touch $BATS_TEST_TMPDIR/failed-once
	        while (( \$# )); do [[ \$1 == --log ]] && log=\$2; shift; done
	        echo '{"level":"error","msg":"runc run failed: unable to start container process: unable to apply cgroup configuration: failed to write 42: openat2 /sys/fs/cgroup/blkio/machine.slice/x.scope/container/cgroup.procs: no such file or directory"}' >"\$log"
	        exit 1
	fi
	exec runc "\$@"
	EOF2
        chmod +x "$shim"
        run_tool berth-run run --rm --runtime "$shim" "$IMG" echo third-time
        is "$output" "third-time"
        [[ -e $BATS_TEST_TMPDIR/failed-twice ]] || die "the shim did not fail twice"
        # any other failure is reported, not retried
        rm -f "$BATS_TEST_TMPDIR/failed-once" "$BATS_TEST_TMPDIR/failed-twice"
        sed -i 's/unable to apply cgroup configuration/something else/' "$shim"
        run_tool 125 berth-run run --rm --runtime "$shim" "$IMG" echo never
        assert_contains "$output" "something else"
}
