# lib.sh - sourced by the fs integration tests: a private one-node DVS in a
# mktemp directory, dvs-fs / dvs-vdd started through `dvsctl run`, clients
# admitted to endpoints 100-199, everything stopped on exit.
set -euo pipefail
B=${DVS_BIN:?run through meson test (DVS_BIN)}
T=$(mktemp -d /tmp/dvs-fs-test.XXXXXX)
export DVS_SOCKET=$T/dvkd.sock
export MTOOLS_SKIP_CHECK=1
export DVS_FS_EP=1
PIDS=()
FS_PID=
VDD_PID=

cleanup() {
	local p
	for p in "${PIDS[@]}" $FS_PID $VDD_PID; do
		kill -9 "$p" 2>/dev/null || true
	done
	"$B/dvsctl" stop >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; } >&2
	done
	exit 1
}

note() { echo "== $*"; }

node_start() {
	"$B/dvsctl" start >/dev/null || fail "dvsctl start"
	"$B/dvsctl" dc create 1 --endpoints 256 >/dev/null || fail "dc create"
}

# Runs a client inside DC 1.
client() { "$B/dvsctl" run --dc 1 --ep 100-199 -- "$@"; }

wait_fs() {
	local i
	for i in $(seq 1 150); do
		if client "$B/dvs-cp" --stats >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$FS_PID" 2>/dev/null || fail "dvs-fs exited at start"
		sleep 0.1
	done
	fail "dvs-fs did not answer in 15 s"
}

# fs_start ARGS...: dvs-fs on endpoint 1 (workers on 2-9); dvs-vdd on 20.
fs_start() {
	DVS_LOG=info "$B/dvsctl" run --dc 1 --ep 1-9 -- "$B/dvs-fs" "$@" \
		>>"$T/fs.log" 2>&1 &
	FS_PID=$!
	wait_fs
}

# fs_stop: SIGTERM, must exit 0 within 10 s.
fs_stop() {
	local i rc
	kill -TERM "$FS_PID"
	for i in $(seq 1 100); do
		kill -0 "$FS_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$FS_PID" 2>/dev/null && fail "dvs-fs did not stop on SIGTERM"
	rc=0
	wait "$FS_PID" || rc=$?
	FS_PID=
	[ "$rc" = 0 ] || fail "dvs-fs exit status $rc after SIGTERM"
}

vdd_start() {
	"$B/dvsctl" run --dc 1 --ep 20 -- "$B/dvs-vdd" "$@" >>"$T/vdd.log" 2>&1 &
	VDD_PID=$!
}

# wait_vdd: until the vdd at 20 answers BLK_STATS (15 s at most).
wait_vdd() {
	local i
	for i in $(seq 1 150); do
		client "$B/dvs-vdd" --stats --ep 20 >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "dvs-vdd did not answer in 15 s"
}

vdd_stop() {
	kill -TERM "$VDD_PID"
	wait "$VDD_PID" || fail "dvs-vdd exit status $? after SIGTERM"
	VDD_PID=
}

# mkimg IMG MIB: FAT32 by mkfs.fat.
mkimg() {
	rm -f "$1"
	mkfs.fat -F 32 -C "$1" $(($2 * 1024)) >/dev/null || fail "mkfs.fat"
}

# fsck_clean IMG: fsck.fat -n finds nothing at all (clean unmount).
fsck_clean() {
	local out
	out=$(fsck.fat -n "$1" 2>&1) || fail "fsck.fat -n $1: $out"
	echo "$out" | tail -1
}

# fsck_after_crash IMG: only what a crash may leave (dirty bit, lost
# clusters, files shorter than their chains); never cross-links, loops,
# chains through free or bad clusters.
fsck_after_crash() {
	local out
	out=$(fsck.fat -n "$1" 2>&1) || true
	echo "$out" | sed 's/^/  fsck: /'
	if echo "$out" | grep -Eiq 'cross-linked|loop|starts with free|bad cluster|invalid|duplicate|contains a free cluster'; then
		fail "fsck.fat -n reports damage a crash must not cause"
	fi
}

# Random tree with awkward sizes and names under $1.
mktree() {
	mkdir -p "$1/sub/deeper" "$1/empty dir" "$1/Ünïcødé"
	head -c 0 /dev/urandom >"$1/zero.bin"
	head -c 1 /dev/urandom >"$1/one.bin"
	head -c 511 /dev/urandom >"$1/sub/511.bin"
	head -c 512 /dev/urandom >"$1/sub/512.bin"
	head -c 4097 /dev/urandom >"$1/sub/deeper/4097.bin"
	head -c 3000001 /dev/urandom >"$1/big.bin"
	echo "long names survive" >"$1/A rather long file name, with spaces.txt"
	echo "unicode" >"$1/Ünïcødé/façade €.txt"
	echo "case" >"$1/MixedCase.Txt"
}
