/*
 * worker.c - the receive loop of a worker thread and its client bindings.
 * A client binding is (endpoint, generation): a later process on the same
 * endpoint number is a stranger to it.  The DVK tells the workers when a
 * client binding is gone (DVK_MSG_PEER_GONE) and they drop it at once, so
 * its session and descriptors end with it.
 *
 * A worker never blocks on a client: replies never block, vcopy is done
 * by the DVK against the client's grant table without the client's help,
 * and a dead client makes either fail at once.  What a worker can wait on
 * is the volume (and, in scenario A2, dvs-vdd); bounding each request to
 * FS_IO_MAX bytes keeps that wait short for the other bindings of the
 * same worker, and spreading bindings over workers keeps clients apart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dvs/log.h"
#include "ext.h"
#include "fs.h"
#include "dvs/clock.h"

__thread struct dvk *fs_thread_dvk;

static unsigned
bucket(dvk_ep_t ep)
{
	return (unsigned)ep % FS_BIND_BUCKETS;
}

/* Caller holds w->lock. */
struct fs_binding *
fs_binding_find(struct fs_worker *w, dvk_ep_t ep)
{
	uint32_t gen = dvk_peer_gen(w->h);
	struct fs_binding *b;

	for (b = w->buckets[bucket(ep)]; b != NULL; b = b->next)
		if (b->ep == ep)
			return b->gen == gen ? b : NULL;
	return NULL;
}

/* Unlinks ep's binding from w if its generation is <= max_gen; caller
 * holds w->lock.  Returns it. */
static struct fs_binding *
binding_unlink(struct fs_worker *w, dvk_ep_t ep, uint32_t max_gen)
{
	struct fs_binding **pp, *b;

	for (pp = &w->buckets[bucket(ep)]; (b = *pp) != NULL; pp = &b->next) {
		if (b->ep == ep && b->gen <= max_gen) {
			*pp = b->next;
			w->nbindings--;
			return b;
		}
	}
	return NULL;
}

static void
binding_free(struct fs_binding *b)
{
	struct fs_session *s = b->s;

	dvs_mutex_lock(&s->lock);
	s->bindings--;
	dvs_mutex_unlock(&s->lock);
	fs_session_put(s);
	free(b);
}

void
fs_binding_remove(struct fs_worker *w, dvk_ep_t ep)
{
	struct fs_binding *b;

	dvs_mutex_lock(&w->lock);
	b = binding_unlink(w, ep, UINT32_MAX);
	dvs_mutex_unlock(&w->lock);
	if (b != NULL)
		binding_free(b);
}

void
fs_bindings_gone(dvk_ep_t ep, uint32_t gen)
{
	struct fs_binding *b;
	int i;

	for (i = 0; i < fs_srv.nworkers; i++) {
		struct fs_worker *w = &fs_srv.workers[i];

		dvs_mutex_lock(&w->lock);
		b = binding_unlink(w, ep, gen);
		dvs_mutex_unlock(&w->lock);
		if (b != NULL) {
			dvs_info("client %d (generation %u) is gone: freeing its binding",
				 (int)ep, b->gen);
			binding_free(b);
		}
	}
}

struct fs_worker *
fs_binding_add(dvk_ep_t ep, uint32_t gen, struct fs_session *s)
{
	struct fs_worker *w, *best = NULL;
	struct fs_binding *b, *old;
	int i, best_nb = 0;

	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	/* An endpoint is one binding: a new hello from it replaces whatever
	 * an earlier process on that endpoint left behind. */
	for (i = 0; i < fs_srv.nworkers; i++) {
		w = &fs_srv.workers[i];
		dvs_mutex_lock(&w->lock);
		old = binding_unlink(w, ep, UINT32_MAX);
		dvs_mutex_unlock(&w->lock);
		if (old != NULL)
			binding_free(old);
	}
	/* Worker 0 also answers hellos; it serves clients only alone. */
	for (i = fs_srv.nworkers > 1 ? 1 : 0; i < fs_srv.nworkers; i++) {
		int nb;

		w = &fs_srv.workers[i];
		dvs_mutex_lock(&w->lock);
		nb = w->nbindings;
		dvs_mutex_unlock(&w->lock);
		if (best == NULL || nb < best_nb) {
			best = w;
			best_nb = nb;
		}
	}
	if (best == NULL) { /* no worker at all: nothing can serve it */
		free(b);
		return NULL;
	}
	fs_session_ref(s);
	dvs_mutex_lock(&s->lock);
	s->bindings++;
	dvs_mutex_unlock(&s->lock);
	b->ep = ep;
	b->gen = gen;
	b->s = s;
	b->w = best;
	dvs_mutex_lock(&best->lock);
	b->next = best->buckets[bucket(ep)];
	best->buckets[bucket(ep)] = b;
	best->nbindings++;
	dvs_mutex_unlock(&best->lock);
	return best;
}

/* Worker 0 writes the metadata back now and then, so a crash loses at most
 * the last few seconds of closed-but-not-synced files (like the kernel's
 * writeback); an fsync'ed file never depends on it. */
static void
periodic_flush(struct fs_worker *w, uint64_t *last)
{
	uint64_t now = dvs_now_ns();
	int i, rc;

	if (w->idx != 0 || fs_srv.flush_ms <= 0 ||
	    now - *last < (uint64_t)fs_srv.flush_ms * 1000000u)
		return;
	*last = now;
	for (i = 0; i < fs_srv.nvols; i++) {
		if (fs_srv.vols[i].read_only)
			continue;
		if (fs_srv.vols[i].ext != NULL) {
			rc = ext_volume_sync(fs_srv.vols[i].ext);
			if (rc < 0)
				dvs_warn("volume %s: periodic flush: %s",
					 fs_srv.vols[i].name, strerror(-rc));
			continue;
		}
		rc = fat_sync(fs_srv.vols[i].vol);
		if (rc < 0)
			dvs_warn("volume %s: periodic flush: %s", fs_srv.vols[i].name,
				 fat_strerror(rc));
	}
}

void *
fs_worker_main(void *arg)
{
	struct fs_worker *w = arg;
	uint64_t last_flush = dvs_now_ns();
	dvk_msg_t in, out;
	int rc;

	fs_thread_dvk = w->h;
	while (!fs_srv.stop) {
		periodic_flush(w, &last_flush);
		/* The tick only bounds how long a stop or a flush waits. */
		rc = dvk_receive_t(w->h, DVK_ANY, &in, FS_TICK_MS);
		if (rc == -ETIMEDOUT || rc == -EINTR)
			continue;
		if (rc < 0) {
			if (rc == -EDVS_NODAEMON) {
				dvs_err("worker %d: dvkd is gone: stopping", w->idx);
				fs_srv.stop = 1;
				break;
			}
			/* A broken peer is that peer's problem only. */
			dvs_debug("worker %d: receive: %s", w->idx, dvk_strerror(rc));
			continue;
		}
		if (in.m_source == DVK_SYSTEM) {
			const struct dvk_peer_gone *g = &in.m_u.dvk_peer_gone;

			if (in.m_type == DVK_MSG_PEER_GONE)
				fs_bindings_gone(g->ep, g->gen);
			continue;
		}
		if (in.m_type == DVK_MSG_NOTIFY)
			continue;
		rc = fs_dispatch(w, &in, &out);
		out.m_type = rc;
		rc = dvk_reply(w->h, in.m_source, &out);
		if (rc < 0)
			dvs_debug("worker %d: reply to %d: %s", w->idx, (int)in.m_source,
				  dvk_strerror(rc));
	}
	return NULL;
}
