#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-pull's store management: tag, rmi (refused while a container uses the image), gc (never what an index
# entry references, never under a pull in progress).

load helpers
load pull-store

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
        # Kept without a name while the record is there; by ID it goes once the record has gone.
        run_tool --stderr berth-pull rmi -f "${id:7:12}"
        assert_contains "$stderr" "stays, without a name"
        is "$(jq '.manifests | length' "$BERTH_ROOT/oci/index.json")" 1
        rm -r "${BERTH_ROOT:?}/containers/$cid"
        run_tool berth-pull rmi "${id:7:12}"
        is "$output" "Deleted: $id"
        is "$(jq '.manifests | length' "$BERTH_ROOT/oci/index.json")" 0
}

@test "rmi -f and gc never remove what a container uses: it starts again; gc takes the image after it goes" {
        requires uid0 systemd cmd:runc
        run_tool berth-pull "$(fixture_ref layered:latest)"
        local id=$output
        run_tool berth-run create --name keeper "$(fixture_ref layered:latest)" cat /etc/layered/four
        run_tool --stderr berth rmi -f "$(fixture_ref layered:latest)"
        is "$output" "Untagged: $(fixture_ref layered:latest)"
        assert_contains "$stderr" "stays, without a name, while container 'keeper'"
        run_tool --stderr berth-pull gc
        is "$output" "" "blobs collected while a container uses them"
        assert_store_complete
        run_tool berth-unpack gc
        run_tool berth-run start keeper
        run_tool berth-run wait keeper
        is "$output" "0" "exit status of cat of a file of the image's last layer"
        # Without -f, the nameless image is still refused while the container is there.
        run_tool --stderr 1 berth-pull rmi "${id:7:12}"
        assert_contains "$stderr" "used by container 'keeper'"
        run_tool berth-run rm keeper
        run_tool --stderr berth-pull gc
        assert_contains "$stderr" "Removed image ${id:0:19}"
        is "$(jq '.manifests | length' "$BERTH_ROOT/oci/index.json")" 0
        is "$(find "$BERTH_ROOT/oci/blobs/sha256" -type f | wc -l)" 0
}

@test "gc: removes unreferenced blobs and stale downloads, keeps every referenced one" {
        run_tool berth-pull "$(fixture_ref busybox:v2s2)"
        run_tool berth-pull "$(fixture_ref layered:latest)"
        local before
        before=$(find "$BERTH_ROOT/oci/blobs/sha256" -type f | wc -l)
        echo junk >"$BERTH_ROOT/tmp/$(printf '%064d' 1).partial"
        echo junk >"$BERTH_ROOT/oci/index.json.tmp.99999"
        run_tool --stderr berth-pull gc
        is "$output" "" "nothing to collect"
        [[ ! -e $BERTH_ROOT/tmp/$(printf '%064d' 1).partial ]] || die "stale partial left"
        [[ ! -e $BERTH_ROOT/oci/index.json.tmp.99999 ]] || die "stale index.json temp file left"
        run_tool berth-pull rmi "$(fixture_ref busybox:v2s2)"
        run_tool --stderr berth-pull gc
        # The v2s2 manifest, its OCI translation and the config go; the busybox layer stays (layered's first).
        is "${#lines[@]}" 3 "blobs removed"
        is "$(find "$BERTH_ROOT/oci/blobs/sha256" -type f | wc -l)" "$((before - 3))"
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

@test "load: oci-archive and docker-archive (written by skopeo) become named images skopeo can read back" {
        local t=$BATS_TEST_TMPDIR
        run_tool skopeo copy --quiet "oci:$BERTH_FIXTURES:busybox" "oci-archive:$t/bb.tar:localhost/bb:1"
        run_tool berth-pull load "oci-archive:$t/bb.tar"
        local id=$output
        is "$id" "sha256:*"
        is "$(names)" "localhost/bb:1"
        run_tool skopeo copy --quiet "oci:$BERTH_FIXTURES:layered" "docker-archive:$t/l.tar:localhost/layered:2"
        run_tool berth load "docker-archive:$t/l.tar"
        local lid=$output
        is "$(names)" "localhost/bb:1 localhost/layered:2"
        run_tool berth-pull load "docker-archive:$t/l.tar" other/name:3
        is "$output" "$lid" "same image ID from the same archive"
        assert_store_complete
        run_tool skopeo copy --quiet "oci:$BERTH_ROOT/oci:localhost/layered:2" "oci:$t/back:x"
        run_tool skopeo copy --quiet "oci:$BERTH_ROOT/oci:localhost/bb:1" "oci:$t/back:y"
        is "$(find "$BERTH_ROOT/tmp" -type f | wc -l)" 0 "files left in tmp"
}

@test "load: hostile archives: a changed layer, a missing blob, traversal names, oversized JSON, not an archive" {
        local t=$BATS_TEST_TMPDIR
        store_snapshot
        run_tool skopeo copy --quiet "oci:$BERTH_FIXTURES:busybox" "docker-archive:$t/d.tar:localhost/x:1"
        mkdir "$t/d" && tar -C "$t/d" -xf "$t/d.tar"
        local layer
        layer=$(jq -r '.[0].Layers[0]' "$t/d/manifest.json")
        # One byte changed in the layer: its digest no longer matches the config's DiffID.
        printf 'X' | dd of="$t/d/$layer" bs=1 seek=600 conv=notrunc status=none
        tar -C "$t/d" -cf "$t/bad1.tar" .
        run_tool --stderr 1 berth-pull load "docker-archive:$t/bad1.tar"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "the config says"
        # A traversal name and an absolute symlink are never followed out of the archive.
        mkdir -p "$t/e/sub"
        cp "$t/d/manifest.json" "$t/e/"
        ln -s /etc/passwd "$t/e/sub/passwd"
        jq '.[0].Config = "../../etc/passwd"' "$t/d/manifest.json" >"$t/e/manifest.json"
        tar -C "$t/e" -cf "$t/bad2.tar" .
        run_tool --stderr 1 berth-pull load "docker-archive:$t/bad2.tar"
        assert_contains "$stderr" "has no config"
        # manifest.json over 4 MiB.
        mkdir "$t/f"
        head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$t/f/manifest.json"
        tar -C "$t/f" -cf "$t/bad3.tar" .
        run_tool --stderr 1 berth-pull load "docker-archive:$t/bad3.tar"
        assert_contains "$stderr" "larger than 4 MiB"
        # An oci-archive whose blob was changed.
        run_tool skopeo copy --quiet "oci:$BERTH_FIXTURES:busybox" "oci-archive:$t/o.tar:localhost/o:1"
        mkdir "$t/o" && tar -C "$t/o" -xf "$t/o.tar"
        local cfg
        cfg=$(jq -r '.manifests[0].digest' "$t/o/index.json")
        cfg=$(jq -r .config.digest "$t/o/blobs/sha256/${cfg#sha256:}")
        sed -i 's/"os":"linux"/"os":"linuX"/' "$t/o/blobs/sha256/${cfg#sha256:}"
        tar -C "$t/o" -cf "$t/bad4.tar" .
        run_tool --stderr 1 berth-pull load "oci-archive:$t/bad4.tar"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "lacks blob $cfg"
        echo "not a tar" >"$t/junk.tar"
        run_tool --stderr 1 berth-pull load "oci-archive:$t/junk.tar"
        is "${#stderr_lines[@]}" 1
        run_tool --stderr 2 berth-pull load "dir:$t"
        assert_store_unchanged
        is "$(find "$BERTH_ROOT/tmp" -type f | wc -l)" 0 "files left in tmp"
}

@test "save: oci-archive that skopeo and berth-pull load read back; berth save reaches it" {
        local t=$BATS_TEST_TMPDIR
        run_tool berth-pull "$(fixture_ref layered:latest)"
        local id=$output
        run_tool berth save "$(fixture_ref layered:latest)" "oci-archive:$t/l.tar"
        run_tool skopeo copy --quiet "oci-archive:$t/l.tar" "oci:$t/sk:x"
        run_tool berth-pull --root "$t/r2" load "oci-archive:$t/l.tar"
        is "$output" "$id"
        run_tool --stderr 1 berth-pull save nosuch:1 "oci-archive:$t/x.tar"
        run_tool --stderr 1 berth-pull save "$id" "docker-archive:$t/x.tar"
        assert_contains "$stderr" "not supported"
        run_tool --stderr 2 berth-pull save "$id"
        run_tool --stderr 1 berth-pull save "$id" "oci-archive:$t/nodir/x.tar"
        is "$stderr" "berth-pull: Cannot create '$t/nodir/x.tar': No such file or directory"
        [[ ! -e $t/x.tar ]] || die "a failed save left a file"
        is "$(find "$t" -maxdepth 1 -name '*.tmp.*' | wc -l)" 0 "temporary files left"
}
