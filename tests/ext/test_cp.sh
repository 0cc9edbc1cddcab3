#!/usr/bin/env bash
# dvs cp -p with an ext volume: a tree copied onto the volume and back
# keeps its modes, owners (dvs cp runs as root) and modification times;
# without -p the copies get the creator's owner; a symbolic link on the
# volume is named and skipped, as a Linux one is.
. "$(dirname "$0")/lib.sh"
need mke2fs e2fsck
[ "$(id -u)" = 0 ] || { echo "needs root (owners)"; exit 1; }

mkdir -p "$T/src/d/e"
echo one >"$T/src/d/one"
head -c 300000 /dev/urandom >"$T/src/d/e/big"
chmod 0604 "$T/src/d/one"
chmod 0751 "$T/src/d"
chmod 4755 "$T/src/d/e/big"
chown 1234:5678 "$T/src/d/one"
chown -R 42:43 "$T/src/d/e"
touch -h -d '2010-01-02 03:04:05.5' "$T/src/d/one" "$T/src/d/e/big" "$T/src/d/e" "$T/src/d"
listing() { (cd "$1" && find . -mindepth 1 -path ./lost+found -prune -o -printf '%P %y %m %U:%G %T@\n' | sort); }

mkext "$T/v.img" 32 -t ext4 -I 256
export DVS_SOCKET=$T/dvkd.sock
dvsctl start >/dev/null 2>&1 && dvsctl dc create 1 --endpoints 64 >/dev/null 2>&1 ||
	{ echo "could not start a node"; exit 1; }
dvsctl run --dc 1 --ep 1-9 -- sh -c '"$@" & echo $! >"'"$T"'/fs.pid"; wait $!' \
	sh dvs-fs --ep 1 --workers 2 "$T/v.img" >"$T/fs.log" 2>&1 &
stop_node() {
	[ -s "$T/fs.pid" ] && stop_pid "$(cat "$T/fs.pid")"
	dvsctl stop >/dev/null 2>&1
	cleanup
}
trap stop_node EXIT
cp_dvs() { dvsctl run --dc 1 --ep 20 -- dvs-cp -q "$@"; }
for i in $(seq 100); do cp_dvs dvs:/lost+found "$T/probe" -r >/dev/null 2>&1 && break; sleep 0.1; done

check "dvs cp -r -p onto the ext volume" cp_dvs -r -p "$T/src/d" dvs:/d
check "dvs cp -r -p back" cp_dvs -r -p dvs:/d "$T/back"
if diff <(listing "$T/src/d") <(listing "$T/back") >"$T/diff"; then
	ok "modes, owners and times survive the round trip ($(listing "$T/back" | wc -l) entries)"
else
	bad "the round trip changed (- source, + back):"
	cat "$T/diff"
fi
check "contents survive the round trip" diff -r "$T/src/d" "$T/back"
check "dvs cp without -p: the copy is root's" cp_dvs -r dvs:/d "$T/plain"
check "without -p the owner is the copier's" [ "$(stat -c %u:%g "$T/plain/one")" = 0:0 ]

ln -s one "$T/src/d/link"
check "a tree with a link copies" cp_dvs -r -p "$T/src/d" dvs:/d2
cp_dvs -r dvs:/d2 "$T/back2" 2>"$T/err"
check "no link was made on the volume (dvs cp skips links)" [ ! -e "$T/back2/link" ]

stop_pid "$(cat "$T/fs.pid")"
rm -f "$T/fs.pid"
check "e2fsck -fn clean after the copies" fsck_clean "$T/v.img"
finish
