#!/usr/bin/env bash
# A node without the cluster key (here: another key) is refused: its proxy
# link never comes up, both sides say why in their logs, and node list
# shows the link refused; with the right key again it becomes a member.
CL_PREFIX=k
. "$(dirname "$0")/lib.sh"

dvs cluster up --nodes 2 --name "$CL" || fail "cluster up"
dir=$DVS_RUN_DIR/cluster/$CL

note "node 1's dvkd restarted with another key"
dvs cluster kill "$CL" 1 dvkd
wait_state 0 1 down >/dev/null
head -c 32 /dev/urandom >"$T/other.key"
chmod 600 "$T/other.key"
sed "s|^key .*|key $T/other.key|" "$dir/cluster.conf" >"$T/other.conf"
on 1 setsid dvkd --socket "$T/rogue.sock" --cluster "$T/other.conf" --node 1 \
	>"$T/rogue.log" 2>&1 </dev/null &
ms=$(wait_state 0 1 unreachable)
sleep 1
[ "$(state_seen 0 1)" = unreachable ] || fail "node 0 sees the node with another key as $(state_seen 0 1)"
on 0 dvsctl node list --json | python3 -c '
import json, sys
n = [n for n in json.load(sys.stdin) if n["node"] == 1][0]
assert n["link"] in ("refused", "connecting", "none"), n
assert n["link_ups"] == 1, n   # only the link of before the restart
'
grep -q "does not hold the cluster key" "$dir/n0/dvkd.log" ||
	fail "node 0 did not log the refusal"
grep -q "does not hold the cluster key" "$T/rogue.log" ||
	fail "the node with another key did not log the refusal"

note "the right key again"
pkill -KILL -f "dvkd --socket $T/rogue.sock" || true
dvs cluster start "$CL" 1 dvkd
wait_state 0 1 member >/dev/null
wait_state 1 0 member >/dev/null
echo "ok"
