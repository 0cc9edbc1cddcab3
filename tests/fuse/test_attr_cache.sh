#!/usr/bin/env bash
# What a program sees of the attributes a `dvs mount` keeps of files
# (tools/fuse/attr_cache.c) and of the times it keeps back for a release
# (tools/fuse/times_defer.c, ext volumes): sizes, blocks, modes and times
# right after each change, and the same after a remount (so on the volume);
# on ext every attribute of a tree of small files shown through the mount
# equals what a remount shows.
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

# seen.py make DIR: small files made, written, truncated, renamed and
# removed the way programs do, each file and its directory stat'ed right
# after every step (size and mode checked there and then); then
# seen.py dump DIR: every attribute of everything below DIR as JSON;
# seen.py check DIR SHOWN: what make saw at moments (SHOWN) against now.  A
# dump taken through the mount before a remount must equal the one after
# it, field for field: what dvs-fuse answered from the attributes it kept
# (a write's size and times, a create's or an unlink's directory times
# and size, a chown or chmod that changed nothing) is what the volume
# holds.
cat >"$T/seen.py" <<'EOF'
import json, os, stat, sys, time
op, d = sys.argv[1], sys.argv[2]
def fail(what):
    sys.exit(f"seen.py: {what}")
def st(p):
    s = os.lstat(p)
    return {k: getattr(s, k) for k in ("st_ino", "st_mode", "st_nlink", "st_uid", "st_gid",
            "st_size", "st_blocks", "st_mtime_ns", "st_ctime_ns")}
if op in ("dump", "check"):
    out = {}
    for root, dirs, files in os.walk(d):
        for n in [root] + [os.path.join(root, f) for f in dirs + files]:
            out[os.path.relpath(n, d)] = a = st(n)
            # With the writeback cache the kernel keeps a regular file's
            # change time itself (its clock, to the tick) while the inode
            # lives; the volume has dvs-fs's.  So it was before as well.
            if stat.S_ISREG(a["st_mode"]):
                del a["st_ctime_ns"]
    if op == "check":
        for k, v in json.load(open(sys.argv[3])).items():
            now = {f: out[k][f] for f in v if f in out[k]}
            if now != v:
                fail(f"{k} showed {v}, the volume has {now}")
        sys.exit(0)
    print(json.dumps(out, sort_keys=True, indent=1))
    sys.exit(0)
os.umask(0)
os.mkdir(d)
last = st(d)
for i in range(40):
    p = f"{d}/f{i:03d}"
    t0 = time.time_ns()
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    os.write(fd, b"x" * (4096 * (i % 3) + i))
    os.close(fd)
    f, now = st(p), st(d)
    if f["st_size"] != 4096 * (i % 3) + i or f["st_mode"] != 0o100640:
        fail(f"{p} right after it was written: {f}")
    if f["st_blocks"] == 0 and f["st_size"] > 0:
        fail(f"{p}: no blocks after a write: {f}")
    if now["st_mtime_ns"] <= last["st_mtime_ns"] or now["st_mtime_ns"] < t0 - 10**9:
        fail(f"{d}: its time did not move with the create of {p}: {last} -> {now}")
    if now["st_ctime_ns"] < now["st_mtime_ns"]:
        fail(f"{d}: ctime before mtime: {now}")
    last = now
# A write while open, a truncation, a chown and a chmod that change nothing.
fd = os.open(f"{d}/g", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, b"y" * 5000)
if os.fstat(fd).st_size != 5000:
    fail("fstat of an open written file")
before = os.fstat(fd)
time.sleep(0.01)
os.fchown(fd, before.st_uid, before.st_gid)
os.fchmod(fd, 0o644)
after = os.fstat(fd)
if after.st_ctime_ns <= before.st_ctime_ns or after.st_mode != before.st_mode:
    fail(f"a chown and chmod that change nothing: ctime {before.st_ctime_ns} -> {after.st_ctime_ns}")
os.ftruncate(fd, 10)
os.close(fd)
if os.stat(f"{d}/g").st_size != 10:
    fail("size after ftruncate")
os.truncate(f"{d}/f001", 3)
if os.stat(f"{d}/f001").st_size != 3:
    fail("size after truncate")
with open(f"{d}/f002", "ab") as f:
    f.write(b"z" * 7000)
if os.stat(f"{d}/f002").st_size != 4096 * 2 + 2 + 7000:
    fail("size after an append")
os.rename(f"{d}/f003", f"{d}/h")
os.unlink(f"{d}/f004")
os.mkdir(f"{d}/sub")
if os.stat(d).st_nlink != 3:
    fail(f"{d}: links after a mkdir in it: {os.stat(d).st_nlink}")
os.symlink("f005", f"{d}/sym")
os.link(f"{d}/f006", f"{d}/hard")
if os.stat(f"{d}/f006").st_nlink != 2:
    fail("links after link")
fd = os.open(f"{d}/sub/new", os.O_WRONLY | os.O_CREAT, 0o600)
os.write(fd, b"n" * 100)
os.close(fd)
# What a stat showed at a moment nothing else changed the file after:
# a directory after the creates in it, a file written, fsynced and still
# open (the kernel takes its blocks from the answer to the fchmod, which
# comes from dvs-fs's reply to the write).  Checked
# against the volume after the remount (seen.py check).
shown = {}
os.mkdir(f"{d}/c")
for i in range(30):
    fd = os.open(f"{d}/c/n{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b"c" * 3000)
    os.close(fd)
    st(f"{d}/c")
fd = os.open(f"{d}/c/w", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, b"w" * 100000)
os.fsync(fd)
os.fchmod(fd, 0o644) # the same mode: answered from what the write told
s = os.fstat(fd)
shown["c/w"] = {k: getattr(s, k) for k in ("st_ino", "st_mode", "st_nlink", "st_uid",
                "st_gid", "st_size", "st_blocks", "st_mtime_ns")}
os.close(fd)
shown["c"] = st(f"{d}/c")
# Unlinks: the directory's attributes after each come from dvs-fs's
# reply to it (ext), and must be the volume's.
os.mkdir(f"{d}/u")
for i in range(12):
    with open(f"{d}/u/n{i}", "wb") as f:
        f.write(b"u" * 100)
last = st(f"{d}/u")
for i in range(10):
    os.unlink(f"{d}/u/n{i}")
    now = st(f"{d}/u")
    if now["st_mtime_ns"] <= last["st_mtime_ns"] or now["st_ctime_ns"] < now["st_mtime_ns"]:
        fail(f"{d}/u: its times did not move with the unlink of n{i}: {last} -> {now}")
    last = now
shown["u"] = last
with open(sys.argv[3], "w") as f:
    json.dump(shown, f)
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
	if [ $kind = ext ]; then
		check "ext: files made and changed" \
			python3 "$T/seen.py" make "$M/seen" "$T/seen-shown.json"
		python3 "$T/seen.py" dump "$M/seen" >"$T/seen-before.json"
	fi
	check "$kind: dvs umount" dvs umount "$M"
	if [ $kind = fat ]; then
		check "fat: fsck.fat is clean" fsck.fat -n "$T/$kind.img"
	else
		check "ext: e2fsck is clean" e2fsck -fn "$T/$kind.img"
	fi
	mount_dvs "$T/$kind.img" "$M" || { echo "second dvs mount failed"; exit 1; }
	log "$kind, after a remount"
	checks "$M" $kind
	if [ $kind = ext ]; then
		python3 "$T/seen.py" dump "$M/seen" >"$T/seen-after.json"
		check "ext: every attribute shown before the remount is the volume's" \
			diff -u "$T/seen-before.json" "$T/seen-after.json"
		check "ext: ... and what a stat showed right after the creates and writes" \
			python3 "$T/seen.py" check "$M/seen" "$T/seen-shown.json"
	fi
	check "$kind: dvs umount" dvs umount "$M"
done
finish
