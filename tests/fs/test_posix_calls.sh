#!/usr/bin/env bash
# Every call of libdvsfs once, with the errors a user meets, on a FAT32
# image made by mkfs.fat and on a FAT16 one; clean afterwards.
. "$(dirname "$0")/lib.sh"
node_start
mkimg "$T/p.img" 64
mkfs.fat -F 16 -C "$T/p16.img" 16384 >/dev/null || fail "mkfs.fat -F 16"
fs_start --volume big="$T/p.img" --volume small="$T/p16.img"
client "$FS_CLIENT" posix >"$T/posix.log" 2>&1 || { cat "$T/posix.log"; fail "posix on FAT32"; }
DVS_FS_VOLUME=small client "$FS_CLIENT" posix >"$T/posix16.log" 2>&1 || { cat "$T/posix16.log"; fail "posix on FAT16"; }
grep -c '^ok' "$T/posix.log" | sed 's/^/  checks passed: /'
echo x >"$T/x.txt"
client "$B/dvs-cp" -V small "$T/x.txt" dvs:/only16.txt || fail "copy to volume small"
note "a file larger than the volume: ENOSPC, exit 1, no hang"
head -c 20000000 /dev/urandom >"$T/20m.bin"
rc=0; timeout 60 "$B/dvsctl" run --dc 1 --ep 100-199 -- "$B/dvs-cp" -q -V small "$T/20m.bin" dvs:/full.bin 2>"$T/err" || rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "copy onto a full volume: exit $rc"
grep -q "No space left" "$T/err" || fail "no ENOSPC message"
fs_stop
fsck_clean "$T/p.img"
fsck_clean "$T/p16.img"
mdir -i "$T/p16.img" ::/only16.txt >/dev/null || fail "file not on the FAT16 volume"
mdir -i "$T/p.img" ::/only16.txt >/dev/null 2>&1 && fail "file on the wrong volume"
echo PASS
