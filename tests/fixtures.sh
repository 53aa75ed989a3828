#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the test images as one OCI image layout, offline, from busybox-static, with umoci and tar.
#
#   tests/fixtures.sh OUTDIR                 build the layout OUTDIR (must not exist yet)
#   tests/fixtures.sh --push OUTDIR REGISTRY push the layout's images to REGISTRY (host:port, plain http)
#
# Tags in the layout, and where --push puts them:
#   busybox  -> REGISTRY/busybox:latest (OCI manifest) and REGISTRY/busybox:v2s2 (Docker schema2)
#   layered  -> REGISTRY/layered:latest (busybox + 3 layers: files of every type, whiteout, opaque dir)
#   multi    -> REGISTRY/multi:latest   (OCI image index: busybox for the native arch + a tiny other-arch image)
#
# umoci writes the OCI manifests without their (optional) mediaType field: a client has to go by the
# registry's Content-Type or the descriptor. Layers are gzip; layer 1 of layered is busybox's layer.
# Layers, configs and manifests are reproducible: same script + same busybox binary = same digests.
# world.sh caches OUTDIR keyed by a hash of this file (and of the busybox binary): any edit here rebuilds.
set -euo pipefail

die() {
        echo "fixtures.sh: $*" >&2
        exit 1
}

# 2024-01-01T00:00:00Z, for every timestamp we control.
EPOCH=1704067200
CREATED=2024-01-01T00:00:00Z
BUSYBOX=${BERTH_FIXTURE_BUSYBOX:-/bin/busybox}
APPLETS="sh echo cat ls sleep id env true false hostname ps wc head nslookup wget nc ip ifconfig mount grep
stat touch mkdir rm kill printf test seq date tail sed yes dd httpd ping od"

# tar of DIR's contents (entry names without "./"), ownership 0:0, fixed mtimes, stable order.
# Extra "UID:GID:PATH" arguments put PATH (one entry, no recursion) at the end of the archive with that
# ownership, so the layer can be built without chown (and so without real root).
make_tar() {
        local dir=$1 out=$2
        shift 2
        local common=(--format=gnu --numeric-owner --mtime=@"$EPOCH" --sort=name --no-recursion)
        local spec uid gid path
        (cd "$dir" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$out.list"
        for spec in "$@"; do
                grep -vxF -- "${spec#*:*:}" "$out.list" >"$out.list2"
                mv "$out.list2" "$out.list"
        done
        tar -C "$dir" -cf "$out" "${common[@]}" --owner=0 --group=0 -T "$out.list"
        for spec in "$@"; do
                IFS=: read -r uid gid path <<<"$spec"
                tar -C "$dir" -rf "$out" "${common[@]}" --owner="$uid" --group="$gid" "$path"
        done
        rm -f "$out.list"
}

add_layer() {
        local ref=$1 tarball=$2 what=$3
        umoci raw add-layer --image "$ref" --history.created "$CREATED" \
                --history.created_by "fixtures.sh: $what" "$tarball"
}

# Writes STDIN as a blob of LAYOUT, prints "sha256:HEX SIZE".
put_blob() {
        local layout=$1 tmpf hex
        tmpf=$(mktemp "$layout/blobs/sha256/.tmp.XXXXXX")
        cat >"$tmpf"
        hex=$(sha256sum "$tmpf" | cut -d' ' -f1)
        mv "$tmpf" "$layout/blobs/sha256/$hex"
        chmod 0644 "$layout/blobs/sha256/$hex"
        echo "sha256:$hex $(stat -c %s "$layout/blobs/sha256/$hex")"
}

# The manifest descriptor of TAG in LAYOUT's index.json.
descriptor() {
        jq -ce --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t)' \
                "$1/index.json"
}

build() {
        local out=$1 work
        [[ ! -e $out ]] || die "$out already exists"
        [[ -x $BUSYBOX ]] || die "$BUSYBOX not found (install busybox-static)"
        file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || [[ ! -x /usr/bin/file ]] ||
                die "$BUSYBOX is not statically linked (install busybox-static)"
        work=$(mktemp -d "${TMPDIR:-/tmp}/berth-fixtures.XXXXXX")
        # shellcheck disable=SC2064
        trap "rm -rf '$work'" EXIT

        local native other
        case $(uname -m) in
        x86_64) native=amd64 other=arm64 ;;
        aarch64) native=arm64 other=amd64 ;;
        *) die "unsupported architecture $(uname -m)" ;;
        esac

        umoci init --layout "$out"

        # --- busybox: one layer -------------------------------------------------------------------
        local r=$work/busybox
        mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,root,home/app,tmp,proc,sys,dev,run,var}
        install -m 0755 "$BUSYBOX" "$r/bin/busybox"
        local a
        for a in $APPLETS; do
                ln -s busybox "$r/bin/$a"
        done
        cat >"$r/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		app:x:1000:1000:app:/home/app:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
        cat >"$r/etc/group" <<-'EOF'
		root:x:0:
		app:x:1000:
		nogroup:x:65534:
	EOF
        echo fixture >"$r/etc/hostname"
        chmod 0644 "$r"/etc/*
        chmod 0700 "$r/root"
        chmod 0755 "$r/home/app"
        chmod 1777 "$r/tmp"
        make_tar "$r" "$work/busybox.tar" "1000:1000:home/app"

        umoci new --image "$out:busybox"
        add_layer "$out:busybox" "$work/busybox.tar" "busybox-static $(basename "$BUSYBOX") + applets, passwd, group"
        umoci config --image "$out:busybox" --no-history --created "$CREATED" --author berth-tests \
                --architecture "$native" --os linux \
                --clear config.env --config.env PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                --clear config.cmd --config.cmd sh \
                --config.label org.example.fixture=busybox

        # --- layered: busybox + 3 layers ----------------------------------------------------------
        umoci tag --image "$out:busybox" layered

        # layer 2: one entry of each type
        r=$work/l2
        mkdir -p "$r/data/dir" "$r/data/vol"
        printf 'a\n' >"$r/data/a"
        printf 'b\n' >"$r/data/b"
        printf 'c\n' >"$r/data/dir/c"
        ln -s a "$r/data/link"
        ln "$r/data/a" "$r/data/hardlink"
        printf '#!/bin/sh\necho suid\n' >"$r/data/suid"
        chmod 4755 "$r/data/suid"
        mkfifo "$r/data/fifo"
        printf 'owned by app\n' >"$r/data/owned"
        chmod 0644 "$r"/data/{a,b,dir/c,owned}
        chmod 0755 "$r"/data "$r"/data/dir "$r"/data/vol
        chmod 0644 "$r/data/fifo"
        make_tar "$r" "$work/l2.tar" "1000:1000:data/owned"
        add_layer "$out:layered" "$work/l2.tar" "data: file, symlink, hardlink, setuid, fifo, owned"

        # layer 3: whiteout of /data/b, /data/dir made opaque, with a new /data/dir/d
        r=$work/l3
        mkdir -p "$r/data/dir"
        chmod 0755 "$r/data" "$r/data/dir"
        : >"$r/data/.wh.b"
        : >"$r/data/dir/.wh..wh..opq"
        printf 'd\n' >"$r/data/dir/d"
        chmod 0644 "$r/data/.wh.b" "$r/data/dir/.wh..wh..opq" "$r/data/dir/d"
        make_tar "$r" "$work/l3.tar"
        add_layer "$out:layered" "$work/l3.tar" "rm /data/b; opaque /data/dir with d"

        # layer 4: a plain file in a new directory
        r=$work/l4
        mkdir -p "$r/etc/layered"
        printf 'layer 4\n' >"$r/etc/layered/four"
        chmod 0755 "$r/etc" "$r/etc/layered"
        chmod 0644 "$r/etc/layered/four"
        # Only the new directory: a directory entry for /etc would reset its metadata.
        (cd "$r" && tar -cf "$work/l4.tar" --format=gnu --numeric-owner --owner=0 --group=0 \
                --mtime=@"$EPOCH" --sort=name etc/layered)
        add_layer "$out:layered" "$work/l4.tar" "etc/layered/four"

        umoci config --image "$out:layered" --no-history --created "$CREATED" \
                --clear config.entrypoint --config.entrypoint /bin/sh --config.entrypoint=-c \
                --clear config.cmd --config.cmd "echo layered" \
                --config.workingdir /data --config.user app --config.stopsignal SIGTERM \
                --config.exposedports 80/tcp --config.volume /data/vol \
                --config.label org.example.fixture=layered

        # --- multi: index of busybox (native) + a tiny image for the other arch -------------------
        r=$work/other
        mkdir -p "$r"
        printf 'not runnable here: %s\n' "$other" >"$r/ARCH"
        chmod 0644 "$r/ARCH"
        make_tar "$r" "$work/other.tar"
        umoci new --image "$out:other"
        add_layer "$out:other" "$work/other.tar" "ARCH"
        umoci config --image "$out:other" --no-history --created "$CREATED" \
                --architecture "$other" --os linux --config.label org.example.fixture=multi-$other

        umoci gc --layout "$out"

        local d_native d_other index blob
        d_native=$(descriptor "$out" busybox | jq -c --arg a "$native" \
                '{mediaType, digest, size, platform: {architecture: $a, os: "linux"}}')
        d_other=$(descriptor "$out" other | jq -c --arg a "$other" \
                '{mediaType, digest, size, platform: {architecture: $a, os: "linux"}}')
        # amd64 first, then arm64, whatever the native one is.
        index=$(jq -cn --argjson n "$d_native" --argjson o "$d_other" \
                '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
                  manifests: ([$n, $o] | sort_by(.platform.architecture))}')
        blob=$(printf '%s' "$index" | put_blob "$out")
        jq -c --arg d "${blob% *}" --argjson s "${blob#* }" \
                '.manifests |= (map(select(.annotations["org.opencontainers.image.ref.name"] != "other"))
                 + [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
                     annotations: {"org.opencontainers.image.ref.name": "multi"}}])' \
                "$out/index.json" >"$work/index.json"
        cat "$work/index.json" >"$out/index.json"
        # The "other" manifest is referenced from the index only; umoci gc would delete it, so never gc.
}

push() {
        local layout=$1 reg=$2
        local sk=(skopeo --insecure-policy copy --quiet --dest-tls-verify=false --retry-times 2)
        local pids=() p rc=0
        "${sk[@]}" "oci:$layout:busybox" "docker://$reg/busybox:latest" &
        pids+=($!)
        "${sk[@]}" --format v2s2 "oci:$layout:busybox" "docker://$reg/busybox:v2s2" &
        pids+=($!)
        "${sk[@]}" "oci:$layout:layered" "docker://$reg/layered:latest" &
        pids+=($!)
        "${sk[@]}" --all "oci:$layout:multi" "docker://$reg/multi:latest" &
        pids+=($!)
        for p in "${pids[@]}"; do
                wait "$p" || rc=1
        done
        ((rc == 0)) || die "pushing fixtures to $reg failed"
}

case ${1:-} in
--push)
        (($# == 3)) || die "usage: $0 --push LAYOUT REGISTRY"
        push "$2" "$3"
        ;;
-* | "")
        die "usage: $0 OUTDIR | --push LAYOUT REGISTRY"
        ;;
*)
        (($# == 1)) || die "usage: $0 OUTDIR"
        build "$1"
        ;;
esac
