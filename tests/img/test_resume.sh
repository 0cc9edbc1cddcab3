#!/usr/bin/env bash
# The connection is cut at random points (a server test hook); each broken
# fetch leaves only OUTPUT.partial and its state, never OUTPUT, and running
# the same command again resumes and re-verifies what it had.
. "$(dirname "$0")/lib.sh"

rand_blocks "$T/src" 768                   # 3 MiB, index ~25 KiB
cuts=$(for i in 1 2 3; do echo $((300000 + RANDOM * 18)); done | paste -sd,)
echo "cut points: $cuts"
serve "$T/src" --insecure-no-key --drop-after "$cuts"
runs=0
while :; do
	runs=$((runs + 1))
	[ $runs -le 6 ] || fail "no success after 6 runs"
	set +e
	out=$("$IMG" fetch 127.0.0.1:"$PORT" "$T/out" --retries 0 --json 2>"$T/err"); rc=$?
	set -e
	[ $rc -eq 0 ] && break
	[ $rc -eq 3 ] || fail "a cut connection exited $rc, want 3: $(cat "$T/err")"
	grep -q "run the same command again" "$T/err" || fail "no resume hint: $(cat "$T/err")"
	[ ! -e "$T/out" ] || fail "a broken fetch left an OUTPUT that looks complete"
	[ -e "$T/out.partial" ] && [ -e "$T/out.partial.state" ] || fail "no partial file or state kept"
	ok "run $runs cut as planned (exit 3)"
done
cmp "$T/src" "$T/out" || fail "resumed output differs"
[ $runs -eq 4 ] || fail "expected 3 cuts then a success, got $runs runs"
resumed=$(jget "$out" resumed_blocks)
sent=$(jget "$out" sent_blocks)
[ "$resumed" -gt 0 ] || fail "the last run resumed nothing"
[ $((resumed + sent)) -eq 768 ] || fail "resumed $resumed + sent $sent != 768"
ok "resumed $resumed blocks, sent $sent"
stop_server

# A torn block in the partial file is noticed on resume and fetched again.
serve "$T/src" --insecure-no-key --drop-after 1500000
set +e
"$IMG" fetch 127.0.0.1:"$PORT" "$T/out2" --retries 0 2>/dev/null; rc=$?
set -e
[ $rc -eq 3 ] || fail "cut fetch exited $rc"
printf 'garbage' | dd of="$T/out2.partial" bs=1 seek=4100 conv=notrunc status=none
out=$("$IMG" fetch 127.0.0.1:"$PORT" "$T/out2" --retries 0 --json) || fail "resume failed: $out"
cmp "$T/src" "$T/out2" || fail "output with a torn block differs"
resumed=$(jget "$out" resumed_blocks)
sent=$(jget "$out" sent_blocks)
[ $((resumed + sent)) -eq 768 ] && [ "$resumed" -gt 0 ] || fail "resumed $resumed sent $sent"
ok "torn block re-fetched (resumed $resumed, sent $sent)"
stop_server

# Automatic reconnection: two cuts, --retries 3, one command succeeds.
serve "$T/src" --insecure-no-key --drop-after 200000,900000
out=$("$IMG" fetch 127.0.0.1:"$PORT" "$T/out3" --retries 3 --json 2>"$T/err") ||
	fail "fetch with retries failed: $(cat "$T/err")"
cmp "$T/src" "$T/out3" || fail "auto-resumed output differs"
expect "$out" attempts 3 "auto resume"
ok "reconnected twice by itself"
echo "resume ok"
