#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-net DNS: containers on a network resolve each other by name and alias through the network's own
# server (berth-dns-NET.service, started with the first container, stopped with the last); a shared alias
# answers with every container in rotating order; AAAA for IPv6.

load helpers

setup() {
        berth_setup
        requires root systemd
}

teardown() {
        local leaks=()
        ! veths_left || leaks+=("veth: $(ip -o link show type veth | cut -d: -f2)")
        ! iptables-save | grep -q "berth network" || leaks+=("firewall rules of berth networks")
        if ((${#leaks[@]} > 0)); then
                local f
                for f in "$BERTH_RUNROOT"/net/containers/*.json; do
                        [[ -e $f ]] && berth-net detach --container "$(basename "$f" .json)" 2>/dev/null
                done
        fi
        # bridges live as long as their networks, and this test's networks go with its root
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

# lookup ID NAME SERVER [TYPE]: the addresses busybox nslookup prints, one per line, in the server's order
lookup() {
        nsenter --net="$BERTH_RUNROOT/netns/$1" busybox nslookup -type="${4:-a}" "$2" "$3" 2>&1 |
                awk '/^Name:/ { n = 1 } n && /^Address:/ { print $2 }'
}

# dnsq ID ARGS...: tests/dns-query.py in container ID's network namespace
dnsq() {
        local id=$1
        shift
        nsenter --net="$BERTH_RUNROOT/netns/$id" python3 "$BERTH_TESTS_DIR/dns-query.py" "$@" 2>&1 || true
}

unit_state() {
        systemctl --user show -P ActiveState "berth-dns-$1.service"
}

@test "dns: two containers resolve each other by name, host name, alias and short ID; the unit follows them" {
        local a b
        a=$(cid a)
        b=$(cid b)
        is "$(unit_state berth)" inactive
        run_tool berth-net attach --container "$a" --name alpha --network-alias api
        local ipa
        ipa=$(jq -r '.networks.berth.ips[0]' <<<"$output")
        ipa=${ipa%/*}
        is "$(unit_state berth)" active "DNS unit after the first attach"
        run_tool berth-net attach --container "$b" --name beta --hostname beta-host
        local ipb
        ipb=$(jq -r '.networks.berth.ips[0]' <<<"$output")
        ipb=${ipb%/*}
        is "$(lookup "$a" beta 10.88.0.1)" "$ipb"
        is "$(lookup "$a" beta-host 10.88.0.1)" "$ipb"
        is "$(lookup "$a" BETA.dns.berth 10.88.0.1)" "$ipb"
        is "$(lookup "$b" alpha 10.88.0.1)" "$ipa"
        is "$(lookup "$b" api 10.88.0.1)" "$ipa"
        is "$(lookup "$b" "${a:0:12}" 10.88.0.1)" "$ipa"
        run_tool 1 nsenter --net="$BERTH_RUNROOT/netns/$b" busybox nslookup nosuchname 10.88.0.1
        assert_contains "$output" "NXDOMAIN"
        # no AAAA for an IPv4-only container: an empty answer, not an error
        is "$(lookup "$b" alpha 10.88.0.1 aaaa)" ""
        run_tool berth-net detach --container "$a"
        run_tool 1 nsenter --net="$BERTH_RUNROOT/netns/$b" busybox nslookup alpha 10.88.0.1
        is "$(unit_state berth)" active "DNS unit while one container is left"
        run_tool berth-net detach --container "$b"
        is "$(unit_state berth)" inactive "DNS unit after the last detach"
        [[ ! -e $BERTH_RUNROOT/net/dns/berth.hosts ]] || die "records left"
}

@test "dns: a shared alias answers with every container, in rotating order" {
        local i ids=() ips=()
        for i in 1 2 3; do
                ids+=("$(cid "c$i")")
                run_tool berth-net attach --container "${ids[-1]}" --name "web$i" --network-alias svc
                ips+=("$(jq -r '.networks.berth.ips[0] | split("/")[0]' <<<"$output")")
        done
        local all
        all=$(lookup "${ids[0]}" svc 10.88.0.1 | sort | xargs)
        is "$all" "$(printf '%s\n' "${ips[@]}" | sort | xargs)" "all three answer"
        local firsts=()
        for i in 1 2 3; do
                firsts+=("$(lookup "${ids[0]}" svc 10.88.0.1 | head -n1)")
        done
        is "$(printf '%s\n' "${firsts[@]}" | sort -u | wc -l)" 3 "each query starts with another container (${firsts[*]})"
        for i in "${ids[@]}"; do
                run_tool berth-net detach --container "$i"
        done
}

@test "dns: AAAA for IPv6 addresses on a dual-stack network; connect and disconnect update the records" {
        run_tool berth-net create --subnet 10.101.0.0/24 --subnet fd01:101::/64 ds
        local a b
        a=$(cid a)
        b=$(cid b)
        run_tool berth-net attach --container "$a" --network ds --name six --ip6 fd01:101::66
        run_tool berth-net attach --container "$b" --network ds --name other
        is "$(lookup "$b" six 10.101.0.1 aaaa)" "fd01:101::66"
        is "$(lookup "$b" six fd01:101::1 aaaa)" "fd01:101::66" "over IPv6"
        local ip4
        ip4=$(lookup "$b" six 10.101.0.1 a)
        [[ $ip4 == 10.101.0.* ]] || die "six has no IPv4 address: '$ip4'"
        # reverse lookups: PTR for the network's own addresses, NXDOMAIN for a free one
        is "$(dnsq "$b" --ptr 10.101.0.1 "$ip4")" "rcode=0 tc=0 answers=1 first=six.dns.berth"
        is "$(dnsq "$b" --ptr --tcp fd01:101::1 fd01:101::66)" "rcode=0 tc=0 answers=1 first=six.dns.berth"
        is "$(dnsq "$b" --ptr 10.101.0.1 10.101.0.200)" "rcode=3 tc=0 answers=0 first=-"
        # a container connected later is found under its alias on the new network only
        run_tool berth-net connect --network-alias late berth "$b"
        run_tool berth-net attach --container "$(cid c)" --name third
        is "$(lookup "$(cid c)" late 10.88.0.1)" "10.88.*"
        run_tool berth-net disconnect berth "$b"
        is "$(lookup "$(cid c)" late 10.88.0.1)" ""
        run_tool berth-net detach --container "$(cid c)"
        run_tool berth-net detach --container "$a"
        run_tool berth-net detach --container "$b"
        run_tool berth-net rm ds
}

@test "dns: --disable-dns starts no server and hands out no DNS address" {
        run_tool berth-net create --subnet 10.102.0.0/24 --disable-dns quiet
        run_tool berth-net attach --container "$(cid a)" --network quiet --name q
        is "$(jq -c '.networks.quiet.dns' <<<"$output")" "[]"
        is "$(unit_state quiet)" inactive
        [[ ! -e $BERTH_RUNROOT/net/dns/quiet.hosts ]] || die "records written"
        run_tool berth-net detach --container "$(cid a)"
        run_tool berth-net rm quiet
}

@test "dns: other names are forwarded to the host's resolvers" {
        requires cmd:dnsmasq
        # an upstream resolver on loopback, and a resolv.conf naming it (the world's mount namespace is private)
        local conf=$BATS_TEST_TMPDIR/resolv.conf pid
        echo "nameserver 127.0.0.53" >"$conf"
        dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.53 --bind-interfaces \
                --port=53 --address=/upstream.test/192.0.2.7 --pid-file= 2>"$BATS_TEST_TMPDIR/dnsmasq.log" &
        pid=$!
        local i
        for ((i = 0; i < 100; i++)); do
                busybox nslookup upstream.test 127.0.0.53 >/dev/null 2>&1 && break
                sleep 0.02
        done
        mount --bind "$conf" /etc/resolv.conf
        local a rc=0 out='' out2=''
        a=$(cid a)
        run_tool berth-net attach --container "$a" --name fwd || rc=$?
        ((rc == 0)) && out=$(lookup "$a" upstream.test 10.88.0.1) && out2=$(lookup "$a" fwd 10.88.0.1)
        run_tool berth-net detach --container "$a"
        umount /etc/resolv.conf
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        ((rc == 0)) || die "attach failed"
        is "$out" 192.0.2.7 "forwarded answer"
        is "$out2" "10.88.*" "own names still answered"
}

# fake_upstream MODE ARGS...: tests/dns-fake-upstream.py on 127.0.0.54, named by a resolv.conf bound over the
# world's own (its mount namespace is private); sets FAKE_PID
fake_upstream() {
        local conf=$BATS_TEST_TMPDIR/resolv.conf i
        echo "nameserver 127.0.0.54" >"$conf"
        python3 "$BERTH_TESTS_DIR/dns-fake-upstream.py" "$@" >"$BATS_TEST_TMPDIR/upstream.log" 2>&1 &
        FAKE_PID=$!
        for ((i = 0; i < 200; i++)); do
                grep -q ready "$BATS_TEST_TMPDIR/upstream.log" && break
                sleep 0.02
        done
        mount --bind "$conf" /etc/resolv.conf
}

fake_upstream_stop() {
        umount /etc/resolv.conf
        kill "$FAKE_PID"
        wait "$FAKE_PID" 2>/dev/null || true
}

@test "dns: a forwarded answer counts only from the upstream asked, for the question asked; query IDs are random" {
        requires cmd:python3
        fake_upstream forge 127.0.0.54 127.0.0.55
        local a out=() rc=0 n
        a=$(cid a)
        run_tool berth-net attach --container "$a" --name fwd || rc=$?
        if ((rc == 0)); then
                for n in one two three; do
                        out+=("$(lookup "$a" "$n.upstream.test" 10.88.0.1)")
                done
        fi
        run_tool berth-net detach --container "$a"
        fake_upstream_stop
        ((rc == 0)) || die "attach failed"
        # the forged answer (192.0.2.66, right ID, wrong sender) and the one for another question (192.0.2.67)
        # come first; only the true one may reach the container
        is "${out[*]}" "192.0.2.7 192.0.2.7 192.0.2.7"
        local ids
        mapfile -t ids < <(awk '$1 == "id" { print $2 }' "$BATS_TEST_TMPDIR/upstream.log")
        ((${#ids[@]} == 3)) || die "expected 3 forwarded queries, got: ${ids[*]}"
        ((ids[1] != ids[0] + 1 || ids[2] != ids[1] + 1)) || die "sequential query IDs: ${ids[*]}"
}

@test "dns: an upstream that stays silent gets the client a SERVFAIL, not a timeout" {
        requires cmd:python3
        fake_upstream silent 127.0.0.54
        local a rc=0 out=''
        a=$(cid a)
        run_tool berth-net attach --container "$a" --name fwd || rc=$?
        # a raw query: busybox nslookup (musl's resolver) takes a SERVFAIL as a reason to ask again
        ((rc == 0)) && out=$(dnsq "$a" 10.88.0.1 silent.test)
        run_tool berth-net detach --container "$a"
        fake_upstream_stop
        ((rc == 0)) || die "attach failed"
        is "$out" "rcode=2 tc=0 answers=0 first=-"
}

@test "dns: the client's EDNS size goes upstream; over TCP, large answers and our own names (musl's fallback)" {
        requires cmd:python3
        fake_upstream big 127.0.0.54
        local a rc=0 edns='' udp='' tcp='' own='' two=''
        a=$(cid a)
        run_tool berth-net attach --container "$a" --name fwd || rc=$?
        if ((rc == 0)); then
                edns=$(dnsq "$a" --edns 1232 10.88.0.1 big.test)
                udp=$(dnsq "$a" 10.88.0.1 big.test)
                tcp=$(dnsq "$a" --tcp 10.88.0.1 big.test)
                own=$(dnsq "$a" --tcp 10.88.0.1 fwd)
                two=$(dnsq "$a" --tcp --repeat 2 10.88.0.1 fwd.dns.berth)
        fi
        run_tool berth-net detach --container "$a"
        fake_upstream_stop
        ((rc == 0)) || die "attach failed"
        is "$edns" "rcode=0 tc=0 answers=40 first=192.0.2.1" "40 records over UDP with the client's EDNS size"
        is "$udp" "rcode=0 tc=1 answers=0 first=-" "without EDNS the upstream truncates, as a real one does"
        is "$tcp" "rcode=0 tc=0 answers=40 first=192.0.2.1" "the TCP fallback gets them all"
        is "$own" "rcode=0 tc=0 answers=1 first=10.88.0.2"
        is "$two" "rcode=0 tc=0 answers=1 first=10.88.0.2
rcode=0 tc=0 answers=1 first=10.88.0.2" "two queries on one connection"
        grep -q '^tcp id' "$BATS_TEST_TMPDIR/upstream.log" || die "the upstream got no TCP query"
}

@test "dns: a network's server answers only its own containers" {
        run_tool berth-net create --subnet 10.104.0.0/24 other
        local a b
        a=$(cid a)
        b=$(cid b)
        run_tool berth-net attach --container "$a" --name secret
        run_tool berth-net attach --container "$b" --network other --name outsider
        # b can route to berth's gateway (the host forwards), but berth's server refuses it
        run_tool 1 nsenter --net="$BERTH_RUNROOT/netns/$b" busybox nslookup secret 10.88.0.1
        assert_contains "$output" "REFUSED"
        is "$(dnsq "$b" --tcp 10.88.0.1 secret)" "rcode=5 tc=0 answers=0 first=-" "refused over TCP too"
        is "$(lookup "$b" outsider 10.104.0.1)" "10.104.0.*"
        run_tool berth-net detach --container "$a"
        run_tool berth-net detach --container "$b"
        run_tool berth-net rm other
}

@test "dns: real containers (berth run) find each other by alias; nothing is left after rm" {
        requires registry
        local img
        img=$(fixture_ref busybox:latest)
        run_tool berth-pull -q "$img"
        run_tool berth run -d --name web --network berth --network-alias www "$img" sleep 60
        run_tool berth run --rm --name client --network berth "$img" nslookup www
        assert_contains "$output" "Name:	www"
        assert_contains "$output" "Address: 10.88."
        run_tool berth rm -f web
        is "$(ls "$BERTH_RUNROOT/netns" 2>/dev/null)" "" "netns after rm"
        is "$(ls "$BERTH_RUNROOT/net/containers" 2>/dev/null)" "" "attachments after rm"
        is "$(unit_state berth)" inactive "DNS unit after rm"
}
