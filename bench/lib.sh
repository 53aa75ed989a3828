# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Shared by the benchmarks that generate their own images: an OCI layout written with plain tools (jq, sha256sum),
# independent of the code under test. Uses $W, the caller's scratch directory.

# layout_init DIR: an empty OCI image layout.
layout_init() {
        mkdir -p "$1/blobs/sha256"
        echo '{"imageLayoutVersion": "1.0.0"}' >"$1/oci-layout"
        echo '{"schemaVersion": 2, "manifests": []}' >"$1/index.json"
}

put_blob() { # FILE LAYOUT -> "sha256:HEX SIZE"
        local hex
        hex=$(sha256sum "$1" | cut -d' ' -f1)
        mv "$1" "$2/blobs/sha256/$hex"
        echo "sha256:$hex $(stat -c %s "$2/blobs/sha256/$hex")"
}

# layout_add_layer LAYOUT TARFILE GZIP_LEVEL: gzip the tar into the layout (the tar is removed); appends to the
# caller's LAYERS and DIFFS JSON arrays.
layout_add_layer() {
        local layout=$1 tar=$2 level=$3 d s
        d=sha256:$(sha256sum "$tar" | cut -d' ' -f1)
        DIFFS=$(jq -c --arg d "$d" '. + [$d]' <<<"$DIFFS")
        gzip "-$level" -c "$tar" >"$tar.gz"
        rm -f "$tar"
        read -r d s < <(put_blob "$tar.gz" "$layout")
        LAYERS=$(jq -c --arg d "$d" --argjson s "$s" \
                '. + [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $d, size: $s}]' <<<"$LAYERS")
}

# layout_add_image LAYOUT TAG: config and manifest for the layers in LAYERS/DIFFS, named TAG in index.json.
layout_add_image() {
        local layout=$1 tag=$2 arch cd cs md ms
        arch=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
        jq -cn --arg a "$arch" --argjson diffs "$DIFFS" \
                '{architecture: $a, os: "linux", config: {Cmd: ["sh"]}, rootfs: {type: "layers", diff_ids: $diffs}}' >"$W/config"
        read -r cd cs < <(put_blob "$W/config" "$layout")
        jq -cn --arg cd "$cd" --argjson cs "$cs" --argjson layers "$LAYERS" \
                '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
                  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
                  layers: $layers}' >"$W/manifest"
        read -r md ms < <(put_blob "$W/manifest" "$layout")
        jq -c --arg d "$md" --argjson s "$ms" --arg t "$tag" \
                '.manifests += [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
                                 annotations: {"org.opencontainers.image.ref.name": $t}}]' "$layout/index.json" >"$W/index"
        mv "$W/index" "$layout/index.json"
}
