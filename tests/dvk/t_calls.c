/* t_calls.c - every call type, ANY and specific receive, timeouts, notify. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "itest.h"
#include "itests.h"

enum { ECHO = 1, BOUNCE, COUNT, GETCOUNT, QUIT = 9 };

/* ep 1: answers ECHO (sendrec), sends BOUNCE back, counts COUNT. */
static int
echo_server(void *arg)
{
	struct dvk *h = it_bind(1);
	int count = 0;
	dvk_msg_t m;

	(void)arg;
	for (;;) {
		CHECK_RC(dvk_receive(h, DVK_ANY, &m), 0);
		switch (m.m_type) {
		case ECHO:
			m.m_u.i32[1] = m.m_source;
			m.m_u.i32[0]++;
			CHECK_RC(dvk_reply(h, m.m_source, &m), 0);
			break;
		case BOUNCE:
			m.m_type = BOUNCE + 100;
			CHECK_RC(dvk_send(h, m.m_source, &m), 0);
			break;
		case COUNT:
			count++;
			break;
		case GETCOUNT:
			m.m_u.i32[0] = count;
			CHECK_RC(dvk_reply(h, m.m_source, &m), 0);
			break;
		case QUIT:
			dvk_unbind(h);
			return 0;
		}
	}
}

struct sender_arg {
	dvk_ep_t self, dst;
	int n;
};

static int
sender(void *arg)
{
	struct sender_arg *a = arg;
	struct dvk *h = it_bind(a->self);
	dvk_msg_t m;
	int i;

	for (i = 0; i < a->n; i++) {
		it_msg(&m, 7, i);
		CHECK_RC(dvk_send(h, a->dst, &m), 0);
	}
	/* Stay bound until the receiver read everything. */
	CHECK_RC(dvk_receive(h, a->dst, &m), 0);
	dvk_unbind(h);
	return 0;
}

int
t_calls(void)
{
	struct sender_arg s3 = { 3, 2, 2 }, s4 = { 4, 2, 1 };
	pid_t srv, p3, p4;
	struct dvk *h;
	dvk_msg_t m;
	int i;

	srv = it_spawn(echo_server, NULL);
	h = it_bind(2);
	CHECK(dvk_self(h) == 2);
	CHECK(dvk_dc(h) == (getenv("DVK_ITEST_DC") ? atoi(getenv("DVK_ITEST_DC")) : 1));
	CHECK_RC(dvk_wait_bound(h, 1, 5000), 0);

	/* sendrec: the reply, stamped with the server's endpoint */
	it_msg(&m, ECHO, 41);
	CHECK_RC(dvk_sendrec(h, 1, &m), 0);
	CHECK(m.m_u.i32[0] == 42 && m.m_source == 1);
	CHECK(m.m_u.i32[1] == 2); /* the server saw our real endpoint */

	/* a forged m_source is ignored */
	it_msg(&m, ECHO, 1);
	m.m_source = 33;
	CHECK_RC(dvk_sendrec(h, 1, &m), 0);
	CHECK(m.m_u.i32[1] == 2);

	/* send + receive from one endpoint */
	it_msg(&m, BOUNCE, 5);
	CHECK_RC(dvk_send(h, 1, &m), 0);
	CHECK_RC(dvk_receive(h, 1, &m), 0);
	CHECK(m.m_type == BOUNCE + 100 && m.m_u.i32[0] == 5 && m.m_source == 1);

	/* more messages than a ring holds: send blocks, nothing is lost */
	for (i = 0; i < 1000; i++) {
		it_msg(&m, COUNT, i);
		CHECK_RC(dvk_send(h, 1, &m), 0);
	}
	it_msg(&m, GETCOUNT, 0);
	CHECK_RC(dvk_sendrec(h, 1, &m), 0);
	CHECK(m.m_u.i32[0] == 1000);

	/* receive from one endpoint while another's messages wait; ANY
	 * then takes the rest in order */
	p3 = it_spawn(sender, &s3);
	p4 = it_spawn(sender, &s4);
	CHECK_RC(dvk_wait_bound(h, 3, 5000), 0);
	CHECK_RC(dvk_wait_bound(h, 4, 5000), 0);
	CHECK_RC(dvk_receive(h, 4, &m), 0);
	CHECK(m.m_source == 4 && m.m_type == 7 && m.m_u.i32[0] == 0);
	CHECK_RC(dvk_receive(h, DVK_ANY, &m), 0);
	CHECK(m.m_source == 3 && m.m_u.i32[0] == 0);
	CHECK_RC(dvk_receive(h, DVK_ANY, &m), 0);
	CHECK(m.m_source == 3 && m.m_u.i32[0] == 1);
	CHECK_RC(dvk_receive_t(h, DVK_ANY, &m, 0), -ETIMEDOUT);

	/* reply to someone not in sendrec with us */
	CHECK_RC(dvk_reply(h, 3, &m), -EDVS_NOTWAITING);
	CHECK_RC(dvk_reply(h, 9, &m), -EDVS_NOTWAITING);
	it_msg(&m, 0, 0);
	CHECK_RC(dvk_send(h, 3, &m), 0);
	CHECK_RC(dvk_send(h, 4, &m), 0);
	CHECK(it_wait(p3) == 0 && it_wait(p4) == 0);

	/* errors that name the problem */
	CHECK_RC(dvk_send(h, 50, &m), -EDVS_NOTBOUND);
	CHECK_RC(dvk_send(h, 64, &m), -EDVS_BADEP);
	CHECK_RC(dvk_send(h, -5, &m), -EDVS_BADEP);
	CHECK_RC(dvk_sendrec(h, 50, &m), -EDVS_NOTBOUND);
	CHECK_RC(dvk_notify(h, 50), -EDVS_NOTBOUND);
	CHECK_RC(dvk_receive_t(h, 70, &m, 0), -EDVS_BADEP);
	CHECK(strcmp(dvk_strerror(-EDVS_DEADPEER), "peer died or unbound") == 0);
	CHECK(strlen(dvk_strerror(-ENOENT)) > 0);

	it_msg(&m, QUIT, 0);
	CHECK_RC(dvk_send(h, 1, &m), 0);
	CHECK(it_wait(srv) == 0);
	CHECK_RC(dvk_wait_unbound(h, 1, 5000), 0);
	CHECK_RC(dvk_send(h, 1, &m), -EDVS_NOTBOUND);
	CHECK_RC(dvk_unbind(h), 0);
	return 0;
}

/* ep 1: takes requests and answers each after *delay_ms. */
static int
slow_server(void *arg)
{
	int delay_ms = *(int *)arg;
	struct dvk *h = it_bind(1);
	dvk_msg_t m;

	for (;;) {
		CHECK_RC(dvk_receive(h, DVK_ANY, &m), 0);
		if (m.m_type == QUIT)
			return 0;
		usleep((useconds_t)delay_ms * 1000);
		CHECK_RC(dvk_reply(h, m.m_source, &m), 0);
	}
}

/* ep 3: bound, never receives. */
static int
deaf(void *arg)
{
	struct dvk *h = it_bind(3);

	(void)arg;
	pause();
	dvk_unbind(h);
	return 0;
}

int
t_timeouts(void)
{
	int delay = 300, i, rc;
	pid_t srv, d;
	struct dvk *h;
	dvk_msg_t m;
	int64_t t0, dt;

	h = it_bind(2);
	/* receive with nothing to receive */
	CHECK_RC(dvk_receive_t(h, DVK_ANY, &m, 0), -ETIMEDOUT);
	t0 = it_now_ms();
	CHECK_RC(dvk_receive_t(h, DVK_ANY, &m, 100), -ETIMEDOUT);
	dt = it_now_ms() - t0;
	CHECK(dt >= 95 && dt < 3000);

	/* sendrec to a slow server; the late reply of the timed-out call is
	 * never taken for the reply of the next one */
	srv = it_spawn(slow_server, &delay);
	CHECK_RC(dvk_wait_bound(h, 1, 5000), 0);
	it_msg(&m, ECHO, 1);
	t0 = it_now_ms();
	CHECK_RC(dvk_sendrec_t(h, 1, &m, 100), -ETIMEDOUT);
	CHECK(it_now_ms() - t0 < 3000);
	usleep(500 * 1000); /* the stale reply lands meanwhile */
	it_msg(&m, ECHO, 2);
	CHECK_RC(dvk_sendrec(h, 1, &m), 0);
	CHECK(m.m_u.i32[0] == 2);

	/* send to a full ring of a peer that never receives */
	d = it_spawn(deaf, NULL);
	CHECK_RC(dvk_wait_bound(h, 3, 5000), 0);
	for (i = 0; i < 100000; i++) {
		it_msg(&m, COUNT, i);
		rc = dvk_send_t(h, 3, &m, 0);
		if (rc != 0)
			break;
	}
	CHECK_RC(rc, -ETIMEDOUT);
	CHECK(i >= 16 && i <= 4096); /* the queue is bounded */
	t0 = it_now_ms();
	CHECK_RC(dvk_send_t(h, 3, &m, 100), -ETIMEDOUT);
	dt = it_now_ms() - t0;
	CHECK(dt >= 95 && dt < 3000);

	kill(d, SIGKILL);
	it_wait(d);
	it_msg(&m, QUIT, 0);
	CHECK_RC(dvk_send(h, 1, &m), 0);
	CHECK(it_wait(srv) == 0);
	dvk_unbind(h);
	return 0;
}

static int
notifier(void *arg)
{
	volatile int *sent = arg;
	struct dvk *h = it_bind(4);
	dvk_msg_t m;

	CHECK_RC(dvk_wait_bound(h, 2, 5000), 0);
	CHECK_RC(dvk_notify(h, 2), 0);
	CHECK_RC(dvk_notify(h, 2), 0);
	CHECK_RC(dvk_notify(h, 2), 0);
	it_msg(&m, 77, 0);
	CHECK_RC(dvk_send(h, 2, &m), 0);
	__atomic_store_n(sent, 1, __ATOMIC_SEQ_CST);
	CHECK_RC(dvk_receive(h, 2, &m), 0); /* stay until told */
	dvk_unbind(h);
	return 0;
}

int
t_notify(void)
{
	pid_t n, d;
	struct dvk *h;
	dvk_msg_t m;
	int64_t t0;
	int i, notes = 0, got77 = 0;

	volatile int *sent = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(sent != MAP_FAILED);
	h = it_bind(2);
	n = it_spawn(notifier, (void *)sent);
	/* three notifications sent before we look coalesce into one; the
	 * message still comes */
	t0 = it_now_ms();
	while (!__atomic_load_n(sent, __ATOMIC_SEQ_CST)) {
		CHECK(it_now_ms() - t0 < 10000);
		usleep(1000);
	}
	for (i = 0; i < 2; i++) {
		CHECK_RC(dvk_receive(h, DVK_ANY, &m), 0);
		CHECK(m.m_source == 4);
		if (m.m_type == DVK_MSG_NOTIFY)
			notes++;
		else if (m.m_type == 77)
			got77++;
	}
	CHECK_RC(dvk_receive_t(h, DVK_ANY, &m, 200), -ETIMEDOUT);
	CHECK(notes == 1 && got77 == 1);
	CHECK_RC(dvk_send(h, 4, &m), 0);
	CHECK(it_wait(n) == 0);

	/* notify never blocks, even towards a peer that never receives */
	d = it_spawn(deaf, NULL);
	CHECK_RC(dvk_wait_bound(h, 3, 5000), 0);
	t0 = it_now_ms();
	for (i = 0; i < 10000; i++)
		CHECK_RC(dvk_notify(h, 3), 0);
	CHECK(it_now_ms() - t0 < 5000);
	kill(d, SIGKILL);
	it_wait(d);
	dvk_unbind(h);
	return 0;
}
