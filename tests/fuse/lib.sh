# lib.sh - shared pieces of the FUSE tests (sourced).
#
# Every test works in a private temporary directory, with a private run
# directory for `dvs mount` (DVS_RUN_DIR), and its EXIT trap unmounts
# whatever it mounted, stops what it started and removes the directory,
# so a failing test never leaves a stale mount behind.
set -uo pipefail

: "${DVS_BIN:?DVS_BIN must point to build/bin}"
: "${DVS_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export PATH="$DVS_BIN:$PATH"
export MTOOLS_SKIP_CHECK=1

T=$(mktemp -d /tmp/dvs-fuse-test.XXXXXX)
export DVS_RUN_DIR=$T/run
# The servers' logs of every dvs mount, kept when its run directory goes.
export DVS_MOUNT_LOG=$T/servers.log
MOUNTS=()
fails=0

cleanup() {
	local m
	for m in "${MOUNTS[@]}"; do
		if findmnt -rn -M "$m" >/dev/null 2>&1; then
			timeout 60 "$DVS_BIN/dvs-umount" "$m" >/dev/null 2>&1 ||
				fusermount3 -u -z "$m" 2>/dev/null
		fi
	done
	# Supervisors still alive (a test that failed half-way) get stopped.
	local st sup
	for st in "$DVS_RUN_DIR"/mount-*/state; do
		[ -f "$st" ] || continue
		sup=$(sed -n 's/^supervisor=//p' "$st")
		[ -n "$sup" ] && kill -TERM "$sup" 2>/dev/null
	done
	sleep 0.2
	for m in "${MOUNTS[@]}"; do
		findmnt -rn -M "$m" >/dev/null 2>&1 && fusermount3 -u -z "$m" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

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
# Sanitizer reports of the servers, and dvs-fuse exiting badly, fail the
# test even when everything else looked right.
check_server_logs() {
	[ -f "$DVS_MOUNT_LOG" ] || return 0
	if grep -E -q 'AddressSanitizer|LeakSanitizer|runtime error:|dvs-fuse exited with status [1-9]' "$DVS_MOUNT_LOG"; then
		bad "the servers reported errors:"
		grep -E -B2 -A20 'AddressSanitizer|LeakSanitizer|runtime error:|dvs-fuse exited with status [1-9]' "$DVS_MOUNT_LOG" | head -60
	else
		ok "no sanitizer report or bad exit in the servers' logs"
	fi
}
finish() {
	check_server_logs
	if [ "$fails" -ne 0 ]; then
		echo "$fails check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}

need() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null || { echo "missing program: $p"; exit 1; }
	done
}

# mkimage FILE MIB [FAT bits]
mkimage() {
	rm -f "$1"
	truncate -s "$2M" "$1"
	mkfs.fat -F "${3:-32}" "$1" >/dev/null || { echo "mkfs.fat $1 failed"; exit 1; }
}

# mount_dvs IMAGE MOUNTPOINT [dvs mount options...]
mount_dvs() {
	local img=$1 mnt=$2
	shift 2
	mkdir -p "$mnt"
	MOUNTS+=("$mnt")
	"$DVS_BIN/dvs" mount "$img" "$mnt" "$@"
}

# Pid of the named server of the dvs mount on MOUNTPOINT (from its state
# file; `dvsctl run` may have run the program as its child).
server_pid() { # server_pid MOUNTPOINT fs|vdd|fuse
	local key run pid comm
	key=$(printf '%s' "$(realpath "$1")" | sha256sum | cut -c1-16)
	run=$DVS_RUN_DIR/mount-$key
	pid=$(sed -n "s/^$2_pid=//p" "$run/state" 2>/dev/null)
	[ -n "$pid" ] || return 1
	comm=$(cat "/proc/$pid/comm" 2>/dev/null)
	if [ "$comm" != "dvs-$2" ]; then
		pid=$(pgrep -P "$pid" -x "dvs-$2" | head -n1)
	fi
	[ -n "$pid" ] && echo "$pid"
}

# Waits until the run directory of MOUNTPOINT is gone (servers stopped).
wait_stopped() {
	local key run i
	key=$(printf '%s' "$(realpath -m "$1")" | sha256sum | cut -c1-16)
	run=$DVS_RUN_DIR/mount-$key
	for i in $(seq 600); do
		[ -d "$run" ] || return 0
		sleep 0.1
	done
	return 1
}

# After a crash the dirty flag (and the boot sector backup that differs from
# the boot sector in that flag only) is expected, and a stale or "unknown"
# FSInfo free count (the FAT engine keeps it unknown while mounted, so a
# crash leaves it uninitialized; fsck.fat recounts); anything else is damage.
fsck_no_damage() { # fsck_no_damage IMAGE
	local rest
	rest=$(fsck.fat -n "$1" 2>&1 | grep -v \
		-e '^fsck.fat [0-9]' -e 'differences between boot sector and its backup' \
		-e 'mostly harmless' -e 'offset:original/backup' -e '^ *65:01/00$' \
		-e '^ *37:01/00$' -e 'Not automatically fixing this' -e 'Dirty bit is set' \
		-e 'removing dirty bit' -e 'Leaving filesystem unchanged' \
		-e 'Free cluster summary wrong' -e 'Free cluster summary uninitialized' \
		-e 'Auto-correcting' \
		-e 'files, [0-9]*/[0-9]* clusters$' -e '^$')
	[ -z "$rest" ] && return 0
	echo "$rest" | sed 's/^/    fsck: /'
	return 1
}

fsck_clean() { # fsck_clean IMAGE
	local out
	if out=$(fsck.fat -n "$1" 2>&1); then
		return 0
	fi
	echo "$out" | sed 's/^/    fsck: /'
	return 1
}
