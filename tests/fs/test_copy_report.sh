#!/usr/bin/env bash
# What dvs cp tells (issue 11): on a terminal the progress line shows the
# percent of the total and the time left, the summary says "1 file" (not
# "1 files"), --no-progress silences the line, --json is one valid JSON
# object even for names with quotes, backslashes, newlines or bytes that
# are not UTF-8 (python3 -m json.tool and jq parse it), and --stats says what each counter counts.
. "$(dirname "$0")/lib.sh"
node_start
mkimg "$T/r.img" 64
fs_start "$T/r.img"
head -c 6000000 /dev/urandom >"$T/big.bin"
CP="'$B/dvsctl' run --dc 1 --ep 100-199 -- '$B/dvs-cp'"

note "progress on a terminal: percent and time left; 1 file"
DVS_CP_PROGRESS_NOW=1 script -qec "$CP -b 65536 '$T/big.bin' dvs:/big.bin" /dev/null >"$T/tty" 2>&1 ||
	fail "copy on a terminal: $(cat "$T/tty")"
tr '\r' '\n' <"$T/tty" | sed 's/\x1b\[K//g' >"$T/lines"
grep -Eq "^dvs-cp: [01] of 1 file, [0-9.]+ of 5\.7 MiB \([0-9]+%\), [0-9.]+ MiB/s, [0-9]+:[0-9]{2} left" "$T/lines" ||
	fail "no percent/ETA progress line: $(cat "$T/lines")"
grep -q "copied 1 file and 0 directories" "$T/lines" || fail "summary: $(cat "$T/lines")"
grep -q "1 files" "$T/lines" && fail "'1 files' in: $(cat "$T/lines")"
DVS_CP_PROGRESS_NOW=1 script -qec "$CP --no-progress '$T/big.bin' dvs:/big2.bin" /dev/null >"$T/tty" 2>&1 ||
	fail "--no-progress"
grep -q "MiB/s" "$T/tty" && fail "--no-progress printed a progress line: $(cat "$T/tty")"

note "--json, with awkward names in the errors"
mkdir -p "$T/src"
echo ok >"$T/src/fine.txt"
echo q >"$T/src/quote\"back\\slash.txt"
echo b >"$T/src/$(printf 'bad\377byte.txt')"
echo n >"$T/src/$(printf 'new\nline.txt')"
rc=0; client "$B/dvs-cp" -r --json "$T/src" dvs:/j >"$T/json" 2>"$T/err" || rc=$?
cat "$T/json"
[ "$rc" = 1 ] || fail "names FAT refuses: exit $rc"
python3 -m json.tool "$T/json" >/dev/null || fail "python3 -m json.tool refuses --json: $(cat "$T/json")"
jq -e . "$T/json" >/dev/null || fail "jq refuses --json: $(cat "$T/json")"
python3 - "$T/json" <<'PY' || fail "--json is not the expected JSON"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is False and j["files"] == 1 and j["directories"] == 1, j
assert j["errors"] == 3 and len(j["error_messages"]) == 3, j
assert any('quote"back\\slash.txt' in m and "FAT does not allow this name" in m for m in j["error_messages"]), j
assert any("bad\ufffdbyte.txt" in m for m in j["error_messages"]), j
assert any("new\nline.txt" in m for m in j["error_messages"]), j
assert isinstance(j["bytes"], int) and isinstance(j["seconds"], float), j
PY
grep -q "3 errors, each named above" "$T/err" || fail "no error count in the summary: $(cat "$T/err")"
out=$(client "$B/dvs-cp" --json "$T/src/fine.txt" dvs:/fine.txt) || fail "one file --json"
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["ok"] and j["files"]==1 and j["errors"]==0, j' "$out" ||
	fail "one file --json: $out"

note "--stats explains its counters"
client "$B/dvs-cp" --stats >"$T/stats" || fail "--stats"
for w in requests errors sessions bindings fds workers; do
	grep -Eq "^  $w +[a-z]" "$T/stats" || fail "--stats does not explain $w: $(cat "$T/stats")"
done
fs_stop
fsck_clean "$T/r.img"
echo PASS
