# lib.sh - helpers for the img tests (sourced).  Every test gets a private
# temp folder, servers on ephemeral ports of 127.0.0.1, and a clean-up trap.
set -euo pipefail
bin=${DVS_BIN:?}
IMG="$bin/dvs-img"
T=$(mktemp -d /tmp/dvs-img-test.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	if mountpoint -q "$T/mnt" 2>/dev/null; then umount "$T/mnt" || true; fi
	rm -rf "$T"
}
trap cleanup EXIT
export DVS_IMG_TIMEOUT_MS=20000

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# rand_blocks FILE NBLOCKS: NBLOCKS blocks of 4 KiB random data.
rand_blocks() { head -c $(($2 * 4096)) /dev/urandom >"$1"; }

# serve IMAGE [OPTS...]: starts a server, sets PORT and SPID.
serve() {
	local img=$1; shift
	local pf="$T/port.$RANDOM$RANDOM"
	"$IMG" serve "$img" --listen 127.0.0.1:0 --port-file "$pf" "$@" 2>>"$T/serve.log" &
	SPID=$!
	PIDS+=("$SPID")
	local i
	for i in $(seq 100); do
		[ -s "$pf" ] && break
		kill -0 "$SPID" 2>/dev/null || fail "server did not start: $(cat "$T/serve.log")"
		sleep 0.05
	done
	[ -s "$pf" ] || fail "server gave no port"
	PORT=$(cat "$pf")
}

stop_server() { kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; }

# jget JSON FIELD: a number or bool from fetch --json
jget() { sed -n "s/.*\"$2\": \([^,} ]*\).*/\1/p" <<<"$1"; }

# expect_field JSON FIELD VALUE WHAT
expect() {
	local v
	v=$(jget "$1" "$2")
	[ "$v" = "$3" ] || fail "$4: $2 = $v, want $3 (summary: $1)"
}
