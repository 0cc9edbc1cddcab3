/* t_grants.c - grants and vcopy: data, every refusal, and processes killed
 * in the middle of a copy. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "itest.h"
#include "itests.h"

enum { OP_FROM = 1, OP_TO, OP_BUF_FROM, OP_BUF_TO, OP_QUIT = 9 };

static uint8_t
pat(uint64_t i, int seed)
{
	return (uint8_t)(i * 7 + (uint64_t)seed * 13 + (i >> 12));
}

/* ep 1: does the vcopy a request asks for and replies with the result:
 * i32[0] = op, i32[1] = grant, i64[1] = off, i64[2] = len, i32[6] = seed */
static int
copier(void *arg)
{
	struct dvk *h = it_bind(1);
	dvk_msg_t m;
	uint8_t *buf = NULL, *dbuf = NULL;
	size_t cap = 0;

	(void)arg;
	/* a copy buffer shared with dvkd: vcopy is one copy there */
	CHECK_RC(dvk_buf_alloc(h, 16u << 20, (void **)&dbuf), 0);
	CHECK(dbuf[0] == 0 && dbuf[(16u << 20) - 1] == 0);
	for (;;) {
		int op, g, seed, rc;
		uint64_t off, len, i;

		CHECK_RC(dvk_receive(h, DVK_ANY, &m), 0);
		op = m.m_type;
		if (op == OP_QUIT) {
			CHECK_RC(dvk_buf_free(h, dbuf), 0);
			CHECK_RC(dvk_buf_free(h, dbuf), -EINVAL);
			return 0;
		}
		g = m.m_u.i32[1];
		off = (uint64_t)m.m_u.i64[1];
		len = (uint64_t)m.m_u.i64[2];
		seed = m.m_u.i32[6];
		if (op == OP_BUF_FROM || op == OP_BUF_TO) {
			buf = dbuf; /* len <= 16 MiB in these requests */
			cap = 16u << 20;
			op = op == OP_BUF_FROM ? OP_FROM : OP_TO;
		} else if (len > cap || buf == dbuf) {
			if (buf != dbuf)
				free(buf);
			buf = malloc(len);
			CHECK(buf != NULL);
			cap = len;
		}
		if (op == OP_FROM) {
			rc = dvk_vcopy_from(h, m.m_source, g, off, buf, len);
			for (i = 0; rc == 0 && i < len; i++)
				if (buf[i] != pat(off + i, seed))
					rc = -999;
		} else {
			for (i = 0; i < len; i++)
				buf[i] = pat(off + i, seed);
			rc = dvk_vcopy_to(h, m.m_source, g, off, buf, len);
		}
		m.m_u.i32[0] = rc;
		CHECK_RC(dvk_reply(h, m.m_source, &m), 0);
	}
}

static int
ask(struct dvk *h, int op, dvk_grant_t g, uint64_t off, uint64_t len, int seed)
{
	dvk_msg_t m;

	memset(&m, 0, sizeof(m));
	m.m_type = op;
	m.m_u.i32[1] = g;
	m.m_u.i64[1] = (int64_t)off;
	m.m_u.i64[2] = (int64_t)len;
	m.m_u.i32[6] = seed;
	CHECK_RC(dvk_sendrec(h, 1, &m), 0);
	return m.m_u.i32[0];
}

int
t_grants(void)
{
	size_t big = 8u << 20, i;
	uint8_t *buf = malloc(big), small[100];
	dvk_grant_t g, g2, gw, gs, gpeer;
	struct dvk *h;
	dvk_msg_t m;
	pid_t c;

	CHECK(buf != NULL);
	for (i = 0; i < big; i++)
		buf[i] = pat(i, 1);
	c = it_spawn(copier, NULL);
	h = it_bind(2);
	CHECK_RC(dvk_wait_bound(h, 1, 5000), 0);

	/* read grant: whole, part, small (inline) and large (threads) */
	CHECK_RC(dvk_grant(h, 1, buf, big, DVK_GRANT_READ, &g), 0);
	CHECK_RC(ask(h, OP_FROM, g, 0, big, 1), 0);
	CHECK_RC(ask(h, OP_FROM, g, 12345, 100, 1), 0);
	CHECK_RC(ask(h, OP_FROM, g, big - 1, 1, 1), 0);
	/* refusals, each with its own error */
	CHECK_RC(ask(h, OP_FROM, g, big - 10, 11, 1), -EDVS_GRANTRANGE);
	CHECK_RC(ask(h, OP_FROM, g, big + 1, 1, 1), -EDVS_GRANTRANGE);
	CHECK_RC(ask(h, OP_FROM, g, UINT64_MAX - 5, 10, 1), -EDVS_GRANTRANGE);
	/* a long copy (many staged requests) that leaves the grant part way
	 * is refused, and does not disturb the next copy, whose bytes are
	 * checked */
	CHECK_RC(ask(h, OP_FROM, g, 1u << 20, big, 1), -EDVS_GRANTRANGE);
	CHECK_RC(ask(h, OP_FROM, g, 3, big - 3, 1), 0);
	CHECK_RC(ask(h, OP_TO, g, 0, 10, 1), -EDVS_GRANTACCESS);
	CHECK_RC(ask(h, OP_FROM, g + 1, 0, 10, 1), -EDVS_BADGRANT);
	CHECK_RC(ask(h, OP_FROM, 12345678, 0, 10, 1), -EDVS_BADGRANT);
	CHECK_RC(ask(h, OP_FROM, -3, 0, 10, 1), -EDVS_BADGRANT);
	CHECK_RC(dvk_grant(h, 3, buf, 100, DVK_GRANT_READ | DVK_GRANT_WRITE, &gpeer), 0);
	CHECK_RC(ask(h, OP_FROM, gpeer, 0, 10, 1), -EDVS_GRANTPEER);
	CHECK_RC(ask(h, OP_TO, gpeer, 0, 10, 1), -EDVS_GRANTPEER);
	CHECK_RC(dvk_revoke(h, g), 0);
	CHECK_RC(ask(h, OP_FROM, g, 0, 10, 1), -EDVS_REVOKED);
	CHECK_RC(dvk_revoke(h, g), -EDVS_BADGRANT);
	/* a slot reused by a new grant does not revive the old id */
	CHECK_RC(dvk_grant(h, 1, buf, 100, DVK_GRANT_READ, &g2), 0);
	CHECK(g2 != g);
	CHECK_RC(ask(h, OP_FROM, g2, 0, 100, 1), 0);

	/* write grant: the copier's data lands in our memory */
	memset(buf, 0, big);
	CHECK_RC(dvk_grant(h, 1, buf, big, DVK_GRANT_WRITE, &gw), 0);
	CHECK_RC(ask(h, OP_TO, gw, 0, big, 2), 0);
	for (i = 0; i < big; i++)
		CHECK(buf[i] == pat(i, 2));
	/* the same bytes again, past the end: refused (what fit was written) */
	CHECK_RC(ask(h, OP_TO, gw, 4096, big, 2), -EDVS_GRANTRANGE);
	for (i = 0; i < big; i++)
		CHECK(buf[i] == pat(i, 2));
	CHECK_RC(ask(h, OP_TO, gw, 100, 50, 3), 0);
	for (i = 100; i < 150; i++)
		CHECK(buf[i] == pat(i, 3));
	CHECK(buf[99] == pat(99, 2) && buf[150] == pat(150, 2));
	CHECK_RC(ask(h, OP_FROM, gw, 0, 10, 1), -EDVS_GRANTACCESS);
	memset(small, 0, sizeof(small));
	CHECK_RC(dvk_grant(h, 1, small, sizeof(small), DVK_GRANT_WRITE | DVK_GRANT_READ, &gs), 0);
	CHECK_RC(ask(h, OP_TO, gs, 0, sizeof(small), 4), 0);
	CHECK(small[0] == pat(0, 4) && small[99] == pat(99, 4));
	CHECK_RC(ask(h, OP_FROM, gs, 0, sizeof(small), 4), 0);

	/* the same through the copier's dvk_buf_alloc buffer */
	CHECK_RC(ask(h, OP_BUF_TO, gw, 0, big, 5), 0);
	for (i = 0; i < big; i++)
		CHECK(buf[i] == pat(i, 5));
	CHECK_RC(dvk_grant(h, 1, buf, big, DVK_GRANT_READ, &g), 0);
	CHECK_RC(ask(h, OP_BUF_FROM, g, 0, big, 5), 0);
	CHECK_RC(ask(h, OP_BUF_FROM, g, 77, 5000, 5), 0);
	CHECK_RC(ask(h, OP_BUF_FROM, g, big - 5, 10, 5), -EDVS_GRANTRANGE);
	CHECK_RC(ask(h, OP_BUF_TO, gw, 1000, 3000, 6), 0);
	CHECK(buf[999] == pat(999, 5) && buf[1000] == pat(1000, 6) &&
	      buf[3999] == pat(3999, 6) && buf[4000] == pat(4000, 5));

	/* grant API misuse */
	CHECK_RC(dvk_grant(h, 1, buf, 0, DVK_GRANT_READ, &g), -EINVAL);
	CHECK_RC(dvk_grant(h, 1, buf, 10, 0, &g), -EINVAL);
	CHECK_RC(dvk_grant(h, 1, buf, 10, 8, &g), -EINVAL);
	CHECK_RC(dvk_grant(h, 99, buf, 10, DVK_GRANT_READ, &g), -EDVS_BADEP);
	/* copies with an owner that is not there */
	CHECK_RC(dvk_vcopy_from(h, 40, 5, 0, small, 10), -EDVS_NOTBOUND);
	CHECK_RC(dvk_vcopy_from(h, 99, 5, 0, small, 10), -EDVS_BADEP);

	it_msg(&m, OP_QUIT, 0);
	CHECK_RC(dvk_send(h, 1, &m), 0);
	CHECK(it_wait(c) == 0);
	dvk_unbind(h);
	free(buf);
	return 0;
}

/* ---- processes killed mid-copy ---- */

#define KBIG (64u << 20)

struct kshared {
	volatile int32_t grant;
	volatile int started;
};
static struct kshared *ks;

/* ep 5: grants 64 MiB to ep 1 and waits to be killed. */
static int
owner(void *arg)
{
	struct dvk *h = it_bind(5);
	uint8_t *buf = malloc(KBIG);
	dvk_grant_t g;

	(void)arg;
	CHECK(buf != NULL);
	memset(buf, 0x5a, KBIG);
	CHECK_RC(dvk_grant(h, 1, buf, KBIG, DVK_GRANT_READ, &g), 0);
	ks->grant = g;
	__atomic_store_n(&ks->started, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

/* ep 6: copies from ep 1's grant until killed, into ordinary memory
 * (arg NULL: libdvk's staging buffer, requests of 1 MiB) or into a copy
 * buffer (dvkd's copy threads, 1 MiB steps). */
static int
copy_loop(void *arg)
{
	struct dvk *h = it_bind(6);
	uint8_t *buf = malloc(KBIG);

	CHECK(buf != NULL);
	if (arg != NULL) {
		void *p;

		CHECK_RC(dvk_buf_alloc(h, KBIG, &p), 0);
		buf = p;
	}
	__atomic_store_n(&ks->started, 1, __ATOMIC_SEQ_CST);
	/* A grant is for a binding: ep 1 grants once we are bound. */
	while (ks->grant == 0)
		usleep(100);
	for (;;)
		if (dvk_vcopy_from(h, 1, ks->grant, 0, buf, KBIG) != 0)
			return 1;
}

static void
wait_started(void)
{
	int64_t t0 = it_now_ms();

	while (!__atomic_load_n(&ks->started, __ATOMIC_SEQ_CST)) {
		CHECK(it_now_ms() - t0 < 10000);
		usleep(1000);
	}
}

int
t_vcopy_kill(void)
{
	uint8_t *buf = malloc(KBIG);
	struct dvk *h;
	pid_t o, c, e;
	dvk_msg_t m;
	int rc, n, k;
	int64_t t0;
	void *cbuf;

	CHECK(buf != NULL);
	memset(buf, 1, KBIG);
	ks = mmap(NULL, sizeof(*ks), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(ks != MAP_FAILED);
	h = it_bind(1);
	e = it_spawn(it_echo7, NULL);
	CHECK_RC(dvk_wait_bound(h, 7, 5000), 0);

	CHECK_RC(dvk_buf_alloc(h, KBIG, &cbuf), 0);
	for (k = 0; k < 4; k++) {
		/* the owner dies while we copy from it: into ordinary memory,
		 * then (k == 3) into a copy buffer, which dvkd's copy threads
		 * fill */
		uint8_t *dst = k < 3 ? buf : cbuf;

		ks->started = 0;
		o = it_spawn(owner, NULL);
		wait_started();
		CHECK_RC(dvk_vcopy_from(h, 5, ks->grant, 0, dst, KBIG), 0);
		CHECK(dst[0] == 0x5a && dst[KBIG - 1] == 0x5a);
		if (fork() == 0) {
			usleep(2000 + k * 3000);
			kill(o, SIGKILL);
			_exit(0);
		}
		t0 = it_now_ms();
		for (n = 0;; n++) {
			rc = dvk_vcopy_from(h, 5, ks->grant, 0, dst, KBIG);
			if (rc != 0)
				break;
			CHECK(it_now_ms() - t0 < 20000);
		}
		fprintf(stderr, "owner killed after %d copies: %s\n", n, dvk_strerror(rc));
		CHECK(rc == -EDVS_DEADPEER || rc == -EDVS_NOTBOUND || rc == -EFAULT);
		CHECK(it_wait(o) == 128 + SIGKILL);
		/* dvkd still serves us */
		it_msg(&m, 1, 42);
		CHECK_RC(dvk_sendrec(h, 7, &m), 0);
		CHECK(m.m_u.i32[0] == 42);
	}

	/* the copier dies while it copies from us */
	memset(buf, 0x33, KBIG);
	for (k = 0; k < 2; k++) {
		dvk_grant_t g;

		ks->started = 0;
		ks->grant = 0;
		c = it_spawn(copy_loop, k == 0 ? NULL : (void *)1);
		wait_started();
		CHECK_RC(dvk_grant(h, 6, buf, KBIG, DVK_GRANT_READ, &g), 0);
		ks->grant = g;
		usleep(30 * 1000);
		kill(c, SIGKILL);
		CHECK(it_wait(c) == 128 + SIGKILL);
		CHECK_RC(dvk_wait_unbound(h, 6, 5000), 0);
		it_msg(&m, 1, 43 + k);
		CHECK_RC(dvk_sendrec(h, 7, &m), 0);
		CHECK(m.m_u.i32[0] == 43 + k);
	}
	CHECK(buf[0] == 0x33 && buf[KBIG - 1] == 0x33);
	CHECK(it_dvsctl("status >/dev/null") == 0);
	kill(e, SIGKILL);
	it_wait(e);
	dvk_unbind(h);
	free(buf);
	return 0;
}
