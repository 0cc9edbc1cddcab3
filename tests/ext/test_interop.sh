#!/usr/bin/env bash
# Interop with e2fsprogs: images made by mke2fs (ext2, ext3, ext4 with the
# default features, ext4 without a journal) are filled through the mount
# (a tree with big and small files, a directory of 400 names, symbolic and
# hard links, a FIFO, renames and removals), read back through the mount,
# checked with e2fsck -fn after a clean stop, and read once more with
# debugfs, a reader that shares nothing with the mount.  Then an image
# filled by mke2fs -d (no kernel involved) is read back byte for byte,
# with its modes, owners, links and times, read-write and read-only.
. "$(dirname "$0")/lib.sh"
need mke2fs e2fsck debugfs fusermount3 findmnt

# The tree every variant gets.
src=$T/src
mkdir -p "$src/sub/deep" "$src/many"
head -c 3000000 /dev/urandom >"$src/big"
head -c 70000 /dev/urandom >"$src/sub/medium"
printf 'small\n' >"$src/sub/deep/small"
: >"$src/empty"
for i in $(seq 400); do echo "$i" >"$src/many/file-$i"; done
ln -s sub/deep/small "$src/link"
chmod 0640 "$src/sub/medium"
chmod 0711 "$src/sub"

# What a user sees of a tree: names, types, modes, owners, sizes, links.
tree_list() {
	(cd "$1" && find . -mindepth 1 -path ./lost+found -prune -o \
		\( -type d -printf '%P %y %m %U:%G %n\n' \) -o \
		-printf '%P %y %m %U:%G %s %l %n\n' | sort)
}

variant() { # variant NAME mke2fs-args...
	local name=$1 img=$T/$1.img mnt=$T/m-$1 sum
	shift
	log "$name: mke2fs $*"
	mkext "$img" 96 "$@"
	check "$name: mounted" ext_mount "$img" "$mnt" || return
	cp -a "$src/." "$mnt/"
	ln "$mnt/big" "$mnt/big-hardlink"
	mkfifo "$mnt/fifo"
	mv "$mnt/sub/medium" "$mnt/medium-moved"
	rm "$mnt/many/file-1"* # 111 names go: holes in the directory
	check "$name: big file reads back through the mount" cmp -s "$src/big" "$mnt/big"
	check "$name: moved file reads back" cmp -s "$src/sub/medium" "$mnt/medium-moved"
	check "$name: 289 names left in the big directory" \
		[ "$(ls "$mnt/many" | wc -l)" = 289 ]
	check "$name: hard link shares the inode" \
		[ "$(stat -c %i "$mnt/big")" = "$(stat -c %i "$mnt/big-hardlink")" ]
	check "$name: symlink reads through" [ "$(cat "$mnt/link")" = small ]
	check "$name: 300 writes and reads at odd offsets match a local copy" \
		python3 - "$mnt/patch" "$T/patch-$name" <<'PY'
import os, random, sys
r = random.Random(7)
fds = [os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644) for p in sys.argv[1:]]
for _ in range(300):
    off = r.randrange(3 << 20)
    data = os.urandom(r.choice([1, 100, 4095, 4096, 4097, 70000, 300000]))
    for fd in fds:
        os.pwrite(fd, data, off)
    off = r.randrange(4 << 20)
    n = r.randrange(1, 200000)
    a, b = (os.pread(fd, n, off) for fd in fds)
    if a != b:
        sys.exit(1)
sys.exit(0 if os.fstat(fds[0]).st_size == os.fstat(fds[1]).st_size else 1)
PY
	ext_umount "$mnt"
	check "$name: e2fsck -fn clean after a clean stop" fsck_clean "$img"
	sum=$(debugfs -R "cat /big-hardlink" "$img" 2>/dev/null | md5sum | cut -d' ' -f1)
	check "$name: debugfs reads the big file as written" \
		[ "$sum" = "$(md5sum <"$src/big" | cut -d' ' -f1)" ]
	sum=$(debugfs -R "cat /patch" "$img" 2>/dev/null | md5sum | cut -d' ' -f1)
	check "$name: debugfs reads the patched file as the local copy" \
		[ "$sum" = "$(md5sum <"$T/patch-$name" | cut -d' ' -f1)" ]
	check "$name: debugfs sees the symlink's target" \
		sh -c "debugfs -R 'stat /link' '$img' 2>/dev/null | grep -q 'Fast link dest: \"sub/deep/small\"'"
	check "$name: debugfs sees the FIFO" \
		sh -c "debugfs -R 'stat /fifo' '$img' 2>/dev/null | grep -q 'Type: FIFO'"
	check "$name: debugfs finds the moved file, not the old name" \
		sh -c "debugfs -R 'ls -l /sub' '$img' 2>/dev/null | grep -q deep &&
		       ! debugfs -R 'ls -l /sub' '$img' 2>/dev/null | grep -q medium"
}

variant ext2 -t ext2
variant ext3 -t ext3
variant ext4 -t ext4
variant ext4-nojournal -t ext4 -O ^has_journal

log "an image filled by mke2fs -d, read back byte for byte"
mkdir -p "$T/dsrc/a/b"
head -c 3000000 /dev/urandom >"$T/dsrc/a/data"
head -c 1234 /dev/urandom >"$T/dsrc/a/b/odd"
ln "$T/dsrc/a/data" "$T/dsrc/data-link"
ln -s a/b/odd "$T/dsrc/sym"
chmod 0750 "$T/dsrc/a"
chmod 0604 "$T/dsrc/a/b/odd"
chown 1234:5678 "$T/dsrc/a/b/odd"
touch -d '2001-02-03 04:05:06.789' "$T/dsrc/a/data"
mkext "$T/d.img" 64 -t ext4 -I 256 -d "$T/dsrc"
for mode in rw ro; do
	opt=()
	[ $mode = ro ] && opt=(--ro)
	check "mke2fs -d image mounted ($mode)" ext_mount "$T/d.img" "$T/md-$mode" "${opt[@]}" ||
		continue
	check "$mode: every file byte for byte (diff -r)" \
		diff -r -x lost+found "$T/dsrc" "$T/md-$mode"
	check "$mode: names, types, modes, owners, sizes, links as made" \
		diff <(tree_list "$T/dsrc") <(tree_list "$T/md-$mode")
	# mke2fs -d keeps whole seconds.
	check "$mode: mtime as made" \
		[ "$(stat -c %Y "$T/dsrc/a/data")" = "$(stat -c %Y "$T/md-$mode/a/data")" ]
	if [ $mode = ro ]; then
		check "ro: writing gives EROFS" \
			sh -c "! touch '$T/md-ro/new' 2>&1 | grep -qv 'Read-only file system'"
		check "ro: nothing was created" [ ! -e "$T/md-ro/new" ]
	fi
	ext_umount "$T/md-$mode"
done
check "mke2fs -d image still e2fsck clean" fsck_clean "$T/d.img"
finish
