#!/usr/bin/env bash
# A full disk at the receiver: a clear error (exit 6), and no OUTPUT.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "needs root to mount a small tmpfs"
	exit 77
fi
rand_blocks "$T/src" 1024                  # 4 MiB
mkdir "$T/mnt"
mount -t tmpfs -o size=1m tmpfs "$T/mnt" || fail "cannot mount a tmpfs"
serve "$T/src" --insecure-no-key
set +e
"$IMG" fetch 127.0.0.1:"$PORT" "$T/mnt/out" --retries 0 2>"$T/err"; rc=$?
set -e
[ $rc -eq 6 ] || fail "full disk: exit $rc, want 6: $(cat "$T/err")"
grep -q "No space left" "$T/err" || fail "no clear message: $(cat "$T/err")"
[ ! -e "$T/mnt/out" ] || fail "an OUTPUT exists on the full disk"
ok "full disk: exit 6, $(head -1 "$T/err")"
echo "diskfull ok"
