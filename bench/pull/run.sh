#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/pull/run.sh: berth-pull side by side with skopeo copy (to an OCI dir), podman pull and a raw parallel
# curl of the blobs, on the world's loopback registry, in one run. Run it inside the test world:
#
#     BERTH_BUILD=$PWD/build tests/world.sh bench/pull/run.sh [--runs N] [--no-results]
#
# Images (generated once, cached in $BERTH_BENCH_CACHE, default /var/tmp/berth-bench-pull): "big", two layers
# of random data (~90 MB + ~10 MB, gzip -1, so they do not compress), and "many", 12 layers of ~1 MB each.
# Prints a table with ratios and writes it into the "## pull" section of bench/RESULTS.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
runs=5
write_results=1
while (($# > 0)); do
        case $1 in
        --runs) runs=$2; shift 2 ;;
        --no-results) write_results=''; shift ;;
        *) echo "usage: $0 [--runs N] [--no-results]" >&2; exit 2 ;;
        esac
done
[[ -n ${BERTH_TEST_REGISTRY:-} ]] || { echo "run me inside tests/world.sh" >&2; exit 2; }
for t in skopeo podman hyperfine curl jq /usr/bin/time; do
        command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 2; }
done
REG=$BERTH_TEST_REGISTRY
cache=${BERTH_BENCH_CACHE:-/var/tmp/berth-bench-pull}
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-pull.XXXXXX")
trap 'rm -rf "$W"' EXIT

# --- images -----------------------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
source "$here/../lib.sh"

# make_image LAYOUT TAG SIZE_MB...: one layer of random data per size.
make_image() {
        local layout=$1 tag=$2 i=0 mb
        shift 2
        LAYERS='[]' DIFFS='[]'
        for mb in "$@"; do
                i=$((i + 1))
                mkdir -p "$W/l$i"
                head -c "$((mb * 1024 * 1024))" /dev/urandom >"$W/l$i/data$i"
                tar -C "$W/l$i" -cf "$W/l$i.tar" --owner=0 --group=0 "data$i"
                rm -rf "$W/l$i"
                layout_add_layer "$layout" "$W/l$i.tar" 1
        done
        layout_add_image "$layout" "$tag"
}

if [[ ! -f $cache/done ]]; then
        echo "bench: generating images in $cache (once)" >&2
        rm -rf "$cache"
        layout_init "$cache"
        make_image "$cache" big 90 10
        make_image "$cache" many 1 1 1 1 1 1 1 1 1 1 1 1
        touch "$cache/done"
fi
for t in big many; do
        skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci:$cache:$t" "docker://$REG/bench-$t:latest"
done

# --- commands -------------------------------------------------------------------------------------------
# A raw parallel curl of every blob of an image, no verification: the floor.
cat >"$W/curl-blobs.sh" <<'SH'
#!/bin/bash
set -euo pipefail
reg=$1 img=$2 out=$3
m=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$reg/v2/bench-$img/manifests/latest")
urls=()
for d in $(jq -r '.config.digest, .layers[].digest' <<<"$m"); do
        urls+=(-o "$out/${d#sha256:}" "http://$reg/v2/bench-$img/blobs/$d")
done
exec curl -fsS --parallel --parallel-max 12 "${urls[@]}"
SH
chmod +x "$W/curl-blobs.sh"

podman_cmd="podman --root $W/podman --runroot $W/podman-run --storage-driver vfs --cgroup-manager=cgroupfs --events-backend=file pull -q --tls-verify=false"

declare -A mean rss
# measure KEY PREPARE CMD: mean seconds over $runs runs (hyperfine), and peak RSS of one run.
measure() {
        local key=$1 prep=$2 cmd=$3
        hyperfine -N --runs "$runs" --warmup 0 --prepare "$prep" --export-json "$W/h.json" "$cmd" >/dev/null 2>&1 ||
                hyperfine --runs "$runs" --prepare "$prep" --export-json "$W/h.json" "$cmd" >/dev/null
        mean[$key]=$(jq '.results[0].mean' "$W/h.json")
        bash -c "$prep" >/dev/null 2>&1
        # shellcheck disable=SC2086
        /usr/bin/time -o "$W/rss" -f '%M' $cmd >/dev/null 2>&1 || true
        rss[$key]=$(tail -1 "$W/rss")
        printf 'bench: %-24s %8.1f ms  %7s KiB\n' "$key" "$(jq -n "${mean[$key]} * 1000")" "${rss[$key]}" >&2
}

berth=${BERTH_BUILD:+$BERTH_BUILD/}berth-pull
for img in big many; do
        ref=$REG/bench-$img:latest
        measure "berth-pull $img cold" "rm -rf $W/b" "$berth -q --root $W/b $ref"
        measure "berth-pull $img warm" "true" "$berth -q --root $W/b $ref"
        measure "skopeo $img cold" "rm -rf $W/s" "skopeo --insecure-policy copy --quiet --src-tls-verify=false docker://$ref oci:$W/s:x"
        measure "skopeo $img warm" "true" "skopeo --insecure-policy copy --quiet --src-tls-verify=false docker://$ref oci:$W/s:x"
        measure "podman $img cold" "rm -rf $W/podman $W/podman-run" "$podman_cmd $ref"
        measure "podman $img warm" "true" "$podman_cmd $ref"
        measure "curl $img" "rm -rf $W/curl; mkdir -p $W/curl" "$W/curl-blobs.sh $REG $img $W/curl"
done

# --- report ---------------------------------------------------------------------------------------------
ms() { jq -n "$1 * 1000 | . * 10 | round / 10"; }
ratio() { jq -n "$1 / $2 | . * 100 | round / 100"; }
mib() { jq -n "$1 / 1024 | . * 10 | round / 10"; }
report=$W/report.md
{
        echo "Measured $(date -u +%Y-%m-%d) by bench/pull/run.sh on this machine ($(nproc) cores), loopback docker-registry,"
        echo "means of $runs runs (hyperfine). \"big\": 2 layers of random data (~100 MB);"
        echo "\"many\": 12 layers of ~1 MB. Cold = empty store; warm = the image is present. skopeo copies to an OCI"
        echo "layout dir; podman pull uses --storage-driver vfs, so its time includes unpacking the layers."
        echo
        echo "| image | tool | cold ms | warm ms | peak RSS MiB (cold) | cold vs berth-pull |"
        echo "| --- | --- | --- | --- | --- | --- |"
        for img in big many; do
                for tool in berth-pull skopeo podman; do
                        echo "| $img | $tool | $(ms "${mean[$tool $img cold]}") | $(ms "${mean[$tool $img warm]}") | $(mib "${rss[$tool $img cold]}") | $(ratio "${mean[$tool $img cold]}" "${mean[berth-pull $img cold]}")x |"
                done
                echo "| $img | curl (parallel, no verification) | $(ms "${mean[curl $img]}") | - | $(mib "${rss[curl $img]}") | $(ratio "${mean[curl $img]}" "${mean[berth-pull $img cold]}")x |"
        done
        echo
        local_b=${mean[berth-pull big cold]}
        echo "Targets: cold big ≤ 0.5x skopeo: **$(ratio "$local_b" "${mean[skopeo big cold]}")x**;" \
                "≤ 2x raw curl: **$(ratio "$local_b" "${mean[curl big]}")x**;" \
                "warm ≤ 20 ms: **$(ms "${mean[berth-pull big warm]}") ms**;" \
                "peak RSS ≤ 20 MiB: **$(mib "${rss[berth-pull big cold]}") MiB**."
} >"$report"
cat "$report"

if [[ -n $write_results ]]; then
        results=$top/bench/RESULTS.md
        python3 - "$results" "$report" <<'PY'
import re, sys
path, rep = sys.argv[1], open(sys.argv[2]).read().strip()
text = open(path).read()
new, n = re.subn(r"(## pull\n)(.*?)(?=\n## |\Z)", lambda m: m.group(1) + "\n" + rep + "\n", text, flags=re.S)
if n == 0:
    new = text.rstrip() + "\n\n## pull\n\n" + rep + "\n"
open(path, "w").write(new)
PY
        echo "bench: wrote the pull section of $results" >&2
fi
