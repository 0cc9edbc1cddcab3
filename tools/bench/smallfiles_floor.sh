#!/usr/bin/env bash
# dvs-bench-smallfiles-floor: what creating small files costs any FUSE file
# system on this machine, beside a `dvs mount` of ext4 and fuse2fs, as
# docs/BENCHMARKS.md ("ext volumes: the floor of FUSE") reports it.
#
#   dvs-bench-smallfiles-floor [--rounds N] [--files N] [BIN...]
#
# Contenders, each on a fresh copy of one ext4 image (or directory) in
# /dev/shm, taking turns round by round: tmpfs itself (no FUSE), bindfs
# --multithreaded over a tmpfs directory (a FUSE file system that does no
# work of its own: each request is one system call on tmpfs), fuse2fs on
# the ext4 image, and `dvs mount` of it for each BIN (a build/bin
# directory; default: the one this script is in).  Workload, as
# `dvs-bench ext`'s small files: FILES (default 5,000) files of 4 KiB in 10
# directories, each created (O_EXCL), written and closed, the last one
# fsynced.  Prints files/s per round and the median per contender.
set -euo pipefail
rounds=3 files=5000
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--files) files=$2; shift 2 ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "dvs-bench-smallfiles-floor: unknown option $1 (see --help)" >&2; exit 2 ;;
	*) break ;;
	esac
done
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$(cd "$(dirname "$0")" && pwd)")
for b in "${bins[@]}"; do
	[ -x "$b/dvs-mount" ] || { echo "dvs-bench-smallfiles-floor: $b has no dvs-mount" >&2; exit 2; }
done
for p in bindfs fuse2fs mke2fs python3 fusermount3; do
	command -v "$p" >/dev/null || PATH=$PATH:/sbin:/usr/sbin
	command -v "$p" >/dev/null || { echo "dvs-bench-smallfiles-floor: $p is missing (scripts/install-deps.sh installs it)" >&2; exit 2; }
done

W=$(mktemp -d /dev/shm/dvs-floor.XXXXXX)
cleanup() {
	local m
	for m in "$W"/m-*; do
		[ -d "$m" ] || continue
		if findmnt -M "$m" >/dev/null; then
			fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		fi
	done
	rm -rf "$W"
}
trap cleanup EXIT
truncate -s 1G "$W/base.img"
mke2fs -q -F -t ext4 "$W/base.img"

# work DIR: files/s of the workload in DIR.
work() {
	python3 - "$1" "$files" <<'PY'
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
buf = b"x" * 4096
dirs = [os.path.join(d, "s%d" % i) for i in range(10)]
t0 = time.monotonic()
for p in dirs:
    os.mkdir(p)
for i in range(n):
    fd = os.open(os.path.join(dirs[i % 10], "f%d" % i),
                 os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, buf)
    if i == n - 1:
        os.fsync(fd)
    os.close(fd)
print("%.0f" % (n / (time.monotonic() - t0)))
PY
}

# one NAME: mounts contender NAME afresh, runs the workload, unmounts.
one() {
	local name=$1 m=$W/m-$1 r bin
	rm -rf "$m" "$W/img" "$W/dir"
	mkdir -p "$m"
	case $name in
	tmpfs) r=$(work "$m") ;;
	bindfs)
		mkdir "$W/dir"
		bindfs --multithreaded "$W/dir" "$m"
		r=$(work "$m")
		fusermount3 -u "$m" ;;
	fuse2fs)
		cp "$W/base.img" "$W/img"
		fuse2fs "$W/img" "$m" -o rw >/dev/null 2>&1
		r=$(work "$m")
		fusermount3 -u "$m" ;;
	dvs*)
		bin=${bins[${name#dvs}]}
		cp "$W/base.img" "$W/img"
		DVS_RUN_DIR=$W/run "$bin/dvs-mount" "$W/img" "$m" >/dev/null
		r=$(work "$m")
		DVS_RUN_DIR=$W/run "$bin/dvs-umount" "$m" >/dev/null ;;
	esac
	echo "$r"
}

names=(tmpfs bindfs fuse2fs)
for i in "${!bins[@]}"; do names+=("dvs$i"); done
declare -A all
echo "round  $(printf '%-9s ' "${names[@]}")  load"
for r in $(seq "$rounds"); do
	line=""
	# Each round starts with another contender.
	for k in "${!names[@]}"; do
		n=${names[$(((k + r - 1) % ${#names[@]}))]}
		v=$(one "$n")
		all[$n]="${all[$n]:-} $v"
	done
	for n in "${names[@]}"; do line+=$(printf '%-9s ' "$(echo "${all[$n]}" | awk '{print $NF}')"); done
	echo "$r      $line  $(cut -d' ' -f1 /proc/loadavg)"
done
echo "median files/s:"
for n in "${names[@]}"; do
	label=$n
	[[ $n == dvs* ]] && label="dvs mount (${bins[${n#dvs}]})"
	printf '  %-40s %s\n' "$label" "$(echo "${all[$n]}" | tr ' ' '\n' | sed '/^$/d' | sort -n |
		awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')"
done
