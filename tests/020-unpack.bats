#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-unpack: the layer store in overlayfs form, --to trees identical to umoci's, mounts (130 layers too),
# compressions, parallel jobs, uid shifts. Hostile layers: 021-unpack-hostile.bats; crashes: 022.

load helpers

# Images pulled once for the file (berth-pull from the world's registry) plus benign generated images; each
# test links the shared image store into its own root, so the layer store starts empty every time.
setup_file() {
        export SHARED=$BATS_FILE_TMPDIR/shared
        mkdir -p "$SHARED"
        BERTH_ROOT=$SHARED BERTH_RUNROOT=$SHARED/run berth-pull -q "$BERTH_TEST_REGISTRY/busybox:latest" >/dev/null
        BERTH_ROOT=$SHARED BERTH_RUNROOT=$SHARED/run berth-pull -q "$BERTH_TEST_REGISTRY/layered:latest" >/dev/null
        BERTH_ROOT=$SHARED BERTH_RUNROOT=$SHARED/run berth-pull -q "$BERTH_TEST_REGISTRY/busybox:v2s2" >/dev/null
        # The victim path only names things inside the roots here (021 checks the host side): one component, so no
        # directory is made implicitly (its time would be the second it was made, in berth and umoci alike).
        python3 "$BERTH_TESTS_DIR/unpack-hostile.py" "$SHARED/oci" /victim \
                ok-formats ok-130layers ok-300layers ok-12layers ok-owners ok-unmapped ok-implicit-parents ok-xlayer-hardlink ok-xlayer-then-delete ok-xlayer-sparse ok-caps \
                u21-setuid u13-abs-symlink-lower u19-dup-hardlinks u2-symlink-abs u3-symlink-hardlink u4-hardlink-abs \
                u5-chained-symlinks u6-symlink-override u7-dir-then-symlink u10-whiteout-symlink u11-opaque-order \
                u12-overlay-xattrs u19-file-dir-file u19-whiteout-then-content u19-content-then-whiteout >/dev/null
}

setup() {
        berth_setup
        # Overlay whiteouts (0:0 devices), trusted.overlay.* xattrs, owners and mounts need real root.
        requires root
        ln -s "$SHARED/oci" "$BERTH_ROOT/oci"
}
teardown() {
        [[ -z ${CAPDIR:-} ]] || rm -rf "$CAPDIR"
        berth_teardown
}

img() {
        case $1 in
        busybox | layered) echo "$BERTH_TEST_REGISTRY/$1:latest" ;;
        v2s2) echo "$BERTH_TEST_REGISTRY/busybox:v2s2" ;;
        *) echo "127.0.0.1:5000/hostile/$1:latest" ;;
        esac
}

# Chain IDs of an image, computed here with jq and sha256sum from the config's diff_ids.
chain_ids() {
        local m c chain='' d
        m=$(jq -r --arg n "$(img "$1")" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $n) | .digest' \
                "$SHARED/oci/index.json")
        c=$(jq -r .config.digest "$SHARED/oci/blobs/sha256/${m#sha256:}")
        for d in $(jq -r '.rootfs.diff_ids[]' "$SHARED/oci/blobs/sha256/${c#sha256:}"); do
                if [[ -z $chain ]]; then
                        chain=$d
                else
                        chain=sha256:$(printf '%s %s' "$chain" "$d" | sha256sum | cut -d' ' -f1)
                fi
                echo "${chain#sha256:}"
        done
}

xattr() {
        python3 -S -c 'import os, sys
try:
    print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())
except OSError:
    print("<none>")' "$1" "$2"
}

@test "unpack: one directory per chain ID in overlayfs form, 0700, layer.json; a second run does nothing" {
        run_tool berth-unpack "$(img layered)"
        is "$output" "" "quiet on success"
        local chains
        mapfile -t chains < <(chain_ids layered)
        is "${#chains[@]}" 4
        local c
        for c in "${chains[@]}"; do
                [[ -d $BERTH_ROOT/layers/$c/diff ]] || die "layer $c missing"
                is "$(stat -c %a "$BERTH_ROOT/layers/$c")" 700 "mode of layers/$c"
                run_tool jq -r .ChainID "$BERTH_ROOT/layers/$c/layer.json"
                is "$output" "sha256:$c"
        done
        is "$(stat -c %a "$BERTH_ROOT/layers")" 700 "mode of layers/"
        # Layer 3 deletes /data/b (a 0:0 char device) and makes /data/dir opaque.
        local l3=$BERTH_ROOT/layers/${chains[2]}/diff
        is "$(stat -c '%F %t:%T' "$l3/data/b")" "character special file 0:0"
        is "$(xattr "$l3/data/dir" trusted.overlay.opaque)" y
        is "$(cat "$l3/data/dir/d")" d
        # Layer 2: setuid kept, owner 1000, fifo, hardlink.
        local l2=$BERTH_ROOT/layers/${chains[1]}/diff
        is "$(stat -c '%a %u:%g' "$l2/data/suid" "$l2/data/owned")" $'4755 0:0\n644 1000:1000'
        is "$(stat -c %F "$l2/data/fifo")" fifo
        is "$(stat -c %i "$l2/data/a")" "$(stat -c %i "$l2/data/hardlink")" "hardlink"
        is "$(find "$BERTH_ROOT/layers" -maxdepth 1 -name '.tmp-*' | wc -l)" 0 "temp dirs left"
        # Shared base: busybox's only layer is layered's first.
        local before
        before=$(stat -c %Y "$BERTH_ROOT/layers/${chains[0]}")
        run_tool berth-unpack --log-level debug "$(img busybox)"
        assert_not_contains "$output" "Unpacked layer"
        run_tool --stderr berth-unpack --log-level debug "$(img layered)"
        assert_not_contains "$stderr" "Unpacked layer"
        is "$(stat -c %Y "$BERTH_ROOT/layers/${chains[0]}")" "$before"
}

@test "unpack --to: the same tree as umoci unpack (types, modes, owners, content, links, xattrs, mtimes)" {
        requires cmd:umoci
        run_tool berth-unpack --to "$BATS_TEST_TMPDIR/tree" "$(img layered)"
        run_tool skopeo copy -q "oci:$SHARED/oci:$(img layered)" "oci:$BATS_TEST_TMPDIR/layout:x"
        run_tool umoci unpack --image "$BATS_TEST_TMPDIR/layout:x" "$BATS_TEST_TMPDIR/bundle"
        run_tool python3 "$BERTH_TESTS_DIR/unpack-compare.py" "$BATS_TEST_TMPDIR/tree" "$BATS_TEST_TMPDIR/bundle/rootfs"
        assert_contains "$output" " 0 differences"
        # Whiteout and opaque dir applied.
        [[ ! -e $BATS_TEST_TMPDIR/tree/data/b && ! -e $BATS_TEST_TMPDIR/tree/data/dir/c ]] || die "whiteouts not applied"
        # The layer store was not touched.
        [[ ! -e $BERTH_ROOT/layers ]] || is "$(find "$BERTH_ROOT/layers" -mindepth 1 -maxdepth 1 -name '[0-9a-f]*' | wc -l)" 0
        # A non-empty target is refused, and left alone.
        touch "$BATS_TEST_TMPDIR/full"
        mkdir "$BATS_TEST_TMPDIR/nonempty" && touch "$BATS_TEST_TMPDIR/nonempty/keep"
        run_tool --stderr 1 berth-unpack --to "$BATS_TEST_TMPDIR/nonempty" "$(img layered)"
        assert_contains "$stderr" "is not empty"
        [[ -e $BATS_TEST_TMPDIR/nonempty/keep ]] || die "the non-empty target was changed"
}

@test "unpack --to: the same as umoci for owners, setuid/setgid/sticky, devices, capabilities, links, whiteouts" {
        requires cmd:umoci
        local c
        for c in busybox ok-owners ok-implicit-parents ok-xlayer-hardlink ok-xlayer-then-delete u13-abs-symlink-lower u19-dup-hardlinks u21-setuid u2-symlink-abs u3-symlink-hardlink \
                u4-hardlink-abs u5-chained-symlinks u6-symlink-override u7-dir-then-symlink u10-whiteout-symlink \
                u11-opaque-order u12-overlay-xattrs u19-file-dir-file u19-whiteout-then-content \
                u19-content-then-whiteout; do
                rm -rf "$BATS_TEST_TMPDIR/tree" "$BATS_TEST_TMPDIR/bundle"
                run_tool berth-unpack --to "$BATS_TEST_TMPDIR/tree" "$(img "$c")"
                run_tool umoci unpack --image "$SHARED/oci:$(img "$c")" "$BATS_TEST_TMPDIR/bundle"
                # Directories a layer makes again implicitly (w/sub/new after a whiteout of w) get the time they
                # were made, in both; the two runs may be a second apart.
                local opt=()
                [[ $c != u19-*whiteout* ]] || opt=(--no-mtime-dirs)
                run_tool '?' python3 "$BERTH_TESTS_DIR/unpack-compare.py" "${opt[@]}" "$BATS_TEST_TMPDIR/tree" \
                        "$BATS_TEST_TMPDIR/bundle/rootfs"
                # The differences docs/unpack.md lists, and only those.
                if [[ $c == u21-setuid ]]; then
                        # umoci (Go's archive/tar) does not read libarchive's base64 LIBARCHIVE.xattr form.
                        is "$(grep -v ' entries compared' <<<"$output")" "bin/cap2: xattrs differs: *!= []"
                elif [[ $c == u12-overlay-xattrs ]]; then
                        # berth drops user.overlay.* as it drops trusted.overlay.*; umoci 0.4.7 keeps it.
                        local want="o/f: xattrs differs: [('user.keep', b'kept')] != "
                        want+="[('user.keep', b'kept'), ('user.overlay.origin', b'x')]"
                        is "$(grep -v ' entries compared' <<<"$output")" "$want"
                elif [[ $c == u11-opaque-order ]]; then
                        # A directory emptied by an opaque marker keeps its header's mtime.
                        is "$(grep -v ' entries compared' <<<"$output")" "a/b/c: mtime differs: 1704067200 != [0-9]+"
                elif [[ $c == ok-implicit-parents ]]; then
                        # umoci restores only the direct parent's mtime after an entry; top/a, made for
                        # top/a/b/f, changes top's. berth restores every directory's at the end, as GNU tar.
                        # (top/a and top/a/b get the second they were made, in both: they may differ by one.)
                        is "$(grep -v -e ' entries compared' -e '^top/a\(/b\)\?: mtime differs: [0-9]* != [0-9]*$' <<<"$output")" \
                                "top: mtime differs: 1704067200 != [0-9]+"
                else
                        is "$status" 0 "$c: $output"
                fi
        done
}

@test "mount: the merged view equals the --to tree, writes go to upper, umount; errors are one line" {
        run_tool berth-unpack --to "$BATS_TEST_TMPDIR/tree" "$(img layered)"
        local c=$BATS_TEST_TMPDIR/c
        mkdir -p "$c"
        run_tool --stderr berth-unpack mount "$(img layered)" "$c/rootfs" --upper "$c/upper" --work "$c/work"
        is "$output" "$c/rootfs" "prints TARGET"
        findmnt -n -o FSTYPE "$c/rootfs" | grep -qx overlay || die "not an overlay mount"
        is "$(stat -c %a "$c/upper")" "$(stat -c %a "$BATS_TEST_TMPDIR/tree")" "upper takes the root's mode"
        run_tool python3 "$BERTH_TESTS_DIR/unpack-compare.py" --no-mtime-dirs "$BATS_TEST_TMPDIR/tree" "$c/rootfs"
        assert_contains "$output" " 0 differences"
        echo new >"$c/rootfs/data/new"
        rm "$c/rootfs/data/a"
        is "$(cat "$c/upper/data/new")" new
        is "$(stat -c '%F %t:%T' "$c/upper/data/a")" "character special file 0:0" "whiteout in upper"
        # Already mounted: refused.
        run_tool --stderr 1 berth-unpack mount "$(img layered)" "$c/rootfs" --upper "$c/upper" --work "$c/work"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "already a mount point"
        run_tool berth-unpack umount "$c/rootfs"
        ! findmnt "$c/rootfs" >/dev/null || die "still mounted"
        # Idempotent; a non-overlay mount is refused.
        run_tool berth-unpack umount "$c/rootfs"
        mkdir -p "$BATS_TEST_TMPDIR/t" && mount -t tmpfs tmpfs "$BATS_TEST_TMPDIR/t"
        run_tool --stderr 1 berth-unpack umount "$BATS_TEST_TMPDIR/t"
        umount "$BATS_TEST_TMPDIR/t"
        assert_contains "$stderr" "is not an overlay mount"
        # Usage errors exit 2 with one line.
        run_tool --stderr 2 berth-unpack mount "$(img layered)" "$c/rootfs"
        is "${#stderr_lines[@]}" 1
        run_tool --stderr 2 berth-unpack mount "$(img layered)" "$c/rootfs" --upper "$c/upper"
        run_tool --stderr 1 berth-unpack mount nosuch:image "$c/rootfs" --read-only
        is "$stderr" "berth-unpack: Image 'nosuch:image' not found in the store '$BERTH_ROOT/oci'"
}

@test "mount --read-only, and an image of 130 layers (longer than a page of full lowerdir paths)" {
        local m=$BATS_TEST_TMPDIR/m
        run_tool berth-unpack mount --read-only "$(img busybox)" "$m"
        [[ -x $m/bin/sh ]] || die "no /bin/sh in the read-only mount"
        ! touch "$m/x" 2>/dev/null || die "writable"
        run_tool berth-unpack umount "$m"
        run_tool berth-unpack -j 2 mount --read-only "$(img ok-130layers)" "$m"
        is "$(ls "$m/layers" | wc -l)" 130
        is "$(cat "$m/top")" 129 "the top layer wins"
        is "$(cat "$m/layers/000")" 0
        run_tool berth-unpack umount "$m"
        # The per-layer mount API ("lowerdir+", Linux 6.8+), forced, with an upper dir.
        BERTH_UNPACK_MOUNT_API=1 run_tool berth-unpack mount "$(img ok-130layers)" "$m" --upper "$BATS_TEST_TMPDIR/u" \
                --work "$BATS_TEST_TMPDIR/w"
        echo x >"$m/top"
        is "$(cat "$BATS_TEST_TMPDIR/u/top")" x
        run_tool berth-unpack umount "$m"
}

@test "mount: 300 layers, beyond one page even with short names, through the per-layer mount API" {
        local v
        v=$(uname -r)
        v=${v%%-*}
        if (($(cut -d. -f1 <<<"$v") * 100 + $(cut -d. -f2 <<<"$v") < 608)); then
                run_tool --stderr 1 berth-unpack mount --read-only "$(img ok-300layers)" "$BATS_TEST_TMPDIR/m"
                assert_contains "$stderr" "too many layers (300)"
                return 0
        fi
        run_tool berth-unpack mount --read-only "$(img ok-300layers)" "$BATS_TEST_TMPDIR/m"
        is "$(ls "$BATS_TEST_TMPDIR/m/layers" | wc -l) $(cat "$BATS_TEST_TMPDIR/m/top")" "300 299"
        run_tool berth-unpack umount "$BATS_TEST_TMPDIR/m"
}

@test "unpack: gzip, zstd, uncompressed and multi-member gzip layers" {
        run_tool berth-unpack --to "$BATS_TEST_TMPDIR/tree" "$(img ok-formats)"
        local t=$BATS_TEST_TMPDIR/tree/etc
        is "$(cat "$t/one" "$t/two" "$t/three" "$t/four" "$t/shared")" $'gzip\nzstd\nplain\nmulti-member\n4'
        run_tool berth-unpack --log-level debug "$(img ok-formats)"
        local c
        for c in $(chain_ids ok-formats); do
                jq -r .Compression "$BERTH_ROOT/layers/$c/layer.json"
        done | paste -sd' ' >"$BATS_TEST_TMPDIR/comp"
        is "$(cat "$BATS_TEST_TMPDIR/comp")" "gzip zstd none gzip"
}

@test "unpack: Docker schema2 media types; a missing blob, an unknown image: one line each" {
        run_tool berth-unpack --to "$BATS_TEST_TMPDIR/a" "$(img v2s2)"
        run_tool berth-unpack --to "$BATS_TEST_TMPDIR/b" "$(img busybox)"
        diff -r --no-dereference "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" || die "v2s2 and OCI trees differ"
        # A store whose layer blob is gone.
        rm "$BERTH_ROOT/oci"
        mkdir "$BERTH_ROOT/oci"
        cp -a "$SHARED/oci/." "$BERTH_ROOT/oci/"
        local m l
        m=$(jq -r --arg n "$(img busybox)" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $n) | .digest' \
                "$BERTH_ROOT/oci/index.json")
        l=$(jq -r '.layers[0].digest' "$BERTH_ROOT/oci/blobs/sha256/${m#sha256:}")
        rm "$BERTH_ROOT/oci/blobs/sha256/${l#sha256:}"
        run_tool --stderr 1 berth-unpack "$(img busybox)"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "Layer 1/1 ($l) of '$(img busybox)' refused: cannot open blob"
        is "$(find "$BERTH_ROOT/layers" -mindepth 1 -maxdepth 1 -name '[0-9a-f]*' -o -name '.tmp-*' | wc -l)" 0
        run_tool --stderr 1 berth-unpack sha256:0123
        is "$stderr" "berth-unpack: Image 'sha256:0123' not found in the store '$BERTH_ROOT/oci'"
        run_tool --stderr 2 berth-unpack
        is "$stderr" "berth-unpack: Missing IMAGE; see 'berth-unpack --help'"
}

@test "unpack --jobs: 12 layers in parallel give the same layers as one at a time" {
        run_tool berth-unpack --jobs 4 "$(img ok-12layers)"
        mv "$BERTH_ROOT/layers" "$BATS_TEST_TMPDIR/parallel"
        run_tool berth-unpack --jobs 1 "$(img ok-12layers)"
        listing() {
                (cd "$1" && find [0-9a-f]* -name layer.json -prune -o \( -type f -printf '%p %m %u:%g %s %T@\n' \) -o \
                        \( -type d -printf '%p %m %u:%g\n' \) | LC_ALL=C sort)
        }
        is "$(listing "$BATS_TEST_TMPDIR/parallel")" "$(listing "$BERTH_ROOT/layers")" "the same layers"
        is "$(listing "$BERTH_ROOT/layers" | grep -c '/diff/l[0-9]*/f')" 3600 "files"
        diff -r "$BATS_TEST_TMPDIR/parallel" "$BERTH_ROOT/layers" -x .lock -x .locks || die "contents differ"
        run_tool --stderr 2 berth-unpack --jobs 0 "$(img ok-12layers)"
        assert_contains "$stderr" "Invalid --jobs '0'"
}

@test "unpack --to --uidmap/--gidmap: owners shifted; an unmapped owner is refused" {
        run_tool berth-unpack --uidmap 0:100000:65536 --gidmap 0:200000:65536 --to "$BATS_TEST_TMPDIR/t" "$(img ok-owners)"
        local t=$BATS_TEST_TMPDIR/t
        is "$(stat -c %u:%g "$t/home/u" "$t/home/u/f" "$t/rootfile" "$t/home")" \
                $'101000:201000\n101000:200100\n100000:200000\n100000:200000'
        run_tool --stderr 1 berth-unpack --uidmap 0:100000:65536 --to "$BATS_TEST_TMPDIR/t2" "$(img ok-unmapped)"
        assert_contains "$stderr" "uid 70000 or gid 0 is out of range or not mapped"
        [[ ! -e $BATS_TEST_TMPDIR/t2 ]] || die "partial tree left"
        run_tool --stderr 2 berth-unpack --uidmap 0:x:1 --to "$BATS_TEST_TMPDIR/t3" "$(img ok-owners)"
}

@test "unpack --uidmap in the store: a shifted copy beside the plain layer; mount with the same maps shows it" {
        local map=(--uidmap 0:100000:65536 --gidmap 0:100000:65536) c m=$BATS_TEST_TMPDIR/m
        run_tool berth-unpack "$(img ok-owners)"
        run_tool berth-unpack "${map[@]}" "$(img ok-owners)"
        c=$(chain_ids ok-owners)
        is "$(cd "$BERTH_ROOT/layers" && ls -d [0-9a-f]*)" "$c"$'\n'"$c-[0-9a-f]{16}"
        run_tool berth-unpack "${map[@]}" mount --read-only "$(img ok-owners)" "$m"
        is "$(stat -c %u:%g "$m/home/u/f" "$m/rootfile")" $'101000:100100\n100000:100000'
        run_tool berth-unpack umount "$m"
        run_tool berth-unpack mount --read-only "$(img ok-owners)" "$m"
        is "$(stat -c %u:%g "$m/home/u/f")" 1000:100
        run_tool berth-unpack umount "$m"
        run_tool berth-unpack gc
        is "$output" "" "both copies are in use"
}

# caps FILE...: security.capability in hex, one line per file, "<none>" if absent.
caps() {
        python3 -S -c 'import os, sys
for f in sys.argv[1:]:
    try:
        print(os.getxattr(f, "security.capability", follow_symlinks=False).hex())
    except OSError:
        print("<none>")' "$@"
}

@test "unpack: a hardlink to a lower layer's file is copied up and linked, with --jobs; as --to, and shifted" {
        local m=$BATS_TEST_TMPDIR/m t=$BATS_TEST_TMPDIR/tree chains
        mapfile -t chains < <(chain_ids ok-xlayer-hardlink)
        # The bottom layer has 3000 files, the top one a few links: with 3 jobs the top one waits for it.
        run_tool --stderr berth-unpack --jobs 3 --log-level debug "$(img ok-xlayer-hardlink)"
        assert_contains "$stderr" "Copying up 'usr/bin/a' from a lower layer for a hardlink"
        run_tool berth-unpack mount --read-only "$(img ok-xlayer-hardlink)" "$m"
        # Both names are one inode (the copy in the top layer), with the lower file's owner, mode, xattrs.
        is "$(stat -c '%i %a %u:%g %h %s' "$m/usr/bin/a")" "$(stat -c '%i %a %u:%g %h %s' "$m/usr/bin/b")"
        is "$(stat -c '%a %u:%g %h %s %F' "$m/usr/bin/b" "$m/top/g" "$m/top/l" "$m/top/p")" \
                $'4750 1000:50 2 2000 regular file\n600 9:9 2 5 regular file\n777 0:0 2 1 symbolic link\n640 0:0 2 0 fifo'
        is "$(stat -c %i "$m/top/g")" "$(stat -c %i "$m/opt/deep/dir/f")" "top/g and opt/deep/dir/f"
        cmp "$m/usr/bin/b" "$BERTH_ROOT/layers/${chains[0]}/diff/usr/bin/a" || die "content differs"
        is "$(readlink "$m/top/l")" a
        is "$(caps "$m/usr/bin/b")" 0100000200200000000000000000000000000000
        is "$(xattr "$m/usr/bin/b" user.note)" kept
        local top=$BERTH_ROOT/layers/${chains[2]}/diff low=$BERTH_ROOT/layers/${chains[0]}/diff
        is "$(stat -c %h "$top/usr/bin/a" "$low/usr/bin/a")" $'2\n1' "the copy is the top layer's, the lower file alone"
        # Directories the copy-up made have the lower ones' attributes and times.
        is "$(stat -c '%a %u:%g %Y' "$top/opt/deep/dir" "$top/opt/deep" "$top/opt")" \
                $'710 7:8 1704067190\n750 5:6 1704067180\n755 0:0 1704067170'
        is "$(xattr "$top/opt/deep/dir" user.dir)" d
        # The same merged view as the --to tree (whose dirs made implicitly may be a second apart).
        run_tool berth-unpack --to "$t" "$(img ok-xlayer-hardlink)"
        is "$(stat -c %i "$t/usr/bin/a")" "$(stat -c %i "$t/usr/bin/b")" "--to: one inode"
        run_tool python3 "$BERTH_TESTS_DIR/unpack-compare.py" --no-mtime-dirs "$t" "$m"
        assert_contains "$output" " 0 differences"
        run_tool berth-unpack umount "$m"
        # A shifted copy: the lower layers are the shifted ones, so the copy has the shifted owner.
        local map=(--uidmap 0:100000:65536 --gidmap 0:100000:65536)
        run_tool berth-unpack "${map[@]}" --jobs 3 "$(img ok-xlayer-hardlink)"
        run_tool berth-unpack "${map[@]}" mount --read-only "$(img ok-xlayer-hardlink)" "$m"
        is "$(stat -c '%i %a %u:%g' "$m/usr/bin/a")" "$(stat -c '%i %a %u:%g' "$m/usr/bin/b")"
        is "$(stat -c '%a %u:%g %h' "$m/usr/bin/b" "$m/top/g")" $'4750 101000:100050 2\n600 100009:100009 2'
        is "$(caps "$m/usr/bin/b")" 0100000300200000000000000000000000000000a0860100
        run_tool berth-unpack umount "$m"
}

@test "unpack: a sparse file copied up for a hardlink keeps its holes" {
        local chains
        mapfile -t chains < <(chain_ids ok-xlayer-sparse)
        run_tool berth-unpack "$(img ok-xlayer-sparse)"
        local top=$BERTH_ROOT/layers/${chains[1]}/diff low=$BERTH_ROOT/layers/${chains[0]}/diff
        is "$(stat -c '%s %h %i' "$top/s")" "$(stat -c '%s %h %i' "$top/t")"
        is "$(stat -c '%s %h' "$top/s")" "67108864 2"
        # 4 KiB of data in 64 MiB: allocated, the copy takes what the lower file takes, not 64 MiB.
        is "$(stat -c %b "$top/s")" "$(stat -c %b "$low/s")" "blocks of the copy"
        (($(stat -c %b "$top/s") < 2048)) || die "the holes were filled"
        cmp "$top/s" "$low/s" || die "content differs"
}

@test "unpack: a layer that links to lower files and then deletes them shows the same as --to" {
        local m=$BATS_TEST_TMPDIR/m t=$BATS_TEST_TMPDIR/tree
        run_tool berth-unpack mount --read-only "$(img ok-xlayer-then-delete)" "$m"
        run_tool berth-unpack --to "$t" "$(img ok-xlayer-then-delete)"
        is "$(cd "$m" && find . | LC_ALL=C sort | paste -sd' ')" ". ./b ./c ./o ./o/new ./w"
        is "$(cat "$m/b" "$m/c")" $'a\nf'
        run_tool python3 "$BERTH_TESTS_DIR/unpack-compare.py" --no-mtime-dirs "$t" "$m"
        assert_contains "$output" " 0 differences"
        run_tool berth-unpack umount "$m"
}

# in_userns HOSTROOT PROGRAM ARGS...: run PROGRAM as uid/gid 1000 of a new user namespace whose ids 0-65535 are
# HOSTROOT and up (the maps written from outside, as a runtime does).
in_userns() {
        python3 -S -c 'import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r1, w1 = os.pipe()
r2, w2 = os.pipe()
pid = os.fork()
if pid == 0:
    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
        os._exit(99)
    os.write(w1, b"u")
    os.read(r2, 1)
    os.setgroups([])
    os.setresgid(1000, 1000, 1000)
    os.setresuid(1000, 1000, 1000)
    os.execv(sys.argv[2], sys.argv[2:])
os.read(r1, 1)
for m in ("uid_map", "gid_map"):
    with open("/proc/%d/%s" % (pid, m), "w") as f:
        f.write("0 %s 65536\n" % sys.argv[1])
os.write(w2, b"g")
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))' "$@"
}

@test "unpack --uidmap: security.capability becomes v3 with the host uid of the container's root; v2 without" {
        local t=$BATS_TEST_TMPDIR v2=0100000200200000000000000000000000000000
        local v3=0100000300200000000000000000000000000000a0860100 map=(--uidmap 0:100000:65536 --gidmap 0:100000:65536)
        # Without a map a v3 from the image (rootid 1234, the builder's namespace) becomes v2, as v2 stays.
        run_tool berth-unpack --to "$t/plain" "$(img ok-caps)"
        is "$(caps "$t/plain/bin/v2" "$t/plain/bin/v3")" "$v2"$'\n'"$v2"
        # With a map both become v3 naming host uid 100000, the container's root: the capabilities apply in
        # its user namespace, not on the host.
        run_tool berth-unpack "${map[@]}" --to "$t/mapped" "$(img ok-caps)"
        is "$(caps "$t/mapped/bin/v2" "$t/mapped/bin/v3")" "$v3"$'\n'"$v3"
        run_tool getcap -n "$t/mapped/bin/v2"
        is "$output" "$t/mapped/bin/v2 cap_net_raw=ep \[rootid=100000\]"
        # The same in the store: the plain layer v2, the shifted copy v3.
        run_tool berth-unpack "$(img ok-caps)"
        run_tool berth-unpack "${map[@]}" "$(img ok-caps)"
        local c
        c=$(chain_ids ok-caps)
        is "$(caps "$BERTH_ROOT/layers/$c/diff/bin/v3" "$BERTH_ROOT/layers/$c"-*/diff/bin/v3)" "$v2"$'\n'"$v3"
        # A map without the container's root: no namespace root to own them, the capabilities are dropped.
        run_tool --stderr berth-unpack --uidmap 1000:101000:1 --gidmap 1000:101000:1 --to "$t/noroot" "$(img ok-caps)"
        assert_contains "$stderr" "Dropping the file capabilities of 'bin/v2': --uidmap does not map container uid 0"
        is "$(caps "$t/noroot/bin/v2" "$t/noroot/bin/v3")" $'<none>\n<none>'
        is "$(stat -c %u:%g "$t/noroot/bin/v2")" 101000:101000
        # The kernel's view, with a copy of cat carrying cap_net_raw+ep (bit 13) reading its own status, run by
        # uid 1000 (users outside the container must reach the trees: not below the test's 0700 dirs).
        CAPDIR=$(mktemp -d /var/tmp/berth-caps.XXXXXX)
        chmod 755 "$CAPDIR"
        run_tool berth-unpack --to "$CAPDIR/plain" "$(img ok-caps)"
        run_tool berth-unpack "${map[@]}" --to "$CAPDIR/mapped" "$(img ok-caps)"
        local tree root granted=()
        for tree in plain mapped; do
                for root in 100000 200000; do
                        granted+=("$(in_userns "$root" "$CAPDIR/$tree/bin/capcat" /proc/self/status | awk '/^CapPrm/ {print $2}')")
                done
                granted+=("$(setpriv --reuid 1000 --regid 1000 --clear-groups "$CAPDIR/$tree/bin/capcat" /proc/self/status |
                        awk '/^CapPrm/ {print $2}')")
        done
        # v2 (no map) applies everywhere: in any user namespace and on the host. v3 with rootid 100000 applies
        # in the container's namespace only: not in another container's (root 200000), not on the host.
        is "${granted[*]}" "0000000000002000 0000000000002000 0000000000002000 0000000000002000 0000000000000000 0000000000000000"
}

@test "berth front: unpack, mount and umount reach berth-unpack" {
        run_tool berth unpack "$(img busybox)"
        run_tool berth mount "$(img busybox)" "$BATS_TEST_TMPDIR/r" --read-only
        is "$output" "$BATS_TEST_TMPDIR/r"
        run_tool berth umount "$BATS_TEST_TMPDIR/r"
}

@test "unpack --to: the tree runs under systemd-nspawn (berth images become machines)" {
        requires cmd:systemd-nspawn
        run_tool berth-unpack --to "$BATS_TEST_TMPDIR/machine" "$(img busybox)"
        run_tool systemd-nspawn -q -D "$BATS_TEST_TMPDIR/machine" --register=no --keep-unit --pipe \
                /bin/sh -c 'echo hello from $(id -u) in a machine'
        assert_contains "$output" "hello from 0 in a machine"
}
