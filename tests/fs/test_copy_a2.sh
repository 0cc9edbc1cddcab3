#!/usr/bin/env bash
# Scenario A2: dvs-cp -> dvs-fs -> dvs-vdd -> image file, on an image made
# by dvs-fat mkfs (or mkfs.fat); the vdd's traffic shows in dvsctl.
. "$(dirname "$0")/lib.sh"
node_start
if [ -x "$B/dvs-fat" ]; then
	"$B/dvs-fat" mkfs -F 32 -s 64M "$T/a2.img" >/dev/null || fail "dvs-fat mkfs"
else
	mkimg "$T/a2.img" 64
fi
mktree "$T/src"
vdd_start "$T/a2.img"
fs_start --vdd 20
note "copy a tree in and out through the vdd"
client "$B/dvs-cp" -r "$T/src" dvs:/tree || fail "dvs-cp in"
client "$B/dvs-cp" -r dvs:/tree "$T/out" || fail "dvs-cp out"
diff -r "$T/src" "$T/out" || fail "tree differs after the round trip"
note "the vdd endpoint carried the data (dvsctl ep list)"
"$B/dvsctl" --json ep list --dc 1 >"$T/eps.json"
python3 - "$T/eps.json" <<'PY' || fail "vdd endpoint shows no traffic"
import json, sys
eps = json.load(open(sys.argv[1]))
vdd = [e for e in eps if int(e.get("ep", -1)) == 20]
assert vdd, eps
e = vdd[0]
total = sum(int(v) for k, v in e.items() if isinstance(v, (int, float)) and ("recv" in k or "received" in k))
print("vdd endpoint:", e)
assert total > 0
PY
note "BLK_STATS through dvs-vdd --stats"
out=$(client "$B/dvs-vdd" --stats --ep 20) || fail "dvs-vdd --stats"
echo "  $out"
echo "$out" | grep -Eq "^reads [1-9][0-9]* writes [1-9][0-9]* .* errors 0 clients [1-9]" || fail "vdd stats: $out"
fs_stop
vdd_stop
fsck_clean "$T/a2.img"
mcopy -s -i "$T/a2.img" ::/tree "$T/mt" || fail "mcopy out"
diff -r "$T/src" "$T/mt" || fail "mtools sees a different tree"
echo PASS
