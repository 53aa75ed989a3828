#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The test world itself (tests/world.sh, tests/fixtures.sh, tests/helpers.bash): if these fail, nothing
# else in the suite means anything.

load helpers

setup() {
        berth_setup
}

teardown() {
        berth_teardown
}

@test "world: private namespaces, private state directories, own cgroup" {
        [[ ${BERTH_WORLD:-} == 1 ]] || die "not inside tests/world.sh"

        # Own mount and network namespaces.
        [[ $(readlink /proc/self/ns/mnt) != "$(readlink /proc/1/ns/mnt)" ]] || die "mount namespace is the host's"
        [[ $(readlink /proc/self/ns/net) != "$(readlink /proc/1/ns/net)" ]] || die "network namespace is the host's"
        run_tool ip -o link show
        is "${#lines[@]}" 1 "only one network interface"
        is "$output" "1: lo: <LOOPBACK,UP,LOWER_UP>*" "lo is up"

        local d
        for d in /run /tmp /dev/shm /var/lib/berth /var/log/journal; do
                run_tool findmnt -n -o FSTYPE --mountpoint "$d"
                is "${lines[-1]}" tmpfs "$d is a private tmpfs (the topmost mount there)"
        done
        [[ -d /run/systemd/system ]] || die "/run/systemd/system is missing"
        for d in /etc /var/lib; do
                run_tool findmnt -n -o FSTYPE --mountpoint "$d"
                is "${lines[-1]}" overlay "$d is a private overlay"
        done
        local f=world-probe-$$-$BATS_TEST_NUMBER
        touch "/etc/$f" "/var/lib/$f"
        [[ -e $BERTH_WORLD_DIR/overlay-etc/upper/$f ]] || die "a write to /etc did not go to the private layer"
        [[ -e $BERTH_WORLD_DIR/overlay-var-lib/upper/$f ]] || die "a write to /var/lib did not go to the private layer"
        rm "/etc/$f" "/var/lib/$f"

        # Own cgroup namespace, rooted at the world's cgroups, which are mounted in place of the hierarchies.
        [[ $(readlink /proc/self/ns/cgroup) != "$(readlink /proc/1/ns/cgroup)" ]] || die "cgroup namespace is the host's"
        run_tool findmnt -rn -o TARGET,FSROOT -t cgroup,cgroup2
        is "$(awk '{ top[$1] = $2 } END { for (t in top) print top[t] }' <<<"$output" | sort -u)" / \
                "the topmost mount of every hierarchy is rooted at the world's cgroup"
        if [[ $BERTH_WORLD_USERNS == "$(readlink /proc/1/ns/user)" ]]; then
                # (Under `unshare -r tests/world.sh` the host's mounts are locked in place, covered.)
                is "${#lines[@]}" "$(grep -c . /proc/self/cgroup)" "one mount per hierarchy (the host's are gone)"
        fi
}

@test "world: exported environment" {
        is "$BERTH_TESTS_DIR" "$(cd "$BATS_TEST_DIRNAME" && pwd -P)" "BERTH_TESTS_DIR"
        is "$BERTH_TEST_REGISTRY" "127\.0\.0\.1:[0-9]+" "BERTH_TEST_REGISTRY"
        local path=${PATH#/usr/libexec/bats-core:} # bats puts its own directory first
        is "${path%%:*}" "$BERTH_BUILD" "BERTH_BUILD is first on PATH"
        is "$HOME" "/tmp/*" "HOME is private"
        is "$XDG_RUNTIME_DIR" "/tmp/*" "XDG_RUNTIME_DIR is private"
        is "$(stat -c %a "$XDG_RUNTIME_DIR")" 700 "XDG_RUNTIME_DIR mode"
        is "$BERTH_ROOT" "$BATS_TEST_TMPDIR/root" "BERTH_ROOT"
        is "$BERTH_RUNROOT" "$BATS_TEST_TMPDIR/runroot" "BERTH_RUNROOT"
        [[ -d $BERTH_ROOT && -d $BERTH_RUNROOT ]] || die "BERTH_ROOT/BERTH_RUNROOT not created"
        [[ -f $BERTH_FIXTURES/index.json ]] || die "no OCI layout at BERTH_FIXTURES=$BERTH_FIXTURES"
        run_tool 1 touch "$BERTH_FIXTURES/x"
        assert_contains "$output" "Read-only file system"
}

@test "journald: a line sent with systemd-cat can be read back with journalctl" {
        requires systemd cmd:systemd-cat cmd:journalctl
        local tag=berth-world-$BATS_TEST_NUMBER msg="probe $RANDOM$RANDOM $$"
        run_tool systemd-cat -t "$tag" echo "$msg"

        local i
        for ((i = 0; i < 50; i++)); do
                run_tool journalctl --no-pager -q -o cat -t "$tag"
                [[ $output == *"$msg"* ]] && break
                sleep 0.1
        done
        is "$output" "$msg" "journalctl -t $tag"
}

@test "systemd --user: transient scopes work" {
        requires systemd cmd:systemd-run
        run_tool systemctl --user is-system-running
        is "$output" "running|degraded"

        run_tool systemd-run --user --scope -q true
        run_tool 3 systemd-run --user --scope -q sh -c 'exit 3'

        local unit=world-probe-$$-$BATS_TEST_NUMBER
        run_tool systemd-run --user --scope -q --unit="$unit" cat /proc/self/cgroup
        assert_contains "$output" "/$unit.scope" "the scope's process runs in $unit.scope"
        assert_contains "$output" ":/app.slice/$unit.scope" "the scope is in the user manager's app.slice"
}

@test "registry: the catalog lists every fixture" {
        requires registry
        run_tool curl -fsS "http://$BERTH_TEST_REGISTRY/v2/_catalog"
        is "$(jq -c '.repositories | sort' <<<"$output")" '["busybox","layered","multi"]' "catalog"

        run_tool curl -fsS "http://$BERTH_TEST_REGISTRY/v2/busybox/tags/list"
        is "$(jq -c '.tags | sort' <<<"$output")" '["latest","v2s2"]' "busybox tags"
        run_tool curl -fsS "http://$BERTH_TEST_REGISTRY/v2/layered/tags/list"
        is "$(jq -c '.tags' <<<"$output")" '["latest"]' "layered tags"
        run_tool curl -fsS "http://$BERTH_TEST_REGISTRY/v2/multi/tags/list"
        is "$(jq -c '.tags' <<<"$output")" '["latest"]' "multi tags"
}

@test "registry: start_registry gives a test its own registry, with basic auth if asked" {
        requires cmd:docker-registry cmd:htpasswd
        start_registry --htpasswd 'alice:s3cr:t'
        run_tool curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/"
        is "$output" 401 "no credentials"
        run_tool curl -s -o /dev/null -w '%{http_code}' -u 'alice:wrong' "http://$REGISTRY/v2/"
        is "$output" 401 "wrong password"
        run_tool curl -fsS -u 'alice:s3cr:t' "http://$REGISTRY/v2/_catalog"
        is "$output" '{"repositories":[]}' "empty, with credentials"

        local first=$REGISTRY
        start_registry
        [[ $REGISTRY != "$first" ]] || die "two registries on one port"
        run_tool curl -fsS "http://$REGISTRY/v2/_catalog"
        is "$output" '{"repositories":[]}' "no auth"
}

@test "fixtures: busybox (OCI manifest)" {
        requires registry cmd:skopeo
        # umoci writes OCI manifests without the (optional) mediaType field: the registry's Content-Type
        # (from the push) is what says what they are.
        run_tool curl -fsS -o /dev/null -w '%{content_type}' \
                -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
                "http://$BERTH_TEST_REGISTRY/v2/busybox/manifests/latest"
        is "$output" application/vnd.oci.image.manifest.v1+json "Content-Type"
        run_tool skopeo inspect --raw "docker://$(fixture_ref busybox)"
        is "$(jq -r .mediaType <<<"$output")" null "no mediaType field"
        is "$(jq -r '.layers | length' <<<"$output")" 1 "one layer"
        is "$(jq -r '.layers[0].mediaType' <<<"$output")" application/vnd.oci.image.layer.v1.tar+gzip

        run_tool skopeo inspect --config "docker://$(fixture_ref busybox:latest)"
        is "$(jq -c .config.Cmd <<<"$output")" '["sh"]' "Cmd"
        is "$(jq -c .config.Env <<<"$output")" '["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]' "Env"
        is "$(jq -r '.config.Labels["org.example.fixture"]' <<<"$output")" busybox "label"
        is "$(jq -r .os <<<"$output")" linux
}

@test "fixtures: busybox:v2s2 (Docker schema2 manifest, same layer)" {
        requires registry cmd:skopeo
        run_tool skopeo inspect --raw "docker://$(fixture_ref busybox:v2s2)"
        is "$(jq -r .mediaType <<<"$output")" application/vnd.docker.distribution.manifest.v2+json "mediaType"
        is "$(jq -r .config.mediaType <<<"$output")" application/vnd.docker.container.image.v1+json
        is "$(jq -r '.layers[0].mediaType' <<<"$output")" application/vnd.docker.image.rootfs.diff.tar.gzip
        local layer
        layer=$(jq -r '.layers[0].digest' <<<"$output")

        run_tool skopeo inspect --raw "docker://$(fixture_ref busybox)"
        is "$(jq -r '.layers[0].digest' <<<"$output")" "$layer" "v2s2 and OCI share the layer blob"

        run_tool skopeo inspect --config "docker://$(fixture_ref busybox:v2s2)"
        is "$(jq -c .config.Cmd <<<"$output")" '["sh"]' "Cmd"
}

@test "fixtures: layered (config and 4 layers)" {
        requires registry cmd:skopeo
        run_tool skopeo inspect --raw "docker://$(fixture_ref layered)"
        is "$(jq -r '.layers | length' <<<"$output")" 4 "busybox + 3 layers"
        local base
        base=$(skopeo inspect --raw "docker://$(fixture_ref busybox)" | jq -r '.layers[0].digest')
        is "$(jq -r '.layers[0].digest' <<<"$output")" "$base" "first layer is busybox's"

        run_tool skopeo inspect --config "docker://$(fixture_ref layered)"
        local c=$output
        is "$(jq -c .config.Entrypoint <<<"$c")" '["/bin/sh","-c"]' "Entrypoint"
        is "$(jq -c .config.Cmd <<<"$c")" '["echo layered"]' "Cmd"
        is "$(jq -r .config.WorkingDir <<<"$c")" /data "WorkingDir"
        is "$(jq -r .config.User <<<"$c")" app "User"
        is "$(jq -r .config.StopSignal <<<"$c")" SIGTERM "StopSignal"
        is "$(jq -c '.config.ExposedPorts | keys' <<<"$c")" '["80/tcp"]' "ExposedPorts"
        is "$(jq -c '.config.Volumes | keys' <<<"$c")" '["/data/vol"]' "Volumes"
        is "$(jq -c .config.Env <<<"$c")" '["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]' "Env inherited"
        is "$(jq -r '.rootfs.diff_ids | length' <<<"$c")" 4 "diff_ids"
}

@test "fixtures: multi (OCI index, amd64 + arm64)" {
        requires registry cmd:skopeo
        run_tool skopeo inspect --raw "docker://$(fixture_ref multi)"
        local idx=$output
        is "$(jq -r .mediaType <<<"$idx")" application/vnd.oci.image.index.v1+json "mediaType"
        is "$(jq -r '.manifests | length' <<<"$idx")" 2 "two manifests"
        is "$(jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | join(" ")' <<<"$idx")" \
                "linux/amd64 linux/arm64" "platforms"

        local native
        case $(uname -m) in
        x86_64) native=amd64 ;;
        aarch64) native=arm64 ;;
        esac
        local busybox_digest
        busybox_digest=$(skopeo inspect --format '{{.Digest}}' "docker://$(fixture_ref busybox)")
        is "$(jq -r --arg a "$native" '.manifests[] | select(.platform.architecture == $a) | .digest' <<<"$idx")" \
                "$busybox_digest" "the native entry is the busybox manifest"

        local a
        for a in amd64 arm64; do
                run_tool skopeo inspect --override-arch "$a" --config "docker://$(fixture_ref multi)"
                is "$(jq -r .architecture <<<"$output")" "$a" "config of the $a entry"
        done
}

@test "fixtures: layers unpack to the intended tree (umoci)" {
        requires root cmd:umoci
        local b=$BATS_TEST_TMPDIR/bundle
        run_tool umoci unpack --image "$(fixture_layout):layered" "$b"
        local r=$b/rootfs

        is "$(cat "$r/data/a")" a "data/a"
        [[ ! -e $r/data/b ]] || die "data/b should be whited out"
        [[ ! -e $r/data/dir/c ]] || die "data/dir should be opaque (no c)"
        is "$(cat "$r/data/dir/d")" d "data/dir/d"
        is "$(readlink "$r/data/link")" a "symlink"
        is "$(stat -c %i "$r/data/hardlink")" "$(stat -c %i "$r/data/a")" "hardlink"
        is "$(stat -c %a "$r/data/suid")" 4755 "setuid mode"
        is "$(stat -c %F "$r/data/fifo")" fifo "fifo"
        is "$(stat -c %u:%g "$r/data/owned")" 1000:1000 "owned by app"
        is "$(stat -c %u:%g "$r/home/app")" 1000:1000 "app's home"
        is "$(cat "$r/etc/layered/four")" "layer 4" "layer 4"
        is "$(readlink "$r/bin/sh")" busybox "sh applet"
        [[ ! -e $r/data/.wh.b && ! -e $r/data/dir/.wh..wh..opq ]] || die "whiteout markers leaked"
        is "$(grep '^app:' "$r/etc/passwd")" "app:x:1000:1000:app:/home/app:/bin/sh" "passwd"
}

@test "runc: runs the busybox fixture" {
        requires root cmd:runc cmd:umoci
        run_tool runc --version
        assert_contains "$output" "runc version"

        local b=$BATS_TEST_TMPDIR/bundle
        run_tool umoci unpack --image "$(fixture_layout):busybox" "$b"
        jq '.process.terminal = false | .process.args = ["sh", "-c", "echo hi from $(id -un) in $(hostname)"]' \
                "$b/config.json" >"$b/config.json.new"
        mv "$b/config.json.new" "$b/config.json"
        run_tool runc --root "$BERTH_RUNROOT/runc" run --bundle "$b" "world-$$-$BATS_TEST_NUMBER"
        is "$output" "hi from root in umoci-default" "container output"
}

@test "helpers: run_tool checks the status and shows a box" {
        run_tool true
        is "$status" 0
        run_tool 3 sh -c 'echo out; echo err >&2; exit 3'
        is "$status" 3
        is "$output" $'out\nerr' "stderr merged into output"
        is "${#lines[@]}" 2 "lines"
        run_tool '?' false
        is "$status" 1

        run_tool --stderr sh -c 'echo out; echo err >&2'
        is "$output" out "stdout only"
        # shellcheck disable=SC2154 # set by run_tool
        is "$stderr" err "stderr apart"
        run_tool_split 2 sh -c 'echo o; echo e >&2; exit 2'
        is "$output|$stderr|$status" "o|e|2"

        # A mismatch fails, with the box.
        run bash -c "source '$BATS_TEST_DIRNAME/helpers.bash'; set -e; run_tool sh -c 'echo boom; exit 5'; echo NOT REACHED"
        is "$status" 1 "run_tool fails on an unexpected status"
        assert_contains "$output" "FAIL: exit status is 5; expected 0"
        assert_contains "$output" "command: sh -c 'echo boom; exit 5'"
        assert_contains "$output" "#| output: boom"
        assert_not_contains "$output" "NOT REACHED"

        # The timeout.
        run bash -c "source '$BATS_TEST_DIRNAME/helpers.bash'; BERTH_CMD_TIMEOUT=1 run_tool sleep 20"
        is "$status" 1 "run_tool fails on a timeout"
        assert_contains "$output" "FAIL: timed out after 1s"
}

@test "helpers: is, requires, BERTH_STRICT" {
        is abc abc
        is abc "a*" "glob"
        is abc "a.c" "regex"
        is $'two\nlines' "two.lines" "regex across lines"
        run bash -c "source '$BATS_TEST_DIRNAME/helpers.bash'; is abc abd 'my check'"
        is "$status" 1
        assert_contains "$output" "FAIL: my check"
        assert_contains "$output" "expected: abd"
        run bash -c "source '$BATS_TEST_DIRNAME/helpers.bash'; is abc 'b'"
        is "$status" 1 "a regex must match the whole string"

        # requires: met, skipped, strict.
        requires cmd:sh
        local t=$BATS_TEST_TMPDIR/skip.bats
        printf '%s\n' "load '$BATS_TEST_DIRNAME/helpers'" '@test t { requires cmd:no-such-command-here; }' >"$t"
        BERTH_STRICT=0 run bats --tap "$t"
        is "$status" 0
        assert_contains "$output" "ok 1 t # skip requires cmd:no-such-command-here"
        BERTH_STRICT=1 run bats --tap "$t"
        is "$status" 1 "BERTH_STRICT=1 turns a skip into a failure"
        assert_contains "$output" "not ok 1 t"
        assert_contains "$output" "requires cmd:no-such-command-here: not met, and BERTH_STRICT=1"

        printf '%s\n' "load '$BATS_TEST_DIRNAME/helpers'" '@test t { berth_skip "no frobnicator"; }' >"$t"
        BERTH_STRICT=0 run bats --tap "$t"
        assert_contains "$output" "ok 1 t # skip no frobnicator"
        BERTH_STRICT=1 run bats --tap "$t"
        is "$status" 1 "berth_skip under BERTH_STRICT=1"
}

@test "helpers: berth_teardown finds and cleans leaked mounts, units and netns" {
        requires uid0 systemd
        mkdir -p "$BERTH_RUNROOT/leak"
        mount -t tmpfs tmpfs "$BERTH_RUNROOT/leak"
        ip netns add "berth-leak-$$"
        local unit=berth-leak-$$-$BATS_TEST_NUMBER
        systemd-run --user -q --unit="$unit" sleep 300

        run berth_teardown
        is "$status" 1 "berth_teardown reports leaks"
        assert_contains "$output" "mount: $BERTH_RUNROOT/leak"
        assert_contains "$output" "netns: /run/netns/berth-leak-$$"
        assert_contains "$output" "unit: $unit.service (active)"

        # ...and has cleaned them up, so this test's own teardown passes.
        run_tool 1 findmnt "$BERTH_RUNROOT/leak"
        [[ ! -e /run/netns/berth-leak-$$ ]] || die "netns not removed"
        run_tool '?' systemctl --user is-active "$unit.service"
        is "$output" "inactive|failed|unknown" "unit stopped"
}

@test "world.sh: passes the status through, global timeout, cleans up" {
        requires uid0
        run_tool 7 env -u BERTH_WORLD_QUIET "$BERTH_TESTS_DIR/world.sh" sh -c 'exit 7'
        local first=$output

        run_tool 124 env -u BERTH_WORLD_QUIET BERTH_WORLD_TIMEOUT=1 "$BERTH_TESTS_DIR/world.sh" sleep 60
        assert_contains "$output" "BERTH_WORLD_TIMEOUT=1s"

        # Neither inner world left its cgroup behind.
        local out cg h
        for out in "$first" "$output"; do
                cg=$(grep -o 'cgroup berth-world-[0-9]*' <<<"$out" | cut -d' ' -f2)
                [[ -n $cg ]] || die "no cgroup name in world.sh's output: $out"
                for h in /sys/fs/cgroup /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
                        [[ ! -e $h/$cg ]] || die "world.sh left $h/$cg behind"
                done
        done
}
