#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-run update: new resource limits (podman's flags) for running and stopped containers, read back from
# the container's own cgroup files and from the scope's unit properties; the restart policy at the next exit;
# bad values change nothing.

load helpers

setup() {
        berth_setup
        requires uid0 systemd registry cmd:runc
        IMG=$(fixture_ref busybox:latest)
}
teardown() { berth_teardown; }

# memory limit, CFS quota, pids.max, cpuset.cpus of the container's own cgroup, read from inside (cgroup v1
# on a hybrid host; the v2 names otherwise)
cg_limits='if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        echo "$(cat /sys/fs/cgroup/memory.max) $(cut -d" " -f1 /sys/fs/cgroup/cpu.max) $(cat /sys/fs/cgroup/pids.max) $(cat /sys/fs/cgroup/cpuset.cpus)"
else
        echo "$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes) $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/pids/pids.max) $(cat /sys/fs/cgroup/cpuset/cpuset.cpus)"
fi'

scope_limits() {
        systemctl --user show "berth-$1.scope" -p MemoryMax -p CPUQuotaPerSecUSec -p TasksMax -p AllowedCPUs |
                sort | tr '\n' ' '
}

# the same files of a container as they are now: record and config.json
files_sum() {
        local id
        id=$(record "$1" .Id)
        cat "$BERTH_ROOT/containers/$id/container.json" "$BERTH_ROOT/containers/$id/config.json" | sha256sum
}

# wait up to 20 s for a jq filter of the record to print the value
wait_record() {
        local i
        for i in $(seq 200); do
                [[ $(record "$1" "$2") == "$3" ]] && return 0
                sleep 0.1
        done
        die "$1: $2 is $(record "$1" "$2"), not $3"
}

@test "update of a running container: memory, cpus, pids-limit, cpuset, live in its cgroup and on its scope" {
        run_tool berth-run run -d --name up --memory 64m --cpus 1 --pids-limit 50 --cpuset-cpus 0 "$IMG" \
                sleep 1000
        local id=$output
        run_tool berth-run update --memory 96m --cpus 0.5 --pids-limit 70 --cpuset-cpus 0-1 up
        is "$output" "$id" "the ID, as podman prints it"
        run_tool berth-run exec up sh -c "$cg_limits"
        is "$output" "100663296 50000 70 0-1"
        is "$(scope_limits up)" "AllowedCPUs=0-1 CPUQuotaPerSecUSec=500ms MemoryMax=100663296 TasksMax=70 "
        is "$(record up '"\(.HostConfig.Memory) \(.HostConfig.NanoCpus) \(.HostConfig.PidsLimit) \(.HostConfig.CpusetCpus)"')" \
                "100663296 500000000 70 0-1"
        # the ones not named stay; -1 is unlimited
        run_tool berth-run update --pids-limit -1 --cpu-shares 512 up
        run_tool berth-run exec up sh -c "$cg_limits"
        is "$output" "100663296 50000 max 0-1"
        is "$(scope_limits up)" "AllowedCPUs=0-1 CPUQuotaPerSecUSec=500ms MemoryMax=100663296 TasksMax=infinity "
        run_tool systemctl --user show -P CPUWeight berth-up.scope
        is "$output" "$((1 + (512 - 2) * 9999 / 262142))"
        if ! berth-run exec up test -f /sys/fs/cgroup/cgroup.controllers; then
                run_tool berth-run exec up cat /sys/fs/cgroup/cpu/cpu.shares
                is "$output" "512"
        fi
        # memory-swap and -reservation with it, by name and by ID prefix, through the front
        run_tool berth update --memory 80m --memory-swap 160m --memory-reservation 40m "${id:0:12}"
        is "$(scope_limits up)" "AllowedCPUs=0-1 CPUQuotaPerSecUSec=500ms MemoryMax=83886080 TasksMax=infinity "
        run_tool systemctl --user show -P MemoryLow -P MemorySwapMax berth-up.scope
        is "$output" "41943040
83886080"
        if ! berth-run exec up test -f /sys/fs/cgroup/cgroup.controllers; then
                run_tool berth-run exec up cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes \
                        /sys/fs/cgroup/memory/memory.soft_limit_in_bytes
                is "$output" "167772160
41943040"
        fi
        # what a later start uses
        run_tool berth-run stop -t 1 up
        run_tool berth-run start up
        run_tool berth-run exec up sh -c "$cg_limits"
        is "$output" "83886080 50000 max 0-1"
        run_tool berth-run rm -f up
}

@test "update of a stopped container: the limits at its next start" {
        run_tool berth-run create --name st --memory 64m "$IMG" sleep 1000
        local id=$output
        run_tool berth-run update --memory 100m --cpus 0.25 --pids-limit 33 --cpuset-cpus 1 st
        is "$output" "$id"
        is "$(record st .State.Status)" "created"
        if [[ ! -f /sys/fs/cgroup/cgroup.controllers ]]; then
                is "$(jq -c .linux.resources.memory "$BERTH_ROOT/containers/$id/config.json")" '{"limit":104857600}'
                is "$(jq -c .linux.resources.pids "$BERTH_ROOT/containers/$id/config.json")" '{"limit":33}'
        fi
        run_tool berth-run start st
        run_tool berth-run exec st sh -c "$cg_limits"
        is "$output" "104857600 25000 33 1"
        is "$(scope_limits st)" "AllowedCPUs=1 CPUQuotaPerSecUSec=250ms MemoryMax=104857600 TasksMax=33 "
        run_tool berth-run stop -t 1 st
        # an exited one, unlimited pids from now on
        run_tool berth-run update --pids-limit 0 st
        run_tool berth-run start st
        run_tool berth-run exec st cat /sys/fs/cgroup/pids/pids.max
        is "$output" "max"
        run_tool berth-run rm -f st
}

# first run: waits for /go, then fails; a restart (the upper layer stays) sleeps
restarting='n=$(cat /n 2>/dev/null || echo 0); echo $((n + 1)) >/n
[ "$n" -ge 1 ] && exec sleep 1000
while [ ! -e /go ]; do sleep 0.1; done; exit 3'

@test "update --restart: no to on-failure:1 restarts at the next failing exit, with limits updated meanwhile" {
        run_tool berth-run run -d --name rs --restart no --memory 64m "$IMG" sh -c "$restarting"
        run_tool berth-run update --restart on-failure:1 --memory 90m rs
        is "$(record rs '"\(.HostConfig.RestartPolicy.Name) \(.HostConfig.RestartPolicy.MaximumRetryCount)"')" \
                "on-failure 1"
        run_tool berth-run exec rs touch /go
        wait_record rs .RestartCount 1
        wait_record rs .State.Status running
        run_tool berth-run exec rs cat /n
        is "$output" "2" "the restarted container runs"
        # the scope made for the restart has the limits set by update, not the ones of the first start
        run_tool systemctl --user show -P MemoryMax berth-rs.scope
        is "$output" "94371840"
        if ! berth-run exec rs test -f /sys/fs/cgroup/cgroup.controllers; then
                run_tool berth-run exec rs cat /sys/fs/cgroup/memory/memory.limit_in_bytes
                is "$output" "94371840"
        fi
        run_tool berth-run rm -f rs
}

@test "update --restart: on-failure to no, the failing exit is the last" {
        run_tool berth-run run -d --name rn --restart on-failure "$IMG" sh -c "$restarting"
        run_tool berth-run update --restart no rn
        run_tool berth-run exec rn touch /go
        run_tool berth-run wait rn
        is "$output" "3"
        wait_record rn .State.Status exited
        sleep 0.5 # a restart would have begun by now (100 ms backoff)
        is "$(record rn '"\(.State.Status) \(.RestartCount)"')" "exited 0"
        run_tool berth-run rm rn
}

@test "update: bad values and combinations are refused as at create, and nothing changes" {
        run_tool berth-run run -d --name bad --memory 64m --memory-swap 128m "$IMG" sleep 1000
        local before
        before=$(files_sum bad)
        run_tool 125 berth-run update --memory-swap 32m bad
        is "$output" "berth-run: Invalid --memory-swap '32m': less than --memory"
        run_tool 125 berth-run update --memory 200m bad
        is "$output" "berth-run: Invalid --memory-swap '(the container's)': less than --memory"
        run_tool 125 berth-run update --memory-reservation 65m bad
        is "$output" "berth-run: Invalid --memory-reservation '65m': more than --memory"
        run_tool 125 berth-run update --memory 5m bad
        is "$output" "berth-run: Invalid --memory '5m': a size of at least 6m"
        run_tool 125 berth-run update --cpus 0 bad
        is "$output" "berth-run: Invalid --cpus '0'"
        run_tool 125 berth-run update --cpu-shares 1 bad
        is "$output" "berth-run: Invalid --cpu-shares '1': 2..262144"
        run_tool 125 berth-run update --cpuset-cpus 4000 bad
        assert_contains "$output" "Invalid --cpuset-cpus '4000'"
        run_tool 125 berth-run update --pids-limit lots bad
        is "$output" "berth-run: Invalid --pids-limit 'lots'"
        run_tool 125 berth-run update --restart sometimes bad
        is "$output" "berth-run: Invalid --restart 'sometimes'"
        run_tool 125 berth-run update --memory 96m --restart bogus bad
        is "$output" "berth-run: Invalid --restart 'bogus'"
        run_tool 125 berth-run update bad
        is "$output" "berth-run: Nothing to update: give a limit or --restart"
        run_tool 125 berth-run update --memory 96m
        is "$output" "berth-run: Missing CONTAINER; see 'berth-run update --help'"
        run_tool 125 berth-run update --name x bad
        is "${#lines[@]}" 1
        is "$(files_sum bad)" "$before" "the record and config.json are byte-identical"
        run_tool berth-run exec bad cat /sys/fs/cgroup/memory/memory.limit_in_bytes
        is "$output" "67108864"
        run_tool berth-run rm -f bad
        # --rm and a restart policy, as at create
        run_tool berth-run run -d --rm --name auto "$IMG" sleep 1000
        before=$(files_sum auto)
        run_tool 125 berth-run update --restart always auto
        is "$output" "berth-run: --rm and --restart cannot be used together"
        is "$(files_sum auto)" "$before"
        run_tool berth-run rm -f auto
}

@test "update: a missing container is one line and 125; with several, each is tried" {
        run_tool 125 berth-run update --memory 64m nosuch
        is "$output" "berth-run: No such container 'nosuch'"
        run_tool berth-run create --name one "$IMG" true
        local id=$output
        run_tool --stderr 125 berth-run update --pids-limit 40 nosuch one
        is "$output" "$id"
        is "$stderr" "berth-run: No such container 'nosuch'"
        is "$(record one .HostConfig.PidsLimit)" "40"
        run_tool berth-run rm one
}

@test "update --pids-limit below the number of processes: they stay, forks fail until it is raised" {
        run_tool berth-run run -d --name pl "$IMG" sh -c 'sleep 1000 & sleep 1000 & wait'
        run_tool berth-run update --pids-limit 2 pl
        is "$(record pl .State.Status)" "running"
        # the kernel checks pids.max at fork only: exec's process may join, but cannot fork (or the
        # runtime's own init fails in there first: it needs threads)
        run_tool '?' berth-run exec pl sh -c 'sleep 0 & wait $! && echo forked'
        ((status != 0)) || die "exec forked past the limit"
        assert_not_contains "$output" "forked"
        is "$(record pl .State.Status)" "running"
        run_tool berth-run update --pids-limit 100 pl
        run_tool berth-run exec pl sh -c 'cat /sys/fs/cgroup/pids/pids.max; ps -o comm | grep -cx sleep'
        is "$output" "100
2"
        run_tool berth-run rm -f pl
}

@test "update of a container inside a service: the runtime's limits only, and a warning" {
        run_tool systemd-run --user --unit berth-test-update -p Type=notify -p Delegate=yes --collect \
                "$BERTH_BUILD/berth-run" --root "$BERTH_ROOT" --runroot "$BERTH_RUNROOT" run --name insvc \
                --memory 64m --sdnotify=conmon "$IMG" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
        run_tool --stderr berth-run update --memory 96m --pids-limit 20 insvc
        is "$output" "$(record insvc .Id)"
        assert_contains "$stderr" "'insvc' runs inside a service: its own limits changed, the service's are systemd's"
        run_tool berth-run exec insvc sh -c "$cg_limits"
        assert_contains "$output" "100663296 "
        assert_contains "$output" " 20 "
        run_tool systemctl --user show -P MemoryMax berth-test-update.service
        is "$output" "infinity" "the service's own limit is left alone"
        run_tool systemctl --user stop berth-test-update.service
        run_tool berth-run rm insvc
}
