#!/usr/bin/env bash
# dvs-mount - serve a FAT image on a private one-node DVS and mount it with
# FUSE.  `dvs umount MOUNTPOINT` (or `fusermount3 -u MOUNTPOINT`) stops it
# all.  See docs/FUSE.md.
#
# Layout: everything of one mount lives in a private run directory named
# after the mountpoint ($DVS_RUN_DIR/mount-<hash>): the dvkd socket, the
# state file, the servers' log.  A supervisor (this script with
# --supervise, in its own session) starts dvkd, a DC, dvs-vdd (--vdd),
# dvs-fs and dvs-fuse, waits for dvs-fuse to exit (which it does when the
# file system is unmounted, by whoever), then stops dvs-fs cleanly (it
# flushes the volume), dvs-vdd and dvkd, and removes the run directory.
set -uo pipefail

prog=dvs-mount
bin=$(cd "$(dirname "$0")" && pwd)

usage() {
	cat <<EOF
usage: dvs mount IMAGE MOUNTPOINT [--vdd] [--ro] [--cache-mb N] [--threads N]
                 [--uid N] [--gid N] [--allow-other]

Serves the FAT image IMAGE with dvs-fs on a private one-node DVS and mounts
it on MOUNTPOINT with dvs-fuse, then returns; the servers keep running in
the background until the file system is unmounted with
  dvs umount MOUNTPOINT     (or: fusermount3 -u MOUNTPOINT)
which leaves the image clean (fsck.fat -n finds nothing).

  --vdd         reach the image through the virtual disk driver dvs-vdd
                (scenario A2) instead of directly (A1)
  --ro          serve and mount read-only
  --cache-mb N  cache bound of dvs-fs per volume in MiB (default 64)
  --threads N   FUSE worker threads, each with its own DVK binding (default 8)
  --uid N, --gid N  owner every file shows (FAT has none; default: yours),
                as vfat's uid= and gid= mount options
  --allow-other let other users than the one who mounts use the mount
                (FUSE's allow_other; permissions are checked by the kernel)
  -h, --help    this help

The image must not be used by anything else while mounted (dvs-fuse caches
aggressively because it is the volume's only client).
Exit status: 0 mounted, 1 failed (the message says why), 2 bad usage.
EOF
}

# die, run_root, run_dir_of: beside the real script in the build tree,
# in ../share/dvs once installed (bin/ holds only programs).
_here=$(dirname "$(readlink -f "$0")")
_lib=$_here/dvs-mount-common.sh
[ -r "$_lib" ] || _lib=$_here/../share/dvs/dvs-mount-common.sh
# shellcheck source=dvs-mount-common.sh
. "$_lib" || { echo "${0##*/}: cannot read $_lib; reinstall dvs" >&2; exit 1; }

is_dvs_mount() {
	[ "$(findmnt -rn -M "$1" -o FSTYPE 2>/dev/null)" = fuse.dvs ]
}

is_fat_image() {
	local sig t16 t32
	sig=$(od -An -tx1 -j510 -N2 "$1" 2>/dev/null | tr -d ' \n')
	t16=$(dd if="$1" bs=1 skip=54 count=4 2>/dev/null | tr -d '\0')
	t32=$(dd if="$1" bs=1 skip=82 count=5 2>/dev/null | tr -d '\0')
	[ "$sig" = 55aa ] && { [ "$t16" = FAT1 ] || [ "$t32" = FAT32 ]; }
}

# ---- the supervisor -------------------------------------------------------

supervise() {
	local run=$1 fs_pid='' vdd_pid='' fuse_pid='' rc=0 i failed_start=0
	# shellcheck source=/dev/null
	. "$run/state" || exit 1
	cd / || exit 1
	export DVS_SOCKET=$run/dvkd.sock
	echo "supervisor=$$" >>"$run/state"
	log() { echo "$(date +%T) supervisor: $*"; }
	stop_all() {
		# Unmount first if dvs-fuse is still serving (a failed start).
		if [ -n "$fuse_pid" ] && kill -0 "$fuse_pid" 2>/dev/null; then
			fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null
			for i in $(seq 100); do kill -0 "$fuse_pid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$fuse_pid" 2>/dev/null
		fi
		is_dvs_mount "$MNT" && fusermount3 -u -z "$MNT" 2>/dev/null
		# dvs-fs flushes the volume on SIGTERM; then the disk driver.
		for p in "$fs_pid" "$vdd_pid"; do
			[ -n "$p" ] || continue
			kill -TERM "$p" 2>/dev/null
			for i in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
			if kill -0 "$p" 2>/dev/null; then
				log "pid $p did not stop in 30 s: killing it"
				kill -KILL "$p" 2>/dev/null
			fi
			wait "$p" 2>/dev/null
		done
		"$bin/dvsctl" stop >/dev/null 2>&1
		log "stopped"
	}
	# The run directory goes at the end: $DVS_MOUNT_LOG keeps its logs
	# (tests look there for sanitizer reports).
	keep_log() {
		[ -n "${DVS_MOUNT_LOG:-}" ] || return 0
		cat "$run/log" "$run"/dvkd.sock.log >>"$DVS_MOUNT_LOG" 2>/dev/null
	}
	trap 'stop_all; keep_log; rm -rf "$run"; exit 1' TERM INT HUP

	log "starting a private node for $IMAGE on $MNT"
	if ! "$bin/dvsctl" start; then
		log "dvsctl start failed"
		echo failed >"$run/status"
		exit 1
	fi
	"$bin/dvsctl" dc create 1 --endpoints 256 || rc=1
	local ro_arg=() src_args
	[ "$RO" = 1 ] && ro_arg=(--read-only)
	# Endpoints: dvs-fs 1 (+ its workers from 2-9), dvs-vdd 20 (+ 21-29),
	# dvs-fuse 40 and up, one per worker thread.
	if [ $rc = 0 ] && [ "$VDD" = 1 ]; then
		"$bin/dvsctl" run --dc 1 --ep 20-29 -- \
			"$bin/dvs-vdd" --ep 20 "${ro_arg[@]}" "$IMAGE" &
		vdd_pid=$!
		src_args=(--vdd 20)
	else
		src_args=("$IMAGE")
	fi
	[ "$RO" = 1 ] && ro_arg=(--read-only)
	if [ $rc = 0 ]; then
		"$bin/dvsctl" run --dc 1 --ep 1-9 -- \
			"$bin/dvs-fs" --ep 1 --workers 4 --cache-mb "$CACHE_MB" \
			"${ro_arg[@]}" "${src_args[@]}" &
		fs_pid=$!
		[ "$RO" = 1 ] && ro_arg=(--ro)
		local own_args=()
		[ -n "${OWN_UID:-}" ] && own_args+=(--uid "$OWN_UID")
		[ -n "${OWN_GID:-}" ] && own_args+=(--gid "$OWN_GID")
		[ "${ALLOW_OTHER:-0}" = 1 ] && own_args+=(-o allow_other)
		# One endpoint per FUSE thread, plus the connecting one, plus
		# spares for threads libfuse starts while others end.
		"$bin/dvsctl" run --dc 1 --ep "40-$((40 + 2 * THREADS + 1))" -- \
			"$bin/dvs-fuse" -f --exclusive --ep 1 --wait 30 \
			--threads "$THREADS" "${ro_arg[@]}" "${own_args[@]}" "$MNT" &
		fuse_pid=$!
		{
			echo "fs_pid=$fs_pid"
			echo "vdd_pid=$vdd_pid"
			echo "fuse_pid=$fuse_pid"
		} >>"$run/state"
		# A server that dies while starting fails the mount at once
		# (dvs-fuse would wait for it in vain).
		for i in $(seq 600); do
			is_dvs_mount "$MNT" && break
			kill -0 "$fuse_pid" 2>/dev/null || break
			if ! kill -0 "$fs_pid" 2>/dev/null ||
			   { [ -n "$vdd_pid" ] && ! kill -0 "$vdd_pid" 2>/dev/null; }; then
				log "a server exited before the mount was up"
				kill -TERM "$fuse_pid" 2>/dev/null
				failed_start=1
				break
			fi
			sleep 0.1
		done
		# Returns when the file system is unmounted (or dvs-fuse failed).
		wait "$fuse_pid"
		rc=$?
		fuse_pid=''
		if [ "$failed_start" = 1 ]; then
			log "dvs-fuse stopped: the mount failed"
			rc=1
		else
			log "dvs-fuse exited with status $rc"
		fi
	fi
	stop_all
	trap - TERM INT HUP
	keep_log
	rm -rf "$run"
	exit $rc
}

# ---- the command ----------------------------------------------------------

main() {
	local image='' mnt='' vdd=0 ro=0 cache_mb=64 threads=8 args=()
	local own_uid='' own_gid='' allow_other=0
	while [ $# -gt 0 ]; do
		case $1 in
		--supervise) supervise "$2" ;;
		--vdd) vdd=1 ;;
		--ro) ro=1 ;;
		--cache-mb)
			[ $# -ge 2 ] || { usage >&2; exit 2; }
			cache_mb=$2
			shift ;;
		--threads)
			[ $# -ge 2 ] || { usage >&2; exit 2; }
			threads=$2
			shift ;;
		--uid | --gid)
			[ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] ||
				{ echo "$prog: $1 needs a number" >&2; exit 2; }
			if [ "$1" = --uid ]; then own_uid=$2; else own_gid=$2; fi
			shift ;;
		--allow-other) allow_other=1 ;;
		-h | --help) usage; exit 0 ;;
		-*) echo "$prog: unknown option $1" >&2; usage >&2; exit 2 ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	if [ ${#args[@]} -ne 2 ]; then
		echo "$prog: expected IMAGE and MOUNTPOINT" >&2
		usage >&2
		exit 2
	fi
	[[ $cache_mb =~ ^[0-9]+$ ]] && [ "$cache_mb" -ge 1 ] ||
		{ echo "$prog: --cache-mb needs a number of MiB >= 1" >&2; exit 2; }
	[[ $threads =~ ^[0-9]+$ ]] && [ "$threads" -ge 1 ] && [ "$threads" -le 64 ] ||
		{ echo "$prog: --threads needs a number from 1 to 64" >&2; exit 2; }
	image=${args[0]}
	mnt=${args[1]}

	[ -e /dev/fuse ] || die "/dev/fuse is missing: load the FUSE module (modprobe fuse)"
	[ -r /dev/fuse ] && [ -w /dev/fuse ] || die "no access to /dev/fuse (run as root or join the fuse group)"
	command -v fusermount3 >/dev/null || die "fusermount3 is missing (apt-get install fuse3)"
	for p in dvsctl dvkd dvs-fs dvs-fuse; do
		[ -x "$bin/$p" ] || die "$bin/$p is missing: build DVS first (make)"
	done
	[ "$vdd" = 0 ] || [ -x "$bin/dvs-vdd" ] || die "$bin/dvs-vdd is missing: build DVS first (make)"
	[ -e "$image" ] || die "image $image does not exist"
	[ -f "$image" ] || die "image $image is not a regular file"
	[ -r "$image" ] || die "image $image is not readable"
	[ "$ro" = 1 ] || [ -w "$image" ] || die "image $image is not writable (use --ro)"
	is_fat_image "$image" || die "image $image is not a FAT file system (format it: dvs fat mkfs or mkfs.fat)"
	[ -d "$mnt" ] || die "mountpoint $mnt is not a directory"
	image=$(realpath "$image")
	mnt=$(realpath "$mnt")
	case $image$mnt in
	*\'* | *$'\n'*) die "paths with quotes or newlines are not supported: $image $mnt" ;;
	esac
	if findmnt -rn -M "$mnt" >/dev/null 2>&1; then
		die "mountpoint $mnt is busy: something is mounted there already (dvs umount $mnt, or fusermount3 -u $mnt)"
	fi
	local root run other
	root=$(run_root)
	run=$(run_dir_of "$mnt")
	[ ${#run} -lt 96 ] || die "run directory $run is too long for a socket path: set DVS_RUN_DIR to a shorter directory"
	mkdir -p "$root" || die "cannot create $root"
	for other in "$root"/mount-*/state; do
		[ -f "$other" ] || continue
		if grep -qxF "IMAGE='$image'" "$other" 2>/dev/null; then
			die "image $image is already mounted by dvs mount ($(sed -n "s/^MNT='\(.*\)'$/\1/p" "$other"))"
		fi
	done
	if [ -d "$run" ]; then
		# A leftover of a supervisor that was killed: nothing runs there.
		sup=$(sed -n 's/^supervisor=//p' "$run/state" 2>/dev/null)
		if [ -n "$sup" ] && kill -0 "$sup" 2>/dev/null; then
			die "mountpoint $mnt is busy: a dvs mount is still starting or stopping there"
		fi
		rm -rf "$run"
	fi
	mkdir -m 700 "$run" || die "cannot create $run"
	{
		printf "IMAGE='%s'\n" "$image"
		printf "MNT='%s'\n" "$mnt"
		echo "VDD=$vdd"
		echo "RO=$ro"
		echo "CACHE_MB=$cache_mb"
		echo "THREADS=$threads"
		echo "OWN_UID=$own_uid"
		echo "OWN_GID=$own_gid"
		echo "ALLOW_OTHER=$allow_other"
	} >"$run/state"
	setsid "$0" --supervise "$run" </dev/null >>"$run/log" 2>&1 &
	local sup=$! i
	for i in $(seq 300); do
		if is_dvs_mount "$mnt"; then
			echo "$prog: $image mounted on $mnt (servers' log: $run/log; stop with: dvs umount $mnt)"
			exit 0
		fi
		kill -0 "$sup" 2>/dev/null || break
		sleep 0.1
	done
	echo "$prog: mounting $image on $mnt failed; the servers said:" >&2
	sed 's/^/  /' "$run/log" >&2 2>/dev/null || true
	kill -TERM "$sup" 2>/dev/null
	for i in $(seq 100); do kill -0 "$sup" 2>/dev/null || break; sleep 0.1; done
	rm -rf "$run"
	exit 1
}

main "$@"
