#!/usr/bin/env bash
# dvsctl as a user and a script see it: start/stop, DCs, listings with
# statistics (tables and --json, also with a socket path holding a quote,
# a backslash and a newline), run, --version, and the documented exit codes.
set -uo pipefail
bin=${DVS_BIN:?DVS_BIN not set (run through meson test)}
tmp=$(mktemp -d)
export DVS_SOCKET=$tmp/dvkd.sock
trap '"$bin/dvsctl" stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$DVS_SOCKET.log" >&2 2>/dev/null; exit 1; }
expect() { # expect CODE cmd...
	local want=$1; shift
	"$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
	[ "$rc" = "$want" ] || { cat "$tmp/out" "$tmp/err" >&2; fail "$* exited $rc, want $want"; }
}
ctl="$bin/dvsctl"

expect 3 "$ctl" status
grep -q "not running" "$tmp/err" || fail "status on a stopped node does not say so"
expect 3 "$ctl" --json status
grep -q '"running": false' "$tmp/out" || fail "status --json on a stopped node"
# A socket path with a quote, a backslash and a newline stays JSON.
odd=$tmp/$(printf 'q"uo\\te\nnl')
mkdir -p "$odd"
expect 3 "$ctl" --socket "$odd/dvkd.sock" --json status
python3 -m json.tool "$tmp/out" >/dev/null || fail "status --json with an odd socket path: $(cat "$tmp/out")"
jq -e --arg s "$odd/dvkd.sock" '.socket == $s and .running == false' "$tmp/out" >/dev/null ||
	fail "status --json does not give the socket path back: $(cat "$tmp/out")"
expect 0 "$ctl" --version
grep -qx "dvsctl [0-9][0-9.]*" "$tmp/out" || fail "--version: $(cat "$tmp/out")"
expect 2 "$ctl"
expect 2 "$ctl" frobnicate
expect 2 "$ctl" dc create
expect 2 "$ctl" dc create 1 --endpoints 0
expect 0 "$ctl" --help
grep -q "run \[--node N\] --dc DC --ep E" "$tmp/out" || fail "--help does not show run"

expect 0 "$ctl" start
grep -q "dvkd started" "$tmp/out" || fail "start says nothing"
[ "$(stat -c %a "$DVS_SOCKET")" = 600 ] || fail "management socket is not mode 0600"
expect 0 "$ctl" start
grep -q "already running" "$tmp/out" || fail "second start"
expect 0 "$ctl" status
expect 0 "$ctl" status --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["running"] and d["pid"] > 0' "$tmp/out" \
	|| fail "status --json is not the expected JSON"

expect 0 "$ctl" dc create 7 --endpoints 32
expect 1 "$ctl" dc create 7
grep -q "DC 7 exists" "$tmp/err" || fail "duplicate dc create: $(cat "$tmp/err")"
expect 0 "$ctl" dc create 8
expect 0 "$ctl" --json dc list
python3 - "$tmp/out" <<'PY' || fail "dc list --json"
import json, sys
d = {x["dc"]: x for x in json.load(open(sys.argv[1]))}
assert d[7]["endpoints"] == 32 and d[8]["endpoints"] == 256, d
# default quotas: every endpoint bound, four rings each (at most 4096)
assert d[7]["max_bindings"] == 32 and d[7]["max_rings"] == 128, d
assert d[8]["max_bindings"] == 256 and d[8]["max_rings"] == 1024, d
assert d[7]["bindings"] == 0 and d[7]["rings"] == 0, d
PY
# Quotas are promised: a DC whose quotas do not fit beside the others'
# is refused, with smaller ones it fits.
expect 1 "$ctl" dc create 10 --endpoints 4096
grep -q "does not fit" "$tmp/err" || fail "dc create beyond the node: $(cat "$tmp/err")"
expect 0 "$ctl" dc create 10 --endpoints 4096 --max-bindings 100 --max-rings 200
expect 0 "$ctl" --json dc list
python3 - "$tmp/out" <<'PY' || fail "dc list --json quotas"
import json, sys
d = {x["dc"]: x for x in json.load(open(sys.argv[1]))}
assert d[10]["max_bindings"] == 100 and d[10]["max_rings"] == 200, d
PY
expect 2 "$ctl" dc create 11 --max-bindings 0
expect 0 "$ctl" dc destroy 10
expect 1 "$ctl" dc destroy 10
grep -q "DC 10 does not exist" "$tmp/err" || fail "destroy of a missing DC: $(cat "$tmp/err")"
expect 0 "$ctl" dc list
grep -qE '^7 +32 ' "$tmp/out" || fail "dc list table"

# a program in the DC: the itest 'calls' scenario exchanges messages
expect 1 "$ctl" run --dc 9 --ep 1 -- true
grep -q "DC 9 does not exist" "$tmp/err" || fail "run in a missing DC: $(cat "$tmp/err")"
expect 2 "$ctl" run --dc 7 --ep 5-2 -- true
expect 2 "$ctl" run --dc 7 --ep 1
expect 127 "$ctl" run --dc 7 --ep 1 -- /nonexistent/prog
expect 0 "$ctl" run --dc 7 --ep any -- sh -c 'test -n "$DVK_ADMIT_FD"'
"$ctl" dc destroy 7 >/dev/null && "$ctl" dc create 7 --endpoints 64 >/dev/null || fail "recreate dc 7"
DVK_ITEST_DC=7 expect 0 "$ctl" run --dc 7 --ep 0-63 -- "$bin/../tests/dvk/dvk_itest" --in calls

expect 0 "$ctl" --json ep list --dc 7
python3 - "$tmp/out" <<'PY' || fail "ep list --json after traffic: $(cat "$tmp/out")"
import json, sys
eps = {x["ep"]: x for x in json.load(open(sys.argv[1]))}
# the calls test: ep 2 sent >= 1000 messages to ep 1, which received them
assert eps[2]["sent_msgs"] >= 1000 and eps[1]["recv_msgs"] >= 1000, eps
assert eps[2]["sent_bytes"] >= 64000, eps
assert eps[1]["state"] == "free", eps
PY
expect 0 "$ctl" ep list
grep -q "SENT" "$tmp/out" || fail "ep list table header"
expect 1 "$ctl" ep list --dc 99

# ep wait, then ps shows a running program with its endpoint
expect 7 "$ctl" ep wait 8 17 --timeout 0
expect 0 "$ctl" ep wait 8 17 --unbound --timeout 0
expect 1 "$ctl" ep wait 99 1 --timeout 0
expect 2 "$ctl" ep wait 8
"$ctl" run --dc 8 --ep 17 -- "$bin/../tests/dvk/dvk_itest" --in hold17 &
runner=$!
expect 0 "$ctl" ep wait 8 17 --timeout 20
"$ctl" --json ps >"$tmp/ps" 2>/dev/null
grep -q '"ep": 17' "$tmp/ps" || fail "ps does not list the bound program: $(cat "$tmp/ps")"
expect 0 "$ctl" ps
grep -q "dvk_itest" "$tmp/out" || fail "ps table lacks the command"
expect 0 "$ctl" dc destroy 8
expect 1 "$ctl" ep wait 8 17 --unbound --timeout 5
wait $runner
rc=$?
[ "$rc" = 0 ] || fail "program in a destroyed DC exited $rc (want 0: it saw an error, no hang)"
expect 1 "$ctl" dc destroy 8

expect 0 "$ctl" stop
expect 3 "$ctl" status
expect 3 "$ctl" stop
[ -e "$DVS_SOCKET" ] && fail "socket left behind"
echo "dvsctl: ok"
