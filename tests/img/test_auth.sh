#!/usr/bin/env bash
# Secure by default: a key is required to serve over TCP, a wrong or
# missing key is refused, the key never crosses the wire; --stdio works
# the way it does under ssh.
. "$(dirname "$0")/lib.sh"

rand_blocks "$T/src" 64
head -c 32 /dev/urandom | base64 >"$T/key"
head -c 32 /dev/urandom | base64 >"$T/wrong"
chmod 600 "$T/key" "$T/wrong"

set +e
"$IMG" serve "$T/src" --listen 127.0.0.1:0 2>"$T/err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "serve without a key exited $rc, want 2"
grep -q -- "--key-file" "$T/err" || fail "no advice: $(cat "$T/err")"
echo short >"$T/short"
set +e
"$IMG" serve "$T/src" --listen 127.0.0.1:0 --key-file "$T/short" 2>/dev/null; rc=$?
set -e
[ $rc -eq 2 ] || fail "a 5-byte key was accepted (exit $rc)"
ok "no key, no server"

serve "$T/src" --key-file "$T/key"
"$IMG" fetch 127.0.0.1:"$PORT" "$T/out" --key-file "$T/key" 2>/dev/null || fail "right key refused"
cmp "$T/src" "$T/out" || fail "output differs"
ok "right key"
for case in wrong none; do
	args=()
	[ $case = wrong ] && args=(--key-file "$T/wrong")
	set +e
	"$IMG" fetch 127.0.0.1:"$PORT" "$T/out.$case" "${args[@]}" --retries 0 2>"$T/err"; rc=$?
	set -e
	[ $rc -eq 4 ] || fail "$case key: exit $rc, want 4: $(cat "$T/err")"
	grep -qiE "key|authentication" "$T/err" || fail "$case key: no message"
	[ ! -e "$T/out.$case" ] && [ ! -e "$T/out.$case.partial" ] || fail "$case key: output created"
	ok "$case key refused"
done
stop_server

# A client with a key refuses a server that cannot prove it has one.
serve "$T/src" --insecure-no-key
set +e
"$IMG" fetch 127.0.0.1:"$PORT" "$T/out.x" --key-file "$T/key" --retries 0 2>"$T/err"; rc=$?
set -e
[ $rc -eq 4 ] || fail "keyless server accepted by a client with a key (exit $rc)"
stop_server
ok "keyless server refused when a key is given"

# --stdio both ends (what `-- ssh host dvs img serve --stdio IMAGE` does),
# with the key, recording both directions: the key is not in them.
out=$("$IMG" fetch --stdio "$T/out.s" --key-file "$T/key" --compress zstd --json -- \
	sh -c "tee '$T/c2s' | '$IMG' serve --stdio --key-file '$T/key' '$T/src' | tee '$T/s2c'") ||
	fail "stdio fetch failed: $out"
cmp "$T/src" "$T/out.s" || fail "stdio output differs"
key=$(head -c 20 "$T/key")
! grep -qF "$key" "$T/c2s" "$T/s2c" || fail "the key crossed the wire"
[ -s "$T/c2s" ] && [ -s "$T/s2c" ] || fail "nothing recorded"
ok "stdio transfer; key not on the wire"
echo "auth ok"
