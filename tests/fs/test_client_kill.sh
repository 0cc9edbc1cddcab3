#!/usr/bin/env bash
# kill -9 of a client in the middle of its writes frees its descriptors
# (seen through the server's FS_STATS), and the server goes on serving.
. "$(dirname "$0")/lib.sh"
node_start
mkimg "$T/k.img" 64
# One worker: the stopped client and the others share it.
fs_start --workers 1 "$T/k.img"
# Not through the client function: $! must be the client itself.
"$B/dvsctl" run --dc 1 --ep 100-199 -- "$FS_CLIENT" hold victim 8 >"$T/hold.log" 2>&1 &
HOLD=$!
PIDS+=($HOLD)
for i in $(seq 1 100); do grep -q holding "$T/hold.log" && break; sleep 0.1; done
grep -q holding "$T/hold.log" || fail "holder did not open its files"
sleep 0.3
out=$(client "$FS_CLIENT" fds) || fail "stats"
echo "  before: $out"
[ "$out" = "fds 8 sessions 2" ] || fail "expected 8 open descriptors, got '$out'"
kill -0 "$HOLD" 2>/dev/null || fail "the holder stopped by itself: $(cat "$T/hold.log")"
note "a stopped (slow) client does not stall the others"
kill -STOP "$HOLD"
timeout 60 "$B/dvsctl" run --dc 1 --ep 100-199 -- "$FS_CLIENT" posix >"$T/posix.log" 2>&1 ||
	fail "another client could not work while one was stopped: $(tail -3 "$T/posix.log")"
kill -9 "$HOLD"
wait "$HOLD" 2>/dev/null || true
ok=
for i in $(seq 1 50); do
	out=$(client "$FS_CLIENT" fds) || fail "stats after the kill"
	if [ "$out" = "fds 0 sessions 1" ]; then ok=1; break; fi
	sleep 0.1
done
echo "  after:  $out"
[ -n "$ok" ] || fail "descriptors of the killed client were not freed"
client "$B/dvs-cp" --stats
client "$FS_CLIENT" posix >/dev/null || fail "server stopped serving"

note "a process that binds a dead client's endpoint at once gets none of its descriptors"
REUSE=${DVK_FS_REUSE:-$B/../tests/dvk/dvk_fs_reuse}
for i in 1 2 3; do
	rc=0
	"$B/dvsctl" run --dc 1 --ep 150 -- "$REUSE" 1 150 >"$T/reuse.log" 2>&1 || rc=$?
	echo "  $(cat "$T/reuse.log")"
	[ "$rc" = 1 ] && fail "a stranger on endpoint 150 used the dead client's descriptor"
	[ "$rc" = 0 ] || fail "the reuse test failed: $(cat "$T/reuse.log")"
done
out=$(client "$FS_CLIENT" fds) || fail "stats after the reuse"
[ "$out" = "fds 0 sessions 1" ] || fail "descriptors of the dead clients are still open: '$out'"
fs_stop
fsck_clean "$T/k.img"
echo PASS
