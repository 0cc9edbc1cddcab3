/*
 * pump.c - the pump thread of remote.c: what local senders put in rings
 * to stand-ins, and the replies and acknowledgements local receivers owe
 * other nodes, made into frames (docs/CLUSTER.md, "IPC across nodes").
 *
 * It waits on the stand-ins' doorbells and the rings' futexes at once
 * (futex_waitv) and raises the words that make a waker call FUTEX_WAKE
 * only after a scan that found nothing, just before it sleeps.  It holds
 * rlock (remote.c) whenever it touches rings, stand-ins and links.
 */
#include <endian.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "dvkd.h"
#include "dvs/log.h"
#include "proxy_wire.h"
#include "remote.h"
#include "spin.h"
#include "wake.h"

/* The pump sleeps at most this long (a corrupted futex only delays). */
#define RM_TICK_NS 50000000ull
/* ... and spins this long after work before it sleeps. */
#define RM_SPIN_NS 20000ull
/* The acknowledgement of a sendrec request waits at most this long for
 * its reply to carry it (a scan of the pump after it sends it alone). */
#define RM_ACK_DEFER_NS 1000000ull
#define RM_WAITV_MAX 128

static pthread_t pump_thr;
static int pump_on;
static atomic_int pump_stop;
static _Atomic uint32_t pump_futex;
/* Set while the pump is (about to be) asleep: only then does a kick
 * cost a system call. */
static atomic_int pump_sleeping;

void
dvkd_pump_kick(void)
{
	if (!pump_on)
		return;
	atomic_fetch_add(&pump_futex, 1);
	if (atomic_load(&pump_sleeping))
		dvkd_wake_call(&pump_futex);
}

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
uint64_t
dvkd_pump_ack_pos(struct ring *r)
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
	pos = dvkd_pump_ack_pos(r);
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
int
dvkd_pump_reply(struct ring *r)
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
	return did | dvkd_pump_reply(r);
}

static int
pump_scan(uint64_t now, int *retrying)
{
	int i, did = 0;

	*retrying = 0;
	for (i = 0; i < dvkd_rm_nrings; i++) {
		struct ring *r = dvkd_rm_rings[i];

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
int
dvkd_pump_untaken(const struct ring *r)
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
	for (i = 0; i < dvkd_rm_ndbs; i++)
		full |= !waitv_add(w, n, &dvkd_rm_dbs[i].db->futex);
	for (i = 0; i < dvkd_rm_nrings; i++) {
		struct ring *r = dvkd_rm_rings[i];

		r->watch_reply = r->watch_space = 0;
		if (r->dst->remote)
			continue;
		if (r->reply_want != 0) {
			r->watch_reply = (uint8_t)waitv_add(w, n, &r->hdr->reply_futex);
			full |= !r->watch_reply;
		}
		if (dvkd_pump_untaken(r)) {
			r->watch_space = (uint8_t)waitv_add(w, n, &r->hdr->space_futex);
			full |= !r->watch_space;
		}
	}
	/* Where room is left, the reply futexes of rings that carried
	 * requests before: the next request then needs no wake-up of the
	 * pump for its reply to be watched. */
	for (i = 0; i < dvkd_rm_nrings && *n < RM_WAITV_MAX; i++) {
		struct ring *r = dvkd_rm_rings[i];

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
	for (i = 0; i < dvkd_rm_ndbs; i++)
		atomic_store_explicit(&dvkd_rm_dbs[i].db->sleeping, v, memory_order_relaxed);
	for (i = 0; i < dvkd_rm_nrings; i++) {
		struct ring *r = dvkd_rm_rings[i];

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
	struct dvs_backoff spin = { 0, 0 };
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
