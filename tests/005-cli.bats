#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The CLI contract shared by every program: --help matches the man page, --version, usage errors exit 2 with
# one line, the berth front dispatches verbs to their owners, make install lays everything out.

load helpers

setup() { berth_setup; }
teardown() { berth_teardown; }

programs() {
        local b
        for b in "$BERTH_BUILD"/berth "$BERTH_BUILD"/berth-*; do
                [[ -x $b && -f $b ]] && basename "$b"
        done
}

man_page() {
        local p=$1 f
        for f in "$BERTH_TESTS_DIR"/../man/"$p".[0-9].scd; do
                [[ -f $f ]] && echo "$f" && return 0
        done
        return 1
}

@test "every program: --help, --version, a man page that documents every long option" {
        local p n=0
        for p in $(programs); do
                n=$((n + 1))
                run_tool "$p" --help
                assert_contains "$output" "$p"
                local help=$output
                run_tool "$p" --version
                is "$output" "$p [0-9.]*" "$p --version"
                local man
                man=$(man_page "$p") || die "$p has no man page in man/"
                local opt
                for opt in $(grep -oE -- '--[a-z][a-z0-9-]+' <<<"$help" | sort -u); do
                        grep -qF -- "*$opt" "$man" || grep -qF -- "$opt" "$man" ||
                                die "$p --help mentions $opt but $(basename "$man") does not"
                done
        done
        ((n >= 1)) || die "no programs built in $BERTH_BUILD"
}

@test "every program: an unknown option is a usage error: exit 2, one line on stderr, nothing on stdout" {
        local p
        for p in $(programs); do
                [[ $p == berth-generator ]] && continue
                run_tool --stderr 2 "$p" --no-such-option
                is "$output" "" "$p: stdout on a usage error"
                is "${#stderr_lines[@]}" 1 "$p: one line on stderr"
                assert_contains "$stderr" "no-such-option"
        done
}

@test "berth front: verbs reach their owners, unknown verbs are usage errors" {
        run_tool --stderr 2 berth
        is "${#stderr_lines[@]}" 1
        run_tool --stderr 2 berth frobnicate
        assert_contains "$stderr" "Unknown verb 'frobnicate'"
        run_tool berth --help
        assert_contains "$output" "berth-run"
        run_tool berth --version
        local verb prog
        for verb in pull:berth-pull ps:berth-ps images:berth-ps run:berth-run attach:berth-run prune:berth-run network:berth-net unpack:berth-unpack; do
                prog=${verb#*:}
                [[ -x $BERTH_BUILD/$prog ]] || continue
                run_tool "berth" "${verb%%:*}" --help
                assert_contains "$output" "$prog"
        done
}

@test "berth image: ls, inspect, tag, rm and prune reach their owners" {
        local ref=$BERTH_TEST_REGISTRY/busybox:latest id
        run_tool berth image pull -q "$ref"
        id=$output
        run_tool berth image ls --no-trunc --format "{{.ID}}"
        is "$output" "$id" "berth image ls"
        run_tool berth image inspect "$ref"
        is "$(jq -r ".[0].Id" <<<"$output")" "${id#sha256:}"
        run_tool berth image tag "$ref" localhost/other:1
        run_tool berth unpack "$ref"
        [[ -n $(ls -A "$BERTH_ROOT/layers" | grep -v '^\.') ]] || die "no layer unpacked"
        run_tool berth image rm "$ref" localhost/other:1
        run_tool berth image prune
        run_tool find "$BERTH_ROOT/oci/blobs" -type f
        is "$output" "" "prune removed the blobs"
        run_tool bash -c "ls -A '$BERTH_ROOT/layers' | grep -v '^\.' || true"
        is "$output" "" "prune removed the layers"
        run_tool --stderr 2 berth image frob
        is "$stderr" "berth: Unknown image verb 'frob'; see 'berth --help'"
        run_tool --stderr 2 berth image prune -a
        is "${#stderr_lines[@]}" 1
}

@test "make install: binaries, man pages by section, units with @bindir@ substituted" {
        local dest=$BATS_TEST_TMPDIR/dest
        run_tool make -s -C "$BERTH_TESTS_DIR/.." install B="$BERTH_BUILD" DESTDIR="$dest" PREFIX=/usr
        local p
        for p in $(programs); do
                [[ -x $dest/usr/bin/$p ]] || die "$p not installed"
        done
        [[ -f $dest/usr/share/man/man1/berth.1 ]] || die "berth.1 not installed"
        if compgen -G "$BERTH_TESTS_DIR/../units/*.in" >/dev/null; then
                run_tool 1 grep -rl "@bindir@" "$dest/usr/lib/systemd/system"
                is "$status" 1 "no unit keeps @bindir@"
        fi
}
