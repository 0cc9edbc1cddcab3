/*
 * ring.c - the local channel: one single-producer single-consumer ring in
 * shared memory per (sender endpoint -> receiver endpoint).
 *
 * The receiver stamps m_source from the ring it read, never from the bytes
 * (the sender's m_source field carries the sendrec sequence number, or 0).
 * Every counter read from shared memory is checked: a peer can write
 * anything there, and must never make us read outside the ring or hang.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "dvk_int.h"

/* Whether this thread's waits for ring space spin (dvs/backoff.h).  A
 * wait for a reply always spins (when the server runs on another CPU):
 * the server is working on it, and backing off there made small files
 * through dvs mount slower (docs/BENCHMARKS.md, "Spin back-off"). */
static _Thread_local struct dvs_backoff space_spin;

int
dvk_ring_check_tail(uint64_t head, uint64_t tail, uint32_t nslots)
{
	if (tail < head || tail - head > nslots)
		return -EDVS_PROTO;
	return 0;
}

/* Tells the receiver that our ring has something: hint bit + wake-up. */
static void
ring_doorbell(struct dvk *h, struct dvk_chan *c, uint32_t cpu)
{
	struct dvk_doorbell *db = c->peer_db;
	unsigned w = (unsigned)h->ep / 64;
	uint64_t bit = 1ull << ((unsigned)h->ep % 64);

	if ((atomic_load_explicit(&db->hint[w], memory_order_relaxed) & bit) == 0)
		atomic_fetch_or_explicit(&db->hint[w], bit, memory_order_release);
	if (atomic_load_explicit(&db->sender_cpu, memory_order_relaxed) != cpu)
		atomic_store_explicit(&db->sender_cpu, cpu, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	/* The first sender to see the receiver asleep wakes it and lowers
	 * the flag; the others need no system call (a stream used to make
	 * one FUTEX_WAKE per message until the receiver, or dvkd's pump,
	 * got a CPU).  The wake-up bumps the word, so every waiter that
	 * raised the flag before returns, and raises it again before it
	 * next sleeps. */
	if (atomic_load_explicit(&db->sleeping, memory_order_relaxed) &&
	    atomic_exchange_explicit(&db->sleeping, 0, memory_order_relaxed))
		dvk_futex_wake(&db->futex);
}

struct space_arg {
	struct dvk_chan *c;
};

static int
space_ready(void *arg)
{
	struct dvk_chan *c = arg;
	uint64_t hd = atomic_load_explicit(&c->r->head, memory_order_acquire);

	return hd != c->cached || atomic_load_explicit(&c->r->dead, memory_order_relaxed);
}

static int
ring_send(struct dvk *h, struct dvk_chan *c, const dvk_msg_t *m, uint32_t seq,
	  dvk_deadline_t dl)
{
	struct dvk_ring *r = c->r;
	uint32_t cpu = (uint32_t)dvk_cpu();
	dvk_msg_t tmp;
	int rc, spin;

	if (atomic_load_explicit(&r->sender_cpu, memory_order_relaxed) != cpu)
		atomic_store_explicit(&r->sender_cpu, cpu, memory_order_relaxed);
	while (c->pos - c->cached >= c->nslots) {
		uint64_t hd = atomic_load_explicit(&r->head, memory_order_acquire);

		if (atomic_load_explicit(&r->dead, memory_order_acquire))
			return -EDVS_DEADPEER;
		if (hd > c->pos || c->pos - hd > c->nslots)
			return -EDVS_PROTO;
		if (hd != c->cached) {
			c->cached = hd;
			continue;
		}
		spin = dvk_spin_for(atomic_load_explicit(&r->receiver_cpu, memory_order_relaxed), cpu);
		rc = dvk_wait(h, &r->space_futex, &r->space_waiting, space_ready,
			      c, dl, spin, &space_spin);
		if (rc < 0)
			return rc;
	}
	if (atomic_load_explicit(&r->dead, memory_order_acquire))
		return -EDVS_DEADPEER;
	tmp = *m;
	tmp.m_source = (dvk_ep_t)seq;
	memcpy(&r->slot[c->pos & (c->nslots - 1)], &tmp, sizeof(tmp));
	c->pos++;
	atomic_store_explicit(&r->tail, c->pos, memory_order_release);
	ring_doorbell(h, c, cpu);
	return 0;
}

static int
ring_notify(struct dvk *h, struct dvk_chan *c)
{
	struct dvk_ring *r = c->r;

	if (atomic_load_explicit(&r->dead, memory_order_acquire))
		return -EDVS_DEADPEER;
	if (!atomic_load_explicit(&r->notify_pending, memory_order_relaxed))
		atomic_store_explicit(&r->notify_pending, 1, memory_order_release);
	ring_doorbell(h, c, (uint32_t)dvk_cpu());
	return 0;
}

struct reply_arg {
	struct dvk_chan *c;
	uint32_t seq;
};

static int
reply_ready(void *arg)
{
	struct reply_arg *a = arg;
	struct dvk_ring *r = a->c->r;

	return atomic_load_explicit(&r->reply_seq, memory_order_acquire) == a->seq ||
	       atomic_load_explicit(&r->dead, memory_order_relaxed);
}

static int
ring_wait_reply(struct dvk *h, struct dvk_chan *c, uint32_t seq, dvk_msg_t *m,
		dvk_deadline_t dl)
{
	struct dvk_ring *r = c->r;
	struct reply_arg a = { c, seq };
	int rc, spin, marked = 0;

	for (;;) {
		if (atomic_load_explicit(&r->reply_seq, memory_order_acquire) == seq) {
			memcpy(m, &r->reply, sizeof(*m));
			m->m_source = c->peer;
			rc = 0;
			break;
		}
		if (atomic_load_explicit(&r->dead, memory_order_acquire)) {
			rc = -EDVS_DEADPEER;
			break;
		}
		if (!marked) {
			/* Not answered at once: `dvsctl ep list` shows who
			 * keeps callers waiting. */
			atomic_store_explicit(&r->wait_since, (uint64_t)dvk_now_ns(),
					      memory_order_relaxed);
			marked = 1;
		}
		spin = dvk_spin_for(atomic_load_explicit(&r->receiver_cpu, memory_order_relaxed),
				    (uint32_t)dvk_cpu());
		rc = dvk_wait(h, &r->reply_futex, &r->reply_waiting, reply_ready,
			      &a, dl, spin, NULL);
		if (rc < 0)
			break;
	}
	if (marked)
		atomic_store_explicit(&r->wait_since, 0, memory_order_relaxed);
	return rc;
}

static int
ring_ready(struct dvk_chan *c)
{
	struct dvk_ring *r = c->r;

	return atomic_load_explicit(&r->tail, memory_order_acquire) != c->pos ||
	       atomic_load_explicit(&r->notify_pending, memory_order_relaxed) ||
	       atomic_load_explicit(&r->dead, memory_order_relaxed);
}

static int
ring_try_recv(struct dvk *h, struct dvk_chan *c, dvk_msg_t *m)
{
	struct dvk_ring *r = c->r;
	uint32_t seq;

	if (atomic_load_explicit(&r->notify_pending, memory_order_relaxed) &&
	    atomic_exchange_explicit(&r->notify_pending, 0, memory_order_acquire)) {
		memset(m, 0, sizeof(*m));
		m->m_source = c->peer;
		m->m_type = DVK_MSG_NOTIFY;
		return 1;
	}
	if (c->pos == c->cached) {
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

		if (dvk_ring_check_tail(c->pos, t, c->nslots) < 0)
			return -EDVS_PROTO;
		c->cached = t;
		if (t == c->pos) {
			if (atomic_load_explicit(&r->dead, memory_order_acquire))
				return -EDVS_DEADPEER;
			return 0;
		}
	}
	memcpy(m, &r->slot[c->pos & (c->nslots - 1)], sizeof(*m));
	seq = (uint32_t)m->m_source;
	m->m_source = c->peer;
	c->want_seq = seq;
	c->pos++;
	atomic_store_explicit(&r->head, c->pos, memory_order_release);
	if ((c->ops_count++ & 15) == 0) {
		/* senders decide whether to spin from it: a sample will do */
		uint32_t cpu = (uint32_t)dvk_cpu();

		if (atomic_load_explicit(&r->receiver_cpu, memory_order_relaxed) != cpu)
			atomic_store_explicit(&r->receiver_cpu, cpu, memory_order_relaxed);
	}
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->space_waiting, memory_order_relaxed))
		dvk_futex_wake(&r->space_futex);
	(void)h;
	return 1;
}

static int
ring_reply(struct dvk *h, struct dvk_chan *c, const dvk_msg_t *m)
{
	struct dvk_ring *r = c->r;
	uint32_t seq = c->want_seq;

	(void)h;
	if (atomic_load_explicit(&r->dead, memory_order_acquire))
		return -EDVS_DEADPEER;
	if (seq == 0)
		return -EDVS_NOTWAITING;
	c->want_seq = 0;
	atomic_store_explicit(&r->replies,
			      atomic_load_explicit(&r->replies, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	memcpy(&r->reply, m, sizeof(*m));
	atomic_store_explicit(&r->reply_seq, seq, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->reply_waiting, memory_order_relaxed))
		dvk_futex_wake(&r->reply_futex);
	return 0;
}

static int
ring_dead(struct dvk_chan *c)
{
	return atomic_load_explicit(&c->r->dead, memory_order_acquire) != 0;
}

static void
ring_close(struct dvk_chan *c)
{
	if (c->r != NULL)
		munmap(c->r, c->map_len);
	if (c->peer_db != NULL)
		munmap(c->peer_db, DVK_DOORBELL_SIZE);
}

const struct dvk_chan_ops dvk_ring_ops = {
	.send = ring_send,
	.notify = ring_notify,
	.wait_reply = ring_wait_reply,
	.try_recv = ring_try_recv,
	.ready = ring_ready,
	.reply = ring_reply,
	.dead = ring_dead,
	.close = ring_close,
};
