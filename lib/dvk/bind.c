/*
 * bind.c - admission, binding and unbinding.
 *
 * The admission is an inherited socket (its number in DVK_ADMIT_FD) whose
 * other end dvkd holds, tagged with a DC and an endpoint range.  To bind,
 * we send BIND over it with one end of a fresh socketpair; that socket
 * becomes this binding's own control connection and carries the reply, so
 * threads and forked children that share the admission never read each
 * other's replies.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dvk_int.h"
#include "dvs/parse.h"

static pthread_once_t admit_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t admit_lock = PTHREAD_MUTEX_INITIALIZER;
static int admit_fd = -1;

static void
admit_init(void)
{
	const char *s = getenv(DVKD_ADMIT_ENV);
	struct stat st;
	long v;

	if (s == NULL || dvs_parse_long(s, 0, 1 << 20, &v) != 0)
		return;
	if (fstat((int)v, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	admit_fd = (int)v;
}

static int
wait_reply_on(int sock, struct dvkd_msg *rep, int *fds, int *nfds)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	int rc;

	do
		rc = poll(&pfd, 1, 10000);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return -EDVS_NODAEMON;
	rc = dvkd_recv(sock, rep, fds, 3, nfds, 0);
	if (rc < 0)
		return rc;
	if (rep->h.type != DVKD_REPLY) {
		while (*nfds > 0)
			close(fds[--*nfds]);
		return -EDVS_PROTO;
	}
	return rep->h.status;
}

int
dvk_bind(dvk_ep_t ep, unsigned flags, struct dvk **out)
{
	struct dvkd_msg req, rep;
	struct dvk *h = NULL;
	int sv[2] = { -1, -1 }, fds[3], nfds = 0, rc;
	void *p;

	if (out == NULL ||
	    (flags & ~(unsigned)(DVK_BIND_BACKUP | DVK_BIND_PEER_EVENTS)) != 0)
		return -EINVAL;
	*out = NULL;
	pthread_once(&admit_once, admit_init);
	if (admit_fd < 0)
		return -EDVS_NOTADMITTED;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	dvkd_msg_init(&req, DVKD_BIND, 1);
	req.u.bind.ep = ep;
	req.u.bind.flags = flags;
	pthread_mutex_lock(&admit_lock);
	rc = dvkd_send(admit_fd, &req, &sv[1], 1, 0);
	pthread_mutex_unlock(&admit_lock);
	close(sv[1]);
	sv[1] = -1;
	if (rc < 0) {
		rc = rc == -ECONNREFUSED || rc == -ENOTCONN ? -EDVS_NODAEMON : rc;
		goto fail;
	}
	rc = wait_reply_on(sv[0], &rep, fds, &nfds);
	if (rc < 0)
		goto fail;
	rc = -EDVS_PROTO;
	if (nfds != 3 || rep.u.bound.gen == 0 || rep.u.bound.dc_size <= 0 ||
	    rep.u.bound.dc_size > DVK_MAX_DC_EPS || rep.u.bound.ep < 0 ||
	    rep.u.bound.ep >= rep.u.bound.dc_size)
		goto fail;
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	h->magic = DVK_HANDLE_MAGIC;
	h->ctl = sv[0];
	sv[0] = -1;
	h->dc = rep.u.bound.dc;
	h->ep = rep.u.bound.ep;
	h->dc_size = rep.u.bound.dc_size;
	h->gen = rep.u.bound.gen;
	h->call_timeout_ms = rep.u.bound.call_timeout_ms > 0 ? rep.u.bound.call_timeout_ms : -1;
	h->events = (flags & DVK_BIND_PEER_EVENTS) != 0;
	h->backup = (rep.u.bound.flags & DVKD_BOUND_BACKUP) != 0;
	h->nwords = ((unsigned)h->dc_size + 63) / 64;
	h->spin_ns = DVK_SPIN_NS_DEFAULT;	 /* DVK_OPT_SPIN_US */
	h->ctl_timeout_def = DVK_CTL_TIMEOUT_MS; /* DVK_OPT_CTL_TIMEOUT_MS */
	h->out = calloc((size_t)h->dc_size, sizeof(*h->out));
	h->in = calloc((size_t)h->dc_size, sizeof(*h->in));
	h->pending = calloc(h->nwords, sizeof(*h->pending));
	if (h->out == NULL || h->in == NULL || h->pending == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	p = mmap(NULL, DVK_DOORBELL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	h->db = p;
	p = mmap(NULL, DVK_GRANT_TABLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fds[1], 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	h->gt = p;
	p = mmap(NULL, DVK_GEN_TABLE_SIZE, PROT_READ, MAP_SHARED, fds[2], 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	h->gens = p;
	h->ctl_seen = atomic_load(&h->db->ctl_seq);
	close(fds[0]);
	close(fds[1]);
	close(fds[2]);
	nfds = 0;
	/* Only dvkd (privileged) may read or write our memory, and only
	 * through grants: keep other processes of our uid out of it. */
	if (rep.u.bound.flags & DVKD_BOUND_PRIV)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	*out = h;
	return 0;
fail:
	while (nfds > 0)
		close(fds[--nfds]);
	if (sv[0] >= 0)
		close(sv[0]);
	if (h != NULL) {
		h->magic = 0;
		if (h->db != NULL)
			munmap(h->db, DVK_DOORBELL_SIZE);
		if (h->gt != NULL)
			munmap(h->gt, DVK_GRANT_TABLE_SIZE);
		if (h->gens != NULL)
			munmap((void *)h->gens, DVK_GEN_TABLE_SIZE);
		if (h->ctl >= 0 && h->ctl != sv[0])
			close(h->ctl);
		free(h->out);
		free(h->in);
		free(h->pending);
		free(h);
	}
	return rc;
}

int
dvk_unbind(struct dvk *h)
{
	struct dvkd_msg req, rep;
	int rc, i;

	if (h == NULL)
		return 0;
	rc = dvk_enter(h);
	if (rc == -EINVAL)
		return rc;
	if (!h->daemon_gone) {
		/* Wait for dvkd to drop the endpoint, so that a rebind right
		 * after this returns never finds it busy. */
		dvkd_msg_init(&req, DVKD_UNBIND, 0);
		rc = dvk_ctl_call(h, &req, &rep, NULL, 0, NULL);
	}
	for (i = 0; i < h->dc_size; i++) {
		dvk_chan_drop(h, h->out[i]);
		dvk_chan_drop(h, h->in[i]);
	}
	dvk_bufs_unmap(h);
	close(h->ctl);
	munmap(h->db, DVK_DOORBELL_SIZE);
	munmap(h->gt, DVK_GRANT_TABLE_SIZE);
	munmap((void *)h->gens, DVK_GEN_TABLE_SIZE);
	free(h->out);
	free(h->in);
	free(h->pending);
	free(h->gone);
	free(h->gone_why);
	h->magic = 0;
	free(h);
	return rc == -EDVS_NODAEMON ? 0 : rc;
}

dvk_ep_t
dvk_self(const struct dvk *h)
{
	return dvk_check(h) == -EINVAL ? DVK_NONE : h->ep;
}

int
dvk_dc(const struct dvk *h)
{
	return dvk_check(h) == -EINVAL ? -EINVAL : h->dc;
}

uint32_t
dvk_gen(const struct dvk *h)
{
	return dvk_check(h) == -EINVAL ? 0 : h->gen;
}

uint32_t
dvk_peer_gen(const struct dvk *h)
{
	return dvk_check(h) == -EINVAL ? 0 : h->last_gen;
}

int
dvk_peer_alive(const struct dvk *h, dvk_ep_t ep, uint32_t gen)
{
	if (dvk_check(h) == -EINVAL || ep < 0 || ep >= h->dc_size || gen == 0)
		return 0;
	return atomic_load_explicit(&h->gens->gen[ep], memory_order_acquire) == gen;
}

static int
promoted_ready(void *arg)
{
	struct dvk *h = arg;

	return atomic_load_explicit(&h->db->ctl_seq, memory_order_acquire) !=
	       h->ctl_seen;
}

int
dvk_wait_primary(struct dvk *h, int timeout_ms)
{
	dvk_deadline_t dl = dvk_deadline(timeout_ms);
	int rc = dvk_enter(h);

	if (rc < 0)
		return rc;
	for (;;) {
		dvk_ctl_poll(h, 0);
		if (!h->backup)
			return 0;
		if (h->daemon_gone)
			return -EDVS_NODAEMON;
		rc = dvk_wait(h, &h->db->futex, &h->db->sleeping, promoted_ready,
			      h, dl, 0, NULL);
		if (rc < 0)
			return rc;
	}
}

static int
query(struct dvk *h, dvk_ep_t ep, int *state)
{
	struct dvkd_msg req, rep;
	int rc;

	dvkd_msg_init(&req, DVKD_QUERY, 0);
	req.u.query.ep = ep;
	rc = dvk_ctl_call(h, &req, &rep, NULL, 0, NULL);
	if (rc < 0)
		return rc;
	*state = rep.u.qrep.state;
	return 0;
}

static int
wait_state(struct dvk *h, dvk_ep_t ep, int want, int timeout_ms)
{
	dvk_deadline_t dl = dvk_deadline(timeout_ms);
	int rc = dvk_enter(h), state;

	if (rc < 0)
		return rc;
	if (ep < 0 || ep >= h->dc_size)
		return -EDVS_BADEP;
	for (;;) {
		rc = query(h, ep, &state);
		if (rc < 0)
			return rc;
		if (state == want)
			return 0;
		if (dvk_now_ns() >= dl)
			return -ETIMEDOUT;
		/* Binding is rare and slow next to this poll. */
		usleep(2000);
	}
}

int
dvk_wait_bound(struct dvk *h, dvk_ep_t ep, int timeout_ms)
{
	return wait_state(h, ep, DVKD_EP_BOUND, timeout_ms);
}

int
dvk_wait_unbound(struct dvk *h, dvk_ep_t ep, int timeout_ms)
{
	return wait_state(h, ep, DVKD_EP_FREE, timeout_ms);
}
