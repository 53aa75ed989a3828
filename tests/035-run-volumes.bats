#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-run and the image's Volumes: anonymous volumes filled from the image (docker's and podman's default),
# --image-volume tmpfs|ignore, rm -v and run --rm removing them, the volume verbs seeing them.

load helpers

# An image with VOLUME /data (content owned by 1234:2345, a symlink, a subdirectory) and VOLUME /empty.
setup_file() {
        [[ -n ${BERTH_FIXTURES:-} ]] || return 0
        local t=$BATS_FILE_TMPDIR
        cp -a "$BERTH_FIXTURES" "$t/layout"
        chmod -R u+w "$t/layout"
        umoci unpack --image "$t/layout:busybox" "$t/b" >/dev/null
        (cd "$t/b/rootfs" && mkdir -p data/sub && echo from-image >data/f && echo deep >data/sub/g &&
                ln -s /etc/passwd data/link && chown -R 1234:2345 data && chmod 0750 data)
        umoci repack --image "$t/layout:vol" "$t/b" >/dev/null
        umoci config --image "$t/layout:vol" --config.volume=/data --config.volume=/empty/ >/dev/null
        skopeo copy --quiet --dest-tls-verify=false "oci:$t/layout:vol" \
                "docker://$BERTH_TEST_REGISTRY/volimage:latest"
}

setup() {
        berth_setup
        requires uid0 systemd registry cmd:runc cmd:umoci cmd:skopeo
        VIMG=$BERTH_TEST_REGISTRY/volimage:latest
}
teardown() { berth_teardown; }

# The anonymous volume mounted on $2 in container $1.
anon_of() {
        record "$1" ".Mounts[] | select(.Destination == \"$2\" and .Anonymous) | .Name"
}

@test "image volumes: an anonymous volume per path, filled from the image, owner and mode kept" {
        run_tool berth-run run -d --name v1 "$VIMG" sleep 1000
        local data empty
        data=$(anon_of v1 /data)
        empty=$(anon_of v1 /empty)
        [[ $data =~ ^[0-9a-f]{64}$ ]] || die "no anonymous volume on /data: '$data'"
        [[ $empty =~ ^[0-9a-f]{64}$ ]] || die "no anonymous volume on /empty: '$empty'"
        run_tool berth-run exec v1 sh -c 'grep -c -E " /(data|empty) " /proc/mounts; cat /data/f /data/sub/g; readlink /data/link; stat -c "%u:%g %a" /data'
        is "$output" "2
from-image
deep
/etc/passwd
1234:2345 750"
        is "$(stat -c '%u:%g %a' "$BERTH_ROOT/volumes/$data/_data")" "1234:2345 750" "the volume's root on the host"
        run_tool berth-run exec v1 sh -c 'echo written >/data/new'
        run_tool berth-run volume ls -q
        assert_contains "$output" "$data"
        run_tool berth-run volume inspect "$data"
        is "$(jq -r '.[0].Anonymous' <<<"$output")" "true"
        run_tool berth-run --format '{{.Name}} {{.Anonymous}}' volume ls
        assert_contains "$output" "$empty true"
        run_tool 1 berth-run volume rm "$data"
        is "$output" "berth-run: Volume '$data' is used by a container"
        # the volume keeps what was written across a restart, and is not filled again
        run_tool berth-run restart --time 0 v1
        run_tool berth-run exec v1 cat /data/new
        is "$output" "written"
        is "$(anon_of v1 /data)" "$data" "the same volume after the restart"
        # rm without -v keeps the volumes (docker); volume rm then works
        run_tool berth-run rm -f v1
        run_tool berth-run volume ls -q
        assert_contains "$output" "$data"
        run_tool berth-run volume rm "$data" "$empty"
        [[ ! -e $BERTH_ROOT/volumes/$data ]] || die "volume rm left $data"
}

@test "image volumes: rm -v and run --rm remove the anonymous volumes, named volumes stay" {
        run_tool berth-run create --name v2 -v named1:/other "$VIMG" true
        local data
        data=$(anon_of v2 /data)
        [[ -d $BERTH_ROOT/volumes/$data/_data ]] || die "no volume $data"
        run_tool berth-run rm -v v2
        [[ ! -e $BERTH_ROOT/volumes/$data ]] || die "rm -v left the anonymous volume"
        [[ -d $BERTH_ROOT/volumes/named1 ]] || die "rm -v removed a named volume"
        run_tool berth-run run --rm "$VIMG" cat /data/f
        is "$output" "from-image"
        run_tool berth-run run --rm -d --name v3 "$VIMG" sleep 1000
        run_tool berth-run stop --time 0 v3
        run_tool berth-run volume ls -q
        is "$output" "named1" "run --rm (foreground and detached) removed its anonymous volumes"
        # an anonymous volume another container also uses (by name) stays
        run_tool berth-run create --name v4 "$VIMG" true
        data=$(anon_of v4 /data)
        run_tool berth-run create --name v5 -v "$data:/x" "$VIMG" true
        run_tool berth-run rm -v v4
        assert_contains "$output" "is used by another container"
        [[ -d $BERTH_ROOT/volumes/$data ]] || die "rm -v removed a volume in use"
        run_tool berth-run rm -v v5
}

@test "image volumes: -v and --tmpfs on the same path win; --image-volume tmpfs|ignore" {
        echo mine >"$BATS_TEST_TMPDIR/f"
        run_tool berth-run run --rm -v "$BATS_TEST_TMPDIR:/data" --tmpfs /empty "$VIMG" sh -c 'cat /data/f; grep " /empty " /proc/mounts | cut -d" " -f3'
        is "$output" "mine
tmpfs"
        run_tool berth-run run --rm -v named2:/data/ "$VIMG" true
        run_tool berth-run volume ls -q
        is "$output" "named2" "no anonymous volume for covered paths"
        run_tool berth-run run --rm --image-volume tmpfs "$VIMG" sh -c 'grep -E " /(data|empty) " /proc/mounts | cut -d" " -f3; ls -A /data | wc -l'
        is "$output" "tmpfs
tmpfs
0"
        run_tool berth-run run --rm --image-volume ignore "$VIMG" sh -c 'grep -c " /data " /proc/mounts; cat /data/f'
        is "$output" "0
from-image"
        run_tool berth-run volume ls -q
        is "$output" "named2"
        run_tool 125 berth-run run --rm --image-volume bogus "$VIMG" true
        assert_contains "$output" "Invalid --image-volume 'bogus'"
}

@test "named volumes: filled from the image on first use only (copy-up), not with nocopy, nor over a path the image lacks" {
        run_tool berth-run run --rm --image-volume ignore -v nv:/data "$VIMG" sh -c 'cat /data/f; stat -c "%u:%g" /data/sub/g'
        is "$output" "from-image
1234:2345"
        is "$(jq -r .NeedsCopyUp "$BERTH_ROOT/volumes/nv/volume.json")" "false"
        # the volume's own content from now on: emptied, it stays empty
        run_tool berth-run run --rm --image-volume ignore -v nv:/data "$VIMG" sh -c 'rm -rf /data/* && echo mine >/data/own'
        run_tool berth-run run --rm --image-volume ignore -v nv:/data "$VIMG" ls /data
        is "$output" "own"
        # nocopy: the new volume stays empty
        run_tool berth-run run --rm --image-volume ignore -v nc:/data:nocopy "$VIMG" ls -A /data
        is "$output" ""
        # the image has nothing there: an empty volume, and no copy later either
        run_tool berth-run volume create later
        run_tool berth-run run --rm -v later:/nowhere "$VIMG" ls -A /nowhere
        is "$output" ""
        is "$(jq -r .NeedsCopyUp "$BERTH_ROOT/volumes/later/volume.json")" "false"
        run_tool 125 berth-run run --rm -v bad:/data:frob "$VIMG" true
        assert_contains "$output" "unknown option 'frob'"
        run_tool berth-run volume rm nv nc later
}
