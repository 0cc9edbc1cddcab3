/*
 * t_gen.c - endpoint generations: what belonged to a binding that is gone
 * never passes to the next process that binds the same endpoint number,
 * and a binding that asked for it hears of a peer's end as an event.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "itest.h"
#include "itests.h"

#define GRANTEE 30
#define GLEN 4096

struct gshared {
	volatile int32_t grant;
	volatile int step;
	volatile int rc_from, rc_to;
	volatile uint32_t gen;
	unsigned char seen[16];
};
static struct gshared *gs;

static void
wait_step(int want)
{
	int64_t t0 = it_now_ms();

	while (__atomic_load_n(&gs->step, __ATOMIC_SEQ_CST) < want) {
		CHECK(it_now_ms() - t0 < 10000);
		usleep(200);
	}
}

static void
set_step(int v)
{
	__atomic_store_n(&gs->step, v, __ATOMIC_SEQ_CST);
}

/* The grantee: binds GRANTEE, copies with the grant once (it works), then
 * dies without unbinding. */
static int
grantee(void *arg)
{
	struct dvk *h = it_bind(GRANTEE);

	(void)arg;
	gs->gen = dvk_gen(h);
	set_step(1);
	wait_step(2);
	gs->rc_from = dvk_vcopy_from(h, 1, gs->grant, 0, gs->seen, sizeof(gs->seen));
	set_step(3);
	for (;;)
		pause();
	return 0;
}

/* Another process on the same endpoint: tries the dead grantee's grant
 * both ways. */
static int
thief(void *arg)
{
	static const unsigned char junk[16] = "overwritten!!!!";
	unsigned char got[16];
	struct dvk *h;
	int rc;

	(void)arg;
	/* Take the endpoint the moment it is free. */
	while ((rc = dvk_bind(GRANTEE, 0, &h)) == -EDVS_EPBUSY)
		;
	CHECK_RC(rc, 0);
	gs->gen = dvk_gen(h);
	gs->rc_from = dvk_vcopy_from(h, 1, gs->grant, 0, got, sizeof(got));
	gs->rc_to = dvk_vcopy_to(h, 1, gs->grant, 0, junk, sizeof(junk));
	dvk_unbind(h);
	return 0;
}

/* A grant to endpoint GRANTEE is for the process bound there when it was
 * made: once that one is gone, whoever binds GRANTEE next is refused. */
int
t_gen_grant(void)
{
	unsigned char *buf = malloc(GLEN);
	struct dvk *h;
	dvk_grant_t g;
	uint32_t old_gen;
	pid_t p;

	CHECK(buf != NULL);
	memset(buf, 0x77, GLEN);
	gs = mmap(NULL, sizeof(*gs), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	CHECK(gs != MAP_FAILED);
	h = it_bind(1);

	/* The grantee uses the grant: it is a good one. */
	p = it_spawn(grantee, NULL);
	wait_step(1);
	CHECK(gs->gen != 0 && gs->gen != dvk_gen(h));
	CHECK(dvk_peer_alive(h, GRANTEE, gs->gen));
	CHECK_RC(dvk_grant(h, GRANTEE, buf, GLEN, DVK_GRANT_READ | DVK_GRANT_WRITE, &g), 0);
	gs->grant = g;
	set_step(2);
	wait_step(3);
	CHECK_RC(gs->rc_from, 0);
	CHECK(gs->seen[0] == 0x77 && gs->seen[15] == 0x77);
	old_gen = gs->gen;

	/* It dies; a different process binds the endpoint at once. */
	gs->rc_from = gs->rc_to = 1;
	{
		pid_t t = it_spawn(thief, NULL);

		usleep(20 * 1000); /* the thief is spinning on the bind */
		kill(p, SIGKILL);
		CHECK(it_wait(p) == 128 + SIGKILL);
		CHECK(it_wait(t) == 0);
	}
	CHECK(gs->gen != old_gen);
	CHECK(!dvk_peer_alive(h, GRANTEE, old_gen));
	fprintf(stderr, "new binding of %d: vcopy_from %s, vcopy_to %s\n", GRANTEE,
		dvk_strerror(gs->rc_from), dvk_strerror(gs->rc_to));
	CHECK_RC(gs->rc_from, -EDVS_GRANTPEER);
	CHECK_RC(gs->rc_to, -EDVS_GRANTPEER);
	CHECK(buf[0] == 0x77 && buf[15] == 0x77);

	/* A grant to an endpoint nobody holds is for the processes that
	 * bind it afterwards (a server may grant before its peer is up). */
	CHECK_RC(dvk_wait_unbound(h, GRANTEE, 5000), 0);
	CHECK_RC(dvk_grant(h, GRANTEE, buf, GLEN, DVK_GRANT_READ, &g), 0);
	gs->grant = g;
	gs->rc_from = gs->rc_to = 1;
	p = it_spawn(thief, NULL);
	CHECK(it_wait(p) == 0);
	CHECK_RC(gs->rc_from, 0);
	CHECK_RC(gs->rc_to, -EDVS_GRANTACCESS);

	dvk_unbind(h);
	free(buf);
	return 0;
}

/* Sends one message carrying its generation to endpoint 1, then unbinds
 * (arg non-NULL) or dies. */
static int
leaver(void *arg)
{
	struct dvk *h = it_bind(GRANTEE);
	dvk_msg_t m;

	it_msg(&m, 5, (int32_t)dvk_gen(h));
	CHECK_RC(dvk_send(h, 2, &m), 0);
	CHECK_RC(dvk_send(h, 1, &m), 0);
	if (arg != NULL) {
		CHECK_RC(dvk_unbind(h), 0);
		return 0;
	}
	kill(getpid(), SIGKILL);
	return 1;
}

/* The peer-gone event: after the messages of the gone binding, with its
 * endpoint, generation and reason; only for bindings that asked. */
int
t_peer_gone(void)
{
	struct dvk_peer_gone g;
	struct dvk *h, *quiet;
	dvk_msg_t m;
	uint32_t gen;
	int k;
	pid_t p;

	CHECK_RC(dvk_bind(1, DVK_BIND_PEER_EVENTS, &h), 0);
	quiet = it_bind(2);
	for (k = 0; k < 2; k++) {
		p = it_spawn(leaver, k == 0 ? NULL : (void *)1);
		/* its message first, with the sender's generation */
		CHECK_RC(dvk_receive_t(h, DVK_ANY, &m, 5000), 0);
		CHECK(m.m_source == GRANTEE && m.m_type == 5);
		gen = (uint32_t)m.m_u.i32[0];
		CHECK(gen != 0 && dvk_peer_gen(h) == gen);
		/* then the event */
		CHECK_RC(dvk_receive_t(h, DVK_ANY, &m, 5000), 0);
		CHECK(m.m_source == DVK_SYSTEM && m.m_type == DVK_MSG_PEER_GONE);
		g = m.m_u.dvk_peer_gone;
		CHECK(g.ep == GRANTEE && g.gen == gen);
		CHECK(g.reason == (k == 0 ? DVK_GONE_DEATH : DVK_GONE_UNBIND));
		CHECK(dvk_peer_gen(h) == 0);
		it_wait(p);
		/* a binding that did not ask gets the message, no event */
		CHECK_RC(dvk_receive_t(quiet, DVK_ANY, &m, 5000), 0);
		CHECK(m.m_source == GRANTEE && m.m_type == 5);
		CHECK_RC(dvk_receive_t(quiet, DVK_ANY, &m, 100), -ETIMEDOUT);
	}
	CHECK_RC(dvk_receive_t(h, DVK_ANY, &m, 100), -ETIMEDOUT);
	dvk_unbind(quiet);
	dvk_unbind(h);
	return 0;
}
