#!/usr/bin/env bash
# Several processes at once through one dvs mount: writers of different
# files and readers of the same files, all checked byte by byte; then the
# image is checked with fsck.fat and read back with mtools.
. "$(dirname "$0")/lib.sh"
need mkfs.fat fsck.fat fusermount3 findmnt mcopy cmp
NW=4 NR=4

mkimage "$T/vol.img" 256
mkdir -p "$T/src"
for i in $(seq $NW); do
	head -c $((6 * 1024 * 1024 + i * 4097)) /dev/urandom >"$T/src/w$i"
done
head -c $((9 * 1024 * 1024 + 123)) /dev/urandom >"$T/src/shared"

check "dvs mount" mount_dvs "$T/vol.img" "$T/mnt"
check "put the shared file" cp "$T/src/shared" "$T/mnt/shared"
# Cold copy: the readers below go to the server, not the page cache.
sync
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true

log "$NW writers and $NR readers at once"
pids=()
for i in $(seq $NW); do
	( mkdir -p "$T/mnt/dir$i" && for r in 1 2; do
		cp "$T/src/w$i" "$T/mnt/dir$i/copy$r" || exit 1
	done ) &
	pids+=($!)
done
for i in $(seq $NR); do
	( for r in 1 2 3; do
		cmp "$T/src/shared" "$T/mnt/shared" || exit 1
		# Different block sizes: different FUSE read sizes.
		dd if="$T/mnt/shared" bs=$((4096 * i + 512)) status=none | cmp - "$T/src/shared" || exit 1
	done ) &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
check "every writer and reader finished without error" [ $rc = 0 ]
for i in $(seq $NW); do
	for r in 1 2; do
		check "dir$i/copy$r equals its source (mount)" cmp "$T/src/w$i" "$T/mnt/dir$i/copy$r"
	done
done

# Several FUSE threads talked to dvs-fs at once, each on its own binding.
fu=$(server_pid "$T/mnt" fuse)
key=$(printf '%s' "$(realpath "$T/mnt")" | sha256sum | cut -c1-16)
nb=$(DVS_SOCKET=$DVS_RUN_DIR/mount-$key/dvkd.sock dvsctl ep list --dc 1 |
	awk -v p="$fu" 'NR > 1 && $3 == p && $4 == "bound"' | wc -l)
check "dvs-fuse used $nb endpoints (one per busy thread, >= 3)" [ "$nb" -ge 3 ]
check "dvs umount" "$DVS_BIN/dvs-umount" "$T/mnt"
check "image is fsck.fat clean" fsck_clean "$T/vol.img"
for i in $(seq $NW); do
	mcopy -n -i "$T/vol.img" "::/dir$i/copy2" "$T/back$i" 2>/dev/null
	check "dir$i/copy2 equals its source (mtools)" cmp "$T/src/w$i" "$T/back$i"
done
mcopy -n -i "$T/vol.img" ::/shared "$T/back-shared" 2>/dev/null
check "shared equals its source (mtools)" cmp "$T/src/shared" "$T/back-shared"
finish
