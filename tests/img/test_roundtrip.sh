#!/usr/bin/env bash
# Round trips with generated images and seeds: identical, disjoint, shifted,
# partially overlapping, sparse, repeated blocks, an odd size, two seeds.
# Each output must be byte-exact and the counts of zero, reused and sent
# blocks exact.
. "$(dirname "$0")/lib.sh"

rand_blocks "$T/R" 64
rand_blocks "$T/S" 64
rand_blocks "$T/N" 32
rand_blocks "$T/X" 3

# check NAME TARGET EXPECT_ZERO EXPECT_SEED EXPECT_DUP EXPECT_SENT [SEEDS...]
check() {
	local name=$1 target=$2 z=$3 s=$4 d=$5 n=$6; shift 6
	local args=() sd out
	for sd in "$@"; do args+=(--seed "$sd"); done
	serve "$target" --insecure-no-key
	out=$("$IMG" fetch 127.0.0.1:"$PORT" "$T/out.$name" "${args[@]}" --json) ||
		fail "$name: fetch failed: $out"
	stop_server
	cmp "$target" "$T/out.$name" || fail "$name: output differs from the source"
	[ ! -e "$T/out.$name.partial" ] || fail "$name: partial file left behind"
	[ ! -e "$T/out.$name.partial.state" ] || fail "$name: resume state left behind"
	expect "$out" zero_blocks "$z" "$name"
	expect "$out" seed_blocks "$s" "$name"
	expect "$out" dup_blocks "$d" "$name"
	expect "$out" sent_blocks "$n" "$name"
	ok "$name"
}

cp "$T/R" "$T/t.identical"
check identical "$T/t.identical" 0 64 0 0 "$T/R"
cp "$T/R" "$T/t.disjoint"
check disjoint "$T/t.disjoint" 0 0 0 64 "$T/S"
cat "$T/X" "$T/R" >"$T/seed.shifted"
cp "$T/R" "$T/t.shifted"
check shifted "$T/t.shifted" 0 64 0 0 "$T/seed.shifted"
{ head -c $((32 * 4096)) "$T/R"; cat "$T/N"; } >"$T/t.overlap"
check overlap "$T/t.overlap" 0 32 0 32 "$T/R"
# No seed at all: everything non-zero is sent.
check noseed "$T/t.overlap" 0 0 0 64

# Sparse: 256 blocks, 20 of them data (10 at the start, 10 at block 200).
truncate -s $((256 * 4096)) "$T/t.sparse"
dd if="$T/R" of="$T/t.sparse" bs=4096 count=10 conv=notrunc status=none
dd if="$T/R" of="$T/t.sparse" bs=4096 skip=10 seek=200 count=10 conv=notrunc status=none
check sparse "$T/t.sparse" 236 20 0 0 "$T/R"
alloc=$(( $(stat -c %b "$T/out.sparse") * $(stat -c %B "$T/out.sparse") ))
[ "$alloc" -le $((40 * 4096)) ] || fail "sparse: zero blocks were written, not left as holes ($alloc bytes allocated)"
ok "sparse output has holes ($alloc bytes allocated)"

# Repeated blocks inside the target: A A A B A C is sent as A, B, C.
head -c 4096 "$T/N" >"$T/A"
dd if="$T/N" of="$T/B" bs=4096 skip=1 count=1 status=none
dd if="$T/N" of="$T/C" bs=4096 skip=2 count=1 status=none
cat "$T/A" "$T/A" "$T/A" "$T/B" "$T/A" "$T/C" >"$T/t.dup"
check dup "$T/t.dup" 0 0 3 3

# A size that is not a multiple of the block size: the short tail is sent.
{ cat "$T/R"; head -c 1000 "$T/S"; } >"$T/t.odd"
check odd "$T/t.odd" 0 64 0 1 "$T/R"

# Two seeds together (the thesis's last row of table 5.1).
{ head -c $((16 * 4096)) "$T/R"; head -c $((16 * 4096)) "$T/S"; head -c $((8 * 4096)) "$T/N"; } >"$T/t.two"
check twoseeds "$T/t.two" 0 32 0 8 "$T/R" "$T/S"

# An empty image.
: >"$T/t.empty"
check empty "$T/t.empty" 0 0 0 0

# similarity agrees with what fetch reused.
sim=$("$IMG" similarity "$T/t.two" "$T/R" "$T/S" --json)
grep -q '"seeds": "all seeds", "nonzero_blocks": 40, "found_blocks": 32, "similarity": 0.8000, "missing_bytes": 32768' <<<"$sim" ||
	fail "similarity: $sim"
grep -q "\"seeds\": \"$T/R\", \"nonzero_blocks\": 40, \"found_blocks\": 16" <<<"$sim" ||
	fail "similarity per seed: $sim"
ok similarity
echo "roundtrip ok"
