#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-pull's store management: tag, rmi (refused while a container uses the image), gc (never what an index
# entry references, never under a pull in progress).

load helpers

setup() {
        berth_setup
        requires registry
}
teardown() {
        [[ -z ${HOSTILE_PID:-} ]] || kill "$HOSTILE_PID" 2>/dev/null || true
        berth_teardown
}

names() {
        jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(" ")' "$BERTH_ROOT/oci/index.json"
}

# Every blob that index.json references is present and verifies.
assert_store_complete() {
        local m d
        for m in $(jq -r '.manifests[].digest' "$BERTH_ROOT/oci/index.json"); do
                for d in "$m" $(jq -r '.config.digest, .layers[].digest' "$BERTH_ROOT/oci/blobs/sha256/${m#sha256:}"); do
                        [[ -f $BERTH_ROOT/oci/blobs/sha256/${d#sha256:} ]] || die "blob $d missing"
                        is "sha256:$(sha256sum <"$BERTH_ROOT/oci/blobs/sha256/${d#sha256:}" | cut -d' ' -f1)" "$d"
                done
        done
}

@test "tag and rmi: names come and go; the image goes with its last name; berth tag/rmi reach berth-pull" {
        run_tool berth-pull "$(fixture_ref busybox:latest)"
        local id=$output
        run_tool berth tag "$(fixture_ref busybox:latest)" localhost/mybox:1
        run_tool berth-pull tag "${id:7:12}" mybox
        is "$(names)" "$(fixture_ref busybox:latest) docker.io/library/mybox:latest localhost/mybox:1"
        run_tool berth rmi localhost/mybox:1
        is "$output" "Untagged: localhost/mybox:1"
        # By ID with several names: docker's rule, -f needed.
        run_tool --stderr 1 berth-pull rmi "$id"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "has 2 names"
        run_tool berth-pull rmi mybox
        run_tool berth-pull rmi "$(fixture_ref busybox:latest)"
        is "${lines[1]}" "Deleted: $id"
        is "$(names)" ""
        run_tool --stderr 1 berth-pull rmi "$(fixture_ref busybox:latest)" nosuch:1
        is "${#stderr_lines[@]}" 2 "one line per missing image"
        assert_contains "$stderr" "Image 'nosuch:1' not found"
        run_tool --stderr 2 berth-pull rmi
        run_tool --stderr 2 berth-pull tag onlyone
        run_tool --stderr 1 berth-pull tag nosuch:1 x:2
}

@test "rmi: refused while a container record uses the image, unless -f" {
        run_tool berth-pull "$(fixture_ref busybox:latest)"
        local id=$output cid
        cid=$(printf '%064d' 7)
        mkdir -p "$BERTH_ROOT/containers/$cid"
        printf '{"Id": "%s", "Name": "web", "Image": "%s"}\n' "$cid" "$id" >"$BERTH_ROOT/containers/$cid/container.json"
        run_tool --stderr 1 berth-pull rmi "$(fixture_ref busybox:latest)"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "used by container 'web' (000000000000)"
        is "$(names)" "$(fixture_ref busybox:latest)"
        # Another name can go: the image stays.
        run_tool berth-pull tag "$id" other:1
        run_tool berth-pull rmi other:1
        run_tool berth-pull rmi -f "$(fixture_ref busybox:latest)"
        is "$(names)" ""
}

@test "gc: removes unreferenced blobs and stale downloads, keeps every referenced one" {
        run_tool berth-pull "$(fixture_ref busybox:v2s2)"
        run_tool berth-pull "$(fixture_ref layered:latest)"
        local before
        before=$(find "$BERTH_ROOT/oci/blobs/sha256" -type f | wc -l)
        echo junk >"$BERTH_ROOT/tmp/$(printf '%064d' 1).partial"
        run_tool --stderr berth-pull gc
        is "$output" "" "nothing to collect"
        [[ ! -e $BERTH_ROOT/tmp/$(printf '%064d' 1).partial ]] || die "stale partial left"
        run_tool berth-pull rmi "$(fixture_ref busybox:v2s2)"
        run_tool --stderr berth-pull gc
        # The v2s2 manifest and config go; the busybox layer stays (layered's first layer).
        is "${#lines[@]}" 2 "blobs removed"
        is "$(find "$BERTH_ROOT/oci/blobs/sha256" -type f | wc -l)" "$((before - 2))"
        assert_store_complete
        run_tool skopeo copy --quiet "oci:$BERTH_ROOT/oci:$(fixture_ref layered:latest)" "oci:$BATS_TEST_TMPDIR/x:x"
        run_tool berth-pull rmi "$(fixture_ref layered:latest)"
        run_tool --stderr berth-pull gc
        is "$(find "$BERTH_ROOT/oci/blobs/sha256" -type f | wc -l)" 0
}

@test "gc: waits for a pull in progress instead of collecting its blobs" {
        local dir=$BATS_TEST_TMPDIR
        python3 "$BERTH_TESTS_DIR/pull-hostile-registry.py" "$BERTH_FIXTURES" "$dir/port" >"$dir/hostile.log" 2>&1 3>&- &
        HOSTILE_PID=$!
        local i
        for ((i = 0; i < 250; i++)); do
                [[ -s $dir/port ]] && break
                sleep 0.02
        done
        berth-pull "127.0.0.1:$(cat "$dir/port")/slow:latest" >"$dir/pull.out" 2>&1 &
        local pid=$!
        for ((i = 0; i < 200; i++)); do
                [[ -n $(find "$BERTH_ROOT/oci/blobs/sha256" -type f 2>/dev/null || true) ]] && break
                sleep 0.02
        done
        run_tool --stderr berth-pull gc
        wait "$pid" || die "the pull failed: $(cat "$dir/pull.out")"
        assert_store_complete
}
