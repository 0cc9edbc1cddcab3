#!/usr/bin/env bash
# What a program sees of the attributes a `dvs mount` keeps of files
# (tools/fuse/attr_cache.c) and of the times it keeps back for a release
# (tools/fuse/times_defer.c, ext volumes): sizes, blocks, modes and times
# right after each change, and the same after a remount (so on the volume).
# docs/FUSE.md, "File attributes".
. "$(dirname "$0")/lib.sh"
need mkfs.fat fsck.fat mke2fs e2fsck findmnt tar python3

# times.py FILE: write, set the times through the descriptor, close; then
# a second file written again after its times were set (the write's time
# wins, as on any file system); then one removed while open.
cat >"$T/times.py" <<'EOF'
import os, sys, time
d = sys.argv[1]
fd = os.open(f"{d}/t1", os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"a" * 10000)
os.utime(fd, (1500000000, 1600000000))
os.close(fd)
fd = os.open(f"{d}/t2", os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"b" * 100)
os.utime(fd, (1500000000, 1600000000))
os.write(fd, b"c" * 100)
os.close(fd)
fd = os.open(f"{d}/t4", os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"e" * 100)
os.utime(fd, (1500000000, 1600000000))
os.fchmod(fd, 0o600)
ok = os.stat(f"{d}/t4").st_mtime == 1600000000 and os.fstat(fd).st_mtime == 1600000000
os.close(fd)
if not ok:
    sys.exit("t4: a chmod after futimens hid the times while the file was open")
fd = os.open(f"{d}/t3", os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"d" * 100)
os.unlink(f"{d}/t3")
os.utime(fd, (1500000000, 1600000000))
os.close(fd)
EOF

# A tar of files with an old time and mode 0640 (tar restores both).
mkdir -p "$T/src/tree"
for i in 1 2 3; do head -c 5000 /dev/urandom >"$T/src/tree/f$i"; done
chmod 0640 "$T/src/tree"/f*
touch -d '2019-05-06 07:08:10' "$T/src/tree"/f*
tar -cf "$T/tree.tar" -C "$T/src" tree
want_time=$(date -d '2019-05-06 07:08:10' +%s)

checks() { # checks MOUNT KIND: what must hold before and after a remount
	local M=$1 kind=$2 mode=640
	[ "$kind" = fat ] && mode=644 # FAT keeps only the read-only bit
	check "$kind: size of a written file" test "$(stat -c %s "$M/w")" = 10000
	check "$kind: its blocks" test "$(stat -c %b "$M/w")" -gt 0
	check "$kind: size after an append" test "$(stat -c %s "$M/a")" = 6
	check "$kind: chmod a-w shows" test "$(stat -c %a "$M/ro")" = 444
	check "$kind: chmod u+w after it shows" test "$(stat -c %a "$M/rw")" = 644
	check "$kind: tar's times" test "$(stat -c %Y "$M/tree/f2")" = "$want_time"
	check "$kind: tar's modes" test "$(stat -c %a "$M/tree/f2")" = "$mode"
	check "$kind: tar's contents" cmp -s "$M/tree/f3" "$T/src/tree/f3"
	check "$kind: futimens then close" test "$(stat -c %Y "$M/t1")" = 1600000000
	check "$kind: futimens then close: size" test "$(stat -c %s "$M/t1")" = 10000
	check "$kind: a write after futimens sets the time" \
		test "$(stat -c %Y "$M/t2")" -gt 1600000000
	check "$kind: ... and the size" test "$(stat -c %s "$M/t2")" = 200
	check "$kind: futimens, chmod, close" test "$(stat -c %Y "$M/t4")" = 1600000000
}

for kind in fat ext; do
	log "$kind"
	M=$T/mnt-$kind
	if [ $kind = fat ]; then
		mkimage "$T/$kind.img" 64
	else
		truncate -s 64M "$T/$kind.img"
		mke2fs -q -F -t ext4 "$T/$kind.img"
	fi
	mount_dvs "$T/$kind.img" "$M" || { echo "dvs mount failed"; exit 1; }
	head -c 10000 /dev/zero >"$M/w"
	stat "$M/w" >/dev/null
	printf abc >"$M/a" && stat "$M/a" >/dev/null && printf def >>"$M/a"
	echo x >"$M/ro" && chmod 644 "$M/ro" && chmod a-w "$M/ro"
	echo x >"$M/rw" && chmod a-w "$M/rw" && chmod 644 "$M/rw"
	check "$kind: tar -x" tar -xf "$T/tree.tar" -C "$M"
	check "$kind: times set through open files" python3 "$T/times.py" "$M"
	checks "$M" $kind
	check "$kind: dvs umount" dvs umount "$M"
	if [ $kind = fat ]; then
		check "fat: fsck.fat is clean" fsck.fat -n "$T/$kind.img"
	else
		check "ext: e2fsck is clean" e2fsck -fn "$T/$kind.img"
	fi
	mount_dvs "$T/$kind.img" "$M" || { echo "second dvs mount failed"; exit 1; }
	log "$kind, after a remount"
	checks "$M" $kind
	check "$kind: dvs umount" dvs umount "$M"
done
finish
