/*
 * fs_reuse.c - a client of dvs-fs dies with a file open read-write; a
 * different process binds the same endpoint at once and sends requests
 * with the dead client's descriptor straight to its worker.  dvs-fs must
 * refuse them: the descriptor belonged to the dead binding, not to the
 * endpoint number.  Run inside the DC (tests/fs/test_client_kill.sh):
 *   dvk_fs_reuse FS_EP EP
 * Exit 0: refused; 1: the stranger reached the dead client's file; 2: the
 * test itself failed.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dvs/clock.h"
#include "dvs/fsproto.h"
#include "dvs/ipc.h"

static const char secret[] = "the dead client's secret";

static void
die(const char *what, int rc)
{
	fprintf(stderr, "dvk_fs_reuse: %s: %d (%s)\n", what, rc, dvk_strerror(rc));
	exit(2);
}

/* One request; the reply's m_type (>= 0 or -errno), or a DVK error. */
static int
call(struct dvk *h, dvk_ep_t ep, int32_t type, dvk_msg_t *m)
{
	int rc;

	m->m_type = type;
	rc = dvk_sendrec_t(h, ep, m, 10000);
	return rc < 0 ? rc : m->m_type;
}

static int
io(struct dvk *h, dvk_ep_t w, int call_no, int32_t fd, void *buf, uint32_t len,
   unsigned access)
{
	struct fs_rq_io *rq;
	dvk_grant_t g;
	dvk_msg_t m;
	int rc;

	rc = dvk_grant(h, w, buf, len, access, &g);
	if (rc < 0)
		die("grant", rc);
	memset(&m, 0, sizeof(m));
	rq = &m.m_u.fs_rq_io;
	rq->fd = fd;
	rq->grant = g;
	rq->len = len;
	rq->flags = FS_IO_AT;
	rq->off = 0;
	rc = call(h, w, FS_RQ_BASE + call_no, &m);
	dvk_revoke(h, g);
	return rc;
}

/* The victim: a session, /secret.txt open read-write with data in it;
 * tells the stranger where, then dies without a word. */
static void
victim(dvk_ep_t fs_ep, dvk_ep_t ep, int wfd)
{
	static const char path[] = "/secret.txt";
	struct fs_rq_hello *hq;
	struct fs_rp_hello hp;
	struct fs_rq_open *oq;
	int32_t msg[2];
	struct dvk *h;
	dvk_grant_t g;
	dvk_msg_t m;
	int fd, rc;

	rc = dvk_bind(ep, 0, &h);
	if (rc < 0)
		die("victim bind", rc);
	memset(&m, 0, sizeof(m));
	hq = &m.m_u.fs_rq_hello;
	hq->version = FS_PROTO_VERSION;
	rc = call(h, fs_ep, FS_RQ_BASE + FS_HELLO, &m);
	if (rc < 0)
		die("hello", rc);
	hp = m.m_u.fs_rp_hello;
	rc = dvk_grant(h, hp.worker, (void *)path, sizeof(path) - 1, DVK_GRANT_READ, &g);
	if (rc < 0)
		die("grant", rc);
	memset(&m, 0, sizeof(m));
	oq = &m.m_u.fs_rq_open;
	oq->path.grant = g;
	oq->path.len = sizeof(path) - 1;
	oq->flags = FS_O_RDWR | FS_O_CREAT | FS_O_TRUNC;
	oq->mode = 0644;
	fd = call(h, hp.worker, FS_RQ_BASE + FS_OPEN, &m);
	if (fd < 0)
		die("open", fd);
	rc = io(h, hp.worker, FS_WRITE, fd, (void *)secret, sizeof(secret), DVK_GRANT_READ);
	if (rc != (int)sizeof(secret))
		die("write", rc);
	msg[0] = hp.worker;
	msg[1] = fd;
	if (write(wfd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		die("pipe", -errno);
	kill(getpid(), SIGKILL);
}

int
main(int argc, char **argv)
{
	char buf[64] = { 0 }, stolen[] = "stolen";
	int p[2], st, rc_r, rc_w;
	int32_t msg[2];
	uint64_t t0, t1;
	struct dvk *h;
	pid_t v;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: dvk_fs_reuse FS_EP EP\n");
		return 2;
	}
	if (pipe(p) < 0)
		return 2;
	v = fork();
	if (v < 0)
		return 2;
	if (v == 0) {
		close(p[0]);
		victim(atoi(argv[1]), atoi(argv[2]), p[1]);
		_exit(2);
	}
	close(p[1]);
	if (read(p[0], msg, sizeof(msg)) != (ssize_t)sizeof(msg)) {
		fprintf(stderr, "dvk_fs_reuse: the victim failed\n");
		return 2;
	}
	/* The stranger: takes the endpoint the moment it is free. */
	t0 = dvs_now_ns();
	while ((rc = dvk_bind(atoi(argv[2]), 0, &h)) == -EDVS_EPBUSY)
		;
	t1 = dvs_now_ns();
	if (rc < 0)
		die("stranger bind", rc);
	waitpid(v, &st, 0);
	rc_r = io(h, msg[0], FS_READ, msg[1], buf, sizeof(buf), DVK_GRANT_WRITE);
	rc_w = io(h, msg[0], FS_WRITE, msg[1], stolen, 6, DVK_GRANT_READ);
	printf("endpoint %s rebound after %.2f ms; read of descriptor %d: %d (%s); "
	       "write: %d (%s)\n",
	       argv[2], (double)(t1 - t0) / 1e6,
	       msg[1], rc_r, rc_r < 0 ? dvk_strerror(rc_r) : buf, rc_w,
	       rc_w < 0 ? dvk_strerror(rc_w) : "written");
	dvk_unbind(h);
	if (rc_r >= 0 || rc_w >= 0)
		return 1;
	return 0;
}
