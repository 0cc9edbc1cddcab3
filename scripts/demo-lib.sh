# demo-lib.sh - sourced by demo.sh and demo-cluster.sh: numbered steps,
# commands shown before they run, failures that stop the demo, MB/s.
bold='' norm=''
if [ -t 1 ]; then
	bold=$(tput bold 2>/dev/null || true)
	norm=$(tput sgr0 2>/dev/null || true)
fi
step_no=0
step() {
	step_no=$((step_no + 1))
	printf '\n%s== %d. %s%s\n' "$bold" "$step_no" "$*" "$norm"
}
say() { printf '   %s\n' "$*"; }
run() { # shows the command, then runs it
	printf '   $ %s\n' "$*"
	"$@" 2>&1 | sed 's/^/     /'
	return "${PIPESTATUS[0]}"
}
fail() {
	printf '\n%sdemo FAILED:%s %s\n' "$bold" "$norm" "$*" >&2
	exit 1
}
now() { date +%s.%N; }
mbps() { # mbps BYTES SECONDS
	awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 1e-9; printf "%.1f", b / s / 1e6 }'
}
# secs T0 T1: the seconds between two `now`s
secs() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
