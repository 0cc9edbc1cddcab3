#!/usr/bin/env bash
# What a second client of the same dvs-fs sees of a `dvs mount` (docs/FUSE.md,
# "Caching"): everything a program wrote and closed through the mount, at
# once, however the mount caches (writeback cache, attributes, directory
# attributes, one-round-trip creates).  The second client is dvs cp, run
# inside the mount's own DC.  Also: directory attributes the mount keeps
# follow chmod and touch of the directory, before and after a remount.
. "$(dirname "$0")/lib.sh"
need mkfs.fat fsck.fat findmnt

mkimage "$T/vol.img" 64
mount_dvs "$T/vol.img" "$T/mnt" || { echo "dvs mount failed"; exit 1; }
key=$(printf '%s' "$(realpath "$T/mnt")" | sha256sum | cut -c1-16)
export DVS_SOCKET=$DVS_RUN_DIR/mount-$key/dvkd.sock
M=$T/mnt
other() { dvsctl run --dc 1 --ep 100-199 -- dvs-cp -q "$@"; }
same() { # same FILE-ON-MOUNT: the other client reads the same bytes
	rm -f "$T/got" && other "dvs:${1#"$M"}" "$T/got" && cmp -s "$T/got" "$1"
}

log "files written and closed through the mount"
head -c 10000 /dev/urandom >"$M/new.bin"
check "a new file" same "$M/new.bin"
printf 'XYZ' | dd of="$M/new.bin" bs=1 seek=4096 conv=notrunc status=none
check "bytes overwritten in place" same "$M/new.bin"
echo "appended" >>"$M/new.bin"
check "bytes appended" same "$M/new.bin"
truncate -s 5000 "$M/new.bin"
check "a truncation" same "$M/new.bin"
mkdir -p "$M/many"
for i in $(seq 200); do echo "file $i" >"$M/many/f$i.txt"; done
rm -rf "$T/many"
check "200 small files" bash -c "dvsctl run --dc 1 --ep 100-199 -- dvs-cp -q -r dvs:/many '$T/many' && diff -r '$M/many' '$T/many'"
mv "$M/many" "$M/moved"
check "a renamed directory: the new name" same "$M/moved/f7.txt"
check "a renamed directory: the old name is gone" bash -c "! dvsctl run --dc 1 --ep 100-199 -- dvs-cp -q dvs:/many/f7.txt '$T/x' 2>/dev/null"
rm "$M/moved/f9.txt"
check "sync -f of the mount after a file was removed" sync -f "$M"
check "a removed file is gone" bash -c "! dvsctl run --dc 1 --ep 100-199 -- dvs-cp -q dvs:/moved/f9.txt '$T/x' 2>/dev/null"

log "directory attributes kept by the mount follow changes of the directory"
mkdir "$M/d"
touch "$M/d/a"
chmod a-w "$M/d"
touch "$M/d/b" 2>/dev/null # root may; the mode must show anyway
check "chmod a-w of a directory shows 555" test "$(stat -c %a "$M/d")" = 555
chmod u+w "$M/d"
touch "$M/d/c"
check "chmod u+w shows 755" test "$(stat -c %a "$M/d")" = 755
touch -d '2020-01-02 03:04:06' "$M/d"
touch "$M/d/e"
rm "$M/d/a"
check "touch of a directory shows its time after creates inside it" \
	test "$(stat -c %Y "$M/d")" = "$(date -d '2020-01-02 03:04:06' +%s)"
mv "$M/d" "$M/d2"
check "a renamed directory keeps its time" \
	test "$(stat -c %Y "$M/d2")" = "$(date -d '2020-01-02 03:04:06' +%s)"
rmdir "$M/moved" 2>/dev/null
rm -rf "$M/moved"
mkdir "$M/moved"
check "a directory made where one was removed is new (no stale time)" \
	test "$(stat -c %Y "$M/moved")" -gt "$(date -d '2021-01-01' +%s)"
log "names in a directory made through the mount (known to the mount)"
mkdir "$M/nd"
echo one >"$M/nd/Foo.txt"
check "another case of a name finds the file" test "$(cat "$M/nd/FOO.TXT")" = one
echo long >"$M/nd/a long file name.text"
check "the 8.3 alias of a long name finds the file" test "$(cat "$M/nd/ALONGF~1.TEX")" = long
check "a name not there is not there" test ! -e "$M/nd/bar.txt"
echo two >"$M/nd/bar.txt"
check "... until it is made" test "$(cat "$M/nd/bar.txt")" = two
rm "$M/nd/bar.txt"
check "... and gone when removed" test ! -e "$M/nd/BAR.TXT"
mkdir "$M/nd/sub" && mv "$M/nd/Foo.txt" "$M/nd/sub/"
check "a file moved into a new directory is found there" test "$(cat "$M/nd/sub/foo.TXT")" = one
check "dvs umount" dvs umount "$M"
check "fsck.fat is clean" fsck.fat -n "$T/vol.img"
mount_dvs "$T/vol.img" "$M" || { echo "second dvs mount failed"; exit 1; }
check "after a remount: the directory's time" \
	test "$(stat -c %Y "$M/d2")" = "$(date -d '2020-01-02 03:04:06' +%s)"
check "after a remount: the file truncated to 5000 bytes" test "$(stat -c %s "$M/new.bin")" = 5000
check "dvs umount" dvs umount "$M"
finish
