/*
 * ipc.c - send, receive, sendrec, reply, notify.  Each call finds the
 * channel to or from its peer (asking dvkd for one the first time) and
 * goes through the channel's ops, so the peer's location stays hidden.
 */
#include <errno.h>
#include <string.h>

#include "dvk_int.h"

/* Whether this thread's waits for a message spin (dvs/backoff.h): a
 * server whose clients send again at once spins; one whose clients come
 * from the kernel's FUSE queue mostly sleeps, and leaves the CPU to them. */
static _Thread_local struct dvs_backoff receive_spin;

static void
count_error(struct dvk *h, int rc)
{
	if (rc < 0 && rc != -ETIMEDOUT && h->db != NULL)
		atomic_fetch_add_explicit(&h->db->errors, 1, memory_order_relaxed);
}

/* Sends on the channel to dst; a dead channel is dropped so that the next
 * call opens a new one (to a backup that took the endpoint over). */
static int
do_send(struct dvk *h, dvk_ep_t dst, const dvk_msg_t *m, uint32_t seq,
	dvk_deadline_t dl, struct dvk_chan **used)
{
	struct dvk_chan *c;
	int rc;

	rc = dvk_chan_get(h, dst, DVKD_DIR_OUT, &c);
	if (rc < 0)
		return rc;
	if (c->ops->dead(c)) {
		/* The peer died before this call: open a channel to whoever
		 * owns dst now (a backup that took over), or learn that
		 * nobody does. */
		dvk_chan_drop(h, c);
		rc = dvk_chan_get(h, dst, DVKD_DIR_OUT, &c);
		if (rc < 0)
			return rc;
	}
	rc = c->ops->send(h, c, m, seq, dl);
	if (rc == -EDVS_DEADPEER || rc == -EDVS_PROTO)
		dvk_chan_drop(h, c);
	else if (used != NULL)
		*used = c;
	return rc;
}

int
dvk_send_t(struct dvk *h, dvk_ep_t dst, const dvk_msg_t *m, int timeout_ms)
{
	int rc = dvk_enter(h);

	if (rc < 0)
		return rc;
	if (m == NULL)
		return -EINVAL;
	rc = do_send(h, dst, m, 0, dvk_deadline(timeout_ms), NULL);
	count_error(h, rc);
	return rc;
}

/* The DC's default timeout of send and sendrec (dc create --call-timeout),
 * so that a stopped peer does not hold a caller for ever. */
static int
call_timeout(const struct dvk *h)
{
	return dvk_check(h) == -EINVAL ? -1 : h->call_timeout_ms;
}

int
dvk_send(struct dvk *h, dvk_ep_t dst, const dvk_msg_t *m)
{
	return dvk_send_t(h, dst, m, call_timeout(h));
}

int
dvk_sendrec_t(struct dvk *h, dvk_ep_t dst, dvk_msg_t *m, int timeout_ms)
{
	dvk_deadline_t dl = dvk_deadline(timeout_ms);
	struct dvk_chan *c = NULL;
	uint32_t seq;
	int rc = dvk_enter(h);

	if (rc < 0)
		return rc;
	if (m == NULL)
		return -EINVAL;
	seq = ++h->seq & 0x7fffffffu;
	if (seq == 0)
		seq = h->seq = 1;
	rc = do_send(h, dst, m, seq, dl, &c);
	if (rc == 0) {
		rc = c->ops->wait_reply(h, c, seq, m, dl);
		if (rc == -EDVS_DEADPEER)
			dvk_chan_drop(h, c);
	}
	count_error(h, rc);
	return rc;
}

int
dvk_sendrec(struct dvk *h, dvk_ep_t dst, dvk_msg_t *m)
{
	return dvk_sendrec_t(h, dst, m, call_timeout(h));
}

int
dvk_notify(struct dvk *h, dvk_ep_t dst)
{
	struct dvk_chan *c;
	int rc = dvk_enter(h);

	if (rc < 0)
		return rc;
	rc = dvk_chan_get(h, dst, DVKD_DIR_OUT, &c);
	if (rc == 0 && c->ops->dead(c)) {
		dvk_chan_drop(h, c);
		rc = dvk_chan_get(h, dst, DVKD_DIR_OUT, &c);
	}
	if (rc == 0) {
		rc = c->ops->notify(h, c);
		if (rc == -EDVS_DEADPEER)
			dvk_chan_drop(h, c);
	}
	count_error(h, rc);
	return rc;
}

int
dvk_reply(struct dvk *h, dvk_ep_t dst, const dvk_msg_t *m)
{
	struct dvk_chan *c;
	int rc = dvk_enter(h);

	if (rc < 0)
		return rc;
	if (m == NULL)
		return -EINVAL;
	if (dst < 0 || dst >= h->dc_size)
		rc = -EDVS_BADEP;
	else if ((c = h->in[dst]) == NULL)
		rc = -EDVS_NOTWAITING;
	else
		rc = c->ops->reply(h, c, m);
	count_error(h, rc);
	return rc;
}

/* Takes the hint bits senders set in our doorbell. */
static void
take_hints(struct dvk *h)
{
	unsigned w;

	for (w = 0; w < h->nwords; w++) {
		if (atomic_load_explicit(&h->db->hint[w], memory_order_relaxed))
			h->pending[w] |= atomic_exchange_explicit(
				&h->db->hint[w], 0, memory_order_acquire);
	}
}

/* Marks every known incoming channel as worth a look (after a tick). */
static void
hint_all(struct dvk *h)
{
	int i;

	for (i = 0; i < h->dc_size; i++)
		if (h->in[i] != NULL)
			h->pending[i / 64] |= 1ull << (i % 64);
}

static int
scan_any(struct dvk *h, dvk_msg_t *m)
{
	unsigned n = (unsigned)h->dc_size, k, i;
	int rc, polled = 0;

	take_hints(h);
	for (k = 0; k < n; k++) {
		struct dvk_chan *c;

		i = (h->rr + k) % n;
		if (h->pending[i / 64] == 0) {
			/* skip the rest of an empty word (not past the end) */
			unsigned skip = 63 - i % 64;

			if (skip > n - 1 - i)
				skip = n - 1 - i;
			k += skip;
			continue;
		}
		if ((h->pending[i / 64] & (1ull << (i % 64))) == 0)
			continue;
		c = h->in[i];
		if (c == NULL && !polled) {
			/* The ring may be announced but not read yet (once per
			 * scan: a peer can set any hint bit). */
			dvk_ctl_poll(h, 1);
			polled = 1;
			c = h->in[i];
		}
		if (c == NULL) {
			h->pending[i / 64] &= ~(1ull << (i % 64));
			continue;
		}
		rc = c->ops->try_recv(h, c, m);
		if (rc > 0) {
			h->rr = i + 1;
			h->last = c;
			h->last_gen = c->peer_gen;
			return 1;
		}
		h->pending[i / 64] &= ~(1ull << (i % 64));
		if (rc < 0)
			dvk_chan_drop(h, c);
	}
	return 0;
}

/*
 * Delivers a pending peer-gone event, but first what the gone binding had
 * queued to us (so a server sees a client's last requests before it
 * forgets the client).  1 if m holds something.
 */
static int
take_gone(struct dvk *h, dvk_msg_t *m)
{
	struct dvk_peer_gone *g;
	int i, rc;

	for (i = 0; i < h->dc_size && h->ngone > 0; i++) {
		struct dvk_chan *c = h->in[i];

		if (h->gone[i] == 0)
			continue;
		if (c != NULL && c->peer_gen <= h->gone[i]) {
			rc = c->ops->try_recv(h, c, m);
			if (rc > 0) {
				h->last = NULL;
				h->last_gen = c->peer_gen;
				return 1;
			}
			if (rc < 0)
				dvk_chan_drop(h, c);
		}
		memset(m, 0, sizeof(*m));
		m->m_source = DVK_SYSTEM;
		m->m_type = DVK_MSG_PEER_GONE;
		g = &m->m_u.dvk_peer_gone;
		g->ep = i;
		g->gen = h->gone[i];
		g->reason = h->gone_why[i];
		h->gone[i] = 0;
		h->ngone--;
		h->last_gen = 0;
		return 1;
	}
	return 0;
}

static int
any_ready(void *arg)
{
	struct dvk *h = arg;
	unsigned w;

	if (atomic_load_explicit(&h->db->ctl_seq, memory_order_relaxed) != h->ctl_seen)
		return 1;
	for (w = 0; w < h->nwords; w++)
		if (atomic_load_explicit(&h->db->hint[w], memory_order_relaxed))
			return 1;
	return 0;
}

struct one_arg {
	struct dvk *h;
	struct dvk_chan *c;
};

static int
one_ready(void *arg)
{
	struct one_arg *a = arg;

	return a->c->ops->ready(a->c) ||
	       atomic_load_explicit(&a->h->db->ctl_seq, memory_order_relaxed) !=
		       a->h->ctl_seen;
}

/* Waits once on our doorbell; spins before sleeping only the first time
 * and only if the last sender ran on another CPU. */
static int
wait_doorbell(struct dvk *h, int (*ready)(void *), void *arg, dvk_deadline_t dl,
	      int *spun)
{
	int spin = !*spun && dvk_spin_for(atomic_load_explicit(&h->db->sender_cpu,
								 memory_order_relaxed),
					   (uint32_t)dvk_cpu());

	*spun = 1;
	return dvk_wait(h, &h->db->futex, &h->db->sleeping, ready, arg, dl, spin,
			&receive_spin);
}

static int
receive_any(struct dvk *h, dvk_msg_t *m, dvk_deadline_t dl)
{
	struct dvk_chan *c = h->last;
	int spun = 0, rc;

	/* A burst from one sender: take the messages we already know are
	 * there (no shared load) before looking at the hints again.  Others
	 * get their turn once this burst is drained. */
	if (c != NULL && c->pos != c->cached &&
	    atomic_load_explicit(&h->db->ctl_seq, memory_order_relaxed) == h->ctl_seen &&
	    c->ops->try_recv(h, c, m) > 0)
		return 0;
	h->last = NULL;
	for (;;) {
		dvk_ctl_poll(h, 0);
		if (h->daemon_gone)
			return -EDVS_NODAEMON;
		if (h->ngone > 0 && take_gone(h, m))
			return 0;
		if (scan_any(h, m))
			return 0;
		rc = wait_doorbell(h, any_ready, h, dl, &spun);
		if (rc < 0)
			return rc;
		if (!any_ready(h))
			hint_all(h); /* woken by a tick, or by a peer that
				      * cleared our hints: look everywhere */
	}
}

static int
receive_one(struct dvk *h, dvk_ep_t src, dvk_msg_t *m, dvk_deadline_t dl)
{
	struct one_arg a = { h, NULL };
	int spun = 0, rc;

	rc = dvk_chan_get(h, src, DVKD_DIR_IN, &a.c);
	if (rc < 0)
		return rc;
	if (a.c->ops->dead(a.c)) {
		/* Died before this call: take what is left in it, then look
		 * for the endpoint's current owner. */
		rc = a.c->ops->try_recv(h, a.c, m);
		if (rc > 0) {
			h->last_gen = a.c->peer_gen;
			return 0;
		}
		dvk_chan_drop(h, a.c);
	}
	for (;;) {
		rc = dvk_chan_get(h, src, DVKD_DIR_IN, &a.c);
		if (rc < 0)
			return rc;
		rc = a.c->ops->try_recv(h, a.c, m);
		if (rc > 0) {
			h->last_gen = a.c->peer_gen;
			return 0;
		}
		if (rc < 0) {
			dvk_chan_drop(h, a.c);
			return rc;
		}
		rc = wait_doorbell(h, one_ready, &a, dl, &spun);
		if (rc < 0)
			return rc;
		dvk_ctl_poll(h, 0);
	}
}

int
dvk_receive_t(struct dvk *h, dvk_ep_t src, dvk_msg_t *m, int timeout_ms)
{
	dvk_deadline_t dl = dvk_deadline(timeout_ms);
	int rc = dvk_enter(h);

	if (rc < 0)
		return rc;
	if (m == NULL)
		return -EINVAL;
	if (h->backup)
		dvk_ctl_poll(h, 0);
	if (h->backup)
		rc = -EDVS_NOTBOUND;
	else if (src == DVK_ANY)
		rc = receive_any(h, m, dl);
	else if (src < 0 || src >= h->dc_size)
		rc = -EDVS_BADEP;
	else
		rc = receive_one(h, src, m, dl);
	count_error(h, rc);
	return rc;
}

int
dvk_receive(struct dvk *h, dvk_ep_t src, dvk_msg_t *m)
{
	return dvk_receive_t(h, src, m, -1);
}
