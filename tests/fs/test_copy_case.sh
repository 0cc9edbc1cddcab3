#!/usr/bin/env bash
# dvs cp -r with two source names that differ only in case (issue 11, item
# 3): FAT holds one of them; the second is an error (EEXIST, as cp into
# vfat says) that names both, the rest of the tree is copied, the exit
# status is 1, and the file the copy made first is never replaced.
# Before: the second silently replaced the first, exit 0.
. "$(dirname "$0")/lib.sh"
node_start
mkimg "$T/c.img" 64
fs_start "$T/c.img"
mkdir -p "$T/src/sub" "$T/src/SUB"
echo "lower case" >"$T/src/copyright"
echo "UPPER CASE" >"$T/src/COPYRIGHT"
echo "other" >"$T/src/other.txt"
echo "in sub" >"$T/src/sub/a.txt"
echo "in SUB" >"$T/src/SUB/b.txt"

note "a tree with copyright/COPYRIGHT and sub/SUB"
rc=0; client "$B/dvs-cp" -r --json "$T/src" dvs:/t >"$T/json" 2>"$T/err" || rc=$?
sed 's/^/  /' "$T/err"
[ "$rc" = 1 ] || fail "exit $rc with a case collision (want 1)"
[ "$(grep -c 'File exists: this copy made it a moment ago from' "$T/err")" = 2 ] ||
	fail "want one EEXIST line per collision"
# Whichever name the walk met first is on the volume, with its own bytes.
first=$(sed -n 's/.*\(COPYRIGHT\|copyright\): File exists: this copy made it a moment ago from \(.*\) (the names.*/\2/p' "$T/err")
[ -f "$first" ] || fail "the message does not name the first source: $(cat "$T/err")"
client "$B/dvs-cp" dvs:/t/copyright "$T/got" || fail "read back"
cmp "$first" "$T/got" || fail "the file the copy made first was replaced"
client "$B/dvs-cp" dvs:/t/other.txt "$T/got2" || fail "the rest of the tree was not copied"
firstdir=$(sed -n 's/.*\(SUB\|sub\): File exists: this copy made it a moment ago from \(.*\) (the names.*/\2/p' "$T/err")
[ -d "$firstdir" ] || fail "the directory collision does not name the first directory"
n=$(ls "$firstdir" | wc -l)
client "$B/dvs-cp" -r dvs:/t/sub "$T/subback" || fail "read sub back"
diff -r "$firstdir" "$T/subback" || fail "the first directory's contents differ"
grep -q '"ok": false' "$T/json" && grep -q '"case_collisions": 2' "$T/json" && grep -q '"errors": 2' "$T/json" ||
	fail "--json: $(cat "$T/json")"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/json" || fail "--json is not JSON"

note "the same copy again: what was there before is overwritten, the collision stays an error"
rc=0; client "$B/dvs-cp" -r "$T/src" dvs:/t 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "second run: exit $rc"
client "$B/dvs-cp" dvs:/t/copyright "$T/got" || fail "read back"
cmp "$first" "$T/got" || fail "second run replaced its own file"

note "two command-line sources with the same name but for case"
mkdir -p "$T/a" "$T/b"
echo one >"$T/a/Readme.txt"; echo two >"$T/b/README.TXT"
client "$B/dvs-cp" -r dvs:/t dvs:/t2 >/dev/null 2>&1 || true
client "$B/dvs-cp" "$T/src/other.txt" dvs:/t2/ >/dev/null
rc=0; client "$B/dvs-cp" "$T/a/Readme.txt" "$T/b/README.TXT" dvs:/t2 2>"$T/err" || rc=$?
[ "$rc" = 1 ] && grep -q "README.TXT: File exists" "$T/err" || fail "sources: $rc $(cat "$T/err")"
client "$B/dvs-cp" dvs:/t2/readme.txt "$T/got" && cmp "$T/a/Readme.txt" "$T/got" ||
	fail "the first source was replaced"
fs_stop
fsck_clean "$T/c.img"
echo PASS
