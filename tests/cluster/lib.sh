# lib.sh - sourced by the cluster tests: a local cluster made with
# `dvs cluster up` under a name of this test's own, removed on exit even
# when the test fails (namespaces, links, processes, files).
set -euo pipefail
B=${DVS_BIN:?run through meson test (DVS_BIN)}
export PATH=$B:$PATH:/usr/sbin:/sbin
T=$(mktemp -d /tmp/dvs-cluster-test.XXXXXX)
export DVS_RUN_DIR=$T/run
# Cluster names are 1-8 characters: a letter of the test and our pid.
CL=${CL_PREFIX:-c}$(($$ % 10000000))

# A test killed by meson's timeout (SIGKILL) cannot run its EXIT trap: its
# cluster stays.  Every test notes its cluster here with its pid, and
# removes, at its start, the clusters of tests that are no longer running.
# Clusters that tests did not make are never touched.
OWNERS=/tmp/dvs-cluster-tests
mkdir -p "$OWNERS"
for f in "$OWNERS"/*; do
	[ -f "$f" ] || continue
	read -r pid tmp <"$f" || continue
	if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
		echo "removing cluster '${f##*/}' left by a test that died" >&2
		dvs cluster down "${f##*/}" >/dev/null 2>&1 || true
		case $tmp in /tmp/dvs-cluster-test.*) rm -rf "$tmp" ;; esac
		rm -f "$f"
	fi
done
echo "$$ $T" >"$OWNERS/$CL"

cleanup() {
	local rc=$? f
	# A sanitizer build: what ASan or UBSan found in a node's dvkd fails
	# the test (dvkd logs it and goes on or aborts; nobody else would see).
	for f in "$DVS_RUN_DIR/cluster/$CL"/n*/*.log; do
		[ -f "$f" ] || continue
		if grep -q "Sanitizer\|runtime error:" "$f"; then
			echo "FAIL: sanitizer report in $f:" >&2
			grep -A20 "Sanitizer\|runtime error:" "$f" | head -40 >&2
			[ $rc -ne 0 ] || rc=1
		fi
	done
	if [ $rc -ne 0 ] && [ -d "$DVS_RUN_DIR/cluster/$CL" ]; then
		for f in "$DVS_RUN_DIR/cluster/$CL"/n*/*.log; do
			echo "--- $f"
			tail -n 15 "$f"
		done >&2
	fi
	dvs cluster down "$CL" >/dev/null 2>&1 || true
	rm -f "$OWNERS/$CL"
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
note() { echo "== $*"; }

on() { local n=$1; shift; dvs cluster exec "$CL" "$n" -- "$@"; }

# The pid of the process bound (not as backup) to DC ep EP, as node N
# lists it ("" if none): pid_of N DC EP.
pid_of() {
	on "$1" dvsctl --json ps | python3 -c '
import json, sys
p = [p["pid"] for p in json.load(sys.stdin)
     if p["dc"] == int(sys.argv[1]) and p["ep"] == int(sys.argv[2]) and not p.get("backup")]
print(p[0] if p else "")' "$2" "$3"
}

# dvs-bench-peer (tools/bench/bench_peer.c), the two ends of IPC tests.
IPC=$B/dvs-bench-peer
# Starts `dvs-bench-peer serve EP` on node N in DC ${DC:-1} (output in
# $T/sN.EP) and waits until node W lists it bound: serve N EP W.
serve() {
	local n=$1 ep=$2 w=$3 i
	on "$n" dvsctl run --dc "${DC:-1}" --ep "$ep" -- "$IPC" serve "$ep" >"$T/s$n.$ep" 2>&1 &
	for ((i = 0; i < 400; i++)); do
		on "$w" dvsctl ep list --dc "${DC:-1}" --json | python3 -c '
import json, sys
sys.exit(0 if any(e["ep"] == int(sys.argv[1]) and e["state"] == "bound"
                  for e in json.load(sys.stdin)) else 1)' "$ep" && return 0
		sleep 0.05
	done
	fail "node $w never saw ep $ep of node $n bound: $(cat "$T/s$n.$ep")"
}
# dvs-bench-peer MODE EP ARGS... on node N as ep EP of DC ${DC:-1}.
ipc() { local n=$1; shift; on "$n" dvsctl run --dc "${DC:-1}" --ep "$2" -- "$IPC" "$@" 2>&1; }

# The state node A's dvkd gives node B: member, down or unreachable.
state_seen() {
	on "$1" dvsctl node list --json |
		python3 -c 'import json,sys
for n in json.load(sys.stdin):
    if n["node"] == int(sys.argv[1]): print(n["state"])' "$2"
}

# 1 when node A's partition has quorum, as its dvkd says.
quorate_seen() {
	on "$1" dvsctl node list --json |
		python3 -c 'import json,sys; print(int(json.load(sys.stdin)[0]["quorate"]))'
}

# Waits up to S seconds for node A to see node B in STATE; prints the
# milliseconds it took.
wait_state() {
	local a=$1 b=$2 want=$3 s=${4:-20} t0 now
	t0=$(date +%s%N)
	while :; do
		[ "$(state_seen "$a" "$b")" = "$want" ] && break
		now=$(date +%s%N)
		[ $(((now - t0) / 1000000000)) -lt "$s" ] ||
			fail "node $a did not see node $b $want within $s s (it says $(state_seen "$a" "$b"))"
		sleep 0.05
	done
	echo $((($(date +%s%N) - t0) / 1000000))
}

wait_quorate() {
	local a=$1 want=$2 s=${3:-20} i
	for ((i = 0; i < s * 20; i++)); do
		[ "$(quorate_seen "$a")" = "$want" ] && return 0
		sleep 0.05
	done
	fail "node $a: quorate is not $want after $s s"
}
