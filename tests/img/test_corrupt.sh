#!/usr/bin/env bash
# Bad input: corrupted frames, garbage and oversized frames sent to the
# server, a corrupt, truncated, stale or foreign index, a block that does
# not match its index, a seed that changed underneath.  Always a clear
# error or a correct image, never an OUTPUT that looks complete but is not.
. "$(dirname "$0")/lib.sh"
export DVS_IMG_TIMEOUT_MS=3000

rand_blocks "$T/src" 512

# fetch_fails WANT_RC PATTERN OUTPUT ARGS...: runs fetch, checks the exit
# code (a list like "3|5"), the message, and that OUTPUT does not exist.
fetch_fails() {
	local want=$1 pat=$2 outp=$3 rc; shift 3
	set +e
	"$IMG" fetch "$@" "$outp" --retries 0 >/dev/null 2>"$T/err"; rc=$?
	set -e
	[[ "$rc" =~ ^($want)$ ]] || fail "fetch $*: exit $rc, want $want: $(cat "$T/err")"
	grep -qiE "$pat" "$T/err" || fail "fetch $*: no message /$pat/: $(cat "$T/err")"
	[ ! -e "$outp" ] || fail "fetch $*: an OUTPUT exists after an error"
}

# Corrupted frames: a flipped byte in the index, in data, in a header.
for at in 200 9000 700000 1500011; do
	serve "$T/src" --insecure-no-key --corrupt-at "$at"
	fetch_fails '3|5' "corrupt|said nothing|server" "$T/out.c$at" 127.0.0.1:"$PORT"
	out=$("$IMG" fetch 127.0.0.1:"$PORT" "$T/out.c$at" --json) || fail "retry after corruption failed"
	cmp "$T/src" "$T/out.c$at" || fail "output after a corrupt frame differs"
	stop_server
	ok "flipped byte at $at detected; the next run completed"
done

# Garbage and an oversized frame sent to the server: it refuses them and
# goes on serving.
serve "$T/src" --insecure-no-key
head -c 5000 /dev/urandom >"$T/garbage"
exec 3<>/dev/tcp/127.0.0.1/"$PORT"; cat "$T/garbage" >&3 || true; exec 3>&-
# magic "DVSI", type HELLO, length 0xffffffff, crc 0
printf 'DVSI\001\000\000\000\377\377\377\377\000\000\000\000' >"$T/huge"
exec 3<>/dev/tcp/127.0.0.1/"$PORT"; cat "$T/huge" >&3 || true; exec 3>&-
sleep 0.3
kill -0 "$SPID" || fail "the server died on garbage"
"$IMG" fetch 127.0.0.1:"$PORT" "$T/out.g" >/dev/null 2>&1 || fail "server unusable after garbage"
cmp "$T/src" "$T/out.g" || fail "output after garbage differs"
stop_server
ok "server survives garbage and an oversized frame"

# A corrupt index (one flipped byte) is an error, not silently trusted.
"$IMG" index "$T/src" >/dev/null
cp "$T/src.dvsidx" "$T/good.dvsidx"
printf '\x42' | dd of="$T/src.dvsidx" bs=1 seek=5000 conv=notrunc status=none
set +e
"$IMG" index "$T/src" --check >/dev/null; rc=$?
set -e
[ $rc -eq 5 ] || fail "index --check of a corrupt index exited $rc, want 5"
set +e
"$IMG" serve "$T/src" --insecure-no-key --listen 127.0.0.1:0 2>"$T/err"; rc=$?
set -e
[ $rc -eq 5 ] || fail "serve with a corrupt index exited $rc, want 5"
grep -q "corrupt" "$T/err" || fail "the server did not say its index is corrupt: $(cat "$T/err")"
ok "corrupt index refused"
# Truncated index: the same.
head -c 3000 "$T/good.dvsidx" >"$T/src.dvsidx"
set +e
"$IMG" index "$T/src" --check >/dev/null; rc=$?
set -e
[ $rc -eq 5 ] || fail "index --check of a truncated index exited $rc, want 5"
ok "truncated index detected"

# A stale index (the image changed) is noticed and rebuilt.
cp "$T/good.dvsidx" "$T/src.dvsidx"
"$IMG" index "$T/src" --check >/dev/null || fail "a fresh index is not reported fresh"
rand_blocks "$T/blk" 1
dd if="$T/blk" of="$T/src" bs=4096 seek=3 conv=notrunc status=none
touch -d '+1 second' "$T/src"
set +e
"$IMG" index "$T/src" --check >/dev/null; rc=$?
set -e
[ $rc -eq 1 ] || fail "index --check of a stale index exited $rc, want 1"
serve "$T/src" --insecure-no-key
"$IMG" fetch 127.0.0.1:"$PORT" "$T/out.st" >/dev/null 2>&1 || fail "fetch with a stale index failed"
cmp "$T/src" "$T/out.st" || fail "output with a stale index differs"
grep -q "stale" "$T/serve.log" || fail "the server did not report the stale index"
stop_server
ok "stale index rebuilt"

# A foreign index (another image's) is stale too.
cp "$T/src" "$T/other"
cp "$T/src.dvsidx" "$T/other.dvsidx"
set +e
"$IMG" index "$T/other" --check >/dev/null; rc=$?
set -e
[ $rc -eq 1 ] || fail "a foreign index was not refused (exit $rc)"
ok "foreign index refused"

# The image changes behind a fresh-looking index (same mtime): the block
# does not match its hash; the fetch fails and leaves no OUTPUT.
"$IMG" index "$T/src" >/dev/null
touch -r "$T/src" "$T/ref"
rand_blocks "$T/blk" 1
dd if="$T/blk" of="$T/src" bs=4096 seek=100 conv=notrunc status=none
touch -r "$T/ref" "$T/src"
serve "$T/src" --insecure-no-key
fetch_fails 5 "does not match its index" "$T/out.hm" 127.0.0.1:"$PORT"
[ -e "$T/out.hm.partial" ] || fail "no partial kept after a hash mismatch"
stop_server
ok "hash mismatch refused"

# A seed that changed underneath its (fresh-looking) index: its stale
# blocks are caught by the re-hash and fetched from the server.
rand_blocks "$T/seed" 64
cp "$T/seed" "$T/target"
"$IMG" index "$T/seed" >/dev/null
touch -r "$T/seed" "$T/ref"
rand_blocks "$T/blk" 5
dd if="$T/blk" of="$T/seed" bs=4096 seek=10 conv=notrunc status=none
touch -r "$T/ref" "$T/seed"
serve "$T/target" --insecure-no-key
out=$("$IMG" fetch 127.0.0.1:"$PORT" "$T/out.sd" --seed "$T/seed" --json 2>"$T/err") ||
	fail "fetch with a changed seed failed: $(cat "$T/err")"
cmp "$T/target" "$T/out.sd" || fail "output with a changed seed differs"
expect "$out" seed_mismatch_blocks 5 "changed seed"
expect "$out" sent_blocks 5 "changed seed"
expect "$out" seed_blocks 59 "changed seed"
grep -q "changed since it was indexed" "$T/err" || fail "no warning about the changed seed"
stop_server
ok "changed seed caught"
echo "corrupt ok"
