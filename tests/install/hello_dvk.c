/*
 * hello_dvk.c - a program a user writes against the installed libdvk
 * (tests/install builds it with pkg-config, outside the tree): a server
 * thread on endpoint 10 answers one sendrec from endpoint 11.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <dvs/ipc.h>

static void *
server(void *arg)
{
	struct dvk *h;
	dvk_msg_t m;
	int rc;

	(void)arg;
	if (dvk_bind(10, 0, &h) < 0)
		return (void *)1;
	rc = dvk_receive(h, DVK_ANY, &m);
	if (rc == 0) {
		m.m_type += 1;
		rc = dvk_reply(h, m.m_source, &m);
	}
	dvk_unbind(h);
	return rc == 0 ? NULL : (void *)1;
}

int
main(void)
{
	struct dvk *h;
	pthread_t t;
	dvk_msg_t m;
	void *res;
	int rc;

	if (pthread_create(&t, NULL, server, NULL) != 0)
		return 1;
	rc = dvk_bind(11, 0, &h);
	if (rc < 0) {
		fprintf(stderr, "bind: %s\n", dvk_strerror(rc));
		return 1;
	}
	rc = dvk_wait_bound(h, 10, 5000);
	memset(&m, 0, sizeof(m));
	m.m_type = 41;
	if (rc == 0)
		rc = dvk_sendrec(h, 10, &m);
	pthread_join(t, &res);
	dvk_unbind(h);
	if (rc < 0 || res != NULL || m.m_type != 42) {
		fprintf(stderr, "sendrec: %s, type %d\n", dvk_strerror(rc), (int)m.m_type);
		return 1;
	}
	printf("hello from endpoint 10: type %d\n", (int)m.m_type);
	return 0;
}
