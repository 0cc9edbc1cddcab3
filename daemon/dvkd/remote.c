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
 * Threads: the pump thread forwards what local senders put in rings to
 * stand-ins, and the replies local receivers write, waiting on their
 * futexes with futex_waitv.  The event loop takes the frames in (MSG,
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
#include "spin.h"
#include "wake.h"

/* A NAKed sender waits this long before it resends (the receiver's ring
 * was full, or the sender's binding was not in the directory there yet);
 * it gives up on the second after RM_RETRY_MAX rounds (about 2 s). */
#define RM_RETRY_NS 200000ull
#define RM_RETRY_MAX 10000u
/* The pump sleeps at most this long (a corrupted futex only delays). */
#define RM_TICK_NS 50000000ull
/* ... and spins this long after work before it sleeps. */
#define RM_SPIN_NS 20000ull
/* The acknowledgement of a sendrec request waits at most this long for
 * its reply to carry it (a scan of the pump after it sends it alone). */
#define RM_ACK_DEFER_NS 1000000ull
#define RM_WAITV_MAX 128

/* Recursive: killing a ring (locked) happens inside locked work. */
static pthread_mutex_t rlock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_t pump_thr;
static int pump_on;
static atomic_int pump_stop;
static _Atomic uint32_t pump_futex;
/* Set while the pump is (about to be) asleep: only then does a kick
 * cost a system call. */
static atomic_int pump_sleeping;

/* Rings with a stand-in on one side: to one (out), from one (in). */
static struct ring **rings;
static int nrings, caprings;
/* The stand-in doorbell of each DC that has stand-ins (by dvkd.dcs slot
 * order does not matter: a list of (dc, doorbell)). */
static struct {
	struct dc *dc;
	int fd;
	struct dvk_doorbell *db;
} rdbs[DVKD_MAX_DCS];
static int nrdbs;
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


/* Makes the pump look again: its futex_waitv returns if it sleeps (or
 * is about to, having read pump_futex before this increment). */
static void
pump_kick(void)
{
	if (!pump_on)
		return;
	atomic_fetch_add(&pump_futex, 1);
	if (atomic_load(&pump_sleeping))
		dvkd_wake_call(&pump_futex);
}

/* ---- stand-ins ---- */

static struct dvk_doorbell *
dc_doorbell(struct dc *dc, int *fd)
{
	int i;
	void *p;

	for (i = 0; i < nrdbs; i++) {
		if (rdbs[i].dc == dc) {
			*fd = rdbs[i].fd;
			return rdbs[i].db;
		}
	}
	if (nrdbs == DVKD_MAX_DCS)
		return NULL;
	*fd = dvkd_memfd("dvk-standin-doorbell", DVK_DOORBELL_SIZE);
	if (*fd < 0)
		return NULL;
	p = mmap(NULL, DVK_DOORBELL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (p == MAP_FAILED) {
		close(*fd);
		return NULL;
	}
	rdbs[nrdbs].dc = dc;
	rdbs[nrdbs].fd = *fd;
	rdbs[nrdbs].db = p;
	nrdbs++;
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
	for (i = 0; i < nrdbs; i++) {
		if (rdbs[i].dc == dc) {
			munmap(rdbs[i].db, DVK_DOORBELL_SIZE);
			close(rdbs[i].fd);
			rdbs[i] = rdbs[--nrdbs];
			break;
		}
	}
	dvkd_runlock();
}

void
dvkd_remote_ring_added(struct ring *r)
{
	if (nrings == caprings) {
		int cap = caprings ? caprings * 2 : 64;
		struct ring **v = realloc(rings, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return; /* not pumped: its sender sees no answer */
		rings = v;
		caprings = cap;
	}
	r->rslot = nrings;
	rings[nrings++] = r;
	if (r->dst->remote) /* its sender then never spins for our answer */
		atomic_store_explicit(&r->hdr->receiver_cpu, DVK_CPU_REMOTE,
				      memory_order_relaxed);
	pump_kick();
}

static int pump_reply(struct ring *r);

void
dvkd_remote_ring_removed(struct ring *r)
{
	int i = r->rslot;

	if (i < 0 || i >= nrings || rings[i] != r)
		return;
	/* A reply the receiver wrote just before it went still goes. */
	if (!r->dst->remote && pump_reply(r))
		cl_px_flush_all();
	rings[i] = rings[--nrings];
	rings[i]->rslot = i;
	r->rslot = -1;
}

/* ---- the pump: local senders and repliers -> frames ---- */

static void
pair_of(struct px_pair *p, const struct binding *src, const struct binding *dst)
{
	memset(p, 0, sizeof(*p));
	p->dc = htole32((uint32_t)src->dc->id);
	p->src = (int32_t)htole32((uint32_t)src->ep);
	p->src_gen = htole32(src->gen);
	p->dst = (int32_t)htole32((uint32_t)dst->ep);
	p->dst_gen = htole32(dst->gen);
}

/* Forwards what X put in its ring to a stand-in.  1 if it did anything. */
static int
pump_out(struct ring *r, uint64_t now)
{
	struct binding *sb = r->dst;
	struct dvk_ring *h = r->hdr;
	int node = sb->remote - 1, did = 0;
	uint64_t head, tail;
	struct px_msg f;

	if (atomic_load_explicit(&h->dead, memory_order_acquire))
		return 0;
	if (atomic_load_explicit(&h->notify_pending, memory_order_relaxed)) {
		struct px_notify nf;

		pair_of(&nf.p, r->src, sb);
		if (cl_px_queue(node, PX_NOTIFY, &nf, sizeof(nf)) == 0) {
			atomic_store_explicit(&h->notify_pending, 0, memory_order_relaxed);
			did = 1;
		}
	}
	if (now < r->retry_ns)
		return did;
	head = atomic_load_explicit(&h->head, memory_order_relaxed);
	tail = atomic_load_explicit(&h->tail, memory_order_acquire);
	if (tail < head || tail - head > r->nslots) {
		/* The sender wrote garbage in its own ring: only it loses. */
		dvs_warn("dc %d ep %d: corrupt ring to ep %d on node %d; closed",
			 sb->dc->id, r->src->ep, sb->ep, node);
		atomic_store(&h->dead, 1);
		dvkd_wake(&h->reply_futex);
		dvkd_wake(&h->space_futex);
		return 1;
	}
	if (r->sent < head)
		r->sent = head;
	pair_of(&f.p, r->src, sb);
	while (r->sent < tail) {
		dvk_msg_t m;

		memcpy(&m, &h->slot[r->sent & (r->nslots - 1)], sizeof(m));
		f.seq = htole32((uint32_t)m.m_source);
		f.pad = 0;
		f.pos = htole64(r->sent);
		m.m_source = 0;
		memcpy(f.msg, &m, sizeof(m));
		if (cl_px_queue(node, PX_MSG, &f, sizeof(f)) < 0)
			break; /* no link now: the next one resends */
		if (f.seq != 0)
			r->req_seq = le32toh(f.seq);
		r->sent++;
		did = 1;
	}
	return did;
}

/* The position of the other node's ring up to which an inbound ring can
 * be acknowledged: what the local receiver has taken (its head, mapped
 * back to the sender's positions) plus the room for a whole window of
 * the sender beyond it, at most what arrived. */
static uint64_t
ack_pos(struct ring *r)
{
	uint64_t head = atomic_load_explicit(&r->hdr->head, memory_order_acquire), pos;

	/* The receiver writes head: one out of range only stalls its own
	 * senders (no acknowledgement), it moves nothing here. */
	if (head > r->sent || r->sent - head > r->nslots)
		return r->acked;
	pos = r->expect - (r->sent - head) + (r->nslots - DVK_RING_SLOTS);
	return pos < r->expect ? pos : r->expect;
}

/* Acknowledges what the local receiver took since the last time. */
static int
pump_taken(struct ring *r)
{
	struct px_ack f;
	uint64_t pos;

	r->ack_later = 0;
	if (!r->expect_set || r->acked >= r->expect)
		return 0;
	pos = ack_pos(r);
	if (pos <= r->acked)
		return 0;
	pair_of(&f.p, r->src, r->dst);
	f.pos = htole64(pos);
	if (cl_px_queue(r->src->remote - 1, PX_ACK, &f, sizeof(f)) < 0)
		return 0; /* no link: the next one resends, and we ack then */
	r->acked = pos;
	return 1;
}

static int
reply_ready(const struct ring *r)
{
	return r->reply_want != 0 &&
	       atomic_load_explicit(&r->hdr->reply_seq, memory_order_acquire) == r->reply_want;
}

/* Forwards the reply a local receiver wrote for a remote sendrec. */
static int
pump_reply(struct ring *r)
{
	struct dvk_ring *h = r->hdr;
	struct px_reply f;

	if (!reply_ready(r))
		return 0;
	pair_of(&f.p, r->src, r->dst);
	f.seq = htole32(r->reply_want);
	f.pad = 0;
	memcpy(f.msg, &h->reply, sizeof(f.msg));
	if (cl_px_queue(r->src->remote - 1, PX_REPLY, &f, sizeof(f)) < 0)
		return 0; /* the caller's node is gone: its call fails there */
	r->reply_want = 0;
	return 1;
}

/* An inbound ring: the acknowledgement owed (now, or with the reply, or
 * alone once it waited RM_ACK_DEFER_NS), then the reply. */
static int
pump_in(struct ring *r, uint64_t now)
{
	int did = 0;

	if (!r->ack_later || r->reply_want == 0 || reply_ready(r) ||
	    now >= r->ack_later_ns + RM_ACK_DEFER_NS)
		did |= pump_taken(r);
	return did | pump_reply(r);
}

static int
pump_scan(uint64_t now, int *retrying)
{
	int i, did = 0;

	*retrying = 0;
	for (i = 0; i < nrings; i++) {
		struct ring *r = rings[i];

		if (r->dst->remote) {
			did |= pump_out(r, now);
			if (r->retry_ns > now)
				*retrying = 1;
		} else {
			did |= pump_in(r, now);
		}
	}
	if (did)
		cl_px_flush_all();
	return did;
}

static int
waitv_add(struct futex_waitv *w, int *n, _Atomic uint32_t *f)
{
	if (*n >= RM_WAITV_MAX)
		return 0;
	w[*n].val = atomic_load_explicit(f, memory_order_acquire);
	w[*n].uaddr = (uintptr_t)f;
	w[*n].flags = FUTEX_32;
	w[*n].__reserved = 0;
	(*n)++;
	return 1;
}

/* An inbound ring whose receiver has not taken everything we put in it
 * yet (and no reply is to carry the acknowledgement): the pump watches
 * its head (space_futex) to acknowledge. */
static int
untaken(const struct ring *r)
{
	return !r->dst->remote && r->expect_set && r->acked < r->expect && !r->ack_later;
}

/* The futexes the pump sleeps on; 1 if some did not fit (it then polls).
 * Each ring says whether its futexes are in the set (watch_*), so that
 * the event loop wakes the pump only for those that are not. */
static int
waitv_build(struct futex_waitv *w, int *n)
{
	int i, full = 0;

	*n = 0;
	waitv_add(w, n, &pump_futex);
	for (i = 0; i < nrdbs; i++)
		full |= !waitv_add(w, n, &rdbs[i].db->futex);
	for (i = 0; i < nrings; i++) {
		struct ring *r = rings[i];

		r->watch_reply = r->watch_space = 0;
		if (r->dst->remote)
			continue;
		if (r->reply_want != 0) {
			r->watch_reply = (uint8_t)waitv_add(w, n, &r->hdr->reply_futex);
			full |= !r->watch_reply;
		}
		if (untaken(r)) {
			r->watch_space = (uint8_t)waitv_add(w, n, &r->hdr->space_futex);
			full |= !r->watch_space;
		}
	}
	/* Where room is left, the reply futexes of rings that carried
	 * requests before: the next request then needs no wake-up of the
	 * pump for its reply to be watched. */
	for (i = 0; i < nrings && *n < RM_WAITV_MAX; i++) {
		struct ring *r = rings[i];

		if (!r->dst->remote && r->had_request && !r->watch_reply)
			r->watch_reply = (uint8_t)waitv_add(w, n, &r->hdr->reply_futex);
	}
	return full;
}

static void
store_changed(_Atomic uint32_t *f, uint32_t v)
{
	/* Stored only when it changes: these flags share cache lines with
	 * words the processes write for every message. */
	if (atomic_load_explicit(f, memory_order_relaxed) != v)
		atomic_store_explicit(f, v, memory_order_relaxed);
}

/* Tells those who could wake the pump whether it sleeps: the senders to
 * stand-ins (doorbells), local receivers that owe a reply (reply_waiting)
 * or whose head we watch (space_waiting).  Woken, it clears them all. */
static void
set_sleeping(uint32_t v)
{
	int i;

	atomic_store(&pump_sleeping, (int)v);
	for (i = 0; i < nrdbs; i++)
		atomic_store_explicit(&rdbs[i].db->sleeping, v, memory_order_relaxed);
	for (i = 0; i < nrings; i++) {
		struct ring *r = rings[i];

		if (r->dst->remote)
			continue;
		if (r->watch_reply || v == 0)
			store_changed(&r->hdr->reply_waiting, v);
		if (r->watch_space || v == 0)
			store_changed(&r->hdr->space_waiting, v);
	}
}

static void *
pump_main(void *arg)
{
	struct futex_waitv w[RM_WAITV_MAX];
	uint64_t spin_until = 0;
	struct dvkd_spin spin = { 0, 0 };
	int n = 0, retrying, did, full;

	(void)arg;
	while (!atomic_load(&pump_stop)) {
		struct timespec ts;
		uint64_t now = dvs_now_ns(), until;

		dvkd_rlock();
		/* The flags that make senders and repliers call FUTEX_WAKE
		 * are raised only once a scan found nothing: raised for
		 * every scan, they cost a sender a system call for nearly
		 * every message of a stream (149,000 FUTEX_WAKEs for
		 * 200,000 one-way messages) while the pump was busy
		 * sending.  Then the futex values, the flags, a fence and a
		 * second scan, so that nothing written before a flag was
		 * seen is missed. */
		did = pump_scan(now, &retrying);
		full = 0;
		if (!did && now >= spin_until) {
			full = waitv_build(w, &n);
			set_sleeping(1);
			atomic_thread_fence(memory_order_seq_cst);
			did = pump_scan(now, &retrying);
			if (did)
				set_sleeping(0);
		}
		if (did || now < spin_until) {
			dvkd_runlock();
			if (did) {
				if (spin_until != 0)
					dvkd_spin_result(&spin, 1);
				spin_until = dvkd_spin_ok(&spin) ? now + RM_SPIN_NS : 0;
			}
			continue;
		}
		if (spin_until != 0) {
			dvkd_spin_result(&spin, 0);
			spin_until = 0;
		}
		dvkd_runlock();
		until = now + (retrying ? RM_RETRY_NS : full ? 1000000ull : RM_TICK_NS);
		ts.tv_sec = (time_t)(until / 1000000000u);
		ts.tv_nsec = (long)(until % 1000000000u);
		syscall(SYS_futex_waitv, w, (unsigned)n, 0, &ts, CLOCK_MONOTONIC);
		dvkd_rlock();
		set_sleeping(0);
		dvkd_runlock();
	}
	return NULL;
}

int
dvkd_remote_start(void)
{
	int rc;

	atomic_store(&pump_stop, 0);
	rc = pthread_create(&pump_thr, NULL, pump_main, NULL);
	if (rc != 0) {
		dvs_err("cannot start the proxy pump thread: %s", strerror(rc));
		return -rc;
	}
	pump_on = 1;
	return 0;
}

void
dvkd_remote_stop(void)
{
	if (!pump_on)
		return;
	atomic_store(&pump_stop, 1);
	dvkd_wake(&pump_futex);
	pthread_join(pump_thr, NULL);
	pump_on = 0;
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
		r->acked = ack_pos(r);
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
			pump_kick();
		}
	}
	atomic_store_explicit(&r->hdr->tail, r->sent, memory_order_release);
	doorbell(r->dst, p.src);
	pos = ack_pos(r);
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
	if (untaken(r) && !r->watch_space)
		pump_kick(); /* the rest once the receiver takes more */
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
		pump_kick();
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
			pump_kick();
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
	for (i = 0; i < nrings; i++) {
		struct ring *r = rings[i];

		if (r->dst->remote == node + 1) {
			r->sent = atomic_load(&r->hdr->head);
			r->retry_ns = 0;
		}
	}
	pump_kick();
}
