# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# For berth-pull's suites: "nothing new in the store" after a failed pull, checked against a snapshot.
#   store_snapshot           remember what $BERTH_ROOT/oci holds (names, sizes, index.json's bytes)
#   assert_store_unchanged   the same now; $BERTH_ROOT/tmp holds nothing but resumable downloads (*.partial)
# And for the auth suites (012, 014), in setup_file/teardown_file with $PASS set:
#   pull_auth_registries_start  HOSTILE=127.0.0.1:PORT, tests/pull-hostile-registry.py (Bearer tokens; asked as
#                               localhost:PORT its /v2/ wants a token too), and BASIC=127.0.0.1:PORT, a
#                               docker-registry with htpasswd Basic auth (user berth, $PASS) holding busybox
#   pull_auth_registries_stop
#   pull_auth_setup / pull_auth_teardown   berth_setup/teardown, the hostile log reset, no auth files around
#   auth_json FILE HOST [USER:PASS]   write a containers-auth.json file
#   hostile_log                       the hostile registry's request log (JSON)

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

pull_auth_registries_start() {
        local dir=$BATS_FILE_TMPDIR
        python3 "$BATS_TEST_DIRNAME/pull-hostile-registry.py" "$BERTH_FIXTURES" "$dir/port" \
                >"$dir/hostile.log" 2>&1 3>&- &
        echo $! >"$dir/pid"

        # A real docker-registry with Basic auth (bcrypt htpasswd), holding busybox pushed by skopeo.
        local port
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        htpasswd -Bbn berth "$PASS" >"$dir/htpasswd"
        cat >"$dir/registry.yml" <<-EOF2
	version: 0.1
	log:
	  level: error
	storage:
	  filesystem:
	    rootdirectory: $dir/registry
	http:
	  addr: 127.0.0.1:$port
	  secret: berth-auth-test
	auth:
	  htpasswd:
	    realm: berth-test
	    path: $dir/htpasswd
	EOF2
        docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 3>&- &
        echo $! >"$dir/registry.pid"
        local i
        for ((i = 0; i < 500; i++)); do
                [[ -s $dir/port ]] && curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break
                sleep 0.02
        done
        [[ -s $dir/port ]] || {
                cat "$dir/hostile.log" >&2
                return 1
        }
        HOSTILE=127.0.0.1:$(cat "$dir/port")
        export HOSTILE BASIC=127.0.0.1:$port
        skopeo --insecure-policy copy --quiet --dest-tls-verify=false --dest-creds "berth:$PASS" \
                "oci:$BERTH_FIXTURES:busybox" "docker://$BASIC/busybox:latest"
}

pull_auth_registries_stop() {
        kill "$(cat "$BATS_FILE_TMPDIR/pid")" "$(cat "$BATS_FILE_TMPDIR/registry.pid")" 2>/dev/null || true
}

hostile_log() {
        curl -fsS "http://$HOSTILE/_log"
}

auth_json() {
        mkdir -p "$(dirname "$1")"
        printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$2" "$(printf %s "${3:-berth:$PASS}" | base64 -w0)" >"$1"
}

pull_auth_setup() {
        berth_setup
        curl -fsS "http://$HOSTILE/_reset" >/dev/null
        unset REGISTRY_AUTH_FILE
        rm -rf "$HOME/.docker" "$XDG_RUNTIME_DIR/containers"
}

pull_auth_teardown() {
        rm -rf "$HOME/.docker" "$XDG_RUNTIME_DIR/containers"
        berth_teardown
}

# tls_registry_config DIR PORT: a self-signed CA for 127.0.0.1 (DIR/certs/ca.crt, DIR/key.pem) and the start of
# a docker-registry config (DIR/registry.yml) serving it on 127.0.0.1:PORT; the caller appends what its test
# needs (more tls: keys, an auth: section) and starts `docker-registry serve DIR/registry.yml`.
tls_registry_config() {
        local d=$1 port=$2
        mkdir -p "$d/certs"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/key.pem" \
                -out "$d/certs/ca.crt" -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
        cat >"$d/registry.yml" <<-EOF
	version: 0.1
	log:
	  level: error
	storage:
	  filesystem:
	    rootdirectory: $d/registry
	http:
	  addr: 127.0.0.1:$port
	  secret: berth-tls-test
	  tls:
	    certificate: $d/certs/ca.crt
	    key: $d/key.pem
	EOF
}
