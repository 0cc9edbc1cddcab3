# lib.sh - shared pieces of the ext tests (sourced).
#
# ext volumes are mounted the way `dvs mount` does it (a private dvkd, a
# DC, dvs-fs, dvs-fuse; dvs-vdd with --vdd), started here directly: the
# mount command's own detection of ext images is another piece of work.
# Every test works in a private temporary directory; its EXIT trap
# unmounts, stops what it started and removes the directory.
set -uo pipefail

: "${DVS_BIN:?DVS_BIN must point to build/bin}"
export PATH="$DVS_BIN:$PATH:/sbin:/usr/sbin"

T=$(mktemp -d /tmp/dvs-ext-test.XXXXXX)
MNTS=()
fails=0

log() { echo "--- $*"; }
ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
check() { # check "what" command...
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
need() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null || { echo "missing program: $p"; exit 1; }
	done
}

# The run directory of a mountpoint (short: socket paths are bounded).
run_dir() { echo "$T/r$(printf '%s' "$1" | cksum | cut -d' ' -f1 | cut -c1-6)"; }

# ext_mount IMAGE MOUNTPOINT [--vdd] [--ro] [--allow-other]: 0 when mounted.
ext_mount() {
	local img=$1 mnt=$2 vdd=0 run i src fsro=() fusero=()
	shift 2
	for a in "$@"; do
		case $a in
		--vdd) vdd=1 ;;
		--ro) fsro=(--read-only); fusero+=(--ro) ;;
		--allow-other) fusero+=(-o allow_other) ;;
		esac
	done
	run=$(run_dir "$mnt")
	mkdir -p "$mnt" "$run"
	rm -f "$run/fs.status" "$run/fs.pid"
	MNTS+=("$mnt")
	(
		export DVS_SOCKET=$run/dvkd.sock
		dvsctl start >"$run/log" 2>&1 || exit 1
		dvsctl dc create 1 --endpoints 256 >>"$run/log" 2>&1 || exit 1
		src=("$img")
		if [ "$vdd" = 1 ]; then
			dvsctl run --dc 1 --ep 20-29 -- dvs-vdd --ep 20 "${fsro[@]}" "$img" \
				>>"$run/log" 2>&1 &
			echo $! >"$run/vdd.pid"
			src=(--vdd 20)
		fi
		# A wrapper keeps dvs-fs's pid and its exit status (a death
		# by a signal shows as 128 + the signal).
		dvsctl run --dc 1 --ep 1-9 -- sh -c \
			'"$@" & echo $! >"'"$run"'/fs.pid"; wait $!; echo $? >"'"$run"'/fs.status"' \
			sh dvs-fs --ep 1 --workers 4 "${fsro[@]}" "${src[@]}" >>"$run/fs.log" 2>&1 &
		for i in $(seq 50); do [ -s "$run/fs.pid" ] && break; sleep 0.1; done
		dvsctl run --dc 1 --ep 40-60 -- dvs-fuse -f --exclusive --ep 1 --wait 30 \
			--threads 8 "${fusero[@]}" "$mnt" >>"$run/fuse.log" 2>&1 &
		echo $! >"$run/fuse.pid"
	) || { echo "could not start a node for $mnt"; return 1; }
	for i in $(seq 300); do
		findmnt -rn -M "$mnt" >/dev/null 2>&1 && return 0
		kill -0 "$(cat "$run/fuse.pid")" 2>/dev/null || break
		kill -0 "$(cat "$run/fs.pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "mount of $img on $mnt failed; dvs-fs said:"
	sed 's/^/    /' "$run/fs.log" 2>/dev/null | tail -20
	ext_umount "$mnt" --killed
	return 1
}

# Stops a pid and waits for it (30 s, then KILL).
stop_pid() {
	local p=$1 i
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || return 0
	for i in $(seq 300); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null
}

# ext_umount MOUNTPOINT [--killed]: unmount, stop dvs-fs cleanly (it
# writes the volume and marks it clean), then the rest.  A dvs-fs that
# did not exit 0 (unless the test killed it) or whose log has a sanitizer
# report fails the test.
ext_umount() {
	local mnt=$1 killed=${2:-} run p i st
	run=$(run_dir "$mnt")
	[ -e "$run/fs.pid" ] || return 0
	if findmnt -rn -M "$mnt" >/dev/null 2>&1; then
		fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null
	fi
	p=$(cat "$run/fuse.pid" 2>/dev/null)
	if [ -n "$p" ]; then
		for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		stop_pid "$p"
	fi
	stop_pid "$(cat "$run/fs.pid" 2>/dev/null)"
	stop_pid "$(cat "$run/vdd.pid" 2>/dev/null)"
	[ -S "$run/dvkd.sock" ] && DVS_SOCKET=$run/dvkd.sock dvsctl stop >/dev/null 2>&1
	for i in $(seq 50); do [ -e "$run/fs.status" ] && break; sleep 0.1; done
	rm -f "$run"/*.pid
	st=$(cat "$run/fs.status" 2>/dev/null)
	if [ -z "$killed" ] && [ "$st" != 0 ]; then
		bad "dvs-fs of $mnt ended with status '${st}'"
		tail -5 "$run/fs.log"
	fi
	if grep -E -q 'AddressSanitizer|LeakSanitizer|runtime error:' "$run/fs.log" "$run/fuse.log" 2>/dev/null; then
		bad "sanitizer report from the servers of $mnt:"
		grep -E -A20 'AddressSanitizer|LeakSanitizer|runtime error:' "$run/fs.log" "$run/fuse.log" | head -40
	fi
}

# The pid of dvs-fs of a mount.
fs_pid() { cat "$(run_dir "$1")/fs.pid" 2>/dev/null; }

# dvs-fs's exit status once it ended (128 + N: killed by signal N).
fs_status() { cat "$(run_dir "$1")/fs.status" 2>/dev/null; }

# dvs-fs's log of a mount.
fs_log() { cat "$(run_dir "$1")/fs.log" 2>/dev/null; }

cleanup() {
	local m
	for m in "${MNTS[@]}"; do ext_umount "$m"; done
	rm -rf "$T"
}
trap cleanup EXIT

finish() {
	if [ "$fails" -ne 0 ]; then
		echo "$fails check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}

# mkext IMAGE MIB mke2fs-args...: a fresh image.
mkext() {
	local img=$1 mib=$2
	shift 2
	rm -f "$img"
	truncate -s "${mib}M" "$img"
	mke2fs -q -F "$@" "$img" >/dev/null 2>&1 || { echo "mke2fs $* failed"; exit 1; }
}

# e2fsck -fn clean (exit 0), else print what it said.
fsck_clean() {
	local out
	if out=$(e2fsck -fn "$1" 2>&1); then
		return 0
	fi
	echo "$out" | sed 's/^/    e2fsck: /' | head -30
	return 1
}
