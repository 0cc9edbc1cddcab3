#!/usr/bin/env bash
# POSIX behaviour through a dvs mount, compared with tmpfs: the same script
# of operations (posix_ops) runs in both and must print the same results,
# errors included.  Then what FAT says differently on purpose: ENOSPC on a
# full volume, EROFS on a read-only mount, EPERM for links.
. "$(dirname "$0")/lib.sh"
POSIX_OPS=${1:?usage: test_posix.sh POSIX_OPS_PROGRAM}
need mkfs.fat fsck.fat fusermount3 findmnt mcopy

log "the same operations on tmpfs and through dvs mount"
mkimage "$T/vol.img" 64
ref=$(mktemp -d /dev/shm/dvs-fuse-ref.XXXXXX)
"$POSIX_OPS" "$ref" >"$T/tmpfs.out" 2>&1
rm -rf "$ref"
check "dvs mount" mount_dvs "$T/vol.img" "$T/mnt"
"$POSIX_OPS" "$T/mnt" >"$T/dvs.out" 2>&1
if diff -u "$T/tmpfs.out" "$T/dvs.out" >"$T/diff"; then
	ok "posix_ops: $(wc -l <"$T/dvs.out") results identical to tmpfs"
else
	bad "posix_ops differs from tmpfs (- tmpfs, + dvs mount):"
	cat "$T/diff"
fi

log "the same operations as a user without privileges (setpriv), tmpfs and dvs mount"
# The files show the mounting user's uid= as vfat's do; the kernel checks
# permissions (default_permissions) with the caller's capabilities.
chmod 711 "$T"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
ref=$(mktemp -d /dev/shm/dvs-fuse-ref.XXXXXX)
chown 65534:65534 "$ref"
"${nobody[@]}" "$POSIX_OPS" "$ref" >"$T/tmpfs-user.out" 2>&1
rm -rf "$ref"
mkimage "$T/user.img" 64
check "dvs mount --uid 65534 --gid 65534 --allow-other" \
	mount_dvs "$T/user.img" "$T/mntu" --uid 65534 --gid 65534 --allow-other
"${nobody[@]}" "$POSIX_OPS" "$T/mntu" >"$T/dvs-user.out" 2>&1
if diff -u "$T/tmpfs-user.out" "$T/dvs-user.out" >"$T/diff"; then
	ok "posix_ops as uid 65534: $(wc -l <"$T/dvs-user.out") results identical to tmpfs"
else
	bad "posix_ops as uid 65534 differs from tmpfs (- tmpfs, + dvs mount):"
	cat "$T/diff"
fi
check "a 0444 file refuses the unprivileged writer" \
	grep -q '^truncate c 0 (0444) *EACCES' "$T/dvs-user.out"
check "dvs umount (uid 65534)" "$DVS_BIN/dvs-umount" "$T/mntu"
check "image written as uid 65534 is fsck.fat clean" fsck_clean "$T/user.img"

log "what FAT cannot express"
echo data >"$T/mnt/target"
ln -s target "$T/mnt/sym" 2>"$T/err"
check "symlink gives EPERM" grep -q "Operation not permitted" "$T/err"
ln "$T/mnt/target" "$T/mnt/hard" 2>"$T/err"
check "hard link gives EPERM" grep -q "Operation not permitted" "$T/err"
mkfifo "$T/mnt/fifo" 2>"$T/err"
check "mkfifo gives EPERM" grep -q "Operation not permitted" "$T/err"
xattr_unsupported() {
	python3 - "$1" <<'PY'
import errno, os, sys
try:
    os.setxattr(sys.argv[1], "user.x", b"1")
except OSError as e:
    sys.exit(0 if e.errno == errno.EOPNOTSUPP else 1)
sys.exit(1)
PY
}
check "extended attributes give EOPNOTSUPP" xattr_unsupported "$T/mnt/target"
log "inode numbers stay for the life of the mount, across renames"
echo x >"$T/mnt/ino-a"
mkdir "$T/mnt/ino-d"
i1=$(stat -c %i "$T/mnt/ino-a")
mv "$T/mnt/ino-a" "$T/mnt/ino-d/a new and longer name"
touch "$T/mnt/ino-new" # may take the old slot: must not take the number
# The kernel forgets what it cached; dvs-fuse then asks dvs-fs again.
sync
echo 2 >/proc/sys/vm/drop_caches
i2=$(stat -c %i "$T/mnt/ino-d/a new and longer name")
i3=$(stat -c %i "$T/mnt/ino-new")
check "a renamed file keeps its inode number ($i1 -> $i2)" [ "$i1" = "$i2" ]
check "a new file gets another number ($i3)" [ "$i3" != "$i1" ]
rm -rf "$T/mnt/ino-d" "$T/mnt/ino-new"

log "fallocate: what FAT holds, as vfat"
falloc() { # falloc FILE: prints blocks while open and after close, and errnos
	python3 - "$1" <<'PY'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
def fa(fd, mode, off, n):
    r = libc.fallocate(fd, mode, off, n)
    e = ctypes.get_errno()
    # ENOTSUP and EOPNOTSUPP are one value on Linux
    return "ok" if r == 0 else "EOPNOTSUPP" if e == errno.EOPNOTSUPP else errno.errorcode[e]
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"x" * 10)
print("keep", fa(fd, 1, 0, 4 << 20), os.fstat(fd).st_size, os.fstat(fd).st_blocks >= 8192)
print("punch", fa(fd, 2 | 1, 0, 4096))
print("collapse", fa(fd, 8, 0, 4096))
print("zero", fa(fd, 16, 0, 4096))
print("insert", fa(fd, 32, 0, 4096))
os.close(fd)
# The kernel sends RELEASE after close(2) returns, without waiting: give a
# loaded machine up to 5 s to free the clusters.
import time
for _ in range(50):
    st = os.stat(sys.argv[1])
    if st.st_blocks < 64:
        break
    time.sleep(0.1)
print("closed", st.st_size, st.st_blocks < 64)
PY
}
falloc "$T/mnt/fa" >"$T/falloc" 2>&1
check "KEEP_SIZE allocates 4 MiB and keeps the size 10" grep -qx 'keep ok 10 True' "$T/falloc"
check "punch hole gives EOPNOTSUPP" grep -qx 'punch EOPNOTSUPP' "$T/falloc"
check "collapse range gives EOPNOTSUPP" grep -qx 'collapse EOPNOTSUPP' "$T/falloc"
check "zero range gives EOPNOTSUPP" grep -qx 'zero EOPNOTSUPP' "$T/falloc"
check "insert range gives EOPNOTSUPP" grep -qx 'insert EOPNOTSUPP' "$T/falloc"
check "the clusters past the size are freed at close" grep -qx 'closed 10 True' "$T/falloc"
grep -q . "$T/falloc" && sed 's/^/    /' "$T/falloc"

log "FAT names: case-insensitive, case-preserving"
echo case >"$T/mnt/Hello.txt"
check "HELLO.TXT is Hello.txt" bash -c "[ \"\$(cat '$T/mnt/HELLO.TXT')\" = case ]"
check "the name keeps its case" bash -c "ls '$T/mnt' | grep -qx Hello.txt"
touch "$T/mnt/hello.TXT" 2>/dev/null
check "no second file for another case" bash -c "[ \$(ls '$T/mnt' | grep -ic '^hello.txt\$') = 1 ]"
check "dvs umount" "$DVS_BIN/dvs-umount" "$T/mnt"
check "image is fsck.fat clean" fsck_clean "$T/vol.img"
check "mtools reads what was written" bash -c \
	"[ \"\$(mtype -i '$T/vol.img' ::/target)\" = data ]"
# The case-only renames of posix_ops are on the disk, long and short names.
mdir -i "$T/vol.img" ::/case >"$T/mdir" 2>&1
check "mdir shows the long name fOO" grep -Eq '^FOO +3 .* fOO$' "$T/mdir"
check "mdir shows the directory dIR" grep -Eq '^DIR +<DIR>.* dIR$' "$T/mdir"
check "mdir shows the long name 'long name.TXT'" grep -Eq ' long name\.TXT$' "$T/mdir"
check "no old spelling on the disk" bash -c "! grep -Eq 'Foo|Dir\$|Long Name' '$T/mdir'"

log "ENOSPC on a full volume"
mkimage "$T/small.img" 8 12
check "dvs mount small volume" mount_dvs "$T/small.img" "$T/mnt2"
if dd if=/dev/zero of="$T/mnt2/fill" bs=1M count=16 conv=fsync 2>"$T/err"; then
	bad "writing 16 MiB to an 8 MiB volume succeeded"
else
	check "ENOSPC reported" grep -q "No space left on device" "$T/err"
fi
rm -f "$T/mnt2/fill"
check "space is back after rm" dd if=/dev/zero of="$T/mnt2/again" bs=1M count=4 conv=fsync status=none
check "dvs umount small volume" "$DVS_BIN/dvs-umount" "$T/mnt2"
check "small image is fsck.fat clean" fsck_clean "$T/small.img"

log "EROFS with --ro"
check "dvs mount --ro" mount_dvs "$T/vol.img" "$T/mnt3" --ro
check "read works" bash -c "[ \"\$(cat '$T/mnt3/target')\" = data ]"
touch "$T/mnt3/new" 2>"$T/err"
check "create gives EROFS" grep -q "Read-only file system" "$T/err"
rm "$T/mnt3/target" 2>"$T/err"
check "unlink gives EROFS" grep -q "Read-only file system" "$T/err"
mkdir "$T/mnt3/d" 2>"$T/err"
check "mkdir gives EROFS" grep -q "Read-only file system" "$T/err"
check "dvs umount --ro" "$DVS_BIN/dvs-umount" "$T/mnt3"
check "image still clean" fsck_clean "$T/vol.img"
finish
