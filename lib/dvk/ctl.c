/*
 * ctl.c - a binding's control connection to dvkd, and the channel table
 * it fills.  dvkd sends events unasked (a new incoming ring, a promotion)
 * and bumps ctl_seq in our doorbell, so the fast path reads the socket
 * only when that counter moved.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dvk_int.h"

/* Calls that sleep at once after a spin went unanswered (doubling up to
 * the max while spins keep failing). */
#define DVK_CTL_NOSPIN 16
#define DVK_CTL_NOSPIN_MAX 1024

static void
close_fds(int *fds, int n)
{
	while (n > 0)
		close(fds[--n]);
}

static int
map_fd(int fd, size_t len, void **out)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0 || (size_t)st.st_size < len)
		return -EDVS_PROTO;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

/* Takes over fds (always closed). */
static int
chan_install(struct dvk *h, const struct dvkd_ring_rep *rr, int *fds, int nfds,
	     struct dvk_chan **out)
{
	struct dvk_chan *c = NULL, **slot;
	int rc = -EDVS_PROTO;
	void *p;

	if (rr->peer < 0 || rr->peer >= h->dc_size || rr->dir > DVKD_DIR_IN ||
	    rr->nslots < 2 || rr->nslots > 4096 ||
	    (rr->nslots & (rr->nslots - 1)) != 0 ||
	    nfds != (rr->dir == DVKD_DIR_OUT ? 2 : 1))
		goto out;
	slot = rr->dir == DVKD_DIR_OUT ? &h->out[rr->peer] : &h->in[rr->peer];
	if (*slot != NULL && (*slot)->id == rr->ring_id) {
		rc = 0; /* already known (an event and a reply crossed) */
		if (out != NULL)
			*out = *slot;
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	c->ops = &dvk_ring_ops;
	c->peer = rr->peer;
	c->peer_gen = rr->peer_gen;
	c->dir = rr->dir;
	c->id = rr->ring_id;
	c->nslots = rr->nslots;
	c->map_len = dvk_ring_size(rr->nslots);
	rc = map_fd(fds[0], c->map_len, &p);
	if (rc < 0)
		goto out;
	c->r = p;
	if (rr->dir == DVKD_DIR_OUT) {
		rc = map_fd(fds[1], DVK_DOORBELL_SIZE, &p);
		if (rc < 0)
			goto out;
		c->peer_db = p;
		c->pos = atomic_load(&c->r->tail);
		c->cached = atomic_load(&c->r->head);
		if (c->cached > c->pos || c->pos - c->cached > c->nslots)
			c->cached = c->pos; /* corrupt: send will notice */
	} else {
		c->pos = atomic_load(&c->r->head);
		c->cached = c->pos;
	}
	if (*slot != NULL) {
		if (h->last == *slot)
			h->last = NULL;
		(*slot)->next_grave = h->grave;
		h->grave = *slot;
	}
	*slot = c;
	if (out != NULL)
		*out = c;
	c = NULL;
	rc = 0;
out:
	if (c != NULL) {
		c->ops->close(c);
		free(c);
	}
	close_fds(fds, nfds);
	return rc;
}

void
dvk_chan_drop(struct dvk *h, struct dvk_chan *c)
{
	struct dvk_chan **slot;

	if (c == NULL)
		return;
	slot = c->dir == DVKD_DIR_OUT ? &h->out[c->peer] : &h->in[c->peer];
	if (*slot == c)
		*slot = NULL;
	if (h->last == c)
		h->last = NULL;
	c->ops->close(c);
	free(c);
}

/* Keeps a peer-gone event for receive(DVK_ANY), coalesced per endpoint
 * (the newest generation stands for the older ones). */
static void
gone_note(struct dvk *h, const struct dvkd_gone_ev *g)
{
	if (!h->events || g->ep < 0 || g->ep >= h->dc_size || g->gen == 0)
		return;
	if (h->gone == NULL) {
		h->gone = calloc((size_t)h->dc_size, sizeof(*h->gone));
		h->gone_why = calloc((size_t)h->dc_size, sizeof(*h->gone_why));
		if (h->gone == NULL || h->gone_why == NULL) {
			free(h->gone);
			free(h->gone_why);
			h->gone = NULL;
			h->gone_why = NULL;
			return;
		}
	}
	if (h->gone[g->ep] == 0)
		h->ngone++;
	if (g->gen > h->gone[g->ep]) {
		h->gone[g->ep] = g->gen;
		h->gone_why[g->ep] = (uint8_t)g->reason;
	}
}

static void
ctl_event(struct dvk *h, struct dvkd_msg *m, int *fds, int nfds)
{
	switch (m->h.type) {
	case DVKD_EV_RING:
		chan_install(h, &m->u.ring, fds, nfds, NULL);
		return;
	case DVKD_EV_PROMOTED:
		h->backup = 0;
		break;
	case DVKD_EV_GONE:
		gone_note(h, &m->u.gone);
		break;
	default:
		break;
	}
	close_fds(fds, nfds);
}

void
dvk_ctl_poll(struct dvk *h, int force)
{
	uint32_t s = atomic_load_explicit(&h->db->ctl_seq, memory_order_acquire);
	struct dvkd_msg m;
	int fds[4], nfds, rc;

	if (!force && s == h->ctl_seen)
		return;
	h->ctl_seen = s;
	for (;;) {
		rc = dvkd_recv(h->ctl, &m, fds, 4, &nfds, MSG_DONTWAIT);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK)
			return;
		if (rc < 0) {
			h->daemon_gone = 1;
			return;
		}
		ctl_event(h, &m, fds, nfds);
	}
}

static int
ctl_send(struct dvk *h, struct dvkd_msg *req, uint32_t *seq)
{
	int rc;

	if (h->daemon_gone)
		return -EDVS_NODAEMON;
	req->h.seq = ++h->ctl_req;
	rc = dvkd_send(h->ctl, req, NULL, 0, 0);
	if (rc < 0) {
		h->daemon_gone = 1;
		return rc == -EDVS_PROTO ? rc : -EDVS_NODAEMON;
	}
	*seq = req->h.seq;
	return 0;
}

static int
ctl_wait(struct dvk *h, uint32_t seq, struct dvkd_msg *rep, int *fds,
	     int max_fds, int *nfds)
{
	int tmp[4], ntmp, rc;
	int timeout_ms = h->ctl_timeout_ms > 0 ? h->ctl_timeout_ms : h->ctl_timeout_def;
	int64_t spin_end;

	h->ctl_timeout_ms = 0;
	if (h->daemon_gone)
		return -EDVS_NODAEMON;
	/* dvkd answers a copy in tens of microseconds: ask before paying
	 * for a sleep and a wake-up.  But a spin that went unanswered means
	 * dvkd is not running (asleep, or the machine is loaded and the
	 * spinning takes the CPU it needs): the next calls sleep at once,
	 * more of them after each spin that failed again (measured: on a
	 * loaded machine unanswered spins made a round trip ~100 us). */
	spin_end = 0;
	if (h->spin_ns > 0 && dvs_backoff_may_spin(&h->ctl_spin))
		spin_end = dvk_now_ns() + 4 * h->spin_ns;
	for (;;) {
		struct pollfd pfd = { .fd = h->ctl, .events = POLLIN };

		if (spin_end != 0) {
			if (dvk_now_ns() < spin_end) {
				rc = dvkd_recv(h->ctl, rep, tmp, 4, &ntmp, MSG_DONTWAIT);
				if (rc == -EAGAIN)
					continue;
				dvs_backoff_result(&h->ctl_spin, 1, 0, 0);
				goto got;
			}
			spin_end = 0;
			dvs_backoff_result(&h->ctl_spin, 0, DVK_CTL_NOSPIN, DVK_CTL_NOSPIN_MAX);
		}
		rc = poll(&pfd, 1, timeout_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0) {
			/* dvkd is alive (its end of the socket is open) but
			 * late: maybe busy, maybe stopped for a while.  Not
			 * gone: the next call waits for this reply first and
			 * goes on once dvkd answers again. */
			h->ctl_stale = seq;
			return -ETIMEDOUT;
		}
		if (rc < 0) {
			rc = -EDVS_NODAEMON;
			goto gone;
		}
		rc = dvkd_recv(h->ctl, rep, tmp, 4, &ntmp, MSG_DONTWAIT);
		if (rc == -EAGAIN)
			continue;
got:
		if (rc < 0)
			goto gone;
		if (rep->h.type == DVKD_REPLY && rep->h.seq == seq) {
			int i;

			for (i = 0; i < ntmp && i < max_fds; i++)
				fds[i] = tmp[i];
			for (; i < ntmp; i++)
				close(tmp[i]);
			if (nfds != NULL)
				*nfds = ntmp < max_fds ? ntmp : max_fds;
			return rep->h.status;
		}
		if (rep->h.type == DVKD_REPLY)
			close_fds(tmp, ntmp); /* stale */
		else
			ctl_event(h, rep, tmp, ntmp);
	}
gone:
	h->daemon_gone = 1;
	return rc == -EDVS_PROTO ? rc : -EDVS_NODAEMON;
}

int
dvk_ctl_drain(struct dvk *h)
{
	struct dvkd_msg rep;
	uint32_t seq = h->ctl_stale;
	int t = h->ctl_timeout_ms;

	if (seq == 0)
		return 0;
	h->ctl_stale = 0;
	h->ctl_timeout_ms = 0;
	ctl_wait(h, seq, &rep, NULL, 0, NULL);
	h->ctl_timeout_ms = t;
	if (h->ctl_stale != 0)
		return -ETIMEDOUT;
	return h->daemon_gone ? -EDVS_NODAEMON : 0;
}

int
dvk_ctl_call(struct dvk *h, struct dvkd_msg *req, struct dvkd_msg *rep,
	     int *fds, int max_fds, int *nfds)
{
	uint32_t seq;
	int rc = dvk_ctl_drain(h);

	if (rc < 0) {
		h->ctl_timeout_ms = 0;
		return rc;
	}
	rc = ctl_send(h, req, &seq);

	if (rc < 0) {
		h->ctl_timeout_ms = 0;
		return rc;
	}
	return ctl_wait(h, seq, rep, fds, max_fds, nfds);
}

int
dvk_chan_get(struct dvk *h, dvk_ep_t peer, uint32_t dir, struct dvk_chan **out)
{
	struct dvk_chan **slot;
	struct dvkd_msg req, rep;
	int fds[2], nfds = 0, rc;

	if (peer < 0 || peer >= h->dc_size)
		return -EDVS_BADEP;
	slot = dir == DVKD_DIR_OUT ? &h->out[peer] : &h->in[peer];
	dvk_ctl_poll(h, 0);
	if (*slot != NULL) {
		*out = *slot;
		return 0;
	}
	dvkd_msg_init(&req, DVKD_OPEN, 0);
	req.u.open.peer = peer;
	req.u.open.dir = dir;
	rc = dvk_ctl_call(h, &req, &rep, fds, 2, &nfds);
	if (rc < 0) {
		close_fds(fds, nfds);
		return rc;
	}
	if (rep.u.ring.peer != peer || rep.u.ring.dir != dir) {
		close_fds(fds, nfds);
		return -EDVS_PROTO;
	}
	return chan_install(h, &rep.u.ring, fds, nfds, out);
}

int
dvk_enter(struct dvk *h)
{
	int rc = dvk_check(h);

	if (rc == -EINVAL)
		return rc;
	while (h->grave != NULL) {
		struct dvk_chan *c = h->grave;

		h->grave = c->next_grave;
		c->ops->close(c);
		free(c);
	}
	return rc;
}
