#!/usr/bin/env bash
# measure_cp.sh BUILD/bin: a quick look at dvs-cp in A1 and A2 beside mcopy
# (256 MiB file, 512 MiB FAT32 images on /dev/shm, one run, MB/s = 10^6 B/s).
# Not a test and not the published figures: those come from `dvs-bench fs`.
set -euo pipefail
B=$1; T=$(mktemp -d /dev/shm/fsm.XXXX); export DVS_SOCKET=$T/dvkd.sock MTOOLS_SKIP_CHECK=1
trap '"$B/dvsctl" stop >/dev/null 2>&1; rm -rf "$T"' EXIT
"$B/dvsctl" start >/dev/null; "$B/dvsctl" dc create 1 >/dev/null
head -c $((256<<20)) /dev/urandom >"$T/f.bin"
mkfs.fat -F 32 -C "$T/base.img" $((512*1024)) >/dev/null
t() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); echo "$(( 256*1048576*1000 / (e-s) ))"; }
cp "$T/base.img" "$T/m.img"; mw=$(t mcopy -i "$T/m.img" "$T/f.bin" ::/f.bin); mr=$(t mcopy -n -i "$T/m.img" ::/f.bin "$T/o.bin")
cp "$T/base.img" "$T/a1.img"
"$B/dvsctl" run --dc 1 --ep 1-9 -- "$B/dvs-fs" "$T/a1.img" 2>/dev/null & fs=$!; sleep 0.5
a1w=$(t "$B/dvsctl" run --dc 1 --ep 100-199 -- "$B/dvs-cp" -q "$T/f.bin" dvs:/f.bin)
a1r=$(t "$B/dvsctl" run --dc 1 --ep 100-199 -- "$B/dvs-cp" -q dvs:/f.bin "$T/o1.bin")
kill $fs; wait $fs
cp "$T/base.img" "$T/a2.img"
"$B/dvsctl" run --dc 1 --ep 20 -- "$B/dvs-vdd" "$T/a2.img" & vdd=$!; sleep 0.3
"$B/dvsctl" run --dc 1 --ep 1-9 -- "$B/dvs-fs" --vdd 20 2>/dev/null & fs=$!; sleep 0.5
a2w=$(t "$B/dvsctl" run --dc 1 --ep 100-199 -- "$B/dvs-cp" -q "$T/f.bin" dvs:/f.bin)
a2r=$(t "$B/dvsctl" run --dc 1 --ep 100-199 -- "$B/dvs-cp" -q dvs:/f.bin "$T/o2.bin")
kill $fs; wait $fs; kill $vdd; wait $vdd
cmp "$T/f.bin" "$T/o1.bin"; cmp "$T/f.bin" "$T/o2.bin"
echo "MB/s: mcopy_write $mw mcopy_read $mr a1_write $a1w a1_read $a1r a2_write $a2w a2_read $a2r"
