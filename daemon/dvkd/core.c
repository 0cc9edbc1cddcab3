/*
 * core.c - what every part of dvkd shares: the tables, the
 * epoll set, and frees deferred to the end of a batch of events.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dvkd.h"
#include "dvs/log.h"

struct dvkd dvkd;

static void *(*loop_fn)(void *);

void
dvkd_set_loop(void *(*fn)(void *))
{
	loop_fn = fn;
}

int
dvkd_loop_handover(void)
{
	pthread_attr_t a;
	pthread_t t;
	int rc;

	if (loop_fn == NULL)
		return -ENOSYS;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &a, loop_fn, NULL);
	pthread_attr_destroy(&a);
	return rc == 0 ? 0 : -rc;
}

int
dvkd_ep_add(int fd, struct ev *ev)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = ev };

	if (epoll_ctl(dvkd.epfd, EPOLL_CTL_ADD, fd, &e) < 0)
		return -errno;
	return 0;
}

int
dvkd_ep_out(int fd, struct ev *ev, int out)
{
	struct epoll_event e = { .events = EPOLLIN | (out ? EPOLLOUT : 0),
				 .data.ptr = ev };

	if (epoll_ctl(dvkd.epfd, EPOLL_CTL_MOD, fd, &e) < 0)
		return -errno;
	return 0;
}

void
dvkd_ep_del(int fd)
{
	if (fd >= 0)
		epoll_ctl(dvkd.epfd, EPOLL_CTL_DEL, fd, NULL);
}

int
dvkd_ep_close(int *fd)
{
	if (*fd < 0)
		return 0;
	dvkd_ep_del(*fd);
	close(*fd);
	*fd = -1;
	return 1;
}

struct deferred {
	void (*fn)(void *);
	void *p;
};
static struct deferred *deferred;
static size_t ndeferred, capdeferred;

void
dvkd_defer(void (*fn)(void *), void *p)
{
	if (ndeferred == capdeferred) {
		size_t cap = capdeferred ? capdeferred * 2 : 64;
		struct deferred *d = realloc(deferred, cap * sizeof(*d));

		if (d == NULL) {
			/* Leaking beats a use-after-free. */
			dvs_err("out of memory");
			return;
		}
		deferred = d;
		capdeferred = cap;
	}
	deferred[ndeferred].fn = fn;
	deferred[ndeferred].p = p;
	ndeferred++;
}

void
dvkd_run_deferred(void)
{
	size_t i;

	for (i = 0; i < ndeferred; i++)
		deferred[i].fn(deferred[i].p);
	ndeferred = 0;
}

void
dvkd_deferred_release(void)
{
	dvkd_run_deferred();
	free(deferred);
	deferred = NULL;
	capdeferred = 0;
}

int
dvkd_recv_req(int fd, struct dvkd_msg *m)
{
	int fds[2], nfds, rc = dvkd_recv(fd, m, fds, 2, &nfds, MSG_DONTWAIT);

	if (rc == 0 && nfds > 0) {
		while (nfds > 0)
			close(fds[--nfds]);
		rc = -EDVS_PROTO;
	}
	return rc;
}
