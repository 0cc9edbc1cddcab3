#!/usr/bin/env bash
# The Debian packages as a packager builds them: dpkg-buildpackage from a
# copy of the tracked tree, lintian with no error or warning, the packages
# unpacked into an empty root, and a program built there with `pkg-config
# dvk` running against the packaged dvkd.
. "$(dirname "$0")/lib.sh"
DVSCTL=$R/usr/bin/dvsctl

note "dpkg-buildpackage -b -us -uc"
mkdir -p "$T/src"
(cd "$DVS_SRC" && git ls-files -co --exclude-standard | tar -cf - -T -) | tar -xf - -C "$T/src"
(cd "$T/src" && dpkg-buildpackage -b -us -uc) >"$T/build.log" 2>&1 ||
	fail "dpkg-buildpackage: $(tail -20 "$T/build.log")"
for p in dvs libdvk0 libdvsfs0 libdvs-dev; do
	[ -f "$T/${p}_"*"_"*.deb ] || fail "package $p not built"
done

note "lintian"
lintian --fail-on error,warning --tag-display-limit 0 "$T"/*.changes >"$T/lintian.log" 2>&1 ||
	fail "lintian: $(grep -v 'root privileges' "$T/lintian.log")"

note "the packages in an empty root"
for d in "$T"/*.deb; do
	case $d in *dbgsym*) continue ;; esac
	dpkg-deb -x "$d" "$R"
done
for f in usr/sbin/dvkd usr/bin/dvsctl usr/bin/dvs usr/bin/dvs-cluster usr/include/dvs/ipc.h \
	lib/systemd/system/dvkd.service lib/systemd/system/dvkd.socket \
	usr/share/man/man8/dvkd.8.gz usr/share/bash-completion/completions/dvs; do
	[ -e "$R/$f" ] || fail "$f is in no package"
done
LIB=$(dirname "$(find "$R/usr/lib" -name libdvk.so.0 | head -1)")
grep -q '^ExecStart=/usr/sbin/dvkd' "$R/lib/systemd/system/dvkd.service" ||
	fail "dvkd.service does not run /usr/sbin/dvkd"
export PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_PATH=$LIB/pkgconfig
cc -Wall -Werror -o "$T/hello" "$DVS_SRC/tests/install/hello_dvk.c" \
	$(pkg-config --cflags --libs dvk) -pthread || fail "cannot build against libdvs-dev"
"$R/usr/bin/dvsctl" start >/dev/null || fail "the packaged dvsctl cannot start the packaged dvkd"
"$R/usr/bin/dvsctl" dc create 1 >/dev/null
out=$(LD_LIBRARY_PATH=$LIB "$R/usr/bin/dvsctl" run --dc 1 --ep 10-11 -- "$T/hello") ||
	fail "hello failed: $out"
[ "$out" = "hello from endpoint 10: type 42" ] || fail "hello said: $out"
echo "ok"
