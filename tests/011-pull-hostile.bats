#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-pull against a hostile registry (tests/pull-hostile-registry.py): THREATS.md P1-P12. Each case ends
# with one clear error line, exit 1, and nothing new in the store.

load helpers
load pull-store

setup_file() {
        local dir=$BATS_FILE_TMPDIR
        # Every case starts from a store that holds an image (one sharing no blob with the hostile one) and
        # must leave it exactly so.
        local other
        case $(uname -m) in x86_64) other=linux/arm64 ;; *) other=linux/amd64 ;; esac
        BERTH_ROOT=$dir/seed berth-pull -q --platform "$other" "$BERTH_TEST_REGISTRY/multi:latest" >/dev/null
        python3 "$BATS_TEST_DIRNAME/pull-hostile-registry.py" "$BERTH_FIXTURES" "$dir/port" \
                >"$dir/hostile.log" 2>&1 3>&- &
        echo $! >"$dir/pid"
        local i
        for ((i = 0; i < 250; i++)); do
                [[ -s $dir/port ]] && break
                sleep 0.02
        done
        [[ -s $dir/port ]] || {
                cat "$dir/hostile.log" >&2
                return 1
        }
        export HOSTILE=127.0.0.1:$(cat "$dir/port")
}

teardown_file() {
        kill "$(cat "$BATS_FILE_TMPDIR/pid")" 2>/dev/null || true
}

setup() {
        fresh_root
        curl -fsS "http://$HOSTILE/_reset" >/dev/null
}
teardown() { berth_teardown; }

# hostile_fail REPO MESSAGE [ARGS...]: the pull fails with one line containing MESSAGE and stores nothing.
hostile_fail() {
        local repo=$1 msg=$2
        shift 2
        run_tool --stderr 1 berth-pull --retry-delay 10ms --timeout 2s "$@" "$HOSTILE/$repo:latest"
        is "$output" "" "stdout of a failed pull"
        is "${#stderr_lines[@]}" 1 "lines on stderr: $stderr"
        assert_contains "$stderr" "$msg"
        assert_contains "$stderr" "$HOSTILE/$repo"
        assert_store_unchanged
}

# A copy of the seed store, and its snapshot.
fresh_root() {
        _n=$((${_n:-0} + 1))
        export BERTH_ROOT=$BATS_TEST_TMPDIR/root$_n
        cp -a "$BATS_FILE_TMPDIR/seed" "$BERTH_ROOT"
        store_snapshot
}

# The hex digest of the layer the hostile registry serves (the fixtures' busybox layer).
hostile_layer() {
        local l m
        l=$(fixture_layout)
        m=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "busybox") | .digest' "$l/index.json")
        jq -r '.layers[0].digest' "$l/blobs/sha256/${m#sha256:}" | cut -d: -f2
}

hostile_log() {
        curl -fsS "http://$HOSTILE/_log"
}

@test "hostile P1 P2: wrong digest, one byte more, one byte less, an endless body" {
        hostile_fail baddigest "digest mismatch"
        [[ ! -e $BERTH_ROOT/tmp/$(hostile_layer).partial ]] || die "wrong content left in tmp"
        hostile_fail longblob "size mismatch"
        hostile_fail shortblob "size mismatch"
        hostile_fail endless "size mismatch"
}

@test "hostile P6: caps: manifest, config, layers, endless error body and token; RSS stays small" {
        hostile_fail bigmanifest "larger than 4194304 bytes"
        hostile_fail endlessmanifest "larger than 4194304 bytes"
        hostile_fail bigconfig "config size"
        hostile_fail manylayers "1001 layers"
        hostile_fail bigerror "HTTP 404"
        hostile_fail bigtoken "answer larger than 1 MiB"
        run_tool 1 /usr/bin/time -f 'rss=%M' berth-pull --timeout 2s "$HOSTILE/endless:latest"
        local rss
        rss=$(grep -o 'rss=[0-9]*' <<<"$output" | cut -d= -f2)
        # AddressSanitizer's shadow memory alone is bigger than the budget.
        ldd "$(command -v berth-pull)" | grep -q libasan ||
                ((rss < 20 * 1024)) || die "peak RSS ${rss} KiB on an endless blob"
}

@test "hostile: a config that does not match the layers: every blob fetched goes out of the store again" {
        hostile_fail diffids "rootfs.diff_ids match the 1 layers"
        # Kept (outside the store) for the next pull to commit without fetching it again.
        [[ -s $BERTH_ROOT/tmp/$(hostile_layer).partial ]] || die "the verified layer was not kept in tmp"
        curl -fsS "http://$HOSTILE/_reset" >/dev/null
        run_tool berth-pull "$HOSTILE/busybox:latest"
        output=$(hostile_log)
        assert_not_contains "$output" "$(hostile_layer)"

        # While another pull runs (it holds the gc lock shared), what a failed pull stored stays, since the
        # other may be about to name it; gc takes it once nobody pulls.
        fresh_root
        local fd
        exec {fd}>"$BERTH_ROOT/oci/.gc.lock"
        flock -s "$fd"
        run_tool --stderr 1 berth-pull "$HOSTILE/diffids:latest"
        exec {fd}>&-
        [[ -e $BERTH_ROOT/oci/blobs/sha256/$(hostile_layer) ]] || die "taken back while another pull ran"
        run_tool --stderr berth-pull gc
        assert_contains "$output" "sha256:$(hostile_layer)"
        assert_store_unchanged
}

@test "layer media types: gzip, zstd and uncompressed are taken, and kept as the manifest says" {
        local t
        for t in zstd tar; do
                run_tool berth-pull "$HOSTILE/mt$t:latest"
                run_tool jq -r '.layers[0].mediaType' "$BERTH_ROOT/oci/blobs/sha256/$(jq -r '.manifests[-1].digest' "$BERTH_ROOT/oci/index.json" | cut -d: -f2)"
                is "$output" "application/vnd.oci.image.layer.v1.${t/zstd/tar+zstd}"
        done
        run_tool berth-pull "$HOSTILE/busybox:latest"
}

@test "hostile: invalid JSON, schema1, P4 ambiguous documents" {
        hostile_fail badjson "is not valid JSON"
        hostile_fail schema1 "schema1"
        hostile_fail ambiguous "ambiguous"
        hostile_fail ctmismatch "does not match"
        hostile_fail mtmismatch "does not match its content"
}

@test "hostile P5: invalid digests in descriptors are refused before any URL is built" {
        hostile_fail traversal "invalid layer digest"
        hostile_fail upperhex "invalid layer digest"
        hostile_fail md5 "invalid layer digest"
        hostile_fail shortdigest "invalid layer digest"
        output=$(hostile_log)
        assert_not_contains "$output" "etc/passwd"
        assert_not_contains "$output" "md5:"
}

@test "hostile P10: an index whose entry is an index; a nested index; 11 redirects; P3 a lying digest" {
        hostile_fail selfindex "points at another index"
        hostile_fail nestedindex "nested indexes are not supported"
        hostile_fail redirectloop "more than 10 redirects"
        hostile_fail redirectfile "refusing redirect to 'file:///etc/passwd'"
        local want
        want=sha256:$(printf x | sha256sum | cut -d' ' -f1)
        run_tool --stderr 1 berth-pull "$HOSTILE/digestlie@$want"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "does not match the requested digest"
        assert_store_unchanged
}

@test "hostile P12: 503 and 429 with Retry-After are retried and succeed; always 503 gives up; 404 is not retried" {
        local t0=$SECONDS
        run_tool berth-pull "$HOSTILE/flaky:latest"
        is "$output" "sha256:*"
        ((SECONDS - t0 >= 2)) || die "Retry-After: 1 was not honoured"
        run_tool berth-pull "$HOSTILE/ratelimit:latest"
        run_tool berth-pull --retry-delay 10ms "$HOSTILE/reset:latest"
        is "$output" "sha256:*" "pulled after two connection resets"
        curl -fsS "http://$HOSTILE/_reset" >/dev/null
        fresh_root
        hostile_fail busy "gave up after 4 attempts"
        output=$(hostile_log)
        is "$(grep -o '/v2/busy/manifests' <<<"$output" | wc -l)" 4 "requests to an always-busy registry"
        curl -fsS "http://$HOSTILE/_reset" >/dev/null
        hostile_fail notfound "HTTP 404 (MANIFEST_UNKNOWN"
        output=$(hostile_log)
        is "$(grep -o '/v2/notfound/manifests' <<<"$output" | wc -l)" 1 "requests after a 404"
}

@test "hostile P9 P7: a blob redirect to another host or port gets no credentials; layer urls only when allowed, without them" {
        run_tool berth-pull --creds berth:s3cret-pw "$HOSTILE/basicredirect:latest"
        output=$(hostile_log)
        run_tool jq -r '.[] | "\(.host) \(.path) \(.auth)"' <<<"$output"
        assert_contains "$output" "/v2/basicredirect/manifests/latest Basic"
        local line
        line=$(grep '/_blob/' <<<"$output") || die "the redirect was not followed"
        [[ $line == localhost:*" null" ]] || die "the other host got credentials: $line"
        # The same host on another port is another origin too.
        fresh_root
        curl -fsS "http://$HOSTILE/_reset" >/dev/null
        run_tool berth-pull --creds berth:s3cret-pw "$HOSTILE/basicredirectport:latest"
        output=$(hostile_log)
        run_tool jq -r '.[] | "\(.host) \(.path) \(.auth)"' <<<"$output"
        line=$(grep '/_blob/' <<<"$output") || die "the redirect was not followed"
        [[ $line != "$HOSTILE "* && $line == 127.0.0.1:*" null" ]] || die "another port got credentials: $line"

        fresh_root
        run_tool berth-pull "$HOSTILE/urls:latest"
        output=$(hostile_log)
        assert_not_contains "$output" "/_evil"
        # Allowed by the user: the layer comes from its URL, without credentials, and is verified as ever.
        fresh_root
        curl -fsS "http://$HOSTILE/_reset" >/dev/null
        run_tool berth-pull --allow-foreign-urls --creds berth:s3cret-pw "$HOSTILE/basicurls:latest"
        is "$output" "$(jq -r .config.digest "$(fixture_layout)/blobs/sha256/$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "busybox") | .digest' "$(fixture_layout)/index.json" | cut -d: -f2)")"
        output=$(hostile_log)
        run_tool jq -r '.[] | "\(.host) \(.path) \(.auth)"' <<<"$output"
        line=$(grep '/_blob/' <<<"$output") || die "the layer's URL was not used"
        [[ $line == localhost:*" null" ]] || die "the layer's URL got credentials: $line"
        assert_not_contains "$output" "/v2/basicurls/blobs/sha256:$(hostile_layer)"
        assert_contains "$output" "/v2/basicurls/manifests/latest Basic"
        fresh_root
        hostile_fail urls "HTTP 404 from 'http://localhost:" --allow-foreign-urls
        # Blob storage refusing a pre-signed URL: named, without the signature, at any log level.
        hostile_fail signedredirect "HTTP 403 from 'http://localhost:"
        assert_not_contains "$stderr" "s1gn4ture"
        run_tool --stderr 1 berth-pull --log-level debug --retry 0 "$HOSTILE/signedredirect:latest"
        assert_contains "$stderr" "/_signed/"
        assert_not_contains "$stderr" "s1gn4ture"
}

@test "hostile: stalled connections time out quickly (--timeout), before or in the body" {
        local t0=$SECONDS
        hostile_fail stall "$HOSTILE/stall" --timeout 1s --retry 0
        hostile_fail stallblob "Layer 1" --timeout 1s --retry 0
        ((SECONDS - t0 <= 8)) || die "timeouts took $((SECONDS - t0))s"
        BERTH_PULL_TIMEOUT=1s run_tool 1 berth-pull --retry 0 "$HOSTILE/stall:latest"
}

@test "hostile P11: a cut connection resumes with Range; a 200 to a Range restarts; a wrong Content-Range fails" {
        run_tool berth-pull --retry-delay 10ms "$HOSTILE/resume:latest"
        output=$(hostile_log)
        assert_contains "$output" '"range": "bytes='
        fresh_root
        run_tool berth-pull --retry-delay 10ms "$HOSTILE/norange:latest"
        fresh_root
        hostile_fail badrange "Content-Range"
        fresh_root
        hostile_fail truncated "Layer 1" --retry 1
}
