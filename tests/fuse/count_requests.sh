#!/usr/bin/env bash
# count_requests.sh BIN_DIR [FILES] - where a small operation's time goes on
# a `dvs mount`: FUSE requests per file (the kernel's fuse_request_send
# tracepoint, by opcode) and requests dvs-fs received per file (`dvsctl ep
# list`), for create+write+close, stat by path (cold), open+read+close
# (cold) and unlink, FILES files of 4 KiB in one directory made through
# the mount, then `tar -x` (as root: owner, mode and times restored) of a
# tar of FILES such files into a new directory.  COUNT_FS=ext4 counts on
# an ext4 volume instead of FAT32.  Not a test: a measuring aid (root; tracefs).  docs/FUSE.md,
# "Small operations: what each one costs".
set -euo pipefail
bin=$(realpath "${1:?usage: count_requests.sh BIN_DIR [FILES]}")
n=${2:-1000}
export PATH=$bin:$PATH
W=$(mktemp -d /dev/shm/dvs-count.XXXXXX)
export DVS_RUN_DIR=$W/run
M=$W/mnt
TR=/sys/kernel/tracing
[ -d $TR/events/fuse ] || mount -t tracefs nodev $TR 2>/dev/null || true
I=$TR/instances/dvs-count-$$
cleanup() {
	[ -d "$I" ] && { echo 0 >"$I/events/fuse/enable"; rmdir "$I"; } || true
	findmnt -M "$M" >/dev/null && dvs-umount "$M" >/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$M" "$I"
truncate -s 1G "$W/c.img"
if [ "${COUNT_FS:-fat}" = ext4 ]; then
	mke2fs -q -F -t ext4 "$W/c.img"
else
	mkfs.fat -F 32 "$W/c.img" >/dev/null
fi
dvs-mount "$W/c.img" "$M" >/dev/null
export DVS_SOCKET=$(echo "$W"/run/mount-*/dvkd.sock)
msgs() { dvsctl ep list --dc 1 | awk 'NR > 1 && $2 < 10 { s += $7 } END { print s }'; }
work() { # work OP
	python3 - "$M/d" "$n" "$1" <<'EOF'
import os, sys
d, n, op = sys.argv[1], int(sys.argv[2]), sys.argv[3]
names = [f"{d}/f{i:05d}" for i in range(n)]
if op == "create":
    os.mkdir(d)
    for p in names:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, b"x" * 4096)
        os.close(fd)
elif op == "stat":
    for p in names:
        os.stat(p)
elif op == "read":
    for p in names:
        fd = os.open(p, os.O_RDONLY)
        os.read(fd, 8192)
        os.close(fd)
elif op == "unlink":
    for p in names:
        os.unlink(p)
EOF
}
# A tar of FILES files of 4 KiB (owner root, mode 0644, an old mtime).
make_tar() {
	python3 - "$W/t.tar" "$n" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    for i in range(int(sys.argv[2])):
        ti = tarfile.TarInfo(f"t/f{i:05d}")
        ti.size, ti.mode, ti.mtime = 4096, 0o644, 1700000000
        t.addfile(ti, io.BytesIO(b"y" * 4096))
EOF
}
make_tar
for op in create stat read unlink untar; do
	if [ $op != create ] && [ $op != unlink ]; then
		sync -f "$M"
		echo 3 >/proc/sys/vm/drop_caches
	fi
	echo >"$I/trace"
	echo 1 >"$I/events/fuse/fuse_request_send/enable"
	b=$(msgs)
	if [ $op = untar ]; then tar -xf "$W/t.tar" -C "$M"; else work $op; fi
	a=$(msgs)
	echo 0 >"$I/events/fuse/fuse_request_send/enable"
	printf '%-7s dvs-fs requests/file %.2f; FUSE requests/file:' $op \
		"$(echo "($a - $b) / $n" | bc -l)"
	grep -o '(FUSE_[A-Z_]*)' "$I/trace" | sort | uniq -c |
		awk -v n="$n" '$1 / n >= 0.05 { printf " %s %.2f", substr($2, 7, length($2) - 7), $1 / n }'
	echo
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
