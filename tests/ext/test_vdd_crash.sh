#!/usr/bin/env bash
# An ext4 volume reached through dvs-vdd (scenario A2: libext2fs's I/O
# manager of dvs-fs on the VDD protocol), then what a kill -9 of dvs-fs
# costs: no journal is written (docs/EXT.md), so e2fsck repairs the
# allocation state, and a file that was fsynced before the kill is whole.
. "$(dirname "$0")/lib.sh"
need mke2fs e2fsck debugfs fusermount3 findmnt

log "through dvs-vdd (A2)"
mkdir -p "$T/src/a/b"
head -c 4000000 /dev/urandom >"$T/src/a/big"
for i in $(seq 50); do echo "$i" >"$T/src/a/b/f$i"; done
ln -s a/big "$T/src/link"
mkext "$T/vdd.img" 64 -t ext4
if check "ext4 image mounted through dvs-vdd" ext_mount "$T/vdd.img" "$T/mv" --vdd; then
	cp -a "$T/src/." "$T/mv/"
	echo 3 >/proc/sys/vm/drop_caches
	check "A2: the tree reads back" diff -r "$T/src" "$T/mv/" -x lost+found
	check "A2: modes and links as copied" \
		[ "$(stat -c '%a %h' "$T/mv/a/b")" = "$(stat -c '%a %h' "$T/src/a/b")" ]
	ext_umount "$T/mv"
	check "A2: e2fsck -fn clean after a clean stop" fsck_clean "$T/vdd.img"
	sum=$(debugfs -R "cat /a/big" "$T/vdd.img" 2>/dev/null | md5sum | cut -d' ' -f1)
	check "A2: debugfs reads what went through the vdd" \
		[ "$sum" = "$(md5sum <"$T/src/a/big" | cut -d' ' -f1)" ]
fi

log "kill -9 of dvs-fs"
mkext "$T/k.img" 64 -t ext4
if check "ext4 image mounted" ext_mount "$T/k.img" "$T/mk"; then
	head -c 2000000 /dev/urandom >"$T/synced"
	dd if="$T/synced" of="$T/mk/synced" bs=64k conv=fsync status=none
	mkdir "$T/mk/later"
	for i in $(seq 30); do echo "$i" >"$T/mk/later/f$i"; done
	cp "$T/src/a/big" "$T/mk/unsynced"
	p=$(fs_pid "$T/mk")
	kill -KILL "$p"
	sleep 0.3
	ext_umount "$T/mk" --killed
	check "dvs-fs was killed (status $(fs_status "$T/mk"))" [ "$(fs_status "$T/mk")" = 137 ]
	e2fsck -fy "$T/k.img" >"$T/fsck.out" 2>&1
	rc=$?
	check "e2fsck -fy repairs the image (exit $rc: 0 or 1)" [ "$rc" -le 1 ]
	check "then e2fsck -fn finds it clean" fsck_clean "$T/k.img"
	sum=$(debugfs -R "cat /synced" "$T/k.img" 2>/dev/null | md5sum | cut -d' ' -f1)
	check "the fsynced file is whole after the repair" \
		[ "$sum" = "$(md5sum <"$T/synced" | cut -d' ' -f1)" ]
fi
finish
