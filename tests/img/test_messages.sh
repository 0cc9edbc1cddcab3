#!/usr/bin/env bash
# What a user reads from dvs img (issue 11): errors in the user's words,
# never a C function name; a fetch that never reached the server says
# "cannot connect to HOST:PORT: connection refused" once, at once, and
# neither retries nor talks of resuming; an existing OUTPUT is a seed
# (rsync's basis file) unless --no-basis.
. "$(dirname "$0")/lib.sh"
export DVS_IMG_TIMEOUT_MS=3000

# no_internal_names FILE: no "recv_expect:", "img_key_load:", ... in FILE.
no_internal_names() {
	if grep -E '(^|: )[a-z_]+_[a-z_]+: |img_fetch_session|recv_expect|error: [a-z_]+:' "$1"; then
		fail "an internal function name in: $(cat "$1")"
	fi
}

rand_blocks "$T/src" 256
head -c 32 /dev/urandom | base64 >"$T/key"
head -c 32 /dev/urandom | base64 >"$T/wrong"
chmod 600 "$T/key" "$T/wrong"

note() { echo "== $*"; }
note "nothing listens"
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' >"$T/port"
dead=$(cat "$T/port")
t0=$(date +%s%N)
rc=0; "$IMG" fetch 127.0.0.1:"$dead" "$T/out" 2>"$T/err" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
cat "$T/err"
[ "$rc" = 3 ] || fail "exit $rc, want 3"
[ "$(cat "$T/err")" = "dvs img fetch: cannot connect to 127.0.0.1:$dead: connection refused" ] ||
	fail "want exactly one line 'cannot connect to 127.0.0.1:$dead: connection refused'"
[ "$ms" -lt 900 ] || fail "took $ms ms: it retried"
[ ! -e "$T/out" ] && [ ! -e "$T/out.partial" ] && [ ! -e "$T/out.partial.state" ] ||
	fail "files left by a fetch that never connected"
ok "connection refused, said once, no retry"

note "key problems and broken streams: user words only"
"$IMG" fetch 127.0.0.1:"$dead" "$T/out" --key-file "$T/nokey" 2>"$T/err" && fail "missing key file accepted"
grep -q "cannot open key file $T/nokey" "$T/err" || fail "missing key file: $(cat "$T/err")"
no_internal_names "$T/err"
serve "$T/src" --key-file "$T/key"
for args in "--key-file $T/wrong" ""; do
	"$IMG" fetch 127.0.0.1:"$PORT" "$T/out" $args --retries 0 2>"$T/err" && fail "fetch with '$args' succeeded"
	cat "$T/err"
	no_internal_names "$T/err"
	grep -qi "key" "$T/err" || fail "no word of the key: $(cat "$T/err")"
done
stop_server
serve "$T/src" --insecure-no-key --corrupt-at 9000
"$IMG" fetch 127.0.0.1:"$PORT" "$T/out" --retries 0 2>"$T/err" && fail "corrupt stream accepted"
cat "$T/err"
no_internal_names "$T/err"
stop_server
rm -f "$T"/out*
ok "no function names"

note "an existing OUTPUT is the basis"
serve "$T/src" --insecure-no-key
cp "$T/src" "$T/out"
for b in 3 50 51 200 255; do
	head -c 4096 /dev/urandom | dd of="$T/out" bs=4096 seek=$b conv=notrunc status=none
done
j=$("$IMG" fetch 127.0.0.1:"$PORT" "$T/out" --json --no-progress 2>/dev/null) || fail "fetch onto an older copy"
cmp "$T/src" "$T/out" || fail "output differs"
expect "$j" sent_blocks 5 "basis"
expect "$j" seed_blocks 251 "basis"
ok "only the 5 changed blocks crossed the network"
cp "$T/src" "$T/out2"
j=$("$IMG" fetch 127.0.0.1:"$PORT" "$T/out2" --json --no-basis 2>/dev/null) || fail "--no-basis"
expect "$j" sent_blocks 256 "--no-basis"
cmp "$T/src" "$T/out2" || fail "output differs (--no-basis)"
ok "--no-basis fetches everything"
stop_server

# A number that is not one is bad usage (status 2) with the option named,
# never a silent 0 (it was: --threads abc hashed on every core).
for bad in "fetch 127.0.0.1:1 $T/never --threads abc" "fetch 127.0.0.1:1 $T/never --retries -1" \
	"fetch 127.0.0.1:1 $T/never --inflight 0" "index $T/src --threads 2x" \
	"serve $T/src --max-rounds many"; do
	rc=0
	# shellcheck disable=SC2086
	"$IMG" $bad >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "dvs img $bad: exit $rc, want 2: $(cat "$T/err")"
	grep -q "needs a number from" "$T/err" || fail "dvs img $bad: $(cat "$T/err")"
done
[ ! -e "$T/never" ] || fail "a fetch with a bad number wrote its output"
ok "bad numbers are refused with status 2"
echo "messages ok"
