#!/usr/bin/env bash
# POSIX behaviour of an ext4 volume through dvs-fs and dvs-fuse, compared
# with tmpfs: the same script of calls (posix_ext_ops: modes, owners,
# symbolic and hard links, FIFOs, renames over files and directories,
# errors, unlinked open files, nanosecond times) must print the same
# results, as root and as an unprivileged user (whose rights the kernel
# checks against the owners and modes the server reports).  Then the
# image must be e2fsck clean.
. "$(dirname "$0")/lib.sh"
OPS=${1:?usage: test_posix_ext.sh POSIX_EXT_OPS}
need mke2fs e2fsck fusermount3 findmnt setpriv

mkext "$T/vol.img" 64 -t ext4 -b 4096
check "ext4 image mounted through dvs-fs and dvs-fuse" \
	ext_mount "$T/vol.img" "$T/mnt" --allow-other || finish

log "as root: tmpfs and the ext mount"
ref=$(mktemp -d /dev/shm/dvs-ext-ref.XXXXXX)
"$OPS" "$ref" >"$T/tmpfs.out" 2>&1
rm -rf "$ref"
mkdir "$T/mnt/root"
"$OPS" "$T/mnt/root" >"$T/ext.out" 2>&1
if diff -u "$T/tmpfs.out" "$T/ext.out" >"$T/diff"; then
	ok "posix_ext_ops: $(wc -l <"$T/ext.out") results identical to tmpfs"
else
	bad "posix_ext_ops differs from tmpfs (- tmpfs, + ext):"
	cat "$T/diff"
fi

log "as uid 65534: tmpfs and the ext mount"
chmod 711 "$T"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
ref=$(mktemp -d /dev/shm/dvs-ext-ref.XXXXXX)
chown 65534:65534 "$ref"
"${nobody[@]}" "$OPS" "$ref" >"$T/tmpfs-user.out" 2>&1
rm -rf "$ref"
mkdir "$T/mnt/user"
chown 65534:65534 "$T/mnt/user"
"${nobody[@]}" "$OPS" "$T/mnt/user" >"$T/ext-user.out" 2>&1
if diff -u "$T/tmpfs-user.out" "$T/ext-user.out" >"$T/diff"; then
	ok "posix_ext_ops as uid 65534: $(wc -l <"$T/ext-user.out") results identical to tmpfs"
else
	bad "posix_ext_ops as uid 65534 differs from tmpfs (- tmpfs, + ext):"
	cat "$T/diff"
fi
check "the unprivileged user may not give a file away (EPERM)" \
	grep -q '^chown("f", 1234, 5678) *EPERM' "$T/ext-user.out"
check "files the user made are the user's" \
	grep -q '^stat  m .* uid=65534 gid=65534' "$T/ext-user.out"

log "what root sees of the user's files"
check "owner on the volume is 65534" [ "$(stat -c %u:%g "$T/mnt/user/m")" = 65534:65534 ]
echo secret >"$T/mnt/private"
chmod 600 "$T/mnt/private"
check "a 0600 root file is closed to uid 65534" \
	sh -c "! ${nobody[*]} cat '$T/mnt/private' 2>/dev/null"

ext_umount "$T/mnt"
check "e2fsck -fn clean after the POSIX runs" fsck_clean "$T/vol.img"
finish
