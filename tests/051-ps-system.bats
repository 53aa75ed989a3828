#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# docker's and podman's system verbs over real containers, networks, volumes and images: berth-ps info
# (berth info, berth system info), berth-ps df (berth system df) and the front's berth system prune.

load helpers

setup() {
        berth_setup
        requires root systemd registry cmd:runc
        IMG=$(fixture_ref busybox:latest)
        LAYERED=$(fixture_ref layered:latest)
}

teardown() {
        local id br
        for id in $(berth-ps -a -q --no-trunc 2>/dev/null); do
                berth-run rm -f "$id" >/dev/null 2>&1 || true
        done
        # a bridge lives as long as its network; the next test starts without the ones of this test
        for br in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}'); do
                [[ $br == berth* ]] && ip link delete "$br" 2>/dev/null
        done
        berth_teardown
}

# assert_match TEXT REGEX: a line of TEXT matches the extended regular expression.
assert_match() {
        grep -qE -- "$2" <<<"$1" || die "no line matches: $2
actual: $1"
}

json_field() {
        jq -r "$1" <<<"$output"
}

# df_field TYPE FIELD: one number of berth-ps df's JSON.
df_field() {
        berth-ps df --format json | jq -r ".[] | select(.Type == \"$1\") | .$2"
}

# What /sys/fs/cgroup is, in info's words.
cgroup_version() {
        if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
                echo v2
        elif [[ $(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
                echo hybrid
        else
                echo v1
        fi
}

@test "info: JSON and templates tell the truth about the host, the store, the runtime, networks, registries" {
        run_tool berth-pull -q "$IMG"
        run_tool berth-net create infonet
        run_tool berth-run volume create infovol
        run_tool berth-run run -d --name up "$IMG" sleep 100
        run_tool berth-run run --name down "$IMG" true
        run_tool berth-run run -d --name frozen "$IMG" sleep 100
        run_tool berth-run pause frozen

        run_tool berth info --format json
        is "$(json_field .host.kernel)" "$(uname -r)"
        is "$(json_field .host.os)" linux
        is "$(json_field .host.hostname)" "$(uname -n)"
        is "$(json_field .host.cpus)" "$(nproc)"
        is "$(json_field .host.cgroupVersion)" "$(cgroup_version)"
        is "$(json_field .host.cgroupManager)" systemd
        (. /etc/os-release && is "$(json_field .host.distribution.distribution)" "$ID")
        is "$(json_field '.host.memTotal')" "$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024))"
        local want
        if [[ $(cgroup_version) == v2 ]]; then
                want=$(tr ' ' '\n' </sys/fs/cgroup/cgroup.controllers | sort | tr '\n' ' ')
        else
                want=$(awk '!/^#/ && $4 == 1 {print $1}' /proc/cgroups | sort | tr '\n' ' ')
        fi
        is "$(json_field '.host.cgroupControllers[]' | sort | tr '\n' ' ')" "$want"
        is "$(json_field .host.systemd.version)" "$(systemctl --version | head -n 1)"
        is "$(json_field .host.systemd.userManager.socket)" "$XDG_RUNTIME_DIR/systemd/private"
        is "$(json_field .host.systemd.userManager.reachable)" true
        is "$(json_field .berth.root)" "$BERTH_ROOT"
        is "$(json_field .berth.runRoot)" "$BERTH_RUNROOT"
        is "$(json_field '.berth.rootExists and .berth.runRootExists')" true
        is "$(json_field .berth.rootFilesystem)" "$(findmnt -n -o FSTYPE --target "$BERTH_ROOT")"
        is "$(json_field '.berth.rootFree > 0 and .berth.rootSize >= .berth.rootFree')" true
        is "$(json_field .store.images)" 1
        is "$(json_field .store.containers.number)" 3
        is "$(json_field .store.containers.running)" 1
        is "$(json_field .store.containers.paused)" 1
        is "$(json_field .store.containers.stopped)" 1
        is "$(json_field .store.volumes)" 1
        is "$(json_field .store.layers)" "$(find "$BERTH_ROOT/layers" -mindepth 1 -maxdepth 1 -regextype egrep -regex '.*/[0-9a-f]{64}' | wc -l)"
        is "$(json_field .runtime.name)" runc
        is "$(json_field .runtime.path)" "$(command -v runc)"
        is "$(json_field .runtime.version)" "$(runc --version | head -n 1)"
        is "$(json_field .network.networks)" "$(ls "$BERTH_ROOT"/networks/*.conflist | wc -l)"
        assert_contains "$(json_field '.network.plugins[]')" bridge
        assert_contains "$(json_field '.network.pluginDirs[]')" /
        is "$(json_field .registries.conf)" "$CONTAINERS_REGISTRIES_CONF"
        is "$(json_field .registries.confExists)" true
        assert_contains "$(json_field '.registries.insecure[]')" "$BERTH_TEST_REGISTRY"
        is "$(json_field '.unknown | length')" 0

        run_tool berth-run unpause frozen
        run_tool berth-run stop -t 1 up
        run_tool berth system info --format '{{.Store.Containers.Running}} {{.Store.Containers.Stopped}} {{.Host.CgroupVersion}}'
        is "$output" "1 2 $(cgroup_version)"
        run_tool berth-ps info --format '{{.Runtime.Path}}'
        is "$output" "$(command -v runc)"
}

@test "info: the YAML-like table; an unreadable part is unknown with a reason, never a failure" {
        run_tool berth-ps info
        local section
        for section in host berth store runtime network registries; do
                assert_match "$output" "^$section:"
        done
        assert_match "$output" "^  kernel: $(uname -r)"
        assert_match "$output" "^  cgroupVersion: $(cgroup_version)"
        assert_match "$output" "^  cgroupControllers:"
        assert_match "$output" "^    - "
        assert_match "$output" "^  containers:"
        assert_match "$output" "^    running: 0"
        assert_match "$output" "^  root: $BERTH_ROOT"

        # no runc, no systemctl on PATH; registries.conf a directory; the store's directories unreadable
        mkdir -p "$BATS_TEST_TMPDIR/conf.d" "$BERTH_ROOT/containers"
        printf 'garbage' >"$BERTH_ROOT/volumes"
        local ps=$BERTH_BUILD/berth-ps
        run_tool env PATH=/nonexistent CONTAINERS_REGISTRIES_CONF="$BATS_TEST_TMPDIR/conf.d" "$ps" info
        assert_match "$output" "^  path: unknown \(runc not found on \\\$PATH\)"
        assert_match "$output" "^    version: unknown \(systemctl --version: "
        assert_match "$output" "^  search: unknown \(cannot read $BATS_TEST_TMPDIR/conf.d: Is a directory\)"
        assert_match "$output" "^  volumes: unknown \(cannot read $BERTH_ROOT/volumes: Not a directory\)"
        assert_match "$output" "^  kernel: $(uname -r)"
        run_tool env PATH=/nonexistent CONTAINERS_REGISTRIES_CONF="$BATS_TEST_TMPDIR/conf.d" "$ps" info --format json
        is "$(json_field .runtime.path)" null
        is "$(json_field '.unknown["runtime.path"]')" 'runc not found on $PATH'
        is "$(json_field '.unknown["registries.search"]')" "cannot read $BATS_TEST_TMPDIR/conf.d: Is a directory"
        is "$(json_field '.unknown["host.systemd.version"] | startswith("systemctl --version")')" true
        is "$(json_field .host.kernel)" "$(uname -r)"
        is "$(json_field .registries.blocked)" null
        # the keys stay the same: an unknown value is null, not missing
        local keys='[paths | select(all(.[]; type == "string")) | join(".")] | map(select(startswith("unknown") | not)) | sort'
        local broken_keys
        broken_keys=$(jq -c "$keys" <<<"$output")
        run_tool berth-ps info --format json
        [[ $broken_keys == "$(jq -c "$keys" <<<"$output")" ]] ||
                die "the keys differ: $broken_keys
$(jq -c "$keys" <<<"$output")"

        # registries.conf as berth-pull reads it: what it refuses is what info calls blocked
        cat >"$BATS_TEST_TMPDIR/registries.conf" <<-'EOF2'
	unqualified-search-registries = ["search.example",
	    "quay.example"]  # a comment
	[[registry]]
	prefix = "evil.example"
	location = "evil.example"
	blocked = true
	[[registry.mirror]]
	location = "mirror.example"
	insecure = true
	[[registry]]
	location = "plain.example"
	insecure = true
	EOF2
        export CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/registries.conf
        run_tool berth-ps info --format json
        is "$(json_field '.registries.search | join(",")')" "search.example,quay.example"
        is "$(json_field '.registries.blocked | join(",")')" "evil.example"
        is "$(json_field '.registries.insecure | join(",")')" "plain.example"
        run_tool --stderr 1 berth-pull evil.example/x:1
        assert_contains "$stderr" "blocked"

        # a root not made yet: the file system it will be made on
        run_tool env BERTH_ROOT="$BATS_TEST_TMPDIR/not/yet" berth-ps info --format json
        is "$(json_field .berth.rootExists)" false
        is "$(json_field .berth.rootFilesystem)" "$(findmnt -n -o FSTYPE --target "$BATS_TEST_TMPDIR")"
        is "$(json_field '.berth.rootFree > 0')" true

        run_tool --stderr 2 berth-ps info extra
        assert_contains "$stderr" "'info' takes no arguments"
        run_tool --stderr 2 berth-ps info -v
        assert_contains "$stderr" "only for 'berth-ps df'"
}

@test "df: a container's row grows with what it writes, stopped is reclaimable, a used image is active" {
        run_tool berth-pull -q "$IMG"
        run_tool berth-pull -q "$LAYERED"
        run_tool berth system df --format json
        is "$(json_field '.[0].Type + " " + (.[0].Total|tostring) + " " + (.[0].Active|tostring)')" "Images 2 0"
        is "$(json_field '.[0].Reclaimable == .[0].Size and .[0].Size > 0')" true
        is "$(json_field '.[1].Total + .[1].Size + .[2].Total')" 0

        run_tool berth-run run -d --name writer "$IMG" sleep 100
        local before after
        before=$(df_field Containers Size)
        run_tool berth-run exec writer dd if=/dev/urandom of=/big bs=1M count=5
        after=$(df_field Containers Size)
        (((after - before) >= 5 * 1024 * 1024 && (after - before) < 6 * 1024 * 1024)) ||
                die "Containers grew by $((after - before)) bytes, not about 5 MiB"
        is "$(df_field Containers Active)" 1
        is "$(df_field Containers Reclaimable)" 0
        # busybox is used, layered is not: what layered does not share with busybox is reclaimable
        is "$(df_field Images Active)" 1
        local size rec
        size=$(df_field Images Size)
        rec=$(df_field Images Reclaimable)
        ((rec > 0 && rec < size)) || die "Images: reclaimable $rec of $size"

        run_tool berth-run stop -t 1 writer
        is "$(df_field Containers Active)" 0
        is "$(df_field Containers Reclaimable)" "$(df_field Containers Size)"
        is "$(df_field Images Active)" 1

        run_tool berth-ps df
        is "${lines[0]}" "TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE"
        is "${lines[1]}" "Images +2 +1 +[0-9.]+[kMG]?B +[0-9.]+[kMG]?B \([0-9]+%\)"
        is "${lines[2]}" "Containers +1 +0 +5\.[0-9]+MB +5\.[0-9]+MB \(100%\)"
        is "${lines[3]}" "Local Volumes +0 +0 +0B +0B"
        run_tool berth-ps df -v
        assert_contains "$output" "Containers space usage:"
        assert_match "$output" "[0-9a-f]{12} +$IMG +5\.[0-9]+MB +exited +writer"
        run_tool berth-ps df --format '{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.RawSize}}'
        is "${lines[1]}" "Containers\|1\|0\|$(df_field Containers Size)"
        run_tool berth-ps df -v --format json
        is "$(json_field '.Containers[0].Name + " " + .Containers[0].Status')" "writer exited"
        is "$(json_field '[.Images[] | select(.Containers == 1)] | length')" 1
        run_tool --stderr 2 berth-ps df -v --format '{{.Type}}'
}

@test "df: volumes by use; hard links once, symlinks not followed, mounts below not entered" {
        run_tool berth-pull -q "$IMG"
        run_tool berth-run volume create used
        run_tool berth-run volume create free
        run_tool berth-run run -d --name user -v used:/data "$IMG" sleep 100
        local data=$BERTH_ROOT/volumes/free/_data
        dd if=/dev/urandom of="$data/a" bs=1M count=2 status=none
        ln "$data/a" "$data/b"
        dd if=/dev/urandom of="$BATS_TEST_TMPDIR/outside" bs=1M count=3 status=none
        ln -s "$BATS_TEST_TMPDIR/outside" "$data/link"
        mkdir "$data/mnt"
        mount -t tmpfs tmpfs "$data/mnt"
        dd if=/dev/urandom of="$data/mnt/hidden" bs=1M count=4 status=none
        # du -x -l would count the link twice: plain du -x is the reference
        local want
        want=$(du -x -B1 -s "$data" | cut -f1)

        run_tool berth-ps df -v --format json
        umount "$data/mnt"
        is "$(json_field '.Volumes[] | select(.Name == "free") | .Size')" "$want"
        is "$(json_field '.Volumes[] | select(.Name == "free") | .Links')" 0
        is "$(json_field '.Volumes[] | select(.Name == "used") | .Links')" 1
        is "$(json_field '.Summary[2].Total')" 2
        is "$(json_field '.Summary[2].Active')" 1
        is "$(json_field '.Summary[2].Reclaimable')" "$want"
        local size
        size=$(json_field '.Summary[2].Size')
        ((size >= 2 * 1024 * 1024 && size < 3 * 1024 * 1024)) || die "volumes: $size bytes"
}

@test "system prune: asks first and removes nothing on no; -f removes what is unused and keeps the rest" {
        run_tool berth-pull -q "$IMG"
        run_tool berth-pull -q "$LAYERED"
        run_tool berth-net create keepnet
        run_tool berth-net create dropnet
        run_tool berth-run run -d --name keep --network keepnet "$IMG" sleep 100
        run_tool berth-run run --name gone "$LAYERED" true
        # layered loses its name while 'gone' uses it: a dangling image
        run_tool berth-pull rmi -f "$LAYERED"
        local dangling
        dangling=$(berth-ps images --filter dangling=true -q --no-trunc)
        [[ -n $dangling ]] || die "no dangling image"
        local gone
        gone=$(berth-ps -a --filter name=gone -q --no-trunc)

        run_tool bash -c "echo n | berth system prune"
        assert_contains "$output" "WARNING! This will remove:"
        assert_contains "$output" "all stopped containers"
        assert_contains "$output" "all dangling images"
        assert_contains "$output" "Are you sure you want to continue? [y/N]"
        assert_not_contains "$output" "Deleted"
        is "$(berth-ps -a -q | wc -l)" 2
        is "$(berth-net ls -q | grep -c drop)" 1
        run_tool bash -c "berth system prune </dev/null"
        is "$(berth-ps -a -q | wc -l)" 2

        run_tool bash -c "echo yes | berth system prune"
        assert_contains "$output" "Deleted Containers:
$gone"
        assert_contains "$output" "Deleted Networks:
dropnet"
        assert_contains "$output" "Deleted Images:
deleted: $dangling"
        assert_contains "$output" "Deleted Blobs:"
        assert_match "$output" "Total reclaimed space: [0-9.]+[kMG]?B"
        run_tool berth-ps -a --format '{{.Names}} {{.State}}'
        is "$output" "keep running"
        run_tool berth-net ls -q
        assert_contains "$output" keepnet
        assert_not_contains "$output" dropnet
        run_tool berth-ps images --format '{{.Repository}}:{{.Tag}}'
        is "$output" "$IMG"
        run_tool berth-run exec keep true

        # nothing left to remove: no headings, still the total
        run_tool --stderr berth system prune -f
        is "$output" "Total reclaimed space: 0B"
}

@test "system prune: --volumes and -a remove unused volumes and images, used ones stay" {
        run_tool berth-pull -q "$IMG"
        run_tool berth-pull -q "$LAYERED"
        run_tool berth-run volume create usedvol
        run_tool berth-run volume create freevol
        run_tool berth-run run -d --name keep -v usedvol:/d "$IMG" sleep 100

        run_tool berth system prune --force
        run_tool berth-run volume ls -q
        is "$(sort <<<"$output" | tr '\n' ' ')" "freevol usedvol "
        is "$(berth-ps images -q | wc -l)" 2

        run_tool berth system prune -f --volumes
        assert_contains "$output" "Deleted Volumes:
freevol"
        run_tool berth-run volume ls -q
        is "$output" usedvol
        is "$(berth-ps images -q | wc -l)" 2

        run_tool berth system prune --all -f
        assert_contains "$output" "Deleted Images:
Untagged: $LAYERED"
        run_tool berth-ps images --format '{{.Repository}}:{{.Tag}}'
        is "$output" "$IMG"
        run_tool berth-run exec keep ls /d
}

@test "system prune: a failing step is named, the others still run, exit 1; usage errors" {
        run_tool berth-pull -q "$IMG"
        run_tool berth-run run --name gone "$IMG" true
        run_tool berth-net create broken
        echo '{not json' >"$BERTH_ROOT/networks/broken.conflist"
        run_tool --stderr 1 berth system prune -f
        is "$(grep -c "^berth: Step " <<<"$stderr")" 1
        assert_contains "$stderr" "Step 'berth-net prune' failed"
        assert_contains "$output" "Deleted Containers:"
        assert_contains "$output" "Total reclaimed space:"
        is "$(berth-ps -a -q | wc -l)" 0
        rm "$BERTH_ROOT/networks/broken.conflist"

        run_tool --stderr 2 berth system prune extra
        assert_contains "$stderr" "takes no arguments"
        run_tool --stderr 2 berth system prune --bogus
        is "${#stderr_lines[@]}" 1
        run_tool --stderr 2 berth system frobnicate
        assert_contains "$stderr" "Unknown system verb 'frobnicate'"
        run_tool --stderr 2 berth system
        run_tool berth system prune --help
        assert_contains "$output" "--volumes"
}
