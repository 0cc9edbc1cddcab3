#!/usr/bin/env bash
# dvkd as systemd runs it, without systemd: readiness (READY=1 on
# $NOTIFY_SOCKET only once the socket answers, STOPPING=1 at the end) and
# socket activation (the socket systemd-socket-activate passes, kept by
# its owner when dvkd stops).
. "$(dirname "$0")/lib.sh"

note "Type=notify: READY=1 once the socket answers, STOPPING=1 at stop"
python3 - "$T/notify" "$T/notes" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "w") as f:
    for _ in range(2):
        f.write(s.recv(4096).decode() + "\n")
        f.flush()
PY
PIDS+=($!)
for i in $(seq 100); do [ -S "$T/notify" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$T/notify "$B/dvkd" --socket "$DVS_SOCKET" 2>"$T/dvkd.log" &
PIDS+=($!)
for i in $(seq 200); do grep -q READY=1 "$T/notes" 2>/dev/null && break; sleep 0.05; done
grep -q READY=1 "$T/notes" || fail "no READY=1"
"$B/dvsctl" status >/dev/null || fail "READY=1 came but dvkd does not answer"
"$B/dvsctl" stop >/dev/null
for i in $(seq 100); do grep -q STOPPING=1 "$T/notes" && break; sleep 0.05; done
grep -q STOPPING=1 "$T/notes" || fail "no STOPPING=1"

note "socket activation"
systemd-socket-activate --seqpacket -l "$T/act.sock" -E DVS_LOG=info "$B/dvkd" \
	>"$T/act.log" 2>&1 &
PIDS+=($!)
for i in $(seq 100); do [ -S "$T/act.sock" ] && break; sleep 0.05; done
DVS_SOCKET=$T/act.sock "$B/dvsctl" dc create 3 >/dev/null || fail "no dvkd behind the activated socket"
DVS_SOCKET=$T/act.sock "$B/dvsctl" dc list | grep -q '^3 ' || fail "DC 3 not listed"
grep -q "socket from systemd" "$T/act.log" || fail "dvkd did not say it uses systemd's socket"
DVS_SOCKET=$T/act.sock "$B/dvsctl" stop >/dev/null
sleep 0.3
[ -S "$T/act.sock" ] || fail "dvkd removed the socket systemd owns"
echo "ok"
