#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# berth-pull login and logout (podman's): credentials are checked on the registry first (Basic against a real
# docker-registry with htpasswd, Bearer against tests/pull-hostile-registry.py asked as localhost:PORT), then
# kept in the auth file pull reads; a refused login or a file we cannot parse leaves the file as it was.

load helpers
load pull-store

PASS=s3cret-pw

setup_file() { pull_auth_registries_start; }
teardown_file() { pull_auth_registries_stop; }

setup() {
        pull_auth_setup
        AUTH=$XDG_RUNTIME_DIR/containers/auth.json
        # The hostile registry as localhost:PORT: its /v2/ wants a token from its realm.
        TOKEN_REG=localhost:${HOSTILE##*:}
}
teardown() { pull_auth_teardown; }

b64() { printf %s "$1" | base64 -w0; }

# A file with an entry and a top-level key of another tool, to show login and logout keep them.
other_entries() {
        mkdir -p "$(dirname "$1")"
        printf '{"auths": {"other.example": {"auth": "%s"}}, "credHelpers": {"helped.example": "x"}, "x-tool": [1]}\n' \
                "$(b64 someone:else)" >"$1"
}

@test "login: Basic credentials checked, then written (0600 in a 0700 dir) where pull reads them" {
        run_tool --stderr berth-pull login -u berth -p "$PASS" "$BASIC"
        is "$output" "Login Succeeded!"
        is "$stderr" "berth-pull: WARNING! Using --password via the CLI is insecure. Please use --password-stdin."
        is "$(jq -r --arg k "$BASIC" '.auths[$k].auth' "$AUTH")" "$(b64 "berth:$PASS")"
        is "$(jq -c --arg k "$BASIC" '.auths[$k] | keys' "$AUTH")" '["auth"]'
        is "$(stat -c %a "$AUTH")" 600 "mode of auth.json"
        is "$(stat -c %a "$(dirname "$AUTH")")" 700 "mode of its new directory"
        [[ -z $(find "$(dirname "$AUTH")" -name '*.tmp*') ]] || die "a temp file was left"
        # pull finds them without --creds
        run_tool berth-pull "$BASIC/busybox:latest"
        is "$output" "sha256:*"
        run_tool berth-pull login --get-login "$BASIC"
        is "$output" berth
        # Nothing secret at debug level either.
        run_tool --stderr berth-pull --log-level debug login -u berth --password-stdin "$BASIC" <<<"$PASS"
        assert_contains "$stderr" "Authenticated to $BASIC with Basic"
        assert_not_contains "$stderr" "$PASS"
        assert_not_contains "$stderr" "$(b64 "berth:$PASS")"
        # Without user and password, the stored ones are tried (podman's message); no prompt needed.
        run_tool berth-pull login "$BASIC" </dev/null
        is "${lines[1]}" "Existing credentials are valid. Already logged in to $BASIC"
}

@test "login: wrong credentials: exit 1, one line with the registry and the HTTP status, file byte-identical" {
        other_entries "$AUTH"
        cp "$AUTH" "$BATS_TEST_TMPDIR/before"
        run_tool --stderr 1 berth-pull login -u berth --password-stdin "$BASIC" <<<"wrong-pw"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "'$BASIC'"
        assert_contains "$stderr" "HTTP 401"
        assert_not_contains "$stderr" "wrong-pw"
        is "$output" ""
        cmp "$AUTH" "$BATS_TEST_TMPDIR/before" || die "a refused login changed the auth file"
        # The same through a token realm.
        run_tool --stderr 1 berth-pull login -u berth --password-stdin "$TOKEN_REG" <<<"wrong-pw"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "'$TOKEN_REG'"
        assert_contains "$stderr" "HTTP 401"
        assert_not_contains "$stderr" "wrong-pw"
        cmp "$AUTH" "$BATS_TEST_TMPDIR/before" || die "a refused login changed the auth file"
        # No file at all stays no file.
        rm -f "$AUTH"
        run_tool 1 berth-pull login -u berth --password-stdin "$BASIC" <<<"wrong-pw"
        [[ ! -e $AUTH ]] || die "a refused login wrote $AUTH"
}

@test "login: Bearer registry with --password-stdin; other entries and top-level keys are kept" {
        other_entries "$AUTH"
        run_tool --stderr berth-pull login --username berth --password-stdin "$TOKEN_REG" <<<"$PASS"
        is "$output" "Login Succeeded!"
        is "$stderr" ""
        # The token realm got the credentials, then /v2/ the token.
        local log
        log=$(hostile_log)
        is "$(jq -c '[.[] | select(.path | startswith("/token")) | .auth]' <<<"$log")" '["Basic"]'
        is "$(jq -c '[.[] | select(.path == "/v2/") | .auth]' <<<"$log")" '[null,"Bearer"]'
        is "$(jq -r --arg k "$TOKEN_REG" '.auths[$k].auth' "$AUTH")" "$(b64 "berth:$PASS")"
        is "$(jq -r '.auths["other.example"].auth' "$AUTH")" "$(b64 someone:else)"
        is "$(jq -c '[.credHelpers, ."x-tool"]' "$AUTH")" '[{"helped.example":"x"},[1]]'
        run_tool berth-pull "$TOKEN_REG/bearer:latest"
        is "$output" "sha256:*"
        # podman's rules for the password options
        run_tool --stderr 2 berth-pull login --password-stdin "$TOKEN_REG" <<<"$PASS"
        is "$stderr" "berth-pull: Must provide --username with --password-stdin"
        run_tool 2 berth-pull login -u berth -p x --password-stdin "$TOKEN_REG"
        assert_contains "$output" "mutually exclusive"
}

@test "logout: removes the entry (pull then fails for want of credentials); --all; not logged in is an error" {
        other_entries "$AUTH"
        run_tool berth-pull login -u berth --password-stdin "$BASIC" <<<"$PASS"
        run_tool berth-pull logout "$BASIC"
        is "$output" "Removed login credentials for $BASIC"
        is "$(jq -r --arg k "$BASIC" '.auths | has($k)' "$AUTH")" false
        is "$(jq -r '.auths["other.example"].auth' "$AUTH")" "$(b64 someone:else)"
        is "$(stat -c %a "$AUTH")" 600
        run_tool --stderr 1 berth-pull "$BASIC/busybox:latest"
        assert_contains "$stderr" "wants a user name and password"
        cp "$AUTH" "$BATS_TEST_TMPDIR/before"
        run_tool --stderr 1 berth-pull logout "$BASIC"
        is "$stderr" "berth-pull: Not logged into '$BASIC' (no entry in '$AUTH')"
        cmp "$AUTH" "$BATS_TEST_TMPDIR/before" || die "a failed logout changed the auth file"
        # --all empties auths and keeps everything else
        run_tool berth-pull login -u berth --password-stdin "$BASIC" <<<"$PASS"
        run_tool berth-pull logout --all
        is "$output" "Removed login credentials for all registries"
        is "$(jq -c '[.auths, .credHelpers, ."x-tool"]' "$AUTH")" '[{},{"helped.example":"x"},[1]]'
        run_tool 2 berth-pull logout -a "$BASIC"
        run_tool --stderr 1 berth-pull login --get-login "$BASIC"
        is "$stderr" "berth-pull: Not logged into '$BASIC'"
}

@test "login: --authfile and REGISTRY_AUTH_FILE are the file written; repository entries; URL forms" {
        local f=$BATS_TEST_TMPDIR/deep/er/auth.json
        # A named file that is not there yet holds no credentials: nothing to try, nothing to get.
        run_tool --stderr 1 berth-pull login --authfile "$f" "$BASIC" </dev/null
        assert_contains "$stderr" "Cannot ask for a user name"
        run_tool --stderr 1 berth-pull login --authfile "$f" --get-login "$BASIC"
        is "$stderr" "berth-pull: Not logged into '$BASIC'"
        run_tool berth-pull login --authfile "$f" -u berth --password-stdin "$BASIC" <<<"$PASS"
        is "$(jq -r --arg k "$BASIC" '.auths[$k].auth' "$f")" "$(b64 "berth:$PASS")"
        [[ ! -e $AUTH ]] || die "--authfile given, yet $AUTH was written"
        run_tool berth-pull --authfile "$f" "$BASIC/busybox:latest"
        REGISTRY_AUTH_FILE=$f run_tool berth-pull logout "$BASIC"
        is "$(jq -c .auths "$f")" '{}'
        # A URL stands for its host[:port], as with podman; a repository gets an entry of its own.
        run_tool berth-pull login -u berth --password-stdin "http://$BASIC/v2/" <<<"$PASS"
        run_tool berth-pull login -u berth --password-stdin "$BASIC/busybox" <<<"$PASS"
        is "$(jq -c '.auths | keys' "$AUTH")" "[\"$BASIC\",\"$BASIC/busybox\"]"
        run_tool berth-pull login --get-login "$BASIC/busybox"
        is "$output" berth
        run_tool berth-pull logout "https://$BASIC"
        run_tool berth-pull logout "$BASIC/busybox"
        is "$(jq -c .auths "$AUTH")" '{}'
        # Refused names: usage errors that never echo a secret.
        run_tool --stderr 2 berth-pull login -u berth --password-stdin "https://berth:$PASS@$BASIC" <<<"$PASS"
        assert_not_contains "$stderr" "$PASS"
        run_tool --stderr 2 berth-pull login -u berth --password-stdin "busybox/x" <<<"$PASS"
        assert_contains "$stderr" "Invalid registry 'busybox/x'"
        run_tool 2 berth-pull login -u berth --password-stdin "$BASIC/busybox:latest" <<<"$PASS"
        run_tool 2 berth-pull login -u berth --password-stdin "bad_host!" <<<"$PASS"
        run_tool 2 berth-pull login -u berth --password-stdin "$BASIC" extra <<<"$PASS"
        run_tool 2 berth-pull login
        [[ ! -e $AUTH ]] || is "$(jq -c .auths "$AUTH")" '{}'
}

@test "login: a corrupt auth file is an error naming it, and is never overwritten" {
        mkdir -p "$(dirname "$AUTH")"
        printf '{"auths": {"x": ' >"$AUTH"
        cp "$AUTH" "$BATS_TEST_TMPDIR/before"
        run_tool --stderr 1 berth-pull login -u berth --password-stdin "$BASIC" <<<"$PASS"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "Auth file '$AUTH' is not valid JSON"
        cmp "$AUTH" "$BATS_TEST_TMPDIR/before" || die "login overwrote a corrupt auth file"
        run_tool 1 berth-pull logout "$BASIC"
        run_tool 1 berth-pull logout --all
        cmp "$AUTH" "$BATS_TEST_TMPDIR/before" || die "logout overwrote a corrupt auth file"
        printf '{"auths": []}\n' >"$AUTH"
        run_tool --stderr 1 berth-pull login -u berth --password-stdin "$BASIC" <<<"$PASS"
        assert_contains "$stderr" "'auths' must be an object"
        is "$(cat "$AUTH")" '{"auths": []}'
}

@test "login: prompts on a terminal (password not echoed); without one, a clear error and no file" {
        run_tool --stderr 1 berth-pull login "$BASIC" </dev/null
        is "$stderr" "berth-pull: Cannot ask for a user name: standard input is not a terminal (use --username)"
        run_tool --stderr 1 berth-pull login -u berth "$BASIC" </dev/null
        is "$stderr" "berth-pull: Cannot ask for the password: standard input is not a terminal (use --password-stdin)"
        [[ ! -e $AUTH ]] || die "a failed login wrote $AUTH"
        # On a pseudo-terminal: answer both prompts; the terminal shows the user name, never the password.
        run_tool python3 - "$BERTH_BUILD/berth-pull" "$BASIC" "$PASS" <<-'EOF'
	import os, pty, sys
	prog, reg, pw = sys.argv[1:]
	pid, fd = pty.fork()
	if pid == 0:
	    os.execv(prog, [prog, "login", reg])
	seen = b""
	def until(s):
	    global seen
	    while s not in seen:
	        seen += os.read(fd, 1024)
	until(b"Username: ")
	os.write(fd, b"berth\n")
	until(b"Password: ")
	os.write(fd, pw.encode() + b"\n")
	try:
	    while True:
	        d = os.read(fd, 1024)
	        if not d:
	            break
	        seen += d
	except OSError:
	    pass
	_, st = os.waitpid(pid, 0)
	sys.stdout.write(seen.decode().replace("\r", ""))
	sys.exit(os.waitstatus_to_exitcode(st))
	EOF
        assert_contains "$output" "Username: berth"
        assert_contains "$output" "Login Succeeded!"
        assert_not_contains "$output" "$PASS"
        is "$(jq -r --arg k "$BASIC" '.auths[$k].auth' "$AUTH")" "$(b64 "berth:$PASS")"
}

@test "login: -p is wiped from the command line at once (visible while the registry is asked)" {
        # A registry that accepts the connection and never answers: login waits there, and its argv is read.
        local d=$BATS_TEST_TMPDIR port pid i
        port=$(random_free_port)
        python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
open(sys.argv[2] + ".ready", "w").close()
c, _ = s.accept(); open(sys.argv[2], "w").close(); time.sleep(60)' "$port" "$d/accepted" </dev/null >/dev/null 2>&1 3>&- &
        echo $! >>"$BATS_TEST_TMPDIR/.berth-pids"
        for ((i = 0; i < 250; i++)); do
                [[ -e $d/accepted.ready ]] && break
                sleep 0.02
        done
        "$BERTH_BUILD/berth-pull" login --timeout 30s -u berth -p "hide-$PASS" "127.0.0.1:$port" \
                >"$d/out" 2>&1 3>&- &
        pid=$!
        for ((i = 0; i < 500; i++)); do
                [[ -e $d/accepted ]] && break
                sleep 0.02
        done
        [[ -e $d/accepted ]] || die "login never reached the registry: $(cat "$d/out")"
        local argv
        argv=$(tr '\0' ' ' <"/proc/$pid/cmdline")
        kill "$pid"
        wait "$pid" || true
        assert_contains "$argv" "login --timeout 30s -u berth -p "
        assert_not_contains "$argv" "hide-$PASS"
}

@test "login over TLS: the certificate is checked (--cert-dir, --tls-verify=false); registries.conf blocked" {
        local d=$BATS_TEST_TMPDIR port i
        port=$(random_free_port)
        tls_registry_config "$d" "$port"
        htpasswd -Bbn berth "$PASS" >"$d/htpasswd"
        printf 'auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n' "$d/htpasswd" >>"$d/registry.yml"
        docker-registry serve "$d/registry.yml" </dev/null >"$d/registry.log" 2>&1 3>&- &
        echo $! >>"$BATS_TEST_TMPDIR/.berth-pids"
        for ((i = 0; i < 250; i++)); do
                [[ $(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/v2/") == 401 ]] && break
                sleep 0.02
        done
        local reg=127.0.0.1:$port
        run_tool --stderr 1 berth-pull login --retry 0 -u berth --password-stdin "$reg" <<<"$PASS"
        is "${#stderr_lines[@]}" 1
        assert_contains "$stderr" "Login to '$reg'"
        assert_contains "$stderr" "certificate"
        [[ ! -e $AUTH ]] || die "a failed login wrote $AUTH"
        run_tool --stderr 1 berth-pull login --cert-dir "$d/certs" -u berth --password-stdin "$reg" <<<"wrong"
        assert_contains "$stderr" "HTTP 401"
        run_tool berth-pull login --cert-dir "$d/certs" -u berth --password-stdin "$reg" <<<"$PASS"
        is "$output" "Login Succeeded!"
        run_tool berth-pull logout "$reg"
        run_tool berth-pull login --tls-verify=false -u berth --password-stdin "$reg" <<<"$PASS"
        is "$output" "Login Succeeded!"
        printf '[[registry]]\nlocation = "%s"\nblocked = true\n' "$reg" >"$d/registries.conf"
        run_tool --stderr 1 berth-pull login --registries-conf "$d/registries.conf" -u berth --password-stdin \
                "$reg" <<<"$PASS"
        is "$stderr" "berth-pull: Registry '$reg' is blocked in registries.conf"
}

@test "berth login and berth logout reach berth-pull" {
        run_tool berth login -u berth --password-stdin "$BASIC" <<<"$PASS"
        is "$output" "Login Succeeded!"
        run_tool berth login --get-login "$BASIC"
        is "$output" berth
        run_tool berth logout "$BASIC"
        is "$output" "Removed login credentials for $BASIC"
        run_tool berth login --help
        assert_contains "$output" "berth-pull login"
}
