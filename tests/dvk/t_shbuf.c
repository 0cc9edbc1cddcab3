/* t_shbuf.c - vcopy between two copy buffers (dvk_buf_alloc on both sides:
 * dvkd copies between its own two mappings): data both ways, small and
 * large, refusals, a false BUF_WHERE, and the owner killed mid-copy. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dvk_int.h"
#include "dvs/dvkd_proto.h"
#include "itest.h"
#include "itests.h"

#define SB_LEN (16u << 20)
#define SB_KILL (64u << 20)

enum { SB_FROM = 1, SB_TO, SB_QUIT = 9 };

static uint8_t
sb_pat(uint64_t i, int seed)
{
	return (uint8_t)(i * 11 + (uint64_t)seed * 5 + (i >> 13));
}

/* ep 1: copies between the grant a request names and its own copy buffer;
 * i32[1] = grant, i64[1] = grant offset, i64[2] = len, i64[3] = buffer
 * offset, i32[8] = seed; replies i32[0] = result. */
static int
sb_copier(void *arg)
{
	struct dvk *h = it_bind(1);
	uint8_t *cb;
	dvk_msg_t m;

	(void)arg;
	CHECK_RC(dvk_buf_alloc(h, SB_LEN, (void **)&cb), 0);
	for (;;) {
		uint64_t off, len, boff, i;
		int op, g, seed, rc;

		CHECK_RC(dvk_receive(h, DVK_ANY, &m), 0);
		op = m.m_type;
		if (op == SB_QUIT)
			return 0;
		g = m.m_u.i32[1];
		off = (uint64_t)m.m_u.i64[1];
		len = (uint64_t)m.m_u.i64[2];
		boff = (uint64_t)m.m_u.i64[3];
		seed = m.m_u.i32[8];
		CHECK(boff <= SB_LEN && len <= SB_LEN - boff);
		if (op == SB_FROM) {
			memset(cb + boff, 0, len);
			rc = dvk_vcopy_from(h, m.m_source, g, off, cb + boff, len);
			for (i = 0; rc == 0 && i < len; i++)
				if (cb[boff + i] != sb_pat(off + i, seed))
					rc = -999;
		} else {
			for (i = 0; i < len; i++)
				cb[boff + i] = sb_pat(off + i, seed);
			rc = dvk_vcopy_to(h, m.m_source, g, off, cb + boff, len);
		}
		m.m_u.i32[0] = rc;
		CHECK_RC(dvk_reply(h, m.m_source, &m), 0);
	}
}

static int
sb_ask(struct dvk *h, int op, dvk_grant_t g, uint64_t off, uint64_t len, uint64_t boff,
       int seed)
{
	dvk_msg_t m;

	memset(&m, 0, sizeof(m));
	m.m_type = op;
	m.m_u.i32[1] = g;
	m.m_u.i64[1] = (int64_t)off;
	m.m_u.i64[2] = (int64_t)len;
	m.m_u.i64[3] = (int64_t)boff;
	m.m_u.i32[8] = seed;
	CHECK_RC(dvk_sendrec(h, 1, &m), 0);
	return m.m_u.i32[0];
}

/* Sends BUF_WHERE for buffer id at addr by hand. */
static int
sb_where(struct dvk *h, uint32_t id, uint64_t addr)
{
	struct dvkd_msg req, rep;

	dvkd_msg_init(&req, DVKD_BUF_WHERE, 0);
	req.u.where.id = id;
	req.u.where.addr = addr;
	return dvk_ctl_call(h, &req, &rep, NULL, 0, NULL);
}

static void
sb_fill(uint8_t *p, uint64_t off, uint64_t len, int seed)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		p[i] = sb_pat(off + i, seed);
}

static int
sb_same(const uint8_t *p, uint64_t off, uint64_t len, int seed)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		if (p[i] != sb_pat(off + i, seed))
			return 0;
	return 1;
}

/* ---- the owner killed while the copier copies between the buffers ---- */

struct sb_shared {
	volatile int32_t grant;
	volatile int started;
};
static struct sb_shared *sbs;

/* ep 5: a copy buffer granted to ep 1 (read, or write if arg), then waits
 * to be killed. */
static int
sb_owner(void *arg)
{
	struct dvk *h = it_bind(5);
	dvk_grant_t g;
	void *p;

	CHECK_RC(dvk_buf_alloc(h, SB_KILL, &p), 0);
	memset(p, 0x5a, SB_KILL);
	CHECK_RC(dvk_grant(h, 1, p, SB_KILL, arg != NULL ? DVK_GRANT_WRITE : DVK_GRANT_READ, &g), 0);
	sbs->grant = g;
	__atomic_store_n(&sbs->started, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

static void
sb_kill_owner(struct dvk *h, uint8_t *cb)
{
	int64_t t0;
	dvk_msg_t m;
	pid_t o;
	int k, n, rc;

	sbs = mmap(NULL, sizeof(*sbs), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sbs != MAP_FAILED);
	for (k = 0; k < 4; k++) {
		int to = k & 1;

		sbs->started = 0;
		o = it_spawn(sb_owner, to ? (void *)1 : NULL);
		for (t0 = it_now_ms(); !__atomic_load_n(&sbs->started, __ATOMIC_SEQ_CST);) {
			CHECK(it_now_ms() - t0 < 10000);
			usleep(1000);
		}
		if (!to) {
			memset(cb, 0, SB_KILL);
			CHECK_RC(dvk_vcopy_from(h, 5, sbs->grant, 0, cb, SB_KILL), 0);
			CHECK(cb[0] == 0x5a && cb[SB_KILL - 1] == 0x5a);
		} else {
			CHECK_RC(dvk_vcopy_to(h, 5, sbs->grant, 0, cb, SB_KILL), 0);
		}
		if (fork() == 0) {
			usleep(2000 + k * 4000);
			kill(o, SIGKILL);
			_exit(0);
		}
		t0 = it_now_ms();
		for (n = 0;; n++) {
			rc = to ? dvk_vcopy_to(h, 5, sbs->grant, 0, cb, SB_KILL)
				: dvk_vcopy_from(h, 5, sbs->grant, 0, cb, SB_KILL);
			if (rc != 0)
				break;
			CHECK(it_now_ms() - t0 < 20000);
		}
		fprintf(stderr, "owner killed after %d shared copies (%s): %s\n", n,
			to ? "to" : "from", dvk_strerror(rc));
		CHECK(rc == -EDVS_DEADPEER || rc == -EDVS_NOTBOUND);
		CHECK(it_wait(o) == 128 + SIGKILL);
		CHECK_RC(dvk_wait_unbound(h, 5, 5000), 0);
		/* dvkd still serves us */
		it_msg(&m, 1, 50 + k);
		CHECK_RC(dvk_sendrec(h, 7, &m), 0);
		CHECK(m.m_u.i32[0] == 50 + k);
	}
	munmap(sbs, sizeof(*sbs));
}

int
t_vcopy_shared(void)
{
	uint8_t *ob, *plain, *cb;
	dvk_grant_t gr, gw, gp;
	struct dvk *h;
	dvk_msg_t m;
	pid_t c, e;

	c = it_spawn(sb_copier, NULL);
	h = it_bind(2);
	CHECK_RC(dvk_wait_bound(h, 1, 5000), 0);
	CHECK_RC(dvk_buf_alloc(h, SB_LEN, (void **)&ob), 0);

	/* shared -> shared: large (copy threads) and small (main loop) */
	sb_fill(ob, 0, SB_LEN, 1);
	CHECK_RC(dvk_grant(h, 1, ob, SB_LEN, DVK_GRANT_READ, &gr), 0);
	CHECK_RC(sb_ask(h, SB_FROM, gr, 0, SB_LEN, 0, 1), 0);
	CHECK_RC(sb_ask(h, SB_FROM, gr, 12345, 100, 7, 1), 0);
	CHECK_RC(sb_ask(h, SB_FROM, gr, SB_LEN - 1, 1, SB_LEN - 1, 1), 0);
	/* a grant of a part of the buffer */
	CHECK_RC(dvk_grant(h, 1, ob + 4096, 3u << 20, DVK_GRANT_READ | DVK_GRANT_WRITE, &gp), 0);
	sb_fill(ob + 4096, 0, 3u << 20, 4);
	CHECK_RC(sb_ask(h, SB_FROM, gp, 10, 2u << 20, 3, 4), 0);

	/* refused: out of the grant, both directions, nothing written */
	CHECK_RC(sb_ask(h, SB_FROM, gp, (3u << 20) - 10, 11, 0, 4), -EDVS_GRANTRANGE);
	CHECK_RC(sb_ask(h, SB_TO, gp, (3u << 20) - 10, 11, 0, 9), -EDVS_GRANTRANGE);
	CHECK_RC(sb_ask(h, SB_TO, gp, UINT64_MAX - 5, 10, 0, 9), -EDVS_GRANTRANGE);
	CHECK(sb_same(ob + 4096, 0, 3u << 20, 4));
	CHECK_RC(sb_ask(h, SB_TO, gr, 0, 10, 0, 9), -EDVS_GRANTACCESS);
	CHECK_RC(dvk_revoke(h, gr), 0);
	CHECK_RC(sb_ask(h, SB_FROM, gr, 0, 10, 0, 1), -EDVS_REVOKED);

	/* shared -> shared the other way: large and small */
	memset(ob, 0, SB_LEN);
	CHECK_RC(dvk_grant(h, 1, ob, SB_LEN, DVK_GRANT_WRITE, &gw), 0);
	CHECK_RC(sb_ask(h, SB_TO, gw, 0, SB_LEN, 0, 2), 0);
	CHECK(sb_same(ob, 0, SB_LEN, 2));
	CHECK_RC(sb_ask(h, SB_TO, gw, 100, 50, 1000, 3), 0);
	CHECK(sb_same(ob + 100, 100, 50, 3));
	CHECK(ob[99] == sb_pat(99, 2) && ob[150] == sb_pat(150, 2));
	CHECK_RC(sb_ask(h, SB_TO, gp, 0, 3u << 20, 5, 6), 0);
	CHECK(sb_same(ob + 4096, 0, 3u << 20, 6));
	CHECK(ob[4095] == sb_pat(4095, 2) && ob[4096 + (3u << 20)] == sb_pat(4096 + (3u << 20), 2));

	/* BUF_WHERE checks its input: unknown id, address 0, a range that
	 * wraps, the staging buffer */
	CHECK_RC(sb_where(h, 999, (uintptr_t)ob), -EINVAL);
	CHECK_RC(sb_where(h, h->bufs->id, 0), -EINVAL);
	CHECK_RC(sb_where(h, h->bufs->id, UINT64_MAX - 4096), -EINVAL);
	/* A false claim only redirects our own memory to our own buffer:
	 * say the buffer is at plain, and a grant of plain reads the
	 * buffer's bytes. */
	plain = malloc(SB_LEN);
	CHECK(plain != NULL);
	memset(plain, 0xee, SB_LEN);
	CHECK_RC(sb_where(h, h->bufs->id, (uintptr_t)plain), 0);
	CHECK_RC(dvk_grant(h, 1, plain, SB_LEN, DVK_GRANT_READ, &gr), 0);
	sb_fill(ob, 0, SB_LEN, 8);
	CHECK_RC(sb_ask(h, SB_FROM, gr, 0, SB_LEN, 0, 8), 0);
	CHECK_RC(sb_where(h, h->bufs->id, (uintptr_t)ob), 0);
	CHECK_RC(dvk_buf_free(h, ob), 0);
	/* a grant of ordinary memory to a copy buffer still works */
	sb_fill(plain, 0, SB_LEN, 10);
	CHECK_RC(sb_ask(h, SB_FROM, gr, 0, SB_LEN, 0, 10), 0);

	it_msg(&m, SB_QUIT, 0);
	CHECK_RC(dvk_send(h, 1, &m), 0);
	CHECK(it_wait(c) == 0);
	free(plain);
	dvk_unbind(h);

	/* the owner dies while we copy between the buffers, both ways */
	h = it_bind(1);
	e = it_spawn(it_echo7, NULL);
	CHECK_RC(dvk_wait_bound(h, 7, 5000), 0);
	CHECK_RC(dvk_buf_alloc(h, SB_KILL, (void **)&cb), 0);
	sb_kill_owner(h, cb);
	CHECK_RC(dvk_buf_free(h, cb), 0);
	kill(e, SIGKILL);
	it_wait(e);
	dvk_unbind(h);
	return 0;
}
