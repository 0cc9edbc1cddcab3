/*
 * bench_ipc.c - libdvk against its baselines, all in one run on a private
 * dvkd (temporary socket, one DC of 1,024 endpoints):
 *
 *   rtt_cross_us / rtt_same_us          64-byte sendrec round trip, client
 *                                       and server on different / the same CPU
 *   unix_rtt_cross_us / unix_rtt_same_us  64-byte ping-pong over a Unix
 *                                       socketpair between two processes
 *   oneway_msgs_per_s                   send loop -> receive loop
 *   vcopy_1m_gbps / memcpy_1m_gbps      1 MiB grant copies between two
 *                                       processes / 1 MiB memcpy
 *   dvkd_rss_kib                        dvkd's resident set with 64 clients
 *
 * Every figure is the median of --runs runs.  Each measurement runs in
 * child processes pinned to their CPUs; results come back through pipes.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "dvs/dvkd_proto.h"
#include "dvs/ipc.h"

#define MAX_RUNS 21
#define QUIT_TYPE 99

static char tmpdir[64];
static char ctl_path[PATH_MAX];
static pid_t dvkd_pid;
static int ncpu;

static int
find_dvsctl(void)
{
	const char *bin = getenv("DVS_BIN");
	char self[PATH_MAX - 32], *slash;
	ssize_t n;

	if (bin != NULL) {
		snprintf(ctl_path, sizeof(ctl_path), "%s/dvsctl", bin);
		if (access(ctl_path, X_OK) == 0)
			return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	/* build/bin/dvs-bench resolves to build/tools/bench/dvs-bench */
	snprintf(ctl_path, sizeof(ctl_path), "%s/../ctl/dvsctl", self);
	if (access(ctl_path, X_OK) == 0)
		return 0;
	snprintf(ctl_path, sizeof(ctl_path), "%s/dvsctl", self);
	return access(ctl_path, X_OK) == 0 ? 0 : -1;
}

static int
ctl(const char *args)
{
	char cmd[PATH_MAX + 256];
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' %s >/dev/null", ctl_path, args);
	fflush(NULL);
	st = system(cmd);
	return st == 0 ? 0 : -1;
}

static int
mgmt_call(struct dvkd_msg *req, struct dvkd_msg *rep, int *fd_out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, fds[2], nfds = 0, rc;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", dvkd_socket_path());
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = dvkd_send(fd, req, NULL, 0, 0);
	if (rc == 0)
		rc = dvkd_recv(fd, rep, fds, 2, &nfds, 0);
	close(fd);
	if (rc == 0 && fd_out != NULL)
		*fd_out = nfds > 0 ? fds[0] : -1;
	return rc < 0 ? rc : rep->h.status;
}

/* Starts a private dvkd with DC 1 and admits this process to all of it. */
static int
setup(void)
{
	struct dvkd_msg req, rep;
	char env[32], cmd[128];
	int fd = -1, rc;

	if (find_dvsctl() < 0) {
		fprintf(stderr, "dvs-bench ipc: cannot find dvsctl (set DVS_BIN)\n");
		return -1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dvs-bench-ipc.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/dvkd.sock", tmpdir);
	setenv("DVS_SOCKET", cmd, 1);
	if (ctl("start") < 0 || ctl("dc create 1 --endpoints 1024") < 0) {
		fprintf(stderr, "dvs-bench ipc: cannot start dvkd (see %s.log)\n", cmd);
		return -1;
	}
	dvkd_msg_init(&req, DVKD_PING, 1);
	if (mgmt_call(&req, &rep, NULL) < 0)
		return -1;
	dvkd_pid = rep.u.status.pid;
	dvkd_msg_init(&req, DVKD_ADMIT, 2);
	req.u.admit.dc = 1;
	req.u.admit.lo = 0;
	req.u.admit.hi = 1023;
	rc = mgmt_call(&req, &rep, &fd);
	if (rc < 0 || fd < 0) {
		fprintf(stderr, "dvs-bench ipc: admission refused: %s\n", dvk_strerror(rc));
		return -1;
	}
	snprintf(env, sizeof(env), "%d", fd);
	setenv("DVK_ADMIT_FD", env, 1);
	return 0;
}

static void
teardown(void)
{
	char cmd[128];

	if (tmpdir[0] == '\0')
		return;
	ctl("stop");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "dvs-bench ipc: could not remove %s\n", tmpdir);
}

/* ---- child processes ---- */

struct child {
	pid_t pid;
	int rd; /* results / readiness from the child */
	int wr; /* go / stop to the child */
};

typedef void (*child_fn)(void *arg, int out, int in);

/* Parent-side pipe ends of live children: a new child closes them, so
 * that closing them in the parent is an EOF for their own child. */
static int open_fds[256];
static int nopen_fds;

static void
track_fd(int fd, int add)
{
	int i;

	if (add) {
		if (nopen_fds < 256)
			open_fds[nopen_fds++] = fd;
		return;
	}
	for (i = 0; i < nopen_fds; i++) {
		if (open_fds[i] == fd) {
			open_fds[i] = open_fds[--nopen_fds];
			return;
		}
	}
}

static int
spawn(struct child *c, child_fn fn, void *arg)
{
	int up[2], down[2];

	if (pipe(up) < 0 || pipe(down) < 0)
		return -1;
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		int i;

		for (i = 0; i < nopen_fds; i++)
			close(open_fds[i]);
		close(up[0]);
		close(down[1]);
		fn(arg, up[1], down[0]);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	c->rd = up[0];
	c->wr = down[1];
	track_fd(c->rd, 1);
	track_fd(c->wr, 1);
	return 0;
}

static int
child_read(struct child *c, void *buf, size_t n)
{
	return read(c->rd, buf, n) == (ssize_t)n ? 0 : -1;
}

static void
child_end(struct child *c)
{
	track_fd(c->wr, 0);
	track_fd(c->rd, 0);
	close(c->wr);
	close(c->rd);
	waitpid(c->pid, NULL, 0);
}

static void
put(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n)
		_exit(3);
}

static void
get(int fd, void *p, size_t n)
{
	if (read(fd, p, n) != (ssize_t)n)
		_exit(0); /* parent gone or done */
}

/* --spin-us: DVK_OPT_SPIN_US of every binding (-1: libdvk's default). */
static long spin_us = -1;

static struct dvk *
bind_or_die(dvk_ep_t ep)
{
	struct dvk *h;
	int rc = dvk_bind(ep, 0, &h);

	if (rc == 0 && spin_us >= 0)
		rc = dvk_set_opt(h, DVK_OPT_SPIN_US, spin_us);
	if (rc != 0) {
		fprintf(stderr, "dvs-bench ipc: bind %d: %s\n", ep, dvk_strerror(rc));
		_exit(2);
	}
	return h;
}

/* Sets option opt of h to value, or ends the role. */
static void
opt_or_die(struct dvk *h, enum dvk_opt opt, long value)
{
	int rc = dvk_set_opt(h, opt, value);

	if (rc != 0) {
		fprintf(stderr, "dvs-bench ipc: option %d: %s\n", (int)opt, dvk_strerror(rc));
		_exit(2);
	}
}

struct role {
	int cpu;
	dvk_ep_t ep, peer;
	int iters;
	int runs;
	int sock;  /* unix baseline: our end */
	int other; /* and the peer's, closed in the child */
};

/* The timed loops of the clients: one round of n operations returns its
 * figure (us per call, or messages/s). */
typedef double (*round_fn)(void *ctx, const struct role *r, int n);

/* One untimed warm-up round of warm operations, then r->runs timed rounds
 * of r->iters, each round's figure written up the pipe. */
static void
rounds(int out, const struct role *r, int warm, round_fn one, void *ctx)
{
	int k;

	for (k = -1; k < r->runs; k++) {
		double v = one(ctx, r, k < 0 ? warm : r->iters);

		if (k >= 0)
			put(out, &v, sizeof(v));
	}
}

static void
send_quit(struct dvk *h, dvk_ep_t peer)
{
	dvk_msg_t m;

	memset(&m, 0, sizeof(m));
	m.m_type = QUIT_TYPE;
	dvk_send(h, peer, &m);
	dvk_unbind(h);
}

/* Answers every sendrec until QUIT. */
static void
server_main(void *arg, int out, int in)
{
	struct role *r = arg;
	struct dvk *h;
	dvk_msg_t m;
	char ok = 'R';

	(void)in;
	if (r->cpu >= 0)
		bench_pin_cpu(r->cpu);
	h = bind_or_die(r->ep);
	put(out, &ok, 1);
	for (;;) {
		if (dvk_receive(h, DVK_ANY, &m) != 0)
			break;
		if (m.m_type == QUIT_TYPE)
			break;
		m.m_u.i64[1] = m.m_u.i64[0] + 1;
		if (dvk_reply(h, m.m_source, &m) != 0)
			break;
	}
	dvk_unbind(h);
}

static double
rtt_round(void *ctx, const struct role *r, int n)
{
	struct dvk *h = ctx;
	uint64_t t0 = dvs_now_ns();
	dvk_msg_t m;
	int i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < n; i++) {
		m.m_type = 1;
		m.m_u.i64[0] = i;
		if (dvk_sendrec(h, r->peer, &m) != 0 || m.m_u.i64[1] != i + 1)
			_exit(2);
	}
	return (double)(dvs_now_ns() - t0) / 1e3 / n;
}

/* Timed rounds of sendrec calls; writes us per call. */
static void
rtt_client_main(void *arg, int out, int in)
{
	struct role *r = arg;
	struct dvk *h;

	(void)in;
	bench_pin_cpu(r->cpu);
	h = bind_or_die(r->ep);
	rounds(out, r, 2000, rtt_round, h);
	send_quit(h, r->peer);
}

/* Reads or writes exactly one message on a stream socket. */
static int
sock_xfer(int fd, char *buf, int wr)
{
	size_t done = 0;

	while (done < DVK_MSG_SIZE) {
		ssize_t n = wr ? write(fd, buf + done, DVK_MSG_SIZE - done)
			       : read(fd, buf + done, DVK_MSG_SIZE - done);

		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static void
unix_echo_main(void *arg, int out, int in)
{
	struct role *r = arg;
	char buf[DVK_MSG_SIZE];
	char ok = 'R';

	(void)in;
	close(r->other);
	bench_pin_cpu(r->cpu);
	put(out, &ok, 1);
	while (sock_xfer(r->sock, buf, 0) == 0 && sock_xfer(r->sock, buf, 1) == 0)
		;
}

static double
unix_round(void *ctx, const struct role *r, int n)
{
	uint64_t t0 = dvs_now_ns();
	char buf[DVK_MSG_SIZE] = { 0 };
	int i;

	(void)ctx;
	for (i = 0; i < n; i++)
		if (sock_xfer(r->sock, buf, 1) < 0 || sock_xfer(r->sock, buf, 0) < 0)
			_exit(2);
	return (double)(dvs_now_ns() - t0) / 1e3 / n;
}

static void
unix_client_main(void *arg, int out, int in)
{
	struct role *r = arg;

	(void)in;
	close(r->other);
	bench_pin_cpu(r->cpu);
	rounds(out, r, 2000, unix_round, NULL);
}

static double
collect(struct child *c, int runs)
{
	double v[MAX_RUNS];
	int k;

	for (k = 0; k < runs; k++)
		if (child_read(c, &v[k], sizeof(v[k])) < 0)
			return -1;
	return bench_median(v, (size_t)runs);
}

/* Starts a server (waits until it is ready) and a client, returns the
 * median of the client's rounds.  close_fd (if >= 0) is the parent's copy
 * of a socket the children share: closed once both have it. */
static double
run_pair(child_fn sfn, struct role *s, child_fn cfn, struct role *c, int runs,
	 int close_fd)
{
	struct child cs, cc;
	double v;
	char ok;

	if (spawn(&cs, sfn, s) < 0 || child_read(&cs, &ok, 1) < 0)
		return -1;
	if (spawn(&cc, cfn, c) < 0)
		return -1;
	if (close_fd >= 0)
		close(close_fd);
	v = collect(&cc, runs);
	child_end(&cc);
	child_end(&cs);
	return v;
}

static double
measure_rtt(int srv_cpu, int cli_cpu, int iters, int runs)
{
	struct role s = { srv_cpu, 1, 0, 0, 0, -1, -1 };
	struct role c = { cli_cpu, 2, 1, iters, runs, -1, -1 };

	return run_pair(server_main, &s, rtt_client_main, &c, runs, -1);
}

static double
measure_unix_rtt(int srv_cpu, int cli_cpu, int iters, int runs)
{
	struct role s = { srv_cpu, 0, 0, 0, 0, -1, -1 };
	struct role c = { cli_cpu, 0, 0, iters, runs, -1, -1 };
	int sv[2];
	double v;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	s.sock = sv[1];
	s.other = sv[0];
	c.sock = sv[0];
	c.other = sv[1];
	/* the parent lets go of the client's end once the client has it:
	 * the echo server then sees EOF when the client exits */
	v = run_pair(unix_echo_main, &s, unix_client_main, &c, runs, sv[0]);
	close(sv[1]);
	return v;
}

/* Receives iters messages per round, then answers one sendrec. */
static void
sink_main(void *arg, int out, int in)
{
	struct role *r = arg;
	struct dvk *h;
	dvk_msg_t m;
	char ok = 'R';
	int i;

	(void)in;
	bench_pin_cpu(r->cpu);
	h = bind_or_die(r->ep);
	put(out, &ok, 1);
	for (;;) {
		for (i = 0; i < r->iters; i++) {
			if (dvk_receive(h, DVK_ANY, &m) != 0 || m.m_type == QUIT_TYPE)
				goto done;
		}
		if (dvk_receive(h, DVK_ANY, &m) != 0 || dvk_reply(h, m.m_source, &m) != 0)
			break;
	}
done:
	dvk_unbind(h);
}

static double
oneway_round(void *ctx, const struct role *r, int n)
{
	struct dvk *h = ctx;
	uint64_t t0 = dvs_now_ns();
	dvk_msg_t m;
	int i;

	(void)n; /* the sink counts r->iters per round */
	memset(&m, 0, sizeof(m));
	for (i = 0; i < r->iters; i++) {
		m.m_type = 1;
		m.m_u.i64[0] = i;
		if (dvk_send(h, r->peer, &m) != 0)
			_exit(2);
	}
	m.m_type = 2;
	if (dvk_sendrec(h, r->peer, &m) != 0) /* all were taken */
		_exit(2);
	return r->iters / ((double)(dvs_now_ns() - t0) / 1e9);
}

static void
source_main(void *arg, int out, int in)
{
	struct role *r = arg;
	struct dvk *h;

	(void)in;
	bench_pin_cpu(r->cpu);
	h = bind_or_die(r->ep);
	rounds(out, r, r->iters, oneway_round, h);
	send_quit(h, r->peer);
}

static double
measure_oneway(int iters, int runs)
{
	struct role s = { ncpu > 1 ? 1 : 0, 3, 0, iters, runs, -1, -1 };
	struct role c = { 0, 4, 3, iters, runs, -1, -1 };

	return run_pair(sink_main, &s, source_main, &c, runs, -1);
}

/* ---- vcopy ---- */

#define MIB (1024 * 1024)
#define SMALL_COPY 64

/* Kinds of 1 MiB buffers, for vcopy and for its memcpy baseline:
 *   PLAIN  malloc(): ordinary memory in 4 KiB pages (transparent huge
 *          pages are only used where asked for on this system) - what a
 *          program grants and copies into unless it does something special
 *   THP    in one transparent huge page (madvise), both sides
 *   BUF    THP grant, the copier's destination from dvk_buf_alloc() (a
 *          buffer dvkd maps too: one kernel copy)
 *   BOUNCE PLAIN, copied the way libdvk did before its staging buffer
 *          (DVK_OPT_VCOPY_STAGE 0: through dvkd's bounce buffer), for comparison
 *   SHARED both the grant and the copier's buffer from dvk_buf_alloc():
 *          dvkd copies between its own two mappings (memcpy)
 *   SHNOWHERE SHARED with DVK_OPT_BUF_WHERE 0 (dvkd does not know where the
 *          grant owner's buffer is: one kernel copy, as before) */
enum vc_kind { VC_PLAIN, VC_THP, VC_BUF, VC_BOUNCE, VC_SHARED, VC_SHNOWHERE };

static char *
buf_new(enum vc_kind kind)
{
	char *p;

	if (kind == VC_PLAIN || kind == VC_BOUNCE) {
		p = malloc(MIB);
	} else {
		p = aligned_alloc(2 * MIB, 2 * MIB);
		if (p != NULL)
			madvise(p, 2 * MIB, MADV_HUGEPAGE);
	}
	if (p == NULL)
		_exit(2);
	return p;
}

/* Grants 1 MiB to ep 6 for reading and writing; sends the grant id up. */
static void
owner_main(void *arg, int out, int in)
{
	struct role *r = arg;
	char *buf = buf_new((enum vc_kind)r->other), b;
	struct dvk *h;
	dvk_grant_t g;

	h = bind_or_die(r->ep);
	if ((enum vc_kind)r->other == VC_SHNOWHERE)
		opt_or_die(h, DVK_OPT_BUF_WHERE, 0);
	if ((enum vc_kind)r->other >= VC_SHARED) {
		void *p;

		if (dvk_buf_alloc(h, MIB, &p) != 0)
			_exit(2);
		buf = p;
	}
	memset(buf, 0x42, MIB);
	if (dvk_grant(h, r->peer, buf, MIB, DVK_GRANT_READ | DVK_GRANT_WRITE, &g) != 0)
		_exit(2);
	put(out, &g, sizeof(g));
	get(in, &b, 1); /* until the parent closes the pipe */
	dvk_unbind(h);
}

struct copy_res {
	double from_gbps[MAX_RUNS];
	double to_gbps[MAX_RUNS];
	double memcpy_gbps[MAX_RUNS];
	double small_us[MAX_RUNS];
};

struct copier {
	struct dvk *h;
	const struct role *r;
	dvk_grant_t g;
	char *dst, *src;
};

static double
gbps(uint64_t t0, int n)
{
	return (double)MIB * n / (double)(dvs_now_ns() - t0);
}

static void
copier_main(void *arg, int out, int in)
{
	struct role *r = arg;
	enum vc_kind kind = (enum vc_kind)r->other;
	char *dst = buf_new(kind), *src = buf_new(kind);
	struct copy_res res;
	struct dvk *h;
	dvk_grant_t g;
	int i, k;

	memset(&res, 0, sizeof(res));
	get(in, &g, sizeof(g));
	h = bind_or_die(r->ep);
	if (kind == VC_BOUNCE)
		opt_or_die(h, DVK_OPT_VCOPY_STAGE, 0);
	if (kind == VC_SHNOWHERE)
		opt_or_die(h, DVK_OPT_BUF_WHERE, 0);
	if (kind == VC_BUF || kind >= VC_SHARED) {
		void *p;

		if (dvk_buf_alloc(h, MIB, &p) != 0)
			_exit(2);
		dst = p;
	}
	memset(dst, 1, MIB);
	memset(src, 2, MIB);
	for (i = 0; i < 20; i++)
		if (dvk_vcopy_from(h, r->peer, g, 0, dst, MIB) != 0)
			_exit(2);
	/* a benchmark of wrong bytes is worthless */
	if (dst[0] != 0x42 || dst[MIB / 2 + 7] != 0x42 || dst[MIB - 1] != 0x42) {
		fprintf(stderr, "dvs-bench ipc: vcopy copied wrong bytes\n");
		_exit(2);
	}
	for (k = 0; k < r->runs; k++) {
		uint64_t t0 = dvs_now_ns();

		for (i = 0; i < r->iters; i++)
			if (dvk_vcopy_from(h, r->peer, g, 0, dst, MIB) != 0)
				_exit(2);
		res.from_gbps[k] = gbps(t0, r->iters);
		t0 = dvs_now_ns();
		for (i = 0; i < r->iters; i++)
			if (dvk_vcopy_to(h, r->peer, g, 0, dst, MIB) != 0)
				_exit(2);
		res.to_gbps[k] = gbps(t0, r->iters);
		t0 = dvs_now_ns();
		for (i = 0; i < r->iters; i++) {
			src[i % MIB] = (char)i; /* keep the copy from being elided */
			memcpy(dst, src, MIB);
			__asm__ __volatile__("" : : "r"(dst) : "memory");
		}
		res.memcpy_gbps[k] = gbps(t0, r->iters);
		t0 = dvs_now_ns();
		for (i = 0; i < r->iters * 10; i++)
			if (dvk_vcopy_from(h, r->peer, g, 0, dst, SMALL_COPY) != 0)
				_exit(2);
		res.small_us[k] = (double)(dvs_now_ns() - t0) / 1e3 / (r->iters * 10);
	}
	put(out, &res, sizeof(res));
	dvk_unbind(h);
}

struct vc_fig {
	double from, to, mc, small;
};

static int
measure_vcopy(int iters, int runs, enum vc_kind kind, struct vc_fig *f)
{
	struct role o = { -1, 5, 6, 0, 0, -1, (int)kind };
	struct role c = { -1, 6, 5, iters, runs, -1, (int)kind };
	struct child co, cc;
	struct copy_res res;
	dvk_grant_t g;

	if (spawn(&co, owner_main, &o) < 0 || child_read(&co, &g, sizeof(g)) < 0)
		return -1;
	if (spawn(&cc, copier_main, &c) < 0)
		return -1;
	if (write(cc.wr, &g, sizeof(g)) != (ssize_t)sizeof(g) ||
	    child_read(&cc, &res, sizeof(res)) < 0)
		return -1;
	f->from = bench_median(res.from_gbps, (size_t)runs);
	f->to = bench_median(res.to_gbps, (size_t)runs);
	f->mc = bench_median(res.memcpy_gbps, (size_t)runs);
	f->small = bench_median(res.small_us, (size_t)runs);
	child_end(&cc);
	child_end(&co);
	return 0;
}

/* The kernel's cross-process copy alone (what vcopy is built on): a
 * child holds 1 MiB, we process_vm_readv it into our own buffer of the
 * same kind. */
static double
measure_pvm(int iters, int runs, enum vc_kind kind)
{
	double v[MAX_RUNS];
	char *src = NULL, *dst;
	int i, k, p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* its own pages, as a grant owner's would be */
		src = buf_new(kind);
		memset(src, 3, MIB);
		put(p[1], &src, sizeof(src));
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &src, sizeof(src)) != (ssize_t)sizeof(src))
		src = NULL;
	close(p[0]);
	dst = buf_new(kind);
	memset(dst, 1, MIB);
	for (k = 0; k < runs && src != NULL; k++) {
		uint64_t t0 = dvs_now_ns();

		for (i = 0; i < iters; i++) {
			struct iovec l = { dst, MIB }, rr = { src, MIB };

			if (process_vm_readv(pid, &l, 1, &rr, 1, 0) != MIB)
				src = NULL;
		}
		v[k] = gbps(t0, iters);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(dst);
	return src == NULL ? -1 : bench_median(v, (size_t)runs);
}

/* A client: one sendrec to ep 1, then stays bound until told. */
static void
idle_client_main(void *arg, int out, int in)
{
	struct role *r = arg;
	struct dvk *h = bind_or_die(r->ep);
	dvk_msg_t m;
	char b = 'R';

	memset(&m, 0, sizeof(m));
	m.m_type = 1;
	if (dvk_sendrec(h, 1, &m) != 0)
		_exit(2);
	put(out, &b, 1);
	get(in, &b, 1);
	dvk_unbind(h);
}

static long
measure_rss(int nclients)
{
	struct role s = { -1, 1, 0, 0, 0, -1, -1 };
	struct role c[64];
	struct child cs, cc[64];
	long rss;
	char ok;
	int i;

	if (nclients > 64)
		nclients = 64;
	if (spawn(&cs, server_main, &s) < 0 || child_read(&cs, &ok, 1) < 0)
		return -1;
	for (i = 0; i < nclients; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].ep = 100 + i;
		if (spawn(&cc[i], idle_client_main, &c[i]) < 0)
			return -1;
	}
	for (i = 0; i < nclients; i++)
		if (child_read(&cc[i], &ok, 1) < 0)
			return -1;
	rss = bench_rss_kib(dvkd_pid);
	for (i = 0; i < nclients; i++)
		child_end(&cc[i]);
	kill(cs.pid, SIGKILL);
	child_end(&cs);
	return rss;
}

static void
verdict(struct bench_report *r, const char *name, int ok, double value,
	const char *unit, const char *target)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%.3f%s (target %s) %s", value, unit, target,
		 ok ? "ok" : "MISSED");
	bench_report_add_str(r, name, buf);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: dvs-bench [--json] ipc [--runs N] [--quick] [--vcopy-only] [--spin-us N]\n"
		   "  --runs N       median of N runs per figure (default 5, max 21)\n"
		   "  --quick        fewer iterations per run (noisier)\n"
		   "  --vcopy-only   only the vcopy figures and their baselines\n"
		   "  --spin-us N    how long a blocked call spins before sleeping (libdvk's\n"
		   "                 DVK_OPT_SPIN_US; default 50, 0: never)\n");
}

/* All vcopy figures; 0 or -1. */
static int
vcopy_figures(struct bench_report *r, int runs, int scale)
{
	struct vc_fig p, t, b, o, s, sn;
	double pvm, pvm_thp;

	bench_progress("ipc: vcopy and memcpy");
	if (measure_vcopy(400 / scale, runs, VC_PLAIN, &p) < 0 ||
	    measure_vcopy(400 / scale, runs, VC_BOUNCE, &o) < 0 ||
	    measure_vcopy(400 / scale, runs, VC_THP, &t) < 0 ||
	    measure_vcopy(400 / scale, runs, VC_BUF, &b) < 0 ||
	    measure_vcopy(400 / scale, runs, VC_SHARED, &s) < 0 ||
	    measure_vcopy(400 / scale, runs, VC_SHNOWHERE, &sn) < 0)
		return -1;
	pvm = measure_pvm(400 / scale, runs, VC_PLAIN);
	pvm_thp = measure_pvm(400 / scale, runs, VC_THP);
	if (pvm < 0 || pvm_thp < 0)
		return -1;
	bench_report_add(r, "vcopy_1m_gbps", p.from, "GB/s", "1 MiB vcopy_from between two processes, malloc'd memory (4 KiB pages) both sides");
	bench_report_add(r, "memcpy_1m_gbps", p.mc, "GB/s", "1 MiB memcpy between the copier's malloc'd buffers");
	bench_report_add(r, "vcopy_to_1m_gbps", p.to, "GB/s", "1 MiB vcopy_to, same buffers");
	bench_report_add(r, "vcopy_small_us", p.small, "us", "64-byte vcopy_from: the request round trip to dvkd");
	bench_report_add(r, "vcopy_1m_bounce_gbps", o.from, "GB/s", "vcopy_from as before libdvk's staging buffer (two kernel copies through dvkd's bounce buffer)");
	bench_report_add(r, "memcpy_1m_bounce_gbps", o.mc, "GB/s", "memcpy in that run");
	bench_report_add(r, "pvm_1m_gbps", pvm, "GB/s", "process_vm_readv of 1 MiB malloc'd memory alone: the kernel copy under vcopy");
	bench_report_add(r, "vcopy_1m_thp_gbps", t.from, "GB/s", "vcopy_from, both buffers in transparent huge pages");
	bench_report_add(r, "memcpy_1m_thp_gbps", t.mc, "GB/s", "memcpy between the same THP buffers");
	bench_report_add(r, "pvm_1m_thp_gbps", pvm_thp, "GB/s", "process_vm_readv of 1 MiB THP memory alone");
	bench_report_add(r, "vcopy_1m_buf_gbps", b.from, "GB/s", "vcopy_from of a THP grant into a dvk_buf_alloc buffer (one kernel copy)");
	bench_report_add(r, "memcpy_1m_buf_gbps", b.mc, "GB/s", "memcpy into the same dvk_buf_alloc buffer");
	bench_report_add(r, "vcopy_1m_shared_gbps", s.from, "GB/s", "vcopy_from, grant and copier's buffer both from dvk_buf_alloc (a memcpy inside dvkd)");
	bench_report_add(r, "vcopy_to_1m_shared_gbps", s.to, "GB/s", "vcopy_to, same buffers");
	bench_report_add(r, "vcopy_1m_shared_nowhere_gbps", sn.from, "GB/s", "the same with DVK_OPT_BUF_WHERE 0: dvkd does not know where the owner's buffer is (one kernel copy, as before)");
	bench_report_add(r, "memcpy_1m_shared_gbps", s.mc, "GB/s", "memcpy into the copier's dvk_buf_alloc buffer in that run");
	verdict(r, "target_vcopy", p.from >= 0.4 * p.mc, p.from / p.mc, "x memcpy", ">= 0.4x");
	return 0;
}

int
bench_ipc_main(struct bench_report *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "quick", no_argument, NULL, 'q' },
		{ "vcopy-only", no_argument, NULL, 'v' },
		{ "spin-us", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int runs = 5, scale = 1, c, rc = 1, only_vcopy = 0;
	long v;
	double rtt_x, rtt_s, u_x, u_s, ow;
	int cross_cpu;
	long rss;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (bench_num("ipc", "runs", optarg, 1, MAX_RUNS, &v) != 0)
				return 2;
			runs = (int)v;
			break;
		case 'q':
			scale = 4;
			break;
		case 'v':
			only_vcopy = 1;
			break;
		case 's':
			if (bench_num("ipc", "spin-us", optarg, 0, 60L * 1000 * 1000, &spin_us) != 0)
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	cross_cpu = ncpu > 1 ? 1 : 0;
	signal(SIGPIPE, SIG_IGN);
	if (setup() < 0)
		goto out;
	if (only_vcopy) {
		if (vcopy_figures(r, runs, scale) < 0)
			goto failed;
		bench_report_add(r, "runs", runs, "", "median of this many runs");
		rc = 0;
		goto out;
	}

	bench_progress("ipc: dvk round trip, different CPUs");
	rtt_x = measure_rtt(cross_cpu, 0, 100000 / scale, runs);
	bench_progress("ipc: unix round trip, different CPUs");
	u_x = measure_unix_rtt(cross_cpu, 0, 20000 / scale, runs);
	bench_progress("ipc: dvk round trip, same CPU");
	rtt_s = measure_rtt(0, 0, 50000 / scale, runs);
	bench_progress("ipc: unix round trip, same CPU");
	u_s = measure_unix_rtt(0, 0, 50000 / scale, runs);
	bench_progress("ipc: one-way messages");
	ow = measure_oneway(1000000 / scale, runs);
	if (rtt_x < 0 || u_x < 0 || rtt_s < 0 || u_s < 0 || ow < 0)
		goto failed;
	bench_report_add(r, "rtt_cross_us", rtt_x, "us", "64-byte sendrec, client and server on different CPUs");
	bench_report_add(r, "unix_rtt_cross_us", u_x, "us", "64-byte ping-pong, Unix socketpair, different CPUs");
	bench_report_add(r, "rtt_same_us", rtt_s, "us", "64-byte sendrec, same CPU");
	bench_report_add(r, "unix_rtt_same_us", u_s, "us", "64-byte ping-pong, Unix socketpair, same CPU");
	bench_report_add(r, "oneway_msgs_per_s", ow, "msg/s", "send loop -> receive loop, different CPUs");
	if (vcopy_figures(r, runs, scale) < 0)
		goto failed;
	bench_progress("ipc: dvkd memory with 64 clients");
	rss = measure_rss(64);
	if (rss < 0)
		goto failed;
	bench_report_add(r, "dvkd_rss_kib", (double)rss, "KiB", "one DC of 1,024 endpoints, 64 connected clients");
	bench_report_add(r, "runs", runs, "", "median of this many runs");
	verdict(r, "target_rtt_cross", rtt_x <= 0.5 * u_x, rtt_x / u_x, "x unix", "<= 0.5x");
	verdict(r, "target_rtt_same", rtt_s <= 1.0 * u_s, rtt_s / u_s, "x unix", "<= 1.0x");
	verdict(r, "target_oneway", ow >= 1e6, ow / 1e6, " M msg/s", ">= 1 M/s");
	verdict(r, "target_dvkd_rss", rss <= 16 * 1024, (double)rss / 1024, " MiB", "<= 16 MiB");
	rc = 0;
	goto out;
failed:
	fprintf(stderr, "dvs-bench ipc: a measurement failed\n");
out:
	teardown();
	return rc;
}
