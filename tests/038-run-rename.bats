#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-run rename: created, exited and running containers; the name link, the record, the scope.

load helpers

setup() {
        berth_setup
        requires uid0 systemd registry cmd:runc
        IMG=$(fixture_ref busybox:latest)
}
teardown() { berth_teardown; }

LOOP='echo started; trap "echo got-term; exit 0" TERM; while :; do sleep 0.05; done'

# The names in $ROOT/names and their targets, "NAME ID12" per line, sorted.
name_links() {
        local l
        for l in "$BERTH_ROOT"/names/*; do
                [[ -L $l ]] || continue
                echo "$(basename "$l") $(readlink "$l" | cut -c1-12)"
        done | LC_ALL=C sort
}

# gone NAME: no container answers to NAME.
gone() {
        run_tool '?' berth-run stop "$1"
        ((status != 0)) || die "'$1' still names a container"
        is "$output" "berth-run: No such container '$1'"
}

# logs_are NAME EXPECTED: the container's logs, once the journal has them all.
logs_are() {
        for _ in $(seq 100); do
                [[ $(berth-run logs "$1" 2>&1) == "$2" ]] && break
                sleep 0.05
        done
        run_tool berth-run logs "$1"
        is "$output" "$2"
}

unit_state() { systemctl --user show -P ActiveState "$1" 2>/dev/null || echo unknown; }

@test "rename: a created and an exited container; the unit follows the name; berth rename" {
        requires cmd:berth
        run_tool berth-run create --name a1 "$IMG" sh -c "$LOOP"
        local id=$output
        run_tool berth-run rename a1 b1
        is "$output" ""
        is "$(name_links)" "b1 ${id:0:12}"
        is "$(record b1 .Name)" "b1"
        is "$(record b1 .Unit)" "berth-b1.scope"
        gone a1
        run_tool berth-run start b1
        is "$(unit_state berth-b1.scope)" "active"
        run_tool berth-run stop b1
        is "$(record b1 .State.Status)" "exited"
        # exited: through the front
        run_tool berth rename b1 c1
        is "$(name_links)" "c1 ${id:0:12}"
        is "$(record c1 .Unit)" "berth-c1.scope"
        run_tool berth-run start c1
        is "$(unit_state berth-c1.scope)" "active"
        logs_are c1 "started
got-term
started"
        run_tool berth-run rm -f c1
        is "$(name_links)" ""
}

@test "rename: a running container keeps its scope; every verb by the new name; restart takes the new scope" {
        requires cmd:berth-ps cmd:berth-net cmd:ps
        run_tool berth-run run -d --name r1 -p 127.0.0.1:18391:80 --health-cmd true --health-interval 1h \
                "$IMG" sh -c "$LOOP"
        local id=$output pid
        pid=$(record r1 .State.Pid)
        is "$(unit_state berth-r1-health.timer)" "active"
        run_tool berth-run rename r1 r2
        is "$(name_links)" "r2 ${id:0:12}"
        is "$(record r2 .Name)" "r2"
        is "$(record r2 .Unit)" "berth-r1.scope" "a running container keeps its scope"
        is "$(record r2 .State.Pid)" "$pid" "the container went on running"
        is "$(unit_state berth-r1.scope)" "active"
        is "$(cat "/proc/$pid/root/etc/hostname")" "${id:0:12}" "the hostname stays"
        gone r1

        run_tool berth-run exec r2 echo in-r2
        is "$output" "in-r2"
        logs_are r2 "started"
        run_tool berth-ps --format '{{.Names}} {{.State}}'
        is "$output" "r2 running"
        run_tool berth-ps inspect --format '{{.Name}} {{.Unit}}' r2
        is "$output" "r2 berth-r1.scope"
        run_tool berth-ps port r2 80
        is "$output" "127.0.0.1:18391"
        run_tool berth-ps top r2
        assert_contains "$output" "got-term"
        run_tool berth-ps stats --no-stream --format '{{.Name}} {{.PIDs}}' r2
        is "$output" "r2 [1-9]*"
        run_tool berth-run healthcheck r2
        is "$(record r2 .State.Health.Status)" "healthy"
        run_tool berth-run pause r2
        is "$(record r2 .State.Status)" "paused"
        run_tool berth-run unpause r2
        run_tool 124 timeout 1 berth-run attach --no-stdin --sig-proxy=false r2
        run_tool berth-run kill -s WINCH r2
        is "$(record r2 .State.Status)" "running"

        # restart: the new scope; stop finds it; the health timer of the old name went with the old scope
        run_tool berth-run restart r2
        is "$(record r2 .Unit)" "berth-r2.scope"
        is "$(unit_state berth-r2.scope)" "active"
        is "$(unit_state berth-r1.scope)" "inactive|unknown"
        is "$(unit_state berth-r1-health.timer)" "inactive|unknown"
        is "$(unit_state berth-r2-health.timer)" "active"
        run_tool berth-run exec r2 echo again
        is "$output" "again"
        run_tool berth-run stop r2
        is "$(record r2 .State.Status)" "exited"
        is "$(unit_state berth-r2.scope)" "inactive|unknown"
        is "$(unit_state berth-r2-health.timer)" "inactive|unknown"
        logs_are r2 "started
got-term
started
got-term"
        run_tool berth-run rm r2
        is "$(name_links)" ""
}

@test "rename: a --restart policy restarts under the old scope; the next start takes the new one" {
        run_tool berth-run run -d --name p1 --restart always "$IMG" sh -c "$LOOP"
        local pid
        pid=$(record p1 .State.Pid)
        run_tool berth-run rename p1 p2
        run_tool berth-run exec p2 kill -TERM 1
        for _ in $(seq 100); do
                [[ $(record p2 .RestartCount) == 1 && $(record p2 .State.Status) == running ]] && break
                sleep 0.05
        done
        is "$(record p2 .RestartCount) $(record p2 .State.Status)" "1 running"
        [[ $(record p2 .State.Pid) != "$pid" ]] || die "not restarted"
        is "$(record p2 .Unit)" "berth-p1.scope" "the monitor's restarts keep its scope"
        is "$(unit_state berth-p1.scope)" "active"
        run_tool berth-run stop p2
        is "$(record p2 .State.Status)" "exited"
        is "$(unit_state berth-p1.scope)" "inactive|unknown"
        run_tool berth-run start p2
        is "$(record p2 .Unit)" "berth-p2.scope"
        is "$(unit_state berth-p2.scope)" "active"
        # the old name is free again, its scope too
        run_tool berth-run run -d --name p1 "$IMG" sleep 1000
        is "$(unit_state berth-p1.scope)" "active"
        run_tool berth-run rm -f p1 p2
        is "$(name_links)" ""
}

@test "rename: refused: a name in use (create's message), invalid names, the same name, no container" {
        run_tool berth-run create --name x1 "$IMG" true
        local id1=$output
        run_tool berth-run create --name x2 "$IMG" true
        local id2=$output
        run_tool 125 berth-run create --name x2 "$IMG" true
        local in_use=$output
        run_tool 125 berth-run rename x1 x2
        is "$output" "$in_use"
        is "$output" "berth-run: The name 'x2' is already in use"
        is "$(name_links)" "x1 ${id1:0:12}
x2 ${id2:0:12}"
        is "$(record x1 .Name)" "x1"
        is "$(record x1 .Unit)" "berth-x1.scope"
        local bad
        for bad in '' _x .x -x 'a b' a/b 'ä' "$(printf 'a%.0s' {1..65})"; do
                run_tool 125 berth-run create --name "$bad" "$IMG" true
                local want=$output
                run_tool 125 berth-run rename x1 "$bad"
                is "$output" "$want"
        done
        run_tool berth-run rename x1 "$(printf 'a%.0s' {1..64})"
        run_tool berth-run rename "$(printf 'a%.0s' {1..64})" x1
        run_tool 125 berth-run rename x1 x1
        is "$output" "berth-run: Container 'x1' is named 'x1' already"
        run_tool 125 berth-run rename nope y
        is "$output" "berth-run: No such container 'nope'"
        run_tool 125 berth-run rename x1
        run_tool 125 berth-run rename x1 y z
        is "$(name_links)" "x1 ${id1:0:12}
x2 ${id2:0:12}"
        run_tool berth-run rm x1 x2
}

@test "rename: two containers renamed to one name at once: exactly one wins; rename racing rm leaves no link" {
        run_tool berth-run create --name c1 "$IMG" true
        local id1=$output
        run_tool berth-run create --name c2 "$IMG" true
        local id2=$output
        local round rc1 rc2 winner
        for round in 1 2 3 4 5; do
                berth-run rename c1 T >"$BATS_TEST_TMPDIR/o1" 2>&1 &
                local p1=$!
                berth-run rename c2 T >"$BATS_TEST_TMPDIR/o2" 2>&1 &
                local p2=$!
                rc1=0 rc2=0
                wait $p1 || rc1=$?
                wait $p2 || rc2=$?
                if ((rc1 == 0 && rc2 == 125)); then
                        winner=$id1
                        is "$(cat "$BATS_TEST_TMPDIR/o2")" "berth-run: The name 'T' is already in use"
                        is "$(name_links)" "T ${id1:0:12}
c2 ${id2:0:12}"
                        run_tool berth-run rename T c1
                elif ((rc1 == 125 && rc2 == 0)); then
                        winner=$id2
                        is "$(cat "$BATS_TEST_TMPDIR/o1")" "berth-run: The name 'T' is already in use"
                        is "$(name_links)" "T ${id2:0:12}
c1 ${id1:0:12}"
                        run_tool berth-run rename T c2
                else
                        die "round $round: exit statuses $rc1 and $rc2"
                fi
                is "$(record T .Id 2>/dev/null || echo none)" "none"
                [[ -n $winner ]]
        done
        run_tool berth-run rm c1 c2
        for round in 1 2 3; do
                run_tool berth-run create --name d1 "$IMG" true
                berth-run rename d1 d2 >/dev/null 2>&1 &
                local p=$!
                run_tool '?' berth-run rm -f --ignore d1 d2
                wait $p || true
                berth-run rm -f --ignore d1 d2 >/dev/null 2>&1 || true
                is "$(name_links)" "" "round $round: a name stayed behind"
                is "$(ls "$BERTH_ROOT/containers")" "" "round $round: a container stayed behind"
        done
}

@test "rename: a link left by a killed rename is removed by the next rename and by rm; ps lists the record's name" {
        requires cmd:berth-ps
        run_tool berth-run create --name k1 "$IMG" true
        local id=$output
        # killed after it took the new name, before the record said so
        ln -s "$id" "$BERTH_ROOT/names/k1-new"
        run_tool berth-ps -a --format '{{.Names}}'
        is "$output" "k1"
        run_tool berth-run rename k1 k2
        is "$(name_links)" "k2 ${id:0:12}"
        # killed after the record said the new name, before the old link went: a rename back adopts it
        ln -s "$id" "$BERTH_ROOT/names/k1"
        run_tool berth-ps -a --format '{{.Names}}'
        is "$output" "k2"
        run_tool berth-run rename k2 k1
        is "$(name_links)" "k1 ${id:0:12}"
        is "$(record k1 .Name)" "k1"
        # and rm removes every link to the container
        ln -s "$id" "$BERTH_ROOT/names/left"
        run_tool berth-run rm k1
        is "$(name_links)" ""
        run_tool berth-run create --name left "$IMG" true
        run_tool berth-run rm left
}
