#!/usr/bin/env bash
# dvs cluster up / status / exec / down as a user runs them: every node a
# member in every node's view, the proxy links carrying frames, exec's exit
# status, a second `up` of the same name refused, and `down` leaving
# nothing behind (namespaces, /etc/netns, run files, processes, Corosync's
# files in /dev/shm).
CL_PREFIX=l
. "$(dirname "$0")/lib.sh"

note "up: 3 nodes"
dvs cluster up --nodes 3 --name "$CL" || fail "cluster up"
for a in 0 1 2; do
	for b in 0 1 2; do
		[ "$(state_seen $a $b)" = member ] || fail "node $a sees node $b as $(state_seen $a $b)"
	done
	[ "$(quorate_seen $a)" = 1 ] || fail "node $a is not quorate"
done

note "status --json"
dvs cluster status "$CL" --json >"$T/status.json"
python3 - "$T/status.json" "$CL" <<'PY'
import json, sys
c = [c for c in json.load(open(sys.argv[1])) if c["name"] == sys.argv[2]]
assert len(c) == 1, c
nodes = c[0]["nodes"]
assert [n["node"] for n in nodes] == [0, 1, 2], nodes
for n in nodes:
    assert n["corosync"] == "running" and n["dvkd"] == "running", n
    assert n["members_seen"] == 3, n
PY

note "exec: on the node's network, its dvkd, its exit status"
on 1 ip -4 -o addr show dev eth0 | grep -q '198\.18\.0\.2/' || fail "node 1 has not its address"
on 2 sh -c 'test "$DVS_NODE" = 2 && dvsctl status >/dev/null' || fail "exec on node 2: no dvkd or no DVS_NODE"
set +e
on 0 sh -c 'exit 7'
rc=$?
set -e
[ $rc -eq 7 ] || fail "exec returned $rc, not the command's 7"

note "proxy links carry frames (keep-alives) both ways"
sleep 1.5
on 0 dvsctl node list --json | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    if n["self"]:
        continue
    assert n["link"] == "up" and n["msgs_out"] > 0 and n["msgs_in"] > 0, n
'

note "a second cluster of the same name is refused"
if dvs cluster up --nodes 2 --name "$CL" 2>"$T/err"; then fail "second up succeeded"; fi
grep -q "exists" "$T/err" || fail "no clear message: $(cat "$T/err")"

note "a Corosync killed and started again leaves its /dev/shm files to down"
old=$(cat "$DVS_RUN_DIR/cluster/$CL/n2/corosync.pid")
dvs cluster kill "$CL" 2 corosync || fail "cluster kill"
ls -d /dev/shm/qb-"$old"-* >/dev/null 2>&1 || fail "no libqb files of the killed Corosync to test with"
dvs cluster start "$CL" 2 corosync || fail "cluster start"

note "down leaves nothing behind"
pids=$(for n in 0 1 2; do ip netns pids "dvs-$CL-$n"; done)
[ -n "$pids" ] || fail "no processes in the node namespaces"
dvs cluster down "$CL" || fail "cluster down"
if ip netns list | grep -q "^dvs-$CL-"; then
	fail "namespaces left: $(ip netns list | grep "^dvs-$CL-")"
fi
if ls -d /etc/netns/dvs-"$CL"-* 2>/dev/null; then fail "/etc/netns entries left"; fi
[ ! -e "$DVS_RUN_DIR/cluster/$CL" ] || fail "run directory left"
for p in $pids; do
	st=$(ps -o stat= -p "$p" 2>/dev/null || true)
	if [ -n "$st" ] && [ "${st#Z}" = "$st" ]; then
		fail "process $p ($(cat /proc/$p/comm 2>/dev/null)) left"
	fi
	if ls -d /dev/shm/qb-*-"$p"-* /dev/shm/qb-"$p"-* >/dev/null 2>&1; then
		fail "/dev/shm files of pid $p left"
	fi
done
if ls -d /dev/shm/qb-"$old"-* /dev/shm/qb-*-"$old"-* 2>/dev/null; then
	fail "/dev/shm files of the Corosync killed before (pid $old) left"
fi
if dvs cluster status | grep -q "cluster $CL:"; then fail "status still lists the cluster"; fi
echo "ok"
