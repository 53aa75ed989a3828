#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-run against hostile images and arguments: THREATS.md run cases R1-R9.

load helpers

# Hostile images, built once with umoci from the busybox fixture and pushed to the world's registry.
setup_file() {
        [[ -n ${BERTH_FIXTURES:-} ]] || return 0
        local t=$BATS_FILE_TMPDIR
        export VICTIM=$t/victim
        mkdir -p "$VICTIM"
        cp -a "$BERTH_FIXTURES" "$t/layout"
        chmod -R u+w "$t/layout"
        # build NAME SETUP [umoci config args...]: SETUP runs in the unpacked rootfs
        build() {
                local name=$1 setup=$2
                shift 2
                rm -rf "$t/b"
                umoci unpack --image "$t/layout:busybox" "$t/b" >/dev/null
                (cd "$t/b/rootfs" && eval "$setup")
                umoci repack --image "$t/layout:$name" "$t/b" >/dev/null
                if (($# > 0)); then
                        umoci config --image "$t/layout:$name" "$@" >/dev/null
                fi
                skopeo copy --quiet --dest-tls-verify=false "oci:$t/layout:$name" \
                        "docker://$BERTH_TEST_REGISTRY/hostile-$name:latest"
        }
        build devlink "rm -rf dev; ln -s $VICTIM/dev dev"
        build apilinks "rm -rf dev proc sys; ln -s $VICTIM/dev dev; ln -s $VICTIM/proc proc; ln -s ../../../..$VICTIM/sys sys"
        build etclinks "echo SECRET >etc/shadow; rm -f etc/resolv.conf etc/hosts; ln -s /etc/shadow etc/resolv.conf; ln -s ../../..$VICTIM/hosts etc/hosts"
        build passwdfifo "rm -f etc/passwd; mkfifo etc/passwd"
        build passwdhost "rm -f etc/passwd; ln -s $VICTIM/passwd etc/passwd"
        build passwdhuge "head -c 2200000 /dev/zero | tr '\\0' 'x' >etc/passwd"
        build users "printf 'root:x:0:0:root:/root:/bin/sh\\nweb:x:1234:2345:web:/home/web:/bin/sh\\n' >etc/passwd; printf 'root:x:0:\\nwebgrp:x:2345:\\nextra:x:3456:web,other\\n' >etc/group"
        build bigid ":" --config.user=4294967296
        build wdproc ":" --config.workingdir=/proc/self/fd/7
        build wdlink "ln -s $VICTIM/wd data" --config.workingdir=/data/sub/dir
        build volumes ":" --config.volume=/../../../etc --config.volume=/proc --config.volume=/dev/..
        build volup ":" --config.volume=/../../..$VICTIM/up --config.volume=/a/../../../..$VICTIM/up2
        build vollink "ln -s $VICTIM/vl data; ln -s ../../../../..$VICTIM/vr rel" --config.volume=/data/sub --config.volume=/rel
        build volproc "ln -s /proc/self pl; ln -s ../sys/kernel sk" --config.volume=/pl/x
        build volsys "ln -s ../sys/kernel sk" --config.volume=/sk
        build voletc "echo SECRET >etc/shadow" --config.volume=/../../../etc
}

setup() {
        berth_setup
        requires uid0 systemd registry cmd:runc cmd:umoci cmd:skopeo
        IMG=$(fixture_ref busybox:latest)
}
teardown() { berth_teardown; }

hostile() { echo "$BERTH_TEST_REGISTRY/hostile-$1:latest"; }

victim_is_empty() {
        local left
        left=$(find "$VICTIM" -mindepth 1 2>/dev/null | head -5)
        [[ -z $left ]] || die "created on the host through the image: $left"
}

@test "R3: a /dev symlink in the image never leads the runtime onto the host (CVE-2026-41579)" {
        run_tool berth-run run --rm "$(hostile devlink)" sh -c 'test -c /dev/null && test -c /dev/zero && echo inside'
        is "$output" "inside"
        victim_is_empty
}

@test "R3: /dev, /proc, /sys symlinks in the image never lead the runtime onto the host" {
        run_tool berth-run run --rm "$(hostile apilinks)" sh -c 'test -c /dev/null && test -d /proc/self && test -d /sys/kernel && echo inside'
        is "$output" "inside"
        victim_is_empty
}

@test "R3: /etc/resolv.conf -> /etc/shadow and /etc/hosts -> host path are replaced, not followed" {
        run_tool berth-run run --rm "$(hostile etclinks)" sh -c 'cat /etc/shadow; grep -c localhost /etc/hosts'
        is "$output" "SECRET
2"
        victim_is_empty
}

@test "R5: a FIFO, a symlink to the host, or a 2 MiB file as /etc/passwd: no hang, no host data, clear errors" {
        run_tool 125 berth-run run --rm -u web "$(hostile passwdfifo)" true
        assert_contains "$output" "cannot read the image's /etc/passwd: not a regular file"
        echo 'evil:x:0:0::/:/bin/sh' >"$VICTIM/passwd"
        run_tool 125 berth-run run --rm -u evil "$(hostile passwdhost)" true
        assert_contains "$output" "no such user or group in the image"
        rm -f "$VICTIM/passwd"
        run_tool 125 berth-run run --rm -u web "$(hostile passwdhuge)" true
        assert_contains "$output" "larger than 1 MiB"
        # a FIFO is refused even for a numeric user: runc would read it and hang
        run_tool 125 berth-run run --rm -u 1000 "$(hostile passwdfifo)" true
        assert_contains "$output" "not a regular file"
        run_tool 125 berth-run run --rm -u 1000 "$(hostile passwdhuge)" true
        assert_contains "$output" "larger than 1 MiB"
}

@test "R4: USER is parsed strictly and never becomes uid 0" {
        local u
        for u in 4294967296 2147483648 99999999999:0 -1 0x0 1:-1 ' 1' '1 ' 1:2:3 :5; do
                run_tool 125 berth-run run --rm -u "$u" "$IMG" id -u
                assert_contains "$output" "Invalid user"
        done
        run_tool 125 berth-run run --rm "$(hostile bigid)" id -u
        assert_contains "$output" "uid or gid out of range"
        run_tool berth-run run --rm -u 2147483647 "$IMG" id -u
        is "$output" "2147483647"
}

@test "R7: names from the image's passwd and group, with supplementary groups; caps stay empty for non-root" {
        run_tool berth-run run --rm -u web "$(hostile users)" sh -c 'id -u; id -g; id -G; echo $HOME; grep -E "^Cap(Inh|Amb|Eff)" /proc/self/status'
        is "${lines[0]}" "1234"
        is "${lines[1]}" "2345"
        is "${lines[2]}" "2345 3456"
        is "${lines[3]}" "/home/web"
        is "${lines[4]}" "CapInh:	0000000000000000"
        is "${lines[5]}" "CapEff:	0000000000000000"
        is "${lines[6]}" "CapAmb:	0000000000000000"
        run_tool berth-run run --rm -u web:extra "$(hostile users)" id -g
        is "$output" "3456"
        run_tool 125 berth-run run --rm -u web:nogroup "$(hostile users)" true
        assert_contains "$output" "no such user or group in the image"
}

@test "R2: WORKDIR in /proc is refused; WORKDIR through a symlink is created inside the root" {
        run_tool 125 berth-run run --rm "$(hostile wdproc)" true
        assert_contains "$output" "Invalid working directory"
        run_tool 125 berth-run run --rm -w /a/../../etc "$IMG" true
        assert_contains "$output" "Invalid working directory"
        run_tool berth-run run --rm "$(hostile wdlink)" sh -c 'echo $PWD'
        is "$output" "$VICTIM/wd/sub/dir" "created in the root, at the symlink's target"
        victim_is_empty
}

# The host's volume store holds only volumes: directories named by 64 hex digits with _data and volume.json.
volumes_are_clean() {
        local v
        for v in "$BERTH_ROOT"/volumes/*; do
                [[ -e $v ]] || continue
                [[ ${v##*/} =~ ^[0-9a-f]{64}$ && -d $v/_data && -f $v/volume.json ]] || die "stray $v"
        done
}

@test "R6: image Volumes that are or resolve to /, /proc, /sys or /dev are refused in one line" {
        run_tool 125 berth-run run --rm "$(hostile volumes)" true
        assert_contains "$output" "of the image is '/', which is / or in /proc, /sys or /dev (use --image-volume ignore)"
        is "$(grep -c . <<<"$output")" "1" "one line"
        run_tool 125 berth-run run --rm "$(hostile volproc)" true
        assert_contains "$output" "volume '/pl/x' of the image resolves to '/proc/self/x'"
        run_tool 125 berth-run run --rm "$(hostile volsys)" true
        assert_contains "$output" "volume '/sk' of the image resolves to '/sys/kernel'"
        is "$(find "$BERTH_ROOT/volumes" -mindepth 1 | wc -l)" "0" "no volume is left behind"
        is "$(find "$BERTH_ROOT/containers" -mindepth 1 | wc -l)" "0" "no container is left behind"
        run_tool berth-run run --rm --image-volume ignore "$(hostile volumes)" sh -c 'ls /etc/passwd >/dev/null && echo ok'
        is "$output" "ok"
        victim_is_empty
}

@test "R6: '..'-laden and symlinked image Volumes are confined to the rootfs and the volume store" {
        run_tool berth-run run -d --name vu "$(hostile volup)" sleep 1000
        run_tool berth-run exec vu sh -c "grep -E ' $VICTIM/up2? ' /proc/mounts | wc -l"
        is "$output" "2" "both mounted at the cleaned path inside the container"
        run_tool berth-run rm -f -v vu
        run_tool berth-run run -d --name vl "$(hostile vollink)" sleep 1000
        run_tool berth-run exec vl sh -c "echo x >/data/sub/f && echo y >/rel/f && grep -E ' $VICTIM/v[lr](/sub)? ' /proc/mounts | cut -d' ' -f2"
        is "$output" "$VICTIM/vl/sub
$VICTIM/vr" "the symlinks were followed inside the root only"
        is "$(record vl '.Mounts[].Destination' | sort | tr '\n' ' ')" "$VICTIM/vl/sub $VICTIM/vr " "the record has the resolved paths"
        volumes_are_clean
        victim_is_empty
        run_tool berth-run rm -f -v vl
        # /../../../etc is the image's /etc: its content is copied into the volume, nothing of the host's
        run_tool berth-run run --rm "$(hostile voletc)" sh -c 'cat /etc/shadow; grep -c " /etc " /proc/mounts; grep -c 127.0.1.1 /etc/hosts'
        is "$output" "SECRET
1
1" "the image's /etc in a volume, berth's /etc/hosts on top of it"
        volumes_are_clean
        is "$(find "$BERTH_ROOT/volumes" -mindepth 1 -maxdepth 1 | wc -l)" "0" "run --rm removed the volumes"
        victim_is_empty
}

@test "R6: hostile -v destinations are refused" {
        run_tool 125 berth-run run --rm -v "$BATS_TEST_TMPDIR:/proc/x" "$IMG" true
        assert_contains "$output" "bad destination '/proc/x'"
        run_tool 125 berth-run run --rm -v "$BATS_TEST_TMPDIR:/../../x" "$IMG" true
        assert_contains "$output" "bad destination"
}

@test "R1: no berth fd reaches the container, foreground or detached" {
        run_tool berth-run run --rm "$IMG" ls /proc/self/fd
        is "$output" "0
1
2
3" "foreground: stdio and ls's own directory fd only"
        run_tool berth-run run -d --name fds "$IMG" sh -c 'ls /proc/1/fd; sleep 1000'
        local pid
        pid=$(jq -r .State.Pid "$BERTH_ROOT/containers/$(readlink "$BERTH_ROOT/names/fds")/container.json")
        run_tool ls "/proc/$pid/fd"
        is "$output" "0
1
2" "detached: stdio only"
        run_tool berth-run rm -f fds
}

@test "the container inherits no blocked or ignored signals from berth-run, foreground or detached" {
        run_tool berth-run run --rm "$IMG" grep -E "^Sig(Blk|Ign)" /proc/self/status
        is "$output" "SigBlk:	0000000000000000
SigIgn:	0000000000000000"
        run_tool berth-run run -d --name sigs "$IMG" sleep 1000
        run_tool berth-run exec sigs grep -E "^Sig(Blk|Ign)" /proc/1/status
        is "$output" "SigBlk:	0000000000000000
SigIgn:	0000000000000000"
        run_tool berth-run rm -f sigs
        # berth-run itself started with signals ignored and blocked (nohup, a background job, a parent's mask)
        run_tool /usr/bin/python3 -c '
import os, signal, sys
for s in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGQUIT, signal.SIGPIPE):
    signal.signal(s, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGWINCH})
# and signal 32, which libc reserves: Go (runc) leaves it alone, so only berth can reset it (seen under CI)
import ctypes, struct
act = ctypes.create_string_buffer(struct.pack("QQQQ", 1, 0, 0, 0))
assert ctypes.CDLL(None, use_errno=True).syscall(13, 32, act, None, 8) == 0
os.execvp(sys.argv[1], sys.argv[1:])' berth-run run --rm "$IMG" grep -E "^Sig(Blk|Ign)" /proc/self/status
        is "$output" "SigBlk:	0000000000000000
SigIgn:	0000000000000000"
}

@test "R9: SIGKILL of the monitor leaves the container running; stop and rm still work" {
        run_tool berth-run run -d --name orphan "$IMG" sleep 1000
        local rec=$BERTH_ROOT/containers/$(readlink "$BERTH_ROOT/names/orphan")/container.json
        local mon pid
        mon=$(jq -r .State.MonitorPid "$rec")
        pid=$(jq -r .State.Pid "$rec")
        kill -KILL "$mon"
        for _ in $(seq 50); do kill -0 "$mon" 2>/dev/null || break; sleep 0.02; done
        kill -0 "$pid" || die "the container died with its monitor"
        run_tool berth-run stop --time 1 orphan
        if [[ -e /proc/$pid ]] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
                die "still running after stop"
        fi
        is "$(jq -r .State.Status "$rec")" "exited"
        run_tool berth-run rm orphan
}

@test "limits: a 2 MiB environment is refused with one line" {
        head -c 2200000 /dev/zero | tr '\0' 'x' | sed 's/^/BIG=/' >"$BATS_TEST_TMPDIR/env"
        echo >>"$BATS_TEST_TMPDIR/env"
        run_tool 125 berth-run run --rm --env-file "$BATS_TEST_TMPDIR/env" "$IMG" true
        assert_contains "$output" "larger than 1 MiB"
}
