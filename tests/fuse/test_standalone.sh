#!/usr/bin/env bash
# dvs-fuse alone on a running dvs-fs, shared with another client (dvs cp):
# without --exclusive the kernel's caches must notice what the other
# client changed (after the 1 s timeouts).  Then dvs-fuse in the
# background (no -f) returns once mounted and exits when unmounted.
. "$(dirname "$0")/lib.sh"
need mkfs.fat fsck.fat fusermount3 findmnt

export DVS_SOCKET=$T/dvkd.sock
pids=()
standalone_cleanup() {
	local p
	for m in "$T/mnt" "$T/mnt2"; do
		findmnt -rn -M "$m" >/dev/null 2>&1 && fusermount3 -u -z "$m" 2>/dev/null
	done
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	dvsctl stop >/dev/null 2>&1
	cleanup
}
trap standalone_cleanup EXIT

wait_mounted() {
	local i
	for i in $(seq 100); do
		findmnt -rn -M "$1" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

mkimage "$T/vol.img" 64
mkdir -p "$T/mnt" "$T/mnt2"
check "dvsctl start" dvsctl start
check "dc create" dvsctl dc create 1
dvsctl run --dc 1 --ep 1-9 -- dvs-fs --ep 1 "$T/vol.img" >"$T/fs.log" 2>&1 &
fs_pid=$!
pids+=("$fs_pid")
dvsctl run --dc 1 --ep 40-57 -- dvs-fuse -f --wait 20 "$T/mnt" >"$T/fuse.log" 2>&1 &
fuse_pid=$!
pids+=("$fuse_pid")
check "dvs-fuse mounted" wait_mounted "$T/mnt"

log "another client changes the volume under the mount"
echo "version one" >"$T/mnt/file"
check "written through the mount" bash -c "[ \"\$(cat '$T/mnt/file')\" = 'version one' ]"
printf 'version two, longer\n' >"$T/v2"
check "dvs cp overwrites the file" dvsctl run --dc 1 --ep 60-69 -- dvs-cp -q "$T/v2" dvs:/file
check "dvs cp adds a file" dvsctl run --dc 1 --ep 60-69 -- dvs-cp -q "$T/v2" dvs:/added
sleep 1.5
check "the mount sees the new content" bash -c "[ \"\$(cat '$T/mnt/file')\" = 'version two, longer' ]"
check "the mount sees the new file" test -f "$T/mnt/added"
check "dvs cp reads what the mount wrote" bash -c \
	"echo 'from the mount' >'$T/mnt/back' && dvsctl run --dc 1 --ep 60-69 -- dvs-cp -q dvs:/back '$T/back' && [ \"\$(cat '$T/back')\" = 'from the mount' ]"

log "unmount: dvs-fuse exits by itself"
check "fusermount3 -u" fusermount3 -u "$T/mnt"
wait "$fuse_pid"
check "dvs-fuse exited 0" [ $? = 0 ]

log "dvs-fuse in the background"
check "dvs-fuse without -f returns once mounted" \
	dvsctl run --dc 1 --ep 40-57 -- dvs-fuse --wait 20 "$T/mnt2"
check "mount is live at once" findmnt -rn -M "$T/mnt2"
check "content visible" bash -c "[ \"\$(cat '$T/mnt2/added')\" = 'version two, longer' ]"
bgpid=$(dvsctl ps | awk '$5 == "dvs-fuse" { print $1; exit }')
check "fusermount3 -u" fusermount3 -u "$T/mnt2"
for _ in $(seq 50); do [ -n "$bgpid" ] && kill -0 "$bgpid" 2>/dev/null || break; sleep 0.1; done
check "background dvs-fuse exited" bash -c "[ -n '$bgpid' ] && ! kill -0 '$bgpid' 2>/dev/null"

log "errors of dvs-fuse itself"
dvs-fuse -f "$T/mnt2" >"$T/out" 2>&1
rc=$?
check "outside a DC: exit 1" [ $rc = 1 ]
check "outside a DC: the message says how to run it" grep -q "dvsctl run" "$T/out"
check "and nothing is mounted" bash -c "! findmnt -rn -M '$T/mnt2'"
dvs-fuse --bogus "$T/mnt2" >"$T/out" 2>&1
rc=$?
check "bad option: exit 2" [ $rc = 2 ]
check "bad option: usage shown" grep -q "usage: dvs-fuse" "$T/out"

kill -TERM "$fs_pid"
wait "$fs_pid"
check "dvs-fs stopped cleanly" [ $? = 0 ]
check "image is fsck.fat clean" fsck_clean "$T/vol.img"
cat "$T/fuse.log" "$T/fs.log" >>"$DVS_MOUNT_LOG"
finish
