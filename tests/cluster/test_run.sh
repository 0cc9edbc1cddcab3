#!/usr/bin/env bash
# `dvs ctl run --node N` from node 0: the program runs on node N, admitted
# to the DC there, in the caller's working directory; its stdout and
# stderr come back intact (also much output to a slow reader); the exit
# status, a signal, a missing program and refusals are told as a user
# expects; a server started this way serves node 0; interrupting the
# command stops the program; the node dying gets an error, not a hang.
CL_PREFIX=r
. "$(dirname "$0")/lib.sh"

rn() { on 0 dvsctl run --node "$@"; }

dvs cluster up --nodes 3 --name "$CL" || fail "cluster up"
on 0 dvsctl dc create 1 --nodes 0,1,2 --endpoints 64 >/dev/null || fail "dc create 1"
on 0 dvsctl dc create 2 --nodes 0,2 --endpoints 64 >/dev/null || fail "dc create 2"

note "output, working directory, exit status"
mkdir -p "$T/wd"
out=$(cd "$T/wd" && rn 1 --dc 1 --ep 10 -- sh -c 'echo "on $(ip -4 -o addr show eth0 | cut -d" " -f7)"; pwd; echo to-stderr >&2; exit 7' 2>"$T/err") && rc=0 || rc=$?
[ "$rc" = 7 ] || fail "exit status $rc, not 7"
[ "$out" = "$(printf 'on 198.18.0.2/24\n%s' "$T/wd")" ] || fail "stdout: $out"
[ "$(cat "$T/err")" = to-stderr ] || fail "stderr: $(cat "$T/err")"

note "a signal, a missing program, refusals"
set +e
rn 1 --dc 1 --ep 10 -- sh -c 'kill -9 $$' 2>"$T/err"
rc=$?
[ "$rc" = 137 ] && grep -q "killed by signal 9" "$T/err" || fail "signal: $rc $(cat "$T/err")"
rn 1 --dc 1 --ep 10 -- no-such-program 2>"$T/err"
rc=$?
rn 1 --dc 2 --ep 10 -- true 2>"$T/err2"
rc2=$?
rn 7 --dc 1 --ep 10 -- true 2>"$T/err3"
rc3=$?
set -e
[ "$rc" = 127 ] && grep -q "cannot run no-such-program" "$T/err" || fail "missing program: $rc $(cat "$T/err")"
[ "$rc2" = 1 ] && grep -q "does not span node 1" "$T/err2" || fail "DC 2 on node 1: $rc2 $(cat "$T/err2")"
[ "$rc3" = 1 ] && grep -q "not a node of a cluster with a node 7" "$T/err3" ||
	fail "node 7: $rc3 $(cat "$T/err3")"

note "20 MB of output through a slow reader: every byte, in order"
want=$(seq 1 2500000 | md5sum)
got=$(rn 1 --dc 1 --ep 10 -- seq 1 2500000 | python3 -c '
import sys, time, hashlib
h = hashlib.md5()
while True:
    b = sys.stdin.buffer.read(65536)
    if not b:
        break
    h.update(b)
    time.sleep(0.001)
print(h.hexdigest() + "  -")')
[ "$got" = "$want" ] || fail "the output differs: $got, not $want"

note "a server started on node 2 from node 0 serves node 0; ending the command stops it"
rn 2 --dc 1 --ep 20 -- "$IPC" serve 20 >"$T/srv" 2>&1 &
srv=$!
for ((i = 0; i < 200; i++)); do
	[ -n "$(pid_of 2 1 20)" ] && break
	sleep 0.05
done
spid=$(pid_of 2 1 20)
[ -n "$spid" ] || fail "the server never bound ep 20 on node 2: $(cat "$T/srv")"
out=$(ipc 0 talk 11 20 200) || fail "talk to the server started with --node: $out"
# (a background job ignores SIGINT: SIGTERM, as a closed terminal sends)
pkill -TERM -f "dvsctl run --node 2 --dc 1 --ep 20" || fail "no dvsctl to stop"
wait "$srv" || true
for ((i = 0; i < 100; i++)); do
	kill -0 "$spid" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$spid" 2>/dev/null && fail "the server on node 2 still runs after the command was interrupted"

note "node 1's dvkd dies while its program runs: an error (255) in seconds, no hang"
rn 1 --dc 1 --ep 10 -- sleep 60 2>"$T/err" &
p=$!
sleep 1
t0=$(date +%s)
dvs cluster kill "$CL" 1 dvkd
set +e
wait "$p"
rc=$?
set -e
[ "$rc" = 255 ] || fail "exit $rc after node 1 died: $(cat "$T/err")"
[ $(($(date +%s) - t0)) -lt 20 ] || fail "the command took over 20 s to notice"
grep -q "left while the program ran" "$T/err" || fail "message: $(cat "$T/err")"
echo "== ok"
