#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/ps/run.sh [N]: `berth-ps -a` over N container records against `podman ps -a` over N podman containers
# (default 1000, or $BERTH_BENCH_PS_N), side by side with hyperfine; prints a markdown table with the ratios
# for the "## ps" section of bench/RESULTS.md.
#
# berth's records are written in the shape berth-run writes (docs/design.md), a third each created, exited and
# "running" (whose runtime directory is gone, so berth-ps reconciles them to exited: the full status check
# runs). podman's containers are real: `podman create` N times with the flags of ENVIRONMENT.md, no scaling.
# Runs anywhere as root; `make bench` runs it inside tests/world.sh. Needs podman, hyperfine, python3, jq.
# BERTH_BENCH_PS_PODMAN=0 measures berth-ps alone (no podman containers are made; for quick iterations), and
# BERTH_BENCH_PS_RUNS sets hyperfine's runs (default 30).
set -euo pipefail

N=${1:-${BERTH_BENCH_PS_N:-1000}}
with_podman=${BERTH_BENCH_PS_PODMAN:-1}
runs=${BERTH_BENCH_PS_RUNS:-30}
here=$(cd "${BASH_SOURCE[0]%/*}" && pwd)
build=${BERTH_BUILD:-$here/../../build}
berth_ps=$build/berth-ps
[[ -x $berth_ps ]] || {
        echo "bench/ps: $berth_ps is not built" >&2
        exit 1
}
tools=(hyperfine python3 jq)
[[ $with_podman == 0 ]] || tools+=(podman)
for c in "${tools[@]}"; do
        command -v "$c" >/dev/null || {
                echo "bench/ps: $c is missing" >&2
                exit 1
        }
done
if [[ $with_podman != 0 ]]; then
        layout=${BERTH_FIXTURES:-}
        if [[ -z $layout ]]; then
                layout=$(ls -td /var/tmp/berth-fixtures/*/ 2>/dev/null | head -1)
                layout=${layout%/}
        fi
        [[ -n $layout && -f $layout/index.json ]] || {
                echo "bench/ps: no fixture layout (run under tests/world.sh, or set BERTH_FIXTURES)" >&2
                exit 1
        }
fi

work=$(mktemp -d /var/tmp/berth-bench-ps.XXXXXX)
P=(podman --root "$work/podman/root" --runroot "$work/podman/run" --cgroup-manager=cgroupfs --runtime=runc
        --events-backend=file)
cleanup() {
        "${P[@]}" rm -a -f >/dev/null 2>&1 || true
        "${P[@]}" system reset -f >/dev/null 2>&1 || true
        rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

echo "bench/ps: $N berth records" >&2
mkdir -p "$work/berth/root/containers" "$work/berth/root/names" "$work/berth/run/containers"
python3 - "$work/berth/root" "$(cat /proc/sys/kernel/random/boot_id)" "$N" <<'EOF'
import json, os, secrets, sys
root, boot, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    cid = secrets.token_hex(32)
    d = os.path.join(root, "containers", cid)
    os.makedirs(d)
    status = ["created", "exited", "running"][i % 3]
    rec = {"Id": cid, "Name": "c%05d" % i, "Created": "2026-01-01T00:%02d:%02d.000000000Z" % (i // 60 % 60, i % 60),
           "Image": "sha256:" + "b" * 64, "ImageName": "127.0.0.1:5000/busybox:latest",
           "Args": ["sleep", "100"],
           "Config": {"Cmd": ["sleep", "100"], "Entrypoint": None, "Labels": {"n": str(i)},
                      "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=c%05d" % i, "container=berth"],
                      "WorkingDir": "/", "User": "", "Hostname": "c%05d" % i, "StopSignal": "SIGTERM",
                      "Tty": False},
           "State": {"Status": status, "Running": status == "running", "Paused": False,
                     "Pid": 0 if status != "running" else 4000000 + i, "MonitorPid": 0, "ExitCode": i % 7,
                     "InitStartTime": 0, "MonitorStartTime": 0, "BootId": boot,
                     "StartedAt": "2026-01-01T01:00:00.000000000Z", "FinishedAt": "2026-01-01T02:00:00.000000000Z",
                     "Error": "", "Health": None},
           "HostConfig": {"Memory": 0, "NanoCpus": 0, "PidsLimit": 0, "AutoRemove": False, "NetworkMode": "none"},
           "Mounts": [], "NetworkSettings": {"Networks": {}}, "Unit": "berth-c%05d.scope" % i,
           "Slice": "machine.slice", "RestartCount": 0}
    with open(os.path.join(d, "container.json"), "w") as f:
        json.dump(rec, f, indent=2, sort_keys=True)
    os.symlink(cid, os.path.join(root, "names", rec["Name"]))
EOF

if [[ $with_podman != 0 ]]; then
        echo "bench/ps: $N podman containers (podman create, ~0.1 s each)" >&2
        "${P[@]}" pull -q "oci:$layout:busybox" >"$work/image-id"
        image=$(<"$work/image-id")
        for ((i = 0; i < N; i++)); do
                "${P[@]}" create -q --name "c$i" --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
                        --label "n=$i" "$image" sleep 100 >/dev/null
        done
        have=$("${P[@]}" ps -a -q | wc -l)
        ((have == N)) || {
                echo "bench/ps: podman has $have containers, expected $N" >&2
                exit 1
        }
fi
have=$("$berth_ps" --root "$work/berth/root" --runroot "$work/berth/run" -a -q | wc -l)
((have == N)) || {
        echo "bench/ps: berth-ps lists $have containers, expected $N" >&2
        exit 1
}

B=("$berth_ps" --root "$work/berth/root" --runroot "$work/berth/run")
stamp="$(nproc) cores, $(date -u '+%Y-%m-%d %H:%M'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $with_podman == 0 ]]; then
        # berth-ps alone, or against an older build of it (BERTH_BENCH_PS_BASELINE=path/to/berth-ps)
        base=${BERTH_BENCH_PS_BASELINE:-}
        O=("$base" --root "$work/berth/root" --runroot "$work/berth/run")
        cmds=()
        for f in "-a" "-a --format json" "-a -q"; do
                cmds+=(-n "berth-ps $f" "${B[*]} $f")
                [[ -z $base ]] || cmds+=(-n "baseline $f" "${O[*]} $f")
        done
        hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" "${cmds[@]}" >&2
        echo
        echo "Listing $N containers ($stamp):"
        echo
        jq -r '.results[] | "| \(.command) | \(.mean * 1000 | . * 10 | round / 10) ms ± \(.stddev * 1000 | . * 10 | round / 10) | min \(.min * 1000 | . * 10 | round / 10) ms | user \(.user * 1000 | round) ms, sys \(.system * 1000 | round) ms |"' \
                "$work/h.json"
        exit 0
fi
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" \
        -n "berth-ps -a" "${B[*]} -a" \
        -n "podman ps -a" "${P[*]} ps -a" \
        -n "berth-ps -a --format json" "${B[*]} -a --format json" \
        -n "podman ps -a --format json" "${P[*]} ps -a --format json" \
        -n "berth-ps -a -q" "${B[*]} -a -q" \
        -n "podman ps -a -q" "${P[*]} ps -a -q" >&2

echo
echo "Listing $N containers ($stamp; podman $(podman --version | awk '{print $3}'), real containers made with \`podman create\`; berth records written as berth-run writes them):"
echo
echo "| command | berth-ps | podman | ratio |"
echo "| --- | --- | --- | --- |"
jq -r '.results | [range(0; length; 2) as $i | [.[$i], .[$i + 1]]] | .[] |
        "| \(.[0].command | sub("berth-ps "; "")) | \(.[0].mean * 1000 | . * 10 | round / 10) ms ± \(.[0].stddev * 1000 | round) | \(.[1].mean * 1000 | . * 10 | round / 10) ms ± \(.[1].stddev * 1000 | round) | \(.[0].mean / .[1].mean | . * 100 | round / 100)x |"' \
        "$work/h.json"
