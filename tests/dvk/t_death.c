/* t_death.c - a server killed or unbound under waiting clients, and dvkd
 * stopped or killed under its clients: every waiter returns an error
 * quickly and nothing hangs. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dvs/dvkd_proto.h"
#include "itest.h"
#include "itests.h"

struct shared {
	volatile int received;
	volatile int ready;
	volatile double t_kill_us;
	volatile double t_ret_us[16];
	volatile int rc[16];
};

static struct shared *sh;

static struct shared *
shared_new(void)
{
	void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(p != MAP_FAILED);
	memset(p, 0, sizeof(struct shared));
	return p;
}

/* ep 1 (or *arg): takes requests, never answers. */
static int
hold_server(void *arg)
{
	dvk_ep_t ep = arg ? *(dvk_ep_t *)arg : 1;
	struct dvk *h = it_bind(ep);
	dvk_msg_t m;

	for (;;) {
		int rc = dvk_receive(h, DVK_ANY, &m);

		if (rc != 0)
			return 0;
		if (m.m_type == 5) {
			dvk_unbind(h);
			pause();
		}
		__atomic_add_fetch(&sh->received, 1, __ATOMIC_SEQ_CST);
	}
}

struct waiter {
	int idx;
	dvk_ep_t self, peer;
	int how; /* 0 sendrec, 1 receive from peer, 2 receive ANY */
};

static int
waiter(void *arg)
{
	struct waiter *w = arg;
	struct dvk *h = it_bind(w->self);
	dvk_msg_t m;
	int rc;

	CHECK_RC(dvk_wait_bound(h, w->peer, 5000), 0);
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	it_msg(&m, 1, w->idx);
	if (w->how == 0)
		rc = dvk_sendrec(h, w->peer, &m);
	else if (w->how == 1)
		rc = dvk_receive(h, w->peer, &m);
	else
		rc = dvk_receive(h, DVK_ANY, &m);
	sh->t_ret_us[w->idx] = it_now_us();
	sh->rc[w->idx] = rc;
	/* the next call finds nobody (no backup) or no dvkd */
	it_msg(&m, 1, w->idx);
	rc = dvk_sendrec_t(h, w->peer, &m, 2000);
	if (rc != -EDVS_NOTBOUND && rc != -EDVS_NODAEMON && rc != -EDVS_DEADPEER)
		return 3;
	return 0;
}

static void
wait_for(volatile int *v, int n)
{
	int64_t t0 = it_now_ms();

	while (__atomic_load_n(v, __ATOMIC_SEQ_CST) < n) {
		CHECK(it_now_ms() - t0 < 10000);
		usleep(1000);
	}
}

int
t_deadpeer(void)
{
	struct waiter w[6];
	pid_t srv, srv2, pw[6];
	dvk_ep_t ep2 = 2;
	int i;

	sh = shared_new();
	srv = it_spawn(hold_server, NULL);
	srv2 = it_spawn(hold_server, &ep2);
	/* four clients in sendrec and one in receive(1) on server 1 */
	for (i = 0; i < 5; i++) {
		w[i].idx = i;
		w[i].self = 10 + i;
		w[i].peer = 1;
		w[i].how = i == 4 ? 1 : 0;
		pw[i] = it_spawn(waiter, &w[i]);
	}
	wait_for(&sh->received, 4);
	wait_for(&sh->ready, 5);
	usleep(50 * 1000); /* the receive(1) waiter is asleep by now */
	sh->t_kill_us = it_now_us();
	kill(srv, SIGKILL);
	for (i = 0; i < 5; i++)
		CHECK(it_wait(pw[i]) == 0);
	CHECK(it_wait(srv) == 128 + SIGKILL);
	for (i = 0; i < 5; i++) {
		double ms = (sh->t_ret_us[i] - sh->t_kill_us) / 1000;

		fprintf(stderr, "waiter %d: %s after %.2f ms\n", i,
			dvk_strerror(sh->rc[i]), ms);
		CHECK(sh->rc[i] == -EDVS_DEADPEER);
		CHECK(ms >= 0 && ms < 100);
	}

	/* a server that unbinds (without dying) releases its client too */
	w[5].idx = 5;
	w[5].self = 20;
	w[5].peer = 2;
	w[5].how = 0;
	pw[5] = it_spawn(waiter, &w[5]);
	wait_for(&sh->received, 5);
	{
		/* tell server 2 to unbind: a type-5 message from us */
		struct dvk *h = it_bind(30);
		dvk_msg_t m;

		it_msg(&m, 5, 0);
		sh->t_kill_us = it_now_us();
		CHECK_RC(dvk_send(h, 2, &m), 0);
		CHECK(it_wait(pw[5]) == 0);
		CHECK(sh->rc[5] == -EDVS_DEADPEER);
		CHECK((sh->t_ret_us[5] - sh->t_kill_us) / 1000 < 100);
		dvk_unbind(h);
	}
	kill(srv2, SIGKILL);
	it_wait(srv2);
	return 0;
}

static pid_t
dvkd_pid(void)
{
	char cmd[256];
	FILE *f;
	int pid = -1;

	snprintf(cmd, sizeof(cmd), "%s/dvsctl --json status | sed 's/.*\"pid\": \\([0-9]*\\).*/\\1/'",
		 getenv("DVS_BIN"));
	f = popen(cmd, "r");
	CHECK(f != NULL);
	if (fscanf(f, "%d", &pid) != 1)
		pid = -1;
	pclose(f);
	return pid;
}

static int
stop_common(int kill_it)
{
	struct waiter w[4];
	pid_t srv, pw[4], dpid;
	struct dvk *h;
	int i, rc;

	sh = shared_new();
	srv = it_spawn(hold_server, NULL);
	for (i = 0; i < 3; i++) {
		w[i].idx = i;
		w[i].self = 10 + i;
		w[i].peer = 1;
		w[i].how = i; /* sendrec, receive(1), receive(ANY) */
		pw[i] = it_spawn(waiter, &w[i]);
	}
	wait_for(&sh->ready, 3);
	wait_for(&sh->received, 1);
	usleep(50 * 1000);
	sh->t_kill_us = it_now_us();
	if (kill_it) {
		dpid = dvkd_pid();
		CHECK(dpid > 0);
		CHECK(kill(dpid, SIGKILL) == 0);
	} else {
		CHECK(it_dvsctl("stop >/dev/null") == 0);
	}
	for (i = 0; i < 3; i++)
		CHECK(it_wait(pw[i]) == 0);
	for (i = 0; i < 3; i++) {
		double ms = (sh->t_ret_us[i] - sh->t_kill_us) / 1000;

		fprintf(stderr, "waiter %d: %s after %.2f ms\n", i,
			dvk_strerror(sh->rc[i]), ms);
		CHECK(sh->rc[i] == -EDVS_DEADPEER || sh->rc[i] == -EDVS_NODAEMON);
		CHECK(ms < 1000);
	}
	/* the server in receive(ANY) saw it too and exited */
	CHECK(it_wait(srv) == 0);
	/* new bindings fail clearly */
	rc = dvk_bind(40, 0, &h);
	CHECK(rc == -EDVS_NODAEMON);
	/* and so does dvsctl */
	CHECK(it_dvsctl("status >/dev/null 2>&1") == 3);
	return 0;
}

int
t_dvkd_stop(void)
{
	return stop_common(0);
}

int
t_dvkd_kill(void)
{
	return stop_common(1);
}
