#!/usr/bin/env bash
# A DC over several nodes: `dc create --nodes` makes it on every listed
# node; an endpoint bound on one node is shown by every node with its node,
# and is busy for every other node (endpoints are unique across the DC);
# a node that dies keeps its endpoints busy, marked unreachable, until it
# comes back; a minority partition refuses new binds (no quorum) while the
# majority goes on; a DC of one node needs none of this.
CL_PREFIX=d
. "$(dirname "$0")/lib.sh"
CB=${CL_BIND:?run through meson test (CL_BIND)}

# The state of dc 1 ep EP as node A lists it: "STATE NODE" or "".
ep_seen() {
	on "$1" dvsctl ep list --dc 1 --json | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    if e["ep"] == int(sys.argv[1]): print(e["state"], e["node"])' "$2"
}
wait_ep() {
	local a=$1 ep=$2 want=$3 i
	for ((i = 0; i < 400; i++)); do
		[ "$(ep_seen "$a" "$ep")" = "$want" ] && return 0
		sleep 0.05
	done
	fail "node $a shows ep $ep as '$(ep_seen "$a" "$ep")', not '$want'"
}
# Binds EP on node N in the background for S seconds; its output in $T/bN.EP.
hold() { on "$1" dvsctl run --dc 1 --ep "$2" -- "$CB" "$2" "$3" >"$T/b$1.$2" 2>&1 & }
try_bind() { on "$1" dvsctl run --dc 1 --ep "$2" -- "$CB" "$2" 0 2>&1 || true; }

dvs cluster up --nodes 3 --name "$CL" || fail "cluster up"

note "dc create --nodes 0,1,2 from node 0: the DC on every node"
on 0 dvsctl dc create 1 --nodes 0,1,2 --endpoints 64 >/dev/null || fail "dc create --nodes"
for n in 0 1 2; do
	on "$n" dvsctl --json dc list | python3 -c '
import json, sys
d = [d for d in json.load(sys.stdin) if d["dc"] == 1]
assert d and d[0]["nodes"] == [0, 1, 2] and d[0]["endpoints"] == 64, d' ||
		fail "node $n does not list DC 1 over nodes 0,1,2"
done
out=$(on 1 dvsctl dc create 1 --nodes 0,1 2>&1) && fail "a second DC 1 was created"
grep -q "exists" <<<"$out" || fail "no clear refusal: $out"

note "ep 10 bound on node 1: every node shows it there, nobody else binds it"
hold 1 10 120
wait_ep 0 10 "bound 1"
wait_ep 2 10 "bound 1"
grep -q "bound 10" "$T/b1.10" || fail "the binding on node 1 said: $(cat "$T/b1.10")"
out=$(try_bind 2 10)
grep -q "already bound" <<<"$out" || fail "node 2 bound ep 10 of node 1: $out"
out=$(try_bind 0 10)
grep -q "already bound" <<<"$out" || fail "node 0 bound ep 10 of node 1: $out"
hold 2 11 120
wait_ep 1 11 "bound 2"

note "node 1 dies: ep 10 is unreachable, still busy; back again: free"
dvs cluster kill "$CL" 1 all
wait_ep 0 10 "unreachable 1"
out=$(try_bind 2 10)
grep -q "already bound" <<<"$out" || fail "ep 10 of a dead node was bound again: $out"
dvs cluster start "$CL" 1
wait_state 0 1 member 30 >/dev/null
wait_ep 0 10 ""
wait_ep 2 10 ""
out=$(try_bind 2 10)
grep -q "bound 10" <<<"$out" || fail "ep 10 not free after node 1 came back: $out"
wait_ep 1 11 "bound 2"

note "a 2|1 partition: the minority refuses new binds, the majority binds"
dvs cluster link "$CL" 2 down
wait_quorate 2 0
out=$(try_bind 2 12)
grep -q "no quorum" <<<"$out" || fail "node 2 without quorum bound ep 12: $out"
out=$(try_bind 0 12)
grep -q "bound 12" <<<"$out" || fail "the majority could not bind: $out"
wait_ep 0 11 "unreachable 2"
dvs cluster link "$CL" 2 up
wait_quorate 2 1 30
wait_ep 0 11 "bound 2"

note "dc destroy from node 2: gone on every node"
on 2 dvsctl dc destroy 1 >/dev/null || fail "dc destroy"
for n in 0 1 2; do
	if on "$n" dvsctl dc list | grep -q '^1 '; then fail "node $n still lists DC 1"; fi
done
echo "ok"
