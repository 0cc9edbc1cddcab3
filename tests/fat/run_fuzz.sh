#!/usr/bin/env bash
# Runs the FAT fuzz target for a bounded time on a seed corpus of small
# images made here with dvs-fat (FAT12, FAT16, FAT32, with files, long
# names and directories).  usage: run_fuzz.sh FUZZER SECONDS
set -euo pipefail
fuzzer=$1 secs=$2
FAT=${DVS_BIN:?}/dvs-fat
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir "$T/corpus"
echo "some file content" > "$T/f"
mk() {
	local name=$1; shift
	$FAT mkfs "$@" "$T/corpus/$name" > /dev/null
	$FAT mkdir "$T/corpus/$name:/Sub Directory"
	$FAT put "$T/f" "$T/corpus/$name:/short.txt"
	$FAT put "$T/f" "$T/corpus/$name:/Sub Directory/A long name ünïcödé.txt"
}
mk fat12.img -F 12 -s 64K
mk fat12-1k.img -F 12 -c 1024 -s 128K
mk fat16.img -F 16 -c 512 -s 2200K
mk fat32.img -F 32 -c 512 -s 1M
# -error_exitcode: libFuzzer exits 77 on a crash, which meson counts as a skip.
exec "$fuzzer" -max_total_time="$secs" -max_len=4194304 -rss_limit_mb=1024 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-timeout=10 "$T/corpus"
