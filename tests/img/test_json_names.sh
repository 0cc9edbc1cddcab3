#!/usr/bin/env bash
# --json output stays JSON whatever the names: a path holding a double
# quote, a backslash, a newline, a tab, a control byte, a byte that is not
# UTF-8 and non-ASCII letters comes out of `dvs img fetch --json` and
# `dvs img similarity --json` as a document that python3 -m json.tool and
# jq parse, with the name given back exactly (the bad byte as U+FFFD).
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing (scripts/install-deps.sh installs it)"

name=$(printf 'q"uo\\te\nnew\tline\001ctl\377-\xc3\xa9t\xc3\xa9.img')
mkdir -p "$T/d"
rand_blocks "$T/d/$name" 16
cp "$T/d/$name" "$T/seed"

# parses FILE WHAT: both parsers accept the document.
parses() {
	python3 -m json.tool "$1" >/dev/null || fail "$2: python3 -m json.tool refuses: $(cat "$1")"
	jq -e . "$1" >/dev/null || fail "$2: jq refuses: $(cat "$1")"
}
# The name as it should come back: the byte 0xff replaced by U+FFFD.
want=$(printf '%s' "$name" | python3 -c 'import sys; sys.stdout.write(sys.stdin.buffer.read().decode("utf-8", "replace"))')

serve "$T/seed" --insecure-no-key
"$IMG" fetch 127.0.0.1:"$PORT" "$T/d/$name.out" --json >"$T/fetch.json" 2>"$T/err" ||
	fail "fetch into an awkward name: $(cat "$T/err")"
stop_server
cmp "$T/seed" "$T/d/$name.out" || fail "fetched image differs"
parses "$T/fetch.json" "fetch --json"
[ "$(wc -l <"$T/fetch.json")" = 1 ] || fail "fetch --json is not one line: $(cat "$T/fetch.json")"
got=$(jq -j .output "$T/fetch.json")
[ "$got" = "$T/d/$want.out" ] || fail "fetch --json output: $(jq .output "$T/fetch.json")"
[ "$(jq .ok "$T/fetch.json")" = true ] || fail "fetch --json ok: $(cat "$T/fetch.json")"
ok "fetch --json with an awkward output name"

"$IMG" similarity "$T/d/$name" "$T/seed" --json >"$T/sim.json" || fail "similarity"
parses "$T/sim.json" "similarity --json"
[ "$(jq -j .target "$T/sim.json")" = "$T/d/$want" ] || fail "similarity target: $(jq .target "$T/sim.json")"
jq -e '.rows[0].similarity == 1' "$T/sim.json" >/dev/null || fail "similarity row: $(cat "$T/sim.json")"
ok "similarity --json with an awkward target name"

# A failed fetch still writes a valid summary, its error message included.
"$IMG" fetch 127.0.0.1:1 "$T/d/$name.none" --json --retries 0 >"$T/fail.json" 2>/dev/null && fail "fetch from a closed port succeeded"
parses "$T/fail.json" "failed fetch --json"
[ "$(jq .ok "$T/fail.json")" = false ] && [ -n "$(jq -j .error "$T/fail.json")" ] ||
	fail "failed fetch --json: $(cat "$T/fail.json")"
ok "failed fetch --json"
echo PASS
