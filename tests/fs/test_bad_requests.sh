#!/usr/bin/env bash
# Malformed raw requests (bad lengths, bad grants, unterminated paths,
# huge counts, unknown calls) get errors from dvs-fs and dvs-vdd, which go
# on serving; once with worker threads, once with dvs-fs alone on its
# endpoint.
. "$(dirname "$0")/lib.sh"
node_start
mkimg "$T/b.img" 64
vdd_start "$T/b.img"
fs_start --vdd 20
client "$FS_BADREQ" 1 20 || fail "bad requests (workers, A2)"
fs_stop
vdd_stop
mkimg "$T/c.img" 32
fs_start --workers 0 "$T/c.img"
client "$FS_BADREQ" 1 -1 || fail "bad requests (no workers, A1)"
fs_stop
fsck_clean "$T/c.img"
fsck_clean "$T/b.img"
echo PASS
