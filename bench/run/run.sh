#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/run/run.sh [--write] [RUNS]: start-to-exit of a container, side by side on the same busybox image:
#   berth-run run --rm --network=none IMAGE true    (record, berth-unpack mount, scope, runc, monitor, cleanup)
#   podman run --rm --network=none IMAGE true       (ENVIRONMENT.md flags: cgroupfs, runc, file events)
#   runc run on a bundle prepared once              (the floor: the runtime alone)
# plus 50 concurrent starts (berth vs podman) and the resident memory of the supervisor (berth-run's monitor
# vs conmon). Rounds are interleaved and medians reported (the machine is shared). Prints a markdown table for
# the "## run" section of bench/RESULTS.md (written there with --write). Runs inside tests/world.sh (its registry, user
# manager and journald); outside it, the script re-runs itself there.
set -euo pipefail

here=$(cd "${BASH_SOURCE[0]%/*}" && pwd)
repo=$(cd "$here/../.." && pwd)
if [[ -z ${BERTH_WORLD:-} ]]; then
        export BERTH_BUILD=${BERTH_BUILD:-$repo/build}
        exec "$repo/tests/world.sh" "$here/run.sh" "$@"
fi
write=''
if [[ ${1:-} == --write ]]; then
        write=1
        shift
fi
RUNS=${1:-${BERTH_BENCH_RUN_RUNS:-20}}
build=${BERTH_BUILD:-$repo/build}
for c in "$build/berth-run" "$build/berth-pull" "$build/berth-unpack" podman runc umoci jq bc; do
        command -v "$c" >/dev/null || {
                echo "bench/run: $c is missing" >&2
                exit 1
        }
done

work=$(mktemp -d /var/tmp/berth-bench-run.XXXXXX)
export BERTH_ROOT=$work/root BERTH_RUNROOT=$work/run
IMG=$BERTH_TEST_REGISTRY/busybox:latest
PODMAN=(podman --root "$work/podman" --runroot "$work/podman-run" --cgroup-manager=cgroupfs --runtime=runc
        --events-backend=file)
PODMAN_RUN=(--rm --network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
cleanup() {
        "$build/berth-run" rm -f bench-rss >/dev/null 2>&1 || true
        "${PODMAN[@]}" rm -f -a >/dev/null 2>&1 || true
        runc --root "$work/runc" delete -f bench-runc >/dev/null 2>&1 || true
        runc --root "$work/runc" delete -f bench-runc2 >/dev/null 2>&1 || true
        findmnt -rn -o TARGET | grep "^$work" | sort -r | xargs -r umount -l 2>/dev/null || true
        rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

"$build/berth-pull" -q "$IMG" >/dev/null
"${PODMAN[@]}" pull -q --tls-verify=false "$IMG" >/dev/null
umoci unpack --image "$BERTH_FIXTURES:busybox" "$work/bundle" >/dev/null
jq '.process.args = ["true"] | .process.terminal = false | del(.linux.namespaces[] | select(.type == "network"))
    | .linux.namespaces += [{"type": "network"}]' "$work/bundle/config.json" >"$work/c.json"
mv "$work/c.json" "$work/bundle/config.json"
# The same container as berth runs it: berth-run's own config.json (docker's seccomp filter, capabilities,
# masked paths, the /etc files), on a copy of the rootfs, as a ready bundle (no scope, no record, no overlay).
"$build/berth-run" create --name bench-cfg --network=none "$IMG" true >/dev/null
cid=$(readlink "$BERTH_ROOT/names/bench-cfg")
cdir=$BERTH_ROOT/containers/$cid rdir=$BERTH_RUNROOT/containers/$cid
mkdir -p "$work/bundle2"
cp -a "$work/bundle/rootfs" "$work/bundle2/rootfs"
cp "$rdir/hosts" "$rdir/hostname" "$rdir/resolv.conf" "$work/bundle2/"
jq --arg r "$work/bundle2/rootfs" --arg d "$rdir/" --arg b "$work/bundle2/" '.root.path = $r
    | .linux.cgroupsPath = "bench-runc2"
    | .mounts |= map(if (.source | startswith($d)) then .source = ($b + (.source | ltrimstr($d))) else . end)' \
        "$cdir/config.json" >"$work/bundle2/config.json"
"$build/berth-run" rm bench-cfg >/dev/null

# Interleaved: each round runs berth, podman and runc once, so all three see the same load (this machine is
# shared); medians, with means beside them.
time_ms() {
        local t0=$EPOCHREALTIME
        "$@" >/dev/null 2>&1 || echo "bench/run: failed: $*" >&2
        echo "($EPOCHREALTIME - $t0) * 1000" | bc -l
}
read -ra BERTH_CMD <<<"$build/berth-run run --rm --network=none $IMG true"
PODMAN_CMD=("${PODMAN[@]}" run "${PODMAN_RUN[@]}" "$IMG" true)
RUNC_CMD=(runc --root "$work/runc" run --bundle "$work/bundle" bench-runc)
RUNC2_CMD=(runc --root "$work/runc" run --bundle "$work/bundle2" bench-runc2)
for _ in 1 2 3; do # warm-up
        "${BERTH_CMD[@]}" >/dev/null && "${PODMAN_CMD[@]}" >/dev/null && "${RUNC_CMD[@]}" >/dev/null &&
                "${RUNC2_CMD[@]}" >/dev/null
done
: >"$work/t.berth" && : >"$work/t.podman" && : >"$work/t.runc" && : >"$work/t.runc2"
for ((i = 0; i < RUNS; i++)); do
        time_ms "${BERTH_CMD[@]}" >>"$work/t.berth"
        time_ms "${PODMAN_CMD[@]}" >>"$work/t.podman"
        time_ms "${RUNC_CMD[@]}" >>"$work/t.runc"
        time_ms "${RUNC2_CMD[@]}" >>"$work/t.runc2"
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mean() { awk '{ s += $1 } END { print s / NR }' "$1"; }
b=$(median "$work/t.berth") p=$(median "$work/t.podman") r=$(median "$work/t.runc")
bm=$(mean "$work/t.berth") pm=$(mean "$work/t.podman") rm_=$(mean "$work/t.runc")
r2=$(median "$work/t.runc2") r2m=$(mean "$work/t.runc2")

# 50 concurrent starts: wall time for all of them, three rounds alternating berth and podman, medians
many() {
        local t0=$EPOCHREALTIME
        seq 50 | xargs -P 50 -I{} "$@" >/dev/null
        echo "$EPOCHREALTIME - $t0" | bc -l
}
: >"$work/c.berth" && : >"$work/c.podman"
for _ in 1 2 3; do
        many "$build/berth-run" run --rm --network=none "$IMG" true >>"$work/c.berth"
        many "${PODMAN[@]}" run "${PODMAN_RUN[@]}" "$IMG" true >>"$work/c.podman"
done
cb=$(median "$work/c.berth") cp=$(median "$work/c.podman")
left=$(ls "$BERTH_ROOT/containers" | wc -l)

# the supervisor's resident memory
"$build/berth-run" run -d --name bench-rss --network=none "$IMG" sleep 1000 >/dev/null
mon=$(jq -r .State.MonitorPid "$BERTH_ROOT/containers/$(readlink "$BERTH_ROOT/names/bench-rss")/container.json")
rss_b=$(awk '/^VmRSS/ { print $2 }' "/proc/$mon/status")
"$build/berth-run" rm -f bench-rss >/dev/null
cid=$("${PODMAN[@]}" run -d --network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$IMG" sleep 1000)
conmon=$("${PODMAN[@]}" inspect -f '{{.State.ConmonPid}}' "$cid")
rss_c=$(awk '/^VmRSS/ { print $2 }' "/proc/$conmon/status")
"${PODMAN[@]}" rm -f -t 0 "$cid" >/dev/null

table=$(
        printf '`run --rm --network=none busybox true`: medians of %s interleaved rounds (berth, podman, runc once each\n' "$RUNS"
        printf 'per round, so all see the same load; means in brackets), and 50 concurrent starts (median of 3 rounds).\n\n'
        echo "| measure | berth-run | podman run | runc run, umoci's bundle | runc run, berth's config | berth / podman | berth / runc (umoci's) | berth / runc (berth's config) |"
        echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
        printf '| one container, start to exit | %.1f ms (%.1f) | %.1f ms (%.1f) | %.1f ms (%.1f) | %.1f ms (%.1f) | %.2f | %.2f | %.2f |\n' \
                "$b" "$bm" "$p" "$pm" "$r" "$rm_" "$r2" "$r2m" "$(echo "$b / $p" | bc -l)" "$(echo "$b / $r" | bc -l)" \
                "$(echo "$b / $r2" | bc -l)"
        printf '| 50 concurrent, wall time | %.2f s | %.2f s | | | %.2f (throughput %.1fx) | | |\n' "$cb" "$cp" \
                "$(echo "$cb / $cp" | bc -l)" "$(echo "$cp / $cb" | bc -l)"
        printf '| supervisor RSS | %s KiB (monitor) | %s KiB (conmon) | | | %.2f | | |\n' "$rss_b" "$rss_c" \
                "$(echo "$rss_b / $rss_c" | bc -l)"
        printf '\nThe two runc columns: umoci'"'"'s default bundle (no seccomp filter, 3 capabilities, no cgroup namespace) is\n'
        printf 'the floor; berth'"'"'s config is the same container berth runs (docker'"'"'s seccomp filter and capabilities,\n'
        printf 'masked paths, the /etc files) as a ready bundle, so that ratio is what berth adds to the runtime.\n'
        printf '\nLeft behind by the 50 berth runs: %s records. Machine: %s cores, %s, load average %s when done.\n' \
                "$left" "$(nproc)" "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)"
        printf 'Targets (issue 5): <= 0.3x podman, <= 1.5x bare runc, >= 3x podman'"'"'s throughput at 50 concurrent,\n'
        printf 'supervisor RSS next to conmon'"'"'s (< 2 MiB).\n\n'
        printf 'Where the time goes (`berth-run --log-level debug run ...` prints each step): runc run --detach with\n'
        printf 'the docker-equivalent config is most of it (its seccomp filter is compiled for the native architecture\n'
        printf 'only, ~8 ms per architecture); the scope is made by the manager while runc runs (the container'"'"'s\n'
        printf 'cgroup path is predicted, docs/run.md "Start sequence"); berth-unpack mounts the rootfs while the /etc\n'
        printf 'files are written and the manager is asked for the scope'"'"'s cgroup, and unmounts it while runc'"'"'s state\n'
        printf 'is removed; the record'"'"'s fsyncs run on a thread while runc starts the container (docs/run.md\n'
        printf '"Durability"), and the manager stops the empty scope by itself. The remaining overhead over bare runc,\n'
        printf '~10-15 ms: berth-run'"'"'s own start-up, berth-unpack mount (~3 ms, the critical path before runc) and\n'
        printf 'umount, config.json and the record, the removal of runc'"'"'s cgroups (~2 ms of rmdir in ten v1\n'
        printf 'hierarchies) and of the --rm container.\n'
)
echo "$table"
if [[ -n $write ]]; then
        python3 - "$repo/bench/RESULTS.md" "$table" <<'PY'
import re, sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"(## run\n)(.*?)(\n## |\Z)", lambda m: m.group(1) + "\n" + table + "\n" + m.group(3), text, count=1, flags=re.S)
open(path, "w").write(text)
PY
fi
