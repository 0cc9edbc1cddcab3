#!/usr/bin/env bash
# Runs the test suite of one build directory and ends with the line
# "N passed, N failed".  Tests that could not run here (exit 77: no root,
# no /dev/fuse, ...) are named on the line before it as "N skipped: ...",
# so none is ever silently absent.
set -uo pipefail
build=${1:-build}
meson test -C "$build" --print-errorlogs --num-processes "${DVS_TEST_JOBS:-2}" \
	${DVS_TEST_ARGS:-}
rc=$?
log="$build/meson-logs/testlog.json"
if [ ! -s "$log" ]; then
	echo "0 passed, 1 failed"
	exit 1
fi
python3 - "$log" <<'PY'
import json, sys
ok = fail = 0
skipped = []
for line in open(sys.argv[1]):
    t = json.loads(line)
    r = t.get("result", "")
    if r in ("OK", "EXPECTEDFAIL"):
        ok += 1
    elif r == "SKIP":
        skipped.append(t.get("name", "?"))
    else:
        fail += 1
if skipped:
    print(f"{len(skipped)} skipped: {', '.join(skipped)}")
print(f"{ok} passed, {fail} failed")
PY
exit $rc
