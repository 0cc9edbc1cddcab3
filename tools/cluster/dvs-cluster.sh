#!/usr/bin/env bash
# dvs-cluster - a DVS cluster of several nodes on one machine, for trying
# DVS and for tests (as kind or minikube do for Kubernetes).  See
# docs/CLUSTER.md.
#
# Layout of cluster NAME with nodes 0..N-1:
#   network namespace dvs-NAME-hub   holds the bridge br0 (and nothing else:
#                                    it is joined to no outside network)
#   network namespace dvs-NAME-I     node I: eth0 = 198.18.0.(I+1)/24 on that
#                                    bridge (RFC 2544's test-bed range), its
#                                    own Corosync and its own dvkd
#   /etc/netns/dvs-NAME-I/corosync/  that node's corosync.conf and authkey
#                                    (`ip netns exec` mounts them on
#                                    /etc/corosync)
#   $DVS_RUN_DIR/cluster/NAME/       (default /run/dvs) the cluster file, the
#                                    key, and per node nI/: dvkd.sock, logs,
#                                    pids
# Corosync runs in a private mount namespace with tmpfs on /run and
# /var/lib/corosync (it has no option to move its pid file).
set -uo pipefail

prog="dvs cluster"
version="@VERSION@" # meson's project version, put in at build time
bin=$(cd "$(dirname "$0")" && pwd)
run_root=${DVS_RUN_DIR:-/run/dvs}/cluster
net_prefix=198.18.0
port=7420
max_nodes=16

usage() {
	cat <<EOF
usage: dvs cluster [-v|-q] COMMAND [ARGS]

A DVS cluster of network namespaces on this machine: each node has its own
network (a veth on a private bridge), its own Corosync and its own dvkd.
Needs root.

  up [--nodes N] [--name NAME] [--token MS] [--timeout S]
        build the cluster and return when every node is a member
        (N: 1..$max_nodes, default 3; NAME: default "dvs"; Corosync's token
        timeout MS, default 1000, is the failure-detection time; give up
        after S seconds, default 60)
  exec NAME NODE -- CMD [ARGS]
        run CMD on node NODE (in its network namespace, with DVS_SOCKET set
        to that node's dvkd); its exit status is CMD's
  status [NAME] [--json]
        every cluster (or NAME): nodes, addresses, Corosync and dvkd
        running, what each node's Corosync sees as members
  down NAME | --all
        stop every process of the cluster and remove its namespaces, links
        and files
  link NAME NODE up|down
        connect or cut node NODE's network link (to test failures)
  kill NAME NODE [dvkd|corosync|all] [--signal SIG]
        send SIG (default KILL) to the node's dvkd, Corosync or every
        process in its namespace
  start NAME NODE [dvkd|corosync|all]
        start again what is not running on node NODE (after a kill)
  corosync-conf CLUSTER-FILE --node N [--token MS]
        print the corosync.conf of node N of a cluster file (for real
        machines too; see docs/CLUSTER.md)
  -v, --verbose  say each node's step, and the dvkd it starts logs one
               level more (default info in its log file; again: debug)
  -q, --quiet  say nothing but errors
  -h, --help   this text
  --version    print the version

Exit status: 0 ok, 1 failed (the message says why), 2 bad usage; exec
returns the command's status (docs/EXIT-CODES.md).
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 1
}
usage_error() {
	echo "$prog: $*" >&2
	echo "Try 'dvs cluster --help'." >&2
	exit 2
}
say() { [ -n "${quiet:-}" ] || echo "$*" >&2; }
# -v: what each node does.
say_more() { [ "${verbose:-0}" -eq 0 ] || say "$@"; }

# The log level of the dvkd a node runs (its log file): DVS_LOG, else
# info; each -v one more.
dvkd_log_level() {
	local levels=(error warn info debug) i=2 k
	for k in 0 1 2 3; do [ "${DVS_LOG:-}" = "${levels[k]}" ] && i=$k; done
	i=$((i + ${verbose:-0}))
	[ $i -le 3 ] || i=3
	echo "${levels[i]}"
}

need_root() {
	[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, Corosync)"
}

check_name() {
	[[ $1 =~ ^[a-z0-9]{1,8}$ ]] ||
		usage_error "cluster name '$1': use 1 to 8 lower-case letters or digits"
}

cdir() { printf '%s/%s\n' "$run_root" "$1"; }
ns_of() { printf 'dvs-%s-%s\n' "$1" "$2"; }
node_count() { cat "$(cdir "$1")/nodes" 2>/dev/null; }

check_node() {
	local n
	n=$(node_count "$1") || die "no cluster named '$1' (see: dvs cluster status)"
	[[ $2 =~ ^[0-9]+$ ]] && [ "$2" -lt "$n" ] ||
		usage_error "cluster '$1' has nodes 0 to $((n - 1)), not '$2'"
}

# ---- the cluster file and corosync.conf ------------------------------------

# The cluster file: what every dvkd of the cluster reads (docs/CLUSTER.md).
write_cluster_file() {
	local name=$1 n=$2 dir=$3 i
	{
		echo "# DVS cluster file of the local cluster '$name' (dvs cluster up)"
		echo "cluster $name"
		echo "key $dir/cluster.key"
		echo "port $port"
		for ((i = 0; i < n; i++)); do
			echo "node $i $net_prefix.$((i + 1))"
		done
	} >"$dir/cluster.conf"
}

# corosync.conf for node N of cluster file F; Corosync's node ids start at
# 1, so DVS node i is Corosync node i+1.
corosync_conf() {
	local file=$1 node=$2 token=$3
	awk -v token="$token" -v me="$node" '
		BEGIN { n = 0 }
		$1 == "cluster" { name = $2 }
		$1 == "node" { ids[n] = $2; addrs[n] = $3; n++ }
		END {
			if (name == "" || n == 0) {
				print "cluster file: no cluster or no node line" > "/dev/stderr"
				exit 1
			}
			found = 0
			for (i = 0; i < n; i++) if (ids[i] == me) found = 1
			if (!found) {
				print "cluster file: no node " me > "/dev/stderr"
				exit 1
			}
			print "# corosync.conf for DVS node " me " of cluster " name
			print "# (generated by: dvs cluster corosync-conf)"
			print "totem {"
			print "\tversion: 2"
			print "\tcluster_name: dvs-" name
			print "\ttransport: knet"
			print "\ttoken: " token
			# The token is the failure-detection time; without this each
			# node past two would add 650 ms to it.
			print "\ttoken_coefficient: 0"
			print "\tcrypto_cipher: aes256"
			print "\tcrypto_hash: sha256"
			print "}"
			print "nodelist {"
			for (i = 0; i < n; i++) {
				print "\tnode {"
				print "\t\tnodeid: " ids[i] + 1
				print "\t\tname: n" ids[i]
				print "\t\tring0_addr: " addrs[i]
				print "\t}"
			}
			print "}"
			print "quorum {"
			print "\tprovider: corosync_votequorum"
			if (n == 2) print "\ttwo_node: 1"
			print "}"
			print "logging {"
			print "\tto_stderr: yes"
			print "\tto_syslog: no"
			print "\tto_logfile: no"
			print "\ttimestamp: on"
			print "}"
		}' "$file"
}

# ---- up ---------------------------------------------------------------------

# Members that node I's Corosync sees (0 when it does not answer).
members_seen() {
	ip netns exec "$(ns_of "$1" "$2")" corosync-quorumtool -s 2>/dev/null |
		awk '/^Total votes:/ { print $3; found = 1 } END { if (!found) print 0 }'
}

# dvkd of node I answers, and says how many nodes it sees as members.
dvkd_members() {
	DVS_SOCKET=$(cdir "$1")/n$2/dvkd.sock "$bin/dvsctl" node list 2>/dev/null |
		awk '$3 == "member" { n++ } END { print n + 0 }'
}

# Run first in a node's own mount namespace: it lets go of the host's FUSE
# mounts, whose copies would otherwise live as long as the node and keep
# each one's connection open after the host unmounts it (docs/FUSE.md).
# shellcheck disable=SC2016
DROP_FUSE='for m in $(awk '"'"'{ for (i = 7; $i != "-"; i++); if ($(i + 1) ~ /^fuse/) print $5 }'"'"' /proc/self/mountinfo); do
	umount -l "$(printf "%b" "$m")" 2>/dev/null; done;'

start_corosync() {
	local name=$1 i=$2 dir
	dir=$(cdir "$name")/n$i
	# shellcheck disable=SC2016
	ip netns exec "$(ns_of "$name" "$i")" unshare -m sh -c \
		"$DROP_FUSE"'mount -t tmpfs none /run && mount -t tmpfs none /var/lib/corosync &&
		 exec corosync -f' >>"$dir/corosync.log" 2>&1 &
	echo $! >"$dir/corosync.pid"
	echo $! >>"$dir/started.pids" # for down: the /dev/shm files of each
}

start_dvkd() {
	local name=$1 i=$2 dir
	dir=$(cdir "$name")/n$i
	DVS_LOG=$(dvkd_log_level) ip netns exec "$(ns_of "$name" "$i")" setsid sh -c \
		"$DROP_FUSE"' exec "$@"' sh "$bin/dvkd" \
		--socket "$dir/dvkd.sock" --cluster "$(cdir "$name")/cluster.conf" \
		--node "$i" >>"$dir/dvkd.log" 2>&1 </dev/null &
	echo $! >"$dir/dvkd.pid"
	echo $! >>"$dir/started.pids"
}

cmd_up() {
	local n=3 name=dvs token=1000 timeout=60 i dir t0 ready
	while [ $# -gt 0 ]; do
		case $1 in
		--nodes) n=${2:-}; shift 2 || usage_error "--nodes needs a number" ;;
		--name) name=${2:-}; shift 2 || usage_error "--name needs a name" ;;
		--token) token=${2:-}; shift 2 || usage_error "--token needs ms" ;;
		--timeout) timeout=${2:-}; shift 2 || usage_error "--timeout needs s" ;;
		-h | --help) usage; exit 0 ;;
		*) usage_error "up: unknown argument '$1'" ;;
		esac
	done
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le $max_nodes ] ||
		usage_error "--nodes: 1 to $max_nodes"
	[[ $token =~ ^[0-9]+$ ]] && [ "$token" -ge 100 ] ||
		usage_error "--token: milliseconds, at least 100"
	[[ $timeout =~ ^[0-9]+$ ]] && [ "$timeout" -ge 1 ] ||
		usage_error "--timeout: seconds"
	check_name "$name"
	need_root
	[ -x "$bin/dvkd" ] || die "dvkd not found beside $0 (build first: make)"
	command -v corosync >/dev/null || command -v /usr/sbin/corosync >/dev/null ||
		die "corosync is not installed (apt-get install corosync, or: make)"
	export PATH=$PATH:/usr/sbin:/sbin
	dir=$(cdir "$name")
	if [ -e "$dir" ] || ip netns list | grep -q "^dvs-$name-"; then
		die "a cluster named '$name' exists: remove it with 'dvs cluster down $name'"
	fi
	mkdir -p "$dir" || die "cannot create $dir"
	echo "$n" >"$dir/nodes"
	# From here on, a failure removes whatever was made.
	trap 'echo "$prog: interrupted; removing cluster $name" >&2; quiet=1 cmd_down "$name"; exit 1' INT TERM
	fail() {
		echo "$prog: $*" >&2
		echo "$prog: logs are kept in $dir.failed" >&2
		rm -rf "$dir.failed"
		cp -r "$dir" "$dir.failed" 2>/dev/null
		quiet=1 cmd_down "$name"
		exit 1
	}
	t0=$(date +%s%N)
	say "creating $n nodes of cluster '$name'"
	head -c 32 /dev/urandom >"$dir/cluster.key" && chmod 600 "$dir/cluster.key" ||
		fail "cannot write the cluster key"
	corosync-keygen -l -k "$dir/authkey" >/dev/null 2>&1 ||
		fail "corosync-keygen failed"
	write_cluster_file "$name" "$n" "$dir"
	ip netns add "dvs-$name-hub" || fail "cannot create network namespace dvs-$name-hub"
	ip -n "dvs-$name-hub" link set lo up
	ip -n "dvs-$name-hub" link add br0 type bridge || fail "cannot create the bridge"
	ip -n "dvs-$name-hub" link set br0 up
	for ((i = 0; i < n; i++)); do
		local ns
		ns=$(ns_of "$name" "$i")
		mkdir -p "$dir/n$i" "/etc/netns/$ns/corosync/uidgid.d"
		ip netns add "$ns" || fail "cannot create network namespace $ns"
		ip -n "dvs-$name-hub" link add "v$i" type veth peer name eth0 netns "$ns" ||
			fail "cannot create the link of node $i"
		ip -n "dvs-$name-hub" link set "v$i" master br0 up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$net_prefix.$((i + 1))/24" dev eth0
		ip -n "$ns" link set eth0 up || fail "cannot bring up the link of node $i"
		corosync_conf "$dir/cluster.conf" "$i" "$token" \
			>"/etc/netns/$ns/corosync/corosync.conf" ||
			fail "cannot write the corosync.conf of node $i"
		install -m 400 "$dir/authkey" "/etc/netns/$ns/corosync/authkey"
		say_more "  node $i: namespace $ns, address $net_prefix.$((i + 1))"
	done
	say "starting Corosync and dvkd on every node"
	for ((i = 0; i < n; i++)); do
		start_corosync "$name" "$i"
		start_dvkd "$name" "$i"
		say_more "  node $i: Corosync (pid $(cat "$dir/n$i/corosync.pid")), dvkd (pid $(cat "$dir/n$i/dvkd.pid"), log $dir/n$i/dvkd.log)"
	done
	# Ready when every dvkd answers and sees every node as a member.
	while :; do
		ready=0
		for ((i = 0; i < n; i++)); do
			alive "$dir/n$i/corosync.pid" ||
				fail "Corosync of node $i exited: $(tail -n 3 "$dir/n$i/corosync.log")"
			alive "$dir/n$i/dvkd.pid" ||
				fail "dvkd of node $i exited: $(tail -n 3 "$dir/n$i/dvkd.log")"
			[ "$(dvkd_members "$name" "$i")" = "$n" ] && ready=$((ready + 1))
		done
		[ "$ready" -eq "$n" ] && break
		if [ $((($(date +%s%N) - t0) / 1000000000)) -ge "$timeout" ]; then
			fail "only $ready of $n nodes saw every node as a member after ${timeout} s"
		fi
		sleep 0.1
	done
	trap - INT TERM
	say "cluster '$name' is up: $n nodes, all members ($((($(date +%s%N) - t0) / 1000000)) ms)"
	say "  dvs cluster exec $name 0 -- dvs ctl node list"
	say "  dvs cluster down $name"
}

# ---- exec, status, link, kill -----------------------------------------------

cmd_exec() {
	local name=${1:-} node=${2:-}
	[ -n "$name" ] && [ -n "$node" ] || usage_error "exec NAME NODE -- CMD"
	shift 2
	[ "${1:-}" = -- ] && shift
	[ $# -ge 1 ] || usage_error "exec: no command"
	check_node "$name" "$node"
	need_root
	exec ip netns exec "$(ns_of "$name" "$node")" env \
		DVS_SOCKET="$(cdir "$name")/n$node/dvkd.sock" DVS_NODE="$node" \
		DVS_CLUSTER_NAME="$name" PATH="$bin:$PATH" "$@"
}

# The process of pid file F runs (a zombie that init has not reaped yet
# does not count).
alive() {
	local st
	[ -s "$1" ] || return 1
	st=$(ps -o stat= -p "$(cat "$1")" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

# --json: one array, one object per cluster, made by jq (--arg and
# --argjson do the quoting: DVS_RUN_DIR may hold any byte a path can).
cmd_status() {
	local json=0 names=() name i n dir clusters=() nodes
	while [ $# -gt 0 ]; do
		case $1 in
		--json) json=1 ;;
		-*) usage_error "status: unknown option '$1'" ;;
		*) names+=("$1") ;;
		esac
		shift
	done
	[ $json -eq 0 ] || command -v jq >/dev/null ||
		die "status --json needs jq (apt-get install jq)"
	if [ ${#names[@]} -eq 0 ]; then
		for dir in "$run_root"/*/; do
			name=$(basename "$dir")
			[[ $name =~ ^[a-z0-9]{1,8}$ ]] && [ -f "$dir/nodes" ] && names+=("$name")
		done
	fi
	for name in "${names[@]}"; do
		check_name "$name"
		n=$(node_count "$name") || die "no cluster named '$name'"
		[[ $n =~ ^[0-9]+$ ]] || die "cluster '$name': bad node count in $(cdir "$name")/nodes"
		dir=$(cdir "$name")
		if [ $json -eq 0 ]; then
			echo "cluster $name: $n nodes"
			printf '  %-5s %-14s %-9s %-9s %s\n' NODE ADDRESS COROSYNC DVKD MEMBERS
		fi
		nodes=()
		for ((i = 0; i < n; i++)); do
			local cs=down dk=down seen=0
			alive "$dir/n$i/corosync.pid" && cs=running
			alive "$dir/n$i/dvkd.pid" && dk=running
			[ $cs = running ] && seen=$(members_seen "$name" "$i")
			[[ $seen =~ ^[0-9]+$ ]] || seen=0
			if [ $json -eq 1 ]; then
				nodes+=("$(jq -cn --argjson node "$i" \
					--arg address "$net_prefix.$((i + 1))" --arg corosync "$cs" \
					--arg dvkd "$dk" --argjson members_seen "$seen" \
					--arg socket "$dir/n$i/dvkd.sock" \
					'{node: $node, address: $address, corosync: $corosync,
					  dvkd: $dvkd, members_seen: $members_seen, socket: $socket}')") ||
					die "status --json: jq failed"
			else
				printf '  %-5s %-14s %-9s %-9s %s\n' "$i" "$net_prefix.$((i + 1))" "$cs" "$dk" "$seen"
			fi
		done
		if [ $json -eq 1 ]; then
			# (printf with no argument writes one empty line: [])
			clusters+=("$(printf '%s\n' ${nodes[@]+"${nodes[@]}"} |
				jq -cs --arg name "$name" '{name: $name, nodes: .}')") ||
				die "status --json: jq failed"
		fi
	done
	if [ $json -eq 1 ]; then
		printf '%s\n' ${clusters[@]+"${clusters[@]}"} | jq -cs . ||
			die "status --json: jq failed"
	fi
	[ ${#names[@]} -gt 0 ] || [ $json -eq 1 ] || echo "no cluster (make one: dvs cluster up)"
	return 0
}

cmd_link() {
	local name=${1:-} node=${2:-} how=${3:-}
	[ "$how" = up ] || [ "$how" = down ] || usage_error "link NAME NODE up|down"
	check_node "$name" "$node"
	need_root
	ip -n "dvs-$name-hub" link set "v$node" "$how" || die "cannot set the link $how"
}

cmd_kill() {
	local name=${1:-} node=${2:-} what=all sig=KILL dir
	[ -n "$name" ] && [ -n "$node" ] || usage_error "kill NAME NODE [dvkd|corosync|all]"
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		dvkd | corosync | all) what=$1 ;;
		--signal) sig=${2:-}; shift ;;
		*) usage_error "kill: unknown argument '$1'" ;;
		esac
		shift
	done
	check_node "$name" "$node"
	need_root
	dir=$(cdir "$name")/n$node
	case $what in
	dvkd | corosync) alive "$dir/$what.pid" || die "the $what of node $node is not running"
		kill -s "$sig" "$(cat "$dir/$what.pid")" ;;
	all) ip netns pids "$(ns_of "$name" "$node")" | xargs -r kill -s "$sig" ;;
	esac
}

cmd_start() {
	local name=${1:-} node=${2:-} what=${3:-all} dir
	[ -n "$name" ] && [ -n "$node" ] || usage_error "start NAME NODE [dvkd|corosync|all]"
	case $what in dvkd | corosync | all) ;; *) usage_error "start: dvkd, corosync or all" ;; esac
	check_node "$name" "$node"
	need_root
	export PATH=$PATH:/usr/sbin:/sbin
	dir=$(cdir "$name")/n$node
	if [ "$what" != dvkd ] && ! alive "$dir/corosync.pid"; then
		start_corosync "$name" "$node"
	fi
	if [ "$what" != corosync ] && ! alive "$dir/dvkd.pid"; then
		start_dvkd "$name" "$node"
	fi
	return 0
}

# ---- down -------------------------------------------------------------------

cmd_down() {
	local name=${1:-} n i ns pids dir p
	[ -n "$name" ] || usage_error "down NAME (or --all)"
	if [ "$name" = --all ]; then
		for ns in $(ip netns list | awk '$1 ~ /^dvs-[a-z0-9]+-hub$/ { print $1 }'); do
			name=${ns#dvs-}
			cmd_down "${name%-hub}"
		done
		return 0
	fi
	check_name "$name"
	need_root
	dir=$(cdir "$name")
	# The namespaces say what exists, even if the run directory is gone.
	for ns in $(ip netns list | awk -v p="dvs-$name-" 'index($1, p) == 1 { print $1 }'); do
		pids=$(ip netns pids "$ns")
		if [ -n "$pids" ]; then
			# dvkd first, gently, so that its peers see a clean leave.
			kill -TERM $pids 2>/dev/null
			for i in $(seq 20); do
				[ -n "$(ip netns pids "$ns")" ] || break
				sleep 0.05
			done
			ip netns pids "$ns" | xargs -r kill -KILL 2>/dev/null
		fi
		# libqb's IPC directories (qb-SERVER-CLIENT-*, the server being
		# Corosync) and Corosync's flight recorder stay in /dev/shm
		# after a kill: those of every process the node ran, including
		# one killed and restarted before (dvs cluster kill / start).
		for p in $pids $(cat "$dir/n${ns#dvs-"$name"-}/started.pids" 2>/dev/null); do
			[[ $p =~ ^[0-9]+$ ]] || continue
			rm -rf /dev/shm/qb-"$p"-* /dev/shm/qb-*-"$p"-* 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	rm -rf "$dir"
	say "cluster '$name' removed"
}

# ---- main -------------------------------------------------------------------

verbose=0
while [ $# -gt 0 ]; do
	case $1 in
	-v | --verbose) verbose=$((verbose + 1)) ;;
	-q | --quiet) quiet=1 ;;
	*) break ;;
	esac
	shift
done
cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
up) cmd_up "$@" ;;
exec) cmd_exec "$@" ;;
status) cmd_status "$@" ;;
down) cmd_down "$@" ;;
link) cmd_link "$@" ;;
kill) cmd_kill "$@" ;;
start) cmd_start "$@" ;;
corosync-conf)
	file=${1:-} node='' token=1000
	[ -n "$file" ] || usage_error "corosync-conf CLUSTER-FILE --node N"
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--node) node=${2:-}; shift 2 || usage_error "--node needs a number" ;;
		--token) token=${2:-}; shift 2 || usage_error "--token needs ms" ;;
		*) usage_error "corosync-conf: unknown argument '$1'" ;;
		esac
	done
	[ -r "$file" ] || die "cannot read the cluster file $file"
	[[ $node =~ ^[0-9]+$ ]] || usage_error "corosync-conf: --node N"
	corosync_conf "$file" "$node" "$token" || exit 1
	;;
-h | --help) usage ;;
--version) echo "dvs-cluster $version" ;;
"") usage >&2; exit 2 ;;
*) usage_error "unknown command '$cmd'" ;;
esac
