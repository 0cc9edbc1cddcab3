#!/usr/bin/env bash
# A number a user types that is not one, or is out of its bounds, is bad
# usage in every installed program: status 2, a message that names the
# option, nothing done (docs/EXIT-CODES.md).  atoi would have read each of
# these as some number and gone on.
set -uo pipefail
bin=${DVS_BIN:?}
fail() { echo "FAIL: $*" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0

# bad OPTION-NAMED-IN-THE-MESSAGE PROGRAM ARGS...
bad() {
	local want=$1 err rc
	shift
	err=$("$bin/$@" 2>&1 >/dev/null </dev/null)
	rc=$?
	[ $rc -eq 2 ] || fail "$* exited $rc, want 2 ($err)"
	grep -q -- "$want" <<<"$err" || fail "$*: the message does not name $want: $err"
	n=$((n + 1))
}

bad --node dvkd --node 1x
bad --node dvkd --node 64
bad --ready-fd dvkd --ready-fd abc
bad --workers dvs-fs --workers x
bad --flush-sec dvs-fs --flush-sec 1x
bad --ep dvs-fs --ep -3
bad --cache-mb dvs-fs --cache-mb 0x1
bad --ep dvs-vdd --ep 1x "$T/img"
bad --sector dvs-vdd --sector 100 "$T/img"
bad --fat-type dvs-fat mkfs -F 13 "$T/img"
bad --fat-type dvs-fat mkfs --fat-type 16x "$T/img"
bad --sector-size dvs-fat mkfs --sector-size abc "$T/img"
bad --cluster-size dvs-fat mkfs --cluster-size 1.5k "$T/img"
bad --size dvs-fat mkfs --size 12q "$T/img"
bad --size dvs-fat mkfs --size 99999999999999999999 "$T/img"
bad --partition dvs-fat -p 5 ls "$T/img"
bad --partition dvs-fat --partition 1x ls "$T/img"
bad --ep dvs-cp --ep 1x "$T/a" "$T/b"
bad --block-size dvs-cp --block-size 1k "$T/a" "$T/b"
bad --ep dvs-fuse --ep abc "$T/m"
bad --threads dvs-fuse --threads 0 "$T/m"
bad --uid dvs-fuse --uid -1 "$T/m"
bad --timeout dvs-umount --timeout x "$T/m"
bad --threads dvs-mount --threads 0 "$T/img" "$T/m"
bad --threads dvs-img index --threads abc "$T/img"
bad --block-size dvs-img index --block-size 4x "$T/img"
bad --nodes dvsctl dc create --nodes 1x 5
bad --nodes dvsctl dc create --nodes 0-64 5
bad --nodes dvs-cluster up --nodes 99
bad --token dvs-cluster up --token 1x
[ ! -e "$T/img" ] && [ ! -e "$T/b" ] || fail "a command with a bad number made a file"
echo "$n bad numbers refused with status 2, the option named"
