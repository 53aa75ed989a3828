#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-pull authentication: Bearer tokens (tests/pull-hostile-registry.py is registry and token server), Basic
# auth against a real docker-registry with an htpasswd file, every place credentials come from, and never a
# secret in the output.

load helpers
load pull-store

PASS=s3cret-pw

setup_file() { pull_auth_registries_start; }
teardown_file() { pull_auth_registries_stop; }

setup() { pull_auth_setup; }
teardown() { pull_auth_teardown; }

@test "auth: Bearer token with --creds; one token per pull, reused for every blob; no secret printed" {
        run_tool --stderr berth-pull --log-level debug --creds "berth:$PASS" "$HOSTILE/bearer:latest"
        is "$output" "sha256:*"
        assert_not_contains "$stderr" "$PASS"
        local log token
        log=$(hostile_log)
        is "$(jq '[.[] | select(.path | startswith("/token"))] | length' <<<"$log")" 1 "token requests"
        is "$(jq '[.[] | select(.path | contains("/blobs/")) | select(.auth != "Bearer")] | length' <<<"$log")" 0 \
                "blob requests without the token"
        token=$(curl -fsS -u "berth:$PASS" "http://$HOSTILE/token?scope=repository:bearer:pull" | jq -r .token)
        assert_not_contains "$stderr" "$token"
}

@test "auth: anonymous Bearer token; wrong or missing credentials name their source, never the secret" {
        run_tool berth-pull "$HOSTILE/bearer-anon:latest"
        is "$output" "sha256:*"
        fresh=$BATS_TEST_TMPDIR/r2
        run_tool --stderr 1 berth-pull --root "$fresh" "$HOSTILE/bearer:latest"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "HTTP 401 with no credentials"
        run_tool --stderr 1 berth-pull --root "$fresh" --creds berth:wrong-pw "$HOSTILE/bearer:latest"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "--creds"
        assert_not_contains "$stderr" "wrong-pw"
        auth_json "$BATS_TEST_TMPDIR/bad.json" "$HOSTILE" "berth:bad-pw"
        run_tool --stderr 1 berth-pull --root "$fresh" --authfile "$BATS_TEST_TMPDIR/bad.json" "$HOSTILE/bearer:latest"
        assert_contains "$stderr" "$BATS_TEST_TMPDIR/bad.json (entry '$HOSTILE')"
        assert_not_contains "$stderr" "bad-pw"
        [[ ! -e $fresh/oci/index.json ]] || die "failed pulls wrote index.json"
}

@test "auth: credentials from --authfile, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR auth.json, ~/.docker/config.json" {
        auth_json "$BATS_TEST_TMPDIR/a.json" "$HOSTILE"
        run_tool berth-pull --authfile "$BATS_TEST_TMPDIR/a.json" "$HOSTILE/bearer:latest"
        is "$output" "sha256:*"

        auth_json "$BATS_TEST_TMPDIR/b.json" "http://$HOSTILE/bearer"
        REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/b.json run_tool berth-pull --root "$BATS_TEST_TMPDIR/r2" "$HOSTILE/bearer:latest"

        auth_json "$XDG_RUNTIME_DIR/containers/auth.json" "$HOSTILE"
        run_tool berth-pull --root "$BATS_TEST_TMPDIR/r3" "$HOSTILE/bearer:latest"
        rm -rf "$XDG_RUNTIME_DIR/containers"

        auth_json "$HOME/.docker/config.json" "$HOSTILE"
        run_tool berth-pull --root "$BATS_TEST_TMPDIR/r4" "$HOSTILE/bearer:latest"
        # A more specific repository entry wins over the host's.
        printf '{"auths": {"%s": {"auth": "%s"}, "%s/bearer": {"auth": "%s"}}}\n' \
                "$HOSTILE" "$(printf berth:bad | base64 -w0)" "$HOSTILE" "$(printf %s "berth:$PASS" | base64 -w0)" \
                >"$HOME/.docker/config.json"
        run_tool berth-pull --root "$BATS_TEST_TMPDIR/r5" "$HOSTILE/bearer:latest"
        # --authfile is the only file looked at when given.
        run_tool 1 berth-pull --root "$BATS_TEST_TMPDIR/r6" --authfile /nonexistent "$HOSTILE/bearer:latest"
        assert_contains "$output" "/nonexistent"
}

@test "auth P8: a realm on another host gets no credentials; a 401 loop ends with one error" {
        auth_json "$BATS_TEST_TMPDIR/a.json" "$HOSTILE"
        store_snapshot
        run_tool --stderr 1 berth-pull --authfile "$BATS_TEST_TMPDIR/a.json" "$HOSTILE/evilrealm:latest"
        is "${#stderr_lines[@]}" 1
        output=$(hostile_log)
        run_tool jq -r '.[] | select(.path | startswith("/token")) | "\(.host) \(.auth)"' <<<"$output"
        [[ $output == localhost:*" null" ]] || die "the realm on another host got: $output"

        run_tool --stderr 1 berth-pull --retry-delay 10ms --creds "berth:$PASS" "$HOSTILE/auth401loop:latest"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "authentication failed: HTTP 401 (UNAUTHORIZED"
        assert_contains "$stderr" "$HOSTILE/auth401loop"
        output=$(hostile_log)
        local n
        n=$(jq '[.[] | select(.path | contains("/manifests/"))] | length' <<<"$output")
        ((n <= 3)) || die "$n manifest requests in a 401 loop"
        assert_store_unchanged
}

@test "auth: Basic auth against docker-registry with htpasswd (--creds, auth file); refused without" {
        run_tool --stderr 1 berth-pull "$BASIC/busybox:latest"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "wants a user name and password"
        run_tool --stderr berth-pull --log-level debug --creds "berth:$PASS" "$BASIC/busybox:latest"
        is "$output" "sha256:*"
        assert_not_contains "$stderr" "$PASS"
        assert_not_contains "$stderr" "$(printf %s "berth:$PASS" | base64 -w0)"
        auth_json "$XDG_RUNTIME_DIR/containers/auth.json" "$BASIC"
        run_tool berth-pull --root "$BATS_TEST_TMPDIR/r2" "$BASIC/busybox:latest"
        run_tool --stderr 1 berth-pull --root "$BATS_TEST_TMPDIR/r3" --creds berth:nope "$BASIC/busybox:latest"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "401"
        assert_not_contains "$stderr" "nope"
}

@test "auth: docker credential helpers (credHelpers, credsStore) from ~/.docker/config.json" {
        local bin=$BATS_TEST_TMPDIR/bin
        mkdir -p "$bin" "$HOME/.docker"
        # A helper that knows one server and logs what it was asked.
        cat >"$bin/docker-credential-berthtest" <<-EOF2
	#!/bin/sh
	[ "\$1" = get ] || exit 1
	read -r server
	echo "\$server" >>"$BATS_TEST_TMPDIR/asked"
	[ "\$server" = "$HOSTILE" ] || { echo "credentials not found in native keychain"; exit 1; }
	printf '{"ServerURL": "%s", "Username": "berth", "Secret": "%s"}\\n' "\$server" "$PASS"
	EOF2
        chmod +x "$bin/docker-credential-berthtest"
        printf '{"credHelpers": {"%s": "berthtest"}}\n' "$HOSTILE" >"$HOME/.docker/config.json"
        PATH=$bin:$PATH run_tool --stderr berth-pull --log-level debug "$HOSTILE/bearer:latest"
        is "$output" "sha256:*"
        assert_not_contains "$stderr" "$PASS"
        is "$(cat "$BATS_TEST_TMPDIR/asked")" "$HOSTILE"
        printf '{"credsStore": "berthtest"}\n' >"$HOME/.docker/config.json"
        PATH=$bin:$PATH run_tool berth-pull --root "$BATS_TEST_TMPDIR/r2" "$HOSTILE/bearer:latest"
        printf '{"credsStore": "nosuchhelper"}\n' >"$HOME/.docker/config.json"
        run_tool --stderr 1 berth-pull --root "$BATS_TEST_TMPDIR/r3" "$HOSTILE/bearer:latest"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "docker-credential-nosuchhelper"
}
