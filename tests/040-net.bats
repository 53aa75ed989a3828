#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-net: networks (create/rm/ls/inspect/prune, validation, dual stack) and attaching containers through
# the real CNI plugins (attach/detach/connect/disconnect, static addresses, published ports, cleanup after
# a killed attach, concurrency). Everything runs in the world's private network namespace.

load helpers

setup() {
        berth_setup
        requires root
}

teardown() {
        local leaks=()
        ip link delete dummy-net0 2>/dev/null || true
        # veths live in the world's netns, which outlives the test: every test must leave none
        if veths_left; then
                leaks+=("veth: $(ip -o link show type veth | cut -d: -f2 | tr '\n' ' ')")
        fi
        if iptables-save | grep -q "berth network"; then
                leaks+=("firewall: $(iptables-save | grep "berth network" | tr '\n' ' ')")
        fi
        # after a failure: undo what is left so that the next test starts clean
        if ((${#leaks[@]} > 0)); then
                local f
                for f in "$BERTH_RUNROOT"/net/containers/*.json; do
                        [[ -e $f ]] && berth-net detach --container "$(basename "$f" .json)" 2>/dev/null
                done
                iptables-save | grep -v "berth network" | iptables-restore
        fi
        # a bridge lives as long as its network; the next test starts without the ones of this test
        local br
        for br in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}'); do
                [[ $br == berth* ]] && ip link delete "$br" 2>/dev/null
        done
        berth_teardown || leaks+=("see above")
        if ((${#leaks[@]} > 0)); then
                _box "FAIL: the test left network state behind:" "${leaks[@]}"
                return 1
        fi
}

cid() {
        printf '%s-%s' "$BATS_TEST_NUMBER" "$1" | sha256sum | cut -c1-64
}

# nsx ID CMD...: run CMD in the container's network namespace
nsx() {
        nsenter --net="$BERTH_RUNROOT/netns/$1" "${@:2}"
}

count_leases() {
        find "$BERTH_RUNROOT/net/ipam/$1" -maxdepth 1 -name '[0-9a-f]*[.:]*' 2>/dev/null | wc -l
}

@test "net: the default network exists from first use, as a valid CNI conflist" {
        # several first uses at once make it once, quietly
        local i
        for i in 1 2 3 4 5 6; do berth-net ls -q >"$BATS_TEST_TMPDIR/ls.$i" 2>&1 & done
        wait
        is "$(cat "$BATS_TEST_TMPDIR"/ls.* | sort -u)" berth "concurrent first use"
        run_tool berth-net ls --format json
        is "$(jq -r '.[].name' <<<"$output")" berth
        is "$(jq -r '.[0].subnets[0].subnet' <<<"$output")" 10.88.0.0/16
        is "$(jq -r '.[0].network_interface' <<<"$output")" berth0
        local f=$BERTH_ROOT/networks/berth.conflist
        [[ -f $f ]] || die "no $f"
        is "$(jq -r '.cniVersion, .name, .plugins[0].type, .plugins[0].bridge, .plugins[0].ipMasq' "$f" | xargs)" \
                "1.0.0 berth bridge berth0 false"
        is "$(jq -r '.plugins[0].ipam.type, .plugins[0].ipam.ranges[0][0].subnet' "$f" | xargs)" \
                "host-local 10.88.0.0/16"
        is "$(jq -r '.plugins[1].type, .plugins[1].capabilities.portMappings' "$f" | xargs)" "portmap true"
        run_tool berth-net ls -q
        is "$output" berth
        run_tool berth network inspect --format '{{.name}} {{.driver}} {{.dns_enabled}}' berth
        is "$output" "berth bridge true"
        run_tool berth-net exists berth
        run_tool 1 berth-net exists nope
        run_tool 1 berth-net rm berth
        is "$output" "berth-net: The default network 'berth' cannot be removed"
}

@test "net: create with --subnet --gateway --ip-range --internal --disable-dns --label, ls filters, rm" {
        run_tool berth-net create --subnet 10.91.0.0/24 --gateway 10.91.0.254 --ip-range 10.91.0.128/26 \
                --internal --disable-dns --label team=web --label tier net1
        is "$output" net1
        run_tool berth-net inspect net1
        local j=$output
        is "$(jq -c '.[0] | [.driver, .internal, .dns_enabled, .ipv6_enabled, .labels]' <<<"$j")" \
                '["bridge",true,false,false,{"team":"web","tier":""}]'
        is "$(jq -r '.[0].subnets[0] | .subnet, .gateway, .lease_range.start_ip, .lease_range.end_ip' <<<"$j" | xargs)" \
                "10.91.0.0/24 10.91.0.254 10.91.0.128 10.91.0.191"
        local f=$BERTH_ROOT/networks/net1.conflist
        is "$(jq -c '.plugins[0] | [.ipMasq, .isGateway, .ipam.routes, .ipam.ranges[0][0].rangeStart]' "$f")" \
                '[false,true,[],"10.91.0.128"]'
        run_tool berth-net create --subnet 10.92.0.0/24 net2
        run_tool berth-net ls -q --filter label=team=web
        is "$output" net1
        run_tool berth-net ls -q --filter label=tier
        is "$output" net1
        run_tool berth-net ls -q --filter name=net2 --filter name=berth
        is "$(xargs <<<"$output")" "berth net2"
        run_tool berth-net ls
        assert_contains "${lines[0]}" "NETWORK ID"
        assert_contains "$output" "team=web"
        # an address from the range: IPAM honours --ip-range and the gateway
        local id
        id=$(cid a)
        run_tool berth-net attach --container "$id" --network net1
        is "$(jq -r '.networks.net1.ips[0]' <<<"$output")" "10.91.0.128/24"
        is "$(jq -r '.networks.net1.gateway' <<<"$output")" "10.91.0.254"
        is "$(jq -c '.networks.net1.dns' <<<"$output")" "[]"
        # internal: no default route
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$id" ip -4 route
        assert_not_contains "$output" default
        run_tool 1 nsenter --net="$BERTH_RUNROOT/netns/$id" busybox ping -c1 -W1 10.92.0.1
        run_tool 1 berth-net rm net1
        is "$output" "berth-net: Network 'net1' is in use by container ${id:0:12}"
        run_tool berth-net detach --container "$id"
        local br
        br=$(jq -r '.[0].network_interface' <<<"$j")
        ip link show "$br" >/dev/null || die "bridge $br of net1 missing"
        run_tool berth-net rm net1 net2
        is "$(xargs <<<"$output")" "net1 net2"
        ! ip link show "$br" >/dev/null 2>&1 || die "bridge $br left after rm"
        run_tool 1 berth-net rm net1
        is "$output" "berth-net: Network 'net1' does not exist"
        [[ ! -e $BERTH_ROOT/networks/net1.conflist ]] || die "conflist left"
}

@test "net: validation: names, overlapping subnets (networks and host routes), addresses; one-line errors" {
        local bad
        for bad in '../x' 'a b' '.hidden' "$(printf 'n%.0s' {1..65})" none host bridge 'x/y'; do
                run_tool --stderr 1 berth-net create "$bad"
                is "${#stderr_lines[@]}" 1 "one line for '$bad'"
                assert_contains "$stderr" "Invalid network name"
        done
        run_tool berth-net create --subnet 10.93.0.0/24 first
        run_tool 1 berth-net create --subnet 10.93.0.128/25 second
        is "$output" "berth-net: Subnet '10.93.0.128/25' overlaps network 'first' (10.93.0.0/24)"
        run_tool 1 berth-net create --subnet 10.0.0.0/8 second
        is "$output" "berth-net: Subnet '10.0.0.0/8' overlaps network 'berth' (10.88.0.0/16)"
        run_tool 1 berth-net create --subnet 10.93.0.0/24 first
        is "$output" "berth-net: Network 'first' already exists"
        # --ignore (podman's): the existing network is success and stays as it was
        run_tool berth-net create --ignore --subnet 10.94.0.0/24 first
        is "$output" "first"
        run_tool berth-net inspect --format '{{json .subnets}}' first
        assert_contains "$output" "10.93.0.0/24"
        assert_not_contains "$output" "10.94.0.0/24"
        # a host route (in the world's own namespace)
        ip link add dummy-net0 type veth peer name dummy-net1
        ip addr add 172.30.5.1/24 dev dummy-net0
        ip link set dummy-net0 up
        run_tool 1 berth-net create --subnet 172.30.0.0/16 second
        is "$output" "berth-net: Subnet '172.30.0.0/16' overlaps the host route 172.30.5.0/24"
        run_tool 1 berth-net create --subnet 10.94.0.1/24 second
        is "$output" "berth-net: Invalid --subnet '10.94.0.1/24': host bits are set (did you mean '10.94.0.0/24'?)"
        run_tool 1 berth-net create --subnet 10.94.0.0/24 --gateway 10.95.0.1 second
        is "$output" "berth-net: Gateway '10.95.0.1' is not a host address of subnet '10.94.0.0/24'"
        run_tool 1 berth-net create --subnet 10.94.0.0/24 --ip-range 10.94.1.0/28 second
        is "$output" "berth-net: IP range '10.94.1.0/28' is not inside subnet '10.94.0.0/24'"
        run_tool 1 berth-net create --subnet nonsense second
        is "$output" "berth-net: Invalid --subnet 'nonsense': expected ADDRESS/PREFIX"
        run_tool 1 berth-net create -d overlay second
        is "$output" "berth-net: Unknown driver 'overlay' (bridge, macvlan, ipvlan or vlan)"
        run_tool 1 berth-net create -o frobnicate=1 second
        is "$output" "berth-net: Option 'frobnicate' is not supported by the bridge driver"
        run_tool 1 berth-net create --interface-name 'much-too-long-name' second
        is "$output" "berth-net: Invalid interface name 'much-too-long-name'"
        # the plugins must answer CNI VERSION before a network is written
        mkdir -p "$BATS_TEST_TMPDIR/empty"
        run_tool 1 berth-net create --cni-path "$BATS_TEST_TMPDIR/empty" second
        is "$output" "berth-net: CNI plugin 'bridge' is not usable: plugin 'bridge' not found in '$BATS_TEST_TMPDIR/empty'"
        run_tool 1 berth-net exists second
        run_tool 2 berth-net create
        run_tool 2 berth-net attach
        is "$output" "berth-net: Missing --container ID"
        run_tool 2 berth-net attach --container "$(cid a)" -p 80:90-91
        is "$output" "berth-net: Invalid --publish '80:90-91': the host and container port ranges differ in length"
        run_tool 2 berth-net attach --container "$(cid a)" --mac-address 01:00:00:00:00:01
        run_tool 2 berth-net attach --container "../x"
        run_tool berth-net rm first
        [[ -z $(ls "$BERTH_ROOT/networks" | grep -v -e '^berth.conflist$' -e '^\.lock$') ]] || die "files left"
}

@test "net: attach/detach follow the contract; detach is idempotent and leaves nothing" {
        local id
        id=$(cid a)
        run_tool --stderr berth-net attach --container "$id" --name web --hostname webhost --network-alias www
        is "${#lines[@]}" 1 "one JSON line"
        local j=$output ns=$BERTH_RUNROOT/netns/$id
        is "$(jq -r .netns <<<"$j")" "$ns"
        is "$(jq -r '.networks.berth | .interface, .gateway, (.dns|join(",")), (.aliases|join(","))' <<<"$j" | xargs)" \
                "eth0 10.88.0.1 10.88.0.1 www"
        local ip mac
        ip=$(jq -r '.networks.berth.ips[0]' <<<"$j")
        mac=$(jq -r '.networks.berth.mac' <<<"$j")
        is "$ip" "10.88.0.[0-9]*/16"
        is "$(stat -fc %T "$ns")" nsfs
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$id" ip -o -4 addr show dev eth0
        assert_contains "$output" "$ip"
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$id" ip -o link show dev eth0
        assert_contains "$output" "link/ether $mac "
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$id" ip -o link show lo
        assert_contains "$output" "UP"
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$id" busybox ping -c1 -W2 10.88.0.1
        # no IPv6 on an IPv4-only network (CVE-2024-32473)
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$id" ip -6 -o addr show dev eth0
        is "$output" ""
        is "$(count_leases berth)" 1
        # one masquerading and two forwarding rules for the network while a container is attached
        is "$(iptables-save | grep -c 'berth network berth')" 3
        run_tool berth-net check --container "$id"
        # the CNI cache holds what DEL needs
        is "$(jq -r '.networks.berth | .state, .ifname, .config.name, (.result.ips[0].address)' \
                "$BERTH_RUNROOT/net/containers/$id.json" | xargs)" "attached eth0 berth $ip"
        run_tool berth-net detach --container "$id"
        is "$output" ""
        [[ ! -e $ns ]] || die "netns left: $ns"
        [[ ! -e $BERTH_RUNROOT/net/containers/$id.json ]] || die "state left"
        is "$(count_leases berth)" 0
        is "$(iptables-save | grep -c 'berth network' || true)" 0 "firewall rules after the last detach"
        run_tool berth-net detach --container "$id"
        run_tool berth-net detach --container "$(cid never-attached)"
        # none: a namespace with only loopback
        run_tool berth-net attach --container "$id" --network none
        is "$output" "{\"netns\":\"$ns\",\"networks\":{}}"
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$id" ip -o link
        is "${#lines[@]}" 1
        run_tool berth-net detach --container "$id"
        [[ ! -e $ns ]] || die "netns left: $ns"
}

@test "net: dual stack; static --ip/--ip6/--mac-address; a taken address is refused with the plugin's message" {
        run_tool berth-net create --subnet 10.96.0.0/24 --subnet fd96::/64 ds
        local a b
        a=$(cid a)
        b=$(cid b)
        run_tool berth-net attach --container "$a" --network ds --ip 10.96.0.50 --ip6 fd96::50 \
                --mac-address 02:42:ac:11:00:32
        is "$(jq -r '.networks.ds | (.ips|join(",")), .mac, .gateway, .gateway6' <<<"$output" | xargs)" \
                "10.96.0.50/24,fd96::50/64 02:42:ac:11:00:32 10.96.0.1 fd96::1"
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$a" ip -o -6 addr show dev eth0 scope global
        assert_contains "$output" "fd96::50/64"
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$a" ip -o link show dev eth0
        assert_contains "$output" "link/ether 02:42:ac:11:00:32 "
        run_tool --stderr 1 berth-net attach --container "$b" --network ds --ip 10.96.0.50
        is "${#stderr_lines[@]}" 1
        is "$stderr" "berth-net: CNI plugin 'bridge' failed (ADD on network 'ds'): *10.96.0.50*"
        [[ ! -e $BERTH_RUNROOT/netns/$b ]] || die "netns of the failed attach left"
        run_tool 1 berth-net attach --container "$b" --network ds --ip 10.97.0.5
        is "$output" "berth-net: Address '10.97.0.5' is not in a subnet of network 'ds'"
        run_tool 2 berth-net attach --container "$b" --network ds,berth --ip 10.96.0.51
        run_tool berth-net attach --container "$b" --network ds
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$b" busybox ping -c1 -W2 10.96.0.50
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$b" busybox ping6 -c1 -W2 fd96::50
        run_tool berth-net detach --container "$a"
        run_tool berth-net detach --container "$b"
        is "$(count_leases ds)" 0
        run_tool berth-net rm ds
}

@test "net: a plugin that is missing or fails is reported with its own message; nothing is left" {
        local id
        id=$(cid a)
        mkdir -p "$BATS_TEST_TMPDIR/empty"
        run_tool --stderr 1 berth-net attach --container "$id" --cni-path "$BATS_TEST_TMPDIR/empty"
        is "$stderr" "berth-net: CNI plugin 'bridge' failed (ADD on network 'berth'): plugin 'bridge' not found in '$BATS_TEST_TMPDIR/empty'"
        [[ ! -e $BERTH_RUNROOT/netns/$id ]] || die "netns left"
        # a network whose parent interface disappeared: macvlan's own error
        ip link add dummy-net0 type veth peer name dummy-net1
        run_tool berth-net create -d macvlan -o parent=dummy-net0 --subnet 192.168.77.0/24 mv
        ip link delete dummy-net0
        run_tool --stderr 1 berth-net attach --container "$id" --network mv
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "CNI plugin 'macvlan' failed (ADD on network 'mv'): "
        assert_contains "$stderr" "Link not found"
        [[ ! -e $BERTH_RUNROOT/netns/$id ]] || die "netns left"
        is "$(count_leases mv)" 0
        run_tool berth-net rm mv
}

@test "net: connect and disconnect a running container; rm -f and prune" {
        run_tool berth-net create --subnet 10.97.0.0/24 --disable-dns other
        run_tool berth-net create --subnet 10.98.0.0/24 --label keep=no spare
        local id
        id=$(cid a)
        run_tool berth-net attach --container "$id" --network other
        run_tool berth-net connect --network-alias extra berth "$id"
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$id" ip -o -4 addr show dev eth1
        assert_contains "$output" "10.88.0."
        run_tool 1 berth-net connect berth "$id"
        is "$output" "berth-net: Container ${id:0:12} is already attached to network 'berth'"
        run_tool berth-net disconnect berth "$id"
        run_tool 1 nsenter --net="$BERTH_RUNROOT/netns/$id" ip link show eth1
        [[ -e $BERTH_RUNROOT/netns/$id ]] || die "disconnect removed the netns of a running container"
        run_tool 1 berth-net disconnect berth "$id"
        is "$output" "berth-net: Container ${id:0:12} is not attached to network 'berth'"
        run_tool 1 berth-net connect berth "$(cid not-running)"
        assert_contains "$output" "has no network namespace"
        run_tool berth-net prune
        is "$output" spare
        run_tool berth-net rm -f other
        [[ ! -e $BERTH_RUNROOT/net/containers/$id.json ]] || die "rm -f left the attachment"
        run_tool berth-net detach --container "$id"
        run_tool berth-net ls -q
        is "$output" berth
}

@test "net: published ports (-p, ranges, host IP) reach the container; rules go with detach" {
        local id
        id=$(cid a)
        run_tool berth-net attach --container "$id" -p 18080:80 -p 127.0.0.1:19000-19001:9000-9001/tcp -p 15353:53/udp
        mkdir -p "$BATS_TEST_TMPDIR/www"
        echo "hello from the container" >"$BATS_TEST_TMPDIR/www/index.html"
        nsx "$id" busybox httpd -p 80 -h "$BATS_TEST_TMPDIR/www"
        nsx "$id" busybox httpd -p 9001 -h "$BATS_TEST_TMPDIR/www"
        local i
        for ((i = 0; i < 50; i++)); do
                nsx "$id" busybox wget -q -O /dev/null http://127.0.0.1:9001/ 2>/dev/null && break
                sleep 0.05
        done
        run_tool curl -fsS --max-time 5 http://10.88.0.1:18080/
        is "$output" "hello from the container"
        run_tool curl -fsS --max-time 5 http://127.0.0.1:19001/
        is "$output" "hello from the container"
        # the container's own rules carry its ID
        (($(iptables-save | grep -c "$id") >= 1)) || die "expected DNAT rules for $id"
        local p
        for p in $(pgrep -f "busybox httpd -p [0-9]* -h $BATS_TEST_TMPDIR/www"); do kill "$p"; done
        run_tool berth-net detach --container "$id"
        is "$(iptables-save | grep -c "$id" || true)" 0 "rules of $id after detach"
        run_tool 7 curl -fsS --max-time 2 http://127.0.0.1:19001/
}

# logging_plugins DIR: a CNI directory whose bridge and portmap log "COMMAND CNI_NETNS" to DIR/log and run
# the real plugins
logging_plugins() {
        mkdir -p "$1"
        ln -s /usr/lib/cni/host-local "$1/"
        local p
        for p in bridge portmap; do
                printf '#!/bin/sh\necho "%s $CNI_COMMAND $CNI_NETNS" >>%s/log\nexec /usr/lib/cni/%s\n' \
                        "$p" "$1" "$p" >"$1/$p"
                chmod +x "$1/$p"
        done
}

@test "net: plugins with nothing to do are not run (portmap without -p); DEL and CHECK run what ADD ran" {
        local d=$BATS_TEST_TMPDIR/cni a b
        logging_plugins "$d"
        a=$(cid a)
        b=$(cid b)
        local st=$BERTH_RUNROOT/net/containers
        run_tool berth-net attach --container "$a" --cni-path "$d"
        is "$(cut -d' ' -f1,2 "$d/log" | xargs)" "bridge ADD" "no ports, no portmap"
        is "$(jq -c .networks.berth.added "$st/$a.json")" "[0]"
        run_tool berth-net check --container "$a" --cni-path "$d"
        is "$(cut -d' ' -f1,2 "$d/log" | xargs)" "bridge ADD bridge CHECK"
        run_tool berth-net attach --container "$b" --cni-path "$d" -p 18081:80
        is "$(jq -c .networks.berth.added "$st/$b.json")" "[0,1]"
        (($(iptables-save | grep -c "$b") >= 1)) || die "expected DNAT rules for $b"
        # (no check of b: portmap 1.1.1's CHECK wants an ip6tables chain for an IPv4-only container)
        : >"$d/log"
        run_tool berth-net detach --container "$a" --cni-path "$d"
        is "$(cut -d' ' -f1,2 "$d/log" | xargs)" "bridge DEL"
        : >"$d/log"
        run_tool berth-net detach --container "$b" --cni-path "$d"
        is "$(cut -d' ' -f1,2 "$d/log" | xargs)" "portmap DEL bridge DEL"
        is "$(iptables-save | grep -c "$b" || true)" 0 "rules of $b after detach"
        is "$(count_leases berth)" 0
        # a record without "added" (written by an older berth-net): DEL runs every plugin with work to do
        : >"$d/log"
        run_tool berth-net attach --container "$b" --cni-path "$d" -p 18081:80
        jq 'del(.networks.berth.added)' "$st/$b.json" >"$st/$b.tmp" && mv "$st/$b.tmp" "$st/$b.json"
        run_tool berth-net detach --container "$b" --cni-path "$d"
        is "$(cut -d' ' -f1,2 "$d/log" | xargs)" "bridge ADD portmap ADD portmap DEL bridge DEL"
        is "$(iptables-save | grep -c "$b" || true)" 0 "rules of $b after detach"
        is "$(count_leases berth)" 0
}

@test "net: detach removes a namespace no process is in before DEL; with a process inside, DEL deletes the veth" {
        local d=$BATS_TEST_TMPDIR/cni a ns
        logging_plugins "$d"
        a=$(cid a)
        ns=$BERTH_RUNROOT/netns/$a
        run_tool berth-net attach --container "$a" --cni-path "$d"
        : >"$d/log"
        run_tool berth-net detach --container "$a" --cni-path "$d"
        is "$(xargs <"$d/log")" "bridge DEL" "DEL without CNI_NETNS: the namespace went first"
        [[ ! -e $ns ]] || die "netns left: $ns"
        is "$(count_leases berth)" 0
        ! veths_left || die "the veth outlived its namespace"
        # a process still in the namespace keeps it alive: the plugin must delete the veth, as before
        run_tool berth-net attach --container "$a" --cni-path "$d"
        nsenter --net="$ns" sleep 60 &
        local pid=$! i
        for ((i = 0; i < 50; i++)); do
                [[ $(readlink "/proc/$pid/ns/net") == "$(nsenter --net="$ns" readlink /proc/self/ns/net)" ]] && break
                sleep 0.05
        done
        : >"$d/log"
        run_tool berth-net detach --container "$a" --cni-path "$d"
        is "$(xargs <"$d/log")" "bridge DEL $ns"
        [[ ! -e $ns ]] || die "netns left: $ns"
        run_tool nsenter --net="/proc/$pid/ns/net" ip -o link
        is "${#lines[@]}" 1 "only lo is left in the namespace the process keeps"
        [[ -z $(ip -o link show type veth) ]] || die "veth left: $(ip -o link show type veth)"
        kill "$pid"
        wait "$pid" || true
        is "$(count_leases berth)" 0
}

@test "net: egress is masqueraded per network; --internal networks reach nothing outside" {
        # an "outside" host: a netns behind a veth with no route back to the containers' subnets, so only
        # masqueraded packets get an answer
        ip netns add net-out
        ip link add net-o0 type veth peer name net-o1 netns net-out
        ip addr add 172.31.9.1/24 dev net-o0
        ip link set net-o0 up
        ip -n net-out addr add 172.31.9.2/24 dev net-o1
        ip -n net-out link set net-o1 up
        local a b rc=0
        a=$(cid a)
        b=$(cid b)
        run_tool berth-net create --subnet 10.103.0.0/24 --internal --disable-dns inside
        run_tool berth-net attach --container "$a"
        run_tool berth-net attach --container "$b" --network inside
        nsx "$a" busybox ping -c1 -W2 172.31.9.2 >/dev/null || rc=$?
        nsx "$b" busybox ping -c1 -W1 172.31.9.2 >/dev/null 2>&1 && rc=99
        run_tool berth-net detach --container "$a"
        run_tool berth-net detach --container "$b"
        ip link delete net-o0
        ip netns delete net-out
        ((rc != 99)) || die "the internal network reached the outside"
        ((rc == 0)) || die "no answer from the outside through masquerading"
        run_tool berth-net rm inside
}

@test "net: an attach killed half way leaks no address; detach works from the cache alone (THREATS N2)" {
        # A plugin directory whose bridge kills berth-net (its parent) and then runs the real plugin: the
        # address is reserved and the veth made by a process whose owner is dead.
        local d=$BATS_TEST_TMPDIR/cni
        mkdir -p "$d"
        ln -s /usr/lib/cni/host-local /usr/lib/cni/portmap "$d/"
        cat >"$d/bridge" <<'SH'
#!/bin/sh
[ "$CNI_COMMAND" = ADD ] && kill -KILL "$PPID"
exec /usr/lib/cni/bridge
SH
        chmod +x "$d/bridge"
        local a b c
        a=$(cid a)
        b=$(cid b)
        c=$(cid c)
        run_tool 137 berth-net attach --container "$a" --cni-path "$d"
        for ((i = 0; i < 50; i++)); do
                [[ $(count_leases berth) == 1 ]] && break
                sleep 0.05
        done
        is "$(count_leases berth)" 1 "the dead attach reserved an address"
        is "$(jq -r '.networks.berth.state' "$BERTH_RUNROOT/net/containers/$a.json")" adding
        # the next attach of another container undoes it
        run_tool berth-net attach --container "$b"
        is "$(count_leases berth)" 1 "the dead attach's address is released, b has one"
        [[ ! -e $BERTH_RUNROOT/net/containers/$a.json ]] || die "the dead attach's record is still there"
        run_tool berth-net detach --container "$a"
        [[ ! -e $BERTH_RUNROOT/netns/$a ]] || die "netns of the dead attach left"
        # a supervisor that died after attaching: detach from the cached result alone, network gone meanwhile
        run_tool berth-net create --subnet 10.99.0.0/24 --disable-dns gone
        run_tool berth-net attach --container "$c" --network gone
        rm "$BERTH_ROOT/networks/gone.conflist"
        run_tool berth-net detach --container "$c"
        is "$(count_leases gone)" 0
        run_tool berth-net detach --container "$b"
        is "$(count_leases berth)" 0
}

@test "net: concurrent attaches never share an address; exhaustion is a clear error; release and reuse (N1)" {
        run_tool berth-net create --subnet 10.100.0.0/26 --disable-dns pool
        local i pids=()
        for ((i = 0; i < 50; i++)); do
                berth-net attach --container "$(cid "c$i")" --network pool >"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
                pids+=($!)
        done
        local failed=0
        for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
        is "$failed" 0 "failed attaches (see $BATS_TEST_TMPDIR/out.*)"
        local ips
        ips=$(cat "$BATS_TEST_TMPDIR"/out.* | jq -r '.networks.pool.ips[0]' | sort)
        is "$(wc -l <<<"$ips")" 50
        is "$(sort -u <<<"$ips" | wc -l)" 50 "unique addresses"
        # 61 usable addresses (gateway .1, broadcast .63): 11 more fit, the 12th does not
        for ((i = 50; i < 61; i++)); do
                berth-net attach --container "$(cid "c$i")" --network pool >/dev/null || die "attach $i failed"
        done
        run_tool --stderr 1 berth-net attach --container "$(cid c61)" --network pool
        is "$stderr" "berth-net: CNI plugin 'bridge' failed (ADD on network 'pool'): *no IP addresses available*"
        run_tool berth-net detach --container "$(cid c7)"
        run_tool berth-net attach --container "$(cid c61)" --network pool
        for ((i = 0; i < 62; i++)); do
                berth-net detach --container "$(cid "c$i")" &
                pids+=($!)
        done
        wait
        is "$(count_leases pool)" 0
        is "$(ls "$BERTH_RUNROOT/netns" | wc -l)" 0
        run_tool berth-net rm pool
}
