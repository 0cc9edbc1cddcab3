#!/usr/bin/env bash
# Installs the Debian packages DVS needs to build, test and benchmark.
# As root it runs apt-get for whatever is missing; otherwise it prints the
# exact command to run and fails, so nothing is ever installed behind a
# user's back.
set -euo pipefail

pkgs=(
	# build
	gcc clang meson ninja-build pkg-config make clang-format clang-tidy scdoc
	# packaging (tests/install builds the Debian packages)
	debhelper dpkg-dev fakeroot lintian
	# libraries
	libfuse3-dev libcpg-dev libvotequorum-dev libext2fs-dev libssl-dev
	libzstd-dev liblz4-dev zlib1g-dev liblzo2-dev libcmocka-dev libsystemd-dev
	libblkid-dev libjson-c-dev
	libclang-rt-14-dev
	# run time and tests
	fuse3 corosync dosfstools mtools e2fsprogs iproute2 util-linux
	procps diffutils mount bsdutils python3 jq
	# baselines the benchmarks compare against
	fusefat fuse2fs bindfs rsync zsync casync debootstrap openssl
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "DVS needs these Debian packages, which are not installed:" >&2
	echo "  ${missing[*]}" >&2
	echo "Install them with:" >&2
	echo "  sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
