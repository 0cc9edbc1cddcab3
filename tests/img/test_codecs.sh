#!/usr/bin/env bash
# Every codec (and a few levels) gives a byte-exact image; compressors put
# fewer bytes on the wire than the raw blocks of a compressible image.
. "$(dirname "$0")/lib.sh"

{ seq 1 150000; head -c 300000 /dev/urandom; seq 7 3 500000; } >"$T/src"
serve "$T/src" --insecure-no-key
for spec in none zstd lz4 zlib lzo zstd:19 lz4:9 zlib:1; do
	codec=${spec%%:*}
	lvl=()
	[ "$spec" != "$codec" ] && lvl=(--level "${spec#*:}")
	out=$("$IMG" fetch 127.0.0.1:"$PORT" "$T/out.$spec" --compress "$codec" "${lvl[@]}" --json) ||
		fail "$spec: fetch failed: $out"
	cmp "$T/src" "$T/out.$spec" || fail "$spec: output differs"
	data=$(jget "$out" data_bytes)
	wire=$(jget "$out" wire_bytes_in)
	if [ "$codec" = none ]; then
		[ "$wire" -gt "$data" ] || fail "none: $wire wire bytes for $data data bytes"
	else
		[ "$wire" -lt $((data * 8 / 10)) ] ||
			fail "$spec: $wire bytes on the wire for $data bytes of compressible data"
	fi
	ok "$spec: $data data bytes, $wire on the wire"
done
# A codec the program does not know is a usage error.
set +e
"$IMG" fetch 127.0.0.1:"$PORT" "$T/out.bad" --compress brotli 2>/dev/null; rc=$?
set -e
[ $rc -eq 2 ] || fail "unknown codec exited $rc, want 2"
echo "codecs ok"
