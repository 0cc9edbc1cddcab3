#!/usr/bin/env bash
# kill -9 of dvs-fs: a client in the middle of a write/read loop gets an
# error at once (not a hang), a new client gets "cannot reach", and the
# image shows nothing a crash must not cause.
. "$(dirname "$0")/lib.sh"
node_start
mkimg "$T/s.img" 64
# Metadata written back every second, so the kill lands between flushes.
fs_start --flush-sec 1 "$T/s.img"
head -c 5000000 /dev/urandom >"$T/f.bin"
client "$B/dvs-cp" "$T/f.bin" dvs:/synced.bin || fail "dvs-cp"
"$B/dvsctl" run --dc 1 --ep 100-199 -- "$FS_CLIENT" loop busy >"$T/loop.log" 2>&1 &
LOOP=$!
PIDS+=($LOOP)
for i in $(seq 1 100); do grep -q looping "$T/loop.log" && break; sleep 0.1; done
# A tree copy allocating clusters and directory entries at the same time.
mkdir -p "$T/tree/a" "$T/tree/b"
for i in $(seq 1 150); do head -c $((i * 700)) /dev/urandom >"$T/tree/a/f$i"; done
head -c 20000000 /dev/urandom >"$T/tree/b/big"
"$B/dvsctl" run --dc 1 --ep 100-199 -- "$B/dvs-cp" -q -b 512 -r "$T/tree" dvs:/tree >"$T/cp.log" 2>&1 &
CP=$!
PIDS+=($CP)
sleep 1.5
kill -9 "$FS_PID"
wait "$FS_PID" 2>/dev/null || true
FS_PID=
gone=
for i in $(seq 1 50); do
	kill -0 "$LOOP" 2>/dev/null || { gone=1; break; }
	sleep 0.1
done
[ -n "$gone" ] || fail "the client hangs after dvs-fs died"
for i in $(seq 1 50); do kill -0 "$CP" 2>/dev/null || break; sleep 0.1; done
kill -0 "$CP" 2>/dev/null && fail "dvs-cp hangs after dvs-fs died"
rc=0; wait "$CP" || rc=$?
echo "  dvs-cp: exit $rc: $(head -2 "$T/cp.log")"
[ "$rc" != 0 ] || grep -q . "$T/cp.log" || echo "  (dvs-cp had finished before the kill)"
rc=0; wait "$LOOP" || rc=$?
cat "$T/loop.log"
[ "$rc" = 1 ] || fail "client exit $rc"
grep -q "not connected" "$T/loop.log" || fail "client error is not ENOTCONN"
rc=0; timeout 20 "$B/dvsctl" run --dc 1 --ep 100-199 -- "$B/dvs-cp" dvs:/synced.bin "$T/x" 2>"$T/err" || rc=$?
[ "$rc" = 3 ] || fail "new client: exit $rc $(cat "$T/err")"
cat "$T/err"
fsck_after_crash "$T/s.img"
mcopy -i "$T/s.img" ::/synced.bin "$T/synced.mt" || fail "mcopy synced file"
cmp "$T/f.bin" "$T/synced.mt" || fail "a file copied (and closed) before the crash differs"
echo PASS
