#!/usr/bin/env bash
# Runs the test suite of one build directory and ends with the line
# "N passed, N failed" (", N skipped" when some test could not run).
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
ok = fail = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result", "")
    if r in ("OK", "EXPECTEDFAIL"):
        ok += 1
    elif r == "SKIP":
        skip += 1
    else:
        fail += 1
print(f"{ok} passed, {fail} failed" + (f", {skip} skipped" if skip else ""))
PY
exit $rc
