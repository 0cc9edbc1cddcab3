#!/usr/bin/env bash
# dvs mount / dvs umount and fusermount3 -u, in scenarios A1 (image file)
# and A2 (through dvs-vdd): the servers stop by themselves, the image is
# fsck.fat clean and mtools reads the right content.  Then the errors a
# user can make, each with a clear message.
. "$(dirname "$0")/lib.sh"
need mkfs.fat fsck.fat fusermount3 findmnt mcopy cmp mkswap mkfs.ext4 unshare

head -c 3000000 /dev/urandom >"$T/payload"

round() { # round NAME STOP-COMMAND [dvs mount options]
	local name=$1 stop=$2
	shift 2
	log "$name"
	mkimage "$T/$name.img" 64
	check "$name: dvs mount $*" mount_dvs "$T/$name.img" "$T/$name" "$@"
	check "$name: mount is live" findmnt -rn -M "$T/$name"
	mkdir -p "$T/$name/sub/deeper"
	cp "$T/payload" "$T/$name/sub/deeper/payload.bin"
	echo "hello from $name" >"$T/$name/Hello World.txt"
	check "$name: content visible" cmp "$T/payload" "$T/$name/sub/deeper/payload.bin"
	if [ "$stop" = dvs ]; then
		check "$name: dvs umount" "$DVS_BIN/dvs-umount" "$T/$name"
	else
		check "$name: fusermount3 -u" fusermount3 -u "$T/$name"
	fi
	check "$name: servers stopped by themselves" wait_stopped "$T/$name"
	check "$name: no mount left" bash -c "! findmnt -rn -M '$T/$name'"
	check "$name: fsck.fat -n clean" fsck_clean "$T/$name.img"
	mcopy -n -i "$T/$name.img" ::/sub/deeper/payload.bin "$T/$name.back" 2>/dev/null
	check "$name: mtools reads the file back" cmp "$T/payload" "$T/$name.back"
	check "$name: mtools reads the long name" bash -c \
		"[ \"\$(mtype -i '$T/$name.img' '::/Hello World.txt')\" = 'hello from $name' ]"
}

round a1-umount dvs
round a2-umount dvs --vdd
round a1-fusermount fusermount
round a2-fusermount fusermount --vdd

log "remount sees the data"
check "remount a1-umount" mount_dvs "$T/a1-umount.img" "$T/again"
check "data survived the remount" cmp "$T/payload" "$T/again/sub/deeper/payload.bin"

log "errors"
expect_fail() { # expect_fail "what" "message pattern" command...
	local what=$1 pat=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		bad "$what: succeeded"
	elif echo "$out" | grep -qi -- "$pat"; then
		ok "$what: $(echo "$out" | head -n1)"
	else
		bad "$what: unclear message: $out"
	fi
}
mkdir -p "$T/m"
expect_fail "missing image" "does not exist" "$DVS_BIN/dvs" mount "$T/nope.img" "$T/m"
head -c 1048576 /dev/zero >"$T/zero.img"
expect_fail "not a FAT image" "not a FAT" "$DVS_BIN/dvs" mount "$T/zero.img" "$T/m"
mkimage "$T/nosectors.img" 64
# Bytes per sector 0: blkid finds no file system, dvs mount refuses it.
printf '\0\0' | dd of="$T/nosectors.img" bs=1 seek=11 conv=notrunc status=none
expect_fail "a FAT boot sector with 0 bytes per sector" "not a FAT" \
	"$DVS_BIN/dvs" mount "$T/nosectors.img" "$T/m"
# A truncated image: blkid still says vfat, dvs-fs refuses the volume.
mkimage "$T/broken.img" 64
truncate -s 32M "$T/broken.img"
t0=$SECONDS
# This mount fails on purpose: its servers' log (dvs-fuse exiting 1 when
# dvs-fs refused the volume first) goes to its own file, not to the log
# that check_server_logs reads.
DVS_MOUNT_LOG=$T/broken.log expect_fail "a FAT image dvs-fs cannot serve" "failed" \
	"$DVS_BIN/dvs" mount "$T/broken.img" "$T/m"
check "... fails within 15 s" [ $((SECONDS - t0)) -lt 15 ]
check "... and leaves no mount" bash -c "! findmnt -rn -M '$T/m'"
check "... and no process of it" bash -c "! pgrep -f '[d]vs-fs .*$T/broken.img'"
# blkid tells the file system; one dvs-fs does not serve is named.
truncate -s 8M "$T/swap.img"
mkswap "$T/swap.img" >/dev/null 2>&1
expect_fail "a swap image" "holds a swap file system" "$DVS_BIN/dvs" mount "$T/swap.img" "$T/m"
check "... exit status 1" bash -c "'$DVS_BIN/dvs' mount '$T/swap.img' '$T/m' 2>/dev/null; [ \$? = 1 ]"
expect_fail "bad --threads" "threads needs a number" "$DVS_BIN/dvs" mount --threads 0 \
	"$T/a1-umount.img" "$T/m"
check "... exit status 2" bash -c "'$DVS_BIN/dvs' mount --threads 0 '$T/a1-umount.img' '$T/m' 2>/dev/null; [ \$? = 2 ]"
# ext2/3/4 go to dvs-fs as FAT does (it tells them apart); where it does
# not serve them yet, its refusal, not dvs mount's, fails the mount.
truncate -s 16M "$T/ext4.img"
mkfs.ext4 -q -F "$T/ext4.img"
if out=$(DVS_MOUNT_LOG=$T/ext4.log "$DVS_BIN/dvs" mount "$T/ext4.img" "$T/m" 2>&1); then
	ok "ext4 image mounted"
	check "... dvs umount" "$DVS_BIN/dvs-umount" "$T/m"
elif grep -qi 'not a FAT\|does not serve' <<<"$out"; then
	bad "dvs mount refused the ext4 image itself: $out"
else
	ok "ext4 image handed to dvs-fs: $(head -n1 <<<"$out")"
fi
check "... and no mount left" bash -c "! findmnt -rn -M '$T/m'"
no_run_dir() { [ ! -e "$DVS_RUN_DIR/mount-$(printf '%s' "$(realpath "$1")" | sha256sum | cut -c1-16)" ]; }
check "... and no run directory left" no_run_dir "$T/m"
expect_fail "mountpoint busy" "busy" "$DVS_BIN/dvs" mount "$T/a2-umount.img" "$T/again"
expect_fail "image already mounted" "already mounted" "$DVS_BIN/dvs" mount "$T/a1-umount.img" "$T/m"
expect_fail "mountpoint missing" "not a directory" "$DVS_BIN/dvs" mount "$T/a2-umount.img" "$T/nodir"
expect_fail "umount of nothing" "nothing is mounted" "$DVS_BIN/dvs" umount "$T/m"
exec 3<"$T/again/sub/deeper/payload.bin"
expect_fail "umount while a file is open" "busy" "$DVS_BIN/dvs" umount "$T/again"
check "... the mount stays" findmnt -rn -M "$T/again"
exec 3<&-
check "dvs umount the remount" "$DVS_BIN/dvs-umount" "$T/again"
check "image clean after remount" fsck_clean "$T/a1-umount.img"

log "a leftover of a killed supervisor does not hold the image"
mkimage "$T/left.img" 16
mkdir -p "$DVS_RUN_DIR/mount-0000000000000000"
true &
dead=$!
wait "$dead"
printf 'IMAGE=%s\nMNT=%s\nsupervisor=%s\n' "$(realpath "$T/left.img")" "$T/gone" "$dead" \
	>"$DVS_RUN_DIR/mount-0000000000000000/state"
check "dvs mount beside the leftover" mount_dvs "$T/left.img" "$T/left"
check "... the leftover is gone" [ ! -e "$DVS_RUN_DIR/mount-0000000000000000" ]
check "... dvs umount" "$DVS_BIN/dvs-umount" "$T/left"

log "Ctrl-C while the mount starts leaves nothing behind"
# dvs mount runs the programs beside it: here a dvs-fuse that never mounts,
# so the interrupt surely comes before the mount is up.
mkdir -p "$T/fakebin"
for p in dvs-mount dvsctl dvkd dvs-fs; do ln -s "$(readlink -f "$DVS_BIN/$p")" "$T/fakebin/$p"; done
printf '#!/bin/sh\nexec sleep 600\n' >"$T/fakebin/dvs-fuse"
chmod +x "$T/fakebin/dvs-fuse"
mkimage "$T/int.img" 16
"$T/fakebin/dvs-mount" "$T/int.img" "$T/m" >"$T/int.out" 2>&1 &
mpid=$!
key=$(printf '%s' "$(realpath "$T/m")" | sha256sum | cut -c1-16)
for i in $(seq 100); do
	grep -q '^fuse_pid=' "$DVS_RUN_DIR/mount-$key/state" 2>/dev/null && break
	sleep 0.1
done
fs=$(server_pid "$T/m" fs)
check "the servers started" [ -n "$fs" ]
kill -INT "$mpid"
rc=0; wait "$mpid" || rc=$?
check "interrupted dvs mount exits 1 (was $rc)" [ "$rc" = 1 ]
check "... and says so" grep -q 'failed: stopped by a signal' "$T/int.out"
check "... no run directory left" no_run_dir "$T/m"
check "... dvs-fs stopped" bash -c "! kill -0 $fs 2>/dev/null"
check "... no dvkd of it left" bash -c "! pgrep -f '[d]vkd.*mount-$key'"
check "... the image is clean" fsck_clean "$T/int.img"
log "a copy of the mount in another mount namespace does not hold dvs umount"
# A mount namespace made while the volume is mounted (ip netns exec,
# unshare -m) keeps the FUSE connection alive after our unmount.
mkimage "$T/ns.img" 64
check "dvs mount for the namespace case" mount_dvs "$T/ns.img" "$T/ns"
head -c 3000000 /dev/urandom >"$T/ns-payload"
cp "$T/ns-payload" "$T/ns/payload.bin"
unshare -m --propagation private sleep 120 &
holder=$!
sleep 0.5
check "... the other namespace holds a copy" grep -q " $T/ns " "/proc/$holder/mountinfo"
t0=$SECONDS
check "... dvs umount stops the servers" "$DVS_BIN/dvs-umount" "$T/ns"
check "... within 20 s" [ $((SECONDS - t0)) -lt 20 ]
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
check "... the image is clean" fsck_clean "$T/ns.img"
mcopy -n -i "$T/ns.img" ::payload.bin "$T/ns-back" 2>/dev/null
check "... the file written before is on the image" cmp "$T/ns-payload" "$T/ns-back"

log "dvs umount --timeout is one deadline, stray dvs-fuse grace included"
# A supervisor that cannot stop its servers (stopped here): dvs umount
# gives up after --timeout seconds with status 7, not 5 s later.
mkimage "$T/to.img" 16
check "dvs mount for the timeout case" mount_dvs "$T/to.img" "$T/to"
key=$(printf '%s' "$(realpath "$T/to")" | sha256sum | cut -c1-16)
sup=$(sed -n 's/^supervisor=//p' "$DVS_RUN_DIR/mount-$key/state")
check "... the supervisor is known" [ -n "$sup" ]
kill -STOP "$sup"
t0=$SECONDS
rc=0; "$DVS_BIN/dvs-umount" --timeout 7 "$T/to" >"$T/to.out" 2>&1 || rc=$?
took=$((SECONDS - t0))
kill -CONT "$sup"
check "... dvs umount --timeout 7 exits 7 (was $rc)" [ "$rc" = 7 ]
check "... and says the servers did not stop" grep -q 'did not stop within 7 s' "$T/to.out"
check "... after at most 9 s (took $took s)" [ "$took" -le 9 ]
check "... the servers stop once the supervisor runs again" wait_stopped "$T/to"
check "... the image is clean" fsck_clean "$T/to.img"
finish
