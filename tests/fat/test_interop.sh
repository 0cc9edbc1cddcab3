#!/usr/bin/env bash
# Interoperability both ways with dosfstools and mtools:
#  A) volumes made by mkfs.fat and filled by mcopy are read by dvs-fat;
#  B) volumes made and filled by dvs-fat pass fsck.fat -n and mtools reads
#     back the same tree and bytes.
# Long and Unicode names, a deep tree, a large file, many files; FAT12
# floppy, FAT16 and FAT32 with several cluster and sector sizes; an MBR
# partitioned image.
set -euo pipefail
export PATH=/usr/sbin:/sbin:$PATH LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1
FAT=${DVS_BIN:?}/dvs-fat
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# The source tree every case copies in both directions.
src=$T/src
mkdir -p "$src/deep"
d=$src/deep
for i in 1 2 3 4 5 6 7 8 9 10; do d=$d/level$i; mkdir -p "$d"; done
echo "at the bottom" > "$d/bottom.txt"
head -c 3000000 /dev/urandom > "$src/large.bin"
head -c 300000 /dev/urandom > "$src/medium.bin"
echo "short" > "$src/short.txt"
echo "upper" > "$src/UPPER.TXT"
echo "mixed" > "$src/Mixed Case Name With Spaces.Text"
echo "unicode" > "$src/Grüße aus Köln – ünïcödé.txt"
echo "cyrillic" > "$src/Документ.txt"
echo "symbols" > "$src/smile ☺ ♫ €.md"
mkdir -p "$src/many files"
for i in $(seq 1 120); do echo "file $i" > "$src/many files/A long file name number $i.dat"; done
head -c 70000 /dev/urandom > "$src/many files/odd size.bin"
: > "$src/empty"

# put_tree IMAGE[@@OFF-free spec for dvs-fat] : copies $src in with dvs-fat
put_tree() {
	local img=$1 p=${2:-}
	(cd "$src" && find . -mindepth 1 -type d | sort) | while read -r dir; do
		$FAT $p mkdir "$img:/${dir#./}" || return 1
	done
	(cd "$src" && find . -type f | sort) | while read -r f; do
		$FAT $p put "$src/${f#./}" "$img:/${f#./}" || return 1
	done
}

# check_tree_fat IMAGE : every file of $src read back with dvs-fat
check_tree_fat() {
	local img=$1 p=${2:-} n=0
	while read -r f; do
		if ! $FAT $p get "$img:/${f#./}" "$T/out" || ! cmp -s "$src/${f#./}" "$T/out"; then
			bad "$img: /${f#./} differs when read by dvs-fat"
		fi
		n=$((n + 1))
	done < <(cd "$src" && find . -type f | sort)
	# the listing names exactly the source tree
	$FAT $p ls -R "$img" > "$T/ls" || bad "$img: ls -R failed"
	local want have
	want=$(cd "$src" && find . -mindepth 1 | wc -l)
	have=$(grep -cv -e '^$' -e ':$' "$T/ls" || true)
	[ "$want" = "$have" ] || bad "$img: ls -R lists $have entries, want $want"
}

# check_tree_mtools IMAGE[@@off] : mcopy the whole tree out and compare
check_tree_mtools() {
	local spec=$1
	rm -rf "$T/mout"
	mkdir "$T/mout"
	mcopy -s -n -i "$spec" "::/*" "$T/mout/" 2>"$T/mcopy.err" || bad "$spec: mcopy -s failed: $(cat "$T/mcopy.err")"
	diff -r "$src" "$T/mout" > "$T/diff" || bad "$spec: mtools sees a different tree: $(head -5 "$T/diff")"
	mtype -i "$spec" "::/deep/level1/level2/level3/level4/level5/level6/level7/level8/level9/level10/bottom.txt" | grep -q "at the bottom" || bad "$spec: mtype of the deep file"
}

fsck_ok() {
	local img=$1
	if ! fsck.fat -n "$img" > "$T/fsck" 2>&1; then
		bad "$img: fsck.fat -n: $(cat "$T/fsck")"
	fi
}

# name | mkfs.fat arguments (size in KiB last) | dvs-fat mkfs arguments
cases=(
	"floppy12|-C IMG 1440|-s 1440K"
	"fat12-4k|-C -F 12 -s 8 IMG 8192|-F 12 -c 4096 -s 8M"
	"fat16-2k|-C -F 16 -s 4 IMG 32768|-F 16 -c 2048 -s 32M"
	"fat16-4ksect|-C -F 16 -S 4096 -s 2 IMG 131072|-F 16 -S 4096 -c 8192 -s 128M"
	"fat32-512|-C -F 32 -s 1 IMG 49152|-F 32 -c 512 -s 48M"
	"fat32-2ksect|-C -F 32 -S 2048 -s 1 IMG 143360|-F 32 -S 2048 -c 2048 -s 140M"
	"fat32-4k|-C -F 32 -s 8 IMG 278528|-F 32 -c 4096 -s 272M"
)
for c in "${cases[@]}"; do
	IFS='|' read -r name margs fargs <<< "$c"
	echo "== $name"
	# a 1.44 MB floppy cannot hold the 3 MB file
	if [ "$name" = floppy12 ]; then mv "$src/large.bin" "$T/large.bin"; else [ -e "$T/large.bin" ] && mv "$T/large.bin" "$src/large.bin"; fi
	bigfile=large.bin; [ -e "$src/large.bin" ] || bigfile=medium.bin
	# A: mkfs.fat + mcopy -> dvs-fat
	img=$T/$name-a.img
	mkfs.fat ${margs//IMG/$img} > /dev/null 2>&1 || { bad "$name: mkfs.fat"; continue; }
	mcopy -s -i "$img" "$src"/* "::/" 2>"$T/mc.err" || bad "$name: mcopy in: $(cat "$T/mc.err")"
	check_tree_fat "$img"
	# and our writes on their volume stay clean
	$FAT rm -r "$img:/many files" || bad "$name: rm -r on a mkfs.fat volume"
	$FAT mv "$img:/$bigfile" "$img:/deep/large moved.bin" || bad "$name: mv"
	fsck_ok "$img"
	mtype -i "$img" "::/deep/large moved.bin" | cmp -s - "$src/$bigfile" || bad "$name: mtools reads our moved file"
	rm -f "$img"

	# B: dvs-fat mkfs + put -> fsck.fat and mtools
	img=$T/$name-b.img
	$FAT mkfs $fargs -n DVSTEST "$img" || { bad "$name: dvs-fat mkfs"; continue; }
	fsck_ok "$img"
	put_tree "$img" || bad "$name: put_tree"
	fsck_ok "$img"
	check_tree_mtools "$img"
	check_tree_fat "$img"
	minfo -i "$img" :: > "$T/minfo" 2>&1 || bad "$name: minfo"
	mlabel -s -i "$img" :: | grep -q DVSTEST || bad "$name: mtools sees the label"
	rm -f "$img"
done

# An MBR-partitioned image: partition 1 at sector 2048, 16 MiB.
echo "== mbr"
img=$T/mbr.img
truncate -s 20M "$img"
printf '\x00\x00\x00\x00\x06\x00\x00\x00\x00\x08\x00\x00\x00\x80\x00\x00' |
	dd of="$img" bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of="$img" bs=1 seek=510 conv=notrunc status=none
$FAT -p 1 mkfs -n PART1 "$img" || bad "mbr: mkfs -p 1"
$FAT -p 1 put "$src/short.txt" "$img:/in partition.txt" || bad "mbr: put"
mtype -i "$img@@1M" "::/in partition.txt" | grep -q short || bad "mbr: mtools reads the partition"
dd if="$img" of="$T/part.img" bs=1M skip=1 count=16 status=none
fsck_ok "$T/part.img"
[ "$(xxd -s 510 -l 2 -p "$img")" = "55aa" ] || bad "mbr: the MBR was overwritten"

# Errors: nonzero exit and a message.
echo "== errors"
if $FAT get "$T/none.img:/x" "$T/o" 2>"$T/err"; then bad "get from a missing image succeeded"; fi
grep -q "dvs-fat:" "$T/err" || bad "no message for a missing image"
$FAT mkfs -s 2M "$T/e.img"
if $FAT get "$T/e.img:/nothing" "$T/o" 2>/dev/null; then bad "get of a missing file succeeded"; fi
if $FAT mkdir "$T/e.img:/a/b" 2>/dev/null; then bad "mkdir without parent succeeded"; fi
if $FAT bogus 2>/dev/null; then bad "unknown command succeeded"; fi
$FAT --help | grep -q mkfs || bad "--help"
$FAT df "$T/e.img" | grep -q "type: FAT12" || bad "df"
$FAT label "$T/e.img" NEWNAME && mlabel -s -i "$T/e.img" :: | grep -q "Volume label is NEWNAME" || bad "label: $(mlabel -s -i "$T/e.img" ::)"
fsck_ok "$T/e.img"
echo "stat me" > "$T/s.txt"
$FAT put "$T/s.txt" "$T/e.img:/A Long Name.txt" || bad "put for stat"
$FAT stat "$T/e.img:/a long name.TXT" | grep -q "^size: 8$" || bad "stat: $($FAT stat "$T/e.img:/a long name.TXT")"
$FAT ls -l "$T/e.img" | grep -q "ALONGN~1.TXT A Long Name.txt" || bad "ls -l: $($FAT ls -l "$T/e.img")"
$FAT mkdir -p "$T/e.img:/x/y/z" && $FAT put "$T/s.txt" "$T/e.img:/x/y/z/" || bad "mkdir -p / put into a directory"
if $FAT rm "$T/e.img:/x" 2>/dev/null; then bad "rm of a non-empty directory without -r succeeded"; fi
$FAT rm -r "$T/e.img:/x" || bad "rm -r"
if $FAT stat "$T/e.img:/x" 2>/dev/null; then bad "rm -r left the directory"; fi
if $FAT put "$T/s.txt" "$T/e.img:/bad:name" 2>/dev/null; then bad "an invalid name was accepted"; fi
fsck_ok "$T/e.img"
mdir -i "$T/e.img" :: | grep -q "A Long Name.txt" || bad "mdir does not show our long name"

# put -r / get -r: the whole source tree in one command each way.
echo "== put -r / get -r"
$FAT mkfs -F 32 -s 64M "$T/r.img"
if $FAT put "$src" "$T/r.img:/" 2>"$T/err"; then bad "put of a directory without -r succeeded"; fi
grep -q "put -r" "$T/err" || bad "put of a directory: no hint at -r: $(cat "$T/err")"
$FAT put -r "$src" "$T/r.img:/" || bad "put -r failed"
fsck_ok "$T/r.img"
# into an existing directory under its own name, like cp -r
mkdir -p "$T/mc" && mcopy -s -n -i "$T/r.img" ::/src "$T/mc/" || bad "mcopy -s of the put -r tree failed"
diff -r "$src" "$T/mc/src" > /dev/null || bad "mtools reads a different tree after put -r"
if $FAT get "$T/r.img:/src" "$T/got" 2>"$T/err"; then bad "get of a directory without -r succeeded"; fi
grep -q "get -r" "$T/err" || bad "get of a directory: no hint at -r: $(cat "$T/err")"
[ ! -e "$T/got" ] || bad "get of a directory without -r left $T/got behind"
$FAT get -r "$T/r.img:/src" "$T/got" || bad "get -r failed"
diff -r "$src" "$T/got" > /dev/null || bad "get -r gave a different tree: $(diff -rq "$src" "$T/got" | head -3)"
mkdir -p "$T/into" && $FAT get -r "$T/r.img:/src/deep" "$T/into" || bad "get -r into a directory failed"
[ -f "$T/into/deep/level1/level2/level3/level4/level5/level6/level7/level8/level9/level10/bottom.txt" ] ||
	bad "get -r into an existing directory did not make deep/"
$FAT put -r "$src/many files" "$T/r.img:/copy two" || bad "put -r to a new name failed"
[ "$($FAT ls "$T/r.img:/copy two" | wc -l)" -eq 121 ] || bad "put -r to a new name: $($FAT ls "$T/r.img:/copy two" | wc -l) names"
fsck_ok "$T/r.img"

echo "== mkfs below the FAT32 minimum, and what mkfs says it made"
# fsck_clusters IMG: the cluster count fsck.fat -n reports.
fsck_clusters() { fsck.fat -n "$1" 2>/dev/null | sed -n 's|.* [0-9]*/\([0-9]*\) clusters$|\1|p'; }
# Like mkfs.fat: made, with a warning that says what to do instead.
out=$($FAT mkfs -F 32 -s 10M "$T/small32.img" 2>"$T/err") || bad "mkfs -F 32 -s 10M failed"
grep -q "warning: .*small32.img: a FAT32 of 10.0 MiB with 512-byte clusters has [0-9]* clusters, fewer than the 65525 the FAT specification requires" "$T/err" ||
	bad "no warning of the FAT32 minimum: $(cat "$T/err")"
grep -q "leave out -F 32" "$T/err" || bad "the warning does not say what to do: $(cat "$T/err")"
n=$(fsck_clusters "$T/small32.img")
[ "$out" = "$T/small32.img: FAT32, 10.0 MiB, $n clusters of 512 bytes, label none" ] ||
	bad "mkfs summary '$out' (fsck.fat counts $n clusters)"
[ "$n" -lt 65525 ] || bad "10 MiB FAT32 has $n clusters?"
out=$($FAT mkfs -q -F 32 -s 10M "$T/small32.img" 2>&1) || bad "mkfs -q"
[ -z "$out" ] || bad "mkfs -q said: $out"
$FAT mkfs -F 32 -s 64M "$T/ok32.img" 2>"$T/err" >/dev/null || bad "mkfs -F 32 -s 64M"
[ ! -s "$T/err" ] || bad "a FAT32 above the minimum got a warning: $(cat "$T/err")"
out=$($FAT mkfs -s 64M -n DATA "$T/sum16.img") || bad "mkfs -s 64M"
n=$(fsck_clusters "$T/sum16.img")
c=$(minfo -i "$T/sum16.img" 2>/dev/null | sed -n 's/^cluster size: \([0-9]*\) sectors$/\1/p')
[ "$out" = "$T/sum16.img: FAT16, 64.0 MiB, $n clusters of $((c * 512)) bytes, label DATA" ] ||
	bad "mkfs summary '$out' (fsck.fat: $n clusters, minfo: $c sectors per cluster)"
fsck_ok "$T/sum16.img"

if [ "$fails" -ne 0 ]; then
	echo "$fails failures" >&2
	exit 1
fi
echo "all interop checks passed"
