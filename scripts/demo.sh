#!/usr/bin/env bash
# The main job on a one-node DVS (`make demo`): format a FAT32 image, serve
# it through dvs-vdd and dvs-fs, copy a real directory tree in with dvs cp,
# mount the volume with FUSE, compare the trees, show the node's status and
# statistics, unmount, check the image with fsck.fat, print the throughputs
# and clean up.  Exits nonzero on any failure.  See README.md, docs/FUSE.md.
set -euo pipefail

build=${1:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$build/bin" 2>/dev/null && pwd) || {
	echo "demo: $build/bin does not exist: build first (make)" >&2
	exit 1
}
export PATH="$bin:$PATH"
export MTOOLS_SKIP_CHECK=1

# shellcheck source=demo-lib.sh
. "$src/scripts/demo-lib.sh"

for p in dvsctl dvkd dvs-fs dvs-vdd dvs-cp dvs-fuse dvs-mount dvs-umount; do
	[ -x "$bin/$p" ] || fail "$bin/$p is missing: build first (make)"
done
for p in mkfs.fat fsck.fat fusermount3 diff mcopy; do
	command -v "$p" >/dev/null || fail "$p is missing: run scripts/install-deps.sh"
done
[ -e /dev/fuse ] || fail "/dev/fuse is missing: load the FUSE module (modprobe fuse)"

tmp=$(mktemp -d /tmp/dvs-demo.XXXXXX)
export DVS_SOCKET=$tmp/dvkd.sock
export DVS_RUN_DIR=$tmp/run
mnt=$tmp/mnt
img=$tmp/disk.img
pids=()
cleanup() {
	set +e
	findmnt -rn -M "$mnt" >/dev/null 2>&1 && fusermount3 -u "$mnt" 2>/dev/null
	findmnt -rn -M "$tmp/mnt2" >/dev/null 2>&1 && dvs-umount "$tmp/mnt2" >/dev/null 2>&1
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	dvsctl stop >/dev/null 2>&1
	findmnt -rn -M "$mnt" >/dev/null 2>&1 && fusermount3 -u -z "$mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Waits until endpoint $1 of DC 1 is bound (the server is serving).
wait_bound() {
	local i
	for i in $(seq 100); do
		if dvsctl ep list --dc 1 2>/dev/null | awk -v ep="$1" 'NR > 1 && $2 == ep && $4 == "bound" { found = 1 } END { exit !found }'; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

echo "${bold}DVS demo: a FAT volume served over the DVS IPC, copied into and mounted with FUSE${norm}"
say "work directory: $tmp"

step "Start a one-node DVS and create DC 1"
run dvsctl start || fail "dvsctl start"
run dvsctl dc create 1 --endpoints 256 || fail "dvsctl dc create"

step "The IPC itself: two processes of DC 2 exchange every kind of call and a vcopy"
ipc_demo=$build/tests/dvk/dvk_demo
[ -x "$ipc_demo" ] || fail "$ipc_demo is missing: build first (make)"
run dvsctl dc create 2 --endpoints 16 || fail "dvsctl dc create 2"
run dvsctl run --dc 2 --ep 1-2 -- "$ipc_demo" || fail "the IPC demo (dvk_demo)"
run dvsctl ep list --dc 2 || fail "dvsctl ep list"
run dvsctl dc destroy 2 || fail "dvsctl dc destroy 2"

step "Format a 512 MiB FAT32 image"
truncate -s 512M "$img"
run mkfs.fat -F 32 -n DVSDEMO "$img" || fail "mkfs.fat"

step "Serve it: dvs-vdd (endpoint 20) on the image, dvs-fs (endpoint 1) on dvs-vdd"
printf '   $ dvsctl run --dc 1 --ep 20-29 -- dvs-vdd --ep 20 %s &\n' "$img"
dvsctl run --dc 1 --ep 20-29 -- dvs-vdd --ep 20 "$img" >"$tmp/vdd.log" 2>&1 &
pids+=($!)
wait_bound 20 || { cat "$tmp/vdd.log"; fail "dvs-vdd did not start"; }
printf '   $ dvsctl run --dc 1 --ep 1-9 -- dvs-fs --ep 1 --vdd 20 &\n'
dvsctl run --dc 1 --ep 1-9 -- dvs-fs --ep 1 --workers 4 --cache-mb 32 --vdd 20 >"$tmp/fs.log" 2>&1 &
fs_pid=$!
pids=("$fs_pid" "${pids[@]}")
wait_bound 1 || { cat "$tmp/fs.log"; fail "dvs-fs did not start"; }
run dvsctl ps

step "Copy a real directory tree in with dvs cp (this repository's sources)"
tree=$tmp/tree
mkdir -p "$tree"
if git -C "$src" rev-parse >/dev/null 2>&1; then
	git -C "$src" ls-files -z | (cd "$src" && xargs -0 cp --parents -t "$tree" 2>/dev/null) || true
else
	(cd "$src" && find . -path ./build\* -prune -o -path ./.git -prune -o -type f -print0 |
		xargs -0 cp --parents -t "$tree")
fi
# A few of the system's documentation folders too (real text, many names).
for d in /usr/share/doc/fuse3 /usr/share/doc/dosfstools /usr/share/doc/mtools /usr/share/doc/bash; do
	[ -d "$d" ] && cp -rL "$d" "$tree/doc-$(basename "$d")" 2>/dev/null || true
done
nfiles=$(find "$tree" -type f | wc -l)
tree_bytes=$(du -sb "$tree" | cut -f1)
say "tree: $nfiles files, $((tree_bytes / 1024)) KiB"
t0=$(now)
run dvsctl run --dc 1 --ep 60-69 -- dvs cp -r -q "$tree" dvs:/tree || fail "dvs cp -r"
t1=$(now)
tree_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

step "Throughput of dvs cp: a 128 MiB file in and out (scenario A2: dvs-cp -> dvs-fs -> dvs-vdd)"
head -c $((128 << 20)) /dev/urandom >"$tmp/big.bin"
t0=$(now)
run dvsctl run --dc 1 --ep 60-69 -- dvs cp -q "$tmp/big.bin" dvs:/big.bin || fail "dvs cp (write)"
t1=$(now)
cp_write=$(mbps $((128 << 20)) "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
t0=$(now)
run dvsctl run --dc 1 --ep 60-69 -- dvs cp -q dvs:/big.bin "$tmp/big.back" || fail "dvs cp (read)"
t1=$(now)
cp_read=$(mbps $((128 << 20)) "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
cmp "$tmp/big.bin" "$tmp/big.back" || fail "the file read back differs"
rm -f "$tmp/big.back"
say "identical after the round trip"

step "Mount the volume with FUSE (dvs-fuse, 8 threads, each with its own DVK binding)"
mkdir -p "$mnt"
printf '   $ dvsctl run --dc 1 --ep 40-57 -- dvs-fuse -f --ep 1 %s &\n' "$mnt"
dvsctl run --dc 1 --ep 40-57 -- dvs-fuse -f --ep 1 --threads 8 "$mnt" >"$tmp/fuse.log" 2>&1 &
fuse_pid=$!
for _ in $(seq 100); do findmnt -rn -M "$mnt" >/dev/null && break; sleep 0.1; done
findmnt -rn -M "$mnt" >/dev/null || { cat "$tmp/fuse.log"; fail "dvs-fuse did not mount"; }
run findmnt -M "$mnt"
run df -h "$mnt"
run ls -l "$mnt"

step "Compare the trees: diff -r (Linux copy vs. the FUSE mount)"
run diff -r "$tree" "$mnt/tree" || fail "the trees differ"
say "identical: $nfiles files"

step "Throughput through FUSE: dd with 1 MiB blocks, the write including fsync"
sync
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
t0=$(now)
dd if="$mnt/big.bin" of=/dev/null bs=1M status=none || fail "dd read"
t1=$(now)
fuse_read=$(mbps $((128 << 20)) "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
t0=$(now)
dd if="$tmp/big.bin" of="$mnt/big2.bin" bs=1M conv=fsync status=none || fail "dd write"
t1=$(now)
fuse_write=$(mbps $((128 << 20)) "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
cmp "$tmp/big.bin" "$mnt/big2.bin" || fail "the file written through FUSE differs"
say "read $fuse_read MB/s, write $fuse_write MB/s; content identical"

step "Status and statistics of the node (dvsctl) and of the file server"
run dvsctl status || fail "dvsctl status"
run dvsctl dc list
run dvsctl ep list --dc 1
run dvsctl run --dc 1 --ep 60-69 -- dvs cp --stats

step "Unmount, stop the servers, check the image with fsck.fat -n"
run fusermount3 -u "$mnt" || fail "unmount"
wait "$fuse_pid" || fail "dvs-fuse did not exit cleanly"
kill -TERM "$fs_pid"
wait "$fs_pid" || fail "dvs-fs did not stop cleanly"
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
wait
pids=()
run dvsctl stop
run fsck.fat -n "$img" || fail "fsck.fat found problems"
got=$(mdir -i "$img" -b ::/tree 2>/dev/null | wc -l)
say "mtools sees $got entries in ::/tree"

step "The same image in one command: dvs mount (private DVS) and dvs umount"
mkdir -p "$tmp/mnt2"
run dvs-mount "$img" "$tmp/mnt2" || fail "dvs mount"
run ls "$tmp/mnt2"
diff -r "$tree" "$tmp/mnt2/tree" >/dev/null || fail "the tree differs after remount"
say "diff -r: identical after a remount"
run dvs-umount "$tmp/mnt2" || fail "dvs umount"
run fsck.fat -n "$img" || fail "fsck.fat found problems"

printf '\n%s== Throughputs (this machine, image on %s)%s\n' "$bold" "$(df --output=fstype "$tmp" | tail -1)" "$norm"
printf '   %-44s %10s\n' "dvs cp -r of the tree ($nfiles files)" "$(awk -v n="$nfiles" -v s="$tree_s" 'BEGIN { printf "%.0f files/s", n / s }')"
printf '   %-44s %10s MB/s\n' "dvs cp, 128 MiB into the volume" "$cp_write"
printf '   %-44s %10s MB/s\n' "dvs cp, 128 MiB out of the volume" "$cp_read"
printf '   %-44s %10s MB/s\n' "FUSE, dd read (cold, 1 MiB blocks)" "$fuse_read"
printf '   %-44s %10s MB/s\n' "FUSE, dd write (1 MiB blocks, with fsync)" "$fuse_write"
printf '\n%sdemo OK%s: every step passed; cleaning up %s\n' "$bold" "$norm" "$tmp"
