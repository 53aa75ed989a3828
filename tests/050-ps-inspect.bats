#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-ps inspect (containers and images) and berth-ps images, over records in the documented shape and an
# image store filled from the fixtures.

load helpers

setup() {
        berth_setup
        mkdir -p "$BERTH_ROOT/containers" "$BERTH_ROOT/names" "$BERTH_RUNROOT/containers"
        BOOT_ID=$(cat /proc/sys/kernel/random/boot_id)
        BUSYBOX_ID=
}

teardown() {
        berth_teardown
}

# The store, made once per file: the fixtures' busybox as busybox:latest and busybox:v2, layered as
# layered:latest (skopeo writes the same OCI layout berth-pull does, minus berth's own ID annotation, so this also
# covers a store without it). fill_store copies it into the test's root.
setup_file() {
        local layout=${BERTH_FIXTURES:?run under tests/world.sh} store=$BATS_FILE_TMPDIR/oci
        skopeo copy -q "oci:$layout:busybox" "oci:$store:127.0.0.1:5000/busybox:latest"
        skopeo copy -q "oci:$layout:busybox" "oci:$store:127.0.0.1:5000/busybox:v2"
        skopeo copy -q "oci:$layout:layered" "oci:$store:127.0.0.1:5000/layered:latest"
}

fill_store() {
        cp -a "$BATS_FILE_TMPDIR/oci" "$BERTH_ROOT/oci"
        BUSYBOX_ID=$(jq -r '.config.digest' \
                "$BERTH_ROOT/oci/blobs/sha256/$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$BERTH_ROOT/oci/index.json")")
}

make_record() {
        local name=$1 status=$2 filter=${3:-.}
        ID=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
        mkdir -p "$BERTH_ROOT/containers/$ID"
        ln -s "$ID" "$BERTH_ROOT/names/$name"
        jq -n --arg id "$ID" --arg name "$name" --arg st "$status" --arg boot "$BOOT_ID" '{
                Id: $id, Name: $name, Created: "2026-01-01T00:00:00.000000000Z",
                Image: "sha256:31ae079354948046073ffe17abcc9a7b52664daa877817391abc739a7152d6ce",
                ImageName: "127.0.0.1:5000/busybox:latest",
                Config: {Cmd: ["sh"], Labels: {tier: "web"}, Env: ["A=1"], Hostname: $name},
                State: {Status: $st, Running: ($st == "running"), Paused: false, Pid: 0, ExitCode: 0,
                        StartedAt: "2026-01-01T00:00:01Z", FinishedAt: "0001-01-01T00:00:00Z", BootId: $boot,
                        Error: ""},
                HostConfig: {Memory: 67108864, NanoCpus: 500000000, PidsLimit: 100},
                Mounts: [{Type: "bind", Source: "/srv", Destination: "/data", RW: true}],
                NetworkSettings: {Networks: {berth: {IPAddress: "10.88.0.5", GlobalIPv6Address: "fd00::5",
                        MacAddress: "02:00:00:00:00:05", Gateway: "10.88.0.1", Aliases: ["web"]}}},
                Unit: ("berth-" + $name + ".scope"), Slice: "machine.slice"}' | jq "$filter" \
                >"$BERTH_ROOT/containers/$ID/container.json"
}

json_field() {
        jq -r "$1" <<<"$output"
}

@test "inspect: a container, by name, ID and ID prefix, with its State reconciled" {
        make_record web running '.State.Pid = 999999999 | .State.InitStartTime = 3'
        mkdir -p "$BERTH_RUNROOT/containers/$ID"
        local k
        for k in web "$ID" "${ID:0:7}"; do
                run_tool berth-ps inspect "$k"
                is "$(json_field 'length')" 1
                is "$(json_field '.[0].Id')" "$ID"
        done
        is "$(json_field '.[0].Name')" web
        is "$(json_field '.[0].State.Status')" exited "the init is gone: never running"
        is "$(json_field '.[0].State.Running')" false
        is "$(json_field '.[0].State.Pid')" 0
        is "$(json_field '.[0].State.ExitCode')" 255
        is "$(json_field '.[0].State.FinishedAt')" "2026-01-01T00:00:01.*Z" "inferred end: the start"
        assert_contains "$(json_field '.[0].State.Error')" "supervisor are gone"
        is "$(json_field '.[0].State | has("Health")')" true
        is "$(json_field '.[0].HostConfig.Memory')" 67108864
        is "$(json_field '.[0].NetworkSettings.Networks.berth.IPAddress')" 10.88.0.5
        is "$(json_field '.[0].NetworkSettings.Networks.berth.Aliases[0]')" web
        is "$(json_field '.[0].Mounts[0].Destination')" /data
        is "$(json_field '.[0].Unit + " " + .[0].Slice')" "berth-web.scope machine.slice"
        is "$(json_field '.[0].Config.Env[0]')" A=1
        # `berth inspect` reaches the same
        run_tool berth inspect --format '{{.State.Status}} {{.Name}} {{.HostConfig.PidsLimit}}' web
        is "$output" "exited web 100"
}

@test "inspect: unknown names fail with one line each, the others are still printed" {
        make_record one created
        make_record two exited '.State.ExitCode = 4'
        run_tool_split 1 berth-ps inspect one nope two also-nope
        is "$(json_field 'map(.Name) | join(",")')" "one,two"
        is "$(json_field '.[1].State.ExitCode')" 4
        is "${#stderr_lines[@]}" 2
        is "${stderr_lines[0]}" "berth-ps: No such container or image: 'nope'"
        run_tool_split 1 berth-ps inspect nope
        is "$output" "[]"
        run_tool 2 berth-ps inspect
}

@test "inspect: an ambiguous ID prefix is an error, not a guess" {
        make_record one created
        local a=$ID
        make_record two created
        local b=$ID
        # make a shared prefix by renaming b's record into a directory that shares a's first digit
        local c=${a:0:1}${b:1}
        if [[ $c != "$b" ]]; then
                mv "$BERTH_ROOT/containers/$b" "$BERTH_ROOT/containers/$c"
                jq --arg id "$c" '.Id = $id' "$BERTH_ROOT/containers/$c/container.json" >"$BATS_TEST_TMPDIR/r"
                mv "$BATS_TEST_TMPDIR/r" "$BERTH_ROOT/containers/$c/container.json"
        fi
        run_tool_split 1 berth-ps inspect --type container "${a:0:1}"
        assert_contains "$stderr" "ambiguous"
}

@test "inspect: a corrupt record is inspected as unknown, with the reason" {
        make_record broken running
        echo '{"Id": "' >"$BERTH_ROOT/containers/$ID/container.json"
        run_tool_split berth-ps inspect broken
        is "$(json_field '.[0].Id')" "$ID"
        is "$(json_field '.[0].Name')" broken
        is "$(json_field '.[0].State.Status')" unknown
        assert_contains "$(json_field '.[0].State.Error')" "corrupt record"
        assert_contains "$stderr" "corrupt record"
}

@test "inspect: images by name, ID and ID prefix; --type; templates" {
        fill_store
        run_tool berth-ps inspect 127.0.0.1:5000/busybox:latest
        is "$(json_field '.[0].Id')" "${BUSYBOX_ID#sha256:}"
        is "$(json_field '.[0].RepoTags | sort | join(",")')" "127.0.0.1:5000/busybox:latest,127.0.0.1:5000/busybox:v2"
        is "$(json_field '.[0].RepoDigests | length')" 1
        is "$(json_field '.[0].Digest')" "sha256:[0-9a-f]{64}"
        is "$(json_field '.[0].Os + "/" + .[0].Architecture')" "linux/*"
        is "$(json_field '.[0].Config.Cmd[0]')" sh
        is "$(json_field '.[0].Layers | length')" 1
        is "$(json_field '.[0].RootFS.Layers | length')" 1
        is "$(json_field '.[0].History[0].created_by')" "fixtures.sh: *"
        is "$(json_field '.[0].Size > 1000')" true

        run_tool berth-ps inspect --type image "${BUSYBOX_ID#sha256:}" "${BUSYBOX_ID:7:8}"
        is "$(json_field 'map(.Id) | unique | length')" 1
        run_tool berth-ps inspect 127.0.0.1:5000/layered:latest
        is "$(json_field '.[0].Layers | length')" 4
        run_tool berth inspect --format '{{.Id}} {{.Os}}' 127.0.0.1:5000/layered:latest
        is "$output" "[0-9a-f]{64} linux"
        run_tool_split 1 berth-ps inspect --type container 127.0.0.1:5000/busybox:latest
        is "$stderr" "berth-ps: No such container: '127.0.0.1:5000/busybox:latest'"
        run_tool 2 berth-ps inspect --type volume x
}

@test "inspect: a container named like an image is the container unless --type image" {
        fill_store
        make_record 127.0.0.1 created
        run_tool berth-ps inspect --format '{{.Name}}' 127.0.0.1
        is "$output" 127.0.0.1
}

@test "images: table, -q, --digests, --no-trunc, json, templates" {
        fill_store
        run_tool berth-ps images
        is "${lines[0]}" "REPOSITORY *TAG *IMAGE ID *CREATED *SIZE"
        is "${#lines[@]}" 4
        assert_contains "$output" "127.0.0.1:5000/busybox"
        is "$(grep -c "${BUSYBOX_ID:7:12}" <<<"$output")" 2 "one row per name"
        is "$(grep ' v2 ' <<<"$output")" "127.0.0.1:5000/busybox *v2 *${BUSYBOX_ID:7:12} *2 years ago *1.[0-9]*MB"
        run_tool berth-ps images -q
        is "${#lines[@]}" 2 "-q: each image once"
        run_tool berth-ps images -q --no-trunc
        assert_contains "$output" "$BUSYBOX_ID"
        run_tool berth-ps images --digests
        is "${lines[0]}" "REPOSITORY *TAG *DIGEST *IMAGE ID *CREATED *SIZE"
        is "${lines[1]}" ".* sha256:[0-9a-f]{64} .*"
        run_tool berth-ps images --format json
        is "$(json_field 'length')" 2 "json: one object per image"
        is "$(json_field '.[] | select(.Id == "'"${BUSYBOX_ID#sha256:}"'") | .RepoTags | length')" 2
        is "$(json_field '.[0] | (.Created | type) + " " + (.CreatedAt | type) + " " + (.Size | type)')" \
                "number string number"
        run_tool berth images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
        assert_contains "$output" "127.0.0.1:5000/layered:latest "
}

@test "images: filters and a reference argument" {
        fill_store
        q() {
                run_tool berth-ps images --format '{{.Repository}}' "$@"
                [[ -z $output ]] || sort -u <<<"$output" | tr '\n' ' '
        }
        is "$(q --filter reference=busybox)" "127.0.0.1:5000/busybox "
        is "$(q --filter 'reference=*/lay*')" "127.0.0.1:5000/layered "
        is "$(q --filter reference=nope)" ""
        is "$(q --filter label=org.example.fixture=busybox)" "127.0.0.1:5000/busybox "
        is "$(q --filter dangling=true)" ""
        is "$(q --filter dangling=false)" "127.0.0.1:5000/busybox 127.0.0.1:5000/layered "
        run_tool berth-ps images busybox:v2
        is "${#lines[@]}" 2
        run_tool 2 berth-ps images --filter name=x
        run_tool 1 berth-ps images --filter before=nope
}

@test "images: a broken entry is skipped with a warning, the others are listed" {
        fill_store
        local m
        m=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "127.0.0.1:5000/layered:latest") | .digest | sub("sha256:"; "")' "$BERTH_ROOT/oci/index.json")
        rm "$BERTH_ROOT/oci/blobs/sha256/$m"
        run_tool_split berth-ps images
        is "${#lines[@]}" 3
        assert_contains "$stderr" "127.0.0.1:5000/layered:latest"
        run_tool_split berth-ps images
        rm -rf "$BERTH_ROOT/oci"
        run_tool berth-ps images -q
        is "$output" ""
}

@test "images: what berth-pull stored" {
        requires registry cmd:berth-pull
        run_tool berth-pull "$(fixture_ref busybox:latest)"
        local id=$output
        run_tool berth-ps images -q --no-trunc
        is "$output" "$id"
        run_tool berth-ps inspect --format '{{.Id}}' "$(fixture_ref busybox:latest)"
        is "sha256:$output" "$id"
        # Containers: how many records use the image
        run_tool berth-ps images --format json
        is "$(jq '.[0].Containers' <<<"$output")" "0"
        requires cmd:berth-run
        run_tool berth-run create --name user1 "$(fixture_ref busybox:latest)" true
        run_tool berth-run create --name user2 "$(fixture_ref busybox:latest)" true
        run_tool berth-ps images --format json
        is "$(jq '.[0].Containers' <<<"$output")" "2"
        run_tool berth-run rm user1 user2
}

@test "history: the steps of an image, newest first, in every format; errors" {
        local ref
        ref=$(fixture_ref layered:latest)
        run_tool berth-pull -q "$ref"
        local id=$output
        local n
        n=$(jq '.history | length' <(skopeo inspect --config "oci:$BERTH_FIXTURES:layered"))
        run_tool berth history "$ref"
        is "${lines[0]}" "IMAGE +CREATED +CREATED BY +SIZE +COMMENT"
        is "$((${#lines[@]} - 1))" "$n" "one row per history entry"
        is "${lines[1]}" "${id:7:12} .* ago .*"
        is "${lines[2]}" "<missing> .*"
        run_tool berth-ps history -q --no-trunc "$ref"
        is "${lines[0]}" "$id"
        run_tool berth image history --format json "$ref"
        # newest first: the reverse of the config's history, commands whole, sizes those of the layers
        is "$(json_field '[.[].CreatedBy] | reverse | join("|")')" \
                "$(skopeo inspect --config "oci:$BERTH_FIXTURES:layered" | jq -r '[.history[].created_by] | join("|")')"
        is "$(json_field '[.[] | select(.SizeBytes > 0) | .SizeBytes] | reverse | join(",")')" \
                "$(skopeo inspect --raw "oci:$BERTH_FIXTURES:layered" | jq -r '[.layers[].size] | join(",")')"
        run_tool berth-ps history --format '{{.ID}}' "$ref"
        is "${lines[0]}" "${id:7:12}"
        run_tool 1 berth-ps history nosuch:latest
        is "$output" "berth-ps: No such image: 'nosuch:latest'"
        run_tool 2 berth-ps history
        is "$output" "berth-ps: 'history' needs exactly one image"
}
