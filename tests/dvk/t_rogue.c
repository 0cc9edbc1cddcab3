/* t_rogue.c - what a misbehaving process tries, and how the DVK refuses:
 * binding without or beyond its admission, reaching another DC, forging
 * its identity, corrupting a ring, garbage on dvkd's sockets, floods. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dvk_int.h"
#include "dvs/dvkd_proto.h"
#include "itest.h"
#include "itests.h"

static char self_exe[PATH_MAX];

static const char *
self(void)
{
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);

	CHECK(n > 0);
	self_exe[n] = '\0';
	return self_exe;
}

/* ep 1 of DC 1: counts what it receives; answers COUNT with the count. */
static int
counter(void *arg)
{
	struct dvk *h = it_bind(1);
	int n = 0;
	dvk_msg_t m;

	(void)arg;
	for (;;) {
		if (dvk_receive(h, DVK_ANY, &m) != 0)
			return 1;
		if (m.m_type == 50) {
			m.m_u.i32[0] = n;
			dvk_reply(h, m.m_source, &m);
		} else {
			n++;
		}
	}
}

int
t_rogue_range(void)
{
	struct dvk *a, *b, *c;

	/* admitted to 30-31 of DC 1 (64 endpoints) */
	CHECK_RC(dvk_bind(40, 0, &a), -EDVS_EPRANGE);
	CHECK_RC(dvk_bind(64, 0, &a), -EDVS_BADEP);
	CHECK_RC(dvk_bind(1, 0, &a), -EDVS_EPRANGE);
	CHECK_RC(dvk_bind(30, 0, &a), 0);
	CHECK_RC(dvk_bind(30, 0, &b), -EDVS_EPBUSY);
	CHECK_RC(dvk_bind(DVK_ANY, 0, &b), 0);
	CHECK(dvk_self(b) == 31);
	CHECK_RC(dvk_bind(DVK_ANY, 0, &c), -EDVS_EPBUSY);
	CHECK_RC(dvk_bind(1, DVK_BIND_BACKUP, &c), -EDVS_EPRANGE);
	if (getuid() == 0) /* dvkd is root: only it may read our memory */
		CHECK(prctl(PR_GET_DUMPABLE) == 0);
	dvk_unbind(a);
	dvk_unbind(b);
	return 0;
}

int
t_rogue_dc2(void)
{
	struct dvk *h;
	dvk_msg_t m;
	char buf[16];

	/* admitted to DC 2: DC 1's endpoints do not exist here */
	CHECK_RC(dvk_bind(20, 0, &h), -EDVS_BADEP);
	CHECK_RC(dvk_bind(2, 0, &h), 0);
	CHECK(dvk_dc(h) == 2);
	it_msg(&m, 1, 0);
	CHECK_RC(dvk_send_t(h, 1, &m, 100), -EDVS_NOTBOUND);
	CHECK_RC(dvk_notify(h, 1), -EDVS_NOTBOUND);
	CHECK_RC(dvk_vcopy_from(h, 1, 1 << DVK_GRANT_IDX_BITS, 0, buf, 8), -EDVS_NOTBOUND);
	CHECK_RC(dvk_send_t(h, 30, &m, 100), -EDVS_BADEP);
	dvk_unbind(h);
	return 0;
}

/* Sends BIND with a socket that another process created. */
static int
bind_with_foreign_socket(void)
{
	const char *s = getenv("DVK_ADMIT_FD");
	int sv[2], afd, rc;
	struct dvkd_msg req, rep;
	int fds[2], nfds;
	pid_t pid;

	CHECK(s != NULL);
	afd = atoi(s);
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dvkd_msg_init(&req, DVKD_BIND, 1);
		req.u.bind.ep = 45;
		_exit(dvkd_send(afd, &req, &sv[1], 1, 0) == 0 ? 0 : 1);
	}
	CHECK(it_wait(pid) == 0);
	rc = dvkd_recv(sv[0], &rep, fds, 2, &nfds, 0);
	CHECK(rc == 0 && rep.h.type == DVKD_REPLY);
	close(sv[0]);
	close(sv[1]);
	return rep.h.status;
}

int
t_rogue(void)
{
	struct dvk *h;
	dvk_msg_t m;
	pid_t srv;
	int i;

	srv = it_spawn(counter, NULL);
	h = it_bind(2);
	CHECK_RC(dvk_wait_bound(h, 1, 5000), 0);

	CHECK(it_dvsctl("run --dc 1 --ep 30-31 -- %s --in rogue-range", self()) == 0);
	CHECK(it_dvsctl("run --dc 2 --ep 0-15 -- %s --in rogue-dc2", self()) == 0);
	/* nothing reached DC 1's endpoint 1 */
	it_msg(&m, 50, 0);
	CHECK_RC(dvk_sendrec(h, 1, &m), 0);
	CHECK(m.m_u.i32[0] == 0);

	/* the kernel names the binder: a socket made by another process
	 * is refused */
	CHECK_RC(bind_with_foreign_socket(), -EPERM);
	CHECK_RC(dvk_wait_unbound(h, 45, 100), 0);

	/* identity: whatever we write in m_source, the receiver sees 2 */
	for (i = 0; i < 3; i++) {
		it_msg(&m, 1, 0);
		m.m_source = i == 0 ? 1 : i == 1 ? -1 : 63;
		CHECK_RC(dvk_send(h, 1, &m), 0);
	}
	/* an endpoint cannot be taken from its owner */
	{
		struct dvk *x;

		CHECK_RC(dvk_bind(1, 0, &x), -EDVS_EPBUSY);
	}
	it_msg(&m, 50, 0);
	CHECK_RC(dvk_sendrec(h, 1, &m), 0);
	CHECK(m.m_u.i32[0] == 3 && m.m_source == 1);
	kill(srv, SIGKILL);
	it_wait(srv);
	dvk_unbind(h);
	return 0;
}

static volatile int *vandal_done;

/* ep 3: sends one good message to ep 2, then corrupts the ring. */
static int
ring_vandal(void *arg)
{
	struct dvk *h = it_bind(3);
	struct dvk_chan *c;
	dvk_msg_t m;
	unsigned w;

	(void)arg;
	it_msg(&m, 1, 1);
	CHECK_RC(dvk_send(h, 2, &m), 0);
	CHECK_RC(dvk_receive(h, 2, &m), 0); /* go */
	c = h->out[2];
	CHECK(c != NULL);
	/* indices far beyond the ring, and a doorbell full of garbage */
	atomic_store(&c->r->tail, atomic_load(&c->r->head) + 1000003);
	atomic_store(&c->r->notify_pending, 0);
	for (w = 0; w < 64; w++)
		atomic_store(&c->peer_db->hint[w], ~0ull);
	atomic_store(&c->peer_db->ctl_seq, 12345);
	atomic_store(&c->peer_db->futex, 777);
	dvk_futex_wake(&c->peer_db->futex);
	__atomic_store_n(vandal_done, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

static int
good_sender(void *arg)
{
	struct dvk *h = it_bind(4);
	dvk_msg_t m;

	(void)arg;
	it_msg(&m, 2, 2);
	CHECK_RC(dvk_send(h, 2, &m), 0);
	dvk_receive(h, 2, &m);
	return 0;
}

int
t_rogue_ring(void)
{
	struct dvk *h = it_bind(2);
	dvk_msg_t m;
	pid_t v, g;
	int rc;

	vandal_done = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(vandal_done != MAP_FAILED);
	v = it_spawn(ring_vandal, NULL);
	CHECK_RC(dvk_wait_bound(h, 3, 5000), 0);
	CHECK_RC(dvk_receive(h, 3, &m), 0);
	CHECK(m.m_u.i32[0] == 1 && m.m_source == 3);
	CHECK_RC(dvk_send(h, 3, &m), 0);
	while (!__atomic_load_n(vandal_done, __ATOMIC_SEQ_CST))
		usleep(1000);
	rc = dvk_receive_t(h, 3, &m, 500);
	CHECK(rc == -EDVS_PROTO);
	/* the broken channel is dropped; others still reach us */
	CHECK_RC(dvk_receive_t(h, DVK_ANY, &m, 200), -ETIMEDOUT);
	g = it_spawn(good_sender, NULL);
	CHECK_RC(dvk_receive_t(h, DVK_ANY, &m, 10000), 0);
	CHECK(m.m_source == 4 && m.m_u.i32[0] == 2);
	it_msg(&m, 0, 0);
	CHECK_RC(dvk_send(h, 4, &m), 0);
	CHECK(it_wait(g) == 0);
	kill(v, SIGKILL);
	it_wait(v);
	dvk_unbind(h);
	return 0;
}

static int
mgmt_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	CHECK(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", getenv("DVS_SOCKET"));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int
mgmt_ping(int fd)
{
	struct dvkd_msg req, rep;
	int fds[2], nfds, rc;

	dvkd_msg_init(&req, DVKD_PING, 7);
	rc = dvkd_send(fd, &req, NULL, 0, 0);
	if (rc == 0)
		rc = dvkd_recv(fd, &rep, fds, 2, &nfds, 0);
	if (rc == 0 && (rep.h.type != DVKD_REPLY || rep.h.seq != 7))
		rc = -EDVS_PROTO;
	return rc;
}

/* Expects fd to be closed by dvkd (EOF) within 5 s. */
static void
expect_dropped(int fd)
{
	struct timeval tv = { .tv_sec = 5 };
	char b[256];

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK(recv(fd, b, sizeof(b), 0) == 0);
	close(fd);
}

int
t_garbage_admit(void)
{
	int afd = atoi(getenv("DVK_ADMIT_FD"));
	struct dvk *h;
	int64_t t0;

	CHECK(write(afd, "\x01\x02garbage", 9) == 9);
	usleep(100 * 1000);
	t0 = it_now_ms();
	CHECK_RC(dvk_bind(50, 0, &h), -EDVS_NODAEMON);
	CHECK(it_now_ms() - t0 < 5000);
	return 0;
}

int
t_garbage(void)
{
	static const struct {
		const char *what;
		size_t len;
		uint32_t magic;
		uint16_t type, hlen;
	} bad[] = {
		{ "short", 3, DVKD_MAGIC, DVKD_PING, 16 },
		{ "bad magic", 16, 0x12345678, DVKD_PING, 16 },
		{ "unknown type", 16, DVKD_MAGIC, 999, 16 },
		{ "wrong length", 40, DVKD_MAGIC, DVKD_PING, 40 },
		{ "lying length", 16, DVKD_MAGIC, DVKD_DC_CREATE, 24 },
		{ "not a management request", 16, DVKD_MAGIC, DVKD_UNBIND, 16 },
	};
	struct dvk *h, *h2;
	dvk_msg_t m;
	size_t i;
	int keep, fd;

	/* management socket: each bad packet drops its own connection */
	keep = mgmt_connect();
	CHECK(keep >= 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t pkt[64] = { 0 };
		struct dvkd_hdr hd = { bad[i].magic, bad[i].type, bad[i].hlen, 1, 0 };

		memcpy(pkt, &hd, sizeof(hd));
		fd = mgmt_connect();
		CHECK(fd >= 0);
		CHECK(send(fd, pkt, bad[i].len, 0) == (ssize_t)bad[i].len);
		fprintf(stderr, "garbage: %s\n", bad[i].what);
		expect_dropped(fd);
		CHECK_RC(mgmt_ping(keep), 0);
	}
	/* random bytes */
	fd = mgmt_connect();
	for (i = 0; i < 20; i++) {
		uint8_t pkt[100];
		size_t k;

		for (k = 0; k < sizeof(pkt); k++)
			pkt[k] = (uint8_t)(rand() >> 7);
		if (send(fd, pkt, 1 + (size_t)rand() % sizeof(pkt), MSG_NOSIGNAL) < 0)
			break;
	}
	close(fd);
	CHECK_RC(mgmt_ping(keep), 0);
	close(keep);

	/* a binding's control socket: that binding is dropped, the other
	 * binding of the same process goes on */
	h = it_bind(5);
	h2 = it_bind(6);
	CHECK(write(h->ctl, "garbage!", 8) == 8);
	CHECK_RC(dvk_wait_unbound(h2, 5, 5000), 0);
	CHECK(dvk_wait_bound(h, 6, 1000) == -EDVS_NODAEMON);
	it_msg(&m, 1, 0);
	CHECK_RC(dvk_send(h2, 6, &m), 0);
	CHECK_RC(dvk_receive(h2, 6, &m), 0);
	CHECK(m.m_source == 6);
	dvk_unbind(h);

	/* an admission socket: that admission is closed, ours still works */
	CHECK(it_dvsctl("run --dc 1 --ep 50 -- %s --in garbage-admit", self()) == 0);
	CHECK_RC(dvk_bind(7, 0, &h), 0);
	dvk_unbind(h);
	dvk_unbind(h2);
	CHECK(it_dvsctl("status >/dev/null") == 0);
	return 0;
}

static int
try_bind_with(const char *fdval)
{
	struct dvk *h;

	if (fdval != NULL)
		setenv("DVK_ADMIT_FD", fdval, 1);
	else
		unsetenv("DVK_ADMIT_FD");
	return -dvk_bind(1, 0, &h);
}

static int
child_noadmit(void *arg)
{
	return try_bind_with(arg);
}

static int
child_deadadmit(void *arg)
{
	int sv[2];
	char buf[16];

	(void)arg;
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	close(sv[1]);
	snprintf(buf, sizeof(buf), "%d", sv[0]);
	return try_bind_with(buf) == EDVS_NODAEMON ? 0 : 1;
}

static int
child_nobody(void *arg)
{
	(void)arg;
	if (setuid(65534) != 0)
		return 2;
	return mgmt_connect() == -EACCES ? 0 : 1;
}

int
t_noadmit(void)
{
	static char zero[] = "0", banana[] = "banana"; /* DVK_ADMIT_FD values */
	pid_t p;
	int rc;

	/* exit statuses carry the error number modulo 256: compare so */
	p = it_spawn(child_noadmit, NULL);
	CHECK(it_wait(p) == (EDVS_NOTADMITTED & 0xff));
	p = it_spawn(child_noadmit, zero);
	CHECK(it_wait(p) == (EDVS_NOTADMITTED & 0xff));
	p = it_spawn(child_noadmit, banana);
	CHECK(it_wait(p) == (EDVS_NOTADMITTED & 0xff));
	p = it_spawn(child_deadadmit, NULL);
	CHECK(it_wait(p) == 0);
	if (getuid() == 0) {
		/* the management socket is root's only */
		p = it_spawn(child_nobody, NULL);
		rc = it_wait(p);
		CHECK(rc == 0);
	}
	return 0;
}

static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = atol(line + 6);
	fclose(f);
	return v;
}

static pid_t
dvkd_pid(void)
{
	struct dvkd_msg req, rep;
	int fd = mgmt_connect(), fds[2], nfds;

	CHECK(fd >= 0);
	dvkd_msg_init(&req, DVKD_PING, 1);
	CHECK(dvkd_send(fd, &req, NULL, 0, 0) == 0);
	CHECK(dvkd_recv(fd, &rep, fds, 2, &nfds, 0) == 0);
	close(fd);
	return rep.u.status.pid;
}

static int
deaf(void *arg)
{
	struct dvk *h = it_bind(1);

	(void)arg;
	pause();
	dvk_unbind(h);
	return 0;
}

int
t_limits(void)
{
	pid_t dpid = dvkd_pid(), d;
	long before, after;
	struct dvk *h[64];
	int fds[200], n, i, k, rc;
	dvk_msg_t m;

	before = rss_kib(dpid);
	CHECK(before > 0);
	/* a flood of messages to a peer that never receives: the sender
	 * blocks, nothing queues in dvkd */
	d = it_spawn(deaf, NULL);
	h[0] = it_bind(2);
	CHECK_RC(dvk_wait_bound(h[0], 1, 5000), 0);
	for (i = 0; i < 100000; i++) {
		it_msg(&m, 1, i);
		rc = dvk_send_t(h[0], 1, &m, 0);
		if (rc != 0)
			break;
	}
	CHECK(rc == -ETIMEDOUT && i < 5000);
	/* a flood of management connections: beyond the limit they are
	 * closed, and dvkd still answers */
	for (n = 0; n < 200; n++) {
		fds[n] = mgmt_connect();
		if (fds[n] < 0)
			break;
	}
	for (i = 0, k = 0; i < n; i++) {
		if (mgmt_ping(fds[i]) == 0)
			k++;
	}
	fprintf(stderr, "%d of %d management connections served\n", k, n);
	CHECK(k >= 1 && k <= 64);
	for (i = 0; i < n; i++)
		close(fds[i]);
	usleep(100 * 1000);
	k = mgmt_connect();
	CHECK(k >= 0 && mgmt_ping(k) == 0);
	close(k);
	/* every endpoint of the DC bound: the next bind is refused */
	for (i = 1; i < 63; i++) {
		rc = dvk_bind(DVK_ANY, 0, &h[i]);
		CHECK_RC(rc, 0);
	}
	CHECK_RC(dvk_bind(DVK_ANY, 0, &h[63]), -EDVS_EPBUSY);
	for (i = 1; i < 63; i++) {
		it_msg(&m, 1, i);
		CHECK(dvk_send_t(h[i], 2, &m, 0) == 0);
	}
	after = rss_kib(dpid);
	fprintf(stderr, "dvkd RSS %ld KiB before, %ld KiB after\n", before, after);
	CHECK(after - before < 4096);
	for (i = 0; i < 63; i++)
		dvk_unbind(h[i]);
	kill(d, SIGKILL);
	it_wait(d);
	return 0;
}

/* Bound to ep 17 until its DC is destroyed; 0 if it then saw an error. */
int
t_hold17(void)
{
	struct dvk *h = it_bind(17);
	dvk_msg_t m;
	int rc = dvk_receive_t(h, DVK_ANY, &m, 20000);

	return rc == -EDVS_NODAEMON || rc == -EDVS_DEADPEER ? 0 : 1;
}
