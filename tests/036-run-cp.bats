#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-run cp: docker's path rules, running and stopped containers, owners, and a hostile container tree.

load helpers

setup() {
        berth_setup
        requires uid0 systemd registry cmd:runc
        IMG=$(fixture_ref busybox:latest)
        H=$BATS_TEST_TMPDIR/host
        mkdir -p "$H"
}
teardown() {
        local n
        for n in "$BERTH_ROOT"/names/*; do
                [[ -e $n || -L $n ]] && berth-run rm -f "$(basename "$n")" >/dev/null 2>&1
        done
        berth_teardown
}

# inside NAME CMD: a shell command in a running container, its output
inside() {
        local name=$1
        shift
        run_tool berth-run exec "$name" sh -c "$*"
}

# A tree in /d: a file with mode and mtime, a subdirectory, a relative symlink, a FIFO.
TREE='mkdir -p /d/sub && echo hello >/d/f && chmod 0751 /d/f && touch -d @1000000000 /d/f &&
      echo deep >/d/sub/g && ln -s f /d/link && mkfifo /d/fifo && chown 7:8 /d/sub/g'

@test "cp out of a running container: file to dir, to a new name, dir, dir/., modes, mtimes, symlinks, FIFOs" {
        run_tool berth-run run -d --name c1 "$IMG" sleep 1000
        inside c1 "$TREE"
        run_tool berth-run cp c1:/d/f "$H/"
        is "$(cat "$H/f")" "hello"
        is "$(stat -c '%a %Y %u:%g' "$H/f")" "751 1000000000 0:0" "mode and mtime kept, owner the invoking user"
        run_tool berth cp c1:d/f "$H/new"
        is "$(cat "$H/new")" "hello" "berth cp; a relative container path is relative to its /"
        # a directory to a new name, then into an existing directory, then its contents
        run_tool berth-run cp c1:/d "$H/out1"
        is "$(cat "$H/out1/sub/g")" "deep"
        is "$(readlink "$H/out1/link")" "f" "a symlink is copied as a symlink"
        [[ -p $H/out1/fifo ]] || die "the FIFO is copied as a FIFO (and was never opened)"
        mkdir "$H/ex" "$H/ex2"
        run_tool berth-run cp c1:/d "$H/ex"
        is "$(cat "$H/ex/d/f")" "hello" "SRC dir into an existing dir goes inside it"
        run_tool berth-run cp c1:/d/. "$H/ex2"
        is "$(cat "$H/ex2/f")" "hello" "SRC/. copies the contents"
        [[ ! -e $H/ex2/d ]] || die "SRC/. made a d/"
        # -L copies what SRC points to; symlinks below SRC stay symlinks
        run_tool berth-run cp -L c1:/d/link "$H/followed"
        [[ -f $H/followed && ! -L $H/followed ]] || die "-L did not follow SRC"
        run_tool berth-run cp c1:/d/link "$H/notfollowed"
        is "$(readlink "$H/notfollowed")" "f"
        # owners: the invoking user's without -a, the container's with it
        is "$(stat -c '%u:%g' "$H/out1/sub/g")" "0:0"
        run_tool berth-run cp -a c1:/d "$H/arch"
        is "$(stat -c '%u:%g' "$H/arch/sub/g")" "7:8" "-a keeps the owner"
        # setuid and setgid bits come out only with -a (else root would own a setuid program of the container's)
        inside c1 'cp /bin/busybox /d/suid && chmod 6755 /d/suid'
        run_tool berth-run cp c1:/d/suid "$H/suid"
        is "$(stat -c '%a' "$H/suid")" "755"
        run_tool berth-run cp -a c1:/d/suid "$H/suid-a"
        is "$(stat -c '%a' "$H/suid-a")" "6755"
        # the whole root: the kernel's file systems below it are left out, device nodes skipped
        run_tool berth-run cp c1:/ "$H/whole"
        assert_contains "$output" "Skipping 'proc': a /proc, /sys or cgroup file system"
        assert_contains "$output" "Skipping 'sys': a /proc, /sys or cgroup file system"
        [[ -x $H/whole/bin/busybox && -f $H/whole/d/f && ! -e $H/whole/proc/self ]] || die "the root was not copied as expected"
        # overwriting a file
        echo old >"$H/over"
        run_tool berth-run cp c1:/d/sub/g "$H/over"
        is "$(cat "$H/over")" "deep"
}

@test "cp into a running container: file, dir, dir/., owners without and with -a, a volume" {
        mkdir -p "$H/vol" "$H/src/sub"
        echo payload >"$H/src/p"
        echo inner >"$H/src/sub/q"
        chmod 0640 "$H/src/p"
        touch -d @1200000000 "$H/src/p"
        chown -R 1234:5678 "$H/src"
        run_tool berth-run run -d --name c2 -v "$H/vol:/vol" -v named-cp:/named "$IMG" sleep 1000
        run_tool berth-run cp "$H/src/p" c2:/tmp
        inside c2 'cat /tmp/p; stat -c "%a %Y %u:%g" /tmp/p'
        is "${lines[0]}" "payload"
        is "${lines[1]}" "640 1200000000 0:0" "mode and mtime kept, owner the container's root"
        run_tool berth-run cp -a "$H/src/p" c2:/tmp/pa
        inside c2 'stat -c "%u:%g" /tmp/pa'
        is "$output" "1234:5678" "-a keeps the owner"
        run_tool berth-run cp "$H/src" c2:/newdir
        inside c2 'cat /newdir/sub/q; stat -c "%u:%g" /newdir/sub/q /newdir'
        is "${lines[*]}" "inner 0:0 0:0"
        # special files: a FIFO and a device node are made (we may), a socket is skipped with a warning
        mkdir "$H/special"
        mkfifo "$H/special/fifo"
        mknod "$H/special/null" c 1 3
        python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('$H/special/sock')"
        run_tool timeout 60 berth-run cp "$H/special" c2:/
        is "$output" "berth-run: Skipping the socket 'sock'"
        inside c2 'stat -c "%F %t,%T" /special/fifo /special/null; test -e /special/sock || echo no-socket'
        is "${lines[*]}" "fifo 0,0 character special file 1,3 no-socket"
        run_tool berth-run cp "$H/src/." c2:/tmp
        inside c2 'cat /tmp/sub/q'
        is "$output" "inner"
        # a paused container too
        run_tool berth-run pause c2
        run_tool berth-run cp "$H/src/p" c2:/paused
        run_tool berth-run unpause c2
        inside c2 'cat /paused'
        is "$output" "payload"
        # a host symlink: as a symlink, or with -L what it points to
        ln -s p "$H/src/plink"
        run_tool berth-run cp "$H/src/plink" c2:/tmp/pl
        run_tool berth-run cp -L "$H/src/plink" c2:/tmp/plL
        inside c2 'readlink /tmp/pl; cat /tmp/plL; test -L /tmp/plL || echo regular'
        is "${lines[*]}" "p payload regular"
        # into volumes: the container and the host see it
        run_tool berth-run cp "$H/src/p" c2:/vol/
        is "$(cat "$H/vol/p")" "payload" "a bind-mounted volume is written, not the layer under it"
        inside c2 'cat /vol/p'
        is "$output" "payload"
        run_tool berth-run cp "$H/src/p" c2:/named/x
        inside c2 'cat /named/x'
        is "$output" "payload"
        run_tool berth-run volume inspect named-cp
        local data
        data=$(jq -r '.[0].Mountpoint' <<<"$output")
        is "$(cat "$data/x")" "payload" "the named volume holds it"
}

@test "cp with a stopped container: created and exited, in and out, its volumes" {
        mkdir -p "$H/vol"
        echo payload >"$H/p"
        mkdir -p "$H/ro"
        run_tool berth-run create --name s1 -v "$H/vol:/vol" -v "$H/ro:/ro:ro" "$IMG" sh -c 'cat /in && cat /vol/v'
        run_tool 125 berth-run cp "$H/p" s1:/ro/
        is "$output" "berth-run: Cannot create 'p': Read-only file system" "a :ro volume stays read-only"
        run_tool berth-run cp "$H/p" s1:/tmp/
        run_tool berth-run cp "$H/p" s1:/in
        run_tool berth-run cp "$H/p" s1:/vol/v
        is "$(cat "$H/vol/v")" "payload" "the volume of a stopped container is mounted for the copy"
        run_tool berth-run start s1
        run_tool berth-run wait s1
        is "$output" "0"
        run_tool berth-run logs s1
        is "$output" "payload
payload"
        is "$(jq -r .State.Status "$BERTH_ROOT/containers/$(readlink "$BERTH_ROOT/names/s1")/container.json")" "exited"
        # exited: its upper layer is read back, and written
        run_tool berth-run cp s1:/in "$H/back"
        is "$(cat "$H/back")" "payload"
        run_tool berth-run cp s1:/etc/passwd "$H/passwd"
        assert_contains "$(cat "$H/passwd")" "root:"
        run_tool berth-run cp "$H/p" s1:/exited-in
        run_tool berth-run cp s1:/exited-in "$H/back2"
        is "$(cat "$H/back2")" "payload"
        [[ -z $(_berth_mounts_under "$BERTH_ROOT") ]] || die "a mount of the copy is left on the host"
}

@test "cp: docker's rules for trailing slashes and types, and its errors (125, one line)" {
        run_tool berth-run run -d --name c3 "$IMG" sleep 1000
        inside c3 "$TREE"
        mkdir "$H/dir"
        echo x >"$H/file"
        run_tool 125 berth-run cp c3:/d/f "$H/nodir/"
        is "${#lines[@]}" "1"
        run_tool 125 berth-run cp c3:/d/f/ "$H/x"
        assert_contains "$output" "Not a directory"
        run_tool 125 berth-run cp c3:/d "$H/file"
        is "$output" "berth-run: Cannot copy a directory to a file: '$H/file'"
        run_tool 125 berth-run cp "$H/dir" c3:/d/f
        is "$output" "berth-run: Cannot copy a directory to a file: '/d/f'"
        run_tool 125 berth-run cp c3:/nope "$H/"
        is "$output" "berth-run: Could not find the file /nope in container c3"
        run_tool 125 berth-run cp "$H/file" c3:/nope/x
        is "$output" "berth-run: Could not find the file /nope/x in container c3"
        run_tool 125 berth-run cp "$H/file" c3:/tmp/nodir/
        is "${#lines[@]}" "1"
        # a file where DEST/ needs a directory, either way
        run_tool 125 berth-run cp "$H/file" c3:/d/f/
        is "$output" "berth-run: Invalid destination /d/f/ in container c3: Not a directory"
        run_tool 125 berth-run cp c3:/d/f "$H/file/"
        is "$output" "berth-run: Invalid destination '$H/file/': Not a directory"
        is "$(cat "$H/file")" "x" "the file was left alone"
        run_tool 125 berth-run cp "$H/nope" c3:/tmp
        is "${#lines[@]}" "1"
        assert_contains "$output" "$H/nope"
        run_tool 125 berth-run cp nosuch:/etc/passwd "$H/"
        is "$output" "berth-run: No such container 'nosuch'"
        run_tool 125 berth-run cp c3:/a c3:/b
        is "${#lines[@]}" "1"
        run_tool 125 berth-run cp "$H/a" "$H/b"
        is "${#lines[@]}" "1"
        run_tool 125 berth-run cp c3:/d/f -
        assert_contains "$output" "not supported"
        # a directory where a file is, and the reverse, inside a tree
        mkdir -p "$H/t/d/f" "$H/t2/d"
        run_tool 125 berth-run cp c3:/d "$H/t"
        is "$output" "berth-run: Cannot overwrite directory 'f' with a non-directory"
        touch "$H/t2/d/sub"
        run_tool 125 berth-run cp c3:/d "$H/t2"
        is "$output" "berth-run: Cannot overwrite non-directory 'sub' with a directory"
        # a device node is skipped (with a warning) on the way out; FIFOs and files are copied
        inside c3 'mknod /d/null c 1 3'
        run_tool berth-run cp c3:/d "$H/withdev"
        assert_contains "$output" "Skipping the device node 'null'"
        [[ ! -e $H/withdev/null && -f $H/withdev/f ]] || die "the device node was made on the host"
}

# The container plants symlinks that lead out of its root when resolved on the host: absolute to a host
# canary, relative with enough ../ to climb from the rootfs to the canary, a parent directory that is such a
# symlink, and /evil -> /. berth must only ever see the container's own files.
# The rootfs is $BERTH_ROOT/containers/ID/rootfs, so from / four ../ reach $BATS_TEST_TMPDIR on the host.
PLANT='ln -s / /evil && ln -s "$CANARY" /abs && ln -s ../../../../canary /rel &&
       ln -s /../../../../.. /data && mkdir /h && ln -s "$CANARY" /h/abs && ln -s ../../../../../canary /h/rel &&
       rm /etc/passwd && ln -s ../../../../../canary /etc/passwd'

hostile_checks() { # hostile_checks NAME
        local c=$1
        # out: the symlinks come out as symlinks; followed, they are resolved in the container's root
        run_tool berth-run cp "$c:/abs" "$H/o-abs"
        is "$(readlink "$H/o-abs")" "$CANARY"
        run_tool 125 berth-run cp -L "$c:/abs" "$H/o-abs-L"
        is "$output" "berth-run: Could not find the file /abs in container $c"
        run_tool 125 berth-run cp -L "$c:/rel" "$H/o-rel-L"
        run_tool 125 berth-run cp "$c:/evil$CANARY" "$H/o-evil"
        run_tool 125 berth-run cp "$c:/data/canary" "$H/o-data"
        run_tool 125 berth-run cp "$c:/data$CANARY" "$H/o-data2"
        run_tool berth-run cp "$c:/h" "$H/o-h"
        run_tool berth-run cp -L "$c:/etc/passwd" "$H/o-passwd" || true
        run_tool bash -c "grep -rl HOST-SECRET '$H' || true"
        is "$output" "" "no copied file holds the canary's contents"
        # in: through /evil the file lands in the container's /, never on the host's
        echo payload >"$H/p"
        run_tool berth-run cp "$H/p" "$c:/evil/$ESCAPE"
        [[ ! -e /$ESCAPE ]] || die "cp wrote /$ESCAPE on the host"
        run_tool berth-run cp "$H/p" "$c:/etc/passwd"
        run_tool berth-run cp "$H/p" "$c:/rel"
        run_tool berth-run cp "$H/p" "$c:/abs"
        run_tool berth-run cp "$H/p" "$c:/data/canary"
        run_tool ? berth-run cp "$H/p" "$c:/evil$CANARY"
        is "$(cat "$CANARY")" "HOST-SECRET" "the canary was never written"
        run_tool berth-run cp "$c:/$ESCAPE" "$H/escape-back"
        is "$(cat "$H/escape-back")" "payload" "what went to /evil/NAME is the container's /NAME"
        run_tool berth-run cp "$c:/canary" "$H/canary-back"
        is "$(cat "$H/canary-back")" "payload" "/data/canary is the container's /canary"
}

@test "cp with a hostile running container: symlinks never lead to host files, either way" {
        CANARY=$BATS_TEST_TMPDIR/canary
        ESCAPE=berth-cp-escape-$$
        echo HOST-SECRET >"$CANARY"
        run_tool berth-run run -d --name evil "$IMG" sleep 1000
        inside evil "CANARY='$CANARY'; $PLANT"
        hostile_checks evil
}

@test "cp with a hostile stopped container: symlinks never lead to host files, either way" {
        CANARY=$BATS_TEST_TMPDIR/canary
        ESCAPE=berth-cp-escape-s-$$
        echo HOST-SECRET >"$CANARY"
        run_tool berth-run run -d --name evils "$IMG" sleep 1000
        inside evils "CANARY='$CANARY'; $PLANT"
        run_tool berth-run kill evils
        run_tool berth-run wait evils
        hostile_checks evils
}

@test "cp against a container swapping a directory for a symlink to / while it is copied" {
        CANARY=$BATS_TEST_TMPDIR/canary
        echo HOST-SECRET >"$CANARY"
        echo payload >"$H/p"
        run_tool berth-run run -d --name race "$IMG" sh -c \
                "mkdir -p /r; while :; do rm -rf /r/d; mkdir /r/d; echo ok >/r/d/f; rm -rf /r/d; ln -s / /r/d;
                 rm -f /r/d; ln -s ../../../../../canary /r/d; done"
        local i
        for i in $(seq 1 15); do
                run_tool ? berth-run cp race:/r "$H/out$i"
                run_tool ? berth-run cp "$H/p" race:/r/d/p
                run_tool ? berth-run cp "$H/p" race:/r/d/
        done
        run_tool bash -c "grep -rl HOST-SECRET '$H' || true"
        is "$output" "" "no copied file holds the canary's contents"
        is "$(cat "$CANARY")" "HOST-SECRET" "the canary was never written"
        run_tool bash -c "find '$H' -type d -name bin | head -1"
        is "$output" "" "the container's / was never copied through the symlink"
}
