# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# For berth-pull's suites: "nothing new in the store" after a failed pull, checked against a snapshot.
#   store_snapshot           remember what $BERTH_ROOT/oci holds (names, sizes, index.json's bytes)
#   assert_store_unchanged   the same now; $BERTH_ROOT/tmp holds nothing but resumable downloads (*.partial)

_store_listing() {
        [[ -d $BERTH_ROOT/oci ]] || return 0
        # The lock files and oci-layout are the layout's furniture, made by the first pull; not content.
        (cd "$BERTH_ROOT/oci" &&
                find . \( -type f -o -type l \) ! -name .lock ! -name .gc.lock ! -name oci-layout -printf '%P %s\n' |
                sort &&
                if [[ -e index.json ]]; then sha256sum index.json; fi)
}

store_snapshot() {
        _store_before=$(_store_listing)
}

assert_store_unchanged() {
        local now extra
        now=$(_store_listing)
        [[ $now == "${_store_before-}" ]] ||
                die "the store changed:"$'\n'"$(diff <(echo "${_store_before-}") <(echo "$now"))"
        extra=$(find "$BERTH_ROOT/tmp" -type f ! -name '*.partial' 2>/dev/null || true)
        [[ -z $extra ]] || die "left in $BERTH_ROOT/tmp: $extra"
}
