# dvs-mount-common.sh - shell code shared by dvs-mount and dvs-umount (a
# file to source, not a program).  The caller sets $prog first.

die() {
	echo "$prog: $*" >&2
	exit 1
}

# Where run directories go: $DVS_RUN_DIR, else /run/dvs for root, else
# $XDG_RUNTIME_DIR/dvs or /tmp/dvs.
run_root() {
	local root=${DVS_RUN_DIR:-}
	if [ -z "$root" ]; then
		if [ -w /run/dvs ] || { [ ! -e /run/dvs ] && [ -w /run ]; }; then
			root=/run/dvs
		else
			root=${XDG_RUNTIME_DIR:-/tmp}/dvs
		fi
	fi
	printf '%s\n' "$root"
}

# The run directory of the dvs mount on a (resolved) mountpoint.
run_dir_of() {
	local key
	key=$(printf '%s' "$1" | sha256sum | cut -c1-16)
	printf '%s/mount-%s\n' "$(run_root)" "$key"
}
