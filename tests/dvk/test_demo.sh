#!/usr/bin/env bash
# The IPC step of `make demo`: dvk_demo, run through dvsctl as the demo runs
# it, does every call type and a vcopy and exits 0; several times, since
# the order of a send and the notify after it may differ between runs.
set -uo pipefail
bin=${DVS_BIN:?DVS_BIN not set (run through meson test)}
demo=${1:?usage: test_demo.sh PATH-TO-dvk_demo}
tmp=$(mktemp -d)
export DVS_SOCKET=$tmp/dvkd.sock
trap '"$bin/dvsctl" stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp/out" "$DVS_SOCKET.log" >&2 2>/dev/null; exit 1; }

"$bin/dvsctl" start >/dev/null || fail "dvsctl start"
"$bin/dvsctl" dc create 2 --endpoints 16 >/dev/null || fail "dc create"
for i in 1 2 3 4 5; do
	timeout 30 "$bin/dvsctl" run --dc 2 --ep 1-2 -- "$demo" >"$tmp/out" 2>&1 ||
		fail "dvk_demo run $i exited $?"
	for what in '^sendrec  41 -> endpoint 1 -> reply 42' '^notify   from endpoint 1' \
		'got type 102 from endpoint 1' 'wrote back "HELLO FROM ENDPOINT TWO"' \
		'^round trip: [0-9.]+ us'; do
		grep -Eq "$what" "$tmp/out" || fail "run $i: no line matching '$what'"
	done
done
echo "dvk_demo ok (5 runs)"
