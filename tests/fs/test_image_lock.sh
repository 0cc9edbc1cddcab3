#!/usr/bin/env bash
# One writer per image (issue 11, items 1 and 2): while dvs-fs serves an
# image, a second dvs-fs or a dvs-vdd on the same file through a hard
# link, and dvs-fat mkfs/put/ls on it, are refused with a message that
# names the holder; the served volume stays whole (fsck.fat -n clean, the
# file copied in still there).  Before the lock, the second server and
# mkfs wrote the same volume and files vanished.
. "$(dirname "$0")/lib.sh"
node_start
mkimg "$T/a.img" 64
ln "$T/a.img" "$T/link.img"
echo "keep me" >"$T/keep.txt"
fs_start "$T/a.img"
client "$B/dvs-cp" "$T/keep.txt" dvs:/keep.txt || fail "copy in"

# expect_busy NAME CMD...: exits non-zero and names dvs-fs and its pid.
expect_busy() {
	local what=$1 rc=0
	shift
	"$@" >"$T/out" 2>&1 || rc=$?
	sed 's/^/  /' "$T/out"
	[ "$rc" != 0 ] || fail "$what on a served image succeeded"
	grep -q "in use by dvs-fs (pid [0-9]*), which writes it" "$T/out" ||
		fail "$what: the message does not name dvs-fs and its pid"
}

note "a second dvs-fs through a hard link"
expect_busy "second dvs-fs" timeout 20 "$B/dvsctl" run --dc 1 --ep 10-19 -- \
	"$B/dvs-fs" --ep 10 --workers 0 "$T/link.img"
note "dvs-vdd through the hard link"
expect_busy "dvs-vdd" timeout 20 "$B/dvsctl" run --dc 1 --ep 20 -- "$B/dvs-vdd" "$T/link.img"
note "dvs fat mkfs, put, mkdir and ls"
expect_busy "dvs-fat mkfs" "$B/dvs-fat" mkfs -F 32 "$T/link.img"
expect_busy "dvs-fat mkfs -s" "$B/dvs-fat" mkfs -F 32 -s 32M "$T/a.img"
[ "$(stat -c %s "$T/a.img")" = $((64 * 1024 * 1024)) ] || fail "mkfs -s resized a served image"
expect_busy "dvs-fat put" "$B/dvs-fat" put "$T/keep.txt" "$T/link.img:/other.txt"
expect_busy "dvs-fat mkdir" "$B/dvs-fat" mkdir "$T/a.img:/dir"
expect_busy "dvs-fat ls (reads while dvs-fs writes)" "$B/dvs-fat" ls "$T/a.img"
if [ -x "$B/dvs-img" ]; then
	note "dvs img fetch onto the served image"
	expect_busy "dvs img fetch" "$B/dvs-img" fetch --no-progress 127.0.0.1:1 "$T/link.img"
	[ ! -e "$T/link.img.partial" ] || fail "a refused fetch left link.img.partial"
fi

note "the first server is unharmed"
client "$B/dvs-cp" dvs:/keep.txt "$T/keep.back" || fail "read back"
cmp "$T/keep.txt" "$T/keep.back" || fail "keep.txt changed"
fs_stop
fsck_clean "$T/a.img"
[ "$(mtype -i "$T/a.img" ::/keep.txt)" = "keep me" ] || fail "keep.txt lost"
mdir -i "$T/a.img" ::/other.txt >/dev/null 2>&1 && fail "a refused put wrote other.txt"

note "with the server gone, the lock is gone"
"$B/dvs-fat" put "$T/keep.txt" "$T/link.img:/other.txt" || fail "put after the stop"
"$B/dvs-fat" ls "$T/a.img" | grep -q other.txt || fail "ls after the stop"
note "two readers share: dvs-fs -r and dvs-fat ls"
fs_start -r "$T/a.img"
"$B/dvs-fat" ls "$T/link.img" | grep -q keep.txt || fail "dvs-fat ls beside a read-only dvs-fs"
expect_busy_ro() {
	"$B/dvs-fat" put "$T/keep.txt" "$T/a.img:/third.txt" >"$T/out" 2>&1 && fail "put beside a read-only dvs-fs"
	grep -q "in use by dvs-fs (pid [0-9]*), which reads it" "$T/out" || fail "read-only holder not named: $(cat "$T/out")"
}
expect_busy_ro
fs_stop
fsck_clean "$T/a.img"
echo PASS
