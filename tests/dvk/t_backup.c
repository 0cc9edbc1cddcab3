/* t_backup.c - a backup takes an endpoint over when its primary dies. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "itest.h"
#include "itests.h"

enum { WHO = 1, HOLD = 2 };

struct bshared {
	volatile int held;
	volatile int backup_ready;
	volatile int promoted;
};
static struct bshared *bs;

/* Answers WHO with its id; takes HOLD and never answers it. */
static void
serve(struct dvk *h, int id)
{
	dvk_msg_t m;

	for (;;) {
		if (dvk_receive(h, DVK_ANY, &m) != 0)
			return;
		if (m.m_type == HOLD) {
			__atomic_add_fetch(&bs->held, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		m.m_u.i32[0] = id;
		dvk_reply(h, m.m_source, &m);
	}
}

static int
primary(void *arg)
{
	(void)arg;
	serve(it_bind(5), 1);
	return 0;
}

static int
backup(void *arg)
{
	struct dvk *h;
	dvk_msg_t m;

	(void)arg;
	CHECK_RC(dvk_bind(5, DVK_BIND_BACKUP, &h), 0);
	CHECK(dvk_self(h) == 5);
	/* not the owner yet */
	CHECK_RC(dvk_wait_primary(h, 0), -ETIMEDOUT);
	CHECK_RC(dvk_receive_t(h, DVK_ANY, &m, 0), -EDVS_NOTBOUND);
	__atomic_store_n(&bs->backup_ready, 1, __ATOMIC_SEQ_CST);
	CHECK_RC(dvk_wait_primary(h, 20000), 0);
	__atomic_store_n(&bs->promoted, 1, __ATOMIC_SEQ_CST);
	serve(h, 2);
	return 0;
}

/* A client in the middle of a sendrec when the primary dies. */
static int
mid_call(void *arg)
{
	struct dvk *h = it_bind(11);
	dvk_msg_t m;
	int rc;

	(void)arg;
	it_msg(&m, HOLD, 0);
	rc = dvk_sendrec(h, 5, &m);
	if (rc != -EDVS_DEADPEER)
		return 1;
	/* its next call reaches the backup */
	it_msg(&m, WHO, 0);
	rc = dvk_sendrec_t(h, 5, &m, 10000);
	if (rc != 0 || m.m_u.i32[0] != 2)
		return 2;
	dvk_unbind(h);
	return 0;
}

static void
wait_flag(volatile int *f, int n)
{
	int64_t t0 = it_now_ms();

	while (__atomic_load_n(f, __ATOMIC_SEQ_CST) < n) {
		CHECK(it_now_ms() - t0 < 10000);
		usleep(1000);
	}
}

int
t_backup(void)
{
	struct dvk *h, *h2;
	pid_t p, b, k, b2;
	dvk_msg_t m;

	bs = mmap(NULL, sizeof(*bs), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(bs != MAP_FAILED);
	memset((void *)bs, 0, sizeof(*bs));
	h = it_bind(10);
	p = it_spawn(primary, NULL);
	CHECK_RC(dvk_wait_bound(h, 5, 5000), 0);
	b = it_spawn(backup, NULL);
	wait_flag(&bs->backup_ready, 1);
	/* a second backup is refused */
	CHECK_RC(dvk_bind(5, DVK_BIND_BACKUP, &h2), -EDVS_EPBUSY);
	CHECK(it_dvsctl("ep list --dc 1 | grep -q ' 5 '") == 0);

	it_msg(&m, WHO, 0);
	CHECK_RC(dvk_sendrec(h, 5, &m), 0);
	CHECK(m.m_u.i32[0] == 1);

	k = it_spawn(mid_call, NULL);
	wait_flag(&bs->held, 1);
	kill(p, SIGKILL);
	CHECK(it_wait(p) == 128 + SIGKILL);
	wait_flag(&bs->promoted, 1);
	CHECK(it_wait(k) == 0);

	/* a client that was not in a call goes straight to the backup */
	it_msg(&m, WHO, 0);
	CHECK_RC(dvk_sendrec(h, 5, &m), 0);
	CHECK(m.m_u.i32[0] == 2);

	/* a new backup for the new owner, and a second take-over */
	bs->backup_ready = 0;
	bs->promoted = 0;
	b2 = it_spawn(backup, NULL);
	wait_flag(&bs->backup_ready, 1);
	kill(b, SIGKILL);
	CHECK(it_wait(b) == 128 + SIGKILL);
	wait_flag(&bs->promoted, 1);
	it_msg(&m, WHO, 0);
	CHECK_RC(dvk_sendrec(h, 5, &m), 0);
	CHECK(m.m_u.i32[0] == 2);
	kill(b2, SIGKILL);
	it_wait(b2);
	/* no backup left: the endpoint is gone */
	CHECK_RC(dvk_wait_unbound(h, 5, 5000), 0);
	CHECK_RC(dvk_sendrec(h, 5, &m), -EDVS_NOTBOUND);
	dvk_unbind(h);
	return 0;
}
