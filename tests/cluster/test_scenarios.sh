#!/usr/bin/env bash
# The file servers across nodes, unchanged: dvs cp on node 0 with dvs-fs
# on node 1 (scenario C1); dvs-fs on node 0 with dvs-vdd on node 1 (B);
# both servers on node 1 (C2); client, dvs-fs and dvs-vdd each on its own
# node (D).  Each: a tree copied in and out and compared, the servers
# stopped cleanly, fsck.fat -n clean and mtools reading the same tree.
CL_PREFIX=s
. "$(dirname "$0")/lib.sh"

mktree() {
	mkdir -p "$1/sub/deeper" "$1/empty dir" "$1/Ünïcødé"
	head -c 0 /dev/urandom >"$1/zero.bin"
	head -c 1 /dev/urandom >"$1/one.bin"
	head -c 4097 /dev/urandom >"$1/sub/deeper/4097.bin"
	head -c 3000001 /dev/urandom >"$1/big.bin"
	for i in $(seq 1 40); do echo "small file $i" >"$1/sub/f$i.txt"; done
	echo "unicode" >"$1/Ünïcødé/façade €.txt"
}

# Waits until CMD (run on node N as a client of dc 1) succeeds; 15 s at most.
wait_ok() {
	local n=$1 i
	shift
	for ((i = 0; i < 150; i++)); do
		on "$n" dvsctl run --dc 1 --ep 100-199 -- "$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "on node $n, '$*' never succeeded"
}
# SIGTERM to the server bound on dc 1 ep EP of node N; waits for it to go.
stop_server() {
	local pid i
	pid=$(pid_of "$1" 1 "$2")
	[ -n "$pid" ] || fail "no server on ep $2 of node $1 to stop"
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	fail "the server on ep $2 of node $1 did not stop on SIGTERM"
}

# scenario NAME FS-NODE VDD-NODE (- for none) CLIENT-NODE
scenario() {
	local name=$1 f=$2 v=$3 c=$4 img=$T/$1.img
	local where="dvs-vdd on node $v"
	[ "$v" = - ] && where="no dvs-vdd"
	note "scenario $name: dvs cp on node $c, dvs-fs on node $f, $where"
	mkfs.fat -F 32 -C "$img" $((64 * 1024)) >/dev/null || fail "mkfs.fat"
	local fsargs=("$img")
	if [ "$v" != - ]; then
		on "$v" dvsctl run --dc 1 --ep 20 -- dvs-vdd "$img" >"$T/$name.vdd.log" 2>&1 &
		wait_ok "$c" dvs-vdd --stats --ep 20
		fsargs=(--vdd 20)
	fi
	on "$f" dvsctl run --dc 1 --ep 1-9 -- dvs-fs "${fsargs[@]}" >"$T/$name.fs.log" 2>&1 &
	wait_ok "$c" dvs-cp --stats
	on "$c" dvsctl run --dc 1 --ep 100-199 -- dvs-cp -r "$T/src" dvs:/tree ||
		fail "$name: dvs cp in: $(tail -3 "$T/$name.fs.log")"
	on "$c" dvsctl run --dc 1 --ep 100-199 -- dvs-cp -r dvs:/tree "$T/$name.out" ||
		fail "$name: dvs cp out"
	diff -r "$T/src" "$T/$name.out" || fail "$name: the tree differs after the round trip"
	stop_server "$f" 1
	[ "$v" != - ] && stop_server "$v" 20
	out=$(fsck.fat -n "$img" 2>&1) || fail "$name: fsck.fat -n: $out"
	grep -qi "dirty\|differ\|lost\|free cluster" <<<"$out" && fail "$name: fsck.fat -n: $out"
	mcopy -s -i "$img" ::/tree "$T/$name.mt" || fail "$name: mcopy"
	diff -r "$T/src" "$T/$name.mt" || fail "$name: mtools reads another tree"
	rm -f "$img"
}

dvs cluster up --nodes 3 --name "$CL" || fail "cluster up"
on 0 dvsctl dc create 1 --nodes 0,1,2 --endpoints 256 >/dev/null || fail "dc create"
mktree "$T/src"
scenario C1 1 - 0
scenario B 0 1 0
scenario C2 1 1 0
scenario D 1 2 0
note "ok"
