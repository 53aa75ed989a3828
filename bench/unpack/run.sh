#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/unpack/run.sh: berth-unpack side by side with umoci unpack, serial tar -xzf, igzip -dc | tar -x and
# podman's store, in one run, everything (image store, layer store, trees) on a tmpfs. Run it in the world:
#
#     BERTH_BUILD=$PWD/build tests/world.sh bench/unpack/run.sh [--runs N] [--no-results]
#
# Images (generated once, cached in $BERTH_BENCH_CACHE, default /var/tmp/berth-bench-unpack), made from files of
# this host with tar and gzip -6, independent of berth: "app", 2 layers (/usr/lib/gcc, /usr/lib/python3.11:
# ~300 MB unpacked, ~100 MB compressed), and "app12", the same files in 12 layers.
# Prints a table with ratios and writes it into the "## unpack" section of bench/RESULTS.md.
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
for t in umoci skopeo hyperfine jq tar gzip /usr/bin/time; do
        command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 2; }
done
have_igzip=$(command -v igzip || true)
have_podman=$(command -v podman || true)
berth=${BERTH_BUILD:+$BERTH_BUILD/}berth-unpack
cache=${BERTH_BENCH_CACHE:-/var/tmp/berth-bench-unpack}
SRC=${BERTH_BENCH_UNPACK_SRC:-/usr/lib/gcc /usr/lib/python3.11}

# Lower case only: podman names an oci: image after its path.
W=${TMPDIR:-/tmp}/bench-unpack-$$
mkdir "$W"
mounted=''
cleanup() {
        [[ ! -x $W/bin/podman-reset ]] || "$W/bin/podman-reset" 2>/dev/null || true
        [[ -z $mounted ]] || umount -l "$W" 2>/dev/null || true
        rm -rf "$W"
}
trap cleanup EXIT
if [[ $(stat -f -c %T "$W") != tmpfs ]]; then
        mount -t tmpfs -o size=8g tmpfs "$W"
        mounted=1
fi

# --- images -----------------------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
source "$here/../lib.sh"

# make_image LAYOUT TAG LISTFILE...: one layer per list of paths (relative to /).
make_image() {
        local layout=$1 tag=$2 list
        shift 2
        LAYERS='[]' DIFFS='[]'
        for list in "$@"; do
                tar -C / -cf "$W/l.tar" --no-recursion --numeric-owner -T "$list"
                layout_add_layer "$layout" "$W/l.tar" 6
        done
        layout_add_image "$layout" "$tag"
}

if [[ ! -f $cache/done ]]; then
        echo "bench: generating images in $cache (once)" >&2
        rm -rf "$cache"
        layout_init "$cache"
        lists=()
        for s in $SRC; do
                (cd / && find "${s#/}" | LC_ALL=C sort) >"$W/list.$((${#lists[@]} + 1))"
                lists+=("$W/list.$((${#lists[@]} + 1))")
        done
        make_image "$cache" app "${lists[@]}"
        cat "${lists[@]}" >"$W/all"
        split -n l/12 -d "$W/all" "$W/part."
        make_image "$cache" app12 "$W"/part.*
        touch "$cache/done"
fi

# The image store for berth (skopeo writes it, as berth-pull would), and a layout copy for umoci and podman.
R=$W/root
mkdir -p "$R/oci"
for t in app app12; do
        skopeo --insecure-policy copy --quiet "oci:$cache:$t" "oci:$R/oci:localhost/bench/$t:latest"
done
cp -a "$cache" "$W/layout"
blobs() { # TAG -> the layer blob paths, bottom first
        local m
        m=$(jq -r --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
                "$W/layout/index.json")
        jq -r '.layers[].digest' "$W/layout/blobs/sha256/${m#sha256:}" | sed "s|^sha256:|$W/layout/blobs/sha256/|"
}
mkdir -p "$W/bin"
# shellcheck disable=SC2016 # "$1" belongs to the generated scripts
for t in app app12; do
        {
                echo '#!/bin/sh'
                echo 'set -e; mkdir -p "$1"'
                for b in $(blobs "$t"); do echo "tar -C \"\$1\" -xzf $b"; done
        } >"$W/bin/tar-$t"
        {
                echo '#!/bin/sh'
                echo 'set -e; mkdir -p "$1"'
                for b in $(blobs "$t"); do echo "igzip -dc $b | tar -C \"\$1\" -x"; done
        } >"$W/bin/igzip-$t"
done
cat >"$W/bin/podman-reset" <<SH
#!/bin/sh
# podman leaves its overlay store mounted; unmount before removing it.
findmnt -rn -o TARGET | grep "^$W/podman" | sort -r | xargs -r -n1 umount -l
rm -rf "$W/podman" "$W/podman-run"
SH
chmod +x "$W"/bin/*

podman_cmd="podman --root $W/podman --runroot $W/podman-run --storage-driver overlay --cgroup-manager=cgroupfs --events-backend=file pull -q"

declare -A mean rss
# measure KEY PREPARE CMD: mean seconds over $runs runs (hyperfine), and peak RSS of one run.
measure() {
        local key=$1 prep=$2 cmd=$3
        if ! hyperfine -N --runs "$runs" --prepare "$prep" --export-json "$W/h.json" "$cmd" >/dev/null 2>&1 &&
                ! hyperfine --runs "$runs" --prepare "$prep" --export-json "$W/h.json" "$cmd" >/dev/null 2>&1; then
                echo "bench: $key failed: $cmd" >&2
                mean[$key]=null rss[$key]=null
                return 0
        fi
        mean[$key]=$(jq '.results[0].mean' "$W/h.json")
        bash -c "$prep" >/dev/null 2>&1
        /usr/bin/time -o "$W/rss" -f '%M' bash -c "$cmd" >/dev/null 2>&1 || true
        rss[$key]=$(tail -1 "$W/rss")
        printf 'bench: %-22s %8.1f ms  %7s KiB\n' "$key" "$(jq -n "${mean[$key]} * 1000")" "${rss[$key]}" >&2
}

for t in app app12; do
        img=localhost/bench/$t:latest
        measure "berth --to $t" "rm -rf $W/to" "$berth --root $R --to $W/to $img"
        measure "berth store $t" "rm -rf $R/layers" "$berth --root $R $img"
        measure "berth store -j1 $t" "rm -rf $R/layers" "$berth --root $R -j 1 $img"
        measure "umoci $t" "rm -rf $W/umoci" "umoci unpack --image $W/layout:$t $W/umoci"
        measure "tar $t" "rm -rf $W/tar" "$W/bin/tar-$t $W/tar"
        [[ -z $have_igzip ]] || measure "igzip $t" "rm -rf $W/ig" "$W/bin/igzip-$t $W/ig"
        [[ -z $have_podman ]] || measure "podman $t" "$W/bin/podman-reset" "$podman_cmd oci:$W/layout:$t"
done

# --- report ---------------------------------------------------------------------------------------------
ms() { if [[ $1 == null ]]; then echo n/a; else jq -n "$1 * 1000 | round"; fi; }
ratio() { if [[ $1 == null || $2 == null ]]; then echo n/a; else jq -n "$1 / $2 | . * 100 | round / 100"; fi; }
mib() { if [[ $1 == null ]]; then echo n/a; else jq -n "$1 / 1024 | . * 10 | round / 10"; fi; }
report=$W/report.md
sizes() { du -sm "$1" | cut -f1; }
{
        echo "Measured $(date -u +%Y-%m-%d) by bench/unpack/run.sh on this machine ($(nproc) cores), all on tmpfs,"
        # shellcheck disable=SC2046 # one path per blob
        echo "means of $runs runs (hyperfine). \"app\": 2 layers ($SRC; $(du -cm $(blobs app) | tail -1 | cut -f1) MB"
        echo "compressed, gzip -6); \"app12\": the same files in 12 layers. berth --to and umoci write a merged tree;"
        echo "berth store writes the layer store (default jobs: half the CPUs, each job a decompressor thread and a"
        echo "writer thread; -j1 for comparison); podman pull oci: copies and unpacks into its overlay store."
        echo "Load average when the run ended: $(cut -d' ' -f1-3 /proc/loadavg)."
        echo
        echo "| image | tool | ms | peak RSS MiB | vs berth --to |"
        echo "| --- | --- | --- | --- | --- |"
        for t in app app12; do
                for tool in "berth --to" "berth store" "berth store -j1" umoci tar igzip podman; do
                        [[ -n ${mean[$tool $t]:-} ]] || continue
                        echo "| $t | $tool | $(ms "${mean[$tool $t]}") | $(mib "${rss[$tool $t]}") | $(ratio "${mean[$tool $t]}" "${mean[berth --to $t]}")x |"
                done
        done
        echo
        echo "Targets: app --to ≤ 0.6x umoci: **$(ratio "${mean[berth --to app]}" "${mean[umoci app]}")x**;" \
                "≤ 1.0x tar: **$(ratio "${mean[berth --to app]}" "${mean[tar app]}")x**;" \
                "app12 store ≤ 0.6x serial tar: **$(ratio "${mean[berth store app12]}" "${mean[tar app12]}")x**;" \
                "peak RSS ≤ 32 MiB: **$(mib "${rss[berth store app12]}") MiB** (store, app12)," \
                "**$(mib "${rss[berth --to app]}") MiB** (--to, app)."
} >"$report"
cat "$report"

if [[ -n $write_results ]]; then
        results=$top/bench/RESULTS.md
        python3 - "$results" "$report" <<'PY'
import re, sys
path, rep = sys.argv[1], open(sys.argv[2]).read().strip()
text = open(path).read()
new, n = re.subn(r"(## unpack\n)(.*?)(?=\n## |\Z)", lambda m: m.group(1) + "\n" + rep + "\n", text, flags=re.S)
if n == 0:
    new = text.rstrip() + "\n\n## unpack\n\n" + rep + "\n"
open(path, "w").write(new)
PY
        echo "bench: wrote the unpack section of $results" >&2
fi
