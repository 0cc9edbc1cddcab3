#!/usr/bin/env bash
# dvs-bench img's cache folder (issue 11): a relative --cache (like the old
# default build/img-bench) is made absolute before debootstrap sees it
# ("cache directory should be specified with an absolute path"), and a
# failed build says its real cause instead of blaming root, debootstrap
# and the mirror at once.
. "$(dirname "$0")/lib.sh"
[ -x "$bin/dvs-bench" ] || { echo "SKIP: no dvs-bench"; exit 77; }
# A PATH with the shell's helpers but without debootstrap.
mkdir -p "$T/path"
for p in id sed tail mkdir rm; do ln -s "$(command -v $p)" "$T/path/$p"; done
cd "$T"
rc=0; PATH="$T/path" "$bin/dvs-bench" img --cache rel >"$T/out" 2>&1 || rc=$?
cat "$T/out"
[ "$rc" != 0 ] || fail "the build succeeded without debootstrap"
if [ "$(id -u)" = 0 ]; then
	grep -q "debootstrap is not installed" "$T/out" || fail "the real cause is not said"
	grep -q "needs root" "$T/out" && fail "blames root although it runs as root"
else
	grep -q "building the images needs root" "$T/out" || fail "the real cause is not said"
fi
grep -q "cannot build the Debian images in $T/rel (the reason is above)" "$T/out" ||
	fail "the cache folder is not shown absolute"
echo "bench cache ok"
