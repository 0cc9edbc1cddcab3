#!/usr/bin/env bash
# Scenario A1: dvs-cp -> dvs-fs on an image file.  A tree goes in and out
# byte-exact; mtools reads what we wrote and we read what mtools wrote; the
# dirty flag is set while served and the clean stop leaves fsck.fat happy.
. "$(dirname "$0")/lib.sh"
node_start
mkimg "$T/a1.img" 64
mktree "$T/src"
echo "written by mtools" >"$T/from-mtools.txt"
mcopy -i "$T/a1.img" "$T/from-mtools.txt" ::/from-mtools.txt || fail "mcopy in"

fs_start "$T/a1.img"
note "dirty flag set while mounted"
out=$(fsck.fat -n "$T/a1.img" 2>&1) || true
echo "$out" | grep -q "Dirty bit is set" || fail "dirty bit not set while served: $out"

note "copy a tree in"
client "$B/dvs-cp" -r "$T/src" dvs:/tree || fail "dvs-cp in"
note "copy it out and compare"
client "$B/dvs-cp" -r dvs:/tree "$T/out" || fail "dvs-cp out"
diff -r "$T/src" "$T/out" || fail "tree differs after the round trip"
note "a single file into an existing directory, and out again"
client "$B/dvs-cp" "$T/src/big.bin" dvs:/ || fail "file into dir"
client "$B/dvs-cp" dvs:/big.bin "$T/big.again" || fail "file out"
cmp "$T/src/big.bin" "$T/big.again" || fail "big.bin differs"
client "$B/dvs-cp" dvs:/from-mtools.txt "$T/got.txt" || fail "read mtools' file"
cmp "$T/from-mtools.txt" "$T/got.txt" || fail "mtools' file differs"

note "a progress line on a terminal"
DVS_CP_PROGRESS_NOW=1 script -qec "'$B/dvsctl' run --dc 1 --ep 100-199 -- '$B/dvs-cp' '$T/src/big.bin' dvs:/progress.bin" /dev/null >"$T/tty.out" 2>&1 ||
	fail "dvs-cp on a terminal: $(cat "$T/tty.out")"
grep -q "MiB/s" "$T/tty.out" || fail "no progress line on a terminal: $(cat "$T/tty.out")"
client "$B/dvs-cp" "$T/src/big.bin" dvs:/quiet.bin 2>"$T/err" || fail "dvs-cp"
[ ! -s "$T/err" ] || fail "progress or noise without a terminal: $(cat "$T/err")"
client "$B/dvs-cp" dvs:/progress.bin dvs:/progress.bin 2>"$T/err" && fail "copy onto itself accepted"
grep -q "same file" "$T/err" || fail "copy onto itself: $(cat "$T/err")"
client "$B/dvs-cp" -r dvs:/tree dvs:/tree/sub/again 2>"$T/err" && fail "copy into itself accepted"
grep -q "into itself" "$T/err" || fail "copy into itself: $(cat "$T/err")"

note "errors are clear and exit nonzero"
rc=0; client "$B/dvs-cp" dvs:/no/such "$T/x" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "missing source: exit $rc"
grep -q "No such file" "$T/err" || fail "missing source message: $(cat "$T/err")"
rc=0; client "$B/dvs-cp" "$T/src" dvs:/nor 2>"$T/err" || rc=$?
[ "$rc" = 1 ] && grep -q "use -r" "$T/err" || fail "directory without -r: $rc $(cat "$T/err")"
rc=0; client "$B/dvs-cp" -e 77 "$T/src/one.bin" dvs:/x 2>"$T/err" || rc=$?
[ "$rc" = 3 ] || fail "no server at endpoint 77: exit $rc"
rc=0; "$B/dvs-cp" "$T/src/one.bin" dvs:/x 2>"$T/err" || rc=$?
[ "$rc" = 3 ] && grep -q "dvsctl run" "$T/err" || fail "outside the DC: $rc $(cat "$T/err")"

note "overwriting a file that fills most of the volume (freed clusters reused)"
head -c 40000000 /dev/urandom >"$T/40m.bin"
client "$B/dvs-cp" -q "$T/40m.bin" dvs:/re.bin || fail "first copy of 40m.bin"
client "$B/dvs-cp" -q "$T/40m.bin" dvs:/re.bin || fail "overwrite of 40m.bin"
client "$B/dvs-cp" -q dvs:/re.bin "$T/40m.back" || fail "read 40m.bin back"
cmp "$T/40m.bin" "$T/40m.back" || fail "40m.bin differs"
rc=0; timeout 60 "$B/dvsctl" run --dc 1 --ep 100-199 -- "$B/dvs-cp" -q dvs:/re.bin /dev/full 2>"$T/err" || rc=$?
[ "$rc" = 1 ] && grep -q "/dev/full: write: No space left" "$T/err" || fail "write error on the Linux side: $rc $(cat "$T/err")"
fs_stop
note "clean after SIGTERM"
fsck_clean "$T/a1.img"
note "mtools reads back the same tree"
mcopy -s -i "$T/a1.img" ::/tree "$T/mt" || fail "mcopy out"
diff -r "$T/src" "$T/mt" || fail "mtools sees a different tree"
echo PASS
