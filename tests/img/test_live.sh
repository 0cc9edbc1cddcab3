#!/usr/bin/env bash
# Live mode: a writer keeps changing the image during the transfer; rounds
# of changed blocks, then the writer is paused (SIGSTOP through
# --pause-cmd), the last changes go, and the output equals the image as it
# was during the pause.
. "$(dirname "$0")/lib.sh"
writer=${IMG_WRITER:?}

rand_blocks "$T/src" 2048                  # 8 MiB
cp "$T/src" "$T/before"
"$writer" "$T/src" 4096 300 &
WPID=$!
PIDS+=("$WPID")
sleep 0.2
serve "$T/src" --insecure-no-key --live --max-rounds 6 \
	--pause-cmd "kill -STOP $WPID" \
	--resume-cmd "cp '$T/src' '$T/snapshot' && kill -CONT $WPID"
out=$("$IMG" fetch 127.0.0.1:"$PORT" "$T/out" --json 2>"$T/err") ||
	fail "live fetch failed: $(cat "$T/err") $(cat "$T/serve.log")"
wait "$SPID" || fail "live server failed: $(cat "$T/serve.log")"
kill -0 "$WPID" || fail "the writer is gone"
grep -q "State:.*[RS]" /proc/"$WPID"/status || fail "the writer was left stopped"
cmp "$T/snapshot" "$T/out" || fail "output differs from the image during the pause"
! cmp -s "$T/before" "$T/snapshot" || fail "the writer changed nothing: the test proves nothing"
rounds=$(jget "$out" rounds)
pause=$(jget "$out" pause_ms)
[ "$rounds" -ge 1 ] || fail "no rounds reported"
awk "BEGIN { exit !($pause > 0) }" || fail "no pause reported"
grep -q "live: $rounds rounds" "$T/serve.log" || fail "server did not report the rounds"
ok "live: $rounds rounds, pause $pause ms; $(grep 'live:' "$T/serve.log")"

# The same over --stdio with the zstd stream, and a seed (the old image).
rm -f "$T/snapshot"
out=$("$IMG" fetch --stdio "$T/out2" --seed "$T/before" --compress zstd --json -- \
	"$IMG" serve --stdio --live --max-rounds 3 "$T/src" \
	--pause-cmd "kill -STOP $WPID" \
	--resume-cmd "cp '$T/src' '$T/snapshot' && kill -CONT $WPID" 2>"$T/err") ||
	fail "live stdio fetch failed: $(cat "$T/err")"
cmp "$T/snapshot" "$T/out2" || fail "stdio live output differs from the image during the pause"
[ "$(jget "$out" seed_blocks)" -gt 0 ] || fail "the seed was not used in live mode"
ok "live over stdio with zstd and a seed: rounds $(jget "$out" rounds)"
echo "live ok"
