#!/usr/bin/env bash
# dvs-vdd gone: dvs-fs answers EIO and keeps running; with a vdd back on
# the endpoint it serves again.
. "$(dirname "$0")/lib.sh"
node_start
mkimg "$T/v.img" 64
vdd_start "$T/v.img"
fs_start --vdd 20
echo hello >"$T/small.txt"
client "$B/dvs-cp" "$T/small.txt" dvs:/small.txt || fail "copy in"
kill -9 "$VDD_PID"; wait "$VDD_PID" 2>/dev/null || true; VDD_PID=
head -c 3000000 /dev/urandom >"$T/big.bin"
rc=0; timeout 60 "$B/dvsctl" run --dc 1 --ep 100-199 -- "$B/dvs-cp" -q "$T/big.bin" dvs:/big.bin 2>"$T/err" || rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "copy with the vdd gone: exit $rc (want 1)"
grep -q "Input/output error" "$T/err" || fail "error is not EIO"
kill -0 "$FS_PID" || fail "dvs-fs died with the vdd"
client "$B/dvs-cp" --stats >/dev/null || fail "dvs-fs does not answer"
note "vdd back"
vdd_start "$T/v.img"
wait_vdd
client "$B/dvs-cp" dvs:/small.txt "$T/small.back" || fail "read after the vdd came back"
cmp "$T/small.txt" "$T/small.back" || fail "small.txt differs"
client "$B/dvs-cp" "$T/small.txt" dvs:/again.txt || fail "write after the vdd came back"
fs_stop
vdd_stop
fsck_after_crash "$T/v.img"
echo PASS
