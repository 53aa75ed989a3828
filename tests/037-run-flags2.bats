#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-run flags, podman's names: --replace, --cidfile, --mount, --device, --sysctl, --shm-size, --group-add,
# --no-hosts, memory/cpuset/OOM resources, -P/--expose, --label-file, --annotation, --tz, --umask. Each is read
# back from inside a real container.

load helpers

setup() {
        berth_setup
        requires uid0 systemd registry cmd:runc
        IMG=$(fixture_ref busybox:latest)
}
teardown() { berth_teardown; }

n_containers() {
        find "$BERTH_ROOT/containers" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l
}

@test "--replace: a running container of that name is stopped and removed first, a stopped one removed" {
        run_tool berth-run run -d --name rep "$IMG" sleep 1000
        local old=$output
        run_tool berth-run run -d --replace --name rep "$IMG" sleep 1000
        local new=$output
        [[ $new != "$old" ]] || die "the same container came back"
        is "$(readlink "$BERTH_ROOT/names/rep")" "$new"
        [[ ! -e $BERTH_ROOT/containers/$old ]] || die "the replaced container's record is left"
        is "$(record rep .State.Status)" "running"
        run_tool berth-run exec rep echo alive
        is "$output" "alive"
        run_tool berth-run stop -t 1 rep
        run_tool berth-run create --replace --name rep "$IMG" true
        [[ ! -e $BERTH_ROOT/containers/$new ]] || die "the stopped container was not removed"
        is "$(n_containers)" "1"
        run_tool 125 berth-run create --name rep "$IMG" true
        assert_contains "$output" "The name 'rep' is already in use"
        run_tool 125 berth-run run --rm --replace "$IMG" true
        is "$output" "berth-run: --replace needs --name"
        run_tool berth-run rm rep
        # a replace of nothing is a plain run
        run_tool berth-run run --rm --replace --name fresh "$IMG" echo first
        is "$output" "first"
}

@test "--replace: concurrent replaces of one name leave one container, running" {
        local i pids=()
        run_tool berth-run run -d --name race "$IMG" sleep 1000
        for i in 1 2 3; do
                berth-run run -d --replace --name race "$IMG" sleep 1000 >"$BATS_TEST_TMPDIR/out$i" 2>&1 &
                pids+=($!)
        done
        # they take turns (a lock per name): each stops and removes the one before it
        for i in "${pids[@]}"; do wait "$i" || die "a replace failed: $(cat "$BATS_TEST_TMPDIR"/out*)"; done
        is "$(n_containers)" "1" "exactly one container is left"
        is "$(record race .State.Status)" "running"
        run_tool berth-run rm -f race
        is "$(n_containers)" "0"
}

@test "--replace: the unit-file idiom, ExecStart=berth-run run --replace --name, across restarts of the unit" {
        # a container of that name left behind (a crashed earlier run, say), running
        run_tool berth-run run -d --name svc "$IMG" sleep 1000
        local old=$output
        local unit=(systemd-run --user --unit berth-test-replace -p Type=notify --collect
                "$BERTH_BUILD/berth-run" --root "$BERTH_ROOT" --runroot "$BERTH_RUNROOT" run --replace --name svc
                --sdnotify=conmon "$IMG" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done')
        run_tool "${unit[@]}"
        run_tool systemctl --user show -P MainPID berth-test-replace.service
        is "$output" "$(record svc .State.MonitorPid)"
        [[ $(readlink "$BERTH_ROOT/names/svc") != "$old" && ! -e $BERTH_ROOT/containers/$old ]] ||
                die "the old container is still there"
        run_tool systemctl --user stop berth-test-replace.service
        is "$(record svc .State.Status)" "exited"
        # the unit again: the exited container of the name is replaced, no "name in use"
        local prev
        prev=$(readlink "$BERTH_ROOT/names/svc")
        run_tool "${unit[@]}"
        [[ $(readlink "$BERTH_ROOT/names/svc") != "$prev" ]] || die "not replaced"
        is "$(record svc .State.Status)" "running"
        run_tool systemctl --user stop berth-test-replace.service
        run_tool berth-run rm svc
        is "$(n_containers)" "0"
}

@test "--cidfile: the full ID, written once; an existing file is refused before anything is made" {
        local f=$BATS_TEST_TMPDIR/cid
        run_tool berth-run run -d --cidfile "$f" --name cid "$IMG" sleep 1000
        local id=$output
        is "$(cat "$f")" "$id"
        is "$(wc -c <"$f")" "64" "the ID alone, no newline"
        run_tool 125 berth-run run -d --cidfile "$f" --name cid2 "$IMG" sleep 1000
        is "$output" "berth-run: Invalid --cidfile '$f': the file exists"
        is "$(n_containers)" "1" "nothing was created"
        is "$(record cid .HostConfig.ContainerIDFile)" "$f"
        run_tool berth-run rm -f cid
        is "$(cat "$f")" "$id" "rm leaves the file"
        # a dangling symlink is a file that exists too (nothing is written through it)
        ln -s "$BATS_TEST_TMPDIR/elsewhere" "$BATS_TEST_TMPDIR/link"
        run_tool 125 berth-run create --cidfile "$BATS_TEST_TMPDIR/link" "$IMG" true
        [[ ! -e $BATS_TEST_TMPDIR/elsewhere ]] || die "written through a symlink"
        run_tool berth-run create --cidfile "$BATS_TEST_TMPDIR/c2" "$IMG" true
        is "$(cat "$BATS_TEST_TMPDIR/c2")" "$output"
        run_tool berth-run rm "$output"
}

@test "--mount: bind (readonly, through a symlinked source), volume, tmpfs with size and mode" {
        local d=$BATS_TEST_TMPDIR/d
        mkdir -p "$d"
        echo hello >"$d/f"
        run_tool berth-run run --rm --mount "type=bind,source=$d,target=/data,readonly" "$IMG" \
                sh -c 'cat /data/f; touch /data/x 2>&1 || true'
        assert_contains "$output" "hello"
        assert_contains "$output" "Read-only file system"
        run_tool berth-run run --rm --mount "type=bind,src=$d,dst=/data" "$IMG" sh -c 'echo w >/data/w'
        is "$(cat "$d/w")" "w"
        # a symlinked source is the directory it names (as with -v and docker), resolved on the host
        ln -s "$d" "$BATS_TEST_TMPDIR/link"
        run_tool berth-run run --rm --mount "type=bind,src=$BATS_TEST_TMPDIR/link,destination=/data,ro=true" \
                "$IMG" cat /data/f
        is "$output" "hello"
        ln -s "$BATS_TEST_TMPDIR/nowhere" "$BATS_TEST_TMPDIR/dangling"
        run_tool 125 berth-run run --rm --mount "type=bind,src=$BATS_TEST_TMPDIR/dangling,dst=/data" "$IMG" true
        is "$output" "berth-run: Invalid --mount 'type=bind,src=$BATS_TEST_TMPDIR/dangling,dst=/data': source '$BATS_TEST_TMPDIR/dangling': No such file or directory"
        run_tool berth-run run --rm --mount type=volume,source=mvol,target=/v "$IMG" sh -c 'echo kept >/v/k'
        run_tool berth-run run --rm -v mvol:/w "$IMG" cat /w/k
        is "$output" "kept"
        run_tool berth-run run --rm --mount type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770 "$IMG" \
                sh -c 'grep " /t " /proc/mounts; stat -c %a /t'
        assert_contains "$output" "size=1024k"
        assert_contains "${lines[1]}" "1770"
        run_tool_split berth-run run --rm --mount type=volume,src=mvol,dst=/v,volume-opt=o=x "$IMG" cat /v/k
        is "$output" "kept"
        is "$stderr" "berth-run: --mount: volume-opt is ignored (berth's volumes have one driver, local)"
        # propagation, read back from the container's mountinfo: shared only when asked for
        run_tool berth-run run --rm --mount "type=bind,src=$d,dst=/data,bind-propagation=rshared" "$IMG" \
                grep ' /data ' /proc/self/mountinfo
        assert_contains "$output" " shared:"
        run_tool berth-run run --rm --mount "type=bind,src=$d,dst=/data" "$IMG" grep ' /data ' /proc/self/mountinfo
        assert_not_contains "$output" "shared:"
        run_tool berth-run run --rm -v "$d:/data:rshared" "$IMG" grep ' /data ' /proc/self/mountinfo
        assert_contains "$output" " shared:"
        run_tool berth-run create --name prop --mount "type=bind,src=$d,dst=/data,bind-propagation=rslave" "$IMG" true
        is "$(jq -c '.mounts[] | select(.destination == "/data") | .options' "$BERTH_ROOT/containers/$output/config.json")" \
                '["rbind","rslave"]'
        is "$(record prop '.HostConfig.Binds[0]')" "$d:/data:rw,rslave"
        is "$(record prop '.HostConfig.Mounts[0] | "\(.Type) \(.Source) \(.Target) \(.ReadOnly) \(.BindOptions.Propagation)"')" \
                "bind $d /data false rslave"
        run_tool berth-run rm prop
        run_tool 125 berth-run run --rm --mount type=nfs,src=x,dst=/x "$IMG" true
        is "$output" "berth-run: Invalid --mount 'type=nfs,src=x,dst=/x': type=nfs (bind, volume or tmpfs)"
        run_tool 125 berth-run run --rm --mount "type=bind,src=$d" "$IMG" true
        assert_contains "$output" "target must be an absolute path"
        run_tool 125 berth-run run --rm --mount "type=bind,src=relative,dst=/x" "$IMG" true
        assert_contains "$output" "the bind source must be absolute"
        run_tool 125 berth-run run --rm --mount "type=bind,src=$d,dst=/x,frobnicate=1" "$IMG" true
        assert_contains "$output" "unknown option 'frobnicate'"
        run_tool 125 berth-run run --rm --mount "type=tmpfs,dst=/x,tmpfs-mode=999" "$IMG" true
        assert_contains "$output" "tmpfs-mode=999"
        run_tool 125 berth-run run --rm --mount "type=bind,src=$d,dst=/x,bind-propagation=sideways" "$IMG" true
        assert_contains "$output" "bind-propagation=sideways"
        run_tool 125 berth-run run --rm --mount "type=bind,src=$d,dst=/proc/x" "$IMG" true
        assert_contains "$output" "target must be an absolute path"
}

@test "--mount type=volume without a source, and -v DST: anonymous volumes, removed with rm -v" {
        run_tool berth-run run --name anon --mount type=volume,target=/anon -v /anon2 "$IMG" \
                sh -c 'echo a >/anon/f && echo b >/anon2/f && grep -c " /anon2* " /proc/mounts'
        is "$output" "2"
        is "$(record anon '[.Mounts[] | select(.Anonymous) | .Destination] | sort | join(",")')" "/anon,/anon2"
        local vol
        vol=$(record anon '.Mounts[] | select(.Destination == "/anon") | .Name')
        is "$(cat "$BERTH_ROOT/volumes/$vol/_data/f")" "a"
        run_tool berth-run rm -v anon
        [[ ! -e $BERTH_ROOT/volumes/$vol ]] || die "rm -v left the anonymous volume"
        run_tool 125 berth-run run --rm --mount type=volume,target=/anon,readonly "$IMG" true
        assert_contains "$output" "an anonymous volume is read-write"
        run_tool 125 berth-run run --rm -v /proc/x "$IMG" true
        is "$output" "berth-run: Invalid volume '/proc/x': bad destination"
}

@test "--device: the node in the container, allowed in the device cgroup with its permissions" {
        run_tool berth-run run --rm --device /dev/zero:/dev/myzero "$IMG" \
                sh -c 'stat -c "%t:%T %F" /dev/myzero; head -c 4 /dev/myzero | od -An -tx1'
        is "${lines[0]}" "1:5 character special file"
        is "$(echo ${lines[1]})" "00 00 00 00"
        # a device the default rules do not allow (fuse: opening it is harmless), through a node of our own
        mknod "$BATS_TEST_TMPDIR/fusedev" c 10 229
        run_tool berth-run run --rm "$IMG" sh -c 'mknod /dev/f c 10 229 && (exec 3</dev/f) 2>&1 || echo no-access'
        assert_contains "$output" "no-access"
        run_tool berth-run run --rm --device "$BATS_TEST_TMPDIR/fusedev:/dev/myfuse:r" "$IMG" \
                sh -c '(exec 3</dev/myfuse) && echo read-ok; (exec 4>/dev/myfuse) 2>/dev/null || echo write-refused'
        is "$output" "read-ok
write-refused"
        run_tool berth-run run --rm --device "$BATS_TEST_TMPDIR/fusedev:/dev/myfuse" "$IMG" \
                sh -c '(exec 4>/dev/myfuse) && echo write-ok'
        is "$output" "write-ok"
        run_tool berth-run create --name dev --device "$BATS_TEST_TMPDIR/fusedev:rw" "$IMG" true
        is "$(record dev '.HostConfig.Devices[0] | "\(.PathOnHost) \(.PathInContainer) \(.CgroupPermissions)"')" \
                "$BATS_TEST_TMPDIR/fusedev $BATS_TEST_TMPDIR/fusedev rw"
        run_tool berth-run rm dev
        # adversarial: not a device, missing, bad permissions, a bad container path
        touch "$BATS_TEST_TMPDIR/plain"
        run_tool 125 berth-run run --rm --device "$BATS_TEST_TMPDIR/plain" "$IMG" true
        is "$output" "berth-run: Invalid --device '$BATS_TEST_TMPDIR/plain': $BATS_TEST_TMPDIR/plain is not a character or block device"
        run_tool 125 berth-run run --rm --device "$BATS_TEST_TMPDIR:/dev/x" "$IMG" true
        assert_contains "$output" "is not a character or block device"
        ln -s "$BATS_TEST_TMPDIR/plain" "$BATS_TEST_TMPDIR/plainlink"
        run_tool 125 berth-run run --rm --device "$BATS_TEST_TMPDIR/plainlink" "$IMG" true
        assert_contains "$output" "is not a character or block device"
        run_tool 125 berth-run run --rm --device /dev/no-such-dev "$IMG" true
        is "$output" "berth-run: Invalid --device '/dev/no-such-dev': /dev/no-such-dev: No such file or directory"
        run_tool 125 berth-run run --rm --device /dev/zero:/dev/z:rwx "$IMG" true
        assert_contains "$output" "permissions 'rwx' are not a subset of rwm"
        run_tool 125 berth-run run --rm --device /dev/zero:/dev/../etc/z "$IMG" true
        assert_contains "$output" "bad container path"
        is "$(n_containers)" "0"
}

@test "--sysctl: namespaced ones reach the container; others, and those of a shared namespace, are refused" {
        run_tool berth-run run --rm --sysctl net.ipv4.ip_forward=1 --sysctl kernel.shmmax=123456789 \
                --sysctl fs.mqueue.msg_max=20 "$IMG" \
                cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max
        is "$output" "1
123456789
20"
        run_tool 125 berth-run run --rm --sysctl vm.swappiness=10 "$IMG" true
        assert_contains "$output" "Invalid --sysctl 'vm.swappiness=10': not a namespaced sysctl"
        run_tool 125 berth-run run --rm --sysctl kernel.hostname=x "$IMG" true
        assert_contains "$output" "not a namespaced sysctl"
        run_tool 125 berth-run run --rm --network host --sysctl net.ipv4.ip_forward=1 "$IMG" true
        is "$output" "berth-run: Invalid --sysctl 'net.ipv4.ip_forward=1': net.* sysctls need the container's own network namespace, not --network host"
        run_tool 125 berth-run run --rm --ipc host --sysctl kernel.shmmax=1 "$IMG" true
        assert_contains "$output" "IPC sysctls need the container's own IPC namespace"
        run_tool 125 berth-run run --rm --sysctl net.ipv4.ip_forward "$IMG" true
        assert_contains "$output" "expected KEY=VALUE"
        is "$(n_containers)" "0"
}

@test "--shm-size, --group-add (names from the image's /etc/group), --no-hosts" {
        run_tool berth-run run --rm --shm-size 2m "$IMG" grep ' /dev/shm ' /proc/mounts
        assert_contains "$output" "size=2048k"
        run_tool berth-run run --rm "$IMG" grep ' /dev/shm ' /proc/mounts
        assert_contains "$output" "size=65536k"
        run_tool 125 berth-run run --rm --shm-size 0 "$IMG" true
        is "$output" "berth-run: Invalid --shm-size '0': a size greater than 0"
        local gid
        gid=$(sed -n 's/^app:[^:]*:\([0-9]*\):.*/\1/p' <(berth-run run --rm "$IMG" cat /etc/group))
        [[ -n $gid ]] || die "the fixture has no app group"
        run_tool berth-run run --rm --group-add app --group-add 4321 "$IMG" grep Groups: /proc/self/status
        is "$output" "Groups:[[:space:]]+$gid 4321 *"
        run_tool berth-run run --rm -u 65534 --group-add app "$IMG" id -G
        is "$output" "(.* )?$gid( .*)?"
        run_tool 125 berth-run run --rm --group-add no-such-group "$IMG" true
        assert_contains "$output" "--group-add 'no-such-group': no such group in the image"
        run_tool 125 berth-run run --rm --group-add 4294967296 "$IMG" true
        assert_contains "$output" "--group-add '4294967296': gid out of range"
        run_tool 125 berth-run run --rm --group-add 'a:b' "$IMG" true
        is "$output" "berth-run: Invalid --group-add 'a:b': a gid or a group name"
        run_tool berth-run run --rm "$IMG" grep -c ' /etc/hosts ' /proc/mounts
        is "$output" "1"
        run_tool 1 berth-run run --rm --no-hosts "$IMG" grep -c ' /etc/hosts ' /proc/mounts
        is "$output" "0"
        run_tool 125 berth-run run --rm --no-hosts --add-host a:10.0.0.1 "$IMG" true
        is "$output" "berth-run: --no-hosts and --add-host cannot be used together"
        is "$(n_containers)" "0"
}

# The container's own cgroup files, cgroup v2 or v1 (a hybrid host), read from inside.
cg_read='if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        echo "$(cat /sys/fs/cgroup/memory.low) $(cat /sys/fs/cgroup/memory.swap.max) $(cat /sys/fs/cgroup/cpuset.cpus)"
else
        echo "$(cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes) $(cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes) $(cat /sys/fs/cgroup/cpuset/cpuset.cpus)"
fi; cat /proc/1/oom_score_adj'

@test "--memory-swap --memory-reservation --cpuset-cpus --cpuset-mems --oom-score-adj, again after a restart" {
        run_tool berth-run run -d --name res --memory 64m --memory-swap 128m --memory-reservation 32m \
                --cpuset-cpus 0 --cpuset-mems 0 --oom-score-adj 500 "$IMG" sleep 1000
        local expect
        if berth-run exec res test -f /sys/fs/cgroup/cgroup.controllers; then
                expect="33554432 67108864 0"
        else
                expect="33554432 134217728 0"
        fi
        run_tool berth-run exec res sh -c "$cg_read"
        is "$output" "$expect
500"
        run_tool systemctl --user show -P MemoryLow berth-res.scope
        is "$output" "33554432"
        run_tool systemctl --user show -P AllowedCPUs berth-res.scope
        is "$output" "0"
        is "$(record res '"\(.HostConfig.MemorySwap) \(.HostConfig.MemoryReservation) \(.HostConfig.CpusetCpus) \(.HostConfig.CpusetMems) \(.HostConfig.OomScoreAdj)"')" \
                "134217728 33554432 0 0 500"
        run_tool berth-run stop -t 1 res
        run_tool berth-run start res
        run_tool berth-run exec res sh -c "$cg_read"
        is "$output" "$expect
500"
        run_tool berth-run rm -f res
        run_tool berth-run run --rm --oom-score-adj 1000 "$IMG" cat /proc/self/oom_score_adj
        is "$output" "1000"
        run_tool 125 berth-run run --rm --cpuset-cpus 4000 "$IMG" true
        assert_contains "$output" "Invalid --cpuset-cpus '4000'"
        run_tool 125 berth-run run --rm --cpuset-cpus 1-0 "$IMG" true
        assert_contains "$output" "Invalid --cpuset-cpus '1-0'"
        run_tool 125 berth-run run --rm --cpuset-mems 63 "$IMG" true
        assert_contains "$output" "Invalid --cpuset-mems '63'"
        run_tool 125 berth-run run --rm --memory-swap 128m "$IMG" true
        is "$output" "berth-run: Invalid --memory-swap '128m': it needs --memory"
        run_tool 125 berth-run run --rm --memory 64m --memory-swap 32m "$IMG" true
        is "$output" "berth-run: Invalid --memory-swap '32m': less than --memory"
        run_tool 125 berth-run run --rm --memory 64m --memory-reservation 65m "$IMG" true
        is "$output" "berth-run: Invalid --memory-reservation '65m': more than --memory"
        run_tool 125 berth-run run --rm --oom-score-adj 1001 "$IMG" true
        is "$output" "berth-run: Invalid --oom-score-adj '1001': -1000..1000"
        run_tool 125 berth-run run --rm --memory-reservation lots "$IMG" true
        is "$output" "berth-run: Invalid --memory-reservation 'lots': a size"
}

@test "-P publishes the image's and --expose's ports on free host ports; berth port shows them" {
        requires cmd:berth-net cmd:curl
        mkdir -p "$BATS_TEST_TMPDIR/www"
        echo "all-published" >"$BATS_TEST_TMPDIR/www/index.html"
        run_tool berth-run run -d --name pa -P --expose 80 --expose 5353/udp -v "$BATS_TEST_TMPDIR/www:/www:ro" \
                "$IMG" httpd -f -p 80 -h /www
        is "$(record pa '.Config.ExposedPorts | keys | join(",")')" "5353/udp,80/tcp"
        is "$(record pa .HostConfig.PublishAllPorts)" "true"
        run_tool berth port pa 80
        local hp=$output
        is "$hp" "0.0.0.0:[0-9]+"
        run_tool berth port pa 5353/udp
        is "$output" "0.0.0.0:[0-9]+"
        wait_http "http://127.0.0.1:${hp#*:}/"
        run_tool curl -fsS --max-time 5 "http://127.0.0.1:${hp#*:}/"
        is "$output" "all-published"
        run_tool berth-run rm -f pa
        # -p keeps its host port for a port -P would publish too
        run_tool berth-run create --name pb -P --expose 80 -p 127.0.0.1:18091:80 "$IMG" true
        is "$(record pb '.HostConfig.PortBindings | join(",")')" "127.0.0.1:18091:80"
        run_tool berth-run rm pb
        run_tool 125 berth-run run --rm -P --network none "$IMG" true
        is "$output" "berth-run: -P needs a network: --network none has none"
        run_tool_split berth-run run --rm -P --expose 80 --network host "$IMG" echo ok
        is "$output" "ok"
        is "$stderr" "berth-run: Published ports are discarded with --network host"
        run_tool 125 berth-run run --rm --expose 70000 "$IMG" true
        is "$output" "berth-run: Invalid --expose '70000': PORT[-PORT][/tcp|udp|sctp]"
}

@test "--label-file, --annotation, --tz (a zone, local), --umask" {
        printf '# labels\nteam=infra\n\nowner\nenv=prod\n' >"$BATS_TEST_TMPDIR/labels"
        run_tool berth-run create --name lf --label-file "$BATS_TEST_TMPDIR/labels" --label x=1 \
                --annotation io.example/a=b --annotation k=v=w "$IMG" true
        local id=$output
        is "$(record lf '.Config.Labels | to_entries | map("\(.key)=\(.value)") | sort | join(",")')" \
                "env=prod,owner=,team=infra,x=1"
        is "$(jq -r '.annotations["io.example/a"] + " " + .annotations.k' "$BERTH_ROOT/containers/$id/config.json")" "b v=w"
        is "$(record lf '.Config.Annotations.k')" "v=w"
        run_tool berth-run rm lf
        run_tool 125 berth-run run --rm --label-file "$BATS_TEST_TMPDIR/nope" "$IMG" true
        is "$output" "berth-run: Invalid --label-file '$BATS_TEST_TMPDIR/nope': No such file or directory"
        run_tool 125 berth-run run --rm --annotation novalue "$IMG" true
        is "$output" "berth-run: Invalid --annotation 'novalue': expected KEY=VALUE"

        [[ -f /usr/share/zoneinfo/Asia/Tokyo ]] || berth_skip "no tzdata"
        run_tool berth-run run --rm --tz Asia/Tokyo "$IMG" sh -c 'date +%Z; md5sum </etc/localtime'
        is "${lines[0]}" "JST"
        is "${lines[1]}" "$(md5sum </usr/share/zoneinfo/Asia/Tokyo)"
        run_tool berth-run run --rm --tz local "$IMG" sh -c 'md5sum </etc/localtime'
        is "$output" "$(md5sum </etc/localtime)"
        run_tool berth-run run -d --name tz --tz Asia/Tokyo "$IMG" sleep 1000
        run_tool berth-run stop -t 1 tz
        run_tool berth-run start tz
        run_tool berth-run exec tz date +%Z
        is "$output" "JST"
        is "$(record tz .Config.Timezone)" "Asia/Tokyo"
        run_tool berth-run rm -f tz
        run_tool 125 berth-run run --rm --tz Mars/Olympus "$IMG" true
        is "$output" "berth-run: Invalid --tz 'Mars/Olympus': no such time zone in /usr/share/zoneinfo"
        run_tool 125 berth-run run --rm --tz ../../../etc/passwd "$IMG" true
        assert_contains "$output" "no such time zone"

        run_tool berth-run run --rm --umask 0077 "$IMG" sh -c 'umask; touch /tmp/f; stat -c %a /tmp/f'
        is "$output" "0077
600"
        run_tool berth-run run --rm "$IMG" sh -c 'umask'
        is "$output" "0022"
        run_tool 125 berth-run run --rm --umask 0888 "$IMG" true
        is "$output" "berth-run: Invalid --umask '0888': an octal mask, 0000..0777"
        is "$(n_containers)" "0"
}
