#!/usr/bin/env bash
# `meson install` into a DESTDIR as a packager runs it: the programs (not
# the benchmark), shared libdvk and libdvsfs exporting exactly the API of
# their headers, headers, pkg-config files, man pages (every option of a
# program's --help is in its page), systemd units that systemd-analyze
# verifies and rates, bash completion that completes; then a program
# built outside the tree with `pkg-config dvk` runs against a dvkd, and
# the installed `dvs mount` serves and mounts an image.
. "$(dirname "$0")/lib.sh"
BUILD=$(cd "$B/.." && pwd)

note "meson install --destdir"
meson install -C "$BUILD" --destdir "$R" --no-rebuild --quiet >"$T/install.log" 2>&1 ||
	fail "meson install: $(tail -5 "$T/install.log")"
prefix=$(meson introspect "$BUILD" --buildoptions |
	python3 -c 'import json, sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
P=$R$prefix
LIB=$(dirname "$(find "$P/lib" -name libdvk.so.0 | head -1)")
[ -n "$LIB" ] || fail "libdvk.so.0 not installed"
for f in sbin/dvkd bin/dvsctl bin/dvs bin/dvs-ctl bin/dvs-cluster bin/dvs-fs bin/dvs-vdd \
	bin/dvs-cp bin/dvs-fuse bin/dvs-mount bin/dvs-umount bin/dvs-fat bin/dvs-img include/dvs/ipc.h \
	include/dvs/dvsfs.h include/dvs/fsproto.h share/man/man8/dvkd.8 \
	share/man/man8/dvsctl.8 share/man/man1/dvs.1 share/man/man8/dvs-cluster.8 \
	share/man/man5/dvs-cluster.conf.5 lib/systemd/system/dvkd.service \
	lib/systemd/system/dvkd.socket lib/systemd/system/dvs-fs@.service \
	share/bash-completion/completions/dvs; do
	[ -e "$P/$f" ] || fail "$f not installed"
done
for f in libdvk.so libdvsfs.so pkgconfig/dvk.pc pkgconfig/dvsfs.pc; do
	[ -e "$LIB/$f" ] || fail "$LIB/$f not installed"
done
if find "$R" -name 'dvs-bench*' -o -name '*test*' | grep -q .; then
	fail "test or benchmark pieces installed: $(find "$R" -name 'dvs-bench*' -o -name '*test*')"
fi

note "the libraries export exactly their headers' functions"
api() { grep -o '\b\(dvk\|dvs\|dvsfs\)_[a-z0-9_]*(' "$1" | tr -d '(' | sort -u; }
exported() { nm -D --defined-only "$1" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u; }
api "$P/include/dvs/ipc.h" | grep '^dvk_' >"$T/dvk.api"
exported "$LIB/libdvk.so" >"$T/dvk.exp"
diff "$T/dvk.api" "$T/dvk.exp" || fail "libdvk exports differ from <dvs/ipc.h> (< header, > library)"
api "$P/include/dvs/dvsfs.h" | grep -v '^dvk_' >"$T/dvsfs.api"
exported "$LIB/libdvsfs.so" >"$T/dvsfs.exp"
diff "$T/dvsfs.api" "$T/dvsfs.exp" || fail "libdvsfs exports differ from <dvs/dvsfs.h>"

note "a program built outside the tree with pkg-config"
export PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_PATH=$LIB/pkgconfig
flags=$(pkg-config --cflags --libs dvk) || fail "pkg-config dvk"
# A sanitizer build's library needs the sanitizer's run time in the program.
san=
if nm -D "$LIB/libdvk.so" | grep -q ' U __asan_'; then
	san="-fsanitize=address,undefined"
fi
${CC:-cc} $san -Wall -Werror -o "$T/hello" "$DVS_SRC/tests/install/hello_dvk.c" $flags -pthread ||
	fail "cannot build against the installed libdvk ($flags)"
pkg-config --cflags --libs dvsfs >/dev/null || fail "pkg-config dvsfs"
readelf -d "$T/hello" | grep -q 'NEEDED.*libdvk\.so\.0' || fail "hello is not linked to libdvk.so.0"
"$P/bin/dvsctl" start >/dev/null || fail "the installed dvsctl cannot start a dvkd"
"$P/bin/dvsctl" dc create 1 >/dev/null || fail "dc create"
out=$(LD_LIBRARY_PATH=$LIB "$P/bin/dvsctl" run --dc 1 --ep 10-11 -- "$T/hello") ||
	fail "hello failed: $out"
[ "$out" = "hello from endpoint 10: type 42" ] || fail "hello said: $out"
"$P/bin/dvs" ctl status >/dev/null || fail "dvs ctl through the installed front door"
"$P/bin/dvsctl" stop >/dev/null

note "the installed dvs mount finds the installed servers (dvkd in sbin)"
export DVS_RUN_DIR=$T/run
truncate -s 64M "$T/fat.img"
mkfs.fat -F 32 "$T/fat.img" >/dev/null
mkdir -p "$T/mnt"
LD_LIBRARY_PATH=$LIB "$P/bin/dvs" mount "$T/fat.img" "$T/mnt" >"$T/mount.out" 2>&1 ||
	fail "installed dvs mount: $(cat "$T/mount.out")"
echo installed >"$T/mnt/hello.txt"
LD_LIBRARY_PATH=$LIB "$P/bin/dvs" umount "$T/mnt" >"$T/umount.out" 2>&1 || {
	fusermount3 -u -z "$T/mnt" 2>/dev/null
	fail "installed dvs umount: $(cat "$T/umount.out")"
}
got=$(MTOOLS_SKIP_CHECK=1 mtype -i "$T/fat.img" ::/hello.txt 2>&1) || true
[ "$got" = installed ] ||
	fail "the file written through the installed mount is not on the image: $got; $(cat "$T/mount.out" "$T/umount.out")"

note "man pages list every option of --help"
for exe in "$P"/bin/* "$P"/sbin/*; do
	[ -x "$exe" ] || continue
	name=$(basename "$exe")
	ls "$P"/share/man/man[158]/"$name".[158] >/dev/null 2>&1 ||
		fail "the installed program $name has no manual page"
done
for prog in sbin/dvkd:8 bin/dvsctl:8 bin/dvs:1 bin/dvs-cluster:8 bin/dvs-fs:8 bin/dvs-vdd:8 \
	bin/dvs-cp:1 bin/dvs-fuse:8 bin/dvs-mount:1 bin/dvs-umount:1 bin/dvs-fat:1 bin/dvs-img:1; do
	exe=${prog%:*} sec=${prog#*:} name=$(basename "${prog%:*}")
	page=$(MANWIDTH=200 man -l "$P/share/man/man$sec/$name.$sec" 2>/dev/null) ||
		fail "man page of $name does not render"
	for opt in $("$P/$exe" --help 2>&1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -q -- "$opt" <<<"$page" || fail "$name --help lists $opt; its man page does not"
	done
done

note "every program: --help, --version, and the same exit status for a bad option"
version=$(meson introspect "$BUILD" --projectinfo |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
[ -e "$P/share/doc/dvs/EXIT-CODES.md" ] || fail "share/doc/dvs/EXIT-CODES.md not installed"
for exe in "$P"/bin/* "$P"/sbin/*; do
	name=$(basename "$exe")
	out=$("$exe" --version 2>&1) || fail "$name --version: exit $?: $out"
	want="$name $version"
	[ "$name" = dvs-ctl ] && want="dvsctl $version" # a link to dvsctl
	[ "$out" = "$want" ] || fail "$name --version says '$out', want '$want'"
	"$exe" --help >"$T/help.out" 2>"$T/help.err" || fail "$name --help: exit $?"
	[ -s "$T/help.out" ] && [ ! -s "$T/help.err" ] || fail "$name --help does not print on stdout alone"
	rc=0; "$exe" --no-such-option >/dev/null 2>&1 || rc=$?
	[ "$rc" = 2 ] || fail "$name --no-such-option: exit $rc, want 2 (docs/EXIT-CODES.md)"
	page=$(ls "$P"/share/man/man[158]/"$name".[158] 2>/dev/null | head -1)
	if [ -n "$page" ] && [ ! -L "$page" ]; then
		MANWIDTH=200 man -l "$page" 2>/dev/null | grep -q 'EXIT-CODES.md' ||
			fail "the man page of $name does not point to EXIT-CODES.md"
	fi
done

note "systemd units: verify and exposure"
mkdir -p "$T/units"
for u in dvkd.service dvkd.socket dvs-fs@.service; do
	sed "s|$prefix/|$P/|g" "$P/lib/systemd/system/$u" >"$T/units/$u"
done
(cd "$T/units" && systemd-analyze verify --man=no dvkd.socket dvkd.service dvs-fs@data.service) \
	>"$T/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$T/verify.log")"
[ -s "$T/verify.log" ] && fail "systemd-analyze verify warns: $(cat "$T/verify.log")"
for u in dvkd.service dvs-fs@data.service; do
	score=$(cd "$T/units" && systemd-analyze security --offline=yes "$u" 2>&1 |
		awk '/Overall exposure level/ { print $(NF-2) }')
	awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 3.0) }' ||
		fail "$u: exposure $score, want at most 3.0 (systemd-analyze security)"
	echo "$u exposure $score"
done

note "bash completion"
out=$(bash -c '
	. "$1"
	PATH=$2/bin:$PATH
	COMP_WORDS=(dvs c); COMP_CWORD=1; _dvs; echo "${COMPREPLY[*]}"
	COMP_WORDS=(dvs ctl d); COMP_CWORD=2; _dvs; echo "${COMPREPLY[*]}"
	COMP_WORDS=(dvs cluster up --n); COMP_CWORD=3; _dvs; echo "${COMPREPLY[*]}"
' _ "$P/share/bash-completion/completions/dvs" "$P")
sed -n 1p <<<"$out" | grep -q 'ctl' && sed -n 1p <<<"$out" | grep -q 'cluster' &&
	sed -n 1p <<<"$out" | grep -q 'cp' || fail "dvs c<TAB> gave: $(sed -n 1p <<<"$out")"
[ "$(sed -n 2p <<<"$out")" = "dc" ] || fail "dvs ctl d<TAB> gave: $(sed -n 2p <<<"$out")"
grep -qw -- --nodes <<<"$(sed -n 3p <<<"$out")" || fail "dvs cluster up --n<TAB> gave: $(sed -n 3p <<<"$out")"
echo "ok"
