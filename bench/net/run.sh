#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/net/run.sh [--write] [RUNS]: attach + detach of one container, side by side:
#   berth-net attach/detach (netns + CNI bridge/host-local, portmap with -p, DNS unit when the network has DNS)
#   netavark setup/teardown, podman's network stack (netns made with `ip netns add`, as podman makes it;
#     podman-style JSON; addresses given as static_ips because podman does IPAM itself)
#   raw CNI: the same plugins executed by a shell script (the floor for any CNI runtime)
# in four cases: no DNS; with DNS (the server starts and stops with the container); a second container
# next to one that stays (the bridge and DNS server already up); and that second container publishing a port. Runs are interleaved (berth, netavark,
# berth, ...) and reported as medians, so other load on the machine hits both alike. Prints a markdown table
# for the "## net" section of bench/RESULTS.md (written there with --write). Networking happens only inside
# tests/world.sh's private network namespace: outside it, the script re-runs itself there. Needs jq,
# netavark and aardvark-dns.
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
RUNS=${1:-${BERTH_BENCH_NET_RUNS:-30}}
build=${BERTH_BUILD:-$repo/build}
net=$build/berth-net
netavark=/usr/lib/podman/netavark
aardvark=/usr/lib/podman/aardvark-dns
for c in "$net" "$netavark" "$aardvark" /usr/lib/cni/bridge; do
        [[ -x $c ]] || {
                echo "bench/net: $c is missing" >&2
                exit 1
        }
done
command -v jq >/dev/null || {
        echo "bench/net: jq is missing" >&2
        exit 1
}

# Runtime state on tmpfs (the world's /run), where both tools keep it in production (/run/berth,
# /run/containers/networks): the fsyncs of atomic writes are free there.
work=$(mktemp -d /run/berth-bench-net.XXXXXX)
export BERTH_ROOT=$work/root BERTH_RUNROOT=$work/run
mkdir -p "$BERTH_ROOT" "$BERTH_RUNROOT" "$work/nv" "$work/cni"
ID1=$(printf 'bench-1' | sha256sum | cut -c1-64)
ID2=$(printf 'bench-2' | sha256sum | cut -c1-64)
cleanup() {
        "$net" detach --container "$ID1" >/dev/null 2>&1 || true
        "$net" detach --container "$ID2" >/dev/null 2>&1 || true
        ip netns delete nv-bench 2>/dev/null || true
        rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

"$net" ls -q >/dev/null # the default network "berth" (DNS on)
"$net" create --disable-dns nodns >/dev/null

# netavark: one bridge network like podman's default, with and without DNS.
nvjson() { # ID NAME IP DNS [PORT-MAPPINGS]
        local pm=''
        [[ -z ${5:-} ]] || pm="\"port_mappings\":$5,"
        cat <<J
{"container_id":"$1","container_name":"$2",$pm
 "networks":{"podman":{"static_ips":["$3"],"interface_name":"eth0","aliases":["$2"]}},
 "network_info":{"podman":{"name":"podman","id":"2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9",
  "driver":"bridge","network_interface":"podman0","created":"2026-01-01T00:00:00Z",
  "subnets":[{"subnet":"10.66.0.0/16","gateway":"10.66.0.1"}],"ipv6_enabled":false,"internal":false,
  "dns_enabled":$4,"ipam_options":{"driver":"host-local"}}}}
J
}
nvjson "$ID1" b1 10.66.0.2 false >"$work/nv-nodns.json"
nvjson "$ID1" b1 10.66.0.2 true >"$work/nv-dns.json"
nvjson "$ID2" keep 10.66.0.3 true >"$work/nv-keep-dns.json"
nvjson "$ID1" b1 10.66.0.2 true \
        '[{"host_ip":"","container_port":80,"host_port":18080,"range":1,"protocol":"tcp"}]' >"$work/nv-port.json"

# raw CNI: bridge (+host-local) and portmap ADD, then DEL, with the conflist berth wrote.
cat >"$work/cni.sh" <<'SH'
#!/bin/bash
set -e
conf=$1 id=$2 ns=nv-bench
ip netns add $ns
export CNI_CONTAINERID=$id CNI_NETNS=/run/netns/$ns CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni
b=$(jq -c --arg d "$3" '.plugins[0] + {name, cniVersion} | .ipam.dataDir = $d' "$conf")
p=$(jq -c '.plugins[1] + {name, cniVersion}' "$conf")
r=$(CNI_COMMAND=ADD /usr/lib/cni/bridge <<<"$b")
r2=$(CNI_COMMAND=ADD /usr/lib/cni/portmap <<<"$(jq -c --argjson r "$r" '. + {prevResult: $r}' <<<"$p")")
CNI_COMMAND=DEL /usr/lib/cni/portmap <<<"$(jq -c --argjson r "$r2" '. + {prevResult: $r}' <<<"$p")"
CNI_COMMAND=DEL /usr/lib/cni/bridge <<<"$(jq -c --argjson r "$r2" '. + {prevResult: $r}' <<<"$b")"
ip netns delete $ns
SH
chmod +x "$work/cni.sh"

# netavark starts aardvark-dns through systemd-run when /run/systemd/system exists, and the world has no
# system bus: the runs happen in a mount namespace of their own without /run/systemd, where netavark spawns
# aardvark itself (berth reaches its manager through $XDG_RUNTIME_DIR, unaffected).
cat >"$work/runs.sh" <<'SH'
set -euo pipefail
[[ -z ${BENCH_TRACE:-} ]] || { exec 2>>"$BENCH_TRACE"; set -x; }
mount -t tmpfs tmpfs /run/systemd
NV="$netavark --config $work/nv --aardvark-binary $aardvark"
now() { echo "${EPOCHREALTIME/,/.}"; }
berth_cycle() { # NETWORK|"" [ATTACH-OPTIONS...]
        "$net" attach --container "$ID1" ${1:+--network "$1"} "${@:2}" >/dev/null && "$net" detach --container "$ID1"
}
nv_cycle() {
        ip netns add nv-bench
        $NV setup /run/netns/nv-bench <"$work/$1.json" >"$work/nv-out" || { cat "$work/nv-out" >&2; exit 1; }
        # netavark 1.4 sometimes finds no aardvark pid under load; count it, do not stop the benchmark
        $NV teardown /run/netns/nv-bench <"$work/$1.json" 2>>"$work/nv-errors" || echo >>"$work/nv-failures"
        ip netns delete nv-bench
}
cni_cycle() { "$work/cni.sh" "$BERTH_ROOT/networks/nodns.conflist" "$ID1" "$work/cni" >/dev/null; }
measure() { # NAME CMD...: one timed run, in ms, appended to $work/NAME.times
        local t0 t1
        t0=$(now)
        "${@:2}"
        t1=$(now)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$work/$1.times"
}
case_run() { # CASE BERTH-NETWORK NETAVARK-JSON cni|- [ATTACH-OPTIONS...]
        local i
        for ((i = 0; i < 3; i++)); do
                berth_cycle "$2" "${@:5}"
                nv_cycle "$3"
        done
        for ((i = 0; i < RUNS; i++)); do
                measure "berth_$1" berth_cycle "$2" "${@:5}"
                measure "nv_$1" nv_cycle "$3"
                if [[ $4 == cni ]]; then measure "cni_$1" cni_cycle; fi
        done
}
case_run nodns nodns nv-nodns cni
case_run dns "" nv-dns -
"$net" attach --container "$ID2" >/dev/null
ip netns add nv-keep
$NV setup /run/netns/nv-keep <"$work/nv-keep-dns.json" >/dev/null
case_run 2nd "" nv-dns -
case_run port "" nv-port - -p 18080:80
$NV teardown /run/netns/nv-keep <"$work/nv-keep-dns.json"
ip netns delete nv-keep
"$net" detach --container "$ID2"
SH
echo "bench/net: $RUNS interleaved runs per case" >&2
export net netavark aardvark work RUNS ID1 ID2 BERTH_ROOT BERTH_RUNROOT
unshare --mount --propagation private bash "$work/runs.sh" 2> >(grep -v 'failed to connect to syslog' >&2)

median() {
        sort -n "$work/$1.times" | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
declare -A T
for k in berth_nodns nv_nodns cni_nodns berth_dns nv_dns berth_2nd nv_2nd berth_port nv_port; do
        T[$k]=$(median "$k")
done

row() { # LABEL berth netavark [cni]
        awk -v l="$1" -v b="$2" -v n="$3" -v c="${4:-}" 'BEGIN {
                printf "| %s | %.1f ms | %.1f ms | %s | %.2fx |\n", l, b, n, (c == "" ? "-" : sprintf("%.1f ms", c)), b / n }'
}
table=$(
        echo "| attach + detach of one container | berth-net | netavark 1.4 | raw CNI plugins (shell) | berth / netavark |"
        echo "| --- | --- | --- | --- | --- |"
        row "bridge, no DNS (the first and last container)" "${T[berth_nodns]}" "${T[nv_nodns]}" "${T[cni_nodns]}"
        row "bridge + DNS server started and stopped" "${T[berth_dns]}" "${T[nv_dns]}"
        row "bridge + DNS, next to a running container" "${T[berth_2nd]}" "${T[nv_2nd]}"
        row "the same, publishing a port (-p 18080:80)" "${T[berth_port]}" "${T[nv_port]}"
)
if [[ -s $work/nv-failures ]]; then
        table+=$'\n\n'"netavark teardown failed in $(wc -l <"$work/nv-failures") runs: $(sort -u "$work/nv-errors" | head -1)"
fi
echo "$table"
if [[ -n $write ]]; then
        python3 - "$repo/bench/RESULTS.md" "$table" "$RUNS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import re, sys
path, table, runs, cpus, load = sys.argv[1:6]
text = open(path).read()
body = ("`bench/net/run.sh`: %s interleaved runs per case, medians; %s CPUs, load average %s at the end. "
        "berth-net creates the netns and runs the CNI plugins: bridge with host-local, and portmap only for a "
        "container that publishes ports (the last row); with DNS it starts/stops its DNS unit. Its detach "
        "removes the namespace before DEL when no process is left in it, so the kernel deletes the veth in the "
        "background (docs/net.md, Departures); the interleaved runs leave that background work to whichever tool "
        "runs next. netavark gets podman's JSON with the address already chosen (podman does IPAM itself) and its "
        "netns from `ip netns add`, and with DNS spawns aardvark-dns. The raw CNI column runs bridge and portmap "
        "from a shell script with jq, DEL before the namespace goes. Target from issue 6: berth <= 0.5x "
        "netavark. Before issue 6's changes, next to a running container: berth 77.7 ms, netavark 85.1 ms "
        "(0.91x, four Go plugin executions and a veth deleted in the foreground). A published port costs "
        "berth more than netavark: portmap runs iptables 19 times on ADD and 18 on DEL (docs/net.md).\n\n%s\n"
        % (runs, cpus, load, table))
new = re.sub(r"(## net\n)(.*?)(?=\n## |\Z)", lambda m: m.group(1) + "\n" + body, text, flags=re.S)
open(path, "w").write(new)
PY
fi
