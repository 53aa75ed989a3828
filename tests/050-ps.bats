#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-ps: listing, status reconciliation, filters, formats. Records are written here in the shape of
# docs/design.md ("Container records"), as berth-run writes them; tests/050-ps-e2e.bats uses real containers.

load helpers

setup() {
        berth_setup
        mkdir -p "$BERTH_ROOT/containers" "$BERTH_ROOT/names" "$BERTH_RUNROOT/containers"
        BOOT_ID=$(cat /proc/sys/kernel/random/boot_id)
        PIDS_TO_KILL=()
        FREEZER_CG=
        CGROUPS=()
}

teardown() {
        if [[ -n $FREEZER_CG && -d $FREEZER_CG ]]; then
                freeze_cg 0 2>/dev/null || true
        fi
        local p
        for p in "${PIDS_TO_KILL[@]}"; do
                kill -KILL "$p" 2>/dev/null || true
                wait "$p" 2>/dev/null || true
        done
        if [[ -n $FREEZER_CG && -d $FREEZER_CG ]]; then
                rmdir "$FREEZER_CG" 2>/dev/null || true
        fi
        cgroups_cleanup
        berth_teardown
}

# make_record NAME STATUS [JQ-FILTER]: writes a record, sets $ID. The filter edits the record.
make_record() {
        local name=$1 status=$2 filter=${3:-.}
        ID=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
        mkdir -p "$BERTH_ROOT/containers/$ID"
        ln -s "$ID" "$BERTH_ROOT/names/$name"
        jq -n --arg id "$ID" --arg name "$name" --arg st "$status" --arg boot "$BOOT_ID" \
                --arg now "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" '{
                Id: $id, Name: $name, Created: $now,
                Image: "sha256:31ae079354948046073ffe17abcc9a7b52664daa877817391abc739a7152d6ce",
                ImageName: "127.0.0.1:5000/busybox:latest",
                Config: {Cmd: ["sleep", "100"], Entrypoint: null, Labels: {tier: "web", "x.y": "1"}, Env: []},
                State: {Status: $st, Running: ($st == "running"), Paused: false, Pid: 0, ExitCode: 0,
                        StartedAt: $now, FinishedAt: "0001-01-01T00:00:00Z", BootId: $boot, Error: ""},
                HostConfig: {}, Mounts: [], NetworkSettings: {Networks: {}}, Unit: ("berth-" + $name + ".scope"),
                Slice: "machine.slice"}' | jq "$filter" >"$BERTH_ROOT/containers/$ID/container.json"
}

# start_sleeper: a real process to stand in for a container's init; sets $SPID and $SSTART.
start_sleeper() {
        sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
        SPID=$!
        PIDS_TO_KILL+=("$SPID")
        SSTART=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$SPID/stat")
}

# make_running NAME [JQ-FILTER]: a running record whose init is a live sleeper, with its runtime dir.
make_running() {
        start_sleeper
        make_record "$1" running ".State.Pid = $SPID | .State.InitStartTime = $SSTART | ${2:-.}"
        mkdir -p "$BERTH_RUNROOT/containers/$ID"
}

json_field() {
        jq -r "$1" <<<"$output"
}

@test "ps: usage errors exit 2 with one line" {
        run_tool 2 berth-ps --bogus
        is "${#lines[@]}" 1
        run_tool 2 berth-ps --filter nope=1
        is "$output" "*Invalid --filter 'nope=1'*"
        run_tool 2 berth-ps --filter status=sleeping
        is "$output" "*Invalid --filter status='sleeping'*"
        run_tool 2 berth-ps --filter 'name=(['
        run_tool 2 berth-ps -n x
        run_tool 2 berth-ps --format prometheus
        run_tool 2 berth-ps --format '{{'
        run_tool 2 berth-ps extra-arg
}

@test "ps: --help matches the man page" {
        run_tool berth-ps --help
        local opt
        for opt in $(grep -o -- '--[a-z][a-z-]*' <<<"$output" | sort -u); do
                grep -q -- "$opt" "$BERTH_TESTS_DIR/../man/berth-ps.1.scd" || die "man page lacks $opt"
        done
        run_tool berth ps --help
        assert_contains "$output" "berth-ps inspect"
}

@test "ps: empty state lists nothing, in every format" {
        rm -rf "$BERTH_ROOT/containers"
        run_tool berth-ps -a
        is "$output" "CONTAINER ID *IMAGE *COMMAND *CREATED *STATUS *PORTS *NAMES"
        run_tool berth-ps -a -q
        is "$output" ""
        run_tool berth-ps -a --format json
        is "$output" "[]"
}

@test "ps: created, running, exited; -a, -q, --no-trunc, -n, --latest" {
        make_record one created
        local id_created=$ID
        sleep 0.01
        make_record two exited '.State.ExitCode = 3 | .State.FinishedAt = (now - 200 | todate)'
        local id_exited=$ID
        sleep 0.01
        make_running three
        local id_running=$ID

        run_tool berth-ps
        is "${#lines[@]}" 2 "without -a: only the running one"
        is "${lines[1]}" "${id_running:0:12} *127.0.0.1:5000/busybox:latest *sleep 100 *Less than a second ago *Up Less than a second *three"

        run_tool berth-ps -a
        is "${#lines[@]}" 4
        is "${lines[1]}" "${id_running:0:12} .*three" "newest first"
        is "${lines[2]}" "${id_exited:0:12} .*Exited \(3\) 3 minutes ago *two"
        is "${lines[3]}" "${id_created:0:12} .*Created *one"

        run_tool berth-ps -a -q
        is "$output" "${id_running:0:12}"$'\n'"${id_exited:0:12}"$'\n'"${id_created:0:12}"
        run_tool berth-ps -a -q --no-trunc
        is "${lines[0]}" "$id_running"
        run_tool berth-ps -q -n 2
        is "$output" "${id_running:0:12}"$'\n'"${id_exited:0:12}"
        run_tool berth-ps -q --latest
        is "$output" "${id_running:0:12}"
        run_tool berth-ps -q -n 0
        is "$output" ""
}

@test "ps: --format json has podman's fields and values" {
        make_running web '.Config.Entrypoint = ["/bin/sh", "-c"] | .Config.Cmd = ["echo a very long command"]
                | .NetworkSettings.Networks = {berth: {IPAddress: "10.88.0.2"}}
                | .NetworkSettings.Ports = {"80/tcp": [{HostIp: "", HostPort: "8080"}]}
                | .Mounts = [{Type: "bind", Source: "/srv", Destination: "/data"}]'
        run_tool berth-ps --format json
        is "$(json_field 'length')" 1
        is "$(json_field '.[0] | keys | join(",")')" \
                "AutoRemove,Command,Created,CreatedAt,ExitCode,Exited,ExitedAt,Health,Id,Image,ImageID,Labels,Mounts,Names,Networks,Pid,Ports,Restarts,StartedAt,State,Status"
        is "$(json_field '.[0].Id')" "$ID"
        is "$(json_field '.[0].Names | join(",")')" web
        is "$(json_field '.[0].Image')" "127.0.0.1:5000/busybox:latest"
        is "$(json_field '.[0].ImageID')" "31ae079354948046073ffe17abcc9a7b52664daa877817391abc739a7152d6ce"
        is "$(json_field '.[0].Command | join("|")')" "/bin/sh|-c|echo a very long command"
        is "$(json_field '.[0].State')" running
        is "$(json_field '.[0].Status')" "Up *"
        is "$(json_field '.[0].Pid')" "$SPID"
        is "$(json_field '.[0].Exited')" false
        is "$(json_field '.[0].Labels.tier')" web
        is "$(json_field '.[0].Networks | join(",")')" berth
        is "$(json_field '.[0].Mounts | join(",")')" /data
        is "$(json_field '.[0].Ports[0] | "\(.host_port)->\(.container_port)/\(.protocol)"')" "8080->80/tcp"
        is "$(json_field '(.[0].Created | type) + (.[0].StartedAt | type)')" numbernumber
        run_tool berth-ps
        is "${lines[1]}" ".* /bin/sh -c echo a\.\.\. .*0\.0\.0\.0:8080->80/tcp *web"
        run_tool berth-ps --no-trunc
        assert_contains "${lines[1]}" "/bin/sh -c echo a very long command"
}

@test "ps: --format templates render podman's strings" {
        make_record a exited '.State.ExitCode = 137 | .State.FinishedAt = (now - 10 | todate)'
        run_tool berth-ps -a --format '{{.Names}} {{.Status}}'
        is "$output" "a Exited \(137\) 1[01] seconds ago"
        run_tool berth-ps -a --format '{{.ID}}\t{{.State}}\t{{.Labels.tier}}\t{{json .Names}}'
        is "$output" "${ID:0:12}"$'\t'"exited"$'\t'"web"$'\t''"a"'
        run_tool berth-ps -a --format 'table {{.Names}} {{.Image}}'
        is "${lines[0]}" "NAMES IMAGE"
        is "${lines[1]}" "a 127.0.0.1:5000/busybox:latest"
}

@test "ps: filters (name regex, id prefix, status, label, ancestor, network) AND across keys, OR within" {
        make_record web1 exited '.NetworkSettings.Networks = {front: {}}'
        local web1=$ID
        make_record web2 created '.Config.Labels = {tier: "db"}'
        local web2=$ID
        make_record db1 created '.ImageName = "127.0.0.1:5000/layered:latest" | .Image = "sha256:'"$(printf 'a%.0s' {1..64})"'"'
        local db1=$ID

        q() {
                run_tool berth-ps -a -q --no-trunc "$@"
                [[ -z $output ]] || sort <<<"$output" | tr '\n' ' '
        }
        is "$(q --filter name=^web)" "$(printf '%s\n' "$web1" "$web2" | sort | tr '\n' ' ')"
        is "$(q --filter name=^web --filter status=created)" "$web2 "
        is "$(q --filter status=created --filter status=exited --filter name=1$)" \
                "$(printf '%s\n' "$web1" "$db1" | sort | tr '\n' ' ')"
        is "$(q --filter id="${db1:0:5}")" "$db1 "
        is "$(q --filter label=tier=db)" "$web2 "
        is "$(q --filter label=x.y)" "$(printf '%s\n' "$web1" "$db1" | sort | tr '\n' ' ')"
        is "$(q --filter ancestor=layered)" "$db1 "
        is "$(q --filter ancestor=127.0.0.1:5000/layered:latest)" "$db1 "
        is "$(q --filter ancestor=aaaaaaaa)" "$db1 "
        is "$(q --filter ancestor=busybox --filter name=web2)" "$web2 "
        is "$(q --filter network=front)" "$web1 "
        is "$(q --filter network=nope)" ""
        # a status filter implies -a, as in docker
        run_tool berth-ps -q --filter status=exited
        is "$output" "${web1:0:12}"
}

@test "ps: killed supervisor: running while the init lives, exited (255) once it is gone (R9)" {
        make_running svc '.State.MonitorPid = 999999999 | .State.MonitorStartTime = 1'
        run_tool berth-ps --format json
        is "$(json_field '.[0].State')" running
        assert_contains "$(json_field '.[0].Error')" "supervisor"

        kill -KILL "$SPID"
        wait "$SPID" 2>/dev/null || true
        run_tool berth-ps -q
        is "$output" "" "never running once the init and the supervisor are gone"
        run_tool berth-ps -a --format json
        is "$(json_field '.[0].State')" exited
        is "$(json_field '.[0].ExitCode')" 255
        is "$(json_field '.[0].Status')" "Exited \(255\) .* ago"
        run_tool berth-ps -a
        is "${lines[1]}" ".*Exited \(255\) .*svc"
}

@test "ps: a recycled pid (other start time) is not the container" {
        make_running reuse '.State.InitStartTime = 1'
        run_tool berth-ps -a --format '{{.State}}'
        is "$output" exited
}

@test "ps: runtime dir gone or boot ID changed: exited unless the proven init lives; the record is untouched (S3)" {
        make_running lost
        local lost=$ID
        rm -rf "${BERTH_RUNROOT:?}/containers/$lost"
        # the pid is alive, but nothing proves it is the container's init: no start time recorded
        make_running unproven '.State.InitStartTime = 0'
        rm -rf "${BERTH_RUNROOT:?}/containers/$ID"
        make_running rebooted '.State.BootId = "00000000-0000-0000-0000-000000000000"'
        local rebooted=$ID
        local before
        before=$(cat "$BERTH_ROOT/containers/$lost/container.json" "$BERTH_ROOT/containers/$rebooted/container.json" | sha256sum)

        run_tool berth-ps -a --format '{{.Names}} {{.State}} {{.ExitCode}}'
        is "$output" "rebooted exited 255"$'\n'"unproven exited 255"$'\n'"lost running 0" \
                "only the init proven by its start time outweighs a lost runtime dir"
        run_tool berth-ps -a --format json
        assert_contains "$output" "boot ID changed"
        assert_contains "$output" "runtime directory is gone (reboot"
        assert_contains "$output" "runtime directory is gone, but its init"
        # and once that init is gone too
        kill -KILL "${PIDS_TO_KILL[0]}"
        wait "${PIDS_TO_KILL[0]}" 2>/dev/null || true
        run_tool berth-ps -q
        is "$output" "" "none of them runs"
        is "$(cat "$BERTH_ROOT/containers/$lost/container.json" "$BERTH_ROOT/containers/$rebooted/container.json" | sha256sum)" \
                "$before" "berth-ps writes nothing"
}

@test "ps: supervisor alive but init gone reads as stopping" {
        start_sleeper
        local mon=$SPID mst=$SSTART
        make_record ending running ".State.Pid = 999999999 | .State.InitStartTime = 5 | .State.MonitorPid = $mon | .State.MonitorStartTime = $mst"
        mkdir -p "$BERTH_RUNROOT/containers/$ID"
        run_tool berth-ps --format '{{.State}} {{.Status}}'
        is "$output" "stopping Stopping"
}

# freeze_cg 1|0: freezes or thaws $FREEZER_CG (v1 freezer, or cgroup.freeze on a unified host).
freeze_cg() {
        if [[ -f $FREEZER_CG/freezer.state ]]; then
                echo "$([[ $1 == 1 ]] && echo FROZEN || echo THAWED)" >"$FREEZER_CG/freezer.state"
        else
                echo "$1" >"$FREEZER_CG/cgroup.freeze"
        fi
}

@test "ps: paused from the record and from the cgroup freezer" {
        requires root
        make_running p1
        local p1=$ID
        run_tool berth-ps --format '{{.Names}} {{.State}}'
        is "$output" "p1 running"

        if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
                FREEZER_CG=/sys/fs/cgroup/berth-ps-test-$$-$BATS_TEST_NUMBER
        else
                FREEZER_CG=/sys/fs/cgroup/freezer/berth-ps-test-$$-$BATS_TEST_NUMBER
        fi
        mkdir "$FREEZER_CG"
        echo "$SPID" >"$FREEZER_CG/cgroup.procs"
        freeze_cg 1
        run_tool berth-ps --format '{{.Names}} {{.State}} {{.Status}}'
        is "$output" "p1 paused Paused" "a frozen cgroup is paused whatever the record says"

        freeze_cg 0
        jq '.State.Status = "paused"' "$BERTH_ROOT/containers/$p1/container.json" >"$BATS_TEST_TMPDIR/r"
        mv "$BATS_TEST_TMPDIR/r" "$BERTH_ROOT/containers/$p1/container.json"
        run_tool berth-ps --format '{{.Names}} {{.State}}'
        is "$output" "p1 running" "the record says paused, the cgroup is thawed"
        echo "$SPID" >"${FREEZER_CG%/*}/cgroup.procs"
}

@test "ps: corrupt, half-written and foreign records show as unknown; the listing never fails (S2)" {
        make_record good created
        local good=$ID
        make_record trunc created
        head -c 40 "$BERTH_ROOT/containers/$ID/container.json" >"$BATS_TEST_TMPDIR/t"
        mv "$BATS_TEST_TMPDIR/t" "$BERTH_ROOT/containers/$ID/container.json"
        local trunc=$ID
        make_record empty created
        : >"$BERTH_ROOT/containers/$ID/container.json"
        make_record array created
        echo '[1,2]' >"$BERTH_ROOT/containers/$ID/container.json"
        make_record foreign created
        jq --arg id "$good" '.Id = $id' "$BERTH_ROOT/containers/$ID/container.json" >"$BATS_TEST_TMPDIR/f"
        mv "$BATS_TEST_TMPDIR/f" "$BERTH_ROOT/containers/$ID/container.json"
        make_record nostate created 'del(.State)'
        make_record dir-only created
        rm "$BERTH_ROOT/containers/$ID/container.json"
        make_record huge created
        truncate -s 5M "$BERTH_ROOT/containers/$ID/container.json"
        mkdir -p "$BERTH_ROOT/containers/not-an-id" "$BERTH_ROOT/containers/.tmp-xyz"

        run_tool_split berth-ps -a --format '{{.Names}} {{.State}}'
        is "$(sort <<<"$output" | tr '\n' ' ')" \
                "array unknown dir-only unknown empty unknown foreign unknown good created huge unknown nostate unknown trunc unknown "
        assert_contains "$stderr" "Container ${trunc:0:12}: corrupt record"
        run_tool_split berth-ps -a --format json
        is "$(json_field '[.[] | select(.State == "unknown") | .Error | length > 0] | all')" true
        is "$(json_field '.[] | select(.Names[0] == "foreign") | .Error')" "*Id does not match*"
        is "$(json_field '.[] | select(.Names[0] == "dir-only") | .Error')" "*no container.json*"
        run_tool_split berth-ps -a -q
        is "${#lines[@]}" 8
        run_tool_split berth-ps
        is "$output" "CONTAINER ID .*" "unknown ones are not running"
        is "$stderr" "" "no warnings about containers that are not shown"
}

@test "ps: the listing's scanner and jansson read a record alike (table, JSON, templates, filters)" {
        # The same record twice; the second has a member with an escaped name, which the scanner leaves to
        # jansson (cmd/ps/record-scan.c), so the two reach the output through the two parsers.
        local filter='.Created = "2026-01-02T03:04:05.5Z" | .State.StartedAt = "2026-01-02T03:04:06Z"
                | .State.FinishedAt = "2026-01-02T03:05:06Z" | .State.ExitCode = 3
                | .Config.Entrypoint = ["/bin/sh", "-c"] | .Config.Cmd = ["echo \"caf\u00e9\" \t\\ /x"]
                | .Config.Labels = {tier: "web", "caf\u00e9": "\ud83d\ude00", quote: "a\"b\nc"}
                | .NetworkSettings.Networks = {berth: {IPAddress: "10.88.0.2", Aliases: ["w"]}, other: {}}
                | .NetworkSettings.Ports = {"80/tcp": [{HostIp: "", HostPort: "8080"}], "53/udp": null}
                | .HostConfig = {AutoRemove: true, Memory: 1e9, PortBindings: {}, Env: ["A=1"]}
                | .Mounts = [{Type: "bind", Source: "/srv", Destination: "/data"}, {Destination: "/é"}]
                | .State.Health = {Status: "healthy", Log: [{Output: "ok"}]} | .Junk = [1.5, -0, {a: [null]}]'
        make_record scanned exited "$filter"
        local a=$ID
        make_record parsed exited "$filter"
        local b=$ID
        local rec=$BERTH_ROOT/containers/$b/container.json
        { printf '{"\\u004aunk2": 1,' && tail -c +2 "$rec"; } >"$rec.new" && mv "$rec.new" "$rec"
        jq -e '.Junk2 == 1' "$rec" >/dev/null
        run_tool berth-ps -a -q --log-level debug
        assert_contains "$output" "Loaded 2 records, 1 of them parsed by jansson"

        local f out_a out_b
        for f in --format=json '--format={{.Names}}|{{.Command}}|{{.Labels}}|{{.Ports}}|{{.Mounts}}|{{.Networks}}|{{.Status}}|{{.CreatedAt}}' \
                --no-trunc --filter=label=tier=web --filter=network=other --filter=ancestor=busybox; do
                run_tool berth-ps -a "$f" --filter "id=$a"
                out_a=${output//$a/ID}
                out_a=${out_a//${a:0:12}/ID}
                out_a=${out_a//scanned/NAME}
                run_tool berth-ps -a "$f" --filter "id=$b"
                out_b=${output//$b/ID}
                out_b=${out_b//${b:0:12}/ID}
                out_b=${out_b//parsed/NAME}
                [[ -n $out_a && $out_a == "$out_b" ]] || die "berth-ps -a $f differs:"$'\n'"$out_a"$'\n'"$out_b"
        done
        run_tool berth-ps -a --format json --filter "id=$a"
        is "$(json_field '.[0].Labels["caf\u00e9"]')" $'\xf0\x9f\x98\x80'
        is "$(json_field '.[0].Command | join("|")')" '/bin/sh|-c|echo "café" '$'\t''\ /x'
        is "$(json_field '.[0].Mounts | join(",")')" "/data,/é"
        is "$(json_field '.[0].Networks | join(",")')" "berth,other"
        is "$(json_field '.[0].AutoRemove')" true
        is "$(json_field '.[0].ExitCode')" 3
}

@test "ps: a record replaced while listing is read whole (atomic rename), never half" {
        make_record churn exited
        # one writer replacing the record as berth-run does (temp file + rename), with varying sizes, for 1.5 s
        /usr/bin/python3 -c '
import json, os, sys, time
path = sys.argv[1]
rec = json.load(open(path))
end = time.time() + 1.5
i = 0
while time.time() < end:
    i += 1
    rec["State"]["ExitCode"] = i % 256
    rec["Config"]["Env"] = ["PAD=" + "x" * (i * 37 % 5000)]
    with open(path + ".tmp", "w") as f:
        json.dump(rec, f, indent=2)
    os.replace(path + ".tmp", path)
' "$BERTH_ROOT/containers/$ID/container.json" </dev/null >/dev/null 3>&- &
        local writer=$!
        local n=0 out
        while kill -0 "$writer" 2>/dev/null; do
                out=$(berth-ps -a --format '{{.State}}' 2>&1)
                [[ $out == exited ]] || die "read a half-written record: $out"
                n=$((n + 1))
        done
        wait "$writer"
        ((n > 5)) || die "the reader ran only $n times while the writer did"
}

@test "ps: 1000 records list in well under a second" {
        python3 - "$BERTH_ROOT" "$BOOT_ID" <<'EOF'
import json, os, secrets, sys
root, boot = sys.argv[1], sys.argv[2]
for i in range(1000):
    cid = secrets.token_hex(32)
    d = os.path.join(root, "containers", cid)
    os.makedirs(d)
    rec = {"Id": cid, "Name": "c%04d" % i, "Created": "2026-01-01T00:00:%02d.000000000Z" % (i % 60),
           "Image": "sha256:" + "b" * 64, "ImageName": "127.0.0.1:5000/busybox:latest",
           "Config": {"Cmd": ["sleep", "100"], "Labels": {"n": str(i)}, "Env": ["PATH=/bin"] * 10},
           "State": {"Status": ["exited", "created", "running"][i % 3], "ExitCode": i % 7, "Pid": 0,
                     "BootId": boot, "StartedAt": "2026-01-01T00:00:00Z",
                     "FinishedAt": "2026-01-01T01:00:00Z"},
           "HostConfig": {"Memory": 0}, "Mounts": [], "NetworkSettings": {"Networks": {"berth": {}}}}
    with open(os.path.join(d, "container.json"), "w") as f:
        json.dump(rec, f, indent=2)
    os.symlink(cid, os.path.join(root, "names", rec["Name"]))
EOF
        # timed without run_tool: bash reading 40000 lines of JSON would dominate
        local t0=$EPOCHREALTIME
        berth-ps -a --format json >"$BATS_TEST_TMPDIR/out.json"
        local t1=$EPOCHREALTIME
        output=$(<"$BATS_TEST_TMPDIR/out.json")
        is "$(json_field 'length')" 1000
        is "$(json_field '[.[] | select(.State == "running")] | length')" 0 "running records without a runtime dir"
        is "$(berth-ps -a | wc -l)" 1001
        local ms
        ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
        echo "# 1000 records as JSON: ${ms} ms (timing is bench/ps's business, not a pass/fail criterion)" >&3
}

# in_cgroups PID: moves PID into a fresh cgroup of every v1 controller stats reads (or of the v2 hierarchy).
in_cgroups() {
        local pid=$1 h
        CGROUPS=()
        if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
                CGROUPS=(/sys/fs/cgroup/berth-ps-test-$$-$BATS_TEST_NUMBER)
        else
                for h in memory cpuacct pids blkio; do
                        CGROUPS+=("/sys/fs/cgroup/$h/berth-ps-test-$$-$BATS_TEST_NUMBER")
                done
        fi
        for h in "${CGROUPS[@]}"; do
                mkdir "$h"
                echo "$pid" >"$h/cgroup.procs"
        done
}

cgroups_cleanup() {
        local h
        for h in "${CGROUPS[@]}"; do
                [[ -d $h ]] || continue
                cat "$h/cgroup.procs" >"${h%/*}/cgroup.procs" 2>/dev/null || true
                rmdir "$h" 2>/dev/null || true
        done
}

@test "stats: cgroup numbers as a table, JSON and Prometheus text (validated by prometheus_client)" {
        requires root
        # a process that uses some CPU, then sleeps; the container's init. It waits on a fifo until it is in
        # its cgroups, so that what it uses is charged there.
        mkfifo "$BATS_TEST_TMPDIR/go"
        sh -c 'read -r _ <"$1"; i=0; while [ $i -lt 30000 ]; do i=$((i + 1)); done; exec sleep 1000' sh \
                "$BATS_TEST_TMPDIR/go" </dev/null >/dev/null 2>&1 3>&- &
        SPID=$!
        PIDS_TO_KILL+=("$SPID")
        in_cgroups "$SPID"
        echo go >"$BATS_TEST_TMPDIR/go"
        for _ in $(seq 100); do
                [[ $(readlink "/proc/$SPID/exe") == */sleep ]] && break
                sleep 0.05
        done
        SSTART=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$SPID/stat")
        make_record 'we"b' running ".State.Pid = $SPID | .State.InitStartTime = $SSTART | .State.StartedAt = (now - 10 | todate)"
        mkdir -p "$BERTH_RUNROOT/containers/$ID"
        local web=$ID
        make_record idle exited
        ID=$web

        run_tool berth-ps stats --no-stream
        is "${lines[0]}" "ID *NAME *CPU % *MEM USAGE / LIMIT *MEM % *NET IO *BLOCK IO *PIDS"
        is "${#lines[@]}" 2 "only the running container"
        is "${lines[1]}" "${ID:0:12} *we\"b *[0-9.]+% .* 1"

        run_tool berth-ps stats --no-stream --format json
        is "$(json_field '.[0].PIDsCurrent')" 1
        is "$(json_field '.[0].CPUNano > 0')" true "the busy loop was accounted"
        is "$(json_field '.[0].MemUsageBytes > 0')" true
        is "$(json_field '.[0].MemLimit > .[0].MemUsageBytes')" true
        is "$(json_field '.[0].Name')" 'we"b'

        run_tool berth-ps stats --format prometheus
        local prom=$output
        run_tool /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
cpu = fams["berth_container_cpu_seconds"].samples[0]
assert cpu.labels["name"] == "we\"b", cpu.labels
assert cpu.labels["image"] == "127.0.0.1:5000/busybox:latest"
assert cpu.labels["unit"] == "berth-we\"b.scope"
assert cpu.value > 0
assert fams["berth_container_pids"].samples[0].value == 1
assert fams["berth_container_memory_usage_bytes"].samples[0].value > 0
assert len(fams["berth_container_info"].samples) == 1
print(len(fams))
' <<<"$prom"
        is "$output" 10 "families: info, start time and 8 metrics"

        run_tool berth-ps stats --no-stream "$ID"
        is "${#lines[@]}" 2
        run_tool_split 1 berth-ps stats idle nope
        is "${stderr_lines[0]}" "berth-ps: Container 'idle' is not running (exited)"
        is "${stderr_lines[1]}" "berth-ps: No such container: 'nope'"
        kill -KILL "$SPID"
        wait "$SPID" 2>/dev/null || true
        cgroups_cleanup
        run_tool berth-ps stats --format prometheus
        assert_not_contains "$output" "berth_container_info{"
}

@test "ps: a held (or orphaned) record lock does not block the reader (S1)" {
        make_record locked exited
        local lockf=$BERTH_ROOT/containers/$ID/lock
        # the lock is held by the sleeper itself (fd 9), so killing it releases it; fd 3 is bats' own
        (
                exec 9>"$lockf"
                flock 9
                exec sleep 1000
        ) </dev/null >/dev/null 2>&1 3>&- &
        PIDS_TO_KILL+=("$!")
        for _ in $(seq 100); do
                flock -n "$lockf" true 2>/dev/null || break
                sleep 0.02
        done
        BERTH_CMD_TIMEOUT=5 run_tool berth-ps -a --format '{{.Names}} {{.State}}'
        is "$output" "locked exited"
        BERTH_CMD_TIMEOUT=5 run_tool berth-ps inspect --format '{{.State.Status}}' locked
        is "$output" exited
}

@test "ps: berth-ps writes nothing: a fresh root stays empty, images removed under a container do not matter (S4, S6)" {
        local fresh=$BATS_TEST_TMPDIR/fresh
        run_tool berth-ps --root "$fresh/root" --runroot "$fresh/run" -a
        run_tool berth-ps --root "$fresh/root" --runroot "$fresh/run" images
        run_tool berth-ps --root "$fresh/root" --runroot "$fresh/run" stats --no-stream
        [[ ! -e $fresh ]] || die "berth-ps created $(find "$fresh")"

        make_record orphan exited '.Image = "sha256:'"$(printf 'c%.0s' {1..64})"'" | .ImageName = "gone:latest"'
        run_tool berth-ps -a --format '{{.Names}} {{.Image}}'
        is "$output" "orphan gone:latest"
        run_tool berth-ps inspect --format '{{.ImageName}} {{.State.Status}}' orphan
        is "$output" "gone:latest exited"
        local before
        before=$(find "$BERTH_ROOT" "$BERTH_RUNROOT" -printf '%p %s %T@\n' | sort | sha256sum)
        run_tool berth-ps -a
        run_tool berth-ps inspect orphan
        is "$(find "$BERTH_ROOT" "$BERTH_RUNROOT" -printf '%p %s %T@\n' | sort | sha256sum)" "$before" "nothing written"
}
