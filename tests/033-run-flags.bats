#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-run flags: terminal, seccomp, capabilities, mounts and volumes, limits, namespaces, init, networks.

load helpers

setup() {
        berth_setup
        requires uid0 systemd registry cmd:runc
        IMG=$(fixture_ref busybox:latest)
}
teardown() { berth_teardown; }

@test "-t: a real terminal through the runtime's console socket, under script(1)" {
        requires cmd:script
        run_tool script -qec "berth-run run --rm -t $IMG sh -c 'test -t 0 && test -t 1 && echo tty-ok; echo \$TERM'" /dev/null
        assert_contains "$output" "tty-ok"
        assert_contains "$output" "xterm"
        run_tool 4 script -qec "printf 'echo typed-\$((6*7))\nexit 4\n' | berth-run run --rm -i -t $IMG sh" /dev/null
        assert_contains "$output" "typed-42"
        run_tool berth-run run --rm "$IMG" sh -c 'test -t 1 || echo no-tty'
        is "$output" "no-tty"
        run_tool berth-run run -d --name tt "$IMG" sleep 1000
        run_tool script -qec "berth-run exec -t tt sh -c 'test -t 1 && echo exec-tty'" /dev/null
        assert_contains "$output" "exec-tty"
        run_tool berth-run rm -f tt
}

@test "seccomp: docker's default filter, unconfined, and a profile from a file" {
        run_tool berth-run run --rm "$IMG" grep Seccomp: /proc/self/status
        is "$output" "Seccomp:	2"
        run_tool berth-run run --rm --security-opt seccomp=unconfined "$IMG" grep Seccomp: /proc/self/status
        is "$output" "Seccomp:	0"
        cat >"$BATS_TEST_TMPDIR/deny-mkdir.json" <<-'EOF2'
	{"defaultAction": "SCMP_ACT_ALLOW",
	 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
	EOF2
        run_tool 1 berth-run run --rm --security-opt "seccomp=$BATS_TEST_TMPDIR/deny-mkdir.json" "$IMG" mkdir /x
        assert_contains "$output" "Operation not permitted"
        run_tool berth-run run --rm "$IMG" mkdir /x
        run_tool berth-run create --name sc "$IMG" true
        local cfg=$BERTH_ROOT/containers/$output/config.json
        is "$(jq -r '.linux.seccomp.defaultAction' "$cfg")" "SCMP_ACT_ERRNO"
        is "$(jq -r '[.linux.seccomp.syscalls[0].names[]] | (index("read") != null) and (index("mount") == null)' "$cfg")" "true"
        run_tool berth-run rm sc
        run_tool berth-run create --name sc2 --cap-add SYS_ADMIN "$IMG" true
        cfg=$BERTH_ROOT/containers/$output/config.json
        is "$(jq -r '[.linux.seccomp.syscalls[0].names[]] | index("mount") != null' "$cfg")" "true" "CAP_SYS_ADMIN allows mount"
        run_tool berth-run rm sc2
        run_tool 125 berth-run run --rm --security-opt seccomp=/no/such.json "$IMG" true
        assert_contains "$output" "seccomp profile '/no/such.json'"
}

@test "seccomp: the default filter covers the native architecture; a docker profile's archMap adds the compat ones" {
        [[ $(uname -m) == x86_64 ]] || skip "x86_64 only: the test calls the i386 system call entry"
        requires cmd:gcc
        run_tool berth-run create --name arch "$IMG" true
        is "$(jq -c '.linux.seccomp.architectures' "$BERTH_ROOT/containers/$output/config.json")" '["SCMP_ARCH_X86_64"]'
        run_tool berth-run rm arch
        # getpid through int $0x80 (the i386 entry): the filter has no i386 part, so the kernel's seccomp kills it
        printf '%s\n' '#include <stdio.h>' \
                'int main(void) { long r; __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L)); printf("pid %ld\n", r); return 0; }' \
                >"$BATS_TEST_TMPDIR/i386.c"
        gcc -static -O2 -o "$BATS_TEST_TMPDIR/i386" "$BATS_TEST_TMPDIR/i386.c"
        run_tool 159 berth-run run --rm -v "$BATS_TEST_TMPDIR/i386:/i386:ro" "$IMG" /i386
        cat >"$BATS_TEST_TMPDIR/archmap.json" <<-'EOF2'
	{"defaultAction": "SCMP_ACT_ALLOW",
	 "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
	             {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
	 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
	EOF2
        run_tool berth-run run --rm --security-opt "seccomp=$BATS_TEST_TMPDIR/archmap.json" \
                -v "$BATS_TEST_TMPDIR/i386:/i386:ro" "$IMG" /i386
        assert_contains "$output" "pid 1"
}

@test "capabilities: --cap-add/--cap-drop (ALL, with or without CAP_), --privileged, no-new-privileges" {
        run_tool berth-run run --rm --cap-drop ALL --cap-add net_admin "$IMG" grep CapBnd /proc/self/status
        is "$output" "CapBnd:	0000000000001000"
        run_tool berth-run run --rm "$IMG" grep CapBnd /proc/self/status
        is "$output" "CapBnd:	00000000a80425fb" "docker's default set"
        run_tool berth-run run --rm --cap-drop chown --cap-drop CAP_NET_RAW "$IMG" grep CapBnd /proc/self/status
        is "$output" "CapBnd:	00000000a80405fa"
        run_tool berth-run run --rm --privileged "$IMG" sh -c 'grep CapBnd /proc/self/status; grep Seccomp: /proc/self/status'
        is "${lines[0]}" "$(grep CapBnd /proc/self/status)" "--privileged: every capability berth-run holds"
        is "${lines[1]}" "Seccomp:	0"
        run_tool berth-run run --rm --security-opt no-new-privileges "$IMG" grep NoNewPrivs /proc/self/status
        is "$output" "NoNewPrivs:	1"
        run_tool 125 berth-run run --rm --cap-drop bogus "$IMG" true
        assert_contains "$output" "unknown capability 'bogus'"
}

@test "mounts: -v bind (ro), --tmpfs, --read-only, named volumes and the volume verbs" {
        mkdir "$BATS_TEST_TMPDIR/src"
        echo host-file >"$BATS_TEST_TMPDIR/src/f"
        run_tool berth-run run --rm -v "$BATS_TEST_TMPDIR/src:/data:ro" --tmpfs /scratch:size=1m "$IMG" \
                sh -c 'cat /data/f; touch /data/x 2>/dev/null || echo ro; grep " /scratch " /proc/mounts | cut -d" " -f3'
        is "$output" "host-file
ro
tmpfs"
        run_tool 1 berth-run run --rm --read-only "$IMG" touch /etc/x
        run_tool berth-run run --rm -v vol1:/v "$IMG" sh -c 'echo kept >/v/f'
        run_tool berth-run run --rm -v vol1:/v "$IMG" cat /v/f
        is "$output" "kept"
        run_tool berth-run volume ls -q
        is "$output" "vol1"
        run_tool berth-run volume inspect vol1
        is "$(jq -r '.[0].Name' <<<"$output")" "vol1"
        run_tool berth-run volume create vol2
        run_tool berth-run create --name user-of-vol2 -v vol2:/x "$IMG" true
        run_tool 1 berth-run volume rm vol2
        is "$output" "berth-run: Volume 'vol2' is used by a container"
        run_tool berth-run volume prune
        is "$output" "vol1"
        run_tool berth-run rm user-of-vol2
        run_tool berth-run volume rm vol2
        run_tool berth-run volume ls -q
        is "$output" ""
}

@test "limits: --memory --cpus --cpu-shares --pids-limit reach the runtime and the scope; --ulimit" {
        run_tool berth-run run -d --name lim --memory 64m --cpus 0.5 --cpu-shares 512 --pids-limit 50 "$IMG" sleep 1000
        run_tool systemctl --user show -P MemoryMax berth-lim.scope
        is "$output" "67108864"
        run_tool systemctl --user show -P CPUQuotaPerSecUSec berth-lim.scope
        is "$output" "500ms"
        run_tool systemctl --user show -P TasksMax berth-lim.scope
        is "$output" "50"
        run_tool systemctl --user show -P CPUWeight berth-lim.scope
        is "$output" "[0-9]+"
        local pid
        pid=$(record lim .State.Pid)
        local memcg
        memcg=$(sed -n 's/^[0-9]*:memory://p' "/proc/$pid/cgroup")
        is "$(cat "/sys/fs/cgroup/memory$memcg/memory.limit_in_bytes")" "67108864"
        run_tool berth-run rm -f lim
        run_tool berth-run run --rm --ulimit nofile=100:200 "$IMG" sh -c 'ulimit -n; ulimit -Hn'
        is "$output" "100
200"
        run_tool 125 berth-run run --rm --ulimit nofile=200:100 "$IMG" true
        assert_contains "$output" "invalid --ulimit"
}

@test "namespaces: --pid host, --pid/--ipc container:NAME, --network host; labels; --init runs catatonit as PID 1" {
        run_tool berth-run run --rm "$IMG" sh -c 'echo $$'
        is "$output" "1"
        run_tool berth-run run --rm --pid host "$IMG" sh -c 'echo $$'
        [[ $output != 1 ]] || die "--pid host still got PID 1"
        run_tool berth-run run --rm --network host "$IMG" sh -c 'ip link | grep -c "^[0-9]"'
        [[ $output -ge 1 ]]
        run_tool berth-run run --rm "$IMG" sh -c 'ip link | grep -c "^[0-9]"'
        is "$output" "1" "a new netns has only lo"
        run_tool berth-run run -d --name nsowner "$IMG" sh -c 'echo shared >/dev/shm/x 2>/dev/null; sleep 1000'
        run_tool berth-run run --rm --pid container:nsowner --ipc container:nsowner "$IMG" sh -c 'ps -o comm | grep -c sleep'
        is "$output" "1" "the other container's processes are visible"
        run_tool berth-run rm -f nsowner
        run_tool 125 berth-run run --rm --pid container:nsowner "$IMG" true
        assert_contains "$output" "No such container 'nsowner'"
        run_tool berth-run run --name lab --label app=web --label tier=front "$IMG" true
        is "$(record lab '.Config.Labels.app + "," + .Config.Labels.tier')" "web,front"
        run_tool berth-run rm lab
        requires cmd:catatonit
        run_tool berth-run run --rm --init "$IMG" sh -c 'cat /proc/1/cmdline | tr "\0" " "'
        assert_contains "$output" "/run/berth-init"
        # the listing shows the command, not the init; Config.Cmd is what follows the entrypoint
        run_tool berth-run create --name ini --init --entrypoint /bin/sleep "$IMG" 5
        run_tool berth-ps -a --filter name=ini --format '{{.Command}}'
        is "$output" "/bin/sleep 5"
        is "$(record ini '.Config.Cmd | join(" ")')" "5"
        run_tool berth-run rm ini
}

@test "--dns, --dns-search, --dns-option, --add-host shape resolv.conf and hosts; bad values are refused" {
        run_tool berth-run run --rm --dns 192.0.2.53 --dns 2001:db8::53 --dns-search example.test \
                --dns-search corp.test --dns-option ndots:2 --add-host db:192.0.2.10 --add-host v6:2001:db8::1 \
                "$IMG" sh -c 'cat /etc/resolv.conf; grep -E "[[:space:]](db|v6)\$" /etc/hosts'
        is "$output" "nameserver 192.0.2.53
nameserver 2001:db8::53
search example.test corp.test
options ndots:2
192.0.2.10	db
2001:db8::1	v6"
        run_tool 1 berth-run run --rm --dns-search . "$IMG" grep -c '^search' /etc/resolv.conf
        is "$output" "0"
        run_tool berth-run create --name dnsrec --dns 192.0.2.53 --add-host db:192.0.2.10 "$IMG" true
        is "$(record dnsrec '.HostConfig.Dns[0] + " " + .HostConfig.ExtraHosts[0]')" "192.0.2.53 db:192.0.2.10"
        run_tool berth-run rm dnsrec
        run_tool 125 berth-run run --rm --dns 300.1.1.1 "$IMG" true
        assert_contains "$output" "Invalid --dns '300.1.1.1'"
        run_tool 125 berth-run run --rm --add-host nohost "$IMG" true
        assert_contains "$output" "Invalid --add-host 'nohost'"
        run_tool 125 berth-run run --rm --mac-address 01:00:5e:00:00:01 "$IMG" true
        assert_contains "$output" "Invalid --mac-address '01:00:5e:00:00:01'"
        run_tool 125 berth-run run --rm --dns-option 'a b' "$IMG" true
        assert_contains "$output" "Invalid --dns-option 'a b'"
}

@test "--network NAME: berth-net attaches and detaches, names resolve" {
        requires cmd:berth-net
        run_tool berth-net create rnet
        run_tool berth-run run -d --name peer --network rnet --network-alias web "$IMG" sleep 1000
        run_tool berth-run run --rm --network rnet "$IMG" sh -c 'ping -c1 -W2 peer >/dev/null && ping -c1 -W2 web >/dev/null && echo reached'
        is "$output" "reached"
        is "$(record peer '.NetworkSettings.Networks.rnet.ips[0]')" "[0-9.]+/[0-9]+"
        run_tool berth-run rm -f peer
        [[ ! -e $BERTH_RUNROOT/netns/$(ls "$BERTH_ROOT/containers" | head -1) ]] || true
        # the network's DNS server and a static MAC; the search domain given stays next to it
        run_tool berth-run run --rm --network rnet --mac-address 02:42:0a:59:00:99 --dns-search lab.test "$IMG" \
                sh -c 'cat /sys/class/net/eth0/address; grep -c "^nameserver" /etc/resolv.conf; grep "^search" /etc/resolv.conf'
        is "$output" "02:42:0a:59:00:99
1
search lab.test"
        run_tool berth-net rm rnet
}

@test "-p without --network joins the default network (docker's bridge); with none it is refused" {
        requires cmd:berth-net cmd:curl
        mkdir -p "$BATS_TEST_TMPDIR/www"
        echo "published" >"$BATS_TEST_TMPDIR/www/index.html"
        run_tool berth-run run -d --name pub -p 127.0.0.1:18085:80 -v "$BATS_TEST_TMPDIR/www:/www:ro" "$IMG" \
                httpd -f -p 80 -h /www
        is "$(record pub .HostConfig.NetworkMode)" "bridge"
        wait_http http://127.0.0.1:18085/
        run_tool curl -fsS --max-time 5 http://127.0.0.1:18085/
        is "$output" "published"
        run_tool berth-ps --filter name=pub --format '{{.Ports}}'
        is "$output" "127.0.0.1:18085->80/tcp"
        run_tool berth-run rm -f pub
        run_tool 125 berth-run run --rm --network none -p 18086:80 "$IMG" true
        is "$output" "berth-run: -p needs a network: --network none has none"
        run_tool_split berth-run run --rm --network host -p 18086:80 "$IMG" echo ok
        is "$output" "ok"
        is "$stderr" "berth-run: Published ports are discarded with --network host"
}

@test "-d -t: the terminal's output goes to the journal; logs --since" {
        run_tool berth-run run -d -t --name dt "$IMG" sh -c 'test -t 1 && echo tty-in-journal; sleep 1000'
        for _ in $(seq 100); do
                [[ $(berth-run logs dt) == *tty-in-journal* ]] && break
                sleep 0.05
        done
        run_tool berth-run logs dt
        is "$output" "tty-in-journal"
        run_tool berth-run logs --since 1h dt
        is "$output" "tty-in-journal"
        run_tool berth-run logs --since 2099-01-01T00:00:00Z dt
        is "$output" ""
        run_tool berth-run rm -f dt
}
