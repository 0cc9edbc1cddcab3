#!/usr/bin/env bash
# Corrupt images: seeded byte flips in the superblock, the group
# descriptors and the first inode table blocks of images made by mke2fs -d
# (ext4 with checksums, ext2 without).  With each, dvs-fs either refuses
# the volume with a clear message and an exit status (not a signal), or
# serves it and survives a copy of the whole tree out (errors allowed, no
# crash, no hang), then stops cleanly when told.
. "$(dirname "$0")/lib.sh"
need mke2fs dumpe2fs debugfs python3
SEEDS=${EXT_CORRUPT_SEEDS:-3}

mkdir -p "$T/src/d1/d2"
for i in $(seq 20); do head -c $((i * 3000)) /dev/urandom >"$T/src/d1/f$i"; done
echo hi >"$T/src/d1/d2/small"
ln -s d1/d2/small "$T/src/link"

# flip IMAGE OFFSET LENGTH SEED: xor 8 bytes of [OFFSET, OFFSET+LENGTH).
flip() {
	python3 - "$@" <<'PY'
import random, sys
img, off, length, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = random.Random(seed)
with open(img, "r+b") as f:
    for _ in range(8):
        pos = off + r.randrange(length)
        f.seek(pos)
        b = f.read(1)[0]
        f.seek(pos)
        f.write(bytes([b ^ r.randrange(1, 256)]))
PY
}

# One node for every case: dvs-fs is started on each image in turn and
# the whole volume is copied out with dvs cp (open, readdir, stat, read
# of every file), then dvs-fs is stopped.
export DVS_SOCKET=$T/dvkd.sock
dvsctl start >/dev/null 2>&1 || { echo "dvsctl start failed"; exit 1; }
dvsctl dc create 1 --endpoints 64 >/dev/null 2>&1 || { echo "dc create failed"; exit 1; }
stop_node() { dvsctl stop >/dev/null 2>&1; cleanup; }
trap stop_node EXIT

one() { # one LABEL IMAGE
	local label=$1 img=$2 p st i out
	rm -f "$T/fs.pid" "$T/fs.status" "$T/fs.log"
	rm -rf "$T/out"
	DVS_LOG=info dvsctl run --dc 1 --ep 1-9 -- sh -c \
		'"$@" & echo $! >"'"$T"'/fs.pid"; wait $!; echo $? >"'"$T"'/fs.status"' \
		sh dvs-fs --ep 1 --workers 2 "$img" >"$T/fs.log" 2>&1 &
	for i in $(seq 100); do
		grep -q 'serving 1 volume' "$T/fs.log" 2>/dev/null && break
		[ -e "$T/fs.status" ] && break
		sleep 0.05
	done
	for i in $(seq 100); do [ -e "$T/fs.status" ] || [ -s "$T/fs.pid" ] && break; sleep 0.05; done
	if [ -e "$T/fs.status" ]; then
		st=$(cat "$T/fs.status")
		out=$(grep -E 'volume main' "$T/fs.log" | head -n 1)
		if [ "$st" -gt 0 ] && [ "$st" -lt 128 ] && [ -n "$out" ] &&
		   ! grep -E -q 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/fs.log"; then
			ok "$label: refused (exit $st): ${out#*: }"
		else
			bad "$label: dvs-fs ended with status $st and no clear message"
			tail -5 "$T/fs.log"
		fi
		wait
		return
	fi
	p=$(cat "$T/fs.pid")
	timeout 30 dvsctl run --dc 1 --ep 20 -- dvs-cp -r -q ${CP_OPTS:-} dvs:/ "$T/out" >"$T/cp.out" 2>&1
	st=$?
	if [ $st -eq 124 ]; then
		bad "$label: copying the volume out hung"
	elif ! kill -0 "$p" 2>/dev/null; then
		bad "$label: dvs-fs died during the copy (exit $(cat "$T/fs.status" 2>/dev/null))"
	else
		ok "$label: served; dvs cp exit $st ($(grep -c . "$T/cp.out") error lines); dvs-fs alive"
	fi
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 100); do [ -e "$T/fs.status" ] && break; sleep 0.1; done
	st=$(cat "$T/fs.status" 2>/dev/null)
	check "$label: dvs-fs stopped cleanly when told (exit '$st')" [ "$st" = 0 ]
	if grep -E -q 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/fs.log"; then
		bad "$label: sanitizer report:"
		grep -E -A20 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/fs.log" | head -30
	fi
	wait
}

log "an intact image is copied out whole"
mkext "$T/good.img" 16 -t ext4 -b 1024 -I 256 -d "$T/src"
one "intact ext4" "$T/good.img"
# dvs cp leaves symbolic links out unless -L (it names them).
check "intact ext4: the copy is the tree" diff -r -x lost+found -x link "$T/src" "$T/out"

log "inode times past what 64-bit nanoseconds hold are clamped"
# ext4's epoch bits reach 2446; the wire's nanoseconds end in 2262.  The
# fuzz target found the overflow (it gave 1861 in a plain build).
cp "$T/good.img" "$T/far.img"
debugfs -w -R "set_inode_field /d1/f1 mtime 0x7fffffff" "$T/far.img" >/dev/null 2>&1
debugfs -w -R "set_inode_field /d1/f1 mtime_extra 0xffffffff" "$T/far.img" >/dev/null 2>&1
CP_OPTS=-p one "ext4 with a time in 2446" "$T/far.img"
check "a time in 2446 reads as the last second of 2262 ($(stat -c %Y "$T/out/d1/f1" 2>&1))" \
	[ "$(stat -c %Y "$T/out/d1/f1" 2>/dev/null)" = 9223372035 ]

for kind in ext4 ext2; do
	base=$T/base-$kind.img
	mkext "$base" 16 -t "$kind" -b 1024 -I 256 -d "$T/src"
	bs=1024
	gd=$(dumpe2fs "$base" 2>/dev/null | sed -n 's/.*Group descriptors at \([0-9]*\)-.*/\1/p' | head -n1)
	it=$(dumpe2fs "$base" 2>/dev/null | sed -n 's/.*Inode table at \([0-9]*\)-.*/\1/p' | head -n1)
	[ -n "$gd" ] && [ -n "$it" ] || { bad "$kind: dumpe2fs gave no layout"; continue; }
	for seed in $(seq "$SEEDS"); do
		for region in "superblock 1024 1024" "descriptors $((gd * bs)) 64" \
			      "inodes $((it * bs)) $((16 * 256))"; do
			set -- $region
			img=$T/c.img
			cp "$base" "$img"
			flip "$img" "$2" "$3" "$seed"
			one "$kind $1 seed $seed" "$img"
		done
	done
done
finish
