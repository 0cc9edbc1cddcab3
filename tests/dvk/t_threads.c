/* t_threads.c - 8 threads of one process in concurrent sendrec. */
#include <pthread.h>
#include <string.h>

#include "itest.h"
#include "itests.h"

#define NTHREADS 8
#define CALLS 3000

static int
server(void *arg)
{
	struct dvk *h = it_bind(1);
	dvk_msg_t m;

	(void)arg;
	for (;;) {
		CHECK_RC(dvk_receive(h, DVK_ANY, &m), 0);
		if (m.m_type == 9)
			return 0;
		/* the reply depends on the request and its sender */
		m.m_u.i64[2] = m.m_u.i64[0] * 3 + m.m_u.i64[1] + m.m_source;
		CHECK_RC(dvk_reply(h, m.m_source, &m), 0);
	}
}

static pthread_barrier_t all_bound, all_done;

struct thr {
	pthread_t t;
	int id;
	dvk_ep_t ep;
	int bad;
};

static void *
client(void *arg)
{
	struct thr *t = arg;
	struct dvk *h;
	dvk_msg_t m;
	int i;

	if (dvk_bind(DVK_ANY, 0, &h) != 0) {
		t->bad = -1;
		h = NULL;
	}
	/* all at once: each holds its own endpoint during the calls */
	pthread_barrier_wait(&all_bound);
	if (h == NULL) {
		pthread_barrier_wait(&all_done);
		return NULL;
	}
	t->ep = dvk_self(h);
	for (i = 0; i < CALLS; i++) {
		memset(&m, 0, sizeof(m));
		m.m_type = 1;
		m.m_u.i64[0] = i;
		m.m_u.i64[1] = t->id * 1000000;
		if (dvk_sendrec(h, 1, &m) != 0 || m.m_source != 1 ||
		    m.m_u.i64[0] != i ||
		    m.m_u.i64[2] != (int64_t)i * 3 + t->id * 1000000 + t->ep)
			t->bad++;
	}
	pthread_barrier_wait(&all_done);
	dvk_unbind(h);
	return NULL;
}

int
t_threads(void)
{
	struct thr t[NTHREADS];
	struct dvk *h;
	dvk_msg_t m;
	pid_t srv;
	int i, k;

	srv = it_spawn(server, NULL);
	h = it_bind(2);
	CHECK_RC(dvk_wait_bound(h, 1, 5000), 0);
	pthread_barrier_init(&all_bound, NULL, NTHREADS);
	pthread_barrier_init(&all_done, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].id = i + 1;
		CHECK(pthread_create(&t[i].t, NULL, client, &t[i]) == 0);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i].t, NULL);
	for (i = 0; i < NTHREADS; i++) {
		CHECK(t[i].bad == 0);
		CHECK(t[i].ep >= 0 && t[i].ep < 64 && t[i].ep != 1 && t[i].ep != 2);
		for (k = 0; k < i; k++)
			CHECK(t[i].ep != t[k].ep); /* one endpoint each */
	}
	it_msg(&m, 9, 0);
	CHECK_RC(dvk_send(h, 1, &m), 0);
	CHECK(it_wait(srv) == 0);
	dvk_unbind(h);
	return 0;
}
