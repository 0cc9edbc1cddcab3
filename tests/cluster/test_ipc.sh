#!/usr/bin/env bash
# IPC across nodes with the same calls as on one node: sendrec, send,
# notify between processes of one DC on different nodes (every reply
# checked, one-way messages in order with none lost or twice, from several
# senders at once); a DC cannot reach another DC's endpoints on another
# node; a stopped remote server gives the caller a timeout, not a hang, and
# its one-way sender waits without resending anything (flow control); a
# caller waiting on a node that dies gets an error within the failure
# detection time; an endpoint whose process exits is gone for the other
# nodes, and can be bound again.
CL_PREFIX=i
. "$(dirname "$0")/lib.sh"
dvs cluster up --nodes 3 --name "$CL" || fail "cluster up"
on 0 dvsctl dc create 1 --nodes 0,1,2 --endpoints 64 >/dev/null || fail "dc create"
on 0 dvsctl dc create 2 --nodes 0,1 --endpoints 64 >/dev/null || fail "dc create 2"

note "sendrec, send, notify from node 0 to a server on node 1"
serve 1 20 0
out=$(ipc 0 talk 10 20 2000) || fail "talk from node 0 to node 1: $out"
[ "$out" = ok ] || fail "talk said: $out"

note "vcopy across nodes: the server on node 1 copies from and into a grant of node 0"
for len in 1 4096 100000 1048576 5000000; do
	out=$(ipc 0 vcopy 10 20 "$len") || fail "vcopy of $len bytes: $out"
done
note "a grant made to another endpoint: node 0 refuses the copy of node 1's server"
out=$(ipc 0 vcwrong 10 20 4096) && fail "a copy through a grant made to ep 21 worked: $out"
grep -q "grant not made for this endpoint" <<<"$out" || fail "the wrong grantee's copy said: $out"

note "three senders on two nodes at once, and a server on each of two nodes"
serve 2 21 1
ipc 0 talk 11 20 3000 >"$T/t11" &
p1=$!
ipc 2 talk 12 20 3000 >"$T/t12" &
p2=$!
ipc 1 talk 13 21 3000 >"$T/t13" &
p3=$!
ipc 0 talk 14 21 3000 >"$T/t14" &
p4=$!
for p in $p1 $p2 $p3 $p4; do wait "$p" || true; done
for t in 11 12 13 14; do
	[ "$(cat "$T/t$t")" = ok ] || fail "sender $t: $(cat "$T/t$t")"
done

note "ep 10 of DC 2 on node 0 cannot reach DC 1's ep 20 on node 1"
out=$(DC=2 ipc 0 call 10 20 2000) && fail "DC 2 reached DC 1's endpoint: $out"
grep -q "no process is bound" <<<"$out" || fail "DC 2 -> DC 1 said: $out"

note "a stopped server on node 1: the caller on node 0 times out, no hang"
spid=$(pid_of 1 1 20)
on 1 kill -STOP "$spid"
out=$(ipc 0 call 15 20 1000) && fail "a call to a stopped server succeeded: $out"
grep -qi "timed out" <<<"$out" || fail "the call to a stopped server said: $out"
on 1 kill -CONT "$spid"
out=$(ipc 0 call 15 20 5000) || fail "after SIGCONT: $out"

note "a stopped receiver is not overrun: the sender waits, no message goes twice"
# Frames node 0 sent node 1 (messages, acknowledgements, pings).
frames() {
	on 0 dvsctl node list --json |
		python3 -c 'import json,sys
print(next(n["msgs_out"] for n in json.load(sys.stdin) if n["node"] == 1))'
}
N=300000
f0=$(frames)
ipc 0 oneway 17 20 $N >"$T/ow17" &
p1=$!
sleep 0.3 # mid-stream (300,000 messages take longer than that here)
on 1 kill -STOP "$spid"
sleep 1
on 1 kill -CONT "$spid"
wait "$p1" || fail "$N messages to a server stopped for 1 s: $(cat "$T/ow17")"
f1=$(frames)
echo "$((f1 - f0)) frames for $N messages and a report"
[ $((f1 - f0)) -le $((N + 2000)) ] ||
	fail "$((f1 - f0)) frames for $N messages: the stopped receiver's ring was overrun and messages were sent again"

note "the server exits: it is gone for node 0, and can be bound again"
out=$(ipc 0 stop 16 20) || fail "stop: $out"
for ((i = 0; i < 200; i++)); do
	out=$(ipc 0 call 16 20 1000) || break
	sleep 0.05
done
grep -q "no process is bound" <<<"$out" || fail "after the server exited, a call said: $out"
serve 2 20 0
out=$(ipc 0 talk 10 20 200) || fail "talk to the new ep 20 on node 2: $out"

note "a server that replies and exits at once: the reply still reaches node 0 (x8)"
for i in 1 2 3 4 5 6 7 8; do
	serve 1 22 0
	out=$(ipc 0 stop 16 22) || fail "round $i: the last reply of an exiting server was lost: $out"
done

note "node 2 dies while a caller on node 0 waits on it: an error, no hang"
on 2 kill -STOP "$(pid_of 2 1 20)"
ipc 0 call 17 20 30000 >"$T/wait" &
pw=$!
sleep 0.5
t0=$(date +%s%N)
dvs cluster kill "$CL" 2 all
wait "$pw" && fail "the waiting call succeeded: $(cat "$T/wait")"
ms=$((($(date +%s%N) - t0) / 1000000))
grep -qi "peer died\|no process is bound" "$T/wait" || fail "the waiting call said: $(cat "$T/wait")"
[ "$ms" -lt 20000 ] || fail "the waiting call took $ms ms to fail"
echo "the caller on node 0 heard of node 2's death after $ms ms"
note "ok"
