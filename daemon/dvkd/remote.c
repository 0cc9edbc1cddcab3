/*
 * remote.c - IPC with the endpoints of other nodes (docs/CLUSTER.md, "IPC
 * across nodes").
 *
 * libdvk does not know where a peer lives.  An endpoint bound on another
 * node is represented here by a stand-in: a binding with no process,
 * whose rings dvkd itself serves.
 *
 *   sender X here -> ring X->stand-in(R) -> pump thread reads it -> MSG
 *   frame -> R's node puts it in ring stand-in(X)->R -> R receives it as
 *   from X; R's reply lands in that ring's reply slot -> pump -> REPLY
 *   frame -> written into the reply slot of X's ring -> X's sendrec returns.
 *
 * Each message carries its position in the sender node's ring.  The
 * receiving node takes positions in order (a duplicate is acknowledged
 * again, a gap or a full ring is NAKed with the position to resend from),
 * and acknowledges what it put in the receiver's ring (see below); only
 * then does the sender's ring free the slots (head).  So a broken link loses
 * nothing that was acknowledged and duplicates nothing: the next link
 * resends from the last acknowledgement.  The receiver's ring is larger
 * than the sender's (DVKD_RING_SLOTS_IN): we acknowledge on arrival while
 * it has room for a whole window more, else as the receiver takes, so
 * the receiver's ring cannot overflow: a slow receiver slows its sender,
 * as on one node, with no NAK and no resend (acknowledging on arrival
 * alone let a fast sender overrun it; each overrun cost a window of
 * NAKs, a 200 us back-off and the window again).
 *
 * A frame is believed only as far as it can be checked: the sender of a
 * MSG must be, in this node's directory (Corosync's total order), owned
 * by the node at the other end of the authenticated link with the
 * generation the frame names; the receiver must be bound here with the
 * generation named.  Anything else is refused (NAK dead, logged).
 *
 * Threads: the pump thread (pump.c) forwards what local senders put in
 * rings to stand-ins, and the replies local receivers write, waiting on
 * their futexes with futex_waitv.  The event loop takes the frames in (MSG,
 * ACK, NAK, REPLY, NOTIFY).  Both hold rlock while they touch stand-ins,
 * their rings and the links.
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "dvkd.h"
#include "dvs/log.h"
#include "proxy_wire.h"
#include "remote.h"
#include "wake.h"

/* Recursive: killing a ring (locked) happens inside locked work. */
static pthread_mutex_t rlock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
/* remote.h: the rings with a stand-in on one side, the stand-ins'
 * doorbells. */
struct ring **dvkd_rm_rings;
int dvkd_rm_nrings;
static int caprings;
struct dvkd_rm_db dvkd_rm_dbs[DVKD_MAX_DCS];
int dvkd_rm_ndbs;
/* Acknowledgements owed at the end of a batch of frames. */
static struct {
	int node;
	struct px_pair p;
	uint64_t pos;
} acks[256];
static int nacks;

void
dvkd_rlock(void)
{
	pthread_mutex_lock(&rlock);
}

void
dvkd_runlock(void)
{
	pthread_mutex_unlock(&rlock);
}


/* ---- stand-ins ---- */

static struct dvk_doorbell *
dc_doorbell(struct dc *dc, int *fd)
{
	int i;
	void *p;

	for (i = 0; i < dvkd_rm_ndbs; i++) {
		if (dvkd_rm_dbs[i].dc == dc) {
			*fd = dvkd_rm_dbs[i].fd;
			return dvkd_rm_dbs[i].db;
		}
	}
	if (dvkd_rm_ndbs == DVKD_MAX_DCS)
		return NULL;
	*fd = dvkd_memfd("dvk-standin-doorbell", DVK_DOORBELL_SIZE);
	if (*fd < 0)
		return NULL;
	p = mmap(NULL, DVK_DOORBELL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (p == MAP_FAILED) {
		close(*fd);
		return NULL;
	}
	dvkd_rm_dbs[dvkd_rm_ndbs].dc = dc;
	dvkd_rm_dbs[dvkd_rm_ndbs].fd = *fd;
	dvkd_rm_dbs[dvkd_rm_ndbs].db = p;
	dvkd_rm_ndbs++;
	return p;
}

struct binding *
dvkd_standin_get(struct dc *dc, int ep)
{
	struct epslot *s = &dc->eps[ep];
	struct binding *sb;

	if (s->rnode == 0 || s->runreach || s->rgen == s->rgone)
		return NULL;
	if (s->standin != NULL && s->standin->gen == s->rgen &&
	    s->standin->remote == s->rnode)
		return s->standin;
	dvkd_remote_entry_changed(dc, ep); /* a stale one goes first */
	sb = calloc(1, sizeof(*sb));
	if (sb == NULL)
		return NULL;
	sb->db = dc_doorbell(dc, &sb->db_fd);
	if (sb->db == NULL) {
		free(sb);
		return NULL;
	}
	pthread_mutex_init(&sb->wlock, NULL);
	atomic_init(&sb->refs, 1);
	sb->fd = sb->pidfd = -1;
	sb->dc = dc;
	sb->ep = ep;
	sb->gen = s->rgen;
	sb->remote = s->rnode;
	s->standin = sb;
	return sb;
}

static void
standin_free(struct dc *dc, int ep, int reason)
{
	struct binding *sb = dc->eps[ep].standin;

	dc->eps[ep].standin = NULL;
	dvkd_bind_tell_gone(sb, reason);
	while (sb->nrings > 0)
		dvkd_ring_kill(sb->rings[sb->nrings - 1]);
	free(sb->rings);
	pthread_mutex_destroy(&sb->wlock);
	free(sb);
}

void
dvkd_remote_entry_changed(struct dc *dc, int ep)
{
	struct epslot *s = &dc->eps[ep];
	struct binding *sb = s->standin;

	if (sb == NULL)
		return;
	if (s->rnode == sb->remote && s->rgen == sb->gen && !s->runreach) {
		sb->unbound_wait = 0; /* bound again (a DIR_RESET, then its DIR_BIND) */
		return;
	}
	/* Unbound on its node, whose link is up: replies it wrote before it
	 * went may still be on that link (the directory comes through
	 * Corosync, another way).  Its PX_GONE, or the link's end, frees it. */
	if (s->rnode == 0 && !s->runreach && s->rgone != sb->gen && sb->nrings > 0 &&
	    cl_px_up(sb->remote - 1)) {
		sb->unbound_wait = 1;
		return;
	}
	dvkd_rlock();
	standin_free(dc, ep, DVK_GONE_DEATH);
	dvkd_runlock();
}

void
dvkd_remote_dc_gone(struct dc *dc)
{
	int i;

	dvkd_rlock();
	for (i = 0; dc->eps != NULL && i < dc->nep; i++)
		if (dc->eps[i].standin != NULL)
			standin_free(dc, i, DVK_GONE_DEATH);
	for (i = 0; i < dvkd_rm_ndbs; i++) {
		if (dvkd_rm_dbs[i].dc == dc) {
			munmap(dvkd_rm_dbs[i].db, DVK_DOORBELL_SIZE);
			close(dvkd_rm_dbs[i].fd);
			dvkd_rm_dbs[i] = dvkd_rm_dbs[--dvkd_rm_ndbs];
			break;
		}
	}
	dvkd_runlock();
}

void
dvkd_remote_ring_added(struct ring *r)
{
	if (dvkd_rm_nrings == caprings) {
		int cap = caprings ? caprings * 2 : 64;
		struct ring **v = realloc(dvkd_rm_rings, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return; /* not pumped: its sender sees no answer */
		dvkd_rm_rings = v;
		caprings = cap;
	}
	r->rslot = dvkd_rm_nrings;
	dvkd_rm_rings[dvkd_rm_nrings++] = r;
	if (r->dst->remote) /* its sender then never spins for our answer */
		atomic_store_explicit(&r->hdr->receiver_cpu, DVK_CPU_REMOTE,
				      memory_order_relaxed);
	dvkd_pump_kick();
}

void
dvkd_remote_ring_removed(struct ring *r)
{
	int i = r->rslot;

	if (i < 0 || i >= dvkd_rm_nrings || dvkd_rm_rings[i] != r)
		return;
	/* A reply the receiver wrote just before it went still goes. */
	if (!r->dst->remote && dvkd_pump_reply(r))
		cl_px_flush_all();
	dvkd_rm_rings[i] = dvkd_rm_rings[--dvkd_rm_nrings];
	dvkd_rm_rings[i]->rslot = i;
	r->rslot = -1;
}

/* ---- frames from other nodes (the event loop, under rlock) ---- */

struct pair {
	struct dc *dc;
	int src, dst;
	uint32_t src_gen, dst_gen;
};

static int
pair_read(const struct px_pair *w, struct pair *p)
{
	p->dc = dvkd_dc_find((int)le32toh(w->dc));
	p->src = (int32_t)le32toh((uint32_t)w->src);
	p->dst = (int32_t)le32toh((uint32_t)w->dst);
	p->src_gen = le32toh(w->src_gen);
	p->dst_gen = le32toh(w->dst_gen);
	if (p->dc == NULL || p->src < 0 || p->src >= p->dc->nep || p->dst < 0 ||
	    p->dst >= p->dc->nep)
		return -1;
	return 0;
}

static void
nak(int node, const struct px_pair *p, uint64_t pos, uint32_t reason)
{
	struct px_nak f = { .p = *p, .pos = htole64(pos), .reason = htole32(reason) };

	cl_px_queue(node, PX_NAK, &f, sizeof(f));
}

static void
ack_owe(int node, const struct px_pair *p, uint64_t pos)
{
	int i;

	for (i = 0; i < nacks; i++) {
		if (acks[i].node == node && memcmp(&acks[i].p, p, sizeof(*p)) == 0) {
			acks[i].pos = pos;
			return;
		}
	}
	if (nacks == (int)(sizeof(acks) / sizeof(acks[0])))
		dvkd_remote_rx_done(node);
	acks[nacks].node = node;
	acks[nacks].p = *p;
	acks[nacks].pos = pos;
	nacks++;
}

void
dvkd_remote_rx_done(int node)
{
	int i;

	(void)node;
	for (i = 0; i < nacks; i++) {
		struct px_ack f = { .p = acks[i].p, .pos = htole64(acks[i].pos) };

		cl_px_queue(acks[i].node, PX_ACK, &f, sizeof(f));
	}
	nacks = 0;
	cl_px_flush_all();
}

/* The ring from the sender on node `from` to the receiver here, or NULL
 * and why (PX_NAK_*). */
static struct ring *
inbound(int from, const struct pair *p, uint32_t *why)
{
	struct epslot *s = &p->dc->eps[p->src];
	struct binding *d = p->dc->eps[p->dst].b, *sb;
	struct ring *r;

	*why = PX_NAK_DEAD;
	if (!(p->dc->nodes >> from & 1) || !(p->dc->nodes >> cl.self & 1))
		return NULL;
	if (s->rnode != from + 1 || s->rgen != p->src_gen || s->runreach) {
		/* Its binding may not have reached us in the total order
		 * yet; anything else is a claim we cannot check. */
		if (s->rnode == 0 && s->b == NULL)
			*why = PX_NAK_RETRY;
		return NULL;
	}
	if (d == NULL || d->dead || d->backup || d->gen != p->dst_gen)
		return NULL;
	sb = dvkd_standin_get(p->dc, p->src);
	if (sb == NULL)
		return NULL;
	r = dvkd_ring_inbound(sb, d);
	if (r == NULL || atomic_load(&r->hdr->dead))
		return NULL;
	return r;
}

static void
doorbell(struct binding *d, int src)
{
	struct dvk_doorbell *db = d->db;
	unsigned w = (unsigned)src / 64;

	atomic_fetch_or_explicit(&db->hint[w], 1ull << ((unsigned)src % 64),
				 memory_order_release);
	if (atomic_load_explicit(&db->sender_cpu, memory_order_relaxed) != DVK_CPU_REMOTE)
		atomic_store_explicit(&db->sender_cpu, DVK_CPU_REMOTE, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	/* As a local sender does (lib/dvk/ring.c): one wake-up per sleep. */
	if (atomic_load_explicit(&db->sleeping, memory_order_relaxed) &&
	    atomic_exchange_explicit(&db->sleeping, 0, memory_order_relaxed))
		dvkd_wake(&db->futex);
}

static void
on_msg(int from, const struct px_msg *f)
{
	struct ring *r;
	struct pair p;
	uint64_t pos = le64toh(f->pos);
	uint32_t why, seq = le32toh(f->seq);
	dvk_msg_t m;

	if (pair_read(&f->p, &p) < 0) {
		nak(from, &f->p, pos, PX_NAK_DEAD);
		return;
	}
	r = inbound(from, &p, &why);
	if (r == NULL) {
		nak(from, &f->p, pos, why);
		return;
	}
	if (!r->expect_set) {
		r->expect = r->acked = pos;
		r->expect_set = 1;
	}
	if (pos < r->expect) { /* resent after a new link: had it */
		r->acked = dvkd_pump_ack_pos(r);
		r->ack_later = 0;
		ack_owe(from, &f->p, r->acked);
		return;
	}
	if (pos > r->expect) {
		nak(from, &f->p, r->expect, PX_NAK_RETRY);
		return;
	}
	if (r->sent - atomic_load_explicit(&r->hdr->head, memory_order_acquire) >=
	    r->nslots) {
		nak(from, &f->p, r->expect, PX_NAK_FULL);
		return;
	}
	memcpy(&m, f->msg, sizeof(m));
	m.m_source = (dvk_ep_t)seq;
	memcpy(&r->hdr->slot[r->sent & (r->nslots - 1)], &m, sizeof(m));
	r->sent++;
	r->expect++;
	if (seq != 0) {
		r->reply_want = seq;
		r->had_request = 1;
		if (!r->watch_reply) {
			/* One more reply futex for the pump to wait on. */
			atomic_store_explicit(&r->hdr->reply_waiting, 1, memory_order_relaxed);
			dvkd_pump_kick();
		}
	}
	atomic_store_explicit(&r->hdr->tail, r->sent, memory_order_release);
	doorbell(r->dst, p.src);
	pos = dvkd_pump_ack_pos(r);
	if (seq != 0 && pos == r->expect && r->acked + 1 == r->expect) {
		/* A request alone: its acknowledgement goes with the reply, in
		 * the pump's write, not in a frame and a write of its own. */
		if (!r->ack_later) {
			r->ack_later = 1;
			r->ack_later_ns = dvs_now_ns();
		}
	} else if (pos > r->acked) {
		r->acked = pos;
		r->ack_later = 0;
		ack_owe(from, &f->p, pos);
	}
	if (dvkd_pump_untaken(r) && !r->watch_space)
		dvkd_pump_kick(); /* the rest once the receiver takes more */
}

static void
on_notify(int from, const struct px_notify *f)
{
	struct ring *r;
	struct pair p;
	uint32_t why;

	if (pair_read(&f->p, &p) < 0 || (r = inbound(from, &p, &why)) == NULL)
		return; /* a notification to nobody is lost, as locally */
	atomic_store_explicit(&r->hdr->notify_pending, 1, memory_order_release);
	doorbell(r->dst, p.src);
}

/* The ring from our sender to the stand-in of the receiver on `from`. */
static struct ring *
outbound(int from, const struct px_pair *w)
{
	struct binding *x, *sb;
	struct pair p;
	int i;

	if (pair_read(w, &p) < 0)
		return NULL;
	x = p.dc->eps[p.src].b;
	sb = p.dc->eps[p.dst].standin;
	if (x == NULL || x->gen != p.src_gen || sb == NULL || sb->gen != p.dst_gen ||
	    sb->remote != from + 1)
		return NULL;
	for (i = 0; i < x->nrings; i++)
		if (x->rings[i]->src == x && x->rings[i]->dst == sb)
			return x->rings[i];
	return NULL;
}

static void
on_ack(int from, const struct px_ack *f)
{
	struct ring *r = outbound(from, &f->p);
	uint64_t pos = le64toh(f->pos), head;

	if (r == NULL)
		return;
	head = atomic_load_explicit(&r->hdr->head, memory_order_relaxed);
	if (pos <= head || pos > r->sent)
		return;
	r->retries = 0;
	atomic_store_explicit(&r->hdr->head, pos, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->hdr->space_waiting, memory_order_relaxed))
		dvkd_wake(&r->hdr->space_futex);
	/* The sender rings the doorbell for what it writes next; the pump
	 * needs a kick only for what it has and did not send. */
	if (r->sent < atomic_load_explicit(&r->hdr->tail, memory_order_acquire))
		dvkd_pump_kick();
}

static void
on_nak(int from, const struct px_nak *f)
{
	struct ring *r = outbound(from, &f->p);
	uint64_t pos = le64toh(f->pos), head;
	uint32_t reason;

	if (r == NULL)
		return;
	head = atomic_load_explicit(&r->hdr->head, memory_order_relaxed);
	reason = le32toh(f->reason);
	if (reason == PX_NAK_RETRY || reason == PX_NAK_FULL) {
		uint64_t now = dvs_now_ns();

		/* Every message of the window sent before the NAK gets one:
		 * the first of a round rewinds, the others change nothing. */
		if (now < r->retry_ns)
			return;
		/* A full ring is a slow receiver, as locally: its sender waits
		 * for as long as it lives.  A sender the receiver's node does
		 * not know (yet) is given about 2 s of rounds. */
		if (reason == PX_NAK_FULL || ++r->retries < RM_RETRY_MAX) {
			if (pos >= head && pos <= r->sent)
				r->sent = pos;
			r->retry_ns = now + RM_RETRY_NS;
			dvkd_pump_kick();
			return;
		}
	}
	dvs_warn("dc %d: node %d refuses messages of ep %d to ep %d (%s)",
		 r->src->dc->id, from, r->src->ep, r->dst->ep,
		 r->retries >= RM_RETRY_MAX ? "it kept asking to retry" : "not bound there");
	dvkd_ring_kill(r);
}

static void
on_reply(int from, const struct px_reply *f)
{
	struct ring *r = outbound(from, &f->p);
	uint32_t seq = le32toh(f->seq);
	struct dvk_ring *h;

	if (r == NULL || seq == 0 || r->req_seq != seq)
		return; /* late, duplicate or forged: nobody waits for it */
	h = r->hdr;
	r->req_seq = 0;
	memcpy(&h->reply, f->msg, sizeof(h->reply));
	atomic_store_explicit(&h->replies, atomic_load(&h->replies) + 1, memory_order_relaxed);
	atomic_store_explicit(&h->reply_seq, seq, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&h->reply_waiting, memory_order_relaxed))
		dvkd_wake(&h->reply_futex);
}

void
dvkd_remote_bind_gone(struct binding *b)
{
	struct px_gone f = { .dc = htole32((uint32_t)b->dc->id),
			     .ep = (int32_t)htole32((uint32_t)b->ep),
			     .gen = htole32(b->gen) };
	int k;

	if (!cl.on || (b->dc->nodes & ~(1ull << cl.self)) == 0)
		return;
	dvkd_rlock();
	for (k = 0; k < CL_MAX_NODES; k++)
		if (k != cl.self && (b->dc->nodes >> k & 1))
			cl_px_queue(k, PX_GONE, &f, sizeof(f));
	cl_px_flush_all();
	dvkd_runlock();
}

static void
on_gone(int from, const struct px_gone *f)
{
	struct dc *dc = dvkd_dc_find((int)le32toh(f->dc));
	int ep = (int32_t)le32toh((uint32_t)f->ep);
	uint32_t gen = le32toh(f->gen);
	struct epslot *s;

	if (dc == NULL || ep < 0 || ep >= dc->nep)
		return;
	s = &dc->eps[ep];
	/* Only the owner's node speaks for it. */
	if (s->standin == NULL || s->standin->remote != from + 1 || s->standin->gen != gen)
		return;
	s->rgone = gen;
	standin_free(dc, ep, DVK_GONE_DEATH);
}

void
dvkd_remote_link_down(int node)
{
	int d, i;

	dvkd_rcopy_link_down(node);
	dvkd_run_remote_link_down(node);
	dvkd_run_host_link_down(node);
	dvkd_rlock();
	for (d = 0; d < DVKD_MAX_DCS; d++) {
		struct dc *dc = dvkd.dcs[d];

		for (i = 0; dc != NULL && dc->eps != NULL && i < dc->nep; i++) {
			struct binding *sb = dc->eps[i].standin;

			if (sb != NULL && sb->unbound_wait && sb->remote == node + 1)
				standin_free(dc, i, DVK_GONE_DEATH);
		}
	}
	dvkd_runlock();
}

void
dvkd_remote_frame(int node, unsigned type, const void *body, size_t len)
{
	switch (type) {
	case PX_MSG:
		on_msg(node, body);
		break;
	case PX_NOTIFY:
		on_notify(node, body);
		break;
	case PX_ACK:
		on_ack(node, body);
		break;
	case PX_NAK:
		on_nak(node, body);
		break;
	case PX_REPLY:
		on_reply(node, body);
		break;
	case PX_GONE:
		on_gone(node, body);
		break;
	case PX_RUN:
	case PX_RUN_KILL:
	case PX_RUN_ACK:
		dvkd_run_host_frame(node, type, body, len);
		break;
	case PX_RUN_OUT:
	case PX_RUN_EXIT:
		dvkd_run_remote_frame(node, type, body, len);
		break;
	default:
		dvkd_rcopy_frame(node, type, body, len);
		break;
	}
}

void
dvkd_remote_link_up(int node)
{
	int i;

	/* Whatever was not acknowledged goes again on the new link. */
	for (i = 0; i < dvkd_rm_nrings; i++) {
		struct ring *r = dvkd_rm_rings[i];

		if (r->dst->remote == node + 1) {
			r->sent = atomic_load(&r->hdr->head);
			r->retry_ns = 0;
		}
	}
	dvkd_pump_kick();
}
