#!/usr/bin/env bash
# Gathers every program of a build directory into BUILD/bin, so users and
# tests find them as build/bin/<name>.  Meson keeps each program in its
# source folder's build folder; this only makes symbolic links.
set -euo pipefail
build=${1:-build}
mkdir -p "$build/bin"
for dir in daemon servers tools; do
	[ -d "$build/$dir" ] || continue
	find "$build/$dir" -type f -perm -u+x \( -name 'dvs*' -o -name dvkd \) \
		! -name '*.so' ! -name '*.p' -print
done | while read -r f; do
	ln -sf "$(realpath "$f")" "$build/bin/$(basename "$f")"
done
# git-style names for programs that also have a short name of their own.
[ -e "$build/bin/dvsctl" ] && ln -sf dvsctl "$build/bin/dvs-ctl"
exit 0
