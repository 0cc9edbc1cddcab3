# lib.sh - sourced by the install tests: a private folder $T (with the
# staging root $R and dvkd's socket), and on exit, even after a failure:
# the processes in PIDS killed, the dvkd of $DVSCTL stopped, $T removed.
set -euo pipefail
B=${DVS_BIN:?run through meson test (DVS_BIN)}
T=$(mktemp -d /tmp/dvs-install-test.XXXXXX)
R=$T/root
export DVS_SOCKET=$T/dvkd.sock
PIDS=()
DVSCTL=$B/dvsctl
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	[ -x "$DVSCTL" ] && "$DVSCTL" stop >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
note() { echo "== $*"; }
