#!/usr/bin/env bash
# A message storm between all pairs of a 4-node DC: every node sends
# sequence-numbered one-way messages to a server on every other node at
# once; each server checks, per sender, that none is lost, none comes
# twice and the order is kept (dvs-bench-peer oneway, then its report).
# Then node 3's network link is cut while messages flow to it and between
# the other nodes: the storm between the others is untouched, the sender
# to node 3 gets an error (no hang), and once the link is back node 3 is a
# member again and takes a new storm.
CL_PREFIX=m
. "$(dirname "$0")/lib.sh"
N=20000

# storm A B COUNT: node A sends COUNT messages to node B's server, as ep
# 30 + 4A + B; the server checks them.  Output in $T/st.A.B.
storm() {
	ipc "$1" oneway $((30 + 4 * $1 + $2)) $((20 + $2)) "$3" >"$T/st.$1.$2"
}

dvs cluster up --nodes 4 --name "$CL" || fail "cluster up"
on 0 dvsctl dc create 1 --nodes 0,1,2,3 --endpoints 64 >/dev/null || fail "dc create"
for n in 0 1 2 3; do serve "$n" $((20 + n)) $(((n + 1) % 4)); done

note "12 senders, every ordered pair of 4 nodes, $N messages each, at once"
pids=()
for a in 0 1 2 3; do
	for b in 0 1 2 3; do
		[ "$a" = "$b" ] && continue
		storm "$a" "$b" "$N" &
		pids+=($!)
	done
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
for a in 0 1 2 3; do
	for b in 0 1 2 3; do
		[ "$a" = "$b" ] && continue
		grep -q '^[0-9]' "$T/st.$a.$b" ||
			fail "node $a -> node $b: $(cat "$T/st.$a.$b") (lost, duplicated or out of order)"
	done
done
[ "$bad" = 0 ] || fail "$bad senders failed"
echo "every message of the 12 senders arrived once, in order"

note "node 3's link is cut while 0 -> 3 and 1 -> 2 send: 1 -> 2 goes on, 0 -> 3 fails, no hang"
storm 1 2 250000 &
p12=$!
storm 0 3 250000 &
p03=$!
sleep 1
dvs cluster link "$CL" 3 down
wait_state 0 3 down 20 >/dev/null
t0=$(date +%s)
wait "$p03" && ! grep -q '^[0-9]' "$T/st.0.3" && fail "0 -> 3 said it succeeded: $(cat "$T/st.0.3")"
grep -q '^[0-9]' "$T/st.0.3" &&
	echo "(0 -> 3 finished before the cut: $(cat "$T/st.0.3") msg/s)"
[ $(($(date +%s) - t0)) -lt 20 ] || fail "the sender to node 3 took over 20 s to fail"
wait "$p12" || fail "1 -> 2 failed while node 3 was cut off: $(cat "$T/st.1.2")"
grep -q '^[0-9]' "$T/st.1.2" || fail "1 -> 2: $(cat "$T/st.1.2")"
echo "1 -> 2: every message once and in order; 0 -> 3: $(head -c 200 "$T/st.0.3")"

note "the link is back: node 3 is a member again and takes a new storm from node 0"
dvs cluster link "$CL" 3 up
wait_state 0 3 member 30 >/dev/null
wait_state 3 0 member 30 >/dev/null
for ((i = 0; i < 200; i++)); do
	out=$(ipc 0 call 40 23 1000) && break
	sleep 0.1
done
[ "$out" = ok ] || fail "node 0 cannot reach node 3's server after the link came back: $out"
storm 0 3 "$N" || fail "0 -> 3 after the link came back: $(cat "$T/st.0.3")"
echo "== ok"
