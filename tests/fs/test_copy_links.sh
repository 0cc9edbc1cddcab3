#!/usr/bin/env bash
# dvs cp and symbolic links (issue 11, item 4): inside a tree they are not
# followed (each named once, counted in the summary), -L follows them and
# stops at a loop (device, inode), -H follows the ones on the command line.
# Before: `up -> ..` was followed until the volume filled.
. "$(dirname "$0")/lib.sh"
node_start
mkimg "$T/l.img" 64
fs_start "$T/l.img"
mkdir -p "$T/p/src/dir"
echo "outside" >"$T/p/outside.txt"
echo "file" >"$T/p/src/f.txt"
echo "in dir" >"$T/p/src/dir/d.txt"
ln -s .. "$T/p/src/up"
ln -s f.txt "$T/p/src/flink"
ln -s dir "$T/p/src/dlink"
ln -s ../.. "$T/p/src/dir/upup"
S=$T/p/src

note "default: links inside the tree are named and skipped"
rc=0; timeout 60 "$B/dvsctl" run --dc 1 --ep 100-199 -- "$B/dvs-cp" -r --json "$S" dvs:/t \
	>"$T/json" 2>"$T/err" || rc=$?
sed 's/^/  /' "$T/err"
[ "$rc" = 0 ] || fail "exit $rc"
for l in up flink dlink dir/upup; do
	[ "$(grep -c "^dvs-cp: $S/$l -> .*: symbolic link not followed" "$T/err")" = 1 ] ||
		fail "$l not named exactly once"
done
grep -q "4 symbolic links not followed" "$T/err" || fail "no count in the summary"
grep -q '"links_not_followed": 4' "$T/json" && grep -q '"files": 2' "$T/json" ||
	fail "--json: $(cat "$T/json")"
client "$B/dvs-cp" -r dvs:/t "$T/back" || fail "copy back"
[ "$(cd "$T/back" && find . | sort | tr '\n' ' ')" = ". ./dir ./dir/d.txt ./f.txt " ] ||
	fail "the volume holds $(cd "$T/back" && find . | sort | tr '\n' ' ')"

note "-L follows, and refuses the loops"
rc=0; timeout 60 "$B/dvsctl" run --dc 1 --ep 100-199 -- "$B/dvs-cp" -rL "$S" dvs:/L \
	2>"$T/err" || rc=$?
sed 's/^/  /' "$T/err"
[ "$rc" = 1 ] || fail "-L with loops: exit $rc (want 1)"
grep -q "$S/up/src: cannot copy a cyclic symbolic link: it leads back to $S," "$T/err" ||
	fail "up/src loop not named"
grep -q "$S/dir/upup/src: cannot copy a cyclic symbolic link" "$T/err" || fail "upup loop not named"
client "$B/dvs-cp" -r dvs:/L "$T/backL" || fail "copy -L back"
cmp "$T/backL/flink" "$S/f.txt" && cmp "$T/backL/dlink/d.txt" "$S/dir/d.txt" &&
	cmp "$T/backL/up/outside.txt" "$T/p/outside.txt" || fail "-L did not copy what the links point to"
[ ! -e "$T/backL/up/src" ] || fail "-L went into the loop"

note "-H follows a link on the command line; -r alone names and skips it"
ln -s "$S/dir" "$T/cmdlink"
rc=0; client "$B/dvs-cp" -r "$T/cmdlink" dvs:/h0 2>"$T/err" || rc=$?
[ "$rc" = 0 ] && grep -q "cmdlink -> .*not followed (-H or -L follows it)" "$T/err" ||
	fail "-r on a link: $rc $(cat "$T/err")"
client "$B/dvs-cp" -rH "$T/cmdlink" dvs:/h || fail "-rH"
client "$B/dvs-cp" dvs:/h/d.txt "$T/h.txt" && cmp "$T/h.txt" "$S/dir/d.txt" || fail "-H copy"
client "$B/dvs-cp" -r dvs:/h "$T/backH" || fail "copy -H back"
[ ! -e "$T/backH/upup" ] || fail "-H followed a link inside the tree"
note "without -r a file link is followed, as cp does"
client "$B/dvs-cp" "$S/flink" dvs:/single.txt || fail "cp of a file link"
client "$B/dvs-cp" dvs:/single.txt "$T/single" && cmp "$T/single" "$S/f.txt" || fail "file link content"
fs_stop
fsck_clean "$T/l.img"
echo PASS
