#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-unpack under stress: SIGKILL mid-unpack, concurrent unpacks of one image, free-space checks and a
# really full filesystem, garbage collection.

load helpers

setup_file() {
        export SHARED=$BATS_FILE_TMPDIR/shared
        mkdir -p "$SHARED/files/m"
        # 20000 small files: an unpack that takes long enough to be killed in the middle.
        (cd "$SHARED/files/m" && seq -w 1 20000 | xargs touch)
        tar -C "$SHARED/files" -cf "$SHARED/many.tar" --sort=name --mtime=@1704067200 --owner=0 --group=0 m
        local py=$BERTH_TESTS_DIR/unpack-hostile.py
        python3 "$py" "$SHARED/oci" /nonexistent --tar many "$SHARED/many.tar" >/dev/null
        python3 "$py" "$SHARED/oci" /nonexistent --tar liar "$SHARED/many.tar" --lie-isize >/dev/null
        mkdir -p "$SHARED/files/big"
        head -c 16M /dev/zero >"$SHARED/files/big/zeros"
        tar -C "$SHARED/files" -cf "$SHARED/big.tar" big
        python3 "$py" "$SHARED/oci" /nonexistent --tar bigliar "$SHARED/big.tar" --lie-isize >/dev/null
        python3 "$py" "$SHARED/oci" /nonexistent ok-12layers gc-a gc-b >/dev/null
}

setup() {
        berth_setup
        # Overlay whiteouts (0:0 devices), trusted.overlay.* xattrs, owners and mounts need real root.
        requires root
        ln -s "$SHARED/oci" "$BERTH_ROOT/oci"
}

teardown() {
        if [[ -n ${BG_PIDS:-} ]]; then
                kill -9 $BG_PIDS 2>/dev/null || true
        fi
        if mountpoint -q "$BERTH_ROOT/layers" 2>/dev/null; then
                umount "$BERTH_ROOT/layers"
        fi
        berth_teardown
}

img() { echo "127.0.0.1:5000/hostile/$1:latest"; }

chain_dirs() { find "$BERTH_ROOT/layers" -mindepth 1 -maxdepth 1 -name '[0-9a-f]*' 2>/dev/null | wc -l; }
tmp_dirs() { find "$BERTH_ROOT/layers" -mindepth 1 -maxdepth 1 -name '.tmp-*' 2>/dev/null | wc -l; }

# wait_for SECONDS COMMAND...: poll every 10 ms.
wait_for() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@"; do
                ((SECONDS < deadline)) || return 1
                sleep 0.01
        done
}

writing() { compgen -G "$BERTH_ROOT/layers/.tmp-*/diff/m/*" >/dev/null; }

@test "SIGKILL in the middle of an unpack: nothing looks complete; the next run cleans up and finishes" {
        local tries
        for tries in 1 2 3; do
                rm -rf "$BERTH_ROOT/layers"
                berth-unpack "$(img many)" 2>"$BATS_TEST_TMPDIR/err" &
                BG_PIDS=$!
                wait_for 20 writing || die "the unpack never started writing"
                kill -9 "$BG_PIDS"
                wait "$BG_PIDS" || true
                BG_PIDS=
                (($(chain_dirs) == 0)) && break
        done
        is "$(chain_dirs)" 0 "a killed unpack left a complete-looking layer"
        is "$(tmp_dirs)" 1 "the killed unpack's temp dir"
        run_tool berth-unpack "$(img many)"
        is "$(chain_dirs) $(tmp_dirs)" "1 0"
        is "$(find "$BERTH_ROOT"/layers/[0-9a-f]*/diff/m -type f | wc -l)" 20000
}

@test "SIGKILL in the middle of --to: no tree appears; the next run removes the leftover and finishes" {
        local t=$BATS_TEST_TMPDIR/tree tmp=$BATS_TEST_TMPDIR/.tree.berth-tmp tries
        for tries in 1 2 3; do
                rm -rf "$t" "$tmp"
                berth-unpack --to "$t" "$(img many)" 2>"$BATS_TEST_TMPDIR/err" &
                BG_PIDS=$!
                wait_for 20 compgen -G "$tmp/m/*" >/dev/null || die "the unpack never started writing"
                kill -9 "$BG_PIDS"
                wait "$BG_PIDS" || true
                BG_PIDS=
                [[ -e $t ]] || break
        done
        [[ ! -e $t ]] || die "a killed --to left a tree that looks complete"
        [[ -d $tmp ]] || die "the killed unpack's temp dir is gone"
        # While another berth-unpack holds it, the temp dir is left alone and the second one refused.
        exec {lockfd}<"$tmp"
        flock -x "$lockfd"
        run_tool --stderr 1 berth-unpack --to "$t" "$(img many)"
        exec {lockfd}<&-
        is "$stderr" "berth-unpack: '$t' is being written by another berth-unpack"
        [[ -d $tmp && ! -e $t ]] || die "the refused run changed something"
        run_tool berth-unpack --to "$t/" "$(img many)"
        [[ ! -e $tmp ]] || die "the leftover is still there"
        is "$(find "$t/m" -type f | wc -l)" 20000
        is "$(stat -c %a "$t")" 755
}

@test "two concurrent unpacks of one image: each layer unpacked once, both succeed" {
        berth-unpack --log-level debug -j 2 "$(img ok-12layers)" 2>"$BATS_TEST_TMPDIR/a" &
        local a=$!
        berth-unpack --log-level debug -j 2 "$(img ok-12layers)" 2>"$BATS_TEST_TMPDIR/b" &
        local b=$!
        BG_PIDS="$a $b"
        wait "$a" || die "first unpack failed: $(cat "$BATS_TEST_TMPDIR/a")"
        wait "$b" || die "second unpack failed: $(cat "$BATS_TEST_TMPDIR/b")"
        BG_PIDS=
        is "$(cat "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" | grep -c 'Unpacked layer')" 12 "layers unpacked in all"
        is "$(chain_dirs) $(tmp_dirs)" "12 0"
        # And in parallel with a third that mounts it.
        run_tool berth-unpack mount --read-only "$(img ok-12layers)" "$BATS_TEST_TMPDIR/m"
        is "$(ls "$BATS_TEST_TMPDIR/m" | wc -l)" 12
        run_tool berth-unpack umount "$BATS_TEST_TMPDIR/m"
}

@test "--min-free: refused before anything is written" {
        run_tool --stderr 1 berth-unpack --min-free 1000t "$(img many)"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "Not enough free space in '$BERTH_ROOT/layers' for the layers"
        assert_contains "$stderr" "(--min-free)"
        is "$(chain_dirs) $(tmp_dirs)" "0 0"
        run_tool --stderr 1 berth-unpack --min-free 1000t --to "$BATS_TEST_TMPDIR/t" "$(img many)"
        assert_contains "$stderr" "Not enough free space"
        [[ ! -e $BATS_TEST_TMPDIR/t ]] || die "tree left"
        run_tool --stderr 2 berth-unpack --min-free lots "$(img many)"
}

@test "a full filesystem mid-unpack (the size estimate lied): clean error, nothing partial" {
        mkdir -p "$BERTH_ROOT/layers"
        mount -t tmpfs -o size=2m,nr_inodes=2000,mode=0700 tmpfs "$BERTH_ROOT/layers"
        run_tool --stderr 1 berth-unpack --min-free 0 "$(img liar)"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "No space left on device"
        is "$(chain_dirs) $(tmp_dirs)" "0 0"
        # --to alike: a new tree is not left behind, a given (empty) directory is emptied again.
        run_tool --stderr 1 berth-unpack --min-free 0 --to "$BERTH_ROOT/layers/tree" "$(img liar)"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "No space left on device"
        mkdir "$BERTH_ROOT/layers/given"
        run_tool --stderr 1 berth-unpack --min-free 0 --to "$BERTH_ROOT/layers/given" "$(img liar)"
        assert_contains "$stderr" "No space left on device"
        is "$(ls -A "$BERTH_ROOT/layers" | grep -v "^\.lock")" "given" "what the failed --to runs left"
        is "$(ls -A "$BERTH_ROOT/layers/given")" "" "the given directory is empty again"
        umount "$BERTH_ROOT/layers"
        # --min-free holds while writing too, whatever the estimate said.
        mount -t tmpfs -o size=24m,mode=0700 tmpfs "$BERTH_ROOT/layers"
        run_tool --stderr 1 berth-unpack --min-free 16m "$(img bigliar)"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "free space fell below --min-free"
        is "$(chain_dirs) $(tmp_dirs)" "0 0"
        run_tool --stderr 1 berth-unpack --min-free 16m --to "$BERTH_ROOT/layers/tree" "$(img bigliar)"
        assert_contains "$stderr" "free space fell below --min-free"
        [[ ! -e $BERTH_ROOT/layers/tree && ! -e $BERTH_ROOT/layers/.tree.berth-tmp ]] || die "--to left a partial tree"
        run_tool berth-unpack --min-free 1m "$(img bigliar)"
        umount "$BERTH_ROOT/layers"
        mount -t tmpfs -o size=2m,nr_inodes=2000,mode=0700 tmpfs "$BERTH_ROOT/layers"
        # The estimate catches the honest blob up front.
        run_tool --stderr 1 berth-unpack --min-free 0 "$(img many)"
        assert_contains "$stderr" "Not enough free space"
        umount "$BERTH_ROOT/layers"
}

@test "gc: removes layers no image and no container uses, and dead unpackers' temp dirs" {
        run_tool berth-unpack "$(img gc-a)"
        run_tool berth-unpack "$(img gc-b)"
        is "$(chain_dirs)" 3 "base shared, a, b"
        run_tool berth-unpack gc
        is "$output" "" "everything is used"
        # gc-b stays mounted for a while.
        run_tool berth-unpack mount --read-only "$(img gc-b)" "$BATS_TEST_TMPDIR/mb"
        # A copy of the store without gc-b.
        rm "$BERTH_ROOT/oci"
        mkdir "$BERTH_ROOT/oci"
        cp -a "$SHARED/oci/blobs" "$SHARED/oci/oci-layout" "$BERTH_ROOT/oci/"
        jq --arg n "$(img gc-a)" '.manifests |= map(select(.annotations["org.opencontainers.image.ref.name"] == $n))' \
                "$SHARED/oci/index.json" >"$BERTH_ROOT/oci/index.json"
        local b_top
        b_top=$(grep -l '"Parent": "sha256:' "$BERTH_ROOT"/layers/*/layer.json | while read -r f; do
                [[ -e $(dirname "$f")/diff/b ]] && dirname "$f"
        done)
        [[ -n $b_top ]] || die "cannot find gc-b's top layer"
        mkdir -p "$BERTH_ROOT/layers/.tmp-$(printf 'e%.0s' {1..64})"
        run_tool berth-unpack gc
        is "$output" "" "a mounted layer is kept"
        is "$(chain_dirs) $(tmp_dirs)" "3 0"
        run_tool berth-unpack umount "$BATS_TEST_TMPDIR/mb"
        run_tool berth-unpack gc
        is "$output" "sha256:${b_top##*/}" "the removed layer"
        is "$(chain_dirs) $(tmp_dirs)" "2 0"
        is "$(ls "$BERTH_ROOT/layers/.locks" | sort)" "$(cd "$BERTH_ROOT/layers" && ls -d [0-9a-f]* | sort)" "lock files of live layers only"
        # Everything gc-a needs is still there and mounts.
        run_tool berth-unpack mount --read-only "$(img gc-a)" "$BATS_TEST_TMPDIR/m"
        is "$(cat "$BATS_TEST_TMPDIR/m/a" "$BATS_TEST_TMPDIR/m/base/f")" $'a\nbase'
        run_tool berth-unpack umount "$BATS_TEST_TMPDIR/m"
        # A container record whose image cannot be resolved: gc refuses rather than guess.
        local id
        id=$(printf 'c%.0s' {1..64})
        mkdir -p "$BERTH_ROOT/containers/$id"
        echo "{\"Id\": \"$id\", \"Image\": \"sha256:$(printf '0%.0s' {1..64})\"}" >"$BERTH_ROOT/containers/$id/container.json"
        run_tool --stderr 1 berth-unpack gc
        assert_contains "$stderr" "Container '$id' uses image"
        is "$(chain_dirs)" 2 "nothing removed"
}
