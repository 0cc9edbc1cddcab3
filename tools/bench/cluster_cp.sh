#!/usr/bin/env bash
# cluster_cp.sh - the `dvs cp` part of `dvs-bench cluster` (bench_cluster.c):
# a file copied in and out of a FAT volume with the servers placed as the
# scenarios of docs/CLUSTER.md say, in one cluster and one run:
#   a1  dvs cp, dvs-fs (image file)      all on node 0
#   c1  dvs cp on node 0, dvs-fs (image file) on node 1
#   d   dvs cp on node 0, dvs-fs on node 1, dvs-vdd on node 2
# The scenarios take turns in each round (so a noisy moment hurts all
# alike); each write lands on a fresh image, each read restarts the
# servers (cold caches); every read is compared with the source.
#
# usage: cluster_cp.sh BIN NAME DC MIB ROUNDS TMPDIR
# Prints one line per scenario: NAME WRITE_MBPS READ_MBPS (medians), or
# NAME nan nan after a failure (said on stderr).
set -uo pipefail
bin=$1 name=$2 dc=$3 mib=$4 rounds=$5 tmp=$6
export PATH=$bin:$PATH

on() { local n=$1; shift; dvs-cluster exec "$name" "$n" -- "$@"; }
now() { date +%s%N; }

# The pid of the process bound on DC ep EP of node N, or nothing.
pid_of() {
	on "$1" dvsctl --json ps 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["dc"] == int(sys.argv[1]) and p["ep"] == int(sys.argv[2]): print(p["pid"])' "$dc" "$2"
}

# wait_ok NODE CMD...: waits until CMD, run on NODE in the DC, succeeds
# (10 s at most).
wait_ok() {
	local n=$1 i
	shift
	for ((i = 0; i < 200; i++)); do
		on "$n" dvsctl run --dc "$dc" --ep 100-119 -- "$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# Stops the servers of the scenario (dvs-fs on FS, dvs-vdd on VDD or -).
stop_servers() {
	local n ep pid i
	for n_ep in "$1:1" "$2:20"; do
		n=${n_ep%%:*} ep=${n_ep##*:}
		[ "$n" = - ] && continue
		pid=$(pid_of "$n" "$ep")
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 200; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
	done
}

# start_servers FS VDD IMG
start_servers() {
	if [ "$2" != - ]; then
		on "$2" dvsctl run --dc "$dc" --ep 20 -- dvs-vdd "$3" >>"$tmp/servers.log" 2>&1 &
		wait_ok "$1" dvs-vdd --stats --ep 20 || return 1
		on "$1" dvsctl run --dc "$dc" --ep 1-9 -- dvs-fs --vdd 20 >>"$tmp/servers.log" 2>&1 &
	else
		on "$1" dvsctl run --dc "$dc" --ep 1-9 -- dvs-fs "$3" >>"$tmp/servers.log" 2>&1 &
	fi
	wait_ok 0 dvs-cp --stats
}

# mbps START_NS END_NS
mbps() { awk -v m="$mib" -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", m * 1048576 / ((b - a) / 1e9) / 1e6 }'; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

head -c $((mib << 20)) /dev/urandom >"$tmp/src.bin" || exit 1
declare -A fsn=([a1]=0 [c1]=1 [d]=1) vddn=([a1]=- [c1]=- [d]=2)
for s in a1 c1 d; do : >"$tmp/$s.w"; : >"$tmp/$s.r"; rm -f "$tmp/$s.bad"; done
for ((r = 1; r <= rounds; r++)); do
	for s in a1 c1 d; do
		img=$tmp/$s.img
		rm -f "$img"
		mkfs.fat -F 32 -C "$img" $(((mib + 64) * 1024)) >/dev/null || exit 1
		echo "cluster: dvs cp, scenario $s, round $r/$rounds" >&2
		if ! start_servers "${fsn[$s]}" "${vddn[$s]}" "$img"; then
			echo "cluster_cp: scenario $s: dvs-fs never answered" >&2
			stop_servers "${fsn[$s]}" "${vddn[$s]}"
			continue
		fi
		t0=$(now)
		if on 0 dvsctl run --dc "$dc" --ep 100-119 -- dvs-cp -q "$tmp/src.bin" dvs:/big.bin; then
			mbps "$t0" "$(now)" >>"$tmp/$s.w"
		else
			echo "cluster_cp: scenario $s: dvs cp in failed" >&2
		fi
		stop_servers "${fsn[$s]}" "${vddn[$s]}"
		start_servers "${fsn[$s]}" "${vddn[$s]}" "$img" || continue
		rm -f "$tmp/out.bin"
		t0=$(now)
		if on 0 dvsctl run --dc "$dc" --ep 100-119 -- dvs-cp -q dvs:/big.bin "$tmp/out.bin" &&
			t1=$(now) && cmp -s "$tmp/src.bin" "$tmp/out.bin"; then
			mbps "$t0" "$t1" >>"$tmp/$s.r"
		else
			echo "cluster_cp: scenario $s: dvs cp out failed or differs" >&2
		fi
		stop_servers "${fsn[$s]}" "${vddn[$s]}"
		if ! fsck.fat -n "$img" >/dev/null 2>&1; then
			echo "cluster_cp: scenario $s: fsck.fat -n finds errors in $img" >&2
			touch "$tmp/$s.bad"
		fi
	done
done
for s in a1 c1 d; do
	if [ -e "$tmp/$s.bad" ]; then
		echo "$s nan nan"
	else
		echo "$s $(median <"$tmp/$s.w") $(median <"$tmp/$s.r")"
	fi
done
rm -f "$tmp"/*.img "$tmp/src.bin" "$tmp/out.bin"
