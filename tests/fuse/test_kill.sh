#!/usr/bin/env bash
# kill -9 of dvs-fs under a mount: programs get errors at once (EIO or
# ENOTCONN), never hang; dvs umount still cleans up; what was fsync'ed
# before the crash is on the image, where fsck.fat finds no damage.
. "$(dirname "$0")/lib.sh"
need mkfs.fat fsck.fat fusermount3 findmnt mcopy cmp timeout

mkimage "$T/vol.img" 64
head -c 2000000 /dev/urandom >"$T/payload"
check "dvs mount" mount_dvs "$T/vol.img" "$T/mnt"
mkdir "$T/mnt/dir"
# fsync makes the file and the FAT durable on the server (sync(1) only
# writes the kernel's dirty pages back to dvs-fuse).
dd if="$T/payload" of="$T/mnt/before.bin" bs=1M conv=fsync status=none
fs=$(server_pid "$T/mnt" fs)
check "found dvs-fs's pid" [ -n "$fs" ]
kill -9 "$fs"
sleep 0.5
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true

for op in "cat $T/mnt/before.bin" "ls $T/mnt/dir/missing" "touch $T/mnt/new" \
	"dd if=/dev/zero of=$T/mnt/dir/f bs=1M count=2 conv=fsync status=none"; do
	timeout 20 bash -c "$op" >/dev/null 2>"$T/err"
	rc=$?
	if [ $rc = 124 ]; then
		bad "'$op' hung"
	elif [ $rc = 0 ]; then
		bad "'$op' succeeded with a dead server"
	else
		ok "'$op' failed at once: $(head -n1 "$T/err")"
	fi
done
check "dvs umount after the crash" timeout 90 "$DVS_BIN/dvs-umount" "$T/mnt"
check "servers gone" wait_stopped "$T/mnt"
check "fsck.fat -n: no damage (dirty flag expected)" fsck_no_damage "$T/vol.img"
mcopy -n -i "$T/vol.img" ::/before.bin "$T/back" 2>/dev/null
check "synced data survived" cmp "$T/payload" "$T/back"
log "kill -9 of dvs-fuse: the supervisor unmounts and stops the servers"
check "dvs mount again" mount_dvs "$T/vol.img" "$T/mnt2"
dd if="$T/payload" of="$T/mnt2/after.bin" bs=1M conv=fsync status=none
fu=$(server_pid "$T/mnt2" fuse)
check "found dvs-fuse's pid" [ -n "$fu" ]
kill -9 "$fu"
check "servers stopped by themselves" wait_stopped "$T/mnt2"
check "no mount left" bash -c "! findmnt -rn -M '$T/mnt2'"
check "fsck.fat -n clean (dvs-fs stopped cleanly)" fsck_clean "$T/vol.img"
mcopy -n -i "$T/vol.img" ::/after.bin "$T/back2" 2>/dev/null
check "fsync'ed data survived" cmp "$T/payload" "$T/back2"
# That dvs-fuse was killed is this test's doing, not a failure.
sed -i '/dvs-fuse exited with status 137$/d' "$DVS_MOUNT_LOG"
finish
