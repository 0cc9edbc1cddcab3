#!/usr/bin/env bash
# Failures a cluster must survive, as the survivors see them: kill -9 of a
# node's dvkd, of its Corosync, a cut link and its repair (a 2|1
# partition: the majority keeps quorum, the minority loses it), and each
# time the node comes back as a member.  Every survivor must agree.
CL_PREFIX=f
. "$(dirname "$0")/lib.sh"

dvs cluster up --nodes 3 --name "$CL" || fail "cluster up"

note "kill -9 of node 2's dvkd"
dvs cluster kill "$CL" 2 dvkd
ms=$(wait_state 0 2 down)
wait_state 1 2 down >/dev/null
note "node 0 saw it in $ms ms"
[ "$(quorate_seen 0)" = 1 ] || fail "two of three nodes lost quorum"
dvs cluster start "$CL" 2 dvkd
wait_state 0 2 member >/dev/null
wait_state 2 1 member >/dev/null

note "kill -9 of node 1's Corosync"
dvs cluster kill "$CL" 1 corosync
wait_state 0 1 down >/dev/null
wait_state 2 1 down >/dev/null
# Without its Corosync node 1 knows nobody is alive, itself included.
wait_state 1 1 unreachable >/dev/null
wait_state 1 0 down >/dev/null
dvs cluster start "$CL" 1 corosync
wait_state 0 1 member 30 >/dev/null
wait_state 1 2 member 30 >/dev/null

note "cut node 2's link: a 2|1 partition"
dvs cluster link "$CL" 2 down
wait_state 0 2 down >/dev/null
wait_state 1 2 down >/dev/null
wait_state 2 0 down >/dev/null
wait_quorate 2 0
wait_quorate 0 1
note "restore it"
dvs cluster link "$CL" 2 up
wait_state 0 2 member 30 >/dev/null
wait_state 2 0 member 30 >/dev/null
wait_state 2 1 member 30 >/dev/null
wait_quorate 2 1

note "SIGSTOP of node 1's dvkd: the others see its link, not a hang"
dvs cluster kill "$CL" 1 dvkd --signal STOP
timeout 10 dvs cluster exec "$CL" 0 -- dvsctl node list >/dev/null ||
	fail "node 0's dvkd hung while node 1's was stopped"
dvs cluster kill "$CL" 1 dvkd --signal CONT
wait_state 0 1 member >/dev/null
echo "ok"
