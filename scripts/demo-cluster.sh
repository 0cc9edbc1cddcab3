#!/usr/bin/env bash
# Several nodes on one machine (`make demo-cluster`): a 3-node local
# cluster (`dvs cluster up`: network namespaces, real Corosync, real TCP)
# runs scenario D: dvs cp and a FUSE mount on node 0, dvs-fs on node 1,
# dvs-vdd on node 2, all in one DC over the three nodes.  The trees are
# compared, the throughputs printed beside scenario A1 (everything on
# node 0) measured in the same run, the images checked with fsck.fat -n,
# and the cluster removed.  Exits nonzero on any failure.  See
# docs/CLUSTER.md.
set -euo pipefail

build=${1:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$build/bin" 2>/dev/null && pwd) || {
	echo "demo-cluster: $build/bin does not exist: build first (make)" >&2
	exit 1
}
export PATH="$bin:$PATH:/usr/sbin:/sbin"

# shellcheck source=demo-lib.sh
. "$src/scripts/demo-lib.sh"

[ "$(id -u)" = 0 ] || fail "needs root (network namespaces): run it as root"
for p in dvs-cluster dvsctl dvkd dvs-fs dvs-vdd dvs-cp dvs-fuse; do
	[ -x "$bin/$p" ] || fail "$bin/$p is missing: build first (make)"
done
for p in corosync ip mkfs.fat fsck.fat fusermount3 diff; do
	command -v "$p" >/dev/null || fail "$p is missing: run scripts/install-deps.sh"
done
[ -e /dev/fuse ] || fail "/dev/fuse is missing: load the FUSE module (modprobe fuse)"

tmp=$(mktemp -d /tmp/dvs-demo-cluster.XXXXXX)
export DVS_RUN_DIR=$tmp/run
name=demo$(($$ % 10000))
mib=128
cleanup() {
	set +e
	dvs-cluster down "$name" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

on() { local n=$1; shift; dvs-cluster exec "$name" "$n" -- "$@"; }
# CMD as a client in DC D on node N: client N D CMD...
client() { local n=$1 d=$2; shift 2; on "$n" dvsctl run --dc "$d" --ep 100-119 -- "$@"; }
# Waits until CMD, run on node N in DC D, succeeds (10 s at most).
wait_ok() {
	local i
	for ((i = 0; i < 100; i++)); do
		client "$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
# Times a dvs cp on node 0 in DC D; prints MB/s of $mib MiB.
timed_cp() {
	local d=$1 t0 t1
	shift
	t0=$(now)
	client 0 "$d" dvs-cp -q "$@" || return 1
	t1=$(now)
	mbps $((mib << 20)) "$(secs "$t0" "$t1")"
}

echo "${bold}DVS demo: one DC over three nodes (scenario D), beside everything on one node (A1)${norm}"
say "work directory: $tmp"

step "Build a local cluster of 3 nodes (namespaces, Corosync, dvkd) and wait for membership"
run dvs-cluster up --nodes 3 --name "$name" || fail "dvs cluster up"
run dvs-cluster exec "$name" 0 -- dvsctl node list || fail "node list"

step "DC 1 over nodes 0, 1 and 2; DC 2 on node 0 alone (the A1 baseline)"
run dvs-cluster exec "$name" 0 -- dvsctl dc create 1 --nodes 0,1,2 --endpoints 256 ||
	fail "dc create 1"
run dvs-cluster exec "$name" 0 -- dvsctl dc create 2 --endpoints 256 || fail "dc create 2"

step "Two 512 MiB FAT32 images"
for i in d a1; do
	truncate -s 512M "$tmp/$i.img"
	mkfs.fat -F 32 -n DVS"${i^^}" "$tmp/$i.img" >/dev/null || fail "mkfs.fat"
done
say "$tmp/d.img (scenario D), $tmp/a1.img (scenario A1)"

step "Scenario D: dvs-vdd on node 2 (ep 20), dvs-fs on node 1 (ep 1) on that dvs-vdd"
printf '   $ dvs cluster exec %s 2 -- dvsctl run --dc 1 --ep 20 -- dvs-vdd d.img &\n' "$name"
on 2 dvsctl run --dc 1 --ep 20 -- dvs-vdd "$tmp/d.img" >"$tmp/vdd.log" 2>&1 &
wait_ok 1 1 dvs-vdd --stats --ep 20 || { cat "$tmp/vdd.log"; fail "dvs-vdd did not start"; }
printf '   $ dvs cluster exec %s 1 -- dvsctl run --dc 1 --ep 1-9 -- dvs-fs --vdd 20 &\n' "$name"
on 1 dvsctl run --dc 1 --ep 1-9 -- dvs-fs --vdd 20 >"$tmp/fs.log" 2>&1 &
wait_ok 0 1 dvs-cp --stats || { cat "$tmp/fs.log"; fail "dvs-fs did not start"; }
run dvs-cluster exec "$name" 0 -- dvsctl ep list --dc 1

step "Scenario A1 on node 0: dvs-fs on the other image (DC 2)"
on 0 dvsctl run --dc 2 --ep 1-9 -- dvs-fs "$tmp/a1.img" >"$tmp/fs-a1.log" 2>&1 &
wait_ok 0 2 dvs-cp --stats || { cat "$tmp/fs-a1.log"; fail "dvs-fs (A1) did not start"; }
say "serving"

step "Copy a real tree in from node 0 with dvs cp (this repository's sources)"
tree=$tmp/tree
mkdir -p "$tree"
if git -C "$src" rev-parse >/dev/null 2>&1; then
	git -C "$src" ls-files -z | (cd "$src" && xargs -0 cp --parents -t "$tree" 2>/dev/null) || true
else
	(cd "$src" && find . -path ./build\* -prune -o -path ./.git -prune -o -type f -print0 |
		xargs -0 cp --parents -t "$tree")
fi
nfiles=$(find "$tree" -type f | wc -l)
say "tree: $nfiles files, $(($(du -sb "$tree" | cut -f1) / 1024)) KiB"
t0=$(now)
run dvs-cluster exec "$name" 0 -- dvsctl run --dc 1 --ep 100-119 -- dvs-cp -r -q "$tree" dvs:/tree ||
	fail "dvs cp -r across the nodes"
tree_s=$(secs "$t0" "$(now)")

step "Throughput: a $mib MiB file in and out, D and A1 taking turns"
head -c $((mib << 20)) /dev/urandom >"$tmp/big.bin"
d_w=$(timed_cp 1 "$tmp/big.bin" dvs:/big.bin) || fail "dvs cp in (D)"
a_w=$(timed_cp 2 "$tmp/big.bin" dvs:/big.bin) || fail "dvs cp in (A1)"
d_r=$(timed_cp 1 dvs:/big.bin "$tmp/d.back") || fail "dvs cp out (D)"
a_r=$(timed_cp 2 dvs:/big.bin "$tmp/a1.back") || fail "dvs cp out (A1)"
cmp "$tmp/big.bin" "$tmp/d.back" || fail "the file read back in scenario D differs"
cmp "$tmp/big.bin" "$tmp/a1.back" || fail "the file read back in scenario A1 differs"
rm -f "$tmp/d.back" "$tmp/a1.back"
say "both files identical after the round trip"

step "FUSE on node 0: mount the volume of dvs-fs on node 1, compare the trees, read and write"
mkdir -p "$tmp/mnt"
cat >"$tmp/fuse.sh" <<EOF
set -e
dvsctl run --dc 1 --ep 40-57 -- dvs-fuse -f --ep 1 --wait 10 "$tmp/mnt" >"$tmp/fuse.log" 2>&1 &
for i in \$(seq 100); do findmnt -rn -M "$tmp/mnt" >/dev/null && break; sleep 0.1; done
findmnt -rn -M "$tmp/mnt" >/dev/null || { cat "$tmp/fuse.log"; exit 1; }
ls -l "$tmp/mnt"
diff -r "$tree" "$tmp/mnt/tree" && echo "diff -r: identical ($nfiles files)"
t0=\$(date +%s.%N)
cat "$tmp/mnt/big.bin" >/dev/null
t1=\$(date +%s.%N)
awk -v b=$((mib << 20)) -v a=\$t0 -v c=\$t1 'BEGIN { printf "FUSE read: %.1f MB/s\n", b / (c - a) / 1e6 }'
cp "$tmp/big.bin" "$tmp/mnt/big2.bin" && sync -f "$tmp/mnt/big2.bin"
cmp "$tmp/big.bin" "$tmp/mnt/big2.bin" && echo "a file written through the mount reads back identical"
fusermount3 -u "$tmp/mnt"
wait
EOF
run dvs-cluster exec "$name" 0 -- bash "$tmp/fuse.sh" || fail "the FUSE mount on node 0"

step "Stop the servers, check both images with fsck.fat -n"
for n_ep in 1:1:1 2:1:20 0:2:1; do
	IFS=: read -r n dc ep <<<"$n_ep"
	pid=$(on "$n" dvsctl --json ps | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["dc"] == int(sys.argv[1]) and p["ep"] == int(sys.argv[2]): print(p["pid"])' "$dc" "$ep")
	[ -n "$pid" ] && kill -TERM "$pid"
done
wait
run fsck.fat -n "$tmp/d.img" || fail "fsck.fat found problems in the image of scenario D"
run fsck.fat -n "$tmp/a1.img" || fail "fsck.fat found problems in the image of scenario A1"

step "Remove the cluster"
run dvs-cluster down "$name" || fail "dvs cluster down"
left=$(ip netns list | grep -c "^dvs-$name-" || true)
[ "$left" = 0 ] || fail "$left namespaces of the cluster are left"
say "no namespace, process or file of the cluster is left"

printf '\n%s== Throughputs (this machine, load %s)%s\n' "$bold" "$(cut -d' ' -f1 /proc/loadavg)" "$norm"
printf '   %-40s %12s %12s %8s\n' "dvs cp, $mib MiB" "D (3 nodes)" "A1 (1 node)" "D/A1"
printf '   %-40s %7s MB/s %7s MB/s %7s\n' "into the volume" "$d_w" "$a_w" \
	"$(awk -v a="$d_w" -v b="$a_w" 'BEGIN { printf "%.2fx", a / b }')"
printf '   %-40s %7s MB/s %7s MB/s %7s\n' "out of the volume" "$d_r" "$a_r" \
	"$(awk -v a="$d_r" -v b="$a_r" 'BEGIN { printf "%.2fx", a / b }')"
printf '   %-40s %12s\n' "dvs cp -r of the tree (D)" "$(awk -v n="$nfiles" -v s="$tree_s" 'BEGIN { printf "%.0f files/s", n / s }')"
printf '\n%sdemo-cluster OK%s: every step passed\n' "$bold" "$norm"
