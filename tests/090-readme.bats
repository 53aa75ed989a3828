#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's session works verbatim.

load helpers

setup() { berth_setup; }
teardown() { berth_teardown; }

@test "README: the shell session runs as written" {
        local script=$BATS_TEST_TMPDIR/session.sh
        awk '/^```sh$/ { on = 1; next } /^```$/ { on = 0 } on' "$BERTH_TESTS_DIR/../README.md" >"$script"
        [[ -s $script ]] || die "no sh block in README.md"
        run_tool bash -euo pipefail -x "$script"
        assert_contains "$output" "hello"
        assert_contains "$output" "web running"
        assert_contains "$output" "busybox:latest"
        run_tool berth images -q
        is "$output" "" "the session ends with an empty image store"
        run_tool find "$BERTH_ROOT/oci/blobs" -type f
        is "$output" ""
}
