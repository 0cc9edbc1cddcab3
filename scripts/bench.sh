#!/usr/bin/env bash
# Runs every benchmark and keeps its JSON in BUILD/bench/.
set -uo pipefail
build=${1:-build}
rc=0
for b in ipc fat img fs; do
	echo "== dvs-bench $b"
	"$build/bin/dvs-bench" "$b" | tee "$build/bench/$b.txt" || rc=1
done
exit $rc
