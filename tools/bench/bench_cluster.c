/*
 * bench_cluster.c - `dvs-bench cluster`: a local cluster of three nodes
 * (`dvs cluster up`), with the baselines measured between the same two
 * network namespaces (nodes 0 and 1) in the same run: a plain TCP
 * ping-pong and a plain TCP stream.  IPC across nodes 0 and 1 runs between
 * dvs-bench-peer processes of one DC over both (bench_peer.c), beside the
 * same calls between two processes of node 0 (local_rtt_us).  Then `dvs
 * cp` in scenarios A1, C1 and D (cluster_cp.sh), the failure-detection
 * time, and the RSS of one dvkd of an 8-node cluster.
 */
#include <stdarg.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define CB_PORT 7599
#define CB_MSG 64
#define CB_CHUNK (1024 * 1024)

struct cb {
	char bin[PATH_MAX / 2];
	char name[16];
	char run_dir[PATH_MAX / 2];
	int runs;
	int rss_nodes;
	int token_ms;
	int mib;
};

static void
usage(void)
{
	printf("usage: dvs-bench [--json] cluster [--runs N] [--rss-nodes N] [--token MS]\n"
	       "                 [--mib N]\n"
	       "\n"
	       "Builds a 3-node local cluster (dvs cluster up; needs root) and measures,\n"
	       "between nodes 0 and 1: a 64-byte TCP ping-pong (tcp_rtt_us) and a TCP\n"
	       "stream of 1 MiB writes (tcp_stream_gbps), the baselines of the remote\n"
	       "IPC figures (remote_rtt_us, remote_oneway_msgs_per_s,\n"
	       "remote_sendrec_per_s, remote_vcopy_1m_gbps); dvs cp of an N MiB file\n"
	       "(default 256) in scenarios A1 (all on node 0), C1 (dvs-fs on node 1)\n"
	       "and D (dvs-fs on node 1, dvs-vdd on node 2); the time from killing\n"
	       "every process of node 1 to a caller on node 0 waiting on it getting\n"
	       "an error (failover_detect_ms, with Corosync's token of MS, default\n"
	       "1000); then the RSS of one dvkd in an N-node cluster (default 8).\n"
	       "\n"
	       "  --runs N        rounds of each measurement; medians (default 5)\n");
}

/* Runs dvs-cluster with args; its stdout and stderr go to stderr. */
static int
cluster(const struct cb *b, const char *const *args)
{
	char prog[PATH_MAX];
	const char *argv[16];
	pid_t pid;
	int st, i, n = 0;

	snprintf(prog, sizeof(prog), "%s/dvs-cluster", b->bin);
	argv[n++] = prog;
	for (i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(2, 1);
		setenv("DVS_RUN_DIR", b->run_dir, 1);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static int
cluster_up(const struct cb *b, int nodes)
{
	char n[16], t[16];
	const char *args[] = { "up", "--nodes", n, "--name", b->name, "--token", t, NULL };

	snprintf(n, sizeof(n), "%d", nodes);
	snprintf(t, sizeof(t), "%d", b->token_ms);
	return cluster(b, args);
}

static void
cluster_down(const struct cb *b)
{
	const char *args[] = { "down", b->name, NULL };

	cluster(b, args);
}

/* Moves the calling (single-threaded) process into node's namespace. */
static int
enter_node(const struct cb *b, int node)
{
	char path[128];
	int fd, rc;

	snprintf(path, sizeof(path), "/run/netns/dvs-%s-%d", b->name, node);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int
full_io(int fd, void *buf, size_t len, int wr)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = wr ? write(fd, (char *)buf + done, len - done) :
				 read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Node 1: accepts one connection; echoes 64-byte messages (mode 'p') or
 * reads and drops everything (mode 's'). */
static void
server(const struct cb *b, int ready_fd, char mode)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(CB_PORT) };
	static char buf[CB_CHUNK];
	int ls, fd, one = 1;

	if (enter_node(b, 1) < 0)
		_exit(1);
	inet_pton(AF_INET, "198.18.0.2", &sa.sin_addr);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0)
		_exit(1);
	if (write(ready_fd, "R", 1) != 1)
		_exit(1);
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		_exit(1);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (mode == 'p') {
		while (full_io(fd, buf, CB_MSG, 0) == 0)
			if (full_io(fd, buf, CB_MSG, 1) < 0)
				break;
	} else {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	}
	_exit(0);
}

/*
 * One TCP measurement between node 0 (client, this child) and node 1:
 * mode 'p' returns the median round trip in us of rounds of 2,000
 * ping-pongs; mode 's' the GB/s of 1 GiB written in 1 MiB writes.
 */
static double
tcp_measure(const struct cb *b, char mode, int runs)
{
	int rp[2], vp[2];
	pid_t srv, cli;
	double v = NAN;
	char c;

	if (pipe(rp) < 0 || pipe(vp) < 0)
		return NAN;
	srv = fork();
	if (srv == 0) {
		close(rp[0]);
		server(b, rp[1], mode);
	}
	close(rp[1]);
	if (srv < 0 || read(rp[0], &c, 1) != 1) {
		close(rp[0]);
		return NAN;
	}
	close(rp[0]);
	cli = fork();
	if (cli == 0) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(CB_PORT) };
		static char buf[CB_CHUNK];
		double res[64], out;
		int fd, one = 1, r, i;

		if (enter_node(b, 0) < 0)
			_exit(1);
		inet_pton(AF_INET, "198.18.0.2", &sa.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(1);
		memset(buf, 'x', sizeof(buf));
		for (r = 0; r < runs && r < 64; r++) {
			uint64_t t0 = dvs_now_ns();

			if (mode == 'p') {
				for (i = 0; i < 2000; i++)
					if (full_io(fd, buf, CB_MSG, 1) < 0 ||
					    full_io(fd, buf, CB_MSG, 0) < 0)
						_exit(1);
				res[r] = (double)(dvs_now_ns() - t0) / 1e3 / 2000;
			} else {
				for (i = 0; i < 1024; i++)
					if (full_io(fd, buf, CB_CHUNK, 1) < 0)
						_exit(1);
				res[r] = 1024.0 * CB_CHUNK / (double)(dvs_now_ns() - t0);
			}
		}
		out = bench_median(res, (size_t)r);
		if (write(vp[1], &out, sizeof(out)) != sizeof(out))
			_exit(1);
		_exit(0);
	}
	close(vp[1]);
	if (cli > 0 && read(vp[0], &v, sizeof(v)) != sizeof(v))
		v = NAN;
	close(vp[0]);
	if (cli > 0)
		waitpid(cli, NULL, 0);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	return v;
}

/* Runs a shell command line (with our run directory); the sum of the
 * numbers its output lines start with, the number of such lines in *n. */
static double sh_sum(const struct cb *b, int *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static double
sh_sum(const struct cb *b, int *n, const char *fmt, ...)
{
	char cmd[16 * PATH_MAX], line[256];
	double sum = 0;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	setenv("DVS_RUN_DIR", b->run_dir, 1);
	*n = 0;
	f = popen(cmd, "r");
	if (f == NULL)
		return NAN;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *end;
		double v = strtod(line, &end);

		if (end != line) {
			sum += v;
			(*n)++;
		} else {
			fprintf(stderr, "dvs-bench cluster: %s", line);
		}
	}
	pclose(f);
	return sum;
}

/* "dvs-cluster exec NAME NODE -- dvsctl run --dc 1 --ep EP -- dvs-bench-peer" */
static void
peer_cmd(const struct cb *b, char *out, size_t len, int node, const char *ep)
{
	snprintf(out, len,
		 "%s/dvs-cluster exec %s %d -- %s/dvsctl run --dc 1 --ep %s -- %s/dvs-bench-peer",
		 b->bin, b->name, node, b->bin, ep, b->bin);
}

struct ipc_figs {
	double local_rtt, rtt, oneway, sendrec, vcopy;
};

/* DC 1 over nodes 0 and 1; servers on node 1 (ep 20, and 21..36 for the
 * 16 clients); the figures are medians of runs. */
static void
ipc_measure(const struct cb *b, struct ipc_figs *o)
{
	double v[64];
	char srv[4 * PATH_MAX], cli[4 * PATH_MAX];
	int i, n;

	o->local_rtt = o->rtt = o->oneway = o->sendrec = o->vcopy = NAN;
	if (isnan(sh_sum(b, &n, "%s/dvs-cluster exec %s 0 -- %s/dvsctl dc create 1 --nodes 0,1 "
			 "--endpoints 64 >&2", b->bin, b->name, b->bin)))
		return;
	peer_cmd(b, srv, sizeof(srv), 1, "$e");
	sh_sum(b, &n, "for e in $(seq 20 36); do %s serve $e >/dev/null 2>&1 & done", srv);
	peer_cmd(b, srv, sizeof(srv), 0, "19");
	sh_sum(b, &n, "%s serve 19 >/dev/null 2>&1 &", srv);
	peer_cmd(b, cli, sizeof(cli), 0, "10");
	for (i = 0; i < b->runs; i++)
		v[i] = sh_sum(b, &n, "%s rtt 10 20 20000", cli);
	o->rtt = bench_median(v, b->runs);
	for (i = 0; i < b->runs; i++)
		v[i] = sh_sum(b, &n, "%s rtt 10 19 20000", cli);
	o->local_rtt = bench_median(v, b->runs);
	for (i = 0; i < b->runs; i++)
		v[i] = sh_sum(b, &n, "%s oneway 10 20 200000", cli);
	o->oneway = bench_median(v, b->runs);
	for (i = 0; i < b->runs; i++)
		v[i] = sh_sum(b, &n, "%s vcbench 10 20 200", cli);
	o->vcopy = bench_median(v, b->runs);
	peer_cmd(b, cli, sizeof(cli), 0, "$((40 + i))");
	for (i = 0; i < b->runs; i++) {
		v[i] = sh_sum(b, &n, "for i in $(seq 0 15); do %s load $((40 + i)) $((21 + i)) 3000 & "
			      "done; wait", cli) / 3.0;
		if (n != 16)
			v[i] = NAN;
	}
	o->sendrec = bench_median(v, b->runs);
}

/* A caller on node 0 waits on a server of node 1 that never answers;
 * every process of node 1 is killed, its dvkd and Corosync first (so that
 * the server's death is not announced): the ms until the caller's
 * sendrec fails (the node-down error), or NAN. */
static double
failover_ms(const struct cb *b)
{
	char srv[4 * PATH_MAX], cli[4 * PATH_MAX];
	int n;

	peer_cmd(b, srv, sizeof(srv), 1, "37");
	peer_cmd(b, cli, sizeof(cli), 0, "11");
	sh_sum(b, &n, "%s serve 37 >/dev/null 2>&1 &", srv);
	return sh_sum(b, &n,
		      "%s hang 11 37 60000 >/dev/null 2>&1 & c=$!; sleep 1; "
		      "t0=$(date +%%s%%N); for w in dvkd corosync all; do "
		      "%s/dvs-cluster kill %s 1 $w >/dev/null 2>&1; done; "
		      "if wait $c; then echo 'the call did not fail'; "
		      "else echo $(( ($(date +%%s%%N) - t0) / 1000000 )); fi",
		      cli, b->bin, b->name);
}

/* The dvs cp scenarios A1, C1 and D (cluster_cp.sh) in DC 2 over nodes
 * 0, 1 and 2: MB/s into and out of the volume. */
struct cp_figs {
	double w[3], r[3]; /* a1, c1, d */
};

static void
cp_measure(const struct cb *b, int mib, struct cp_figs *o)
{
	static const char *names[] = { "a1", "c1", "d" };
	char cmd[4 * PATH_MAX], line[256], tmp[PATH_MAX];
	FILE *f;
	int i;

	for (i = 0; i < 3; i++)
		o->w[i] = o->r[i] = NAN;
	snprintf(tmp, sizeof(tmp), "%s/cp", b->run_dir);
	if (mkdir(tmp, 0700) < 0)
		return;
	snprintf(cmd, sizeof(cmd),
		 "%s/dvs-cluster exec %s 0 -- %s/dvsctl dc create 2 --nodes 0,1,2 "
		 "--endpoints 128 >&2 && %s/dvs-bench-cluster-cp %s %s 2 %d %d %s",
		 b->bin, b->name, b->bin, b->bin, b->bin, b->name, mib, b->runs, tmp);
	setenv("DVS_RUN_DIR", b->run_dir, 1);
	f = popen(cmd, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char name[8];
		double w, r;

		if (sscanf(line, "%7s %lf %lf", name, &w, &r) != 3)
			continue;
		for (i = 0; i < 3; i++) {
			if (strcmp(name, names[i]) == 0) {
				o->w[i] = w;
				o->r[i] = r;
			}
		}
	}
	pclose(f);
	rmdir(tmp);
}

static const char *
ratio_target(char *buf, size_t len, double v, double base, double want)
{
	if (!isfinite(v) || !isfinite(base) || base <= 0)
		return "not measured";
	snprintf(buf, len, "%s (%.2fx, target >= %.1fx)", v / base >= want ? "met" : "not met",
		 v / base, want);
	return buf;
}

static long
dvkd_rss(const struct cb *b)
{
	char path[PATH_MAX];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "%s/cluster/%s/n0/dvkd.pid", b->run_dir, b->name);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 0 ? bench_rss_kib(pid) : -1;
}

int
bench_cluster_main(struct bench_report *r, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "rss-nodes", required_argument, NULL, 'n' },
		{ "token", required_argument, NULL, 't' },
		{ "mib", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cb b = { .runs = 5, .rss_nodes = 8, .token_ms = 1000, .mib = 256 };
	char tmpl[] = "/tmp/dvs-bench-cluster.XXXXXX";
	double rtt, stream, fo;
	struct ipc_figs ipc;
	struct cp_figs cp;
	char t1[96];
	long rss = -1, v;
	char note[128];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (bench_num("cluster", "runs", optarg, 1, 64, &v) != 0)
				return 2;
			b.runs = (int)v;
			break;
		case 'n':
			if (bench_num("cluster", "rss-nodes", optarg, 2, 16, &v) != 0)
				return 2;
			b.rss_nodes = (int)v;
			break;
		case 't':
			if (bench_num("cluster", "token", optarg, 100, 3600000, &v) != 0)
				return 2;
			b.token_ms = (int)v;
			break;
		case 'm':
			if (bench_num("cluster", "mib", optarg, 1, 4096, &v) != 0)
				return 2;
			b.mib = (int)v;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (b.runs < 1 || b.runs > 64 || b.rss_nodes < 2 || b.rss_nodes > 16 ||
	    b.token_ms < 100 || b.mib < 1 || b.mib > 4096) {
		fprintf(stderr, "dvs-bench cluster: --runs 1..64, --rss-nodes 2..16, --token >= 100, "
				"--mib 1..4096\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "dvs-bench cluster: needs root (network namespaces)\n");
		return 1;
	}
	bench_bin_dir(b.bin, sizeof(b.bin));
	if (mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(b.run_dir, sizeof(b.run_dir), "%s", tmpl);
	snprintf(b.name, sizeof(b.name), "b%d", (int)(getpid() % 10000000));

	bench_progress("cluster: 3 nodes up\n");
	if (cluster_up(&b, 3) < 0) {
		fprintf(stderr, "dvs-bench cluster: dvs cluster up failed\n");
		return 1;
	}
	bench_progress("cluster: TCP baselines\n");
	rtt = tcp_measure(&b, 'p', b.runs);
	stream = tcp_measure(&b, 's', b.runs);
	bench_progress("cluster: IPC across the nodes\n");
	ipc_measure(&b, &ipc);
	bench_progress("cluster: dvs cp, scenarios A1, C1, D\n");
	cp_measure(&b, b.mib, &cp);
	bench_progress("cluster: failure detection\n");
	fo = failover_ms(&b);
	cluster_down(&b);

	bench_progress("cluster: %d nodes up for the RSS\n", b.rss_nodes);
	if (cluster_up(&b, b.rss_nodes) == 0) {
		char nodes[64] = "0";
		int k, n;

		for (k = 1; k < b.rss_nodes; k++)
			snprintf(nodes + strlen(nodes), sizeof(nodes) - strlen(nodes), ",%d", k);
		/* A DC over all of them, with an endpoint bound on each. */
		sh_sum(&b, &n, "%s/dvs-cluster exec %s 0 -- %s/dvsctl dc create 1 --nodes %s "
			       "--endpoints 256 >&2", b.bin, b.name, b.bin, nodes);
		for (k = 0; k < b.rss_nodes; k++) {
			char srv[4 * PATH_MAX], ep[16];

			snprintf(ep, sizeof(ep), "%d", 20 + k);
			peer_cmd(&b, srv, sizeof(srv), k, ep);
			sh_sum(&b, &n, "%s serve %d >/dev/null 2>&1 &", srv, 20 + k);
		}
		sleep(2);
		rss = dvkd_rss(&b);
	}
	cluster_down(&b);
	rmdir(tmpl);

	bench_report_add(r, "tcp_rtt_us", rtt, "us", "64-byte TCP ping-pong, node 0 <-> 1");
	bench_report_add(r, "remote_rtt_us", ipc.rtt, "us",
			 "64-byte sendrec node 0 -> 1, lock-step, median of 20000");
	bench_report_add(r, "local_rtt_us", ipc.local_rtt, "us",
			 "the same between two processes of node 0 (through the same dvkd)");
	bench_report_add(r, "remote_oneway_msgs_per_s", ipc.oneway, "msg/s",
			 "one sender, 200000 sends of 64 bytes node 0 -> 1, all checked in order");
	bench_report_add(r, "remote_sendrec_per_s", ipc.sendrec, "req/s",
			 "16 clients on node 0, one server process each on node 1, 3 s");
	bench_report_add(r, "tcp_stream_gbps", stream, "GB/s", "one TCP stream, 1 MiB writes");
	bench_report_add(r, "remote_vcopy_1m_gbps", ipc.vcopy, "GB/s",
			 "node 1's server copies 1 MiB from a grant of node 0, 200 times");
	snprintf(note, sizeof(note), "dvs cp of %d MiB into the volume, all on node 0", b.mib);
	bench_report_add(r, "a1_write_mbps", cp.w[0], "MB/s", note);
	bench_report_add(r, "a1_read_mbps", cp.r[0], "MB/s", "dvs cp out, cold servers, compared");
	bench_report_add(r, "c1_write_mbps", cp.w[1], "MB/s", "dvs cp on node 0, dvs-fs on node 1");
	bench_report_add(r, "c1_read_mbps", cp.r[1], "MB/s", "the same, out");
	bench_report_add(r, "d_write_mbps", cp.w[2], "MB/s",
			 "dvs cp on node 0, dvs-fs on node 1, dvs-vdd on node 2");
	bench_report_add(r, "d_read_mbps", cp.r[2], "MB/s", "the same, out");
	snprintf(note, sizeof(note),
		 "kill -9 of node 1 -> a caller on node 0 waiting on it gets an error; token %d ms",
		 b.token_ms);
	bench_report_add(r, "failover_detect_ms", fo, "ms", note);
	snprintf(note, sizeof(note),
		 "node 0's dvkd in a %d-node cluster, a DC over all, an endpoint bound on each",
		 b.rss_nodes);
	bench_report_add(r, "dvkd_rss_kib", rss < 0 ? NAN : (double)rss, "KiB", note);
	bench_report_add(r, "token_ms", b.token_ms, "ms", "Corosync token timeout");
	bench_report_add_str(r, "remote_rtt_target",
			     !isfinite(ipc.rtt) ? "not measured" :
			     ipc.rtt <= 1.5 * rtt ? "met (<= 1.5x tcp_rtt_us)" : "not met (> 1.5x tcp_rtt_us)");
	bench_report_add_str(r, "remote_oneway_target",
			     !isfinite(ipc.oneway) ? "not measured" :
			     ipc.oneway >= 500000 ? "met (>= 500000)" : "not met (< 500000)");
	bench_report_add_str(r, "remote_sendrec_target",
			     !isfinite(ipc.sendrec) ? "not measured" :
			     ipc.sendrec >= 200000 ? "met (>= 200000)" : "not met (< 200000)");
	bench_report_add_str(r, "remote_vcopy_target",
			     ratio_target(t1, sizeof(t1), ipc.vcopy, stream, 0.5));
	bench_report_add_str(r, "c1_write_target", ratio_target(t1, sizeof(t1), cp.w[1], cp.w[0], 0.5));
	bench_report_add_str(r, "c1_read_target", ratio_target(t1, sizeof(t1), cp.r[1], cp.r[0], 0.5));
	bench_report_add_str(r, "d_write_target", ratio_target(t1, sizeof(t1), cp.w[2], cp.w[0], 0.4));
	bench_report_add_str(r, "d_read_target", ratio_target(t1, sizeof(t1), cp.r[2], cp.r[0], 0.4));
	bench_report_add_str(r, "failover_target",
			     isfinite(fo) ? (fo <= 1000 ? "met (<= 1000 ms)" : "not met (> 1000 ms)") :
					    "not measured");
	bench_report_add_str(r, "rss_target",
			     rss < 0 ? "not measured" :
				       (rss <= 32 * 1024 ? "met (<= 32 MiB)" : "not met (> 32 MiB)"));
	return isfinite(rtt) && isfinite(stream) ? 0 : 1;
}
