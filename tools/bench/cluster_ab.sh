#!/usr/bin/env bash
# dvs-bench-cluster-ab: remote one-way streams and round trips with two
# builds of DVS, alternating, on 2-node local clusters built side by side
# (one per build), as docs/BENCHMARKS.md ("Flow control") reports them.
#
#   dvs-bench-cluster-ab [--slow] [--rounds N] BASE-BIN NEW-BIN
#
# BASE-BIN and NEW-BIN are the build/bin directories of the two builds.
# Each round runs, for each build: 200,000 one-way messages node 0 -> 1
# (dvs-bench-peer oneway: msgs/s, every message checked in order by the
# server), 10,000 round trips (median us), 16 clients on node 0 each in
# lock-step sendrecs for 3 s with its own server on node 1 (sendrec/s, as
# dvs-bench cluster's remote_sendrec_per_s), and prints the frames node 0
# sent node 1 so far (dvsctl node list, MSGS_OUT: resends show there).
# --slow pins the server to CPU 1 at nice 5 beside a busy loop on CPU 1
# and the sender to CPU 0: a receiver slower than its sender.
set -euo pipefail
slow=0 rounds=3
while [ $# -gt 0 ]; do
	case $1 in
	--slow) slow=1; shift ;;
	--rounds) rounds=$2; shift 2 ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || { echo "usage: dvs-bench-cluster-ab [--slow] [--rounds N] BASE-BIN NEW-BIN" >&2; exit 2; }
bins=("$1" "$2") names=(base new)
for b in "${bins[@]}"; do
	[ -x "$b/dvs-cluster" ] || { echo "dvs-bench-cluster-ab: $b has no dvs-cluster" >&2; exit 2; }
done
srv_pre=() cli_pre=() hog=
if [ $slow = 1 ]; then
	srv_pre=(taskset -c 1 nice -n 5) cli_pre=(taskset -c 0)
	taskset -c 1 sh -c 'while :; do :; done' &
	hog=$!
fi
cleanup() {
	[ -n "$hog" ] && kill "$hog" 2>/dev/null || true
	for i in 0 1; do "${bins[$i]}/dvs-cluster" down "ab$$$i" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
for i in 0 1; do
	B=${bins[$i]} C=ab$$$i
	"$B/dvs-cluster" up --nodes 2 --name "$C" >/dev/null
	"$B/dvs-cluster" exec "$C" 0 -- "$B/dvsctl" dc create 1 --nodes 0,1 --endpoints 64 >/dev/null
	"$B/dvs-cluster" exec "$C" 1 -- "$B/dvsctl" run --dc 1 --ep 20 -- \
		"${srv_pre[@]}" "$B/dvs-bench-peer" serve 20 >/dev/null 2>&1 &
	for e in $(seq 21 36); do
		"$B/dvs-cluster" exec "$C" 1 -- "$B/dvsctl" run --dc 1 --ep "$e" -- \
			"$B/dvs-bench-peer" serve "$e" >/dev/null 2>&1 &
	done
done
sleep 2
for ((r = 1; r <= rounds; r++)); do
	for i in 0 1; do
		B=${bins[$i]} C=ab$$$i
		run() { "$B/dvs-cluster" exec "$C" 0 -- "$B/dvsctl" run --dc 1 --ep 10 -- "$@"; }
		ow=$(run "${cli_pre[@]}" "$B/dvs-bench-peer" oneway 10 20 200000)
		rtt=$(run "$B/dvs-bench-peer" rtt 10 20 10000)
		sr=$(for k in $(seq 0 15); do
			"$B/dvs-cluster" exec "$C" 0 -- "$B/dvsctl" run --dc 1 --ep $((40 + k)) -- \
				"$B/dvs-bench-peer" load $((40 + k)) $((21 + k)) 3000 &
		done | awk '{ s += $1; n++ } END { printf "%.0f%s", s / 3, n == 16 ? "" : " (not 16 clients)" }')
		fr=$("$B/dvs-cluster" exec "$C" 0 -- "$B/dvsctl" node list | awk '$1 == 1 { print $6 }')
		echo "round $r ${names[$i]}: oneway $ow msgs/s, rtt $rtt us, 16-client sendrec $sr/s," \
			"frames sent so far $fr," \
			"load $(cut -d' ' -f1 /proc/loadavg)"
	done
done
