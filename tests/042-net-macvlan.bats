#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-net macvlan, ipvlan and vlan networks on a parent interface in the world's network namespace. The
# parent is one end of a veth pair (a dummy would do, but not every kernel has CONFIG_DUMMY). Link types the
# kernel lacks are skipped with the precise reason.

load helpers

setup() {
        berth_setup
        requires root
        ip link add net-p0 type veth peer name net-p1
        ip link set net-p0 up
        ip link set net-p1 up
}

teardown() {
        ip link delete net-p0 2>/dev/null || true
        berth_teardown
}

cid() {
        printf '%s-%s' "$BATS_TEST_NUMBER" "$1" | sha256sum | cut -c1-64
}

# requires_link_type TYPE [ARGS...]: skip, naming the kernel's answer, when it cannot make such a link here.
requires_link_type() {
        local err
        if err=$(ip link add net-probe link net-p0 type "$@" 2>&1); then
                ip link delete net-probe
                return 0
        fi
        skip "requires kernel support for $1 links (ip link add type $*: $err)"
}

@test "macvlan: IPv4 only, no IPv6 address at all on the interface (N3, CVE-2024-32473); containers reach each other" {
        run_tool berth-net create -d macvlan -o parent=net-p0 --subnet 192.168.60.0/24 lan
        run_tool berth-net inspect --format '{{.driver}} {{.network_interface}} {{.dns_enabled}}' lan
        is "$output" "macvlan net-p0 false"
        is "$(jq -c '.plugins[0] | [.type, .master, .ipam.type]' "$BERTH_ROOT/networks/lan.conflist")" \
                '["macvlan","net-p0","host-local"]'
        local a b
        a=$(cid a)
        b=$(cid b)
        run_tool berth-net attach --container "$a" --network lan --ip 192.168.60.10
        is "$(jq -r '.networks.lan.ips[0]' <<<"$output")" 192.168.60.10/24
        run_tool berth-net attach --container "$b" --network lan
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$a" ip -d -o link show eth0
        assert_contains "$output" "macvlan mode bridge"
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$a" ip -6 -o addr show dev eth0
        is "$output" "" "IPv6 addresses on an IPv4-only macvlan"
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$a" cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6
        is "$output" 1
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$a" ip -4 route show default
        assert_contains "$output" "default via 192.168.60.1 dev eth0"
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$b" busybox ping -c1 -W2 192.168.60.10
        run_tool berth-net detach --container "$a"
        run_tool berth-net detach --container "$b"
        run_tool berth-net rm lan
        ip -d link show net-p0 >/dev/null || die "the parent was removed"
}

@test "macvlan: dual stack in private mode with a static IPv6 address; --internal has no default route" {
        run_tool berth-net create -d macvlan -o parent=net-p0 -o mode=private --subnet 192.168.61.0/24 \
                --subnet fd61::/64 --internal lan6
        local a
        a=$(cid a)
        run_tool berth-net attach --container "$a" --network lan6 --ip6 fd61::61
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$a" ip -d -o link show eth0
        assert_contains "$output" "macvlan mode private"
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$a" ip -6 -o addr show dev eth0 scope global
        assert_contains "$output" "fd61::61/64"
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$a" ip route show default
        is "$output" ""
        run_tool berth-net detach --container "$a"
        run_tool berth-net rm lan6
}

@test "macvlan: parent and subnet are required and checked; bad modes and options are refused" {
        run_tool 1 berth-net create -d macvlan --subnet 192.168.62.0/24 x
        is "$output" "berth-net: The macvlan driver needs a parent interface (--opt parent=IFACE)"
        run_tool 1 berth-net create -d macvlan -o parent=no-such-if --subnet 192.168.62.0/24 x
        is "$output" "berth-net: Parent interface 'no-such-if' does not exist"
        run_tool 1 berth-net create -d macvlan -o parent=net-p0 x
        is "$output" "berth-net: The macvlan driver needs --subnet"
        run_tool 1 berth-net create -d macvlan -o parent=net-p0 -o mode=l3 --subnet 192.168.62.0/24 x
        is "$output" "berth-net: Invalid macvlan mode 'l3'"
        run_tool 1 berth-net create -d ipvlan -o parent=net-p0 -o mode=bridge --subnet 192.168.62.0/24 x
        is "$output" "berth-net: Invalid ipvlan mode 'bridge'"
        run_tool 1 berth-net create -d vlan -o parent=net-p0 --subnet 192.168.62.0/24 x
        is "$output" "berth-net: The vlan driver needs --opt vlan=ID"
        run_tool 1 berth-net create -d vlan -o parent=net-p0 -o vlan=4095 --subnet 192.168.62.0/24 x
        is "$output" "berth-net: Invalid option vlan='4095'"
        run_tool 1 berth-net exists x
}

@test "ipvlan: l2 mode on the parent" {
        requires_link_type ipvlan mode l2
        run_tool berth-net create -d ipvlan -o parent=net-p0 -o mode=l2 --subnet 192.168.63.0/24 iv
        local a
        a=$(cid a)
        run_tool berth-net attach --container "$a" --network iv
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$a" ip -d -o link show eth0
        assert_contains "$output" "ipvlan"
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$a" ip -6 -o addr show dev eth0
        is "$output" ""
        run_tool berth-net detach --container "$a"
        run_tool berth-net rm iv
}

@test "vlan: a tagged interface on the parent" {
        requires_link_type vlan id 100
        run_tool berth-net create -d vlan -o parent=net-p0 -o vlan=100 --subnet 192.168.64.0/24 vl
        local a
        a=$(cid a)
        run_tool berth-net attach --container "$a" --network vl
        run_tool nsenter --net="$BERTH_RUNROOT/netns/$a" ip -d -o link show eth0
        assert_contains "$output" "vlan protocol 802.1Q id 100"
        run_tool berth-net detach --container "$a"
        run_tool berth-net rm vl
}
