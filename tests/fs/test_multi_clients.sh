#!/usr/bin/env bash
# Several client processes, each with several threads (one binding each),
# write different files and read the same file at once; every byte is
# checked through the server, and the shared file once more with mtools.
. "$(dirname "$0")/lib.sh"
node_start
mkimg "$T/m.img" 64
fs_start "$T/m.img"
client "$FS_CLIENT" mkshared 2000000 >/dev/null || fail "mkshared"
pids=()
for c in 0 1 2; do
	client "$FS_CLIENT" multi "c$c" 4 700000 >"$T/client$c.log" 2>&1 &
	pids+=($!)
done
# One more client admitted to a single endpoint: its threads cannot bind
# their own and share the connecting thread's binding (slower, correct).
"$B/dvsctl" run --dc 1 --ep 150 -- "$FS_CLIENT" multi "one" 3 300000 >"$T/client3.log" 2>&1 &
pids+=($!)
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || { cat "$T/client$i.log"; fail "client $i failed"; }
done
grep -c '^ok' "$T"/client*.log | sed 's/^/  checks passed: /'
client "$B/dvs-cp" dvs:/shared.bin "$T/shared.dvs" || fail "dvs-cp shared"
client "$B/dvs-cp" dvs:/c1-3.bin "$T/c13.dvs" || fail "dvs-cp c1-3"
fs_stop
fsck_clean "$T/m.img"
mcopy -i "$T/m.img" ::/shared.bin "$T/shared.mt" || fail "mcopy"
mcopy -i "$T/m.img" ::/c1-3.bin "$T/c13.mt" || fail "mcopy"
cmp "$T/shared.dvs" "$T/shared.mt" || fail "shared.bin differs under mtools"
cmp "$T/c13.dvs" "$T/c13.mt" || fail "c1-3.bin differs under mtools"
[ "$(stat -c %s "$T/c13.mt")" = $((700000 + 3 * 4099)) ] || fail "c1-3.bin size"
echo PASS
