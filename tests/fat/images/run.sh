#!/usr/bin/env bash
# run.sh - the FAT image regression suite (README.md): every image that
# recipes.sh makes goes through the same operations with dvs-fat and
# fsck.fat -n, and the transcript must equal images/NAME.expect.
#   run.sh [NAME...]            compare (all images without a NAME)
#   run.sh --update [NAME...]   rewrite the .expect files; review the diff
#                               before committing it (README.md says how)
set -euo pipefail
export PATH=/usr/sbin:/sbin:$PATH LC_ALL=C.UTF-8 TZ=UTC MTOOLS_SKIP_CHECK=1
HERE=$(cd "$(dirname "$0")" && pwd)
FAT=${DVS_BIN:?}/dvs-fat
update=0
if [ "${1:-}" = --update ]; then
	update=1
	shift
fi
for tool in mkfs.fat fsck.fat mcopy; do
	command -v $tool > /dev/null || { echo "run.sh: $tool is missing (dosfstools, mtools)" >&2; exit 1; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SRC=$T/src
. "$HERE/recipes.sh"
make_tree "$SRC"
echo "written by dvs" > "$T/hello"

# What the transcript shows as commands: dvs-fat and fsck.fat by their
# names, fsck.fat without its version line; dvs-fat's stdout is line
# buffered so its messages stand where a terminal would show them.
dvs-fat() { stdbuf -oL "$FAT" "$@"; }
fsck.fat() {
	local rc=0
	command fsck.fat "$@" > "$T/fsck.out" 2>&1 || rc=$?
	grep -v '^fsck\.fat [0-9]' "$T/fsck.out" || true
	return $rc
}
# The files of a tree that get -r wrote, each with its MD5.
sums() {
	if [ ! -d "$1" ]; then
		echo "no $1"
		return 1
	fi
	(cd "$1" && find . -type f | LC_ALL=C sort | while read -r f; do md5sum "$f"; done)
}
step() {
	local rc=0
	echo "\$ $*"
	"$@" 2>&1 || rc=$?
	echo "[exit $rc]"
}

# The fixed operations: look (as a user would), check, change, check.
operations() {
	step dvs-fat ls -l -R vol.img
	step dvs-fat df vol.img
	step dvs-fat get -r vol.img:/ tree
	step sums tree
	step fsck.fat -n vol.img
	step dvs-fat mkdir "vol.img:/New dir"
	step dvs-fat put ../hello "vol.img:/New dir/Hello world.txt"
	step dvs-fat mv vol.img:/README.TXT "/New dir/"
	step dvs-fat rm -r vol.img:/DIR
	step dvs-fat ls -R vol.img
	step dvs-fat get "vol.img:/New dir/Hello world.txt" -
	step fsck.fat -n vol.img
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	mapfile -t names < <(declare -F | sed -n 's/^declare -f img_//p' | tr _ -)
fi
fails=0
for name in "${names[@]}"; do
	w=$T/$name
	mkdir "$w"
	"img_${name//-/_}" "$w/vol.img"
	(cd "$w" && operations) > "$T/$name.out"
	if [ $update = 1 ]; then
		cp "$T/$name.out" "$HERE/$name.expect"
	elif ! diff -u "$HERE/$name.expect" "$T/$name.out"; then
		echo "FAIL: $name: the transcript differs from $name.expect" >&2
		fails=$((fails + 1))
	fi
	rm -rf "$w"
done
echo "${#names[@]} images, $fails differ"
[ $fails -eq 0 ]
