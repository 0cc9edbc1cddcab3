#!/usr/bin/env bash
# dvs-umount - unmounts a `dvs mount` and waits until its servers stopped
# and the image is clean.  See docs/FUSE.md.
set -uo pipefail

prog=dvs-umount

usage() {
	cat <<EOF
usage: dvs umount MOUNTPOINT [--timeout SEC]

Unmounts the file system that \`dvs mount\` put on MOUNTPOINT and waits
until its private DVS (dvs-fuse, dvs-fs, dvs-vdd, dvkd) has stopped, which
leaves the image clean.  \`fusermount3 -u MOUNTPOINT\` stops it all too, but
returns without waiting.

  --timeout SEC  how long to wait for the servers (default 60)
  -h, --help     this help

Exit status: 0 unmounted and stopped, 1 failed (the message says why),
2 bad usage.
EOF
}

# die, run_root, run_dir_of: beside the real script in the build tree,
# in ../share/dvs once installed (bin/ holds only programs).
_here=$(dirname "$(readlink -f "$0")")
_lib=$_here/dvs-mount-common.sh
[ -r "$_lib" ] || _lib=$_here/../share/dvs/dvs-mount-common.sh
# shellcheck source=dvs-mount-common.sh
. "$_lib" || { echo "${0##*/}: cannot read $_lib; reinstall dvs" >&2; exit 1; }

mnt='' timeout=60
while [ $# -gt 0 ]; do
	case $1 in
	--timeout)
		[ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }
		timeout=$2
		shift ;;
	-h | --help) usage; exit 0 ;;
	-*) echo "$prog: unknown option $1" >&2; usage >&2; exit 2 ;;
	*)
		[ -z "$mnt" ] || { echo "$prog: expected one MOUNTPOINT" >&2; exit 2; }
		mnt=$1 ;;
	esac
	shift
done
[ -n "$mnt" ] || { echo "$prog: expected a MOUNTPOINT" >&2; usage >&2; exit 2; }

# realpath of a dead FUSE mount fails (ENOTCONN): resolve the parent.
if real=$(realpath -e "$mnt" 2>/dev/null); then
	mnt=$real
else
	mnt=$(realpath -m "$mnt")
fi
run=$(run_dir_of "$mnt")
fstype=$(findmnt -rn -M "$mnt" -o FSTYPE 2>/dev/null)
sup=''
[ -f "$run/state" ] && sup=$(sed -n 's/^supervisor=//p' "$run/state")

if [ -z "$fstype" ] && [ -z "$sup" ]; then
	die "nothing is mounted on $mnt by dvs mount"
fi
if [ -n "$fstype" ] && [ "$fstype" != fuse.dvs ]; then
	die "$mnt is a $fstype mount, not a dvs mount: use umount"
fi
if [ -n "$fstype" ]; then
	if ! err=$(fusermount3 -u "$mnt" 2>&1); then
		case $err in
		*busy*) die "$mnt is busy: close the files and leave the directories open there (see: fuser -vm $mnt)" ;;
		*) die "cannot unmount $mnt: $err" ;;
		esac
	fi
fi
# dvs-fuse exits once unmounted; the supervisor then stops the servers
# (dvs-fs flushes the volume) and removes the run directory.
if [ -n "$sup" ]; then
	for ((i = 0; i < timeout * 10; i++)); do
		kill -0 "$sup" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$sup" 2>/dev/null; then
		die "the servers of $mnt did not stop within $timeout s (log: $run/log)"
	fi
fi
rm -rf "$run"
if [ -n "$sup" ]; then
	echo "$prog: $mnt unmounted, servers stopped"
else
	echo "$prog: $mnt unmounted (not started by dvs mount: its servers keep running)"
fi
exit 0
