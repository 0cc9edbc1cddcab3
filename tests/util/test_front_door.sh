#!/usr/bin/env bash
# The `dvs` front door: --help lists the commands, an unknown command fails
# with a message and exit code 127, and `dvs CMD` runs dvs-CMD.
set -euo pipefail
bin=${DVS_BIN:?}
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$bin/dvs" --help)
for c in ctl cp mount fat img bench; do
	grep -qE "^  $c " <<<"$out" || fail "--help does not list '$c'"
done

set +e
err=$("$bin/dvs" no-such-command 2>&1); rc=$?
set -e
[ $rc -eq 127 ] || fail "unknown command exited $rc, want 127"
grep -q "not a dvs command" <<<"$err" || fail "no message for an unknown command: $err"

out=$("$bin/dvs" bench --help)
grep -q "usage: dvs-bench" <<<"$out" || fail "'dvs bench --help' did not run dvs-bench"
echo "front door ok"
