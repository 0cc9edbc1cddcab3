#!/usr/bin/env bash
# A rogue node: it holds the cluster key (so it passes the handshake) but
# claims what it cannot back.  With node 0's dvkd stopped, cl_rogue in node
# 0's namespace links to node 1 as node 0 and sends forged frames: a
# message from an endpoint node 2 owns (a STOP that would end node 1's
# server), messages in a DC node 0 is not in, in no DC, from and to
# endpoints out of range, a copy for a copier node 2 owns, malformed and
# misplaced RUN requests, replies and acknowledgements nobody asked for,
# a GONE for node 2's endpoint, and a 1 GiB frame.  Each is refused (or
# ignored) as docs/CLUSTER.md says; node 1's dvkd and server stay, and
# node 1 still reaches node 2's endpoint.
CL_PREFIX=g
. "$(dirname "$0")/lib.sh"
ROGUE=${CL_ROGUE:?run through meson test}

dvs cluster up --nodes 3 --name "$CL" || fail "cluster up"
on 0 dvsctl dc create 1 --nodes 0,1,2 --endpoints 64 >/dev/null || fail "dc create 1"
on 1 dvsctl dc create 2 --nodes 1,2 --endpoints 64 >/dev/null || fail "dc create 2"
serve 2 20 1
serve 1 21 1
spid=$(pid_of 1 1 21)

note "node 0's dvkd stops; a rogue with the key takes its place"
dvs cluster kill "$CL" 0 dvkd
wait_state 1 0 down 20 >/dev/null
out=$(on 0 "$ROGUE" "$DVS_RUN_DIR/cluster/$CL/cluster.conf" 0 1 1 2 20 21) ||
	fail "the rogue's frames were not all refused (exit $?):
$out"
echo "$out"

note "node 1 is unharmed: its dvkd and server run, node 2's endpoint answers"
on 1 dvsctl status >/dev/null || fail "node 1's dvkd is gone"
kill -0 "$spid" || fail "node 1's server (ep 21) was stopped by a forged message"
out=$(ipc 1 call 30 21 2000) || fail "node 1's server does not answer: $out"
out=$(ipc 1 call 30 20 2000) || fail "node 1 cannot reach ep 20 of node 2 after a forged GONE: $out"
echo "== ok"
