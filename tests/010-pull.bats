#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-pull against the world's real docker-registry: formats, platforms, digests, the store layout, warm
# pulls, concurrency and crash safety.

load helpers
load pull-store

setup() {
        berth_setup
        requires registry
}
teardown() {
        stop_hostile
        berth_teardown
}

# Requests berth-pull made to the world's registry so far.
berth_requests() {
        grep -c '" "berth/' "$BERTH_WORLD_DIR/logs/registry.log" || true
}

# The config digest of TAG in the fixtures' layout (computed by umoci, not by us); "other" is the
# foreign-architecture entry of multi's index.
fixture_config() {
        local d l
        l=$(fixture_layout)
        d=$(jq -r --arg t "${1%%:*}" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
                "$l/index.json")
        if [[ $1 == other ]]; then
                local idx
                idx=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "multi") | .digest' "$l/index.json")
                d=$(jq -r --arg a "$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')" \
                        '.manifests[] | select(.platform.architecture != $a) | .digest' "$l/blobs/sha256/${idx#sha256:}")
        fi
        jq -r .config.digest "$l/blobs/sha256/${d#sha256:}"
}

@test "pull: OCI image: the image ID is the only stdout line, the store is an OCI layout skopeo reads" {
        run_tool --stderr berth-pull "$(fixture_ref busybox:latest)"
        is "${#lines[@]}" 1 "one line on stdout"
        is "$output" "$(fixture_config busybox)"
        local id=$output
        [[ -f $BERTH_ROOT/oci/oci-layout ]] || die "no oci-layout"
        run_tool jq -r '.manifests[] | .annotations["org.opencontainers.image.ref.name"] + " " + .annotations["io.berth.image.id"]' \
                "$BERTH_ROOT/oci/index.json"
        is "$output" "$(fixture_ref busybox:latest) $id"
        # Byte-identical to what skopeo fetches.
        run_tool skopeo copy --quiet --src-tls-verify=false "docker://$(fixture_ref busybox:latest)" "oci:$BATS_TEST_TMPDIR/sk:x"
        local b
        for b in "$BATS_TEST_TMPDIR"/sk/blobs/sha256/*; do
                cmp "$b" "$BERTH_ROOT/oci/blobs/sha256/${b##*/}" || die "blob ${b##*/} differs from skopeo's"
        done
        run_tool skopeo copy --quiet "oci:$BERTH_ROOT/oci:$(fixture_ref busybox:latest)" "oci:$BATS_TEST_TMPDIR/back:x"
        # umoci reads it too.
        run_tool umoci ls --layout "$BERTH_ROOT/oci"
        is "$output" "$(fixture_ref busybox:latest)"
        run_tool umoci stat --image "$BERTH_ROOT/oci:$(fixture_ref busybox:latest)"
        assert_contains "$output" "sha256:e6b27757ded34d7d5bed70b458ac6eeda5b2e2d0ef62be24a96038ddfa4ea74d"
        # Nothing left behind in tmp.
        is "$(find "$BERTH_ROOT/tmp" -type f | wc -l)" 0 "files left in tmp"
}

@test "pull: Docker schema2, multi-layer, index for this host and --platform, --format json" {
        run_tool berth-pull "$(fixture_ref busybox:v2s2)"
        is "$output" "$(fixture_config busybox)"
        # Named through its OCI translation (what skopeo and umoci read); the Docker manifest is kept too.
        run_tool jq -r '.manifests[0].mediaType' "$BERTH_ROOT/oci/index.json"
        is "$output" "application/vnd.oci.image.manifest.v1+json"
        local v2
        v2=$(skopeo inspect --raw --tls-verify=false "docker://$(fixture_ref busybox:v2s2)" | sha256sum | cut -d' ' -f1)
        [[ -f $BERTH_ROOT/oci/blobs/sha256/$v2 ]] || die "the Docker manifest is not kept"
        run_tool skopeo copy --quiet "oci:$BERTH_ROOT/oci:$(fixture_ref busybox:v2s2)" "oci:$BATS_TEST_TMPDIR/v2:x"
        cp "$BERTH_ROOT/oci/index.json" "$BATS_TEST_TMPDIR/i1"
        run_tool berth-pull "$(fixture_ref busybox:v2s2)"
        cmp "$BERTH_ROOT/oci/index.json" "$BATS_TEST_TMPDIR/i1" || die "a warm v2s2 pull changed index.json"
        run_tool berth-pull "$BERTH_TEST_REGISTRY/busybox@sha256:$v2"
        is "$output" "$(fixture_config busybox)"

        run_tool berth-pull -q "$(fixture_ref layered:latest)"
        is "$output" "$(fixture_config layered)"

        run_tool berth-pull "$(fixture_ref multi:latest)"
        is "$output" "$(fixture_config busybox)" "the host's entry of the index"
        local other
        case $(uname -m) in x86_64) other=linux/arm64 ;; *) other=linux/amd64 ;; esac
        run_tool berth-pull --platform "$other" "$(fixture_ref multi:latest)"
        is "$output" "$(fixture_config other)"
        run_tool 1 berth-pull --platform linux/s390x "$(fixture_ref multi:latest)"
        assert_contains "$output" "has no image for linux/s390x"
        # A lone manifest is taken whatever its platform, with a warning when it is not the one asked for.
        run_tool --stderr berth-pull --platform "$other" "$(fixture_ref busybox:latest)"
        is "$output" "$(fixture_config busybox)"
        is "$stderr" "berth-pull: Image '$(fixture_ref busybox:latest)' is for linux/*, not $other"
        # A Docker manifest list (skopeo converts the OCI index on push).
        run_tool skopeo --insecure-policy copy --quiet --all --format v2s2 --dest-tls-verify=false \
                "oci:$(fixture_layout):multi" "docker://$(fixture_ref multi:v2s2)"
        run_tool skopeo inspect --raw --tls-verify=false "docker://$(fixture_ref multi:v2s2)"
        assert_contains "$output" "application/vnd.docker.distribution.manifest.list.v2+json"
        run_tool berth-pull "$(fixture_ref multi:v2s2)"
        is "$output" "$(fixture_config busybox)" "the host's entry of a Docker manifest list"
        run_tool berth-pull --arch "${other#linux/}" "$(fixture_ref multi:v2s2)"
        is "$output" "$(fixture_config other)"

        run_tool berth-pull --format json "$(fixture_ref layered:latest)"
        run_tool jq -r '"\(.Reference) \(.Id) \(.Layers) \(.BytesFetched)"' <<<"$output"
        is "$output" "$(fixture_ref layered:latest) $(fixture_config layered) 4 0"
}

@test "pull: a warm pull is one manifest request and nothing else" {
        run_tool berth-pull "$(fixture_ref layered:latest)"
        local before after
        before=$(berth_requests)
        cp "$BERTH_ROOT/oci/index.json" "$BATS_TEST_TMPDIR/index.before"
        run_tool berth-pull "$(fixture_ref layered:latest)"
        after=$(berth_requests)
        is "$((after - before))" 1 "requests of a warm pull"
        cmp "$BERTH_ROOT/oci/index.json" "$BATS_TEST_TMPDIR/index.before" || die "index.json rewritten"
        # Warm pull of an index: the index only.
        run_tool berth-pull "$(fixture_ref multi:latest)"
        before=$(berth_requests)
        run_tool berth-pull "$(fixture_ref multi:latest)"
        is "$(($(berth_requests) - before))" 1 "requests of a warm index pull"
}

@test "pull: by digest verifies the manifest digest; tag@digest; a present digest needs no request" {
        local d
        d=$(skopeo inspect --raw --tls-verify=false "docker://$(fixture_ref busybox:latest)" | sha256sum | cut -d' ' -f1)
        run_tool berth-pull "$BERTH_TEST_REGISTRY/busybox@sha256:$d"
        is "$output" "$(fixture_config busybox)"
        run_tool jq -r '.manifests[].annotations["org.opencontainers.image.ref.name"]' "$BERTH_ROOT/oci/index.json"
        is "$output" "$BERTH_TEST_REGISTRY/busybox@sha256:$d"
        local before
        before=$(berth_requests)
        run_tool berth-pull "$BERTH_TEST_REGISTRY/busybox@sha256:$d"
        is "$(($(berth_requests) - before))" 0 "requests for a present digest"
        run_tool berth-pull "$BERTH_TEST_REGISTRY/busybox:latest@sha256:$d"
        # The v2s2 manifest's digest under busybox:latest: not what the registry has there.
        local v2
        v2=$(skopeo inspect --raw --tls-verify=false "docker://$(fixture_ref busybox:v2s2)" | sha256sum | cut -d' ' -f1)
        run_tool 1 berth-pull "$BERTH_TEST_REGISTRY/layered@sha256:$v2"
        is "${#lines[@]}" 1 "one error line"
}

@test "pull: errors are one line naming registry, repository and status; exit 1; nothing stored" {
        run_tool berth-pull -q "$(fixture_ref busybox:latest)"
        store_snapshot
        run_tool --stderr 1 berth-pull "$(fixture_ref nosuch:latest)"
        is "$output" "" "stdout"
        is "${#stderr_lines[@]}" 1 "stderr lines"
        assert_contains "$stderr" "$BERTH_TEST_REGISTRY/nosuch:latest"
        assert_contains "$stderr" "404"
        assert_contains "$stderr" "MANIFEST_UNKNOWN"
        run_tool --stderr 1 berth-pull "UPPER/Case:tag"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "Invalid image reference"
        run_tool --stderr 1 berth-pull --retry 0 --timeout 2s "127.0.0.1:9/x:1"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "127.0.0.1:9/x:1"
        run_tool --stderr 2 berth-pull
        run_tool --stderr 2 berth-pull a b
        run_tool --stderr 2 berth-pull --jobs 0 x
        local opt
        for opt in --no-such-option "rmi --bad" "x --jobs" -z "tag -f a b"; do
                # shellcheck disable=SC2086
                run_tool --stderr 2 berth-pull $opt
                is "${#stderr_lines[@]}" 1 "stderr lines of a usage error ($opt)"
        done
        assert_store_unchanged
}

@test "pull: berth pull reaches berth-pull; --help matches the man page" {
        run_tool berth pull "$(fixture_ref busybox:latest)"
        is "$output" "$(fixture_config busybox)"
        run_tool berth-pull --help
        local opt
        for opt in $(grep -oE -- '--[a-z][a-z0-9-]+' <<<"$output" | sort -u); do
                grep -qF -- "$opt" "$BERTH_TESTS_DIR/../man/berth-pull.1.scd" || die "$opt not in the man page"
        done
}

# The hostile registry's "slow*" repositories serve the layer's second half slowly (~2 s), honouring Range.
start_hostile() {
        local dir=$BATS_TEST_TMPDIR
        python3 "$BERTH_TESTS_DIR/pull-hostile-registry.py" "$BERTH_FIXTURES" "$dir/port" >"$dir/hostile.log" 2>&1 3>&- &
        HOSTILE_PID=$!
        local i
        for ((i = 0; i < 250; i++)); do
                [[ -s $dir/port ]] && break
                sleep 0.02
        done
        HOSTILE=127.0.0.1:$(cat "$dir/port")
}

stop_hostile() {
        [[ -z ${HOSTILE_PID:-} ]] || kill "$HOSTILE_PID" 2>/dev/null || true
        HOSTILE_PID=''
}

layer_gets() {
        curl -fsS "http://$HOSTILE/_log" | jq '[.[] | select(.path | test("/blobs/sha256:e6b2"))] | length'
}

@test "pull P13: concurrent pulls of one image fetch each blob once, both succeed; index.json keeps every entry" {
        start_hostile
        berth-pull "$HOSTILE/slow:latest" >"$BATS_TEST_TMPDIR/a.out" 2>"$BATS_TEST_TMPDIR/a.err" &
        local a=$!
        berth-pull "$HOSTILE/slow:latest" >"$BATS_TEST_TMPDIR/b.out" 2>"$BATS_TEST_TMPDIR/b.err" &
        local b=$!
        wait "$a" || die "first pull failed: $(cat "$BATS_TEST_TMPDIR/a.err")"
        wait "$b" || die "second pull failed: $(cat "$BATS_TEST_TMPDIR/b.err")"
        is "$(cat "$BATS_TEST_TMPDIR/a.out")" "$(fixture_config busybox)"
        is "$(cat "$BATS_TEST_TMPDIR/b.out")" "$(fixture_config busybox)"
        is "$(layer_gets)" 1 "downloads of the layer"

        # Twelve pulls of twelve names at once: every one ends up in index.json.
        local pids=() i
        for i in $(seq 1 12); do
                berth-pull -q "$HOSTILE/name$i:latest" >/dev/null 2>>"$BATS_TEST_TMPDIR/many.err" &
                pids+=($!)
        done
        for i in "${pids[@]}"; do
                wait "$i" || die "a concurrent pull failed: $(cat "$BATS_TEST_TMPDIR/many.err")"
        done
        run_tool jq '.manifests | length' "$BERTH_ROOT/oci/index.json"
        is "$output" 13 "index entries"
}

@test "pull P14: SIGKILL mid-blob leaves no partial blob visible; the next pull resumes and completes" {
        start_hostile
        berth-pull "$HOSTILE/slow:latest" >/dev/null 2>&1 &
        local pid=$! i part=''
        for ((i = 0; i < 200; i++)); do
                part=$(find "$BERTH_ROOT/tmp" -name 'e6b2*.partial' -size +100k 2>/dev/null || true)
                [[ -n $part ]] && break
                sleep 0.02
        done
        [[ -n $part ]] || die "no partial download appeared"
        kill -9 "$pid"
        wait "$pid" || true
        [[ ! -e $BERTH_ROOT/oci/blobs/sha256/e6b27757ded34d7d5bed70b458ac6eeda5b2e2d0ef62be24a96038ddfa4ea74d ]] ||
                die "the killed pull left the layer under its digest"
        [[ ! -e $BERTH_ROOT/oci/index.json ]] || die "the killed pull named the image"
        curl -fsS "http://$HOSTILE/_reset" >/dev/null
        run_tool berth-pull "$HOSTILE/slow:latest"
        is "$output" "$(fixture_config busybox)"
        run_tool curl -fsS "http://$HOSTILE/_log"
        assert_contains "$output" '"range": "bytes='
        is "$(find "$BERTH_ROOT/tmp" -type f | wc -l)" 0 "files left in tmp"
        cmp "$BERTH_ROOT/oci/blobs/sha256/e6b27757ded34d7d5bed70b458ac6eeda5b2e2d0ef62be24a96038ddfa4ea74d" \
                "$BERTH_FIXTURES/blobs/sha256/e6b27757ded34d7d5bed70b458ac6eeda5b2e2d0ef62be24a96038ddfa4ea74d" ||
                die "the resumed layer differs"
}

@test "pull: registries.conf: mirrors first (a dead one skipped), prefix rewrites, blocked registries" {
        local conf=$BATS_TEST_TMPDIR/registries.conf
        cat >"$conf" <<-EOF2
	unqualified-search-registries = ["docker.io"]
	[[registry]]
	location = "example.invalid" # comment
	[[registry.mirror]]
	location = "127.0.0.1:9"
	[[registry.mirror]]
	location = "$BERTH_TEST_REGISTRY"

	[[registry]]
	location = "blocked.invalid"
	blocked = true

	[[registry]]
	prefix = "rewrite.invalid/team"
	location = "$BERTH_TEST_REGISTRY"
	EOF2
        run_tool --stderr berth-pull --retry 0 --registries-conf "$conf" example.invalid/busybox:latest
        is "$output" "$(fixture_config busybox)"
        assert_contains "$stderr" "Mirror '127.0.0.1:9' failed"
        CONTAINERS_REGISTRIES_CONF=$conf run_tool --stderr 1 berth-pull blocked.invalid/x:1
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "blocked"
        CONTAINERS_REGISTRIES_CONF=$conf run_tool berth-pull rewrite.invalid/team/layered:latest
        is "$output" "$(fixture_config layered)"
        run_tool jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | join(" ")' "$BERTH_ROOT/oci/index.json"
        is "$output" "example.invalid/busybox:latest rewrite.invalid/team/layered:latest"
        # A typo is an error naming the file and line, not a mirror silently lost; so is a missing file
        # the user named (only the default /etc/containers/registries.conf may be absent).
        printf '[[registry]]\nlocation = "example.invalid"\n[[registry.mirror]]\nlocation "%s"\n' \
                "$BERTH_TEST_REGISTRY" >"$conf"
        run_tool --stderr 1 berth-pull --registries-conf "$conf" example.invalid/busybox:latest
        is "$stderr" "berth-pull: $conf:4: cannot parse 'location \"$BERTH_TEST_REGISTRY\"'"
        CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/nonexistent.conf run_tool --stderr 1 berth-pull x/y:1
        is "$stderr" "berth-pull: Cannot read registries.conf '$BATS_TEST_TMPDIR/nonexistent.conf': No such file or directory"
}

@test "pull: HTTPS registry on loopback: certificate checked, --cert-dir, --tls-verify=false, HTTP/2" {
        local d=$BATS_TEST_TMPDIR port
        port=$(random_free_port)
        mkdir -p "$d/client" "$d/caonly"
        tls_registry_config "$d" "$port"
        # The registry wants a client certificate signed by its CA (docker's NAME.cert + NAME.key), and
        # --cert-dir may hold other CAs too (each *.crt counts).
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/client/me.key" \
                -subj /CN=berth-client 2>/dev/null |
                openssl x509 -req -CA "$d/certs/ca.crt" -CAkey "$d/key.pem" -days 1 -out "$d/client/me.cert" 2>/dev/null
        cp "$d/client/me.cert" "$d/client/me.key" "$d/certs/"
        local i
        for i in 1 2 3 4; do
                openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/other.key" \
                        -out "$d/certs/other$i.crt" -days 1 -subj "/CN=other $i" 2>/dev/null
        done
        cp "$d/certs/"*.crt "$d/caonly/"
        printf '    clientcas:\n      - %s\n' "$d/certs/ca.crt" >>"$d/registry.yml"
        docker-registry serve "$d/registry.yml" >"$d/registry.log" 2>&1 3>&- &
        HOSTILE_PID=$! # stopped by teardown
        for ((i = 0; i < 250; i++)); do
                curl -sk --cert "$d/client/me.cert" --key "$d/client/me.key" -o /dev/null "https://127.0.0.1:$port/v2/" && break
                sleep 0.02
        done
        run_tool skopeo --insecure-policy copy --quiet --dest-cert-dir "$d/certs" "oci:$BERTH_FIXTURES:busybox" \
                "docker://127.0.0.1:$port/busybox:latest"
        run_tool --stderr 1 berth-pull --retry 0 "127.0.0.1:$port/busybox:latest"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "certificate"
        # The CA alone: the server is trusted, but it refuses a client without a certificate.
        run_tool --stderr 1 berth-pull --retry 0 --cert-dir "$d/caonly" "127.0.0.1:$port/busybox:latest"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "127.0.0.1:$port/busybox"
        run_tool --stderr berth-pull --log-level debug --cert-dir "$d/certs" "127.0.0.1:$port/busybox:latest"
        is "$output" "$(fixture_config busybox)"
        assert_contains "$stderr" "HTTP/2 200"
        run_tool berth-pull --root "$d/r2" --tls-verify=false --cert-dir "$d/client" "127.0.0.1:$port/busybox:latest"
        is "$output" "$(fixture_config busybox)"
        # insecure = true in registries.conf: no verification, as with --tls-verify=false.
        printf '[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' "$port" >"$d/registries.conf"
        CONTAINERS_REGISTRIES_CONF=$d/registries.conf run_tool berth-pull --root "$d/r3" --cert-dir "$d/client" \
                "127.0.0.1:$port/busybox:latest"
        is "$output" "$(fixture_config busybox)"
}

@test "pull: progress on stderr only when it is a terminal; -q silences it" {
        run_tool --stderr berth-pull "$(fixture_ref layered:latest)"
        is "$stderr" "" "stderr when it is not a terminal"
        run_tool script -qec "berth-pull --root $BATS_TEST_TMPDIR/r2 $(fixture_ref layered:latest) 2>&1 >/dev/null" /dev/null
        assert_contains "$output" "Copying blob"
        assert_not_contains "$output" "sha256:"
        run_tool script -qec "berth-pull -q --root $BATS_TEST_TMPDIR/r3 $(fixture_ref layered:latest) 2>&1 >/dev/null" /dev/null
        assert_not_contains "$output" "Copying"
        # A layer that takes a while: bytes so far, total, rate and time left.
        start_hostile
        run_tool script -qec "berth-pull --root $BATS_TEST_TMPDIR/r4 $HOSTILE/slow:latest 2>&1 >/dev/null" /dev/null
        grep -Eq 'Copying blob e6b27757ded3 [0-9.]+[kM]?B / 1\.09MB [0-9.]+[kM]?B/s ETA [0-9]+s' <<<"$output" ||
                die "no bytes, rate and ETA in: $output"
        assert_contains "$output" "1.09MB / 1.09MB  done"
}

@test "pull: --format json summary of a cold pull; --jobs bounds the blobs fetched at once; connections are reused" {
        local l m
        l=$(fixture_layout)
        m=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "layered") | .digest' "$l/index.json")
        run_tool berth-pull --format json "$(fixture_ref layered:latest)"
        local j=$output
        run_tool jq -r '"\(.Reference) \(.Digest) \(.Id) \(.Layers)"' <<<"$j"
        is "$output" "$(fixture_ref layered:latest) $m $(fixture_config layered) 4"
        run_tool jq -r '.BytesFetched' <<<"$j"
        is "$output" "$(jq '[.config.size, .layers[].size] | add' "$l/blobs/sha256/${m#sha256:}")" "bytes fetched"
        run_tool jq -e '.Seconds | type == "number" and . > 0 and . < 60' <<<"$j"
        run_tool berth-pull --format '{{.Id}} {{.Layers}} {{.BytesFetched}}' "$(fixture_ref layered:latest)"
        is "$output" "$(fixture_config layered) 4 0"
        run_tool --stderr 2 berth-pull gc --format json
        assert_contains "$stderr" "--format only applies to a pull"

        start_hostile
        # One connection, reused for the manifest and all nine blobs.
        run_tool berth-pull --jobs 1 --root "$BATS_TEST_TMPDIR/r1" "$HOSTILE/wide:latest"
        run_tool curl -fsS "http://$HOSTILE/_log"
        is "$(jq '[.[] | select(.path | startswith("/v2/wide/")) | .port] | unique | length' <<<"$output")" 1 \
                "connections used with --jobs 1"
        curl -fsS "http://$HOSTILE/_reset" >/dev/null
        run_tool berth-pull --jobs 2 "$HOSTILE/wide:latest"
        local max
        max=$(curl -fsS "http://$HOSTILE/_max")
        ((max <= 2)) || die "$max blobs fetched at once with --jobs 2"
        curl -fsS "http://$HOSTILE/_reset" >/dev/null
        run_tool berth-pull --root "$BATS_TEST_TMPDIR/r2" "$HOSTILE/wide:latest"
        max=$(curl -fsS "http://$HOSTILE/_max")
        ((max > 2 && max <= 6)) || die "$max blobs fetched at once by default (--jobs 6)"
}

@test "pull S5: no room: refused up front; a disk filled mid-blob: one clear error, the partial removed" {
        requires root
        local small=$BATS_TEST_TMPDIR/small
        mkdir -p "$small"
        mount -t tmpfs -o size=512k tmpfs "$small"
        run_tool --stderr 1 berth-pull --root "$small" "$(fixture_ref busybox:latest)"
        local err1=$stderr n1
        n1=$(find "$small" -type f -size +1 | wc -l)
        umount "$small"
        is "${#stderr_lines[@]}" 1
        assert_contains "$err1" "No space left on device"
        assert_contains "$err1" "its blobs need"
        is "$n1" 0 "files with content after a refused pull"

        # Room when the pull starts; someone else fills the disk while the layer arrives (slowly).
        start_hostile
        mount -t tmpfs -o size=1600k tmpfs "$small"
        berth-pull --root "$small" "$HOSTILE/slow:latest" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
        local pid=$! i
        for ((i = 0; i < 500; i++)); do
                [[ -n $(find "$small/tmp" -name '*.partial' -size +100k 2>/dev/null || true) ]] && break
                sleep 0.02
        done
        dd if=/dev/zero of="$small/filler" bs=64k 2>/dev/null || true
        local rc=0
        wait "$pid" || rc=$?
        local n2 idx=no blobs
        # The partial of the layer that filled the disk goes; the verified config waits in tmp, outside the
        # store, for the next pull.
        n2=$(find "$small/tmp" -type f -size +10k | wc -l)
        blobs=$(find "$small/oci/blobs" -type f | wc -l)
        [[ ! -e $small/oci/index.json ]] || idx=yes
        umount "$small"
        is "$rc" 1 "exit status"
        is "$(wc -l <"$BATS_TEST_TMPDIR/err")" 1 "stderr lines: $(cat "$BATS_TEST_TMPDIR/err")"
        assert_contains "$(cat "$BATS_TEST_TMPDIR/err")" "No space left on device"
        is "$n2" 0 "partial downloads left in tmp"
        is "$blobs" 0 "blobs in the store"
        is "$idx" no "index.json written"
}

@test "pull: short names are docker.io/library, reached here through a registries.conf mirror; proxies from the environment" {
        run_tool skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci:$(fixture_layout):busybox" \
                "docker://$BERTH_TEST_REGISTRY/library/busybox:latest"
        local conf=$BATS_TEST_TMPDIR/registries.conf
        printf '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "%s"\n' "$BERTH_TEST_REGISTRY" >"$conf"
        CONTAINERS_REGISTRIES_CONF=$conf run_tool berth-pull busybox
        is "$output" "$(fixture_config busybox)"
        run_tool jq -r '.manifests[].annotations["org.opencontainers.image.ref.name"]' "$BERTH_ROOT/oci/index.json"
        is "$output" "docker.io/library/busybox:latest"
        # libcurl takes proxies from the environment: a working one carries every request, a dead one fails
        # the pull, NO_PROXY bypasses it.
        start_hostile
        http_proxy=http://$HOSTILE run_tool berth-pull --root "$BATS_TEST_TMPDIR/r1" "$(fixture_ref layered:latest)"
        is "$output" "$(fixture_config layered)"
        run_tool curl -fsS "http://$HOSTILE/_log"
        is "$(jq --arg r "http://$BERTH_TEST_REGISTRY/v2/layered/" '[.[] | select(.path | startswith($r))] | length' <<<"$output")" \
                6 "requests through the proxy (manifest, config, 4 layers)"
        http_proxy=http://127.0.0.1:9 run_tool --stderr 1 berth-pull --retry 0 --root "$BATS_TEST_TMPDIR/r2" \
                "$(fixture_ref busybox:latest)"
        is "${#stderr_lines[@]}" 1
        http_proxy=http://127.0.0.1:9 NO_PROXY=127.0.0.1 run_tool berth-pull --retry 0 --root "$BATS_TEST_TMPDIR/r3" \
                "$(fixture_ref busybox:latest)"
}

@test "pull P14: SIGKILL at random moments: every blob under its digest name verifies, every entry is complete" {
        start_hostile
        local i delay b
        for i in 1 2 3 4; do
                delay=$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.02 + rand() * 0.6 }')
                berth-pull -q "$HOSTILE/slow$i:latest" >/dev/null 2>&1 &
                local pid=$!
                sleep "$delay"
                kill -9 "$pid" 2>/dev/null || true
                wait "$pid" || true
                for b in "$BERTH_ROOT"/oci/blobs/sha256/*; do
                        [[ -e $b ]] || continue
                        is "$(sha256sum <"$b" | cut -d' ' -f1)" "${b##*/}" "blob after a kill at ${delay}s"
                done
                if [[ -f $BERTH_ROOT/oci/index.json ]]; then
                        local m d
                        for m in $(jq -r '.manifests[].digest' "$BERTH_ROOT/oci/index.json"); do
                                for d in $(jq -r '.config.digest, .layers[].digest' "$BERTH_ROOT/oci/blobs/sha256/${m#sha256:}"); do
                                        [[ -f $BERTH_ROOT/oci/blobs/sha256/${d#sha256:} ]] || die "entry $m lacks $d"
                                done
                        done
                fi
        done
        run_tool berth-pull "$HOSTILE/slow1:latest"
        is "$output" "$(fixture_config busybox)"
}
