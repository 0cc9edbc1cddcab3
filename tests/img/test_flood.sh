#!/usr/bin/env bash
# Issue 8, fault 5: idle TCP connections cost the server no process.
# Before, `serve` forked a process per connection before authentication:
# 1,500 idle connections made 521 processes.  Now at most 64 connections
# wait for their key exchange in the listener itself, each for at most
# DVS_IMG_AUTH_TIMEOUT_MS, and a client with the key is still served while
# the flood goes on.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
export DVS_IMG_AUTH_TIMEOUT_MS=2000

rand_blocks "$T/src" 256
head -c 32 /dev/urandom | base64 >"$T/key"
chmod 600 "$T/key"
serve "$T/src" --key-file "$T/key"

# 400 idle connections, reopened as the server closes them, for 8 s.
cat >"$T/flood.py" <<'PY'
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks, opened, closed_by_server = [], 0, 0
end = time.time() + secs
while time.time() < end:
    alive = []
    for s in socks:
        try:
            s.setblocking(False)
            if s.recv(1) == b"":
                closed_by_server += 1
                s.close()
                continue
        except BlockingIOError:
            pass
        except OSError:
            closed_by_server += 1
            s.close()
            continue
        alive.append(s)
    socks = alive
    for _ in range(min(50, n - len(socks))):
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", port))
            opened += 1
            socks.append(s)
        except OSError:
            s.close()
            break
    time.sleep(0.05)
print(opened, closed_by_server)
PY
python3 "$T/flood.py" "$PORT" 400 8 >"$T/flood.out" &
FPID=$!
PIDS+=("$FPID")
sleep 2
max_children=0
for i in $(seq 10); do
	c=$( (pgrep -P "$SPID" || true) | wc -l)
	[ "$c" -gt "$max_children" ] && max_children=$c
	f=$(ls /proc/"$SPID"/fd | wc -l)
	[ "$f" -le 90 ] || fail "the server holds $f descriptors during the flood (want <= 64 pending + a few)"
	sleep 0.2
done
[ "$max_children" = 0 ] || fail "$max_children session processes for idle connections"
ok "400 idle connections: no process, at most 64 pending"

"$IMG" fetch 127.0.0.1:"$PORT" "$T/out" --key-file "$T/key" --retries 0 --no-progress 2>"$T/err" ||
	fail "a client with the key was not served during the flood: $(cat "$T/err")"
cmp "$T/src" "$T/out" || fail "output differs"
ok "fetch during the flood"
wait "$FPID" || fail "flood script failed"
read -r opened closed <"$T/flood.out"
echo "  flood: $opened connections opened, $closed closed by the server"
[ "$closed" -ge 100 ] || fail "the server closed only $closed idle connections"
sleep 0.5
c=$( (pgrep -P "$SPID" || true) | wc -l)
[ "$c" = 0 ] || fail "$c processes left after the flood"

# One idle connection alone is closed after the gate's timeout.
exec 3<>/dev/tcp/127.0.0.1/"$PORT"
t0=$(date +%s%N)
timeout 10 cat <&3 >/dev/null || fail "an idle connection was not closed within 10 s"
ms=$((($(date +%s%N) - t0) / 1000000))
exec 3<&-
[ "$ms" -lt 5000 ] || fail "an idle connection lived $ms ms (timeout 2000)"
ok "an idle connection is closed after $ms ms"
kill -0 "$SPID" || fail "server died"
stop_server
echo "flood ok"
